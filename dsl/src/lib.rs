//! The sourcing-rule language: parsing, checking and formatting of rule files.
//!
//! Pipeline: source text → [`parse`] → [`Ast`] → [`check`] → [`RuleSet`] (the checked, typed
//! IR in [`ir`] that the engine compiles). Every stage reports all the problems it finds as
//! [`Diagnostics`] (errors and warnings, rendered rustc-style or as JSON); [`format()`] prints a
//! rule file in canonical form, keeping its comments.
//!
//! ```
//! let src = r#"
//! strategy "min-cost" {
//!   candidates all
//!   score cost
//!   split allowed
//! }
//! "#;
//! let (rules, diags) = sourcing_dsl::compile_source("min-cost.rules", src);
//! assert!(!diags.has_errors(), "{}", diags.render());
//! let rules = rules.expect("no errors, so a rule set");
//! assert_eq!(rules.strategies[0].name, "min-cost");
//! ```
//!
//! The language is documented for analysts in `docs/language.md`.

#![deny(missing_docs)]

pub mod ast;
mod check;
pub mod date;
mod diagnostics;
mod fmt;
pub mod fuzz;
pub mod ide;
pub mod ir;
mod schema;
mod source;
mod suggest;
mod syntax;

pub use ast::Ast;
pub use diagnostics::{Diagnostic, Diagnostics, Label, Severity};
pub use ir::RuleSet;
pub use source::{SourceFile, Span};

/// Parses a rule file. On a syntax error, returns every syntax diagnostic found.
pub fn parse(file_name: &str, source: &str) -> Result<Ast, Diagnostics> {
    match syntax::parse_str(file_name, source) {
        (Some(ast), _) => Ok(ast),
        (None, diags) => Err(diags),
    }
}

/// Like [`parse`], for bytes read from a file: text that is not UTF-8 gives diagnostic `S002`.
pub fn parse_bytes(file_name: &str, source: &[u8]) -> Result<Ast, Diagnostics> {
    match syntax::parse_bytes(file_name, source) {
        (Some(ast), _) => Ok(ast),
        (None, diags) => Err(diags),
    }
}

/// Checks a parsed rule file: names, types, units, fallbacks, lints. Returns the rule set
/// when there is no error (warnings may be present) and all diagnostics.
pub fn check(ast: &Ast) -> (Option<RuleSet>, Diagnostics) {
    check::check(ast)
}

/// [`parse`] then [`check`]: the rule set if the file has no error, and all diagnostics.
pub fn compile_source(file_name: &str, source: &str) -> (Option<RuleSet>, Diagnostics) {
    match parse(file_name, source) {
        Ok(ast) => check(&ast),
        Err(diags) => (None, diags),
    }
}

/// [`compile_source`] for bytes read from a file.
pub fn compile_bytes(file_name: &str, source: &[u8]) -> (Option<RuleSet>, Diagnostics) {
    match parse_bytes(file_name, source) {
        Ok(ast) => check(&ast),
        Err(diags) => (None, diags),
    }
}

/// Formats a rule file canonically (idempotent; every comment kept). Fails only on syntax
/// errors.
pub fn format(file_name: &str, source: &str) -> Result<String, Diagnostics> {
    parse(file_name, source).map(|ast| fmt::format_ast(&ast))
}

/// Formats an already parsed rule file.
pub fn format_ast(ast: &Ast) -> String {
    fmt::format_ast(ast)
}
