//! Every engine call the service makes, in one place, over the engine's front door
//! (`Engine::builder`, `route` with options returning one outcome, reservations as data,
//! stock figures and movements, rules loaded for the engine's own network).
//!
//! What this adds is what the ledger needs around each call: the figures that changed,
//! as (location, SKU, on-hand delta, reserved delta), and what to revert when a commit
//! fails.

use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use sourcing_engine::load::inventory::InventoryRecord;
use sourcing_engine::{
    Engine, MovementError, MovementKind, Network, ReservationError, ReservationId, RulesError,
    RulesSource, ValidOrder,
};
use std::time::Duration;

pub use sourcing_engine::{Change, Reservation, ReservationState, StockFigures, Take};

/// The rules in force: the hex SHA-256 of their source text, their name and source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesetInfo {
    /// Hex SHA-256 of the source text (64 zeros for the built-in strategy).
    pub hash: String,
    /// The rule file's name (`min-cost` for the built-in strategy).
    pub name: String,
    /// The rule file's text (empty for the built-in strategy).
    pub source: String,
}

fn rid(id: &str) -> ReservationId {
    match id.parse::<ReservationId>() {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

/// Lowercase hex SHA-256 of some bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The word the service writes for a reservation's state.
pub fn state_word(state: ReservationState) -> String {
    state.to_string()
}

/// Rules that were refused: the diagnostics as `sourcing check --error-format json` lists
/// them, and as it renders them for a person.
#[derive(Debug, Clone)]
pub struct RulesRefused {
    /// The `--error-format json` objects.
    pub diagnostics: serde_json::Value,
    /// The same, rendered with file:line:col, a caret and a help line.
    pub rendered: String,
}

/// Rules that were loaded and are now in force.
#[derive(Debug, Clone)]
pub struct RulesLoaded {
    /// Their content hash.
    pub ruleset: String,
    /// Warnings, rendered (empty when there are none).
    pub warnings: String,
}

/// How a route changes stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing changes.
    Quote,
    /// Units leave stock for good.
    Consume,
    /// Units are held for `ttl_s` seconds from `now`.
    Reserve {
        /// Seconds held.
        ttl_s: u64,
        /// Now, in unix seconds.
        now: i64,
    },
}

/// Options of [`EnginePort::route`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteOptions {
    /// Quote, consume or reserve.
    pub mode: Mode,
    /// Add the explanation to the decision.
    pub explain: bool,
}

/// A change of one pair's figures, as the ledger writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairDelta {
    /// Location id.
    pub location: String,
    /// SKU.
    pub sku: String,
    /// Change of on hand.
    pub on_hand: i64,
    /// Change of reserved.
    pub reserved: i64,
}

/// What one route did.
#[derive(Debug)]
pub struct Outcome {
    /// The decision (with its ruleset, and the explanation when asked) as JSON.
    pub decision: Box<RawValue>,
    /// The decision's strategy name (for metrics).
    pub rule: String,
    /// The decision's status word.
    pub status: &'static str,
    /// The hash of the rules that decided.
    pub ruleset: String,
    /// The reservation, when reserving.
    pub reservation: Option<Reservation>,
    /// The figures that changed (empty for a quote).
    pub deltas: Vec<PairDelta>,
    /// The engine's outcome, to undo it.
    pub engine: Option<sourcing_engine::Outcome>,
}

/// A stock movement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// Location id.
    pub location: String,
    /// SKU.
    pub sku: String,
    /// Receipt, adjustment, return, transfer or count.
    pub kind: MovementKind,
    /// By how much, or to what on hand.
    pub change: Change,
}

/// What a movement did: the delta and the figures after.
#[derive(Debug, Clone)]
pub struct Moved {
    /// The change, for the ledger.
    pub delta: PairDelta,
    /// The figures after it.
    pub figures: StockFigures,
}

/// A reservation change: the reservation after it and the figures it changed.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The reservation after the change.
    pub reservation: Reservation,
    /// The state it had before.
    pub before: ReservationState,
    /// The figures that changed (empty when nothing changed: confirming twice).
    pub deltas: Vec<PairDelta>,
}

/// What to revert when a change could not be made durable.
#[derive(Debug)]
pub enum Undo {
    /// A route that consumed or reserved.
    Outcome(Box<sourcing_engine::Outcome>),
    /// A movement: its on-hand delta is given back.
    Moved(PairDelta),
    /// A confirm, release or expiry: the engine cannot put a reservation back to held, so
    /// the service stops taking changes until it is started again from the ledger.
    Transition(String),
    /// A confirm, release or expiry over a shared ledger, where a conflict sends it back
    /// routinely: the reservation is held again and its figures shifted back.
    Reopen {
        /// The reservation.
        id: String,
        /// The figures the settlement changed.
        deltas: Vec<PairDelta>,
    },
}

