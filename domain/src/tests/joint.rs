//! Joint complaints (R-JOINT-1, R-JOINT-2) and consent records with their scope (R-CONS-1).
//! The complaint's organisation (`ORG`) leads; `RAL` takes part. Who may run which command
//! (a participant only supplies its part, only the lead sends the response) is the
//! gateway's, tested end to end in `tests/tests/e2e/joint.rs`.

use super::*;
use ComplaintError as E;

const TRUST: &str = "RAL";

fn add(organisation: &str, on: &str) -> AddParticipant {
    AddParticipant {
        organisation_id: organisation.into(),
        agreed_on: d(on),
        agreed_by: "cm-12".into(),
        reason: "The discharge was the trust's.".into(),
    }
}

fn added(organisation: &str, on: &str) -> ComplaintEvent {
    ComplaintEvent::ParticipantAdded {
        organisation_id: organisation.into(),
        agreed_on: d(on),
        agreed_by: "cm-12".into(),
        reason: Confidential("The discharge was the trust's.".into()),
    }
}

fn request(organisation: &str, on: &str, due: &str) -> RequestPart {
    RequestPart {
        organisation_id: organisation.into(),
        requested_on: d(on),
        due_on: d(due),
    }
}

fn requested(number: u32, organisation: &str, on: &str, due: &str) -> ComplaintEvent {
    ComplaintEvent::PartRequested {
        request: number,
        organisation_id: organisation.into(),
        requested_on: d(on),
        due_on: d(due),
    }
}

fn provide(organisation: Option<&str>, on: &str) -> ProvidePart {
    ProvidePart {
        organisation_id: organisation.map(str::to_string),
        provided_on: d(on),
        findings: "Sam left without a care plan.".into(),
        response_section: "We are sorry the plan was not sent.".into(),
    }
}

fn provided(number: u32, organisation: &str, on: &str) -> ComplaintEvent {
    ComplaintEvent::PartProvided {
        request: number,
        organisation_id: organisation.into(),
        provided_on: d(on),
        findings: Confidential("Sam left without a care plan.".into()),
        response_section: Confidential("We are sorry the plan was not sent.".into()),
    }
}

fn consent_to_share(
    for_whom: PersonRole,
    scopes: Vec<ConsentScope>,
    on: &str,
) -> RecordConsentToShare {
    RecordConsentToShare {
        given_on: d(on),
        for_whom,
        given_by: ConsentGiver::DataSubject,
        scopes,
        method: ConsentMethod::Written,
        evidence: Some("Signed form.".into()),
        share_with: Vec::new(),
    }
}

/// Received 2026-04-02 by `ORG`, `RAL` taking part from 2026-04-07, asked for its part on
/// 2026-04-08 by 2026-04-22.
fn joint_case() -> Vec<ComplaintEvent> {
    vec![
        received("2026-04-02"),
        acknowledged("2026-04-07"),
        added(TRUST, "2026-04-07"),
        requested(1, TRUST, "2026-04-08", "2026-04-22"),
    ]
}

fn part_status(events: Vec<ComplaintEvent>, today: &str) -> DeadlineStatus {
    deadline_statuses(&fold(events), &services(), d(today))
        .into_iter()
        .find(|s| s.kind == DeadlineKind::ParticipantPart)
        .expect("a participant_part deadline")
}

#[test]
fn r_joint_1_another_body_takes_part_and_the_complaints_own_organisation_leads() {
    let history = vec![received("2026-04-02")];
    given(history.clone())
        .when(now(add(TRUST, "2026-04-07")))
        .then_expect_events(vec![added(TRUST, "2026-04-07")]);
    // The lead is not a participant of its own complaint.
    given(history.clone())
        .when(now(add(ORG, "2026-04-07")))
        .then_expect_error(E::ParticipantIsLead);
    // One place per body.
    given(vec![received("2026-04-02"), added(TRUST, "2026-04-07")])
        .when(now(add(TRUST, "2026-04-08")))
        .then_expect_error(E::AlreadyParticipant {
            organisation: TRUST.into(),
        });
    given(history)
        .when(now(AddParticipant {
            agreed_by: " ".into(),
            ..add(TRUST, "2026-04-07")
        }))
        .then_expect_error(blank("agreed_by"));
    let case = fold(vec![received("2026-04-02"), added(TRUST, "2026-04-07")]);
    assert!(case.is_participant(TRUST));
    assert!(!case.is_participant(ORG));
}

