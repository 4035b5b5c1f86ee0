//! Letters the rules require (R-EXCL-1, R-WHO-6, R-RESP-3, R-ACK-2) and contacts about
//! progress (R-RESP-1).

use super::*;
use ComplaintError as E;

fn letter_sent(kind: LetterKind, on: &str) -> ComplaintEvent {
    ComplaintEvent::LetterSent {
        kind,
        sent_on: d(on),
    }
}

fn record_letter(kind: LetterKind, on: &str) -> RecordLetter {
    RecordLetter {
        kind,
        sent_on: d(on),
    }
}

fn the(kind: DeadlineKind, case: &Complaint, today: &str) -> Option<DeadlineStatus> {
    deadline_statuses(case, &services(), d(today))
        .into_iter()
        .find(|s| s.kind == kind)
}

fn excluded_on(on: &str, category: ExclusionCategory) -> ComplaintEvent {
    ComplaintEvent::ComplaintClosed {
        closed_on: d(on),
        reason: ClosureReason::Excluded,
        exclusion_category: Some(category),
        transferred_to: None,
        resolved_on: None,
    }
}

#[test]
fn r_excl_1_an_excluded_complaint_owes_the_exclusion_notice_until_it_is_recorded() {
    // Closed Thursday 2 April 2026; Good Friday and Easter Monday follow.
    let history = vec![
        received("2026-04-02"),
        excluded_on("2026-04-02", ExclusionCategory::AlreadyInvestigated),
    ];
    let owed = the(DeadlineKind::Letter, &fold(history.clone()), "2026-04-08").unwrap();
    assert_eq!(owed.letter, Some(LetterKind::ExclusionNotice));
    assert_eq!(owed.due_on, Some(d("2026-04-09")));
    assert_eq!(owed.state, DeadlineState::Pending);
    assert_eq!(
        the(DeadlineKind::Letter, &fold(history.clone()), "2026-04-10")
            .unwrap()
            .state,
        DeadlineState::Missed
    );
    // A closed complaint takes the letter: it is owed after closure.
    given(history.clone())
        .when(now(record_letter(
            LetterKind::ExclusionNotice,
            "2026-04-07",
        )))
        .then_expect_events(vec![letter_sent(LetterKind::ExclusionNotice, "2026-04-07")]);
    let mut sent = history;
    sent.push(letter_sent(LetterKind::ExclusionNotice, "2026-04-07"));
    let met = the(DeadlineKind::Letter, &fold(sent), "2026-04-10").unwrap();
    assert_eq!(
        (met.state, met.met_on),
        (DeadlineState::MetOnTime, Some(d("2026-04-07")))
    );
}

#[test]
fn r_excl_1_an_oral_complaint_resolved_by_the_next_working_day_owes_no_exclusion_notice() {
    let case = fold(vec![
        receipt("2026-04-02").by(Channel::OralPhone).event(),
        excluded_on("2026-04-02", ExclusionCategory::OralResolvedNextWorkingDay),
    ]);
    assert_eq!(the(DeadlineKind::Letter, &case, "2026-04-20"), None);
}

#[test]
fn r_who_6_a_consent_lapse_closure_owes_its_letter() {
    let history = vec![received_needing_consent("2026-04-02")];
    let case = after(history, now(lapse_consent("2026-05-18")));
    let owed = the(DeadlineKind::Letter, &case, "2026-05-18").unwrap();
    assert_eq!(owed.letter, Some(LetterKind::ConsentLapseClosure));
    assert_eq!(owed.state, DeadlineState::Pending);
    // Other closures owe no letter.
    let withdrawn = fold(vec![
        received("2026-04-02"),
        closed("2026-04-03", ClosureReason::Withdrawn),
    ]);
    assert_eq!(the(DeadlineKind::Letter, &withdrawn, "2026-04-20"), None);
}

