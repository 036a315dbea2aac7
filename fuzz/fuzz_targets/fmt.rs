//! The rule formatter: round trip and idempotence.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sourcing_dsl::fuzz::format(data));
