//! Rule sets, compiled for one network and evaluated natively.
//!
//! In: a checked [`sourcing_dsl::RuleSet`] and the [`Network`]. Out: [`Rules`]: the
//! decision graph ([`graph`]), the candidate sets that depend on location facts only
//! precomputed as membership tables, the scripts compiled once (`script.rs`). Routing an
//! order walks the graph (`nodes/`, a handler per node kind): the first strategy whose
//! `when` holds runs (its search in `eval.rs`, through the planning core `crate::plan`),
//! and what it cannot place follows its fallback edge.
//!
//! A strategy that is plain least cost — every location, no exclusion, no preference,
//! ranked by cost alone, any split, promise ignored — runs the built-in `min-cost` router
//! with its spatial index: same decisions, same speed.

pub(crate) mod bound;
pub use bound::{search_notes, SearchNote};
pub(crate) mod eval;
pub(crate) mod expr;
pub mod graph;
pub(crate) mod nodes;
pub(crate) mod script;

pub use script::check_scripts;

use crate::alloc::TieKey;
use crate::cost::ShipOption;
use crate::model::network::{Location, Network};
use crate::model::order::Order;
use eval::is_cost;
use expr::{NotFinite, OrderFacts, RuleFailure, Scope, Terms, Val};
use graph::DecisionGraph;
use rustc_hash::FxHashMap;
use script::{Problem, Scripts};
use sourcing_dsl::ir::{self, Criterion, PromisePolicy, SetBase};

/// A rule set that cannot be used with a network.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// A script does not compile.
    #[error("{at}: script `{script}` does not compile: {message}")]
    Script {
        /// `file:line:col` of the place rhai stopped.
        at: String,
        /// The script's name.
        script: String,
        /// Byte offset of that place in the rule file.
        offset: usize,
        /// rhai's message.
        message: String,
    },
    /// A script failed, or a value was not a finite number (a division by zero), while the
    /// engine computed a location set that depends on location facts only (a group, or a
    /// `where` that reads no order fact), before any order.
    #[error("{message}")]
    ScriptFailed {
        /// `file:line:col: where: what went wrong`.
        message: String,
    },
    /// Fallbacks form a cycle.
    #[error("the fallbacks of the rule set form a cycle")]
    Cycle,
    /// The rules write money in another currency than the network's.
    #[error(
        "{at}: the rules are written in `{rules}` but the network's currency is `{network}`; \
         write the rules' amounts in `{network}`, or route a network priced in `{rules}`"
    )]
    Currency {
        /// `file:line:col` of the rules' first amount in their currency.
        at: String,
        /// The rules' currency.
        rules: String,
        /// The network's currency.
        network: String,
    },
}

/// One strategy with what was precomputed for it.
#[derive(Debug)]
pub(crate) struct CompiledStrategy {
    pub ir: ir::Strategy,
    /// Membership per location of each candidate set that reads location facts only.
    pub candidate_statics: Vec<Option<Vec<bool>>>,
    /// The same for each preference tier's sets.
    pub prefer_statics: Vec<Vec<Option<Vec<bool>>>>,
    /// Runs as the built-in `min-cost` router.
    pub plain_min_cost: bool,
    /// The rank keys after the objective (the first key the search minimises), which break
    /// its ties in order: their positions in `ir.objective.rank` and how they aggregate.
    pub tie_keys: Vec<(usize, TieKey)>,
    /// The same keys, for the search.
    pub ties: Vec<TieKey>,
    /// Why no order can have a bound on the objective (the search then looks at every
    /// holder); `None` when the bound is worked out per order.
    pub full_scan: Option<String>,
    /// Per tier, the distance beyond which every candidate of the tier is excluded.
    pub tier_max_km: Vec<f64>,
    /// Per tier, the location kinds its walk over holders visits.
    pub tier_kinds: Vec<[bool; crate::index::KINDS]>,
    /// Whether its objective reads what differs by kind of location (a location fact,
    /// `days`, a script): then a walk bounds each kind by its own ranges.
    pub by_kind: bool,
    /// Whether its rules read stock counts (`atp`, `stock_cover`) and today's shipments left
    /// (`capacity_left`, `capacity_utilisation`) exactly.
    pub exact_reads: ([bool; crate::index::KINDS], bool),
    /// Per kind, whether those exact reads go only up to the stock floors of falling
    /// exclusions (see [`bound::floored_reads`]).
    pub floored_reads: [bool; crate::index::KINDS],
    /// Per exclusion that reads only the line, the order and location facts, one location
    /// (index) per distinct set of the facts it reads, per kind of location: whether it
    /// drops a line at every location of a kind is told by a few of them (see
    /// [`bound::location_profiles`]). `None` for any other exclusion.
    pub profiles: Vec<Option<[Vec<u32>; crate::index::KINDS]>>,
    /// Whether membership of its candidate sets is known before a candidate's terms are
    /// (see [`eval::sets_early`]).
    pub sets_early: bool,
    /// Its objective's bound per set of the order facts the objective reads.
    pub bound_memo: bound::BoundMemo,
}

