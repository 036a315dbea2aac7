//! Writing to standard output and standard error without panicking (`print!` and
//! `eprint!` panic when a write fails).
//!
//! A closed pipe (`| head`) is the reader saying it has seen enough: the text is dropped
//! and the command ends normally. Any other failure (a full disk, `> /dev/full`) fails the
//! command with exit 1; its message then goes to stderr if stderr can still take it.
//!
//! Text for a person passes through [`printable`]: values read from input files or
//! arguments may hold control characters (an escape sequence in an order id), and those
//! are shown escaped rather than sent to the terminal.

use crate::Failure;
use std::borrow::Cow;
use std::io::{self, Write};

/// `text` with every control character except line ends and tabs written as Rust escapes
/// it (`\u{1b}`), so no input can drive the terminal.
pub fn printable(text: &str) -> Cow<'_, str> {
    escaped(text, |c| c.is_control() && c != '\n' && c != '\t')
}

/// A value the user supplied, for a message: every control character escaped, line ends
/// and tabs too, so the value stays on its line.
pub fn shown(value: &str) -> Cow<'_, str> {
    escaped(value, char::is_control)
}

fn escaped(text: &str, escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Writes `text` to standard output, as `print!` would.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    written(
        out.write_all(printable(text).as_bytes())
            .and_then(|()| out.flush()),
        "standard output",
    )
}

/// Writes `text` and a line end to standard error, as `eprintln!` would.
pub fn eprintln(text: &str) -> Result<(), Failure> {
    let mut err = io::stderr().lock();
    written(
        err.write_all(printable(text).as_bytes())
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
