//! Editor queries over a rule file's text: the hover at an offset, the completions at an
//! offset, the definition of the name at an offset. They work on text that does not parse
//! (a file being typed): they read tokens, not the syntax tree. Offsets are bytes; the
//! language server converts them to and from the editor's positions.
//!
//! The documentation shown is the guide's own tables ([`docs`]).

pub mod docs;
mod lex;

use crate::schema;
use crate::source::Span;
use lex::{Tok, Token};

/// What a hover shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Hover {
    /// Markdown.
    pub markdown: String,
    /// The text it is about.
    pub span: Span,
}

/// What kind of thing a completion inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    /// A word of the language (`candidates`, `rank by`, `dcs`).
    Keyword,
    /// A fact (`order.channel`, `kind`) or a field after a dot.
    Fact,
    /// A term the engine computes (`distance`, `cost`).
    Term,
    /// A constant of the file.
    Constant,
    /// A group of the file.
    Group,
    /// A strategy of the file (in `fallback "…"`).
    Strategy,
    /// A script of the file.
    Script,
    /// A built-in function.
    Function,
    /// A value word (`dc`, `pickup`, `true`).
    Value,
}

/// One completion.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// What the list shows and, unless `insert` says otherwise, what is inserted.
    pub label: String,
    /// Its kind.
    pub kind: CompletionKind,
    /// A short line beside it (a type, a declaration).
    pub detail: Option<String>,
    /// Markdown documentation (a row of the guide).
    pub documentation: Option<String>,
    /// The text to insert, when not the label.
    pub insert: Option<String>,
    /// The text the completion replaces (the word being typed, or a string's inside).
    pub replace: Span,
}

/// A name the file declares.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    /// `const`, `group`, `script` or `strategy`.
    pub keyword: &'static str,
    /// The name (a strategy's without quotes).
    pub name: String,
    /// Where the name is written (a strategy's string, quotes included).
    pub span: Span,
    /// The declaration's first line, for hovers and completion details.
    pub header: String,
}

/// Every `const`, `group`, `script` and `strategy` declared at the top level, in file order.
pub fn declarations(src: &str) -> Vec<Declaration> {
    declarations_in(src, &lex::lex(src))
}

fn declarations_in(src: &str, toks: &[Token]) -> Vec<Declaration> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate() {
        match (t.kind, text(src, t)) {
            (Tok::Punct, "{") => depth += 1,
            (Tok::Punct, "}") => depth = depth.saturating_sub(1),
            (Tok::Word, w) if depth == 0 => {
                let keyword = match w {
                    "const" => "const",
                    "group" => "group",
                    "script" => "script",
                    "strategy" => "strategy",
                    _ => continue,
                };
                let Some(next) = toks.get(i + 1) else {
                    continue;
                };
                let name = match (keyword, next.kind) {
                    ("strategy", Tok::Str) => unquote(text(src, next)),
                    ("strategy", _) | (_, Tok::Str) => continue,
                    (_, Tok::Word) => text(src, next).to_string(),
                    _ => continue,
                };
                out.push(Declaration {
                    keyword,
                    name,
                    span: next.span,
                    header: header_line(src, t.span.start),
                });
            }
            _ => {}
        }
    }
    out
}

