//! The rule clause behind a change, where the rule files can tell.
//!
//! In: the [`Category`] of a change, both decisions, and each side's rule file read line by
//! line ([`Clauses`]). Out: the clause lines that explain the category, as
//! `rules/x.rules:19 ship-from-store: prefer stores`: the `prefer` that put stores first,
//! the `exclude … reason "R"` whose reason the units not placed carry, the `fallback` that
//! reached the strategy, the `split` behind a change of parcels, and so on. Simulations run
//! without explanations, so this reads only what the decisions show: when several clauses
//! of the deciding strategy fit (three exclusions of stores), all of them are named (at most
//! three); a change a scenario caused (closed, capacity, stock set) or one under the
//! built-in strategy on both sides names none.

use crate::model::decision::Decision;
use crate::simulate::changes::Category;

/// The most clauses named for one change.
const NAMED: usize = 3;

/// A rule file's strategies, clause line by clause line.
#[derive(Debug, Clone, Default)]
pub struct Clauses {
    /// The rule file as named in diagnostics.
    file: String,
    strategies: Vec<StrategyLines>,
}

#[derive(Debug, Clone)]
struct StrategyLines {
    name: String,
    /// (1-based line, the line's text without its comment, trimmed), non-empty lines only.
    lines: Vec<(usize, String)>,
}

/// A line without its `#` comment (a `#` inside a string is text).
fn without_comment(line: &str) -> &str {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '#' if !quoted => return line.get(..i).unwrap_or(line),
            _ => {}
        }
    }
    line
}

/// The words of a clause line (names, keywords), for matching.
fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

fn starts_with_word(line: &str, keyword: &str) -> bool {
    line.strip_prefix(keyword)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '"', ',']))
}

fn mentions_stores(line: &str) -> bool {
    words(line).any(|w| matches!(w, "store" | "stores" | "pickup_store"))
}

impl Clauses {
    /// The clause lines of every strategy of a checked rule file.
    pub fn of(rules: &sourcing_dsl::RuleSet) -> Clauses {
        let strategies = rules
            .strategies
            .iter()
            .map(|s| {
                let (first, _) = rules.line_col(s.span.start);
                let lines = rules
                    .source
                    .slice(s.span)
                    .lines()
                    .enumerate()
                    .map(|(i, l)| (first + i, without_comment(l).trim().to_string()))
                    .filter(|(_, l)| !l.is_empty())
                    .collect();
                StrategyLines {
                    name: s.name.clone(),
                    lines,
                }
            })
            .collect();
        Clauses {
            file: rules.source_name.clone(),
            strategies,
        }
    }

    /// Clause lines starting with `keyword` that satisfy `fits`: those of strategy `first`
    /// when it has any, else (with `everywhere`) those of the other strategies in file order.
    fn find(
        &self,
        first: &str,
        keyword: &str,
        everywhere: bool,
        fits: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let hits = |s: &StrategyLines| -> Vec<String> {
            s.lines
                .iter()
                .filter(|(_, l)| starts_with_word(l, keyword) && fits(l))
                .map(|(n, l)| format!("{}:{n} {}: {l}", self.file, s.name))
                .collect()
        };
        let own: Vec<String> = self
            .strategies
            .iter()
            .filter(|s| s.name == first)
            .flat_map(hits)
            .collect();
        if !own.is_empty() || !everywhere {
            return own;
        }
        self.strategies
            .iter()
            .filter(|s| s.name != first)
            .flat_map(hits)
            .collect()
    }
}

/// One side: its decision and its rule file (none for the built-in strategy).
type Side<'a> = (&'a Decision, Option<&'a Clauses>);

/// The clauses of `side` whose lines start with `keyword` and fit.
fn on(side: Side<'_>, keyword: &str, everywhere: bool, fits: impl Fn(&str) -> bool) -> Vec<String> {
    side.1
        .map(|c| c.find(&side.0.rule, keyword, everywhere, fits))
        .unwrap_or_default()
}

