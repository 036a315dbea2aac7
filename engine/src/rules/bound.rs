//! What the search may rely on: a lower bound on a strategy's objective for every holder
//! not yet looked at.
//!
//! In: a strategy's objective (its first additive rank key, with the split and promise
//! penalties), the order's facts and the network's ranges. Out: an [`ObjectiveBound`]:
//! every shipment from a location at cost `c` (before weight), `d` km away, arriving in at
//! least `days_min` days scores at least `per_cost·c + per_km·d + offset`. The bounded
//! search walks holders best-first by it, as the built-in search does by cost, and stops
//! when no holder left can beat the plan in hand.
//!
//! The analysis evaluates the expression over ranges: facts of the order are known (one
//! analysis per order), `cost`, `distance` and `days` stay symbolic as long as they appear
//! in sums and products by numbers, and everything else of a location becomes its range
//! over the network. A script whose arguments are order facts and `days` is probed at every
//! day count a shipment can take. Whatever cannot be bounded gives `None`, with the reason,
//! and the strategy is searched by a full scan for that order.

use super::expr::{OrderFacts, Scope, Val};
use super::script::Probed;
use super::{is_limit, CompiledStrategy, Rules};
use crate::model::network::Network;
use sourcing_dsl::ir::{
    self, ArithOp, Builtin, Criterion, Expr, ExprKind, Fact, LocationFact, PromisePolicy, Term,
};

/// The longest great-circle distance on the contract's sphere, in km (half its
/// circumference, rounded up).
const MAX_KM: f64 = 20_016.0;
/// Most day counts a script is probed at for one bound.
const MAX_PROBES: u32 = 64;

/// Ranges of the network's location facts, for the bounds.
#[derive(Debug, Clone, Default)]
pub(crate) struct NetworkRanges {
    handling: (f64, f64),
    pub processing_days: (f64, f64),
    daily_capacity: (f64, f64),
    priority: (f64, f64),
    /// Fewest and most days any shipment can take (processing plus transit, at least one
    /// day of transit by carrier; the pickup counter's processing days alone).
    pub days: (f64, f64),
    /// The fastest service's kilometres per day (0 without services).
    pub fastest_km_per_day: f64,
}

impl NetworkRanges {
    pub fn of(network: &Network) -> NetworkRanges {
        let all: Vec<&crate::model::network::Location> = network.locations.iter().collect();
        NetworkRanges::over(network, &all)
    }

    /// The ranges over the locations of one kind, for shipments by carrier (the pickup
    /// counter is never reached by a walk over holders): one day of transit at least.
    /// `None` when the network has no location of that kind.
    pub fn of_kind(network: &Network, kind: usize) -> Option<NetworkRanges> {
        let locs: Vec<&crate::model::network::Location> = network
            .locations
            .iter()
            .filter(|l| usize::from(crate::index::kind_number(l.kind)) == kind)
            .collect();
        if locs.is_empty() {
            return None;
        }
        let mut r = NetworkRanges::over(network, &locs);
        r.days.0 = r.processing_days.0 + 1.0;
        Some(r)
    }

    fn over(network: &Network, locs: &[&crate::model::network::Location]) -> NetworkRanges {
        let range = |xs: &mut dyn Iterator<Item = f64>| {
            xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            })
        };
        let processing = range(&mut locs.iter().map(|l| f64::from(l.processing_days)));
        let slowest = network
            .services
            .iter()
            .map(|s| f64::from(crate::cost::transit_days(MAX_KM, s)))
            .fold(1.0, f64::max);
        NetworkRanges {
            handling: range(&mut locs.iter().map(|l| l.handling_cost)),
            processing_days: processing,
            daily_capacity: range(
                &mut locs
                    .iter()
                    .map(|l| l.daily_capacity.map_or(f64::INFINITY, f64::from)),
            ),
            priority: range(
                &mut locs
                    .iter()
                    .map(|l| l.priority.map_or(f64::INFINITY, |p| p as f64)),
            ),
            fastest_km_per_day: network
                .services
                .iter()
                .map(|s| s.km_per_day)
                .filter(|k| k.is_finite() && *k > 0.0)
                .fold(0.0, f64::max),
            days: if processing.0 <= processing.1 {
                (processing.0, processing.1 + slowest)
            } else {
                (0.0, slowest)
            },
        }
    }
}

/// A lower bound on the objective of any shipment: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ObjectiveBound {
    pub per_cost: f64,
    pub per_km: f64,
    pub offset: f64,
    /// The factor of `days` when the objective grows with them (else 0); `offset` counts
    /// the fewest days any shipment takes, the walk adds what a carrier takes beyond.
    pub per_day: f64,
}

impl ObjectiveBound {
    /// The bound for a shipment of cost at least `cost`, at least `km` away.
    pub fn at(&self, cost: f64, km: f64) -> f64 {
        self.per_cost * cost + self.per_km * km + self.offset
    }
}

/// An abstract number: `cost·k_cost + distance·k_km + days·k_days + [lo, hi]`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Lin {
    cost: f64,
    km: f64,
    days: f64,
    lo: f64,
    hi: f64,
}

impl Lin {
    const ANY: Lin = Lin::range(f64::NEG_INFINITY, f64::INFINITY);

    const fn range(lo: f64, hi: f64) -> Lin {
        Lin {
            cost: 0.0,
            km: 0.0,
            days: 0.0,
            lo,
            hi,
        }
    }

    fn point(x: f64) -> Lin {
        if x.is_nan() {
            Lin::ANY
        } else {
            Lin::range(x, x)
        }
    }

    fn symbolic(&self) -> bool {
        self.cost != 0.0 || self.km != 0.0 || self.days != 0.0
    }

    /// A known number (no symbol, one value).
    fn value(&self) -> Option<f64> {
        (!self.symbolic() && self.lo == self.hi && self.lo.is_finite()).then_some(self.lo)
    }

