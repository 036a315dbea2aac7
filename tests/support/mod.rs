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

/// Runs `sourcing ARGS` on `network.json`, `inventory.csv` and `orders.jsonl` in `dir`,
/// then `EXTRA`.
fn on_example_files(dir: &Path, args: &[&str], extra: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend_from_slice(&EXAMPLE_FILES);
    all.extend_from_slice(extra);
    sourcing(dir, &all)
}

/// Runs `sourcing route` on `network.json`, `inventory.csv` and `orders.jsonl` in `dir`.
pub fn route(dir: &Path, extra: &[&str]) -> Output {
    on_example_files(dir, &["route"], extra)
}

/// Runs `sourcing explain --order ID` on `network.json`, `inventory.csv` and `orders.jsonl`
/// in `dir`.
pub fn explain(dir: &Path, order: &str) -> Output {
    explain_with(dir, order, &[])
}

/// [`explain`] with more arguments (`--rules R`, …).
pub fn explain_with(dir: &Path, order: &str, extra: &[&str]) -> Output {
    on_example_files(dir, &["explain", "--order", order], extra)
}

/// Runs `sourcing ARGS` in `dir` with `input` written to its standard input, a pipe.
pub fn sourcing_piped(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().expect("a pipe");
    let input = input.to_vec();
    // Written on its own thread so a command that stops reading cannot block the test.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("the binary runs");
    let _ = writer.join();
    output
}

/// The example's network and stock as `route`, `explain` and `simulate` arguments.
pub const EXAMPLE_INPUTS: [&str; 4] = ["--network", "network.json", "--inventory", "inventory.csv"];

/// The example's network, stock and orders as `route`, `explain` and `simulate` arguments.
pub const EXAMPLE_FILES: [&str; 6] = [
    "--network",
    "network.json",
    "--inventory",
    "inventory.csv",
    "--orders",
    "orders.jsonl",
];
/// Copies the example data (network, inventory, orders) into a fresh temp dir.
pub fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in ["network.json", "inventory.csv", "orders.jsonl"] {
        std::fs::copy(example_dir().join(f), dir.path().join(f)).expect("copy");
    }
    dir
}

/// Fails the test with the run's stderr unless it succeeded.
#[track_caller]
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What a run wrote on stderr, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The fields of one CSV line (quoted fields may hold commas and doubled quotes).
pub fn csv_fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}
