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
use crate::model::order::Order;

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

/// The demand per known SKU of an order's lines (`units(line)`: the units still to place,
/// `None` to leave the line out), lines heaviest first, then by line; and the lines of a
/// SKU no location lists, which nobody can place. The router and every rule strategy build
/// their demand here.
pub(crate) fn demand_of(
    stock: &crate::stock::Stock,
    order: &crate::model::order::Order,
    units: impl Fn(usize) -> Option<u64>,
) -> (Vec<SkuDemand>, Vec<usize>) {
    let mut unknown = Vec::new();
    let mut demand: Vec<SkuDemand> = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        let Some(qty) = units(i) else {
            continue;
        };
        match stock.sku_id(&line.sku) {
            Some(sku) => {
                let entry = (i, qty, line.unit_weight_kg);
                // Orders have few lines: a scan beats a hash map here.
                match demand.iter_mut().find(|d| d.sku == sku) {
                    Some(d) => d.lines.push(entry),
                    None => demand.push(SkuDemand {
                        sku,
                        lines: vec![entry],
                    }),
                }
            }
            None => unknown.push(i),
        }
    }
    for d in &mut demand {
        d.lines
            .sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    }
    (demand, unknown)
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
    /// Tie-break values per service option (by service), one (fixed, per kg) pair per later
    /// rank key; empty when the strategy ranks by one key (and for the built-in search).
    pub ties: Vec<OptionTies>,
}

/// The tie-break values of one service option (`None`: the pickup counter): one
/// (fixed, per kg) pair per later rank key.
pub(crate) type OptionTies = (Option<u32>, Vec<(f64, f64)>);

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
            ties: Vec::new(),
        }
    }

    /// The tie-break values of a shipment of `weight` kg by `option`.
    fn tie_values(&self, option: &ShipOption, weight: f64) -> impl Iterator<Item = f64> + '_ {
        let service = option.service.map(u32::from);
        self.ties
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
            .iter()
            .map(move |(fixed, per_kg)| fixed + per_kg * weight)
    }
}

/// A rank key after the first one the search minimises: compares plans whose earlier keys
/// tie, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TieKey {
    /// The plan's value is the largest of its shipments' (otherwise their sum).
    pub max: bool,
    /// Larger first.
    pub descending: bool,
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
    /// The plan's values of the later rank keys (larger-first keys negated); empty without.
    pub ties: Vec<f64>,
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
        for (a, b) in self.ties.iter().zip(&other.ties) {
            if a < &(b - COST_EPS) {
                return true;
            }
            if a > &(b + COST_EPS) {
                return false;
            }
        }
        (self.shipments.len(), &self.ranks) < (other.shipments.len(), &other.ranks)
    }

    /// Computes the plan's values of the later rank keys.
    pub fn set_ties(&mut self, candidates: &[Candidate], keys: &[TieKey]) {
        if keys.is_empty() {
            return;
        }
        let mut ties: Vec<f64> = keys
            .iter()
            .map(|k| if k.max { f64::NEG_INFINITY } else { 0.0 })
            .collect();
        for s in &self.shipments {
            let Some(c) = candidates.get(s.candidate) else {
                continue;
            };
            for ((t, k), v) in ties
                .iter_mut()
                .zip(keys)
                .zip(c.tie_values(&s.option, s.weight))
            {
                *t = if k.max { t.max(v) } else { *t + v };
            }
        }
        for (t, k) in ties.iter_mut().zip(keys) {
            if k.descending {
                *t = -*t;
            }
        }
        self.ties = ties;
    }
}

