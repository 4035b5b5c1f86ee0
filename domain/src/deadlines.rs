//! Deadlines derived from a complaint's facts, the calendar in force and the
//! organisation's policy. Nothing here is stored: a calendar correction moves them.

use crate::complaint::{Complaint, Receipt};
use crate::policy::{self, day_after, ComplaintServices, OrganisationPolicy};
use crate::Calendar;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The last day consent may arrive before a representative's complaint is closed
/// (R-WHO-6); `None` when consent is not needed or the policy sets no deadline.
pub fn consent_lapses_on(
    receipt: &Receipt,
    policy: &OrganisationPolicy,
    calendar: &Calendar,
) -> Option<NaiveDate> {
    if !receipt.consent_required {
        return None;
    }
    let days = policy.consent_deadline_working_days?;
    Some(calendar.add_working_days(receipt.received_on, days))
}

/// When the response at the current stage is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseDue {
    /// Due on this day.
    Due(NaiveDate),
    /// The clock is stopped: no date until it restarts.
    Stopped,
    /// Not received.
    NotApplicable,
}

/// The current stage's response date: the latest agreed date for the stage, else the
/// organisation's default period from the stage start, moved on by the working days the
/// clock was stopped.
pub fn response_due(case: &Complaint, services: &ComplaintServices) -> ResponseDue {
    let (Some(receipt), Some(stage_start)) = (case.receipt.as_ref(), case.stage_started_on())
    else {
        return ResponseDue::NotApplicable;
    };
    if case
        .open_clock_stop()
        .is_some_and(|s| s.stage == case.stage)
    {
        return ResponseDue::Stopped;
    }
    let calendar = &services.calendar;
    let policy = services.policies.for_organisation(&receipt.organisation_id);
    let base = case
        .plans
        .iter()
        .rev()
        .find(|p| p.stage == case.stage)
        .map(|p| p.response_due_on)
        .unwrap_or_else(|| {
            calendar.add_working_days(stage_start, policy.default_response_working_days)
        });
    // A stop covers the working days from `stopped_on` up to the day before `restarted_on`.
    let stopped: u32 = case
        .clock_stops
        .iter()
        .filter(|s| s.stage == case.stage)
        .filter_map(|s| {
            let restarted = s.restarted_on?;
            Some(calendar.working_days_between(s.stopped_on.pred_opt()?, restarted.pred_opt()?))
        })
        .sum();
    ResponseDue::Due(calendar.add_working_days(base, stopped))
}

/// The end of the statutory response period: six months from receipt, or a longer period
/// agreed with the complainant before those six months ended (R-RESP-3, R-RESP-4).
pub fn statutory_period_end(case: &Complaint) -> Option<NaiveDate> {
    let receipt = case.receipt.as_ref()?;
    let six_month_end = policy::six_month_end(receipt.received_on);
    let extended = case
        .plans
        .iter()
        .filter(|p| p.stage == 1 && p.agreed_on <= six_month_end)
        .map(|p| p.response_due_on)
        .max();
    Some(extended.map_or(six_month_end, |e| e.max(six_month_end)))
}

/// Every date a complaint is held to, with the calendar version they were computed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Deadlines {
    /// The calendar the working days came from.
    pub calendar_version: String,
    /// Acknowledge by the 3rd working day after receipt (R-ACK-3).
    pub acknowledge_by: NaiveDate,
    /// The last day consent may arrive (R-WHO-6), when consent is needed; the complaint is
    /// closed for want of consent from the next day.
    pub consent_lapses_on: Option<NaiveDate>,
    /// The current stage's response date; `None` while the clock is stopped.
    pub response_due: Option<NaiveDate>,
    /// The last day of the six months from receipt (R-RESP-3).
    pub six_month_end: NaiveDate,
    /// The end of the statutory period including an extension agreed in time (R-RESP-4).
    pub statutory_period_end: NaiveDate,
    /// The delay letter is due the day after the statutory period ends without a response.
    pub delay_letter_due: NaiveDate,
    /// The last day the complaint could be made in time (R-TL-1), when dates are known.
    pub time_limit_ends_on: Option<NaiveDate>,
    /// For an oral complaint, the last day it can be resolved to the complainant's
    /// satisfaction and so need not be handled under the regulations (reg 8(1)(c)).
    pub oral_resolution_by: Option<NaiveDate>,
    /// When a closed case file is due for retention review: ten years after closure
    /// (R-RET-1); moves on if the complaint is reopened and closed again; none while a
    /// legal hold is in force.
    pub retention_review_due: Option<NaiveDate>,
}

