//! What-if replay: orders in time order against the stock, with key figures.
//!
//! In: an engine (network, stock, rules) and the orders. Out: every decision, in replay
//! order, and the [`Kpis`]. Orders are replayed by `placed_at` (file order breaks ties and
//! places undated orders first), consuming stock and counting daily capacity in that order;
//! upcoming orders are planned on every core, and a replay gives the same bytes on every
//! run and with any number of threads.

pub mod kpis;

use crate::load::events::StockEvent;
use crate::model::decision::Decision;
use crate::model::order::Order;
use crate::Engine;
pub use kpis::{Block, Kpis, LocationLoad};

/// The replay order: by `placed_at`, then by position in the input.
pub fn replay_order(orders: &[Order]) -> Vec<usize> {
    let mut keyed: Vec<(i64, usize)> = orders
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let t = o
                .placed_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map_or(i64::MIN, |t| t.timestamp_millis());
            (t, i)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Replays `orders` through `engine`, handing each decision to `each` in replay order, and
/// returns the key figures.
pub fn replay(engine: &Engine, orders: &[Order], each: impl FnMut(&Order, &Decision)) -> Kpis {
    replay_with_events(engine, orders, &[], each).0
}

/// What became of the stock events of a replay that did not apply exactly as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventReport {
    /// Removals that found fewer units than they remove: the count stopped at 0. Each is
    /// the event's index in the `events` given, and the units it did not find.
    pub stopped_at_zero: Vec<(usize, u64)>,
    /// Events that changed nothing, by index, and why: a pair the inventory does not list,
    /// or a count that would pass [`crate::MAX_UNITS`] (`load::events::check_events`
    /// refuses both before a replay).
    pub refused: Vec<(usize, crate::stock::AdjustError)>,
}

/// [`replay`] with stock events: each event is applied before the first order placed at
/// or after its moment (events at the same moment in file order). Returns the key
/// figures and what became of events that did not apply as written.
pub fn replay_with_events(
    engine: &Engine,
    orders: &[Order],
    events: &[StockEvent],
    mut each: impl FnMut(&Order, &Decision),
) -> (Kpis, EventReport) {
    let mut kpis = Kpis::default();
    let mut report = EventReport::default();
    let mut pending: Vec<(usize, &StockEvent)> = events.iter().enumerate().collect();
    // Stable: events at one moment keep their file order.
    pending.sort_by_key(|(_, e)| e.at_ms);
    let mut next_event = 0;
    // Orders are planned ahead on every core and committed in replay order: the same
    // decisions as routing them one by one (see `crate::pipeline`).
    let in_order = replay_order(orders)
        .into_iter()
        .filter_map(|i| orders.get(i));
    let events_due = |order: &Order, stock: &mut crate::pipeline::Adjuster<'_>| {
        let t = order
            .placed_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or(i64::MIN, |t| t.timestamp_millis());
        while let Some(&(i, e)) = pending.get(next_event).filter(|(_, e)| e.at_ms <= t) {
            match stock.adjust(e.location, &e.sku, e.delta) {
                Ok(done) => {
                    let missing = done.missing(e.delta);
                    if missing > 0 {
                        report.stopped_at_zero.push((i, missing));
                    }
                }
                Err(why) => report.refused.push((i, why)),
            }
            next_event += 1;
        }
    };
    let routed = crate::pipeline::Pipeline::new(engine).run(in_order, events_due, |order, d, _| {
        kpis.add(order, &d, engine.network());
        each(order, &d);
        Ok::<(), std::convert::Infallible>(())
    });
    if let Err(never) = routed {
        match never {}
    }
    kpis.finish(engine.network());
    (kpis, report)
}

#[cfg(test)]
mod tests;
