//! Load errors: what went wrong in an input file, and exactly where.
//!
//! In: problems found by the loaders. Out: [`LoadError`] (one problem, with file, line, column
//! and field) and [`LoadErrors`] (every problem of a load, shown capped at
//! [`LoadErrors::MAX_SHOWN`] so a broken million-line file stays readable and memory stays
//! bounded).

use std::fmt;

/// One problem in an input file, located precisely.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadError {
    /// What kind of problem, to match on.
    pub kind: LoadErrorKind,
    /// The file as the user named it.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// Path of the field at fault, e.g. `locations[3].lat`, `on_hand`, `lines[0].qty`.
    pub field: Option<String>,
    /// What was expected and what was found; lowercase, user values in backticks.
    pub message: String,
}

/// What kind of problem a [`LoadError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The file could not be read at all.
    Io,
    /// The bytes are not UTF-8 text.
    Encoding,
    /// The text is not the format (JSON, CSV) or not the shape (an object, a header).
    Syntax,
    /// A field's value is wrong, missing, or names something that does not exist.
    Field,
}

impl LoadError {
    /// A problem at `line`:`column` of `file`, about `field` when given.
    pub fn new(
        file: &str,
        line: usize,
        column: usize,
        field: Option<String>,
        message: impl Into<String>,
    ) -> LoadError {
        LoadError {
            kind: if field.is_some() {
                LoadErrorKind::Field
            } else {
                LoadErrorKind::Syntax
            },
            file: file.to_string(),
            line,
            column,
            field,
            message: message.into(),
        }
    }

    /// A file that could not be read at all (missing, unreadable); located at 1:1.
    pub fn io(file: &str, err: &std::io::Error) -> LoadError {
        LoadError {
            kind: LoadErrorKind::Io,
            ..LoadError::new(file, 1, 1, None, format!("cannot read file: {err}"))
        }
    }

    /// The same problem, of another kind.
    pub(crate) fn of_kind(self, kind: LoadErrorKind) -> LoadError {
        LoadError { kind, ..self }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for LoadError {}

/// Every problem found in one or more files.
///
/// A loader returns it only when it holds at least one problem. It keeps the first
/// [`LoadErrors::MAX_SHOWN`] problems and counts the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadErrors {
    errors: Vec<LoadError>,
    total: usize,
}

impl LoadErrors {
    /// How many problems are kept and shown; later ones are only counted.
    pub const MAX_SHOWN: usize = 50;

    /// No problems yet; fill it with [`LoadErrors::push`].
    pub fn new() -> LoadErrors {
        LoadErrors::default()
    }

    /// The kept problems (at most [`LoadErrors::MAX_SHOWN`]), in the order found.
    pub fn errors(&self) -> &[LoadError] {
        &self.errors
    }

    /// How many problems were found, including those not kept.
    pub fn len(&self) -> usize {
        self.total
    }

    /// Whether no problem was found.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Records one more problem (kept while fewer than [`LoadErrors::MAX_SHOWN`] are).
    pub fn push(&mut self, error: LoadError) {
        self.total += 1;
        if self.errors.len() < Self::MAX_SHOWN {
            self.errors.push(error);
        }
    }

    /// Adds every problem of `other`, keeping its uncounted ones counted.
    pub fn extend(&mut self, other: LoadErrors) {
        let hidden = other.total - other.errors.len();
        for error in other.errors {
            self.push(error);
        }
        self.total += hidden;
    }

    /// `Ok(value)` when no problem was found, else these problems.
    pub fn into_result<T>(self, value: T) -> Result<T, LoadErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<LoadError> for LoadErrors {
    fn from(error: LoadError) -> LoadErrors {
        let mut errors = LoadErrors::new();
        errors.push(error);
        errors
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        let hidden = self.total - self.errors.len();
        if hidden > 0 {
            let noun = if hidden == 1 { "problem" } else { "problems" };
            write!(f, "\n… and {hidden} more {noun}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn err(line: usize) -> LoadError {
        LoadError::new("f.csv", line, 1, Some("sku".into()), "is empty")
    }

    #[test]
    fn display_with_and_without_field() {
        assert_eq!(err(3).to_string(), "f.csv:3:1: sku: is empty");
        let e = LoadError::new("n.json", 1, 2, None, "invalid JSON");
        assert_eq!(e.to_string(), "n.json:1:2: invalid JSON");
    }

    #[test]
    fn io_error_is_located_at_the_start() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        assert_eq!(
            LoadError::io("x.json", &io).to_string(),
            "x.json:1:1: cannot read file: no such file"
        );
    }

    #[test]
    fn cap_keeps_fifty_and_counts_the_rest() {
        let mut errors = LoadErrors::new();
        assert!(errors.is_empty());
        for line in 1..=53 {
            errors.push(err(line));
        }
        assert_eq!(errors.len(), 53);
        assert_eq!(errors.errors().len(), LoadErrors::MAX_SHOWN);
        let text = errors.to_string();
        assert_eq!(text.lines().count(), 51);
        assert!(text.ends_with("f.csv:50:1: sku: is empty\n… and 3 more problems"));

        let mut merged = LoadErrors::from(err(0));
        merged.extend(errors);
        assert_eq!(merged.len(), 54);
        assert!(merged.to_string().ends_with("… and 4 more problems"));
    }
}
