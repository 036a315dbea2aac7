//! The engine: a network and its stock, loaded once, routing orders from many threads;
//! the front door of the crate (building, rules, orders, routing, reservations, stock).

use crate::explain::{Explain, Trace};
use crate::load::inventory::InventoryRecord;
use crate::model::decision::Decision;
use crate::model::network::{LocationId, Network};
use crate::model::order::Order;
use crate::movement::{Movement, MovementError};
use crate::outcome::{takes_of, Mode, Outcome, RouteOptions, SearchStats};
use crate::plan::Routed;
use crate::reservation::{
    Book, Entry, Reservation, ReservationError, ReservationId, ReservationState,
};
use crate::router::RouterTables;
use crate::rules::Rules;
use crate::ruleset::{RulesError, RulesLoaded, RulesSource, RulesetHash, RulesetInfo};
use crate::stock::{Settle, Stock, StockFigures};
use crate::valid::{OrderError, ValidOrder};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// Routes orders against one network and its stock.
///
/// `Engine` is `Send + Sync`: share it (for instance in an `Arc`) and call
/// [`Engine::route`] from as many threads as you like. Each call takes its order's units
/// atomically; no lock is held across orders. Build one with [`Engine::builder`]; the
/// crate's front page walks through every call.
#[derive(Debug)]
pub struct Engine {
    network: Network,
    /// The stock, shared by every order in flight; taken exclusively only to add a
    /// (location, SKU) pair the inventory did not list (its slots are laid out anew).
    stock: parking_lot::RwLock<Stock>,
    tables: RouterTables,
    /// The rules in force and what they are; each order reads it once, so a swap never
    /// mixes two rule sets in one decision.
    rules: RwLock<Arc<InForce>>,
    /// Reservations: touched only by reserving and the reservation calls.
    book: Mutex<Book>,
}

/// The rules in force: `None` routes with the built-in `min-cost` strategy.
#[derive(Debug)]
pub(crate) struct InForce {
    pub rules: Option<Arc<Rules>>,
    pub info: RulesetInfo,
}

/// Builds an [`Engine`]: a network, its inventory, optionally rules.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct EngineBuilder {
    network: Option<Network>,
    inventory: Vec<InventoryRecord>,
    rules: Option<RulesSource>,
    reservation_tag: String,
}

/// Why [`EngineBuilder::build`] made no engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No network was given.
    #[error("the engine needs a network")]
    NoNetwork,
    /// An inventory row names a location index the network does not have.
    #[error(
        "inventory row {row} names location #{location}, but the network has {locations} locations"
    )]
    UnknownLocation {
        /// 0-based row.
        row: usize,
        /// The index given.
        location: usize,
        /// How many locations the network has.
        locations: usize,
    },
    /// The rules did not load.
    #[error(transparent)]
    Rules(#[from] RulesError),
}

impl EngineBuilder {
    /// The network (see [`crate::load::parse_network`]).
    pub fn network(mut self, network: Network) -> EngineBuilder {
        self.network = Some(network);
        self
    }

    /// The inventory rows (see [`crate::load::parse_inventory_csv`]): on hand, reserved
    /// and safety stock per (location, SKU); a repeated pair keeps its last row.
    pub fn inventory(mut self, records: Vec<InventoryRecord>) -> EngineBuilder {
        self.inventory = records;
        self
    }

    /// Rules to route with (default: the built-in `min-cost` strategy).
    pub fn rules(mut self, source: RulesSource) -> EngineBuilder {
        self.rules = Some(source);
        self
    }

    /// A tag in every reservation id this engine gives (`R-<tag>-000000000001`), for
    /// engines sharing one ledger: engines with different tags never give the same id.
    /// Empty (the default): `R-000000000001`. Only ASCII letters and digits are kept.
    pub fn reservation_tag(mut self, tag: &str) -> EngineBuilder {
        self.reservation_tag = tag.chars().filter(char::is_ascii_alphanumeric).collect();
        self
    }

