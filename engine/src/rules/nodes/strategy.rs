//! `Strategy`: one strategy's search on the units still open, through the planning core.

use super::{Flow, Walk};
use crate::explain::StrategySearch;
use crate::plan::Planned;
use crate::rules::eval::Step;
use crate::rules::graph::Edge;
use petgraph::stable_graph::NodeIndex;
use sourcing_dsl::ir;

/// Runs strategy `i`: the built-in least-cost search when it is plain least cost and
/// nothing is planned yet (exact, spatially indexed), otherwise the rules' search. Its
/// shipments and reasons go to the core's progress; units still open follow the `Rest`
/// edge.
pub(super) fn run(w: &mut Walk<'_>, at: NodeIndex, i: usize) -> Flow {
    let Some(s) = w.rules.strategies.get(i) else {
        return Flow::End;
    };
    match w.visited.get_mut(i) {
        // INVARIANT: the graph is acyclic; this only guards the walk.
        Some(seen) if *seen => return Flow::End,
        Some(seen) => *seen = true,
        None => return Flow::End,
    }
    let (order, stock) = (w.order, w.stock);
    if s.plain_min_cost && w.progress.planned.is_empty() {
        let routed = crate::router::plan_order(w.network, stock, w.tables, order, w.trace);
        w.reads_known = false;
        w.progress
            .searches
            .push(StrategySearch::new(&s.ir.name, None));
        let ends_here = !matches!(s.ir.next, ir::Next::Fallback { .. });
        if routed.decision.unsourced.is_empty() || ends_here {
            // Nothing goes on to another strategy: the built-in decision is final (a
            // terminal may still name its open units).
            let done = routed.decision.unsourced.is_empty();
            w.builtin = Some((routed, i));
            if done {
                return Flow::End;
            }
            return w
                .rules
                .graph
                .follow(at, Edge::Rest)
                .map_or(Flow::End, Flow::Next);
        }
        let p = &mut w.progress;
        p.spent.set(p.spent.get().saturating_add(routed.nodes));
        p.truncated |= routed.truncated;
        let planned = routed
            .decision
            .shipments
            .iter()
            .filter_map(|sh| {
                let loc = w.network.location_index(&sh.location)?;
                Some(Planned {
                    location: loc as u32,
                    lines: sh
                        .lines
                        .iter()
                        .map(|l| (l.line, u64::from(l.qty)))
                        .collect(),
                    weight: sh
                        .lines
                        .iter()
                        .map(|l| {
                            let unit = order.lines.get(l.line).map_or(0.0, |x| x.unit_weight_kg);
                            f64::from(l.qty) * unit
                        })
                        .sum(),
                    offer: None,
                })
            })
            .collect();
        p.place(stock, order, planned);
        for u in routed.decision.unsourced {
            p.explain(u.line, u.reason);
        }
    } else {
        let step = Step {
            rules: w.rules,
            network: w.network,
            stock,
            day: crate::capacity::day_of(order.placed_at.as_deref()),
            ranks: &w.tables.ranks,
            tables: w.tables,
            facts: &w.facts,
            planned: &w.progress.planned,
            shape: w.shape.as_ref(),
            reads: &w.reads,
            read_floors: Default::default(),
            spent: &w.progress.spent,
            trace: w.trace,
        };
        let (result, search) = step.run(s, &w.progress.open);
        let p = &mut w.progress;
        p.searches.push(StrategySearch::new(&s.ir.name, search));
        p.truncated |= result.truncated;
        p.place(stock, order, result.shipments);
        for (line, why) in result.reasons {
            p.explain(line, why);
        }
        p.settle();
        if let Some(mut r) = w.rule_error(w.first) {
            r.reads = w.reads_known.then(|| w.reads.take());
            return Flow::Decided(Box::new(r));
        }
    }
    if w.progress.done() {
        return Flow::End;
    }
    w.rules
        .graph
        .follow(at, Edge::Rest)
        .map_or(Flow::End, Flow::Next)
}