#[test]
fn r_kind_3_a_whistleblowing_concern_or_an_enquiry_is_never_joint() {
    for kind in [CaseKind::Whistleblowing, CaseKind::Enquiry] {
        let receipt = expect_ok(given(vec![]).when(now(ReceiveComplaint {
            kind: Some(kind),
            ..receive("2026-04-02")
        })));
        let refused = given(receipt)
            .when(now(add(TRUST, "2026-04-07")))
            .inspect_result();
        assert!(
            matches!(
                refused,
                Err(E::NotForThisKind {
                    command: "add_participant",
                    ..
                })
            ),
            "{kind:?}: {refused:?}"
        );
    }
}

#[test]
fn r_cons_1_no_participant_before_consent_to_share() {
    // A representative's complaint needing the person affected's consent: consent to the
    // representative (R-WHO-5) does not cover sharing with another body.
    let history = vec![
        received_needing_consent("2026-04-02"),
        consent_given("2026-04-06"),
    ];
    given(history.clone())
        .when(now(add(TRUST, "2026-04-07")))
        .then_expect_error(E::ConsentToShareMissing {
            organisation: TRUST.into(),
        });
    // Consent to disclose to the representative only, or to share with another body only.
    let scoped = |scopes, share_with: Vec<String>| {
        let mut events = history.clone();
        events.extend(expect_ok(given(history.clone()).when(now(
            RecordConsentToShare {
                share_with,
                ..consent_to_share(PersonRole::PersonAffected, scopes, "2026-04-06")
            },
        ))));
        events
    };
    for (scopes, share_with) in [
        (vec![ConsentScope::DiscloseToRepresentative], vec![]),
        (vec![ConsentScope::JointHandling], vec!["RBB".to_string()]),
    ] {
        given(scoped(scopes, share_with))
            .when(now(add(TRUST, "2026-04-07")))
            .then_expect_error(E::ConsentToShareMissing {
                organisation: TRUST.into(),
            });
    }
    // The complainant's consent is not the person affected's.
    let mut complainants = history.clone();
    complainants.extend(expect_ok(given(history.clone()).when(now(
        consent_to_share(
            PersonRole::Complainant,
            vec![ConsentScope::JointHandling],
            "2026-04-06",
        ),
    ))));
    given(complainants)
        .when(now(add(TRUST, "2026-04-07")))
        .then_expect_error(E::ConsentToShareMissing {
            organisation: TRUST.into(),
        });
    // Consent to joint handling with the trust, from the person affected.
    let shared = scoped(vec![ConsentScope::JointHandling], vec![TRUST.to_string()]);
    assert!(fold(shared.clone()).consent_to_share_with(TRUST));
    given(shared)
        .when(now(add(TRUST, "2026-04-07")))
        .then_expect_events(vec![added(TRUST, "2026-04-07")]);
    // A complaint needing nobody's consent takes a participant at once; the participant sees
    // personal data only once the complainant's consent to share is on record (gateway).
    let own = fold(vec![received("2026-04-02"), added(TRUST, "2026-04-07")]);
    assert!(!own.consent_to_share_with(TRUST));
}

