//! Who complains (R-WHO-1, R-WHO-3, R-WHO-4): the footing recorded at receipt, and the
//! finding of reasonable grounds before a child's representative's complaint is considered.

use super::*;
use ComplaintError as E;

fn for_a_child() -> ComplaintEvent {
    receipt("2026-04-02")
        .for_(RepresentationBasis::Child, true)
        .event()
}

fn grounds(on: &str, satisfied: bool) -> DecideRepresentativeGrounds {
    DecideRepresentativeGrounds {
        decided_on: d(on),
        satisfied,
        reasons: "The child, aged 9, cannot complain herself.".into(),
        decided_by: "cm-12".into(),
    }
}

fn grounds_decided(on: &str, satisfied: bool) -> ComplaintEvent {
    ComplaintEvent::RepresentativeGroundsDecided {
        decided_on: d(on),
        satisfied,
        reasons: Confidential("The child, aged 9, cannot complain herself.".into()),
        decided_by: "cm-12".into(),
    }
}

#[test]
fn r_who_1_the_footing_of_the_complaint_is_recorded_with_the_receipt() {
    let events = expect_ok(given(vec![]).when(now(ReceiveComplaint {
        eligibility: Some(Eligibility::ServiceUser),
        ..receive("2026-04-02")
    })));
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[1],
        ComplaintEvent::ComplaintClassified {
            eligibility: Some(Eligibility::ServiceUser),
            patient_age_band: None,
            complainant_status: None,
            site: None,
        }
    );
    let case = fold(events);
    assert_eq!(
        case.receipt.unwrap().eligibility,
        Some(Eligibility::ServiceUser)
    );
}

#[test]
fn r_who_1_a_representative_needs_a_basis_and_only_a_representative_has_one() {
    given(vec![])
        .when(now(ReceiveComplaint {
            eligibility: Some(Eligibility::Representative),
            ..receive("2026-04-02")
        }))
        .then_expect_error(E::RepresentationBasisMissing);
    given(vec![])
        .when(now(ReceiveComplaint {
            eligibility: Some(Eligibility::PersonAffected),
            representation_basis: Some(RepresentationBasis::Deceased),
            ..receive("2026-04-02")
        }))
        .then_expect_error(invalid(
            "eligibility",
            "a complaint with a representation basis is made by a representative",
        ));
}

#[test]
fn r_who_3_a_childs_representatives_complaint_is_not_considered_before_grounds_are_found() {
    let history = vec![
        for_a_child(),
        acknowledged("2026-04-07"),
        consent_given("2026-04-08"),
    ];
    assert_eq!(
        fold(history.clone()).status(),
        Status::AwaitingRepresentativeGrounds
    );
    given(history.clone())
        .when(now(send_response("2026-04-20")))
        .then_expect_error(E::RepresentativeGroundsNotFound);
    given(history.clone())
        .when(now(agree_plan("2026-04-08", "2026-05-29")))
        .then_expect_error(E::RepresentativeGroundsNotFound);
    given(history.clone())
        .when(now(stop_clock("2026-04-09")))
        .then_expect_error(E::RepresentativeGroundsNotFound);
    // The statutory acts owed on receipt are not consideration: still allowed.
    expect_ok(given(vec![for_a_child()]).when(now(acknowledge("2026-04-07"))));
    expect_ok(given(vec![for_a_child()]).when(now(request_consent("2026-04-03"))));
}

#[test]
fn r_who_3_once_grounds_are_found_the_complaint_is_considered() {
    let mut history = vec![for_a_child(), acknowledged("2026-04-07")];
    history.extend(expect_ok(
        given(history.clone()).when(now(grounds("2026-04-08", true))),
    ));
    history.push(consent_given("2026-04-08"));
    assert_eq!(fold(history.clone()).status(), Status::Investigating);
    expect_ok(given(history.clone()).when(now(send_response("2026-04-20"))));
    given(history)
        .when(now(grounds("2026-04-09", false)))
        .then_expect_error(E::RepresentativeGroundsAlreadyDecided);
}

#[test]
fn r_who_3_grounds_not_found_close_the_complaint_and_owe_the_letter_with_reasons() {
    given(vec![for_a_child()])
        .when(now(grounds("2026-04-06", false)))
        .then_expect_events(vec![
            grounds_decided("2026-04-06", false),
            ComplaintEvent::ComplaintClosed {
                closed_on: d("2026-04-06"),
                reason: ClosureReason::RepresentativeGroundsNotFound,
                exclusion_category: None,
                transferred_to: None,
                resolved_on: None,
            },
        ]);
    let case = after(vec![for_a_child()], now(grounds("2026-04-06", false)));
    let letter = deadline_statuses(&case, &services(), d("2026-04-07"))
        .into_iter()
        .find(|s| s.kind == DeadlineKind::Letter)
        .unwrap();
    assert_eq!(letter.letter, Some(LetterKind::ChildGroundsRefusal));
    assert_eq!(letter.due_on, Some(d("2026-04-09")), "3 working days on");
    assert_eq!(letter.state, DeadlineState::Pending);
}

#[test]
fn r_who_3_only_a_childs_representatives_complaint_needs_grounds() {
    for history in [
        vec![received("2026-04-02")],
        vec![receipt("2026-04-02")
            .for_(RepresentationBasis::LacksCapacity, false)
            .event()],
    ] {
        given(history)
            .when(now(grounds("2026-04-06", true)))
            .then_expect_error(E::RepresentativeGroundsNotApplicable);
    }
    given(vec![for_a_child(), grounds_decided("2026-04-03", true)])
        .when(now(close(
            "2026-04-06",
            ClosureReason::RepresentativeGroundsNotFound,
        )))
        .then_expect_error(not_applicable(
            ClosureReason::RepresentativeGroundsNotFound,
            "applies only to a child's representative's complaint without grounds found",
        ));
    given(vec![for_a_child()])
        .when(now(grounds("2026-04-06", false)))
        .inspect_result()
        .unwrap();
    given(vec![for_a_child()])
        .when(now(DecideRepresentativeGrounds {
            reasons: " ".into(),
            ..grounds("2026-04-06", false)
        }))
        .then_expect_error(blank("reasons"));
}

#[test]
fn r_who_4_a_representative_not_in_best_interests_closes_with_a_letter_owed() {
    let case = after(
        vec![for_a_child()],
        now(close(
            "2026-04-10",
            ClosureReason::RepresentativeNotInBestInterests,
        )),
    );
    let letter = deadline_statuses(&case, &services(), d("2026-04-10"))
        .into_iter()
        .find(|s| s.kind == DeadlineKind::Letter)
        .unwrap();
    assert_eq!(letter.letter, Some(LetterKind::NotInBestInterests));
    assert_eq!(letter.state, DeadlineState::Pending);
}
