//! The quick path for order lines: one typed pass over a line that holds exactly the fields
//! the contract names, with the expected JSON types.
//!
//! In: one line of `orders.jsonl` and the [`Network`]. Out: the [`Order`] when the line is
//! valid and plain, `None` otherwise — an unknown field (kept as `attr`), a whole number
//! written as `2.0`, or any problem at all. The located parse in `orders.rs` then reads the
//! line again and decides; it accepts everything this path accepts, with the same values,
//! so a line gives the same order whichever path read it. Numbers are parsed from their
//! JSON text with the same routine as the located parse, so they have the same bits.

use crate::load::json::{finite, MAX_MONEY, MAX_UNIT_WEIGHT_KG};
use crate::model::network::{LocationKind, Network};
use crate::model::order::{Fulfillment, Order, OrderLine, ShipTo};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuickOrder<'a> {
    id: String,
    channel: Option<String>,
    placed_at: Option<String>,
    customer_tier: Option<String>,
    #[serde(borrow)]
    ship_to: QuickShipTo<'a>,
    /// `null` is not absent here: the located parse refuses it.
    #[serde(default, borrow, deserialize_with = "present")]
    fulfillment: Option<&'a RawValue>,
    pickup_location: Option<String>,
    promise_days: Option<u32>,
    #[serde(borrow)]
    lines: Vec<QuickLine<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuickShipTo<'a> {
    #[serde(borrow)]
    lat: &'a RawValue,
    #[serde(borrow)]
    lon: &'a RawValue,
    country: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuickLine<'a> {
    sku: String,
    qty: u32,
    #[serde(borrow)]
    unit_weight_kg: &'a RawValue,
    #[serde(borrow)]
    unit_price: Option<&'a RawValue>,
    tags: Option<Vec<String>>,
    group: Option<String>,
    pack_size: Option<u32>,
}

/// A field that is given, whatever its value (`null` included).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(d).map(Some)
}

/// A finite number within `min..=max`, read from its JSON text like the located parse does.
fn number(raw: &RawValue, min: f64, max: f64) -> Option<f64> {
    finite(raw.get()).filter(|x| *x >= min && *x <= max)
}

