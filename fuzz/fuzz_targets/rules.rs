//! The rule parser and checker.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sourcing_dsl::fuzz::rules(data));
