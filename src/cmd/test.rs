//! `sourcing test PATH...`: run the analysts' test cases that sit beside the rule files.
//!
//! Each `NAME.rules` has a `NAME.cases.toml` beside it:
//!
//! ```toml
//! network = "../data/example/network.json"      # paths are relative to this file
//! inventory = "../data/example/inventory.csv"   # or give `stock` per case
//!
//! [[case]]
//! name = "a pickup order takes what the store has"
//! stock = ["ST-MUNICH JEANS-32 2", "DC-KASSEL JEANS-32 9"]   # optional: replaces the inventory
//! order = { id = "T-1", fulfillment = "pickup", pickup_location = "ST-MUNICH",
//!           ship_to = { lat = 48.137, lon = 11.575 },
//!           lines = [{ sku = "JEANS-32", qty = 1, unit_weight_kg = 0.7 }] }
//! expect = { status = "sourced", rule = "click-and-collect", locations = ["ST-MUNICH"] }
//! ```
//!
//! `expect` may name `status`, `rule`, `locations` (the shipping locations, any order),
//! `unsourced` (the reasons, in line order) and `total_cost` (to the cent). Every case is
//! routed alone against a fresh stock. A failure shows what was expected, what came out,
//! and the explanation.

use crate::cmd::explain::render;
use crate::cmd::route::load_rules;
use crate::Failure;
use clap::Args;
use serde::Deserialize;
use sourcing_engine::load::{self, InventoryRecord};
use sourcing_engine::{Decision, Engine, Network};
use std::path::{Path, PathBuf};

/// Arguments of `sourcing test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Rule files, or folders whose `*.rules` files are tested.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CasesFile {
    network: PathBuf,
    inventory: Option<PathBuf>,
    #[serde(default, rename = "case")]
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    stock: Option<Vec<String>>,
    order: toml::Value,
    expect: Expect,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    status: Option<String>,
    rule: Option<String>,
    locations: Option<Vec<String>>,
    unsourced: Option<Vec<String>>,
    total_cost: Option<f64>,
}

/// The rule files named by the arguments, folders expanded, sorted.
fn rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries = std::fs::read_dir(p)
                .map_err(|e| Failure::Input(format!("{}: cannot read folder: {e}", p.display())))?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|x| x == "rules") {
                    files.push(path);
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    files.sort();
    Ok(files)
}

fn cases_path(rules: &Path) -> PathBuf {
    rules.with_extension("cases.toml")
}

/// Parses a stock line `LOCATION SKU UNITS`.
fn stock_rows(
    file: &str,
    rows: &[String],
    network: &Network,
) -> Result<Vec<InventoryRecord>, String> {
    rows.iter()
        .map(|row| {
            let parts: Vec<&str> = row.split_whitespace().collect();
            let [loc, sku, qty] = parts.as_slice() else {
                return Err(format!(
                    "{file}: stock row `{row}`: expected `LOCATION SKU UNITS`"
                ));
            };
            let location = network
                .location_index(loc)
                .ok_or_else(|| format!("{file}: stock row `{row}`: unknown location `{loc}`"))?;
            let on_hand = qty
                .parse()
                .map_err(|_| format!("{file}: stock row `{row}`: `{qty}` is not a whole number"))?;
            Ok(InventoryRecord {
                location,
                sku: (*sku).to_string(),
                on_hand,
                reserved: 0,
                safety_stock: 0,
            })
        })
        .collect()
}

