//! pest pairs → AST.
//!
//! One method per grammar rule. Error alternatives (`bad_*` rules) are reported here with a
//! precise diagnostic and lowered to a best guess, so the rest of the file is still lowered and
//! every mistake is reported. Expressions arrive as a flat sequence of prefix operators,
//! operands and infix operators and are built with a Pratt parser. Two limits keep the trees
//! small enough for the recursive passes after parsing: nesting deeper than [`MAX_NESTING`]
//! levels as a reader counts them (brackets, `not`, unary `-`, conditionals; `S003`), and
//! more than [`MAX_OPERATORS`] binary operators in one expression (`S010`), since a long flat
//! chain `a + b + c + …` is a deep tree too.

use pest::iterators::{Pair, Pairs};

use super::{Rule, MAX_NESTING, MAX_OPERATORS};
use crate::ast::*;
use crate::diagnostics::{self as diag, Diagnostic};

/// Lowers pairs parsed from `text`, which starts at byte `offset` of the file.
pub(crate) struct Lowerer<'t> {
    text: &'t str,
    /// Comment end → comment start (relative to `text`), to trim comments off span ends.
    comment_ends: std::collections::HashMap<usize, usize>,
    offset: usize,
    diags: Vec<Diagnostic>,
    too_deep_reported: bool,
    too_long_reported: bool,
    /// Binary operators of the expression being lowered so far.
    operators: usize,
    /// The whole expression being lowered (where `S010` points).
    top_span: Span,
}

/// An element of the flat operator sequence. Operands are lowered when the Pratt parser takes
/// them, so that they know how many prefix operators enclose them.
enum Tok<'i> {
    Prefix(UnOp, Span),
    Operand(Pair<'i, Rule>),
    Infix(BinOp, Span),
}

impl<'t> Lowerer<'t> {
    pub(crate) fn new(text: &'t str, offset: usize) -> Self {
        Lowerer {
            text,
            comment_ends: std::collections::HashMap::new(),
            offset,
            diags: Vec::new(),
            too_deep_reported: false,
            too_long_reported: false,
            operators: 0,
            top_span: Span::default(),
        }
    }

