//! Entry points for fuzzing the loaders and what runs on what they load.
//!
//! Each function takes any bytes, feeds them to one loader (`network.json`,
//! `inventory.csv`, `inventory.json`, `orders.jsonl`, stock events) or to the rule
//! language and the engine, and panics if an invariant breaks: every problem is located
//! inside the input (1-based line and column, shown as `file:line:column:`), and whatever
//! loads is routed without a panic into decisions that account for every unit, within the
//! stock, at finite costs. Inputs that need a network or stock use the bundled example
//! data (`data/example/`).
//!
//! The `fuzz/` crate calls these functions from its targets, and the engine's tests call
//! them on random and mutated inputs.

use crate::load::{self, InventoryRecord, LoadErrors, OrderReader};
use crate::model::decision::{Decision, Status};
use crate::model::network::{LocationKind, Network};
use crate::model::order::{Fulfillment, Order, OrderLine, ShipTo};
use crate::rules::Rules;
use crate::{Engine, RouteOptions, RulesSource};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The bundled example network.
pub const EXAMPLE_NETWORK: &str = include_str!("../../data/example/network.json");
/// The bundled example stock.
pub const EXAMPLE_INVENTORY: &str = include_str!("../../data/example/inventory.csv");
/// The bundled example orders.
pub const EXAMPLE_ORDERS: &str = include_str!("../../data/example/orders.jsonl");

/// The example network, stock and orders, loaded once.
struct Example {
    network: Network,
    stock: Vec<InventoryRecord>,
    orders: Vec<Order>,
}

fn example() -> &'static Example {
    static EXAMPLE: OnceLock<Example> = OnceLock::new();
    EXAMPLE.get_or_init(|| {
        let network = load::parse_network("network.json", EXAMPLE_NETWORK);
        assert!(network.is_ok(), "the example network loads: {network:?}");
        let network = network.unwrap_or_else(|_| Network::new(String::new(), vec![], vec![]));
        let stock =
            load::parse_inventory_csv("inventory.csv", EXAMPLE_INVENTORY.as_bytes(), &network);
        assert!(stock.is_ok(), "the example stock loads: {stock:?}");
        let orders: Vec<Order> =
            OrderReader::new("orders.jsonl", EXAMPLE_ORDERS.as_bytes(), &network)
                .filter_map(Result::ok)
                .collect();
        assert!(!orders.is_empty(), "the example orders load");
        Example {
            stock: stock.unwrap_or_default(),
            network,
            orders,
        }
    })
}

/// Lines of the input, for checking problem positions.
fn lines_of(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .split('\n')
        .map(str::to_string)
        .collect()
}

/// Every problem names `file`, lies within the input, and shows as `file:line:column: …`.
fn check_errors(file: &str, data: &[u8], errors: &LoadErrors) {
    assert!(!errors.is_empty(), "a failed load reports a problem");
    assert!(errors.errors().len() <= LoadErrors::MAX_SHOWN);
    assert!(errors.len() >= errors.errors().len());
    let lines = lines_of(data);
    for e in errors.errors() {
        assert_eq!(e.file, file, "{e}");
        assert!(e.line >= 1 && e.column >= 1, "{e}");
        assert!(
            e.line <= lines.len(),
            "{e}: the input has {} lines",
            lines.len()
        );
        let width = lines.get(e.line - 1).map_or(0, |l| l.chars().count());
        assert!(
            e.column <= width + 1,
            "{e}: line {} has {width} characters",
            e.line
        );
        let shown = e.to_string();
        let prefix = format!("{file}:{}:{}: ", e.line, e.column);
        assert!(shown.starts_with(&prefix), "{shown}");
    }
    let _ = errors.to_string();
}

