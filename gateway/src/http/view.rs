//! A complaint as the API shows it: the facts, the status and every current deadline with the
//! calendar it was computed on.

use crate::app::cases::CaseState;
use chrono::NaiveDate;
use complaints_domain::*;
use serde::Serialize;

/// A complaint as the API shows it: the facts, the status and every current deadline.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ComplaintView<'a> {
    id: &'a str,
    version: usize,
    status: Status,
    stage: u8,
    #[serde(flatten)]
    receipt: Option<&'a Receipt>,
    in_time: bool,
    out_of_time_accepted_on: Option<NaiveDate>,
    #[serde(flatten)]
    particulars: Option<&'a ComplaintParticulars>,
    acknowledged_on: Option<NaiveDate>,
    acknowledged_late: bool,
    consent: &'a complaints_domain::ConsentState,
    risk: Option<&'a complaints_domain::RiskGrade>,
    response_plans: &'a [complaints_domain::ResponsePlan],
    clock_stops: &'a [complaints_domain::ClockStop],
    delay_notified_on: &'a [NaiveDate],
    responses: &'a [complaints_domain::SentResponse],
    escalated_on: Option<NaiveDate>,
    ombudsman_referrals: &'a [complaints_domain::Referral],
    learning: &'a [complaints_domain::Learning],
    closure: Option<&'a complaints_domain::Closure>,
    reopened_on: &'a [NaiveDate],
    legal_hold: Option<&'a complaints_domain::LegalHold>,
    /// The finding on a child's representative (R-WHO-3).
    representative_grounds: Option<&'a complaints_domain::RepresentativeGrounds>,
    /// Letters the rules require, as sent.
    letters: &'a [complaints_domain::LetterRecord],
    /// Contacts with the complainant about progress (R-RESP-1); what was said is in the history.
    progress_contacts: &'a [complaints_domain::ProgressContact],
    /// Ombudsman recommendations, numbered, with what was done (R-OMB-2).
    ombudsman_recommendations: &'a [complaints_domain::TrackedRecommendation],
    /// Cases opened from this one: the complaint an enquiry became, the case at the body it
    /// was forwarded to (R-KIND-1, R-SCOPE-2, R-SCOPE-3).
    linked_cases: &'a [complaints_domain::LinkedCase],
    /// When the complainant died, if recorded (R-FACT-1).
    complainant_died_on: Option<NaiveDate>,
    /// When the person affected died, if recorded (R-FACT-1, R-WHO-5).
    person_affected_died_on: Option<NaiveDate>,
    /// Consents on record with who gave them, for whom, what they permit and how (R-CONS-1);
    /// the evidence is in the history.
    consents: &'a [complaints_domain::ConsentRecord],
    /// The other bodies taking or having taken part in this joint complaint, which the
    /// complaint's organisation leads (R-JOINT-1, R-JOINT-2).
    participants: &'a [complaints_domain::Participant],
    /// The lead's requests for the participants' parts of the co-ordinated response, with
    /// when each was supplied (R-JOINT-2); the parts themselves are in the history.
    part_requests: &'a [complaints_domain::PartRequest],
    deadlines: Option<Deadlines>,
    deadline_status: Vec<DeadlineStatus>,
    /// Unusual facts recorded on the complaint, each with a stable code and the rule it
    /// concerns (R-FACT-1); derived from the facts, never stored.
    warnings: Vec<CaseWarning>,
    as_of: NaiveDate,
}

/// What a command answers when asked for `Prefer: return=minimal`: where the complaint now
/// stands and what is due, without the personal data the full view carries, so the answer is
/// no read of personal data and needs no access-log record.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CommandReceipt<'a> {
    id: &'a str,
    version: usize,
    status: Status,
    stage: u8,
    deadlines: Option<Deadlines>,
    /// Unusual facts recorded on the complaint, each with a stable code (R-FACT-1).
    warnings: Vec<CaseWarning>,
}

/// What a command answers: the complaint, or its receipt when `Prefer: return=minimal`
/// asked for one (described once for the OpenAPI document).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // described for the document, never built per request
pub enum CommandAnswer<'a> {
    /// The complaint as it now stands.
    Complaint(ComplaintView<'a>),
    /// Where it stands, without personal data.
    Receipt(CommandReceipt<'a>),
}

impl<'a> CommandReceipt<'a> {
    /// The receipt of `found`.
    pub fn build(found: &'a CaseState, services: &ComplaintServices) -> Self {
        let case = &found.case;
        Self {
            id: &found.id,
            version: found.version,
            status: case.status(),
            stage: case.stage,
            deadlines: deadlines(case, services),
            warnings: warnings(case, services),
        }
    }
}

impl<'a> ComplaintView<'a> {
    /// The view of `found` with deadlines judged as of `today`.
    pub fn build(found: &'a CaseState, services: &ComplaintServices, today: NaiveDate) -> Self {
        let case = &found.case;
        Self {
            id: &found.id,
            version: found.version,
            status: case.status(),
            stage: case.stage,
            receipt: case.receipt.as_ref(),
            in_time: case.in_time(),
            out_of_time_accepted_on: case.out_of_time_accepted_on,
            particulars: case.particulars.as_ref(),
            acknowledged_on: case.acknowledged_on,
            acknowledged_late: case.acknowledged_late,
            consent: &case.consent,
            risk: case.risk.as_ref(),
            response_plans: &case.plans,
            clock_stops: &case.clock_stops,
            delay_notified_on: &case.delay_notified_on,
            responses: &case.responses,
            escalated_on: case.escalated_on,
            ombudsman_referrals: &case.referrals,
            learning: &case.learning,
            closure: case.closure.as_ref(),
            reopened_on: &case.reopened_on,
            legal_hold: case.legal_hold.as_ref(),
            representative_grounds: case.representative_grounds.as_ref(),
            letters: &case.letters,
            linked_cases: &case.linked_cases,
            complainant_died_on: case.complainant_died_on,
            person_affected_died_on: case.person_affected_died_on,
            consents: &case.consents,
            participants: &case.participants,
            part_requests: &case.part_requests,
            progress_contacts: &case.progress_contacts,
            ombudsman_recommendations: &case.recommendations,
            deadlines: deadlines(case, services),
            deadline_status: deadline_statuses(case, services, today),
            warnings: warnings(case, services),
            as_of: today,
        }
    }
}
