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
            clock_stopped: self
                .open_clock_stop()
                .is_some_and(|s| s.stage == self.stage),
            acknowledged_on: self.acknowledged_on,
            consent: &self.consent,
            responded_on: self.current_response().map(|r| r.sent_on),
            first_responded_on: self.first_response().map(|r| r.sent_on),
            delay_notified_on: &self.delay_notified_on,
            time_limit_ends_on: self.time_limit_ends_on(),
            closed_on: self.closure.as_ref().map(|c| c.closed_on),
            on_legal_hold: self.legal_hold.is_some(),
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
