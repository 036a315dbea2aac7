//! `sourcing simulate`: replay the orders in time order against the stock, and report.
//!
//! Writes `DIR/decisions.jsonl`, `DIR/kpis.json` and `DIR/report.html` (with `--vs`, also
//! `DIR/decisions-vs.jsonl`). Every input is checked before anything is written, and the
//! run is written into a folder beside `DIR` that replaces it only once every file is
//! complete (`out_dir`), so `DIR` holds one whole run, never a mix or a part.

use crate::cmd::route::{check_rules, compile_rules};
use crate::cmd::{input, out_dir};
use crate::Failure;
use clap::Args;
use serde::Serialize;
use sourcing_engine::simulate::{replay_with_events, Block, EventReport, Kpis};
use sourcing_engine::{load, Decision, Engine};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Arguments of `sourcing simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The rule file to replay with.
    #[arg(long, value_name = "R")]
    pub rules: PathBuf,
    /// A second rule file, replayed over the same orders and starting stock.
    #[arg(long, value_name = "R2")]
    pub vs: Option<PathBuf>,
    /// The network (`network.json`).
    #[arg(long, value_name = "N")]
    pub network: PathBuf,
    /// Stock (`inventory.csv` or `inventory.json`).
    #[arg(long, value_name = "I")]
    pub inventory: PathBuf,
    /// Orders (`orders.jsonl`).
    #[arg(long, value_name = "O")]
    pub orders: PathBuf,
    /// The folder to write the results to (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Stock events over time (JSONL: `at`, `location`, `sku`, `delta`), applied before the
    /// first order placed at or after their moment.
    #[arg(long, value_name = "E")]
    pub events: Option<PathBuf>,
    /// Override a constant of the rules (`--set split_penalty=8`); repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Replay once per value of a constant (`--sweep split_penalty=2,4,8`), in parallel:
    /// `kpis.json` and the report get one row per value.
    #[arg(long, value_name = "NAME=V1,V2,...")]
    pub sweep: Option<String>,
}

/// What every run starts from: the network, the stock rows and the orders.
struct Inputs {
    network: sourcing_engine::Network,
    stock: Vec<load::InventoryRecord>,
    orders: Vec<sourcing_engine::Order>,
    events: Vec<load::StockEvent>,
    /// The events file as named on the command line, for warnings.
    events_file: String,
}

/// Applies `NAME=VALUE` overrides to a rule set.
fn apply_sets(
    set: &mut sourcing_dsl::RuleSet,
    overrides: &[String],
    path: &Path,
) -> Result<(), Failure> {
    for o in overrides {
        let Some((name, value)) = o.split_once('=') else {
            let o = crate::cmd::output::shown(o);
            return Err(Failure::Usage(format!("`--set {o}`: expected NAME=VALUE")));
        };
        set.set_const(name.trim(), value.trim()).map_err(|e| {
            let o = crate::cmd::output::shown(o);
            Failure::Input(format!("{}: --set {o}: {e}", input::name(path)))
        })?;
    }
    Ok(())
}

/// A sweep value the rules refuse.
fn sweep_failure(name: &str, value: &str, e: &impl std::fmt::Display) -> Failure {
    use crate::cmd::output::shown;
    Failure::Input(format!("--sweep {}={}: {e}", shown(name), shown(value)))
}

/// One replay's output.
struct Run {
    name: String,
    kpis: Kpis,
}

/// A progress bar on a terminal (orders per second, time left); nothing otherwise.
fn progress(
    len: usize,
    label: &str,
    show: bool,
    bars: &indicatif::MultiProgress,
) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !show || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = bars.add(indicatif::ProgressBar::new(len as u64));
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{prefix} [{bar:30}] {pos}/{len} orders, {per_sec}, {eta} left",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_string());
    bar
}

/// Where a run's decisions go.
enum Sink {
    /// Only the key figures matter (sweeps).
    Discard,
    /// The file being written, in the run's staging folder.
    Stream(PathBuf),
}

/// The files `simulate` writes to its folder (and, from earlier versions, their
/// half-written `.partial` forms): the only files a folder it replaces may hold.
const OWN_FILES: &[&str] = &[
    "decisions.jsonl",
    "decisions-vs.jsonl",
    "kpis.json",
    "report.html",
    "decisions.jsonl.partial",
    "decisions-vs.jsonl.partial",
    "kpis.json.partial",
    "report.html.partial",
];

/// Replays the orders with one rule set, handing every decision to `each` in replay order
/// and writing it to the sink.
fn run_one(
    inputs: &Inputs,
    rules: &Path,
    set: sourcing_dsl::RuleSet,
    bars: Option<&indicatif::MultiProgress>,
    sink: &Sink,
    mut each: impl FnMut(&Decision),
) -> Result<Run, Failure> {
    use std::io::Write;
    let engine = Engine::new(inputs.network.clone(), &inputs.stock);
    // A replay may change the file's constants (`--set`, `--sweep`): its decisions name
    // the checked set they ran with, not the file's bytes.
    let hash = sourcing_engine::RulesetHash::of(format!("{set:?}").as_bytes());
    compile_rules(&engine, rules, set, hash)?;
    let mut stream = match sink {
        Sink::Discard => None,
        Sink::Stream(path) => Some(std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(path)
                .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))?,
        )),
    };
    let mut write_error = None;
    let label = rules.display().to_string();
    let hidden =
        indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden());
    let bar = progress(
        inputs.orders.len(),
        &label,
        bars.is_some(),
        bars.unwrap_or(&hidden),
    );
    let mut count = 0usize;
    let (mut rule_errors, mut first_error) = (0usize, None);
    let (kpis, report) = replay_with_events(&engine, &inputs.orders, &inputs.events, |_, d| {
        if let Some(e) = &d.error {
            rule_errors += 1;
            first_error.get_or_insert_with(|| format!("order `{}`: {e}", d.order));
        }
        if let Some(out) = &mut stream {
            let written = serde_json::to_writer(&mut *out, d)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"));
            if let Err(e) = written {
                write_error.get_or_insert(e);
            }
        }
        each(d);
        count += 1;
        // Redrawing is rate-limited by indicatif; counting in steps keeps it cheap.
        if count.is_multiple_of(1024) {
            bar.set_position(count as u64);
        }
    });
    bar.finish_and_clear();
    warn_events(inputs, &label, &report);
    if let Some(first) = first_error {
        // Each such order is in the decisions with reason `rule_error` and its `error`.
        crate::cmd::output::eprintln(&format!(
            "warning: {label}: the rules could not decide {rule_errors} order(s) (reason `rule_error`); the first, {first}"
        ))?;
    }
    if let Some(mut out) = stream {
        if let Err(e) = out.flush() {
            write_error.get_or_insert(e);
        }
    }
    if let (Some(e), Sink::Stream(path)) = (write_error, sink) {
        return Err(Failure::Input(format!(
            "{}: cannot write: {e}",
            path.display()
        )));
    }
    let name = rules.file_stem().map_or_else(
        || rules.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    Ok(Run { name, kpis })
}

/// Warns of removals that found fewer units than they remove (the count stopped at 0)
/// and of events the engine refused (`check_events` lets none through).
fn warn_events(inputs: &Inputs, label: &str, report: &EventReport) {
    let at = |i: usize| {
        inputs.events.get(i).map_or_else(String::new, |e| {
            format!("{}:{}:{}", inputs.events_file, e.line, e.column)
        })
    };
    if let Some(&(first, missing)) = report.stopped_at_zero.first() {
        eprintln!(
            "warning: {label}: {} stock event(s) removed more units than were left and stopped the count at 0; the first, {}, found {missing} unit(s) fewer than it removes",
            report.stopped_at_zero.len(),
            at(first)
        );
    }
    for (i, why) in &report.refused {
        eprintln!("warning: {label}: {}: event not applied: {why}", at(*i));
    }
}

/// What a decision of the first rule set hands to the comparison.
struct Placed {
    order: String,
    shipments: Vec<sourcing_engine::Shipment>,
    unsourced: Vec<sourcing_engine::Unsourced>,
}

/// Orders the two rule sets decided differently: how many, and the first few side by side.
#[derive(Default)]
struct Changes {
    count: usize,
    /// (order, first rule set's plan, second rule set's plan).
    sample: Vec<(String, String, String)>,
}

/// How many changed orders the report and `kpis.json` list.
const CHANGED_SHOWN: usize = 50;

impl Changes {
    fn compare(&mut self, x: &Placed, y: &Decision) {
        if x.shipments == y.shipments && x.unsourced == y.unsourced {
            return;
        }
        self.count += 1;
        if self.sample.len() < CHANGED_SHOWN {
            self.sample.push((
                x.order.clone(),
                plan_text(&x.shipments, &x.unsourced),
                plan_text(&y.shipments, &y.unsourced),
            ));
        }
    }
}

/// Replays both rule sets at once, each on its own thread, streaming each one's decisions
/// to its file; the second compares its decisions with the first's as they come.
fn run_pair(
    inputs: &Inputs,
    (rules, set_a, sink_a): (&Path, sourcing_dsl::RuleSet, &Sink),
    (vs, set_b, sink_b): (&Path, sourcing_dsl::RuleSet, &Sink),
) -> Result<(Run, Run, Changes), Failure> {
    let bars = indicatif::MultiProgress::new();
    // Bounded: the first run waits when it is far ahead, so memory stays flat.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Placed>(4096);
    let mut changes = Changes::default();
    let (a, b) = std::thread::scope(|scope| {
        let bars_a = &bars;
        let first = scope.spawn(move || {
            run_one(inputs, rules, set_a, Some(bars_a), sink_a, |d| {
                // The second run may have stopped early; its error is reported instead.
                let _ = tx.send(Placed {
                    order: d.order.clone(),
                    shipments: d.shipments.clone(),
                    unsourced: d.unsourced.clone(),
                });
            })
        });
        let changes = &mut changes;
        // Moved in, so the channel closes as soon as this run ends, even early.
        let b = run_one(inputs, vs, set_b, Some(&bars), sink_b, move |y| {
            if let Ok(x) = rx.recv() {
                changes.compare(&x, y);
            }
        });
        let a = first
            .join()
            .unwrap_or_else(|_| Err(Failure::Input("the replay stopped unexpectedly".into())));
        (a, b)
    });
    Ok((a?, b?, changes))
}

/// One row of a sweep: the value and the figures it gave.
#[derive(Serialize)]
struct SweepRow {
    value: String,
    overall: Block,
}

/// The figures compared side by side: name, value, and whether higher is better.
fn figures(b: &Block) -> Vec<(&'static str, f64, bool)> {
    vec![
        ("orders", b.orders as f64, true),
        ("units ordered", b.units_ordered as f64, true),
        ("units placed", b.units_placed as f64, true),
        ("fill rate (units)", b.fill_rate_units, true),
        ("fill rate (orders)", b.fill_rate_orders, true),
        ("split rate", b.split_rate, false),
        ("shipments per order", b.shipments_per_order, false),
        ("total cost", b.total_cost, false),
        ("cost per order", b.cost_per_order, false),
        ("cost per unit", b.cost_per_unit, false),
        ("mean distance (km)", b.mean_distance_km, false),
        ("p95 distance (km)", b.p95_distance_km, false),
        ("promise attainment", b.promise_attainment, true),
    ]
}

#[derive(Serialize)]
struct Comparison<'a> {
    rules: &'a str,
    vs: &'a str,
    a: &'a Kpis,
    b: &'a Kpis,
    difference: BTreeMap<&'static str, f64>,
    changed_orders: usize,
    changed_sample: Vec<&'a str>,
}

/// Runs `sourcing simulate`.
pub fn run(args: &SimulateArgs) -> Result<(), Failure> {
    // Read and check everything first.
    input::at_most_one_stdin(
        [&args.rules, &args.network, &args.inventory, &args.orders]
            .into_iter()
            .chain(&args.vs)
            .chain(&args.events)
            .map(PathBuf::as_path),
    )?;
    // Each input is read once, so any of them may come from a pipe.
    let network = input::network(&args.network)?;
    let stock = input::inventory(&args.inventory, &network)?;
    let orders = input::orders(&args.orders, &network)?;
    let events = match &args.events {
        Some(path) => {
            let events = input::events(path, &network)?;
            // Every event names a listed pair and keeps its count within the engine's.
            let check = sourcing_engine::internals::Stock::new(&network, &stock);
            let name = input::name(path);
            load::events::check_events(&name, &events, &check, &network)
                .map_err(|e| Failure::Input(e.to_string()))?;
            events
        }
        None => Vec::new(),
    };
    let events_file = args
        .events
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let inputs = Inputs {
        network,
        stock,
        orders,
        events,
        events_file,
    };
    let (mut set_a, _) = check_rules(&args.rules)?;
    apply_sets(&mut set_a, &args.set, &args.rules)?;
    let set_b = match &args.vs {
        Some(r2) => Some(check_rules(r2)?.0),
        None => None,
    };
    let sweep: Option<(String, Vec<String>)> = match &args.sweep {
        None => None,
        Some(text) => {
            let Some((name, values)) = text.split_once('=') else {
                return Err(Failure::Usage(format!(
                    "`--sweep {}`: expected NAME=V1,V2,...",
                    crate::cmd::output::shown(text)
                )));
            };
            let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
            // Every value must be valid before anything runs.
            for v in &values {
                set_a
                    .clone()
                    .set_const(name.trim(), v)
                    .map_err(|e| sweep_failure(name, v, &e))?;
            }
            Some((name.trim().to_string(), values))
        }
    };
    // Decisions stream straight to their files in the staging folder, which replaces the
    // output folder once everything is written (and is removed if anything fails).
    let staging = out_dir::Staging::new(&args.out, OWN_FILES)?;
    let sink_a = Sink::Stream(staging.path().join("decisions.jsonl"));
    let sink_b = Sink::Stream(staging.path().join("decisions-vs.jsonl"));
    finish_run(
        args,
        &inputs,
        set_a,
        set_b,
        sweep,
        (&sink_a, &sink_b),
        staging.path(),
    )?;
    staging.commit()
}

/// Replays, writes the figures and the report, and renames the decisions into place.
fn finish_run(
    args: &SimulateArgs,
    inputs: &Inputs,
    set_a: sourcing_dsl::RuleSet,
    set_b: Option<sourcing_dsl::RuleSet>,
    sweep: Option<(String, Vec<String>)>,
    (sink_a, sink_b): (&Sink, &Sink),
    out: &Path,
) -> Result<(), Failure> {
    let (a, b, changes) = match (&args.vs, set_b) {
        (Some(r2), Some(set_b)) => {
            let (a, b, changes) = run_pair(
                inputs,
                (&args.rules, set_a.clone(), sink_a),
                (r2, set_b, sink_b),
            )?;
            (a, Some(b), changes)
        }
        _ => {
            let bars = indicatif::MultiProgress::new();
            let a = run_one(
                inputs,
                &args.rules,
                set_a.clone(),
                Some(&bars),
                sink_a,
                |_| {},
            )?;
            (a, None, Changes::default())
        }
    };
    // Sweep values are independent replays: run them on every core, collect in order.
    let sweep_rows: Vec<SweepRow> = match &sweep {
        None => Vec::new(),
        Some((name, values)) => {
            use rayon::prelude::*;
            values
                .par_iter()
                .map(|v| {
                    let mut set = set_a.clone();
                    set.set_const(name, v)
                        .map_err(|e| sweep_failure(name, v, &e))?;
                    let run = run_one(inputs, &args.rules, set, None, &Sink::Discard, |_| {})?;
                    Ok(SweepRow {
                        value: v.clone(),
                        overall: run.kpis.overall,
                    })
                })
                .collect::<Result<Vec<_>, Failure>>()?
        }
    };
    let kpis_json = match &b {
        None => serde_json::to_vec_pretty(&a.kpis),
        Some(b) => {
            let difference = figures(&a.kpis.overall)
                .into_iter()
                .zip(figures(&b.kpis.overall))
                .map(|((name, x, _), (_, y, _))| (name, y - x))
                .collect();
            serde_json::to_vec_pretty(&Comparison {
                rules: &a.name,
                vs: &b.name,
                a: &a.kpis,
                b: &b.kpis,
                difference,
                changed_orders: changes.count,
                changed_sample: changes.sample.iter().map(|c| c.0.as_str()).collect(),
            })
        }
    }
    .map_err(|e| Failure::Input(e.to_string()))?;
    let kpis_json = if sweep_rows.is_empty() {
        kpis_json
    } else {
        let mut value: serde_json::Value =
            serde_json::from_slice(&kpis_json).map_err(|e| Failure::Input(e.to_string()))?;
        if let (Some(obj), Some((name, _))) = (value.as_object_mut(), &sweep) {
            obj.insert(
                "sweep".into(),
                serde_json::json!({ "constant": name, "rows": &sweep_rows }),
            );
        }
        serde_json::to_vec_pretty(&value).map_err(|e| Failure::Input(e.to_string()))?
    };
    let sweep_table: Vec<BTreeMap<&str, String>> = sweep_rows
        .iter()
        .map(|r| {
            BTreeMap::from([
                ("value", r.value.clone()),
                ("fill", format!("{:.3}", r.overall.fill_rate_units)),
                ("cost", format!("{:.2}", r.overall.total_cost)),
                ("cpo", format!("{:.2}", r.overall.cost_per_order)),
                ("split", format!("{:.3}", r.overall.split_rate)),
                ("promise", format!("{:.3}", r.overall.promise_attainment)),
            ])
        })
        .collect();
    let sweep_name = sweep.as_ref().map(|s| s.0.clone()).unwrap_or_default();
    let report = report(
        &a,
        b.as_ref(),
        &changes,
        inputs.orders.len(),
        &inputs.network,
        (&sweep_name, &sweep_table),
    )?;
    for (name, bytes) in [
        ("kpis.json", &kpis_json[..]),
        ("report.html", report.as_bytes()),
    ] {
        let path = out.join(name);
        std::fs::write(&path, bytes).map_err(|e| {
            Failure::Input(format!(
                "{}: cannot write: {e}",
                args.out.join(name).display()
            ))
        })?;
    }
    Ok(())
}

/// A decision in a few words: `DC-KASSEL ×2, ST-MUNICH ×1, 1 not placed`.
fn plan_text(
    shipments: &[sourcing_engine::Shipment],
    unsourced: &[sourcing_engine::Unsourced],
) -> String {
    let mut parts: Vec<String> = shipments
        .iter()
        .map(|s| {
            let units: u32 = s.lines.iter().map(|l| l.qty).sum();
            format!("{} ×{units}", s.location)
        })
        .collect();
    if !unsourced.is_empty() {
        let units: u32 = unsourced.iter().map(|u| u.qty).sum();
        parts.push(format!("{units} not placed"));
    }
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join(", ")
    }
}

fn report(
    a: &Run,
    b: Option<&Run>,
    changes: &Changes,
    orders: usize,
    network: &sourcing_engine::Network,
    sweep: (&str, &[BTreeMap<&str, String>]),
) -> Result<String, Failure> {
    use crate::cmd::charts;
    let mut runs: Vec<(&str, &Kpis)> = vec![(a.name.as_str(), &a.kpis)];
    if let Some(b) = b {
        runs.push((b.name.as_str(), &b.kpis));
    }
    let charts = vec![
        charts::per_day("Total cost per day", &runs, |blk| blk.total_cost, false),
        charts::per_day(
            "Fill rate (units) per day",
            &runs,
            |blk| blk.fill_rate_units,
            true,
        ),
        charts::units_by_kind(&runs),
        charts::load_map(&a.kpis, network),
    ];
    // Counts as whole numbers, rates and money to three decimals.
    let fmt = |name: &str, x: f64| {
        if matches!(name, "orders" | "units ordered" | "units placed") {
            format!("{x:.0}")
        } else {
            format!("{x:.3}")
        }
    };
    let rows: Vec<BTreeMap<&str, String>> = figures(&a.kpis.overall)
        .into_iter()
        .enumerate()
        .map(|(i, (name, x, higher_better))| {
            let mut row = BTreeMap::new();
            row.insert("name", name.to_string());
            row.insert("a", fmt(name, x));
            if let Some(b) = b {
                let y = figures(&b.kpis.overall).get(i).map_or(0.0, |f| f.1);
                let diff = y - x;
                row.insert("b", fmt(name, y));
                row.insert(
                    "diff",
                    format!("{}{}", if diff > 0.0 { "+" } else { "" }, fmt(name, diff)),
                );
                let better = (diff > 0.0) == higher_better;
                row.insert(
                    "tone",
                    if diff == 0.0 {
                        ""
                    } else if better {
                        "better"
                    } else {
                        "worse"
                    }
                    .to_string(),
                );
            }
            row
        })
        .collect();
    let days: Vec<BTreeMap<&str, String>> = a
        .kpis
        .by_day
        .iter()
        .map(|(day, blk)| {
            BTreeMap::from([
                ("day", day.clone()),
                ("orders", blk.orders.to_string()),
                ("fill", format!("{:.3}", blk.fill_rate_units)),
                ("cost", format!("{:.2}", blk.total_cost)),
                ("cpo", format!("{:.2}", blk.cost_per_order)),
                ("split", format!("{:.3}", blk.split_rate)),
            ])
        })
        .collect();
    let locations: Vec<BTreeMap<&str, String>> = a
        .kpis
        .locations
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
            ])
        })
        .collect();
    let changed_rows: Vec<BTreeMap<&str, String>> = changes
        .sample
        .iter()
        .map(|(order, x, y)| {
            BTreeMap::from([("order", order.clone()), ("a", x.clone()), ("b", y.clone())])
        })
        .collect();
    let mut env = minijinja::Environment::new();
    env.add_template("report", include_str!("templates/report.html"))
        .map_err(|e| Failure::Input(format!("report template: {e}")))?;
    let title = match b {
        Some(b) => format!("{} vs {}", a.name, b.name),
        None => a.name.clone(),
    };
    env.get_template("report")
        .and_then(|t| {
            t.render(minijinja::context! {
                title, orders, vs => b.is_some(), a_name => a.name.clone(),
                b_name => b.map(|b| b.name.clone()).unwrap_or_default(),
                rows, days, locations, changed => changed_rows, changed_count => changes.count,
                charts, sweep_name => sweep.0.to_string(), sweep => owned(sweep.1),
            })
        })
        .map_err(|e| Failure::Input(format!("report: {e}")))
}

/// Rows the template can own.
fn owned(rows: &[BTreeMap<&str, String>]) -> Vec<BTreeMap<String, String>> {
    rows.iter()
        .map(|r| r.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
        .collect()
}
