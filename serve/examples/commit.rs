//! The ledger writer alone, without HTTP, planning or the load generator: the reservations
//! of a ledger a reserve run left (`load --kind reserve --ledger PATH`) are committed again
//! into a fresh SQLite ledger, `--per` reservations a commit (their entries, rows and
//! remembered answers, as the service batches them), one commit after the other on this
//! thread. Prints wall time and this thread's CPU time (from `/proc/thread-self/schedstat`)
//! per commit and per reservation: what the one thread every change passes spends, on a
//! machine too busy for end-to-end runs to show it. Not run in CI.
//!
//! ```sh
//! cargo run --release -p sourcing-serve --example load -- --kind reserve ... --ledger /tmp/l.db
//! cargo run --release -p sourcing-serve --example commit -- --from /tmp/l.db [--per 16] [--ledger PATH]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sourcing_serve::ledger::sqlite::{SnapshotPolicy, SqliteLedger};
use sourcing_serve::ledger::{Batch, IdempotencyRecord, Ledger};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// This thread's CPU time so far (Linux; zero elsewhere).
fn cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let from = PathBuf::from(arg(&args, "--from").expect("--from LEDGER"));
    let per: usize = arg(&args, "--per").map_or(16, |v| v.parse().unwrap());
    assert!((1..=4096).contains(&per), "--per is 1 to 4096");
    let never = SnapshotPolicy {
        entries: 0,
        every: Duration::ZERO,
    };
    let stored = SqliteLedger::open_with(&from, never)
        .unwrap()
        .load()
        .unwrap();
    let mut answers: HashMap<String, IdempotencyRecord> = stored
        .idempotency
        .into_iter()
        .map(|r| (r.key.clone(), r))
        .collect();
    let mut entries: HashMap<String, Vec<_>> = HashMap::new();
    for e in stored.entries {
        if let Some(r) = e.reservation.clone() {
            entries.entry(r).or_default().push(e);
        }
    }
    // One batch per `per` reservations, entries numbered again from 1.
    let mut batches = Vec::new();
    let mut batch = Batch::default();
    let mut seq = 1u64;
    let mut reservations = 0usize;
    for r in stored.held {
        let Some(mine) = entries.remove(r.id.as_str()) else {
            continue;
        };
        let key = mine.first().and_then(|e| e.idempotency_key.clone());
        for mut e in mine {
            e.seq = seq;
            seq += 1;
            batch.entries.push(e);
        }
        if let Some(answer) = key.and_then(|k| answers.remove(&k)) {
            batch.idempotency.push(answer);
        }
        batch.reservations.push(r);
        reservations += 1;
        if batch.reservations.len() == per {
            batches.push(std::mem::take(&mut batch));
        }
    }
    if !batch.reservations.is_empty() {
        batches.push(batch);
    }
    assert!(reservations > 0, "{}: no held reservation", from.display());

    let dir = tempfile::tempdir().unwrap();
    let to = arg(&args, "--ledger").map_or_else(|| dir.path().join("ledger.db"), PathBuf::from);
    let ledger = SqliteLedger::open_with(&to, never).unwrap();
    ledger.initialise(&stored.snapshot).unwrap();
    let (wall0, cpu0) = (Instant::now(), cpu());
    let mut slowest = Duration::ZERO;
    for b in &batches {
        let t = Instant::now();
        ledger.commit(b).unwrap();
        slowest = slowest.max(t.elapsed());
    }
    let (wall, used) = (wall0.elapsed(), cpu() - cpu0);
    let n = batches.len() as f64;
    let us = |d: Duration, by: f64| d.as_secs_f64() * 1e6 / by;
    println!(
        "{reservations} reservations ({} entries) in {} commits of up to {per}: \
         {:.0} µs wall and {:.0} µs CPU a commit, {:.1} µs wall and {:.1} µs CPU a reservation, \
         slowest commit {:.2} ms",
        seq - 1,
        batches.len(),
        us(wall, n),
        us(used, n),
        us(wall, reservations as f64),
        us(used, reservations as f64),
        slowest.as_secs_f64() * 1e3
    );
}
