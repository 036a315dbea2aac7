//! The order loader (contract section 3).
//!
//! In: `orders.jsonl` (one JSON object per line, blank lines skipped) and the already loaded
//! [`Network`] (pickup stores are checked against it). Out: [`Order`]s, streamed one line at a
//! time by [`OrderReader`], validated whole by [`check_orders`], or loaded whole by
//! [`load_orders`]; problems carry the file's line number and the column within that line.

use super::json::{quote, Doc, Fields, Range};
use super::{decode, suggestion, LoadError, LoadErrors};
use crate::model::network::{Location, LocationKind, Network};
use crate::model::order::{Fulfillment, Order, OrderLine, ShipTo, PICKUP_TOLERANCE_KM};
use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Order fields the contract names; any other field goes to `attr`.
const ORDER_FIELDS: &[&str] = &[
    "id",
    "channel",
    "placed_at",
    "customer_tier",
    "ship_to",
    "fulfillment",
    "pickup_location",
    "promise_days",
    "lines",
];

/// Order line fields the contract names; any other field goes to `attr`.
const LINE_FIELDS: &[&str] = &[
    "sku",
    "qty",
    "unit_weight_kg",
    "unit_price",
    "tags",
    "group",
    "pack_size",
];

/// What one line yielded: the order if it is valid, its id and where the id is (for the
/// duplicate check, even when other fields are bad; the column is `None` when the quick
/// path read the line, see [`OrderReader::id_column`]), and its problems.
struct Parsed {
    order: Option<Order>,
    id: Option<(String, Option<usize>)>,
    errors: Vec<LoadError>,
}

/// Parses one line of `orders.jsonl`; `line_no` is its 1-based line in `file`.
pub fn parse_order(
    file: &str,
    line_no: usize,
    text: &str,
    network: &Network,
) -> Result<Order, LoadErrors> {
    let parsed = parse_line(file, line_no, text, network);
    let mut errors = LoadErrors::new();
    for error in parsed.errors {
        errors.push(error);
    }
    match parsed.order {
        Some(order) if errors.is_empty() => Ok(order),
        _ => Err(errors),
    }
}

/// Parses one line: the quick path for a valid, plain line, else the located parse.
fn parse_line(file: &str, line_no: usize, text: &str, network: &Network) -> Parsed {
    if let Some(order) = super::quick::parse(text, network) {
        return Parsed {
            id: Some((order.id.clone(), None)),
            order: Some(order),
            errors: Vec::new(),
        };
    }
    parse_located(file, line_no, text, network)
}

/// Parses one line field by field, locating every problem.
fn parse_located(file: &str, line_no: usize, text: &str, network: &Network) -> Parsed {
    let doc = Doc::new(file, text, line_no);
    let mut id = None;
    let order = doc.root().and_then(|root| {
        let fields = doc.object(root, String::new(), "an order object `{…}`")?;
        let order = read_order(&fields, network);
        id = fields.raw("id").and_then(|raw| {
            let column = doc.position(doc.offset(raw)).1;
            serde_json::from_str::<String>(raw.get())
                .ok()
                .map(|id| (id, Some(column)))
        });
        order
    });
    Parsed {
        errors: doc.take_errors(),
        order,
        id,
    }
}

