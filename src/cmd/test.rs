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
//! `unsourced` (the reasons, in line order) and `total_cost` (to the cent, a finite number);
//! an `expect` that names none of them is refused, as it could never fail. Every case is
//! routed alone against a fresh stock. A failure shows what was expected, what came out,
//! and the explanation.

use crate::cmd::explain::render;
use crate::cmd::route::load_rules;
use crate::Failure;
use clap::Args;
use serde::Deserialize;
use sourcing_engine::load::{self, InventoryRecord};
use sourcing_engine::{Decision, Engine, Network, RouteOptions};
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
    name: toml::Spanned<String>,
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
    total_cost: Option<toml::Spanned<f64>>,
}

impl Expect {
    /// What makes this expectation unusable, with the place in the cases file: a cost that is
    /// not a finite number (`nan` would pass against any cost), or nothing to compare.
    fn problem(&self, case: &Case, file: &sourcing_dsl::SourceFile) -> Option<String> {
        let place = |offset: usize| {
            let (line, col) = file.line_col(offset);
            format!("{}:{line}:{col}", file.name)
        };
        if let Some(cost) = &self.total_cost {
            if !cost.get_ref().is_finite() {
                let span = cost.span();
                let written = file.slice(sourcing_dsl::Span::new(span.start, span.end));
                return Some(format!(
                    "{}: expect.total_cost: must be a finite number, found `{written}`",
                    place(span.start),
                ));
            }
        }
        let names_nothing = self.status.is_none()
            && self.rule.is_none()
            && self.locations.is_none()
            && self.unsourced.is_none()
            && self.total_cost.is_none();
        names_nothing.then(|| {
            format!(
                "{}: case `{}`: `expect` names nothing to check, so it would always pass; \
                 give `status`, `rule`, `locations`, `unsourced` or `total_cost`",
                place(case.name.span().start),
                case.name.get_ref()
            )
        })
    }
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

/// The text of a cases file without a leading byte-order mark; `None` when there is no
/// such file. A file that cannot be read, or is not UTF-8, is an error naming the place.
fn read_cases(path: &Path) -> Result<Option<String>, String> {
    let shown = path.display();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(_) if path.is_dir() => return Err(format!("{shown}: is a folder, not a cases file")),
        Err(e) => return Err(format!("{shown}: cannot read the file: {e}")),
    };
    let (bom, bytes) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (3, rest),
        None => (0, bytes.as_slice()),
    };
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Some(text.to_string())),
        Err(e) => {
            let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let col = String::from_utf8_lossy(valid.get(line_start..).unwrap_or_default())
                .chars()
                .count()
                + 1;
            Err(format!(
                "{shown}:{line}:{col}: the file is not UTF-8 text (byte {} of the file); \
                 save it as UTF-8",
                bom + e.valid_up_to() + 1
            ))
        }
    }
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
    if let Some(c) = expect.total_cost.as_ref().map(|c| *c.get_ref()) {
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
        let text = match read_cases(&cases) {
            Ok(Some(t)) => t,
            Ok(None) => {
                failed += 1;
                report.push_str(&format!(
                    "FAILED {}: no test cases; write them in {shown}\n",
                    rules.display()
                ));
                continue;
            }
            Err(why) => {
                failed += 1;
                report.push_str(&format!("FAILED {why}\n"));
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
        if file.cases.is_empty() {
            failed += 1;
            report.push_str(&format!(
                "FAILED {shown}: no test cases; add a `[[case]]` table for each case\n"
            ));
            continue;
        }
        let source = sourcing_dsl::SourceFile::new(shown.clone(), text);
        let problems: Vec<String> = file
            .cases
            .iter()
            .filter_map(|c| c.expect.problem(c, &source))
            .collect();
        if !problems.is_empty() {
            failed += problems.len();
            for p in problems {
                report.push_str(&format!("FAILED {p}\n"));
            }
            continue;
        }
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
                    report.push_str(&format!(
                        "ok     {} :: {}\n",
                        rules.display(),
                        case.name.get_ref()
                    ));
                }
                Err(why) => {
                    failed += 1;
                    report.push_str(&format!(
                        "FAILED {} :: {}\n{why}\n",
                        rules.display(),
                        case.name.get_ref()
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
    load_rules(&engine, rules).map_err(|f| match f {
        Failure::Input(t) | Failure::Usage(t) => t,
    })?;
    let json = serde_json::to_string(&case.order).map_err(|e| e.to_string())?;
    let order = load::parse_order(cases_file, 1, &json, engine.network())
        .map_err(|e| format!("  the case's order: {e}"))?;
    let order = engine
        .validate(order)
        .map_err(|e| format!("  the case's order: {e}"))?;
    let out = engine.route(&order, &RouteOptions::quote().explain(true));
    let decision = out.decision;
    let why = out.explain.ok_or("  the case's order was not explained")?;
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
