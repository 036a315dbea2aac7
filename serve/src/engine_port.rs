//! Every engine call the service makes, in one place, shaped like the engine's front-door
//! API (route with options returning one outcome, reservations as data, stock figures,
//! movements, rules loaded and swapped in one call).
//!
//! Today's engine keeps only available-to-promise counts and hands out reservations as
//! handles that cannot be stored, so this port keeps what the ledger needs beside it: the
//! on-hand, reserved and safety figures of every pair and the reservations as data. Every
//! change goes through [`EnginePort`]'s one book lock, updates the figures first and then
//! brings the engine's count for the pair to the figures' ATP, so the two never disagree.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use sourcing_engine::load::inventory::InventoryRecord;
use sourcing_engine::{Decision, Engine, Network, Order, Rules, MAX_UNITS};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};

/// The name decisions of the built-in strategy give as their rules.
pub const BUILTIN_NAME: &str = "min-cost (built-in)";

/// The rules in force: the hex SHA-256 of their source text, their name and source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulesetInfo {
    /// Hex SHA-256 of the source text (of [`BUILTIN_NAME`] for the built-in strategy).
    pub hash: String,
    /// The rule file's name.
    pub name: String,
    /// The rule file's text (empty for the built-in strategy).
    pub source: String,
}

impl RulesetInfo {
    fn builtin() -> RulesetInfo {
        RulesetInfo {
            hash: content_hash(BUILTIN_NAME.as_bytes()),
            name: BUILTIN_NAME.to_string(),
            source: String::new(),
        }
    }
}

/// Lowercase hex SHA-256 of some bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

/// On hand, reserved and safety stock of one (location, SKU) pair, and the ATP derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StockFigures {
    /// Units on the shelf.
    pub on_hand: u64,
    /// Units held for orders.
    pub reserved: u64,
    /// Units kept back.
    pub safety_stock: u64,
    /// `max(0, on_hand - reserved - safety_stock)`.
    pub atp: u64,
}

impl StockFigures {
    fn new(on_hand: u64, reserved: u64, safety_stock: u64) -> StockFigures {
        StockFigures {
            on_hand,
            reserved,
            safety_stock,
            atp: on_hand
                .saturating_sub(reserved)
                .saturating_sub(safety_stock),
        }
    }
}

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReservationState {
    /// Units held.
    Held,
    /// Units left stock for good.
    Confirmed,
    /// Units given back by the caller.
    Released,
    /// Units given back when the reservation ran out.
    Expired,
}

impl ReservationState {
    /// The word the service writes.
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationState::Held => "held",
            ReservationState::Confirmed => "confirmed",
            ReservationState::Released => "released",
            ReservationState::Expired => "expired",
        }
    }

    /// Reads the word the service writes.
    pub fn parse(text: &str) -> Option<ReservationState> {
        match text {
            "held" => Some(ReservationState::Held),
            "confirmed" => Some(ReservationState::Confirmed),
            "released" => Some(ReservationState::Released),
            "expired" => Some(ReservationState::Expired),
            _ => None,
        }
    }
}

/// Units of one pair that left ATP for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Take {
    /// Location id.
    pub location: String,
    /// SKU.
    pub sku: String,
    /// Units.
    pub qty: u64,
}

/// A reservation as data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reservation {
    /// Its id (`R-` and 32 hex digits, random).
    pub id: String,
    /// The order it holds units for.
    pub order: String,
    /// Where it stands.
    pub state: ReservationState,
    /// When a held reservation expires (unix seconds).
    pub expires_at: i64,
    /// The decision, with its ruleset.
    pub decision: Box<RawValue>,
    /// What it holds, per pair.
    pub takes: Vec<Take>,
}

/// How a route changes stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing changes.
    Quote,
    /// Units leave stock for good.
    Consume,
    /// Units are held until `expires_at` (unix seconds).
    Reserve {
        /// When the hold ends.
        expires_at: i64,
    },
}

/// Options of [`EnginePort::route`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteOptions {
    /// Quote, consume or reserve.
    pub mode: Mode,
    /// Add the explanation to the decision (quotes only).
    pub explain: bool,
}

/// A change of one pair's figures, as the ledger writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The decision with its ruleset (and explanation when asked).
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
}

/// Why a reservation could not change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReservationError {
    /// No reservation has this id.
    Unknown,
    /// It is not held any more.
    NotHeld(ReservationState),
}