/// Each chosen candidate with its chosen shipping option.
fn chosen_options(
    candidates: &[Candidate],
    chosen: &[usize],
    choice: &[usize],
) -> Vec<(usize, ShipOption)> {
    chosen
        .iter()
        .zip(choice)
        .filter_map(|(&c, &o)| {
            candidates
                .get(c)
                .and_then(|cand| cand.offer.options.get(o))
                .map(|opt| (c, *opt))
        })
        .collect()
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
    let mut order = chosen_options(candidates, chosen, choice);
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
        ties: Vec::new(),
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

/// What an order's lines ask of a plan beyond their units: kits (`group`) that ship whole
/// from one location, and lines shipped in whole packs (`pack_size`). Built only for orders
/// that use either, so plain orders pay nothing for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Units per pack of each order line (1: any number of units).
    pub pack: Vec<u64>,
    /// The kit of each order line, numbered by first appearance (`None`: not in a kit).
    pub kit: Vec<Option<u32>>,
}

impl Shape {
    /// The order's shape, or `None` when no line has a group or a pack size above 1.
    pub fn of(order: &Order) -> Option<Shape> {
        let shaped = order
            .lines
            .iter()
            .any(|l| l.group.is_some() || l.pack_size.is_some_and(|p| p > 1));
        if !shaped {
            return None;
        }
        let mut names: Vec<&str> = Vec::new();
        let kit = order
            .lines
            .iter()
            .map(|l| {
                let name = l.group.as_deref()?;
                let at = match names.iter().position(|n| *n == name) {
                    Some(at) => at,
                    None => {
                        names.push(name);
                        names.len() - 1
                    }
                };
                Some(at as u32)
            })
            .collect();
        let pack = order
            .lines
            .iter()
            .map(|l| u64::from(l.pack_size.unwrap_or(1).max(1)))
            .collect();
        Some(Shape { pack, kit })
    }

    /// Units per pack of a line (1 for an unknown line).
    pub fn pack_of(&self, line: usize) -> u64 {
        self.pack.get(line).copied().unwrap_or(1).max(1)
    }

    /// The kit of a line.
    pub fn kit_of(&self, line: usize) -> Option<u32> {
        self.kit.get(line).copied().flatten()
    }

    /// The kits the lines of `demand` belong to, each once, in order.
    pub(crate) fn kits_in(&self, demand: &[SkuDemand]) -> Vec<u32> {
        let mut kits: Vec<u32> = demand
            .iter()
            .flat_map(|d| &d.lines)
            .filter_map(|l| self.kit_of(l.0))
            .collect();
        kits.sort_unstable();
        kits.dedup();
        kits
    }

    /// `units` rounded down to whole packs of `line`, unless they are all `need`: a line
    /// whose quantity is not a multiple of its pack (possible for library callers only; the
    /// loader refuses it) may ship its remainder as the last part.
    pub fn whole_packs(&self, line: usize, units: u64, need: u64) -> u64 {
        let take = units.min(need);
        if take == need {
            take
        } else {
            take - take % self.pack_of(line)
        }
    }
}

/// What a plan may look like, beyond covering the demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits<'a> {
    /// The most shipments a plan may have.
    pub max_shipments: usize,
    /// Whether each order line must ship whole from one location.
    pub lines_whole: bool,
    /// Kits and packs of the order, when it has any.
    pub shape: Option<&'a Shape>,
    /// Rank keys that break ties of the objective, in order.
    pub ties: &'a [TieKey],
}

impl Limits<'static> {
    /// Any number of shipments, lines may split: the built-in `min-cost` strategy.
    pub const FREE: Limits<'static> = Limits {
        max_shipments: usize::MAX,
        lines_whole: false,
        shape: None,
        ties: &[],
    };
}

