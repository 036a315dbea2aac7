//! One strategy, run for the units of an order that are still open.
//!
//! In: a compiled strategy, the order, the units still open per line, and the units earlier
//! strategies of the same order already planned (so two strategies never count the same
//! stock). Out: the shipments it plans and, for each line it could not fill, why.
//!
//! The stages: candidates (the union of the strategy's sets, holders of the open SKUs
//! only), exclusions (per location, then per line), the objective (score or rank key,
//! turned into a fixed part and a part per kg for every service a candidate may use),
//! then the branch and bound of [`crate::alloc`] under the split policy — tier by tier when
//! the strategy prefers some locations.

use super::bound::ObjectiveBound;
use super::expr::{OrderFacts, Scope, Terms, Val};
use super::{CompiledStrategy, Rules};
use crate::alloc::exact::search_within;
use crate::alloc::{Candidate, Limits, OptionTies, Plan, Shape, SkuDemand, COST_EPS};
use crate::cost::{LocationOffer, ShipOption};
use crate::index::ObjectiveScale;
use crate::model::decision::UnsourcedReason;
use crate::model::network::{LocationKind, Network};
use crate::plan::cut::drop_broken_kits;
use crate::plan::Planned;
use crate::stock::Stock;
use rustc_hash::{FxHashMap, FxHashSet};
use sourcing_dsl::ir::{self, Criterion, ExprKind, Fact, PromisePolicy, Term};

/// A holder in a fill: its class (the leading priority key) and its location.
type Holder = (f64, u32);

/// What one strategy did with the open units.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepResult {
    pub shipments: Vec<Planned>,
    /// For each line left (partly) open: why.
    pub reasons: FxHashMap<usize, UnsourcedReason>,
    pub nodes: u64,
    pub truncated: bool,
}

/// The order-wide inputs of a strategy step.
pub(crate) struct Step<'a> {
    pub rules: &'a Rules,
    pub network: &'a Network,
    pub stock: &'a Stock,
    /// The order's capacity day.
    pub day: i32,
    pub ranks: &'a [u32],
    /// The router's tables: distance costs and the floor of a shipment's cost, for bounds.
    pub tables: &'a crate::router::RouterTables,
    pub facts: &'a OrderFacts<'a>,
    /// Units per stock slot already planned by earlier strategies of this order.
    pub planned: &'a FxHashMap<u32, u64>,
    /// Kits and packs of the order, when it has any.
    pub shape: Option<&'a Shape>,
    /// What the step reads of the stock, written down as it reads.
    pub reads: &'a std::cell::RefCell<crate::plan::Reads>,
    /// Per SKU id, the most units any line of it needs at a location of each kind to pass
    /// the exclusions that fall with the stock ([`Step::unit_floors`]): beyond that, and
    /// beyond the order's units, a count cannot change the plan.
    pub read_floors: std::cell::RefCell<Vec<(u32, [u64; crate::index::KINDS])>>,
    /// Search nodes the order has spent so far, over every search of every strategy: all
    /// draw on one budget ([`super::ORDER_BUDGET`]).
    pub spent: &'a std::cell::Cell<u64>,
    /// Where candidates go when an explanation is being collected.
    pub trace: Option<&'a crate::explain::Trace>,
}

/// How many times the bounded search widens the holders in hand when the split limit leaves
/// no plan among them (each time by as many again), before it scans every holder.
const MAX_WIDEN: u32 = 3;

/// Every location a bounded search looked at, by index: its candidate, or `None` when it
/// is none.
type Looked = FxHashMap<u32, Option<Cand>>;

/// Above this many units, the fewest a holder needs ([`Step::unit_floors`]) is not looked
/// for further.
const FLOOR_CAP: u64 = 64;

/// A walk over one SKU's holders that writes down, when it ends however it ends, the slots
/// it passed by for holding too few units (see [`crate::index::Cursor::with_floor`]): a
/// plan depends on their staying short.
struct Walk<'c> {
    cursor: crate::index::Cursor<'c>,
    sku: u32,
    reads: &'c std::cell::RefCell<crate::plan::Reads>,
}

impl<'c> std::ops::Deref for Walk<'c> {
    type Target = crate::index::Cursor<'c>;
    fn deref(&self) -> &Self::Target {
        &self.cursor
    }
}

impl std::ops::DerefMut for Walk<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.cursor
    }
}

impl Drop for Walk<'_> {
    fn drop(&mut self) {
        let passed = self.cursor.passed();
        if !passed.is_empty() {
            let sku = self.sku;
            self.reads
                .borrow_mut()
                .floors
                .extend(passed.iter().map(|&(slot, floor)| (sku, slot, floor)));
        }
    }
}

/// Orders of more SKUs than this check dominance member by member.
const DOMINANCE_SKUS: usize = 8;

/// For the bounded search's dominance test: per set of SKU positions (a bit mask), the
/// least fixed part of a member holding every open unit of each, at the least rate per kg.
/// A holder with units of exactly those SKUs is beaten in every way by that member when its
/// bound is above it (see `dominated` in [`Step::run_bounded`]). Members are counted as they
/// are looked at, so a test costs one look-up however many are in hand.
struct Dominance {
    least: Vec<f64>,
    /// Locations of `looked` counted so far.
    counted: usize,
}

impl Dominance {
    fn new(skus: usize) -> Dominance {
        let size = if skus <= DOMINANCE_SKUS { 1 << skus } else { 0 };
        Dominance {
            least: vec![f64::INFINITY; size],
            counted: 0,
        }
    }

    /// The least fixed part of a member that holds every open unit of each SKU of `held`
    /// (a mask of SKU positions), after counting the members looked at since the last
    /// call; `None` when the order has too many SKUs for a table.
    fn least(
        &mut self,
        looked: &[u32],
        seen: &Looked,
        member: &dyn Fn(&Cand) -> bool,
        left: &[SkuDemand],
        rate: f64,
        held: usize,
    ) -> Option<f64> {
        if self.least.is_empty() {
            return None;
        }
        for loc in looked.get(self.counted..).unwrap_or(&[]) {
            let Some(Some(m)) = seen.get(loc) else {
                continue;
            };
            if !member(m) || m.max_per_kg > rate {
                continue;
            }
            let mut covers = 0usize;
            for (k, d) in left.iter().enumerate() {
                if m.atp.get(k).is_none_or(|&have| have >= d.total()) {
                    covers |= 1 << k;
                }
            }
            // Every subset of what it covers.
            let mut sub = covers;
            loop {
                if let Some(x) = self.least.get_mut(sub) {
                    *x = x.min(m.min_fixed);
                }
                if sub == 0 {
                    break;
                }
                sub = (sub - 1) & covers;
            }
        }
        self.counted = looked.len();
        Some(self.least.get(held).copied().unwrap_or(f64::INFINITY))
    }
}

/// What a scan of the holders found about the lines it leaves open.
struct OpenWhy<'a> {
    /// Per line, the first exclusion its holders met, in location order.
    dropped: &'a [Option<String>],
    /// Per line, what the cut noted (kits apart, packs).
    shape_reason: &'a [Option<UnsourcedReason>],
    /// Per line, whether a location in the candidate sets holds its SKU.
    held_in_set: &'a [bool],
    /// Per SKU position, the units the candidates hold in all.
    held: &'a [u64],
    /// Whether a shipment limit or whole lines bound the plan.
    limited: bool,
}

impl OpenWhy<'_> {
    /// Why `qty` units of `line` (SKU position `k`) stay open.
    fn of(&self, line: usize, k: usize, qty: u64) -> UnsourcedReason {
        if let Some(Some(r)) = self.dropped.get(line) {
            return UnsourcedReason::excluded(r);
        }
        if let Some(Some(r)) = self.shape_reason.get(line) {
            return r.clone();
        }
        match self.held_in_set.get(line) {
            Some(true) if self.limited && self.held.get(k).is_some_and(|&h| h >= qty) => {
                UnsourcedReason::SplitLimit
            }
            Some(true) => UnsourcedReason::InsufficientStock,
            _ => UnsourcedReason::NoStock,
        }
    }
}

/// A candidate with what the objective needs beyond the allocator's view.
struct Cand {
    location: u32,
    distance_km: f64,
    /// Which preference tier it is in (`prefer.len()` for none).
    tier: usize,
    /// Units it may ship per SKU demand, after per-line exclusions.
    atp: Vec<u64>,
    /// Options in objective units, with the original options beside them.
    options: Vec<(ShipOption, ShipOption)>,
    /// Per option, the (fixed, per kg) values of the strategy's later rank keys.
    ties: Vec<Vec<(f64, f64)>>,
    /// The least objective fixed part of its options, and the largest part per kg of
    /// those options no other of its options beats at every weight.
    min_fixed: f64,
    max_per_kg: f64,
    /// Its values of the `fill by` keys (negated when descending); empty without a fill.
    fill: Vec<f64>,
}

