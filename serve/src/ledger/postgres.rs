//! The shared ledger: one PostgreSQL database behind every instance started with the same
//! URL. Each instance decides in memory; a batch is committed by one transaction of
//! conditional updates over the pairs it touched, taken in (location, SKU) order so that
//! concurrent commits cannot deadlock, each succeeding only if the units are still there.
//! Any failed condition rolls the whole batch back ([`CommitError::Conflict`]).
//!
//! Entries are numbered at commit time from one counter row (`ledger_head`), locked after
//! the stock rows: numbers have no gaps and an entry is visible only once every smaller
//! number is, so following by sequence never skips one. `NOTIFY` only wakes followers up.

use super::{
    Batch, CommitError, Committed, Conflict, Entry, IdempotencyRecord, Ledger, LedgerError,
    Refreshed, SnapshotRow, Stored,
};
use crate::engine_port::{Reservation, ReservationState};
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, IsolationLevel, NoTls, Row, Transaction};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The channel commits are announced on.
const CHANNEL: &str = "sourcing_ledger";

/// Key of the advisory lock that serialises migrations and the first snapshot.
const SETUP_LOCK: i64 = 0x736f_7572_6369_6e67;

/// The schema, one migration per version, applied in order on the first start of a
/// version that does not have them (`schema_version`).
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE snapshot (
    location TEXT NOT NULL, sku TEXT NOT NULL,
    on_hand BIGINT NOT NULL, reserved BIGINT NOT NULL, safety_stock BIGINT NOT NULL,
    PRIMARY KEY (location, sku));
CREATE TABLE stock (
    location TEXT NOT NULL, sku TEXT NOT NULL,
    on_hand BIGINT NOT NULL, reserved BIGINT NOT NULL, safety_stock BIGINT NOT NULL,
    PRIMARY KEY (location, sku));
CREATE TABLE ledger_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL);
INSERT INTO ledger_head (id, seq) VALUES (1, 0);
CREATE TABLE entries (
    seq BIGINT PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL,
    location TEXT NOT NULL, sku TEXT NOT NULL,
    on_hand_delta BIGINT NOT NULL, reserved_delta BIGINT NOT NULL,
    reservation TEXT, order_id TEXT, idempotency_key TEXT, ruleset TEXT, reference TEXT);
CREATE TABLE reservations (
    id TEXT PRIMARY KEY, order_id TEXT NOT NULL, state TEXT NOT NULL,
    expires_at BIGINT NOT NULL, body TEXT NOT NULL);
CREATE INDEX reservations_state ON reservations (state);
CREATE SEQUENCE instance_numbers;
CREATE TABLE idempotency (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL);
",
    "
ALTER TABLE entries ADD COLUMN placed_at TEXT;
",
];

const ENTRY_COLUMNS: &str = "seq, at, kind, location, sku, on_hand_delta, reserved_delta, \
     reservation, order_id, idempotency_key, ruleset, reference, placed_at";

const RESERVATION_COLUMNS: &str = "id, order_id, state, expires_at, body";

/// A connection opened again when the server closed it.
struct Conn {
    url: String,
    client: Mutex<Option<Client>>,
}

impl Conn {
    fn new(url: &str, client: Option<Client>) -> Conn {
        Conn {
            url: url.to_string(),
            client: Mutex::new(client),
        }
    }

    fn get(&self) -> Result<ClientGuard<'_>, LedgerError> {
        let mut guard = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(connect(&self.url)?);
        }
        Ok(ClientGuard(guard))
    }
}

struct ClientGuard<'a>(MutexGuard<'a, Option<Client>>);

impl ClientGuard<'_> {
    fn client(&mut self) -> Result<&mut Client, LedgerError> {
        self.0
            .as_mut()
            .ok_or_else(|| LedgerError("no connection to the ledger".into()))
    }
}

/// The URL with its password masked, for messages.
pub fn shown(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn connect(url: &str) -> Result<Client, LedgerError> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| LedgerError(format!("ledger {}: {e}", shown(url))))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config
        .connect(NoTls)
        .map_err(|e| LedgerError(format!("ledger {}: cannot connect: {e}", shown(url))))
}

fn err(context: &'static str) -> impl Fn(postgres::Error) -> LedgerError {
    move |e| LedgerError(format!("{context}: {}", describe(&e)))
}

/// The server's message when there is one (the driver's `db error` alone says little).
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// A commit that lost a race the database detected: decided again like a conflict.
fn lost_race(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::UNIQUE_VIOLATION
    )
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A ledger in a PostgreSQL database, shared by every instance given the same URL.
pub struct PgLedger {
    /// This start's number, put in the reservation ids it gives.
    tag: String,
    url: String,
    write: Conn,
    read: Conn,
    follow: Conn,
    listen: Conn,
    /// Seq ranges this instance committed and has not followed past yet: skipped when
    /// following, as memory made them already.
    own: Mutex<BTreeSet<(u64, u64)>>,
}