    /// The engine, with its rules loaded.
    pub fn build(self) -> Result<Engine, BuildError> {
        let network = self.network.ok_or(BuildError::NoNetwork)?;
        let locations = network.locations.len();
        if let Some((row, r)) = self
            .inventory
            .iter()
            .enumerate()
            .find(|(_, r)| r.location >= locations)
        {
            return Err(BuildError::UnknownLocation {
                row,
                location: r.location,
                locations,
            });
        }
        let engine = Engine::new(network, &self.inventory);
        engine
            .book
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .tag = self.reservation_tag;
        if let Some(source) = self.rules {
            engine.load_rules(source)?;
        }
        Ok(engine)
    }
}

impl Engine {
    /// A builder: `Engine::builder().network(n).inventory(rows).rules(src).build()`.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// An engine over a network and its inventory rows, routing with the built-in
    /// strategy (rows naming a location the network does not have are skipped; the
    /// builder refuses them).
    pub fn new(network: Network, inventory: &[InventoryRecord]) -> Engine {
        let stock = Stock::new(&network, inventory);
        let tables = RouterTables::new(&network);
        Engine {
            network,
            stock: parking_lot::RwLock::new(stock),
            tables,
            rules: RwLock::new(Arc::new(InForce {
                rules: None,
                info: RulesetInfo::builtin(),
            })),
            book: Mutex::new(Book::default()),
        }
    }

    // ---- rules ----

    /// Reads, checks and compiles a rule file for this engine's network, then routes with
    /// it from the next order on (orders being routed finish with the rules they started
    /// with). On any error the rules in force stay as they were.
    pub fn load_rules(&self, source: RulesSource) -> Result<RulesLoaded, RulesError> {
        let (name, bytes) = source.read()?;
        let (set, mut diags) = sourcing_dsl::compile_bytes(&name, &bytes);
        if let Some(set) = &set {
            diags.add(crate::rules::check_scripts(set));
        }
        let set = match set {
            Some(set) if !diags.has_errors() => set,
            _ => return Err(RulesError::invalid(&diags)),
        };
        let hash = RulesetHash::of(&bytes);
        let source = String::from_utf8_lossy(&bytes).into_owned();
        self.compile_in(name, set, hash, Some(source))?;
        Ok(RulesLoaded::new(hash, &diags))
    }

    /// Compiles a rule set the checker produced (for the tools, which change a set's
    /// constants before routing with it) and routes with it under `hash`.
    #[doc(hidden)]
    pub fn load_rule_set(
        &self,
        name: &str,
        set: sourcing_dsl::RuleSet,
        hash: RulesetHash,
    ) -> Result<(), RulesError> {
        self.compile_in(name.to_string(), set, hash, None)
    }

    fn compile_in(
        &self,
        name: String,
        set: sourcing_dsl::RuleSet,
        hash: RulesetHash,
        source: Option<String>,
    ) -> Result<(), RulesError> {
        let rules =
            Rules::compile(set, &self.network).map_err(|e| RulesError::compiled(&name, e))?;
        self.swap_rules(InForce {
            rules: Some(Arc::new(rules)),
            info: RulesetInfo { hash, name, source },
        });
        Ok(())
    }

    /// Routes with the built-in `min-cost` strategy from the next order on.
    pub fn clear_rules(&self) {
        self.swap_rules(InForce {
            rules: None,
            info: RulesetInfo::builtin(),
        });
    }

    /// The rule set in force: hash, name and text.
    pub fn ruleset(&self) -> RulesetInfo {
        self.in_force().info.clone()
    }

    fn swap_rules(&self, next: InForce) {
        let mut slot = self.rules.write().unwrap_or_else(PoisonError::into_inner);
        *slot = Arc::new(next);
    }

