//! Native evaluation of checked rule expressions.
//!
//! In: an [`Expr`] from the checked rule set and a [`Scope`] holding the facts it may read
//! (the order, a line, a location, terms of the candidate, shipment and plan). Out: a
//! [`Val`]. Nothing here allocates on the way: strings are borrowed from the order, the
//! network or the rule set, lists are walked in place. A value the scope does not have
//! (an unknown `attr`) is `Missing`: comparisons with it are false and arithmetic on it
//! stays missing. A division by zero, and arithmetic whose result is not a number or
//! overflows, records a [`RuleFailure`] for the order (the rules then cannot decide it) and
//! has no value; infinite facts (an order without promise, a location without capacity
//! limit) stay infinite.

use super::script::{ScriptFailure, Scripts};
use crate::model::network::{Location, LocationKind};
use crate::model::order::{Fulfillment, Order, OrderLine};
use sourcing_dsl::ir::{
    self, ArithOp, Builtin, CmpOp, Expr, ExprKind, Fact, LineFact, LocationFact, OrderFact, Term,
};
use sourcing_dsl::Span;

/// Why a number the rules need is not a finite number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NotFinite {
    /// A division whose divisor is 0.
    DivisionByZero,
    /// NaN: `∞ - ∞` or `0 × ∞` of infinite facts.
    NotANumber,
    /// Finite operands whose result is too large for a number.
    Overflow,
    /// An infinite value where only a finite one makes sense (a penalty).
    Infinite,
}

impl std::fmt::Display for NotFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotFinite::DivisionByZero => "divides by zero",
            NotFinite::NotANumber => "is not a number (NaN)",
            NotFinite::Overflow => "overflows: the result is too large for a number",
            NotFinite::Infinite => "is infinite",
        })
    }
}

/// What stops the rules for one order: a script that failed, or a number that is not finite
/// where the rules need one. Either way the order is a rule error, never decided by a
/// guess.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RuleFailure {
    /// A script call failed.
    Script(ScriptFailure),
    /// The expression at `at` has no finite value.
    NotFinite {
        /// The expression, in the rule file.
        at: Span,
        /// What is wrong with its value.
        what: NotFinite,
    },
}

/// A value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Val<'a> {
    Num(f64),
    Bool(bool),
    Str(&'a str),
    Kind(ir::LocationKind),
    Fulfillment(ir::Fulfillment),
    Weekday(ir::Weekday),
    /// Days from 1970-01-01.
    Date(i32),
    Missing,
}

impl Val<'_> {
    /// True only for `Bool(true)`: a condition that cannot be evaluated does not hold.
    pub fn truthy(self) -> bool {
        matches!(self, Val::Bool(true))
    }

    /// The number, or NaN.
    pub fn num(self) -> f64 {
        match self {
            Val::Num(n) => n,
            _ => f64::NAN,
        }
    }
}

/// Facts of the order, each computed once per order and only if a rule reads it.
#[derive(Debug, Clone)]
pub(crate) struct OrderFacts<'a> {
    pub order: &'a Order,
    value: std::cell::OnceCell<f64>,
    units: std::cell::OnceCell<f64>,
    weight: std::cell::OnceCell<f64>,
    /// UTC weekday, hour and date (days from 1970-01-01) of `placed_at`.
    placed: std::cell::OnceCell<Option<(ir::Weekday, f64, i32)>>,
    /// Script results of this order by (script, arguments): a script is a pure function of
    /// its arguments, and candidates share few distinct ones.
    pub(crate) memo: std::cell::RefCell<Vec<(usize, Vec<u64>, Val<'static>)>>,
    /// The first failure of the rules for this order, if any.
    pub(crate) failure: std::cell::RefCell<Option<RuleFailure>>,
    /// Script operations this order may still spend.
    pub(crate) operations_left: std::cell::Cell<u64>,
    /// The pickup store's tags, for a pickup order at a store of the network.
    pub pickup_tags: Option<&'a [String]>,
}