impl std::fmt::Debug for PgLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLedger")
            .field("url", &shown(&self.url))
            .finish_non_exhaustive()
    }
}

/// True for a `--ledger` value naming a PostgreSQL database.
pub fn is_url(ledger: &str) -> bool {
    ledger.starts_with("postgres://") || ledger.starts_with("postgresql://")
}

impl PgLedger {
    /// Connects and brings the schema to the current version (creating it on the first
    /// start); several instances starting at once take turns.
    pub fn open(url: &str) -> Result<PgLedger, LedgerError> {
        let mut client = connect(url)?;
        migrate(&mut client)?;
        // Every start takes a number no other start took: the tag of its reservation ids.
        let number: i64 = client
            .query_one("SELECT nextval('instance_numbers')", &[])
            .map_err(err("numbering this instance"))?
            .get(0);
        Ok(PgLedger {
            tag: number.to_string(),
            url: url.to_string(),
            write: Conn::new(url, Some(client)),
            read: Conn::new(url, None),
            follow: Conn::new(url, None),
            listen: Conn::new(url, None),
            own: Mutex::new(BTreeSet::new()),
        })
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<i32, LedgerError> {
        let mut c = self.read.get()?;
        let row = c
            .client()?
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
            .map_err(err("reading the schema version"))?;
        Ok(row.get(0))
    }

    fn own(&self) -> MutexGuard<'_, BTreeSet<(u64, u64)>> {
        self.own.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_own(&self, seq: u64) -> bool {
        self.own()
            .range(..=(seq, u64::MAX))
            .next_back()
            .is_some_and(|&(first, last)| first <= seq && seq <= last)
    }
}

/// Applies the migrations the database lacks, under an advisory lock.
fn migrate(client: &mut Client) -> Result<(), LedgerError> {
    let e = err("creating the ledger's schema");
    let mut tx = client.transaction().map_err(&e)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SETUP_LOCK])
        .map_err(&e)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .map_err(&e)?;
    let at: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .map_err(&e)?
        .get(0);
    let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    if at > known {
        return Err(LedgerError(format!(
            "the ledger's schema is version {at}; this build knows up to {known}: use a newer build"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(at.max(0) as usize) {
        tx.batch_execute(sql).map_err(&e)?;
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&version],
        )
        .map_err(&e)?;
    }
    tx.commit().map_err(&e)
}

/// A stored reservation: its JSON as made, in the state the `state` column has now
/// (settling updates the column only); `None` for a body this build cannot read.
fn reservation_from_row(row: &Row) -> Option<Reservation> {
    let state: String = row.get(2);
    let body: String = row.get(4);
    let mut r: Reservation = serde_json::from_str(&body).ok()?;
    r.state = serde_json::from_value(serde_json::Value::from(state)).ok()?;
    Some(r)
}

fn entry_from_row(row: &Row) -> Entry {
    Entry {
        seq: to_u64(row.get(0)),
        at: row.get(1),
        kind: row.get(2),
        location: row.get(3),
        sku: row.get(4),
        on_hand_delta: row.get(5),
        reserved_delta: row.get(6),
        reservation: row.get(7),
        order: row.get(8),
        idempotency_key: row.get(9),
        ruleset: row.get(10),
        reference: row.get(11),
        placed_at: row.get(12),
    }
}

fn snapshot_row(row: &Row) -> SnapshotRow {
    SnapshotRow {
        location: row.get(0),
        sku: row.get(1),
        on_hand: to_u64(row.get(2)),
        reserved: to_u64(row.get(3)),
        safety_stock: to_u64(row.get(4)),
    }
}

/// What a batch does to one pair: the sum of its entries' changes and the conditions,
/// which hold after every entry of the batch, not only after the last.
#[derive(Debug, Default)]
struct PairChange {
    on_hand: i64,
    reserved: i64,
    /// A route or reservation takes units here: the ATP must stay ≥ 0 after each.
    guard: bool,
    /// Least on hand, reserved and ATP the pair needs before the batch.
    need_on_hand: i64,
    need_reserved: i64,
    need_atp: i64,
    /// The on hand the pair must have before the batch (a count's `set`).
    expect: Option<i64>,
}

/// The conditional change of every pair a batch touches, in (location, SKU) order.
fn pair_changes(batch: &Batch) -> BTreeMap<(String, String), PairChange> {
    let expected: BTreeMap<u64, u64> = batch.expect_on_hand.iter().copied().collect();
    let mut pairs: BTreeMap<(String, String), PairChange> = BTreeMap::new();
    for e in &batch.entries {
        let p = pairs
            .entry((e.location.clone(), e.sku.clone()))
            .or_default();
        if let Some(&before) = expected.get(&e.seq) {
            // The on hand before this entry, less what earlier entries of the batch did.
            p.expect = Some(to_i64(before) - p.on_hand);
        }
        p.on_hand += e.on_hand_delta;
        p.reserved += e.reserved_delta;
        p.need_on_hand = p.need_on_hand.max(-p.on_hand);
        p.need_reserved = p.need_reserved.max(-p.reserved);
        if matches!(e.kind.as_str(), "route" | "reserve") && e.on_hand_delta - e.reserved_delta < 0
        {
            p.guard = true;
            p.need_atp = p.need_atp.max(p.reserved - p.on_hand);
        }
    }
    pairs
}

impl PgLedger {
    /// The commit's statements; `Ok(Err(conflict))` when a condition failed (the caller
    /// rolls back).
    fn write_batch(
        &self,
        tx: &mut Transaction<'_>,
        batch: &Batch,
    ) -> Result<Result<(u64, u64), Conflict>, postgres::Error> {
        let mut conflict = Conflict::default();
        let update = tx.prepare(
            "UPDATE stock SET on_hand = on_hand + $3, reserved = reserved + $4
             WHERE location = $1 AND sku = $2
               AND on_hand >= $7 AND reserved >= $8
               AND (NOT $5 OR on_hand - reserved - safety_stock >= $9)
               AND ($6::BIGINT IS NULL OR on_hand = $6)",
        )?;
        for ((location, sku), p) in pair_changes(batch) {
            let n = tx.execute(
                &update,
                &[
                    &location,
                    &sku,
                    &p.on_hand,
                    &p.reserved,
                    &p.guard,
                    &p.expect,
                    &p.need_on_hand,
                    &p.need_reserved,
                    &p.need_atp,
                ],
            )?;
            if n == 0 {
                conflict.slots.push((location, sku));
            }
        }
        if !conflict.slots.is_empty() {
            return Ok(Err(conflict));
        }
        // Locked last, after every stock row: commits take turns only for the numbering.
        let count = i64::try_from(batch.entries.len()).unwrap_or(i64::MAX);
        let last: i64 = tx
            .query_one(
                "UPDATE ledger_head SET seq = seq + $1 WHERE id = 1 RETURNING seq",
                &[&count],
            )?
            .get(0);
        let last = to_u64(last);
        let first = last + 1 - batch.entries.len() as u64;
        let numbers = super::renumbered(batch, first);
        let insert_reservation = tx.prepare(&format!(
            "INSERT INTO reservations ({RESERVATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO NOTHING"
        ))?;
        let settle =
            tx.prepare("UPDATE reservations SET state = $2 WHERE id = $1 AND state = $3")?;
        for r in &batch.reservations {
            let id = r.id.as_str();
            let n = if r.state == ReservationState::Held {
                // Plain data with string keys: serialising it cannot fail.
                let body = serde_json::to_string(r).unwrap_or_default();
                tx.execute(
                    &insert_reservation,
                    &[&id, &r.order, &r.state.to_string(), &r.expires_at, &body],
                )?
            } else {
                // Exactly one instance moves a reservation out of `held`.
                tx.execute(
                    &settle,
                    &[
                        &id,
                        &r.state.to_string(),
                        &ReservationState::Held.to_string(),
                    ],
                )?
            };
            if n == 0 {
                conflict.reservations.push(id.to_string());
            }
        }
        let remember = tx.prepare(
            "INSERT INTO idempotency (key, fingerprint, status, body) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key) DO NOTHING",
        )?;
        for i in &batch.idempotency {
            let body = super::renumber_answer(&i.body, &numbers);
            let n = tx.execute(
                &remember,
                &[&i.key, &i.fingerprint, &i32::from(i.status), &body],
            )?;
            if n == 0 {
                conflict.keys.push(i.key.clone());
            }
        }
        if conflict != Conflict::default() {
            return Ok(Err(conflict));
        }
        if !batch.entries.is_empty() {
            let mut cols = EntryColumns::default();
            for (e, seq) in batch.entries.iter().zip(first..) {
                cols.push(e, seq);
            }
            tx.execute(
                &format!(
                    "INSERT INTO entries ({ENTRY_COLUMNS})
                     SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[],
                        $5::TEXT[], $6::BIGINT[], $7::BIGINT[], $8::TEXT[], $9::TEXT[],
                        $10::TEXT[], $11::TEXT[], $12::TEXT[], $13::TEXT[])"
                ),
                &[
                    &cols.seq,
                    &cols.at,
                    &cols.kind,
                    &cols.location,
                    &cols.sku,
                    &cols.on_hand_delta,
                    &cols.reserved_delta,
                    &cols.reservation,
                    &cols.order,
                    &cols.key,
                    &cols.ruleset,
                    &cols.reference,
                    &cols.placed_at,
                ],
            )?;
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &last.to_string()])?;
        }
        Ok(Ok((first, last)))
    }
}

