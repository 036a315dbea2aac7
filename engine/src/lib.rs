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
//! of up to [`EXACT_LINE_LIMIT`] lines and bounded in work beyond.
//!
//! ```
//! use sourcing_engine::{load, Engine, Status};
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
//! let stock = load::parse_inventory_csv(
//!     "inventory.csv",
//!     b"location,sku,on_hand,reserved,safety_stock\nDC-KASSEL,TSHIRT-M,120,4,5\n",
//!     &network,
//! )?;
//! let engine = Engine::new(network, &stock);
//!
//! let order = load::parse_order("orders.jsonl", 1, r#"{"id": "O-1",
//!   "ship_to": {"lat": 50.11092, "lon": 8.68213}, "fulfillment": "ship",
//!   "lines": [{"sku": "TSHIRT-M", "qty": 2, "unit_weight_kg": 0.25}]}"#, engine.network())?;
//!
//! // `route` may be called from many threads at once: the engine is Send + Sync.
//! let decision = engine.route(&order);
//! assert_eq!(decision.status, Status::Sourced);
//! assert_eq!(decision.shipments[0].location, "DC-KASSEL");
//! assert!((decision.total_cost - 5.693871165).abs() < 1e-6);
//! assert_eq!(engine.stock().atp(0, "TSHIRT-M"), 109);
//! # Ok::<(), sourcing_engine::load::LoadErrors>(())
//! ```

mod alloc;
mod capacity;
mod cost;
mod engine;
mod explain;
#[cfg(test)]
mod fixtures;
pub mod fuzz;
pub mod generate;
pub mod geo;
mod index;
pub mod load;
mod model;
pub mod pipeline;
mod plan;
#[cfg(test)]
mod reference;
mod router;
pub mod rules;
pub mod simulate;
mod stock;
#[cfg(test)]
mod tests;

pub use cost::transit_days;
pub use engine::{Engine, Reservation, SearchStats};
pub use explain::{Considered, Explain, Ranking, StrategySearch};
pub use model::decision::{Decision, Shipment, ShipmentLine, Status, Unsourced, UnsourcedReason};
pub use model::network::{Location, LocationKind, Network, Service};
pub use model::order::{Fulfillment, Order, OrderLine, ShipTo, PICKUP_TOLERANCE_KM};
pub use router::EXACT_LINE_LIMIT;
pub use rules::{check_scripts, Rules, RulesError};
pub use stock::{AdjustError, Adjusted, Stock, MAX_UNITS};
