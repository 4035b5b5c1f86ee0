//! The end of a complaint and what outlives it: closure, reopening, legal hold on the case
//! file, and learning.

use super::checks::{open, required_text, valid_organisation_id, DateCheck, Decision};
use super::state::Complaint;
use crate::calendar::Calendar;
use crate::commands::{
    CloseComplaint, PlaceLegalHold, RecordLearning, RecordOralResolution, ReleaseLegalHold,
    ReopenComplaint,
};
use crate::error::ComplaintError;
use crate::events::{ComplaintEvent, Confidential};
use crate::facts::Receipt;
use crate::policy;
use crate::reference::{
    ClosureReason, ExclusionCategory, LearningKind, RepresentationBasis, Route,
};

pub(super) fn close(
    case: &Complaint,
    cmd: CloseComplaint,
    dates: &DateCheck,
    calendar: &Calendar,
) -> Decision {
    let receipt = open(case)?;
    dates.on("closed_on", cmd.closed_on)?;
    dates.not_before(
        "closed_on",
        cmd.closed_on,
        "reopened_on",
        case.reopened_on.last().copied(),
    )?;
    check_reason(case, receipt, &cmd, dates, calendar)?;
    Ok(vec![ComplaintEvent::ComplaintClosed {
        closed_on: cmd.closed_on,
        reason: cmd.reason,
        exclusion_category: cmd.exclusion_category,
        transferred_to: cmd.transferred_to.map(|t| t.trim().to_string()),
        resolved_on: None,
    }])
}

/// Closes an oral complaint resolved to the complainant's satisfaction by the next working
/// day (reg 8(1)(c), R-EXCL-2). The cut-off is checked against the day it was resolved, so a
/// closure recorded later (the caseworker back from leave, the notes typed up on Monday)
/// still excludes it.
pub(super) fn resolve_orally(
    case: &Complaint,
    cmd: RecordOralResolution,
    dates: &DateCheck,
    calendar: &Calendar,
) -> Decision {
    let receipt = open(case)?;
    let not_applicable = |why: String| ComplaintError::ClosureReasonNotApplicable {
        reason: ClosureReason::Excluded.code(),
        why,
    };
    dates.on("resolved_on", cmd.resolved_on)?;
    dates.on("closed_on", cmd.closed_on)?;
    dates.not_before(
        "closed_on",
        cmd.closed_on,
        "resolved_on",
        Some(cmd.resolved_on),
    )?;
    dates.not_before(
        "resolved_on",
        cmd.resolved_on,
        "reopened_on",
        case.reopened_on.last().copied(),
    )?;
    // R-EXCL-2: reg 8(1)(c) covers oral complaints only...
    if !receipt.channel.is_oral() {
        return Err(not_applicable("the complaint was not made orally".into()));
    }
    // R-EXCL-2: ...resolved by the next working day after the day it was made.
    let cutoff = policy::oral_resolution_cutoff(receipt.received_on, calendar);
    if cmd.resolved_on > cutoff {
        return Err(not_applicable(format!(
            "an oral complaint must be resolved by the next working day ({cutoff})"
        )));
    }
    Ok(vec![ComplaintEvent::ComplaintClosed {
        closed_on: cmd.closed_on,
        reason: ClosureReason::Excluded,
        exclusion_category: Some(ExclusionCategory::OralResolvedNextWorkingDay),
        transferred_to: None,
        resolved_on: Some(cmd.resolved_on),
    }])
}

