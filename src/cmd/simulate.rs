//! `sourcing simulate`: replay the orders in time order against the stock, and report.
//!
//! Writes `DIR/decisions.jsonl`, `DIR/kpis.json` and `DIR/report.html`; with a second side
//! (`--vs`, or `--scenario` against its baseline) also `DIR/decisions-vs.jsonl` and
//! `DIR/changes.csv`; with `--sweep` the decisions of every value under `DIR/sweep/`
//! (`--no-decisions`: no decision file at all, the rest the same).
//! Every input is checked before anything is written, and the run is written into a folder
//! beside `DIR` that replaces it only once every file is complete (`out_dir`), so `DIR`
//! holds one whole run, never a mix or a part.

use crate::cmd::route::{check_rules, compile_rules};
use crate::cmd::{input, out_dir};
use crate::Failure;
use clap::Args;
use serde::Serialize;
use sourcing_engine::simulate::{
    replay_scenario, Block, Category, Change, Comparer, EventReport, Kpis, Scenario,
};
use sourcing_engine::{load, Decision, Engine, Order};
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
    /// first order placed at or after their moment, on both sides.
    #[arg(long, value_name = "E")]
    pub events: Option<PathBuf>,
    /// A what-if (TOML: closures, lower capacities, stock set to a count, receipts delayed
    /// or cancelled), applied to the second side only: alone, the rules under the scenario
    /// are compared with the same rules without it; with `--vs`, it applies to R2.
    #[arg(long, value_name = "S")]
    pub scenario: Option<PathBuf>,
    /// Override a constant of the rules (`--set split_penalty=8`); repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Replay once per value of a constant (`--sweep split_penalty=2,4,8`), values on every
    /// core; given twice, once per pair of values (a grid). Every side that declares the
    /// constant takes the value.
    #[arg(long, value_name = "NAME=V1,V2,...")]
    pub sweep: Vec<String>,
    /// Write no decisions (`decisions.jsonl`, `decisions-vs.jsonl`, the sweep's): the key
    /// figures, `changes.csv` and the report are the same, without writing a JSON line
    /// per order and side.
    #[arg(long)]
    pub no_decisions: bool,
}

/// What every run starts from: the network, the stock rows and the orders.
struct Inputs {
    network: sourcing_engine::Network,
    stock: Vec<load::InventoryRecord>,
    orders: Vec<Order>,
    /// The events file as named on the command line, for warnings.
    events_file: String,
}

/// One side of a run: a rule set, and the world it replays in.
#[derive(Clone)]
struct Side {
    /// Its name in the report (`min-cost`, `min-cost + dc-closed`).
    name: String,
    /// Its name in warnings: the rule file as given, and the scenario's.
    label: String,
    rules: PathBuf,
    set: sourcing_dsl::RuleSet,
    events: Vec<load::StockEvent>,
    scenario: Scenario,
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
        set_checked(set, name.trim(), value.trim()).map_err(|e| {
            let o = crate::cmd::output::shown(o);
            Failure::Input(format!("{}: --set {o}: {e}", input::name(path)))
        })?;
    }
    Ok(())
}

/// Sets a constant, refusing a value its kind cannot hold: a count (a plain number written
/// as a whole number ≥ 0 in the file) takes whole numbers ≥ 0, and a distance, a weight or
/// a number of days takes numbers ≥ 0.
fn set_checked(set: &mut sourcing_dsl::RuleSet, name: &str, value: &str) -> Result<(), String> {
    use sourcing_dsl::ir::{Type, Unit, Value};
    set.set_const(name, value).map_err(|e| e.to_string())?;
    let Some(c) = set.consts.iter().find(|c| c.name == name) else {
        return Ok(());
    };
    let (Value::Number(now), Value::Number(default)) = (c.value, c.default) else {
        return Ok(());
    };
    match c.ty {
        Type::Number(Unit::None)
            if default >= 0.0 && default.fract() == 0.0 && (now < 0.0 || now.fract() != 0.0) =>
        {
            return Err(format!(
                "`{name}` is a count (the file sets it to {default}): expected a whole number of 0 or more, found `{value}`"
            ));
        }
        Type::Number(unit @ (Unit::Km | Unit::Kg | Unit::Days)) if now < 0.0 => {
            let what = match unit {
                Unit::Km => "a distance",
                Unit::Kg => "a weight",
                _ => "a number of days",
            };
            return Err(format!(
                "`{name}` is {what}: expected 0 or more, found `{value}`"
            ));
        }
        _ => {}
    }
    Ok(())
}

