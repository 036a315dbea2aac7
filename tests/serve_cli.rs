//! `sourcing serve` and `sourcing token` as a user runs them: the real binary on
//! 127.0.0.1, refusals before listening, graceful stop, and a `kill -9` in the middle of
//! concurrent writes followed by a restart on the same ledger.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use sourcing_serve::client::Client;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn example(file: &str) -> String {
    support::example_dir().join(file).display().to_string()
}

/// Starts `sourcing serve` on a free port; returns once it listens.
fn start(ledger: &Path, first: bool, extra: &[&str]) -> (Child, SocketAddr) {
    let mut args = vec![
        "serve".to_string(),
        "--network".into(),
        example("network.json"),
        "--ledger".into(),
        ledger.display().to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
    ];
    if first {
        args.extend(["--inventory".to_string(), example("inventory.csv")]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("sourcing serve: listening on http://") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
                }
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the service says where it listens");
    (child, addr)
}

fn order(id: &str, sku: &str, qty: u32, lat: f64, lon: f64) -> String {
    format!(
        r#"{{"id":"{id}","ship_to":{{"lat":{lat},"lon":{lon}}},"fulfillment":"ship","lines":[{{"sku":"{sku}","qty":{qty},"unit_weight_kg":0.3}}]}}"#
    )
}

/// Units per (location, SKU) a decision ships.
fn takes(decision: &Value) -> BTreeMap<(String, String), i64> {
    let mut out = BTreeMap::new();
    for s in decision["shipments"].as_array().unwrap() {
        for l in s["lines"].as_array().unwrap() {
            *out.entry((
                s["location"].as_str().unwrap().to_string(),
                l["sku"].as_str().unwrap().to_string(),
            ))
            .or_insert(0) += l["qty"].as_i64().unwrap();
        }
    }
    out
}

fn all_entries(c: &mut Client) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = c
            .send(
                "GET",
                &format!("/v1/ledger?after={after}&limit=1000"),
                &[],
                "",
            )
            .unwrap()
            .json();
        let entries = page["entries"].as_array().unwrap().clone();
        if entries.is_empty() {
            return out;
        }
        after = page["next"].as_u64().unwrap();
        out.extend(entries);
    }
}

