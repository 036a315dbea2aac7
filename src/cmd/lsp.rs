//! `sourcing lsp`: the language server for rule files, over standard input and output.

use crate::Failure;
use clap::Args;

/// Arguments of `sourcing lsp` (an editor starts it; it speaks LSP on stdin and stdout).
#[derive(Debug, Args)]
pub struct LspArgs {
    /// Accepted for editors that pass it; stdio is the only transport.
    #[arg(long, hide = true)]
    pub stdio: bool,
}

/// Runs the language server until the editor sends `exit` or closes its input.
pub fn run(_args: &LspArgs) -> Result<(), Failure> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    crate::lsp::serve(&mut stdin.lock(), &mut stdout.lock()).map_err(Failure::Input)
}