/// A stock movement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// Location id.
    pub location: String,
    /// SKU.
    pub sku: String,
    /// By how much, or to what on hand.
    pub change: Change,
}

/// The change a movement makes to on hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Add (or remove) units.
    Delta(i64),
    /// Set on hand, if it is `expected` now (when given).
    Set {
        /// The new on hand.
        value: u64,
        /// The on hand the caller saw.
        expected: Option<u64>,
    },
}

/// Why a movement changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MovementError {
    /// The network has no such location.
    UnknownLocation,
    /// The location does not list the SKU (this engine cannot add pairs while running).
    UnlistedPair,
    /// `expected` is not the current on hand.
    Expected {
        /// The current on hand.
        current: u64,
    },
    /// On hand would go below 0.
    Negative {
        /// The current on hand.
        current: u64,
    },
    /// On hand would pass [`MAX_UNITS`].
    Overflow,
}

impl std::fmt::Display for MovementError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MovementError::UnknownLocation => f.write_str("unknown location"),
            MovementError::UnlistedPair => f.write_str(
                "the location does not list this SKU; the stock lists every pair it routes",
            ),
            MovementError::Expected { current } => {
                write!(f, "on hand is {current}, not the expected value")
            }
            MovementError::Negative { current } => {
                write!(f, "on hand is {current}; it cannot go below 0")
            }
            MovementError::Overflow => write!(f, "on hand cannot pass {MAX_UNITS}"),
        }
    }
}

/// What a movement did: the deltas and the figures after.
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
#[derive(Debug, Clone)]
pub enum Undo {
    /// Figures to change back (a route that consumed, a movement).
    Deltas(Vec<PairDelta>),
    /// A reservation to forget, and its figures.
    Reserved {
        /// Its id.
        id: String,
        /// Its figures.
        deltas: Vec<PairDelta>,
    },
    /// A reservation to put back in its state before, and its figures.
    Transition {
        /// Its id.
        id: String,
        /// The state it goes back to.
        before: ReservationState,
        /// Its figures.
        deltas: Vec<PairDelta>,
    },
}

struct Held {
    data: Reservation,
    /// The engine's handle while the engine itself holds the units (gives back the
    /// locations' daily capacity too); `None` for a reservation restored from the ledger.
    handle: Option<sourcing_engine::Reservation>,
}

#[derive(Default)]
struct Book {
    figures: HashMap<(usize, String), StockFigures>,
    reservations: BTreeMap<String, Held>,
}

/// The engine and what the service keeps beside it.
pub struct EnginePort {
    engine: Engine,
    /// Read for the whole of each decision, so the hash a decision names is the rules that
    /// made it; written only for the pointer swap.
    rules: RwLock<RulesetInfo>,
    book: Mutex<Book>,
}

impl std::fmt::Debug for EnginePort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnginePort").finish_non_exhaustive()
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Checks and compiles a rule file for a network: the rules, their warnings, or every
/// diagnostic.
fn compile(
    name: &str,
    text: &[u8],
    network: &Network,
) -> Result<(Rules, sourcing_dsl::Diagnostics), RulesRefused> {
    let (set, mut diags) = sourcing_dsl::compile_bytes(name, text);
    if let Some(set) = &set {
        diags.add(sourcing_engine::check_scripts(set));
    }
    let set = match set {
        Some(set) if !diags.has_errors() => set,
        _ => {
            return Err(RulesRefused {
                diagnostics: diags.to_json(),
                rendered: diags.render().trim_end().to_string(),
            })
        }
    };
    match Rules::compile(set, network) {
        Ok(rules) => Ok((rules, diags)),
        Err(e) => {
            let message = e.to_string();
            let rendered = if message.starts_with(name) {
                message.clone()
            } else {
                format!("{name}: {message}")
            };
            Err(RulesRefused {
                diagnostics: serde_json::json!([{
                    "severity": "error", "file": name, "message": message,
                }]),
                rendered,
            })
        }
    }
}

/// Rules checked and compiled for a network, not yet in force.
pub struct CompiledRules {
    name: String,
    text: Vec<u8>,
    rules: Rules,
    diags: sourcing_dsl::Diagnostics,
}

impl std::fmt::Debug for CompiledRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledRules")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Checks and compiles a rule file for a network (before anything else is touched).
pub fn compile_rules(
    name: &str,
    text: &[u8],
    network: &Network,
) -> Result<CompiledRules, RulesRefused> {
    let (rules, diags) = compile(name, text, network)?;
    Ok(CompiledRules {
        name: name.to_string(),
        text: text.to_vec(),
        rules,
        diags,
    })
}

