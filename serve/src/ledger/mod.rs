//! The ledger: the stock of record. Every change of stock is an entry; a batch of entries,
//! the reservations they change and the idempotency records of the requests that made
//! them are committed together, or not at all.
//!
//! [`Ledger`] is what the service needs of a store; [`sqlite::SqliteLedger`] is the
//! embedded default; [`postgres::PgLedger`] is shared by several instances, each commit
//! conditional on the units still being there ([`CommitError::Conflict`]). The stock is
//! rebuilt from a snapshot and the entries after it ([`rebuild`]): the one written at the
//! first start, or a newer one the ledger writes now and then
//! ([`Ledger::load_latest`], [`Ledger::snapshot`]).

pub mod postgres;
pub mod sqlite;

use crate::engine_port::{Reservation, StockFigures};
use serde::Serialize;
use std::collections::BTreeMap;

/// Why the ledger could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerError(pub String);

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LedgerError {}

/// One change of one (location, SKU) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Entry {
    /// Position in the ledger, from 1, without gaps.
    pub seq: u64,
    /// When it was made (RFC 3339, UTC, milliseconds).
    pub at: String,
    /// `route`, `reserve`, `confirm`, `release`, `expiry`, or a movement's kind
    /// (`receipt`, `adjustment`, `return`, `transfer`, `count`).
    pub kind: String,
    /// Location id.
    pub location: String,
    /// SKU.
    pub sku: String,
    /// Change of on hand.
    pub on_hand_delta: i64,
    /// Change of reserved.
    pub reserved_delta: i64,
    /// The reservation it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation: Option<String>,
    /// The order it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// The request's idempotency key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The rules that decided (routes and reservations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ruleset: Option<String>,
    /// A movement's reference (a delivery note, a count sheet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The order's `placed_at` (routes and reservations): the day its shipments count
    /// against the locations' daily capacity, so a restart counts them again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placed_at: Option<String>,
}

/// The stored answer to a request with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The key.
    pub key: String,
    /// Hash of the request (method, path, body) the key was first used with.
    pub fingerprint: String,
    /// The answer's HTTP status.
    pub status: u16,
    /// The answer's body.
    pub body: String,
}

/// What one commit writes.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// New entries, in sequence order.
    pub entries: Vec<Entry>,
    /// Reservations created or changed (the last state of each wins).
    pub reservations: Vec<Reservation>,
    /// Answers to remember.
    pub idempotency: Vec<IdempotencyRecord>,
    /// On hand a change was computed from, by the seq of its entry: a shared ledger
    /// commits the entry only if the pair's on hand is still that (a count's `set`).
    pub expect_on_hand: Vec<(u64, u64)>,
}

impl Batch {
    /// Appends another batch, taking its contents.
    pub fn append(&mut self, mut other: Batch) {
        self.entries.append(&mut other.entries);
        self.reservations.append(&mut other.reservations);
        self.idempotency.append(&mut other.idempotency);
        self.expect_on_hand.append(&mut other.expect_on_hand);
    }

    /// Appends another batch.
    pub fn extend(&mut self, other: &Batch) {
        self.entries.extend(other.entries.iter().cloned());
        self.reservations.extend(other.reservations.iter().cloned());
        self.idempotency.extend(other.idempotency.iter().cloned());
        self.expect_on_hand
            .extend(other.expect_on_hand.iter().copied());
    }
}

/// A commit that was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// The seq the ledger gave the batch's first entry; a shared ledger numbers entries at
    /// commit time, so it may differ from the batch's own numbering.
    pub first_seq: u64,
}

/// What another instance changed first, so that a batch could not be committed as it was
/// decided: nothing of it was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conflict {
    /// (location, SKU) pairs whose units were no longer there.
    pub slots: Vec<(String, String)>,
    /// Reservations that were no longer held.
    pub reservations: Vec<String>,
    /// Idempotency keys already answered elsewhere.
    pub keys: Vec<String>,
}

