//! Orders two replays decided differently, each with a reason category.
//!
//! In: the decisions of a baseline (A) and of what it is compared with (B: another rule
//! set, or the same rules under a scenario), order by order in replay order. Out: a
//! [`Change`] per order whose shipments or unplaced units differ, with the first
//! [`Category`] that applies. The categories read only what both decisions, the order and
//! the network show, plus B's own shipments so far (for capacity) and its closures; they
//! are tested in the order of [`Category`], and `other_location` catches the rest.

use crate::model::decision::Decision;
use crate::model::network::{LocationKind, Network};
use crate::model::order::{Fulfillment, Order};
use crate::simulate::clause::{clause_of, Clauses};
use crate::simulate::scenario::Scenario;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// Why an order changed, tested in this order; the first that holds is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A location A shipped from is closed on B's side when B decides (a scenario).
    Closed,
    /// A location A shipped from, and B did not, had reached its daily capacity on B's
    /// side that day when B decided.
    Capacity,
    /// A location A took a SKU from, and B did not, had that SKU's stock set to a count by
    /// B's scenario before the order (a stock take, a write-off).
    StockSet,
    /// A pickup order: A hands units out at the pickup counter, B fewer of them (they
    /// travel as parcels, or are not placed).
    PickupCounterSkipped,
    /// A pickup order: B hands out more units at the counter than A.
    PickupCounterUsed,
    /// B places fewer units than A (stock taken by earlier orders, an exclusion, a
    /// strategy that backorders).
    PlacedLess,
    /// B places more units than A.
    PlacedMore,
    /// The same shipments; the units not placed differ in reason (backordered against
    /// unsourced, or another exclusion).
    UnplacedReason,
    /// B ships more units from stores than A (a store preference, a store's lower cost).
    StorePreferred,
    /// B ships fewer units from stores than A (store protection, a distance limit, a
    /// cheaper DC).
    StoreAvoided,
    /// B decided with a strategy its rules reach as another strategy's fallback, and A's
    /// strategy had another name.
    Fallback,
    /// B keeps the promise on a different number of shipments than A.
    Promise,
    /// B sends a different number of parcels than A from the same kinds of location.
    Parcels,
    /// The same kinds, parcels and promise: other locations (cost, distance, score terms).
    OtherLocation,
}

impl Category {
    /// Every category, in the order they are tested.
    pub const ALL: [Category; 14] = [
        Category::Closed,
        Category::Capacity,
        Category::StockSet,
        Category::PickupCounterSkipped,
        Category::PickupCounterUsed,
        Category::PlacedLess,
        Category::PlacedMore,
        Category::UnplacedReason,
        Category::StorePreferred,
        Category::StoreAvoided,
        Category::Fallback,
        Category::Promise,
        Category::Parcels,
        Category::OtherLocation,
    ];

    /// The name used in `changes.csv` and `kpis.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::PlacedLess => "placed_less",
            Category::PlacedMore => "placed_more",
            Category::UnplacedReason => "unplaced_reason",
            Category::PickupCounterSkipped => "pickup_counter_skipped",
            Category::PickupCounterUsed => "pickup_counter_used",
            Category::Closed => "closed",
            Category::Capacity => "capacity",
            Category::StockSet => "stock_set",
            Category::StorePreferred => "store_preferred",
            Category::StoreAvoided => "store_avoided",
            Category::Fallback => "fallback",
            Category::Promise => "promise",
            Category::Parcels => "parcels",
            Category::OtherLocation => "other_location",
        }
    }

    /// What it means, in a sentence (the report's legend).
    pub fn meaning(self) -> &'static str {
        match self {
            Category::PlacedLess => "the second side places fewer units",
            Category::PlacedMore => "the second side places more units",
            Category::UnplacedReason => {
                "the same shipments; the units not placed have another reason (backorder, unsourced)"
            }
            Category::PickupCounterSkipped => {
                "a pickup order: fewer units handed out at the pickup counter (sent as parcels or not placed)"
            }
            Category::PickupCounterUsed => {
                "a pickup order: more units handed out at the pickup counter"
            }
            Category::Closed => "a location the first side used is closed on the second",
            Category::Capacity => {
                "a location the first side used had reached its daily capacity on the second"
            }
            Category::StockSet => {
                "the second side's scenario set the stock of a SKU the first side took from that location"
            }
            Category::StorePreferred => "more units from stores",
            Category::StoreAvoided => "fewer units from stores",
            Category::Fallback => "decided by a strategy reached as a fallback",
            Category::Promise => "a different number of shipments keep the promise",
            Category::Parcels => "a different number of parcels from the same kinds of location",
            Category::OtherLocation => "other locations of the same kinds (cost, distance, score)",
        }
    }
}

