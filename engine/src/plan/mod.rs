//! The planning core: every strategy, the built-in `min-cost` included, runs through it.
//!
//! In: an order, the network, the stock, and the rules (`None`: the built-in strategy, the
//! core with the plain least-cost objective). Out: [`Routed`], the decision with the units
//! it takes and what the plan read of the stock.
//!
//! What every strategy shares lives here, once: the pickup store ([`pickup_store`]), the
//! order's progress over its strategies — units still open per line, units planned per
//! stock slot, the shipments, the reason of each line ([`Progress`]) — the cut of the
//! demand to what can be placed (`cut.rs`), and the decision's assembly ([`Progress::decide`],
//! [`finish`]). The search is plugged in: the least-cost search of `router.rs` (best-first
//! by cost lower bound, node budget) or a rule strategy's search (`rules/eval.rs`), each
//! run by a node of the decision graph (`rules/nodes/`).

pub(crate) mod cut;

use crate::cost::LocationOffer;
use crate::explain::{StrategySearch, Trace};
use crate::model::decision::{
    Decision, Shipment, ShipmentLine, Status, Unsourced, UnsourcedReason,
};
use crate::model::network::{LocationKind, Network};
use crate::model::order::{Fulfillment, Order};
use crate::router::RouterTables;
use crate::rules::Rules;
use crate::stock::Stock;
use rustc_hash::FxHashMap;

/// A decision with the units it takes from each stock slot.
#[derive(Debug, Clone)]
pub(crate) struct Routed {
    pub decision: Decision,
    pub takes: Vec<(u32, u64)>,
    /// Search nodes visited (for benchmarks and explanations).
    pub nodes: u64,
    /// True when a work limit cut the search short.
    pub truncated: bool,
    /// The strategies that ran, in order.
    pub chain: Vec<String>,
    /// How each strategy that ran searched: `None` bounded, or why it scanned every holder.
    pub searches: Vec<StrategySearch>,
    /// Everything the plan read of the stock, when the rules' own search did all the
    /// reading: a plan made ahead stays valid while none of it changes.
    pub reads: Option<Reads>,
    /// True when only the built-in search read the stock for this plan: it depends on a
    /// slot's units only up to the order's demand and on a location's capacity only as
    /// full or not (what lets a plan made ahead survive other orders' commits).
    pub builtin: bool,
}

/// What a plan under rules read of the stock: slots (SKU id, slot, and the units up to
/// which their count matters: `u64::MAX` when exactly) and the locations whose shipments
/// left today it looked at (and whether the count matters, or only none against some), and
/// the slots a walk passed by for holding too few units (SKU id, slot, the fewest units that
/// would have counted): for those only whether they stay below matters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reads {
    pub slots: Vec<(u32, u32, u64)>,
    pub locations: Vec<(u32, bool)>,
    pub floors: Vec<(u32, u32, u64)>,
}

/// A shipment planned by a strategy: a location, its (line, units), their weight.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub location: u32,
    pub lines: Vec<(usize, u64)>,
    pub weight: f64,
    /// The location's offer for the order, when the search already built it (the same
    /// choice of service at any weight as a fresh one).
    pub offer: Option<LocationOffer>,
}

/// Plans one order against the stock as it is now, taking nothing: with the rules'
/// decision graph, or as the built-in `min-cost` strategy. Candidates go to `trace` when
/// an explanation is being collected.
pub(crate) fn plan(
    network: &Network,
    stock: &Stock,
    tables: &RouterTables,
    rules: Option<&Rules>,
    order: &Order,
    trace: Option<&Trace>,
) -> Routed {
    match rules {
        Some(rules) => crate::rules::nodes::walk(rules, network, stock, tables, order, trace),
        None => crate::router::plan_order(network, stock, tables, order, trace),
    }
}

/// The pickup store of an order, by index: `Ok(None)` for a shipped order, `Err` for a
/// pickup order whose location is not a store of the network (the loaders refuse those; a
/// library caller gets the reason `invalid_pickup_store`).
pub(crate) fn pickup_store(network: &Network, order: &Order) -> Result<Option<u32>, ()> {
    match order.fulfillment {
        Fulfillment::Ship => Ok(None),
        Fulfillment::Pickup => order
            .pickup_index(network)
            .filter(|&i| {
                network
                    .locations
                    .get(i as usize)
                    .is_some_and(|l| l.kind == LocationKind::Store)
            })
            .map(Some)
            .ok_or(()),
    }
}

