//! Periodic snapshots: a start from the newest snapshot and the entries after it gives
//! exactly the stock, the held reservations and the day's capacity used that a replay of
//! every entry gives and that the running process had.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use sourcing_engine::MovementKind;
use sourcing_serve::core::{fingerprint, Core};
use sourcing_serve::engine_port::{Change, Mode, Movement, ReservationState, RouteOptions};
use sourcing_serve::ledger::sqlite::{SnapshotPolicy, SqliteLedger};
use sourcing_serve::ledger::{audit, now_unix, rebuild, Ledger};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use support::{example, order};

/// No snapshot but the ones a test asks for.
const BY_HAND: SnapshotPolicy = SnapshotPolicy {
    entries: 0,
    every: Duration::ZERO,
};

fn open(
    ledger: &Arc<SqliteLedger>,
    network: sourcing_engine::Network,
    inventory: &Path,
) -> Arc<Core> {
    let shared: Arc<dyn Ledger> = Arc::clone(ledger) as Arc<dyn Ledger>;
    sourcing_serve::open(
        network,
        shared,
        |n| sourcing_engine::load::load_inventory(inventory, n).map_err(|e| e.to_string()),
        None,
    )
    .expect("opens")
    .core
}

fn key(path: &str, id: &str, body: &str) -> (String, String) {
    (id.to_string(), fingerprint("POST", path, body.as_bytes()))
}

async fn reserve(core: &Core, text: &str, ttl_s: u64) -> String {
    let o = core.port.parse_order("order", text).unwrap();
    let id = o.id.clone();
    let a = core
        .reserve(o, ttl_s, key("/v1/reservations", &id, text))
        .await
        .unwrap();
    assert_eq!(a.status, 201, "{}", a.body);
    let v: Value = serde_json::from_str(&a.body).unwrap();
    v["id"].as_str().unwrap().to_string()
}

/// Routes, reserves, confirms and releases the orders, then moves some stock.
async fn mix(core: &Core, orders: &[String], tag: &str) {
    for (i, text) in orders.iter().enumerate() {
        let mut o: Value = serde_json::from_str(text).unwrap();
        o["id"] = format!("{tag}-{i}").into();
        let text = o.to_string();
        match i % 4 {
            0 => {
                let o = core.port.parse_order("order", &text).unwrap();
                let id = o.id.clone();
                core.route(o, key("/v1/route", &id, &text)).await.unwrap();
            }
            1 => {
                reserve(core, &text, 3600).await;
            }
            n => {
                let id = reserve(core, &text, 3600).await;
                let to = if n == 2 {
                    ReservationState::Confirmed
                } else {
                    ReservationState::Released
                };
                core.settle(&id, to, None).await.unwrap();
            }
        }
    }
    for (location, sku, change) in [
        ("ST-HAMBURG", "TSHIRT-M", Change::Delta(3)),
        ("ST-HAMBURG", "TSHIRT-M", Change::Delta(-1)),
        ("DC-LEIPZIG", "SOFA-3", Change::Delta(2)),
    ] {
        let m = Movement {
            location: location.into(),
            sku: sku.into(),
            kind: MovementKind::Adjustment,
            change,
        };
        core.movement(m, "adjustment".into(), None, None)
            .await
            .unwrap();
    }
}

fn memory(
    core: &Core,
) -> (
    Vec<(String, String, sourcing_serve::engine_port::StockFigures)>,
    Vec<String>,
) {
    let held = core
        .port
        .reservations()
        .iter()
        .filter(|r| r.state == ReservationState::Held)
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    (core.port.all_figures(), held)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_from_the_newest_snapshot_gives_what_a_full_replay_gives() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(SqliteLedger::open_with(&dir.path().join("ledger.db"), BY_HAND).unwrap());
    let inventory = example("inventory.csv");
    let core = open(&ledger, support::network(), &inventory);
    let orders = support::orders();
    let third = orders.len() / 3;

    mix(&core, &orders[..third], "A").await;
    let first = ledger.snapshot().unwrap().expect("a snapshot");
    assert_eq!(first, core.next_seq() - 1, "at the last entry");
    assert_eq!(ledger.snapshot().unwrap(), None, "nothing came since");
    mix(&core, &orders[third..2 * third], "B").await;
    // One reservation runs out before the second snapshot, one after it.
    reserve(&core, &order("EXP-1", "JEANS-32", 1), 1).await;
    assert_eq!(core.expire_due(now_unix() + 5), 1);
    let second = ledger.snapshot().unwrap().expect("a second snapshot");
    assert!(second > first);
    mix(&core, &orders[2 * third..], "C").await;
    reserve(&core, &order("EXP-2", "JEANS-32", 1), 1).await;
    assert_eq!(core.expire_due(now_unix() + 5), 1);

    let running = memory(&core);
    let next = core.next_seq();
    core.shutdown();
    drop(core);

    let latest = ledger.load_latest().unwrap();
    let all = ledger.load().unwrap();
    assert_eq!(latest.snapshot_seq, second);
    assert_eq!(all.snapshot_seq, 0);
    assert_eq!(
        latest.entries.len() as u64,
        next - 1 - second,
        "only the tail"
    );
    assert_eq!(all.entries.len() as u64, next - 1);
    assert!(
        latest
            .shipped
            .iter()
            .all(|e| e.seq <= second && (e.kind == "route" || e.kind == "confirm")),
        "the shipments before the snapshot"
    );
    assert_eq!(
        latest.shipped.len(),
        all.entries
            .iter()
            .filter(|e| e.seq <= second && (e.kind == "route" || e.kind == "confirm"))
            .count()
    );
    assert_eq!(
        rebuild(&latest),
        rebuild(&all),
        "snapshot + tail = every entry"
    );
    assert_eq!(audit(&all, None), Vec::<String>::new());

    let again = open(&ledger, support::network(), &inventory);
    let (figures, held) = memory(&again);
    assert_eq!(figures, running.0, "the stock");
    // A decision's floats come back as JSON reads them (the parser may land one unit in
    // the last place off the number written): what the running process had, read once.
    let read_once: Vec<String> = running
        .1
        .iter()
        .map(|j| {
            serde_json::to_string(
                &serde_json::from_str::<sourcing_serve::engine_port::Reservation>(j).unwrap(),
            )
            .unwrap()
        })
        .collect();
    assert_eq!(held.len(), read_once.len(), "the held reservations");
    for (a, b) in held.iter().zip(&read_once) {
        assert_eq!(a, b, "a held reservation");
    }
    assert_eq!(again.next_seq(), next);
    again.shutdown();
}