/// The engine as the service uses it.
pub struct EnginePort {
    engine: Engine,
    /// Ids restored only so that the engine's next id comes after every id the ledger
    /// has seen (the engine continues after the largest restored one); not reservations.
    ghosts: std::collections::BTreeSet<String>,
    /// The tag in the reservation ids this engine gives (empty: none).
    tag: String,
}

impl std::fmt::Debug for EnginePort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnginePort").finish_non_exhaustive()
    }
}

fn refused(e: &RulesError) -> RulesRefused {
    match e {
        RulesError::Invalid { json, rendered, .. } => RulesRefused {
            diagnostics: json.clone(),
            rendered: rendered.trim_end().to_string(),
        },
        other => {
            let at = other.at();
            RulesRefused {
                diagnostics: serde_json::json!([{
                    "severity": "error", "file": at.file, "message": other.to_string(),
                    "span": { "line": at.line, "column": at.column },
                }]),
                rendered: other.to_string(),
            }
        }
    }
}

/// Rule text as the engine takes it: UTF-8, or the checker's located diagnostic.
fn rule_text(name: &str, text: &[u8]) -> Result<String, RulesRefused> {
    match std::str::from_utf8(text) {
        Ok(t) => Ok(t.to_string()),
        Err(_) => {
            let (_, diags) = sourcing_dsl::compile_bytes(name, text);
            Err(RulesRefused {
                diagnostics: diags.to_json(),
                rendered: diags.render().trim_end().to_string(),
            })
        }
    }
}

/// Checks a rule file for a network without keeping anything (before a new ledger is
/// made from the stock).
pub fn check_rules(name: &str, text: &[u8], network: &Network) -> Result<(), RulesRefused> {
    let text = rule_text(name, text)?;
    Engine::builder()
        .network(network.clone())
        .inventory(Vec::new())
        .rules(RulesSource::text(name, text))
        .build()
        .map(|_| ())
        .map_err(|e| match e {
            sourcing_engine::BuildError::Rules(r) => refused(&r),
            other => RulesRefused {
                diagnostics: serde_json::json!([{"severity": "error", "message": other.to_string()}]),
                rendered: other.to_string(),
            },
        })
}

fn status_word(status: sourcing_engine::Status) -> &'static str {
    match status {
        sourcing_engine::Status::Sourced => "sourced",
        sourcing_engine::Status::Partial => "partial",
        _ => "unsourced",
    }
}

impl EnginePort {
    /// An engine over a network and its stock, routing with the given rules (name, text)
    /// or the built-in strategy; its reservation ids carry `tag` (empty: none), so that
    /// instances sharing a ledger never give the same id.
    pub fn build(
        network: Network,
        records: Vec<InventoryRecord>,
        rules: Option<(String, Vec<u8>)>,
        tag: &str,
    ) -> Result<(EnginePort, RulesLoaded), RulesRefused> {
        let mut builder = Engine::builder()
            .network(network)
            .inventory(records)
            .reservation_tag(tag);
        if let Some((name, text)) = &rules {
            builder = builder.rules(RulesSource::text(name.clone(), rule_text(name, text)?));
        }
        let engine = builder.build().map_err(|e| match e {
            sourcing_engine::BuildError::Rules(r) => refused(&r),
            other => RulesRefused {
                diagnostics: serde_json::json!([{"severity": "error", "message": other.to_string()}]),
                rendered: other.to_string(),
            },
        })?;
        let port = EnginePort {
            engine,
            ghosts: Default::default(),
            tag: tag.chars().filter(char::is_ascii_alphanumeric).collect(),
        };
        let loaded = RulesLoaded {
            ruleset: port.ruleset().hash,
            warnings: String::new(),
        };
        Ok((port, loaded))
    }

    /// The network.
    pub fn network(&self) -> &Network {
        self.engine.network()
    }

    /// Checks and compiles rules for this engine's network and swaps them in at once;
    /// refused rules leave the rules in force as they were.
    pub fn load_rules(&self, name: &str, text: &[u8]) -> Result<RulesLoaded, RulesRefused> {
        let text = rule_text(name, text)?;
        let loaded = self
            .engine
            .load_rules(RulesSource::text(name, text))
            .map_err(|e| refused(&e))?;
        Ok(RulesLoaded {
            ruleset: loaded.ruleset.to_string(),
            warnings: loaded.rendered_warnings.trim_end().to_string(),
        })
    }

