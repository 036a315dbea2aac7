//! Each rule construct, routed on a small network and checked in full.

use super::Rules;
use crate::fixtures::{location, stock};

use crate::model::network::{Location, LocationKind, Network, Service};
use crate::model::order::{Fulfillment, Order, OrderLine, ShipTo};
use crate::{Decision, Engine, Status};

fn loc(
    id: &str,
    kind: LocationKind,
    lat: f64,
    lon: f64,
    handling: f64,
    days: u32,
    tags: &[&str],
) -> Location {
    let mut l = location(id, kind, lat, lon, handling, days);
    l.country = Some("DE".into());
    l.region = Some(if id.contains("HAMBURG") { "HH" } else { "HE" }.into());
    l.tags = tags.iter().map(|t| t.to_string()).collect();
    l
}

/// A DC in Kassel, stores in Frankfurt and Hamburg, a vendor in Stuttgart.
fn network() -> Network {
    Network::new(
        "EUR".into(),
        vec![
            loc(
                "DC-KASSEL",
                LocationKind::Dc,
                51.31667,
                9.5,
                1.1,
                0,
                &["hazmat"],
            ),
            loc(
                "ST-FRANKFURT",
                LocationKind::Store,
                50.11,
                8.68,
                3.0,
                1,
                &["pickup"],
            ),
            loc(
                "ST-HAMBURG",
                LocationKind::Store,
                53.55,
                9.99,
                3.0,
                1,
                &["pickup"],
            ),
            loc(
                "VD-STUTTGART",
                LocationKind::Dropship,
                48.78,
                9.18,
                0.5,
                3,
                &[],
            ),
        ],
        vec![
            Service {
                id: "ground".into(),
                base_cost: 4.2,
                cost_per_km: 0.0015,
                cost_per_kg: 0.35,
                km_per_day: 450.0,
            },
            Service {
                id: "express".into(),
                base_cost: 9.9,
                cost_per_km: 0.003,
                cost_per_kg: 0.8,
                km_per_day: 1100.0,
            },
        ],
    )
}

fn line(sku: &str, qty: u32, tags: &[&str]) -> OrderLine {
    OrderLine {
        sku: sku.into(),
        qty,
        unit_weight_kg: 1.0,
        unit_price: 10.0,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        group: None,
        pack_size: None,
        attr: Default::default(),
    }
}

/// An order to Frankfurt.
fn order(lines: Vec<OrderLine>) -> Order {
    Order {
        id: "O-1".into(),
        channel: Some("web".into()),
        placed_at: Some("2026-11-23T17:30:00Z".into()),
        customer_tier: Some("standard".into()),
        ship_to: ShipTo {
            lat: 50.12,
            lon: 8.69,
            country: Some("DE".into()),
            region: Some("HE".into()),
            postal_code: None,
        },
        fulfillment: Fulfillment::Ship,
        pickup_location: None,
        promise_days: None,
        lines,
        attr: Default::default(),
    }
}

fn engine(rules: &str, rows: &[(usize, &str, u64)]) -> Engine {
    engine_on(network(), rules, rows)
}

fn engine_on(net: Network, rules: &str, rows: &[(usize, &str, u64)]) -> Engine {
    let (set, diags) = sourcing_dsl::compile_source("test.rules", rules);
    assert!(!diags.has_errors(), "{}", diags.render());
    let compiled = Rules::compile(set.expect("rule set"), &net).expect("compiles");
    let engine = Engine::new(net, &stock(rows));
    engine.set_rules(Some(compiled));
    engine
}

/// (location, [(line, qty)]) of every shipment.
fn placed(d: &Decision) -> Vec<(&str, Vec<(usize, u32)>)> {
    d.shipments
        .iter()
        .map(|s| {
            (
                s.location.as_str(),
                s.lines.iter().map(|l| (l.line, l.qty)).collect(),
            )
        })
        .collect()
}

fn reasons(d: &Decision) -> Vec<(usize, u32, &str)> {
    d.unsourced
        .iter()
        .map(|u| (u.line, u.qty, u.reason.as_str()))
        .collect()
}

#[test]
fn when_selects_the_first_matching_strategy() {
    let rules = r#"
strategy "app-only" {
  when order.channel == "app"
  candidates stores
  score cost
}
strategy "web" {
  when order.channel == "web" and order.placed_at.hour >= 17
  candidates dcs
  score cost
}
"#;
    let e = engine(rules, &[(0, "A", 5), (1, "A", 5)]);
    let d = e.quote(&order(vec![line("A", 1, &[])]));
    assert_eq!(d.rule, "web");
    assert_eq!(placed(&d), [("DC-KASSEL", vec![(0, 1)])]);
    let mut o = order(vec![line("A", 1, &[])]);
    o.channel = Some("marketplace".into());
    let d = e.quote(&o);
    assert_eq!(
        (d.status, reasons(&d)),
        (Status::Unsourced, vec![(0, 1, "no_strategy")])
    );
}

#[test]
fn exclusions_drop_locations_and_lines_with_their_reasons() {
    let rules = r#"
const keep = 2
strategy "s" {
  candidates all
  exclude store when atp - line.qty < keep reason "store protection"
  exclude location when line.tags has "hazmat" and not location.tags has "hazmat" reason "hazmat"
  exclude dropship when distance > 100 km reason "vendor too far"
  score cost
}
"#;
    // The Frankfurt store is next door but would drop below 2 units; the DC ships instead.
    let e = engine(
        rules,
        &[(0, "A", 5), (1, "A", 2), (3, "B", 9), (1, "OIL", 9)],
    );
    let d = e.quote(&order(vec![line("A", 1, &[])]));
    assert_eq!(placed(&d), [("DC-KASSEL", vec![(0, 1)])]);
    // Hazmat only from a hazmat location: the store holds it, the DC does not: unsourced.
    let d = e.quote(&order(vec![line("OIL", 1, &["hazmat"])]));
    assert_eq!(reasons(&d), [(0, 1, "hazmat")]);
    // The vendor is 150 km away: excluded for the whole location.
    let d = e.quote(&order(vec![line("B", 1, &[])]));
    assert_eq!(reasons(&d), [(0, 1, "vendor too far")]);
}

#[test]
fn a_score_can_prefer_stores_over_the_cheapest_location() {
    let rules = r#"
strategy "stores-first" {
  candidates all
  score cost + (location.kind == dc ? 5 EUR : 0 EUR)
}
"#;
    let e = engine(rules, &[(0, "A", 5), (1, "A", 5)]);
    let d = e.quote(&order(vec![line("A", 1, &[])]));
    assert_eq!(placed(&d), [("ST-FRANKFURT", vec![(0, 1)])]);
    // The decision's cost is still the contract's cost of that shipment.
    assert!((d.total_cost - (3.0 + 4.2 + 0.0015 * d.shipments[0].distance_km + 0.35)).abs() < 1e-9);
}