/// The hover at byte `offset`: the guide's row for a keyword, fact or term, or the
/// declaration of a name the file declares.
pub fn hover(src: &str, offset: usize) -> Option<Hover> {
    let toks = lex::lex(src);
    let mut i = token_at(&toks, offset)?;
    // On the dot of a path: the path.
    if toks.get(i).is_some_and(|t| text(src, t) == ".") && i > 0 {
        i -= 1;
    }
    let tok = toks.get(i)?;
    match tok.kind {
        Tok::Word => {}
        Tok::Str => {
            // `fallback "name"`: the strategy it names.
            let prev = i.checked_sub(1).and_then(|p| toks.get(p));
            if prev.is_some_and(|p| text(src, p) == "fallback") {
                let name = unquote(text(src, tok));
                let d = declarations_in(src, &toks)
                    .into_iter()
                    .find(|d| d.keyword == "strategy" && d.name == name)?;
                return Some(Hover {
                    markdown: code_block(&d.header),
                    span: tok.span,
                });
            }
            return None;
        }
        _ => return None,
    }
    let (first, last) = path_bounds(src, &toks, i);
    let span = Span::new(toks.get(first)?.span.start, toks.get(last)?.span.end);
    let words: Vec<&str> = (first..=last)
        .step_by(2)
        .filter_map(|k| toks.get(k).map(|t| text(src, t)))
        .collect();
    if words.len() > 1 {
        let key = fact_key(&words);
        let found: Vec<String> = docs::lookup(&key).map(docs::Entry::markdown).collect();
        return (!found.is_empty()).then(|| Hover {
            markdown: found.join("\n\n"),
            span,
        });
    }
    let word = text(src, tok);
    // A name the file declares comes first: it cannot be a keyword.
    if let Some(d) = declarations_in(src, &toks)
        .into_iter()
        .find(|d| d.keyword != "strategy" && d.name == word)
    {
        return Some(Hover {
            markdown: code_block(&d.header),
            span: tok.span,
        });
    }
    let prev = word_before(src, &toks, i);
    let next = word_after(src, &toks, i);
    let after_number = i
        .checked_sub(1)
        .and_then(|p| toks.get(p))
        .is_some_and(|p| p.kind == Tok::Number);
    let key = keyword_key(word, prev, next);
    let found: Vec<String> = docs::lookup(key)
        .filter(|e| !after_number || e.table.name == "types")
        .map(docs::Entry::markdown)
        .collect();
    (!found.is_empty()).then(|| Hover {
        markdown: found.join("\n\n"),
        span: tok.span,
    })
}

/// The declaration of the name at byte `offset` (a constant, group or script, or the
/// strategy a `fallback` names): where its name is written.
pub fn definition(src: &str, offset: usize) -> Option<Span> {
    let toks = lex::lex(src);
    let i = token_at(&toks, offset)?;
    let tok = toks.get(i)?;
    let decls = declarations_in(src, &toks);
    match tok.kind {
        Tok::Str => {
            let prev = i.checked_sub(1).and_then(|p| toks.get(p))?;
            if text(src, prev) != "fallback" {
                return None;
            }
            let name = unquote(text(src, tok));
            decls
                .into_iter()
                .find(|d| d.keyword == "strategy" && d.name == name)
                .map(|d| d.span)
        }
        Tok::Word => {
            // A field after a dot is never a declared name.
            let after_dot = i
                .checked_sub(1)
                .and_then(|p| toks.get(p))
                .is_some_and(|p| text(src, p) == "." && p.span.end == tok.span.start);
            if after_dot {
                return None;
            }
            let word = text(src, tok);
            decls
                .into_iter()
                .find(|d| d.keyword != "strategy" && d.name == word)
                .map(|d| d.span)
        }
        _ => None,
    }
}

