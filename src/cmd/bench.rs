//! `sourcing bench`: how routing cost grows with the network and with the order.
//!
//! For each network size it generates a national-shaped network (see
//! `sourcing_engine::generate`), builds the engine and routes the same kind of orders,
//! consuming stock: one thread with every order timed alone (median, p99, max), then every
//! core with the ordered pipeline (and checks it decided exactly as one thread did). A
//! second table routes orders of exactly 1 to 6 lines on one network. Wall-clock numbers
//! depend on the machine and on whatever else runs on it.

use crate::cmd::gen::{size, MAX_ORDERS, MAX_SKUS};
use crate::cmd::output;
use crate::Failure;
use clap::Args;
use serde::Serialize;
use sourcing_engine::generate::{scenario, with_lines, Scenario, Shape};
use sourcing_engine::pipeline::Pipeline;
use sourcing_engine::{Decision, Engine, Order, RouteOptions, ValidOrder};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// At most this many locations per network (generated whole, then built into an engine).
const MAX_LOCATIONS: u64 = 20_000;

/// Arguments of `sourcing bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Network sizes, in locations (comma-separated; each 3 to 20,000).
    #[arg(long, value_delimiter = ',', default_values_t = [100, 1000, 5000],
          value_parser = size(3, MAX_LOCATIONS))]
    pub locations: Vec<usize>,
    /// SKUs in the range (1 to 100,000).
    #[arg(long, default_value_t = 50_000, value_parser = size(1, MAX_SKUS))]
    pub skus: usize,
    /// Orders (of 1–3 lines) routed per network size (1 to 2,000,000).
    #[arg(long, default_value_t = 20_000, value_parser = size(1, MAX_ORDERS))]
    pub orders: usize,
    /// Orders routed per line count in the lines table (0 leaves the table out; at most
    /// 2,000,000).
    #[arg(long, default_value_t = 5_000, value_parser = size(0, MAX_ORDERS))]
    pub line_orders: usize,
    /// The network size, in locations, of the lines table (3 to 20,000).
    #[arg(long, default_value_t = 1000, value_parser = size(3, MAX_LOCATIONS))]
    pub lines_at: usize,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Route with a rule file (default: the built-in `min-cost` strategy).
    #[arg(long, value_name = "R")]
    pub rules: Option<std::path::PathBuf>,
    /// Print the results as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Also list the N slowest orders of each network size on one thread, with the strategy
    /// that placed them: where a rule file spends its time.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub slowest: usize,
    /// Time each order on one thread as the least of N plans against the stock as it is
    /// (quotes), then take its units untimed: what planning costs, steady on a busy
    /// machine (a thread that waits for a core loses no time in the least of several).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = size(1, 100))]
    pub min_of: usize,
}

/// One of the slowest orders on one thread.
#[derive(Debug, Serialize)]
struct SlowOrder {
    order: String,
    micros: f64,
    /// The strategy that placed it.
    rule: String,
    lines: usize,
    shipments: usize,
    unsourced_units: u64,
}

/// One network size.
#[derive(Debug, Serialize)]
struct SizeRow {
    locations: usize,
    stock_rows: usize,
    build_ms: f64,
    /// The engine's own accounting of its stock, lookups and index.
    engine_bytes: usize,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
    orders_per_s_1_thread: f64,
    orders_per_s_all_cores: f64,
    threads: usize,
    /// Orders planned ahead that were planned again at their turn, per order planned ahead.
    replan_rate: f64,
    /// Whether every core decided exactly as one thread did.
    same_decisions: bool,
    /// The process's peak resident memory so far, where the system reports it.
    peak_rss_bytes: Option<u64>,
    /// The slowest orders on one thread, slowest first (`--slowest`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    slowest: Vec<SlowOrder>,
}

/// One line count.
#[derive(Debug, Serialize)]
struct LinesRow {
    lines: usize,
    p50_us: f64,
    p99_us: f64,
    orders_per_s: f64,
    search_nodes: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    /// The rule file routed with; `null` for the built-in strategy.
    rules: Option<String>,
    seed: u64,
    skus: usize,
    orders: usize,
    /// One thread's time per order is the least of this many plans (1: the routing itself).
    min_of: usize,
    threads: usize,
    sizes: Vec<SizeRow>,
    lines_at: usize,
    lines: Vec<LinesRow>,
}