#[test]
fn split_policies_limit_shipments_and_keep_lines_whole() {
    let rows = [(0, "A", 2), (1, "A", 2), (2, "A", 2)];
    let none = engine(
        "strategy \"s\" {\n  candidates all\n  score cost\n  split none\n}\n",
        &rows,
    );
    // No location holds 3: one parcel places what it can, the rest is unsourced; the
    // network holds the units, the shipment limit keeps them out.
    let d = none.quote(&order(vec![line("A", 3, &[])]));
    assert_eq!((d.status, d.shipments.len()), (Status::Partial, 1));
    assert_eq!(reasons(&d), [(0, 1, "split_limit")]);
    let two = engine(
        "strategy \"s\" {\n  candidates all\n  score cost\n  split at most 2\n}\n",
        &rows,
    );
    let d = two.quote(&order(vec![line("A", 4, &[])]));
    assert_eq!(d.status, Status::Sourced);
    assert_eq!(d.shipments.len(), 2);
    let d = two.quote(&order(vec![line("A", 6, &[])]));
    assert_eq!((d.status, d.shipments.len()), (Status::Partial, 2));
    let whole = engine(
        "strategy \"s\" {\n  candidates all\n  score cost\n  split allowed, lines whole\n}\n",
        &rows,
    );
    let d = whole.quote(&order(vec![line("A", 2, &[]), line("A", 2, &[])]));
    assert_eq!(d.status, Status::Sourced);
    for s in &d.shipments {
        for l in &s.lines {
            assert_eq!(l.qty, 2, "a line ships whole");
        }
    }
}

#[test]
fn a_split_penalty_makes_one_parcel_win() {
    // Line A is at the Frankfurt store and the DC; line B only at the DC. The score makes the
    // store's parcel nearly free, so without a penalty A comes from the store; with a large
    // penalty per parcel, everything comes from the DC.
    let rows = [(0, "A", 5), (0, "B", 5), (1, "A", 5)];
    let rules = "strategy \"s\" {\n  candidates all\n  score cost - (location.kind == store ? 7.3 EUR : 0 EUR)\n  split allowed, penalty 20 EUR\n}\n";
    let d = engine(rules, &rows).quote(&order(vec![line("A", 1, &[]), line("B", 1, &[])]));
    assert_eq!(placed(&d), [("DC-KASSEL", vec![(0, 1), (1, 1)])]);
    let rules = "strategy \"s\" {\n  candidates all\n  score cost - (location.kind == store ? 7.3 EUR : 0 EUR)\n  split allowed\n}\n";
    let d = engine(rules, &rows).quote(&order(vec![line("A", 1, &[]), line("B", 1, &[])]));
    assert_eq!(
        placed(&d),
        [("DC-KASSEL", vec![(1, 1)]), ("ST-FRANKFURT", vec![(0, 1)])]
    );
}

#[test]
fn fallback_hands_on_the_rest_and_backorder_ends_the_chain() {
    let rules = r#"
strategy "stores" {
  candidates stores
  score cost
  fallback "dcs"
}
strategy "dcs" {
  candidates dcs
  score cost
  otherwise backorder
}
"#;
    let e = engine(rules, &[(1, "A", 1), (0, "A", 1)]);
    let d = e.quote(&order(vec![line("A", 3, &[])]));
    assert_eq!(d.rule, "stores");
    assert_eq!(
        placed(&d),
        [("DC-KASSEL", vec![(0, 1)]), ("ST-FRANKFURT", vec![(0, 1)])]
    );
    assert_eq!(reasons(&d), [(0, 1, "backorder")]);
    // Routing takes the units of both strategies.
    let d = e.consume(&order(vec![line("A", 3, &[])]));
    assert_eq!(d.status, Status::Partial);
    assert_eq!(e.stock().total_atp("A"), 0);
}

#[test]
fn prefer_takes_the_pickup_store_first() {
    let rules = r#"
strategy "c&c" {
  when order.fulfillment == pickup
  candidates pickup_store, dcs
  prefer pickup_store
  score cost
}
"#;
    let e = engine(rules, &[(1, "A", 1), (0, "A", 5)]);
    let mut o = order(vec![line("A", 3, &[])]);
    o.fulfillment = Fulfillment::Pickup;
    o.pickup_location = Some("ST-FRANKFURT".into());
    o.ship_to.lat = 50.11;
    o.ship_to.lon = 8.68;
    let d = e.quote(&o);
    assert_eq!(
        placed(&d),
        [("DC-KASSEL", vec![(0, 2)]), ("ST-FRANKFURT", vec![(0, 1)])]
    );
    let counter = &d.shipments[1];
    assert_eq!((counter.service.as_deref(), counter.cost), (None, 3.0));
}

#[test]
fn promise_required_drops_late_locations() {
    let rules = "strategy \"s\" {\n  candidates all\n  score cost\n  promise required\n}\n";
    // The vendor (3 processing days) is the only holder: a 2-day promise cannot be kept.
    let e = engine(rules, &[(3, "A", 5)]);
    let mut o = order(vec![line("A", 1, &[])]);
    o.promise_days = Some(2);
    let d = e.quote(&o);
    assert_eq!(reasons(&d), [(0, 1, "promise")]);
    o.promise_days = Some(5);
    assert_eq!(e.quote(&o).status, Status::Sourced);
}

#[test]
fn fewest_shipments_ranks_before_cost() {
    // Cheapest: A from the nearby store and B from the DC (two parcels); fewest: both from
    // the DC. `rank by fewest_shipments, then cost` must pick the DC alone.
    let rows = [(0, "A", 5), (0, "B", 5), (1, "A", 5)];
    let rules = "strategy \"s\" {\n  candidates all\n  score cost - (location.kind == store ? 7.3 EUR : 0 EUR)\n  rank by fewest_shipments, then score\n}\n";
    let d = engine(rules, &rows).quote(&order(vec![line("A", 1, &[]), line("B", 1, &[])]));
    assert_eq!(placed(&d), [("DC-KASSEL", vec![(0, 1), (1, 1)])]);
}

#[test]
fn scripts_compute_custom_terms_in_a_sandbox() {
    let rules = r#"
strategy "s" {
  candidates all
  score cost + late_fee(order.placed_at.hour, days)
}
script late_fee(hour: number, transit: days) -> money {
  if hour >= 17 && transit > 1 { 50.0 } else { 0.0 }
}
"#;
    // Ordered at 17:30: the store's 2 days cost 50 extra; the DC (1 day) wins.
    let e = engine(rules, &[(0, "A", 5), (1, "A", 5)]);
    let d = e.quote(&order(vec![line("A", 1, &[])]));
    assert_eq!(placed(&d), [("DC-KASSEL", vec![(0, 1)])]);
    // A script that never ends is stopped by the operation limit: the order gets an answer
    // that says so.
    let looping = r#"
strategy "s" {
  candidates all
  score cost + spin(1)
}
script spin(x: number) -> money {
  let n = 0; loop { n += 1; } n
}
"#;
    let e = engine(looping, &[(0, "A", 5)]);
    let d = e.quote(&order(vec![line("A", 1, &[])]));
    assert_eq!(reasons(&d), [(0, 1, "rule_error")]);
    assert!(d
        .error
        .as_deref()
        .is_some_and(|m| m.contains("script `spin` stopped after 50000 operations")));
}

#[test]
fn constants_can_be_overridden() {
    let rules = "const bonus = 5 EUR\nstrategy \"s\" {\n  candidates all\n  score cost + (location.kind == dc ? bonus : 0 EUR)\n}\n";
    let (set, _) = sourcing_dsl::compile_source("t.rules", rules);
    let mut set = set.expect("rules");
    let e = Engine::new(network(), &stock(&[(0, "A", 5), (1, "A", 5)]));
    e.set_rules(Some(
        Rules::compile(set.clone(), e.network()).expect("compiles"),
    ));
    assert_eq!(
        e.quote(&order(vec![line("A", 1, &[])])).shipments[0].location,
        "ST-FRANKFURT"
    );
    set.set_const("bonus", "0").expect("override");
    e.set_rules(Some(Rules::compile(set, e.network()).expect("compiles")));
    assert_eq!(
        e.quote(&order(vec![line("A", 1, &[])])).shipments[0].location,
        "DC-KASSEL"
    );
}