/// An order's progress over the strategies that run for it.
#[derive(Debug)]
pub(crate) struct Progress {
    /// Units still open per line.
    pub open: Vec<u64>,
    /// Units planned per stock slot (two strategies never count the same stock).
    pub planned: FxHashMap<u32, u64>,
    /// The shipments planned so far, in the order strategies planned them.
    pub shipments: Vec<Planned>,
    /// Why each line is (partly) open.
    pub reasons: Vec<Option<UnsourcedReason>>,
    /// Search nodes spent by every strategy of the order, on one budget.
    pub spent: std::cell::Cell<u64>,
    /// True when a work limit cut a search short.
    pub truncated: bool,
    /// How each strategy that ran searched.
    pub searches: Vec<StrategySearch>,
}

impl Progress {
    /// Nothing placed yet: every unit of every line open.
    pub fn new(order: &Order) -> Progress {
        Progress {
            open: order.lines.iter().map(|l| u64::from(l.qty)).collect(),
            planned: FxHashMap::default(),
            shipments: Vec::new(),
            reasons: vec![None; order.lines.len()],
            spent: std::cell::Cell::new(0),
            truncated: false,
            searches: Vec::new(),
        }
    }

    /// Whether every unit is placed.
    pub fn done(&self) -> bool {
        self.open.iter().all(|&o| o == 0)
    }

    /// Takes a strategy's shipments: their units leave the open lines and count against
    /// their slots.
    pub fn place(&mut self, stock: &Stock, order: &Order, shipments: Vec<Planned>) {
        for p in &shipments {
            for &(line, qty) in &p.lines {
                if let Some(o) = self.open.get_mut(line) {
                    *o = o.saturating_sub(qty);
                }
                let Some(l) = order.lines.get(line) else {
                    continue;
                };
                if let Some(slot) = stock.sku_id(&l.sku).and_then(|k| stock.slot(p.location, k)) {
                    *self.planned.entry(slot).or_default() += qty;
                }
            }
        }
        self.shipments.extend(shipments);
    }

    /// A strategy's reason for a line, after any earlier one (see
    /// [`UnsourcedReason::after`]).
    pub fn explain(&mut self, line: usize, why: UnsourcedReason) {
        if let Some(r) = self.reasons.get_mut(line) {
            *r = Some(match r.take() {
                Some(earlier) => UnsourcedReason::after(earlier, why),
                None => why,
            });
        }
    }

    /// A reason for a line that has none yet: within one search, the first word on a line
    /// stands.
    pub fn note_first(&mut self, line: usize, why: UnsourcedReason) {
        if let Some(r) = self.reasons.get_mut(line) {
            r.get_or_insert(why);
        }
    }

    /// Forgets the reasons of lines no longer open.
    pub fn settle(&mut self) {
        for (r, &o) in self.reasons.iter_mut().zip(&self.open) {
            if o == 0 {
                *r = None;
            }
        }
    }

    /// Every open line gets `why` (the walk's end: `backorder`).
    pub fn close(&mut self, why: &UnsourcedReason) {
        for line in 0..self.open.len() {
            if self.open[line] > 0 {
                self.explain(line, why.clone());
            }
        }
    }

    /// The decision: one shipment per location (units planned there by several strategies
    /// travel together, at the contract's service for their weight), open units unsourced
    /// with their reason (`no_stock` when no strategy gave one).
    pub fn decide(self, network: &Network, order: &Order) -> Routed {
        let mut by_location: Vec<Planned> = Vec::new();
        for p in self.shipments {
            match by_location.iter_mut().find(|x| x.location == p.location) {
                Some(x) => {
                    x.lines.extend(p.lines);
                    x.weight += p.weight;
                }
                None => by_location.push(p),
            }
        }
        let pickup = order.pickup_index(network);
        let shipments = by_location
            .into_iter()
            .filter_map(|p| shipment(network, order, pickup, p))
            .collect();
        let unsourced = self
            .open
            .iter()
            .zip(self.reasons)
            .enumerate()
            .filter(|(_, (&o, _))| o > 0)
            .map(|(line, (&o, why))| Unsourced {
                line,
                sku: sku_of(order, line),
                qty: u32::try_from(o).unwrap_or(u32::MAX),
                reason: why.unwrap_or(UnsourcedReason::NoStock),
            })
            .collect();
        let mut takes: Vec<(u32, u64)> = self.planned.into_iter().collect();
        takes.sort_unstable();
        let mut routed = finish(
            order,
            shipments,
            unsourced,
            self.spent.get(),
            self.truncated,
        );
        routed.takes = takes;
        routed.searches = self.searches;
        routed
    }
}

