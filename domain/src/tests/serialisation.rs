//! Events as stored: every variant round-trips through JSON and is named once in `TYPES`.

use super::*;

/// One event of each kind, with every optional field filled in.
fn one_of_each() -> Vec<ComplaintEvent> {
    vec![
        ComplaintEvent::ComplaintReceived {
            organisation_id: ORG.into(),
            received_on: d("2026-04-02"),
            channel: Channel::OralPhone,
            route: Route::Commissioner,
            representation_basis: Some(RepresentationBasis::Child),
            consent_required: true,
            subject_areas: vec![
                SubjectArea::ClinicalTreatment,
                SubjectArea::ValuesAndBehaviours,
            ],
            service_area: Some(ServiceArea::Paediatrics),
            staff_groups: vec![StaffGroup::Medical],
            matter_occurred_on: Some(d("2026-03-01")),
            matter_came_to_notice_on: Some(d("2026-03-02")),
            source: Some(SourceReference {
                system: "pals-desk".into(),
                reference: "P-1".into(),
            }),
            particulars: Confidential(ComplaintParticulars {
                complainant: Person {
                    name: "Alex Smith".into(),
                    email: Some("alex@example.org".into()),
                    phone: Some("01234 567890".into()),
                    address: Some("1 High Street".into()),
                    date_of_birth: Some(d("1980-01-01")),
                    identifier: Some("943 476 5919".into()),
                },
                person_affected: Some(person("Sam Smith")),
                description: "Waited \"hours\" – no one came.".into(),
            }),
            kind: Default::default(),
            enquiry_type: None,
            provider_id: Some("RAL".into()),
            origin: Some(CaseOrigin {
                relation: OriginRelation::TransferredIn,
                organisation_id: "RBB".into(),
                case_id: Some("0b9f1c4e-6a55-8d0e-9c3f-0c1d2e3f4a5b".into()),
                first_received_on: Some(d("2026-03-30")),
            }),
        },
        out_of_time_accepted("2026-04-03"),
        acknowledged("2026-04-07"),
        consent_requested("2026-04-07"),
        ComplaintEvent::ConsentGiven {
            given_on: d("2026-04-08"),
            evidence: Some(Confidential("Form".into())),
        },
        consent_refused("2026-04-08"),
        consent_lapsed("2026-05-15"),
        risk_assessed("2026-04-03"),
        plan_agreed("2026-04-07", "2026-05-29"),
        clock_stopped("2026-04-09"),
        clock_restarted("2026-04-14"),
        ComplaintEvent::DelayNotified {
            notified_on: d("2026-10-02"),
            expected_response_on: Some(d("2026-11-30")),
            reason: Confidential("Awaiting an expert opinion.".into()),
        },
        responded("2026-04-20", 1),
        escalated("2026-05-01"),
        ComplaintEvent::ReferredToOmbudsman {
            ombudsman: Ombudsman::Lgsco,
            informed_on: d("2026-06-01"),
            ombudsman_reference: Some("LG-9".into()),
        },
        ComplaintEvent::OmbudsmanDecisionRecorded {
            ombudsman: Ombudsman::Lgsco,
            decided_on: d("2026-09-01"),
            decision: OmbudsmanDecision::PartlyUpheld,
            recommendations: vec![Recommendation {
                description: "Apologise.".into(),
                due_on: Some(d("2026-10-01")),
            }],
        },
        ComplaintEvent::LearningRecorded {
            recorded_on: d("2026-09-02"),
            kind: LearningKind::Action,
            summary: "Review staffing on the ward.".into(),
            action_due_on: Some(d("2026-12-01")),
        },
        ComplaintEvent::ComplaintClosed {
            closed_on: d("2026-09-03"),
            reason: ClosureReason::Transferred,
            exclusion_category: None,
            transferred_to: Some("RY2".into()),
            resolved_on: None,
        },
        ComplaintEvent::ComplaintClosed {
            closed_on: d("2026-09-03"),
            reason: ClosureReason::Excluded,
            exclusion_category: Some(ExclusionCategory::OralResolvedNextWorkingDay),
            transferred_to: None,
            resolved_on: Some(d("2026-09-02")),
        },
        reopened("2026-09-04"),
        ComplaintEvent::LegalHoldPlaced {
            placed_on: d("2026-09-05"),
            ground: LegalHoldGround::Litigation,
            note: Confidential("Claim QB-2026-001".into()),
        },
        ComplaintEvent::LegalHoldReleased {
            released_on: d("2026-10-05"),
        },
        ComplaintEvent::ComplaintClassified {
            eligibility: Some(Eligibility::Representative),
            patient_age_band: Some(PatientAgeBand::Age0To15),
            complainant_status: Some(ComplainantStatus::RelativeOrCarer),
            site: Some("RX1-01".into()),
        },
        ComplaintEvent::RepresentativeGroundsDecided {
            decided_on: d("2026-04-03"),
            satisfied: false,
            reasons: Confidential("The child, aged 15, wishes to complain herself.".into()),
            decided_by: "cm-12".into(),
        },
        ComplaintEvent::LetterSent {
            kind: LetterKind::ChildGroundsRefusal,
            sent_on: d("2026-04-06"),
        },
        ComplaintEvent::ComplainantContacted {
            contacted_on: d("2026-04-10"),
            method: ContactMethod::Phone,
            summary: Confidential("Told Alex the records have been requested.".into()),
        },
        ComplaintEvent::RecommendationDone {
            recommendation: 1,
            done_on: d("2026-09-20"),
            what_was_done: "Apology sent.".into(),
        },
        ComplaintEvent::LinkedCaseOpened {
            relation: OriginRelation::TransferredIn,
            organisation_id: "RBB".into(),
            case_id: "0b9f1c4e-6a55-8d0e-9c3f-0c1d2e3f4a5b".into(),
            opened_on: d("2026-09-21"),
        },
        ComplaintEvent::PersonDied {
            person: PersonRole::PersonAffected,
            died_on: d("2026-09-22"),
        },
        ComplaintEvent::OutOfTimeRefused {
            refused_on: d("2026-09-23"),
            decision: OutOfTimeDecision {
                good_reason_for_delay: false,
                fair_investigation_possible: true,
                decided_by: "cm-12".into(),
                rationale: Confidential("No reason given for the delay.".into()),
            },
        },
        ComplaintEvent::OtherUseIdentified {
            identified_on: d("2026-09-24"),
            purpose: OtherUsePurpose::IntegratedCare,
        },
        ComplaintEvent::ConsentToShareRecorded {
            given_on: d("2026-04-08"),
            for_whom: PersonRole::PersonAffected,
            given_by: ConsentGiver::LegalAuthority,
            scopes: vec![ConsentScope::JointHandling, ConsentScope::AccessRecords],
            method: ConsentMethod::Written,
            evidence: Some(Confidential("Signed form; LPA seen.".into())),
            share_with: vec!["RAL".into()],
        },
        ComplaintEvent::ParticipantAdded {
            organisation_id: "RAL".into(),
            agreed_on: d("2026-04-09"),
            agreed_by: "cm-12".into(),
            reason: Confidential("The discharge was the trust's.".into()),
        },
        ComplaintEvent::PartRequested {
            request: 1,
            organisation_id: "RAL".into(),
            requested_on: d("2026-04-09"),
            due_on: d("2026-04-30"),
        },
        ComplaintEvent::PartProvided {
            request: 1,
            organisation_id: "RAL".into(),
            provided_on: d("2026-04-29"),
            findings: Confidential("Sam was discharged without a care plan.".into()),
            response_section: Confidential("We are sorry the plan was not sent.".into()),
        },
        ComplaintEvent::ResponseCoordinated {
            sent_on: d("2026-05-05"),
            stage: 1,
            parts: vec![CoordinatedPart {
                organisation_id: "RAL".into(),
                request: 1,
                provided_on: d("2026-04-29"),
            }],
        },
        ComplaintEvent::ParticipantRemoved {
            organisation_id: "RAL".into(),
            removed_on: d("2026-05-06"),
            reason: Confidential("Its part is answered.".into()),
        },
        ComplaintEvent::CaseworkerAssigned {
            assigned_on: d("2026-05-07"),
            caseworker: "cw-alice".into(),
        },
    ]
}