/// A batch's entries as one array per column, inserted in one statement.
#[derive(Default)]
struct EntryColumns {
    seq: Vec<i64>,
    at: Vec<String>,
    kind: Vec<String>,
    location: Vec<String>,
    sku: Vec<String>,
    on_hand_delta: Vec<i64>,
    reserved_delta: Vec<i64>,
    reservation: Vec<Option<String>>,
    order: Vec<Option<String>>,
    key: Vec<Option<String>>,
    ruleset: Vec<Option<String>>,
    reference: Vec<Option<String>>,
    placed_at: Vec<Option<String>>,
}

impl EntryColumns {
    fn push(&mut self, e: &Entry, seq: u64) {
        self.seq.push(to_i64(seq));
        self.at.push(e.at.clone());
        self.kind.push(e.kind.clone());
        self.location.push(e.location.clone());
        self.sku.push(e.sku.clone());
        self.on_hand_delta.push(e.on_hand_delta);
        self.reserved_delta.push(e.reserved_delta);
        self.reservation.push(e.reservation.clone());
        self.order.push(e.order.clone());
        self.key.push(e.idempotency_key.clone());
        self.ruleset.push(e.ruleset.clone());
        self.reference.push(e.reference.clone());
        self.placed_at.push(e.placed_at.clone());
    }
}

