//! Behaviour tests of the router through the public engine API, and property tests
//! against the brute-force reference.

use crate::fixtures::{location, service, stock};
use crate::load::inventory::InventoryRecord;
use crate::model::network::{Location, LocationKind, Network};
use crate::model::order::{Fulfillment, Order, OrderLine, ShipTo};
use crate::{reference, Decision, Engine, Reservation, RouteOptions, Status};
use std::time::Duration;

/// The plan for an order against the stock as it is, nothing taken.
fn quote(engine: &Engine, o: &Order) -> Decision {
    engine.route_order(o, &RouteOptions::quote()).decision
}

/// The decision for an order whose units are taken for good.
fn consume(engine: &Engine, o: &Order) -> Decision {
    engine.route_order(o, &RouteOptions::consume()).decision
}

/// The decision for an order whose units are held, and the reservation.
fn reserve(engine: &Engine, o: &Order) -> (Decision, Reservation) {
    let out = engine.route_order(o, &RouteOptions::reserve(Duration::from_secs(60)).at(0));
    (
        out.decision,
        out.reservation.expect("a reservation when reserving"),
    )
}
use proptest::prelude::*;
use std::collections::BTreeMap;

fn line(sku: &str, qty: u32, kg: f64) -> OrderLine {
    OrderLine {
        sku: sku.into(),
        qty,
        unit_weight_kg: kg,
        unit_price: 0.0,
        tags: vec![],
        group: None,
        pack_size: None,
        attr: Default::default(),
    }
}

fn order(id: &str, lat: f64, lon: f64, promise: Option<u32>, lines: Vec<OrderLine>) -> Order {
    Order {
        id: id.into(),
        channel: None,
        placed_at: None,
        customer_tier: None,
        ship_to: ShipTo {
            lat,
            lon,
            country: None,
            region: None,
            postal_code: None,
        },
        fulfillment: Fulfillment::Ship,
        pickup_location: None,
        promise_days: promise,
        lines,
        attr: Default::default(),
    }
}

/// Checks a decision against the contract: quantities within the order and the stock,
/// costs equal to the formulas recomputed here, total the sum of the shipments.
fn assert_valid(
    engine_net: &Network,
    atp: &dyn Fn(usize, &str) -> u64,
    order: &Order,
    d: &Decision,
) {
    let mut per_line = vec![0u64; order.lines.len()];
    let mut per_pair: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut total = 0.0;
    for s in &d.shipments {
        let loc = engine_net
            .location(&s.location)
            .expect("shipment from a known location");
        let mut weight = 0.0;
        for l in &s.lines {
            per_line[l.line] += u64::from(l.qty);
            *per_pair
                .entry((s.location.clone(), l.sku.clone()))
                .or_default() += u64::from(l.qty);
            weight += f64::from(l.qty) * order.lines[l.line].unit_weight_kg;
            assert_eq!(l.sku, order.lines[l.line].sku);
        }
        let expected = match &s.service {
            None => {
                assert_eq!(order.pickup_location.as_deref(), Some(s.location.as_str()));
                loc.handling_cost
            }
            Some(id) => {
                let sv = engine_net
                    .services
                    .iter()
                    .find(|x| &x.id == id)
                    .expect("known service");
                let dist = crate::geo::haversine_km(
                    loc.lat,
                    loc.lon,
                    order.ship_to.lat,
                    order.ship_to.lon,
                );
                assert!((dist - s.distance_km).abs() < 1e-9);
                let days = loc.processing_days + crate::cost::transit_days(dist, sv);
                assert_eq!(days, s.days);
                loc.handling_cost + sv.base_cost + sv.cost_per_km * dist + sv.cost_per_kg * weight
            }
        };
        assert!(
            (expected - s.cost).abs() < 1e-9,
            "{} vs {}",
            expected,
            s.cost
        );
        total += s.cost;
    }
    assert!((total - d.total_cost).abs() < 1e-9);
    for (i, l) in order.lines.iter().enumerate() {
        let unsourced: u64 = d
            .unsourced
            .iter()
            .filter(|u| u.line == i)
            .map(|u| u64::from(u.qty))
            .sum();
        assert_eq!(
            per_line[i] + unsourced,
            u64::from(l.qty),
            "line {i} adds up"
        );
    }
    for ((loc, sku), qty) in per_pair {
        let idx = engine_net.location_index(&loc).expect("known");
        assert!(qty <= atp(idx, &sku), "{loc} {sku}: {qty} > stock");
    }
}