/// The completions at byte `offset`.
pub fn completions(src: &str, offset: usize) -> Vec<Completion> {
    let offset = crate::source::clamp_to_char_boundary(src, offset);
    let toks = lex::lex(src);
    let decls = declarations_in(src, &toks);
    // Inside a comment, a script's code or a string: nothing, but the strategies in
    // `fallback "…"`.
    if let Some(t) = toks
        .iter()
        .position(|t| t.span.start < offset && offset <= t.span.end)
        .and_then(|k| toks.get(k).map(|t| (k, t)))
    {
        let (k, t) = t;
        match t.kind {
            Tok::Comment | Tok::Code if offset < t.span.end || t.kind == Tok::Comment => {
                return Vec::new()
            }
            Tok::Str => {
                let closed = text(src, t).len() > 1 && text(src, t).ends_with('"');
                if closed && offset == t.span.end {
                    return Vec::new();
                }
                let prev = k.checked_sub(1).and_then(|p| toks.get(p));
                if prev.is_none_or(|p| text(src, p) != "fallback") {
                    return Vec::new();
                }
                let inner_end = if closed { t.span.end - 1 } else { t.span.end };
                let replace = Span::new(t.span.start + 1, inner_end.max(t.span.start + 1));
                return decls
                    .iter()
                    .filter(|d| d.keyword == "strategy")
                    .map(|d| Completion {
                        label: d.name.clone(),
                        kind: CompletionKind::Strategy,
                        detail: Some(d.header.clone()),
                        documentation: None,
                        insert: None,
                        replace,
                    })
                    .collect();
            }
            _ => {}
        }
    }
    // The word being typed.
    let bytes = src.as_bytes();
    let mut start = offset;
    while start > 0
        && bytes
            .get(start - 1)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
    {
        start -= 1;
    }
    let replace = Span::new(start, offset);
    // After a dot: the fields of the path before it.
    if start > 0 && bytes.get(start - 1) == Some(&b'.') {
        let mut p = start - 1;
        while p > 0
            && bytes
                .get(p - 1)
                .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            p -= 1;
        }
        let path = src.get(p..start - 1).unwrap_or_default();
        return fields(path, replace);
    }
    let depth = brace_depth(src, &toks, start);
    let line_start = src
        .get(..start)
        .map_or(0, |s| s.rfind('\n').map_or(0, |n| n + 1));
    let at_line_start = src
        .get(line_start..start)
        .is_some_and(|s| s.trim().is_empty());
    let mut out = Vec::new();
    let kw = |label: &str, key: &str| Completion {
        label: label.to_string(),
        kind: CompletionKind::Keyword,
        detail: docs::lookup(key).next().map(|e| e.summary().to_string()),
        documentation: docs::lookup(key).next().map(docs::Entry::markdown),
        insert: None,
        replace,
    };
    if depth == 0 && at_line_start {
        for w in ["const", "group", "script", "strategy"] {
            out.push(kw(w, w));
        }
        return out;
    }
    let clause = current_clause(src, &toks, start);
    if depth > 0 && at_line_start {
        for (label, key) in CLAUSE_WORDS {
            out.push(kw(label, key));
        }
    }
    match clause {
        Some("candidates" | "prefer" | "group") => {
            for (label, key) in SET_WORDS {
                out.push(kw(label, key));
            }
            for d in decls.iter().filter(|d| d.keyword == "group") {
                out.push(declared(d, CompletionKind::Group, replace));
            }
        }
        Some("exclude") => {
            for w in ["location", "store", "dc", "dropship", "when", "reason"] {
                out.push(kw(w, if w == "location" { "exclude" } else { w }));
            }
        }
        Some("rank" | "fill") => {
            for w in [
                "fewest_shipments",
                "priority",
                "in_market",
                "score",
                "desc",
                "asc",
                "then",
            ] {
                out.push(kw(w, w));
            }
        }
        Some("split") => {
            for (label, key) in [
                ("none", "none"),
                ("at most", "at most"),
                ("allowed", "allowed"),
                ("penalty", "penalty"),
                ("lines whole", "lines whole"),
                ("lines may split", "lines may split"),
            ] {
                out.push(kw(label, key));
            }
        }
        Some("promise") => {
            for w in ["required", "preferred", "ignored", "penalty"] {
                out.push(kw(w, w));
            }
        }
        Some("otherwise") => {
            for w in ["backorder", "unsourced"] {
                out.push(kw(w, w));
            }
            return out;
        }
        Some("fallback") => {
            for d in decls.iter().filter(|d| d.keyword == "strategy") {
                let mut c = declared(d, CompletionKind::Strategy, replace);
                c.insert = Some(format!("\"{}\"", d.name));
                out.push(c);
            }
            return out;
        }
        _ => {}
    }
    expression_items(&decls, replace, &mut out);
    out
}

/// Clause keywords, with the guide's key for each.
const CLAUSE_WORDS: &[(&str, &str)] = &[
    ("when", "when"),
    ("candidates", "candidates"),
    ("exclude", "exclude"),
    ("prefer", "prefer"),
    ("score", "score"),
    ("rank by", "rank by"),
    ("fill by", "fill by"),
    ("split", "split"),
    ("promise", "promise"),
    ("all or nothing", "all or nothing"),
    ("ship complete", "ship complete"),
    ("fallback", "fallback"),
    ("otherwise", "otherwise"),
];

/// Words of location sets.
const SET_WORDS: &[(&str, &str)] = &[
    ("all", "all"),
    ("dcs", "dcs"),
    ("stores", "stores"),
    ("dropship", "dropship"),
    ("pickup_store", "pickup_store"),
    ("tagged", "tagged"),
    ("in country", "in country"),
    ("in region", "in region"),
    ("where", "where"),
];

fn declared(d: &Declaration, kind: CompletionKind, replace: Span) -> Completion {
    Completion {
        label: d.name.clone(),
        kind,
        detail: Some(d.header.clone()),
        documentation: None,
        insert: None,
        replace,
    }
}