#[test]
fn r_who_6_a_letter_sent_before_a_reopening_does_not_answer_the_next_closure() {
    let case = fold(vec![
        received_needing_consent("2026-04-02"),
        closed("2026-05-14", ClosureReason::ConsentNotReceived),
        letter_sent(LetterKind::ConsentLapseClosure, "2026-05-15"),
        reopened("2026-05-20"),
        closed("2026-06-01", ClosureReason::ConsentNotReceived),
    ]);
    let owed = the(DeadlineKind::Letter, &case, "2026-06-02").unwrap();
    assert_eq!((owed.state, owed.met_on), (DeadlineState::Pending, None));
}

#[test]
fn r_ack_2_an_oral_complaints_written_record_is_due_with_the_acknowledgement() {
    let by_phone = receipt("2026-04-02").by(Channel::OralPhone).event();
    let owed = the(
        DeadlineKind::OralRecord,
        &fold(vec![by_phone.clone()]),
        "2026-04-08",
    )
    .unwrap();
    assert_eq!(owed.due_on, Some(d("2026-04-09")));
    assert_eq!(owed.letter, Some(LetterKind::OralRecordCopy));
    assert_eq!(owed.state, DeadlineState::Pending);
    let sent = fold(vec![
        by_phone,
        letter_sent(LetterKind::OralRecordCopy, "2026-04-10"),
    ]);
    let late = the(DeadlineKind::OralRecord, &sent, "2026-04-10").unwrap();
    assert_eq!(
        (late.state, late.met_on),
        (DeadlineState::MetLate, Some(d("2026-04-10")))
    );
    // A written complaint has no record to copy.
    assert_eq!(
        the(
            DeadlineKind::OralRecord,
            &fold(vec![received("2026-04-02")]),
            "2026-04-08"
        ),
        None
    );
    given(vec![received("2026-04-02")])
        .when(now(record_letter(LetterKind::OralRecordCopy, "2026-04-03")))
        .then_expect_error(E::LetterNotApplicable {
            kind: "oral_record_copy",
            why: "the complaint was not made orally".into(),
        });
}

#[test]
fn r_resp_3_a_delay_letter_recorded_as_a_letter_meets_the_delay_letter_deadline() {
    let case = after(
        vec![received("2026-01-05")],
        now(record_letter(LetterKind::DelayLetter, "2026-07-06")),
    );
    assert_eq!(case.delay_notified_on, vec![d("2026-07-06")]);
    let delay = the(DeadlineKind::DelayLetter, &case, "2026-07-10").unwrap();
    assert_eq!(delay.state, DeadlineState::MetLate);
}

#[test]
fn r_resp_1_contacts_with_the_complainant_are_logged_with_the_summary_kept_confidential() {
    let contact = RecordProgressContact {
        contacted_on: d("2026-04-10"),
        method: ContactMethod::Phone,
        summary: "Told Alex the records have been requested.".into(),
    };
    given(vec![received("2026-04-02")])
        .when(now(contact.clone()))
        .then_expect_events(vec![ComplaintEvent::ComplainantContacted {
            contacted_on: d("2026-04-10"),
            method: ContactMethod::Phone,
            summary: Confidential("Told Alex the records have been requested.".into()),
        }]);
    // Contact goes on after closure (an ombudsman's review, say).
    let case = after(closed_case(), now(contact.clone()));
    assert_eq!(case.progress_contacts.len(), 1);
    given(vec![received("2026-04-02")])
        .when(now(RecordProgressContact {
            summary: "".into(),
            ..contact.clone()
        }))
        .then_expect_error(blank("summary"));
    given(vec![received("2026-04-02")])
        .when(cmd("2026-04-09", contact))
        .then_expect_error(in_future("contacted_on", "2026-04-09"));
    let mut payload = serde_json::to_value(ComplaintEvent::ComplainantContacted {
        contacted_on: d("2026-04-10"),
        method: ContactMethod::Email,
        summary: Confidential("private".into()),
    })
    .unwrap();
    strip_personal_data("ComplainantContacted", "1.0", &mut payload);
    assert!(!payload.to_string().contains("private"), "{payload}");
}
