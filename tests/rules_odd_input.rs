//! Odd rule files, cases files and file-system situations met by `sourcing check`, `fmt`,
//! `test` and `route --rules`: each gives a located message and the documented exit code.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;
use support::{example_dir, route, sourcing};

use std::process::Output;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A temp dir holding a copy of the example data.
fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in ["network.json", "inventory.csv", "orders.jsonl"] {
        std::fs::copy(example_dir().join(f), dir.path().join(f)).expect("copy");
    }
    dir
}

#[test]
fn a_rule_file_without_a_strategy_is_an_error() {
    let dir = example_copy();
    let files = [
        ("empty.rules", ""),
        ("blank.rules", "\n  \n\t\n"),
        ("comments.rules", "# to do\n# strategies later\n"),
        ("consts.rules", "const keep = 2\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
        let out = sourcing(dir.path(), &["check", "--deny-warnings", name]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let text = stderr(&out);
        assert!(text.contains("error[C018]"), "{name}: {text}");
        assert!(text.contains(&format!("{name}:1:1")), "{name}: {text}");
        // Nothing is routed with it: not every order left unsourced.
        let out = route(dir.path(), &["--rules", name]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{name}: no decision is written");
        assert!(stderr(&out).contains("error[C018]"), "{name}");
    }
}
