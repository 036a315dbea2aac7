//! Rule files as the engine takes them: where the text comes from, what loading it says
//! (warnings, errors located in the rule file), and the content hash every decision names.
//!
//! In: a [`RulesSource`] (text, bytes or a path). Out: a [`RulesLoaded`] or a
//! [`RulesError`]. The checking and compiling is done by [`crate::Engine::load_rules`],
//! against the engine's own network, so rules can never meet another network.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The SHA-256 of a rule file's bytes, written as 64 lowercase hex digits: which rules made
/// a decision (`"ruleset"` in every decision). The built-in strategy has the fixed value
/// [`RulesetHash::BUILTIN`] (64 zeros), which no rule file hashes to in practice.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RulesetHash([u8; 32]);

impl RulesetHash {
    /// The hash named by decisions of the built-in `min-cost` strategy: 64 zeros.
    pub const BUILTIN: RulesetHash = RulesetHash([0; 32]);

    /// The SHA-256 of these bytes.
    pub fn of(bytes: &[u8]) -> RulesetHash {
        use sha2::Digest;
        RulesetHash(sha2::Sha256::digest(bytes).into())
    }

    /// The 32 bytes of the hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Default for RulesetHash {
    /// [`RulesetHash::BUILTIN`].
    fn default() -> RulesetHash {
        RulesetHash::BUILTIN
    }
}

impl fmt::Display for RulesetHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for RulesetHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RulesetHash({self})")
    }
}

/// Text that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a ruleset hash is 64 hex digits, found `{0}`")]
pub struct BadHash(pub String);

impl FromStr for RulesetHash {
    type Err = BadHash;
    fn from_str(text: &str) -> Result<RulesetHash, BadHash> {
        let bad = || BadHash(text.chars().take(80).collect());
        if text.len() != 64 || !text.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            let pair = text.get(2 * i..2 * i + 2).ok_or_else(bad)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
        }
        Ok(RulesetHash(out))
    }
}

impl Serialize for RulesetHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RulesetHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RulesetHash, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Where a rule file comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesSource {
    name: String,
    body: Body,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    Bytes(Vec<u8>),
    Path(PathBuf),
}

impl RulesSource {
    /// Rule text, under the file name its errors show.
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> RulesSource {
        RulesSource {
            name: name.into(),
            body: Body::Bytes(text.into().into_bytes()),
        }
    }

    /// Bytes as read from somewhere (text that is not UTF-8 is reported, located).
    pub fn bytes(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> RulesSource {
        RulesSource {
            name: name.into(),
            body: Body::Bytes(bytes.into()),
        }
    }

    /// A rule file on disk, read when loaded; its errors show the path.
    pub fn path(path: impl Into<PathBuf>) -> RulesSource {
        let path = path.into();
        RulesSource {
            name: path.display().to_string(),
            body: Body::Path(path),
        }
    }

    /// The name errors and [`RulesetInfo`] show.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bytes of the rule file.
    pub(crate) fn read(self) -> Result<(String, Vec<u8>), RulesError> {
        match self.body {
            Body::Bytes(b) => Ok((self.name, b)),
            Body::Path(p) => match std::fs::read(&p) {
                Ok(b) => Ok((self.name, b)),
                Err(e) => Err(RulesError::Read {
                    at: SourcePos::start(&self.name),
                    message: format!("cannot read the rule file: {e}"),
                }),
            },
        }
    }
}

/// A place in a rule file: 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourcePos {
    /// The rule file's name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl SourcePos {
    fn start(file: &str) -> SourcePos {
        SourcePos {
            file: file.to_string(),
            line: 1,
            column: 1,
        }
    }

    /// Reads `file:line:col` at the start of `text` (how the compiler writes places); the
    /// start of the file when `text` does not start so. Returns the rest after `": "`.
    fn split<'t>(file: &str, text: &'t str) -> (SourcePos, &'t str) {
        let parsed = (|| {
            let rest = text.strip_prefix(file)?.strip_prefix(':')?;
            let (line, rest) = rest.split_once(':')?;
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let column = rest.get(..digits)?.parse().ok()?;
            let rest = rest.get(digits..)?;
            let rest = rest.strip_prefix(": ").unwrap_or(rest);
            Some((
                SourcePos {
                    file: file.to_string(),
                    line: line.parse().ok()?,
                    column,
                },
                rest,
            ))
        })();
        parsed.unwrap_or_else(|| (SourcePos::start(file), text))
    }
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Error or warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RuleSeverity {
    /// The rule file cannot be used.
    Error,
    /// The rule file works, but probably not as intended.
    Warning,
}

