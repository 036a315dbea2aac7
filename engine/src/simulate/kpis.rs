//! Key figures of a replay: what planners compare rule sets on.
//!
//! In: decisions, in replay order, with the orders they answer. Out: [`Kpis`] — the same
//! [`Block`] of figures overall, per day (UTC date of `placed_at`), per channel and per
//! strategy, plus the load of each location. Sums are taken in replay order, so the same
//! replay gives the same bytes whatever the machine.

use crate::model::decision::{Decision, Status};
use crate::model::network::{LocationKind, Network};
use crate::model::order::Order;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;

/// Distance histogram resolution: percentiles are exact to this many km.
const KM_BIN: f64 = 1.0;

/// The figures of a set of orders.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Block {
    /// Orders.
    pub orders: u64,
    /// Orders with every unit placed.
    pub orders_sourced: u64,
    /// Units ordered.
    pub units_ordered: u64,
    /// Units placed.
    pub units_placed: u64,
    /// Units placed / units ordered.
    pub fill_rate_units: f64,
    /// Orders sourced / orders.
    pub fill_rate_orders: f64,
    /// Orders with more than one shipment / orders with at least one.
    pub split_rate: f64,
    /// Shipments.
    pub shipments: u64,
    /// Shipments per order with at least one.
    pub shipments_per_order: f64,
    /// Sum of the orders' costs.
    pub total_cost: f64,
    /// Total cost per order with at least one shipment.
    pub cost_per_order: f64,
    /// Total cost per unit placed.
    pub cost_per_unit: f64,
    /// Mean shipment distance.
    pub mean_distance_km: f64,
    /// 95th percentile of shipment distance (to the km).
    pub p95_distance_km: f64,
    /// Shipments that keep their order's promise / shipments of orders with a promise.
    pub promise_attainment: f64,
    /// Units placed from stores / units placed (counter hand-outs included).
    pub store_share: f64,
    /// Units handed out at a pickup counter (shipments without a service).
    pub counter_units: u64,
    /// Units ordered but not placed.
    pub units_unplaced: u64,
    /// Units placed by location kind.
    pub units_by_kind: BTreeMap<String, u64>,
    /// Units not placed, by reason.
    pub unsourced_by_reason: BTreeMap<String, u64>,
    #[serde(skip)]
    acc: Acc,
}

/// Location kinds in the order of [`KINDS`].
const KINDS: [LocationKind; 3] = [
    LocationKind::Dc,
    LocationKind::Store,
    LocationKind::Dropship,
];

/// Distance bins kept in a list; farther ones (never on Earth) go to a map.
const LISTED_BINS: usize = 1 << 15;

/// Running sums behind a block.
#[derive(Debug, Clone, Default)]
struct Acc {
    with_shipments: u64,
    split: u64,
    distance_sum: f64,
    /// Shipments per distance bin, for bins below [`LISTED_BINS`].
    distance_bins: Vec<u64>,
    far_bins: BTreeMap<u64, u64>,
    promised_shipments: u64,
    kept_promises: u64,
    /// Units handed out at a pickup counter.
    counter_units: u64,
    /// Units by kind (indexed like [`KINDS`]) and whether any shipment of that kind came.
    units_by_kind: [(u64, bool); 3],
    /// Units not placed, by reason, in order of first appearance.
    unsourced: Vec<(String, u64)>,
}

/// What the figures need of one shipment, worked out once per decision.
#[derive(Debug, Clone, Copy)]
struct ShipmentFacts {
    /// Index of the location: into the network's locations, then into the unknown ids.
    location: usize,
    /// Index into [`KINDS`].
    kind: usize,
    units: u64,
    distance_km: f64,
    meets_promise: bool,
    /// Handed out at a pickup counter (no service).
    counter: bool,
}

