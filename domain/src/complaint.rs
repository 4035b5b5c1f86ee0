//! The `Complaint` aggregate: its state, how events change it (`evolve`) and how commands
//! become events (`decide`). The cqrs-es `Aggregate` impl only forwards to these.

use crate::commands::*;
use crate::deadlines::{response_due, ResponseDue};
use crate::events::*;
use crate::policy::{self, ComplaintServices};
use crate::reference::*;
use crate::ComplaintError;
use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Facts fixed at receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)] // as on `ReceiveComplaint`
pub struct Receipt {
    pub organisation_id: String,
    pub received_on: NaiveDate,
    pub channel: Channel,
    pub route: Route,
    pub representation_basis: Option<RepresentationBasis>,
    pub consent_required: bool,
    pub subject_areas: Vec<SubjectArea>,
    pub service_area: Option<ServiceArea>,
    pub staff_groups: Vec<StaffGroup>,
    pub matter_occurred_on: Option<NaiveDate>,
    pub matter_came_to_notice_on: Option<NaiveDate>,
    pub source: Option<SourceReference>,
}

/// Where consent stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct ConsentState {
    pub requested_on: Option<NaiveDate>,
    pub given_on: Option<NaiveDate>,
    pub refused_on: Option<NaiveDate>,
    pub lapsed_on: Option<NaiveDate>,
}

impl ConsentState {
    fn decided(&self) -> bool {
        self.given_on.is_some() || self.refused_on.is_some() || self.lapsed_on.is_some()
    }
}

/// The current risk grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct RiskGrade {
    pub assessed_on: NaiveDate,
    pub seriousness: String,
    pub likelihood: Likelihood,
    pub rating: RiskRating,
    pub matrix: String,
}

/// An agreed response period, with the stage it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct ResponsePlan {
    pub stage: u8,
    pub agreed_on: NaiveDate,
    pub response_due_on: NaiveDate,
    pub discussion_outcome: Option<DiscussionOutcome>,
}

/// A period the response clock did not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct ClockStop {
    pub stage: u8,
    pub stopped_on: NaiveDate,
    pub restarted_on: Option<NaiveDate>,
}

/// A response sent at a stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct SentResponse {
    pub stage: u8,
    pub sent_on: NaiveDate,
    pub outcome: Outcome,
    pub ombudsman_rights: Vec<Ombudsman>,
}

/// An ombudsman referral and its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct Referral {
    pub ombudsman: Ombudsman,
    pub informed_on: NaiveDate,
    pub ombudsman_reference: Option<String>,
    pub decided_on: Option<NaiveDate>,
    pub decision: Option<OmbudsmanDecision>,
}

/// A lesson or action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct Learning {
    pub recorded_on: NaiveDate,
    pub kind: LearningKind,
    pub summary: String,
    pub action_due_on: Option<NaiveDate>,
}

/// How the complaint was closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct Closure {
    pub closed_on: NaiveDate,
    pub reason: ClosureReason,
    pub exclusion_category: Option<ExclusionCategory>,
    pub transferred_to: Option<String>,
}

/// Where a complaint stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Received, not yet acknowledged.
    Received,
    /// Out of time and awaiting the decision whether to investigate (R-TL-2).
    AwaitingTimeLimitDecision,
    /// Waiting for the person affected to consent.
    AwaitingConsent,
    /// Acknowledged and being looked into.
    Investigating,
    /// At internal review (stage 2), response outstanding.
    UnderReview,
    /// The response for the current stage has been sent.
    Responded,
    /// Closed.
    Closed,
}

impl Status {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::AwaitingTimeLimitDecision => "awaiting_time_limit_decision",
            Status::AwaitingConsent => "awaiting_consent",
            Status::Investigating => "investigating",
            Status::UnderReview => "under_review",
            Status::Responded => "responded",
            Status::Closed => "closed",
        }
    }
}

