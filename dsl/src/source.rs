//! Source text and byte spans.
//!
//! In: the bytes of a rule file and its name. Out: a [`SourceFile`] that every later stage
//! points into with [`Span`]s (byte ranges), plus line/column lookup for rendering.

use std::sync::Arc;

use serde::Serialize;

/// A byte range `start..end` in one rule file.
///
/// Spans never take part in equality: two AST nodes that differ only in where they were
/// written compare equal, so `parse(format(x)) == parse(x)` holds.
#[derive(Clone, Copy, Default)]
pub struct Span {
    /// First byte of the range.
    pub start: usize,
    /// One past the last byte of the range.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (bytes).
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span that covers both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Whether `offset` lies inside the span.
    pub fn contains(self, offset: usize) -> bool {
        self.start <= offset && offset < self.end
    }
}

impl PartialEq for Span {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for Span {}

impl std::hash::Hash for Span {
    fn hash<H: std::hash::Hasher>(&self, _state: &mut H) {}
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{}..{}", self.start, self.end))
    }
}

impl std::fmt::Debug for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A rule file: its name (as given by the caller, usually a path) and its text.
#[derive(Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The name shown in diagnostics (`rules/min-cost.rules`).
    pub name: String,
    /// The text of the file.
    pub text: String,
    /// The byte offset where each line starts, so that a position is found by a binary
    /// search: a file with many diagnostics is not read again for each one.
    line_starts: Vec<usize>,
}

impl std::fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceFile")
            .field("name", &self.name)
            .field("text", &self.text)
            .finish()
    }
}

impl SourceFile {
    /// A shared source file.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<SourceFile> {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Arc::new(SourceFile {
            name: name.into(),
            text,
            line_starts,
        })
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = clamp_to_char_boundary(&self.text, offset);
        // The number of lines starting at or before `offset`; the first always does.
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .max(1);
        let line_start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let col = self
            .text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        (line, col)
    }

    /// The text a span covers (empty if the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        let start = clamp_to_char_boundary(&self.text, span.start);
        let end = clamp_to_char_boundary(&self.text, span.end.max(start));
        &self.text[start..end]
    }
}

/// The largest char boundary `<= offset` (and `<= text.len()`).
pub(crate) fn clamp_to_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_characters() {
        let file = SourceFile::new("a.rules", "ab\nçd\n\nx");
        let at = |o| file.line_col(o);
        assert_eq!(
            [at(0), at(1), at(2), at(3)],
            [(1, 1), (1, 2), (1, 3), (2, 1)]
        );
        // `ç` is two bytes, one column.
        assert_eq!(
            [at(5), at(6), at(7), at(8)],
            [(2, 2), (2, 3), (3, 1), (4, 1)]
        );
        // Inside a character: its start; past the end: the end.
        assert_eq!([at(4), at(99)], [(2, 1), (4, 2)]);
        assert_eq!(SourceFile::new("e", "").line_col(3), (1, 1));
    }
}