impl Ledger for PgLedger {
    fn initialised(&self) -> Result<bool, LedgerError> {
        off_runtime(|| self.do_initialised())
    }

    fn initialise(&self, snapshot: &[SnapshotRow]) -> Result<(), LedgerError> {
        off_runtime(|| self.do_initialise(snapshot))
    }

    fn load(&self) -> Result<Stored, LedgerError> {
        off_runtime(|| self.do_load())
    }

    fn commit(&self, batch: &Batch) -> Result<Committed, CommitError> {
        off_runtime(|| self.do_commit(batch))
    }

    fn entries(&self, after: u64, limit: usize) -> Result<Vec<Entry>, LedgerError> {
        off_runtime(|| self.do_entries(after, limit))
    }

    fn reservation(&self, id: &str) -> Result<Option<Reservation>, LedgerError> {
        off_runtime(|| self.do_reservation(id))
    }

    fn shared(&self) -> bool {
        true
    }

    fn reservation_tag(&self) -> String {
        self.tag.clone()
    }

    fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, LedgerError> {
        off_runtime(|| self.do_idempotency(key))
    }

    fn refresh(
        &self,
        after: u64,
        slots: &[(String, String)],
        limit: usize,
    ) -> Result<Refreshed, LedgerError> {
        off_runtime(|| self.do_refresh(after, slots, limit))
    }

    fn wait_for_news(&self, timeout: Duration) {
        off_runtime(|| self.do_wait_for_news(timeout));
    }

    fn stock(&self) -> Result<Option<super::StockTable>, LedgerError> {
        off_runtime(|| self.do_stock())
    }
}

/// Runs `f` on a thread of its own when called from inside an async runtime: the
/// `postgres` client blocks on a runtime of its own, which cannot start inside another.
/// The writer and follower threads call it directly.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Closing a connection blocks too: done off any runtime.
        let client = self
            .client
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(client) = client {
            off_runtime(move || drop(client));
        }
    }
}

/// The ledger's work, on a thread outside any async runtime (see [`off_runtime`]).
impl PgLedger {
    fn do_initialised(&self) -> Result<bool, LedgerError> {
        let mut c = self.read.get()?;
        let row = c
            .client()?
            .query_opt("SELECT value FROM meta WHERE key = 'initialised'", &[])
            .map_err(err("reading the ledger"))?;
        Ok(row.is_some())
    }

