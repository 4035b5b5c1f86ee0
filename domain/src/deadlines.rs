// Over 600 lines: every deadline the rules set, each with its rule and its state, derived in
// one pass over the facts; split by kind, the shared clock rules would be repeated.
//! Deadlines derived from a complaint's facts, the calendar in force and the
//! organisation's policy. Nothing here is stored: a calendar correction moves them.
//!
//! Reads plain facts only ([`CaseFacts`]), never `Complaint`: the aggregate depends on these
//! rules (consent lapse, overdue referral), so they must not depend on it.

use crate::calendar::Calendar;
use crate::case_kind::{CaseKind, EnquiryType};
use crate::facts::{
    ClockStop, Closure, ConsentState, LetterRecord, PartRequest, Receipt, ResponsePlan,
    TrackedRecommendation,
};
use crate::policy::{self, day_after, ComplaintServices, OrganisationPolicy};
use crate::reference::LetterKind;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a received complaint's deadlines are derived from; `Complaint::deadline_facts`
/// fills it in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CaseFacts<'a> {
    pub receipt: &'a Receipt,
    /// 1 for local resolution, 2 for internal review.
    pub stage: u8,
    /// Receipt, or the escalation that started stage 2.
    pub stage_started_on: NaiveDate,
    pub plans: &'a [ResponsePlan],
    pub clock_stops: &'a [ClockStop],
    /// The open clock stop, if any, belongs to the current stage.
    pub clock_stopped: bool,
    pub acknowledged_on: Option<NaiveDate>,
    pub consent: &'a ConsentState,
    /// When the current stage's response was sent.
    pub responded_on: Option<NaiveDate>,
    /// When the stage-1 response was sent.
    pub first_responded_on: Option<NaiveDate>,
    pub delay_notified_on: &'a [NaiveDate],
    pub time_limit_ends_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub on_legal_hold: bool,
    /// The current closure, for the letter it owes.
    pub closure: Option<&'a Closure>,
    /// The last reopening: letters sent before it answered an earlier closure.
    pub reopened_on: Option<NaiveDate>,
    pub letters: &'a [LetterRecord],
    pub recommendations: &'a [TrackedRecommendation],
    /// Other uses of the case's information identified (R-KIND-4).
    pub other_uses: &'a [(NaiveDate, crate::reference::OtherUsePurpose)],
    /// The latest ombudsman decision on record (R-RET-1).
    pub last_ombudsman_decision_on: Option<NaiveDate>,
    /// An ombudsman referral without a decision yet: a follow-on process still running.
    pub ombudsman_pending: bool,
    /// The first contact with the complainant about progress (R-RESP-1, R-KIND-1).
    pub first_contact_on: Option<NaiveDate>,
    /// The person affected died: their consent is no longer needed (R-WHO-5).
    pub person_affected_died: bool,
    /// The lead's requests for participants' parts (R-JOINT-2).
    pub part_requests: &'a [PartRequest],
}

/// Working days within which a person is told their information may be used for other work
/// (R-KIND-4).
pub const OTHER_USE_NOTICE_WORKING_DAYS: u32 = 10;

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
    /// The current stage's response date: the period agreed or notified, else the internal
    /// target; `None` while an agreed clock stop is open.
    pub response_due: Option<NaiveDate>,
    /// The end of the response period agreed with or notified to the complainant for the
    /// current stage (R-ACK-5), moved only by agreed clock stops (R-AR-4); `None` when none
    /// was agreed or notified, or while an agreed clock stop is open.
    #[serde(default)]
    pub response_period_end: Option<NaiveDate>,
    /// The organisation's internal target for the current stage (its default response
    /// period); never an agreed period (R-AR-4). `None` while an agreed clock stop is open.
    #[serde(default)]
    pub internal_target: Option<NaiveDate>,
    /// For an enquiry, the day the enquirer is to be contacted by (R-KIND-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_by: Option<NaiveDate>,
    /// For a complaint about the organisation itself, the day its provisional decision is
    /// due (R-KIND-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisional_decision_by: Option<NaiveDate>,
    /// The last day of the six months from receipt (R-RESP-3); the statutory dates below
    /// bind complaints only, and are shown for other kinds of case for reference.
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
    /// When a closed case file is due for retention review: ten years after the later of
    /// closure and the ombudsman's final decision (R-RET-1); moves on if the complaint is
    /// reopened and closed again; none while a legal hold is in force or an ombudsman
    /// referral awaits its decision.
    pub retention_review_due: Option<NaiveDate>,
}

