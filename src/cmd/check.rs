//! `sourcing check RULES...`: parse and validate rule files, print every diagnostic.

use crate::Failure;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ErrorFormat {
    /// rustc-style: file:line:col, the source line, a caret, a help line.
    #[default]
    Human,
    /// One line per diagnostic: `file:line:col: error[C001]: message`.
    Short,
    /// A JSON array per file, for editors and CI tools.
    Json,
}

/// Arguments of `sourcing check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Rule files to check.
    #[arg(required = true, value_name = "RULES")]
    pub files: Vec<PathBuf>,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub error_format: ErrorFormat,
}

/// Reads a rule file (`-`: standard input) as bytes, with the name its diagnostics show
/// (the parser reports text that is not UTF-8).
pub(crate) fn read_rules(path: &std::path::Path) -> Result<(String, Vec<u8>), Failure> {
    if path.is_dir() {
        return Err(Failure::Input(format!(
            "{}: is a folder, not a rule file; name the `.rules` files in it",
            crate::cmd::input::name(path)
        )));
    }
    crate::cmd::input::read(path)
}

/// Parses and checks a rule file, then compiles its scripts with the engine's sandbox, so
/// that a script `route` would refuse is an error here too (`C022`).
pub(crate) fn check_bytes(
    name: &str,
    bytes: &[u8],
) -> (Option<sourcing_dsl::RuleSet>, sourcing_dsl::Diagnostics) {
    let (set, mut diags) = sourcing_dsl::compile_bytes(name, bytes);
    if let Some(set) = &set {
        diags.add(sourcing_engine::rules::check_scripts(set));
    }
    (set, diags)
}

/// Renders diagnostics in the chosen format.
pub(crate) fn render(diags: &sourcing_dsl::Diagnostics, format: ErrorFormat) -> String {
    match format {
        ErrorFormat::Human => diags.render(),
        ErrorFormat::Short => diags.render_short_all(),
        ErrorFormat::Json => format!("{}\n", diags.to_json()),
    }
}

/// Runs `sourcing check`.
pub fn run(args: &CheckArgs) -> Result<(), Failure> {
    crate::cmd::input::at_most_one_stdin(args.files.iter().map(PathBuf::as_path))?;
    let mut failed = false;
    let mut report = String::new();
    for path in &args.files {
        let (name, bytes) = match read_rules(path) {
            Ok(b) => b,
            Err(Failure::Input(text)) | Err(Failure::Usage(text)) => {
                report.push_str(&text);
                report.push('\n');
                failed = true;
                continue;
            }
        };
        let (set, diags) = check_bytes(&name, &bytes);
        if !diags.is_empty() {
            report.push_str(&render(&diags, args.error_format));
        }
        // What costs the search its speed: said, never failed on.
        let noted = !diags.has_errors() && !matches!(args.error_format, ErrorFormat::Json);
        if let (Some(set), true) = (&set, noted) {
            for n in sourcing_engine::rules::search_notes(set) {
                report.push_str(&format!(
                    "note: {}: strategy \"{}\" looks at every holder of an order's SKUs: {}\n",
                    n.at, n.strategy, n.why
                ));
            }
        }
        failed |= diags.has_errors() || (args.deny_warnings && diags.has_warnings());
    }
    if failed {
        Err(Failure::Input(report.trim_end().to_string()))
    } else {
        // Warnings alone do not fail the check, but they are still shown.
        if report.is_empty() {
            Ok(())
        } else {
            crate::cmd::output::eprintln(report.trim_end())
        }
    }
}
