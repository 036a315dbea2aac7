//! Writing to standard output and standard error without panicking (`print!` and
//! `eprint!` panic when a write fails).
//!
//! A closed pipe (`| head`) is the reader saying it has seen enough: the text is dropped
//! and the command ends normally. Any other failure (a full disk, `> /dev/full`) fails the
//! command with exit 1; its message then goes to stderr if stderr can still take it.

use crate::Failure;
use std::io::{self, Write};

/// Writes `text` to standard output, as `print!` would.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    written(
        out.write_all(text.as_bytes()).and_then(|()| out.flush()),
        "standard output",
    )
}

/// Writes `text` and a line end to standard error, as `eprintln!` would.
pub fn eprintln(text: &str) -> Result<(), Failure> {
    let mut err = io::stderr().lock();
    written(
        err.write_all(text.as_bytes())
            .and_then(|()| err.write_all(b"\n"))
            .and_then(|()| err.flush()),
        "standard error",
    )
}

/// What a write's result means for the command.
pub fn written(result: io::Result<()>, stream: &str) -> Result<(), Failure> {
    match result {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(Failure::Input(format!("cannot write to {stream}: {e}")))
        }
        _ => Ok(()),
    }
}
