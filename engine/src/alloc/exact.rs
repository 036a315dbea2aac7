//! Branch and bound over sets of candidate locations.
//!
//! Candidates are sorted by their least fixed cost. The search adds them in that order,
//! each either covering demand still open or shipping for less per kg than a location
//! already chosen (no other location can lower the cost). A branch stops as soon as its
//! lower bound — fixed costs chosen, plus the cheapest fixed costs of as many more
//! locations as the open demand needs, plus the whole weight at the least rate per kg —
//! reaches the best plan found. Without a work limit the result is the cheapest plan.

use super::{best_plan_within, Candidate, Limits, Plan, SkuDemand, COST_EPS};

/// The outcome of a search.
pub(crate) struct Outcome {
    pub plan: Option<Plan>,
    /// Search nodes visited.
    pub nodes: u64,
    /// True when the work limit stopped the search: the plan is valid, maybe not cheapest.
    pub truncated: bool,
}

struct Search<'a> {
    demand: &'a [SkuDemand],
    cands: &'a [Candidate],
    /// `prefix[j]` = sum of the non-negative parts of the least fixed costs of `0..j`.
    prefix: Vec<f64>,
    /// `negative[j]` = sum of the negative parts of the least fixed costs of `j..`.
    negative: Vec<f64>,
    /// `suffix_max[j * n_sku + i]` = most units of SKU i any candidate `j..` holds.
    suffix_max: Vec<u64>,
    /// `suffix_least[j * n_sku + i]` = the least non-negative part of the least fixed cost
    /// of any candidate `j..` that holds SKU i (infinite when none does).
    suffix_least: Vec<f64>,
    /// Candidates no plan as good as the best can use (see [`dominated`]).
    skip: Vec<bool>,
    /// Every unit's weight at the least rate per kg of any candidate.
    weight_floor: f64,
    best: Option<Plan>,
    /// The cost of the best plan known outside this search.
    outside: f64,
    chosen: Vec<usize>,
    nodes: u64,
    budget: u64,
    /// Count each plan evaluated as one node per location in it (see [`search_within`]).
    weigh_plans: bool,
    truncated: bool,
    limits: Limits<'a>,
}

/// Finds the cheapest plan for `demand` over `cands` (sorted by least fixed cost, then
/// rank) that costs less than `bound` (a plan known elsewhere) and keeps `limits`, visiting
/// at most `budget` nodes. `None` when no plan here beats the bound.
///
/// With `weigh_plans`, evaluating a plan over `k` chosen locations counts `k` more nodes:
/// its allocation costs in proportion to `k`, so the budget bounds the time of a search
/// among hundreds of locations too, not only the number of sets it tries.
pub(crate) fn search_within(
    demand: &[SkuDemand],
    cands: &[Candidate],
    bound: f64,
    budget: u64,
    weigh_plans: bool,
    limits: Limits<'_>,
) -> Outcome {
    let n_sku = demand.len();
    let n = cands.len();
    // Fixed parts may be negative when a rule's score rewards a location. Any completion
    // from candidate `j` on adds at most every negative part there is, plus the smallest
    // non-negative parts of as many locations as it needs.
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    for c in cands {
        let last = prefix.last().copied().unwrap_or(0.0);
        prefix.push(last + c.min_fixed.max(0.0));
    }
    let mut negative = vec![0.0; n + 1];
    for j in (0..n).rev() {
        let here = cands.get(j).map_or(0.0, |c| c.min_fixed.min(0.0));
        negative[j] = negative[j + 1] + here;
    }
    let mut suffix_max = vec![0u64; (n + 1) * n_sku];
    for j in (0..n).rev() {
        for i in 0..n_sku {
            let here = cands
                .get(j)
                .and_then(|c| c.atp.get(i))
                .copied()
                .unwrap_or(0);
            let later = suffix_max.get((j + 1) * n_sku + i).copied().unwrap_or(0);
            if let Some(slot) = suffix_max.get_mut(j * n_sku + i) {
                *slot = here.max(later);
            }
        }
    }
    let mut suffix_least = vec![f64::INFINITY; (n + 1) * n_sku];
    for j in (0..n).rev() {
        let (fixed, atp) = cands.get(j).map_or((f64::INFINITY, &[][..]), |c| {
            (c.min_fixed.max(0.0), &c.atp[..])
        });
        for i in 0..n_sku {
            let later = suffix_least
                .get((j + 1) * n_sku + i)
                .copied()
                .unwrap_or(f64::INFINITY);
            let here = if atp.get(i).copied().unwrap_or(0) > 0 {
                fixed
            } else {
                f64::INFINITY
            };
            if let Some(slot) = suffix_least.get_mut(j * n_sku + i) {
                *slot = here.min(later);
            }
        }
    }
    let k_floor = cands
        .iter()
        .map(|c| c.min_per_kg)
        .fold(f64::INFINITY, f64::min);
    let weight: f64 = demand.iter().map(SkuDemand::weight).sum();
    let weight_floor = if k_floor.is_finite() {
        weight * k_floor
    } else {
        0.0
    };
    let mut s = Search {
        demand,
        cands,
        prefix,
        negative,
        suffix_max,
        suffix_least,
        skip: dominated(demand, cands, limits),
        weight_floor,
        best: None,
        outside: bound,
        chosen: Vec::new(),
        nodes: 0,
        budget,
        weigh_plans,
        truncated: false,
        limits,
    };
    let mut residual: Vec<u64> = demand.iter().map(SkuDemand::total).collect();
    s.explore(0, 0.0, &mut residual, 0.0);
    Outcome {
        plan: s.best,
        nodes: s.nodes,
        truncated: s.truncated,
    }
}

