//! The checked rule set: what the engine compiles.
//!
//! In: produced by `check` from an AST that passed every check. Out: plain data for the
//! engine. Names are resolved (facts are enums, constants/groups/scripts/strategies are
//! indices into the tables of [`RuleSet`]), every expression carries its [`Type`] and what it
//! depends on ([`Deps`]), so the engine can hoist work: an expression without `line` or
//! `stock` dependencies is evaluated once per order and location, not per line.
//!
//! Constants stay as references ([`ExprKind::Const`]) because `--set name=value` may override
//! them ([`RuleSet::set_const`]); everything built only from literals is folded already.
//! Spans are kept on every item so explanations can point back at the rule text.

use serde::Serialize;

use crate::source::{SourceFile, Span};
use std::sync::Arc;

/// Index of a constant in [`RuleSet::consts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ConstId(pub usize);

/// Index of a group in [`RuleSet::groups`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct GroupId(pub usize);

/// Index of a script in [`RuleSet::scripts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ScriptId(pub usize);

/// Index of a strategy in [`RuleSet::strategies`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct StrategyId(pub usize);

/// A checked rule file.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSet {
    /// The file the rules came from (for messages).
    pub source_name: String,
    /// The file's text, to turn the byte offsets of spans into lines and columns in
    /// messages the engine gives while routing ([`RuleSet::line_col`]).
    #[serde(skip)]
    pub source: Arc<SourceFile>,
    /// The currency the file's money literals use (`EUR`), if it writes any. The engine should
    /// refuse a network in another currency.
    pub currency: Option<String>,
    /// Where the file first names its currency (a byte offset into [`RuleSet::source`]),
    /// so that a network in another currency can be refused at that line.
    #[serde(skip)]
    pub currency_at: Option<usize>,
    /// Named constants, overridable with [`RuleSet::set_const`].
    pub consts: Vec<Const>,
    /// Named location sets.
    pub groups: Vec<Group>,
    /// Custom terms written in rhai.
    pub scripts: Vec<Script>,
    /// Strategies in file order: the first whose `when` holds is chosen.
    pub strategies: Vec<Strategy>,
}

/// A value a constant can hold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Value {
    /// A number (percentages as fractions: `15 %` is `0.15`).
    Number(f64),
    /// A boolean.
    Bool(bool),
}

/// `const name = value`.
#[derive(Debug, Clone, Serialize)]
pub struct Const {
    /// Its name.
    pub name: String,
    /// The current value (after overrides).
    pub value: Value,
    /// The value written in the file.
    pub default: Value,
    /// Its type (a number with a unit, or bool).
    pub ty: Type,
    /// The declaration.
    pub span: Span,
}

/// `group name = sets`: the union of `sets`.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// Its name.
    pub name: String,
    /// The sets whose union it is (filters read location facts only, so a group can be
    /// computed once per network).
    pub sets: Vec<LocationSet>,
    /// The declaration.
    pub span: Span,
}

/// A custom term in rhai. The engine compiles `code` once per rule set and calls it with the
/// arguments in `params` order (numbers as `f64`, percentages as fractions).
#[derive(Debug, Clone, Serialize)]
pub struct Script {
    /// The name it is called by.
    pub name: String,
    /// Parameter names and types.
    pub params: Vec<(String, Type)>,
    /// The declared result type (a number with a unit, or bool).
    pub ret: Type,
    /// The rhai source, verbatim.
    pub code: String,
    /// Where the rhai source is in the rule file (to map rhai positions to rule positions).
    pub code_span: Span,
    /// The declaration.
    pub span: Span,
}

/// A strategy: how to source an order it is chosen for.
#[derive(Debug, Clone, Serialize)]
pub struct Strategy {
    /// Its name (shown as `rule` in decisions).
    pub name: String,
    /// The condition that selects it (order facts only); `None` selects every order.
    pub when: Option<Expr>,
    /// The union of these sets is where units may come from.
    pub candidates: Vec<LocationSet>,
    /// Exclusions in file order.
    pub exclusions: Vec<Exclusion>,
    /// Preference tiers, most preferred first: units come from tier 0 before tier 1, and
    /// from any tier before the other candidates.
    pub prefer: Vec<Vec<LocationSet>>,
    /// How plans are compared.
    pub objective: Objective,
    /// How many shipments a plan may have.
    pub split: SplitPolicy,
    /// What happens to shipments that miss the promise.
    pub promise: PromisePolicy,
    /// Place the whole order with this strategy or hand all of it on.
    pub all_or_nothing: bool,
    /// What happens to units this strategy cannot place.
    pub next: Next,
    /// The whole strategy.
    pub span: Span,
}

