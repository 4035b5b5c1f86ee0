//! Taking a complaint in: receipt, out-of-time acceptance, acknowledgement, risk grading,
//! allocation to a caseworker and the response period agreed at the start.

use super::checks::{open, required_text, valid_organisation_id, DateCheck, Decision};
use super::state::Complaint;
use crate::calendar::Calendar;
use crate::case_kind::{CaseKind, EnquiryType};
use crate::commands::{
    AcceptOutOfTime, AcknowledgeComplaint, AgreeResponsePlan, AssessRisk, AssignCaseworker,
    ReceiveComplaint,
};
use crate::error::ComplaintError;
use crate::events::{ComplaintEvent, ComplaintParticulars, Confidential, OutOfTimeDecision};
use crate::policy::{self, ComplaintServices, PolicyBook};
use crate::reference::{Eligibility, RepresentationBasis, Route};

pub(super) fn receive(
    case: &Complaint,
    cmd: ReceiveComplaint,
    dates: &DateCheck,
    services: &ComplaintServices,
) -> Decision {
    // Integrity: one receipt per complaint id.
    if case.receipt.is_some() {
        return Err(ComplaintError::AlreadyReceived);
    }
    valid_organisation_id("organisation_id", &cmd.organisation_id)?;
    dates.on("received_on", cmd.received_on)?;
    required_text("description", &cmd.description)?;
    required_text("complainant.name", &cmd.complainant.name)?;
    crate::nhs_number::check_identifier(
        "complainant.identifier",
        cmd.complainant.identifier.as_deref(),
    )?;
    // R-KO-7: every complaint is counted under at least one subject area.
    if cmd.subject_areas.is_empty() {
        return Err(ComplaintError::InvalidField {
            field: "subject_areas",
            reason: "at least one subject area is needed".into(),
        });
    }
    for (field, day) in [
        ("matter_occurred_on", cmd.matter_occurred_on),
        ("matter_came_to_notice_on", cmd.matter_came_to_notice_on),
    ] {
        if let Some(day) = day {
            // R-FACT-1: a matter complained of cannot postdate the complaint.
            if day > cmd.received_on {
                return Err(ComplaintError::InvalidField {
                    field,
                    reason: "must not be after received_on".into(),
                });
            }
        }
    }
    if let (Some(occurred), Some(noticed)) = (cmd.matter_occurred_on, cmd.matter_came_to_notice_on)
    {
        // R-FACT-1: nobody notices a matter before it happens.
        if noticed < occurred {
            return Err(ComplaintError::DateOutOfOrder {
                field: "matter_came_to_notice_on",
                earlier: "matter_occurred_on",
                earlier_on: occurred,
            });
        }
    }
    if let Some(source) = &cmd.source {
        required_text("source.system", &source.system)?;
        required_text("source.reference", &source.reference)?;
    }
    let basis = cmd.representation_basis;
    // R-WHO-2: a representative complains only on one of the regulation 5 bases.
    if basis.is_none() && (cmd.person_affected.is_some() || cmd.consent_required == Some(true)) {
        return Err(ComplaintError::RepresentationBasisMissing);
    }
    if let Some(person) = &cmd.person_affected {
        required_text("person_affected.name", &person.name)?;
        crate::nhs_number::check_identifier(
            "person_affected.identifier",
            person.identifier.as_deref(),
        )?;
    }
    // R-WHO-1, R-WHO-2: a representative complains on a basis, and only a representative does.
    match (cmd.eligibility, basis) {
        (Some(Eligibility::Representative), None) => {
            return Err(ComplaintError::RepresentationBasisMissing)
        }
        (Some(Eligibility::ServiceUser | Eligibility::PersonAffected), Some(_)) => {
            return Err(ComplaintError::InvalidField {
                field: "eligibility",
                reason: "a complaint with a representation basis is made by a representative"
                    .into(),
            })
        }
        _ => {}
    }
    let site = cmd.site.map(|s| s.trim().to_string());
    let registered = services.organisation(&cmd.organisation_id);
    if let Some(site) = &site {
        // Integrity: site codes key the per-site KO41a return, so they stay short and plain.
        valid_organisation_id("site", site)?;
        // R-KO-1: a registered organisation returns per registered site.
        if registered.as_ref().is_some_and(|o| !o.has_site(site)) {
            return Err(ComplaintError::UnknownSite { site: site.clone() });
        }
    }
    let kind = cmd.kind.unwrap_or_default();
    // R-KIND-1: the enquiry type sets the contact target; only an enquiry has one.
    let enquiry_type = match (kind, cmd.enquiry_type) {
        (CaseKind::Enquiry, given) => Some(given.unwrap_or(EnquiryType::Advice)),
        (_, Some(_)) => {
            return Err(ComplaintError::InvalidField {
                field: "enquiry_type",
                reason: "only an enquiry has an enquiry type".into(),
            })
        }
        (_, None) => None,
    };
    let route = cmd.route.unwrap_or(Route::Provider);
    let provider_id = cmd.provider_id.map(|p| p.trim().to_string());
    if let Some(provider) = &provider_id {
        valid_organisation_id("provider_id", provider)?;
        // R-SCOPE-3: the provider is named apart only when the complaint went to its commissioner.
        if route != Route::Commissioner {
            return Err(ComplaintError::InvalidField {
                field: "provider_id",
                reason: "a provider is named apart only on a complaint made to its commissioner (route `commissioner`)".into(),
            });
        }
        if *provider == cmd.organisation_id {
            return Err(ComplaintError::InvalidField {
                field: "provider_id",
                reason: "the commissioner and the provider are different bodies".into(),
            });
        }
    }
    // R-SCOPE-3: the commissioner route is taken to a commissioner.
    if route == Route::Commissioner
        && registered
            .as_ref()
            .is_some_and(|o| !o.organisation_type.is_commissioner())
    {
        return Err(ComplaintError::InvalidField {
            field: "route",
            reason: "the organisation is registered as a provider, not a commissioner".into(),
        });
    }
    if let Some(origin) = &cmd.origin {
        valid_organisation_id("origin.organisation_id", &origin.organisation_id)?;
        if let Some(first) = origin.first_received_on {
            // R-FACT-1: nobody received it before it was made... or after this body did.
            if first > cmd.received_on {
                return Err(ComplaintError::DateOutOfOrder {
                    field: "received_on",
                    earlier: "origin.first_received_on",
                    earlier_on: first,
                });
            }
        }
    }
    let classified = (cmd.eligibility.is_some()
        || cmd.patient_age_band.is_some()
        || cmd.complainant_status.is_some()
        || site.is_some())
    .then_some(ComplaintEvent::ComplaintClassified {
        eligibility: cmd.eligibility,
        patient_age_band: cmd.patient_age_band,
        complainant_status: cmd.complainant_status,
        site,
    });
    let consent_required = cmd
        .consent_required
        .unwrap_or_else(|| basis.is_some_and(RepresentationBasis::consent_normally_required));

    let mut subject_areas = cmd.subject_areas;
    subject_areas.sort();
    subject_areas.dedup();
    let mut staff_groups = cmd.staff_groups;
    staff_groups.sort();
    staff_groups.dedup();

    let limit = policy::time_limit_ends_on(cmd.matter_occurred_on, cmd.matter_came_to_notice_on);
    // R-TL-1 is a rule of the regulations: other kinds of case have no time limit.
    let made_on = cmd
        .origin
        .as_ref()
        .and_then(|o| o.first_received_on)
        .map_or(cmd.received_on, |first| first.min(cmd.received_on));
    let in_time = !kind.is_complaint() || limit.is_none_or(|limit| made_on <= limit);
    let acceptance = match (cmd.out_of_time_decision, in_time) {
        // R-TL-2: only a complaint made after the time limit needs accepting.
        (Some(_), true) => return Err(ComplaintError::NotOutOfTime),
        (Some(decision), false) => {
            check_out_of_time_decision(&decision)?;
            Some(ComplaintEvent::OutOfTimeAccepted {
                accepted_on: cmd.received_on,
                decision,
            })
        }
        (None, _) => None,
    };

    let mut events = vec![ComplaintEvent::ComplaintReceived {
        organisation_id: cmd.organisation_id,
        received_on: cmd.received_on,
        channel: cmd.channel,
        route,
        representation_basis: basis,
        consent_required,
        subject_areas,
        service_area: cmd.service_area,
        staff_groups,
        matter_occurred_on: cmd.matter_occurred_on,
        matter_came_to_notice_on: cmd.matter_came_to_notice_on,
        source: cmd.source,
        particulars: Confidential(ComplaintParticulars {
            complainant: cmd.complainant,
            person_affected: cmd.person_affected,
            description: cmd.description,
        }),
        kind,
        enquiry_type,
        provider_id,
        origin: cmd.origin,
    }];
    events.extend(classified);
    events.extend(acceptance);
    Ok(events)
}

