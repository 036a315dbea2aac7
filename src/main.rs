//! The `sourcing` command line: a thin shell over the `sourcing` library.

use std::process::ExitCode;

fn main() -> ExitCode {
    sourcing::run(std::env::args_os())
}
