//! The differential oracle of the bounded search: random networks, stock and orders (with
//! pickups, promises, capacity, kits and packs) and random rule files drawn from the
//! language's clauses; every order is routed with stock consumed twice — bounded, and by a
//! full scan of every holder — and the decisions must be the same, bit for bit.
//!
//! `cargo test` runs a few seeds; `DIFFERENTIAL_CASES=2000 cargo test -p sourcing-engine
//! --release differential` runs many more (see the README).
#![allow(clippy::expect_used, clippy::panic, reason = "tests fail by panicking")]

use super::Rules;
use crate::generate::{scenario, Rng, Shape};
use crate::Engine;

/// The generator's seeded random numbers, with what drawing rule files needs.
trait Draw {
    fn chance(&mut self, p: f64) -> bool;
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str;
}

impl Draw for Rng {
    fn chance(&mut self, p: f64) -> bool {
        self.unit() <= p
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// One random rule file: one or two strategies, the first falling back to the second.
fn rule_file(rng: &mut Rng) -> String {
    // How many units a store keeps: the walk passes by stores below `line.qty + keep`.
    let mut out = format!("const keep = {}\n\n", rng.below(4));
    let strategies = 1 + rng.below(2);
    for i in 0..strategies {
        out.push_str(&format!("strategy \"s{i}\" {{\n"));
        if i == 0 && rng.chance(0.3) {
            out.push_str("  when order.fulfillment == ship\n");
        }
        out.push_str(&format!(
            "  candidates {}\n",
            rng.pick(&[
                "all",
                "stores, dcs",
                "dcs, stores, dropship",
                "all",
                "stores, dcs, pickup_store"
            ])
        ));
        let exclusions = [
            "exclude store when distance > {d} km reason \"far\"",
            "exclude dc when distance > {D} km reason \"dc far\"",
            "exclude store when atp - line.qty < keep reason \"keep\"",
            "exclude location when location.handling_cost > {h} EUR reason \"dear\"",
            "exclude store when line.qty > 2 reason \"bulky\"",
            "exclude location when stock_cover < 2 and kind == store reason \"cover\"",
            "exclude dropship when not in_market reason \"abroad\"",
            "exclude location when line.tags has \"hazmat\" and not location.tags has \"hazmat\" reason \"hazmat\"",
        ];
        for ex in exclusions {
            if rng.chance(0.3) {
                let text = ex
                    .replace("{d}", &(20 + rng.below(380)).to_string())
                    .replace("{D}", &(100 + rng.below(700)).to_string())
                    .replace(
                        "{h}",
                        &format!("{:.2}", 0.5 + rng.below(250) as f64 / 100.0),
                    );
                out.push_str(&format!("  {text}\n"));
            }
        }
        if rng.chance(0.4) {
            out.push_str(&format!(
                "  prefer {}\n",
                rng.pick(&["stores", "dcs", "pickup_store", "dropship"])
            ));
        }
        if rng.chance(0.15) {
            // Locations one after another instead of comparing plans.
            out.push_str(&format!(
                "  fill by {}\n",
                rng.pick(&[
                    "priority, then distance",
                    "distance",
                    "priority desc, then distance",
                    "distance, then priority",
                ])
            ));
        } else {
            let mut score = rng.pick(&["cost", "1.2 * cost", "cost / 2"]).to_string();
            let terms = [
                " + 0.01 EUR * distance",
                " + 0.5 EUR * days",
                " + (kind == store ? 1.50 EUR : 0 EUR)",
                " - (in_market ? 0.40 EUR : 0 EUR)",
                " + (meets_promise ? 0 EUR : 2 EUR)",
                " + 0.002 EUR * distance * (order.value > 50 EUR ? 2 : 1)",
                " + (location.processing_days > 1 ? 0.7 EUR : 0 EUR)",
                // An order fact through a script: the bound is kept per hour.
                " + late(order.placed_at.hour, days)",
            ];
            for t in terms {
                if rng.chance(0.3) {
                    score.push_str(t);
                }
            }
            out.push_str(&format!("  score {score}\n"));
            match rng.below(8) {
                0 => out.push_str("  rank by fewest_shipments, then score\n"),
                5 => out.push_str("  rank by days, then score\n"),
                6 => out.push_str("  rank by fewest_shipments, then in_market, then distance\n"),
                1 => out.push_str("  rank by score, then distance\n"),
                2 => out.push_str("  rank by fewest_shipments, then distance, then priority\n"),
                3 => out.push_str("  rank by distance, then score\n"),
                _ => {}
            }
        }
        out.push_str(&format!(
            "  {}\n",
            rng.pick(&[
                "split allowed",
                "split allowed, penalty 3 EUR",
                "split at most 2",
                "split at most 3, penalty 1.50 EUR",
                "split none",
                "split allowed, lines whole",
            ])
        ));
        if rng.chance(0.3) {
            out.push_str(&format!(
                "  {}\n",
                rng.pick(&["promise preferred, penalty 4 EUR", "promise required"])
            ));
        }
        if rng.chance(0.15) {
            out.push_str("  all or nothing\n");
        }
        if i + 1 < strategies {
            out.push_str(&format!("  fallback \"s{}\"\n", i + 1));
        } else if rng.chance(0.5) {
            out.push_str("  otherwise backorder\n");
        }
        out.push_str("}\n\n");
    }
    out.push_str(
        "script late(hour: number, transit: days) -> money {\n  \
         if hour >= 12 && transit > 1 { 0.80 } else { 0.0 }\n}\n",
    );
    out
}

/// Routes every order of a random scenario under `text`, bounded and by full scan, and
/// compares the decisions; `Err` describes the first difference. `Ok`: how many strategy
/// steps the bounded search settled.
fn compare(seed: u64, text: &str) -> Result<usize, String> {
    let shape = Shape {
        dcs: 3,
        stores: 40,
        vendors: 3,
        skus: 30,
        skus_per_store: 12,
        skus_per_vendor: 10,
        orders: 120,
        max_lines: 4,
        days: 2,
    };
    let sc = scenario(seed, &shape);
    let (set, diags) = sourcing_dsl::compile_source("random.rules", text);
    let Some(set) = set else {
        return Err(format!(
            "the generated file does not check:\n{}",
            diags.render()
        ));
    };
    let bounded = Rules::compile(set.clone(), &sc.network).map_err(|e| e.to_string())?;
    let unexplained = Rules::compile(set.clone(), &sc.network).map_err(|e| e.to_string())?;
    let mut full = Rules::compile(set, &sc.network).map_err(|e| e.to_string())?;
    full.full_scan_only = true;
    let a = Engine::new(sc.network.clone(), &sc.inventory);
    a.set_rules(Some(bounded));
    let b = Engine::new(sc.network.clone(), &sc.inventory);
    b.set_rules(Some(full));
    // Without an explanation: some searches (a fill) look at fewer holders then.
    let c = Engine::new(sc.network.clone(), &sc.inventory);
    c.set_rules(Some(unexplained));
    let mut settled = 0;
    for order in &sc.orders {
        let ((x, why), y, z) = (a.route_explained(order), b.consume(order), c.consume(order));
        settled += why.search.iter().filter(|s| s.why.is_none()).count();
        let (jx, jy, jz) = (
            serde_json::to_string(&x).map_err(|e| e.to_string())?,
            serde_json::to_string(&y).map_err(|e| e.to_string())?,
            serde_json::to_string(&z).map_err(|e| e.to_string())?,
        );
        if jx != jy || jz != jy {
            return Err(format!(
                "order {}:\n  bounded, explained: {jx}\n  bounded:            {jz}\n  full scan:          {jy}",
                order.id
            ));
        }
    }
    Ok(settled)
}

#[test]
fn the_bounded_search_decides_as_a_scan_of_every_holder() {
    let cases: u64 = std::env::var("DIFFERENTIAL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let mut settled = 0;
    for case in 0..cases {
        let mut rng = Rng(case);
        let text = rule_file(&mut rng);
        match compare(1000 + case, &text) {
            Ok(n) => settled += n,
            Err(why) => panic!("case {case}, rules:\n{text}\n{why}"),
        }
    }
    // The comparison means something only if the bounded search decided many steps.
    assert!(settled > 40 * cases as usize, "{settled} bounded steps");
}

#[test]
fn the_shipped_rule_files_decide_as_a_scan_of_every_holder() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("rules/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .collect();
    files.sort();
    assert!(files.len() >= 5);
    for path in files {
        let text = std::fs::read_to_string(&path).expect("a rule file");
        for seed in [3, 4] {
            if let Err(why) = compare(seed, &text) {
                panic!("{}: {why}", path.display());
            }
        }
    }
}
