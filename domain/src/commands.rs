// Over 600 lines: one body per command, each the wire contract the API, NATS intake and the
// JSON Schemas share; the list reads as one catalogue and changes as one.
//! Commands: what callers ask of a complaint, imperative. Each body is what the HTTP API
//! and NATS intake accept, so unknown fields are refused.

use crate::case_kind::{CaseKind, CaseOrigin, EnquiryType, OriginRelation};
use crate::events::{OutOfTimeDecision, Person, Recommendation, ResponseLetter, SourceReference};
use crate::reference::*;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A command with the civil date (Europe/London) on which the caller issued it; business
/// dates after that day are refused, and the domain never reads a clock.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplaintCommand {
    /// Today, as the gateway saw it.
    pub issued_on: NaiveDate,
    /// What to do.
    pub action: ComplaintAction,
}

/// Every command the aggregate handles.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // each variant is documented on its body type
#[allow(clippy::large_enum_variant)] // short-lived, one per request: boxing buys nothing
pub enum ComplaintAction {
    Receive(ReceiveComplaint),
    AcceptOutOfTime(AcceptOutOfTime),
    Acknowledge(AcknowledgeComplaint),
    RequestConsent(RequestConsent),
    RecordConsent(RecordConsent),
    LapseConsent(LapseConsent),
    AssessRisk(AssessRisk),
    AgreeResponsePlan(AgreeResponsePlan),
    StopClock(StopClock),
    RestartClock(RestartClock),
    NotifyDelay(NotifyDelay),
    SendResponse(SendResponse),
    Escalate(EscalateComplaint),
    ReferToOmbudsman(ReferToOmbudsman),
    RecordOmbudsmanDecision(RecordOmbudsmanDecision),
    RecordLearning(RecordLearning),
    Close(CloseComplaint),
    Reopen(ReopenComplaint),
    PlaceLegalHold(PlaceLegalHold),
    ReleaseLegalHold(ReleaseLegalHold),
    RecordOralResolution(RecordOralResolution),
    DecideRepresentativeGrounds(DecideRepresentativeGrounds),
    RecordLetter(RecordLetter),
    RecordProgressContact(RecordProgressContact),
    RecordRecommendationDone(RecordRecommendationDone),
    TreatAsComplaint(TreatAsComplaint),
    RecordLinkedCase(RecordLinkedCase),
    RecordDeath(RecordDeath),
    RefuseOutOfTime(RefuseOutOfTime),
    RecordOtherUse(RecordOtherUse),
    RecordConsentToShare(RecordConsentToShare),
    AddParticipant(AddParticipant),
    RemoveParticipant(RemoveParticipant),
    RequestPart(RequestPart),
    ProvidePart(ProvidePart),
    AssignCaseworker(AssignCaseworker),
}

impl ComplaintAction {
    /// Stable name, used in metrics and logs.
    pub fn name(&self) -> &'static str {
        match self {
            ComplaintAction::Receive(_) => "receive",
            ComplaintAction::AcceptOutOfTime(_) => "accept_out_of_time",
            ComplaintAction::Acknowledge(_) => "acknowledge",
            ComplaintAction::RequestConsent(_) => "request_consent",
            ComplaintAction::RecordConsent(_) => "record_consent",
            ComplaintAction::LapseConsent(_) => "lapse_consent",
            ComplaintAction::AssessRisk(_) => "assess_risk",
            ComplaintAction::AgreeResponsePlan(_) => "agree_response_plan",
            ComplaintAction::StopClock(_) => "stop_clock",
            ComplaintAction::RestartClock(_) => "restart_clock",
            ComplaintAction::NotifyDelay(_) => "notify_delay",
            ComplaintAction::SendResponse(_) => "send_response",
            ComplaintAction::Escalate(_) => "escalate",
            ComplaintAction::ReferToOmbudsman(_) => "refer_to_ombudsman",
            ComplaintAction::RecordOmbudsmanDecision(_) => "record_ombudsman_decision",
            ComplaintAction::RecordLearning(_) => "record_learning",
            ComplaintAction::Close(_) => "close",
            ComplaintAction::Reopen(_) => "reopen",
            ComplaintAction::PlaceLegalHold(_) => "place_legal_hold",
            ComplaintAction::ReleaseLegalHold(_) => "release_legal_hold",
            ComplaintAction::RecordOralResolution(_) => "record_oral_resolution",
            ComplaintAction::DecideRepresentativeGrounds(_) => "decide_representative_grounds",
            ComplaintAction::RecordLetter(_) => "record_letter",
            ComplaintAction::RecordProgressContact(_) => "record_progress_contact",
            ComplaintAction::RecordRecommendationDone(_) => "record_recommendation_done",
            ComplaintAction::TreatAsComplaint(_) => "treat_as_complaint",
            ComplaintAction::RecordLinkedCase(_) => "record_linked_case",
            ComplaintAction::RecordDeath(_) => "record_death",
            ComplaintAction::RefuseOutOfTime(_) => "refuse_out_of_time",
            ComplaintAction::RecordOtherUse(_) => "record_other_use",
            ComplaintAction::RecordConsentToShare(_) => "record_consent_to_share",
            ComplaintAction::AddParticipant(_) => "add_participant",
            ComplaintAction::RemoveParticipant(_) => "remove_participant",
            ComplaintAction::RequestPart(_) => "request_part",
            ComplaintAction::ProvidePart(_) => "provide_part",
            ComplaintAction::AssignCaseworker(_) => "assign_caseworker",
        }
    }
}

