//! The engine's front door as an OMS links it: building with rules, orders validated
//! before routing, one route call with options, reservations as data, stock movements.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

use sourcing_engine::{
    load, BuildError, Change, Engine, Movement, MovementError, MovementErrorKind, MovementKind,
    Order, ReservationError, ReservationErrorKind, ReservationState, RouteOptions, RuleSeverity,
    RulesError, RulesErrorKind, RulesSource, RulesetHash, Status, StockFigures,
};
use std::time::Duration;

const NETWORK: &str = r#"{"currency": "EUR",
  "locations": [
    {"id": "DC-KASSEL", "kind": "dc", "lat": 51.31667, "lon": 9.5, "handling_cost": 1.10},
    {"id": "DC-LEIPZIG", "kind": "dc", "lat": 51.33962, "lon": 12.37129, "handling_cost": 1.20},
    {"id": "ST-HAMBURG", "kind": "store", "lat": 53.55073, "lon": 9.99302,
     "handling_cost": 3.40, "processing_days": 1}],
  "services": [{"id": "ground", "base_cost": 4.20, "cost_per_km": 0.0015,
     "cost_per_kg": 0.35, "km_per_day": 450}]}"#;

const INVENTORY: &[u8] = b"location,sku,on_hand,reserved,safety_stock
DC-KASSEL,TSHIRT-M,10,2,1
DC-LEIPZIG,TSHIRT-M,6,0,0
DC-KASSEL,JEANS-32,3,0,0
ST-HAMBURG,TSHIRT-M,5,0,0
";

fn records(inventory: &[u8]) -> (sourcing_engine::Network, Vec<load::InventoryRecord>) {
    let network = load::parse_network("network.json", NETWORK).unwrap();
    let rows = load::parse_inventory_csv("inventory.csv", inventory, &network).unwrap();
    (network, rows)
}

fn engine() -> Engine {
    let (network, rows) = records(INVENTORY);
    Engine::builder()
        .network(network)
        .inventory(rows)
        .build()
        .unwrap()
}

fn order(engine: &Engine, id: &str, lines: &str) -> sourcing_engine::ValidOrder {
    engine
        .parse_order(&format!(
            r#"{{"id": "{id}", "placed_at": "2026-11-23T09:00:00Z",
                "ship_to": {{"lat": 50.11092, "lon": 8.68213}}, "lines": [{lines}]}}"#
        ))
        .unwrap()
}

fn figures(engine: &Engine, location: &str, sku: &str) -> (u64, u64, u64, u64) {
    let f = engine.figures(location, sku).unwrap();
    (f.on_hand, f.reserved, f.safety_stock, f.atp)
}

const TSHIRT: &str = r#"{"sku": "TSHIRT-M", "qty": 9, "unit_weight_kg": 0.25}"#;

#[test]
fn figures_are_kept_apart_and_atp_is_derived() {
    let e = engine();
    assert_eq!(figures(&e, "DC-KASSEL", "TSHIRT-M"), (10, 2, 1, 7));
    assert_eq!(
        e.figures("DC-KASSEL", "TSHIRT-M"),
        Some(StockFigures::new(10, 2, 1))
    );
    // Unknown pairs and locations are `None`, never a silent 0.
    assert_eq!(e.figures("ST-HAMBURG", "JEANS-32"), None);
    assert_eq!(e.figures("DC-NOWHERE", "TSHIRT-M"), None);
    let across: Vec<(String, u64)> = e
        .availability("TSHIRT-M")
        .into_iter()
        .map(|(id, f)| (e.network().get(id).unwrap().id.clone(), f.atp))
        .collect();
    assert_eq!(
        across,
        [
            ("DC-KASSEL".to_string(), 7),
            ("DC-LEIPZIG".to_string(), 6),
            ("ST-HAMBURG".to_string(), 5)
        ]
    );
    assert!(e.availability("NOPE").is_empty());
    let id = e.network().id_of("ST-HAMBURG").unwrap();
    assert_eq!(e.network().get(id).unwrap().id, "ST-HAMBURG");
}

