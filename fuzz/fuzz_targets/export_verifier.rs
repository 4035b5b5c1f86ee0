//! Any bytes as a received export: the verifier answers yes or no, never panics, and never
//! accepts a file that was not signed (the fuzzer cannot forge an Ed25519 signature).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(check) = complaints_audit::export::verify_export(data, None) {
        panic!("an unsigned file was accepted: {check:?}");
    }
});