impl<'a> OrderFacts<'a> {
    pub fn new(order: &'a Order) -> OrderFacts<'a> {
        OrderFacts {
            order,
            value: Default::default(),
            units: Default::default(),
            weight: Default::default(),
            placed: Default::default(),
            memo: Default::default(),
            failure: Default::default(),
            operations_left: std::cell::Cell::new(super::script::MAX_ORDER_OPERATIONS),
            pickup_tags: None,
        }
    }

    /// Records a failure; only the first one of the order is kept.
    pub fn fail(&self, failure: RuleFailure) {
        let mut slot = self.failure.borrow_mut();
        if slot.is_none() {
            *slot = Some(failure);
        }
    }

    /// Records that the expression at `at` has no finite value.
    pub fn not_finite(&self, at: Span, what: NotFinite) {
        self.fail(RuleFailure::NotFinite { at, what });
    }

    fn value(&self) -> f64 {
        *self.value.get_or_init(|| {
            self.order
                .lines
                .iter()
                .map(|l| f64::from(l.qty) * l.unit_price)
                .sum()
        })
    }

    fn units(&self) -> f64 {
        *self
            .units
            .get_or_init(|| self.order.lines.iter().map(|l| f64::from(l.qty)).sum())
    }

    fn weight(&self) -> f64 {
        *self.weight.get_or_init(|| self.order.total_weight_kg())
    }

    fn placed(&self) -> Option<(ir::Weekday, f64, i32)> {
        *self.placed.get_or_init(|| {
            use chrono::{Datelike, Timelike};
            let t = chrono::DateTime::parse_from_rfc3339(self.order.placed_at.as_deref()?)
                .ok()?
                .with_timezone(&chrono::Utc);
            let days = [
                ir::Weekday::Mon,
                ir::Weekday::Tue,
                ir::Weekday::Wed,
                ir::Weekday::Thu,
                ir::Weekday::Fri,
                ir::Weekday::Sat,
                ir::Weekday::Sun,
            ];
            let day = days[t.weekday().num_days_from_monday() as usize % 7];
            // The UTC date, the day `weekday` and `hour` are read on.
            let date = i32::try_from(t.timestamp().div_euclid(86_400)).ok()?;
            Some((day, f64::from(t.hour()), date))
        })
    }
}

/// Terms of a (candidate location, order) pair and of a shipment from it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Terms {
    pub distance: f64,
    pub in_market: bool,
    pub meets_promise: bool,
    pub capacity_left: f64,
    pub capacity_utilisation: f64,
    pub days: f64,
    pub cost: f64,
    pub atp: f64,
    pub stock_cover: f64,
    pub shipments: f64,
}

/// Everything an expression may read.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub consts: &'a [ir::Const],
    pub scripts: &'a Scripts,
    pub order: &'a OrderFacts<'a>,
    pub line: Option<(usize, &'a OrderLine)>,
    pub location: Option<&'a Location>,
    pub terms: Terms,
}

fn kind(k: LocationKind) -> ir::LocationKind {
    match k {
        LocationKind::Dc => ir::LocationKind::Dc,
        LocationKind::Store => ir::LocationKind::Store,
        LocationKind::Dropship => ir::LocationKind::Dropship,
    }
}

fn json<'a>(v: Option<&'a serde_json::Value>) -> Val<'a> {
    match v {
        Some(serde_json::Value::Number(n)) => n.as_f64().map_or(Val::Missing, Val::Num),
        Some(serde_json::Value::String(s)) => Val::Str(s),
        Some(serde_json::Value::Bool(b)) => Val::Bool(*b),
        _ => Val::Missing,
    }
}

fn opt_str(s: &Option<String>) -> Val<'_> {
    Val::Str(s.as_deref().unwrap_or(""))
}

