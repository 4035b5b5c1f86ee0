//! The response period, the response clock, the delay letter, the response itself and
//! escalation to internal review.

use super::*;
use ComplaintError as E;

fn due(events: Vec<ComplaintEvent>) -> ResponseDue {
    response_due(&fold(events), &services())
}

fn due_on(day: &str) -> ResponseDue {
    ResponseDue::Due(d(day))
}

// Received Monday 2 June 2025; 25 working days on (no bank holiday in between) is 7 July.
const RECEIVED: &str = "2025-06-02";
const DEFAULT_DUE: &str = "2025-07-07";

#[test]
fn without_a_plan_the_response_is_due_after_the_default_working_days() {
    assert_eq!(due(vec![received(RECEIVED)]), due_on(DEFAULT_DUE));
    assert_eq!(
        deadlines(&fold(vec![received(RECEIVED)]), &services())
            .unwrap()
            .response_due,
        Some(d(DEFAULT_DUE))
    );
}

#[test]
fn there_is_no_response_date_before_receipt() {
    assert_eq!(due(vec![]), ResponseDue::NotApplicable);
    assert_eq!(deadlines(&Complaint::default(), &services()), None);
}

#[test]
fn agreeing_a_response_plan_sets_the_response_date() {
    given(vec![received(RECEIVED)])
        .when(now(agree_plan("2025-06-04", "2025-07-31")))
        .then_expect_events(vec![plan_agreed("2025-06-04", "2025-07-31")]);
    assert_eq!(
        due(vec![
            received(RECEIVED),
            plan_agreed("2025-06-04", "2025-07-31")
        ]),
        due_on("2025-07-31")
    );
}

#[test]
fn the_latest_plan_for_the_stage_wins() {
    let history = vec![
        received(RECEIVED),
        plan_agreed("2025-06-04", "2025-07-31"),
        plan_agreed("2025-07-20", "2025-08-29"),
    ];
    assert_eq!(due(history), due_on("2025-08-29"));
}

#[test]
fn a_response_due_before_the_plan_is_agreed_is_refused() {
    given(vec![received(RECEIVED)])
        .when(now(agree_plan("2025-06-04", "2025-06-03")))
        .then_expect_error(out_of_order("response_due_on", "agreed_on", "2025-06-04"));
}

#[test]
fn a_plan_after_the_response_is_refused() {
    given(vec![received(RECEIVED), responded("2025-06-20", 1)])
        .when(now(agree_plan("2025-06-21", "2025-07-31")))
        .then_expect_error(E::ResponseAlreadySent);
}

#[test]
fn a_plan_agreed_at_review_applies_to_the_review() {
    let history = vec![
        received(RECEIVED),
        plan_agreed("2025-06-04", "2025-07-31"),
        responded("2025-06-20", 1),
        escalated("2025-07-01"),
    ];
    // Without its own plan the review runs the default period from escalation.
    assert_eq!(due(history.clone()), due_on("2025-08-05"));
    let case = after(history, now(agree_plan("2025-07-02", "2025-09-30")));
    assert_eq!(response_due(&case, &services()), due_on("2025-09-30"));
}

#[test]
fn stopping_the_clock_leaves_no_response_date() {
    given(vec![received(RECEIVED)])
        .when(now(stop_clock("2025-06-09")))
        .then_expect_events(vec![clock_stopped("2025-06-09")]);
    let stopped = vec![received(RECEIVED), clock_stopped("2025-06-09")];
    assert_eq!(due(stopped.clone()), ResponseDue::Stopped);
    assert_eq!(
        deadlines(&fold(stopped), &services()).unwrap().response_due,
        None
    );
}

#[test]
fn restarting_the_clock_moves_the_response_date_by_the_working_days_stopped() {
    given(vec![received(RECEIVED), clock_stopped("2025-06-09")])
        .when(now(restart_clock("2025-06-16")))
        .then_expect_events(vec![clock_restarted("2025-06-16")]);
    // Stopped Monday 9 to Friday 13 June: five working days.
    let history = vec![
        received(RECEIVED),
        clock_stopped("2025-06-09"),
        clock_restarted("2025-06-16"),
    ];
    assert_eq!(due(history.clone()), due_on("2025-07-14"));
    assert_eq!(
        deadlines(&fold(history), &services()).unwrap().response_due,
        Some(d("2025-07-14"))
    );
}

#[test]
fn weekends_inside_a_stop_do_not_count() {
    // Stopped Friday 13 June, restarted Monday 16 June: one working day.
    let history = vec![
        received(RECEIVED),
        clock_stopped("2025-06-13"),
        clock_restarted("2025-06-16"),
    ];
    assert_eq!(due(history), due_on("2025-07-08"));
}

