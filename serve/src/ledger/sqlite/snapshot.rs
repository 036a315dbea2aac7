//! Periodic snapshots of the SQLite ledger: the stock of record at some entry, written into
//! the ledger itself (`stock_snapshot`, and `snapshot_seq` in `meta`), so a start replays
//! only the entries after it. A snapshot is made from the one before it and the entries
//! since, entry by entry as a replay applies them, so it is exactly what a replay from the
//! first snapshot gives at that entry.

use super::{to_i64, to_u64};
use crate::ledger::{add, LedgerError};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::collections::BTreeMap;
use std::time::Duration;

/// When the ledger writes a snapshot by itself: whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// After this many entries since the last snapshot (0: never by count).
    pub entries: u64,
    /// After this long since the last snapshot, if an entry came since (zero: never by
    /// time).
    pub every: Duration,
}

impl Default for SnapshotPolicy {
    /// Every 200,000 entries or 5 minutes: a start replays at most about that many, and a
    /// snapshot (which holds the write lock while it writes the pairs that changed) comes
    /// seldom enough under load not to weigh on commits.
    fn default() -> Self {
        SnapshotPolicy {
            entries: 200_000,
            every: Duration::from_secs(300),
        }
    }
}

impl SnapshotPolicy {
    /// The default, changed by `SOURCING_SNAPSHOT_ENTRIES` (a count) and
    /// `SOURCING_SNAPSHOT_SECONDS` (whole seconds) when set; 0 turns that trigger off.
    pub fn from_env() -> Result<SnapshotPolicy, LedgerError> {
        let mut policy = SnapshotPolicy::default();
        let read = |name: &str| -> Result<Option<u64>, LedgerError> {
            match std::env::var(name) {
                Ok(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
                    LedgerError(format!(
                        "{name}: expected a whole number, got `{}`",
                        v.escape_debug()
                    ))
                }),
                Err(_) => Ok(None),
            }
        };
        if let Some(n) = read("SOURCING_SNAPSHOT_ENTRIES")? {
            policy.entries = n;
        }
        if let Some(s) = read("SOURCING_SNAPSHOT_SECONDS")? {
            policy.every = Duration::from_secs(s);
        }
        Ok(policy)
    }

    /// True when a snapshot is due with `since` entries after the last one, `elapsed`
    /// after it.
    pub fn due(&self, since: u64, elapsed: Duration) -> bool {
        since > 0
            && ((self.entries > 0 && since >= self.entries)
                || (!self.every.is_zero() && elapsed >= self.every))
    }
}

/// The seq the newest snapshot stands at; `None` while the first snapshot is the only one.
pub(super) fn snapshot_seq(c: &Connection) -> rusqlite::Result<Option<u64>> {
    let v: Option<String> = c
        .query_row(
            "SELECT value FROM meta WHERE key = 'snapshot_seq'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(v.and_then(|v| v.parse::<u64>().ok()))
}

/// The last seq of the ledger (0: no entry).
pub(super) fn head(c: &Connection) -> rusqlite::Result<u64> {
    let head: i64 = c.query_row("SELECT COALESCE(MAX(seq), 0) FROM entries", [], |r| {
        r.get(0)
    })?;
    Ok(to_u64(head))
}

/// Writes a snapshot at the ledger's last entry; the seq it stands at, or `None` when no
/// entry came since the last one. The pairs are worked out in a read transaction (commits
/// go on meanwhile); only writing the pairs that changed holds the write lock.
pub(super) fn write(c: &mut Connection) -> rusqlite::Result<Option<u64>> {
    let (base, head, changed) = {
        let tx = c.transaction()?;
        let base = snapshot_seq(&tx)?;
        let head = head(&tx)?;
        if base == Some(head) || (base.is_none() && head == 0) {
            return Ok(None);
        }
        let from = base.unwrap_or(0);
        let mut lookup = tx.prepare(if base.is_some() {
            "SELECT on_hand, reserved, safety_stock FROM stock_snapshot WHERE location = ?1 AND sku = ?2"
        } else {
            "SELECT on_hand, reserved, safety_stock FROM snapshot WHERE location = ?1 AND sku = ?2"
        })?;
        let mut changed: BTreeMap<(String, String), (u64, u64, u64)> = BTreeMap::new();
        let mut q = tx.prepare(
            "SELECT location, sku, on_hand_delta, reserved_delta FROM entries \
             WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
        )?;
        let mut rows = q.query(params![to_i64(from), to_i64(head)])?;
        while let Some(r) = rows.next()? {
            let key: (String, String) = (r.get(0)?, r.get(1)?);
            let (on_hand_delta, reserved_delta): (i64, i64) = (r.get(2)?, r.get(3)?);
            if !changed.contains_key(&key) {
                let was = lookup
                    .query_row(params![key.0, key.1], |s| {
                        Ok((to_u64(s.get(0)?), to_u64(s.get(1)?), to_u64(s.get(2)?)))
                    })
                    .optional()?
                    .unwrap_or((0, 0, 0));
                changed.insert(key.clone(), was);
            }
            if let Some(f) = changed.get_mut(&key) {
                f.0 = add(f.0, on_hand_delta);
                f.1 = add(f.1, reserved_delta);
            }
        }
        (base, head, changed)
    };
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if base.is_none() {
        tx.execute_batch(
            "DELETE FROM stock_snapshot; \
             INSERT INTO stock_snapshot (location, sku, on_hand, reserved, safety_stock) \
             SELECT location, sku, on_hand, reserved, safety_stock FROM snapshot;",
        )?;
    }
    {
        let mut put = tx.prepare(
            "INSERT OR REPLACE INTO stock_snapshot (location, sku, on_hand, reserved, safety_stock) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for ((location, sku), (on_hand, reserved, safety)) in &changed {
            put.execute(params![
                location,
                sku,
                to_i64(*on_hand),
                to_i64(*reserved),
                to_i64(*safety)
            ])?;
        }
        let mut meta = tx.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?;
        meta.execute(params!["snapshot_seq", head.to_string()])?;
        meta.execute(params!["snapshot_at", crate::ledger::now_rfc3339()])?;
    }
    tx.commit()?;
    Ok(Some(head))
}
