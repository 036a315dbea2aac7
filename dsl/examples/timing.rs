//! Times parse + check + format of a generated rule file (a development aid).

use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(250);
    let mut src = String::from("const keep = 2\n");
    for i in 0..n {
        src.push_str(&format!(
            "strategy \"s{i}\" {{\n  when order.channel == \"c{i}\"\n  candidates dcs, stores\n  \
             exclude store when atp - line.qty < keep reason \"protect\"\n  score cost + 0.5 EUR * days\n  \
             split at most 2\n  otherwise backorder\n}}\n"
        ));
    }
    let lines = src.lines().count();
    let t = Instant::now();
    let ast = sourcing_dsl::parse("gen.rules", &src);
    let parsed = t.elapsed();
    if let Ok(ast) = ast {
        let (rules, _) = sourcing_dsl::check(&ast);
        let checked = t.elapsed();
        let _ = sourcing_dsl::format_ast(&ast);
        println!(
            "{lines} lines: parse {parsed:?}, +check {checked:?}, +format {:?}, ok={}",
            t.elapsed(),
            rules.is_some()
        );
    }
}
