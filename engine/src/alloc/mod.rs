//! Allocation: the cheapest plan for one order under the contract's cost model.
//!
//! In: an order's demand (merged by SKU) and the candidate locations with their stock and
//! shipping offers. Out: a [`Plan`], each used location with its option and its units.
//!
//! A plan's cost is a sum over shipments of `fixed + per_kg * weight`. For a chosen set of
//! locations (and an option per location) the cheapest allocation is greedy: every unit goes
//! to the location with the lowest cost per kg that still has stock, the heaviest lines
//! first. What is hard is choosing the set, because each location used pays a fixed cost;
//! [`exact`] searches the sets by branch and bound.

pub(crate) mod exact;

use crate::cost::{LocationOffer, ShipOption};

/// Costs closer than this are equal; ties then go to fewer shipments, then to the
/// locations' (priority, id) ranks.
pub(crate) const COST_EPS: f64 = 1e-9;

/// Demand for one SKU: the order lines that ask for it, heaviest first.
#[derive(Debug, Clone)]
pub(crate) struct SkuDemand {
    /// The stock's SKU id.
    pub sku: u32,
    /// (line index, units, unit weight), heaviest unit first, then by line index.
    pub lines: Vec<(usize, u64, f64)>,
}

impl SkuDemand {
    pub fn total(&self) -> u64 {
        self.lines.iter().map(|l| l.1).sum()
    }

    pub fn weight(&self) -> f64 {
        self.lines.iter().map(|l| l.1 as f64 * l.2).sum()
    }
}

/// A location that may ship part of the order.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// Location index in the network.
    pub location: u32,
    /// Rank of the location by (priority, id): lower wins ties.
    pub rank: u32,
    /// Its distance and service options for this order.
    pub offer: LocationOffer,
    /// Least fixed cost of any option.
    pub min_fixed: f64,
    /// Least and greatest cost per kg of any option.
    pub min_per_kg: f64,
    pub max_per_kg: f64,
    /// Units it can promise, per SKU demand (same order as the demand list).
    pub atp: Vec<u64>,
}

impl Candidate {
    pub fn new(location: u32, rank: u32, mut offer: LocationOffer, atp: Vec<u64>) -> Candidate {
        offer.prune_dominated();
        let max_per_kg = offer.options.iter().map(|o| o.per_kg).fold(0.0, f64::max);
        Candidate {
            location,
            rank,
            min_fixed: offer.min_fixed(),
            min_per_kg: offer.min_per_kg(),
            max_per_kg,
            offer,
            atp,
        }
    }
}

/// One shipment of a plan.
#[derive(Debug, Clone)]
pub(crate) struct PlanShipment {
    /// Index into the candidate list the plan was made from.
    pub candidate: usize,
    /// Units per order line: (line index, units).
    pub lines: Vec<(usize, u64)>,
    /// Total weight.
    pub weight: f64,
    /// The option the contract picks at that weight.
    pub option: ShipOption,
}

/// A complete plan for the demand it was made for.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub cost: f64,
    pub shipments: Vec<PlanShipment>,
    /// Ranks of the locations used, ascending (the tie-break key).
    pub ranks: Vec<u32>,
}

impl Plan {
    /// Whether this plan beats `other`: cheaper, or as cheap with fewer shipments, or as
    /// cheap and as many with better-ranked locations.
    pub fn better_than(&self, other: Option<&Plan>) -> bool {
        let Some(other) = other else { return true };
        if self.cost < other.cost - COST_EPS {
            return true;
        }
        if self.cost > other.cost + COST_EPS {
            return false;
        }
        (self.shipments.len(), &self.ranks) < (other.shipments.len(), &other.ranks)
    }
}

