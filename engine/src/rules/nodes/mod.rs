//! The walk of the decision graph for one order, and a handler per node kind.
//!
//! In: an order and the compiled rules. Out: the decision ([`crate::plan::Routed`]). The
//! walk starts at the graph's entry and hands each node to its kind's handler — `select`
//! (a strategy's `when`), `strategy` (its search on the open units, through the planning
//! core), `backorder`, `unsourced`, `no_strategy` — which says where to go next or that the
//! order is decided. A visit allocates nothing: a handler reads the node's strategy by
//! index and follows an edge of the graph.

mod backorder;
mod no_strategy;
mod select;
mod strategy;
mod unsourced;

use super::expr::{OrderFacts, Scope};
use super::graph::Node;
use super::Rules;
use crate::explain::Trace;
use crate::model::decision::UnsourcedReason;
use crate::model::network::Network;
use crate::model::order::Order;
use crate::plan::{nothing_placed, Progress, Reads, Routed};
use crate::router::RouterTables;
use crate::stock::Stock;
use petgraph::stable_graph::NodeIndex;
use std::cell::RefCell;

/// What a handler says after its node.
pub(super) enum Flow {
    /// Go on at this node.
    Next(NodeIndex),
    /// The order is decided, as given.
    Decided(Box<Routed>),
    /// The walk is over: the decision is what the strategies planned.
    End,
}

/// An order's walk: what the handlers read and what they build.
pub(super) struct Walk<'a> {
    pub rules: &'a Rules,
    pub network: &'a Network,
    pub stock: &'a Stock,
    pub tables: &'a RouterTables,
    pub order: &'a Order,
    pub facts: OrderFacts<'a>,
    pub trace: Option<&'a Trace>,
    /// The strategy chosen by selection.
    pub first: Option<usize>,
    /// The strategies that ran.
    pub visited: Vec<bool>,
    /// The core's progress: open units, planned stock, shipments, reasons.
    pub progress: Progress,
    /// What the rules' own searches read of the stock.
    pub reads: RefCell<Reads>,
    /// False once the built-in search read the stock its own way (not written down).
    pub reads_known: bool,
    /// A decision the built-in least-cost search made whole, when nothing follows it but a
    /// terminal; with the strategy that made it.
    pub builtin: Option<(Routed, usize)>,
    /// Kits and packs of the order.
    pub shape: Option<crate::alloc::Shape>,
}

impl Walk<'_> {
    /// The scope of order facts, for `when` and the other order-level expressions.
    pub fn scope(&self) -> Scope<'_> {
        self.rules.order_scope(&self.facts)
    }

    /// The decision for an order whose rules failed (a script error or limit, a value that
    /// is not finite): every unit unsourced with reason `rule_error`, nothing taken, the
    /// failure in `error`; `None` while nothing failed.
    pub fn rule_error(&self, chosen: Option<usize>) -> Option<Routed> {
        let failure = self.facts.failure.borrow();
        let f = failure.as_ref()?;
        let mut r = nothing_placed(self.order, UnsourcedReason::RuleError);
        let name = chosen
            .and_then(|i| self.rules.set.strategies.get(i))
            .map(|s| s.name.clone())
            .unwrap_or_default();
        r.chain = if name.is_empty() {
            Vec::new()
        } else {
            vec![name.clone()]
        };
        r.decision.rule = name;
        r.decision.error = Some(self.rules.describe(f));
        Some(r)
    }

    /// Names a decision after the strategy chosen first; its explanation lists every
    /// strategy that ran, in file order.
    fn name(&self, routed: &mut Routed) {
        routed.chain = self
            .visited
            .iter()
            .enumerate()
            .filter(|(_, &v)| v)
            .filter_map(|(i, _)| self.rules.set.strategies.get(i).map(|s| s.name.clone()))
            .collect();
        routed.decision.rule = self
            .first
            .and_then(|i| self.rules.set.strategies.get(i))
            .map(|s| s.name.clone())
            .unwrap_or_default();
    }

    /// The decision once the walk is over.
    fn decide(mut self) -> Routed {
        let mut routed = match self.builtin.take() {
            Some((mut routed, at)) => {
                // Strategies that ran before it (and placed nothing) read the stock their
                // own way; selection reads only the order.
                routed.builtin &= Some(at) == self.first;
                routed.searches = std::mem::take(&mut self.progress.searches);
                routed
            }
            None => {
                let reads = self.reads_known.then(|| self.reads.take());
                let progress = std::mem::replace(&mut self.progress, Progress::new(self.order));
                let mut routed = progress.decide(self.network, self.order);
                routed.reads = reads;
                routed
            }
        };
        self.name(&mut routed);
        routed
    }
}

/// Routes one order with a rule set: walks the decision graph from its entry.
pub(crate) fn walk(
    rules: &Rules,
    network: &Network,
    stock: &Stock,
    tables: &RouterTables,
    order: &Order,
    trace: Option<&Trace>,
) -> Routed {
    let mut facts = OrderFacts::new(order);
    facts.pickup_tags = order
        .pickup_index(network)
        .and_then(|i| network.locations.get(i as usize))
        .map(|l| l.tags.as_slice());
    let mut w = Walk {
        rules,
        network,
        stock,
        tables,
        order,
        facts,
        trace,
        first: None,
        visited: vec![false; rules.strategies.len()],
        progress: Progress::new(order),
        reads: RefCell::new(Reads::default()),
        reads_known: true,
        builtin: None,
        shape: crate::alloc::Shape::of(order),
    };
    let mut at = rules.graph.entry;
    loop {
        let flow = match rules.graph.node(at) {
            Some(Node::Select(i)) => select::run(&mut w, at, *i),
            Some(Node::Strategy(i)) => strategy::run(&mut w, at, *i),
            Some(Node::Backorder) => backorder::run(&mut w),
            Some(Node::Unsourced) => unsourced::run(&mut w),
            Some(Node::NoStrategy) => no_strategy::run(&mut w),
            None => Flow::End,
        };
        match flow {
            Flow::Next(next) => at = next,
            Flow::Decided(routed) => return *routed,
            Flow::End => break,
        }
    }
    w.decide()
}
