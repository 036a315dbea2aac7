//! Reservations as data: units held for an order until they are confirmed, released or
//! expire, with an id to look them up and a serde form a ledger can store.
//!
//! In: the outcome of routing with [`crate::RouteOptions::reserve`]. Out: a
//! [`Reservation`] kept in the engine's book (a map behind one mutex, touched only by
//! reservations: quoting and consuming never take it). The units themselves live in the
//! stock: a held unit left ATP and counts as reserved; confirming it takes it off the
//! shelf, releasing or expiring it gives it back to ATP.

use crate::model::decision::Decision;
use crate::model::network::LocationId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A reservation's id: `R-` and a 12-digit number, unique per engine and never reused
/// (ids sort in the order they were given); with a tag
/// ([`EngineBuilder::reservation_tag`](crate::EngineBuilder::reservation_tag)),
/// `R-<tag>-` and the number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReservationId(String);

impl ReservationId {
    pub(crate) fn numbered(tag: &str, n: u64) -> ReservationId {
        if tag.is_empty() {
            ReservationId(format!("R-{n:012}"))
        } else {
            ReservationId(format!("R-{tag}-{n:012}"))
        }
    }

    /// The number inside an id an engine with this tag gave (`None` for any other id,
    /// among them those of engines with another tag).
    pub(crate) fn number(&self, tag: &str) -> Option<u64> {
        let rest = self.0.strip_prefix("R-")?;
        let digits = if tag.is_empty() {
            rest
        } else {
            rest.strip_prefix(tag)?.strip_prefix('-')?
        };
        digits.parse().ok()
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReservationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ReservationId {
    type Err = std::convert::Infallible;
    /// Any text is an id; an id the engine never gave is simply not found.
    fn from_str(text: &str) -> Result<ReservationId, Self::Err> {
        Ok(ReservationId(text.to_string()))
    }
}

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ReservationState {
    /// Units held: out of ATP, counted as reserved.
    Held,
    /// Units shipped: off the shelf for good.
    Confirmed,
    /// Units given back by the caller.
    Released,
    /// Units given back because the reservation outlived its expiry.
    Expired,
}

impl fmt::Display for ReservationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReservationState::Held => "held",
            ReservationState::Confirmed => "confirmed",
            ReservationState::Released => "released",
            ReservationState::Expired => "expired",
        })
    }
}

/// Units of one SKU that left one location's ATP for an order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Take {
    /// The location's handle in the engine's network.
    pub location: LocationId,
    /// The location's id.
    pub location_id: String,
    /// The SKU.
    pub sku: String,
    /// Units.
    pub qty: u64,
}

/// Units held for one order. Plain data: dropping it changes nothing; the engine's book
/// keeps the state ([`crate::Engine::reservation`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reservation {
    /// Unique in its engine.
    pub id: ReservationId,
    /// The order's id.
    pub order: String,
    /// Held, confirmed, released or expired.
    pub state: ReservationState,
    /// When a held reservation expires, in Unix seconds ([`crate::Engine::expire`]).
    pub expires_at: i64,
    /// The order's `placed_at` (the day its shipments count against capacity).
    pub placed_at: Option<String>,
    /// The decision the units were held for.
    pub decision: Decision,
    /// Exactly the units held, per location and SKU.
    pub takes: Vec<Take>,
}

impl Reservation {
    /// Units held (or that were held).
    pub fn units(&self) -> u64 {
        self.takes.iter().map(|t| t.qty).sum()
    }
}

/// Why a reservation call changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReservationError {
    /// The engine has no reservation with this id.
    #[error("no reservation `{id}`")]
    Unknown {
        /// The id asked for.
        id: ReservationId,
    },
    /// The reservation is no longer held (it cannot be confirmed, released or undone).
    #[error("reservation `{id}` is {state}, not held")]
    NotHeld {
        /// The reservation.
        id: ReservationId,
        /// Where it stands.
        state: ReservationState,
    },
    /// [`crate::Engine::restore`] of an id the engine already has.
    #[error("reservation `{id}` is already known")]
    Duplicate {
        /// The id.
        id: ReservationId,
    },
    /// [`crate::Engine::restore`] of a reservation naming a location or SKU the engine's
    /// stock does not list.
    #[error("reservation `{id}` holds {sku} at `{location}`, which the stock does not list")]
    Unlisted {
        /// The reservation.
        id: ReservationId,
        /// The location's id.
        location: String,
        /// The SKU.
        sku: String,
    },
}

/// What kind of [`ReservationError`] it is, to match on without its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReservationErrorKind {
    /// [`ReservationError::Unknown`].
    Unknown,
    /// [`ReservationError::NotHeld`].
    NotHeld,
    /// [`ReservationError::Duplicate`].
    Duplicate,
    /// [`ReservationError::Unlisted`].
    Unlisted,
}

impl ReservationError {
    /// The kind of error.
    pub fn kind(&self) -> ReservationErrorKind {
        match self {
            ReservationError::Unknown { .. } => ReservationErrorKind::Unknown,
            ReservationError::NotHeld { .. } => ReservationErrorKind::NotHeld,
            ReservationError::Duplicate { .. } => ReservationErrorKind::Duplicate,
            ReservationError::Unlisted { .. } => ReservationErrorKind::Unlisted,
        }
    }
}

/// Every reservation an engine gave or restored, by id.
#[derive(Debug, Default)]
pub(crate) struct Book {
    pub entries: BTreeMap<ReservationId, Entry>,
    /// The number of the next id.
    pub next: u64,
    /// Put between `R-` and the number (empty: none), so that engines sharing one ledger
    /// never give the same id.
    pub tag: String,
}

/// One reservation and whether its shipments were counted against capacity.
#[derive(Debug)]
pub(crate) struct Entry {
    pub reservation: Reservation,
    pub counted: bool,
}

impl Book {
    pub fn next_id(&mut self) -> ReservationId {
        self.next += 1;
        ReservationId::numbered(&self.tag, self.next)
    }
}
