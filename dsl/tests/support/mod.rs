//! Helpers shared by the corpus tests.
#![allow(dead_code, reason = "each test binary uses a part of the helpers")]

use std::path::Path;

/// The file's path relative to `tests/corpus/`, used as the file name in diagnostics so that
/// snapshots do not depend on where the repository lives.
pub fn corpus_name(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    match text.split_once("tests/corpus/") {
        Some((_, rest)) => rest.to_string(),
        None => text,
    }
}

/// Reads a corpus file as bytes.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Reads a corpus file as text.
pub fn read_text(path: &Path) -> String {
    String::from_utf8(read(path)).unwrap_or_else(|_| panic!("{} is not UTF-8", path.display()))
}
