//! What the body is told of an ombudsman's involvement: the referral and the decision
//! (R-OMB-1, R-OMB-2).

use super::checks::{required_text, DateCheck, Decision};
use super::dates::response_due;
use super::state::Complaint;
use crate::commands::{RecordOmbudsmanDecision, ReferToOmbudsman};
use crate::deadlines::ResponseDue;
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::policy::ComplaintServices;

pub(super) fn refer(
    case: &Complaint,
    cmd: ReferToOmbudsman,
    dates: &DateCheck,
    services: &ComplaintServices,
) -> Decision {
    // R-OMB-1: accepted on a closed complaint, which stays closed.
    case.receipt()?;
    dates.on("informed_on", cmd.informed_on)?;
    // R-OMB-1: one open referral per ombudsman.
    if case
        .referrals
        .iter()
        .any(|r| r.ombudsman == cmd.ombudsman && r.decision.is_none())
    {
        return Err(ComplaintError::AlreadyReferred {
            ombudsman: cmd.ombudsman.code().to_uppercase(),
        });
    }
    // R-OMB-1: before a final response, only an overdue one lets an open complaint go to the
    // ombudsman; a complaint closed locally accepts the referral whatever its history.
    if case.final_response().is_none() && !case.is_closed() {
        let due = response_due(case, services);
        let overdue = match due {
            ResponseDue::Due(due_on) => cmd.informed_on > due_on,
            ResponseDue::Stopped | ResponseDue::NotApplicable => false,
        };
        if !overdue {
            return Err(ComplaintError::ReferralBeforeFinalResponse {
                response_due: match due {
                    ResponseDue::Due(d) => d.to_string(),
                    _ => "not set while the clock is stopped".into(),
                },
            });
        }
    }
    let reference = cmd.ombudsman_reference.filter(|r| !r.trim().is_empty());
    Ok(vec![ComplaintEvent::ReferredToOmbudsman {
        ombudsman: cmd.ombudsman,
        informed_on: cmd.informed_on,
        ombudsman_reference: reference,
    }])
}

pub(super) fn record_decision(
    case: &Complaint,
    cmd: RecordOmbudsmanDecision,
    dates: &DateCheck,
) -> Decision {
    case.receipt()?;
    let name = || cmd.ombudsman.code().to_uppercase();
    // R-OMB-2: a decision is recorded against the referral it answers.
    let referral = case
        .referrals
        .iter()
        .rev()
        .find(|r| r.ombudsman == cmd.ombudsman)
        .ok_or_else(|| ComplaintError::NotReferred { ombudsman: name() })?;
    // R-OMB-2: one decision per referral.
    if referral.decision.is_some() {
        return Err(ComplaintError::OmbudsmanDecisionAlreadyRecorded { ombudsman: name() });
    }
    dates.on("decided_on", cmd.decided_on)?;
    dates.not_before(
        "decided_on",
        cmd.decided_on,
        "informed_on",
        Some(referral.informed_on),
    )?;
    // R-OMB-2: each recommendation says what is to be done.
    for r in &cmd.recommendations {
        required_text("recommendations.description", &r.description)?;
    }
    Ok(vec![ComplaintEvent::OmbudsmanDecisionRecorded {
        ombudsman: cmd.ombudsman,
        decided_on: cmd.decided_on,
        decision: cmd.decision,
        recommendations: cmd.recommendations,
    }])
}
