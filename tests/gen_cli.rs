//! `sourcing gen`: seeded, reproducible data in the contract's formats that the loaders and
//! the router accept.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;

use std::path::Path;
use std::process::Command;

fn gen(out: &Path, seed: &str) {
    gen_in(out, seed, &[]);
}

fn gen_in(out: &Path, seed: &str, extra: &[&str]) {
    let done = Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .args([
            "gen",
            "--seed",
            seed,
            "--orders",
            "300",
            "--stores",
            "40",
            "--skus",
            "500",
            "--vendors",
            "3",
            "--dcs",
            "2",
        ])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    support::assert_success(&done);
}

#[test]
fn the_same_seed_gives_the_same_files_and_they_route() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    gen(&a, "7");
    gen(&b, "7");
    gen(&c, "8");
    for f in ["network.json", "inventory.csv", "orders.jsonl"] {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    assert!(
        std::fs::read(a.join("orders.jsonl")).unwrap()
            != std::fs::read(c.join("orders.jsonl")).unwrap()
    );
    let routed = support::route(&a, &[]);
    support::assert_success(&routed);
    assert_eq!(String::from_utf8_lossy(&routed.stdout).lines().count(), 300);
}

fn route(dir: &Path) -> Vec<serde_json::Value> {
    let routed = support::route(dir, &[]);
    support::assert_success(&routed);
    String::from_utf8_lossy(&routed.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn countries_choose_the_cities_and_unknown_ones_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("na");
    gen_in(&out, "3", &["--countries", "US,CA", "--max-lines", "6"]);
    let network: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("network.json")).unwrap()).unwrap();
    for l in network["locations"].as_array().unwrap() {
        assert!(l["country"] == "US" || l["country"] == "CA", "{l}");
        assert!(l["city"].as_str().is_some_and(|c| !c.is_empty()), "{l}");
    }
    let orders = std::fs::read_to_string(out.join("orders.jsonl")).unwrap();
    let most = orders
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["lines"]
                .as_array()
                .unwrap()
                .len()
        })
        .max();
    assert_eq!(most, Some(6));
    let decisions = route(&out);
    assert_eq!(decisions.len(), 300);
    assert!(decisions.iter().any(|d| d["status"] == "sourced"));

    let bad = Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .args(["gen", "--countries", "US,XX", "--out"])
        .arg(dir.path().join("bad"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr)
        .contains("--countries: no city of 100,000 inhabitants or more in XX"));
    assert!(!dir.path().join("bad").exists());
}

#[test]
fn sizes_out_of_range_are_usage_errors_that_state_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g");
    let cases: [(&str, &str, &str); 13] = [
        ("--days", "1000000000", "1..=2912117"),
        ("--days", "10000000", "1..=2912117"),
        ("--days", "0", "1..=2912117"),
        ("--stores", "1000000000", "0..=20000"),
        ("--skus", "1000000000000", "1..=100000"),
        ("--skus", "0", "1..=100000"),
        ("--dcs", "100000000", "1..=100"),
        ("--dcs", "0", "1..=100"),
        ("--vendors", "5000", "0..=1000"),
        ("--orders", "3000000", "0..=2000000"),
        ("--max-lines", "0", "1..=6"),
        ("--max-lines", "7", "1..=6"),
        ("--orders", "-1", "unexpected argument"),
    ];
    for (flag, value, limit) in cases {
        let refused = Command::new(env!("CARGO_BIN_EXE_sourcing"))
            .args(["gen", flag, value, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(limit), "{flag} {value}: {stderr}");
        assert!(!out.exists(), "{flag} {value}");
    }
}

#[test]
fn the_last_day_is_within_the_dates_route_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("late");
    gen_in(&out, "5", &["--days", "2912117"]);
    let orders = std::fs::read_to_string(out.join("orders.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(orders.lines().last().unwrap()).unwrap();
    let placed = last["placed_at"].as_str().unwrap();
    assert!(placed.starts_with("99"), "{placed}");
    assert_eq!(route(&out).len(), 300);
}

#[test]
fn a_network_of_dcs_alone_is_generated_and_routes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dcs");
    let done = Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .args(["gen", "--orders", "300", "--skus", "500", "--stores", "0"])
        .args(["--vendors", "0", "--dcs", "1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    support::assert_success(&done);
    let network: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("network.json")).unwrap()).unwrap();
    assert_eq!(network["locations"].as_array().unwrap().len(), 1);
    assert_eq!(route(&out).len(), 300);
}
