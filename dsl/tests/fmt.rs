//! The formatter: snapshots of `corpus/fmt/ok`, diagnostics for `corpus/fmt/err`, and over
//! every good file of every suite: formatting is idempotent and keeps the AST.
#![allow(clippy::panic, reason = "tests fail by panicking")]

mod support;

#[test]
fn fmt_ok() {
    insta::glob!("corpus/fmt/ok/*.rules", |path| {
        let name = support::corpus_name(path);
        let out = sourcing_dsl::format(&name, &support::read_text(path))
            .unwrap_or_else(|d| panic!("{name} should format:\n{}", d.render()));
        insta::assert_snapshot!(out);
    });
}

#[test]
fn fmt_err() {
    insta::glob!("corpus/fmt/err/*.rules", |path| {
        let name = support::corpus_name(path);
        match sourcing_dsl::format(&name, &support::read_text(path)) {
            Ok(_) => panic!("{name} should not format"),
            Err(d) => insta::assert_snapshot!(d.render()),
        }
    });
}

/// `format` is idempotent and `parse(format(x)) == parse(x)`, on every good corpus file.
#[test]
fn round_trip_on_every_good_file() {
    let mut seen = 0;
    for suite in ["parse", "check", "fmt"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus")
            .join(suite)
            .join("ok");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "rules"))
            .collect();
        paths.sort();
        for path in paths {
            let name = support::corpus_name(&path);
            let src = support::read_text(&path);
            let ast = sourcing_dsl::parse(&name, &src)
                .unwrap_or_else(|d| panic!("{name}:\n{}", d.render()));
            let once = sourcing_dsl::format_ast(&ast);
            let reparsed = sourcing_dsl::parse(&name, &once).unwrap_or_else(|d| {
                panic!(
                    "{name}: formatted text does not parse:\n{}\n{once}",
                    d.render()
                )
            });
            assert_eq!(reparsed, ast, "{name}: formatting changed the AST:\n{once}");
            let twice = sourcing_dsl::format_ast(&reparsed);
            assert_eq!(twice, once, "{name}: formatting is not idempotent");
            // Files written in canonical tokens (only spacing and line breaks to fix): every
            // comment still follows the code it followed.
            if name.contains("/comments-") {
                assert_same_attachments(&name, &ast, &reparsed, &once);
            }
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} good files");
}

/// A comment inserted at any space of a good file survives formatting, which stays
/// idempotent and keeps the AST.
#[test]
fn comments_anywhere() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/check/ok");
    let mut checked = 0;
    for file in ["ship-from-store-first.rules", "click-and-collect.rules"] {
        let src = support::read_text(&dir.join(file));
        for (at, _) in src.match_indices(' ') {
            for insert in [" # note\n", "\n# own line\n\n"] {
                let text = format!("{}{insert}{}", &src[..at], &src[at..]);
                let Ok(ast) = sourcing_dsl::parse(file, &text) else {
                    continue; // inside a string: no longer a good file
                };
                let once = sourcing_dsl::format_ast(&ast);
                let again = sourcing_dsl::parse(file, &once)
                    .unwrap_or_else(|d| panic!("{file}@{at}: {}\n{once}", d.render()));
                assert_eq!(again, ast, "{file}@{at}: AST changed:\n{once}");
                assert_same_attachments(&format!("{file}@{at}"), &ast, &again, &once);
                assert_eq!(
                    sourcing_dsl::format_ast(&again),
                    once,
                    "{file}@{at}: not idempotent"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} variants parsed");
}

/// For each comment, the code before it, without white space and comments.
fn code_before_comments(ast: &sourcing_dsl::Ast) -> Vec<String> {
    let text = &ast.source.text;
    let mut out = Vec::new();
    let mut code = String::new();
    let mut at = 0;
    for c in &ast.comments {
        let gap = text.get(at..c.span.start).unwrap_or_default();
        code.extend(gap.chars().filter(|ch| !ch.is_whitespace()));
        out.push(code.clone());
        at = c.span.end;
    }
    out
}

/// Every comment of `formatted` follows the same code as in the original: formatting moved
/// no comment past a token. The one exception is a comment between a strategy's name and
/// its `{`, which ends the header line, after the `{`.
fn assert_same_attachments(
    name: &str,
    original: &sourcing_dsl::Ast,
    formatted: &sourcing_dsl::Ast,
    text: &str,
) {
    let before = code_before_comments(original);
    let after = code_before_comments(formatted);
    assert_eq!(before.len(), after.len(), "{name}: comments lost:\n{text}");
    for ((b, a), c) in before.iter().zip(&after).zip(&original.comments) {
        let tail = |s: &str| {
            s.chars()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<String>()
        };
        assert!(
            a == b || *a == format!("{b}{{"),
            "{name}: comment {:?} moved: it followed `…{}`, now `…{}`:\n{text}",
            c.text,
            tail(b),
            tail(a)
        );
    }
}
