//! The engine: a network and its stock, loaded once, routing orders from many threads.

use crate::explain::Explain;
use crate::explain::Trace;
use crate::load::inventory::InventoryRecord;
use crate::model::decision::Decision;
use crate::model::network::Network;
use crate::model::order::Order;
use crate::plan::Routed;
use crate::router::RouterTables;
use crate::rules::Rules;
use crate::stock::Stock;
use std::sync::{Arc, PoisonError, RwLock};

/// Routes orders against one network and its stock.
///
/// `Engine` is `Send + Sync`: share it (for instance in an `Arc`) and call
/// [`Engine::route`] from as many threads as you like. Each call takes its order's units
/// atomically; no lock is held while an order is planned.
#[derive(Debug)]
pub struct Engine {
    network: Network,
    stock: Stock,
    tables: RouterTables,
    /// The rule set in force; `None` routes with the built-in `min-cost` strategy. Each
    /// order reads it once, so a swap never mixes two rule sets in one decision.
    rules: RwLock<Option<Arc<Rules>>>,
}

/// Units held for one order: taken from the stock when reserved, given back exactly by
/// [`Engine::release`], kept for good by [`Engine::confirm`].
///
/// A reservation is a handle that cannot be copied: it is released or confirmed once.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a reservation holds stock until it is released or confirmed"]
pub struct Reservation {
    order: String,
    takes: Vec<(u32, u64)>,
    /// The shipping locations and the day their capacity was counted on.
    locations: Vec<u32>,
    day: i32,
}

impl Reservation {
    /// The order the units are held for.
    pub fn order(&self) -> &str {
        &self.order
    }

    /// How many units are held.
    pub fn units(&self) -> u64 {
        self.takes.iter().map(|t| t.1).sum()
    }
}

/// How hard the search worked for one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SearchStats {
    /// Branch-and-bound nodes visited (0 when one location settled the order).
    pub nodes: u64,
    /// True when a work limit cut the search short (orders of more than
    /// [`EXACT_LINE_LIMIT`](crate::EXACT_LINE_LIMIT) lines, or pathological ones).
    pub truncated: bool,
    /// How many times the order was planned again because another thread took its stock.
    pub retries: u32,
}

impl Engine {
    /// An engine over a network and its inventory rows (see [`crate::load`]).
    pub fn new(network: Network, inventory: &[InventoryRecord]) -> Engine {
        let stock = Stock::new(&network, inventory);
        let tables = RouterTables::new(&network);
        Engine {
            network,
            stock,
            tables,
            rules: RwLock::new(None),
        }
    }

    /// Routes with a rule set from now on (see [`Rules::compile`]); `None` goes back to
    /// the built-in `min-cost` strategy. Orders being routed finish with the rules they
    /// started with. A rule file that fails to load never gets here, so the rules in force
    /// stay as they were.
    pub fn set_rules(&self, rules: Option<Rules>) {
        let mut slot = self.rules.write().unwrap_or_else(PoisonError::into_inner);
        *slot = rules.map(Arc::new);
    }

