//! `sourcing explain --vs`: one order under two rule sets side by side, and what differs in
//! the categories `simulate --vs` writes to `changes.csv`.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests"
)]

mod support;

use std::path::Path;
use support::{csv_fields, example_copy, sourcing, stderr, EXAMPLE_FILES};

/// Copies the two bundled rule files compared here next to the example data.
fn with_rules(dir: &Path) {
    for r in ["min-cost.rules", "ship-from-store-first.rules"] {
        std::fs::copy(support::root().join("rules").join(r), dir.join(r)).expect("copy");
    }
}

/// `explain --order ID --rules min-cost.rules --vs ship-from-store-first.rules EXTRA`.
fn explain_vs(dir: &Path, id: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "explain",
        "--order",
        id,
        "--rules",
        "min-cost.rules",
        "--vs",
        "ship-from-store-first.rules",
    ];
    args.extend_from_slice(&EXAMPLE_FILES);
    args.extend_from_slice(extra);
    sourcing(dir, &args)
}

#[test]
fn both_sides_and_what_differs_as_text() {
    let dir = example_copy();
    with_rules(dir.path());
    let out = explain_vs(dir.path(), "EX-2", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!("explain_vs_ex2_text", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn both_sides_and_what_differs_as_json() {
    let dir = example_copy();
    with_rules(dir.path());
    let out = explain_vs(dir.path(), "EX-9", &["--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let value: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    assert_eq!(value["a"]["decision"]["order"], "EX-9");
    assert_eq!(
        value["b"]["explain"]["strategy"],
        value["b"]["decision"]["rule"]
    );
    insta::assert_snapshot!("explain_vs_ex9_json", text);
}

/// The rows of `changes.csv`: order, category, cost_a, cost_b and the clause (last).
fn changes_csv(dir: &Path) -> Vec<(String, String, String, String, String)> {
    let text = std::fs::read_to_string(dir.join("out/changes.csv")).expect("changes.csv");
    text.lines()
        .skip(1)
        .map(|l| {
            let f = csv_fields(l);
            let clause = f.last().cloned().unwrap_or_default();
            (
                f[0].clone(),
                f[1].clone(),
                f[2].clone(),
                f[3].clone(),
                clause,
            )
        })
        .collect()
}

#[test]
fn the_category_costs_and_clause_are_those_of_simulate_vs() {
    let dir = example_copy();
    with_rules(dir.path());
    let mut args = vec![
        "simulate",
        "--rules",
        "min-cost.rules",
        "--vs",
        "ship-from-store-first.rules",
        "--out",
        "out",
    ];
    args.extend_from_slice(&EXAMPLE_FILES);
    let sim = sourcing(dir.path(), &args);
    assert!(sim.status.success(), "{}", stderr(&sim));
    let changes = changes_csv(dir.path());
    assert!(changes.len() >= 2, "the example has changed orders");
    // The example's orders are in time order, so the replay routes them in file order,
    // as `explain` does.
    for i in 1..=10 {
        let id = format!("EX-{i}");
        let out = explain_vs(dir.path(), &id, &["--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let d = &v["differs"];
        match changes.iter().find(|c| c.0 == id) {
            Some((_, category, cost_a, cost_b, clause)) => {
                assert_eq!(d["changed"], true, "{id}");
                assert_eq!(d["category"].as_str(), Some(category.as_str()), "{id}");
                let shown = |x: &serde_json::Value| format!("{:.2}", x.as_f64().unwrap());
                assert_eq!(&shown(&d["cost"][0]), cost_a, "{id}");
                assert_eq!(&shown(&d["cost"][1]), cost_b, "{id}");
                assert!(!clause.is_empty(), "{id}: the bundled files name a clause");
                assert_eq!(d["clause"].as_str(), Some(clause.as_str()), "{id}");
            }
            None => {
                assert_eq!(d["changed"], false, "{id}");
                assert!(d["category"].is_null(), "{id}");
            }
        }
    }
}

#[test]
fn an_unknown_order_is_an_error_naming_it() {
    let dir = example_copy();
    with_rules(dir.path());
    for format in ["text", "json"] {
        let out = explain_vs(dir.path(), "EX-404", &["--format", format]);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        assert!(
            stderr(&out).contains("orders.jsonl: no order has the id `EX-404`"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn a_missing_rule_file_on_either_side_is_an_input_error() {
    let dir = example_copy();
    with_rules(dir.path());
    let mut args = vec!["explain", "--order", "EX-1", "--vs", "nope.rules"];
    args.extend_from_slice(&EXAMPLE_FILES);
    let out = sourcing(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("nope.rules"), "{}", stderr(&out));
    // Standard input cannot be both sides' rules.
    let mut args = vec!["explain", "--order", "EX-1", "--rules", "-", "--vs", "-"];
    args.extend_from_slice(&EXAMPLE_FILES);
    let out = sourcing(dir.path(), &args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn one_side_as_json_keeps_the_decision_in_contract_order() {
    let dir = example_copy();
    let mut args = vec!["explain", "--order", "EX-9", "--format", "json"];
    args.extend_from_slice(&EXAMPLE_FILES);
    let out = sourcing(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let v: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    assert_eq!(v["decision"]["order"], "EX-9");
    assert_eq!(v["explain"]["strategy"], "min-cost");
    // The decision's fields in the contract's order, then the explanation.
    let at = |k: &str| text.find(k).unwrap_or_else(|| panic!("{k} in {text}"));
    assert!(at("\"order\"") < at("\"status\"") && at("\"status\"") < at("\"shipments\""));
    assert!(at("\"total_cost\"") < at("\"explain\""));
}