/// A location kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LocationKind {
    /// A distribution centre.
    Dc,
    /// A store.
    Store,
    /// A drop-ship vendor.
    Dropship,
}

impl LocationKind {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::Dc => "dc",
            LocationKind::Store => "store",
            LocationKind::Dropship => "dropship",
        }
    }
}

/// How an order is fulfilled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fulfillment {
    /// Shipped to the customer.
    Ship,
    /// Picked up at a store.
    Pickup,
}

/// A day of the week (`placed_at.weekday`, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// All weekdays with their spelling.
    pub const ALL: [(&'static str, Weekday); 7] = [
        ("mon", Weekday::Mon),
        ("tue", Weekday::Tue),
        ("wed", Weekday::Wed),
        ("thu", Weekday::Thu),
        ("fri", Weekday::Fri),
        ("sat", Weekday::Sat),
        ("sun", Weekday::Sun),
    ];
}

/// A location set, normalised: a base narrowed by filters (all must hold).
#[derive(Debug, Clone, Serialize)]
pub struct LocationSet {
    /// Where the set starts.
    pub base: SetBase,
    /// Filters, in the order written.
    pub filters: Vec<LocationFilter>,
    /// True when membership depends on location facts only (computable once per network).
    pub is_static: bool,
    /// Where it is written.
    pub span: Span,
}

/// Where a location set starts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SetBase {
    /// Every location.
    All,
    /// Locations of one kind.
    Kind(LocationKind),
    /// The store a pickup order names (empty for shipped orders).
    PickupStore,
    /// Locations with these ids (ids the network does not have are ignored).
    Ids(Vec<String>),
    /// A group.
    Group(GroupId),
}

/// A filter on a location set.
#[derive(Debug, Clone, Serialize)]
pub enum LocationFilter {
    /// The location has this tag.
    Tagged(String),
    /// The location is in this country.
    Country(String),
    /// The location is in this region.
    Region(String),
    /// A boolean expression over the location (and, in strategies, the order).
    Where(Expr),
}

/// `exclude <target> when <cond> reason "..."`.
#[derive(Debug, Clone, Serialize)]
pub struct Exclusion {
    /// The kind it applies to; `None` for every location.
    pub applies_to: Option<LocationKind>,
    /// The condition; a candidate for which it holds is dropped.
    pub cond: Expr,
    /// The reason shown in explanations and `unsourced` (the written reason, or the clause
    /// text when none is written).
    pub reason: String,
    /// Whether the condition reads line facts or stock (`line.*`, `atp`, `stock_cover`): then
    /// it is evaluated per (line, location) and drops the location for that line only.
    pub per_line: bool,
    /// The whole clause.
    pub span: Span,
}

/// How plans are compared: by `rank` keys in order; ties by the engine's (priority, id).
#[derive(Debug, Clone, Serialize)]
pub struct Objective {
    /// The strategy's `score` (per shipment, summed over the plan; lower is better).
    pub score: Option<Expr>,
    /// Lexicographic keys. When the file has no `rank by`, this is `[Score]` if there is a
    /// score and `[Cost]` otherwise; when it has both and does not name `score`, `Score` is
    /// appended as the last key.
    pub rank: Vec<RankKey>,
    /// `fill by`: the `rank` keys are the fill order, each evaluated per location, and the
    /// strategy takes what the first location gives, then the next (no plan comparison).
    /// Where the clause is written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fill: Option<Span>,
}

/// One ranking key.
#[derive(Debug, Clone, Serialize)]
pub struct RankKey {
    /// What is compared.
    pub criterion: Criterion,
    /// Larger first.
    pub descending: bool,
    /// How it is written (`distance`, `in_market desc`), for explanations.
    pub text: String,
    /// Where it is written (the whole `rank by` clause for implied keys).
    pub span: Span,
}

