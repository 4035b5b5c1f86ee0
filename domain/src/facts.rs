//! The records a complaint's state is made of, one per kind of fact. Plain data, kept apart
//! from `Complaint` so that the deadline rules can read them without depending on the
//! aggregate that also depends on them.

use crate::case_kind::{CaseKind, CaseOrigin, EnquiryType, OriginRelation};
use crate::events::SourceReference;
use crate::reference::{
    Channel, ClosureReason, ComplainantStatus, ConsentGiver, ConsentMethod, ConsentScope,
    ContactMethod, DiscussionOutcome, Eligibility, ExclusionCategory, LearningKind,
    LegalHoldGround, LetterKind, Likelihood, Ombudsman, OmbudsmanDecision, Outcome, PatientAgeBand,
    PersonRole, RepresentationBasis, RiskRating, Route, ServiceArea, StaffGroup, SubjectArea,
};
use chrono::NaiveDate;
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
    /// On what footing the complainant may complain (R-WHO-1), when recorded.
    #[serde(default)]
    pub eligibility: Option<Eligibility>,
    /// KO41 age band of the patient (R-KO-5), when recorded.
    #[serde(default)]
    pub patient_age_band: Option<PatientAgeBand>,
    /// KO41 status of the complainant (R-KO-5), when recorded.
    #[serde(default)]
    pub complainant_status: Option<ComplainantStatus>,
    /// The organisation's site the complaint is about (R-KO-1), when recorded.
    #[serde(default)]
    pub site: Option<String>,
    /// What kind of case it is (R-KIND-1 to R-KIND-3).
    #[serde(default)]
    pub kind: CaseKind,
    #[serde(default)]
    pub enquiry_type: Option<EnquiryType>,
    /// The provider complained about, for a complaint made to its commissioner (R-SCOPE-3).
    #[serde(default)]
    pub provider_id: Option<String>,
    /// The case it came from.
    #[serde(default)]
    pub origin: Option<CaseOrigin>,
}

/// A case opened from this one (R-KIND-1, R-SCOPE-2, R-SCOPE-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct LinkedCase {
    pub relation: OriginRelation,
    pub organisation_id: String,
    pub case_id: String,
    pub opened_on: NaiveDate,
}

/// Where consent stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct ConsentState {
    pub requested_on: Option<NaiveDate>,
    pub given_on: Option<NaiveDate>,
    /// The latest refusal.
    pub refused_on: Option<NaiveDate>,
    pub lapsed_on: Option<NaiveDate>,
    /// Refusals before the latest one: a person may be asked again and refuse again, and
    /// each refusal is a fact (R-FACT-1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_refusals: Vec<NaiveDate>,
}

impl ConsentState {
    pub(crate) fn decided(&self) -> bool {
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

/// A response period agreed with or notified to the complainant, with the stage it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct ResponsePlan {
    pub stage: u8,
    pub agreed_on: NaiveDate,
    pub response_due_on: NaiveDate,
    pub discussion_outcome: Option<DiscussionOutcome>,
}

impl ResponsePlan {
    /// Whether the complainant agreed the period (R-RESP-5): they accepted the offer to
    /// discuss, or the plan records an agreement without a discussion outcome (an extension
    /// agreed later). A period the body set alone after the complainant declined or did not
    /// reply is only *notified*: it is the response target but never extends the six months.
    pub fn is_agreed(&self) -> bool {
        matches!(
            self.discussion_outcome,
            None | Some(DiscussionOutcome::Accepted)
        )
    }
}

/// A period the response clock did not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct ClockStop {
    pub stage: u8,
    pub stopped_on: NaiveDate,
    pub restarted_on: Option<NaiveDate>,
    /// Whether the complainant agreed to the stop (R-AR-4): only an agreed stop moves the
    /// response period; an unagreed one is recorded and flagged but moves nothing. Stops
    /// recorded before this was asked count as unagreed.
    #[serde(default)]
    pub complainant_agreed: bool,
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

/// An ombudsman's decision the body was told of with no referral on record to attach it to
/// (R-FACT-1, R-OMB-2): recorded all the same, and flagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct UnreferredDecision {
    pub ombudsman: Ombudsman,
    pub decided_on: NaiveDate,
    pub decision: OmbudsmanDecision,
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
    /// The day an oral complaint was resolved to the complainant's satisfaction (R-EXCL-2).
    #[serde(default)]
    pub resolved_on: Option<NaiveDate>,
}

/// The body's finding on a child's representative (R-WHO-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct RepresentativeGrounds {
    pub decided_on: NaiveDate,
    pub satisfied: bool,
    pub decided_by: String,
}

/// A letter the rules require, as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct LetterRecord {
    pub kind: LetterKind,
    pub sent_on: NaiveDate,
}

/// A contact with the complainant about progress (R-RESP-1); what was said stays in the
/// event, as confidential text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct ProgressContact {
    pub contacted_on: NaiveDate,
    pub method: ContactMethod,
}

/// An ombudsman's recommendation, tracked until it is done (R-OMB-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct TrackedRecommendation {
    /// 1 for the first recommendation recorded on the complaint.
    pub number: u32,
    pub ombudsman: Ombudsman,
    pub decided_on: NaiveDate,
    pub description: String,
    pub due_on: Option<NaiveDate>,
    pub done_on: Option<NaiveDate>,
    pub what_was_done: Option<String>,
}

/// A hold keeping the case file beyond its retention period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct LegalHold {
    pub placed_on: NaiveDate,
    pub ground: LegalHoldGround,
}

/// Another body taking part in a joint complaint this one leads (R-JOINT-1, R-JOINT-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)] // as on `AddParticipant`
pub struct Participant {
    pub organisation_id: String,
    pub agreed_on: NaiveDate,
    pub agreed_by: String,
    /// When it stopped taking part; it no longer sees the case.
    pub removed_on: Option<NaiveDate>,
}

/// The lead's request for a participant's part of the co-ordinated response (R-JOINT-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub struct PartRequest {
    /// 1 for the first request on the complaint.
    pub number: u32,
    pub organisation_id: String,
    /// The stage whose response the part is for.
    pub stage: u8,
    pub requested_on: NaiveDate,
    pub due_on: NaiveDate,
    pub provided_on: Option<NaiveDate>,
    /// The participant was removed before providing it: nothing is owed any more.
    pub withdrawn_on: Option<NaiveDate>,
}

impl PartRequest {
    /// Requested, neither provided nor withdrawn.
    pub fn is_outstanding(&self) -> bool {
        self.provided_on.is_none() && self.withdrawn_on.is_none()
    }
}

/// A consent on record with what it permits (R-CONS-1); its evidence stays in the event, as
/// confidential text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)] // as on `RecordConsentToShare`
pub struct ConsentRecord {
    pub given_on: NaiveDate,
    pub for_whom: PersonRole,
    pub given_by: ConsentGiver,
    pub scopes: Vec<ConsentScope>,
    pub method: ConsentMethod,
    /// For joint handling: the bodies it may be shared with; any taking part when empty.
    #[serde(default)]
    pub share_with: Vec<String>,
}

impl ConsentRecord {
    /// Whether it lets the complaint be shared with `organisation` for joint handling.
    pub fn permits_joint_handling_with(&self, organisation: &str) -> bool {
        self.scopes.contains(&ConsentScope::JointHandling)
            && (self.share_with.is_empty() || self.share_with.iter().any(|o| o == organisation))
    }
}
