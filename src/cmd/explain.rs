//! `sourcing explain --order ID ...`: why one order was sourced the way it was, for a person.
//!
//! The orders before it are routed first, in file order, taking their stock (as
//! `sourcing route` would), unless `--no-consume`; then the order is explained against the
//! stock it met. With `--vs B` the same happens under two rule sets, each with its own
//! copy of the stock, and a summary says what differs, in the categories of
//! `simulate --vs`.

use crate::cmd::input::{self, CheckedOrders};
use crate::cmd::output;
use crate::cmd::route::{check_rules, compile_rules, Inputs};
use crate::Failure;
use clap::{Args, ValueEnum};
use serde::Serialize;
use sourcing_engine::load::{InventoryRecord, OrderReader};
use sourcing_engine::simulate::{Change, Comparer, Scenario};
use sourcing_engine::{Decision, Engine, Explain, Network, RouteOptions, ValidOrder};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How `explain` writes its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Text for a person.
    #[default]
    Text,
    /// One JSON object: the decision and its explanation (with `--vs`, both sides and
    /// what differs).
    Json,
}

/// Arguments of `sourcing explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The id of the order to explain.
    #[arg(long, value_name = "ID")]
    pub order: String,
    /// The input files.
    #[command(flatten)]
    pub inputs: Inputs,
    /// A second rule file: explain the order under `--rules` (or the built-in strategy)
    /// and under this one, side by side, and say what differs.
    #[arg(long, value_name = "B")]
    pub vs: Option<PathBuf>,
    /// Explain against the initial stock, without routing the orders before it.
    #[arg(long)]
    pub no_consume: bool,
    /// `text` (default) or `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `sourcing explain`.
pub fn run(args: &ExplainArgs) -> Result<(), Failure> {
    if let Some(vs) = &args.vs {
        return run_vs(args, vs);
    }
    let (engine, orders) = args.inputs.engine()?;
    let name = &orders.name;
    let mut reader = OrderReader::new(name, orders.reader()?, engine.network());
    for order in reader.valid() {
        let order = order.map_err(|e| Failure::Input(e.to_string()))?;
        if order.id == args.order {
            let out = engine.route(&order, &RouteOptions::quote().explain(true));
            if let Some(why) = &out.explain {
                return output::print(&match args.format {
                    Format::Text => render(&out.decision, why, engine.network()),
                    Format::Json => json(&One {
                        decision: &out.decision,
                        explain: why,
                    })?,
                });
            }
        }
        if !args.no_consume {
            engine.route(&order, &RouteOptions::consume());
        }
    }
    Err(not_found(name, &args.order))
}

fn not_found(file: &str, id: &str) -> Failure {
    Failure::Input(format!(
        "{file}: no order has the id `{}`",
        output::shown(id)
    ))
}

fn json(value: &impl Serialize) -> Result<String, Failure> {
    serde_json::to_string_pretty(value)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| Failure::Input(format!("cannot write the explanation: {e}")))
}

/// One side of `--vs`: a rule set (or the built-in strategy) over its own stock.
struct Side {
    /// The rule file as given, or `built-in`.
    file: String,
    /// The strategy set's name: the file's stem, or `min-cost`.
    name: String,
    engine: Engine,
    rules: Option<sourcing_dsl::RuleSet>,
}

impl Side {
    fn new(
        rules: Option<&Path>,
        network: &Network,
        records: &[InventoryRecord],
    ) -> Result<Side, Failure> {
        let engine = Engine::new(network.clone(), records);
        let Some(path) = rules else {
            return Ok(Side {
                file: "built-in".into(),
                name: "min-cost".into(),
                engine,
                rules: None,
            });
        };
        let (set, hash) = check_rules(path)?;
        compile_rules(&engine, path, set.clone(), hash)?;
        Ok(Side {
            file: input::name(path),
            name: path.file_stem().map_or_else(
                || input::name(path),
                |s| output::shown(&s.to_string_lossy()).into_owned(),
            ),
            engine,
            rules: Some(set),
        })
    }
}

