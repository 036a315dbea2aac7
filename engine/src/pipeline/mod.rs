//! Routing a stream of orders on every core while stock is consumed, with exactly the
//! decisions of a one-thread run.
//!
//! In: an engine and orders in the order they must take their stock. Out: one decision
//! per order, handed over in that order, each the decision [`Engine::route`] gives when
//! the orders are routed one after the other on one thread.
//!
//! Orders are taken in windows. While one thread commits the orders of a window, one by
//! one, the other threads plan the next window's orders against the stock as it is at
//! that moment; the committing thread joins them when its window is done. Committing an order checks whether its plan is still what planning it now
//! would give; if so its units are taken, otherwise it is planned again on the spot.
//!
//! **Why a plan stays valid.** Every commit writes down what it changed: each stock slot
//! with its units before and after, and each location whose shipments left that day
//! changed in a way a plan can tell (see below). A plan remembers how many commits had happened when it started. Planning reads
//! nothing but the units of the order's SKUs (at any location) and the capacity of
//! locations that list those SKUs (and of the pickup store), so a plan is valid when no
//! later change touched what it could have read:
//!
//! - the built-in strategy looks at a slot's units only through `min(units, demand)`,
//!   where demand is the order's total of that SKU (enough or not, how many it can take),
//!   and at capacity only through "full or not": a change matters only when it moves one
//!   of those;
//! - a rule set may read exact units and shipments left (`atp`, `stock_cover`,
//!   `capacity_left`, …), so under rules any change to those slots or counts matters —
//!   unless the plan came from the built-in search alone (a plain least-cost strategy
//!   chosen first), which reads them as the built-in strategy does.
//!
//! When most plans of a window had to be made again (rules that read exact counts of a
//! busy network), the next windows are committed without planning ahead, and planning
//! ahead is tried again later: the decisions are the same either way.
//!
//! Changes from outside the pipeline (stock events between orders) go through an
//! [`Adjuster`] and are written down the same way. While a pipeline runs it must be the
//! only writer of its engine's stock.

use crate::capacity::day_of;
use crate::engine::{explained, Engine};
use crate::explain::{Considered, Explain, Trace};
use crate::model::decision::Decision;
use crate::model::order::Order;
use crate::plan::{Reads, Routed};
use crate::rules::Rules;
use rustc_hash::FxHashMap;
use std::borrow::Borrow;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Orders planned ahead per window and thread.
const WINDOW_PER_THREAD: usize = 128;
/// Windows committed without planning ahead after a window whose plans were mostly
/// redone.
const PAUSE_WINDOWS: u32 = 16;

/// Routes orders in their given order, consuming stock, on every thread of the current
/// `rayon` pool (run it inside [`rayon::ThreadPool::install`] to choose the threads).
///
/// ```
/// # use sourcing_engine::{generate, pipeline::Pipeline, Engine};
/// let sc = generate::scenario(7, &generate::Shape { orders: 200, ..generate::Shape::national() });
/// let engine = Engine::new(sc.network.clone(), &sc.inventory);
/// let mut decisions = Vec::new();
/// let stats = Pipeline::new(&engine).run(&sc.orders, |_, _| {}, |_, d, _| {
///     decisions.push(d);
///     Ok::<(), std::convert::Infallible>(())
/// })?;
/// assert_eq!((decisions.len(), stats.orders), (200, 200));
/// # Ok::<(), std::convert::Infallible>(())
/// ```
#[derive(Debug)]
pub struct Pipeline<'e> {
    engine: &'e Engine,
    explain: bool,
    window: Option<usize>,
}

/// What a pipeline did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PipelineStats {
    /// Orders routed.
    pub orders: u64,
    /// Orders planned ahead whose stock or capacity changed before their turn: planned
    /// again when committed.
    pub replanned: u64,
    /// Orders planned ahead (the rest were planned when committed: with one thread, or at
    /// the start).
    pub planned_ahead: u64,
}

impl PipelineStats {
    /// The share of orders planned ahead that had to be planned again (0 when none were
    /// planned ahead).
    pub fn replan_rate(&self) -> f64 {
        if self.planned_ahead == 0 {
            0.0
        } else {
            self.replanned as f64 / self.planned_ahead as f64
        }
    }
}

/// Changes the stock between two orders of a [`Pipeline::run`], so that plans made ahead
/// notice them.
#[derive(Debug)]
pub struct Adjuster<'a> {
    engine: &'a Engine,
    journal: &'a mut Journal,
}

