//! Case kinds and linked cases: which of the body's acts belong to which kind of case
//! (R-KIND-1 to R-KIND-3), an enquiry treated as a complaint, the link back to a case
//! opened from this one, and a death on the case (R-FACT-1).

use super::checks::{open, valid_organisation_id, DateCheck, Decision};
use super::state::Complaint;
use crate::case_kind::{CaseKind, OriginRelation};
use crate::commands::{ComplaintAction as A, RecordDeath, RecordLinkedCase, TreatAsComplaint};
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::reference::{ClosureReason, PersonRole};

/// Refuses the body's acts that belong to another kind of case: the statutory procedure's
/// steps on an enquiry or a whistleblowing concern, treating anything but an enquiry as a
/// complaint. Facts from outside (R-FACT-1) pass whatever the kind.
pub(super) fn check_applies(case: &Complaint, action: &A) -> Result<(), ComplaintError> {
    let Some(receipt) = case.receipt.as_ref() else {
        return Ok(());
    };
    let kind = receipt.kind;
    let refuse = |why: &str| ComplaintError::NotForThisKind {
        kind: kind.code(),
        command: action.name(),
        why: why.to_string(),
    };
    match (kind, action) {
        (CaseKind::Enquiry, A::TreatAsComplaint(_)) => Ok(()),
        (_, A::TreatAsComplaint(_)) => Err(refuse("only an enquiry is treated as a complaint")),
        (CaseKind::Complaint, _) => Ok(()),
        // R-TL-1, R-RESP-3, reg 8, R-WHO-3: the regulations' own steps.
        (
            _,
            A::AcceptOutOfTime(_)
            | A::RefuseOutOfTime(_)
            | A::NotifyDelay(_)
            | A::RecordOralResolution(_)
            | A::DecideRepresentativeGrounds(_),
        ) => Err(refuse("it is a step of the 2009 complaints regulations")),
        // R-KIND-1: an enquiry is answered by contacting the enquirer, or becomes a complaint.
        (CaseKind::Enquiry, A::SendResponse(_) | A::Escalate(_) | A::AgreeResponsePlan(_)) => {
            Err(refuse(
                "an enquiry is answered by contacting the enquirer (record_progress_contact), or treated as a complaint",
            ))
        }
        // R-KIND-3: a concern is used to consider governance, not answered as a case.
        (CaseKind::Whistleblowing, A::SendResponse(_) | A::Escalate(_)) => Err(refuse(
            "a whistleblowing concern informs governance; it is not answered as a complaint",
        )),
        _ => Ok(()),
    }
}

/// Closes an enquiry as treated as a complaint (R-KIND-1). The complaint itself is opened
/// by the system as a case of its own, which then links back ([`record_linked_case`]).
pub(super) fn treat_as_complaint(
    case: &Complaint,
    cmd: TreatAsComplaint,
    dates: &DateCheck,
) -> Decision {
    open(case)?;
    dates.on("treated_on", cmd.treated_on)?;
    dates.not_before(
        "treated_on",
        cmd.treated_on,
        "reopened_on",
        case.reopened_on.last().copied(),
    )?;
    Ok(vec![ComplaintEvent::ComplaintClosed {
        closed_on: cmd.treated_on,
        reason: ClosureReason::TreatedAsComplaint,
        exclusion_category: None,
        transferred_to: None,
        resolved_on: None,
    }])
}

/// The link back to a case opened from this one. Repeated (a retried hand-over), it writes
/// nothing.
pub(super) fn record_linked_case(
    case: &Complaint,
    cmd: RecordLinkedCase,
    dates: &DateCheck,
) -> Decision {
    case.receipt()?;
    valid_organisation_id("organisation_id", &cmd.organisation_id)?;
    dates.on("opened_on", cmd.opened_on)?;
    if case.linked_cases.iter().any(|l| l.case_id == cmd.case_id) {
        return Ok(vec![]);
    }
    // Integrity: a case is linked onward only once it was closed for that reason.
    let expected = match cmd.relation {
        OriginRelation::EnquiryTreatedAsComplaint => ClosureReason::TreatedAsComplaint,
        OriginRelation::TransferredIn | OriginRelation::PassedByCommissioner => {
            ClosureReason::Transferred
        }
    };
    if case.closure.as_ref().map(|c| c.reason) != Some(expected) {
        return Err(ComplaintError::ClosureReasonNotApplicable {
            reason: expected.code(),
            why: "a case is linked onward only once closed for that reason".into(),
        });
    }
    Ok(vec![ComplaintEvent::LinkedCaseOpened {
        relation: cmd.relation,
        organisation_id: cmd.organisation_id,
        case_id: cmd.case_id,
        opened_on: cmd.opened_on,
    }])
}

/// A death is a fact (R-FACT-1): recorded in any state, the case closed or not. Only an
/// impossible date (in the future) or a second record of the same death is refused; a
/// person affected may have died before the complaint was made (R-WHO-2 (a)).
pub(super) fn record_death(case: &Complaint, cmd: RecordDeath, dates: &DateCheck) -> Decision {
    let receipt = case.receipt()?;
    if cmd.died_on > dates.today() {
        return Err(ComplaintError::DateInFuture {
            field: "died_on",
            today: dates.today(),
        });
    }
    let already = match cmd.person {
        PersonRole::Complainant => case.complainant_died_on,
        PersonRole::PersonAffected => {
            // Integrity: only a complaint made for someone else has a person affected.
            if receipt.representation_basis.is_none() {
                return Err(ComplaintError::InvalidField {
                    field: "person",
                    reason: "the complaint was made by the person affected: record the complainant's death".into(),
                });
            }
            case.person_affected_died_on
        }
    };
    if already.is_some() {
        return Err(ComplaintError::InvalidField {
            field: "person",
            reason: "this death is already recorded".into(),
        });
    }
    Ok(vec![ComplaintEvent::PersonDied {
        person: cmd.person,
        died_on: cmd.died_on,
    }])
}

/// R-KIND-4: information given in a case may be used for other work; the person is owed a
/// letter saying how (a deadline until it is recorded). Any kind of case, any state; the
/// same purpose recorded again writes nothing.
pub(super) fn record_other_use(
    case: &Complaint,
    cmd: crate::commands::RecordOtherUse,
    dates: &DateCheck,
) -> Decision {
    case.receipt()?;
    dates.on("identified_on", cmd.identified_on)?;
    if case
        .other_uses
        .iter()
        .any(|(_, purpose)| *purpose == cmd.purpose)
    {
        return Ok(vec![]);
    }
    Ok(vec![ComplaintEvent::OtherUseIdentified {
        identified_on: cmd.identified_on,
        purpose: cmd.purpose,
    }])
}