    /// The range over every value the symbols can take.
    fn collapse(&self, days: (f64, f64)) -> Lin {
        let part = |k: f64, lo: f64, hi: f64| -> (f64, f64) {
            if k == 0.0 {
                (0.0, 0.0)
            } else if k > 0.0 {
                (k * lo, k * hi)
            } else {
                (k * hi, k * lo)
            }
        };
        let (c0, c1) = part(self.cost, 0.0, f64::INFINITY);
        let (k0, k1) = part(self.km, 0.0, MAX_KM);
        let (d0, d1) = part(self.days, days.0, days.1);
        Lin::range(self.lo + c0 + k0 + d0, self.hi + c1 + k1 + d1).sane()
    }

    /// NaN bounds (∞ − ∞) mean nothing is known.
    fn sane(self) -> Lin {
        if self.lo.is_nan() || self.hi.is_nan() {
            Lin::ANY
        } else {
            self
        }
    }

    fn add(self, o: Lin) -> Lin {
        Lin {
            cost: self.cost + o.cost,
            km: self.km + o.km,
            days: self.days + o.days,
            lo: self.lo + o.lo,
            hi: self.hi + o.hi,
        }
        .sane()
    }

    fn scale(self, k: f64) -> Lin {
        if k == 0.0 {
            return Lin::point(0.0);
        }
        let (lo, hi) = if k > 0.0 {
            (self.lo * k, self.hi * k)
        } else {
            (self.hi * k, self.lo * k)
        };
        Lin {
            cost: self.cost * k,
            km: self.km * k,
            days: self.days * k,
            lo,
            hi,
        }
        .sane()
    }
}

/// An abstract value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ab {
    Num(Lin),
    /// A boolean, `None` when it may be either.
    Bool(Option<bool>),
    /// Anything else (text, kinds): only compared, never bounded.
    Other,
}

struct Analysis<'a> {
    rules: &'a Rules,
    /// The ranges of the locations the bound is for.
    ranges: &'a NetworkRanges,
    scope: Scope<'a>,
    days: (f64, f64),
}

impl<'a> Analysis<'a> {
    fn num(&self, e: &'a Expr) -> Lin {
        match self.eval(e) {
            Ab::Num(l) => l,
            _ => Lin::ANY,
        }
    }

    /// The range of a number, symbols collapsed.
    fn range(&self, e: &'a Expr) -> Lin {
        self.num(e).collapse(self.days)
    }

    fn eval(&self, e: &'a Expr) -> Ab {
        let d = e.deps;
        let order_only =
            !(d.location || d.pair || d.shipment || d.stock || d.line || d.plan || d.script);
        if order_only {
            // Facts of the order and constants: evaluated exactly.
            return match self.scope.eval(e) {
                Val::Num(n) => Ab::Num(Lin::point(n)),
                Val::Bool(b) => Ab::Bool(Some(b)),
                _ => Ab::Other,
            };
        }
        match &e.kind {
            ExprKind::Fact(Fact::Term(t)) => match t {
                Term::Cost => Ab::Num(Lin {
                    cost: 1.0,
                    ..Lin::range(0.0, 0.0)
                }),
                Term::Distance => Ab::Num(Lin {
                    km: 1.0,
                    ..Lin::range(0.0, 0.0)
                }),
                Term::Days => Ab::Num(Lin {
                    days: 1.0,
                    ..Lin::range(0.0, 0.0)
                }),
                Term::InMarket | Term::MeetsPromise => Ab::Bool(None),
                Term::CapacityUtilisation => Ab::Num(Lin::range(0.0, 1.0)),
                Term::Shipments => Ab::Num(Lin::range(1.0, f64::INFINITY)),
                Term::CapacityLeft | Term::Atp | Term::StockCover => {
                    Ab::Num(Lin::range(0.0, f64::INFINITY))
                }
            },
            ExprKind::Fact(Fact::Location(f)) => {
                let r = self.ranges;
                let (lo, hi) = match f {
                    LocationFact::HandlingCost => r.handling,
                    LocationFact::ProcessingDays => r.processing_days,
                    LocationFact::DailyCapacity => r.daily_capacity,
                    LocationFact::Priority => r.priority,
                    _ => return Ab::Other,
                };
                if lo <= hi {
                    Ab::Num(Lin::range(lo, hi))
                } else {
                    Ab::Num(Lin::ANY)
                }
            }
            ExprKind::Neg(x) => Ab::Num(self.num(x).scale(-1.0)),
            ExprKind::Not(x) => match self.eval(x) {
                Ab::Bool(b) => Ab::Bool(b.map(|b| !b)),
                _ => Ab::Bool(None),
            },
            ExprKind::Arith(op, a, b) => {
                let (x, y) = (self.num(a), self.num(b));
                Ab::Num(match op {
                    ArithOp::Add => x.add(y),
                    ArithOp::Sub => x.add(y.scale(-1.0)),
                    ArithOp::Mul => match (x.value(), y.value()) {
                        (_, Some(k)) => x.scale(k),
                        (Some(k), _) => y.scale(k),
                        _ => mul(x.collapse(self.days), y.collapse(self.days)),
                    },
                    ArithOp::Div => match y.value() {
                        Some(k) if k != 0.0 => x.scale(1.0 / k),
                        _ => div(x.collapse(self.days), y.collapse(self.days)),
                    },
                })
            }
            ExprKind::Builtin(f, args) => {
                let mut xs = args.iter().map(|a| self.range(a));
                let a = xs.next().unwrap_or(Lin::ANY);
                let b = xs.next().unwrap_or(Lin::ANY);
                Ab::Num(match f {
                    Builtin::Min => Lin::range(a.lo.min(b.lo), a.hi.min(b.hi)),
                    Builtin::Max => Lin::range(a.lo.max(b.lo), a.hi.max(b.hi)),
                    Builtin::Abs => {
                        if a.lo >= 0.0 {
                            a
                        } else if a.hi <= 0.0 {
                            Lin::range(-a.hi, -a.lo)
                        } else {
                            Lin::range(0.0, (-a.lo).max(a.hi))
                        }
                    }
                })
            }
            ExprKind::Cond {
                cond,
                then,
                otherwise,
            } => match self.eval(cond) {
                Ab::Bool(Some(true)) => self.eval(then),
                Ab::Bool(Some(false)) => self.eval(otherwise),
                _ => match (self.eval(then), self.eval(otherwise)) {
                    (Ab::Num(x), Ab::Num(y)) => Ab::Num(hull(x, y, self.days)),
                    (Ab::Bool(x), Ab::Bool(y)) if x == y => Ab::Bool(x),
                    (Ab::Bool(_), Ab::Bool(_)) => Ab::Bool(None),
                    _ => Ab::Other,
                },
            },
            ExprKind::Script(id, args) => self.script(id.0, args),
            ExprKind::Compare(..)
            | ExprKind::And(..)
            | ExprKind::Or(..)
            | ExprKind::Contains { .. }
            | ExprKind::StartsWith { .. }
            | ExprKind::Bool(_) => Ab::Bool(None),
            ExprKind::Number(n) => Ab::Num(Lin::point(*n)),
            _ => match e.ty {
                ir::Type::Number(_) => Ab::Num(Lin::ANY),
                ir::Type::Bool => Ab::Bool(None),
                _ => Ab::Other,
            },
        }
    }

