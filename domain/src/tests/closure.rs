//! Closing a complaint: when each closure reason applies; and reopening it.

use super::*;
use ClosureReason as Why;
use ComplaintError as E;

fn closing(
    history: Vec<ComplaintEvent>,
    command: CloseComplaint,
) -> Result<Vec<ComplaintEvent>, ComplaintError> {
    given(history).when(now(command)).inspect_result()
}

fn excluded(on: &str, category: ExclusionCategory) -> CloseComplaint {
    CloseComplaint {
        exclusion_category: Some(category),
        ..close(on, Why::Excluded)
    }
}

fn transferred(on: &str, to: Option<&str>) -> CloseComplaint {
    CloseComplaint {
        transferred_to: to.map(String::from),
        ..close(on, Why::Transferred)
    }
}

#[test]
fn a_complaint_may_be_withdrawn_at_any_stage_while_open() {
    given(vec![received("2026-04-02")])
        .when(now(close("2026-04-03", Why::Withdrawn)))
        .then_expect_events(vec![closed("2026-04-03", Why::Withdrawn)]);
    expect_ok(given(responded_case()).when(now(close("2026-04-21", Why::Withdrawn))));
}

#[test]
fn a_complaint_is_resolved_only_after_a_response() {
    given(vec![received("2026-04-02"), acknowledged("2026-04-07")])
        .when(now(close("2026-04-20", Why::Resolved)))
        .then_expect_error(E::ResolvedWithoutResponse);
    given(responded_case())
        .when(now(close("2026-04-21", Why::Resolved)))
        .then_expect_events(vec![closed("2026-04-21", Why::Resolved)]);
}

#[test]
fn a_complaint_at_review_is_resolved_only_after_the_review_response() {
    let on_review = [responded_case(), vec![escalated("2026-05-01")]].concat();
    given(on_review.clone())
        .when(now(close("2026-05-02", Why::Resolved)))
        .then_expect_error(E::ResolvedWithoutResponse);
    let reviewed = [on_review, vec![responded("2026-05-20", 2)]].concat();
    expect_ok(given(reviewed).when(now(close("2026-05-21", Why::Resolved))));
}

#[test]
fn consent_not_received_applies_only_while_consent_is_outstanding() {
    let no_consent = not_applicable(Why::ConsentNotReceived, "no consent is outstanding");
    assert_eq!(
        closing(
            vec![received("2026-04-02")],
            close("2026-04-20", Why::ConsentNotReceived)
        ),
        Err(no_consent.clone())
    );
    assert_eq!(
        closing(
            vec![
                received_needing_consent("2026-04-02"),
                consent_given("2026-04-08")
            ],
            close("2026-04-20", Why::ConsentNotReceived)
        ),
        Err(no_consent)
    );
    for history in [
        vec![received_needing_consent("2026-04-02")],
        vec![
            received_needing_consent("2026-04-02"),
            consent_refused("2026-04-08"),
        ],
    ] {
        assert_eq!(
            closing(history, close("2026-04-20", Why::ConsentNotReceived)),
            Ok(vec![closed("2026-04-20", Why::ConsentNotReceived)])
        );
    }
}

#[test]
fn out_of_time_applies_only_to_an_out_of_time_complaint_not_accepted() {
    let in_time = not_applicable(
        Why::OutOfTime,
        "the complaint is in time or was accepted out of time",
    );
    assert_eq!(
        closing(
            vec![received("2026-04-02")],
            close("2026-04-20", Why::OutOfTime)
        ),
        Err(in_time.clone())
    );
    assert_eq!(
        closing(
            vec![received_out_of_time(), out_of_time_accepted("2025-06-10")],
            close("2025-06-20", Why::OutOfTime)
        ),
        Err(in_time)
    );
    assert_eq!(
        closing(
            vec![received_out_of_time()],
            close("2025-06-20", Why::OutOfTime)
        ),
        Ok(vec![closed("2025-06-20", Why::OutOfTime)])
    );
}

#[test]
fn an_exclusion_needs_its_category() {
    given(vec![received("2026-04-02")])
        .when(now(close("2026-04-03", Why::Excluded)))
        .then_expect_error(invalid(
            "exclusion_category",
            "an excluded complaint needs its regulation 8(1) category",
        ));
}

#[test]
fn an_exclusion_records_its_category() {
    for category in ExclusionCategory::ALL
        .iter()
        .filter(|c| **c != ExclusionCategory::OralResolvedNextWorkingDay)
    {
        given(vec![received("2026-04-02")])
            .when(now(excluded("2026-04-20", *category)))
            .then_expect_events(vec![ComplaintEvent::ComplaintClosed {
                closed_on: d("2026-04-20"),
                reason: Why::Excluded,
                exclusion_category: Some(*category),
                transferred_to: None,
                resolved_on: None,
            }]);
    }
}

