//! `sourcing token --role ROLE`: a new random token and its line for the tokens file.

use crate::Failure;
use clap::{Args, ValueEnum};
use sourcing_serve::auth::{new_token, Role};

/// A role a token may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Quote and read.
    Read,
    /// Also route, reserve, confirm, release and move stock.
    Write,
    /// Also replace the rules.
    Admin,
}

/// Arguments of `sourcing token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// What the token may do.
    #[arg(long, value_enum)]
    pub role: RoleArg,
}

/// Runs `sourcing token`: the token on the first line (give it to the client), the line for
/// `--tokens FILE` on the second (it holds only the token's SHA-256).
pub fn run(args: &TokenArgs) -> Result<(), Failure> {
    let role = match args.role {
        RoleArg::Read => Role::Read,
        RoleArg::Write => Role::Write,
        RoleArg::Admin => Role::Admin,
    };
    let (token, line) = new_token(role);
    crate::cmd::output::print(&format!("{token}\n{line}\n"))
}
