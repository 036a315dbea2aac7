//! What `docs/language.md` says of a rank key read per location ("keys read per
//! location"), checked on the example network: `rank by atp desc` gives a plan no extra
//! parcel for its value, and compares the plans that need every shipment by the sum.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests"
)]

mod support;

use serde_json::Value;

/// The locations each order ships from, in the order of the orders.
fn shipping(inventory: &str, orders: &[(&str, u32)]) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let write =
        |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
    let network =
        std::fs::read_to_string(support::example_dir().join("network.json")).expect("network");
    write("network.json", &network);
    write("inventory.csv", inventory);
    write(
        "atp.rules",
        "strategy \"most-stock\" {\n  candidates all\n  rank by atp desc\n}\n",
    );
    let lines: Vec<String> = orders
        .iter()
        .map(|(id, qty)| {
            format!(
                r#"{{"id":"{id}","ship_to":{{"lat":50.11,"lon":8.68,"country":"DE"}},"lines":[{{"sku":"A","qty":{qty},"unit_weight_kg":1,"unit_price":1}}]}}"#
            )
        })
        .collect();
    write("orders.jsonl", &(lines.join("\n") + "\n"));
    let out = support::route(dir.path(), &["--rules", "atp.rules", "--no-consume"]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let d: Value = serde_json::from_str(l).expect("a decision");
            let mut at: Vec<String> = d["shipments"]
                .as_array()
                .map(|s| {
                    s.iter()
                        .filter_map(|x| x["location"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            at.sort();
            at
        })
        .collect()
}

#[test]
fn atp_desc_counts_only_the_shipments_a_plan_needs() {
    // The farthest, dearest location holds the most: a cost ranking would not pick it.
    let inventory = "location,sku,on_hand\nST-HAMBURG,A,10\nDC-LEIPZIG,A,3\nDC-KASSEL,A,2\n";
    let got = shipping(inventory, &[("one-fills-it", 2), ("needs-two", 12)]);
    // 10 from one location, never 10 + 3 from two: the second parcel would place nothing
    // the first cannot.
    assert_eq!(got[0], ["ST-HAMBURG"]);
    // No single location holds 12: {HAMBURG, LEIPZIG} (13) beats {HAMBURG, KASSEL} (12),
    // though KASSEL ships for less.
    assert_eq!(got[1], ["DC-LEIPZIG", "ST-HAMBURG"]);
}

/// Where one order of one unit of each of `skus` ships from, ranked by `key`.
fn ships_from(inventory: &str, key: &str, skus: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let write =
        |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
    let network =
        std::fs::read_to_string(support::example_dir().join("network.json")).expect("network");
    write("network.json", &network);
    write("inventory.csv", inventory);
    write(
        "key.rules",
        &format!("strategy \"by-key\" {{\n  candidates all\n  split none\n  rank by {key}\n}}\n"),
    );
    let lines: Vec<String> = skus
        .iter()
        .map(|sku| format!(r#"{{"sku":"{sku}","qty":1,"unit_weight_kg":1,"unit_price":1}}"#))
        .collect();
    write(
        "orders.jsonl",
        &format!(
            r#"{{"id":"o","ship_to":{{"lat":50.11,"lon":8.68,"country":"DE"}},"lines":[{}]}}"#,
            lines.join(",")
        ),
    );
    let out = support::route(dir.path(), &["--rules", "key.rules", "--no-consume"]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    let d: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).expect("json");
    d["shipments"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|x| x["location"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn atp_and_stock_cover_read_every_sku_of_the_order_whatever_the_line_order() {
    // Kassel: 10 of A, 1 of B (atp 11, cover 1). Hamburg: 3 of each (atp 6, cover 3).
    // Reading only the last line's SKU, Kassel would read 1 or 10 with the line order.
    let inventory =
        "location,sku,on_hand\nDC-KASSEL,A,10\nDC-KASSEL,B,1\nST-HAMBURG,A,3\nST-HAMBURG,B,3\n";
    for skus in [["A", "B"], ["B", "A"]] {
        assert_eq!(
            ships_from(inventory, "atp desc", &skus),
            ["DC-KASSEL"],
            "atp is the sum over the SKUs, lines {skus:?}"
        );
        assert_eq!(
            ships_from(inventory, "stock_cover desc", &skus),
            ["ST-HAMBURG"],
            "stock_cover is the least over the SKUs, lines {skus:?}"
        );
    }
}