pub(super) fn accept_out_of_time(
    case: &Complaint,
    cmd: AcceptOutOfTime,
    dates: &DateCheck,
) -> Decision {
    open(case)?;
    // R-TL-2: only a complaint made after the time limit needs accepting.
    if case.in_time() {
        return Err(ComplaintError::NotOutOfTime);
    }
    // R-TL-2: the decision is taken once.
    if case.out_of_time_accepted_on.is_some() {
        return Err(ComplaintError::OutOfTimeAlreadyAccepted);
    }
    dates.on("accepted_on", cmd.accepted_on)?;
    let decision = OutOfTimeDecision {
        good_reason_for_delay: cmd.good_reason_for_delay,
        fair_investigation_possible: cmd.fair_investigation_possible,
        decided_by: cmd.decided_by,
        rationale: Confidential(cmd.rationale),
    };
    check_out_of_time_decision(&decision)?;
    Ok(vec![ComplaintEvent::OutOfTimeAccepted {
        accepted_on: cmd.accepted_on,
        decision,
    }])
}

/// R-TL-2: not satisfied of both findings, the body does not investigate: the decision is
/// kept and the complaint closes as out of time, owing the complainant a letter.
pub(super) fn refuse_out_of_time(
    case: &Complaint,
    cmd: crate::commands::RefuseOutOfTime,
    dates: &DateCheck,
) -> Decision {
    open(case)?;
    // R-TL-2: only a complaint made after the time limit and not yet accepted.
    if case.in_time() {
        return Err(ComplaintError::NotOutOfTime);
    }
    if case.out_of_time_accepted_on.is_some() {
        return Err(ComplaintError::OutOfTimeAlreadyAccepted);
    }
    dates.on("decided_on", cmd.decided_on)?;
    required_text("decided_by", &cmd.decided_by)?;
    required_text("rationale", &cmd.rationale)?;
    // R-TL-2: satisfied of both, the time limit does not apply: that is an acceptance.
    if cmd.good_reason_for_delay && cmd.fair_investigation_possible {
        return Err(ComplaintError::InvalidField {
            field: "good_reason_for_delay",
            reason: "with good reason and a fair investigation possible the complaint is accepted (out-of-time-acceptance), not refused".into(),
        });
    }
    Ok(vec![
        ComplaintEvent::OutOfTimeRefused {
            refused_on: cmd.decided_on,
            decision: OutOfTimeDecision {
                good_reason_for_delay: cmd.good_reason_for_delay,
                fair_investigation_possible: cmd.fair_investigation_possible,
                decided_by: cmd.decided_by,
                rationale: Confidential(cmd.rationale),
            },
        },
        ComplaintEvent::ComplaintClosed {
            closed_on: cmd.decided_on,
            reason: crate::reference::ClosureReason::OutOfTime,
            exclusion_category: None,
            transferred_to: None,
            resolved_on: None,
        },
    ])
}

