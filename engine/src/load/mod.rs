//! Loaders: read the contract's input files into the model, reporting every problem.
//!
//! In: `network.json`, `inventory.csv` / `inventory.json` and `orders.jsonl` (contract sections
//! 1-3), as paths, text or readers. Out: a [`Network`](crate::model::network::Network),
//! [`InventoryRecord`]s and [`Order`](crate::model::order::Order)s, or [`LoadErrors`] listing
//! every problem found, each with file, line, column, field and what was expected.
//! Nothing here panics on any input.

pub mod error;
pub mod events;
pub mod inventory;
mod json;
pub mod network;
pub mod orders;
mod quick;

pub use error::{LoadError, LoadErrorKind, LoadErrors};
pub use events::{events_from_bytes, load_events, parse_events, StockEvent};
pub use inventory::{
    inventory_from_bytes, load_inventory, parse_inventory_csv, parse_inventory_json,
    InventoryRecord,
};
pub use network::{load_network, network_from_bytes, parse_network};
pub use orders::{check_orders, load_orders, parse_order, read_orders, OrderReader};

use std::path::Path;

/// Reads a whole file; a missing or unreadable file is one problem located at 1:1.
fn read_file(path: &Path) -> Result<Vec<u8>, LoadErrors> {
    std::fs::read(path).map_err(|err| LoadError::io(&path.display().to_string(), &err).into())
}

/// Drops a UTF-8 byte order mark, which spreadsheet tools like to write.
fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Decodes UTF-8 text; the first invalid byte is a problem located at its line and column.
/// `first_line` is the file line of the text's first line.
fn decode<'b>(file: &str, bytes: &'b [u8], first_line: usize) -> Result<&'b str, LoadError> {
    std::str::from_utf8(bytes).map_err(|err| {
        let valid_up_to = err.valid_up_to();
        let valid = String::from_utf8_lossy(bytes.get(..valid_up_to).unwrap_or_default());
        let line = first_line + valid.matches('\n').count();
        let column = valid.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
        let byte = bytes.get(valid_up_to).copied().unwrap_or_default();
        LoadError::new(
            file,
            line,
            column,
            None,
            format!("the file is not valid UTF-8 text (byte `0x{byte:02X}`); save it as UTF-8"),
        )
        .of_kind(error::LoadErrorKind::Encoding)
    })
}

/// Edit distance (insertions, deletions, substitutions) between two strings, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The candidate the user most likely meant: equal ignoring case, or else the nearest within
/// edit distance 2 (the first one on a tie).
fn did_you_mean<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    const MAX_DISTANCE: usize = 2;
    let length = word.chars().count();
    let mut best: Option<(usize, &'c str)> = None;
    for candidate in candidates {
        if candidate.eq_ignore_ascii_case(word) {
            return Some(candidate);
        }
        // Cheap filter first: lengths further apart than the limit cannot be close.
        if candidate.chars().count().abs_diff(length) > MAX_DISTANCE {
            continue;
        }
        let distance = edit_distance(word, candidate);
        if distance <= MAX_DISTANCE && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// "; did you mean `X`?" when there is a likely candidate, else "".
fn suggestion<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> String {
    did_you_mean(word, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("DC-KASEL", "DC-KASSEL"), 1);
        assert_eq!(edit_distance("ST-MÜNICH", "ST-MUNICH"), 1);
    }

    #[test]
    fn did_you_mean_prefers_case_then_nearest() {
        let ids = ["DC-KASSEL", "DC-LEIPZIG", "ST-HAMBURG"];
        assert_eq!(
            did_you_mean("dc-leipzig", ids.into_iter()),
            Some("DC-LEIPZIG")
        );
        assert_eq!(did_you_mean("DC-KASEL", ids.into_iter()), Some("DC-KASSEL"));
        assert_eq!(did_you_mean("DC-BERLIN", ids.into_iter()), None);
        assert_eq!(
            suggestion("ST-HAMBURK", ids.into_iter()),
            "; did you mean `ST-HAMBURG`?"
        );
    }

    #[test]
    fn decode_locates_the_bad_byte() {
        let err = decode("f.csv", b"a,b\nxy\xFFz", 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.csv:2:3: the file is not valid UTF-8 text (byte `0xFF`); save it as UTF-8"
        );
        assert_eq!(strip_bom(b"\xEF\xBB\xBFab"), b"ab");
    }

    #[test]
    fn missing_file_is_one_problem() {
        let errors = read_file(Path::new("/nonexistent/network.json")).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors
            .to_string()
            .starts_with("/nonexistent/network.json:1:1: cannot read file: "));
    }
}
