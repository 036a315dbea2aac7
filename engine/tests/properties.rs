//! Property tests of the engine through its public API, on random networks, stock and
//! orders, against an independent model of the contract (section 4): its own haversine,
//! service choice, days and cost, and its own brute-force search.
//!
//! Each property runs a small number of cases so that `cargo test` stays quick; set
//! `PROPTEST_CASES` for a longer run (see the README, "Property tests and fuzzing").
#![allow(clippy::expect_used, clippy::panic, reason = "tests fail by panicking")]

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use sourcing_engine::load::InventoryRecord;
use sourcing_engine::{
    Decision, Engine, Fulfillment, Location, LocationKind, Network, Order, OrderLine, RouteOptions,
    RulesSource, Service, ShipTo, Status,
};
use std::collections::BTreeMap;

/// `cases` cases, or `PROPTEST_CASES` when it is set.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

const SKUS: [&str; 3] = ["A", "B", "C"];
const KINDS: [LocationKind; 3] = [
    LocationKind::Dc,
    LocationKind::Store,
    LocationKind::Dropship,
];

// ---------------------------------------------------------------------------------------
// The contract's model, written out independently of the engine.
// ---------------------------------------------------------------------------------------

/// Great-circle distance on the contract's sphere (radius 6371.0 km), in the `atan2` form
/// of the haversine (the engine uses the `asin` form; both are the same distance).
fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let rad = std::f64::consts::PI / 180.0;
    let d_lat = (lat2 - lat1) * rad;
    let d_lon = (lon2 - lon1) * rad;
    let h = (d_lat / 2.0).sin().powi(2)
        + (lat1 * rad).cos() * (lat2 * rad).cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().atan2((1.0 - h).max(0.0).sqrt())
}

/// What the contract says one shipment is.
#[derive(Debug, Clone)]
struct Expected {
    /// The service index, `None` at the pickup counter.
    service: Option<usize>,
    distance: f64,
    days: u32,
    cost: f64,
    meets_promise: bool,
}

fn is_counter(net: &Network, order: &Order, loc: usize) -> bool {
    order.fulfillment == Fulfillment::Pickup
        && net.locations[loc].kind == LocationKind::Store
        && order.pickup_location.as_deref() == Some(net.locations[loc].id.as_str())
}

/// Every way the contract lets location `loc` ship `weight` kg of `order`: the options
/// allowed (those keeping the promise, or all when none does), each with its cost.
fn options(net: &Network, order: &Order, loc: usize, weight: f64) -> Vec<Expected> {
    let l = &net.locations[loc];
    let meets = |days: u32| order.promise_days.is_none_or(|p| days <= p);
    if is_counter(net, order, loc) {
        return vec![Expected {
            service: None,
            distance: 0.0,
            days: l.processing_days,
            cost: l.handling_cost,
            meets_promise: meets(l.processing_days),
        }];
    }
    let d = distance_km(l.lat, l.lon, order.ship_to.lat, order.ship_to.lon);
    let all: Vec<Expected> = net
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let transit = ((d / s.km_per_day).ceil() as u32).max(1);
            let days = l.processing_days + transit;
            Expected {
                service: Some(i),
                distance: d,
                days,
                cost: l.handling_cost + s.base_cost + s.cost_per_km * d + s.cost_per_kg * weight,
                meets_promise: meets(days),
            }
        })
        .collect();
    let keeping: Vec<Expected> = all.iter().filter(|o| o.meets_promise).cloned().collect();
    if keeping.is_empty() {
        all
    } else {
        keeping
    }
}

