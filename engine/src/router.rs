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
use crate::geo::{unit_vector, Unit};
use crate::index::DistanceCost;
use crate::model::decision::{Decision, Shipment, ShipmentLine, Status, Unsourced};
use crate::model::network::{LocationKind, Network};
use crate::model::order::{Fulfillment, Order};
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
            rate_floor: if rate_floor.is_finite() {
                rate_floor
            } else {
                0.0
            },
            ranks,
        }
    }
}

/// A decision with the units it takes from each stock slot.
#[derive(Debug, Clone)]
pub(crate) struct Routed {
    pub decision: Decision,
    pub takes: Vec<(u32, u64)>,
    /// Search nodes visited (for benchmarks and explanations).
    pub nodes: u64,
    /// True when a work limit cut the search short.
    pub truncated: bool,
    /// The strategies that ran, in order.
    pub chain: Vec<String>,
    /// How each strategy that ran searched: `None` bounded, or why it scanned every holder.
    pub searches: Vec<crate::explain::StrategySearch>,
    /// Everything the plan read of the stock, when the rules' own search did all the
    /// reading: a plan made ahead stays valid while none of it changes.
    pub reads: Option<Reads>,
    /// True when only the built-in search read the stock for this plan: it depends on a
    /// slot's units only up to the order's demand and on a location's capacity only as
    /// full or not (what lets a plan made ahead survive other orders' commits).
    pub builtin: bool,
}

/// What a plan under rules read of the stock: slots (SKU id, slot, and the units up to
/// which their count matters: `u64::MAX` when exactly) and the locations whose shipments
/// left today it looked at (and whether the count matters, or only none against some).
#[derive(Debug, Clone, Default)]
pub(crate) struct Reads {
    pub slots: Vec<(u32, u32, u64)>,
    pub locations: Vec<(u32, bool)>,
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
}

/// Plans one order against the stock as it is now, taking nothing.
pub(crate) fn plan_order(
    network: &Network,
    stock: &Stock,
    tables: &RouterTables,
    order: &Order,
) -> Routed {
    let pickup = match order.fulfillment {
        Fulfillment::Ship => None,
        Fulfillment::Pickup => {
            let store = order.pickup_index(network).filter(|&i| {
                network
                    .locations
                    .get(i as usize)
                    .is_some_and(|l| l.kind == LocationKind::Store)
            });
            if store.is_none() {
                // The loader rejects such orders; a library caller gets a clear answer.
                return nothing_placed(order, "invalid_pickup_store");
            }
            store
        }
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
    };

    let (mut demand, mut unsourced) = demand_of(stock, order);
    if shape.is_some() && !unsourced.is_empty() {
        // A kit with a line of an unknown SKU cannot ship whole.
        drop_broken_kits(&mut demand, &mut unsourced, &ctx, order);
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
            let (available, blocked) = ctx.available(&full);
            demand = match &shape {
                None => cut_to_available(&full, &available, &blocked, order, &mut unsourced),
                Some(sh) => ctx.cut_shaped(&full, &available, &blocked, sh, &mut unsourced),
            };
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
                        add_unsourced(&mut unsourced, order, line, qty, "insufficient_stock");
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
                    "group_split"
                } else {
                    "insufficient_stock"
                };
                for (line, qty) in dropped {
                    unsourced.push(Unsourced {
                        line,
                        sku: order.lines[line].sku.clone(),
                        qty: qty as u32,
                        reason: reason.into(),
                    });
                }
                if !demand.is_empty() {
                    result = ctx.solve(&demand);
                }
            }
        }
    }
    let mut takes = Vec::new();
    let mut shipments = Vec::new();
    if let Some((plan, cands)) = result {
        for ps in &plan.shipments {
            let Some(c) = cands.get(ps.candidate) else {
                continue;
            };
            let loc = &network.locations[c.location as usize];
            // The contract's service at the final weight (cheapest, earlier on ties).
            let opt = c.offer.choose(ps.weight).copied().unwrap_or(ps.option);
            let mut lines = Vec::with_capacity(ps.lines.len());
            for &(line, qty) in &ps.lines {
                let sku = &order.lines[line].sku;
                if let Some(slot) = stock.sku_id(sku).and_then(|s| stock.slot(c.location, s)) {
                    takes.push((slot, qty));
                }
                lines.push(ShipmentLine {
                    line,
                    sku: sku.clone(),
                    qty: qty as u32,
                });
            }
            shipments.push(Shipment {
                location: loc.id.clone(),
                service: opt
                    .service
                    .and_then(|s| network.services.get(s as usize))
                    .map(|s| s.id.clone()),
                lines,
                distance_km: c.offer.distance_km,
                days: opt.days,
                cost: opt.cost(ps.weight),
                meets_promise: opt.meets_promise,
            });
        }
    }
    let mut routed = finish(order, shipments, unsourced, ctx.nodes, ctx.truncated);
    takes.sort_unstable();
    routed.takes = takes;
    routed.builtin = true;
    routed.searches = vec![crate::explain::StrategySearch::new("min-cost", None)];
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
                reason: "no_stock".into(),
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
    };
    let mut pool: Vec<Candidate> = (0..network.locations.len() as u32)
        .map(|l| ctx.candidate(l, &demand))
        .filter(|c| c.atp.iter().any(|&a| a > 0))
        .collect();
    sort_candidates(&mut pool);
    let out = search_within(&demand, &pool, f64::INFINITY, u64::MAX, false, limits);
    out.plan.map(|p| p.cost)
}

