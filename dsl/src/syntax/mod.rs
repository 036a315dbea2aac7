//! Text → AST.
//!
//! In: the bytes of a rule file. Out: an [`Ast`] or syntax diagnostics (`S0xx`). The steps:
//! a leading byte-order mark skipped, a UTF-8 and size check, a cheap scan that refuses absurd nesting before pest recurses into
//! it, the pest parse (with a call limit), and the lowering of pest pairs into the AST
//! (`lower.rs`). When pest fails, the file is cut at top-level items and each item is parsed
//! on its own, so one broken strategy does not hide the errors of the next.

mod lower;
mod scan;

use std::num::NonZeroUsize;
use std::sync::{Arc, Once};

use pest::error::{ErrorVariant, InputLocation};
use pest::Parser;
use pest_derive::Parser;

use crate::ast::Ast;
use crate::diagnostics::{self as diag, Diagnostic, Diagnostics};
use crate::source::{SourceFile, Span};

#[derive(Parser)]
#[grammar = "grammar.pest"]
struct RuleParser;

/// Larger files are refused before parsing.
pub(crate) const MAX_SOURCE_BYTES: usize = 16 * 1024 * 1024;

/// How deeply expressions may nest, counted as a reader sees it: one level per bracket, per
/// prefix operator (`not`, unary `-`) and per nested conditional (`S003` beyond it).
pub(crate) const MAX_NESTING: usize = 100;

/// How many binary operators one expression (a condition, a score, a penalty, …) may have
/// (`S010` beyond it). A long flat chain is not deep for a reader, but it is a deep tree for
/// every pass that walks the expression, so its length is limited separately.
pub(crate) const MAX_OPERATORS: usize = 500;

/// The most parser steps pest may take on one file (process-wide, see `pest::set_call_limit`).
const CALL_LIMIT: usize = 400_000_000;

static SET_LIMIT: Once = Once::new();

/// A byte-order mark, which some editors write at the start of UTF-8 files. It is skipped:
/// the file's text (and every line and column) starts after it.
pub(crate) const BOM: &str = "\u{feff}";

/// Parses bytes that should be UTF-8 text.
pub(crate) fn parse_bytes(name: &str, bytes: &[u8]) -> (Option<Ast>, Diagnostics) {
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_str(name, text),
        Err(e) => {
            // Show the valid prefix so line numbers make sense; point at the first bad byte.
            let valid = e.valid_up_to();
            let prefix = String::from_utf8_lossy(bytes.get(..valid).unwrap_or_default());
            let mut text = prefix.into_owned();
            let rest = bytes.get(valid..).unwrap_or_default();
            text.push_str(&String::from_utf8_lossy(rest));
            let source = SourceFile::new(name, text);
            let mut diags = Diagnostics::new(source);
            // The replacement character is 3 bytes long in the lossy text.
            diags.push(diag::invalid_utf8(Span::new(valid, valid + 3)));
            (None, diags)
        }
    }
}

/// Parses a rule file's text.
pub(crate) fn parse_str(name: &str, text: &str) -> (Option<Ast>, Diagnostics) {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let source = SourceFile::new(name, text);
    let mut diags = Diagnostics::new(Arc::clone(&source));
    if text.len() > MAX_SOURCE_BYTES {
        diags.push(diag::parser_limit(
            Span::new(0, 0),
            &format!("more than {} MiB", MAX_SOURCE_BYTES / (1024 * 1024)),
        ));
        return (None, diags);
    }
    let scanned = scan::scan(text);
    if let Some(span) = scanned.too_deep {
        diags.push(diag::too_deep(span, MAX_NESTING));
        return (None, diags);
    }
    SET_LIMIT.call_once(|| pest::set_call_limit(NonZeroUsize::new(CALL_LIMIT)));

    match RuleParser::parse(Rule::file, text) {
        Ok(pairs) => {
            let mut lowerer = lower::Lowerer::new(text, 0);
            let (items, comments) = lowerer.file(pairs);
            let errors = lowerer.into_diagnostics();
            let ok = errors.is_empty();
            for d in errors {
                diags.push(d);
            }
            if ok {
                let ast = Ast {
                    source,
                    items,
                    comments,
                };
                (Some(ast), diags)
            } else {
                diags.sort();
                (None, diags)
            }
        }
        Err(first) => {
            let recovered = recover(text, &scanned.script_bodies);
            if recovered.iter().any(Diagnostic::is_error) {
                for d in recovered {
                    diags.push(d);
                }
            } else {
                diags.push(convert_error(text, 0, text.len(), &first));
            }
            diags.sort();
            (None, diags)
        }
    }
}