impl Search<'_> {
    fn bound(&self) -> f64 {
        self.best.as_ref().map_or(self.outside, |b| b.cost)
    }

    /// How many more candidates from `j` on the open demand needs at least; `None` when
    /// those candidates cannot cover it at all.
    fn more_needed(&self, j: usize, residual: &[u64]) -> Option<usize> {
        let n_sku = self.demand.len();
        let mut need = 0usize;
        for (i, &r) in residual.iter().enumerate() {
            if r == 0 {
                continue;
            }
            let most = self.suffix_max.get(j * n_sku + i).copied().unwrap_or(0);
            if most == 0 {
                return None;
            }
            need = need.max(r.div_ceil(most) as usize);
        }
        Some(need)
    }

    fn explore(&mut self, start: usize, sum_fixed: f64, residual: &mut [u64], max_rate: f64) {
        self.nodes += 1;
        if self.nodes > self.budget {
            self.truncated = true;
            return;
        }
        let covered = residual.iter().all(|&r| r == 0);
        if covered && !self.chosen.is_empty() {
            if self.weigh_plans {
                self.nodes += self.chosen.len() as u64;
            }
            if let Some(plan) = best_plan_within(self.demand, self.cands, &self.chosen, self.limits)
            {
                let wins = match &self.best {
                    Some(_) => plan.better_than(self.best.as_ref()),
                    None => plan.cost < self.outside - COST_EPS,
                };
                if wins {
                    self.best = Some(plan);
                }
            }
        }
        let room = self.limits.max_shipments.saturating_sub(self.chosen.len());
        let n_sku = self.demand.len();
        for j in start..self.cands.len() {
            let need = if covered {
                1
            } else {
                match self.more_needed(j, residual) {
                    Some(k) => k.max(1),
                    None => return,
                }
            };
            if need > room {
                return;
            }
            let (Some(&from), Some(&to)) = (self.prefix.get(j), self.prefix.get(j + need)) else {
                return;
            };
            // Candidates are sorted by fixed cost, so this bound only grows with `j`.
            let lower = sum_fixed
                + self.negative.get(j).copied().unwrap_or(0.0)
                + (to - from)
                + self.weight_floor;
            // With tie keys, plans as good as the best may still win on them.
            let slack = if self.limits.ties.is_empty() {
                -COST_EPS
            } else {
                COST_EPS
            };
            if lower >= self.bound() + slack {
                return;
            }
            // Every open SKU needs one of its holders from `j` on: the dearest of those
            // cheapest holders is a second bound, which also only grows with `j`. It cuts
            // only plans dearer than the best beyond any tie, so the plan found is the same.
            if !covered {
                let least = self
                    .suffix_least
                    .get(j * n_sku..(j + 1) * n_sku)
                    .unwrap_or(&[]);
                let dearest = residual
                    .iter()
                    .zip(least)
                    .filter(|(&r, _)| r > 0)
                    .map(|(_, &f)| f)
                    .fold(0.0, f64::max);
                let lower = sum_fixed
                    + self.negative.get(j).copied().unwrap_or(0.0)
                    + dearest
                    + self.weight_floor;
                if lower >= self.bound() + COST_EPS {
                    return;
                }
            }
            if self.skip.get(j).copied().unwrap_or(false) {
                continue;
            }
            let Some(c) = self.cands.get(j) else { return };
            let covers = residual.iter().zip(&c.atp).any(|(&r, &a)| r > 0 && a > 0);
            // With kits or packs, a location that adds no unit may still make a plan
            // possible (a kit together, a whole pack), so it is not skipped.
            if !covers && c.min_per_kg >= max_rate && self.limits.shape.is_none() {
                continue;
            }
            let before: Vec<u64> = residual.to_vec();
            for (r, &a) in residual.iter_mut().zip(&c.atp) {
                *r -= (*r).min(a);
            }
            self.chosen.push(j);
            self.explore(
                j + 1,
                sum_fixed + c.min_fixed,
                residual,
                max_rate.max(c.max_per_kg),
            );
            self.chosen.pop();
            residual.copy_from_slice(&before);
            if self.truncated {
                return;
            }
        }
    }
}

