//! The pipeline gives the decisions of a one-thread run, whatever the threads and window.

use super::Pipeline;
use crate::generate::{scenario, Scenario, Shape};
use crate::load::events::StockEvent;
use crate::model::network::LocationKind;
use crate::rules::Rules;
use crate::Engine;
use std::collections::BTreeMap;

/// Heavy contention: 25 SKUs, thin stock everywhere, DCs and stores with small daily
/// capacity, orders of up to 6 lines over 3 days, a tenth of them click & collect.
fn contended(seed: u64) -> Scenario {
    let shape = Shape {
        dcs: 3,
        stores: 40,
        vendors: 2,
        skus: 25,
        skus_per_store: 8,
        skus_per_vendor: 4,
        orders: 1500,
        max_lines: 6,
        days: 3,
    };
    let mut sc = scenario(seed, &shape);
    for r in &mut sc.inventory {
        r.on_hand %= 60;
    }
    for l in &mut sc.network.locations {
        if l.kind == LocationKind::Dc {
            l.daily_capacity = Some(150);
        }
        if l.kind == LocationKind::Dropship {
            l.daily_capacity = Some(40);
        }
    }
    sc
}

fn engine(sc: &Scenario, rules: Option<&str>) -> Engine {
    let engine = Engine::new(sc.network.clone(), &sc.inventory);
    if let Some(src) = rules {
        let (set, diags) = sourcing_dsl::compile_source("test.rules", src);
        assert!(!diags.has_errors(), "{}", diags.render());
        let compiled = Rules::compile(set.expect("rule set"), engine.network()).expect("compiles");
        engine.set_rules(Some(compiled));
    }
    engine
}

/// Decisions (with explanations) as JSON lines, and the stock left, routed one by one.
fn one_by_one(sc: &Scenario, rules: Option<&str>) -> (Vec<String>, Vec<u64>) {
    let e = engine(sc, rules);
    let lines = sc
        .orders
        .iter()
        .map(|o| {
            let (d, why) = e.route_explained(o);
            format!("{}{}", json(&d), json(&why))
        })
        .collect();
    (lines, left(sc, &e))
}

fn piped(
    sc: &Scenario,
    rules: Option<&str>,
    threads: usize,
    window: usize,
) -> (Vec<String>, Vec<u64>, super::PipelineStats) {
    let e = engine(sc, rules);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool");
    let mut lines = Vec::new();
    let stats = pool
        .install(|| {
            Pipeline::new(&e).explain(true).window(window).run(
                &sc.orders,
                |_, _| {},
                |_, d, why| {
                    lines.push(format!("{}{}", json(&d), json(&why.expect("explained"))));
                    Ok::<(), ()>(())
                },
            )
        })
        .expect("runs");
    (lines, left(sc, &e), stats)
}

fn json<T: serde::Serialize>(x: &T) -> String {
    serde_json::to_string(x).expect("serialises")
}

/// Units every listed pair can still promise, in inventory order.
fn left(sc: &Scenario, e: &Engine) -> Vec<u64> {
    sc.inventory
        .iter()
        .map(|r| e.stock().atp(r.location, &r.sku))
        .collect()
}

/// Units shipped per (location, SKU) never exceed what the pair could promise at first.
fn assert_no_oversell(sc: &Scenario, lines: &[String]) {
    let mut shipped: BTreeMap<(String, String), u64> = BTreeMap::new();
    for line in lines {
        let end = line.find("}{\"strategy\"").map_or(line.len(), |i| i + 1);
        let d: serde_json::Value = serde_json::from_str(&line[..end]).expect("decision json");
        for s in d["shipments"].as_array().expect("shipments") {
            for l in s["lines"].as_array().expect("lines") {
                let key = (
                    s["location"].as_str().expect("location").to_string(),
                    l["sku"].as_str().expect("sku").to_string(),
                );
                *shipped.entry(key).or_default() += l["qty"].as_u64().expect("qty");
            }
        }
    }
    assert!(!shipped.is_empty());
    for ((loc, sku), units) in shipped {
        let at_first = sc
            .inventory
            .iter()
            .find(|r| sc.network.locations[r.location].id == loc && r.sku == sku)
            .map_or(0, |r| r.atp());
        assert!(
            units <= at_first,
            "{loc} {sku}: shipped {units} of {at_first}"
        );
    }
}

