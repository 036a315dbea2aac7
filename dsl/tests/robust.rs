//! Hostile input: garbage, every truncation of a good file, huge and deeply nested files, and
//! bytes that are not UTF-8. Each must give diagnostics (or a rule set), never a panic or a
//! stack overflow.
#![allow(clippy::panic, reason = "tests fail by panicking")]

mod support;

use sourcing_dsl::{compile_bytes, compile_source, format, parse};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Runs every stage on one input; returns whether it produced a rule set.
fn all_stages(name: &str, bytes: &[u8]) -> bool {
    let (rules, diags) = compile_bytes(name, bytes);
    // Rendering must work for any diagnostic on any input.
    let _ = diags.render();
    let _ = diags.to_json();
    if rules.is_none() {
        assert!(diags.has_errors(), "{name}: no rule set but no error");
    }
    // Parse errors name what was expected in words, never by a grammar rule's name.
    for d in diags.iter().filter(|d| d.code == "S001") {
        let expected = d.message.split(", found ").next().unwrap_or_default();
        assert!(
            !expected.contains('_') && !expected.contains("bad"),
            "{name}: a rule name in `{}`",
            d.message
        );
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(ast) = parse(name, text) {
            let once = sourcing_dsl::format_ast(&ast);
            match parse(name, &once) {
                Ok(again) => assert_eq!(again, ast, "{name}: formatting changed the AST"),
                Err(d) => panic!("{name}: formatted text does not parse:\n{}", d.render()),
            }
        }
    }
    rules.is_some()
}

fn good_file() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/check/ok/ship-from-store-first.rules");
    support::read_text(&path)
}

#[test]
fn random_bytes() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for i in 0..300 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
        all_stages(&format!("random-{i}"), &bytes);
    }
}

