//! Legal hold (R-RET-1): a case file held for litigation, an ombudsman or an inquiry has no
//! retention review date until the hold ends.

use super::*;

fn closed_case() -> Vec<ComplaintEvent> {
    vec![
        receipt("2026-04-02").event(),
        ComplaintEvent::ComplaintClosed {
            closed_on: d("2026-06-30"),
            reason: ClosureReason::Withdrawn,
            exclusion_category: None,
            transferred_to: None,
            resolved_on: None,
        },
    ]
}

fn hold(on: &str) -> ComplaintAction {
    ComplaintAction::PlaceLegalHold(PlaceLegalHold {
        placed_on: d(on),
        ground: LegalHoldGround::Litigation,
        note: "Claim QB-2026-001".into(),
    })
}

fn release(on: &str) -> ComplaintAction {
    ComplaintAction::ReleaseLegalHold(ReleaseLegalHold { released_on: d(on) })
}

#[test]
fn a_held_case_file_has_no_retention_review_until_the_hold_ends() {
    let held = after(closed_case(), now(hold("2026-07-01")));
    let services = services();
    assert_eq!(
        deadlines(&held, &services).unwrap().retention_review_due,
        None
    );
    assert!(held.legal_hold.is_some());

    let mut history = closed_case();
    history.push(ComplaintEvent::LegalHoldPlaced {
        placed_on: d("2026-07-01"),
        ground: LegalHoldGround::Litigation,
        note: Confidential("Claim QB-2026-001".into()),
    });
    let released = after(history, now(release("2026-08-01")));
    assert_eq!(
        deadlines(&released, &services)
            .unwrap()
            .retention_review_due,
        Some(d("2036-06-30"))
    );
}

#[test]
fn a_hold_is_placed_once_and_released_once() {
    let mut history = closed_case();
    given(history.clone())
        .when(now(release("2026-08-01")))
        .then_expect_error(ComplaintError::NotOnLegalHold);
    history.push(ComplaintEvent::LegalHoldPlaced {
        placed_on: d("2026-07-01"),
        ground: LegalHoldGround::Ombudsman,
        note: Confidential("PHSO case".into()),
    });
    given(history.clone())
        .when(now(hold("2026-07-02")))
        .then_expect_error(ComplaintError::AlreadyOnLegalHold);
    given(history)
        .when(now(release("2026-06-30")))
        .then_expect_error(ComplaintError::DateOutOfOrder {
            field: "released_on",
            earlier: "placed_on",
            earlier_on: d("2026-07-01"),
        });
}

#[test]
fn a_hold_needs_a_note_and_a_received_complaint() {
    given(vec![])
        .when(now(hold("2026-07-01")))
        .then_expect_error(ComplaintError::NotReceived);
    let blank = ComplaintAction::PlaceLegalHold(PlaceLegalHold {
        placed_on: d("2026-07-01"),
        ground: LegalHoldGround::PublicInquiry,
        note: " ".into(),
    });
    given(closed_case())
        .when(now(blank))
        .then_expect_error(ComplaintError::InvalidField {
            field: "note",
            reason: "must not be blank".into(),
        });
}