#[test]
fn built_in_strategy_gives_the_one_thread_decisions_on_any_threads() {
    let sc = contended(11);
    let (want, want_left) = one_by_one(&sc, None);
    let statuses: Vec<&str> = ["\"sourced\"", "\"partial\"", "\"unsourced\""].to_vec();
    for s in statuses {
        assert!(
            want.iter().any(|l| l.contains(s)),
            "the data has {s} orders"
        );
    }
    assert!(
        want.iter().any(|l| l.contains("\"capacity\"")),
        "capacity binds"
    );
    assert_no_oversell(&sc, &want);
    let mut replanned = 0;
    for (threads, window) in [(1, 64), (2, 5), (4, 64), (4, 1000)] {
        let (got, got_left, stats) = piped(&sc, None, threads, window);
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "order {i} with {threads} threads, window {window}");
        }
        assert_eq!(got_left, want_left, "stock left with {threads} threads");
        assert_eq!(stats.orders, sc.orders.len() as u64);
        replanned += stats.replanned;
    }
    assert!(replanned > 0, "contention makes some plans stale");
}

#[test]
fn rule_files_give_the_one_thread_decisions_on_any_threads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("rules dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .collect();
    files.sort();
    assert!(files.len() >= 5);
    let mut sc = contended(5);
    sc.orders.truncate(500);
    for path in files {
        let src = std::fs::read_to_string(&path).expect("readable");
        let (want, want_left) = one_by_one(&sc, Some(&src));
        assert_no_oversell(&sc, &want);
        let (got, got_left, _) = piped(&sc, Some(&src), 4, 16);
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "order {i} under {}", path.display());
        }
        assert_eq!(got_left, want_left, "{}", path.display());
    }
}

/// Receipts and corrections of listed pairs, every 90 minutes.
fn receipts_and_corrections(sc: &Scenario) -> Vec<StockEvent> {
    (0..40)
        .map(|k| {
            let r = &sc.inventory[(k * 37) % sc.inventory.len()];
            StockEvent {
                at_ms: 1_795_392_000_000 + k as i64 * 5_400_000,
                at: String::new(),
                line: k + 1,
                column: 1,
                location: r.location,
                sku: r.sku.clone(),
                delta: if k % 3 == 0 { -5 } else { 12 },
            }
        })
        .collect()
}

/// Decisions and the stock left, the order's due stock events applied before each order:
/// one by one on this thread (`threads` 0), or through the pipeline.
fn with_adjustments(
    sc: &Scenario,
    rules: Option<&str>,
    events: &[StockEvent],
    (threads, window): (usize, usize),
) -> (Vec<String>, Vec<u64>) {
    let e = engine(sc, rules);
    let mut apply = due(events);
    if threads == 0 {
        let got = sc
            .orders
            .iter()
            .map(|o| {
                apply(o, &mut |ev| {
                    let _ = e.stock().adjust(ev.location, &ev.sku, ev.delta);
                });
                json(&e.consume(o))
            })
            .collect();
        return (got, left(sc, &e));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool");
    let mut got = Vec::new();
    pool.install(|| {
        Pipeline::new(&e).window(window).run(
            &sc.orders,
            |o, stock| {
                apply(o, &mut |ev| {
                    let _ = stock.adjust(ev.location, &ev.sku, ev.delta);
                })
            },
            |_, d, _| {
                got.push(json(&d));
                Ok::<(), ()>(())
            },
        )
    })
    .expect("runs");
    (got, left(sc, &e))
}

#[test]
fn stock_events_between_orders_are_seen_by_plans_made_ahead() {
    let sc = contended(3);
    let events = receipts_and_corrections(&sc);
    let (want, want_left) = with_adjustments(&sc, None, &events, (0, 0));
    for (threads, window) in [(2, 7), (4, 100)] {
        let (got, got_left) = with_adjustments(&sc, None, &events, (threads, window));
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "order {i} with {threads} threads, window {window}");
        }
        assert_eq!(got_left, want_left);
    }
}

