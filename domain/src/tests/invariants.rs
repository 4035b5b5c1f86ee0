//! Random command sequences against the aggregate: whatever is sent, in whatever order and
//! on whatever day, `decide` never panics and is deterministic, every accepted fact lies
//! between receipt and the day it was recorded, every event matches its schema, the state
//! folded afresh from the accepted events equals the state built step by step, and the
//! derived deadlines keep their order.

use super::*;
use proptest::prelude::*;

/// One step: which command, and how many days after receipt it happened and was recorded.
#[derive(Debug, Clone)]
struct Step {
    kind: u8,
    happened_after: i64,
    recorded_after: i64,
    variant: u8,
}

fn step() -> impl Strategy<Value = Step> {
    (0u8..19, -3i64..400, 0i64..420, 0u8..4).prop_map(
        |(kind, happened_after, recorded_after, variant)| Step {
            kind,
            happened_after,
            recorded_after,
            variant,
        },
    )
}

fn ymd(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn action(step: &Step, on: &str) -> ComplaintAction {
    let ombudsman = if step.variant.is_multiple_of(2) {
        Ombudsman::Phso
    } else {
        Ombudsman::Lgsco
    };
    let reason = [
        ClosureReason::Resolved,
        ClosureReason::Withdrawn,
        ClosureReason::ConsentNotReceived,
        ClosureReason::Transferred,
    ][usize::from(step.variant % 4)];
    let likelihood = [
        Likelihood::Rare,
        Likelihood::Unlikely,
        Likelihood::Possible,
        Likelihood::Likely,
    ][usize::from(step.variant % 4)];
    match step.kind {
        0 => acknowledge(on).into(),
        1 => request_consent(on).into(),
        2 => record_consent(ConsentDecision::Given, on).into(),
        3 => record_consent(ConsentDecision::Refused, on).into(),
        4 => lapse_consent(on).into(),
        5 => assess_risk(on, "medium", likelihood).into(),
        6 => agree_plan(on, LATER).into(),
        7 => stop_clock(on).into(),
        8 => restart_clock(on).into(),
        9 => notify_delay(on).into(),
        10 => send_response(on).into(),
        11 => escalate(on).into(),
        12 => refer(ombudsman, on).into(),
        13 => record_decision(ombudsman, on).into(),
        14 => record_learning(on).into(),
        15 => close(on, reason).into(),
        16 => reopen(on).into(),
        17 => accept_out_of_time(on).into(),
        _ => acknowledge(on).into(),
    }
}

fn check_deadlines(case: &Complaint, received_on: NaiveDate) {
    let services = services();
    if let Some(deadlines) = crate::deadlines(case, &services) {
        assert!(deadlines.acknowledge_by > received_on);
        assert!(deadlines.six_month_end >= received_on);
        assert!(deadlines.delay_letter_due > deadlines.six_month_end);
        assert!(deadlines.statutory_period_end >= deadlines.six_month_end);
    }
    let _ = crate::deadline_statuses(case, &services, received_on);
    let _ = crate::warnings(case, &services);
}

proptest! {
    // 256 sequences in every test run; PROPTEST_CASES asks for more.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn random_command_sequences_keep_the_aggregates_invariants(
        received_after in 0i64..1400,
        steps in proptest::collection::vec(step(), 1..25),
    ) {
        let services = services();
        let received_on = d("2024-01-01") + chrono::Days::new(received_after as u64);
        let mut case = Complaint::default();
        let mut accepted = Vec::new();
        let first = decide(&case, cmd(&ymd(received_on), receive(&ymd(received_on))), &services)
            .expect("a plain receipt is accepted");
        conform(&first);
        for event in first {
            accepted.push(event.clone());
            evolve(&mut case, event);
        }
        for step in &steps {
            let happened = received_on + chrono::Duration::days(step.happened_after);
            let recorded = received_on + chrono::Duration::days(step.recorded_after);
            let command = cmd(&ymd(recorded), action(step, &ymd(happened)));
            let again = decide(&case, command.clone(), &services);
            let result = decide(&case, command.clone(), &services);
            prop_assert_eq!(&result, &again, "decide is deterministic");
            if let Ok(events) = result {
                if !events.is_empty() {
                    let on = command.action.occurred_on();
                    prop_assert!(on >= received_on, "a fact dated {} before receipt {} was accepted", on, received_on);
                    prop_assert!(on <= command.issued_on, "a fact dated {} after the day it was recorded {} was accepted", on, command.issued_on);
                }
                conform(&events);
                for event in events {
                    accepted.push(event.clone());
                    evolve(&mut case, event);
                }
            }
            check_deadlines(&case, received_on);
        }
        prop_assert_eq!(fold(accepted), case, "folding afresh equals building step by step");
    }
}