impl Step<'_> {
    fn scope(&self) -> Scope<'_> {
        self.rules.order_scope(self.facts)
    }

    /// Runs strategy `s` on the open units (`open[line]`): the bounded search when the
    /// objective has a bound for this order and it places every open unit, otherwise the
    /// full scan of every holder (which also says why units stay open). With the result:
    /// `None` when the bounded search decided, or why the full scan ran.
    pub fn run(&self, s: &CompiledStrategy, open: &[u64]) -> (StepResult, Option<String>) {
        if self.rules.full_scan_only {
            return (
                self.run_full(s, open),
                Some("every holder, by request".into()),
            );
        }
        if s.ir.objective.fill.is_some() {
            return match self.run_fill(s, open) {
                Ok(result) => (result, None),
                Err(why) => (self.run_full(s, open), Some(why)),
            };
        }
        let why = match self.rules.objective_bound(s, self.facts) {
            Ok(bound) => match self.run_bounded(s, open, bound) {
                Ok(result) => return (result, None),
                Err(why) => why,
            },
            Err(why) => why,
        };
        (self.run_full(s, open), Some(why))
    }

    /// Runs strategy `s` on the open units looking at every holder of their SKUs.
    fn run_full(&self, s: &CompiledStrategy, open: &[u64]) -> StepResult {
        let order = self.facts.order;
        let strategy = &s.ir;
        let mut result = StepResult::default();
        let mut demand = self.demand(open, &mut result.reasons);
        // All or nothing: a line nobody stocks keeps every other line open too.
        let unknown_sku = !result.reasons.is_empty();
        if demand.is_empty() {
            return result;
        }
        if let Some(shape) = self.shape {
            // Kits with a line nobody stocks cannot ship whole.
            let unknown: Vec<usize> = result.reasons.keys().copied().collect();
            let broken = drop_broken_kits(&mut demand, shape, unknown.into_iter());
            for (line, _) in broken {
                result.reasons.insert(line, UnsourcedReason::GroupSplit);
            }
            if demand.is_empty() {
                return result;
            }
        }

        let pickup = self.pickup();
        // Why each line's holders were dropped, first reason first.
        let mut dropped: Vec<Option<String>> = vec![None; order.lines.len()];
        let mut held_in_set = vec![false; order.lines.len()];
        // Every holder's stock of every open SKU, read SKU by SKU (each SKU's slots lie
        // together), then visited in location order so reasons do not depend on hashing.
        // A holder outside the candidate sets, told by the location's and the order's facts
        // alone, is none (what `candidate` would find first, without its work): its stock is
        // neither read nor sorted. Asked once per location (0: not yet, 1: may be, 2: not).
        let mut member = vec![0u8; self.network.locations.len()];
        let mut rows: Vec<(u32, u32, u64)> = Vec::new();
        {
            let mut reads = self.reads.borrow_mut();
            for (k, d) in demand.iter().enumerate() {
                for slot in self.stock.slots_of(d.sku) {
                    let loc = self.stock.slot_location(slot);
                    let Some(known) = member.get_mut(loc as usize) else {
                        continue;
                    };
                    if *known == 0 {
                        *known = if self.may_be_candidate(s, loc, pickup) {
                            1
                        } else {
                            2
                        };
                    }
                    if *known != 1 {
                        continue;
                    }
                    reads
                        .slots
                        .push((d.sku, slot, self.read_up_to(s, slot, d.sku)));
                    let mut units = self.stock.slot_atp(slot);
                    if !self.planned.is_empty() {
                        units = units.saturating_sub(self.planned.get(&slot).copied().unwrap_or(0));
                    }
                    rows.push((loc, k as u32, units));
                }
            }
        }
        rows.sort_unstable_by_key(|&(loc, k, _)| (loc, k));
        let mut cands: Vec<Cand> = Vec::new();
        for group in rows.chunk_by(|a, b| a.0 == b.0) {
            let Some(&(loc, _, _)) = group.first() else {
                continue;
            };
            let mut raw_atp = vec![0; demand.len()];
            for &(_, k, units) in group {
                if let Some(a) = raw_atp.get_mut(k as usize) {
                    *a = units;
                }
            }
            let found = self.candidate_in_sets(
                s,
                loc,
                raw_atp,
                pickup,
                &demand,
                &mut dropped,
                &mut held_in_set,
            );
            if let Some(c) = found {
                cands.push(c);
            }
        }

        // Tier by tier: what the preferred locations can place, they place.
        let tiers = strategy.prefer.len();
        let limits = limits_of(s, self.shape);
        // Why a line was cut before the search: kits apart, units not in whole packs.
        let mut shape_reason: Vec<Option<UnsourcedReason>> = vec![None; order.lines.len()];
        let mut left: Vec<SkuDemand> = demand.clone();
        let mut used: FxHashSet<u32> = FxHashSet::default();
        for tier in 0..=tiers {
            if left.iter().all(|d| d.total() == 0) {
                break;
            }
            let pool: Vec<&Cand> = cands
                .iter()
                .filter(|c| c.tier <= tier && !used.contains(&c.location))
                .collect();
            let room = limits.max_shipments.saturating_sub(result.shipments.len());
            if room == 0 {
                break;
            }
            let tier_limits = Limits {
                max_shipments: room,
                ..limits
            };
            if strategy.objective.fill.is_some() {
                self.fill(s, &pool, limits, &mut left, &mut used, &mut result);
                continue;
            }
            // Place as many units as this tier holds: cut the demand to its stock.
            let placeable = cut(&left, &pool, tier_limits, &mut shape_reason);
            if placeable.iter().all(|d| d.total() == 0) {
                continue;
            }
            let mut found = self.best_plan(s, &placeable, &pool, tier_limits, &mut result);
            if found.is_none() && tier_limits.max_shipments < pool.len() {
                // The shipment limit leaves some units unplaceable: the `room` locations that
                // can supply the most units (then the cheapest) place what they hold.
                let mut best: Vec<&Cand> = pool.clone();
                let supply = |c: &Cand| -> u64 {
                    placeable
                        .iter()
                        .zip(&c.atp)
                        .map(|(d, &a)| a.min(d.total()))
                        .sum()
                };
                let floor = |c: &Cand| {
                    c.options
                        .iter()
                        .map(|o| o.0.fixed)
                        .fold(f64::INFINITY, f64::min)
                };
                best.sort_by(|a, b| {
                    supply(b)
                        .cmp(&supply(a))
                        .then(floor(a).total_cmp(&floor(b)))
                });
                best.truncate(tier_limits.max_shipments);
                let reduced = cut(&placeable, &best, tier_limits, &mut shape_reason);
                found = self.best_plan(s, &reduced, &best, tier_limits, &mut result);
            }
            let Some((plan, pool_cands)) = found else {
                continue;
            };
            place(&plan, &pool_cands, &pool, &mut used, &mut left, &mut result);
        }

        // Units the candidates hold of each SKU: a line they could cover that is still
        // open was kept out by the shipment limit.
        let held: Vec<u64> = (0..demand.len())
            .map(|k| {
                cands
                    .iter()
                    .map(|c| c.atp.get(k).copied().unwrap_or(0))
                    .sum()
            })
            .collect();
        let why = OpenWhy {
            dropped: &dropped,
            shape_reason: &shape_reason,
            held_in_set: &held_in_set,
            held: &held,
            limited: limits.max_shipments != usize::MAX || limits.lines_whole,
        };
        let reason_of = |line: usize, k: usize, qty: u64| why.of(line, k, qty);
        if strategy.all_or_nothing && (unknown_sku || left.iter().any(|d| d.total() > 0)) {
            // Nothing is placed: each short line says why, the others that they were held
            // back with the order.
            result.shipments.clear();
            for (k, d) in demand.iter().enumerate() {
                for &(line, qty, _) in &d.lines {
                    let short = left
                        .get(k)
                        .is_some_and(|l| l.lines.iter().any(|x| x.0 == line));
                    let reason = if short {
                        reason_of(line, k, qty)
                    } else {
                        UnsourcedReason::AllOrNothing
                    };
                    result.reasons.insert(line, reason);
                }
            }
            return result;
        }
        for (k, d) in left.iter().enumerate() {
            for &(line, qty, _) in &d.lines {
                let reason = reason_of(line, k, qty);
                result.reasons.insert(line, reason);
            }
        }
        result
    }

    /// The open units per known SKU, lines heaviest first; a line of a SKU no location
    /// lists is noted `no_stock` in `reasons`.
    fn demand(
        &self,
        open: &[u64],
        reasons: &mut FxHashMap<usize, UnsourcedReason>,
    ) -> Vec<SkuDemand> {
        let (demand, unknown) = crate::alloc::demand_of(self.stock, self.facts.order, |i| {
            open.get(i).copied().filter(|&q| q > 0)
        });
        for line in unknown {
            reasons.insert(line, UnsourcedReason::NoStock);
        }
        demand
    }

    /// The pickup store of a pickup order, by index (the core's answer; an order whose
    /// pickup location is not a store never reaches a strategy).
    fn pickup(&self) -> Option<u32> {
        crate::plan::pickup_store(self.network, self.facts.order)
            .ok()
            .flatten()
    }

    /// Up to how many units a slot's count matters to strategy `s`: every unit when its
    /// rules read `atp` or `stock_cover` for the kind of location of the slot, else the
    /// order's units twice (what it asks, plus what its earlier strategies planned there),
    /// beyond which a plan cannot tell.
    fn read_up_to(&self, s: &CompiledStrategy, slot: u32, sku: u32) -> u64 {
        let kind = self
            .network
            .locations
            .get(self.stock.slot_location(slot) as usize)
            .map_or(0, |l| usize::from(crate::index::kind_number(l.kind)));
        let exact = s.exact_reads.0.get(kind).copied().unwrap_or(true);
        let floored = s.floored_reads.get(kind).copied().unwrap_or(false);
        // Exclusions that fall with the stock drop a line below a floor and never above:
        // the count matters up to the highest floor.
        let floor = if exact && floored {
            self.read_floors
                .borrow()
                .iter()
                .find(|(id, _)| *id == sku)
                .and_then(|(_, f)| f.get(kind).copied())
                .filter(|&f| f < FLOOR_CAP)
        } else {
            None
        };
        if exact && floor.is_none() {
            return u64::MAX;
        }
        let units: u64 = self
            .facts
            .order
            .lines
            .iter()
            .map(|l| u64::from(l.qty))
            .sum();
        let demand = units.saturating_mul(2);
        floor.map_or(demand, |f| f.max(demand))
    }

    /// Units of `slot` (of the SKU of `d`) that earlier strategies of the order left,
    /// written down as read.
    fn slot_units(&self, s: &CompiledStrategy, slot: u32, d: Option<&SkuDemand>) -> u64 {
        let Some(d) = d else { return 0 };
        self.reads
            .borrow_mut()
            .slots
            .push((d.sku, slot, self.read_up_to(s, slot, d.sku)));
        let units = self.stock.slot_atp(slot);
        match self.planned.get(&slot) {
            Some(p) => units.saturating_sub(*p),
            None => units,
        }
    }

    /// Units of each demanded SKU at `loc` that earlier strategies of the order left.
    fn holding(&self, s: &CompiledStrategy, loc: u32, demand: &[SkuDemand]) -> Vec<u64> {
        demand
            .iter()
            .map(|d| match self.stock.slot(loc, d.sku) {
                Some(slot) => {
                    let up_to = self.read_up_to(s, slot, d.sku);
                    self.reads.borrow_mut().slots.push((d.sku, slot, up_to));
                    let units = self.stock.slot_atp(slot);
                    match self.planned.get(&slot) {
                        Some(p) => units.saturating_sub(*p),
                        None => units,
                    }
                }
                None => 0,
            })
            .collect()
    }

    /// What `loc` holds of each demanded SKU, as [`Step::holding`], with the slots read,
    /// not yet written down: the caller writes them down by how much of the counts it used
    /// ([`Step::write_reads`]). `known`: the SKU position and slot the walk came by, which
    /// needs no lookup.
    fn peek_holding(
        &self,
        loc: u32,
        demand: &[SkuDemand],
        known: (usize, u32),
    ) -> (Vec<u64>, Vec<Option<u32>>) {
        let slots: Vec<Option<u32>> = demand
            .iter()
            .enumerate()
            .map(|(k, d)| {
                if k == known.0 {
                    Some(known.1)
                } else {
                    self.stock.slot(loc, d.sku)
                }
            })
            .collect();
        let raw = slots
            .iter()
            .map(|slot| match slot {
                Some(slot) => {
                    let units = self.stock.slot_atp(*slot);
                    match self.planned.get(slot) {
                        Some(p) => units.saturating_sub(*p),
                        None => units,
                    }
                }
                None => 0,
            })
            .collect();
        (raw, slots)
    }

    /// Writes down the slots of a holder read by [`Step::peek_holding`]: every count up to
    /// what strategy `s` can tell (`full`), or only whether any unit is left (a holder one
    /// in hand beats is skipped on that alone).
    fn write_reads(
        &self,
        s: &CompiledStrategy,
        demand: &[SkuDemand],
        slots: &[Option<u32>],
        full: bool,
    ) {
        let mut reads = self.reads.borrow_mut();
        for (d, slot) in demand.iter().zip(slots) {
            let Some(slot) = *slot else { continue };
            let read = if full {
                self.read_up_to(s, slot, d.sku)
            } else {
                // Whether anything is left after what earlier strategies planned there.
                self.planned
                    .get(&slot)
                    .copied()
                    .unwrap_or(0)
                    .saturating_add(1)
            };
            reads.slots.push((d.sku, slot, read));
        }
    }

    /// For each SKU of `demand`, the fewest units a holder of each kind (as the holder trees
    /// number them) needs for the strategy's exclusions to let it ship any line of that SKU,
    /// told by the exclusions per line that read nothing of the location (typically
    /// `atp - line.qty < keep`): every count from one unit up to the floor is tried, and
    /// each drops every line. A walk passes by holders below it without looking at them.
    ///
    /// The counts tried are not counts any holder has: a condition that fails on one of
    /// them (a division by zero) must not fail the order, so then there is no floor.
    fn unit_floors(
        &self,
        s: &CompiledStrategy,
        demand: &[SkuDemand],
    ) -> Vec<[u64; crate::index::KINDS]> {
        let blind: Vec<&ir::Exclusion> =
            s.ir.exclusions
                .iter()
                .filter(|e| {
                    let d = e.cond.deps;
                    e.per_line && !(d.location || d.pair || d.shipment || d.plan || d.script)
                })
                .collect();
        let mut out = vec![[0; crate::index::KINDS]; demand.len()];
        if blind.is_empty() {
            return out;
        }
        let base = self.scope();
        let failed_before = self.facts.failure.borrow().is_some();
        let mut highest: Vec<(u32, [u64; crate::index::KINDS])> = Vec::with_capacity(demand.len());
        for (floor, d) in out.iter_mut().zip(demand) {
            if d.lines.is_empty() {
                continue;
            }
            let mut most = [0; crate::index::KINDS];
            for ((kind, at), most) in floor.iter_mut().enumerate().zip(&mut most) {
                let applies: Vec<&ir::Exclusion> = blind
                    .iter()
                    .copied()
                    .filter(|e| {
                        e.applies_to
                            .is_none_or(|k| super::bound::kind_index(k) == kind)
                    })
                    .collect();
                if applies.is_empty() {
                    continue;
                }
                let mut least = u64::MAX;
                for &(line, qty, _) in &d.lines {
                    let Some(ol) = self.facts.order.lines.get(line) else {
                        least = 0;
                        *most = FLOOR_CAP;
                        break;
                    };
                    let drops = |units: u64| {
                        let a = units as f64;
                        let scope = Scope {
                            line: Some((line, ol)),
                            terms: Terms {
                                atp: a,
                                stock_cover: a / qty.max(1) as f64,
                                ..Terms::default()
                            },
                            ..base
                        };
                        applies
                            .iter()
                            .any(|e| !matches!(scope.eval(&e.cond), Val::Bool(false)))
                    };
                    let mut units = 1;
                    while units < FLOOR_CAP && drops(units) {
                        units += 1;
                    }
                    least = least.min(units);
                    *most = (*most).max(units);
                }
                *at = least;
            }
            highest.push((d.sku, most));
        }
        if !failed_before && self.facts.failure.borrow_mut().take().is_some() {
            self.read_floors.borrow_mut().clear();
            return vec![[0; crate::index::KINDS]; demand.len()];
        }
        *self.read_floors.borrow_mut() = highest;
        out
    }

    /// For each SKU of `demand`, the kinds of location (as the holder trees number them)
    /// where an exclusion reading only the line, the order and location facts drops every
    /// line of that SKU at every location (hazardous goods, and no store equipped for
    /// them): a walk for that SKU leaves those kinds out. Told by one location of each
    /// distinct set of the facts the exclusion reads ([`CompiledStrategy::profiles`]); a
    /// condition that holds nothing for sure there (a failure, a missing value) closes
    /// nothing, and fails nothing.
    fn closed_kinds(
        &self,
        s: &CompiledStrategy,
        demand: &[SkuDemand],
    ) -> Vec<[bool; crate::index::KINDS]> {
        let mut out = vec![[false; crate::index::KINDS]; demand.len()];
        if s.profiles.iter().all(Option::is_none) {
            return out;
        }
        let base = self.scope();
        let failed_before = self.facts.failure.borrow().is_some();
        let operations = self.facts.operations_left.get();
        for (closed, d) in out.iter_mut().zip(demand) {
            if d.lines.is_empty() {
                continue;
            }
            for (kind, closed) in closed.iter_mut().enumerate() {
                *closed = d.lines.iter().all(|&(line, _, _)| {
                    let Some(ol) = self.facts.order.lines.get(line) else {
                        return false;
                    };
                    s.ir.exclusions
                        .iter()
                        .zip(&s.profiles)
                        .filter(|(x, _)| {
                            x.applies_to
                                .is_none_or(|k| super::bound::kind_index(k) == kind)
                        })
                        .any(|(x, profiles)| {
                            let Some(reps) = profiles.as_ref().and_then(|p| p.get(kind)) else {
                                return false;
                            };
                            !reps.is_empty()
                                && reps.iter().all(|&r| {
                                    let location = self.network.locations.get(r as usize);
                                    let scope = Scope {
                                        line: Some((line, ol)),
                                        location,
                                        ..base
                                    };
                                    location.is_some()
                                        && matches!(scope.eval(&x.cond), Val::Bool(true))
                                })
                        })
                });
            }
        }
        if !failed_before && self.facts.failure.borrow_mut().take().is_some() {
            self.facts.operations_left.set(operations);
            return vec![[false; crate::index::KINDS]; demand.len()];
        }
        out
    }

    /// The best score of one location shipping all of `target` (SKU positions as in
    /// `demand`): the members already looked at, then the holders of its rarest SKU
    /// nearest-bound first, until none left can beat the best (a single shipment carries the
    /// whole weight at the least rate per kg, times the objective's factor of cost).
    #[allow(clippy::too_many_arguments, reason = "the walk's state, passed in")]
    fn best_single<'c>(
        &self,
        (s, tier, per_cost, max_days, flat): (&CompiledStrategy, usize, f64, f64, Option<f64>),
        (target, demand): (&[SkuDemand], &[SkuDemand]),
        cursor: &dyn Fn(usize) -> Walk<'c>,
        member: &dyn Fn(&Cand) -> bool,
        seen: &mut Looked,
        look: &mut dyn FnMut(u32, Vec<u64>, &mut Looked),
    ) -> f64 {
        let weight: f64 = target.iter().map(SkuDemand::weight).sum();
        let holds_all = |c: &Cand| target.iter().zip(&c.atp).all(|(d, &a)| a >= d.total());
        let single = |c: &Cand| -> f64 {
            c.options
                .iter()
                .filter(|(_, o)| f64::from(o.days) <= max_days)
                .map(|(obj, _)| obj.cost(weight))
                .fold(f64::INFINITY, f64::min)
        };
        // With a flat objective (`flat`: its least value) the walk goes by distance, the
        // first tie-break: once a single location scores that least value, one farther
        // than it can only tie on the objective and lose on distance.
        let mut best = f64::INFINITY;
        let mut best_km = f64::INFINITY;
        let keep = |c: &Cand, best: &mut f64, best_km: &mut f64| {
            let score = single(c);
            if score < *best - 2.0 * COST_EPS {
                *best_km = c.distance_km;
            } else if score <= *best + 2.0 * COST_EPS {
                *best_km = best_km.min(c.distance_km);
            }
            *best = best.min(score);
        };
        for c in seen
            .values()
            .flatten()
            .filter(|c| member(c) && holds_all(c))
        {
            keep(c, &mut best, &mut best_km);
        }
        let rarest = (0..target.len())
            .filter(|&k| target.get(k).is_some_and(|d| d.total() > 0))
            .min_by_key(|&k| {
                let sku = demand.get(k).map_or(u32::MAX, |d| d.sku);
                (self.stock.holder_count(sku), k)
            });
        let Some(rarest) = rarest else {
            return best;
        };
        let carried = per_cost * self.tables.rate_floor * weight;
        let slot_locs = self.stock.slot_locations();
        let (units, handling) = (&self.stock.units, &self.stock.handling);
        let cutoff = |best: f64, best_km: f64| match flat {
            None => best + 2.0 * COST_EPS - carried,
            Some(least) if best <= least + 2.0 * COST_EPS => best_km + 2.0 * COST_EPS,
            Some(_) => f64::INFINITY,
        };
        let mut cur = cursor(rarest);
        while let Some((slot, _)) = cur.next(cutoff(best, best_km), units, slot_locs, handling) {
            let loc = self.stock.slot_location(slot);
            if seen.contains_key(&loc) {
                continue; // in hand, and counted above
            }
            // Only a holder of every unit can ship them alone: counted before it is looked
            // at as a candidate, this SKU's stock first (its slot is in hand).
            let short = target
                .get(rarest)
                .is_some_and(|d| self.slot_units(s, slot, demand.get(rarest)) < d.total());
            if short {
                continue;
            }
            let raw = self.holding(s, loc, demand);
            if target.iter().zip(&raw).any(|(d, &a)| a < d.total())
                || !self.may_serve(s, loc, tier, target, &raw, true, None)
            {
                continue;
            }
            look(loc, raw, seen);
            if let Some(Some(c)) = seen.get(&loc) {
                if member(c) && holds_all(c) {
                    keep(c, &mut best, &mut best_km);
                }
            }
        }
        best
    }

    /// Whether `loc` is in the candidate sets of `s`, when the location and the order's
    /// facts tell it at no risk: every set a table, or a filter that reads neither the
    /// pair's terms, the stock, the line nor a script and does no arithmetic (which could
    /// fail the order). `None` when only the candidate's terms can tell.
    fn in_candidates_early(
        &self,
        s: &CompiledStrategy,
        loc: u32,
        location: &crate::model::network::Location,
        pickup: Option<Option<u32>>,
    ) -> Option<bool> {
        if !s.sets_early || s.candidate_statics.iter().all(Option::is_some) {
            return None;
        }
        // The pickup store, looked up only when a set needs it.
        let pickup = pickup.unwrap_or_else(|| self.pickup());
        let base = self.scope();
        for (set, st) in s.ir.candidates.iter().zip(&s.candidate_statics) {
            let member = match st {
                Some(bits) => bits.get(loc as usize).copied().unwrap_or(false),
                None => self.rules.in_dynamic_set(set, loc, pickup, &base, location),
            };
            if member {
                return Some(true);
            }
        }
        Some(false)
    }

    /// Whether `loc` may be a member of tier `tier` that ships any open unit (`all`: every
    /// open unit; `only`: any of that SKU position), by what is cheap to know before it is
    /// looked at as a candidate: the sets that are tables, and the exclusions per line that
    /// read neither the shipment, the pair's terms nor a script.
    #[allow(clippy::too_many_arguments, reason = "one question, asked three ways")]
    fn may_serve(
        &self,
        s: &CompiledStrategy,
        loc: u32,
        tier: usize,
        left: &[SkuDemand],
        raw: &[u64],
        all: bool,
        only: Option<usize>,
    ) -> bool {
        let at = |statics: &[Option<Vec<bool>>]| -> Option<bool> {
            let mut any = false;
            for st in statics {
                match st {
                    Some(bits) => any |= bits.get(loc as usize).copied().unwrap_or(false),
                    None => return None,
                }
            }
            Some(any)
        };
        if at(&s.candidate_statics) == Some(false) {
            return false;
        }
        // Outside every preferred tier up to this one, and this is one of them.
        if tier < s.ir.prefer.len()
            && s.prefer_statics
                .iter()
                .take(tier + 1)
                .all(|t| at(t) == Some(false))
        {
            return false;
        }
        let Some(location) = self.network.locations.get(loc as usize) else {
            return false;
        };
        if self.in_candidates_early(s, loc, location, None) == Some(false) {
            return false;
        }
        let base = self.scope();
        let mut useful = false;
        'skus: for (k, d) in left.iter().enumerate() {
            if only.is_some_and(|j| j != k) {
                continue;
            }
            let units = raw.get(k).copied().unwrap_or(0);
            if d.total() == 0 {
                continue;
            }
            if units == 0 {
                if all {
                    return false;
                }
                continue;
            }
            let a = units as f64;
            for &(line, qty, _) in &d.lines {
                let Some(ol) = self.facts.order.lines.get(line) else {
                    continue;
                };
                let scope = Scope {
                    line: Some((line, ol)),
                    location: Some(location),
                    terms: Terms {
                        atp: a,
                        stock_cover: a / qty.max(1) as f64,
                        ..Terms::default()
                    },
                    ..base
                };
                for ex in s.ir.exclusions.iter().filter(|e| e.per_line) {
                    let d = ex.cond.deps;
                    if d.pair || d.shipment || d.plan || d.script {
                        continue;
                    }
                    if ex.applies_to.is_some_and(|kd| kd != kind_of(location.kind)) {
                        continue;
                    }
                    if !matches!(scope.eval(&ex.cond), Val::Bool(false)) {
                        if all {
                            return false;
                        }
                        continue 'skus;
                    }
                }
            }
            useful = true;
        }
        useful
    }

    /// The bounded search: holders are visited best-first by `bound`, tier by tier, and
    /// the walk stops when no holder left could be part of a plan as good as the best one
    /// in hand — the decision the full scan would make, with a fraction of the work. It
    /// proves only complete plans: when a unit stays open (the full scan then says why),
    /// for kits and packs, or when a search hits its work limit, it gives up and says why.
    fn run_bounded(
        &self,
        s: &CompiledStrategy,
        open: &[u64],
        bound: ObjectiveBound,
    ) -> Result<StepResult, String> {
        if self.shape.is_some() {
            return Err("the order has kits or packs".into());
        }
        let order = self.facts.order;
        let strategy = &s.ir;
        let mut result = StepResult::default();
        let demand = self.demand(open, &mut result.reasons);
        if !result.reasons.is_empty() {
            return Err("a SKU of the order is not in the network".into());
        }
        if demand.is_empty() {
            return Ok(result);
        }
        let pickup = self.pickup();
        // Holders read are written down one by one: room for a walk's worth at once.
        self.reads.borrow_mut().slots.reserve(64);
        let limits = limits_of(s, None);
        // The least any shipment scores: what a second shipment adds at the very least.
        // Ranked by days first: only a plan arriving as early as any shipment can is proved
        // best here (no plan can arrive earlier); the carriers take a day at least, the
        // pickup counter its store's processing days.
        let max_days = if super::bound::days_first(strategy) {
            let carrier = self.rules.ranges.processing_days.0 + 1.0;
            pickup
                .and_then(|p| self.network.locations.get(p as usize))
                .map_or(carrier, |l| carrier.min(f64::from(l.processing_days)))
        } else {
            f64::INFINITY
        };
        let floor = bound.at(self.tables.fixed_floor, 0.0);
        // The pickup counter pays its handling alone, and nothing per kg: it may score
        // below any carrier shipment, and the weight it hands out travels nowhere.
        let counter_floor = pickup
            .and_then(|p| self.network.locations.get(p as usize))
            .map_or(f64::INFINITY, |l| bound.at(l.handling_cost, 0.0));
        let other_floor = floor.min(counter_floor);
        if other_floor.is_nan() || other_floor < 0.0 {
            return Err("a shipment can score below zero".into());
        }
        // A carrier takes the fewest processing days and a day of transit at least, more
        // with the distance: beyond the fewest days the offset counts.
        let ranges = &self.rules.ranges;
        let kind_offset = self.rules.kind_offsets(s, self.facts, &bound);
        let min_processing = if ranges.processing_days.0.is_finite() {
            ranges.processing_days.0
        } else {
            0.0
        };
        let scale = |tier: usize| ObjectiveScale {
            per_cost: bound.per_cost,
            per_km: bound.per_km,
            offset: bound.offset,
            max_km: s.tier_max_km.get(tier).copied().unwrap_or(f64::INFINITY),
            per_day: bound.per_day,
            days_beyond: min_processing - ranges.days.0,
            fastest_km_per_day: ranges.fastest_km_per_day,
            kind_offset,
        };
        let dest = crate::geo::unit_vector(order.ship_to.lat, order.ship_to.lon);
        let floors = self.unit_floors(s, &demand);
        let closed = self.closed_kinds(s, &demand);
        // Every location looked at, by index: its candidate, or `None` when it is none.
        let mut seen: FxHashMap<u32, Option<Cand>> = FxHashMap::default();
        let mut dropped: Vec<Option<String>> = vec![None; order.lines.len()];
        let mut held_in_set = vec![false; order.lines.len()];
        // Looks at a holder as a candidate, once, with what it holds (`raw`, read by the
        // caller to decide whether to look).
        // The locations looked at, in the order they were: what the dominance table has
        // not counted yet is at the end.
        let looked = std::cell::RefCell::new(Vec::<u32>::new());
        let mut look = |loc: u32, raw: Vec<u64>, seen: &mut Looked| {
            if let std::collections::hash_map::Entry::Vacant(slot) = seen.entry(loc) {
                let c =
                    self.candidate(s, loc, raw, pickup, &demand, &mut dropped, &mut held_in_set);
                slot.insert(c);
                looked.borrow_mut().push(loc);
            }
        };
        let slot_locs = self.stock.slot_locations();
        let (units, handling) = (&self.stock.units, &self.stock.handling);
        let dc = &self.tables.distance_cost;
        let tiers = strategy.prefer.len();
        let mut shape_reason: Vec<Option<UnsourcedReason>> = vec![None; order.lines.len()];
        let mut left: Vec<SkuDemand> = demand.clone();
        let mut used: FxHashSet<u32> = FxHashSet::default();
        'tiers: for tier in 0..=tiers {
            if left.iter().all(|d| d.total() == 0) {
                break;
            }
            // What the tier plans for: every open unit; ranked by fewest shipments, once the
            // tier turns out to hold less, what it holds.
            let mut cut_to: Option<Vec<SkuDemand>> = None;
            'plan: loop {
                let want: &[SkuDemand] = cut_to.as_deref().unwrap_or(&left);
                let room = limits.max_shipments.saturating_sub(result.shipments.len());
                if room == 0 {
                    return Err("the shipment limit leaves units open".into());
                }
                let tier_limits = Limits {
                    max_shipments: room,
                    ..limits
                };
                let member = |c: &Cand| c.tier <= tier && !used.contains(&c.location);
                // The least a carrier shipment of the tier scores, by the kinds of location it
                // holds (the pickup store's too: it is in every tier by name), and the least any
                // of its shipments scores, the pickup counter's included.
                let (floor, other_floor) = {
                    let mut kinds = s
                        .tier_kinds
                        .get(tier)
                        .copied()
                        .unwrap_or(crate::index::ALL_KINDS);
                    if let Some(l) = pickup.and_then(|p| self.network.locations.get(p as usize)) {
                        if let Some(k) =
                            kinds.get_mut(usize::from(crate::index::kind_number(l.kind)))
                        {
                            *k = true;
                        }
                    }
                    let carrier = kinds
                        .iter()
                        .zip(&self.tables.kind_fixed_floor)
                        .zip(&kind_offset)
                        .filter(|((&walked, _), _)| walked)
                        .map(|((_, &fixed), &extra)| bound.at(fixed, 0.0) + extra)
                        .fold(f64::INFINITY, f64::min)
                        .max(floor);
                    (carrier, carrier.min(counter_floor))
                };
                // A holder some member beats in every way — a fixed part below its bound, no
                // dearer per kg than any shipment can be, stock for every unit it could ship —
                // is in no plan as good as the best: swapping it for that member is cheaper.
                let rate = bound.per_cost * self.tables.rate_floor;
                let table = std::cell::RefCell::new(Dominance::new(want.len()));
                let dominated = |lower: f64, loc: u32, raw: &[u64], seen: &Looked| {
                    if !max_days.is_infinite() || lower <= 2.0 * COST_EPS {
                        return false;
                    }
                    let limit = lower - 2.0 * COST_EPS;
                    // What it could ship: units below its kind's floor it cannot (every line of
                    // that SKU is excluded there).
                    let kind = self
                        .network
                        .locations
                        .get(loc as usize)
                        .map_or(0, |l| usize::from(crate::index::kind_number(l.kind)));
                    let held = raw
                        .iter()
                        .zip(&floors)
                        .take(want.len())
                        .enumerate()
                        .filter(|(_, (&u, floor))| {
                            u > 0 && u >= floor.get(kind).copied().unwrap_or(0)
                        })
                        .fold(0usize, |mask, (k, _)| mask | 1 << k);
                    let mut table = table.borrow_mut();
                    if let Some(least) =
                        table.least(&looked.borrow(), seen, &member, want, rate, held)
                    {
                        return least < limit;
                    }
                    seen.values()
                        .flatten()
                        .filter(|m| member(m))
                        .take(32)
                        .any(|m| {
                            m.min_fixed < limit
                                && m.max_per_kg <= rate
                                && want
                                    .iter()
                                    .zip(&m.atp)
                                    .zip(raw)
                                    .all(|((d, &have), &units)| units == 0 || have >= d.total())
                        })
                };
                // The pickup store is a candidate whatever its bound: its counter costs no
                // distance.
                if let Some(p) = pickup {
                    if !seen.contains_key(&p) {
                        look(p, self.holding(s, p, &demand), &mut seen);
                    }
                }
                let weight: f64 = want.iter().map(SkuDemand::weight).sum();
                let kinds = s
                    .tier_kinds
                    .get(tier)
                    .copied()
                    .unwrap_or(crate::index::ALL_KINDS);
                let open_skus: Vec<usize> = (0..want.len())
                    .filter(|&k| want.get(k).is_some_and(|d| d.total() > 0))
                    .collect();
                let walk = |k: usize, scale: ObjectiveScale| {
                    let sku = demand.get(k).map_or(u32::MAX, |d| d.sku);
                    // Kinds where every line of the SKU is excluded whatever the stock: left out.
                    let mut open_kinds = kinds;
                    if let Some(shut) = closed.get(k) {
                        for (open, &shut) in open_kinds.iter_mut().zip(shut) {
                            *open &= !shut;
                        }
                    }
                    let cursor = self
                        .stock
                        .index
                        .cursor_by(
                            sku,
                            dest,
                            dc,
                            crate::index::CursorHeap::with_capacity(64),
                            Some(scale),
                            open_kinds,
                        )
                        .with_floor(
                            floors.get(k).copied().unwrap_or_default(),
                            self.stock.atp_cells(),
                        );
                    Walk {
                        cursor,
                        sku,
                        reads: self.reads,
                    }
                };
                let cursor = |k: usize| walk(k, scale(tier));
                // Ranked by fewest shipments, then a flat objective (`in_market`), then distance:
                // the single locations are walked by distance (see `best_single`).
                let flat = (super::bound::singles_first(strategy)
                    && bound.per_cost == 0.0
                    && bound.per_km == 0.0
                    && s.tie_keys.first().is_some_and(|&(i, key)| {
                        !key.descending
                            && strategy
                                .objective
                                .rank
                                .get(i)
                                .is_some_and(|k| matches!(k.criterion, Criterion::Distance))
                    }))
                .then_some(bound.offset);
                let by_km = |k: usize| {
                    walk(
                        k,
                        ObjectiveScale {
                            per_cost: 0.0,
                            per_km: 1.0,
                            offset: 0.0,
                            per_day: 0.0,
                            kind_offset: [0.0; crate::index::KINDS],
                            ..scale(tier)
                        },
                    )
                };
                // Any plan carries the whole weight at the least rate per kg, at least.
                let carried = bound.per_cost * self.tables.rate_floor * weight;
                let split_carried = if pickup.is_some() { 0.0 } else { carried };
                // Step 1: the best single location, among the holders of the rarest SKU.
                let mut best = match flat {
                    Some(least) => self.best_single(
                        (s, tier, bound.per_cost, max_days, Some(least)),
                        (want, &demand),
                        &by_km,
                        &member,
                        &mut seen,
                        &mut look,
                    ),
                    None => self.best_single(
                        (s, tier, bound.per_cost, max_days, None),
                        (want, &demand),
                        &cursor,
                        &member,
                        &mut seen,
                        &mut look,
                    ),
                };
                // Ranked by fewest shipments first: a location that holds everything wins over
                // any split, and the single locations are all in hand. When none holds it all,
                // the best plan has two shipments at least: a plan of two among the nearest
                // holders bounds the gathering as a split does for a score.
                let singles = super::bound::singles_first(strategy);
                if singles && best.is_infinite() && flat.is_some() {
                    return Err(
                        "no location of the tier holds every unit (fewest_shipments then weighs \
                         every split)"
                            .into(),
                    );
                }
                // A split needs two parts at least: two units, or two lines where lines
                // ship whole.
                let parts: u64 = if tier_limits.lines_whole {
                    want.iter().map(|d| d.lines.len() as u64).sum()
                } else {
                    want.iter().map(SkuDemand::total).sum()
                };
                let gather = if singles {
                    best.is_infinite()
                } else {
                    best.is_infinite()
                        || (parts > 1
                            && floor + other_floor + split_carried < best + 2.0 * COST_EPS)
                };
                if gather {
                    // Step 2: can two shipments ever beat it? Step 3 otherwise: gather every
                    // holder that could be part of a better split, each SKU until the pool
                    // covers it.
                    let mut cursors: Vec<(usize, Walk<'_>)> =
                        open_skus.iter().map(|&k| (k, cursor(k))).collect();
                    // What the tier's pool holds of each open SKU: in all, and at most at one.
                    let mut total = vec![0u64; want.len()];
                    let mut most = vec![0u64; want.len()];
                    let count = |c: &Cand, total: &mut [u64], most: &mut [u64]| {
                        for ((t, m), &a) in total.iter_mut().zip(most.iter_mut()).zip(&c.atp) {
                            *t += a;
                            *m = (*m).max(a);
                        }
                    };
                    for c in seen.values().flatten().filter(|c| member(c)) {
                        count(c, &mut total, &mut most);
                    }
                    let covered = |k: usize, total: &[u64], most: &[u64]| -> bool {
                        let Some(d) = want.get(k) else { return true };
                        let (t, m) = (
                            total.get(k).copied().unwrap_or(0),
                            most.get(k).copied().unwrap_or(0),
                        );
                        t >= d.total()
                            && (!tier_limits.lines_whole || d.lines.iter().all(|l| l.1 <= m))
                    };
                    let mut searched = false;
                    let mut widened = 0;
                    // Every holder of the tier that is not beaten by one in hand is in hand.
                    let mut exhausted = false;
                    loop {
                        // A SKU the pool does not cover yet: its holders in bound order, all of
                        // them if need be (what the tier holds of it decides the cut).
                        let next = cursors
                            .iter()
                            .enumerate()
                            .filter(|(_, (k, _))| !covered(*k, &total, &most))
                            .filter_map(|(i, (_, c))| c.peek_bound().map(|b| (b, i)))
                            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                        if let Some((_, i)) = next {
                            let (k, popped) = match cursors.get_mut(i) {
                                Some((k, cur)) => {
                                    (*k, cur.next(f64::INFINITY, units, slot_locs, handling))
                                }
                                None => (usize::MAX, None),
                            };
                            if let Some((slot, lower)) = popped {
                                let loc = self.stock.slot_location(slot);
                                if !seen.contains_key(&loc) {
                                    // Counted for the SKU not covered yet: a holder that can give
                                    // none of it counts for nothing here (the walk of the covered
                                    // SKUs still meets it, by its bound). That is told by its
                                    // stock of this SKU alone; the rest is read only if it can.
                                    let mut only = vec![0; demand.len()];
                                    if let Some(u) = only.get_mut(k) {
                                        *u = self.slot_units(s, slot, demand.get(k));
                                    }
                                    if !self.may_serve(s, loc, tier, want, &only, false, Some(k)) {
                                        continue;
                                    }
                                    let (raw, slots) = self.peek_holding(loc, &demand, (k, slot));
                                    let beaten = dominated(lower, loc, &raw, &seen);
                                    self.write_reads(s, &demand, &slots, !beaten);
                                    if beaten {
                                        continue;
                                    }
                                    look(loc, raw, &mut seen);
                                    if let Some(Some(c)) = seen.get(&loc) {
                                        if member(c) {
                                            count(c, &mut total, &mut most);
                                        }
                                    }
                                }
                            }
                            continue;
                        }
                        if tier == tiers
                            && strategy.all_or_nothing
                            && open_skus.iter().any(|&k| !covered(k, &total, &most))
                        {
                            // All or nothing, and the last tier cannot place every unit: the
                            // full scan says why for each line.
                            return Err("some units stay open".into());
                        }
                        if searched || best.is_finite() {
                            break;
                        }
                        // A first search over what covers the demand gives the bound.
                        let refs = members(&seen, &member);
                        let placeable = cut(want, &refs, tier_limits, &mut shape_reason);
                        if placeable.iter().all(|d| d.total() == 0) {
                            // This tier holds nothing of what is open: the next one places it.
                            continue 'tiers;
                        }
                        let mut probe = StepResult::default();
                        match self.best_plan(s, &placeable, &refs, tier_limits, &mut probe) {
                            // Fewest shipments first, and the tier holds less than is open: what
                            // it holds is what its plan places (as the full scan plans it), and
                            // the search starts over for that.
                            Some(_)
                                if singles
                                    && cut_to.is_none()
                                    && placeable
                                        .iter()
                                        .zip(want)
                                        .any(|(p, l)| p.total() < l.total()) =>
                            {
                                cut_to = Some(placeable.clone());
                                continue 'plan;
                            }
                            // Fewest shipments first: only a plan of two proves the least count
                            // (no single location holds everything), so only it bounds the rest.
                            Some((plan, _))
                                if singles
                                    && (plan.shipments.len() != 2
                                        || placeable
                                            .iter()
                                            .zip(want)
                                            .any(|(p, l)| p.total() < l.total())) =>
                            {
                                return Err("no two of the nearest holders hold every unit \
                                            (fewest_shipments then weighs every split)"
                                    .into())
                            }
                            Some((plan, _)) if !probe.truncated && arrives_by(&plan, max_days) => {
                                best = plan.cost
                            }
                            None if !probe.truncated && exhausted => {
                                return Err("the split limit leaves no plan among the holders of \
                                            the tier"
                                    .into())
                            }
                            None if !probe.truncated && widened < MAX_WIDEN => {
                                // The split limit leaves no plan among these holders: the next
                                // nearest ones, as many again as are in hand, join them.
                                widened += 1;
                                let mut more = refs.len().max(8);
                                while more > 0 {
                                    let next = cursors
                                        .iter()
                                        .enumerate()
                                        .filter_map(|(i, (_, c))| c.peek_bound().map(|b| (b, i)))
                                        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                                    let Some((_, i)) = next else { break };
                                    let popped = cursors.get_mut(i).and_then(|(k, cur)| {
                                        cur.next(f64::INFINITY, units, slot_locs, handling)
                                            .map(|(slot, lower)| (*k, slot, lower))
                                    });
                                    let Some((k, slot, lower)) = popped else {
                                        continue;
                                    };
                                    let loc = self.stock.slot_location(slot);
                                    if seen.contains_key(&loc) {
                                        continue;
                                    }
                                    let (raw, slots) = self.peek_holding(loc, &demand, (k, slot));
                                    let beaten = dominated(lower, loc, &raw, &seen);
                                    self.write_reads(s, &demand, &slots, !beaten);
                                    if beaten
                                        || !self.may_serve(s, loc, tier, want, &raw, false, None)
                                    {
                                        continue;
                                    }
                                    look(loc, raw, &mut seen);
                                    if let Some(Some(c)) = seen.get(&loc) {
                                        if member(c) {
                                            count(c, &mut total, &mut most);
                                            more -= 1;
                                        }
                                    }
                                }
                                // The walks ran out before as many again were found: what
                                // they found joins the search once more, for the last time.
                                exhausted = more > 0;
                                continue;
                            }
                            _ => {
                                return Err("the split limit leaves no plan among the nearest \
                                            holders"
                                    .into())
                            }
                        }
                        searched = true;
                    }
                    // Every holder whose bound leaves room for another shipment under the best.
                    // (When the tier cannot place every open unit, the single locations of what
                    // it can place were not all looked at: they count too.)
                    let placeable = cut(
                        want,
                        &members(&seen, &member),
                        tier_limits,
                        &mut shape_reason,
                    );
                    let cut_short = placeable
                        .iter()
                        .zip(want)
                        .any(|(p, l)| p.total() < l.total());
                    let mut least_other = other_floor + split_carried;
                    if cut_short {
                        // The tier places less than was asked: its single locations for what it
                        // can place, and whether a split of that could ever beat them.
                        best = best.min(self.best_single(
                            (s, tier, bound.per_cost, max_days, None),
                            (&placeable, &demand),
                            &cursor,
                            &member,
                            &mut seen,
                            &mut look,
                        ));
                        let w: f64 = placeable.iter().map(SkuDemand::weight).sum();
                        least_other = other_floor;
                        if pickup.is_none() {
                            least_other += bound.per_cost * self.tables.rate_floor * w;
                        }
                        if floor + least_other >= best + 2.0 * COST_EPS {
                            // No split beats the best single location: nothing more to gather.
                            least_other = f64::INFINITY;
                        }
                    }
                    let mut threshold = best + 2.0 * COST_EPS - least_other;
                    // A member holding every open unit at the least rate per kg beats every holder
                    // whose bound passes its fixed part (see `dominated`): the walk stops there.
                    if max_days.is_infinite() {
                        let rate = bound.per_cost * self.tables.rate_floor;
                        let universal = seen
                            .values()
                            .flatten()
                            .filter(|m| {
                                member(m)
                                    && m.max_per_kg <= rate
                                    && want.iter().zip(&m.atp).all(|(d, &have)| have >= d.total())
                                    && m.atp.len() >= want.len()
                            })
                            .map(|m| m.min_fixed)
                            .fold(f64::INFINITY, f64::min);
                        if universal.is_finite() {
                            // With room for rounding: a holder near the limit goes through the
                            // checks one by one.
                            let limit =
                                universal + 4.0 * COST_EPS + 4.0 * f64::EPSILON * universal.abs();
                            threshold = threshold.min(limit.max(4.0 * COST_EPS));
                        }
                    }
                    // The SKUs with the fewest holders are walked first. Once a SKU's walk is
                    // done, every holder that could ship any of it has been judged: a holder met
                    // later ships only SKUs not walked yet, so the member holding all of those
                    // beats it when its bound passes that member's fixed part (see `dominated`),
                    // and the later walks stop there.
                    let mut by_holders: Vec<usize> = (0..cursors.len()).collect();
                    by_holders.sort_by_key(|&i| {
                        let sku = cursors
                            .get(i)
                            .and_then(|(k, _)| demand.get(*k))
                            .map_or(u32::MAX, |d| d.sku);
                        (self.stock.holder_count(sku), i)
                    });
                    let all_skus = (1usize << want.len().min(usize::BITS as usize - 1)) - 1;
                    // The bound past which a holder shipping only SKUs of `rest` is beaten.
                    let beaten_beyond = |threshold: f64, rest: usize, seen: &Looked| -> f64 {
                        if !max_days.is_infinite() {
                            return threshold;
                        }
                        let least = table.borrow_mut().least(
                            &looked.borrow(),
                            seen,
                            &member,
                            want,
                            rate,
                            rest,
                        );
                        match least.filter(|l| l.is_finite()) {
                            // With room for rounding, as for `universal`.
                            Some(least) => threshold.min(
                                (least + 4.0 * COST_EPS + 4.0 * f64::EPSILON * least.abs())
                                    .max(4.0 * COST_EPS),
                            ),
                            None => threshold,
                        }
                    };
                    let mut walked = 0usize;
                    for i in by_holders {
                        let Some((k, cur)) = cursors.get_mut(i) else {
                            continue;
                        };
                        let rest = all_skus & !walked;
                        let mut cutoff = beaten_beyond(threshold, rest, &seen);
                        walked |= 1usize << (*k).min(usize::BITS as usize - 1);
                        while let Some((slot, lower)) = cur.next(cutoff, units, slot_locs, handling)
                        {
                            let loc = self.stock.slot_location(slot);
                            if seen.contains_key(&loc) {
                                continue;
                            }
                            // Most holders this far out are beaten by one in hand: that is the
                            // cheaper question, asked first, and it reads of their stock only
                            // whether any is left.
                            let (raw, slots) = self.peek_holding(loc, &demand, (*k, slot));
                            let beaten = dominated(lower, loc, &raw, &seen);
                            self.write_reads(s, &demand, &slots, !beaten);
                            if !beaten && self.may_serve(s, loc, tier, want, &raw, false, None) {
                                look(loc, raw, &mut seen);
                                cutoff = beaten_beyond(cutoff, rest, &seen);
                            }
                        }
                    }
                }
                let refs = members(&seen, &member);
                let placeable = cut(want, &refs, tier_limits, &mut shape_reason);
                if placeable.iter().all(|d| d.total() == 0) {
                    continue 'tiers;
                }
                let Some((plan, pool_cands)) =
                    self.best_plan(s, &placeable, &refs, tier_limits, &mut result)
                else {
                    return Err("no plan for what the tier holds".into());
                };
                if result.truncated {
                    return Err("the search hit its work limit".into());
                }
                if !arrives_by(&plan, max_days) {
                    return Err(
                        "no plan of the nearest holders arrives as early as a shipment can \
                                (`rank by days` then weighs every holder)"
                            .into(),
                    );
                }
                place(&plan, &pool_cands, &refs, &mut used, &mut left, &mut result);
                break 'plan;
            }
        }
        if left.iter().any(|d| d.total() > 0) {
            if strategy.all_or_nothing {
                return Err("some units stay open".into());
            }
            self.open_reasons(s, &demand, &left, pickup, limits, &mut result);
        }
        Ok(result)
    }

    /// Why the units of `left` stay open, exactly as the full scan says it: the holders of
    /// their SKUs (and only those: a reason of a line comes from a location holding its
    /// SKU), in location order, each judged as a candidate with all it holds of the order.
    /// The scan stops once every open line has met an exclusion, the first reason standing.
    /// Its candidates are not noted in the explanation: the search already listed those it
    /// weighed.
    fn open_reasons(
        &self,
        s: &CompiledStrategy,
        demand: &[SkuDemand],
        left: &[SkuDemand],
        pickup: Option<u32>,
        limits: Limits,
        result: &mut StepResult,
    ) {
        let lines = self.facts.order.lines.len();
        let open: Vec<usize> = (0..left.len())
            .filter(|&k| left.get(k).is_some_and(|d| d.total() > 0))
            .collect();
        let mut locs: Vec<u32> = open
            .iter()
            .filter_map(|&k| demand.get(k))
            .flat_map(|d| self.stock.slots_of(d.sku))
            .map(|slot| self.stock.slot_location(slot))
            .collect();
        locs.sort_unstable();
        locs.dedup();
        let quiet = Step {
            trace: None,
            read_floors: Default::default(),
            ..*self
        };
        let mut dropped: Vec<Option<String>> = vec![None; lines];
        let mut held_in_set = vec![false; lines];
        let mut held = vec![0u64; demand.len()];
        let open_lines = || {
            open.iter()
                .filter_map(|&k| left.get(k))
                .flat_map(|d| d.lines.iter().map(|l| l.0))
        };
        for loc in locs {
            if open_lines().all(|line| dropped.get(line).is_some_and(Option::is_some)) {
                break;
            }
            if !self.may_be_candidate(s, loc, pickup) {
                continue;
            }
            let raw = self.holding(s, loc, demand);
            let found = quiet.candidate_in_sets(
                s,
                loc,
                raw,
                pickup,
                demand,
                &mut dropped,
                &mut held_in_set,
            );
            if let Some(c) = found {
                for (h, &a) in held.iter_mut().zip(&c.atp) {
                    *h += a;
                }
            }
        }
        let why = OpenWhy {
            dropped: &dropped,
            shape_reason: &[],
            held_in_set: &held_in_set,
            held: &held,
            limited: limits.max_shipments != usize::MAX || limits.lines_whole,
        };
        for &k in &open {
            for &(line, qty, _) in left.get(k).map_or(&[][..], |d| &d.lines[..]) {
                result.reasons.insert(line, why.of(line, k, qty));
            }
        }
    }

    /// Whether `loc` may be a candidate of `s`, told by the location's and the order's facts
    /// alone: the sets that are tables, and those that read no term of the pair, the stock,
    /// the line nor a script. [`Step::candidate`] asks it first; the full scan asks it before
    /// it gathers a location's stock.
    fn may_be_candidate(&self, s: &CompiledStrategy, loc: u32, pickup: Option<u32>) -> bool {
        let Some(location) = self.network.locations.get(loc as usize) else {
            return false;
        };
        if s.candidate_statics.iter().all(Option::is_some) {
            return s
                .candidate_statics
                .iter()
                .flatten()
                .any(|bits| bits.get(loc as usize).copied().unwrap_or(false));
        }
        self.in_candidates_early(s, loc, location, Some(pickup)) != Some(false)
    }

    /// A holder as a candidate of strategy `s`, or `None` when it is not in the candidate
    /// sets or an exclusion drops it (the reason is kept per line).
    #[allow(
        clippy::too_many_arguments,
        reason = "one call site; the inputs are all distinct"
    )]
    fn candidate(
        &self,
        s: &CompiledStrategy,
        loc: u32,
        raw_atp: Vec<u64>,
        pickup: Option<u32>,
        demand: &[SkuDemand],
        dropped: &mut [Option<String>],
        held_in_set: &mut [bool],
    ) -> Option<Cand> {
        if !self.may_be_candidate(s, loc, pickup) {
            return None;
        }
        self.candidate_in_sets(s, loc, raw_atp, pickup, demand, dropped, held_in_set)
    }

    /// [`Step::candidate`] for a location [`Step::may_be_candidate`] let through.
    #[allow(
        clippy::too_many_arguments,
        reason = "one call site; the inputs are all distinct"
    )]
    fn candidate_in_sets(
        &self,
        s: &CompiledStrategy,
        loc: u32,
        raw_atp: Vec<u64>,
        pickup: Option<u32>,
        demand: &[SkuDemand],
        dropped: &mut [Option<String>],
        held_in_set: &mut [bool],
    ) -> Option<Cand> {
        let order = self.facts.order;
        let location = self.network.locations.get(loc as usize)?;
        let strategy = &s.ir;
        let base = self.scope();
        let in_set =
            |sets: &[ir::LocationSet], statics: &[Option<Vec<bool>>], scope: &Scope<'_>| {
                sets.iter().zip(statics).any(|(set, st)| match st {
                    Some(bits) => bits.get(loc as usize).copied().unwrap_or(false),
                    None => self.rules.in_dynamic_set(set, loc, pickup, scope, location),
                })
            };
        // Sets that read location facts only are tables, settled by `may_be_candidate` with
        // the sets that read the order's and the location's facts alone. Sets that read the
        // pair's terms need them first.
        let statics_only = s.candidate_statics.iter().all(Option::is_some);
        if raw_atp.iter().all(|&a| a == 0) {
            return None;
        }
        let mark = |dropped: &mut [Option<String>], reason: &str| {
            for (d, &a) in demand.iter().zip(&raw_atp) {
                if a == 0 {
                    continue;
                }
                for &(line, _, _) in &d.lines {
                    if let Some(slot) = dropped.get_mut(line) {
                        slot.get_or_insert_with(|| reason.to_string());
                    }
                }
            }
        };
        let mut offer =
            LocationOffer::for_order(location, Some(loc) == pickup, &self.network.services, order);
        let meets = offer.options.iter().any(|o| o.meets_promise);
        let weight: f64 = demand
            .iter()
            .zip(&raw_atp)
            .map(|(d, &a)| {
                let units = a.min(d.total());
                units as f64 * d.lines.first().map_or(0.0, |l| l.2)
            })
            .sum();
        let chosen = offer.choose(weight).copied();
        self.reads
            .borrow_mut()
            .locations
            .push((loc, s.exact_reads.1));
        let left = self.stock.capacity.left(loc, self.day);
        let capacity = left.map_or(f64::INFINITY, f64::from);
        let utilisation = match (left, location.daily_capacity) {
            (Some(l), Some(c)) if c > 0 => f64::from(c - l.min(c)) / f64::from(c),
            _ => 0.0,
        };
        let terms = Terms {
            distance: offer.distance_km,
            in_market: match (&location.country, &order.ship_to.country) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
            meets_promise: meets,
            capacity_left: capacity,
            capacity_utilisation: utilisation,
            days: chosen.map_or(0.0, |o| f64::from(o.days)),
            cost: chosen.map_or(0.0, |o| o.cost(weight)),
            // As f64 term by term: a sum of counts may not fit a u64.
            atp: raw_atp.iter().map(|&a| a as f64).sum(),
            stock_cover: demand
                .iter()
                .zip(&raw_atp)
                .map(|(d, &a)| a as f64 / d.total().max(1) as f64)
                .fold(f64::INFINITY, f64::min),
            shipments: 1.0,
        };
        let pair_scope = Scope {
            location: Some(location),
            terms,
            ..base
        };
        if !statics_only && !in_set(&strategy.candidates, &s.candidate_statics, &pair_scope) {
            return None;
        }
        for (d, &a) in demand.iter().zip(&raw_atp) {
            if a > 0 {
                for &(line, _, _) in &d.lines {
                    if let Some(h) = held_in_set.get_mut(line) {
                        *h = true;
                    }
                }
            }
        }
        // A location that has sent all it can today is skipped, whatever the rules say.
        if left == Some(0) {
            mark(dropped, "capacity");
            self.note(
                s,
                location,
                offer_distance(location, order),
                false,
                "capacity",
                None,
                None,
            );
            return None;
        }
        let loc_scope = Scope {
            location: Some(location),
            terms,
            ..base
        };
        // Exclusions of the location as a whole.
        for ex in strategy.exclusions.iter().filter(|e| !e.per_line) {
            if ex.applies_to.is_some_and(|k| k != kind_of(location.kind)) {
                continue;
            }
            // An exclusion that cannot be evaluated (a failed script) excludes.
            if !matches!(loc_scope.eval(&ex.cond), Val::Bool(false)) {
                mark(dropped, &ex.reason);
                self.note(
                    s,
                    location,
                    terms.distance,
                    false,
                    &ex.reason,
                    Some(terms.cost),
                    None,
                );
                return None;
            }
        }
        if matches!(strategy.promise, PromisePolicy::Required) {
            offer.options.retain(|o| o.meets_promise);
            if offer.options.is_empty() {
                mark(dropped, "promise");
                self.note(
                    s,
                    location,
                    terms.distance,
                    false,
                    "promise",
                    Some(terms.cost),
                    None,
                );
                return None;
            }
        }
        // Exclusions per line: a SKU is kept only if every line of it may come from here.
        let mut atp = raw_atp.clone();
        // The reasons of those that dropped a SKU, for the explanation.
        let mut line_reasons: Vec<&str> = Vec::new();
        for (k, d) in demand.iter().enumerate() {
            if atp.get(k).copied().unwrap_or(0) == 0 {
                continue;
            }
            'lines: for &(line, qty, _) in &d.lines {
                let Some(ol) = order.lines.get(line) else {
                    continue;
                };
                // The line's own counts, in a copy: the location's keys read later keep
                // the values over the order's SKUs, whatever the line order.
                let a = raw_atp.get(k).copied().unwrap_or(0) as f64;
                let line_scope = Scope {
                    line: Some((line, ol)),
                    terms: Terms {
                        atp: a,
                        stock_cover: a / qty.max(1) as f64,
                        ..terms
                    },
                    ..loc_scope
                };
                for ex in strategy.exclusions.iter().filter(|e| e.per_line) {
                    if ex.applies_to.is_some_and(|kd| kd != kind_of(location.kind)) {
                        continue;
                    }
                    if !matches!(line_scope.eval(&ex.cond), Val::Bool(false)) {
                        if let Some(slot) = dropped.get_mut(line) {
                            slot.get_or_insert_with(|| ex.reason.clone());
                        }
                        if self.trace.is_some() && !line_reasons.contains(&ex.reason.as_str()) {
                            line_reasons.push(&ex.reason);
                        }
                        if let Some(x) = atp.get_mut(k) {
                            *x = 0;
                        }
                        break 'lines;
                    }
                }
            }
        }
        if atp.iter().all(|&a| a == 0) {
            if self.trace.is_some() {
                let why = format!(
                    "excluded for every line it holds: {}",
                    line_reasons.join("; ")
                );
                self.note(
                    s,
                    location,
                    terms.distance,
                    false,
                    &why,
                    Some(terms.cost),
                    None,
                );
            }
            return None;
        }
        // The objective of each option.
        let options: Vec<(ShipOption, ShipOption)> = offer
            .options
            .iter()
            .map(|o| {
                let t = Terms {
                    days: f64::from(o.days),
                    ..terms
                };
                (self.rules.objective_option(s, &loc_scope, t, o), *o)
            })
            .collect();
        let ties: Vec<Vec<(f64, f64)>> = if s.tie_keys.is_empty() {
            Vec::new()
        } else {
            let priority = self.priority(loc);
            offer
                .options
                .iter()
                .map(|o| {
                    let t = Terms {
                        days: f64::from(o.days),
                        ..terms
                    };
                    s.tie_keys
                        .iter()
                        .filter_map(|&(i, _)| strategy.objective.rank.get(i))
                        .map(|k| {
                            self.rules
                                .tie_value(s, &loc_scope, t, o, &k.criterion, priority)
                        })
                        .collect()
                })
                .collect()
        };
        let tier = strategy
            .prefer
            .iter()
            .zip(&s.prefer_statics)
            .position(|(sets, statics)| in_set(sets, statics, &loc_scope))
            .unwrap_or(strategy.prefer.len());
        if self.trace.is_some() {
            // Shown as the rules compute them for this location shipping alone: a
            // larger-first key not negated, and no split penalty, which applies only beyond
            // a plan's first parcel.
            let penalty = self.rules.split_penalty(s, &loc_scope);
            let priority = self.priority(loc);
            let key_value = |criterion: &Criterion, larger_first: bool| -> f64 {
                let values = offer.options.iter().map(|o| {
                    let t = Terms {
                        days: f64::from(o.days),
                        ..terms
                    };
                    let (fixed, per_kg) = self
                        .rules
                        .tie_value(s, &loc_scope, t, o, criterion, priority);
                    fixed + per_kg * weight
                });
                let best = if larger_first {
                    values.fold(f64::NEG_INFINITY, f64::max)
                } else {
                    values.fold(f64::INFINITY, f64::min)
                };
                if matches!(criterion, Criterion::Cost | Criterion::Score) {
                    best - penalty
                } else {
                    best
                }
            };
            let keys = super::ranked_keys(strategy);
            let score = keys
                .iter()
                .find(|k| !super::is_limit(&k.1))
                .map(|k| key_value(&k.1, k.2));
            let rank_values: Vec<f64> = keys.iter().map(|k| key_value(&k.1, k.2)).collect();
            crate::explain::record(self.trace, || crate::explain::Considered {
                location: location.id.clone(),
                strategy: s.ir.name.clone(),
                kept: true,
                reason: None,
                distance_km: terms.distance,
                cost: Some(terms.cost),
                score,
                shipped: false,
                rank_values,
                tier: (tier < strategy.prefer.len()).then_some(tier),
                lost_on: None,
            });
        }
        let objective: Vec<&ShipOption> = options.iter().map(|(obj, _)| obj).collect();
        let min_fixed = objective
            .iter()
            .map(|o| o.fixed)
            .fold(f64::INFINITY, f64::min);
        let max_per_kg = objective
            .iter()
            .filter(|o| {
                !objective.iter().any(|p| {
                    p.fixed <= o.fixed
                        && p.per_kg <= o.per_kg
                        && (p.fixed, p.per_kg) != (o.fixed, o.per_kg)
                })
            })
            .map(|o| o.per_kg)
            .fold(0.0, f64::max);
        // The fill order's keys, each at the best service option for what it holds.
        let fill: Vec<f64> = if strategy.objective.fill.is_some() {
            let priority = self.priority(loc);
            strategy
                .objective
                .rank
                .iter()
                .map(|k| {
                    let v = offer
                        .options
                        .iter()
                        .map(|o| {
                            let t = Terms {
                                days: f64::from(o.days),
                                ..terms
                            };
                            let (fixed, per_kg) =
                                self.rules
                                    .tie_value(s, &loc_scope, t, o, &k.criterion, priority);
                            fixed + per_kg * weight
                        })
                        .fold(f64::INFINITY, f64::min);
                    if k.descending {
                        -v
                    } else {
                        v
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        Some(Cand {
            fill,
            location: loc,
            distance_km: offer.distance_km,
            tier,
            atp,
            options,
            ties,
            min_fixed,
            max_per_kg,
        })
    }

    /// `fill by`: the pool's locations in the fill order (ties by the fixed tie breaks:
    /// priority, then id), each taking what it can give of what is left (whole kits and
    /// packs, through the core's cut), until nothing is left or the split limit is reached.
    fn fill(
        &self,
        s: &CompiledStrategy,
        pool: &[&Cand],
        limits: Limits,
        left: &mut [SkuDemand],
        used: &mut FxHashSet<u32>,
        result: &mut StepResult,
    ) {
        let mut order: Vec<&Cand> = pool.to_vec();
        order.sort_by(|a, b| self.fill_order((&a.fill, a.location), (&b.fill, b.location)));
        // Why a single location could not take a line is not why the line stays open.
        let mut scratch: Vec<Option<UnsourcedReason>> = vec![None; self.facts.order.lines.len()];
        for c in order {
            if !self.fill_from(s, c, limits, left, used, result, &mut scratch) {
                break;
            }
        }
    }

    /// The fill order of two locations by their `fill by` values, then the fixed tie
    /// breaks: priority, then id, then index.
    fn fill_order(&self, a: (&[f64], u32), b: (&[f64], u32)) -> std::cmp::Ordering {
        let id = |loc: u32| {
            self.network
                .locations
                .get(loc as usize)
                .map(|l| l.id.as_str())
        };
        let keys =
            a.0.iter()
                .zip(b.0)
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal);
        keys.then(self.priority(a.1).total_cmp(&self.priority(b.1)))
            .then_with(|| id(a.1).cmp(&id(b.1)))
            .then(a.1.cmp(&b.1))
    }

    /// One step of `fill by`: location `c` takes what it can give of what is left. False
    /// when the fill is over (nothing left, or the split limit reached).
    #[allow(clippy::too_many_arguments, reason = "the fill's state, passed in")]
    fn fill_from(
        &self,
        s: &CompiledStrategy,
        c: &Cand,
        limits: Limits,
        left: &mut [SkuDemand],
        used: &mut FxHashSet<u32>,
        result: &mut StepResult,
        scratch: &mut [Option<UnsourcedReason>],
    ) -> bool {
        let open: u64 = left.iter().map(SkuDemand::total).sum();
        if open == 0 || result.shipments.len() >= limits.max_shipments {
            return false;
        }
        let one = Limits {
            max_shipments: 1,
            ..limits
        };
        let here = [c];
        let placeable = cut(left, &here, one, scratch);
        let given: u64 = placeable.iter().map(SkuDemand::total).sum();
        if given == 0 {
            return true;
        }
        // All or nothing with room for one more location: only one that takes the rest.
        if s.ir.all_or_nothing && limits.max_shipments - result.shipments.len() == 1 && given < open
        {
            return true;
        }
        if let Some((plan, cands)) = self.best_plan(s, &placeable, &here, one, result) {
            place(&plan, &cands, &here, used, left, result);
        }
        true
    }

    /// `fill by` keys that are the location's priority or its distance, in a strategy
    /// without preferred tiers: the locations are taken in fill order, class of equal
    /// leading priority by class, each looked at as a candidate only when its turn comes,
    /// so the fill reads the few locations it uses instead of every holder. Gives up (the
    /// full scan then decides and says why) when a unit stays open, for kits and packs, or
    /// when a candidate's own fill values are not the ones the order was made by.
    fn run_fill(&self, s: &CompiledStrategy, open: &[u64]) -> Result<StepResult, String> {
        let strategy = &s.ir;
        let keys: Vec<(bool, bool)> = strategy
            .objective
            .rank
            .iter()
            .map(|k| match k.criterion {
                Criterion::Priority => Some((true, k.descending)),
                Criterion::Distance => Some((false, k.descending)),
                _ => None,
            })
            .collect::<Option<_>>()
            .ok_or("a fill key is not a priority or a distance")?;
        if self.trace.is_some() {
            return Err(
                "an explanation lists every holder (without one, the fill reads \
                        locations in fill order and stops once the order is filled)"
                    .into(),
            );
        }
        if !strategy.prefer.is_empty() {
            return Err("a fill with preferred tiers reads every holder".into());
        }
        if self.shape.is_some() {
            return Err("the order has kits or packs".into());
        }
        let mut result = StepResult::default();
        let demand = self.demand(open, &mut result.reasons);
        if !result.reasons.is_empty() {
            return Err("a SKU of the order is not in the network".into());
        }
        let order = self.facts.order;
        let pickup = self.pickup();
        // Every holder once (a location of several SKUs is listed by each).
        let mut seen = vec![false; self.network.locations.len()];
        let mut holders: Vec<Holder> = Vec::new();
        let class_of = |loc: u32| -> f64 {
            match keys.first() {
                Some(&(true, descending)) => {
                    let p = self.priority(loc).min(1e12);
                    if descending {
                        -p
                    } else {
                        p
                    }
                }
                _ => 0.0,
            }
        };
        for d in &demand {
            for slot in self.stock.slots_of(d.sku) {
                let loc = self.stock.slot_location(slot);
                if let Some(mark) = seen.get_mut(loc as usize) {
                    if !*mark {
                        *mark = true;
                        holders.push((class_of(loc), loc));
                    }
                }
            }
        }
        let values = |loc: u32| -> Vec<f64> {
            keys.iter()
                .map(|&(is_priority, descending)| {
                    let v = if is_priority {
                        self.priority(loc).min(1e12)
                    } else if Some(loc) == pickup {
                        0.0
                    } else {
                        self.network
                            .locations
                            .get(loc as usize)
                            .map_or(f64::INFINITY, |l| offer_distance(l, order))
                    };
                    if descending {
                        -v
                    } else {
                        v
                    }
                })
                .collect()
        };
        let limits = limits_of(s, None);
        let mut left = demand.clone();
        let mut used: FxHashSet<u32> = FxHashSet::default();
        let mut scratch: Vec<Option<UnsourcedReason>> = vec![None; order.lines.len()];
        let mut dropped: Vec<Option<String>> = vec![None; order.lines.len()];
        let mut held_in_set = vec![false; order.lines.len()];
        'classes: while !holders.is_empty() {
            // The class that comes first, taken out whole and put in fill order.
            let least = holders.iter().map(|h| h.0).fold(f64::INFINITY, |a, b| {
                if b.total_cmp(&a).is_lt() {
                    b
                } else {
                    a
                }
            });
            let (class, rest): (Vec<Holder>, Vec<Holder>) = holders
                .into_iter()
                .partition(|h| h.0.total_cmp(&least).is_eq());
            holders = rest;
            let mut members: Vec<(Vec<f64>, u32)> = class
                .into_iter()
                .map(|(_, loc)| (values(loc), loc))
                .collect();
            members.sort_by(|a, b| self.fill_order((&a.0, a.1), (&b.0, b.1)));
            for (fill, loc) in members {
                let raw = self.holding(s, loc, &demand);
                let Some(c) =
                    self.candidate(s, loc, raw, pickup, &demand, &mut dropped, &mut held_in_set)
                else {
                    continue;
                };
                if c.fill.len() != fill.len()
                    || c.fill
                        .iter()
                        .zip(&fill)
                        .any(|(a, b)| a.total_cmp(b).is_ne())
                {
                    return Err(
                        "a location's fill values differ from its place in the order".into(),
                    );
                }
                if !self.fill_from(
                    s,
                    &c,
                    limits,
                    &mut left,
                    &mut used,
                    &mut result,
                    &mut scratch,
                ) {
                    break 'classes;
                }
            }
        }
        if left.iter().any(|d| d.total() > 0) {
            return Err("some units stay open".into());
        }
        Ok(result)
    }

    /// The best plan for `demand` over `pool` by the strategy's ranking.
    fn best_plan(
        &self,
        s: &CompiledStrategy,
        demand: &[SkuDemand],
        pool: &[&Cand],
        limits: Limits,
        result: &mut StepResult,
    ) -> Option<(Plan, Vec<Candidate>)> {
        // Leading constraint keys: fewest shipments first, or the latest day / the worst
        // priority as low as possible; then the first additive key is the objective.
        let mut max_days = f64::INFINITY;
        let mut max_priority = f64::INFINITY;
        let mut max_shipments = limits.max_shipments;
        let build = |max_days: f64, max_priority: f64| -> Vec<Candidate> {
            let mut out: Vec<Candidate> = pool
                .iter()
                .filter(|c| self.priority(c.location) <= max_priority)
                .filter_map(|c| {
                    let options: Vec<ShipOption> = c
                        .options
                        .iter()
                        .filter(|(_, o)| f64::from(o.days) <= max_days)
                        .map(|(obj, _)| *obj)
                        .collect();
                    let ties: Vec<OptionTies> = c
                        .options
                        .iter()
                        .zip(&c.ties)
                        .map(|((_, o), t)| (o.service.map(u32::from), t.clone()))
                        .collect();
                    if options.is_empty() {
                        return None;
                    }
                    let offer = LocationOffer {
                        distance_km: c.distance_km,
                        options,
                    };
                    let rank = self
                        .ranks
                        .get(c.location as usize)
                        .copied()
                        .unwrap_or(u32::MAX);
                    let mut cand = Candidate::new(c.location, rank, offer, c.atp.clone());
                    cand.ties = ties;
                    Some(cand)
                })
                .collect();
            out.sort_by(|a, b| {
                a.min_fixed
                    .total_cmp(&b.min_fixed)
                    .then(a.rank.cmp(&b.rank))
            });
            out
        };
        // Every search draws on the order's budget; the last one, which gives the plan, may
        // go beyond it by enough to reach a first plan (a decision cut short, not none).
        let run =
            |cands: &[Candidate], max_shipments: usize, last: bool, result: &mut StepResult| {
                if !may_fit(demand, cands, max_shipments) {
                    return None;
                }
                let left = super::ORDER_BUDGET.saturating_sub(self.spent.get());
                let floor = if last {
                    super::MIN_SEARCH.max(3 * cands.len() as u64)
                } else {
                    0
                };
                let out = search_within(
                    demand,
                    cands,
                    f64::INFINITY,
                    left.max(floor),
                    true,
                    Limits {
                        max_shipments,
                        ..limits
                    },
                );
                self.spent.set(self.spent.get().saturating_add(out.nodes));
                result.nodes += out.nodes;
                result.truncated |= out.truncated;
                out.plan
            };
        // A limit key whose searches ran out of budget keeps the limit found so far (the
        // decision then says it is not exact).
        let spent = || self.spent.get() >= super::ORDER_BUDGET;
        // The candidates built for the last limits, kept for the final search when the
        // limits did not move since.
        let mut built: Option<((f64, f64), Vec<Candidate>)> = None;
        for key in &s.ir.objective.rank {
            match &key.criterion {
                Criterion::FewestShipments => {
                    let cands = build(max_days, max_priority);
                    let found = (1..=max_shipments.min(cands.len()))
                        .take_while(|_| !spent())
                        .find(|&k| run(&cands, k, false, result).is_some());
                    built = Some(((max_days, max_priority), cands));
                    match found {
                        Some(k) => max_shipments = k,
                        None if spent() => {
                            result.truncated = true;
                            break;
                        }
                        None => return None,
                    }
                }
                // The latest arrival or the worst priority as low as a plan allows.
                Criterion::Days | Criterion::Priority => {
                    let days = matches!(key.criterion, Criterion::Days);
                    let mut values: Vec<f64> = if days {
                        pool.iter()
                            .flat_map(|c| c.options.iter().map(|(_, o)| f64::from(o.days)))
                            .collect()
                    } else {
                        pool.iter().map(|c| self.priority(c.location)).collect()
                    };
                    values.sort_by(f64::total_cmp);
                    values.dedup();
                    let found = values.iter().take_while(|_| !spent()).find(|&&v| {
                        let cands = if days {
                            build(v, max_priority)
                        } else {
                            build(max_days, v)
                        };
                        run(&cands, max_shipments, false, result).is_some()
                    });
                    match found {
                        Some(&v) if days => max_days = v,
                        Some(&v) => max_priority = v,
                        None if spent() => {
                            result.truncated = true;
                            break;
                        }
                        None => return None,
                    }
                }
                // The first additive key is the objective the options already carry.
                _ => break,
            }
        }
        let cands = match built {
            Some((limits, cands)) if limits == (max_days, max_priority) => cands,
            _ => build(max_days, max_priority),
        };
        let plan = run(&cands, max_shipments, true, result)?;
        Some((plan, cands))
    }

    /// Tells an explanation being collected about a candidate of strategy `s`.
    #[allow(clippy::too_many_arguments, reason = "a record of a candidate's facts")]
    fn note(
        &self,
        s: &CompiledStrategy,
        location: &crate::model::network::Location,
        distance_km: f64,
        kept: bool,
        reason: &str,
        cost: Option<f64>,
        score: Option<f64>,
    ) {
        crate::explain::record(self.trace, || crate::explain::Considered {
            location: location.id.clone(),
            strategy: s.ir.name.clone(),
            kept,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
            distance_km,
            cost,
            score,
            shipped: false,
            rank_values: Vec::new(),
            tier: None,
            lost_on: None,
        });
    }

    fn priority(&self, location: u32) -> f64 {
        self.network
            .locations
            .get(location as usize)
            .and_then(|l| l.priority)
            .map_or(f64::INFINITY, |p| p as f64)
    }
}

