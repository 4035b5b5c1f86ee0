//! The person affected's consent to a representative's complaint (R-WHO-5, R-WHO-6).

use super::*;
use ComplaintError as E;

#[test]
fn consent_is_requested_when_needed() {
    given(vec![received_needing_consent("2026-04-02")])
        .when(now(request_consent("2026-04-03")))
        .then_expect_events(vec![consent_requested("2026-04-03")]);
}

#[test]
fn consent_is_not_requested_recorded_or_lapsed_when_not_needed() {
    let not_needed = receipt("2026-04-02")
        .for_(RepresentationBasis::Deceased, false)
        .event();
    let actions: Vec<ComplaintAction> = vec![
        request_consent("2026-04-03").into(),
        record_consent(ConsentDecision::Given, "2026-04-03").into(),
        lapse_consent("2026-06-01").into(),
    ];
    for action in actions {
        given(vec![not_needed.clone()])
            .when(now(action))
            .then_expect_error(E::ConsentNotRequired);
    }
}

#[test]
fn requesting_consent_twice_is_refused() {
    given(vec![
        received_needing_consent("2026-04-02"),
        consent_requested("2026-04-03"),
    ])
    .when(now(request_consent("2026-04-07")))
    .then_expect_error(E::ConsentAlreadyRequested);
}

#[test]
fn consent_given_is_recorded_with_its_evidence() {
    given(vec![
        received_needing_consent("2026-04-02"),
        consent_requested("2026-04-03"),
    ])
    .when(now(RecordConsent {
        evidence: Some("Signed consent form".into()),
        ..record_consent(ConsentDecision::Given, "2026-04-08")
    }))
    .then_expect_events(vec![ComplaintEvent::ConsentGiven {
        given_on: d("2026-04-08"),
        evidence: Some(Confidential("Signed consent form".into())),
    }]);
}

#[test]
fn consent_refused_is_recorded() {
    given(vec![received_needing_consent("2026-04-02")])
        .when(now(record_consent(ConsentDecision::Refused, "2026-04-08")))
        .then_expect_events(vec![consent_refused("2026-04-08")]);
}

#[test]
fn consent_arriving_unrequested_is_recorded() {
    let case = after(
        vec![received_needing_consent("2026-04-02")],
        now(record_consent(ConsentDecision::Given, "2026-04-02")),
    );
    assert!(!case.consent_outstanding());
    assert_eq!(case.status(), Status::Received);
}

#[test]
fn consent_once_given_is_not_requested_recorded_or_lapsed_again() {
    let history = vec![
        received_needing_consent("2026-04-02"),
        consent_given("2026-04-08"),
    ];
    let actions: Vec<ComplaintAction> = vec![
        request_consent("2026-04-09").into(),
        record_consent(ConsentDecision::Given, "2026-04-09").into(),
        record_consent(ConsentDecision::Refused, "2026-04-09").into(),
        lapse_consent("2026-06-01").into(),
    ];
    for action in actions {
        given(history.clone())
            .when(now(action))
            .then_expect_error(E::ConsentAlreadyDecided);
    }
}

#[test]
fn a_refusal_is_not_requested_nor_lapsed_again_but_may_be_followed_by_consent() {
    let history = vec![
        received_needing_consent("2026-04-02"),
        consent_refused("2026-04-08"),
    ];
    let refused: Vec<ComplaintAction> = vec![
        request_consent("2026-04-09").into(),
        lapse_consent("2026-06-01").into(),
    ];
    for action in refused {
        given(history.clone())
            .when(now(action))
            .then_expect_error(E::ConsentAlreadyDecided);
    }
    let case = after(
        history,
        now(record_consent(ConsentDecision::Given, "2026-04-20")),
    );
    assert!(!case.consent_outstanding());
}

// R-WHO-6: received Thursday 2 April 2026; 28 working days on, past Easter and the Early May
// bank holiday, is Friday 15 May 2026.
#[test]
fn consent_lapses_on_the_twenty_eighth_working_day_after_receipt() {
    let case = fold(vec![received_needing_consent("2026-04-02")]);
    let lapses_on = deadlines(&case, &services()).unwrap().consent_lapses_on;
    assert_eq!(lapses_on, Some(d("2026-05-15")));
    assert_eq!(
        lapses_on,
        Some(Calendar::shipped().add_working_days(d("2026-04-02"), 28))
    );
}

