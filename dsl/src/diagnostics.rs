//! Diagnostics: one type for every problem the front end reports.
//!
//! In: spans and facts from the parser and the checker. Out: [`Diagnostic`]s built by the named
//! constructors below (one per code), collected in [`Diagnostics`], rendered rustc-style
//! (`file:line:col`, the source line, a caret under the span, `= help:`) or as JSON.
//!
//! Codes: `S0xx` syntax, `C0xx` check errors, `W0xx` warnings. Messages are lowercase and put
//! user input in backticks. The table of codes lives in `docs/language.md`.

use std::sync::Arc;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;
use serde::Serialize;

use crate::source::{SourceFile, Span};

/// How many diagnostics of one file are rendered as text (`render`, `render_short_all`);
/// the rest are counted in one last line. The JSON form lists every one.
pub(crate) const MAX_SHOWN: usize = 200;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The rule file cannot be used.
    Error,
    /// The rule file works, but probably not as intended.
    Warning,
}

/// A span with a short message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What about it (may be empty).
    pub message: String,
}

impl Label {
    fn new(span: Span, message: impl Into<String>) -> Label {
        Label {
            span,
            message: message.into(),
        }
    }
}

/// One problem in a rule file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Stable code: `S0xx` syntax, `C0xx` check, `W0xx` warning.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// Lowercase, user input in backticks.
    pub message: String,
    /// The main place, with a short label.
    pub primary: Label,
    /// Other places involved (e.g. the first declaration of a duplicate).
    pub secondary: Vec<Label>,
    /// How to fix it, when that is knowable.
    pub help: Option<String>,
}

