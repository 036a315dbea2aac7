//! Byte offsets of a text to and from LSP positions (line, UTF-16 code unit in the line).

use lsp_types::{Position, Range};

/// The position of byte `offset` in `text` (clamped into the text, back to a character's
/// start).
pub fn position(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count();
    let character: usize = before
        .get(line_start..)
        .unwrap_or_default()
        .chars()
        .map(char::len_utf16)
        .sum();
    Position::new(saturate(line), saturate(character))
}

/// The byte offset of `pos` in `text`: a line past the end is the end, a character past the
/// line's end is the line's end, one inside a surrogate pair is the character's start.
pub fn offset(text: &str, pos: Position) -> usize {
    let mut start = 0;
    for _ in 0..pos.line {
        match text.get(start..).and_then(|rest| rest.find('\n')) {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line = text.get(start..).unwrap_or_default();
    let line = line.split('\n').next().unwrap_or_default();
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut units = 0usize;
    for (i, c) in line.char_indices() {
        let next = units + c.len_utf16();
        if next > pos.character as usize {
            return start + i;
        }
        units = next;
    }
    start + line.len()
}

/// The range of bytes `start..end`.
pub fn range(text: &str, start: usize, end: usize) -> Range {
    Range::new(position(text, start), position(text, end.max(start)))
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_both_ways() {
        // `é` is 2 bytes and 1 unit; `𝄞` is 4 bytes and 2 units.
        let text = "ab\r\né𝄞x\n";
        let at = |o| {
            let p = position(text, o);
            (p.line, p.character)
        };
        assert_eq!(
            [at(0), at(2), at(4), at(6), at(10)],
            [(0, 0), (0, 2), (1, 0), (1, 1), (1, 3)]
        );
        // Inside a character: its start; past the end: the end.
        assert_eq!([at(7), at(99)], [(1, 1), (2, 0)]);
        let off = |l, c| offset(text, Position::new(l, c));
        assert_eq!([off(1, 0), off(1, 1), off(1, 3), off(1, 4)], [4, 6, 10, 11]);
        // Inside the surrogate pair, past the line (before its `\r`), past the text.
        assert_eq!([off(1, 2), off(0, 9), off(9, 0)], [6, 2, text.len()]);
    }
}
