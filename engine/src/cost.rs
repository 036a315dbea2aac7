//! The cost model of contract section 4: service choice, days and shipment cost.
//!
//! In: a location, the order's destination and promise, a shipment weight.
//! Out: the service the contract picks, its days and its cost. The allocator splits the
//! cost into a part fixed per shipment and a part per kilogram, so that it can bound and
//! compare plans without recomputing distances.

use crate::geo::haversine_km;
use crate::model::network::{Location, Service};

/// Transit days of one service over a distance: `max(1, ceil(distance / km_per_day))`.
pub fn transit_days(distance_km: f64, service: &Service) -> u32 {
    let days = (distance_km / service.km_per_day).ceil();
    // Saturate: a distance beyond u32 days is as good as never.
    if days >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        (days as u32).max(1)
    }
}

/// One way a location can send a shipment for one order: a service (or the pickup counter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ShipOption {
    /// Index of the service in the network; `None` for units handed out at the pickup store.
    pub service: Option<u16>,
    /// Handling + base + distance cost, in the contract's order of terms.
    pub fixed: f64,
    /// Cost per kilogram.
    pub per_kg: f64,
    /// Processing plus transit days.
    pub days: u32,
    /// Whether `days` keeps the order's promise.
    pub meets_promise: bool,
}

impl ShipOption {
    /// The shipment's cost at this weight: exactly the contract's sum.
    #[inline]
    pub fn cost(&self, weight_kg: f64) -> f64 {
        self.fixed + self.per_kg * weight_kg
    }
}

/// What one location offers one order: its distance and the services it may use.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LocationOffer {
    /// Great-circle distance to the destination (0 at the pickup counter).
    pub distance_km: f64,
    /// The services the contract lets this shipment choose from: those that keep the
    /// promise, or all of them when none does. Never empty when the network has a service.
    pub options: Vec<ShipOption>,
}

fn meets(days: u32, promise: Option<u32>) -> bool {
    promise.is_none_or(|p| days <= p)
}

impl LocationOffer {
    /// The offer of a location shipping to `(lat, lon)` with an optional promise.
    pub fn shipping(
        location: &Location,
        services: &[Service],
        lat: f64,
        lon: f64,
        promise_days: Option<u32>,
    ) -> LocationOffer {
        let distance_km = haversine_km(location.lat, location.lon, lat, lon);
        let all = services.iter().enumerate().map(|(i, s)| {
            let days = location
                .processing_days
                .saturating_add(transit_days(distance_km, s));
            ShipOption {
                service: Some(i as u16),
                fixed: location.handling_cost + s.base_cost + s.cost_per_km * distance_km,
                per_kg: s.cost_per_kg,
                days,
                meets_promise: meets(days, promise_days),
            }
        });
        let mut options: Vec<ShipOption> = all.clone().filter(|o| o.meets_promise).collect();
        if options.is_empty() {
            options = all.collect();
        }
        LocationOffer {
            distance_km,
            options,
        }
    }

    /// The offer of the pickup store for its own units: no service, handling only.
    pub fn pickup_counter(location: &Location, promise_days: Option<u32>) -> LocationOffer {
        let days = location.processing_days;
        LocationOffer {
            distance_km: 0.0,
            options: vec![ShipOption {
                service: None,
                fixed: location.handling_cost,
                per_kg: 0.0,
                days,
                meets_promise: meets(days, promise_days),
            }],
        }
    }

    /// The offer of `location` for `order`: the pickup counter when it is the order's
    /// pickup store (`is_pickup_store`), a carrier shipment to `ship_to` otherwise.
    pub fn for_order(
        location: &Location,
        is_pickup_store: bool,
        services: &[Service],
        order: &crate::model::order::Order,
    ) -> LocationOffer {
        if is_pickup_store {
            LocationOffer::pickup_counter(location, order.promise_days)
        } else {
            LocationOffer::shipping(
                location,
                services,
                order.ship_to.lat,
                order.ship_to.lon,
                order.promise_days,
            )
        }
    }

    /// The option the contract picks at this weight: the cheapest, ties to the earlier service.
    pub fn choose(&self, weight_kg: f64) -> Option<&ShipOption> {
        let mut best: Option<&ShipOption> = None;
        for o in &self.options {
            if best.is_none_or(|b| o.cost(weight_kg) < b.cost(weight_kg)) {
                best = Some(o);
            }
        }
        best
    }

    /// Drops options that another option beats at every weight (no more fixed cost, no
    /// more per kg), keeping the earlier one on a full tie. The choice at any weight stays
    /// the same; the allocator only has fewer options to try.
    pub fn prune_dominated(&mut self) {
        let opts = std::mem::take(&mut self.options);
        for (i, o) in opts.iter().enumerate() {
            let dominated = opts.iter().enumerate().any(|(j, p)| {
                j != i
                    && p.fixed <= o.fixed
                    && p.per_kg <= o.per_kg
                    && (p.fixed < o.fixed || p.per_kg < o.per_kg || j < i)
            });
            if !dominated {
                self.options.push(*o);
            }
        }
    }

    /// The least fixed cost of any option: a lower bound on any shipment from here.
    pub fn min_fixed(&self) -> f64 {
        self.options
            .iter()
            .map(|o| o.fixed)
            .fold(f64::INFINITY, f64::min)
    }

