//! JSON reading with exact positions, shared by the network, inventory and order loaders.
//!
//! In: one JSON text (a whole file, or one line of a JSONL file) that borrows from the input.
//! Out: typed field values, plus [`LoadError`]s located at the exact line and column of the
//! value at fault. Objects are parsed into field name -> borrowed [`RawValue`]; the offset of a
//! raw value is its pointer minus the text's pointer, turned into line/column by a table of
//! line starts. Problems go into the [`Doc`]'s sink so a loader can report every one of them.

use super::error::LoadError;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

/// Largest integer an `f64` holds exactly; whole numbers written as `2.0` must stay below it.
const MAX_EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// The allowed interval of a decimal number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Range {
    min: f64,
    max: f64,
    /// Whether `min` itself is excluded (`> 0` rather than `≥ 0`).
    min_open: bool,
    /// Whether `max` is only a sanity limit (a problem of its own, not part of what is
    /// described as expected).
    max_is_limit: bool,
}

/// The largest amount of money or money rate accepted: large enough for any real price,
/// small enough that a shipment's cost (`handling + base + per_km·d + per_kg·w`) and an
/// order's total always stay finite.
pub(crate) const MAX_MONEY: f64 = 1e9;

/// The largest unit weight accepted, in kg (see [`MAX_MONEY`]).
pub(crate) const MAX_UNIT_WEIGHT_KG: f64 = 1e6;

impl Range {
    /// A number ≥ 0, at most [`MAX_MONEY`]: a price, a cost or a cost rate.
    pub(crate) const MONEY: Range = Range {
        min: 0.0,
        max: MAX_MONEY,
        min_open: false,
        max_is_limit: true,
    };
    /// A unit weight in kg: ≥ 0, at most [`MAX_UNIT_WEIGHT_KG`].
    pub(crate) const WEIGHT: Range = Range {
        min: 0.0,
        max: MAX_UNIT_WEIGHT_KG,
        min_open: false,
        max_is_limit: true,
    };
    /// A carrier's speed in km per day: at least 1, so that a transit over half the
    /// globe (20,016 km) is a day count far inside `u32`, exact and never saturated.
    pub(crate) const SPEED: Range = Range {
        min: 1.0,
        max: f64::INFINITY,
        min_open: false,
        max_is_limit: false,
    };
    /// A latitude in degrees.
    pub(crate) const LATITUDE: Range = Range {
        min: -90.0,
        max: 90.0,
        min_open: false,
        max_is_limit: false,
    };
    /// A longitude in degrees.
    pub(crate) const LONGITUDE: Range = Range {
        min: -180.0,
        max: 180.0,
        min_open: false,
        max_is_limit: false,
    };

    fn contains(self, x: f64) -> bool {
        let above_min = if self.min_open {
            x > self.min
        } else {
            x >= self.min
        };
        above_min && x <= self.max
    }

    fn describe(self) -> String {
        if self.max.is_infinite() || self.max_is_limit {
            let op = if self.min_open { ">" } else { "≥" };
            format!("a number {op} {}", self.min)
        } else {
            format!("a number from {} to {}", self.min, self.max)
        }
    }

    /// What is wrong with `x`, a number outside the range.
    fn problem(self, x: f64) -> String {
        if self.max_is_limit && x > self.max {
            format!("must be at most {}", self.max)
        } else {
            format!("must be {}", self.describe())
        }
    }
}

/// Describes "a whole number ≥ min" (and the upper limit when it is not the type's limit).
fn describe_whole(min: u64) -> String {
    format!("a whole number ≥ {min}")
}

/// The JSON type of a raw value, read from its first byte (the value is already valid JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

fn kind(raw: &RawValue) -> Kind {
    match raw.get().as_bytes().first() {
        Some(b'n') => Kind::Null,
        Some(b't' | b'f') => Kind::Bool,
        Some(b'"') => Kind::String,
        Some(b'[') => Kind::Array,
        Some(b'{') => Kind::Object,
        _ => Kind::Number,
    }
}