/// What an expression may name: facts, terms, the file's constants and scripts, functions,
/// values and operator words.
fn expression_items(decls: &[Declaration], replace: Span, out: &mut Vec<Completion>) {
    let item = |label: &str, kind: CompletionKind, key: &str, insert: Option<String>| {
        let doc = docs::lookup(key).next();
        Completion {
            label: label.to_string(),
            kind,
            detail: doc.map(|e| e.summary().to_string()),
            documentation: doc.map(docs::Entry::markdown),
            insert,
            replace,
        }
    };
    for root in ["order", "line", "location"] {
        out.push(item(root, CompletionKind::Fact, root, None));
    }
    for t in schema::TERMS {
        out.push(item(t.name, CompletionKind::Term, t.name, None));
    }
    for f in schema::LOCATION {
        out.push(item(f.name, CompletionKind::Fact, f.name, None));
    }
    for d in decls {
        match d.keyword {
            "const" => out.push(declared(d, CompletionKind::Constant, replace)),
            "script" => {
                let mut c = declared(d, CompletionKind::Script, replace);
                c.insert = Some(format!("{}(", d.name));
                out.push(c);
            }
            _ => {}
        }
    }
    for f in schema::FUNCTIONS {
        out.push(item(f, CompletionKind::Function, f, Some(format!("{f}("))));
    }
    for v in schema::VALUE_WORDS.iter().chain(&["true", "false"]) {
        out.push(item(v, CompletionKind::Value, v, None));
    }
    for w in [
        "and",
        "or",
        "not",
        "in",
        "has",
        "starts with",
        "if",
        "then",
        "else",
    ] {
        out.push(item(w, CompletionKind::Keyword, w, None));
    }
}

/// The fields after `path.` (`order`, `order.ship_to`, `location`, `line`).
fn fields(path: &str, replace: Span) -> Vec<Completion> {
    let (table, rest, root) = match path.split_once('.') {
        Some((root, rest)) => (root, Some(rest), root),
        None => (path, None, path),
    };
    let table = match table {
        "order" => schema::ORDER,
        "line" => schema::LINE,
        "location" => schema::LOCATION,
        _ => return Vec::new(),
    };
    let prefix = rest.map(|r| format!("{r}."));
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    let names = table.iter().map(|f| f.name).chain(["attr.<name>"]);
    for name in names {
        let tail = match &prefix {
            Some(p) => match name.strip_prefix(p.as_str()) {
                Some(t) => t,
                None => continue,
            },
            None => name,
        };
        let field = tail.split('.').next().unwrap_or(tail);
        if field.starts_with('<') || seen.contains(&field) {
            continue;
        }
        seen.push(field);
        let full = format!("{root}.{name}");
        let doc = docs::lookup(&full).next().filter(|_| !tail.contains('.'));
        out.push(Completion {
            label: field.to_string(),
            kind: CompletionKind::Fact,
            detail: doc.map(|e| e.cells.get(1).copied().unwrap_or_default().to_string()),
            documentation: doc.map(docs::Entry::markdown),
            insert: None,
            replace,
        });
    }
    out
}

/// The clause keyword (or `group` at the top level) that the text before `offset` is in.
fn current_clause<'a>(src: &'a str, toks: &[Token], offset: usize) -> Option<&'a str> {
    let mut depth = 0usize;
    let mut clause = None;
    for t in toks.iter().take_while(|t| t.span.end <= offset) {
        match (t.kind, text(src, t)) {
            (Tok::Punct, "{") => {
                depth += 1;
                clause = None;
            }
            (Tok::Punct, "}") => {
                depth = depth.saturating_sub(1);
                clause = None;
            }
            (Tok::Word, w @ ("const" | "group" | "script" | "strategy")) if depth == 0 => {
                clause = Some(w);
            }
            // `exclude … when` stays an exclusion.
            (Tok::Word, "when") if depth == 1 && clause == Some("exclude") => {}
            (
                Tok::Word,
                w @ ("when" | "candidates" | "exclude" | "prefer" | "score" | "rank" | "fill"
                | "split" | "fallback" | "otherwise" | "promise"),
            ) if depth == 1 => clause = Some(w),
            _ => {}
        }
    }
    clause
}

