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

// Received Monday 2 June 2025: with the default 25 working days the response is due 7 July.
#[test]
fn a_referral_before_any_response_is_refused_until_the_response_is_overdue() {
    given(vec![received("2025-06-02")])
        .when(now(refer(Ombudsman::Phso, "2025-07-07")))
        .then_expect_error(E::ReferralBeforeFinalResponse {
            response_due: "2025-07-07".into(),
        });
    given(vec![received("2025-06-02")])
        .when(now(refer(Ombudsman::Phso, "2025-07-08")))
        .then_expect_events(vec![referred(Ombudsman::Phso, "2025-07-08")]);
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
fn a_referral_before_any_response_is_refused_while_the_clock_is_stopped() {
    given(vec![received("2025-06-02"), clock_stopped("2025-06-09")])
        .when(now(refer(Ombudsman::Phso, "2025-12-01")))
        .then_expect_error(E::ReferralBeforeFinalResponse {
            response_due: "not set while the clock is stopped".into(),
        });
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
fn a_second_open_referral_to_the_same_ombudsman_is_refused() {
    given(with_referral())
        .when(now(refer(Ombudsman::Phso, "2026-05-02")))
        .then_expect_error(E::AlreadyReferred {
            ombudsman: "PHSO".into(),
        });
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
fn a_decision_without_a_referral_is_refused() {
    given(responded_case())
        .when(now(record_decision(Ombudsman::Phso, "2026-06-01")))
        .then_expect_error(E::NotReferred {
            ombudsman: "PHSO".into(),
        });
    given(with_referral())
        .when(now(record_decision(Ombudsman::Lgsco, "2026-06-01")))
        .then_expect_error(E::NotReferred {
            ombudsman: "LGSCO".into(),
        });
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
