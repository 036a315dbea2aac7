//! # sourcing-engine
//!
//! The sourcing engine decides, for every order, which locations ship which units: a
//! distribution centre, a store or a dropship vendor. It loads a network and its stock
//! once, then routes orders in microseconds from as many threads as the caller likes,
//! never promising a unit twice.
//!
//! The built-in `min-cost` strategy finds the cheapest complete plan under the contract's
//! cost model (haversine distance, the cheapest service that keeps the promise, handling
//! and weight), splitting across locations where that is cheaper. It is exact for orders
//! of up to [`EXACT_LINE_LIMIT`] lines and bounded in work beyond. A rule file (the
//! `sourcing` rule language) replaces it with the business's own strategies.
//!
//! This crate is the one to depend on: everything below is at its root. Every fallible
//! call returns a typed error with a `kind()` to match on and a located message.
//!
//! ## 1. Build an engine, with rules
//!
//! A network ([`load::parse_network`]), its inventory ([`load::parse_inventory_csv`]: on
//! hand, reserved and safety stock per location and SKU) and, optionally, a rule file.
//! Rules are read, checked and compiled for *this* engine's network in one call.
//!
//! ```
//! use sourcing_engine::{load, Engine, RulesSource};
//!
//! let network = load::parse_network("network.json", r#"{
//!   "currency": "EUR",
//!   "locations": [
//!     {"id": "DC-KASSEL", "kind": "dc", "lat": 51.31667, "lon": 9.5, "handling_cost": 1.10},
//!     {"id": "ST-HAMBURG", "kind": "store", "lat": 53.55073, "lon": 9.99302,
//!      "handling_cost": 3.40, "processing_days": 1}
//!   ],
//!   "services": [
//!     {"id": "ground", "base_cost": 4.20, "cost_per_km": 0.0015, "cost_per_kg": 0.35, "km_per_day": 450}
//!   ]
//! }"#)?;
//! let inventory = load::parse_inventory_csv(
//!     "inventory.csv",
//!     b"location,sku,on_hand,reserved,safety_stock\n\
//!       DC-KASSEL,TSHIRT-M,120,4,5\n\
//!       ST-HAMBURG,TSHIRT-M,10,0,2\n",
//!     &network,
//! )?;
//! let rules = r#"
//! strategy "stores-first" {
//!   candidates stores, dcs
//!   prefer stores
//!   score cost
//!   split allowed
//! }
//! "#;
//! let engine = Engine::builder()
//!     .network(network)
//!     .inventory(inventory)
//!     .rules(RulesSource::text("stores-first.rules", rules))
//!     .build()?;
//! // Every decision names the rules that made it: the SHA-256 of the rule file.
//! assert_eq!(engine.ruleset().name, "stores-first.rules");
//! assert_eq!(engine.ruleset().hash, sourcing_engine::RulesetHash::of(rules.as_bytes()));
//!
//! // Rules can be swapped while orders are routed: the next order uses them.
//! let loaded = engine.load_rules(RulesSource::text("min-cost.rules",
//!     "strategy \"min-cost\" {\n  candidates all\n  score cost\n}\n"))?;
//! assert!(loaded.warnings.is_empty());
//! engine.clear_rules(); // back to the built-in strategy
//! assert_eq!(engine.ruleset().hash, sourcing_engine::RulesetHash::BUILTIN);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## 2. Orders: parse or validate, then route
//!
//! Only a [`ValidOrder`] can be routed. [`Engine::parse_order`] checks an order's JSON
//! (one line of `orders.jsonl`); [`Engine::validate`] checks an [`Order`] built in code or
//! deserialised with serde. Both run the orders loader's checks: the same messages, with
//! field paths.
//!
//! ```
//! # let engine = sourcing_engine::doc_example();
//! use sourcing_engine::{RouteOptions, Status};
//!
//! let order = engine.parse_order(r#"{"id": "O-1",
//!   "ship_to": {"lat": 50.11092, "lon": 8.68213}, "fulfillment": "ship",
//!   "lines": [{"sku": "TSHIRT-M", "qty": 2, "unit_weight_kg": 0.25}]}"#)?;
//!
//! // A quote changes nothing.
//! let out = engine.route(&order, &RouteOptions::quote());
//! assert_eq!(out.decision.status, Status::Sourced);
//! assert_eq!(out.decision.shipments[0].location, "DC-KASSEL");
//! assert!((out.decision.total_cost - 5.693871165).abs() < 1e-6);
//! assert!(out.takes().is_empty());
//!
//! // Consuming takes the units for good (all or nothing, from any thread).
//! let out = engine.route(&order, &RouteOptions::consume());
//! assert_eq!(out.takes()[0].qty, 2);
//! assert_eq!(engine.figures("DC-KASSEL", "TSHIRT-M").map(|f| f.on_hand), Some(118));
//!
//! // An order built in code (or deserialised) is validated the same way.
//! let mut copy: sourcing_engine::Order = serde_json::from_str(
//!     &serde_json::to_string(order.order())?)?;
//! copy.id = "O-2".into();
//! let copy = engine.validate(copy)?;
//! assert_eq!(copy.id, "O-2");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A bad order is refused with every problem, by field:
//!
//! ```
//! # let engine = sourcing_engine::doc_example();
//! let bad = engine.parse_order(r#"{"id": "O-9", "ship_to": {"lat": 1000, "lon": 8.7},
//!   "lines": [{"sku": "TSHIRT-M", "qty": 0, "unit_weight_kg": 0.25}]}"#);
//! let error = bad.unwrap_err();
//! assert!(error.names("ship_to.lat"));
//! assert!(error.names("lines[0].qty"));
//!
//! // In code: a NaN weight is caught before anything else.
//! let mut order = engine.parse_order(r#"{"id": "O-10", "ship_to": {"lat": 50.1, "lon": 8.7},
//!   "lines": [{"sku": "TSHIRT-M", "qty": 1, "unit_weight_kg": 0.25}]}"#)?.into_inner();
//! order.lines[0].unit_weight_kg = f64::NAN;
//! assert!(engine.validate(order).unwrap_err().names("lines[0].unit_weight_kg"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## 3. Reservations: hold, confirm, release, expire
//!
//! Reserving holds the units (out of ATP, counted as reserved) until the reservation is
//! confirmed (shipped: off the shelf), released or expired (back to ATP). A [`Reservation`]
//! is plain data with an id; the engine's book keeps its state. Dropping one changes
//! nothing.
//!
//! ```
//! # let engine = sourcing_engine::doc_example();
//! use sourcing_engine::{ReservationState, RouteOptions};
//! use std::time::Duration;
//!
//! let order = engine.parse_order(r#"{"id": "O-3", "ship_to": {"lat": 50.1, "lon": 8.7},
//!   "lines": [{"sku": "TSHIRT-M", "qty": 3, "unit_weight_kg": 0.25}]}"#)?;
//! let now = 1_764_000_000; // Unix seconds
//! let hold = RouteOptions::reserve(Duration::from_secs(900)).at(now);
//!
//! let first = engine.route(&order, &hold).reservation.expect("reserved");
//! let held = engine.figures("DC-KASSEL", "TSHIRT-M").expect("listed");
//! assert_eq!((held.on_hand, held.reserved, held.atp), (120, 7, 108));
//!
//! // Confirm: the units leave on hand and reserved.
//! let shipped = engine.confirm(&first.id)?;
//! assert_eq!(shipped.state, ReservationState::Confirmed);
//! let after = engine.figures("DC-KASSEL", "TSHIRT-M").expect("listed");
//! assert_eq!((after.on_hand, after.reserved, after.atp), (117, 4, 108));
//!
//! // Release: the units go back to ATP. Releasing twice is harmless.
//! let second = engine.route(&order, &hold).reservation.expect("reserved");
//! engine.release(&second.id)?;
//! assert_eq!(engine.release(&second.id)?.state, ReservationState::Released);
//! assert!(engine.confirm(&second.id).is_err()); // released: not held any more
//!
//! // Expire: held reservations past their expiry give their units back.
//! let third = engine.route(&order, &hold).reservation.expect("reserved");
//! assert!(engine.expire(now + 899).is_empty());
//! let expired = engine.expire(now + 900);
//! assert_eq!(expired[0].id, third.id);
//! assert_eq!(engine.reservation(&third.id).map(|r| r.state), Some(ReservationState::Expired));
//! assert_eq!(engine.figures("DC-KASSEL", "TSHIRT-M").map(|f| f.atp), Some(108));
//!
//! // Reservations are data: a ledger stores them as JSON.
//! let json = serde_json::to_string(&engine.reservations())?;
//! assert!(json.contains("\"state\":\"expired\""));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## 4. Stock: figures, movements, availability
//!
//! ```
//! # let engine = sourcing_engine::doc_example();
//! use sourcing_engine::{Change, Movement, MovementError, MovementKind};
//!
//! // A receipt adds to on hand; ATP follows.
//! let f = engine.apply(&Movement {
//!     location: "ST-HAMBURG".into(), sku: "TSHIRT-M".into(),
//!     kind: MovementKind::Receipt, change: Change::Delta(5),
//! })?;
//! assert_eq!((f.on_hand, f.safety_stock, f.atp), (15, 2, 13));
//!
//! // A count sets on hand, if it still is what the counter saw.
//! let count = |expected| Movement {
//!     location: "ST-HAMBURG".into(), sku: "TSHIRT-M".into(),
//!     kind: MovementKind::Count, change: Change::Set { value: 9, expected: Some(expected) },
//! };
//! assert!(matches!(engine.apply(&count(14)), Err(MovementError::Expected { current: 15, .. })));
//! assert_eq!(engine.apply(&count(15))?.on_hand, 9);
//!
//! // A receipt of a SKU the location never listed adds the pair.
//! assert_eq!(engine.figures("ST-HAMBURG", "CAP-RED"), None);
//! engine.apply(&Movement {
//!     location: "ST-HAMBURG".into(), sku: "CAP-RED".into(),
//!     kind: MovementKind::Receipt, change: Change::Delta(4),
//! })?;
//! assert_eq!(engine.figures("ST-HAMBURG", "CAP-RED").map(|f| f.atp), Some(4));
//!
//! // Every location listing a SKU, in network order.
//! let ids: Vec<String> = engine
//!     .availability("TSHIRT-M")
//!     .into_iter()
//!     .filter_map(|(id, _)| engine.network().get(id).map(|l| l.id.clone()))
//!     .collect();
//! assert_eq!(ids, ["DC-KASSEL", "ST-HAMBURG"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## 5. Explain a decision, when it is made
//!
//! ```
//! # let engine = sourcing_engine::doc_example();
//! use sourcing_engine::RouteOptions;
//!
//! let order = engine.parse_order(r#"{"id": "O-4", "ship_to": {"lat": 53.5, "lon": 10.0},
//!   "lines": [{"sku": "TSHIRT-M", "qty": 1, "unit_weight_kg": 0.25}]}"#)?;
//! let out = engine.route(&order, &RouteOptions::consume().explain(true));
//! let why = out.explain.expect("asked for");
//! assert_eq!(why.strategy, "min-cost");
//! let chosen = &out.decision.shipments[0].location;
//! assert!(why.candidates.iter().any(|c| &c.location == chosen));
//! // The explanation is of this decision, against the stock it saw: kept with it.
//! assert!(serde_json::to_string(&why)?.contains(chosen.as_str()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## 6. A bad rule file
//!
//! Every error says where in the rule file; the rules in force stay as they were.
//!
//! ```
//! # let engine = sourcing_engine::doc_example();
//! use sourcing_engine::{RulesErrorKind, RulesSource};
//!
//! let error = engine
//!     .load_rules(RulesSource::text("broken.rules", "strategy \"s\" {\n  score cost +\n}\n"))
//!     .unwrap_err();
//! assert_eq!(error.kind(), RulesErrorKind::Invalid);
//! assert_eq!((error.at().file.as_str(), error.at().line), ("broken.rules", 3));
//! assert!(error.to_string().contains("broken.rules:3:1"));
//! assert_eq!(engine.ruleset().name, "min-cost"); // still the built-in strategy
//! ```