#[test]
fn takes_are_exactly_what_left_the_stock_and_undo_puts_it_back() {
    let e = engine();
    let before: Vec<_> = e.availability("TSHIRT-M");
    let o = order(&e, "O-1", TSHIRT);
    let out = e.route(&o, &RouteOptions::consume());
    assert_eq!(out.decision.status, Status::Sourced);
    let after: Vec<_> = e.availability("TSHIRT-M");
    let mut taken = 0;
    for ((id, b), (_, a)) in before.iter().zip(&after) {
        let took: u64 = out
            .takes()
            .iter()
            .filter(|t| t.location == *id && t.sku == "TSHIRT-M")
            .map(|t| t.qty)
            .sum();
        assert_eq!(b.atp - a.atp, took, "{id}");
        assert_eq!(b.on_hand - a.on_hand, took, "consumed units leave on hand");
        taken += took;
    }
    assert_eq!(taken, 9);
    e.undo(out).unwrap();
    assert_eq!(e.availability("TSHIRT-M"), before);
}

#[test]
fn a_reservation_is_data_with_a_life_of_its_own() {
    let e = engine();
    let o = order(
        &e,
        "O-R",
        r#"{"sku": "JEANS-32", "qty": 2, "unit_weight_kg": 0.5}"#,
    );
    let hold = RouteOptions::reserve(Duration::from_secs(600)).at(1_000);
    let out = e.route(&o, &hold);
    let r = *out.reservation.clone().unwrap();
    assert_eq!(
        (r.state, r.expires_at, r.units(), r.order.as_str()),
        (ReservationState::Held, 1_600, 2, "O-R")
    );
    assert_eq!(r.takes, out.takes());
    assert_eq!(figures(&e, "DC-KASSEL", "JEANS-32"), (3, 2, 0, 1));
    // Looked up, listed, serialised and read back.
    assert_eq!(e.reservation(&r.id), Some(r.clone()));
    assert_eq!(e.reservations(), std::slice::from_ref(&r));
    let json = serde_json::to_string(&r).unwrap();
    let back: sourcing_engine::Reservation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    assert_eq!(
        r.id.to_string().parse::<sourcing_engine::ReservationId>(),
        Ok(r.id.clone())
    );
    // Confirmed once; again is the same answer; release is then an error.
    let done = e.confirm(&r.id).unwrap();
    assert_eq!(done.state, ReservationState::Confirmed);
    assert_eq!(e.confirm(&r.id).unwrap(), done);
    assert_eq!(figures(&e, "DC-KASSEL", "JEANS-32"), (1, 0, 0, 1));
    let refused = e.release(&r.id).unwrap_err();
    assert_eq!(refused.kind(), ReservationErrorKind::NotHeld);
    assert!(matches!(
        refused,
        ReservationError::NotHeld {
            state: ReservationState::Confirmed,
            ..
        }
    ));
    assert_eq!(figures(&e, "DC-KASSEL", "JEANS-32"), (1, 0, 0, 1));
    // Undoing a confirmed reservation is refused too: the ledger must compensate.
    let unknown = "R-999".parse().unwrap();
    assert_eq!(
        e.confirm(&unknown).unwrap_err().kind(),
        ReservationErrorKind::Unknown
    );
}

#[test]
fn ids_are_unique_expiry_frees_and_undo_forgets() {
    let e = engine();
    let o = order(
        &e,
        "O-X",
        r#"{"sku": "JEANS-32", "qty": 1, "unit_weight_kg": 0.5}"#,
    );
    let a = e
        .route(&o, &RouteOptions::reserve(Duration::from_secs(10)).at(0))
        .reservation
        .map(|r| *r)
        .unwrap();
    let b = e
        .route(&o, &RouteOptions::reserve(Duration::from_secs(20)).at(0))
        .reservation
        .map(|r| *r)
        .unwrap();
    assert_ne!(a.id, b.id);
    assert!(a.id < b.id, "ids sort in the order given");
    assert_eq!(figures(&e, "DC-KASSEL", "JEANS-32"), (3, 2, 0, 1));
    let gone: Vec<_> = e.expire(10).into_iter().map(|r| r.id).collect();
    assert_eq!(gone, std::slice::from_ref(&a.id));
    assert_eq!(figures(&e, "DC-KASSEL", "JEANS-32"), (3, 1, 0, 2));
    assert!(
        e.expire(10).is_empty(),
        "an expired reservation expires once"
    );
    // A ledger commit failed: the reservation is undone as if never made.
    let out = e.route(&o, &RouteOptions::reserve(Duration::from_secs(20)).at(0));
    let c = *out.reservation.clone().unwrap();
    assert!(c.id > b.id);
    e.undo(out).unwrap();
    assert_eq!(e.reservation(&c.id), None);
    assert_eq!(figures(&e, "DC-KASSEL", "JEANS-32"), (3, 1, 0, 2));
    // Release gives back; released again is the same; expiry skips it.
    assert_eq!(e.release(&b.id).unwrap().state, ReservationState::Released);
    assert_eq!(e.release(&b.id).unwrap().state, ReservationState::Released);
    assert!(e.expire(100).is_empty());
    assert_eq!(figures(&e, "DC-KASSEL", "JEANS-32"), (3, 0, 0, 3));
}