/// Search nodes one order may spend in all, over every search of every strategy it runs
/// (the bounded search's probe, the successive searches of limit keys, the full scan); a
/// plan evaluated counts one node per location in it. An order cut short by it is decided
/// all the same, with `exact: false` in its explanation.
pub(crate) const ORDER_BUDGET: u64 = 1_000_000;

/// Nodes the search that gives a strategy's plan may take when the order's budget is spent:
/// enough to reach a first plan (at least three per candidate).
pub(crate) const MIN_SEARCH: u64 = 10_000;

/// What breaks ties after every rank key: fewer shipments, then the locations' priority,
/// then their ids.
pub(crate) fn fixed_tie_breaks() -> Vec<String> {
    ["fewest_shipments", "priority", "id"]
        .map(String::from)
        .to_vec()
}

/// A strategy's rank keys in the order plans are compared, as (text, criterion, larger
/// first): those written, then `cost` when every one written is a limit, since the search
/// then minimises cost within the limits (`objective_option`).
pub(crate) fn ranked_keys(s: &ir::Strategy) -> Vec<(String, Criterion, bool)> {
    let mut keys: Vec<(String, Criterion, bool)> = s
        .objective
        .rank
        .iter()
        .map(|k| (k.text.clone(), k.criterion.clone(), k.descending))
        .collect();
    if s.objective.fill.is_none() && s.objective.rank.iter().all(|k| is_limit(&k.criterion)) {
        keys.push(("cost".to_string(), Criterion::Cost, false));
    }
    keys
}

/// Whether a rank key is a limit (minimised before the objective by successive searches).
pub(crate) fn is_limit(c: &Criterion) -> bool {
    matches!(
        c,
        Criterion::FewestShipments | Criterion::Days | Criterion::Priority
    )
}

/// A rule set compiled for one network.
#[derive(Debug)]
pub struct Rules {
    pub(crate) set: ir::RuleSet,
    pub(crate) scripts: Scripts,
    pub(crate) graph: DecisionGraph,
    pub(crate) strategies: Vec<CompiledStrategy>,
    /// Each strategy's index by name (an explanation looks up every strategy that ran).
    by_name: FxHashMap<String, usize>,
    groups: Vec<Vec<bool>>,
    /// Ranges of the network's location facts, for the search's bounds.
    pub(crate) ranges: bound::NetworkRanges,
    /// The same per kind of location (as the holder trees number them), for walks.
    pub(crate) kind_ranges: [Option<bound::NetworkRanges>; crate::index::KINDS],
    /// Search every holder, never the bounded walk: the reference the bounded search is
    /// tested against.
    pub(crate) full_scan_only: bool,
    /// The first failure met while computing the location sets of the network.
    static_failure: std::sync::OnceLock<RuleFailure>,
}

