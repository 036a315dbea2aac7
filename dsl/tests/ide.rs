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