    fn do_initialise(&self, snapshot: &[SnapshotRow]) -> Result<(), LedgerError> {
        let e = err("writing the snapshot");
        let mut c = self.write.get()?;
        let mut tx = c.client()?.transaction().map_err(&e)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SETUP_LOCK])
            .map_err(&e)?;
        // Another instance starting at the same moment may have written it first.
        if tx
            .query_opt("SELECT value FROM meta WHERE key = 'initialised'", &[])
            .map_err(&e)?
            .is_some()
        {
            return tx.commit().map_err(&e);
        }
        for table in ["snapshot", "stock"] {
            let insert = tx
                .prepare(&format!(
                    "INSERT INTO {table} (location, sku, on_hand, reserved, safety_stock)
                     SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::BIGINT[], $5::BIGINT[])"
                ))
                .map_err(&e)?;
            for chunk in snapshot.chunks(10_000) {
                let location: Vec<&str> = chunk.iter().map(|r| r.location.as_str()).collect();
                let sku: Vec<&str> = chunk.iter().map(|r| r.sku.as_str()).collect();
                let on_hand: Vec<i64> = chunk.iter().map(|r| to_i64(r.on_hand)).collect();
                let reserved: Vec<i64> = chunk.iter().map(|r| to_i64(r.reserved)).collect();
                let safety: Vec<i64> = chunk.iter().map(|r| to_i64(r.safety_stock)).collect();
                tx.execute(&insert, &[&location, &sku, &on_hand, &reserved, &safety])
                    .map_err(&e)?;
            }
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('initialised', $1)",
            &[&super::now_rfc3339()],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)
    }

    fn do_load(&self) -> Result<Stored, LedgerError> {
        let e = err("reading the ledger");
        let mut c = self.read.get()?;
        // One snapshot of the database for all four reads.
        let mut tx = c
            .client()?
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(&e)?;
        let snapshot = tx
            .query(
                "SELECT location, sku, on_hand, reserved, safety_stock FROM snapshot ORDER BY location, sku",
                &[],
            )
            .map_err(&e)?
            .iter()
            .map(snapshot_row)
            .collect();
        let mut stored = Stored {
            snapshot,
            ..Stored::default()
        };
        stored.entries = tx
            .query(
                &format!("SELECT {ENTRY_COLUMNS} FROM entries ORDER BY seq"),
                &[],
            )
            .map_err(&e)?
            .iter()
            .map(entry_from_row)
            .collect();
        stored.held = tx
            .query(
                &format!(
                    "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE state = 'held' ORDER BY id"
                ),
                &[],
            )
            .map_err(&e)?
            .iter()
            .filter_map(reservation_from_row)
            .collect();
        stored.idempotency = tx
            .query(
                "SELECT key, fingerprint, status, body FROM idempotency",
                &[],
            )
            .map_err(&e)?
            .iter()
            .map(|r| IdempotencyRecord {
                key: r.get(0),
                fingerprint: r.get(1),
                status: u16::try_from(r.get::<_, i32>(2)).unwrap_or(200),
                body: r.get(3),
            })
            .collect();
        tx.commit().map_err(&e)?;
        Ok(stored)
    }

    fn do_commit(&self, batch: &Batch) -> Result<Committed, CommitError> {
        let e = err("committing to the ledger");
        let mut c = self.write.get()?;
        let mut tx = c.client()?.transaction().map_err(&e)?;
        let written = match self.write_batch(&mut tx, batch) {
            Ok(w) => w,
            Err(x) if lost_race(&x) => {
                let _ = tx.rollback();
                return Err(CommitError::Conflict(Conflict::default()));
            }
            Err(x) => return Err(CommitError::Failed(e(x))),
        };
        let (first, last) = match written {
            Ok(range) => range,
            Err(conflict) => {
                let _ = tx.rollback();
                return Err(CommitError::Conflict(conflict));
            }
        };
        // Known as ours before it is visible, so following never applies it twice; if
        // the commit's outcome is unknown it is forgotten and followed like any other.
        let ranged = first <= last;
        if ranged {
            self.own().insert((first, last));
        }
        match tx.commit() {
            Ok(()) => Ok(Committed { first_seq: first }),
            Err(x) => {
                if ranged {
                    self.own().remove(&(first, last));
                }
                if lost_race(&x) {
                    Err(CommitError::Conflict(Conflict::default()))
                } else {
                    Err(CommitError::Failed(e(x)))
                }
            }
        }
    }

    fn do_entries(&self, after: u64, limit: usize) -> Result<Vec<Entry>, LedgerError> {
        let e = err("reading the ledger");
        let mut c = self.read.get()?;
        let rows = c
            .client()?
            .query(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM entries WHERE seq > $1 ORDER BY seq LIMIT $2"
                ),
                &[&to_i64(after), &i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .map_err(&e)?;
        Ok(rows.iter().map(entry_from_row).collect())
    }

    fn do_reservation(&self, id: &str) -> Result<Option<Reservation>, LedgerError> {
        let e = err("reading the ledger");
        let mut c = self.read.get()?;
        let row = c
            .client()?
            .query_opt(
                &format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = $1"),
                &[&id],
            )
            .map_err(&e)?;
        Ok(row.as_ref().and_then(reservation_from_row))
    }

    fn do_idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, LedgerError> {
        let e = err("reading the ledger");
        let mut c = self.read.get()?;
        let row = c
            .client()?
            .query_opt(
                "SELECT key, fingerprint, status, body FROM idempotency WHERE key = $1",
                &[&key],
            )
            .map_err(&e)?;
        Ok(row.map(|r| IdempotencyRecord {
            key: r.get(0),
            fingerprint: r.get(1),
            status: u16::try_from(r.get::<_, i32>(2)).unwrap_or(200),
            body: r.get(3),
        }))
    }

    fn do_refresh(
        &self,
        after: u64,
        slots: &[(String, String)],
        limit: usize,
    ) -> Result<Refreshed, LedgerError> {
        let e = err("following the ledger");
        let mut c = self.follow.get()?;
        let mut tx = c
            .client()?
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(&e)?;
        let head = to_u64(
            tx.query_one("SELECT seq FROM ledger_head WHERE id = 1", &[])
                .map_err(&e)?
                .get(0),
        );
        let rows = tx
            .query(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM entries WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
                ),
                &[
                    &to_i64(after),
                    &to_i64(head),
                    &i64::try_from(limit).unwrap_or(i64::MAX),
                ],
            )
            .map_err(&e)?;
        let all: Vec<Entry> = rows.iter().map(entry_from_row).collect();
        // Read up to the head only when every entry up to it came back.
        let complete = all.len() < limit || all.last().is_some_and(|x| x.seq == head);
        let reached = if complete {
            head
        } else {
            all.last().map_or(after, |x| x.seq)
        };
        let mut out = Refreshed {
            head: reached,
            complete,
            ..Refreshed::default()
        };
        if complete && !slots.is_empty() {
            let locations: Vec<&str> = slots.iter().map(|s| s.0.as_str()).collect();
            let skus: Vec<&str> = slots.iter().map(|s| s.1.as_str()).collect();
            out.slots = tx
                .query(
                    "SELECT s.location, s.sku, s.on_hand, s.reserved, s.safety_stock
                     FROM stock s JOIN UNNEST($1::TEXT[], $2::TEXT[]) AS w(location, sku)
                       ON s.location = w.location AND s.sku = w.sku
                     ORDER BY s.location, s.sku",
                    &[&locations, &skus],
                )
                .map_err(&e)?
                .iter()
                .map(snapshot_row)
                .collect();
        }
        tx.commit().map_err(&e)?;
        out.entries = all.into_iter().filter(|x| !self.is_own(x.seq)).collect();
        // Ranges followed past are not needed any more.
        self.own().retain(|&(_, last)| last > reached);
        Ok(out)
    }

    fn do_wait_for_news(&self, timeout: Duration) {
        let Ok(mut c) = self.listen.get() else {
            std::thread::sleep(timeout);
            return;
        };
        let Ok(client) = c.client() else {
            std::thread::sleep(timeout);
            return;
        };
        // LISTEN again on a new connection; harmless on the same one.
        if client.batch_execute(&format!("LISTEN {CHANNEL}")).is_err() {
            std::thread::sleep(timeout);
            return;
        }
        let mut notifications = client.notifications();
        let mut waiting = notifications.timeout_iter(timeout);
        let _ = waiting.next();
        drop(waiting);
        // Drain the rest: one refresh reads them all.
        let mut rest = notifications.iter();
        while let Ok(Some(_)) = rest.next() {}
    }

    fn do_stock(&self) -> Result<Option<super::StockTable>, LedgerError> {
        let e = err("reading the ledger");
        let mut c = self.read.get()?;
        let rows = c
            .client()?
            .query("SELECT location, sku, on_hand, reserved FROM stock", &[])
            .map_err(&e)?;
        Ok(Some(
            rows.iter()
                .map(|r| ((r.get(0), r.get(1)), (to_u64(r.get(2)), to_u64(r.get(3)))))
                .collect(),
        ))
    }
}

