//! Case kinds (R-KIND-1 to R-KIND-3), the organisation register's rules (R-SCOPE-1,
//! R-SCOPE-3, R-SCOPE-4, R-RESP-2, R-OMB-3, R-KO-1), transfers (R-SCOPE-2) and deaths
//! (R-FACT-1, R-WHO-5).

use super::*;

fn received_as(kind: CaseKind, enquiry_type: Option<EnquiryType>, on: &str) -> Vec<ComplaintEvent> {
    expect_ok(given(vec![]).when(now(ReceiveComplaint {
        kind: Some(kind),
        enquiry_type,
        ..receive(on)
    })))
}

fn due(case: &Complaint, kind: DeadlineKind) -> Option<NaiveDate> {
    deadline_statuses(case, &services(), d(LATER))
        .into_iter()
        .find(|s| s.kind == kind)
        .and_then(|s| s.due_on)
}

fn kinds_of(case: &Complaint) -> Vec<DeadlineKind> {
    deadline_statuses(case, &services(), d(LATER))
        .into_iter()
        .map(|s| s.kind)
        .collect()
}

fn contact(on: &str) -> RecordProgressContact {
    RecordProgressContact {
        contacted_on: d(on),
        method: ContactMethod::Phone,
        summary: "Explained the choices available.".into(),
    }
}

// Received Thursday 2026-04-02 (Good Friday 3rd, Easter Monday 6th are holidays).
#[test]
fn r_kind_1_an_enquiry_is_acknowledged_in_2_working_days_and_contacted_by_its_type() {
    let choice = fold(received_as(
        CaseKind::Enquiry,
        Some(EnquiryType::PatientChoice),
        "2026-04-02",
    ));
    assert_eq!(
        due(&choice, DeadlineKind::Acknowledgement),
        Some(d("2026-04-08"))
    );
    // 18 working days after 2026-04-02, skipping 3 and 6 April: 2026-04-30.
    assert_eq!(
        due(&choice, DeadlineKind::EnquiryContact),
        Some(d("2026-04-30"))
    );
    let procurement = fold(received_as(
        CaseKind::Enquiry,
        Some(EnquiryType::ProcurementCompetition),
        "2026-04-02",
    ));
    assert_eq!(
        due(&procurement, DeadlineKind::EnquiryContact),
        Some(d("2026-04-20"))
    );
    // None of the statutory complaint clocks.
    let kinds = kinds_of(&choice);
    for statutory in [
        DeadlineKind::DelayLetter,
        DeadlineKind::InternalTarget,
        DeadlineKind::Response,
        DeadlineKind::Consent,
    ] {
        assert!(!kinds.contains(&statutory), "{statutory:?} on an enquiry");
    }
}

#[test]
fn r_kind_1_the_first_contact_meets_the_enquiry_target() {
    let mut history = received_as(CaseKind::Enquiry, None, "2026-04-02");
    history.extend(expect_ok(
        given(history.clone()).when(now(contact("2026-04-14"))),
    ));
    let status = deadline_statuses(&fold(history), &services(), d(LATER))
        .into_iter()
        .find(|s| s.kind == DeadlineKind::EnquiryContact)
        .unwrap();
    // Advice: 10 working days, skipping Good Friday and Easter Monday.
    assert_eq!(status.due_on, Some(d("2026-04-20")));
    assert_eq!(status.state, DeadlineState::MetOnTime);
}

#[test]
fn r_kind_1_an_enquiry_is_answered_by_contact_not_by_the_statutory_response() {
    let history = received_as(CaseKind::Enquiry, None, "2026-04-02");
    let refused = given(history.clone())
        .when(now(send_response("2026-04-10")))
        .inspect_result()
        .unwrap_err();
    assert_eq!(refused.code(), "not-for-this-kind");
    let refused = given(history)
        .when(now(NotifyDelay {
            notified_on: d("2026-04-10"),
            expected_response_on: None,
            reason: "Waiting.".into(),
        }))
        .inspect_result()
        .unwrap_err();
    assert_eq!(refused.code(), "not-for-this-kind");
}

#[test]
fn r_kind_1_an_enquiry_treated_as_a_complaint_closes_and_only_an_enquiry_can() {
    let history = received_as(CaseKind::Enquiry, None, "2026-04-02");
    let events = expect_ok(given(history.clone()).when(now(TreatAsComplaint {
        treated_on: d("2026-04-09"),
        subject_areas: vec![],
    })));
    let case = fold(history.into_iter().chain(events).collect());
    let closure = case.closure.as_ref().unwrap();
    assert_eq!(closure.reason, ClosureReason::TreatedAsComplaint);
    assert_eq!(closure.closed_on, d("2026-04-09"));
    // A complaint is not "treated as a complaint" again.
    given(vec![received("2026-04-02")])
        .when(now(TreatAsComplaint {
            treated_on: d("2026-04-09"),
            subject_areas: vec![],
        }))
        .then_expect_error(ComplaintError::NotForThisKind {
            kind: "complaint",
            command: "treat_as_complaint",
            why: "only an enquiry is treated as a complaint".into(),
        });
}

