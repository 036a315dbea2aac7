//! The VS Code extension in `editors/vscode/`: its manifest names files that exist, every
//! regular expression of its TextMate grammars compiles (checked with `fancy-regex`, whose
//! syntax is close to Oniguruma's for what the grammars use), and the rules grammar
//! highlights every keyword of the language's grammar.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode")
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Every `match`, `begin`, `end` and `while` of a grammar, with where it is.
fn regexes(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let here = format!("{at}/{k}");
                match (k.as_str(), x) {
                    ("match" | "begin" | "end" | "while", Value::String(re)) => {
                        out.push((here, re.clone()))
                    }
                    _ => regexes(x, &here, out),
                }
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                regexes(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn grammars() -> Vec<(PathBuf, Value)> {
    let manifest = json(&folder().join("package.json"));
    let list = manifest["contributes"]["grammars"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(list.len(), 2);
    list.iter()
        .map(|g| {
            let path = folder().join(g["path"].as_str().unwrap_or_default());
            let grammar = json(&path);
            assert_eq!(grammar["scopeName"], g["scopeName"], "{}", path.display());
            (path, grammar)
        })
        .collect()
}

#[test]
fn the_manifest_names_what_is_there() {
    let manifest = json(&folder().join("package.json"));
    assert!(folder()
        .join(manifest["main"].as_str().unwrap_or_default())
        .is_file());
    let languages = manifest["contributes"]["languages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rules = languages
        .iter()
        .find(|l| l["id"] == "sourcing-rules")
        .expect("rules language");
    assert_eq!(rules["extensions"], serde_json::json!([".rules"]));
    let cases = languages
        .iter()
        .find(|l| l["id"] == "toml")
        .expect("toml language");
    assert_eq!(
        cases["filenamePatterns"],
        serde_json::json!(["*.cases.toml"])
    );
    for l in &languages {
        let conf = json(&folder().join(l["configuration"].as_str().unwrap_or_default()));
        assert_eq!(conf["comments"]["lineComment"], "#");
    }
    let path = &manifest["contributes"]["configuration"]["properties"]["sourcing.server.path"];
    assert_eq!(path["default"], "sourcing");
    let script = std::fs::read_to_string(folder().join("extension.js")).unwrap_or_default();
    assert!(script.contains("'server.path'") && script.contains("['lsp'"));
}

#[test]
fn every_grammar_regex_compiles() {
    let mut count = 0;
    for (path, grammar) in grammars() {
        let mut found = Vec::new();
        regexes(&grammar, "", &mut found);
        assert!(found.len() > 5, "{}", path.display());
        for (at, re) in found {
            count += 1;
            if let Err(e) = fancy_regex::Regex::new(&re) {
                panic!("{}{at}: `{re}` does not compile: {e}", path.display());
            }
        }
    }
    assert!(count > 40, "{count}");
}

#[test]
fn the_rules_grammar_highlights_the_language() {
    let (_, grammar) = grammars()
        .into_iter()
        .find(|(_, g)| g["scopeName"] == "source.sourcing-rules")
        .expect("rules grammar");
    let repo = &grammar["repository"];
    let whole = |name: &str, word: &str| -> bool {
        let mut found = Vec::new();
        regexes(&repo[name], "", &mut found);
        found.iter().any(|(_, re)| {
            fancy_regex::Regex::new(&format!("^(?:{re})$"))
                .is_ok_and(|r| r.is_match(word).unwrap_or(false))
        })
    };
    let pest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("dsl/src/grammar.pest"))
            .unwrap_or_default();
    let keywords: Vec<&str> = pest
        .lines()
        .filter_map(|l| l.strip_prefix("kw_"))
        .filter_map(|l| l.split('"').nth(1))
        .filter(|k| *k != "test")
        .collect();
    assert!(keywords.len() > 40);
    for k in keywords {
        assert!(
            whole("keyword", k) || whole("operator-word", k),
            "keyword `{k}` is not highlighted as a keyword"
        );
    }
    for (text, unit) in [
        ("300 km", "km"),
        ("4.50 EUR", "EUR"),
        ("15 %", "%"),
        ("2 days", "days"),
    ] {
        let re = fancy_regex::Regex::new(repo["number"]["match"].as_str().unwrap_or_default())
            .expect("number regex");
        let caps = re.captures(text).ok().flatten().expect("a number");
        assert_eq!(caps.get(0).map(|m| m.as_str()), Some(text));
        assert!(
            caps.iter().skip(2).flatten().any(|m| m.as_str() == unit),
            "{text}"
        );
    }
    assert!(whole("comment", "# a comment"));
    assert!(whole("fact", "order.ship_to.country"));
}