fn read_order(fields: &Fields<'_, '_>, network: &Network) -> Option<Order> {
    let id = fields.req_text("id");
    let channel = fields.opt_str("channel");
    let placed_at = read_placed_at(fields);
    let customer_tier = fields.opt_str("customer_tier");
    let ship_to = fields
        .req_object("ship_to", "an object with `lat` and `lon`")
        .and_then(|ship_to| read_ship_to(&ship_to));
    let fulfillment = read_fulfillment(fields);
    let pickup_location = fields.opt_str("pickup_location");
    let mut ship_to = ship_to;
    if fulfillment == Some(Fulfillment::Pickup) {
        let store = check_pickup_store(fields, pickup_location.as_deref(), network);
        if let (Some(store), Some(to)) = (store, ship_to.as_mut()) {
            match at_pickup_store(store, to.lat, to.lon) {
                Ok((lat, lon)) => (to.lat, to.lon) = (lat, lon),
                Err(km) => {
                    let message = format!(
                        "a pickup order's ship_to is its store's position (within {PICKUP_TOLERANCE_KM} km): {} is at {}, {}, {km:.1} km from {}, {}; write the store's position",
                        quote(&store.id),
                        store.lat,
                        store.lon,
                        to.lat,
                        to.lon
                    );
                    fields.error("ship_to", message);
                    ship_to = None;
                }
            }
        }
    }
    let promise_days = fields.opt_u32("promise_days", 0);
    let lines = read_lines(fields);
    let attr = fields.attr(ORDER_FIELDS);
    Some(Order {
        id: id?,
        channel,
        placed_at,
        customer_tier,
        ship_to: ship_to?,
        fulfillment: fulfillment?,
        pickup_location,
        promise_days,
        lines: lines?,
        attr,
    })
}

fn read_placed_at(fields: &Fields<'_, '_>) -> Option<String> {
    let placed_at = fields.opt_str("placed_at")?;
    if chrono::DateTime::parse_from_rfc3339(&placed_at).is_err() {
        let message = format!(
            "expected a date and time like `2026-11-23T09:15:00Z` (RFC 3339), found {}",
            quote(&placed_at)
        );
        fields.error("placed_at", message);
    }
    Some(placed_at)
}

fn read_ship_to(fields: &Fields<'_, '_>) -> Option<ShipTo> {
    let lat = fields.req_f64("lat", Range::LATITUDE);
    let lon = fields.req_f64("lon", Range::LONGITUDE);
    let country = fields.opt_str("country");
    let region = fields.opt_str("region");
    let postal_code = fields.opt_str("postal_code");
    Some(ShipTo {
        lat: lat?,
        lon: lon?,
        country,
        region,
        postal_code,
    })
}

/// `ship` (also when absent) or `pickup`; `None` after recording a problem.
fn read_fulfillment(fields: &Fields<'_, '_>) -> Option<Fulfillment> {
    let Some(raw) = fields.raw("fulfillment") else {
        return Some(Fulfillment::Ship);
    };
    let text = fields.doc().string(raw, &fields.path("fulfillment"))?;
    match text.as_str() {
        "ship" => Some(Fulfillment::Ship),
        "pickup" => Some(Fulfillment::Pickup),
        _ => {
            let hint = suggestion(&text, ["ship", "pickup"].into_iter());
            let message = format!("expected `ship` or `pickup`, found {}{hint}", quote(&text));
            fields.error("fulfillment", message);
            None
        }
    }
}

/// A pickup order's position: its store's when `lat`, `lon` lie within
/// [`PICKUP_TOLERANCE_KM`] of it, else the distance between them (km). Both order loaders
/// decide with this.
pub(super) fn at_pickup_store(store: &Location, lat: f64, lon: f64) -> Result<(f64, f64), f64> {
    let km = crate::geo::haversine_km(store.lat, store.lon, lat, lon);
    if km <= PICKUP_TOLERANCE_KM {
        Ok((store.lat, store.lon))
    } else {
        Err(km)
    }
}