    /// The least cost per kg of any option.
    pub fn min_per_kg(&self) -> f64 {
        self.options
            .iter()
            .map(|o| o.per_kg)
            .fold(f64::INFINITY, f64::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::LocationKind;

    fn loc(lat: f64, lon: f64, handling: f64, processing: u32) -> Location {
        crate::fixtures::location("L", LocationKind::Dc, lat, lon, handling, processing)
    }

    fn services() -> Vec<Service> {
        // The example network's services.
        vec![
            Service {
                id: "ground".into(),
                base_cost: 4.2,
                cost_per_km: 0.0015,
                cost_per_kg: 0.35,
                km_per_day: 450.0,
            },
            Service {
                id: "express".into(),
                base_cost: 9.9,
                cost_per_km: 0.003,
                cost_per_kg: 0.8,
                km_per_day: 1100.0,
            },
        ]
    }

    #[test]
    fn transit_days_round_up_with_a_minimum_of_one() {
        let s = &services()[0];
        assert_eq!(transit_days(0.0, s), 1);
        assert_eq!(transit_days(449.9, s), 1);
        assert_eq!(transit_days(450.0, s), 1);
        assert_eq!(transit_days(450.1, s), 2);
    }

    #[test]
    fn ex1_kassel_ground_costs_the_worked_example() {
        // EX-1: DC-KASSEL to Frankfurt, 2 x 0.25 kg, no promise: ground, 5.693871165.
        let kassel = loc(51.31667, 9.5, 1.1, 0);
        let offer = LocationOffer::shipping(&kassel, &services(), 50.11092, 8.68213, None);
        let o = offer.choose(0.5).copied();
        assert_eq!(o.map(|o| o.service), Some(Some(0)));
        let cost = o.map(|o| o.cost(0.5)).unwrap_or(f64::NAN);
        assert!((cost - 5.693871165).abs() < 1e-6, "{cost}");
        assert_eq!(o.map(|o| o.days), Some(1));
    }

    #[test]
    fn ex10_promise_forces_express_or_misses() {
        // EX-10: 1-day promise, 481 km from Kassel: ground needs 2 days, express keeps it.
        let kassel = loc(51.31667, 9.5, 1.1, 0);
        let offer = LocationOffer::shipping(&kassel, &services(), 47.6314, 13.0017, Some(1));
        assert_eq!(offer.options.len(), 1);
        let o = offer.choose(1.0).copied();
        assert_eq!(o.map(|o| o.service), Some(Some(1)));
        let cost = o.map(|o| o.cost(1.0)).unwrap_or(f64::NAN);
        assert!((cost - 13.244407).abs() < 1e-6, "{cost}");
        // The vendor (3 processing days) keeps no promise: cheapest service, missed.
        let vendor = loc(48.78232, 9.17702, 0.5, 3);
        let offer = LocationOffer::shipping(&vendor, &services(), 47.6314, 13.0017, Some(1));
        assert_eq!(offer.options.len(), 2);
        let o = offer.choose(22.0).copied();
        assert_eq!(
            o.map(|o| (o.service, o.meets_promise)),
            Some((Some(0), false))
        );
        let cost = o.map(|o| o.cost(22.0)).unwrap_or(f64::NAN);
        assert!((cost - 12.866401).abs() < 1e-6, "{cost}");
    }

    #[test]
    fn heavy_parcels_can_make_another_service_cheaper() {
        // A service with a high base but a low rate per kg wins for heavy parcels.
        let mut s = services();
        s[1].base_cost = 20.0;
        s[1].cost_per_kg = 0.05;
        s[1].cost_per_km = 0.0015;
        let l = loc(50.0, 8.0, 1.0, 0);
        let offer = LocationOffer::shipping(&l, &s, 50.5, 8.5, None);
        assert_eq!(offer.choose(1.0).and_then(|o| o.service), Some(0));
        assert_eq!(offer.choose(100.0).and_then(|o| o.service), Some(1));
        let mut pruned = offer.clone();
        pruned.prune_dominated();
        assert_eq!(
            pruned.options.len(),
            2,
            "neither option dominates the other"
        );
    }

    #[test]
    fn ties_go_to_the_earlier_service_and_dominated_options_are_dropped() {
        let mut s = services();
        s[1] = s[0].clone();
        s[1].id = "ground-2".into();
        let l = loc(50.0, 8.0, 1.0, 0);
        let mut offer = LocationOffer::shipping(&l, &s, 50.5, 8.5, None);
        assert_eq!(offer.choose(3.0).and_then(|o| o.service), Some(0));
        offer.prune_dominated();
        assert_eq!(offer.options.len(), 1);
        assert_eq!(offer.options[0].service, Some(0));
    }

    #[test]
    fn the_pickup_counter_costs_handling_only() {
        let munich = loc(48.13743, 11.57549, 3.6, 1);
        let offer = LocationOffer::pickup_counter(&munich, Some(1));
        let o = offer.choose(1.8).copied();
        assert_eq!(
            o.map(|o| (o.service, o.days, o.meets_promise)),
            Some((None, 1, true))
        );
        assert_eq!(o.map(|o| o.cost(1.8)), Some(3.6));
    }
}
