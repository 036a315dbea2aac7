//! What-if replay: orders in time order against the stock, with key figures.
//!
//! In: an engine (network, stock, rules) and the orders. Out: every decision, in replay
//! order, and the [`Kpis`]. Orders are replayed by `placed_at` (file order breaks ties and
//! places undated orders first), consuming stock and counting daily capacity in that order;
//! upcoming orders are planned on every core, and a replay gives the same bytes on every
//! run and with any number of threads.

pub mod changes;
pub mod clause;
pub mod kpis;
pub mod scenario;

use crate::load::events::StockEvent;
use crate::model::decision::Decision;
use crate::model::order::Order;
use crate::Engine;
pub use changes::{Category, Change, Comparer};
pub use kpis::{Block, Kpis, LocationDays, LocationLoad};
pub use scenario::{CapacityLimit, Closure, EventReport, Scenario, StockSetting, Timeline};

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

/// [`replay`] with stock events: each event is applied before the first order placed at
/// or after its moment (events at the same moment in file order). Returns the key
/// figures and what became of events that did not apply as written.
pub fn replay_with_events(
    engine: &Engine,
    orders: &[Order],
    events: &[StockEvent],
    each: impl FnMut(&Order, &Decision),
) -> (Kpis, EventReport) {
    replay_scenario(engine, orders, events, &Scenario::default(), each)
}

/// [`replay_with_events`] under a what-if [`Scenario`]: its closures, capacities and stock
/// settings are applied, like the events, before the first order placed at or after their
/// moment (a capacity at the start of its day).
pub fn replay_scenario(
    engine: &Engine,
    orders: &[Order],
    events: &[StockEvent],
    scenario: &Scenario,
    mut each: impl FnMut(&Order, &Decision),
) -> (Kpis, EventReport) {
    let mut kpis = Kpis::default();
    for c in &scenario.capacity {
        kpis.override_capacity(c.location, c.day, c.shipments);
    }
    let mut timeline = Timeline::new(scenario, events);
    // Orders are planned ahead on every core and committed in replay order: the same
    // decisions as routing them one by one (see `crate::pipeline`).
    let in_order = replay_order(orders)
        .into_iter()
        .filter_map(|i| orders.get(i));
    let due = |order: &Order, stock: &mut crate::pipeline::Adjuster<'_>| {
        let t = order
            .placed_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or(i64::MIN, |t| t.timestamp_millis());
        timeline.apply_until(t, stock);
    };
    let routed = crate::pipeline::Pipeline::new(engine).run(in_order, due, |order, d, _| {
        kpis.add(order, &d, engine.network());
        each(order, &d);
        Ok::<(), std::convert::Infallible>(())
    });
    if let Err(never) = routed {
        match never {}
    }
    kpis.finish(engine.network());
    (kpis, timeline.report)
}

#[cfg(test)]
mod tests;