#[test]
fn when_reads_every_kind_of_order_fact() {
    // Each strategy tests one fact; the order matches only the last condition listed in
    // each pair, so the chosen strategy names the fact that was read correctly.
    let mut o = order(vec![line("A", 2, &["gift"]), line("B", 1, &[])]);
    o.customer_tier = Some("gold".into());
    o.ship_to.postal_code = Some("60311".into());
    o.promise_days = Some(2);
    o.attr.insert("segment".into(), serde_json::json!("b2b"));
    let cases = [
        ("order.customer_tier == \"gold\"", true),
        ("order.customer_tier == \"silver\"", false),
        ("order.ship_to.postal_code starts with \"60\"", true),
        ("order.ship_to.postal_code starts with \"80\"", false),
        (
            "order.ship_to.region == \"HE\" and order.ship_to.country == \"DE\"",
            true,
        ),
        ("order.promise_days <= 2 days", true),
        ("order.promise_days < 2 days", false),
        ("order.value >= 30 EUR", true),
        ("order.value > 30 EUR", false),
        ("order.lines == 2", true),
        ("order.weight == 3 kg", true),
        ("order.tags has \"gift\"", true),
        ("order.tags has \"bulky\"", false),
        (
            "order.placed_at.weekday == \"mon\" and order.placed_at.hour == 17",
            true,
        ),
        ("order.placed_at.weekday in [\"sat\", \"sun\"]", false),
        ("order.attr.segment == \"b2b\"", true),
        ("order.attr.missing == \"x\"", false),
        ("order.fulfillment == ship", true),
    ];
    for (cond, expected) in cases {
        let rules = format!(
            "strategy \"hit\" {{\n  when {cond}\n  candidates all\n  score cost\n}}\nstrategy \"miss\" {{\n  candidates all\n  score cost\n}}\n"
        );
        let d = engine(&rules, &[(0, "A", 5), (0, "B", 5)]).quote(&o);
        assert_eq!(d.rule == "hit", expected, "{cond}");
    }
}

#[test]
fn when_reads_the_placement_date_in_utc() {
    // A holiday window from 2026-12-20 to 2027-01-06, both included.
    let rules = "strategy \"peak\" {\n  when order.placed_at.date >= 2026-12-20 and order.placed_at.date <= 2027-01-06\n  candidates all\n  score cost\n}\nstrategy \"rest\" {\n  candidates all\n  score cost\n}\n";
    let e = engine(rules, &[(0, "A", 5)]);
    let cases = [
        (Some("2026-12-19T23:59:59Z"), "rest"),
        (Some("2026-12-20T00:00:00Z"), "peak"),
        // 00:30 in Berlin on the 20th is still the 19th in UTC, the day `weekday` reads.
        (Some("2026-12-20T00:30:00+01:00"), "rest"),
        // 23:30 in New York on the 19th is already the 20th in UTC.
        (Some("2026-12-19T23:30:00-05:00"), "peak"),
        (Some("2027-01-06T23:59:59Z"), "peak"),
        (Some("2027-01-07T00:00:00Z"), "rest"),
        // Without a placement date no comparison holds.
        (None, "rest"),
    ];
    for (placed_at, expected) in cases {
        let mut o = order(vec![line("A", 1, &[])]);
        o.placed_at = placed_at.map(Into::into);
        assert_eq!(e.quote(&o).rule, expected, "{placed_at:?}");
    }
    // `!=` and `<` on dates, and a date that is the same whatever the hour.
    for (cond, expected) in [
        ("order.placed_at.date == 2026-11-23", true),
        ("order.placed_at.date != 2026-11-23", false),
        ("order.placed_at.date < 2026-11-24", true),
        ("order.placed_at.date > 2026-11-23", false),
    ] {
        let rules = format!(
            "strategy \"hit\" {{\n  when {cond}\n  candidates all\n  score cost\n}}\nstrategy \"miss\" {{\n  candidates all\n  score cost\n}}\n"
        );
        let d = engine(&rules, &[(0, "A", 5)]).quote(&order(vec![line("A", 1, &[])]));
        assert_eq!(d.rule == "hit", expected, "{cond}");
    }
}

#[test]
fn candidate_sets_by_kind_tag_place_ids_and_groups() {
    let rows = [(0, "A", 5), (1, "A", 5), (2, "A", 5), (3, "A", 5)];
    let cases = [
        ("dropship", "VD-STUTTGART"),
        ("locations tagged \"hazmat\"", "DC-KASSEL"),
        ("[\"ST-HAMBURG\"]", "ST-HAMBURG"),
        ("north", "ST-HAMBURG"),
        ("stores in region \"HH\"", "ST-HAMBURG"),
        ("stores where location.id != \"ST-FRANKFURT\"", "ST-HAMBURG"),
        ("locations in country \"DE\"", "VD-STUTTGART"),
    ];
    for (set, expected) in cases {
        let rules = format!(
            "group north = [\"ST-HAMBURG\", \"DC-NOWHERE\"]\nstrategy \"s\" {{\n  candidates {set}, north\n  score cost\n}}\n"
        );
        // `north` is always a candidate too (so the group is used); Hamburg is the dearest
        // location, so it wins only where the set itself adds nothing cheaper.
        let d = engine(&rules, &rows).quote(&order(vec![line("A", 1, &[])]));
        assert_eq!(placed(&d).first().map(|p| p.0), Some(expected), "{set}");
    }
}

#[test]
fn rules_see_capacity_and_skip_full_locations() {
    let mut net = network();
    net.locations[1].daily_capacity = Some(1);
    let net = Network::new(
        net.currency.clone(),
        net.locations.clone(),
        net.services.clone(),
    );
    let rules = "strategy \"stores\" {\n  candidates stores\n  exclude store when capacity_left < 1 reason \"store busy\"\n  score cost\n  otherwise backorder\n}\n";
    let (set, _) = sourcing_dsl::compile_source("t.rules", rules);
    let e = Engine::new(net.clone(), &stock(&[(1, "A", 5)]));
    e.set_rules(Some(
        Rules::compile(set.expect("rules"), &net).expect("compiles"),
    ));
    let d = e.consume(&order(vec![line("A", 1, &[])]));
    assert_eq!(placed(&d), [("ST-FRANKFURT", vec![(0, 1)])]);
    // Full for today: the engine skips it before any rule is read.
    let d = e.consume(&order(vec![line("A", 1, &[])]));
    assert_eq!(reasons(&d), [(0, 1, "backorder")]);
    let mut tomorrow = order(vec![line("A", 1, &[])]);
    tomorrow.placed_at = Some("2026-11-24T08:00:00Z".into());
    assert_eq!(e.consume(&tomorrow).status, Status::Sourced);
}

#[test]
fn a_pickup_at_a_store_without_a_counter_is_rejected_with_a_reason() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rules/click-and-collect.rules"
    ))
    .expect("the shipped rule file");
    let mut net = network();
    net.locations[2].tags.clear(); // ST-HAMBURG has no pickup counter
    let net = Network::new(
        net.currency.clone(),
        net.locations.clone(),
        net.services.clone(),
    );
    let (set, diags) = sourcing_dsl::compile_source("click-and-collect.rules", &src);
    assert!(!diags.has_errors(), "{}", diags.render());
    let e = Engine::new(net.clone(), &stock(&[(2, "A", 5), (0, "A", 5)]));
    e.set_rules(Some(
        Rules::compile(set.expect("rules"), &net).expect("compiles"),
    ));
    let mut o = order(vec![line("A", 1, &[])]);
    o.fulfillment = Fulfillment::Pickup;
    o.pickup_location = Some("ST-HAMBURG".into());
    let d = e.quote(&o);
    assert_eq!(d.rule, "no-pickup-counter");
    assert_eq!(
        (d.status, reasons(&d)),
        (
            Status::Unsourced,
            vec![(0, 1, "store does not offer pickup")]
        )
    );
    // The same order at a store with a counter is collected there.
    o.pickup_location = Some("ST-FRANKFURT".into());
    let e = Engine::new(net.clone(), &stock(&[(1, "A", 5)]));
    let (set, _) = sourcing_dsl::compile_source("click-and-collect.rules", &src);
    e.set_rules(Some(
        Rules::compile(set.expect("rules"), &net).expect("compiles"),
    ));
    let d = e.quote(&o);
    assert_eq!(
        (d.rule.as_str(), placed(&d)),
        ("click-and-collect", vec![("ST-FRANKFURT", vec![(0, 1)])])
    );
}

