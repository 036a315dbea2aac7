//! `sourcing gen`: write a seeded synthetic data set (network, stock, orders) in the
//! contract's formats, placed in real cities, for benchmarks, simulations and examples.

use crate::cmd::out_dir::Staging;
use crate::Failure;
use clap::Args;
use sourcing_engine::generate::{scenario_in, Places, Shape};
use std::path::PathBuf;

/// Size limits: generated data is held in memory whole, so each size is bounded to keep a
/// run within a few GB (a peak of 3.8 GB with every size at its limit at once), well above
/// the 1,000,000-order, 1,000-store, 50,000-SKU runs of BENCHMARKS.md.
pub const MAX_ORDERS: u64 = 2_000_000;
/// At most this many SKUs (each DC holds about half of the range).
pub const MAX_SKUS: u64 = 100_000;
/// At most this many DCs.
pub const MAX_DCS: u64 = 100;
/// At most this many stores.
pub const MAX_STORES: u64 = 20_000;
/// At most this many dropship vendors.
pub const MAX_VENDORS: u64 = 1_000;
/// The generator draws orders of 1 to 6 lines.
pub const MAX_LINES: u64 = 6;
/// Days from 2026-11-23 to 9999-12-31, the last date the contract's inputs can hold.
pub const MAX_DAYS: i64 = 2_912_117;

/// A clap parser for a size between `min` and `max` (clap's usage error names the range).
pub(crate) fn size(min: u64, max: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(min..=max)
}

/// Arguments of `sourcing gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// The folder to write `network.json`, `inventory.csv` and `orders.jsonl` to.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The seed: the same seed and sizes give the same files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Orders to generate (0 to 2,000,000).
    #[arg(long, default_value_t = 20_000, value_parser = size(0, MAX_ORDERS))]
    pub orders: usize,
    /// Distribution centres (1 to 100).
    #[arg(long, default_value_t = 8, value_parser = size(1, MAX_DCS))]
    pub dcs: usize,
    /// Stores (0 to 20,000).
    #[arg(long, default_value_t = 1_200, value_parser = size(0, MAX_STORES))]
    pub stores: usize,
    /// Dropship vendors (0 to 1,000).
    #[arg(long, default_value_t = 30, value_parser = size(0, MAX_VENDORS))]
    pub vendors: usize,
    /// SKUs in the range (1 to 100,000).
    #[arg(long, default_value_t = 50_000, value_parser = size(1, MAX_SKUS))]
    pub skus: usize,
    /// Most lines per order (1 to 6).
    #[arg(long, default_value_t = 4, value_parser = size(1, MAX_LINES))]
    pub max_lines: usize,
    /// Days the orders are spread over, from 2026-11-23 (1 to 2,912,117: up to 9999-12-31).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=MAX_DAYS))]
    pub days: u32,
    /// The countries whose cities (100,000 inhabitants or more) hold the locations and the
    /// customers: ISO codes separated by commas (`US,CA`), or `all`.
    #[arg(long, default_value = "DE", value_name = "CODES")]
    pub countries: String,
}

/// The files `gen` writes (and, from earlier versions, their half-written `.partial`
/// forms): the only files a folder it replaces may hold.
const OWN_FILES: &[&str] = &[
    "network.json",
    "inventory.csv",
    "orders.jsonl",
    "network.json.partial",
    "inventory.csv.partial",
    "orders.jsonl.partial",
];

/// Runs `sourcing gen`.
pub fn run(args: &GenArgs) -> Result<(), Failure> {
    let codes: Vec<&str> = args
        .countries
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty() && *c != "all")
        .collect();
    let places =
        Places::countries(&codes).map_err(|e| Failure::Usage(format!("--countries: {e}")))?;
    // The ranges are clap's; every value here is within them.
    let shape = Shape {
        dcs: args.dcs,
        stores: args.stores,
        vendors: args.vendors,
        skus: args.skus,
        orders: args.orders,
        max_lines: args.max_lines,
        days: args.days,
        ..Shape::national()
    };
    // Written into a folder beside the target that replaces it only once complete.
    let staging = Staging::new(&args.out, OWN_FILES)?;
    let sc = scenario_in(args.seed, &shape, &places);
    let network = sc
        .network_json()
        .map_err(|e| Failure::Input(e.to_string()))?;
    let orders = sc
        .orders_jsonl()
        .map_err(|e| Failure::Input(e.to_string()))?;
    let files = [
        ("network.json", network),
        ("inventory.csv", sc.inventory_csv()),
        ("orders.jsonl", orders),
    ];
    for (name, text) in files {
        std::fs::write(staging.path().join(name), text).map_err(|e| {
            Failure::Input(format!(
                "{}: cannot write: {e}",
                args.out.join(name).display()
            ))
        })?;
    }
    staging.commit()?;
    crate::cmd::output::eprintln(&format!(
        "wrote {} locations in {} cities, {} stock rows and {} orders to {}",
        sc.network.locations.len(),
        places.cities().len(),
        sc.inventory.len(),
        sc.orders.len(),
        args.out.display()
    ))
}
