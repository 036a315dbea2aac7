//! The `orders.jsonl` loader (whole-file check and streaming reader), and routing.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sourcing_engine::fuzz::orders_jsonl(data));
