//! The simulation report: one self-contained HTML page (inline SVG, no script) with the key
//! figures of every side, per-day charts on shared axes, the load and capacity of each
//! side, the orders decided differently and why, sweeps, and a glossary.

use crate::cmd::charts;
use crate::cmd::simulate::{figures, ClauseCount, Shown, SweepRow};
use crate::Failure;
use sourcing_engine::simulate::{Block, Category, Change, Kpis};
use sourcing_engine::Network;
use std::collections::BTreeMap;

/// The orders decided differently, as the report shows them.
pub struct Changed<'a> {
    /// How many.
    pub count: usize,
    /// Per category: orders and the cost change they add up to.
    pub by_category: &'a BTreeMap<Category, (u64, f64)>,
    /// Per category and clause behind the change: orders and cost change.
    pub by_clause: Vec<ClauseCount>,
    /// The biggest changes by cost, biggest first.
    pub biggest: Vec<&'a Change>,
}

/// How many clauses the category table names per category.
const CLAUSES_SHOWN: usize = 3;

/// The clauses behind a category's changes, most orders first: `clause (n)`, with a count
/// of the orders whose clause is not known and of the clauses not listed.
fn causes(rows: &[ClauseCount], category: Category) -> String {
    let of: Vec<&ClauseCount> = rows.iter().filter(|r| r.rank == category).collect();
    let known: Vec<&&ClauseCount> = of.iter().filter(|r| !r.clause.is_empty()).collect();
    let mut parts: Vec<String> = known
        .iter()
        .take(CLAUSES_SHOWN)
        .map(|r| format!("{} ({})", r.clause, r.orders))
        .collect();
    let more: u64 = known.iter().skip(CLAUSES_SHOWN).map(|r| r.orders).sum();
    if more > 0 {
        parts.push(format!("other clauses ({more})"));
    }
    let unknown: u64 = of
        .iter()
        .filter(|r| r.clause.is_empty())
        .map(|r| r.orders)
        .sum();
    if unknown > 0 {
        parts.push(format!("not known ({unknown})"));
    }
    parts.join("; ")
}

/// Everything the page shows.
pub struct Page<'a> {
    /// The first side: its name and figures.
    pub a: (&'a str, &'a Kpis),
    /// The second side, if any.
    pub b: Option<(&'a str, &'a Kpis)>,
    /// The orders decided differently, with a second side.
    pub changes: Option<Changed<'a>>,
    /// Orders replayed.
    pub orders: usize,
    /// The network (positions, currency).
    pub network: &'a Network,
    /// The swept constants.
    pub sweeps: &'a [String],
    /// The sweep's points.
    pub sweep_rows: &'a [SweepRow],
    /// The scenario file, when the second side runs one.
    pub scenario: Option<String>,
}

/// The figures the glossary explains, with what they mean.
pub const GLOSSARY: &[(&str, &str)] = &[
    ("orders", "orders replayed (every order in the file, dated or not)"),
    ("units ordered", "sum of the quantities of every order line"),
    ("units placed", "units given a location to come from (shipped or handed out at a pickup counter)"),
    ("units not placed", "units ordered minus units placed: backordered or unsourced, with the reason in the decisions"),
    ("fill rate (units)", "units placed / units ordered"),
    ("fill rate (orders)", "orders with every unit placed / orders"),
    ("split rate", "orders with more than one shipment / orders with at least one shipment"),
    ("shipments per order", "shipments (parcels and counter hand-outs) / orders with at least one shipment"),
    ("total cost", "sum of the contract's shipment costs (location handling plus the service's rate; a counter hand-out costs the store's handling only); the rules' own penalties and score terms steer the choice but are not part of it"),
    ("cost per order", "total cost / orders with at least one shipment"),
    ("cost per unit", "total cost / units placed"),
    ("mean distance (km)", "mean great-circle distance from the shipping location to the customer, over shipments"),
    ("p95 distance (km)", "the distance 95 % of shipments stay within, to the km"),
    ("promise attainment", "shipments that arrive within their order's promised days / shipments of orders with a promise"),
    ("store share (units)", "units placed from stores (counter hand-outs included) / units placed"),
    ("units at pickup counters", "units handed out at a pickup order's store without a parcel"),
    ("days at capacity", "days on which a location sent as many shipments as its daily capacity (a scenario's lower capacity counts on its days)"),
    ("peak utilisation", "a location's busiest day's shipments / its daily capacity"),
    ("changed order", "an order whose shipments or unplaced units differ between the two sides; its category is the first that holds, in the order of the category table"),
];

