//! `sourcing route`: one decision per order, in input order, streamed to stdout.
//!
//! The orders file is read twice: once to check every line (so a bad file produces no
//! decision at all, only its problems), then again to route, one order at a time, so a
//! file of millions of orders never sits in memory. Orders from a pipe or standard input
//! are checked while they are spooled to a temporary file, and routed from it.

use crate::cmd::input::{self, CheckedOrders};
use crate::cmd::output;
use crate::Failure;
use clap::Args;
use rayon::prelude::*;
use sourcing_engine::load::{LoadErrors, OrderReader};
use sourcing_engine::pipeline::Pipeline;
use sourcing_engine::{Engine, RouteOptions, RulesError, RulesSource, RulesetHash, ValidOrder};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Orders planned together when stock is not consumed (they are independent then).
const BATCH: usize = 4096;

/// The input files of a run: the network, the stock, the orders, and optional rules.
#[derive(Debug, Args)]
pub struct Inputs {
    /// Rule file to route with (default: the built-in `min-cost` strategy).
    #[arg(long, value_name = "R")]
    pub rules: Option<PathBuf>,
    /// The network: locations and services (`network.json`).
    #[arg(long, value_name = "N")]
    pub network: PathBuf,
    /// Stock per location and SKU (`inventory.csv` or `inventory.json`).
    #[arg(long, value_name = "I")]
    pub inventory: PathBuf,
    /// Orders, one JSON object per line (`orders.jsonl`).
    #[arg(long, value_name = "O")]
    pub orders: PathBuf,
}

impl Inputs {
    /// Loads everything, checks the whole orders file and the rules: an engine ready to
    /// route and the checked orders, or every problem found.
    pub fn engine(&self) -> Result<(Engine, CheckedOrders), Failure> {
        input::at_most_one_stdin(
            [&self.network, &self.inventory, &self.orders]
                .into_iter()
                .chain(&self.rules)
                .map(PathBuf::as_path),
        )?;
        let network = input::network(&self.network)?;
        let records = input::inventory(&self.inventory, &network)?;
        let orders = CheckedOrders::check(&self.orders, &network)?;
        let engine = Engine::builder()
            .network(network)
            .inventory(records)
            .build()
            .map_err(|e| Failure::Input(e.to_string()))?;
        if let Some(path) = &self.rules {
            load_rules(&engine, path)?;
        }
        Ok((engine, orders))
    }
}

/// Arguments of `sourcing route`.
#[derive(Debug, Args)]
pub struct RouteArgs {
    /// The input files.
    #[command(flatten)]
    pub inputs: Inputs,
    /// Add an `explain` object to each decision.
    #[arg(long)]
    pub explain: bool,
    /// Source every order against the unchanged initial stock.
    #[arg(long)]
    pub no_consume: bool,
}

fn input(errors: LoadErrors) -> Failure {
    Failure::Input(errors.to_string())
}

/// Loads a rule file into an engine (read, checked, compiled for its network); any error
/// is reported with its position and the engine keeps its rules. Warnings do not stop it;
/// they are printed on stderr, as `sourcing check` would show them.
pub fn load_rules(engine: &Engine, path: &Path) -> Result<RulesetHash, Failure> {
    let (name, bytes) = crate::cmd::check::read_rules(path)?;
    let loaded = engine
        .load_rules(RulesSource::bytes(name, bytes))
        .map_err(|e| rules_failure(&e))?;
    if !loaded.rendered_warnings.is_empty() {
        output::eprintln(loaded.rendered_warnings.trim_end())?;
    }
    Ok(loaded.ruleset)
}

/// The failure a rule error gives: the checker's findings as `sourcing check` renders
/// them, or the located message.
fn rules_failure(e: &RulesError) -> Failure {
    Failure::Input(e.to_string().trim_end().to_string())
}

/// Reads and checks a rule file: its rule set (for the tools that change its constants
/// before routing), its content hash, or its diagnostics. Warnings do not stop it; they
/// are printed on stderr, as `sourcing check` would show them.
pub fn check_rules(path: &Path) -> Result<(sourcing_dsl::RuleSet, RulesetHash), Failure> {
    let (name, bytes) = crate::cmd::check::read_rules(path)?;
    let (set, diags) = crate::cmd::check::check_bytes(&name, &bytes);
    match set {
        Some(set) if !diags.has_errors() => {
            if !diags.is_empty() {
                output::eprintln(diags.render().trim_end())?;
            }
            Ok((set, RulesetHash::of(&bytes)))
        }
        _ => Err(Failure::Input(diags.render().trim_end().to_string())),
    }
}