/// A pickup order must name a store of the network; the store, when it does.
fn check_pickup_store<'n>(
    fields: &Fields<'_, '_>,
    store: Option<&str>,
    network: &'n Network,
) -> Option<&'n Location> {
    let Some(store) = store else {
        // Absent, null, or already reported as mistyped.
        if fields.raw("pickup_location").is_none() {
            fields.missing(
                "pickup_location",
                "the id of the store where the customer collects a pickup order",
            );
        }
        return None;
    };
    match network.location(store) {
        None => {
            let stores = network
                .locations
                .iter()
                .filter(|l| l.kind == LocationKind::Store)
                .map(|l| l.id.as_str());
            let hint = suggestion(store, stores);
            let message = format!("pickup store {} is not in the network{hint}", quote(store));
            fields.error("pickup_location", message);
        }
        Some(location) if location.kind != LocationKind::Store => {
            let message = format!(
                "{} is a {}, not a store; only stores hand out pickup orders",
                quote(store),
                location.kind.as_str()
            );
            fields.error("pickup_location", message);
        }
        Some(location) => return Some(location),
    }
    None
}

fn read_lines(fields: &Fields<'_, '_>) -> Option<Vec<OrderLine>> {
    let doc = fields.doc();
    let items = fields.req_array("lines", "a list of order lines")?;
    if items.is_empty() {
        let message = "must list at least one order line, found an empty list".to_string();
        fields.error("lines", message);
        return None;
    }
    let mut lines = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, raw) in items.into_iter().enumerate() {
        let path = format!("{}[{i}]", fields.path("lines"));
        let line = doc
            .object(raw, path, "an order line object `{…}`")
            .and_then(|line| read_line(&line));
        match line {
            Some(line) => lines.push(line),
            None => ok = false,
        }
    }
    ok.then_some(lines)
}

fn read_line(fields: &Fields<'_, '_>) -> Option<OrderLine> {
    let sku = fields.req_text("sku");
    let qty = fields.req_u32("qty", 1);
    let unit_weight_kg = fields.req_f64("unit_weight_kg", Range::WEIGHT);
    let unit_price = fields.opt_f64("unit_price", Range::MONEY);
    let tags = fields.str_list("tags");
    // A kit id is a non-empty string; a pack is a whole number ≥ 1 that divides the quantity.
    let group = fields.opt_text("group");
    let pack_size = fields.opt_u32("pack_size", 1);
    if let (Some(q), Some(p)) = (qty, pack_size) {
        if !u64::from(q).is_multiple_of(u64::from(p)) {
            let message = format!(
                "must divide the line's qty: {q} units are not whole packs of {p} (order {} or {})",
                q - q % p,
                (q - q % p).saturating_add(p)
            );
            fields.error("pack_size", message);
            return None;
        }
    }
    let attr = fields.attr(LINE_FIELDS);
    Some(OrderLine {
        sku: sku?,
        qty: qty?,
        unit_weight_kg: unit_weight_kg?,
        unit_price: unit_price.unwrap_or(0.0),
        tags,
        group,
        pack_size,
        attr,
    })
}

/// Streams orders from a JSONL reader, one `Result` per non-blank line.
///
/// [`OrderReader::line`] gives the line number of the order last returned. Duplicate ids are
/// not checked here (that needs every id); see [`check_orders`]. An I/O error ends the stream
/// after being returned once.
pub struct OrderReader<'n, R: BufRead> {
    file: String,
    reader: R,
    network: &'n Network,
    line: usize,
    buf: Vec<u8>,
    done: bool,
}