/// One finding of the rule checker, located in the rule file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleDiagnostic {
    /// Stable code: `S0xx` syntax, `C0xx` check, `W0xx` warning.
    pub code: String,
    /// Error or warning.
    pub severity: RuleSeverity,
    /// What is wrong.
    pub message: String,
    /// The rule file's name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// How to fix it, when that is knowable.
    pub help: Option<String>,
}

fn diagnostics(diags: &sourcing_dsl::Diagnostics) -> Vec<RuleDiagnostic> {
    let source = diags.source();
    diags
        .iter()
        .map(|d| {
            let (line, column) = source.line_col(d.primary.span.start);
            RuleDiagnostic {
                code: d.code.to_string(),
                severity: if d.is_error() {
                    RuleSeverity::Error
                } else {
                    RuleSeverity::Warning
                },
                message: d.message.clone(),
                file: source.name.clone(),
                line,
                column,
                help: d.help.clone(),
            }
        })
        .collect()
}

/// Why a rule file was not loaded; the rules in force stay as they were. Every variant
/// says where in the rule file ([`RulesError::at`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// The file could not be read.
    #[error("{}: {message}", at.file)]
    Read {
        /// The file (line and column 1).
        at: SourcePos,
        /// The system's reason.
        message: String,
    },
    /// The checker found errors: syntax, names, types, units, fallbacks, scripts that do
    /// not compile in the engine's sandbox (the codes of `sourcing check`).
    #[error("{}", rendered.trim_end())]
    Invalid {
        /// The first error.
        at: SourcePos,
        /// Every finding, errors and warnings, in file order.
        diagnostics: Vec<RuleDiagnostic>,
        /// The findings rendered as `sourcing check` prints them (source line, caret, help).
        rendered: String,
        /// The findings as `sourcing check --error-format json` prints them.
        json: serde_json::Value,
    },
    /// A script does not compile.
    #[error("{at}: script `{script}` does not compile: {message}")]
    Script {
        /// Where the script compiler stopped, in the rule file.
        at: SourcePos,
        /// The script's name.
        script: String,
        /// The script compiler's message.
        message: String,
    },
    /// A script failed, or a value was not a finite number, while the engine computed a
    /// location set that depends on location facts only, before any order.
    #[error("{at}: {message}")]
    ScriptFailed {
        /// The clause that failed.
        at: SourcePos,
        /// Where it failed and why.
        message: String,
    },
    /// Fallbacks form a cycle.
    #[error("{}: the fallbacks of the rule set form a cycle", at.file)]
    Cycle {
        /// The rule file (line and column 1: a cycle has no one place).
        at: SourcePos,
    },
    /// The rules write money in another currency than the network's.
    #[error(
        "{at}: the rules are written in `{rules}` but the network's currency is `{network}`; \
         write the rules' amounts in `{network}`, or route a network priced in `{rules}`"
    )]
    Currency {
        /// The rules' first amount in their currency.
        at: SourcePos,
        /// The rules' currency.
        rules: String,
        /// The network's currency.
        network: String,
    },
}

/// What kind of [`RulesError`] it is, to match on without its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RulesErrorKind {
    /// [`RulesError::Read`].
    Read,
    /// [`RulesError::Invalid`].
    Invalid,
    /// [`RulesError::Script`].
    Script,
    /// [`RulesError::ScriptFailed`].
    ScriptFailed,
    /// [`RulesError::Cycle`].
    Cycle,
    /// [`RulesError::Currency`].
    Currency,
}

