//! The stock loader (contract section 2).
//!
//! In: `inventory.csv` (header required, any column order, extra columns ignored) or
//! `inventory.json` (an array of records), and the already loaded [`Network`]. Out: one
//! [`InventoryRecord`] per row, its location resolved to the network index, or every problem
//! found (unknown locations, bad quantities, duplicate rows, ragged rows, bad JSON).

use super::json::{quote, Doc};
use super::{decode, did_you_mean, read_file, strip_bom, LoadError, LoadErrors};
use crate::model::network::Network;
use rustc_hash::FxHashMap;
use std::path::Path;

/// One stock row, location resolved to its index in the network.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InventoryRecord {
    /// Index of the location in [`Network::locations`].
    pub location: usize,
    /// The SKU.
    pub sku: String,
    /// Units on the shelf.
    pub on_hand: u64,
    /// Units already promised to other orders.
    pub reserved: u64,
    /// Units kept back as a buffer.
    pub safety_stock: u64,
}

impl InventoryRecord {
    /// Available to promise: the contract's `max(0, on_hand - reserved - safety_stock)`
    /// (the loaders keep each count at most [`crate::MAX_UNITS`]).
    pub fn atp(&self) -> u64 {
        self.on_hand
            .saturating_sub(self.reserved)
            .saturating_sub(self.safety_stock)
    }
}

/// Fields of a JSON record the contract names (other fields are ignored, like extra columns).
const COLUMNS: [&str; 5] = ["location", "sku", "on_hand", "reserved", "safety_stock"];
const REQUIRED_COLUMNS: usize = 3;

/// Checks shared by both formats: location lookup (with cached suggestions) and duplicates.
struct Checker<'n> {
    network: &'n Network,
    /// Unknown id -> its message, so a bad id repeated on many rows is matched once.
    unknown: FxHashMap<String, String>,
    /// (location, sku) -> line of the first row, to name it in a duplicate's problem.
    seen: FxHashMap<(usize, String), usize>,
}

