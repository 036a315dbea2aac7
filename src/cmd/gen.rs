//! `sourcing gen`: write a seeded synthetic data set (network, stock, orders) in the
//! contract's formats, placed in real cities, for benchmarks, simulations and examples.

use crate::cmd::out_dir::Staging;
use crate::Failure;
use clap::Args;
use sourcing_engine::generate::{scenario_in, Places, Shape};
use std::path::PathBuf;

/// Arguments of `sourcing gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// The folder to write `network.json`, `inventory.csv` and `orders.jsonl` to.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The seed: the same seed and sizes give the same files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Orders to generate.
    #[arg(long, default_value_t = 20_000)]
    pub orders: usize,
    /// Distribution centres.
    #[arg(long, default_value_t = 8)]
    pub dcs: usize,
    /// Stores.
    #[arg(long, default_value_t = 1_200)]
    pub stores: usize,
    /// Dropship vendors.
    #[arg(long, default_value_t = 30)]
    pub vendors: usize,
    /// SKUs in the range.
    #[arg(long, default_value_t = 50_000)]
    pub skus: usize,
    /// Most lines per order.
    #[arg(long, default_value_t = 4)]
    pub max_lines: usize,
    /// Days the orders are spread over, from 2026-11-23.
    #[arg(long, default_value_t = 1)]
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
    let shape = Shape {
        dcs: args.dcs.max(1),
        stores: args.stores,
        vendors: args.vendors,
        skus: args.skus.max(1),
        orders: args.orders,
        max_lines: args.max_lines.clamp(1, 6),
        days: args.days.max(1),
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