    pub(crate) fn in_force(&self) -> Arc<InForce> {
        self.rules
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The compiled rules in force, if any (for the pipeline and the tools).
    #[doc(hidden)]
    pub fn rules(&self) -> Option<Arc<Rules>> {
        self.in_force().rules.clone()
    }

    // ---- orders ----

    /// Checks an order's JSON text (one line of `orders.jsonl`) against this engine's
    /// network: every problem with its field path, in the orders loader's words.
    pub fn parse_order(&self, json: &str) -> Result<ValidOrder, OrderError> {
        crate::valid::parse(&self.network, json)
    }

    /// Checks an order built in code (or deserialised) with the orders loader's checks.
    pub fn validate(&self, order: Order) -> Result<ValidOrder, OrderError> {
        crate::valid::validate(&self.network, order)
    }

    // ---- routing ----

    /// Plans an order with the given rules (`None`: the built-in strategy), taking nothing,
    /// through the planning core; candidates go to `trace` when explaining.
    pub(crate) fn plan_with(
        &self,
        rules: Option<&Rules>,
        order: &Order,
        trace: Option<&Trace>,
    ) -> Routed {
        // A pickup order travels to its store whatever its `ship_to` says (the loaders
        // refuse one more than `PICKUP_TOLERANCE_KM` away and move the rest).
        let moved;
        let order = match order.pickup_position(&self.network) {
            Some((lat, lon)) => {
                let mut at_store = order.clone();
                at_store.ship_to.lat = lat;
                at_store.ship_to.lon = lon;
                moved = at_store;
                &moved
            }
            None => order,
        };
        crate::plan::plan(
            &self.network,
            &self.stock(),
            &self.tables,
            rules,
            order,
            trace,
        )
    }

    /// Routes an order: quotes it, consumes its units or reserves them (see
    /// [`RouteOptions`]). Consuming and reserving take the units all or nothing; when
    /// another thread takes some of the planned units first, the order is planned again
    /// against what is left, so no unit is ever promised twice.
    pub fn route(&self, order: &ValidOrder, options: &RouteOptions) -> Outcome {
        self.route_order(order, options)
    }

    /// [`Engine::route`] for an order the crate already trusts (its own tests, the tools).
    pub(crate) fn route_order(&self, order: &Order, options: &RouteOptions) -> Outcome {
        let in_force = self.in_force();
        let rules = in_force.rules.as_deref();
        let mode = options.mode();
        let day = crate::capacity::day_of(order.placed_at.as_deref());
        let trace = options.explains().then(Trace::default);
        let (routed, retries, mut locations) = match mode {
            Mode::Quote => (self.plan_with(rules, order, trace.as_ref()), 0, Vec::new()),
            Mode::Consume => self.plan_and_take(rules, order, day, false, trace.as_ref()),
            Mode::Reserve { .. } => self.plan_and_take(rules, order, day, true, trace.as_ref()),
        };
        let considered = trace.map(Trace::into_list).unwrap_or_default();
        let stats = SearchStats {
            nodes: routed.nodes,
            truncated: routed.truncated,
            retries,
        };
        let (mut decision, explain) = if options.explains() {
            let (decision, why) = explained(rules, routed, considered);
            (decision, Some(Box::new(why)))
        } else {
            (routed.decision, None)
        };
        decision.ruleset = in_force.info.hash;
        if mode == Mode::Quote {
            locations = Vec::new();
        }
        let reservation = match mode {
            Mode::Reserve { .. } => Some(Box::new(
                self.book_reservation(order, &decision, &locations, options),
            )),
            _ => None,
        };
        Outcome {
            decision,
            reservation,
            explain,
            stats,
            mode,
            locations,
            day,
        }
    }

    /// Plans an order and takes its units (held, when `hold`); plans again whenever
    /// another thread took some of them first. Returns the plan, how many times it was
    /// redone and its shipping locations.
    fn plan_and_take(
        &self,
        rules: Option<&Rules>,
        order: &Order,
        day: i32,
        hold: bool,
        trace: Option<&Trace>,
    ) -> (Routed, u32, Vec<u32>) {
        // Held for the whole order: plan and take see the same slots.
        let stock = self.stock.read();
        let mut retries = 0;
        loop {
            let routed = self.plan_with(rules, order, trace);
            let locations = self.shipping_locations(&routed);
            // INVARIANT: a failed take changes nothing, and fails only because another
            // order took capacity or units since this plan read them, so every retry sees
            // less of them.
            if take_on(&stock, &routed, &locations, day, hold) {
                return (routed, retries, locations);
            }
            retries += 1;
        }
    }

    /// The indexes of the locations a plan ships from.
    pub(crate) fn shipping_locations(&self, routed: &Routed) -> Vec<u32> {
        routed
            .decision
            .shipments
            .iter()
            .filter_map(|s| self.network.location_index(&s.location))
            .map(|i| i as u32)
            .collect()
    }

    /// Counts a plan's shipments against `day`'s capacity and takes its units, both or
    /// neither: false (nothing changed) when another order got there first.
    pub(crate) fn take_planned(&self, routed: &Routed, locations: &[u32], day: i32) -> bool {
        take_on(&self.stock(), routed, locations, day, false)
    }

    /// Reverts a consume or reserve outcome exactly: its units and shipments go back (a
    /// reservation still held is forgotten, as if never made). For a ledger whose commit
    /// failed; a quote has nothing to undo.
    pub fn undo(&self, outcome: Outcome) -> Result<(), ReservationError> {
        match outcome.mode {
            Mode::Quote => Ok(()),
            Mode::Consume => {
                let stock = self.stock.read();
                let slots = slots_of(&stock, &takes_of(&outcome.decision, &outcome.locations));
                stock.settle(&slots, Settle::Return);
                stock.capacity.remove(&outcome.locations, outcome.day);
                Ok(())
            }
            Mode::Reserve { .. } => {
                let Some(r) = outcome.reservation else {
                    return Ok(());
                };
                let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
                let entry = book
                    .entries
                    .get(&r.id)
                    .ok_or_else(|| ReservationError::Unknown { id: r.id.clone() })?;
                if entry.reservation.state != ReservationState::Held {
                    return Err(ReservationError::NotHeld {
                        id: r.id.clone(),
                        state: entry.reservation.state,
                    });
                }
                if let Some(entry) = book.entries.remove(&r.id) {
                    self.give_back(&entry, Settle::Free);
                }
                Ok(())
            }
        }
    }

    // ---- reservations ----

    fn book_reservation(
        &self,
        order: &Order,
        decision: &Decision,
        locations: &[u32],
        options: &RouteOptions,
    ) -> Reservation {
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let reservation = Reservation {
            id: book.next_id(),
            order: order.id.clone(),
            state: ReservationState::Held,
            expires_at: options.expiry(),
            placed_at: order.placed_at.clone(),
            decision: decision.clone(),
            takes: takes_of(decision, locations),
        };
        book.entries.insert(
            reservation.id.clone(),
            Entry {
                reservation: reservation.clone(),
                counted: true,
            },
        );
        reservation
    }

    /// A reservation by id, as it stands now.
    pub fn reservation(&self, id: &ReservationId) -> Option<Reservation> {
        let book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        book.entries.get(id).map(|e| e.reservation.clone())
    }

    /// Every reservation the engine knows, sorted by id.
    pub fn reservations(&self) -> Vec<Reservation> {
        let book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        book.entries
            .values()
            .map(|e| e.reservation.clone())
            .collect()
    }

    /// Held → confirmed: the units leave on hand and reserved (shipped). Confirming a
    /// confirmed reservation again returns it unchanged; a released or expired one is an
    /// error.
    pub fn confirm(&self, id: &ReservationId) -> Result<Reservation, ReservationError> {
        self.end(id, ReservationState::Confirmed, Settle::Ship)
    }

    /// Held → released: the units go back to ATP and the shipments to the day's capacity.
    /// Releasing a released reservation again returns it unchanged; a confirmed or expired
    /// one is an error.
    pub fn release(&self, id: &ReservationId) -> Result<Reservation, ReservationError> {
        self.end(id, ReservationState::Released, Settle::Free)
    }

    fn end(
        &self,
        id: &ReservationId,
        to: ReservationState,
        how: Settle,
    ) -> Result<Reservation, ReservationError> {
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = book
            .entries
            .get_mut(id)
            .ok_or_else(|| ReservationError::Unknown { id: id.clone() })?;
        match entry.reservation.state {
            ReservationState::Held => {
                self.give_back(entry, how);
                entry.reservation.state = to;
                Ok(entry.reservation.clone())
            }
            same if same == to => Ok(entry.reservation.clone()),
            state => Err(ReservationError::NotHeld {
                id: id.clone(),
                state,
            }),
        }
    }

    /// Ends every held reservation whose expiry is at or before `now_unix_s`: its units go
    /// back to ATP. Returns them, expired, sorted by id.
    pub fn expire(&self, now_unix_s: i64) -> Vec<Reservation> {
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        for entry in book.entries.values_mut() {
            let r = &entry.reservation;
            if r.state == ReservationState::Held && r.expires_at <= now_unix_s {
                self.give_back(entry, Settle::Free);
                entry.reservation.state = ReservationState::Expired;
                out.push(entry.reservation.clone());
            }
        }
        out
    }

    /// Registers a held reservation again, for an engine rebuilt from a ledger: its units
    /// must already count as `reserved` in the inventory the engine was built from (they
    /// are not taken again). Its shipments count against their day's capacity where there
    /// is room. Later ids continue after the largest restored one.
    pub fn restore(&self, reservation: Reservation) -> Result<(), ReservationError> {
        let id = reservation.id.clone();
        if reservation.state != ReservationState::Held {
            return Err(ReservationError::NotHeld {
                id,
                state: reservation.state,
            });
        }
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        if book.entries.contains_key(&id) {
            return Err(ReservationError::Duplicate { id });
        }
        let stock = self.stock.read();
        let mut locations = Vec::new();
        for t in &reservation.takes {
            let loc = self.network.id_of(&t.location_id);
            let listed = loc.and_then(|l| stock.slot_of(l.0, &t.sku)).is_some();
            match loc {
                Some(l) if listed => {
                    if !locations.contains(&l.0) {
                        locations.push(l.0);
                    }
                }
                _ => {
                    return Err(ReservationError::Unlisted {
                        id,
                        location: t.location_id.clone(),
                        sku: t.sku.clone(),
                    })
                }
            }
        }
        let day = crate::capacity::day_of(reservation.placed_at.as_deref());
        let counted = stock.capacity.add(&locations, day);
        drop(stock);
        if let Some(n) = id.number(&book.tag) {
            book.next = book.next.max(n);
        }
        book.entries.insert(
            id,
            Entry {
                reservation,
                counted,
            },
        );
        Ok(())
    }

    /// Ends a held reservation that another engine sharing the ledger confirmed, released
    /// or expired: its state changes and its shipments leave the day's capacity (unless
    /// confirmed), but the stock is left alone, since that engine's figures arrive as
    /// they are ([`Engine::shift_figures`]). A reservation already in that state is
    /// returned unchanged. `Held` puts a settled reservation back to held (its settlement
    /// was never committed to the shared ledger; the caller shifts the figures back). An
    /// unknown id, or one already held, is an error.
    pub fn settled_elsewhere(
        &self,
        id: &ReservationId,
        to: ReservationState,
    ) -> Result<Reservation, ReservationError> {
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = book
            .entries
            .get_mut(id)
            .ok_or_else(|| ReservationError::Unknown { id: id.clone() })?;
        match entry.reservation.state {
            ReservationState::Held if to != ReservationState::Held => {
                if to != ReservationState::Confirmed && entry.counted {
                    let stock = self.stock.read();
                    let locations = self.locations_of(&entry.reservation);
                    let day = crate::capacity::day_of(entry.reservation.placed_at.as_deref());
                    stock.capacity.remove(&locations, day);
                }
                entry.reservation.state = to;
                Ok(entry.reservation.clone())
            }
            same if same == to && same != ReservationState::Held => Ok(entry.reservation.clone()),
            settled if to == ReservationState::Held && settled != ReservationState::Held => {
                if settled != ReservationState::Confirmed && entry.counted {
                    let stock = self.stock.read();
                    let locations = self.locations_of(&entry.reservation);
                    let day = crate::capacity::day_of(entry.reservation.placed_at.as_deref());
                    entry.counted = stock.capacity.add(&locations, day);
                }
                entry.reservation.state = ReservationState::Held;
                Ok(entry.reservation.clone())
            }
            state => Err(ReservationError::NotHeld {
                id: id.clone(),
                state,
            }),
        }
    }

    /// The locations a reservation ships from, each once.
    fn locations_of(&self, reservation: &Reservation) -> Vec<u32> {
        let mut locations: Vec<u32> = Vec::new();
        for t in &reservation.takes {
            if let Some(l) = self.network.id_of(&t.location_id) {
                if !locations.contains(&l.0) {
                    locations.push(l.0);
                }
            }
        }
        locations
    }

    /// Gives a held reservation's units back (`Free`) or ships them (`Ship`).
    fn give_back(&self, entry: &Entry, how: Settle) {
        let stock = self.stock.read();
        let slots = slots_of(&stock, &entry.reservation.takes);
        stock.settle(&slots, how);
        if how == Settle::Free && entry.counted {
            let mut locations: Vec<u32> = Vec::new();
            for t in &entry.reservation.takes {
                if let Some(l) = self.network.id_of(&t.location_id) {
                    if !locations.contains(&l.0) {
                        locations.push(l.0);
                    }
                }
            }
            let day = crate::capacity::day_of(entry.reservation.placed_at.as_deref());
            stock.capacity.remove(&locations, day);
        }
    }

    // ---- stock ----

    /// On hand, reserved, safety stock and ATP of a (location id, SKU) pair; `None` when
    /// the network has no such location or the stock does not list the pair.
    pub fn figures(&self, location: &str, sku: &str) -> Option<StockFigures> {
        let l = self.network.location_index(location)?;
        self.stock().figures(l, sku)
    }

    /// Every location listing the SKU, with its figures, in network order.
    pub fn availability(&self, sku: &str) -> Vec<(LocationId, StockFigures)> {
        self.stock()
            .availability(sku)
            .into_iter()
            .map(|(l, f)| (LocationId(l as u32), f))
            .collect()
    }

    /// Applies a stock movement: a receipt, adjustment, return or transfer changes on hand
    /// by a delta (or sets it), a count sets on hand, a safety stock movement changes the
    /// safety stock; ATP follows. A pair the inventory did not list is added first (its
    /// counts 0), which lays the stock out anew while no order is in flight. Returns the
    /// pair's figures after the movement; on an error nothing changed.
    pub fn apply(&self, movement: &Movement) -> Result<StockFigures, MovementError> {
        let location = self
            .network
            .location_index(&movement.location)
            .ok_or_else(|| MovementError::UnknownLocation {
                location: movement.location.clone(),
            })?;
        if movement.sku.is_empty() {
            return Err(MovementError::EmptySku);
        }
        let (count, change) = movement.count_change();
        {
            let stock = self.stock.read();
            if let Some(slot) = stock.slot_of(location as u32, &movement.sku) {
                return stock
                    .change(slot, count, change)
                    .map(|(_, f)| f)
                    .map_err(|e| movement.error(e));
            }
        }
        // A new pair: checked against an empty count first, so a refused movement adds
        // nothing.
        let empty = StockFigures::default();
        crate::stock::check_change(&empty, count, change).map_err(|e| movement.error(e))?;
        let mut stock = self.stock.write();
        if stock.slot_of(location as u32, &movement.sku).is_none() {
            let grown = stock.with_pair(&self.network, location, &movement.sku);
            *stock = grown;
        }
        let slot = stock
            .slot_of(location as u32, &movement.sku)
            .ok_or_else(|| MovementError::UnknownLocation {
                location: movement.location.clone(),
            })?;
        stock
            .change(slot, count, change)
            .map(|(_, f)| f)
            .map_err(|e| movement.error(e))
    }

    /// Changes a pair's on hand and reserved by what another engine sharing the ledger
    /// committed (its routes, reservations, settlements and movements), unchecked: the
    /// ledger already decided them. Counts stop at 0 and [`MAX_UNITS`](crate::MAX_UNITS). A pair the stock
    /// does not list is added first. Returns the figures after; `None` for a location
    /// the network does not have or an empty SKU.
    pub fn shift_figures(
        &self,
        location: &str,
        sku: &str,
        on_hand: i64,
        reserved: i64,
    ) -> Option<StockFigures> {
        let l = self.network.location_index(location)?;
        if sku.is_empty() {
            return None;
        }
        if self.stock().slot_of(l as u32, sku).is_none() {
            let mut stock = self.stock.write();
            if stock.slot_of(l as u32, sku).is_none() {
                let grown = stock.with_pair(&self.network, l, sku);
                *stock = grown;
            }
        }
        let stock = self.stock.read();
        let slot = stock.slot_of(l as u32, sku)?;
        Some(stock.shift(slot, on_hand, reserved))
    }

    /// The network this engine routes over.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Counts again the shipments of an order sent before this engine was built (a
    /// service rebuilding from its ledger): one from each of `locations` (location ids)
    /// against the capacity of the day of `placed_at`, as routing it did. All or nothing:
    /// false, counting nothing, when a location is unknown or full that day.
    pub fn count_shipments(&self, locations: &[&str], placed_at: Option<&str>) -> bool {
        let mut indexes: Vec<u32> = Vec::with_capacity(locations.len());
        for id in locations {
            let Some(i) = self.network.location_index(id) else {
                return false;
            };
            if !indexes.contains(&(i as u32)) {
                indexes.push(i as u32);
            }
        }
        let day = crate::capacity::day_of(placed_at);
        self.stock().capacity.add(&indexes, day)
    }

    /// The stock as it is now (for the tools and tests; the front door is
    /// [`Engine::figures`], [`Engine::availability`] and [`Engine::apply`]).
    #[doc(hidden)]
    pub fn stock(&self) -> impl std::ops::Deref<Target = Stock> + '_ {
        // Recursive: an order in flight may read it again while a writer waits.
        self.stock.read_recursive()
    }
}

