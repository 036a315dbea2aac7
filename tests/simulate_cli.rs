//! `sourcing simulate`: the files it writes, `--vs`, and bad input leaving nothing behind.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::csv_fields;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example_orders() -> std::path::PathBuf {
    root().join("data/example/orders.jsonl")
}

/// `sourcing simulate --rules rules/RULES` on the example network and stock, writing to
/// `out`; callers add what else they need.
fn simulate_cmd(rules: &str, orders: &Path, out: &Path) -> Command {
    let data = root().join("data/example");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sourcing"));
    cmd.arg("simulate")
        .arg("--rules")
        .arg(root().join("rules").join(rules))
        .arg("--network")
        .arg(data.join("network.json"))
        .arg("--inventory")
        .arg(data.join("inventory.csv"))
        .arg("--orders")
        .arg(orders)
        .arg("--out")
        .arg(out);
    cmd
}

fn simulate(out: &Path, orders: &Path, vs: bool) -> Output {
    let mut cmd = simulate_cmd("min-cost.rules", orders, out);
    if vs {
        cmd.arg("--vs")
            .arg(root().join("rules/ship-from-store-first.rules"));
    }
    cmd.output().unwrap()
}

#[test]
fn writes_decisions_kpis_and_a_report_the_same_every_time() {
    let orders = example_orders();
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("one");
    let out = simulate(&first, &orders, true);
    support::assert_success(&out);
    for f in [
        "decisions.jsonl",
        "decisions-vs.jsonl",
        "kpis.json",
        "report.html",
    ] {
        assert!(first.join(f).is_file(), "{f}");
    }
    let kpis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(first.join("kpis.json")).unwrap()).unwrap();
    assert_eq!(kpis["rules"], "min-cost");
    assert_eq!(kpis["vs"], "ship-from-store-first");
    assert_eq!(kpis["a"]["overall"]["orders"], 10);
    let a_cost = kpis["a"]["overall"]["total_cost"].as_f64().unwrap();
    let b_cost = kpis["b"]["overall"]["total_cost"].as_f64().unwrap();
    assert!((kpis["difference"]["total cost"].as_f64().unwrap() - (b_cost - a_cost)).abs() < 1e-9);
    assert!(kpis["changed_orders"].as_u64().unwrap() > 0);
    // Replaying the example orders with consumption: the decisions are those of `route`.
    let decisions = std::fs::read_to_string(first.join("decisions.jsonl")).unwrap();
    assert_eq!(decisions.lines().count(), 10);
    let report = std::fs::read_to_string(first.join("report.html")).unwrap();
    assert!(report.contains("min-cost") && report.contains("ship-from-store-first"));
    assert!(report.contains("<table>") && report.contains("fill rate (units)"));
    // Charts drawn inline (five per-day figures, units by kind, a load map per side):
    // the page needs nothing from the network.
    assert!(report.matches("<svg").count() >= 8);
    assert!(!report.contains("<script src") && !report.contains("<link"));
    // The same run again: byte for byte.
    let second = dir.path().join("two");
    assert!(simulate(&second, &orders, true).status.success());
    for f in [
        "decisions.jsonl",
        "decisions-vs.jsonl",
        "kpis.json",
        "report.html",
    ] {
        assert!(
            std::fs::read(first.join(f)).unwrap() == std::fs::read(second.join(f)).unwrap(),
            "{f} differs"
        );
    }
}

#[test]
fn bad_orders_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let orders = dir.path().join("orders.jsonl");
    std::fs::write(
        &orders,
        "{\"id\":\"X\",\"ship_to\":{\"lat\":95,\"lon\":8},\"lines\":[]}\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = simulate(&out_dir, &orders, false);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("orders.jsonl:1:"));
    assert!(!out_dir.exists(), "nothing is written for bad input");
}

