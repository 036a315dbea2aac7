//! AST → canonical text.
//!
//! In: a parsed [`Ast`] (with its source, for comment positions). Out: the canonical text:
//! one declaration or clause per line, two-space indentation, single spaces around operators,
//! one blank line around strategies and scripts, other blank lines kept (at most one in a
//! row). Every comment is kept: a comment on the same line as code stays at the end of that
//! line (two spaces before `#`); any other comment goes on its own line before the next
//! line of code, indented like it. A script's header line is canonical; its code (from the
//! end of the header line to the closing `}`) is kept verbatim, trailing spaces included,
//! since rhai strings may span lines.
//!
//! Invariants (tested over the corpus): formatting is idempotent, and
//! `parse(format(x)) == parse(x)`.

use crate::ast::*;
use crate::source::Span;

/// Formats a parsed rule file.
pub(crate) fn format_ast(ast: &Ast) -> String {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(ast.source.text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut e = Emitter {
        text: &ast.source.text,
        line_starts,
        comments: &ast.comments,
        next: 0,
        out: String::new(),
        last_end: 0,
        at_block_start: true,
    };
    let mut prev_block = false;
    for (i, item) in ast.items.iter().enumerate() {
        let block = matches!(item, Item::Strategy(_) | Item::Script(_));
        let force_blank = i > 0 && (block || prev_block);
        prev_block = block;
        match item {
            Item::Const(c) => {
                let value = match &c.value {
                    ConstValue::Bool(b, _) => b.to_string(),
                    ConstValue::Number { negative, quantity } => {
                        format!(
                            "{}{}",
                            if *negative { "-" } else { "" },
                            quantity_text(quantity)
                        )
                    }
                };
                e.anchor(
                    c.span,
                    0,
                    0,
                    &format!("const {} = {value}", c.name.name),
                    force_blank,
                );
            }
            Item::Group(g) => {
                let text = format!("group {} = {}", g.name.name, sets_text(&g.sets));
                e.anchor(g.span, 0, 0, &text, force_blank);
            }
            Item::Script(s) => {
                let params: Vec<String> = s
                    .params
                    .iter()
                    .map(|p| format!("{}: {}", p.name.name, p.ty.as_str()))
                    .collect();
                let text = format!(
                    "script {}({}) -> {} {{{}}}",
                    s.name.name,
                    params.join(", "),
                    s.ret.as_str(),
                    s.code
                );
                e.anchor(s.span, 0, 0, &text, force_blank);
            }
            Item::Strategy(s) => {
                let head_end = s.name.span.end;
                let head = Span::new(s.span.start, head_end);
                e.anchor(
                    head,
                    0,
                    0,
                    &format!("strategy {} {{", quote(&s.name.value)),
                    force_blank,
                );
                e.at_block_start = true;
                for c in &s.clauses {
                    e.anchor(c.span, 2, 2, &clause_text(&c.kind), false);
                }
                e.at_block_start = true;
                e.close(s.close_span, 2);
            }
        }
        e.at_block_start = false;
    }
    e.finish();
    e.out
}

struct Emitter<'a> {
    text: &'a str,
    /// Byte offsets where lines start, for `line_of`.
    line_starts: Vec<usize>,
    comments: &'a [Comment],
    next: usize,
    out: String,
    last_end: usize,
    at_block_start: bool,
}

