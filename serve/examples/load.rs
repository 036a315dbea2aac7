//! A bounded load on `sourcing serve`, in process on 127.0.0.1 with a fresh ledger in a
//! temporary folder (or, with `--addr`, on a service already running): `--clients`
//! kept-alive connections each send up to `--requests` requests of one `--kind` — `quote`,
//! `route`, `reserve` or `mixed` (quote, route, reserve, confirm or release, availability) —
//! and stop after `--seconds` at the latest. Reports requests per second and p50/p99/max
//! latency per kind. Not run in CI.
//!
//! ```sh
//! cargo run --release -p sourcing-serve --example load -- \
//!   --network N --inventory I --orders O [--kind mixed] [--clients 8] [--requests 2000] \
//!   [--seconds 60] [--rules R] [--ledger PATH] [--addr HOST:PORT] [--token T]
//! ```
//!
//! Request bodies are written before the clock starts, so the load generator spends its
//! share of the machine on sending and reading only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sourcing_serve::client::Client;
use sourcing_serve::ledger::sqlite::SqliteLedger;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

// The allocator `sourcing serve` itself runs with, so the numbers are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// What one client sends next.
enum Step {
    /// Name, method, path, body.
    Send(&'static str, &'static str, String, String),
    /// Confirm or release the last reservation this client holds (quote when none).
    Settle(String),
}

