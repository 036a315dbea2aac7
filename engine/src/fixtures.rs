//! Small networks and stock for the engine's tests: one way to write a location, a service
//! or a stock row, whatever the test.

use crate::load::inventory::InventoryRecord;
use crate::model::network::{Location, LocationKind, Service};

/// A location with no tags, country, region, capacity or priority.
pub(crate) fn location(
    id: &str,
    kind: LocationKind,
    lat: f64,
    lon: f64,
    handling: f64,
    days: u32,
) -> Location {
    Location {
        id: id.into(),
        kind,
        lat,
        lon,
        country: None,
        region: None,
        tags: vec![],
        handling_cost: handling,
        processing_days: days,
        daily_capacity: None,
        priority: None,
        attr: Default::default(),
    }
}

/// A carrier service.
pub(crate) fn service(id: &str, base: f64, per_km: f64, per_kg: f64, km_per_day: f64) -> Service {
    Service {
        id: id.into(),
        base_cost: base,
        cost_per_km: per_km,
        cost_per_kg: per_kg,
        km_per_day,
    }
}

/// Stock rows `(location index, SKU, on hand)` with nothing reserved or kept back.
pub(crate) fn stock(rows: &[(usize, &str, u64)]) -> Vec<InventoryRecord> {
    rows.iter()
        .map(|&(location, sku, on_hand)| InventoryRecord {
            location,
            sku: sku.into(),
            on_hand,
            reserved: 0,
            safety_stock: 0,
        })
        .collect()
}