#[test]
fn a_rebuilt_engine_restores_held_reservations_from_its_ledger() {
    let e = engine();
    let o = order(
        &e,
        "O-L",
        r#"{"sku": "JEANS-32", "qty": 2, "unit_weight_kg": 0.5}"#,
    );
    let r = e
        .route(&o, &RouteOptions::reserve(Duration::from_secs(60)).at(0))
        .reservation
        .map(|r| *r)
        .unwrap();
    // The ledger's stock counts the held units as reserved.
    let inventory = String::from_utf8(INVENTORY.to_vec())
        .unwrap()
        .replace("DC-KASSEL,JEANS-32,3,0,0", "DC-KASSEL,JEANS-32,3,2,0");
    let (network, rows) = records(inventory.as_bytes());
    let rebuilt = Engine::builder()
        .network(network)
        .inventory(rows)
        .build()
        .unwrap();
    let json = serde_json::to_string(&r).unwrap();
    rebuilt
        .restore(serde_json::from_str(&json).unwrap())
        .unwrap();
    assert_eq!(
        rebuilt.restore(r.clone()).unwrap_err().kind(),
        ReservationErrorKind::Duplicate
    );
    assert_eq!(figures(&rebuilt, "DC-KASSEL", "JEANS-32"), (3, 2, 0, 1));
    rebuilt.confirm(&r.id).unwrap();
    assert_eq!(figures(&rebuilt, "DC-KASSEL", "JEANS-32"), (1, 0, 0, 1));
    // Later ids continue after the restored one.
    let next = rebuilt
        .route(&o, &RouteOptions::reserve(Duration::from_secs(60)).at(0))
        .reservation;
    assert_eq!(next.map(|n| n.id > r.id), Some(true));
    // Only held reservations are restored.
    let mut done = r.clone();
    done.state = ReservationState::Confirmed;
    assert_eq!(
        engine().restore(done).unwrap_err().kind(),
        ReservationErrorKind::NotHeld
    );
}

#[test]
fn movements_change_their_count_or_nothing() {
    let e = engine();
    let m = |kind, change| Movement {
        location: "DC-KASSEL".into(),
        sku: "TSHIRT-M".into(),
        kind,
        change,
    };
    let f = e
        .apply(&m(MovementKind::Receipt, Change::Delta(5)))
        .unwrap();
    assert_eq!((f.on_hand, f.atp), (15, 12));
    let f = e
        .apply(&m(
            MovementKind::SafetyStock,
            Change::Set {
                value: 4,
                expected: None,
            },
        ))
        .unwrap();
    assert_eq!((f.safety_stock, f.atp), (4, 9));
    let refused = e.apply(&m(MovementKind::Adjustment, Change::Delta(-16)));
    assert!(matches!(
        refused,
        Err(MovementError::Negative {
            current: 15,
            delta: -16
        })
    ));
    let refused = e.apply(&m(
        MovementKind::Count,
        Change::Set {
            value: 3,
            expected: Some(14),
        },
    ));
    assert_eq!(refused.unwrap_err().kind(), MovementErrorKind::Expected);
    let refused = e.apply(&m(
        MovementKind::Receipt,
        Change::Delta(i64::try_from(sourcing_engine::MAX_UNITS).unwrap()),
    ));
    assert_eq!(refused.unwrap_err().kind(), MovementErrorKind::Overflow);
    assert_eq!(figures(&e, "DC-KASSEL", "TSHIRT-M"), (15, 2, 4, 9));
    // On hand below reserved and safety stock: ATP is 0, and a receipt fills the gap first.
    let f = e
        .apply(&m(
            MovementKind::Count,
            Change::Set {
                value: 3,
                expected: Some(15),
            },
        ))
        .unwrap();
    assert_eq!((f.on_hand, f.reserved, f.safety_stock, f.atp), (3, 2, 4, 0));
    let f = e.apply(&m(MovementKind::Return, Change::Delta(4))).unwrap();
    assert_eq!((f.on_hand, f.atp), (7, 1));
    let mut unknown = m(MovementKind::Receipt, Change::Delta(1));
    unknown.location = "DC-NOWHERE".into();
    assert_eq!(
        e.apply(&unknown).unwrap_err().kind(),
        MovementErrorKind::UnknownLocation
    );
    // Movements are data.
    let json = serde_json::to_string(&m(
        MovementKind::Count,
        Change::Set {
            value: 1,
            expected: Some(2),
        },
    ))
    .unwrap();
    assert!(json.contains("\"count\""), "{json}");
    let back: Movement = serde_json::from_str(&json).unwrap();
    assert_eq!(back.kind, MovementKind::Count);
}