/// A rule file whose `trap` term misbehaves only for order `O-2`, in the way `body` says.
fn trap_rules(body: &str) -> String {
    format!(
        "strategy \"s\" {{\n  candidates all\n  score cost + trap(order.id)\n}}\n\nscript trap(id: string) -> money {{\n  if id == \"O-2\" {{\n    {body}\n  }}\n  0.0\n}}\n"
    )
}

fn order_id(id: &str) -> Order {
    Order {
        id: id.into(),
        ..order(vec![line("A", 1, &[])])
    }
}

#[test]
fn hostile_scripts_are_stopped_and_only_their_order_fails() {
    // A map grown key by key (rhai checks the size of map literals only): keys stay short,
    // so the operation limit stops it.
    let map_literal = "let m = #{}; let k = \"k\"; let i = 0; loop { m[k] = i; i += 1; if i % 500 == 0 { k = \"j\"; } else { k += \"k\"; } }".to_string();
    let cases: [(&str, &str); 7] = [
        (
            "let n = 0; loop { n += 1; }",
            "stopped after 50000 operations (does it loop forever?)",
        ),
        (
            "return trap(id);",
            "stopped: calls nested more than 16 levels deep (endless recursion?)",
        ),
        (
            "let s = \"0123456789\"; loop { s += s; }",
            "stopped: it built a string longer than 1,000 characters",
        ),
        (
            "let a = [0, 1, 2]; loop { a += a; }",
            "stopped: it built an array of more than 1,000 items",
        ),
        (
            &map_literal,
            "stopped after 50000 operations (does it loop forever?)",
        ),
        ("return \"yes\";", "returned string, not a number or a boolean"),
        (
            "return id - 1;",
            "failed: Function not found: - (&str | ImmutableString | String, i64) (at test.rules:8)",
        ),
    ];
    for (body, problem) in cases {
        let rules = trap_rules(body);
        // One unit at the DC: whoever is routed first and decided takes it.
        let e = engine(&rules, &[(0, "A", 1), (1, "A", 1)]);
        let d2 = e.consume(&order_id("O-2"));
        assert_eq!(d2.status, Status::Unsourced, "{body}");
        assert!(d2.shipments.is_empty(), "{body}");
        assert_eq!(reasons(&d2), [(0, 1, "rule_error")], "{body}");
        assert_eq!(d2.rule, "s");
        assert_eq!(
            d2.error.as_deref(),
            Some(
                format!("test.rules:3:16: strategy \"s\", score: script `trap` {problem}").as_str()
            ),
            "{body}"
        );
        // The failed order took nothing: the two units go to the next two orders.
        for id in ["O-1", "O-3"] {
            let d = e.consume(&order_id(id));
            assert_eq!(d.status, Status::Sourced, "{body}: {id}");
            assert_eq!(d.error, None);
        }
        assert_eq!(e.consume(&order_id("O-4")).status, Status::Unsourced);
    }
}

#[test]
fn a_failing_script_names_the_clause_it_was_called_from() {
    let rules = r#"strategy "gold" {
  when order.customer_tier == "gold" and broken(order.lines) > 0
  candidates all
}

strategy "rest" {
  candidates all
  exclude store when broken(line.qty) > 0 reason "never"
}

script broken(x: number) -> number {
  if x > 1.0 { loop { } }
  0.0
}
"#;
    let e = engine(rules, &[(0, "A", 5), (1, "A", 5)]);
    // Not gold: `when` of "gold" is not read past its first test, "rest" runs.
    assert_eq!(e.quote(&order(vec![line("A", 1, &[])])).error, None);
    let d = e.quote(&order(vec![line("A", 2, &[])]));
    assert_eq!(
        d.error.as_deref(),
        Some("test.rules:8:22: strategy \"rest\", exclude: script `broken` stopped after 50000 operations (does it loop forever?)")
    );
    assert_eq!(d.rule, "rest");
    let mut gold = order(vec![line("A", 1, &[]), line("A", 1, &[])]);
    gold.customer_tier = Some("gold".into());
    let d = e.quote(&gold);
    assert_eq!(
        d.error.as_deref(),
        Some("test.rules:2:42: strategy \"gold\", when: script `broken` stopped after 50000 operations (does it loop forever?)")
    );
    assert_eq!(reasons(&d), [(0, 1, "rule_error"), (1, 1, "rule_error")]);
}

#[test]
fn a_script_without_a_value_for_an_argument_is_not_called() {
    // No `placed_at`: the hour has no value, the script is not called (it would fail on
    // `()`), the term has no value and the order is routed without it.
    let rules = "strategy \"s\" {\n  candidates all\n  score cost + late(order.placed_at.hour)\n}\n\nscript late(hour: number) -> money {\n  if hour >= 16.0 { 1.0 } else { 0.0 }\n}\n";
    let e = engine(rules, &[(0, "A", 5)]);
    let mut o = order(vec![line("A", 1, &[])]);
    o.placed_at = None;
    let d = e.quote(&o);
    assert_eq!(d.error, None);
    assert_eq!(d.status, Status::Sourced);
}

#[test]
fn a_script_failing_in_a_location_set_stops_the_rules_before_any_order() {
    let rules = "group odd = stores where broken(location.handling_cost) > 0\n\nstrategy \"s\" {\n  candidates odd, dcs\n}\n\nscript broken(x: money) -> number {\n  broken(x)\n}\n";
    assert_eq!(
        refused(rules),
        "test.rules:1:26: group `odd`: script `broken` stopped: calls nested more than 16 levels deep (endless recursion?)"
    );
}

/// Why a rule file that checks clean cannot be compiled for the test network.
fn refused(rules: &str) -> String {
    let (set, diags) = sourcing_dsl::compile_source("test.rules", rules);
    assert!(!diags.has_errors(), "{}", diags.render());
    Rules::compile(set.expect("rule set"), &network())
        .expect_err("refused")
        .to_string()
}

#[test]
fn an_order_whose_scripts_add_up_past_its_budget_is_stopped() {
    // Each call stays under the per-call limit; 4 locations × 40 lines of distinct SKUs
    // make 160 calls, more than the order's budget in all.
    let rules = "strategy \"s\" {\n  candidates all\n  exclude location when busy(line.qty, distance) < 0 reason \"never\"\n}\n\nscript busy(q: number, d: km) -> number {\n  let n = 0;\n  while n < 6000 { n += 1; }\n  q + d\n}\n";
    let skus: Vec<String> = (0..40).map(|i| format!("S{i:02}")).collect();
    let rows: Vec<(usize, &str, u64)> = (0..4)
        .flat_map(|l| skus.iter().map(move |s| (l, s.as_str(), 100)))
        .collect();
    let e = engine(rules, &rows);
    let small = e.quote(&order(vec![line("S00", 1, &[]), line("S01", 2, &[])]));
    assert_eq!((small.status, small.error), (Status::Sourced, None));
    let lines: Vec<OrderLine> = skus
        .iter()
        .enumerate()
        .map(|(i, s)| line(s, i as u32 + 1, &[]))
        .collect();
    let d = e.quote(&order(lines));
    assert_eq!(d.status, Status::Unsourced);
    assert_eq!(
        d.error.as_deref(),
        Some("test.rules:3:25: strategy \"s\", exclude: script `busy` stopped: the scripts of this order took more than 5000000 operations together")
    );
}