/// After a failed parse: cut the file at top-level items and parse each on its own. A line
/// inside the code of a (closed) script is rhai, so it never starts an item, whatever its
/// first word.
fn recover(text: &str, script_bodies: &[(usize, Option<usize>)]) -> Vec<Diagnostic> {
    // The scan lists bodies in file order, so one pass over them follows the lines.
    let mut closed = script_bodies
        .iter()
        .filter_map(|&(open, close)| close.map(|close| (open, close)))
        .peekable();
    let mut starts = vec![0usize];
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        while closed.peek().is_some_and(|&(_, close)| close < offset) {
            closed.next();
        }
        let in_script = closed
            .peek()
            .is_some_and(|&(open, close)| open < offset && offset <= close);
        let first_word: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        if offset > 0
            && matches!(
                first_word.as_str(),
                "const" | "group" | "script" | "strategy" | "test"
            )
            && !in_script
        {
            starts.push(offset);
        }
        offset += line.len();
    }
    starts.push(text.len());
    let mut out = Vec::new();
    for pair in starts.windows(2) {
        let (Some(&start), Some(&end)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        let Some(chunk) = text.get(start..end) else {
            continue;
        };
        // The whole text was scanned, but a chunk may be read differently (after a script
        // that is never closed, for one), so each chunk is scanned before pest sees it.
        if let Some(span) = scan::scan(chunk).too_deep {
            let span = Span::new(span.start + start, span.end + start);
            out.push(diag::too_deep(span, MAX_NESTING));
            continue;
        }
        match RuleParser::parse(Rule::file, chunk) {
            Ok(pairs) => {
                let mut lowerer = lower::Lowerer::new(chunk, start);
                let _ = lowerer.file(pairs);
                out.extend(lowerer.into_diagnostics());
            }
            Err(e) => out.push(convert_error(text, start, end, &e)),
        }
    }
    out
}

/// Turns a pest error (in the chunk `start..end` of `text`) into a diagnostic.
fn convert_error(
    text: &str,
    start: usize,
    end: usize,
    error: &pest::error::Error<Rule>,
) -> Diagnostic {
    let pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    } + start;
    let pos = pos.min(end);
    match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            // `script_body` fails at its `{` only when the braces never balance.
            let at_brace = text.get(pos..).is_some_and(|rest| rest.starts_with('{'));
            if positives.contains(&Rule::script_body) && at_brace {
                return diag::unclosed_script(Span::new(pos, pos + 1));
            }
            let (found, span) = describe_found(text, pos);
            let expected = describe_expected(positives);
            let mut d = match help_for(positives, &found) {
                Some(h) => diag::unexpected_with_help(span, &expected, &found, h),
                None => diag::unexpected(span, &expected, &found),
            };
            if let Some(s) = keyword_suggestion(positives, &found) {
                d.help = Some(format!("did you mean `{s}`?"));
            }
            d
        }
        ErrorVariant::CustomError { message } => {
            // pest's resource limits, in the user's words.
            let what = match message.as_str() {
                "stack limit reached" => "it nests too deeply for the parser",
                "call limit reached" => "it takes the parser too many steps",
                other => other,
            };
            diag::parser_limit(Span::new(pos, pos), what)
        }
    }
}

/// What stands at `pos`: a word, a symbol, or the end of the file.
fn describe_found(text: &str, pos: usize) -> (String, Span) {
    let rest = text.get(pos..).unwrap_or_default();
    let Some(first) = rest.chars().next() else {
        return ("end of file".to_string(), Span::new(pos, pos));
    };
    if first == '\n' || first == '\r' {
        return ("end of line".to_string(), Span::new(pos, pos + 1));
    }
    let len = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len())
    } else if first == '"' {
        rest[1..].find(['"', '\n']).map_or(rest.len(), |i| i + 2)
    } else {
        first.len_utf8()
    };
    let word = &rest[..len];
    let shown: String = word.chars().take(40).collect();
    (format!("`{shown}`"), Span::new(pos, pos + len))
}

