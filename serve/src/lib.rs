//! # sourcing-serve
//!
//! The sourcing engine as a live HTTP service (`sourcing serve`, contract: `service.md`).
//! The engine decides in memory; every change of stock is an entry of the ledger
//! ([`ledger::Ledger`], SQLite by default), committed in batches by one writer thread, and
//! a caller is answered only once its change is on disk. On start the stock is rebuilt
//! from the ledger alone.
//!
//! - [`engine_port`]: every engine call the service makes.
//! - [`ledger`]: the stock of record, its SQLite store and its shared PostgreSQL store.
//! - [`follow`]: what entries other instances committed change in memory.
//! - [`core`]: the sequencing lock, the group-commit writer, idempotency, expiry.
//! - [`http`]: routes, bodies, errors, access control, metrics, OpenAPI.
//! - [`auth`]: tokens and roles.

pub mod auth;
pub mod client;
pub mod core;
pub mod engine_port;
pub mod follow;
pub mod http;
pub mod ledger;
pub mod metrics;

use crate::core::Core;
use crate::engine_port::EnginePort;
use crate::ledger::{rebuild, Ledger, SnapshotRow};
use sourcing_engine::load::inventory::InventoryRecord;
use sourcing_engine::Network;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Why the service did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// Bad files, rules or ledger: exit 1.
    Input(String),
    /// Used wrongly (an open service on a public address): exit 2.
    Usage(String),
}

/// A started core and what to tell the operator.
#[derive(Debug)]
pub struct Opened {
    /// The core.
    pub core: Arc<Core>,
    /// Warnings of the rules, rendered.
    pub warnings: String,
    /// True when the stock was rebuilt from an existing ledger (the inventory not read).
    pub rebuilt: bool,
}