/// One order decided differently.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The order.
    pub order: String,
    /// Why, by the first category that holds.
    pub category: Category,
    /// Shipment cost on each side.
    pub cost: (f64, f64),
    /// Parcels (shipments) on each side, counter hand-outs included.
    pub parcels: (usize, usize),
    /// Units placed on each side.
    pub units: (u64, u64),
    /// The strategy that decided it on each side.
    pub strategy: (String, String),
    /// Each side's plan in a few words ([`plan_text`]).
    pub plan: (String, String),
    /// The rule clause behind the change, where the rule files can tell
    /// (`rules/x.rules:19 ship-from-store: prefer stores`; see [`crate::simulate::clause`]).
    pub clause: Option<String>,
}

/// Compares the decisions of two replays order by order; counts B's shipments per
/// location and day as they come, for the capacity category.
#[derive(Debug)]
pub struct Comparer<'a> {
    network: &'a Network,
    /// Strategies B's rules reach as a fallback.
    fallbacks: Vec<String>,
    /// B's daily capacities set by its scenario, by (location, day).
    limits: FxHashMap<(usize, i64), u32>,
    /// B's closures: (location, from, to) in ms.
    closures: Vec<(usize, i64, i64)>,
    /// B's stock settings: (location, SKU, moment in ms).
    settings: Vec<(usize, String, i64)>,
    /// B's shipments per (location, day) so far.
    sent: FxHashMap<(usize, i64), u64>,
    /// Each side's rule file line by line, to name the clause behind a change.
    clauses: (Option<Clauses>, Option<Clauses>),
}

/// Units placed, from stores, and at the pickup counter.
fn units_of(d: &Decision, network: &Network) -> (u64, u64, u64) {
    let (mut all, mut stores, mut counter) = (0, 0, 0);
    for s in &d.shipments {
        let units: u64 = s.lines.iter().map(|l| u64::from(l.qty)).sum();
        all += units;
        if network.location(&s.location).map(|l| l.kind) == Some(LocationKind::Store) {
            stores += units;
        }
        if s.service.is_none() {
            counter += units;
        }
    }
    (all, stores, counter)
}

/// A decision in a few words: `DC-KASSEL ×2, ST-MUNICH ×1 (counter), 1 not placed (backorder)`.
pub fn plan_text(d: &Decision) -> String {
    let mut parts: Vec<String> = d
        .shipments
        .iter()
        .map(|s| {
            let units: u32 = s.lines.iter().map(|l| l.qty).sum();
            let counter = if s.service.is_none() {
                " (counter)"
            } else {
                ""
            };
            format!("{} ×{units}{counter}", s.location)
        })
        .collect();
    // Units not placed, per reason, in the order they first appear.
    let mut reasons: Vec<(&str, u32)> = Vec::new();
    for u in &d.unsourced {
        match reasons.iter_mut().find(|r| r.0 == u.reason.as_str()) {
            Some(r) => r.1 += u.qty,
            None => reasons.push((u.reason.as_str(), u.qty)),
        }
    }
    for (reason, units) in reasons {
        parts.push(format!("{units} not placed ({reason})"));
    }
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join(", ")
    }
}

/// The order's moment in ms and its day number, when it has a valid `placed_at`.
fn moment(order: &Order) -> Option<(i64, i64)> {
    let t = chrono::DateTime::parse_from_rfc3339(order.placed_at.as_deref()?).ok()?;
    Some((t.timestamp_millis(), t.timestamp().div_euclid(86_400)))
}

impl<'a> Comparer<'a> {
    /// A comparer for a B side with the given fallback strategies and scenario.
    pub fn new(network: &'a Network, fallbacks: Vec<String>, scenario: &Scenario) -> Self {
        Comparer {
            network,
            fallbacks,
            limits: scenario
                .capacity
                .iter()
                .map(|c| ((c.location, c.day), c.shipments))
                .collect(),
            closures: scenario
                .closures
                .iter()
                .map(|c| (c.location, c.from_ms, c.to_ms))
                .collect(),
            settings: scenario
                .stock
                .iter()
                .map(|s| (s.location, s.sku.clone(), s.at_ms))
                .collect(),
            sent: FxHashMap::default(),
            clauses: (None, None),
        }
    }

    /// Names the clause behind each change from the two sides' rule files (`None` for the
    /// built-in strategy).
    pub fn with_rules(
        mut self,
        a: Option<&sourcing_dsl::RuleSet>,
        b: Option<&sourcing_dsl::RuleSet>,
    ) -> Self {
        self.clauses = (a.map(Clauses::of), b.map(Clauses::of));
        self
    }

