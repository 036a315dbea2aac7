//! `sourcing check`, `sourcing fmt` and `sourcing route --rules` end to end: the shipped rule
//! files, diagnostics with positions, hostile input, and in-place formatting.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;
use support::{example_copy, example_dir, root, route, sourcing, stderr};

use std::path::Path;
use std::process::Output;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn decisions(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

/// The ids of the example orders, in file order.
fn example_order_ids() -> Vec<String> {
    std::fs::read_to_string(example_dir().join("orders.jsonl"))
        .expect("orders")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("order JSON");
            v["id"].as_str().expect("order id").to_string()
        })
        .collect()
}

/// Every `*.rules` file shipped in `rules/`, sorted, as paths relative to the repository.
fn shipped_rule_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("rules"))
        .expect("rules dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .map(|p| {
            format!(
                "rules/{}",
                p.file_name().expect("file name").to_string_lossy()
            )
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "the five documented rule files are shipped: {files:?}"
    );
    files
}

/// Whether a diagnostic text points somewhere: `file:line:col`, or a `-->` / `┌─` marker.
fn has_position(text: &str) -> bool {
    if text.contains("-->") || text.contains("┌─") {
        return true;
    }
    let b = text.as_bytes();
    let digits = |mut i: usize| {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        (i > start).then_some(i)
    };
    (0..b.len()).any(|i| {
        b[i] == b':'
            && digits(i + 1).is_some_and(|j| j < b.len() && b[j] == b':' && digits(j + 1).is_some())
    })
}

#[test]
fn every_shipped_rule_file_is_clean() {
    let files = shipped_rule_files();
    for file in &files {
        let out = sourcing(&root(), &["check", "--deny-warnings", file]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
        assert!(
            out.stdout.is_empty(),
            "{file}: check writes nothing to stdout"
        );
        // Notes on full-scan strategies may be there, but no warning.
        assert!(
            stderr(&out).lines().all(|l| l.starts_with("note: ")),
            "{file}: no warning either: {}",
            stderr(&out)
        );
    }
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(root().join(f)).expect("read"))
        .collect();
    let mut args = vec!["fmt", "--check"];
    args.extend(files.iter().map(String::as_str));
    let out = sourcing(&root(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    for (f, b) in files.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(root().join(f)).expect("read"),
            b,
            "{f}: fmt --check changes nothing"
        );
    }
}

#[test]
fn route_shows_rule_warnings_and_routes_all_the_same() {
    let dir = example_copy();
    std::fs::write(
        dir.path().join("w.rules"),
        "const spare = 3\n\nstrategy \"cheapest\" {\n  candidates all\n  score cost\n}\n",
    )
    .expect("write");
    let warned = route(dir.path(), &["--rules", "w.rules"]);
    assert_eq!(warned.status.code(), Some(0), "{}", stderr(&warned));
    assert!(stderr(&warned).contains("W003"), "{}", stderr(&warned));
    assert!(has_position(&stderr(&warned)), "{}", stderr(&warned));
    let plain = route(dir.path(), &[]);
    let strip = |out: &Output| -> Vec<serde_json::Value> {
        decisions(out)
            .into_iter()
            .map(|mut d| {
                // Two rule files: the strategy and the ruleset hash differ, nothing else.
                d.as_object_mut()
                    .map(|o| (o.remove("rule"), o.remove("ruleset")));
                d
            })
            .collect()
    };
    assert_eq!(strip(&warned), strip(&plain));
}