#[test]
fn a_sweep_gives_one_row_per_value() {
    let dir = tempfile::tempdir().unwrap();
    let run = |sweep: &str, out: &Path| {
        simulate_cmd("ship-from-store-first.rules", &example_orders(), out)
            .args(["--sweep", sweep, "--set", "max_store_km=400 km"])
            .output()
            .unwrap()
    };
    let out = dir.path().join("sweep");
    let done = run("store_keep=0,10", &out);
    support::assert_success(&done);
    let kpis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("kpis.json")).unwrap()).unwrap();
    let rows = kpis["sweep"]["rows"].as_array().unwrap();
    assert_eq!(kpis["sweep"]["constant"], "store_keep");
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0]["value"].as_str(), rows[1]["value"].as_str()),
        (Some("0"), Some("10"))
    );
    // Keeping 10 units on every shelf stops stores shipping at all; pickup counters still
    // hand out what they hold.
    let from_stores = |r: &serde_json::Value| {
        r["overall"]["units_by_kind"]["store"].as_u64().unwrap_or(0)
            - r["overall"]["counter_units"].as_u64().unwrap()
    };
    assert!(from_stores(&rows[0]) > 0);
    assert_eq!(from_stores(&rows[1]), 0);
    assert!(std::fs::read_to_string(out.join("report.html"))
        .unwrap()
        .contains("Sweep over"));
    // A misspelt constant fails before anything is written.
    let bad = dir.path().join("bad");
    let failed = run("store_kep=1", &bad);
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("did you mean `store_keep`"));
    assert!(!bad.exists());
}

#[test]
fn stock_events_change_the_replay_and_bad_ones_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let run = |events: &str, out: &Path| {
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, events).unwrap();
        simulate_cmd("min-cost.rules", &example_orders(), out)
            .arg("--events")
            .arg(&path)
            .output()
            .unwrap()
    };
    let fill = |out: &Path| {
        let k: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("kpis.json")).unwrap()).unwrap();
        k["overall"]["units_placed"].as_u64().unwrap()
    };
    let none = dir.path().join("none");
    assert!(run("", &none).status.success());
    // Kassel's lamp oil is written off at 09:25, before EX-5 (09:30) and EX-10 ask for it.
    let less = dir.path().join("less");
    let done = run("{\"at\":\"2026-11-23T09:25:00Z\",\"location\":\"DC-KASSEL\",\"sku\":\"LAMP-OIL\",\"delta\":-30}\n", &less);
    support::assert_success(&done);
    assert_eq!(
        fill(&less) + 3,
        fill(&none),
        "EX-5 (2) and EX-10 (1) lose their lamp oil"
    );
    // An event for a pair the inventory does not list is an error on its line.
    let bad = dir.path().join("bad");
    let failed = run("\n{\"at\":\"2026-11-23T09:00:00Z\",\"location\":\"ST-BERLIN\",\"sku\":\"LAMP-OIL\",\"delta\":5}\n", &bad);
    assert_eq!(failed.status.code(), Some(1));
    let text = String::from_utf8_lossy(&failed.stderr);
    assert!(
        text.contains("events.jsonl:2:1: sku:") && text.contains("does not list `LAMP-OIL`"),
        "{text}"
    );
    assert!(!bad.exists());
}