/// Runs `sourcing bench`.
pub fn run(args: &BenchArgs) -> Result<(), Failure> {
    if args.locations.is_empty() || args.orders == 0 {
        return Err(Failure::Usage(
            "bench needs at least one network size and one order".into(),
        ));
    }
    let threads = rayon::current_num_threads();
    let rules = match &args.rules {
        Some(path) => Some(crate::cmd::route::check_rules(path)?),
        None => None,
    };
    let engine = |sc: &Scenario| -> Result<Engine, Failure> {
        let engine = Engine::new(sc.network.clone(), &sc.inventory);
        if let (Some((set, hash)), Some(path)) = (&rules, &args.rules) {
            crate::cmd::route::compile_rules(&engine, path, set.clone(), *hash)?;
        }
        Ok(engine)
    };
    let mut sizes = Vec::new();
    let mut lines_net: Option<Scenario> = None;
    for &n in &args.locations {
        let sc = generated(args, n, args.orders.max(args.line_orders));
        sizes.push(size_row(&sc, args, threads, engine)?);
        if sc.network.locations.len() == Shape::with_locations(args.lines_at, 1).locations() {
            lines_net = Some(sc);
        }
        if !args.json {
            output::eprintln(&format!("bench: {n} locations done"))?;
        }
    }
    let mut lines = Vec::new();
    if args.line_orders > 0 {
        let sc = match lines_net {
            Some(sc) => sc,
            None => generated(args, args.lines_at, args.line_orders),
        };
        let orders = &sc.orders[..args.line_orders.min(sc.orders.len())];
        for k in 1..=6 {
            lines.push(lines_row(&engine(&sc)?, &with_lines(orders, k), k)?);
        }
    }
    let report = Report {
        rules: args.rules.as_ref().map(|p| p.display().to_string()),
        seed: args.seed,
        skus: args.skus,
        orders: args.orders,
        min_of: args.min_of,
        threads,
        sizes,
        lines_at: args.lines_at,
        lines,
    };
    if args.json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| Failure::Input(e.to_string()))?;
        output::print(&format!("{text}\n"))
    } else {
        output::print(&tables(&report))
    }
}

fn generated(args: &BenchArgs, locations: usize, orders: usize) -> Scenario {
    let shape = Shape {
        orders,
        ..Shape::with_locations(locations, args.skus)
    };
    scenario(args.seed, &shape)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The value at quantile `q` of sorted times.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(i).copied().unwrap_or_default()
}

/// Routes `orders` on one thread, timing each; the decisions, each order's time (in order)
/// and the total.
fn one_thread(
    engine: &Engine,
    orders: &[ValidOrder],
    min_of: usize,
) -> (Vec<Decision>, Vec<Duration>, Duration, u64) {
    let mut times = Vec::with_capacity(orders.len());
    let mut decisions = Vec::with_capacity(orders.len());
    let mut nodes = 0;
    let start = Instant::now();
    for order in orders {
        let mut least = Duration::MAX;
        if min_of > 1 {
            for _ in 0..min_of {
                let t = Instant::now();
                black_box(engine.route(black_box(order), &RouteOptions::quote()));
                least = least.min(t.elapsed());
            }
        }
        let t = Instant::now();
        let out = engine.route(black_box(order), &RouteOptions::consume());
        times.push(if min_of > 1 { least } else { t.elapsed() });
        nodes += out.stats.nodes;
        decisions.push(out.decision);
    }
    let total = if min_of > 1 {
        times.iter().sum()
    } else {
        start.elapsed()
    };
    (decisions, times, total, nodes)
}

fn rate(n: usize, total: Duration) -> f64 {
    n as f64 / total.as_secs_f64().max(1e-9)
}

/// The `n` slowest orders, slowest first.
fn slowest(
    orders: &[ValidOrder],
    decisions: &[Decision],
    times: &[Duration],
    n: usize,
) -> Vec<SlowOrder> {
    let mut by_time: Vec<usize> = (0..times.len()).collect();
    by_time.sort_by(|&a, &b| times[b].cmp(&times[a]).then(a.cmp(&b)));
    by_time
        .into_iter()
        .take(n)
        .filter_map(|i| {
            let d = decisions.get(i)?;
            Some(SlowOrder {
                order: d.order.clone(),
                micros: micros(times[i]),
                rule: d.rule.clone(),
                lines: orders.get(i).map_or(0, |o| o.order().lines.len()),
                shipments: d.shipments.len(),
                unsourced_units: d.unsourced.iter().map(|u| u64::from(u.qty)).sum(),
            })
        })
        .collect()
}

fn size_row(
    sc: &Scenario,
    args: &BenchArgs,
    threads: usize,
    fresh: impl Fn(&Scenario) -> Result<Engine, Failure>,
) -> Result<SizeRow, Failure> {
    let orders = &sc.orders[..args.orders.min(sc.orders.len())];
    let built = Instant::now();
    let engine = fresh(sc)?;
    let build = built.elapsed();
    let engine_bytes = engine.stock().heap_bytes();
    let valid = validated(&engine, orders)?;
    let (want, mut times, total, _) = one_thread(&engine, &valid, args.min_of);
    let slow = slowest(&valid, &want, &times, args.slowest);
    times.sort_unstable();
    drop(engine);

    let engine = fresh(sc)?;
    let mut got = Vec::with_capacity(orders.len());
    let start = Instant::now();
    let stats = Pipeline::new(&engine).run(
        orders,
        |_, _| {},
        |_, d, _| {
            got.push(d);
            Ok::<(), std::convert::Infallible>(())
        },
    );
    let parallel = start.elapsed();
    let replan_rate = match stats {
        Ok(s) => s.replan_rate(),
        Err(never) => match never {},
    };
    Ok(SizeRow {
        locations: sc.network.locations.len(),
        stock_rows: sc.inventory.len(),
        build_ms: build.as_secs_f64() * 1e3,
        engine_bytes,
        p50_us: micros(quantile(&times, 0.50)),
        p99_us: micros(quantile(&times, 0.99)),
        max_us: micros(times.last().copied().unwrap_or_default()),
        orders_per_s_1_thread: rate(orders.len(), total),
        orders_per_s_all_cores: rate(orders.len(), parallel),
        threads,
        replan_rate,
        same_decisions: got == want,
        peak_rss_bytes: peak_rss(),
        slowest: slow,
    })
}

