//! Explanations: which candidates a decision considered, which it kept, which it dropped
//! and why.
//!
//! In: the searches report each candidate they look at to the [`Trace`] handed to them,
//! only when an explanation is being collected (without one they get `None`, and routing
//! without `--explain` pays one test per candidate). Out: [`Explain`], attached to a
//! decision by [`crate::Engine::quote_explained`] and [`crate::Engine::route_explained`].

use serde::Serialize;
use std::cell::RefCell;

/// The most candidates listed in one explanation; the rest are counted in `omitted`.
const LISTED: usize = 100;

/// One candidate location as the search saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Considered {
    /// The location's id.
    pub location: String,
    /// The strategy that considered it.
    pub strategy: String,
    /// Whether it stayed a candidate.
    pub kept: bool,
    /// Why it was dropped (the exclusion's reason, `capacity`, `promise`, …) or a note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Great-circle distance to the destination.
    pub distance_km: f64,
    /// The contract's cost of shipping from here what it could ship of the order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// The strategy's score of that shipment (rules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Whether the decision ships from here.
    pub shipped: bool,
    /// Its value for each of the strategy's rank keys, in order, shipping what it could of
    /// the order alone, as the rules compute it (a larger-first key is not negated; rules
    /// only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rank_values: Vec<f64>,
    /// The strategy's preference tier it is in (0 for the first `prefer`); none when the
    /// strategy has no tier or it is in none of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<usize>,
    /// For a candidate kept but not shipping: the first rank key on which it is worse than
    /// the locations that ship, with both values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_on: Option<String>,
}

/// How a strategy compares plans: its preference tiers, its rank keys in order (with the
/// objective the engine adds when none is written), then the fixed tie-breaks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranking {
    /// The strategy.
    pub strategy: String,
    /// Its `prefer` clauses as written, first tier first: a tier places what it can before
    /// the next one, whatever the rank keys.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<String>,
    /// Its rank keys as written, in order (`fewest_shipments`, `in_market`, `atp desc`, …),
    /// then `cost` when every key written is a limit (`fewest_shipments`, `days`,
    /// `priority`): the engine then minimises cost among the plans within the limits.
    pub criteria: Vec<String>,
    /// For each of `criteria`, whether larger values rank first (`desc`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub larger_first: Vec<bool>,
    /// What breaks the remaining ties, in order.
    pub then: Vec<String>,
}

/// A strategy passed over because its `when` did not hold for the order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotChosen {
    /// The strategy.
    pub strategy: String,
    /// Its `when` condition as written.
    pub when: String,
}

/// Why a decision is what it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explain {
    /// The strategy chosen for the order.
    pub strategy: String,
    /// Every strategy that ran, in order (the chosen one, then its fallbacks).
    pub strategies: Vec<String>,
    /// The strategies before the chosen one whose `when` did not hold, in file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_chosen: Vec<NotChosen>,
    /// False when a work limit cut the search short.
    pub exact: bool,
    /// Branch-and-bound nodes visited.
    pub search_nodes: u64,
    /// The candidates considered: those shipping first, then those kept, then those
    /// dropped.
    pub candidates: Vec<Considered>,
    /// Candidates considered but not listed (beyond the first 100).
    pub omitted: usize,
    /// How each strategy that ran compares plans, criteria in order.
    pub ranking: Vec<Ranking>,
    /// How each strategy that ran searched, in order.
    pub search: Vec<StrategySearch>,
    /// How the search ended.
    pub note: String,
}

/// How one strategy searched for its plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategySearch {
    /// The strategy.
    pub strategy: String,
    /// `bounded`: holders visited best-first by a lower bound on the objective, until none
    /// left could beat the plan; `full scan`: every holder of the order's SKUs.
    pub search: &'static str,
    /// Why the search could not be bounded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl StrategySearch {
    /// Strategy `strategy` searched bounded (`why` is `None`), or by a full scan and why.
    pub(crate) fn new(strategy: &str, why: Option<String>) -> StrategySearch {
        StrategySearch {
            strategy: strategy.to_string(),
            search: if why.is_some() {
                "full scan"
            } else {
                "bounded"
            },
            why,
        }
    }
}

