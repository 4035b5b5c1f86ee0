//! Receiving a complaint (validation, consent default, time limit), accepting it out of time,
//! acknowledging it and grading its risk.

use super::*;
use ComplaintError as E;

#[test]
fn receiving_a_complaint_records_it_with_the_provider_route_by_default() {
    given(vec![])
        .when(now(receive("2026-04-02")))
        .then_expect_events(vec![received("2026-04-02")]);
}

#[test]
fn a_complaint_received_after_the_day_of_issue_is_refused() {
    given(vec![])
        .when(cmd("2026-04-01", receive("2026-04-02")))
        .then_expect_error(in_future("received_on", "2026-04-01"));
}

#[test]
fn subject_areas_and_staff_groups_are_deduplicated_and_sorted() {
    let events = expect_ok(given(vec![]).when(now(ReceiveComplaint {
        subject_areas: vec![
            SubjectArea::WaitingTimes,
            SubjectArea::Communications,
            SubjectArea::WaitingTimes,
            SubjectArea::ClinicalTreatment,
        ],
        staff_groups: vec![StaffGroup::Other, StaffGroup::Medical, StaffGroup::Other],
        ..receive("2026-04-02")
    })));
    let ComplaintEvent::ComplaintReceived {
        subject_areas,
        staff_groups,
        ..
    } = &events[0]
    else {
        panic!("expected ComplaintReceived, got {events:?}");
    };
    assert_eq!(
        subject_areas,
        &[
            SubjectArea::ClinicalTreatment,
            SubjectArea::Communications,
            SubjectArea::WaitingTimes
        ]
    );
    assert_eq!(staff_groups, &[StaffGroup::Medical, StaffGroup::Other]);
}

#[test]
fn a_complaint_without_a_description_is_refused() {
    given(vec![])
        .when(now(ReceiveComplaint {
            description: "   ".into(),
            ..receive("2026-04-02")
        }))
        .then_expect_error(blank("description"));
}

#[test]
fn a_complaint_without_subject_areas_is_refused() {
    given(vec![])
        .when(now(ReceiveComplaint {
            subject_areas: vec![],
            ..receive("2026-04-02")
        }))
        .then_expect_error(invalid(
            "subject_areas",
            "at least one subject area is needed",
        ));
}

#[test]
fn a_malformed_organisation_id_is_refused() {
    let reason = "must be 1 to 64 letters, digits, '-', '_' or '.'";
    for id in ["", "RX1 North", "RX1/2", "RÖ1", &"R".repeat(65)] {
        given(vec![])
            .when(now(ReceiveComplaint {
                organisation_id: id.into(),
                ..receive("2026-04-02")
            }))
            .then_expect_error(invalid("organisation_id", reason));
    }
}

#[test]
fn organisation_ids_of_letters_digits_and_separators_are_accepted() {
    for id in ["RX1", "rx1-north_2.a", &"R".repeat(64)] {
        expect_ok(given(vec![]).when(now(ReceiveComplaint {
            organisation_id: id.into(),
            ..receive("2026-04-02")
        })));
    }
}

#[test]
fn a_person_affected_without_a_representation_basis_is_refused() {
    given(vec![])
        .when(now(ReceiveComplaint {
            person_affected: Some(person("Sam Smith")),
            ..receive("2026-04-02")
        }))
        .then_expect_error(E::RepresentationBasisMissing);
}

#[test]
fn requiring_consent_without_a_representation_basis_is_refused() {
    given(vec![])
        .when(now(ReceiveComplaint {
            consent_required: Some(true),
            ..receive("2026-04-02")
        }))
        .then_expect_error(E::RepresentationBasisMissing);
}