/// What differs between the expectation and the decision, one line per difference.
fn compare(expect: &Expect, d: &Decision) -> Vec<String> {
    let mut diffs = Vec::new();
    let status = format!("{:?}", d.status).to_lowercase();
    if let Some(s) = &expect.status {
        if s != &status {
            diffs.push(format!("status: expected `{s}`, got `{status}`"));
        }
    }
    if let Some(r) = &expect.rule {
        if r != &d.rule {
            diffs.push(format!("rule: expected `{r}`, got `{}`", d.rule));
        }
    }
    if let Some(locs) = &expect.locations {
        let mut want = locs.clone();
        want.sort();
        let mut got: Vec<String> = d.shipments.iter().map(|s| s.location.clone()).collect();
        got.sort();
        if want != got {
            diffs.push(format!("locations: expected {want:?}, got {got:?}"));
        }
    }
    if let Some(reasons) = &expect.unsourced {
        let got: Vec<String> = d.unsourced.iter().map(|u| u.reason.clone()).collect();
        if reasons != &got {
            diffs.push(format!("unsourced: expected {reasons:?}, got {got:?}"));
        }
    }
    if let Some(c) = expect.total_cost {
        if (c - d.total_cost).abs() > 0.005 {
            diffs.push(format!(
                "total_cost: expected {c:.2}, got {:.2}",
                d.total_cost
            ));
        }
    }
    diffs
}

/// Runs `sourcing test`.
pub fn run(args: &TestArgs) -> Result<(), Failure> {
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut report = String::new();
    for rules in rule_files(&args.paths)? {
        let cases = cases_path(&rules);
        let shown = cases.display().to_string();
        let text = match std::fs::read_to_string(&cases) {
            Ok(t) => t,
            Err(_) => {
                failed += 1;
                report.push_str(&format!(
                    "FAILED {}: no test cases; write them in {shown}\n",
                    rules.display()
                ));
                continue;
            }
        };
        let file: CasesFile = match toml::from_str(&text) {
            Ok(f) => f,
            Err(e) => {
                failed += 1;
                report.push_str(&format!("FAILED {shown}: {e}\n"));
                continue;
            }
        };
        let dir = cases.parent().unwrap_or(Path::new("."));
        let network = load::load_network(&dir.join(&file.network))
            .map_err(|e| Failure::Input(e.to_string()))?;
        let inventory = match &file.inventory {
            Some(p) => load::load_inventory(&dir.join(p), &network)
                .map_err(|e| Failure::Input(e.to_string()))?,
            None => Vec::new(),
        };
        for case in &file.cases {
            let outcome = run_case(&rules, &shown, case, &network, &inventory);
            match outcome {
                Ok(()) => {
                    passed += 1;
                    report.push_str(&format!("ok     {} :: {}\n", rules.display(), case.name));
                }
                Err(why) => {
                    failed += 1;
                    report.push_str(&format!(
                        "FAILED {} :: {}\n{why}\n",
                        rules.display(),
                        case.name
                    ));
                }
            }
        }
    }
    let summary = format!("{passed} passed, {failed} failed");
    if failed > 0 {
        Err(Failure::Input(format!("{report}\n{summary}")))
    } else {
        crate::cmd::output::print(&format!("{report}\n{summary}\n"))
    }
}

fn run_case(
    rules: &Path,
    cases_file: &str,
    case: &Case,
    network: &Network,
    inventory: &[InventoryRecord],
) -> Result<(), String> {
    let stock = match &case.stock {
        Some(rows) => stock_rows(cases_file, rows, network)?,
        None => inventory.to_vec(),
    };
    let engine = Engine::new(network.clone(), &stock);
    let compiled = load_rules(rules, engine.network()).map_err(|f| match f {
        Failure::Input(t) | Failure::Usage(t) => t,
    })?;
    engine.set_rules(Some(compiled));
    let json = serde_json::to_string(&case.order).map_err(|e| e.to_string())?;
    let order = load::parse_order(cases_file, 1, &json, engine.network())
        .map_err(|e| format!("  the case's order: {e}"))?;
    let (decision, why) = engine.quote_explained(&order);
    let diffs = compare(&case.expect, &decision);
    if diffs.is_empty() {
        return Ok(());
    }
    let mut out = String::new();
    for d in diffs {
        out.push_str(&format!("  {d}\n"));
    }
    for line in render(&decision, &why, engine.network()).lines() {
        out.push_str(&format!("  | {line}\n"));
    }
    Err(out)
}