    /// A script's range: probed at its arguments when they are known, or at every day
    /// count when `days` is the one argument that is not.
    fn script(&self, id: usize, args: &'a [Expr]) -> Ab {
        let vals: Vec<Ab> = args.iter().map(|a| self.eval(a)).collect();
        let known = |a: &Ab| -> Option<Val<'static>> {
            match a {
                Ab::Num(l) => l.value().map(Val::Num),
                Ab::Bool(Some(b)) => Some(Val::Bool(*b)),
                _ => None,
            }
        };
        let open: Vec<usize> = (0..vals.len())
            .filter(|&i| vals.get(i).and_then(known).is_none())
            .collect();
        let fixed: Vec<Val<'static>> = vals
            .iter()
            .map(|a| known(a).unwrap_or(Val::Missing))
            .collect();
        let days_only = Lin {
            days: 1.0,
            ..Lin::range(0.0, 0.0)
        };
        let probes: Vec<f64> = match open.as_slice() {
            [] => vec![f64::NAN],
            [i] if matches!(vals.get(*i), Some(Ab::Num(l)) if *l == days_only) => {
                let (lo, hi) = self.days;
                if hi - lo > f64::from(MAX_PROBES) || (hi - lo).is_nan() {
                    return Ab::Num(Lin::ANY);
                }
                let mut out = Vec::new();
                let mut d = lo;
                while d <= hi {
                    out.push(d);
                    d += 1.0;
                }
                out
            }
            _ => return Ab::Num(Lin::ANY),
        };
        // The probes depend on the script, its known arguments and the days probed: one
        // look-up per bound once they were probed for an earlier order.
        let mut key: Vec<u64> = Vec::with_capacity(2 * fixed.len() + 4);
        key.extend([id as u64, self.days.0.to_bits(), self.days.1.to_bits()]);
        for v in &fixed {
            key.extend(match v {
                Val::Num(n) => [0, n.to_bits()],
                Val::Bool(b) => [1, u64::from(*b)],
                _ => [2, 0],
            });
        }
        let probed = self
            .rules
            .scripts
            .over_days(&key, || self.probe_all(id, &open, fixed, probes));
        match probed {
            Probed::Num(lo, hi) => Ab::Num(Lin::range(lo, hi)),
            Probed::Bool(b) => Ab::Bool(b),
            Probed::Unknown => Ab::Num(Lin::ANY),
        }
    }

    /// Script `id` at `fixed`, its open argument (if any) set to each of `probes` in turn.
    fn probe_all(
        &self,
        id: usize,
        open: &[usize],
        mut fixed: Vec<Val<'static>>,
        probes: Vec<f64>,
    ) -> Probed {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut bools: Option<Option<bool>> = None;
        for d in probes {
            if let Some(&i) = open.first() {
                if let Some(slot) = fixed.get_mut(i) {
                    *slot = Val::Num(d);
                }
            }
            match self.rules.scripts.probe(id, &fixed) {
                Some(Val::Num(n)) if !n.is_nan() => {
                    lo = lo.min(n);
                    hi = hi.max(n);
                }
                Some(Val::Bool(b)) => {
                    bools = Some(match bools {
                        None => Some(b),
                        Some(Some(x)) if x == b => Some(b),
                        _ => None,
                    });
                }
                _ => return Probed::Unknown,
            }
        }
        match bools {
            Some(b) if lo > hi => Probed::Bool(b),
            Some(_) => Probed::Unknown,
            None if lo <= hi => Probed::Num(lo, hi),
            None => Probed::Unknown,
        }
    }
}

fn hull(x: Lin, y: Lin, days: (f64, f64)) -> Lin {
    if x.cost == y.cost && x.km == y.km && x.days == y.days {
        Lin {
            lo: x.lo.min(y.lo),
            hi: x.hi.max(y.hi),
            ..x
        }
    } else {
        let (x, y) = (x.collapse(days), y.collapse(days));
        Lin::range(x.lo.min(y.lo), x.hi.max(y.hi))
    }
}