#[test]
fn stock_events_never_pass_the_count_the_engine_holds_and_a_removal_stops_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let run = |deltas: &[&str], out: &Path| {
        let path = dir.path().join("events.jsonl");
        let text: String = deltas
            .iter()
            .map(|d| format!("{{\"at\":\"2026-11-23T06:00:00Z\",\"location\":\"DC-KASSEL\",\"sku\":\"TSHIRT-M\",\"delta\":{d}}}\n"))
            .collect();
        std::fs::write(&path, text).unwrap();
        simulate_cmd("min-cost.rules", &example_orders(), out)
            .arg("--events")
            .arg(&path)
            .output()
            .unwrap()
    };
    // Saturating counts once turned these into 1 unit where 113 are left (111 + 2): refused, at the
    // first event that passes 2^53, before anything is written.
    let max = i64::MAX.to_string();
    let min = format!("-{max}");
    let bad = dir.path().join("bad");
    let failed = run(&[&max, &max, "2", &min, &min], &bad);
    assert_eq!(failed.status.code(), Some(1));
    let text = String::from_utf8_lossy(&failed.stderr);
    assert!(
        text.contains(
            "events.jsonl:1:78: delta: must be from -9007199254740992 to 9007199254740992"
        ),
        "{text}"
    );
    assert!(!bad.exists());
    // Within the range each, too many together.
    let near = (1u64 << 52).to_string();
    let failed = run(&[&near, &near], &bad);
    let text = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text.contains("events.jsonl:2:78: delta: event at 2026-11-23T06:00:00Z: `DC-KASSEL` would hold 9007199254741103 units of `TSHIRT-M`"),
        "{text}"
    );
    assert!(!bad.exists());
    // −1e9 closes the DC: applied, the count stops at 0, and stderr says so.
    let closed = dir.path().join("closed");
    let done = run(&["-1e9"], &closed);
    assert!(done.status.success());
    let text = String::from_utf8_lossy(&done.stderr);
    assert!(
        text.contains("1 stock event(s) removed more units than were left and stopped the count at 0; the first, ")
            && text.contains("events.jsonl:1:78, found 999999889 unit(s) fewer than it removes"),
        "{text}"
    );
}

#[test]
fn one_thread_or_four_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str| {
        let out = dir.path().join(format!("t{threads}"));
        let done = simulate_cmd("ship-from-store-first.rules", &example_orders(), &out)
            .env("RAYON_NUM_THREADS", threads)
            .arg("--vs")
            .arg(root().join("rules/promise-first.rules"))
            .args(["--sweep", "store_keep=0,1,2,3,10"])
            .output()
            .unwrap();
        support::assert_success(&done);
        assert!(
            done.stderr.is_empty(),
            "no progress bar when stderr is not a terminal"
        );
        out
    };
    let (one, four) = (run("1"), run("4"));
    for f in [
        "decisions.jsonl",
        "decisions-vs.jsonl",
        "changes.csv",
        "kpis.json",
        "report.html",
        "sweep/1-store_keep=0.jsonl",
        "sweep/5-store_keep=10-vs.jsonl",
    ] {
        assert!(
            std::fs::read(one.join(f)).unwrap() == std::fs::read(four.join(f)).unwrap(),
            "{f} differs"
        );
    }
}

/// The `<svg>…</svg>` elements of a page, in order.
fn svg_elements(page: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("an <svg> is closed") + start + 6;
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

/// The values of every `NAME=` attribute (quoted with `"` or `'`) in a page.
fn attribute_values<'p>(page: &'p str, name: &str) -> Vec<&'p str> {
    let mut out = Vec::new();
    for (at, _) in page.match_indices(name) {
        let after = &page[at + name.len()..];
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        if let Some(end) = after[1..].find(quote) {
            out.push(&after[1..=end]);
        }
    }
    out
}

