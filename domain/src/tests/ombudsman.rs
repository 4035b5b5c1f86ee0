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

/// `closed_case` (closed 2026-04-21), referred to the PHSO, decided partly upheld on
/// 2026-09-01 with two recommendations: the first due 2026-10-01, the second undated.
fn decided_with_recommendations() -> Vec<ComplaintEvent> {
    [
        closed_case(),
        vec![
            referred(Ombudsman::Phso, "2026-05-01"),
            ComplaintEvent::OmbudsmanDecisionRecorded {
                ombudsman: Ombudsman::Phso,
                decided_on: d("2026-09-01"),
                decision: OmbudsmanDecision::PartlyUpheld,
                recommendations: vec![
                    Recommendation {
                        description: "Apologise.".into(),
                        due_on: Some(d("2026-10-01")),
                    },
                    Recommendation {
                        description: "Review discharge checks.".into(),
                        due_on: None,
                    },
                ],
            },
        ],
    ]
    .concat()
}

fn done(number: u32, on: &str) -> RecordRecommendationDone {
    RecordRecommendationDone {
        recommendation: number,
        done_on: d(on),
        what_was_done: "Apology letter sent by the chief executive.".into(),
    }
}

fn recommendation_rows(case: &Complaint, today: &str) -> Vec<DeadlineStatus> {
    deadline_statuses(case, &services(), d(today))
        .into_iter()
        .filter(|s| s.kind == DeadlineKind::OmbudsmanRecommendation)
        .collect()
}

#[test]
fn r_omb_2_recommendations_keep_their_due_dates_and_are_tracked_until_done() {
    let case = fold(decided_with_recommendations());
    assert_eq!(case.recommendations.len(), 2);
    assert_eq!(case.recommendations[0].due_on, Some(d("2026-10-01")));
    let rows = recommendation_rows(&case, "2026-09-30");
    assert_eq!(
        rows.iter()
            .map(|r| (r.item, r.due_on, r.state))
            .collect::<Vec<_>>(),
        vec![
            (Some(1), Some(d("2026-10-01")), DeadlineState::Pending),
            (Some(2), None, DeadlineState::Pending),
        ]
    );
    assert_eq!(
        recommendation_rows(&case, "2026-10-02")[0].state,
        DeadlineState::Missed,
        "overdue once past due"
    );
}

#[test]
fn r_omb_2_a_recommendation_done_is_recorded_with_a_learning_action() {
    given(decided_with_recommendations())
        .when(now(done(1, "2026-09-20")))
        .then_expect_events(vec![
            ComplaintEvent::RecommendationDone {
                recommendation: 1,
                done_on: d("2026-09-20"),
                what_was_done: "Apology letter sent by the chief executive.".into(),
            },
            ComplaintEvent::LearningRecorded {
                recorded_on: d("2026-09-20"),
                kind: LearningKind::Action,
                summary: "Apology letter sent by the chief executive.".into(),
                action_due_on: None,
            },
        ]);
    let case = after(decided_with_recommendations(), now(done(1, "2026-09-20")));
    let rows = recommendation_rows(&case, "2026-12-01");
    assert_eq!(
        (rows[0].state, rows[0].met_on),
        (DeadlineState::MetOnTime, Some(d("2026-09-20")))
    );
    assert_eq!(rows[1].state, DeadlineState::Pending);
    assert_eq!(case.learning.last().unwrap().kind, LearningKind::Action);
    assert!(case.is_closed(), "the closed complaint stays closed");
}

#[test]
fn r_omb_2_an_unknown_or_done_recommendation_is_refused() {
    given(decided_with_recommendations())
        .when(now(done(3, "2026-09-20")))
        .then_expect_error(E::UnknownRecommendation { number: 3 });
    let history = [
        decided_with_recommendations(),
        vec![ComplaintEvent::RecommendationDone {
            recommendation: 2,
            done_on: d("2026-09-20"),
            what_was_done: "Checks reviewed.".into(),
        }],
    ]
    .concat();
    given(history)
        .when(now(done(2, "2026-09-21")))
        .then_expect_error(E::RecommendationAlreadyDone { number: 2 });
    given(decided_with_recommendations())
        .when(now(done(1, "2026-08-31")))
        .then_expect_error(out_of_order(
            "done_on",
            "the ombudsman's decision",
            "2026-09-01",
        ));
    given(decided_with_recommendations())
        .when(now(RecordRecommendationDone {
            what_was_done: " ".into(),
            ..done(1, "2026-09-20")
        }))
        .then_expect_error(blank("what_was_done"));
}

#[test]
fn r_ret_1_retention_counts_from_the_later_of_closure_and_the_ombudsmans_final_decision() {
    let services = services();
    // Closed 2026-04-21; referral pending: the follow-on process has not ended.
    let pending = fold([closed_case(), vec![referred(Ombudsman::Phso, "2026-05-01")]].concat());
    assert_eq!(
        deadlines(&pending, &services).unwrap().retention_review_due,
        None
    );
    let decided = fold(decided_with_recommendations());
    assert_eq!(
        deadlines(&decided, &services).unwrap().retention_review_due,
        Some(d("2036-09-01"))
    );
    // A decision before the local closure: the closure is the later date.
    let early = fold(
        [
            responded_case(),
            vec![
                referred(Ombudsman::Phso, "2026-04-21"),
                ombudsman_decided(Ombudsman::Phso, "2026-04-22"),
                closed("2026-05-01", ClosureReason::Resolved),
            ],
        ]
        .concat(),
    );
    assert_eq!(
        deadlines(&early, &services).unwrap().retention_review_due,
        Some(d("2036-05-01"))
    );
    // Still suspended by a legal hold.
    let held = fold(
        [
            decided_with_recommendations(),
            vec![ComplaintEvent::LegalHoldPlaced {
                placed_on: d("2026-09-05"),
                ground: LegalHoldGround::Ombudsman,
                note: Confidential("PHSO follow-up".into()),
            }],
        ]
        .concat(),
    );
    assert_eq!(
        deadlines(&held, &services).unwrap().retention_review_due,
        None
    );
}
