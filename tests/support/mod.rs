//! Helpers the end-to-end tests share: where the data is and how to run the binary.

#![allow(dead_code, reason = "each test file uses the helpers it needs")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled copy of the contract's example data.
pub fn example_dir() -> PathBuf {
    root().join("data/example")
}

/// Runs `sourcing ARGS` in `dir`.
pub fn sourcing(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Runs `sourcing route` on `network.json`, `inventory.csv` and `orders.jsonl` in `dir`.
pub fn route(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "route",
        "--network",
        "network.json",
        "--inventory",
        "inventory.csv",
        "--orders",
        "orders.jsonl",
    ];
    args.extend_from_slice(extra);
    sourcing(dir, &args)
}

/// Copies the example data (network, inventory, orders) into a fresh temp dir.
pub fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in ["network.json", "inventory.csv", "orders.jsonl"] {
        std::fs::copy(example_dir().join(f), dir.path().join(f)).expect("copy");
    }
    dir
}

/// What a run wrote on stderr, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