#[test]
fn r_kind_1_the_link_back_is_recorded_once() {
    let mut history = received_as(CaseKind::Enquiry, None, "2026-04-02");
    history.extend(expect_ok(given(history.clone()).when(now(
        TreatAsComplaint {
            treated_on: d("2026-04-09"),
            subject_areas: vec![],
        },
    ))));
    let link = RecordLinkedCase {
        relation: OriginRelation::EnquiryTreatedAsComplaint,
        organisation_id: ORG.into(),
        case_id: "c-2".into(),
        opened_on: d("2026-04-09"),
    };
    let first = expect_ok(given(history.clone()).when(now(link.clone())));
    assert_eq!(first.len(), 1);
    history.extend(first);
    assert!(expect_ok(given(history.clone()).when(now(link))).is_empty());
    assert_eq!(fold(history).linked_cases.len(), 1);
}

// R-KIND-2 worked on the calendar: received Thursday 2026-04-02.
#[test]
fn r_kind_2_a_complaint_about_the_organisation_has_a_provisional_decision_in_20_working_days() {
    let case = fold(received_as(CaseKind::AboutOrganisation, None, "2026-04-02"));
    assert_eq!(
        due(&case, DeadlineKind::Acknowledgement),
        Some(d("2026-04-09"))
    );
    assert_eq!(
        due(&case, DeadlineKind::ProvisionalDecision),
        Some(d("2026-05-05"))
    );
    assert!(!kinds_of(&case).contains(&DeadlineKind::DelayLetter));
}

#[test]
fn r_kind_2_the_provisional_decision_is_met_by_the_response() {
    let mut history = received_as(CaseKind::AboutOrganisation, None, "2026-04-02");
    history.extend(expect_ok(
        given(history.clone()).when(now(send_response("2026-05-06"))),
    ));
    let status = deadline_statuses(&fold(history), &services(), d(LATER))
        .into_iter()
        .find(|s| s.kind == DeadlineKind::ProvisionalDecision)
        .unwrap();
    assert_eq!(status.state, DeadlineState::MetLate);
}

#[test]
fn r_kind_3_a_whistleblowing_concern_has_no_time_limit_and_no_statutory_steps() {
    let events = expect_ok(given(vec![]).when(now(ReceiveComplaint {
        kind: Some(CaseKind::Whistleblowing),
        // Two years after the matter: a complaint would be out of time.
        matter_occurred_on: Some(d("2024-01-10")),
        ..receive("2026-04-02")
    })));
    let case = fold(events.clone());
    assert!(case.kind().is_restricted());
    assert!(case.may_be_investigated());
    assert_eq!(case.status(), Status::Received);
    let refused = given(events)
        .when(now(send_response("2026-04-10")))
        .inspect_result()
        .unwrap_err();
    assert_eq!(refused.code(), "not-for-this-kind");
}

#[test]
fn r_kind_1_an_enquiry_type_belongs_to_an_enquiry_only() {
    given(vec![])
        .when(now(ReceiveComplaint {
            enquiry_type: Some(EnquiryType::Advice),
            ..receive("2026-04-02")
        }))
        .then_expect_error(invalid(
            "enquiry_type",
            "only an enquiry has an enquiry type",
        ));
}

fn register_services(organisation: Organisation) -> ComplaintServices {
    ComplaintServices {
        register: Arc::new(RegisterHandle::new(Register {
            organisations: vec![organisation],
        })),
        ..services()
    }
}

fn council() -> Organisation {
    Organisation {
        id: ORG.into(),
        name: "Example Council".into(),
        organisation_type: OrganisationType::LocalAuthority,
        sectors: vec![],
        ods_code: None,
        sites: vec![],
        responsible_person: Some("dir-1".into()),
        authorised_delegates: vec!["cm-2".into()],
        complaints_manager: Some("cm-2".into()),
        collection: None,
    }
}

