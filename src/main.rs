//! The `sourcing` command line: a thin shell over the `sourcing` library.

use std::process::ExitCode;

// Orders planned on one thread are committed on another; with the system allocator the
// threads slowed each other down enough to cancel the second core (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    sourcing::run(std::env::args_os())
}