/// Why a commit wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitError {
    /// The ledger failed (disk, connection): the changes fail.
    Failed(LedgerError),
    /// The stock of record moved under the decisions: refresh and decide again.
    Conflict(Conflict),
}

impl From<LedgerError> for CommitError {
    fn from(e: LedgerError) -> Self {
        CommitError::Failed(e)
    }
}

/// The stock of record of some pairs, read together with the entries that led there.
#[derive(Debug, Clone, Default)]
pub struct Refreshed {
    /// Entries after the `after` asked for, up to the moment the pairs were read, in order,
    /// made by other instances.
    pub entries: Vec<Entry>,
    /// The last seq when the pairs were read.
    pub head: u64,
    /// The pairs' figures then.
    pub slots: Vec<SnapshotRow>,
    /// True when every entry up to the ledger's last was read (and so the pairs);
    /// otherwise follow again from `head`.
    pub complete: bool,
}

/// One pair of a snapshot: the one written at the first start, or a later one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRow {
    /// Location id.
    pub location: String,
    /// SKU.
    pub sku: String,
    /// On hand.
    pub on_hand: u64,
    /// Reserved.
    pub reserved: u64,
    /// Safety stock.
    pub safety_stock: u64,
}

/// Everything a start needs to rebuild the stock.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    /// The snapshot.
    pub snapshot: Vec<SnapshotRow>,
    /// The last entry the snapshot includes (0: the first snapshot, before any entry).
    pub snapshot_seq: u64,
    /// Every entry after it, in order.
    pub entries: Vec<Entry>,
    /// The route and confirm entries the snapshot includes, in order: the shipments that
    /// count against the locations' daily capacity are counted again from them (empty
    /// when the snapshot is the first one).
    pub shipped: Vec<Entry>,
    /// Every reservation still held.
    pub held: Vec<Reservation>,
    /// Every remembered answer.
    pub idempotency: Vec<IdempotencyRecord>,
    /// The reservation with the largest id, whatever its state.
    pub last_reservation: Option<Reservation>,
}

/// (on hand, reserved) per (location, SKU): the stock a shared ledger keeps beside its
/// entries.
pub type StockTable = BTreeMap<(String, String), (u64, u64)>;

/// A store for the ledger. Commits come from one writer thread; reads from any thread.
pub trait Ledger: Send + Sync {
    /// True once a snapshot has been written (every start but the first).
    fn initialised(&self) -> Result<bool, LedgerError>;
    /// Writes the first snapshot.
    fn initialise(&self, snapshot: &[SnapshotRow]) -> Result<(), LedgerError>;
    /// Reads the first snapshot and every entry after it (what an audit replays).
    fn load(&self) -> Result<Stored, LedgerError>;
    /// Reads what a start needs: the newest snapshot, the entries after it and the
    /// shipments before it. A ledger that writes no later snapshots gives [`Ledger::load`].
    fn load_latest(&self) -> Result<Stored, LedgerError> {
        self.load()
    }
    /// Writes a snapshot of the stock of record at the ledger's last entry now, so a
    /// start replays only what came after; the seq it stands at, or `None` when this
    /// ledger writes no later snapshots (or nothing came since the last one).
    fn snapshot(&self) -> Result<Option<u64>, LedgerError> {
        Ok(None)
    }
    /// Commits a batch durably, all or nothing; a shared ledger refuses the whole batch
    /// with [`CommitError::Conflict`] when another instance took its units first.
    fn commit(&self, batch: &Batch) -> Result<Committed, CommitError>;
    /// Up to `limit` entries after `after`, in order.
    fn entries(&self, after: u64, limit: usize) -> Result<Vec<Entry>, LedgerError>;
    /// One reservation as stored, whatever its state.
    fn reservation(&self, id: &str) -> Result<Option<Reservation>, LedgerError>;
    /// True when other instances may commit to this ledger (followed, conflicts possible).
    fn shared(&self) -> bool {
        false
    }
    /// The tag this instance puts in its reservation ids, unique among the instances of
    /// a shared ledger (empty: none, the ledger has one writer).
    fn reservation_tag(&self) -> String {
        String::new()
    }
    /// The stored answer of an idempotency key.
    fn idempotency(&self, _key: &str) -> Result<Option<IdempotencyRecord>, LedgerError> {
        Ok(None)
    }
    /// Entries other instances committed after `after` (at most `limit`), and the pairs'
    /// figures read in the same snapshot. A ledger only this instance writes has none.
    fn refresh(
        &self,
        after: u64,
        _slots: &[(String, String)],
        _limit: usize,
    ) -> Result<Refreshed, LedgerError> {
        Ok(Refreshed {
            head: after,
            complete: true,
            ..Refreshed::default()
        })
    }
    /// Blocks up to `timeout` for word that another instance committed (a wake-up only:
    /// the entries are read by [`Ledger::refresh`]). Returns at once when not shared.
    fn wait_for_news(&self, timeout: std::time::Duration) {
        if self.shared() {
            std::thread::sleep(timeout);
        }
    }
    /// The stock the ledger keeps beside its entries, per pair (on hand, reserved);
    /// `None` when the stock is only ever the snapshot plus the entries.
    fn stock(&self) -> Result<Option<StockTable>, LedgerError> {
        Ok(None)
    }
}