#[test]
fn an_open_service_refuses_a_public_address_and_bad_input_stops_it_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.db").display().to_string();
    let base = [
        "serve",
        "--network",
        &example("network.json"),
        "--ledger",
        &ledger,
    ];
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        support::sourcing(dir.path(), &a)
    };
    let out = with(&[
        "--inventory",
        &example("inventory.csv"),
        "--listen",
        "0.0.0.0:0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        support::stderr(&out).contains("loopback"),
        "{}",
        support::stderr(&out)
    );

    let bad_rules = dir.path().join("bad.rules");
    std::fs::write(&bad_rules, "strategy \"s\" {\n  score nonsense\n}\n").unwrap();
    let out = with(&[
        "--inventory",
        &example("inventory.csv"),
        "--listen",
        "127.0.0.1:0",
        "--rules",
        &bad_rules.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = support::stderr(&out);
    assert!(err.contains("bad.rules:2:"), "{err}");
    assert!(!err.contains("listening"), "{err}");

    let out = with(&["--listen", "127.0.0.1:0", "--request-timeout-s", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", support::stderr(&out));
    // Refused rules left the new ledger empty (else this would start serving), and a new
    // ledger needs the stock it starts from.
    let out = with(&["--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(support::stderr(&out).contains("--inventory"));

    let bad_tokens = dir.path().join("tokens");
    std::fs::write(&bad_tokens, "root abc\n").unwrap();
    let out = with(&["--tokens", &bad_tokens.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        support::stderr(&out).contains(":1:1: role"),
        "{}",
        support::stderr(&out)
    );
}

#[test]
fn token_prints_a_token_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::sourcing(dir.path(), &["token", "--role", "write"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let token = lines[0];
    assert_eq!(token.len(), 64);
    assert_eq!(
        lines[1],
        format!(
            "write {}",
            sourcing_serve::engine_port::content_hash(token.as_bytes())
        )
    );
    let again = support::sourcing(dir.path(), &["token", "--role", "write"]);
    assert_ne!(String::from_utf8(again.stdout).unwrap(), text);
    assert_eq!(
        support::sourcing(dir.path(), &["token", "--role", "root"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn sigterm_finishes_and_the_next_start_rebuilds_from_the_ledger_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.db");
    let (child, addr) = start(&ledger, true, &[]);
    let mut c = Client::new(addr);
    let routed = c
        .send(
            "POST",
            "/v1/route",
            &[],
            &order("T-1", "TSHIRT-M", 5, 50.11, 8.68),
        )
        .unwrap();
    assert_eq!(routed.status, 200, "{}", routed.body);
    let before = c
        .send("GET", "/v1/availability?sku=TSHIRT-M", &[], "")
        .unwrap()
        .json();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit 0 on SIGTERM: {:?}", out.status);

    // No --inventory: the stock comes from the ledger.
    let (mut child, addr) = start(&ledger, false, &[]);
    let mut c = Client::new(addr);
    let after = c
        .send("GET", "/v1/availability?sku=TSHIRT-M", &[], "")
        .unwrap()
        .json();
    assert_eq!(after, before);
    let again = c
        .send(
            "POST",
            "/v1/route",
            &[],
            &order("T-1", "TSHIRT-M", 5, 50.11, 8.68),
        )
        .unwrap();
    assert_eq!(again.body, routed.body, "the first answer, from the ledger");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn after_kill_9_every_acknowledged_change_is_there_and_nothing_is_oversold() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.db");
    // (kind, order or reservation id, answer) of every 2xx, over every round.
    let acked: Arc<Mutex<Vec<(String, String, Value)>>> = Arc::default();
    let skus = ["TSHIRT-M", "SNEAKER-42", "JEANS-32", "SOFA-3"];
    let places = [(50.11, 8.68), (52.52, 13.40), (53.55, 9.99), (48.14, 11.58)];
    // Several rounds on one ledger, each killed with SIGKILL at another moment while
    // clients route, reserve, confirm and release.
    for (round, kill_after) in [23usize, 41, 67].into_iter().enumerate() {
        let (mut child, addr) = start(&ledger, round == 0, &[]);
        let before = acked.lock().unwrap().len();
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let acked = Arc::clone(&acked);
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut c = Client::new(addr);
                    let ack = |kind: &str, id: String, answer: Value| {
                        acked.lock().unwrap().push((kind.to_string(), id, answer));
                    };
                    for i in 0..400 {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let id = format!("R{round}-W{w}-{i}");
                        let (lat, lon) = places[(w + i) % places.len()];
                        let text = order(&id, skus[i % skus.len()], 1 + (i % 3) as u32, lat, lon);
                        let (kind, path, body) = if i % 2 == 0 {
                            ("route", "/v1/route", text)
                        } else {
                            (
                                "reserve",
                                "/v1/reservations",
                                format!("{{\"order\": {text}}}"),
                            )
                        };
                        let answer = match c.send("POST", path, &[], &body) {
                            Ok(r) if r.status / 100 == 2 => r.json(),
                            Ok(r) => panic!("{path}: {} {}", r.status, r.body),
                            // The process is gone.
                            Err(_) => return,
                        };
                        ack(kind, id, answer.clone());
                        // Every other reservation is settled at once: confirmed or released.
                        if kind == "reserve" && i % 4 != 1 {
                            let rid = answer["id"].as_str().unwrap().to_string();
                            let verb = if i % 4 == 3 { "confirm" } else { "release" };
                            match c.send("POST", &format!("/v1/reservations/{rid}/{verb}"), &[], "")
                            {
                                Ok(r) if r.status == 200 => ack(verb, rid, r.json()),
                                Ok(r) => panic!("{verb} {rid}: {} {}", r.status, r.body),
                                Err(_) => return,
                            }
                        }
                    }
                })
            })
            .collect();
        let started = Instant::now();
        while acked.lock().unwrap().len() < before + kill_after
            && started.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(3));
        }
        child.kill().unwrap(); // SIGKILL, in the middle of the writes
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.join().unwrap();
        }
        let now = acked.lock().unwrap().len();
        assert!(
            now >= before + kill_after,
            "round {round}: only {} acknowledged",
            now - before
        );
    }
    let acked = acked.lock().unwrap().clone();

    let (mut child, addr) = start(&ledger, false, &[]);
    let mut c = Client::new(addr);
    let entries = all_entries(&mut c);
    // Units per order (routes) and per reservation, as the ledger has them.
    let mut by_order: HashMap<String, BTreeMap<(String, String), i64>> = HashMap::new();
    let mut by_reservation: HashMap<String, BTreeMap<(String, String), i64>> = HashMap::new();
    let mut taken: BTreeMap<(String, String), i64> = BTreeMap::new();
    for e in &entries {
        let pair = (
            e["location"].as_str().unwrap().to_string(),
            e["sku"].as_str().unwrap().to_string(),
        );
        // Units out of ATP: shipped plus held. A confirmation moves units from held to
        // shipped; a release gives them back.
        let out = -e["on_hand_delta"].as_i64().unwrap() + e["reserved_delta"].as_i64().unwrap();
        *taken.entry(pair.clone()).or_insert(0) += out;
        let units = match e["kind"].as_str().unwrap() {
            "route" => -e["on_hand_delta"].as_i64().unwrap(),
            "reserve" => e["reserved_delta"].as_i64().unwrap(),
            "confirm" | "release" => continue,
            other => panic!("unexpected entry kind {other}"),
        };
        if e["kind"] == "route" {
            *by_order
                .entry(e["order"].as_str().unwrap().to_string())
                .or_default()
                .entry(pair)
                .or_insert(0) += units;
        } else {
            *by_reservation
                .entry(e["reservation"].as_str().unwrap().to_string())
                .or_default()
                .entry(pair)
                .or_insert(0) += units;
        }
    }
    // Every acknowledged change is there, exactly.
    for (kind, id, answer) in &acked {
        if kind == "route" {
            let want = takes(answer);
            let got = by_order.get(id).cloned().unwrap_or_default();
            assert_eq!(got, want, "route {id}");
            continue;
        }
        let rid = answer["id"].as_str().unwrap();
        let got = by_reservation.get(rid).cloned().unwrap_or_default();
        assert_eq!(got, takes(&answer["decision"]), "reservation {rid}");
        let r = c
            .send("GET", &format!("/v1/reservations/{rid}"), &[], "")
            .unwrap();
        assert_eq!(r.status, 200);
        let state = r.json()["state"].clone();
        match kind.as_str() {
            // A reservation's later settling may not have been acknowledged.
            "reserve" => assert!(
                ["held", "confirmed", "released"].contains(&state.as_str().unwrap()),
                "{rid}: {state}"
            ),
            "confirm" => assert_eq!(state, "confirmed", "{rid}"),
            _ => assert_eq!(state, "released", "{rid}"),
        }
    }
    // Nothing is half there: a reservation in the ledger holds exactly its decision.
    for (rid, got) in &by_reservation {
        let r = c
            .send("GET", &format!("/v1/reservations/{rid}"), &[], "")
            .unwrap();
        assert_eq!(r.status, 200, "{rid} has entries but no record");
        assert_eq!(got, &takes(&r.json()["decision"]), "{rid}");
    }
    // Nothing is oversold, and the rebuilt ATP is the initial one less what was taken.
    let inventory = std::fs::read_to_string(example("inventory.csv")).unwrap();
    for row in inventory.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let atp0 = f[2].parse::<i64>().unwrap()
            - f[3].parse::<i64>().unwrap()
            - f[4].parse::<i64>().unwrap();
        let pair = (f[0].to_string(), f[1].to_string());
        let t = taken.get(&pair).copied().unwrap_or(0);
        assert!(t <= atp0.max(0), "{pair:?}: {t} taken of {atp0}");
        let now = c
            .send(
                "GET",
                &format!("/v1/availability?sku={}&location={}", f[1], f[0]),
                &[],
                "",
            )
            .unwrap()
            .json();
        assert_eq!(
            now["skus"][0]["atp"].as_i64(),
            Some(atp0.max(0) - t),
            "{pair:?}"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