#[test]
fn r_resp_2_only_a_registered_signatory_signs_in_their_capacity() {
    let services = register_services(council());
    let history = vec![received("2026-04-02"), acknowledged("2026-04-03")];
    let as_delegate = SendResponse {
        signed_by: "cm-2".into(),
        signed_as: SignedAs::AuthorisedDelegate,
        ombudsman_rights: vec![Ombudsman::Lgsco],
        ..send_response("2026-04-20")
    };
    expect_ok(given_with(services.clone(), history.clone()).when(now(as_delegate)));
    // The delegate is not the responsible person.
    given_with(services.clone(), history.clone())
        .when(now(SendResponse {
            signed_by: "cm-2".into(),
            signed_as: SignedAs::ResponsiblePerson,
            ..send_response("2026-04-20")
        }))
        .then_expect_error(ComplaintError::SignatoryNotAuthorised {
            capacity: "responsible_person",
        });
    given_with(services, history)
        .when(now(SendResponse {
            signed_by: "someone-else".into(),
            signed_as: SignedAs::AuthorisedDelegate,
            ..send_response("2026-04-20")
        }))
        .then_expect_error(ComplaintError::SignatoryNotAuthorised {
            capacity: "authorised_delegate",
        });
}

#[test]
fn r_omb_3_a_council_response_naming_only_the_phso_is_flagged() {
    let services = register_services(council());
    // `responded` names the PHSO; a council's adult social care goes to the LGSCO.
    let case = fold(vec![received("2026-04-02"), responded("2026-04-20", 1)]);
    let codes: Vec<&str> = warnings(&case, &services)
        .into_iter()
        .map(|w| w.code)
        .collect();
    assert!(codes.contains(&"ombudsman-not-named"), "{codes:?}");
    // Unregistered, nothing to check against.
    assert!(!warnings(&case, &crate::tests::services())
        .iter()
        .any(|w| w.code == "ombudsman-not-named"));
}

#[test]
fn r_omb_3_the_ombudsman_follows_the_sector() {
    let trust = Organisation {
        organisation_type: OrganisationType::FoundationTrust,
        ..council()
    };
    assert_eq!(trust.ombudsmen(), vec![Ombudsman::Phso]);
    assert_eq!(council().ombudsmen(), vec![Ombudsman::Lgsco]);
    let both = Organisation {
        sectors: vec![Sector::Health, Sector::AdultSocialCare],
        ..council()
    };
    assert_eq!(both.ombudsmen(), vec![Ombudsman::Phso, Ombudsman::Lgsco]);
}

#[test]
fn r_ko_1_the_return_follows_the_type_of_body() {
    let of = |organisation_type| {
        Organisation {
            organisation_type,
            ..council()
        }
        .return_collection()
    };
    // An acute trust's dental service stays in KO41a: it is the trust's return.
    assert_eq!(
        of(OrganisationType::NhsTrust),
        Some(ReturnCollection::Ko41a)
    );
    assert_eq!(
        of(OrganisationType::DentalPractice),
        Some(ReturnCollection::Ko41b)
    );
    assert_eq!(
        of(OrganisationType::GpPractice),
        Some(ReturnCollection::Ko41b)
    );
    assert_eq!(of(OrganisationType::Icb), Some(ReturnCollection::Ko41b));
    assert_eq!(of(OrganisationType::LocalAuthority), None);
    let services = register_services(Organisation {
        organisation_type: OrganisationType::NhsTrust,
        ..council()
    });
    assert_eq!(
        services.return_collection(ORG),
        Some(ReturnCollection::Ko41a)
    );
}

#[test]
fn r_ko_1_a_registered_organisation_takes_complaints_for_its_own_sites_only() {
    let services = register_services(Organisation {
        organisation_type: OrganisationType::NhsTrust,
        sites: vec![Site {
            code: "RX101".into(),
            name: "General Hospital".into(),
        }],
        ..council()
    });
    expect_ok(
        given_with(services.clone(), vec![]).when(now(ReceiveComplaint {
            site: Some("RX101".into()),
            ..receive("2026-04-02")
        })),
    );
    given_with(services, vec![])
        .when(now(ReceiveComplaint {
            site: Some("RX999".into()),
            ..receive("2026-04-02")
        }))
        .then_expect_error(ComplaintError::UnknownSite {
            site: "RX999".into(),
        });
}

#[test]
fn r_scope_1_register_records_are_checked() {
    let bad_ods = Organisation {
        ods_code: Some("rx1!".into()),
        ..council()
    };
    assert_eq!(bad_ods.validate().unwrap_err().code(), "invalid-field");
    let good = Organisation {
        ods_code: Some("RX1".into()),
        ..council()
    };
    good.validate().unwrap();
    let twice = Register {
        organisations: vec![good.clone(), good],
    };
    assert!(twice.validate().is_err());
}

