//! `sourcing ledger`: the stock ledger of `sourcing serve` read from outside the service:
//! its entries as JSON lines (`export`), and a check that the stock equals the initial
//! stock plus the entries (`audit`). Works on an SQLite file and on a PostgreSQL URL.

use crate::Failure;
use clap::{Args, Subcommand};
use sourcing_serve::ledger::{self, Ledger};
use std::sync::Arc;

/// Arguments of `sourcing ledger`.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    command: LedgerCommand,
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Print every entry of the ledger as one JSON object per line, in order.
    Export(Target),
    /// Check the ledger: exit 0 when the stock equals the initial stock plus the entries,
    /// exit 1 with the differences otherwise.
    Audit(Target),
}

#[derive(Debug, Args)]
struct Target {
    /// The ledger `sourcing serve` wrote: an SQLite file or `postgres://…`.
    #[arg(long, value_name = "L")]
    ledger: String,
}

/// Entries read per query.
const PAGE: usize = 10_000;

/// Opens an existing ledger (an SQLite file that does not exist is refused, not created).
fn open(spec: &str) -> Result<Arc<dyn Ledger>, Failure> {
    let shown = crate::cmd::serve::shown_ledger(spec);
    if !ledger::postgres::is_url(spec) && !std::path::Path::new(spec).is_file() {
        return Err(Failure::Input(format!("{shown}: no ledger file there")));
    }
    let opened = ledger::open(spec).map_err(|e| Failure::Input(e.to_string()))?;
    if !opened
        .initialised()
        .map_err(|e| Failure::Input(e.to_string()))?
    {
        return Err(Failure::Input(format!(
            "{shown}: the ledger holds no stock yet (`sourcing serve` writes it on its first start)"
        )));
    }
    Ok(opened)
}

/// Runs `sourcing ledger`.
pub fn run(args: &LedgerArgs) -> Result<(), Failure> {
    match &args.command {
        LedgerCommand::Export(t) => export(&t.ledger),
        LedgerCommand::Audit(t) => audit(&t.ledger),
    }
}

fn export(spec: &str) -> Result<(), Failure> {
    let ledger = open(spec)?;
    let mut after = 0;
    loop {
        let entries = ledger
            .entries(after, PAGE)
            .map_err(|e| Failure::Input(e.to_string()))?;
        let Some(last) = entries.last() else {
            return Ok(());
        };
        after = last.seq;
        let mut text = String::new();
        for e in &entries {
            let line = serde_json::to_string(e)
                .map_err(|x| Failure::Input(format!("cannot write entry {}: {x}", e.seq)))?;
            text.push_str(&line);
            text.push('\n');
        }
        crate::cmd::output::print(&text)?;
    }
}

fn audit(spec: &str) -> Result<(), Failure> {
    let ledger = open(spec)?;
    let failed = |e: ledger::LedgerError| Failure::Input(e.to_string());
    let stored = ledger.load().map_err(failed)?;
    let stock = ledger.stock().map_err(failed)?;
    let problems = ledger::audit(&stored, stock.as_ref());
    if problems.is_empty() {
        crate::cmd::output::print(&format!(
            "ledger sound: {} entries, {} pairs, {} reservations held\n",
            stored.entries.len(),
            stored.snapshot.len(),
            stored.held.len()
        ))
    } else {
        let shown = problems.len().min(50);
        let mut text = problems[..shown].join("\n");
        if problems.len() > shown {
            text.push_str(&format!("\n… and {} more", problems.len() - shown));
        }
        Err(Failure::Input(format!(
            "{text}\nledger audit: {} problem(s)",
            problems.len()
        )))
    }
}
