//! Key figures on a replay small enough to check by hand.

use super::replay;
use crate::load::inventory::InventoryRecord;
use crate::model::network::{Location, LocationKind, Network, Service};
use crate::model::order::{Fulfillment, Order, OrderLine, ShipTo};
use crate::Engine;

fn loc(id: &str, kind: LocationKind, lon: f64, handling: f64, capacity: Option<u32>) -> Location {
    let mut l = crate::fixtures::location(id, kind, 0.0, lon, handling, 0);
    l.daily_capacity = capacity;
    l
}

/// An order to (0, 0), 1 kg units, placed on the given day and hour.
fn order(
    id: &str,
    day: u32,
    hour: u32,
    channel: &str,
    lines: &[(&str, u32)],
    promise: Option<u32>,
) -> Order {
    Order {
        id: id.into(),
        channel: Some(channel.into()),
        placed_at: Some(format!("2026-11-{day:02}T{hour:02}:00:00Z")),
        customer_tier: None,
        ship_to: ShipTo {
            lat: 0.0,
            lon: 0.0,
            country: None,
            region: None,
            postal_code: None,
        },
        fulfillment: Fulfillment::Ship,
        pickup_location: None,
        promise_days: promise,
        lines: lines
            .iter()
            .map(|&(sku, qty)| OrderLine {
                sku: sku.into(),
                qty,
                unit_weight_kg: 1.0,
                unit_price: 0.0,
                tags: vec![],
                group: None,
                pack_size: None,
                attr: Default::default(),
            })
            .collect(),
        attr: Default::default(),
    }
}

#[test]
fn figures_of_a_hand_checked_replay() {
    // A DC 1 degree of longitude east of the destination (111.195 km), a store 0.1 degree
    // west (11.1195 km). One service: 10 + 0.1/km + 1/kg, 200 km a day. The store may send
    // one parcel a day.
    let km_dc = crate::geo::haversine_km(0.0, 1.0, 0.0, 0.0);
    let km_st = crate::geo::haversine_km(0.0, -0.1, 0.0, 0.0);
    let net = Network::new(
        "EUR".into(),
        vec![
            loc("DC", LocationKind::Dc, 1.0, 1.0, None),
            loc("ST", LocationKind::Store, -0.1, 2.0, Some(1)),
        ],
        vec![Service {
            id: "s".into(),
            base_cost: 10.0,
            cost_per_km: 0.1,
            cost_per_kg: 1.0,
            km_per_day: 200.0,
        }],
    );
    let rows = [(0, "A", 10), (1, "A", 10), (0, "B", 1)];
    let stock: Vec<InventoryRecord> = rows
        .iter()
        .map(|&(location, sku, on_hand)| InventoryRecord {
            location,
            sku: sku.into(),
            on_hand,
            reserved: 0,
            safety_stock: 0,
        })
        .collect();
    let engine = Engine::new(net, &stock);
    // File order is not time order: O3 (day 23, 08:00) is replayed first.
    let orders = vec![
        order("O1", 23, 9, "web", &[("A", 1)], Some(1)),
        order("O2", 23, 10, "app", &[("A", 2), ("B", 2)], None),
        order("O3", 23, 8, "web", &[("A", 1)], None),
        order("O4", 24, 9, "web", &[("C", 1)], None),
    ];
    let mut seen = Vec::new();
    let k = replay(&engine, &orders, |o, _| seen.push(o.id.clone()));
    assert_eq!(seen, ["O3", "O1", "O2", "O4"]);
    // O3: the store (2 + 10 + 0.1*11.12 + 1 = 14.11) beats the DC (1 + 10 + 11.12 + 1 = 23.12).
    // O1: the store is full for the day: DC, 1 unit. O2: DC, A x2 + B x1 in one parcel;
    // B x1 insufficient. O4: C is nowhere: no_stock.
    let st = 2.0 + 10.0 + 0.1 * km_st + 1.0;
    let dc1 = 1.0 + 10.0 + 0.1 * km_dc + 1.0;
    let dc3 = 1.0 + 10.0 + 0.1 * km_dc + 3.0;
    let o = &k.overall;
    assert_eq!(
        (o.orders, o.orders_sourced, o.units_ordered, o.units_placed),
        (4, 2, 7, 5)
    );
    assert_eq!((o.shipments, o.split_rate), (3, 0.0));
    assert!((o.total_cost - (st + dc1 + dc3)).abs() < 1e-9);
    assert!((o.cost_per_order - (st + dc1 + dc3) / 3.0).abs() < 1e-9);
    assert!((o.cost_per_unit - (st + dc1 + dc3) / 5.0).abs() < 1e-9);
    assert!((o.fill_rate_units - 5.0 / 7.0).abs() < 1e-12);
    assert!((o.fill_rate_orders - 0.5).abs() < 1e-12);
    assert!((o.mean_distance_km - (km_st + 2.0 * km_dc) / 3.0).abs() < 1e-9);
    assert_eq!(
        o.p95_distance_km, 112.0,
        "95 % of 3 shipments is all three: the DC's 111.2 km bin"
    );
    // Only O1 had a promise (1 day): the DC's 111 km take 1 day.
    assert_eq!(o.promise_attainment, 1.0);
    assert_eq!(o.units_by_kind.get("dc"), Some(&4));
    assert_eq!(o.units_by_kind.get("store"), Some(&1));
    assert_eq!(o.unsourced_by_reason.get("insufficient_stock"), Some(&1));
    assert_eq!(o.unsourced_by_reason.get("no_stock"), Some(&1));
    assert_eq!(
        k.by_day.keys().collect::<Vec<_>>(),
        ["2026-11-23", "2026-11-24"]
    );
    assert_eq!(k.by_day["2026-11-23"].orders, 3);
    assert_eq!(
        (k.by_channel["web"].orders, k.by_channel["app"].orders),
        (3, 1)
    );
    assert_eq!(k.by_strategy["min-cost"].orders, 4);
    let store = k
        .locations
        .iter()
        .find(|l| l.location == "ST")
        .expect("the store shipped");
    assert_eq!(
        (
            store.shipments,
            store.days_at_capacity,
            store.peak_utilisation
        ),
        (1, 1, 1.0)
    );
    assert_eq!(k.locations[0].location, "DC", "busiest first");
}

