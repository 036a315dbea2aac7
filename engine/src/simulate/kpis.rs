//! Key figures of a replay: what planners compare rule sets on.
//!
//! In: decisions, in replay order, with the orders they answer. Out: [`Kpis`] — the same
//! [`Block`] of figures overall, per day (UTC date of `placed_at`), per channel and per
//! strategy, plus the load of each location. Sums are taken in replay order, so the same
//! replay gives the same bytes whatever the machine.

use crate::model::decision::{Decision, Status};
use crate::model::network::{LocationKind, Network};
use crate::model::order::Order;
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
    /// Units placed by location kind.
    pub units_by_kind: BTreeMap<String, u64>,
    /// Units not placed, by reason.
    pub unsourced_by_reason: BTreeMap<String, u64>,
    #[serde(skip)]
    acc: Acc,
}

/// Running sums behind a block.
#[derive(Debug, Clone, Default)]
struct Acc {
    with_shipments: u64,
    split: u64,
    distance_sum: f64,
    distance_bins: BTreeMap<u64, u64>,
    promised_shipments: u64,
    kept_promises: u64,
}

impl Block {
    fn add(&mut self, order: &Order, d: &Decision, network: &Network) {
        self.orders += 1;
        self.orders_sourced += u64::from(d.status == Status::Sourced);
        self.units_ordered += order.lines.iter().map(|l| u64::from(l.qty)).sum::<u64>();
        let placed: u64 = d
            .shipments
            .iter()
            .flat_map(|s| &s.lines)
            .map(|l| u64::from(l.qty))
            .sum();
        self.units_placed += placed;
        self.shipments += d.shipments.len() as u64;
        self.total_cost += d.total_cost;
        if !d.shipments.is_empty() {
            self.acc.with_shipments += 1;
        }
        if d.shipments.len() > 1 {
            self.acc.split += 1;
        }
        for s in &d.shipments {
            self.acc.distance_sum += s.distance_km;
            *self
                .acc
                .distance_bins
                .entry((s.distance_km / KM_BIN) as u64)
                .or_default() += 1;
            if order.promise_days.is_some() {
                self.acc.promised_shipments += 1;
                self.acc.kept_promises += u64::from(s.meets_promise);
            }
            let kind = network
                .location(&s.location)
                .map_or(LocationKind::Dc, |l| l.kind)
                .as_str();
            let units: u64 = s.lines.iter().map(|l| u64::from(l.qty)).sum();
            *self.units_by_kind.entry(kind.to_string()).or_default() += units;
        }
        for u in &d.unsourced {
            *self
                .unsourced_by_reason
                .entry(u.reason.clone())
                .or_default() += u64::from(u.qty);
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
        // The smallest distance bin that holds 95 % of the shipments (its upper edge).
        let target = (self.shipments as f64 * 0.95).ceil() as u64;
        let mut seen = 0;
        self.p95_distance_km = 0.0;
        for (&bin, &n) in &self.acc.distance_bins {
            seen += n;
            if seen >= target {
                self.p95_distance_km = (bin + 1) as f64 * KM_BIN;
                break;
            }
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
    per_location_day: BTreeMap<(String, String), u64>,
    #[serde(skip)]
    per_location: BTreeMap<String, (u64, u64)>,
}

/// The UTC date of an order, `undated` without `placed_at`.
pub(crate) fn day_label(order: &Order) -> String {
    order
        .placed_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "undated".into())
}

impl Kpis {
    /// Counts one decision.
    pub fn add(&mut self, order: &Order, d: &Decision, network: &Network) {
        let day = day_label(order);
        self.overall.add(order, d, network);
        self.by_day
            .entry(day.clone())
            .or_default()
            .add(order, d, network);
        let channel = order.channel.clone().unwrap_or_else(|| "none".into());
        self.by_channel
            .entry(channel)
            .or_default()
            .add(order, d, network);
        let strategy = if d.rule.is_empty() {
            "none".to_string()
        } else {
            d.rule.clone()
        };
        self.by_strategy
            .entry(strategy)
            .or_default()
            .add(order, d, network);
        for s in &d.shipments {
            *self
                .per_location_day
                .entry((s.location.clone(), day.clone()))
                .or_default() += 1;
            let e = self.per_location.entry(s.location.clone()).or_default();
            e.0 += 1;
            e.1 += s.lines.iter().map(|l| u64::from(l.qty)).sum::<u64>();
        }
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
        let mut loads: Vec<LocationLoad> = self
            .per_location
            .iter()
            .map(|(id, &(shipments, units))| {
                let loc = network.location(id);
                let days: Vec<u64> = self
                    .per_location_day
                    .range((id.clone(), String::new())..)
                    .take_while(|((l, _), _)| l == id)
                    .map(|(_, &n)| n)
                    .collect();
                let cap = loc.and_then(|l| l.daily_capacity);
                let peak = days.iter().copied().max().unwrap_or(0);
                LocationLoad {
                    location: id.clone(),
                    kind: loc.map_or("dc", |l| l.kind.as_str()).to_string(),
                    shipments,
                    units,
                    active_days: days.len() as u64,
                    days_at_capacity: cap.map_or(0, |c| {
                        days.iter().filter(|&&n| n >= u64::from(c)).count() as u64
                    }),
                    peak_utilisation: cap
                        .filter(|&c| c > 0)
                        .map_or(0.0, |c| peak as f64 / f64::from(c)),
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