mod alloc;
mod capacity;
mod cost;
mod engine;
mod explain;
#[cfg(test)]
mod fixtures;
#[doc(hidden)]
pub mod fuzz;
#[doc(hidden)]
pub mod generate;
#[doc(hidden)]
pub mod geo;
mod index;
pub mod load;
mod model;
mod movement;
mod outcome;
#[doc(hidden)]
pub mod pipeline;
#[cfg(test)]
mod reference;
mod reservation;
mod router;
#[doc(hidden)]
pub mod rules;
mod ruleset;
#[doc(hidden)]
pub mod simulate;
mod stock;
#[cfg(test)]
mod tests;
mod valid;

pub use engine::{BuildError, Engine, EngineBuilder};
pub use explain::{Considered, Explain, Ranking, StrategySearch};
pub use model::decision::{Decision, Shipment, ShipmentLine, Status, Unsourced};
pub use model::network::{Location, LocationId, LocationKind, Network, Service};
pub use model::order::{Fulfillment, Order, OrderLine, ShipTo, PICKUP_TOLERANCE_KM};
pub use movement::{Change, Movement, MovementError, MovementErrorKind, MovementKind};
pub use outcome::{Mode, Outcome, RouteOptions, SearchStats};
pub use reservation::{
    Reservation, ReservationError, ReservationErrorKind, ReservationId, ReservationState, Take,
};
pub use router::EXACT_LINE_LIMIT;
pub use ruleset::{
    BadHash, RuleDiagnostic, RuleSeverity, RulesError, RulesErrorKind, RulesLoaded, RulesSource,
    RulesetHash, RulesetInfo, SourcePos,
};
pub use stock::{StockFigures, MAX_UNITS};
pub use valid::{OrderError, OrderProblem, ValidOrder};

