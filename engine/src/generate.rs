//! Seeded synthetic data shaped like a national retailer, for benchmarks and tests.
//!
//! In: a seed and a [`Shape`]. Out: a [`Scenario`] (network, inventory rows, orders) that is
//! the same for the same seed on every machine: the random numbers come from SplitMix64,
//! written out here, not from a crate whose streams may change between versions.
//!
//! Population centres follow a Zipf law inside a box the size of Germany; stores are placed
//! in proportion to population, DCs at the largest centres, vendors anywhere. DCs carry
//! most of the range deeply, stores a few hundred mostly popular SKUs thinly, vendors a
//! share of the long tail. Orders pick SKUs by Zipf popularity and destinations by
//! population.

use crate::load::inventory::InventoryRecord;
use crate::model::network::{Location, LocationKind, Network, Service};
use crate::model::order::{Fulfillment, Order, OrderLine, ShipTo};

/// The size of a generated scenario.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Distribution centres.
    pub dcs: usize,
    /// Stores.
    pub stores: usize,
    /// Dropship vendors.
    pub vendors: usize,
    /// SKUs in the range.
    pub skus: usize,
    /// SKUs each store carries.
    pub skus_per_store: usize,
    /// SKUs each vendor carries (from the long tail).
    pub skus_per_vendor: usize,
    /// Orders to generate.
    pub orders: usize,
    /// Most lines per order (at least 1).
    pub max_lines: usize,
    /// Days the orders are spread over, evenly, from 2026-11-23 (at least 1).
    pub days: u32,
}

impl Shape {
    /// About 8 DCs, 1,200 stores, 30 vendors and 50,000 SKUs, orders of 1–4 lines.
    pub fn national() -> Shape {
        Shape {
            dcs: 8,
            stores: 1200,
            vendors: 30,
            skus: 50_000,
            skus_per_store: 300,
            skus_per_vendor: 2_000,
            orders: 20_000,
            max_lines: 4,
            days: 1,
        }
    }

    /// The national shape scaled to about `locations` locations (at least 3) and `skus`
    /// SKUs: one DC per 125 locations (at least 2, at most 40), one vendor per 33 (at
    /// least 1, at most 100), stores for the rest; orders of 1–3 lines.
    pub fn with_locations(locations: usize, skus: usize) -> Shape {
        let locations = locations.max(3);
        let dcs = (locations / 125).clamp(2, 40);
        let vendors = (locations / 33).clamp(1, 100);
        Shape {
            dcs,
            stores: locations.saturating_sub(dcs + vendors).max(1),
            vendors,
            skus: skus.max(1),
            max_lines: 3,
            ..Shape::national()
        }
    }

    /// Locations in the network.
    pub fn locations(&self) -> usize {
        self.dcs + self.stores + self.vendors
    }
}

/// The same orders with exactly `lines` lines each (at least 1): each order keeps its
/// customer, destination and promise, and takes the next `lines` lines of the stream of
/// every order's lines, in order, so SKUs keep their popularity.
pub fn with_lines(orders: &[Order], lines: usize) -> Vec<Order> {
    let pool: Vec<&OrderLine> = orders.iter().flat_map(|o| &o.lines).collect();
    if pool.is_empty() {
        return orders.to_vec();
    }
    let lines = lines.max(1);
    orders
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut order = o.clone();
            order.lines = (0..lines)
                .filter_map(|k| pool.get((i * lines + k) % pool.len()).map(|l| (*l).clone()))
                .collect();
            order
        })
        .collect()
}

/// A generated network, its stock and a stream of orders.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The network.
    pub network: Network,
    /// Inventory rows.
    pub inventory: Vec<InventoryRecord>,
    /// Orders, in time order.
    pub orders: Vec<Order>,
}

/// SplitMix64: tiny, fast and stable across versions.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.unit() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

/// Draws indices by a precomputed cumulative distribution.
struct Weighted {
    cdf: Vec<f64>,
}

impl Weighted {
    fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        let cdf = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Weighted { cdf }
    }

    fn zipf(n: usize, s: f64) -> Weighted {
        Weighted::new((1..=n).map(|r| 1.0 / (r as f64).powf(s)))
    }

    fn draw(&self, rng: &mut Rng) -> usize {
        let total = self.cdf.last().copied().unwrap_or(0.0);
        let x = rng.unit() * total;
        self.cdf
            .partition_point(|&c| c <= x)
            .min(self.cdf.len().saturating_sub(1))
    }
}