impl<'n> Checker<'n> {
    fn new(network: &'n Network) -> Checker<'n> {
        Checker {
            network,
            unknown: FxHashMap::default(),
            seen: FxHashMap::default(),
        }
    }

    /// The location's index, or the message for an unknown one.
    fn location(&mut self, id: &str) -> Result<usize, String> {
        if let Some(index) = self.network.location_index(id) {
            return Ok(index);
        }
        let network = self.network;
        let message = self.unknown.entry(id.to_string()).or_insert_with(|| {
            let ids = network.locations.iter().map(|l| l.id.as_str());
            match did_you_mean(id, ids) {
                Some(near) => format!("unknown location {}; did you mean `{near}`?", quote(id)),
                None => format!("unknown location {}: it is not in the network", quote(id)),
            }
        });
        Err(message.clone())
    }

    /// `Err(message)` if this (location, sku) pair was already listed.
    fn first_time(&mut self, location: usize, sku: &str, line: usize) -> Result<(), String> {
        match self.seen.get(&(location, sku.to_string())) {
            Some(first) => {
                let id = &self.network.locations.get(location).map_or("", |l| &l.id);
                Err(format!(
                    "duplicate row for location {} and sku {}, first seen on line {first}",
                    quote(id),
                    quote(sku)
                ))
            }
            None => {
                self.seen.insert((location, sku.to_string()), line);
                Ok(())
            }
        }
    }
}

/// Parses `inventory.csv`; `file` is the name shown in problems.
pub fn parse_inventory_csv(
    file: &str,
    bytes: &[u8],
    network: &Network,
) -> Result<Vec<InventoryRecord>, LoadErrors> {
    let bytes = strip_bom(bytes);
    let mut errors = LoadErrors::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();

    // The header: which column holds which field.
    match reader.read_byte_record(&mut record) {
        Ok(true) => {}
        Ok(false) => {
            let message = "the file is empty; expected a header line \
                           `location,sku,on_hand,reserved,safety_stock`";
            return Err(LoadError::new(file, 1, 1, None, message).into());
        }
        Err(err) => return Err(csv_error(file, &err).into()),
    }
    let header_line = line_of(&record);
    let row = Row {
        file,
        bytes,
        record: &record,
        line: header_line,
    };
    let mut names = Vec::with_capacity(record.len());
    for i in 0..record.len() {
        match row.cell(i) {
            Ok(name) => names.push(name.to_string()),
            Err(err) => {
                errors.push(err);
                names.push(String::new());
            }
        }
    }
    let mut index = [None; COLUMNS.len()];
    let mut header_problems = Vec::new();
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        let mut found = names.iter().enumerate().filter(|(_, n)| *n == column);
        *slot = found.next().map(|(i, _)| i);
        for (i, _) in found {
            let message = format!("the column {} appears twice", quote(column));
            header_problems.push(row.error(i, None, message));
        }
    }
    for (slot, column) in index.iter().zip(COLUMNS).take(REQUIRED_COLUMNS) {
        if slot.is_none() {
            let hint = did_you_mean(column, names.iter().map(String::as_str))
                .map(|near| format!("; did you mean `{near}`?"))
                .unwrap_or_default();
            let message = format!("the header has no column {}{hint}", quote(column));
            header_problems.push(LoadError::new(file, header_line, 1, None, message));
        }
    }
    header_problems.sort_by_key(|e| (e.line, e.column));
    for problem in header_problems {
        errors.push(problem);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let [Some(location), Some(sku), Some(on_hand), reserved, safety_stock] = index else {
        return Err(errors);
    };

    let mut checker = Checker::new(network);
    let mut records = Vec::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => {
                errors.push(csv_error(file, &err));
                break;
            }
        }
        let row = Row {
            file,
            bytes,
            record: &record,
            line: line_of(&record),
        };
        if record.len() != names.len() {
            let message = format!(
                "expected {} fields like the header, found {}",
                names.len(),
                record.len()
            );
            errors.push(row.error(0, None, message));
            continue;
        }
        let mut problems = Vec::new();
        let location = match row.cell(location).map(str::trim) {
            Ok("") => {
                let message = "is empty; expected a location id from the network".to_string();
                problems.push(row.error(location, Some("location"), message));
                None
            }
            Ok(id) => match checker.location(id) {
                Ok(index) => Some(index),
                Err(message) => {
                    problems.push(row.error(location, Some("location"), message));
                    None
                }
            },
            Err(err) => {
                problems.push(err);
                None
            }
        };
        let sku_column = sku;
        let sku = match row.cell(sku).map(str::trim) {
            Ok("") => {
                let message = "is empty; expected a sku".to_string();
                problems.push(row.error(sku_column, Some("sku"), message));
                None
            }
            Ok(sku) => Some(sku.to_string()),
            Err(err) => {
                problems.push(err);
                None
            }
        };
        let on_hand = row.quantity(on_hand, "on_hand", true, &mut problems);
        let reserved = reserved.map_or(Some(0), |i| {
            row.quantity(i, "reserved", false, &mut problems)
        });
        let safety_stock = safety_stock.map_or(Some(0), |i| {
            row.quantity(i, "safety_stock", false, &mut problems)
        });
        if let (Some(location), Some(sku)) = (location, &sku) {
            if let Err(message) = checker.first_time(location, sku, row.line) {
                problems.push(LoadError::new(file, row.line, 1, None, message));
            }
        }
        problems.sort_by_key(|e| (e.line, e.column));
        let ok = problems.is_empty();
        for problem in problems {
            errors.push(problem);
        }
        if let (
            true,
            Some(location),
            Some(sku),
            Some(on_hand),
            Some(reserved),
            Some(safety_stock),
        ) = (ok, location, sku, on_hand, reserved, safety_stock)
        {
            records.push(InventoryRecord {
                location,
                sku,
                on_hand,
                reserved,
                safety_stock,
            });
        }
    }
    errors.into_result(records)
}

/// The 1-based line a CSV record starts on.
fn line_of(record: &csv::ByteRecord) -> usize {
    record
        .position()
        .map_or(1, |p| usize::try_from(p.line()).unwrap_or(usize::MAX))
}

/// A CSV reader error (only I/O errors can occur with byte records and flexible rows).
fn csv_error(file: &str, err: &csv::Error) -> LoadError {
    let line = err
        .position()
        .map_or(1, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
    LoadError::new(file, line, 1, None, format!("cannot read CSV: {err}"))
}

/// One CSV record with what is needed to locate its cells.
struct Row<'r> {
    file: &'r str,
    /// The whole input, to find where the record's cells start.
    bytes: &'r [u8],
    record: &'r csv::ByteRecord,
    line: usize,
}