/// A ranking criterion, aggregated over the shipments of a plan.
#[derive(Debug, Clone, Serialize)]
pub enum Criterion {
    /// The number of shipments.
    FewestShipments,
    /// Total cost (sum), plus split and promise penalties.
    Cost,
    /// The latest arrival (max of `days`).
    Days,
    /// Total distance (sum of `distance`).
    Distance,
    /// The worst location priority (max; absent counts as last).
    Priority,
    /// The number of shipments from outside the ship-to country (fewer is better).
    InMarket,
    /// The strategy's `score` summed over shipments, plus penalties.
    Score,
    /// Any numeric expression, summed over shipments; a boolean counts the shipments where
    /// it is false.
    Expr(Expr),
}

/// How many shipments a plan may have.
#[derive(Debug, Clone, Serialize)]
pub struct SplitPolicy {
    /// The most shipments; `Some(1)` for `split none`, `None` for unlimited.
    pub max_shipments: Option<u32>,
    /// Added to the plan's score (or cost) per shipment beyond the first.
    pub penalty: Option<Expr>,
    /// Whether one line may be split across shipments.
    pub lines_may_split: bool,
    /// The `split` clause, if written.
    pub span: Option<Span>,
}

/// What happens to plans whose shipments miss the promise.
#[derive(Debug, Clone, Serialize)]
pub enum PromisePolicy {
    /// Late shipments are fine (the default).
    Ignored,
    /// A plan with a late shipment is not allowed.
    Required,
    /// Late shipments are allowed; `penalty` (per late shipment) is added to the score/cost.
    Preferred {
        /// The penalty per late shipment.
        penalty: Option<Expr>,
    },
}

/// What happens to units a strategy cannot place.
#[derive(Debug, Clone, Serialize)]
pub enum Next {
    /// Hand them to another strategy (its `when` is not tested again).
    Fallback {
        /// The target.
        strategy: StrategyId,
        /// The `fallback` clause.
        span: Span,
    },
    /// Report them as backordered.
    Backorder,
    /// Report them as unsourced (the default).
    Unsourced,
}

/// The unit of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// A plain number (counts, units of stock, hours, ratios).
    None,
    /// Kilometres.
    Km,
    /// Days.
    Days,
    /// Kilograms.
    Kg,
    /// Money in the rule set's currency.
    Money,
    /// A percentage, stored as a fraction (`15 %` is `0.15`).
    Percent,
}

/// The element type of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Elem {
    /// Text.
    Str,
    /// Numbers with a unit.
    Number(Unit),
    /// Location kinds.
    Kind,
    /// Fulfillment values.
    Fulfillment,
    /// Weekdays.
    Weekday,
    /// Anything (from `attr.*`).
    Any,
}

/// The type of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Type {
    /// `true` / `false`.
    Bool,
    /// A number with a unit.
    Number(Unit),
    /// Text.
    Str,
    /// A location kind.
    Kind,
    /// `ship` / `pickup`.
    Fulfillment,
    /// A weekday.
    Weekday,
    /// A calendar date (`order.placed_at.date`, `2026-12-20`).
    Date,
    /// A list.
    List(Elem),
    /// A free attribute (`attr.*`): its type is known only at run time; comparisons with a
    /// value of another type are false, arithmetic treats non-numbers as missing.
    Any,
    /// A type that could not be determined (only inside checking; never in a `RuleSet`).
    Error,
}

/// What an expression depends on: the engine evaluates it at the outermost level possible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Deps {
    /// Reads `order.*`.
    pub order: bool,
    /// Reads `location.*` facts.
    pub location: bool,
    /// Reads a term of the (order, location) pair: `distance`, `in_market`, `meets_promise`,
    /// `capacity_left`, `capacity_utilisation`.
    pub pair: bool,
    /// Reads a term of a shipment: `cost`, `days`.
    pub shipment: bool,
    /// Reads stock: `atp`, `stock_cover`.
    pub stock: bool,
    /// Reads `line.*`.
    pub line: bool,
    /// Reads a plan term: `shipments`.
    pub plan: bool,
    /// Reads a constant (so its value may change with `--set`).
    pub consts: bool,
    /// Calls a script.
    pub script: bool,
}