/// The engine of the crate guide's examples (the network and inventory of step 1, no
/// rules).
#[doc(hidden)]
pub fn doc_example() -> Engine {
    let network = load::parse_network(
        "network.json",
        r#"{"currency": "EUR",
  "locations": [
    {"id": "DC-KASSEL", "kind": "dc", "lat": 51.31667, "lon": 9.5, "handling_cost": 1.10},
    {"id": "ST-HAMBURG", "kind": "store", "lat": 53.55073, "lon": 9.99302,
     "handling_cost": 3.40, "processing_days": 1}],
  "services": [{"id": "ground", "base_cost": 4.20, "cost_per_km": 0.0015,
     "cost_per_kg": 0.35, "km_per_day": 450}]}"#,
    )
    .unwrap_or_default();
    let inventory = load::parse_inventory_csv(
        "inventory.csv",
        b"location,sku,on_hand,reserved,safety_stock
DC-KASSEL,TSHIRT-M,120,4,5
ST-HAMBURG,TSHIRT-M,10,0,2
",
        &network,
    )
    .unwrap_or_default();
    Engine::new(network, &inventory)
}

/// Internals the `sourcing` tools and the engine's own tests reach; not part of the API.
#[doc(hidden)]
pub mod internals {
    pub use crate::cost::transit_days;
    pub use crate::stock::{AdjustError, Adjusted, Stock};
}