/// Opens the service's core over a ledger: on the first start the inventory (read by
/// `inventory`, only then) becomes the ledger's snapshot; on every start the stock is the
/// newest snapshot with every entry after it, and the held reservations come back.
pub fn open(
    network: Network,
    ledger: Arc<dyn Ledger>,
    inventory: impl FnOnce(&Network) -> Result<Vec<InventoryRecord>, String>,
    rules: Option<(String, Vec<u8>)>,
) -> Result<Opened, StartError> {
    let input = |e: ledger::LedgerError| StartError::Input(e.to_string());
    // Rules first: refused rules leave a new ledger as it was.
    if let Some((name, text)) = &rules {
        engine_port::check_rules(name, text, &network)
            .map_err(|refused| StartError::Input(refused.rendered))?;
    }
    let rebuilt = ledger.initialised().map_err(input)?;
    if !rebuilt {
        let records = inventory(&network).map_err(StartError::Input)?;
        let rows: Vec<SnapshotRow> = records
            .iter()
            .filter_map(|r| {
                network.locations.get(r.location).map(|l| SnapshotRow {
                    location: l.id.clone(),
                    sku: r.sku.clone(),
                    on_hand: r.on_hand,
                    reserved: r.reserved,
                    safety_stock: r.safety_stock,
                })
            })
            .collect();
        ledger.initialise(&rows).map_err(input)?;
    }
    let stored = ledger.load_latest().map_err(input)?;
    if rebuilt {
        tracing::info!(
            "stock rebuilt from the snapshot at entry {} and the {} entries after it",
            stored.snapshot_seq,
            stored.entries.len()
        );
    }
    let figures = rebuild(&stored);
    let mut records = Vec::with_capacity(figures.len());
    let mut unknown = Vec::new();
    for ((location, sku), f) in &figures {
        match network.location_index(location) {
            Some(i) => records.push(InventoryRecord {
                location: i,
                sku: sku.clone(),
                on_hand: f.on_hand,
                reserved: f.reserved,
                safety_stock: f.safety_stock,
            }),
            None => unknown.push(location.clone()),
        }
    }
    if !unknown.is_empty() {
        unknown.dedup();
        return Err(StartError::Input(format!(
            "the ledger holds stock at locations the network does not have: {}",
            unknown
                .iter()
                .take(10)
                .map(|l| format!("`{}`", l.escape_debug()))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    records.sort_by(|a, b| (a.location, &a.sku).cmp(&(b.location, &b.sku)));
    let (mut port, loaded) = EnginePort::build(network, records, rules, &ledger.reservation_tag())
        .map_err(|refused| StartError::Input(refused.rendered))?;
    for r in stored.held {
        let id = r.id.clone();
        port.restore(r).map_err(|e| {
            StartError::Input(format!(
                "the ledger's reservation `{id}` cannot be restored: {e}"
            ))
        })?;
    }
    if let Some(last) = stored.last_reservation {
        port.continue_after(last);
    }
    recount_shipments(&port, stored.shipped.iter().chain(&stored.entries));
    let next = stored
        .entries
        .last()
        .map_or(stored.snapshot_seq + 1, |e| e.seq + 1);
    let core = Core::start(
        port,
        ledger,
        next,
        stored.idempotency,
        metrics::Metrics::new(),
    );
    Ok(Opened {
        core,
        warnings: loaded.warnings,
        rebuilt,
    })
}

/// Counts again against the locations' daily capacity the shipments of every order
/// routed and every reservation confirmed before this start (held ones count as they are
/// restored; released and expired ones gave theirs back). Each order's shipments are the
/// locations its entries took from, on the day of its `placed_at`.
fn recount_shipments<'a>(port: &EnginePort, entries: impl Iterator<Item = &'a ledger::Entry>) {
    // (kind, order or reservation) → (placed_at, locations), in ledger order.
    let mut shipped: Vec<(&str, Option<&str>, Vec<&str>)> = Vec::new();
    let mut at: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    for e in entries {
        let id = match e.kind.as_str() {
            "route" => e.order.as_deref(),
            "confirm" => e.reservation.as_deref(),
            _ => None,
        };
        let Some(id) = id else { continue };
        let i = *at.entry((e.kind.as_str(), id)).or_insert_with(|| {
            shipped.push((id, e.placed_at.as_deref(), Vec::new()));
            shipped.len() - 1
        });
        let locations = &mut shipped[i].2;
        if !locations.contains(&e.location.as_str()) {
            locations.push(e.location.as_str());
        }
    }
    let mut refused = 0usize;
    for (_, placed_at, locations) in &shipped {
        if !port.count_shipments(locations, *placed_at) {
            refused += 1;
        }
    }
    if refused > 0 {
        tracing::warn!(
            "{refused} orders of the ledger did not fit their day's capacity again (a location unknown or full)"
        );
    }
}

/// How the service listens.
#[derive(Debug, Clone)]
pub struct Options {
    /// Access control; `None` runs open (loopback addresses only).
    pub tokens: Option<auth::Tokens>,
    /// Body size and time limits.
    pub limits: http::Limits,
    /// How often held reservations are checked for expiry.
    pub expiry_every: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tokens: None,
            limits: http::Limits::default(),
            expiry_every: Duration::from_secs(1),
        }
    }
}

/// Refuses an open service on an address other computers can reach.
pub fn check_exposure(addr: &SocketAddr, tokens: bool) -> Result<(), StartError> {
    if !tokens && !addr.ip().is_loopback() {
        return Err(StartError::Usage(format!(
            "--listen {addr}: without --tokens the service runs open, so it listens only on a loopback address (127.0.0.1, ::1); give --tokens FILE to listen on {}",
            addr.ip()
        )));
    }
    Ok(())
}

/// Serves on a bound listener until `shutdown` resolves: then stops accepting, finishes
/// the requests in flight, makes every change durable and returns.
pub async fn serve(
    core: Arc<Core>,
    listener: tokio::net::TcpListener,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let ready = Arc::new(AtomicBool::new(true));
    let state = http::AppState {
        core: Arc::clone(&core),
        tokens: options.tokens.map(Arc::new),
        ready,
    };
    let app = http::app(state, options.limits);
    let expiry_core = Arc::clone(&core);
    let every = options.expiry_every;
    let expiry = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let n = expiry_core.expire_due(ledger::now_unix());
            if n > 0 {
                tracing::info!(expired = n, "reservations expired");
            }
        }
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    expiry.abort();
    let flushing = Arc::clone(&core);
    let _ = tokio::task::spawn_blocking(move || flushing.shutdown()).await;
    tracing::info!("ledger flushed; stopped");
    served
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("stop asked: finishing the requests in flight");
}

/// Starts the structured logs on stderr (`RUST_LOG` filters them; `info` by default).
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// Binds `addr`, says where it listens on stderr and serves until Ctrl-C or SIGTERM;
/// returns once every change is durable.
pub fn run_blocking(
    core: Arc<Core>,
    addrs: Vec<SocketAddr>,
    options: Options,
) -> Result<(), StartError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| StartError::Input(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(addrs.as_slice()).await {
            Ok(l) => l,
            Err(e) => {
                core.shutdown();
                let shown: Vec<String> = addrs.iter().map(ToString::to_string).collect();
                return Err(StartError::Input(format!(
                    "--listen {}: cannot listen: {e}",
                    shown.join(", ")
                )));
            }
        };
        let local = listener
            .local_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        tracing::info!(address = %local, "listening");
        eprintln!("sourcing serve: listening on http://{local}");
        serve(core, listener, options, stop_signal())
            .await
            .map_err(|e| StartError::Input(format!("the server stopped: {e}")))
    })
}

/// Says in the log where the stock came from.
pub fn log_start(ledger: &str, rebuilt: bool) {
    if rebuilt {
        tracing::info!(
            ledger,
            "stock rebuilt from the ledger; the inventory file is not read again"
        );
    } else {
        tracing::info!(ledger, "new ledger made from the inventory");
    }
}
