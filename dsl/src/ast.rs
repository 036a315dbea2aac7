//! The syntax tree of a rule file.
//!
//! In: lowered from pest pairs by `syntax::lower`. Out: consumed by the checker (`check`) and
//! the formatter (`fmt`). The AST is untyped and unresolved: names are plain strings. Every
//! node carries a [`Span`]; spans never take part in equality.

use std::sync::Arc;

use serde::Serialize;

pub use crate::source::{SourceFile, Span};

/// A parsed rule file.
#[derive(Debug, Clone, Serialize)]
pub struct Ast {
    /// The source the AST was parsed from (not part of equality).
    #[serde(skip)]
    pub source: Arc<SourceFile>,
    /// Top-level items in file order.
    pub items: Vec<Item>,
    /// Every comment in the file, in order (the formatter re-emits them).
    pub comments: Vec<Comment>,
}

impl PartialEq for Ast {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items && self.comments == other.comments
    }
}

/// A `# comment`, text including the `#`, without the line break.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comment {
    /// The text, starting with `#`, trailing spaces removed.
    pub text: String,
    /// Where it is.
    pub span: Span,
}

/// A name as written, with its span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// A string literal (unescaped value), with its span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrLit {
    /// The value, escapes resolved.
    pub value: String,
    /// Where it is (including the quotes).
    pub span: Span,
}

/// A top-level declaration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Item {
    /// `const name = value`.
    Const(ConstDecl),
    /// `group name = sets`.
    Group(GroupDecl),
    /// `script name(params) -> type { code }`.
    Script(ScriptDecl),
    /// `strategy "name" { clauses }`.
    Strategy(Strategy),
}

impl Item {
    /// The span of the whole item.
    pub fn span(&self) -> Span {
        match self {
            Item::Const(c) => c.span,
            Item::Group(g) => g.span,
            Item::Script(s) => s.span,
            Item::Strategy(s) => s.span,
        }
    }
}

/// `const name = value`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConstDecl {
    /// The constant's name.
    pub name: Ident,
    /// Its value.
    pub value: ConstValue,
    /// The whole declaration.
    pub span: Span,
}

/// The value of a constant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ConstValue {
    /// `true` / `false`.
    Bool(bool, Span),
    /// A number with an optional unit; `negative` for a leading `-`.
    Number {
        /// Whether a `-` precedes the number.
        negative: bool,
        /// The number.
        quantity: Quantity,
    },
}

/// A unit written after a number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum UnitLit {
    /// `km`.
    Km,
    /// `kg`.
    Kg,
    /// `days` / `day`.
    Days,
    /// `%`.
    Percent,
    /// A three-letter currency code such as `EUR`.
    Currency(String),
}

/// A number literal with an optional unit: `300 km`, `4.50 EUR`, `2`.
#[derive(Debug, Clone, Serialize)]
pub struct Quantity {
    /// The digits as written (kept so the formatter prints `4.50`, not `4.5`).
    pub text: String,
    /// The numeric value of `text`.
    pub value: f64,
    /// The unit, if any.
    pub unit: Option<UnitLit>,
    /// Where it is.
    pub span: Span,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value && self.unit == other.unit
    }
}

/// `group name = set, set`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupDecl {
    /// The group's name.
    pub name: Ident,
    /// The union of these sets.
    pub sets: Vec<SetExpr>,
    /// The whole declaration.
    pub span: Span,
}

/// A type in a script signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TypeName {
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `string`.
    String,
    /// `money`.
    Money,
    /// `km`.
    Km,
    /// `days`.
    Days,
    /// `kg`.
    Kg,
    /// `percent`.
    Percent,
}

impl TypeName {
    /// The keyword as written.
    pub fn as_str(self) -> &'static str {
        match self {
            TypeName::Number => "number",
            TypeName::Bool => "bool",
            TypeName::String => "string",
            TypeName::Money => "money",
            TypeName::Km => "km",
            TypeName::Days => "days",
            TypeName::Kg => "kg",
            TypeName::Percent => "percent",
        }
    }
}