fn brace_depth(src: &str, toks: &[Token], offset: usize) -> usize {
    let mut depth = 0usize;
    for t in toks.iter().take_while(|t| t.span.end <= offset) {
        match (t.kind, text(src, t)) {
            (Tok::Punct, "{") => depth += 1,
            (Tok::Punct, "}") => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth
}

/// The guide's key for a word, from the words beside it (`all or nothing`, `in country`).
fn keyword_key<'a>(word: &'a str, prev: Option<&str>, next: Option<&str>) -> &'a str {
    match (prev, word, next) {
        (_, "all", Some("or")) | (Some("all"), "or", Some("nothing")) | (_, "nothing", _) => {
            "all or nothing"
        }
        (_, "ship", Some("complete")) | (_, "complete", _) => "ship complete",
        (_, "in", Some("country")) | (Some("in"), "country", _) => "in country",
        (_, "in", Some("region")) | (Some("in"), "region", _) => "in region",
        (_, "lines", Some("whole")) | (Some("lines"), "whole", _) => "lines whole",
        (_, "lines", Some("may")) | (Some("lines"), "may", _) | (Some("may"), "split", _) => {
            "lines may split"
        }
        (_, "fill", _) | (Some("fill"), "by", _) => "fill by",
        (_, "rank" | "by", _) => "rank by",
        (_, "at" | "most", _) => "at most",
        (_, "starts" | "with", _) => "starts with",
        (Some(","), "then", _) => "rank by",
        _ => word,
    }
}

/// `order.ship_to.country` → itself; `order.attr.vip` → `order.attr.<name>`.
fn fact_key(words: &[&str]) -> String {
    match words {
        [root, "attr", ..] => format!("{root}.attr.<name>"),
        _ => words.join("."),
    }
}

/// The first and last token of the dotted path through token `i` (words joined by dots
/// with no space between).
fn path_bounds(src: &str, toks: &[Token], i: usize) -> (usize, usize) {
    let joined = |a: usize, b: usize| -> bool {
        match (toks.get(a), toks.get(b)) {
            (Some(x), Some(y)) => x.span.end == y.span.start,
            _ => false,
        }
    };
    let is = |k: usize, kind: Tok, s: Option<&str>| {
        toks.get(k)
            .is_some_and(|t| t.kind == kind && s.is_none_or(|s| text(src, t) == s))
    };
    let mut first = i;
    while first >= 2
        && is(first - 1, Tok::Punct, Some("."))
        && is(first - 2, Tok::Word, None)
        && joined(first - 2, first - 1)
        && joined(first - 1, first)
    {
        first -= 2;
    }
    let mut last = i;
    while is(last + 1, Tok::Punct, Some("."))
        && is(last + 2, Tok::Word, None)
        && joined(last, last + 1)
        && joined(last + 1, last + 2)
    {
        last += 2;
    }
    (first, last)
}

fn word_before<'a>(src: &'a str, toks: &[Token], i: usize) -> Option<&'a str> {
    let t = toks.get(i.checked_sub(1)?)?;
    matches!(t.kind, Tok::Word | Tok::Punct).then(|| text(src, t))
}

fn word_after<'a>(src: &'a str, toks: &[Token], i: usize) -> Option<&'a str> {
    let t = toks.get(i + 1)?;
    (t.kind == Tok::Word).then(|| text(src, t))
}

/// The token under `offset`, or the one that ends right at it (the cursor after a word).
fn token_at(toks: &[Token], offset: usize) -> Option<usize> {
    toks.iter()
        .position(|t| t.span.contains(offset))
        .or_else(|| {
            toks.iter()
                .position(|t| t.span.end == offset && t.kind == Tok::Word)
        })
}

fn text<'a>(src: &'a str, t: &Token) -> &'a str {
    src.get(t.span.start..t.span.end).unwrap_or_default()
}

fn unquote(s: &str) -> String {
    let s = s.strip_prefix('"').unwrap_or(s);
    s.strip_suffix('"')
        .unwrap_or(s)
        .replace("\\\"", "\"")
        .replace("\\\\", "\\")
}

/// The line a declaration starts on, trimmed, with a trailing comment and `{` dropped.
fn header_line(src: &str, start: usize) -> String {
    let rest = src.get(start..).unwrap_or_default();
    let line = rest.lines().next().unwrap_or_default();
    let line = line.split(" #").next().unwrap_or(line);
    line.trim_end().trim_end_matches('{').trim_end().to_string()
}