#[test]
fn r_scope_3_a_commissioner_passes_a_complaint_on_only_with_consent() {
    let via_commissioner = expect_ok(given(vec![]).when(now(ReceiveComplaint {
        route: Some(Route::Commissioner),
        provider_id: Some("RAL".into()),
        ..receive("2026-04-02")
    })));
    let pass = |consented| CloseComplaint {
        transferred_to: Some("RAL".into()),
        complainant_consented: consented,
        ..close("2026-04-07", ClosureReason::Transferred)
    };
    given(via_commissioner.clone())
        .when(now(pass(None)))
        .then_expect_error(ComplaintError::TransferConsentMissing);
    expect_ok(given(via_commissioner).when(now(pass(Some(true)))));
}

#[test]
fn r_scope_3_the_provider_is_named_apart_only_on_the_commissioner_route() {
    given(vec![])
        .when(now(ReceiveComplaint {
            provider_id: Some("RAL".into()),
            ..receive("2026-04-02")
        }))
        .inspect_result()
        .unwrap_err();
    let icb = register_services(Organisation {
        organisation_type: OrganisationType::NhsTrust,
        ..council()
    });
    // A body registered as a provider does not take the commissioner route.
    let refused = given_with(icb, vec![])
        .when(now(ReceiveComplaint {
            route: Some(Route::Commissioner),
            provider_id: Some("RAL".into()),
            ..receive("2026-04-02")
        }))
        .inspect_result()
        .unwrap_err();
    assert_eq!(refused.field(), Some("route"));
}

#[test]
fn r_scope_2_a_transferred_complaint_is_in_time_from_the_day_the_first_body_had_it() {
    // Matter on 2025-04-01: the limit is 2026-04-01. The first body had it on 2026-03-30
    // and forwarded it; this body received it on 2026-04-07.
    let events = expect_ok(given(vec![]).when(now(ReceiveComplaint {
        matter_occurred_on: Some(d("2025-04-01")),
        origin: Some(CaseOrigin {
            relation: OriginRelation::TransferredIn,
            organisation_id: "RBB".into(),
            case_id: None,
            first_received_on: Some(d("2026-03-30")),
        }),
        ..receive("2026-04-07")
    })));
    let case = fold(events);
    assert!(case.in_time());
    // Its own clocks start on its own day of receipt.
    assert_eq!(
        deadlines(&case, &services()).unwrap().acknowledge_by,
        d("2026-04-10")
    );
}

#[test]
fn r_scope_2_a_transfer_with_consent_outstanding_is_refused() {
    given(vec![received_needing_consent("2026-04-02")])
        .when(now(CloseComplaint {
            transferred_to: Some("RAL".into()),
            ..close("2026-04-07", ClosureReason::Transferred)
        }))
        .then_expect_error(ComplaintError::ConsentOutstanding);
}

#[test]
fn r_fact_1_a_death_is_recorded_on_a_closed_complaint() {
    let mut history = closed_case();
    let events = expect_ok(given(history.clone()).when(now(RecordDeath {
        person: PersonRole::Complainant,
        died_on: d("2026-10-01"),
    })));
    history.extend(events);
    let case = fold(history.clone());
    assert_eq!(case.complainant_died_on, Some(d("2026-10-01")));
    assert!(case.is_closed());
    let codes: Vec<&str> = warnings(&case, &services())
        .into_iter()
        .map(|w| w.code)
        .collect();
    assert!(codes.contains(&"complainant-died"));
    // Recorded once.
    assert!(given(history)
        .when(now(RecordDeath {
            person: PersonRole::Complainant,
            died_on: d("2026-10-01"),
        }))
        .inspect_result()
        .is_err());
}

#[test]
fn r_who_5_the_person_affected_dying_ends_the_wait_for_consent() {
    let history = vec![
        received_needing_consent("2026-04-02"),
        consent_requested("2026-04-03"),
    ];
    assert_eq!(fold(history.clone()).status(), Status::AwaitingConsent);
    let mut after_death = history.clone();
    after_death.extend(expect_ok(given(history).when(now(RecordDeath {
        person: PersonRole::PersonAffected,
        died_on: d("2026-04-10"),
    }))));
    let case = fold(after_death);
    assert!(!case.consent_outstanding());
    assert_ne!(case.status(), Status::AwaitingConsent);
    assert_eq!(
        deadlines(&case, &services()).unwrap().consent_lapses_on,
        None
    );
}

