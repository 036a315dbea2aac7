//! Stock events for what-if replays: receipts and adjustments over time.
//!
//! In: a JSONL file, one event per line:
//! `{"at": "2026-11-24T06:00:00Z", "location": "DC-KASSEL", "sku": "TSHIRT-M", "delta": 120}`
//! (`delta` > 0 for a receipt, < 0 for a count correction or damage). Out: [`StockEvent`]s,
//! or every problem located by file, line and column.

use super::json::{quote, Doc};
use super::{decode, read_file, strip_bom, suggestion, LoadError, LoadErrors};
use crate::model::network::Network;
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
            let delta = fields.opt_i64("delta");
            if fields.raw("delta").is_none() {
                fields.missing("delta", "a whole number of units (negative to remove)");
            }
            Some(StockEvent {
                at_ms: at_ms?,
                at: at?,
                location: location?,
                sku: sku?,
                delta: delta?,
                line: i + 1,
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
