//! Following a shared ledger: what the entries other instances committed change in this
//! instance's memory. The entries are read by sequence number (a notification only wakes
//! the follower up); [`Core`](crate::core::Core) decides when, under its lock.

use crate::engine_port::{EnginePort, PairDelta, Reservation, ReservationState};
use crate::ledger::{Entry, Ledger, LedgerError};
use std::collections::BTreeMap;

/// Entries of other instances, with the reservations they made read beside them.
#[derive(Debug, Default)]
pub struct Followed {
    /// The entries, in order.
    pub entries: Vec<Entry>,
    /// Reservations made by those entries, as stored.
    pub made: BTreeMap<String, Reservation>,
}

/// Reads the reservations the entries made (outside the core's lock: database reads).
pub fn read(ledger: &dyn Ledger, entries: Vec<Entry>) -> Result<Followed, LedgerError> {
    let mut made = BTreeMap::new();
    for e in &entries {
        if e.kind != "reserve" {
            continue;
        }
        if let Some(id) = &e.reservation {
            if !made.contains_key(id) {
                if let Some(r) = ledger.reservation(id)? {
                    made.insert(id.clone(), r);
                }
            }
        }
    }
    Ok(Followed { entries, made })
}

/// The state an entry of this kind moves its reservation to.
fn state_of(kind: &str) -> Option<ReservationState> {
    match kind {
        "reserve" => Some(ReservationState::Held),
        "confirm" => Some(ReservationState::Confirmed),
        "release" => Some(ReservationState::Released),
        "expiry" => Some(ReservationState::Expired),
        _ => None,
    }
}

/// Applies followed entries to memory, in order: their figures, and the reservations they
/// made or settled. Returns how many entries were applied.
pub fn apply(port: &EnginePort, followed: Followed) -> usize {
    let Followed { entries, mut made } = followed;
    for e in &entries {
        port.apply_followed(&[PairDelta {
            location: e.location.clone(),
            sku: e.sku.clone(),
            on_hand: e.on_hand_delta,
            reserved: e.reserved_delta,
        }]);
        let (Some(id), Some(state)) = (&e.reservation, state_of(&e.kind)) else {
            continue;
        };
        if state == ReservationState::Held {
            if let Some(mut r) = made.remove(id) {
                // Held as of this entry; later entries settle it.
                r.state = ReservationState::Held;
                // Known already (learnt when asked for): nothing more to do.
                let _ = port.restore(r);
            }
        } else {
            port.set_state(id.as_str(), state);
        }
    }
    entries.len()
}