impl Adjuster<'_> {
    /// [`Engine::apply`] between two orders of a run: the movement goes through the same
    /// stock path, and its change of ATP is written down for the plans made ahead. A pair
    /// the inventory does not list is refused here (adding one lays the stock out anew,
    /// which waits until no pipeline runs).
    pub fn apply(
        &mut self,
        movement: &crate::Movement,
    ) -> Result<crate::StockFigures, crate::MovementError> {
        let stock = self.engine.stock();
        let unknown = || crate::MovementError::UnknownLocation {
            location: movement.location.clone(),
        };
        let location = self
            .engine
            .network()
            .location_index(&movement.location)
            .ok_or_else(unknown)?;
        let slot = stock
            .slot_of(location as u32, &movement.sku)
            .ok_or_else(unknown)?;
        let (count, change) = movement.count_change();
        let (done, figures) = stock
            .change(slot, count, change)
            .map_err(|e| movement.error(e))?;
        self.journal
            .slot_changed(&stock, slot, done.before, done.after);
        Ok(figures)
    }

    /// [`crate::Stock::adjust`]: adds (or removes) units of a listed (location, SKU) pair.
    pub fn adjust(
        &mut self,
        location: usize,
        sku: &str,
        delta: i64,
    ) -> Result<crate::stock::Adjusted, crate::stock::AdjustError> {
        let stock = self.engine.stock();
        let slot = stock
            .sku_id(sku)
            .and_then(|s| stock.slot(location as u32, s))
            .ok_or(crate::stock::AdjustError::Unlisted)?;
        let done = stock.adjust(location, sku, delta)?;
        self.journal
            .slot_changed(&stock, slot, done.before, done.after);
        Ok(done)
    }

    /// Lowers the shipments `location` can still send on `day` (days since 1970-01-01) to
    /// at most `left`, by counting shipments that never leave: a what-if's reduced
    /// capacity. Returns the shipments left after, or `None` for a location without a
    /// daily capacity (which nothing here can limit).
    pub fn limit_capacity(&mut self, location: usize, day: i64, left: u32) -> Option<u32> {
        let capacity = &self.engine.stock().capacity;
        let l = u32::try_from(location).ok()?;
        let day = i32::try_from(day).ok()?;
        let before = capacity.left(l, day)?;
        let mut now = before;
        while now > left && capacity.add(&[l], day) {
            now = capacity.left(l, day)?;
        }
        self.journal.capacity_changed(l, day, before, now);
        Some(now)
    }
}

/// A plan made ahead of its turn.
struct Ahead {
    routed: Routed,
    considered: Vec<Considered>,
    /// Commits published when planning started.
    epoch: u64,
}

/// One slot's units before and after a change.
#[derive(Debug, Clone, Copy)]
struct SlotChange {
    seq: u64,
    slot: u32,
    before: u64,
    after: u64,
}

/// A change a plan can tell of one location's shipments left on a day.
#[derive(Debug, Clone, Copy)]
struct CapacityChange {
    seq: u64,
    location: u32,
    day: i32,
    /// Whether the location turned full or not full (all the built-in search can tell).
    flips: bool,
}

/// The changes made since the oldest plan still waiting for its turn.
#[derive(Debug, Default)]
struct Journal {
    /// Commits so far.
    seq: u64,
    /// Changes per SKU id, oldest first.
    slots: FxHashMap<u32, Vec<SlotChange>>,
    capacity: Vec<CapacityChange>,
    /// Whether exact values matter (rules in force), not only the built-in's thresholds.
    exact: bool,
    /// Whether plans made ahead may be waiting (else nothing needs writing down).
    ahead: bool,
}

impl Journal {
    fn slot_changed(&mut self, stock: &crate::stock::Stock, slot: u32, before: u64, after: u64) {
        if before == after || !self.ahead {
            return;
        }
        if let Some(sku) = stock.slot_sku(slot) {
            self.slots.entry(sku).or_default().push(SlotChange {
                seq: self.seq,
                slot,
                before,
                after,
            });
        }
    }

    /// Writes down a change of a location's shipments left on a day, if a plan can tell:
    /// under rules any change, for the built-in strategy only full against not full.
    fn capacity_changed(&mut self, location: u32, day: i32, before: u32, after: u32) {
        let flips = (before == 0) != (after == 0);
        let matters = self.ahead && if self.exact { before != after } else { flips };
        if matters {
            self.capacity.push(CapacityChange {
                seq: self.seq,
                location,
                day,
                flips,
            });
        }
    }