#[test]
fn a_score_dividing_by_a_zero_distance_is_a_rule_error() {
    // The pickup counter is 0 km from the order: `cost / distance` has no value there.
    let rules = "strategy \"s\" {\n  candidates pickup_store, dcs\n  score cost / distance\n}\n";
    let e = engine(rules, &[(1, "A", 1), (0, "A", 5)]);
    let mut o = order(vec![line("A", 3, &[]), line("A", 1, &[])]);
    o.fulfillment = Fulfillment::Pickup;
    o.pickup_location = Some("ST-FRANKFURT".into());
    let d = e.consume(&o);
    assert_eq!(d.status, Status::Unsourced);
    assert!(d.shipments.is_empty());
    assert_eq!(reasons(&d), [(0, 3, "rule_error"), (1, 1, "rule_error")]);
    assert_eq!(d.rule, "s");
    assert_eq!(
        d.error.as_deref(),
        Some("test.rules:3:9: strategy \"s\", score: `cost / distance` divides by zero")
    );
    // Nothing was taken; a shipped order (every distance above 0) is decided as before.
    assert_eq!(e.stock().total_atp("A"), 6);
    let d = e.consume(&order(vec![line("A", 1, &[])]));
    assert_eq!((d.status, d.error), (Status::Sourced, None));
    // A guarded divisor is never 0: the counter scores 0 and is chosen.
    let guarded = "strategy \"s\" {\n  candidates pickup_store, dcs\n  score distance > 0 km ? cost / distance : 0\n}\n";
    let e = engine(guarded, &[(1, "A", 1), (0, "A", 5)]);
    let mut o = order(vec![line("A", 1, &[])]);
    o.fulfillment = Fulfillment::Pickup;
    o.pickup_location = Some("ST-FRANKFURT".into());
    let d = e.consume(&o);
    assert_eq!(d.error, None);
    assert_eq!(placed(&d), [("ST-FRANKFURT", vec![(0, 1)])]);
}

#[test]
fn a_script_returning_an_infinite_or_nan_number_is_a_rule_error() {
    for (body, shown) in [
        ("return 1.0 / 0.0;", "inf"),
        ("return -1.0 / 0.0;", "-inf"),
        ("return 0.0 / 0.0;", "NaN"),
    ] {
        let e = engine(&trap_rules(body), &[(0, "A", 1)]);
        let d = e.consume(&order_id("O-2"));
        assert_eq!(reasons(&d), [(0, 1, "rule_error")], "{body}");
        assert_eq!(
            d.error,
            Some(format!(
                "test.rules:3:16: strategy \"s\", score: script `trap` returned {shown}, not a finite number"
            )),
            "{body}"
        );
        assert_eq!(
            e.consume(&order_id("O-1")).status,
            Status::Sourced,
            "{body}"
        );
    }
}

#[test]
fn a_penalty_that_is_not_finite_is_a_rule_error() {
    // Without a promise, `order.promise_days` is infinite: so is the penalty built on it.
    let infinite = "strategy \"s\" {\n  candidates all\n  split allowed, penalty order.promise_days * 1 EUR\n}\n";
    let e = engine(infinite, &[(0, "A", 5)]);
    let d = e.quote(&order(vec![line("A", 1, &[])]));
    assert_eq!(reasons(&d), [(0, 1, "rule_error")]);
    assert_eq!(
        d.error.as_deref(),
        Some("test.rules:3:26: strategy \"s\", split: `order.promise_days * 1 EUR` is infinite")
    );
    let mut promised = order(vec![line("A", 1, &[])]);
    promised.promise_days = Some(3);
    assert_eq!(e.quote(&promised).status, Status::Sourced);
    // Two finite penalties whose sum is too large for a number: the late vendor's shipment.
    let big = format!("1{} EUR", "0".repeat(308));
    let sum = format!("const big = {big}\n\nstrategy \"s\" {{\n  candidates all\n  split allowed, penalty big\n  promise preferred, penalty big\n}}\n");
    let e = engine(&sum, &[(3, "A", 5)]);
    let mut late = order(vec![line("A", 1, &[])]);
    late.promise_days = Some(1);
    let d = e.quote(&late);
    assert_eq!(reasons(&d), [(0, 1, "rule_error")]);
    assert_eq!(
        d.error.as_deref(),
        Some("test.rules:6:30: strategy \"s\", promise: `big` overflows: the result is too large for a number")
    );
}

#[test]
fn conditions_and_scores_without_a_finite_value_are_rule_errors() {
    let mut pickup = order(vec![line("A", 1, &[])]);
    pickup.fulfillment = Fulfillment::Pickup;
    pickup.pickup_location = Some("ST-FRANKFURT".into());
    let big = format!("1{}", "0".repeat(308));
    // (rules, order, error): before, an infinite ratio excluded the counter, NaN compared
    // false and an overflowing score tied every candidate at one huge value.
    let cases = [
        (
            "strategy \"s\" {\n  candidates all\n  exclude location when cost / distance > 1 reason \"dear\"\n}\n".to_string(),
            pickup.clone(),
            "test.rules:3:25: strategy \"s\", exclude: `cost / distance` divides by zero",
        ),
        (
            "strategy \"s\" {\n  when order.promise_days - order.promise_days < 1 days\n  candidates all\n}\n".to_string(),
            order(vec![line("A", 1, &[])]),
            "test.rules:2:8: strategy \"s\", when: `order.promise_days - order.promise_days` is not a number (NaN)",
        ),
        (
            format!("const big = {big}\n\nstrategy \"s\" {{\n  candidates all\n  rank by distance * order.value * big\n}}\n"),
            order(vec![line("A", 1, &[])]),
            "test.rules:5:11: strategy \"s\", rank by: `distance * order.value * big` overflows: the result is too large for a number",
        ),
        (
            format!("const big = {big}\n\nstrategy \"s\" {{\n  candidates all\n  score cost * big\n}}\n"),
            order(vec![line("A", 1, &[])]),
            "test.rules:5:9: strategy \"s\", score: `cost * big` overflows: the result is too large for a number",
        ),
    ];
    for (rules, o, error) in cases {
        let e = engine(&rules, &[(0, "A", 5), (1, "A", 5)]);
        let d = e.consume(&o);
        assert_eq!(reasons(&d), [(0, 1, "rule_error")], "{rules}");
        assert_eq!(d.error.as_deref(), Some(error), "{rules}");
        assert_eq!(e.stock().total_atp("A"), 10);
    }
}

#[test]
fn a_division_by_zero_in_a_location_set_stops_the_rules_before_any_order() {
    // DC-KASSEL has no processing days.
    let rules = "group quick = all where location.handling_cost / location.processing_days > 1\n\nstrategy \"s\" {\n  candidates quick\n}\n";
    assert_eq!(
        refused(rules),
        "test.rules:1:25: group `quick`: `location.handling_cost / location.processing_days` divides by zero"
    );
}