/// `explain --format json`: the decision, in the contract's field order, and why.
#[derive(Serialize)]
struct One<'a> {
    decision: &'a Decision,
    explain: &'a Explain,
}

/// `explain --vs --format json`: both sides and what differs.
#[derive(Serialize)]
struct Both<'a> {
    order: &'a str,
    a: Explained<'a>,
    b: Explained<'a>,
    differs: &'a Differs<'a>,
}

/// One side's answer: its decision and why.
#[derive(Serialize)]
struct Explained<'a> {
    rules: &'a str,
    name: &'a str,
    decision: &'a Decision,
    explain: &'a Explain,
}

/// What differs between the two sides, in the words of `changes.csv`.
#[derive(Serialize)]
struct Differs<'a> {
    /// Whether the shipments or the units not placed differ.
    changed: bool,
    /// The category `simulate --vs` gives the change (`None` when nothing changed).
    category: Option<&'static str>,
    /// The category in a sentence.
    meaning: Option<&'static str>,
    /// The rule clause behind the change, as in `changes.csv`, when the files tell.
    clause: Option<String>,
    cost: (f64, f64),
    cost_change: f64,
    parcels: (usize, usize),
    units: (u64, u64),
    locations: (Vec<&'a str>, Vec<&'a str>),
    strategy: (&'a str, &'a str),
    search: (String, String),
}

fn units(d: &Decision) -> u64 {
    d.shipments
        .iter()
        .flat_map(|s| &s.lines)
        .map(|l| u64::from(l.qty))
        .sum()
}

fn locations(d: &Decision) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for s in &d.shipments {
        if !out.contains(&s.location.as_str()) {
            out.push(&s.location);
        }
    }
    out
}

/// How a side searched: each strategy that ran, bounded or by a full scan.
fn search_of(why: &Explain) -> String {
    let exact = if why.exact { "exact" } else { "cut short" };
    let each: Vec<String> = why
        .search
        .iter()
        .map(|s| format!("{} {}", s.strategy, s.search))
        .collect();
    format!("{exact}, {}", each.join(", "))
}

fn differs<'a>(
    change: Option<&Change>,
    (a, wa): (&'a Decision, &Explain),
    (b, wb): (&'a Decision, &Explain),
) -> Differs<'a> {
    Differs {
        changed: change.is_some(),
        category: change.map(|c| c.category.as_str()),
        meaning: change.map(|c| c.category.meaning()),
        clause: change.and_then(|c| c.clause.clone()),
        cost: (a.total_cost, b.total_cost),
        cost_change: b.total_cost - a.total_cost,
        parcels: (a.shipments.len(), b.shipments.len()),
        units: (units(a), units(b)),
        locations: (locations(a), locations(b)),
        strategy: (&a.rule, &b.rule),
        search: (search_of(wa), search_of(wb)),
    }
}

/// `explain --vs`: the order under both rule sets, each routing the orders before it
/// against its own copy of the stock, then what differs.
fn run_vs(args: &ExplainArgs, vs: &Path) -> Result<(), Failure> {
    let inputs = &args.inputs;
    input::at_most_one_stdin(
        [&inputs.network, &inputs.inventory, &inputs.orders]
            .into_iter()
            .chain(&inputs.rules)
            .map(PathBuf::as_path)
            .chain(std::iter::once(vs)),
    )?;
    let network = input::network(&inputs.network)?;
    let records = input::inventory(&inputs.inventory, &network)?;
    let orders = CheckedOrders::check(&inputs.orders, &network)?;
    let a = Side::new(inputs.rules.as_deref(), &network, &records)?;
    let b = Side::new(Some(vs), &network, &records)?;
    let fallbacks = b
        .rules
        .as_ref()
        .map(Comparer::fallbacks_of)
        .unwrap_or_default();
    let scenario = Scenario::default();
    let mut comparer = Comparer::new(&network, fallbacks, &scenario)
        .with_rules(a.rules.as_ref(), b.rules.as_ref());
    let mut reader = OrderReader::new(&orders.name, orders.reader()?, &network);
    for order in reader.valid() {
        let order = order.map_err(|e| Failure::Input(e.to_string()))?;
        if order.id == args.order {
            return explain_both(args.format, &order, (&a, &b), &mut comparer, &network);
        }
        if !args.no_consume {
            let da = a.engine.route(&order, &RouteOptions::consume()).decision;
            let db = b.engine.route(&order, &RouteOptions::consume()).decision;
            // B's shipments count towards the capacity category, as in `simulate --vs`.
            comparer.compare(&order, &da, &db);
        }
    }
    Err(not_found(&orders.name, &args.order))
}