/// A complaint, folded from its events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Complaint {
    pub receipt: Option<Receipt>,
    pub particulars: Option<ComplaintParticulars>,
    pub out_of_time_accepted_on: Option<NaiveDate>,
    pub acknowledged_on: Option<NaiveDate>,
    pub acknowledged_late: bool,
    pub consent: ConsentState,
    pub risk: Option<RiskGrade>,
    /// 1 for local resolution, 2 for internal review; 0 before receipt.
    pub stage: u8,
    pub escalated_on: Option<NaiveDate>,
    pub plans: Vec<ResponsePlan>,
    pub clock_stops: Vec<ClockStop>,
    pub delay_notified_on: Vec<NaiveDate>,
    pub responses: Vec<SentResponse>,
    pub referrals: Vec<Referral>,
    pub learning: Vec<Learning>,
    pub closure: Option<Closure>,
    pub reopened_on: Vec<NaiveDate>,
    /// The legal hold in force, if any (R-RET-1).
    #[serde(default)]
    pub legal_hold: Option<LegalHold>,
}

/// A hold keeping the case file beyond its retention period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct LegalHold {
    pub placed_on: NaiveDate,
    pub ground: LegalHoldGround,
}

impl Complaint {
    /// The receipt facts, or `NotReceived`.
    pub fn receipt(&self) -> Result<&Receipt, ComplaintError> {
        self.receipt.as_ref().ok_or(ComplaintError::NotReceived)
    }

    /// Whether the complaint is closed.
    pub fn is_closed(&self) -> bool {
        self.closure.is_some()
    }

    /// The last day the complaint could be made in time (R-TL-1).
    pub fn time_limit_ends_on(&self) -> Option<NaiveDate> {
        let r = self.receipt.as_ref()?;
        policy::time_limit_ends_on(r.matter_occurred_on, r.matter_came_to_notice_on)
    }

    /// Whether it was made within 12 months (R-TL-1); unknown dates count as in time.
    pub fn in_time(&self) -> bool {
        match (self.receipt.as_ref(), self.time_limit_ends_on()) {
            (Some(r), Some(limit)) => r.received_on <= limit,
            _ => true,
        }
    }

    /// In time, or accepted out of time (R-TL-2).
    pub fn may_be_investigated(&self) -> bool {
        self.in_time() || self.out_of_time_accepted_on.is_some()
    }

    /// Consent is needed and has not been given.
    pub fn consent_outstanding(&self) -> bool {
        self.receipt.as_ref().is_some_and(|r| r.consent_required) && self.consent.given_on.is_none()
    }

    /// The day the current stage started: receipt, or the escalation.
    pub fn stage_started_on(&self) -> Option<NaiveDate> {
        self.escalated_on
            .or_else(|| self.receipt.as_ref().map(|r| r.received_on))
    }

    /// The response sent at the current stage.
    pub fn current_response(&self) -> Option<&SentResponse> {
        self.responses.iter().rev().find(|r| r.stage == self.stage)
    }

    /// The first response (stage 1): the statutory response of regulation 14.
    pub fn first_response(&self) -> Option<&SentResponse> {
        self.responses.iter().find(|r| r.stage == 1)
    }

    /// The latest response at any stage.
    pub fn final_response(&self) -> Option<&SentResponse> {
        self.responses.last()
    }

    /// The clock stop still open, if any.
    pub fn open_clock_stop(&self) -> Option<&ClockStop> {
        self.clock_stops.iter().find(|s| s.restarted_on.is_none())
    }

