//! `sourcing explain --order ID ...`: why one order was sourced the way it was, for a person.
//!
//! The orders before it are routed first, in file order, taking their stock (as
//! `sourcing route` would), unless `--no-consume`; then the order is explained against the
//! stock it met.

use crate::cmd::output;
use crate::cmd::route::Inputs;
use crate::Failure;
use clap::Args;
use sourcing_engine::load::OrderReader;
use sourcing_engine::{Decision, Explain, Network, RouteOptions};
use std::fmt::Write as _;

/// Arguments of `sourcing explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The id of the order to explain.
    #[arg(long, value_name = "ID")]
    pub order: String,
    /// The input files.
    #[command(flatten)]
    pub inputs: Inputs,
    /// Explain against the initial stock, without routing the orders before it.
    #[arg(long)]
    pub no_consume: bool,
}

/// Runs `sourcing explain`.
pub fn run(args: &ExplainArgs) -> Result<(), Failure> {
    let (engine, orders) = args.inputs.engine()?;
    let name = &orders.name;
    let mut reader = OrderReader::new(name, orders.reader()?, engine.network());
    for order in reader.valid() {
        let order = order.map_err(|e| Failure::Input(e.to_string()))?;
        if order.id == args.order {
            let out = engine.route(&order, &RouteOptions::quote().explain(true));
            if let Some(why) = &out.explain {
                return output::print(&render(&out.decision, why, engine.network()));
            }
        }
        if !args.no_consume {
            engine.route(&order, &RouteOptions::consume());
        }
    }
    Err(Failure::Input(format!(
        "{name}: no order has the id `{}`",
        output::shown(&args.order)
    )))
}

/// The explanation as text a person reads top to bottom.
pub fn render(d: &Decision, why: &Explain, network: &Network) -> String {
    let currency = &network.currency;
    let mut out = String::new();
    let status = format!("{:?}", d.status).to_lowercase();
    let _ = writeln!(
        out,
        "order {}: {status} by strategy `{}`{}",
        d.order,
        why.strategy,
        if why.strategies.len() > 1 {
            format!(" (then {})", why.strategies[1..].join(", then "))
        } else {
            String::new()
        }
    );
    for n in &why.not_chosen {
        let _ = writeln!(
            out,
            "  not strategy `{}`: its `when {}` did not hold",
            n.strategy, n.when
        );
    }
    let _ = writeln!(
        out,
        "search: {}, {} branch-and-bound nodes",
        if why.exact {
            "exact"
        } else {
            "cut short by its work limit"
        },
        why.search_nodes
    );
    if d.shipments.is_empty() {
        let _ = writeln!(out, "\nships nothing");
    } else {
        let _ = writeln!(out, "\nships");
    }
    for s in &d.shipments {
        let lines: Vec<String> = s
            .lines
            .iter()
            .map(|l| format!("line {} {} x{}", l.line, l.sku, l.qty))
            .collect();
        let _ = writeln!(
            out,
            "  {:<14} {:<8} {:>8.1} km  {:>2} day(s)  {:>9.2} {currency}  {}  {}",
            s.location,
            s.service.as_deref().unwrap_or("counter"),
            s.distance_km,
            s.days,
            s.cost,
            if s.meets_promise {
                "on time"
            } else {
                "late   "
            },
            lines.join(", ")
        );
    }
    let _ = writeln!(out, "  total {:.2} {currency}", d.total_cost);
    for u in &d.unsourced {
        let _ = writeln!(
            out,
            "  not placed: line {} {} x{} ({})",
            u.line, u.sku, u.qty, u.reason
        );
    }
    if let Some(e) = &d.error {
        let _ = writeln!(out, "  rule error: {e}");
    }
    if !why.ranking.is_empty() {
        let _ = writeln!(out, "\nranking");
        for r in &why.ranking {
            let tiers: String = r.tiers.iter().map(|t| format!("`{t}`, then ")).collect();
            let _ = writeln!(
                out,
                "  [{}] {tiers}{}; ties: {}",
                r.strategy,
                r.criteria.join(", then "),
                r.then.join(", then ")
            );
        }
    }
    let _ = writeln!(out, "\ncandidates considered");
    for c in &why.candidates {
        let mark = if c.shipped {
            "ships  "
        } else if c.kept {
            "kept   "
        } else {
            "dropped"
        };
        let cost = c.cost.map(|x| format!("cost {x:.2}")).unwrap_or_default();
        let score = c.score.map(|x| format!("score {x:.2}")).unwrap_or_default();
        let why_not = match (&c.reason, &c.lost_on) {
            (Some(r), _) => r.clone(),
            (None, Some(lost)) => format!("lost on {lost}"),
            (None, None) => String::new(),
        };
        let line = format!(
            "  {mark} {:<14} {:>8.1} km  {:<12} {:<13} [{}] {}",
            c.location, c.distance_km, cost, score, c.strategy, why_not
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if why.omitted > 0 {
        let _ = writeln!(out, "  … and {} more", why.omitted);
    }
    let builtin_only = why.search.len() == 1
        && why
            .search
            .iter()
            .all(|s| s.why.is_none() && s.strategy == "min-cost" && why.strategy == "min-cost");
    if !builtin_only {
        let _ = writeln!(out, "\nsearch");
        for s in &why.search {
            let _ = match &s.why {
                Some(reason) => writeln!(out, "  {:<24} full scan: {reason}", s.strategy),
                None => writeln!(out, "  {:<24} bounded", s.strategy),
            };
        }
    }
    let _ = writeln!(out, "\nnote: {}", why.note);
    out
}