#[test]
fn a_constant_set_to_zero_after_the_check_fails_the_orders_that_divide_by_it() {
    // The checker refuses `cost / 0` (C019); a constant overridden to 0 later is caught
    // when the rules run.
    let rules = "const per = 1\n\nstrategy \"s\" {\n  candidates all\n  score cost / per\n}\n";
    let (set, diags) = sourcing_dsl::compile_source("t.rules", rules);
    assert!(!diags.has_errors(), "{}", diags.render());
    let mut set = set.expect("rules");
    set.set_const("per", "0").expect("override");
    let e = Engine::new(network(), &stock(&[(0, "A", 5)]));
    e.set_rules(Some(Rules::compile(set, e.network()).expect("compiles")));
    let d = e.consume(&order(vec![line("A", 1, &[])]));
    assert_eq!(reasons(&d), [(0, 1, "rule_error")]);
    assert_eq!(
        d.error.as_deref(),
        Some("t.rules:5:9: strategy \"s\", score: `cost / per` divides by zero")
    );
}

/// A long fallback chain: the graph's cycle check and the walk keep their own stacks (the
/// check recursed once per node and overflowed a test thread's 2 MB stack).
#[test]
fn a_long_fallback_chain_compiles_and_is_walked_to_its_end() {
    const N: usize = 10_000;
    let mut rules: String = (0..N - 1)
        .map(|i| {
            format!(
                "strategy \"s{i}\" {{ candidates all  fallback \"s{}\" }}\n",
                i + 1
            )
        })
        .collect();
    rules.push_str(&format!(
        "strategy \"s{}\" {{ candidates all  otherwise backorder }}\n",
        N - 1
    ));
    let e = engine(&rules, &[(0, "A", 1), (1, "A", 1)]);
    // Two units placed by the first strategy; the third goes down the chain to its end.
    let d = e.quote(&order(vec![line("A", 3, &[])]));
    assert_eq!((d.status, d.rule.as_str()), (Status::Partial, "s0"));
    assert_eq!(reasons(&d), vec![(0, 1, "backorder")]);
}

/// A script the sandbox refuses: `Rules::compile` and `check_scripts` name the place in the
/// rule file (the error used to say rhai's line in the wrapped script).
#[test]
fn a_script_that_does_not_compile_is_located_in_the_rule_file() {
    let rules = "strategy \"s\" {\n  candidates all\n  score cost + f(distance)\n}\n\nscript f(d: km) -> money {\n  let x = 1;\n  # not a comment in rhai\n  d\n}\n";
    let (set, diags) = sourcing_dsl::compile_source("test.rules", rules);
    assert!(!diags.has_errors(), "{}", diags.render());
    let set = set.expect("rule set");
    let found = super::check_scripts(&set);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, "C022");
    assert_eq!(set.line_col(found[0].primary.span.start), (8, 3));
    let err = Rules::compile(set, &network()).expect_err("does not compile");
    assert_eq!(
        err.to_string(),
        "test.rules:8:3: script `f` does not compile: '#' is a reserved symbol"
    );
}

/// 200 stores holding one unit of each of 6 SKUs, and an order of 60 units per SKU: any 60
/// stores make a plan, and ranks with many ties leave the search nothing to prune. Every
/// search of the order (the successive ones of limit keys, the bounded search's probe, the
/// full scan after it) draws on one budget, so the order is decided, cut short, after a
/// bounded number of nodes. Before, each search had a budget of its own: two to four of
/// them ran, and the order took 35 s with 1,000 stores.
#[test]
fn an_order_over_hundreds_of_one_unit_stores_stays_within_one_budget() {
    const SKUS: [&str; 6] = ["A", "B", "C", "D", "E", "F"];
    const STORES: usize = 200;
    let locations: Vec<Location> = (0..STORES)
        .map(|i| {
            let (lat, lon) = (47.0 + (i % 20) as f64 * 0.3, 6.0 + (i / 20) as f64 * 0.8);
            let mut l = loc(
                &format!("ST-{i:03}"),
                LocationKind::Store,
                lat,
                lon,
                3.0,
                (i % 3) as u32,
                &[],
            );
            l.country = Some(if i % 3 == 0 { "AT" } else { "DE" }.into());
            l.priority = Some(1 + (i % 5) as i64);
            l
        })
        .collect();
    let net = Network::new("EUR".into(), locations, network().services.clone());
    let rows: Vec<(usize, &str, u64)> = (0..STORES)
        .flat_map(|l| SKUS.iter().map(move |s| (l, *s, 1)))
        .collect();
    let ranks = [
        "rank by in_market, then distance",
        "rank by fewest_shipments, then in_market, then distance, then priority",
        "rank by days, then in_market, then distance",
    ];
    for rank in ranks {
        let rules = format!("strategy \"s\" {{\n  candidates all\n  {rank}\n}}\n");
        let e = engine_on(net.clone(), &rules, &rows);
        let (d, stats) =
            e.route_with_stats(&order(SKUS.iter().map(|s| line(s, 60, &[])).collect()));
        // A valid decision: every unit placed, each store gives what it holds at most.
        assert_eq!(d.status, Status::Sourced, "{rank}");
        for (k, sku) in SKUS.iter().enumerate() {
            let placed: u32 = d
                .shipments
                .iter()
                .flat_map(|s| &s.lines)
                .filter(|l| l.line == k && l.sku == *sku)
                .map(|l| l.qty)
                .sum();
            assert_eq!(placed, 60, "{rank}");
        }
        assert!(
            d.shipments
                .iter()
                .all(|s| s.lines.iter().all(|l| l.qty == 1)),
            "{rank}"
        );
        // Cut short, and said so; within the order's budget. The search that gives the
        // plan may take what reaches a first plan beyond it, and a search stops at the node
        // after the one that spends its budget (a plan weighs as many nodes as it has
        // locations).
        assert!(stats.truncated, "{rank}: {} nodes", stats.nodes);
        let most = super::ORDER_BUDGET
            + super::MIN_SEARCH.max(3 * STORES as u64)
            + 2 * (STORES as u64 + 1);
        assert!(stats.nodes <= most, "{rank}: {} nodes", stats.nodes);
    }
}

/// The test network with priorities: the stores first (1), the DC next (2), the vendor
/// last (3), as a Magento-style source priority.
fn prioritised() -> Network {
    let net = network();
    let locations = net
        .locations
        .iter()
        .map(|l| {
            let mut l = l.clone();
            l.priority = Some(match l.kind {
                LocationKind::Store => 1,
                LocationKind::Dc => 2,
                _ => 3,
            });
            l
        })
        .collect();
    Network::new(net.currency.clone(), locations, net.services.clone())
}

/// Shipments as a sorted list, since a fill's order of shipments is not part of the test.
fn placed_sorted(d: &Decision) -> Vec<(&str, Vec<(usize, u32)>)> {
    let mut p = placed(d);
    p.sort();
    p
}

fn fill_rules(clauses: &str) -> String {
    format!("strategy \"fill\" {{\n  candidates dcs, stores\n{clauses}}}\n")
}

/// Stores hold 2 each, the DC 5, the vendor 10.
const FILL_STOCK: [(usize, &str, u64); 4] = [(0, "A", 5), (1, "A", 2), (2, "A", 2), (3, "A", 10)];