    /// Where the complaint stands.
    pub fn status(&self) -> Status {
        if self.is_closed() {
            Status::Closed
        } else if self.current_response().is_some() {
            Status::Responded
        } else if self.stage == 2 {
            Status::UnderReview
        } else if !self.may_be_investigated() {
            Status::AwaitingTimeLimitDecision
        } else if self.consent_outstanding() {
            Status::AwaitingConsent
        } else if self.acknowledged_on.is_some() {
            Status::Investigating
        } else {
            Status::Received
        }
    }
}

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
        ConsentRefused { refused_on } => case.consent.refused_on = Some(refused_on),
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
        ClockStopped { stopped_on, .. } => case.clock_stops.push(ClockStop {
            stage: case.stage,
            stopped_on,
            restarted_on: None,
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
            ..
        } => {
            if let Some(referral) = case
                .referrals
                .iter_mut()
                .rev()
                .find(|r| r.ombudsman == ombudsman && r.decision.is_none())
            {
                referral.decided_on = Some(decided_on);
                referral.decision = Some(decision);
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
        } => {
            case.closure = Some(Closure {
                closed_on,
                reason,
                exclusion_category,
                transferred_to,
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
    }
}

/// Checks the dates a command carries against today and the receipt.
struct DateCheck<'a> {
    today: NaiveDate,
    received_on: Option<NaiveDate>,
    _case: &'a Complaint,
}

impl DateCheck<'_> {
    fn on(&self, field: &'static str, day: NaiveDate) -> Result<(), ComplaintError> {
        if day > self.today {
            return Err(ComplaintError::DateInFuture {
                field,
                today: self.today,
            });
        }
        match self.received_on {
            Some(received_on) if day < received_on => {
                Err(ComplaintError::DateBeforeReceipt { field, received_on })
            }
            _ => Ok(()),
        }
    }

    fn not_before(
        &self,
        field: &'static str,
        day: NaiveDate,
        earlier: &'static str,
        earlier_on: Option<NaiveDate>,
    ) -> Result<(), ComplaintError> {
        match earlier_on {
            Some(earlier_on) if day < earlier_on => Err(ComplaintError::DateOutOfOrder {
                field,
                earlier,
                earlier_on,
            }),
            _ => Ok(()),
        }
    }
}

fn required_text(field: &'static str, value: &str) -> Result<(), ComplaintError> {
    if value.trim().is_empty() {
        return Err(ComplaintError::InvalidField {
            field,
            reason: "must not be blank".into(),
        });
    }
    Ok(())
}

fn valid_organisation_id(field: &'static str, id: &str) -> Result<(), ComplaintError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ComplaintError::InvalidField {
            field,
            reason: "must be 1 to 64 letters, digits, '-', '_' or '.'".into(),
        })
    }
}

fn open(case: &Complaint) -> Result<&Receipt, ComplaintError> {
    let receipt = case.receipt()?;
    if case.is_closed() {
        return Err(ComplaintError::AlreadyClosed);
    }
    Ok(receipt)
}