/// The shipment the contract picks: the cheapest allowed option, ties to the earlier one.
fn shipment(net: &Network, order: &Order, loc: usize, weight: f64) -> Expected {
    let mut best: Option<Expected> = None;
    for o in options(net, order, loc, weight) {
        if best.as_ref().is_none_or(|b| o.cost < b.cost) {
            best = Some(o);
        }
    }
    best.expect("a network has at least one service")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Checks one decision against the order, the stock it was planned against
/// (`available(location, sku)`) and the contract's formulas; returns the units it places
/// per (location index, SKU).
fn check_decision(
    net: &Network,
    order: &Order,
    d: &Decision,
    available: &dyn Fn(usize, &str) -> u64,
) -> BTreeMap<(usize, String), u64> {
    assert_eq!(d.order, order.id);
    let mut per_line = vec![0u64; order.lines.len()];
    let mut per_pair: BTreeMap<(usize, String), u64> = BTreeMap::new();
    let mut total = 0.0;
    let mut seen = Vec::new();
    for s in &d.shipments {
        let loc = net
            .location_index(&s.location)
            .expect("a shipment leaves a location of the network");
        assert!(!seen.contains(&loc), "one shipment per location: {d:?}");
        seen.push(loc);
        assert!(!s.lines.is_empty(), "a shipment ships something");
        let mut weight = 0.0;
        for l in &s.lines {
            let line = &order.lines[l.line];
            assert_eq!(l.sku, line.sku);
            assert!(l.qty > 0, "no empty shipment line");
            per_line[l.line] += u64::from(l.qty);
            *per_pair.entry((loc, l.sku.clone())).or_default() += u64::from(l.qty);
            weight += f64::from(l.qty) * line.unit_weight_kg;
        }
        let want = shipment(net, order, loc, weight);
        let service = s
            .service
            .as_deref()
            .map(|id| net.services.iter().position(|x| x.id == id).expect("known"));
        if service == want.service {
            assert_eq!(s.days, want.days, "days of {s:?}");
            assert_eq!(s.meets_promise, want.meets_promise, "{s:?}");
        } else {
            // Only a tie in cost may pick another service, and it must be an allowed one.
            let allowed = options(net, order, loc, weight);
            let other = allowed
                .iter()
                .find(|o| o.service == service)
                .unwrap_or_else(|| panic!("{s:?} uses a service the contract does not allow"));
            assert!(close(other.cost, want.cost), "{s:?} is not the cheapest");
        }
        assert!(
            (s.distance_km - want.distance).abs() < 1e-6,
            "distance {} vs {}",
            s.distance_km,
            want.distance
        );
        assert!(close(s.cost, want.cost), "cost {} vs {}", s.cost, want.cost);
        total += s.cost;
    }
    assert!(
        close(total, d.total_cost),
        "total {} vs {total}",
        d.total_cost
    );
    for (i, line) in order.lines.iter().enumerate() {
        let open: u64 = d
            .unsourced
            .iter()
            .filter(|u| u.line == i)
            .map(|u| u64::from(u.qty))
            .sum();
        assert!(per_line[i] <= u64::from(line.qty), "line {i} over-filled");
        assert_eq!(
            per_line[i] + open,
            u64::from(line.qty),
            "line {i} adds up in {d:?}"
        );
    }
    for u in &d.unsourced {
        assert_eq!(u.sku, order.lines[u.line].sku);
        assert!(u.qty > 0);
    }
    for ((loc, sku), qty) in &per_pair {
        assert!(
            *qty <= available(*loc, sku),
            "{} {sku}: {qty} placed, {} available",
            net.locations[*loc].id,
            available(*loc, sku)
        );
    }
    let placed: u64 = per_line.iter().sum();
    let expected_status = if d.unsourced.is_empty() {
        Status::Sourced
    } else if placed == 0 {
        Status::Unsourced
    } else {
        Status::Partial
    };
    assert_eq!(d.status, expected_status);
    per_pair
}

/// The contract's ATP of a stock row.
fn atp(r: &InventoryRecord) -> u64 {
    r.on_hand
        .saturating_sub(r.reserved)
        .saturating_sub(r.safety_stock)
}

fn initial_atp(rows: &[InventoryRecord]) -> BTreeMap<(usize, String), u64> {
    rows.iter()
        .map(|r| ((r.location, r.sku.clone()), atp(r)))
        .collect()
}

/// The least cost of placing `qty[i]` units of every line, each only where `allowed`
/// (location, line) holds, within `stock`; `None` when it cannot be done. Tries every
/// allocation of every unit.
fn brute_force(
    net: &Network,
    order: &Order,
    qty: &[u64],
    stock: &BTreeMap<(usize, String), u64>,
    allowed: &dyn Fn(usize, usize) -> bool,
) -> Option<f64> {
    struct Search<'a> {
        net: &'a Network,
        order: &'a Order,
        qty: &'a [u64],
        allowed: &'a dyn Fn(usize, usize) -> bool,
        left: BTreeMap<(usize, String), u64>,
        used: Vec<Vec<u64>>,
        best: Option<f64>,
    }
    impl Search<'_> {
        fn line(&mut self, i: usize) {
            if i == self.qty.len() {
                let mut cost = 0.0;
                for (loc, units) in self.used.iter().enumerate() {
                    if units.iter().any(|&u| u > 0) {
                        let w: f64 = units
                            .iter()
                            .zip(&self.order.lines)
                            .map(|(&u, l)| u as f64 * l.unit_weight_kg)
                            .sum();
                        cost += shipment(self.net, self.order, loc, w).cost;
                    }
                }
                if self.best.is_none_or(|b| cost < b) {
                    self.best = Some(cost);
                }
                return;
            }
            self.spread(i, 0, self.qty[i]);
        }
        fn spread(&mut self, i: usize, loc: usize, rest: u64) {
            if loc == self.used.len() {
                if rest == 0 {
                    self.line(i + 1);
                }
                return;
            }
            let key = (loc, self.order.lines[i].sku.clone());
            let room = if (self.allowed)(loc, i) {
                self.left.get(&key).copied().unwrap_or(0).min(rest)
            } else {
                0
            };
            for x in 0..=room {
                self.used[loc][i] = x;
                *self.left.entry(key.clone()).or_default() -= x;
                self.spread(i, loc + 1, rest - x);
                *self.left.entry(key.clone()).or_default() += x;
            }
            self.used[loc][i] = 0;
        }
    }
    let mut s = Search {
        net,
        order,
        qty,
        allowed,
        left: stock.clone(),
        used: vec![vec![0; order.lines.len()]; net.locations.len()],
        best: None,
    };
    s.line(0);
    s.best
}