/// One event of each kind with every optional field left out.
fn bare() -> Vec<ComplaintEvent> {
    vec![
        received("2026-04-02"),
        ComplaintEvent::ConsentGiven {
            given_on: d("2026-04-08"),
            evidence: None,
        },
        ComplaintEvent::ResponsePlanAgreed {
            agreed_on: d("2026-04-07"),
            response_due_on: d("2026-05-29"),
            discussion_outcome: None,
        },
        ComplaintEvent::DelayNotified {
            notified_on: d("2026-10-02"),
            expected_response_on: None,
            reason: Confidential("Awaiting an expert opinion.".into()),
        },
        referred(Ombudsman::Phso, "2026-06-01"),
        ombudsman_decided(Ombudsman::Phso, "2026-09-01"),
        learning_recorded("2026-09-02"),
        closed("2026-09-03", ClosureReason::Withdrawn),
        ComplaintEvent::ComplaintClassified {
            eligibility: None,
            patient_age_band: None,
            complainant_status: None,
            site: None,
        },
    ]
}

#[test]
fn every_event_round_trips_through_json() {
    for event in one_of_each().into_iter().chain(bare()) {
        let json = serde_json::to_string(&event).unwrap();
        let back: ComplaintEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event, "{json}");
    }
}

#[test]
fn every_sample_matches_the_schema_of_its_type() {
    conform(&one_of_each());
    conform(&bare());
}

#[test]
fn the_samples_cover_every_event_type() {
    let mut names: Vec<&str> = one_of_each().iter().map(ComplaintEvent::name).collect();
    names.sort_unstable();
    names.dedup();
    let mut types = ComplaintEvent::TYPES.to_vec();
    types.sort_unstable();
    assert_eq!(names, types);
}

#[test]
fn types_lists_each_event_name_exactly_once() {
    let mut types = ComplaintEvent::TYPES.to_vec();
    types.sort_unstable();
    types.dedup();
    assert_eq!(
        types.len(),
        ComplaintEvent::TYPES.len(),
        "a name appears twice in TYPES"
    );
    for event in one_of_each() {
        let count = ComplaintEvent::TYPES
            .iter()
            .filter(|t| **t == event.name())
            .count();
        assert_eq!(count, 1, "{}", event.name());
    }
}

#[test]
fn the_stored_event_type_is_the_variant_name_at_its_current_version() {
    use cqrs_es::DomainEvent;
    for event in one_of_each() {
        assert_eq!(event.event_type(), event.name());
        assert_eq!(
            event.event_version(),
            ComplaintEvent::version_of(event.name())
        );
        let json = serde_json::to_value(&event).unwrap();
        let tag = json.as_object().and_then(|o| o.keys().next().cloned());
        assert_eq!(
            tag.as_deref(),
            Some(event.name()),
            "externally tagged by the variant name"
        );
    }
}

#[test]
fn optional_fields_are_left_out_of_the_stored_json() {
    let json = serde_json::to_value(closed("2026-09-03", ClosureReason::Withdrawn)).unwrap();
    let body = json["ComplaintClosed"].as_object().unwrap();
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["closed_on", "reason"]);
    assert_eq!(body["reason"], "withdrawn");
}