/// What `sourcing ledger audit` finds wrong in a ledger, one line per problem (empty: the
/// ledger is sound): entries numbered 1, 2, … without gaps; replayed exactly from the
/// snapshot, no pair's on hand or reserved below 0 and no route or reservation leaving a
/// pair's ATP below 0 (a unit promised twice); each pair's reserved units are the
/// snapshot's plus the held reservations'; and the stock the ledger keeps (`stock`, a
/// shared ledger's) equals the snapshot plus the entries.
pub fn audit(stored: &Stored, stock: Option<&StockTable>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut figures: BTreeMap<(String, String), (i128, i128, i128)> = stored
        .snapshot
        .iter()
        .map(|r| {
            (
                (r.location.clone(), r.sku.clone()),
                (
                    i128::from(r.on_hand),
                    i128::from(r.reserved),
                    i128::from(r.safety_stock),
                ),
            )
        })
        .collect();
    let snapshot_reserved: BTreeMap<(String, String), i128> =
        figures.iter().map(|(k, f)| (k.clone(), f.1)).collect();
    for (i, e) in stored.entries.iter().enumerate() {
        let want = stored.snapshot_seq + i as u64 + 1;
        if e.seq != want {
            problems.push(format!(
                "entry {}: expected seq {want} (a gap or a repeat)",
                e.seq
            ));
        }
        let f = figures
            .entry((e.location.clone(), e.sku.clone()))
            .or_insert((0, 0, 0));
        f.0 += i128::from(e.on_hand_delta);
        f.1 += i128::from(e.reserved_delta);
        let pair = format!("{}/{}", e.location, e.sku);
        if f.0 < 0 || f.1 < 0 {
            problems.push(format!(
                "entry {} ({}): {pair} goes to on hand {}, reserved {}",
                e.seq, e.kind, f.0, f.1
            ));
        }
        let takes = e.on_hand_delta - e.reserved_delta < 0;
        if takes && matches!(e.kind.as_str(), "route" | "reserve") && f.0 - f.1 - f.2 < 0 {
            problems.push(format!(
                "entry {} ({}): {pair} promised beyond stock: on hand {}, reserved {}, safety {}",
                e.seq, e.kind, f.0, f.1, f.2
            ));
        }
    }
    let mut held: BTreeMap<(String, String), i128> = BTreeMap::new();
    for r in &stored.held {
        for t in &r.takes {
            *held
                .entry((t.location_id.clone(), t.sku.clone()))
                .or_default() += i128::from(t.qty);
        }
    }
    for (k, f) in &figures {
        let base = snapshot_reserved.get(k).copied().unwrap_or(0);
        let by_reservations = held.get(k).copied().unwrap_or(0);
        if f.1 - base != by_reservations {
            problems.push(format!(
                "{}/{}: reserved is {} over the snapshot, the held reservations hold {}",
                k.0,
                k.1,
                f.1 - base,
                by_reservations
            ));
        }
    }
    if let Some(stock) = stock {
        for (k, f) in &figures {
            let expected = (f.0, f.1);
            match stock.get(k) {
                Some(&(on_hand, reserved))
                    if (i128::from(on_hand), i128::from(reserved)) == expected => {}
                Some(&(on_hand, reserved)) => problems.push(format!(
                    "{}/{}: stock holds on hand {on_hand}, reserved {reserved}; the entries give {}, {}",
                    k.0, k.1, expected.0, expected.1
                )),
                None => problems.push(format!(
                    "{}/{}: no stock row; the entries give on hand {}, reserved {}",
                    k.0, k.1, expected.0, expected.1
                )),
            }
        }
        for k in stock.keys() {
            if !figures.contains_key(k) {
                problems.push(format!(
                    "{}/{}: a stock row with no snapshot nor entry",
                    k.0, k.1
                ));
            }
        }
    }
    problems
}