impl Row<'_> {
    /// Line and 1-based character column where cell `index` starts.
    ///
    /// Re-scans the record's raw bytes, honouring quotes, so quoted cells are located right.
    fn locate(&self, index: usize) -> (usize, usize) {
        let start = self
            .record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(0);
        let raw = self.bytes.get(start..).unwrap_or_default();
        let mut offset = 0;
        let mut cell = 0;
        let mut quoted = false;
        let mut at_cell_start = true;
        while cell < index {
            let Some(&b) = raw.get(offset) else { break };
            if at_cell_start && b == b'"' {
                quoted = true;
            } else if quoted && b == b'"' {
                // `""` inside quotes is an escaped quote; a lone `"` ends the quoted part.
                if raw.get(offset + 1) == Some(&b'"') {
                    offset += 1;
                } else {
                    quoted = false;
                }
            } else if !quoted && b == b',' {
                cell += 1;
                offset += 1;
                at_cell_start = true;
                continue;
            } else if !quoted && (b == b'\n' || b == b'\r') {
                break;
            }
            at_cell_start = false;
            offset += 1;
        }
        let before = String::from_utf8_lossy(raw.get(..offset).unwrap_or_default());
        let line = self.line + before.matches('\n').count();
        let column = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
        (line, column)
    }

    /// A problem about cell `index`.
    fn error(&self, index: usize, field: Option<&str>, message: String) -> LoadError {
        let (line, column) = self.locate(index);
        LoadError::new(self.file, line, column, field.map(str::to_string), message)
    }

    /// The text of cell `index`; non-UTF-8 bytes are a problem.
    fn cell(&self, index: usize) -> Result<&str, LoadError> {
        let bytes = self.record.get(index).unwrap_or_default();
        std::str::from_utf8(bytes).map_err(|_| {
            self.error(
                index,
                None,
                "the cell is not valid UTF-8 text; save the file as UTF-8".to_string(),
            )
        })
    }

    /// A quantity cell; empty means 0 unless `required`.
    fn quantity(
        &self,
        index: usize,
        name: &str,
        required: bool,
        problems: &mut Vec<LoadError>,
    ) -> Option<u64> {
        let text = match self.cell(index) {
            Ok(text) => text.trim(),
            Err(err) => {
                problems.push(err);
                return None;
            }
        };
        if text.is_empty() {
            if required {
                let message = "is empty; expected a whole number ≥ 0".to_string();
                problems.push(self.error(index, Some(name), message));
                return None;
            }
            return Some(0);
        }
        match parse_quantity(text) {
            Ok(n) => Some(n),
            Err(message) => {
                problems.push(self.error(index, Some(name), message));
                None
            }
        }
    }
}

/// Parses a stock quantity written as text: a whole number from 0 to [`crate::MAX_UNITS`]
/// (`5` or `5.0`).
fn parse_quantity(text: &str) -> Result<u64, String> {
    let too_large = || {
        format!(
            "must be at most {} (the largest count the engine holds exactly), found {}",
            crate::MAX_UNITS,
            quote(text)
        )
    };
    if let Ok(n) = text.parse::<u64>() {
        return if n <= crate::MAX_UNITS {
            Ok(n)
        } else {
            Err(too_large())
        };
    }
    let bad = || format!("must be a whole number ≥ 0, found {}", quote(text));
    // Spreadsheets write `5.0`; accept it when exact. `f64::parse` also takes `inf` and
    // `NaN`, which the finiteness test rejects; `-0` is 0.
    let x = text.parse::<f64>().map_err(|_| bad())?;
    if !x.is_finite() || x.fract() != 0.0 || x < 0.0 {
        return Err(bad());
    }
    if x > crate::MAX_UNITS as f64 {
        return Err(too_large());
    }
    // The cast is exact: x is whole and within 0..=2^53.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(x as u64)
}

