//! AST → checked [`RuleSet`].
//!
//! In: an [`Ast`]. Out: a [`RuleSet`] when there is no error, and every diagnostic found
//! (errors and warnings), never only the first. Passes, in order:
//! 1. declarations: constants, groups and scripts (names, duplicates, reserved names);
//! 2. groups: their location sets (cycles between groups);
//! 3. strategies: every clause, expressions typed by `types.rs` (constant arithmetic without
//!    a finite value checked by `fold.rs`);
//! 4. fallbacks: unknown targets and cycles;
//! 5. lints (`lints.rs`): unreachable strategies, empty sets, unused declarations.

mod affine;
mod fold;
mod lints;
mod types;

use std::collections::HashMap;
use std::sync::Arc;

pub(crate) use types::unit_name;

use crate::ast::{self, Ast, ClauseKind, Item};
use crate::diagnostics::{self as diag, Diagnostic, Diagnostics};
use crate::ir::{self, Const, LocationKind, RuleSet, Type, Unit, Value};
use crate::source::{SourceFile, Span};
use crate::suggest;

/// Where an expression stands: decides which facts it may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// A strategy's `when`: order facts.
    When,
    /// A group's filters: location facts.
    Group,
    /// A `where` in `candidates`/`prefer`: order, location and pair terms.
    CandidateFilter,
    /// An `exclude` condition: everything but plan terms.
    Exclusion,
    /// A `score`: everything but line facts and plan terms.
    Score,
    /// A `rank by` key: everything but line facts.
    Rank,
    /// A split or promise penalty: order facts.
    Penalty,
}

impl Place {
    fn describe(self) -> &'static str {
        match self {
            Place::When => "a `when` condition",
            Place::Group => "a group",
            Place::CandidateFilter => "a candidate filter",
            Place::Exclusion => "an exclusion",
            Place::Score => "a score",
            Place::Rank => "`rank by`",
            Place::Penalty => "a penalty",
        }
    }
}

/// State shared by the passes.
pub(crate) struct Checker<'a> {
    source: &'a SourceFile,
    diags: Vec<Diagnostic>,
    consts: Vec<Const>,
    const_index: HashMap<String, usize>,
    const_used: Vec<bool>,
    groups: Vec<ir::Group>,
    group_index: HashMap<String, usize>,
    group_used: Vec<bool>,
    /// For each group, the groups its sets name (for cycle detection).
    group_refs: Vec<Vec<(usize, Span)>>,
    scripts: Vec<ir::Script>,
    script_index: HashMap<String, usize>,
    script_used: Vec<bool>,
    currency: Option<(String, Span)>,
    /// The file's currency (its first currency literal, wherever it is): how messages name
    /// money, even before the checker reaches that literal.
    money: Option<String>,
}

/// Checks an AST.
pub(crate) fn check(ast: &Ast) -> (Option<RuleSet>, Diagnostics) {
    let mut cx = Checker {
        source: &ast.source,
        diags: Vec::new(),
        consts: Vec::new(),
        const_index: HashMap::new(),
        const_used: Vec::new(),
        groups: Vec::new(),
        group_index: HashMap::new(),
        group_used: Vec::new(),
        group_refs: Vec::new(),
        scripts: Vec::new(),
        script_index: HashMap::new(),
        script_used: Vec::new(),
        currency: None,
        money: first_currency(ast),
    };
    cx.declarations(ast);
    cx.group_bodies(ast);
    let strategies = cx.strategies(ast);
    if !ast.items.iter().any(|i| matches!(i, Item::Strategy(_))) {
        // Without a strategy every order would be left unsourced: that is never meant.
        cx.push(diag::no_strategy());
    }
    let strategies = cx.fallbacks(ast, strategies);
    lints::run(&mut cx, ast, &strategies);

    let mut diags = Diagnostics::new(Arc::clone(&ast.source));
    let has_errors = cx.diags.iter().any(Diagnostic::is_error);
    for d in std::mem::take(&mut cx.diags) {
        diags.push(d);
    }
    diags.sort();
    if has_errors {
        return (None, diags);
    }
    let rules = RuleSet {
        source_name: ast.source.name.clone(),
        source: Arc::clone(&ast.source),
        currency_at: cx.currency.as_ref().map(|(_, span)| span.start),
        currency: cx.currency.map(|(c, _)| c),
        consts: cx.consts,
        groups: cx.groups,
        scripts: cx.scripts,
        strategies: strategies.into_iter().map(|s| s.ir).collect(),
    };
    (Some(rules), diags)
}