    /// The rules in force.
    pub fn ruleset(&self) -> RulesetInfo {
        let info = self.engine.ruleset();
        RulesetInfo {
            hash: info.hash.to_string(),
            name: info.name,
            source: info.source.unwrap_or_default(),
        }
    }

    /// Reads one order from JSON text with the orders loader's checks; every problem is
    /// `FILE:1:COLUMN: field: message`, as `sourcing route` writes it for a line.
    pub fn parse_order(&self, file: &str, text: &str) -> Result<ValidOrder, String> {
        self.engine.parse_order(text).map_err(|e| {
            e.problems
                .iter()
                .map(|p| match &p.field {
                    Some(field) => format!("{file}:1:{}: {field}: {}", p.column, p.message),
                    None => format!("{file}:1:{}: {}", p.column, p.message),
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    /// Routes an order: a quote, a route that consumes, or a reservation.
    pub fn route(&self, order: &ValidOrder, options: &RouteOptions) -> Outcome {
        let engine_options = match options.mode {
            Mode::Quote => sourcing_engine::RouteOptions::quote(),
            Mode::Consume => sourcing_engine::RouteOptions::consume(),
            Mode::Reserve { ttl_s, now } => {
                sourcing_engine::RouteOptions::reserve(Duration::from_secs(ttl_s)).at(now)
            }
        }
        .explain(options.explain);
        let out = self.engine.route(order, &engine_options);
        let reserve = matches!(options.mode, Mode::Reserve { .. });
        let deltas: Vec<PairDelta> = out
            .takes()
            .into_iter()
            .map(|t| PairDelta {
                location: t.location_id,
                sku: t.sku,
                on_hand: if reserve { 0 } else { -(t.qty as i64) },
                reserved: if reserve { t.qty as i64 } else { 0 },
            })
            .collect();
        let decision = decision_json(&out.decision, out.explain.as_deref());
        Outcome {
            decision,
            rule: out.decision.rule.clone(),
            status: status_word(out.decision.status),
            ruleset: out.decision.ruleset.to_string(),
            reservation: out.reservation.as_deref().cloned(),
            deltas,
            engine: (options.mode != Mode::Quote).then_some(out),
        }
    }

    /// Counts again the shipments of an order routed or confirmed before this start (see
    /// [`sourcing_engine::Engine::count_shipments`]).
    pub fn count_shipments(&self, locations: &[&str], placed_at: Option<&str>) -> bool {
        self.engine.count_shipments(locations, placed_at)
    }

    /// A reservation by id.
    pub fn reservation(&self, id: &str) -> Option<Reservation> {
        if self.ghosts.contains(id) {
            return None;
        }
        self.engine.reservation(&rid(id))
    }

    /// Every reservation, sorted by id.
    pub fn reservations(&self) -> Vec<Reservation> {
        let mut all = self.engine.reservations();
        all.retain(|r| !self.ghosts.contains(r.id.as_str()));
        all
    }

    /// Makes the engine's next id come after `last`, the largest id the ledger has seen,
    /// when that reservation is not held (a held one is restored anyway): it is
    /// registered with nothing held and released at once, and stays invisible.
    pub fn continue_after(&mut self, last: Reservation) {
        if last.state == ReservationState::Held || self.engine.reservation(&last.id).is_some() {
            return;
        }
        let id = last.id.clone();
        let mut ghost = last;
        ghost.state = ReservationState::Held;
        ghost.takes.clear();
        if self.engine.restore(ghost).is_ok() && self.engine.release(&id).is_ok() {
            self.ghosts.insert(id.to_string());
        }
    }

    /// Held → confirmed: the units leave on hand and reserved. Confirming again is the
    /// same answer with no change.
    pub fn confirm(&self, id: &str) -> Result<Transition, ReservationError> {
        self.transition(id, true)
    }

    /// Held → released: the units are available again. Releasing again is the same
    /// answer with no change.
    pub fn release(&self, id: &str) -> Result<Transition, ReservationError> {
        self.transition(id, false)
    }

    fn figures_of(&self, takes: &[Take]) -> Vec<StockFigures> {
        takes
            .iter()
            .map(|t| {
                self.engine
                    .figures(&t.location_id, &t.sku)
                    .unwrap_or_default()
            })
            .collect()
    }

    fn transition(&self, id: &str, confirm: bool) -> Result<Transition, ReservationError> {
        let rid = rid(id);
        let before = self
            .engine
            .reservation(&rid)
            .ok_or(ReservationError::Unknown { id: rid.clone() })?;
        let figures_before = self.figures_of(&before.takes);
        let after = if confirm {
            self.engine.confirm(&rid)?
        } else {
            self.engine.release(&rid)?
        };
        let deltas = if after.state == before.state {
            Vec::new()
        } else {
            let figures_after = self.figures_of(&after.takes);
            deltas_between(&after.takes, &figures_before, &figures_after)
        };
        Ok(Transition {
            reservation: after,
            before: before.state,
            deltas,
        })
    }

    /// Every held reservation whose expiry is at or before `now` → expired; each with its
    /// units given back (reserved down by what it held).
    pub fn expire(&self, now: i64) -> Vec<Transition> {
        self.engine
            .expire(now)
            .into_iter()
            .map(|r| Transition {
                deltas: r
                    .takes
                    .iter()
                    .map(|t| PairDelta {
                        location: t.location_id.clone(),
                        sku: t.sku.clone(),
                        on_hand: 0,
                        reserved: -(t.qty as i64),
                    })
                    .collect(),
                reservation: r,
                before: ReservationState::Held,
            })
            .collect()
    }

    /// Re-registers a held reservation whose units are already counted as reserved in
    /// the stock this port was built from (a rebuild from the ledger).
    pub fn restore(&self, reservation: Reservation) -> Result<(), ReservationError> {
        self.engine.restore(reservation)
    }

    /// Reverts a change exactly (its ledger commit failed); changes made after it must be
    /// reverted first. False when the engine cannot revert it (a reservation settled).
    pub fn undo(&self, undo: Undo) -> bool {
        match undo {
            Undo::Outcome(out) => self.engine.undo(*out).is_ok(),
            Undo::Moved(d) => self
                .engine
                .apply(&sourcing_engine::Movement {
                    location: d.location,
                    sku: d.sku,
                    kind: MovementKind::Adjustment,
                    change: Change::Delta(-d.on_hand),
                })
                .is_ok(),
            Undo::Transition(_) => false,
            Undo::Reopen { id, deltas } => {
                if self
                    .engine
                    .settled_elsewhere(&rid(&id), ReservationState::Held)
                    .is_err()
                {
                    return false;
                }
                for d in &deltas {
                    self.engine
                        .shift_figures(&d.location, &d.sku, -d.on_hand, -d.reserved);
                }
                true
            }
        }
    }

    /// The figures of a pair; `None` for a pair the stock does not list.
    pub fn figures(&self, location: &str, sku: &str) -> Option<StockFigures> {
        self.engine.figures(location, sku)
    }

    /// Every listed pair's figures, sorted by location id then SKU.
    pub fn all_figures(&self) -> Vec<(String, String, StockFigures)> {
        let skus: Vec<String> = self.engine.stock().skus().map(str::to_string).collect();
        let mut all: Vec<(String, String, StockFigures)> = skus
            .iter()
            .flat_map(|sku| {
                self.availability(sku)
                    .into_iter()
                    .map(move |(l, f)| (l, sku.clone(), f))
            })
            .collect();
        all.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        all
    }

    /// Every location listing a SKU, in network order, with its figures.
    pub fn availability(&self, sku: &str) -> Vec<(String, StockFigures)> {
        let network = self.engine.network();
        self.engine
            .availability(sku)
            .into_iter()
            .filter_map(|(id, f)| network.get(id).map(|l| (l.id.clone(), f)))
            .collect()
    }

    /// Applies a stock movement to on hand (a pair the stock did not list is added).
    pub fn apply(&self, movement: &Movement) -> Result<Moved, MovementError> {
        let before = self
            .engine
            .figures(&movement.location, &movement.sku)
            .unwrap_or_default();
        let figures = self.engine.apply(&sourcing_engine::Movement {
            location: movement.location.clone(),
            sku: movement.sku.clone(),
            kind: movement.kind,
            change: movement.change,
        })?;
        let delta = PairDelta {
            location: movement.location.clone(),
            sku: movement.sku.clone(),
            on_hand: (i128::from(figures.on_hand) - i128::from(before.on_hand)) as i64,
            reserved: 0,
        };
        Ok(Moved { delta, figures })
    }
}

/// The change of each pair between two readings of the same takes' figures (a pair
/// listed twice counts once).
fn deltas_between(
    takes: &[Take],
    before: &[StockFigures],
    after: &[StockFigures],
) -> Vec<PairDelta> {
    let mut out: Vec<PairDelta> = Vec::new();
    for ((t, b), a) in takes.iter().zip(before).zip(after) {
        if out
            .iter()
            .any(|d| d.location == t.location_id && d.sku == t.sku)
        {
            continue;
        }
        out.push(PairDelta {
            location: t.location_id.clone(),
            sku: t.sku.clone(),
            on_hand: (i128::from(a.on_hand) - i128::from(b.on_hand)) as i64,
            reserved: (i128::from(a.reserved) - i128::from(b.reserved)) as i64,
        });
    }
    out
}

/// The decision as JSON in the engine's field order, then `explain` when there is one.
pub fn decision_json(
    decision: &sourcing_engine::Decision,
    explain: Option<&sourcing_engine::Explain>,
) -> Box<RawValue> {
    let mut text = serde_json::to_string(decision).unwrap_or_else(|_| "{}".to_string());
    if let Some(explain) = explain {
        if let (true, Ok(e)) = (text.ends_with('}'), serde_json::to_string(explain)) {
            text.pop();
            text.push_str(",\"explain\":");
            text.push_str(&e);
            text.push('}');
        }
    }
    // The engine serialises its own decision: valid JSON, so `null` is never written.
    RawValue::from_string(text).unwrap_or_default()
}

/// Random bytes from the operating system (a counter mixed with the time if it has none).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    if getrandom::fill(&mut out).is_err() {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let digest = Sha256::digest(format!("{n}-{t}-{}", std::process::id()));
        for (o, d) in out.iter_mut().zip(digest.iter().cycle()) {
            *o = *d;
        }
    }
    out
}

/// What following a shared ledger changes: figures another instance committed, the
/// reservations it made or settled, and a pair read again from the stock of record.
impl EnginePort {
    /// Applies figures another instance changed (the entries it committed).
    pub fn apply_followed(&self, deltas: &[PairDelta]) {
        for d in deltas {
            self.engine
                .shift_figures(&d.location, &d.sku, d.on_hand, d.reserved);
        }
    }

    /// Sets a pair's on hand and reserved to the stock of record (after a conflict, with
    /// nothing of this instance pending on it).
    pub fn set_figures(&self, location: &str, sku: &str, on_hand: u64, reserved: u64) {
        let Some(f) = self.engine.figures(location, sku) else {
            return;
        };
        let diff = |to: u64, from: u64| (i128::from(to) - i128::from(from)) as i64;
        self.engine.shift_figures(
            location,
            sku,
            diff(on_hand, f.on_hand),
            diff(reserved, f.reserved),
        );
    }

    /// True for a reservation id this engine gave (its tag), not one learnt from others.
    fn made_here(&self, id: &str) -> bool {
        let rest = id.strip_prefix("R-").unwrap_or("");
        if self.tag.is_empty() {
            !rest.contains('-')
        } else {
            rest.strip_prefix(self.tag.as_str())
                .is_some_and(|r| r.starts_with('-'))
        }
    }

    /// Every held reservation due at `now` that this instance made, and those it learnt
    /// from others once `grace` seconds more have passed (their maker expires them first;
    /// the grace only covers a maker that died) → expired, its units given back.
    pub fn expire_shared(&self, now: i64, grace: i64) -> Vec<Transition> {
        let due: Vec<Reservation> = self
            .reservations()
            .into_iter()
            .filter(|r| {
                let at = if self.made_here(r.id.as_str()) {
                    r.expires_at
                } else {
                    r.expires_at.saturating_add(grace)
                };
                r.state == ReservationState::Held && at <= now
            })
            .collect();
        let mut out = Vec::new();
        for r in due {
            let Ok(after) = self
                .engine
                .settled_elsewhere(&r.id, ReservationState::Expired)
            else {
                continue;
            };
            let deltas: Vec<PairDelta> = after
                .takes
                .iter()
                .map(|t| PairDelta {
                    location: t.location_id.clone(),
                    sku: t.sku.clone(),
                    on_hand: 0,
                    reserved: -(t.qty as i64),
                })
                .collect();
            self.apply_followed(&deltas);
            out.push(Transition {
                reservation: after,
                before: ReservationState::Held,
                deltas,
            });
        }
        out
    }

    /// A reservation's new state, set by another instance (its figures arrive with its
    /// entries); false when unknown here.
    pub fn set_state(&self, id: &str, state: ReservationState) -> bool {
        self.engine.settled_elsewhere(&rid(id), state).is_ok()
    }
}
