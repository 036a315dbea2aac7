//! Decisions: where each unit of an order ships from (contract section 5).

use crate::ruleset::RulesetHash;
use serde::{Deserialize, Serialize};

/// How much of the order was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every unit placed.
    Sourced,
    /// Some units placed.
    Partial,
    /// No unit placed.
    Unsourced,
}

/// Units of one order line inside a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentLine {
    /// 0-based index of the order line.
    pub line: usize,
    /// The line's SKU.
    pub sku: String,
    /// Units shipped.
    pub qty: u32,
}

/// The units one location sends for one order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    /// The shipping location's id.
    pub location: String,
    /// The carrier service; `None` for units handed out at the pickup store itself.
    pub service: Option<String>,
    /// What is in the parcel, by line index.
    pub lines: Vec<ShipmentLine>,
    /// Great-circle distance to the destination.
    pub distance_km: f64,
    /// Processing plus transit days.
    pub days: u32,
    /// Handling, base, distance and weight cost (contract section 4).
    pub cost: f64,
    /// Whether `days` is within the order's promise (true when there is none).
    pub meets_promise: bool,
}

/// Units that were not placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsourced {
    /// 0-based index of the order line.
    pub line: usize,
    /// The line's SKU.
    pub sku: String,
    /// Units not placed.
    pub qty: u32,
    /// Why: `no_stock`, `insufficient_stock`, …
    pub reason: String,
}

/// The answer for one order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The order id.
    pub order: String,
    /// Sourced, partial or unsourced.
    pub status: Status,
    /// The strategy that placed the order (`min-cost` for the built-in one).
    pub rule: String,
    /// The content hash of the rule file in force ([`RulesetHash::BUILTIN`] for the built-in
    /// strategy): which rules made this decision.
    pub ruleset: RulesetHash,
    /// The shipments, ordered by location id.
    pub shipments: Vec<Shipment>,
    /// Units that could not be placed.
    pub unsourced: Vec<Unsourced>,
    /// Sum of the shipments' costs.
    pub total_cost: f64,
    /// Why the rules could not decide this order: a custom term (a script) failed or hit a
    /// sandbox limit, or a value was not a finite number (a division by zero). Every unit is
    /// then unsourced with reason `rule_error`. Absent from the
    /// JSON when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
