//! Rule files that are large or odd in shape: long fallback chains, scripts the engine's
//! sandbox refuses. `check` and `route --rules` agree on each of them, and nothing crashes.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test that cannot run is a failed test"
)]

mod support;
use support::{example_copy, explain_with, route, sourcing, stderr};

/// The value of `"key":"…"` in each JSON line of `out`.
fn field<'a>(out: &'a str, key: &str) -> Vec<&'a str> {
    let pat = format!("\"{key}\":\"");
    out.lines()
        .filter_map(|l| {
            let at = l.find(&pat)? + pat.len();
            l[at..].split('"').next()
        })
        .collect()
}

/// 25,000 strategies, each falling back to the next. Before the fix, the cycle check of the
/// decision graph recursed once per node and `route` aborted with a stack overflow (from
/// about 20,000 strategies in a debug build, 60,000 in a release build); `explain` looked
/// up every strategy of the chain by a scan of all of them.
#[test]
fn a_fallback_chain_of_twenty_five_thousand_strategies_checks_and_routes() {
    const N: usize = 25_000;
    let dir = example_copy();
    let mut text = String::new();
    for i in 0..N - 1 {
        text.push_str(&format!(
            "strategy \"s{i}\" {{ candidates all  fallback \"s{}\" }}\n",
            i + 1
        ));
    }
    text.push_str(&format!("strategy \"s{}\" {{ candidates all }}\n", N - 1));
    std::fs::write(dir.path().join("chain.rules"), text).expect("write");

    let out = sourcing(dir.path(), &["check", "--deny-warnings", "chain.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = route(dir.path(), &["--rules", "chain.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let chained = String::from_utf8_lossy(&out.stdout).into_owned();
    let builtin = route(dir.path(), &[]);
    let builtin = String::from_utf8_lossy(&builtin.stdout).into_owned();
    // The first strategy is plain least cost: the built-in decisions, named after it; what
    // it cannot place goes down the whole chain and stays unsourced.
    assert_eq!(field(&chained, "status"), field(&builtin, "status"));
    assert_eq!(field(&chained, "order").len(), 10);
    assert!(
        field(&chained, "rule").iter().all(|r| *r == "s0"),
        "{chained}"
    );
    assert!(field(&chained, "status").contains(&"partial"));

    // The order with an unknown SKU ran every strategy of the chain, in order.
    let out = explain_with(dir.path(), "EX-8", &["--rules", "chain.rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("s{}", N - 1)),
        "the last strategy ran"
    );
}