impl std::ops::BitOr for Deps {
    type Output = Deps;
    fn bitor(self, o: Deps) -> Deps {
        Deps {
            order: self.order || o.order,
            location: self.location || o.location,
            pair: self.pair || o.pair,
            shipment: self.shipment || o.shipment,
            stock: self.stock || o.stock,
            line: self.line || o.line,
            plan: self.plan || o.plan,
            consts: self.consts || o.consts,
            script: self.script || o.script,
        }
    }
}

impl Deps {
    /// Whether the value is fixed once the rule set is loaded (literals and constants).
    pub fn is_static(self) -> bool {
        let Deps {
            order,
            location,
            pair,
            shipment,
            stock,
            line,
            plan,
            consts: _,
            script,
        } = self;
        !(order || location || pair || shipment || stock || line || plan || script)
    }
}

/// A typed expression.
#[derive(Debug, Clone, Serialize)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Its type.
    pub ty: Type,
    /// What it reads.
    pub deps: Deps,
    /// Where it is written.
    pub span: Span,
}

impl Expr {
    /// Whether this expression or any expression inside it satisfies `pred`, walked with a
    /// stack of its own (expressions may be deep).
    pub fn any(&self, pred: impl Fn(&Expr) -> bool) -> bool {
        let mut stack = vec![self];
        while let Some(x) = stack.pop() {
            if pred(x) {
                return true;
            }
            match &x.kind {
                ExprKind::Script(_, args) | ExprKind::Builtin(_, args) | ExprKind::List(args) => {
                    stack.extend(args)
                }
                ExprKind::Not(a) | ExprKind::Neg(a) => stack.push(a),
                ExprKind::And(a, b)
                | ExprKind::Or(a, b)
                | ExprKind::Arith(_, a, b)
                | ExprKind::Compare(_, a, b) => stack.extend([&**a, &**b]),
                ExprKind::Contains { list, item } => stack.extend([&**list, &**item]),
                ExprKind::StartsWith { text, prefix } => stack.extend([&**text, &**prefix]),
                ExprKind::Cond {
                    cond,
                    then,
                    otherwise,
                } => stack.extend([&**cond, &**then, &**otherwise]),
                _ => {}
            }
        }
        false
    }
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ArithOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/` (the engine defines what division by zero gives).
    Div,
}

/// Comparison operators. On numbers, a missing value (no promise, unlimited capacity, no
/// priority) behaves as +∞.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CmpOp {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// Built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Builtin {
    /// `min(a, b)`.
    Min,
    /// `max(a, b)`.
    Max,
    /// `abs(a)`.
    Abs,
}

/// What an expression computes.
#[derive(Debug, Clone, Serialize)]
pub enum ExprKind {
    /// A number (percentages as fractions).
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// Text.
    Str(String),
    /// A location kind.
    Kind(LocationKind),
    /// A fulfillment value.
    Fulfillment(Fulfillment),
    /// A weekday.
    Weekday(Weekday),
    /// A date: days from 1970-01-01 ([`crate::date`]).
    Date(i32),
    /// A list literal (elements are literals).
    List(Vec<Expr>),
    /// The current value of a constant.
    Const(ConstId),
    /// A fact or built-in term.
    Fact(Fact),
    /// `not x`.
    Not(Box<Expr>),
    /// `-x`.
    Neg(Box<Expr>),
    /// `a and b` (short-circuit).
    And(Box<Expr>, Box<Expr>),
    /// `a or b` (short-circuit).
    Or(Box<Expr>, Box<Expr>),
    /// Arithmetic on numbers.
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// A comparison.
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    /// `item in list` and `list has item`, normalised: whether `list` contains `item`.
    Contains {
        /// A list literal or a list-valued fact.
        list: Box<Expr>,
        /// The value looked for.
        item: Box<Expr>,
    },
    /// `text starts with prefix` (or with any of a list of prefixes).
    StartsWith {
        /// The text.
        text: Box<Expr>,
        /// A string or a list of strings.
        prefix: Box<Expr>,
    },
    /// `c ? a : b` / `if c then a else b`.
    Cond {
        /// The condition.
        cond: Box<Expr>,
        /// Its value when `cond` holds.
        then: Box<Expr>,
        /// Its value otherwise.
        otherwise: Box<Expr>,
    },
    /// A built-in function.
    Builtin(Builtin, Vec<Expr>),
    /// A call to a script.
    Script(ScriptId, Vec<Expr>),
}

/// A fact a rule may read, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Fact {
    /// A fact of the order.
    Order(OrderFact),
    /// A fact of the order line being considered (exclusions only).
    Line(LineFact),
    /// A fact of the candidate location.
    Location(LocationFact),
    /// A term the engine computes for a candidate, a shipment or a plan.
    Term(Term),
}

/// Facts of the order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum OrderFact {
    /// `order.id`.
    Id,
    /// `order.channel`.
    Channel,
    /// `order.customer_tier`.
    CustomerTier,
    /// `order.ship_to.country`.
    ShipToCountry,
    /// `order.ship_to.region`.
    ShipToRegion,
    /// `order.ship_to.postal_code`.
    ShipToPostalCode,
    /// `order.fulfillment`.
    Fulfillment,
    /// `order.pickup_location` (empty for shipped orders).
    PickupLocation,
    /// `order.promise_days` (days; absent = +∞).
    PromiseDays,
    /// `order.has_promise`.
    HasPromise,
    /// `order.value`: sum of qty × unit_price (money).
    Value,
    /// `order.lines`: the number of lines.
    Lines,
    /// `order.units`: sum of qty.
    Units,
    /// `order.weight`: sum of qty × unit_weight_kg (kg).
    Weight,
    /// `order.placed_at.weekday` (UTC).
    Weekday,
    /// `order.placed_at.hour` (UTC, 0–23).
    Hour,
    /// `order.placed_at.date` (UTC): days from 1970-01-01.
    Date,
    /// `order.tags`: the union of the lines' tags.
    Tags,
    /// `order.pickup_store.tags`: the tags of the pickup store (none for shipped orders).
    PickupStoreTags,
    /// `order.attr.<name>`: an unknown field of the order.
    Attr(String),
}

/// Facts of an order line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum LineFact {
    /// `line.index` (0-based).
    Index,
    /// `line.sku`.
    Sku,
    /// `line.qty`.
    Qty,
    /// `line.unit_weight_kg` (kg).
    UnitWeight,
    /// `line.unit_price` (money).
    UnitPrice,
    /// `line.weight`: qty × unit_weight_kg (kg).
    Weight,
    /// `line.value`: qty × unit_price (money).
    Value,
    /// `line.tags`.
    Tags,
    /// `line.group` (empty when absent).
    Group,
    /// `line.pack_size` (1 when absent).
    PackSize,
    /// `line.attr.<name>`.
    Attr(String),
}

/// Facts of a location.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum LocationFact {
    /// `location.id`.
    Id,
    /// `location.kind`.
    Kind,
    /// `location.country`.
    Country,
    /// `location.region`.
    Region,
    /// `location.tags`.
    Tags,
    /// `location.handling_cost` (money).
    HandlingCost,
    /// `location.processing_days` (days).
    ProcessingDays,
    /// `location.daily_capacity` (absent = +∞).
    DailyCapacity,
    /// `location.priority` (lower is preferred; absent = +∞).
    Priority,
    /// `location.attr.<name>`.
    Attr(String),
}

/// Terms the engine computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Term {
    /// `distance` / `distance_km`: great-circle km from the location to ship-to (pair).
    Distance,
    /// `in_market`: the location is in the ship-to country (pair).
    InMarket,
    /// `meets_promise`: some service arrives within the promise (pair; true without promise).
    MeetsPromise,
    /// `capacity_left`: shipments the location can still send today (pair; +∞ if unlimited).
    CapacityLeft,
    /// `capacity_utilisation`: share of today's capacity used, as a fraction (pair).
    CapacityUtilisation,
    /// `days`: processing + transit days of the shipment (shipment).
    Days,
    /// `cost`: the shipment's cost by the contract's formula (shipment).
    Cost,
    /// `atp`: available to promise of the line's SKU at the location; in scores, the sum over
    /// the shipment's lines (stock).
    Atp,
    /// `stock_cover`: atp / qty for the line; in scores, the minimum over the shipment's lines
    /// (stock).
    StockCover,
    /// `shipments`: the number of shipments of the plan (plan; `rank by` only).
    Shipments,
}

/// Why [`RuleSet::set_const`] refused an override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetConstError {
    /// No constant has this name.
    Unknown {
        /// The name asked for.
        name: String,
        /// A similar name, if any.
        suggestion: Option<String>,
    },
    /// The value is not a number/boolean, or has the wrong unit.
    BadValue {
        /// The constant.
        name: String,
        /// What is wrong.
        message: String,
    },
}

impl std::fmt::Display for SetConstError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetConstError::Unknown { name, suggestion } => {
                write!(f, "unknown constant `{name}`")?;
                if let Some(s) = suggestion {
                    write!(f, "; did you mean `{s}`?")?;
                }
                Ok(())
            }
            SetConstError::BadValue { name, message } => {
                write!(f, "cannot set `{name}`: {message}")
            }
        }
    }
}

impl std::error::Error for SetConstError {}

impl RuleSet {
    /// The 1-based line and column of a byte offset of the rule file.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        self.source.line_col(offset)
    }

    /// Whether the file declares any script (if not, the engine never needs rhai).
    pub fn uses_scripts(&self) -> bool {
        !self.scripts.is_empty()
    }

    /// The strategy with this name.
    pub fn strategy(&self, name: &str) -> Option<StrategyId> {
        self.strategies
            .iter()
            .position(|s| s.name == name)
            .map(StrategyId)
    }

    /// The constant with this name.
    pub fn const_id(&self, name: &str) -> Option<ConstId> {
        self.consts.iter().position(|c| c.name == name).map(ConstId)
    }

    /// Overrides a constant (`--set name=value`). `value` is written like in a rule file:
    /// `8`, `8 EUR`, `90 %`, `true`. A bare number takes the constant's unit (`90` for a
    /// percentage constant means 90 %). Returns the previous value.
    pub fn set_const(&mut self, name: &str, value: &str) -> Result<Value, SetConstError> {
        let Some(id) = self.const_id(name) else {
            let names: Vec<&str> = self.consts.iter().map(|c| c.name.as_str()).collect();
            return Err(SetConstError::Unknown {
                name: name.to_string(),
                suggestion: crate::suggest::closest(name, names).map(str::to_string),
            });
        };
        let currency = self.currency.clone();
        let Some(c) = self.consts.get_mut(id.0) else {
            return Err(SetConstError::Unknown {
                name: name.to_string(),
                suggestion: None,
            });
        };
        let new = parse_override(value, c.ty, currency.as_deref()).map_err(|message| {
            SetConstError::BadValue {
                name: name.to_string(),
                message,
            }
        })?;
        Ok(std::mem::replace(&mut c.value, new))
    }
}

/// Parses an override value for a constant of type `ty`.
fn parse_override(text: &str, ty: Type, currency: Option<&str>) -> Result<Value, String> {
    let text = text.trim();
    if ty == Type::Bool {
        return match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("expected `true` or `false`, found `{text}`")),
        };
    }
    let Type::Number(unit) = ty else {
        return Err("this constant cannot be overridden".to_string());
    };
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '_' || c == '+'))
        .unwrap_or(text.len());
    let (num, rest) = text.split_at(split);
    let cleaned: String = num.chars().filter(|c| *c != '_').collect();
    let n: f64 = cleaned
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| format!("`{text}` is not a number"))?;
    let written = match rest.trim() {
        "" => unit,
        "km" => Unit::Km,
        "kg" => Unit::Kg,
        "day" | "days" => Unit::Days,
        "%" => Unit::Percent,
        code if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) => {
            if let Some(cur) = currency {
                if cur != code {
                    return Err(format!("the rules use `{cur}`, not `{code}`"));
                }
            }
            Unit::Money
        }
        other => return Err(format!("unknown unit `{other}`")),
    };
    if written != unit {
        return Err(format!(
            "expected {}, found {}",
            crate::check::unit_name(unit, currency),
            crate::check::unit_name(written, currency)
        ));
    }
    Ok(Value::Number(if unit == Unit::Percent {
        n / 100.0
    } else {
        n
    }))
}