#[test]
fn a_replay_is_the_same_bytes_every_time() {
    let shape = crate::generate::Shape {
        dcs: 3,
        stores: 150,
        vendors: 5,
        skus: 3_000,
        skus_per_store: 100,
        skus_per_vendor: 200,
        orders: 2_000,
        max_lines: 4,
        days: 1,
    };
    let sc = crate::generate::scenario(3, &shape);
    let run = || {
        let engine = Engine::new(sc.network.clone(), &sc.inventory);
        let mut text = String::new();
        let k = replay(&engine, &sc.orders, |_, d| {
            text.push_str(&serde_json::to_string(d).unwrap_or_default())
        });
        (text, serde_json::to_string(&k).unwrap_or_default())
    };
    assert_eq!(run(), run());
}

#[test]
fn a_receipt_arrives_before_the_orders_placed_after_it() {
    let net = Network::new(
        "EUR".into(),
        vec![loc("DC", LocationKind::Dc, 1.0, 1.0, None)],
        vec![Service {
            id: "s".into(),
            base_cost: 10.0,
            cost_per_km: 0.1,
            cost_per_kg: 1.0,
            km_per_day: 200.0,
        }],
    );
    let stock = vec![InventoryRecord {
        location: 0,
        sku: "A".into(),
        on_hand: 1,
        reserved: 0,
        safety_stock: 0,
    }];
    let engine = Engine::new(net, &stock);
    let at = |day: u32, hour: u32| {
        chrono::DateTime::parse_from_rfc3339(&format!("2026-11-{day:02}T{hour:02}:00:00Z"))
            .map(|t| t.timestamp_millis())
            .unwrap_or(0)
    };
    let events = vec![
        crate::load::StockEvent {
            at_ms: at(23, 12),
            at: "noon".into(),
            location: 0,
            sku: "A".into(),
            delta: 5,
            line: 1,
            column: 1,
        },
        crate::load::StockEvent {
            at_ms: at(24, 0),
            at: "midnight".into(),
            location: 0,
            sku: "A".into(),
            delta: -10,
            line: 2,
            column: 1,
        },
    ];
    let orders = vec![
        order("MORNING-1", 23, 8, "web", &[("A", 1)], None),
        order("MORNING-2", 23, 9, "web", &[("A", 1)], None),
        order("AFTERNOON", 23, 13, "web", &[("A", 5)], None),
        order("NEXT-DAY", 24, 8, "web", &[("A", 1)], None),
    ];
    let mut status = Vec::new();
    let (_, report) = super::replay_with_events(&engine, &orders, &events, |o, d| {
        status.push((o.id.clone(), d.status))
    });
    // The midnight correction removes 10 units where none are left: the count stops at 0
    // and the replay says so.
    assert_eq!(report.stopped_at_zero, [(1, 10)]);
    assert!(report.refused.is_empty());
    use crate::Status::{Sourced, Unsourced};
    assert_eq!(
        status,
        [
            ("MORNING-1".to_string(), Sourced),
            ("MORNING-2".to_string(), Unsourced),
            ("AFTERNOON".to_string(), Sourced),
            ("NEXT-DAY".to_string(), Unsourced),
        ]
    );
}