#[test]
fn movements_between_orders_are_seen_by_plans_made_ahead() {
    use crate::{Change, Movement, MovementKind};
    let sc = contended(3);
    let events = receipts_and_corrections(&sc);
    // The replay's events as ledger movements: counts and safety stock changes too.
    let movement = |ev: &crate::load::StockEvent| Movement {
        location: sc.network.locations[ev.location].id.clone(),
        sku: ev.sku.clone(),
        kind: match ev.line % 3 {
            0 => MovementKind::Count,
            1 => MovementKind::SafetyStock,
            _ => MovementKind::Receipt,
        },
        change: match ev.line % 3 {
            0 => Change::Set {
                value: 3,
                expected: None,
            },
            1 => Change::Set {
                value: 1,
                expected: None,
            },
            _ => Change::Delta(ev.delta.max(0)),
        },
    };
    let e = engine(&sc, None);
    let mut apply = due(&events);
    let want: Vec<String> = sc
        .orders
        .iter()
        .map(|o| {
            apply(o, &mut |ev| {
                let _ = e.apply(&movement(ev));
            });
            json(&e.consume(o))
        })
        .collect();
    let want_left = left(&sc, &e);
    let e = engine(&sc, None);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .expect("a pool");
    let mut apply = due(&events);
    let mut got = Vec::new();
    pool.install(|| {
        Pipeline::new(&e).window(50).run(
            &sc.orders,
            |o, stock| apply(o, &mut |ev| drop(stock.apply(&movement(ev)))),
            |_, d, _| {
                got.push(json(&d));
                Ok::<(), ()>(())
            },
        )
    })
    .expect("runs");
    assert_eq!(got, want);
    assert_eq!(left(&sc, &e), want_left);
}

#[test]
fn a_replay_gives_the_same_bytes_on_any_threads() {
    let sc = contended(3);
    let events = receipts_and_corrections(&sc);
    let run = |threads: usize| {
        let e = engine(&sc, None);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a pool");
        let mut lines = Vec::new();
        let kpis = pool.install(|| {
            crate::simulate::replay_with_events(&e, &sc.orders, &events, |_, d| lines.push(json(d)))
                .0
        });
        (lines, json(&kpis), left(&sc, &e))
    };
    let one = run(1);
    let four = run(4);
    assert!(one.0 == four.0, "decisions differ");
    assert!(one.1 == four.1, "key figures differ");
    assert!(one.2 == four.2, "stock left differs");
}

/// Applies the events due before an order (at or before its `placed_at`), in order.
fn due<'a>(
    events: &'a [StockEvent],
) -> impl FnMut(&crate::Order, &mut dyn FnMut(&StockEvent)) + 'a {
    let mut next = 0;
    move |order, apply| {
        let t = chrono::DateTime::parse_from_rfc3339(order.placed_at.as_deref().unwrap_or(""))
            .map_or(i64::MIN, |t| t.timestamp_millis());
        while let Some(e) = events.get(next).filter(|e| e.at_ms <= t) {
            apply(e);
            next += 1;
        }
    }
}

/// A walk under rules passes by stores below the protection floor without reading them:
/// receipts that lift such a store over it must still send its orders to be planned again.
#[test]
fn receipts_over_a_protection_floor_are_seen_by_plans_made_ahead_under_rules() {
    let rules = r#"
strategy "stores-first" {
  candidates stores, dcs
  exclude store when atp - line.qty < 2 reason "store protection"
  prefer stores
  score cost + 0.01 EUR * distance
  split at most 3, penalty 3.90 EUR
}
"#;
    let mut sc = contended(7);
    sc.orders.truncate(600);
    for r in &mut sc.inventory {
        if sc.network.locations[r.location].kind == LocationKind::Store {
            r.on_hand %= 4;
        }
    }
    let stores: Vec<&crate::load::inventory::InventoryRecord> = sc
        .inventory
        .iter()
        .filter(|r| sc.network.locations[r.location].kind == LocationKind::Store)
        .collect();
    let events: Vec<StockEvent> = (0..150)
        .map(|k| {
            let r = stores[(k * 13) % stores.len()];
            StockEvent {
                at_ms: 1_795_392_000_000 + k as i64 * 1_200_000,
                at: String::new(),
                line: k + 1,
                column: 1,
                location: r.location,
                sku: r.sku.clone(),
                delta: 3,
            }
        })
        .collect();
    let (want, want_left) = with_adjustments(&sc, Some(rules), &events, (0, 0));
    let (got, got_left) = with_adjustments(&sc, Some(rules), &events, (4, 100));
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "order {i}");
    }
    assert_eq!(got.len(), want.len());
    assert_eq!(got_left, want_left);
}
