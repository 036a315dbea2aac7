//! `sourcing explain` says what happened, in the analyst's words: the values of
//! larger-first keys as written, the reason of a per-line exclusion, the whole order of
//! comparison, the preferred tier that placed an order, scores without the split penalty
//! of a single parcel, and the strategies whose `when` did not hold.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests"
)]

mod support;

/// The explanation of order `id` of `orders` under `rules`, on the example network and stock.
fn explain(rules: &str, orders: &str, id: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in ["network.json", "inventory.csv"] {
        std::fs::copy(support::example_dir().join(f), dir.path().join(f)).expect("copy");
    }
    std::fs::write(dir.path().join("orders.jsonl"), orders).expect("orders");
    std::fs::write(dir.path().join("r.rules"), rules).expect("rules");
    let out = support::explain_with(dir.path(), id, &["--rules", "r.rules"]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One line of `qty` of `sku`, shipped to Frankfurt.
fn order(id: &str, sku: &str, qty: u32) -> String {
    format!(
        r#"{{"id":"{id}","ship_to":{{"lat":50.11,"lon":8.68,"country":"DE"}},"lines":[{{"sku":"{sku}","qty":{qty},"unit_weight_kg":1,"unit_price":1}}]}}"#
    ) + "\n"
}

/// The candidate line of `location`.
fn candidate<'a>(text: &'a str, location: &str) -> &'a str {
    text.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(location))
        .unwrap_or_else(|| panic!("no candidate {location} in\n{text}"))
}

/// The number after `label` on `line`.
fn figure(line: &str, label: &str) -> f64 {
    let mut words = line.split_whitespace();
    words.find(|w| *w == label);
    words
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no {label} on {line}"))
}

const DC_ONLY: &str = r#"strategy "store-pickup" {
  when order.fulfillment == pickup
  candidates pickup_store
}

strategy "dc-only" {
  candidates dcs
  exclude location when atp <= 10 reason "atp 10 or less"
  split allowed, penalty 3.90 EUR
  rank by priority
}
"#;

#[test]
fn the_strategies_whose_when_did_not_hold_are_listed_with_the_clause() {
    let text = explain(DC_ONLY, &order("o", "TSHIRT-M", 2), "o");
    assert!(
        text.contains(
            "by strategy `dc-only`\n  not strategy `store-pickup`: its `when order.fulfillment == pickup` did not hold"
        ),
        "{text}"
    );
}

#[test]
fn the_ranking_shows_the_cost_the_engine_compares_after_a_limit_key() {
    let text = explain(DC_ONLY, &order("o", "TSHIRT-M", 2), "o");
    assert!(
        text.contains(
            "[dc-only] priority, then cost; ties: fewest_shipments, then priority, then id"
        ),
        "{text}"
    );
}

#[test]
fn a_single_parcel_score_has_no_split_penalty() {
    let text = explain(DC_ONLY, &order("o", "TSHIRT-M", 2), "o");
    for dc in ["DC-KASSEL", "DC-LEIPZIG"] {
        let line = candidate(&text, dc);
        assert!(
            (figure(line, "score") - figure(line, "cost")).abs() < 0.006,
            "{line}"
        );
    }
}

#[test]
fn a_location_excluded_for_every_line_says_by_which_reason() {
    // Leipzig holds 1 sneaker: `atp <= 10` drops it for the only line it holds.
    let text = explain(DC_ONLY, &order("o", "SNEAKER-42", 1), "o");
    let line = candidate(&text, "DC-LEIPZIG");
    assert!(
        line.ends_with("excluded for every line it holds: atp 10 or less"),
        "{text}"
    );
}

const STORES_FIRST: &str = r#"strategy "stores-first" {
  candidates all
  prefer stores
  rank by atp desc
}
"#;

#[test]
fn larger_first_values_are_shown_as_written_and_a_tier_is_named() {
    // T-shirts available: Kassel 111, Leipzig 55, Hamburg 3, Berlin 1; stores first.
    let text = explain(STORES_FIRST, &order("o", "TSHIRT-M", 1), "o");
    assert!(
        text.contains("[stores-first] `prefer stores`, then atp desc; ties:"),
        "{text}"
    );
    let hamburg = candidate(&text, "ST-HAMBURG");
    assert!(hamburg.starts_with("  ships"), "{text}");
    assert_eq!(figure(hamburg, "score"), 3.0, "{text}");
    assert!(
        candidate(&text, "ST-BERLIN").ends_with("lost on atp desc: 1 against 3"),
        "{text}"
    );
    assert!(
        candidate(&text, "DC-KASSEL").ends_with(
            "lost on preferred tier `prefer stores`: it placed the order without this location"
        ),
        "{text}"
    );
}