impl Emitter<'_> {
    /// Whether the source between `from` and `to` holds an empty line.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        let gap = self.text.get(from.min(to)..to).unwrap_or_default();
        gap.matches('\n').count() >= 2
    }

    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    fn push_line(&mut self, indent: usize, text: &str, blank: bool) {
        if blank && !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
        for _ in 0..indent {
            self.out.push(' ');
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Comments that start before `before`, each on its own line.
    fn leading(&mut self, before: usize, indent: usize, force_blank: &mut bool) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= before {
                break;
            }
            let blank = !self.at_block_start
                && (*force_blank || self.blank_between(self.last_end, c.span.start));
            *force_blank = false;
            self.at_block_start = false;
            let text = c.text.clone();
            self.push_line(indent, &text, blank);
            self.last_end = c.span.end;
            self.next += 1;
        }
    }

    /// One line of code covering `span`, with its leading and trailing comments.
    fn anchor(
        &mut self,
        span: Span,
        indent: usize,
        comment_indent: usize,
        text: &str,
        force_blank: bool,
    ) {
        let mut force = force_blank;
        self.leading(span.start, comment_indent, &mut force);
        let blank =
            !self.at_block_start && (force || self.blank_between(self.last_end, span.start));
        self.at_block_start = false;
        let mut line = text.to_string();
        let mut end = span.end;
        if let Some(c) = self.comments.get(self.next) {
            let inside = c.span.start >= span.start && c.span.start < span.end;
            let same_line =
                c.span.start >= span.end && self.line_of(c.span.start) == self.line_of(span.end);
            if inside || same_line {
                line.push_str("  ");
                line.push_str(&c.text);
                end = end.max(c.span.end);
                self.next += 1;
            }
        }
        self.push_line(indent, &line, blank);
        self.last_end = end;
    }

    /// A closing brace; comments before it stay inside the block.
    fn close(&mut self, span: Span, inner_indent: usize) {
        let mut force = false;
        self.leading(span.start, inner_indent, &mut force);
        self.at_block_start = true;
        self.anchor(span, 0, inner_indent, "}", false);
    }

    fn finish(&mut self) {
        let mut force = false;
        self.leading(usize::MAX, 0, &mut force);
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn quantity_text(q: &Quantity) -> String {
    match &q.unit {
        None => q.text.clone(),
        Some(UnitLit::Km) => format!("{} km", q.text),
        Some(UnitLit::Kg) => format!("{} kg", q.text),
        Some(UnitLit::Days) if q.text == "1" => format!("{} day", q.text),
        Some(UnitLit::Days) => format!("{} days", q.text),
        Some(UnitLit::Percent) => format!("{} %", q.text),
        Some(UnitLit::Currency(c)) => format!("{} {c}", q.text),
    }
}

fn sets_text(sets: &[SetExpr]) -> String {
    sets.iter().map(set_text).collect::<Vec<_>>().join(", ")
}

fn set_text(s: &SetExpr) -> String {
    let mut out = match &s.base {
        SetBase::All if s.filters.is_empty() => "all".to_string(),
        SetBase::All => "locations".to_string(),
        SetBase::Dcs => "dcs".to_string(),
        SetBase::Stores => "stores".to_string(),
        SetBase::Dropship => "dropship".to_string(),
        SetBase::PickupStore => "pickup_store".to_string(),
        SetBase::Ids(ids) => format!(
            "[{}]",
            ids.iter()
                .map(|i| quote(&i.value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        SetBase::Named(n) => n.name.clone(),
    };
    for f in &s.filters {
        match f {
            SetFilter::Tagged(t) => out.push_str(&format!(" tagged {}", quote(&t.value))),
            SetFilter::Country(t) => out.push_str(&format!(" in country {}", quote(&t.value))),
            SetFilter::Region(t) => out.push_str(&format!(" in region {}", quote(&t.value))),
            SetFilter::Where(e) => out.push_str(&format!(" where {}", expr_text(e))),
        }
    }
    out
}

fn clause_text(c: &ClauseKind) -> String {
    match c {
        ClauseKind::When(e) => format!("when {}", expr_text(e)),
        ClauseKind::Candidates(sets) => format!("candidates {}", sets_text(sets)),
        ClauseKind::Prefer(sets) => format!("prefer {}", sets_text(sets)),
        ClauseKind::Exclude {
            target,
            cond,
            reason,
            ..
        } => {
            let mut s = format!("exclude {} when {}", target.as_str(), expr_text(cond));
            if let Some(r) = reason {
                s.push_str(&format!(" reason {}", quote(&r.value)));
            }
            s
        }
        ClauseKind::Score(e) => format!("score {}", expr_text(e)),
        ClauseKind::Rank(keys) => {
            let keys: Vec<String> = keys
                .iter()
                .map(|k| match k.desc {
                    None => expr_text(&k.expr),
                    Some(true) => format!("{} desc", expr_text(&k.expr)),
                    Some(false) => format!("{} asc", expr_text(&k.expr)),
                })
                .collect();
            format!("rank by {}", keys.join(", then "))
        }
        ClauseKind::Split { mode, options } => {
            let mut s = match mode {
                SplitMode::None => "split none".to_string(),
                SplitMode::Allowed => "split allowed".to_string(),
                SplitMode::AtMost(q) => format!("split at most {}", q.text),
            };
            for o in options {
                match o {
                    SplitOption::Penalty(e, _) => {
                        s.push_str(&format!(", penalty {}", expr_text(e)))
                    }
                    SplitOption::LinesWhole(_) => s.push_str(", lines whole"),
                    SplitOption::LinesMaySplit(_) => s.push_str(", lines may split"),
                }
            }
            s
        }
        ClauseKind::Fallback(t) => format!("fallback {}", quote(&t.value)),
        ClauseKind::Otherwise(Ending::Backorder) => "otherwise backorder".to_string(),
        ClauseKind::Otherwise(Ending::Unsourced) => "otherwise unsourced".to_string(),
        ClauseKind::Promise(PromiseMode::Required) => "promise required".to_string(),
        ClauseKind::Promise(PromiseMode::Ignored) => "promise ignored".to_string(),
        ClauseKind::Promise(PromiseMode::Preferred(None)) => "promise preferred".to_string(),
        ClauseKind::Promise(PromiseMode::Preferred(Some(p))) => {
            format!("promise preferred, penalty {}", expr_text(p))
        }
        ClauseKind::AllOrNothing => "all or nothing".to_string(),
        ClauseKind::ShipComplete => "ship complete".to_string(),
    }
}

/// An expression, printed as parsed: the AST keeps the analyst's parentheses, and the parser
/// only builds trees whose plain printing parses back to the same tree.
pub(crate) fn expr_text(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(e, &mut out);
    out
}

fn write_expr(e: &Expr, out: &mut String) {
    match &e.kind {
        ExprKind::Number(q) => out.push_str(&quantity_text(q)),
        ExprKind::Str(s) => out.push_str(&quote(s)),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::List(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(x, out);
            }
            out.push(']');
        }
        ExprKind::Path(segs) => {
            let names: Vec<&str> = segs.iter().map(|s| s.name.as_str()).collect();
            out.push_str(&names.join("."));
        }
        ExprKind::Unary(UnOp::Not, x) => {
            out.push_str("not ");
            write_expr(x, out);
        }
        ExprKind::Unary(UnOp::Neg, x) => {
            out.push('-');
            write_expr(x, out);
        }
        ExprKind::Binary(op, l, r) => {
            write_expr(l, out);
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            write_expr(r, out);
        }
        ExprKind::Cond {
            style,
            cond,
            then,
            otherwise,
        } => match style {
            CondStyle::Ternary => {
                write_expr(cond, out);
                out.push_str(" ? ");
                write_expr(then, out);
                out.push_str(" : ");
                write_expr(otherwise, out);
            }
            CondStyle::IfThenElse => {
                out.push_str("if ");
                write_expr(cond, out);
                out.push_str(" then ");
                write_expr(then, out);
                out.push_str(" else ");
                write_expr(otherwise, out);
            }
        },
        ExprKind::Call(name, args) => {
            out.push_str(&name.name);
            out.push('(');
            for (i, x) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(x, out);
            }
            out.push(')');
        }
        ExprKind::Paren(x) => {
            out.push('(');
            write_expr(x, out);
            out.push(')');
        }
        ExprKind::Error => out.push_str("<error>"),
    }
}