#[test]
fn fill_takes_locations_one_after_another_in_priority_order() {
    let e = engine_on(
        prioritised(),
        &fill_rules("  fill by priority, then distance\n"),
        &FILL_STOCK,
    );
    // Both stores (priority 1) give all they have, the DC the rest; `rank by priority`
    // would rather ship 5 + 2 from two locations of a worse priority.
    let d = e.quote(&order(vec![line("A", 7, &[])]));
    assert_eq!(d.status, Status::Sourced);
    assert_eq!(
        placed_sorted(&d),
        [
            ("DC-KASSEL", vec![(0, 3)]),
            ("ST-FRANKFURT", vec![(0, 2)]),
            ("ST-HAMBURG", vec![(0, 2)]),
        ]
    );
    // Nearer first among equal priorities: Frankfurt before Hamburg.
    let d = e.quote(&order(vec![line("A", 2, &[])]));
    assert_eq!(placed(&d), [("ST-FRANKFURT", vec![(0, 2)])]);
}

#[test]
fn fill_ties_fall_to_priority_then_id_and_desc_reverses_a_key() {
    let stock = [(1, "A", 2), (2, "A", 2)];
    // `in_market` is the same for both stores: the fixed tie breaks (priority, then id) decide.
    let e = engine_on(prioritised(), &fill_rules("  fill by in_market\n"), &stock);
    let d = e.quote(&order(vec![line("A", 2, &[])]));
    assert_eq!(placed(&d), [("ST-FRANKFURT", vec![(0, 2)])]);
    // Farthest first.
    let e = engine_on(
        prioritised(),
        &fill_rules("  fill by distance desc\n"),
        &stock,
    );
    let d = e.quote(&order(vec![line("A", 2, &[])]));
    assert_eq!(placed(&d), [("ST-HAMBURG", vec![(0, 2)])]);
    // The most stock first, at any priority: the DC.
    let e = engine_on(
        prioritised(),
        &fill_rules("  fill by atp desc\n"),
        &FILL_STOCK,
    );
    let d = e.quote(&order(vec![line("A", 2, &[])]));
    assert_eq!(placed(&d), [("DC-KASSEL", vec![(0, 2)])]);
}

#[test]
fn fill_stops_at_the_split_limit_and_hands_the_rest_to_the_fallback() {
    let limited = engine_on(
        prioritised(),
        &fill_rules("  fill by priority, then distance\n  split at most 2\n"),
        &FILL_STOCK,
    );
    let d = limited.quote(&order(vec![line("A", 7, &[])]));
    assert_eq!(d.status, Status::Partial);
    assert_eq!(
        placed_sorted(&d),
        [("ST-FRANKFURT", vec![(0, 2)]), ("ST-HAMBURG", vec![(0, 2)])]
    );
    assert_eq!(reasons(&d), [(0, 3, "split_limit")]);
    let rules = "strategy \"fill\" {\n  candidates dcs, stores\n  fill by priority, then distance\n  split at most 2\n  fallback \"vendor\"\n}\nstrategy \"vendor\" {\n  candidates dropship\n}\n";
    let e = engine_on(prioritised(), rules, &FILL_STOCK);
    let d = e.quote(&order(vec![line("A", 7, &[])]));
    assert_eq!(d.status, Status::Sourced);
    assert_eq!(
        placed_sorted(&d),
        [
            ("ST-FRANKFURT", vec![(0, 2)]),
            ("ST-HAMBURG", vec![(0, 2)]),
            ("VD-STUTTGART", vec![(0, 3)]),
        ]
    );
}

#[test]
fn fill_with_all_or_nothing_places_everything_or_nothing() {
    let e = engine_on(
        prioritised(),
        &fill_rules("  fill by priority, then distance\n  split at most 2\n  all or nothing\n"),
        &FILL_STOCK,
    );
    // Frankfurt gives 2; no one location holds the 6 left: nothing ships.
    let d = e.quote(&order(vec![line("A", 8, &[])]));
    assert_eq!(d.status, Status::Unsourced);
    assert!(d.shipments.is_empty());
    assert_eq!(reasons(&d), [(0, 8, "split_limit")]);
    // The last location the limit allows must take all that is left: Frankfurt gives 2,
    // then Hamburg (2 of the 4 left) is passed over for the DC.
    let d = e.quote(&order(vec![line("A", 6, &[])]));
    assert_eq!(d.status, Status::Sourced);
    assert_eq!(
        placed_sorted(&d),
        [("DC-KASSEL", vec![(0, 4)]), ("ST-FRANKFURT", vec![(0, 2)])]
    );
    // `ship complete`: the first location in the order that holds the whole order.
    let e = engine_on(
        prioritised(),
        &fill_rules("  fill by priority\n  ship complete\n"),
        &FILL_STOCK,
    );
    let d = e.quote(&order(vec![line("A", 3, &[])]));
    assert_eq!(placed(&d), [("DC-KASSEL", vec![(0, 3)])]);
}

#[test]
fn fill_ships_kits_whole_and_packs_in_whole_packs() {
    let e = engine_on(
        prioritised(),
        &fill_rules("  fill by priority, then distance\n"),
        &[
            (1, "A", 5),
            (1, "C", 5),
            (0, "A", 5),
            (0, "B", 5),
            (0, "P", 10),
            (1, "P", 3),
        ],
    );
    // The kit (A + B) is whole only at the DC, though Frankfurt comes first and holds A;
    // the loose line C comes from Frankfurt.
    let mut a = line("A", 1, &[]);
    a.group = Some("outfit".into());
    let mut b = line("B", 1, &[]);
    b.group = Some("outfit".into());
    let d = e.quote(&order(vec![a, b, line("C", 1, &[])]));
    assert_eq!(d.status, Status::Sourced);
    assert_eq!(
        placed_sorted(&d),
        [
            ("DC-KASSEL", vec![(0, 1), (1, 1)]),
            ("ST-FRANKFURT", vec![(2, 1)]),
        ]
    );
    // Packs of 2: Frankfurt's 3 units are one whole pack; the DC ships the other pack.
    let mut p = line("P", 4, &[]);
    p.pack_size = Some(2);
    let d = e.quote(&order(vec![p]));
    assert_eq!(d.status, Status::Sourced);
    assert_eq!(
        placed_sorted(&d),
        [("DC-KASSEL", vec![(0, 2)]), ("ST-FRANKFURT", vec![(0, 2)])]
    );
}

#[test]
fn fill_says_how_it_ranks_in_explanations() {
    let e = engine_on(
        prioritised(),
        &fill_rules("  fill by priority, then distance\n"),
        &FILL_STOCK,
    );
    let rules = e.rules().expect("rules");
    let r = rules.ranking("fill").expect("ranking");
    assert_eq!(r.criteria, ["filled by priority", "distance"]);
    assert_eq!(r.then, ["priority", "id"]);
}

/// The walk works out how many units a store needs by trying counts no store holds: a
/// condition that divides by zero at one of them must not fail the order.
#[test]
fn a_stock_floor_tried_at_counts_no_store_holds_fails_nothing() {
    let rules = r#"
strategy "s" {
  candidates stores, dcs
  exclude store when line.qty / (atp - 1) > 1 reason "thin"
  prefer stores
  score cost
}
"#;
    let e = engine(rules, &[(0, "A", 5), (1, "A", 4), (2, "A", 1)]);
    let d = e.quote(&order(vec![line("A", 2, &[])]));
    assert_eq!(d.status, Status::Sourced, "{d:?}");
    assert_eq!(placed(&d), [("ST-FRANKFURT", vec![(0, 2)])]);
    // A store at 2 units drops the line (2 / 1 > 1): the DC ships.
    let e = engine(rules, &[(0, "A", 5), (1, "A", 2)]);
    let d = e.quote(&order(vec![line("A", 2, &[])]));
    assert_eq!(placed(&d), [("DC-KASSEL", vec![(0, 2)])]);
}

