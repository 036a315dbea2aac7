//! The decision graph: a rule set's control flow as a `petgraph` graph.
//!
//! In: the checked rule set. Out: [`DecisionGraph`]. Each strategy contributes a `Select`
//! node (its `when`) and a `Strategy` node (its search on the open units: candidates,
//! exclusions and objective are evaluated per candidate inside the search, which needs them
//! together for its bound, then the allocation). `Select` nodes are linked in file order by
//! `NotChosen` edges, the last to `NoStrategy`; a `Select` whose `when` holds leads by
//! `Chosen` to its strategy. A strategy's units left over follow its `Rest` edge to its
//! fallback's `Strategy` (whose `when` is not tested again), or to the `Backorder` /
//! `Unsourced` terminals. Every node kind has its handler (`rules/nodes/`), and the walk
//! visits the nodes in that order.

use petgraph::algo::toposort;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;
use sourcing_dsl::ir::{self, Next};

/// A node of the decision graph.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Node {
    /// Tests a strategy's `when`.
    Select(usize),
    /// Runs a strategy on the units still open: its candidates, exclusions and objective,
    /// searched together, then the allocation under its split policy.
    Strategy(usize),
    /// Units left over are backordered.
    Backorder,
    /// Units left over are unsourced.
    Unsourced,
    /// No strategy's `when` holds.
    NoStrategy,
}

/// An edge of the decision graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Edge {
    /// The `when` holds.
    Chosen,
    /// The `when` does not hold: try the next strategy.
    NotChosen,
    /// Units the strategy could not place go on.
    Rest,
}

/// A rule set's decision graph.
#[derive(Debug, Clone)]
pub struct DecisionGraph {
    pub(crate) graph: StableDiGraph<Node, Edge>,
    pub(crate) entry: NodeIndex,
}

impl DecisionGraph {
    /// Builds the graph; `None` if fallbacks form a cycle (the checker rejects those first).
    pub(crate) fn build(rules: &ir::RuleSet) -> Option<DecisionGraph> {
        let mut g = StableDiGraph::new();
        let backorder = g.add_node(Node::Backorder);
        let unsourced = g.add_node(Node::Unsourced);
        let none = g.add_node(Node::NoStrategy);
        let mut selects = Vec::new();
        let mut runs = Vec::new();
        for i in 0..rules.strategies.len() {
            let select = g.add_node(Node::Select(i));
            let run = g.add_node(Node::Strategy(i));
            g.add_edge(select, run, Edge::Chosen);
            selects.push(select);
            runs.push(run);
        }
        for w in selects.windows(2) {
            g.add_edge(w[0], w[1], Edge::NotChosen);
        }
        if let Some(&last) = selects.last() {
            g.add_edge(last, none, Edge::NotChosen);
        }
        for (i, s) in rules.strategies.iter().enumerate() {
            let target = match &s.next {
                Next::Fallback { strategy, .. } => *runs.get(strategy.0)?,
                Next::Backorder => backorder,
                Next::Unsourced => unsourced,
            };
            g.add_edge(runs[i], target, Edge::Rest);
        }
        // `toposort` walks with its own stack (`is_cyclic_directed` recurses once per
        // node, and a long fallback chain would overflow the thread's stack).
        if toposort(&g, None).is_err() {
            return None;
        }
        let entry = selects.first().copied().unwrap_or(none);
        Some(DecisionGraph { graph: g, entry })
    }

    /// The node an edge of this kind leads to from `from`.
    pub(crate) fn follow(&self, from: NodeIndex, kind: Edge) -> Option<NodeIndex> {
        self.graph
            .edges(from)
            .find(|e| *e.weight() == kind)
            .map(|e| e.target())
    }

    /// The node at an index.
    pub(crate) fn node(&self, at: NodeIndex) -> Option<&Node> {
        self.graph.node_weight(at)
    }

    /// How many nodes the graph has.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }
}

#[cfg(test)]
mod tests {
    use super::{DecisionGraph, Edge, Node};

    fn graph(src: &str) -> DecisionGraph {
        let (set, diags) = sourcing_dsl::compile_source("test.rules", src);
        assert!(!diags.has_errors(), "{}", diags.render());
        DecisionGraph::build(&set.expect("rule set")).expect("acyclic")
    }

    /// The node kinds met from `from` following `edges` in turn.
    fn path(g: &DecisionGraph, edges: &[Edge]) -> Vec<Node> {
        let mut at = g.entry;
        let mut out = vec![g.node(at).cloned().expect("entry")];
        for &e in edges {
            at = g.follow(at, e).expect("edge");
            out.push(g.node(at).cloned().expect("node"));
        }
        out
    }

    #[test]
    fn every_node_runs_selection_then_strategies_then_a_terminal() {
        let g = graph(
            r#"
strategy "app" {
  when order.channel == "app"
  candidates stores
  score cost
  fallback "dcs"
}
strategy "dcs" {
  candidates dcs
  score cost
  otherwise backorder
}
"#,
        );
        // Two nodes per strategy, three terminals: nothing that does not run.
        assert_eq!(g.node_count(), 7);
        use Edge::*;
        assert_eq!(
            path(&g, &[Chosen, Rest, Rest]),
            [
                Node::Select(0),
                Node::Strategy(0),
                Node::Strategy(1),
                Node::Backorder
            ]
        );
        assert_eq!(
            path(&g, &[NotChosen, Chosen, Rest]),
            [
                Node::Select(0),
                Node::Select(1),
                Node::Strategy(1),
                Node::Backorder
            ]
        );
        let g = graph("strategy \"a\" {\n  when order.channel == \"app\"\n  candidates all\n  score cost\n}\n");
        assert_eq!(path(&g, &[NotChosen]), [Node::Select(0), Node::NoStrategy]);
        assert_eq!(
            path(&g, &[Chosen, Rest]),
            [Node::Select(0), Node::Strategy(0), Node::Unsourced]
        );
    }
}