fn default_true() -> bool {
    true
}

/// Record a complaint as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveComplaint {
    /// The responsible body (ODS code or local identifier).
    pub organisation_id: String,
    /// The day the body received it; the clocks start from here.
    pub received_on: NaiveDate,
    /// How it was made (R-ACK-1).
    pub channel: Channel,
    /// Provider or commissioner (R-SCOPE-3); provider when not said.
    #[serde(default)]
    pub route: Option<Route>,
    /// At least one subject area (R-KO-7).
    pub subject_areas: Vec<SubjectArea>,
    /// The service area (R-KO-8).
    #[serde(default)]
    pub service_area: Option<ServiceArea>,
    /// Staff groups concerned (R-KO-8).
    #[serde(default)]
    pub staff_groups: Vec<StaffGroup>,
    /// The complaint in the complainant's words.
    pub description: String,
    /// Who complains.
    pub complainant: Person,
    /// Why someone else complains for the person affected (R-WHO-2).
    #[serde(default)]
    pub representation_basis: Option<RepresentationBasis>,
    /// The person the complaint is about, when it is made on their behalf.
    #[serde(default)]
    pub person_affected: Option<Person>,
    /// Whether that person's consent is needed; by default from the representation basis (R-WHO-5).
    #[serde(default)]
    pub consent_required: Option<bool>,
    /// When the matter complained about happened (R-TL-1).
    #[serde(default)]
    pub matter_occurred_on: Option<NaiveDate>,
    /// When the complainant became aware of it (R-TL-1).
    #[serde(default)]
    pub matter_came_to_notice_on: Option<NaiveDate>,
    /// The frontline system's own reference, for idempotent intake.
    #[serde(default)]
    pub source: Option<SourceReference>,
    /// For an out-of-time complaint, the decision to accept it (R-TL-2).
    #[serde(default)]
    pub out_of_time_decision: Option<OutOfTimeDecision>,
    /// On what footing the complainant may complain (R-WHO-1); `representative` goes with a
    /// representation basis, the others without one.
    #[serde(default)]
    pub eligibility: Option<Eligibility>,
    /// The patient's age band for the KO41 return (R-KO-5); counted as `unknown` when not said.
    #[serde(default)]
    pub patient_age_band: Option<PatientAgeBand>,
    /// Who the complainant is to the patient, for the KO41 return (R-KO-5); counted as
    /// `unknown` when not said.
    #[serde(default)]
    pub complainant_status: Option<ComplainantStatus>,
    /// The organisation's site the complaint is about (a site code), for the per-site
    /// KO41a return (R-KO-1); counted as `not_recorded` when not said.
    #[serde(default)]
    pub site: Option<String>,
    /// What kind of case this is; a statutory complaint when not said (R-KIND-1 to 3).
    #[serde(default)]
    pub kind: Option<CaseKind>,
    /// For an enquiry, what it is about: it sets the contact target (R-KIND-1).
    #[serde(default)]
    pub enquiry_type: Option<EnquiryType>,
    /// For a complaint made to a commissioner about a provider (route `commissioner`), the
    /// provider complained about (R-SCOPE-3).
    #[serde(default)]
    pub provider_id: Option<String>,
    /// Where the case came from: another body's transfer (R-SCOPE-2), a commissioner
    /// (R-SCOPE-3) or an enquiry. Filled in by the system when it opens the case itself.
    #[serde(default)]
    pub origin: Option<CaseOrigin>,
}