/// SKUs at most this many in an order have their dominated candidates found.
const DOMINANCE_SKUS: usize = 16;

/// Candidates kept per set of SKUs held whole as possible dominators of the others.
const DOMINATORS: usize = 8;

/// Candidates another one beats in every way, so that no best plan uses them and the search
/// need not try them: the other one holds the whole demand of every SKU the candidate
/// holds, is no dearer (fixed part and rate per kg), and is better beyond any tie — either
/// its fixed part is lower, or, when the plan's later keys are sums or maxima of values
/// that never fall below zero and never grow with the weight, it is no worse on any of
/// them and lower on a sum. Any plan with the candidate is then beaten by the same plan
/// with the other one instead, or with the candidate's units moved to the other one when
/// both are in it (costs are concave in the weight and never below zero). Kits and packs
/// are left alone: there a candidate's worth is not its units alone.
fn dominated(demand: &[SkuDemand], cands: &[Candidate], limits: Limits<'_>) -> Vec<bool> {
    let mut skip = vec![false; cands.len()];
    if limits.shape.is_some() || demand.len() > DOMINANCE_SKUS || cands.len() < 3 {
        return skip;
    }
    let total: Vec<u64> = demand.iter().map(SkuDemand::total).collect();
    let mask = |c: &Candidate, whole: bool| -> u32 {
        let mut m = 0u32;
        for (i, (&t, &a)) in total.iter().zip(&c.atp).enumerate() {
            if t > 0 && a > 0 && (!whole || a >= t) {
                m |= 1 << i;
            }
        }
        m
    };
    // Each candidate's least and greatest value of every later key over its options.
    let keys = limits.ties;
    let spans: Vec<Option<Vec<(f64, f64)>>> =
        cands.iter().map(|c| tie_span(c, keys.len())).collect();
    let ties_comparable = !keys.is_empty() && keys.iter().all(|k| !k.descending);
    // Ties matter only where some key is a sum; a key of maxima never makes one strictly
    // better when another shipment has the greater value.
    let beats = |b: usize, a: usize| -> bool {
        let (Some(cb), Some(ca)) = (cands.get(b), cands.get(a)) else {
            return false;
        };
        if cb.min_fixed > ca.min_fixed || cb.max_per_kg > ca.min_per_kg {
            return false;
        }
        if cb.min_fixed < ca.min_fixed - 4.0 * COST_EPS {
            return true;
        }
        if !ties_comparable {
            return false;
        }
        let (Some(Some(sb)), Some(Some(sa))) = (spans.get(b), spans.get(a)) else {
            return false;
        };
        let no_worse = sb.iter().zip(sa).all(|(&(_, hi), &(lo, _))| hi <= lo);
        let lower_sum = keys
            .iter()
            .zip(sb.iter().zip(sa))
            .any(|(k, (&(_, hi), &(lo, _)))| !k.max && hi < lo - 4.0 * COST_EPS);
        no_worse && lower_sum
    };
    // The dominators: per set of SKUs held whole, the few cheapest (then best on the later
    // keys) candidates whose costs never fall below zero.
    let order_key = |i: usize| -> (f64, f64) {
        let c = cands.get(i);
        let first_tie = spans
            .get(i)
            .and_then(|s| s.as_ref())
            .and_then(|s| s.first())
            .map_or(0.0, |t| t.1);
        (c.map_or(f64::INFINITY, |c| c.min_fixed), first_tie)
    };
    let mut dominators: Vec<(u32, Vec<usize>)> = Vec::new();
    for (i, c) in cands.iter().enumerate() {
        if !c.min_fixed.is_finite() || c.min_fixed < 0.0 {
            continue;
        }
        let whole = mask(c, true);
        if whole == 0 {
            continue;
        }
        let list = match dominators.iter_mut().find(|d| d.0 == whole) {
            Some(d) => &mut d.1,
            None => {
                dominators.push((whole, Vec::new()));
                match dominators.last_mut() {
                    Some(d) => &mut d.1,
                    None => continue,
                }
            }
        };
        if list.len() < DOMINATORS {
            list.push(i);
        } else if let Some(worst) = (0..list.len()).max_by(|&x, &y| {
            let (kx, ky) = (order_key(list[x]), order_key(list[y]));
            kx.0.total_cmp(&ky.0).then(kx.1.total_cmp(&ky.1))
        }) {
            let (kw, ki) = (order_key(list[worst]), order_key(i));
            if ki.0.total_cmp(&kw.0).then(ki.1.total_cmp(&kw.1)).is_lt() {
                list[worst] = i;
            }
        }
    }
    for (a, (c, skip)) in cands.iter().zip(skip.iter_mut()).enumerate() {
        let holds = mask(c, false);
        *skip = dominators
            .iter()
            .filter(|(whole, _)| holds & !whole == 0)
            .flat_map(|(_, list)| list.iter())
            .any(|&b| b != a && beats(b, a));
    }
    skip
}

