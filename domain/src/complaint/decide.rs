//! Turns a command into events: dispatches each action to the module for its part of the
//! procedure.

use super::checks::DateCheck;
use super::state::Complaint;
use super::{closure, consent, joint, kinds, letters, ombudsman, people, receive, response};
use crate::commands::{ComplaintAction as A, ComplaintCommand};
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::policy::ComplaintServices;

/// Turns a command into the events it produces, or the rule it breaks. Pure.
pub fn decide(
    case: &Complaint,
    command: ComplaintCommand,
    services: &ComplaintServices,
) -> Result<Vec<ComplaintEvent>, ComplaintError> {
    let dates = &DateCheck::new(command.issued_on, case);
    let calendar = &services.calendar;
    kinds::check_applies(case, &command.action)?;
    match command.action {
        A::Receive(cmd) => receive::receive(case, cmd, dates, services),
        A::AcceptOutOfTime(cmd) => receive::accept_out_of_time(case, cmd, dates),
        A::Acknowledge(cmd) => receive::acknowledge(case, cmd, dates, calendar),
        A::AssessRisk(cmd) => receive::assess_risk(case, cmd, dates, &services.policies),
        A::AgreeResponsePlan(cmd) => receive::agree_response_plan(case, cmd, dates),
        A::RequestConsent(cmd) => consent::request(case, cmd, dates),
        A::RecordConsent(cmd) => consent::record(case, cmd, dates),
        A::LapseConsent(cmd) => consent::lapse(case, cmd, dates, services),
        A::StopClock(cmd) => response::stop_clock(case, cmd, dates),
        A::RestartClock(cmd) => response::restart_clock(case, cmd, dates),
        A::NotifyDelay(cmd) => response::notify_delay(case, cmd, dates),
        A::SendResponse(cmd) => response::send(case, cmd, dates, services),
        A::Escalate(cmd) => response::escalate(case, cmd, dates),
        A::ReferToOmbudsman(cmd) => ombudsman::refer(case, cmd, dates),
        A::RecordOmbudsmanDecision(cmd) => ombudsman::record_decision(case, cmd, dates),
        A::RecordLearning(cmd) => closure::record_learning(case, cmd, dates),
        A::Close(cmd) => closure::close(case, cmd, dates, calendar),
        A::Reopen(cmd) => closure::reopen(case, cmd, dates),
        A::PlaceLegalHold(cmd) => closure::place_legal_hold(case, cmd, dates),
        A::ReleaseLegalHold(cmd) => closure::release_legal_hold(case, cmd, dates),
        A::RecordOralResolution(cmd) => closure::resolve_orally(case, cmd, dates, calendar),
        A::DecideRepresentativeGrounds(cmd) => people::decide_grounds(case, cmd, dates),
        A::RecordLetter(cmd) => letters::record_letter(case, cmd, dates),
        A::RecordProgressContact(cmd) => letters::record_progress_contact(case, cmd, dates),
        A::RecordRecommendationDone(cmd) => ombudsman::record_recommendation_done(case, cmd, dates),
        A::TreatAsComplaint(cmd) => kinds::treat_as_complaint(case, cmd, dates),
        A::RecordLinkedCase(cmd) => kinds::record_linked_case(case, cmd, dates),
        A::RecordDeath(cmd) => kinds::record_death(case, cmd, dates),
        A::RefuseOutOfTime(cmd) => receive::refuse_out_of_time(case, cmd, dates),
        A::RecordOtherUse(cmd) => kinds::record_other_use(case, cmd, dates),
        A::RecordConsentToShare(cmd) => joint::record_consent_to_share(case, cmd, dates),
        A::AddParticipant(cmd) => joint::add_participant(case, cmd, dates),
        A::RemoveParticipant(cmd) => joint::remove_participant(case, cmd, dates),
        A::RequestPart(cmd) => joint::request_part(case, cmd, dates),
        A::ProvidePart(cmd) => joint::provide_part(case, cmd, dates),
        A::AssignCaseworker(cmd) => receive::assign_caseworker(case, cmd, dates),
    }
}
