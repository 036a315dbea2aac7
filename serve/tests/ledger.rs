//! The ledger as the stock of record: rebuilding gives exactly the stock the process had,
//! a failed commit changes nothing, concurrent retries of one key change stock once, a
//! rule swap under load fails no request, and a ledger that numbers entries at commit
//! time is followed in answers and in the next numbers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sourcing_engine::MovementKind;
use sourcing_serve::core::{fingerprint, Core};
use sourcing_serve::engine_port::{Change, Movement, Reservation, ReservationState, StockFigures};
use sourcing_serve::ledger::sqlite::SqliteLedger;
use sourcing_serve::ledger::{
    now_unix, Batch, CommitError, Committed, Entry, Ledger, LedgerError, SnapshotRow, Stored,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use support::{open_at, open_with, order};

type Figures = Vec<(String, String, StockFigures)>;

/// What memory holds: every pair's figures (ATP included) and the held reservations (as
/// JSON, decision included).
fn memory(core: &Core) -> (Figures, Vec<String>) {
    let figures = core.port.all_figures();
    let held = core
        .port
        .reservations()
        .iter()
        .filter(|r| r.state == ReservationState::Held)
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    (figures, held)
}

fn parse(core: &Core, text: &str) -> sourcing_engine::ValidOrder {
    core.port.parse_order("order", text).unwrap()
}

fn key(id: &str, body: &str) -> (String, String) {
    (
        id.to_string(),
        fingerprint("POST", "/v1/route", body.as_bytes()),
    )
}

async fn reserve(core: &Core, text: &str, ttl_s: u64) -> Reservation {
    let o = parse(core, text);
    let id = o.id.clone();
    let a = core
        .reserve(
            o,
            ttl_s,
            (id, fingerprint("POST", "/v1/reservations", text.as_bytes())),
        )
        .await
        .unwrap();
    assert_eq!(a.status, 201);
    let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    core.port.reservation(v["id"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilding_from_the_ledger_gives_exactly_the_stock_the_process_had() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let core = open_at(&path, None);
    let initial = memory(&core);
    let far = 3600;
    for (i, text) in support::orders().iter().enumerate() {
        let o = parse(&core, text);
        match i % 4 {
            0 => {
                core.route(o, key(&format!("k{i}"), text)).await.unwrap();
            }
            1 => {
                reserve(&core, text, far).await;
            }
            2 => {
                let r = reserve(&core, text, far).await;
                core.settle(r.id.as_str(), ReservationState::Confirmed, None)
                    .await
                    .unwrap();
            }
            _ => {
                let r = reserve(&core, text, far).await;
                core.settle(r.id.as_str(), ReservationState::Released, None)
                    .await
                    .unwrap();
            }
        }
    }
    for (location, sku, change) in [
        ("ST-HAMBURG", "TSHIRT-M", Change::Delta(7)),
        (
            "DC-KASSEL",
            "SOFA-3",
            Change::Set {
                value: 1,
                expected: None,
            },
        ),
        ("DC-LEIPZIG", "SOFA-3", Change::Delta(-1)),
    ] {
        let m = Movement {
            location: location.into(),
            sku: sku.into(),
            kind: MovementKind::Adjustment,
            change,
        };
        core.movement(m, "adjustment".into(), None, None)
            .await
            .unwrap();
    }
    // One held reservation runs out; a later change is acknowledged only once the expiry
    // before it is durable (one writer, in order).
    let soon = reserve(&core, &order("EXP-1", "JEANS-32", 2), 1).await;
    assert_eq!(core.expire_due(now_unix() + 5), 1);
    // The reservation with the largest id is settled: not restored, yet its id is not
    // given again after the restart.
    let last = reserve(&core, &order("LAST", "GRILL-XL", 3), far).await;
    core.settle(last.id.as_str(), ReservationState::Released, None)
        .await
        .unwrap();
    assert_eq!(
        core.port.reservation(soon.id.as_str()).unwrap().state,
        ReservationState::Expired
    );

    let (figures, held) = memory(&core);
    assert_ne!(figures, initial.0, "the mix changed the stock");
    assert!(held.len() >= 3, "{held:?}");
    let next = core.next_seq();
    core.shutdown();

    let again = open_at(&path, None);
    let (figures2, held2) = memory(&again);
    assert_eq!(figures2, figures);
    assert_eq!(held2, held);
    assert_eq!(again.next_seq(), next);
    // A new reservation after the restart gets an id no reservation had before.
    let all_ids: Vec<String> = core
        .port
        .reservations()
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    let fresh = reserve(&again, &order("AFTER", "GRILL-XL", 1), far).await;
    assert!(
        !all_ids.contains(&fresh.id.to_string()),
        "{} reused",
        fresh.id
    );
    again.shutdown();
}

/// A ledger over SQLite whose commits fail while `fail` is set, and that numbers a batch's
/// entries from `shift` past the numbers the batch gave them, as a shared ledger does when
/// other instances committed first.
struct Flaky {
    inner: SqliteLedger,
    fail: AtomicBool,
    shift: u64,
}

impl Ledger for Flaky {
    fn initialised(&self) -> Result<bool, LedgerError> {
        self.inner.initialised()
    }
    fn initialise(&self, snapshot: &[SnapshotRow]) -> Result<(), LedgerError> {
        self.inner.initialise(snapshot)
    }
    fn load(&self) -> Result<Stored, LedgerError> {
        self.inner.load()
    }
    fn commit(&self, batch: &Batch) -> Result<Committed, CommitError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(CommitError::Failed(LedgerError("disk full".into())));
        }
        let done = self.inner.commit(batch)?;
        Ok(Committed {
            first_seq: done.first_seq + self.shift,
        })
    }
    fn entries(&self, after: u64, limit: usize) -> Result<Vec<Entry>, LedgerError> {
        self.inner.entries(after, limit)
    }
    fn reservation(&self, id: &str) -> Result<Option<Reservation>, LedgerError> {
        self.inner.reservation(id)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_fails_to_commit_is_undone_in_memory_and_fails_its_requests() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = Arc::new(Flaky {
        inner: SqliteLedger::open(&dir.path().join("ledger.db")).unwrap(),
        fail: AtomicBool::new(false),
        shift: 0,
    });
    let core = open_with(flaky.clone(), None);
    let first = order("F-1", "TSHIRT-M", 2);
    core.route(parse(&core, &first), key("F-1", &first))
        .await
        .unwrap();
    let r = reserve(&core, &order("F-2", "JEANS-32", 1), 600).await;
    let before = memory(&core);
    let next = core.next_seq();

    flaky.fail.store(true, Ordering::SeqCst);
    let texts: Vec<String> = (0..6)
        .map(|i| order(&format!("G-{i}"), "TSHIRT-M", 1))
        .collect();
    let routes = texts.iter().map(|t| {
        let core = Arc::clone(&core);
        let t = t.clone();
        tokio::spawn(async move {
            let o = core.port.parse_order("order", &t).unwrap();
            let id = o.id.clone();
            core.route(o, key(&id, &t)).await
        })
    });
    let mut failures = 0;
    for h in routes.collect::<Vec<_>>() {
        let e = h.await.unwrap().expect_err("nothing is durable");
        assert_eq!(e.status, 503);
        failures += 1;
    }
    assert_eq!(failures, 6);
    let m = Movement {
        location: "DC-KASSEL".into(),
        sku: "TSHIRT-M".into(),
        kind: MovementKind::Receipt,
        change: Change::Delta(50),
    };
    assert_eq!(
        core.movement(m, "receipt".into(), None, None)
            .await
            .unwrap_err()
            .status,
        503
    );
    assert_eq!(
        memory(&core),
        before,
        "every failed take and movement undone"
    );
    assert_eq!(core.next_seq(), next);
    assert!(core.healthy());

    flaky.fail.store(false, Ordering::SeqCst);
    // The keys of failed requests are free again.
    let t = &texts[0];
    let a = core.route(parse(&core, t), key("G-0", t)).await.unwrap();
    assert_eq!(a.status, 200);
    let entries = core.ledger.entries(0, 1000).unwrap();
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "no gap in the ledger"
    );
    let now = memory(&core);

    // A settled reservation cannot be put back: the service stops taking changes (not
    // ready) until a restart rebuilds it from the ledger, where it is still held.
    flaky.fail.store(true, Ordering::SeqCst);
    let e = core
        .settle(r.id.as_str(), ReservationState::Confirmed, None)
        .await
        .unwrap_err();
    assert_eq!(e.status, 503);
    assert!(!core.healthy());
    flaky.fail.store(false, Ordering::SeqCst);
    let t = order("G-9", "TSHIRT-M", 1);
    assert_eq!(
        core.route(parse(&core, &t), key("G-9", &t))
            .await
            .unwrap_err()
            .status,
        503
    );
    core.shutdown();
    let again = open_at(&dir.path().join("ledger.db"), None);
    assert_eq!(memory(&again), now);
    assert_eq!(
        again.port.reservation(r.id.as_str()).unwrap().state,
        ReservationState::Held
    );
    again.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_of_one_key_change_stock_once_and_answer_alike() {
    let dir = tempfile::tempdir().unwrap();
    let core = open_at(&dir.path().join("ledger.db"), None);
    let atp = || core.port.figures("DC-KASSEL", "TSHIRT-M").unwrap().atp;
    let before = atp();
    let text = order("RETRY-1", "TSHIRT-M", 3);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let core = Arc::clone(&core);
            let text = text.clone();
            tokio::spawn(async move {
                let o = core.port.parse_order("order", &text).unwrap();
                core.route(o, key("RETRY-1", &text)).await.unwrap()
            })
        })
        .collect();
    let mut bodies = HashSet::new();
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(a.status, 200);
        bodies.insert(a.body);
    }
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(atp(), before - 3);
    let entries = core.ledger.entries(0, 100).unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    core.shutdown();
    // The answer is durable with the key: after a restart the retry still gets it.
    let again = open_at(&dir.path().join("ledger.db"), None);
    let a = again
        .route(parse(&again, &text), key("RETRY-1", &text))
        .await
        .unwrap();
    assert!(bodies.contains(&a.body));
    assert_eq!(
        again.port.figures("DC-KASSEL", "TSHIRT-M").unwrap().atp,
        before - 3
    );
    again.shutdown();
}