/// The least and greatest value of each of `n` later keys over a candidate's options;
/// `None` when a value could fall below zero or grow with the weight (then the keys
/// cannot tell two candidates apart for [`dominated`]).
fn tie_span(c: &Candidate, n: usize) -> Option<Vec<(f64, f64)>> {
    let mut span = vec![(f64::INFINITY, f64::NEG_INFINITY); n];
    for o in &c.offer.options {
        let service = o.service.map(u32::from);
        let values = c
            .ties
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default();
        for (k, sp) in span.iter_mut().enumerate() {
            // A key an option has no value for adds nothing to the plan's.
            let (fixed, per_kg) = values.get(k).copied().unwrap_or((0.0, 0.0));
            if per_kg != 0.0 || !fixed.is_finite() || fixed < 0.0 {
                return None;
            }
            *sp = (sp.0.min(fixed), sp.1.max(fixed));
        }
    }
    Some(span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{LocationOffer, ShipOption};

    fn cand(location: u32, fixed: f64, per_kg: f64, atp: Vec<u64>) -> Candidate {
        let offer = LocationOffer {
            distance_km: 0.0,
            options: vec![ShipOption {
                service: Some(0),
                fixed,
                per_kg,
                days: 2,
                meets_promise: true,
            }],
        };
        Candidate::new(location, location, offer, atp)
    }

    fn demand(qty: &[u64]) -> Vec<SkuDemand> {
        qty.iter()
            .enumerate()
            .map(|(i, &q)| SkuDemand {
                sku: i as u32,
                lines: vec![(i, q, 1.0)],
            })
            .collect()
    }

    /// The cheapest plan over every set of at most `k` candidates, tried one by one.
    fn exhaustive(d: &[SkuDemand], cands: &[Candidate], k: usize) -> Option<Plan> {
        let mut best: Option<Plan> = None;
        for set in 1u32..(1 << cands.len()) {
            if set.count_ones() as usize > k {
                continue;
            }
            let chosen: Vec<usize> = (0..cands.len()).filter(|i| set & (1 << i) != 0).collect();
            if let Some(p) = best_plan_within(d, cands, &chosen, Limits::FREE) {
                if p.cost < best.as_ref().map_or(f64::INFINITY, |b| b.cost) - COST_EPS {
                    best = Some(p);
                }
            }
        }
        best
    }

    /// Many near holders of the common SKUs, one far holder of the rare one: the search
    /// skips the holders a cheaper one beats in every way and finds the cheapest plan.
    #[test]
    fn interchangeable_holders_are_not_tried_and_the_plan_is_the_cheapest() {
        let mut cands = Vec::new();
        for i in 0..12u32 {
            let f = 10.0 + f64::from(i) * 0.1;
            cands.push(cand(i, f, 0.35, vec![0, 3 + u64::from(i % 3), 0]));
            cands.push(cand(100 + i, f + 0.05, 0.35, vec![4, 0, 0]));
        }
        cands.push(cand(200, 13.0, 0.35, vec![0, 5, 3]));
        cands.sort_by(|a, b| {
            a.min_fixed
                .total_cmp(&b.min_fixed)
                .then(a.rank.cmp(&b.rank))
        });
        let d = demand(&[2, 1, 1]);
        let limits = Limits {
            max_shipments: 3,
            ..Limits::FREE
        };
        let out = search_within(&d, &cands, f64::INFINITY, u64::MAX, false, limits);
        let plan = out.plan.expect("a plan");
        let reference = exhaustive(&d, &cands[..], 3).expect("a plan");
        assert!((plan.cost - reference.cost).abs() < 1e-9);
        // 25 candidates: without the dominance and per-SKU bounds the search visits
        // hundreds of sets; with them, a few dozen.
        assert!(out.nodes < 60, "visited {} nodes", out.nodes);
        let skip = dominated(&d, &cands, limits);
        assert_eq!(skip.iter().filter(|&&s| s).count(), 22);
    }

    /// A candidate is never skipped in favour of one that lacks the stock for the whole
    /// demand, is dearer per kg, or is not cheaper beyond a tie.
    #[test]
    fn dominance_needs_whole_stock_no_dearer_rate_and_a_lower_fixed_part() {
        let d = demand(&[4]);
        let cands = vec![
            cand(0, 5.0, 0.35, vec![3]), // short of the whole demand
            cand(1, 6.0, 0.35, vec![4]),
            cand(2, 6.0, 0.35, vec![9]), // ties with 1
            cand(3, 7.0, 0.20, vec![9]), // cheaper per kg than 1 and 2
            cand(4, 8.0, 0.35, vec![1]), // beaten by 1
        ];
        let skip = dominated(&d, &cands, Limits::FREE);
        assert_eq!(skip, vec![false, false, false, false, true]);
    }

    fn with_ties(mut c: Candidate, values: Vec<f64>) -> Candidate {
        c.ties = vec![(Some(0), values.into_iter().map(|v| (v, 0.0)).collect())];
        c
    }

    /// Equal costs, a later key of sums (distance): the nearer holder of the same SKUs
    /// beats the farther ones, so the search tries pairs of nearest holders only, and
    /// finds the plan the exhaustive comparison finds.
    #[test]
    fn ties_of_sums_let_the_nearer_of_equal_holders_stand_in() {
        let keys = [crate::alloc::TieKey {
            max: false,
            descending: false,
        }];
        let mut cands = Vec::new();
        for i in 0..30u32 {
            let km = 10.0 + f64::from(i);
            cands.push(with_ties(cand(i, 0.0, 0.0, vec![2, 0]), vec![km]));
            cands.push(with_ties(
                cand(100 + i, 0.0, 0.0, vec![0, 2]),
                vec![km + 0.5],
            ));
        }
        cands.sort_by(|a, b| {
            a.min_fixed
                .total_cmp(&b.min_fixed)
                .then(a.rank.cmp(&b.rank))
        });
        let d = demand(&[1, 1]);
        let limits = Limits {
            max_shipments: 2,
            ties: &keys,
            ..Limits::FREE
        };
        let skip = dominated(&d, &cands, limits);
        assert_eq!(skip.iter().filter(|&&s| !s).count(), 2);
        let out = search_within(&d, &cands, f64::INFINITY, u64::MAX, false, limits);
        let plan = out.plan.expect("a plan");
        let mut locations: Vec<u32> = plan
            .shipments
            .iter()
            .filter_map(|s| cands.get(s.candidate).map(|c| c.location))
            .collect();
        locations.sort_unstable();
        assert_eq!(locations, vec![0, 100]);
        assert!(out.nodes < 20, "visited {} nodes", out.nodes);
        // A key of values that may fall below zero tells nothing: no holder stands in.
        let negative: Vec<Candidate> = cands
            .iter()
            .cloned()
            .map(|c| {
                let km = c
                    .ties
                    .first()
                    .and_then(|t| t.1.first())
                    .map_or(0.0, |v| v.0);
                with_ties(c, vec![km - 20.0])
            })
            .collect();
        assert!(dominated(&d, &negative, limits).iter().all(|&s| !s));
    }
}
