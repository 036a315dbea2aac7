//! Warnings: rules that work, but probably not as intended.
//!
//! In: the checked strategies and their AST. Out: `W0xx` diagnostics. Each lint is one
//! function; all of them run even when errors were found, so a file is fixed in one round.

use super::{Checked, Checker};
use crate::ast::{Ast, Item};
use crate::diagnostics as diag;
use crate::ir::{self, CmpOp, ExprKind, Fact, LocationFact, LocationKind};

pub(super) fn run(cx: &mut Checker<'_>, ast: &Ast, strategies: &[Checked<'_>]) {
    unreachable_strategies(cx, strategies);
    constant_conditions(cx, strategies);
    empty_sets(cx, strategies);
    prefer_outside_candidates(cx, strategies);
    unused(cx, ast);
}

/// W001: strategies after a catch-all that no fallback leads to.
fn unreachable_strategies(cx: &mut Checker<'_>, strategies: &[Checked<'_>]) {
    let catch_all = strategies.iter().position(|s| match &s.ir.when {
        None => true,
        Some(e) => e.ty == ir::Type::Bool && matches!(e.kind, ExprKind::Bool(true)),
    });
    let Some(catch_all) = catch_all else { return };
    let mut reachable = vec![false; strategies.len()];
    let mut work: Vec<usize> = (0..=catch_all).collect();
    while let Some(i) = work.pop() {
        if reachable.get(i).copied().unwrap_or(true) {
            continue;
        }
        if let Some(r) = reachable.get_mut(i) {
            *r = true;
        }
        if let Some(ir::Next::Fallback { strategy, .. }) = strategies.get(i).map(|s| &s.ir.next) {
            work.push(strategy.0);
        }
    }
    let Some(all) = strategies.get(catch_all) else {
        return;
    };
    let (all_name, all_span) = (all.ir.name.clone(), all.ast.name.span);
    for (i, s) in strategies.iter().enumerate() {
        if !reachable.get(i).copied().unwrap_or(true) {
            cx.push(diag::unreachable_strategy(
                s.ast.name.span,
                &s.ir.name,
                (&all_name, all_span),
            ));
        }
    }
}

/// W007: `when` and `exclude` conditions that never vary.
fn constant_conditions(cx: &mut Checker<'_>, strategies: &[Checked<'_>]) {
    for s in strategies {
        if let Some(w) = s.ir.when.as_ref().filter(|w| w.ty == ir::Type::Bool) {
            if let ExprKind::Bool(b) = w.kind {
                let help = if b {
                    "remove the `when` clause: a strategy without `when` is chosen for every order"
                } else {
                    "this strategy is never chosen by its `when`; fix or remove the condition"
                };
                cx.push(diag::constant_condition(w.span, b, help));
            }
        }
        for x in &s.ir.exclusions {
            if let Some(b) = eval_bool(&x.cond, x.applies_to) {
                let help = if b {
                    "this exclusion drops every candidate it applies to"
                } else {
                    "this exclusion never drops anything; check the condition and the target"
                };
                cx.push(diag::constant_condition(x.cond.span, b, help));
            }
        }
    }
}

/// W002: candidate and group sets that can never contain a location.
fn empty_sets(cx: &mut Checker<'_>, strategies: &[Checked<'_>]) {
    let mut sets: Vec<&ir::LocationSet> = Vec::new();
    for g in &cx.groups {
        sets.extend(g.sets.iter());
    }
    for s in strategies {
        sets.extend(s.ir.candidates.iter());
        sets.extend(s.ir.prefer.iter().flatten());
    }
    let mut found = Vec::new();
    for set in sets {
        if let ir::SetBase::Ids(ids) = &set.base {
            if ids.is_empty() {
                found.push((set.span, "the id list is empty"));
                continue;
            }
        }
        let kind = match set.base {
            ir::SetBase::Kind(k) => Some(k),
            ir::SetBase::PickupStore => Some(LocationKind::Store),
            _ => None,
        };
        for f in &set.filters {
            if let ir::LocationFilter::Where(e) = f {
                if eval_bool(e, kind) == Some(false) {
                    found.push((e.span, "the `where` condition is always false"));
                }
            }
        }
    }
    for (span, why) in found {
        cx.push(diag::empty_set(span, why));
    }
}

/// W008: `prefer` sets that can hold none of the candidates. `prefer` never adds a
/// location: it puts the candidates it names first. A preferred set narrower than the
/// candidates (`candidates dcs where …` with `prefer dcs where priority == 1`) is how it is
/// meant to be used; only a set that provably shares no location with any candidate set
/// (another kind, another country, other ids) prefers nothing.
fn prefer_outside_candidates(cx: &mut Checker<'_>, strategies: &[Checked<'_>]) {
    let mut found = Vec::new();
    for s in strategies {
        if s.ir.candidates.is_empty() {
            continue;
        }
        let candidates: Option<Vec<Part<'_>>> =
            s.ir.candidates
                .iter()
                .map(|c| parts(cx, c, 0))
                .collect::<Option<Vec<_>>>()
                .map(|v| v.into_iter().flatten().collect());
        let Some(candidates) = candidates else {
            continue;
        };
        for p in s.ir.prefer.iter().flatten() {
            let Some(preferred) = parts(cx, p, 0) else {
                continue;
            };
            let outside = preferred
                .iter()
                .all(|a| candidates.iter().all(|b| a.disjoint(b)));
            if outside {
                found.push(p.span);
            }
        }
    }
    for span in found {
        cx.push(diag::prefer_not_candidate(span));
    }
}

/// One set of a union, with every filter that narrows it (its own and those written after
/// the group it came from).
struct Part<'a> {
    base: &'a ir::SetBase,
    filters: Vec<&'a ir::LocationFilter>,
}