/// Parses `inventory.json`, an array of records with the CSV's fields (quantities as numbers).
pub fn parse_inventory_json(
    file: &str,
    text: &str,
    network: &Network,
) -> Result<Vec<InventoryRecord>, LoadErrors> {
    let doc = Doc::new(file, text, 1);
    let mut errors = LoadErrors::new();
    let mut records = Vec::new();
    let items = doc
        .root()
        .and_then(|root| doc.array(root, "", "a list of stock records `[{…}, …]`"));
    let mut checker = Checker::new(network);
    for (i, raw) in items.into_iter().flatten().enumerate() {
        let path = format!("[{i}]");
        let record = doc
            .object(raw, path, "a stock record `{…}`")
            .and_then(|fields| {
                let location = fields.req_text("location").and_then(|id| {
                    checker
                        .location(&id)
                        .map_err(|message| fields.error("location", message))
                        .ok()
                });
                let sku = fields.req_text("sku");
                let on_hand = fields.req_units("on_hand");
                let reserved = fields.opt_units("reserved");
                let safety_stock = fields.opt_units("safety_stock");
                let (location, sku) = (location?, sku?);
                let line = doc.position(fields.start()).0;
                if let Err(message) = checker.first_time(location, &sku, line) {
                    doc.error_at(fields.start(), None, message);
                }
                Some(InventoryRecord {
                    location,
                    sku,
                    on_hand: on_hand?,
                    reserved: reserved.unwrap_or(0),
                    safety_stock: safety_stock.unwrap_or(0),
                })
            });
        // Drain per record so a huge file with many problems keeps memory bounded.
        let problems = doc.take_errors();
        if problems.is_empty() {
            records.extend(record);
        }
        for problem in problems {
            errors.push(problem);
        }
    }
    for problem in doc.take_errors() {
        errors.push(problem);
    }
    errors.into_result(records)
}

/// Reads a stock file: `.json` as JSON, anything else as CSV.
pub fn load_inventory(path: &Path, network: &Network) -> Result<Vec<InventoryRecord>, LoadErrors> {
    let file = path.display().to_string();
    let bytes = read_file(path)?;
    let is_json = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    inventory_from_bytes(&file, &bytes, is_json, network)
}