/// Whether the closure reason fits the case.
fn check_reason(
    case: &Complaint,
    receipt: &Receipt,
    cmd: &CloseComplaint,
    dates: &DateCheck,
    calendar: &Calendar,
) -> Result<(), ComplaintError> {
    let not_applicable = |why: &str| ComplaintError::ClosureReasonNotApplicable {
        reason: cmd.reason.code(),
        why: why.to_string(),
    };
    // R-EXCL-1: a regulation 8 category belongs to an excluded complaint only.
    if cmd.reason != ClosureReason::Excluded && cmd.exclusion_category.is_some() {
        return Err(ComplaintError::InvalidField {
            field: "exclusion_category",
            reason: "only an excluded complaint has an exclusion category".into(),
        });
    }
    // Integrity: a receiving organisation belongs to a transferred complaint only.
    if cmd.reason != ClosureReason::Transferred
        && (cmd.transferred_to.is_some()
            || cmd.receiver_received_on.is_some()
            || cmd.complainant_consented.is_some())
    {
        return Err(ComplaintError::InvalidField {
            field: "transferred_to",
            reason: "only a transferred complaint has a receiving organisation".into(),
        });
    }
    match cmd.reason {
        ClosureReason::Resolved => {
            // R-RESP-2: resolved means answered in writing (a complaint; an enquiry or a
            // concern ends without the statutory response).
            if receipt.kind.is_complaint() && case.current_response().is_none() {
                return Err(ComplaintError::ResolvedWithoutResponse);
            }
        }
        ClosureReason::Withdrawn => {}
        ClosureReason::ConsentNotReceived => {
            // R-WHO-6: only a complaint still waiting for consent closes for want of it.
            if !case.consent_outstanding() {
                return Err(not_applicable("no consent is outstanding"));
            }
        }
        ClosureReason::OutOfTime => {
            // R-TL-2: only a complaint out of time and not accepted closes as out of time.
            if case.may_be_investigated() {
                return Err(not_applicable(
                    "the complaint is in time or was accepted out of time",
                ));
            }
        }
        ClosureReason::Excluded => {
            // R-EXCL-1: an exclusion names its regulation 8(1) category.
            let category = cmd.exclusion_category.ok_or(ComplaintError::InvalidField {
                field: "exclusion_category",
                reason: "an excluded complaint needs its regulation 8(1) category".into(),
            })?;
            if category == ExclusionCategory::OralResolvedNextWorkingDay {
                // R-EXCL-2: without a resolution date (see `resolve_orally`) the closure day
                // is the latest the complaint can have been resolved, so checking it can
                // never exclude a complaint resolved too late.
                // R-EXCL-2: reg 8(1)(c) covers oral complaints only...
                if !receipt.channel.is_oral() {
                    return Err(not_applicable("the complaint was not made orally"));
                }
                // R-EXCL-2: ...resolved by the next working day.
                let cutoff = policy::oral_resolution_cutoff(receipt.received_on, calendar);
                if cmd.closed_on > cutoff {
                    return Err(not_applicable(&format!(
                        "an oral complaint must be resolved by the next working day ({cutoff})"
                    )));
                }
            }
        }
        ClosureReason::Transferred => {
            let to = cmd
                .transferred_to
                .as_deref()
                .map(str::trim)
                .unwrap_or_default();
            valid_organisation_id("transferred_to", to)?;
            // R-SCOPE-2: a transfer goes to the body the complaint belongs to, not back here.
            if to == receipt.organisation_id {
                return Err(ComplaintError::InvalidField {
                    field: "transferred_to",
                    reason: "a complaint is transferred to another organisation".into(),
                });
            }
            // R-SCOPE-3: a commissioner passes a complaint to the provider only with the
            // complainant's consent.
            if receipt.route == Route::Commissioner && cmd.complainant_consented != Some(true) {
                return Err(ComplaintError::TransferConsentMissing);
            }
            // R-CONS-1, R-WHO-5: the person affected's details go to another body only
            // with their consent, when it is needed.
            if case.consent_outstanding() {
                return Err(ComplaintError::ConsentOutstanding);
            }
            if let Some(day) = cmd.receiver_received_on {
                dates.on("receiver_received_on", day)?;
                if day < cmd.closed_on {
                    return Err(ComplaintError::DateOutOfOrder {
                        field: "receiver_received_on",
                        earlier: "closed_on",
                        earlier_on: cmd.closed_on,
                    });
                }
            }
        }
        ClosureReason::TreatedAsComplaint => {
            // R-KIND-1: only an enquiry becomes a complaint, through its own command.
            return Err(not_applicable(
                "an enquiry is treated as a complaint with `treat_as_complaint`",
            ));
        }
        ClosureReason::RepresentativeGroundsNotFound => {
            // R-WHO-3: only a child's representative's complaint, with no grounds found.
            if receipt.representation_basis != Some(RepresentationBasis::Child)
                || case.may_be_considered()
            {
                return Err(not_applicable(
                    "applies only to a child's representative's complaint without grounds found",
                ));
            }
        }
        ClosureReason::RepresentativeNotInBestInterests => {
            // R-WHO-4: applies to representatives of a child or a person lacking capacity.
            if !matches!(
                receipt.representation_basis,
                Some(RepresentationBasis::Child | RepresentationBasis::LacksCapacity)
            ) {
                return Err(not_applicable(
                    "applies only to a representative of a child or a person lacking capacity",
                ));
            }
        }
    }
    Ok(())
}