/// A decision is sane for `order` against `available(location, sku)`: every unit of every
/// line placed or listed unsourced, never more than the stock, finite costs that add up,
/// and it serialises to JSON.
pub(crate) fn check_decision(
    network: &Network,
    order: &Order,
    d: &Decision,
    available: &dyn Fn(usize, &str) -> u64,
) {
    assert_eq!(d.order, order.id);
    let mut per_line = vec![0u64; order.lines.len()];
    let mut per_pair: BTreeMap<(usize, &str), u64> = BTreeMap::new();
    let mut total = 0.0;
    for s in &d.shipments {
        let loc = network.location_index(&s.location);
        assert!(loc.is_some(), "{} is in the network", s.location);
        let loc = loc.unwrap_or_default();
        for l in &s.lines {
            assert!(l.line < order.lines.len(), "{d:?}");
            assert_eq!(l.sku, order.lines[l.line].sku);
            per_line[l.line] += u64::from(l.qty);
            *per_pair.entry((loc, l.sku.as_str())).or_default() += u64::from(l.qty);
        }
        assert!(s.cost.is_finite() && s.cost.is_sign_positive(), "{s:?}");
        assert!(s.distance_km.is_finite() && s.distance_km >= 0.0, "{s:?}");
        // Days are the contract's sum, exact: nothing saturated on the way.
        if let Some(l) = network.locations.get(loc) {
            let transit = s
                .service
                .as_deref()
                .and_then(|id| network.services.iter().find(|x| x.id == id))
                .map_or(0.0, |x| (s.distance_km / x.km_per_day).ceil().max(1.0));
            assert_eq!(
                f64::from(s.days),
                f64::from(l.processing_days) + transit,
                "{s:?}"
            );
        }
        total += s.cost;
    }
    assert!(d.total_cost.is_finite(), "{d:?}");
    assert!(
        (total - d.total_cost).abs() <= 1e-9 * total.abs().max(1.0),
        "{d:?}"
    );
    for u in &d.unsourced {
        assert!(u.line < order.lines.len(), "{d:?}");
        per_line[u.line] += u64::from(u.qty);
    }
    for (i, line) in order.lines.iter().enumerate() {
        assert_eq!(per_line[i], u64::from(line.qty), "line {i} of {d:?}");
    }
    for ((loc, sku), qty) in per_pair {
        assert!(qty <= available(loc, sku), "{d:?} oversells {sku}");
    }
    let expected = if d.unsourced.is_empty() {
        Status::Sourced
    } else if d.shipments.is_empty() {
        Status::Unsourced
    } else {
        Status::Partial
    };
    assert_eq!(d.status, expected, "{d:?}");
    assert!(serde_json::to_string(d).is_ok());
}

/// Quotes, explains, then routes every order on `engine`, checking each decision against
/// the stock before it; the three agree.
fn route_all(engine: &Engine, orders: &[Order]) {
    let network = engine.network();
    for o in orders {
        let before: BTreeMap<(usize, &str), u64> = (0..network.locations.len())
            .flat_map(|l| o.lines.iter().map(move |line| (l, line.sku.as_str())))
            .map(|(l, sku)| ((l, sku), engine.stock().atp(l, sku)))
            .collect();
        let available = |l: usize, s: &str| before.get(&(l, s)).copied().unwrap_or(0);
        let quoted = engine.route_order(o, &RouteOptions::quote()).decision;
        check_decision(network, o, &quoted, &available);
        if engine.rules().is_none() {
            check_reasons(network, o, &quoted, &available);
        }
        let explained = engine.route_order(o, &RouteOptions::quote().explain(true));
        assert_eq!(explained.decision, quoted);
        assert!(serde_json::to_string(&explained.explain).is_ok());
        let routed = engine.route_order(o, &RouteOptions::consume()).decision;
        check_decision(network, o, &routed, &available);
        assert_eq!(
            routed, quoted,
            "one thread: routing decides what quoting did"
        );
    }
}

/// The built-in strategy says a line lacks stock only when it does: `no_stock` when the
/// network holds none of its SKU, `insufficient_stock` when it holds fewer units than the
/// order's lines of that SKU ask for.
fn check_reasons(
    network: &Network,
    order: &Order,
    d: &Decision,
    available: &dyn Fn(usize, &str) -> u64,
) {
    for u in &d.unsourced {
        let held: u64 = (0..network.locations.len())
            .map(|l| available(l, &u.sku))
            .sum();
        let asked: u64 = order
            .lines
            .iter()
            .filter(|l| l.sku == u.sku)
            .map(|l| u64::from(l.qty))
            .sum();
        match u.reason.as_str() {
            "no_stock" => assert_eq!(held, 0, "{d:?}"),
            "insufficient_stock" => assert!(held < asked, "{held} held, {asked} asked: {d:?}"),
            _ => {}
        }
    }
}

