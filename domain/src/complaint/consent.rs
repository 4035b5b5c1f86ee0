//! The person affected's consent to a representative's complaint (R-WHO-5, R-WHO-6).

use super::checks::{open, DateCheck, Decision};
use super::state::Complaint;
use crate::commands::{LapseConsent, RecordConsent, RequestConsent};
use crate::deadlines::consent_lapses_on;
use crate::error::ComplaintError;
use crate::events::{ComplaintEvent, Confidential, ConsentDecision};
use crate::policy::ComplaintServices;
use crate::reference::ClosureReason;

pub(super) fn request(case: &Complaint, cmd: RequestConsent, dates: &DateCheck) -> Decision {
    let receipt = open(case)?;
    // R-WHO-5: only a complaint that needs someone's consent asks for it.
    if !receipt.consent_required {
        return Err(ComplaintError::ConsentNotRequired);
    }
    // R-WHO-6: nothing left to ask once consent is given, refused or lapsed.
    if case.consent.decided() {
        return Err(ComplaintError::ConsentAlreadyDecided);
    }
    // Integrity: one request per complaint.
    if case.consent.requested_on.is_some() {
        return Err(ComplaintError::ConsentAlreadyRequested);
    }
    dates.on("requested_on", cmd.requested_on)?;
    Ok(vec![ComplaintEvent::ConsentRequested {
        requested_on: cmd.requested_on,
    }])
}

/// The person affected's answer is a fact from outside (R-FACT-1): recorded on a closed
/// complaint, before any request and after an earlier refusal, each flagged by `warnings`.
pub(super) fn record(case: &Complaint, cmd: RecordConsent, dates: &DateCheck) -> Decision {
    let receipt = case.receipt()?;
    // R-WHO-5: no consent to record where none is needed.
    if !receipt.consent_required {
        return Err(ComplaintError::ConsentNotRequired);
    }
    // R-WHO-6: consent once given is final here; a later change of mind is handled as a
    // withdrawal of the complaint, not as a refusal.
    if case.consent.given_on.is_some() {
        return Err(ComplaintError::ConsentAlreadyDecided);
    }
    dates.on("decided_on", cmd.decided_on)?;
    Ok(vec![match cmd.decision {
        ConsentDecision::Given => ComplaintEvent::ConsentGiven {
            given_on: cmd.decided_on,
            evidence: cmd.evidence.map(Confidential),
        },
        ConsentDecision::Refused => ComplaintEvent::ConsentRefused {
            refused_on: cmd.decided_on,
        },
    }])
}

/// Records the lapse and closes the complaint for want of consent (R-WHO-6).
pub(super) fn lapse(
    case: &Complaint,
    cmd: LapseConsent,
    dates: &DateCheck,
    services: &ComplaintServices,
) -> Decision {
    let receipt = open(case)?;
    // R-WHO-5: only needed consent can lapse.
    if !receipt.consent_required {
        return Err(ComplaintError::ConsentNotRequired);
    }
    // R-WHO-6: consent given, refused or already lapsed cannot lapse.
    if case.consent.decided() {
        return Err(ComplaintError::ConsentAlreadyDecided);
    }
    dates.on("lapsed_on", cmd.lapsed_on)?;
    let policy = services.policies.for_organisation(&receipt.organisation_id);
    // R-WHO-6: the deadline is local policy, and an organisation may set none.
    let lapses_on = consent_lapses_on(receipt, policy, &services.calendar)
        .ok_or(ComplaintError::ConsentLapseNotConfigured)?;
    // R-WHO-6: consent arriving on the last day is in time, so the lapse comes after it.
    if cmd.lapsed_on <= lapses_on {
        return Err(ComplaintError::ConsentNotYetLapsed { lapses_on });
    }
    Ok(vec![
        ComplaintEvent::ConsentLapsed {
            lapsed_on: cmd.lapsed_on,
        },
        ComplaintEvent::ComplaintClosed {
            closed_on: cmd.lapsed_on,
            reason: ClosureReason::ConsentNotReceived,
            exclusion_category: None,
            transferred_to: None,
            resolved_on: None,
        },
    ])
}
