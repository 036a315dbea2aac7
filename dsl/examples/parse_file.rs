//! Checks rule files and prints the diagnostics and the formatted text (a development aid).

fn main() {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).unwrap_or_default();
        let (rules, diags) = sourcing_dsl::compile_bytes(&path, &bytes);
        print!("{}", diags.render());
        if let Some(r) = rules {
            println!("ok: {} strategies", r.strategies.len());
            if std::env::var("SHOW_IR").is_ok() {
                println!("{r:#?}");
            }
        }
        if let Ok(text) = std::str::from_utf8(&bytes) {
            if let Ok(f) = sourcing_dsl::format(&path, text) {
                println!("--- formatted ---\n{f}");
            }
        }
    }
}
