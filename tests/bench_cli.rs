//! `sourcing bench` on tiny networks: the tables and the JSON have their columns, one row
//! per size and per line count, and every core decides as one thread does.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;

const TINY: [&str; 11] = [
    "bench",
    "--locations",
    "20,40",
    "--skus",
    "200",
    "--orders",
    "300",
    "--line-orders",
    "60",
    "--lines-at",
    "40",
];

#[test]
fn bench_prints_a_row_per_size_and_per_line_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = support::sourcing(dir.path(), &TINY);
    support::assert_success(&out);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.trim_start().starts_with("locations"));
    let header = header.expect("a size table");
    for column in [
        "locations",
        "stock_rows",
        "engine_MB",
        "p50_us",
        "p99_us",
        "1_thread/s",
        "all_cores/s",
        "replan_%",
        "same",
    ] {
        assert!(lines[header].contains(column), "column {column}");
    }
    let sizes: Vec<&str> = lines[header + 1..header + 3].to_vec();
    assert!(sizes[0].trim_start().starts_with("20 "), "{}", sizes[0]);
    assert!(sizes[1].trim_start().starts_with("40 "), "{}", sizes[1]);
    assert!(
        sizes.iter().all(|r| r.contains(" yes ")),
        "same decisions: {sizes:?}"
    );
    let by_lines = lines
        .iter()
        .position(|l| l.trim_start().starts_with("lines"));
    let by_lines = by_lines.expect("a lines table");
    for column in ["p50_us", "p99_us", "orders/s", "search_nodes"] {
        assert!(lines[by_lines].contains(column), "column {column}");
    }
    let rows: Vec<&str> = lines[by_lines + 1..].to_vec();
    assert_eq!(rows.len(), 6);
    for (k, row) in rows.iter().enumerate() {
        assert!(row.trim_start().starts_with(&(k + 1).to_string()), "{row}");
    }
}

#[test]
fn bench_json_has_every_measurement() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = TINY.to_vec();
    args.push("--json");
    let out = support::sourcing(dir.path(), &args);
    support::assert_success(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let sizes = report["sizes"].as_array().expect("sizes");
    assert_eq!(sizes.len(), 2);
    for s in sizes {
        for key in [
            "locations",
            "stock_rows",
            "build_ms",
            "engine_bytes",
            "p50_us",
            "p99_us",
            "max_us",
            "orders_per_s_1_thread",
            "orders_per_s_all_cores",
            "threads",
            "replan_rate",
        ] {
            assert!(s[key].is_number(), "{key}: {s}");
        }
        assert_eq!(s["same_decisions"], true);
        assert!(s["engine_bytes"].as_u64().expect("bytes") > 0);
        assert!(s["p50_us"].as_f64().expect("p50") <= s["p99_us"].as_f64().expect("p99"));
    }
    assert_eq!(sizes[0]["locations"], 20);
    let lines = report["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[5]["lines"], 6);
}

#[test]
fn bench_without_sizes_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = support::sourcing(dir.path(), &["bench", "--orders", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bench_sizes_out_of_range_are_usage_errors_that_state_the_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &str, &str); 7] = [
        ("--locations", "100000000", "3..=20000"),
        ("--locations", "100,2", "3..=20000"),
        ("--orders", "0", "1..=2000000"),
        ("--skus", "0", "1..=100000"),
        ("--skus", "1000000000000", "1..=100000"),
        ("--line-orders", "5000000", "0..=2000000"),
        ("--lines-at", "1", "3..=20000"),
    ];
    for (flag, value, limit) in cases {
        let out = support::sourcing(dir.path(), &["bench", flag, value]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(limit), "{flag} {value}: {stderr}");
    }
}

#[test]
fn bench_routes_with_a_rule_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = support::root().join("rules/min-cost.rules");
    let rules = rules.display().to_string();
    let mut args = TINY.to_vec();
    let at = args
        .iter()
        .position(|a| *a == "--line-orders")
        .expect("option");
    args[at + 1] = "0";
    args.extend(["--rules", &rules, "--json"]);
    let out = support::sourcing(dir.path(), &args);
    support::assert_success(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["rules"], rules.as_str());
    assert_eq!(report["sizes"][1]["same_decisions"], true);
    assert_eq!(report["lines"].as_array().map(Vec::len), Some(0));
}
