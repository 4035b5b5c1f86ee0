//! Allocation to a caseworker: internal work on an open case, by sign-in subject, the latest
//! allocation winning.

use super::*;

fn assign(on: &str, caseworker: &str) -> AssignCaseworker {
    AssignCaseworker {
        assigned_on: d(on),
        caseworker: caseworker.into(),
    }
}

fn assigned(on: &str, caseworker: &str) -> ComplaintEvent {
    ComplaintEvent::CaseworkerAssigned {
        assigned_on: d(on),
        caseworker: caseworker.into(),
    }
}

#[test]
fn an_open_complaint_is_assigned_by_trimmed_subject() {
    given(vec![received("2026-04-02")])
        .when(now(assign("2026-04-03", "  cw-alice@trust  ")))
        .then_expect_events(vec![assigned("2026-04-03", "cw-alice@trust")]);
    let case = after(
        vec![received("2026-04-02")],
        now(assign("2026-04-03", "cw-alice@trust")),
    );
    assert_eq!(case.assigned_to.as_deref(), Some("cw-alice@trust"));
}

#[test]
fn reassignment_moves_the_case_and_the_same_caseworker_again_changes_nothing() {
    let history = vec![received("2026-04-02"), assigned("2026-04-03", "cw-alice")];
    let moved = after(history.clone(), now(assign("2026-04-10", "cw-bob")));
    assert_eq!(moved.assigned_to.as_deref(), Some("cw-bob"));

    let again = after(history.clone(), now(assign("2026-04-10", "cw-alice")));
    assert_eq!(again.assigned_to, fold(history).assigned_to);
}

#[test]
fn a_blank_or_overlong_subject_is_refused_by_name() {
    let refusal = ComplaintError::InvalidField {
        field: "caseworker",
        reason: "must be the caseworker's sign-in subject, 1 to 200 characters".into(),
    };
    given(vec![received("2026-04-02")])
        .when(now(assign("2026-04-03", "   ")))
        .then_expect_error(refusal.clone());
    given(vec![received("2026-04-02")])
        .when(now(assign("2026-04-03", &"a".repeat(201))))
        .then_expect_error(refusal);
    // 200 characters, multi-byte ones counted as one each, is the longest accepted.
    let longest = "é".repeat(200);
    given(vec![received("2026-04-02")])
        .when(now(assign("2026-04-03", &longest)))
        .then_expect_events(vec![assigned("2026-04-03", &longest)]);
}

#[test]
fn a_closed_complaint_is_refused_as_risk_grading_is() {
    given(closed_case())
        .when(now(assign("2026-04-22", "cw-alice")))
        .then_expect_error(ComplaintError::AlreadyClosed);
    let mut reopened_case = closed_case();
    reopened_case.push(reopened("2026-04-25"));
    given(reopened_case)
        .when(now(assign("2026-04-26", "cw-alice")))
        .then_expect_events(vec![assigned("2026-04-26", "cw-alice")]);
}

#[test]
fn an_unreceived_complaint_or_a_day_before_receipt_is_refused() {
    given(vec![])
        .when(now(assign("2026-04-03", "cw-alice")))
        .then_expect_error(ComplaintError::NotReceived);
    given(vec![received("2026-04-02")])
        .when(now(assign("2026-04-01", "cw-alice")))
        .then_expect_error(ComplaintError::DateBeforeReceipt {
            field: "assigned_on",
            received_on: d("2026-04-02"),
        });
    given(vec![received("2026-04-02")])
        .when(cmd("2026-04-05", assign("2026-04-06", "cw-alice")))
        .then_expect_error(ComplaintError::DateInFuture {
            field: "assigned_on",
            today: d("2026-04-05"),
        });
}

#[test]
fn the_event_matches_its_schema_and_carries_no_personal_data() {
    let event = assigned("2026-04-03", "cw-alice");
    conform(std::slice::from_ref(&event));
    assert_eq!(event.event_version(), "1.0");
    assert!(!ComplaintEvent::carries_personal_data("CaseworkerAssigned"));
}