#[test]
fn min_cost_rules_route_like_the_builtin() {
    let rules = root().join("rules/min-cost.rules");
    let rules = rules.to_str().expect("utf-8 path");
    let orders = example_order_ids();
    for extra in [&["--no-consume"][..], &[][..]] {
        let builtin = route(&example_dir(), extra);
        assert!(builtin.status.success(), "{}", stderr(&builtin));
        let mut args = vec!["--rules", rules];
        args.extend_from_slice(extra);
        let ruled = route(&example_dir(), &args);
        assert!(ruled.status.success(), "{extra:?}: {}", stderr(&ruled));
        assert!(ruled.stderr.is_empty(), "{}", stderr(&ruled));
        let (builtin, ruled) = (decisions(&builtin), decisions(&ruled));
        assert_eq!(builtin.len(), orders.len());
        assert_eq!(ruled.len(), orders.len());
        for ((mut b, mut r), id) in builtin.into_iter().zip(ruled).zip(&orders) {
            assert_eq!(r["order"], id.as_str(), "{extra:?}: input order is kept");
            assert_eq!(r["rule"], "min-cost", "{extra:?}: {id}");
            let b_obj = b.as_object_mut().expect("decision object");
            let r_obj = r.as_object_mut().expect("decision object");
            assert!(b_obj.remove("rule").is_some(), "{id}: builtin has a rule");
            r_obj.remove("rule");
            // The built-in strategy's fixed hash; the file's SHA-256 under rules.
            let b_hash = b_obj.remove("ruleset").expect("a ruleset");
            assert_eq!(b_hash, "0".repeat(64).as_str());
            let r_hash = r_obj.remove("ruleset").expect("a ruleset");
            let text = std::fs::read(rules).expect("the rule file");
            assert_eq!(
                r_hash,
                sourcing_engine::RulesetHash::of(&text).to_string().as_str()
            );
            assert_eq!(r, b, "{extra:?}: {id} differs from the built-in strategy");
        }
    }
}