/// Groups of rules that are described together.
const CLAUSES: &[Rule] = &[
    Rule::kw_when,
    Rule::kw_candidates,
    Rule::kw_exclude,
    Rule::kw_prefer,
    Rule::kw_score,
    Rule::kw_rank,
    Rule::kw_fill,
    Rule::kw_split,
    Rule::kw_fallback,
    Rule::kw_otherwise,
    Rule::kw_promise,
    Rule::kw_all,
    Rule::kw_ship,
];

const DECLARATIONS: &[Rule] = &[
    Rule::kw_const,
    Rule::kw_group,
    Rule::kw_script,
    Rule::kw_strategy,
    Rule::kw_test,
];

const OPERATORS: &[Rule] = &[
    Rule::op_or,
    Rule::op_and,
    Rule::op_eq,
    Rule::op_ne,
    Rule::op_le,
    Rule::op_ge,
    Rule::op_lt,
    Rule::op_gt,
    Rule::op_in,
    Rule::op_has,
    Rule::op_starts_with,
    Rule::op_add,
    Rule::op_sub,
    Rule::op_mul,
    Rule::op_div,
    Rule::bad_eq,
    Rule::bad_and,
    Rule::bad_or,
    Rule::question,
    Rule::kw_starts,
    Rule::kw_with,
];

const FILTERS: &[Rule] = &[Rule::kw_tagged, Rule::kw_where];

const VALUES: &[Rule] = &[
    Rule::lparen,
    Rule::kw_if,
    Rule::lbracket,
    Rule::quantity,
    Rule::date,
    Rule::number,
    Rule::string,
    Rule::bad_string,
    Rule::bad_quote,
    Rule::boolean,
    Rule::ident,
    Rule::path,
    Rule::call,
    Rule::op_not,
    Rule::op_neg,
    Rule::bad_not,
];

const SETS: &[Rule] = &[
    Rule::set_all,
    Rule::set_dcs,
    Rule::set_stores,
    Rule::set_dropship,
    Rule::set_pickup,
    Rule::id_list,
];

/// Builds "a strategy clause or `}`" from pest's positive attempts.
fn describe_expected(positives: &[Rule]) -> String {
    let has_any = |group: &[Rule]| positives.iter().any(|r| group.contains(r));
    let mut parts: Vec<String> = Vec::new();
    if has_any(DECLARATIONS) {
        parts.push("a declaration (`const`, `group`, `script` or `strategy`)".to_string());
    }
    if has_any(CLAUSES) {
        parts.push("a strategy clause (`when`, `candidates`, `exclude`, `score`, …)".to_string());
    }
    let sets = has_any(SETS);
    if sets {
        parts.push("a location set".to_string());
    }
    let operators = has_any(OPERATORS);
    // After a complete operand, pest also tries `(` of a call: that is no place for a value.
    if has_any(VALUES) && !sets && !operators {
        parts.push("a value".to_string());
    }
    if operators {
        parts.push("an operator".to_string());
    }
    let filters = has_any(FILTERS);
    if filters {
        parts.push("a filter (`tagged`, `in country`, `in region`, `where`)".to_string());
    }
    for rule in positives {
        if matches!(rule, Rule::COMMENT | Rule::WHITESPACE)
            || (filters && *rule == Rule::kw_in)
            || (operators && *rule == Rule::kw_in)
            || FILTERS.contains(rule)
            || CLAUSES.contains(rule)
            || DECLARATIONS.contains(rule)
            || OPERATORS.contains(rule)
            || SETS.contains(rule)
            || VALUES.contains(rule)
        {
            continue;
        }
        let Some(name) = friendly_name(*rule) else {
            continue;
        };
        if !parts.iter().any(|p| p == name) {
            parts.push(name.to_string());
        }
    }
    match parts.len() {
        0 => "something else".to_string(),
        1 => parts.remove(0),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{} or {last}", parts.join(", "))
        }
    }
}