impl<'a> Scope<'a> {
    /// Evaluates an expression.
    pub fn eval(&self, e: &'a Expr) -> Val<'a> {
        match &e.kind {
            ExprKind::Number(n) => Val::Num(*n),
            ExprKind::Bool(b) => Val::Bool(*b),
            ExprKind::Str(s) => Val::Str(s),
            ExprKind::Kind(k) => Val::Kind(*k),
            ExprKind::Fulfillment(f) => Val::Fulfillment(*f),
            ExprKind::Weekday(d) => Val::Weekday(*d),
            ExprKind::Date(d) => Val::Date(*d),
            // A list is only meaningful inside `in`/`has`, which walk it in place.
            ExprKind::List(_) => Val::Missing,
            ExprKind::Const(id) => match self.consts.get(id.0).map(|c| c.value) {
                Some(ir::Value::Number(n)) => Val::Num(n),
                Some(ir::Value::Bool(b)) => Val::Bool(b),
                None => Val::Missing,
            },
            ExprKind::Fact(f) => self.fact(f),
            ExprKind::Not(x) => match self.eval(x) {
                Val::Bool(b) => Val::Bool(!b),
                _ => Val::Missing,
            },
            ExprKind::Neg(x) => match self.eval(x) {
                Val::Num(n) => Val::Num(-n),
                _ => Val::Missing,
            },
            ExprKind::And(a, b) => match self.eval(a) {
                Val::Bool(false) => Val::Bool(false),
                Val::Bool(true) => match self.eval(b) {
                    Val::Bool(x) => Val::Bool(x),
                    _ => Val::Missing,
                },
                _ => Val::Missing,
            },
            ExprKind::Or(a, b) => match self.eval(a) {
                Val::Bool(true) => Val::Bool(true),
                Val::Bool(false) => match self.eval(b) {
                    Val::Bool(x) => Val::Bool(x),
                    _ => Val::Missing,
                },
                _ => Val::Missing,
            },
            ExprKind::Arith(op, a, b) => match (self.eval(a), self.eval(b)) {
                (Val::Num(x), Val::Num(y)) => {
                    let r = match op {
                        ArithOp::Add => x + y,
                        ArithOp::Sub => x - y,
                        ArithOp::Mul => x * y,
                        ArithOp::Div => x / y,
                    };
                    if r.is_finite() {
                        Val::Num(r)
                    } else {
                        self.not_finite(e.span, *op, (x, y), r)
                    }
                }
                _ => Val::Missing,
            },
            ExprKind::Compare(op, a, b) => Val::Bool(compare(*op, self.eval(a), self.eval(b))),
            ExprKind::Contains { list, item } => {
                let item = self.eval(item);
                Val::Bool(self.contains(list, item))
            }
            ExprKind::StartsWith { text, prefix } => {
                let Val::Str(text) = self.eval(text) else {
                    return Val::Bool(false);
                };
                Val::Bool(match &prefix.kind {
                    ExprKind::List(items) => items
                        .iter()
                        .any(|p| matches!(self.eval(p), Val::Str(p) if text.starts_with(p))),
                    _ => matches!(self.eval(prefix), Val::Str(p) if text.starts_with(p)),
                })
            }
            ExprKind::Cond {
                cond,
                then,
                otherwise,
            } => match self.eval(cond) {
                Val::Bool(true) => self.eval(then),
                Val::Bool(false) => self.eval(otherwise),
                _ => Val::Missing,
            },
            ExprKind::Builtin(f, args) => {
                let mut xs = args.iter().map(|a| self.eval(a).num());
                let a = xs.next().unwrap_or(f64::NAN);
                let b = xs.next().unwrap_or(f64::NAN);
                let r = match f {
                    Builtin::Min => a.min(b),
                    Builtin::Max => a.max(b),
                    Builtin::Abs => a.abs(),
                };
                if r.is_nan() {
                    Val::Missing
                } else {
                    Val::Num(r)
                }
            }
            ExprKind::Script(id, args) => self.scripts.call(id.0, e.span.start, args, self),
        }
    }

    /// An arithmetic result `r` of `x op y` that is not finite. Infinite facts stay infinite
    /// (`order.promise_days + 1 days` without promise); a division by zero, NaN or an
    /// overflow of finite numbers fails the order: a score, a rank key or a condition built
    /// on it would decide by accident (∞ and NaN compare false and rank alike).
    #[cold]
    fn not_finite(&self, at: Span, op: ArithOp, (x, y): (f64, f64), r: f64) -> Val<'a> {
        let what = if matches!(op, ArithOp::Div) && y == 0.0 {
            NotFinite::DivisionByZero
        } else if r.is_nan() {
            NotFinite::NotANumber
        } else if x.is_finite() && y.is_finite() {
            NotFinite::Overflow
        } else {
            return Val::Num(r);
        };
        self.order.not_finite(at, what);
        Val::Missing
    }

