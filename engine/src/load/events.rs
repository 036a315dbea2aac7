//! Stock events for what-if replays: receipts and adjustments over time.
//!
//! In: a JSONL file, one event per line:
//! `{"at": "2026-11-24T06:00:00Z", "location": "DC-KASSEL", "sku": "TSHIRT-M", "delta": 120}`
//! (`delta` > 0 for a receipt, < 0 for a count correction or damage). Out: [`StockEvent`]s,
//! or every problem located by file, line and column.

use super::json::{quote, Doc};
use super::{decode, read_file, strip_bom, suggestion, LoadError, LoadErrors};
use crate::model::network::Network;
use rustc_hash::FxHashMap;
use std::path::Path;

/// A change of stock at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockEvent {
    /// When it happens, milliseconds since 1970 (UTC).
    pub at_ms: i64,
    /// The moment as written.
    pub at: String,
    /// Index of the location in the network.
    pub location: usize,
    /// The SKU.
    pub sku: String,
    /// Units added (negative: removed).
    pub delta: i64,
    /// The line of the file it was read from.
    pub line: usize,
    /// The column of its `delta` (1 when unknown).
    pub column: usize,
}

/// Reads an events file; blank lines are skipped.
pub fn load_events(path: &Path, network: &Network) -> Result<Vec<StockEvent>, LoadErrors> {
    let file = path.display().to_string();
    events_from_bytes(&file, &read_file(path)?, network)
}

/// Parses the bytes of an events file already read (from a pipe, say); `file` is the name
/// shown in problems.
pub fn events_from_bytes(
    file: &str,
    bytes: &[u8],
    network: &Network,
) -> Result<Vec<StockEvent>, LoadErrors> {
    let text = decode(file, strip_bom(bytes), 1)?;
    parse_events(file, text, network)
}

/// Parses the text of an events file.
pub fn parse_events(
    file: &str,
    text: &str,
    network: &Network,
) -> Result<Vec<StockEvent>, LoadErrors> {
    let mut errors = LoadErrors::new();
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let doc = Doc::new(file, line, i + 1);
        let event = doc.root().and_then(|root| {
            let fields = doc.object(root, String::new(), "an event object `{…}`")?;
            let at = fields.req_text("at");
            let at_ms = at
                .as_deref()
                .and_then(|t| match chrono::DateTime::parse_from_rfc3339(t) {
                    Ok(t) => Some(t.timestamp_millis()),
                    Err(_) => {
                        let message = format!(
                        "expected a date and time like `2026-11-23T09:15:00Z` (RFC 3339), found {}",
                        quote(t)
                    );
                        fields.error("at", message);
                        None
                    }
                });
            let location =
                fields
                    .req_text("location")
                    .and_then(|id| match network.location_index(&id) {
                        Some(i) => Some(i),
                        None => {
                            let ids = network.locations.iter().map(|l| l.id.as_str());
                            fields.error(
                                "location",
                                format!("unknown location {}{}", quote(&id), suggestion(&id, ids)),
                            );
                            None
                        }
                    });
            let sku = fields.req_text("sku");
            let delta = fields.opt_i64("delta", crate::MAX_UNITS);
            let column = match fields.raw("delta") {
                Some(raw) => doc.position(doc.offset(raw)).1,
                None => {
                    fields.missing("delta", "a whole number of units (negative to remove)");
                    1
                }
            };
            Some(StockEvent {
                at_ms: at_ms?,
                at: at?,
                location: location?,
                sku: sku?,
                delta: delta?,
                line: i + 1,
                column,
            })
        });
        for e in doc.take_errors() {
            errors.push(e);
        }
        if let Some(e) = event {
            events.push(e);
        }
    }
    if errors.is_empty() {
        Ok(events)
    } else {
        Err(errors)
    }
}

/// Checks events against the stock they will change: every event must name a pair the
/// inventory lists, and no count may pass [`crate::MAX_UNITS`].
///
/// The second check replays the events alone, in replay order (by moment, then file
/// order), each removal stopping at 0: orders only take units, so no replay can hold more
/// of a pair than this. The first event that would pass the limit is the problem, located
/// at its `delta`.
pub fn check_events(
    file: &str,
    events: &[StockEvent],
    stock: &crate::stock::Stock,
    network: &Network,
) -> Result<(), LoadErrors> {
    let mut problems = Vec::new();
    let mut order: Vec<&StockEvent> = events.iter().collect();
    order.sort_by_key(|e| e.at_ms);
    // (location, SKU) -> units after the events so far; `None` once a pair is refused.
    let mut units: FxHashMap<(usize, &str), Option<i128>> = FxHashMap::default();
    for e in order {
        if !stock.lists(e.location, &e.sku) {
            problems.push(unlisted_pair(file, e, network));
            continue;
        }
        let slot = units
            .entry((e.location, e.sku.as_str()))
            .or_insert_with(|| Some(i128::from(stock.atp(e.location, &e.sku))));
        let Some(now) = *slot else { continue };
        // Exact: both terms are far inside i128.
        let next = (now + i128::from(e.delta)).max(0);
        if next <= i128::from(crate::MAX_UNITS) {
            *slot = Some(next);
            continue;
        }
        *slot = None;
        let id = network
            .locations
            .get(e.location)
            .map_or("", |l| l.id.as_str());
        problems.push(LoadError::new(
            file,
            e.line,
            e.column,
            Some("delta".into()),
            format!(
                "event at {}: {} would hold {next} units of {} ({now} before it, counting the \
                 earlier events and no order), more than the {} the engine holds exactly",
                e.at,
                quote(id),
                quote(&e.sku),
                crate::MAX_UNITS
            ),
        ));
    }
    problems.sort_by_key(|p| (p.line, p.column));
    let mut errors = LoadErrors::new();
    for p in problems {
        errors.push(p);
    }
    errors.into_result(())
}

