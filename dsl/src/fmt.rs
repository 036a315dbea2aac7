//! AST → canonical text.
//!
//! In: a parsed [`Ast`] (with its source, for comment positions). Out: the canonical text:
//! one declaration or clause per line, two-space indentation, single spaces around operators,
//! one blank line around strategies and scripts, other blank lines kept (at most one in a
//! row). Every comment is kept after the token it followed: a comment between two
//! declarations or clauses goes on its own line before the next one, indented like it; a
//! comment inside one ends the line after its token (two spaces before `#`), and the code
//! goes on in a continuation line indented four more spaces. A script's header line is canonical; its code (from the
//! end of the header line to the closing `}`) is kept verbatim, trailing spaces included,
//! since rhai strings may span lines. A file whose first line ends in CRLF is written with
//! CRLF line ends throughout; any other with LF.
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
    let mut e = Emitter::new(&ast.source.text, line_starts, &ast.comments);
    let mut prev_block = false;
    for (i, item) in ast.items.iter().enumerate() {
        let block = matches!(item, Item::Strategy(_) | Item::Script(_));
        let force_blank = i > 0 && (block || prev_block);
        prev_block = block;
        match item {
            Item::Const(c) => e.anchor(c.span, 0, 0, force_blank, |e| {
                e.word("const", c.span.start);
                e.ident(&c.name);
                e.fixed("=");
                match &c.value {
                    ConstValue::Bool(b, span) => e.node(&b.to_string(), *span),
                    ConstValue::Number { negative, quantity } => {
                        if *negative {
                            e.fixed("-");
                            e.glue = true;
                        }
                        e.node(&quantity_text(quantity), quantity.span);
                    }
                }
            }),
            Item::Group(g) => e.anchor(g.span, 0, 0, force_blank, |e| {
                e.word("group", g.span.start);
                e.ident(&g.name);
                e.fixed("=");
                e.sets(&g.sets);
            }),
            Item::Script(s) => e.anchor(s.span, 0, 0, force_blank, |e| {
                e.word("script", s.span.start);
                e.ident(&s.name);
                e.punct("(");
                e.glue = true;
                e.comma_list(&s.params, |e, p| {
                    e.ident(&p.name);
                    e.punct(":");
                    e.node(p.ty.as_str(), p.ty_span);
                });
                e.punct(")");
                e.fixed("->");
                e.node(s.ret.as_str(), s.ret_span);
                // The code is rhai, kept byte for byte; `#` in it is not a comment.
                e.fixed("{");
                e.raw(&s.code, s.code_span);
                e.raw("}", s.span);
            }),
            Item::Strategy(s) => {
                // The header runs to its `{`: a comment after the name or after the `{`
                // ends the header line.
                let brace = next_token(e.text, s.name.span.end);
                let head = Span::new(s.span.start, (brace + 1).min(s.span.end.max(brace)));
                e.anchor(head, 0, 0, force_blank, |e| {
                    e.word("strategy", s.span.start);
                    e.string(&s.name);
                    e.raw(" {", head);
                });
                e.at_block_start = true;
                for c in &s.clauses {
                    e.anchor(c.span, 2, 2, false, |e| e.clause(c));
                }
                e.at_block_start = true;
                e.close(s.close_span, 2);
            }
        }
        e.at_block_start = false;
    }
    e.finish();
    // A file written with CRLF line ends keeps them (the script code included).
    let text = &ast.source.text;
    let crlf = text
        .find('\n')
        .is_some_and(|i| text.get(..i).is_some_and(|line| line.ends_with('\r')));
    if crlf {
        e.out.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        e.out
    }
}

/// An expression, printed as parsed (no comments): for messages that quote one.
pub(crate) fn expr_text(x: &Expr) -> String {
    let mut e = Emitter::new("", vec![0], &[]);
    e.expr(x);
    e.line
}

/// Writes the canonical text. Code is written token by token, each with the source offset it
/// came from, so that a comment is written right after the token it followed in the source:
/// at the end of that line, the code going on on the next line.
struct Emitter<'a> {
    text: &'a str,
    /// Byte offsets where lines start, for `line_of`.
    line_starts: Vec<usize>,
    comments: &'a [Comment],
    /// The first comment not yet written.
    next: usize,
    out: String,
    /// Where the last written code or comment ended in the source.
    last_end: usize,
    at_block_start: bool,
    /// The item or clause being written (it may span lines when comments break it).
    line: String,
    /// How lines that continue an item or clause are indented.
    cont: usize,
    /// Where in the source the next token is looked for.
    pos: usize,
    /// A comment ended the line: the next token starts a continuation line.
    broken: bool,
    /// No space before the next token (after `(`, `[`, unary `-`).
    glue: bool,
}