/// One replay's output.
struct Run {
    name: String,
    kpis: Kpis,
    /// Decisions written (0 when discarded).
    decisions: usize,
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

/// The files and folders `simulate` writes to its folder (and, from earlier versions,
/// their half-written `.partial` forms): the only entries a folder it replaces may hold.
const OWN_FILES: &[&str] = &[
    "decisions.jsonl",
    "decisions-vs.jsonl",
    "changes.csv",
    "kpis.json",
    "report.html",
    "sweep",
    "decisions.jsonl.partial",
    "decisions-vs.jsonl.partial",
    "kpis.json.partial",
    "report.html.partial",
];

/// Replays the orders on one side, handing every decision to `each` in replay order and
/// writing it to `sink` when there is one.
fn run_one(
    inputs: &Inputs,
    side: &Side,
    bars: Option<&indicatif::MultiProgress>,
    sink: Option<&Path>,
    mut each: impl FnMut(&Order, &Decision),
) -> Result<Run, Failure> {
    use std::io::Write;
    let engine = Engine::new(inputs.network.clone(), &inputs.stock);
    // A replay may change the file's constants (`--set`, `--sweep`): its decisions name
    // the checked set they ran with, not the file's bytes.
    let hash = sourcing_engine::RulesetHash::of(format!("{:?}", side.set).as_bytes());
    compile_rules(&engine, &side.rules, side.set.clone(), hash)?;
    let mut stream = match sink {
        None => None,
        Some(path) => Some(std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(path)
                .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))?,
        )),
    };
    let mut write_error = None;
    let label = side.label.clone();
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
    let (kpis, report) = replay_scenario(
        &engine,
        &inputs.orders,
        &side.events,
        &side.scenario,
        |order, d| {
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
            each(order, d);
            count += 1;
            // Redrawing is rate-limited by indicatif; counting in steps keeps it cheap.
            if count.is_multiple_of(1024) {
                bar.set_position(count as u64);
            }
        },
    );
    bar.finish_and_clear();
    warn_events(inputs, side, &report);
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
    if let (Some(e), Some(path)) = (write_error, sink) {
        return Err(Failure::Input(format!(
            "{}: cannot write: {e}",
            path.display()
        )));
    }
    Ok(Run {
        name: side.name.clone(),
        kpis,
        decisions: if sink.is_some() { count } else { 0 },
    })
}

/// Warns of removals that found fewer units than they remove (the count stopped at 0)
/// and of events the engine refused (`check_events` lets none through).
fn warn_events(inputs: &Inputs, side: &Side, report: &EventReport) {
    let label = &side.label;
    let at = |i: usize| {
        side.events.get(i).map_or_else(String::new, |e| {
            format!("{}:{}:{}", inputs.events_file, e.line, e.column)
        })
    };
    if let Some(&(first, missing)) = report.stopped_at_zero.first() {
        eprintln!(
            "warning: {label}: {} stock event(s) removed more units than were left and stopped the count at 0; the first, {}, found {missing} unit(s) fewer than it removes (to take a location out of service, close it in a scenario: `--scenario`, `[[closure]]`)",
            report.stopped_at_zero.len(),
            at(first)
        );
    }
    for (i, why) in &report.refused {
        eprintln!("warning: {label}: {}: event not applied: {why}", at(*i));
    }
}

/// How many of the biggest changes by cost the report and `kpis.json` list.
const CHANGED_SHOWN: usize = 50;

/// The orders the two sides decided differently: every one goes to `changes.csv`; the
/// figures per category and the biggest by cost are kept.
struct ChangeLog {
    out: Option<std::io::BufWriter<std::fs::File>>,
    path: PathBuf,
    error: Option<std::io::Error>,
    /// Changed orders.
    count: usize,
    /// Per category: orders, and the sum of B's cost minus A's.
    by_category: BTreeMap<Category, (u64, f64)>,
    /// The same per category and clause behind the change (empty when not known).
    by_clause: BTreeMap<(Category, String), (u64, f64)>,
    /// The biggest changes by cost (absolute), with their replay position.
    biggest: Vec<(usize, Change)>,
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\"")).into()
    } else {
        text.into()
    }
}