/// The clauses behind the reasons `side` gives units that `other` does not: an exclusion
/// with that reason, `otherwise backorder`, `all or nothing`, a split limit, a required
/// promise, or the candidates when none of them has the stock.
fn reasons(side: Side<'_>, other: &Decision) -> Vec<String> {
    let mut out = Vec::new();
    for u in &side.0.unsourced {
        let reason = u.reason.as_str();
        if other.unsourced.iter().any(|x| x.reason.as_str() == reason) {
            continue;
        }
        let quoted = format!("\"{reason}\"");
        let found = match reason {
            "backorder" => on(side, "otherwise", true, |l| l.contains("backorder")),
            "all_or_nothing" => on(side, "all", true, |l| l.starts_with("all or nothing")),
            "split_limit" => {
                let mut v = on(side, "split", true, |l| !l.contains("allowed"));
                v.extend(on(side, "ship", true, |l| l.contains("complete")));
                v
            }
            "promise" => on(side, "promise", true, |l| l.contains("required")),
            "no_stock" | "insufficient_stock" => on(side, "candidates", false, |_| true),
            _ => on(side, "exclude", true, |l| l.contains(&quoted)),
        };
        for f in found {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

/// The first non-empty list.
fn first_of(lists: impl IntoIterator<Item = Vec<String>>) -> Vec<String> {
    lists
        .into_iter()
        .find(|l| !l.is_empty())
        .unwrap_or_default()
}

/// The clause lines behind a change of `category` from A's decision to B's, joined by
/// `; ` (at most three), or `None` when the rule files cannot tell.
pub fn clause_of(category: Category, a: Side<'_>, b: Side<'_>) -> Option<String> {
    let stores_candidate =
        |l: &str| words(l).any(|w| matches!(w, "store" | "stores" | "all" | "locations"));
    let named = match category {
        // A scenario, not a rule, caused these.
        Category::Closed | Category::Capacity | Category::StockSet => Vec::new(),
        Category::PickupCounterSkipped => first_of([
            on(b, "exclude", false, mentions_stores),
            on(a, "prefer", false, |l| l.contains("pickup_store")),
            on(b, "candidates", false, |l| !l.contains("pickup_store")),
        ]),
        Category::PickupCounterUsed => first_of([
            on(b, "prefer", false, |l| l.contains("pickup_store")),
            on(b, "candidates", false, |l| l.contains("pickup_store")),
        ]),
        Category::PlacedLess | Category::UnplacedReason => reasons(b, a.0),
        Category::PlacedMore => reasons(a, b.0),
        Category::StorePreferred => first_of([
            on(b, "prefer", false, mentions_stores),
            on(a, "exclude", false, mentions_stores),
            on(a, "candidates", false, |l| !stores_candidate(l)),
            on(b, "score", false, |_| true),
        ]),
        Category::StoreAvoided => first_of([
            on(b, "candidates", false, |l| !stores_candidate(l)),
            on(b, "exclude", false, mentions_stores),
            on(a, "prefer", false, mentions_stores),
            on(b, "score", false, |_| true),
        ]),
        Category::Fallback => {
            let target = format!("\"{}\"", b.0.rule);
            on(b, "fallback", true, |l| l.contains(&target))
        }
        Category::Promise => first_of([
            on(b, "promise", false, |_| true),
            on(b, "score", false, |l| words(l).any(|w| w == "days")),
            on(a, "promise", false, |_| true),
            on(a, "score", false, |l| words(l).any(|w| w == "days")),
        ]),
        Category::Parcels => first_of([
            on(b, "split", false, |_| true),
            on(b, "ship", false, |l| l.contains("complete")),
            on(a, "split", false, |_| true),
            on(a, "ship", false, |l| l.contains("complete")),
        ]),
        Category::OtherLocation => first_of([
            on(b, "score", false, |_| true),
            on(b, "rank", false, |_| true),
            on(b, "fill", false, |_| true),
            on(b, "candidates", false, |_| true),
        ]),
    };
    (!named.is_empty()).then(|| named.into_iter().take(NAMED).collect::<Vec<_>>().join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decision::{Status, Unsourced, UnsourcedReason};
    use crate::RulesetHash;

    const RULES: &str = r#"strategy "stores" {
  when order.fulfillment == ship
  candidates stores
  exclude store when distance > 100 km reason "far # away"  # the reason holds a '#'
  split at most 1
  fallback "dcs"
}

strategy "dcs" {
  candidates dcs
  score cost
  split allowed
  otherwise backorder
}
"#;

    fn clauses() -> Clauses {
        let (set, diags) = sourcing_dsl::compile_source("x.rules", RULES);
        assert!(!diags.has_errors(), "{}", diags.render());
        Clauses::of(&set.unwrap_or_else(|| panic!("checked")))
    }

    fn decision(rule: &str, unsourced: &[UnsourcedReason]) -> Decision {
        Decision {
            order: "o".into(),
            status: Status::Sourced,
            rule: rule.into(),
            ruleset: RulesetHash::BUILTIN,
            shipments: Vec::new(),
            unsourced: unsourced
                .iter()
                .map(|r| Unsourced {
                    line: 0,
                    sku: "A".into(),
                    qty: 1,
                    reason: r.clone(),
                })
                .collect(),
            total_cost: 0.0,
            error: None,
        }
    }

    #[test]
    fn each_category_names_the_clause_a_person_would_point_at() {
        let c = clauses();
        let a = decision("min-cost", &[]);
        let far = UnsourcedReason::Excluded("far # away".into());
        let cases = [
            (
                Category::Fallback,
                decision("dcs", &[]),
                Some("x.rules:6 stores: fallback \"dcs\""),
            ),
            (
                Category::Parcels,
                decision("stores", &[]),
                Some("x.rules:5 stores: split at most 1"),
            ),
            (
                Category::PlacedLess,
                decision("stores", &[far]),
                Some(
                    "x.rules:4 stores: exclude store when distance > 100 km reason \"far # away\"",
                ),
            ),
            // The backorder is the fallback's: found in the other strategies.
            (
                Category::PlacedLess,
                decision("stores", &[UnsourcedReason::Backorder]),
                Some("x.rules:13 dcs: otherwise backorder"),
            ),
            (
                Category::StoreAvoided,
                decision("dcs", &[]),
                Some("x.rules:10 dcs: candidates dcs"),
            ),
            (
                Category::OtherLocation,
                decision("dcs", &[]),
                Some("x.rules:11 dcs: score cost"),
            ),
            // No `promise` clause and no `days` in a score on either side: not known.
            (Category::Promise, decision("dcs", &[]), None),
            // A scenario caused it, not a rule.
            (Category::Closed, decision("dcs", &[]), None),
        ];
        for (category, b, expected) in cases {
            let got = clause_of(category, (&a, None), (&b, Some(&c)));
            assert_eq!(got.as_deref(), expected, "{category:?}");
        }
        // The built-in strategy on both sides: no file to point at.
        let b = decision("min-cost", &[]);
        assert_eq!(clause_of(Category::Parcels, (&a, None), (&b, None)), None);
    }
}
