//! Rule files compiled for the example network and used to route its orders.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sourcing_engine::fuzz::rules_route(data));