impl RulesError {
    /// Where in the rule file.
    pub fn at(&self) -> &SourcePos {
        match self {
            RulesError::Read { at, .. }
            | RulesError::Invalid { at, .. }
            | RulesError::Script { at, .. }
            | RulesError::ScriptFailed { at, .. }
            | RulesError::Cycle { at }
            | RulesError::Currency { at, .. } => at,
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> RulesErrorKind {
        match self {
            RulesError::Read { .. } => RulesErrorKind::Read,
            RulesError::Invalid { .. } => RulesErrorKind::Invalid,
            RulesError::Script { .. } => RulesErrorKind::Script,
            RulesError::ScriptFailed { .. } => RulesErrorKind::ScriptFailed,
            RulesError::Cycle { .. } => RulesErrorKind::Cycle,
            RulesError::Currency { .. } => RulesErrorKind::Currency,
        }
    }

    /// The checker's findings (empty for errors found while compiling for the network).
    pub fn diagnostics(&self) -> &[RuleDiagnostic] {
        match self {
            RulesError::Invalid { diagnostics, .. } => diagnostics,
            _ => &[],
        }
    }

    /// Checker findings that stopped the file.
    pub(crate) fn invalid(diags: &sourcing_dsl::Diagnostics) -> RulesError {
        let all = diagnostics(diags);
        let at = all
            .iter()
            .find(|d| d.severity == RuleSeverity::Error)
            .map_or_else(
                || SourcePos::start(&diags.source().name),
                |d| SourcePos {
                    file: d.file.clone(),
                    line: d.line,
                    column: d.column,
                },
            );
        RulesError::Invalid {
            at,
            diagnostics: all,
            rendered: diags.render(),
            json: diags.to_json(),
        }
    }

    /// An error of compiling checked rules for a network, located in `file`.
    pub(crate) fn compiled(file: &str, e: crate::rules::RulesError) -> RulesError {
        use crate::rules::RulesError as E;
        match e {
            E::Script {
                at,
                script,
                message,
                ..
            } => RulesError::Script {
                at: SourcePos::split(file, &at).0,
                script,
                message,
            },
            E::ScriptFailed { message } => {
                let (at, rest) = SourcePos::split(file, &message);
                RulesError::ScriptFailed {
                    at,
                    message: rest.to_string(),
                }
            }
            E::Cycle => RulesError::Cycle {
                at: SourcePos::start(file),
            },
            E::Currency { at, rules, network } => RulesError::Currency {
                at: SourcePos::split(file, &at).0,
                rules,
                network,
            },
        }
    }
}

/// What [`crate::Engine::load_rules`] loaded: the rules now in force.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RulesLoaded {
    /// The content hash of the rule file, named by every decision from now on.
    pub ruleset: RulesetHash,
    /// Warnings of the checker (the file loaded all the same).
    pub warnings: Vec<RuleDiagnostic>,
    /// The warnings rendered as `sourcing check` prints them (empty when none).
    pub rendered_warnings: String,
}

impl RulesLoaded {
    pub(crate) fn new(ruleset: RulesetHash, diags: &sourcing_dsl::Diagnostics) -> RulesLoaded {
        RulesLoaded {
            ruleset,
            warnings: diagnostics(diags),
            rendered_warnings: if diags.is_empty() {
                String::new()
            } else {
                diags.render()
            },
        }
    }
}

/// The rule set in force: its hash, the name it was loaded under, its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RulesetInfo {
    /// Content hash ([`RulesetHash::BUILTIN`] for the built-in strategy).
    pub hash: RulesetHash,
    /// The file name it was loaded under (`min-cost` for the built-in strategy).
    pub name: String,
    /// The rule file's text (`None` for the built-in strategy).
    pub source: Option<String>,
}

impl RulesetInfo {
    /// The built-in `min-cost` strategy.
    pub fn builtin() -> RulesetInfo {
        RulesetInfo {
            hash: RulesetHash::BUILTIN,
            name: "min-cost".to_string(),
            source: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_in_hex_and_reads_back() {
        // The SHA-256 test vector of "abc" (FIPS 180-2).
        let h = RulesetHash::of(b"abc");
        assert_eq!(
            h.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(h.to_string().parse::<RulesetHash>(), Ok(h));
        assert!("xyz".parse::<RulesetHash>().is_err());
        assert!("g".repeat(64).parse::<RulesetHash>().is_err());
        assert_eq!(RulesetHash::BUILTIN.to_string(), "0".repeat(64));
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<RulesetHash>(&json).unwrap(), h);
    }

    #[test]
    fn places_are_read_back_from_the_compilers_text() {
        let (at, rest) = SourcePos::split("a.rules", "a.rules:12:5: group `x`: boom");
        assert_eq!((at.line, at.column, rest), (12, 5, "group `x`: boom"));
        let (at, rest) = SourcePos::split("a.rules", "elsewhere: boom");
        assert_eq!((at.line, at.column, rest), (1, 1, "elsewhere: boom"));
    }
}