#[test]
fn r_cons_1_a_consent_records_who_for_whom_scope_method_and_evidence() {
    let history = vec![received_needing_consent("2026-04-02")];
    given(history.clone())
        .when(now(RecordConsentToShare {
            given_by: ConsentGiver::LegalAuthority,
            share_with: vec![TRUST.into()],
            ..consent_to_share(
                PersonRole::PersonAffected,
                vec![
                    ConsentScope::JointHandling,
                    ConsentScope::DiscloseToRepresentative,
                    ConsentScope::JointHandling,
                ],
                "2026-04-06",
            )
        }))
        .then_expect_events(vec![ComplaintEvent::ConsentToShareRecorded {
            given_on: d("2026-04-06"),
            for_whom: PersonRole::PersonAffected,
            given_by: ConsentGiver::LegalAuthority,
            scopes: vec![
                ConsentScope::DiscloseToRepresentative,
                ConsentScope::JointHandling,
            ],
            method: ConsentMethod::Written,
            evidence: Some(Confidential("Signed form.".into())),
            share_with: vec![TRUST.into()],
        }]);
    // Consent permits something.
    given(history.clone())
        .when(now(consent_to_share(
            PersonRole::PersonAffected,
            vec![],
            "2026-04-06",
        )))
        .then_expect_error(invalid(
            "scopes",
            "name at least one thing the consent permits",
        ));
    // Bodies are named only for joint handling.
    given(history)
        .when(now(RecordConsentToShare {
            share_with: vec![TRUST.into()],
            ..consent_to_share(
                PersonRole::PersonAffected,
                vec![ConsentScope::AccessRecords],
                "2026-04-06",
            )
        }))
        .then_expect_error(invalid(
            "share_with",
            "names bodies only for a consent to joint handling",
        ));
    // A complaint made by the person affected has nobody else to consent for.
    let refused = given(vec![received("2026-04-02")])
        .when(now(consent_to_share(
            PersonRole::PersonAffected,
            vec![ConsentScope::JointHandling],
            "2026-04-06",
        )))
        .inspect_result();
    assert!(
        matches!(
            refused,
            Err(E::InvalidField {
                field: "for_whom",
                ..
            })
        ),
        "{refused:?}"
    );
    // A fact from outside (R-FACT-1): recorded on a closed complaint too.
    let events = expect_ok(given(closed_case()).when(now(consent_to_share(
        PersonRole::Complainant,
        vec![ConsentScope::AccessRecords],
        "2026-04-22",
    ))));
    assert_eq!(events.len(), 1);
}

#[test]
fn r_joint_2_a_part_is_asked_of_a_participant_one_at_a_time() {
    let history = vec![received("2026-04-02"), added(TRUST, "2026-04-07")];
    given(history.clone())
        .when(now(request(TRUST, "2026-04-08", "2026-04-22")))
        .then_expect_events(vec![requested(1, TRUST, "2026-04-08", "2026-04-22")]);
    given(history.clone())
        .when(now(request("RBB", "2026-04-08", "2026-04-22")))
        .then_expect_error(E::NotParticipant {
            organisation: "RBB".into(),
        });
    given(history.clone())
        .when(now(request(TRUST, "2026-04-08", "2026-04-07")))
        .then_expect_error(out_of_order("due_on", "requested_on", "2026-04-08"));
    given(joint_case())
        .when(now(request(TRUST, "2026-04-09", "2026-04-30")))
        .then_expect_error(E::PartAlreadyRequested {
            organisation: TRUST.into(),
        });
    // Once supplied, another part may be asked for; requests are numbered on.
    let mut supplied = joint_case();
    supplied.push(provided(1, TRUST, "2026-04-20"));
    given(supplied)
        .when(now(request(TRUST, "2026-04-21", "2026-04-30")))
        .then_expect_events(vec![requested(2, TRUST, "2026-04-21", "2026-04-30")]);
}

#[test]
fn r_joint_2_only_a_participant_asked_for_its_part_supplies_it() {
    given(joint_case())
        .when(now(provide(Some(TRUST), "2026-04-20")))
        .then_expect_events(vec![provided(1, TRUST, "2026-04-20")]);
    // The lead, or a body not taking part, supplies nothing.
    for organisation in [Some(ORG), Some("RBB"), None] {
        given(joint_case())
            .when(now(provide(organisation, "2026-04-20")))
            .then_expect_error(E::NotParticipant {
                organisation: organisation.unwrap_or_default().into(),
            });
    }
    // Nothing asked, nothing to supply.
    given(vec![received("2026-04-02"), added(TRUST, "2026-04-07")])
        .when(now(provide(Some(TRUST), "2026-04-20")))
        .then_expect_error(E::NoPartRequested {
            organisation: TRUST.into(),
        });
    given(joint_case())
        .when(now(provide(Some(TRUST), "2026-04-07")))
        .then_expect_error(out_of_order("provided_on", "requested_on", "2026-04-08"));
}