/// The cheapest allocation of `demand` over the chosen candidates, each using one option
/// (`choice[k]` indexes the options of `chosen[k]`). `None` when the stock does not cover it.
pub(crate) fn allocate(
    demand: &[SkuDemand],
    candidates: &[Candidate],
    chosen: &[usize],
    choice: &[usize],
) -> Option<Plan> {
    // Locations in order of cost per kg, then rank: the order every line fills them in.
    let mut order: Vec<(usize, ShipOption)> = chosen
        .iter()
        .zip(choice)
        .filter_map(|(&c, &o)| {
            candidates
                .get(c)
                .and_then(|cand| cand.offer.options.get(o))
                .map(|opt| (c, *opt))
        })
        .collect();
    // Equal rates: the location with the lower fixed part first, so a set's cheapest
    // member carries the units (and a member a rule rewards is really used).
    order.sort_by(|a, b| {
        a.1.per_kg
            .total_cmp(&b.1.per_kg)
            .then(a.1.fixed.total_cmp(&b.1.fixed))
            .then_with(|| {
                let ra = candidates.get(a.0).map_or(u32::MAX, |c| c.rank);
                let rb = candidates.get(b.0).map_or(u32::MAX, |c| c.rank);
                ra.cmp(&rb)
            })
    });
    let mut lines: Vec<Vec<(usize, u64)>> = vec![Vec::new(); order.len()];
    let mut weight = vec![0.0f64; order.len()];
    for (i, d) in demand.iter().enumerate() {
        let mut left: Vec<u64> = order
            .iter()
            .map(|(c, _)| {
                candidates
                    .get(*c)
                    .and_then(|x| x.atp.get(i))
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
        for &(line, qty, unit_w) in &d.lines {
            let mut need = qty;
            for (k, avail) in left.iter_mut().enumerate() {
                if need == 0 {
                    break;
                }
                let take = need.min(*avail);
                if take > 0 {
                    *avail -= take;
                    need -= take;
                    if let (Some(l), Some(w)) = (lines.get_mut(k), weight.get_mut(k)) {
                        l.push((line, take));
                        *w += take as f64 * unit_w;
                    }
                }
            }
            if need > 0 {
                return None;
            }
        }
    }
    let mut plan = Plan {
        cost: 0.0,
        shipments: Vec::new(),
        ranks: Vec::new(),
    };
    for (k, (c, opt)) in order.iter().enumerate() {
        let Some(l) = lines.get_mut(k) else { continue };
        if l.is_empty() {
            continue;
        }
        let w = weight.get(k).copied().unwrap_or(0.0);
        plan.cost += opt.cost(w);
        l.sort_unstable();
        plan.shipments.push(PlanShipment {
            candidate: *c,
            lines: std::mem::take(l),
            weight: w,
            option: *opt,
        });
        plan.ranks
            .push(candidates.get(*c).map_or(u32::MAX, |x| x.rank));
    }
    plan.ranks.sort_unstable();
    Some(plan)
}

/// What a plan may look like, beyond covering the demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The most shipments a plan may have.
    pub max_shipments: usize,
    /// Whether each order line must ship whole from one location.
    pub lines_whole: bool,
}

impl Limits {
    /// Any number of shipments, lines may split: the built-in `min-cost` strategy.
    pub const FREE: Limits = Limits {
        max_shipments: usize::MAX,
        lines_whole: false,
    };
}

/// The cheapest plan over a chosen set of candidates, trying every combination of their
/// options (after dominated options are dropped there is usually one per location).
pub(crate) fn best_plan_for_set(
    demand: &[SkuDemand],
    candidates: &[Candidate],
    chosen: &[usize],
) -> Option<Plan> {
    best_plan_within(demand, candidates, chosen, Limits::FREE)
}

/// [`best_plan_for_set`] under limits: with whole lines, each line goes to one location.
pub(crate) fn best_plan_within(
    demand: &[SkuDemand],
    candidates: &[Candidate],
    chosen: &[usize],
    limits: Limits,
) -> Option<Plan> {
    let counts: Vec<usize> = chosen
        .iter()
        .map(|&c| {
            candidates
                .get(c)
                .map_or(1, |x| x.offer.options.len().max(1))
        })
        .collect();
    let mut choice = vec![0usize; chosen.len()];
    let mut best: Option<Plan> = None;
    loop {
        let plan = if limits.lines_whole {
            allocate_whole(demand, candidates, chosen, &choice)
        } else {
            allocate(demand, candidates, chosen, &choice)
        };
        if let Some(p) = plan {
            if p.better_than(best.as_ref()) {
                best = Some(p);
            }
        }
        // Next combination, odometer style.
        let mut k = 0;
        loop {
            let (Some(c), Some(&n)) = (choice.get_mut(k), counts.get(k)) else {
                return best;
            };
            *c += 1;
            if *c < n {
                break;
            }
            *c = 0;
            k += 1;
        }
    }
}

/// Most assignments of whole lines to locations tried for one set; beyond, lines go
/// greedily to the cheapest location that can hold them whole.
const WHOLE_ASSIGNMENTS: usize = 4096;

/// The cheapest allocation in which every line ships whole from one chosen location.
pub(crate) fn allocate_whole(
    demand: &[SkuDemand],
    candidates: &[Candidate],
    chosen: &[usize],
    choice: &[usize],
) -> Option<Plan> {
    // Every line with its SKU's position in the demand, heaviest first.
    let mut lines: Vec<(usize, usize, u64, f64)> = demand
        .iter()
        .enumerate()
        .flat_map(|(i, d)| d.lines.iter().map(move |&(line, qty, w)| (i, line, qty, w)))
        .collect();
    lines.sort_by(|a, b| {
        (b.2 as f64 * b.3)
            .total_cmp(&(a.2 as f64 * a.3))
            .then(a.1.cmp(&b.1))
    });
    let opts: Vec<(usize, ShipOption)> = chosen
        .iter()
        .zip(choice)
        .filter_map(|(&c, &o)| {
            candidates
                .get(c)
                .and_then(|x| x.offer.options.get(o))
                .map(|opt| (c, *opt))
        })
        .collect();
    let mut left: Vec<Vec<u64>> = opts
        .iter()
        .map(|(c, _)| {
            candidates
                .get(*c)
                .map(|x| x.atp.clone())
                .unwrap_or_default()
        })
        .collect();
    let exhaustive = opts
        .len()
        .checked_pow(lines.len() as u32)
        .is_some_and(|n| n <= WHOLE_ASSIGNMENTS);
    let mut assign = vec![usize::MAX; lines.len()];
    let mut best: Option<(f64, Vec<usize>)> = None;
    if exhaustive {
        assign_lines(0, &lines, &opts, &mut left, &mut assign, &mut best);
    } else {
        // Greedy: each line to the location with the lowest rate per kg that holds it whole.
        let mut order: Vec<usize> = (0..opts.len()).collect();
        order.sort_by(|&a, &b| opts[a].1.per_kg.total_cmp(&opts[b].1.per_kg));
        for (k, &(sku, _, qty, _)) in lines.iter().enumerate() {
            let at = order
                .iter()
                .copied()
                .find(|&o| left[o].get(sku).is_some_and(|&a| a >= qty))?;
            if let Some(a) = left[at].get_mut(sku) {
                *a -= qty;
            }
            assign[k] = at;
        }
        best = Some((whole_cost(&lines, &opts, &assign), assign));
    }
    let (_, assign) = best?;
    let mut plan = Plan {
        cost: 0.0,
        shipments: Vec::new(),
        ranks: Vec::new(),
    };
    for (o, (c, opt)) in opts.iter().enumerate() {
        let mine: Vec<(usize, u64)> = lines
            .iter()
            .zip(&assign)
            .filter(|(_, &a)| a == o)
            .map(|(l, _)| (l.1, l.2))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let weight: f64 = lines
            .iter()
            .zip(&assign)
            .filter(|(_, &a)| a == o)
            .map(|(l, _)| l.2 as f64 * l.3)
            .sum();
        let mut mine = mine;
        mine.sort_unstable();
        plan.cost += opt.cost(weight);
        plan.shipments.push(PlanShipment {
            candidate: *c,
            lines: mine,
            weight,
            option: *opt,
        });
        plan.ranks
            .push(candidates.get(*c).map_or(u32::MAX, |x| x.rank));
    }
    plan.ranks.sort_unstable();
    Some(plan)
}

fn whole_cost(
    lines: &[(usize, usize, u64, f64)],
    opts: &[(usize, ShipOption)],
    assign: &[usize],
) -> f64 {
    opts.iter()
        .enumerate()
        .map(|(o, (_, opt))| {
            let w: f64 = lines
                .iter()
                .zip(assign)
                .filter(|(_, &a)| a == o)
                .map(|(l, _)| l.2 as f64 * l.3)
                .sum();
            let used = assign.contains(&o);
            if used {
                opt.cost(w)
            } else {
                0.0
            }
        })
        .sum()
}

fn assign_lines(
    k: usize,
    lines: &[(usize, usize, u64, f64)],
    opts: &[(usize, ShipOption)],
    left: &mut [Vec<u64>],
    assign: &mut [usize],
    best: &mut Option<(f64, Vec<usize>)>,
) {
    let Some(&(sku, _, qty, _)) = lines.get(k) else {
        let cost = whole_cost(lines, opts, assign);
        if best.as_ref().is_none_or(|(b, _)| cost < *b - COST_EPS) {
            *best = Some((cost, assign.to_vec()));
        }
        return;
    };
    for o in 0..opts.len() {
        let Some(avail) = left.get_mut(o).and_then(|l| l.get_mut(sku)) else {
            continue;
        };
        if *avail < qty {
            continue;
        }
        *avail -= qty;
        if let Some(a) = assign.get_mut(k) {
            *a = o;
        }
        assign_lines(k + 1, lines, opts, left, assign, best);
        if let Some(avail) = left.get_mut(o).and_then(|l| l.get_mut(sku)) {
            *avail += qty;
        }
    }
}
