//! `sourcing route` on a generated network with more orders than one planning batch: the
//! command's output must equal the library's decisions, order by order, in input order,
//! whether stock is consumed (one order after the other) or not (batches on every core).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

use sourcing_engine::generate::{scenario, Shape};
use sourcing_engine::{Engine, RouteOptions};
use std::fmt::Write as _;
use std::process::Command;

#[test]
fn command_output_equals_the_library_in_input_order() {
    let shape = Shape {
        dcs: 3,
        stores: 60,
        vendors: 4,
        skus: 400,
        skus_per_store: 50,
        skus_per_vendor: 80,
        orders: 5_000,
        max_lines: 6,
        days: 1,
    };
    let sc = scenario(11, &shape);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("network.json"),
        serde_json::to_string_pretty(&sc.network).unwrap(),
    )
    .unwrap();
    let mut csv = String::from("location,sku,on_hand,reserved,safety_stock\n");
    for r in &sc.inventory {
        let id = &sc.network.locations[r.location].id;
        writeln!(
            csv,
            "{id},{},{},{},{}",
            r.sku, r.on_hand, r.reserved, r.safety_stock
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("inventory.csv"), csv).unwrap();
    let mut jsonl = String::new();
    for o in &sc.orders {
        writeln!(jsonl, "{}", serde_json::to_string(o).unwrap()).unwrap();
    }
    std::fs::write(dir.path().join("orders.jsonl"), jsonl).unwrap();

    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_sourcing"))
            .current_dir(dir.path())
            .args([
                "route",
                "--network",
                "network.json",
                "--inventory",
                "inventory.csv",
                "--orders",
                "orders.jsonl",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let expect = |consume: bool| {
        let engine = Engine::new(sc.network.clone(), &sc.inventory);
        let mut text = String::new();
        for o in &sc.orders {
            let o = engine.validate(o.clone()).unwrap();
            let options = if consume {
                RouteOptions::consume()
            } else {
                RouteOptions::quote()
            };
            let d = engine.route(&o, &options).decision;
            writeln!(text, "{}", serde_json::to_string(&d).unwrap()).unwrap();
        }
        text
    };
    let quoted = run(&["--no-consume"]);
    assert_eq!(quoted.lines().count(), shape.orders);
    assert!(
        quoted == expect(false),
        "--no-consume differs from the library"
    );
    let routed = run(&[]);
    assert!(
        routed == expect(true),
        "consuming run differs from the library"
    );
    assert!(
        routed != quoted,
        "consuming stock must change some decisions"
    );
}
