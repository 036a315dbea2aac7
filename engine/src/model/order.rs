//! Orders as OMS services send them (contract section 3).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the customer receives the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fulfillment {
    /// Shipped to `ship_to` (the default, as in the orders file).
    #[default]
    Ship,
    /// Collected at the store named by `pickup_location` (click & collect).
    Pickup,
}

/// Where the order goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipTo {
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
    /// ISO country code, when given.
    #[serde(default)]
    pub country: Option<String>,
    /// Region code, when given.
    #[serde(default)]
    pub region: Option<String>,
    /// Postal code, when given.
    #[serde(default)]
    pub postal_code: Option<String>,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The SKU ordered.
    pub sku: String,
    /// Units ordered (≥ 1).
    pub qty: u32,
    /// Weight of one unit in kilograms (≥ 0).
    pub unit_weight_kg: f64,
    /// Price of one unit (≥ 0); 0 when absent.
    #[serde(default)]
    pub unit_price: f64,
    /// Free tags that rules may test (e.g. `hazmat`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Kit id: lines with the same group ship together.
    #[serde(default)]
    pub group: Option<String>,
    /// Units per pack; a location ships whole packs only.
    #[serde(default)]
    pub pack_size: Option<u32>,
    /// Fields the contract does not name, kept for rules.
    #[serde(flatten)]
    pub attr: BTreeMap<String, serde_json::Value>,
}

/// An order to source, as the orders file writes it (contract section 3). An order built
/// in code or deserialised is routed only once [`crate::Engine::validate`] accepted it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Unique order id.
    pub id: String,
    /// Sales channel (`web`, `app`, `marketplace`, `store`, …), when given.
    #[serde(default)]
    pub channel: Option<String>,
    /// When the order was placed, RFC 3339 as received.
    #[serde(default)]
    pub placed_at: Option<String>,
    /// Customer tier (`gold`, `standard`, …), when given.
    #[serde(default)]
    pub customer_tier: Option<String>,
    /// Destination (for pickup: the pickup store's position).
    pub ship_to: ShipTo,
    /// Ship or pickup.
    #[serde(default)]
    pub fulfillment: Fulfillment,
    /// The store that hands out a pickup order.
    #[serde(default)]
    pub pickup_location: Option<String>,
    /// Days within which the order must arrive; `None` means no promise.
    #[serde(default)]
    pub promise_days: Option<u32>,
    /// The lines, in order; decisions refer to them by 0-based index.
    pub lines: Vec<OrderLine>,
    /// Fields the contract does not name, kept for rules.
    #[serde(flatten)]
    pub attr: BTreeMap<String, serde_json::Value>,
}

/// How far a pickup order's `ship_to` may lie from its store: clients round coordinates.
pub const PICKUP_TOLERANCE_KM: f64 = 1.0;

impl Order {
    /// For a pickup order at a store of `network` whose `ship_to` is not exactly the store's
    /// position: that position (contract section 4: a pickup order travels to its store).
    /// `None` when there is nothing to move.
    pub(crate) fn pickup_position(&self, network: &crate::Network) -> Option<(f64, f64)> {
        if self.fulfillment != Fulfillment::Pickup {
            return None;
        }
        let store = network.location(self.pickup_location.as_deref()?)?;
        let here = (self.ship_to.lat, self.ship_to.lon);
        (store.kind == crate::LocationKind::Store && here != (store.lat, store.lon))
            .then_some((store.lat, store.lon))
    }

    /// For a pickup order, the index in `network` of the location named by
    /// `pickup_location` (whatever its kind); `None` for a shipped order or a name the
    /// network does not have. Every part of the engine finds the pickup store through this.
    pub(crate) fn pickup_index(&self, network: &crate::Network) -> Option<u32> {
        if self.fulfillment != Fulfillment::Pickup {
            return None;
        }
        let id = self.pickup_location.as_deref()?;
        network.location_index(id).map(|i| i as u32)
    }

    /// Total weight of every unit ordered, in kilograms.
    pub fn total_weight_kg(&self) -> f64 {
        self.lines
            .iter()
            .map(|l| f64::from(l.qty) * l.unit_weight_kg)
            .sum()
    }
}