#[test]
fn the_report_is_self_contained_its_charts_are_well_formed_and_differences_are_marked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = simulate(&out, &example_orders(), true);
    support::assert_success(&run);
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();

    // Nothing comes from elsewhere: no script or style file, no remote image or font.
    let lower = report.to_lowercase();
    assert!(!lower.contains("<script") && !lower.contains("<link") && !lower.contains("@import"));
    for name in ["src=", "href=", "xlink:href="] {
        for value in attribute_values(&lower, name) {
            assert!(
                !value.starts_with("http:")
                    && !value.starts_with("https:")
                    && !value.starts_with("//"),
                "{name}{value:?} loads from the network"
            );
        }
    }
    assert!(!lower.contains("url(http") && !lower.contains("url(//"));

    // Every chart is a well-formed SVG document with something drawn in it.
    let charts = svg_elements(&report);
    assert!(charts.len() >= 8, "{} charts", charts.len());
    for svg in charts {
        let doc = roxmltree::Document::parse(svg)
            .unwrap_or_else(|e| panic!("chart is not well-formed XML: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert!(root.attribute("width").is_some() && root.attribute("viewBox").is_some());
        let drawn = root
            .descendants()
            .filter(|n| {
                matches!(
                    n.tag_name().name(),
                    "path" | "polyline" | "polygon" | "rect" | "circle"
                )
            })
            .count();
        let texts = root
            .descendants()
            .filter(|n| n.tag_name().name() == "text")
            .count();
        assert!(drawn > 3 && texts > 0, "an empty chart: {svg:.200}");
    }

    // The key figures table: a figure that differs is marked better or worse, in the
    // direction the figure is read (lower cost is better); an equal one is not marked.
    let kpis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("kpis.json")).unwrap()).unwrap();
    assert!(report.contains(".better {") && report.contains(".worse {"));
    let mut marked = 0;
    for row in report.split("<tr><td>").skip(1) {
        let cells: Vec<&str> = row.split("</td>").collect();
        let [name, a, b, diff, ..] = cells.as_slice() else {
            continue;
        };
        let Some(tone) = diff.strip_prefix("<td class=\"") else {
            continue;
        };
        let (tone, diff) = tone.split_once("\">").unwrap();
        let (a, b) = (a.trim_start_matches("<td>"), b.trim_start_matches("<td>"));
        // Figures carry their unit (`12.40 EUR`, `95.0 %`, a difference in `pp`).
        let number = diff.split(' ').next().unwrap();
        // A larger store share is neither better nor worse: not marked.
        if a == b || *name == "store share (units)" {
            assert_eq!(tone, "", "{name}");
            if a != b {
                continue;
            }
            assert_eq!(number.parse::<f64>().unwrap(), 0.0, "{name}: {diff}");
            continue;
        }
        marked += 1;
        let delta = kpis["difference"][*name].as_f64().unwrap();
        let lower_is_better = [
            "units not placed",
            "split rate",
            "shipments per order",
            "total cost",
            "cost per order",
            "cost per unit",
            "mean distance (km)",
            "p95 distance (km)",
        ]
        .contains(name);
        let expected = if (delta > 0.0) != lower_is_better {
            "better"
        } else {
            "worse"
        };
        assert_eq!(tone, expected, "{name}: {a} vs {b}");
        assert_eq!(diff.starts_with('+'), delta > 0.0, "{name}: {diff}");
    }
    assert!(marked >= 2, "only {marked} figures differ");
}

#[test]
fn changes_csv_lists_every_changed_order_with_its_category() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = simulate(&out, &example_orders(), true);
    support::assert_success(&run);
    let csv = std::fs::read_to_string(out.join("changes.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let kpis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("kpis.json")).unwrap()).unwrap();
    assert_eq!(rows.len() as u64, kpis["changed_orders"].as_u64().unwrap());
    let row = |id: &str| rows.iter().find(|r| r[0] == id).unwrap().clone();
    // EX-2: min-cost ships from DC-LEIPZIG; ship-from-store-first prefers Hamburg's shelf
    // 3 km away, at a higher shipment cost.
    let ex2 = row("EX-2");
    assert_eq!(ex2[1], "store_preferred");
    assert!(ex2[4].starts_with('+'), "{ex2:?}");
    assert_eq!((ex2[9], ex2[10]), ("min-cost", "ship-from-store"));
    // EX-4: the grill ships from a vendor under min-cost; the rule file has no vendor.
    assert_eq!(row("EX-4")[1], "placed_less");
    assert_eq!(row("EX-4")[8], "0");
    // EX-8: the same shipment, the missing unit backordered instead of `no_stock`.
    assert_eq!(row("EX-8")[1], "unplaced_reason");
    // EX-3 (a pickup at Munich) is handed out at the counter on both sides: unchanged.
    assert!(rows.iter().all(|r| r[0] != "EX-3"));
    // The counts per category add up, and the report shows them.
    let by: u64 = kpis["changes_by_category"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v[0].as_u64().unwrap())
        .sum();
    assert_eq!(by, rows.len() as u64);
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("<td>store_preferred</td>"));
}

