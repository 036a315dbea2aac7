//! `sourcing fmt [--check] RULES...`: print rule files in canonical form, keeping comments.

use crate::cmd::check::{read_rules, render, ErrorFormat};
use crate::Failure;
use clap::Args;
use std::io::Write;
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

/// Replaces a file's text the way an editor saves it: through a symbolic link to the file
/// it names, keeping its permissions, never half-written (a temporary file beside the
/// target, then a rename). A file marked read-only, or one this user may not write, is
/// refused rather than replaced.
fn write_in_place(path: &Path, text: &str) -> Result<(), String> {
    let target = std::fs::canonicalize(path).map_err(|e| format!("cannot find the file: {e}"))?;
    let permissions = std::fs::metadata(&target)
        .map_err(|e| format!("cannot read the file's permissions: {e}"))?
        .permissions();
    if permissions.readonly() {
        return Err("the file is read-only; make it writable to format it".to_string());
    }
    // Opening for writing (without truncating) asks the system whether this user may.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&target)
        .map_err(|e| format!("cannot write the file: {e}"))?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let file_name = target.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{file_name}.{}.fmt-tmp", std::process::id()));
    crate::cmd::out_dir::remove_on_interrupt(&tmp);
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::set_permissions(&tmp, permissions.clone())?;
        std::fs::rename(&tmp, &target)
    };
    let written = write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write the formatted file: {e}")
    });
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
        let mut formatted = sourcing_dsl::format_ast(&ast);
        // The parser skips a byte-order mark; the file keeps it.
        if bytes.starts_with("\u{feff}".as_bytes()) {
            formatted.insert(0, '\u{feff}');
        }
        if formatted.as_bytes() == bytes.as_slice() {
            continue;
        }
        if args.check {
            problems.push(format!("{name}: not formatted; run `sourcing fmt {name}`"));
        } else if let Err(why) = write_in_place(path, &formatted) {
            problems.push(format!("{name}: not formatted: {why}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::Input(problems.join("\n")))
    }
}