#[test]
fn restarting_on_the_day_of_the_stop_moves_nothing() {
    let history = vec![
        received(RECEIVED),
        clock_stopped("2025-06-09"),
        clock_restarted("2025-06-09"),
    ];
    assert_eq!(due(history), due_on(DEFAULT_DUE));
}

#[test]
fn successive_stops_add_up() {
    let history = vec![
        received(RECEIVED),
        clock_stopped("2025-06-09"),
        clock_restarted("2025-06-11"),
        clock_stopped("2025-06-18"),
        clock_restarted("2025-06-20"),
    ];
    assert_eq!(due(history), due_on("2025-07-11"));
}

#[test]
fn a_stop_moves_an_agreed_response_date_too() {
    let history = vec![
        received(RECEIVED),
        plan_agreed("2025-06-04", "2025-07-31"),
        clock_stopped("2025-06-09"),
        clock_restarted("2025-06-16"),
    ];
    assert_eq!(due(history), due_on("2025-08-07"));
}

#[test]
fn stopping_a_stopped_clock_is_refused() {
    given(vec![received(RECEIVED), clock_stopped("2025-06-09")])
        .when(now(stop_clock("2025-06-10")))
        .then_expect_error(E::ClockAlreadyStopped);
}

#[test]
fn restarting_a_running_clock_is_refused() {
    given(vec![received(RECEIVED)])
        .when(now(restart_clock("2025-06-10")))
        .then_expect_error(E::ClockNotStopped);
    given(vec![
        received(RECEIVED),
        clock_stopped("2025-06-09"),
        clock_restarted("2025-06-16"),
    ])
    .when(now(restart_clock("2025-06-17")))
    .then_expect_error(E::ClockNotStopped);
}

#[test]
fn restarting_before_the_stop_is_refused() {
    given(vec![received(RECEIVED), clock_stopped("2025-06-09")])
        .when(now(restart_clock("2025-06-06")))
        .then_expect_error(out_of_order("restarted_on", "stopped_on", "2025-06-09"));
}

#[test]
fn stopping_the_clock_after_the_response_is_refused() {
    given(vec![received(RECEIVED), responded("2025-06-20", 1)])
        .when(now(stop_clock("2025-06-21")))
        .then_expect_error(E::ResponseAlreadySent);
}

#[test]
fn a_stop_at_stage_one_does_not_move_the_review_date() {
    let history = vec![
        received(RECEIVED),
        clock_stopped("2025-06-09"),
        clock_restarted("2025-06-16"),
        responded("2025-06-20", 1),
        escalated("2025-07-01"),
    ];
    assert_eq!(due(history), due_on("2025-08-05"));
}

#[test]
fn a_delay_letter_is_recorded_before_the_response() {
    given(vec![received(RECEIVED)])
        .when(now(NotifyDelay {
            expected_response_on: Some(d("2026-01-30")),
            ..notify_delay("2025-12-03")
        }))
        .then_expect_events(vec![ComplaintEvent::DelayNotified {
            notified_on: d("2025-12-03"),
            expected_response_on: Some(d("2026-01-30")),
            reason: Confidential("Waiting for an external clinical review.".into()),
        }]);
}

#[test]
fn a_delay_letter_after_the_response_is_refused() {
    given(vec![received(RECEIVED), responded("2025-06-20", 1)])
        .when(now(notify_delay("2025-12-03")))
        .then_expect_error(E::ResponseAlreadySent);
}

#[test]
fn sending_the_response_records_it_at_stage_one() {
    given(vec![received(RECEIVED), acknowledged("2025-06-03")])
        .when(now(send_response("2025-06-20")))
        .then_expect_events(vec![responded("2025-06-20", 1)]);
}

#[test]
fn the_ombudsman_rights_are_deduplicated_and_sorted() {
    let events = expect_ok(given(vec![received(RECEIVED)]).when(now(SendResponse {
        ombudsman_rights: vec![Ombudsman::Lgsco, Ombudsman::Phso, Ombudsman::Lgsco],
        ..send_response("2025-06-20")
    })));
    assert!(matches!(
        &events[0],
        ComplaintEvent::ResponseSent { ombudsman_rights, .. } if ombudsman_rights == &[Ombudsman::Phso, Ombudsman::Lgsco]
    ));
}