/// The code of the first currency literal of the file, in file order.
fn first_currency(ast: &Ast) -> Option<String> {
    fn sets(sets: &[ast::SetExpr]) -> impl Iterator<Item = &ast::Expr> {
        sets.iter().flat_map(|s| {
            s.filters.iter().filter_map(|f| match f {
                ast::SetFilter::Where(e) => Some(e),
                _ => None,
            })
        })
    }
    let currency = |q: &ast::Quantity| match &q.unit {
        Some(ast::UnitLit::Currency(c)) => Some(c.clone()),
        _ => None,
    };
    for item in &ast.items {
        let roots: Vec<&ast::Expr> = match item {
            ast::Item::Const(c) => match &c.value {
                ast::ConstValue::Number { quantity, .. } => match currency(quantity) {
                    Some(c) => return Some(c),
                    None => continue,
                },
                ast::ConstValue::Bool(..) => continue,
            },
            ast::Item::Group(g) => sets(&g.sets).collect(),
            ast::Item::Script(_) => continue,
            ast::Item::Strategy(s) => s
                .clauses
                .iter()
                .flat_map(|c| -> Vec<&ast::Expr> {
                    match &c.kind {
                        ast::ClauseKind::When(e) | ast::ClauseKind::Score(e) => vec![e],
                        ast::ClauseKind::Exclude { cond, .. } => vec![cond],
                        ast::ClauseKind::Candidates(s) | ast::ClauseKind::Prefer(s) => {
                            sets(s).collect()
                        }
                        ast::ClauseKind::Rank(keys) | ast::ClauseKind::Fill(keys) => {
                            keys.iter().map(|k| &k.expr).collect()
                        }
                        ast::ClauseKind::Split { options, .. } => options
                            .iter()
                            .filter_map(|o| match o {
                                ast::SplitOption::Penalty(e, _) => Some(e),
                                _ => None,
                            })
                            .collect(),
                        ast::ClauseKind::Promise(ast::PromiseMode::Preferred(Some(e))) => {
                            vec![e]
                        }
                        _ => Vec::new(),
                    }
                })
                .collect(),
        };
        // Depth first, left to right, with an explicit stack.
        for root in roots {
            let mut stack = vec![root];
            while let Some(e) = stack.pop() {
                match &e.kind {
                    ast::ExprKind::Number(q) => {
                        if let Some(c) = currency(q) {
                            return Some(c);
                        }
                    }
                    ast::ExprKind::Unary(_, x) | ast::ExprKind::Paren(x) => stack.push(x),
                    ast::ExprKind::Binary(_, l, r) => {
                        stack.push(r);
                        stack.push(l);
                    }
                    ast::ExprKind::Cond {
                        cond,
                        then,
                        otherwise,
                        ..
                    } => {
                        stack.push(otherwise);
                        stack.push(then);
                        stack.push(cond);
                    }
                    ast::ExprKind::List(xs) | ast::ExprKind::Call(_, xs) => {
                        stack.extend(xs.iter().rev());
                    }
                    ast::ExprKind::Str(_)
                    | ast::ExprKind::Bool(_)
                    | ast::ExprKind::Date(_)
                    | ast::ExprKind::Path(_)
                    | ast::ExprKind::Error => {}
                }
            }
        }
    }
    None
}

/// A checked strategy plus what the later passes need from its AST.
pub(crate) struct Checked<'a> {
    ir: ir::Strategy,
    ast: &'a ast::Strategy,
    fallback: Option<&'a ast::StrLit>,
    fallback_span: Span,
}

