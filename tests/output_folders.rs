//! Output folders of `simulate` and `gen` hold one complete run: the new one, or after a
//! failure or an interruption the previous one untouched; never a mix, never a part.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use support::{example_dir, root};

/// Every file under `dir` (names relative to it) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() {
            for (inner, bytes) in snapshot(&entry.path()) {
                files.insert(format!("{name}/{inner}"), bytes);
            }
        } else {
            files.insert(name, std::fs::read(entry.path()).unwrap());
        }
    }
    files
}

fn simulate(out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .current_dir(example_dir())
        .arg("simulate")
        .args(support::EXAMPLE_FILES)
        .arg("--rules")
        .arg(root().join("rules/min-cost.rules"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// The same files with the same bytes (only names are shown when not).
fn same(now: &BTreeMap<String, Vec<u8>>, before: &BTreeMap<String, Vec<u8>>) {
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(now), names(before));
    for (name, bytes) in now {
        assert!(before.get(name) == Some(bytes), "{name} changed");
    }
}

fn ok(out: &Output) {
    support::assert_success(out);
}

#[test]
fn a_second_simulation_replaces_the_first_entirely() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    let vs = root().join("rules/ship-from-store-first.rules");
    ok(&simulate(&out, &["--vs", vs.to_str().unwrap()]));
    assert!(out.join("decisions-vs.jsonl").is_file());
    ok(&simulate(&out, &[]));
    let names: Vec<String> = snapshot(&out).into_keys().collect();
    assert_eq!(
        names,
        ["decisions.jsonl", "kpis.json", "report.html"],
        "the first run's decisions-vs.jsonl is gone"
    );
    // Nothing is left beside the folder either.
    let beside: Vec<String> = snapshot(dir.path()).into_keys().collect();
    assert!(beside.iter().all(|n| n.starts_with("d/")), "{beside:?}");
}

#[test]
fn a_run_that_fails_late_leaves_the_previous_run_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    ok(&simulate(&out, &[]));
    let before = snapshot(dir.path());
    // Valid on its own, refused only when compiled for the network, while the first rule
    // set is already replaying.
    let rules_dir = tempfile::tempdir().unwrap();
    let usd = rules_dir.path().join("usd.rules");
    std::fs::write(
        &usd,
        "strategy \"usd\" {\n  candidates all\n  score cost + 1 USD\n}\n",
    )
    .unwrap();
    let failed = simulate(&out, &["--vs", usd.to_str().unwrap()]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("USD"));
    same(&snapshot(dir.path()), &before);
}

#[test]
fn leftovers_of_an_interrupted_run_never_mix_with_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let (out, clean) = (dir.path().join("d"), dir.path().join("clean"));
    let vs = root().join("rules/ship-from-store-first.rules");
    ok(&simulate(&out, &["--vs", vs.to_str().unwrap()]));
    // Where an earlier version wrote kpis.json before renaming it: a folder there made
    // that write fail after the new decisions were already in place.
    std::fs::create_dir(out.join("kpis.json.partial")).unwrap();
    ok(&simulate(&out, &[]));
    ok(&simulate(&clean, &[]));
    same(&snapshot(&out), &snapshot(&clean));
}

#[test]
fn a_folder_of_other_files_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let before = snapshot(dir.path());
    let refused = simulate(dir.path(), &[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("notes.txt"));
    let gen = Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .args(["gen", "--orders", "5", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(gen.status.code(), Some(2));
    same(&snapshot(dir.path()), &before);
}

#[test]
fn the_current_folder_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("here");
    std::fs::create_dir(&inner).unwrap();
    for out in [".", "..", inner.to_str().unwrap()] {
        let refused = Command::new(env!("CARGO_BIN_EXE_sourcing"))
            .current_dir(&inner)
            .args(["gen", "--orders", "5", "--out", out])
            .output()
            .unwrap();
        assert_eq!(refused.status.code(), Some(2), "{out}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("cannot be the current folder"), "{stderr}");
    }
    assert!(snapshot(dir.path()).is_empty());
}

#[cfg(unix)]
#[test]
fn an_interrupted_gen_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g");
    for signal in ["INT", "TERM"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sourcing"))
            .args(["gen", "--orders", "2000000", "--out"])
            .arg(&out)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the run has started writing beside the target.
        let started = std::time::Instant::now();
        while std::fs::read_dir(dir.path()).unwrap().next().is_none() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("gen ended before it was interrupted: {status:?}");
            }
            if started.elapsed().as_secs() > 60 {
                let _ = child.kill();
                panic!("gen never started");
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert!(!status.success(), "{signal}: {status:?}");
        let left: Vec<String> = snapshot(dir.path()).into_keys().collect();
        assert!(left.is_empty(), "{signal}: {left:?}");
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }
}