impl<'n, R: BufRead> OrderReader<'n, R> {
    /// Reads orders from `reader`; problems name `file_name`.
    pub fn new(file_name: &str, reader: R, network: &'n Network) -> OrderReader<'n, R> {
        OrderReader {
            file: file_name.to_string(),
            reader,
            network,
            line: 0,
            buf: Vec::new(),
            done: false,
        }
    }

    /// The 1-based line number of the order last returned (0 before the first).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The text of the line last read, without its line end (and byte-order mark).
    fn current_text(&self) -> Option<&str> {
        let mut bytes = self.buf.as_slice();
        if self.line == 1 {
            bytes = super::strip_bom(bytes);
        }
        let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        std::str::from_utf8(bytes).ok()
    }

    /// The column of the `id` value on the line last read (1 if it has none).
    fn id_column(&self) -> usize {
        self.current_text()
            .and_then(|text| parse_located(&self.file, self.line, text, self.network).id)
            .and_then(|(_, column)| column)
            .unwrap_or(1)
    }

    /// Reads the next non-blank line and parses it in full.
    fn next_parsed(&mut self) -> Option<Parsed> {
        if self.done {
            return None;
        }
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => self.line += 1,
                Err(err) => {
                    self.done = true;
                    let mut error = LoadError::io(&self.file, &err);
                    error.line = self.line + 1;
                    return Some(Parsed {
                        order: None,
                        id: None,
                        errors: vec![error],
                    });
                }
            }
            let mut bytes = self.buf.as_slice();
            if self.line == 1 {
                bytes = super::strip_bom(bytes);
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
            let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            return Some(match decode(&self.file, bytes, self.line) {
                Ok(text) => parse_line(&self.file, self.line, text, self.network),
                Err(error) => Parsed {
                    order: None,
                    id: None,
                    errors: vec![error],
                },
            });
        }
    }
}

impl<'n, R: BufRead> OrderReader<'n, R> {
    /// The orders still to read, as [`crate::ValidOrder`]s ready to route: this reader's
    /// checks are the engine's validation.
    pub fn valid<'r>(
        &'r mut self,
    ) -> impl Iterator<Item = Result<crate::ValidOrder, LoadErrors>> + use<'r, 'n, R> {
        self.by_ref().map(|r| r.map(crate::ValidOrder::loaded))
    }
}

impl<R: BufRead> Iterator for OrderReader<'_, R> {
    type Item = Result<Order, LoadErrors>;

    fn next(&mut self) -> Option<Self::Item> {
        let parsed = self.next_parsed()?;
        let mut errors = LoadErrors::new();
        for error in parsed.errors {
            errors.push(error);
        }
        Some(match parsed.order {
            Some(order) if errors.is_empty() => Ok(order),
            _ => Err(errors),
        })
    }
}

/// Validates a whole orders file without keeping the orders: every problem of every line
/// (the first [`LoadErrors::MAX_SHOWN`] kept, the rest counted) plus duplicate order ids.
/// Returns the number of orders.
pub fn check_orders<R: BufRead>(
    file: &str,
    reader: R,
    network: &Network,
) -> Result<usize, LoadErrors> {
    scan(file, reader, network, |_| {})
}

/// Reads a whole orders file into memory (for tests and small runs), reporting every problem
/// like [`check_orders`].
pub fn load_orders(path: &Path, network: &Network) -> Result<Vec<Order>, LoadErrors> {
    let file = path.display().to_string();
    let reader = File::open(path).map_err(|err| LoadError::io(&file, &err))?;
    read_orders(&file, BufReader::new(reader), network)
}

/// Reads every order of a reader into memory in one pass (a pipe can be read only once),
/// reporting every problem like [`check_orders`]; `file` is the name shown in problems.
pub fn read_orders<R: BufRead>(
    file: &str,
    reader: R,
    network: &Network,
) -> Result<Vec<Order>, LoadErrors> {
    let mut orders = Vec::new();
    scan(file, reader, network, |order| orders.push(order))?;
    Ok(orders)
}

