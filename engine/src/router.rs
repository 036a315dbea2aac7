//! The built-in `min-cost` strategy for one order: from the order to a plan and a decision.
//!
//! In: an order, the network and the current stock. Out: the decision and the units it
//! takes, per stock slot. The search runs in three steps, cheapest first:
//!
//! 1. **One location.** Every single-shipment plan must come from a holder of the order's
//!    rarest SKU, so the search walks those holders nearest-bound first and stops when the
//!    bound passes the best plan found.
//! 2. **Is a split worth a look?** Any plan of two or more shipments pays at least two
//!    fixed costs; when even the network's two cheapest ones exceed the best single plan,
//!    the search is over. This settles most orders.
//! 3. **Several locations.** Otherwise the holders of every SKU whose bound leaves room
//!    under the best plan become candidates for the branch and bound of [`crate::alloc`].
//!
//! When no complete plan exists, the demand is cut to what the network holds and the
//! search runs again, so the units that can be placed are placed at least cost.

use crate::alloc::exact::search_within;
use crate::alloc::{best_plan_within, Candidate, Limits, Plan, Shape, SkuDemand, COST_EPS};
use crate::cost::LocationOffer;
use crate::explain::Considered;
use crate::explain::Trace;
use crate::geo::{unit_vector, Unit};
use crate::index::DistanceCost;
use crate::model::decision::{Unsourced, UnsourcedReason};
use crate::model::network::Network;
use crate::model::order::Order;
use crate::plan::cut::{cut, drop_broken_kits, take_lines, Holdings};
use crate::plan::Routed;
use crate::plan::{add_unsourced, nothing_placed, Planned, Progress};
use crate::stock::Stock;
use rustc_hash::FxHashMap;

/// Orders with at most this many lines are solved exactly.
pub const EXACT_LINE_LIMIT: usize = 6;
/// Search nodes for an exact search: far beyond what real orders need, it only stops
/// pathological inputs from running away (the decision then says so in `explain`).
const EXACT_BUDGET: u64 = 5_000_000;
/// Candidates checked as possible dominators of each holder gathered for a split.
const DOMINATORS: usize = 16;
/// Search nodes and candidates for orders beyond [`EXACT_LINE_LIMIT`] lines.
const HEURISTIC_BUDGET: u64 = 20_000;
const HEURISTIC_CANDIDATES: usize = 256;

/// What the router knows of the network beyond the plain data.
#[derive(Debug, Clone)]
pub(crate) struct RouterTables {
    pub distance_cost: DistanceCost,
    /// Least handling plus base cost of any location and service: the floor of any shipment.
    pub fixed_floor: f64,
    /// The same per kind of location, as the holder trees number them (infinite for a kind
    /// the network does not have).
    pub kind_fixed_floor: [f64; crate::index::KINDS],
    /// Least cost per kg of any service.
    pub rate_floor: f64,
    /// Rank of every location by (priority, id).
    pub ranks: Vec<u32>,
}

impl RouterTables {
    pub fn new(network: &Network) -> RouterTables {
        let min_base = network
            .services
            .iter()
            .map(|s| s.base_cost)
            .fold(f64::INFINITY, f64::min);
        let min_handling = network
            .locations
            .iter()
            .map(|l| l.handling_cost)
            .fold(f64::INFINITY, f64::min);
        let rate_floor = network
            .services
            .iter()
            .map(|s| s.cost_per_kg)
            .fold(f64::INFINITY, f64::min);
        let mut order: Vec<usize> = (0..network.locations.len()).collect();
        order.sort_by(|&a, &b| {
            let (la, lb) = (&network.locations[a], &network.locations[b]);
            la.tie_key().cmp(&lb.tie_key())
        });
        let mut ranks = vec![0u32; order.len()];
        for (rank, &loc) in order.iter().enumerate() {
            if let Some(r) = ranks.get_mut(loc) {
                *r = rank as u32;
            }
        }
        RouterTables {
            distance_cost: DistanceCost::new(
                network
                    .services
                    .iter()
                    .map(|s| (s.base_cost, s.cost_per_km)),
            ),
            fixed_floor: if min_base.is_finite() && min_handling.is_finite() {
                min_handling + min_base
            } else {
                0.0
            },
            kind_fixed_floor: [0, 1, 2].map(|kind| {
                let handling = network
                    .locations
                    .iter()
                    .filter(|l| usize::from(crate::index::kind_number(l.kind)) == kind)
                    .map(|l| l.handling_cost)
                    .fold(f64::INFINITY, f64::min);
                match (handling.is_finite(), min_base.is_finite()) {
                    (true, true) => handling + min_base,
                    (true, false) => 0.0,
                    (false, _) => f64::INFINITY,
                }
            }),
            rate_floor: if rate_floor.is_finite() {
                rate_floor
            } else {
                0.0
            },
            ranks,
        }
    }
}

