//! `route` and `simulate` consume stock on every core and give the bytes of a one-thread
//! run: generated data with heavy contention (25 SKUs, thin stock, small daily capacity),
//! routed with `RAYON_NUM_THREADS=1` and `=4`, with the built-in strategy and every rule
//! file.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;

use std::path::Path;
use std::process::Command;
use support::root;

/// Writes a contended data set into `dir`: generated, then stock cut to at most 59 units
/// per pair and DCs limited to 150 shipments a day.
fn contended(dir: &Path) {
    let out = support::sourcing(
        dir,
        &[
            "gen",
            "--out",
            "gen",
            "--seed",
            "9",
            "--orders",
            "1000",
            "--dcs",
            "3",
            "--stores",
            "40",
            "--vendors",
            "2",
            "--skus",
            "25",
            "--max-lines",
            "6",
            "--days",
            "3",
        ],
    );
    support::assert_success(&out);
    // `gen` replaces its folder whole, so it writes a folder of its own.
    for f in ["network.json", "inventory.csv", "orders.jsonl"] {
        std::fs::rename(dir.join("gen").join(f), dir.join(f)).expect("generated");
    }
    let csv = std::fs::read_to_string(dir.join("inventory.csv")).expect("inventory");
    let mut thin = String::new();
    for (i, line) in csv.lines().enumerate() {
        let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
        if i > 0 {
            let units: u64 = cells[2].parse().expect("on_hand");
            cells[2] = (units % 60).to_string();
        }
        thin.push_str(&cells.join(","));
        thin.push('\n');
    }
    std::fs::write(dir.join("inventory.csv"), thin).expect("writes");
    let text = std::fs::read_to_string(dir.join("network.json")).expect("network");
    let mut network: serde_json::Value = serde_json::from_str(&text).expect("json");
    for l in network["locations"].as_array_mut().expect("locations") {
        if l["kind"] == "dc" {
            l["daily_capacity"] = 150.into();
        }
    }
    std::fs::write(dir.join("network.json"), network.to_string()).expect("writes");
}

fn run_with_threads(dir: &Path, threads: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", threads)
        .args(args)
        .output()
        .expect("the binary runs");
    support::assert_success(&out);
    out.stdout
}

fn rule_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("rules"))
        .expect("rules")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    files
}

#[test]
fn route_consuming_stock_gives_the_same_bytes_on_one_and_four_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    contended(dir.path());
    let base = [
        "route",
        "--network",
        "network.json",
        "--inventory",
        "inventory.csv",
        "--orders",
        "orders.jsonl",
    ];
    let mut runs: Vec<Vec<String>> = vec![vec![], vec!["--explain".into()]];
    for f in rule_files() {
        runs.push(vec!["--rules".into(), f]);
    }
    assert!(runs.len() >= 7);
    for extra in runs {
        let mut args: Vec<&str> = base.to_vec();
        args.extend(extra.iter().map(String::as_str));
        let one = run_with_threads(dir.path(), "1", &args);
        let four = run_with_threads(dir.path(), "4", &args);
        let text = String::from_utf8_lossy(&one);
        assert_eq!(text.lines().count(), 1000, "{extra:?}");
        assert!(
            text.contains("\"partial\""),
            "contention leaves orders short"
        );
        assert!(one == four, "{extra:?}: 1 and 4 threads differ");
    }
}

#[test]
fn simulate_gives_the_same_files_on_one_and_four_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    contended(dir.path());
    for rules in ["min-cost.rules", "ship-from-store-first.rules"] {
        let path = root().join("rules").join(rules).display().to_string();
        let mut outputs = Vec::new();
        for threads in ["1", "4"] {
            let out = format!("sim-{threads}");
            let args = [
                "simulate",
                "--rules",
                &path,
                "--network",
                "network.json",
                "--inventory",
                "inventory.csv",
                "--orders",
                "orders.jsonl",
                "--out",
                &out,
            ];
            run_with_threads(dir.path(), threads, &args);
            let read = |f: &str| std::fs::read(dir.path().join(&out).join(f)).expect("output");
            outputs.push((read("decisions.jsonl"), read("kpis.json")));
        }
        assert!(!outputs[0].0.is_empty());
        assert!(outputs[0] == outputs[1], "{rules}: 1 and 4 threads differ");
    }
}