#[test]
fn random_tokens() {
    const WORDS: &[&str] = &[
        "strategy",
        "\"s\"",
        "{",
        "}",
        "when",
        "candidates",
        "exclude",
        "store",
        "location",
        "prefer",
        "score",
        "rank",
        "by",
        "then",
        "split",
        "at",
        "most",
        "allowed",
        "none",
        "penalty",
        "fallback",
        "otherwise",
        "backorder",
        "promise",
        "required",
        "const",
        "group",
        "=",
        "==",
        "<",
        "+",
        "-",
        "*",
        "/",
        "(",
        ")",
        "[",
        "]",
        ",",
        "?",
        ":",
        "and",
        "or",
        "not",
        "in",
        "has",
        "if",
        "else",
        "cost",
        "distance",
        "days",
        "order.channel",
        "line.qty",
        "300 km",
        "2",
        "4.50 EUR",
        "0.01 EU",
        "EURO",
        "15 %",
        "dcs",
        "stores",
        "all",
        "where",
        "tagged",
        "x",
        "script",
        "->",
        "number",
        "# c\n",
        "\n",
        "reason",
        "lines",
        "whole",
        "desc",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut produced = 0;
    for i in 0..1500 {
        let n = 1 + rng.below(40);
        let text: Vec<&str> = (0..n).map(|_| WORDS[rng.below(WORDS.len())]).collect();
        if all_stages(&format!("tokens-{i}"), text.join(" ").as_bytes()) {
            produced += 1;
        }
    }
    // Sanity: the generator is not so hostile that nothing ever parses.
    let _ = produced;
}

#[test]
fn every_prefix_of_a_good_file() {
    let text = good_file();
    let mut cut = 0;
    while cut <= text.len() {
        if text.is_char_boundary(cut) {
            all_stages(&format!("prefix-{cut}"), &text.as_bytes()[..cut]);
        }
        cut += 1;
    }
    assert!(all_stages("whole", text.as_bytes()));
}

#[test]
fn every_single_byte_deletion_of_a_good_file() {
    let text = good_file();
    // Every third byte keeps the debug-build run time reasonable while covering every token.
    for at in (0..text.len()).step_by(3) {
        let mut bytes = text.as_bytes().to_vec();
        bytes.remove(at);
        all_stages(&format!("deletion-{at}"), &bytes);
    }
}

#[test]
fn ten_thousand_strategies() {
    let mut src = String::from("const keep = 2\n");
    for i in 0..10_000 {
        src.push_str(&format!(
            "strategy \"s{i}\" {{\n  when order.channel == \"c{i}\"\n  candidates dcs, stores\n  \
             exclude store when atp - line.qty < keep reason \"protect\"\n  score cost + 0.5 EUR * days\n  \
             split at most 2\n  otherwise backorder\n}}\n"
        ));
    }
    let (rules, diags) = compile_source("huge.rules", &src);
    assert!(!diags.has_errors(), "{}", diags.render());
    assert_eq!(rules.map(|r| r.strategies.len()), Some(10_000));
}

fn expect_error(name: &str, src: &str, code: &str) {
    let (rules, diags) = compile_source(name, src);
    assert!(rules.is_none(), "{name} should fail");
    assert!(
        diags.iter().any(|d| d.code == code),
        "{name}: expected {code}, got:\n{}",
        diags.render_short_all()
    );
    let _ = diags.render();
    assert!(format(name, src).is_err());
}

fn strategy_with_score(expr: &str) -> String {
    format!("strategy \"s\" {{\n  candidates all\n  score {expr}\n}}\n")
}

#[test]
fn deep_parentheses() {
    let e = format!("{}cost{}", "(".repeat(5000), ")".repeat(5000));
    expect_error("parens", &strategy_with_score(&e), "S003");
}

#[test]
fn deep_lists_and_braces() {
    let e = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    expect_error("lists", &strategy_with_score(&e), "S003");
    let braces = format!(
        "script f() -> number {{{}1{}}}",
        "{".repeat(5000),
        "}".repeat(5000)
    );
    expect_error("braces", &braces, "S003");
}

#[test]
fn long_prefix_chains() {
    let e = format!("{}cost", "- ".repeat(5000));
    expect_error("negations", &strategy_with_score(&e), "S003");
    let w = format!(
        "strategy \"s\" {{\n  when {}true\n  candidates all\n}}\n",
        "not ".repeat(5000)
    );
    expect_error("nots", &w, "S003");
}

/// Long flat chains are not deep: up to the operator limit they are fine, beyond it they are
/// `S010` (too long), never `S003` (too deep), and never a stack overflow.
#[test]
fn long_operator_chains() {
    let sum = |n: usize| strategy_with_score(&vec!["cost"; n].join(" + "));
    for n in [101, 500, 501] {
        let (rules, diags) = compile_source("sum", &sum(n));
        assert!(rules.is_some(), "{n} terms: {}", diags.render_short_all());
    }
    for n in [502, 10_000] {
        expect_error("sum", &sum(n), "S010");
        let (_, diags) = compile_source("sum", &sum(n));
        assert!(diags.iter().all(|d| d.code != "S003"), "{n} terms");
    }
    let c = vec!["cost > 1 EUR"; 5_000].join(" and ");
    let w = format!("strategy \"s\" {{\n  candidates all\n  exclude location when {c}\n}}\n");
    expect_error("conjunction", &w, "S010");
}

/// The limit counts one level per bracket, prefix operator and conditional: 100 are fine,
/// 101 are `S003`, and the whole pipeline (check, format, drop) handles the deepest file
/// allowed within a test thread's stack.
#[test]
fn nesting_counts_what_a_reader_sees() {
    type Make = fn(usize) -> String;
    let shapes: [(&str, Make); 7] = [
        ("parens", |n| {
            format!("{}cost{}", "(".repeat(n), ")".repeat(n))
        }),
        ("calls", |n| {
            format!("{}cost{}", "abs(".repeat(n), ")".repeat(n))
        }),
        ("negations", |n| format!("{}cost", "- ".repeat(n))),
        ("ternaries", |n| {
            format!("{}cost", "meets_promise ? 1 EUR : ".repeat(n))
        }),
        ("ifs", |n| {
            format!("{}cost", "if meets_promise then 1 EUR else ".repeat(n))
        }),
        ("then branches", |n| {
            format!(
                "{}cost{}",
                "meets_promise ? ".repeat(n),
                " : 1 EUR".repeat(n)
            )
        }),
        ("mixed", |n| {
            let third = n / 3;
            let rest = n - 3 * third;
            format!(
                "{}{}cost{}",
                "-(meets_promise ? 1 EUR : ".repeat(third),
                "- ".repeat(rest),
                ")".repeat(third)
            )
        }),
    ];
    for (name, make) in shapes {
        let (rules, diags) = compile_source(name, &strategy_with_score(&make(100)));
        assert!(rules.is_some(), "{name} x100: {}", diags.render_short_all());
        // As deep as allowed, with a long chain innermost.
        let deepest = make(100).replacen("cost", &vec!["cost"; 400].join(" + "), 1);
        let (rules, diags) = compile_source(name, &strategy_with_score(&deepest));
        assert!(rules.is_some(), "{name}: {}", diags.render_short_all());
        assert!(format(name, &strategy_with_score(&deepest)).is_ok());
        expect_error(name, &strategy_with_score(&make(101)), "S003");
    }
    let nots = |n: usize| {
        format!(
            "strategy \"s\" {{\n  when {}true\n  candidates all\n}}\n",
            "not ".repeat(n)
        )
    };
    assert!(compile_source("nots", &nots(100)).0.is_some());
    expect_error("nots", &nots(101), "S003");
    // A call and lists inside it: one level each.
    let lists = |n: usize| {
        let inner = format!("{}\"a\"{}", "[".repeat(n - 1), "]".repeat(n - 1));
        strategy_with_score(&format!("max(cost, {inner})"))
    };
    let (_, diags) = compile_source("lists", &lists(100));
    assert!(
        diags.iter().all(|d| d.code != "S003"),
        "{}",
        diags.render_short_all()
    );
    expect_error("lists", &lists(101), "S003");
}

/// The strategy's braces are no level, and neither are the braces around a script's code;
/// braces inside the code are.
#[test]
fn script_braces() {
    let script = |n: usize| {
        format!(
            "script f() -> number {{{}1{}}}\n",
            "{".repeat(n),
            "}".repeat(n)
        )
    };
    let (_, diags) = compile_source("braces", &script(100));
    assert!(
        diags.iter().all(|d| d.code != "S003"),
        "{}",
        diags.render_short_all()
    );
    expect_error("braces", &script(101), "S003");
}

#[test]
fn deep_conditionals() {
    let mut e = String::new();
    for _ in 0..5000 {
        e.push_str("if meets_promise then 1 EUR else ");
    }
    e.push_str("cost");
    expect_error("ifs", &strategy_with_score(&e), "S003");
    let mut t = String::from("cost");
    for _ in 0..5000 {
        t = format!("meets_promise ? 1 EUR : {t}");
    }
    expect_error("ternary", &strategy_with_score(&t), "S003");
    let then = format!(
        "{}cost{}",
        "meets_promise ? ".repeat(5000),
        " : 1 EUR".repeat(5000)
    );
    expect_error("then branches", &strategy_with_score(&then), "S003");
}

#[test]
fn not_utf8() {
    let mut bytes = b"strategy \"a\" {\n  candidates all\n  when order.channel == \"".to_vec();
    bytes.extend([0xff, 0xfe, b'x']);
    bytes.extend(b"\"\n}\n");
    let (rules, diags) = compile_bytes("latin1.rules", &bytes);
    assert!(rules.is_none());
    assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), ["S002"]);
    insta::assert_snapshot!(diags.render());
}