/// Accept an out-of-time complaint for investigation (R-TL-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptOutOfTime {
    /// The day of the decision.
    pub accepted_on: NaiveDate,
    /// The complainant had good reason for not complaining in time.
    pub good_reason_for_delay: bool,
    /// It is still possible to investigate effectively and fairly.
    pub fair_investigation_possible: bool,
    /// Who decided (staff identifier).
    pub decided_by: String,
    /// Why.
    pub rationale: String,
}

/// Acknowledge the complaint (R-ACK-3, R-ACK-5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeComplaint {
    /// The day of the acknowledgement (oral or written).
    pub acknowledged_on: NaiveDate,
    /// Whether the offer to discuss handling and the response period was made.
    #[serde(default = "default_true")]
    pub discussion_offered: bool,
}

/// Ask the person affected for consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestConsent {
    /// The day of the request.
    pub requested_on: NaiveDate,
}

/// Record the person affected's answer on consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordConsent {
    /// Given or refused.
    pub decision: crate::events::ConsentDecision,
    /// The day the answer arrived.
    pub decided_on: NaiveDate,
    /// What evidences it (signed form, LPA, letters of administration).
    #[serde(default)]
    pub evidence: Option<String>,
}

/// Record that consent did not arrive in time; closes the complaint (R-WHO-6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LapseConsent {
    /// The day the lapse is recorded (on or after the lapse date).
    pub lapsed_on: NaiveDate,
}

/// Grade (or regrade) the risk (R-RISK-1/2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessRisk {
    /// The day of the assessment.
    pub assessed_on: NaiveDate,
    /// A seriousness level of the organisation's matrix (name or 1-based number).
    pub seriousness: String,
    /// Likelihood of recurrence.
    pub likelihood: Likelihood,
}

/// Agree (or set, when the complainant declines) the response period (R-ACK-5, R-RESP-4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreeResponsePlan {
    /// The day it was agreed or notified.
    pub agreed_on: NaiveDate,
    /// The day the response is due.
    pub response_due_on: NaiveDate,
    /// How the complainant answered the offer to discuss.
    #[serde(default)]
    pub discussion_outcome: Option<DiscussionOutcome>,
}

/// Stop the response clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopClock {
    /// The first day the clock does not run.
    pub stopped_on: NaiveDate,
    /// Why (e.g. awaiting information the complainant is to send).
    pub reason: String,
    /// Whether the complainant agreed to the stop; only an agreed stop moves the response
    /// period (R-AR-4). Unagreed when not said.
    #[serde(default)]
    pub complainant_agreed: bool,
}

/// Restart the response clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestartClock {
    /// The day the clock runs again.
    pub restarted_on: NaiveDate,
}

/// Tell the complainant why the response is delayed (R-RESP-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyDelay {
    /// The day of the letter.
    pub notified_on: NaiveDate,
    /// Why the response is late.
    pub reason: String,
    /// When the response is now expected.
    #[serde(default)]
    pub expected_response_on: Option<NaiveDate>,
}

/// Send the signed written response (R-RESP-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendResponse {
    /// The day it was sent.
    pub sent_on: NaiveDate,
    /// Upheld, partially upheld or not upheld.
    pub outcome: Outcome,
    /// Staff identifier of the signatory.
    pub signed_by: String,
    /// The signatory's capacity.
    pub signed_as: SignedAs,
    /// The ombudsman (or both) the letter tells the complainant they may go to.
    pub ombudsman_rights: Vec<Ombudsman>,
    /// The letter's statutory content.
    pub letter: ResponseLetter,
}