/// Whether `max_shipments` of `cands` could carry every SKU of `demand` at all: each SKU
/// needs a shipment from a candidate that holds some of it, so when the candidates that
/// hold the most of the demanded SKUs cannot hold them all between them, no plan exists
/// and the search (which would prove it node by node) is not run.
/// The limits of strategy `s`'s split policy, with its tie keys.
fn limits_of<'a>(s: &'a CompiledStrategy, shape: Option<&'a Shape>) -> Limits<'a> {
    Limits {
        max_shipments: s.ir.split.max_shipments.map_or(usize::MAX, |m| m as usize),
        lines_whole: !s.ir.split.lines_may_split,
        shape,
        ties: &s.ties,
    }
}

fn may_fit(demand: &[SkuDemand], cands: &[Candidate], max_shipments: usize) -> bool {
    let needed = demand.iter().filter(|d| d.total() > 0).count();
    if max_shipments >= needed {
        return true;
    }
    let mut carries: Vec<usize> = cands
        .iter()
        .map(|c| {
            demand
                .iter()
                .zip(&c.atp)
                .filter(|(d, &a)| d.total() > 0 && a > 0)
                .count()
        })
        .collect();
    carries.sort_unstable_by(|a, b| b.cmp(a));
    carries.iter().take(max_shipments).sum::<usize>() >= needed
}