/// Turns a command into the events it produces, or the rule it breaks. Pure.
pub fn decide(
    case: &Complaint,
    command: ComplaintCommand,
    services: &ComplaintServices,
) -> Result<Vec<ComplaintEvent>, ComplaintError> {
    let dates = DateCheck {
        today: command.issued_on,
        received_on: case.receipt.as_ref().map(|r| r.received_on),
        _case: case,
    };
    let calendar = &services.calendar;
    use ComplaintAction as A;
    use ComplaintEvent as E;
    match command.action {
        A::Receive(cmd) => receive(case, cmd, &dates),
        A::AcceptOutOfTime(cmd) => {
            open(case)?;
            if case.in_time() {
                return Err(ComplaintError::NotOutOfTime);
            }
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
            Ok(vec![E::OutOfTimeAccepted {
                accepted_on: cmd.accepted_on,
                decision,
            }])
        }
        A::Acknowledge(cmd) => {
            let receipt = open(case)?;
            if case.acknowledged_on.is_some() {
                return Err(ComplaintError::AlreadyAcknowledged);
            }
            dates.on("acknowledged_on", cmd.acknowledged_on)?;
            let due = policy::acknowledge_by(receipt.received_on, calendar);
            Ok(vec![E::ComplaintAcknowledged {
                acknowledged_on: cmd.acknowledged_on,
                late: cmd.acknowledged_on > due,
                discussion_offered: cmd.discussion_offered,
            }])
        }
        A::RequestConsent(cmd) => {
            let receipt = open(case)?;
            if !receipt.consent_required {
                return Err(ComplaintError::ConsentNotRequired);
            }
            if case.consent.decided() {
                return Err(ComplaintError::ConsentAlreadyDecided);
            }
            if case.consent.requested_on.is_some() {
                return Err(ComplaintError::ConsentAlreadyRequested);
            }
            dates.on("requested_on", cmd.requested_on)?;
            Ok(vec![E::ConsentRequested {
                requested_on: cmd.requested_on,
            }])
        }
        A::RecordConsent(cmd) => {
            let receipt = open(case)?;
            if !receipt.consent_required {
                return Err(ComplaintError::ConsentNotRequired);
            }
            // A refusal or lapse may be followed by consent (a reopened complaint); consent
            // given, or a second refusal, is final.
            let refused_again = cmd.decision == ConsentDecision::Refused && case.consent.decided();
            if case.consent.given_on.is_some() || refused_again {
                return Err(ComplaintError::ConsentAlreadyDecided);
            }
            dates.on("decided_on", cmd.decided_on)?;
            dates.not_before(
                "decided_on",
                cmd.decided_on,
                "requested_on",
                case.consent.requested_on,
            )?;
            Ok(vec![match cmd.decision {
                ConsentDecision::Given => E::ConsentGiven {
                    given_on: cmd.decided_on,
                    evidence: cmd.evidence.map(Confidential),
                },
                ConsentDecision::Refused => E::ConsentRefused {
                    refused_on: cmd.decided_on,
                },
            }])
        }
        A::LapseConsent(cmd) => {
            let receipt = open(case)?;
            if !receipt.consent_required {
                return Err(ComplaintError::ConsentNotRequired);
            }
            if case.consent.decided() {
                return Err(ComplaintError::ConsentAlreadyDecided);
            }
            dates.on("lapsed_on", cmd.lapsed_on)?;
            let policy = services.policies.for_organisation(&receipt.organisation_id);
            let lapses_on = crate::deadlines::consent_lapses_on(receipt, policy, calendar)
                .ok_or(ComplaintError::ConsentLapseNotConfigured)?;
            // Consent arriving on the last day is in time: the lapse comes after it.
            if cmd.lapsed_on <= lapses_on {
                return Err(ComplaintError::ConsentNotYetLapsed { lapses_on });
            }
            Ok(vec![
                E::ConsentLapsed {
                    lapsed_on: cmd.lapsed_on,
                },
                E::ComplaintClosed {
                    closed_on: cmd.lapsed_on,
                    reason: ClosureReason::ConsentNotReceived,
                    exclusion_category: None,
                    transferred_to: None,
                },
            ])
        }
        A::AssessRisk(cmd) => {
            let receipt = open(case)?;
            dates.on("assessed_on", cmd.assessed_on)?;
            let matrix = &services
                .policies
                .for_organisation(&receipt.organisation_id)
                .risk_matrix;
            let rating = matrix.grade(&cmd.seriousness, cmd.likelihood)?;
            Ok(vec![E::RiskAssessed {
                assessed_on: cmd.assessed_on,
                seriousness: cmd.seriousness.trim().to_ascii_lowercase(),
                likelihood: cmd.likelihood,
                rating,
                matrix: matrix.versioned_id(),
            }])
        }
        A::AgreeResponsePlan(cmd) => {
            open(case)?;
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
            Ok(vec![E::ResponsePlanAgreed {
                agreed_on: cmd.agreed_on,
                response_due_on: cmd.response_due_on,
                discussion_outcome: cmd.discussion_outcome,
            }])
        }
        A::StopClock(cmd) => {
            open(case)?;
            if case.open_clock_stop().is_some() {
                return Err(ComplaintError::ClockAlreadyStopped);
            }
            if case.current_response().is_some() {
                return Err(ComplaintError::ResponseAlreadySent);
            }
            required_text("reason", &cmd.reason)?;
            dates.on("stopped_on", cmd.stopped_on)?;
            let last_restart = case.clock_stops.iter().filter_map(|s| s.restarted_on).max();
            dates.not_before(
                "stopped_on",
                cmd.stopped_on,
                "the last restart",
                last_restart,
            )?;
            dates.not_before(
                "stopped_on",
                cmd.stopped_on,
                "escalated_on",
                case.escalated_on,
            )?;
            Ok(vec![E::ClockStopped {
                stopped_on: cmd.stopped_on,
                reason: Confidential(cmd.reason),
            }])
        }
        A::RestartClock(cmd) => {
            open(case)?;
            let stop = case
                .open_clock_stop()
                .ok_or(ComplaintError::ClockNotStopped)?;
            dates.on("restarted_on", cmd.restarted_on)?;
            dates.not_before(
                "restarted_on",
                cmd.restarted_on,
                "stopped_on",
                Some(stop.stopped_on),
            )?;
            Ok(vec![E::ClockRestarted {
                restarted_on: cmd.restarted_on,
            }])
        }
        A::NotifyDelay(cmd) => {
            open(case)?;
            if case.current_response().is_some() {
                return Err(ComplaintError::ResponseAlreadySent);
            }
            required_text("reason", &cmd.reason)?;
            dates.on("notified_on", cmd.notified_on)?;
            if let Some(expected) = cmd.expected_response_on {
                dates.not_before(
                    "expected_response_on",
                    expected,
                    "notified_on",
                    Some(cmd.notified_on),
                )?;
            }
            Ok(vec![E::DelayNotified {
                notified_on: cmd.notified_on,
                expected_response_on: cmd.expected_response_on,
                reason: Confidential(cmd.reason),
            }])
        }
        A::SendResponse(cmd) => {
            open(case)?;
            if case.current_response().is_some() {
                return Err(ComplaintError::ResponseAlreadySent);
            }
            if !case.may_be_investigated() {
                return Err(ComplaintError::OutOfTimeNotAccepted);
            }
            if case.consent_outstanding() {
                return Err(ComplaintError::ConsentOutstanding);
            }
            dates.on("sent_on", cmd.sent_on)?;
            dates.not_before("sent_on", cmd.sent_on, "escalated_on", case.escalated_on)?;
            if cmd.signed_by.trim().is_empty() {
                return Err(ComplaintError::UnsignedResponse);
            }
            if cmd.ombudsman_rights.is_empty() {
                return Err(ComplaintError::MissingOmbudsmanRights);
            }
            let missing: Vec<&str> = [
                ("how_considered", &cmd.letter.how_considered),
                ("conclusions", &cmd.letter.conclusions),
                ("actions", &cmd.letter.actions),
            ]
            .into_iter()
            .filter(|(_, text)| text.trim().is_empty())
            .map(|(name, _)| name)
            .collect();
            if !missing.is_empty() {
                return Err(ComplaintError::IncompleteResponse {
                    missing: missing.join(", "),
                });
            }
            let mut rights = cmd.ombudsman_rights;
            rights.sort();
            rights.dedup();
            Ok(vec![E::ResponseSent {
                sent_on: cmd.sent_on,
                stage: case.stage,
                outcome: cmd.outcome,
                signed_by: cmd.signed_by,
                signed_as: cmd.signed_as,
                ombudsman_rights: rights,
                letter: Confidential(cmd.letter),
            }])
        }
        A::Escalate(cmd) => {
            open(case)?;
            if case.stage >= 2 {
                return Err(ComplaintError::AlreadyEscalated);
            }
            let first = case
                .first_response()
                .ok_or(ComplaintError::NoResponseToEscalate)?;
            required_text("reason", &cmd.reason)?;
            dates.on("escalated_on", cmd.escalated_on)?;
            dates.not_before(
                "escalated_on",
                cmd.escalated_on,
                "the response",
                Some(first.sent_on),
            )?;
            Ok(vec![E::ComplaintEscalated {
                escalated_on: cmd.escalated_on,
                reason: Confidential(cmd.reason),
            }])
        }
        A::ReferToOmbudsman(cmd) => {
            // R-OMB-1: accepted on a closed complaint, which stays closed.
            case.receipt()?;
            dates.on("informed_on", cmd.informed_on)?;
            if case
                .referrals
                .iter()
                .any(|r| r.ombudsman == cmd.ombudsman && r.decision.is_none())
            {
                return Err(ComplaintError::AlreadyReferred {
                    ombudsman: cmd.ombudsman.code().to_uppercase(),
                });
            }
            // Before a final response, only an overdue one lets an open complaint go to the
            // ombudsman; a complaint closed locally accepts the referral whatever its history.
            if case.final_response().is_none() && !case.is_closed() {
                let due = response_due(case, services);
                let overdue = match due {
                    ResponseDue::Due(due_on) => cmd.informed_on > due_on,
                    ResponseDue::Stopped | ResponseDue::NotApplicable => false,
                };
                if !overdue {
                    return Err(ComplaintError::ReferralBeforeFinalResponse {
                        response_due: match due {
                            ResponseDue::Due(d) => d.to_string(),
                            _ => "not set while the clock is stopped".into(),
                        },
                    });
                }
            }
            let reference = cmd.ombudsman_reference.filter(|r| !r.trim().is_empty());
            Ok(vec![E::ReferredToOmbudsman {
                ombudsman: cmd.ombudsman,
                informed_on: cmd.informed_on,
                ombudsman_reference: reference,
            }])
        }
        A::RecordOmbudsmanDecision(cmd) => {
            case.receipt()?;
            let name = || cmd.ombudsman.code().to_uppercase();
            let referral = case
                .referrals
                .iter()
                .rev()
                .find(|r| r.ombudsman == cmd.ombudsman)
                .ok_or_else(|| ComplaintError::NotReferred { ombudsman: name() })?;
            if referral.decision.is_some() {
                return Err(ComplaintError::OmbudsmanDecisionAlreadyRecorded { ombudsman: name() });
            }
            dates.on("decided_on", cmd.decided_on)?;
            dates.not_before(
                "decided_on",
                cmd.decided_on,
                "informed_on",
                Some(referral.informed_on),
            )?;
            for r in &cmd.recommendations {
                required_text("recommendations.description", &r.description)?;
            }
            Ok(vec![E::OmbudsmanDecisionRecorded {
                ombudsman: cmd.ombudsman,
                decided_on: cmd.decided_on,
                decision: cmd.decision,
                recommendations: cmd.recommendations,
            }])
        }
        A::RecordLearning(cmd) => {
            // Learning often follows closure (R-AR-1 items 5 and 6), so closed cases accept it.
            case.receipt()?;
            required_text("summary", &cmd.summary)?;
            dates.on("recorded_on", cmd.recorded_on)?;
            if let Some(due) = cmd.action_due_on {
                if cmd.kind != LearningKind::Action {
                    return Err(ComplaintError::InvalidField {
                        field: "action_due_on",
                        reason: "only an action has a due date".into(),
                    });
                }
                dates.not_before("action_due_on", due, "recorded_on", Some(cmd.recorded_on))?;
            }
            Ok(vec![E::LearningRecorded {
                recorded_on: cmd.recorded_on,
                kind: cmd.kind,
                summary: cmd.summary,
                action_due_on: cmd.action_due_on,
            }])
        }
        A::Close(cmd) => {
            let receipt = open(case)?;
            dates.on("closed_on", cmd.closed_on)?;
            dates.not_before(
                "closed_on",
                cmd.closed_on,
                "reopened_on",
                case.reopened_on.last().copied(),
            )?;
            check_closure(case, receipt, &cmd, calendar)?;
            Ok(vec![E::ComplaintClosed {
                closed_on: cmd.closed_on,
                reason: cmd.reason,
                exclusion_category: cmd.exclusion_category,
                transferred_to: cmd.transferred_to.map(|t| t.trim().to_string()),
            }])
        }
        A::Reopen(cmd) => {
            case.receipt()?;
            let closure = case.closure.as_ref().ok_or(ComplaintError::NotClosed)?;
            required_text("reason", &cmd.reason)?;
            dates.on("reopened_on", cmd.reopened_on)?;
            dates.not_before(
                "reopened_on",
                cmd.reopened_on,
                "closed_on",
                Some(closure.closed_on),
            )?;
            Ok(vec![E::ComplaintReopened {
                reopened_on: cmd.reopened_on,
                reason: Confidential(cmd.reason),
            }])
        }
        A::PlaceLegalHold(cmd) => {
            // Holds apply to the case file whatever its state, closed files above all.
            case.receipt()?;
            if case.legal_hold.is_some() {
                return Err(ComplaintError::AlreadyOnLegalHold);
            }
            required_text("note", &cmd.note)?;
            dates.on("placed_on", cmd.placed_on)?;
            Ok(vec![E::LegalHoldPlaced {
                placed_on: cmd.placed_on,
                ground: cmd.ground,
                note: Confidential(cmd.note),
            }])
        }
        A::ReleaseLegalHold(cmd) => {
            case.receipt()?;
            let hold = case
                .legal_hold
                .as_ref()
                .ok_or(ComplaintError::NotOnLegalHold)?;
            dates.on("released_on", cmd.released_on)?;
            dates.not_before(
                "released_on",
                cmd.released_on,
                "placed_on",
                Some(hold.placed_on),
            )?;
            Ok(vec![E::LegalHoldReleased {
                released_on: cmd.released_on,
            }])
        }
    }
}