#[test]
fn an_unsigned_response_is_refused() {
    for signed_by in ["", "  "] {
        given(vec![received(RECEIVED)])
            .when(now(SendResponse {
                signed_by: signed_by.into(),
                ..send_response("2025-06-20")
            }))
            .then_expect_error(E::UnsignedResponse);
    }
}

#[test]
fn a_response_without_the_ombudsman_rights_is_refused() {
    given(vec![received(RECEIVED)])
        .when(now(SendResponse {
            ombudsman_rights: vec![],
            ..send_response("2025-06-20")
        }))
        .then_expect_error(E::MissingOmbudsmanRights);
}

#[test]
fn a_response_names_each_missing_letter_section() {
    let without = |how: &str, conclusions: &str, actions: &str| SendResponse {
        letter: ResponseLetter {
            how_considered: how.into(),
            conclusions: conclusions.into(),
            actions: actions.into(),
        },
        ..send_response("2025-06-20")
    };
    for (response, missing) in [
        (without("", "c", "a"), "how_considered"),
        (without("h", " ", "a"), "conclusions"),
        (without("h", "c", "\n"), "actions"),
        (without("h", "", ""), "conclusions, actions"),
        (without("", "", ""), "how_considered, conclusions, actions"),
    ] {
        given(vec![received(RECEIVED)])
            .when(now(response))
            .then_expect_error(E::IncompleteResponse {
                missing: missing.into(),
            });
    }
}

#[test]
fn responding_twice_at_the_same_stage_is_refused() {
    given(vec![received(RECEIVED), responded("2025-06-20", 1)])
        .when(now(send_response("2025-06-21")))
        .then_expect_error(E::ResponseAlreadySent);
}

#[test]
fn escalating_after_the_response_starts_the_review() {
    given(vec![received(RECEIVED), responded("2025-06-20", 1)])
        .when(now(escalate("2025-07-01")))
        .then_expect_events(vec![escalated("2025-07-01")]);
    let case = fold(vec![
        received(RECEIVED),
        responded("2025-06-20", 1),
        escalated("2025-07-01"),
    ]);
    assert_eq!(case.stage, 2);
    assert_eq!(case.stage_started_on(), Some(d("2025-07-01")));
}

#[test]
fn escalating_on_the_day_of_the_response_is_accepted() {
    expect_ok(
        given(vec![received(RECEIVED), responded("2025-06-20", 1)])
            .when(now(escalate("2025-06-20"))),
    );
}

#[test]
fn escalating_before_the_response_date_is_refused() {
    given(vec![received(RECEIVED), responded("2025-06-20", 1)])
        .when(now(escalate("2025-06-19")))
        .then_expect_error(out_of_order("escalated_on", "the response", "2025-06-20"));
}

#[test]
fn escalating_without_a_response_is_refused() {
    given(vec![received(RECEIVED), acknowledged("2025-06-03")])
        .when(now(escalate("2025-06-20")))
        .then_expect_error(E::NoResponseToEscalate);
}

#[test]
fn escalating_twice_is_refused() {
    let on_review = vec![
        received(RECEIVED),
        responded("2025-06-20", 1),
        escalated("2025-07-01"),
    ];
    given(on_review.clone())
        .when(now(escalate("2025-07-02")))
        .then_expect_error(E::AlreadyEscalated);
    let reviewed = [on_review, vec![responded("2025-07-20", 2)]].concat();
    given(reviewed)
        .when(now(escalate("2025-07-21")))
        .then_expect_error(E::AlreadyEscalated);
}

#[test]
fn the_review_is_answered_with_a_stage_two_response() {
    let on_review = vec![
        received(RECEIVED),
        responded("2025-06-20", 1),
        escalated("2025-07-01"),
    ];
    given(on_review.clone())
        .when(now(send_response("2025-07-20")))
        .then_expect_events(vec![responded("2025-07-20", 2)]);
    let reviewed = [on_review, vec![responded("2025-07-20", 2)]].concat();
    given(reviewed)
        .when(now(send_response("2025-07-21")))
        .then_expect_error(E::ResponseAlreadySent);
}

#[test]
fn the_review_may_stop_its_own_clock_and_send_a_delay_letter() {
    let on_review = vec![
        received(RECEIVED),
        responded("2025-06-20", 1),
        escalated("2025-07-01"),
    ];
    given(on_review.clone())
        .when(now(stop_clock("2025-07-07")))
        .then_expect_events(vec![clock_stopped("2025-07-07")]);
    given(on_review)
        .when(now(notify_delay("2025-07-07")))
        .then_expect_events(vec![delay_notified("2025-07-07")]);
}