impl Block {
    fn add(&mut self, units_ordered: u64, promised: bool, d: &Decision, facts: &[ShipmentFacts]) {
        self.orders += 1;
        self.orders_sourced += u64::from(d.status == Status::Sourced);
        self.units_ordered += units_ordered;
        let placed: u64 = facts.iter().map(|f| f.units).sum();
        self.units_placed += placed;
        self.shipments += facts.len() as u64;
        self.total_cost += d.total_cost;
        if !facts.is_empty() {
            self.acc.with_shipments += 1;
        }
        if facts.len() > 1 {
            self.acc.split += 1;
        }
        for f in facts {
            self.acc.distance_sum += f.distance_km;
            let bin = (f.distance_km / KM_BIN) as u64;
            match usize::try_from(bin).ok().filter(|&b| b < LISTED_BINS) {
                Some(b) => {
                    if self.acc.distance_bins.len() <= b {
                        self.acc.distance_bins.resize(b + 1, 0);
                    }
                    if let Some(n) = self.acc.distance_bins.get_mut(b) {
                        *n += 1;
                    }
                }
                None => *self.acc.far_bins.entry(bin).or_default() += 1,
            }
            if promised {
                self.acc.promised_shipments += 1;
                self.acc.kept_promises += u64::from(f.meets_promise);
            }
            if f.counter {
                self.acc.counter_units += f.units;
            }
            if let Some(k) = self.acc.units_by_kind.get_mut(f.kind) {
                k.0 += f.units;
                k.1 = true;
            }
        }
        for u in &d.unsourced {
            let qty = u64::from(u.qty);
            match self
                .acc
                .unsourced
                .iter_mut()
                .find(|(r, _)| *r == u.reason.as_str())
            {
                Some(entry) => entry.1 += qty,
                None => self.acc.unsourced.push((u.reason.to_string(), qty)),
            }
        }
    }

    fn finish(&mut self) {
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        self.fill_rate_units = ratio(self.units_placed as f64, self.units_ordered as f64);
        self.fill_rate_orders = ratio(self.orders_sourced as f64, self.orders as f64);
        let with = self.acc.with_shipments as f64;
        self.split_rate = ratio(self.acc.split as f64, with);
        self.shipments_per_order = ratio(self.shipments as f64, with);
        self.cost_per_order = ratio(self.total_cost, with);
        self.cost_per_unit = ratio(self.total_cost, self.units_placed as f64);
        self.mean_distance_km = ratio(self.acc.distance_sum, self.shipments as f64);
        self.promise_attainment = ratio(
            self.acc.kept_promises as f64,
            self.acc.promised_shipments as f64,
        );
        let store = KINDS.iter().position(|&k| k == LocationKind::Store);
        let store_units = store
            .and_then(|i| self.acc.units_by_kind.get(i))
            .map_or(0, |k| k.0);
        self.store_share = ratio(store_units as f64, self.units_placed as f64);
        self.counter_units = self.acc.counter_units;
        self.units_unplaced = self.units_ordered.saturating_sub(self.units_placed);
        // The smallest distance bin that holds 95 % of the shipments (its upper edge).
        let target = (self.shipments as f64 * 0.95).ceil() as u64;
        let mut seen = 0;
        self.p95_distance_km = 0.0;
        let listed = self.acc.distance_bins.iter().enumerate();
        let bins = listed
            .map(|(bin, &n)| (bin as u64, n))
            .chain(self.acc.far_bins.iter().map(|(&bin, &n)| (bin, n)));
        for (bin, n) in bins.filter(|&(_, n)| n > 0) {
            seen += n;
            if seen >= target {
                self.p95_distance_km = (bin + 1) as f64 * KM_BIN;
                break;
            }
        }
        for (kind, &(units, seen)) in KINDS.iter().zip(&self.acc.units_by_kind) {
            if seen {
                self.units_by_kind.insert(kind.as_str().to_string(), units);
            }
        }
        for (reason, qty) in &self.acc.unsourced {
            self.unsourced_by_reason.insert(reason.clone(), *qty);
        }
    }
}

/// How hard a location worked.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LocationLoad {
    /// The location.
    pub location: String,
    /// Its kind.
    pub kind: String,
    /// Shipments sent.
    pub shipments: u64,
    /// Units sent.
    pub units: u64,
    /// Days on which it sent anything.
    pub active_days: u64,
    /// Days on which it reached its daily capacity.
    pub days_at_capacity: u64,
    /// Its busiest day's shipments / its daily capacity (0 when unlimited).
    pub peak_utilisation: f64,
    /// The days (UTC dates) on which it reached its daily capacity.
    pub full_days: Vec<String>,
}