/// The dates for a received complaint; `None` before receipt.
pub fn deadlines(case: &Complaint, services: &ComplaintServices) -> Option<Deadlines> {
    let receipt = case.receipt.as_ref()?;
    let calendar = &services.calendar;
    let policy = services.policies.for_organisation(&receipt.organisation_id);
    let statutory_end = statutory_period_end(case)?;
    Some(Deadlines {
        calendar_version: calendar.version().to_string(),
        acknowledge_by: policy::acknowledge_by(receipt.received_on, calendar),
        consent_lapses_on: consent_lapses_on(receipt, policy, calendar),
        response_due: match response_due(case, services) {
            ResponseDue::Due(day) => Some(day),
            _ => None,
        },
        six_month_end: policy::six_month_end(receipt.received_on),
        statutory_period_end: statutory_end,
        delay_letter_due: day_after(statutory_end),
        time_limit_ends_on: case.time_limit_ends_on(),
        oral_resolution_by: receipt
            .channel
            .is_oral()
            .then(|| policy::oral_resolution_cutoff(receipt.received_on, calendar)),
        retention_review_due: case
            .closure
            .as_ref()
            .filter(|_| case.legal_hold.is_none())
            .map(|c| policy::retention_review_due(c.closed_on)),
    })
}

/// Which obligation a deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// Acknowledge the complaint.
    Acknowledgement,
    /// Consent to arrive.
    Consent,
    /// Send the response for the current stage.
    Response,
    /// Send the six-month delay letter.
    DelayLetter,
}

/// Where a deadline stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Not yet met, not yet passed.
    Pending,
    /// Met on or before the due day.
    MetOnTime,
    /// Met after the due day.
    MetLate,
    /// Passed without being met.
    Missed,
    /// The clock is stopped.
    Stopped,
    /// No longer applies (e.g. closed, or responded to in time).
    NotRequired,
}

/// One deadline and its state as of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeadlineStatus {
    /// Which obligation.
    pub kind: DeadlineKind,
    /// The due day; `None` while the clock is stopped.
    pub due_on: Option<NaiveDate>,
    /// Its state.
    pub state: DeadlineState,
    /// When it was met.
    pub met_on: Option<NaiveDate>,
    /// The calendar the due day came from.
    pub calendar_version: String,
}

fn judge(
    due_on: NaiveDate,
    met_on: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
    today: NaiveDate,
) -> DeadlineState {
    match (met_on, ended_on) {
        (Some(met), _) if met <= due_on => DeadlineState::MetOnTime,
        (Some(_), _) => DeadlineState::MetLate,
        (None, Some(ended)) if ended > due_on => DeadlineState::Missed,
        (None, Some(_)) => DeadlineState::NotRequired,
        (None, None) if today > due_on => DeadlineState::Missed,
        (None, None) => DeadlineState::Pending,
    }
}

/// Each deadline that applies to the complaint, judged as of `today`.
pub fn deadline_statuses(
    case: &Complaint,
    services: &ComplaintServices,
    today: NaiveDate,
) -> Vec<DeadlineStatus> {
    let Some(dates) = deadlines(case, services) else {
        return Vec::new();
    };
    let closed_on = case.closure.as_ref().map(|c| c.closed_on);
    let version = dates.calendar_version.clone();
    let status = |kind, due_on, state, met_on| DeadlineStatus {
        kind,
        due_on,
        state,
        met_on,
        calendar_version: version.clone(),
    };
    let mut out = vec![status(
        DeadlineKind::Acknowledgement,
        Some(dates.acknowledge_by),
        judge(dates.acknowledge_by, case.acknowledged_on, closed_on, today),
        case.acknowledged_on,
    )];

    if let Some(lapses_on) = dates.consent_lapses_on {
        let consent = &case.consent;
        let state = if consent.given_on.is_none()
            && (consent.refused_on.is_some() || consent.lapsed_on.is_some())
        {
            DeadlineState::Missed
        } else {
            judge(lapses_on, consent.given_on, closed_on, today)
        };
        out.push(status(
            DeadlineKind::Consent,
            Some(lapses_on),
            state,
            consent.given_on,
        ));
    }

    let responded_on = case.current_response().map(|r| r.sent_on);
    match dates.response_due {
        Some(due) => out.push(status(
            DeadlineKind::Response,
            Some(due),
            judge(due, responded_on, closed_on, today),
            responded_on,
        )),
        None => out.push(status(
            DeadlineKind::Response,
            None,
            DeadlineState::Stopped,
            None,
        )),
    }

    let first_response = case.first_response().map(|r| r.sent_on);
    let delay_due = dates.delay_letter_due;
    let state = match (first_response, case.delay_notified_on.first()) {
        (Some(sent), _) if sent <= dates.statutory_period_end => DeadlineState::NotRequired,
        (_, Some(&notified)) => judge(delay_due, Some(notified), None, today),
        (Some(sent), None) => judge(delay_due, None, Some(sent), today),
        (None, None) => judge(delay_due, None, closed_on, today),
    };
    out.push(status(
        DeadlineKind::DelayLetter,
        Some(delay_due),
        state,
        case.delay_notified_on.first().copied(),
    ));
    out
}
