// Just over 600 lines: every closed code list of the rules and returns, with their labels.
//! Reference data: the closed code lists the rules and the national returns are keyed by.
//!
//! Codes are `snake_case` on the wire. Parsing is forgiving about case, spaces and
//! punctuation so that a frontline system may send the label published by NHS England
//! ("Values and behaviours (staff)") as well as the code (`values_and_behaviours`).

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// Version of the code lists below; bumped whenever a list changes.
pub const REFERENCE_DATA_VERSION: &str = "2024-25";

/// Lowercase, with every run of non-alphanumeric characters turned into one `_`.
pub(crate) fn normalise(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut gap = false;
    for ch in raw.trim().chars() {
        if ch.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(ch.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

macro_rules! code_list {
    (
        $(#[doc = $doc:literal])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every code in the list, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire code.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Parses a code or a published label; `None` when it is not in the list.
            pub fn parse(raw: &str) -> Option<Self> {
                let key = normalise(raw);
                match key.as_str() {
                    $( $code $(| $alias)* => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        // A string enum of the canonical codes: aliases and labels are accepted on input, but
        // what is written (and so what a schema promises) is always a code.
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }

            fn schema_id() -> Cow<'static, str> {
                Cow::Borrowed(concat!(module_path!(), "::", stringify!($name)))
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let description: Vec<&str> = [$($doc),*].iter().map(|line| line.trim()).collect();
                json_schema!({
                    "description": description.join(" "),
                    "type": "string",
                    "enum": [$($code),+],
                })
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw).ok_or_else(|| {
                    let known: Vec<&str> = $name::ALL.iter().map(|c| c.code()).collect();
                    serde::de::Error::custom(format!(
                        "unknown {} `{}`, expected one of: {}",
                        $what,
                        raw,
                        known.join(", ")
                    ))
                })
            }
        }
    };
}

pub(crate) use code_list;

code_list! {
    /// How the complaint was made (R-ACK-1).
    Channel, "channel" {
        /// By telephone.
        OralPhone = "oral_phone" | "phone" | "telephone",
        /// In person.
        OralInPerson = "oral_in_person" | "in_person",
        /// By letter.
        Letter = "letter" | "post",
        /// By email.
        Email = "email",
        /// By text message.
        TextMessage = "text_message" | "sms",
        /// Through a web form or online feedback channel.
        WebForm = "web_form" | "online",
        /// Any other way.
        Other = "other",
    }
}

impl Channel {
    /// Oral complaints need a written record (R-ACK-2) and may be excluded when resolved by
    /// the next working day (reg 8(1)(c)).
    pub fn is_oral(self) -> bool {
        matches!(self, Channel::OralPhone | Channel::OralInPerson)
    }
}

code_list! {
    /// Why someone else complains for the person affected (R-WHO-2).
    RepresentationBasis, "representation basis" {
        /// The person affected has died.
        Deceased = "deceased",
        /// The person affected is a child.
        Child = "child",
        /// The person affected cannot complain because of physical incapacity.
        PhysicalIncapacity = "physical_incapacity",
        /// The person affected lacks capacity under the Mental Capacity Act 2005.
        LacksCapacity = "lacks_capacity",
        /// The person affected asked the representative to act.
        Requested = "requested",
    }
}

impl RepresentationBasis {
    /// Whether the person's consent is normally needed (R-WHO-5): not for the deceased or a
    /// person unable to consent. A receiving caseworker may say otherwise.
    pub fn consent_normally_required(self) -> bool {
        matches!(
            self,
            RepresentationBasis::Requested
                | RepresentationBasis::Child
                | RepresentationBasis::PhysicalIncapacity
        )
    }
}

code_list! {
    /// On what footing the complainant may complain (R-WHO-1, R-WHO-2): as someone who
    /// receives or received the body's services, as someone affected by what is complained
    /// about, or as a representative of such a person.
    Eligibility, "eligibility" {
        /// Receives or received services from the body.
        ServiceUser = "service_user" | "patient",
        /// Affected, or likely to be affected, by the act, omission or decision complained about.
        PersonAffected = "person_affected",
        /// Complains for a service user or person affected, on a basis of R-WHO-2.
        Representative = "representative",
    }
}

code_list! {
    /// Age of the patient, as the KO41 returns band it (R-KO-5, section 3), with `unknown`.
    /// The band limits are UNCONFIRMED (DOMAIN.md R-KO-8: only "age unknown" is confirmed);
    /// they are the bands of the HCHS written complaints tables, version
    /// [`REFERENCE_DATA_VERSION`].
    PatientAgeBand, "patient age band" {
        /// 0 to 15 years.
        Age0To15 = "0_15" | "age_0_15" | "0_to_15",
        /// 16 to 64 years.
        Age16To64 = "16_64" | "age_16_64" | "16_to_64",
        /// 65 to 74 years.
        Age65To74 = "65_74" | "age_65_74" | "65_to_74",
        /// 75 to 84 years.
        Age75To84 = "75_84" | "age_75_84" | "75_to_84",
        /// 85 years and over.
        Age85AndOver = "85_and_over" | "85" | "85_over" | "age_85_and_over",
        /// Age not known.
        Unknown = "unknown" | "age_unknown",
    }
}

code_list! {
    /// Who the complainant is in relation to the patient, as the KO41 returns count it
    /// (R-KO-5, section 4).
    ComplainantStatus, "complainant status" {
        /// The patient.
        Patient = "patient",
        /// A relative or carer of the patient.
        RelativeOrCarer = "relative_or_carer" | "relative_carer" | "relative" | "carer",
        /// Anyone else.
        Other = "other",
        /// Not known.
        Unknown = "unknown",
    }
}

code_list! {
    /// A letter the rules require the body to send (R-EXCL-1, R-WHO-3, R-WHO-4, R-WHO-6,
    /// R-RESP-3, R-ACK-5, R-ACK-2).
    LetterKind, "letter kind" {
        /// Why an excluded complaint will not be handled (R-EXCL-1).
        ExclusionNotice = "exclusion_notice",
        /// The complaint is closed because consent did not arrive (R-WHO-6).
        ConsentLapseClosure = "consent_lapse_closure",
        /// The representative is not acting in the person's best interests (R-WHO-4).
        NotInBestInterests = "not_in_best_interests",
        /// No reasonable grounds for a representative of a child to complain (R-WHO-3).
        ChildGroundsRefusal = "child_grounds_refusal",
        /// Why the response is taking longer than six months (R-RESP-3).
        DelayLetter = "delay_letter",
        /// The response period the body set when the complainant declined to discuss it (R-ACK-5).
        ResponsePeriodNotification = "response_period_notification",
        /// The copy of the written record of an oral complaint (R-ACK-2).
        OralRecordCopy = "oral_record_copy",
        /// Why an out-of-time complaint will not be investigated (R-TL-2).
        OutOfTimeRefusal = "out_of_time_refusal",
        /// How information given in the case may be used for other work (R-KIND-4).
        OtherUseNotice = "other_use_notice",
    }
}

code_list! {
    /// How the body was in contact with the complainant (R-RESP-1).
    ContactMethod, "contact method" {
        /// By telephone.
        Phone = "phone" | "telephone",
        /// By email.
        Email = "email",
        /// By letter.
        Letter = "letter" | "post",
        /// In person.
        InPerson = "in_person" | "meeting",
        /// By video call.
        VideoCall = "video_call" | "video",
        /// By text message.
        TextMessage = "text_message" | "sms",
        /// Any other way.
        Other = "other",
    }
}

code_list! {
    /// Whether the complaint about an NHS-funded service went to the provider or to its
    /// commissioner (R-SCOPE-3).
    Route, "route" {
        /// Made to the provider of the service.
        Provider = "provider",
        /// Made to the commissioner (ICB or NHS England).
        Commissioner = "commissioner",
    }
}

code_list! {
    /// Subject areas of the Written Complaints Collection (R-KO-7).
    SubjectArea, "subject area" {
        /// Access to treatment or drugs.
        AccessToTreatmentOrDrugs = "access_to_treatment_or_drugs",
        /// Admissions and discharges.
        AdmissionsAndDischarges = "admissions_and_discharges" | "admissions_discharges",
        /// Appointments, including delays and cancellations.
        Appointments = "appointments" | "appointments_including_delays_and_cancellations",
        /// Clinical treatment.
        ClinicalTreatment = "clinical_treatment",
        /// Commissioning.
        Commissioning = "commissioning",
        /// Communications.
        Communications = "communications",
        /// Consent.
        Consent = "consent",
        /// End of life care.
        EndOfLifeCare = "end_of_life_care",
        /// Facilities.
        Facilities = "facilities",
        /// Integrated care.
        IntegratedCare = "integrated_care",
        /// Mortuary and post-mortem arrangements.
        MortuaryAndPostMortem = "mortuary_and_post_mortem" | "mortuary_and_post_mortem_arrangements",
        /// Patient care, including nutrition and hydration.
        PatientCare = "patient_care" | "patient_care_including_nutrition_hydration"
            | "patient_care_including_nutrition_and_hydration",
        /// Prescribing errors.
        PrescribingErrors = "prescribing_errors",
        /// Privacy, dignity and wellbeing.
        PrivacyDignityWellbeing = "privacy_dignity_wellbeing" | "privacy_dignity_and_wellbeing",
        /// Restraint.
        Restraint = "restraint",
        /// Staff numbers.
        StaffNumbers = "staff_numbers",
        /// Trust administration.
        TrustAdministration = "trust_administration",
        /// Transport.
        Transport = "transport",
        /// Values and behaviours of staff.
        ValuesAndBehaviours = "values_and_behaviours" | "values_and_behaviours_staff",
        /// Waiting times.
        WaitingTimes = "waiting_times",
        /// Anything else.
        Other = "other",
    }
}

code_list! {
    /// Service areas seen in the national returns (R-KO-8), plus social care and primary care.
    ServiceArea, "service area" {
        /// Accident and emergency.
        AccidentAndEmergency = "accident_and_emergency" | "a_e" | "a_and_e",
        /// Anaesthetics.
        Anaesthetics = "anaesthetics",
        /// Dental.
        Dental = "dental",
        /// General practice.
        GeneralPractice = "general_practice" | "gp",
        /// Inpatient services.
        Inpatient = "inpatient",
        /// Outpatient services.
        Outpatient = "outpatient",
        /// Maternity.
        Maternity = "maternity",
        /// Obstetrics and gynaecology.
        ObstetricsAndGynaecology = "obstetrics_and_gynaecology",
        /// Paediatrics.
        Paediatrics = "paediatrics",
        /// Radiology.
        Radiology = "radiology",
        /// Mental health.
        MentalHealth = "mental_health",
        /// Community health services.
        CommunityServices = "community_services",
        /// Ambulance services.
        Ambulance = "ambulance",
        /// Adult social care.
        AdultSocialCare = "adult_social_care",
        /// Anything else.
        Other = "other",
    }
}

code_list! {
    /// Staff groups (professions) a complaint concerns (R-KO-8).
    StaffGroup, "staff group" {
        /// Medical staff.
        Medical = "medical",
        /// Nursing, midwifery and health visiting.
        NursingMidwiferyHealthVisiting = "nursing_midwifery_health_visiting"
            | "nursing_midwifery_and_health_visiting",
        /// Allied health professionals.
        AlliedHealthProfessionals = "allied_health_professionals",
        /// Scientific, therapeutic and technical staff.
        ScientificTherapeuticTechnical = "scientific_therapeutic_technical"
            | "scientific_therapeutic_and_technical",
        /// Ambulance staff.
        Ambulance = "ambulance",
        /// Trust administration and board.
        TrustAdministration = "trust_administration" | "trust_administration_and_board",
        /// Support services.
        SupportServices = "support_services",
        /// Social care staff.
        SocialCare = "social_care",
        /// Any other staff group.
        Other = "other",
    }
}

code_list! {
    /// The outcome of an investigated complaint (R-KO-4).
    Outcome, "outcome" {
        /// Substantive evidence supports the complaint.
        Upheld = "upheld",
        /// Some, not all, issues upheld.
        PartiallyUpheld = "partially_upheld" | "partly_upheld",
        /// No evidence supports any aspect.
        NotUpheld = "not_upheld",
    }
}

impl Outcome {
    /// Well-founded for the regulation 18 report: upheld or partially upheld (R-AR-1 item 2).
    pub fn is_well_founded(self) -> bool {
        matches!(self, Outcome::Upheld | Outcome::PartiallyUpheld)
    }
}

code_list! {
    /// The two ombudsmen a complainant may go to (R-OMB-3).
    Ombudsman, "ombudsman" {
        /// Parliamentary and Health Service Ombudsman (NHS-funded health care).
        Phso = "phso" | "parliamentary_and_health_service_ombudsman",
        /// Local Government and Social Care Ombudsman (adult social care).
        Lgsco = "lgsco" | "local_government_and_social_care_ombudsman",
    }
}

code_list! {
    /// What the ombudsman decided (R-OMB-2).
    OmbudsmanDecision, "ombudsman decision" {
        /// The ombudsman decided not to investigate.
        NotInvestigated = "not_investigated",
        /// Upheld.
        Upheld = "upheld",
        /// Partly upheld.
        PartlyUpheld = "partly_upheld" | "partially_upheld",
        /// Not upheld.
        NotUpheld = "not_upheld",
    }
}

code_list! {
    /// Complaints the body need not handle under regulation 8(1).
    ExclusionCategory, "exclusion category" {
        /// (a) made by a responsible body.
        MadeByResponsibleBody = "made_by_responsible_body" | "a",
        /// (b) by an employee about their employment.
        StaffEmploymentMatter = "staff_employment_matter" | "b",
        /// (c) made orally and resolved to the complainant's satisfaction by the next working day.
        OralResolvedNextWorkingDay = "oral_resolved_next_working_day" | "c",
        /// (d) the same subject as a complaint resolved under (c).
        SameAsOralResolved = "same_as_oral_resolved" | "d",
        /// (e) already investigated under these or earlier regulations.
        AlreadyInvestigated = "already_investigated" | "e",
        /// (f) being or already investigated by an ombudsman.
        OmbudsmanInvestigation = "ombudsman_investigation" | "f",
        /// (g) about a Freedom of Information Act 2000 request.
        FreedomOfInformation = "freedom_of_information" | "g",
        /// (h) about NHS superannuation or loss-of-office compensation schemes.
        Superannuation = "superannuation" | "h",
    }
}

code_list! {
    /// Why a complaint was closed.
    ClosureReason, "closure reason" {
        /// Responded to and finished with locally.
        Resolved = "resolved",
        /// The complainant withdrew it.
        Withdrawn = "withdrawn",
        /// The person's consent was refused or did not arrive in time (R-WHO-6).
        ConsentNotReceived = "consent_not_received" | "consent_not_given",
        /// Made after the time limit and not accepted (R-TL-2).
        OutOfTime = "out_of_time",
        /// Not required to be handled under regulation 8(1); needs its category.
        Excluded = "excluded",
        /// Forwarded to the body it belongs to (reg 6(5)); needs the receiving organisation.
        Transferred = "transferred",
        /// The representative is not acting in the person's best interests (R-WHO-4).
        RepresentativeNotInBestInterests = "representative_not_in_best_interests"
            | "rep_not_best_interests",
        /// The body was not satisfied there are reasonable grounds for a representative,
        /// rather than the child, to complain (R-WHO-3).
        RepresentativeGroundsNotFound = "representative_grounds_not_found"
            | "child_grounds_not_found",
        /// An enquiry the body decided to treat as a complaint: the complaint is a case of
        /// its own, linked to this one (R-KIND-1).
        TreatedAsComplaint = "treated_as_complaint",
    }
}

impl ClosureReason {
    /// The letter the rules require when a complaint closes this way, if any: the exclusion
    /// notice (R-EXCL-1, except an oral complaint resolved by the next working day, which
    /// regulation 8(2A) is assumed to carve out), the consent-lapse letter (R-WHO-6), and
    /// the letters with reasons of R-WHO-4 and R-WHO-3.
    pub fn letter_owed(self, category: Option<ExclusionCategory>) -> Option<LetterKind> {
        match self {
            ClosureReason::Excluded
                if category != Some(ExclusionCategory::OralResolvedNextWorkingDay) =>
            {
                Some(LetterKind::ExclusionNotice)
            }
            ClosureReason::ConsentNotReceived => Some(LetterKind::ConsentLapseClosure),
            ClosureReason::RepresentativeNotInBestInterests => Some(LetterKind::NotInBestInterests),
            ClosureReason::RepresentativeGroundsNotFound => Some(LetterKind::ChildGroundsRefusal),
            ClosureReason::OutOfTime => Some(LetterKind::OutOfTimeRefusal),
            _ => None,
        }
    }
}

code_list! {
    /// How the responsible person signed the response (R-SCOPE-4).
    SignedAs, "signatory capacity" {
        /// The designated responsible person.
        ResponsiblePerson = "responsible_person",
        /// A person the responsible person authorised.
        AuthorisedDelegate = "authorised_delegate",
    }
}

code_list! {
    /// How the complainant answered the offer to discuss handling (R-ACK-5).
    DiscussionOutcome, "discussion outcome" {
        /// Discussed and agreed.
        Accepted = "accepted",
        /// Declined: the body sets the period and tells the complainant in writing.
        Declined = "declined",
        /// No reply to the offer.
        NoReply = "no_reply",
    }
}

code_list! {
    /// What a learning record is (R-AR-1 items 5 and 6).
    LearningKind, "learning kind" {
        /// A lesson learnt or matter of general importance.
        Lesson = "lesson",
        /// An action taken or planned to improve services.
        Action = "action",
    }
}

code_list! {
    /// Why a case file must be kept beyond its retention period (R-RET-1).
    LegalHoldGround, "legal hold ground" {
        /// Litigation, actual or expected.
        Litigation = "litigation",
        /// An ombudsman (PHSO or LGSCO) is considering the case.
        Ombudsman = "ombudsman",
        /// A public inquiry.
        PublicInquiry = "public_inquiry",
        /// Any other documented reason.
        Other = "other",
    }
}

code_list! {
    /// How likely the matter is to recur (R-RISK-1, R-RISK-2).
    Likelihood, "likelihood" {
        /// 1: rare.
        Rare = "rare" | "1",
        /// 2: unlikely.
        Unlikely = "unlikely" | "2",
        /// 3: possible.
        Possible = "possible" | "3",
        /// 4: likely.
        Likely = "likely" | "4",
        /// 5: almost certain.
        AlmostCertain = "almost_certain" | "5",
    }
}

impl Likelihood {
    /// 1 (rare) to 5 (almost certain).
    pub fn score(self) -> u8 {
        match self {
            Likelihood::Rare => 1,
            Likelihood::Unlikely => 2,
            Likelihood::Possible => 3,
            Likelihood::Likely => 4,
            Likelihood::AlmostCertain => 5,
        }
    }
}

code_list! {
    /// The derived risk grade (R-RISK-1).
    RiskRating, "risk rating" {
        /// Low.
        Low = "low",
        /// Moderate.
        Moderate = "moderate",
        /// High.
        High = "high",
        /// Extreme.
        Extreme = "extreme",
    }
}

code_list! {
    /// What a consent permits (R-CONS-1).
    ConsentScope, "consent scope" {
        /// Disclosing the person's information to their representative (R-WHO-5).
        DiscloseToRepresentative = "disclose_to_representative",
        /// Sharing the complaint with the other bodies handling it jointly (reg 9, R-JOINT-2).
        JointHandling = "joint_handling" | "share_under_reg_9" | "reg_9",
        /// Reading the person's health or care records to investigate.
        AccessRecords = "access_records",
    }
}

code_list! {
    /// How a consent was given (R-CONS-1).
    ConsentMethod, "consent method" {
        /// A signed form or letter.
        Written = "written" | "letter" | "signed_form",
        /// By email.
        Email = "email",
        /// Through an online form.
        OnlineForm = "online_form" | "web_form",
        /// Orally, by telephone or in person, and noted by the body.
        Oral = "oral" | "phone" | "in_person",
    }
}

code_list! {
    /// Who gave a consent (R-CONS-1).
    ConsentGiver, "consent giver" {
        /// The person whose information it is.
        DataSubject = "data_subject" | "self",
        /// Someone with legal authority to decide for them (lasting power of attorney, deputy).
        LegalAuthority = "legal_authority" | "attorney" | "deputy",
        /// A parent or guardian of a child.
        Parent = "parent" | "guardian",
    }
}

code_list! {
    /// Which person on a complaint a fact is about.
    PersonRole, "person" {
        /// The person who complained.
        Complainant = "complainant",
        /// The person the complaint is about, when someone complains on their behalf.
        PersonAffected = "person_affected",
    }
}

code_list! {
    /// Other work information given in a case may be used for (R-KIND-4).
    OtherUsePurpose, "other use" {
        /// Governance of NHS trusts and foundation trusts.
        Governance = "governance",
        /// Integrated care.
        IntegratedCare = "integrated_care",
        /// Procurement, patient choice and competition.
        ProcurementCompetition = "procurement_competition",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn published_labels_parse_to_codes() {
        assert_eq!(
            SubjectArea::parse("Values and behaviours (staff)"),
            Some(SubjectArea::ValuesAndBehaviours)
        );
        assert_eq!(
            SubjectArea::parse("Communications"),
            Some(SubjectArea::Communications)
        );
        assert_eq!(Channel::parse("Web form"), Some(Channel::WebForm));
        assert_eq!(SubjectArea::parse("nonsense"), None);
    }

    #[test]
    fn every_code_round_trips() {
        for area in SubjectArea::ALL {
            assert_eq!(SubjectArea::parse(area.code()), Some(*area));
        }
        for c in ExclusionCategory::ALL {
            assert_eq!(ExclusionCategory::parse(c.code()), Some(*c));
        }
    }

    #[test]
    fn unknown_code_names_the_list() {
        let err = serde_json::from_str::<Channel>("\"pigeon\"").unwrap_err();
        assert!(err.to_string().contains("unknown channel `pigeon`"));
    }
}