/// Which obligation a deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// Acknowledge the complaint.
    Acknowledgement,
    /// Consent to arrive.
    Consent,
    /// Send the response for the current stage within the period agreed with or notified
    /// to the complainant (R-ACK-5); only when one was agreed or notified.
    Response,
    /// Send the response for the current stage within the organisation's internal target
    /// (its default response period); never an agreed period (R-AR-4).
    InternalTarget,
    /// Send the six-month delay letter.
    DelayLetter,
    /// Send the letter a closure owes (exclusion notice, consent-lapse closure, not in best
    /// interests, child grounds refusal); due a policy number of working days after closure.
    Letter,
    /// Send the copy of the written record of an oral complaint, due with the
    /// acknowledgement (R-ACK-2).
    OralRecord,
    /// Carry out an ombudsman's recommendation by its due date (R-OMB-2); one per
    /// recommendation, shown after closure too.
    OmbudsmanRecommendation,
    /// Contact the enquirer with advice or how the enquiry will proceed (R-KIND-1).
    EnquiryContact,
    /// Send the provisional decision on a complaint about the organisation itself (R-KIND-2).
    ProvisionalDecision,
    /// A participant in a joint complaint supplies the part the lead asked for by its due day
    /// (R-JOINT-2); one per request, owed by the participant and watched by the lead.
    ParticipantPart,
}

impl DeadlineKind {
    /// Whether the deadline outlives closure: letters a closure owes and ombudsman
    /// recommendations usually come after it.
    pub fn after_closure(self) -> bool {
        matches!(
            self,
            DeadlineKind::Letter | DeadlineKind::OmbudsmanRecommendation
        )
    }
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
    /// Which one, when a kind can have several: the recommendation's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    /// For a letter, which letter is owed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letter: Option<LetterKind>,
    /// The organisation that owes it, when another than the complaint's own: the
    /// participant asked for its part of a joint complaint (R-JOINT-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<String>,
}