impl Diagnostic {
    fn error(code: &'static str, message: String, span: Span, label: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message,
            primary: Label::new(span, label),
            secondary: Vec::new(),
            help: None,
        }
    }

    fn warning(code: &'static str, message: String, span: Span, label: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span, label)
        }
    }

    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label::new(span, message));
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// All diagnostics of one rule file, with the file they point into.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    source: Arc<SourceFile>,
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty list for `source`.
    pub(crate) fn new(source: Arc<SourceFile>) -> Self {
        Diagnostics {
            source,
            items: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Adds diagnostics found after checking (by the engine, which compiles the scripts),
    /// keeping the list in file order.
    pub fn add(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(diagnostics);
        self.sort();
    }

    /// Sorts by position (stable), so output follows the file.
    pub(crate) fn sort(&mut self) {
        self.items
            .sort_by_key(|d| (d.primary.span.start, d.primary.span.end));
    }

    /// The file these diagnostics point into.
    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// The diagnostics, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// How many diagnostics there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Whether any diagnostic is a warning.
    pub fn has_warnings(&self) -> bool {
        self.items.iter().any(|d| !d.is_error())
    }

    /// Renders every diagnostic rustc-style: no colour, deterministic, one blank line between.
    pub fn render(&self) -> String {
        let file = SimpleFile::new(self.source.name.as_str(), self.source.text.as_str());
        let config = term::Config::default();
        let mut out = String::new();
        for d in self.items.iter().take(MAX_SHOWN) {
            let rendered = term::emit_into_string(&config, &file, &self.to_codespan(d));
            match rendered {
                Ok(text) => out.push_str(&text),
                // The spans come from this very file, so this only guards against a bug: fall
                // back to a one-line form rather than losing the diagnostic.
                Err(_) => out.push_str(&self.render_short(d)),
            }
        }
        out.push_str(&self.render_omitted());
        out
    }

    /// One line per diagnostic: `file:line:col: error[C001]: message`.
    pub fn render_short_all(&self) -> String {
        let mut out: String = self
            .items
            .iter()
            .take(MAX_SHOWN)
            .map(|d| self.render_short(d))
            .collect();
        out.push_str(&self.render_omitted());
        out
    }

    /// The line that counts the diagnostics beyond [`MAX_SHOWN`] (empty when there are none).
    fn render_omitted(&self) -> String {
        let rest = self.items.get(MAX_SHOWN..).unwrap_or_default();
        if rest.is_empty() {
            return String::new();
        }
        let errors = rest.iter().filter(|d| d.is_error()).count();
        let count = |n: usize, what: &str| match n {
            0 => None,
            1 => Some(format!("1 more {what}")),
            _ => Some(format!("{n} more {what}s")),
        };
        let parts: Vec<String> = [
            count(errors, "error"),
            count(rest.len() - errors, "warning"),
        ]
        .into_iter()
        .flatten()
        .collect();
        format!(
            "{}: {} not shown (only the first {MAX_SHOWN} diagnostics are listed)\n",
            self.source.name,
            parts.join(" and ")
        )
    }

    fn render_short(&self, d: &Diagnostic) -> String {
        let (line, col) = self.source.line_col(d.primary.span.start);
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut s = format!(
            "{}:{line}:{col}: {sev}[{}]: {}\n",
            self.source.name, d.code, d.message
        );
        if let Some(help) = &d.help {
            s.push_str(&format!("  = help: {help}\n"));
        }
        s
    }

    fn to_codespan(&self, d: &Diagnostic) -> cs::Diagnostic<()> {
        let len = self.source.text.len();
        let clamp = |s: Span| {
            let start = crate::source::clamp_to_char_boundary(&self.source.text, s.start);
            let end = crate::source::clamp_to_char_boundary(&self.source.text, s.end.max(start));
            start.min(len)..end.min(len)
        };
        let base = match d.severity {
            Severity::Error => cs::Diagnostic::error(),
            Severity::Warning => cs::Diagnostic::warning(),
        };
        let mut labels =
            vec![cs::Label::primary((), clamp(d.primary.span))
                .with_message(d.primary.message.clone())];
        for l in &d.secondary {
            labels.push(cs::Label::secondary((), clamp(l.span)).with_message(l.message.clone()));
        }
        let notes = d.help.iter().map(|h| format!("help: {h}")).collect();
        base.with_code(d.code)
            .with_message(d.message.clone())
            .with_labels(labels)
            .with_notes(notes)
    }

    /// The JSON form (`--error-format json`): an array of objects with file, line, column.
    pub fn to_json(&self) -> serde_json::Value {
        let pos = |span: Span| {
            let (line, column) = self.source.line_col(span.start);
            let (end_line, end_column) = self.source.line_col(span.end);
            serde_json::json!({
                "start": span.start, "end": span.end,
                "line": line, "column": column,
                "end_line": end_line, "end_column": end_column,
            })
        };
        let items: Vec<serde_json::Value> = self
            .items
            .iter()
            .map(|d| {
                let labels: Vec<serde_json::Value> = d
                    .secondary
                    .iter()
                    .map(|l| serde_json::json!({ "span": pos(l.span), "message": l.message }))
                    .collect();
                serde_json::json!({
                    "file": self.source.name,
                    "code": d.code,
                    "severity": d.severity,
                    "message": d.message,
                    "span": pos(d.primary.span),
                    "label": d.primary.message,
                    "secondary": labels,
                    "help": d.help,
                })
            })
            .collect();
        serde_json::Value::Array(items)
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

fn plural(kind: &str) -> String {
    match kind.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{kind}s"),
    }
}

fn did_you_mean(suggestion: Option<&str>) -> Option<String> {
    suggestion.map(|s| format!("did you mean `{s}`?"))
}

// ---------------------------------------------------------------------------------------------
// Syntax: S0xx
// ---------------------------------------------------------------------------------------------

/// S001: the parser expected something else here.
pub(crate) fn unexpected(span: Span, expected: &str, found: &str) -> Diagnostic {
    Diagnostic::error(
        "S001",
        format!("expected {expected}, found {found}"),
        span,
        format!("expected {expected}"),
    )
}

/// S001 with a help line for a known situation.
pub(crate) fn unexpected_with_help(
    span: Span,
    expected: &str,
    found: &str,
    help: &str,
) -> Diagnostic {
    unexpected(span, expected, found).with_help(help)
}

/// S002: the file is not UTF-8.
pub(crate) fn invalid_utf8(span: Span) -> Diagnostic {
    Diagnostic::error(
        "S002",
        "the file is not valid UTF-8 text".to_string(),
        span,
        "this byte is not UTF-8",
    )
    .with_help("save the rule file as UTF-8")
}

/// S003: an expression nests too deeply (brackets, `not`, unary `-`, conditionals).
pub(crate) fn too_deep(span: Span, limit: usize) -> Diagnostic {
    Diagnostic::error(
        "S003",
        format!("this nests more than {limit} levels deep"),
        span,
        "too deeply nested",
    )
    .with_help("simplify the expression: fewer nested brackets, `not`, `-` or conditionals")
}

/// S004: `=` where `==` was meant.
pub(crate) fn single_equals(span: Span) -> Diagnostic {
    Diagnostic::error(
        "S004",
        "`=` does not compare values".to_string(),
        span,
        "use `==` here",
    )
    .with_help("write `==` to test for equality")
}

/// S005: an operator from another language (`&&`, `||`, `!`).
pub(crate) fn foreign_operator(span: Span, written: &str, word: &str) -> Diagnostic {
    Diagnostic::error(
        "S005",
        format!("`{written}` is not an operator in rule files"),
        span,
        format!("use `{word}`"),
    )
    .with_help(format!("write `{word}` instead of `{written}`"))
}

/// S006: a single-quoted string.
pub(crate) fn single_quotes(span: Span) -> Diagnostic {
    Diagnostic::error(
        "S006",
        "strings use double quotes".to_string(),
        span,
        "single quotes",
    )
    .with_help("write \"text\" instead of 'text'")
}

/// S007: a string that is not closed on its line.
pub(crate) fn unclosed_string(span: Span) -> Diagnostic {
    Diagnostic::error(
        "S007",
        "this string is not closed".to_string(),
        span,
        "missing `\"` before the end of the line",
    )
    .with_help("strings end on the line they start; add the closing `\"`")
}

/// S008: a unit the language does not know.
pub(crate) fn unknown_unit(span: Span, unit: &str) -> Diagnostic {
    let lower = unit.to_ascii_lowercase();
    let help = match lower.as_str() {
        "km" | "kg" | "day" | "days" if unit != lower => {
            format!("units are written in lowercase: `{lower}`")
        }
        "euro" | "euros" => "write the currency code: `EUR`".to_string(),
        "eur" | "usd" | "gbp" | "chf" => {
            format!(
                "currency codes are written in capitals: `{}`",
                unit.to_ascii_uppercase()
            )
        }
        "percent" => "write `%` for percent".to_string(),
        "h" | "hour" | "hours" | "week" | "weeks" => "durations are written in `days`".to_string(),
        "mi" | "mile" | "miles" | "m" => "distances are written in `km`".to_string(),
        "g" | "lb" | "lbs" => "weights are written in `kg`".to_string(),
        _ => "a currency code is three capital letters".to_string(),
    };
    Diagnostic::error("S008", format!("unknown unit `{unit}`"), span, "not a unit").with_help(
        format!("{help}; the units are `km`, `kg`, `days`, `%` and currency codes such as `EUR`"),
    )
}

/// S014: a date that is not a day of the calendar, or not written `YYYY-MM-DD`.
pub(crate) fn bad_date(span: Span, text: &str, why: &str) -> Diagnostic {
    Diagnostic::error(
        "S014",
        format!("malformed date `{text}`: {why}"),
        span,
        "expected a date `YYYY-MM-DD`",
    )
    .with_help("write a date as year, month and day with dashes, such as `2026-12-20`")
}

/// S009: a number that cannot be represented.
pub(crate) fn bad_number(span: Span, text: &str) -> Diagnostic {
    let shown: String = if text.chars().count() > 24 {
        text.chars().take(20).chain("…".chars()).collect()
    } else {
        text.to_string()
    };
    Diagnostic::error(
        "S009",
        format!("`{shown}` is not a usable number"),
        span,
        "not a finite number",
    )
}

/// S010: the parser gave up (input too large or too complex).
pub(crate) fn parser_limit(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        "S010",
        format!("the file is too large or too complex to parse ({what})"),
        span,
        "the parser stopped here",
    )
    .with_help("split the rule file or simplify its expressions")
}

/// S010: an expression with more binary operators than the passes after parsing can walk.
pub(crate) fn too_many_operators(span: Span, limit: usize) -> Diagnostic {
    Diagnostic::error(
        "S010",
        format!("this expression has more than {limit} operators"),
        span,
        "too long",
    )
    .with_help(
        "simplify it; a chain like `x == \"a\" or x == \"b\" or …` is shorter as \
         `x in [\"a\", \"b\", …]`",
    )
}

/// S011: a `test` block; rule tests live in `*.cases.toml`.
pub(crate) fn test_block(span: Span) -> Diagnostic {
    Diagnostic::error(
        "S011",
        "`test` blocks are not part of rule files".to_string(),
        span,
        "not a rule",
    )
    .with_help("put rule tests in `<rules file>.cases.toml` next to the rule file")
}

/// S012: a comparison chained to another comparison (`a < b < c`).
pub(crate) fn chained_comparison(span: Span) -> Diagnostic {
    Diagnostic::error(
        "S012",
        "comparisons cannot be chained".to_string(),
        span,
        "second comparison",
    )
    .with_help("combine two comparisons with `and`: `a < b and b < c`")
}

/// S013: a script whose code is not closed with `}`.
pub(crate) fn unclosed_script(open: Span) -> Diagnostic {
    Diagnostic::error(
        "S013",
        "this script is not closed".to_string(),
        open,
        "this `{` has no matching `}`",
    )
    .with_help("add `}` after the script's code")
}

// ---------------------------------------------------------------------------------------------
// Check errors: C0xx
// ---------------------------------------------------------------------------------------------

/// C001: a name that is not a constant, built-in term or fact.
pub(crate) fn unknown_name(span: Span, name: &str, suggestion: Option<&str>) -> Diagnostic {
    Diagnostic::error(
        "C001",
        format!("unknown name `{name}`"),
        span,
        "not a constant, term or fact",
    )
    .with_help_opt(did_you_mean(suggestion))
}

/// C002: a field path that is not in the schema.
pub(crate) fn unknown_field(
    span: Span,
    path: &str,
    owner: &str,
    suggestion: Option<&str>,
) -> Diagnostic {
    Diagnostic::error(
        "C002",
        format!("unknown field `{path}`"),
        span,
        format!("not a fact of the {owner}"),
    )
    .with_help_opt(did_you_mean(suggestion))
}

/// C003: a fact or term that the clause cannot read.
pub(crate) fn not_allowed_here(span: Span, name: &str, place: &str, help: &str) -> Diagnostic {
    Diagnostic::error(
        "C003",
        format!("`{name}` cannot be used in {place}"),
        span,
        format!("not available in {place}"),
    )
    .with_help(help)
}

/// C004: a value of the wrong type.
pub(crate) fn type_mismatch(span: Span, expected: &str, found: &str) -> Diagnostic {
    Diagnostic::error(
        "C004",
        format!("expected {expected}, found {found}"),
        span,
        format!("this is {found}"),
    )
}

/// C004 with a help line.
pub(crate) fn type_mismatch_help(
    span: Span,
    expected: &str,
    found: &str,
    help: &str,
) -> Diagnostic {
    type_mismatch(span, expected, found).with_help(help)
}

/// C004: an operator applied to operands it does not accept.
pub(crate) fn bad_operands(span: Span, op: &str, left: &str, right: &str) -> Diagnostic {
    Diagnostic::error(
        "C004",
        format!("`{op}` cannot combine {left} and {right}"),
        span,
        format!("{left} `{op}` {right}"),
    )
}

/// C005: units that do not fit together (km + EUR); `span` is the operator.
pub(crate) fn unit_mismatch(
    span: Span,
    what: &str,
    left: (Span, &str),
    right: (Span, &str),
    help: &str,
) -> Diagnostic {
    Diagnostic::error(
        "C005",
        format!("cannot {what} {} and {}", left.1, right.1),
        span,
        "units do not match",
    )
    .with_secondary(left.0, format!("this is {}", left.1))
    .with_secondary(right.0, format!("this is {}", right.1))
    .with_help(help)
}

/// C005: a penalty whose unit differs from the score's.
pub(crate) fn penalty_unit(span: Span, penalty: &str, score: (Span, &str)) -> Diagnostic {
    Diagnostic::error(
        "C005",
        format!("the penalty is {penalty} but the score is {}", score.1),
        span,
        format!("this is {penalty}"),
    )
    .with_secondary(score.0, format!("the score is {}", score.1))
    .with_help("penalties are added to the score, so they must have the score's unit")
}

/// C006: a fallback to a strategy that does not exist.
pub(crate) fn unknown_strategy(span: Span, name: &str, suggestion: Option<&str>) -> Diagnostic {
    Diagnostic::error(
        "C006",
        format!("unknown strategy `{name}`"),
        span,
        "no strategy has this name",
    )
    .with_help_opt(did_you_mean(suggestion))
}

/// C007: fallbacks that go round in a circle.
pub(crate) fn fallback_cycle(span: Span, cycle: &[(String, Span)]) -> Diagnostic {
    let names: Vec<String> = cycle.iter().map(|(n, _)| format!("`{n}`")).collect();
    let mut chain = names.join(" → ");
    if let Some(first) = names.first() {
        chain.push_str(" → ");
        chain.push_str(first);
    }
    let mut d = Diagnostic::error(
        "C007",
        format!("fallbacks form a cycle: {chain}"),
        span,
        "this fallback closes the cycle",
    )
    .with_help("end the chain with `otherwise backorder` or `otherwise unsourced`");
    for (name, span) in cycle.iter().skip(1) {
        d = d.with_secondary(*span, format!("`{name}` falls back from here"));
    }
    d
}

/// C008: a name declared twice.
pub(crate) fn duplicate(span: Span, kind: &str, name: &str, first: Span) -> Diagnostic {
    Diagnostic::error(
        "C008",
        format!("{kind} `{name}` is declared twice"),
        span,
        "declared again here",
    )
    .with_secondary(first, "first declared here")
    .with_help(format!("rename or remove one of the two {}", plural(kind)))
}

/// C009: a clause that may appear once per strategy appears again, or conflicts.
pub(crate) fn duplicate_clause(span: Span, clause: &str, first: Span, help: &str) -> Diagnostic {
    Diagnostic::error(
        "C009",
        format!("this strategy already has a `{clause}` clause"),
        span,
        "second clause",
    )
    .with_secondary(first, "first one here")
    .with_help(help)
}

/// C009: `fallback` and `otherwise` together.
pub(crate) fn conflicting_endings(span: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        "C009",
        "a strategy cannot have both `fallback` and `otherwise`".to_string(),
        span,
        "second ending",
    )
    .with_secondary(first, "first ending here")
    .with_help("keep `fallback \"name\"` to hand the rest on, or `otherwise` to stop")
}

