//! Joint complaints (R-JOINT-1, R-JOINT-2) and the consent that lets them be shared
//! (R-CONS-1). The complaint's own organisation leads: it adds the other bodies, asks each
//! for its part by a day, and sends the one co-ordinated response once every part asked
//! for is in. A participant's only act is supplying its part; who may run which command is
//! the gateway's to check, as the domain never sees the caller.

use super::checks::{open, required_text, valid_organisation_id, DateCheck, Decision};
use super::state::Complaint;
use crate::case_kind::CaseKind;
use crate::commands::{
    AddParticipant, ProvidePart, RecordConsentToShare, RemoveParticipant, RequestPart,
};
use crate::error::ComplaintError;
use crate::events::{ComplaintEvent, Confidential, CoordinatedPart};
use crate::reference::{ConsentScope, PersonRole};

/// Refuses joint handling on anything but a statutory complaint: reg 9 is a step of the
/// 2009 regulations, and a whistleblowing concern is never shared with another body
/// (R-KIND-3).
fn joint_applies(case: &Complaint, command: &'static str) -> Result<(), ComplaintError> {
    let kind = case.kind();
    let why = match kind {
        CaseKind::Complaint => return Ok(()),
        CaseKind::Whistleblowing => "a whistleblowing concern is never handled jointly (R-KIND-3)",
        _ => "joint handling (reg 9) is a step of the 2009 complaints regulations",
    };
    Err(ComplaintError::NotForThisKind {
        kind: kind.code(),
        command,
        why: why.to_string(),
    })
}

/// Records a consent with its scope (R-CONS-1). Consent comes from outside: recorded in any
/// state, the case closed or not (R-FACT-1); only a record that cannot be right is refused.
pub(super) fn record_consent_to_share(
    case: &Complaint,
    cmd: RecordConsentToShare,
    dates: &DateCheck,
) -> Decision {
    let receipt = case.receipt()?;
    // R-CONS-1: a consent permits something.
    if cmd.scopes.is_empty() {
        return Err(ComplaintError::InvalidField {
            field: "scopes",
            reason: "name at least one thing the consent permits".into(),
        });
    }
    // Integrity: only a complaint made for someone else has a person affected.
    if cmd.for_whom == PersonRole::PersonAffected && receipt.representation_basis.is_none() {
        return Err(ComplaintError::InvalidField {
            field: "for_whom",
            reason:
                "the complaint was made by the person affected: the consent is the complainant's"
                    .into(),
        });
    }
    // Integrity: the bodies named are those it may be shared with for joint handling.
    if !cmd.share_with.is_empty() && !cmd.scopes.contains(&ConsentScope::JointHandling) {
        return Err(ComplaintError::InvalidField {
            field: "share_with",
            reason: "names bodies only for a consent to joint handling".into(),
        });
    }
    for organisation in &cmd.share_with {
        valid_organisation_id("share_with", organisation)?;
    }
    dates.on("given_on", cmd.given_on)?;
    let mut scopes = cmd.scopes;
    scopes.sort();
    scopes.dedup();
    Ok(vec![ComplaintEvent::ConsentToShareRecorded {
        given_on: cmd.given_on,
        for_whom: cmd.for_whom,
        given_by: cmd.given_by,
        scopes,
        method: cmd.method,
        evidence: cmd
            .evidence
            .filter(|e| !e.trim().is_empty())
            .map(Confidential),
        share_with: cmd.share_with,
    }])
}

/// Another body takes part in the complaint, this one leading (R-JOINT-1, R-JOINT-2).
pub(super) fn add_participant(
    case: &Complaint,
    cmd: AddParticipant,
    dates: &DateCheck,
) -> Decision {
    joint_applies(case, "add_participant")?;
    let receipt = open(case)?;
    valid_organisation_id("organisation_id", &cmd.organisation_id)?;
    // R-JOINT-1: the material is another body's; the lead does not take part in its own.
    if cmd.organisation_id == receipt.organisation_id {
        return Err(ComplaintError::ParticipantIsLead);
    }
    // Integrity: one place per body.
    if case.is_participant(&cmd.organisation_id) {
        return Err(ComplaintError::AlreadyParticipant {
            organisation: cmd.organisation_id,
        });
    }
    required_text("agreed_by", &cmd.agreed_by)?;
    required_text("reason", &cmd.reason)?;
    dates.on("agreed_on", cmd.agreed_on)?;
    dates.not_before(
        "agreed_on",
        cmd.agreed_on,
        "reopened_on",
        case.reopened_on.last().copied(),
    )?;
    // R-CONS-1: a complaint that needs the person affected's consent is not shared with
    // another body before that person consents to joint handling with it.
    if case.consent_needed() && !case.consent_to_share_with(&cmd.organisation_id) {
        return Err(ComplaintError::ConsentToShareMissing {
            organisation: cmd.organisation_id,
        });
    }
    Ok(vec![ComplaintEvent::ParticipantAdded {
        organisation_id: cmd.organisation_id,
        agreed_on: cmd.agreed_on,
        agreed_by: cmd.agreed_by,
        reason: Confidential(cmd.reason),
    }])
}

