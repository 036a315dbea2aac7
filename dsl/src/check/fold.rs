//! Constant arithmetic that has no finite value (`C019`).
//!
//! In: the typed operands of one `+`, `-`, `*` or `/`. Out: a diagnostic when the divisor is a
//! constant 0 (a literal, a constant, or constant arithmetic that makes 0), or when the
//! constants involved give a number too large to represent (`a * b`, or a sum such as
//! `cost + a + b` whose constant terms overflow). Constants are read at their values in the
//! file; a value set later with `--set` is caught when the rules run (the order is then a rule
//! error).

use super::Checker;
use crate::diagnostics::{self as diag, Diagnostic};
use crate::ir::{ArithOp, Builtin, Expr, ExprKind, Value};
use crate::source::Span;

/// How deep [`Checker::constant`] looks into nested constant arithmetic (expressions nest at
/// most 100 levels, but a long left-leaning chain `a + b + c + …` is 500 levels of nodes).
const MAX_DEPTH: usize = 64;

impl Checker<'_> {
    /// A problem with `l op r` (spanning `span`), if its constants have no finite result.
    pub(super) fn non_finite(
        &self,
        op: ArithOp,
        l: &Expr,
        r: &Expr,
        span: Span,
    ) -> Option<Diagnostic> {
        match op {
            ArithOp::Div if self.constant(r, 0) == Some(0.0) => {
                let text = self.source.slice(r.span).trim();
                Some(diag::division_by_zero(span, r.span, text))
            }
            ArithOp::Add | ArithOp::Sub => {
                let (a, b) = (self.constant_terms(l), self.constant_terms(r));
                let sum = if op == ArithOp::Add { a + b } else { a - b };
                (a.is_finite() && b.is_finite() && !sum.is_finite()).then(|| diag::not_finite(span))
            }
            ArithOp::Mul | ArithOp::Div => {
                let (a, b) = (self.constant(l, 0)?, self.constant(r, 0)?);
                let v = if op == ArithOp::Mul { a * b } else { a / b };
                (!v.is_finite()).then(|| diag::not_finite(span))
            }
        }
    }

    /// The value of `e` if it is made of literals and constants only.
    fn constant(&self, e: &Expr, depth: usize) -> Option<f64> {
        if depth > MAX_DEPTH {
            return None;
        }
        let value = |x: &Expr| self.constant(x, depth + 1);
        match &e.kind {
            ExprKind::Number(v) => Some(*v),
            ExprKind::Const(id) => match self.consts.get(id.0)?.value {
                Value::Number(v) => Some(v),
                Value::Bool(_) => None,
            },
            ExprKind::Neg(x) => value(x).map(|v| -v),
            ExprKind::Arith(op, a, b) => {
                let (a, b) = (value(a)?, value(b)?);
                Some(match op {
                    ArithOp::Add => a + b,
                    ArithOp::Sub => a - b,
                    ArithOp::Mul => a * b,
                    ArithOp::Div => a / b,
                })
            }
            ExprKind::Builtin(f, args) => {
                let a = value(args.first()?)?;
                match f {
                    Builtin::Abs => Some(a.abs()),
                    Builtin::Min => Some(a.min(value(args.get(1)?)?)),
                    Builtin::Max => Some(a.max(value(args.get(1)?)?)),
                }
            }
            _ => None,
        }
    }

    /// The sum of the constant terms of a sum or difference: 2e308 for `cost + a + b` with
    /// `a` and `b` at 1e308 (the terms that are not constant count as 0). The chain's left
    /// side is walked in a loop: it is as long as the chain.
    fn constant_terms(&self, e: &Expr) -> f64 {
        let mut sum = 0.0;
        let mut at = e;
        loop {
            match &at.kind {
                ExprKind::Arith(op @ (ArithOp::Add | ArithOp::Sub), a, b) => {
                    let term = self.constant(b, 0).unwrap_or(0.0);
                    sum += if *op == ArithOp::Add { term } else { -term };
                    at = a;
                }
                _ => return sum + self.constant(at, 0).unwrap_or(0.0),
            }
        }
    }
}
