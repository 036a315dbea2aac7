//! The stock events loader, and a replay with what it loads.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sourcing_engine::fuzz::stock_events(data));