/// R-TL-2: the decision names its maker and rationale, and needs both findings.
fn check_out_of_time_decision(decision: &OutOfTimeDecision) -> Result<(), ComplaintError> {
    required_text("decided_by", &decision.decided_by)?;
    required_text("rationale", &decision.rationale.0)?;
    if !(decision.good_reason_for_delay && decision.fair_investigation_possible) {
        return Err(ComplaintError::OutOfTimeGroundsNotMet);
    }
    Ok(())
}

pub(super) fn acknowledge(
    case: &Complaint,
    cmd: AcknowledgeComplaint,
    dates: &DateCheck,
    calendar: &Calendar,
) -> Decision {
    let receipt = open(case)?;
    // R-ACK-3: one acknowledgement; a late one is recorded as late, not refused.
    if case.acknowledged_on.is_some() {
        return Err(ComplaintError::AlreadyAcknowledged);
    }
    dates.on("acknowledged_on", cmd.acknowledged_on)?;
    let due = policy::acknowledge_by(receipt.received_on, calendar);
    Ok(vec![ComplaintEvent::ComplaintAcknowledged {
        acknowledged_on: cmd.acknowledged_on,
        late: cmd.acknowledged_on > due,
        discussion_offered: cmd.discussion_offered,
    }])
}

pub(super) fn assess_risk(
    case: &Complaint,
    cmd: AssessRisk,
    dates: &DateCheck,
    policies: &PolicyBook,
) -> Decision {
    let receipt = open(case)?;
    dates.on("assessed_on", cmd.assessed_on)?;
    let matrix = &policies
        .for_organisation(&receipt.organisation_id)
        .risk_matrix;
    // R-RISK-1/2: the grade comes from the organisation's matrix, which refuses unknown levels.
    let rating = matrix.grade(&cmd.seriousness, cmd.likelihood)?;
    Ok(vec![ComplaintEvent::RiskAssessed {
        assessed_on: cmd.assessed_on,
        seriousness: cmd.seriousness.trim().to_ascii_lowercase(),
        likelihood: cmd.likelihood,
        rating,
        matrix: matrix.versioned_id(),
    }])
}