/// An order for `qty` units of every SKU in `skus`, shipped to `(lat, lon)`.
fn probe_order(
    id: &str,
    lat: f64,
    lon: f64,
    promise: Option<u32>,
    skus: &[&str],
    qty: u32,
) -> Order {
    Order {
        id: id.into(),
        channel: Some("web".into()),
        placed_at: Some("2026-11-23T10:00:00Z".into()),
        customer_tier: None,
        ship_to: ShipTo {
            lat,
            lon,
            country: Some("DE".into()),
            region: None,
            postal_code: None,
        },
        fulfillment: Fulfillment::Ship,
        pickup_location: None,
        promise_days: promise,
        lines: skus
            .iter()
            .map(|sku| OrderLine {
                sku: (*sku).into(),
                qty,
                unit_weight_kg: 1.5,
                unit_price: 10.0,
                tags: vec![],
                group: None,
                pack_size: None,
                attr: Default::default(),
            })
            .collect(),
        attr: Default::default(),
    }
}

/// `network.json`: problems are located; a network that loads is well formed and routes.
pub fn network_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let network = match load::parse_network("network.json", &text) {
        Ok(network) => network,
        Err(errors) => return check_errors("network.json", text.as_bytes(), &errors),
    };
    assert!(!network.locations.is_empty() && !network.services.is_empty());
    for (i, l) in network.locations.iter().enumerate() {
        assert_eq!(network.location_index(&l.id), Some(i), "ids are unique");
        assert!((-90.0..=90.0).contains(&l.lat) && (-180.0..=180.0).contains(&l.lon));
        assert!(l.handling_cost.is_finite() && l.handling_cost >= 0.0);
    }
    for s in &network.services {
        assert!(s.base_cost >= 0.0 && s.cost_per_km >= 0.0 && s.cost_per_kg >= 0.0);
        assert!(s.km_per_day > 0.0);
    }
    // One unit of a SKU everywhere; orders for two units from a few places.
    let stock: Vec<InventoryRecord> = (0..network.locations.len())
        .map(|location| InventoryRecord {
            location,
            sku: "X".into(),
            on_hand: 1,
            reserved: 0,
            safety_stock: 0,
        })
        .collect();
    let mut orders: Vec<Order> = network
        .locations
        .iter()
        .take(4)
        .enumerate()
        .map(|(i, l)| probe_order(&format!("P{i}"), l.lat, l.lon, Some(2), &["X"], 2))
        .collect();
    let antipode = network.locations.first().map_or(0.0, |l| -l.lat);
    orders.push(probe_order("FAR", antipode, 180.0, None, &["X", "Y"], 1));
    if let Some(store) = network
        .locations
        .iter()
        .find(|l| l.kind == LocationKind::Store)
    {
        let mut o = probe_order("PICKUP", store.lat, store.lon, Some(1), &["X"], 3);
        o.fulfillment = Fulfillment::Pickup;
        o.pickup_location = Some(store.id.clone());
        orders.push(o);
    }
    let engine = Engine::new(network, &stock);
    route_all(&engine, &orders);
}

/// Checks loaded stock rows against the example network and routes the example orders.
fn check_stock(rows: &[InventoryRecord]) {
    let ex = example();
    let mut seen = std::collections::BTreeSet::new();
    for r in rows {
        assert!(r.location < ex.network.locations.len());
        assert!(seen.insert((r.location, r.sku.clone())), "no repeated pair");
    }
    let engine = Engine::new(ex.network.clone(), rows);
    for r in rows {
        assert_eq!(engine.stock().atp(r.location, &r.sku), r.atp(), "{r:?}");
    }
    route_all(&engine, &ex.orders);
}

/// `inventory.csv` for the example network.
pub fn inventory_csv(data: &[u8]) {
    match load::parse_inventory_csv("inventory.csv", data, &example().network) {
        Ok(rows) => check_stock(&rows),
        Err(errors) => check_errors("inventory.csv", data, &errors),
    }
}