/// The requests of client `w`, written up front.
fn plan(kind: &str, orders: &[String], w: usize, requests: usize) -> Vec<Step> {
    (0..requests)
        .map(|i| {
            let raw = &orders[(w * requests + i) % orders.len()];
            // Every order gets an id of its own, so each is a new decision.
            let mut o: serde_json::Value = serde_json::from_str(raw).expect("an order");
            o["id"] = format!("L-{w}-{i}").into();
            let sku = o["lines"][0]["sku"].as_str().unwrap_or("").to_string();
            let quote = || ("quote", "POST", "/v1/quote".to_string(), o.to_string());
            let route = || ("route", "POST", "/v1/route".to_string(), o.to_string());
            let reserve = || {
                (
                    "reserve",
                    "POST",
                    "/v1/reservations".to_string(),
                    serde_json::json!({"order": o, "ttl_s": 600}).to_string(),
                )
            };
            let (n, m, p, b) = match kind {
                "quote" => quote(),
                "route" => route(),
                "reserve" => reserve(),
                _ => match i % 5 {
                    0 => quote(),
                    1 => route(),
                    2 => reserve(),
                    3 => return Step::Settle(o.to_string()),
                    _ => (
                        "availability",
                        "GET",
                        format!("/v1/availability?sku={sku}"),
                        String::new(),
                    ),
                },
            };
            Step::Send(n, m, p, b)
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/example");
    let path = |name: &str, default: &str| {
        arg(&args, name).map_or_else(|| example.join(default), PathBuf::from)
    };
    let (network, inventory, orders) = (
        path("--network", "network.json"),
        path("--inventory", "inventory.csv"),
        path("--orders", "orders.jsonl"),
    );
    let kind = arg(&args, "--kind").unwrap_or_else(|| "mixed".to_string());
    assert!(
        ["quote", "route", "reserve", "mixed"].contains(&kind.as_str()),
        "--kind is quote, route, reserve or mixed"
    );
    let clients: usize = arg(&args, "--clients").map_or(8, |v| v.parse().unwrap());
    let requests: usize = arg(&args, "--requests").map_or(2000, |v| v.parse().unwrap());
    let seconds: u64 = arg(&args, "--seconds").map_or(60, |v| v.parse().unwrap());
    assert!(
        (1..=256).contains(&clients) && requests <= 1_000_000 && seconds <= 3600,
        "bounded load"
    );
    let rules = arg(&args, "--rules").map(|p| (p.clone(), std::fs::read(&p).expect("rules")));
    let token = arg(&args, "--token");

    let orders: Vec<String> = std::fs::read_to_string(&orders)
        .expect("orders")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(100_000)
        .map(str::to_string)
        .collect();
    let plans: Vec<Vec<Step>> = (0..clients)
        .map(|w| plan(&kind, &orders, w, requests))
        .collect();

    // The service: one given by --addr, or one in this process over a fresh ledger.
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut local = None;
    let addr: SocketAddr = match arg(&args, "--addr") {
        Some(a) => a.parse().expect("--addr HOST:PORT"),
        None => {
            let net = sourcing_engine::load::load_network(&network).expect("network");
            let ledger_path =
                arg(&args, "--ledger").map_or_else(|| dir.path().join("ledger.db"), PathBuf::from);
            let ledger = Arc::new(SqliteLedger::open(&ledger_path).unwrap());
            let opened = sourcing_serve::open(
                net,
                ledger,
                |n| sourcing_engine::load::load_inventory(&inventory, n).map_err(|e| e.to_string()),
                rules,
            )
            .expect("opens");
            let listener = rt
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .unwrap();
            let addr = listener.local_addr().unwrap();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = rt.spawn(sourcing_serve::serve(
                opened.core,
                listener,
                sourcing_serve::Options::default(),
                async {
                    let _ = stopped.await;
                },
            ));
            local = Some((stop, server));
            addr
        }
    };

    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let workers: Vec<_> = plans
        .into_iter()
        .map(|steps| {
            let token = token.clone();
            let settles = kind == "mixed";
            std::thread::spawn(move || {
                let mut c = Client::new(addr);
                c.token = token;
                let mut lat: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
                let mut held: Vec<String> = Vec::new();
                for (i, step) in steps.into_iter().enumerate() {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let (name, method, path, body) = match step {
                        Step::Send(n, m, p, b) => (n, m, p, b),
                        Step::Settle(order) => match held.pop() {
                            Some(id) if i % 2 == 0 => (
                                "confirm",
                                "POST",
                                format!("/v1/reservations/{id}/confirm"),
                                String::new(),
                            ),
                            Some(id) => (
                                "release",
                                "POST",
                                format!("/v1/reservations/{id}/release"),
                                String::new(),
                            ),
                            None => ("quote", "POST", "/v1/quote".to_string(), order),
                        },
                    };
                    let t = Instant::now();
                    let r = c.send(method, &path, &[], &body).expect("answer");
                    lat.entry(name).or_default().push(t.elapsed());
                    assert!(r.status / 100 == 2, "{path}: {} {}", r.status, r.body);
                    if name == "reserve" && settles {
                        if let Some(id) = r.json()["id"].as_str() {
                            held.push(id.to_string());
                        }
                    }
                }
                lat
            })
        })
        .collect();
    let mut all: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for w in workers {
        for (k, v) in w.join().unwrap() {
            all.entry(k).or_default().extend(v);
        }
    }
    let elapsed = started.elapsed();
    let total: usize = all.values().map(Vec::len).sum();
    let secs = elapsed.as_secs_f64();
    println!(
        "{kind}: {total} requests from {clients} clients in {secs:.2} s: {:.0} requests/s",
        total as f64 / secs
    );
    println!(
        "{:<14}{:>9}{:>12}{:>10}{:>10}{:>10}",
        "kind", "count", "per s", "p50 ms", "p99 ms", "max ms"
    );
    for (k, mut v) in all {
        v.sort();
        let q = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)].as_secs_f64() * 1e3;
        let max = v.last().map_or(0.0, |d| d.as_secs_f64() * 1e3);
        println!(
            "{k:<14}{:>9}{:>12.0}{:>10.2}{:>10.2}{:>10.2}",
            v.len(),
            v.len() as f64 / secs,
            q(0.5),
            q(0.99),
            max
        );
    }
    // How the writer grouped the changes: commits, changes per commit, time per commit.
    let mut c = Client::new(addr);
    c.token = token;
    if let Ok(m) = c.send("GET", "/metrics", &[], "") {
        let value = |name: &str| {
            m.body
                .lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let commits = value("sourcing_ledger_batch_size_count");
        if commits > 0.0 {
            println!(
                "ledger: {commits:.0} commits, {:.1} changes per commit, {:.2} ms per commit",
                value("sourcing_ledger_batch_size_sum") / commits,
                value("sourcing_ledger_commit_seconds_sum") / commits * 1e3
            );
        }
    }
    if let Some((stop, server)) = local {
        let _ = stop.send(());
        rt.block_on(server).unwrap().unwrap();
    }
}