/// The members of a tier looked at so far, in location order (as the full scan has them).
fn members<'a>(seen: &'a Looked, member: &dyn Fn(&Cand) -> bool) -> Vec<&'a Cand> {
    let mut pool: Vec<&Cand> = seen.values().flatten().filter(|c| member(c)).collect();
    pool.sort_unstable_by_key(|c| c.location);
    pool
}

/// Whether every shipment of `plan` arrives within `max_days`.
fn arrives_by(plan: &Plan, max_days: f64) -> bool {
    plan.shipments
        .iter()
        .all(|p| f64::from(p.option.days) <= max_days)
}

/// Puts the shipments of `plan` (over `cands`, built from `pool`) into `result`, marks
/// their locations used, and takes what they place off `left`.
fn place(
    plan: &Plan,
    cands: &[Candidate],
    pool: &[&Cand],
    used: &mut FxHashSet<u32>,
    left: &mut [SkuDemand],
    result: &mut StepResult,
) {
    for ps in &plan.shipments {
        let Some(c) = cands.get(ps.candidate) else {
            continue;
        };
        let Some(src) = pool.iter().find(|x| x.location == c.location) else {
            continue;
        };
        // The service reported is the contract's: the cheapest of the options the
        // strategy allows, at the shipment's final weight.
        let allowed = LocationOffer {
            distance_km: src.distance_km,
            options: src.options.iter().map(|(_, o)| *o).collect(),
        };
        if allowed.choose(ps.weight).is_none() {
            continue;
        }
        used.insert(c.location);
        result.shipments.push(Planned {
            location: c.location,
            lines: ps.lines.clone(),
            weight: ps.weight,
            offer: None,
        });
    }
    for d in left.iter_mut() {
        for line in &mut d.lines {
            let placed: u64 = plan
                .shipments
                .iter()
                .flat_map(|p| &p.lines)
                .filter(|(l, _)| *l == line.0)
                .map(|x| x.1)
                .sum();
            line.1 = line.1.saturating_sub(placed);
        }
        d.lines.retain(|l| l.1 > 0);
    }
}

