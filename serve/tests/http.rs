//! Every endpoint of service.md over a real listener on 127.0.0.1: bodies, error codes,
//! idempotency, rules, access, metrics and the OpenAPI document.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use sourcing_serve::auth::{new_token, Role};
use sourcing_serve::Options;
use std::time::Duration;
use support::{order, Server};

fn atp(server: &Server, location: &str, sku: &str) -> u64 {
    let r = server.call(
        "GET",
        &format!("/v1/availability?sku={sku}&location={location}"),
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["skus"][0]["locations"][0]["atp"]
        .as_u64()
        .expect("atp")
}

fn units_shipped(decision: &Value, location: &str, sku: &str) -> u64 {
    decision["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["location"] == location)
        .flat_map(|s| s["lines"].as_array().unwrap().iter())
        .filter(|l| l["sku"] == sku)
        .map(|l| l["qty"].as_u64().unwrap())
        .sum()
}

#[test]
fn quote_changes_nothing_route_takes_the_units_and_both_name_the_rules() {
    let server = Server::start();
    let ruleset = server.call("GET", "/v1/rules", "").json()["ruleset"].clone();
    assert!(ruleset.as_str().is_some_and(|h| h.len() == 64));
    let before = atp(&server, "DC-KASSEL", "TSHIRT-M");
    let body = order("Q-1", "TSHIRT-M", 3);

    let quoted = server.call("POST", "/v1/quote", &body);
    assert_eq!(quoted.status, 200, "{}", quoted.body);
    let decision = quoted.json();
    assert_eq!(decision["status"], "sourced");
    assert_eq!(decision["ruleset"], ruleset);
    assert!(decision.get("explain").is_none());
    assert_eq!(atp(&server, "DC-KASSEL", "TSHIRT-M"), before);

    let explained = server.call("POST", "/v1/quote?explain=true", &body).json();
    assert!(explained["explain"].is_object(), "{explained}");

    let routed = server.call("POST", "/v1/route", &body);
    assert_eq!(routed.status, 200, "{}", routed.body);
    let routed = routed.json();
    assert_eq!(routed["ruleset"], ruleset);
    let taken = units_shipped(&routed, "DC-KASSEL", "TSHIRT-M");
    assert_eq!(taken, 3, "{routed}");
    assert_eq!(atp(&server, "DC-KASSEL", "TSHIRT-M"), before - 3);

    let page = server.call("GET", "/v1/ledger", "").json();
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{page}");
    assert_eq!(entries[0]["kind"], "route");
    assert_eq!(entries[0]["on_hand_delta"], -3);
    assert_eq!(entries[0]["order"], "Q-1");
    assert_eq!(entries[0]["idempotency_key"], "Q-1");
    assert_eq!(entries[0]["ruleset"], ruleset);
    assert_eq!(page["next"], entries[0]["seq"]);
}

#[test]
fn what_a_client_sends_wrong_is_a_4xx_with_an_error_never_a_5xx() {
    let server = Server::start_with(
        Options {
            limits: sourcing_serve::http::Limits {
                body_bytes: 4096,
                timeout: Duration::from_secs(10),
            },
            ..Options::default()
        },
        None,
    );
    let error = |r: &sourcing_serve::client::Reply| {
        r.json()["error"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_default()
    };
    for (path, body) in [
        ("/v1/quote", "{not json"),
        ("/v1/route", "[1, 2]"),
        ("/v1/reservations", "{\"ttl_s\": 60}"),
        ("/v1/reservations", "{\"order\": 5}"),
        ("/v1/stock/movements", "{\"location\": \"DC-KASSEL\"}"),
    ] {
        let r = server.call("POST", path, body);
        assert_eq!(r.status, 400, "{path} {body}: {}", r.body);
        assert!(!error(&r).is_empty(), "{}", r.body);
    }
    // A bad order: the loader's message, as `sourcing route` gives it.
    let bad = r#"{"id":"B-1","ship_to":{"lat":50.1,"lon":8.6},"fulfillment":"ship","lines":[{"sku":"TSHIRT-M","qty":0,"unit_weight_kg":0.2}]}"#;
    let expected = sourcing_engine::load::parse_order("order", 1, bad, &support::network())
        .expect_err("qty 0 is refused")
        .to_string();
    for path in ["/v1/quote", "/v1/route"] {
        let r = server.call("POST", path, bad);
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(error(&r), expected.trim_end());
        assert!(error(&r).contains("lines[0].qty"), "{}", r.body);
    }
    let r = server.call("POST", "/v1/reservations", &format!("{{\"order\": {bad}}}"));
    assert_eq!(r.status, 422, "{}", r.body);
    for ttl in ["0", "86401", "600.5", "-1", "1e9"] {
        let body = format!(
            "{{\"order\": {}, \"ttl_s\": {ttl}}}",
            order("T-1", "TSHIRT-M", 1)
        );
        let r = server.call("POST", "/v1/reservations", &body);
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(error(&r).contains("ttl_s"), "{}", r.body);
    }
    // A whole number written with a zero fraction is a whole number (as JSON Schema says).
    let body = format!(
        "{{\"order\": {}, \"ttl_s\": 600.0}}",
        order("T-2", "TSHIRT-M", 1)
    );
    let r = server.call("POST", "/v1/reservations", &body);
    assert_eq!(r.status, 201, "{}", r.body);
    let ttl = r.json()["expires_at"].as_i64().unwrap() - sourcing_serve::ledger::now_unix();
    assert!((595..=600).contains(&ttl), "ttl 600 s, got {ttl}");
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(5000));
    let r = server.call("POST", "/v1/quote", &big);
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(server.call("GET", "/v1/nothing", "").status, 404);
    assert_eq!(
        server.call("GET", "/v1/reservations/R-none", "").status,
        404
    );
    assert_eq!(
        server
            .call("POST", "/v1/reservations/R-none/confirm", "")
            .status,
        404
    );
    assert_eq!(server.call("GET", "/v1/availability", "").status, 400);
    assert_eq!(server.call("GET", "/v1/ledger?limit=0", "").status, 400);
    assert_eq!(server.call("GET", "/v1/ledger?after=x", "").status, 400);
    // Sequence numbers are signed 64-bit, as the document says.
    assert_eq!(
        server
            .call("GET", "/v1/ledger?after=9223372036854775808", "")
            .status,
        400
    );
    assert_eq!(
        server
            .call("GET", "/v1/ledger?after=9223372036854775807", "")
            .status,
        200
    );
    assert_eq!(
        server
            .call(
                "POST",
                "/v1/quote?explain=maybe",
                &order("E", "TSHIRT-M", 1)
            )
            .status,
        400
    );
}

#[test]
fn reservations_hold_confirm_release_and_refuse_what_is_settled() {
    let server = Server::start();
    let before = atp(&server, "DC-KASSEL", "TSHIRT-M");
    let body = format!("{{\"order\": {}}}", order("R-1", "TSHIRT-M", 4));
    let made = server.call("POST", "/v1/reservations", &body);
    assert_eq!(made.status, 201, "{}", made.body);
    let made = made.json();
    let id = made["id"].as_str().unwrap().to_string();
    assert_eq!(made["state"], "held");
    let ttl = made["expires_at"].as_i64().unwrap() - sourcing_serve::ledger::now_unix();
    assert!((895..=900).contains(&ttl), "default ttl 900 s, got {ttl}");
    assert_eq!(made["decision"]["order"], "R-1");
    assert!(made["decision"]["ruleset"].is_string());
    assert_eq!(atp(&server, "DC-KASSEL", "TSHIRT-M"), before - 4);

    let got = server.call("GET", &format!("/v1/reservations/{id}"), "");
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), made);

    let confirmed = server.call("POST", &format!("/v1/reservations/{id}/confirm"), "");
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(confirmed.json()["state"], "confirmed");
    let again = server.call("POST", &format!("/v1/reservations/{id}/confirm"), "");
    assert_eq!((again.status, again.json()), (200, confirmed.json()));
    assert_eq!(atp(&server, "DC-KASSEL", "TSHIRT-M"), before - 4);
    let r = server.call("POST", &format!("/v1/reservations/{id}/release"), "");
    assert_eq!(r.status, 409, "{}", r.body);

    let body = format!(
        "{{\"order\": {}, \"ttl_s\": 60}}",
        order("R-2", "TSHIRT-M", 2)
    );
    let second = server.call("POST", "/v1/reservations", &body).json();
    let id2 = second["id"].as_str().unwrap().to_string();
    assert_ne!(id, id2);
    assert_eq!(atp(&server, "DC-KASSEL", "TSHIRT-M"), before - 6);
    let released = server.call("POST", &format!("/v1/reservations/{id2}/release"), "");
    assert_eq!(released.status, 200);
    assert_eq!(released.json()["state"], "released");
    let again = server.call("POST", &format!("/v1/reservations/{id2}/release"), "");
    assert_eq!((again.status, again.json()), (200, released.json()));
    assert_eq!(atp(&server, "DC-KASSEL", "TSHIRT-M"), before - 4);
    let r = server.call("POST", &format!("/v1/reservations/{id2}/confirm"), "");
    assert_eq!(r.status, 409, "{}", r.body);

    let kinds: Vec<String> = server.call("GET", "/v1/ledger", "").json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["reserve", "confirm", "reserve", "release"]);
}

