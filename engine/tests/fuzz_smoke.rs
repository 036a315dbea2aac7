//! The fuzz entry points (`sourcing_engine::fuzz`) on random bytes and on mutations of
//! the example data and the bundled rule files: a few seconds of what `scripts/fuzz.sh`
//! runs for as long as it is given.
#![allow(clippy::expect_used, reason = "tests fail by panicking")]

#[path = "support/mutate.rs"]
mod mutate;

use mutate::smoke;
use sourcing_engine::fuzz;
use std::path::Path;

/// Mutations per seed (and random inputs) per target.
const ROUNDS: usize = 150;

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("a bundled file is readable")
}

fn example(name: &str) -> Vec<u8> {
    read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../data/example")
            .join(name),
    )
}

fn rule_files() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("rules/ is readable")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    paths.sort();
    paths.iter().map(|p| read(p)).collect()
}

/// A seed kept beside the fuzz targets (`fuzz/seeds/`).
fn fuzz_seed(name: &str) -> Vec<u8> {
    read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/seeds")
            .join(name),
    )
}

/// `seed` and the inputs that once broke `target` (`fuzz/regressions/TARGET/`).
fn with_regressions(target: &str, seed: Vec<u8>) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.expect("an entry").path()).collect())
        .unwrap_or_default();
    found.sort();
    std::iter::once(seed)
        .chain(found.iter().map(|p| read(p)))
        .collect()
}

#[test]
fn network_json() {
    let seeds = with_regressions("network_json", example("network.json"));
    smoke(fuzz::network_json, &seeds, ROUNDS, 1);
}

#[test]
fn inventory_csv() {
    let seeds = with_regressions("inventory_csv", example("inventory.csv"));
    smoke(fuzz::inventory_csv, &seeds, ROUNDS, 2);
}

#[test]
fn inventory_json_records() {
    let seeds = with_regressions("inventory_json", fuzz_seed("inventory.json"));
    smoke(fuzz::inventory_json, &seeds, ROUNDS, 3);
}

#[test]
fn orders_jsonl() {
    let seeds = with_regressions("orders_jsonl", example("orders.jsonl"));
    smoke(fuzz::orders_jsonl, &seeds, ROUNDS, 4);
}

#[test]
fn stock_events() {
    let seeds = with_regressions("stock_events", fuzz_seed("events.jsonl"));
    smoke(fuzz::stock_events, &seeds, ROUNDS, 5);
}

#[test]
fn rules_route() {
    let mut seeds = rule_files();
    seeds.extend(with_regressions("rules_route", Vec::new()));
    smoke(fuzz::rules_route, &seeds, ROUNDS / 3, 6);
}

/// The seeds themselves load: the mutations start from valid files.
#[test]
fn the_seeds_load() {
    use sourcing_engine::load;
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8");
    let network = load::parse_network("network.json", &text(example("network.json")))
        .expect("the example network loads");
    let csv = load::parse_inventory_csv("inventory.csv", &example("inventory.csv"), &network)
        .expect("the example stock loads");
    let json = load::parse_inventory_json(
        "inventory.json",
        &text(fuzz_seed("inventory.json")),
        &network,
    )
    .expect("the JSON stock loads");
    assert_eq!(json, csv, "the JSON seed is the example stock");
    let events = load::parse_events("events.jsonl", &text(fuzz_seed("events.jsonl")), &network)
        .expect("the events load");
    assert_eq!(events.len(), 3);
    let orders = load::check_orders("orders.jsonl", example("orders.jsonl").as_slice(), &network)
        .expect("the example orders load");
    assert!(orders > 0);
}

/// Amounts so large that a shipment's cost overflowed to infinity made every plan look
/// impossible: orders came out unsourced for `insufficient_stock` with the stock on the
/// shelf. Such amounts are rejected where they are written; the largest accepted route.
#[test]
fn money_and_weights_too_large_for_a_finite_cost_are_rejected() {
    use sourcing_engine::load;
    let network = |money: &str| {
        format!(
            r#"{{"locations": [{{"id": "A", "kind": "dc", "lat": 10, "lon": 10, "handling_cost": {money}}},
{{"id": "S", "kind": "store", "lat": 11, "lon": 10, "handling_cost": {money}}}],
"services": [{{"id": "g", "base_cost": {money}, "cost_per_km": {money}, "cost_per_kg": {money}, "km_per_day": 1}}]}}"#
        )
    };
    fuzz::network_json(network("1e9").as_bytes());
    let errors = load::parse_network("network.json", &network("1e308"))
        .expect_err("1e308 is too much money")
        .to_string();
    assert!(
        errors.starts_with(
            "network.json:1:81: locations[0].handling_cost: must be at most 1000000000, found `1e308`\n"
        ),
        "{errors}"
    );
    assert!(
        errors.contains("network.json:3:39: services[0].base_cost: must be at most 1000000000"),
        "{errors}"
    );
    let order = |kg: &str| {
        format!(
            r#"{{"id": "O", "ship_to": {{"lat": 50, "lon": 9}}, "lines": [{{"sku": "TSHIRT-M", "qty": 4294967295, "unit_weight_kg": {kg}, "unit_price": 1e9}}]}}"#
        )
    };
    fuzz::orders_jsonl(order("1e6").as_bytes());
    let example = fuzz_network();
    let errors = load::parse_order("orders.jsonl", 7, &order("1e7"), &example)
        .expect_err("a unit of ten thousand tonnes")
        .to_string();
    assert_eq!(
        errors.lines().next(),
        Some("orders.jsonl:7:114: lines[0].unit_weight_kg: must be at most 1000000, found `1e7`")
    );
}

fn fuzz_network() -> sourcing_engine::Network {
    sourcing_engine::load::parse_network("network.json", fuzz::EXAMPLE_NETWORK)
        .expect("the example network loads")
}