#[test]
fn changes_csv_names_the_clause_behind_each_change() {
    // Three orders, each changed by one clause of B, checked by hand:
    // O-1 to Hamburg: A ships from DC-LEIPZIG (cheapest); B's `prefer stores` sends it from
    //     ST-HAMBURG's shelf → store_preferred, line 5.
    // O-2, a grill to Ulm: only the vendor holds it and B's candidates have no vendor →
    //     placed_less, `no_stock` among B's candidates, line 3.
    // O-3, a gift: B excludes every location for gift lines → placed_less with the
    //     exclusion's reason, line 4.
    let dir = tempfile::tempdir().unwrap();
    let a = "strategy \"cheapest\" {\n  candidates all\n  score cost\n  split allowed\n}\n";
    let b = "# B: stores first, no gift wrap.\nstrategy \"stores-first\" {\n  candidates stores, dcs\n  exclude location when line.tags has \"gift\" reason \"no gift wrap\"  # not yet\n  prefer stores\n  score cost\n  split allowed\n}\n";
    std::fs::write(dir.path().join("a.rules"), a).unwrap();
    std::fs::write(dir.path().join("b.rules"), b).unwrap();
    let line = |sku: &str, qty: u32, tags: &str| {
        format!(
            r#"{{"sku":"{sku}","qty":{qty},"unit_weight_kg":1.0,"unit_price":10.0,"tags":[{tags}]}}"#
        )
    };
    let order = |id: &str, minute: u32, (lat, lon): (f64, f64), lines: &[String]| {
        format!(
            r#"{{"id":"{id}","placed_at":"2026-11-23T09:{minute:02}:00Z","ship_to":{{"lat":{lat},"lon":{lon},"country":"DE"}},"fulfillment":"ship","lines":[{}]}}"#,
            lines.join(",")
        )
    };
    let orders = [
        order(
            "O-1",
            0,
            (53.57532, 10.01534),
            &[line("SNEAKER-42", 1, ""), line("TSHIRT-M", 1, "")],
        ),
        order("O-2", 1, (48.40108, 9.98761), &[line("GRILL-XL", 1, "")]),
        order(
            "O-3",
            2,
            (50.11092, 8.68213),
            &[line("TSHIRT-M", 2, r#""gift""#)],
        ),
    ]
    .join("\n");
    std::fs::write(dir.path().join("orders.jsonl"), orders + "\n").unwrap();
    let data = root().join("data/example");
    let run = Command::new(env!("CARGO_BIN_EXE_sourcing"))
        .current_dir(dir.path())
        .args([
            "simulate", "--rules", "a.rules", "--vs", "b.rules", "--orders",
        ])
        .arg("orders.jsonl")
        .arg("--network")
        .arg(data.join("network.json"))
        .arg("--inventory")
        .arg(data.join("inventory.csv"))
        .args(["--out", "out"])
        .output()
        .unwrap();
    support::assert_success(&run);
    let csv = std::fs::read_to_string(dir.path().join("out/changes.csv")).unwrap();
    let mut lines = csv.lines();
    let header = csv_fields(lines.next().unwrap());
    // The new column comes last; the others keep their places.
    assert_eq!(header.len(), 14);
    assert_eq!(header[..2], ["order", "category"]);
    assert_eq!(header[12..], ["plan_b", "clause"]);
    let rows: Vec<Vec<String>> = lines.map(csv_fields).collect();
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[13].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "O-1",
                "store_preferred",
                "b.rules:5 stores-first: prefer stores"
            ),
            (
                "O-2",
                "placed_less",
                "b.rules:3 stores-first: candidates stores, dcs"
            ),
            (
                "O-3",
                "placed_less",
                r#"b.rules:4 stores-first: exclude location when line.tags has "gift" reason "no gift wrap""#
            ),
        ]
    );
    // kpis.json counts the orders per category and clause, and the report names them.
    let kpis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/kpis.json")).unwrap()).unwrap();
    let by_clause = kpis["changes_by_clause"].as_array().unwrap();
    assert_eq!(by_clause.len(), 3);
    assert_eq!(by_clause[0]["category"], "placed_less");
    assert_eq!(by_clause[0]["orders"], 1);
    assert_eq!(
        by_clause[2]["clause"],
        "b.rules:5 stores-first: prefer stores"
    );
    let report = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(
        report.contains("b.rules:5 stores-first: prefer stores (1)"),
        "the category table names the clause"
    );
}