impl ChangeLog {
    const HEADER: &'static str = "order,category,cost_a,cost_b,cost_change,parcels_a,parcels_b,units_a,units_b,strategy_a,strategy_b,plan_a,plan_b,clause\n";

    fn new(path: PathBuf) -> Result<ChangeLog, Failure> {
        use std::io::Write;
        let file = std::fs::File::create(&path)
            .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let error = out.write_all(Self::HEADER.as_bytes()).err();
        Ok(ChangeLog {
            out: Some(out),
            path,
            error,
            count: 0,
            by_category: BTreeMap::new(),
            by_clause: BTreeMap::new(),
            biggest: Vec::new(),
        })
    }

    fn add(&mut self, c: Change) {
        use std::io::Write;
        let delta = c.cost.1 - c.cost.0;
        let e = self.by_category.entry(c.category).or_default();
        e.0 += 1;
        e.1 += delta;
        let clause = c.clause.clone().unwrap_or_default();
        let e = self.by_clause.entry((c.category, clause)).or_default();
        e.0 += 1;
        e.1 += delta;
        if let Some(out) = &mut self.out {
            let line = format!(
                "{},{},{:.2},{:.2},{:+.2},{},{},{},{},{},{},{},{},{}\n",
                csv_field(&c.order),
                c.category.as_str(),
                c.cost.0,
                c.cost.1,
                delta,
                c.parcels.0,
                c.parcels.1,
                c.units.0,
                c.units.1,
                csv_field(&c.strategy.0),
                csv_field(&c.strategy.1),
                csv_field(&c.plan.0),
                csv_field(&c.plan.1),
                csv_field(c.clause.as_deref().unwrap_or_default()),
            );
            if let Err(e) = out.write_all(line.as_bytes()) {
                self.error.get_or_insert(e);
            }
        }
        self.biggest.push((self.count, c));
        self.count += 1;
        if self.biggest.len() >= CHANGED_SHOWN * 8 {
            self.keep_biggest();
        }
    }

    /// The orders and cost change per category and clause: categories in their order,
    /// then the most orders first, then the clause.
    fn clauses(&self) -> Vec<ClauseCount> {
        let mut rows: Vec<ClauseCount> = self
            .by_clause
            .iter()
            .map(|((category, clause), &(orders, cost_change))| ClauseCount {
                category: category.as_str(),
                rank: *category,
                clause: clause.clone(),
                orders,
                cost_change,
            })
            .collect();
        rows.sort_by(|x, y| {
            x.rank
                .cmp(&y.rank)
                .then(y.orders.cmp(&x.orders))
                .then(x.clause.cmp(&y.clause))
        });
        rows
    }

    /// Keeps the [`CHANGED_SHOWN`] biggest changes by cost, earliest first among equals.
    fn keep_biggest(&mut self) {
        let size = |c: &Change| (c.cost.1 - c.cost.0).abs();
        self.biggest.sort_by(|(i, x), (j, y)| {
            size(y)
                .partial_cmp(&size(x))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(i.cmp(j))
        });
        self.biggest.truncate(CHANGED_SHOWN);
    }

    fn finish(&mut self) -> Result<(), Failure> {
        use std::io::Write;
        self.keep_biggest();
        if let Some(mut out) = self.out.take() {
            if let Err(e) = out.flush() {
                self.error.get_or_insert(e);
            }
        }
        match self.error.take() {
            Some(e) => Err(Failure::Input(format!(
                "{}: cannot write: {e}",
                self.path.display()
            ))),
            None => Ok(()),
        }
    }
}

/// Changed orders of one category traced to one clause (`clause` empty: not known).
#[derive(Debug, Clone, Serialize)]
pub struct ClauseCount {
    /// The category's name.
    pub category: &'static str,
    /// The category, for ordering.
    #[serde(skip)]
    pub rank: Category,
    /// The clause, as in `changes.csv`.
    pub clause: String,
    /// Changed orders.
    pub orders: u64,
    /// Their cost change, B minus A.
    pub cost_change: f64,
}