/// One parameter of a script.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    /// Its name inside the rhai code.
    pub name: Ident,
    /// Its type.
    pub ty: TypeName,
    /// Where the type is written.
    pub ty_span: Span,
}

/// `script name(params) -> type { rhai code }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScriptDecl {
    /// The script's name (called like a function).
    pub name: Ident,
    /// Parameters.
    pub params: Vec<Param>,
    /// The declared result type.
    pub ret: TypeName,
    /// Where the result type is written.
    pub ret_span: Span,
    /// The rhai source between the braces, verbatim, except for spaces between the `{` and
    /// the end of its line (they belong to the header).
    pub code: String,
    /// Where the rhai source is (between the braces).
    pub code_span: Span,
    /// The whole declaration.
    pub span: Span,
}

/// `strategy "name" { clauses }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Strategy {
    /// The strategy's name.
    pub name: StrLit,
    /// Clauses in the order written.
    pub clauses: Vec<Clause>,
    /// The whole strategy.
    pub span: Span,
    /// The closing brace.
    pub close_span: Span,
}

/// A clause inside a strategy, with its span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clause {
    /// What the clause says.
    pub kind: ClauseKind,
    /// The whole clause.
    pub span: Span,
    /// The clause keyword (`when`, `candidates`, ...).
    pub keyword_span: Span,
}

/// What a clause says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ClauseKind {
    /// `when <expr>`.
    When(Expr),
    /// `candidates <sets>`.
    Candidates(Vec<SetExpr>),
    /// `exclude <target> when <expr> [reason "..."]`.
    Exclude {
        /// Which locations the exclusion applies to.
        target: ExcludeTarget,
        /// Where the target word is.
        target_span: Span,
        /// The condition.
        cond: Expr,
        /// The reason shown in explanations.
        reason: Option<StrLit>,
    },
    /// `prefer <sets>`.
    Prefer(Vec<SetExpr>),
    /// `score <expr>`.
    Score(Expr),
    /// `rank by a, then b`.
    Rank(Vec<RankKey>),
    /// `fill by a, then b`: locations one after another in this order.
    Fill(Vec<RankKey>),
    /// `split ...`.
    Split {
        /// none / at most N / allowed.
        mode: SplitMode,
        /// Options after the mode.
        options: Vec<SplitOption>,
    },
    /// `fallback "name"`.
    Fallback(StrLit),
    /// `otherwise backorder` / `otherwise unsourced`.
    Otherwise(Ending),
    /// `promise required | preferred [penalty x] | ignored`.
    Promise(PromiseMode),
    /// `all or nothing`.
    AllOrNothing,
    /// `ship complete`: one shipment for the whole order, or none.
    ShipComplete,
}

impl ClauseKind {
    /// The clause keyword, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            ClauseKind::When(_) => "when",
            ClauseKind::Candidates(_) => "candidates",
            ClauseKind::Exclude { .. } => "exclude",
            ClauseKind::Prefer(_) => "prefer",
            ClauseKind::Score(_) => "score",
            ClauseKind::Rank(_) => "rank by",
            ClauseKind::Fill(_) => "fill by",
            ClauseKind::Split { .. } => "split",
            ClauseKind::Fallback(_) => "fallback",
            ClauseKind::Otherwise(_) => "otherwise",
            ClauseKind::Promise(_) => "promise",
            ClauseKind::AllOrNothing => "all or nothing",
            ClauseKind::ShipComplete => "ship complete",
        }
    }
}

/// The target of an exclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ExcludeTarget {
    /// `location`: any candidate.
    Location,
    /// `store`.
    Store,
    /// `dc`.
    Dc,
    /// `dropship`.
    Dropship,
}

impl ExcludeTarget {
    /// The canonical word.
    pub fn as_str(self) -> &'static str {
        match self {
            ExcludeTarget::Location => "location",
            ExcludeTarget::Store => "store",
            ExcludeTarget::Dc => "dc",
            ExcludeTarget::Dropship => "dropship",
        }
    }
}

