//! Output that cannot be written: a closed pipe ends a command quietly (exit 0 when it had
//! succeeded), a full disk (`/dev/full`) fails it with exit 1; nothing panics (exit 101).

#![cfg(unix)]
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;

use std::process::{Command, Stdio};
use support::{example_dir, root};

/// Where a stream of the command goes.
#[derive(Clone, Copy, Debug)]
enum To {
    /// Captured by the test.
    Captured,
    /// `/dev/full`: every write fails with "no space left".
    Full,
    /// A pipe whose reading end is already closed.
    Closed,
}

fn stream(to: To) -> Stdio {
    match to {
        To::Captured => Stdio::piped(),
        To::Full => std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
            .into(),
        To::Closed => {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            writer.into()
        }
    }
}

/// Runs `sourcing ARGS` in the example folder; the exit code and what stderr got.
fn run(args: &[&str], stdout: To, stderr: To) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .current_dir(example_dir())
        .args(args)
        .stdin(Stdio::null())
        .stdout(stream(stdout))
        .stderr(stream(stderr))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    (out.status.code(), stderr)
}

fn with_b<'a>(head: &[&'a str]) -> Vec<&'a str> {
    [head, &support::EXAMPLE_FILES[..]].concat()
}

/// Each command that writes to stdout, with arguments that make it succeed.
fn stdout_commands(rules: &str, out: &str) -> Vec<Vec<String>> {
    let own = |v: Vec<&str>| v.into_iter().map(String::from).collect::<Vec<_>>();
    let bench = [
        "bench",
        "--locations",
        "60",
        "--skus",
        "50",
        "--orders",
        "20",
    ];
    vec![
        own([&bench[..], &["--line-orders", "0"]].concat()),
        own([&bench[..], &["--json", "--line-orders", "0"]].concat()),
        own(with_b(&["route"])),
        own(with_b(&["route", "--no-consume", "--explain"])),
        own(with_b(&["explain", "--order", "EX-7"])),
        own(vec!["test", rules]),
        own(vec!["--help"]),
        own(vec!["route", "--help"]),
        own(vec!["--version"]),
        own(vec!["gen", "--out", out, "--help"]),
    ]
}

#[test]
fn stdout_full_fails_and_stdout_closed_ends_quietly() {
    let rules = root().join("rules");
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("g");
    for args in stdout_commands(rules.to_str().unwrap(), out.to_str().unwrap()) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stderr) = run(&args, To::Full, To::Captured);
        assert_eq!(code, Some(1), "{args:?} > /dev/full: {stderr}");
        assert!(stderr.contains("No space left"), "{args:?}: {stderr}");
        let (code, stderr) = run(&args, To::Closed, To::Captured);
        assert_eq!(code, Some(0), "{args:?} | closed: {stderr}");
        assert!(
            stderr.lines().all(|l| !l.contains("cannot write")),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn stderr_full_fails_with_exit_1_and_stderr_closed_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.rules");
    std::fs::write(&bad, "strategy \"x\" {\n  candidates\n").unwrap();
    let warn = dir.path().join("warn.rules");
    std::fs::write(
        &warn,
        "const spare = 3\n\nstrategy \"cheapest\" {\n  candidates all\n  score cost\n}\n",
    )
    .unwrap();
    let gen_out = dir.path().join("g");
    let sim_out = dir.path().join("s");
    let (bad, warn) = (bad.to_str().unwrap(), warn.to_str().unwrap());
    let (gen_out, sim_out) = (gen_out.to_str().unwrap(), sim_out.to_str().unwrap());
    let gen = [
        "gen", "--out", gen_out, "--orders", "5", "--stores", "3", "--skus", "10",
    ];
    // (arguments, exit code with a working stderr)
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["check", bad], 1),
        (vec!["check", warn], 0),
        (vec!["fmt", "--check", bad], 1),
        (with_b(&["route", "--rules", warn]), 0),
        (with_b(&["route", "--rules", bad]), 1),
        (with_b(&["explain", "--order", "EX-1", "--rules", warn]), 0),
        (with_b(&["explain", "--order", "NOPE"]), 1),
        (with_b(&["simulate", "--out", sim_out, "--rules", warn]), 0),
        (gen.to_vec(), 0),
        (vec!["route", "--bogus"], 2),
    ];
    for (args, code) in cases {
        let (got, _) = run(&args, To::Captured, To::Closed);
        assert_eq!(got, Some(code), "{args:?} 2> closed pipe");
        // A command that had something to say on stderr and could not fails; one that
        // failed already keeps its exit code.
        let (got, _) = run(&args, To::Captured, To::Full);
        assert_eq!(got, Some(code.max(1)), "{args:?} 2> /dev/full");
    }
}