    fn fact(&self, f: &'a Fact) -> Val<'a> {
        let o = self.order.order;
        match f {
            Fact::Order(of) => match of {
                OrderFact::Id => Val::Str(&o.id),
                OrderFact::Channel => opt_str(&o.channel),
                OrderFact::CustomerTier => opt_str(&o.customer_tier),
                OrderFact::ShipToCountry => opt_str(&o.ship_to.country),
                OrderFact::ShipToRegion => opt_str(&o.ship_to.region),
                OrderFact::ShipToPostalCode => opt_str(&o.ship_to.postal_code),
                OrderFact::Fulfillment => Val::Fulfillment(match o.fulfillment {
                    Fulfillment::Ship => ir::Fulfillment::Ship,
                    Fulfillment::Pickup => ir::Fulfillment::Pickup,
                }),
                OrderFact::PickupLocation => match o.fulfillment {
                    Fulfillment::Pickup => opt_str(&o.pickup_location),
                    Fulfillment::Ship => Val::Str(""),
                },
                OrderFact::PromiseDays => Val::Num(o.promise_days.map_or(f64::INFINITY, f64::from)),
                OrderFact::HasPromise => Val::Bool(o.promise_days.is_some()),
                OrderFact::Value => Val::Num(self.order.value()),
                OrderFact::Lines => Val::Num(o.lines.len() as f64),
                OrderFact::Units => Val::Num(self.order.units()),
                OrderFact::Weight => Val::Num(self.order.weight()),
                OrderFact::Weekday => self
                    .order
                    .placed()
                    .map_or(Val::Missing, |p| Val::Weekday(p.0)),
                OrderFact::Hour => self.order.placed().map_or(Val::Missing, |p| Val::Num(p.1)),
                OrderFact::Date => self.order.placed().map_or(Val::Missing, |p| Val::Date(p.2)),
                // A list: only readable through `has`.
                OrderFact::Tags | OrderFact::PickupStoreTags => Val::Missing,
                OrderFact::Attr(name) => json(o.attr.get(name)),
            },
            Fact::Line(lf) => {
                let Some((index, l)) = self.line else {
                    return Val::Missing;
                };
                match lf {
                    LineFact::Index => Val::Num(index as f64),
                    LineFact::Sku => Val::Str(&l.sku),
                    LineFact::Qty => Val::Num(f64::from(l.qty)),
                    LineFact::UnitWeight => Val::Num(l.unit_weight_kg),
                    LineFact::UnitPrice => Val::Num(l.unit_price),
                    LineFact::Weight => Val::Num(f64::from(l.qty) * l.unit_weight_kg),
                    LineFact::Value => Val::Num(f64::from(l.qty) * l.unit_price),
                    LineFact::Tags => Val::Missing,
                    LineFact::Group => opt_str(&l.group),
                    LineFact::PackSize => Val::Num(f64::from(l.pack_size.unwrap_or(1))),
                    LineFact::Attr(name) => json(l.attr.get(name)),
                }
            }
            Fact::Location(lf) => {
                let Some(l) = self.location else {
                    return Val::Missing;
                };
                match lf {
                    LocationFact::Id => Val::Str(&l.id),
                    LocationFact::Kind => Val::Kind(kind(l.kind)),
                    LocationFact::Country => opt_str(&l.country),
                    LocationFact::Region => opt_str(&l.region),
                    LocationFact::Tags => Val::Missing,
                    LocationFact::HandlingCost => Val::Num(l.handling_cost),
                    LocationFact::ProcessingDays => Val::Num(f64::from(l.processing_days)),
                    LocationFact::DailyCapacity => {
                        Val::Num(l.daily_capacity.map_or(f64::INFINITY, f64::from))
                    }
                    LocationFact::Priority => {
                        Val::Num(l.priority.map_or(f64::INFINITY, |p| p as f64))
                    }
                    LocationFact::Attr(name) => json(l.attr.get(name)),
                }
            }
            Fact::Term(t) => {
                let x = &self.terms;
                match t {
                    Term::Distance => Val::Num(x.distance),
                    Term::InMarket => Val::Bool(x.in_market),
                    Term::MeetsPromise => Val::Bool(x.meets_promise),
                    Term::CapacityLeft => Val::Num(x.capacity_left),
                    Term::CapacityUtilisation => Val::Num(x.capacity_utilisation),
                    Term::Days => Val::Num(x.days),
                    Term::Cost => Val::Num(x.cost),
                    Term::Atp => Val::Num(x.atp),
                    Term::StockCover => Val::Num(x.stock_cover),
                    Term::Shipments => Val::Num(x.shipments),
                }
            }
        }
    }

    /// Whether a list (a literal or a list-valued fact) holds `item`.
    fn contains(&self, list: &'a Expr, item: Val<'a>) -> bool {
        let in_strings =
            |tags: &[String]| matches!(item, Val::Str(s) if tags.iter().any(|t| t == s));
        match &list.kind {
            ExprKind::List(items) => items.iter().any(|x| compare(CmpOp::Eq, self.eval(x), item)),
            ExprKind::Fact(Fact::Order(OrderFact::PickupStoreTags)) => {
                self.order.pickup_tags.is_some_and(in_strings)
            }
            ExprKind::Fact(Fact::Order(OrderFact::Tags)) => {
                self.order.order.lines.iter().any(|l| in_strings(&l.tags))
            }
            ExprKind::Fact(Fact::Line(LineFact::Tags)) => {
                self.line.is_some_and(|(_, l)| in_strings(&l.tags))
            }
            ExprKind::Fact(Fact::Location(LocationFact::Tags)) => {
                self.location.is_some_and(|l| in_strings(&l.tags))
            }
            ExprKind::Fact(Fact::Order(OrderFact::Attr(n))) => {
                json_list_has(self.order.order.attr.get(n), item)
            }
            ExprKind::Fact(Fact::Line(LineFact::Attr(n))) => {
                json_list_has(self.line.and_then(|(_, l)| l.attr.get(n)), item)
            }
            ExprKind::Fact(Fact::Location(LocationFact::Attr(n))) => {
                json_list_has(self.location.and_then(|l| l.attr.get(n)), item)
            }
            // A text contains a substring.
            _ => match (self.eval(list), item) {
                (Val::Str(text), Val::Str(part)) => text.contains(part),
                _ => false,
            },
        }
    }
}

fn json_list_has(v: Option<&serde_json::Value>, item: Val<'_>) -> bool {
    match v {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .any(|x| compare(CmpOp::Eq, json(Some(x)), item)),
        _ => false,
    }
}

/// Compares two values; values of different types (or missing ones) never compare true.
pub(crate) fn compare(op: CmpOp, a: Val<'_>, b: Val<'_>) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(&y),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(&y)),
        (Val::Date(x), Val::Date(y)) => Some(x.cmp(&y)),
        (Val::Kind(x), Val::Kind(y)) => (x == y).then_some(Ordering::Equal),
        (Val::Fulfillment(x), Val::Fulfillment(y)) => (x == y).then_some(Ordering::Equal),
        (Val::Weekday(x), Val::Weekday(y)) => (x == y).then_some(Ordering::Equal),
        _ => None,
    };
    let equal_kinds = matches!(
        (a, b),
        (Val::Kind(_), Val::Kind(_))
            | (Val::Fulfillment(_), Val::Fulfillment(_))
            | (Val::Weekday(_), Val::Weekday(_))
    );
    match (op, ord) {
        (CmpOp::Eq, Some(o)) => o == Ordering::Equal,
        (CmpOp::Ne, Some(o)) => o != Ordering::Equal,
        // Enum values of one type that differ are unequal.
        (CmpOp::Ne, None) => equal_kinds,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::Le, Some(o)) => o != Ordering::Greater,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::Ge, Some(o)) => o != Ordering::Less,
        _ => false,
    }
}