/// C010: a location set name that is neither a keyword nor a group.
pub(crate) fn unknown_set(span: Span, name: &str, suggestion: Option<&str>) -> Diagnostic {
    let help = did_you_mean(suggestion).unwrap_or_else(|| {
        "location sets are `all`, `dcs`, `stores`, `dropship`, `pickup_store`, an id list \
         or a `group`"
            .to_string()
    });
    Diagnostic::error(
        "C010",
        format!("unknown location set `{name}`"),
        span,
        "not a group or set keyword",
    )
    .with_help(help)
}

/// C011: groups that contain themselves.
pub(crate) fn group_cycle(span: Span, name: &str) -> Diagnostic {
    Diagnostic::error(
        "C011",
        format!("group `{name}` contains itself"),
        span,
        "refers back to the group being defined",
    )
    .with_help("a group may use other groups, but not itself, directly or through others")
}

/// C012: a declaration that takes a built-in name.
pub(crate) fn reserved_name(span: Span, name: &str, what: &str) -> Diagnostic {
    Diagnostic::error(
        "C012",
        format!("`{name}` is a built-in name and cannot name a {what}"),
        span,
        "built-in name",
    )
    .with_help(format!("choose another name, such as `my_{name}`"))
}

/// C013: a call to an unknown function.
pub(crate) fn unknown_function(span: Span, name: &str, suggestion: Option<&str>) -> Diagnostic {
    Diagnostic::error(
        "C013",
        format!("unknown function `{name}`"),
        span,
        "not a built-in function or script",
    )
    .with_help_opt(did_you_mean(suggestion).or_else(|| {
        Some("built-in functions are `min`, `max` and `abs`; declare others with `script`".into())
    }))
}

