//! Seeded synthetic data shaped like a retailer in real places, for benchmarks, simulations
//! and tests.
//!
//! In: a seed, a [`Shape`] and the [`Places`] (countries) to use. Out: a [`Scenario`]
//! (network, inventory rows, orders) that is the same for the same seed on every machine: the
//! random numbers come from SplitMix64, written out here, not from a crate whose streams may
//! change between versions.
//!
//! Locations and customers are in real cities: the bundled table of the 6,204 cities of at
//! least 100,000 inhabitants (GeoNames, CC BY 4.0; see `data/cities/LICENSE.md`), read by
//! [`cities`]. DCs sit on the outskirts of large cities spread over the country, stores in
//! cities in proportion to their population, vendors anywhere. DCs carry most of the range
//! deeply, stores a few hundred mostly popular SKUs thinly, vendors a share of the long
//! tail. Orders come from cities by population, pick SKUs by Zipf popularity, have 1 to 6
//! lines (some tagged `hazmat`, `bulky` or `gift`), a promise or none, and one in ten is
//! collected at a store of the customer's city.

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

impl Scenario {
    /// The network as `network.json` (pretty-printed).
    pub fn network_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(&self.network)
    }

    /// The stock as `inventory.csv`, with every column of the contract.
    pub fn inventory_csv(&self) -> String {
        use std::fmt::Write as _;
        let mut csv = String::from("location,sku,on_hand,reserved,safety_stock\n");
        for r in &self.inventory {
            let id = self
                .network
                .locations
                .get(r.location)
                .map_or("", |l| l.id.as_str());
            let _ = writeln!(
                csv,
                "{id},{},{},{},{}",
                r.sku, r.on_hand, r.reserved, r.safety_stock
            );
        }
        csv
    }

    /// The orders as `orders.jsonl`, one per line.
    pub fn orders_jsonl(&self) -> Result<String, serde_json::Error> {
        let mut text = String::new();
        for o in &self.orders {
            text.push_str(&serde_json::to_string(o)?);
            text.push('\n');
        }
        Ok(text)
    }
}

/// SplitMix64: tiny, fast and stable across versions.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
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

/// One city of the bundled table.
#[derive(Debug, Clone, PartialEq)]
pub struct City {
    /// The city's name.
    pub name: String,
    /// ISO 3166 alpha-2 country code (`DE`).
    pub country: String,
    /// First-level administrative division (GeoNames `admin1`: `NY`, `05`); may be empty.
    pub region: String,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Inhabitants.
    pub population: u64,
}

impl City {
    /// The radius, in km, within which the city's stores and customers are placed: a few km
    /// for a town of 100,000, about 30 km for a city of several million.
    pub fn radius_km(&self) -> f64 {
        (3.0 + 12.0 * (self.population as f64 / 1e6).sqrt()).min(40.0)
    }
}

/// The bundled table, `data/cities/cities.csv`.
const CITIES_CSV: &str = include_str!("../../data/cities/cities.csv");

/// The bundled cities, in table order (by country, then population, largest first).
pub fn cities() -> &'static [City] {
    static CITIES: std::sync::OnceLock<Vec<City>> = std::sync::OnceLock::new();
    // INVARIANT: a test parses every row of the bundled table; a table that did not parse
    // would leave no city, and the generator then falls back to a single one.
    CITIES.get_or_init(|| parse_cities("data/cities/cities.csv", CITIES_CSV).unwrap_or_default())
}