/// The cheapest plan over a chosen set of candidates, trying every combination of their
/// options (after dominated options are dropped there is usually one per location), under
/// limits: with whole lines, each line goes to one location; with a shape, kits and packs
/// are kept.
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
        let plan = if let Some(shape) = limits.shape {
            allocate_shaped(
                demand,
                candidates,
                chosen,
                &choice,
                limits.lines_whole,
                shape,
            )
        } else if limits.lines_whole {
            allocate_whole(demand, candidates, chosen, &choice)
        } else {
            allocate(demand, candidates, chosen, &choice)
        };
        if let Some(mut p) = plan {
            p.set_ties(candidates, limits.ties);
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
        ties: Vec::new(),
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

/// A line of the demand, flat: (SKU position in the demand, line index, units, unit weight).
type FlatLine = (usize, usize, u64, f64);

/// The cheapest allocation that respects the order's [`Shape`]: every kit ships whole from
/// one chosen location, and lines with a pack size ship whole packs from each location.
///
/// Kits (and, with `lines_whole`, every line) are assigned to locations exhaustively when
/// there are few enough combinations ([`WHOLE_ASSIGNMENTS`]), otherwise each to the first
/// location by rate per kg that holds it; the other lines then fill the locations by rate
/// per kg, in whole packs. `None` when no assignment covers the demand.
pub(crate) fn allocate_shaped(
    demand: &[SkuDemand],
    candidates: &[Candidate],
    chosen: &[usize],
    choice: &[usize],
    lines_whole: bool,
    shape: &Shape,
) -> Option<Plan> {
    let mut opts = chosen_options(candidates, chosen, choice);
    let rank = |c: usize| candidates.get(c).map_or(u32::MAX, |x| x.rank);
    opts.sort_by(|a, b| {
        a.1.per_kg
            .total_cmp(&b.1.per_kg)
            .then(a.1.fixed.total_cmp(&b.1.fixed))
            .then_with(|| rank(a.0).cmp(&rank(b.0)))
    });
    // Items that ship whole from one location: kits, and lines when lines may not split.
    let mut whole: Vec<Vec<FlatLine>> = Vec::new();
    let mut kit_item: Vec<(u32, usize)> = Vec::new();
    let mut free: Vec<FlatLine> = Vec::new();
    for (i, d) in demand.iter().enumerate() {
        for &(line, qty, w) in &d.lines {
            if qty == 0 {
                continue;
            }
            let flat = (i, line, qty, w);
            match shape.kit_of(line) {
                Some(k) => match kit_item.iter().find(|(kit, _)| *kit == k) {
                    Some(&(_, at)) => {
                        if let Some(item) = whole.get_mut(at) {
                            item.push(flat);
                        }
                    }
                    None => {
                        kit_item.push((k, whole.len()));
                        whole.push(vec![flat]);
                    }
                },
                None if lines_whole => whole.push(vec![flat]),
                None => free.push(flat),
            }
        }
    }
    let item_weight = |item: &[FlatLine]| item.iter().map(|l| l.2 as f64 * l.3).sum::<f64>();
    whole.sort_by(|a, b| {
        item_weight(b)
            .total_cmp(&item_weight(a))
            .then(a.first().map(|l| l.1).cmp(&b.first().map(|l| l.1)))
    });
    let left: Vec<Vec<u64>> = opts
        .iter()
        .map(|(c, _)| {
            candidates
                .get(*c)
                .map(|x| x.atp.clone())
                .unwrap_or_default()
        })
        .collect();
    let mut walk = ShapedWalk {
        opts: &opts,
        whole: &whole,
        free: &free,
        shape,
        left,
        assign: vec![usize::MAX; whole.len()],
        best: None,
        greedy: opts
            .len()
            .checked_pow(whole.len() as u32)
            .is_none_or(|n| n > WHOLE_ASSIGNMENTS),
    };
    walk.assign_item(0);
    let (_, lines) = walk.best?;
    let mut plan = Plan {
        cost: 0.0,
        shipments: Vec::new(),
        ranks: Vec::new(),
        ties: Vec::new(),
    };
    for ((c, opt), mine) in opts.iter().zip(lines) {
        if mine.is_empty() {
            continue;
        }
        let weight: f64 = mine.iter().map(|l| l.1 as f64 * l.2).sum();
        let mut units: Vec<(usize, u64)> = Vec::with_capacity(mine.len());
        let mut sorted = mine;
        sorted.sort_by_key(|l| l.0);
        for (line, qty, _) in sorted {
            match units.last_mut() {
                Some(last) if last.0 == line => last.1 += qty,
                _ => units.push((line, qty)),
            }
        }
        plan.cost += opt.cost(weight);
        plan.shipments.push(PlanShipment {
            candidate: *c,
            lines: units,
            weight,
            option: *opt,
        });
        plan.ranks.push(rank(*c));
    }
    plan.ranks.sort_unstable();
    Some(plan)
}

/// Units per location of a shaped allocation: (line, units, unit weight).
type Loads = Vec<Vec<(usize, u64, f64)>>;

/// The assignment of whole items to locations, then the fill of the other lines.
struct ShapedWalk<'w> {
    opts: &'w [(usize, ShipOption)],
    whole: &'w [Vec<FlatLine>],
    free: &'w [FlatLine],
    shape: &'w Shape,
    /// Stock left per location (in `opts` order) and SKU position.
    left: Vec<Vec<u64>>,
    /// The location of each whole item.
    assign: Vec<usize>,
    /// The best so far: (cost, shipments) and the loads.
    best: Option<((f64, usize), Loads)>,
    /// Too many combinations: each item goes to the first location that holds it.
    greedy: bool,
}