/// A thread pool for one of two sides replayed at once: as many threads as the current
/// pool, so that the side with the heavier rules plans ahead on the cores the other leaves
/// idle. The decisions do not depend on it.
fn side_pool() -> Result<rayon::ThreadPool, Failure> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads().max(1))
        .build()
        .map_err(|e| Failure::Input(format!("cannot start a thread: {e}")))
}

/// Replays both sides at once, each on its own thread, streaming each one's decisions to
/// its file; the second compares its decisions with the first's as they come.
fn run_pair(
    inputs: &Inputs,
    (a, sink_a): (&Side, Option<&Path>),
    (b, sink_b): (&Side, Option<&Path>),
    changes: &mut ChangeLog,
) -> Result<(Run, Run), Failure> {
    let bars = indicatif::MultiProgress::new();
    // Bounded: the first run waits when it is far ahead, so memory stays flat.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Decision>(4096);
    let mut comparer = Comparer::new(&inputs.network, Comparer::fallbacks_of(&b.set), &b.scenario)
        .with_rules(Some(&a.set), Some(&b.set));
    // The two sides share the cores, each with a pool as large as the whole: the lighter
    // side waits on the channel (or on the heavier one's decisions) most of the time, and
    // the heavier one plans ahead on the core it leaves. A plan made ahead under rules is
    // kept while nothing it read changed, so little is planned twice.
    let (pool_a, pool_b) = (side_pool()?, side_pool()?);
    let (ra, rb) = std::thread::scope(|scope| {
        let bars_a = &bars;
        let pool_a = &pool_a;
        let first = scope.spawn(move || {
            pool_a.install(|| {
                run_one(inputs, a, Some(bars_a), sink_a, |_, d| {
                    // The second run may have stopped early; its error is reported instead.
                    let _ = tx.send(d.clone());
                })
            })
        });
        let comparer = &mut comparer;
        let changes = &mut *changes;
        // Moved in, so the channel closes as soon as this run ends, even early.
        let rb = pool_b.install(|| {
            run_one(inputs, b, Some(&bars), sink_b, move |order, y| {
                if let Ok(x) = rx.recv() {
                    if let Some(c) = comparer.compare(order, &x, y) {
                        changes.add(c);
                    }
                }
            })
        });
        let ra = first
            .join()
            .unwrap_or_else(|_| Err(Failure::Input("the replay stopped unexpectedly".into())));
        (ra, rb)
    });
    changes.finish()?;
    Ok((ra?, rb?))
}

/// A swept constant and its values.
struct Swept {
    name: String,
    values: Vec<String>,
}

/// One point of a sweep: the values it set and the figures each side gave.
#[derive(Serialize)]
pub struct SweepRow {
    /// `NAME=VALUE` of each swept constant.
    pub values: Vec<(String, String)>,
    /// The value of the first constant (kept for readers of one-constant sweeps).
    pub value: String,
    /// The first side's figures.
    pub overall: Block,
    /// The second side's figures, when there is one.
    pub vs: Option<Block>,
    /// The decision files of this point, under the output folder.
    pub decisions: Vec<String>,
}

/// A sweep value in a file name: letters, digits, `.`, `-` and `_`; anything else is `_`.
fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Reads the `--sweep` arguments and checks every value on every side that declares the
/// constant (at least one must).
fn read_sweeps(args: &SimulateArgs, sides: &[&Side]) -> Result<Vec<Swept>, Failure> {
    use crate::cmd::output::shown;
    if args.sweep.len() > 2 {
        return Err(Failure::Usage(
            "--sweep is given at most twice (a grid of two constants)".into(),
        ));
    }
    let mut out: Vec<Swept> = Vec::new();
    for text in &args.sweep {
        let Some((name, values)) = text.split_once('=') else {
            return Err(Failure::Usage(format!(
                "`--sweep {}`: expected NAME=V1,V2,...",
                shown(text)
            )));
        };
        let name = name.trim().to_string();
        if out.iter().any(|s| s.name == name) {
            return Err(Failure::Usage(format!(
                "`--sweep {}`: the constant is swept twice",
                shown(&name)
            )));
        }
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        let declaring: Vec<&&Side> = sides
            .iter()
            .filter(|s| s.set.consts.iter().any(|c| c.name == name))
            .collect();
        let Some(first) = sides.first() else {
            return Ok(out);
        };
        if declaring.is_empty() {
            // The rule set's own message names the constant and the closest one.
            let e = first
                .set
                .clone()
                .set_const(&name, "0")
                .err()
                .map_or_else(|| "unknown constant".to_string(), |e| e.to_string());
            return Err(Failure::Input(format!("--sweep {}: {e}", shown(&name))));
        }
        // Every value must be valid before anything runs.
        for v in &values {
            for side in &declaring {
                set_checked(&mut side.set.clone(), &name, v).map_err(|e| {
                    Failure::Input(format!("--sweep {}={}: {e}", shown(&name), shown(v)))
                })?;
            }
        }
        out.push(Swept { name, values });
    }
    Ok(out)
}