/// A figure as written in the page.
fn show(x: f64, how: Shown, currency: &str) -> String {
    match how {
        Shown::Count => format!("{x:.0}"),
        Shown::Rate => format!("{:.1} %", x * 100.0),
        Shown::Ratio => format!("{x:.2}"),
        Shown::Money => format!("{x:.2} {currency}"),
        Shown::Km => format!("{x:.1} km"),
    }
}

/// A difference as written: signed, in the figure's unit (rates in percentage points).
fn show_diff(d: f64, how: Shown, currency: &str) -> String {
    let text = match how {
        Shown::Rate => format!("{:.1} pp", d * 100.0),
        _ => show(d, how, currency),
    };
    if d > 0.0 {
        format!("+{text}")
    } else {
        text
    }
}

/// A figure a sweep chart shows: its name, how it is written, and how it is read.
type KeyFigure = (&'static str, Shown, fn(&Block) -> f64);

/// Rows the template can own.
type Row = BTreeMap<&'static str, String>;

/// The key figures table: a row per figure, with both sides, the difference and the change
/// in percent, marked better or worse by the direction the figure is read in.
fn key_rows(a: &Block, b: Option<&Block>, currency: &str) -> Vec<Row> {
    let fb = b.map(figures);
    figures(a)
        .into_iter()
        .enumerate()
        .map(|(i, (name, x, higher_better, how))| {
            let mut row = Row::new();
            row.insert("name", name.to_string());
            row.insert("a", show(x, how, currency));
            if let Some(y) = fb.as_ref().and_then(|f| f.get(i)).map(|f| f.1) {
                let diff = y - x;
                row.insert("b", show(y, how, currency));
                // Equal as written is equal: no mark for a difference below the shown digits.
                let same = show(x, how, currency) == show(y, how, currency);
                row.insert(
                    "diff",
                    if same {
                        show_diff(0.0, how, currency)
                    } else {
                        show_diff(diff, how, currency)
                    },
                );
                row.insert(
                    "pct",
                    if same || x == 0.0 {
                        "–".into()
                    } else {
                        format!("{:+.1} %", diff / x.abs() * 100.0)
                    },
                );
                let tone = if same {
                    ""
                } else {
                    match higher_better {
                        None => "",
                        Some(h) if (diff > 0.0) == h => "better",
                        Some(_) => "worse",
                    }
                };
                row.insert("tone", tone.to_string());
            }
            row
        })
        .collect()
}

/// The busiest locations of one side.
fn location_rows(k: &Kpis) -> Vec<Row> {
    k.locations
        .iter()
        .take(20)
        .map(|l| {
            BTreeMap::from([
                ("location", l.location.clone()),
                ("kind", l.kind.clone()),
                ("shipments", l.shipments.to_string()),
                ("units", l.units.to_string()),
                ("days_at_capacity", l.days_at_capacity.to_string()),
                ("peak", format!("{:.0} %", l.peak_utilisation * 100.0)),
                ("full_days", l.full_days.join(", ")),
            ])
        })
        .collect()
}

/// Locations at capacity on at least one day, on one side.
fn full_count(k: &Kpis) -> (usize, usize) {
    let full: Vec<_> = k
        .locations
        .iter()
        .filter(|l| l.days_at_capacity > 0)
        .collect();
    let stores = full.iter().filter(|l| l.kind == "store").count();
    (full.len(), stores)
}

/// Renders the page.
pub fn render(p: &Page<'_>) -> Result<String, Failure> {
    let currency = p.network.currency.as_str();
    let mut runs: Vec<(&str, &Kpis)> = vec![p.a];
    runs.extend(p.b);
    let rate = "%";
    let mut charts = vec![
        (
            "per-day",
            charts::per_day(
                &format!("Cost per order per day ({currency})"),
                &format!("cost per order ({currency})"),
                &runs,
                |b| b.cost_per_order,
                false,
            ),
        ),
        (
            "per-day",
            charts::per_day(
                "Promise attainment per day (% of promised shipments on time)",
                rate,
                &runs,
                |b| b.promise_attainment,
                true,
            ),
        ),
        (
            "per-day",
            charts::per_day(
                "Store share per day (% of units placed from stores)",
                rate,
                &runs,
                |b| b.store_share,
                true,
            ),
        ),
        (
            "per-day",
            charts::per_day(
                "Split rate per day (% of orders in more than one shipment)",
                rate,
                &runs,
                |b| b.split_rate,
                true,
            ),
        ),
        (
            "per-day",
            charts::per_day(
                "Units not placed per day (units backordered or unsourced)",
                "units",
                &runs,
                |b| b.units_unplaced as f64,
                false,
            ),
        ),
        ("per-day", charts::units_by_kind(&runs)),
    ];
    for (name, k) in &runs {
        charts.push((
            "map",
            charts::load_map(&format!("Load by location: {name}"), k, p.network),
        ));
    }
    for (name, k) in &runs {
        let days = k.location_days(p.network);
        if !days.is_empty() {
            charts.push((
                "heatmap",
                charts::capacity_heatmap(
                    &format!("Capacity by location and day: {name} (30 fullest limited locations)"),
                    &days,
                    30,
                ),
            ));
        }
    }
    let rows = key_rows(&p.a.1.overall, p.b.map(|b| &b.1.overall), currency);
    // Per day: both sides side by side.
    let mut days: Vec<&String> = runs.iter().flat_map(|r| r.1.by_day.keys()).collect();
    days.sort();
    days.dedup();
    let day_rows: Vec<Vec<String>> = days
        .iter()
        .map(|d| {
            let mut cells = vec![(*d).clone()];
            let blocks: Vec<Option<&Block>> = runs.iter().map(|r| r.1.by_day.get(*d)).collect();
            let each = |f: &dyn Fn(&Block) -> String| -> Vec<String> {
                blocks
                    .iter()
                    .map(|b| b.map_or_else(|| "–".to_string(), f))
                    .collect()
            };
            cells.extend(each(&|b| b.orders.to_string()));
            cells.extend(each(&|b| show(b.cost_per_order, Shown::Money, currency)));
            cells.extend(each(&|b| show(b.promise_attainment, Shown::Rate, currency)));
            cells.extend(each(&|b| show(b.store_share, Shown::Rate, currency)));
            cells.extend(each(&|b| show(b.split_rate, Shown::Rate, currency)));
            cells.extend(each(&|b| b.units_unplaced.to_string()));
            cells
        })
        .collect();
    let locations: Vec<(String, Vec<Row>, (usize, usize))> = runs
        .iter()
        .map(|(n, k)| (n.to_string(), location_rows(k), full_count(k)))
        .collect();
    let (categories, biggest, changed_count) = match &p.changes {
        Some(c) => {
            let categories: Vec<Row> = Category::ALL
                .iter()
                .filter_map(|cat| {
                    let &(n, cost) = c.by_category.get(cat)?;
                    Some(BTreeMap::from([
                        ("name", cat.as_str().to_string()),
                        ("meaning", cat.meaning().to_string()),
                        ("orders", n.to_string()),
                        (
                            "share",
                            format!("{:.1} %", n as f64 / c.count.max(1) as f64 * 100.0),
                        ),
                        ("cost", show_diff(cost, Shown::Money, currency)),
                        ("causes", causes(&c.by_clause, *cat)),
                    ]))
                })
                .collect();
            let biggest: Vec<Row> = c
                .biggest
                .iter()
                .map(|ch| {
                    BTreeMap::from([
                        ("order", ch.order.clone()),
                        ("category", ch.category.as_str().to_string()),
                        ("clause", ch.clause.clone().unwrap_or_default()),
                        ("cost_a", show(ch.cost.0, Shown::Money, currency)),
                        ("cost_b", show(ch.cost.1, Shown::Money, currency)),
                        (
                            "cost_diff",
                            show_diff(ch.cost.1 - ch.cost.0, Shown::Money, currency),
                        ),
                        ("strategy_a", ch.strategy.0.clone()),
                        ("strategy_b", ch.strategy.1.clone()),
                        ("a", ch.plan.0.clone()),
                        ("b", ch.plan.1.clone()),
                    ])
                })
                .collect();
            (categories, biggest, c.count)
        }
        None => (Vec::new(), Vec::new(), 0),
    };
    let (sweep_head, sweep_table, sweep_charts) = sweep_parts(p, currency);
    let glossary: Vec<(&str, &str)> = GLOSSARY.to_vec();
    let categories_all: Vec<(&str, &str)> = Category::ALL
        .iter()
        .map(|c| (c.as_str(), c.meaning()))
        .collect();
    let mut env = minijinja::Environment::new();
    env.add_template("report", include_str!("templates/report.html"))
        .map_err(|e| Failure::Input(format!("report template: {e}")))?;
    let (a_name, b_name) = (p.a.0.to_string(), p.b.map(|b| b.0.to_string()));
    let title = match &b_name {
        Some(b) => format!("{a_name} vs {b}"),
        None => a_name.clone(),
    };
    let sides: Vec<String> = runs.iter().map(|r| r.0.to_string()).collect();
    env.get_template("report")
        .and_then(|t| {
            t.render(minijinja::context! {
                title, orders => p.orders, vs => p.b.is_some(), a_name,
                b_name => b_name.unwrap_or_default(), sides, currency,
                scenario => p.scenario.clone(),
                rows, day_rows, locations, categories, biggest, changed_count,
                shown => biggest_len(p), charts, glossary, categories_all,
                sweep_names => p.sweeps.to_vec(), sweep_head, sweep_table, sweep_charts,
                sweep_files => p.sweep_rows.iter().any(|r| !r.decisions.is_empty()),
            })
        })
        .map_err(|e| Failure::Input(format!("report: {e}")))
}

fn biggest_len(p: &Page<'_>) -> usize {
    p.changes.as_ref().map_or(0, |c| c.biggest.len())
}

/// The sweep's table (every figure per point and side) and a chart per key figure against
/// the swept value (a line per side, and per value of a second swept constant).
fn sweep_parts(p: &Page<'_>, currency: &str) -> (Vec<String>, Vec<Vec<String>>, Vec<String>) {
    if p.sweep_rows.is_empty() {
        return (Vec::new(), Vec::new(), Vec::new());
    }
    let mut head: Vec<String> = p.sweeps.to_vec();
    head.push("side".into());
    let proto = figures(&Block::default());
    head.extend(proto.iter().map(|f| f.0.to_string()));
    let sides: Vec<&str> = std::iter::once(p.a.0).chain(p.b.map(|b| b.0)).collect();
    let mut table = Vec::new();
    for r in p.sweep_rows {
        for (k, block) in std::iter::once(&r.overall).chain(&r.vs).enumerate() {
            let mut cells: Vec<String> = r.values.iter().map(|v| v.1.clone()).collect();
            cells.push(sides.get(k).map_or_else(String::new, |s| s.to_string()));
            cells.extend(
                figures(block)
                    .into_iter()
                    .map(|(_, x, _, how)| show(x, how, currency)),
            );
            table.push(cells);
        }
    }
    // The first constant's values along x; a line per side and second-constant value.
    let first = p.sweeps.first().cloned().unwrap_or_default();
    let mut xs: Vec<String> = Vec::new();
    for r in p.sweep_rows {
        if !xs.contains(&r.value) {
            xs.push(r.value.clone());
        }
    }
    let key: [KeyFigure; 6] = [
        ("cost per order", Shown::Money, |b| b.cost_per_order),
        ("fill rate (units)", Shown::Rate, |b| b.fill_rate_units),
        ("split rate", Shown::Rate, |b| b.split_rate),
        ("promise attainment", Shown::Rate, |b| b.promise_attainment),
        ("store share (units)", Shown::Rate, |b| b.store_share),
        ("units not placed", Shown::Count, |b| {
            b.units_unplaced as f64
        }),
    ];
    let mut charts_out = Vec::new();
    for (name, how, value) in key {
        let mut series: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for r in p.sweep_rows {
            let rest: Vec<String> = r
                .values
                .iter()
                .skip(1)
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            for (k, block) in std::iter::once(&r.overall).chain(&r.vs).enumerate() {
                let mut label = sides.get(k).map_or_else(String::new, |s| s.to_string());
                if !rest.is_empty() {
                    label = format!("{label}, {}", rest.join(", "));
                }
                if !order.contains(&label) {
                    order.push(label.clone());
                }
                series.entry(label).or_default().push(value(block));
            }
        }
        let unit = match how {
            Shown::Money => currency.to_string(),
            Shown::Rate => "%".into(),
            _ => "units".into(),
        };
        charts_out.push(charts::lines(&charts::Lines {
            title: &format!("{name} ({unit}) against {first}"),
            x_desc: &first,
            y_desc: &format!("{name} ({unit})"),
            labels: xs.clone(),
            series: order
                .iter()
                .map(|l| (l.clone(), series.remove(l).unwrap_or_default()))
                .collect(),
            percent: how == Shown::Rate,
        }));
    }
    (head, table, charts_out)
}