pub(super) fn reopen(case: &Complaint, cmd: ReopenComplaint, dates: &DateCheck) -> Decision {
    case.receipt()?;
    // Integrity: only a closed complaint reopens.
    let closure = case.closure.as_ref().ok_or(ComplaintError::NotClosed)?;
    required_text("reason", &cmd.reason)?;
    dates.on("reopened_on", cmd.reopened_on)?;
    dates.not_before(
        "reopened_on",
        cmd.reopened_on,
        "closed_on",
        Some(closure.closed_on),
    )?;
    Ok(vec![ComplaintEvent::ComplaintReopened {
        reopened_on: cmd.reopened_on,
        reason: Confidential(cmd.reason),
    }])
}

pub(super) fn place_legal_hold(
    case: &Complaint,
    cmd: PlaceLegalHold,
    dates: &DateCheck,
) -> Decision {
    // R-RET-1: holds apply to the case file whatever its state, closed files above all.
    case.receipt()?;
    // R-RET-1: one hold at a time.
    if case.legal_hold.is_some() {
        return Err(ComplaintError::AlreadyOnLegalHold);
    }
    required_text("note", &cmd.note)?;
    dates.on("placed_on", cmd.placed_on)?;
    Ok(vec![ComplaintEvent::LegalHoldPlaced {
        placed_on: cmd.placed_on,
        ground: cmd.ground,
        note: Confidential(cmd.note),
    }])
}

pub(super) fn release_legal_hold(
    case: &Complaint,
    cmd: ReleaseLegalHold,
    dates: &DateCheck,
) -> Decision {
    case.receipt()?;
    // R-RET-1: only a hold in force is released.
    let hold = case
        .legal_hold
        .as_ref()
        .ok_or(ComplaintError::NotOnLegalHold)?;
    dates.on("released_on", cmd.released_on)?;
    dates.not_before(
        "released_on",
        cmd.released_on,
        "placed_on",
        Some(hold.placed_on),
    )?;
    Ok(vec![ComplaintEvent::LegalHoldReleased {
        released_on: cmd.released_on,
    }])
}

pub(super) fn record_learning(
    case: &Complaint,
    cmd: RecordLearning,
    dates: &DateCheck,
) -> Decision {
    // R-AR-1 items 5 and 6: learning often follows closure, so closed cases accept it.
    case.receipt()?;
    required_text("summary", &cmd.summary)?;
    dates.on("recorded_on", cmd.recorded_on)?;
    if let Some(due) = cmd.action_due_on {
        // R-AR-1 item 6: only an action is due; a lesson has no due date.
        if cmd.kind != LearningKind::Action {
            return Err(ComplaintError::InvalidField {
                field: "action_due_on",
                reason: "only an action has a due date".into(),
            });
        }
        dates.not_before("action_due_on", due, "recorded_on", Some(cmd.recorded_on))?;
    }
    Ok(vec![ComplaintEvent::LearningRecorded {
        recorded_on: cmd.recorded_on,
        kind: cmd.kind,
        summary: cmd.summary,
        action_due_on: cmd.action_due_on,
    }])
}