/// One location's planned units as the contract's shipment: the cheapest service the
/// strategy's offer allows at the final weight, repeated lines merged.
fn shipment(network: &Network, order: &Order, pickup: Option<u32>, p: Planned) -> Option<Shipment> {
    let Planned {
        location,
        mut lines,
        weight,
        offer,
    } = p;
    let l = network.locations.get(location as usize)?;
    let offer = offer.unwrap_or_else(|| {
        LocationOffer::for_order(l, Some(location) == pickup, &network.services, order)
    });
    let opt = offer.choose(weight).copied()?;
    lines.sort_unstable();
    let mut merged: Vec<(usize, u64)> = Vec::with_capacity(lines.len());
    for (line, q) in lines {
        match merged.last_mut() {
            Some(last) if last.0 == line => last.1 += q,
            _ => merged.push((line, q)),
        }
    }
    Some(Shipment {
        location: l.id.clone(),
        service: opt
            .service
            .and_then(|s| network.services.get(s as usize))
            .map(|s| s.id.clone()),
        lines: merged
            .iter()
            .map(|&(line, qty)| ShipmentLine {
                line,
                sku: sku_of(order, line),
                qty: u32::try_from(qty).unwrap_or(u32::MAX),
            })
            .collect(),
        distance_km: offer.distance_km,
        days: opt.days,
        cost: opt.cost(weight),
        meets_promise: opt.meets_promise,
    })
}

/// A decision that places nothing: every line unsourced for the same reason.
pub(crate) fn nothing_placed(order: &Order, reason: UnsourcedReason) -> Routed {
    let all = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| Unsourced {
            line: i,
            sku: l.sku.clone(),
            qty: l.qty,
            reason: reason.clone(),
        })
        .collect();
    finish(order, Vec::new(), all, 0, false)
}

/// The decision of shipments and unsourced units: shipments by location id, unsourced by
/// line, the total cost and the status.
pub(crate) fn finish(
    order: &Order,
    mut shipments: Vec<Shipment>,
    mut unsourced: Vec<Unsourced>,
    nodes: u64,
    truncated: bool,
) -> Routed {
    shipments.sort_by(|a, b| a.location.cmp(&b.location));
    unsourced.sort_by_key(|u| u.line);
    // `+ 0.0` turns the empty sum's -0.0 into 0.0.
    let total_cost = shipments.iter().map(|s| s.cost).sum::<f64>() + 0.0;
    let placed: u64 = shipments
        .iter()
        .flat_map(|s| &s.lines)
        .map(|l| u64::from(l.qty))
        .sum();
    let status = if unsourced.is_empty() {
        Status::Sourced
    } else if placed > 0 {
        Status::Partial
    } else {
        Status::Unsourced
    };
    Routed {
        decision: Decision {
            order: order.id.clone(),
            status,
            rule: "min-cost".into(),
            ruleset: crate::RulesetHash::BUILTIN,
            shipments,
            unsourced,
            total_cost,
            error: None,
        },
        takes: Vec::new(),
        nodes,
        truncated,
        chain: vec!["min-cost".into()],
        searches: Vec::new(),
        reads: None,
        builtin: false,
    }
}

/// Adds `qty` unplaced units of `line` to its entry in `unsourced` (keeping that entry's
/// reason: the first word on a line stands), or lists them with `reason`.
pub(crate) fn add_unsourced(
    unsourced: &mut Vec<Unsourced>,
    order: &Order,
    line: usize,
    qty: u64,
    reason: UnsourcedReason,
) {
    let qty = u32::try_from(qty).unwrap_or(u32::MAX);
    match unsourced.iter_mut().find(|u| u.line == line) {
        Some(u) => u.qty = u.qty.saturating_add(qty),
        None => unsourced.push(Unsourced {
            line,
            sku: order
                .lines
                .get(line)
                .map(|l| l.sku.clone())
                .unwrap_or_default(),
            qty,
            reason,
        }),
    }
}

#[cfg(test)]
mod tests;

/// The SKU of an order's line (empty for a line the order does not have).
fn sku_of(order: &Order, line: usize) -> String {
    order
        .lines
        .get(line)
        .map(|l| l.sku.clone())
        .unwrap_or_default()
}