/// "Did you mean" for a misspelt clause or declaration keyword.
fn keyword_suggestion(positives: &[Rule], found: &str) -> Option<&'static str> {
    let word = found.strip_prefix('`')?.strip_suffix('`')?;
    let mut words: Vec<&'static str> = Vec::new();
    if positives.iter().any(|r| CLAUSES.contains(r)) {
        words.extend([
            "when",
            "candidates",
            "exclude",
            "prefer",
            "score",
            "rank",
            "fill",
            "split",
            "fallback",
            "otherwise",
            "promise",
            "ship",
        ]);
    }
    if positives.iter().any(|r| DECLARATIONS.contains(r)) {
        words.extend(["const", "group", "script", "strategy"]);
    }
    if positives.contains(&Rule::kw_complete) {
        words.push("complete");
    }
    crate::suggest::closest(word, words)
}

/// A help line for situations where the fix is clear.
fn help_for(positives: &[Rule], found: &str) -> Option<&'static str> {
    if positives.contains(&Rule::rbrace) && found == "end of file" {
        return Some("a strategy ends with `}`");
    }
    if positives.contains(&Rule::kw_by) {
        return Some("write `rank by cost, then days`");
    }
    if positives.contains(&Rule::exclude_target) {
        return Some("write `exclude location when …` (or `store`, `dc`, `dropship`)");
    }
    None
}

