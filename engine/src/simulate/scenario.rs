//! What-if changes to a replay's world, applied between orders: closures, lower daily
//! capacities and stock set to a count.
//!
//! In: a [`Scenario`] whose locations are indexes into the network (the command line reads
//! and checks the file). Out: [`Timeline`], which applies each change, and the stock events
//! of the replay, before the first order placed at or after its moment. A closed location
//! holds no stock: its units are put aside when it closes and come back when it reopens,
//! and stock events at it while it is closed go to what is put aside.

use crate::load::events::StockEvent;
use crate::pipeline::Adjuster;
use std::collections::BTreeMap;

/// A location closed from one moment to another: it ships nothing and hands nothing out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    /// Index of the location in the network.
    pub location: usize,
    /// The moment it closes (ms since 1970-01-01 UTC).
    pub from_ms: i64,
    /// The moment it opens again (exclusive).
    pub to_ms: i64,
    /// The SKUs the inventory lists at the location (what is put aside).
    pub skus: Vec<String>,
}

/// A location's daily capacity lowered on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapacityLimit {
    /// Index of the location in the network.
    pub location: usize,
    /// The day (days since 1970-01-01, the UTC date orders are counted by).
    pub day: i64,
    /// Shipments it may send that day.
    pub shipments: u32,
}

/// A pair's available units set to a count at a moment (a stock take, a write-off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockSetting {
    /// The moment (ms since 1970-01-01 UTC).
    pub at_ms: i64,
    /// Index of the location in the network.
    pub location: usize,
    /// The SKU.
    pub sku: String,
    /// Units available from then on.
    pub units: u64,
}

/// The changes of a what-if, checked against the network and inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scenario {
    /// Closures.
    pub closures: Vec<Closure>,
    /// Lower daily capacities.
    pub capacity: Vec<CapacityLimit>,
    /// Stock set to a count.
    pub stock: Vec<StockSetting>,
}

/// One change on the timeline, in the order applied at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// A closure ends (first, so that a location reopened and closed at one moment is
    /// closed).
    Reopen(usize),
    /// A daily capacity is lowered.
    Limit(usize),
    /// A closure starts.
    Close(usize),
    /// A stock event, by index.
    Event(usize),
    /// A stock setting.
    Set(usize),
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
    /// Stock events at a closed location, by index: added to (or taken from) what it
    /// put aside, back on the shelf when it reopens.
    pub while_closed: Vec<usize>,
}

/// The scenario's changes and the stock events, in time order, applied as orders come.
#[derive(Debug)]
pub struct Timeline<'a> {
    scenario: &'a Scenario,
    events: &'a [StockEvent],
    steps: Vec<(i64, Step)>,
    next: usize,
    /// Units put aside per closure and SKU while the location is closed.
    aside: Vec<BTreeMap<String, u64>>,
    /// The closures in force per location.
    closed: BTreeMap<usize, usize>,
    /// What became of the events.
    pub report: EventReport,
}

impl<'a> Timeline<'a> {
    /// The steps of `scenario` and `events`, ordered by moment (stable within a kind).
    pub fn new(scenario: &'a Scenario, events: &'a [StockEvent]) -> Timeline<'a> {
        let mut steps: Vec<(i64, Step)> = Vec::new();
        for (i, c) in scenario.closures.iter().enumerate() {
            steps.push((c.from_ms, Step::Close(i)));
            steps.push((c.to_ms, Step::Reopen(i)));
        }
        for (i, c) in scenario.capacity.iter().enumerate() {
            steps.push((c.day.saturating_mul(86_400_000), Step::Limit(i)));
        }
        for (i, e) in events.iter().enumerate() {
            steps.push((e.at_ms, Step::Event(i)));
        }
        for (i, s) in scenario.stock.iter().enumerate() {
            steps.push((s.at_ms, Step::Set(i)));
        }
        // By moment, then kind, then index: events at one moment keep their file order.
        steps.sort_unstable();
        Timeline {
            scenario,
            events,
            steps,
            next: 0,
            aside: vec![BTreeMap::new(); scenario.closures.len()],
            closed: BTreeMap::new(),
            report: EventReport::default(),
        }
    }

    /// Applies every step due at or before `t` (ms; `i64::MIN` for an undated order).
    pub fn apply_until(&mut self, t: i64, stock: &mut Adjuster<'_>) {
        while let Some(&(at, step)) = self.steps.get(self.next) {
            if at > t {
                break;
            }
            self.next += 1;
            self.apply(step, stock);
        }
    }

    fn apply(&mut self, step: Step, stock: &mut Adjuster<'_>) {
        match step {
            Step::Close(i) => {
                let Some(c) = self.scenario.closures.get(i) else {
                    return;
                };
                self.closed.insert(c.location, i);
                for sku in &c.skus {
                    // Read the count, then take all of it.
                    if let Ok(now) = stock.adjust(c.location, sku, 0) {
                        let delta = i64::try_from(now.after).unwrap_or(i64::MAX);
                        if stock.adjust(c.location, sku, -delta).is_ok() {
                            if let Some(a) = self.aside.get_mut(i) {
                                *a.entry(sku.clone()).or_default() += now.after;
                            }
                        }
                    }
                }
            }
            Step::Reopen(i) => {
                let Some(c) = self.scenario.closures.get(i) else {
                    return;
                };
                if self.closed.get(&c.location) == Some(&i) {
                    self.closed.remove(&c.location);
                }
                let aside = self
                    .aside
                    .get_mut(i)
                    .map(std::mem::take)
                    .unwrap_or_default();
                for (sku, units) in aside {
                    let _ = stock.adjust(c.location, &sku, i64::try_from(units).unwrap_or(0));
                }
            }
            Step::Limit(i) => {
                if let Some(c) = self.scenario.capacity.get(i) {
                    let _ = stock.limit_capacity(c.location, c.day, c.shipments);
                }
            }
            Step::Event(i) => {
                let Some(e) = self.events.get(i) else {
                    return;
                };
                if let Some(&c) = self.closed.get(&e.location) {
                    self.report.while_closed.push(i);
                    if let Some(a) = self.aside.get_mut(c) {
                        let n = a.entry(e.sku.clone()).or_default();
                        *n = n.saturating_add_signed(e.delta);
                    }
                    return;
                }
                match stock.adjust(e.location, &e.sku, e.delta) {
                    Ok(done) => {
                        let missing = done.missing(e.delta);
                        if missing > 0 {
                            self.report.stopped_at_zero.push((i, missing));
                        }
                    }
                    Err(why) => self.report.refused.push((i, why)),
                }
            }
            Step::Set(i) => {
                let Some(s) = self.scenario.stock.get(i) else {
                    return;
                };
                if let Some(&c) = self.closed.get(&s.location) {
                    if let Some(a) = self.aside.get_mut(c) {
                        a.insert(s.sku.clone(), s.units);
                    }
                    return;
                }
                if let Ok(now) = stock.adjust(s.location, &s.sku, 0) {
                    let delta = i128::from(s.units) - i128::from(now.after);
                    let _ =
                        stock.adjust(s.location, &s.sku, i64::try_from(delta).unwrap_or_default());
                }
            }
        }
    }
}

/// ms since 1970-01-01 UTC of an RFC 3339 moment, or of the start of a date (`2026-11-24`).
pub fn parse_moment(text: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    let d = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// Whether the text is a date alone (`2026-11-24`).
pub fn is_date(text: &str) -> bool {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}
