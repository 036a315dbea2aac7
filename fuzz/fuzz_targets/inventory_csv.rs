//! The `inventory.csv` loader, and routing on what it loads.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sourcing_engine::fuzz::inventory_csv(data));
