//! `simulate --scenario S`: a what-if written as data (TOML), read and checked against the
//! network, the inventory and the stock events.
//!
//! In: the file's text. Out: the engine's [`Scenario`] (closures, lower capacities, stock
//! settings) and the stock events of the scenario's side (receipts delayed or cancelled).
//! Every error names `file:line:col` and what was expected there.

use crate::Failure;
use serde::Deserialize;
use sourcing_engine::load::{InventoryRecord, StockEvent};
use sourcing_engine::simulate::{CapacityLimit, Closure, Scenario, StockSetting};
use sourcing_engine::Network;
use toml::Spanned;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    closure: Vec<ClosureRow>,
    #[serde(default)]
    capacity: Vec<CapacityRow>,
    #[serde(default)]
    stock: Vec<StockRow>,
    #[serde(default)]
    receipt: Vec<ReceiptRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClosureRow {
    location: Spanned<String>,
    from: Spanned<String>,
    to: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CapacityRow {
    location: Spanned<String>,
    from: Spanned<String>,
    to: Option<Spanned<String>>,
    shipments: Spanned<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StockRow {
    at: Spanned<String>,
    location: Spanned<String>,
    sku: Spanned<String>,
    units: Spanned<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptRow {
    location: Spanned<String>,
    sku: Spanned<String>,
    at: Spanned<String>,
    delay_days: Option<Spanned<f64>>,
    cancel: Option<Spanned<bool>>,
}

/// A scenario read from a file: what the engine applies, and the events of its side.
#[derive(Debug)]
pub struct Read {
    /// Closures, capacities and stock settings.
    pub scenario: Scenario,
    /// The stock events with the file's receipts delayed or cancelled.
    pub events: Vec<StockEvent>,
}

/// Errors at a place in the file.
struct Here<'a> {
    name: &'a str,
    source: std::sync::Arc<sourcing_dsl::SourceFile>,
}

impl Here<'_> {
    fn at(&self, offset: usize, message: &str) -> Failure {
        let (line, col) = self.source.line_col(offset);
        Failure::Input(format!("{}:{line}:{col}: {message}", self.name))
    }

    fn location(&self, network: &Network, id: &Spanned<String>) -> Result<usize, Failure> {
        network.location_index(id.get_ref()).ok_or_else(|| {
            self.at(
                id.span().start,
                &format!(
                    "expected a location of the network, found `{}`",
                    crate::cmd::output::shown(id.get_ref())
                ),
            )
        })
    }

    /// A moment: an RFC 3339 time, or a date (its start, UTC).
    fn moment(&self, text: &Spanned<String>) -> Result<i64, Failure> {
        parse_moment(text.get_ref()).ok_or_else(|| {
            self.at(
                text.span().start,
                &format!(
                    "expected a date (`2026-11-24`) or a moment (`2026-11-24T06:00:00Z`), found `{}`",
                    crate::cmd::output::shown(text.get_ref())
                ),
            )
        })
    }
}

use sourcing_engine::simulate::scenario::{is_date, parse_moment};

const DAY_MS: i64 = 86_400_000;

/// Reads the scenario at `path` against the network, the inventory rows and the events.
pub fn read(
    path: &std::path::Path,
    text: String,
    network: &Network,
    stock: &[InventoryRecord],
    events: &[StockEvent],
) -> Result<Read, Failure> {
    let name = crate::cmd::input::name(path);
    let here = Here {
        name: &name,
        source: sourcing_dsl::SourceFile::new(name.clone(), text.clone()),
    };
    let file: File = toml::from_str(&text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        here.at(offset, e.message().trim())
    })?;
    let mut scenario = Scenario::default();
    for c in &file.closure {
        let location = here.location(network, &c.location)?;
        let from_ms = here.moment(&c.from)?;
        let mut to_ms = here.moment(&c.to)?;
        if is_date(c.to.get_ref()) {
            to_ms += DAY_MS;
        }
        if to_ms <= from_ms {
            return Err(here.at(
                c.to.span().start,
                "expected `to` after `from` (a date in `to` counts to the end of that day)",
            ));
        }
        let mut skus: Vec<String> = stock
            .iter()
            .filter(|r| r.location == location)
            .map(|r| r.sku.clone())
            .collect();
        skus.sort();
        skus.dedup();
        scenario.closures.push(Closure {
            location,
            from_ms,
            to_ms,
            skus,
        });
    }
    for c in &file.capacity {
        let location = here.location(network, &c.location)?;
        let Some(limit) = network
            .locations
            .get(location)
            .and_then(|l| l.daily_capacity)
        else {
            return Err(here.at(
                c.location.span().start,
                &format!(
                    "`{}` has no daily capacity in the network, so there is none to lower; to stop it shipping, close it with a `[[closure]]`",
                    c.location.get_ref()
                ),
            ));
        };
        let shipments = u32::try_from(*c.shipments.get_ref())
            .ok()
            .filter(|&s| s <= limit)
            .ok_or_else(|| {
                here.at(
                    c.shipments.span().start,
                    &format!(
                        "expected a whole number of shipments from 0 to the network's daily capacity ({limit}); a scenario can lower a capacity, not raise it"
                    ),
                )
            })?;
        let first = day_of(&here, &c.from)?;
        let last = match &c.to {
            Some(t) => day_of(&here, t)?,
            None => first,
        };
        if last < first || last - first > 366 {
            let at =
                c.to.as_ref()
                    .map_or(c.from.span().start, |t| t.span().start);
            return Err(here.at(
                at,
                "expected a date on or after `from`, at most a year later",
            ));
        }
        for day in first..=last {
            scenario.capacity.push(CapacityLimit {
                location,
                day,
                shipments,
            });
        }
    }
    for s in &file.stock {
        let location = here.location(network, &s.location)?;
        let listed = stock
            .iter()
            .any(|r| r.location == location && &r.sku == s.sku.get_ref());
        if !listed {
            return Err(here.at(
                s.sku.span().start,
                &format!(
                    "expected a SKU the inventory lists at `{}`, found `{}`",
                    s.location.get_ref(),
                    crate::cmd::output::shown(s.sku.get_ref())
                ),
            ));
        }
        let units = u64::try_from(*s.units.get_ref())
            .ok()
            .filter(|&u| u <= sourcing_engine::MAX_UNITS)
            .ok_or_else(|| {
                here.at(
                    s.units.span().start,
                    &format!(
                        "expected a whole number of units from 0 to {}",
                        sourcing_engine::MAX_UNITS
                    ),
                )
            })?;
        scenario.stock.push(StockSetting {
            at_ms: here.moment(&s.at)?,
            location,
            sku: s.sku.get_ref().clone(),
            units,
        });
    }
    let mut events = events.to_vec();
    let mut cancelled = vec![false; events.len()];
    for r in &file.receipt {
        let location = here.location(network, &r.location)?;
        let at = here.moment(&r.at)?;
        let matching: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.location == location && &e.sku == r.sku.get_ref() && e.at_ms == at && e.delta > 0
            })
            .map(|(i, _)| i)
            .collect();
        if matching.is_empty() {
            return Err(here.at(
                r.at.span().start,
                &format!(
                    "expected the moment of a receipt (an event with a positive delta) of `{}` at `{}` in the stock events (--events); none is at this moment",
                    crate::cmd::output::shown(r.sku.get_ref()),
                    r.location.get_ref()
                ),
            ));
        }
        match (&r.delay_days, &r.cancel) {
            (Some(d), None) => {
                let days = *d.get_ref();
                if !(days.is_finite() && (0.0..=366.0).contains(&days)) {
                    return Err(here.at(d.span().start, "expected a number of days from 0 to 366"));
                }
                let shift = (days * DAY_MS as f64).round() as i64;
                for i in matching {
                    if let Some(e) = events.get_mut(i) {
                        e.at_ms += shift;
                    }
                }
            }
            (None, Some(c)) if *c.get_ref() => {
                for i in matching {
                    if let Some(x) = cancelled.get_mut(i) {
                        *x = true;
                    }
                }
            }
            _ => {
                return Err(here.at(
                    r.location.span().start,
                    "expected either `delay_days = N` or `cancel = true` in a `[[receipt]]`",
                ))
            }
        }
    }
    let events = events
        .into_iter()
        .zip(cancelled)
        .filter(|(_, c)| !c)
        .map(|(e, _)| e)
        .collect();
    Ok(Read { scenario, events })
}

/// The day number (days since 1970-01-01) of a date or moment.
fn day_of(here: &Here<'_>, text: &Spanned<String>) -> Result<i64, Failure> {
    Ok(here.moment(text)?.div_euclid(DAY_MS))
}
