//! The complaint's state: the facts folded so far, and what they say about where it stands.

use crate::case_kind::CaseKind;
use crate::error::ComplaintError;
use crate::events::ComplaintParticulars;
use crate::facts::{
    ClockStop, Closure, ConsentRecord, ConsentState, Learning, LegalHold, LetterRecord, LinkedCase,
    PartRequest, Participant, ProgressContact, Receipt, Referral, RepresentativeGrounds,
    ResponsePlan, RiskGrade, SentResponse, TrackedRecommendation, UnreferredDecision,
};
use crate::policy;
use crate::reference::{PersonRole, RepresentationBasis};
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where a complaint stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Received, not yet acknowledged.
    Received,
    /// Out of time and awaiting the decision whether to investigate (R-TL-2).
    AwaitingTimeLimitDecision,
    /// Made by a child's representative and awaiting the finding of reasonable grounds
    /// (R-WHO-3).
    AwaitingRepresentativeGrounds,
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
            Status::AwaitingRepresentativeGrounds => "awaiting_representative_grounds",
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
    /// Ombudsman decisions recorded with no referral on record (R-FACT-1).
    #[serde(default)]
    pub decisions_without_referral: Vec<UnreferredDecision>,
    pub learning: Vec<Learning>,
    pub closure: Option<Closure>,
    pub reopened_on: Vec<NaiveDate>,
    /// The legal hold in force, if any (R-RET-1).
    #[serde(default)]
    pub legal_hold: Option<LegalHold>,
    /// The latest finding on a child's representative (R-WHO-3).
    #[serde(default)]
    pub representative_grounds: Option<RepresentativeGrounds>,
    /// Letters the rules require, as sent.
    #[serde(default)]
    pub letters: Vec<LetterRecord>,
    /// Contacts with the complainant about progress (R-RESP-1).
    #[serde(default)]
    pub progress_contacts: Vec<ProgressContact>,
    /// Every ombudsman recommendation, numbered in the order recorded (R-OMB-2).
    #[serde(default)]
    pub recommendations: Vec<TrackedRecommendation>,
    /// Cases opened from this one: the complaint an enquiry became, the case at the body
    /// it was forwarded to (R-KIND-1, R-SCOPE-2, R-SCOPE-3).
    #[serde(default)]
    pub linked_cases: Vec<LinkedCase>,
    /// When the complainant died, if they did (R-FACT-1).
    #[serde(default)]
    pub complainant_died_on: Option<NaiveDate>,
    /// The decision not to investigate a complaint made out of time (R-TL-2).
    #[serde(default)]
    pub out_of_time_refused_on: Option<NaiveDate>,
    /// Other work the case's information may be used for, and when identified (R-KIND-4).
    #[serde(default)]
    pub other_uses: Vec<(NaiveDate, crate::reference::OtherUsePurpose)>,
    /// When the person the complaint is about died, if they did (R-FACT-1): their consent
    /// is no longer asked for (R-WHO-5).
    #[serde(default)]
    pub person_affected_died_on: Option<NaiveDate>,
    /// Consents on record with what they permit (R-CONS-1).
    #[serde(default)]
    pub consents: Vec<ConsentRecord>,
    /// Other bodies taking part in this joint complaint, which this body leads, including
    /// those that stopped (R-JOINT-1, R-JOINT-2).
    #[serde(default)]
    pub participants: Vec<Participant>,
    /// The lead's requests for the participants' parts, numbered from 1 (R-JOINT-2).
    #[serde(default)]
    pub part_requests: Vec<PartRequest>,
    /// The caseworker the complaint is allocated to, by sign-in subject; the latest wins.
    #[serde(default)]
    pub assigned_to: Option<String>,
}

/// The day the complaint was made, for the time limit (R-TL-1): a complaint forwarded from
/// another body was made when that body first received it (reg 6(5): it is treated as made
/// to this body), though this body's clocks start on its own day of receipt.
pub(crate) fn made_on(receipt: &Receipt) -> NaiveDate {
    receipt
        .origin
        .as_ref()
        .and_then(|o| o.first_received_on)
        .map_or(receipt.received_on, |first| first.min(receipt.received_on))
}

impl Complaint {
    /// The receipt facts, or `NotReceived` (integrity: nothing is done to a complaint before
    /// it is received).
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

    /// Whether it was made within 12 months (R-TL-1); unknown dates count as in time, and
    /// other kinds of case than complaints have no time limit.
    pub fn in_time(&self) -> bool {
        if !self.kind().is_complaint() {
            return true;
        }
        match (self.receipt.as_ref(), self.time_limit_ends_on()) {
            (Some(r), Some(limit)) => made_on(r) <= limit,
            _ => true,
        }
    }

    /// In time, or accepted out of time (R-TL-2).
    pub fn may_be_investigated(&self) -> bool {
        self.in_time() || self.out_of_time_accepted_on.is_some()
    }

    /// Whether the body may consider the complaint (R-WHO-3): a child's representative's
    /// complaint only once the body is satisfied there are reasonable grounds for the
    /// representative, rather than the child, to complain.
    pub fn may_be_considered(&self) -> bool {
        let for_a_child = self
            .receipt
            .as_ref()
            .is_some_and(|r| r.representation_basis == Some(RepresentationBasis::Child));
        !for_a_child
            || self
                .representative_grounds
                .as_ref()
                .is_some_and(|g| g.satisfied)
    }

    /// Consent is needed and has not been given. The dead cannot consent, and their
    /// consent is not needed (R-WHO-5).
    pub fn consent_outstanding(&self) -> bool {
        self.consent_needed() && self.consent.given_on.is_none()
    }

    /// Whether the person affected's consent is needed: asked for at receipt and the person
    /// still alive (R-WHO-5).
    pub fn consent_needed(&self) -> bool {
        self.receipt.as_ref().is_some_and(|r| r.consent_required)
            && self.person_affected_died_on.is_none()
    }

    /// Whether `organisation` takes part in this joint complaint now (R-JOINT-2).
    pub fn is_participant(&self, organisation: &str) -> bool {
        self.current_participants()
            .any(|p| p.organisation_id == organisation)
    }

    /// The bodies taking part now.
    pub fn current_participants(&self) -> impl Iterator<Item = &Participant> {
        self.participants.iter().filter(|p| p.removed_on.is_none())
    }

    /// Whose consent lets the complaint be shared for joint handling (R-CONS-1): the person
    /// affected's while theirs is needed (R-WHO-5), else the complainant's.
    pub fn consent_to_share_from(&self) -> PersonRole {
        if self.consent_needed() {
            PersonRole::PersonAffected
        } else {
            PersonRole::Complainant
        }
    }

    /// Whether consent to share the complaint with `organisation` for joint handling is on
    /// record, from the person it must come from (R-CONS-1, R-JOINT-2).
    pub fn consent_to_share_with(&self, organisation: &str) -> bool {
        let whose = self.consent_to_share_from();
        self.consents
            .iter()
            .any(|c| c.for_whom == whose && c.permits_joint_handling_with(organisation))
    }

    /// What kind of case this is.
    pub fn kind(&self) -> CaseKind {
        self.receipt.as_ref().map(|r| r.kind).unwrap_or_default()
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
        } else if !self.may_be_considered() {
            Status::AwaitingRepresentativeGrounds
        } else if self.consent_outstanding() {
            Status::AwaitingConsent
        } else if self.acknowledged_on.is_some() {
            Status::Investigating
        } else {
            Status::Received
        }
    }
}