/// Quotes a user value for a message: in backticks, cut after 40 characters.
pub(crate) fn quote(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        format!("`{text}`")
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("`{cut}…`")
    }
}

/// "a string `"x"`", "an object", "null", … : what was found, for "expected X, found Y".
fn found(raw: &RawValue) -> String {
    match kind(raw) {
        Kind::Null => "null".to_string(),
        Kind::Bool => quote(raw.get()),
        Kind::Number => format!("the number {}", quote(raw.get())),
        Kind::String => format!("a string {}", quote(raw.get())),
        Kind::Array => "a list `[…]`".to_string(),
        Kind::Object => "an object `{…}`".to_string(),
    }
}

/// Splits serde_json's message from the " at line L column C" it appends.
fn bare_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_string()
}

/// One JSON text being read: positions, and the sink every problem goes into.
pub(crate) struct Doc<'a> {
    file: &'a str,
    text: &'a str,
    /// The file line of the text's first line (1 for a file, N for line N of a JSONL file).
    first_line: usize,
    /// Byte offset of each line start in `text`.
    line_starts: Vec<usize>,
    errors: RefCell<Vec<LoadError>>,
}

impl<'a> Doc<'a> {
    /// A document over `text`, whose first line is line `first_line` of `file`.
    pub(crate) fn new(file: &'a str, text: &'a str, first_line: usize) -> Doc<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Doc {
            file,
            text,
            first_line,
            line_starts,
            errors: RefCell::new(Vec::new()),
        }
    }

    /// File line and 1-based character column of a byte offset in the text.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        // A byte column from serde_json may point inside a character; back up to its start.
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let index = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1);
        let start = self.line_starts.get(index).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (self.first_line + index, column + 1)
    }

    /// Byte offset of a raw value that borrows from the text (0 if it somehow does not).
    pub(crate) fn offset(&self, raw: &RawValue) -> usize {
        let base = self.text.as_ptr() as usize;
        (raw.get().as_ptr() as usize)
            .checked_sub(base)
            .filter(|&offset| offset <= self.text.len())
            .unwrap_or(0)
    }

    /// Records a problem at a byte offset.
    pub(crate) fn error_at(&self, offset: usize, field: Option<String>, message: String) {
        let (line, column) = self.position(offset);
        self.errors
            .borrow_mut()
            .push(LoadError::new(self.file, line, column, field, message));
    }

    /// Records a problem about a value.
    pub(crate) fn error(&self, raw: &RawValue, field: &str, message: String) {
        self.error_at(self.offset(raw), field_name(field), message);
    }

    /// Whether any problem was recorded.
    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.borrow().is_empty()
    }

    /// Takes the problems recorded so far, in file order.
    pub(crate) fn take_errors(&self) -> Vec<LoadError> {
        let mut errors = std::mem::take(&mut *self.errors.borrow_mut());
        errors.sort_by_key(|e| (e.line, e.column));
        errors
    }

    /// Checks the JSON syntax of the whole text and returns its top value.
    pub(crate) fn root(&self) -> Option<&'a RawValue> {
        match serde_json::from_str::<&'a RawValue>(self.text) {
            Ok(raw) => Some(raw),
            Err(err) => {
                let line = err.line().max(1);
                let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
                let offset = start + err.column().saturating_sub(1);
                let message = match err.classify() {
                    serde_json::error::Category::Eof => {
                        "invalid JSON: the text ends before the value is complete".to_string()
                    }
                    _ => format!("invalid JSON: {}", bare_message(&err)),
                };
                self.error_at(offset, None, message);
                None
            }
        }
    }

    /// Reads `raw` as an object; records a problem and returns `None` if it is not one.
    pub(crate) fn object<'d>(
        &'d self,
        raw: &'a RawValue,
        path: String,
        expected: &str,
    ) -> Option<Fields<'a, 'd>> {
        if kind(raw) != Kind::Object {
            self.error(
                raw,
                &path,
                format!("expected {expected}, found {}", found(raw)),
            );
            return None;
        }
        match serde_json::from_str::<RawObject<'a>>(raw.get()) {
            Ok(object) => {
                let fields = Fields {
                    doc: self,
                    path,
                    start: self.offset(raw),
                    entries: object.entries,
                };
                fields.check_duplicate_names();
                Some(fields)
            }
            Err(err) => {
                // Only reachable past serde_json's nesting limit; the syntax is already valid.
                self.error(
                    raw,
                    &path,
                    format!("cannot read object: {}", bare_message(&err)),
                );
                None
            }
        }
    }

    /// Reads `raw` as a list; records a problem and returns `None` if it is not one.
    pub(crate) fn array(
        &self,
        raw: &'a RawValue,
        path: &str,
        expected: &str,
    ) -> Option<Vec<&'a RawValue>> {
        if kind(raw) != Kind::Array {
            self.error(
                raw,
                path,
                format!("expected {expected}, found {}", found(raw)),
            );
            return None;
        }
        match serde_json::from_str::<Vec<&'a RawValue>>(raw.get()) {
            Ok(items) => Some(items),
            Err(err) => {
                self.error(
                    raw,
                    path,
                    format!("cannot read list: {}", bare_message(&err)),
                );
                None
            }
        }
    }

    /// Reads a string.
    pub(crate) fn string(&self, raw: &'a RawValue, path: &str) -> Option<String> {
        if kind(raw) != Kind::String {
            self.error(
                raw,
                path,
                format!("expected a string, found {}", found(raw)),
            );
            return None;
        }
        match serde_json::from_str::<String>(raw.get()) {
            Ok(s) => Some(s),
            Err(err) => {
                self.error(
                    raw,
                    path,
                    format!("cannot read string: {}", bare_message(&err)),
                );
                None
            }
        }
    }

    /// Reads a non-empty string (ids, SKUs).
    pub(crate) fn text(&self, raw: &'a RawValue, path: &str) -> Option<String> {
        let s = self.string(raw, path)?;
        if s.trim().is_empty() {
            self.error(raw, path, "must not be empty".to_string());
            return None;
        }
        Some(s)
    }

    /// Reads a finite number within `range`.
    pub(crate) fn number(&self, raw: &'a RawValue, path: &str, range: Range) -> Option<f64> {
        if kind(raw) != Kind::Number {
            let expected = range.describe();
            self.error(
                raw,
                path,
                format!("expected {expected}, found {}", found(raw)),
            );
            return None;
        }
        // JSON number syntax is a subset of Rust's float syntax; overflow gives infinity.
        let value = finite(raw.get());
        match value {
            Some(x) if range.contains(x) => Some(x),
            Some(x) => {
                let message = format!("{}, found {}", range.problem(x), quote(raw.get()));
                self.error(raw, path, message);
                None
            }
            None => {
                let message = format!("is too large a number, found {}", quote(raw.get()));
                self.error(raw, path, message);
                None
            }
        }
    }

    /// Reads a whole number within `min..=max`; `2.0` counts as whole, `2.5` does not.
    pub(crate) fn whole(&self, raw: &'a RawValue, path: &str, min: u64, max: u64) -> Option<u64> {
        let expected = describe_whole(min);
        if kind(raw) != Kind::Number {
            self.error(
                raw,
                path,
                format!("expected {expected}, found {}", found(raw)),
            );
            return None;
        }
        match parse_whole(raw.get()) {
            Some(n) if n >= i128::from(min) && n <= i128::from(max) => u64::try_from(n).ok(),
            Some(n) if n > i128::from(max) => {
                let message = format!("must be at most {max}, found {}", quote(raw.get()));
                self.error(raw, path, message);
                None
            }
            _ => {
                let message = format!("must be {expected}, found {}", quote(raw.get()));
                self.error(raw, path, message);
                None
            }
        }
    }

    /// Reads a whole number that may be negative, at most `limit` either side of 0.
    pub(crate) fn integer(&self, raw: &'a RawValue, path: &str, limit: u64) -> Option<i64> {
        let expected = "a whole number";
        if kind(raw) != Kind::Number {
            self.error(
                raw,
                path,
                format!("expected {expected}, found {}", found(raw)),
            );
            return None;
        }
        match parse_whole(raw.get()).map(i64::try_from) {
            Some(Ok(n)) if n.unsigned_abs() <= limit => Some(n),
            Some(Ok(_)) => {
                let message = format!(
                    "must be from -{limit} to {limit}, found {}",
                    quote(raw.get())
                );
                self.error(raw, path, message);
                None
            }
            Some(Err(_)) => {
                let message = format!("is too large a number, found {}", quote(raw.get()));
                self.error(raw, path, message);
                None
            }
            None => {
                let message = format!("must be {expected}, found {}", quote(raw.get()));
                self.error(raw, path, message);
                None
            }
        }
    }

    /// Reads a list of strings (tags).
    pub(crate) fn string_list(&self, raw: &'a RawValue, path: &str) -> Option<Vec<String>> {
        let items = self.array(raw, path, "a list of strings")?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.into_iter().enumerate() {
            match self.string(item, &format!("{path}[{i}]")) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

/// A finite number read from its JSON text, `-0` as 0 (so no cost or position is ever
/// written as `-0.0`). Both order loaders read numbers with it: the same text, the same bits.
pub(crate) fn finite(text: &str) -> Option<f64> {
    let x = text.parse::<f64>().ok().filter(|x| x.is_finite())?;
    Some(if x == 0.0 { 0.0 } else { x })
}

/// `None` for the root, else the path.
fn field_name(path: &str) -> Option<String> {
    (!path.is_empty()).then(|| path.to_string())
}

/// Parses a JSON number as an exact whole number, if it is one (`3`, `-3`, `3.0`, `3e2`).
/// Values beyond ±2^53 written with a fraction or exponent are refused: they are not exact.
fn parse_whole(text: &str) -> Option<i128> {
    if let Ok(n) = text.parse::<i128>() {
        return Some(n);
    }
    let x = text.parse::<f64>().ok()?;
    let exact = x.is_finite() && x.fract() == 0.0 && x.abs() <= MAX_EXACT_F64;
    // The cast is exact when `exact` holds: x is whole and |x| ≤ 2^53.
    #[allow(clippy::cast_possible_truncation)]
    let n = x as i128;
    exact.then_some(n)
}

/// An object's fields in file order, each borrowed unparsed from the text.
struct RawObject<'a> {
    entries: Vec<(String, &'a RawValue)>,
}

impl<'de> Deserialize<'de> for RawObject<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = RawObject<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    entries.push((key, value));
                }
                Ok(RawObject { entries })
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// The fields of one JSON object, with typed getters that record problems in the [`Doc`].
///
/// Every getter returns `None` when the field is absent, `null` (for optional fields) or
/// invalid; invalid values and missing required fields are recorded as problems.
pub(crate) struct Fields<'a, 'd> {
    doc: &'d Doc<'a>,
    /// Path of the object itself (`""` for the root, `locations[3]`, `lines[0]`).
    path: String,
    /// Byte offset of the object's `{`; missing fields are reported there.
    start: usize,
    entries: Vec<(String, &'a RawValue)>,
}

impl<'a, 'd> Fields<'a, 'd> {
    /// The document these fields come from.
    pub(crate) fn doc(&self) -> &'d Doc<'a> {
        self.doc
    }

    /// Byte offset of the object's `{`.
    pub(crate) fn start(&self) -> usize {
        self.start
    }

    /// Full path of a field, e.g. `locations[3].lat`.
    pub(crate) fn path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    fn check_duplicate_names(&self) {
        for (i, (name, raw)) in self.entries.iter().enumerate() {
            if self.entries[..i].iter().any(|(earlier, _)| earlier == name) {
                let message = format!("the field {} is given twice", quote(name));
                self.doc.error(raw, &self.path(name), message);
            }
        }
    }

    /// The raw value of a field, `None` when absent.
    pub(crate) fn raw(&self, name: &str) -> Option<&'a RawValue> {
        self.entries
            .iter()
            .find(|(key, _)| key == name)
            .map(|&(_, raw)| raw)
    }

    /// The raw value of a field, `None` when absent or `null`.
    fn present(&self, name: &str) -> Option<&'a RawValue> {
        self.raw(name).filter(|raw| kind(raw) != Kind::Null)
    }

    /// The raw value of a required field; records "missing" when absent.
    fn required(&self, name: &str, expected: &str) -> Option<&'a RawValue> {
        let raw = self.raw(name);
        if raw.is_none() {
            self.missing(name, expected);
        }
        raw
    }

    /// Records that a required field is absent.
    pub(crate) fn missing(&self, name: &str, expected: &str) {
        let message = format!("required field is missing; expected {expected}");
        self.doc
            .error_at(self.start, Some(self.path(name)), message);
    }

    /// Records a problem about a field's value (at the object's start if the field is absent).
    pub(crate) fn error(&self, name: &str, message: String) {
        match self.raw(name) {
            Some(raw) => self.doc.error(raw, &self.path(name), message),
            None => self
                .doc
                .error_at(self.start, Some(self.path(name)), message),
        }
    }

    /// A required, non-empty string.
    pub(crate) fn req_text(&self, name: &str) -> Option<String> {
        let raw = self.required(name, "a non-empty string")?;
        self.doc.text(raw, &self.path(name))
    }

    /// An optional, non-empty string.
    pub(crate) fn opt_text(&self, name: &str) -> Option<String> {
        let raw = self.present(name)?;
        self.doc.text(raw, &self.path(name))
    }

    /// An optional string.
    pub(crate) fn opt_str(&self, name: &str) -> Option<String> {
        let raw = self.present(name)?;
        self.doc.string(raw, &self.path(name))
    }

    /// An optional list of strings; empty when absent.
    pub(crate) fn str_list(&self, name: &str) -> Vec<String> {
        self.present(name)
            .and_then(|raw| self.doc.string_list(raw, &self.path(name)))
            .unwrap_or_default()
    }

    /// A required finite number within `range`.
    pub(crate) fn req_f64(&self, name: &str, range: Range) -> Option<f64> {
        let raw = self.required(name, &range.describe())?;
        self.doc.number(raw, &self.path(name), range)
    }

    /// An optional finite number within `range`.
    pub(crate) fn opt_f64(&self, name: &str, range: Range) -> Option<f64> {
        let raw = self.present(name)?;
        self.doc.number(raw, &self.path(name), range)
    }

    /// A required whole number ≥ `min` that fits a `u32`.
    pub(crate) fn req_u32(&self, name: &str, min: u32) -> Option<u32> {
        let raw = self.required(name, &describe_whole(u64::from(min)))?;
        self.doc
            .whole(raw, &self.path(name), u64::from(min), u64::from(u32::MAX))
            .and_then(|n| u32::try_from(n).ok())
    }

    /// An optional whole number ≥ `min` that fits a `u32`.
    pub(crate) fn opt_u32(&self, name: &str, min: u32) -> Option<u32> {
        self.opt_u32_within(name, min, u32::MAX)
    }

    /// An optional whole number from `min` to `max`.
    pub(crate) fn opt_u32_within(&self, name: &str, min: u32, max: u32) -> Option<u32> {
        let raw = self.present(name)?;
        self.doc
            .whole(raw, &self.path(name), u64::from(min), u64::from(max))
            .and_then(|n| u32::try_from(n).ok())
    }

    /// A required stock count: a whole number from 0 to [`crate::MAX_UNITS`].
    pub(crate) fn req_units(&self, name: &str) -> Option<u64> {
        let raw = self.required(name, &describe_whole(0))?;
        self.doc.whole(raw, &self.path(name), 0, crate::MAX_UNITS)
    }

    /// An optional stock count (see [`Fields::req_units`]).
    pub(crate) fn opt_units(&self, name: &str) -> Option<u64> {
        let raw = self.present(name)?;
        self.doc.whole(raw, &self.path(name), 0, crate::MAX_UNITS)
    }

    /// An optional whole number that may be negative, at most `limit` either side of 0.
    pub(crate) fn opt_i64(&self, name: &str, limit: u64) -> Option<i64> {
        let raw = self.present(name)?;
        self.doc.integer(raw, &self.path(name), limit)
    }

    /// A required object.
    pub(crate) fn req_object(&self, name: &str, expected: &str) -> Option<Fields<'a, 'd>> {
        let raw = self.required(name, expected)?;
        self.doc.object(raw, self.path(name), expected)
    }

    /// A required list, with the path of the list for its items' paths.
    pub(crate) fn req_array(&self, name: &str, expected: &str) -> Option<Vec<&'a RawValue>> {
        let raw = self.required(name, expected)?;
        self.doc.array(raw, &self.path(name), expected)
    }

    /// Every field not in `known`, as JSON values, for rules to read as `attr`.
    pub(crate) fn attr(&self, known: &[&str]) -> BTreeMap<String, Value> {
        let mut attr = BTreeMap::new();
        for (name, raw) in &self.entries {
            if known.contains(&name.as_str()) {
                continue;
            }
            match serde_json::from_str::<Value>(raw.get()) {
                Ok(value) => {
                    attr.insert(name.clone(), value);
                }
                // E.g. a number beyond f64 (`1e400`), which a JSON value cannot hold.
                Err(err) => {
                    let message = format!("cannot keep this field: {}", bare_message(&err));
                    self.doc.error(raw, &self.path(name), message);
                }
            }
        }
        attr
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn errors(doc: &Doc<'_>) -> Vec<String> {
        doc.take_errors().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn positions_count_characters_and_lines() {
        let text = "{\n  \"é\": 1,\n  \"x\": \"a\"\n}";
        let doc = Doc::new("t.json", text, 1);
        let root = doc.root().unwrap();
        let fields = doc.object(root, String::new(), "an object").unwrap();
        let x = fields.raw("x").unwrap();
        assert_eq!(doc.position(doc.offset(x)), (3, 8));
        assert_eq!(fields.opt_u32("x", 0), None);
        assert_eq!(
            errors(&doc),
            ["t.json:3:8: x: expected a whole number ≥ 0, found a string `\"a\"`"]
        );
    }

    #[test]
    fn whole_numbers_accept_integral_decimals_only() {
        assert_eq!(parse_whole("2"), Some(2));
        assert_eq!(parse_whole("2.0"), Some(2));
        assert_eq!(parse_whole("2e3"), Some(2000));
        assert_eq!(parse_whole("-0"), Some(0));
        assert_eq!(parse_whole("2.5"), None);
        assert_eq!(parse_whole("1e300"), None);
        assert_eq!(parse_whole("1e400"), None);
    }

    #[test]
    fn syntax_error_position_on_later_line() {
        let doc = Doc::new("t.json", "{\n  \"a\": 1\n  \"b\": 2\n}", 1);
        assert!(doc.root().is_none());
        assert_eq!(
            errors(&doc),
            ["t.json:3:3: invalid JSON: expected `,` or `}`"]
        );
    }

    #[test]
    fn duplicate_field_names_and_huge_numbers() {
        let doc = Doc::new("t.json", r#"{"a": 1e400, "a": 2, "b": 1e400}"#, 4);
        let root = doc.root().unwrap();
        let fields = doc.object(root, "x".into(), "an object").unwrap();
        assert_eq!(fields.opt_f64("a", Range::MONEY), None);
        let attr = fields.attr(&["a"]);
        assert!(attr.is_empty());
        assert_eq!(
            errors(&doc),
            [
                "t.json:4:7: x.a: is too large a number, found `1e400`",
                "t.json:4:19: x.a: the field `a` is given twice",
                "t.json:4:27: x.b: cannot keep this field: number out of range",
            ]
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let doc = Doc::new("t.json", &text, 1);
        let root = doc.root().unwrap();
        let fields = doc.object(root, String::new(), "an object").unwrap();
        let attr = fields.attr(&[]);
        assert!(attr.is_empty());
        let errors = errors(&doc);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("recursion limit exceeded"), "{errors:?}");
    }
}