/// `inventory.json` for the example network.
pub fn inventory_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match load::parse_inventory_json("inventory.json", &text, &example().network) {
        Ok(rows) => check_stock(&rows),
        Err(errors) => check_errors("inventory.json", text.as_bytes(), &errors),
    }
}

/// `orders.jsonl` for the example network: the whole-file check and the streaming reader
/// agree, problems are located, and every order that loads is routed on the example stock.
pub fn orders_jsonl(data: &[u8]) {
    let ex = example();
    let checked = load::check_orders("orders.jsonl", data, &ex.network);
    let mut orders = Vec::new();
    let mut bad = 0;
    let mut reader = OrderReader::new("orders.jsonl", data, &ex.network);
    for parsed in reader.by_ref() {
        match parsed {
            Ok(order) => orders.push(order),
            Err(errors) => {
                bad += 1;
                check_errors("orders.jsonl", data, &errors);
            }
        }
    }
    match &checked {
        Ok(n) => {
            assert_eq!(bad, 0, "the check passed, the reader failed");
            assert_eq!(*n, orders.len());
        }
        Err(errors) => check_errors("orders.jsonl", data, errors),
    }
    if bad > 0 {
        assert!(checked.is_err(), "the reader failed, the check passed");
    }
    for o in &orders {
        if o.fulfillment == Fulfillment::Pickup {
            let store = o
                .pickup_location
                .as_deref()
                .and_then(|id| ex.network.location(id));
            assert!(
                store.is_some_and(|s| s.kind == LocationKind::Store
                    && (s.lat, s.lon) == (o.ship_to.lat, o.ship_to.lon)),
                "a pickup order goes to its store's position: {o:?}"
            );
        }
    }
    let engine = Engine::new(ex.network.clone(), &ex.stock);
    route_all(&engine, &orders);
}

/// Stock events for the example network, replayed with the example orders.
pub fn stock_events(data: &[u8]) {
    let ex = example();
    let text = String::from_utf8_lossy(data);
    let events = match load::parse_events("events.jsonl", &text, &ex.network) {
        Ok(events) => events,
        Err(errors) => return check_errors("events.jsonl", text.as_bytes(), &errors),
    };
    let lines = lines_of(text.as_bytes()).len();
    for e in &events {
        assert!(e.location < ex.network.locations.len());
        assert!(e.line >= 1 && e.line <= lines);
    }
    let engine = Engine::new(ex.network.clone(), &ex.stock);
    let checked = load::events::check_events("events.jsonl", &events, &engine.stock(), &ex.network);
    let (kpis, report) =
        crate::simulate::replay_with_events(&engine, &ex.orders, &events, |o, d| {
            assert_eq!(o.id, d.order);
        });
    assert!(serde_json::to_string(&kpis).is_ok());
    // Events the check lets through all apply; no count ever passes the engine's limit.
    if checked.is_ok() {
        assert!(report.refused.is_empty(), "{report:?}");
    }
    for r in &ex.stock {
        assert!(engine.stock().atp(r.location, &r.sku) <= crate::MAX_UNITS);
    }
}

/// A rule file, checked, compiled for the example network and used to route the example
/// orders: no panic, and decisions that account for every unit within the stock.
pub fn rules_route(data: &[u8]) {
    let ex = example();
    let (set, diags) = sourcing_dsl::compile_bytes("fuzz.rules", data);
    let Some(set) = set else {
        assert!(diags.has_errors());
        return;
    };
    // `check` (which adds `check_scripts`) and routing refuse the same scripts.
    let script_errors = crate::rules::check_scripts(&set);
    let compiled = Rules::compile(set, &ex.network);
    if matches!(compiled, Err(crate::rules::RulesError::Script { .. })) {
        assert!(!script_errors.is_empty());
    }
    if !script_errors.is_empty() {
        assert!(compiled.is_err());
    }
    let engine = Engine::new(ex.network.clone(), &ex.stock);
    // The front door takes the same path: it loads exactly what compiled.
    let loaded = engine.load_rules(RulesSource::bytes("fuzz.rules", data));
    assert_eq!(loaded.is_ok(), compiled.is_ok(), "{loaded:?}");
    if loaded.is_err() {
        return;
    }
    route_all(&engine, &ex.orders);
}