    /// Whether a plan of `order` (placed on `day`) started after `epoch` commits reads the
    /// same as a plan made now; `builtin` when only the built-in search read the stock
    /// (then only its thresholds matter, even under rules).
    fn unchanged(
        &self,
        engine: &Engine,
        order: &Order,
        day: i32,
        epoch: u64,
        plan: &Routed,
    ) -> bool {
        let exact = self.exact && !plan.builtin;
        if self.seq == epoch && self.slots.is_empty() && self.capacity.is_empty() {
            return true;
        }
        if let (true, Some(reads)) = (exact, &plan.reads) {
            return self.unread(reads, day, epoch);
        }
        let stock = engine.stock();
        // The order's demand per SKU id (orders have few lines: a scan beats a map).
        let mut demand: Vec<(u32, u64)> = Vec::with_capacity(order.lines.len());
        for line in &order.lines {
            if let Some(s) = stock.sku_id(&line.sku) {
                match demand.iter_mut().find(|d| d.0 == s) {
                    Some(d) => d.1 += u64::from(line.qty),
                    None => demand.push((s, u64::from(line.qty))),
                }
            }
        }
        for &(sku, total) in &demand {
            let Some(changes) = self.slots.get(&sku) else {
                continue;
            };
            let moved = changes
                .iter()
                .rev()
                .take_while(|c| c.seq >= epoch)
                .any(|c| {
                    if exact {
                        c.before != c.after
                    } else {
                        c.before.min(total) != c.after.min(total)
                    }
                });
            if moved {
                return false;
            }
        }
        if self.capacity.is_empty() {
            return true;
        }
        let pickup = order.pickup_index(engine.network());
        !self
            .capacity
            .iter()
            .rev()
            .take_while(|c| c.seq >= epoch)
            .filter(|c| c.day == day && (exact || c.flips))
            .any(|c| {
                Some(c.location) == pickup
                    || demand
                        .iter()
                        .any(|&(sku, _)| stock.slot(c.location, sku).is_some())
            })
    }

    /// Whether nothing a plan under rules read (`reads`) changed since `epoch`: its
    /// search, a function of what it read, would make the same plan now.
    fn unread(&self, reads: &Reads, day: i32, epoch: u64) -> bool {
        let slot_moved = reads.slots.iter().any(|&(sku, slot, up_to)| {
            self.slots.get(&sku).is_some_and(|changes| {
                changes
                    .iter()
                    .rev()
                    .take_while(|c| c.seq >= epoch)
                    .any(|c| c.slot == slot && c.before.min(up_to) != c.after.min(up_to))
            })
        });
        if slot_moved {
            return false;
        }
        let floor_crossed = reads.floors.iter().any(|&(sku, slot, floor)| {
            self.slots.get(&sku).is_some_and(|changes| {
                changes
                    .iter()
                    .rev()
                    .take_while(|c| c.seq >= epoch)
                    .any(|c| c.slot == slot && (c.before < floor) != (c.after < floor))
            })
        });
        if floor_crossed {
            return false;
        }
        !self
            .capacity
            .iter()
            .rev()
            .take_while(|c| c.seq >= epoch)
            .any(|c| {
                c.day == day
                    && reads
                        .locations
                        .iter()
                        .any(|&(l, exact)| l == c.location && (exact || c.flips))
            })
    }

    /// Forgets changes that no waiting plan can have missed (made before `oldest`).
    fn forget_before(&mut self, oldest: u64) {
        self.slots.retain(|_, list| {
            list.retain(|c| c.seq >= oldest);
            !list.is_empty()
        });
        self.capacity.retain(|c| c.seq >= oldest);
    }
}

impl<'e> Pipeline<'e> {
    /// A pipeline over an engine, routing with the rules in force when [`Pipeline::run`]
    /// starts.
    pub fn new(engine: &'e Engine) -> Pipeline<'e> {
        Pipeline {
            engine,
            explain: false,
            window: None,
        }
    }

    /// Collects an explanation for each decision (as [`Engine::route_explained`]).
    pub fn explain(mut self, on: bool) -> Pipeline<'e> {
        self.explain = on;
        self
    }