impl CaseFacts<'_> {
    /// The working days the complainant-agreed stops at `stage` kept the clock still; only an
    /// agreed stop moves a response date (R-AR-4). A stop covers the working days from
    /// `stopped_on` up to the day before `restarted_on`.
    fn agreed_stopped_working_days(&self, stage: u8, calendar: &Calendar) -> u32 {
        self.clock_stops
            .iter()
            .filter(|s| s.stage == stage && s.complainant_agreed)
            .filter_map(|s| {
                let restarted = s.restarted_on?;
                Some(calendar.working_days_between(s.stopped_on.pred_opt()?, restarted.pred_opt()?))
            })
            .sum()
    }

    /// The organisation's internal target for the current stage: its default response
    /// period from the stage start, moved on by agreed clock stops. Never an agreed period
    /// (R-AR-4, section 0).
    pub fn internal_target(&self, services: &ComplaintServices) -> ResponseDue {
        if self.clock_stopped {
            return ResponseDue::Stopped;
        }
        let calendar = &services.calendar;
        let policy = services
            .policies
            .for_organisation(&self.receipt.organisation_id);
        let base =
            calendar.add_working_days(self.stage_started_on, policy.default_response_working_days);
        ResponseDue::Due(
            calendar.add_working_days(base, self.agreed_stopped_working_days(self.stage, calendar)),
        )
    }

    /// The response period agreed with or notified to the complainant for the current stage
    /// (R-ACK-5): the latest plan's date, moved on by agreed clock stops; `None` when no
    /// period was agreed or notified.
    pub fn response_period(&self, services: &ComplaintServices) -> Option<ResponseDue> {
        let plan = self.plans.iter().rev().find(|p| p.stage == self.stage)?;
        if self.clock_stopped {
            return Some(ResponseDue::Stopped);
        }
        let calendar = &services.calendar;
        Some(ResponseDue::Due(calendar.add_working_days(
            plan.response_due_on,
            self.agreed_stopped_working_days(self.stage, calendar),
        )))
    }

    /// The current stage's response date: the period agreed or notified, else the internal
    /// target.
    pub fn response_due(&self, services: &ComplaintServices) -> ResponseDue {
        self.response_period(services)
            .unwrap_or_else(|| self.internal_target(services))
    }

    /// The stage-1 period R-AR-4 and R-REC-1 measure the first response against: the first
    /// stage-1 period agreed or notified, replaced only by a later one the complainant agreed
    /// before the period in force ran out, moved on by agreed stage-1 clock stops. `None`
    /// when no period was agreed or notified before the response, or while an agreed stop
    /// is open at stage 1.
    pub fn stage_one_response_period(&self, services: &ComplaintServices) -> Option<NaiveDate> {
        let calendar = &services.calendar;
        let stopped = self.agreed_stopped_working_days(1, calendar);
        let mut plans = self.plans.iter().filter(|p| p.stage == 1).filter(|p| {
            self.first_responded_on
                .is_none_or(|sent| p.agreed_on <= sent)
        });
        let mut end = plans.next()?.response_due_on;
        for later in plans {
            if later.is_agreed() && later.agreed_on <= calendar.add_working_days(end, stopped) {
                end = later.response_due_on;
            }
        }
        let stage_one_stopped = self
            .clock_stops
            .iter()
            .any(|s| s.stage == 1 && s.complainant_agreed && s.restarted_on.is_none());
        (!stage_one_stopped).then(|| calendar.add_working_days(end, stopped))
    }

    /// The stage-1 internal target: the default period from receipt moved on by agreed
    /// stage-1 clock stops; `None` while an agreed stop is open at stage 1.
    pub fn stage_one_internal_target(&self, services: &ComplaintServices) -> Option<NaiveDate> {
        let calendar = &services.calendar;
        let policy = services
            .policies
            .for_organisation(&self.receipt.organisation_id);
        let stage_one_stopped = self
            .clock_stops
            .iter()
            .any(|s| s.stage == 1 && s.complainant_agreed && s.restarted_on.is_none());
        (!stage_one_stopped).then(|| {
            let base = calendar.add_working_days(
                self.receipt.received_on,
                policy.default_response_working_days,
            );
            calendar.add_working_days(base, self.agreed_stopped_working_days(1, calendar))
        })
    }

    /// The end of the statutory response period: six months from receipt, or a longer
    /// period agreed with the complainant before those six months ended (R-RESP-3,
    /// R-RESP-4). A period the body set alone and notified never moves it (R-RESP-5).
    fn statutory_period_end(&self) -> NaiveDate {
        let six_month_end = policy::six_month_end(self.receipt.received_on);
        let extended = self
            .plans
            .iter()
            .filter(|p| p.stage == 1 && p.is_agreed() && p.agreed_on <= six_month_end)
            .map(|p| p.response_due_on)
            .max();
        extended.map_or(six_month_end, |e| e.max(six_month_end))
    }

    /// Every date the complaint is held to.
    pub fn deadlines(&self, services: &ComplaintServices) -> Deadlines {
        let receipt = self.receipt;
        let calendar = &services.calendar;
        let policy = services.policies.for_organisation(&receipt.organisation_id);
        let statutory_end = self.statutory_period_end();
        Deadlines {
            calendar_version: calendar.version().to_string(),
            acknowledge_by: self.acknowledge_by(services),
            consent_lapses_on: consent_lapses_on(receipt, policy, calendar)
                .filter(|_| !self.person_affected_died),
            contact_by: self.contact_by(services),
            provisional_decision_by: (receipt.kind == CaseKind::AboutOrganisation).then(|| {
                calendar.add_working_days(
                    receipt.received_on,
                    policy.provisional_decision_working_days,
                )
            }),
            response_due: due_day(self.response_due(services)),
            response_period_end: self.response_period(services).and_then(due_day),
            internal_target: due_day(self.internal_target(services)),
            six_month_end: policy::six_month_end(receipt.received_on),
            statutory_period_end: statutory_end,
            delay_letter_due: day_after(statutory_end),
            time_limit_ends_on: self.time_limit_ends_on,
            oral_resolution_by: receipt
                .channel
                .is_oral()
                .then(|| policy::oral_resolution_cutoff(receipt.received_on, calendar)),
            retention_review_due: self
                .closed_on
                .filter(|_| !self.on_legal_hold && !self.ombudsman_pending)
                .map(|closed| {
                    policy::retention_review_due_after(
                        self.last_ombudsman_decision_on
                            .map_or(closed, |decided| decided.max(closed)),
                        policy.retention_years.unwrap_or(policy::RETENTION_YEARS),
                    )
                }),
        }
    }

    /// The acknowledgement date for the kind of case: the 3rd working day after receipt for
    /// a complaint (R-ACK-3) or a complaint about the organisation (R-KIND-2), the enquiry
    /// target for an enquiry (R-KIND-1), the local target for a concern (R-KIND-3).
    fn acknowledge_by(&self, services: &ComplaintServices) -> NaiveDate {
        let receipt = self.receipt;
        let calendar = &services.calendar;
        let policy = services.policies.for_organisation(&receipt.organisation_id);
        match receipt.kind {
            CaseKind::Enquiry if policy.enquiry_acknowledgement_in_working_days => {
                calendar.add_working_days(receipt.received_on, policy.enquiry_acknowledgement_days)
            }
            CaseKind::Enquiry => receipt
                .received_on
                .checked_add_days(chrono::Days::new(
                    policy.enquiry_acknowledgement_days.into(),
                ))
                .unwrap_or(receipt.received_on),
            CaseKind::Whistleblowing => calendar.add_working_days(
                receipt.received_on,
                policy
                    .whistleblowing_acknowledgement_working_days
                    .unwrap_or(0),
            ),
            CaseKind::Complaint | CaseKind::AboutOrganisation => {
                policy::acknowledge_by(receipt.received_on, calendar)
            }
        }
    }

    /// For an enquiry, the day the enquirer is to be contacted by (R-KIND-1).
    fn contact_by(&self, services: &ComplaintServices) -> Option<NaiveDate> {
        let receipt = self.receipt;
        let enquiry_type = match receipt.kind {
            CaseKind::Enquiry => receipt.enquiry_type.unwrap_or(EnquiryType::Advice),
            _ => return None,
        };
        let policy = services.policies.for_organisation(&receipt.organisation_id);
        Some(services.calendar.add_working_days(
            receipt.received_on,
            policy.enquiry_contact_working_days.for_type(enquiry_type),
        ))
    }

    /// The deadlines of a case that is not a statutory complaint (R-KIND-1 to R-KIND-3):
    /// the acknowledgement, the kind's own target, and what outlives closure.
    fn other_kind_statuses(
        &self,
        services: &ComplaintServices,
        dates: &Deadlines,
        status: impl Fn(
            DeadlineKind,
            Option<NaiveDate>,
            DeadlineState,
            Option<NaiveDate>,
        ) -> DeadlineStatus,
        today: NaiveDate,
    ) -> Vec<DeadlineStatus> {
        let closed_on = self.closed_on;
        let mut out = Vec::new();
        let policy = services
            .policies
            .for_organisation(&self.receipt.organisation_id);
        let whistleblowing_without_target = self.receipt.kind == CaseKind::Whistleblowing
            && policy.whistleblowing_acknowledgement_working_days.is_none();
        if !whistleblowing_without_target {
            out.push(status(
                DeadlineKind::Acknowledgement,
                Some(dates.acknowledge_by),
                judge(dates.acknowledge_by, self.acknowledged_on, closed_on, today),
                self.acknowledged_on,
            ));
        }
        if let Some(due) = dates.contact_by {
            out.push(status(
                DeadlineKind::EnquiryContact,
                Some(due),
                judge(due, self.first_contact_on, closed_on, today),
                self.first_contact_on,
            ));
        }
        if let Some(due) = dates.provisional_decision_by {
            let sent = self.first_responded_on;
            out.push(status(
                DeadlineKind::ProvisionalDecision,
                Some(due),
                judge(due, sent, closed_on, today),
                sent,
            ));
        }
        out
    }

    /// The deadlines that outlive closure: the letter a closure owes and each ombudsman
    /// recommendation.
    fn push_after_closure(
        &self,
        out: &mut Vec<DeadlineStatus>,
        services: &ComplaintServices,
        version: &str,
        today: NaiveDate,
    ) {
        let status = |kind, due_on, state, met_on| DeadlineStatus {
            kind,
            due_on,
            state,
            met_on,
            calendar_version: version.to_string(),
            item: None,
            letter: None,
            organisation_id: None,
        };
        // R-KIND-4: told within 10 working days how their information may be used for
        // other work; closure does not end it.
        if let Some(first) = self.other_uses.iter().map(|(on, _)| *on).min() {
            let due = services
                .calendar
                .add_working_days(first, OTHER_USE_NOTICE_WORKING_DAYS);
            let sent = self
                .letters
                .iter()
                .filter(|l| l.kind == LetterKind::OtherUseNotice && l.sent_on >= first)
                .map(|l| l.sent_on)
                .min();
            out.push(DeadlineStatus {
                letter: Some(LetterKind::OtherUseNotice),
                ..status(
                    DeadlineKind::Letter,
                    Some(due),
                    judge(due, sent, None, today),
                    sent,
                )
            });
        }
        // R-EXCL-1, R-WHO-3, R-WHO-4, R-WHO-6: the letter a closure owes; closure does not end it.
        if let Some((kind, due)) = self.closure_letter(services) {
            let sent = self.letter_sent(kind);
            out.push(DeadlineStatus {
                letter: Some(kind),
                ..status(
                    DeadlineKind::Letter,
                    Some(due),
                    judge(due, sent, None, today),
                    sent,
                )
            });
        }

        // R-OMB-2: each recommendation until done; with no due date it stays pending.
        for r in self.recommendations {
            let state = match (r.due_on, r.done_on) {
                (Some(due), done) => judge(due, done, None, today),
                (None, Some(_)) => DeadlineState::MetOnTime,
                (None, None) => DeadlineState::Pending,
            };
            out.push(DeadlineStatus {
                item: Some(r.number),
                ..status(
                    DeadlineKind::OmbudsmanRecommendation,
                    r.due_on,
                    state,
                    r.done_on,
                )
            });
        }
    }

    /// The letter the current closure owes and its due day, if any.
    fn closure_letter(&self, services: &ComplaintServices) -> Option<(LetterKind, NaiveDate)> {
        let closure = self.closure?;
        let kind = closure.reason.letter_owed(closure.exclusion_category)?;
        let policy = services
            .policies
            .for_organisation(&self.receipt.organisation_id);
        let due = services
            .calendar
            .add_working_days(closure.closed_on, policy.closure_letter_working_days);
        Some((kind, due))
    }

    /// The first letter of `kind` sent since the last reopening.
    fn letter_sent(&self, kind: LetterKind) -> Option<NaiveDate> {
        self.letters
            .iter()
            .filter(|l| l.kind == kind && self.reopened_on.is_none_or(|r| l.sent_on >= r))
            .map(|l| l.sent_on)
            .min()
    }

    /// Each deadline that applies, judged as of `today`.
    pub fn statuses(&self, services: &ComplaintServices, today: NaiveDate) -> Vec<DeadlineStatus> {
        let dates = self.deadlines(services);
        let closed_on = self.closed_on;
        let version = dates.calendar_version.clone();
        let status = |kind, due_on, state, met_on| DeadlineStatus {
            kind,
            due_on,
            state,
            met_on,
            calendar_version: version.clone(),
            item: None,
            letter: None,
            organisation_id: None,
        };
        if !self.receipt.kind.is_complaint() {
            let mut out = self.other_kind_statuses(services, &dates, status, today);
            self.push_after_closure(&mut out, services, &version, today);
            return out;
        }
        // R-EXCL-2, R-ACK-4: an oral complaint resolved by the next working day ended on the
        // day it was resolved, however late its closure was recorded.
        let ack_ended_on = self.closure.and_then(|c| c.resolved_on).or(closed_on);
        let mut out = vec![status(
            DeadlineKind::Acknowledgement,
            Some(dates.acknowledge_by),
            judge(
                dates.acknowledge_by,
                self.acknowledged_on,
                ack_ended_on,
                today,
            ),
            self.acknowledged_on,
        )];

        if let Some(lapses_on) = dates.consent_lapses_on {
            let consent = self.consent;
            // (R-WHO-5: `consent_lapses_on` is none once the person affected died.)
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

        let responded_on = self.responded_on;
        let response_deadline = |kind, due: ResponseDue| match due {
            ResponseDue::Due(due) => status(
                kind,
                Some(due),
                judge(due, responded_on, closed_on, today),
                responded_on,
            ),
            _ => status(kind, None, DeadlineState::Stopped, None),
        };
        if let Some(period) = self.response_period(services) {
            out.push(response_deadline(DeadlineKind::Response, period));
        }
        out.push(response_deadline(
            DeadlineKind::InternalTarget,
            self.internal_target(services),
        ));

        let delay_due = dates.delay_letter_due;
        let state = match (self.first_responded_on, self.delay_notified_on.first()) {
            (Some(sent), _) if sent <= dates.statutory_period_end => DeadlineState::NotRequired,
            (_, Some(&notified)) => judge(delay_due, Some(notified), None, today),
            (Some(sent), None) => judge(delay_due, None, Some(sent), today),
            (None, None) => judge(delay_due, None, closed_on, today),
        };
        out.push(status(
            DeadlineKind::DelayLetter,
            Some(delay_due),
            state,
            self.delay_notified_on.first().copied(),
        ));

        // R-ACK-5: a period the body set alone (the complainant declined or did not reply)
        // is told to the complainant in writing; the latest such plan owes the letter.
        if let Some(plan) = self
            .plans
            .iter()
            .rev()
            .find(|p| p.stage == self.stage)
            .filter(|p| !p.is_agreed())
        {
            let policy = services
                .policies
                .for_organisation(&self.receipt.organisation_id);
            let due = services
                .calendar
                .add_working_days(plan.agreed_on, policy.closure_letter_working_days);
            let sent = self
                .letters
                .iter()
                .filter(|l| {
                    l.kind == LetterKind::ResponsePeriodNotification && l.sent_on >= plan.agreed_on
                })
                .map(|l| l.sent_on)
                .min();
            out.push(DeadlineStatus {
                letter: Some(LetterKind::ResponsePeriodNotification),
                ..status(
                    DeadlineKind::Letter,
                    Some(due),
                    judge(due, sent, closed_on, today),
                    sent,
                )
            });
        }

        // R-ACK-2: the copy of an oral complaint's written record goes with the
        // acknowledgement; none is owed once it is closed before then (R-ACK-4).
        if receipt_is_oral(self.receipt) {
            let sent = self.letter_sent(LetterKind::OralRecordCopy);
            out.push(DeadlineStatus {
                letter: Some(LetterKind::OralRecordCopy),
                ..status(
                    DeadlineKind::OralRecord,
                    Some(dates.acknowledge_by),
                    judge(dates.acknowledge_by, sent, ack_ended_on, today),
                    sent,
                )
            });
        }

        // R-JOINT-2: each part asked of a participant, until supplied; a participant removed
        // before supplying it owes nothing from then on.
        for r in self.part_requests {
            let ended_on = match (r.withdrawn_on, closed_on) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            out.push(DeadlineStatus {
                item: Some(r.number),
                organisation_id: Some(r.organisation_id.clone()),
                ..status(
                    DeadlineKind::ParticipantPart,
                    Some(r.due_on),
                    judge(r.due_on, r.provided_on, ended_on, today),
                    r.provided_on,
                )
            });
        }

        self.push_after_closure(&mut out, services, &version, today);
        out
    }
}

fn receipt_is_oral(receipt: &Receipt) -> bool {
    receipt.channel.is_oral()
}

fn due_day(due: ResponseDue) -> Option<NaiveDate> {
    match due {
        ResponseDue::Due(day) => Some(day),
        ResponseDue::Stopped | ResponseDue::NotApplicable => None,
    }
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