/// The candidates an explanation collects, handed down explicitly from
/// [`crate::Engine::quote_explained`] and [`crate::Engine::route_explained`] through the
/// planning core to the searches. A search that is not explaining gets `None` and builds
/// nothing.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    list: RefCell<Vec<Considered>>,
}

impl Trace {
    /// What was recorded, in order.
    pub fn into_list(self) -> Vec<Considered> {
        self.list.into_inner()
    }
}

/// Records a candidate when an explanation is being collected.
#[inline]
pub(crate) fn record(trace: Option<&Trace>, make: impl FnOnce() -> Considered) {
    if let Some(t) = trace {
        t.list.borrow_mut().push(make());
    }
}

impl Explain {
    /// Puts the considered candidates in order, marks those shipping, cuts the list.
    pub(crate) fn new(
        decision: &crate::Decision,
        search: Vec<StrategySearch>,
        strategies: Vec<String>,
        exact: bool,
        search_nodes: u64,
        mut considered: Vec<Considered>,
        ranking: Vec<Ranking>,
    ) -> Explain {
        // One entry per (strategy, location): the last word on it wins.
        let mut seen: Vec<(String, String)> = Vec::new();
        let mut unique: Vec<Considered> = Vec::new();
        for c in considered.drain(..).rev() {
            let key = (c.strategy.clone(), c.location.clone());
            if !seen.contains(&key) {
                seen.push(key);
                unique.push(c);
            }
        }
        unique.reverse();
        for c in &mut unique {
            c.shipped = c.kept && decision.shipments.iter().any(|s| s.location == c.location);
        }
        lost_on(&mut unique, &ranking);
        unique.sort_by_key(|c| (!c.shipped, !c.kept));
        let omitted = unique.len().saturating_sub(LISTED);
        unique.truncate(LISTED);
        let builtin = strategies.iter().any(|s| s == "min-cost") || decision.rule == "min-cost";
        let note = if builtin {
            "holders are visited by a lower bound on their cost; those not listed could not beat the plan".to_string()
        } else if search.iter().all(|s| s.why.is_none()) {
            "holders are visited by a lower bound on their score; those not listed could not beat the plan".to_string()
        } else if search.iter().all(|s| s.why.is_some()) {
            "every holder of the order's SKUs in the strategy's candidate sets was considered"
                .to_string()
        } else {
            "bounded strategies list the holders they visited by a lower bound on their score; the others every holder".to_string()
        };
        Explain {
            strategy: decision.rule.clone(),
            strategies,
            not_chosen: Vec::new(),
            exact,
            search_nodes,
            candidates: unique,
            omitted,
            ranking,
            search,
            note,
        }
    }
}

