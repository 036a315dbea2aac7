//! `sourcing fmt [--check] RULES...`: print rule files in canonical form, keeping comments.

use crate::cmd::check::{read_rules, render, ErrorFormat};
use crate::Failure;
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `sourcing fmt`.
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Rule files to format in place.
    #[arg(required = true, value_name = "RULES")]
    pub files: Vec<PathBuf>,
    /// Change nothing; fail (exit 1) when a file is not formatted, naming it.
    #[arg(long)]
    pub check: bool,
}

/// Replaces a file's text: write a sibling, then rename, so a file is never half-written.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".fmt-tmp");
    let tmp = PathBuf::from(tmp);
    crate::cmd::out_dir::remove_on_interrupt(&tmp);
    let written = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    crate::cmd::out_dir::keep_on_interrupt(&tmp);
    written
}

/// Runs `sourcing fmt`.
pub fn run(args: &FmtArgs) -> Result<(), Failure> {
    if args
        .files
        .iter()
        .any(|p| p.as_os_str() == crate::cmd::input::STDIN)
    {
        return Err(Failure::Usage(
            "fmt rewrites files in place: `-` is not a file (use `sourcing check -` to check standard input)".into(),
        ));
    }
    let mut problems = Vec::new();
    for path in &args.files {
        let (name, bytes) = match read_rules(path) {
            Ok(b) => b,
            Err(Failure::Input(t)) | Err(Failure::Usage(t)) => {
                problems.push(t);
                continue;
            }
        };
        let ast = match sourcing_dsl::parse_bytes(&name, &bytes) {
            Ok(ast) => ast,
            Err(diags) => {
                problems.push(render(&diags, ErrorFormat::Human).trim_end().to_string());
                continue;
            }
        };
        let formatted = sourcing_dsl::format_ast(&ast);
        if formatted.as_bytes() == bytes.as_slice() {
            continue;
        }
        if args.check {
            problems.push(format!("{name}: not formatted; run `sourcing fmt {name}`"));
        } else if let Err(e) = write_atomically(path, &formatted) {
            problems.push(format!("{name}: cannot write the formatted file: {e}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::Input(problems.join("\n")))
    }
}
