//! Any bytes as any command's body: decoding never panics, and a body that decodes is
//! decided on a received complaint without panicking; its deadlines still derive.
#![no_main]

use complaints_domain::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((kind, body)) = data.split_first() else {
        return;
    };
    let Some(action) = complaints_fuzz::decode(*kind, body) else {
        return;
    };
    let services = ComplaintServices::standard();
    let mut case = complaints_fuzz::received();
    let command = ComplaintCommand {
        issued_on: complaints_fuzz::today(),
        action,
    };
    if let Ok(events) = decide(&case, command, &services) {
        for event in events {
            let _ = serde_json::to_vec(&event);
            evolve(&mut case, event);
        }
    }
    let _ = deadlines(&case, &services);
    let _ = deadline_statuses(&case, &services, complaints_fuzz::today());
});
