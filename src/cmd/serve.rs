//! `sourcing serve`: the engine as an HTTP service with a durable stock ledger (the
//! `sourcing-serve` crate); this module reads the files as every other command does.

use crate::Failure;
use clap::Args;
use sourcing_serve::auth::Tokens;
use sourcing_serve::{Options, StartError};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `sourcing serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The network: locations and services (`network.json`), read at every start.
    #[arg(long, value_name = "N")]
    pub network: PathBuf,
    /// Stock per location and SKU; read on the first start only (the ledger is the stock
    /// of record after it).
    #[arg(long, value_name = "I")]
    pub inventory: Option<PathBuf>,
    /// Rule file to route with (default: the built-in `min-cost` strategy).
    #[arg(long, value_name = "R")]
    pub rules: Option<PathBuf>,
    /// The ledger: an SQLite file, created on the first start, or `postgres://…`: a
    /// PostgreSQL database shared by every instance started with the same URL.
    #[arg(long, value_name = "PATH", default_value = "sourcing-ledger.db")]
    pub ledger: String,
    /// Address to listen on; without --tokens only a loopback address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Access control: a file of `ROLE SHA256` lines (see `sourcing token`).
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// Longest a request may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub request_timeout_s: u64,
}

fn started(e: StartError) -> Failure {
    match e {
        StartError::Input(t) => Failure::Input(t),
        StartError::Usage(t) => Failure::Usage(t),
    }
}

/// Runs `sourcing serve`.
pub fn run(args: &ServeArgs) -> Result<(), Failure> {
    let addrs: Vec<SocketAddr> = args
        .listen
        .to_socket_addrs()
        .map_err(|e| Failure::Usage(format!("--listen {}: {e}", args.listen)))?
        .collect();
    if addrs.is_empty() {
        return Err(Failure::Usage(format!(
            "--listen {}: no address",
            args.listen
        )));
    }
    for addr in &addrs {
        sourcing_serve::check_exposure(addr, args.tokens.is_some()).map_err(started)?;
    }
    if args.request_timeout_s == 0 || args.max_body_bytes == 0 {
        return Err(Failure::Usage(
            "--request-timeout-s and --max-body-bytes must be at least 1".into(),
        ));
    }
    let tokens = match &args.tokens {
        Some(path) => {
            let (name, bytes) = crate::cmd::input::read(path)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Failure::Input(format!("{name}:1:1: expected UTF-8 text")))?;
            Some(Tokens::parse(&name, &text).map_err(Failure::Input)?)
        }
        None => None,
    };
    crate::cmd::input::at_most_one_stdin(
        [&args.network]
            .into_iter()
            .chain(&args.inventory)
            .chain(&args.rules)
            .map(PathBuf::as_path),
    )?;
    let network = crate::cmd::input::network(&args.network)?;
    let rules = match &args.rules {
        Some(path) => Some(crate::cmd::check::read_rules(path)?),
        None => None,
    };
    sourcing_serve::init_logs();
    let ledger =
        sourcing_serve::ledger::open(&args.ledger).map_err(|e| Failure::Input(e.to_string()))?;
    let inventory = args.inventory.clone();
    let opened = sourcing_serve::open(
        network,
        ledger,
        |network| {
            let Some(path) = inventory else {
                return Err(format!(
                    "{}: a new ledger is made from the stock: give --inventory on the first start",
                    shown_ledger(&args.ledger)
                ));
            };
            crate::cmd::input::inventory(&path, network).map_err(|f| match f {
                Failure::Input(t) | Failure::Usage(t) => t,
            })
        },
        rules,
    )
    .map_err(started)?;
    if !opened.warnings.is_empty() {
        crate::cmd::output::eprintln(&opened.warnings)?;
    }
    sourcing_serve::log_start(&shown_ledger(&args.ledger), opened.rebuilt);
    let options = Options {
        tokens,
        limits: sourcing_serve::http::Limits {
            body_bytes: args.max_body_bytes,
            timeout: Duration::from_secs(args.request_timeout_s),
        },
        ..Options::default()
    };
    sourcing_serve::run_blocking(opened.core, addrs, options).map_err(started)
}

/// A `--ledger` value as messages show it: a URL's password masked.
pub fn shown_ledger(ledger: &str) -> String {
    sourcing_serve::ledger::postgres::shown(ledger)
}