fn explain_both(
    format: Format,
    order: &ValidOrder,
    (a, b): (&Side, &Side),
    comparer: &mut Comparer<'_>,
    network: &Network,
) -> Result<(), Failure> {
    let quote = RouteOptions::quote().explain(true);
    let (oa, ob) = (a.engine.route(order, &quote), b.engine.route(order, &quote));
    let (Some(wa), Some(wb)) = (oa.explain.as_deref(), ob.explain.as_deref()) else {
        return Err(Failure::Input(format!(
            "order `{}`: no explanation was collected",
            output::shown(&order.id)
        )));
    };
    let change = comparer.compare(order, &oa.decision, &ob.decision);
    let diff = differs(change.as_ref(), (&oa.decision, wa), (&ob.decision, wb));
    let text = match format {
        Format::Json => json(&Both {
            order: &order.id,
            a: Explained {
                rules: &a.file,
                name: &a.name,
                decision: &oa.decision,
                explain: wa,
            },
            b: Explained {
                rules: &b.file,
                name: &b.name,
                decision: &ob.decision,
                explain: wb,
            },
            differs: &diff,
        })?,
        Format::Text => {
            let mut out = format!(
                "order {} under two rule sets\n  A: {} ({})\n  B: {} ({})\n",
                order.id, a.name, a.file, b.name, b.file
            );
            for (label, side, d, why) in [("A", a, &oa.decision, wa), ("B", b, &ob.decision, wb)] {
                let _ = writeln!(out, "\n── {label}: {} ──", side.name);
                out.push_str(&render(d, why, network));
            }
            out.push_str(&render_differs(&diff, &network.currency));
            out
        }
    };
    output::print(&text)
}

/// The "what differs" summary: each figure of A and of B, the category of the change.
fn render_differs(d: &Differs<'_>, currency: &str) -> String {
    let mut out = String::from("\nwhat differs (A → B)\n");
    let mut row = |what: &str, a: String, b: String, extra: String| {
        let same = if a == b { "  (same)" } else { "" };
        let _ = writeln!(out, "  {what:<10} {a} → {b}{extra}{same}");
    };
    row(
        "cost",
        format!("{:.2} {currency}", d.cost.0),
        format!("{:.2} {currency}", d.cost.1),
        if d.cost_change.abs() >= 0.005 {
            format!(" ({:+.2} {currency})", d.cost_change)
        } else {
            String::new()
        },
    );
    row(
        "parcels",
        d.parcels.0.to_string(),
        d.parcels.1.to_string(),
        String::new(),
    );
    row(
        "units",
        d.units.0.to_string(),
        d.units.1.to_string(),
        String::new(),
    );
    let listed = |l: &[&str]| {
        if l.is_empty() {
            "none".to_string()
        } else {
            l.join(", ")
        }
    };
    row(
        "locations",
        listed(&d.locations.0),
        listed(&d.locations.1),
        String::new(),
    );
    row(
        "strategy",
        d.strategy.0.to_string(),
        d.strategy.1.to_string(),
        String::new(),
    );
    row(
        "search",
        d.search.0.clone(),
        d.search.1.clone(),
        String::new(),
    );
    match (d.category, d.meaning) {
        (Some(c), Some(m)) => {
            let _ = writeln!(out, "  category   {c}: {m}");
            if let Some(clause) = &d.clause {
                let _ = writeln!(out, "  clause     {clause}");
            }
        }
        _ => {
            let _ = writeln!(
                out,
                "  category   none: the same shipments and the same units not placed"
            );
        }
    }
    out
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
