//! A tiny, obviously correct reference router: it tries every allocation of every unit.
//! Only usable on toy orders; the property tests compare the real router against it.

use crate::cost::LocationOffer;
use crate::model::network::{LocationKind, Network};
use crate::model::order::{Fulfillment, Order};

/// The least cost of placing as many units as the stock allows, each SKU's available units
/// going to its lines in line order (the router's documented rule). Returns the units
/// placed and the cost.
pub(crate) fn cheapest(
    network: &Network,
    atp: &dyn Fn(usize, &str) -> u64,
    order: &Order,
) -> (u64, f64) {
    let pickup = match order.fulfillment {
        Fulfillment::Pickup => order
            .pickup_location
            .as_deref()
            .and_then(|id| network.location_index(id))
            .filter(|&i| network.locations[i].kind == LocationKind::Store),
        Fulfillment::Ship => None,
    };
    let offers: Vec<LocationOffer> = network
        .locations
        .iter()
        .enumerate()
        .map(|(i, l)| LocationOffer::for_order(l, Some(i) == pickup, &network.services, order))
        .collect();
    // Cut each line to what its SKU has left after earlier lines.
    let mut left: std::collections::BTreeMap<&str, u64> = Default::default();
    let mut qty = Vec::new();
    for line in &order.lines {
        let avail = left.entry(&line.sku).or_insert_with(|| {
            (0..network.locations.len())
                .map(|l| atp(l, &line.sku))
                .sum()
        });
        let q = u64::from(line.qty).min(*avail);
        *avail -= q;
        qty.push(q);
    }
    let mut brute = Brute {
        order,
        qty: &qty,
        offers: &offers,
        atp,
        used: vec![vec![0u64; order.lines.len()]; network.locations.len()],
        best: f64::INFINITY,
    };
    brute.line(0);
    let best = brute.best;
    (qty.iter().sum(), if best.is_finite() { best } else { 0.0 })
}

/// The exhaustive walk: every way of spreading every line over every location.
struct Brute<'a> {
    order: &'a Order,
    qty: &'a [u64],
    offers: &'a [LocationOffer],
    atp: &'a dyn Fn(usize, &str) -> u64,
    /// Units per location and line.
    used: Vec<Vec<u64>>,
    best: f64,
}

impl Brute<'_> {
    fn line(&mut self, line: usize) {
        if line == self.qty.len() {
            let mut cost = 0.0;
            for (l, u) in self.used.iter().enumerate() {
                if u.iter().all(|&x| x == 0) {
                    continue;
                }
                let w: f64 = u
                    .iter()
                    .zip(&self.order.lines)
                    .map(|(&x, ol)| x as f64 * ol.unit_weight_kg)
                    .sum();
                cost += self.offers[l]
                    .choose(w)
                    .map_or(f64::INFINITY, |o| o.cost(w));
            }
            self.best = self.best.min(cost);
            return;
        }
        self.spread(line, 0, self.qty[line]);
    }

    fn spread(&mut self, line: usize, loc: usize, rest: u64) {
        if loc == self.used.len() {
            if rest == 0 {
                self.line(line + 1);
            }
            return;
        }
        let sku = &self.order.lines[line].sku;
        let taken: u64 = (0..line)
            .filter(|&k| &self.order.lines[k].sku == sku)
            .map(|k| self.used[loc][k])
            .sum();
        let room = (self.atp)(loc, sku).saturating_sub(taken).min(rest);
        for x in 0..=room {
            self.used[loc][line] = x;
            self.spread(line, loc + 1, rest - x);
        }
        self.used[loc][line] = 0;
    }
}
