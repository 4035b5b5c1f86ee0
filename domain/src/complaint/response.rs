//! Answering a complaint: clock stops and restarts, the six-month delay letter, the signed
//! response, and escalation to internal review.

use super::checks::{open, required_text, DateCheck, Decision};
use super::state::Complaint;
use crate::commands::{EscalateComplaint, NotifyDelay, RestartClock, SendResponse, StopClock};
use crate::error::ComplaintError;
use crate::events::{ComplaintEvent, Confidential};
use crate::policy::ComplaintServices;

pub(super) fn stop_clock(case: &Complaint, cmd: StopClock, dates: &DateCheck) -> Decision {
    open(case)?;
    // R-WHO-3: stopping the clock for the investigation is considering the complaint.
    if !case.may_be_considered() {
        return Err(ComplaintError::RepresentativeGroundsNotFound);
    }
    // Integrity: stops do not overlap.
    if case.open_clock_stop().is_some() {
        return Err(ComplaintError::ClockAlreadyStopped);
    }
    // Integrity: once the stage's response is sent there is no clock left to stop.
    if case.current_response().is_some() {
        return Err(ComplaintError::ResponseAlreadySent);
    }
    required_text("reason", &cmd.reason)?;
    dates.on("stopped_on", cmd.stopped_on)?;
    let last_restart = case.clock_stops.iter().filter_map(|s| s.restarted_on).max();
    dates.not_before(
        "stopped_on",
        cmd.stopped_on,
        "the last restart",
        last_restart,
    )?;
    dates.not_before(
        "stopped_on",
        cmd.stopped_on,
        "escalated_on",
        case.escalated_on,
    )?;
    Ok(vec![ComplaintEvent::ClockStopped {
        stopped_on: cmd.stopped_on,
        reason: Confidential(cmd.reason),
        complainant_agreed: cmd.complainant_agreed,
    }])
}

pub(super) fn restart_clock(case: &Complaint, cmd: RestartClock, dates: &DateCheck) -> Decision {
    open(case)?;
    // Integrity: only a stopped clock restarts.
    let stop = case
        .open_clock_stop()
        .ok_or(ComplaintError::ClockNotStopped)?;
    dates.on("restarted_on", cmd.restarted_on)?;
    dates.not_before(
        "restarted_on",
        cmd.restarted_on,
        "stopped_on",
        Some(stop.stopped_on),
    )?;
    Ok(vec![ComplaintEvent::ClockRestarted {
        restarted_on: cmd.restarted_on,
    }])
}

pub(super) fn notify_delay(case: &Complaint, cmd: NotifyDelay, dates: &DateCheck) -> Decision {
    open(case)?;
    // R-RESP-3: the delay letter comes before the response it explains.
    if case.current_response().is_some() {
        return Err(ComplaintError::ResponseAlreadySent);
    }
    // R-RESP-3: the letter explains why.
    required_text("reason", &cmd.reason)?;
    dates.on("notified_on", cmd.notified_on)?;
    if let Some(expected) = cmd.expected_response_on {
        dates.not_before(
            "expected_response_on",
            expected,
            "notified_on",
            Some(cmd.notified_on),
        )?;
    }
    Ok(vec![ComplaintEvent::DelayNotified {
        notified_on: cmd.notified_on,
        expected_response_on: cmd.expected_response_on,
        reason: Confidential(cmd.reason),
    }])
}

/// The written response of the current stage (R-RESP-2).
pub(super) fn send(
    case: &Complaint,
    cmd: SendResponse,
    dates: &DateCheck,
    services: &ComplaintServices,
) -> Decision {
    let receipt = open(case)?;
    // Integrity: one response per stage.
    if case.current_response().is_some() {
        return Err(ComplaintError::ResponseAlreadySent);
    }
    // R-TL-2: an out-of-time complaint is answered only once accepted.
    if !case.may_be_investigated() {
        return Err(ComplaintError::OutOfTimeNotAccepted);
    }
    // R-WHO-3: a child's representative's complaint is answered only once grounds are found.
    if !case.may_be_considered() {
        return Err(ComplaintError::RepresentativeGroundsNotFound);
    }
    // R-WHO-5: no disclosure to a representative before the person affected consents.
    if case.consent_outstanding() {
        return Err(ComplaintError::ConsentOutstanding);
    }
    // R-JOINT-2: one co-ordinated response, once every part asked for is in.
    super::joint::check_parts_in(case)?;
    dates.on("sent_on", cmd.sent_on)?;
    dates.not_before("sent_on", cmd.sent_on, "escalated_on", case.escalated_on)?;
    // R-RESP-2, R-SCOPE-4: signed by the responsible person or an authorised delegate.
    if cmd.signed_by.trim().is_empty() {
        return Err(ComplaintError::UnsignedResponse);
    }
    // R-RESP-2, R-SCOPE-4: when the register names the signatories, only they sign.
    if let Some(organisation) = services.organisation(&receipt.organisation_id) {
        if organisation.may_sign(&cmd.signed_by, cmd.signed_as) == Some(false) {
            return Err(ComplaintError::SignatoryNotAuthorised {
                capacity: cmd.signed_as.code(),
            });
        }
    }
    // R-RESP-2 (iv), R-OMB-3: the complainant's right to go to the ombudsman.
    if cmd.ombudsman_rights.is_empty() {
        return Err(ComplaintError::MissingOmbudsmanRights);
    }
    let missing: Vec<&str> = [
        ("how_considered", &cmd.letter.how_considered),
        ("conclusions", &cmd.letter.conclusions),
        ("actions", &cmd.letter.actions),
    ]
    .into_iter()
    .filter(|(_, text)| text.trim().is_empty())
    .map(|(name, _)| name)
    .collect();
    // R-RESP-2 (i) to (iii): how it was considered, the conclusions, the action taken.
    if !missing.is_empty() {
        return Err(ComplaintError::IncompleteResponse {
            missing: missing.join(", "),
        });
    }
    let mut rights = cmd.ombudsman_rights;
    rights.sort();
    rights.dedup();
    let coordinated = super::joint::coordinated(case, cmd.sent_on);
    let mut events = vec![ComplaintEvent::ResponseSent {
        sent_on: cmd.sent_on,
        stage: case.stage,
        outcome: cmd.outcome,
        signed_by: cmd.signed_by,
        signed_as: cmd.signed_as,
        ombudsman_rights: rights,
        letter: Confidential(cmd.letter),
    }];
    events.extend(coordinated);
    Ok(events)
}

/// Internal review (stage 2) of the first response.
pub(super) fn escalate(case: &Complaint, cmd: EscalateComplaint, dates: &DateCheck) -> Decision {
    open(case)?;
    // Integrity: internal review is the last local stage.
    if case.stage >= 2 {
        return Err(ComplaintError::AlreadyEscalated);
    }
    // Integrity: a review needs a first response to review.
    let first = case
        .first_response()
        .ok_or(ComplaintError::NoResponseToEscalate)?;
    required_text("reason", &cmd.reason)?;
    dates.on("escalated_on", cmd.escalated_on)?;
    dates.not_before(
        "escalated_on",
        cmd.escalated_on,
        "the response",
        Some(first.sent_on),
    )?;
    Ok(vec![ComplaintEvent::ComplaintEscalated {
        escalated_on: cmd.escalated_on,
        reason: Confidential(cmd.reason),
    }])
}