#[test]
fn consent_does_not_lapse_on_or_before_its_last_day() {
    given(vec![
        received_needing_consent("2026-04-02"),
        consent_requested("2026-04-03"),
    ])
    .when(now(lapse_consent("2026-05-15")))
    .then_expect_error(E::ConsentNotYetLapsed {
        lapses_on: d("2026-05-15"),
    });
}

#[test]
fn consent_lapsing_the_day_after_its_last_day_closes_the_complaint() {
    given(vec![
        received_needing_consent("2026-04-02"),
        consent_requested("2026-04-03"),
    ])
    .when(now(lapse_consent("2026-05-16")))
    .then_expect_events(vec![
        consent_lapsed("2026-05-16"),
        ComplaintEvent::ComplaintClosed {
            closed_on: d("2026-05-16"),
            reason: ClosureReason::ConsentNotReceived,
            exclusion_category: None,
            transferred_to: None,
            resolved_on: None,
        },
    ]);
}

#[test]
fn consent_lapsing_without_a_request_also_closes_the_complaint() {
    let case = after(
        vec![received_needing_consent("2026-04-02")],
        now(lapse_consent("2026-06-01")),
    );
    assert_eq!(case.status(), Status::Closed);
    assert_eq!(
        case.closure.unwrap().reason,
        ClosureReason::ConsentNotReceived
    );
}

#[test]
fn consent_does_not_lapse_under_a_policy_without_a_deadline() {
    let services = services_with(OrganisationPolicy {
        consent_deadline_working_days: None,
        ..OrganisationPolicy::default()
    });
    let history = vec![received_needing_consent("2026-04-02")];
    assert_eq!(
        deadlines(&fold(history.clone()), &services)
            .unwrap()
            .consent_lapses_on,
        None
    );
    given_with(services, history)
        .when(now(lapse_consent("2027-01-04")))
        .then_expect_error(E::ConsentLapseNotConfigured);
}

#[test]
fn an_organisations_own_consent_deadline_applies_to_its_complaints() {
    let mut policies = PolicyBook::default();
    policies.organisations.insert(
        "SHORT".into(),
        OrganisationPolicy {
            consent_deadline_working_days: Some(10),
            ..OrganisationPolicy::default()
        },
    );
    let services = ComplaintServices {
        policies: Arc::new(policies),
        register: Default::default(),
        ..services()
    };
    let history = vec![receipt("2026-04-02")
        .at("SHORT")
        .for_(RepresentationBasis::Requested, true)
        .event()];
    // Ten working days after 2 April 2026, skipping Good Friday and Easter Monday.
    given_with(services.clone(), history.clone())
        .when(now(lapse_consent("2026-04-20")))
        .then_expect_error(E::ConsentNotYetLapsed {
            lapses_on: d("2026-04-20"),
        });
    expect_ok(given_with(services, history).when(now(lapse_consent("2026-04-21"))));
}

#[test]
fn a_response_is_refused_while_consent_is_outstanding() {
    given(vec![
        received_needing_consent("2026-04-02"),
        consent_requested("2026-04-03"),
    ])
    .when(now(send_response("2026-04-20")))
    .then_expect_error(E::ConsentOutstanding);
}

#[test]
fn a_response_is_refused_after_consent_is_refused() {
    given(vec![
        received_needing_consent("2026-04-02"),
        consent_refused("2026-04-08"),
    ])
    .when(now(send_response("2026-04-20")))
    .then_expect_error(E::ConsentOutstanding);
}

#[test]
fn a_response_is_sent_once_consent_is_given() {
    given(vec![
        received_needing_consent("2026-04-02"),
        consent_given("2026-04-08"),
    ])
    .when(now(send_response("2026-04-20")))
    .then_expect_events(vec![responded("2026-04-20", 1)]);
}

#[test]
fn the_response_clock_runs_while_consent_is_awaited() {
    let waiting = fold(vec![received_needing_consent("2026-04-02")]);
    let plain = fold(vec![received("2026-04-02")]);
    assert_eq!(
        response_due(&waiting, &services()),
        response_due(&plain, &services())
    );
}
