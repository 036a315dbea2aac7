//! The core's shared pieces decide alike under the built-in strategy and under the rules.

use crate::fixtures::{location, service, stock};
use crate::model::network::{LocationKind, Network};
use crate::model::order::{Fulfillment, Order, OrderLine, ShipTo};
use crate::rules::Rules;
use crate::{Decision, Engine, UnsourcedReason};

/// Two DCs near Frankfurt (Kassel nearer and cheaper than Munich), one store.
fn network() -> Network {
    let mut kassel = location("DC-KASSEL", LocationKind::Dc, 51.31667, 9.5, 1.1, 0);
    kassel.region = Some("HE".into());
    let munich = location("DC-MUNICH", LocationKind::Dc, 48.14, 11.58, 1.1, 0);
    let store = location("ST-FRANKFURT", LocationKind::Store, 50.11, 8.68, 3.0, 1);
    Network::new(
        "EUR".into(),
        vec![kassel, munich, store],
        vec![service("ground", 4.2, 0.0015, 0.35, 450.0)],
    )
}

fn line(sku: &str, qty: u32, group: Option<&str>) -> OrderLine {
    OrderLine {
        sku: sku.into(),
        qty,
        unit_weight_kg: 1.0,
        unit_price: 10.0,
        tags: Vec::new(),
        group: group.map(str::to_string),
        pack_size: None,
        attr: Default::default(),
    }
}

fn order(lines: Vec<OrderLine>) -> Order {
    Order {
        id: "O-1".into(),
        channel: Some("web".into()),
        placed_at: Some("2026-11-23T17:30:00Z".into()),
        customer_tier: None,
        ship_to: ShipTo {
            lat: 50.12,
            lon: 8.69,
            country: Some("DE".into()),
            region: Some("HE".into()),
            postal_code: None,
        },
        fulfillment: Fulfillment::Ship,
        pickup_location: None,
        promise_days: None,
        lines,
        attr: Default::default(),
    }
}

/// The rules of `rules/min-cost.rules`, run by the rules' own search (`rule_search`) or, as
/// they normally are, by the built-in least-cost search.
fn min_cost_rules(net: &Network, rule_search: bool) -> Rules {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rules/min-cost.rules"
    ))
    .expect("the shipped rule file");
    let (set, diags) = sourcing_dsl::compile_source("min-cost.rules", &src);
    assert!(!diags.has_errors(), "{}", diags.render());
    let mut rules = Rules::compile(set.expect("rule set"), net).expect("compiles");
    assert!(rules.strategies.iter().all(|s| s.plain_min_cost));
    if rule_search {
        for s in &mut rules.strategies {
            s.plain_min_cost = false;
        }
    }
    rules
}

/// The decision of the built-in strategy, of `min-cost.rules`, and of the same rules run
/// by the rules' search.
fn three_ways(rows: &[(usize, &str, u64)], o: &Order) -> [Decision; 3] {
    let net = network();
    let e = Engine::new(net.clone(), &stock(rows));
    let builtin = e.quote(o);
    e.set_rules(Some(min_cost_rules(&net, false)));
    let mut rules = e.quote(o);
    e.set_rules(Some(min_cost_rules(&net, true)));
    let mut searched = e.quote(o);
    // The three name different rule sets; the decisions are compared on everything else.
    rules.ruleset = builtin.ruleset;
    searched.ruleset = builtin.ruleset;
    [builtin, rules, searched]
}

/// Shipments as (location, [(line, qty)]) and unsourced units as (line, qty, reason).
type Summary = (Vec<(String, Vec<(usize, u32)>)>, Vec<(usize, u32, String)>);

fn summary(d: &Decision) -> Summary {
    (
        d.shipments
            .iter()
            .map(|s| {
                let lines = s.lines.iter().map(|l| (l.line, l.qty)).collect();
                (s.location.clone(), lines)
            })
            .collect(),
        d.unsourced
            .iter()
            .map(|u| (u.line, u.qty, u.reason.to_string()))
            .collect(),
    )
}