fn code_block(text: &str) -> String {
    format!("```sourcing-rules\n{text}\n```")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "const keep = 2   # units a store keeps\n\
        group north = stores in region \"HH\"\n\
        script bump(d: days) -> money { d * 0.1 }\n\
        strategy \"a\" {\n  when order.channel == \"web\"\n  candidates north, dcs\n  \
        exclude store when atp - line.qty < keep reason \"keep\"\n  \
        score cost + bump(days)\n  fallback \"b\"\n}\n\
        strategy \"b\" {\n  candidates all\n  all or nothing\n}\n";

    fn at(needle: &str, nth: usize) -> usize {
        SRC.match_indices(needle)
            .nth(nth)
            .map(|(i, _)| i + 1)
            .unwrap_or(usize::MAX)
    }

    #[test]
    fn hover_on_keywords_facts_terms_and_names() {
        let h = |o| hover(SRC, o).map(|h| h.markdown).unwrap_or_default();
        assert!(h(at("candidates", 0)).contains("where units may come from"));
        assert!(h(at("channel", 0)).contains("`order.channel`"));
        assert!(h(at(".channel", 0) - 1).contains("`order.channel`"));
        // The whole path is the hover's span, from any of its words.
        let on_root = hover(SRC, at("order.", 0)).map(|h| h.span);
        assert_eq!(on_root.map(|s| &SRC[s.start..s.end]), Some("order.channel"));
        assert!(h(at("atp", 0)).contains("available to promise"));
        assert!(h(at("keep reason", 0)).contains("const keep = 2"));
        assert!(h(at("all or", 0)).contains("place the whole order here"));
        assert!(h(at("or nothing", 0)).contains("place the whole order here"));
        assert!(h(at("all\n", 0)).contains("every location"));
        assert!(h(at("\"b\"", 0)).contains("strategy \"b\""));
        // Comments, script code and numbers have none.
        assert_eq!(hover(SRC, at("units a store", 0)), None);
        assert_eq!(hover(SRC, at("0.1", 0)), None);
        assert_eq!(hover(SRC, at("2 ", 0) - 1), None);
    }

    #[test]
    fn definitions_of_constants_groups_scripts_and_fallbacks() {
        let def = |o| definition(SRC, o).map(|s| &SRC[s.start..s.end]);
        assert_eq!(def(at("keep reason", 0)), Some("keep"));
        assert_eq!(
            definition(SRC, at("keep reason", 0)).map(|s| s.start),
            Some(6)
        );
        assert_eq!(def(at("north,", 0)), Some("north"));
        assert_eq!(def(at("bump(days)", 0)), Some("bump"));
        assert_eq!(def(at("\"b\"\n}", 0)), Some("\"b\""));
        assert_eq!(def(at("dcs", 0)), None);
    }

    #[test]
    fn completions_follow_the_context() {
        let labels = |src: &str, o: usize| -> Vec<String> {
            completions(src, o).into_iter().map(|c| c.label).collect()
        };
        let top = labels("", 0);
        assert_eq!(top, ["const", "group", "script", "strategy"]);
        let src = "strategy \"a\" {\n  when order.";
        let fields = labels(src, src.len());
        assert!(fields.contains(&"channel".to_string()), "{fields:?}");
        assert!(fields.contains(&"ship_to".to_string()));
        let src = "strategy \"a\" {\n  when order.ship_to.co";
        let nested = labels(src, src.len());
        assert_eq!(nested, ["country", "region", "postal_code"]);
        let src = "const keep = 2\ngroup g = dcs\nstrategy \"a\" {\n  candidates \n  fallback \"\"\n}\nstrategy \"zz\" {\n  candidates all\n}\n";
        let sets = labels(src, src.find("candidates ").unwrap_or(0) + 11);
        assert!(sets.contains(&"g".to_string()) && sets.contains(&"dcs".to_string()));
        let in_string = labels(src, src.find("\"\"").unwrap_or(0) + 1);
        assert_eq!(in_string, ["a", "zz"]);
        let clause = labels(src, src.find("  fallback").unwrap_or(0) + 2);
        assert!(clause.contains(&"rank by".to_string()) && clause.contains(&"keep".to_string()));
        assert!(labels("# a comm", 8).is_empty());
    }
}