/// One ranking criterion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankKey {
    /// The criterion (a name such as `cost` or any numeric expression).
    pub expr: Expr,
    /// `desc`: larger first. `None` when no direction was written.
    pub desc: Option<bool>,
    /// The whole key.
    pub span: Span,
}

/// How many shipments a plan may have.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SplitMode {
    /// `split none`: one shipment.
    None,
    /// `split at most N`.
    AtMost(Quantity),
    /// `split allowed`.
    Allowed,
}

/// An option of the split policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SplitOption {
    /// `penalty <expr>`: added per shipment beyond the first.
    Penalty(Expr, Span),
    /// `lines whole`.
    LinesWhole(Span),
    /// `lines may split`.
    LinesMaySplit(Span),
}

/// How a strategy ends when it cannot place everything and has no fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Ending {
    /// `otherwise backorder`.
    Backorder,
    /// `otherwise unsourced`.
    Unsourced,
}

/// What to do with plans that miss the promise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum PromiseMode {
    /// `promise required`.
    Required,
    /// `promise preferred [, penalty x]`.
    Preferred(Option<Expr>),
    /// `promise ignored`.
    Ignored,
}

/// A location set: a base narrowed by filters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetExpr {
    /// Where the set starts.
    pub base: SetBase,
    /// Where the base is written.
    pub base_span: Span,
    /// Filters in the order written.
    pub filters: Vec<SetFilter>,
    /// The whole set expression.
    pub span: Span,
}

/// Where a location set starts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SetBase {
    /// `all` / `locations`.
    All,
    /// `dcs`.
    Dcs,
    /// `stores`.
    Stores,
    /// `dropship`.
    Dropship,
    /// `pickup_store`: the store named by a pickup order.
    PickupStore,
    /// `["ID-1", "ID-2"]`.
    Ids(Vec<StrLit>),
    /// A group name.
    Named(Ident),
}

/// A filter on a location set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SetFilter {
    /// `tagged "x"`.
    Tagged(StrLit),
    /// `in country "DE"`.
    Country(StrLit),
    /// `in region "BY"`.
    Region(StrLit),
    /// `where <expr>`.
    Where(Expr),
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UnOp {
    /// `not`.
    Not,
    /// `-`.
    Neg,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum BinOp {
    /// `or`.
    Or,
    /// `and`.
    And,
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
    /// `in`.
    In,
    /// `has`.
    Has,
    /// `starts with`.
    StartsWith,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::Has => "has",
            BinOp::StartsWith => "starts with",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }

    /// Binding power: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            // `not` sits at 3.
            BinOp::Eq
            | BinOp::Ne
            | BinOp::Lt
            | BinOp::Le
            | BinOp::Gt
            | BinOp::Ge
            | BinOp::In
            | BinOp::Has
            | BinOp::StartsWith => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div => 6,
        }
    }

    /// Whether the operator compares (and so does not chain).
    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }
}

/// The two spellings of a conditional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CondStyle {
    /// `c ? a : b`.
    Ternary,
    /// `if c then a else b`.
    IfThenElse,
}

/// What an expression is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExprKind {
    /// A number with an optional unit.
    Number(Quantity),
    /// A date, `2026-12-20`, as days from 1970-01-01 ([`crate::date`]).
    Date(i32),
    /// A string.
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// A name or dotted path: `cost`, `order.channel`.
    Path(Vec<Ident>),
    /// `not x`, `-x`.
    Unary(UnOp, Box<Expr>),
    /// `a op b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `c ? a : b` / `if c then a else b`.
    Cond {
        /// The spelling.
        style: CondStyle,
        /// The condition.
        cond: Box<Expr>,
        /// The value when the condition holds.
        then: Box<Expr>,
        /// The value otherwise.
        otherwise: Box<Expr>,
    },
    /// `name(args)`.
    Call(Ident, Vec<Expr>),
    /// `(x)`, kept so the formatter reproduces the analyst's parentheses.
    Paren(Box<Expr>),
    /// A placeholder where lowering already reported an error.
    Error,
}
