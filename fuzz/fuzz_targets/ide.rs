//! Editor queries (hover, completion, definition) on any text.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sourcing_dsl::fuzz::ide(data));