/// A body stops taking part; what it still owed lapses.
pub(super) fn remove_participant(
    case: &Complaint,
    cmd: RemoveParticipant,
    dates: &DateCheck,
) -> Decision {
    joint_applies(case, "remove_participant")?;
    open(case)?;
    let participant = case
        .current_participants()
        .find(|p| p.organisation_id == cmd.organisation_id)
        .ok_or_else(|| ComplaintError::NotParticipant {
            organisation: cmd.organisation_id.clone(),
        })?;
    required_text("reason", &cmd.reason)?;
    dates.on("removed_on", cmd.removed_on)?;
    dates.not_before(
        "removed_on",
        cmd.removed_on,
        "agreed_on",
        Some(participant.agreed_on),
    )?;
    Ok(vec![ComplaintEvent::ParticipantRemoved {
        organisation_id: cmd.organisation_id,
        removed_on: cmd.removed_on,
        reason: Confidential(cmd.reason),
    }])
}

/// The lead asks a participant for its part of the current stage's response by a day.
pub(super) fn request_part(case: &Complaint, cmd: RequestPart, dates: &DateCheck) -> Decision {
    joint_applies(case, "request_part")?;
    open(case)?;
    let participant = case
        .current_participants()
        .find(|p| p.organisation_id == cmd.organisation_id)
        .ok_or_else(|| ComplaintError::NotParticipant {
            organisation: cmd.organisation_id.clone(),
        })?;
    // Integrity: the part is for a response still to be sent.
    if case.current_response().is_some() {
        return Err(ComplaintError::ResponseAlreadySent);
    }
    // Integrity: one request open per body; its due day is on the board until met.
    if case
        .part_requests
        .iter()
        .any(|r| r.organisation_id == cmd.organisation_id && r.is_outstanding())
    {
        return Err(ComplaintError::PartAlreadyRequested {
            organisation: cmd.organisation_id,
        });
    }
    dates.on("requested_on", cmd.requested_on)?;
    dates.not_before(
        "requested_on",
        cmd.requested_on,
        "agreed_on",
        Some(participant.agreed_on),
    )?;
    dates.not_before("due_on", cmd.due_on, "requested_on", Some(cmd.requested_on))?;
    Ok(vec![ComplaintEvent::PartRequested {
        request: case.part_requests.len() as u32 + 1,
        organisation_id: cmd.organisation_id,
        requested_on: cmd.requested_on,
        due_on: cmd.due_on,
    }])
}

/// A participant supplies the part asked of it; late is recorded as late, never refused.
pub(super) fn provide_part(case: &Complaint, cmd: ProvidePart, dates: &DateCheck) -> Decision {
    joint_applies(case, "provide_part")?;
    open(case)?;
    let organisation = cmd.organisation_id.unwrap_or_default();
    // R-JOINT-2: only a body taking part supplies a part.
    if !case.is_participant(&organisation) {
        return Err(ComplaintError::NotParticipant { organisation });
    }
    let request = case
        .part_requests
        .iter()
        .find(|r| r.organisation_id == organisation && r.is_outstanding())
        .ok_or_else(|| ComplaintError::NoPartRequested {
            organisation: organisation.clone(),
        })?;
    required_text("findings", &cmd.findings)?;
    required_text("response_section", &cmd.response_section)?;
    dates.on("provided_on", cmd.provided_on)?;
    dates.not_before(
        "provided_on",
        cmd.provided_on,
        "requested_on",
        Some(request.requested_on),
    )?;
    Ok(vec![ComplaintEvent::PartProvided {
        request: request.number,
        organisation_id: organisation,
        provided_on: cmd.provided_on,
        findings: Confidential(cmd.findings),
        response_section: Confidential(cmd.response_section),
    }])
}

/// R-JOINT-2: one co-ordinated response, so it waits for every part asked for. Sending it
/// without one is the lead's own act done before co-ordination finished: refused.
pub(super) fn check_parts_in(case: &Complaint) -> Result<(), ComplaintError> {
    let mut waiting: Vec<&str> = case
        .part_requests
        .iter()
        .filter(|r| r.is_outstanding())
        .map(|r| r.organisation_id.as_str())
        .collect();
    if waiting.is_empty() {
        return Ok(());
    }
    waiting.sort_unstable();
    waiting.dedup();
    Err(ComplaintError::PartOutstanding {
        organisations: waiting.join(", "),
    })
}

/// The record that the response sent on `sent_on` is the co-ordinated one, with the parts
/// supplied for its stage; `None` for a complaint no other body took part in.
pub(super) fn coordinated(case: &Complaint, sent_on: chrono::NaiveDate) -> Option<ComplaintEvent> {
    if case.participants.is_empty() {
        return None;
    }
    let parts = case
        .part_requests
        .iter()
        .filter(|r| r.stage == case.stage)
        .filter_map(|r| {
            Some(CoordinatedPart {
                organisation_id: r.organisation_id.clone(),
                request: r.number,
                provided_on: r.provided_on?,
            })
        })
        .collect();
    Some(ComplaintEvent::ResponseCoordinated {
        sent_on,
        stage: case.stage,
        parts,
    })
}