#[test]
fn a_rule_swap_under_load_fails_no_request() {
    let server = support::Server::start();
    let builtin = server.call("GET", "/v1/rules", "").json()["ruleset"]
        .as_str()
        .unwrap()
        .to_string();
    let files: Vec<String> = ["min-cost.rules", "ship-from-store-first.rules"]
        .iter()
        .map(|f| std::fs::read_to_string(support::rules_file(f)).unwrap())
        .collect();
    let mut known: HashSet<String> = files
        .iter()
        .map(|t| sourcing_serve::engine_port::content_hash(t.as_bytes()))
        .collect();
    known.insert(builtin);
    let addr = server.addr;
    let workers: Vec<_> = (0..4)
        .map(|w| {
            std::thread::spawn(move || {
                let mut c = sourcing_serve::client::Client::new(addr);
                let mut seen = Vec::new();
                let mut shipped = 0u64;
                for i in 0..40 {
                    let (path, body) = if i % 2 == 0 {
                        ("/v1/quote", order(&format!("Q-{w}-{i}"), "TSHIRT-M", 1))
                    } else {
                        ("/v1/route", order(&format!("S-{w}-{i}"), "GRILL-XL", 1))
                    };
                    let r = c.send("POST", path, &[], &body).unwrap();
                    assert_eq!(r.status, 200, "{path}: {}", r.body);
                    let d = r.json();
                    seen.push(d["ruleset"].as_str().unwrap().to_string());
                    if path == "/v1/route" {
                        shipped += d["shipments"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .flat_map(|s| s["lines"].as_array().unwrap().iter())
                            .map(|l| l["qty"].as_u64().unwrap())
                            .sum::<u64>();
                    }
                }
                (seen, shipped)
            })
        })
        .collect();
    let mut admin = server.client();
    for i in 0..20 {
        let r = admin.send("PUT", "/v1/rules", &[], &files[i % 2]).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let mut shipped = 0;
    for w in workers {
        let (seen, units) = w.join().unwrap();
        shipped += units;
        for hash in seen {
            assert!(known.contains(&hash), "{hash}");
        }
    }
    // Exactly the grills the decisions shipped left the vendor's 500 (some rules in the
    // swap do not ship from vendors).
    assert!(shipped > 0);
    let left = server
        .core
        .port
        .figures("VD-STUTTGART", "GRILL-XL")
        .unwrap();
    assert_eq!(left.on_hand, 500 - shipped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_stored_once_answers_its_key_and_comes_back_whole_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let core = open_at(&path, None);
    let text = order("ONCE-1", "TSHIRT-M", 2);
    let reserve_key = (
        "once".to_string(),
        fingerprint("POST", "/v1/reservations", text.as_bytes()),
    );
    let first = core
        .reserve(parse(&core, &text), 600, reserve_key.clone())
        .await
        .unwrap();
    assert_eq!(first.status, 201);
    let id = serde_json::from_str::<serde_json::Value>(&first.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Held, then confirmed in a later batch: the row changes, the answer stays.
    let made = core.port.reservation(&id).unwrap();
    core.settle(&id, ReservationState::Confirmed, None)
        .await
        .unwrap();
    let confirmed = core.port.reservation(&id).unwrap();
    let other = reserve(&core, &order("ONCE-2", "JEANS-32", 1), 600).await;
    core.shutdown();

    // The row names the answer instead of holding the decision again.
    let db = rusqlite::Connection::open(&path).unwrap();
    let (body, answer_key): (String, Option<String>) = db
        .query_row(
            "SELECT r.body, i.key FROM reservations r \
             LEFT JOIN idempotency i ON i.rowid = r.answer_row WHERE r.id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(answer_key.as_deref(), Some("once"));
    assert!(!body.contains("\"decision\""), "{body}");
    drop(db);

    let ledger = SqliteLedger::open(&path).unwrap();
    assert_eq!(ledger.reservation(&id).unwrap(), Some(confirmed));
    assert_ne!(made.state, ReservationState::Confirmed);
    drop(ledger);
    let again = open_at(&path, None);
    let replay = again
        .reserve(parse(&again, &text), 600, reserve_key)
        .await
        .unwrap();
    assert_eq!(replay.status, first.status);
    assert_eq!(replay.body, first.body, "the first answer, byte for byte");
    assert_eq!(
        again.port.reservation(other.id.as_str()).unwrap(),
        other,
        "a held reservation comes back with its decision"
    );
    again.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_movement_answers_the_seq_the_ledger_gave_and_later_changes_number_after_it() {
    for shift in [0, 7] {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Arc::new(Flaky {
            inner: SqliteLedger::open(&dir.path().join("ledger.db")).unwrap(),
            fail: AtomicBool::new(false),
            shift,
        });
        let core = open_with(ledger, None);
        let before = core.next_seq();
        let m = Movement {
            location: "DC-KASSEL".into(),
            sku: "TSHIRT-M".into(),
            kind: MovementKind::Receipt,
            change: Change::Delta(5),
        };
        let a = core
            .movement(m, "receipt".into(), None, None)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["seq"].as_u64(), Some(before + shift), "{}", a.body);
        // The next change is numbered after what the ledger gave, not what was asked.
        assert_eq!(core.next_seq(), before + shift + 1);
        core.shutdown();
    }
}