/// Escalate to internal review (stage 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateComplaint {
    /// The day the complainant asked for review.
    pub escalated_on: NaiveDate,
    /// What the complainant is unhappy with.
    pub reason: String,
}

/// Record that the body was told the complaint went to an ombudsman (R-OMB-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferToOmbudsman {
    /// PHSO or LGSCO.
    pub ombudsman: Ombudsman,
    /// The day the body was informed.
    pub informed_on: NaiveDate,
    /// The ombudsman's case reference.
    #[serde(default)]
    pub ombudsman_reference: Option<String>,
}

/// Record an ombudsman's decision (R-OMB-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOmbudsmanDecision {
    /// PHSO or LGSCO.
    pub ombudsman: Ombudsman,
    /// The day of the decision.
    pub decided_on: NaiveDate,
    /// What was decided.
    pub decision: OmbudsmanDecision,
    /// Recommendations, with due dates.
    #[serde(default)]
    pub recommendations: Vec<Recommendation>,
}

/// Record a lesson learnt or an improvement action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLearning {
    /// The day it was recorded.
    pub recorded_on: NaiveDate,
    /// Lesson or action.
    pub kind: LearningKind,
    /// For the annual report: must not contain personal data.
    pub summary: String,
    /// For an action, when it is to be done.
    #[serde(default)]
    pub action_due_on: Option<NaiveDate>,
}

/// Close the complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseComplaint {
    /// The day of closure.
    pub closed_on: NaiveDate,
    /// Why.
    pub reason: ClosureReason,
    /// For `excluded`: which paragraph of regulation 8(1).
    #[serde(default)]
    pub exclusion_category: Option<ExclusionCategory>,
    /// For `transferred`: the receiving organisation.
    #[serde(default)]
    pub transferred_to: Option<String>,
    /// For `transferred`: the day the receiving organisation received it, when later than
    /// the closure; its clocks start then (R-SCOPE-2). The closure day when not said.
    #[serde(default)]
    pub receiver_received_on: Option<NaiveDate>,
    /// For `transferred`: whether the complainant agreed to the complaint being passed on.
    /// A commissioner passes a complaint to the provider only with it (R-SCOPE-3).
    #[serde(default)]
    pub complainant_consented: Option<bool>,
}

/// Reopen a closed complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenComplaint {
    /// The day of reopening.
    pub reopened_on: NaiveDate,
    /// Why.
    pub reason: String,
}

/// Hold the case file beyond its retention period (R-RET-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceLegalHold {
    /// The day the hold starts.
    pub placed_on: NaiveDate,
    /// Litigation, ombudsman, public inquiry or other.
    pub ground: LegalHoldGround,
    /// What it is about (e.g. the claim or inquiry reference).
    pub note: String,
}

/// End the legal hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseLegalHold {
    /// The day the hold ends.
    pub released_on: NaiveDate,
}

/// Close an oral complaint resolved to the complainant's satisfaction by the next working
/// day after it was made: not handled under the regulations (reg 8(1)(c), R-EXCL-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOralResolution {
    /// The day the complaint was resolved to the complainant's satisfaction; the
    /// next-working-day cut-off is checked against this day.
    pub resolved_on: NaiveDate,
    /// The day the closure is recorded (on or after `resolved_on`).
    pub closed_on: NaiveDate,
}

/// Record whether the body is satisfied there are reasonable grounds for a representative,
/// rather than the child, to complain (R-WHO-3). Not satisfied closes the complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideRepresentativeGrounds {
    /// The day of the decision.
    pub decided_on: NaiveDate,
    /// Whether the body is satisfied the grounds exist.
    pub satisfied: bool,
    /// Why; the letter to the representative gives these reasons when not satisfied.
    pub reasons: String,
    /// Who decided (staff identifier).
    pub decided_by: String,
}

/// Record a letter the rules require, and the day it was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLetter {
    /// Which letter.
    pub kind: LetterKind,
    /// The day it was sent.
    pub sent_on: NaiveDate,
}

