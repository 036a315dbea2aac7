//! A forgiving tokenizer for editor queries: it never fails, so hovers, completions and
//! definitions work while a file is half typed and does not parse.

use crate::source::Span;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// Letters, digits and `_`.
    Word,
    /// A number (digits, `_`, one `.`).
    Number,
    /// A string, quotes included (maybe unclosed at the end of its line).
    Str,
    /// A `#` comment.
    Comment,
    /// The rhai code of a script, between its braces.
    Code,
    /// Any other character (`{`, `.`, `==` is two tokens).
    Punct,
}

/// A token and where it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub kind: Tok,
    pub span: Span,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The tokens of `src`, in order; every byte of it is in a token or in white space.
pub(crate) fn lex(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut depth = 0usize;
    // Between `script` at the top level and the `{` that opens its code.
    let mut script_header = false;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                Tok::Comment
            }
            b'"' | b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' && i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
                        2
                    } else {
                        1
                    };
                }
                if i < bytes.len() && bytes[i] == b {
                    i += 1;
                }
                Tok::Str
            }
            b'0'..=b'9' => {
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                    i += 1;
                }
                if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                Tok::Number
            }
            _ if is_word(b) => {
                while i < bytes.len() && is_word(bytes[i]) {
                    i += 1;
                }
                if depth == 0 && &src[start..i] == "script" {
                    script_header = true;
                }
                Tok::Word
            }
            b'{' if script_header => {
                script_header = false;
                out.push(Token {
                    kind: Tok::Punct,
                    span: Span::new(i, i + 1),
                });
                let code_start = i + 1;
                let code_end = script_end(bytes, code_start);
                out.push(Token {
                    kind: Tok::Code,
                    span: Span::new(code_start, code_end),
                });
                i = code_end;
                continue;
            }
            _ => {
                match b {
                    b'{' => depth += 1,
                    b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                // One character, however many bytes it takes.
                let len = src[i..].chars().next().map_or(1, char::len_utf8);
                i += len;
                Tok::Punct
            }
        };
        out.push(Token {
            kind,
            span: Span::new(start, i),
        });
    }
    out
}

/// Where a script's code ends: at its closing brace (not included), braces in rhai strings
/// and comments not counted; the end of the text if it is not closed.
fn script_end(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'{' => depth += 1,
            b'}' if depth == 0 => return i,
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Tok, &str)> {
        lex(src)
            .into_iter()
            .map(|t| (t.kind, &src[t.span.start..t.span.end]))
            .collect()
    }

    #[test]
    fn words_strings_comments_and_script_code() {
        let src = "script f(a: km) -> km { let s = \"}\"; a } # c\nconst k = 4.50 EUR";
        let toks = kinds(src);
        assert!(toks.contains(&(Tok::Code, " let s = \"}\"; a ")));
        assert!(toks.contains(&(Tok::Comment, "# c")));
        assert!(toks.contains(&(Tok::Number, "4.50")));
        assert!(toks.contains(&(Tok::Word, "EUR")));
        // Unclosed strings and odd characters end at the line or the text.
        let toks = kinds("fallback \"ab\nx é");
        assert_eq!(toks[1], (Tok::Str, "\"ab"));
        assert_eq!(toks[3], (Tok::Punct, "é"));
    }
}
