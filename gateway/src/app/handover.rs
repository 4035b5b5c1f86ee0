//! Cases opened from other cases: an enquiry treated as a complaint (R-KIND-1), a
//! complaint forwarded to the body it belongs to (R-SCOPE-2) or passed by a commissioner to
//! the provider (R-SCOPE-3). The first case's closure is the command; opening the second and
//! linking back follow it here, each step idempotent, so a retry of the command (same
//! `Idempotency-Key`) completes a hand-over a crash cut short.

use crate::app::cases::{CaseState, Cases, CommandContext};
use crate::error::ApiError;
use complaints_domain::{
    CaseKind, CaseOrigin, ClosureReason, ComplaintAction, ComplaintError, OriginRelation,
    ReceiveComplaint, RecordLinkedCase, Route,
};

/// What the closure of `from` hands over, if anything: the case to open and its relation.
struct Handover {
    relation: OriginRelation,
    organisation_id: String,
    case_id: String,
    receive: ReceiveComplaint,
}

/// Opens the case `from`'s closure hands over, if it hands one over, and records the link
/// back. `receiver_received_on` and `subject_areas` come from the command that closed it.
pub(crate) async fn complete(
    cases: &Cases,
    from: &CaseState,
    context: &CommandContext,
    action: &ComplaintAction,
) -> Result<(), ApiError> {
    let Some(handover) = plan(cases, from, action)? else {
        return Ok(());
    };
    let opened_on = handover.receive.received_on;
    if cases.get(&handover.case_id).await?.is_none() {
        let receiver_context = CommandContext {
            organisation_id: handover.organisation_id.clone(),
            // One command id per case: the hand-over's own, derived from the closing one.
            command_id: context
                .command_id
                .as_ref()
                .map(|id| format!("{id}/handover")),
            causation_id: Some(from.id.clone()),
            ..context.clone()
        };
        match cases
            .try_execute(
                &handover.case_id,
                ComplaintAction::Receive(handover.receive),
                &receiver_context,
                None,
            )
            .await
        {
            // Another delivery of the same hand-over got there first: it is open either way.
            Ok(_) | Err(ApiError::Conflict | ApiError::Rule(ComplaintError::AlreadyReceived)) => {}
            Err(e) => return Err(e),
        }
    }
    if from
        .case
        .linked_cases
        .iter()
        .any(|l| l.case_id == handover.case_id)
    {
        return Ok(());
    }
    let link = ComplaintAction::RecordLinkedCase(RecordLinkedCase {
        relation: handover.relation,
        organisation_id: handover.organisation_id,
        case_id: handover.case_id,
        opened_on,
    });
    let link_context = CommandContext {
        command_id: context.command_id.as_ref().map(|id| format!("{id}/link")),
        ..context.clone()
    };
    match cases.try_execute(&from.id, link, &link_context, None).await {
        Ok(_) | Err(ApiError::Conflict) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The case a closure hands over: `None` unless `from` is closed as treated as a complaint
/// or transferred, by `action`.
fn plan(
    cases: &Cases,
    from: &CaseState,
    action: &ComplaintAction,
) -> Result<Option<Handover>, ApiError> {
    let case = &from.case;
    let (Some(receipt), Some(closure), Some(particulars)) =
        (&case.receipt, &case.closure, &case.particulars)
    else {
        return Ok(None);
    };
    let first_received_on = receipt
        .origin
        .as_ref()
        .and_then(|o| o.first_received_on)
        .unwrap_or(receipt.received_on);
    let (relation, organisation_id, received_on, subject_areas) = match (action, closure.reason) {
        (ComplaintAction::TreatAsComplaint(cmd), ClosureReason::TreatedAsComplaint) => (
            OriginRelation::EnquiryTreatedAsComplaint,
            receipt.organisation_id.clone(),
            // R-KIND-1: the complaint's clocks start on the day it is treated as one.
            cmd.treated_on,
            if cmd.subject_areas.is_empty() {
                receipt.subject_areas.clone()
            } else {
                cmd.subject_areas.clone()
            },
        ),
        (ComplaintAction::Close(cmd), ClosureReason::Transferred) => {
            let Some(to) = closure.transferred_to.clone() else {
                return Ok(None);
            };
            let relation = if receipt.route == Route::Commissioner {
                OriginRelation::PassedByCommissioner
            } else {
                OriginRelation::TransferredIn
            };
            // R-SCOPE-2: the receiver's clocks start on the day it received the complaint
            // (documented reading): the closure day unless the command says later.
            let received_on = cmd.receiver_received_on.unwrap_or(closure.closed_on);
            (relation, to, received_on, receipt.subject_areas.clone())
        }
        _ => return Ok(None),
    };
    // The same complaint never lands twice at one body: keyed by the frontline system's
    // reference when there is one (so a direct intake of it finds this case), else by the
    // case it came from.
    let case_id = match &receipt.source {
        Some(source) => {
            cases.complaint_id_for_source(&organisation_id, &source.system, &source.reference)
        }
        None => cases.complaint_id_for_source(&organisation_id, relation.code(), &from.id),
    }
    .to_string();
    let receive = ReceiveComplaint {
        organisation_id: organisation_id.clone(),
        received_on,
        channel: receipt.channel,
        // R-SCOPE-3: passed to the provider, the complaint is now made to the provider.
        route: Some(Route::Provider),
        subject_areas,
        service_area: receipt.service_area,
        staff_groups: receipt.staff_groups.clone(),
        description: particulars.description.clone(),
        complainant: particulars.complainant.clone(),
        representation_basis: receipt.representation_basis,
        person_affected: particulars.person_affected.clone(),
        consent_required: Some(receipt.consent_required),
        matter_occurred_on: receipt.matter_occurred_on,
        matter_came_to_notice_on: receipt.matter_came_to_notice_on,
        source: receipt.source.clone(),
        out_of_time_decision: None,
        eligibility: receipt.eligibility,
        patient_age_band: receipt.patient_age_band,
        complainant_status: receipt.complainant_status,
        // Sites are the sender's; the receiver records its own.
        site: None,
        kind: Some(CaseKind::Complaint),
        enquiry_type: None,
        provider_id: None,
        origin: Some(CaseOrigin {
            relation,
            organisation_id: receipt.organisation_id.clone(),
            case_id: Some(from.id.clone()),
            first_received_on: Some(first_received_on),
        }),
    };
    Ok(Some(Handover {
        relation,
        organisation_id,
        case_id,
        receive,
    }))
}