/// The product of two ranges.
fn mul(x: Lin, y: Lin) -> Lin {
    let ps = [x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi];
    if ps.iter().any(|p| p.is_nan()) {
        return Lin::ANY;
    }
    Lin::range(
        ps.iter().copied().fold(f64::INFINITY, f64::min),
        ps.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// The quotient of two ranges; anything when the divisor's range holds zero.
fn div(x: Lin, y: Lin) -> Lin {
    if y.lo <= 0.0 && y.hi >= 0.0 {
        return Lin::ANY;
    }
    mul(x, Lin::range(1.0 / y.hi, 1.0 / y.lo))
}

/// Whether the strategy ranks by `fewest_shipments` first: then a plan from one location
/// wins whenever there is one, and the bounded search looks for it alone.
pub(crate) fn singles_first(s: &ir::Strategy) -> bool {
    matches!(
        s.objective.rank.first().map(|k| &k.criterion),
        Some(Criterion::FewestShipments)
    )
}

/// Whether the strategy ranks by `days` (the latest arrival) first: the bounded search
/// then looks for the best plan whose every shipment arrives as early as any shipment can,
/// and hands the order to the full scan when there is none.
pub(crate) fn days_first(s: &ir::Strategy) -> bool {
    matches!(
        s.objective.rank.first().map(|k| &k.criterion),
        Some(Criterion::Days)
    )
}

/// Why a strategy's objective cannot be bounded, whatever the order, and the clause that
/// makes it so: the search then looks at every holder. `None` when the bound is worked out
/// per order.
pub(crate) fn static_obstacle(s: &ir::Strategy) -> Option<(sourcing_dsl::Span, String)> {
    // A fill compares no plans: it takes locations in its order, each giving what it can.
    // By priority and distance, without tiers, it reads them in that order and stops once
    // the order is filled; by other keys or in tiers it reads every holder first.
    if let Some(span) = s.objective.fill {
        let walked = s.prefer.is_empty()
            && s.objective
                .rank
                .iter()
                .all(|k| matches!(k.criterion, Criterion::Priority | Criterion::Distance));
        if walked {
            return None;
        }
        let order: Vec<&str> = s.objective.rank.iter().map(|k| k.text.as_str()).collect();
        let why = if s.prefer.is_empty() {
            "only a fill by `priority` and `distance` is read in its order"
        } else {
            "a fill with `prefer` tiers reads every holder"
        };
        return Some((
            span,
            format!(
                "filled by {}: each holder in that order gives what it can, no search ({why})",
                order.join(", then ")
            ),
        ));
    }
    let rank = &s.objective.rank;
    let first = rank.iter().position(|k| !is_limit(&k.criterion));
    // `fewest_shipments` first is searched one location at a time (see `singles_first`),
    // `days` first at the fewest days any shipment can take (see `days_first`).
    let skip = usize::from(singles_first(s) || days_first(s));
    if let Some(i) = rank
        .iter()
        .skip(skip)
        .position(|k| is_limit(&k.criterion))
        .map(|i| i + skip)
    {
        if first.is_none_or(|f| i < f) {
            if let Some(k) = rank.get(i) {
                return Some((
                    k.span,
                    format!("`rank by {}` comes before the objective", k.text),
                ));
            }
        }
    }
    // A script called per candidate may fail, or spend the order's budget, at any holder:
    // every holder is looked at, so that the order's fate does not hang on the walk.
    let per_candidate = |e: &Expr| e.deps.script && !e.deps.is_static();
    if let Some(x) = s.exclusions.iter().find(|x| per_candidate(&x.cond)) {
        return Some((
            x.span,
            format!(
                "exclusion `{}` calls a script for every candidate",
                x.reason
            ),
        ));
    }
    let sets = s
        .candidates
        .iter()
        .chain(s.prefer.iter().flatten())
        .filter(|set| !set.is_static);
    for set in sets {
        for f in &set.filters {
            if let ir::LocationFilter::Where(e) = f {
                if per_candidate(e) {
                    return Some((
                        set.span,
                        "a candidate set calls a script for every candidate".into(),
                    ));
                }
            }
        }
    }
    if let Some(k) = first.and_then(|f| rank.get(f)) {
        if k.descending {
            return Some((k.span, format!("`{}` is ranked larger first", k.text)));
        }
    }
    None
}

/// A script in the objective fed more than the order's facts and `days`: its value is
/// known only per candidate, so it bounds nothing.
fn opaque_script(e: &Expr) -> Option<sourcing_dsl::Span> {
    let plain = |a: &Expr| {
        let d = a.deps;
        !(d.location || d.pair || d.stock || d.line || d.plan || d.script)
            && (!d.shipment || matches!(a.kind, ExprKind::Fact(Fact::Term(Term::Days))))
    };
    let found = std::cell::Cell::new(None);
    e.any(|x| match &x.kind {
        ExprKind::Script(_, args) if !args.iter().all(plain) => {
            found.set(Some(x.span));
            true
        }
        _ => false,
    });
    found.get()
}

/// What of the stock a strategy's plans depend on exactly: (per kind of location, as the
/// holder trees number them, the units of a slot, beyond whether they cover the order; a
/// location's shipments left today, beyond none or some). Without `atp` or `stock_cover`
/// in its rules for a kind (an exclusion of stores reads none of a DC's), a plan reads a
/// slot's units only up to the order's demand; without `capacity_left` or
/// `capacity_utilisation`, a location's count only as full or not.
pub(crate) fn exact_reads(s: &ir::Strategy) -> ([bool; 3], bool) {
    let mut stock = [false; 3];
    for x in s.exclusions.iter().filter(|x| x.cond.deps.stock) {
        for (k, exact) in stock.iter_mut().enumerate() {
            *exact |= x.applies_to.is_none_or(|a| kind_index(a) == k);
        }
    }
    let mut exprs: Vec<&Expr> = s.exclusions.iter().map(|x| &x.cond).collect();
    exprs.extend(objective_exprs(s));
    exprs.extend(filter_exprs(s));
    // Anything but an exclusion reads the stock of every kind alike.
    if exprs.iter().skip(s.exclusions.len()).any(|e| e.deps.stock) {
        stock = [true; 3];
    }
    let capacity = exprs.iter().any(|e| {
        e.any(|x| {
            matches!(
                x.kind,
                ExprKind::Fact(Fact::Term(Term::CapacityLeft | Term::CapacityUtilisation))
            )
        })
    });
    (stock, capacity)
}

/// How a number moves as a location's stock of the line's SKU grows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slope {
    Flat,
    Rises,
    Falls,
}

impl Slope {
    fn flip(self) -> Slope {
        match self {
            Slope::Rises => Slope::Falls,
            Slope::Falls => Slope::Rises,
            Slope::Flat => Slope::Flat,
        }
    }

    fn join(self, other: Slope) -> Option<Slope> {
        match (self, other) {
            (Slope::Flat, x) | (x, Slope::Flat) => Some(x),
            (x, y) if x == y => Some(x),
            _ => None,
        }
    }
}

/// The sign of a number written in the rules (a literal or a constant), if known.
fn sign_of(set: &ir::RuleSet, e: &Expr) -> Option<f64> {
    let n = match &e.kind {
        ExprKind::Number(n) => *n,
        ExprKind::Const(id) => match set.consts.get(id.0).map(|c| c.value) {
            Some(ir::Value::Number(n)) => n,
            _ => return None,
        },
        _ => return None,
    };
    (!n.is_nan()).then(|| n.signum() * f64::from(u8::from(n != 0.0)))
}

/// How a number moves with the stock (`atp`, and `stock_cover`, its count over the line's
/// units); `None` when it cannot be told.
fn slope(set: &ir::RuleSet, e: &Expr) -> Option<Slope> {
    if !e.deps.stock {
        return Some(Slope::Flat);
    }
    let scaled = |x: Slope, k: f64| -> Option<Slope> {
        if k > 0.0 {
            Some(x)
        } else if k < 0.0 {
            Some(x.flip())
        } else {
            Some(Slope::Flat)
        }
    };
    match &e.kind {
        ExprKind::Fact(Fact::Term(Term::Atp | Term::StockCover)) => Some(Slope::Rises),
        ExprKind::Neg(x) => slope(set, x).map(Slope::flip),
        ExprKind::Arith(ArithOp::Add, a, b) => slope(set, a)?.join(slope(set, b)?),
        ExprKind::Arith(ArithOp::Sub, a, b) => slope(set, a)?.join(slope(set, b)?.flip()),
        ExprKind::Arith(ArithOp::Mul, a, b) => match (sign_of(set, a), sign_of(set, b)) {
            (Some(k), _) => scaled(slope(set, b)?, k),
            (_, Some(k)) => scaled(slope(set, a)?, k),
            _ => None,
        },
        ExprKind::Arith(ArithOp::Div, a, b) => match sign_of(set, b) {
            Some(k) if k != 0.0 => scaled(slope(set, a)?, k),
            _ => None,
        },
        _ => None,
    }
}

/// How a condition moves with the stock: `Falls` when it holds below some count and never
/// above it (`atp - line.qty < keep`), `Rises` the other way round; `None` when it cannot
/// be told.
fn truth_slope(set: &ir::RuleSet, e: &Expr) -> Option<Slope> {
    if !e.deps.stock {
        return Some(Slope::Flat);
    }
    match &e.kind {
        ExprKind::Compare(op, a, b) => {
            // `a < b` holds while `a - b` is below zero.
            let gap = slope(set, a)?.join(slope(set, b)?.flip())?;
            match op {
                ir::CmpOp::Lt | ir::CmpOp::Le => Some(gap.flip()),
                ir::CmpOp::Gt | ir::CmpOp::Ge => Some(gap),
                _ if gap == Slope::Flat => Some(Slope::Flat),
                _ => None,
            }
        }
        ExprKind::Not(x) => truth_slope(set, x).map(Slope::flip),
        ExprKind::And(a, b) | ExprKind::Or(a, b) => truth_slope(set, a)?.join(truth_slope(set, b)?),
        _ => None,
    }
}

/// Per kind of location (as the holder trees number them), whether the strategy reads that
/// kind's stock only through exclusions per line that fall with it and read nothing of the
/// location, the pair, the shipment or a script (`exclude store when atp - line.qty <
/// keep`): such an exclusion drops a line below a floor it works out per order and never
/// above, so a plan depends on a count only up to that floor and the order's units.
pub(crate) fn floored_reads(set: &ir::RuleSet, s: &ir::Strategy) -> [bool; 3] {
    let (exact, _) = exact_reads(s);
    let mut out = exact;
    for x in s.exclusions.iter().filter(|x| x.cond.deps.stock) {
        let d = x.cond.deps;
        let blind = x.per_line && !(d.location || d.pair || d.shipment || d.plan || d.script);
        let falls = blind && truth_slope(set, &x.cond) == Some(Slope::Falls);
        if !falls {
            for (k, floored) in out.iter_mut().enumerate() {
                if x.applies_to.is_none_or(|a| kind_index(a) == k) {
                    *floored = false;
                }
            }
        }
    }
    // Anything but an exclusion that reads the stock reads it exactly.
    let others = objective_exprs(s)
        .into_iter()
        .chain(filter_exprs(s))
        .any(|e| e.deps.stock);
    if others {
        out = [false; 3];
    }
    out
}

/// The expressions a strategy's plans are compared by: its score, split and promise
/// penalties, and rank keys written as expressions.
fn objective_exprs(s: &ir::Strategy) -> Vec<&Expr> {
    let mut exprs: Vec<&Expr> = Vec::new();
    exprs.extend(s.objective.score.as_ref());
    exprs.extend(s.split.penalty.as_ref());
    if let PromisePolicy::Preferred { penalty: Some(p) } = &s.promise {
        exprs.push(p);
    }
    for k in &s.objective.rank {
        if let Criterion::Expr(e) = &k.criterion {
            exprs.push(e);
        }
    }
    exprs
}

/// The `where` filters of a strategy's candidate and preferred sets.
fn filter_exprs(s: &ir::Strategy) -> Vec<&Expr> {
    let mut exprs: Vec<&Expr> = Vec::new();
    for set in s.candidates.iter().chain(s.prefer.iter().flatten()) {
        for f in &set.filters {
            if let ir::LocationFilter::Where(e) = f {
                exprs.push(e);
            }
        }
    }
    exprs
}

/// Most distinct sets of location facts kept per kind for one exclusion: beyond, telling
/// whether it drops every location of the kind would cost more than walking them.
const MAX_PROFILES: usize = 16;

/// For an exclusion per line that reads nothing but the line, the order, constants and
/// location facts (`line.tags has "hazmat" and not location.tags has "hazmat"`): per kind
/// of location (as the holder trees number them), one location of each distinct set of the
/// facts it reads. Whether it drops a line at every location of a kind is then told by
/// those few. `None` for any other exclusion, or when a kind has too many such sets.
pub(crate) fn location_profiles(x: &ir::Exclusion, network: &Network) -> Option<[Vec<u32>; 3]> {
    let d = x.cond.deps;
    if !x.per_line || d.stock || d.pair || d.shipment || d.plan || d.script {
        return None;
    }
    let found = std::cell::RefCell::new(Vec::<LocationFact>::new());
    x.cond.any(|e| {
        if let ExprKind::Fact(Fact::Location(f)) = &e.kind {
            let mut facts = found.borrow_mut();
            if !facts.contains(f) {
                facts.push(f.clone());
            }
        }
        false
    });
    let facts = found.into_inner();
    let key = |l: &crate::model::network::Location| -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        for f in &facts {
            match f {
                LocationFact::Id => l.id.hash(&mut h),
                LocationFact::Kind => crate::index::kind_number(l.kind).hash(&mut h),
                LocationFact::Country => l.country.hash(&mut h),
                LocationFact::Region => l.region.hash(&mut h),
                LocationFact::Tags => l.tags.hash(&mut h),
                LocationFact::HandlingCost => l.handling_cost.to_bits().hash(&mut h),
                LocationFact::ProcessingDays => l.processing_days.hash(&mut h),
                LocationFact::DailyCapacity => l.daily_capacity.hash(&mut h),
                LocationFact::Priority => l.priority.hash(&mut h),
                LocationFact::Attr(name) => l.attr.get(name).map(|v| v.to_string()).hash(&mut h),
            }
        }
        h.finish()
    };
    let alike = |a: &crate::model::network::Location, b: &crate::model::network::Location| {
        facts.iter().all(|f| match f {
            LocationFact::Id => a.id == b.id,
            LocationFact::Kind => a.kind == b.kind,
            LocationFact::Country => a.country == b.country,
            LocationFact::Region => a.region == b.region,
            LocationFact::Tags => a.tags == b.tags,
            LocationFact::HandlingCost => a.handling_cost.to_bits() == b.handling_cost.to_bits(),
            LocationFact::ProcessingDays => a.processing_days == b.processing_days,
            LocationFact::DailyCapacity => a.daily_capacity == b.daily_capacity,
            LocationFact::Priority => a.priority == b.priority,
            LocationFact::Attr(name) => a.attr.get(name) == b.attr.get(name),
        })
    };
    // Locations alike in every fact it reads give the same answer: one of each, found by
    // the facts' hash and confirmed fact by fact.
    let mut out: [Vec<u32>; 3] = Default::default();
    let mut keys: [Vec<u64>; 3] = Default::default();
    for (i, l) in network.locations.iter().enumerate() {
        let kind = usize::from(crate::index::kind_number(l.kind));
        let (Some(reps), Some(seen)) = (out.get_mut(kind), keys.get_mut(kind)) else {
            continue;
        };
        let k = if facts.is_empty() { 0 } else { key(l) };
        let known = seen.iter().zip(reps.iter()).any(|(&sk, &r)| {
            sk == k
                && network
                    .locations
                    .get(r as usize)
                    .is_some_and(|rep| alike(l, rep))
        });
        if !known {
            if seen.len() == MAX_PROFILES {
                return None;
            }
            seen.push(k);
            reps.push(i as u32);
        }
    }
    Some(out)
}