    /// Orders planned ahead at a time (at least 1); by default 128 per thread. The
    /// decisions do not depend on it.
    pub fn window(mut self, orders: usize) -> Pipeline<'e> {
        self.window = Some(orders.max(1));
        self
    }

    /// Routes `orders` in the given order. Before each order's units are taken,
    /// `before(order, adjuster)` may change the stock (events due by then); then
    /// `each(order, decision, explanation)` receives its decision. An error from `each`
    /// stops the run (orders already committed keep their units).
    pub fn run<T, E>(
        &self,
        orders: impl IntoIterator<Item = T>,
        mut before: impl FnMut(&Order, &mut Adjuster<'_>),
        mut each: impl FnMut(T, Decision, Option<Explain>) -> Result<(), E>,
    ) -> Result<PipelineStats, E>
    where
        T: Borrow<Order> + Sync,
    {
        let engine = self.engine;
        let in_force = engine.in_force();
        let rules = in_force.rules.clone();
        let ruleset = in_force.info.hash;
        let published = AtomicU64::new(0);
        let planner = Planner {
            engine,
            rules: rules.as_deref(),
            explain: self.explain,
            published: &published,
        };
        let mut committer = Committer {
            planner,
            journal: Journal {
                exact: rules.is_some(),
                ahead: rayon::current_num_threads() > 1,
                ..Journal::default()
            },
            stats: PipelineStats::default(),
        };
        let threads = rayon::current_num_threads();
        let mut orders = orders.into_iter();
        if threads <= 1 {
            // Nothing to plan ahead with: route one order after the other.
            for order in orders {
                let (mut decision, why) = committer.commit(order.borrow(), None, &mut before);
                decision.ruleset = ruleset;
                each(order, decision, why)?;
            }
            return Ok(committer.stats);
        }
        let window = self.window.unwrap_or(WINDOW_PER_THREAD * threads);
        // The committing thread plans too once its commits are done, so one helper fewer
        // than threads keeps every core busy without crowding them.
        let helpers = threads - 1;
        let mut current: Vec<T> = orders.by_ref().take(window).collect();
        let board = Board::new(&current);
        rayon::in_place_scope(|scope| {
            for _ in 0..helpers {
                scope.spawn(|_| board.work(&planner));
            }
            board.work(&planner);
        });
        let mut plans = board.into_plans();
        // Windows left to commit without planning ahead, after most plans of a window
        // had to be redone (then planning ahead only costs; it is tried again later).
        let mut pause: u32 = 0;
        while !current.is_empty() {
            let next: Vec<T> = orders.by_ref().take(window).collect();
            let board = Board::new(&next);
            let plan_next = pause == 0;
            pause = pause.saturating_sub(1);
            let so_far = committer.stats;
            let result = rayon::in_place_scope(|scope| {
                if plan_next {
                    for _ in 0..helpers {
                        scope.spawn(|_| board.work(&planner));
                    }
                }
                for (order, ahead) in current.drain(..).zip(plans.drain(..)) {
                    let (mut decision, why) = committer.commit(order.borrow(), ahead, &mut before);
                    decision.ruleset = ruleset;
                    each(order, decision, why)?;
                }
                if plan_next {
                    board.work(&planner);
                }
                Ok(())
            });
            result?;
            let ahead = committer.stats.planned_ahead - so_far.planned_ahead;
            let again = committer.stats.replanned - so_far.replanned;
            if ahead > 0 && again * 2 > ahead {
                pause = PAUSE_WINDOWS;
            }
            let next_plans = board.into_plans();
            let oldest = next_plans.iter().flatten().map(|a| a.epoch).min();
            committer.journal.forget_before(oldest.unwrap_or(u64::MAX));
            current = next;
            plans = next_plans;
        }
        Ok(committer.stats)
    }
}

/// A window of orders to plan ahead, shared by the threads planning it: each takes the
/// next order not yet taken.
struct Board<'a, T> {
    orders: &'a [T],
    next: AtomicUsize,
    plans: Vec<OnceLock<Ahead>>,
}

