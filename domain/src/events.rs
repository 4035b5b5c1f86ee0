//! Events: the facts recorded about a complaint, past tense, as told.
//!
//! Deadlines are never stored here: they are derived from these facts by the policy
//! functions and the calendar in force. Personal data and free text sit in
//! [`Confidential`] fields only, so they can be encrypted per data subject later without a
//! new event version.

use crate::case_kind::{is_default, CaseKind, CaseOrigin, EnquiryType, OriginRelation};
use crate::reference::*;
use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A field holding personal data or free text that may contain it. Serialised as the
/// value itself today; the wrapper marks what exports strip and what crypto-shredding
/// will seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Confidential<T>(pub T);

// The schema of the value itself, annotated `x-confidential` so that readers of the schemas
// (exports, the future sealing) can tell which fields hold personal data.
impl<T: JsonSchema> JsonSchema for Confidential<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        Cow::Owned(format!("Confidential_{}", T::schema_name()))
    }

    fn schema_id() -> Cow<'static, str> {
        Cow::Owned(format!(
            "{}::Confidential<{}>",
            module_path!(),
            T::schema_id()
        ))
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = generator.subschema_for::<T>();
        schema.insert("x-confidential".into(), true.into());
        schema
    }
}

/// A person named in a complaint. Special-category data: only ever inside [`Confidential`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Full name as given.
    pub name: String,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Telephone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
    /// NHS number or local identifier of the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
}

/// The personal part of a received complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
pub struct ComplaintParticulars {
    /// Who made the complaint.
    pub complainant: Person,
    /// The person the complaint is about, when someone complains on their behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_affected: Option<Person>,
    /// The complaint in the complainant's words.
    pub description: String,
}

/// Where a frontline system recorded the complaint first; the pair identifies it for
/// idempotent intake.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceReference {
    /// The sending system, e.g. `pals-desk`.
    pub system: String,
    /// Its reference for the complaint.
    pub reference: String,
}

/// The response letter's statutory content (R-RESP-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseLetter {
    /// (i) How the complaint was considered.
    pub how_considered: String,
    /// (ii) The conclusions reached, including matters needing remedial action.
    pub conclusions: String,
    /// (iii) Whether the body is satisfied the necessary action has been or will be taken.
    pub actions: String,
}

/// The decision on an out-of-time complaint (R-TL-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutOfTimeDecision {
    /// The complainant had good reason for not complaining in time.
    pub good_reason_for_delay: bool,
    /// It is still possible to investigate effectively and fairly.
    pub fair_investigation_possible: bool,
    /// Who decided (staff identifier).
    pub decided_by: String,
    /// Why.
    pub rationale: Confidential<String>,
}

/// An ombudsman's recommendation (R-OMB-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Recommendation {
    /// What the ombudsman asks the body to do.
    pub description: String,
    /// When it is to be done by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
}

/// A participant's part taken into a co-ordinated response (R-JOINT-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoordinatedPart {
    /// The participant.
    pub organisation_id: String,
    /// The request its part answered.
    pub request: u32,
    /// When it was supplied.
    pub provided_on: NaiveDate,
}

/// Whether the person affected consented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentDecision {
    /// Consent given.
    Given,
    /// Consent refused.
    Refused,
}