#[test]
fn a_held_reservation_expires_and_its_units_come_back() {
    let server = Server::start_with(
        Options {
            expiry_every: Duration::from_millis(100),
            ..Options::default()
        },
        None,
    );
    let before = atp(&server, "DC-LEIPZIG", "TSHIRT-M");
    // Leipzig is nearest to Berlin for T-shirts.
    let body = r#"{"order": {"id":"X-1","ship_to":{"lat":52.52,"lon":13.40},"fulfillment":"ship","lines":[{"sku":"TSHIRT-M","qty":2,"unit_weight_kg":0.25}]}, "ttl_s": 1}"#;
    let made = server.call("POST", "/v1/reservations", body);
    assert_eq!(made.status, 201, "{}", made.body);
    let made = made.json();
    let id = made["id"].as_str().unwrap();
    let taken = units_shipped(&made["decision"], "DC-LEIPZIG", "TSHIRT-M");
    assert!(taken > 0, "{made}");
    assert_eq!(atp(&server, "DC-LEIPZIG", "TSHIRT-M"), before - taken);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let state = server
            .call("GET", &format!("/v1/reservations/{id}"), "")
            .json()["state"]
            .clone();
        if state == "expired" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {state}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(atp(&server, "DC-LEIPZIG", "TSHIRT-M"), before);
    let r = server.call("POST", &format!("/v1/reservations/{id}/confirm"), "");
    assert_eq!(r.status, 409);
    let entries = server.call("GET", "/v1/ledger", "").json()["entries"].clone();
    assert!(
        entries
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "expiry" && e["reservation"] == id),
        "{entries}"
    );
}

