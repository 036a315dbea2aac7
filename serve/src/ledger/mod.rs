//! The ledger: the stock of record. Every change of stock is an entry; a batch of entries,
//! the reservations they change and the idempotency records of the requests that made
//! them are committed together, or not at all.
//!
//! [`Ledger`] is what the service needs of a store; [`sqlite::SqliteLedger`] is the
//! embedded default. The stock is rebuilt from the snapshot written at the first start and
//! the entries after it ([`rebuild`]).

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
}

impl Batch {
    /// Appends another batch.
    pub fn extend(&mut self, other: &Batch) {
        self.entries.extend(other.entries.iter().cloned());
        self.reservations.extend(other.reservations.iter().cloned());
        self.idempotency.extend(other.idempotency.iter().cloned());
    }
}

/// One pair of the snapshot written at the first start.
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
    /// Every entry after it, in order.
    pub entries: Vec<Entry>,
    /// Every reservation still held.
    pub held: Vec<Reservation>,
    /// Every remembered answer.
    pub idempotency: Vec<IdempotencyRecord>,
    /// The reservation with the largest id, whatever its state.
    pub last_reservation: Option<Reservation>,
}

/// A store for the ledger. Commits come from one writer thread; reads from any thread.
pub trait Ledger: Send + Sync {
    /// True once a snapshot has been written (every start but the first).
    fn initialised(&self) -> Result<bool, LedgerError>;
    /// Writes the first snapshot.
    fn initialise(&self, snapshot: &[SnapshotRow]) -> Result<(), LedgerError>;
    /// Reads everything a start needs.
    fn load(&self) -> Result<Stored, LedgerError>;
    /// Commits a batch durably, all or nothing.
    fn commit(&self, batch: &Batch) -> Result<(), LedgerError>;
    /// Up to `limit` entries after `after`, in order.
    fn entries(&self, after: u64, limit: usize) -> Result<Vec<Entry>, LedgerError>;
    /// One reservation as stored, whatever its state.
    fn reservation(&self, id: &str) -> Result<Option<Reservation>, LedgerError>;
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

fn add(value: u64, delta: i64) -> u64 {
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