impl<'a> Emitter<'a> {
    fn new(text: &'a str, line_starts: Vec<usize>, comments: &'a [Comment]) -> Self {
        Emitter {
            text,
            line_starts,
            comments,
            next: 0,
            out: String::new(),
            last_end: 0,
            at_block_start: true,
            line: String::new(),
            cont: 0,
            pos: 0,
            broken: false,
            glue: false,
        }
    }

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

    /// An item or clause covering `span`, written by `body`, with the comments before it on
    /// their own lines, those inside it after their tokens, and one after it on its line.
    fn anchor(
        &mut self,
        span: Span,
        indent: usize,
        comment_indent: usize,
        force_blank: bool,
        body: impl FnOnce(&mut Self),
    ) {
        let mut force = force_blank;
        self.leading(span.start, comment_indent, &mut force);
        let blank =
            !self.at_block_start && (force || self.blank_between(self.last_end, span.start));
        self.at_block_start = false;
        self.line.clear();
        self.cont = indent + 4;
        self.pos = span.start;
        self.broken = false;
        self.glue = false;
        body(self);
        // Anything left inside the span (nothing, as spans end at their last token).
        self.comments_before(span.end);
        let mut end = span.end.max(self.last_end);
        if let Some(c) = self.comments.get(self.next) {
            let same_line =
                c.span.start >= span.end && self.line_of(c.span.start) == self.line_of(span.end);
            if same_line && !self.broken {
                self.line.push_str("  ");
                self.line.push_str(&c.text);
                end = end.max(c.span.end);
                self.next += 1;
            }
        }
        let line = std::mem::take(&mut self.line);
        self.push_line(indent, &line, blank);
        self.last_end = end;
    }

