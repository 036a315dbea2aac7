//! Routing throughput and latency on a generated national network: 8 DCs, 1,200 stores,
//! 30 dropship vendors, 50,000 SKUs, orders of 1–4 lines weighted by population.
//!
//! `cargo bench --bench route` prints a latency report (p50, p99, max per order, stock
//! consumed) and then runs the criterion benchmarks `route/consume/…` (one thread, stock
//! consumed, a fresh stock per iteration) and `route/quote/…` (stock unchanged, one
//! thread and every core).

// The allocator the `sourcing` binary uses: planning on several threads allocates
// and frees across threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{BatchSize, Criterion, Throughput};
use sourcing_engine::generate::{scenario, Scenario, Shape};
use sourcing_engine::{Engine, RouteOptions, ValidOrder};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn national() -> Scenario {
    scenario(42, &Shape::national())
}

/// The scenario's orders through the engine's validation (generated orders are valid).
fn valid_orders(sc: &Scenario) -> Vec<ValidOrder> {
    let engine = Engine::new(sc.network.clone(), &[]);
    sc.orders
        .iter()
        .filter_map(|o| engine.validate(o.clone()).ok())
        .collect()
}

fn latency_report(sc: &Scenario) {
    let orders = valid_orders(sc);
    let built = Instant::now();
    let engine = Engine::new(sc.network.clone(), &sc.inventory);
    eprintln!(
        "route/build: engine over {} locations and {} stock rows built in {:.0?}",
        sc.network.locations.len(),
        sc.inventory.len(),
        built.elapsed()
    );
    let mut times: Vec<Duration> = Vec::with_capacity(sc.orders.len());
    let mut nodes = 0u64;
    let mut splits = 0usize;
    let mut sourced = 0usize;
    let start = Instant::now();
    for order in &orders {
        let t = Instant::now();
        let out = engine.route(black_box(order), &RouteOptions::consume());
        let (d, stats) = (out.decision, out.stats);
        times.push(t.elapsed());
        nodes += stats.nodes;
        splits += usize::from(d.shipments.len() > 1);
        sourced += usize::from(d.status == sourcing_engine::Status::Sourced);
    }
    let total = start.elapsed();
    times.sort_unstable();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    eprintln!(
        "route/latency (1 thread, stock consumed, {} orders): {:.0} orders/s, p50 {:.2?}, p99 {:.2?}, max {:.2?}; \
         {} sourced, {} split, {} search nodes",
        times.len(),
        times.len() as f64 / total.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        times[times.len() - 1],
        sourced,
        splits,
        nodes
    );
}

fn benches(c: &mut Criterion, sc: &Scenario) {
    let orders = valid_orders(sc);
    let mut group = c.benchmark_group("route");
    group.sample_size(10);
    group.throughput(Throughput::Elements(sc.orders.len() as u64));
    group.bench_function("consume/national/1-thread", |b| {
        b.iter_batched(
            || Engine::new(sc.network.clone(), &sc.inventory),
            |engine| {
                for order in &orders {
                    black_box(engine.route(order, &RouteOptions::consume()));
                }
                engine
            },
            BatchSize::PerIteration,
        )
    });
    let engine = Engine::new(sc.network.clone(), &sc.inventory);
    group.bench_function("quote/national/1-thread", |b| {
        b.iter(|| {
            for order in &orders {
                black_box(engine.route(order, &RouteOptions::quote()));
            }
        })
    });
    group.bench_function("quote/national/all-cores", |b| {
        use rayon::prelude::*;
        b.iter(|| {
            orders.par_iter().for_each(|order| {
                black_box(engine.route(order, &RouteOptions::quote()));
            })
        })
    });
    group.finish();
}

fn main() {
    let sc = national();
    let mut c = Criterion::default().configure_from_args();
    latency_report(&sc);
    benches(&mut c, &sc);
    c.final_summary();
}
