//! A cheap scan of the text before pest parses it.
//!
//! In: the text of a rule file (or of one item, during recovery). Out: the first place where
//! brackets and conditionals nest more than [`MAX_NESTING`] levels deep, if any, and where the
//! script bodies are. It follows the tokens that make pest recurse: brackets `(` `[`, braces
//! inside script bodies, and conditionals (`c ? a : b`, `if c then a else b`), so that a
//! deeply nested file gets `S003` instead of pest's stack guard (`S010`).
//!
//! The count is what a reader sees: one level per bracket and per nested conditional. It never
//! counts more than the lowering does (which also counts `not` and unary `-`), so the scan
//! only reports what the lowering would also report. The braces of a strategy and the braces
//! around a script's code are not levels (a strategy is not nested in anything); braces inside
//! a script's code are. Binary operators are no levels at all: `a + b + c` is flat.

use super::MAX_NESTING;
use crate::source::Span;

/// What the scan found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The opening token of the first level beyond [`MAX_NESTING`].
    pub too_deep: Option<Span>,
    /// Script bodies: the offset of the opening `{` and of the closing `}` (`None`: the body
    /// is not closed before the end of the text).
    pub script_bodies: Vec<(usize, Option<usize>)>,
}

/// An open conditional, by the part of it the scan is in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    /// `if` seen, before `then`.
    IfCondition,
    /// `then` seen, before `else`.
    IfThen,
    /// `else` seen: the rest of the expression is the else branch.
    IfElse,
    /// `?` seen, before `:`.
    TernaryThen,
    /// `:` seen: the rest of the expression is the else branch.
    TernaryElse,
}

/// Reserved words that cannot be part of an expression: an expression (and everything open
/// in it) ends before them.
const ENDS_EXPRESSION: &[&str] = &[
    "where",
    "tagged",
    "desc",
    "asc",
    "when",
    "candidates",
    "exclude",
    "prefer",
    "rank",
    "split",
    "fallback",
    "otherwise",
    "promise",
    "reason",
    "strategy",
    "const",
    "group",
    "script",
];

struct Scanner<'t> {
    bytes: &'t [u8],
    i: usize,
    /// The conditionals open outside any bracket.
    outer: Vec<Part>,
    /// One entry per open bracket, with the conditionals open inside it.
    frames: Vec<Vec<Part>>,
    /// Open brackets plus open conditionals.
    depth: usize,
    /// `script` seen: the next `{` opens a script body.
    script_pending: bool,
    /// The last token ended an operand (a name, a number, a string, `)`, `]`), so a word
    /// after it cannot be an operand: `score` there starts a clause.
    after_operand: bool,
    out: Scan,
}

/// Scans `text`; see the module documentation.
pub(crate) fn scan(text: &str) -> Scan {
    let mut s = Scanner {
        bytes: text.as_bytes(),
        i: 0,
        outer: Vec::new(),
        frames: Vec::new(),
        depth: 0,
        script_pending: false,
        after_operand: false,
        out: Scan::default(),
    };
    s.run();
    s.out
}

