//! The rule language's cost: reading a large rule file, and routing with rules.
//!
//! `cargo bench --bench rules` runs:
//! - `rules/compile/2000-lines`: parse, check and compile a generated 2,000-line rule file;
//! - `rules/route/…`: the national scenario of `benches/route.rs` (20,000 orders, one
//!   thread, stock consumed) routed by the built-in strategy, by `rules/min-cost.rules`
//!   and by `rules/ship-from-store-first.rules`.

// The allocator the `sourcing` binary uses: planning on several threads allocates
// and frees across threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{BatchSize, Criterion, Throughput};
use sourcing_engine::generate::{scenario, Shape};
use sourcing_engine::{Engine, RouteOptions, RulesSource, ValidOrder};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

/// A rule file of about `lines` lines: many strategies with exclusions, scores, constants.
fn large_rule_file(lines: usize) -> String {
    let mut text =
        String::from("# Generated for the benchmark.\nconst keep = 2\nconst far = 250 km\n\n");
    let mut i = 0;
    while text.lines().count() < lines {
        let next = if text.lines().count() + 12 < lines {
            format!("fallback \"s{}\"", i + 1)
        } else {
            "otherwise backorder".to_string()
        };
        writeln!(
            text,
            "strategy \"s{i}\" {{\n  when order.channel == \"c{i}\" or order.value > {i} EUR\n  candidates stores, dcs\n  exclude store when atp - line.qty < keep reason \"protection\"\n  exclude store when distance > far reason \"too far\"\n  exclude location when line.tags has \"hazmat\" and not location.tags has \"hazmat\" reason \"hazmat\"\n  prefer stores\n  score cost + 0.01 EUR * distance + (kind == store ? 0.5 EUR : 0 EUR)\n  split at most 3, penalty 2 EUR\n  {next}\n}}\n"
        )
        .ok();
        i += 1;
    }
    text
}

fn rules_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("rules")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_default()
}

/// Loads rule text into an engine: read, checked and compiled for its network.
fn compile(name: &str, text: &str, engine: &Engine) {
    if let Err(e) = engine.load_rules(RulesSource::text(name, text)) {
        eprintln!("{e}");
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let sc = scenario(42, &Shape::national());

    let big = large_rule_file(2000);
    let mut group = c.benchmark_group("rules/compile");
    group.bench_function("2000-lines", |b| {
        let engine = Engine::new(sc.network.clone(), &[]);
        b.iter(|| compile("big.rules", black_box(&big), &engine))
    });
    group.finish();

    let orders: Vec<ValidOrder> = {
        let engine = Engine::new(sc.network.clone(), &[]);
        sc.orders
            .iter()
            .filter_map(|o| engine.validate(o.clone()).ok())
            .collect()
    };
    let mut group = c.benchmark_group("rules/route");
    group.sample_size(10);
    group.throughput(Throughput::Elements(sc.orders.len() as u64));
    let variants = [
        ("builtin", None),
        ("min-cost.rules", Some(rules_file("min-cost.rules"))),
        (
            "ship-from-store-first.rules",
            Some(rules_file("ship-from-store-first.rules")),
        ),
    ];
    for (label, text) in variants {
        let rules_text = text.clone();
        group.bench_function(format!("{label}/national/1-thread"), |b| {
            b.iter_batched(
                || {
                    let engine = Engine::new(sc.network.clone(), &sc.inventory);
                    if let Some(t) = &rules_text {
                        compile(label, t, &engine);
                    }
                    engine
                },
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
    c.final_summary();
}
