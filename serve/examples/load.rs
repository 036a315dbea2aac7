//! A bounded load on `sourcing serve`, in process on 127.0.0.1 with a fresh ledger in a
//! temporary folder: `--clients` connections each send `--requests` requests in a mix of
//! quote, route, reserve, confirm or release, and availability. Reports requests per
//! second and p50/p99 latency per endpoint. Not run in CI.
//!
//! ```sh
//! cargo run --release -p sourcing-serve --example load -- \
//!   --network N --inventory I --orders O [--clients 8] [--requests 2000] [--rules R]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sourcing_serve::client::Client;
use sourcing_serve::ledger::sqlite::SqliteLedger;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
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
    let clients: usize = arg(&args, "--clients").map_or(8, |v| v.parse().unwrap());
    let requests: usize = arg(&args, "--requests").map_or(2000, |v| v.parse().unwrap());
    assert!(clients <= 256 && requests <= 1_000_000, "bounded load");
    let rules = arg(&args, "--rules").map(|p| (p.clone(), std::fs::read(&p).expect("rules")));

    let net = sourcing_engine::load::load_network(&network).expect("network");
    let orders: Vec<serde_json::Value> = std::fs::read_to_string(&orders)
        .expect("orders")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(100_000)
        .map(|l| serde_json::from_str(l).expect("an order"))
        .collect();
    let orders = Arc::new(orders);
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(SqliteLedger::open(&dir.path().join("ledger.db")).unwrap());
    let opened = sourcing_serve::open(
        net,
        ledger,
        |n| sourcing_engine::load::load_inventory(&inventory, n).map_err(|e| e.to_string()),
        rules,
    )
    .expect("opens");
    let core = opened.core;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(sourcing_serve::serve(
        Arc::clone(&core),
        listener,
        sourcing_serve::Options::default(),
        async {
            let _ = stopped.await;
        },
    ));

    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|w| {
            let orders = Arc::clone(&orders);
            std::thread::spawn(move || {
                let mut c = Client::new(addr);
                let mut lat: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
                let mut held: Vec<String> = Vec::new();
                for i in 0..requests {
                    let mut o = orders[(w * requests + i) % orders.len()].clone();
                    o["id"] = format!("L-{w}-{i}").into();
                    let sku = o["lines"][0]["sku"].as_str().unwrap_or("").to_string();
                    let (name, method, path, body) = match i % 5 {
                        0 => ("quote", "POST", "/v1/quote".to_string(), o.to_string()),
                        1 => ("route", "POST", "/v1/route".to_string(), o.to_string()),
                        2 => (
                            "reserve",
                            "POST",
                            "/v1/reservations".to_string(),
                            serde_json::json!({"order": o, "ttl_s": 600}).to_string(),
                        ),
                        3 => match held.pop() {
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
                            None => ("quote", "POST", "/v1/quote".to_string(), o.to_string()),
                        },
                        _ => (
                            "availability",
                            "GET",
                            format!("/v1/availability?sku={sku}"),
                            String::new(),
                        ),
                    };
                    let t = Instant::now();
                    let r = c.send(method, &path, &[], &body).expect("answer");
                    lat.entry(name).or_default().push(t.elapsed());
                    assert!(r.status / 100 == 2, "{path}: {} {}", r.status, r.body);
                    if name == "reserve" {
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
    println!(
        "{total} requests from {clients} clients in {:.2} s: {:.0} requests/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{:<14}{:>9}{:>12}{:>12}",
        "endpoint", "count", "p50 ms", "p99 ms"
    );
    for (k, mut v) in all {
        v.sort();
        let q = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)].as_secs_f64() * 1e3;
        println!("{k:<14}{:>9}{:>12.3}{:>12.3}", v.len(), q(0.5), q(0.99));
    }
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
}