#[test]
fn matter_dates_after_receipt_are_refused() {
    given(vec![])
        .when(now(ReceiveComplaint {
            matter_occurred_on: Some(d("2026-04-03")),
            ..receive("2026-04-02")
        }))
        .then_expect_error(invalid(
            "matter_occurred_on",
            "must not be after received_on",
        ));
    given(vec![])
        .when(now(ReceiveComplaint {
            matter_came_to_notice_on: Some(d("2026-04-03")),
            ..receive("2026-04-02")
        }))
        .then_expect_error(invalid(
            "matter_came_to_notice_on",
            "must not be after received_on",
        ));
}

#[test]
fn matter_dates_on_the_day_of_receipt_are_accepted() {
    expect_ok(given(vec![]).when(now(ReceiveComplaint {
        matter_occurred_on: Some(d("2026-04-02")),
        matter_came_to_notice_on: Some(d("2026-04-02")),
        ..receive("2026-04-02")
    })));
}

fn consent_required_for(basis: Option<RepresentationBasis>, said: Option<bool>) -> bool {
    let case = after(
        vec![],
        now(ReceiveComplaint {
            representation_basis: basis,
            person_affected: basis.map(|_| person("Sam Smith")),
            consent_required: said,
            ..receive("2026-04-02")
        }),
    );
    case.receipt.unwrap().consent_required
}

#[test]
fn consent_is_needed_by_default_only_from_someone_able_to_give_it() {
    use RepresentationBasis::*;
    assert!(!consent_required_for(None, None));
    assert!(!consent_required_for(Some(Deceased), None));
    assert!(!consent_required_for(Some(LacksCapacity), None));
    assert!(consent_required_for(Some(Requested), None));
    assert!(consent_required_for(Some(Child), None));
    assert!(consent_required_for(Some(PhysicalIncapacity), None));
}

#[test]
fn the_caseworker_says_otherwise_about_consent() {
    use RepresentationBasis::*;
    assert!(!consent_required_for(Some(Requested), Some(false)));
    assert!(!consent_required_for(Some(Child), Some(false)));
    assert!(consent_required_for(Some(Deceased), Some(true)));
    assert!(consent_required_for(Some(LacksCapacity), Some(true)));
    assert!(!consent_required_for(None, Some(false)));
}

// R-TL-1 example: matter on 10 Mar 2024, noticed 2 Jun 2024 → limit 2 Jun 2025 inclusive.
fn receive_about_the_example_matter(on: &str) -> ReceiveComplaint {
    ReceiveComplaint {
        matter_occurred_on: Some(d("2024-03-10")),
        matter_came_to_notice_on: Some(d("2024-06-02")),
        ..receive(on)
    }
}

#[test]
fn a_complaint_on_the_last_day_of_the_time_limit_is_in_time() {
    let case = after(vec![], now(receive_about_the_example_matter("2025-06-02")));
    assert_eq!(case.time_limit_ends_on(), Some(d("2025-06-02")));
    assert!(case.in_time());
    assert_eq!(case.status(), Status::Received);
}

#[test]
fn a_complaint_the_day_after_the_time_limit_awaits_a_decision() {
    let case = after(vec![], now(receive_about_the_example_matter("2025-06-03")));
    assert!(!case.in_time());
    assert_eq!(case.status(), Status::AwaitingTimeLimitDecision);
}

#[test]
fn the_time_limit_runs_from_the_later_of_the_two_matter_dates() {
    let occurred_only = ReceiveComplaint {
        matter_occurred_on: Some(d("2024-03-10")),
        ..receive("2025-03-11")
    };
    assert!(!after(vec![], now(occurred_only.clone())).in_time());
    let noticed_later = ReceiveComplaint {
        matter_came_to_notice_on: Some(d("2024-06-02")),
        ..occurred_only
    };
    assert!(after(vec![], now(noticed_later)).in_time());
}

#[test]
fn a_matter_on_29_february_is_in_time_until_28_february() {
    let on = |received: &str| {
        after(
            vec![],
            now(ReceiveComplaint {
                matter_occurred_on: Some(d("2024-02-29")),
                ..receive(received)
            }),
        )
    };
    assert!(on("2025-02-28").in_time());
    assert!(!on("2025-03-01").in_time());
}