/// C013: a call with the wrong number of arguments.
pub(crate) fn wrong_arity(span: Span, name: &str, expected: usize, found: usize) -> Diagnostic {
    let s = if expected == 1 { "" } else { "s" };
    Diagnostic::error(
        "C013",
        format!("`{name}` takes {expected} argument{s}, found {found}"),
        span,
        format!("expected {expected} argument{s}"),
    )
}

/// C014: a value that is out of range or not one of the allowed values.
pub(crate) fn invalid_value(span: Span, message: String, help: Option<String>) -> Diagnostic {
    Diagnostic::error("C014", message, span, "invalid value").with_help_opt(help)
}

/// C015: two currencies in one rule file.
pub(crate) fn mixed_currency(span: Span, found: &str, first: (&str, Span)) -> Diagnostic {
    Diagnostic::error(
        "C015",
        format!(
            "this rule file mixes currencies: `{found}` and `{}`",
            first.0
        ),
        span,
        format!("`{found}` here"),
    )
    .with_secondary(first.1, format!("`{}` first used here", first.0))
    .with_help("use the network's currency everywhere; the engine does not convert money")
}

/// C016: a strategy without candidates.
pub(crate) fn missing_candidates(span: Span, name: &str) -> Diagnostic {
    Diagnostic::error(
        "C016",
        format!("strategy `{name}` has no `candidates` clause"),
        span,
        "no candidates",
    )
    .with_help("add `candidates all` to consider every location, or name the sets to use")
}