fn example_network() -> Network {
    Network::new(
        "EUR".into(),
        vec![
            location("DC-A", LocationKind::Dc, 51.0, 9.0, 1.0, 0),
            location("DC-B", LocationKind::Dc, 52.0, 12.0, 1.0, 0),
            location("ST-C", LocationKind::Store, 50.1, 8.7, 3.0, 1),
        ],
        vec![
            service("ground", 4.0, 0.002, 0.3, 450.0),
            service("express", 9.0, 0.003, 0.8, 1100.0),
        ],
    )
}

#[test]
fn a_single_cheap_location_wins() {
    let engine = Engine::new(
        example_network(),
        &stock(&[(0, "A", 5), (1, "A", 5), (2, "A", 5)]),
    );
    let d = quote(
        &engine,
        &order("O", 51.1, 9.1, None, vec![line("A", 2, 1.0)]),
    );
    assert_eq!(d.status, Status::Sourced);
    assert_eq!(d.shipments.len(), 1);
    assert_eq!(d.shipments[0].location, "DC-A");
}

#[test]
fn a_line_splits_when_no_location_holds_enough() {
    let engine = Engine::new(
        example_network(),
        &stock(&[(0, "A", 2), (1, "A", 2), (2, "A", 1)]),
    );
    let o = order("O", 51.1, 9.1, None, vec![line("A", 4, 1.0)]);
    let d = consume(&engine, &o);
    assert_eq!(d.status, Status::Sourced);
    let placed: Vec<_> = d
        .shipments
        .iter()
        .map(|s| (s.location.as_str(), s.lines[0].qty))
        .collect();
    assert_eq!(placed, [("DC-A", 2), ("DC-B", 2)]);
    // The stock is consumed: the next identical order finds one unit only.
    let d = consume(&engine, &o);
    assert_eq!(d.status, Status::Partial);
    assert_eq!(d.shipments.len(), 1);
    assert_eq!(d.unsourced[0].qty, 3);
    assert_eq!(d.unsourced[0].reason, "insufficient_stock");
    let d = consume(&engine, &o);
    assert_eq!(d.status, Status::Unsourced);
    assert_eq!(d.unsourced[0].reason, "no_stock");
}

#[test]
fn a_second_shipment_pays_off_for_heavy_units_on_a_cheaper_service() {
    // DC-A keeps the 1-day promise only by express (0.8/kg); DC-B is near enough for
    // ground (0.3/kg). A 60 kg line is cheaper from DC-B even though DC-A is nearer, and
    // a light line that only DC-A holds still ships from DC-A.
    let net = Network::new(
        "EUR".into(),
        vec![
            location("DC-A", LocationKind::Dc, 51.0, 9.0, 1.0, 0),
            location("DC-B", LocationKind::Dc, 51.5, 10.0, 1.0, 0),
        ],
        vec![
            service("ground", 4.0, 0.002, 0.3, 50.0),
            service("express", 9.0, 0.003, 0.8, 1100.0),
        ],
    );
    let engine = Engine::new(
        net.clone(),
        &stock(&[(0, "HEAVY", 5), (0, "LIGHT", 5), (1, "HEAVY", 5)]),
    );
    let o = order(
        "O",
        51.45,
        9.95,
        Some(1),
        vec![line("HEAVY", 1, 60.0), line("LIGHT", 1, 0.1)],
    );
    let d = quote(&engine, &o);
    let atp = |l: usize, s: &str| engine.stock().atp(l, s);
    assert_valid(&net, &atp, &o, &d);
    let (_, best) = reference::cheapest(&net, &atp, &o);
    assert!(
        (d.total_cost - best).abs() < 1e-9,
        "{} vs {best}",
        d.total_cost
    );
    assert_eq!(d.shipments.len(), 2, "{d:?}");
}

