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
    /// Why they were not placed (serialised as `no_stock`, `insufficient_stock`, …).
    pub reason: UnsourcedReason,
}

/// Why units of a line were not placed. Serialised as the contract's strings
/// (`no_stock`, `insufficient_stock`, …); an exclusion of a rule file is reported by the
/// reason it gives.
///
/// When several reasons apply to one line, [`UnsourcedReason::after`] says which one is
/// reported.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnsourcedReason {
    /// No candidate location holds any unit of the SKU (or no location lists it).
    NoStock,
    /// The candidates hold some units, not enough.
    InsufficientStock,
    /// Stock is there, but its locations have sent all the shipments they can today.
    Capacity,
    /// A kit's units are there, but no one location holds all of them.
    GroupSplit,
    /// The units are there, but not in whole packs.
    PackSize,
    /// The strategy's shipment limit (or whole lines) keeps the units out of the plan.
    SplitLimit,
    /// The line could have been placed, but the order ships whole or not at all.
    AllOrNothing,
    /// The rules backorder what is left (`otherwise backorder`).
    Backorder,
    /// No strategy of the rules applies to the order.
    NoStrategy,
    /// The rules failed for the order (a script, a value that is not finite).
    RuleError,
    /// A pickup order whose pickup location is not a known store.
    InvalidPickupStore,
    /// A shipment would miss the order's promise and the strategy requires it.
    Promise,
    /// An exclusion of the rules dropped the holders, with the reason it gives.
    Excluded(String),
}

impl UnsourcedReason {
    /// The reason as the contract writes it.
    pub fn as_str(&self) -> &str {
        match self {
            UnsourcedReason::NoStock => "no_stock",
            UnsourcedReason::InsufficientStock => "insufficient_stock",
            UnsourcedReason::Capacity => "capacity",
            UnsourcedReason::GroupSplit => "group_split",
            UnsourcedReason::PackSize => "pack_size",
            UnsourcedReason::SplitLimit => "split_limit",
            UnsourcedReason::AllOrNothing => "all_or_nothing",
            UnsourcedReason::Backorder => "backorder",
            UnsourcedReason::NoStrategy => "no_strategy",
            UnsourcedReason::RuleError => "rule_error",
            UnsourcedReason::InvalidPickupStore => "invalid_pickup_store",
            UnsourcedReason::Promise => "promise",
            UnsourcedReason::Excluded(why) => why,
        }
    }

    /// The reason an exclusion gives: one of the reasons above when it uses its name
    /// (`reason "capacity"`), else [`UnsourcedReason::Excluded`].
    pub fn excluded(why: &str) -> UnsourcedReason {
        match why {
            "no_stock" => UnsourcedReason::NoStock,
            "insufficient_stock" => UnsourcedReason::InsufficientStock,
            "capacity" => UnsourcedReason::Capacity,
            "group_split" => UnsourcedReason::GroupSplit,
            "pack_size" => UnsourcedReason::PackSize,
            "split_limit" => UnsourcedReason::SplitLimit,
            "all_or_nothing" => UnsourcedReason::AllOrNothing,
            "backorder" => UnsourcedReason::Backorder,
            "no_strategy" => UnsourcedReason::NoStrategy,
            "rule_error" => UnsourcedReason::RuleError,
            "invalid_pickup_store" => UnsourcedReason::InvalidPickupStore,
            "promise" => UnsourcedReason::Promise,
            other => UnsourcedReason::Excluded(other.to_string()),
        }
    }

    /// Whether the reason ends the order's walk: nothing after it can say more
    /// (`backorder`, `no_strategy`, `rule_error`, `invalid_pickup_store`).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            UnsourcedReason::Backorder
                | UnsourcedReason::NoStrategy
                | UnsourcedReason::RuleError
                | UnsourcedReason::InvalidPickupStore
        )
    }

    /// The precedence of reasons, defined once: the reason reported for a line that
    /// `earlier` explained, when a later step (a fallback strategy, the end of the walk)
    /// gives `later`. The later step says what happened last, so it wins, except that a
    /// later `no_stock` (its candidates hold none of the line) says less than an earlier
    /// reason why stock that was there could not be used; `all_or_nothing` is no such
    /// reason (the earlier strategy's policy no longer applies). A final reason is never
    /// replaced.
    pub fn after(earlier: UnsourcedReason, later: UnsourcedReason) -> UnsourcedReason {
        let keep_earlier = earlier.is_final()
            || (later == UnsourcedReason::NoStock
                && !matches!(
                    earlier,
                    UnsourcedReason::NoStock | UnsourcedReason::AllOrNothing
                ));
        if keep_earlier && !later.is_final() {
            earlier
        } else {
            later
        }
    }
}

impl std::fmt::Display for UnsourcedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for UnsourcedReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for UnsourcedReason {
    /// Today's strings back to their reasons; any other text is an exclusion's own wording.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(UnsourcedReason::excluded(&text))
    }
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

#[cfg(test)]
mod tests {
    use super::UnsourcedReason as R;

    #[test]
    fn reasons_serialise_to_the_contract_strings() {
        let all = [
            (R::NoStock, "no_stock"),
            (R::InsufficientStock, "insufficient_stock"),
            (R::Capacity, "capacity"),
            (R::GroupSplit, "group_split"),
            (R::PackSize, "pack_size"),
            (R::SplitLimit, "split_limit"),
            (R::AllOrNothing, "all_or_nothing"),
            (R::Backorder, "backorder"),
            (R::NoStrategy, "no_strategy"),
            (R::RuleError, "rule_error"),
            (R::InvalidPickupStore, "invalid_pickup_store"),
            (R::Promise, "promise"),
            (
                R::Excluded("kits ship from DCs".into()),
                "kits ship from DCs",
            ),
        ];
        for (r, s) in all {
            assert_eq!(serde_json::to_string(&r).ok(), Some(format!("\"{s}\"")));
            // An exclusion giving a reason by its name is that reason.
            assert_eq!(R::excluded(s), r);
        }
    }

    #[test]
    fn a_later_reason_wins_unless_it_says_less() {
        // A later strategy says what happened last.
        assert_eq!(R::after(R::InsufficientStock, R::SplitLimit), R::SplitLimit);
        assert_eq!(R::after(R::NoStock, R::Capacity), R::Capacity);
        assert_eq!(R::after(R::Capacity, R::AllOrNothing), R::AllOrNothing);
        // Its candidates holding none says less than why stock that was there went unused,
        assert_eq!(R::after(R::Capacity, R::NoStock), R::Capacity);
        let excluded = R::Excluded("kits ship from DCs".into());
        assert_eq!(R::after(excluded.clone(), R::NoStock), excluded);
        // but more than the earlier strategy's all-or-nothing policy.
        assert_eq!(R::after(R::AllOrNothing, R::NoStock), R::NoStock);
        // The end of the walk has the last word, and nothing replaces it.
        assert_eq!(R::after(R::Capacity, R::Backorder), R::Backorder);
        assert_eq!(R::after(R::Backorder, R::Capacity), R::Backorder);
    }
}
