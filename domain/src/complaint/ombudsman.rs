//! What the body is told of an ombudsman's involvement: the referral and the decision
//! (R-OMB-1, R-OMB-2).

use super::checks::{required_text, DateCheck, Decision};
use super::state::Complaint;
use crate::commands::{RecordOmbudsmanDecision, RecordRecommendationDone, ReferToOmbudsman};
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::reference::LearningKind;

/// The body being told of a referral is a fact (R-FACT-1, R-OMB-1): recorded on a closed
/// complaint (which stays closed), before any response, while the clock is stopped and
/// alongside an open referral to the same ombudsman; the unusual ones are flagged by
/// `warnings`.
pub(super) fn refer(case: &Complaint, cmd: ReferToOmbudsman, dates: &DateCheck) -> Decision {
    case.receipt()?;
    dates.on("informed_on", cmd.informed_on)?;
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
    dates.on("decided_on", cmd.decided_on)?;
    // R-OMB-2: a decision is recorded against the referral it answers; with none on record
    // it is still a fact (R-FACT-1), recorded and flagged.
    if let Some(referral) = case
        .referrals
        .iter()
        .rev()
        .find(|r| r.ombudsman == cmd.ombudsman)
    {
        // R-OMB-2: one decision per referral.
        if referral.decision.is_some() {
            return Err(ComplaintError::OmbudsmanDecisionAlreadyRecorded { ombudsman: name() });
        }
        dates.not_before(
            "decided_on",
            cmd.decided_on,
            "informed_on",
            Some(referral.informed_on),
        )?;
    }
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

/// A recommendation carried out (R-OMB-2): recorded with what was done, and the same text is
/// recorded as an improvement action, so the annual report's actions (R-AR-1 item 6) include
/// what the ombudsman asked for. Closed complaints take it: the ombudsman usually decides
/// after local closure (R-OMB-1).
pub(super) fn record_recommendation_done(
    case: &Complaint,
    cmd: RecordRecommendationDone,
    dates: &DateCheck,
) -> Decision {
    case.receipt()?;
    let number = cmd.recommendation;
    let tracked = case
        .recommendations
        .iter()
        .find(|r| r.number == number)
        .ok_or(ComplaintError::UnknownRecommendation { number })?;
    // Integrity: a recommendation is done once.
    if tracked.done_on.is_some() {
        return Err(ComplaintError::RecommendationAlreadyDone { number });
    }
    required_text("what_was_done", &cmd.what_was_done)?;
    dates.on("done_on", cmd.done_on)?;
    dates.not_before(
        "done_on",
        cmd.done_on,
        "the ombudsman's decision",
        Some(tracked.decided_on),
    )?;
    let what_was_done = cmd.what_was_done.trim().to_string();
    Ok(vec![
        ComplaintEvent::RecommendationDone {
            recommendation: number,
            done_on: cmd.done_on,
            what_was_done: what_was_done.clone(),
        },
        // The action is done, so it has no due date left to keep.
        ComplaintEvent::LearningRecorded {
            recorded_on: cmd.done_on,
            kind: LearningKind::Action,
            summary: what_was_done,
            action_due_on: None,
        },
    ])
}