#[test]
fn a_complaint_without_matter_dates_counts_as_in_time() {
    let case = fold(vec![received("2020-01-01")]);
    assert_eq!(case.time_limit_ends_on(), None);
    assert!(case.in_time());
}

#[test]
fn an_out_of_time_complaint_is_not_answered_until_accepted() {
    given(vec![received_out_of_time()])
        .when(now(send_response("2025-07-01")))
        .then_expect_error(E::OutOfTimeNotAccepted);
}

#[test]
fn accepting_an_out_of_time_complaint_records_the_decision() {
    given(vec![received_out_of_time()])
        .when(now(accept_out_of_time("2025-06-10")))
        .then_expect_events(vec![out_of_time_accepted("2025-06-10")]);
}

#[test]
fn an_accepted_out_of_time_complaint_may_be_answered() {
    given(vec![
        received_out_of_time(),
        out_of_time_accepted("2025-06-10"),
    ])
    .when(now(send_response("2025-07-01")))
    .then_expect_events(vec![responded("2025-07-01", 1)]);
}

#[test]
fn accepting_an_in_time_complaint_out_of_time_is_refused() {
    given(vec![received("2026-04-02")])
        .when(now(accept_out_of_time("2026-04-03")))
        .then_expect_error(E::NotOutOfTime);
}

#[test]
fn accepting_out_of_time_twice_is_refused() {
    given(vec![
        received_out_of_time(),
        out_of_time_accepted("2025-06-10"),
    ])
    .when(now(accept_out_of_time("2025-06-11")))
    .then_expect_error(E::OutOfTimeAlreadyAccepted);
}

#[test]
fn accepting_out_of_time_needs_both_findings() {
    for (good_reason, fair) in [(false, true), (true, false), (false, false)] {
        given(vec![received_out_of_time()])
            .when(now(AcceptOutOfTime {
                good_reason_for_delay: good_reason,
                fair_investigation_possible: fair,
                ..accept_out_of_time("2025-06-10")
            }))
            .then_expect_error(E::OutOfTimeGroundsNotMet);
    }
}

#[test]
fn an_out_of_time_decision_at_receipt_accepts_the_complaint_on_the_day_of_receipt() {
    let events = expect_ok(given(vec![]).when(now(ReceiveComplaint {
        out_of_time_decision: Some(out_of_time_decision()),
        ..receive_about_the_example_matter("2025-06-03")
    })));
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].name(), "ComplaintReceived");
    assert_eq!(events[1], out_of_time_accepted("2025-06-03"));
    assert_eq!(fold(events).status(), Status::Received);
}

#[test]
fn an_out_of_time_decision_at_receipt_of_an_in_time_complaint_is_refused() {
    given(vec![])
        .when(now(ReceiveComplaint {
            out_of_time_decision: Some(out_of_time_decision()),
            ..receive_about_the_example_matter("2025-06-02")
        }))
        .then_expect_error(E::NotOutOfTime);
}

#[test]
fn an_out_of_time_decision_at_receipt_needs_both_findings() {
    for (good_reason, fair) in [(false, true), (true, false), (false, false)] {
        given(vec![])
            .when(now(ReceiveComplaint {
                out_of_time_decision: Some(OutOfTimeDecision {
                    good_reason_for_delay: good_reason,
                    fair_investigation_possible: fair,
                    ..out_of_time_decision()
                }),
                ..receive_about_the_example_matter("2025-06-03")
            }))
            .then_expect_error(E::OutOfTimeGroundsNotMet);
    }
}

// R-ACK-3: received Thursday 2 April 2026, before Easter → due Thursday 9 April.
#[test]
fn acknowledging_by_the_third_working_day_is_on_time() {
    given(vec![received("2026-04-02")])
        .when(now(acknowledge("2026-04-09")))
        .then_expect_events(vec![acknowledged("2026-04-09")]);
}