    /// The strategies of `rules` that another strategy names as its fallback.
    pub fn fallbacks_of(rules: &sourcing_dsl::RuleSet) -> Vec<String> {
        rules
            .strategies
            .iter()
            .filter_map(|s| match s.next {
                sourcing_dsl::ir::Next::Fallback { strategy, .. } => {
                    rules.strategies.get(strategy.0).map(|t| t.name.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Compares A's and B's decisions of `order` (every order, in replay order: B's
    /// shipments are counted here); `None` when they are the same.
    pub fn compare(&mut self, order: &Order, a: &Decision, b: &Decision) -> Option<Change> {
        let when = moment(order);
        let day = when.map(|w| w.1);
        let changed = a.shipments != b.shipments || a.unsourced != b.unsourced;
        let category = changed.then(|| self.category(order, a, b, when));
        // Counted after the category: capacity is judged on what B had sent before.
        if let Some(day) = day {
            for s in &b.shipments {
                if let Some(l) = self.network.location_index(&s.location) {
                    *self.sent.entry((l, day)).or_default() += 1;
                }
            }
        }
        let category = category?;
        let (ua, _, _) = units_of(a, self.network);
        let (ub, _, _) = units_of(b, self.network);
        Some(Change {
            order: order.id.clone(),
            category,
            cost: (a.total_cost, b.total_cost),
            parcels: (a.shipments.len(), b.shipments.len()),
            units: (ua, ub),
            strategy: (a.rule.clone(), b.rule.clone()),
            plan: (plan_text(a), plan_text(b)),
            clause: clause_of(
                category,
                (a, self.clauses.0.as_ref()),
                (b, self.clauses.1.as_ref()),
            ),
        })
    }

    fn category(
        &self,
        order: &Order,
        a: &Decision,
        b: &Decision,
        when: Option<(i64, i64)>,
    ) -> Category {
        let (ua, sa, ca) = units_of(a, self.network);
        let (ub, sb, cb) = units_of(b, self.network);
        // Locations A used and B did not.
        let dropped: Vec<usize> = a
            .shipments
            .iter()
            .filter(|s| !b.shipments.iter().any(|t| t.location == s.location))
            .filter_map(|s| self.network.location_index(&s.location))
            .collect();
        if let Some((t, _)) = when {
            let closed = |&l: &usize| {
                self.closures
                    .iter()
                    .any(|&(c, from, to)| c == l && from <= t && t < to)
            };
            if dropped.iter().any(closed) {
                return Category::Closed;
            }
        }
        if let Some((_, day)) = when {
            let full = |&l: &usize| {
                let cap = self
                    .limits
                    .get(&(l, day))
                    .copied()
                    .or_else(|| self.network.locations.get(l).and_then(|x| x.daily_capacity));
                let sent = self.sent.get(&(l, day)).copied().unwrap_or(0);
                cap.is_some_and(|c| sent >= u64::from(c))
            };
            if dropped.iter().any(full) {
                return Category::Capacity;
            }
        }
        if let Some((t, _)) = when {
            // A SKU A took from a location whose stock of it B's scenario set earlier, and
            // that B did not take from there.
            let set = a.shipments.iter().any(|s| {
                let Some(l) = self.network.location_index(&s.location) else {
                    return false;
                };
                s.lines.iter().any(|line| {
                    let taken_by_b = b.shipments.iter().any(|x| {
                        x.location == s.location && x.lines.iter().any(|y| y.sku == line.sku)
                    });
                    !taken_by_b
                        && self
                            .settings
                            .iter()
                            .any(|(sl, sku, at)| *sl == l && *sku == line.sku && *at <= t)
                })
            });
            if set {
                return Category::StockSet;
            }
        }
        if order.fulfillment == Fulfillment::Pickup {
            if cb < ca {
                return Category::PickupCounterSkipped;
            }
            if cb > ca {
                return Category::PickupCounterUsed;
            }
        }
        if ub < ua {
            return Category::PlacedLess;
        }
        if ub > ua {
            return Category::PlacedMore;
        }
        if a.shipments == b.shipments {
            return Category::UnplacedReason;
        }
        if sb > sa {
            return Category::StorePreferred;
        }
        if sb < sa {
            return Category::StoreAvoided;
        }
        if a.rule != b.rule && self.fallbacks.contains(&b.rule) {
            return Category::Fallback;
        }
        let kept = |d: &Decision| d.shipments.iter().filter(|s| s.meets_promise).count();
        if order.promise_days.is_some() && kept(a) != kept(b) {
            return Category::Promise;
        }
        if a.shipments.len() != b.shipments.len() {
            return Category::Parcels;
        }
        Category::OtherLocation
    }
}