struct Centre {
    lat: f64,
    lon: f64,
    population: f64,
}

fn location(id: String, kind: LocationKind, lat: f64, lon: f64) -> Location {
    Location {
        id,
        kind,
        lat,
        lon,
        country: Some("DE".into()),
        region: None,
        tags: Vec::new(),
        handling_cost: 0.0,
        processing_days: 0,
        daily_capacity: None,
        priority: None,
        attr: Default::default(),
    }
}

/// Generates a scenario; the same seed and shape give the same scenario.
pub fn scenario(seed: u64, shape: &Shape) -> Scenario {
    let mut rng = Rng(seed);
    let centres: Vec<Centre> = (0..400)
        .map(|r| Centre {
            lat: rng.range(47.4, 54.8),
            lon: rng.range(6.0, 14.8),
            population: 3_600_000.0 / (r as f64 + 1.0),
        })
        .collect();
    let by_population = Weighted::new(centres.iter().map(|c| c.population));
    let regions = ["BW", "BY", "BE", "HE", "HH", "NI", "NW", "SN"];

    let mut locations = Vec::new();
    for i in 0..shape.dcs {
        let c = &centres[i % centres.len()];
        let mut l = location(format!("DC-{:02}", i + 1), LocationKind::Dc, c.lat, c.lon);
        l.handling_cost = 1.10;
        l.daily_capacity = Some(40_000);
        l.priority = Some(1);
        l.tags = vec!["hazmat".into(), "bulky".into()];
        locations.push(l);
    }
    let mut store_centre = Vec::new();
    for i in 0..shape.stores {
        let ci = by_population.draw(&mut rng);
        let c = &centres[ci];
        let mut l = location(
            format!("ST-{:04}", i + 1),
            LocationKind::Store,
            c.lat + rng.range(-0.05, 0.05),
            c.lon + rng.range(-0.08, 0.08),
        );
        l.handling_cost = (rng.range(2.2, 3.6) * 100.0).round() / 100.0;
        l.processing_days = 1;
        l.daily_capacity = Some(60);
        l.priority = Some(3);
        l.tags = vec!["pickup".into()];
        l.region = Some(regions[ci % regions.len()].into());
        store_centre.push(ci);
        locations.push(l);
    }
    for i in 0..shape.vendors {
        let mut l = location(
            format!("VD-{:03}", i + 1),
            LocationKind::Dropship,
            rng.range(47.4, 54.8),
            rng.range(6.0, 14.8),
        );
        l.handling_cost = 0.5;
        l.processing_days = 2 + (i % 2) as u32;
        l.priority = Some(5);
        locations.push(l);
    }
    let services = vec![
        Service {
            id: "ground".into(),
            base_cost: 4.20,
            cost_per_km: 0.0015,
            cost_per_kg: 0.35,
            km_per_day: 450.0,
        },
        Service {
            id: "express".into(),
            base_cost: 9.90,
            cost_per_km: 0.0030,
            cost_per_kg: 0.80,
            km_per_day: 1100.0,
        },
    ];
    let network = Network::new("EUR".into(), locations, services);

    // Stock. SKU names carry their popularity rank.
    let sku = |r: usize| format!("SKU-{r:05}");
    let popularity = Weighted::zipf(shape.skus, 1.0);
    let mut inventory = Vec::new();
    for d in 0..shape.dcs {
        for r in 0..shape.skus {
            // Every DC carries the popular head; the tail is spread over fewer DCs.
            let carried = r < shape.skus / 3 || (r + d) % 3 == 0;
            if carried {
                inventory.push(InventoryRecord {
                    location: d,
                    sku: sku(r),
                    // Deep stock, deeper for the best sellers.
                    on_hand: 20 + rng.next_u64() % 400 + 200_000 / (r as u64 + 1),
                    reserved: rng.next_u64() % 5,
                    safety_stock: 2,
                });
            }
        }
    }
    let mut carried = vec![false; shape.skus];
    for s in 0..shape.stores {
        let mut picked = Vec::new();
        let mut tries = 0;
        while picked.len() < shape.skus_per_store.min(shape.skus)
            && tries < 20 * shape.skus_per_store
        {
            tries += 1;
            let r = popularity.draw(&mut rng);
            if !carried[r] {
                carried[r] = true;
                picked.push(r);
            }
        }
        for &r in &picked {
            carried[r] = false;
            inventory.push(InventoryRecord {
                location: shape.dcs + s,
                sku: sku(r),
                on_hand: 1 + rng.next_u64() % 6,
                reserved: 0,
                safety_stock: u64::from(rng.unit() < 0.3),
            });
        }
    }
    let tail_start = shape.skus / 3;
    for v in 0..shape.vendors {
        let loc = shape.dcs + shape.stores + v;
        for k in 0..shape.skus_per_vendor.min(shape.skus - tail_start) {
            let r = tail_start + (v * 997 + k * 7) % (shape.skus - tail_start);
            inventory.push(InventoryRecord {
                location: loc,
                sku: sku(r),
                on_hand: 10_000,
                reserved: 0,
                safety_stock: 0,
            });
        }
    }
    inventory.sort_by(|a, b| (a.location, &a.sku).cmp(&(b.location, &b.sku)));
    inventory.dedup_by(|a, b| a.location == b.location && a.sku == b.sku);

    // Orders.
    let line_counts = Weighted::new(
        [55.0, 25.0, 12.0, 8.0, 4.0, 2.0]
            .into_iter()
            .take(shape.max_lines.max(1)),
    );
    let mut orders = Vec::with_capacity(shape.orders);
    for i in 0..shape.orders {
        let ci = by_population.draw(&mut rng);
        let c = &centres[ci];
        let n_lines = line_counts.draw(&mut rng) + 1;
        let mut lines = Vec::with_capacity(n_lines);
        for _ in 0..n_lines {
            let r = popularity.draw(&mut rng);
            let u = rng.unit();
            lines.push(OrderLine {
                sku: sku(r),
                qty: if u < 0.8 {
                    1
                } else if u < 0.95 {
                    2
                } else {
                    3
                },
                unit_weight_kg: (rng.range(0.1, 4.0) * 100.0).round() / 100.0,
                unit_price: (rng.range(5.0, 150.0) * 100.0).round() / 100.0,
                tags: Vec::new(),
                group: None,
                pack_size: None,
                attr: Default::default(),
            });
        }
        let u = rng.unit();
        let promise_days = if u < 0.4 {
            None
        } else if u < 0.7 {
            Some(2)
        } else if u < 0.9 {
            Some(3)
        } else {
            Some(1)
        };
        let second = i as i64 * 86_400 * i64::from(shape.days.max(1)) / shape.orders.max(1) as i64;
        let start = chrono::DateTime::from_timestamp(1_795_392_000, 0).unwrap_or_default(); // 2026-11-23T00:00:00Z
        let placed = start + chrono::Duration::seconds(second);
        let (lat, lon) = (c.lat + rng.range(-0.1, 0.1), c.lon + rng.range(-0.15, 0.15));
        let mut order = Order {
            id: format!("O-{:07}", i + 1),
            channel: Some(["web", "app", "marketplace", "store"][rng.below(4)].into()),
            placed_at: Some(placed.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            customer_tier: Some(if rng.unit() < 0.1 { "gold" } else { "standard" }.into()),
            ship_to: ShipTo {
                lat,
                lon,
                country: Some("DE".into()),
                region: Some(regions[ci % regions.len()].into()),
                postal_code: None,
            },
            fulfillment: Fulfillment::Ship,
            pickup_location: None,
            promise_days,
            lines,
            attr: Default::default(),
        };
        // One order in ten is click & collect at a store of the same centre, if it has one.
        if rng.unit() < 0.1 {
            if let Some(s) = store_centre.iter().position(|&sc| sc == ci) {
                let store = &network.locations[shape.dcs + s];
                order.fulfillment = Fulfillment::Pickup;
                order.pickup_location = Some(store.id.clone());
                order.ship_to.lat = store.lat;
                order.ship_to.lon = store.lon;
            }
        }
        orders.push(order);
    }
    Scenario {
        network,
        inventory,
        orders,
    }
}