#[test]
fn pickup_takes_the_counter_first_and_ships_the_rest_to_the_store() {
    let mut net = example_network();
    net.locations[2].tags = vec!["pickup".into()];
    let net = Network::new(
        net.currency.clone(),
        net.locations.clone(),
        net.services.clone(),
    );
    let engine = Engine::new(net.clone(), &stock(&[(0, "B", 5), (2, "A", 1)]));
    let mut o = order(
        "O",
        50.1,
        8.7,
        Some(3),
        vec![line("A", 1, 1.0), line("B", 1, 1.0)],
    );
    o.fulfillment = Fulfillment::Pickup;
    o.pickup_location = Some("ST-C".into());
    let d = quote(&engine, &o);
    assert_eq!(d.status, Status::Sourced);
    let counter = d
        .shipments
        .iter()
        .find(|s| s.location == "ST-C")
        .expect("counter shipment");
    assert_eq!(
        (
            counter.service.as_deref(),
            counter.distance_km,
            counter.cost
        ),
        (None, 0.0, 3.0)
    );
    assert_eq!(counter.days, 1);
    let shipped = d
        .shipments
        .iter()
        .find(|s| s.location == "DC-A")
        .expect("DC shipment");
    assert_eq!(shipped.service.as_deref(), Some("ground"));
    // Built in code with a ship_to in Munich, far from the store: the transfer still
    // travels to the store, as the contract says, and nothing else changes.
    let mut elsewhere = o.clone();
    elsewhere.ship_to.lat = 48.14;
    elsewhere.ship_to.lon = 11.58;
    let moved = quote(&engine, &elsewhere);
    assert_eq!(moved, d);
    let to_store = crate::geo::haversine_km(51.0, 9.0, 50.1, 8.7);
    assert_eq!(shipped.distance_km, to_store);
    assert!(engine
        .route_order(&elsewhere, &RouteOptions::quote().explain(true))
        .explain
        .expect("explained")
        .candidates
        .iter()
        .all(|c| { c.location != "DC-A" || c.distance_km == to_store }));
}

#[test]
fn unknown_skus_are_listed_and_the_rest_is_placed() {
    let engine = Engine::new(example_network(), &stock(&[(0, "A", 5)]));
    let d = quote(
        &engine,
        &order(
            "O",
            51.0,
            9.0,
            None,
            vec![line("NOPE", 2, 1.0), line("A", 1, 1.0)],
        ),
    );
    assert_eq!(d.status, Status::Partial);
    assert_eq!(d.unsourced.len(), 1);
    assert_eq!(
        (
            d.unsourced[0].line,
            d.unsourced[0].qty,
            d.unsourced[0].reason.as_str()
        ),
        (0, 2, "no_stock")
    );
}

#[test]
fn ties_go_to_priority_then_id() {
    // Two DCs on the same spot with the same costs: the better priority wins, then the id.
    let mut locs = vec![
        location("DC-Z", LocationKind::Dc, 51.0, 9.0, 1.0, 0),
        location("DC-Y", LocationKind::Dc, 51.0, 9.0, 1.0, 0),
        location("DC-X", LocationKind::Dc, 51.0, 9.0, 1.0, 0),
    ];
    locs[0].priority = Some(1);
    locs[1].priority = Some(2);
    let net = Network::new(
        "EUR".into(),
        locs.clone(),
        vec![service("ground", 4.0, 0.002, 0.3, 450.0)],
    );
    let engine = Engine::new(net, &stock(&[(0, "A", 5), (1, "A", 5), (2, "A", 5)]));
    let d = quote(
        &engine,
        &order("O", 50.0, 8.0, None, vec![line("A", 1, 1.0)]),
    );
    assert_eq!(d.shipments[0].location, "DC-Z");
    locs[0].priority = None;
    locs[1].priority = None;
    let net = Network::new(
        "EUR".into(),
        locs,
        vec![service("ground", 4.0, 0.002, 0.3, 450.0)],
    );
    let engine = Engine::new(net, &stock(&[(0, "A", 5), (1, "A", 5), (2, "A", 5)]));
    let d = quote(
        &engine,
        &order("O", 50.0, 8.0, None, vec![line("A", 1, 1.0)]),
    );
    assert_eq!(d.shipments[0].location, "DC-X");
}