fn check_out_of_time_decision(decision: &OutOfTimeDecision) -> Result<(), ComplaintError> {
    required_text("decided_by", &decision.decided_by)?;
    required_text("rationale", &decision.rationale.0)?;
    if !(decision.good_reason_for_delay && decision.fair_investigation_possible) {
        return Err(ComplaintError::OutOfTimeGroundsNotMet);
    }
    Ok(())
}

fn receive(
    case: &Complaint,
    cmd: ReceiveComplaint,
    dates: &DateCheck<'_>,
) -> Result<Vec<ComplaintEvent>, ComplaintError> {
    if case.receipt.is_some() {
        return Err(ComplaintError::AlreadyReceived);
    }
    valid_organisation_id("organisation_id", &cmd.organisation_id)?;
    dates.on("received_on", cmd.received_on)?;
    required_text("description", &cmd.description)?;
    required_text("complainant.name", &cmd.complainant.name)?;
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
    if basis.is_none() && (cmd.person_affected.is_some() || cmd.consent_required == Some(true)) {
        return Err(ComplaintError::RepresentationBasisMissing);
    }
    if let Some(person) = &cmd.person_affected {
        required_text("person_affected.name", &person.name)?;
    }
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
    let in_time = limit.is_none_or(|limit| cmd.received_on <= limit);
    let acceptance = match (cmd.out_of_time_decision, in_time) {
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
        route: cmd.route.unwrap_or(Route::Provider),
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
    }];
    events.extend(acceptance);
    Ok(events)
}

