//! How to route one order, and everything routing it gave.
//!
//! In: [`RouteOptions`] (quote, consume or reserve; explain or not; the clock). Out: one
//! [`Outcome`]: the decision, the reservation when reserving, the explanation when asked,
//! how hard the search worked and exactly which units left ATP.

use crate::explain::Explain;
use crate::model::decision::Decision;
use crate::model::network::LocationId;
use crate::reservation::{Reservation, Take};
use std::time::Duration;

/// What routing does to the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// Nothing changes: the plan against the stock as it is now.
    Quote,
    /// The units leave the stock for good (on hand and ATP).
    Consume,
    /// The units leave ATP and are held (reserved) until confirmed, released or expired.
    Reserve {
        /// How long the units stay held.
        ttl: Duration,
    },
}

/// How to route an order: [`RouteOptions::quote`], [`RouteOptions::consume`] or
/// [`RouteOptions::reserve`], then [`RouteOptions::explain`] and [`RouteOptions::at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteOptions {
    mode: Mode,
    explain: bool,
    now: Option<i64>,
}

impl RouteOptions {
    /// Plan only; the stock does not change.
    pub fn quote() -> RouteOptions {
        RouteOptions {
            mode: Mode::Quote,
            explain: false,
            now: None,
        }
    }

    /// Take the units for good.
    pub fn consume() -> RouteOptions {
        RouteOptions {
            mode: Mode::Consume,
            ..RouteOptions::quote()
        }
    }

    /// Hold the units for `ttl`: a [`Reservation`] in the outcome and in the engine's book.
    pub fn reserve(ttl: Duration) -> RouteOptions {
        RouteOptions {
            mode: Mode::Reserve { ttl },
            ..RouteOptions::quote()
        }
    }

    /// Also explain the decision: the strategies that ran, every candidate considered,
    /// kept or dropped and why, as of the stock this decision saw.
    pub fn explain(mut self, explain: bool) -> RouteOptions {
        self.explain = explain;
        self
    }

    /// The time now, in Unix seconds, for a reservation's expiry (default: the system
    /// clock).
    pub fn at(mut self, now_unix_s: i64) -> RouteOptions {
        self.now = Some(now_unix_s);
        self
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub(crate) fn explains(&self) -> bool {
        self.explain
    }

    /// When a reservation made now expires.
    pub(crate) fn expiry(&self) -> i64 {
        let now = self.now.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        });
        let ttl = match self.mode {
            Mode::Reserve { ttl } => i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
            _ => 0,
        };
        now.saturating_add(ttl)
    }
}

/// How hard the search worked for one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct SearchStats {
    /// Branch-and-bound nodes visited (0 when one location settled the order).
    pub nodes: u64,
    /// True when a work limit cut the search short (orders of more than
    /// [`EXACT_LINE_LIMIT`](crate::EXACT_LINE_LIMIT) lines, or pathological ones).
    pub truncated: bool,
    /// How many times the order was planned again because another thread took its stock.
    pub retries: u32,
}

/// Everything routing one order gave. Not `Clone`: [`crate::Engine::undo`] takes it, so an
/// outcome is undone at most once.
#[derive(Debug)]
#[non_exhaustive]
pub struct Outcome {
    /// The decision (contract section 5, with `ruleset`).
    pub decision: Decision,
    /// The reservation, when reserving.
    pub reservation: Option<Reservation>,
    /// The explanation, when asked.
    pub explain: Option<Explain>,
    /// How hard the search worked.
    pub stats: SearchStats,
    pub(crate) mode: Mode,
    /// The shipping locations, in the order of the decision's shipments.
    pub(crate) locations: Vec<u32>,
    /// The day the shipments count against capacity.
    pub(crate) day: i32,
}

impl Outcome {
    /// What the routing did to the stock.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Exactly the units that left ATP, per location and SKU in the order of the shipments
    /// (empty for a quote). Worked out from the decision when asked, so routing does not
    /// pay for it.
    pub fn takes(&self) -> Vec<Take> {
        if self.mode == Mode::Quote {
            return Vec::new();
        }
        takes_of(&self.decision, &self.locations)
    }
}

/// The units a decision's shipments take, per (location, SKU); `locations` are the
/// shipments' location indexes, in order.
pub(crate) fn takes_of(decision: &Decision, locations: &[u32]) -> Vec<Take> {
    let mut out: Vec<Take> = Vec::new();
    for (shipment, &loc) in decision.shipments.iter().zip(locations) {
        for line in &shipment.lines {
            let qty = u64::from(line.qty);
            match out
                .iter_mut()
                .find(|t| t.location.0 == loc && t.sku == line.sku)
            {
                Some(t) => t.qty += qty,
                None => out.push(Take {
                    location: LocationId(loc),
                    location_id: shipment.location.clone(),
                    sku: line.sku.clone(),
                    qty,
                }),
            }
        }
    }
    out.retain(|t| t.qty > 0);
    out
}