impl EnginePort {
    /// An engine over a network and its stock, routing with the given rules or the
    /// built-in strategy.
    pub fn build(
        network: Network,
        records: &[InventoryRecord],
        rules: Option<CompiledRules>,
    ) -> (EnginePort, RulesLoaded) {
        let mut book = Book::default();
        for r in records {
            book.figures.insert(
                (r.location, r.sku.clone()),
                StockFigures::new(r.on_hand, r.reserved, r.safety_stock),
            );
        }
        let engine = Engine::new(network, records);
        let (info, warnings) = match rules {
            Some(CompiledRules {
                name,
                text,
                rules,
                diags,
            }) => {
                engine.set_rules(Some(rules));
                let info = RulesetInfo {
                    hash: content_hash(&text),
                    name,
                    source: String::from_utf8_lossy(&text).into_owned(),
                };
                let warnings = if diags.is_empty() {
                    String::new()
                } else {
                    diags.render().trim_end().to_string()
                };
                (info, warnings)
            }
            None => (RulesetInfo::builtin(), String::new()),
        };
        let loaded = RulesLoaded {
            ruleset: info.hash.clone(),
            warnings,
        };
        let port = EnginePort {
            engine,
            rules: RwLock::new(info),
            book: Mutex::new(book),
        };
        (port, loaded)
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The network.
    pub fn network(&self) -> &Network {
        self.engine.network()
    }

    /// Checks and compiles rules for this engine's network and swaps them in at once;
    /// refused rules leave the rules in force as they were.
    pub fn load_rules(&self, name: &str, text: &[u8]) -> Result<RulesLoaded, RulesRefused> {
        let (rules, diags) = compile(name, text, self.engine.network())?;
        let info = RulesetInfo {
            hash: content_hash(text),
            name: name.to_string(),
            source: String::from_utf8_lossy(text).into_owned(),
        };
        let ruleset = info.hash.clone();
        {
            // Decisions in flight hold the read side: the swap waits only for them.
            let mut slot = self.rules.write().unwrap_or_else(PoisonError::into_inner);
            self.engine.set_rules(Some(rules));
            *slot = info;
        }
        let warnings = if diags.is_empty() {
            String::new()
        } else {
            diags.render().trim_end().to_string()
        };
        Ok(RulesLoaded { ruleset, warnings })
    }

    /// The rules in force.
    pub fn ruleset(&self) -> RulesetInfo {
        read(&self.rules).clone()
    }

    /// Reads one order from JSON text with the loaders' checks and messages; `file` names
    /// the input in them.
    pub fn parse_order(&self, file: &str, text: &str) -> Result<Order, String> {
        sourcing_engine::load::parse_order(file, 1, text, self.engine.network())
            .map_err(|e| e.to_string().trim_end().to_string())
    }

    /// Routes an order: a quote, a route that consumes, or a reservation.
    pub fn route(&self, order: &Order, options: &RouteOptions) -> Outcome {
        let rules = read(&self.rules);
        let ruleset = rules.hash.clone();
        match options.mode {
            Mode::Quote => {
                let (decision, explain) = if options.explain {
                    let (d, e) = self.engine.quote_explained(order);
                    (d, Some(e))
                } else {
                    (self.engine.quote(order), None)
                };
                drop(rules);
                outcome(&decision, explain.as_ref(), ruleset, None, Vec::new())
            }
            Mode::Consume | Mode::Reserve { .. } => {
                let mut book = self.book();
                let (decision, handle) = self.engine.reserve(order);
                drop(rules);
                let takes = takes_of(&decision);
                let reserve = matches!(options.mode, Mode::Reserve { .. });
                let deltas: Vec<PairDelta> = takes
                    .iter()
                    .map(|t| PairDelta {
                        location: t.location.clone(),
                        sku: t.sku.clone(),
                        on_hand: if reserve { 0 } else { -(t.qty as i64) },
                        reserved: if reserve { t.qty as i64 } else { 0 },
                    })
                    .collect();
                self.apply_deltas(&mut book, &deltas, 1);
                let mut out = outcome(&decision, None, ruleset, None, deltas);
                if let Mode::Reserve { expires_at } = options.mode {
                    let data = Reservation {
                        id: new_reservation_id(),
                        order: order.id.clone(),
                        state: ReservationState::Held,
                        expires_at,
                        decision: out.decision.clone(),
                        takes,
                    };
                    book.reservations.insert(
                        data.id.clone(),
                        Held {
                            data: data.clone(),
                            handle: Some(handle),
                        },
                    );
                    out.reservation = Some(data);
                } else {
                    self.engine.confirm(handle);
                }
                out
            }
        }
    }

    /// Changes figures by `sign`·deltas and brings the engine's ATP of each pair to the
    /// figures'. The book lock is held, so nothing else moves the engine's counts.
    fn apply_deltas(&self, book: &mut Book, deltas: &[PairDelta], sign: i64) {
        for d in deltas {
            let Some(location) = self.engine.network().location_index(&d.location) else {
                continue;
            };
            let key = (location, d.sku.clone());
            let f = book.figures.get(&key).copied().unwrap_or_default();
            let on_hand = add(f.on_hand, sign * d.on_hand);
            let reserved = add(f.reserved, sign * d.reserved);
            let after = StockFigures::new(on_hand, reserved, f.safety_stock);
            book.figures.insert(key, after);
            self.sync(location, &d.sku, after.atp);
        }
    }

    /// Sets the engine's ATP of a pair.
    fn sync(&self, location: usize, sku: &str, atp: u64) {
        let now = self.engine.stock().atp(location, sku);
        if now != atp {
            let delta = i128::from(atp) - i128::from(now);
            let delta = i64::try_from(delta).unwrap_or(0);
            // An unlisted pair has no slot: its ATP is 0 and stays so.
            let _ = self.engine.stock().adjust(location, sku, delta);
        }
    }

    /// A reservation by id.
    pub fn reservation(&self, id: &str) -> Option<Reservation> {
        self.book().reservations.get(id).map(|h| h.data.clone())
    }

    /// Every reservation, sorted by id.
    pub fn reservations(&self) -> Vec<Reservation> {
        self.book()
            .reservations
            .values()
            .map(|h| h.data.clone())
            .collect()
    }

    /// Held → confirmed: the units leave on hand and reserved. Confirming again is the
    /// same answer with no change.
    pub fn confirm(&self, id: &str) -> Result<Transition, ReservationError> {
        self.transition(id, ReservationState::Confirmed)
    }

    /// Held → released: the units are available again. Releasing again is the same
    /// answer with no change.
    pub fn release(&self, id: &str) -> Result<Transition, ReservationError> {
        self.transition(id, ReservationState::Released)
    }

    /// Every held reservation whose expiry is at or before `now` → expired.
    pub fn expire(&self, now: i64) -> Vec<Transition> {
        let due: Vec<String> = self
            .book()
            .reservations
            .values()
            .filter(|h| h.data.state == ReservationState::Held && h.data.expires_at <= now)
            .map(|h| h.data.id.clone())
            .collect();
        due.iter()
            .filter_map(|id| self.transition(id, ReservationState::Expired).ok())
            .collect()
    }

    fn transition(&self, id: &str, to: ReservationState) -> Result<Transition, ReservationError> {
        let mut book = self.book();
        let held = book
            .reservations
            .get_mut(id)
            .ok_or(ReservationError::Unknown)?;
        let before = held.data.state;
        if before == to && to != ReservationState::Expired {
            return Ok(Transition {
                reservation: held.data.clone(),
                before,
                deltas: Vec::new(),
            });
        }
        if before != ReservationState::Held {
            return Err(ReservationError::NotHeld(before));
        }
        held.data.state = to;
        let handle = held.handle.take();
        let reservation = held.data.clone();
        let confirm = to == ReservationState::Confirmed;
        let mut deltas = Vec::new();
        for t in &reservation.takes {
            let on_hand = if confirm {
                // On hand counted lower since the hold cannot go below 0.
                let current = self
                    .engine
                    .network()
                    .location_index(&t.location)
                    .and_then(|l| book.figures.get(&(l, t.sku.clone())))
                    .map_or(0, |f| f.on_hand);
                -(t.qty.min(current) as i64)
            } else {
                0
            };
            deltas.push(PairDelta {
                location: t.location.clone(),
                sku: t.sku.clone(),
                on_hand,
                reserved: -(t.qty as i64),
            });
        }
        if let Some(handle) = handle {
            if confirm {
                self.engine.confirm(handle);
            } else {
                // Gives the daily capacity back too; `apply_deltas` then sets the counts.
                self.engine.release(handle);
            }
        }
        self.apply_deltas(&mut book, &deltas, 1);
        Ok(Transition {
            reservation,
            before,
            deltas,
        })
    }

    /// Re-registers a held reservation whose units are already counted as reserved in
    /// the stock this port was built from (a rebuild from the ledger).
    pub fn restore(&self, reservation: Reservation) {
        let mut book = self.book();
        book.reservations.insert(
            reservation.id.clone(),
            Held {
                data: reservation,
                handle: None,
            },
        );
    }

    /// Reverts a change exactly (its ledger commit failed). Changes made after it must be
    /// reverted first.
    pub fn undo(&self, undo: &Undo) {
        let mut book = self.book();
        match undo {
            Undo::Deltas(deltas) => self.apply_deltas(&mut book, deltas, -1),
            Undo::Reserved { id, deltas } => {
                if let Some(held) = book.reservations.remove(id) {
                    if let Some(handle) = held.handle {
                        self.engine.release(handle);
                    }
                }
                self.apply_deltas(&mut book, deltas, -1);
            }
            Undo::Transition { id, before, deltas } => {
                if let Some(held) = book.reservations.get_mut(id) {
                    held.data.state = *before;
                }
                self.apply_deltas(&mut book, deltas, -1);
            }
        }
    }

    /// The figures of a pair; `None` for a pair the stock does not list.
    pub fn figures(&self, location: &str, sku: &str) -> Option<StockFigures> {
        let location = self.engine.network().location_index(location)?;
        self.book()
            .figures
            .get(&(location, sku.to_string()))
            .copied()
    }

    /// Every listed pair's figures, sorted by location index then SKU.
    pub fn all_figures(&self) -> Vec<(String, String, StockFigures)> {
        let book = self.book();
        let mut all: Vec<_> = book
            .figures
            .iter()
            .map(|((l, s), f)| (*l, s.clone(), *f))
            .collect();
        all.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let locations = &self.engine.network().locations;
        all.into_iter()
            .filter_map(|(l, s, f)| locations.get(l).map(|loc| (loc.id.clone(), s, f)))
            .collect()
    }

    /// The ATP the engine routes with for a pair (equal to the figures' ATP).
    pub fn engine_atp(&self, location: &str, sku: &str) -> Option<u64> {
        let location = self.engine.network().location_index(location)?;
        Some(self.engine.stock().atp(location, sku))
    }

    /// Every location listing a SKU, in network order, with its figures.
    pub fn availability(&self, sku: &str) -> Vec<(String, StockFigures)> {
        let book = self.book();
        self.engine
            .network()
            .locations
            .iter()
            .enumerate()
            .filter_map(|(i, loc)| {
                book.figures
                    .get(&(i, sku.to_string()))
                    .map(|f| (loc.id.clone(), *f))
            })
            .collect()
    }

    /// Applies a stock movement to on hand.
    pub fn apply(&self, movement: &Movement) -> Result<Moved, MovementError> {
        let location = self
            .engine
            .network()
            .location_index(&movement.location)
            .ok_or(MovementError::UnknownLocation)?;
        let mut book = self.book();
        let f = *book
            .figures
            .get(&(location, movement.sku.clone()))
            .ok_or(MovementError::UnlistedPair)?;
        let current = f.on_hand;
        let target: i128 = match movement.change {
            Change::Delta(d) => i128::from(current) + i128::from(d),
            Change::Set { value, expected } => {
                if expected.is_some_and(|e| e != current) {
                    return Err(MovementError::Expected { current });
                }
                i128::from(value)
            }
        };
        if target < 0 {
            return Err(MovementError::Negative { current });
        }
        if target > i128::from(MAX_UNITS) {
            return Err(MovementError::Overflow);
        }
        let delta = PairDelta {
            location: movement.location.clone(),
            sku: movement.sku.clone(),
            on_hand: (target - i128::from(current)) as i64,
            reserved: 0,
        };
        self.apply_deltas(&mut book, std::slice::from_ref(&delta), 1);
        let figures = book
            .figures
            .get(&(location, movement.sku.clone()))
            .copied()
            .unwrap_or_default();
        Ok(Moved { delta, figures })
    }
}

/// `value + delta`, floored at 0 and capped at [`MAX_UNITS`].
fn add(value: u64, delta: i64) -> u64 {
    let exact = i128::from(value) + i128::from(delta);
    exact.clamp(0, i128::from(MAX_UNITS)) as u64
}

/// Units per (location, SKU) that a decision ships, in decision order.
fn takes_of(decision: &Decision) -> Vec<Take> {
    let mut takes: Vec<Take> = Vec::new();
    for s in &decision.shipments {
        for l in &s.lines {
            match takes
                .iter_mut()
                .find(|t| t.location == s.location && t.sku == l.sku)
            {
                Some(t) => t.qty += u64::from(l.qty),
                None => takes.push(Take {
                    location: s.location.clone(),
                    sku: l.sku.clone(),
                    qty: u64::from(l.qty),
                }),
            }
        }
    }
    takes
}

fn outcome(
    decision: &Decision,
    explain: Option<&sourcing_engine::Explain>,
    ruleset: String,
    reservation: Option<Reservation>,
    deltas: Vec<PairDelta>,
) -> Outcome {
    Outcome {
        decision: decision_json(decision, explain, &ruleset),
        rule: decision.rule.clone(),
        status: match decision.status {
            sourcing_engine::Status::Sourced => "sourced",
            sourcing_engine::Status::Partial => "partial",
            sourcing_engine::Status::Unsourced => "unsourced",
        },
        ruleset,
        reservation,
        deltas,
    }
}

/// The decision as JSON in the contract's field order, then `ruleset`, then `explain`.
fn decision_json(
    decision: &Decision,
    explain: Option<&sourcing_engine::Explain>,
    ruleset: &str,
) -> Box<RawValue> {
    let mut text = serde_json::to_string(decision).unwrap_or_else(|_| "{}".to_string());
    if text.ends_with('}') && text.len() > 2 {
        text.pop();
        text.push_str(",\"ruleset\":");
        text.push_str(&serde_json::Value::from(ruleset).to_string());
        if let Some(explain) = explain {
            if let Ok(e) = serde_json::to_string(explain) {
                text.push_str(",\"explain\":");
                text.push_str(&e);
            }
        }
        text.push('}');
    }
    // The engine serialises its own decision: valid JSON, so `null` is never written.
    RawValue::from_string(text).unwrap_or_default()
}

/// A new random reservation id: `R-` and 32 hex digits.
pub fn new_reservation_id() -> String {
    format!("R-{}", hex(&random_bytes::<16>()))
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
        let mut book = self.book();
        self.apply_deltas(&mut book, deltas, 1);
    }