fn check_closure(
    case: &Complaint,
    receipt: &Receipt,
    cmd: &CloseComplaint,
    calendar: &crate::Calendar,
) -> Result<(), ComplaintError> {
    let not_applicable = |why: &str| ComplaintError::ClosureReasonNotApplicable {
        reason: cmd.reason.code(),
        why: why.to_string(),
    };
    if cmd.reason != ClosureReason::Excluded && cmd.exclusion_category.is_some() {
        return Err(ComplaintError::InvalidField {
            field: "exclusion_category",
            reason: "only an excluded complaint has an exclusion category".into(),
        });
    }
    if cmd.reason != ClosureReason::Transferred && cmd.transferred_to.is_some() {
        return Err(ComplaintError::InvalidField {
            field: "transferred_to",
            reason: "only a transferred complaint has a receiving organisation".into(),
        });
    }
    match cmd.reason {
        ClosureReason::Resolved => {
            if case.current_response().is_none() {
                return Err(ComplaintError::ResolvedWithoutResponse);
            }
        }
        ClosureReason::Withdrawn => {}
        ClosureReason::ConsentNotReceived => {
            if !case.consent_outstanding() {
                return Err(not_applicable("no consent is outstanding"));
            }
        }
        ClosureReason::OutOfTime => {
            if case.may_be_investigated() {
                return Err(not_applicable(
                    "the complaint is in time or was accepted out of time",
                ));
            }
        }
        ClosureReason::Excluded => {
            let category = cmd.exclusion_category.ok_or(ComplaintError::InvalidField {
                field: "exclusion_category",
                reason: "an excluded complaint needs its regulation 8(1) category".into(),
            })?;
            if category == ExclusionCategory::OralResolvedNextWorkingDay {
                if !receipt.channel.is_oral() {
                    return Err(not_applicable("the complaint was not made orally"));
                }
                let cutoff = policy::oral_resolution_cutoff(receipt.received_on, calendar);
                if cmd.closed_on > cutoff {
                    return Err(not_applicable(&format!(
                        "an oral complaint must be resolved by the next working day ({cutoff})"
                    )));
                }
            }
        }
        ClosureReason::Transferred => {
            let to = cmd
                .transferred_to
                .as_deref()
                .map(str::trim)
                .unwrap_or_default();
            valid_organisation_id("transferred_to", to)?;
            if to == receipt.organisation_id {
                return Err(ComplaintError::InvalidField {
                    field: "transferred_to",
                    reason: "a complaint is transferred to another organisation".into(),
                });
            }
        }
        ClosureReason::RepresentativeNotInBestInterests => {
            if !matches!(
                receipt.representation_basis,
                Some(RepresentationBasis::Child | RepresentationBasis::LacksCapacity)
            ) {
                return Err(not_applicable(
                    "applies only to a representative of a child or a person lacking capacity",
                ));
            }
        }
    }
    Ok(())
}

impl Aggregate for Complaint {
    const TYPE: &'static str = "Complaint";
    type Command = ComplaintCommand;
    type Event = ComplaintEvent;
    type Error = ComplaintError;
    type Services = ComplaintServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in decide(self, command, services)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        evolve(self, event);
    }
}
