//! The sourcing-rule language: parsing, checking and formatting of rule files.