/// Parses the bytes of a stock file already read (from a pipe, say): JSON when `is_json`,
/// CSV otherwise; `file` is the name shown in problems.
pub fn inventory_from_bytes(
    file: &str,
    bytes: &[u8],
    is_json: bool,
    network: &Network,
) -> Result<Vec<InventoryRecord>, LoadErrors> {
    if is_json {
        let text = decode(file, strip_bom(bytes), 1)?;
        parse_inventory_json(file, text, network)
    } else {
        parse_inventory_csv(file, bytes, network)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::model::network::{Location, LocationKind};
    use std::collections::BTreeMap;

    fn location(id: &str, kind: LocationKind) -> Location {
        Location {
            id: id.to_string(),
            kind,
            lat: 50.0,
            lon: 10.0,
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
            ],
            Vec::new(),
        )
    }

    fn csv_errors(text: &str) -> String {
        parse_inventory_csv("inventory.csv", text.as_bytes(), &network())
            .unwrap_err()
            .to_string()
    }

    fn json_errors(text: &str) -> String {
        parse_inventory_json("inventory.json", text, &network())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn atp_never_goes_below_zero() {
        let mut r = InventoryRecord {
            location: 0,
            sku: "S".into(),
            on_hand: 250,
            reserved: 10,
            safety_stock: 5,
        };
        assert_eq!(r.atp(), 235);
        r.on_hand = 2;
        assert_eq!(r.atp(), 0);
    }

    #[test]
    fn csv_in_contract_order() {
        let text = "location,sku,on_hand,reserved,safety_stock\n\
                    DC-KASSEL,SKU-100,250,10,5\n\
                    ST-MUNICH,SKU-100,4,0,2\n";
        let records = parse_inventory_csv("i.csv", text.as_bytes(), &network()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].atp(), 235);
        assert_eq!((records[1].location, records[1].atp()), (1, 2));
    }

    #[test]
    fn csv_other_order_missing_optional_columns_and_extras() {
        let text = "\u{feff}sku,note,on_hand,location\r\n\
                    SKU-1,\"hello, world\",7,DC-KASSEL\r\n\
                    SKU-1, ,5.0, ST-MUNICH \r\n";
        let records = parse_inventory_csv("i.csv", text.as_bytes(), &network()).unwrap();
        assert_eq!(
            records,
            [
                InventoryRecord {
                    location: 0,
                    sku: "SKU-1".into(),
                    on_hand: 7,
                    reserved: 0,
                    safety_stock: 0
                },
                InventoryRecord {
                    location: 1,
                    sku: "SKU-1".into(),
                    on_hand: 5,
                    reserved: 0,
                    safety_stock: 0
                },
            ]
        );
    }

    #[test]
    fn csv_empty_optional_cells_are_zero() {
        let text = "location,sku,on_hand,reserved,safety_stock\nDC-KASSEL,A,3,,\n";
        let records = parse_inventory_csv("i.csv", text.as_bytes(), &network()).unwrap();
        assert_eq!((records[0].reserved, records[0].safety_stock), (0, 0));
    }

    #[test]
    fn csv_header_only_is_no_stock() {
        let records = parse_inventory_csv("i.csv", b"location,sku,on_hand\n", &network()).unwrap();
        assert!(records.is_empty());
    }

    #[test]
    fn csv_empty_file() {
        insta::assert_snapshot!(csv_errors(""));
    }

    #[test]
    fn csv_missing_column() {
        insta::assert_snapshot!(csv_errors("location,sku,onhand,sku\nDC-KASSEL,A,1,A\n"));
    }

    #[test]
    fn csv_malformed_row() {
        let text = "location,sku,on_hand\nDC-KASSEL,A,1\nDC-KASSEL,B\nDC-KASSEL,C,1,2\n";
        insta::assert_snapshot!(csv_errors(text));
    }

    #[test]
    fn csv_unknown_location_with_suggestion() {
        let text = "location,sku,on_hand\nDC-KASEL,A,1\nDC-BERLIN,A,1\nst-munich,A,1\n,A,1\n";
        insta::assert_snapshot!(csv_errors(text));
    }

    #[test]
    fn csv_negative_quantity() {
        let text = "location,sku,on_hand,reserved\nDC-KASSEL,A,-3,0\nDC-KASSEL,B,4,-1\n";
        insta::assert_snapshot!(csv_errors(text));
    }

    #[test]
    fn csv_non_integer_quantity() {
        let text = "location,sku,on_hand,safety_stock\n\
                    DC-KASSEL,A,2.5,0\n\
                    DC-KASSEL,B,lots,NaN\n\
                    DC-KASSEL,C,,1e30\n\
                    DC-KASSEL,D,99999999999999999999999,0\n";
        insta::assert_snapshot!(csv_errors(text));
    }

    #[test]
    fn counts_beyond_what_the_engine_holds_exactly_are_refused() {
        // 2^53 is the limit; one more, or u64::MAX written as digits, is refused in both
        // formats, located at the cell or value.
        let csv = "location,sku,on_hand,reserved\n\
                   DC-KASSEL,A,9007199254740992,0\n\
                   DC-KASSEL,B,9007199254740993,18446744073709551615\n";
        let errors = csv_errors(csv);
        assert_eq!(
            errors,
            "inventory.csv:3:13: on_hand: must be at most 9007199254740992 (the largest count the engine holds exactly), found `9007199254740993`\n\
             inventory.csv:3:30: reserved: must be at most 9007199254740992 (the largest count the engine holds exactly), found `18446744073709551615`"
        );
        let json = r#"[{"location": "DC-KASSEL", "sku": "A", "on_hand": 18446744073709551615},
  {"location": "DC-KASSEL", "sku": "B", "on_hand": 1, "safety_stock": 9007199254740993}]"#;
        assert_eq!(
            json_errors(json),
            "inventory.json:1:51: [0].on_hand: must be at most 9007199254740992, found `18446744073709551615`\n\
             inventory.json:2:71: [1].safety_stock: must be at most 9007199254740992, found `9007199254740993`"
        );
        let ok = "location,sku,on_hand\nDC-KASSEL,A,9007199254740992\n";
        let rows = parse_inventory_csv("inventory.csv", ok.as_bytes(), &network()).unwrap();
        assert_eq!(rows[0].atp(), crate::MAX_UNITS);
    }

    #[test]
    fn csv_duplicate_row() {
        let text = "location,sku,on_hand\nDC-KASSEL,A,1\nST-MUNICH,A,1\nDC-KASSEL,A,2\n";
        insta::assert_snapshot!(csv_errors(text));
    }

    #[test]
    fn csv_columns_located_through_quotes() {
        let text = "sku,location,on_hand\n\"A,\"\"x\"\"\",DC-KASSEL,\"é-1\"\n";
        insta::assert_snapshot!(csv_errors(text));
    }

    #[test]
    fn csv_non_utf8_cell() {
        let bytes = b"location,sku,on_hand\nDC-KASSEL,\xFFA,1\n";
        let errors = parse_inventory_csv("i.csv", bytes, &network()).unwrap_err();
        insta::assert_snapshot!(errors.to_string());
    }

    #[test]
    fn csv_several_problems_all_reported() {
        let text = "location,sku,on_hand,reserved\n\
                    DC-KASSEL,,x,y\n\
                    DC-KASSEL,A,1,0\n\
                    NOWHERE,A,1\n\
                    DC-KASSEL,A,1,0\n";
        insta::assert_snapshot!(csv_errors(text));
    }

    #[test]
    fn csv_garbage_never_panics() {
        let inputs: [&[u8]; 6] = [
            b"\xFF\xFE\x00\x01",
            b"\"",
            b"location,sku,on_hand\n\"unterminated,1,2\n",
            b"location,sku,on_hand\n\r\n\n,,\n",
            b"\n\n\n",
            b"location\xFF,sku,on_hand\n",
        ];
        for bytes in inputs {
            let _ = parse_inventory_csv("i.csv", bytes, &network());
        }
    }

    #[test]
    fn json_records() {
        let text = r#"[
  {"location": "DC-KASSEL", "sku": "A", "on_hand": 250, "reserved": 10, "safety_stock": 5},
  {"location": "ST-MUNICH", "sku": "A", "on_hand": 4.0, "reserved": null, "note": "x"}
]"#;
        let records = parse_inventory_json("i.json", text, &network()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].atp(), 235);
        assert_eq!((records[1].on_hand, records[1].reserved), (4, 0));
    }

    #[test]
    fn json_problems() {
        let text = r#"[
  {"location": "DC-KASEL", "sku": "A", "on_hand": -3},
  {"location": "DC-KASSEL", "sku": "A", "on_hand": 2.5, "reserved": "1"},
  {"location": "DC-KASSEL", "sku": "B", "on_hand": 1},
  {"location": "DC-KASSEL", "sku": "B", "on_hand": 1},
  {"sku": ""},
  7
]"#;
        insta::assert_snapshot!(json_errors(text));
    }

    #[test]
    fn json_malformed() {
        insta::assert_snapshot!(json_errors("[\n  {\"location\": \"DC-KASSEL\",}\n]"));
        insta::assert_snapshot!(
            "json_not_a_list",
            json_errors("{\"location\": \"DC-KASSEL\"}")
        );
    }

    #[test]
    fn load_picks_the_format_by_extension() {
        let dir = std::env::temp_dir().join(format!("load-inventory-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("stock.JSON");
        std::fs::write(&json, r#"[{"location":"DC-KASSEL","sku":"A","on_hand":1}]"#).unwrap();
        let csv = dir.join("stock.txt");
        std::fs::write(&csv, "location,sku,on_hand\nDC-KASSEL,A,1\n").unwrap();
        let from_json = load_inventory(&json, &network());
        let from_csv = load_inventory(&csv, &network());
        let missing = load_inventory(&dir.join("none.csv"), &network());
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(from_json.unwrap(), from_csv.unwrap());
        assert!(missing
            .unwrap_err()
            .to_string()
            .contains("cannot read file"));
    }

    #[test]
    fn problem_cap() {
        let mut text = String::from("location,sku,on_hand\n");
        for i in 0..60 {
            text.push_str(&format!("DC-KASSEL,SKU-{i},-{i}\n"));
        }
        let errors = parse_inventory_csv("i.csv", text.as_bytes(), &network()).unwrap_err();
        assert_eq!(errors.len(), 59);
        insta::assert_snapshot!(errors.to_string());
    }
}