/// Generated orders through the engine's validation (before any clock starts).
fn validated(engine: &Engine, orders: &[Order]) -> Result<Vec<ValidOrder>, Failure> {
    orders
        .iter()
        .map(|o| {
            engine
                .validate(o.clone())
                .map_err(|e| Failure::Input(format!("generated order `{}`: {e}", o.id)))
        })
        .collect()
}

fn lines_row(engine: &Engine, orders: &[Order], lines: usize) -> Result<LinesRow, Failure> {
    let (_, mut times, total, nodes) = one_thread(engine, &validated(engine, orders)?, 1);
    times.sort_unstable();
    Ok(LinesRow {
        lines,
        p50_us: micros(quantile(&times, 0.50)),
        p99_us: micros(quantile(&times, 0.99)),
        orders_per_s: rate(orders.len(), total),
        search_nodes: nodes,
    })
}

/// The process's peak resident set (`VmHWM` of `/proc/self/status`), on Linux.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn mb(bytes: u64) -> String {
    format!("{:.0}", bytes as f64 / 1e6)
}

fn tables(r: &Report) -> String {
    let mut out = format!(
        "Cost by network size: {} SKUs, {} orders of 1-3 lines per size, stock consumed, seed {}, {}\n",
        r.skus,
        r.orders,
        r.seed,
        r.rules.as_deref().unwrap_or("built-in min-cost")
    );
    if r.min_of > 1 {
        out.push_str(&format!(
            "One thread: each order's time is the least of {} plans against the stock as it is\n",
            r.min_of
        ));
    }
    out.push_str(&format!(
        "{:>9} {:>10} {:>8} {:>9} {:>7} {:>7} {:>8} {:>11} {:>11} {:>7} {:>8} {:>5} {:>8}\n",
        "locations",
        "stock_rows",
        "build_ms",
        "engine_MB",
        "p50_us",
        "p99_us",
        "max_us",
        "1_thread/s",
        "all_cores/s",
        "threads",
        "replan_%",
        "same",
        "peak_MB"
    ));
    for s in &r.sizes {
        out.push_str(&format!(
            "{:>9} {:>10} {:>8.0} {:>9} {:>7.1} {:>7.1} {:>8.0} {:>11.0} {:>11.0} {:>7} {:>8.2} {:>5} {:>8}\n",
            s.locations,
            s.stock_rows,
            s.build_ms,
            mb(s.engine_bytes as u64),
            s.p50_us,
            s.p99_us,
            s.max_us,
            s.orders_per_s_1_thread,
            s.orders_per_s_all_cores,
            s.threads,
            s.replan_rate * 100.0,
            if s.same_decisions { "yes" } else { "NO" },
            s.peak_rss_bytes.map_or_else(|| "-".into(), mb),
        ));
    }
    for s in r.sizes.iter().filter(|s| !s.slowest.is_empty()) {
        out.push_str(&format!(
            "\nSlowest orders on one thread, {} locations\n{:>12} {:>9} {:>5} {:>9} {:>9}  strategy\n",
            s.locations, "order", "us", "lines", "shipments", "unsourced"
        ));
        for o in &s.slowest {
            out.push_str(&format!(
                "{:>12} {:>9.1} {:>5} {:>9} {:>9}  {}\n",
                o.order, o.micros, o.lines, o.shipments, o.unsourced_units, o.rule
            ));
        }
    }
    if !r.lines.is_empty() {
        out.push_str(&format!(
            "\nCost by lines per order: about {} locations, one thread, stock consumed\n",
            r.lines_at
        ));
        out.push_str(&format!(
            "{:>5} {:>7} {:>7} {:>10} {:>12}\n",
            "lines", "p50_us", "p99_us", "orders/s", "search_nodes"
        ));
        for l in &r.lines {
            out.push_str(&format!(
                "{:>5} {:>7.1} {:>7.1} {:>10.0} {:>12}\n",
                l.lines, l.p50_us, l.p99_us, l.orders_per_s, l.search_nodes
            ));
        }
    }
    out
}