/// The per-order search state.
struct Ctx<'a> {
    network: &'a Network,
    stock: &'a Stock,
    tables: &'a RouterTables,
    order: &'a Order,
    dest: Unit,
    /// The pickup store, for a pickup order.
    pickup: Option<u32>,
    /// The order's capacity day (UTC date of `placed_at`).
    day: i32,
    exact: bool,
    /// Kits and packs of the order, when it has any.
    limits: Limits<'a>,
    nodes: u64,
    truncated: bool,
    /// Where candidates go when an explanation is being collected.
    trace: Option<&'a Trace>,
}

/// Plans one order against the stock as it is now, taking nothing: the planning core
/// with the plain least-cost search. When no complete plan exists, the demand is cut to
/// what the open holders hold ([`crate::plan::cut`]) and searched again; kits that still
/// compete for the same stock give way, the last first.
pub(crate) fn plan_order(
    network: &Network,
    stock: &Stock,
    tables: &RouterTables,
    order: &Order,
    trace: Option<&Trace>,
) -> Routed {
    let Ok(pickup) = crate::plan::pickup_store(network, order) else {
        return nothing_placed(order, UnsourcedReason::InvalidPickupStore);
    };
    let shape = Shape::of(order);
    let mut ctx = Ctx {
        network,
        stock,
        tables,
        order,
        dest: unit_vector(order.ship_to.lat, order.ship_to.lon),
        pickup,
        day: crate::capacity::day_of(order.placed_at.as_deref()),
        exact: order.lines.len() <= EXACT_LINE_LIMIT,
        limits: Limits {
            shape: shape.as_ref(),
            ..Limits::FREE
        },
        nodes: 0,
        truncated: false,
        trace,
    };

    let (mut demand, mut unsourced) = demand_of(stock, order);
    if let Some(sh) = &shape {
        // A kit with a line of an unknown SKU cannot ship whole.
        let unknown = unsourced.iter().map(|u| u.line).collect::<Vec<_>>();
        for (line, qty) in drop_broken_kits(&mut demand, sh, unknown.into_iter()) {
            add_unsourced(
                &mut unsourced,
                order,
                line,
                qty,
                UnsourcedReason::GroupSplit,
            );
        }
    }
    let mut result = ctx.solve(&demand);
    if result.is_none() && !demand.is_empty() {
        // No complete plan: place what the network holds, at least cost. The units are
        // counted, then planned; another thread may take some in between, and the plan of
        // what was counted then fails. Count again; should the count never settle, what
        // could not be planned is reported unsourced, so every unit is accounted for.
        // (Kits and packs give way one kit at a time below, which settles it for them.)
        let unplaceable = unsourced.clone();
        let full = std::mem::take(&mut demand);
        for recount in 0..=RECOUNTS {
            unsourced.clone_from(&unplaceable);
            demand = ctx.cut_to_open(&full, shape.as_ref(), &mut unsourced);
            if demand.is_empty() {
                break;
            }
            result = ctx.solve(&demand);
            if result.is_some() || shape.is_some() {
                break;
            }
            if recount == RECOUNTS {
                for d in &demand {
                    for &(line, qty, _) in &d.lines {
                        let why = UnsourcedReason::InsufficientStock;
                        add_unsourced(&mut unsourced, order, line, qty, why);
                    }
                }
            }
        }
        if let Some(sh) = &shape {
            // Kits that compete for the same stock: the last kits give way, one by one.
            while result.is_none() && !demand.is_empty() {
                let last_kit = demand
                    .iter()
                    .flat_map(|d| &d.lines)
                    .filter_map(|l| sh.kit_of(l.0))
                    .max();
                let dropped = take_lines(&mut demand, |line| {
                    last_kit.is_none() || sh.kit_of(line) == last_kit
                });
                let reason = if last_kit.is_some() {
                    UnsourcedReason::GroupSplit
                } else {
                    UnsourcedReason::InsufficientStock
                };
                for (line, qty) in dropped {
                    add_unsourced(&mut unsourced, order, line, qty, reason.clone());
                }
                if !demand.is_empty() {
                    result = ctx.solve(&demand);
                }
            }
        }
    }
    // The decision is assembled by the core, as every strategy's is.
    let mut progress = Progress::new(order);
    if let Some((plan, mut cands)) = result {
        let planned = plan
            .shipments
            .into_iter()
            .filter_map(|ps| {
                cands.get_mut(ps.candidate).map(|c| Planned {
                    location: c.location,
                    lines: ps.lines,
                    weight: ps.weight,
                    // A plan ships from a candidate once: its offer moves to the shipment.
                    offer: Some(std::mem::replace(
                        &mut c.offer,
                        LocationOffer {
                            distance_km: 0.0,
                            options: Vec::new(),
                        },
                    )),
                })
            })
            .collect();
        progress.place(stock, order, planned);
    }
    for u in unsourced {
        progress.note_first(u.line, u.reason);
    }
    progress.spent.set(ctx.nodes);
    progress.truncated = ctx.truncated;
    progress.searches = vec![crate::explain::StrategySearch::new("min-cost", None)];
    let mut routed = progress.decide(network, order);
    routed.builtin = true;
    routed
}

