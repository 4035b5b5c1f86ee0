//! Sequences of commands: bodies separated by 0xFF, each led by a byte choosing its kind
//! and a byte moving "today" forward. Whatever the order, deciding never panics, an accepted
//! fact never lies after the day it was recorded, and folding the accepted events afresh
//! gives the same complaint as building it step by step.
#![no_main]

use complaints_domain::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let services = ComplaintServices::standard();
    let mut case = complaints_fuzz::received();
    let mut accepted = Vec::new();
    let mut today = complaints_fuzz::today();
    for chunk in data.split(|b| *b == 0xFF).take(32) {
        let [kind, days, body @ ..] = chunk else {
            continue;
        };
        today = today + chrono::Days::new(u64::from(*days));
        let Some(action) = complaints_fuzz::decode(*kind, body) else {
            continue;
        };
        let occurred = action.occurred_on();
        let command = ComplaintCommand {
            issued_on: today,
            action,
        };
        if let Ok(events) = decide(&case, command, &services) {
            if !events.is_empty() {
                assert!(occurred <= today, "a fact after the day it was recorded");
            }
            for event in events {
                accepted.push(event.clone());
                evolve(&mut case, event);
            }
        }
        let _ = deadlines(&case, &services);
    }
    let mut again = complaints_fuzz::received();
    for event in accepted {
        evolve(&mut again, event);
    }
    assert_eq!(again, case);
});