impl Rules {
    /// The scope of an order's facts alone (no line, location or candidate terms), for
    /// `when`, the bounds and the other order-level expressions.
    pub(crate) fn order_scope<'s>(&'s self, facts: &'s OrderFacts<'s>) -> Scope<'s> {
        Scope {
            consts: &self.set.consts,
            scripts: &self.scripts,
            order: facts,
            line: None,
            location: None,
            terms: Terms::default(),
        }
    }

    /// Compiles a checked rule set for a network.
    pub fn compile(set: ir::RuleSet, network: &Network) -> Result<Rules, RulesError> {
        if let Some(cur) = &set.currency {
            if cur != &network.currency {
                let (line, col) = set.line_col(set.currency_at.unwrap_or(0));
                return Err(RulesError::Currency {
                    at: format!("{}:{line}:{col}", set.source_name),
                    rules: cur.clone(),
                    network: network.currency.clone(),
                });
            }
        }
        let scripts = if set.scripts.is_empty() {
            Scripts::none()
        } else {
            Scripts::compile(&set)?
        };
        let graph = DecisionGraph::build(&set).ok_or(RulesError::Cycle)?;
        let mut rules = Rules {
            scripts,
            graph,
            strategies: Vec::new(),
            by_name: set
                .strategies
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.clone(), i))
                .collect(),
            groups: Vec::new(),
            ranges: bound::NetworkRanges::of(network),
            kind_ranges: [0, 1, 2].map(|k| bound::NetworkRanges::of_kind(network, k)),
            full_scan_only: false,
            static_failure: std::sync::OnceLock::new(),
            set,
        };
        // Groups read location facts only: one membership table each.
        for g in 0..rules.set.groups.len() {
            let sets = rules.set.groups[g].sets.clone();
            let table = network
                .locations
                .iter()
                .enumerate()
                .map(|(i, l)| sets.iter().any(|s| rules.static_member(s, i as u32, l)))
                .collect();
            rules.groups.push(table);
        }
        let statics = |rules: &Rules, sets: &[ir::LocationSet]| -> Vec<Option<Vec<bool>>> {
            sets.iter()
                .map(|s| {
                    s.is_static.then(|| {
                        network
                            .locations
                            .iter()
                            .enumerate()
                            .map(|(i, l)| rules.static_member(s, i as u32, l))
                            .collect()
                    })
                })
                .collect()
        };
        let mut compiled = Vec::new();
        for s in &rules.set.strategies {
            let plain_min_cost = s.objective.fill.is_none()
                && s.candidates.len() == 1
                && s.candidates[0].base == SetBase::All
                && s.candidates[0].filters.is_empty()
                && s.exclusions.is_empty()
                && s.prefer.is_empty()
                && s.split.max_shipments.is_none()
                && s.split.penalty.is_none()
                && s.split.lines_may_split
                && matches!(s.promise, PromisePolicy::Ignored)
                && !s.all_or_nothing
                && match s.objective.rank.first().map(|k| &k.criterion) {
                    Some(Criterion::Cost) => true,
                    Some(Criterion::Score) => s.objective.score.as_ref().is_some_and(is_cost),
                    _ => false,
                };
            let rank = &s.objective.rank;
            let tie_keys: Vec<(usize, TieKey)> =
                match rank.iter().position(|k| !is_limit(&k.criterion)) {
                    Some(first) => rank
                        .iter()
                        .enumerate()
                        .skip(first + 1)
                        .map(|(i, k)| {
                            let max = matches!(k.criterion, Criterion::Days | Criterion::Priority);
                            (
                                i,
                                TieKey {
                                    max,
                                    descending: k.descending,
                                },
                            )
                        })
                        .collect(),
                    None => Vec::new(),
                };
            compiled.push(CompiledStrategy {
                ties: tie_keys.iter().map(|t| t.1).collect(),
                tie_keys,
                candidate_statics: statics(&rules, &s.candidates),
                prefer_statics: s.prefer.iter().map(|t| statics(&rules, t)).collect(),
                plain_min_cost,
                full_scan: bound::static_obstacle(s).map(|(_, why)| why),
                tier_max_km: bound::tier_max_km(&rules.set, s),
                tier_kinds: bound::tier_kinds(s),
                by_kind: bound::reads_by_kind(s),
                exact_reads: bound::exact_reads(s),
                floored_reads: bound::floored_reads(&rules.set, s),
                profiles: s
                    .exclusions
                    .iter()
                    .map(|x| bound::location_profiles(x, network))
                    .collect(),
                sets_early: eval::sets_early(s),
                bound_memo: bound::BoundMemo::new(s),
                ir: s.clone(),
            });
        }
        rules.strategies = compiled;
        if let Some(f) = rules.static_failure.get() {
            return Err(RulesError::ScriptFailed {
                message: rules.describe(f),
            });
        }
        Ok(rules)
    }

    /// A failure as a message that names the rule: `file:line:col: strategy "s", score:
    /// script `f` stopped: …` (the position is the call's), or `…: score: `cost / distance`
    /// divides by zero` (the position is the expression's).
    pub(crate) fn describe(&self, f: &RuleFailure) -> String {
        let set = &self.set;
        let f = match f {
            RuleFailure::Script(f) => f,
            RuleFailure::NotFinite { at, what } => {
                let (line, col) = set.line_col(at.start);
                // The expression as written, on one line, and not too long to read.
                let mut text = set
                    .source
                    .slice(*at)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                if let Some((cut, _)) = text.char_indices().nth(60) {
                    text.truncate(cut);
                    text.push('…');
                }
                return format!(
                    "{}:{line}:{col}: {}: `{text}` {what}",
                    set.source_name,
                    where_called(set, at.start),
                );
            }
        };
        let (line, col) = set.line_col(f.call);
        let mut text = format!(
            "{}:{line}:{col}: {}: script `{}` {}",
            set.source_name,
            where_called(set, f.call),
            self.scripts.name(f.script),
            f.problem
        );
        if let (Problem::Error { line: Some(l), .. }, Some(s)) =
            (&f.problem, set.scripts.get(f.script))
        {
            let first = set.line_col(s.code_span.start).0;
            text.push_str(&format!(
                " (at {}:{})",
                set.source_name,
                (first + l).saturating_sub(1)
            ));
        }
        text
    }

    /// The strategies' names, in file order.
    pub fn strategy_names(&self) -> impl Iterator<Item = &str> {
        self.set.strategies.iter().map(|s| s.name.as_str())
    }

    /// The decision graph.
    pub fn graph(&self) -> &DecisionGraph {
        &self.graph
    }

    /// How strategy `name` compares plans, for explanations: the order `eval.rs`
    /// `best_plan` and the search apply (tiers, limit keys, the objective, the later keys,
    /// then the fixed tie-breaks).
    pub(crate) fn ranking(&self, name: &str) -> Option<crate::explain::Ranking> {
        let s = self.set.strategies.get(*self.by_name.get(name)?)?;
        let keys = ranked_keys(s);
        Some(crate::explain::Ranking {
            strategy: s.name.clone(),
            tiers: s
                .prefer
                .iter()
                .map(|tier| {
                    let sets: Vec<String> = tier.iter().map(|set| self.written(set.span)).collect();
                    format!("prefer {}", sets.join(", "))
                })
                .collect(),
            criteria: keys
                .iter()
                .enumerate()
                .map(|(i, k)| match (i, s.objective.fill) {
                    // A fill says so once, before its order.
                    (0, Some(_)) => format!("filled by {}", k.0),
                    _ => k.0.clone(),
                })
                .collect(),
            larger_first: keys.iter().map(|k| k.2).collect(),
            // A fill compares no plans, so the number of shipments breaks no tie.
            then: fixed_tie_breaks()
                .into_iter()
                .filter(|t| s.objective.fill.is_none() || t != "fewest_shipments")
                .collect(),
        })
    }

    /// The strategies before `chosen` (every one when none was) whose `when` did not hold,
    /// in file order: selection tries them in that order and takes the first that holds.
    pub(crate) fn not_chosen(&self, chosen: Option<&String>) -> Vec<crate::explain::NotChosen> {
        let end = chosen
            .and_then(|c| self.by_name.get(c))
            .copied()
            .unwrap_or(self.set.strategies.len());
        self.set
            .strategies
            .iter()
            .take(end)
            .filter_map(|s| {
                s.when.as_ref().map(|w| crate::explain::NotChosen {
                    strategy: s.name.clone(),
                    when: self.written(w.span),
                })
            })
            .collect()
    }

    /// Source text as written, on one line.
    fn written(&self, span: sourcing_dsl::Span) -> String {
        self.set
            .source
            .slice(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn static_member(&self, set: &ir::LocationSet, index: u32, l: &Location) -> bool {
        self.base_member(&set.base, index, l)
            && set.filters.iter().all(|f| self.filter_holds(f, l, None))
    }

    /// Whether a location is in a set's base, before its filters (the pickup store is in
    /// no static base).
    fn base_member(&self, base: &SetBase, index: u32, l: &Location) -> bool {
        match base {
            SetBase::All => true,
            SetBase::Kind(k) => eval::kind_matches(*k, l.kind),
            SetBase::PickupStore => false,
            SetBase::Ids(ids) => ids.iter().any(|id| id == &l.id),
            SetBase::Group(g) => self
                .groups
                .get(g.0)
                .and_then(|t| t.get(index as usize))
                .copied()
                .unwrap_or(false),
        }
    }

    fn filter_holds(
        &self,
        f: &ir::LocationFilter,
        l: &Location,
        scope: Option<&Scope<'_>>,
    ) -> bool {
        match f {
            ir::LocationFilter::Tagged(t) => l.tags.iter().any(|x| x == t),
            ir::LocationFilter::Country(c) => l.country.as_deref() == Some(c.as_str()),
            ir::LocationFilter::Region(r) => l.region.as_deref() == Some(r.as_str()),
            ir::LocationFilter::Where(e) => match scope {
                Some(s) => Scope {
                    location: Some(l),
                    ..*s
                }
                .eval(e)
                .truthy(),
                None => {
                    // A static filter reads location facts only; no order is needed.
                    let order = Order {
                        id: String::new(),
                        channel: None,
                        placed_at: None,
                        customer_tier: None,
                        ship_to: crate::model::order::ShipTo {
                            lat: 0.0,
                            lon: 0.0,
                            country: None,
                            region: None,
                            postal_code: None,
                        },
                        fulfillment: crate::model::order::Fulfillment::Ship,
                        pickup_location: None,
                        promise_days: None,
                        lines: Vec::new(),
                        attr: Default::default(),
                    };
                    let facts = OrderFacts::new(&order);
                    let holds = Scope {
                        consts: &self.set.consts,
                        scripts: &self.scripts,
                        order: &facts,
                        line: None,
                        location: Some(l),
                        terms: Terms::default(),
                    }
                    .eval(e)
                    .truthy();
                    if let Some(f) = facts.failure.take() {
                        // Only the first failure is reported; later ones are dropped.
                        let _ = self.static_failure.set(f);
                    }
                    holds
                }
            },
        }
    }

    /// Membership of a set that depends on the order (the pickup store, order facts).
    pub(crate) fn in_dynamic_set(
        &self,
        set: &ir::LocationSet,
        index: u32,
        pickup: Option<u32>,
        scope: &Scope<'_>,
        l: &Location,
    ) -> bool {
        let base = match &set.base {
            SetBase::PickupStore => pickup == Some(index),
            other => self.base_member(other, index, l),
        };
        base && set
            .filters
            .iter()
            .all(|f| self.filter_holds(f, l, Some(scope)))
    }

    /// A penalty added to `sum`. A penalty without value (an `attr` the order lacks) adds
    /// nothing; one that is NaN or infinite, or a sum that overflows, fails the order.
    fn add_penalty(&self, sum: f64, e: &Option<ir::Expr>, scope: &Scope<'_>) -> f64 {
        let Some(e) = e else {
            return sum;
        };
        let p = match scope.eval(e) {
            Val::Num(p) => p,
            _ => return sum,
        };
        let total = sum + p;
        if !total.is_finite() {
            let what = if p.is_nan() {
                NotFinite::NotANumber
            } else if !p.is_finite() {
                NotFinite::Infinite
            } else if sum.is_finite() {
                NotFinite::Overflow
            } else {
                // The score itself had no value: that candidate is the last resort.
                return total;
            };
            scope.order.not_finite(e.span, what);
        }
        total
    }

    /// The strategy's split penalty for a shipment from the location in `scope` (0 without
    /// one, or when it has no finite value), for explanations.
    pub(crate) fn split_penalty(&self, s: &CompiledStrategy, scope: &Scope<'_>) -> f64 {
        match s.ir.split.penalty.as_ref().map(|e| scope.eval(e)) {
            Some(Val::Num(p)) if p.is_finite() => p,
            _ => 0.0,
        }
    }

    /// One service option of a candidate in the units of the strategy's objective:
    /// `fixed + per_kg * weight` is what a shipment adds to the objective.
    pub(crate) fn objective_option(
        &self,
        s: &CompiledStrategy,
        scope: &Scope<'_>,
        terms: Terms,
        o: &ShipOption,
    ) -> ShipOption {
        let key = s.ir.objective.rank.iter().find(|k| !is_limit(&k.criterion));
        let criterion = key.map_or(&Criterion::Cost, |k| &k.criterion);
        let x = self.key_option(s, scope, terms, o, criterion);
        if key.is_some_and(|k| k.descending) {
            // Larger first: the search minimises the negated value. A part per kg cannot
            // be negative for the search's bounds, so a descending key counts as flat in
            // weight.
            ShipOption {
                fixed: -x.fixed,
                per_kg: 0.0,
                ..x
            }
        } else {
            x
        }
    }

    /// A later rank key's (fixed, per kg) value for one service option of a candidate.
    pub(crate) fn tie_value(
        &self,
        s: &CompiledStrategy,
        scope: &Scope<'_>,
        terms: Terms,
        o: &ShipOption,
        key: &Criterion,
        priority: f64,
    ) -> (f64, f64) {
        match key {
            Criterion::FewestShipments => (1.0, 0.0),
            Criterion::Days => (f64::from(o.days), 0.0),
            // Absent priority counts as last.
            Criterion::Priority => (priority.min(1e12), 0.0),
            _ => {
                let x = self.key_option(s, scope, terms, o, key);
                (x.fixed, x.per_kg)
            }
        }
    }

    /// One service option in the units of rank key `key`.
    fn key_option(
        &self,
        s: &CompiledStrategy,
        scope: &Scope<'_>,
        terms: Terms,
        o: &ShipOption,
        key: &Criterion,
    ) -> ShipOption {
        let strategy = &s.ir;
        let with_cost = |cost: f64| Scope {
            terms: Terms { cost, ..terms },
            ..*scope
        };
        // A linear term in `cost`: a·cost + b, read off at cost 0 and 1.
        let linear = |e: &ir::Expr| -> (f64, f64) {
            let b = with_cost(0.0).eval(e);
            let a1 = with_cost(1.0).eval(e);
            match (b, a1) {
                (Val::Num(b), Val::Num(a1)) => (a1 - b, b),
                (Val::Bool(x), _) => (0.0, if x { 0.0 } else { 1.0 }),
                _ => (0.0, f64::INFINITY),
            }
        };
        let penalties = |base: f64| {
            let mut p = self.add_penalty(base, &strategy.split.penalty, scope);
            if let PromisePolicy::Preferred { penalty } = &strategy.promise {
                if !o.meets_promise {
                    p = self.add_penalty(p, penalty, scope);
                }
            }
            p
        };
        let (a, b) = match key {
            Criterion::Cost => (1.0, penalties(0.0)),
            Criterion::Score => match &strategy.objective.score {
                Some(e) => {
                    let (a, b) = linear(e);
                    (a, penalties(b))
                }
                None => (1.0, penalties(0.0)),
            },
            Criterion::Distance => (0.0, terms.distance),
            Criterion::InMarket => (0.0, if terms.in_market { 0.0 } else { 1.0 }),
            Criterion::Expr(e) => linear(e),
            _ => (1.0, 0.0),
        };
        // A score that falls as cost rises makes no sense for a search that bounds by weight:
        // its rate per kg counts as zero. A part that cannot be computed (no value, an
        // infinite fact) makes the option the last resort; finite parts that overflow here
        // fail the order like an overflow in the expression.
        let fixed = a * o.fixed + b;
        let per_kg = a * o.per_kg;
        if !(fixed.is_finite() && per_kg.is_finite()) && a.is_finite() && b.is_finite() {
            let at = match key {
                Criterion::Score => strategy.objective.score.as_ref().map(|e| e.span),
                Criterion::Expr(e) => Some(e.span),
                _ => None,
            };
            if let Some(at) = at {
                scope.order.not_finite(at, NotFinite::Overflow);
            }
        }
        ShipOption {
            fixed: if fixed.is_nan() {
                1e18
            } else {
                fixed.clamp(-1e18, 1e18)
            },
            per_kg: if per_kg.is_nan() {
                0.0
            } else {
                per_kg.max(0.0)
            },
            ..*o
        }
    }
}

/// Where in the rule file a script was called: `strategy "s", score`, `group `g``.
fn where_called(set: &ir::RuleSet, at: usize) -> String {
    let within = |sp: sourcing_dsl::Span| sp.start <= at && at < sp.end;
    for s in &set.strategies {
        if !within(s.span) {
            continue;
        }
        let sets = |v: &[ir::LocationSet]| v.iter().any(|x| within(x.span));
        let clause = if s.when.as_ref().is_some_and(|w| within(w.span)) {
            "when"
        } else if sets(&s.candidates) {
            "candidates"
        } else if s.exclusions.iter().any(|x| within(x.span)) {
            "exclude"
        } else if s.prefer.iter().any(|t| sets(t)) {
            "prefer"
        } else if s.objective.score.as_ref().is_some_and(|e| within(e.span)) {
            "score"
        } else if s.objective.rank.iter().any(|k| within(k.span)) {
            "rank by"
        } else if s.split.span.is_some_and(within) {
            "split"
        } else {
            "promise"
        };
        return format!("strategy \"{}\", {clause}", s.name);
    }
    set.groups
        .iter()
        .find(|g| within(g.span))
        .map_or_else(|| "a rule".to_string(), |g| format!("group `{}`", g.name))
}

#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;