/// A decision that places nothing: every line unsourced for the same reason.
pub(crate) fn nothing_placed(order: &Order, reason: &str) -> Routed {
    let all = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| Unsourced {
            line: i,
            sku: l.sku.clone(),
            qty: l.qty,
            reason: reason.to_string(),
        })
        .collect();
    finish(order, Vec::new(), all, 0, false)
}

pub(crate) fn finish(
    order: &Order,
    mut shipments: Vec<Shipment>,
    mut unsourced: Vec<Unsourced>,
    nodes: u64,
    truncated: bool,
) -> Routed {
    shipments.sort_by(|a, b| a.location.cmp(&b.location));
    unsourced.sort_by_key(|u| u.line);
    // `+ 0.0` turns the empty sum's -0.0 into 0.0.
    let total_cost = shipments.iter().map(|s| s.cost).sum::<f64>() + 0.0;
    let placed: u64 = shipments
        .iter()
        .flat_map(|s| &s.lines)
        .map(|l| u64::from(l.qty))
        .sum();
    let status = if unsourced.is_empty() {
        Status::Sourced
    } else if placed > 0 {
        Status::Partial
    } else {
        Status::Unsourced
    };
    Routed {
        decision: Decision {
            order: order.id.clone(),
            status,
            rule: "min-cost".into(),
            ruleset: crate::RulesetHash::BUILTIN,
            shipments,
            unsourced,
            total_cost,
            error: None,
        },
        takes: Vec::new(),
        nodes,
        truncated,
        chain: vec!["min-cost".into()],
        searches: Vec::new(),
        reads: None,
        builtin: false,
    }
}

/// How many times an order that cannot be placed whole counts its units again when other
/// threads take some between the count and the plan.
const RECOUNTS: usize = 8;

/// Adds `qty` unplaced units of `line` to its entry in `unsourced` (keeping that entry's
/// reason), or lists them with `reason`.
fn add_unsourced(
    unsourced: &mut Vec<Unsourced>,
    order: &Order,
    line: usize,
    qty: u64,
    reason: &str,
) {
    let qty = u32::try_from(qty).unwrap_or(u32::MAX);
    match unsourced.iter_mut().find(|u| u.line == line) {
        Some(u) => u.qty = u.qty.saturating_add(qty),
        None => unsourced.push(Unsourced {
            line,
            sku: order
                .lines
                .get(line)
                .map(|l| l.sku.clone())
                .unwrap_or_default(),
            qty,
            reason: reason.into(),
        }),
    }
}