/// A set as a union of [`Part`]s, groups opened (`None` when too deep to tell).
fn parts<'a>(cx: &'a Checker<'_>, set: &'a ir::LocationSet, depth: usize) -> Option<Vec<Part<'a>>> {
    let ir::SetBase::Group(g) = &set.base else {
        return Some(vec![Part {
            base: &set.base,
            filters: set.filters.iter().collect(),
        }]);
    };
    if depth >= 8 {
        return None;
    }
    let group = cx.groups.get(g.0)?;
    let mut out = Vec::new();
    for gs in &group.sets {
        for mut part in parts(cx, gs, depth + 1)? {
            part.filters.extend(set.filters.iter());
            out.push(part);
        }
    }
    Some(out)
}

impl Part<'_> {
    /// The kinds of location the part may hold: its base's, less those a `where` rules out.
    fn kinds(&self) -> Vec<LocationKind> {
        let base = match self.base {
            ir::SetBase::Kind(k) => vec![*k],
            ir::SetBase::PickupStore => vec![LocationKind::Store],
            _ => vec![
                LocationKind::Dc,
                LocationKind::Store,
                LocationKind::Dropship,
            ],
        };
        base.into_iter()
            .filter(|&k| {
                !self.filters.iter().any(|f| {
                    matches!(f, ir::LocationFilter::Where(e) if eval_bool(e, Some(k)) == Some(false))
                })
            })
            .collect()
    }

    fn countries(&self) -> impl Iterator<Item = &str> {
        self.filters.iter().filter_map(|f| match f {
            ir::LocationFilter::Country(c) => Some(c.as_str()),
            _ => None,
        })
    }

    fn regions(&self) -> impl Iterator<Item = &str> {
        self.filters.iter().filter_map(|f| match f {
            ir::LocationFilter::Region(r) => Some(r.as_str()),
            _ => None,
        })
    }

    /// Whether no location can be in both parts (a conservative test: `false` when unsure).
    fn disjoint(&self, other: &Part<'_>) -> bool {
        let theirs = other.kinds();
        if !self.kinds().iter().any(|k| theirs.contains(k)) {
            return true;
        }
        // A location has one country and one region.
        let apart = |a: Vec<&str>, b: Vec<&str>| a.iter().any(|x| b.iter().any(|y| x != y));
        if apart(self.countries().collect(), other.countries().collect())
            || apart(self.regions().collect(), other.regions().collect())
        {
            return true;
        }
        match (self.base, other.base) {
            (ir::SetBase::Ids(a), ir::SetBase::Ids(b)) => !a.iter().any(|x| b.contains(x)),
            _ => false,
        }
    }
}

/// W003–W005: declarations nothing uses.
fn unused(cx: &mut Checker<'_>, ast: &Ast) {
    let mut found = Vec::new();
    for item in &ast.items {
        match item {
            Item::Const(c) => {
                if let Some(&id) = cx.const_index.get(&c.name.name) {
                    let first = cx.consts.get(id).map(|k| k.span.start) == Some(c.span.start);
                    if first && !cx.const_used.get(id).copied().unwrap_or(true) {
                        found.push(diag::unused_const(c.name.span, &c.name.name));
                    }
                }
            }
            Item::Group(g) => {
                if let Some(&id) = cx.group_index.get(&g.name.name) {
                    let first = cx.groups.get(id).map(|k| k.span.start) == Some(g.span.start);
                    if first && !cx.group_used.get(id).copied().unwrap_or(true) {
                        found.push(diag::unused_group(g.name.span, &g.name.name));
                    }
                }
            }
            Item::Script(s) => {
                if let Some(&id) = cx.script_index.get(&s.name.name) {
                    let first = cx.scripts.get(id).map(|k| k.span.start) == Some(s.span.start);
                    if first && !cx.script_used.get(id).copied().unwrap_or(true) {
                        found.push(diag::unused_script(s.name.span, &s.name.name));
                    }
                }
            }
            Item::Strategy(_) => {}
        }
    }
    for d in found {
        cx.push(d);
    }
}

/// The value of a condition when only the location's kind is known (`kind`), if that decides
/// it. Constants are not substituted: they may be overridden.
fn eval_bool(e: &ir::Expr, kind: Option<LocationKind>) -> Option<bool> {
    if e.ty == ir::Type::Error {
        return None;
    }
    match &e.kind {
        ExprKind::Bool(b) => Some(*b),
        ExprKind::Not(x) => eval_bool(x, kind).map(|b| !b),
        ExprKind::And(a, b) => match (eval_bool(a, kind), eval_bool(b, kind)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        ExprKind::Or(a, b) => match (eval_bool(a, kind), eval_bool(b, kind)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        ExprKind::Compare(op @ (CmpOp::Eq | CmpOp::Ne), a, b) => {
            let (x, y) = (kind_value(a, kind)?, kind_value(b, kind)?);
            Some((x == y) == (*op == CmpOp::Eq))
        }
        ExprKind::Contains { list, item } => {
            let k = kind_value(item, kind)?;
            let ExprKind::List(items) = &list.kind else {
                return None;
            };
            let mut all_known = true;
            for i in items {
                match kind_value(i, kind) {
                    Some(v) if v == k => return Some(true),
                    Some(_) => {}
                    None => all_known = false,
                }
            }
            all_known.then_some(false)
        }
        _ => None,
    }
}

fn kind_value(e: &ir::Expr, kind: Option<LocationKind>) -> Option<LocationKind> {
    match &e.kind {
        ExprKind::Kind(k) => Some(*k),
        ExprKind::Fact(Fact::Location(LocationFact::Kind)) => kind,
        _ => None,
    }
}