/// Writes `text` as a scenario file in `dir`.
fn scenario_file(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("what-if.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_scenario_is_compared_with_its_baseline_under_the_same_rules() {
    let dir = tempfile::tempdir().unwrap();
    // DC-KASSEL closed on the example's day: every order it shipped from goes elsewhere.
    let s = scenario_file(
        dir.path(),
        "[[closure]]\nlocation = \"DC-KASSEL\"\nfrom = \"2026-11-23\"\nto = \"2026-11-23\"\n",
    );
    let out = dir.path().join("out");
    let done = simulate_cmd("min-cost.rules", &example_orders(), &out)
        .arg("--scenario")
        .arg(&s)
        .output()
        .unwrap();
    support::assert_success(&done);
    assert!(String::from_utf8_lossy(&done.stdout).contains("changes.csv"));
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    let kassel: Vec<String> = read("decisions.jsonl")
        .lines()
        .filter(|l| l.contains("\"DC-KASSEL\""))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["order"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(!kassel.is_empty());
    assert!(!read("decisions-vs.jsonl").contains("\"DC-KASSEL\""));
    // Every order Kassel shipped changes because it is closed; others may change as the
    // stock they find changes (EX-9 finds the vendor's last grill taken), never as closed.
    let changed: Vec<(String, String)> = read("changes.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let mut f = l.split(',');
            (f.next().unwrap().to_string(), f.next().unwrap().to_string())
        })
        .collect();
    for (order, category) in &changed {
        assert_eq!(category == "closed", kassel.contains(order), "{changed:?}");
    }
    assert_eq!(
        changed.iter().filter(|c| c.1 == "closed").count(),
        kassel.len()
    );
    let kpis: serde_json::Value = serde_json::from_str(&read("kpis.json")).unwrap();
    assert_eq!(kpis["vs"], "min-cost + what-if");
}

#[test]
fn scenario_errors_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[[closure]]\nlocation = \"DC-NOWHERE\"\nfrom = \"2026-11-23\"\nto = \"2026-11-24\"\n",
            "what-if.toml:2:12: expected a location of the network",
        ),
        (
            "[[closure]]\nlocation = \"DC-KASSEL\"\nfrom = \"23.11.2026\"\nto = \"2026-11-24\"\n",
            "what-if.toml:3:8: expected a date",
        ),
        (
            "[[stock]]\nat = \"2026-11-23\"\nlocation = \"DC-KASSEL\"\nsku = \"TSHIRT-M\"\nunits = -5\n",
            "what-if.toml:5:9: expected a whole number of units",
        ),
        ("[[closed]]\n", "what-if.toml:1:3: unknown field `closed`"),
        (
            "[[receipt]]\nlocation = \"DC-KASSEL\"\nsku = \"TSHIRT-M\"\nat = \"2026-11-23T06:00:00Z\"\ncancel = true\n",
            "what-if.toml:4:6: expected the moment of a receipt",
        ),
    ];
    for (i, (text, expected)) in cases.into_iter().enumerate() {
        let s = scenario_file(dir.path(), text);
        let out = dir.path().join(format!("out{i}"));
        let done = simulate_cmd("min-cost.rules", &example_orders(), &out)
            .arg("--scenario")
            .arg(&s)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(1), "{err}");
        assert!(err.contains(expected), "{expected}\n{err}");
        assert!(!out.exists());
    }
}

