//! `Select`: tests a strategy's `when` on the order's facts.

use super::{Flow, Walk};
use crate::model::decision::UnsourcedReason;
use crate::plan::{nothing_placed, Reads};
use crate::rules::graph::Edge;
use petgraph::stable_graph::NodeIndex;

/// Strategy `i` is chosen when its `when` holds (or it has none): on to it, unless
/// selection failed (the order's rule error) or the order cannot be served at all (a
/// pickup location that is not a store). Otherwise on to the next `Select`.
pub(super) fn run(w: &mut Walk<'_>, at: NodeIndex, i: usize) -> Flow {
    let holds = w
        .rules
        .set
        .strategies
        .get(i)
        .and_then(|s| s.when.as_ref())
        .is_none_or(|when| w.scope().eval(when).truthy());
    if !holds {
        return w
            .rules
            .graph
            .follow(at, Edge::NotChosen)
            .map_or(Flow::End, Flow::Next);
    }
    w.first = Some(i);
    // Selection reads the order alone.
    if let Some(mut r) = w.rule_error(Some(i)) {
        r.reads = Some(Reads::default());
        return Flow::Decided(Box::new(r));
    }
    if crate::plan::pickup_store(w.network, w.order).is_err() {
        let mut r = nothing_placed(w.order, UnsourcedReason::InvalidPickupStore);
        r.chain = Vec::new();
        r.searches = Vec::new();
        r.decision.rule = w.rules.set.strategies[i].name.clone();
        r.reads = Some(Reads::default());
        return Flow::Decided(Box::new(r));
    }
    w.rules
        .graph
        .follow(at, Edge::Chosen)
        .map_or(Flow::End, Flow::Next)
}