/// C018: a rule file without any strategy (empty, blank, only comments or declarations).
pub(crate) fn no_strategy() -> Diagnostic {
    Diagnostic::error(
        "C018",
        "this rule file has no strategy".to_string(),
        Span::new(0, 0),
        "no strategy in this file",
    )
    .with_help(
        "without a strategy every order is left unsourced; add one, such as \
         `strategy \"min-cost\" { candidates all }`",
    )
}

/// C019: a division by a constant 0.
pub(crate) fn division_by_zero(span: Span, divisor: Span, text: &str) -> Diagnostic {
    let label = if text == "0" {
        "this is 0".to_string()
    } else {
        format!("`{text}` is 0")
    };
    Diagnostic::error(
        "C019",
        "division by zero".to_string(),
        span,
        "divides by zero",
    )
    .with_secondary(divisor, label)
    .with_help(
        "a number divided by 0 has no value, so every order that reads it would be a rule \
             error; divide by something that is not 0, or remove the division",
    )
}

/// C019: constant arithmetic whose result is too large for a number.
pub(crate) fn not_finite(span: Span) -> Diagnostic {
    Diagnostic::error(
        "C019",
        "the constants here make a number too large to use".to_string(),
        span,
        "beyond the largest number",
    )
    .with_help(
        "numbers end near 1.8 × 10^308; use smaller constants (every order that reads this \
         would be a rule error)",
    )
}

