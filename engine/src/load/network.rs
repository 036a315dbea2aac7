//! The network loader (contract section 1).
//!
//! In: the text of `network.json`. Out: a [`Network`] with its locations and services in file
//! order, or every problem found (bad JSON, missing or mistyped fields, values out of range,
//! duplicate ids).

use super::json::{quote, Doc, Fields, Range};
use super::{decode, read_file, strip_bom, suggestion, LoadErrors};
use crate::model::network::{Location, LocationKind, Network, Service};
use rustc_hash::FxHashMap;
use serde_json::value::RawValue;
use std::path::Path;

/// The currency when `network.json` names none.
const DEFAULT_CURRENCY: &str = "EUR";

/// The most processing days of a location (ten years): with any transit, a shipment's
/// day count stays exact.
const MAX_PROCESSING_DAYS: u32 = 3650;

/// Location fields the contract names; any other field goes to `attr`.
const LOCATION_FIELDS: &[&str] = &[
    "id",
    "kind",
    "lat",
    "lon",
    "country",
    "region",
    "tags",
    "handling_cost",
    "processing_days",
    "daily_capacity",
    "priority",
];

const KINDS: [LocationKind; 3] = [
    LocationKind::Dc,
    LocationKind::Store,
    LocationKind::Dropship,
];

/// Parses the text of `network.json`; `file` is the name shown in problems.
pub fn parse_network(file: &str, text: &str) -> Result<Network, LoadErrors> {
    let doc = Doc::new(file, text, 1);
    let network = doc.root().and_then(|root| read_network(&doc, root));
    let mut errors = LoadErrors::new();
    for error in doc.take_errors() {
        errors.push(error);
    }
    match network {
        Some(network) if errors.is_empty() => Ok(network),
        _ => Err(errors),
    }
}

/// Reads and parses `network.json`; problems name the path as given.
pub fn load_network(path: &Path) -> Result<Network, LoadErrors> {
    let file = path.display().to_string();
    network_from_bytes(&file, &read_file(path)?)
}

/// Parses the bytes of `network.json` already read (from a pipe, say); `file` is the name
/// shown in problems.
pub fn network_from_bytes(file: &str, bytes: &[u8]) -> Result<Network, LoadErrors> {
    let text = decode(file, strip_bom(bytes), 1)?;
    parse_network(file, text)
}

fn read_network<'a>(doc: &Doc<'a>, root: &'a RawValue) -> Option<Network> {
    let expected = "a JSON object with `locations` and `services`";
    let fields = doc.object(root, String::new(), expected)?;
    let currency = fields.opt_str("currency");
    if let Some(c) = currency.as_deref().filter(|c| !is_iso_currency(c)) {
        let message = format!(
            "expected an ISO 4217 currency code, three capital letters like `EUR`, found {}",
            quote(c)
        );
        fields.error("currency", message);
    }
    let locations = read_list(&fields, "locations", "location", read_location);
    let services = read_list(&fields, "services", "service", read_service);
    if doc.has_errors() {
        return None;
    }
    Some(Network::new(
        currency.unwrap_or_else(|| DEFAULT_CURRENCY.to_string()),
        locations?,
        services?,
    ))
}

/// Whether `code` has the shape of an ISO 4217 code: three capital ASCII letters.
fn is_iso_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// Reads a non-empty list of items with unique ids (`locations` or `services`).
fn read_list<'a, T>(
    fields: &Fields<'a, '_>,
    name: &str,
    noun: &str,
    read: impl Fn(&Fields<'a, '_>) -> Option<T>,
) -> Option<Vec<T>> {
    let doc = fields.doc();
    let items = fields.req_array(name, &format!("a list of {noun}s"))?;
    if items.is_empty() {
        fields.error(
            name,
            format!("must list at least one {noun}, found an empty list"),
        );
        return None;
    }
    // Id -> line of its first occurrence, to name it in the duplicate's problem.
    let mut seen: FxHashMap<String, usize> = FxHashMap::default();
    let mut out = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let path = format!("{}[{i}]", fields.path(name));
        let Some(item_fields) = doc.object(raw, path, &format!("a {noun} object `{{…}}`")) else {
            continue;
        };
        let item = read(&item_fields);
        // Checked even when other fields are bad, so every problem shows at once.
        if let Some((id, line)) = item_id(&item_fields) {
            if let Some(first) = seen.get(&id) {
                let message = format!(
                    "duplicate {noun} id {}, first seen on line {first}",
                    quote(&id)
                );
                item_fields.error("id", message);
            } else {
                seen.insert(id, line);
            }
        }
        out.extend(item);
    }
    Some(out)
}