/// Cuts each SKU's demand to what is available, earlier lines first, and lists the rest.
fn cut_to_available(
    demand: &[SkuDemand],
    available: &[u64],
    blocked: &[u64],
    order: &Order,
    unsourced: &mut Vec<Unsourced>,
) -> Vec<SkuDemand> {
    let mut kept = Vec::new();
    for ((d, &avail), &held) in demand.iter().zip(available).zip(blocked) {
        let mut left = avail;
        let mut lines: Vec<(usize, u64, f64)> = d.lines.clone();
        lines.sort_by_key(|l| l.0);
        let mut placed = Vec::new();
        for (line, qty, w) in lines {
            let take = qty.min(left);
            left -= take;
            if take > 0 {
                placed.push((line, take, w));
            }
            if take < qty {
                unsourced.push(Unsourced {
                    line,
                    sku: order.lines[line].sku.clone(),
                    qty: (qty - take) as u32,
                    reason: if held > 0 {
                        // Stock is there, but its locations have sent all they can today.
                        "capacity".into()
                    } else if avail == 0 {
                        "no_stock".into()
                    } else {
                        "insufficient_stock".into()
                    },
                });
            }
        }
        if !placed.is_empty() {
            placed.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
            kept.push(SkuDemand {
                sku: d.sku,
                lines: placed,
            });
        }
    }
    kept
}

