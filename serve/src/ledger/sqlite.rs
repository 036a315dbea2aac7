//! The embedded ledger: one SQLite file, write-ahead log, `synchronous=FULL` so a commit
//! that returned is on disk. One connection writes (the writer thread), one reads.
//!
//! A reservation's decision is stored once: the answer remembered for the request that
//! made it holds it, and the reservation row names that answer (`answer_row`) and keeps
//! the rest. The answers are appended without an index on their key (the keys are unique
//! by the sequencing lock, and a start reads them all): fewer bytes a reservation and no
//! B-tree page dirtied at a random place, so fewer log pages a commit writes and syncs.
//!
//! Now and then ([`SnapshotPolicy`]) the stock of record is written into the ledger as a
//! snapshot (`sqlite/snapshot.rs`), and a start reads the newest one and the entries after
//! it.

mod snapshot;

pub use snapshot::SnapshotPolicy;

use super::{
    Batch, CommitError, Committed, Entry, IdempotencyRecord, Ledger, LedgerError, SnapshotRow,
    Stored,
};
use crate::engine_port::{Reservation, ReservationState};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshot (
    location TEXT NOT NULL, sku TEXT NOT NULL,
    on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL, safety_stock INTEGER NOT NULL,
    PRIMARY KEY (location, sku));
CREATE TABLE IF NOT EXISTS stock_snapshot (
    location TEXT NOT NULL, sku TEXT NOT NULL,
    on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL, safety_stock INTEGER NOT NULL,
    PRIMARY KEY (location, sku)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL,
    location TEXT NOT NULL, sku TEXT NOT NULL,
    on_hand_delta INTEGER NOT NULL, reserved_delta INTEGER NOT NULL,
    reservation TEXT, order_id TEXT, idempotency_key TEXT, ruleset TEXT, reference TEXT,
    placed_at TEXT);
CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY, order_id TEXT NOT NULL, state TEXT NOT NULL,
    expires_at INTEGER NOT NULL, body TEXT NOT NULL, answer_row INTEGER) WITHOUT ROWID;
DROP INDEX IF EXISTS reservations_state;
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL);
";

/// How often the checkpointer copies the write-ahead log into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Pages of write-ahead log past which a commit checkpoints by itself. Under a steady
/// stream of commits the checkpointer never catches the log's end, so the log is only
/// started again from its beginning by such a commit: the log stays under about 200 MB.
/// (At 4,000 pages the commits that checkpoint made reservations per second fall by a
/// quarter.)
const WRITER_CHECKPOINT_PAGES: u32 = 50_000;

/// A ledger in one SQLite file.
pub struct SqliteLedger {
    write: Mutex<Connection>,
    read: Mutex<Connection>,
    /// Set to stop the checkpointer.
    stop: Arc<AtomicBool>,
    checkpointer: Option<std::thread::JoinHandle<()>>,
    /// The checkpointer's connection, which also writes the snapshots.
    background: Arc<Background>,
}

/// What the checkpointer thread shares with the ledger.
struct Background {
    connection: Mutex<Connection>,
    policy: SnapshotPolicy,
    /// Entries committed since the last snapshot.
    since: AtomicU64,
}

impl Background {
    /// Writes a snapshot now; counts the entries it took in as snapshotted.
    fn snapshot(&self) -> Result<Option<u64>, LedgerError> {
        let mut c = lock(&self.connection);
        // Read under the lock: one snapshot at a time takes away what it counted.
        let seen = self.since.load(Ordering::Acquire);
        let at = snapshot::write(&mut c).map_err(err("writing a snapshot"))?;
        // Entries committed meanwhile may be in it too: the next one comes early.
        self.since.fetch_sub(seen, Ordering::AcqRel);
        Ok(at)
    }
}

impl Drop for SqliteLedger {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.checkpointer.take() {
            h.thread().unpark();
            let _ = h.join();
        }
    }
}