/// Whether a strategy's objective (its rank keys, score and penalties) reads anything whose
/// range differs by kind of location: a location fact, `days`, or a script.
pub(crate) fn reads_by_kind(s: &ir::Strategy) -> bool {
    objective_exprs(s).iter().any(|e| {
        e.any(|x| {
            matches!(
                x.kind,
                ExprKind::Fact(Fact::Location(_))
                    | ExprKind::Fact(Fact::Term(Term::Days))
                    | ExprKind::Script(..)
            )
        })
    })
}

/// Bounds per order worked out for one strategy, by the order facts its objective reads
/// (the same facts give the same bound: scripts are pure functions of their arguments).
#[derive(Debug, Default)]
pub(crate) struct BoundMemo {
    /// The facts the objective reads; `None` when one of them cannot make a key (a list,
    /// an unknown field, the order id), and nothing is kept.
    facts: Option<Vec<Expr>>,
    bounds: std::sync::Mutex<rustc_hash::FxHashMap<Vec<u8>, Result<ObjectiveBound, String>>>,
}

/// The memo's number for the network's ranges (a kind's ranges go by the kind's number).
const NETWORK_RANGES: u8 = u8::MAX;

/// Bounds one strategy keeps at most; past it the memo starts over.
const BOUND_MEMO_SIZE: usize = 4096;