/// The key figures of a replay.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Kpis {
    /// Every order.
    pub overall: Block,
    /// Per UTC date of `placed_at` (`undated` without it).
    pub by_day: BTreeMap<String, Block>,
    /// Per channel (`none` without it).
    pub by_channel: BTreeMap<String, Block>,
    /// Per strategy that placed the order.
    pub by_strategy: BTreeMap<String, Block>,
    /// Locations that shipped, busiest first.
    pub locations: Vec<LocationLoad>,
    #[serde(skip)]
    tally: Tally,
    /// Daily capacities a scenario set, by (location index, day number): they replace the
    /// network's for the days at capacity.
    #[serde(skip)]
    capacity_override: FxHashMap<(usize, i64), u32>,
}

/// Shipments of one limited location per day, for the capacity heatmap.
#[derive(Debug, Clone, Serialize)]
pub struct LocationDays {
    /// The location.
    pub location: String,
    /// Its kind.
    pub kind: String,
    /// (day label, shipments sent, the day's capacity), by day.
    pub days: Vec<(String, u64, u32)>,
}

/// Running counts behind the location table, keyed by index rather than by name.
#[derive(Debug, Clone, Default)]
struct Tally {
    /// The day of the order last counted: its number and its label.
    day: Option<(Option<i64>, String)>,
    /// (shipments, units) per location index.
    per_location: Vec<(u64, u64)>,
    /// Shipments per (location index, day number).
    per_location_day: FxHashMap<(usize, Option<i64>), u64>,
    /// Shipping locations the network does not list, after the network's own.
    unknown: Vec<String>,
    unknown_index: FxHashMap<String, usize>,
    /// The facts of the decision being counted (kept to reuse the allocation).
    facts: Vec<ShipmentFacts>,
}

/// Days since 1970-01-01 of the UTC date of `placed_at`; `None` without a valid one.
fn day_number(order: &Order) -> Option<i64> {
    order
        .placed_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp().div_euclid(86_400))
}

/// The label of a day number: its date (`2026-11-23`), `undated` for `None`.
fn day_text(day: Option<i64>) -> String {
    day.and_then(|d| chrono::DateTime::from_timestamp(d.checked_mul(86_400)?, 0))
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "undated".into())
}

/// Applies `add` to the block under `key`, created when missing (the key is copied only
/// then).
fn add_to(map: &mut BTreeMap<String, Block>, key: &str, add: impl FnOnce(&mut Block)) {
    match map.get_mut(key) {
        Some(block) => add(block),
        None => {
            let mut block = Block::default();
            add(&mut block);
            map.insert(key.to_string(), block);
        }
    }
}

impl Kpis {
    /// Counts one decision.
    pub fn add(&mut self, order: &Order, d: &Decision, network: &Network) {
        let tally = &mut self.tally;
        let day = day_number(order);
        if tally.day.as_ref().map(|(n, _)| *n) != Some(day) {
            tally.day = Some((day, day_text(day)));
        }
        let mut facts = std::mem::take(&mut tally.facts);
        facts.clear();
        for s in &d.shipments {
            let location = match network.location_index(&s.location) {
                Some(i) => i,
                None => {
                    let next = network.locations.len() + tally.unknown.len();
                    *tally
                        .unknown_index
                        .entry(s.location.clone())
                        .or_insert_with(|| {
                            tally.unknown.push(s.location.clone());
                            next
                        })
                }
            };
            let kind = network
                .locations
                .get(location)
                .map_or(LocationKind::Dc, |l| l.kind);
            facts.push(ShipmentFacts {
                location,
                kind: KINDS.iter().position(|&k| k == kind).unwrap_or(0),
                units: s.lines.iter().map(|l| u64::from(l.qty)).sum(),
                distance_km: s.distance_km,
                meets_promise: s.meets_promise,
                counter: s.service.is_none(),
            });
        }
        let units: u64 = order.lines.iter().map(|l| u64::from(l.qty)).sum();
        let promised = order.promise_days.is_some();
        self.overall.add(units, promised, d, &facts);
        let label = tally.day.as_ref().map_or("undated", |(_, l)| l.as_str());
        let add = |b: &mut Block| b.add(units, promised, d, &facts);
        add_to(&mut self.by_day, label, add);
        let channel = order.channel.as_deref().unwrap_or("none");
        add_to(&mut self.by_channel, channel, add);
        let strategy = if d.rule.is_empty() { "none" } else { &d.rule };
        add_to(&mut self.by_strategy, strategy, add);
        for f in &facts {
            if tally.per_location.len() <= f.location {
                tally.per_location.resize(f.location + 1, (0, 0));
            }
            if let Some(e) = tally.per_location.get_mut(f.location) {
                e.0 += 1;
                e.1 += f.units;
            }
            *tally.per_location_day.entry((f.location, day)).or_default() += 1;
        }
        tally.facts = facts;
    }

