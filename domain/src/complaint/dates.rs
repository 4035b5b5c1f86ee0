//! A complaint's deadlines: hands its facts to the rules in `crate::deadlines`, which never
//! see `Complaint` themselves.

use super::state::Complaint;
use crate::deadlines::{CaseFacts, DeadlineStatus, Deadlines, ResponseDue};
use crate::policy::ComplaintServices;
use chrono::NaiveDate;

impl Complaint {
    /// What the deadline rules read; `None` before receipt.
    pub(crate) fn deadline_facts(&self) -> Option<CaseFacts<'_>> {
        let receipt = self.receipt.as_ref()?;
        Some(CaseFacts {
            receipt,
            stage: self.stage,
            stage_started_on: self.stage_started_on()?,
            plans: &self.plans,
            clock_stops: &self.clock_stops,
            // R-AR-4: an unagreed stop is recorded but does not stop the clock.
            clock_stopped: self
                .open_clock_stop()
                .is_some_and(|s| s.stage == self.stage && s.complainant_agreed),
            acknowledged_on: self.acknowledged_on,
            consent: &self.consent,
            responded_on: self.current_response().map(|r| r.sent_on),
            first_responded_on: self.first_response().map(|r| r.sent_on),
            delay_notified_on: &self.delay_notified_on,
            time_limit_ends_on: self.time_limit_ends_on(),
            closed_on: self.closure.as_ref().map(|c| c.closed_on),
            on_legal_hold: self.legal_hold.is_some(),
            closure: self.closure.as_ref(),
            reopened_on: self.reopened_on.last().copied(),
            letters: &self.letters,
            recommendations: &self.recommendations,
            last_ombudsman_decision_on: self
                .referrals
                .iter()
                .filter_map(|r| r.decided_on)
                .chain(self.decisions_without_referral.iter().map(|d| d.decided_on))
                .max(),
            ombudsman_pending: self.referrals.iter().any(|r| r.decision.is_none()),
            first_contact_on: self.progress_contacts.iter().map(|c| c.contacted_on).min(),
            other_uses: &self.other_uses,
            person_affected_died: self.person_affected_died_on.is_some(),
            part_requests: &self.part_requests,
        })
    }
}

/// When the current stage's response is due: the latest agreed date for the stage, else the
/// organisation's default period, moved on by the clock stops; `NotApplicable` before receipt.
pub fn response_due(case: &Complaint, services: &ComplaintServices) -> ResponseDue {
    case.deadline_facts()
        .map_or(ResponseDue::NotApplicable, |facts| {
            facts.response_due(services)
        })
}

/// The stage-1 response period the first response is judged against (R-REC-1, R-AR-4): the
/// first period agreed with or notified to the complainant before that response, replaced
/// only by an extension agreed before it ran out, moved only by agreed clock stops. `None`
/// before receipt, when no period was agreed or notified, or while an agreed stage-1 stop is
/// open.
pub fn stage_one_response_period(
    case: &Complaint,
    services: &ComplaintServices,
) -> Option<NaiveDate> {
    case.deadline_facts()?.stage_one_response_period(services)
}

/// The organisation's internal target for the stage-1 response (its default period from
/// receipt, moved by agreed clock stops); never an agreed period (R-AR-4). `None` before
/// receipt or while an agreed stage-1 stop is open.
pub fn stage_one_internal_target(
    case: &Complaint,
    services: &ComplaintServices,
) -> Option<NaiveDate> {
    case.deadline_facts()?.stage_one_internal_target(services)
}

/// Whether the first response was sent within the response period agreed or notified
/// (R-REC-1); `None` until it is sent or when no period was agreed or notified.
pub fn within_response_period(case: &Complaint, services: &ComplaintServices) -> Option<bool> {
    let sent = case.first_response()?.sent_on;
    stage_one_response_period(case, services).map(|end| sent <= end)
}

/// The dates for a received complaint; `None` before receipt.
pub fn deadlines(case: &Complaint, services: &ComplaintServices) -> Option<Deadlines> {
    Some(case.deadline_facts()?.deadlines(services))
}

/// Each deadline that applies to the complaint, judged as of `today`.
pub fn deadline_statuses(
    case: &Complaint,
    services: &ComplaintServices,
    today: NaiveDate,
) -> Vec<DeadlineStatus> {
    case.deadline_facts()
        .map(|facts| facts.statuses(services, today))
        .unwrap_or_default()
}
