//! The decision graph: a rule set's control flow as a `petgraph` graph.
//!
//! In: the checked rule set. Out: [`DecisionGraph`]. Each strategy contributes a `Select`
//! node (its `when`) and a chain of stage nodes — candidates, each exclusion, the
//! objective, the allocation. `Select` nodes are linked in file order by `NotChosen`
//! edges; a chosen strategy's allocation ends in a `Rest` edge to its fallback's
//! candidates (whose `when` is not tested again), or to the `Backorder` / `Unsourced`
//! terminals. The walker follows the edges; the stages of one strategy run as one fused,
//! native step.

use petgraph::algo::toposort;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;
use sourcing_dsl::ir::{self, Next};

/// A node of the decision graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Tests a strategy's `when`.
    Select(usize),
    /// The union of a strategy's candidate sets.
    Candidates(usize),
    /// One exclusion of a strategy (its index among the strategy's exclusions).
    Exclude(usize, usize),
    /// The strategy's objective (score, rank keys, penalties).
    Objective(usize),
    /// The allocation under the strategy's split policy.
    Allocate(usize),
    /// Units left over are backordered.
    Backorder,
    /// Units left over are unsourced.
    Unsourced,
    /// No strategy's `when` holds.
    NoStrategy,
}

/// An edge of the decision graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The `when` holds.
    Chosen,
    /// The `when` does not hold: try the next strategy.
    NotChosen,
    /// The next stage of the same strategy.
    Then,
    /// Units the strategy could not place go on.
    Rest,
}

/// A rule set's decision graph.
#[derive(Debug, Clone)]
pub struct DecisionGraph {
    pub(crate) graph: StableDiGraph<Node, Edge>,
    pub(crate) entry: NodeIndex,
    /// The `Allocate` node of each strategy, where its `Rest` edge leaves.
    pub(crate) ends: Vec<NodeIndex>,
}

impl DecisionGraph {
    /// Builds the graph; `None` if fallbacks form a cycle (the checker rejects those first).
    pub(crate) fn build(rules: &ir::RuleSet) -> Option<DecisionGraph> {
        let mut g = StableDiGraph::new();
        let backorder = g.add_node(Node::Backorder);
        let unsourced = g.add_node(Node::Unsourced);
        let none = g.add_node(Node::NoStrategy);
        let mut selects = Vec::new();
        let mut starts = Vec::new();
        let mut ends = Vec::new();
        for (i, s) in rules.strategies.iter().enumerate() {
            let select = g.add_node(Node::Select(i));
            let start = g.add_node(Node::Candidates(i));
            g.add_edge(select, start, Edge::Chosen);
            let mut at = start;
            for k in 0..s.exclusions.len() {
                let n = g.add_node(Node::Exclude(i, k));
                g.add_edge(at, n, Edge::Then);
                at = n;
            }
            let objective = g.add_node(Node::Objective(i));
            g.add_edge(at, objective, Edge::Then);
            let allocate = g.add_node(Node::Allocate(i));
            g.add_edge(objective, allocate, Edge::Then);
            selects.push(select);
            starts.push(start);
            ends.push(allocate);
        }
        for w in selects.windows(2) {
            g.add_edge(w[0], w[1], Edge::NotChosen);
        }
        if let Some(&last) = selects.last() {
            g.add_edge(last, none, Edge::NotChosen);
        }
        for (i, s) in rules.strategies.iter().enumerate() {
            let target = match &s.next {
                Next::Fallback { strategy, .. } => *starts.get(strategy.0)?,
                Next::Backorder => backorder,
                Next::Unsourced => unsourced,
            };
            g.add_edge(ends[i], target, Edge::Rest);
        }
        // `toposort` walks with its own stack (`is_cyclic_directed` recurses once per
        // node, and a long fallback chain would overflow the thread's stack).
        if toposort(&g, None).is_err() {
            return None;
        }
        let entry = selects.first().copied().unwrap_or(none);
        Some(DecisionGraph {
            graph: g,
            entry,
            ends,
        })
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