impl Diagnostic {
    /// C022: a script that the engine's rhai sandbox does not compile. The engine owns the
    /// sandbox and builds this diagnostic: `span` is where rhai stopped, `message` is rhai's.
    pub fn script_does_not_compile(span: Span, name: &str, message: &str) -> Diagnostic {
        Diagnostic::error(
            "C022",
            format!("script `{name}` does not compile: {message}"),
            span,
            "here",
        )
        .with_help(
            "scripts run in a sandbox: comments are `//` or `/* */`; no `eval`, `import` or `fn` \
             inside a script; map literals of at most 100 entries; nesting of at most 32 levels \
             as rhai counts them (14 brackets)",
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Warnings: W0xx
// ---------------------------------------------------------------------------------------------

/// W001: a strategy that can never be chosen or reached.
pub(crate) fn unreachable_strategy(span: Span, name: &str, catch_all: (&str, Span)) -> Diagnostic {
    Diagnostic::warning(
        "W001",
        format!("strategy `{name}` can never be used"),
        span,
        "never chosen",
    )
    .with_secondary(
        catch_all.1,
        format!(
            "`{}` is chosen for every order that gets this far",
            catch_all.0
        ),
    )
    .with_help(
        "strategies are tried in file order; move this one up, give the earlier one a `when`, \
         or name it in a `fallback`",
    )
}

/// W002: a candidate set that is always empty.
pub(crate) fn empty_set(span: Span, why: &str) -> Diagnostic {
    Diagnostic::warning(
        "W002",
        format!("this location set is always empty: {why}"),
        span,
        "no location can be in this set",
    )
}

/// W003: a constant that nothing uses.
pub(crate) fn unused_const(span: Span, name: &str) -> Diagnostic {
    Diagnostic::warning(
        "W003",
        format!("constant `{name}` is never used"),
        span,
        "unused",
    )
    .with_help("remove it, or use it in a rule")
}

/// W004: a group that nothing uses.
pub(crate) fn unused_group(span: Span, name: &str) -> Diagnostic {
    Diagnostic::warning(
        "W004",
        format!("group `{name}` is never used"),
        span,
        "unused",
    )
    .with_help("remove it, or use it in `candidates` or `prefer`")
}

/// W005: a script that nothing calls.
pub(crate) fn unused_script(span: Span, name: &str) -> Diagnostic {
    Diagnostic::warning(
        "W005",
        format!("script `{name}` is never called"),
        span,
        "unused",
    )
    .with_help("remove it, or call it in a score or condition")
}

/// C020: a score or rank key in which `cost` is not `a × cost + b`: the search could not
/// optimise it exactly.
pub(crate) fn not_affine_in_cost(span: Span, what: &str, why: &str) -> Diagnostic {
    Diagnostic::error(
        "C020",
        format!("this {what} cannot be optimised exactly: {why}"),
        span,
        "cost enters here",
    )
    .with_help(
        "plans are compared by a score of the form `factor × cost + other terms` (the other \
         terms may read distance, days, the location, the order); keep `cost` out of `min`, \
         `max`, conditions and scripts — for example `score cost + 0.001 EUR * distance`, and \
         to spare expensive shipments use `exclude … when` or `prefer`",
    )
}

/// W006: a bare number next to a quantity with a unit.
pub(crate) fn implicit_unit(span: Span, number: &str, unit: &str, other: Span) -> Diagnostic {
    Diagnostic::warning(
        "W006",
        format!("the number `{number}` has no unit; it is read as `{number} {unit}`"),
        span,
        format!("read as `{number} {unit}`"),
    )
    .with_secondary(other, format!("this is in {unit}"))
    .with_help(format!("write `{number} {unit}` to make the unit explicit"))
}

/// W007: a condition that is always true or always false.
pub(crate) fn constant_condition(span: Span, value: bool, consequence: &str) -> Diagnostic {
    Diagnostic::warning(
        "W007",
        format!("this condition is always {value}"),
        span,
        format!("always {value}"),
    )
    .with_help(consequence.to_string())
}

/// W008: a `prefer` set that shares no location with the candidates.
pub(crate) fn prefer_not_candidate(span: Span) -> Diagnostic {
    Diagnostic::warning(
        "W008",
        "this preferred set holds none of the candidates".to_string(),
        span,
        "only locations outside `candidates`",
    )
    .with_help(
        "`prefer` never adds a location, it puts some of the candidates first: \
         name a part of the candidates here (a candidate set narrowed by `where`, \
         `tagged` or `in`), or remove this `prefer`",
    )
}

/// C017: `ship complete` beside a `split` clause that allows more than one shipment.
pub(crate) fn ship_complete_split(span: Span, split: Span) -> Diagnostic {
    Diagnostic::error(
        "C017",
        "`ship complete` means one shipment, but this `split` clause allows more".to_string(),
        split,
        "allows more than one shipment",
    )
    .with_secondary(span, "one shipment for the whole order here")
    .with_help(
        "remove the `split` clause (keep `split none` only to add options such as a penalty), \
         or remove `ship complete` and write `all or nothing` to keep whole orders with splits",
    )
}

/// C023: `fill by` beside a clause that compares whole plans, or a fill key that only a
/// whole plan has.
pub(crate) fn fill_conflict(span: Span, fill: Span, what: &str, help: &str) -> Diagnostic {
    Diagnostic::error(
        "C023",
        format!("`fill by` takes locations one after another; {what}"),
        span,
        "does not fit a fill",
    )
    .with_secondary(fill, "the fill order")
    .with_help(help.to_string())
}

/// W009: `all or nothing` beside `ship complete`, which already implies it.
pub(crate) fn redundant_all_or_nothing(span: Span, ship_complete: Span) -> Diagnostic {
    Diagnostic::warning(
        "W009",
        "`all or nothing` is already part of `ship complete`".to_string(),
        span,
        "says nothing more",
    )
    .with_secondary(ship_complete, "implies it")
    .with_help("remove `all or nothing`")
}