/// The seq a shared ledger gave each entry of a batch, by the seq the batch numbered it
/// with (entries are numbered again at commit time, from `first_seq`, in batch order).
pub fn renumbered(batch: &Batch, first_seq: u64) -> BTreeMap<u64, u64> {
    batch
        .entries
        .iter()
        .zip(first_seq..)
        .map(|(e, seq)| (e.seq, seq))
        .collect()
}

/// A JSON answer whose top-level `"seq"` (a movement's) is renumbered as `map` says;
/// other answers come back unchanged.
pub fn renumber_answer(body: &str, map: &BTreeMap<u64, u64>) -> String {
    if !body.contains("\"seq\"") {
        return body.to_string();
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut obj)) => {
            let to = obj
                .get("seq")
                .and_then(serde_json::Value::as_u64)
                .and_then(|seq| map.get(&seq));
            match to {
                Some(&to) => {
                    obj.insert("seq".into(), serde_json::Value::from(to));
                    serde_json::Value::Object(obj).to_string()
                }
                None => body.to_string(),
            }
        }
        _ => body.to_string(),
    }
}

/// Opens the ledger a `--ledger` value names: a `postgres://…` URL (shared by every
/// instance given it) or the path of an SQLite file (created when missing).
pub fn open(spec: &str) -> Result<std::sync::Arc<dyn Ledger>, LedgerError> {
    if postgres::is_url(spec) {
        Ok(std::sync::Arc::new(postgres::PgLedger::open(spec)?))
    } else {
        Ok(std::sync::Arc::new(sqlite::SqliteLedger::open(
            std::path::Path::new(spec),
        )?))
    }
}

/// The stock of record: the snapshot with every entry applied, per (location, SKU).
pub fn rebuild(stored: &Stored) -> BTreeMap<(String, String), StockFigures> {
    let mut figures: BTreeMap<(String, String), StockFigures> = stored
        .snapshot
        .iter()
        .map(|r| {
            (
                (r.location.clone(), r.sku.clone()),
                StockFigures {
                    on_hand: r.on_hand,
                    reserved: r.reserved,
                    safety_stock: r.safety_stock,
                    atp: 0,
                },
            )
        })
        .collect();
    for e in &stored.entries {
        let f = figures
            .entry((e.location.clone(), e.sku.clone()))
            .or_default();
        f.on_hand = add(f.on_hand, e.on_hand_delta);
        f.reserved = add(f.reserved, e.reserved_delta);
    }
    for f in figures.values_mut() {
        f.atp = f
            .on_hand
            .saturating_sub(f.reserved)
            .saturating_sub(f.safety_stock);
    }
    figures
}

/// `value` changed by `delta`, kept within 0 and the engine's largest count (as a replay
/// applies every entry, so a snapshot made entry by entry is the same).
pub(crate) fn add(value: u64, delta: i64) -> u64 {
    let exact = i128::from(value) + i128::from(delta);
    exact.clamp(0, i128::from(sourcing_engine::MAX_UNITS)) as u64
}

/// Now as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Now in unix seconds.
pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}