    /// Counts `limit` as the daily capacity of the location at `location` (an index into
    /// the network's locations) on day `day` (days since 1970-01-01): a scenario's override.
    pub fn override_capacity(&mut self, location: usize, day: i64, limit: u32) {
        self.capacity_override.insert((location, day), limit);
    }

    /// The capacity of the location at index `i` on `day`: a scenario's, else the network's.
    fn capacity_on(&self, network: &Network, i: usize, day: Option<i64>) -> Option<u32> {
        day.and_then(|d| self.capacity_override.get(&(i, d)).copied())
            .or_else(|| network.locations.get(i).and_then(|l| l.daily_capacity))
    }

    /// Shipments per day of every location with a daily capacity that shipped, in network
    /// order, days in date order.
    pub fn location_days(&self, network: &Network) -> Vec<LocationDays> {
        let mut by_location: BTreeMap<usize, Vec<(Option<i64>, u64, u32)>> = BTreeMap::new();
        for (&(i, day), &n) in &self.tally.per_location_day {
            if let Some(cap) = self.capacity_on(network, i, day) {
                by_location.entry(i).or_default().push((day, n, cap));
            }
        }
        by_location
            .into_iter()
            .filter_map(|(i, mut days)| {
                let loc = network.locations.get(i)?;
                days.sort_unstable_by_key(|d| d.0);
                Some(LocationDays {
                    location: loc.id.clone(),
                    kind: loc.kind.as_str().to_string(),
                    days: days
                        .into_iter()
                        .map(|(d, n, cap)| (day_text(d), n, cap))
                        .collect(),
                })
            })
            .collect()
    }

    /// Finishes the ratios and the location table.
    pub fn finish(&mut self, network: &Network) {
        self.overall.finish();
        for b in self
            .by_day
            .values_mut()
            .chain(self.by_channel.values_mut())
            .chain(self.by_strategy.values_mut())
        {
            b.finish();
        }
        let tally = &self.tally;
        // Per location: (active days, busiest day, days at capacity).
        let capacity = |i: usize| network.locations.get(i).and_then(|l| l.daily_capacity);
        let mut days = vec![(0u64, 0u64, 0u64); tally.per_location.len()];
        let mut full: Vec<Vec<Option<i64>>> = vec![Vec::new(); tally.per_location.len()];
        for (&(i, day), &n) in &tally.per_location_day {
            if let Some(e) = days.get_mut(i) {
                e.0 += 1;
                e.1 = e.1.max(n);
                let at = self
                    .capacity_on(network, i, day)
                    .is_some_and(|c| n >= u64::from(c));
                e.2 += u64::from(at);
                if let (true, Some(f)) = (at, full.get_mut(i)) {
                    f.push(day);
                }
            }
        }
        let mut loads: Vec<LocationLoad> = tally
            .per_location
            .iter()
            .zip(&days)
            .enumerate()
            .filter(|(_, (&(shipments, _), _))| shipments > 0)
            .map(|(i, (&(shipments, units), &(active, peak, at_capacity)))| {
                let loc = network.locations.get(i);
                let id = match loc {
                    Some(l) => l.id.clone(),
                    None => i
                        .checked_sub(network.locations.len())
                        .and_then(|j| tally.unknown.get(j))
                        .cloned()
                        .unwrap_or_default(),
                };
                LocationLoad {
                    location: id,
                    kind: loc.map_or("dc", |l| l.kind.as_str()).to_string(),
                    shipments,
                    units,
                    active_days: active,
                    days_at_capacity: at_capacity,
                    peak_utilisation: capacity(i)
                        .filter(|&c| c > 0)
                        .map_or(0.0, |c| peak as f64 / f64::from(c)),
                    full_days: {
                        let mut f = full.get(i).cloned().unwrap_or_default();
                        f.sort_unstable();
                        f.into_iter().map(day_text).collect()
                    },
                }
            })
            .collect();
        loads.sort_by(|a, b| {
            b.shipments
                .cmp(&a.shipments)
                .then(a.location.cmp(&b.location))
        });
        self.locations = loads;
    }
}