/// Log a contact with the complainant about progress (R-RESP-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordProgressContact {
    /// The day of the contact.
    pub contacted_on: NaiveDate,
    /// How.
    pub method: ContactMethod,
    /// What was said; may contain personal data.
    pub summary: String,
}

/// Record that an ombudsman's recommendation was carried out (R-OMB-2); also records the
/// improvement action for the annual report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRecommendationDone {
    /// The recommendation's number: 1 for the first recorded on the complaint, in the order
    /// the decisions and their recommendations were recorded.
    pub recommendation: u32,
    /// The day it was done.
    pub done_on: NaiveDate,
    /// What was done; for the annual report, so it must not contain personal data.
    pub what_was_done: String,
}

/// Treat an enquiry as a complaint (R-KIND-1): the enquiry is closed and a complaint opened,
/// linked both ways; the complaint's clocks start on `treated_on`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TreatAsComplaint {
    /// The day it is treated as a complaint.
    pub treated_on: NaiveDate,
    /// Subject areas for the complaint, when the enquiry's do not fit.
    #[serde(default)]
    pub subject_areas: Vec<crate::reference::SubjectArea>,
}

/// Record the case another case became or was passed to, once the system has opened it:
/// the link back (R-KIND-1, R-SCOPE-2, R-SCOPE-3). Issued by the system, not by callers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLinkedCase {
    /// How the other case came from this one.
    pub relation: OriginRelation,
    /// The organisation holding the other case.
    pub organisation_id: String,
    /// The other case's id.
    pub case_id: String,
    /// The day it was opened.
    pub opened_on: NaiveDate,
}

/// Decide not to investigate a complaint made after the time limit (R-TL-2): the findings,
/// who decided and why are kept, the complaint closes as `out_of_time` and the complainant
/// is owed a letter explaining it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseOutOfTime {
    /// The day of the decision.
    pub decided_on: NaiveDate,
    /// Whether the complainant had good reason for not complaining in time.
    pub good_reason_for_delay: bool,
    /// Whether it is still possible to investigate effectively and fairly.
    pub fair_investigation_possible: bool,
    /// Who decided (staff identifier).
    pub decided_by: String,
    /// Why; the letter to the complainant explains it.
    pub rationale: String,
}

/// Record that information given in the case may be used for other work (R-KIND-4); the
/// person is owed a letter saying how within 10 working days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOtherUse {
    /// The day the body identified the other use.
    pub identified_on: NaiveDate,
    /// What the information may be used for.
    pub purpose: crate::reference::OtherUsePurpose,
}

/// Record that a person on the complaint died (R-FACT-1): a fact, recorded in any state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDeath {
    /// Whose death.
    pub person: crate::reference::PersonRole,
    /// The day of death, or the day the body learnt of it when that is all it knows.
    pub died_on: NaiveDate,
}

/// Record a consent with who gave it, for whom, what it permits, and how (R-CONS-1): a
/// fact from outside, recorded in any state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordConsentToShare {
    /// The day it was given.
    pub given_on: NaiveDate,
    /// Whose information it concerns.
    pub for_whom: crate::reference::PersonRole,
    /// Who gave it: the person, or someone with authority to decide for them.
    pub given_by: ConsentGiver,
    /// What it permits; at least one.
    pub scopes: Vec<ConsentScope>,
    /// How it was given.
    pub method: ConsentMethod,
    /// What evidences it (a signed form, a note of the call); may contain personal data.
    #[serde(default)]
    pub evidence: Option<String>,
    /// For `joint_handling`: the bodies it may be shared with; every body taking part when
    /// empty.
    #[serde(default)]
    pub share_with: Vec<String>,
}

/// Agree with another body that a complaint to this one, with material that would be a
/// complaint to it, is handled jointly (R-JOINT-1, R-JOINT-2). The complaint's own
/// organisation leads; the other takes part and sees the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddParticipant {
    /// The other body (ODS code or local identifier).
    pub organisation_id: String,
    /// The day the bodies agreed who leads.
    pub agreed_on: NaiveDate,
    /// Who agreed it for the lead (staff identifier).
    pub agreed_by: String,
    /// Which part of the complaint is the other body's; may contain personal data.
    pub reason: String,
}