/// Every combination of the swept values, the first constant slowest.
fn grid(sweeps: &[Swept]) -> Vec<Vec<(String, String)>> {
    let mut points: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for s in sweeps {
        points = points
            .into_iter()
            .flat_map(|p| {
                s.values.iter().map(move |v| {
                    let mut p = p.clone();
                    p.push((s.name.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    if sweeps.is_empty() {
        Vec::new()
    } else {
        points
    }
}

/// One side of one sweep point: the side with the point's values set, and where its
/// decisions go.
struct PointSide {
    /// The point's position.
    point: usize,
    /// The side's position (0: `--rules`, 1: the second side).
    side: usize,
    /// The side under the point's values; `None` when they leave its checked rule set as
    /// the main run's (it declares none of the constants, or a value is the file's own):
    /// its decisions are the main run's, so it is not replayed.
    replay: Option<Side>,
    /// Its decision file, under the output folder (`None`: `--no-decisions`).
    file: Option<String>,
}

/// Sets each point's values on every side that declares them, and names the files.
fn sweep_plan(
    sides: &[&Side],
    points: &[Vec<(String, String)>],
    decisions: bool,
) -> Result<Vec<PointSide>, Failure> {
    let width = points.len().to_string().len();
    let mut plan = Vec::new();
    for (i, values) in points.iter().enumerate() {
        let label: Vec<String> = values
            .iter()
            .map(|(n, v)| format!("{n}={}", file_safe(v)))
            .collect();
        for (k, side) in sides.iter().enumerate() {
            let mut set = side.set.clone();
            for (name, v) in values {
                if set.consts.iter().any(|c| &c.name == name) {
                    set_checked(&mut set, name, v)
                        .map_err(|e| Failure::Input(format!("--sweep {name}={v}: {e}")))?;
                }
            }
            // The same checked set (as its hash reads it): the same decisions.
            let same = format!("{set:?}") == format!("{:?}", side.set);
            let suffix = if k == 0 { "" } else { "-vs" };
            plan.push(PointSide {
                point: i,
                side: k,
                replay: (!same).then(|| Side {
                    set,
                    ..(*side).clone()
                }),
                file: decisions
                    .then(|| format!("sweep/{:0width$}-{}{suffix}.jsonl", i + 1, label.join("-"))),
            });
        }
    }
    Ok(plan)
}

/// Replays the point sides of `plan` that need it, as many at once as there are threads,
/// each on one thread (so points never wait on each other); `None` for the others.
fn run_points(
    inputs: &Inputs,
    plan: &[PointSide],
    dir: &Path,
) -> Result<Vec<Option<Block>>, Failure> {
    use rayon::prelude::*;
    if plan.is_empty() {
        return Ok(Vec::new());
    }
    if plan.iter().any(|p| p.file.is_some()) {
        std::fs::create_dir_all(dir.join("sweep"))
            .map_err(|e| Failure::Input(format!("{}: cannot create: {e}", dir.display())))?;
    }
    plan.par_iter()
        .map(|p| {
            let Some(side) = &p.replay else {
                return Ok(None);
            };
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .map_err(|e| Failure::Input(format!("cannot start a thread: {e}")))?;
            let path = p.file.as_ref().map(|f| dir.join(f));
            let run = pool.install(|| run_one(inputs, side, None, path.as_deref(), |_, _| {}))?;
            Ok(Some(run.kpis.overall))
        })
        .collect()
}

/// The sweep's rows in point order: replayed figures, or the main run's figures and a
/// link to (or copy of) its decisions for a side the point leaves as it was.
fn sweep_rows(
    points: Vec<Vec<(String, String)>>,
    plan: &[PointSide],
    replayed: Vec<Option<Block>>,
    main: &[(&Block, Option<&Path>)],
    dir: &Path,
) -> Result<Vec<SweepRow>, Failure> {
    let mut rows: Vec<SweepRow> = points
        .into_iter()
        .map(|values| SweepRow {
            value: values.first().map(|v| v.1.clone()).unwrap_or_default(),
            values,
            overall: Block::default(),
            vs: None,
            decisions: Vec::new(),
        })
        .collect();
    for (p, block) in plan.iter().zip(replayed) {
        let block = match block {
            Some(b) => b,
            None => {
                let Some(&(block, file)) = main.get(p.side) else {
                    continue;
                };
                if let (Some(file), Some(to)) = (file, &p.file) {
                    let to = dir.join(to);
                    if std::fs::hard_link(file, &to).is_err() {
                        std::fs::copy(file, &to).map_err(|e| {
                            Failure::Input(format!("{}: cannot write: {e}", to.display()))
                        })?;
                    }
                }
                block.clone()
            }
        };
        let Some(row) = rows.get_mut(p.point) else {
            continue;
        };
        if p.side == 0 {
            row.overall = block;
        } else {
            row.vs = Some(block);
        }
        row.decisions.extend(p.file.clone());
    }
    Ok(rows)
}

/// The figures compared side by side: name, value, whether higher is better
/// (`None` for a figure that is neither, such as the store share), and how it is shown.
pub fn figures(b: &Block) -> Vec<(&'static str, f64, Option<bool>, Shown)> {
    use Shown::{Count, Km, Money, Rate};
    vec![
        ("orders", b.orders as f64, Some(true), Count),
        ("units ordered", b.units_ordered as f64, Some(true), Count),
        ("units placed", b.units_placed as f64, Some(true), Count),
        (
            "units not placed",
            b.units_unplaced as f64,
            Some(false),
            Count,
        ),
        ("fill rate (units)", b.fill_rate_units, Some(true), Rate),
        ("fill rate (orders)", b.fill_rate_orders, Some(true), Rate),
        ("split rate", b.split_rate, Some(false), Rate),
        (
            "shipments per order",
            b.shipments_per_order,
            Some(false),
            Shown::Ratio,
        ),
        ("total cost", b.total_cost, Some(false), Money),
        ("cost per order", b.cost_per_order, Some(false), Money),
        ("cost per unit", b.cost_per_unit, Some(false), Money),
        ("mean distance (km)", b.mean_distance_km, Some(false), Km),
        ("p95 distance (km)", b.p95_distance_km, Some(false), Km),
        ("promise attainment", b.promise_attainment, Some(true), Rate),
        ("store share (units)", b.store_share, None, Rate),
        (
            "units at pickup counters",
            b.counter_units as f64,
            Some(true),
            Count,
        ),
    ]
}

/// How a figure is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// A whole number.
    Count,
    /// A fraction, written as a percentage.
    Rate,
    /// A ratio with two decimals.
    Ratio,
    /// Money in the network's currency.
    Money,
    /// Kilometres.
    Km,
}

/// The key figures of both sides, for `kpis.json`.
#[derive(Serialize)]
struct Comparison<'a> {
    rules: &'a str,
    vs: &'a str,
    currency: &'a str,
    a: &'a Kpis,
    b: &'a Kpis,
    difference: BTreeMap<&'static str, f64>,
    /// B's change relative to A, in percent (absent when A's figure is 0).
    difference_pct: BTreeMap<&'static str, f64>,
    changed_orders: usize,
    /// Per category: orders, and the cost change they add up to.
    changes_by_category: BTreeMap<&'static str, (u64, f64)>,
    /// Per category and clause behind the change (as in `changes.csv`): orders and cost
    /// change, categories in their order, the most orders first.
    changes_by_clause: &'a [ClauseCount],
    /// The orders of the biggest changes by cost, biggest first.
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
            .chain(&args.scenario)
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
    let scenario = match &args.scenario {
        Some(path) => {
            let (name, bytes) = input::read(path)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Failure::Input(format!("{name}: expected UTF-8 text")))?;
            Some(crate::cmd::scenario::read(
                path, text, &network, &stock, &events,
            )?)
        }
        None => None,
    };
    let events_file = args
        .events
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let stem = |p: &Path| {
        p.file_stem().map_or_else(
            || p.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        )
    };
    let mut set_a = check_rules(&args.rules)?.0;
    apply_sets(&mut set_a, &args.set, &args.rules)?;
    let with_scenario = |p: &Path| match &args.scenario {
        Some(s) => format!("{} + {}", p.display(), s.display()),
        None => p.display().to_string(),
    };
    let a = Side {
        name: stem(&args.rules),
        label: args.rules.display().to_string(),
        rules: args.rules.clone(),
        set: set_a,
        events: events.clone(),
        scenario: Scenario::default(),
    };
    let b = match (&args.vs, scenario) {
        (Some(r2), scenario) => {
            let mut set = check_rules(r2)?.0;
            // `--set` applies to every side that declares the constant.
            let declared: Vec<String> = args
                .set
                .iter()
                .filter(|o| {
                    o.split_once('=')
                        .is_some_and(|(n, _)| set.consts.iter().any(|c| c.name == n.trim()))
                })
                .cloned()
                .collect();
            apply_sets(&mut set, &declared, r2)?;
            let mut name = stem(r2);
            if name == a.name {
                name.push_str(" (vs)");
            }
            let (events, scenario) = match scenario {
                Some(read) => {
                    if let Some(s) = &args.scenario {
                        name = format!("{name} + {}", stem(s));
                    }
                    (read.events, read.scenario)
                }
                None => (events, Scenario::default()),
            };
            Some(Side {
                name,
                label: with_scenario(r2),
                rules: r2.clone(),
                set,
                events,
                scenario,
            })
        }
        (None, Some(read)) => Some(Side {
            name: format!(
                "{} + {}",
                a.name,
                args.scenario.as_deref().map(stem).unwrap_or_default()
            ),
            label: with_scenario(&args.rules),
            rules: a.rules.clone(),
            set: a.set.clone(),
            events: read.events,
            scenario: read.scenario,
        }),
        (None, None) => None,
    };
    let inputs = Inputs {
        network,
        stock,
        orders,
        events_file,
    };
    let sides: Vec<&Side> = std::iter::once(&a).chain(b.as_ref()).collect();
    let sweeps = read_sweeps(args, &sides)?;
    // Decisions stream straight to their files in the staging folder, which replaces the
    // output folder once everything is written (and is removed if anything fails).
    let staging = out_dir::Staging::new(&args.out, OWN_FILES)?;
    let written = finish_run(args, &inputs, &a, b.as_ref(), &sweeps, staging.path())?;
    staging.commit()?;
    // What was written, and where.
    let mut lines = vec![format!("wrote {}:", args.out.display())];
    for (file, what) in written {
        lines.push(format!("  {file:<20} {what}"));
    }
    println!("{}", lines.join("\n"));
    Ok(())
}

/// Replays, writes the figures and the report; returns each file written with what it
/// holds.
fn finish_run(
    args: &SimulateArgs,
    inputs: &Inputs,
    a: &Side,
    b: Option<&Side>,
    sweeps: &[Swept],
    out: &Path,
) -> Result<Vec<(String, String)>, Failure> {
    let keep = !args.no_decisions;
    let (sink_a, sink_b) = (out.join("decisions.jsonl"), out.join("decisions-vs.jsonl"));
    let (sink_a, sink_b) = (
        keep.then_some(sink_a.as_path()),
        keep.then_some(sink_b.as_path()),
    );
    let sides: Vec<&Side> = std::iter::once(a).chain(b).collect();
    let points = grid(sweeps);
    let plan = sweep_plan(&sides, &points, keep)?;
    let main = || match b {
        Some(b) => {
            let mut changes = ChangeLog::new(out.join("changes.csv"))?;
            let (ra, rb) = run_pair(inputs, (a, sink_a), (b, sink_b), &mut changes)?;
            Ok((ra, Some(rb), Some(changes)))
        }
        None => {
            let bars = indicatif::MultiProgress::new();
            let ra = run_one(inputs, a, Some(&bars), sink_a, |_, _| {})?;
            Ok((ra, None, None))
        }
    };
    // With a sweep the main run is one more replay beside the points, one thread per
    // side, rather than a run on every core before them: the cores stay busy to the end.
    let (main, replayed) = if plan.is_empty() {
        (main(), Ok(Vec::new()))
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map_err(|e| Failure::Input(format!("cannot start a thread: {e}")))?;
        rayon::join(|| pool.install(main), || run_points(inputs, &plan, out))
    };
    let (ra, rb, changes): (Run, Option<Run>, Option<ChangeLog>) = main?;
    let main_runs: Vec<(&Block, Option<&Path>)> = std::iter::once((&ra.kpis.overall, sink_a))
        .chain(rb.as_ref().map(|r| (&r.kpis.overall, sink_b)))
        .collect();
    let sweep_rows = sweep_rows(points, &plan, replayed?, &main_runs, out)?;
    let currency = inputs.network.currency.as_str();
    let kpis_json = match (&rb, &changes) {
        (Some(rb), Some(changes)) => {
            let fa = figures(&ra.kpis.overall);
            let fb = figures(&rb.kpis.overall);
            let difference = fa.iter().zip(&fb).map(|(x, y)| (x.0, y.1 - x.1)).collect();
            let difference_pct = fa
                .iter()
                .zip(&fb)
                .filter(|(x, _)| x.1 != 0.0)
                .map(|(x, y)| (x.0, (y.1 - x.1) / x.1.abs() * 100.0))
                .collect();
            serde_json::to_vec_pretty(&Comparison {
                rules: &ra.name,
                vs: &rb.name,
                currency,
                a: &ra.kpis,
                b: &rb.kpis,
                difference,
                difference_pct,
                changed_orders: changes.count,
                changes_by_clause: &changes.clauses(),
                changes_by_category: changes
                    .by_category
                    .iter()
                    .map(|(c, v)| (c.as_str(), *v))
                    .collect(),
                changed_sample: changes
                    .biggest
                    .iter()
                    .map(|(_, c)| c.order.as_str())
                    .collect(),
            })
        }
        _ => serde_json::to_vec_pretty(&ra.kpis),
    }
    .map_err(|e| Failure::Input(e.to_string()))?;
    let kpis_json = if sweep_rows.is_empty() {
        kpis_json
    } else {
        let mut value: serde_json::Value =
            serde_json::from_slice(&kpis_json).map_err(|e| Failure::Input(e.to_string()))?;
        if let Some(obj) = value.as_object_mut() {
            let names: Vec<&str> = sweeps.iter().map(|s| s.name.as_str()).collect();
            obj.insert(
                "sweep".into(),
                serde_json::json!({
                    "constant": names.first(),
                    "constants": names,
                    "rows": &sweep_rows,
                }),
            );
        }
        serde_json::to_vec_pretty(&value).map_err(|e| Failure::Input(e.to_string()))?
    };
    let report = crate::cmd::report::render(&crate::cmd::report::Page {
        a: (&ra.name, &ra.kpis),
        b: rb.as_ref().map(|r| (r.name.as_str(), &r.kpis)),
        changes: changes.as_ref().map(|c| crate::cmd::report::Changed {
            count: c.count,
            by_category: &c.by_category,
            by_clause: c.clauses(),
            biggest: c.biggest.iter().map(|(_, c)| c).collect(),
        }),
        orders: inputs.orders.len(),
        network: &inputs.network,
        sweeps: &sweeps.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        sweep_rows: &sweep_rows,
        scenario: args.scenario.as_deref().map(input::name),
    })?;
    let mut written = Vec::new();
    if keep {
        written.push((
            "decisions.jsonl".to_string(),
            format!("{} decisions of {}", ra.decisions, ra.name),
        ));
    }
    if let (Some(rb), Some(c)) = (&rb, &changes) {
        if keep {
            written.push((
                "decisions-vs.jsonl".into(),
                format!("{} decisions of {}", rb.decisions, rb.name),
            ));
        }
        written.push((
            "changes.csv".into(),
            format!("{} orders decided differently, with a reason each", c.count),
        ));
    }
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
        let what = if name == "kpis.json" {
            "key figures (JSON)".to_string()
        } else {
            format!(
                "the report, {} kB: open it in a browser",
                bytes.len().div_ceil(1024)
            )
        };
        written.push((name.to_string(), what));
    }
    if keep && !sweep_rows.is_empty() {
        written.push((
            "sweep/".into(),
            format!(
                "decisions of each of the {} sweep points (`sweep.rows[].decisions` in kpis.json)",
                sweep_rows.len()
            ),
        ));
    }
    Ok(written)
}