/// The example network, one shipment a day at every location, written to `dir`.
fn one_shipment_a_day(dir: &Path) -> sourcing_engine::Network {
    let mut network: Value =
        serde_json::from_str(&std::fs::read_to_string(example("network.json")).unwrap()).unwrap();
    for l in network["locations"].as_array_mut().unwrap() {
        l["daily_capacity"] = 1.into();
    }
    let path = dir.join("network.json");
    std::fs::write(&path, network.to_string()).unwrap();
    sourcing_engine::load::load_network(&path).unwrap()
}

/// Where a quote would ship one T-shirt from.
fn quote(core: &Core, id: &str) -> Vec<String> {
    let o = core
        .port
        .parse_order("order", &order(id, "TSHIRT-M", 1))
        .unwrap();
    let out = core.port.route(
        &o,
        &RouteOptions {
            mode: Mode::Quote,
            explain: false,
        },
    );
    let d: Value = serde_json::from_str(out.decision.get()).unwrap();
    d["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["location"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_used_before_and_after_a_snapshot_both_count_after_a_start() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(SqliteLedger::open_with(&dir.path().join("ledger.db"), BY_HAND).unwrap());
    let inventory = example("inventory.csv");
    let core = open(&ledger, one_shipment_a_day(dir.path()), &inventory);

    // Routed before the snapshot: its location's one shipment of the day is used.
    let text = order("O-1", "TSHIRT-M", 1);
    let o = core.port.parse_order("order", &text).unwrap();
    let r = core.route(o, key("/v1/route", "O-1", &text)).await.unwrap();
    let routed: Value = serde_json::from_str(&r.body).unwrap();
    let routed = routed["shipments"][0]["location"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(ledger.snapshot().unwrap().is_some());

    // Reserved and confirmed after it: another location is full for the day.
    let id = reserve(&core, &order("O-2", "TSHIRT-M", 1), 600).await;
    core.settle(&id, ReservationState::Confirmed, None)
        .await
        .unwrap();
    let held = core.port.reservation(&id).unwrap().decision.shipments[0]
        .location
        .clone();
    assert_ne!(held, routed);
    let before = quote(&core, "Q-1");
    assert!(
        !before.contains(&routed) && !before.contains(&held),
        "{before:?}"
    );
    core.shutdown();
    drop(core);

    let latest = ledger.load_latest().unwrap();
    assert!(latest.snapshot_seq > 0 && !latest.shipped.is_empty());
    let again = open(&ledger, one_shipment_a_day(dir.path()), &inventory);
    assert_eq!(
        quote(&again, "Q-2"),
        before,
        "both days' shipments counted again"
    );
    again.shutdown();
}

#[test]
fn a_policy_is_due_by_count_or_by_time_once_an_entry_came() {
    let p = SnapshotPolicy {
        entries: 10,
        every: Duration::from_secs(60),
    };
    assert!(!p.due(0, Duration::from_secs(3600)));
    assert!(!p.due(9, Duration::from_secs(59)));
    assert!(p.due(10, Duration::ZERO));
    assert!(p.due(1, Duration::from_secs(60)));
    assert!(!BY_HAND.due(1_000_000, Duration::from_secs(1_000_000)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_snapshots_by_itself_once_enough_entries_came() {
    let dir = tempfile::tempdir().unwrap();
    let policy = SnapshotPolicy {
        entries: 4,
        every: Duration::ZERO,
    };
    let ledger = Arc::new(SqliteLedger::open_with(&dir.path().join("ledger.db"), policy).unwrap());
    let core = open(&ledger, support::network(), &example("inventory.csv"));
    assert_eq!(ledger.load_latest().unwrap().snapshot_seq, 0);
    let orders = support::orders();
    mix(&core, &orders[..8], "A").await;
    let head = core.next_seq() - 1;
    assert!(head >= 4);
    // The checkpointer looks every 100 ms (and is woken by the commit that makes it due).
    let mut at = 0;
    for _ in 0..50 {
        at = ledger.load_latest().unwrap().snapshot_seq;
        if at > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(at > 0 && at <= head, "a snapshot at {at}, head {head}");
    let latest = ledger.load_latest().unwrap();
    assert_eq!(rebuild(&latest), rebuild(&ledger.load().unwrap()));
    core.shutdown();
}