#[test]
fn movements_change_on_hand_and_a_count_compares_and_sets() {
    let server = Server::start();
    let move_ = |body: Value| server.call("POST", "/v1/stock/movements", &body.to_string());
    let r = move_(
        json!({"location": "ST-HAMBURG", "sku": "TSHIRT-M", "kind": "receipt", "delta": 10, "reference": "DN-7"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let first = r.json();
    // Hamburg: on hand 5, safety 2.
    assert_eq!(
        (first["on_hand"].as_u64(), first["atp"].as_u64()),
        (Some(15), Some(13))
    );
    let r = move_(
        json!({"location": "ST-HAMBURG", "sku": "TSHIRT-M", "kind": "count", "set": 7, "expected": 14}),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["current"], 15);
    let r = move_(
        json!({"location": "ST-HAMBURG", "sku": "TSHIRT-M", "kind": "count", "set": 7, "expected": 15}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["seq"].as_u64(),
        first["seq"].as_u64().map(|s| s + 1)
    );
    assert_eq!(atp(&server, "ST-HAMBURG", "TSHIRT-M"), 5);
    let r = move_(
        json!({"location": "ST-HAMBURG", "sku": "TSHIRT-M", "kind": "adjustment", "delta": -8}),
    );
    assert_eq!(r.status, 422, "on hand cannot go below 0: {}", r.body);
    let r =
        move_(json!({"location": "DC-NOWHERE", "sku": "TSHIRT-M", "kind": "receipt", "delta": 1}));
    assert_eq!(r.status, 422, "{}", r.body);
    // A receipt of a SKU the location never listed adds the pair.
    let r =
        move_(json!({"location": "ST-HAMBURG", "sku": "CAP-RED", "kind": "receipt", "delta": 4}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(atp(&server, "ST-HAMBURG", "CAP-RED"), 4);
    for bad in [
        json!({"location": "ST-HAMBURG", "sku": "TSHIRT-M", "kind": "gift", "delta": 1}),
        json!({"location": "ST-HAMBURG", "sku": "TSHIRT-M", "kind": "count", "delta": 1, "set": 2}),
        json!({"location": "ST-HAMBURG", "sku": "TSHIRT-M", "kind": "count"}),
        json!({"location": "ST-HAMBURG", "sku": "TSHIRT-M", "kind": "receipt", "delta": "5"}),
    ] {
        assert_eq!(move_(bad).status, 400);
    }
    let entries = server.call("GET", "/v1/ledger?after=0&limit=1", "").json();
    assert_eq!(entries["entries"].as_array().unwrap().len(), 1);
    assert_eq!(entries["entries"][0]["reference"], "DN-7");
    let next = server
        .call("GET", &format!("/v1/ledger?after={}", entries["next"]), "")
        .json();
    assert_eq!(next["entries"][0]["kind"], "count");
    assert_eq!(next["entries"][0]["on_hand_delta"], -8);
}

#[test]
fn the_same_key_answers_the_first_answer_and_a_different_body_is_409() {
    let server = Server::start();
    let before = atp(&server, "DC-KASSEL", "TSHIRT-M");
    let body = order("I-1", "TSHIRT-M", 2);
    let first = server.call("POST", "/v1/route", &body);
    // The same order again, spaced differently: the same request.
    let spaced = serde_json::to_string_pretty(&first_order(&body)).unwrap();
    let second = server.call("POST", "/v1/route", &spaced);
    assert_eq!(
        (first.status, first.body.clone()),
        (second.status, second.body)
    );
    assert_eq!(atp(&server, "DC-KASSEL", "TSHIRT-M"), before - 2);
    let changed = server.call("POST", "/v1/route", &order("I-1", "TSHIRT-M", 3));
    assert_eq!(changed.status, 409, "{}", changed.body);
    // An explicit key is its own.
    let mut c = server.client();
    let a = c
        .send(
            "POST",
            "/v1/route",
            &[("Idempotency-Key", "k-77")],
            &order("I-1", "TSHIRT-M", 3),
        )
        .unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(atp(&server, "DC-KASSEL", "TSHIRT-M"), before - 5);
    let m = json!({"location": "DC-KASSEL", "sku": "TSHIRT-M", "kind": "receipt", "delta": 4})
        .to_string();
    let m1 = c
        .send(
            "POST",
            "/v1/stock/movements",
            &[("Idempotency-Key", "m-1")],
            &m,
        )
        .unwrap();
    let m2 = c
        .send(
            "POST",
            "/v1/stock/movements",
            &[("Idempotency-Key", "m-1")],
            &m,
        )
        .unwrap();
    assert_eq!((m1.status, &m1.body), (m2.status, &m2.body));
    assert_eq!(atp(&server, "DC-KASSEL", "TSHIRT-M"), before - 1);
}

fn first_order(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn rules_are_checked_before_the_swap_and_decisions_name_them() {
    let server = Server::start();
    let old = server.call("GET", "/v1/rules", "").json();
    let r = server.call(
        "PUT",
        "/v1/rules?name=broken.rules",
        "strategy \"x\" {\n  score nonsense\n}\n",
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let diags = r.json()["diagnostics"].clone();
    assert!(diags.as_array().is_some_and(|d| !d.is_empty()), "{diags}");
    assert_eq!(diags[0]["file"], "broken.rules");
    assert!(
        diags[0]["line"].is_number() || diags[0]["span"]["line"].is_number(),
        "{diags}"
    );
    assert_eq!(server.call("GET", "/v1/rules", "").json(), old);

    let text = std::fs::read_to_string(support::rules_file("ship-from-store-first.rules")).unwrap();
    let r = server.call("PUT", "/v1/rules", &text);
    assert_eq!(r.status, 200, "{}", r.body);
    let hash = sourcing_serve::engine_port::content_hash(text.as_bytes());
    assert_eq!(r.json()["ruleset"], hash);
    let now = server.call("GET", "/v1/rules", "").json();
    assert_eq!(
        (now["ruleset"].as_str(), now["source"].as_str()),
        (Some(hash.as_str()), Some(text.as_str()))
    );
    let d = server
        .call("POST", "/v1/quote", &order("N-1", "TSHIRT-M", 1))
        .json();
    assert_eq!(d["ruleset"], hash);
    assert_ne!(d["ruleset"], old["ruleset"]);
}

#[test]
fn tokens_gate_every_endpoint_by_role() {
    let (reader, read_line) = new_token(Role::Read);
    let (writer, write_line) = new_token(Role::Write);
    let (admin, admin_line) = new_token(Role::Admin);
    let server = Server::start_with(
        Options {
            tokens: Some(support::tokens(&[read_line, write_line, admin_line])),
            ..Options::default()
        },
        None,
    );
    let body = order("A-1", "TSHIRT-M", 1);
    assert_eq!(server.call("GET", "/healthz", "").status, 200);
    assert_eq!(server.call("GET", "/readyz", "").status, 200);
    assert_eq!(server.call("POST", "/v1/quote", &body).status, 401);
    assert_eq!(
        server
            .client_with("wrong")
            .send("GET", "/v1/rules", &[], "")
            .unwrap()
            .status,
        401
    );
    let mut r = server.client_with(&reader);
    assert_eq!(r.send("POST", "/v1/quote", &[], &body).unwrap().status, 200);
    assert_eq!(r.send("GET", "/metrics", &[], "").unwrap().status, 200);
    assert_eq!(r.send("GET", "/v1/ledger", &[], "").unwrap().status, 200);
    assert_eq!(r.send("POST", "/v1/route", &[], &body).unwrap().status, 403);
    let mut w = server.client_with(&writer);
    assert_eq!(w.send("POST", "/v1/route", &[], &body).unwrap().status, 200);
    assert_eq!(w.send("PUT", "/v1/rules", &[], "").unwrap().status, 403);
    let mut a = server.client_with(&admin);
    let text = std::fs::read_to_string(support::rules_file("min-cost.rules")).unwrap();
    assert_eq!(a.send("PUT", "/v1/rules", &[], &text).unwrap().status, 200);
}

#[test]
fn metrics_and_the_openapi_document_cover_the_endpoints() {
    let server = Server::start();
    server.call("POST", "/v1/quote", &order("M-1", "TSHIRT-M", 1));
    server.call("POST", "/v1/route", &order("M-2", "TSHIRT-M", 1));
    server.call(
        "POST",
        "/v1/reservations",
        &format!("{{\"order\": {}}}", order("M-3", "TSHIRT-M", 1)),
    );
    let text = server.call("GET", "/metrics", "").body;
    for needle in [
        "sourcing_requests_total{endpoint=\"/v1/quote\",method=\"POST\",status=\"200\"} 1",
        "sourcing_decisions_total{endpoint=\"route\",rule=\"min-cost\",status=\"sourced\"} 1",
        "sourcing_request_seconds_bucket{endpoint=\"/v1/route\"",
        "sourcing_ledger_commit_seconds_count",
        "sourcing_ledger_batch_size_count",
        "sourcing_reservations_held 1",
    ] {
        assert!(text.contains(needle), "{needle} missing in\n{text}");
    }
    let doc = server.call("GET", "/openapi.json", "").json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{doc}"
    );
    for path in [
        "/v1/quote",
        "/v1/route",
        "/v1/reservations",
        "/v1/reservations/{id}",
        "/v1/reservations/{id}/confirm",
        "/v1/reservations/{id}/release",
        "/v1/stock/movements",
        "/v1/availability",
        "/v1/ledger",
        "/v1/rules",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["paths"]["/v1/rules"]["put"].is_object());
    assert!(doc["components"]["schemas"]["MovementRequest"].is_object());
}

#[test]
fn availability_lists_locations_in_network_order_and_filters() {
    let server = Server::start();
    let all = server
        .call("GET", "/v1/availability?sku=SNEAKER-42&sku=NOPE", "")
        .json();
    let sneaker = &all["skus"][0];
    let locations: Vec<&str> = sneaker["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["location"].as_str().unwrap())
        .collect();
    assert_eq!(
        locations,
        [
            "DC-LEIPZIG",
            "ST-HAMBURG",
            "ST-MUNICH",
            "ST-COLOGNE",
            "VD-STUTTGART"
        ]
    );
    // atp = on_hand - reserved - safety: 1 + 3 + 1 + 4 + 100.
    assert_eq!(sneaker["atp"], 109);
    assert_eq!(all["skus"][1]["sku"], "NOPE");
    assert_eq!(all["skus"][1]["atp"], 0);
    let some = server
        .call(
            "GET",
            "/v1/availability?sku=SNEAKER-42&location=ST-MUNICH&location=VD-STUTTGART",
            "",
        )
        .json();
    assert_eq!(some["skus"][0]["atp"], 101);
}