#[test]
fn figures_count_locations_the_network_does_not_list_and_any_distance() {
    use crate::model::decision::{Decision, Shipment, ShipmentLine, Status};
    let network = Network::new(
        "EUR".into(),
        vec![loc("DC", LocationKind::Dc, 1.0, 1.0, Some(1))],
        vec![],
    );
    let shipment = |location: &str, qty: u32, distance_km: f64| Shipment {
        location: location.into(),
        service: None,
        lines: vec![ShipmentLine {
            line: 0,
            sku: "A".into(),
            qty,
        }],
        distance_km,
        days: 1,
        cost: 1.0,
        meets_promise: true,
    };
    let decision = |id: &str, shipments: Vec<Shipment>| Decision {
        order: id.into(),
        status: Status::Sourced,
        rule: String::new(),
        ruleset: crate::RulesetHash::BUILTIN,
        shipments,
        unsourced: vec![],
        total_cost: 1.0,
        error: None,
    };
    let mut k = super::Kpis::default();
    let o1 = order("O1", 23, 9, "web", &[("A", 5)], None);
    let o2 = order("O2", 24, 9, "web", &[("A", 2)], None);
    k.add(
        &o1,
        &decision(
            "O1",
            vec![shipment("DC", 2, 10.5), shipment("ELSEWHERE", 3, 1e9)],
        ),
        &network,
    );
    k.add(&o2, &decision("O2", vec![shipment("DC", 2, 0.2)]), &network);
    k.finish(&network);
    let loads: Vec<_> = k
        .locations
        .iter()
        .map(|l| (l.location.as_str(), l.kind.as_str(), l.shipments, l.units))
        .collect();
    assert_eq!(loads, [("DC", "dc", 2, 4), ("ELSEWHERE", "dc", 1, 3)]);
    // DC shipped once on each of two days at a capacity of 1.
    assert_eq!(
        (k.locations[0].active_days, k.locations[0].days_at_capacity),
        (2, 2)
    );
    assert_eq!(k.locations[0].peak_utilisation, 1.0);
    // Three shipments: the 95th percentile is the far one's bin.
    assert_eq!(k.overall.p95_distance_km, 1e9 + 1.0);
    assert_eq!(k.by_day["2026-11-23"].p95_distance_km, 1e9 + 1.0);
    assert_eq!(k.by_day["2026-11-24"].p95_distance_km, 1.0);
    assert_eq!(k.by_strategy["none"].orders, 2);
    assert_eq!(k.overall.units_by_kind.get("dc"), Some(&7));
}
