//! Ombudsman referrals and decisions (R-OMB-1, R-OMB-2) and learning (R-AR-1 items 5 and 6).

use super::*;
use ComplaintError as E;

fn with_referral() -> Vec<ComplaintEvent> {
    [
        responded_case(),
        vec![referred(Ombudsman::Phso, "2026-05-01")],
    ]
    .concat()
}

#[test]
fn a_referral_after_the_response_is_recorded() {
    given(responded_case())
        .when(now(ReferToOmbudsman {
            ombudsman_reference: Some("PHSO-1234".into()),
            ..refer(Ombudsman::Phso, "2026-05-01")
        }))
        .then_expect_events(vec![ComplaintEvent::ReferredToOmbudsman {
            ombudsman: Ombudsman::Phso,
            informed_on: d("2026-05-01"),
            ombudsman_reference: Some("PHSO-1234".into()),
        }]);
}

#[test]
fn a_blank_ombudsman_reference_is_dropped() {
    given(responded_case())
        .when(now(ReferToOmbudsman {
            ombudsman_reference: Some("  ".into()),
            ..refer(Ombudsman::Phso, "2026-05-01")
        }))
        .then_expect_events(vec![referred(Ombudsman::Phso, "2026-05-01")]);
}

#[test]
fn a_referral_before_any_response_follows_the_agreed_response_date() {
    let history = vec![
        received("2025-06-02"),
        plan_agreed("2025-06-04", "2025-06-30"),
    ];
    given(history)
        .when(now(refer(Ombudsman::Phso, "2025-07-01")))
        .then_expect_events(vec![referred(Ombudsman::Phso, "2025-07-01")]);
}

#[test]
fn a_referral_on_a_closed_complaint_is_recorded_and_it_stays_closed() {
    let case = after(closed_case(), now(refer(Ombudsman::Phso, "2026-06-01")));
    assert_eq!(case.referrals.len(), 1);
    assert_eq!(case.status(), Status::Closed);
}

#[test]
fn a_referral_on_a_complaint_closed_without_a_response_is_recorded() {
    // Closed locally without a response (here withdrawn), well inside the response period.
    let history = vec![
        received("2026-04-02"),
        closed("2026-04-03", ClosureReason::Withdrawn),
    ];
    let case = after(history, now(refer(Ombudsman::Phso, "2026-04-10")));
    assert_eq!(case.referrals.len(), 1);
    assert_eq!(case.status(), Status::Closed);
}

#[test]
fn a_referral_to_the_other_ombudsman_is_recorded_alongside() {
    given(with_referral())
        .when(now(refer(Ombudsman::Lgsco, "2026-05-02")))
        .then_expect_events(vec![referred(Ombudsman::Lgsco, "2026-05-02")]);
}

#[test]
fn a_new_referral_after_a_decision_is_recorded() {
    let history = [
        with_referral(),
        vec![ombudsman_decided(Ombudsman::Phso, "2026-06-01")],
    ]
    .concat();
    given(history)
        .when(now(refer(Ombudsman::Phso, "2026-07-01")))
        .then_expect_events(vec![referred(Ombudsman::Phso, "2026-07-01")]);
}

#[test]
fn the_ombudsmans_decision_is_recorded_with_its_recommendations() {
    let recommendations = vec![Recommendation {
        description: "Apologise and review discharge checks.".into(),
        due_on: Some(d("2026-09-01")),
    }];
    // The recommendation falls due after the day the decision is recorded.
    given(with_referral())
        .when(cmd(
            "2026-06-01",
            RecordOmbudsmanDecision {
                decision: OmbudsmanDecision::PartlyUpheld,
                recommendations: recommendations.clone(),
                ..record_decision(Ombudsman::Phso, "2026-06-01")
            },
        ))
        .then_expect_events(vec![ComplaintEvent::OmbudsmanDecisionRecorded {
            ombudsman: Ombudsman::Phso,
            decided_on: d("2026-06-01"),
            decision: OmbudsmanDecision::PartlyUpheld,
            recommendations,
        }]);
}