#[test]
fn two_kits_competing_for_one_dc_are_decided_alike_by_every_search() {
    // Kassel holds one kit's worth; Munich has A but no B. The first kit ships from Kassel,
    // the second cannot ship whole anywhere: its units are there, not together.
    let rows = [(0, "A", 1), (0, "B", 1), (1, "A", 1)];
    let o = order(vec![
        line("A", 1, Some("k1")),
        line("B", 1, Some("k1")),
        line("A", 1, Some("k2")),
        line("B", 1, Some("k2")),
    ]);
    let [builtin, rules, searched] = three_ways(&rows, &o);
    // The network holds as many units of each SKU as one kit needs: the second kit is
    // `group_split`.
    assert_eq!(
        summary(&builtin),
        (
            vec![("DC-KASSEL".to_string(), vec![(0, 1), (1, 1)])],
            vec![
                (2, 1, "group_split".to_string()),
                (3, 1, "group_split".to_string()),
            ],
        )
    );
    assert_eq!(builtin, rules);
    assert_eq!(builtin, searched);
}

#[test]
fn two_kits_that_fit_only_apart_give_way_alike() {
    // Both kits' units are all there (A and B twice), but only Kassel holds a whole kit.
    let rows = [(0, "A", 1), (0, "B", 1), (1, "A", 1), (2, "B", 1)];
    let o = order(vec![
        line("A", 1, Some("k1")),
        line("B", 1, Some("k1")),
        line("A", 1, Some("k2")),
        line("B", 1, Some("k2")),
    ]);
    let [builtin, rules, searched] = three_ways(&rows, &o);
    assert_eq!(
        summary(&builtin),
        (
            vec![("DC-KASSEL".to_string(), vec![(0, 1), (1, 1)])],
            vec![
                (2, 1, "group_split".to_string()),
                (3, 1, "group_split".to_string()),
            ],
        )
    );
    assert_eq!(builtin, rules);
    assert_eq!(builtin, searched);
}

#[test]
fn a_kit_and_a_line_of_the_same_sku_never_count_the_same_units_twice() {
    // Kassel holds 2 of A; the kit takes 1, the plain line gets the other (and is short of
    // one unit: not `pack_size`, it has no pack).
    let rows = [(0, "A", 2), (0, "B", 1)];
    let o = order(vec![
        line("A", 1, Some("k1")),
        line("B", 1, Some("k1")),
        line("A", 2, None),
    ]);
    let [builtin, rules, searched] = three_ways(&rows, &o);
    assert_eq!(
        summary(&builtin),
        (
            vec![("DC-KASSEL".to_string(), vec![(0, 1), (1, 1), (2, 1)])],
            vec![(2, 1, "insufficient_stock".to_string())],
        )
    );
    assert_eq!(builtin, rules);
    assert_eq!(builtin, searched);
}

#[test]
fn plain_partial_orders_are_cut_alike() {
    // Three of A asked, two held: both searches place the two at least cost.
    let rows = [(0, "A", 1), (1, "A", 1), (0, "B", 4)];
    let o = order(vec![
        line("A", 3, None),
        line("B", 1, None),
        line("C", 1, None),
    ]);
    let [builtin, rules, searched] = three_ways(&rows, &o);
    assert_eq!(
        summary(&builtin).1,
        vec![
            (0, 1, "insufficient_stock".to_string()),
            (2, 1, "no_stock".to_string()),
        ]
    );
    assert_eq!(builtin, rules);
    assert_eq!(builtin, searched);
}

#[test]
fn a_pickup_order_at_a_location_that_is_not_a_store_is_refused_by_every_search() {
    let rows = [(0, "A", 5)];
    let mut o = order(vec![line("A", 1, None)]);
    o.fulfillment = Fulfillment::Pickup;
    for at in ["DC-KASSEL", "NOWHERE"] {
        o.pickup_location = Some(at.into());
        for d in three_ways(&rows, &o) {
            assert_eq!(d.shipments.len(), 0, "{at}");
            assert_eq!(
                d.unsourced
                    .iter()
                    .map(|u| u.reason.clone())
                    .collect::<Vec<_>>(),
                vec![UnsourcedReason::InvalidPickupStore],
                "{at}"
            );
        }
    }
}

#[test]
fn an_explanation_is_collected_only_when_asked_and_only_for_its_order() {
    let net = network();
    let e = Engine::new(net, &stock(&[(0, "A", 5), (1, "A", 5)]));
    let o = order(vec![line("A", 1, None)]);
    let (d1, first) = e.quote_explained(&o);
    // A plain quote in between leaves nothing behind for the next explanation.
    let _ = e.quote(&o);
    let (d2, second) = e.quote_explained(&o);
    assert_eq!(d1, d2);
    assert!(!first.candidates.is_empty());
    assert_eq!(first.candidates, second.candidates);
    // On another thread, the same.
    let third = std::thread::scope(|s| s.spawn(|| e.quote_explained(&o).1).join());
    assert_eq!(third.ok().map(|x| x.candidates), Some(first.candidates));
}