/// Parses a city table (`name,country,region,lat,lon,population`, a header line, no quoted
/// fields). Every problem is reported as `file:line:column: field: what is wrong`.
pub fn parse_cities(file: &str, text: &str) -> Result<Vec<City>, Vec<String>> {
    const HEADER: &str = "name,country,region,lat,lon,population";
    let mut cities = Vec::new();
    let mut errors = Vec::new();
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim_end_matches('\r') == HEADER => {}
        other => {
            errors.push(format!(
                "{file}:1:1: header: expected `{HEADER}`, found `{}`",
                other.map_or("", |(_, h)| h)
            ));
            return Err(errors);
        }
    }
    for (i, line) in lines {
        let line = line.trim_end_matches('\r');
        let n = i + 1;
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 6 {
            errors.push(format!(
                "{file}:{n}:1: row: expected 6 fields, found {}",
                fields.len()
            ));
            continue;
        }
        // The 1-based column where field `k` starts.
        let col = |k: usize| {
            fields[..k]
                .iter()
                .map(|f| f.chars().count() + 1)
                .sum::<usize>()
                + 1
        };
        let mut bad = |k: usize, name: &str, expected: &str| {
            errors.push(format!(
                "{file}:{n}:{}: {name}: {expected}, found `{}`",
                col(k),
                fields[k]
            ));
        };
        let name = fields[0].trim();
        if name.is_empty() {
            bad(0, "name", "must not be empty");
        }
        let country = fields[1];
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            bad(1, "country", "must be two capital letters");
        }
        let coord = |k: usize, limit: f64| {
            fields[k]
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && x.abs() <= limit)
        };
        let lat = coord(3, 90.0);
        if lat.is_none() {
            bad(3, "lat", "must be a number from -90 to 90");
        }
        let lon = coord(4, 180.0);
        if lon.is_none() {
            bad(4, "lon", "must be a number from -180 to 180");
        }
        let population = fields[5].parse::<u64>().ok().filter(|&p| p > 0);
        if population.is_none() {
            bad(5, "population", "must be a whole number > 0");
        }
        if let (false, Some(lat), Some(lon), Some(population)) =
            (name.is_empty(), lat, lon, population)
        {
            cities.push(City {
                name: name.to_string(),
                country: country.to_string(),
                region: fields[2].to_string(),
                lat,
                lon,
                population,
            });
        }
    }
    if errors.is_empty() {
        Ok(cities)
    } else {
        Err(errors)
    }
}

/// Where a scenario takes place: the countries whose cities it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Places {
    countries: Vec<String>,
}

impl Default for Places {
    /// Germany, the home of the contract's example.
    fn default() -> Places {
        Places {
            countries: vec!["DE".into()],
        }
    }
}

impl Places {
    /// The cities of these countries (ISO codes, any case). A code without a city in the
    /// table is an error naming it; an empty list means every country.
    pub fn countries<S: AsRef<str>>(codes: &[S]) -> Result<Places, String> {
        let mut countries: Vec<String> = codes
            .iter()
            .map(|c| c.as_ref().trim().to_ascii_uppercase())
            .collect();
        countries.sort();
        countries.dedup();
        let unknown: Vec<&str> = countries
            .iter()
            .filter(|c| !cities().iter().any(|city| &city.country == *c))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "no city of 100,000 inhabitants or more in {} (countries are ISO codes such as DE, US, CA)",
                unknown.join(", ")
            ));
        }
        Ok(Places { countries })
    }

    /// The countries, sorted; empty for every country.
    pub fn codes(&self) -> &[String] {
        &self.countries
    }

    /// The cities, largest first (ties by country, then name).
    pub fn cities(&self) -> Vec<&'static City> {
        let mut v: Vec<&City> = cities()
            .iter()
            .filter(|c| self.countries.is_empty() || self.countries.contains(&c.country))
            .collect();
        v.sort_by(|a, b| {
            b.population
                .cmp(&a.population)
                .then_with(|| a.country.cmp(&b.country))
                .then_with(|| a.name.cmp(&b.name))
        });
        v
    }
}

/// Great-circle distance in km (the contract's sphere).
fn km(a: (f64, f64), b: (f64, f64)) -> f64 {
    crate::geo::haversine_km(a.0, a.1, b.0, b.1)
}

/// A point uniformly at random within `radius_km` of the city's centre.
fn near(rng: &mut Rng, c: &City, radius_km: f64) -> (f64, f64) {
    let d = radius_km * rng.unit().sqrt();
    let angle = rng.range(0.0, std::f64::consts::TAU);
    let dlat = d / 111.195 * angle.cos();
    let dlon = d / (111.195 * c.lat.to_radians().cos().max(0.05)) * angle.sin();
    let round = |x: f64| (x * 1e5).round() / 1e5;
    (
        round((c.lat + dlat).clamp(-90.0, 90.0)),
        round(((c.lon + dlon + 540.0) % 360.0) - 180.0),
    )
}