#[test]
fn acknowledging_after_the_third_working_day_is_late() {
    given(vec![received("2026-04-02")])
        .when(now(AcknowledgeComplaint {
            discussion_offered: false,
            ..acknowledge("2026-04-10")
        }))
        .then_expect_events(vec![ComplaintEvent::ComplaintAcknowledged {
            acknowledged_on: d("2026-04-10"),
            late: true,
            discussion_offered: false,
        }]);
}

#[test]
fn acknowledging_twice_is_rejected() {
    given(vec![received("2026-04-02"), acknowledged("2026-04-07")])
        .when(now(acknowledge("2026-04-08")))
        .then_expect_error(E::AlreadyAcknowledged);
}

#[test]
fn risk_is_graded_with_the_dh_matrix_by_default() {
    given(vec![received("2026-04-02")])
        .when(now(assess_risk(
            "2026-04-03",
            " Medium ",
            Likelihood::Possible,
        )))
        .then_expect_events(vec![ComplaintEvent::RiskAssessed {
            assessed_on: d("2026-04-03"),
            seriousness: "medium".into(),
            likelihood: Likelihood::Possible,
            rating: RiskRating::High,
            matrix: "dh-2009/1".into(),
        }]);
}

#[test]
fn risk_may_be_graded_by_the_level_number() {
    let events = expect_ok(given(vec![received("2026-04-02")]).when(now(assess_risk(
        "2026-04-03",
        "3",
        Likelihood::Possible,
    ))));
    assert!(matches!(
        &events[0],
        ComplaintEvent::RiskAssessed {
            rating: RiskRating::Extreme,
            ..
        }
    ));
}

#[test]
fn risk_may_be_regraded() {
    let case = after(
        vec![received("2026-04-02"), risk_assessed("2026-04-03")],
        now(assess_risk("2026-05-01", "high", Likelihood::AlmostCertain)),
    );
    let risk = case.risk.unwrap();
    assert_eq!(risk.assessed_on, d("2026-05-01"));
    assert_eq!(risk.rating, RiskRating::Extreme);
}

#[test]
fn an_unknown_seriousness_is_refused() {
    for seriousness in ["severe", "0", "4", ""] {
        given(vec![received("2026-04-02")])
            .when(now(assess_risk(
                "2026-04-03",
                seriousness,
                Likelihood::Rare,
            )))
            .then_expect_error(E::UnknownSeriousness {
                seriousness: seriousness.into(),
                levels: "low, medium, high".into(),
            });
    }
}

#[test]
fn an_organisation_configured_for_the_npsa_matrix_grades_with_it() {
    let services = services_with(OrganisationPolicy::default());
    let history = vec![receipt("2026-04-02").at("NPSA1").event()];
    given_with(services.clone(), history.clone())
        .when(now(assess_risk(
            "2026-04-03",
            "major",
            Likelihood::Unlikely,
        )))
        .then_expect_events(vec![ComplaintEvent::RiskAssessed {
            assessed_on: d("2026-04-03"),
            seriousness: "major".into(),
            likelihood: Likelihood::Unlikely,
            rating: RiskRating::High,
            matrix: "npsa-2008/1".into(),
        }]);
    given_with(services, history)
        .when(now(assess_risk("2026-04-03", "medium", Likelihood::Rare)))
        .then_expect_error(E::UnknownSeriousness {
            seriousness: "medium".into(),
            levels: "negligible, minor, moderate, major, catastrophic".into(),
        });
}

#[test]
fn other_organisations_keep_the_default_matrix_when_one_is_configured() {
    let events = expect_ok(
        given_with(
            services_with(OrganisationPolicy::default()),
            vec![received("2026-04-02")],
        )
        .when(now(assess_risk(
            "2026-04-03",
            "low",
            Likelihood::AlmostCertain,
        ))),
    );
    assert!(matches!(
        &events[0],
        ComplaintEvent::RiskAssessed { rating: RiskRating::Moderate, matrix, .. } if matrix == "dh-2009/1"
    ));
}