/// End another body's part in a joint complaint; its outstanding part requests lapse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveParticipant {
    /// The body taking part.
    pub organisation_id: String,
    /// The day it stopped taking part.
    pub removed_on: NaiveDate,
    /// Why; may contain personal data.
    pub reason: String,
}

/// The lead asks a participant for its part of the co-ordinated response by a day
/// (R-JOINT-2: supply information reasonably requested).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestPart {
    /// The body taking part.
    pub organisation_id: String,
    /// The day it was asked.
    pub requested_on: NaiveDate,
    /// The day the part is due.
    pub due_on: NaiveDate,
}

/// A participant supplies its part of the co-ordinated response (R-JOINT-2). Run by the
/// participant's caseworker on the lead's case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvidePart {
    /// The participant supplying it; the caller's organisation taking part when not said.
    #[serde(default)]
    pub organisation_id: Option<String>,
    /// The day it was supplied.
    pub provided_on: NaiveDate,
    /// What the participant found; may contain personal data.
    pub findings: String,
    /// Its section of the co-ordinated response letter; may contain personal data.
    pub response_section: String,
}

/// Allocate (or reallocate) the complaint to a caseworker, for "my cases" and "my deadlines".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignCaseworker {
    /// The day it was allocated.
    pub assigned_on: NaiveDate,
    /// The caseworker's sign-in subject (1 to 200 characters); staff identity, not the
    /// complainant's personal data.
    pub caseworker: String,
}

impl ComplaintAction {
    /// The business day the command says something happened on.
    pub fn occurred_on(&self) -> NaiveDate {
        match self {
            ComplaintAction::Receive(c) => c.received_on,
            ComplaintAction::AcceptOutOfTime(c) => c.accepted_on,
            ComplaintAction::Acknowledge(c) => c.acknowledged_on,
            ComplaintAction::RequestConsent(c) => c.requested_on,
            ComplaintAction::RecordConsent(c) => c.decided_on,
            ComplaintAction::LapseConsent(c) => c.lapsed_on,
            ComplaintAction::AssessRisk(c) => c.assessed_on,
            ComplaintAction::AgreeResponsePlan(c) => c.agreed_on,
            ComplaintAction::StopClock(c) => c.stopped_on,
            ComplaintAction::RestartClock(c) => c.restarted_on,
            ComplaintAction::NotifyDelay(c) => c.notified_on,
            ComplaintAction::SendResponse(c) => c.sent_on,
            ComplaintAction::Escalate(c) => c.escalated_on,
            ComplaintAction::ReferToOmbudsman(c) => c.informed_on,
            ComplaintAction::RecordOmbudsmanDecision(c) => c.decided_on,
            ComplaintAction::RecordLearning(c) => c.recorded_on,
            ComplaintAction::Close(c) => c.closed_on,
            ComplaintAction::Reopen(c) => c.reopened_on,
            ComplaintAction::PlaceLegalHold(c) => c.placed_on,
            ComplaintAction::ReleaseLegalHold(c) => c.released_on,
            ComplaintAction::RecordOralResolution(c) => c.resolved_on,
            ComplaintAction::DecideRepresentativeGrounds(c) => c.decided_on,
            ComplaintAction::RecordLetter(c) => c.sent_on,
            ComplaintAction::RecordProgressContact(c) => c.contacted_on,
            ComplaintAction::RecordRecommendationDone(c) => c.done_on,
            ComplaintAction::TreatAsComplaint(c) => c.treated_on,
            ComplaintAction::RecordLinkedCase(c) => c.opened_on,
            ComplaintAction::RecordDeath(c) => c.died_on,
            ComplaintAction::RefuseOutOfTime(c) => c.decided_on,
            ComplaintAction::RecordOtherUse(c) => c.identified_on,
            ComplaintAction::RecordConsentToShare(c) => c.given_on,
            ComplaintAction::AddParticipant(c) => c.agreed_on,
            ComplaintAction::RemoveParticipant(c) => c.removed_on,
            ComplaintAction::RequestPart(c) => c.requested_on,
            ComplaintAction::ProvidePart(c) => c.provided_on,
            ComplaintAction::AssignCaseworker(c) => c.assigned_on,
        }
    }
}