impl BoundMemo {
    pub(crate) fn new(s: &ir::Strategy) -> BoundMemo {
        let mut facts: Vec<Expr> = Vec::new();
        let mut keyable = true;
        for e in objective_exprs(s) {
            let found = std::cell::RefCell::new(Vec::new());
            e.any(|x| {
                if let ExprKind::Fact(Fact::Order(f)) = &x.kind {
                    found.borrow_mut().push((f.clone(), x.clone()));
                }
                false
            });
            for (f, x) in found.into_inner() {
                match f {
                    ir::OrderFact::Tags
                    | ir::OrderFact::PickupStoreTags
                    | ir::OrderFact::Attr(_)
                    | ir::OrderFact::Id => keyable = false,
                    _ => {
                        let known = facts
                            .iter()
                            .any(|y| matches!(&y.kind, ExprKind::Fact(Fact::Order(g)) if *g == f));
                        if !known {
                            facts.push(x);
                        }
                    }
                }
            }
        }
        BoundMemo {
            facts: keyable.then_some(facts),
            bounds: Default::default(),
        }
    }

    /// The key of an order's bound over the ranges numbered `which`: the values of the
    /// facts the objective reads.
    fn key(&self, which: u8, scope: &Scope<'_>) -> Option<Vec<u8>> {
        let facts = self.facts.as_ref()?;
        let mut key = vec![which];
        for f in facts {
            match scope.eval(f) {
                Val::Num(n) => {
                    key.push(0);
                    key.extend(n.to_bits().to_le_bytes());
                }
                Val::Bool(b) => key.extend([1, u8::from(b)]),
                Val::Str(t) => {
                    key.push(2);
                    key.extend(u64::try_from(t.len()).unwrap_or(u64::MAX).to_le_bytes());
                    key.extend(t.as_bytes());
                }
                Val::Date(d) => {
                    key.push(3);
                    key.extend(d.to_le_bytes());
                }
                Val::Missing => key.push(4),
                other => {
                    let text = format!("{other:?}");
                    key.push(5);
                    key.extend(u64::try_from(text.len()).unwrap_or(u64::MAX).to_le_bytes());
                    key.extend(text.as_bytes());
                }
            }
        }
        Some(key)
    }