/// Cuts each SKU's demand to what the pool holds, with the core's cut
/// ([`crate::plan::cut::cut`]): the pool's members are the holders, in pool order.
fn cut(
    demand: &[SkuDemand],
    pool: &[&Cand],
    limits: Limits<'_>,
    why: &mut [Option<UnsourcedReason>],
) -> Vec<SkuDemand> {
    let atp = |c: &Cand, k: usize| c.atp.get(k).copied().unwrap_or(0);
    // With kits or packs: each SKU position's members, in pool order.
    let mut each: Vec<Vec<(u32, u64)>> = match limits.shape {
        Some(_) => (0..demand.len())
            .map(|k| pool.iter().map(|c| (c.location, atp(c, k))).collect())
            .collect(),
        None => Vec::new(),
    };
    crate::plan::cut::cut(
        demand,
        crate::plan::cut::Holdings {
            total: |k| pool.iter().map(|c| atp(c, k)).sum(),
            most_at_one: |k| pool.iter().map(|c| atp(c, k)).max().unwrap_or(0),
            each: limits.shape.is_some().then_some(each.as_mut_slice()),
        },
        limits.shape,
        limits.lines_whole,
        why,
    )
}

fn kind_of(k: LocationKind) -> ir::LocationKind {
    match k {
        LocationKind::Dc => ir::LocationKind::Dc,
        LocationKind::Store => ir::LocationKind::Store,
        LocationKind::Dropship => ir::LocationKind::Dropship,
    }
}