impl Ctx<'_> {
    fn budget(&self) -> u64 {
        if self.exact {
            EXACT_BUDGET
        } else {
            HEURISTIC_BUDGET
        }
    }

    /// Units of each SKU the network can promise now (the pickup store included), from
    /// locations with shipment capacity left today, and the units held where there is none.
    fn available(&self, demand: &[SkuDemand]) -> (Vec<u64>, Vec<u64>) {
        demand
            .iter()
            .map(|d| {
                let (mut open, mut blocked) = (0, 0);
                for slot in self.stock.slots_of(d.sku) {
                    let units = self.stock.slot_atp(slot);
                    if self
                        .stock
                        .capacity
                        .full(self.stock.slot_location(slot), self.day)
                    {
                        blocked += units;
                    } else {
                        open += units;
                    }
                }
                (open, blocked)
            })
            .unzip()
    }

    /// [`cut_to_available`] for an order with kits or packs: a kit is kept only if one
    /// location with capacity left holds all of it (otherwise its lines are unsourced:
    /// their own shortage, or `group_split`); the other lines keep what the holders can
    /// ship in whole packs (`pack_size` when the units are there but not in whole packs).
    fn cut_shaped(
        &self,
        demand: &[SkuDemand],
        available: &[u64],
        blocked: &[u64],
        shape: &Shape,
        unsourced: &mut Vec<Unsourced>,
    ) -> Vec<SkuDemand> {
        let order = self.order;
        // Units each open holder can promise, per SKU position.
        let mut holdings: Vec<Vec<(u32, u64)>> = demand
            .iter()
            .map(|d| {
                let mut h: Vec<(u32, u64)> = self
                    .stock
                    .slots_of(d.sku)
                    .map(|slot| (self.stock.slot_location(slot), self.stock.slot_atp(slot)))
                    .filter(|&(loc, units)| units > 0 && !self.stock.capacity.full(loc, self.day))
                    .collect();
                // Largest holders first, then by location: packs fit best there.
                h.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                h
            })
            .collect();
        let shortage = |k: usize, short: u64| -> &'static str {
            let (avail, held) = (
                available.get(k).copied().unwrap_or(0),
                blocked.get(k).copied().unwrap_or(0),
            );
            if held > 0 && avail < short {
                "capacity"
            } else if avail == 0 {
                "no_stock"
            } else if avail < short {
                "insufficient_stock"
            } else {
                ""
            }
        };
        let mut kept: Vec<SkuDemand> = demand
            .iter()
            .map(|d| SkuDemand {
                sku: d.sku,
                lines: Vec::new(),
            })
            .collect();
        let refuse = |unsourced: &mut Vec<Unsourced>, line: usize, qty: u64, why: &str| {
            unsourced.push(Unsourced {
                line,
                sku: order.lines[line].sku.clone(),
                qty: qty as u32,
                reason: why.to_string(),
            });
        };
        // Kits first, in order: one holder must have every unit of the kit.
        let kits = shape.kits_in(demand);
        for kit in kits {
            let lines: Vec<(usize, usize, u64, f64)> = demand
                .iter()
                .enumerate()
                .flat_map(|(k, d)| d.lines.iter().map(move |&(l, q, w)| (k, l, q, w)))
                .filter(|l| shape.kit_of(l.1) == Some(kit))
                .collect();
            let need = |k: usize| -> u64 { lines.iter().filter(|l| l.0 == k).map(|l| l.2).sum() };
            let first = lines.first().map_or(0, |l| l.0);
            let home = holdings.get(first).and_then(|h| {
                h.iter().map(|&(loc, _)| loc).find(|&loc| {
                    lines.iter().all(|l| {
                        holdings.get(l.0).is_some_and(|h| {
                            h.iter().any(|&(at, units)| at == loc && units >= need(l.0))
                        })
                    })
                })
            });
            match home {
                Some(loc) => {
                    for &(k, line, qty, w) in &lines {
                        if let Some(h) = holdings.get_mut(k) {
                            for (at, units) in h.iter_mut() {
                                if *at == loc {
                                    *units -= (*units).min(qty);
                                }
                            }
                        }
                        if let Some(d) = kept.get_mut(k) {
                            d.lines.push((line, qty, w));
                        }
                    }
                }
                None => {
                    for &(k, line, qty, _) in &lines {
                        let own = shortage(k, need(k));
                        let why = if own.is_empty() { "group_split" } else { own };
                        refuse(unsourced, line, qty, why);
                    }
                }
            }
        }
        // Then the other lines, earlier lines first, in whole packs from each holder.
        for (k, d) in demand.iter().enumerate() {
            let mut lines: Vec<(usize, u64, f64)> = d
                .lines
                .iter()
                .copied()
                .filter(|l| shape.kit_of(l.0).is_none())
                .collect();
            lines.sort_by_key(|l| l.0);
            for (line, qty, w) in lines {
                let raw: u64 = holdings.get(k).map_or(0, |h| h.iter().map(|x| x.1).sum());
                let mut need = qty;
                if let Some(h) = holdings.get_mut(k) {
                    for (_, units) in h.iter_mut() {
                        let take = shape.whole_packs(line, *units, need);
                        *units -= take;
                        need -= take;
                    }
                }
                let take = qty - need;
                if take > 0 {
                    if let Some(kd) = kept.get_mut(k) {
                        kd.lines.push((line, take, w));
                    }
                }
                if need > 0 {
                    let own = shortage(k, qty);
                    let why = if !own.is_empty() {
                        own
                    } else if raw >= need {
                        "pack_size"
                    } else {
                        "insufficient_stock"
                    };
                    refuse(unsourced, line, need, why);
                }
            }
        }
        for d in &mut kept {
            d.lines
                .sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        }
        kept.retain(|d| !d.lines.is_empty());
        kept
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
        crate::explain::record(|| {
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
        let heap = std::collections::BinaryHeap::new();
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
                let heap = std::collections::BinaryHeap::new();
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

/// Removes the lines `drop` names from the demand; returns them as (line, units).
fn take_lines(demand: &mut Vec<SkuDemand>, drop: impl Fn(usize) -> bool) -> Vec<(usize, u64)> {
    let mut out = Vec::new();
    for d in demand.iter_mut() {
        d.lines.retain(|l| {
            if drop(l.0) {
                out.push((l.0, l.1));
                false
            } else {
                true
            }
        });
    }
    demand.retain(|d| !d.lines.is_empty());
    out
}

/// Kits with a line the network does not know cannot ship whole: their other lines are
/// unsourced too, with reason `group_split`.
fn drop_broken_kits(
    demand: &mut Vec<SkuDemand>,
    unsourced: &mut Vec<Unsourced>,
    ctx: &Ctx<'_>,
    order: &Order,
) {
    let Some(shape) = ctx.limits.shape else {
        return;
    };
    let broken: Vec<u32> = unsourced
        .iter()
        .filter_map(|u| shape.kit_of(u.line))
        .collect();
    if broken.is_empty() {
        return;
    }
    for (line, qty) in take_lines(demand, |l| {
        shape.kit_of(l).is_some_and(|k| broken.contains(&k))
    }) {
        unsourced.push(Unsourced {
            line,
            sku: order.lines[line].sku.clone(),
            qty: qty as u32,
            reason: "group_split".into(),
        });
    }
}

fn sort_candidates(pool: &mut [Candidate]) {
    pool.sort_by(|a, b| {
        a.min_fixed
            .total_cmp(&b.min_fixed)
            .then(a.rank.cmp(&b.rank))
    });
}