#[test]
fn r_fact_1_a_death_in_the_future_is_impossible() {
    given(vec![received("2026-04-02")])
        .when(cmd(
            "2026-04-05",
            RecordDeath {
                person: PersonRole::Complainant,
                died_on: d("2026-04-06"),
            },
        ))
        .then_expect_error(in_future("died_on", "2026-04-05"));
}

#[test]
fn r_ack_5_a_period_the_body_set_alone_owes_a_letter_telling_the_complainant() {
    let history = vec![
        received("2026-01-05"),
        acknowledged("2026-01-06"),
        plan_notified("2026-01-07", "2026-03-31", DiscussionOutcome::Declined),
    ];
    let owed = |case: &Complaint| {
        deadline_statuses(case, &services(), d("2026-01-08"))
            .into_iter()
            .find(|s| s.letter == Some(LetterKind::ResponsePeriodNotification))
    };
    let status = owed(&fold(history.clone())).expect("the notification letter is owed");
    // Three working days after the period was set.
    assert_eq!(status.due_on, Some(d("2026-01-12")));
    assert_eq!(status.state, DeadlineState::Pending);
    let mut sent = history.clone();
    sent.push(ComplaintEvent::LetterSent {
        kind: LetterKind::ResponsePeriodNotification,
        sent_on: d("2026-01-08"),
    });
    assert_eq!(owed(&fold(sent)).unwrap().state, DeadlineState::MetOnTime);
    // An agreed period owes no letter.
    let agreed = vec![
        received("2026-01-05"),
        plan_agreed("2026-01-07", "2026-03-31"),
    ];
    assert!(owed(&fold(agreed)).is_none());
}

fn refuse(on: &str, good_reason: bool, fair: bool) -> RefuseOutOfTime {
    RefuseOutOfTime {
        decided_on: d(on),
        good_reason_for_delay: good_reason,
        fair_investigation_possible: fair,
        decided_by: "cm-12".into(),
        rationale: "No reason was given for complaining two years late.".into(),
    }
}

#[test]
fn r_tl_2_a_refusal_keeps_its_findings_closes_and_owes_a_letter() {
    let history = vec![received_out_of_time()];
    let events = expect_ok(given(history.clone()).when(now(refuse("2026-04-20", false, true))));
    let case = fold(history.iter().cloned().chain(events.clone()).collect());
    let ComplaintEvent::OutOfTimeRefused { decision, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert!(!decision.good_reason_for_delay);
    assert_eq!(decision.decided_by, "cm-12");
    assert_eq!(
        case.closure.as_ref().unwrap().reason,
        ClosureReason::OutOfTime
    );
    let letter = deadline_statuses(&case, &services(), d("2026-04-21"))
        .into_iter()
        .find(|s| s.letter == Some(LetterKind::OutOfTimeRefusal))
        .expect("the refusal letter is owed");
    assert_eq!(letter.state, DeadlineState::Pending);
}

#[test]
fn r_tl_2_both_findings_met_is_an_acceptance_not_a_refusal() {
    let refused = given(vec![received_out_of_time()])
        .when(now(refuse("2026-04-20", true, true)))
        .inspect_result()
        .unwrap_err();
    assert_eq!(refused.field(), Some("good_reason_for_delay"));
    given(vec![received("2026-04-02")])
        .when(now(refuse("2026-04-20", false, false)))
        .then_expect_error(ComplaintError::NotOutOfTime);
}

#[test]
fn r_kind_4_the_person_is_told_of_other_use_within_10_working_days() {
    let mut history = closed_case();
    let produced = expect_ok(given(history.clone()).when(now(RecordOtherUse {
        identified_on: d("2026-11-02"),
        purpose: OtherUsePurpose::Governance,
    })));
    assert_eq!(produced.len(), 1);
    history.extend(produced);
    // The same purpose again writes nothing.
    assert!(expect_ok(given(history.clone()).when(now(RecordOtherUse {
        identified_on: d("2026-11-03"),
        purpose: OtherUsePurpose::Governance,
    })))
    .is_empty());
    let owed = |case: &Complaint| {
        deadline_statuses(case, &services(), d("2026-11-20"))
            .into_iter()
            .find(|s| s.letter == Some(LetterKind::OtherUseNotice))
            .expect("the notice is owed, closed or not")
    };
    let status = owed(&fold(history.clone()));
    assert_eq!(status.due_on, Some(d("2026-11-16")));
    assert_eq!(status.state, DeadlineState::Missed);
    history.push(ComplaintEvent::LetterSent {
        kind: LetterKind::OtherUseNotice,
        sent_on: d("2026-11-10"),
    });
    assert_eq!(owed(&fold(history)).state, DeadlineState::MetOnTime);
}