fn location(id: String, kind: LocationKind, at: (f64, f64), city: &City) -> Location {
    let mut attr = std::collections::BTreeMap::new();
    attr.insert(
        "city".to_string(),
        serde_json::Value::from(city.name.clone()),
    );
    Location {
        id,
        kind,
        lat: at.0,
        lon: at.1,
        country: Some(city.country.clone()),
        region: (!city.region.is_empty()).then(|| city.region.clone()),
        tags: Vec::new(),
        handling_cost: 0.0,
        processing_days: 0,
        daily_capacity: None,
        priority: None,
        attr,
    }
}

/// The cities of the DCs: the largest city first, then, among the larger cities, the one
/// that best combines size and distance from the DCs chosen so far.
fn dc_cities(cities: &[&City], n: usize) -> Vec<usize> {
    let pool = cities.len().min((4 * n).max(12));
    let mut chosen: Vec<usize> = Vec::with_capacity(n);
    for _ in 0..n {
        let best = (0..pool)
            .filter(|i| !chosen.contains(i))
            .map(|i| {
                let c = cities[i];
                let gap = chosen
                    .iter()
                    .map(|&j| km((c.lat, c.lon), (cities[j].lat, cities[j].lon)))
                    .fold(f64::INFINITY, f64::min);
                let score = if chosen.is_empty() {
                    c.population as f64
                } else {
                    (c.population as f64).sqrt() * gap
                };
                (i, score)
            })
            .fold(None::<(usize, f64)>, |best, (i, s)| match best {
                Some((_, b)) if b >= s => best,
                _ => Some((i, s)),
            });
        // More DCs than cities in the pool: the next ones go to the pool again, in order.
        chosen.push(best.map_or(chosen.len() % pool.max(1), |b| b.0));
    }
    chosen
}

/// Generates a scenario in Germany; the same seed and shape give the same scenario.
pub fn scenario(seed: u64, shape: &Shape) -> Scenario {
    scenario_in(seed, shape, &Places::default())
}