/// Counts a plan's shipments and takes its units on `stock`, both or neither.
fn take_on(stock: &Stock, routed: &Routed, locations: &[u32], day: i32, hold: bool) -> bool {
    if stock.capacity.add(locations, day) {
        let taken = if hold {
            stock.take_held(&routed.takes)
        } else {
            stock.take(&routed.takes)
        };
        if taken {
            return true;
        }
        stock.capacity.remove(locations, day);
    }
    false
}

/// The slots of takes named by location and SKU (skipping what the stock does not list).
fn slots_of(stock: &Stock, takes: &[crate::reservation::Take]) -> Vec<(u32, u64)> {
    takes
        .iter()
        .filter_map(|t| stock.slot_of(t.location.0, &t.sku).map(|s| (s, t.qty)))
        .collect()
}

/// A decision with the explanation of how it was reached under `rules` (the built-in
/// strategy when `None`).
pub(crate) fn explained(
    rules: Option<&Rules>,
    routed: Routed,
    considered: Vec<crate::explain::Considered>,
) -> (Decision, Explain) {
    let ranking = routed
        .chain
        .iter()
        .filter_map(|name| match rules {
            Some(r) => r.ranking(name),
            None => Some(crate::explain::Ranking {
                strategy: name.clone(),
                tiers: Vec::new(),
                criteria: vec!["cost".to_string()],
                larger_first: vec![false],
                then: crate::rules::fixed_tie_breaks(),
            }),
        })
        .collect();
    let not_chosen = rules.map_or_else(Vec::new, |r| r.not_chosen(routed.chain.first()));
    let mut explain = Explain::new(
        &routed.decision,
        routed.searches,
        routed.chain,
        !routed.truncated,
        routed.nodes,
        considered,
        ranking,
    );
    explain.not_chosen = not_chosen;
    (routed.decision, explain)
}

