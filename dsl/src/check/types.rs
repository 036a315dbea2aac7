//! Expression typing: AST expressions → typed IR expressions.
//!
//! Resolves names against the schema and the file's constants and scripts, checks types and
//! units, checks that each fact is readable where it is used ([`Place`]), and folds operations
//! on literals. Every problem becomes a diagnostic; the result is then typed `Error` so that
//! one mistake does not cascade into more.

use super::{Checker, Place};
use crate::ast::{self, BinOp, UnOp};
use crate::diagnostics::{self as diag};
use crate::ir::{
    ArithOp, Builtin, CmpOp, Deps, Elem, Expr, ExprKind, Fulfillment, LocationKind, Type, Unit,
    Weekday,
};
use crate::schema::{self, FactInfo};
use crate::source::Span;
use crate::suggest;

fn node(kind: ExprKind, ty: Type, deps: Deps, span: Span) -> Expr {
    Expr {
        kind,
        ty,
        deps,
        span,
    }
}

fn error(span: Span) -> Expr {
    node(ExprKind::Bool(false), Type::Error, Deps::default(), span)
}

/// The bare number literal inside `e` (through parentheses and `-`), if `e` is one.
fn bare_number(e: &ast::Expr) -> Option<&ast::Quantity> {
    match &e.kind {
        ast::ExprKind::Number(q) if q.unit.is_none() => Some(q),
        ast::ExprKind::Paren(inner) | ast::ExprKind::Unary(UnOp::Neg, inner) => bare_number(inner),
        _ => None,
    }
}

/// Gives a bare number literal the unit `unit` (percentages become fractions).
fn adopt_unit(e: &mut Expr, unit: Unit) {
    e.ty = Type::Number(unit);
    match &mut e.kind {
        ExprKind::Number(v) if unit == Unit::Percent => *v /= 100.0,
        ExprKind::Neg(inner) => adopt_unit(inner, unit),
        _ => {}
    }
}