/// Generates a scenario in the cities of `places`; the same seed, shape and places give the
/// same scenario.
pub fn scenario_in(seed: u64, shape: &Shape, places: &Places) -> Scenario {
    let mut rng = Rng(seed);
    let fallback = [City {
        name: "Kassel".into(),
        country: "DE".into(),
        region: "05".into(),
        lat: 51.31667,
        lon: 9.5,
        population: 194_501,
    }];
    let mut cities = places.cities();
    if cities.is_empty() {
        cities = fallback.iter().collect();
    }
    let by_population = Weighted::new(cities.iter().map(|c| c.population as f64));
    let by_size = Weighted::new(cities.iter().map(|c| (c.population as f64).sqrt()));

    let mut locations = Vec::new();
    for (i, &ci) in dc_cities(&cities, shape.dcs).iter().enumerate() {
        let c = cities[ci];
        // On the outskirts, where warehouses are.
        let at = near(&mut rng, c, c.radius_km() + 10.0);
        let mut l = location(format!("DC-{:02}", i + 1), LocationKind::Dc, at, c);
        l.handling_cost = 1.10;
        l.daily_capacity = Some(40_000);
        l.priority = Some(1);
        l.tags = vec!["hazmat".into(), "bulky".into()];
        locations.push(l);
    }
    let mut store_city = Vec::new();
    for i in 0..shape.stores {
        let ci = by_population.draw(&mut rng);
        let c = cities[ci];
        let at = near(&mut rng, c, c.radius_km());
        let mut l = location(format!("ST-{:04}", i + 1), LocationKind::Store, at, c);
        l.handling_cost = (rng.range(2.2, 3.6) * 100.0).round() / 100.0;
        l.processing_days = 1;
        l.daily_capacity = Some(60);
        l.priority = Some(3);
        l.tags = vec!["pickup".into()];
        store_city.push(ci);
        locations.push(l);
    }
    for i in 0..shape.vendors {
        let c = cities[by_size.draw(&mut rng)];
        let at = near(&mut rng, c, c.radius_km() + 10.0);
        let mut l = location(format!("VD-{:03}", i + 1), LocationKind::Dropship, at, c);
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
    let start = chrono::DateTime::from_timestamp(1_795_392_000, 0).unwrap_or_default(); // 2026-11-23T00:00:00Z
    for i in 0..shape.orders {
        let ci = by_population.draw(&mut rng);
        let c = cities[ci];
        let n_lines = line_counts.draw(&mut rng) + 1;
        let mut lines = Vec::with_capacity(n_lines);
        for _ in 0..n_lines {
            let r = popularity.draw(&mut rng);
            let u = rng.unit();
            let qty = if u < 0.8 {
                1
            } else if u < 0.95 {
                2
            } else {
                3
            };
            let mut unit_weight_kg = (rng.range(0.1, 4.0) * 100.0).round() / 100.0;
            let t = rng.unit();
            let tags: Vec<String> = if t < 0.02 {
                vec!["hazmat".into()]
            } else if t < 0.06 {
                unit_weight_kg = (rng.range(8.0, 30.0) * 100.0).round() / 100.0;
                vec!["bulky".into()]
            } else if t < 0.10 {
                vec!["gift".into()]
            } else {
                Vec::new()
            };
            lines.push(OrderLine {
                sku: sku(r),
                qty,
                unit_weight_kg,
                unit_price: (rng.range(5.0, 150.0) * 100.0).round() / 100.0,
                tags,
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
        let placed = start + chrono::Duration::seconds(second);
        let (lat, lon) = near(&mut rng, c, c.radius_km());
        let mut order = Order {
            id: format!("O-{:07}", i + 1),
            channel: Some(["web", "app", "marketplace", "store"][rng.below(4)].into()),
            placed_at: Some(placed.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            customer_tier: Some(if rng.unit() < 0.1 { "gold" } else { "standard" }.into()),
            ship_to: ShipTo {
                lat,
                lon,
                country: Some(c.country.clone()),
                region: (!c.region.is_empty()).then(|| c.region.clone()),
                postal_code: None,
            },
            fulfillment: Fulfillment::Ship,
            pickup_location: None,
            promise_days,
            lines,
            attr: Default::default(),
        };
        // One order in ten is click & collect at a store of the customer's city, if it has one.
        if rng.unit() < 0.1 {
            let here: Vec<usize> = (0..store_city.len())
                .filter(|&s| store_city[s] == ci)
                .collect();
            if !here.is_empty() {
                let s = here[rng.below(here.len())];
                if let Some(store) = network.locations.get(shape.dcs + s) {
                    order.fulfillment = Fulfillment::Pickup;
                    order.pickup_location = Some(store.id.clone());
                    order.ship_to.lat = store.lat;
                    order.ship_to.lon = store.lon;
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::LocationKind;

    fn shape() -> Shape {
        Shape {
            dcs: 4,
            stores: 300,
            vendors: 10,
            skus: 2_000,
            skus_per_store: 100,
            skus_per_vendor: 200,
            orders: 3_000,
            max_lines: 6,
            days: 2,
        }
    }

    fn texts(sc: &Scenario) -> (String, String, String) {
        (
            sc.network_json().expect("network JSON"),
            sc.inventory_csv(),
            sc.orders_jsonl().expect("orders JSON"),
        )
    }

    #[test]
    fn every_row_of_the_bundled_city_table_parses() {
        let rows = CITIES_CSV.lines().skip(1).filter(|l| !l.is_empty()).count();
        let parsed = parse_cities("cities.csv", CITIES_CSV).expect("the bundled table parses");
        assert_eq!(parsed.len(), rows);
        assert_eq!(parsed.len(), 6_204);
        assert_eq!(cities(), parsed.as_slice());
        assert!(parsed.iter().all(|c| c.population >= 100_000));
        let berlin = parsed
            .iter()
            .find(|c| c.name == "Berlin" && c.country == "DE")
            .expect("Berlin");
        assert_eq!(berlin.region, "BE");
        assert!((berlin.lat - 52.52).abs() < 0.01 && (berlin.lon - 13.41).abs() < 0.01);
        let de = Places::default().cities();
        assert_eq!(de.first().map(|c| c.name.as_str()), Some("Berlin"));
        assert!(de.windows(2).all(|w| w[0].population >= w[1].population));
    }

    #[test]
    fn a_bad_city_table_is_reported_with_positions() {
        let text = "name,country,region,lat,lon,population\nA,DE,BY,48.1,11.5,1500000\nB,de,BY,91,11.5,0\nC,DE,BY,48.1\n,DE,,1,2,3\n";
        assert_eq!(
            parse_cities("c.csv", text),
            Err(vec![
                "c.csv:3:3: country: must be two capital letters, found `de`".to_string(),
                "c.csv:3:9: lat: must be a number from -90 to 90, found `91`".to_string(),
                "c.csv:3:17: population: must be a whole number > 0, found `0`".to_string(),
                "c.csv:4:1: row: expected 6 fields, found 4".to_string(),
                "c.csv:5:1: name: must not be empty, found ``".to_string(),
            ])
        );
        assert_eq!(
            parse_cities("c.csv", "city,lat\n"),
            Err(vec![
                "c.csv:1:1: header: expected `name,country,region,lat,lon,population`, found `city,lat`"
                    .to_string()
            ])
        );
    }

    #[test]
    fn countries_are_checked_against_the_table() {
        assert_eq!(
            Places::countries(&["us", " CA", "US"]).map(|p| p.codes().to_vec()),
            Ok(vec!["CA".to_string(), "US".to_string()])
        );
        let err = Places::countries(&["DE", "XX", "ZZ"]).expect_err("unknown codes");
        assert!(err.contains("in XX, ZZ"), "{err}");
        let none: [&str; 0] = [];
        assert_eq!(
            Places::countries(&none).map(|p| p.cities().len()),
            Ok(6_204)
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let places = Places::countries(&["US", "CA"]).expect("places");
        let a = texts(&scenario_in(5, &shape(), &places));
        assert_eq!(a, texts(&scenario_in(5, &shape(), &places)));
        let b = texts(&scenario_in(6, &shape(), &places));
        assert_ne!(a.0, b.0);
        assert_ne!(a.2, b.2);
        assert_eq!(
            texts(&scenario(5, &shape())),
            texts(&scenario_in(5, &shape(), &Places::default()))
        );
    }

    #[test]
    fn the_files_load_with_the_loaders() {
        let sc = scenario(9, &shape());
        let (network, inventory, orders) = texts(&sc);
        let net = crate::load::parse_network("network.json", &network).expect("network loads");
        assert_eq!(net.locations.len(), 314);
        let rows = crate::load::parse_inventory_csv("inventory.csv", inventory.as_bytes(), &net)
            .expect("inventory loads");
        assert_eq!(rows.len(), sc.inventory.len());
        let n = crate::load::check_orders("orders.jsonl", orders.as_bytes(), &net)
            .expect("orders load");
        assert_eq!(n, 3_000);
    }

    #[test]
    fn locations_and_customers_are_in_real_cities() {
        let places = Places::countries(&["DE", "FR"]).expect("places");
        let sc = scenario_in(3, &shape(), &places);
        let cities = places.cities();
        for l in &sc.network.locations {
            let name = l.attr.get("city").and_then(|v| v.as_str()).expect("city");
            let near = cities.iter().any(|c| {
                c.name == name
                    && l.country.as_deref() == Some(c.country.as_str())
                    && l.region.as_deref().unwrap_or("") == c.region
                    && km((l.lat, l.lon), (c.lat, c.lon)) <= c.radius_km() + 10.01
            });
            assert!(near, "{} is not in {name}", l.id);
        }
        for o in &sc.orders {
            let to = (o.ship_to.lat, o.ship_to.lon);
            assert!(
                cities
                    .iter()
                    .any(|c| o.ship_to.country.as_deref() == Some(c.country.as_str())
                        && km(to, (c.lat, c.lon)) <= c.radius_km() + 0.01),
                "{} ships to no city",
                o.id
            );
        }
        // DCs are spread out: no two in the same city.
        let dcs: Vec<&Location> = sc
            .network
            .locations
            .iter()
            .filter(|l| l.kind == LocationKind::Dc)
            .collect();
        assert_eq!(dcs.len(), 4);
        for (i, a) in dcs.iter().enumerate() {
            for b in &dcs[i + 1..] {
                assert!(
                    km((a.lat, a.lon), (b.lat, b.lon)) > 150.0,
                    "{} {}",
                    a.id,
                    b.id
                );
            }
        }
        // Customers come from cities by population: Paris and Berlin, with their districts,
        // send far more orders than a town of 100,000.
        let around = |name: &str| {
            let c = cities.iter().find(|c| c.name == name).expect("city");
            sc.orders
                .iter()
                .filter(|o| km((o.ship_to.lat, o.ship_to.lon), (c.lat, c.lon)) <= c.radius_km())
                .count()
        };
        let smallest = cities.last().expect("a city").name.clone();
        assert!(around("Paris") > 150, "{}", around("Paris"));
        assert!(around("Berlin") > 150, "{}", around("Berlin"));
        assert!(around("Berlin") > 5 * around(&smallest).max(1));
    }

    #[test]
    fn orders_have_one_to_six_lines_tags_pickups_and_promises() {
        let sc = scenario(4, &shape());
        let mut by_lines = [0usize; 7];
        let mut tags = std::collections::BTreeMap::new();
        let mut pickups = 0;
        let mut promises = 0;
        for o in &sc.orders {
            by_lines[o.lines.len()] += 1;
            for t in o.lines.iter().flat_map(|l| &l.tags) {
                *tags.entry(t.as_str()).or_insert(0usize) += 1;
            }
            if o.fulfillment == Fulfillment::Pickup {
                pickups += 1;
                let store = o
                    .pickup_location
                    .as_deref()
                    .and_then(|id| sc.network.location(id))
                    .expect("a pickup store of the network");
                assert_eq!(store.kind, LocationKind::Store);
                assert_eq!((o.ship_to.lat, o.ship_to.lon), (store.lat, store.lon));
            }
            promises += usize::from(o.promise_days.is_some());
        }
        assert_eq!(by_lines[0], 0);
        assert!(by_lines[1..].iter().all(|&n| n > 0), "{by_lines:?}");
        assert!(by_lines[1] > by_lines[2] && by_lines[2] > by_lines[6]);
        assert_eq!(
            tags.keys().copied().collect::<Vec<_>>(),
            ["bulky", "gift", "hazmat"]
        );
        assert!((150..=450).contains(&pickups), "{pickups}");
        assert!((1_500..=2_100).contains(&promises), "{promises}");
        // Fewer lines when asked.
        let short = Shape {
            max_lines: 2,
            ..shape()
        };
        assert!(scenario(4, &short)
            .orders
            .iter()
            .all(|o| (1..=2).contains(&o.lines.len())));
    }

    #[test]
    fn stores_hold_thin_stock_dcs_deep_and_orders_favour_popular_skus() {
        let sc = scenario(8, &shape());
        let kind = |r: &InventoryRecord| sc.network.locations[r.location].kind;
        let store_max = sc
            .inventory
            .iter()
            .filter(|r| kind(r) == LocationKind::Store)
            .map(|r| r.on_hand)
            .max()
            .expect("store stock");
        let dc_min = sc
            .inventory
            .iter()
            .filter(|r| kind(r) == LocationKind::Dc)
            .map(|r| r.on_hand)
            .min()
            .expect("DC stock");
        assert!(store_max < dc_min, "{store_max} vs {dc_min}");
        // Zipf: the 20 most popular SKUs (1 % of the range) fill about a third of the lines.
        let lines: Vec<&OrderLine> = sc.orders.iter().flat_map(|o| &o.lines).collect();
        let head = lines
            .iter()
            .filter(|l| l.sku.as_str() < "SKU-00020")
            .count();
        let share = head as f64 / lines.len() as f64;
        assert!((0.25..0.45).contains(&share), "{share}");
    }
}