#[test]
fn each_rule_file_routes_the_examples() {
    let orders = example_order_ids();
    for file in shipped_rule_files() {
        let path = root().join(&file);
        let out = route(
            &example_dir(),
            &[
                "--no-consume",
                "--rules",
                path.to_str().expect("utf-8 path"),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{file}: {}", stderr(&out));
        let got = decisions(&out);
        assert_eq!(got.len(), orders.len(), "{file}: one decision per order");
        for (d, id) in got.iter().zip(&orders) {
            assert_eq!(d["order"], id.as_str(), "{file}: input order is kept");
            assert!(d["rule"].is_string(), "{file}: {id} names its rule");
        }
        let by_id = |id: &str| {
            got.iter()
                .find(|d| d["order"] == id)
                .unwrap_or_else(|| panic!("{file}: no decision for {id}"))
        };
        let stem = Path::new(&file)
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        match stem.as_str() {
            "click-and-collect" => {
                // Pickup orders take what the pickup store has, handed out at the counter.
                for id in ["EX-3", "EX-9"] {
                    let d = by_id(id);
                    assert_eq!(d["rule"], "click-and-collect", "{id}");
                    let counter = d["shipments"]
                        .as_array()
                        .expect("shipments")
                        .iter()
                        .find(|s| s["location"] == "ST-MUNICH")
                        .unwrap_or_else(|| panic!("{id}: nothing from the pickup store"));
                    assert!(counter["service"].is_null(), "{id}: {counter}");
                }
                assert_eq!(by_id("EX-1")["rule"], "shipped");
            }
            "promise-first" => {
                // Orders with a promise that can be kept keep it.
                for id in ["EX-2", "EX-5"] {
                    let d = by_id(id);
                    assert_eq!(d["rule"], "promised", "{id}");
                    assert_eq!(d["status"], "sourced", "{id}");
                    for s in d["shipments"].as_array().expect("shipments") {
                        assert_eq!(s["meets_promise"], true, "{id}: {s}");
                    }
                }
                assert_eq!(by_id("EX-1")["rule"], "best-effort");
            }
            "ship-from-store-first" => {
                // Hamburg is 3 km from EX-2 and keeps enough on the shelf.
                assert_eq!(by_id("EX-2")["shipments"][0]["location"], "ST-HAMBURG");
                // Pickup orders take what the pickup store has, at the counter.
                let d = by_id("EX-3");
                assert_eq!(d["rule"], "pickup");
                let counter = d["shipments"]
                    .as_array()
                    .expect("shipments")
                    .iter()
                    .find(|s| s["service"].is_null())
                    .unwrap_or_else(|| panic!("EX-3: nothing handed out at the counter: {d}"));
                assert_eq!(counter["location"], "ST-MUNICH");
            }
            "dropship-fallback" => {
                assert_eq!(by_id("EX-4")["rule"], "bulky-direct");
                assert_eq!(by_id("EX-4")["shipments"][0]["location"], "VD-STUTTGART");
            }
            _ => {}
        }
        insta::assert_snapshot!(format!("route_{stem}"), stdout(&out));
    }
}

/// Three mistakes: a misspelt field, km added to money, an unknown fallback.
const BAD_RULES: &str = r#"# a rule file with three mistakes
strategy "web" {
  when order.chanel == "web"
  candidates all
  score cost + 2 km
  fallback "standrad"
}

strategy "standard" {
  candidates dcs
  score cost
}
"#;

/// Valid, but a constant is never used (W003).
const WARNING_RULES: &str = r#"const unused = 3 EUR

strategy "all" {
  candidates all
  score cost
}
"#;

#[test]
fn check_reports_errors_with_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("bad.rules"), BAD_RULES).expect("write");
    std::fs::write(dir.path().join("warn.rules"), WARNING_RULES).expect("write");

    let out = sourcing(dir.path(), &["check", "bad.rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let text = stderr(&out);
    for needle in [
        "error[C002]",
        "bad.rules:3:8",
        "order.channel",
        "error[C005]",
        "bad.rules:5:14",
        "error[C006]",
        "bad.rules:6:12",
        "standard",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in:\n{text}");
    }
    insta::assert_snapshot!("check_bad_rules", text);

    let out = sourcing(
        dir.path(),
        &["check", "--error-format", "json", "bad.rules"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let arrays: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("each line of --error-format json is JSON"))
        .collect();
    assert_eq!(arrays.len(), 1, "one array per file");
    let diags = arrays[0].as_array().expect("an array of diagnostics");
    let found: Vec<(String, u64, u64)> = diags
        .iter()
        .map(|d| {
            assert_eq!(d["file"], "bad.rules");
            assert_eq!(d["severity"], "error");
            (
                d["code"].as_str().expect("code").to_string(),
                d["span"]["line"].as_u64().expect("line"),
                d["span"]["column"].as_u64().expect("column"),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("C002".to_string(), 3, 8),
            ("C005".to_string(), 5, 14),
            ("C006".to_string(), 6, 12)
        ]
    );

    let out = sourcing(
        dir.path(),
        &["check", "--error-format", "short", "bad.rules"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("bad.rules:3:8: error[C002]"),
        "{}",
        stderr(&out)
    );

    // Warnings are shown but do not fail, unless they are denied.
    let out = sourcing(dir.path(), &["check", "warn.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("warning[W003]"), "{}", stderr(&out));
    let out = sourcing(dir.path(), &["check", "--deny-warnings", "warn.rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("warn.rules:1:7"), "{}", stderr(&out));

    // A file that is not there is an input error with a position, not a usage error.
    let out = sourcing(dir.path(), &["check", "missing.rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("missing.rules:1:1: cannot read file"));
    // No file at all is a usage error.
    assert_eq!(sourcing(dir.path(), &["check"]).status.code(), Some(2));
}

#[test]
fn route_with_bad_rules_writes_nothing() {
    let dir = example_copy();
    std::fs::write(dir.path().join("bad.rules"), BAD_RULES).expect("write");
    for extra in [&["--no-consume"][..], &[][..]] {
        let mut args = vec!["--rules", "bad.rules"];
        args.extend_from_slice(extra);
        let out = route(dir.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "no decision is written");
        let text = stderr(&out);
        assert!(text.contains("error[C002]"), "{text}");
        assert!(text.contains("bad.rules:3:8"), "{text}");
        assert!(text.contains("error[C006]"), "{text}");
    }
    // Valid on its own, but in another currency than the network.
    std::fs::write(
        dir.path().join("usd.rules"),
        "strategy \"usd\" {\n  candidates all\n  score cost + 1 USD\n}\n",
    )
    .expect("write");
    let out = sourcing(dir.path(), &["check", "usd.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = route(dir.path(), &["--rules", "usd.rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "no decision is written");
    assert!(
        stderr(&out).starts_with("usd.rules:3:16: the rules are written in `USD`"),
        "{}",
        stderr(&out)
    );
    let out = route(dir.path(), &["--rules", "missing.rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

/// A tiny deterministic generator (Knuth's MMIX LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next()).expect("fits") % n
    }
}

/// Runs `sourcing check` on files in `dir`: it must exit 0 or 1, write nothing to stdout and,
/// when it fails, say where. Returns the exit code and stderr.
fn check_survives(dir: &Path, files: &[String], what: &str) -> (i32, String) {
    let mut args = vec!["check".to_string()];
    args.extend(files.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sourcing(dir, &args);
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("{what}: killed by a signal: {:?}", out.status));
    let text = stderr(&out);
    assert!(
        code == 0 || code == 1,
        "{what}: exit {code} (101 is a panic):\n{}",
        text.chars().take(4000).collect::<String>()
    );
    assert!(
        out.stdout.is_empty(),
        "{what}: check writes nothing to stdout"
    );
    if code == 1 {
        assert!(!text.trim().is_empty(), "{what}: failed without a message");
        assert!(
            has_position(&text),
            "{what}: no position in:\n{}",
            text.chars().take(4000).collect::<String>()
        );
    }
    (code, text)
}

#[test]
fn hostile_rule_files_never_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.path().join(name), bytes).expect("write");
        name.to_string()
    };
    let mut rng = Lcg(0x5eed);

    // Garbage: random bytes, random printable text, and a soup of the language's own tokens.
    let tokens = [
        "strategy",
        "\"s\"",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        ",",
        "when",
        "candidates",
        "exclude",
        "prefer",
        "score",
        "rank",
        "by",
        "then",
        "split",
        "at",
        "most",
        "allowed",
        "penalty",
        "fallback",
        "otherwise",
        "backorder",
        "const",
        "group",
        "script",
        "=",
        "==",
        "<",
        "+",
        "*",
        "-",
        "/",
        "?",
        ":",
        "and",
        "or",
        "not",
        "in",
        "has",
        "order.channel",
        "line.qty",
        "location.tags",
        "cost",
        "days",
        "distance",
        "atp",
        "2",
        "4.50",
        "EUR",
        "km",
        "%",
        "dcs",
        "stores",
        "all",
        "pickup_store",
        "where",
        "reason",
        "\"x\"",
        "#",
        "\n",
        "->",
        "money",
        "number",
        "if",
        "else",
        "true",
        "store",
        "\"",
        "'",
        "&&",
        "!",
        "test",
    ];
    let mut garbage = Vec::new();
    for i in 0..8 {
        let bytes: Vec<u8> = (0..2000)
            .map(|_| u8::try_from(rng.below(256)).expect("byte"))
            .collect();
        garbage.push(write(&format!("bytes{i}.rules"), &bytes));
        let text: Vec<u8> = (0..2000)
            .map(|_| {
                if rng.below(10) == 0 {
                    b'\n'
                } else {
                    u8::try_from(32 + rng.below(95)).expect("printable")
                }
            })
            .collect();
        garbage.push(write(&format!("text{i}.rules"), &text));
        let soup: Vec<&str> = (0..400).map(|_| tokens[rng.below(tokens.len())]).collect();
        garbage.push(write(&format!("soup{i}.rules"), soup.join(" ").as_bytes()));
    }
    let (code, _) = check_survives(dir.path(), &garbage, "garbage");
    assert_eq!(code, 1, "random bytes are not a rule file");

    // Every prefix of a real file, cut every 7 bytes: one invocation for all of them.
    let full = std::fs::read(root().join("rules/ship-from-store-first.rules")).expect("read");
    let prefixes: Vec<(String, usize)> = (0..=full.len())
        .step_by(7)
        .map(|n| (write(&format!("prefix{n:05}.rules"), &full[..n]), n))
        .collect();
    let names: Vec<String> = prefixes.iter().map(|(f, _)| f.clone()).collect();
    check_survives(dir.path(), &names, "truncated files");
    // The same as JSON: every diagnostic names its file and stays inside it.
    let mut args = vec!["check", "--error-format", "json"];
    args.extend(names.iter().map(String::as_str));
    let out = sourcing(dir.path(), &args);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{:?}", out.status);
    for line in stderr(&out).lines().filter(|l| !l.trim().is_empty()) {
        let diags: serde_json::Value = serde_json::from_str(line).expect("JSON per file");
        for d in diags.as_array().expect("array") {
            let file = d["file"].as_str().expect("file");
            let len = prefixes
                .iter()
                .find(|(f, _)| f == file)
                .unwrap_or_else(|| panic!("unknown file {file}"))
                .1;
            let span = &d["span"];
            let (start, end) = (
                span["start"].as_u64().expect("start"),
                span["end"].as_u64().expect("end"),
            );
            assert!(
                start <= end && end <= len as u64,
                "{file} ({len} bytes): span out of the file: {d}"
            );
            assert!(span["line"].as_u64().expect("line") >= 1, "{d}");
            assert!(span["column"].as_u64().expect("column") >= 1, "{d}");
        }
    }

    // A huge but valid file: 20,000 small strategies (about 1.2 MB).
    let huge: String = (0..20_000)
        .map(|i| format!("strategy \"s{i}\" {{ when order.units > {i} candidates all }}\n"))
        .collect();
    assert!(huge.len() > 1_000_000);
    let (code, text) = check_survives(dir.path(), &[write("huge.rules", huge.as_bytes())], "huge");
    assert_eq!(code, 0, "a large valid file is valid: {text}");

    // Deep nesting: refused with S003, not a stack overflow.
    let deep = format!("score {}1{}", "(".repeat(5000), ")".repeat(5000));
    let (code, text) = check_survives(dir.path(), &[write("deep.rules", deep.as_bytes())], "deep");
    assert_eq!(code, 1);
    assert!(text.contains("S003"), "{text}");
    let deep_in_strategy = format!(
        "strategy \"s\" {{\n  candidates all\n  when {}true\n  score {}cost\n}}\n",
        "not ".repeat(5000),
        "- ".repeat(5000)
    );
    let (code, _) = check_survives(
        dir.path(),
        &[write("deep2.rules", deep_in_strategy.as_bytes())],
        "deep in a strategy",
    );
    assert_eq!(code, 1);

    // Not UTF-8.
    let (code, text) = check_survives(
        dir.path(),
        &[write("latin1.rules", b"strategy \"a\xff\" {}")],
        "not UTF-8",
    );
    assert_eq!(code, 1);
    assert!(text.contains("S002"), "{text}");
    assert!(text.contains("latin1.rules:1:12"), "{text}");
}

/// Splits a line into code and a trailing `#` comment (a `#` inside a string is code).
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return (&line[..i], Some(&line[i..])),
            _ => {}
        }
    }
    (line, None)
}

/// Widens every run of spaces outside strings to three spaces.
fn widen_spaces(code: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in code.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == ' ' {
            if !out.ends_with(' ') {
                out.push_str("   ");
            }
        } else {
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
    }
    out
}

/// Mangles the whitespace of a formatted rule file without changing its meaning: no
/// indentation, wide spaces, wide gaps before comments, trailing blanks, doubled blank lines,
/// and one clause broken over two lines. Script bodies (kept verbatim by fmt) are left alone.
fn mangle(text: &str) -> String {
    let mut out = String::new();
    let mut in_script = false;
    let mut broke_a_clause = false;
    for line in text.lines() {
        if in_script {
            out.push_str(line);
            out.push('\n');
            if line == "}" {
                in_script = false;
            }
            continue;
        }
        let (code, comment) = split_comment(line.trim());
        let mut code = widen_spaces(code.trim_end());
        if code.starts_with("script") {
            in_script = true;
        }
        if !broke_a_clause && code.starts_with("split") {
            code = code.replacen(",", ",\n      ", 1);
            broke_a_clause = true;
        }
        out.push_str(&code);
        if let Some(comment) = comment {
            out.push_str("      ");
            out.push_str(comment);
        }
        if line.trim().is_empty() {
            out.push('\n');
        } else if !in_script {
            // Not after a script's `{`: what follows it is the verbatim body.
            out.push_str("  ");
        }
        out.push('\n');
    }
    out
}

#[test]
fn fmt_rewrites_in_place_and_keeps_comments() {
    let original =
        std::fs::read_to_string(root().join("rules/ship-from-store-first.rules")).expect("read");
    let comments: Vec<&str> = original
        .lines()
        .filter_map(|l| split_comment(l).1)
        .collect();
    assert!(comments.len() >= 8, "the file has comments: {comments:?}");
    let mangled = mangle(&original);
    assert_ne!(mangled, original);

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("store.rules");
    std::fs::write(&file, &mangled).expect("write");
    // The mangled file means the same: it checks cleanly.
    let out = sourcing(dir.path(), &["check", "--deny-warnings", "store.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // --check: exit 1, names the file, changes nothing.
    let out = sourcing(dir.path(), &["fmt", "--check", "store.rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("store.rules: not formatted"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), mangled);

    // fmt: back to the shipped (formatted) text, comments and all.
    let out = sourcing(dir.path(), &["fmt", "store.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let formatted = std::fs::read_to_string(&file).expect("read");
    for c in &comments {
        assert!(
            formatted.lines().any(|l| l.ends_with(c)),
            "comment {c:?} lost:\n{formatted}"
        );
    }
    assert_eq!(formatted, original);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");

    // Idempotent: again changes nothing, and --check agrees.
    let out = sourcing(dir.path(), &["fmt", "store.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), original);
    let out = sourcing(dir.path(), &["fmt", "--check", "store.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // A syntax error: exit 1 with the diagnostic, the file untouched byte for byte.
    let broken = mangled.replacen("candidates   stores", "candidates   stores   &&", 1);
    assert_ne!(broken, mangled);
    std::fs::write(&file, &broken).expect("write");
    for args in [
        &["fmt", "store.rules"][..],
        &["fmt", "--check", "store.rules"][..],
    ] {
        let out = sourcing(dir.path(), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
        assert!(
            has_position(&stderr(&out)) && stderr(&out).contains("store.rules"),
            "{}",
            stderr(&out)
        );
        assert_eq!(
            std::fs::read(&file).expect("read"),
            broken.as_bytes(),
            "{args:?}: a file with a syntax error is left as it is"
        );
    }
}

/// A rule file whose custom term misbehaves for four of the example orders, each in another
/// way the sandbox must stop.
const HOSTILE: &str = r#"strategy "careful" {
  candidates all
  score cost + trap(order.id)
}

script trap(id: string) -> money {
  if id == "EX-2" { let n = 0; loop { n += 1; } }
  if id == "EX-4" { return trap(id); }
  if id == "EX-6" { let s = "0123456789"; loop { s += s; } }
  if id == "EX-8" { let a = [0, 1, 2]; loop { a += a; } }
  0.0
}
"#;

#[test]
fn hostile_scripts_fail_their_own_orders_only() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = dir.path().join("hostile.rules");
    std::fs::write(&hostile, HOSTILE).unwrap();
    let harmless = dir.path().join("harmless.rules");
    std::fs::write(
        &harmless,
        HOSTILE.replace("if id == \"EX-", "if id == \"NONE-"),
    )
    .unwrap();
    let hostile = hostile.to_str().unwrap();
    let harmless = harmless.to_str().unwrap();
    let trapped = [
        (
            "EX-2",
            "stopped after 50000 operations (does it loop forever?)",
        ),
        (
            "EX-4",
            "stopped: calls nested more than 16 levels deep (endless recursion?)",
        ),
        (
            "EX-6",
            "stopped: it built a string longer than 1,000 characters",
        ),
        (
            "EX-8",
            "stopped: it built an array of more than 1,000 items",
        ),
    ];
    for mode in [&[][..], &["--no-consume"][..]] {
        let out = route(&example_dir(), &[&["--rules", hostile], mode].concat());
        assert!(out.status.success(), "{}", stderr(&out));
        let got = decisions(&out);
        assert_eq!(got.len(), example_order_ids().len());
        let warnings: Vec<String> = stderr(&out).lines().map(str::to_string).collect();
        assert_eq!(warnings.len(), trapped.len(), "{warnings:?}");
        for ((id, problem), warning) in trapped.iter().zip(&warnings) {
            let d = got.iter().find(|d| d["order"] == *id).unwrap();
            let message =
                format!("{hostile}:3:16: strategy \"careful\", score: script `trap` {problem}");
            assert_eq!(d["status"], "unsourced", "{id}");
            assert_eq!(d["rule"], "careful");
            assert_eq!(d["shipments"], serde_json::json!([]));
            assert_eq!(d["total_cost"], 0.0);
            assert!(
                d["unsourced"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|u| u["reason"] == "rule_error"),
                "{d}"
            );
            assert_eq!(d["error"], message.as_str());
            assert_eq!(*warning, format!("warning: order `{id}`: {message}"));
        }
        // Planned against the initial stock, every other order is decided exactly as with
        // a term that never misbehaves.
        if mode == ["--no-consume"] {
            let calm = route(&example_dir(), &["--rules", harmless, "--no-consume"]);
            assert!(calm.status.success(), "{}", stderr(&calm));
            assert!(stderr(&calm).is_empty(), "{}", stderr(&calm));
            for (a, mut b) in got.iter().zip(decisions(&calm)) {
                if !trapped.iter().any(|(id, _)| a["order"] == *id) {
                    let mut a = a.clone();
                    a.as_object_mut().map(|o| o.remove("ruleset"));
                    b.as_object_mut().map(|o| o.remove("ruleset"));
                    assert_eq!(a, b);
                    assert!(a.get("error").is_none());
                }
            }
        }
    }
    // An explanation says what went wrong.
    let why = sourcing(
        &example_dir(),
        &[
            "explain",
            "--order",
            "EX-4",
            "--rules",
            hostile,
            "--network",
            "network.json",
            "--inventory",
            "inventory.csv",
            "--orders",
            "orders.jsonl",
        ],
    );
    assert!(why.status.success(), "{}", stderr(&why));
    assert!(
        stdout(&why).contains(&format!(
            "  rule error: {hostile}:3:16: strategy \"careful\", score: script `trap` stopped: calls nested more than 16 levels deep (endless recursion?)\n"
        )),
        "{}",
        stdout(&why)
    );
    // A replay counts them under their reason and says so once.
    let out = dir.path().join("sim");
    let done = sourcing(
        &example_dir(),
        &[
            "simulate",
            "--rules",
            hostile,
            "--network",
            "network.json",
            "--inventory",
            "inventory.csv",
            "--orders",
            "orders.jsonl",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(
        stderr(&done).trim_end(),
        format!(
            "warning: {hostile}: the rules could not decide 4 order(s) (reason `rule_error`); the first, order `EX-2`: {hostile}:3:16: strategy \"careful\", score: script `trap` stopped after 50000 operations (does it loop forever?)"
        )
    );
    let kpis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("kpis.json")).unwrap()).unwrap();
    assert!(kpis["overall"]["unsourced_by_reason"]["rule_error"].as_u64() >= Some(4));
}

/// `check` names the strategies every order searches by a full scan, at the clause that
/// costs the speed, without failing; `explain` says how each strategy searched.
#[test]
fn check_and_explain_name_bounded_and_full_scan_strategies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = "strategy \"fastest\" {\n  candidates all\n  rank by priority, then cost\n  fallback \"cheap\"\n}\n\nstrategy \"cheap\" {\n  candidates all\n  score cost + 0.01 EUR * distance\n}\n";
    std::fs::write(dir.path().join("mixed.rules"), rules).expect("write");
    let out = sourcing(dir.path(), &["check", "--deny-warnings", "mixed.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains("note: mixed.rules:3:11: strategy \"fastest\" looks at every holder")
            && text.contains("`rank by priority` comes before the objective"),
        "{text}"
    );
    assert!(!text.contains("\"cheap\""), "{text}");

    let shipped = root().join("rules/ship-from-store-first.rules");
    let with_rules = |first: &[&str], rules: &Path| -> Output {
        let mut args = first.to_vec();
        args.extend(["--rules", rules.to_str().expect("utf-8 path")]);
        args.extend(support::EXAMPLE_FILES);
        sourcing(&example_dir(), &args)
    };
    let out = with_rules(&["explain", "--order", "EX-1"], &shipped);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("\nsearch\n"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("ship-from-store") && l.ends_with("bounded")),
        "{text}"
    );
    let out = with_rules(&["route", "--explain"], &dir.path().join("mixed.rules"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first = decisions(&out).into_iter().next().expect("a decision");
    assert_eq!(
        first["explain"]["search"][0],
        serde_json::json!({"strategy": "fastest", "search": "full scan", "why": "`rank by priority` comes before the objective"})
    );
}

/// A fill by priority and distance reads locations in its order: `check` has nothing to
/// note; a fill by another key reads every holder first, and `check` says which and why.
#[test]
fn check_notes_a_fill_only_when_it_reads_every_holder() {
    let out = sourcing(
        &root(),
        &["check", "--deny-warnings", "rules/priority-fill.rules"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("looks at every holder"),
        "{}",
        stderr(&out)
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let rules =
        "strategy \"cheapest-first\" {\n  candidates all\n  fill by cost, then distance\n}\n";
    std::fs::write(dir.path().join("fill.rules"), rules).expect("write");
    let out = sourcing(dir.path(), &["check", "fill.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains("strategy \"cheapest-first\" looks at every holder")
            && text.contains("only a fill by `priority` and `distance` is read in its order"),
        "{text}"
    );
}

/// A score that divides by what a script says: 0 for order EX-7 only.
const DIVIDE_BY_ZERO_FOR_EX7: &str = "strategy \"s\" {\n  candidates all\n  score cost / ratio(order.id)\n}\n\nscript ratio(id: string) -> number {\n  if id == \"EX-7\" { 0.0 } else { 1.0 }\n}\n";

#[test]
fn a_score_dividing_by_zero_is_a_rule_error_not_a_decision() {
    // Before, every score of EX-7 clamped to one huge value and plans were chosen by
    // priority: 15.46 instead of the least cost, 12.81.
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("div.rules");
    std::fs::write(&rules, DIVIDE_BY_ZERO_FOR_EX7).unwrap();
    let rules = rules.to_str().unwrap();
    let expected: Vec<serde_json::Value> =
        std::fs::read_to_string(example_dir().join("expected-min-cost.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    // A divisor that is 0 whatever the order is refused before any order is routed.
    let zero = dir.path().join("zero.rules");
    std::fs::write(
        &zero,
        "strategy \"s\" {\n  candidates all\n  score cost / 0\n}\n",
    )
    .unwrap();
    let zero = zero.to_str().unwrap();
    let out = sourcing(dir.path(), &["check", zero]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error[C019]: division by zero"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(&format!("{zero}:3:9")),
        "{}",
        stderr(&out)
    );
    let out = route(&example_dir(), &["--rules", zero]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "no decision is written");
    let message =
        format!("{rules}:3:9: strategy \"s\", score: `cost / ratio(order.id)` divides by zero");
    let out = route(&example_dir(), &["--rules", rules, "--no-consume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), format!("warning: order `EX-7`: {message}\n"));
    let got = decisions(&out);
    assert_eq!(got.len(), expected.len());
    for (d, e) in got.iter().zip(&expected) {
        if d["order"] == "EX-7" {
            assert_eq!(d["status"], "unsourced");
            assert_eq!(d["rule"], "s");
            assert_eq!(d["shipments"], serde_json::json!([]));
            assert_eq!(d["error"], message.as_str());
            let reasons: Vec<&str> = d["unsourced"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["reason"].as_str().unwrap())
                .collect();
            assert_eq!(reasons, ["rule_error"; 3]);
        } else if e["feasible"] == true {
            // Every other order divides by 1: the least cost, as without rules.
            let cost = d["total_cost"].as_f64().unwrap();
            let min = e["min_cost"].as_f64().unwrap();
            assert!((cost - min).abs() < 1e-6, "{}: {cost} vs {min}", d["order"]);
            assert_eq!(d.get("error"), None);
        }
    }
}