/// A surcharge on orders that travel more than a day, written as a script of `days`: every
/// store (one processing day, then transit) pays it, the DC (same-day processing) not
/// always. A walk over stores may count it for every store before looking at one; a walk
/// over DCs may not.
#[test]
fn a_walk_over_one_kind_counts_what_that_kind_scores_at_least() {
    let rules = r#"
strategy "s" {
  candidates all
  score cost + surcharge(days)
}
script surcharge(transit: days) -> money {
  if transit > 1 { 2.0 } else { 0.0 }
}
"#;
    let net = network();
    let (set, diags) = sourcing_dsl::compile_source("test.rules", rules);
    assert!(!diags.has_errors(), "{}", diags.render());
    let compiled = Rules::compile(set.expect("rule set"), &net).expect("compiles");
    let o = order(vec![line("A", 1, &[])]);
    let facts = super::expr::OrderFacts::new(&o);
    let s = &compiled.strategies[0];
    let bound = compiled.objective_bound(s, &facts).expect("a bound");
    // Over the network a shipment may take one day: no surcharge at least.
    assert_eq!(bound.offset, 0.0);
    let extra = compiled.kind_offsets(s, &facts, &bound);
    let [dc, store, vendor] = extra;
    assert_eq!(dc, 0.0, "a DC ships in one day");
    assert_eq!(store, 2.0, "a store takes two days at least");
    assert_eq!(vendor, 2.0, "the vendor takes three days at least");
    // The decision is the full scan's: the Frankfurt store next door pays the surcharge and
    // loses to the Kassel DC.
    let e = engine(rules, &[(0, "A", 5), (1, "A", 5)]);
    let d = e.quote(&o);
    assert_eq!(placed(&d), [("DC-KASSEL", vec![(0, 1)])]);
}

/// The nearest holder of each SKU, one shipment each, is more than the split limit allows:
/// the search widens to the farther holders until they run out, and then plans with what
/// it found (a farther store holding two of the SKUs) instead of scanning every holder.
#[test]
fn a_widened_search_plans_with_the_last_holders_it_found() {
    let rules = r#"
strategy "s" {
  candidates stores
  score cost
  split at most 2
}
"#;
    let mut net = network();
    for (id, lat) in [("ST-F1", 50.111), ("ST-F2", 50.112), ("ST-F3", 50.113)] {
        net.locations
            .push(loc(id, LocationKind::Store, lat, 8.68, 3.0, 1, &[]));
    }
    // Frankfurt (1) holds nothing; ST-F1..3 (4..6) one SKU each, Hamburg (2) two of them.
    let e = engine_on(
        net,
        rules,
        &[
            (4, "A", 5),
            (5, "B", 5),
            (6, "C", 5),
            (2, "A", 5),
            (2, "B", 5),
        ],
    );
    let o = order(vec![
        line("A", 1, &[]),
        line("B", 1, &[]),
        line("C", 1, &[]),
    ]);
    let (d, why) = e.route_explained(&o);
    assert_eq!(
        placed(&d),
        [
            ("ST-F3", vec![(2, 1)]),
            ("ST-HAMBURG", vec![(0, 1), (1, 1)])
        ]
    );
    let searched: Vec<(&str, Option<&str>)> = why
        .search
        .iter()
        .map(|s| (s.search, s.why.as_deref()))
        .collect();
    assert_eq!(searched, [("bounded", None)]);
}

/// A plan reads a store's count only up to the stock floor when every exclusion that reads
/// the stock of that kind falls with it and reads nothing of the location.
#[test]
fn reads_stop_at_the_stock_floor_only_for_exclusions_that_fall_with_the_stock() {
    let floored = |clauses: &str| -> [bool; 3] {
        let rules = format!(
            "const keep = 2\nstrategy \"s\" {{\n  candidates all\n{clauses}  score cost\n}}\n"
        );
        let (set, diags) = sourcing_dsl::compile_source("test.rules", &rules);
        assert!(!diags.has_errors(), "{}", diags.render());
        let set = set.expect("rule set");
        let s = &set.strategies[0];
        super::bound::floored_reads(&set, s)
    };
    // [dc, store, dropship]: a DC's count is not read exactly at all here.
    assert_eq!(
        floored("  exclude store when atp - line.qty < keep reason \"keep\"\n"),
        [false, true, false]
    );
    assert_eq!(
        floored("  exclude location when stock_cover < 2 or line.qty > 3 reason \"thin\"\n"),
        [true, true, true]
    );
    assert_eq!(
        floored("  exclude store when not (atp >= 2 * line.qty) reason \"half\"\n"),
        [false, true, false]
    );
    // Rises with the stock, reads the location, or compares for equality: exact.
    for clause in [
        "  exclude store when atp > 10 reason \"full\"\n",
        "  exclude store when atp < location.priority reason \"prio\"\n",
        "  exclude store when atp == 3 reason \"three\"\n",
        "  exclude store when atp * line.qty < 4 reason \"product\"\n",
    ] {
        assert_eq!(floored(clause), [false; 3], "{clause}");
    }
    // A score that reads the stock reads it exactly for every kind.
    let rules = "strategy \"s\" {\n  candidates all\n  exclude store when atp < 3 reason \"k\"\n  score cost + 0.01 EUR * atp\n}\n";
    let (set, diags) = sourcing_dsl::compile_source("test.rules", rules);
    assert!(!diags.has_errors(), "{}", diags.render());
    let set = set.expect("rule set");
    assert_eq!(
        super::bound::floored_reads(&set, &set.strategies[0]),
        [false; 3]
    );
}

/// An exclusion that reads only the line and location facts is told for a whole kind of
/// location by one location of each distinct set of the facts it reads.
#[test]
fn location_profiles_keep_one_location_per_distinct_set_of_facts_read() {
    let rules = r#"
strategy "s" {
  candidates all
  exclude location when line.tags has "hazmat" and not location.tags has "hazmat" reason "hazmat"
  exclude store when location.id == "ST-HAMBURG" and line.qty > 1 reason "north"
  exclude store when atp - line.qty < 2 reason "keep"
  exclude location when distance > 500 km reason "far"
  score cost
}
"#;
    let mut net = network();
    let (set, diags) = sourcing_dsl::compile_source("test.rules", rules);
    assert!(!diags.has_errors(), "{}", diags.render());
    let set = set.expect("rule set");
    let x = &set.strategies[0].exclusions;
    // DC 0 (hazmat), stores 1 and 2 (both tagged `pickup`), vendor 3.
    assert_eq!(
        super::bound::location_profiles(&x[0], &net),
        Some([vec![0], vec![1], vec![3]])
    );
    assert_eq!(
        super::bound::location_profiles(&x[1], &net),
        Some([vec![0], vec![1, 2], vec![3]])
    );
    assert_eq!(
        super::bound::location_profiles(&x[2], &net),
        None,
        "reads the stock"
    );
    assert_eq!(
        super::bound::location_profiles(&x[3], &net),
        None,
        "reads the pair"
    );
    // Too many distinct ids among the stores: none kept.
    for i in 0..20 {
        net.locations.push(loc(
            &format!("ST-X{i}"),
            LocationKind::Store,
            50.0,
            8.0,
            3.0,
            1,
            &[],
        ));
    }
    assert_eq!(super::bound::location_profiles(&x[1], &net), None);

    // Hazardous goods and no store equipped for them: the Kassel DC ships, as before.
    let e = engine(rules, &[(0, "OIL", 9), (1, "OIL", 9), (2, "OIL", 9)]);
    let d = e.quote(&order(vec![line("OIL", 1, &["hazmat"])]));
    assert_eq!(placed(&d), [("DC-KASSEL", vec![(0, 1)])]);
}