/// Each line cut to what its SKU has left after the earlier lines (the router's rule for
/// orders that cannot be placed whole).
fn placeable(order: &Order, stock: &BTreeMap<(usize, String), u64>) -> Vec<u64> {
    let mut left: BTreeMap<&str, u64> = BTreeMap::new();
    for ((_, sku), n) in stock {
        *left.entry(sku.as_str()).or_default() += n;
    }
    order
        .lines
        .iter()
        .map(|l| {
            let avail = left.entry(l.sku.as_str()).or_default();
            let q = u64::from(l.qty).min(*avail);
            *avail -= q;
            q
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Random inputs.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Case {
    net: Network,
    rows: Vec<InventoryRecord>,
    orders: Vec<Order>,
}

fn location(i: usize, (lat, lon, handling, days, kind): (f64, f64, f64, u32, usize)) -> Location {
    Location {
        id: format!("L{i}"),
        kind: KINDS[kind],
        lat,
        lon,
        country: None,
        region: None,
        tags: if i.is_multiple_of(2) {
            vec!["t".into()]
        } else {
            vec![]
        },
        handling_cost: handling,
        processing_days: days,
        daily_capacity: None,
        priority: None,
        attr: Default::default(),
    }
}

/// A random network of up to `max_locations` locations, its stock (with reserved units and
/// safety stock) and `orders` orders (shipped or picked up at a store, dated over a few
/// days).
fn arb_case(
    max_locations: usize,
    orders: std::ops::Range<usize>,
    capacity: bool,
) -> impl Strategy<Value = Case> {
    let loc = (47.5f64..54.0, 6.0f64..14.0, 0.0f64..5.0, 0u32..3, 0usize..3);
    let extra = (
        prop::option::weighted(0.4, 1u32..4),
        prop::option::of(0i64..3),
    );
    let svc = (0.0f64..10.0, 0.0f64..0.01, 0.0f64..1.0, 100.0f64..1500.0);
    let row = (prop::bool::weighted(0.7), 0u64..7, 0u64..3, 0u64..2);
    let line = (0usize..3, 1u32..4, 0.1f64..40.0);
    let ord = (
        prop::collection::vec(line, 1..4),
        (47.5f64..54.0, 6.0f64..14.0),
        prop::option::of(1u32..5),
        prop::bool::weighted(0.25),
        0u32..3,
    );
    (
        prop::collection::vec((loc, extra), 1..=max_locations),
        prop::collection::vec(svc, 1..3),
        prop::collection::vec(row, max_locations * 3),
        prop::collection::vec(ord, orders),
    )
        .prop_map(move |(locs, svcs, stock, ords)| {
            let locations: Vec<Location> = locs
                .iter()
                .enumerate()
                .map(|(i, &(l, (cap, priority)))| {
                    let mut loc = location(i, l);
                    loc.priority = priority;
                    if capacity {
                        loc.daily_capacity = cap;
                    }
                    loc
                })
                .collect();
            let services = svcs
                .iter()
                .enumerate()
                .map(|(i, &(base, km, kg, speed))| Service {
                    id: format!("s{i}"),
                    base_cost: base,
                    cost_per_km: km,
                    cost_per_kg: kg,
                    km_per_day: speed,
                })
                .collect();
            let mut rows = Vec::new();
            for (l, _) in locations.iter().enumerate() {
                for (s, sku) in SKUS.iter().enumerate() {
                    let (present, on_hand, reserved, safety) = stock[l * 3 + s];
                    if present {
                        rows.push(InventoryRecord {
                            location: l,
                            sku: (*sku).into(),
                            on_hand,
                            reserved,
                            safety_stock: safety,
                        });
                    }
                }
            }
            let stores: Vec<&Location> = locations
                .iter()
                .filter(|l| l.kind == LocationKind::Store)
                .collect();
            let orders = ords
                .iter()
                .enumerate()
                .map(|(n, (lines, (lat, lon), promise, pickup, day))| {
                    let mut o = Order {
                        id: format!("O{n}"),
                        channel: None,
                        placed_at: Some(format!("2026-11-{:02}T10:00:00Z", 23 + day)),
                        customer_tier: None,
                        ship_to: ShipTo {
                            lat: *lat,
                            lon: *lon,
                            country: None,
                            region: None,
                            postal_code: None,
                        },
                        fulfillment: Fulfillment::Ship,
                        pickup_location: None,
                        promise_days: *promise,
                        lines: lines
                            .iter()
                            .map(|&(s, qty, kg)| OrderLine {
                                sku: SKUS[s].into(),
                                qty,
                                unit_weight_kg: kg,
                                unit_price: 0.0,
                                tags: vec![],
                                group: None,
                                pack_size: None,
                                attr: Default::default(),
                            })
                            .collect(),
                        attr: Default::default(),
                    };
                    if *pickup && !stores.is_empty() {
                        let store = stores[n % stores.len()];
                        o.fulfillment = Fulfillment::Pickup;
                        o.pickup_location = Some(store.id.clone());
                        o.ship_to.lat = store.lat;
                        o.ship_to.lon = store.lon;
                    }
                    o
                })
                .collect();
            Case {
                net: Network::new("EUR".into(), locations, services),
                rows,
                orders,
            }
        })
}

/// Units taken per (location, SKU) over many decisions.
fn taken(net: &Network, decisions: &[Decision]) -> BTreeMap<(usize, String), u64> {
    let mut taken: BTreeMap<(usize, String), u64> = BTreeMap::new();
    for d in decisions {
        for s in &d.shipments {
            let loc = net.location_index(&s.location).expect("known location");
            for l in &s.lines {
                *taken.entry((loc, l.sku.clone())).or_default() += u64::from(l.qty);
            }
        }
    }
    taken
}

/// No more units taken than the stock had, and the stock left is exactly the rest.
fn assert_stock_adds_up(case: &Case, engine: &Engine, decisions: &[Decision]) {
    let taken = taken(&case.net, decisions);
    let initial = initial_atp(&case.rows);
    for (key, &n) in &taken {
        let had = initial.get(key).copied().unwrap_or(0);
        assert!(n <= had, "{key:?}: {n} units taken, {had} available");
    }
    for ((loc, sku), had) in initial {
        let n = taken.get(&(loc, sku.clone())).copied().unwrap_or(0);
        assert_eq!(engine.stock().atp(loc, &sku), had - n, "{loc} {sku}");
    }
}

/// No location sends more shipments on a day than its daily capacity.
fn assert_capacity_kept(case: &Case, decisions: &[Decision]) {
    let mut shipments: BTreeMap<(String, &str), u32> = BTreeMap::new();
    for (d, o) in decisions.iter().zip(&case.orders) {
        let day = o.placed_at.as_deref().unwrap_or_default();
        for s in &d.shipments {
            *shipments
                .entry((s.location.clone(), &day[..10]))
                .or_default() += 1;
        }
    }
    for ((loc, day), n) in shipments {
        let cap = case.net.location(&loc).and_then(|l| l.daily_capacity);
        assert!(cap.is_none_or(|c| n <= c), "{loc} sent {n} on {day}");
    }
}

/// A generated order, through the engine's validation (every generated order is valid).
fn valid(engine: &Engine, o: &Order) -> sourcing_engine::ValidOrder {
    engine
        .validate(o.clone())
        .unwrap_or_else(|e| panic!("a generated order is valid: {e}\n{o:?}"))
}

fn consume(engine: &Engine, o: &Order) -> Decision {
    engine
        .route(&valid(engine, o), &RouteOptions::consume())
        .decision
}

fn quote(engine: &Engine, o: &Order) -> Decision {
    engine
        .route(&valid(engine, o), &RouteOptions::quote())
        .decision
}

// ---------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(48))]

    /// Orders routed one after the other: each decision is valid against the stock left
    /// by the earlier ones (reserved units and safety stock never shipped), costs are the
    /// contract's, daily capacity holds, and the stock left is exactly what was not taken.
    #[test]
    fn sequential_routing_never_oversells(case in arb_case(5, 1..12, true)) {
        let engine = Engine::new(case.net.clone(), &case.rows);
        let mut left = initial_atp(&case.rows);
        let mut decisions = Vec::new();
        for o in &case.orders {
            let d = consume(&engine, o);
            let took = check_decision(&case.net, o, &d, &|l, s| {
                left.get(&(l, s.to_string())).copied().unwrap_or(0)
            });
            for (key, n) in took {
                *left.get_mut(&key).expect("taken from a listed pair") -= n;
            }
            decisions.push(d);
        }
        assert_stock_adds_up(&case, &engine, &decisions);
        assert_capacity_kept(&case, &decisions);
    }

}

proptest! {
    // Cheap cases; many of them, so that threads often race for the same units.
    #![proptest_config(config(200))]

    /// The same, from four threads at once: whatever the interleaving, no unit is placed
    /// twice, no capacity is exceeded, and every decision is valid on its own (every unit
    /// of every line placed or listed unsourced, even when another thread takes the stock
    /// an order was counting on).
    #[test]
    fn concurrent_routing_never_oversells(case in arb_case(4, 8..24, true)) {
        let engine = Engine::new(case.net.clone(), &case.rows);
        let initial = initial_atp(&case.rows);
        let decisions: Vec<Decision> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let (engine, orders) = (&engine, &case.orders);
                    scope.spawn(move || {
                        orders
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| i % 4 == t)
                            .map(|(i, o)| (i, consume(engine, o)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut all: Vec<(usize, Decision)> = handles
                .into_iter()
                .flat_map(|h| h.join().expect("no thread panics"))
                .collect();
            all.sort_by_key(|(i, _)| *i);
            all.into_iter().map(|(_, d)| d).collect()
        });
        for (o, d) in case.orders.iter().zip(&decisions) {
            check_decision(&case.net, o, d, &|l, s| {
                initial.get(&(l, s.to_string())).copied().unwrap_or(0)
            });
        }
        assert_stock_adds_up(&case, &engine, &decisions);
        assert_capacity_kept(&case, &decisions);
    }

}

proptest! {
    #![proptest_config(config(48))]

    /// The built-in `min-cost` plan of a small order is valid, places as many units as the
    /// stock allows, and is never more expensive than trying every allocation.
    #[test]
    fn min_cost_is_never_beaten_by_brute_force(case in arb_case(4, 1..2, false)) {
        let engine = Engine::new(case.net.clone(), &case.rows);
        let stock = initial_atp(&case.rows);
        let o = &case.orders[0];
        let d = quote(&engine, o);
        check_decision(&case.net, o, &d, &|l, s| stock.get(&(l, s.to_string())).copied().unwrap_or(0));
        let qty = placeable(o, &stock);
        let best = brute_force(&case.net, o, &qty, &stock, &|_, _| true)
            .expect("the placeable units can always be placed");
        let placed: u64 = d.shipments.iter().flat_map(|s| &s.lines).map(|l| u64::from(l.qty)).sum();
        prop_assert_eq!(placed, qty.iter().sum::<u64>());
        prop_assert!(d.total_cost <= best + 1e-9 * best.max(1.0), "min-cost {} > brute force {}", d.total_cost, best);
    }
}

// ---------------------------------------------------------------------------------------
// Exclusions in rule files.
// ---------------------------------------------------------------------------------------

/// A random least-cost strategy with exclusions, and the model of who it leaves in.
#[derive(Debug, Clone)]
struct Exclusions {
    /// `candidates`: location kinds allowed.
    kinds: Vec<LocationKind>,
    /// `exclude location when location.id in [...]`.
    ids: Vec<usize>,
    /// `exclude store when distance > N km`.
    store_km: Option<u32>,
    /// `exclude location when line.sku == S and location.tags has "t"`.
    tagged_sku: Option<usize>,
    /// `exclude store when atp - line.qty < N`.
    store_keep: Option<u32>,
}

impl Exclusions {
    fn source(&self) -> String {
        let sets: Vec<&str> = self
            .kinds
            .iter()
            .map(|k| match k {
                LocationKind::Dc => "dcs",
                LocationKind::Store => "stores",
                LocationKind::Dropship => "dropship",
            })
            .collect();
        let mut src = format!("strategy \"s\" {{\n  candidates {}\n", sets.join(", "));
        if !self.ids.is_empty() {
            let ids: Vec<String> = self.ids.iter().map(|i| format!("\"L{i}\"")).collect();
            src += &format!(
                "  exclude location when location.id in [{}] reason \"listed\"\n",
                ids.join(", ")
            );
        }
        if let Some(km) = self.store_km {
            src += &format!("  exclude store when distance > {km} km reason \"far\"\n");
        }
        if let Some(s) = self.tagged_sku {
            src += &format!(
                "  exclude location when line.sku == \"{}\" and location.tags has \"t\" reason \"tagged\"\n",
                SKUS[s]
            );
        }
        if let Some(n) = self.store_keep {
            src += &format!("  exclude store when atp - line.qty < {n} reason \"keep\"\n");
        }
        src + "  score cost\n  split allowed\n}\n"
    }

    /// Whether the rules leave `loc` in for line `line` of `order`, with the stock `stock`.
    /// A per-line exclusion drops the location for every line of the same SKU.
    fn allows(
        &self,
        net: &Network,
        order: &Order,
        stock: &BTreeMap<(usize, String), u64>,
        loc: usize,
        line: usize,
    ) -> bool {
        let l = &net.locations[loc];
        let sku = &order.lines[line].sku;
        let store = l.kind == LocationKind::Store;
        let far = self.store_km.is_some_and(|km| {
            store && distance_km(l.lat, l.lon, order.ship_to.lat, order.ship_to.lon) > f64::from(km)
        });
        let atp = stock.get(&(loc, sku.clone())).copied().unwrap_or(0) as f64;
        let per_line = order.lines.iter().filter(|x| &x.sku == sku).any(|x| {
            let tagged = self
                .tagged_sku
                .is_some_and(|s| x.sku == SKUS[s] && l.tags.iter().any(|t| t == "t"));
            let keep = self
                .store_keep
                .is_some_and(|n| store && atp - f64::from(x.qty) < f64::from(n));
            tagged || keep
        });
        self.kinds.contains(&l.kind) && !self.ids.contains(&loc) && !far && !per_line
    }
}

fn arb_exclusions() -> impl Strategy<Value = Exclusions> {
    (
        prop::sample::subsequence(KINDS.to_vec(), 1..=3),
        prop::collection::btree_set(0usize..4, 0..3),
        prop::option::of(20u32..400),
        prop::option::of(0usize..3),
        prop::option::of(0u32..3),
    )
        .prop_map(
            |(kinds, ids, store_km, tagged_sku, store_keep)| Exclusions {
                kinds,
                ids: ids.into_iter().collect(),
                store_km,
                tagged_sku,
                store_keep,
            },
        )
}

proptest! {
    #![proptest_config(config(64))]

    /// A location a rule excludes (or that is not a candidate) never ships, and the ruled
    /// least-cost plan is as cheap as trying every allocation over the locations left in.
    #[test]
    fn excluded_locations_are_never_used(mut case in arb_case(4, 1..2, false), rules in arb_exclusions()) {
        let o = &mut case.orders[0];
        o.fulfillment = Fulfillment::Ship;
        o.pickup_location = None;
        let o = &case.orders[0];
        let src = rules.source();
        let engine = Engine::new(case.net.clone(), &case.rows);
        engine
            .load_rules(RulesSource::text("excl.rules", src.clone()))
            .unwrap_or_else(|e| panic!("{src}\n{e}"));
        let stock = initial_atp(&case.rows);
        let d = quote(&engine, o);
        check_decision(&case.net, o, &d, &|l, s| stock.get(&(l, s.to_string())).copied().unwrap_or(0));
        for s in &d.shipments {
            let loc = case.net.location_index(&s.location).expect("known");
            for l in &s.lines {
                prop_assert!(rules.allows(&case.net, o, &stock, loc, l.line),
                    "{} ships line {} although excluded by\n{}", s.location, l.line, src);
            }
        }
        let whole: Vec<u64> = o.lines.iter().map(|l| u64::from(l.qty)).collect();
        let allowed = |loc: usize, line: usize| rules.allows(&case.net, o, &stock, loc, line);
        match brute_force(&case.net, o, &whole, &stock, &allowed) {
            Some(best) => {
                prop_assert_eq!(d.status, Status::Sourced, "a complete plan exists:\n{}", src);
                prop_assert!(d.total_cost <= best + 1e-9 * best.max(1.0),
                    "ruled plan {} > brute force {}\n{}", d.total_cost, best, src);
            }
            None => prop_assert_ne!(d.status, Status::Sourced),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The same input gives the same output, whatever the number of threads.
// ---------------------------------------------------------------------------------------

/// The bundled rule files, and no rules (the built-in strategy).
fn rule_files() -> Vec<Option<String>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("rules/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    files.sort();
    std::iter::once(None)
        .chain(
            files
                .iter()
                .map(|p| Some(std::fs::read_to_string(p).expect("readable"))),
        )
        .collect()
}

fn quote_all(engine: &Engine, orders: &[Order], threads: usize) -> Vec<(Decision, String)> {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    pool.install(|| {
        orders
            .par_iter()
            .map(|o| {
                let out = engine.route(&valid(engine, o), &RouteOptions::quote().explain(true));
                let (d, why) = (out.decision, out.explain.expect("explained"));
                let why = serde_json::to_string(&why).expect("serialisable");
                (d, why)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(config(12))]

    /// Quoting a batch (`route --no-consume`) on 1 thread and on 4 gives the same
    /// decisions and explanations, with and without each bundled rule file.
    #[test]
    fn same_output_for_any_thread_count(mut case in arb_case(6, 16..40, true)) {
        for (i, o) in case.orders.iter_mut().enumerate() {
            o.channel = Some(["web", "store", "app"][i % 3].into());
            o.customer_tier = Some(["gold", "silver"][i % 2].into());
            if i % 5 == 0 {
                o.lines[0].tags = vec!["bulky".into()];
            }
        }
        for rules in rule_files() {
            let engine = Engine::new(case.net.clone(), &case.rows);
            if let Some(src) = &rules {
                engine
                    .load_rules(RulesSource::text("r.rules", src.clone()))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            let one = quote_all(&engine, &case.orders, 1);
            let four = quote_all(&engine, &case.orders, 4);
            prop_assert_eq!(&one, &four);
            let again = quote_all(&engine, &case.orders, 4);
            prop_assert_eq!(&one, &again);
            if rules.is_none() {
                let stock = initial_atp(&case.rows);
                for (o, (d, _)) in case.orders.iter().zip(&one) {
                    check_decision(&case.net, o, d, &|l, s| stock.get(&(l, s.to_string())).copied().unwrap_or(0));
                }
            }
        }
    }
}