/// The order's demand per known SKU (every unit of every line); lines of a SKU that no
/// location lists cannot be placed at all and are returned as unsourced.
fn demand_of(stock: &Stock, order: &Order) -> (Vec<SkuDemand>, Vec<Unsourced>) {
    let (demand, unknown) = crate::alloc::demand_of(stock, order, |i| {
        order.lines.get(i).map(|l| u64::from(l.qty))
    });
    let unsourced = unknown
        .into_iter()
        .filter_map(|i| {
            order.lines.get(i).map(|line| Unsourced {
                line: i,
                sku: line.sku.clone(),
                qty: line.qty,
                reason: UnsourcedReason::NoStock,
            })
        })
        .collect();
    (demand, unsourced)
}

/// The cost of the cheapest complete plan found by searching every holder, without the
/// spatial index or any bound on gathering: the oracle for the pruning. `None` when the
/// order has no complete plan.
#[cfg(test)]
pub(crate) fn exhaustive_cost(
    network: &Network,
    stock: &Stock,
    tables: &RouterTables,
    order: &Order,
) -> Option<f64> {
    let (demand, unsourced) = demand_of(stock, order);
    if !unsourced.is_empty() {
        return None;
    }
    let pickup = order.pickup_index(network);
    let shape = Shape::of(order);
    let limits = Limits {
        shape: shape.as_ref(),
        ..Limits::FREE
    };
    let ctx = Ctx {
        network,
        stock,
        tables,
        order,
        dest: unit_vector(order.ship_to.lat, order.ship_to.lon),
        pickup,
        day: crate::capacity::day_of(order.placed_at.as_deref()),
        exact: true,
        limits,
        nodes: 0,
        truncated: false,
        trace: None,
    };
    let mut pool: Vec<Candidate> = (0..network.locations.len() as u32)
        .map(|l| ctx.candidate(l, &demand))
        .filter(|c| c.atp.iter().any(|&a| a > 0))
        .collect();
    sort_candidates(&mut pool);
    let out = search_within(&demand, &pool, f64::INFINITY, u64::MAX, false, limits);
    out.plan.map(|p| p.cost)
}

/// How many times an order that cannot be placed whole counts its units again when other
/// threads take some between the count and the plan.
const RECOUNTS: usize = 8;