/// A non-empty id or SKU.
fn text(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

/// The order on a valid, plain line; `None` when the located parse must decide.
pub(crate) fn parse(text_line: &str, network: &Network) -> Option<Order> {
    let q: QuickOrder<'_> = serde_json::from_str(text_line).ok()?;
    if let Some(t) = &q.placed_at {
        chrono::DateTime::parse_from_rfc3339(t).ok()?;
    }
    let lat = number(q.ship_to.lat, -90.0, 90.0)?;
    let lon = number(q.ship_to.lon, -180.0, 180.0)?;
    let (fulfillment, (lat, lon)) = match q.fulfillment.map(RawValue::get) {
        None | Some("\"ship\"") => (Fulfillment::Ship, (lat, lon)),
        Some("\"pickup\"") => {
            let store = network.location(q.pickup_location.as_deref()?)?;
            if store.kind != LocationKind::Store {
                return None;
            }
            // Too far from the store: the located parse reports it.
            let at_store = super::orders::at_pickup_store(store, lat, lon).ok()?;
            (Fulfillment::Pickup, at_store)
        }
        Some(_) => return None,
    };
    if q.lines.is_empty() {
        return None;
    }
    let ship_to = ShipTo {
        lat,
        lon,
        country: q.ship_to.country,
        region: q.ship_to.region,
        postal_code: q.ship_to.postal_code,
    };
    let mut lines = Vec::with_capacity(q.lines.len());
    for l in q.lines {
        // Packs must divide the quantity and a group must name something; the limits on
        // money and weight keep every cost finite (as the located parse checks them).
        if l.qty < 1
            || l.pack_size
                .is_some_and(|p| p == 0 || !l.qty.is_multiple_of(p))
        {
            return None;
        }
        if l.group.as_deref().is_some_and(|g| g.trim().is_empty()) {
            return None;
        }
        let unit_price = match l.unit_price {
            Some(raw) => number(raw, 0.0, MAX_MONEY)?,
            None => 0.0,
        };
        lines.push(OrderLine {
            sku: text(l.sku)?,
            qty: l.qty,
            unit_weight_kg: number(l.unit_weight_kg, 0.0, MAX_UNIT_WEIGHT_KG)?,
            unit_price,
            tags: l.tags.unwrap_or_default(),
            group: l.group,
            pack_size: l.pack_size,
            attr: BTreeMap::new(),
        });
    }
    Some(Order {
        id: text(q.id)?,
        channel: q.channel,
        placed_at: q.placed_at,
        customer_tier: q.customer_tier,
        ship_to,
        fulfillment,
        pickup_location: q.pickup_location,
        promise_days: q.promise_days,
        lines,
        attr: BTreeMap::new(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::parse;
    use crate::generate::{scenario, Shape};
    use crate::load::orders::parse_order;
    use crate::model::network::Network;

    /// Whatever the quick path accepts, the located parse accepts with the same order.
    fn agrees(line: &str, network: &Network) -> bool {
        let located = parse_order("o.jsonl", 1, line, network);
        match parse(line, network) {
            Some(quick) => {
                assert_eq!(located.as_ref().ok(), Some(&quick), "{line}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn generated_orders_take_the_quick_path_with_the_same_values() {
        let shape = Shape {
            stores: 40,
            skus: 300,
            skus_per_store: 50,
            skus_per_vendor: 50,
            orders: 500,
            days: 3,
            ..Shape::national()
        };
        let s = scenario(7, &shape);
        let mut pickups = 0;
        for order in &s.orders {
            let line = serde_json::to_string(order).unwrap();
            assert!(agrees(&line, &s.network), "not quick: {line}");
            pickups += usize::from(order.pickup_location.is_some());
        }
        assert!(pickups > 0);
    }

    #[test]
    fn only_plain_valid_lines_are_quick_and_they_agree() {
        let s = scenario(
            7,
            &Shape {
                orders: 1,
                stores: 5,
                ..Shape::national()
            },
        );
        let at = s
            .network
            .locations
            .iter()
            .find(|l| l.kind == crate::model::network::LocationKind::Store)
            .unwrap();
        let store = at.id.clone();
        // The store's position as a client writes it, and rounded (within 1 km of it).
        let at_store = format!(r#""ship_to":{{"lat":{},"lon":{}}}"#, at.lat, at.lon);
        let near_store = format!(
            r#""ship_to":{{"lat":{:.2},"lon":{:.2}}}"#,
            at.lat + 0.004,
            at.lon
        );
        let dc = &s.network.locations[0].id;
        let ship = r#""ship_to":{"lat":50.1109,"lon":8.6821}"#;
        let line = r#""lines":[{"sku":"A","qty":2,"unit_weight_kg":0.4}]"#;
        let quick = [
            format!(r#"{{"id":"O-1",{ship},{line}}}"#),
            format!(
                r#"{{"id":"O-\u0031","channel":null,"promise_days":0,{ship},"lines":[{{"sku":"A","qty":6,"unit_weight_kg":0,"unit_price":1e2,"tags":["x"],"group":"K","pack_size":3}}]}}"#
            ),
            format!(
                r#"{{"id":"O-1","fulfillment":"pickup","pickup_location":"{store}",{at_store},{line}}}"#
            ),
            format!(
                r#"{{"id":"O-1","fulfillment":"pickup","pickup_location":"{store}",{near_store},{line}}}"#
            ),
            format!(r#"{{"id":"O-1","placed_at":"2026-11-23T09:15:00+01:00",{ship},{line}}}  "#),
            format!(r#"{{"id":"O-1","ship_to":{{"lat":-90,"lon":180.0,"country":"DE"}},{line}}}"#),
            format!(
                r#"{{"id":"O-1",{ship},"lines":[{{"sku":"A","qty":1,"unit_weight_kg":0.1000000000000000055511151231257827}}]}}"#
            ),
        ];
        for text in &quick {
            assert!(agrees(text, &s.network), "expected quick: {text}");
        }
        // `-0` is 0 on both paths (equal as numbers either way, so the sign is checked).
        let zero = format!(r#"{{"id":"O-1","ship_to":{{"lat":-0,"lon":-0.0}},{line}}}"#);
        let quick_zero = parse(&zero, &s.network).unwrap();
        let located_zero = parse_order("o.jsonl", 1, &zero, &s.network);
        for o in [&quick_zero, &located_zero.unwrap()] {
            assert!(o.ship_to.lat.is_sign_positive() && o.ship_to.lon.is_sign_positive());
        }
        // A pickup order goes to its store's position, from either path.
        for text in &quick[2..4] {
            let order = parse(text, &s.network).unwrap();
            assert_eq!((order.ship_to.lat, order.ship_to.lon), (at.lat, at.lon));
        }
        // Valid but not plain (the located parse reads them), or not valid at all.
        let located = [
            format!(r#"{{"id":"O-1","gift":true,{ship},{line}}}"#),
            format!(
                r#"{{"id":"O-1",{ship},"lines":[{{"sku":"A","qty":2.0,"unit_weight_kg":1}}]}}"#
            ),
            format!(r#"{{"id":"O-1","ship_to":{{"lat":50,"lon":8,"floor":3}},{line}}}"#),
            format!(r#"{{"id":"O-1","fulfillment":"\u0073hip",{ship},{line}}}"#),
            format!(r#"{{"id":"O-1","fulfillment":null,{ship},{line}}}"#),
            format!(
                r#"{{"id":"O-1","fulfillment":"pickup","pickup_location":"{dc}",{ship},{line}}}"#
            ),
            format!(r#"{{"id":"O-1","fulfillment":"pickup",{ship},{line}}}"#),
            format!(
                r#"{{"id":"O-1","fulfillment":"pickup","pickup_location":"{store}",{ship},{line}}}"#
            ),
            format!(r#"{{"id":"O-1","id":"O-2",{ship},{line}}}"#),
            format!(r#"{{"id":" ",{ship},{line}}}"#),
            format!(r#"{{"id":"O-1","placed_at":"2026-11-23 09:15",{ship},{line}}}"#),
            format!(r#"{{"id":"O-1","ship_to":{{"lat":90.5,"lon":8}},{line}}}"#),
            format!(r#"{{"id":"O-1","ship_to":{{"lat":"50","lon":8}},{line}}}"#),
            format!(r#"{{"id":"O-1","ship_to":{{"lat":null,"lon":8}},{line}}}"#),
            format!(r#"{{"id":"O-1","ship_to":{{"lat":1e400,"lon":8}},{line}}}"#),
            format!(r#"{{"id":"O-1",{ship},"lines":[]}}"#),
            format!(r#"{{"id":"O-1",{ship},"lines":[{{"sku":"A","qty":0,"unit_weight_kg":1}}]}}"#),
            format!(r#"{{"id":"O-1",{ship},"lines":[{{"sku":"A","qty":1,"unit_weight_kg":-1}}]}}"#),
            format!(
                r#"{{"id":"O-1",{ship},"lines":[{{"sku":"A","qty":1,"unit_weight_kg":1,"pack_size":0}}]}}"#
            ),
            format!(
                r#"{{"id":"O-1",{ship},"lines":[{{"sku":"A","qty":4,"unit_weight_kg":1,"pack_size":3}}]}}"#
            ),
            format!(
                r#"{{"id":"O-1",{ship},"lines":[{{"sku":"A","qty":1,"unit_weight_kg":1,"group":" "}}]}}"#
            ),
            format!(
                r#"{{"id":"O-1",{ship},"lines":[{{"sku":"A","qty":1,"unit_weight_kg":1e7}}]}}"#
            ),
            format!(
                r#"{{"id":"O-1",{ship},"lines":[{{"sku":"A","qty":1,"unit_weight_kg":1,"unit_price":1e10}}]}}"#
            ),
            format!(r#"{{"id":"O-1",{ship},{line}}} x"#),
            format!(r#"[{{"id":"O-1",{ship},{line}}}]"#),
        ];
        for text in &located {
            assert!(!agrees(text, &s.network), "expected located: {text}");
        }
        // The first three are valid all the same, with the values the located parse gives.
        for text in &located[..3] {
            assert!(
                parse_order("o.jsonl", 1, text, &s.network).is_ok(),
                "{text}"
            );
        }
    }
}