impl ShapedWalk<'_> {
    fn holds(&self, o: usize, item: &[FlatLine]) -> bool {
        let Some(stock) = self.left.get(o) else {
            return false;
        };
        // Lines of one SKU in the item draw on the same stock.
        item.iter().all(|&(i, _, _, _)| {
            let need: u64 = item.iter().filter(|l| l.0 == i).map(|l| l.2).sum();
            stock.get(i).is_some_and(|&a| a >= need)
        })
    }

    fn take(&mut self, o: usize, item: &[FlatLine], add: bool) {
        if let Some(stock) = self.left.get_mut(o) {
            for &(i, _, qty, _) in item {
                if let Some(a) = stock.get_mut(i) {
                    *a = if add { *a + qty } else { a.saturating_sub(qty) };
                }
            }
        }
    }

    fn assign_item(&mut self, k: usize) {
        let Some(item) = self.whole.get(k) else {
            self.fill();
            return;
        };
        for o in 0..self.opts.len() {
            if !self.holds(o, item) {
                continue;
            }
            self.take(o, item, false);
            if let Some(a) = self.assign.get_mut(k) {
                *a = o;
            }
            self.assign_item(k + 1);
            self.take(o, item, true);
            if self.greedy {
                return;
            }
        }
    }

    /// The free lines by rate per kg in whole packs, then the plan's cost.
    fn fill(&mut self) {
        let mut loads: Loads = vec![Vec::new(); self.opts.len()];
        for (item, &o) in self.whole.iter().zip(&self.assign) {
            if let Some(load) = loads.get_mut(o) {
                load.extend(item.iter().map(|&(_, line, qty, w)| (line, qty, w)));
            }
        }
        let mut left = self.left.clone();
        for &(i, line, qty, w) in self.free {
            let mut need = qty;
            for (o, stock) in left.iter_mut().enumerate() {
                if need == 0 {
                    break;
                }
                let Some(avail) = stock.get_mut(i) else {
                    continue;
                };
                let take = self.shape.whole_packs(line, *avail, need);
                if take > 0 {
                    *avail -= take;
                    need -= take;
                    if let Some(load) = loads.get_mut(o) {
                        load.push((line, take, w));
                    }
                }
            }
            if need > 0 {
                return;
            }
        }
        let mut cost = 0.0;
        let mut used = 0;
        for ((_, opt), load) in self.opts.iter().zip(&loads) {
            if load.is_empty() {
                continue;
            }
            used += 1;
            cost += opt.cost(load.iter().map(|l| l.1 as f64 * l.2).sum());
        }
        let wins = match &self.best {
            None => true,
            Some(((c, n), _)) => cost < *c - COST_EPS || (cost <= *c + COST_EPS && used < *n),
        };
        if wins {
            self.best = Some(((cost, used), loads));
        }
    }
}
