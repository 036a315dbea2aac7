//! Scores the search can optimise exactly: affine in `cost`.
//!
//! The engine splits a score into `a × cost + b` per candidate and shipment option (read
//! at cost 0 and cost 1), so that a plan's score is a sum over its shipments of a fixed
//! part and a part per kg: what its branch and bound minimises. A score in which `cost`
//! is capped, bent or tested (`min(cost, 6 EUR)`, `cost * cost`, `cost > 5 EUR ? …`, a
//! script fed `cost`) would silently be optimised as something else; the checker refuses
//! it and says how to write it instead.

use crate::ir::{ArithOp, Builtin, Expr, ExprKind, Fact, Term};
use crate::Span;

/// Where and why an expression is not affine in `cost`, if it is not.
pub(crate) fn non_affine(e: &Expr) -> Option<(Span, &'static str)> {
    if !reads_cost(e) {
        return None;
    }
    match &e.kind {
        ExprKind::Fact(Fact::Term(Term::Cost)) => None,
        ExprKind::Neg(x) => non_affine(x),
        ExprKind::Arith(ArithOp::Add | ArithOp::Sub, a, b) => {
            non_affine(a).or_else(|| non_affine(b))
        }
        ExprKind::Arith(ArithOp::Mul, a, b) => match (reads_cost(a), reads_cost(b)) {
            (true, true) => Some((e.span, "it multiplies cost by cost")),
            (true, false) => non_affine(a),
            _ => non_affine(b),
        },
        ExprKind::Arith(ArithOp::Div, a, b) => {
            if reads_cost(b) {
                Some((b.span, "it divides by an expression of cost"))
            } else {
                non_affine(a)
            }
        }
        ExprKind::Cond {
            cond,
            then,
            otherwise,
        } => {
            if reads_cost(cond) {
                Some((cond.span, "a condition on cost chooses its value"))
            } else {
                non_affine(then).or_else(|| non_affine(otherwise))
            }
        }
        // `cost` is never negative: `abs` of cost (or of a sum of costs) is that cost.
        ExprKind::Builtin(Builtin::Abs, args) if args.iter().all(sum_of_costs) => None,
        ExprKind::Builtin(..) => Some((e.span, "`min`, `max` or `abs` bends cost")),
        ExprKind::Script(..) => Some((e.span, "a script is fed cost")),
        _ => Some((e.span, "a condition on cost decides it")),
    }
}

/// `cost`, a sum of such terms, or `abs` of one: never negative, so `abs` leaves it alone.
fn sum_of_costs(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Fact(Fact::Term(Term::Cost)) => true,
        ExprKind::Arith(ArithOp::Add, a, b) => sum_of_costs(a) && sum_of_costs(b),
        ExprKind::Builtin(Builtin::Abs, args) => args.iter().all(sum_of_costs),
        _ => false,
    }
}

/// Whether an expression reads the term `cost`.
pub(crate) fn reads_cost(e: &Expr) -> bool {
    e.deps.shipment && e.any(|x| matches!(x.kind, ExprKind::Fact(Fact::Term(Term::Cost))))
}
