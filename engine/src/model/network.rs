//! The network: locations that can ship and the carrier services they ship with
//! (contract section 1).

use serde::Serialize;
use std::collections::BTreeMap;

/// What kind of place a location is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LocationKind {
    /// A distribution centre.
    Dc,
    /// A store: ship-from-store and click & collect.
    Store,
    /// A dropship vendor that ships its own stock.
    Dropship,
}

impl LocationKind {
    /// The name used in files and rules.
    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::Dc => "dc",
            LocationKind::Store => "store",
            LocationKind::Dropship => "dropship",
        }
    }

    /// Parses the name used in files; `None` for anything else.
    pub fn parse(text: &str) -> Option<LocationKind> {
        match text {
            "dc" => Some(LocationKind::Dc),
            "store" => Some(LocationKind::Store),
            "dropship" => Some(LocationKind::Dropship),
            _ => None,
        }
    }
}

/// A place that can ship units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    /// Unique id, e.g. `DC-KASSEL`.
    pub id: String,
    /// DC, store or dropship vendor.
    pub kind: LocationKind,
    /// Latitude in degrees, -90..=90.
    pub lat: f64,
    /// Longitude in degrees, -180..=180.
    pub lon: f64,
    /// ISO country code, when given.
    pub country: Option<String>,
    /// Region code within the country, when given.
    pub region: Option<String>,
    /// Free tags that rules may test.
    pub tags: Vec<String>,
    /// Paid once per shipment that leaves the location.
    pub handling_cost: f64,
    /// Whole days between the order and the parcel leaving.
    pub processing_days: u32,
    /// Most shipments per calendar day; `None` means unlimited.
    pub daily_capacity: Option<u32>,
    /// Analyst-set rank, lower is preferred; `None` means no rank (after every ranked one).
    pub priority: Option<i64>,
    /// Fields the contract does not name, kept for rules.
    #[serde(flatten)]
    pub attr: BTreeMap<String, serde_json::Value>,
}

impl Location {
    /// The deterministic tie-break key: priority (absent last), then id.
    pub fn tie_key(&self) -> (i64, &str) {
        (self.priority.unwrap_or(i64::MAX), self.id.as_str())
    }
}

/// A carrier service (contract section 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    /// Unique id, e.g. `ground`.
    pub id: String,
    /// Fixed cost per shipment.
    pub base_cost: f64,
    /// Cost per great-circle kilometre.
    pub cost_per_km: f64,
    /// Cost per kilogram shipped.
    pub cost_per_kg: f64,
    /// Kilometres covered per transit day (> 0).
    pub km_per_day: f64,
}

/// Locations and services, as loaded from `network.json` (and written back in that shape).
///
/// Locations keep their file order; [`Network::location_index`] finds one by id.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Network {
    /// Currency of every cost, e.g. `EUR`.
    pub currency: String,
    /// Every location, in file order.
    pub locations: Vec<Location>,
    /// Every service, in file order (the order breaks cost ties).
    pub services: Vec<Service>,
    #[serde(skip)]
    by_id: rustc_hash::FxHashMap<String, u32>,
}

impl Network {
    /// Builds a network; the caller guarantees unique location ids (the loader checks).
    pub fn new(currency: String, locations: Vec<Location>, services: Vec<Service>) -> Network {
        let by_id = locations
            .iter()
            .enumerate()
            .map(|(i, l)| (l.id.clone(), i as u32))
            .collect();
        Network {
            currency,
            locations,
            services,
            by_id,
        }
    }

    /// The index of the location with this id.
    pub fn location_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).map(|&i| i as usize)
    }

    /// The location with this id.
    pub fn location(&self, id: &str) -> Option<&Location> {
        self.location_index(id).and_then(|i| self.locations.get(i))
    }

    /// The typed handle of the location with this id.
    pub fn id_of(&self, id: &str) -> Option<LocationId> {
        self.by_id.get(id).map(|&i| LocationId(i))
    }

    /// The location a handle names; `None` for a handle of another, larger network.
    pub fn get(&self, id: LocationId) -> Option<&Location> {
        self.locations.get(id.index())
    }
}

/// A location of one network: its position in [`Network::locations`]. Get one from
/// [`Network::id_of`]; it means nothing for another network.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct LocationId(pub u32);

impl LocationId {
    /// The position in [`Network::locations`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for LocationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}