/// The longest sign-in subject kept; identity providers' subjects are far shorter.
const CASEWORKER_MAX_CHARS: usize = 200;

pub(super) fn assign_caseworker(
    case: &Complaint,
    cmd: AssignCaseworker,
    dates: &DateCheck,
) -> Decision {
    // Like risk grading, allocation is internal work on an open case: a closed one is
    // reopened first.
    open(case)?;
    dates.on("assigned_on", cmd.assigned_on)?;
    let caseworker = cmd.caseworker.trim();
    let chars = caseworker.chars().count();
    if chars == 0 || chars > CASEWORKER_MAX_CHARS {
        return Err(ComplaintError::InvalidField {
            field: "caseworker",
            reason: format!(
                "must be the caseworker's sign-in subject, 1 to {CASEWORKER_MAX_CHARS} characters"
            ),
        });
    }
    // Reassigning, even to the same caseworker, is recorded: the log says who allocated
    // when, and the fold keeps the latest.
    Ok(vec![ComplaintEvent::CaseworkerAssigned {
        assigned_on: cmd.assigned_on,
        caseworker: caseworker.to_string(),
    }])
}

pub(super) fn agree_response_plan(
    case: &Complaint,
    cmd: AgreeResponsePlan,
    dates: &DateCheck,
) -> Decision {
    open(case)?;
    // R-WHO-3: agreeing how and when the complaint will be answered is considering it.
    if !case.may_be_considered() {
        return Err(ComplaintError::RepresentativeGroundsNotFound);
    }
    // R-ACK-5: the period is for a response still to come at this stage.
    if case.current_response().is_some() {
        return Err(ComplaintError::ResponseAlreadySent);
    }
    dates.on("agreed_on", cmd.agreed_on)?;
    dates.not_before(
        "agreed_on",
        cmd.agreed_on,
        "escalated_on",
        case.escalated_on,
    )?;
    dates.not_before(
        "response_due_on",
        cmd.response_due_on,
        "agreed_on",
        Some(cmd.agreed_on),
    )?;
    Ok(vec![ComplaintEvent::ResponsePlanAgreed {
        agreed_on: cmd.agreed_on,
        response_due_on: cmd.response_due_on,
        discussion_outcome: cmd.discussion_outcome,
    }])
}