/// Copies the log into the database file on its own connection, so commits only append
/// to the log and sync it: a commit never waits for a checkpoint's copy and its sync of
/// the database file. A passive checkpoint takes no lock that commits need.
/// Snapshots are written here too, when due, off the writer's path.
fn checkpoint_loop(background: &Background, stop: &AtomicBool) {
    let mut last = Instant::now();
    while !stop.load(Ordering::Acquire) {
        std::thread::park_timeout(CHECKPOINT_EVERY);
        let checkpoint = lock(&background.connection).query_row(
            "PRAGMA wal_checkpoint(PASSIVE)",
            [],
            |_| Ok(()),
        );
        if let Err(e) = checkpoint {
            tracing::warn!("ledger checkpoint: {e}");
        }
        let since = background.since.load(Ordering::Acquire);
        if background.policy.due(since, last.elapsed()) {
            let started = Instant::now();
            match background.snapshot() {
                Ok(Some(seq)) => tracing::info!(
                    "ledger snapshot at entry {seq} ({since} entries since the last) in {:.0?}",
                    started.elapsed()
                ),
                Ok(None) => {}
                Err(e) => tracing::warn!("{e}"),
            }
            last = Instant::now();
        }
    }
}

impl std::fmt::Debug for SqliteLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteLedger").finish_non_exhaustive()
    }
}

fn err(context: &str) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
    move |e| LedgerError(format!("{context}: {e}"))
}

fn lock(c: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    c.lock().unwrap_or_else(PoisonError::into_inner)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl SqliteLedger {
    /// Opens (or creates) the ledger at `path`, writing snapshots as the environment says
    /// ([`SnapshotPolicy::from_env`]).
    pub fn open(path: &Path) -> Result<SqliteLedger, LedgerError> {
        SqliteLedger::open_with(path, SnapshotPolicy::from_env()?)
    }

    /// Opens (or creates) the ledger at `path`, writing snapshots by `policy`.
    pub fn open_with(path: &Path, policy: SnapshotPolicy) -> Result<SqliteLedger, LedgerError> {
        let shown = path.display().to_string();
        let context = format!("ledger {shown}");
        let write = Connection::open(path).map_err(err(&context))?;
        write
            .execute_batch(
                // A page cache of 64 MiB keeps the tables' hot pages in memory, so a
                // commit writes pages without reading them back first.
                &format!(
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000; \
                     PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_PAGES};"
                ),
            )
            .map_err(err(&context))?;
        write.execute_batch(SCHEMA).map_err(err(&context))?;
        // A ledger made before entries carried `placed_at` gets the column (empty); one made
        // before decisions were stored once gets `answer_row` (empty: its rows hold their
        // decisions).
        for (table, column, kind) in [
            ("entries", "placed_at", "TEXT"),
            ("reservations", "answer_row", "INTEGER"),
        ] {
            let has = write
                .prepare(&format!("SELECT {column} FROM {table} LIMIT 0"))
                .is_ok();
            if !has {
                write
                    .execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind};"))
                    .map_err(err(&context))?;
            }
        }
        let read = Connection::open(path).map_err(err(&context))?;
        read.execute_batch("PRAGMA busy_timeout=5000;")
            .map_err(err(&context))?;
        let checkpoints = Connection::open(path).map_err(err(&context))?;
        checkpoints
            .execute_batch("PRAGMA busy_timeout=5000; PRAGMA synchronous=FULL;")
            .map_err(err(&context))?;
        // A start that replayed a long tail snapshots soon.
        let tail = snapshot::head(&checkpoints)
            .and_then(|h| Ok(h - snapshot::snapshot_seq(&checkpoints)?.unwrap_or(0).min(h)))
            .map_err(err(&context))?;
        let background = Arc::new(Background {
            connection: Mutex::new(checkpoints),
            policy,
            since: AtomicU64::new(tail),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let shared = Arc::clone(&background);
        let checkpointer = std::thread::Builder::new()
            .name("ledger-checkpoint".into())
            .spawn(move || checkpoint_loop(&shared, &stopping))
            .map_err(|e| LedgerError(format!("{context}: cannot start the checkpointer: {e}")))?;
        Ok(SqliteLedger {
            write: Mutex::new(write),
            read: Mutex::new(read),
            stop,
            checkpointer: Some(checkpointer),
            background,
        })
    }
}

/// Selects what [`reservation_from_row`] reads: the row's body and the answer that holds
/// its decision, if it names one.
const RESERVATION_SELECT: &str = "SELECT r.body, i.body FROM reservations r \
     LEFT JOIN idempotency i ON i.rowid = r.answer_row";

/// A stored reservation: its body, with the decision taken from the answer it names when
/// the body has none; `None` for a body this build cannot read.
fn reservation_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Reservation>> {
    let body: String = row.get(0)?;
    let answer: Option<String> = row.get(1)?;
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&body) else {
        return Ok(None);
    };
    if let (Some(obj), Some(answer)) = (value.as_object_mut(), answer) {
        if !obj.contains_key("decision") {
            let decision = serde_json::from_str::<serde_json::Value>(&answer)
                .ok()
                .and_then(|mut a| a.get_mut("decision").map(serde_json::Value::take));
            if let Some(d) = decision {
                obj.insert("decision".into(), d);
            }
        }
    }
    Ok(serde_json::from_value(value).ok())
}

