//! Routing cost as the network grows (100, 1,000 and 5,000 locations, 50,000 SKUs) and as
//! orders grow (1 to 6 lines), stock consumed, on data from `sourcing_engine::generate`.
//!
//! `cargo bench --bench scale` runs:
//!
//! - `scale/consume/{100,1000,5000}/1-thread`: 10,000 orders of 1–3 lines, one after the
//!   other on one thread, a fresh engine per iteration;
//! - `scale/consume/{100,1000,5000}/all-cores`: the same orders through the ordered
//!   pipeline on every core (the same decisions);
//! - `scale/lines/{1..6}/1-thread`: 2,000 orders of exactly that many lines on the
//!   1,000-location network.
//!
//! `sourcing bench` prints the same measurements as tables, with latency percentiles and
//! memory.

// The allocator the `sourcing` binary uses: planning on several threads allocates
// and frees across threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{BatchSize, Criterion, Throughput};
use sourcing_engine::generate::{scenario, with_lines, Scenario, Shape};
use sourcing_engine::pipeline::Pipeline;
use sourcing_engine::{Engine, Order, RouteOptions, ValidOrder};
use std::hint::black_box;
use std::time::Duration;

const ORDERS: usize = 10_000;
const LINE_ORDERS: usize = 2_000;

fn network(locations: usize) -> Scenario {
    let shape = Shape {
        orders: ORDERS,
        ..Shape::with_locations(locations, 50_000)
    };
    scenario(42, &shape)
}

/// Orders through the engine's validation (generated orders are valid).
fn valid_orders(sc: &Scenario, orders: &[Order]) -> Vec<ValidOrder> {
    let engine = Engine::new(sc.network.clone(), &[]);
    orders
        .iter()
        .filter_map(|o| engine.validate(o.clone()).ok())
        .collect()
}

fn consume(c: &mut Criterion, name: &str, sc: &Scenario) {
    let orders = valid_orders(sc, &sc.orders);
    let mut group = c.benchmark_group("scale");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(sc.orders.len() as u64));
    let fresh = || Engine::new(sc.network.clone(), &sc.inventory);
    group.bench_function(format!("consume/{name}/1-thread"), |b| {
        b.iter_batched(
            fresh,
            |engine| {
                for order in &orders {
                    black_box(engine.route(order, &RouteOptions::consume()));
                }
                engine
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function(format!("consume/{name}/all-cores"), |b| {
        b.iter_batched(
            fresh,
            |engine| {
                let run = Pipeline::new(&engine).run(
                    &sc.orders,
                    |_, _| {},
                    |_, d, _| {
                        black_box(d);
                        Ok::<(), ()>(())
                    },
                );
                black_box(run.is_ok());
                engine
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn lines(c: &mut Criterion, sc: &Scenario) {
    let mut group = c.benchmark_group("scale");
    group.sample_size(10);
    group.throughput(Throughput::Elements(LINE_ORDERS as u64));
    for k in 1..=6 {
        let orders = valid_orders(
            sc,
            &with_lines(&sc.orders[..LINE_ORDERS.min(sc.orders.len())], k),
        );
        group.bench_function(format!("lines/{k}/1-thread"), |b| {
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
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    for locations in [100, 1000, 5000] {
        let sc = network(locations);
        consume(&mut c, &locations.to_string(), &sc);
        if locations == 1000 {
            lines(&mut c, &sc);
        }
    }
    c.final_summary();
}
