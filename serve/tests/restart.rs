//! A restart of the real service over its ledger keeps what the day's capacity already
//! counted: shipments of routed orders and confirmed reservations still fill their
//! locations after the stock is rebuilt from the ledger.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::{example, order, Server};

/// The example network with a daily capacity of one shipment at every location, the
/// example inventory, in a new folder.
fn one_shipment_a_day() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut network: Value =
        serde_json::from_str(&std::fs::read_to_string(example("network.json")).unwrap()).unwrap();
    for l in network["locations"].as_array_mut().unwrap() {
        l["daily_capacity"] = 1.into();
    }
    std::fs::write(dir.path().join("network.json"), network.to_string()).unwrap();
    std::fs::copy(example("inventory.csv"), dir.path().join("inventory.csv")).unwrap();
    dir
}

/// The locations a decision ships from.
fn locations(decision: &Value) -> Vec<String> {
    decision["shipments"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|s| s["location"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn quote(server: &Server, id: &str) -> Vec<String> {
    let r = server.call("POST", "/v1/quote", &order(id, "TSHIRT-M", 1));
    assert_eq!(r.status, 200, "{}", r.body);
    locations(&r.json())
}

#[test]
fn capacity_used_before_a_restart_still_counts_after_it() {
    let server = Server::start_in(one_shipment_a_day());
    let first = quote(&server, "Q-1");
    assert_eq!(first.len(), 1, "one shipment: {first:?}");

    // Routed: its location has sent its one shipment of the day.
    let r = server.call("POST", "/v1/route", &order("O-1", "TSHIRT-M", 1));
    assert_eq!(r.status, 200, "{}", r.body);
    let routed = locations(&r.json());
    assert_eq!(routed, first, "the route ships where the quote said");
    let second = quote(&server, "Q-2");
    assert_eq!(second.len(), 1, "another location has room: {second:?}");
    assert!(!second.contains(&routed[0]), "{second:?}");

    // Reserved and confirmed: that location is full for the day too.
    let r = server.call(
        "POST",
        "/v1/reservations",
        &format!(
            r#"{{"order": {}, "ttl_s": 600}}"#,
            order("O-2", "TSHIRT-M", 1)
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let reserved = r.json();
    let held = locations(&reserved["decision"]);
    assert_eq!(held, second, "{reserved}");
    let id = reserved["id"].as_str().unwrap();
    let r = server.call("POST", &format!("/v1/reservations/{id}/confirm"), "");
    assert_eq!(r.status, 200, "{}", r.body);
    let before = quote(&server, "Q-3");
    assert!(
        !before.contains(&routed[0]) && !before.contains(&held[0]),
        "{before:?}"
    );

    // The same ledger after a restart: the same two locations are still full today.
    let server = Server::start_in(server.stop());
    let after = quote(&server, "Q-4");
    assert_eq!(
        after, before,
        "the day's capacity came back from the ledger"
    );

    // The day's entries carry the order's placed_at the count was made for.
    let r = server.call("GET", "/v1/ledger?after=0&limit=100", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let entries = r.json()["entries"].as_array().cloned().unwrap();
    assert!(entries
        .iter()
        .filter(|e| e["kind"] == "route" || e["kind"] == "confirm")
        .all(|e| e["placed_at"] == "2026-11-23T09:00:00Z"));
}