/// Whether membership of every candidate set of `s` can be told from the order's and the
/// location's facts alone, at no risk: filters that read neither the pair's terms, the
/// stock, the line nor a script, and do no arithmetic (which could fail the order).
pub(crate) fn sets_early(s: &ir::Strategy) -> bool {
    s.candidates.iter().all(|set| {
        set.filters.iter().all(|f| match f {
            ir::LocationFilter::Where(e) => {
                let d = e.deps;
                let reads_more = d.pair || d.shipment || d.stock || d.line || d.plan || d.script;
                let may_fail = e.any(|x| {
                    matches!(
                        x.kind,
                        ExprKind::Arith(..) | ExprKind::Builtin(..) | ExprKind::Script(..)
                    )
                });
                !reads_more && !may_fail
            }
            _ => true,
        })
    })
}

/// Whether an objective expression is exactly the term `cost`.
pub(crate) fn is_cost(e: &ir::Expr) -> bool {
    matches!(e.kind, ExprKind::Fact(Fact::Term(Term::Cost)))
}

/// Whether a location of kind `k` is of the rules' kind `rk`.
pub(crate) fn kind_matches(rk: ir::LocationKind, k: LocationKind) -> bool {
    kind_of(k) == rk
}

fn offer_distance(l: &crate::model::network::Location, order: &crate::model::order::Order) -> f64 {
    crate::geo::haversine_km(l.lat, l.lon, order.ship_to.lat, order.ship_to.lon)
}

