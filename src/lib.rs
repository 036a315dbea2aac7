//! The `sourcing` command line as a library, so tests can drive every command directly.
//!
//! Exit codes (contract section 6): 0 success, 1 invalid input (rules, data), 2 usage error.

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::process::ExitCode;

pub mod cmd;
pub mod lsp;

/// Rule-driven order sourcing: decide which locations ship which units.
#[derive(Debug, Parser)]
#[command(name = "sourcing", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Source every order of a JSONL file and write one decision per order (JSONL) to stdout.
    Route(cmd::route::RouteArgs),
    /// Parse and validate rule files; exit 1 with diagnostics when one has errors.
    Check(cmd::check::CheckArgs),
    /// Format rule files in place (or, with --check, list those that are not formatted).
    Fmt(cmd::fmt::FmtArgs),
    /// Explain, for a person, why one order was sourced the way it was.
    Explain(cmd::explain::ExplainArgs),
    /// Run the test cases written beside rule files (`NAME.cases.toml`).
    Test(cmd::test::TestArgs),
    /// Replay the orders in time order and report key figures (DIR/kpis.json, report.html).
    Simulate(cmd::simulate::SimulateArgs),
    /// Write a seeded synthetic network, stock and orders (for benchmarks and what-ifs).
    Gen(cmd::gen::GenArgs),
    /// Measure routing on generated networks of several sizes and orders of 1 to 6 lines.
    Bench(cmd::bench::BenchArgs),
    /// Serve editors over stdio (the Language Server Protocol): diagnostics, formatting,
    /// hovers, completion, go to definition for rule files.
    Lsp(cmd::lsp::LspArgs),
    /// Serve the engine over HTTP with a durable stock ledger (see service.md).
    Serve(cmd::serve::ServeArgs),
    /// Print a new random access token and its line for `serve --tokens FILE`.
    Token(cmd::token::TokenArgs),
    /// Read the ledger of `sourcing serve`: export its entries, audit its stock.
    Ledger(cmd::ledger::LedgerArgs),
}

/// How a command failed.
#[derive(Debug)]
pub enum Failure {
    /// Invalid input (rules, data): exit 1, with every problem found.
    Input(String),
    /// The command was used wrongly: exit 2.
    Usage(String),
}

impl Failure {
    fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Input(_) => ExitCode::from(1),
            Failure::Usage(_) => ExitCode::from(2),
        }
    }
}

/// Runs the command line and returns its exit code.
pub fn run<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help and version to stdout (exit 0) and usage errors to stderr (exit 2);
            // help that cannot be written (a full disk) fails, a closed pipe does not.
            let printed = cmd::output::written(err.print(), "standard output");
            return match printed {
                _ if err.use_stderr() => ExitCode::from(2),
                Ok(()) => ExitCode::SUCCESS,
                Err(failure) => failed(&failure),
            };
        }
    };
    let result = match cli.command {
        Command::Route(args) => cmd::route::run(&args),
        Command::Check(args) => cmd::check::run(&args),
        Command::Fmt(args) => cmd::fmt::run(&args),
        Command::Explain(args) => cmd::explain::run(&args),
        Command::Test(args) => cmd::test::run(&args),
        Command::Simulate(args) => cmd::simulate::run(&args),
        Command::Gen(args) => cmd::gen::run(&args),
        Command::Bench(args) => cmd::bench::run(&args),
        Command::Lsp(args) => cmd::lsp::run(&args),
        Command::Serve(args) => cmd::serve::run(&args),
        Command::Token(args) => cmd::token::run(&args),
        Command::Ledger(args) => cmd::ledger::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failed(&failure),
    }
}

/// Reports a failure on stderr; when stderr cannot take it either, the exit code still tells.
fn failed(failure: &Failure) -> ExitCode {
    let _ = match failure {
        Failure::Input(text) => cmd::output::eprintln(text),
        Failure::Usage(text) => cmd::output::eprintln(&format!("error: {text}")),
    };
    failure.exit_code()
}