#[test]
fn swept_values_are_checked_by_kind_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    for (sweep, expected) in [
        (
            "store_keep=1,-1",
            "expected a whole number of 0 or more, found `-1`",
        ),
        (
            "store_keep=1.5",
            "expected a whole number of 0 or more, found `1.5`",
        ),
        ("max_store_km=-3 km", "is a distance: expected 0 or more"),
    ] {
        let out = dir.path().join("out");
        let done = simulate_cmd("ship-from-store-first.rules", &example_orders(), &out)
            .args(["--sweep", sweep])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(1), "{sweep}: {err}");
        assert!(err.contains(expected), "{sweep}: {err}");
        assert!(!out.exists());
    }
    // `--set` is checked the same way.
    let out = dir.path().join("set");
    let done = simulate_cmd("ship-from-store-first.rules", &example_orders(), &out)
        .args(["--set", "store_keep=-1"])
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(1));
}

#[test]
fn a_grid_sweep_on_both_sides_is_the_same_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str| {
        let out = dir.path().join(format!("t{threads}"));
        let done = simulate_cmd("ship-from-store-first.rules", &example_orders(), &out)
            .env("RAYON_NUM_THREADS", threads)
            .arg("--vs")
            .arg(root().join("rules/ship-from-store-first.rules"))
            .args([
                "--sweep",
                "store_keep=0,2,10",
                "--sweep",
                "max_store_km=100 km,400 km",
            ])
            .output()
            .unwrap();
        support::assert_success(&done);
        out
    };
    let (one, two) = (run("1"), run("2"));
    let kpis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.join("kpis.json")).unwrap()).unwrap();
    let rows = kpis["sweep"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "three values times two");
    assert_eq!(kpis["sweep"]["constants"][1], "max_store_km");
    // Both sides declare the constants: both replay every point, each to its own file.
    for r in rows {
        assert!(r["vs"]["orders"].as_u64().is_some());
        for f in r["decisions"].as_array().unwrap() {
            let f = f.as_str().unwrap();
            assert_eq!(
                std::fs::read(one.join(f)).unwrap(),
                std::fs::read(two.join(f)).unwrap(),
                "{f}"
            );
        }
    }
    assert_eq!(
        rows[0]["decisions"][0],
        "sweep/1-store_keep=0-max_store_km=100_km.jsonl"
    );
    for f in ["kpis.json", "report.html", "decisions.jsonl"] {
        assert!(
            std::fs::read(one.join(f)).unwrap() == std::fs::read(two.join(f)).unwrap(),
            "{f} differs"
        );
    }
    // A chart of each key figure against the first constant.
    let report = std::fs::read_to_string(one.join("report.html")).unwrap();
    assert!(report.contains("cost per order (EUR) against store_keep"));
}