/// Short forms for the crate's own tests, over [`Engine::route_order`].
#[cfg(test)]
impl Engine {
    /// Routes with compiled rules (tests compile them themselves).
    pub(crate) fn set_rules(&self, rules: Option<Rules>) {
        let info = match rules {
            Some(_) => RulesetInfo {
                hash: RulesetHash::of(b"compiled in a test"),
                name: "test".into(),
                source: None,
            },
            None => RulesetInfo::builtin(),
        };
        self.swap_rules(InForce {
            rules: rules.map(Arc::new),
            info,
        });
    }

    pub(crate) fn quote(&self, order: &Order) -> Decision {
        self.route_order(order, &RouteOptions::quote()).decision
    }

    pub(crate) fn consume(&self, order: &Order) -> Decision {
        self.route_order(order, &RouteOptions::consume()).decision
    }

    pub(crate) fn route_with_stats(&self, order: &Order) -> (Decision, SearchStats) {
        let out = self.route_order(order, &RouteOptions::consume());
        (out.decision, out.stats)
    }

    pub(crate) fn quote_explained(&self, order: &Order) -> (Decision, Explain) {
        let out = self.route_order(order, &RouteOptions::quote().explain(true));
        let why = out
            .explain
            .unwrap_or_else(|| unreachable!("asked to explain"));
        (out.decision, *why)
    }

    pub(crate) fn route_explained(&self, order: &Order) -> (Decision, Explain) {
        let out = self.route_order(order, &RouteOptions::consume().explain(true));
        let why = out
            .explain
            .unwrap_or_else(|| unreachable!("asked to explain"));
        (out.decision, *why)
    }
}