    /// Sets a pair's on hand and reserved to the stock of record (after a conflict, with
    /// nothing of this instance pending on it).
    pub fn set_figures(&self, location: &str, sku: &str, on_hand: u64, reserved: u64) {
        let Some(index) = self.engine.network().location_index(location) else {
            return;
        };
        let mut book = self.book();
        let key = (index, sku.to_string());
        let Some(f) = book.figures.get(&key).copied() else {
            return;
        };
        let after = StockFigures::new(on_hand, reserved, f.safety_stock);
        book.figures.insert(key, after);
        self.sync(index, sku, after.atp);
    }

    /// Every held reservation due at `now` that this instance made, and those it learnt
    /// from others once `grace` seconds more have passed (their maker expires them first;
    /// the grace only covers a maker that died) → expired.
    pub fn expire_shared(&self, now: i64, grace: i64) -> Vec<Transition> {
        let due: Vec<String> = self
            .book()
            .reservations
            .values()
            .filter(|h| {
                let at = if h.handle.is_some() {
                    h.data.expires_at
                } else {
                    h.data.expires_at.saturating_add(grace)
                };
                h.data.state == ReservationState::Held && at <= now
            })
            .map(|h| h.data.id.clone())
            .collect();
        due.iter()
            .filter_map(|id| self.transition(id, ReservationState::Expired).ok())
            .collect()
    }

    /// A reservation's new state, set by another instance; false when unknown here.
    pub fn set_state(&self, id: &str, state: ReservationState) -> bool {
        let mut book = self.book();
        let Some(held) = book.reservations.get_mut(id) else {
            return false;
        };
        held.data.state = state;
        let handle = held.handle.take();
        let takes = held.data.takes.clone();
        if let Some(handle) = handle {
            // The engine's own hold ends as the other instance ended it (daily capacity
            // included); the counts are then brought back to the figures.
            if state == ReservationState::Confirmed {
                self.engine.confirm(handle);
            } else {
                self.engine.release(handle);
            }
            for t in &takes {
                if let Some(index) = self.engine.network().location_index(&t.location) {
                    let atp = book
                        .figures
                        .get(&(index, t.sku.clone()))
                        .map_or(0, |f| f.atp);
                    self.sync(index, &t.sku, atp);
                }
            }
        }
        true
    }
}