/// Event types whose payload is past version `1.0`, with their current version. A breaking
/// payload change (a field removed, renamed, retyped or newly required) adds or bumps its
/// type here, ships an upcaster for the older payloads and keeps the older schema (see
/// `schemas/README.md`).
///
/// `2.0` of every type with personal data is its sealed form: each leaf value under an
/// `x-confidential` field may be stored as a sealed envelope (`schemas/encryption.md`)
/// instead of in clear. A `1.0` payload is a `2.0` payload with no sealed leaf, so its
/// upcaster only renumbers it. A type gaining its first personal field is listed here too.
pub const BUMPED_VERSIONS: &[(&str, &str)] = &[
    ("ComplaintReceived", SEALED_FORM_VERSION),
    ("OutOfTimeAccepted", SEALED_FORM_VERSION),
    ("OutOfTimeRefused", SEALED_FORM_VERSION),
    ("ConsentGiven", SEALED_FORM_VERSION),
    ("RepresentativeGroundsDecided", SEALED_FORM_VERSION),
    ("ClockStopped", SEALED_FORM_VERSION),
    ("DelayNotified", SEALED_FORM_VERSION),
    ("ResponseSent", SEALED_FORM_VERSION),
    ("ComplaintEscalated", SEALED_FORM_VERSION),
    ("ComplaintReopened", SEALED_FORM_VERSION),
    ("LegalHoldPlaced", SEALED_FORM_VERSION),
    ("ComplainantContacted", SEALED_FORM_VERSION),
    ("ConsentToShareRecorded", SEALED_FORM_VERSION),
    ("ParticipantAdded", SEALED_FORM_VERSION),
    ("ParticipantRemoved", SEALED_FORM_VERSION),
    ("PartProvided", SEALED_FORM_VERSION),
];

/// The payload version of the sealed form of every event type with personal data.
pub const SEALED_FORM_VERSION: &str = "2.0";

/// The version each type's payloads were written at before its sealed form existed.
pub const FIRST_VERSION: &str = "1.0";