/// Against a real server: `SOURCING_PG_URL` names a database where tests may create
/// databases (scripts/pg-multi.sh starts a throwaway cluster and sets it). Without it
/// each test says it was skipped.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod pg_tests {
    use super::*;
    use crate::ledger::{audit, Batch};

    /// A new empty database on the test server, or `None` (skipped, loudly).
    fn fresh(name: &str) -> Option<String> {
        let Ok(admin) = std::env::var("SOURCING_PG_URL") else {
            eprintln!("SKIPPED {name}: SOURCING_PG_URL is not set (scripts/pg-multi.sh sets it)");
            return None;
        };
        let db = format!(
            "t_{name}_{}",
            crate::engine_port::hex(&crate::engine_port::random_bytes::<4>())
        );
        let mut c = connect(&admin).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(format!("{base}/{db}"))
    }

    fn row(location: &str, sku: &str, on_hand: u64) -> SnapshotRow {
        SnapshotRow {
            location: location.into(),
            sku: sku.into(),
            on_hand,
            reserved: 0,
            safety_stock: 0,
        }
    }

    fn entry(seq: u64, kind: &str, pair: (&str, &str), on_hand: i64, reserved: i64) -> Entry {
        Entry {
            seq,
            at: "2026-12-07T00:00:00.000Z".into(),
            kind: kind.into(),
            location: pair.0.into(),
            sku: pair.1.into(),
            on_hand_delta: on_hand,
            reserved_delta: reserved,
            reservation: None,
            order: None,
            idempotency_key: None,
            ruleset: None,
            reference: None,
            placed_at: None,
        }
    }

    fn reservation(id: &str, state: ReservationState, qty: u64) -> Reservation {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "order": format!("O-{id}"),
            "state": state,
            "expires_at": 0,
            "placed_at": null,
            "decision": {"order": format!("O-{id}"), "status": "sourced", "shipments": [],
                         "unsourced": [], "total_cost": 0.0, "rule": "min-cost",
                         "ruleset": "0".repeat(64)},
            "takes": [{"location": 0, "location_id": "L1", "sku": "B", "qty": qty}],
        }))
        .unwrap()
    }

    /// Two instances on one new database holding L1/A: 5 and L1/B: 3.
    fn two(name: &str) -> Option<(PgLedger, PgLedger)> {
        let url = fresh(name)?;
        let one = PgLedger::open(&url).unwrap();
        let two = PgLedger::open(&url).unwrap();
        assert!(!one.initialised().unwrap());
        one.initialise(&[row("L1", "A", 5), row("L1", "B", 3)])
            .unwrap();
        // A second instance starting at the same time finds it written and adds nothing.
        two.initialise(&[row("L1", "A", 99)]).unwrap();
        assert!(two.initialised().unwrap());
        Some((one, two))
    }

    fn stock_of(l: &PgLedger) -> BTreeMap<(String, String), (u64, u64)> {
        l.stock().unwrap().unwrap()
    }

    fn clean(l: &PgLedger) -> Vec<String> {
        audit(&l.load().unwrap(), Some(&stock_of(l)))
    }

    #[test]
    fn schema_is_versioned_and_migrated_once() {
        let Some(url) = fresh("schema") else { return };
        let a = PgLedger::open(&url).unwrap();
        let b = PgLedger::open(&url).unwrap();
        assert_eq!(a.schema_version().unwrap(), MIGRATIONS.len() as i32);
        assert_eq!(b.schema_version().unwrap(), MIGRATIONS.len() as i32);
        let mut c = connect(&url).unwrap();
        let rows: i64 = c
            .query_one("SELECT count(*) FROM schema_version", &[])
            .unwrap()
            .get(0);
        assert_eq!(rows, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_take_beyond_stock_conflicts_and_rolls_back_the_whole_batch() {
        let Some((one, two)) = two("conflict") else {
            return;
        };
        // Instance one takes 4 of A's 5.
        let first = Batch {
            entries: vec![entry(1, "route", ("L1", "A"), -4, 0)],
            ..Batch::default()
        };
        assert_eq!(one.commit(&first).unwrap(), Committed { first_seq: 1 });
        // Instance two, not knowing, takes 3 of A and reserves 1 of B in one batch.
        let second = Batch {
            entries: vec![
                entry(1, "route", ("L1", "A"), -3, 0),
                entry(2, "reserve", ("L1", "B"), 0, 1),
            ],
            reservations: vec![reservation("R-1", ReservationState::Held, 1)],
            ..Batch::default()
        };
        match two.commit(&second) {
            Err(CommitError::Conflict(c)) => {
                assert_eq!(c.slots, vec![("L1".to_string(), "A".to_string())]);
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        // Nothing of the second batch is there: not B's hold, not its reservation.
        let stock = stock_of(&one);
        assert_eq!(stock[&("L1".into(), "A".into())], (1, 0));
        assert_eq!(stock[&("L1".into(), "B".into())], (3, 0));
        assert!(two.reservation("R-1").unwrap().is_none());
        assert_eq!(two.entries(0, 100).unwrap().len(), 1);
        // Taking what is left succeeds, numbered after the first commit.
        let third = Batch {
            entries: vec![entry(1, "route", ("L1", "A"), -1, 0)],
            ..Batch::default()
        };
        assert_eq!(two.commit(&third).unwrap(), Committed { first_seq: 2 });
        assert_eq!(stock_of(&two)[&("L1".into(), "A".into())], (0, 0));
        assert!(clean(&one).is_empty(), "{:?}", clean(&one));
    }

    #[test]
    fn followers_read_the_others_entries_and_skip_their_own() {
        let Some((one, two)) = two("follow") else {
            return;
        };
        let mine = Batch {
            entries: vec![entry(1, "route", ("L1", "A"), -2, 0)],
            ..Batch::default()
        };
        one.commit(&mine).unwrap();
        let theirs = Batch {
            entries: vec![entry(1, "receipt", ("L1", "B"), 4, 0)],
            ..Batch::default()
        };
        assert_eq!(two.commit(&theirs).unwrap().first_seq, 2);
        let seen = one.refresh(0, &[("L1".into(), "A".into())], 100).unwrap();
        assert_eq!(seen.head, 2);
        assert!(seen.complete);
        assert_eq!(
            seen.entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![2]
        );
        assert_eq!(seen.slots[0].on_hand, 3);
        // Paged: one entry at a time, not complete until the head.
        let paged = two.refresh(0, &[], 1).unwrap();
        assert_eq!((paged.head, paged.complete), (1, false));
        assert_eq!(paged.entries.len(), 1);
        let rest = two.refresh(1, &[], 1).unwrap();
        assert!(rest.complete);
        assert!(rest.entries.is_empty(), "its own entry is skipped");
        // The notification arrives (or the poll times out) without error.
        one.wait_for_news(Duration::from_millis(10));
    }

    #[test]
    fn exactly_one_instance_moves_a_reservation_out_of_held() {
        let Some((one, two)) = two("settle") else {
            return;
        };
        // R-9 holds 1 of B, R-10 holds 2: B's reserved units stay ≥ 1 whatever R-9 does.
        let mut held = Batch {
            entries: vec![
                entry(1, "reserve", ("L1", "B"), 0, 1),
                entry(2, "reserve", ("L1", "B"), 0, 2),
            ],
            reservations: vec![
                reservation("R-9", ReservationState::Held, 1),
                reservation("R-10", ReservationState::Held, 2),
            ],
            ..Batch::default()
        };
        held.entries[0].reservation = Some("R-9".into());
        held.entries[1].reservation = Some("R-10".into());
        one.commit(&held).unwrap();
        let settle = |state, kind: &str, on_hand| {
            let mut b = Batch {
                entries: vec![entry(3, kind, ("L1", "B"), on_hand, -1)],
                reservations: vec![reservation("R-9", state, 1)],
                ..Batch::default()
            };
            b.entries[0].reservation = Some("R-9".into());
            b
        };
        one.commit(&settle(ReservationState::Expired, "expiry", 0))
            .unwrap();
        match two.commit(&settle(ReservationState::Confirmed, "confirm", -1)) {
            Err(CommitError::Conflict(c)) => {
                assert!(c.slots.is_empty());
                assert_eq!(c.reservations, vec!["R-9".to_string()]);
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        let r = two.reservation("R-9").unwrap().unwrap();
        assert_eq!(r.state, ReservationState::Expired);
        assert_eq!(stock_of(&two)[&("L1".into(), "B".into())], (3, 2));
        assert!(clean(&two).is_empty(), "{:?}", clean(&two));
    }

    #[test]
    fn a_key_answered_elsewhere_conflicts_and_its_answer_is_stored() {
        let Some((one, two)) = two("idem") else {
            return;
        };
        let answer = |body: &str| IdempotencyRecord {
            key: "K-1".into(),
            fingerprint: "f".into(),
            status: 200,
            body: body.into(),
        };
        let mut first = Batch {
            entries: vec![entry(7, "receipt", ("L1", "A"), 1, 0)],
            idempotency: vec![answer("{\"seq\":7}")],
            ..Batch::default()
        };
        first.entries[0].idempotency_key = Some("K-1".into());
        // Numbered 1 at commit time: the stored answer says so.
        assert_eq!(one.commit(&first).unwrap().first_seq, 1);
        assert_eq!(two.idempotency("K-1").unwrap().unwrap().body, "{\"seq\":1}");
        match two.commit(&first) {
            Err(CommitError::Conflict(c)) => assert_eq!(c.keys, vec!["K-1".to_string()]),
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(stock_of(&two)[&("L1".into(), "A".into())], (6, 0));
    }

    #[test]
    fn a_count_commits_only_over_the_on_hand_it_was_made_from() {
        let Some((one, two)) = two("count") else {
            return;
        };
        one.commit(&Batch {
            entries: vec![entry(1, "receipt", ("L1", "A"), 2, 0)],
            ..Batch::default()
        })
        .unwrap();
        // Two still believes A holds 5 and counts 4: -1 over 5, refused over 7.
        let count = Batch {
            entries: vec![entry(1, "count", ("L1", "A"), -1, 0)],
            expect_on_hand: vec![(1, 5)],
            ..Batch::default()
        };
        assert!(matches!(two.commit(&count), Err(CommitError::Conflict(_))));
        let count = Batch {
            entries: vec![entry(1, "count", ("L1", "A"), -3, 0)],
            expect_on_hand: vec![(1, 7)],
            ..Batch::default()
        };
        two.commit(&count).unwrap();
        assert_eq!(stock_of(&one)[&("L1".into(), "A".into())], (4, 0));
    }

    #[test]
    fn the_audit_finds_stock_that_is_not_the_entries() {
        let Some((one, _)) = two("audit") else {
            return;
        };
        one.commit(&Batch {
            entries: vec![entry(1, "route", ("L1", "A"), -1, 0)],
            ..Batch::default()
        })
        .unwrap();
        assert!(clean(&one).is_empty());
        let mut c = connect(&one.url).unwrap();
        c.batch_execute("UPDATE stock SET on_hand = on_hand + 1 WHERE sku = 'A'")
            .unwrap();
        let problems = clean(&one);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("L1/A"), "{problems:?}");
    }
}