// Reg 8(1)(c): made by phone on Thursday 17 April 2025; Good Friday and Easter Monday follow,
// so the next working day is Tuesday 22 April.
#[test]
fn an_oral_complaint_resolved_by_the_next_working_day_is_excluded() {
    let by_phone = receipt("2025-04-17").by(Channel::OralPhone).event();
    for on in ["2025-04-17", "2025-04-22"] {
        expect_ok(given(vec![by_phone.clone()]).when(now(excluded(
            on,
            ExclusionCategory::OralResolvedNextWorkingDay,
        ))));
    }
    let in_person = receipt("2025-04-17").by(Channel::OralInPerson).event();
    expect_ok(given(vec![in_person]).when(now(excluded(
        "2025-04-22",
        ExclusionCategory::OralResolvedNextWorkingDay,
    ))));
}

#[test]
fn an_oral_complaint_resolved_after_the_next_working_day_is_not_excluded() {
    given(vec![receipt("2025-04-17").by(Channel::OralPhone).event()])
        .when(now(excluded(
            "2025-04-23",
            ExclusionCategory::OralResolvedNextWorkingDay,
        )))
        .then_expect_error(not_applicable(
            Why::Excluded,
            "an oral complaint must be resolved by the next working day (2025-04-22)",
        ));
}

#[test]
fn a_written_complaint_is_not_excluded_as_resolved_orally() {
    for channel in [
        Channel::Letter,
        Channel::Email,
        Channel::TextMessage,
        Channel::WebForm,
        Channel::Other,
    ] {
        given(vec![receipt("2025-04-17").by(channel).event()])
            .when(now(excluded(
                "2025-04-17",
                ExclusionCategory::OralResolvedNextWorkingDay,
            )))
            .then_expect_error(not_applicable(
                Why::Excluded,
                "the complaint was not made orally",
            ));
    }
}

#[test]
fn a_transfer_names_another_valid_organisation() {
    let history = || vec![received("2026-04-02")];
    let malformed = "must be 1 to 64 letters, digits, '-', '_' or '.'";
    let same = "a complaint is transferred to another organisation";
    for (to, error) in [
        (None, invalid("transferred_to", malformed)),
        (Some(" "), invalid("transferred_to", malformed)),
        (Some("RY 2"), invalid("transferred_to", malformed)),
        (Some(ORG), invalid("transferred_to", same)),
        (Some(" RX1 "), invalid("transferred_to", same)),
    ] {
        assert_eq!(
            closing(history(), transferred("2026-04-03", to)),
            Err(error),
            "{to:?}"
        );
    }
    assert_eq!(
        closing(history(), transferred("2026-04-03", Some(" RY2 "))),
        Ok(vec![ComplaintEvent::ComplaintClosed {
            closed_on: d("2026-04-03"),
            reason: Why::Transferred,
            exclusion_category: None,
            transferred_to: Some("RY2".into()),
            resolved_on: None,
        }])
    );
}

#[test]
fn a_representative_not_in_best_interests_applies_only_to_a_child_or_a_person_lacking_capacity() {
    use RepresentationBasis::*;
    let why = "applies only to a representative of a child or a person lacking capacity";
    let for_ = |basis: Option<RepresentationBasis>| {
        let facts = receipt("2026-04-02");
        vec![match basis {
            Some(basis) => facts.for_(basis, false).event(),
            None => facts.event(),
        }]
    };
    for basis in [Child, LacksCapacity] {
        assert_eq!(
            closing(
                for_(Some(basis)),
                close("2026-04-10", Why::RepresentativeNotInBestInterests)
            ),
            Ok(vec![closed(
                "2026-04-10",
                Why::RepresentativeNotInBestInterests
            )])
        );
    }
    for basis in [
        None,
        Some(Deceased),
        Some(PhysicalIncapacity),
        Some(Requested),
    ] {
        assert_eq!(
            closing(
                for_(basis),
                close("2026-04-10", Why::RepresentativeNotInBestInterests)
            ),
            Err(not_applicable(Why::RepresentativeNotInBestInterests, why)),
            "{basis:?}"
        );
    }
}

#[test]
fn an_exclusion_category_with_another_reason_is_refused() {
    given(vec![received("2026-04-02")])
        .when(now(CloseComplaint {
            exclusion_category: Some(ExclusionCategory::FreedomOfInformation),
            ..close("2026-04-03", Why::Withdrawn)
        }))
        .then_expect_error(invalid(
            "exclusion_category",
            "only an excluded complaint has an exclusion category",
        ));
}