#[test]
fn a_receipt_for_an_unlisted_pair_adds_it_and_orders_find_it() {
    let e = engine();
    let o = order(
        &e,
        "O-N",
        r#"{"sku": "CAP-RED", "qty": 2, "unit_weight_kg": 0.1}"#,
    );
    assert_eq!(
        e.route(&o, &RouteOptions::quote()).decision.status,
        Status::Unsourced
    );
    // A refused movement on a new pair adds nothing.
    let mut m = Movement {
        location: "DC-LEIPZIG".into(),
        sku: "CAP-RED".into(),
        kind: MovementKind::Adjustment,
        change: Change::Delta(-1),
    };
    assert!(e.apply(&m).is_err());
    assert_eq!(e.figures("DC-LEIPZIG", "CAP-RED"), None);
    m.change = Change::Delta(3);
    assert_eq!(e.apply(&m).unwrap().atp, 3);
    // Held units and other pairs survive the new layout.
    let r = e
        .route(
            &order(
                &e,
                "O-H",
                r#"{"sku": "JEANS-32", "qty": 1, "unit_weight_kg": 0.5}"#,
            ),
            &RouteOptions::reserve(Duration::from_secs(60)).at(0),
        )
        .reservation
        .map(|r| *r)
        .unwrap();
    m.sku = "CAP-BLUE".into();
    e.apply(&m).unwrap();
    assert_eq!(figures(&e, "DC-KASSEL", "JEANS-32"), (3, 1, 0, 2));
    assert_eq!(figures(&e, "DC-KASSEL", "TSHIRT-M"), (10, 2, 1, 7));
    let out = e.route(&o, &RouteOptions::consume());
    assert_eq!(out.decision.status, Status::Sourced);
    assert_eq!(out.decision.shipments[0].location, "DC-LEIPZIG");
    assert_eq!(figures(&e, "DC-LEIPZIG", "CAP-RED"), (1, 0, 0, 1));
    e.release(&r.id).unwrap();
    assert_eq!(figures(&e, "DC-KASSEL", "JEANS-32"), (3, 0, 0, 3));
}

#[test]
fn new_pairs_while_other_threads_route_never_oversell() {
    let e = engine();
    let o = order(
        &e,
        "O-T",
        r#"{"sku": "TSHIRT-M", "qty": 1, "unit_weight_kg": 0.25}"#,
    );
    let placed: u64 = std::thread::scope(|s| {
        let routers: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    (0..20)
                        .map(|_| {
                            let out = e.route(&o, &RouteOptions::consume());
                            out.takes().iter().map(|t| t.qty).sum::<u64>()
                        })
                        .sum::<u64>()
                })
            })
            .collect();
        for i in 0..20 {
            e.apply(&Movement {
                location: "ST-HAMBURG".into(),
                sku: format!("NEW-{i}"),
                kind: MovementKind::Receipt,
                change: Change::Delta(1),
            })
            .unwrap();
        }
        routers.into_iter().map(|h| h.join().unwrap()).sum()
    });
    // 7 + 6 + 5 units to promise.
    assert_eq!(placed, 18);
    let left: u64 = e.availability("TSHIRT-M").iter().map(|(_, f)| f.atp).sum();
    assert_eq!(left, 0);
    assert_eq!(e.availability("NEW-19").len(), 1);
}