impl Checker<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// "Did you mean": the candidate closest to `name`, or `None` once more diagnostics
    /// have been found than are shown. Unknown names checked against the file's own
    /// declarations cost their product, so a generated file with thousands of both would
    /// otherwise take quadratic time for suggestions nobody reads.
    fn suggest<S: AsRef<str>>(
        &self,
        name: &str,
        candidates: impl FnOnce() -> Vec<S>,
    ) -> Option<String> {
        if self.diags.len() >= diag::MAX_SHOWN {
            return None;
        }
        let candidates = candidates();
        suggest::closest(name, candidates.iter().map(AsRef::as_ref)).map(str::to_string)
    }

    fn note_currency(&mut self, code: &str, span: Span) {
        match &self.currency {
            None => self.currency = Some((code.to_string(), span)),
            Some((first, first_span)) if first != code => {
                let d = diag::mixed_currency(span, code, (first, *first_span));
                self.push(d);
            }
            Some(_) => {}
        }
    }

    /// Pass 1: names of constants, groups and scripts; constant values; script signatures.
    fn declarations(&mut self, ast: &Ast) {
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut claim = |cx: &mut Checker<'_>, name: &ast::Ident, kind: &str| -> bool {
            if crate::schema::is_reserved(&name.name) {
                cx.push(diag::reserved_name(name.span, &name.name, kind));
                return false;
            }
            if let Some(first) = seen.get(&name.name) {
                cx.push(diag::duplicate(name.span, kind, &name.name, *first));
                return false;
            }
            seen.insert(name.name.clone(), name.span);
            true
        };
        for item in &ast.items {
            match item {
                Item::Const(c) => {
                    if !claim(self, &c.name, "constant") {
                        continue;
                    }
                    let (value, ty) = match &c.value {
                        ast::ConstValue::Bool(b, _) => (Value::Bool(*b), Type::Bool),
                        ast::ConstValue::Number { negative, quantity } => {
                            let e = self.quantity(quantity, *negative);
                            let v = match e.kind {
                                ir::ExprKind::Number(v) => v,
                                _ => 0.0,
                            };
                            (Value::Number(v), e.ty)
                        }
                    };
                    self.const_index
                        .insert(c.name.name.clone(), self.consts.len());
                    self.consts.push(Const {
                        name: c.name.name.clone(),
                        value,
                        default: value,
                        ty,
                        span: c.span,
                    });
                    self.const_used.push(false);
                }
                Item::Group(g) => {
                    if !claim(self, &g.name, "group") {
                        continue;
                    }
                    self.group_index
                        .insert(g.name.name.clone(), self.groups.len());
                    self.groups.push(ir::Group {
                        name: g.name.name.clone(),
                        sets: Vec::new(),
                        span: g.span,
                    });
                    self.group_used.push(false);
                    self.group_refs.push(Vec::new());
                }
                Item::Script(s) => {
                    if !claim(self, &s.name, "script") {
                        continue;
                    }
                    let mut params: Vec<(String, Type)> = Vec::new();
                    let mut param_spans: HashMap<&str, Span> = HashMap::new();
                    for p in &s.params {
                        if let Some(first) = param_spans.get(p.name.name.as_str()) {
                            self.push(diag::duplicate(
                                p.name.span,
                                "parameter",
                                &p.name.name,
                                *first,
                            ));
                        }
                        param_spans.insert(&p.name.name, p.name.span);
                        params.push((p.name.name.clone(), script_type(p.ty)));
                    }
                    if s.ret == ast::TypeName::String {
                        self.push(diag::invalid_value(
                            s.ret_span,
                            "a script returns a number or a bool, not `string`".to_string(),
                            Some("declare `-> number`, `-> money`, ... or `-> bool`".to_string()),
                        ));
                    }
                    self.script_index
                        .insert(s.name.name.clone(), self.scripts.len());
                    self.scripts.push(ir::Script {
                        name: s.name.name.clone(),
                        params,
                        ret: script_type(s.ret),
                        code: s.code.clone(),
                        code_span: s.code_span,
                        span: s.span,
                    });
                    self.script_used.push(false);
                }
                Item::Strategy(_) => {}
            }
        }
    }

    /// Pass 2: the sets of every group, and cycles between groups.
    fn group_bodies(&mut self, ast: &Ast) {
        for item in &ast.items {
            let Item::Group(g) = item else { continue };
            let Some(&id) = self.group_index.get(&g.name.name) else {
                continue;
            };
            // Only the first declaration of a name is checked (the duplicate is reported).
            if self.groups.get(id).map(|x| x.span.start) != Some(g.span.start) {
                continue;
            }
            let mut sets = Vec::new();
            for s in &g.sets {
                if let Some(set) = self.location_set(s, Place::Group, Some(id)) {
                    sets.push(set);
                }
            }
            if let Some(group) = self.groups.get_mut(id) {
                group.sets = sets;
            }
        }
        // Cycles: depth-first search with an explicit stack.
        let n = self.groups.len();
        let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
        let mut reported = vec![false; n];
        for start in 0..n {
            if state.get(start) != Some(&0) {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            if let Some(s) = state.get_mut(start) {
                *s = 1;
            }
            while let Some((node, edge)) = stack.last().copied() {
                let next = self.group_refs.get(node).and_then(|r| r.get(edge)).copied();
                match next {
                    Some((target, span)) => {
                        if let Some(top) = stack.last_mut() {
                            top.1 += 1;
                        }
                        match state.get(target) {
                            Some(0) => {
                                if let Some(s) = state.get_mut(target) {
                                    *s = 1;
                                }
                                stack.push((target, 0));
                            }
                            Some(1) if !reported.get(node).copied().unwrap_or(true) => {
                                if let Some(r) = reported.get_mut(node) {
                                    *r = true;
                                }
                                let name = self
                                    .groups
                                    .get(target)
                                    .map(|g| g.name.clone())
                                    .unwrap_or_default();
                                self.push(diag::group_cycle(span, &name));
                            }
                            _ => {}
                        }
                    }
                    None => {
                        if let Some(s) = state.get_mut(node) {
                            *s = 2;
                        }
                        stack.pop();
                    }
                }
            }
        }
    }

    /// A location set. `in_group` is the group being defined, if any.
    fn location_set(
        &mut self,
        s: &ast::SetExpr,
        place: Place,
        in_group: Option<usize>,
    ) -> Option<ir::LocationSet> {
        let base = match &s.base {
            ast::SetBase::All => ir::SetBase::All,
            ast::SetBase::Dcs => ir::SetBase::Kind(LocationKind::Dc),
            ast::SetBase::Stores => ir::SetBase::Kind(LocationKind::Store),
            ast::SetBase::Dropship => ir::SetBase::Kind(LocationKind::Dropship),
            ast::SetBase::PickupStore => {
                if place == Place::Group {
                    self.push(diag::not_allowed_here(
                        s.base_span,
                        "pickup_store",
                        "a group",
                        "the pickup store depends on the order; name it in `candidates` or \
                         `prefer` instead",
                    ));
                    return None;
                }
                ir::SetBase::PickupStore
            }
            ast::SetBase::Ids(ids) => {
                ir::SetBase::Ids(ids.iter().map(|i| i.value.clone()).collect())
            }
            ast::SetBase::Named(name) => match self.group_index.get(&name.name) {
                Some(&id) => {
                    if let Some(u) = self.group_used.get_mut(id) {
                        *u = true;
                    }
                    if let Some(g) = in_group {
                        if g == id {
                            self.push(diag::group_cycle(name.span, &name.name));
                            return None;
                        }
                        if let Some(refs) = self.group_refs.get_mut(g) {
                            refs.push((id, name.span));
                        }
                    }
                    ir::SetBase::Group(ir::GroupId(id))
                }
                None => {
                    let suggestion = self.suggest(&name.name, || {
                        let mut names: Vec<&str> =
                            self.group_index.keys().map(String::as_str).collect();
                        names.sort_unstable();
                        names.extend(["all", "dcs", "stores", "dropship", "pickup_store"]);
                        names
                    });
                    self.push(diag::unknown_set(
                        name.span,
                        &name.name,
                        suggestion.as_deref(),
                    ));
                    return None;
                }
            },
        };
        let mut filters = Vec::new();
        let mut is_static = base != ir::SetBase::PickupStore;
        let mut failed = false;
        for f in &s.filters {
            filters.push(match f {
                ast::SetFilter::Tagged(t) => ir::LocationFilter::Tagged(t.value.clone()),
                ast::SetFilter::Country(t) => ir::LocationFilter::Country(t.value.clone()),
                ast::SetFilter::Region(t) => ir::LocationFilter::Region(t.value.clone()),
                ast::SetFilter::Where(e) => {
                    let x = self.bool_expr(e, place);
                    if x.ty == Type::Error {
                        failed = true;
                    }
                    if x.deps.order || x.deps.pair || x.deps.script {
                        is_static = false;
                    }
                    ir::LocationFilter::Where(x)
                }
            });
        }
        if failed {
            return None;
        }
        Some(ir::LocationSet {
            base,
            filters,
            is_static,
            span: s.span,
        })
    }

    /// Pass 3: strategies.
    fn strategies<'a>(&mut self, ast: &'a Ast) -> Vec<Checked<'a>> {
        let mut out = Vec::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for item in &ast.items {
            let Item::Strategy(s) = item else { continue };
            if s.name.value.trim().is_empty() {
                self.push(diag::invalid_value(
                    s.name.span,
                    "a strategy needs a name".to_string(),
                    Some("write `strategy \"standard\" { … }`".to_string()),
                ));
            } else if let Some(first) = seen.get(s.name.value.as_str()) {
                self.push(diag::duplicate(
                    s.name.span,
                    "strategy",
                    &s.name.value,
                    *first,
                ));
            } else {
                seen.insert(&s.name.value, s.name.span);
            }
            out.push(self.strategy(s));
        }
        out
    }

    fn strategy<'a>(&mut self, s: &'a ast::Strategy) -> Checked<'a> {
        let mut first: HashMap<&'static str, Span> = HashMap::new();
        let mut once =
            |cx: &mut Checker<'_>, key: &'static str, clause: &ast::Clause, help: &str| {
                if let Some(f) = first.get(key) {
                    cx.push(diag::duplicate_clause(clause.span, key, *f, help));
                    false
                } else {
                    first.insert(key, clause.span);
                    true
                }
            };
        let mut when = None;
        let mut candidates = Vec::new();
        let mut has_candidates = false;
        let mut exclusions = Vec::new();
        let mut prefer = Vec::new();
        let mut score: Option<(ir::Expr, Span)> = None;
        let mut rank_ast: Option<(&ast::Clause, &Vec<ast::RankKey>)> = None;
        let mut fill_ast: Option<(&ast::Clause, &Vec<ast::RankKey>)> = None;
        let mut score_clause: Option<Span> = None;
        let mut split_ast: Option<(&ast::Clause, &ast::SplitMode, &Vec<ast::SplitOption>)> = None;
        let mut promise_ast: Option<&ast::PromiseMode> = None;
        let mut all_or_nothing = false;
        let mut all_or_nothing_span: Option<Span> = None;
        let mut ship_complete: Option<Span> = None;
        let mut next = ir::Next::Unsourced;
        let mut fallback = None;
        let mut fallback_span = s.span;
        let mut ending_span: Option<Span> = None;

        for clause in &s.clauses {
            match &clause.kind {
                ClauseKind::When(e) => {
                    if once(
                        self,
                        "when",
                        clause,
                        "combine the conditions with `and` or `or`",
                    ) {
                        when = Some(self.bool_expr(e, Place::When));
                    }
                }
                ClauseKind::Candidates(sets) => {
                    if once(
                        self,
                        "candidates",
                        clause,
                        "list every set in one `candidates` clause, separated by commas",
                    ) {
                        has_candidates = true;
                        for set in sets {
                            if let Some(x) = self.location_set(set, Place::CandidateFilter, None) {
                                candidates.push(x);
                            }
                        }
                    }
                }
                ClauseKind::Exclude {
                    target,
                    cond,
                    reason,
                    ..
                } => {
                    let x = self.bool_expr(cond, Place::Exclusion);
                    let per_line = x.deps.line || x.deps.stock;
                    let text = match reason {
                        Some(r) => r.value.clone(),
                        None => squash_spaces(self.source.slice(cond.span)),
                    };
                    exclusions.push(ir::Exclusion {
                        applies_to: match target {
                            ast::ExcludeTarget::Location => None,
                            ast::ExcludeTarget::Store => Some(LocationKind::Store),
                            ast::ExcludeTarget::Dc => Some(LocationKind::Dc),
                            ast::ExcludeTarget::Dropship => Some(LocationKind::Dropship),
                        },
                        cond: x,
                        reason: text,
                        per_line,
                        span: clause.span,
                    });
                }
                ClauseKind::Prefer(sets) => {
                    let tier: Vec<ir::LocationSet> = sets
                        .iter()
                        .filter_map(|set| self.location_set(set, Place::CandidateFilter, None))
                        .collect();
                    prefer.push(tier);
                }
                ClauseKind::Score(e) => {
                    if once(
                        self,
                        "score",
                        clause,
                        "add the terms into one `score` with `+`",
                    ) {
                        let x = self.number_expr(e, Place::Score);
                        if let Some((at, why)) = affine::non_affine(&x) {
                            self.push(diag::not_affine_in_cost(at, "score", why));
                        }
                        score = Some((x, e.span));
                        score_clause = Some(clause.span);
                    }
                }
                ClauseKind::Rank(keys) => {
                    if once(
                        self,
                        "rank by",
                        clause,
                        "list every criterion in one `rank by`",
                    ) {
                        rank_ast = Some((clause, keys));
                    }
                }
                ClauseKind::Fill(keys) => {
                    if once(
                        self,
                        "fill by",
                        clause,
                        "list every criterion in one `fill by`, separated by `, then`",
                    ) {
                        fill_ast = Some((clause, keys));
                    }
                }
                ClauseKind::Split { mode, options } => {
                    if once(self, "split", clause, "keep one `split` clause") {
                        split_ast = Some((clause, mode, options));
                    }
                }
                ClauseKind::Promise(mode) => {
                    if once(self, "promise", clause, "keep one `promise` clause") {
                        promise_ast = Some(mode);
                    }
                }
                ClauseKind::AllOrNothing => {
                    if once(self, "all or nothing", clause, "remove the second one") {
                        all_or_nothing = true;
                        all_or_nothing_span = Some(clause.span);
                    }
                }
                ClauseKind::ShipComplete => {
                    if once(self, "ship complete", clause, "remove the second one") {
                        ship_complete = Some(clause.span);
                    }
                }
                ClauseKind::Fallback(target) => {
                    if let Some(f) = ending_span {
                        self.push(diag::conflicting_endings(clause.span, f));
                        continue;
                    }
                    ending_span = Some(clause.span);
                    fallback = Some(target);
                    fallback_span = clause.span;
                }
                ClauseKind::Otherwise(ending) => {
                    if let Some(f) = ending_span {
                        self.push(diag::conflicting_endings(clause.span, f));
                        continue;
                    }
                    ending_span = Some(clause.span);
                    next = match ending {
                        ast::Ending::Backorder => ir::Next::Backorder,
                        ast::Ending::Unsourced => ir::Next::Unsourced,
                    };
                }
            }
        }
        if !has_candidates {
            self.push(diag::missing_candidates(s.name.span, &s.name.value));
        }

        // The unit penalties must have: the score's, or money when ranking by cost.
        let (penalty_unit, penalty_why) = match &score {
            Some((e, span)) => match e.ty {
                Type::Number(u) => (u, *span),
                _ => (Unit::Money, *span),
            },
            None => (Unit::Money, s.name.span),
        };
        let fill = fill_ast.map(|(clause, _)| clause.span);
        let rank = match fill_ast {
            Some((fill_clause, keys)) => {
                self.fill_conflicts(fill_clause.span, keys, rank_ast, score_clause);
                self.rank(Some((fill_clause, keys)), &None, s)
            }
            None => self.rank(rank_ast, &score, s),
        };
        let mut split = self.split(split_ast, penalty_unit, penalty_why);
        if let Some(sc) = ship_complete {
            // One shipment for the whole order, or none: `split none` with `all or nothing`.
            if let Some((clause, mode, _)) = split_ast {
                if !matches!(mode, ast::SplitMode::None) {
                    self.push(diag::ship_complete_split(sc, clause.span));
                }
            }
            if let Some(aon) = all_or_nothing_span {
                self.push(diag::redundant_all_or_nothing(aon, sc));
            }
            split.max_shipments = Some(1);
            all_or_nothing = true;
        }
        let promise = match promise_ast {
            None | Some(ast::PromiseMode::Ignored) => ir::PromisePolicy::Ignored,
            Some(ast::PromiseMode::Required) => ir::PromisePolicy::Required,
            Some(ast::PromiseMode::Preferred(pen)) => ir::PromisePolicy::Preferred {
                penalty: pen
                    .as_ref()
                    .map(|p| self.unit_expr(p, Place::Penalty, penalty_unit, penalty_why)),
            },
        };
        let ir = ir::Strategy {
            name: s.name.value.clone(),
            when,
            candidates,
            exclusions,
            prefer,
            objective: ir::Objective {
                score: score.map(|(e, _)| e),
                rank,
                fill,
            },
            split,
            promise,
            all_or_nothing,
            next,
            span: s.span,
        };
        Checked {
            ir,
            ast: s,
            fallback,
            fallback_span,
        }
    }

    /// `fill by` orders locations, so clauses that compare whole plans make no sense beside
    /// it: each is refused with how to write the strategy instead.
    fn fill_conflicts(
        &mut self,
        fill: Span,
        keys: &[ast::RankKey],
        rank_ast: Option<(&ast::Clause, &Vec<ast::RankKey>)>,
        score_clause: Option<Span>,
    ) {
        if let Some((clause, _)) = rank_ast {
            self.push(diag::fill_conflict(
                clause.span,
                fill,
                "`rank by` compares whole plans",
                "keep one of them: list the criteria in one `fill by a, then b` to take \
                 locations in that order, or remove `fill by` to compare plans",
            ));
        }
        if let Some(span) = score_clause {
            self.push(diag::fill_conflict(
                span,
                fill,
                "`score` compares whole plans",
                "put the expression in the fill order, `fill by <expression>` (lower first), \
                 and remove `score`",
            ));
        }
        for key in keys {
            if let ast::ExprKind::Path(segs) = &key.expr.kind {
                let name = segs.first().map(|s| s.name.as_str());
                if segs.len() == 1 && matches!(name, Some("fewest_shipments" | "shipments")) {
                    self.push(diag::fill_conflict(
                        key.span,
                        fill,
                        "the number of shipments belongs to a whole plan",
                        "remove it: a fill takes as few locations as its order allows; \
                         `split at most N` stops it after N locations",
                    ));
                }
            }
        }
    }

    fn rank(
        &mut self,
        rank_ast: Option<(&ast::Clause, &Vec<ast::RankKey>)>,
        score: &Option<(ir::Expr, Span)>,
        s: &ast::Strategy,
    ) -> Vec<ir::RankKey> {
        let Some((_, keys)) = rank_ast else {
            let (criterion, span) = match score {
                Some((_, span)) => (ir::Criterion::Score, *span),
                None => (ir::Criterion::Cost, s.name.span),
            };
            let text = match criterion {
                ir::Criterion::Score => "score",
                _ => "cost",
            };
            return vec![ir::RankKey {
                criterion,
                descending: false,
                text: text.to_string(),
                span,
            }];
        };
        let mut out = Vec::new();
        let mut named_score = false;
        for key in keys {
            let name = match &key.expr.kind {
                ast::ExprKind::Path(segs) if segs.len() == 1 => {
                    segs.first().map(|s| s.name.as_str())
                }
                _ => None,
            };
            let criterion = match name {
                Some("fewest_shipments") => ir::Criterion::FewestShipments,
                Some("cost") => ir::Criterion::Cost,
                Some("days") => ir::Criterion::Days,
                Some("distance" | "distance_km") => ir::Criterion::Distance,
                Some("priority") => ir::Criterion::Priority,
                Some("in_market") => ir::Criterion::InMarket,
                Some("score") => {
                    named_score = true;
                    if score.is_none() {
                        self.push(diag::invalid_value(
                            key.expr.span,
                            "`rank by score` needs a `score` clause in the strategy".to_string(),
                            Some("add `score <expression>` or rank by another criterion".into()),
                        ));
                    }
                    ir::Criterion::Score
                }
                _ => {
                    let x = self.expr(&key.expr, Place::Rank);
                    if !matches!(x.ty, Type::Number(_) | Type::Bool | Type::Any | Type::Error) {
                        let found = self.type_name(x.ty);
                        self.push(diag::type_mismatch(
                            key.expr.span,
                            "a number or a condition to rank by",
                            &found,
                        ));
                    }
                    if let Some((at, why)) = affine::non_affine(&x) {
                        self.push(diag::not_affine_in_cost(at, "rank key", why));
                    }
                    ir::Criterion::Expr(x)
                }
            };
            out.push(ir::RankKey {
                criterion,
                descending: key.desc.unwrap_or(false),
                text: squash_spaces(self.source.slice(key.span)),
                span: key.span,
            });
        }
        if let (Some((_, span)), false) = (score, named_score) {
            out.push(ir::RankKey {
                criterion: ir::Criterion::Score,
                descending: false,
                text: "score".to_string(),
                span: *span,
            });
        }
        out
    }

    fn split(
        &mut self,
        split_ast: Option<(&ast::Clause, &ast::SplitMode, &Vec<ast::SplitOption>)>,
        penalty_unit: Unit,
        penalty_why: Span,
    ) -> ir::SplitPolicy {
        let Some((clause, mode, options)) = split_ast else {
            return ir::SplitPolicy {
                max_shipments: None,
                penalty: None,
                lines_may_split: true,
                span: None,
            };
        };
        let max_shipments = match mode {
            ast::SplitMode::None => Some(1),
            ast::SplitMode::Allowed => None,
            ast::SplitMode::AtMost(q) => {
                if q.value < 1.0 || q.value.fract() != 0.0 || q.value > f64::from(u32::MAX) {
                    self.push(diag::invalid_value(
                        q.span,
                        format!(
                            "`split at most {}` needs a whole number of at least 1",
                            q.text
                        ),
                        Some("write `split at most 2`, or `split none` for one shipment".into()),
                    ));
                    None
                } else {
                    // INVARIANT: checked above to be a whole number in u32 range.
                    Some(q.value as u32)
                }
            }
        };
        let mut penalty = None;
        let mut lines: Option<(bool, Span)> = None;
        for opt in options {
            match opt {
                ast::SplitOption::Penalty(e, span) => {
                    if penalty.is_some() {
                        self.push(diag::duplicate_clause(
                            *span,
                            "penalty",
                            clause.span,
                            "give one penalty",
                        ));
                        continue;
                    }
                    penalty = Some(self.unit_expr(e, Place::Penalty, penalty_unit, penalty_why));
                }
                ast::SplitOption::LinesWhole(span) | ast::SplitOption::LinesMaySplit(span) => {
                    if let Some((_, first)) = lines {
                        self.push(diag::duplicate_clause(
                            *span,
                            "lines",
                            first,
                            "say either `lines whole` or `lines may split`",
                        ));
                        continue;
                    }
                    lines = Some((matches!(opt, ast::SplitOption::LinesMaySplit(_)), *span));
                }
            }
        }
        ir::SplitPolicy {
            max_shipments,
            penalty,
            lines_may_split: lines.is_none_or(|(may, _)| may),
            span: Some(clause.span),
        }
    }

    /// Pass 4: resolve fallbacks, report unknown targets and cycles.
    fn fallbacks<'a>(&mut self, _ast: &Ast, mut list: Vec<Checked<'a>>) -> Vec<Checked<'a>> {
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, c) in list.iter().enumerate() {
            index.entry(c.ir.name.clone()).or_insert(i);
        }
        let names: Vec<String> = list.iter().map(|c| c.ir.name.clone()).collect();
        let mut edges: Vec<Option<usize>> = vec![None; list.len()];
        for (i, c) in list.iter_mut().enumerate() {
            let Some(target) = c.fallback else { continue };
            match index.get(&target.value) {
                Some(&t) => {
                    c.ir.next = ir::Next::Fallback {
                        strategy: ir::StrategyId(t),
                        span: c.fallback_span,
                    };
                    if let Some(e) = edges.get_mut(i) {
                        *e = Some(t);
                    }
                }
                None => {
                    let suggestion =
                        self.suggest(&target.value, || names.iter().map(String::as_str).collect());
                    self.push(diag::unknown_strategy(
                        target.span,
                        &target.value,
                        suggestion.as_deref(),
                    ));
                }
            }
        }
        // Each strategy has at most one fallback: follow the chain from every node. Each
        // node's place on the current path is noted, so a long chain is walked once.
        let mut done = vec![false; list.len()];
        let mut on_path: Vec<Option<usize>> = vec![None; list.len()];
        for start in 0..list.len() {
            let mut path: Vec<usize> = Vec::new();
            let mut node = start;
            loop {
                if done.get(node).copied().unwrap_or(true) {
                    break;
                }
                if let Some(pos) = on_path.get(node).copied().flatten() {
                    let cycle: Vec<usize> =
                        path.get(pos..).map(<[usize]>::to_vec).unwrap_or_default();
                    // Report at the earliest strategy of the cycle, in file order.
                    let first_pos = cycle
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, &n)| n)
                        .map_or(0, |(i, _)| i);
                    let mut rotated = cycle.clone();
                    rotated.rotate_left(first_pos);
                    let labelled: Vec<(String, Span)> = rotated
                        .iter()
                        .filter_map(|&n| list.get(n).map(|c| (c.ir.name.clone(), c.fallback_span)))
                        .collect();
                    if let Some((_, span)) = labelled.first() {
                        let d = diag::fallback_cycle(*span, &labelled);
                        self.push(d);
                    }
                    break;
                }
                if let Some(p) = on_path.get_mut(node) {
                    *p = Some(path.len());
                }
                path.push(node);
                match edges.get(node).copied().flatten() {
                    Some(next) => node = next,
                    None => break,
                }
            }
            for p in path {
                if let Some(d) = done.get_mut(p) {
                    *d = true;
                }
                if let Some(p) = on_path.get_mut(p) {
                    *p = None;
                }
            }
        }
        list
    }
}

fn script_type(t: ast::TypeName) -> Type {
    match t {
        ast::TypeName::Number => Type::Number(Unit::None),
        ast::TypeName::Bool => Type::Bool,
        ast::TypeName::String => Type::Str,
        ast::TypeName::Money => Type::Number(Unit::Money),
        ast::TypeName::Km => Type::Number(Unit::Km),
        ast::TypeName::Days => Type::Number(Unit::Days),
        ast::TypeName::Kg => Type::Number(Unit::Kg),
        ast::TypeName::Percent => Type::Number(Unit::Percent),
    }
}

/// Collapses runs of whitespace into one space.
fn squash_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
