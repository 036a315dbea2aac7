//! The guide's reference tables are the hover texts: each table of `docs/language.md` after a
//! `<!-- table: NAME -->` marker is exactly the one `sourcing_dsl::ide::docs` renders.
//! `UPDATE_LANGUAGE_DOCS=1 cargo test -p sourcing-dsl --test ide` writes them into the guide.
#![allow(clippy::panic, reason = "tests fail by panicking")]

mod support;

use sourcing_dsl::ide::docs;

/// The guide with every marked table replaced by the rendered one, and the names found.
fn with_tables(guide: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut found = Vec::new();
    let mut lines = guide.lines().peekable();
    while let Some(line) = lines.next() {
        out.push_str(line);
        out.push('\n');
        let Some(name) = line
            .strip_prefix("<!-- table: ")
            .and_then(|r| r.strip_suffix(" -->"))
        else {
            continue;
        };
        let Some(table) = docs::TABLES.iter().find(|t| t.name == name) else {
            panic!("docs/language.md marks an unknown table `{name}`");
        };
        found.push(name.to_string());
        while lines.peek().is_some_and(|l| l.starts_with('|')) {
            lines.next();
        }
        out.push_str(&docs::render(table));
        out.push('\n');
    }
    (out, found)
}

#[test]
fn the_guide_shows_the_hover_tables() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/language.md");
    let guide = support::read_text(&path);
    let (expected, found) = with_tables(&guide);
    let names: Vec<&str> = docs::TABLES.iter().map(|t| t.name).collect();
    assert_eq!(found, names, "every table once, in this order");
    if std::env::var_os("UPDATE_LANGUAGE_DOCS").is_some() {
        if let Err(e) = std::fs::write(&path, &expected) {
            panic!("cannot write {}: {e}", path.display());
        }
        return;
    }
    for (a, b) in guide.lines().zip(expected.lines()) {
        assert_eq!(
            a, b,
            "docs/language.md differs from the hover tables (dsl/src/ide/docs.rs); \
             UPDATE_LANGUAGE_DOCS=1 cargo test -p sourcing-dsl --test ide rewrites it"
        );
    }
    assert_eq!(guide.lines().count(), expected.lines().count());
}

#[test]
fn every_row_renders_as_one_table_line() {
    for e in docs::ENTRIES {
        assert_eq!(e.cells.len(), e.table.headers.len(), "{}", e.row());
        assert!(!e.row().contains('\n'), "{}", e.row());
        let hover = e.markdown();
        assert!(hover.starts_with(&docs::header(e.table)) && hover.ends_with(&e.row()));
    }
}

/// Hover, completion and definition at every offset (also inside characters) of every
/// bundled rule file, and of cut and mangled copies: no panic, spans inside the text.
#[test]
fn queries_never_fail_on_any_text() {
    use sourcing_dsl::ide;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let mut texts = vec![
        String::new(),
        "\u{feff}strategy \"é\" {\n  when order.\n".to_string(),
        "script f(a: km) -> km { \"}\" /* { */ a".to_string(),
        "\"\\".to_string(),
        "order..x.".to_string(),
        "fallback \"".to_string(),
    ];
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
    {
        let text = support::read_text(path);
        let cut = text.get(..text.len() / 2).unwrap_or_default().to_string();
        let mangled: String = text.chars().rev().collect();
        texts.extend([text, cut, mangled.replace('\n', "𝄞\n")]);
    }
    assert!(texts.len() > 20);
    let mut hovers = 0;
    for text in &texts {
        for offset in 0..=text.len() + 1 {
            if let Some(h) = ide::hover(text, offset) {
                assert!(h.span.start <= h.span.end && h.span.end <= text.len());
                hovers += 1;
            }
            for c in ide::completions(text, offset) {
                assert!(c.replace.start <= c.replace.end && c.replace.end <= text.len());
            }
            if let Some(s) = ide::definition(text, offset) {
                assert!(s.start < s.end && s.end <= text.len());
            }
        }
    }
    assert!(hovers > 1000, "{hovers}");
}

/// Every bundled rule file: each declared constant, group and script used in it leads
/// back to its declaration, and every word with a row shows it.
#[test]
fn bundled_files_hover_and_jump() {
    use sourcing_dsl::ide;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../rules/ship-from-store-first.rules");
    let text = support::read_text(&path);
    let decls = ide::declarations(&text);
    assert!(decls.iter().any(|d| d.keyword == "const"), "{decls:?}");
    for d in decls.iter().filter(|d| d.keyword == "const") {
        let uses: Vec<usize> = text
            .match_indices(d.name.as_str())
            .map(|(i, _)| i)
            .filter(|&i| i != d.span.start)
            .collect();
        assert!(!uses.is_empty(), "{} unused", d.name);
        for u in uses {
            assert_eq!(
                ide::definition(&text, u).map(|s| s.start),
                Some(d.span.start)
            );
            let h = ide::hover(&text, u).map(|h| h.markdown).unwrap_or_default();
            assert!(h.contains(&format!("const {}", d.name)), "{h}");
        }
    }
    let exclude = text.find("exclude").unwrap_or(0);
    let h = ide::hover(&text, exclude)
        .map(|h| h.markdown)
        .unwrap_or_default();
    assert!(h.contains("drops candidates"), "{h}");
}