impl Checker<'_> {
    /// Types `e`, then requires type `Bool`.
    pub(super) fn bool_expr(&mut self, e: &ast::Expr, place: Place) -> Expr {
        let out = self.expr(e, place);
        if matches!(out.ty, Type::Bool | Type::Any | Type::Error) {
            return out;
        }
        self.not_a_condition(e, out.ty)
    }

    fn not_a_condition(&mut self, e: &ast::Expr, ty: Type) -> Expr {
        let found = self.type_name(ty);
        self.push(diag::type_mismatch_help(
            e.span,
            "a condition (true or false)",
            &found,
            "compare it with something, e.g. `distance > 300 km`",
        ));
        error(e.span)
    }

    /// Types `e`, then requires a number (any unit).
    pub(super) fn number_expr(&mut self, e: &ast::Expr, place: Place) -> Expr {
        let out = self.expr(e, place);
        if matches!(out.ty, Type::Number(_) | Type::Any | Type::Error) {
            return out;
        }
        self.not_a_number(e, out.ty)
    }

    fn not_a_number(&mut self, e: &ast::Expr, ty: Type) -> Expr {
        let found = self.type_name(ty);
        self.push(diag::type_mismatch(e.span, "a number", &found));
        error(e.span)
    }

    /// Types `e` and requires unit `unit` (a bare number literal takes it, with a warning).
    pub(super) fn unit_expr(&mut self, e: &ast::Expr, place: Place, unit: Unit, why: Span) -> Expr {
        let mut out = self.number_expr(e, place);
        if let Type::Number(u) = out.ty {
            if u != unit {
                if let (Some(q), Unit::None) = (bare_number(e), u) {
                    if q.value != 0.0 {
                        let un = self.unit_name(unit);
                        self.push(diag::implicit_unit(e.span, &q.text, &un, why));
                    }
                    adopt_unit(&mut out, unit);
                } else {
                    let found = self.unit_name(u);
                    let expected = self.unit_name(unit);
                    self.push(diag::penalty_unit(e.span, &found, (why, &expected)));
                    return error(e.span);
                }
            }
        }
        out
    }

    /// Types an expression.
    pub(super) fn expr(&mut self, e: &ast::Expr, place: Place) -> Expr {
        let span = e.span;
        match &e.kind {
            ast::ExprKind::Error => error(span),
            ast::ExprKind::Number(q) => self.quantity(q, false),
            ast::ExprKind::Str(s) => {
                node(ExprKind::Str(s.clone()), Type::Str, Deps::default(), span)
            }
            ast::ExprKind::Bool(b) => node(ExprKind::Bool(*b), Type::Bool, Deps::default(), span),
            ast::ExprKind::Date(d) => node(ExprKind::Date(*d), Type::Date, Deps::default(), span),
            ast::ExprKind::Paren(inner) => {
                let mut out = self.expr(inner, place);
                out.span = span;
                out
            }
            ast::ExprKind::List(items) => self.list(items, place, span),
            ast::ExprKind::Path(segs) => self.path(segs, place, span),
            ast::ExprKind::Unary(op, inner) => self.unary(*op, inner, place, span),
            ast::ExprKind::Binary(op, l, r) => self.binary(*op, l, r, place, span),
            ast::ExprKind::Cond {
                cond,
                then,
                otherwise,
                ..
            } => self.cond(cond, then, otherwise, place, span),
            ast::ExprKind::Call(name, args) => self.call(name, args, place, span),
        }
    }

    /// A number literal; `negative` for a constant's leading `-`.
    pub(super) fn quantity(&mut self, q: &ast::Quantity, negative: bool) -> Expr {
        let unit = match &q.unit {
            None => Unit::None,
            Some(ast::UnitLit::Km) => Unit::Km,
            Some(ast::UnitLit::Kg) => Unit::Kg,
            Some(ast::UnitLit::Days) => Unit::Days,
            Some(ast::UnitLit::Percent) => Unit::Percent,
            Some(ast::UnitLit::Currency(code)) => {
                self.note_currency(code, q.span);
                Unit::Money
            }
        };
        let mut v = if unit == Unit::Percent {
            q.value / 100.0
        } else {
            q.value
        };
        if negative {
            v = -v;
        }
        node(
            ExprKind::Number(v),
            Type::Number(unit),
            Deps::default(),
            q.span,
        )
    }

    fn list(&mut self, items: &[ast::Expr], place: Place, span: Span) -> Expr {
        let mut out = Vec::new();
        let mut deps = Deps::default();
        let mut elem: Option<(Elem, Span)> = None;
        let mut failed = false;
        for item in items {
            let x = self.expr(item, place);
            deps = deps | x.deps;
            let this = match x.ty {
                Type::Str => Some(Elem::Str),
                Type::Number(u) => Some(Elem::Number(u)),
                Type::Kind => Some(Elem::Kind),
                Type::Fulfillment => Some(Elem::Fulfillment),
                Type::Weekday => Some(Elem::Weekday),
                Type::Any => Some(Elem::Any),
                Type::Error => {
                    failed = true;
                    None
                }
                other => {
                    let found = self.type_name(other);
                    self.push(diag::type_mismatch(
                        item.span,
                        "text, a number or a location kind in a list",
                        &found,
                    ));
                    failed = true;
                    None
                }
            };
            if let (Some(t), Some((first, first_span))) = (this, elem) {
                if t != first && !failed {
                    let a = self.elem_name(first);
                    let b = self.elem_name(t);
                    let mut d = diag::type_mismatch(item.span, &a, &b);
                    d.secondary.push(crate::diagnostics::Label {
                        span: first_span,
                        message: format!("the list holds {a} from here"),
                    });
                    d.help = Some("every element of a list must have the same type".to_string());
                    self.push(d);
                    failed = true;
                }
            } else if let Some(t) = this {
                elem = Some((t, item.span));
            }
            out.push(x);
        }
        if failed {
            return error(span);
        }
        let elem = elem.map_or(Elem::Any, |(t, _)| t);
        node(ExprKind::List(out), Type::List(elem), deps, span)
    }

    fn path(&mut self, segs: &[ast::Ident], place: Place, span: Span) -> Expr {
        let names: Vec<&str> = segs.iter().map(|s| s.name.as_str()).collect();
        let full = names.join(".");
        let Some((&head, rest)) = names.split_first() else {
            return error(span);
        };
        if rest.is_empty() {
            return self.bare_name(head, place, span);
        }
        let (table, owner, category): (&[FactInfo], &str, Category) = match head {
            "order" => (schema::ORDER, "order", Category::Order),
            "line" => (schema::LINE, "line", Category::Line),
            "location" => (schema::LOCATION, "location", Category::Location),
            _ => {
                let suggestion = self.suggest(&full, || self.all_names());
                self.push(diag::unknown_name(span, &full, suggestion.as_deref()));
                return error(span);
            }
        };
        let field = rest.join(".");
        let (fact, ty) = if let Some(attr) = field.strip_prefix("attr.") {
            let fact = match category {
                Category::Order => crate::ir::Fact::Order(crate::ir::OrderFact::Attr(attr.into())),
                Category::Line => crate::ir::Fact::Line(crate::ir::LineFact::Attr(attr.into())),
                _ => crate::ir::Fact::Location(crate::ir::LocationFact::Attr(attr.into())),
            };
            (fact, Type::Any)
        } else if let Some(info) = schema::lookup(table, &field) {
            (info.fact.clone(), info.ty)
        } else {
            let suggestion = self
                .suggest(&full, || {
                    table
                        .iter()
                        .map(|f| format!("{owner}.{}", f.name))
                        .chain(std::iter::once(format!("{owner}.attr.{field}")))
                        .collect()
                })
                .filter(|s| !s.contains(".attr."));
            let mut d = diag::unknown_field(span, &full, owner, suggestion.as_deref());
            if d.help.is_none() {
                d.help = Some(format!(
                    "unknown fields of the input are read as `{owner}.attr.{field}`"
                ));
            }
            self.push(d);
            return error(span);
        };
        if !self.allowed(place, category, &full, span) {
            return error(span);
        }
        let deps = schema::deps_of(&fact);
        node(ExprKind::Fact(fact), ty, deps, span)
    }

    fn bare_name(&mut self, name: &str, place: Place, span: Span) -> Expr {
        if let Some(&id) = self.const_index.get(name) {
            if let Some(flag) = self.const_used.get_mut(id) {
                *flag = true;
            }
            let ty = self.consts.get(id).map_or(Type::Error, |c| c.ty);
            let deps = Deps {
                consts: true,
                ..Deps::default()
            };
            return node(ExprKind::Const(crate::ir::ConstId(id)), ty, deps, span);
        }
        if let Some(info) = schema::lookup(schema::TERMS, name) {
            let category = match schema::deps_of(&info.fact) {
                d if d.pair => Category::Pair,
                d if d.shipment => Category::Shipment,
                d if d.stock => Category::Stock,
                _ => Category::Plan,
            };
            if !self.allowed(place, category, name, span) {
                return error(span);
            }
            let deps = schema::deps_of(&info.fact);
            return node(ExprKind::Fact(info.fact.clone()), info.ty, deps, span);
        }
        if let Some(info) = schema::lookup(schema::LOCATION, name) {
            if !self.allowed(place, Category::Location, name, span) {
                return error(span);
            }
            let deps = schema::deps_of(&info.fact);
            return node(ExprKind::Fact(info.fact.clone()), info.ty, deps, span);
        }
        // The keywords that name a value: location kinds and fulfillment modes.
        let keyword = match name {
            "dc" => Some((ExprKind::Kind(LocationKind::Dc), Type::Kind)),
            "store" => Some((ExprKind::Kind(LocationKind::Store), Type::Kind)),
            "dropship" => Some((ExprKind::Kind(LocationKind::Dropship), Type::Kind)),
            "ship" => Some((ExprKind::Fulfillment(Fulfillment::Ship), Type::Fulfillment)),
            "pickup" => Some((
                ExprKind::Fulfillment(Fulfillment::Pickup),
                Type::Fulfillment,
            )),
            _ => None,
        };
        if let Some((kind, ty)) = keyword {
            return node(kind, ty, Deps::default(), span);
        }
        let suggestion = self.suggest(name, || self.all_names());
        let mut d = diag::unknown_name(span, name, suggestion.as_deref());
        if matches!(name, "order" | "line" | "location") {
            d.help = Some(format!(
                "write a field of the {name}, such as `{name}.{}`",
                match name {
                    "order" => "channel",
                    "line" => "qty",
                    _ => "kind",
                }
            ));
        } else if self.group_index.contains_key(name) {
            d.help = Some(format!(
                "`{name}` is a group of locations; use it in `candidates` or `prefer`"
            ));
        } else if name == "fewest_shipments" || name == "score" {
            d.help = Some(format!("`{name}` is a criterion of `rank by`"));
        }
        self.push(d);
        error(span)
    }

    /// Every name an expression could mean, for suggestions.
    fn all_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.consts.iter().map(|c| c.name.clone()).collect();
        v.extend(schema::TERMS.iter().map(|f| f.name.to_string()));
        v.extend(schema::LOCATION.iter().map(|f| f.name.to_string()));
        v.extend(schema::ORDER.iter().map(|f| format!("order.{}", f.name)));
        v.extend(schema::LINE.iter().map(|f| format!("line.{}", f.name)));
        v.extend(
            schema::LOCATION
                .iter()
                .map(|f| format!("location.{}", f.name)),
        );
        v.extend(schema::VALUE_WORDS.iter().map(|s| s.to_string()));
        v
    }

    /// Whether a fact of `category` may be read in `place`; reports C003 if not.
    fn allowed(&mut self, place: Place, category: Category, name: &str, span: Span) -> bool {
        use Category as C;
        let ok = match place {
            Place::When | Place::Penalty => category == C::Order,
            Place::Group => category == C::Location,
            Place::CandidateFilter => matches!(category, C::Order | C::Location | C::Pair),
            Place::Exclusion => category != C::Plan,
            Place::Score => !matches!(category, C::Line | C::Plan),
            Place::Rank => category != C::Line,
        };
        if !ok {
            let help = match (place, category) {
                (Place::When, _) => {
                    "`when` chooses a strategy for the whole order before any location is \
                     considered; it can read `order.*` facts only"
                }
                (Place::Penalty, _) => "a penalty can read `order.*` facts and constants only",
                (Place::Group, _) => {
                    "a group is a fixed set of locations; its filters can read location facts \
                     only (`kind`, `country`, `region`, `tags`, `priority`, ...)"
                }
                (Place::CandidateFilter, C::Line | C::Stock | C::Shipment) => {
                    "candidate filters look at whole locations; to drop a location for one \
                     line, use `exclude location when ...`"
                }
                (_, C::Plan) => "`shipments` describes a whole plan; use it in `rank by`",
                (_, C::Line) => {
                    "a score rates whole shipments, which carry several lines; read line facts \
                     in an `exclude` clause"
                }
                _ => "this fact is not known at this point of the evaluation",
            };
            self.push(diag::not_allowed_here(span, name, place.describe(), help));
        }
        ok
    }

    fn unary(&mut self, op: UnOp, inner: &ast::Expr, place: Place, span: Span) -> Expr {
        let x = match op {
            UnOp::Not => self.bool_expr(inner, place),
            UnOp::Neg => self.number_expr(inner, place),
        };
        unary_result(op, x, span)
    }

    /// Makes the units of two numbers agree for `what` (add, compare, ...): a bare literal takes
    /// the other side's unit. Returns the common unit, or `None` after reporting C005.
    fn reconcile(
        &mut self,
        what: &str,
        (l, la): (&mut Expr, &ast::Expr),
        (r, ra): (&mut Expr, &ast::Expr),
        span: Span,
    ) -> Option<Unit> {
        let (Type::Number(lu), Type::Number(ru)) = (l.ty, r.ty) else {
            // `Any` on either side: take the other side's unit.
            return Some(match (l.ty, r.ty) {
                (Type::Number(u), _) | (_, Type::Number(u)) => u,
                _ => Unit::None,
            });
        };
        if lu == ru {
            return Some(lu);
        }
        if lu == Unit::None {
            if let Some(q) = bare_number(la) {
                if q.value != 0.0 {
                    let un = self.unit_name(ru);
                    self.push(diag::implicit_unit(la.span, &q.text, &un, ra.span));
                }
                adopt_unit(l, ru);
                return Some(ru);
            }
        }
        if ru == Unit::None {
            if let Some(q) = bare_number(ra) {
                if q.value != 0.0 {
                    let un = self.unit_name(lu);
                    self.push(diag::implicit_unit(ra.span, &q.text, &un, la.span));
                }
                adopt_unit(r, lu);
                return Some(lu);
            }
        }
        let ln = self.unit_name(lu);
        let rn = self.unit_name(ru);
        let currency = self.money.as_deref().unwrap_or("EUR");
        let help = unit_help(what, (lu, la), (ru, ra), (&ln, &rn), currency);
        let op = self.operator_span(la.span, ra.span, span);
        self.push(diag::unit_mismatch(
            op,
            what,
            (la.span, &ln),
            (ra.span, &rn),
            &help,
        ));
        None
    }

    /// A binary operator. Only the operands are typed here, and the result is built in a
    /// separate function: this frame is what a long chain `a + b + c + …` stacks up once per
    /// operator, so it stays small.
    fn binary(
        &mut self,
        op: BinOp,
        la: &ast::Expr,
        ra: &ast::Expr,
        place: Place,
        span: Span,
    ) -> Expr {
        let l = self.operand(op, la, place);
        let r = self.operand(op, ra, place);
        self.binary_result(op, (l, la), (r, ra), span)
    }

    /// Types an operand of `op`: a condition for `and`/`or`, a number for arithmetic.
    fn operand(&mut self, op: BinOp, e: &ast::Expr, place: Place) -> Expr {
        match op {
            BinOp::And | BinOp::Or => self.bool_expr(e, place),
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => self.number_expr(e, place),
            _ => self.expr(e, place),
        }
    }

    fn binary_result(
        &mut self,
        op: BinOp,
        (l, la): (Expr, &ast::Expr),
        (r, ra): (Expr, &ast::Expr),
        span: Span,
    ) -> Expr {
        match op {
            BinOp::And | BinOp::Or => logic(op, l, r, span),
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                self.arith(op, (l, la), (r, ra), span)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                self.compare(op, (l, la), (r, ra), span)
            }
            BinOp::In => self.contains(r, l, ra, la, span),
            BinOp::Has => self.contains(l, r, la, ra, span),
            BinOp::StartsWith => self.starts_with((l, la), (r, ra), span),
        }
    }

    /// `+`, `-`, `*`, `/` on typed operands.
    fn arith(
        &mut self,
        op: BinOp,
        (mut l, la): (Expr, &ast::Expr),
        (mut r, ra): (Expr, &ast::Expr),
        span: Span,
    ) -> Expr {
        if l.ty == Type::Error || r.ty == Type::Error {
            return error(span);
        }
        let unit = match op {
            BinOp::Add | BinOp::Sub => {
                let what = if op == BinOp::Add { "add" } else { "subtract" };
                match self.reconcile(what, (&mut l, la), (&mut r, ra), span) {
                    Some(u) => u,
                    None => return error(span),
                }
            }
            BinOp::Mul => match self.multiply_units(&l, &r, la, ra, span) {
                Some(u) => u,
                None => return error(span),
            },
            _ => divide_units(&l, &r),
        };
        let aop = match op {
            BinOp::Add => ArithOp::Add,
            BinOp::Sub => ArithOp::Sub,
            BinOp::Mul => ArithOp::Mul,
            _ => ArithOp::Div,
        };
        if let Some(d) = self.non_finite(aop, &l, &r, span) {
            self.push(d);
            return error(span);
        }
        let deps = l.deps | r.deps;
        let ty = Type::Number(unit);
        if let (ExprKind::Number(a), ExprKind::Number(b)) = (&l.kind, &r.kind) {
            let v = match aop {
                ArithOp::Add => Some(a + b),
                ArithOp::Sub => Some(a - b),
                ArithOp::Mul => Some(a * b),
                ArithOp::Div => (*b != 0.0).then(|| a / b),
            };
            if let Some(v) = v.filter(|v| v.is_finite()) {
                return node(ExprKind::Number(v), ty, deps, span);
            }
        }
        node(
            ExprKind::Arith(aop, Box::new(l), Box::new(r)),
            ty,
            deps,
            span,
        )
    }

    /// `text starts with prefix` on typed operands.
    fn starts_with(
        &mut self,
        (text, la): (Expr, &ast::Expr),
        (prefix, ra): (Expr, &ast::Expr),
        span: Span,
    ) -> Expr {
        if text.ty == Type::Error || prefix.ty == Type::Error {
            return error(span);
        }
        if !matches!(text.ty, Type::Str | Type::Any) {
            let found = self.type_name(text.ty);
            self.push(diag::type_mismatch(la.span, "text", &found));
            return error(span);
        }
        if !matches!(prefix.ty, Type::Str | Type::List(Elem::Str | Elem::Any)) {
            let found = self.type_name(prefix.ty);
            self.push(diag::type_mismatch(
                ra.span,
                "text or a list of text",
                &found,
            ));
            return error(span);
        }
        let deps = text.deps | prefix.deps;
        node(
            ExprKind::StartsWith {
                text: Box::new(text),
                prefix: Box::new(prefix),
            },
            Type::Bool,
            deps,
            span,
        )
    }

    fn multiply_units(
        &mut self,
        l: &Expr,
        r: &Expr,
        la: &ast::Expr,
        ra: &ast::Expr,
        span: Span,
    ) -> Option<Unit> {
        let (Type::Number(lu), Type::Number(ru)) = (l.ty, r.ty) else {
            return Some(match (l.ty, r.ty) {
                (Type::Number(u), _) | (_, Type::Number(u)) => u,
                _ => Unit::None,
            });
        };
        let scale = |u: Unit| matches!(u, Unit::None | Unit::Percent);
        match (lu, ru) {
            (a, b) if scale(a) && scale(b) => Some(if a == b { a } else { Unit::None }),
            (a, b) if scale(a) => Some(b),
            (a, b) if scale(b) => Some(a),
            // A price times a quantity: `0.5 EUR * days` is money.
            (Unit::Money, b) if b != Unit::Money => Some(Unit::Money),
            (a, Unit::Money) if a != Unit::Money => Some(Unit::Money),
            _ => {
                let ln = self.unit_name(lu);
                let rn = self.unit_name(ru);
                let op = self.operator_span(la.span, ra.span, span);
                self.push(diag::unit_mismatch(
                    op,
                    "multiply",
                    (la.span, &ln),
                    (ra.span, &rn),
                    "multiply a quantity by a plain number, a percentage or a price \
                     (`0.5 EUR * days`)",
                ));
                None
            }
        }
    }

    /// A comparison on typed operands.
    fn compare(
        &mut self,
        op: BinOp,
        (mut l, la): (Expr, &ast::Expr),
        (mut r, ra): (Expr, &ast::Expr),
        span: Span,
    ) -> Expr {
        if l.ty == Type::Error || r.ty == Type::Error {
            return error(span);
        }
        let cop = match op {
            BinOp::Eq => CmpOp::Eq,
            BinOp::Ne => CmpOp::Ne,
            BinOp::Lt => CmpOp::Lt,
            BinOp::Le => CmpOp::Le,
            BinOp::Gt => CmpOp::Gt,
            _ => CmpOp::Ge,
        };
        let ordering = !matches!(cop, CmpOp::Eq | CmpOp::Ne);
        // Enum-like values compared with a string literal: convert the literal.
        if !self.coerce_pair(&mut l, &mut r) {
            return error(span);
        }
        let ok = match (l.ty, r.ty) {
            (Type::Any, _) | (_, Type::Any) => true,
            (Type::Number(_), Type::Number(_)) => {
                if self
                    .reconcile("compare", (&mut l, la), (&mut r, ra), span)
                    .is_none()
                {
                    return error(span);
                }
                true
            }
            // Dates are ordered: `order.placed_at.date >= 2026-12-20`.
            (Type::Date, Type::Date) => true,
            (a, b) if a == b && !ordering => !matches!(a, Type::List(_)),
            _ => false,
        };
        if !ok {
            let ln = self.type_name(l.ty);
            let rn = self.type_name(r.ty);
            let mut d = diag::bad_operands(span, op.as_str(), &ln, &rn);
            if matches!(
                (l.ty, r.ty),
                (Type::Str, Type::Number(_)) | (Type::Number(_), Type::Str)
            ) {
                d.help = Some("text is written in quotes: `\"3\"`".to_string());
            } else if matches!(
                (l.ty, r.ty),
                (Type::Date, Type::Str) | (Type::Str, Type::Date)
            ) {
                d.help = Some("a date is written without quotes: `2026-12-20`".to_string());
            } else if matches!(
                (l.ty, r.ty),
                (Type::Date, Type::Number(_)) | (Type::Number(_), Type::Date)
            ) {
                d.help =
                    Some("a date is written `YYYY-MM-DD` with no spaces: `2026-12-20`".to_string());
            } else if ordering && l.ty == r.ty {
                d.help = Some(format!("`{}` compares numbers only", op.as_str()));
            } else if matches!(l.ty, Type::List(_)) {
                d.help = Some("to test membership, write `list has value`".to_string());
            }
            self.push(d);
            return error(span);
        }
        let deps = l.deps | r.deps;
        if let Some(b) = fold_compare(cop, &l.kind, &r.kind) {
            return node(ExprKind::Bool(b), Type::Bool, deps, span);
        }
        node(
            ExprKind::Compare(cop, Box::new(l), Box::new(r)),
            Type::Bool,
            deps,
            span,
        )
    }

    /// Converts a string literal on one side to the enum type of the other side
    /// (`kind == "dc"`, `order.placed_at.weekday == "sat"`). False after an error.
    fn coerce_pair(&mut self, l: &mut Expr, r: &mut Expr) -> bool {
        if matches!(l.ty, Type::Kind | Type::Fulfillment | Type::Weekday) && r.ty == Type::Str {
            return self.coerce_literal(r, l.ty);
        }
        if matches!(r.ty, Type::Kind | Type::Fulfillment | Type::Weekday) && l.ty == Type::Str {
            return self.coerce_literal(l, r.ty);
        }
        true
    }

    /// Converts a string literal (or a list of them) to `target`; reports C014 if a value is not
    /// one of the allowed ones. Non-literals are left alone (the type check then complains).
    fn coerce_literal(&mut self, e: &mut Expr, target: Type) -> bool {
        match &mut e.kind {
            ExprKind::Str(s) => {
                let value = s.clone();
                let converted = match target {
                    Type::Kind => match value.as_str() {
                        "dc" => Some(ExprKind::Kind(LocationKind::Dc)),
                        "store" => Some(ExprKind::Kind(LocationKind::Store)),
                        "dropship" => Some(ExprKind::Kind(LocationKind::Dropship)),
                        _ => None,
                    },
                    Type::Fulfillment => match value.as_str() {
                        "ship" => Some(ExprKind::Fulfillment(Fulfillment::Ship)),
                        "pickup" => Some(ExprKind::Fulfillment(Fulfillment::Pickup)),
                        _ => None,
                    },
                    Type::Weekday => Weekday::ALL
                        .iter()
                        .find(|(n, _)| *n == value)
                        .map(|(_, w)| ExprKind::Weekday(*w)),
                    _ => None,
                };
                match converted {
                    Some(k) => {
                        e.kind = k;
                        e.ty = target;
                        true
                    }
                    None => {
                        let (what, options): (&str, &[&str]) = match target {
                            Type::Kind => ("a location kind", &["dc", "store", "dropship"]),
                            Type::Fulfillment => ("a fulfillment", &["ship", "pickup"]),
                            _ => (
                                "a weekday",
                                &["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                            ),
                        };
                        let suggestion =
                            suggest::closest(&value, options.iter().copied()).or_else(|| {
                                // "monday" → "mon"
                                options.iter().copied().find(|o| value.starts_with(o))
                            });
                        let help = match suggestion {
                            Some(s) => format!("did you mean `\"{s}\"`?"),
                            None => format!(
                                "{what} is one of {}",
                                options
                                    .iter()
                                    .map(|o| format!("`\"{o}\"`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        };
                        self.push(diag::invalid_value(
                            e.span,
                            format!("`\"{value}\"` is not {what}"),
                            Some(help),
                        ));
                        false
                    }
                }
            }
            ExprKind::List(items) => {
                let mut ok = true;
                for item in items.iter_mut() {
                    ok &= self.coerce_literal(item, target);
                }
                if ok {
                    e.ty = Type::List(match target {
                        Type::Kind => Elem::Kind,
                        Type::Fulfillment => Elem::Fulfillment,
                        _ => Elem::Weekday,
                    });
                }
                ok
            }
            _ => true,
        }
    }

    fn contains(
        &mut self,
        mut list: Expr,
        mut item: Expr,
        list_ast: &ast::Expr,
        item_ast: &ast::Expr,
        span: Span,
    ) -> Expr {
        if list.ty == Type::Error || item.ty == Type::Error {
            return error(span);
        }
        let Type::List(elem) = list.ty else {
            let found = self.type_name(list.ty);
            self.push(diag::type_mismatch_help(
                list_ast.span,
                "a list",
                &found,
                "write `value in [\"a\", \"b\"]` or `list has value`",
            ));
            return error(span);
        };
        // `kind in ["dc", "store"]`, `weekday in ["sat", "sun"]`.
        if matches!(item.ty, Type::Kind | Type::Fulfillment | Type::Weekday)
            && elem == Elem::Str
            && !self.coerce_literal(&mut list, item.ty)
        {
            return error(span);
        }
        let elem = match list.ty {
            Type::List(e) => e,
            _ => elem,
        };
        let fits = match (elem, item.ty) {
            (Elem::Any, _) | (_, Type::Any) => true,
            (Elem::Str, Type::Str)
            | (Elem::Kind, Type::Kind)
            | (Elem::Fulfillment, Type::Fulfillment)
            | (Elem::Weekday, Type::Weekday) => true,
            (Elem::Number(u), Type::Number(v)) => {
                if u != v {
                    if let (Unit::None, Some(_)) = (v, bare_number(item_ast)) {
                        adopt_unit(&mut item, u);
                        true
                    } else {
                        false
                    }
                } else {
                    true
                }
            }
            _ => false,
        };
        if !fits {
            let ln = self.type_name(list.ty);
            let rn = self.type_name(item.ty);
            self.push(diag::type_mismatch_help(
                item_ast.span,
                &format!("a value that can be in {ln}"),
                &rn,
                "compare values of the same type",
            ));
            return error(span);
        }
        let deps = list.deps | item.deps;
        if let ExprKind::List(items) = &list.kind {
            if items.is_empty() {
                return node(ExprKind::Bool(false), Type::Bool, deps, span);
            }
        }
        node(
            ExprKind::Contains {
                list: Box::new(list),
                item: Box::new(item),
            },
            Type::Bool,
            deps,
            span,
        )
    }

    fn cond(
        &mut self,
        c: &ast::Expr,
        t: &ast::Expr,
        o: &ast::Expr,
        place: Place,
        span: Span,
    ) -> Expr {
        let cond = self.bool_expr(c, place);
        let then = self.expr(t, place);
        let otherwise = self.expr(o, place);
        self.cond_result(cond, (then, t), (otherwise, o), span)
    }

    /// A conditional on typed parts.
    fn cond_result(
        &mut self,
        cond: Expr,
        (mut then, t): (Expr, &ast::Expr),
        (mut otherwise, o): (Expr, &ast::Expr),
        span: Span,
    ) -> Expr {
        if cond.ty == Type::Error || then.ty == Type::Error || otherwise.ty == Type::Error {
            return error(span);
        }
        if !self.coerce_pair(&mut then, &mut otherwise) {
            return error(span);
        }
        let ty = match (then.ty, otherwise.ty) {
            (Type::Number(_), Type::Number(_)) => {
                match self.reconcile("choose between", (&mut then, t), (&mut otherwise, o), span) {
                    Some(u) => Type::Number(u),
                    None => return error(span),
                }
            }
            (Type::Any, x) | (x, Type::Any) => x,
            (a, b) if a == b => a,
            (a, b) => {
                let an = self.type_name(a);
                let bn = self.type_name(b);
                self.push(diag::type_mismatch_help(
                    o.span,
                    &an,
                    &bn,
                    "both branches of a conditional must have the same type",
                ));
                return error(span);
            }
        };
        let deps = cond.deps | then.deps | otherwise.deps;
        if let ExprKind::Bool(b) = cond.kind {
            let mut picked = if b { then } else { otherwise };
            picked.span = span;
            picked.deps = deps;
            return picked;
        }
        node(
            ExprKind::Cond {
                cond: Box::new(cond),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
            },
            ty,
            deps,
            span,
        )
    }

    /// A call. As in [`Self::binary`], this frame only types the arguments; checking the
    /// callee and building the result happen in separate functions.
    fn call(&mut self, name: &ast::Ident, args: &[ast::Expr], place: Place, span: Span) -> Expr {
        let Some(callee) = self.callee(name, args.len(), span) else {
            return error(span);
        };
        let typed: Vec<Expr> = match callee {
            Callee::Builtin(_) => args.iter().map(|a| self.number_expr(a, place)).collect(),
            Callee::Script(_) => args.iter().map(|a| self.expr(a, place)).collect(),
        };
        match callee {
            Callee::Builtin(b) => self.builtin_result(b, args, typed, span),
            Callee::Script(id) => self.script_result(id, args, typed, span),
        }
    }

    /// What `name` calls, if it exists and takes `arity` arguments (else reported).
    fn callee(&mut self, name: &ast::Ident, arity: usize, span: Span) -> Option<Callee> {
        let builtin = match name.name.as_str() {
            "min" => Some(Builtin::Min),
            "max" => Some(Builtin::Max),
            "abs" => Some(Builtin::Abs),
            _ => None,
        };
        if let Some(b) = builtin {
            let arity_ok = match b {
                Builtin::Abs => arity == 1,
                _ => arity >= 2,
            };
            if !arity_ok {
                let expected = if b == Builtin::Abs { 1 } else { 2 };
                self.push(diag::wrong_arity(span, &name.name, expected, arity));
                return None;
            }
            return Some(Callee::Builtin(b));
        }
        let Some(&id) = self.script_index.get(&name.name) else {
            let suggestion = self.suggest(&name.name, || {
                let mut names: Vec<&str> = schema::FUNCTIONS.to_vec();
                names.extend(self.scripts.iter().map(|s| s.name.as_str()));
                names
            });
            self.push(diag::unknown_function(
                name.span,
                &name.name,
                suggestion.as_deref(),
            ));
            return None;
        };
        if let Some(flag) = self.script_used.get_mut(id) {
            *flag = true;
        }
        let params = self.scripts.get(id)?.params.len();
        if params != arity {
            self.push(diag::wrong_arity(span, &name.name, params, arity));
            return None;
        }
        Some(Callee::Script(id))
    }

    /// `min`, `max`, `abs` on typed arguments.
    fn builtin_result(
        &mut self,
        b: Builtin,
        args: &[ast::Expr],
        mut typed: Vec<Expr>,
        span: Span,
    ) -> Expr {
        if typed.iter().any(|a| a.ty == Type::Error) {
            return error(span);
        }
        let mut unit = match typed.first().map(|a| a.ty) {
            Some(Type::Number(u)) => u,
            _ => Unit::None,
        };
        for i in 1..typed.len() {
            let (head, tail) = typed.split_at_mut(i);
            let (Some(first), Some(x), Some(fa), Some(xa)) = (
                head.first_mut(),
                tail.first_mut(),
                args.first(),
                args.get(i),
            ) else {
                continue;
            };
            match self.reconcile("compare", (first, fa), (x, xa), span) {
                Some(u) => unit = u,
                None => return error(span),
            }
        }
        let deps = typed.iter().fold(Deps::default(), |d, a| d | a.deps);
        node(ExprKind::Builtin(b, typed), Type::Number(unit), deps, span)
    }

    /// A script call on typed arguments.
    fn script_result(
        &mut self,
        id: usize,
        args: &[ast::Expr],
        typed: Vec<Expr>,
        span: Span,
    ) -> Expr {
        let Some(script) = self.scripts.get(id).cloned() else {
            return error(span);
        };
        let mut out = Vec::with_capacity(typed.len());
        let mut deps = Deps {
            script: true,
            ..Deps::default()
        };
        let mut failed = false;
        for ((arg, mut x), (pname, pty)) in args.iter().zip(typed).zip(&script.params) {
            if x.ty == Type::Error {
                failed = true;
                continue;
            }
            let fits = match (pty, x.ty) {
                (_, Type::Any) => true,
                (Type::Number(pu), Type::Number(xu)) => {
                    if *pu == xu {
                        true
                    } else if let (Unit::None, Some(_)) = (xu, bare_number(arg)) {
                        adopt_unit(&mut x, *pu);
                        true
                    } else {
                        false
                    }
                }
                (a, b) => *a == b,
            };
            if !fits {
                let expected = format!("{} for `{pname}`", self.type_name(*pty));
                let found = self.type_name(x.ty);
                self.push(diag::type_mismatch(arg.span, &expected, &found));
                failed = true;
                continue;
            }
            deps = deps | x.deps;
            out.push(x);
        }
        if failed {
            return error(span);
        }
        node(
            ExprKind::Script(crate::ir::ScriptId(id), out),
            script.ret,
            deps,
            span,
        )
    }

    /// The operator between two operands (the text between them, trimmed), or `whole` when
    /// the operands are not side by side (a function's arguments).
    fn operator_span(&self, left: Span, right: Span, whole: Span) -> Span {
        if left.end > right.start {
            return whole;
        }
        let gap = self.source.slice(Span::new(left.end, right.start));
        let lead = gap.len() - gap.trim_start().len();
        let trimmed = gap.trim();
        if trimmed.is_empty() || trimmed.len() > 12 || trimmed.contains('(') {
            return whole;
        }
        let start = left.end + lead;
        Span::new(start, start + trimmed.len())
    }

    /// A type for messages: "km", "EUR", "text", ...
    pub(crate) fn type_name(&self, ty: Type) -> String {
        match ty {
            Type::Bool => "a condition (true or false)".to_string(),
            Type::Number(Unit::None) => "a plain number".to_string(),
            Type::Number(u) => self.unit_name(u),
            Type::Str => "text".to_string(),
            Type::Kind => "a location kind".to_string(),
            Type::Fulfillment => "a fulfillment".to_string(),
            Type::Weekday => "a weekday".to_string(),
            Type::Date => "a date".to_string(),
            Type::List(e) => format!("a list of {}", self.elem_name(e)),
            Type::Any => "an attribute".to_string(),
            Type::Error => "an invalid value".to_string(),
        }
    }

    fn elem_name(&self, e: Elem) -> String {
        match e {
            Elem::Str => "text".to_string(),
            Elem::Number(Unit::None) => "plain numbers".to_string(),
            Elem::Number(u) => self.unit_name(u),
            Elem::Kind => "location kinds".to_string(),
            Elem::Fulfillment => "fulfillments".to_string(),
            Elem::Weekday => "weekdays".to_string(),
            Elem::Any => "values".to_string(),
        }
    }

    pub(super) fn unit_name(&self, u: Unit) -> String {
        unit_name(u, self.money.as_deref())
    }
}

/// A unit for messages.
pub(crate) fn unit_name(u: Unit, currency: Option<&str>) -> String {
    match u {
        Unit::None => "a plain number".to_string(),
        Unit::Km => "km".to_string(),
        Unit::Days => "days".to_string(),
        Unit::Kg => "kg".to_string(),
        Unit::Percent => "%".to_string(),
        Unit::Money => currency.unwrap_or("money").to_string(),
    }
}

/// How to make two units fit. Every example in it is valid rule syntax: money is written
/// with the file's currency code (`EUR` when the file has none).
fn unit_help(
    what: &str,
    (lu, la): (Unit, &ast::Expr),
    (ru, ra): (Unit, &ast::Expr),
    (ln, rn): (&str, &str),
    currency: &str,
) -> String {
    if what == "compare" && (lu == Unit::None || ru == Unit::None) {
        let other = if lu == Unit::None { rn } else { ln };
        return format!("give the plain side a unit, or compare with a quantity in {other}");
    }
    if lu == Unit::Money || ru == Unit::Money {
        let (money, other, other_unit) = if lu == Unit::Money {
            (la, ra, ru)
        } else {
            (ra, la, lu)
        };
        if other_unit == Unit::Percent {
            return format!(
                "a percentage of an amount is a product, e.g. `{} * {}`",
                example_operand(money, true, "cost"),
                example_operand(other, true, "15 %")
            );
        }
        let (what, sample) = match other_unit {
            Unit::Km => ("the km", "distance"),
            Unit::Days => ("the days", "days"),
            Unit::Kg => ("the kg", "order.weight"),
            _ => ("the plain number", "order.units"),
        };
        return format!(
            "turn {what} into money first by multiplying with a price, e.g. `0.01 {currency} * {}`",
            example_operand(other, false, sample)
        );
    }
    format!("both sides must be in the same unit; {ln} and {rn} cannot be mixed")
}

/// The text of `e` for an example in a help line when it is a short name or call (or, with
/// `literals`, a number), else `fallback`.
fn example_operand(e: &ast::Expr, literals: bool, fallback: &str) -> String {
    let fits = match &e.kind {
        ast::ExprKind::Path(_) | ast::ExprKind::Call(..) => true,
        ast::ExprKind::Number(_) => literals,
        _ => false,
    };
    let text = crate::fmt::expr_text(e);
    if fits && text.len() <= 40 {
        text
    } else {
        fallback.to_string()
    }
}

/// `not x`, `-x` on a typed operand.
fn unary_result(op: UnOp, x: Expr, span: Span) -> Expr {
    if x.ty == Type::Error {
        return error(span);
    }
    match op {
        UnOp::Not => {
            if let ExprKind::Bool(b) = x.kind {
                return node(ExprKind::Bool(!b), Type::Bool, x.deps, span);
            }
            let deps = x.deps;
            node(ExprKind::Not(Box::new(x)), Type::Bool, deps, span)
        }
        UnOp::Neg => {
            if let ExprKind::Number(v) = x.kind {
                return node(ExprKind::Number(-v), x.ty, x.deps, span);
            }
            let (ty, deps) = (x.ty, x.deps);
            node(ExprKind::Neg(Box::new(x)), ty, deps, span)
        }
    }
}

/// What a call calls.
#[derive(Clone, Copy)]
enum Callee {
    Builtin(Builtin),
    /// The index of a script.
    Script(usize),
}

/// `and`, `or` on typed operands.
fn logic(op: BinOp, l: Expr, r: Expr, span: Span) -> Expr {
    if l.ty == Type::Error || r.ty == Type::Error {
        return error(span);
    }
    let deps = l.deps | r.deps;
    // Fold literal operands.
    match (op, &l.kind, &r.kind) {
        (BinOp::And, ExprKind::Bool(a), ExprKind::Bool(b)) => {
            return node(ExprKind::Bool(*a && *b), Type::Bool, deps, span)
        }
        (BinOp::Or, ExprKind::Bool(a), ExprKind::Bool(b)) => {
            return node(ExprKind::Bool(*a || *b), Type::Bool, deps, span)
        }
        _ => {}
    }
    let kind = if op == BinOp::And {
        ExprKind::And(Box::new(l), Box::new(r))
    } else {
        ExprKind::Or(Box::new(l), Box::new(r))
    };
    node(kind, Type::Bool, deps, span)
}

fn divide_units(l: &Expr, r: &Expr) -> Unit {
    match (l.ty, r.ty) {
        (Type::Number(a), Type::Number(b)) => {
            if b == Unit::None || b == Unit::Percent {
                a
            } else {
                // km / km is a ratio; EUR / km is a rate: both plain numbers here.
                Unit::None
            }
        }
        (Type::Number(a), _) => a,
        _ => Unit::None,
    }
}

fn fold_compare(op: CmpOp, l: &ExprKind, r: &ExprKind) -> Option<bool> {
    use std::cmp::Ordering;
    let ord = match (l, r) {
        (ExprKind::Number(a), ExprKind::Number(b)) => a.partial_cmp(b)?,
        (ExprKind::Str(a), ExprKind::Str(b)) => a.cmp(b),
        (ExprKind::Bool(a), ExprKind::Bool(b)) => a.cmp(b),
        (ExprKind::Date(a), ExprKind::Date(b)) => a.cmp(b),
        (ExprKind::Kind(a), ExprKind::Kind(b)) => {
            if a == b {
                Ordering::Equal
            } else {
                Ordering::Less
            }
        }
        (ExprKind::Fulfillment(a), ExprKind::Fulfillment(b)) => {
            if a == b {
                Ordering::Equal
            } else {
                Ordering::Less
            }
        }
        (ExprKind::Weekday(a), ExprKind::Weekday(b)) => {
            if a == b {
                Ordering::Equal
            } else {
                Ordering::Less
            }
        }
        _ => return None,
    };
    Some(match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    })
}

/// The kinds of facts, for the "where may this be read" check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Category {
    Order,
    Line,
    Location,
    Pair,
    Shipment,
    Stock,
    Plan,
}
