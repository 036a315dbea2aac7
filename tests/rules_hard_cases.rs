//! Rule files that are large or odd in shape: long fallback chains, scripts the engine's
//! sandbox refuses. `check` and `route --rules` agree on each of them, and nothing crashes.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;
use support::{example_copy, explain_with, route, sourcing, stderr};

/// The value of `"key":"…"` in each JSON line of `out`.
fn field<'a>(out: &'a str, key: &str) -> Vec<&'a str> {
    let pat = format!("\"{key}\":\"");
    out.lines()
        .filter_map(|l| {
            let at = l.find(&pat)? + pat.len();
            l[at..].split('"').next()
        })
        .collect()
}

/// 25,000 strategies, each falling back to the next. Before the fix, the cycle check of the
/// decision graph recursed once per node and `route` aborted with a stack overflow (from
/// about 20,000 strategies in a debug build, 60,000 in a release build); `explain` looked
/// up every strategy of the chain by a scan of all of them.
#[test]
fn a_fallback_chain_of_twenty_five_thousand_strategies_checks_and_routes() {
    const N: usize = 25_000;
    let dir = example_copy();
    let mut text = String::new();
    for i in 0..N - 1 {
        text.push_str(&format!(
            "strategy \"s{i}\" {{ candidates all  fallback \"s{}\" }}\n",
            i + 1
        ));
    }
    text.push_str(&format!("strategy \"s{}\" {{ candidates all }}\n", N - 1));
    std::fs::write(dir.path().join("chain.rules"), text).expect("write");

    let out = sourcing(dir.path(), &["check", "--deny-warnings", "chain.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = route(dir.path(), &["--rules", "chain.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let chained = String::from_utf8_lossy(&out.stdout).into_owned();
    let builtin = route(dir.path(), &[]);
    let builtin = String::from_utf8_lossy(&builtin.stdout).into_owned();
    // The first strategy is plain least cost: the built-in decisions, named after it; what
    // it cannot place goes down the whole chain and stays unsourced.
    assert_eq!(field(&chained, "status"), field(&builtin, "status"));
    assert_eq!(field(&chained, "order").len(), 10);
    assert!(
        field(&chained, "rule").iter().all(|r| *r == "s0"),
        "{chained}"
    );
    assert!(field(&chained, "status").contains(&"partial"));

    // The order with an unknown SKU ran every strategy of the chain, in order.
    let out = explain_with(dir.path(), "EX-8", &["--rules", "chain.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("s{}", N - 1)),
        "the last strategy ran"
    );
}

/// A rule file whose script `f` has `code` (written after the header line).
fn with_script(header: &str, code: &str) -> String {
    format!(
        "strategy \"s\" {{\n  candidates all\n  score cost + f(distance)\n}}\n\n{header} {{\n{code}\n}}\n"
    )
}

/// Scripts the parser and checker of the language accept but the engine's rhai sandbox
/// refuses. Before the fix `check` passed them and `route` then refused the file with
/// rhai's position in the wrapped script ("line 3, position 7" for line 7 of the file).
/// Now `check` and every command that loads rules give the same `C022` at the place in the
/// rule file, and exit 1.
#[test]
fn scripts_the_sandbox_refuses_fail_check_at_their_place_in_the_file() {
    let header = "script f(d: km) -> money";
    let map = (0..101)
        .map(|i| format!("k{i}: {i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let parens = format!("  {}d{}", "(".repeat(1000), ")".repeat(1000));
    // (file, its text, `line:col` of the diagnostic, a piece of rhai's message)
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "let.rules",
            with_script(header, "  let = ;\n  d"),
            "7:7",
            "Expecting name of a variable",
        ),
        (
            "eval.rules",
            with_script(header, "  eval(\"1\")"),
            "7:3",
            "'eval' is disabled",
        ),
        (
            "import.rules",
            with_script(header, "  import \"x\" as y;\n  1.0"),
            "7:3",
            "'import' is a reserved keyword",
        ),
        (
            "map.rules",
            with_script(header, &format!("  let m = #{{{map}}};\n  1.0")),
            "7:",
            "exceeds the maximum limit (100)",
        ),
        (
            "fn.rules",
            with_script(header, "  fn g(x) { x }\n  g(d)"),
            "7:3",
            "Function definitions must be at global level",
        ),
        (
            "parens.rules",
            with_script(header, &parens),
            "7:",
            "maximum complexity",
        ),
        (
            "hash.rules",
            with_script(header, "  # a comment\n  d"),
            "7:3",
            "'#' is a reserved symbol",
        ),
        // Further down the script, after a comment line and a line with a multi-byte
        // character: the column counts characters.
        (
            "later.rules",
            with_script(header, "  // ok\n  let s = \"é\"; let = 2;\n  d"),
            "8:20",
            "Expecting name of a variable",
        ),
        // Code on the header line itself.
        (
            "same-line.rules",
            with_script(header, "").replace("money {\n", "money { (d"),
            "6:30",
            "Expecting ')'",
        ),
        // A parameter named like a rhai keyword: the declaration.
        (
            "param.rules",
            with_script("script f(this: km) -> money", "  1.0"),
            "6:1",
            "'this' is a reserved keyword",
        ),
        // Lines ending in CRLF count as one line each.
        (
            "crlf.rules",
            with_script(header, "  let x = 1;\n  # no\n  d").replace('\n', "\r\n"),
            "8:3",
            "'#' is a reserved symbol",
        ),
    ];
    let dir = example_copy();
    for (name, text, at, message) in &cases {
        std::fs::write(dir.path().join(name), text).expect("write");
        let out = sourcing(dir.path(), &["check", "--error-format", "short", name]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let checked = stderr(&out);
        let first = checked.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("{name}:{at}"))
                && first.contains("error[C022]: script `f` does not compile: "),
            "{name}: {checked}"
        );
        assert!(first.contains(message), "{name}: {checked}");

        // `route` refuses the file with the very diagnostic `check` shows.
        let out = sourcing(dir.path(), &["check", name]);
        let human = stderr(&out);
        let out = route(dir.path(), &["--rules", name]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{name}");
        assert_eq!(stderr(&out).trim_end(), human.trim_end(), "{name}");
        let out = explain_with(dir.path(), "EX-1", &["--rules", name]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert_eq!(stderr(&out).trim_end(), human.trim_end(), "{name}");
    }

    // Within the sandbox's limits: a map of 100 entries, `//` comments, 14 brackets.
    let ok = [
        with_script(
            header,
            &format!(
                "  let m = #{{{}}};\n  d",
                &map[..map.rfind(", ").unwrap_or(0)]
            ),
        ),
        with_script(header, "  // a comment\n  d /* and another */"),
        with_script(header, &format!("  {}d{}", "(".repeat(14), ")".repeat(14))),
    ];
    for (i, text) in ok.iter().enumerate() {
        let name = format!("ok{i}.rules");
        std::fs::write(dir.path().join(&name), text).expect("write");
        let out = sourcing(dir.path(), &["check", "--deny-warnings", &name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let out = route(dir.path(), &["--rules", &name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
    }
}
