//! Entry points for fuzzing the rule language.
//!
//! Each function takes any bytes and panics if an invariant breaks. The `fuzz/` crate
//! calls them from its targets, and the crate's tests call them on random and mutated
//! inputs.

use crate::{check, compile_bytes, format_ast, parse};

/// Parser and checker: a rule set comes with no error and no rule set with one; every
/// diagnostic points into the file and renders, as text and as JSON.
pub fn rules(data: &[u8]) {
    let (set, diags) = compile_bytes("fuzz.rules", data);
    assert_eq!(set.is_some(), !diags.has_errors(), "{}", diags.render());
    let len = diags.source().text.len();
    for d in diags.iter() {
        for label in std::iter::once(&d.primary).chain(&d.secondary) {
            assert!(
                label.span.start <= label.span.end && label.span.end <= len,
                "{}: span {:?} outside a file of {len} bytes",
                d.code,
                label.span
            );
        }
    }
    let _ = diags.render();
    let _ = diags.render_short_all();
    assert!(serde_json::to_string(&diags.to_json()).is_ok());
}

/// Formatter: the formatted text parses to the same tree (comments included), checks to
/// the same diagnostics, and formatting it again changes nothing.
pub fn format(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(ast) = parse("fuzz.rules", text) else {
        return;
    };
    let once = format_ast(&ast);
    let again = parse("fuzz.rules", &once);
    assert!(
        again.is_ok(),
        "the formatted text does not parse:\n{once}\n{}",
        again.as_ref().err().map(|d| d.render()).unwrap_or_default()
    );
    let Ok(again) = again else { return };
    assert_eq!(again, ast, "formatting changed the tree:\n{once}");
    let twice = format_ast(&again);
    assert_eq!(twice, once, "formatting twice changed the text");
    let codes = |a| {
        let (set, diags) = check(a);
        let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
        (set.is_some(), codes)
    };
    assert_eq!(codes(&ast), codes(&again), "{once}");
}

/// Editor queries (`ide`): hover, completions and definition at offsets spread over the text
/// (every one in a text of up to 64 bytes, inside characters too) answer with spans inside the text.
pub fn ide(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let len = text.len();
    let step = (len / 64).max(1);
    for offset in (0..=len + 1).step_by(step) {
        if let Some(h) = crate::ide::hover(&text, offset) {
            assert!(h.span.start <= h.span.end && h.span.end <= len, "{h:?}");
        }
        for c in crate::ide::completions(&text, offset) {
            assert!(
                c.replace.start <= c.replace.end && c.replace.end <= len,
                "{c:?}"
            );
        }
        if let Some(s) = crate::ide::definition(&text, offset) {
            assert!(s.start < s.end && s.end <= len, "{s:?}");
        }
    }
}
