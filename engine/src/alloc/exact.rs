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
