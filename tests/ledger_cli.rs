//! `sourcing ledger export` and `sourcing ledger audit` on an SQLite ledger (the
//! PostgreSQL one is covered by scripts/pg-multi.sh against a throwaway cluster).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use sourcing_serve::ledger::sqlite::SqliteLedger;
use sourcing_serve::ledger::{Batch, Entry, Ledger, SnapshotRow};
use std::process::{Command, Output};

fn sourcing(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn entry(seq: u64, kind: &str, sku: &str, on_hand: i64, reserved: i64) -> Entry {
    Entry {
        seq,
        at: "2026-12-07T00:00:00.000Z".into(),
        kind: kind.into(),
        location: "DC-KASSEL".into(),
        sku: sku.into(),
        on_hand_delta: on_hand,
        reserved_delta: reserved,
        reservation: None,
        order: Some(format!("O-{seq}")),
        idempotency_key: None,
        ruleset: None,
        reference: None,
        placed_at: None,
    }
}

/// A ledger holding DC-KASSEL/TSHIRT-M: 10 (safety 2) and two routes of 3 units.
fn ledger(dir: &tempfile::TempDir) -> (String, SqliteLedger) {
    let path = dir.path().join("ledger.db");
    let l = SqliteLedger::open(&path).expect("opens");
    l.initialise(&[SnapshotRow {
        location: "DC-KASSEL".into(),
        sku: "TSHIRT-M".into(),
        on_hand: 10,
        reserved: 0,
        safety_stock: 2,
    }])
    .expect("snapshot");
    l.commit(&Batch {
        entries: vec![
            entry(1, "route", "TSHIRT-M", -3, 0),
            entry(2, "route", "TSHIRT-M", -3, 0),
        ],
        ..Batch::default()
    })
    .expect("commit");
    (path.display().to_string(), l)
}

#[test]
fn export_prints_every_entry_as_a_json_line_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, _l) = ledger(&dir);
    let out = sourcing(&["ledger", "export", "--ledger", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["seq"], 1);
    assert_eq!(lines[1]["seq"], 2);
    assert_eq!(lines[1]["kind"], "route");
    assert_eq!(lines[1]["on_hand_delta"], -3);
    assert_eq!(lines[1]["order"], "O-2");
}

#[test]
fn audit_passes_a_sound_ledger_and_fails_one_that_promised_a_unit_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, l) = ledger(&dir);
    let out = sourcing(&["ledger", "audit", "--ledger", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ledger sound: 2 entries"));
    // 4 units are left over a safety stock of 2: a route of 3 promises one too many.
    l.commit(&Batch {
        entries: vec![entry(3, "route", "TSHIRT-M", -3, 0)],
        ..Batch::default()
    })
    .expect("commit");
    let out = sourcing(&["ledger", "audit", "--ledger", &path]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("entry 3 (route): DC-KASSEL/TSHIRT-M promised beyond stock"),
        "{err}"
    );
    assert!(err.contains("ledger audit: 1 problem(s)"), "{err}");
}

#[test]
fn a_ledger_that_is_not_there_is_refused_and_not_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing.db");
    let shown = path.display().to_string();
    for sub in ["export", "audit"] {
        let out = sourcing(&["ledger", sub, "--ledger", &shown]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no ledger file there"));
    }
    assert!(!path.exists());
}