    /// The rule set in force, if any.
    pub fn rules(&self) -> Option<Arc<Rules>> {
        self.rules
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn plan(&self, order: &Order, trace: Option<&Trace>) -> Routed {
        self.plan_with(self.rules().as_deref(), order, trace)
    }

    /// Plans an order with the given rules (`None`: the built-in strategy), taking nothing,
    /// through the planning core; candidates go to `trace` when explaining.
    pub(crate) fn plan_with(
        &self,
        rules: Option<&Rules>,
        order: &Order,
        trace: Option<&Trace>,
    ) -> Routed {
        // A pickup order travels to its store whatever its `ship_to` says (the loaders
        // refuse one more than `PICKUP_TOLERANCE_KM` away and move the rest).
        let moved;
        let order = match order.pickup_position(&self.network) {
            Some((lat, lon)) => {
                let mut at_store = order.clone();
                at_store.ship_to.lat = lat;
                at_store.ship_to.lon = lon;
                moved = at_store;
                &moved
            }
            None => order,
        };
        crate::plan::plan(
            &self.network,
            &self.stock,
            &self.tables,
            rules,
            order,
            trace,
        )
    }

    /// The network this engine routes over.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The stock as it is now.
    pub fn stock(&self) -> &Stock {
        &self.stock
    }

    /// The cheapest plan for an order against the stock as it is now, taking nothing.
    pub fn quote(&self, order: &Order) -> Decision {
        self.quote_with_stats(order).0
    }

    /// [`Engine::quote`], with how hard the search worked.
    pub fn quote_with_stats(&self, order: &Order) -> (Decision, SearchStats) {
        let routed = self.plan(order, None);
        let stats = SearchStats {
            nodes: routed.nodes,
            truncated: routed.truncated,
            retries: 0,
        };
        (routed.decision, stats)
    }

    /// Sources an order and takes its units from the stock, all or nothing.
    ///
    /// If another thread takes some of the planned units first, the order is planned again
    /// against what is left, so no unit is ever promised twice.
    pub fn route(&self, order: &Order) -> Decision {
        self.route_with_stats(order).0
    }

    /// Sources an order and holds its units: they are taken from the stock now (no other
    /// order can have them) and given back by [`Engine::release`], or kept by
    /// [`Engine::confirm`]. The decision is the same as [`Engine::route`]'s.
    pub fn reserve(&self, order: &Order) -> (Decision, Reservation) {
        let (routed, _, locations, day) = self.plan_and_take(order, None);
        let reservation = Reservation {
            order: order.id.clone(),
            takes: routed.takes,
            locations,
            day,
        };
        (routed.decision, reservation)
    }

    /// Gives a reservation's units back to the stock, exactly those it holds, and its
    /// shipments back to the locations' daily capacity.
    pub fn release(&self, reservation: Reservation) {
        self.stock.give_back(&reservation.takes);
        self.stock
            .capacity
            .remove(&reservation.locations, reservation.day);
    }

    /// Keeps a reservation's units for good (they were taken when reserved).
    pub fn confirm(&self, reservation: Reservation) {
        drop(reservation);
    }

    /// Plans an order and takes its units; plans again whenever another thread took some
    /// of them first. Returns the plan and how many times it was redone.
    fn plan_and_take(&self, order: &Order, trace: Option<&Trace>) -> (Routed, u32, Vec<u32>, i32) {
        let day = crate::capacity::day_of(order.placed_at.as_deref());
        let mut retries = 0;
        loop {
            let routed = self.plan(order, trace);
            let locations = self.shipping_locations(&routed);
            // INVARIANT: a failed take changes nothing, and fails only because another
            // order took capacity or units since this plan read them, so every retry sees
            // less of them.
            if self.take_planned(&routed, &locations, day) {
                return (routed, retries, locations, day);
            }
            retries += 1;
        }
    }

    /// The indexes of the locations a plan ships from.
    pub(crate) fn shipping_locations(&self, routed: &Routed) -> Vec<u32> {
        routed
            .decision
            .shipments
            .iter()
            .filter_map(|s| self.network.location_index(&s.location))
            .map(|i| i as u32)
            .collect()
    }

    /// Counts a plan's shipments against `day`'s capacity and takes its units, both or
    /// neither: false (nothing changed) when another order got there first.
    pub(crate) fn take_planned(&self, routed: &Routed, locations: &[u32], day: i32) -> bool {
        if self.stock.capacity.add(locations, day) {
            if self.stock.take(&routed.takes) {
                return true;
            }
            self.stock.capacity.remove(locations, day);
        }
        false
    }

    /// [`Engine::quote`], with an explanation: the strategy, every candidate considered,
    /// kept or dropped and why.
    pub fn quote_explained(&self, order: &Order) -> (Decision, Explain) {
        let trace = Trace::default();
        let routed = self.plan(order, Some(&trace));
        explained(self.rules().as_deref(), routed, trace.into_list())
    }

    /// [`Engine::route`], with an explanation (see [`Engine::quote_explained`]).
    pub fn route_explained(&self, order: &Order) -> (Decision, Explain) {
        let trace = Trace::default();
        let (routed, _, _, _) = self.plan_and_take(order, Some(&trace));
        explained(self.rules().as_deref(), routed, trace.into_list())
    }

    /// [`Engine::route`], with how hard the search worked.
    pub fn route_with_stats(&self, order: &Order) -> (Decision, SearchStats) {
        let (routed, retries, _, _) = self.plan_and_take(order, None);
        let stats = SearchStats {
            nodes: routed.nodes,
            truncated: routed.truncated,
            retries,
        };
        (routed.decision, stats)
    }
}

/// A decision with the explanation of how it was reached under `rules` (the built-in
/// strategy when `None`).
pub(crate) fn explained(
    rules: Option<&Rules>,
    routed: Routed,
    considered: Vec<crate::explain::Considered>,
) -> (Decision, Explain) {
    let ranking = routed
        .chain
        .iter()
        .filter_map(|name| match rules {
            Some(r) => r.ranking(name),
            None => Some(crate::explain::Ranking {
                strategy: name.clone(),
                criteria: vec!["cost".to_string()],
                then: crate::rules::fixed_tie_breaks(),
            }),
        })
        .collect();
    let explain = Explain::new(
        &routed.decision,
        routed.searches,
        routed.chain,
        !routed.truncated,
        routed.nodes,
        considered,
        ranking,
    );
    (routed.decision, explain)
}