/// An event for a (location, SKU) pair the inventory does not list.
pub fn unlisted_pair(file: &str, event: &StockEvent, network: &Network) -> LoadError {
    let id = network
        .locations
        .get(event.location)
        .map_or("", |l| l.id.as_str());
    LoadError::new(
        file,
        event.line,
        1,
        Some("sku".into()),
        format!(
            "event at {}: {} does not list {} in the inventory; add a row for it (0 on hand is fine)",
            event.at,
            quote(id),
            quote(&event.sku)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::{Location, LocationKind};

    fn network() -> Network {
        let l = Location {
            id: "DC-KASSEL".into(),
            kind: LocationKind::Dc,
            lat: 51.3,
            lon: 9.5,
            country: None,
            region: None,
            tags: vec![],
            handling_cost: 1.0,
            processing_days: 0,
            daily_capacity: None,
            priority: None,
            attr: Default::default(),
        };
        Network::new("EUR".into(), vec![l], vec![])
    }

    fn event(line: usize, delta: &str) -> String {
        format!(
            "{{\"at\":\"2026-11-24T0{line}:00:00Z\",\"location\":\"DC-KASSEL\",\"sku\":\"A\",\"delta\":{delta}}}\n"
        )
    }

    fn stock(on_hand: u64) -> crate::stock::Stock {
        let row = crate::load::InventoryRecord {
            location: 0,
            sku: "A".into(),
            on_hand,
            reserved: 0,
            safety_stock: 0,
        };
        crate::stock::Stock::new(&network(), &[row])
    }

    #[test]
    fn a_delta_beyond_what_the_engine_holds_exactly_is_refused_at_its_column() {
        // The hostile sequence that once let 1 unit ship where 113 were left.
        let max = i64::MAX.to_string();
        let min = format!("-{max}");
        let text: String = [max.as_str(), &max, "2", &min, &min, "-9007199254740993"]
            .iter()
            .enumerate()
            .map(|(i, d)| event(i + 1, d))
            .collect();
        let errors = parse_events("events.jsonl", &text, &network()).expect_err("refused");
        let lines: Vec<String> = errors.errors().iter().map(|e| e.to_string()).collect();
        let range = "must be from -9007199254740992 to 9007199254740992";
        assert_eq!(lines.len(), 5, "{errors}");
        for (e, line) in lines.iter().zip([1, 2, 4, 5, 6]) {
            assert!(
                e.starts_with(&format!("events.jsonl:{line}:71: delta: {range}")),
                "{e}"
            );
        }
        // −1e9 closes a location: accepted as written.
        let close = parse_events("events.jsonl", &event(1, "-1e9"), &network()).expect("valid");
        assert_eq!((close[0].delta, close[0].column), (-1_000_000_000, 71));
    }

    #[test]
    fn events_that_together_pass_the_limit_are_refused_where_they_would() {
        let near = (crate::MAX_UNITS - 200).to_string();
        // 113 + (2^53 - 200) fits; 100 more would not. The removal first (at 01:00) makes
        // room: events count in time order, each removal stopping at 0.
        let text = [
            event(2, &near),
            event(3, "100"),
            event(4, "50"),
            event(1, "-1e9"),
        ]
        .concat();
        let events = parse_events("events.jsonl", &text, &network()).expect("each is valid");
        let ok = check_events("events.jsonl", &events, &stock(113), &network());
        assert!(ok.is_ok(), "{ok:?}");
        let errors = check_events("events.jsonl", &events[..3], &stock(113), &network())
            .expect_err("2^53 + 13 units");
        assert_eq!(
            errors.to_string(),
            format!(
                "events.jsonl:2:71: delta: event at 2026-11-24T03:00:00Z: `DC-KASSEL` would hold {} units of `A` ({} before it, counting the earlier events and no order), more than the 9007199254740992 the engine holds exactly",
                crate::MAX_UNITS + 13,
                crate::MAX_UNITS - 87
            )
        );
    }

    #[test]
    fn reads_receipts_and_reports_every_bad_line() {
        let good = "{\"at\":\"2026-11-24T06:00:00Z\",\"location\":\"DC-KASSEL\",\"sku\":\"A\",\"delta\":120}\n\n{\"at\":\"2026-11-24T07:00:00+01:00\",\"location\":\"DC-KASSEL\",\"sku\":\"A\",\"delta\":-3}\n";
        let events = parse_events("events.jsonl", good, &network()).expect("valid");
        assert_eq!(events.len(), 2);
        assert_eq!(
            (events[0].delta, events[1].delta, events[1].line),
            (120, -3, 3)
        );
        assert_eq!(
            events[0].at_ms, events[1].at_ms,
            "06:00Z and 07:00+01:00 are one moment"
        );
        let bad = "{\"at\":\"tomorrow\",\"location\":\"DC-KASEL\",\"sku\":\"A\"}\nnot json\n";
        let errors = parse_events("events.jsonl", bad, &network()).expect_err("invalid");
        insta::assert_snapshot!(errors.to_string());
    }
}
