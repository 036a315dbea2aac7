//! The fuzz entry points (`sourcing_dsl::fuzz`) on random bytes and on mutations of the
//! bundled rule files and the test corpus: a few seconds of what `scripts/fuzz.sh` runs
//! for as long as it is given.
#![allow(clippy::expect_used, reason = "tests fail by panicking")]

#[path = "../../engine/tests/support/mutate.rs"]
mod mutate;

use mutate::smoke;
use sourcing_dsl::fuzz;
use std::path::{Path, PathBuf};

fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rule_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rules") {
            out.push(path);
        }
    }
}

/// The bundled rule files and the good files of the corpus (but the few large ones, which
/// the corpus tests cover and which are slow to mutate in a debug build).
fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    rule_files(&root.join("../rules"), &mut paths);
    for suite in ["parse", "check", "fmt"] {
        rule_files(
            &root.join("tests/corpus").join(suite).join("ok"),
            &mut paths,
        );
    }
    paths.sort();
    assert!(paths.len() > 10, "the seeds are found");
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("readable"))
        .filter(|s| s.len() <= 2000)
        .collect()
}

/// The seeds and the inputs that once broke `target` (`fuzz/regressions/TARGET/`).
fn with_regressions(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.expect("an entry").path()).collect())
        .unwrap_or_default();
    found.sort();
    let mut all = seeds();
    all.extend(found.iter().map(|p| std::fs::read(p).expect("readable")));
    all
}

#[test]
fn rules() {
    smoke(fuzz::rules, &with_regressions("rules"), 25, 11);
}

#[test]
fn format() {
    smoke(fuzz::format, &with_regressions("fmt"), 25, 12);
}

#[test]
fn ide() {
    smoke(fuzz::ide, &with_regressions("ide"), 3, 13);
}