    fn get(&self, key: &[u8]) -> Option<Result<ObjectiveBound, String>> {
        self.bounds.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: Vec<u8>, bound: &Result<ObjectiveBound, String>) {
        if let Ok(mut bounds) = self.bounds.lock() {
            if bounds.len() >= BOUND_MEMO_SIZE {
                bounds.clear();
            }
            bounds.insert(key, bound.clone());
        }
    }
}

/// A strategy searched by a scan of every holder for every order, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchNote {
    /// `file:line:col` of the clause that costs the speed.
    pub at: String,
    /// The strategy.
    pub strategy: String,
    /// Why its search cannot be bounded.
    pub why: String,
}

/// The strategies of a checked rule set that every order searches by a full scan of the
/// holders of its SKUs (the others walk them best-first by a bound on the objective), each
/// with the clause that costs the speed: what `sourcing check` notes.
pub fn search_notes(set: &ir::RuleSet) -> Vec<SearchNote> {
    let mut out = Vec::new();
    for s in &set.strategies {
        let found = static_obstacle(s).or_else(|| {
            let score = s.objective.score.as_ref()?;
            let first = s.objective.rank.iter().find(|k| !is_limit(&k.criterion))?;
            if !matches!(first.criterion, Criterion::Score) {
                return None;
            }
            opaque_script(score).map(|at| {
                (
                    at,
                    "the score calls a script with a value of each candidate other than `days`"
                        .to_string(),
                )
            })
        });
        if let Some((span, why)) = found {
            let (line, col) = set.line_col(span.start);
            out.push(SearchNote {
                at: format!("{}:{line}:{col}", set.source_name),
                strategy: s.name.clone(),
                why,
            });
        }
    }
    out
}

impl Rules {
    /// The bound of strategy `s` for the order of `facts`, or why there is none.
    ///
    /// Working it out evaluates facts of the order that a decision may never read (both
    /// branches of a condition on the location): it leaves the order as it found it, no
    /// failure recorded and no script operation spent.
    pub(crate) fn objective_bound(
        &self,
        s: &CompiledStrategy,
        facts: &OrderFacts<'_>,
    ) -> Result<ObjectiveBound, String> {
        if let Some(why) = &s.full_scan {
            return Err(why.clone());
        }
        self.objective_bound_in(s, facts, &self.ranges, NETWORK_RANGES)
    }

    /// What a walk over each kind of location may add to `bound` for every holder of that
    /// kind: that kind's own ranges (a store's processing days, say) can lift a term above
    /// its least over the network. Zero where the objective grows with the days (the walk
    /// counts a carrier's days itself) or where the kind's bound differs in its factors.
    pub(crate) fn kind_offsets(
        &self,
        s: &CompiledStrategy,
        facts: &OrderFacts<'_>,
        bound: &ObjectiveBound,
    ) -> [f64; crate::index::KINDS] {
        let mut out = [0.0; crate::index::KINDS];
        if bound.per_day != 0.0 || !s.by_kind {
            return out;
        }
        let walked = s
            .tier_kinds
            .last()
            .copied()
            .unwrap_or(crate::index::ALL_KINDS);
        for (kind, ((extra, ranges), walked)) in
            (0u8..).zip(out.iter_mut().zip(&self.kind_ranges).zip(walked))
        {
            let Some(ranges) = ranges.as_ref().filter(|_| walked) else {
                continue;
            };
            if let Ok(b) = self.objective_bound_in(s, facts, ranges, kind) {
                if b.per_cost == bound.per_cost
                    && b.per_km == bound.per_km
                    && b.per_day == 0.0
                    && b.offset > bound.offset
                {
                    *extra = b.offset - bound.offset;
                }
            }
        }
        out
    }

    /// The bound over locations of the ranges `ranges` (`which`: the network's,
    /// [`NETWORK_RANGES`], or a kind's number), leaving the order as it found it.
    fn objective_bound_in(
        &self,
        s: &CompiledStrategy,
        facts: &OrderFacts<'_>,
        ranges: &NetworkRanges,
        which: u8,
    ) -> Result<ObjectiveBound, String> {
        let failed_before = facts.failure.borrow().is_some();
        // Orders that agree on every order fact the objective reads share its bound: one
        // look-up instead of working it out again.
        let key = (!failed_before)
            .then(|| s.bound_memo.key(which, &self.order_scope(facts)))
            .flatten();
        if let Some(hit) = key.as_ref().and_then(|k| s.bound_memo.get(k)) {
            return hit;
        }
        let operations = facts.operations_left.get();
        let bound = self.objective_bound_of(s, facts, ranges);
        if !failed_before && facts.failure.borrow_mut().take().is_some() {
            return Err("a term of the score fails for this order".into());
        }
        facts.operations_left.set(operations);
        if let Some(key) = key {
            s.bound_memo.put(key, &bound);
        }
        bound
    }

