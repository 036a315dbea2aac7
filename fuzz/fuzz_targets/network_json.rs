//! The `network.json` loader, and routing on what it loads.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sourcing_engine::fuzz::network_json(data));