/// Everything that can happen to a complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)] // each field is documented on the command that produces it
#[allow(clippy::large_enum_variant)] // one receipt per complaint: boxing would only burden matches
pub enum ComplaintEvent {
    /// The body received a complaint.
    ComplaintReceived {
        organisation_id: String,
        received_on: NaiveDate,
        channel: Channel,
        route: Route,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        representation_basis: Option<RepresentationBasis>,
        consent_required: bool,
        subject_areas: Vec<SubjectArea>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service_area: Option<ServiceArea>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        staff_groups: Vec<StaffGroup>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        matter_occurred_on: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        matter_came_to_notice_on: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<SourceReference>,
        particulars: Confidential<ComplaintParticulars>,
        /// A statutory complaint unless said (R-KIND-1 to R-KIND-3).
        #[serde(default, skip_serializing_if = "is_default")]
        kind: CaseKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        enquiry_type: Option<EnquiryType>,
        /// The provider complained about, for a complaint made to its commissioner (R-SCOPE-3).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_id: Option<String>,
        /// The case it came from (R-SCOPE-2, R-SCOPE-3, R-KIND-1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<CaseOrigin>,
    },
    /// An out-of-time complaint was accepted for investigation (R-TL-2).
    OutOfTimeAccepted {
        accepted_on: NaiveDate,
        decision: OutOfTimeDecision,
    },
    /// The complaint was acknowledged (R-ACK-3, R-ACK-5).
    ComplaintAcknowledged {
        acknowledged_on: NaiveDate,
        /// After the third working day, as judged by the calendar in force when recorded.
        late: bool,
        discussion_offered: bool,
    },
    /// The person affected was asked for consent.
    ConsentRequested { requested_on: NaiveDate },
    /// The person affected consented.
    ConsentGiven {
        given_on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evidence: Option<Confidential<String>>,
    },
    /// The person affected refused consent.
    ConsentRefused { refused_on: NaiveDate },
    /// Consent did not arrive within the organisation's deadline (R-WHO-6).
    ConsentLapsed { lapsed_on: NaiveDate },
    /// The risk was graded or regraded.
    RiskAssessed {
        assessed_on: NaiveDate,
        seriousness: String,
        likelihood: Likelihood,
        rating: RiskRating,
        matrix: String,
    },
    /// A response period was agreed or set (R-ACK-5) or extended (R-RESP-4).
    ResponsePlanAgreed {
        agreed_on: NaiveDate,
        response_due_on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        discussion_outcome: Option<DiscussionOutcome>,
    },
    /// The response clock was stopped.
    ClockStopped {
        stopped_on: NaiveDate,
        reason: Confidential<String>,
        /// Stored events from before this field load as unagreed (R-AR-4).
        #[serde(default)]
        complainant_agreed: bool,
    },
    /// The response clock was restarted.
    ClockRestarted { restarted_on: NaiveDate },
    /// The complainant was told why the response is delayed (R-RESP-3).
    DelayNotified {
        notified_on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_response_on: Option<NaiveDate>,
        reason: Confidential<String>,
    },
    /// The signed written response was sent (R-RESP-2).
    ResponseSent {
        sent_on: NaiveDate,
        stage: u8,
        outcome: Outcome,
        signed_by: String,
        signed_as: SignedAs,
        ombudsman_rights: Vec<Ombudsman>,
        letter: Confidential<ResponseLetter>,
    },
    /// The complainant asked for an internal review (stage 2).
    ComplaintEscalated {
        escalated_on: NaiveDate,
        reason: Confidential<String>,
    },
    /// The body was informed the complaint went to an ombudsman (R-OMB-1).
    ReferredToOmbudsman {
        ombudsman: Ombudsman,
        informed_on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ombudsman_reference: Option<String>,
    },
    /// The ombudsman's decision (R-OMB-2).
    OmbudsmanDecisionRecorded {
        ombudsman: Ombudsman,
        decided_on: NaiveDate,
        decision: OmbudsmanDecision,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        recommendations: Vec<Recommendation>,
    },
    /// A lesson learnt or an improvement action (R-AR-1 items 5 and 6).
    LearningRecorded {
        recorded_on: NaiveDate,
        kind: LearningKind,
        /// Written for the annual report: no personal data.
        summary: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action_due_on: Option<NaiveDate>,
    },
    /// The complaint was closed.
    ComplaintClosed {
        closed_on: NaiveDate,
        reason: ClosureReason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exclusion_category: Option<ExclusionCategory>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transferred_to: Option<String>,
        /// For an oral complaint resolved by the next working day, the day it was resolved
        /// (R-EXCL-2); absent on other closures and on closures recorded before this field.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolved_on: Option<NaiveDate>,
    },
    /// A closed complaint was reopened.
    ComplaintReopened {
        reopened_on: NaiveDate,
        reason: Confidential<String>,
    },
    /// The case file is held beyond its retention period (R-RET-1).
    LegalHoldPlaced {
        placed_on: NaiveDate,
        ground: LegalHoldGround,
        note: Confidential<String>,
    },
    /// The legal hold ended; the retention clock applies again.
    LegalHoldReleased { released_on: NaiveDate },
    /// What the body recorded at receipt about who complains and where: the footing of the
    /// complaint (R-WHO-1) and the KO41 details (R-KO-1, R-KO-5). Written with the receipt
    /// when any of them is given; a separate event so the receipt's payload stays as stored.
    ComplaintClassified {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        eligibility: Option<Eligibility>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        patient_age_band: Option<PatientAgeBand>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        complainant_status: Option<ComplainantStatus>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site: Option<String>,
    },
    /// The body decided whether there are reasonable grounds for a representative, rather
    /// than the child, to complain (R-WHO-3).
    RepresentativeGroundsDecided {
        decided_on: NaiveDate,
        satisfied: bool,
        reasons: Confidential<String>,
        decided_by: String,
    },
    /// A letter the rules require was sent.
    LetterSent {
        kind: LetterKind,
        sent_on: NaiveDate,
    },
    /// The body was in contact with the complainant about progress (R-RESP-1).
    ComplainantContacted {
        contacted_on: NaiveDate,
        method: ContactMethod,
        summary: Confidential<String>,
    },
    /// An ombudsman's recommendation was carried out (R-OMB-2).
    RecommendationDone {
        /// 1 for the first recommendation recorded on the complaint.
        recommendation: u32,
        done_on: NaiveDate,
        /// Written for the annual report: no personal data.
        what_was_done: String,
    },
    /// The case this one became or was passed to was opened: the link back (R-KIND-1,
    /// R-SCOPE-2, R-SCOPE-3).
    LinkedCaseOpened {
        relation: OriginRelation,
        organisation_id: String,
        case_id: String,
        opened_on: NaiveDate,
    },
    /// A person on the complaint died (R-FACT-1).
    PersonDied {
        person: PersonRole,
        died_on: NaiveDate,
    },
    /// The body decided not to investigate a complaint made out of time (R-TL-2).
    OutOfTimeRefused {
        refused_on: NaiveDate,
        decision: OutOfTimeDecision,
    },
    /// Information given in the case may be used for other work (R-KIND-4).
    OtherUseIdentified {
        identified_on: NaiveDate,
        purpose: OtherUsePurpose,
    },
    /// A consent with who gave it, for whom, what it permits and how (R-CONS-1).
    ConsentToShareRecorded {
        given_on: NaiveDate,
        for_whom: PersonRole,
        given_by: ConsentGiver,
        scopes: Vec<ConsentScope>,
        method: ConsentMethod,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evidence: Option<Confidential<String>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        share_with: Vec<String>,
    },
    /// Another body takes part in the complaint, which this body leads (R-JOINT-1, R-JOINT-2).
    ParticipantAdded {
        organisation_id: String,
        agreed_on: NaiveDate,
        agreed_by: String,
        reason: Confidential<String>,
    },
    /// A body stopped taking part in the joint complaint.
    ParticipantRemoved {
        organisation_id: String,
        removed_on: NaiveDate,
        reason: Confidential<String>,
    },
    /// The lead asked a participant for its part of the co-ordinated response (R-JOINT-2).
    PartRequested {
        /// 1 for the first request on the complaint.
        request: u32,
        organisation_id: String,
        requested_on: NaiveDate,
        due_on: NaiveDate,
    },
    /// A participant supplied its part (R-JOINT-2); recorded under the participant's
    /// organisation in the event's metadata.
    PartProvided {
        request: u32,
        organisation_id: String,
        provided_on: NaiveDate,
        findings: Confidential<String>,
        response_section: Confidential<String>,
    },
    /// The response just sent is the co-ordinated response of a joint complaint, with the
    /// participants' parts it takes in (R-JOINT-2).
    ResponseCoordinated {
        sent_on: NaiveDate,
        stage: u8,
        parts: Vec<CoordinatedPart>,
    },
    /// The complaint was allocated to a caseworker, by their sign-in subject (staff
    /// identity, not personal data of the complainant).
    CaseworkerAssigned {
        assigned_on: NaiveDate,
        caseworker: String,
    },
}