    fn objective_bound_of(
        &self,
        s: &CompiledStrategy,
        facts: &OrderFacts<'_>,
        ranges: &NetworkRanges,
    ) -> Result<ObjectiveBound, String> {
        let strategy = &s.ir;
        let scope = self.order_scope(facts);
        let days = ranges.days;
        let a = Analysis {
            rules: self,
            ranges,
            scope,
            days,
        };
        let key = strategy
            .objective
            .rank
            .iter()
            .find(|k| !is_limit(&k.criterion));
        let criterion = key.map_or(&Criterion::Cost, |k| &k.criterion);
        let truthy = |x: Ab| match x {
            Ab::Num(l) => l,
            // A condition scores 0 when it holds, 1 otherwise.
            Ab::Bool(Some(b)) => Lin::point(if b { 0.0 } else { 1.0 }),
            _ => Lin::range(0.0, 1.0),
        };
        let mut lin = match criterion {
            Criterion::Cost => Lin {
                cost: 1.0,
                ..Lin::range(0.0, 0.0)
            },
            Criterion::Score => match &strategy.objective.score {
                Some(e) => truthy(a.eval(e)),
                None => Lin {
                    cost: 1.0,
                    ..Lin::range(0.0, 0.0)
                },
            },
            Criterion::Distance => Lin {
                km: 1.0,
                ..Lin::range(0.0, 0.0)
            },
            Criterion::InMarket => Lin::range(0.0, 1.0),
            Criterion::Expr(e) => truthy(a.eval(e)),
            _ => return Err("the objective is not additive".into()),
        };
        if matches!(criterion, Criterion::Cost | Criterion::Score) {
            // A penalty that is not a finite number counts as none.
            if let Some(p) = &strategy.split.penalty {
                let r = a.range(p);
                let lo = if r.hi.is_finite() {
                    r.lo
                } else {
                    r.lo.min(0.0)
                };
                lin = lin.add(Lin::range(lo, 0.0));
            }
            if let PromisePolicy::Preferred { penalty: Some(p) } = &strategy.promise {
                let r = a.range(p);
                lin = lin.add(Lin::range(r.lo.min(0.0), 0.0));
            }
        }
        // A factor below zero: the term falls as the symbol grows; bound it at the far end.
        if lin.cost < 0.0 {
            return Err("the score falls as the cost rises".into());
        }
        if lin.km < 0.0 {
            lin.lo += lin.km * MAX_KM;
            lin.km = 0.0;
        }
        let days_part = if lin.days >= 0.0 {
            lin.days * days.0
        } else {
            lin.days * days.1
        };
        let offset = lin.lo + days_part;
        if !offset.is_finite() || !lin.cost.is_finite() || !lin.km.is_finite() {
            return Err("a term of the score has no lower bound".into());
        }
        Ok(ObjectiveBound {
            per_cost: lin.cost,
            per_km: lin.km,
            offset,
            per_day: lin.days.max(0.0),
        })
    }
}

/// Kinds a list of location sets may hold (`[dc, store, dropship]`).
fn kinds_of(sets: &[ir::LocationSet]) -> [bool; 3] {
    let mut out = [false; 3];
    for set in sets {
        match &set.base {
            ir::SetBase::Kind(k) => out[kind_index(*k)] = true,
            ir::SetBase::PickupStore => out[kind_index(ir::LocationKind::Store)] = true,
            _ => return [true; 3],
        }
    }
    out
}

/// For each tier of a strategy (the preferred ones, then the rest), the kinds of location
/// its walk over holders visits: the kinds of the candidate sets, narrowed to those of the
/// preferred sets up to the tier. The pickup store counts for no kind: every tier looks at
/// it by name, whatever its kind.
pub(crate) fn tier_kinds(s: &ir::Strategy) -> Vec<[bool; 3]> {
    let walked = |sets: &[ir::LocationSet]| -> [bool; 3] {
        let mut out = [false; 3];
        for set in sets {
            match &set.base {
                ir::SetBase::Kind(k) => out[kind_index(*k)] = true,
                ir::SetBase::PickupStore => {}
                _ => return [true; 3],
            }
        }
        out
    };
    let candidates = walked(&s.candidates);
    let mut preferred = [false; 3];
    let mut out = Vec::with_capacity(s.prefer.len() + 1);
    for tier in &s.prefer {
        let here = walked(tier);
        for k in 0..3 {
            preferred[k] |= here[k];
        }
        out.push([0, 1, 2].map(|k| preferred[k] && candidates[k]));
    }
    out.push(candidates);
    out
}

/// The number of a location kind in the holder trees and in [`tier_kinds`].
pub(crate) fn kind_index(k: ir::LocationKind) -> usize {
    match k {
        ir::LocationKind::Dc => 0,
        ir::LocationKind::Store => 1,
        ir::LocationKind::Dropship => 2,
    }
}

/// For each tier of a strategy (the preferred ones, then the rest), the distance beyond
/// which every candidate of the tier is excluded: the largest of its kinds' limits, where
/// a kind's limit is the least `exclude … when distance > X` that applies to it.
pub(crate) fn tier_max_km(set: &ir::RuleSet, s: &ir::Strategy) -> Vec<f64> {
    let number = |e: &Expr| -> Option<f64> {
        match &e.kind {
            ExprKind::Number(n) => Some(*n),
            ExprKind::Const(id) => match set.consts.get(id.0).map(|c| c.value) {
                Some(ir::Value::Number(n)) => Some(n),
                _ => None,
            },
            _ => None,
        }
    };
    let mut cap = [f64::INFINITY; 3];
    for ex in s.exclusions.iter().filter(|e| !e.per_line) {
        let limit = match &ex.cond.kind {
            ExprKind::Compare(ir::CmpOp::Gt | ir::CmpOp::Ge, a, b)
                if matches!(a.kind, ExprKind::Fact(Fact::Term(Term::Distance))) =>
            {
                number(b)
            }
            _ => None,
        };
        let Some(limit) = limit.filter(|x| !x.is_nan()) else {
            continue;
        };
        for (k, c) in cap.iter_mut().enumerate() {
            if ex.applies_to.is_none_or(|a| kind_index(a) == k) {
                *c = c.min(limit);
            }
        }
    }
    let candidates = kinds_of(&s.candidates);
    let mut preferred = [false; 3];
    let mut out = Vec::with_capacity(s.prefer.len() + 1);
    let widest = |kinds: [bool; 3]| -> f64 {
        (0..3)
            .filter(|&k| kinds[k] && candidates[k])
            .map(|k| cap[k])
            .fold(f64::NEG_INFINITY, f64::max)
            .max(0.0)
    };
    for tier in &s.prefer {
        let here = kinds_of(tier);
        for k in 0..3 {
            preferred[k] |= here[k];
        }
        out.push(widest(preferred));
    }
    out.push(widest([true; 3]));
    out
}
