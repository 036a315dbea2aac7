//! One case per fulfilment behaviour (docs/operations.md), each decision checked in full:
//! locations, quantities, services, days, costs, status and reasons, as snapshots.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

use sourcing_engine::{load, Decision, Engine, RouteOptions, RulesSource, ValidOrder};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The example network (with a tweak to its JSON text) and stock, routing with a rule file.
fn engine(rules: Option<&str>, tweak: impl Fn(String) -> String) -> Engine {
    let text = std::fs::read_to_string(root().join("data/example/network.json")).unwrap();
    let network = load::parse_network("network.json", &tweak(text)).unwrap();
    let stock = load::load_inventory(&root().join("data/example/inventory.csv"), &network).unwrap();
    let engine = Engine::new(network, &stock);
    if let Some(file) = rules {
        let src = std::fs::read_to_string(root().join("rules").join(file)).unwrap();
        engine
            .load_rules(RulesSource::text(file, src))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    engine
}

fn order(engine: &Engine, json: &str) -> ValidOrder {
    engine.parse_order(json).unwrap()
}

/// Routes an order, consuming its units.
fn route(engine: &Engine, order: &ValidOrder) -> Decision {
    engine.route(order, &RouteOptions::consume()).decision
}

fn pretty(d: &Decision) -> String {
    serde_json::to_string_pretty(d).unwrap()
}

const HAMBURG: &str = r#""ship_to":{"lat":53.57532,"lon":10.01534,"country":"DE"}"#;
const MUNICH_PICKUP: &str = r#""fulfillment":"pickup","pickup_location":"ST-MUNICH","ship_to":{"lat":48.13743,"lon":11.57549,"country":"DE"}"#;

#[test]
fn ship_from_store() {
    let e = engine(Some("ship-from-store-first.rules"), |t| t);
    let o = order(
        &e,
        &format!(
            r#"{{"id":"SFS-1","placed_at":"2026-11-23T09:00:00Z",{HAMBURG},"lines":[{{"sku":"SNEAKER-42","qty":1,"unit_weight_kg":1.1}}]}}"#
        ),
    );
    insta::assert_snapshot!(pretty(&route(&e, &o)));
}

#[test]
fn ship_from_store_protects_shelf_stock() {
    let e = engine(Some("ship-from-store-first.rules"), |t| t);
    let o = order(
        &e,
        &format!(
            r#"{{"id":"SFS-2",{HAMBURG},"lines":[{{"sku":"TSHIRT-M","qty":2,"unit_weight_kg":0.25}}]}}"#
        ),
    );
    insta::assert_snapshot!(pretty(&route(&e, &o)));
}

#[test]
fn click_and_collect_counter_then_transfer() {
    let e = engine(Some("click-and-collect.rules"), |t| t);
    let o = order(
        &e,
        &format!(
            r#"{{"id":"CC-1",{MUNICH_PICKUP},"lines":[{{"sku":"JEANS-32","qty":1,"unit_weight_kg":0.7}},{{"sku":"TSHIRT-M","qty":1,"unit_weight_kg":0.25}}]}}"#
        ),
    );
    insta::assert_snapshot!(pretty(&route(&e, &o)));
}

#[test]
fn dropship_for_what_only_a_vendor_carries() {
    let e = engine(Some("dropship-fallback.rules"), |t| t);
    let o = order(
        &e,
        &format!(
            r#"{{"id":"DS-1",{HAMBURG},"lines":[{{"sku":"SNEAKER-42","qty":20,"unit_weight_kg":1.1}}]}}"#
        ),
    );
    insta::assert_snapshot!(pretty(&route(&e, &o)));
}

#[test]
fn capacity_fills_and_the_next_order_goes_elsewhere() {
    // The vendor, cheapest for this SKU, may send one parcel a day: the second order of the
    // day goes to the next cheapest location, and a third on the next day to the vendor.
    let e = engine(None, |t| {
        t.replace("\"daily_capacity\": 5000", "\"daily_capacity\": 1")
    });
    let line = r#""lines":[{"sku":"SNEAKER-42","qty":1,"unit_weight_kg":1.1}]"#;
    let first = route(
        &e,
        &order(
            &e,
            &format!(r#"{{"id":"CAP-1","placed_at":"2026-11-23T09:00:00Z",{HAMBURG},{line}}}"#),
        ),
    );
    let second = route(
        &e,
        &order(
            &e,
            &format!(r#"{{"id":"CAP-2","placed_at":"2026-11-23T10:00:00Z",{HAMBURG},{line}}}"#),
        ),
    );
    let third = route(
        &e,
        &order(
            &e,
            &format!(r#"{{"id":"CAP-3","placed_at":"2026-11-24T09:00:00Z",{HAMBURG},{line}}}"#),
        ),
    );
    assert_eq!(first.shipments[0].location, "VD-STUTTGART");
    assert_ne!(second.shipments[0].location, "VD-STUTTGART");
    assert_eq!(third.shipments[0].location, "VD-STUTTGART");
    insta::assert_snapshot!(format!("{}\n{}", pretty(&first), pretty(&second)));
}

#[test]
fn promise_required_then_a_late_parcel() {
    let e = engine(Some("promise-first.rules"), |t| t);
    let o = order(
        &e,
        r#"{"id":"PR-1","promise_days":1,"ship_to":{"lat":47.6314,"lon":13.0017},"lines":[{"sku":"LAMP-OIL","qty":1,"unit_weight_kg":1.0},{"sku":"GRILL-XL","qty":1,"unit_weight_kg":22.0}]}"#,
    );
    insta::assert_snapshot!(pretty(&route(&e, &o)));
}

#[test]
fn backorder_lists_the_rest() {
    let e = engine(Some("click-and-collect.rules"), |t| t);
    let o = order(
        &e,
        &format!(
            r#"{{"id":"BO-1",{MUNICH_PICKUP},"lines":[{{"sku":"JEANS-32","qty":1,"unit_weight_kg":0.7}},{{"sku":"GRILL-XL","qty":1,"unit_weight_kg":22.0}}]}}"#
        ),
    );
    insta::assert_snapshot!(pretty(&route(&e, &o)));
}