#[test]
fn a_sweep_point_is_the_run_with_its_value_set_whether_replayed_or_reused() {
    // `min-cost` declares no `store_keep`, and 2 is the file's own value: those point
    // sides are not replayed but must still be exactly what a run with the value gives.
    let dir = tempfile::tempdir().unwrap();
    let with_vs = |cmd: &mut Command| {
        cmd.env("RAYON_NUM_THREADS", "2")
            .arg("--vs")
            .arg(root().join("rules/min-cost.rules"));
    };
    let swept = dir.path().join("swept");
    let mut cmd = simulate_cmd("ship-from-store-first.rules", &example_orders(), &swept);
    with_vs(&mut cmd);
    let done = cmd.args(["--sweep", "store_keep=0,2"]).output().unwrap();
    support::assert_success(&done);
    let read_json = |p: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let kpis = read_json(&swept.join("kpis.json"));
    let rows = kpis["sweep"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for (row, value) in rows.iter().zip(["0", "2"]) {
        let alone = dir.path().join(format!("alone{value}"));
        let mut cmd = simulate_cmd("ship-from-store-first.rules", &example_orders(), &alone);
        with_vs(&mut cmd);
        let done = cmd
            .args(["--set", &format!("store_keep={value}")])
            .output()
            .unwrap();
        support::assert_success(&done);
        let files = row["decisions"].as_array().unwrap();
        assert_eq!(files.len(), 2, "{row}");
        for (f, own) in files.iter().zip(["decisions.jsonl", "decisions-vs.jsonl"]) {
            let f = f.as_str().unwrap();
            assert_eq!(
                std::fs::read(swept.join(f)).unwrap(),
                std::fs::read(alone.join(own)).unwrap(),
                "{f} against {own} of store_keep={value}"
            );
        }
        let theirs = read_json(&alone.join("kpis.json"));
        assert_eq!(row["overall"], theirs["a"]["overall"], "store_keep={value}");
        assert_eq!(row["vs"], theirs["b"]["overall"], "store_keep={value}");
    }
    // Values that change the decisions are really replayed.
    assert_ne!(
        std::fs::read(swept.join("sweep/1-store_keep=0.jsonl")).unwrap(),
        std::fs::read(swept.join("decisions.jsonl")).unwrap()
    );
}

#[test]
fn no_decisions_writes_the_same_figures_changes_and_report_without_decision_files() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, no_decisions: bool| {
        let out = dir.path().join(name);
        let mut cmd = simulate_cmd("ship-from-store-first.rules", &example_orders(), &out);
        cmd.arg("--vs")
            .arg(root().join("rules/min-cost.rules"))
            .args(["--sweep", "store_keep=0,2"]);
        if no_decisions {
            cmd.arg("--no-decisions");
        }
        let done = cmd.output().unwrap();
        support::assert_success(&done);
        (out, String::from_utf8(done.stdout).unwrap())
    };
    let (with, _) = run("with", false);
    let (without, said) = run("without", true);
    for f in ["decisions.jsonl", "decisions-vs.jsonl", "sweep"] {
        assert!(with.join(f).exists(), "{f}");
        assert!(!without.join(f).exists(), "{f}");
        assert!(!said.contains(f), "{said}");
    }
    assert!(
        std::fs::read(with.join("changes.csv")).unwrap()
            == std::fs::read(without.join("changes.csv")).unwrap(),
        "changes.csv differs"
    );
    // The report says where the decisions are, or that none were written; nothing else
    // differs.
    let page = |out: &Path| std::fs::read_to_string(out.join("report.html")).unwrap();
    let (page_with, page_without) = (page(&with), page(&without));
    let (there, none) = (
        "the decisions of each point are under <code>sweep/</code>",
        "no decision files were written (<code>--no-decisions</code>)",
    );
    assert!(page_with.contains(there) && !page_with.contains(none));
    assert_eq!(page_with.replace(there, none), page_without);
    // The figures are the same; only the sweep's list of decision files is empty.
    let kpis = |out: &Path| -> serde_json::Value {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("kpis.json")).unwrap()).unwrap();
        for row in v["sweep"]["rows"].as_array_mut().unwrap() {
            let files = row["decisions"].take();
            assert!(files.is_array());
            row["decisions"] = serde_json::Value::Null;
        }
        v
    };
    assert_eq!(kpis(&with), kpis(&without));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(without.join("kpis.json")).unwrap()).unwrap();
    assert_eq!(v["sweep"]["rows"][0]["decisions"], serde_json::json!([]));
}