    /// Writes the comments that start before `at` after the code written so far: the first
    /// at the end of the current line, the others each on a line of their own.
    fn comments_before(&mut self, at: usize) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= at {
                break;
            }
            if self.broken {
                self.continuation();
            } else {
                let kept = self.line.trim_end().len();
                self.line.truncate(kept);
                self.line.push_str("  ");
            }
            self.line.push_str(&c.text);
            self.broken = true;
            self.last_end = c.span.end;
            self.next += 1;
        }
    }

    /// Starts a continuation line of the item or clause being written.
    fn continuation(&mut self) {
        self.line.push('\n');
        self.line.extend(std::iter::repeat_n(' ', self.cont));
        self.broken = false;
    }

    /// Writes `text`, the token found at `at` in the source, after the comments before it.
    fn token(&mut self, text: &str, at: usize, space: bool) {
        self.comments_before(at);
        if self.broken {
            self.continuation();
        } else if space && !self.glue && !self.line.is_empty() {
            self.line.push(' ');
        }
        self.glue = false;
        self.line.push_str(text);
    }

    /// A token of the tree (a name, a literal) with its span.
    fn node(&mut self, text: &str, span: Span) {
        self.token(text, span.start, true);
        self.pos = self.pos.max(span.end);
    }

    fn ident(&mut self, name: &Ident) {
        self.node(&name.name, name.span);
    }

    fn string(&mut self, s: &StrLit) {
        self.node(&quote(&s.value), s.span);
    }

    /// A keyword that starts at `at`.
    fn word(&mut self, text: &str, at: usize) {
        self.token(text, at, true);
        self.pos = token_end(self.text, at);
    }

    /// A fixed token (keyword, operator), preceded by a space; its place in the source is the
    /// next token there. A token the formatter adds (an optional `,` or `then`) has none: it
    /// is written without taking the source's next token.
    fn fixed(&mut self, text: &str) {
        self.fixed_spaced(text, true);
    }

    /// A fixed token without a space before it (`,`, `)`, `:`).
    fn punct(&mut self, text: &str) {
        self.fixed_spaced(text, false);
    }

    fn fixed_spaced(&mut self, text: &str, space: bool) {
        let at = next_token(self.text, self.pos);
        let end = token_end(self.text, at);
        let found = self.text.get(at..end).unwrap_or_default();
        // Plural spellings (`locations`, `dcs`) are written in the singular.
        if found == text || found.strip_suffix('s') == Some(text) {
            self.token(text, at, space);
            self.pos = end;
        } else {
            self.token(text, self.pos, space);
        }
    }

    /// Items separated by `, `.
    fn comma_list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Self, &T)) {
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                self.punct(",");
            }
            each(self, x);
        }
    }

    /// Several fixed words (`all or nothing`, `starts with`).
    fn words(&mut self, text: &str) {
        for w in text.split(' ') {
            self.fixed(w);
        }
    }

    /// Text written as it is, with no comment before it (a script's code).
    fn raw(&mut self, text: &str, span: Span) {
        if self.broken {
            self.continuation();
        }
        self.line.push_str(text);
        self.pos = self.pos.max(span.end);
    }

    /// A closing brace; comments before it stay inside the block.
    fn close(&mut self, span: Span, inner_indent: usize) {
        let mut force = false;
        self.leading(span.start, inner_indent, &mut force);
        self.at_block_start = true;
        self.anchor(span, 0, inner_indent, false, |e| e.word("}", span.start));
    }

    fn finish(&mut self) {
        let mut force = false;
        self.leading(usize::MAX, 0, &mut force);
    }

    fn clause(&mut self, c: &Clause) {
        let start = c.span.start;
        match &c.kind {
            ClauseKind::When(x) => {
                self.word("when", start);
                self.expr(x);
            }
            ClauseKind::Candidates(sets) => {
                self.word("candidates", start);
                self.sets(sets);
            }
            ClauseKind::Prefer(sets) => {
                self.word("prefer", start);
                self.sets(sets);
            }
            ClauseKind::Exclude {
                target,
                target_span,
                cond,
                reason,
            } => {
                self.word("exclude", start);
                self.node(target.as_str(), *target_span);
                self.fixed("when");
                self.expr(cond);
                if let Some(r) = reason {
                    self.fixed("reason");
                    self.string(r);
                }
            }
            ClauseKind::Score(x) => {
                self.word("score", start);
                self.expr(x);
            }
            ClauseKind::Rank(keys) | ClauseKind::Fill(keys) => {
                let word = match &c.kind {
                    ClauseKind::Fill(_) => "fill",
                    _ => "rank",
                };
                self.word(word, start);
                self.fixed("by");
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        self.punct(",");
                        self.fixed("then");
                    }
                    self.expr(&k.expr);
                    match k.desc {
                        None => {}
                        Some(true) => self.fixed("desc"),
                        Some(false) => self.fixed("asc"),
                    }
                }
            }
            ClauseKind::Split { mode, options } => {
                self.word("split", start);
                match mode {
                    SplitMode::None => self.fixed("none"),
                    SplitMode::Allowed => self.fixed("allowed"),
                    SplitMode::AtMost(q) => {
                        self.words("at most");
                        self.node(&q.text, q.span);
                    }
                }
                for o in options {
                    self.punct(",");
                    match o {
                        SplitOption::Penalty(x, _) => {
                            self.fixed("penalty");
                            self.expr(x);
                        }
                        SplitOption::LinesWhole(_) => self.words("lines whole"),
                        SplitOption::LinesMaySplit(_) => self.words("lines may split"),
                    }
                }
            }
            ClauseKind::Fallback(t) => {
                self.word("fallback", start);
                self.string(t);
            }
            ClauseKind::Otherwise(ending) => {
                self.word("otherwise", start);
                self.fixed(match ending {
                    Ending::Backorder => "backorder",
                    Ending::Unsourced => "unsourced",
                });
            }
            ClauseKind::Promise(mode) => {
                self.word("promise", start);
                match mode {
                    PromiseMode::Required => self.fixed("required"),
                    PromiseMode::Ignored => self.fixed("ignored"),
                    PromiseMode::Preferred(penalty) => {
                        self.fixed("preferred");
                        if let Some(p) = penalty {
                            self.punct(",");
                            self.fixed("penalty");
                            self.expr(p);
                        }
                    }
                }
            }
            ClauseKind::AllOrNothing => {
                self.word("all", start);
                self.words("or nothing");
            }
            ClauseKind::ShipComplete => {
                self.word("ship", start);
                self.fixed("complete");
            }
        }
    }

    fn sets(&mut self, sets: &[SetExpr]) {
        self.comma_list(sets, Self::set);
    }

    fn set(&mut self, s: &SetExpr) {
        let base = match &s.base {
            SetBase::All if s.filters.is_empty() => "all",
            SetBase::All => "locations",
            SetBase::Dcs => "dcs",
            SetBase::Stores => "stores",
            SetBase::Dropship => "dropship",
            SetBase::PickupStore => "pickup_store",
            SetBase::Ids(ids) => {
                self.token("[", s.base_span.start, true);
                self.pos = s.base_span.start + 1;
                self.glue = true;
                self.comma_list(ids, Self::string);
                self.punct("]");
                ""
            }
            SetBase::Named(n) => {
                self.ident(n);
                ""
            }
        };
        if !base.is_empty() {
            self.node(base, s.base_span);
        }
        for f in &s.filters {
            match f {
                SetFilter::Tagged(t) => {
                    self.fixed("tagged");
                    self.string(t);
                }
                SetFilter::Country(t) => {
                    self.words("in country");
                    self.string(t);
                }
                SetFilter::Region(t) => {
                    self.words("in region");
                    self.string(t);
                }
                SetFilter::Where(x) => {
                    self.fixed("where");
                    self.expr(x);
                }
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        let start = e.span.start;
        match &e.kind {
            ExprKind::Number(q) => self.node(&quantity_text(q), e.span),
            ExprKind::Str(s) => self.node(&quote(s), e.span),
            ExprKind::Bool(b) => self.node(if *b { "true" } else { "false" }, e.span),
            ExprKind::Date(d) => self.node(&crate::date::format(*d), e.span),
            ExprKind::Path(segs) => {
                let names: Vec<&str> = segs.iter().map(|s| s.name.as_str()).collect();
                self.node(&names.join("."), e.span);
            }
            ExprKind::List(items) => {
                self.word("[", start);
                self.glue = true;
                self.comma_list(items, Self::expr);
                self.punct("]");
            }
            ExprKind::Unary(UnOp::Not, x) => {
                self.word("not", start);
                self.expr(x);
            }
            ExprKind::Unary(UnOp::Neg, x) => {
                self.word("-", start);
                self.glue = true;
                self.expr(x);
            }
            ExprKind::Binary(op, l, r) => {
                self.expr(l);
                self.words(op.as_str());
                self.expr(r);
            }
            ExprKind::Cond {
                style,
                cond,
                then,
                otherwise,
            } => match style {
                CondStyle::Ternary => {
                    self.expr(cond);
                    self.fixed("?");
                    self.expr(then);
                    self.fixed(":");
                    self.expr(otherwise);
                }
                CondStyle::IfThenElse => {
                    self.word("if", start);
                    self.expr(cond);
                    self.fixed("then");
                    self.expr(then);
                    self.fixed("else");
                    self.expr(otherwise);
                }
            },
            ExprKind::Call(name, args) => {
                self.ident(name);
                self.punct("(");
                self.glue = true;
                self.comma_list(args, Self::expr);
                self.punct(")");
            }
            ExprKind::Paren(x) => {
                self.word("(", start);
                self.glue = true;
                self.expr(x);
                self.punct(")");
            }
            ExprKind::Error => self.node("<error>", e.span),
        }
    }
}

/// The first offset at or after `from` that is neither white space nor in a comment.
fn next_token(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = from.min(bytes.len());
    while let Some(&b) = bytes.get(i) {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while bytes.get(i).is_some_and(|&b| b != b'\n') {
                    i += 1;
                }
            }
            _ => break,
        }
    }
    i
}

/// Where the token starting at `at` ends: a word or number, a string, a run of operator
/// characters, or one other character. It never runs into white space or a comment.
fn token_end(text: &str, at: usize) -> usize {
    let Some(rest) = text.get(at..) else {
        return at;
    };
    let mut chars = rest.char_indices();
    let Some((_, first)) = chars.next() else {
        return at;
    };
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let op = |c: char| "=<>!-".contains(c);
    let len = if word(first) {
        rest.find(|c: char| !word(c)).unwrap_or(rest.len())
    } else if first == '"' {
        let mut escaped = false;
        let mut end = rest.len();
        for (i, c) in chars {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' | '\n' => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        end
    } else if op(first) {
        rest.find(|c: char| !op(c)).unwrap_or(rest.len())
    } else {
        first.len_utf8()
    };
    at + len
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