/// The item's `id` and its line, when it is a string (problems are reported by the reader).
fn item_id(fields: &Fields<'_, '_>) -> Option<(String, usize)> {
    let raw = fields.raw("id")?;
    let id = serde_json::from_str::<String>(raw.get()).ok()?;
    let doc = fields.doc();
    Some((id, doc.position(doc.offset(raw)).0))
}

fn read_location(fields: &Fields<'_, '_>) -> Option<Location> {
    let id = fields.req_text("id");
    let kind = read_kind(fields);
    let lat = fields.req_f64("lat", Range::LATITUDE);
    let lon = fields.req_f64("lon", Range::LONGITUDE);
    let country = fields.opt_str("country");
    let region = fields.opt_str("region");
    let tags = fields.str_list("tags");
    let handling_cost = fields.opt_f64("handling_cost", Range::MONEY);
    let processing_days = fields.opt_u32_within("processing_days", 0, MAX_PROCESSING_DAYS);
    let daily_capacity = fields.opt_u32("daily_capacity", 0);
    // Rules compare priorities as numbers: beyond 2^53 two ranks could look equal.
    let priority = fields.opt_i64("priority", 1 << 53);
    let attr = fields.attr(LOCATION_FIELDS);
    Some(Location {
        id: id?,
        kind: kind?,
        lat: lat?,
        lon: lon?,
        country,
        region,
        tags,
        handling_cost: handling_cost.unwrap_or(0.0),
        processing_days: processing_days.unwrap_or(0),
        daily_capacity,
        priority,
        attr,
    })
}

fn read_kind(fields: &Fields<'_, '_>) -> Option<LocationKind> {
    let Some(raw) = fields.raw("kind") else {
        fields.missing("kind", "one of `dc`, `store`, `dropship`");
        return None;
    };
    let text = fields.doc().string(raw, &fields.path("kind"))?;
    let kind = LocationKind::parse(&text);
    if kind.is_none() {
        let hint = suggestion(&text, KINDS.iter().map(|k| k.as_str()));
        let message = format!(
            "expected one of `dc`, `store`, `dropship`, found {}{hint}",
            quote(&text)
        );
        fields.error("kind", message);
    }
    kind
}