#[test]
fn recording_the_decision_twice_is_refused() {
    let history = [
        with_referral(),
        vec![ombudsman_decided(Ombudsman::Phso, "2026-06-01")],
    ]
    .concat();
    given(history)
        .when(now(record_decision(Ombudsman::Phso, "2026-06-02")))
        .then_expect_error(E::OmbudsmanDecisionAlreadyRecorded {
            ombudsman: "PHSO".into(),
        });
}

#[test]
fn a_decision_before_the_body_was_informed_is_refused() {
    given(with_referral())
        .when(now(record_decision(Ombudsman::Phso, "2026-04-30")))
        .then_expect_error(out_of_order("decided_on", "informed_on", "2026-05-01"));
}

#[test]
fn a_decision_on_a_closed_complaint_is_recorded_and_it_stays_closed() {
    let history = [
        closed_case(),
        vec![referred(Ombudsman::Lgsco, "2026-05-01")],
    ]
    .concat();
    let case = after(
        history,
        now(record_decision(Ombudsman::Lgsco, "2026-06-01")),
    );
    assert_eq!(
        case.referrals[0].decision,
        Some(OmbudsmanDecision::NotUpheld)
    );
    assert_eq!(case.status(), Status::Closed);
}

#[test]
fn learning_is_recorded_on_an_open_complaint() {
    given(vec![received("2026-04-02")])
        .when(now(record_learning("2026-04-10")))
        .then_expect_events(vec![learning_recorded("2026-04-10")]);
}

#[test]
fn learning_is_recorded_on_a_closed_complaint() {
    let case = after(closed_case(), now(record_learning("2026-05-10")));
    assert_eq!(case.learning.len(), 1);
    assert_eq!(case.status(), Status::Closed);
}

#[test]
fn an_action_may_fall_due_after_today() {
    given(vec![received("2026-04-02")])
        .when(cmd(
            "2026-04-10",
            RecordLearning {
                kind: LearningKind::Action,
                action_due_on: Some(d("2026-07-01")),
                ..record_learning("2026-04-10")
            },
        ))
        .then_expect_events(vec![ComplaintEvent::LearningRecorded {
            recorded_on: d("2026-04-10"),
            kind: LearningKind::Action,
            summary: "Check addresses at discharge.".into(),
            action_due_on: Some(d("2026-07-01")),
        }]);
}

#[test]
fn a_lesson_with_a_due_date_is_refused() {
    given(vec![received("2026-04-02")])
        .when(now(RecordLearning {
            action_due_on: Some(d("2026-07-01")),
            ..record_learning("2026-04-10")
        }))
        .then_expect_error(invalid("action_due_on", "only an action has a due date"));
}

// Received Monday 2 June 2025: with the default 25 working days the internal target is 7 July.
#[test]
fn r_omb_1_a_referral_before_the_response_is_due_is_recorded_with_a_warning() {
    let early = after(
        vec![received("2025-06-02")],
        now(refer(Ombudsman::Phso, "2025-07-07")),
    );
    assert_eq!(codes(&early), vec!["referral-before-response"]);
    let overdue = after(
        vec![received("2025-06-02")],
        now(refer(Ombudsman::Phso, "2025-07-08")),
    );
    assert!(
        codes(&overdue).is_empty(),
        "an overdue response is R-OMB-1's own case"
    );
}

#[test]
fn r_omb_2_a_decision_with_no_referral_on_record_is_kept_and_flagged() {
    let case = after(
        responded_case(),
        now(record_decision(Ombudsman::Phso, "2026-06-01")),
    );
    assert_eq!(case.decisions_without_referral.len(), 1);
    assert!(case.referrals.is_empty(), "no referral is invented");
    assert_eq!(codes(&case), vec!["decision-without-referral"]);
}

fn codes(case: &Complaint) -> Vec<&'static str> {
    warnings(case, &services())
        .into_iter()
        .map(|w| w.code)
        .collect()
}
