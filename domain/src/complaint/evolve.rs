//! How each recorded event changes the state.

use super::state::Complaint;
use crate::events::ComplaintEvent;
use crate::facts::{
    ClockStop, Closure, ConsentRecord, Learning, LegalHold, LetterRecord, LinkedCase, PartRequest,
    Participant, ProgressContact, Receipt, Referral, RepresentativeGrounds, ResponsePlan,
    RiskGrade, SentResponse, TrackedRecommendation, UnreferredDecision,
};
use crate::reference::{LetterKind, PersonRole};

/// Applies one event. Total: an event that was recorded is a fact, never refused here.
pub fn evolve(case: &mut Complaint, event: ComplaintEvent) {
    use ComplaintEvent::*;
    match event {
        ComplaintReceived {
            organisation_id,
            received_on,
            channel,
            route,
            representation_basis,
            consent_required,
            subject_areas,
            service_area,
            staff_groups,
            matter_occurred_on,
            matter_came_to_notice_on,
            source,
            particulars,
            kind,
            enquiry_type,
            provider_id,
            origin,
        } => {
            case.receipt = Some(Receipt {
                organisation_id,
                received_on,
                channel,
                route,
                representation_basis,
                consent_required,
                subject_areas,
                service_area,
                staff_groups,
                matter_occurred_on,
                matter_came_to_notice_on,
                source,
                eligibility: None,
                patient_age_band: None,
                complainant_status: None,
                site: None,
                kind,
                enquiry_type,
                provider_id,
                origin,
            });
            case.particulars = Some(particulars.0);
            case.stage = 1;
        }
        OutOfTimeAccepted { accepted_on, .. } => case.out_of_time_accepted_on = Some(accepted_on),
        ComplaintAcknowledged {
            acknowledged_on,
            late,
            ..
        } => {
            case.acknowledged_on = Some(acknowledged_on);
            case.acknowledged_late = late;
        }
        ConsentRequested { requested_on } => case.consent.requested_on = Some(requested_on),
        ConsentGiven { given_on, .. } => case.consent.given_on = Some(given_on),
        ConsentRefused { refused_on } => {
            if let Some(earlier) = case.consent.refused_on.replace(refused_on) {
                case.consent.earlier_refusals.push(earlier);
            }
        }
        ConsentLapsed { lapsed_on } => case.consent.lapsed_on = Some(lapsed_on),
        RiskAssessed {
            assessed_on,
            seriousness,
            likelihood,
            rating,
            matrix,
        } => {
            case.risk = Some(RiskGrade {
                assessed_on,
                seriousness,
                likelihood,
                rating,
                matrix,
            })
        }
        ResponsePlanAgreed {
            agreed_on,
            response_due_on,
            discussion_outcome,
        } => case.plans.push(ResponsePlan {
            stage: case.stage,
            agreed_on,
            response_due_on,
            discussion_outcome,
        }),
        ClockStopped {
            stopped_on,
            complainant_agreed,
            ..
        } => case.clock_stops.push(ClockStop {
            stage: case.stage,
            stopped_on,
            restarted_on: None,
            complainant_agreed,
        }),
        ClockRestarted { restarted_on } => {
            if let Some(stop) = case
                .clock_stops
                .iter_mut()
                .find(|s| s.restarted_on.is_none())
            {
                stop.restarted_on = Some(restarted_on);
            }
        }
        DelayNotified { notified_on, .. } => case.delay_notified_on.push(notified_on),
        ResponseSent {
            sent_on,
            stage,
            outcome,
            ombudsman_rights,
            ..
        } => {
            // The response ends any stop still open at its stage.
            for stop in case
                .clock_stops
                .iter_mut()
                .filter(|s| s.restarted_on.is_none())
            {
                stop.restarted_on = Some(sent_on);
            }
            case.responses.push(SentResponse {
                stage,
                sent_on,
                outcome,
                ombudsman_rights,
            })
        }
        ComplaintEscalated { escalated_on, .. } => {
            case.stage = 2;
            case.escalated_on = Some(escalated_on);
        }
        ReferredToOmbudsman {
            ombudsman,
            informed_on,
            ombudsman_reference,
        } => case.referrals.push(Referral {
            ombudsman,
            informed_on,
            ombudsman_reference,
            decided_on: None,
            decision: None,
        }),
        OmbudsmanDecisionRecorded {
            ombudsman,
            decided_on,
            decision,
            recommendations,
        } => {
            // R-OMB-2: every recommendation is tracked to done, numbered across the complaint.
            for recommendation in recommendations {
                let number = case.recommendations.len() as u32 + 1;
                case.recommendations.push(TrackedRecommendation {
                    number,
                    ombudsman,
                    decided_on,
                    description: recommendation.description,
                    due_on: recommendation.due_on,
                    done_on: None,
                    what_was_done: None,
                });
            }
            if let Some(referral) = case
                .referrals
                .iter_mut()
                .rev()
                .find(|r| r.ombudsman == ombudsman && r.decision.is_none())
            {
                referral.decided_on = Some(decided_on);
                referral.decision = Some(decision);
            } else {
                // R-FACT-1: the decision is a fact even with no referral on record to hang it on.
                case.decisions_without_referral.push(UnreferredDecision {
                    ombudsman,
                    decided_on,
                    decision,
                });
            }
        }
        LearningRecorded {
            recorded_on,
            kind,
            summary,
            action_due_on,
        } => case.learning.push(Learning {
            recorded_on,
            kind,
            summary,
            action_due_on,
        }),
        ComplaintClosed {
            closed_on,
            reason,
            exclusion_category,
            transferred_to,
            resolved_on,
        } => {
            case.closure = Some(Closure {
                closed_on,
                reason,
                exclusion_category,
                transferred_to,
                resolved_on,
            })
        }
        ComplaintReopened { reopened_on, .. } => {
            case.closure = None;
            case.reopened_on.push(reopened_on);
        }
        LegalHoldPlaced {
            placed_on, ground, ..
        } => case.legal_hold = Some(LegalHold { placed_on, ground }),
        LegalHoldReleased { .. } => case.legal_hold = None,
        ComplaintClassified {
            eligibility,
            patient_age_band,
            complainant_status,
            site,
        } => {
            if let Some(receipt) = case.receipt.as_mut() {
                receipt.eligibility = eligibility;
                receipt.patient_age_band = patient_age_band;
                receipt.complainant_status = complainant_status;
                receipt.site = site;
            }
        }
        RepresentativeGroundsDecided {
            decided_on,
            satisfied,
            decided_by,
            ..
        } => {
            case.representative_grounds = Some(RepresentativeGrounds {
                decided_on,
                satisfied,
                decided_by,
            })
        }
        LetterSent { kind, sent_on } => {
            // R-RESP-3: a delay letter recorded as a letter is the delay notification too.
            if kind == LetterKind::DelayLetter {
                case.delay_notified_on.push(sent_on);
            }
            case.letters.push(LetterRecord { kind, sent_on });
        }
        ComplainantContacted {
            contacted_on,
            method,
            ..
        } => case.progress_contacts.push(ProgressContact {
            contacted_on,
            method,
        }),
        RecommendationDone {
            recommendation,
            done_on,
            what_was_done,
        } => {
            if let Some(tracked) = case
                .recommendations
                .iter_mut()
                .find(|r| r.number == recommendation)
            {
                tracked.done_on = Some(done_on);
                tracked.what_was_done = Some(what_was_done);
            }
        }
        LinkedCaseOpened {
            relation,
            organisation_id,
            case_id,
            opened_on,
        } => {
            // Recording the same link twice (a retried hand-over) keeps one.
            if !case.linked_cases.iter().any(|l| l.case_id == case_id) {
                case.linked_cases.push(LinkedCase {
                    relation,
                    organisation_id,
                    case_id,
                    opened_on,
                });
            }
        }
        OutOfTimeRefused { refused_on, .. } => case.out_of_time_refused_on = Some(refused_on),
        OtherUseIdentified {
            identified_on,
            purpose,
        } => case.other_uses.push((identified_on, purpose)),
        PersonDied { person, died_on } => match person {
            PersonRole::Complainant => case.complainant_died_on = Some(died_on),
            PersonRole::PersonAffected => case.person_affected_died_on = Some(died_on),
        },
        ConsentToShareRecorded {
            given_on,
            for_whom,
            given_by,
            scopes,
            method,
            share_with,
            ..
        } => case.consents.push(ConsentRecord {
            given_on,
            for_whom,
            given_by,
            scopes,
            method,
            share_with,
        }),
        ParticipantAdded {
            organisation_id,
            agreed_on,
            agreed_by,
            ..
        } => case.participants.push(Participant {
            organisation_id,
            agreed_on,
            agreed_by,
            removed_on: None,
        }),
        ParticipantRemoved {
            organisation_id,
            removed_on,
            ..
        } => {
            for participant in case
                .participants
                .iter_mut()
                .filter(|p| p.organisation_id == organisation_id && p.removed_on.is_none())
            {
                participant.removed_on = Some(removed_on);
            }
            // R-JOINT-2: a body no longer taking part owes nothing more.
            for request in case
                .part_requests
                .iter_mut()
                .filter(|r| r.organisation_id == organisation_id && r.is_outstanding())
            {
                request.withdrawn_on = Some(removed_on);
            }
        }
        PartRequested {
            request,
            organisation_id,
            requested_on,
            due_on,
        } => case.part_requests.push(PartRequest {
            number: request,
            organisation_id,
            stage: case.stage,
            requested_on,
            due_on,
            provided_on: None,
            withdrawn_on: None,
        }),
        PartProvided {
            request,
            provided_on,
            ..
        } => {
            if let Some(found) = case.part_requests.iter_mut().find(|r| r.number == request) {
                found.provided_on = Some(provided_on);
            }
        }
        // The parts it took in are on record already; the event tells readers of the log.
        ResponseCoordinated { .. } => {}
        CaseworkerAssigned { caseworker, .. } => case.assigned_to = Some(caseworker),
    }
}