#[test]
fn orders_from_code_are_checked_like_the_file() {
    let e = engine();
    let good = order(&e, "O-C", TSHIRT).into_inner();
    let check = |f: &dyn Fn(&mut Order), field: &str| {
        let mut o = good.clone();
        f(&mut o);
        let err = e.validate(o).unwrap_err();
        assert!(err.names(field), "{field}: {err}");
    };
    check(&|o| o.lines[0].qty = 0, "lines[0].qty");
    check(
        &|o| o.lines[0].unit_weight_kg = f64::NAN,
        "lines[0].unit_weight_kg",
    );
    check(&|o| o.ship_to.lat = 1000.0, "ship_to.lat");
    check(&|o| o.lines[0].sku = String::new(), "lines[0].sku");
    check(
        &|o| {
            o.fulfillment = sourcing_engine::Fulfillment::Pickup;
            o.pickup_location = Some("DC-KASSEL".into());
        },
        "pickup_location",
    );
    // Deserialised with serde: absent optional fields take the file's defaults.
    let o: Order = serde_json::from_str(
        r#"{"id": "O-S", "ship_to": {"lat": 50.1, "lon": 8.7},
            "lines": [{"sku": "TSHIRT-M", "qty": 1, "unit_weight_kg": 0.2, "colour": "red"}]}"#,
    )
    .unwrap();
    assert_eq!(o.fulfillment, sourcing_engine::Fulfillment::Ship);
    assert_eq!(o.lines[0].attr["colour"], "red");
    let o = e.validate(o).unwrap();
    assert_eq!(
        e.route(&o, &RouteOptions::quote()).decision.status,
        Status::Sourced
    );
    // Text that is not an order.
    assert!(e.parse_order("not json").is_err());
}