#[test]
fn large_orders_get_a_valid_plan_within_bounded_work() {
    let net = example_network();
    let skus: Vec<String> = (0..12).map(|i| format!("S{i}")).collect();
    let mut rows = Vec::new();
    for (i, s) in skus.iter().enumerate() {
        rows.push((i % 3, s.as_str(), 2u64));
    }
    let engine = Engine::new(net.clone(), &stock(&rows));
    let o = order(
        "BIG",
        51.0,
        9.0,
        None,
        skus.iter().map(|s| line(s, 2, 1.0)).collect(),
    );
    let out = engine.route_order(&o, &RouteOptions::quote());
    let (d, stats) = (out.decision, out.stats);
    assert_eq!(d.status, Status::Sourced);
    assert_eq!(d.shipments.len(), 3);
    assert!(stats.nodes <= 20_001);
    let atp = |l: usize, s: &str| engine.stock().atp(l, s);
    assert_valid(&net, &atp, &o, &d);
}

#[test]
fn concurrent_routing_never_places_more_than_the_stock() {
    let net = example_network();
    let rows = stock(&[
        (0, "A", 40),
        (1, "A", 25),
        (2, "A", 10),
        (0, "B", 30),
        (2, "B", 15),
    ]);
    let engine = Engine::new(net, &rows);
    let placed: Vec<Vec<Decision>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let engine = &engine;
                scope.spawn(move || {
                    (0..60)
                        .map(|i| {
                            let lines =
                                vec![line("A", 1 + (i + t) % 3, 1.0), line("B", 1 + i % 2, 2.0)];
                            consume(
                                engine,
                                &order(
                                    &format!("T{t}-{i}"),
                                    51.0 + t as f64 * 0.1,
                                    9.0,
                                    None,
                                    lines,
                                ),
                            )
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    });
    let mut taken: BTreeMap<(String, String), u64> = BTreeMap::new();
    for d in placed.iter().flatten() {
        for s in &d.shipments {
            for l in &s.lines {
                *taken
                    .entry((s.location.clone(), l.sku.clone()))
                    .or_default() += u64::from(l.qty);
            }
        }
    }
    for r in &rows {
        let id = &engine.network().locations[r.location].id;
        let used = taken
            .get(&(id.clone(), r.sku.clone()))
            .copied()
            .unwrap_or(0);
        assert!(used <= r.on_hand, "{id} {} oversold", r.sku);
        assert_eq!(
            r.on_hand - used,
            engine.stock().atp(r.location, &r.sku),
            "{id} {} adds up",
            r.sku
        );
    }
    // 480 orders want far more than 120 units: every unit must have been placed.
    assert_eq!(
        engine.stock().total_atp("A") + engine.stock().total_atp("B"),
        0
    );
}

fn arb_case() -> impl Strategy<Value = (Network, Vec<InventoryRecord>, Order)> {
    let loc = (47.5f64..54.0, 6.0f64..14.0, 0.0f64..5.0, 0u32..3, 0usize..3);
    let svc = (0.0f64..10.0, 0.0f64..0.01, 0.0f64..1.0, 100.0f64..1500.0);
    let ln = (0usize..3, 1u32..4, 0.1f64..40.0);
    (
        prop::collection::vec(loc, 1..5),
        prop::collection::vec(svc, 1..3),
        prop::collection::vec(0u64..4, 12),
        prop::collection::vec(ln, 1..4),
        (
            47.5f64..54.0,
            6.0f64..14.0,
            prop::option::of(1u32..4),
            any::<bool>(),
        ),
    )
        .prop_map(|(locs, svcs, atp, lines, (lat, lon, promise, pickup))| {
            let kinds = [
                LocationKind::Dc,
                LocationKind::Store,
                LocationKind::Dropship,
            ];
            let locations: Vec<Location> = locs
                .iter()
                .enumerate()
                .map(|(i, &(la, lo, h, d, k))| location(&format!("L{i}"), kinds[k], la, lo, h, d))
                .collect();
            let services = svcs
                .iter()
                .enumerate()
                .map(|(i, &(b, k, g, v))| service(&format!("s{i}"), b, k, g, v))
                .collect();
            let skus = ["A", "B", "C"];
            let mut rows = Vec::new();
            for l in 0..locations.len() {
                for (s, sku) in skus.iter().enumerate() {
                    let a = atp[(l * 3 + s) % atp.len()];
                    if a > 0 {
                        rows.push(InventoryRecord {
                            location: l,
                            sku: (*sku).into(),
                            on_hand: a,
                            reserved: 0,
                            safety_stock: 0,
                        });
                    }
                }
            }
            let store = locations
                .iter()
                .find(|l| l.kind == LocationKind::Store)
                .map(|l| l.id.clone());
            let mut o = order(
                "P",
                lat,
                lon,
                promise,
                lines.iter().map(|&(s, q, w)| line(skus[s], q, w)).collect(),
            );
            if let (true, Some(store)) = (pickup, store) {
                o.fulfillment = Fulfillment::Pickup;
                let l = locations.iter().find(|l| l.id == store).expect("store");
                o.ship_to.lat = l.lat;
                o.ship_to.lon = l.lon;
                o.pickup_location = Some(store);
            }
            (Network::new("EUR".into(), locations, services), rows, o)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// The router's plan is valid and exactly as cheap as the cheapest of all allocations.
    #[test]
    fn min_cost_equals_brute_force((net, rows, o) in arb_case()) {
        let engine = Engine::new(net.clone(), &rows);
        let atp = |l: usize, s: &str| engine.stock().atp(l, s);
        let d = quote(&engine, &o);
        assert_valid(&net, &atp, &o, &d);
        let (units, best) = reference::cheapest(&net, &atp, &o);
        let placed: u64 = d.shipments.iter().flat_map(|s| &s.lines).map(|l| u64::from(l.qty)).sum();
        prop_assert_eq!(placed, units);
        prop_assert!((d.total_cost - best).abs() < 1e-6, "router {} vs brute force {}", d.total_cost, best);
    }

    /// Routing takes exactly what the decision says, and the same input gives the same output.
    #[test]
    fn routing_takes_what_it_decides((net, rows, o) in arb_case()) {
        let engine = Engine::new(net.clone(), &rows);
        let quoted = quote(&engine, &o);
        let routed = consume(&engine, &o);
        prop_assert_eq!(&quoted, &routed);
        for s in &routed.shipments {
            let l = net.location_index(&s.location).expect("known");
            for ln in &s.lines {
                let before: u64 = rows.iter().filter(|r| r.location == l && r.sku == ln.sku).map(|r| r.on_hand).sum();
                let taken: u64 = routed.shipments.iter().filter(|x| x.location == s.location)
                    .flat_map(|x| &x.lines).filter(|x| x.sku == ln.sku).map(|x| u64::from(x.qty)).sum();
                prop_assert_eq!(engine.stock().atp(l, &ln.sku), before - taken);
            }
        }
    }
}

/// The same with kits and packs: the index, the bounds, the dominance test and the
/// gathering keep the cheapest plan that ships kits whole and lines in whole packs.
#[test]
fn pruned_search_matches_every_holder_with_kits_and_packs() {
    let shape = crate::generate::Shape {
        dcs: 2,
        stores: 12,
        vendors: 2,
        skus: 30,
        skus_per_store: 12,
        skus_per_vendor: 10,
        orders: 120,
        max_lines: 3,
        days: 1,
    };
    let sc = crate::generate::scenario(11, &shape);
    let engine = Engine::new(sc.network.clone(), &sc.inventory);
    let tables = crate::router::RouterTables::new(&sc.network);
    let mut shaped = 0;
    for (k, plain) in sc.orders.iter().enumerate() {
        let mut o = plain.clone();
        for (i, l) in o.lines.iter_mut().enumerate() {
            if (k + i) % 2 == 0 {
                l.pack_size = Some(2);
                l.qty *= 2;
            }
            if k % 3 == 0 && i < 2 {
                l.group = Some("kit".into());
            }
        }
        let d = quote(&engine, &o);
        match crate::router::exhaustive_cost(&sc.network, &engine.stock(), &tables, &o) {
            Some(cost) => {
                assert_eq!(d.status, Status::Sourced, "{}", o.id);
                assert!(
                    (d.total_cost - cost).abs() < 1e-6,
                    "{}: {} vs {}",
                    o.id,
                    d.total_cost,
                    cost
                );
                shaped += 1;
            }
            None => assert_ne!(d.status, Status::Sourced, "{}", o.id),
        }
    }
    assert!(
        shaped > 50,
        "the scenario should source shaped orders, got {shaped}"
    );
}

/// The spatial index, the bounds and the gathering never lose the cheapest plan: on a
/// generated network, every order costs what a search over every holder finds.
#[test]
fn pruned_search_matches_a_search_over_every_holder() {
    let shape = crate::generate::Shape {
        dcs: 2,
        stores: 80,
        vendors: 6,
        skus: 300,
        skus_per_store: 40,
        skus_per_vendor: 60,
        orders: 400,
        max_lines: 5,
        days: 1,
    };
    let sc = crate::generate::scenario(7, &shape);
    let engine = Engine::new(sc.network.clone(), &sc.inventory);
    let tables = crate::router::RouterTables::new(&sc.network);
    let mut splits = 0;
    for o in &sc.orders {
        let d = quote(&engine, o);
        let oracle = crate::router::exhaustive_cost(&sc.network, &engine.stock(), &tables, o);
        match oracle {
            Some(cost) => {
                assert_eq!(d.status, Status::Sourced, "{}", o.id);
                assert!(
                    (d.total_cost - cost).abs() < 1e-6,
                    "{}: {} vs {}",
                    o.id,
                    d.total_cost,
                    cost
                );
                splits += usize::from(d.shipments.len() > 1);
            }
            None => assert_ne!(d.status, Status::Sourced, "{}", o.id),
        }
        // Consume the orders so later ones meet thinner stock.
        consume(&engine, o);
    }
    assert!(
        splits > 10,
        "the scenario should exercise split plans, got {splits}"
    );
}

#[test]
fn stock_answers_by_location_and_sku_whatever_the_row_order() {
    let net = example_network();
    let rows = stock(&[
        (2, "B", 4),
        (0, "A", 5),
        (1, "B", 1),
        (0, "B", 7),
        (0, "A", 9),
    ]);
    let mut reversed = rows.clone();
    reversed.reverse();
    let a = crate::stock::Stock::new(&net, &rows);
    let b = crate::stock::Stock::new(&net, &reversed);
    // A repeated (location, SKU) pair keeps its last row.
    assert_eq!(a.atp(0, "A"), 9);
    assert_eq!(b.atp(0, "A"), 5);
    for (l, sku, n) in [
        (0, "B", 7),
        (1, "B", 1),
        (2, "B", 4),
        (1, "A", 0),
        (2, "C", 0),
    ] {
        assert_eq!(a.atp(l, sku), n, "{l} {sku}");
        assert_eq!(b.atp(l, sku), n, "{l} {sku}");
    }
    assert_eq!(a.total_atp("B"), 12);
    assert_eq!(a.skus().collect::<Vec<_>>(), ["A", "B"]);
    assert_eq!(b.skus().collect::<Vec<_>>(), ["A", "B"]);
}

#[test]
fn a_location_holding_most_of_the_range_answers_the_same() {
    // DC-A holds 3,000 SKUs (a dense table), the store a few (a sorted list).
    let net = example_network();
    let skus: Vec<String> = (0..3000).map(|i| format!("S{i:04}")).collect();
    let mut rows: Vec<(usize, &str, u64)> = skus
        .iter()
        .enumerate()
        .map(|(i, s)| (0, s.as_str(), i as u64 % 7))
        .collect();
    rows.push((2, "S0005", 3));
    rows.push((1, "ONLY-B", 2));
    let st = crate::stock::Stock::new(&net, &stock(&rows));
    for (i, s) in skus.iter().enumerate().step_by(97) {
        assert_eq!(st.atp(0, s), i as u64 % 7, "{s}");
    }
    assert_eq!(st.atp(0, "ONLY-B"), 0);
    assert_eq!(st.atp(1, "ONLY-B"), 2);
    assert_eq!(st.atp(2, "S0005"), 3);
    assert_eq!(st.atp(1, "S0005"), 0);
    assert_eq!(st.atp(0, "NOPE"), 0);
}

#[test]
fn reservations_hold_units_and_release_exactly_what_they_held() {
    let net = example_network();
    let engine = Engine::new(net, &stock(&[(0, "A", 10), (1, "A", 4), (0, "B", 3)]));
    let o = order(
        "R1",
        51.1,
        9.1,
        None,
        vec![line("A", 12, 1.0), line("B", 2, 1.0)],
    );
    let (d, r) = reserve(&engine, &o);
    assert_eq!(d.status, Status::Sourced);
    assert_eq!((r.order.as_str(), r.units()), ("R1", 14));
    assert_eq!(
        engine.stock().total_atp("A") + engine.stock().total_atp("B"),
        3
    );
    // While held, nobody else gets those units.
    assert_eq!(quote(&engine, &o).status, Status::Partial);
    engine.release(&r.id).unwrap();
    assert_eq!(
        (
            engine.stock().atp(0, "A"),
            engine.stock().atp(1, "A"),
            engine.stock().atp(0, "B")
        ),
        (10, 4, 3)
    );
    let (_, r) = reserve(&engine, &o);
    engine.confirm(&r.id).unwrap();
    assert_eq!(engine.stock().total_atp("A"), 2);
}

#[test]
fn concurrent_reservations_never_share_a_unit_and_add_up() {
    let net = example_network();
    let rows = stock(&[(0, "A", 30), (1, "A", 20), (2, "A", 10)]);
    let engine = Engine::new(net, &rows);
    let kept: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|t| {
                let engine = &engine;
                scope.spawn(move || {
                    let mut kept = 0;
                    for i in 0..40 {
                        let o = order(
                            &format!("T{t}-{i}"),
                            51.0,
                            9.0,
                            None,
                            vec![line("A", 1 + (i % 3), 1.0)],
                        );
                        let (d, r) = reserve(engine, &o);
                        let placed: u64 = d
                            .shipments
                            .iter()
                            .flat_map(|s| &s.lines)
                            .map(|l| u64::from(l.qty))
                            .sum();
                        assert_eq!(placed, r.units());
                        // Release every other reservation, keep the rest.
                        if i % 2 == 0 {
                            engine.release(&r.id).unwrap();
                        } else {
                            kept += r.units();
                            engine.confirm(&r.id).unwrap();
                        }
                    }
                    kept
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .sum()
    });
    assert!(kept <= 60, "never more than the stock");
    assert_eq!(
        engine.stock().total_atp("A"),
        u128::from(60 - kept),
        "released units are all back"
    );
}

fn dated(id: &str, day: u32, lines: Vec<OrderLine>) -> Order {
    let mut o = order(id, 51.0, 9.0, None, lines);
    o.placed_at = Some(format!("2026-11-{day:02}T10:00:00Z"));
    o
}

#[test]
fn daily_capacity_fills_up_and_returns_the_next_day() {
    let mut net = example_network();
    net.locations[0].daily_capacity = Some(2);
    let net = Network::new(
        net.currency.clone(),
        net.locations.clone(),
        net.services.clone(),
    );
    let engine = Engine::new(net, &stock(&[(0, "A", 10), (1, "A", 10), (0, "ONLY", 10)]));
    let first: Vec<String> = (0..3)
        .map(|i| {
            consume(
                &engine,
                &dated(&format!("O{i}"), 23, vec![line("A", 1, 1.0)]),
            )
            .shipments[0]
                .location
                .clone()
        })
        .collect();
    assert_eq!(
        first,
        ["DC-A", "DC-A", "DC-B"],
        "the third order finds DC-A full"
    );
    // A SKU only the full location holds: unsourced, and the reason says why.
    let d = consume(&engine, &dated("O3", 23, vec![line("ONLY", 1, 1.0)]));
    assert_eq!(
        (d.status, d.unsourced[0].reason.as_str()),
        (Status::Unsourced, "capacity")
    );
    // The next day DC-A ships again.
    let d = consume(&engine, &dated("O4", 24, vec![line("ONLY", 1, 1.0)]));
    assert_eq!(d.shipments[0].location, "DC-A");
    // Releasing a reservation gives its shipment back to the day's capacity.
    let (d, r) = reserve(&engine, &dated("O5", 24, vec![line("A", 1, 1.0)]));
    assert_eq!(d.shipments[0].location, "DC-A");
    assert_eq!(
        quote(&engine, &dated("O6", 24, vec![line("ONLY", 1, 1.0)])).status,
        Status::Unsourced
    );
    engine.release(&r.id).unwrap();
    assert_eq!(
        quote(&engine, &dated("O6", 24, vec![line("ONLY", 1, 1.0)])).status,
        Status::Sourced
    );
}