/// Says, for each candidate kept but not shipping, why: a preferred tier that placed the
/// order without it, or the first rank key on which it is worse than the best of its
/// strategy's shipping locations.
fn lost_on(list: &mut [Considered], ranking: &[Ranking]) {
    for r in ranking {
        let larger_first = |i: usize| r.larger_first.get(i).copied().unwrap_or(false);
        // Compares two values of key `i`: less is better.
        let cmp = |i: usize, a: f64, b: f64| {
            if larger_first(i) {
                b.total_cmp(&a)
            } else {
                a.total_cmp(&b)
            }
        };
        let shipping = || {
            list.iter()
                .filter(|c| c.strategy == r.strategy && c.shipped)
        };
        // The least preferred tier the plan ships from (none when a shipment is outside
        // every tier).
        let shipped_tier = if r.tiers.is_empty() || shipping().next().is_none() {
            None
        } else {
            shipping()
                .map(|c| c.tier)
                .try_fold(0usize, |worst, t| t.map(|t| worst.max(t)))
        };
        let best: Option<Vec<f64>> = shipping()
            .filter(|c| !c.rank_values.is_empty())
            .map(|c| c.rank_values.clone())
            .min_by(|a, b| {
                a.iter()
                    .zip(b)
                    .enumerate()
                    .map(|(i, (x, y))| cmp(i, *x, *y))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        for c in list
            .iter_mut()
            .filter(|c| c.strategy == r.strategy && c.kept && !c.shipped)
        {
            if let Some(t) = shipped_tier {
                if c.tier.is_none_or(|mine| mine > t) {
                    let tier = r.tiers.get(t).map(String::as_str).unwrap_or("prefer");
                    c.lost_on = Some(format!(
                        "preferred tier `{tier}`: it placed the order without this location"
                    ));
                    continue;
                }
            }
            let Some(best) = &best else { continue };
            let worse = c
                .rank_values
                .iter()
                .zip(best)
                .zip(&r.criteria)
                .enumerate()
                .find(|(i, ((v, b), _))| {
                    if larger_first(*i) {
                        **v < **b - 1e-9
                    } else {
                        **v > **b + 1e-9
                    }
                });
            c.lost_on = Some(match worse {
                Some((_, ((v, b), key))) => format!("{key}: {} against {}", round(*v), round(*b)),
                None => "as good alone; the plan as a whole ranks better without it".to_string(),
            });
        }
    }
}

fn round(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    format!("{}", r + 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(location: &str, shipped: bool, rank_values: Vec<f64>) -> Considered {
        Considered {
            location: location.into(),
            strategy: "near".into(),
            kept: true,
            reason: None,
            distance_km: 0.0,
            cost: None,
            score: None,
            shipped,
            rank_values,
            tier: None,
            lost_on: None,
        }
    }

    #[test]
    fn a_kept_candidate_lost_on_the_first_key_it_is_worse_on() {
        let ranking = [Ranking {
            strategy: "near".into(),
            criteria: vec![
                "fewest_shipments".into(),
                "in_market".into(),
                "distance".into(),
            ],
            larger_first: Vec::new(),
            tiers: Vec::new(),
            then: Vec::new(),
        }];
        let mut list = vec![
            candidate("ST-COLOGNE", true, vec![1.0, 0.0, 1.02]),
            candidate("VD-STUTTGART", false, vec![1.0, 0.0, 287.754]),
            candidate("DC-ABROAD", false, vec![1.0, 1.0, 0.5]),
            candidate("ST-TWIN", false, vec![1.0, 0.0, 1.02]),
        ];
        lost_on(&mut list, &ranking);
        let lost: Vec<Option<&str>> = list.iter().map(|c| c.lost_on.as_deref()).collect();
        assert_eq!(
            lost,
            [
                None,
                Some("distance: 287.75 against 1.02"),
                Some("in_market: 1 against 0"),
                Some("as good alone; the plan as a whole ranks better without it"),
            ]
        );
    }

    #[test]
    fn a_larger_first_key_shows_the_values_written() {
        let ranking = [Ranking {
            strategy: "near".into(),
            tiers: Vec::new(),
            criteria: vec!["atp desc".into()],
            larger_first: vec![true],
            then: Vec::new(),
        }];
        let mut list = vec![
            candidate("ST-MOST", true, vec![8.0]),
            candidate("ST-LESS", false, vec![5.0]),
        ];
        lost_on(&mut list, &ranking);
        assert_eq!(list[1].lost_on.as_deref(), Some("atp desc: 5 against 8"));
    }

    #[test]
    fn a_candidate_outside_the_tier_that_shipped_lost_on_the_tier() {
        let ranking = [Ranking {
            strategy: "near".into(),
            tiers: vec!["prefer stores".into()],
            criteria: vec!["cost".into()],
            larger_first: vec![false],
            then: Vec::new(),
        }];
        let mut store = candidate("ST-DEAR", true, vec![9.0]);
        store.tier = Some(0);
        let mut twin = candidate("ST-DEARER", false, vec![12.0]);
        twin.tier = Some(0);
        let mut list = vec![store, candidate("DC-CHEAP", false, vec![4.0]), twin];
        lost_on(&mut list, &ranking);
        assert_eq!(
            list[1].lost_on.as_deref(),
            Some("preferred tier `prefer stores`: it placed the order without this location")
        );
        assert_eq!(list[2].lost_on.as_deref(), Some("cost: 12 against 9"));
    }
}
