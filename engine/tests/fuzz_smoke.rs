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

#[test]
fn network_json() {
    smoke(fuzz::network_json, &[example("network.json")], ROUNDS, 1);
}

#[test]
fn inventory_csv() {
    smoke(fuzz::inventory_csv, &[example("inventory.csv")], ROUNDS, 2);
}

#[test]
fn inventory_json_records() {
    smoke(
        fuzz::inventory_json,
        &[fuzz_seed("inventory.json")],
        ROUNDS,
        3,
    );
}

#[test]
fn orders_jsonl() {
    smoke(fuzz::orders_jsonl, &[example("orders.jsonl")], ROUNDS, 4);
}

#[test]
fn stock_events() {
    smoke(fuzz::stock_events, &[fuzz_seed("events.jsonl")], ROUNDS, 5);
}

#[test]
fn rules_route() {
    smoke(fuzz::rules_route, &rule_files(), ROUNDS / 3, 6);
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