impl Scanner<'_> {
    fn at(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    /// Counts one more level opened by the token at `start..end`; false when it is too many.
    fn open_level(&mut self, start: usize, end: usize) -> bool {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            self.out.too_deep = Some(Span::new(start, end));
            return false;
        }
        true
    }

    /// Everything open ends: a brace, a clause keyword or a declaration keyword cannot be
    /// inside an expression.
    fn reset(&mut self) {
        self.outer.clear();
        self.frames.clear();
        self.depth = 0;
    }

    fn conds(&mut self) -> &mut Vec<Part> {
        match self.frames.last_mut() {
            Some(inner) => inner,
            None => &mut self.outer,
        }
    }

    /// Closes the conditionals of the innermost bracket until one in state `from` is found,
    /// which moves on to state `to`. Returns whether one was found; if not, nothing changes.
    fn advance_cond(&mut self, from: Part, to: Part) -> bool {
        let conds = self.conds();
        let Some(pos) = conds.iter().rposition(|c| *c == from) else {
            return false;
        };
        let closed = conds.len() - pos - 1;
        conds.truncate(pos + 1);
        if let Some(c) = conds.last_mut() {
            *c = to;
        }
        self.depth = self.depth.saturating_sub(closed);
        true
    }

    /// Closes every conditional of the innermost bracket (the expression ended).
    fn end_expression(&mut self) {
        let conds = self.conds();
        let closed = conds.len();
        conds.clear();
        self.depth = self.depth.saturating_sub(closed);
    }

    fn run(&mut self) {
        while let Some(b) = self.at(self.i) {
            let start = self.i;
            match b {
                b'#' => self.skip_line(),
                b'"' => {
                    self.skip_rule_string();
                    self.after_operand = true;
                }
                b'\'' => {
                    self.skip_single_quoted();
                    self.after_operand = true;
                }
                b'(' | b'[' => {
                    if !self.open_level(start, start + 1) {
                        return;
                    }
                    self.frames.push(Vec::new());
                    self.after_operand = false;
                    self.i += 1;
                }
                b')' | b']' => {
                    if let Some(inner) = self.frames.pop() {
                        self.depth = self.depth.saturating_sub(inner.len() + 1);
                    }
                    self.after_operand = true;
                    self.i += 1;
                }
                b'{' => {
                    self.reset();
                    self.after_operand = false;
                    self.i += 1;
                    if std::mem::take(&mut self.script_pending) && !self.script_body(start) {
                        return;
                    }
                }
                b'}' => {
                    self.reset();
                    self.script_pending = false;
                    self.after_operand = false;
                    self.i += 1;
                }
                b'?' => {
                    if !self.open_level(start, start + 1) {
                        return;
                    }
                    self.conds().push(Part::TernaryThen);
                    self.after_operand = false;
                    self.i += 1;
                }
                b':' => {
                    self.advance_cond(Part::TernaryThen, Part::TernaryElse);
                    self.after_operand = false;
                    self.i += 1;
                }
                b',' => {
                    self.end_expression();
                    self.after_operand = false;
                    self.i += 1;
                }
                b'0'..=b'9' => {
                    // A number: digits, `_` and a decimal part; letters after it are a unit.
                    while self
                        .at(self.i)
                        .is_some_and(|c| c.is_ascii_digit() || c == b'_' || c == b'.')
                    {
                        self.i += 1;
                    }
                    self.after_operand = true;
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    while self
                        .at(self.i)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                    {
                        self.i += 1;
                    }
                    // A segment after a dot is a field name, never a keyword.
                    let field = start > 0 && self.at(start - 1) == Some(b'.');
                    if field {
                        self.after_operand = true;
                    } else if !self.word(start) {
                        return;
                    }
                }
                c => {
                    if !c.is_ascii_whitespace() {
                        self.after_operand = false;
                    }
                    self.i += 1;
                }
            }
        }
    }

    /// A word at `start..self.i`; false when it opens a level too many.
    fn word(&mut self, start: usize) -> bool {
        let word = self.bytes.get(start..self.i).unwrap_or_default();
        let after_operand = std::mem::replace(&mut self.after_operand, false);
        match word {
            b"if" => {
                if !self.open_level(start, self.i) {
                    return false;
                }
                self.conds().push(Part::IfCondition);
            }
            b"then" => {
                if !self.advance_cond(Part::IfCondition, Part::IfThen) {
                    // `rank by a, then b`: a new expression starts.
                    self.end_expression();
                }
            }
            b"else" => {
                self.advance_cond(Part::IfThen, Part::IfElse);
            }
            // Words that continue an expression and expect an operand after them.
            b"and" | b"or" | b"not" | b"in" | b"has" | b"starts" | b"with" | b"by" => {}
            // `score` (or `fill`) right after an operand starts a clause; elsewhere it is a name.
            b"score" | b"fill" if after_operand => self.reset(),
            _ if ENDS_EXPRESSION.iter().any(|w| w.as_bytes() == word) => {
                self.reset();
                self.script_pending = word == b"script";
            }
            _ => self.after_operand = true,
        }
        true
    }

    /// A `#` comment (or the rest of the line).
    fn skip_line(&mut self) {
        while self.at(self.i).is_some_and(|c| c != b'\n') {
            self.i += 1;
        }
    }

    /// A string of the rule language: to the closing `"` (`\` escapes the next byte) or the
    /// end of the line, as `string` and `bad_string` in the grammar.
    fn skip_rule_string(&mut self) {
        self.i += 1;
        while let Some(c) = self.at(self.i) {
            match c {
                b'"' => {
                    self.i += 1;
                    return;
                }
                b'\n' => return,
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
    }

    /// A single-quoted string (`bad_quote`): to the closing `'` or the end of the line.
    fn skip_single_quoted(&mut self) {
        self.i += 1;
        while let Some(c) = self.at(self.i) {
            match c {
                b'\'' => {
                    self.i += 1;
                    return;
                }
                b'\n' => return,
                _ => self.i += 1,
            }
        }
    }

    /// The rhai code of a script, after its `{` at `open`; false when braces nest too deeply.
    /// Strings and comments are skipped as the grammar's `script_chunk` does: only when they
    /// are closed (an unclosed one is ordinary text to pest, so its braces count).
    fn script_body(&mut self, open: usize) -> bool {
        let mut braces = 0usize;
        while let Some(b) = self.at(self.i) {
            let start = self.i;
            match b {
                b'"' => self.i = self.closed_rhai_string(start).unwrap_or(start + 1),
                b'`' => self.i = self.find_from(start + 1, b"`").unwrap_or(start + 1),
                b'/' if self.at(start + 1) == Some(b'/') => self.skip_line(),
                b'/' if self.at(start + 1) == Some(b'*') => {
                    self.i = self.find_from(start + 2, b"*/").unwrap_or(start + 1);
                }
                b'{' => {
                    braces += 1;
                    if braces > MAX_NESTING {
                        self.out.too_deep = Some(Span::new(start, start + 1));
                        return false;
                    }
                    self.i += 1;
                }
                b'}' => {
                    self.i += 1;
                    if braces == 0 {
                        self.out.script_bodies.push((open, Some(start)));
                        return true;
                    }
                    braces -= 1;
                }
                _ => self.i += 1,
            }
        }
        self.out.script_bodies.push((open, None));
        true
    }

    /// The offset after the closing quote of a rhai string starting at `start`, if it closes.
    fn closed_rhai_string(&self, start: usize) -> Option<usize> {
        let mut i = start + 1;
        while let Some(c) = self.at(i) {
            match c {
                b'"' => return Some(i + 1),
                b'\\' => i += 2,
                _ => i += 1,
            }
        }
        None
    }

    /// The offset after the first `needle` at or after `from`, if there is one.
    fn find_from(&self, from: usize, needle: &[u8]) -> Option<usize> {
        let rest = self.bytes.get(from..)?;
        rest.windows(needle.len())
            .position(|w| w == needle)
            .map(|p| from + p + needle.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(text: &str) -> bool {
        scan(text).too_deep.is_none()
    }

    fn nested_parens(n: usize) -> String {
        format!(
            "strategy \"s\" {{\n  candidates all\n  score {}cost{}\n}}\n",
            "(".repeat(n),
            ")".repeat(n)
        )
    }

    #[test]
    fn brackets_count_once_and_strategy_braces_not_at_all() {
        assert!(depth_ok(&nested_parens(MAX_NESTING)));
        assert!(!depth_ok(&nested_parens(MAX_NESTING + 1)));
    }

    #[test]
    fn flat_chains_are_not_deep() {
        let sum = vec!["(cost)"; 10_000].join(" + ");
        assert!(depth_ok(&format!("strategy \"s\" {{ score {sum} }}")));
        let rank = vec!["a ? b : c"; 500].join(", then ");
        assert!(depth_ok(&format!("strategy \"s\" {{ rank by {rank} }}")));
        let clauses = "  exclude store when a ? b : c\n".repeat(500);
        assert!(depth_ok(&format!("strategy \"s\" {{\n{clauses}}}")));
    }

    #[test]
    fn conditionals_count_as_nesting() {
        let chain = |n: usize| format!("score {}cost", "true ? 1 EUR : ".repeat(n));
        assert!(depth_ok(&chain(MAX_NESTING)));
        assert!(!depth_ok(&chain(MAX_NESTING + 1)));
        let ifs = |n: usize| format!("score {}cost", "if true then 1 EUR else ".repeat(n));
        assert!(depth_ok(&ifs(MAX_NESTING)));
        assert!(!depth_ok(&ifs(MAX_NESTING + 1)));
        // A conditional inside the condition of another ends at `then`.
        let inner = "(if a ? b : c then d ? e : f else g ? h : i)";
        assert!(depth_ok(&format!("score {}", vec![inner; 200].join(" + "))));
        // Conditionals of two clauses are not nested, with or without a reserved keyword.
        let deep = |n: usize| "true ? 1 EUR : ".repeat(n) + "cost";
        let two = format!(
            "strategy \"s\" {{\n  when {}\n  score {}\n  rank by score\n}}",
            deep(MAX_NESTING),
            deep(MAX_NESTING)
        );
        assert!(depth_ok(&two));
        // Unless the second one is the else branch of the first.
        let nested = format!(
            "score {}score ? 1 EUR : cost",
            "true ? 1 EUR : ".repeat(MAX_NESTING)
        );
        assert!(!depth_ok(&nested));
    }

    #[test]
    fn strings_comments_and_fields_hide_tokens() {
        let text = format!(
            "const a = 1 # {}\nstrategy \"{}\" {{ when order.attr.if == \"{}\" }}",
            "(".repeat(500),
            "[".repeat(500),
            "?".repeat(500)
        );
        assert!(depth_ok(&text));
    }

    #[test]
    fn script_bodies() {
        let body = |n: usize| {
            format!(
                "script f() -> number {{{}1{}}}\n",
                "{".repeat(n),
                "}".repeat(n)
            )
        };
        assert!(depth_ok(&body(MAX_NESTING)));
        assert!(!depth_ok(&body(MAX_NESTING + 1)));
        let text = "script f() -> number { \"}\" /* } */ // }\n `}` 1 }\nconst a = 1\n";
        let open = text.find('{').unwrap_or_default();
        let close = text.find(" 1 }").unwrap_or_default() + 3;
        assert_eq!(scan(text).script_bodies, vec![(open, Some(close))]);
        let s = scan("script f() -> number { 1\n");
        assert_eq!(s.script_bodies, vec![(open, None)]);
        // An unclosed string is plain text to pest, so the braces after it count.
        let unclosed = format!("script f() -> number {{ \" {}", "{".repeat(MAX_NESTING + 1));
        assert!(!depth_ok(&unclosed));
    }
}