#[test]
fn r_joint_2_only_the_lead_sends_the_coordinated_response_once_every_part_is_in() {
    // The lead sending before co-ordination finished is its own act done wrongly: refused.
    given(joint_case())
        .when(now(send_response("2026-04-24")))
        .then_expect_error(E::PartOutstanding {
            organisations: TRUST.into(),
        });
    let mut supplied = joint_case();
    supplied.push(provided(1, TRUST, "2026-04-23"));
    let events = expect_ok(given(supplied.clone()).when(now(send_response("2026-04-24"))));
    assert_eq!(
        events,
        vec![
            responded("2026-04-24", 1),
            ComplaintEvent::ResponseCoordinated {
                sent_on: d("2026-04-24"),
                stage: 1,
                parts: vec![CoordinatedPart {
                    organisation_id: TRUST.into(),
                    request: 1,
                    provided_on: d("2026-04-23"),
                }],
            },
        ]
    );
    // One response per stage: nobody sends a second.
    supplied.extend(events);
    given(supplied)
        .when(now(send_response("2026-04-25")))
        .then_expect_error(E::ResponseAlreadySent);
    // A complaint no other body took part in answers as ever, with no co-ordination record.
    let alone =
        expect_ok(given(vec![received("2026-04-02")]).when(now(send_response("2026-04-24"))));
    assert_eq!(alone, vec![responded("2026-04-24", 1)]);
}

#[test]
fn r_joint_2_a_late_part_is_missed_on_the_deadlines() {
    let status = part_status(joint_case(), "2026-04-22");
    assert_eq!(
        (
            status.due_on,
            status.state,
            status.item,
            status.organisation_id.as_deref()
        ),
        (
            Some(d("2026-04-22")),
            DeadlineState::Pending,
            Some(1),
            Some(TRUST)
        )
    );
    assert_eq!(
        part_status(joint_case(), "2026-04-23").state,
        DeadlineState::Missed
    );
    let mut late = joint_case();
    late.push(provided(1, TRUST, "2026-04-28"));
    let status = part_status(late, "2026-05-01");
    assert_eq!(
        (status.state, status.met_on),
        (DeadlineState::MetLate, Some(d("2026-04-28")))
    );
    let mut on_time = joint_case();
    on_time.push(provided(1, TRUST, "2026-04-22"));
    assert_eq!(
        part_status(on_time, "2026-05-01").state,
        DeadlineState::MetOnTime
    );
    // The complaint's own deadlines carry no organisation: they are the lead's.
    assert!(
        deadline_statuses(&fold(joint_case()), &services(), d("2026-04-23"))
            .iter()
            .filter(|s| s.kind != DeadlineKind::ParticipantPart)
            .all(|s| s.organisation_id.is_none())
    );
}

#[test]
fn r_joint_2_a_body_removed_owes_nothing_more_and_the_response_goes_without_it() {
    let mut history = joint_case();
    let removal = RemoveParticipant {
        organisation_id: TRUST.into(),
        removed_on: d("2026-04-15"),
        reason: "The trust's part was withdrawn by the complainant.".into(),
    };
    history.extend(expect_ok(given(history.clone()).when(now(removal.clone()))));
    let case = fold(history.clone());
    assert!(!case.is_participant(TRUST));
    assert_eq!(
        part_status(history.clone(), "2026-05-01").state,
        DeadlineState::NotRequired
    );
    given(history.clone())
        .when(now(provide(Some(TRUST), "2026-04-20")))
        .then_expect_error(E::NotParticipant {
            organisation: TRUST.into(),
        });
    given(history.clone())
        .when(now(removal))
        .then_expect_error(E::NotParticipant {
            organisation: TRUST.into(),
        });
    let events = expect_ok(given(history.clone()).when(now(send_response("2026-04-24"))));
    assert!(matches!(
        events.last(),
        Some(ComplaintEvent::ResponseCoordinated { parts, .. }) if parts.is_empty()
    ));
    // Taking part again is a new agreement.
    given(history)
        .when(now(add(TRUST, "2026-04-16")))
        .then_expect_events(vec![added(TRUST, "2026-04-16")]);
}
