//! Inputs from pipes: `-` for standard input, `/dev/stdin`, a FIFO. Every command reads a
//! pipe in one pass, and a bad line in piped orders still writes nothing.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;

use std::path::Path;
use support::{example_dir, route, sourcing, sourcing_piped, EXAMPLE_INPUTS};

fn example_orders() -> Vec<u8> {
    std::fs::read(example_dir().join("orders.jsonl")).unwrap()
}

fn with_inputs<'a>(command: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![command];
    args.extend_from_slice(&EXAMPLE_INPUTS);
    args.extend_from_slice(rest);
    args
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn route_reads_orders_from_standard_input_and_dev_stdin() {
    let from_file = route(&example_dir(), &[]);
    assert!(from_file.status.success());
    assert!(!from_file.stdout.is_empty());
    for name in ["-", "/dev/stdin"] {
        let out = sourcing_piped(
            &example_dir(),
            &with_inputs("route", &["--orders", name]),
            &example_orders(),
        );
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), text(&from_file.stdout), "{name}");
    }
}

#[test]
fn route_without_consuming_and_with_explanations_reads_a_pipe_too() {
    let from_file = route(&example_dir(), &["--no-consume", "--explain"]);
    let out = sourcing_piped(
        &example_dir(),
        &with_inputs("route", &["--orders", "-", "--no-consume", "--explain"]),
        &example_orders(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), text(&from_file.stdout));
}

#[cfg(unix)]
#[test]
fn route_and_explain_read_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("orders.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let from_file = route(&example_dir(), &[]);
    let explained = sourcing(
        &example_dir(),
        &with_inputs("explain", &["--order", "EX-7", "--orders", "orders.jsonl"]),
    );
    assert!(explained.status.success(), "{}", text(&explained.stderr));
    for (command, expected) in [("route", &from_file), ("explain", &explained)] {
        let feeder = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(&fifo, example_orders()).unwrap())
        };
        let fifo_arg = fifo.to_str().unwrap();
        let mut rest = vec!["--orders", fifo_arg];
        if command == "explain" {
            rest.extend(["--order", "EX-7"]);
        }
        let out = within_a_minute(&with_inputs(command, &rest), dir.path());
        feeder.join().unwrap();
        assert!(out.status.success(), "{command}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), text(&expected.stdout), "{command}");
    }
}

/// Runs `sourcing ARGS` in the example folder; a command that hangs fails the test.
#[cfg(unix)]
fn within_a_minute(args: &[&str], scratch: &Path) -> std::process::Output {
    use std::process::{Command, Stdio};
    let stdout = scratch.join("stdout");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .current_dir(example_dir())
        .args(args)
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!("`sourcing {}` hangs on a FIFO", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: std::fs::read(&stdout).unwrap(),
        stderr: Vec::new(),
    }
}

#[test]
fn a_bad_line_in_piped_orders_writes_nothing_and_is_located() {
    let mut orders = example_orders();
    orders.extend_from_slice(b"{\"id\": \"EX-99\", \"lines\": 3}\n");
    let last_line = text(&orders).lines().count();
    for command in ["route", "explain"] {
        let mut rest = vec!["--orders", "-"];
        if command == "explain" {
            rest.extend(["--order", "EX-1"]);
        }
        let out = sourcing_piped(&example_dir(), &with_inputs(command, &rest), &orders);
        assert_eq!(out.status.code(), Some(1), "{command}");
        assert!(out.stdout.is_empty(), "{command}: {}", text(&out.stdout));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(&format!("<stdin>:{last_line}:")),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn explain_finds_an_order_read_from_a_pipe() {
    let from_file = sourcing(
        &example_dir(),
        &with_inputs("explain", &["--order", "EX-7", "--orders", "orders.jsonl"]),
    );
    let out = sourcing_piped(
        &example_dir(),
        &with_inputs("explain", &["--order", "EX-7", "--orders", "-"]),
        &example_orders(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), text(&from_file.stdout));
}

#[test]
fn network_and_stock_can_come_from_standard_input() {
    let from_file = route(&example_dir(), &[]);
    let dir = example_dir();
    for (flag, file) in [
        ("--network", "network.json"),
        ("--inventory", "inventory.csv"),
    ] {
        let mut args = vec!["route", "--orders", "orders.jsonl"];
        for (f, name) in [
            ("--network", "network.json"),
            ("--inventory", "inventory.csv"),
        ] {
            args.extend([f, if f == flag { "-" } else { name }]);
        }
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let out = sourcing_piped(&dir, &args, &bytes);
        assert!(out.status.success(), "{flag}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), text(&from_file.stdout), "{flag}");
    }
}

#[test]
fn two_inputs_from_standard_input_are_a_usage_error() {
    let out = sourcing_piped(
        &example_dir(),
        &[
            "route",
            "--network",
            "-",
            "--inventory",
            "inventory.csv",
            "--orders",
            "-",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("only one input can be `-`"));
    let out = sourcing_piped(&example_dir(), &["check", "-", "-"], b"");
    assert_eq!(out.status.code(), Some(2));
}

fn simulate_args<'a>(out: &'a str, orders: &'a str, events: Option<&'a str>) -> Vec<&'a str> {
    let mut args = with_inputs("simulate", &["--rules", "../../rules/min-cost.rules"]);
    args.extend(["--orders", orders, "--out", out]);
    if let Some(events) = events {
        args.extend(["--events", events]);
    }
    args
}

#[test]
fn simulate_reads_orders_and_events_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let file = sourcing(&example_dir(), &simulate_args(a, "orders.jsonl", None));
    assert!(file.status.success(), "{}", text(&file.stderr));
    let piped = sourcing_piped(
        &example_dir(),
        &simulate_args(b, "-", None),
        &example_orders(),
    );
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    let read = |d: &str| std::fs::read(Path::new(d).join("decisions.jsonl")).unwrap();
    assert_eq!(read(a), read(b));

    let events = b"{\"at\": \"2026-11-23T00:00:00Z\", \"location\": \"DC-KASSEL\", \"sku\": \"NOPE\", \"delta\": 1}\n";
    let c = dir.path().join("c");
    let out = sourcing_piped(
        &example_dir(),
        &simulate_args(c.to_str().unwrap(), "orders.jsonl", Some("-")),
        events,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("<stdin>:1:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_reads_rules_from_standard_input_and_fmt_refuses_it() {
    let rules = std::fs::read(support::root().join("rules/min-cost.rules")).unwrap();
    let out = sourcing_piped(&example_dir(), &["check", "-"], &rules);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = sourcing_piped(&example_dir(), &["check", "-"], b"rule {");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("<stdin>:1:"),
        "{}",
        text(&out.stderr)
    );
    let out = sourcing_piped(&example_dir(), &["fmt", "-"], &rules);
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn an_interrupted_route_removes_its_spool() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .current_dir(example_dir())
        .env("TMPDIR", tmp.path())
        .args(with_inputs("route", &["--orders", "-"]))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Half the orders, and the pipe left open: the command waits for the rest.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&example_orders()[..200]).unwrap();
    let started = std::time::Instant::now();
    while std::fs::read_dir(tmp.path()).unwrap().next().is_none() {
        assert!(started.elapsed().as_secs() < 60, "no spool was made");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    drop(stdin);
    assert!(!status.success());
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}