/// The batch's remembered answers that are a reservation as it was made (a `201`, whose
/// body is the reservation with its decision), by reservation id: a reservation's row can
/// name its answer (by place in the batch) instead of holding the decision again.
fn answers_by_reservation(batch: &Batch) -> HashMap<&str, usize> {
    batch
        .idempotency
        .iter()
        .enumerate()
        .filter(|(_, i)| i.status == 201 && i.body.contains("\"decision\":"))
        .filter_map(|(n, i)| {
            // Ids are `R-`, digits and a tag: written without escapes.
            let rest = i.body.strip_prefix("{\"id\":\"")?;
            let (id, after) = rest.split_once('"')?;
            (after.starts_with(',') && !id.contains('\\')).then_some((id, n))
        })
        .collect()
}

/// A reservation without its decision (held by the answer the row names), with the
/// field names of [`Reservation`] so the body reads back as one once the decision is in.
#[derive(serde::Serialize)]
struct Lean<'a> {
    id: &'a sourcing_engine::ReservationId,
    order: &'a str,
    state: ReservationState,
    expires_at: i64,
    placed_at: &'a Option<String>,
    takes: &'a [crate::engine_port::Take],
}

fn lean_body(r: &Reservation) -> Result<String, serde_json::Error> {
    serde_json::to_string(&Lean {
        id: &r.id,
        order: &r.order,
        state: r.state,
        expires_at: r.expires_at,
        placed_at: &r.placed_at,
        takes: &r.takes,
    })
}

fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        seq: to_u64(row.get(0)?),
        at: row.get(1)?,
        kind: row.get(2)?,
        location: row.get(3)?,
        sku: row.get(4)?,
        on_hand_delta: row.get(5)?,
        reserved_delta: row.get(6)?,
        reservation: row.get(7)?,
        order: row.get(8)?,
        idempotency_key: row.get(9)?,
        ruleset: row.get(10)?,
        reference: row.get(11)?,
        placed_at: row.get(12)?,
    })
}

const ENTRY_COLUMNS: &str = "seq, at, kind, location, sku, on_hand_delta, reserved_delta, \
     reservation, order_id, idempotency_key, ruleset, reference, placed_at";

