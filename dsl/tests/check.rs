//! The check corpus: `corpus/check/ok` passes without errors (IR snapshots and any warnings),
//! `corpus/check/err` gives the diagnostic its name starts with (rendered snapshots).
#![allow(clippy::panic, reason = "tests fail by panicking")]

mod support;

#[test]
fn check_ok() {
    insta::glob!("corpus/check/ok/*.rules", |path| {
        let name = support::corpus_name(path);
        let (rules, diags) = sourcing_dsl::compile_source(&name, &support::read_text(path));
        let Some(rules) = rules else {
            panic!("{name} should check:\n{}", diags.render());
        };
        assert!(
            !diags.has_warnings(),
            "{name} has warnings:\n{}",
            diags.render()
        );
        insta::assert_yaml_snapshot!(rules);
    });
}

#[test]
fn check_err() {
    insta::glob!("corpus/check/err/*.rules", |path| {
        let name = support::corpus_name(path);
        let (_, diags) = sourcing_dsl::compile_source(&name, &support::read_text(path));
        assert!(!diags.is_empty(), "{name} should give a diagnostic");
        let file = name.rsplit('/').next().unwrap_or(&name);
        let code = file.split('-').next().unwrap_or_default();
        assert!(
            diags.iter().any(|d| d.code == code),
            "{name} should produce {code}, got:\n{}",
            diags.render()
        );
        insta::assert_snapshot!(diags.render());
    });
}

#[test]
fn json_diagnostics() {
    let src = "strategy \"a\" {\n  when order.chanel == \"web\"\n  candidates all\n}\n";
    let (_, diags) = sourcing_dsl::compile_source("a.rules", src);
    let json = serde_json::to_string_pretty(&diags.to_json()).unwrap_or_default();
    insta::assert_snapshot!(json);
}

#[test]
fn set_const_overrides() {
    let src = "const pen = 4.50 EUR\nconst util = 80 %\nconst on = true\n\
               strategy \"a\" {\n  when on\n  candidates all\n  \
               exclude location when capacity_utilisation > util\n  \
               score cost\n  split allowed, penalty pen\n}\n";
    let (rules, diags) = sourcing_dsl::compile_source("a.rules", src);
    let Some(mut rules) = rules else {
        panic!("{}", diags.render())
    };
    use sourcing_dsl::ir::Value;
    assert_eq!(rules.set_const("pen", "8"), Ok(Value::Number(4.5)));
    assert_eq!(rules.set_const("pen", "9.5 EUR"), Ok(Value::Number(8.0)));
    assert_eq!(rules.set_const("util", "90"), Ok(Value::Number(0.8)));
    assert_eq!(rules.consts[1].value, Value::Number(0.9));
    assert_eq!(rules.set_const("on", "false"), Ok(Value::Bool(true)));
    let errors = [
        rules.set_const("pne", "1").map_err(|e| e.to_string()),
        rules.set_const("pen", "3 km").map_err(|e| e.to_string()),
        rules.set_const("pen", "3 USD").map_err(|e| e.to_string()),
        rules.set_const("on", "1").map_err(|e| e.to_string()),
        rules.set_const("pen", "lots").map_err(|e| e.to_string()),
    ];
    insta::assert_debug_snapshot!(errors);
}

/// The diagnostic shown in `docs/language.md` is what the checker prints for the file shown
/// there (line ends trimmed: the renderer pads some lines with spaces).
#[test]
fn docs_example_is_real_output() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/language.md");
    let docs = support::read_text(&path);
    let section = docs
        .split("\n## Diagnostics\n")
        .nth(1)
        .unwrap_or_else(|| panic!("docs/language.md has no diagnostics section"));
    // The first two code blocks: the file, then the output.
    let blocks: Vec<&str> = section.split("```\n").skip(1).step_by(2).take(2).collect();
    let [source, shown] = blocks[..] else {
        panic!("the diagnostics section should show a file and its diagnostics");
    };
    let (_, diags) = sourcing_dsl::compile_source("rules/standard.rules", source);
    let trim = |s: &str| {
        let lines: Vec<&str> = s.lines().map(str::trim_end).collect();
        lines.join("\n").trim_end().to_string()
    };
    assert_eq!(trim(shown), trim(&diags.render()));
}