/// Routes with a checked rule set from now on.
pub fn compile_rules(
    engine: &Engine,
    path: &Path,
    set: sourcing_dsl::RuleSet,
    hash: RulesetHash,
) -> Result<(), Failure> {
    engine
        .load_rule_set(&crate::cmd::input::name(path), set, hash)
        .map_err(|e| rules_failure(&e))
}

/// Runs `sourcing route`.
pub fn run(args: &RouteArgs) -> Result<(), Failure> {
    let (engine, orders) = args.inputs.engine()?;
    let mut reader = OrderReader::new(&orders.name, orders.reader()?, engine.network());
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = if args.no_consume {
        write_batched(&engine, &mut reader, &mut out, args.explain)
    } else {
        write_in_order(&engine, &mut reader, &mut out, args.explain)
    };
    match written.and_then(|()| out.flush().map_err(Into::into)) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is the reader saying it has seen enough.
        Err(Stop::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(Stop::Io(e)) => Err(Failure::Input(format!("cannot write the decisions: {e}"))),
        Err(Stop::Input(e)) => Err(input(e)),
        Err(Stop::Failed(failure)) => Err(failure),
    }
}

enum Stop {
    /// Writing the decisions failed.
    Io(io::Error),
    Input(LoadErrors),
    Failed(Failure),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Stop {
        Stop::Io(e)
    }
}

fn write_decision(
    out: &mut impl Write,
    decision: &sourcing_engine::Decision,
    explain: Option<&sourcing_engine::Explain>,
) -> Result<(), Stop> {
    match explain {
        None => serde_json::to_writer(&mut *out, decision).map_err(io::Error::from)?,
        Some(explain) => {
            // The decision's fields keep their contract order; `explain` comes last.
            let mut text = serde_json::to_string(decision).map_err(io::Error::from)?;
            text.pop();
            out.write_all(text.as_bytes())?;
            out.write_all(b",\"explain\":")?;
            serde_json::to_writer(&mut *out, explain).map_err(io::Error::from)?;
            out.write_all(b"}")?;
        }
    }
    out.write_all(b"\n")?;
    if let Some(e) = &decision.error {
        // The decision says `rule_error`; the warning says why, next to the other output.
        output::eprintln(&format!("warning: order `{}`: {e}", decision.order))
            .map_err(Stop::Failed)?;
    }
    Ok(())
}

/// Consuming stock: orders take their units strictly in input order; upcoming orders are
/// planned on every core meanwhile, with the decisions of a one-thread run.
fn write_in_order<R: io::BufRead>(
    engine: &Engine,
    reader: &mut OrderReader<'_, R>,
    out: &mut impl Write,
    explain: bool,
) -> Result<(), Stop> {
    let mut failed = None;
    let orders = reader.map_while(|order| match order {
        Ok(order) => Some(order),
        Err(e) => {
            failed = Some(e);
            None
        }
    });
    Pipeline::new(engine).explain(explain).run(
        orders,
        |_, _| {},
        |_, decision, why| write_decision(out, &decision, why.as_ref()),
    )?;
    match failed {
        Some(e) => Err(Stop::Input(e)),
        None => Ok(()),
    }
}

/// Not consuming: orders are independent, so batches are planned on every core and
/// written in input order.
fn write_batched<R: io::BufRead>(
    engine: &Engine,
    reader: &mut OrderReader<'_, R>,
    out: &mut impl Write,
    explain: bool,
) -> Result<(), Stop> {
    loop {
        let batch: Vec<ValidOrder> = reader
            .valid()
            .take(BATCH)
            .collect::<Result<_, _>>()
            .map_err(Stop::Input)?;
        if batch.is_empty() {
            return Ok(());
        }
        let decisions: Vec<_> = batch
            .par_iter()
            .map(|o| {
                let out = engine.route(o, &RouteOptions::quote().explain(explain));
                (out.decision, out.explain)
            })
            .collect();
        for (decision, why) in &decisions {
            write_decision(out, decision, why.as_ref())?;
        }
    }
}