/// Reads every line, collecting problems and checking ids are unique; hands each valid order
/// to `keep` and returns how many orders the file has.
fn scan<R: BufRead>(
    file: &str,
    reader: R,
    network: &Network,
    mut keep: impl FnMut(Order),
) -> Result<usize, LoadErrors> {
    let mut reader = OrderReader::new(file, reader, network);
    let mut errors = LoadErrors::new();
    // Order id -> line of its first occurrence.
    let mut seen: FxHashMap<String, usize> = FxHashMap::default();
    let mut count = 0;
    while let Some(parsed) = reader.next_parsed() {
        let line = reader.line();
        let mut problems = parsed.errors;
        if let Some((id, column)) = parsed.id {
            if let Some(&first) = seen.get(&id) {
                let column = column.unwrap_or_else(|| reader.id_column());
                let message = format!(
                    "duplicate order id {}, first seen on line {first}",
                    quote(&id)
                );
                problems.push(LoadError::new(
                    file,
                    line,
                    column,
                    Some("id".into()),
                    message,
                ));
                problems.sort_by_key(|e| e.column);
            } else {
                seen.insert(id, line);
            }
        }
        if let (Some(order), true) = (parsed.order, problems.is_empty()) {
            count += 1;
            if errors.is_empty() {
                keep(order);
            }
        }
        for problem in problems {
            errors.push(problem);
        }
    }
    errors.into_result(count)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::model::network::Location;
    use std::collections::BTreeMap;
    use std::io::Cursor;

    fn location(id: &str, kind: LocationKind) -> Location {
        Location {
            id: id.to_string(),
            kind,
            lat: 48.13743,
            lon: 11.57549,
            country: None,
            region: None,
            tags: Vec::new(),
            handling_cost: 0.0,
            processing_days: 0,
            daily_capacity: None,
            priority: None,
            attr: BTreeMap::new(),
        }
    }

    fn network() -> Network {
        Network::new(
            "EUR".to_string(),
            vec![
                location("DC-KASSEL", LocationKind::Dc),
                location("ST-MUNICH", LocationKind::Store),
                location("VD-STUTTGART", LocationKind::Dropship),
            ],
            Vec::new(),
        )
    }

    const SHIP_TO: &str = r#""ship_to":{"lat":50.11,"lon":8.68}"#;
    const LINE: &str = r#""lines":[{"sku":"TSHIRT-M","qty":2,"unit_weight_kg":0.25}]"#;

    fn errors(text: &str) -> String {
        parse_order("orders.jsonl", 7, text, &network())
            .unwrap_err()
            .to_string()
    }

    fn check(text: &str) -> Result<usize, LoadErrors> {
        check_orders("orders.jsonl", Cursor::new(text), &network())
    }

    #[test]
    fn parses_the_contract_example() {
        let text = r#"{"id":"O-1","channel":"web","placed_at":"2026-11-23T09:15:00Z","customer_tier":"gold","ship_to":{"lat":50.1109,"lon":8.6821,"country":"DE","region":"HE","postal_code":"60311"},"fulfillment":"ship","promise_days":2,"lines":[{"sku":"SKU-100","qty":2,"unit_weight_kg":0.4,"unit_price":19.99,"tags":[]}]}"#;
        let order = parse_order("o.jsonl", 1, text, &network()).unwrap();
        assert_eq!(order.id, "O-1");
        assert_eq!(order.placed_at.as_deref(), Some("2026-11-23T09:15:00Z"));
        assert_eq!(order.ship_to.postal_code.as_deref(), Some("60311"));
        assert_eq!(order.fulfillment, Fulfillment::Ship);
        assert_eq!(order.promise_days, Some(2));
        assert_eq!(order.lines[0].qty, 2);
        assert_eq!(order.lines[0].unit_price, 19.99);
        assert!(order.attr.is_empty() && order.lines[0].attr.is_empty());
    }

    #[test]
    fn minimal_order_takes_defaults() {
        let text = format!(r#"{{"id":"O-2",{SHIP_TO},{LINE}}}"#);
        let order = parse_order("o.jsonl", 1, &text, &network()).unwrap();
        assert_eq!(order.fulfillment, Fulfillment::Ship);
        assert_eq!((order.promise_days, order.placed_at), (None, None));
        assert_eq!(order.lines[0].unit_price, 0.0);
        assert_eq!(order.lines[0].pack_size, None);
    }

    #[test]
    fn pack_size_must_divide_qty_and_group_must_be_text() {
        let text = r#"{"id":"O-4","ship_to":{"lat":50,"lon":8},"lines":[{"sku":"A","qty":7,"unit_weight_kg":1,"pack_size":3},{"sku":"B","qty":1,"unit_weight_kg":1,"group":""},{"sku":"C","qty":2,"unit_weight_kg":1,"group":5},{"sku":"D","qty":2,"unit_weight_kg":1,"pack_size":0}]}"#;
        let errors = parse_order("o.jsonl", 3, text, &network()).unwrap_err();
        let shown: Vec<String> = errors.errors().iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(shown.join("\n"));
    }

    #[test]
    fn unknown_fields_land_in_attr() {
        let text = r#"{"id":"O-3","gift":true,"loyalty":{"points":120},"ship_to":{"lat":50,"lon":8,"floor":3},"lines":[{"sku":"A","qty":4,"unit_weight_kg":1,"color":"red","group":"K1","pack_size":2.0}],"promise_days":null}"#;
        let order = parse_order("o.jsonl", 1, text, &network()).unwrap();
        assert_eq!(order.attr["gift"], true);
        assert_eq!(order.attr["loyalty"]["points"], 120);
        assert_eq!(order.attr.len(), 2);
        assert_eq!(order.lines[0].attr["color"], "red");
        assert_eq!(order.lines[0].group.as_deref(), Some("K1"));
        assert_eq!(order.lines[0].pack_size, Some(2));
    }

    #[test]
    fn pickup_at_a_store() {
        // Munich's position rounded by a client (about 0.5 km off): the store's position.
        let text = format!(
            r#"{{"id":"O-4","fulfillment":"pickup","pickup_location":"ST-MUNICH","ship_to":{{"lat":48.14,"lon":11.58}},{LINE}}}"#
        );
        let order = parse_order("o.jsonl", 1, &text, &network()).unwrap();
        assert_eq!(order.fulfillment, Fulfillment::Pickup);
        assert_eq!(order.pickup_location.as_deref(), Some("ST-MUNICH"));
        assert_eq!((order.ship_to.lat, order.ship_to.lon), (48.13743, 11.57549));
        // A ship order may carry a pickup_location; it is kept as given.
        let text = format!(r#"{{"id":"O-5","pickup_location":"NOWHERE",{SHIP_TO},{LINE}}}"#);
        let order = parse_order("o.jsonl", 1, &text, &network()).unwrap();
        assert_eq!(order.pickup_location.as_deref(), Some("NOWHERE"));
    }

    #[test]
    fn malformed_json_line() {
        insta::assert_snapshot!(errors(
            r#"{"id":"O-1","ship_to":{"lat":50,"lon":8},"lines":[}"#
        ));
    }

    #[test]
    fn missing_fields() {
        insta::assert_snapshot!(errors(r#"{"channel":"web","ship_to":{"lat":50}}"#));
    }

    #[test]
    fn mistyped_fields() {
        let text = r#"{"id":17,"ship_to":[50,8],"fulfillment":true,"promise_days":"2","channel":1,"lines":{"sku":"A"}}"#;
        insta::assert_snapshot!(errors(text));
    }

    #[test]
    fn lat_lon_out_of_range() {
        let text = format!(r#"{{"id":"O-1","ship_to":{{"lat":-90.5,"lon":181}},{LINE}}}"#);
        insta::assert_snapshot!(errors(&text));
    }

    #[test]
    fn pickup_unknown_store() {
        let text = format!(
            r#"{{"id":"O-1","fulfillment":"pickup","pickup_location":"ST-MUNIC",{SHIP_TO},{LINE}}}"#
        );
        insta::assert_snapshot!(errors(&text));
    }

    #[test]
    fn pickup_elsewhere_than_its_store() {
        // Frankfurt is 304 km from the Munich store: refused at `ship_to`, naming the store.
        let text = format!(
            r#"{{"id":"O-1","fulfillment":"pickup","pickup_location":"ST-MUNICH",{SHIP_TO},{LINE}}}"#
        );
        assert_eq!(
            errors(&text),
            "orders.jsonl:7:76: ship_to: a pickup order's ship_to is its store's position (within 1 km): `ST-MUNICH` is at 48.13743, 11.57549, 304.1 km from 50.11, 8.68; write the store's position"
        );
    }

    #[test]
    fn pickup_at_a_dc() {
        let text = format!(
            r#"{{"id":"O-1","fulfillment":"pickup","pickup_location":"DC-KASSEL",{SHIP_TO},{LINE}}}"#
        );
        insta::assert_snapshot!(errors(&text));
    }

    #[test]
    fn pickup_without_location() {
        let text = format!(r#"{{"id":"O-1","fulfillment":"pickup",{SHIP_TO},{LINE}}}"#);
        insta::assert_snapshot!(errors(&text));
    }

    #[test]
    fn unknown_fulfillment() {
        let text = format!(r#"{{"id":"O-1","fulfillment":"pick-up",{SHIP_TO},{LINE}}}"#);
        insta::assert_snapshot!(errors(&text));
    }

    #[test]
    fn bad_placed_at() {
        let text = format!(r#"{{"id":"O-1","placed_at":"2026-11-23 09:15",{SHIP_TO},{LINE}}}"#);
        insta::assert_snapshot!(errors(&text));
    }

    #[test]
    fn qty_zero_and_other_line_problems() {
        let text = format!(
            r#"{{"id":"O-1",{SHIP_TO},"lines":[{{"sku":"A","qty":0,"unit_weight_kg":1}},{{"sku":"","qty":1.5,"unit_weight_kg":-1,"unit_price":"9.99","tags":"x","pack_size":0}},{{"sku":"C","qty":4294967296,"unit_weight_kg":1}},"D"]}}"#
        );
        insta::assert_snapshot!(errors(&text));
    }

    #[test]
    fn empty_lines_list() {
        insta::assert_snapshot!(errors(&format!(r#"{{"id":"O-1",{SHIP_TO},"lines":[]}}"#)));
    }

    #[test]
    fn reader_streams_with_line_numbers() {
        let text = format!(
            "{{\"id\":\"A\",{SHIP_TO},{LINE}}}\r\n\n   \n{{\"id\":\"B\",{SHIP_TO},{LINE}}}\nnot json\n{{\"id\":\"C\",{SHIP_TO},{LINE}}}"
        );
        let network = network();
        let mut reader = OrderReader::new("o.jsonl", Cursor::new(text), &network);
        assert_eq!(reader.next().unwrap().unwrap().id, "A");
        assert_eq!(reader.line(), 1);
        assert_eq!(reader.next().unwrap().unwrap().id, "B");
        assert_eq!(reader.line(), 4);
        let err = reader.next().unwrap().unwrap_err();
        assert_eq!(err.errors()[0].line, 5);
        assert_eq!(reader.next().unwrap().unwrap().id, "C");
        assert_eq!(reader.line(), 6);
        assert!(reader.next().is_none());
    }

    #[test]
    fn check_counts_valid_files() {
        let text =
            format!("{{\"id\":\"A\",{SHIP_TO},{LINE}}}\n\n{{\"id\":\"B\",{SHIP_TO},{LINE}}}\n");
        assert_eq!(check(&text).unwrap(), 2);
        assert_eq!(check("").unwrap(), 0);
    }

    #[test]
    fn duplicate_order_id() {
        let text = format!(
            "{{\"id\":\"A\",{SHIP_TO},{LINE}}}\n{{\"id\":\"B\",{SHIP_TO},{LINE}}}\n{{\"id\":\"A\",{SHIP_TO},{LINE}}}\n{{\"lines\":[], \"id\":\"B\"}}\n"
        );
        insta::assert_snapshot!(check(&text).unwrap_err().to_string());
    }

    #[test]
    fn several_problems_in_one_file() {
        let text = format!(
            "{{\"id\":\"A\",{SHIP_TO},{LINE}}}\n\
             {{\"id\":\"B\",\"ship_to\":{{\"lat\":95,\"lon\":8}},{LINE},\"placed_at\":\"today\"}}\n\
             [1,2]\n\
             {{\"id\":\"C\",{SHIP_TO},\"lines\":[{{\"sku\":\"A\",\"qty\":-1,\"unit_weight_kg\":1}}]\n\
             {{\"id\":\"D\",\"fulfillment\":\"pickup\",\"pickup_location\":\"VD-STUTTGART\",{SHIP_TO},{LINE}}}\n"
        );
        insta::assert_snapshot!(check(&text).unwrap_err().to_string());
    }

    #[test]
    fn non_utf8_line() {
        let mut bytes = format!("{{\"id\":\"A\",{SHIP_TO},{LINE}}}\n").into_bytes();
        bytes.extend_from_slice(b"{\"id\":\"\xC3\x28\"}\n");
        let errors = check_orders("orders.jsonl", Cursor::new(bytes), &network()).unwrap_err();
        insta::assert_snapshot!(errors.to_string());
    }

    #[test]
    fn problem_cap_keeps_counting() {
        let mut text = String::new();
        for i in 0..70 {
            text.push_str(&format!(
                "{{\"id\":\"O-{i}\",{SHIP_TO},\"lines\":[{{\"sku\":\"A\",\"qty\":0,\"unit_weight_kg\":1}}]}}\n"
            ));
        }
        let errors = check(&text).unwrap_err();
        assert_eq!(errors.len(), 70);
        assert_eq!(errors.errors().len(), 50);
        insta::assert_snapshot!(errors.to_string());
    }

    #[test]
    fn load_orders_reads_a_file() {
        let dir = std::env::temp_dir().join(format!("load-orders-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("orders.jsonl");
        let text = format!(
            "\u{feff}{{\"id\":\"A\",{SHIP_TO},{LINE}}}\n{{\"id\":\"B\",{SHIP_TO},{LINE}}}\n"
        );
        std::fs::write(&path, text).unwrap();
        let orders = load_orders(&path, &network());
        let missing = load_orders(&dir.join("none.jsonl"), &network());
        std::fs::remove_dir_all(&dir).unwrap();
        let ids: Vec<_> = orders.unwrap().into_iter().map(|o| o.id).collect();
        assert_eq!(ids, ["A", "B"]);
        assert!(missing
            .unwrap_err()
            .to_string()
            .contains("cannot read file"));
    }

    #[test]
    fn garbage_never_panics() {
        let inputs: [&[u8]; 8] = [
            b"\xFF\xFF\xFF\n\x00\x01\n",
            b"{\"id\":\"A\",\"ship_to\":{\"lat\":NaN,\"lon\":Infinity}}\n",
            b"{\"id\":\"A\",\"ship_to\":{\"lat\":\"NaN\",\"lon\":1e400},\"lines\":[{\"qty\":1e400}]}\n",
            b"{\"id\":\"A\",\"promise_days\":-0.0,\"lines\":[null,[],{}]}\n",
            b"\"just a string\"\n42\nnull\n",
            b"{\"placed_at\":\"2026-02-30T00:00:00Z\",\"fulfillment\":\"pickup\",\"pickup_location\":7}\n",
            b"{\"a\":1,\"a\":2,\"a\":{\"b\":[1,2,{\"c\":99999999999999999999999999}]}}",
            b"\r\n\t\n",
        ];
        for bytes in inputs {
            let _ = check_orders("o.jsonl", Cursor::new(bytes), &network());
        }
        let deep = format!(
            "{{\"x\":{}{}}}\n",
            "{\"y\":".repeat(40_000),
            "}".repeat(40_000)
        );
        assert!(check(&deep).is_err());
    }
}