#[test]
fn empty_and_comment_only_files() {
    // They format, but check to one error: a rule file without a strategy sources nothing.
    for src in ["", "\n\n", "# only a comment\n", "   # trailing spaces   "] {
        let (rules, diags) = compile_source("empty.rules", src);
        assert!(rules.is_none(), "{src:?} should not check");
        let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["C018"], "{src:?}");
        assert_eq!(
            format("empty.rules", src).ok().as_deref(),
            Some(formatted_comments(src).as_str())
        );
    }
}

fn formatted_comments(src: &str) -> String {
    src.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A leading byte-order mark is skipped: positions count from the first real character.
#[test]
fn byte_order_mark() {
    let src = "\u{feff}strategy \"a\" {\n  candidates all\n  score cots\n}\n";
    for (rules, diags) in [
        compile_source("bom.rules", src),
        compile_bytes("bom.rules", src.as_bytes()),
    ] {
        assert!(rules.is_none());
        let short = diags.render_short_all();
        assert!(short.starts_with("bom.rules:3:9: error[C001]"), "{short}");
        assert!(!diags.render().contains('\u{feff}'));
    }
    let ok = src.replace("cots", "cost");
    assert!(compile_source("bom.rules", &ok).0.is_some());
    assert_eq!(
        format("bom.rules", &ok).ok().as_deref(),
        Some(&ok['\u{feff}'.len_utf8()..])
    );
    // Only at the very start: elsewhere it is a character like any other.
    let (rules, _) = compile_source("bom.rules", &format!("\n{ok}"));
    assert!(rules.is_none());
}

/// CRLF line ends: positions as with LF, and the formatter keeps CRLF.
#[test]
fn crlf_line_ends() {
    let src = "strategy   \"a\" {\r\n\tcandidates all  # every location\r\n\tscore cost +  # base\r\n  1 EUR\r\n}\r\n\r\nscript f() -> number {\r\n  1\r\n}\r\n";
    let bad = src.replace("1 EUR", "distance");
    let (_, diags) = compile_source("crlf.rules", &bad);
    let short = diags.render_short_all();
    assert!(short.starts_with("crlf.rules:3:13: error[C005]"), "{short}");
    let once = format("crlf.rules", src).unwrap_or_else(|d| panic!("{}", d.render()));
    assert_eq!(
        once,
        "strategy \"a\" {\r\n  candidates all  # every location\r\n  score cost +  # base\r\n      1 EUR\r\n}\r\n\r\nscript f() -> number {\r\n  1\r\n}\r\n"
    );
    assert_eq!(format("crlf.rules", &once).ok(), Some(once.clone()));
    assert_eq!(parse("a", &once).ok(), parse("a", src).ok());
}
