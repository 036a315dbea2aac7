//! `sourcing test`: the analysts' cases beside every shipped rule file pass, and a case that
//! does not hold fails with what was expected, what came out and the explanation.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;
use std::path::Path;
use support::sourcing;

#[test]
fn every_shipped_rule_file_passes_its_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = sourcing(root, &["test", "rules"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    // Every rule file has cases, and each has at least two.
    for entry in std::fs::read_dir(root.join("rules")).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "rules") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let ran = text
                .lines()
                .filter(|l| l.starts_with("ok") && l.contains(&name))
                .count();
            assert!(ran >= 2, "{name} has {ran} passing cases");
        }
    }
    assert!(text.trim_end().ends_with(", 0 failed"), "{text}");
}

#[test]
fn a_case_that_does_not_hold_fails_with_the_explanation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("rules/min-cost.rules"),
        dir.path().join("min-cost.rules"),
    )
    .unwrap();
    let data = root.join("data/example");
    let cases = format!(
        "network = {:?}\ninventory = {:?}\n\n[[case]]\nname = \"wrong on purpose\"\norder = {{ id = \"T\", ship_to = {{ lat = 50.11, lon = 8.68 }}, lines = [{{ sku = \"TSHIRT-M\", qty = 2, unit_weight_kg = 0.25 }}] }}\nexpect = {{ status = \"sourced\", locations = [\"ST-BERLIN\"], total_cost = 1.0 }}\n",
        data.join("network.json"),
        data.join("inventory.csv")
    );
    std::fs::write(dir.path().join("min-cost.cases.toml"), cases).unwrap();
    // A rule file without cases fails too.
    std::fs::write(
        dir.path().join("untested.rules"),
        "strategy \"s\" {\n  candidates all\n}\n",
    )
    .unwrap();
    let out = sourcing(dir.path(), &["test", "."]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("FAILED ./min-cost.rules :: wrong on purpose"),
        "{text}"
    );
    assert!(
        text.contains("locations: expected [\"ST-BERLIN\"], got [\"DC-KASSEL\"]"),
        "{text}"
    );
    assert!(
        text.contains("total_cost: expected 1.00, got 5.69"),
        "{text}"
    );
    assert!(
        text.contains("candidates considered"),
        "the explanation is shown: {text}"
    );
    assert!(
        text.contains("FAILED ./untested.rules: no test cases"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("0 passed, 2 failed"), "{text}");
}
