//! The one error type of the domain crate: one variant per rule that refuses a command.

use chrono::NaiveDate;

/// Every reason the domain refuses a command or its reference data. Messages are
/// lowercase and safe to show to callers: they never contain personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)] // the message says what each field is
pub enum ComplaintError {
    #[error("{field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("{field} is after today ({today})")]
    DateInFuture {
        field: &'static str,
        today: NaiveDate,
    },
    #[error("{field} is before the complaint was received ({received_on})")]
    DateBeforeReceipt {
        field: &'static str,
        received_on: NaiveDate,
    },
    #[error("{field} is before {earlier} ({earlier_on})")]
    DateOutOfOrder {
        field: &'static str,
        earlier: &'static str,
        earlier_on: NaiveDate,
    },
    #[error("no complaint has been received under this id")]
    NotReceived,
    #[error("the complaint has already been received")]
    AlreadyReceived,
    #[error("a representation basis is needed when someone complains for another person")]
    RepresentationBasisMissing,
    #[error("the complaint has already been acknowledged")]
    AlreadyAcknowledged,
    #[error("the complaint is closed")]
    AlreadyClosed,
    #[error("the complaint is not closed")]
    NotClosed,
    #[error("the complaint is in time: no out-of-time decision is needed")]
    NotOutOfTime,
    #[error("the out-of-time complaint has already been accepted")]
    OutOfTimeAlreadyAccepted,
    #[error("an out-of-time complaint may be accepted only with good reason for the delay and a fair investigation still possible")]
    OutOfTimeGroundsNotMet,
    #[error("the complaint was made after the 12-month time limit and has not been accepted for investigation")]
    OutOfTimeNotAccepted,
    #[error("this complaint does not need anyone's consent")]
    ConsentNotRequired,
    #[error("consent has already been requested")]
    ConsentAlreadyRequested,
    #[error("consent has already been given or refused")]
    ConsentAlreadyDecided,
    #[error("the person's consent is still outstanding")]
    ConsentOutstanding,
    #[error("consent may still arrive until {lapses_on}; it lapses after that day")]
    ConsentNotYetLapsed { lapses_on: NaiveDate },
    #[error("the organisation's policy sets no consent deadline")]
    ConsentLapseNotConfigured,
    #[error("unknown seriousness `{seriousness}`, expected one of: {levels}")]
    UnknownSeriousness { seriousness: String, levels: String },
    #[error("the response clock is already stopped")]
    ClockAlreadyStopped,
    #[error("the response clock is not stopped")]
    ClockNotStopped,
    #[error("a response has already been sent at this stage")]
    ResponseAlreadySent,
    #[error("the response must be signed by the responsible person or an authorised delegate")]
    UnsignedResponse,
    #[error("the response must tell the complainant of their right to go to the ombudsman")]
    MissingOmbudsmanRights,
    #[error("the response letter is missing: {missing}")]
    IncompleteResponse { missing: String },
    #[error("there is no response to review: a complaint is escalated after its first response")]
    NoResponseToEscalate,
    #[error("the complaint is already at internal review")]
    AlreadyEscalated,
    #[error("referral before a final response is possible only once the response is overdue (due {response_due})")]
    ReferralBeforeFinalResponse { response_due: String },
    #[error("the complaint is already with the {ombudsman} without a decision")]
    AlreadyReferred { ombudsman: String },
    #[error("the complaint has not been referred to the {ombudsman}")]
    NotReferred { ombudsman: String },
    #[error("the {ombudsman}'s decision has already been recorded")]
    OmbudsmanDecisionAlreadyRecorded { ombudsman: String },
    #[error("a complaint is resolved only once a response has been sent")]
    ResolvedWithoutResponse,
    #[error("closure reason `{reason}` does not apply: {why}")]
    ClosureReasonNotApplicable { reason: &'static str, why: String },
    #[error("the case file is already on legal hold")]
    AlreadyOnLegalHold,
    #[error("the case file is not on legal hold")]
    NotOnLegalHold,
    #[error("invalid calendar data: {reason}")]
    InvalidCalendar { reason: String },
    #[error("the body must be satisfied there are reasonable grounds for the representative, rather than the child, to complain before it considers the complaint (R-WHO-3)")]
    RepresentativeGroundsNotFound,
    #[error("only a complaint made by a child's representative needs a finding of reasonable grounds (R-WHO-3)")]
    RepresentativeGroundsNotApplicable,
    #[error("the finding of reasonable grounds has already been made")]
    RepresentativeGroundsAlreadyDecided,
    #[error("a `{kind}` letter does not apply: {why}")]
    LetterNotApplicable { kind: &'static str, why: String },
    #[error("the complaint has no ombudsman recommendation number {number}")]
    UnknownRecommendation { number: u32 },
    #[error("ombudsman recommendation number {number} is already done")]
    RecommendationAlreadyDone { number: u32 },
    #[error("`{command}` does not apply to a case of kind `{kind}`: {why}")]
    NotForThisKind {
        kind: &'static str,
        command: &'static str,
        why: String,
    },
    #[error("the response is signed as {capacity} by someone the organisation register does not name as such (R-RESP-2, R-SCOPE-4)")]
    SignatoryNotAuthorised { capacity: &'static str },
    #[error("site `{site}` is not one of the organisation's registered sites")]
    UnknownSite { site: String },
    #[error("a complaint made to a commissioner is passed to the provider only with the complainant's consent (R-SCOPE-3)")]
    TransferConsentMissing,
    #[error("the complaint's own organisation leads it; only another body takes part (R-JOINT-1)")]
    ParticipantIsLead,
    #[error("`{organisation}` already takes part in this joint complaint (R-JOINT-2)")]
    AlreadyParticipant { organisation: String },
    #[error("`{organisation}` does not take part in this joint complaint (R-JOINT-2)")]
    NotParticipant { organisation: String },
    #[error("no consent to share the complaint with `{organisation}` for joint handling is on record (R-CONS-1, R-JOINT-2)")]
    ConsentToShareMissing { organisation: String },
    #[error("a part is already requested from `{organisation}` and not yet provided (R-JOINT-2)")]
    PartAlreadyRequested { organisation: String },
    #[error("no part is outstanding from `{organisation}` (R-JOINT-2)")]
    NoPartRequested { organisation: String },
    #[error("the co-ordinated response waits for the part requested from {organisations}: it is provided, or the body removed from the joint complaint, first (R-JOINT-2)")]
    PartOutstanding { organisations: String },
}

impl ComplaintError {
    /// A stable kebab-case code per rule, for problem `type` URIs and metrics.
    pub fn code(&self) -> &'static str {
        use ComplaintError::*;
        match self {
            InvalidField { .. } => "invalid-field",
            DateInFuture { .. } => "date-in-future",
            DateBeforeReceipt { .. } => "date-before-receipt",
            DateOutOfOrder { .. } => "date-out-of-order",
            NotReceived => "not-received",
            AlreadyReceived => "already-received",
            RepresentationBasisMissing => "representation-basis-missing",
            AlreadyAcknowledged => "already-acknowledged",
            AlreadyClosed => "already-closed",
            NotClosed => "not-closed",
            NotOutOfTime => "not-out-of-time",
            OutOfTimeAlreadyAccepted => "out-of-time-already-accepted",
            OutOfTimeGroundsNotMet => "out-of-time-grounds-not-met",
            OutOfTimeNotAccepted => "out-of-time-not-accepted",
            ConsentNotRequired => "consent-not-required",
            ConsentAlreadyRequested => "consent-already-requested",
            ConsentAlreadyDecided => "consent-already-decided",
            ConsentOutstanding => "consent-outstanding",
            ConsentNotYetLapsed { .. } => "consent-not-yet-lapsed",
            ConsentLapseNotConfigured => "consent-lapse-not-configured",
            UnknownSeriousness { .. } => "unknown-seriousness",
            ClockAlreadyStopped => "clock-already-stopped",
            ClockNotStopped => "clock-not-stopped",
            ResponseAlreadySent => "response-already-sent",
            UnsignedResponse => "unsigned-response",
            MissingOmbudsmanRights => "missing-ombudsman-rights",
            IncompleteResponse { .. } => "incomplete-response",
            NoResponseToEscalate => "no-response-to-escalate",
            AlreadyEscalated => "already-escalated",
            ReferralBeforeFinalResponse { .. } => "referral-before-final-response",
            AlreadyReferred { .. } => "already-referred",
            NotReferred { .. } => "not-referred",
            OmbudsmanDecisionAlreadyRecorded { .. } => "ombudsman-decision-already-recorded",
            ResolvedWithoutResponse => "resolved-without-response",
            ClosureReasonNotApplicable { .. } => "closure-reason-not-applicable",
            AlreadyOnLegalHold => "already-on-legal-hold",
            NotOnLegalHold => "not-on-legal-hold",
            InvalidCalendar { .. } => "invalid-calendar",
            RepresentativeGroundsNotFound => "representative-grounds-not-found",
            RepresentativeGroundsNotApplicable => "representative-grounds-not-applicable",
            RepresentativeGroundsAlreadyDecided => "representative-grounds-already-decided",
            LetterNotApplicable { .. } => "letter-not-applicable",
            UnknownRecommendation { .. } => "unknown-recommendation",
            RecommendationAlreadyDone { .. } => "recommendation-already-done",
            NotForThisKind { .. } => "not-for-this-kind",
            SignatoryNotAuthorised { .. } => "signatory-not-authorised",
            UnknownSite { .. } => "unknown-site",
            TransferConsentMissing => "transfer-consent-missing",
            ParticipantIsLead => "participant-is-lead",
            AlreadyParticipant { .. } => "already-participant",
            NotParticipant { .. } => "not-a-participant",
            ConsentToShareMissing { .. } => "consent-to-share-missing",
            PartAlreadyRequested { .. } => "part-already-requested",
            NoPartRequested { .. } => "no-part-requested",
            PartOutstanding { .. } => "part-outstanding",
        }
    }

    /// The request field the error is about, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ComplaintError::InvalidField { field, .. }
            | ComplaintError::DateInFuture { field, .. }
            | ComplaintError::DateBeforeReceipt { field, .. }
            | ComplaintError::DateOutOfOrder { field, .. } => Some(field),
            _ => None,
        }
    }
}
