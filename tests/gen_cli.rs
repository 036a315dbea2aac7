//! `sourcing gen`: seeded, reproducible data in the contract's formats that the loaders and
//! the router accept.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

use std::path::Path;
use std::process::Command;

fn gen(out: &Path, seed: &str) {
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
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
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
    let routed = Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .current_dir(&a)
        .args([
            "route",
            "--network",
            "network.json",
            "--inventory",
            "inventory.csv",
            "--orders",
            "orders.jsonl",
        ])
        .output()
        .unwrap();
    assert!(
        routed.status.success(),
        "{}",
        String::from_utf8_lossy(&routed.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&routed.stdout).lines().count(), 300);
}