/// What a start (or an audit) reads: the snapshot at `base` (the first one when `None`),
/// the entries after it, the shipments before it, the held reservations and the answers.
fn read_stored(c: &Connection, base: Option<u64>) -> rusqlite::Result<Stored> {
    let mut stored = Stored::default();
    let mut q = c.prepare(&format!(
        "SELECT location, sku, on_hand, reserved, safety_stock FROM {} ORDER BY location, sku",
        if base.is_some() {
            "stock_snapshot"
        } else {
            "snapshot"
        }
    ))?;
    stored.snapshot = q
        .query_map([], |r| {
            Ok(SnapshotRow {
                location: r.get(0)?,
                sku: r.get(1)?,
                on_hand: to_u64(r.get(2)?),
                reserved: to_u64(r.get(3)?),
                safety_stock: to_u64(r.get(4)?),
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut q = c.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM entries WHERE seq > ?1 ORDER BY seq"
    ))?;
    stored.snapshot_seq = base.unwrap_or(0);
    stored.entries = q
        .query_map(params![to_i64(stored.snapshot_seq)], entry_from_row)?
        .collect::<Result<_, _>>()?;
    if base.is_some() {
        let mut q = c.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries \
                     WHERE seq <= ?1 AND kind IN ('route', 'confirm') ORDER BY seq"
        ))?;
        stored.shipped = q
            .query_map(params![to_i64(stored.snapshot_seq)], entry_from_row)?
            .collect::<Result<_, _>>()?;
    }
    let mut q = c.prepare(&format!(
        "{RESERVATION_SELECT} WHERE r.state = 'held' ORDER BY r.id"
    ))?;
    let held: Vec<Option<Reservation>> = q
        .query_map([], reservation_from_row)?
        .collect::<Result<_, _>>()?;
    stored.held = held.into_iter().flatten().collect();
    stored.last_reservation = c
        .query_row(
            &format!("{RESERVATION_SELECT} ORDER BY r.id DESC LIMIT 1"),
            [],
            reservation_from_row,
        )
        .optional()?
        .flatten();
    let mut q = c.prepare("SELECT key, fingerprint, status, body FROM idempotency")?;
    stored.idempotency = q
        .query_map([], |r| {
            Ok(IdempotencyRecord {
                key: r.get(0)?,
                fingerprint: r.get(1)?,
                status: u16::try_from(r.get::<_, i64>(2)?).unwrap_or(200),
                body: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(stored)
}

impl Ledger for SqliteLedger {
    fn initialised(&self) -> Result<bool, LedgerError> {
        let c = lock(&self.read);
        let v: Option<String> = c
            .query_row(
                "SELECT value FROM meta WHERE key = 'initialised'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err("reading the ledger"))?;
        Ok(v.is_some())
    }

    fn initialise(&self, snapshot: &[SnapshotRow]) -> Result<(), LedgerError> {
        let mut c = lock(&self.write);
        let tx = c.transaction().map_err(err("writing the snapshot"))?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT OR REPLACE INTO snapshot (location, sku, on_hand, reserved, safety_stock) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err("writing the snapshot"))?;
            for r in snapshot {
                insert
                    .execute(params![
                        r.location,
                        r.sku,
                        to_i64(r.on_hand),
                        to_i64(r.reserved),
                        to_i64(r.safety_stock)
                    ])
                    .map_err(err("writing the snapshot"))?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('initialised', ?1)",
                params![super::now_rfc3339()],
            )
            .map_err(err("writing the snapshot"))?;
        }
        tx.commit().map_err(err("writing the snapshot"))
    }

    fn load(&self) -> Result<Stored, LedgerError> {
        let c = lock(&self.read);
        read_stored(&c, None).map_err(err("reading the ledger"))
    }

    fn load_latest(&self) -> Result<Stored, LedgerError> {
        let c = lock(&self.read);
        let e = err("reading the ledger");
        // One read transaction: the snapshot and the entries after it agree.
        let tx = c.unchecked_transaction().map_err(&e)?;
        let base = snapshot::snapshot_seq(&tx).map_err(&e)?;
        let stored = read_stored(&tx, base).map_err(&e)?;
        tx.finish().map_err(&e)?;
        Ok(stored)
    }

    fn snapshot(&self) -> Result<Option<u64>, LedgerError> {
        self.background.snapshot()
    }

    fn commit(&self, batch: &Batch) -> Result<Committed, CommitError> {
        let first_seq = batch.entries.first().map_or(0, |x| x.seq);
        let mut c = lock(&self.write);
        let e = err("committing to the ledger");
        let tx = c.transaction().map_err(&e)?;
        {
            let mut insert = tx
                .prepare_cached(&format!(
                    "INSERT INTO entries ({ENTRY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                ))
                .map_err(&e)?;
            for x in &batch.entries {
                insert
                    .execute(params![
                        to_i64(x.seq),
                        x.at,
                        x.kind,
                        x.location,
                        x.sku,
                        x.on_hand_delta,
                        x.reserved_delta,
                        x.reservation,
                        x.order,
                        x.idempotency_key,
                        x.ruleset,
                        x.reference,
                        x.placed_at
                    ])
                    .map_err(&e)?;
            }
            let mut remember = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO idempotency (key, fingerprint, status, body) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(&e)?;
            let mut rows = Vec::with_capacity(batch.idempotency.len());
            for i in &batch.idempotency {
                remember
                    .execute(params![i.key, i.fingerprint, i64::from(i.status), i.body])
                    .map_err(&e)?;
                rows.push(tx.last_insert_rowid());
            }
            // A new reservation names its answer; a settled one whose row names an answer
            // changes in place (the answer is the same); any other is written whole.
            let mut lean = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO reservations (id, order_id, state, expires_at, body, answer_row) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(&e)?;
            let answers = answers_by_reservation(batch);
            for r in &batch.reservations {
                let fail =
                    |x: serde_json::Error| LedgerError(format!("committing to the ledger: {x}"));
                let answer = answers.get(r.id.as_str()).and_then(|&i| rows.get(i));
                let (body, answer_row) = match answer {
                    Some(&row) => (lean_body(r).map_err(fail)?, Some(row)),
                    None => {
                        let changed = tx
                            .prepare_cached(
                                "UPDATE reservations SET state = ?2, expires_at = ?3, body = ?4 \
                                 WHERE id = ?1 AND answer_row IS NOT NULL",
                            )
                            .map_err(&e)?
                            .execute(params![
                                r.id.as_str(),
                                r.state.to_string(),
                                r.expires_at,
                                lean_body(r).map_err(fail)?
                            ])
                            .map_err(&e)?;
                        if changed > 0 {
                            continue;
                        }
                        (serde_json::to_string(r).map_err(fail)?, None)
                    }
                };
                lean.execute(params![
                    r.id.as_str(),
                    r.order,
                    r.state.to_string(),
                    r.expires_at,
                    body,
                    answer_row
                ])
                .map_err(&e)?;
            }
        }
        tx.commit().map_err(&e)?;
        let since = self
            .background
            .since
            .fetch_add(batch.entries.len() as u64, Ordering::AcqRel)
            + batch.entries.len() as u64;
        if self.background.policy.entries > 0 && since >= self.background.policy.entries {
            if let Some(h) = &self.checkpointer {
                h.thread().unpark();
            }
        }
        Ok(Committed { first_seq })
    }

    fn entries(&self, after: u64, limit: usize) -> Result<Vec<Entry>, LedgerError> {
        let c = lock(&self.read);
        let e = err("reading the ledger");
        let mut q = c
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM entries WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))
            .map_err(&e)?;
        let rows = q
            .query_map(
                params![to_i64(after), i64::try_from(limit).unwrap_or(i64::MAX)],
                entry_from_row,
            )
            .map_err(&e)?
            .collect::<Result<_, _>>()
            .map_err(&e)?;
        Ok(rows)
    }

    fn reservation(&self, id: &str) -> Result<Option<Reservation>, LedgerError> {
        let c = lock(&self.read);
        let e = err("reading the ledger");
        let found = c
            .query_row(
                &format!("{RESERVATION_SELECT} WHERE r.id = ?1"),
                params![id],
                reservation_from_row,
            )
            .optional()
            .map_err(&e)?;
        Ok(found.flatten())
    }
}
