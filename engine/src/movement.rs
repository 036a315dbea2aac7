//! Stock movements as data: receipts, adjustments, returns, transfers, counts and safety
//! stock changes of one (location, SKU) pair, as a ledger records them.
//!
//! In: a [`Movement`]. Out: the pair's [`crate::StockFigures`] after it, or a [`MovementError`].
//! [`crate::Engine::apply`] writes it through the same stock path the pipeline's journal
//! records, so plans made ahead see it.

use crate::stock::{Count, CountChange, CountError};
use serde::{Deserialize, Serialize};

/// What happened to the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MovementKind {
    /// Goods received (on hand).
    Receipt,
    /// A correction of on hand (damage, shrinkage, found units).
    Adjustment,
    /// Units a customer sent back, on the shelf again (on hand).
    Return,
    /// Units moved to or from another location (on hand; one movement per side).
    Transfer,
    /// A physical count: on hand is what was counted (use [`Change::Set`]).
    Count,
    /// The safety stock of the pair (kept back from ATP).
    SafetyStock,
}

impl MovementKind {
    fn count(self) -> Count {
        match self {
            MovementKind::SafetyStock => Count::Safety,
            _ => Count::OnHand,
        }
    }
}

/// How a movement changes its count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Add (negative: remove) units.
    Delta(i64),
    /// Set the count to `value`, if it is `expected` now (when given): a count that
    /// raced with another movement is refused rather than applied to the wrong base.
    Set {
        /// The new count.
        value: u64,
        /// The count the writer saw, when it wants that checked.
        #[serde(default)]
        expected: Option<u64>,
    },
}

/// A change of one (location, SKU) pair's stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    /// The location's id in the network.
    pub location: String,
    /// The SKU.
    pub sku: String,
    /// What happened.
    pub kind: MovementKind,
    /// By how much, or to what.
    pub change: Change,
}

/// Why a movement changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MovementError {
    /// The network has no location with this id.
    #[error("unknown location `{location}`: it is not in the network")]
    UnknownLocation {
        /// The id given.
        location: String,
    },
    /// The SKU is empty.
    #[error("the sku must not be empty")]
    EmptySku,
    /// [`Change::Set`] with an `expected` value that is not the count now.
    #[error("expected {expected} but the count is {current}; nothing changed")]
    Expected {
        /// The value expected.
        expected: u64,
        /// The count now.
        current: u64,
    },
    /// The count would fall below 0.
    #[error("{current} units {delta:+} would be below 0; nothing changed")]
    Negative {
        /// The count now.
        current: u64,
        /// The change asked for.
        delta: i64,
    },
    /// The count would pass [`crate::MAX_UNITS`].
    #[error("the count ({current} now) would pass {max} units; nothing changed", max = crate::MAX_UNITS)]
    Overflow {
        /// The count now.
        current: u64,
    },
}

/// What kind of [`MovementError`] it is, to match on without its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MovementErrorKind {
    /// [`MovementError::UnknownLocation`].
    UnknownLocation,
    /// [`MovementError::EmptySku`].
    EmptySku,
    /// [`MovementError::Expected`].
    Expected,
    /// [`MovementError::Negative`].
    Negative,
    /// [`MovementError::Overflow`].
    Overflow,
}

impl MovementError {
    /// The kind of error.
    pub fn kind(&self) -> MovementErrorKind {
        match self {
            MovementError::UnknownLocation { .. } => MovementErrorKind::UnknownLocation,
            MovementError::EmptySku => MovementErrorKind::EmptySku,
            MovementError::Expected { .. } => MovementErrorKind::Expected,
            MovementError::Negative { .. } => MovementErrorKind::Negative,
            MovementError::Overflow { .. } => MovementErrorKind::Overflow,
        }
    }
}

impl Movement {
    /// The stock's view of this movement: which count, which change.
    pub(crate) fn count_change(&self) -> (Count, CountChange) {
        let change = match self.change {
            Change::Delta(d) => CountChange::Delta(d),
            Change::Set { value, expected } => CountChange::Set { value, expected },
        };
        (self.kind.count(), change)
    }

    /// The movement's error for the stock's refusal.
    pub(crate) fn error(&self, e: CountError) -> MovementError {
        match e {
            CountError::Unlisted => MovementError::UnknownLocation {
                location: self.location.clone(),
            },
            CountError::Expected { current } => MovementError::Expected {
                expected: match self.change {
                    Change::Set { expected, .. } => expected.unwrap_or(current),
                    Change::Delta(_) => current,
                },
                current,
            },
            CountError::Negative { current } => MovementError::Negative {
                current,
                delta: match self.change {
                    Change::Delta(d) => d,
                    Change::Set { .. } => 0,
                },
            },
            CountError::Overflow { current } => MovementError::Overflow { current },
        }
    }
}
