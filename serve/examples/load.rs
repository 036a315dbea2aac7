//! A bounded load on `sourcing serve`, in process on 127.0.0.1 with a fresh ledger in a
//! temporary folder (or, with `--addr`, on a service already running): `--clients`
//! kept-alive connections each send up to `--requests` requests of one `--kind` — `quote`,
//! `route`, `reserve` or `mixed` (quote, route, reserve, confirm or release, availability) —
//! and stop after `--seconds` at the latest. Reports requests per second and p50/p99/max
//! latency per kind. Each connection runs on a blocking thread of its own (`--driver
//! threads`, the default) or all of them on one thread (`--driver async`). Not run in CI.
//!
//! ```sh
//! cargo run --release -p sourcing-serve --example load -- \
//!   --network N --inventory I --orders O [--kind mixed] [--clients 8] [--requests 2000] \
//!   [--seconds 60] [--driver async|threads] [--rules R] [--ledger PATH] \
//!   [--addr HOST:PORT] [--token T]
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
    let driver = arg(&args, "--driver").unwrap_or_else(|| "threads".to_string());
    assert!(
        ["async", "threads"].contains(&driver.as_str()),
        "--driver is async (every connection on one thread) or threads (a thread each)"
    );

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
            // A start over an existing ledger (--ledger) replays the entries after its
            // newest snapshot: how long that took.
            let opening = Instant::now();
            let opened = sourcing_serve::open(
                net,
                ledger,
                |n| sourcing_engine::load::load_inventory(&inventory, n).map_err(|e| e.to_string()),
                rules,
            )
            .expect("opens");
            println!(
                "service opened in {:.0} ms",
                opening.elapsed().as_secs_f64() * 1e3
            );
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
    let settles = kind == "mixed";
    let all = if driver == "threads" {
        run_threads(plans, addr, token.clone(), settles, deadline)
    } else {
        // One thread for every connection.
        let token = token.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(run_async(plans, addr, token, settles, deadline))
        })
        .join()
        .unwrap()
    };
    report(&kind, clients, started, all);
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
            // The tail's share that slow commits explain: one over 5 ms holds every
            // change waiting behind it.
            let slow = |le: &str| {
                1.0 - value(&format!(
                    "sourcing_ledger_commit_seconds_bucket{{le=\"{le}\"}}"
                )) / commits
            };
            println!(
                "ledger: {:.1} % of commits over 5 ms, {:.2} % over 10 ms",
                slow("0.005") * 100.0,
                slow("0.01") * 100.0
            );
        }
        // Time in the service (the handler, from the request read to the answer made),
        // apart from the connection and the load generator's own wait for a core.
        for (kind, endpoint) in [
            ("quote", "/v1/quote"),
            ("route", "/v1/route"),
            ("reserve", "/v1/reservations"),
        ] {
            let bucket = |le: &str| {
                value(&format!(
                    "sourcing_request_seconds_bucket{{endpoint=\"{endpoint}\",le=\"{le}\"}}"
                ))
            };
            let all = bucket("+Inf");
            if all > 0.0 {
                println!(
                    "service time, {kind}: {:.1} % within 5 ms, {:.1} % within 10 ms",
                    bucket("0.005") / all * 100.0,
                    bucket("0.01") / all * 100.0
                );
            }
        }
    }
    if let Some((stop, server)) = local {
        let _ = stop.send(());
        rt.block_on(server).unwrap().unwrap();
    }
}

type Latencies = BTreeMap<&'static str, Vec<Duration>>;

/// The request a step sends: name, method, path, body; a settlement takes the last
/// reservation the client holds.
fn request(
    step: Step,
    i: usize,
    held: &mut Vec<String>,
) -> (&'static str, &'static str, String, String) {
    match step {
        Step::Send(n, m, p, b) => (n, m, p, b),
        Step::Settle(order) => match held.pop() {
            Some(id) if i.is_multiple_of(2) => (
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
    }
}

/// Every client on one thread of its own over tokio.
async fn run_async(
    plans: Vec<Vec<Step>>,
    addr: SocketAddr,
    token: Option<String>,
    settles: bool,
    deadline: Instant,
) -> Latencies {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let tasks: Vec<_> = plans
        .into_iter()
        .map(|steps| {
            let token = token.clone();
            tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let mut conn = tokio::io::BufReader::new(stream);
                let mut lat = Latencies::new();
                let mut held: Vec<String> = Vec::new();
                let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
                let mut line = String::new();
                for (i, step) in steps.into_iter().enumerate() {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let (name, method, path, body) = request(step, i, &mut held);
                    let message = format!(
                        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{auth}\r\n{body}",
                        body.len()
                    );
                    let t = Instant::now();
                    conn.get_mut().write_all(message.as_bytes()).await.unwrap();
                    line.clear();
                    conn.read_line(&mut line).await.unwrap();
                    let status: u16 = line
                        .split_whitespace()
                        .nth(1)
                        .and_then(|s| s.parse().ok())
                        .expect("an HTTP answer");
                    let mut length = 0usize;
                    loop {
                        line.clear();
                        assert!(conn.read_line(&mut line).await.unwrap() > 0, "closed");
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = l.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                length = v.trim().parse().unwrap();
                            }
                        }
                    }
                    let mut answer = vec![0u8; length];
                    conn.read_exact(&mut answer).await.unwrap();
                    lat.entry(name).or_default().push(t.elapsed());
                    let text = String::from_utf8_lossy(&answer);
                    assert!(status / 100 == 2, "{path}: {status} {text}");
                    if name == "reserve" && settles {
                        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                        if let Some(id) = v["id"].as_str() {
                            held.push(id.to_string());
                        }
                    }
                }
                lat
            })
        })
        .collect();
    let mut all = Latencies::new();
    for t in tasks {
        for (k, v) in t.await.unwrap() {
            all.entry(k).or_default().extend(v);
        }
    }
    all
}

/// One blocking thread per client.
fn run_threads(
    plans: Vec<Vec<Step>>,
    addr: SocketAddr,
    token: Option<String>,
    settles: bool,
    deadline: Instant,
) -> Latencies {
    let workers: Vec<_> = plans
        .into_iter()
        .map(|steps| {
            let token = token.clone();
            std::thread::spawn(move || {
                let mut c = Client::new(addr);
                c.token = token;
                let mut lat = Latencies::new();
                let mut held: Vec<String> = Vec::new();
                for (i, step) in steps.into_iter().enumerate() {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let (name, method, path, body) = request(step, i, &mut held);
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
    let mut all = Latencies::new();
    for w in workers {
        for (k, v) in w.join().unwrap() {
            all.entry(k).or_default().extend(v);
        }
    }
    all
}

/// Requests per second and p50/p99/max latency per kind.
fn report(kind: &str, clients: usize, started: Instant, all: Latencies) {
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
}