/// The user-facing name of a grammar rule (pest's `renamed_rules`, done by hand), or `None`
/// for rules never worth naming: error alternatives (`bad_*`, whose good twin is named),
/// whitespace and comments. The match lists every rule, so a new rule cannot reach a message
/// under its internal name.
fn friendly_name(rule: Rule) -> Option<&'static str> {
    let s = match rule {
        Rule::WHITESPACE
        | Rule::COMMENT
        | Rule::inline_space
        | Rule::reserved
        | Rule::bad_test_block
        | Rule::bad_eq
        | Rule::bad_and
        | Rule::bad_or
        | Rule::bad_not
        | Rule::bad_unit
        | Rule::bad_string
        | Rule::bad_quote => return None,
        Rule::EOI => "end of file",
        Rule::file | Rule::item => "a declaration (`const`, `group`, `script` or `strategy`)",
        Rule::const_decl => "a constant",
        Rule::group_decl => "a group",
        Rule::script_decl => "a script",
        Rule::strategy => "a strategy",
        Rule::kw_const => "`const`",
        Rule::kw_group => "`group`",
        Rule::kw_script => "`script`",
        Rule::kw_strategy => "`strategy`",
        Rule::kw_test => "`test`",
        Rule::eq_sign => "`=`",
        Rule::comma => "`,`",
        Rule::colon => "`:`",
        Rule::question => "`?`",
        Rule::arrow => "`->`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::minus => "`-`",
        Rule::ident | Rule::ident_char | Rule::path | Rule::field => "a name",
        Rule::number | Rule::quantity => "a number",
        Rule::date => "a date",
        Rule::unit => "a unit",
        Rule::string | Rule::string_inner | Rule::str_lit => "a string",
        Rule::boolean => "`true` or `false`",
        Rule::type_name => {
            "a type (`number`, `bool`, `string`, `money`, `km`, `days`, `kg`, `percent`)"
        }
        Rule::script_body => "`{` and the script's code",
        Rule::script_text
        | Rule::script_chunk
        | Rule::rhai_string
        | Rule::rhai_backtick
        | Rule::rhai_line_comment
        | Rule::rhai_block_comment => "the script's code",
        Rule::clause
        | Rule::when_clause
        | Rule::candidates_clause
        | Rule::exclude_clause
        | Rule::prefer_clause
        | Rule::score_clause
        | Rule::rank_clause
        | Rule::fill_clause
        | Rule::split_clause
        | Rule::fallback_clause
        | Rule::otherwise_clause
        | Rule::promise_clause => "a strategy clause (`when`, `candidates`, `exclude`, `score`, …)",
        Rule::kw_when => "`when`",
        Rule::kw_candidates => "`candidates`",
        Rule::kw_exclude => "`exclude`",
        Rule::kw_prefer => "`prefer`",
        Rule::kw_score => "`score`",
        Rule::kw_rank => "`rank`",
        Rule::kw_fill => "`fill`",
        Rule::kw_fallback => "`fallback`",
        Rule::kw_otherwise => "`otherwise`",
        Rule::kw_promise => "`promise`",
        Rule::all_or_nothing | Rule::kw_all => "`all or nothing`",
        Rule::ship_complete | Rule::kw_ship => "`ship complete`",
        Rule::kw_complete => "`complete`",
        Rule::exclude_target => "`location`, `store`, `dc` or `dropship`",
        Rule::split_mode
        | Rule::split_none
        | Rule::split_at_most
        | Rule::split_allowed
        | Rule::kw_none
        | Rule::kw_at
        | Rule::kw_allowed => "`none`, `at most` or `allowed`",
        Rule::split_option | Rule::penalty | Rule::lines_whole | Rule::lines_may_split => {
            "`penalty`, `lines whole` or `lines may split`"
        }
        Rule::promise_required
        | Rule::promise_preferred
        | Rule::promise_ignored
        | Rule::kw_required
        | Rule::kw_preferred
        | Rule::kw_ignored => "`required`, `preferred` or `ignored`",
        Rule::kw_backorder | Rule::kw_unsourced => "`backorder` or `unsourced`",
        Rule::kw_penalty => "`penalty`",
        Rule::kw_lines => "`lines`",
        Rule::kw_whole | Rule::kw_may => "`whole` or `may split`",
        Rule::kw_most => "`most`",
        Rule::kw_by => "`by`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::kw_if => "`if`",
        Rule::kw_desc | Rule::kw_asc => "`desc` or `asc`",
        Rule::reason | Rule::kw_reason => "`reason`",
        Rule::kw_tagged => "`tagged`",
        Rule::kw_in => "`in`",
        Rule::kw_country | Rule::kw_region => "`country` or `region`",
        Rule::kw_where | Rule::where_filter => "`where`",
        Rule::kw_or => "`or`",
        Rule::kw_nothing => "`nothing`",
        Rule::kw_starts => "`starts with`",
        Rule::kw_with => "`with`",
        Rule::kw_split => "`split`",
        Rule::set_filter | Rule::tagged_filter | Rule::country_filter | Rule::region_filter => {
            "a filter (`tagged`, `in country`, `in region`, `where`)"
        }
        Rule::const_value => "a number or `true`/`false`",
        Rule::set_list
        | Rule::set_expr
        | Rule::set_base
        | Rule::set_all
        | Rule::set_dcs
        | Rule::set_stores
        | Rule::set_dropship
        | Rule::set_pickup
        | Rule::id_list => "a location set",
        Rule::expr
        | Rule::op_expr
        | Rule::primary
        | Rule::paren
        | Rule::if_expr
        | Rule::list
        | Rule::call
        | Rule::prefix => "a value",
        Rule::op_not => "`not`",
        Rule::op_neg => "`-`",
        Rule::infix
        | Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_ge
        | Rule::op_lt
        | Rule::op_gt
        | Rule::op_in
        | Rule::op_has
        | Rule::op_starts_with
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div => "an operator",
        Rule::rank_key => "a ranking criterion",
        Rule::param | Rule::params => "a parameter (`name: type`)",
    };
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule that pest may list as expected has a name for people, not a rule name.
    #[test]
    fn friendly_names_never_show_rule_names() {
        for &rule in Rule::all_rules() {
            let Some(name) = friendly_name(rule) else {
                continue;
            };
            let raw = format!("{rule:?}");
            assert!(!name.contains('_'), "{raw}: {name}");
            assert!(!name.contains(&raw) || !raw.contains('_'), "{raw}: {name}");
            assert!(!name.contains("bad"), "{raw}: {name}");
        }
    }

    #[test]
    fn error_alternatives_are_never_expected() {
        let expected = describe_expected(&[Rule::unit, Rule::bad_unit, Rule::rbrace]);
        assert_eq!(expected, "a unit or `}`");
    }
}