impl ComplaintEvent {
    /// Every event type name, as stored in the log.
    pub const TYPES: &'static [&'static str] = &[
        "ComplaintReceived",
        "OutOfTimeAccepted",
        "ComplaintAcknowledged",
        "ConsentRequested",
        "ConsentGiven",
        "ConsentRefused",
        "ConsentLapsed",
        "RiskAssessed",
        "ResponsePlanAgreed",
        "ClockStopped",
        "ClockRestarted",
        "DelayNotified",
        "ResponseSent",
        "ComplaintEscalated",
        "ReferredToOmbudsman",
        "OmbudsmanDecisionRecorded",
        "LearningRecorded",
        "ComplaintClosed",
        "ComplaintReopened",
        "LegalHoldPlaced",
        "LegalHoldReleased",
        "ComplaintClassified",
        "RepresentativeGroundsDecided",
        "LetterSent",
        "ComplainantContacted",
        "RecommendationDone",
        "LinkedCaseOpened",
        "PersonDied",
        "OutOfTimeRefused",
        "OtherUseIdentified",
        "ConsentToShareRecorded",
        "ParticipantAdded",
        "ParticipantRemoved",
        "PartRequested",
        "PartProvided",
        "ResponseCoordinated",
        "CaseworkerAssigned",
    ];

    /// Whether payloads of `event_type` may hold personal data (fields marked
    /// `x-confidential`): exactly the types written in their sealed form.
    pub fn carries_personal_data(event_type: &str) -> bool {
        Self::version_of(event_type) == SEALED_FORM_VERSION
    }

    /// The payload version `event_type` is written at today (`1.0` unless listed in
    /// [`BUMPED_VERSIONS`]).
    pub fn version_of(event_type: &str) -> &'static str {
        BUMPED_VERSIONS
            .iter()
            .find(|(bumped, _)| *bumped == event_type)
            .map_or(FIRST_VERSION, |(_, version)| version)
    }

    /// The variant name.
    pub fn name(&self) -> &'static str {
        match self {
            ComplaintEvent::ComplaintReceived { .. } => "ComplaintReceived",
            ComplaintEvent::OutOfTimeAccepted { .. } => "OutOfTimeAccepted",
            ComplaintEvent::ComplaintAcknowledged { .. } => "ComplaintAcknowledged",
            ComplaintEvent::ConsentRequested { .. } => "ConsentRequested",
            ComplaintEvent::ConsentGiven { .. } => "ConsentGiven",
            ComplaintEvent::ConsentRefused { .. } => "ConsentRefused",
            ComplaintEvent::ConsentLapsed { .. } => "ConsentLapsed",
            ComplaintEvent::RiskAssessed { .. } => "RiskAssessed",
            ComplaintEvent::ResponsePlanAgreed { .. } => "ResponsePlanAgreed",
            ComplaintEvent::ClockStopped { .. } => "ClockStopped",
            ComplaintEvent::ClockRestarted { .. } => "ClockRestarted",
            ComplaintEvent::DelayNotified { .. } => "DelayNotified",
            ComplaintEvent::ResponseSent { .. } => "ResponseSent",
            ComplaintEvent::ComplaintEscalated { .. } => "ComplaintEscalated",
            ComplaintEvent::ReferredToOmbudsman { .. } => "ReferredToOmbudsman",
            ComplaintEvent::OmbudsmanDecisionRecorded { .. } => "OmbudsmanDecisionRecorded",
            ComplaintEvent::LearningRecorded { .. } => "LearningRecorded",
            ComplaintEvent::ComplaintClosed { .. } => "ComplaintClosed",
            ComplaintEvent::ComplaintReopened { .. } => "ComplaintReopened",
            ComplaintEvent::LegalHoldPlaced { .. } => "LegalHoldPlaced",
            ComplaintEvent::LegalHoldReleased { .. } => "LegalHoldReleased",
            ComplaintEvent::ComplaintClassified { .. } => "ComplaintClassified",
            ComplaintEvent::RepresentativeGroundsDecided { .. } => "RepresentativeGroundsDecided",
            ComplaintEvent::LetterSent { .. } => "LetterSent",
            ComplaintEvent::ComplainantContacted { .. } => "ComplainantContacted",
            ComplaintEvent::RecommendationDone { .. } => "RecommendationDone",
            ComplaintEvent::LinkedCaseOpened { .. } => "LinkedCaseOpened",
            ComplaintEvent::PersonDied { .. } => "PersonDied",
            ComplaintEvent::OutOfTimeRefused { .. } => "OutOfTimeRefused",
            ComplaintEvent::OtherUseIdentified { .. } => "OtherUseIdentified",
            ComplaintEvent::ConsentToShareRecorded { .. } => "ConsentToShareRecorded",
            ComplaintEvent::ParticipantAdded { .. } => "ParticipantAdded",
            ComplaintEvent::ParticipantRemoved { .. } => "ParticipantRemoved",
            ComplaintEvent::PartRequested { .. } => "PartRequested",
            ComplaintEvent::PartProvided { .. } => "PartProvided",
            ComplaintEvent::ResponseCoordinated { .. } => "ResponseCoordinated",
            ComplaintEvent::CaseworkerAssigned { .. } => "CaseworkerAssigned",
        }
    }
}

impl DomainEvent for ComplaintEvent {
    fn event_type(&self) -> String {
        self.name().to_string()
    }

    fn event_version(&self) -> String {
        Self::version_of(self.name()).to_string()
    }
}