impl Ctx<'_> {
    fn budget(&self) -> u64 {
        if self.exact {
            EXACT_BUDGET
        } else {
            HEURISTIC_BUDGET
        }
    }

    /// The demand cut to what the open holders of the network (the pickup store included)
    /// can ship now; each line cut is listed in `unsourced` with its reason: `group_split`
    /// or `pack_size` as the cut says, else the SKU's shortage — `capacity` when units sit
    /// at holders with no shipment left today, `no_stock` when no open holder has any,
    /// `insufficient_stock` otherwise.
    fn cut_to_open(
        &self,
        demand: &[SkuDemand],
        shape: Option<&Shape>,
        unsourced: &mut Vec<Unsourced>,
    ) -> Vec<SkuDemand> {
        // Per SKU position: the open holders and their units (largest first, then by
        // location: packs fit best there), and the units held where there is no capacity.
        let mut blocked = vec![0u64; demand.len()];
        let mut each: Vec<Vec<(u32, u64)>> = Vec::with_capacity(demand.len());
        for (d, held) in demand.iter().zip(blocked.iter_mut()) {
            let mut h: Vec<(u32, u64)> = Vec::new();
            for slot in self.stock.slots_of(d.sku) {
                let (loc, units) = (self.stock.slot_location(slot), self.stock.slot_atp(slot));
                if self.stock.capacity.full(loc, self.day) {
                    *held += units;
                } else if units > 0 {
                    h.push((loc, units));
                }
            }
            h.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            each.push(h);
        }
        let available: Vec<u64> = each.iter().map(|h| h.iter().map(|x| x.1).sum()).collect();
        let most: Vec<u64> = each
            .iter()
            .map(|h| h.iter().map(|x| x.1).max().unwrap_or(0))
            .collect();
        let mut why: Vec<Option<UnsourcedReason>> = vec![None; self.order.lines.len()];
        let kept = cut(
            demand,
            Holdings {
                total: |k| available.get(k).copied().unwrap_or(0),
                most_at_one: |k| most.get(k).copied().unwrap_or(0),
                each: shape.is_some().then_some(each.as_mut_slice()),
            },
            shape,
            false,
            &mut why,
        );
        for (k, (d, kd)) in demand.iter().zip(&kept).enumerate() {
            let (avail, held) = (available[k], blocked[k]);
            for &(line, qty, _) in &d.lines {
                let got: u64 = kd.lines.iter().filter(|l| l.0 == line).map(|l| l.1).sum();
                if got >= qty {
                    continue;
                }
                // How much of the SKU the line needed at once: its kit's units, or itself.
                let short = match shape.and_then(|sh| sh.kit_of(line).map(|kit| (sh, kit))) {
                    Some((sh, kit)) => d
                        .lines
                        .iter()
                        .filter(|l| sh.kit_of(l.0) == Some(kit))
                        .map(|l| l.1)
                        .sum(),
                    None => qty,
                };
                let reason = match why.get_mut(line).and_then(Option::take) {
                    Some(r) => r,
                    None if held > 0 && (shape.is_none() || avail < short) => {
                        UnsourcedReason::Capacity
                    }
                    None if avail == 0 => UnsourcedReason::NoStock,
                    None => UnsourcedReason::InsufficientStock,
                };
                unsourced.push(Unsourced {
                    line,
                    sku: self.order.lines[line].sku.clone(),
                    qty: (qty - got) as u32,
                    reason,
                });
            }
        }
        kept.into_iter().filter(|d| !d.lines.is_empty()).collect()
    }

    /// A candidate for one location, with its stock of every demanded SKU.
    fn candidate(&self, location: u32, demand: &[SkuDemand]) -> Candidate {
        let loc = &self.network.locations[location as usize];
        let at_counter = Some(location) == self.pickup;
        let offer = LocationOffer::for_order(loc, at_counter, &self.network.services, self.order);
        let atp = demand
            .iter()
            .map(|d| self.stock.atp_at(location, d.sku))
            .collect();
        let rank = self
            .tables
            .ranks
            .get(location as usize)
            .copied()
            .unwrap_or(u32::MAX);
        Candidate::new(location, rank, offer, atp)
    }

    /// Tells an explanation being collected about a candidate.
    fn note(&self, location: u32, kept: bool, reason: Option<&str>, cost: Option<f64>) {
        crate::explain::record(self.trace, || {
            let l = &self.network.locations[location as usize];
            let to = &self.order.ship_to;
            Considered {
                location: l.id.clone(),
                strategy: "min-cost".into(),
                kept,
                reason: reason.map(str::to_string),
                distance_km: crate::geo::haversine_km(l.lat, l.lon, to.lat, to.lon),
                cost,
                score: None,
                shipped: false,
                rank_values: Vec::new(),
                tier: None,
                lost_on: None,
            }
        });
    }

    /// The contract's cost of one carrier shipment of `weight` kg from `location`, without
    /// building its offer: the cheapest service that keeps the promise, or the cheapest.
    fn single_shipment_cost(&self, location: u32, weight: f64) -> f64 {
        let loc = &self.network.locations[location as usize];
        let to = &self.order.ship_to;
        let distance = crate::geo::haversine_km(loc.lat, loc.lon, to.lat, to.lon);
        let (mut keeping, mut any) = (f64::INFINITY, f64::INFINITY);
        for s in &self.network.services {
            let cost =
                loc.handling_cost + s.base_cost + s.cost_per_km * distance + s.cost_per_kg * weight;
            let days = loc
                .processing_days
                .saturating_add(crate::cost::transit_days(distance, s));
            if self.order.promise_days.is_none_or(|p| days <= p) {
                keeping = keeping.min(cost);
            }
            any = any.min(cost);
        }
        if keeping.is_finite() {
            keeping
        } else {
            any
        }
    }

    /// Whether a holder is useless to any plan because a candidate already gathered is at
    /// least as good in every respect: no dearer fixed cost (`lower` bounds the holder's),
    /// no dearer rate per kg, and enough stock to ship every unit the holder could.
    fn dominated(
        &self,
        location: u32,
        lower: f64,
        demand: &[SkuDemand],
        pool: &[Candidate],
    ) -> bool {
        let rate = self.tables.rate_floor;
        pool.iter().take(DOMINATORS).any(|m| {
            Some(m.location) != self.pickup
                && m.min_fixed <= lower
                && m.max_per_kg <= rate
                && demand
                    .iter()
                    .zip(&m.atp)
                    .all(|(d, &have)| have >= d.total() || self.stock.atp_at(location, d.sku) == 0)
        })
    }

    fn holds_all(&self, location: u32, demand: &[SkuDemand]) -> bool {
        demand
            .iter()
            .all(|d| self.stock.atp_at(location, d.sku) >= d.total())
    }

    /// The cheapest complete plan and the candidates it refers to; `None` when the
    /// network cannot cover the demand.
    fn solve(&mut self, demand: &[SkuDemand]) -> Option<(Plan, Vec<Candidate>)> {
        let weight: f64 = demand.iter().map(SkuDemand::weight).sum();
        let (ship_floor, rate) = (self.tables.fixed_floor, self.tables.rate_floor);
        // Bounds. A shipment by carrier pays at least `ship_floor` plus `rate` per kg; the
        // pickup counter (a pickup order's own store) pays its handling and nothing per kg,
        // so only the units it cannot hand out must travel.
        let (counter_fixed, travel_weight) = match self.pickup {
            Some(p) => {
                let handling = self.network.locations[p as usize].handling_cost;
                let must_travel: f64 = demand
                    .iter()
                    .map(|d| {
                        let short = d.total().saturating_sub(self.stock.atp_at(p, d.sku));
                        let lightest = d.lines.iter().map(|l| l.2).fold(f64::INFINITY, f64::min);
                        if short == 0 {
                            0.0
                        } else {
                            short as f64 * lightest
                        }
                    })
                    .sum();
                (Some(handling), must_travel)
            }
            None => (None, weight),
        };
        // Every plan ships at least `travel_weight` by carrier; a single carrier shipment
        // ships everything; any other shipment costs at least `fixed_floor`.
        let weight_floor = travel_weight * rate;
        let single_floor = weight * rate;
        let fixed_floor = counter_fixed.map_or(ship_floor, |h| ship_floor.min(h));
        // Two shipments or more: at most one of them is the counter.
        let split_floor = match counter_fixed {
            Some(h) => (h + ship_floor + weight_floor).min(2.0 * ship_floor + single_floor),
            None => 2.0 * ship_floor + single_floor,
        };

        // Step 1: the best single location.
        let mut cands: Vec<Candidate> = Vec::new();
        let mut best: Option<Plan> = None;
        let counter = self
            .pickup
            .filter(|&p| !self.stock.capacity.full(p, self.day));
        if let Some(p) = self.pickup {
            let reason = if counter.is_none() {
                "capacity"
            } else {
                "pickup counter"
            };
            let handling = self.network.locations[p as usize].handling_cost;
            self.note(
                p,
                counter.is_some(),
                Some(reason),
                counter.map(|_| handling),
            );
        }
        if let Some(p) = counter {
            if self.holds_all(p, demand) {
                cands.push(self.candidate(p, demand));
                best = best_plan_within(demand, &cands, &[0], self.limits);
            }
        }
        let rarest = demand
            .iter()
            .min_by_key(|d| (self.stock.holder_count(d.sku), d.sku))?;
        let dc = &self.tables.distance_cost;
        let heap = crate::index::CursorHeap::new();
        let mut cursor = self.stock.index.cursor(rarest.sku, self.dest, dc, heap);
        let slot_locs = self.stock.slot_locations();
        let (units, handling) = (&self.stock.units, &self.stock.handling);
        // The best single carrier shipment so far: (cost, rank, location).
        let mut single: Option<(f64, u32, u32)> = None;
        let mut bound_single = f64::INFINITY;
        loop {
            let bound = best
                .as_ref()
                .map_or(bound_single, |b| b.cost.min(bound_single));
            match cursor.peek_bound() {
                Some(lb) if lb + single_floor < bound - COST_EPS => {}
                _ => break,
            }
            let cutoff = bound - single_floor - COST_EPS;
            let Some((slot, _)) = cursor.next(cutoff, units, slot_locs, handling) else {
                break;
            };
            let loc = self.stock.slot_location(slot);
            if Some(loc) == self.pickup {
                continue;
            }
            if self.stock.capacity.full(loc, self.day) {
                self.note(loc, false, Some("capacity"), None);
                continue;
            }
            if self.stock.slot_atp(slot) < rarest.total() || !self.holds_all(loc, demand) {
                self.note(loc, true, Some("does not hold every unit alone"), None);
                continue;
            }
            let cost = self.single_shipment_cost(loc, weight);
            self.note(loc, true, None, Some(cost));
            let rank = self
                .tables
                .ranks
                .get(loc as usize)
                .copied()
                .unwrap_or(u32::MAX);
            let wins = match single {
                None => true,
                Some((c, r, _)) => cost < c - COST_EPS || (cost <= c + COST_EPS && rank < r),
            };
            let beats_counter = best.as_ref().is_none_or(|b| cost < b.cost - COST_EPS);
            if wins && beats_counter {
                single = Some((cost, rank, loc));
                bound_single = cost;
            }
        }
        if let Some((_, _, loc)) = single {
            cands.push(self.candidate(loc, demand));
            let k = cands.len() - 1;
            if let Some(plan) = best_plan_within(demand, &cands, &[k], self.limits) {
                if plan.better_than(best.as_ref()) {
                    best = Some(plan);
                }
            }
        }

        // Step 2: can two shipments ever beat it?
        if let Some(b) = &best {
            if split_floor >= b.cost - COST_EPS {
                return best.map(|p| (p, cands));
            }
        }

        // Step 3: gather every holder that could be part of a cheaper split, and search.
        let mut pool: Vec<Candidate> = Vec::new();
        let mut seen: FxHashMap<u32, ()> = FxHashMap::default();
        if let Some(p) = self.pickup {
            if counter.is_some() && demand.iter().any(|d| self.stock.atp_at(p, d.sku) > 0) {
                pool.push(self.candidate(p, demand));
            }
            seen.insert(p, ());
        }
        let mut cursors: Vec<_> = demand
            .iter()
            .map(|d| {
                let heap = crate::index::CursorHeap::new();
                self.stock.index.cursor(d.sku, self.dest, dc, heap)
            })
            .collect();
        let cap = if self.exact {
            usize::MAX
        } else {
            HEURISTIC_CANDIDATES
        };
        let mut covered = vec![0u64; demand.len()];
        for c in &pool {
            for (cov, a) in covered.iter_mut().zip(&c.atp) {
                *cov += a;
            }
        }
        let mut bound = best.as_ref().map_or(f64::INFINITY, |b| b.cost);
        let mut best_split: Option<Located> = None;
        let mut searched_once = false;
        loop {
            let threshold = bound - COST_EPS - fixed_floor - weight_floor;
            // The cursor with the lowest next bound, ties to the first SKU.
            let next = cursors
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.peek_bound().map(|b| (b, i)))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let open = match next {
                Some((b, i)) if b < threshold && pool.len() < cap => Some(i),
                _ => None,
            };
            let enough = covered.iter().zip(demand).all(|(&c, d)| c >= d.total());
            let first_look = bound.is_infinite() && enough && !searched_once;
            if let (Some(i), false) = (open, first_look) {
                let Some((slot, lower)) = cursors
                    .get_mut(i)
                    .and_then(|c| c.next(threshold, units, slot_locs, handling))
                else {
                    continue;
                };
                let loc = self.stock.slot_location(slot);
                if seen.insert(loc, ()).is_some() {
                    continue;
                }
                if self.stock.capacity.full(loc, self.day) {
                    self.note(loc, false, Some("capacity"), None);
                    continue;
                }
                if self.dominated(loc, lower, demand, &pool) {
                    let why = "another candidate is as cheap, with the stock";
                    self.note(loc, false, Some(why), None);
                    continue;
                }
                let c = self.candidate(loc, demand);
                if c.atp.iter().all(|&a| a == 0) {
                    continue;
                }
                for (cov, a) in covered.iter_mut().zip(&c.atp) {
                    *cov += a;
                }
                self.note(loc, true, Some("candidate for a split"), None);
                pool.push(c);
                continue;
            }
            if !enough {
                break;
            }
            // Search what is gathered. Without any plan yet, this first search gives a
            // bound, and the gathering goes on up to it.
            sort_candidates(&mut pool);
            let out = search_within(demand, &pool, bound, self.budget(), false, self.limits);
            self.nodes += out.nodes;
            self.truncated |= out.truncated;
            if let Some(p) = out.plan {
                bound = p.cost;
                best_split = Some(to_locations(&p, &pool));
            }
            if open.is_none() || out.truncated {
                break;
            }
            searched_once = true;
        }
        let again = |ships: Vec<(u32, Vec<(usize, u64)>)>| {
            from_locations(&ships, &pool, demand, self.limits)
        };
        match best_split.and_then(|(_, ships)| again(ships)) {
            Some(split) if split.better_than(best.as_ref()) => Some((split, pool)),
            _ => best.map(|p| (p, cands)),
        }
    }
}

/// A plan kept across re-sorting of the candidates: its cost and (location, lines).
type Located = (f64, Vec<(u32, Vec<(usize, u64)>)>);

fn to_locations(plan: &Plan, cands: &[Candidate]) -> Located {
    let ships = plan
        .shipments
        .iter()
        .filter_map(|s| {
            cands
                .get(s.candidate)
                .map(|c| (c.location, s.lines.clone()))
        })
        .collect();
    (plan.cost, ships)
}

/// The incumbent again, over the candidate pool (re-evaluated there).
fn from_locations(
    ships: &[(u32, Vec<(usize, u64)>)],
    pool: &[Candidate],
    demand: &[SkuDemand],
    limits: Limits<'_>,
) -> Option<Plan> {
    let chosen: Option<Vec<usize>> = ships
        .iter()
        .map(|(loc, _)| pool.iter().position(|c| c.location == *loc))
        .collect();
    best_plan_within(demand, pool, &chosen?, limits)
}

fn sort_candidates(pool: &mut [Candidate]) {
    pool.sort_by(|a, b| {
        a.min_fixed
            .total_cmp(&b.min_fixed)
            .then(a.rank.cmp(&b.rank))
    });
}
