//! The syntax corpus: `corpus/parse/ok` parses (AST snapshots), `corpus/parse/err` gives
//! syntax diagnostics (rendered snapshots).
#![allow(clippy::panic, reason = "tests fail by panicking")]

mod support;

#[test]
fn parse_ok() {
    insta::glob!("corpus/parse/ok/*.rules", |path| {
        let name = support::corpus_name(path);
        let ast = sourcing_dsl::parse(&name, &support::read_text(path))
            .unwrap_or_else(|d| panic!("{name} should parse:\n{}", d.render()));
        insta::assert_yaml_snapshot!(ast);
    });
}

#[test]
fn parse_err() {
    insta::glob!("corpus/parse/err/*.rules", |path| {
        let name = support::corpus_name(path);
        match sourcing_dsl::parse_bytes(&name, &support::read(path)) {
            Ok(_) => panic!("{name} should not parse"),
            Err(d) => {
                assert!(d.has_errors(), "{name}: diagnostics without an error");
                expect_code(&name, &d);
                insta::assert_snapshot!(d.render());
            }
        }
    });
}

/// Corpus files named `S004-…` must produce diagnostic `S004`.
fn expect_code(name: &str, d: &sourcing_dsl::Diagnostics) {
    let file = name.rsplit('/').next().unwrap_or(name);
    if let Some(code) = file.split('-').next().filter(|c| c.len() == 4) {
        assert!(
            d.iter().any(|x| x.code == code),
            "{name} should produce {code}, got:\n{}",
            d.render()
        );
    }
}