    pub(crate) fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diags
    }

    /// The span of a pair, without the whitespace and comments pest lets trail at its end
    /// (a rule ending in an optional part keeps the skipped space after its last token).
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let (start, mut end) = (s.start(), s.end());
        let bytes = self.text.as_bytes();
        loop {
            while end > start && bytes.get(end - 1).is_some_and(u8::is_ascii_whitespace) {
                end -= 1;
            }
            match self.comment_ends.get(&end) {
                Some(&c) if c >= start && c < end => end = c,
                _ => break,
            }
        }
        Span::new(start + self.offset, end + self.offset)
    }

    /// The file: items and every comment.
    pub(crate) fn file(&mut self, pairs: Pairs<'_, Rule>) -> (Vec<Item>, Vec<Comment>) {
        let mut comments = Vec::new();
        for p in pairs.clone().flatten() {
            if p.as_rule() == Rule::COMMENT {
                let s = p.as_span();
                self.comment_ends.insert(s.end(), s.start());
                let text = p.as_str().trim_end().to_string();
                let start = s.start() + self.offset;
                comments.push(Comment {
                    span: Span::new(start, start + text.len()),
                    text,
                });
            }
        }
        let mut items = Vec::new();
        for file in pairs {
            for p in kids(file) {
                match p.as_rule() {
                    Rule::const_decl => items.push(Item::Const(self.const_decl(p))),
                    Rule::group_decl => items.push(Item::Group(self.group_decl(p))),
                    Rule::script_decl => items.push(Item::Script(self.script_decl(p))),
                    Rule::strategy => items.push(Item::Strategy(self.strategy(p))),
                    Rule::bad_test_block => {
                        let span = self.span(&p);
                        let head = kids(p).next().map_or(span, |k| self.span(&k));
                        self.diags.push(diag::test_block(head));
                    }
                    _ => {}
                }
            }
        }
        (items, comments)
    }

    fn ident(&self, p: Pair<'_, Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    fn const_decl(&mut self, p: Pair<'_, Rule>) -> ConstDecl {
        let span = self.span(&p);
        let mut name = None;
        let mut value = ConstValue::Bool(false, span);
        for k in kids(p) {
            match k.as_rule() {
                Rule::ident => name = Some(self.ident(k)),
                Rule::const_value => value = self.const_value(k),
                _ => {}
            }
        }
        ConstDecl {
            name: name.unwrap_or_else(|| missing_ident(span)),
            value,
            span,
        }
    }

    fn const_value(&mut self, p: Pair<'_, Rule>) -> ConstValue {
        let span = self.span(&p);
        let mut negative = false;
        for k in kids(p) {
            match k.as_rule() {
                Rule::boolean => return ConstValue::Bool(k.as_str() == "true", span),
                Rule::minus => negative = true,
                Rule::quantity => {
                    return ConstValue::Number {
                        negative,
                        quantity: self.quantity(k),
                    }
                }
                _ => {}
            }
        }
        ConstValue::Bool(false, span)
    }

    fn quantity(&mut self, p: Pair<'_, Rule>) -> Quantity {
        let span = self.span(&p);
        let mut text = String::new();
        let mut value = 0.0;
        let mut unit = None;
        for k in kids(p) {
            match k.as_rule() {
                Rule::number => {
                    text = k.as_str().to_string();
                    value = self.number_value(&k);
                }
                Rule::unit => {
                    unit = Some(match k.as_str() {
                        "km" => UnitLit::Km,
                        "kg" => UnitLit::Kg,
                        "day" | "days" => UnitLit::Days,
                        "%" => UnitLit::Percent,
                        other => UnitLit::Currency(other.to_string()),
                    })
                }
                Rule::bad_unit => {
                    let s = self.span(&k);
                    self.diags.push(diag::unknown_unit(s, k.as_str()));
                }
                _ => {}
            }
        }
        Quantity {
            text,
            value,
            unit,
            span,
        }
    }

    fn number_value(&mut self, p: &Pair<'_, Rule>) -> f64 {
        let cleaned: String = p.as_str().chars().filter(|c| *c != '_').collect();
        match cleaned.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                let s = self.span(p);
                self.diags.push(diag::bad_number(s, p.as_str()));
                0.0
            }
        }
    }

    fn str_lit(&mut self, p: Pair<'_, Rule>) -> StrLit {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::string => {
                let raw = kids(p).next().map(|k| k.as_str()).unwrap_or_default();
                StrLit {
                    value: unescape(raw),
                    span,
                }
            }
            Rule::bad_quote => {
                self.diags.push(diag::single_quotes(span));
                let v = p.as_str().trim_start_matches('\'').trim_end_matches('\'');
                StrLit {
                    value: v.to_string(),
                    span,
                }
            }
            _ => {
                // `bad_string`: not closed on its line.
                self.diags.push(diag::unclosed_string(span));
                StrLit {
                    value: p.as_str().trim_start_matches('"').to_string(),
                    span,
                }
            }
        }
    }

    fn group_decl(&mut self, p: Pair<'_, Rule>) -> GroupDecl {
        let span = self.span(&p);
        let mut name = None;
        let mut sets = Vec::new();
        for k in kids(p) {
            match k.as_rule() {
                Rule::ident => name = Some(self.ident(k)),
                Rule::set_list => sets = self.set_list(k),
                _ => {}
            }
        }
        GroupDecl {
            name: name.unwrap_or_else(|| missing_ident(span)),
            sets,
            span,
        }
    }

    fn script_decl(&mut self, p: Pair<'_, Rule>) -> ScriptDecl {
        let span = self.span(&p);
        let mut name = None;
        let mut params = Vec::new();
        let mut ret = TypeName::Number;
        let mut ret_span = span;
        let mut code = String::new();
        let mut code_span = span;
        for k in kids(p) {
            match k.as_rule() {
                Rule::ident => name = Some(self.ident(k)),
                Rule::params => {
                    for param in kids(k) {
                        if param.as_rule() != Rule::param {
                            continue;
                        }
                        let mut pname = None;
                        let mut ty = TypeName::Number;
                        let mut ty_span = span;
                        for x in kids(param) {
                            match x.as_rule() {
                                Rule::ident => pname = Some(self.ident(x)),
                                Rule::type_name => {
                                    ty_span = self.span(&x);
                                    ty = type_name(x.as_str());
                                }
                                _ => {}
                            }
                        }
                        params.push(Param {
                            name: pname.unwrap_or_else(|| missing_ident(ty_span)),
                            ty,
                            ty_span,
                        });
                    }
                }
                Rule::type_name => {
                    ret_span = self.span(&k);
                    ret = type_name(k.as_str());
                }
                Rule::script_body => {
                    if let Some(t) = kids(k).next() {
                        // Spaces after the `{` that ends the header line belong to the
                        // header, which the formatter writes canonically; the code starts
                        // with the line break.
                        let raw = t.as_str();
                        let rest = raw.trim_start_matches([' ', '\t']);
                        let header_end = rest.starts_with('\n') || rest.starts_with("\r\n");
                        let skip = if header_end {
                            raw.len() - rest.len()
                        } else {
                            0
                        };
                        let s = self.span(&t);
                        code_span = Span::new(s.start + skip, s.end.max(s.start + skip));
                        code = raw.get(skip..).unwrap_or(raw).to_string();
                    }
                }
                _ => {}
            }
        }
        ScriptDecl {
            name: name.unwrap_or_else(|| missing_ident(span)),
            params,
            ret,
            ret_span,
            code,
            code_span,
            span,
        }
    }

    fn strategy(&mut self, p: Pair<'_, Rule>) -> Strategy {
        let span = self.span(&p);
        let mut name = StrLit {
            value: String::new(),
            span,
        };
        let mut clauses = Vec::new();
        let mut close_span = span;
        for k in kids(p) {
            match k.as_rule() {
                Rule::string | Rule::bad_string | Rule::bad_quote => name = self.str_lit(k),
                Rule::rbrace => close_span = self.span(&k),
                Rule::kw_strategy | Rule::lbrace => {}
                _ => {
                    if let Some(c) = self.clause(k) {
                        clauses.push(c);
                    }
                }
            }
        }
        Strategy {
            name,
            clauses,
            span,
            close_span,
        }
    }

    fn clause(&mut self, p: Pair<'_, Rule>) -> Option<Clause> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let parts: Vec<Pair<'_, Rule>> = kids(p).collect();
        let keyword_span = parts.first().map_or(span, |k| self.span(k));
        let kind = match rule {
            Rule::when_clause => ClauseKind::When(self.expr_child(&parts, span)),
            Rule::candidates_clause => ClauseKind::Candidates(self.set_list_child(&parts)),
            Rule::prefer_clause => ClauseKind::Prefer(self.set_list_child(&parts)),
            Rule::score_clause => ClauseKind::Score(self.expr_child(&parts, span)),
            Rule::exclude_clause => {
                let mut target = ExcludeTarget::Location;
                let mut target_span = span;
                let mut reason = None;
                for k in &parts {
                    match k.as_rule() {
                        Rule::exclude_target => {
                            target_span = self.span(k);
                            target = match k.as_str() {
                                "store" | "stores" => ExcludeTarget::Store,
                                "dc" | "dcs" => ExcludeTarget::Dc,
                                "dropship" | "dropships" => ExcludeTarget::Dropship,
                                _ => ExcludeTarget::Location,
                            };
                        }
                        Rule::reason => {
                            if let Some(s) = kids(k.clone()).find(|x| is_str(x.as_rule())) {
                                reason = Some(self.str_lit(s));
                            }
                        }
                        _ => {}
                    }
                }
                let cond = self.expr_child(&parts, span);
                ClauseKind::Exclude {
                    target,
                    target_span,
                    cond,
                    reason,
                }
            }
            Rule::rank_clause | Rule::fill_clause => {
                let fill = rule == Rule::fill_clause;
                let mut keys = Vec::new();
                for k in &parts {
                    if k.as_rule() != Rule::rank_key {
                        continue;
                    }
                    let kspan = self.span(k);
                    let mut desc = None;
                    let mut expr = None;
                    for x in kids(k.clone()) {
                        match x.as_rule() {
                            Rule::expr => expr = Some(self.top_expr(x)),
                            Rule::kw_desc => desc = Some(true),
                            Rule::kw_asc => desc = Some(false),
                            _ => {}
                        }
                    }
                    keys.push(RankKey {
                        expr: expr.unwrap_or_else(|| error_expr(kspan)),
                        desc,
                        span: kspan,
                    });
                }
                if fill {
                    ClauseKind::Fill(keys)
                } else {
                    ClauseKind::Rank(keys)
                }
            }
            Rule::split_clause => {
                let mut mode = SplitMode::Allowed;
                let mut options = Vec::new();
                for k in &parts {
                    let kspan = self.span(k);
                    match k.as_rule() {
                        Rule::split_none => mode = SplitMode::None,
                        Rule::split_allowed => mode = SplitMode::Allowed,
                        Rule::split_at_most => {
                            if let Some(n) = kids(k.clone()).find(|x| x.as_rule() == Rule::number) {
                                let value = self.number_value(&n);
                                mode = SplitMode::AtMost(Quantity {
                                    text: n.as_str().to_string(),
                                    value,
                                    unit: None,
                                    span: self.span(&n),
                                });
                            }
                        }
                        Rule::penalty => {
                            let inner: Vec<Pair<'_, Rule>> = kids(k.clone()).collect();
                            options
                                .push(SplitOption::Penalty(self.expr_child(&inner, kspan), kspan));
                        }
                        Rule::lines_whole => options.push(SplitOption::LinesWhole(kspan)),
                        Rule::lines_may_split => options.push(SplitOption::LinesMaySplit(kspan)),
                        _ => {}
                    }
                }
                ClauseKind::Split { mode, options }
            }
            Rule::fallback_clause => {
                let s = parts
                    .iter()
                    .find(|x| is_str(x.as_rule()))
                    .map(|x| self.str_lit(x.clone()))
                    .unwrap_or(StrLit {
                        value: String::new(),
                        span,
                    });
                ClauseKind::Fallback(s)
            }
            Rule::otherwise_clause => {
                let unsourced = parts.iter().any(|x| x.as_rule() == Rule::kw_unsourced);
                ClauseKind::Otherwise(if unsourced {
                    Ending::Unsourced
                } else {
                    Ending::Backorder
                })
            }
            Rule::promise_clause => {
                let mut mode = PromiseMode::Ignored;
                for k in &parts {
                    match k.as_rule() {
                        Rule::promise_required => mode = PromiseMode::Required,
                        Rule::promise_ignored => mode = PromiseMode::Ignored,
                        Rule::promise_preferred => {
                            let mut pen = None;
                            for x in kids(k.clone()) {
                                if x.as_rule() == Rule::penalty {
                                    let xs = self.span(&x);
                                    let inner: Vec<Pair<'_, Rule>> = kids(x).collect();
                                    pen = Some(self.expr_child(&inner, xs));
                                }
                            }
                            mode = PromiseMode::Preferred(pen);
                        }
                        _ => {}
                    }
                }
                ClauseKind::Promise(mode)
            }
            Rule::all_or_nothing => ClauseKind::AllOrNothing,
            Rule::ship_complete => ClauseKind::ShipComplete,
            _ => return None,
        };
        Some(Clause {
            kind,
            span,
            keyword_span,
        })
    }

    /// The first `expr` child among `parts`.
    fn expr_child(&mut self, parts: &[Pair<'_, Rule>], span: Span) -> Expr {
        match parts.iter().find(|k| k.as_rule() == Rule::expr) {
            Some(e) => self.top_expr(e.clone()),
            None => error_expr(span),
        }
    }

    fn set_list_child(&mut self, parts: &[Pair<'_, Rule>]) -> Vec<SetExpr> {
        match parts.iter().find(|k| k.as_rule() == Rule::set_list) {
            Some(l) => self.set_list(l.clone()),
            None => Vec::new(),
        }
    }

    fn set_list(&mut self, p: Pair<'_, Rule>) -> Vec<SetExpr> {
        kids(p)
            .filter(|k| k.as_rule() == Rule::set_expr)
            .map(|k| self.set_expr(k))
            .collect()
    }

    fn set_expr(&mut self, p: Pair<'_, Rule>) -> SetExpr {
        let span = self.span(&p);
        let mut base = SetBase::All;
        let mut base_span = span;
        let mut filters = Vec::new();
        for k in kids(p) {
            let kspan = self.span(&k);
            match k.as_rule() {
                Rule::set_all => (base, base_span) = (SetBase::All, kspan),
                Rule::set_dcs => (base, base_span) = (SetBase::Dcs, kspan),
                Rule::set_stores => (base, base_span) = (SetBase::Stores, kspan),
                Rule::set_dropship => (base, base_span) = (SetBase::Dropship, kspan),
                Rule::set_pickup => (base, base_span) = (SetBase::PickupStore, kspan),
                Rule::ident => (base, base_span) = (SetBase::Named(self.ident(k)), kspan),
                Rule::id_list => {
                    let ids = kids(k)
                        .filter(|x| is_str(x.as_rule()))
                        .map(|x| self.str_lit(x))
                        .collect();
                    (base, base_span) = (SetBase::Ids(ids), kspan);
                }
                Rule::tagged_filter | Rule::country_filter | Rule::region_filter => {
                    let rule = k.as_rule();
                    let s = kids(k)
                        .find(|x| is_str(x.as_rule()))
                        .map(|x| self.str_lit(x))
                        .unwrap_or(StrLit {
                            value: String::new(),
                            span: kspan,
                        });
                    filters.push(match rule {
                        Rule::tagged_filter => SetFilter::Tagged(s),
                        Rule::country_filter => SetFilter::Country(s),
                        _ => SetFilter::Region(s),
                    });
                }
                Rule::where_filter => {
                    let inner: Vec<Pair<'_, Rule>> = kids(k).collect();
                    filters.push(SetFilter::Where(self.expr_child(&inner, kspan)));
                }
                _ => {}
            }
        }
        SetExpr {
            base,
            base_span,
            filters,
            span,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Expressions. `nest` is the number of levels around the expression being lowered.
    // -----------------------------------------------------------------------------------------

    /// The expression of a clause (or a filter, a penalty, a ranking key).
    fn top_expr(&mut self, p: Pair<'_, Rule>) -> Expr {
        self.operators = 0;
        self.top_span = self.span(&p);
        self.expr(p, 0)
    }

    /// Refuses a level beyond [`MAX_NESTING`]; `span` is the token that opens it.
    fn deep(&mut self, span: Span) -> Expr {
        if !self.too_deep_reported {
            self.too_deep_reported = true;
            self.diags.push(diag::too_deep(span, MAX_NESTING));
        }
        error_expr(span)
    }

    /// `expr = op_expr (? expr : expr)?`. A conditional is one level.
    fn expr(&mut self, p: Pair<'_, Rule>, nest: usize) -> Expr {
        let span = self.span(&p);
        let children: Vec<Pair<'_, Rule>> = kids(p).collect();
        let mut parts: Vec<Pair<'_, Rule>> = children
            .iter()
            .filter(|k| matches!(k.as_rule(), Rule::op_expr | Rule::expr))
            .cloned()
            .collect();
        if parts.len() == 3 {
            let level = nest + 1;
            if level > MAX_NESTING {
                let question = children.iter().find(|k| k.as_rule() == Rule::question);
                let at = question.map_or(span, |q| self.span(q));
                return self.deep(at);
            }
            let otherwise = parts.pop();
            let then = parts.pop();
            let cond = parts.pop();
            if let (Some(c), Some(t), Some(o)) = (cond, then, otherwise) {
                let c = self.op_expr(c, level);
                let t = self.expr(t, level);
                let o = self.expr(o, level);
                return Expr {
                    kind: ExprKind::Cond {
                        style: CondStyle::Ternary,
                        cond: Box::new(c),
                        then: Box::new(t),
                        otherwise: Box::new(o),
                    },
                    span,
                };
            }
            return error_expr(span);
        }
        match parts.pop() {
            Some(op) => self.op_expr(op, nest),
            None => error_expr(span),
        }
    }

    /// The flat operator sequence, built with a Pratt parser. Binary operators add no level.
    fn op_expr(&mut self, p: Pair<'_, Rule>, nest: usize) -> Expr {
        let span = self.span(&p);
        let children: Vec<Pair<'_, Rule>> = kids(p).collect();
        self.operators += children
            .iter()
            .filter(|k| infix_op(k.as_rule()).is_some())
            .count();
        if self.operators > MAX_OPERATORS {
            // Refused before any tree is built: the passes after parsing walk trees
            // recursively, and a chain this long would be a tree this deep.
            if !self.too_long_reported {
                self.too_long_reported = true;
                let at = self.top_span;
                self.diags.push(diag::too_many_operators(at, MAX_OPERATORS));
            }
            return error_expr(span);
        }
        let mut toks: Vec<Option<Tok>> = Vec::with_capacity(children.len());
        for k in children {
            let ks = self.span(&k);
            let rule = k.as_rule();
            let tok = match rule {
                Rule::op_not => Tok::Prefix(UnOp::Not, ks),
                Rule::op_neg => Tok::Prefix(UnOp::Neg, ks),
                Rule::bad_not => {
                    self.diags.push(diag::foreign_operator(ks, "!", "not"));
                    Tok::Prefix(UnOp::Not, ks)
                }
                Rule::bad_and => {
                    self.diags.push(diag::foreign_operator(ks, "&&", "and"));
                    Tok::Infix(BinOp::And, ks)
                }
                Rule::bad_or => {
                    self.diags.push(diag::foreign_operator(ks, "||", "or"));
                    Tok::Infix(BinOp::Or, ks)
                }
                Rule::bad_eq => {
                    self.diags.push(diag::single_equals(ks));
                    Tok::Infix(BinOp::Eq, ks)
                }
                _ => match infix_op(rule) {
                    Some(op) => Tok::Infix(op, ks),
                    None => Tok::Operand(k),
                },
            };
            toks.push(Some(tok));
        }
        let mut pos = 0;
        self.pratt(&mut toks, &mut pos, 0, nest, span)
    }

    /// Precedence climbing over `toks`. It recurses once per prefix operator (a level each,
    /// so at most [`MAX_NESTING`] deep) and once per precedence step; a chain of operators of
    /// one precedence is a loop, however long.
    fn pratt(
        &mut self,
        toks: &mut [Option<Tok<'_>>],
        pos: &mut usize,
        min_bp: u8,
        nest: usize,
        span: Span,
    ) -> Expr {
        let first = toks.get_mut(*pos).and_then(Option::take);
        *pos += 1;
        let mut lhs = match first {
            Some(Tok::Operand(p)) => self.primary(p, nest),
            Some(Tok::Prefix(op, ospan)) => {
                if nest + 1 > MAX_NESTING {
                    *pos = toks.len();
                    return self.deep(ospan);
                }
                let rbp = match op {
                    UnOp::Not => 3,
                    UnOp::Neg => 7,
                };
                let rhs = self.pratt(toks, pos, rbp, nest + 1, span);
                let espan = ospan.to(rhs.span);
                Expr {
                    kind: ExprKind::Unary(op, Box::new(rhs)),
                    span: espan,
                }
            }
            // The grammar never starts or continues with an infix operator here.
            Some(Tok::Infix(_, s)) => error_expr(s),
            None => error_expr(span),
        };
        let mut last_was_comparison = false;
        while let Some(Some(Tok::Infix(op, ospan))) = toks.get(*pos) {
            let (op, ospan) = (*op, *ospan);
            let prec = op.precedence();
            if prec < min_bp {
                break;
            }
            *pos += 1;
            if op.is_comparison() && last_was_comparison {
                self.diags.push(diag::chained_comparison(ospan));
            }
            last_was_comparison = op.is_comparison();
            let rhs = self.pratt(toks, pos, prec + 1, nest, span);
            let espan = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                span: espan,
            };
        }
        lhs
    }

    /// An operand. Brackets (`( )`, lists, calls) and `if … then … else` are a level each.
    fn primary(&mut self, p: Pair<'_, Rule>, nest: usize) -> Expr {
        let span = self.span(&p);
        let rule = p.as_rule();
        if matches!(rule, Rule::paren | Rule::if_expr | Rule::list | Rule::call)
            && nest + 1 > MAX_NESTING
        {
            let opening = kids(p)
                .find(|k| matches!(k.as_rule(), Rule::lparen | Rule::lbracket | Rule::kw_if));
            let at = opening.map_or(span, |k| self.span(&k));
            return self.deep(at);
        }
        let level = nest + 1;
        match rule {
            Rule::quantity => Expr {
                kind: ExprKind::Number(self.quantity(p)),
                span,
            },
            Rule::string | Rule::bad_string | Rule::bad_quote => {
                let s = self.str_lit(p);
                Expr {
                    kind: ExprKind::Str(s.value),
                    span,
                }
            }
            Rule::boolean => Expr {
                kind: ExprKind::Bool(p.as_str() == "true"),
                span,
            },
            Rule::date => match crate::date::parse(p.as_str()) {
                Ok(days) => Expr {
                    kind: ExprKind::Date(days),
                    span,
                },
                Err(why) => {
                    self.diags.push(diag::bad_date(span, p.as_str(), &why));
                    error_expr(span)
                }
            },
            Rule::path => {
                let segs = kids(p)
                    .map(|k| Ident {
                        name: k.as_str().to_string(),
                        span: self.span(&k),
                    })
                    .collect();
                Expr {
                    kind: ExprKind::Path(segs),
                    span,
                }
            }
            Rule::paren => match kids(p).find(|k| k.as_rule() == Rule::expr) {
                Some(e) => {
                    let e = self.expr(e, level);
                    Expr {
                        kind: ExprKind::Paren(Box::new(e)),
                        span,
                    }
                }
                None => error_expr(span),
            },
            Rule::if_expr => {
                let mut es = Vec::new();
                for k in kids(p).filter(|k| k.as_rule() == Rule::expr) {
                    es.push(self.expr(k, level));
                }
                let otherwise = es.pop();
                let then = es.pop();
                let cond = es.pop();
                match (cond, then, otherwise) {
                    (Some(c), Some(t), Some(o)) => Expr {
                        kind: ExprKind::Cond {
                            style: CondStyle::IfThenElse,
                            cond: Box::new(c),
                            then: Box::new(t),
                            otherwise: Box::new(o),
                        },
                        span,
                    },
                    _ => error_expr(span),
                }
            }
            Rule::list | Rule::call => {
                let mut name = None;
                let mut es = Vec::new();
                for k in kids(p) {
                    match k.as_rule() {
                        Rule::ident => name = Some(self.ident(k)),
                        Rule::expr => es.push(self.expr(k, level)),
                        _ => {}
                    }
                }
                let kind = match (rule, name) {
                    (Rule::call, Some(n)) => ExprKind::Call(n, es),
                    _ => ExprKind::List(es),
                };
                Expr { kind, span }
            }
            _ => error_expr(span),
        }
    }
}

/// The binary operator a token rule stands for (error alternatives excluded).
fn infix_op(rule: Rule) -> Option<BinOp> {
    Some(match rule {
        Rule::op_or | Rule::bad_or => BinOp::Or,
        Rule::op_and | Rule::bad_and => BinOp::And,
        Rule::op_eq | Rule::bad_eq => BinOp::Eq,
        Rule::op_ne => BinOp::Ne,
        Rule::op_lt => BinOp::Lt,
        Rule::op_le => BinOp::Le,
        Rule::op_gt => BinOp::Gt,
        Rule::op_ge => BinOp::Ge,
        Rule::op_in => BinOp::In,
        Rule::op_has => BinOp::Has,
        Rule::op_starts_with => BinOp::StartsWith,
        Rule::op_add => BinOp::Add,
        Rule::op_sub => BinOp::Sub,
        Rule::op_mul => BinOp::Mul,
        Rule::op_div => BinOp::Div,
        _ => return None,
    })
}

/// Children of a pair, without comments.
fn kids<'i>(p: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    p.into_inner().filter(|k| k.as_rule() != Rule::COMMENT)
}

fn is_str(rule: Rule) -> bool {
    matches!(rule, Rule::string | Rule::bad_string | Rule::bad_quote)
}

fn error_expr(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Error,
        span,
    }
}

fn missing_ident(span: Span) -> Ident {
    Ident {
        name: String::new(),
        span,
    }
}

fn type_name(s: &str) -> TypeName {
    match s {
        "bool" => TypeName::Bool,
        "string" => TypeName::String,
        "money" => TypeName::Money,
        "km" => TypeName::Km,
        "days" => TypeName::Days,
        "kg" => TypeName::Kg,
        "percent" => TypeName::Percent,
        _ => TypeName::Number,
    }
}

/// Resolves `\"`, `\\`, `\n`, `\t`; any other escaped character stands for itself.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}