impl<'a, T: Borrow<Order> + Sync> Board<'a, T> {
    fn new(orders: &'a [T]) -> Board<'a, T> {
        Board {
            orders,
            next: AtomicUsize::new(0),
            plans: orders.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    /// Plans orders of the window until none is left.
    fn work(&self, planner: &Planner<'_>) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let (Some(order), Some(slot)) = (self.orders.get(i), self.plans.get(i)) else {
                return;
            };
            // Each index is taken once, so the slot is empty.
            let _ = slot.set(planner.ahead(order.borrow()));
        }
    }

    /// The plans, by position (`None` for an order no thread planned: it is planned when
    /// committed).
    fn into_plans(self) -> Vec<Option<Ahead>> {
        self.plans.into_iter().map(OnceLock::into_inner).collect()
    }
}

/// Plans orders ahead: what planner threads share.
#[derive(Clone, Copy)]
struct Planner<'a> {
    engine: &'a Engine,
    rules: Option<&'a Rules>,
    explain: bool,
    published: &'a AtomicU64,
}

impl Planner<'_> {
    fn plan(&self, order: &Order) -> (Routed, Vec<Considered>) {
        if self.explain {
            let trace = Trace::default();
            let routed = self.engine.plan_with(self.rules, order, Some(&trace));
            (routed, trace.into_list())
        } else {
            (self.engine.plan_with(self.rules, order, None), Vec::new())
        }
    }

    fn ahead(&self, order: &Order) -> Ahead {
        // INVARIANT: the count is read before any stock, and published after the stock of
        // its commits was written: every change this plan may not have seen comes later.
        let epoch = self.published.load(Ordering::Acquire);
        let (routed, considered) = self.plan(order);
        Ahead {
            routed,
            considered,
            epoch,
        }
    }
}

/// The one thread that takes stock, in order.
struct Committer<'a> {
    planner: Planner<'a>,
    journal: Journal,
    stats: PipelineStats,
}

impl Committer<'_> {
    /// Takes an order's units with its plan made ahead if that is still valid, else with
    /// a plan made now; writes down what changed.
    fn commit(
        &mut self,
        order: &Order,
        ahead: Option<Ahead>,
        before: &mut impl FnMut(&Order, &mut Adjuster<'_>),
    ) -> (Decision, Option<Explain>) {
        let engine = self.planner.engine;
        before(
            order,
            &mut Adjuster {
                engine,
                journal: &mut self.journal,
            },
        );
        let day = day_of(order.placed_at.as_deref());
        let fresh = match ahead {
            Some(a) => {
                self.stats.planned_ahead += 1;
                if self
                    .journal
                    .unchanged(engine, order, day, a.epoch, &a.routed)
                {
                    Some((a.routed, a.considered))
                } else {
                    self.stats.replanned += 1;
                    None
                }
            }
            None => None,
        };
        let (mut routed, mut considered) = match fresh {
            Some(plan) => plan,
            None => self.planner.plan(order),
        };
        let stock = engine.stock();
        loop {
            let locations = engine.shipping_locations(&routed);
            // What the journal needs from before the take; nothing when no plan waits.
            let (left, units): (Vec<Option<u32>>, Vec<u64>) = if self.journal.ahead {
                (
                    locations
                        .iter()
                        .map(|&l| stock.capacity.left(l, day))
                        .collect(),
                    routed
                        .takes
                        .iter()
                        .map(|&(slot, _)| stock.slot_atp(slot))
                        .collect(),
                )
            } else {
                (Vec::new(), Vec::new())
            };
            // INVARIANT: a failed take changes nothing; it fails only if something outside
            // the pipeline took stock or capacity, and then the order is planned again
            // against what is left, as `Engine::route` does.
            if engine.take_planned(&routed, &locations, day) {
                for (&l, was) in locations.iter().zip(&left) {
                    if let (Some(was), Some(now)) = (was, stock.capacity.left(l, day)) {
                        self.journal.capacity_changed(l, day, *was, now);
                    }
                }
                let mut seen: Vec<u32> = Vec::with_capacity(units.len());
                for (&(slot, _), &was) in routed.takes.iter().zip(&units) {
                    if !seen.contains(&slot) {
                        seen.push(slot);
                        let now = stock.slot_atp(slot);
                        self.journal.slot_changed(&stock, slot, was, now);
                    }
                }
                break;
            }
            (routed, considered) = self.planner.plan(order);
        }
        self.journal.seq += 1;
        self.planner
            .published
            .store(self.journal.seq, Ordering::Release);
        self.stats.orders += 1;
        if self.planner.explain {
            let (decision, why) = explained(self.planner.rules, routed, considered);
            (decision, Some(why))
        } else {
            (routed.decision, None)
        }
    }
}

#[cfg(test)]
mod tests;