#[cfg(test)]
mod tests {
    use super::{Cand, Dominance, Looked, SkuDemand};

    fn member(location: u32, atp: Vec<u64>, min_fixed: f64, max_per_kg: f64) -> Cand {
        Cand {
            location,
            distance_km: 0.0,
            tier: 0,
            atp,
            options: Vec::new(),
            ties: Vec::new(),
            min_fixed,
            max_per_kg,
            fill: Vec::new(),
        }
    }

    /// Per set of SKUs a holder could ship, the cheapest member holding all of their open
    /// units: members counted as they come, at the least rate per kg only.
    #[test]
    fn the_dominance_table_keeps_the_cheapest_member_per_set_of_skus() {
        let left = vec![
            SkuDemand {
                sku: 0,
                lines: vec![(0, 2, 1.0)],
            },
            SkuDemand {
                sku: 1,
                lines: vec![(1, 1, 1.0)],
            },
        ];
        let mut seen = Looked::default();
        let mut looked = Vec::new();
        // Holds both SKUs, dear; holds the first only, cheap; holds the second at a rate
        // per kg above the least (never counted); holds too little of the first.
        for (loc, c) in [
            (1, member(1, vec![2, 1], 9.0, 0.35)),
            (2, member(2, vec![5, 0], 6.0, 0.35)),
            (3, member(3, vec![0, 4], 1.0, 0.80)),
            (4, member(4, vec![1, 1], 2.0, 0.35)),
        ] {
            seen.insert(loc, Some(c));
            looked.push(loc);
        }
        seen.insert(5, None);
        looked.push(5);
        let mut table = Dominance::new(left.len());
        let any = |_: &Cand| true;
        let least = |table: &mut Dominance, held: usize| {
            table
                .least(&looked, &seen, &any, &left, 0.35, held)
                .expect("a table for two SKUs")
        };
        assert_eq!(least(&mut table, 0b01), 6.0);
        assert_eq!(least(&mut table, 0b10), 2.0);
        assert_eq!(least(&mut table, 0b11), 9.0);
        assert_eq!(least(&mut table, 0b00), 2.0);
        // Too many SKUs for a table: the caller checks member by member.
        let many: Vec<SkuDemand> = (0..9)
            .map(|sku| SkuDemand {
                sku,
                lines: vec![(sku as usize, 1, 1.0)],
            })
            .collect();
        assert!(Dominance::new(many.len())
            .least(&looked, &seen, &any, &many, 0.35, 1)
            .is_none());
    }
}
