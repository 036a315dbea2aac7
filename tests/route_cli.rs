//! `sourcing route` end to end: the contract's example data, stock consumption, and bad
//! input (exit codes, messages, no partial output).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;
use std::path::Path;
use std::process::Output;
use support::{example_dir, route, sourcing};

fn decisions(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn no_consume_reaches_every_least_cost_of_the_examples() {
    let out = route(&example_dir(), &["--no-consume"]);
    support::assert_success(&out);
    let got = decisions(&out);
    let expected: Vec<serde_json::Value> =
        std::fs::read_to_string(example_dir().join("expected-min-cost.jsonl"))
            .expect("expected file")
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
    assert_eq!(got.len(), expected.len());
    for (d, e) in got.iter().zip(&expected) {
        assert_eq!(d["order"], e["order"], "input order is kept");
        if e["feasible"] == true {
            assert_eq!(d["status"], "sourced", "{}", d["order"]);
            let cost = d["total_cost"].as_f64().expect("cost");
            let min = e["min_cost"].as_f64().expect("min_cost");
            assert!((cost - min).abs() < 1e-6, "{}: {cost} vs {min}", d["order"]);
        } else {
            assert_ne!(d["status"], "sourced", "{}", d["order"]);
        }
    }
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn consuming_stock_changes_later_decisions() {
    // Two copies of EX-6 (4 sofas; Kassel holds 3, Leipzig 1): the second finds none left.
    let dir = tempfile::tempdir().expect("temp dir");
    for f in ["network.json", "inventory.csv"] {
        std::fs::copy(example_dir().join(f), dir.path().join(f)).expect("copy");
    }
    let ex6 = std::fs::read_to_string(example_dir().join("orders.jsonl"))
        .expect("orders")
        .lines()
        .find(|l| l.contains("\"EX-6\""))
        .expect("EX-6")
        .to_string();
    let again = ex6.replace("\"EX-6\"", "\"EX-6-AGAIN\"");
    std::fs::write(dir.path().join("orders.jsonl"), format!("{ex6}\n{again}\n")).expect("write");
    let consumed = decisions(&route(dir.path(), &[]));
    assert_eq!(consumed[0]["status"], "sourced");
    assert_eq!(consumed[1]["status"], "unsourced");
    assert_eq!(consumed[1]["unsourced"][0]["reason"], "no_stock");
    let fresh = decisions(&route(dir.path(), &["--no-consume"]));
    assert_eq!(fresh[1]["status"], "sourced");
    insta::assert_snapshot!(String::from_utf8_lossy(&route(&example_dir(), &[]).stdout));
}

#[test]
fn explain_lists_the_candidates_and_why() {
    let out = route(&example_dir(), &["--no-consume", "--explain"]);
    let got = decisions(&out);
    assert_eq!(got[0]["explain"]["strategy"], "min-cost");
    assert_eq!(got[0]["explain"]["exact"], true);
    // Every shipping location is listed as shipped; EX-9's counter says it is one.
    for d in &got {
        for s in d["shipments"].as_array().expect("shipments") {
            let listed = d["explain"]["candidates"]
                .as_array()
                .expect("candidates")
                .iter()
                .any(|c| c["location"] == s["location"] && c["shipped"] == true);
            assert!(listed, "{}: {} not explained", d["order"], s["location"]);
        }
    }
    // With --explain the decision keeps its fields and their order; `explain` comes last.
    let plain =
        String::from_utf8_lossy(&route(&example_dir(), &["--no-consume"]).stdout).into_owned();
    let explained = String::from_utf8_lossy(&out.stdout).into_owned();
    for (p, e) in plain.lines().zip(explained.lines()) {
        assert!(e.starts_with(&p[..p.len() - 1]), "{e}");
    }
    // A person's view of one order, and of one routed by rules with exclusions.
    let dir = example_dir();
    let text = sourcing(
        &dir,
        &[
            "explain",
            "--order",
            "EX-9",
            "--network",
            "network.json",
            "--inventory",
            "inventory.csv",
            "--orders",
            "orders.jsonl",
        ],
    );
    assert!(text.status.success());
    insta::assert_snapshot!("explain_ex9", String::from_utf8_lossy(&text.stdout));
    let rules = format!(
        "{}/rules/ship-from-store-first.rules",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = sourcing(
        &dir,
        &[
            "explain",
            "--order",
            "EX-2",
            "--rules",
            &rules,
            "--network",
            "network.json",
            "--inventory",
            "inventory.csv",
            "--orders",
            "orders.jsonl",
        ],
    );
    assert!(text.status.success());
    insta::assert_snapshot!(
        "explain_ex2_ship_from_store",
        String::from_utf8_lossy(&text.stdout)
    );
    let missing = support::explain(&dir, "NOPE");
    assert_eq!(missing.status.code(), Some(1));
}

/// Writes the example files into a temp dir, with one of them replaced.
fn with_file(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in ["network.json", "inventory.csv", "orders.jsonl"] {
        std::fs::copy(example_dir().join(f), dir.path().join(f)).expect("copy");
    }
    std::fs::write(dir.path().join(name), text).expect("write");
    dir
}

/// Runs route on bad input: exit 1, nothing on stdout, the messages on stderr.
fn rejected(name: &str, text: &str) -> String {
    let dir = with_file(name, text);
    let out = route(dir.path(), &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "no partial decision stream");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn malformed_network_json() {
    insta::assert_snapshot!(rejected(
        "network.json",
        "{\"locations\": [\n  {\"id\": \"A\",}\n]}"
    ));
}

#[test]
fn network_problems_are_all_reported() {
    let text = r#"{"currency":"EUR","locations":[
  {"id":"DC-1","kind":"dc","lat":51.3,"lon":9.5},
  {"id":"DC-1","kind":"warehouse","lat":91.0,"lon":"9.5"},
  {"id":"ST-1","kind":"store","lat":48.1,"lon":200}
],"services":[{"id":"ground","base_cost":4.2,"cost_per_km":0.0015,"cost_per_kg":-1,"km_per_day":0}]}"#;
    insta::assert_snapshot!(rejected("network.json", text));
}

#[test]
fn inventory_problems_are_all_reported() {
    let text = "location,sku,on_hand,reserved,safety_stock\n\
                DC-KASSEL,TSHIRT-M,120,4,5\n\
                DC-KASEL,JEANS-32,40,0,2\n\
                DC-KASSEL,LAMP-OIL,-3,0,0\n\
                DC-KASSEL,SOFA-3,2.5,0,0\n\
                DC-KASSEL,TSHIRT-M,1,0,0\n\
                ST-MUNICH,JEANS-32\n";
    insta::assert_snapshot!(rejected("inventory.csv", text));
}

#[test]
fn order_problems_are_all_reported_and_nothing_is_routed() {
    let good = std::fs::read_to_string(example_dir().join("orders.jsonl")).expect("orders");
    let mut lines: Vec<String> = good.lines().map(String::from).collect();
    // A valid file with bad lines at the end: no decision may be written for the good ones.
    lines.push(r#"{"id":"BAD-1","ship_to":{"lat":50,"lon":8},"lines":[{"sku":"A","qty":0,"unit_weight_kg":1}]}"#.into());
    lines.push(r#"{"id":"BAD-2","fulfillment":"pickup","pickup_location":"DC-KASSEL","ship_to":{"lat":50,"lon":8},"lines":[{"sku":"A","qty":1,"unit_weight_kg":1}]}"#.into());
    lines.push(r#"{"id":"EX-1","ship_to":{"lat":50,"lon":8},"lines":[{"sku":"A","qty":1,"unit_weight_kg":1}]}"#.into());
    lines.push("{not json".into());
    insta::assert_snapshot!(rejected("orders.jsonl", &lines.join("\n")));
}

#[test]
fn a_pickup_order_whose_ship_to_is_not_its_store_is_refused_there() {
    // Once costed to Hamburg (533 km from Kassel) instead of the Munich store (191 km).
    let text = r#"{"id":"P-1","fulfillment":"pickup","pickup_location":"ST-MUNICH","ship_to":{"lat":53.55073,"lon":9.99302},"lines":[{"sku":"JEANS-32","qty":1,"unit_weight_kg":0.7}]}"#;
    let stderr = rejected("orders.jsonl", text);
    assert!(
        stderr.contains("orders.jsonl:1:76: ship_to: a pickup order's ship_to is its store's position (within 1 km): `ST-MUNICH` is at 48.13743, 11.57549, 612.")
            && stderr.contains("km from 53.55073, 9.99302; write the store's position"),
        "{stderr}"
    );
    // Rounded to two decimals (under 1 km off), it is the store's position.
    let near = text.replace(
        r#""lat":53.55073,"lon":9.99302"#,
        r#""lat":48.14,"lon":11.58"#,
    );
    let exact = text.replace(
        r#""lat":53.55073,"lon":9.99302"#,
        r#""lat":48.13743,"lon":11.57549"#,
    );
    let routed = |orders: &str| {
        let dir = with_file("orders.jsonl", orders);
        let out = route(dir.path(), &[]);
        support::assert_success(&out);
        out.stdout
    };
    assert_eq!(routed(&near), routed(&exact));
}

#[test]
fn missing_files_and_usage_errors() {
    let dir = example_dir();
    let out = sourcing(
        &dir,
        &[
            "route",
            "--network",
            "nope.json",
            "--inventory",
            "inventory.csv",
            "--orders",
            "orders.jsonl",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("nope.json:1:1: cannot read file"));
    let out = sourcing(&dir, &["route", "--network", "network.json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a missing argument is a usage error"
    );
    let out = sourcing(&dir, &["rout"]);
    assert_eq!(out.status.code(), Some(2));
    let out = sourcing(&dir, &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("route"));
}

#[test]
fn the_bundled_examples_are_the_contracts() {
    // The repository carries a copy of the contract's examples so that it runs on its own;
    // where the contract's folder sits beside the checkout, the copy must not drift.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/examples");
    if !shared.is_dir() {
        return;
    }
    for f in [
        "network.json",
        "inventory.csv",
        "orders.jsonl",
        "expected-min-cost.jsonl",
    ] {
        let ours = std::fs::read(example_dir().join(f)).expect("bundled");
        let theirs = std::fs::read(shared.join(f)).expect("shared");
        assert!(
            ours == theirs,
            "data/example/{f} differs from the contract's copy"
        );
    }
}

#[test]
fn control_characters_from_the_user_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["network.json", "inventory.csv"] {
        std::fs::copy(support::example_dir().join(f), dir.path().join(f)).unwrap();
    }
    let example = std::fs::read_to_string(support::example_dir().join("orders.jsonl")).unwrap();
    // An order id holding an escape sequence (JSON `\u001b`), twice: a duplicate id.
    let first = example.lines().next().unwrap();
    let hostile = first.replacen("\"EX-1\"", "\"EX-\\u001b[2J\"", 1);
    assert_ne!(hostile, first);
    std::fs::write(dir.path().join("orders.jsonl"), format!("{hostile}\n")).unwrap();
    let explained = support::explain(dir.path(), "EX-\u{1b}[2J");
    support::assert_success(&explained);
    let text = String::from_utf8_lossy(&explained.stdout);
    assert!(text.contains("order EX-\\u{1b}[2J:"), "{text}");
    let missing = support::explain(dir.path(), "NO\u{1b}]0;pwned\u{7}\nPE");
    assert_eq!(missing.status.code(), Some(1));
    let text = String::from_utf8_lossy(&missing.stderr);
    assert!(
        text.contains("no order has the id `NO\\u{1b}]0;pwned\\u{7}\\nPE`"),
        "{text}"
    );
    std::fs::write(
        dir.path().join("orders.jsonl"),
        format!("{hostile}\n{hostile}\n"),
    )
    .unwrap();
    let duplicated = route(dir.path(), &[]);
    assert_eq!(duplicated.status.code(), Some(1));
    let text = String::from_utf8_lossy(&duplicated.stderr);
    assert!(
        text.contains("duplicate order id `EX-\\u{1b}[2J`"),
        "{text}"
    );
    for out in [&explained, &missing, &duplicated] {
        assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b));
    }
}