fn read_service(fields: &Fields<'_, '_>) -> Option<Service> {
    let id = fields.req_text("id");
    let base_cost = fields.req_f64("base_cost", Range::MONEY);
    let cost_per_km = fields.req_f64("cost_per_km", Range::MONEY);
    let cost_per_kg = fields.req_f64("cost_per_kg", Range::MONEY);
    let km_per_day = fields.req_f64("km_per_day", Range::SPEED);
    Some(Service {
        id: id?,
        base_cost: base_cost?,
        cost_per_km: cost_per_km?,
        cost_per_kg: cost_per_kg?,
        km_per_day: km_per_day?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const SERVICES: &str = r#""services": [
    { "id": "ground", "base_cost": 4.2, "cost_per_km": 0.0015, "cost_per_kg": 0.35, "km_per_day": 450 }
  ]"#;

    /// A network text with the given location objects and the ground service.
    fn with_locations(locations: &str) -> String {
        format!("{{\n  \"locations\": [\n{locations}\n  ],\n  {SERVICES}\n}}\n")
    }

    fn errors(text: &str) -> String {
        parse_network("network.json", text).unwrap_err().to_string()
    }

    #[test]
    fn parses_the_contract_example_subset() {
        let text = r#"{
  "currency": "EUR",
  "locations": [
    { "id": "DC-KASSEL", "kind": "dc", "lat": 51.31667, "lon": 9.5,
      "country": "DE", "region": "HE", "tags": ["hazmat", "bulky"],
      "handling_cost": 1.1, "processing_days": 0, "daily_capacity": 40000, "priority": 1 },
    { "id": "ST-MUNICH", "kind": "store", "lat": 48.13743, "lon": 11.57549,
      "country": "DE", "region": "BY", "tags": ["pickup"],
      "handling_cost": 3.6, "processing_days": 1.0, "daily_capacity": null, "opens": "09:00" }
  ],
  "services": [
    { "id": "ground",  "base_cost": 4.2, "cost_per_km": 0.0015, "cost_per_kg": 0.35, "km_per_day": 450 },
    { "id": "express", "base_cost": 9.9, "cost_per_km": 0.003, "cost_per_kg": 0.8, "km_per_day": 1100 }
  ]
}"#;
        let network = parse_network("network.json", text).unwrap();
        assert_eq!(network.currency, "EUR");
        assert_eq!(network.locations.len(), 2);
        let kassel = &network.locations[0];
        assert_eq!(kassel.kind, LocationKind::Dc);
        assert_eq!(kassel.tags, ["hazmat", "bulky"]);
        assert_eq!(kassel.daily_capacity, Some(40000));
        assert_eq!(kassel.priority, Some(1));
        let munich = network.location("ST-MUNICH").unwrap();
        assert_eq!(munich.kind, LocationKind::Store);
        assert_eq!(munich.processing_days, 1);
        assert_eq!(munich.daily_capacity, None);
        assert_eq!(munich.priority, None);
        assert_eq!(munich.attr["opens"], "09:00");
        assert_eq!(network.location_index("ST-MUNICH"), Some(1));
        assert_eq!(network.services[1].id, "express");
        assert_eq!(network.services[1].km_per_day, 1100.0);
    }

    #[test]
    fn optional_fields_take_their_defaults() {
        let text = with_locations(r#"{ "id": "DC-1", "kind": "dc", "lat": 0, "lon": 0 }"#);
        let network = parse_network("network.json", &text).unwrap();
        assert_eq!(network.currency, "EUR");
        let dc = &network.locations[0];
        assert_eq!(dc.handling_cost, 0.0);
        assert_eq!(dc.processing_days, 0);
        assert!(dc.tags.is_empty() && dc.attr.is_empty());
        assert_eq!((dc.country.as_deref(), dc.region.as_deref()), (None, None));
    }

    #[test]
    fn service_fields_and_currency_out_of_range_are_located() {
        // 1e-300 km a day once meant 4,294,967,295 days without a word; `euro` is not a
        // code; ten thousand processing days and a priority past 2^53 are not exact.
        let text = r#"{
  "currency": "euro",
  "locations": [
    { "id": "DC-1", "kind": "dc", "lat": 0, "lon": 0, "processing_days": 10000, "priority": 9007199254740993 }
  ],
  "services": [
    { "id": "slow", "base_cost": 1, "cost_per_km": 0, "cost_per_kg": 0, "km_per_day": 1e-300 },
    { "id": "crawl", "base_cost": 1, "cost_per_km": 0, "cost_per_kg": 0, "km_per_day": 0.5 }
  ]
}"#;
        assert_eq!(
            errors(text),
            "network.json:2:15: currency: expected an ISO 4217 currency code, three capital letters like `EUR`, found `euro`\n\
             network.json:4:74: locations[0].processing_days: must be at most 3650, found `10000`\n\
             network.json:4:93: locations[0].priority: must be from -9007199254740992 to 9007199254740992, found `9007199254740993`\n\
             network.json:7:87: services[0].km_per_day: must be a number ≥ 1, found `1e-300`\n\
             network.json:8:88: services[1].km_per_day: must be a number ≥ 1, found `0.5`"
        );
        for bad in ["", "eur", "EURO", "€", "E1R", "ÉUR"] {
            let text = format!("{{\"currency\": \"{bad}\",\n  \"locations\": [{{ \"id\": \"A\", \"kind\": \"dc\", \"lat\": 0, \"lon\": 0 }}],\n  {SERVICES}\n}}");
            assert!(
                errors(&text).contains("currency: expected an ISO 4217"),
                "{bad}"
            );
        }
        // The largest processing days and the smallest speed give exact day counts; `-0`
        // is 0, so no cost is ever written as `-0.0`.
        let text = with_locations(
            r#"{ "id": "DC-1", "kind": "dc", "lat": -0, "lon": 0, "processing_days": 3650, "handling_cost": -0.0 }"#,
        )
        .replace("\"km_per_day\": 450", "\"km_per_day\": 1")
        .replace("\"cost_per_km\": 0.0015", "\"cost_per_km\": -0");
        let network = parse_network("network.json", &text).unwrap();
        let dc = &network.locations[0];
        assert!(dc.handling_cost.is_sign_positive() && dc.lat.is_sign_positive());
        assert!(network.services[0].cost_per_km.is_sign_positive());
        assert_eq!(
            crate::cost::transit_days(20_015.1, &network.services[0]) + dc.processing_days,
            20_016 + 3650
        );
    }

    #[test]
    fn malformed_json() {
        let text = "{\n  \"locations\": [\n    { \"id\": \"DC-1\" \"kind\": \"dc\" }\n  ]\n}";
        insta::assert_snapshot!(errors(text));
    }

    #[test]
    fn truncated_json() {
        insta::assert_snapshot!(errors("{\n  \"locations\": ["));
    }

    #[test]
    fn not_an_object() {
        insta::assert_snapshot!(errors("[1, 2]"));
    }

    #[test]
    fn missing_fields() {
        let text = with_locations(r#"    { "id": "DC-1", "lon": 9.5 }"#);
        insta::assert_snapshot!(errors(&text));
    }

    #[test]
    fn missing_locations_and_services() {
        insta::assert_snapshot!(errors("{ \"currency\": \"EUR\" }"));
    }

    #[test]
    fn empty_lists() {
        insta::assert_snapshot!(errors("{ \"locations\": [], \"services\": [] }"));
    }

    #[test]
    fn mistyped_fields() {
        let text = with_locations(
            r#"    { "id": 42, "kind": "dc", "lat": "51.3", "lon": 9.5, "tags": ["a", 1],
      "handling_cost": "cheap", "processing_days": 2.5, "daily_capacity": -1, "priority": 1.5 }"#,
        );
        insta::assert_snapshot!(errors(&text));
    }

    #[test]
    fn duplicate_location_id() {
        let text = with_locations(
            r#"    { "id": "DC-1", "kind": "dc", "lat": 51, "lon": 9 },
    { "id": "ST-1", "kind": "store", "lat": 48, "lon": 11 },
    { "id": "DC-1", "kind": "dc", "lat": 52, "lon": 13 }"#,
        );
        insta::assert_snapshot!(errors(&text));
    }

    #[test]
    fn duplicate_service_id() {
        let text = r#"{
  "locations": [ { "id": "DC-1", "kind": "dc", "lat": 51, "lon": 9 } ],
  "services": [
    { "id": "ground", "base_cost": 4.2, "cost_per_km": 0.0015, "cost_per_kg": 0.35, "km_per_day": 450 },
    { "id": "ground", "base_cost": 9.9, "cost_per_km": 0.003, "cost_per_kg": 0.8, "km_per_day": 0 }
  ]
}"#;
        insta::assert_snapshot!(errors(text));
    }

    #[test]
    fn lat_lon_out_of_range() {
        let text = with_locations(
            r#"    { "id": "DC-1", "kind": "dc", "lat": 91.5, "lon": -180.01 },
    { "id": "DC-2", "kind": "dc", "lat": -90, "lon": 180 },
    { "id": "DC-3", "kind": "dc", "lat": 1e999, "lon": 0 }"#,
        );
        insta::assert_snapshot!(errors(&text));
    }

    #[test]
    fn unknown_kind() {
        let text = with_locations(
            r#"    { "id": "DC-1", "kind": "warehouse", "lat": 51, "lon": 9 },
    { "id": "ST-1", "kind": "Store", "lat": 48, "lon": 11 }"#,
        );
        insta::assert_snapshot!(errors(&text));
    }

    #[test]
    fn several_problems_all_reported() {
        let text = r#"{
  "currency": "",
  "locations": [
    { "id": "", "kind": "dc", "lat": 51, "lon": 9 },
    "DC-2",
    { "id": "DC-3", "kind": "dc", "lat": 51, "lon": 9, "id": "DC-4" }
  ],
  "services": [
    { "id": "ground", "base_cost": -1, "cost_per_km": null, "cost_per_kg": 0.35 }
  ]
}"#;
        insta::assert_snapshot!(errors(text));
    }

    #[test]
    fn non_utf8_file() {
        let dir = std::env::temp_dir().join(format!("load-network-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("network.json");
        std::fs::write(&path, b"{\n  \"currency\": \"\xE9UR\"\n}").unwrap();
        let errors = load_network(&path).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(errors.len(), 1);
        let error = &errors.errors()[0];
        assert_eq!((error.line, error.column), (2, 16));
        assert!(error.message.contains("not valid UTF-8"), "{error}");
    }

    #[test]
    fn load_reads_a_file_with_a_bom() {
        let dir = std::env::temp_dir().join(format!("load-network-bom-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("network.json");
        let text = with_locations(r#"{ "id": "DC-1", "kind": "dc", "lat": 0, "lon": 0 }"#);
        std::fs::write(
            &path,
            [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        )
        .unwrap();
        let network = load_network(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(network.unwrap().locations.len(), 1);
    }

    #[test]
    fn garbage_never_panics() {
        let inputs = [
            "",
            "   ",
            "null",
            "\"x\"",
            "{\"locations\": {}, \"services\": 3}",
            "{\"locations\": [null, [], 1e400], \"services\": [{}]}",
            "{\"a\":\u{0}}",
            "{\"locations\":[{\"id\":\"\\ud800\"}]}",
        ];
        for input in inputs {
            let errors = parse_network("n.json", input).unwrap_err();
            assert!(!errors.is_empty(), "{input}");
        }
        let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
        assert!(parse_network("n.json", &deep).is_err());
    }
}