#[test]
fn rules_are_compiled_for_the_engine_and_located_in_their_file() {
    let e = engine();
    let rules = "strategy \"dc\" {\n  candidates dcs\n  score cost\n}\n";
    let loaded = e.load_rules(RulesSource::text("dc.rules", rules)).unwrap();
    assert_eq!(loaded.ruleset, RulesetHash::of(rules.as_bytes()));
    let out = e.route(&order(&e, "O-D", TSHIRT), &RouteOptions::quote());
    assert_eq!(out.decision.ruleset, loaded.ruleset);
    assert_eq!(out.decision.rule, "dc");
    let json = serde_json::to_value(&out.decision).unwrap();
    assert_eq!(json["ruleset"], loaded.ruleset.to_string());

    // A script that does not compile: located on the rule file's line, not the script's.
    let script = "strategy \"s\" {\n  candidates all\n  score cost + bad(days)\n}\n\nscript bad(d: days) -> money {\n  let x = ;\n  0.0\n}\n";
    let err = e
        .load_rules(RulesSource::text("script.rules", script))
        .unwrap_err();
    assert_eq!(err.at().file, "script.rules");
    assert_eq!(err.at().line, 7, "{err}");
    assert!(err.to_string().contains("script.rules:7:"), "{err}");
    // The rules in force stayed.
    assert_eq!(e.ruleset().hash, loaded.ruleset);

    // Money in another currency than the network's.
    let usd = "strategy \"s\" {\n  candidates all\n  score cost + 2 USD\n}\n";
    let err = e
        .load_rules(RulesSource::text("usd.rules", usd))
        .unwrap_err();
    assert_eq!(err.kind(), RulesErrorKind::Currency);
    assert_eq!((err.at().line, err.at().column > 1), (3, true), "{err}");

    // A syntax error: every finding, with code and place.
    let err = e
        .load_rules(RulesSource::text(
            "bad.rules",
            "strategy \"s\" {\n  score\n}\n",
        ))
        .unwrap_err();
    let RulesError::Invalid { diagnostics, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(diagnostics
        .iter()
        .any(|d| d.severity == RuleSeverity::Error && d.file == "bad.rules" && d.line >= 2));
    // A missing file.
    let err = e
        .load_rules(RulesSource::path("/nonexistent/x.rules"))
        .unwrap_err();
    assert_eq!(err.kind(), RulesErrorKind::Read);
    e.clear_rules();
    assert_eq!(e.ruleset().hash, RulesetHash::BUILTIN);
}

#[test]
fn the_builder_refuses_what_it_cannot_use() {
    assert!(matches!(
        Engine::builder().build(),
        Err(BuildError::NoNetwork)
    ));
    let (network, mut rows) = records(INVENTORY);
    rows[0].location = 99;
    assert!(matches!(
        Engine::builder()
            .network(network.clone())
            .inventory(rows)
            .build(),
        Err(BuildError::UnknownLocation { location: 99, .. })
    ));
    let bad = Engine::builder()
        .network(network)
        .rules(RulesSource::text("x.rules", "strategy {"))
        .build();
    let Err(BuildError::Rules(e)) = bad else {
        panic!("rules refused");
    };
    assert_eq!(e.at().file, "x.rules");
}

#[test]
fn engines_sharing_a_ledger_give_distinct_ids_and_follow_each_other() {
    let tagged = |tag: &str| {
        let (network, rows) = records(INVENTORY);
        Engine::builder()
            .network(network)
            .inventory(rows)
            .reservation_tag(tag)
            .build()
            .unwrap()
    };
    let (one, two) = (tagged("7"), tagged("8"));
    let jeans = r#"{"sku": "JEANS-32", "qty": 2, "unit_weight_kg": 0.5}"#;
    let hold = RouteOptions::reserve(Duration::from_secs(60)).at(0);
    let a = *one
        .route(&order(&one, "O-1", jeans), &hold)
        .reservation
        .unwrap();
    let b = *two
        .route(&order(&two, "O-2", jeans), &hold)
        .reservation
        .unwrap();
    assert_eq!(a.id.as_str(), "R-7-000000000001");
    assert_eq!(b.id.as_str(), "R-8-000000000001");
    assert_eq!(
        engine()
            .route(&order(&one, "O-3", jeans), &hold)
            .reservation
            .unwrap()
            .id
            .as_str(),
        "R-000000000001"
    );
    // Two learns what one committed: the figures as they are, then the reservation.
    assert_eq!(
        two.shift_figures("DC-KASSEL", "JEANS-32", 0, 2),
        Some(StockFigures::new(3, 4, 0))
    );
    two.restore(a.clone()).unwrap();
    // Restoring another engine's id leaves this engine's numbering alone.
    let c = *two
        .route(
            &order(
                &two,
                "O-4",
                r#"{"sku": "TSHIRT-M", "qty": 1, "unit_weight_kg": 0.25}"#,
            ),
            &hold,
        )
        .reservation
        .unwrap();
    assert_eq!(c.id.as_str(), "R-8-000000000002");
    // One confirms it; two marks it confirmed and takes the figures one committed.
    one.confirm(&a.id).unwrap();
    let marked = two
        .settled_elsewhere(&a.id, ReservationState::Confirmed)
        .unwrap();
    assert_eq!(marked.state, ReservationState::Confirmed);
    assert_eq!(
        figures(&two, "DC-KASSEL", "JEANS-32"),
        (3, 4, 0, 0),
        "stock untouched"
    );
    two.shift_figures("DC-KASSEL", "JEANS-32", -2, -2);
    assert_eq!(figures(&two, "DC-KASSEL", "JEANS-32"), (1, 2, 0, 0));
    // Again is the same answer; another end or `held` is refused.
    assert_eq!(
        two.settled_elsewhere(&a.id, ReservationState::Confirmed)
            .unwrap(),
        marked
    );
    assert_eq!(
        two.settled_elsewhere(&a.id, ReservationState::Released)
            .unwrap_err()
            .kind(),
        ReservationErrorKind::NotHeld
    );
    assert_eq!(
        two.settled_elsewhere(&b.id, ReservationState::Held)
            .unwrap_err()
            .kind(),
        ReservationErrorKind::NotHeld
    );
    // A settlement the shared ledger refused: held again, figures shifted back by the caller.
    let reopened = two
        .settled_elsewhere(&a.id, ReservationState::Held)
        .unwrap();
    assert_eq!(reopened.state, ReservationState::Held);
    assert_eq!(
        figures(&two, "DC-KASSEL", "JEANS-32"),
        (1, 2, 0, 0),
        "stock untouched"
    );
    assert_eq!(
        two.release(&a.id).unwrap().state,
        ReservationState::Released
    );
    // Counts stop at 0; a new pair is added; an unknown location is `None`.
    assert_eq!(
        two.shift_figures("DC-KASSEL", "JEANS-32", -50, -50),
        Some(StockFigures::new(0, 0, 0))
    );
    assert_eq!(
        two.shift_figures("ST-HAMBURG", "JEANS-32", 4, 1),
        Some(StockFigures::new(4, 1, 0))
    );
    assert_eq!(two.shift_figures("DC-NOWHERE", "JEANS-32", 1, 0), None);
}
