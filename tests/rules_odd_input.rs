//! Odd rule files, cases files and file-system situations met by `sourcing check`, `fmt`,
//! `test` and `route --rules`: each gives a located message and the documented exit code.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;
use support::{example_copy, example_dir, route, sourcing, stderr};

#[test]
fn a_rule_file_without_a_strategy_is_an_error() {
    let dir = example_copy();
    let files = [
        ("empty.rules", ""),
        ("blank.rules", "\n  \n\t\n"),
        ("comments.rules", "# to do\n# strategies later\n"),
        ("consts.rules", "const keep = 2\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
        let out = sourcing(dir.path(), &["check", "--deny-warnings", name]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let text = stderr(&out);
        assert!(text.contains("error[C018]"), "{name}: {text}");
        assert!(text.contains(&format!("{name}:1:1")), "{name}: {text}");
        // Nothing is routed with it: not every order left unsourced.
        let out = route(dir.path(), &["--rules", name]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{name}: no decision is written");
        assert!(stderr(&out).contains("error[C018]"), "{name}");
    }
}

/// 100,000 bad lines: every problem is counted, the first 200 are shown, one line says how
/// many more there are, and JSON (for tools) lists them all. Run before the fix, this took
/// minutes: positions and suggestions were found by scanning the whole file per problem.
#[test]
fn a_file_with_a_hundred_thousand_errors_shows_the_first_two_hundred() {
    let dir = tempfile::tempdir().expect("temp dir");
    // One good constant, 99,999 redeclarations (C008), unused (W003), no strategy (C018).
    let text = "const c = 1\n".repeat(100_000);
    std::fs::write(dir.path().join("many.rules"), text).expect("write");
    let more =
        "many.rules: 99801 more errors not shown (only the first 200 diagnostics are listed)";

    let out = sourcing(dir.path(), &["check", "many.rules"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    let shown = text.matches("error[").count() + text.matches("warning[").count();
    assert_eq!(shown, 200, "{}", &text[text.len().saturating_sub(500)..]);
    assert_eq!(text.lines().last(), Some(more));

    let out = sourcing(
        dir.path(),
        &["check", "--error-format", "short", "many.rules"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("many.rules:"))
        .collect();
    assert_eq!(lines.len(), 201, "200 diagnostics and the count");
    assert_eq!(lines.last(), Some(&more));
    assert!(
        lines[199].starts_with("many.rules:199:7: error[C008]"),
        "{}",
        lines[199]
    );

    // JSON, for tools, lists every diagnostic.
    std::fs::write(dir.path().join("some.rules"), "const c = 1\n".repeat(1000)).expect("write");
    let out = sourcing(
        dir.path(),
        &["check", "--error-format", "json", "some.rules"],
    );
    assert_eq!(out.status.code(), Some(1));
    let all: serde_json::Value = serde_json::from_slice(&out.stderr).expect("JSON");
    let all = all.as_array().expect("an array");
    assert_eq!(all.len(), 1001);
    assert_eq!(all[1000]["span"]["line"], 1000);
}

const UNFORMATTED: &str = "strategy   \"a\" {\n candidates   all\n}\n";
const FORMATTED: &str = "strategy \"a\" {\n  candidates all\n}\n";

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o7777
}

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[cfg(unix)]
#[test]
fn fmt_keeps_permissions_and_writes_through_links() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name);

    // The mode survives formatting.
    std::fs::write(path("shared.rules"), UNFORMATTED).expect("write");
    set_mode(&path("shared.rules"), 0o640);
    let out = sourcing(dir.path(), &["fmt", "shared.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(path("shared.rules")).expect("read"),
        FORMATTED
    );
    assert_eq!(mode(&path("shared.rules")), 0o640);

    // A read-only file is refused and left exactly as it was.
    std::fs::write(path("locked.rules"), UNFORMATTED).expect("write");
    set_mode(&path("locked.rules"), 0o444);
    let out = sourcing(dir.path(), &["fmt", "locked.rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("locked.rules: not formatted: the file is read-only"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(path("locked.rules")).expect("read"),
        UNFORMATTED
    );
    assert_eq!(mode(&path("locked.rules")), 0o444);

    // A link: the file it names is formatted, the link stays a link.
    std::fs::create_dir(path("real")).expect("mkdir");
    std::fs::write(path("real/target.rules"), UNFORMATTED).expect("write");
    std::os::unix::fs::symlink("real/target.rules", path("link.rules")).expect("symlink");
    let out = sourcing(dir.path(), &["fmt", "link.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let link = std::fs::symlink_metadata(path("link.rules")).expect("lstat");
    assert!(link.file_type().is_symlink(), "the link is kept");
    assert_eq!(
        std::fs::read_to_string(path("real/target.rules")).expect("read"),
        FORMATTED
    );

    // No temporary file is left anywhere.
    for sub in [dir.path().to_path_buf(), path("real")] {
        let names: Vec<String> = std::fs::read_dir(&sub)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains("tmp")), "{names:?}");
    }
}

#[cfg(unix)]
#[test]
fn fmt_never_touches_a_formatted_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("done.rules");
    std::fs::write(&file, FORMATTED).expect("write");
    // Read-only but already formatted: nothing to write, so nothing to refuse.
    set_mode(&file, 0o444);
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    std::fs::File::open(&file)
        .expect("open")
        .set_modified(old)
        .expect("set mtime");
    let out = sourcing(dir.path(), &["fmt", "done.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let meta = std::fs::metadata(&file).expect("metadata");
    assert_eq!(meta.modified().expect("mtime"), old);
    assert_eq!(mode(&file), 0o444);
}

#[test]
fn a_folder_given_as_a_rule_file_is_named_cleanly() {
    let dir = example_copy();
    std::fs::create_dir(dir.path().join("rules.rules")).expect("mkdir");
    for cmd in ["check", "fmt"] {
        let out = sourcing(dir.path(), &[cmd, "rules.rules"]);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("rules.rules: is a folder, not a rule file"),
            "{cmd}: {}",
            stderr(&out)
        );
    }
    let out = route(dir.path(), &["--rules", "rules.rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("rules.rules: is a folder"),
        "{}",
        stderr(&out)
    );
}

/// A temp dir with `min-cost.rules` and, beside it, `min-cost.cases.toml` holding `cases`
/// (bytes, after the lines naming the example network and inventory).
fn cases_dir(cases: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        support::root().join("rules/min-cost.rules"),
        dir.path().join("min-cost.rules"),
    )
    .expect("copy");
    let mut text = format!(
        "network = {:?}\ninventory = {:?}\n",
        example_dir().join("network.json"),
        example_dir().join("inventory.csv")
    )
    .into_bytes();
    text.extend_from_slice(cases);
    std::fs::write(dir.path().join("min-cost.cases.toml"), text).expect("write");
    dir
}

const ORDER: &str = "order = { id = \"T\", ship_to = { lat = 50.11, lon = 8.68 }, lines = [{ sku = \"TSHIRT-M\", qty = 2, unit_weight_kg = 0.25 }] }";

#[test]
fn test_refuses_expectations_that_cannot_fail() {
    for value in ["nan", "inf", "-inf", "+nan"] {
        let cases =
            format!("\n[[case]]\nname = \"c\"\n{ORDER}\nexpect = {{ total_cost = {value} }}\n");
        let dir = cases_dir(cases.as_bytes());
        let out = sourcing(dir.path(), &["test", "min-cost.rules"]);
        assert_eq!(out.status.code(), Some(1), "{value}: {}", stderr(&out));
        let text = stderr(&out);
        assert!(
            text.contains(&format!(
                "FAILED min-cost.cases.toml:7:25: expect.total_cost: must be a finite number, found `{value}`"
            )),
            "{value}: {text}"
        );
    }
    // An `expect` that names nothing would pass whatever happens.
    let cases = format!("\n[[case]]\nname = \"vacuous\"\n{ORDER}\nexpect = {{}}\n");
    let dir = cases_dir(cases.as_bytes());
    let out = sourcing(dir.path(), &["test", "min-cost.rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("min-cost.cases.toml:5:8: case `vacuous`: `expect` names nothing"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn test_without_cases_or_with_bad_bytes_fails_naming_the_file() {
    // Network and inventory, but no `[[case]]`.
    let dir = cases_dir(b"");
    let out = sourcing(dir.path(), &["test", "min-cost.rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("FAILED min-cost.cases.toml: no test cases"),
        "{}",
        stderr(&out)
    );

    // Latin-1 in a case name: not UTF-8, at its line and column.
    let mut cases = b"\n[[case]]\nname = \"caf".to_vec();
    cases.push(0xE9);
    cases.extend_from_slice(b"\"\n");
    let dir = cases_dir(&cases);
    let out = sourcing(dir.path(), &["test", "min-cost.rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains("FAILED min-cost.cases.toml:5:12: the file is not UTF-8 text"),
        "{text}"
    );
    assert!(!text.contains("no test cases"), "{text}");

    // A byte-order mark is skipped: the cases run.
    let dir = cases_dir(b"");
    let path = dir.path().join("min-cost.cases.toml");
    let mut text = b"\xEF\xBB\xBF".to_vec();
    text.extend(std::fs::read(&path).expect("read"));
    text.extend(
        format!("\n[[case]]\nname = \"c\"\n{ORDER}\nexpect = {{ status = \"sourced\" }}\n").bytes(),
    );
    std::fs::write(&path, text).expect("write");
    let out = sourcing(dir.path(), &["test", "min-cost.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed, 0 failed"));
}

#[test]
fn byte_order_marks_and_crlf_are_kept_by_fmt_and_ignored_by_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bom = "\u{feff}";
    let crlf = FORMATTED.replace('\n', "\r\n");
    for (name, text) in [
        ("bom.rules", format!("{bom}{FORMATTED}")),
        ("crlf.rules", crlf.clone()),
        ("both.rules", format!("{bom}{crlf}")),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, &text).expect("write");
        let out = sourcing(dir.path(), &["check", "--deny-warnings", name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        // Already formatted in its own style: nothing to do.
        let out = sourcing(dir.path(), &["fmt", "--check", name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        // Unformatted in that style: formatted, the style kept.
        let messy = text.replace("  candidates", "     candidates");
        std::fs::write(&file, &messy).expect("write");
        let out = sourcing(dir.path(), &["fmt", name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert_eq!(
            std::fs::read_to_string(&file).expect("read"),
            text,
            "{name}"
        );
    }
    // Errors after a byte-order mark are at the columns an editor shows.
    std::fs::write(dir.path().join("bad.rules"), format!("{bom}score cost")).expect("write");
    let out = sourcing(
        dir.path(),
        &["check", "--error-format", "short", "bad.rules"],
    );
    assert!(
        stderr(&out).starts_with("bad.rules:1:1: error[S001]"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains(bom), "{}", stderr(&out));
}