#[test]
fn a_receiving_organisation_with_another_reason_is_refused() {
    given(vec![received("2026-04-02")])
        .when(now(CloseComplaint {
            transferred_to: Some("RY2".into()),
            ..close("2026-04-03", Why::Withdrawn)
        }))
        .then_expect_error(invalid(
            "transferred_to",
            "only a transferred complaint has a receiving organisation",
        ));
}

#[test]
fn reopening_a_closed_complaint_reopens_it() {
    given(closed_case())
        .when(now(reopen("2026-05-01")))
        .then_expect_events(vec![reopened("2026-05-01")]);
    let case = fold([closed_case(), vec![reopened("2026-05-01")]].concat());
    assert!(!case.is_closed());
    assert_eq!(case.reopened_on, vec![d("2026-05-01")]);
}

#[test]
fn reopening_on_the_day_of_closure_is_accepted() {
    expect_ok(given(closed_case()).when(now(reopen("2026-04-21"))));
}

#[test]
fn a_reopened_complaint_may_be_closed_again() {
    given([closed_case(), vec![reopened("2026-05-01")]].concat())
        .when(now(close("2026-05-20", Why::Resolved)))
        .then_expect_events(vec![closed("2026-05-20", Why::Resolved)]);
}

#[test]
fn a_reopened_complaint_accepts_commands_again() {
    let history = [closed_case(), vec![reopened("2026-05-01")]].concat();
    expect_ok(given(history.clone()).when(now(assess_risk("2026-05-02", "low", Likelihood::Rare))));
    expect_ok(given(history).when(now(escalate("2026-05-02"))));
}

fn resolve_orally(resolved_on: &str, closed_on: &str) -> RecordOralResolution {
    RecordOralResolution {
        resolved_on: d(resolved_on),
        closed_on: d(closed_on),
    }
}

// Made by phone on Thursday 17 April 2025: the next working day is Tuesday 22 April.
#[test]
fn r_excl_2_an_oral_resolution_recorded_after_the_cut_off_is_judged_by_the_day_it_was_resolved() {
    let by_phone = receipt("2025-04-17").by(Channel::OralPhone).event();
    given(vec![by_phone])
        .when(now(resolve_orally("2025-04-22", "2025-04-25")))
        .then_expect_events(vec![ComplaintEvent::ComplaintClosed {
            closed_on: d("2025-04-25"),
            reason: Why::Excluded,
            exclusion_category: Some(ExclusionCategory::OralResolvedNextWorkingDay),
            transferred_to: None,
            resolved_on: Some(d("2025-04-22")),
        }]);
}

#[test]
fn r_excl_2_an_oral_complaint_resolved_after_the_next_working_day_is_refused_whenever_recorded() {
    let by_phone = receipt("2025-04-17").by(Channel::OralPhone).event();
    given(vec![by_phone])
        .when(now(resolve_orally("2025-04-23", "2025-04-23")))
        .then_expect_error(not_applicable(
            Why::Excluded,
            "an oral complaint must be resolved by the next working day (2025-04-22)",
        ));
}

#[test]
fn r_excl_2_the_resolution_day_is_an_oral_complaints_and_comes_before_the_closure() {
    given(vec![receipt("2025-04-17").event()])
        .when(now(resolve_orally("2025-04-17", "2025-04-17")))
        .then_expect_error(not_applicable(
            Why::Excluded,
            "the complaint was not made orally",
        ));
    let by_phone = receipt("2025-04-17").by(Channel::OralInPerson).event();
    given(vec![by_phone.clone()])
        .when(now(resolve_orally("2025-04-22", "2025-04-18")))
        .then_expect_error(out_of_order("closed_on", "resolved_on", "2025-04-22"));
    given(vec![by_phone])
        .when(now(resolve_orally("2025-04-16", "2025-04-18")))
        .then_expect_error(before_receipt("resolved_on", "2025-04-17"));
}

#[test]
fn r_excl_2_the_closure_keeps_the_resolution_day_and_needs_no_acknowledgement() {
    let case = after(
        vec![receipt("2025-04-17").by(Channel::OralPhone).event()],
        now(resolve_orally("2025-04-22", "2025-04-25")),
    );
    let closure = case.closure.as_ref().unwrap();
    assert_eq!(closure.resolved_on, Some(d("2025-04-22")));
    let statuses = deadline_statuses(&case, &services(), d("2025-05-30"));
    let ack = statuses
        .iter()
        .find(|s| s.kind == DeadlineKind::Acknowledgement)
        .unwrap();
    assert_eq!(ack.state, DeadlineState::NotRequired, "R-ACK-4");
    let record = statuses
        .iter()
        .find(|s| s.kind == DeadlineKind::OralRecord)
        .unwrap();
    assert_eq!(record.state, DeadlineState::NotRequired, "R-ACK-2");
}
