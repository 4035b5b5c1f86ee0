//! Organisation policies and the pure date rules deadlines are derived from.
//!
//! Statutory periods (R-ACK-3, R-RESP-3, R-TL-1) are fixed here; local policy (consent
//! deadline, default response period, risk matrix) comes from an [`OrganisationPolicy`]
//! per organisation, defaulting to the documented values (docs/RULES.md).

use crate::calendar::Calendar;
use crate::case_kind::EnquiryType;
use crate::error::ComplaintError;
use crate::organisation::{Organisation, RegisterHandle, ReturnCollection};
use crate::reference::{Likelihood, RiskRating};
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Working days after the day of receipt by which a complaint must be acknowledged (R-ACK-3).
pub const ACKNOWLEDGEMENT_WORKING_DAYS: u32 = 3;

/// One organisation's local complaints policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrganisationPolicy {
    /// Working days after receipt within which a representative's complaint needs the
    /// person's consent before it is closed (R-WHO-6); `None` disables the lapse.
    pub consent_deadline_working_days: Option<u32>,
    /// Working days after receipt (or escalation) by which a response is due when no
    /// response period has been agreed with the complainant.
    pub default_response_working_days: u32,
    /// The matrix used to grade risk (R-RISK-1/2).
    pub risk_matrix: RiskMatrix,
    /// Working days after closure by which a letter the closure owes (R-EXCL-1, R-WHO-3,
    /// R-WHO-4, R-WHO-6) is due. The rules say "as soon as reasonably practicable"; the
    /// default of 3 (the acknowledgement period) is this system's reading, UNCONFIRMED.
    pub closure_letter_working_days: u32,
    /// Which written complaints collection the organisation returns (R-KO-1, R-KO-8):
    /// `KO41a` for hospital and community health services (an NHS trust, even for its
    /// dental service), `KO41b` for a primary care provider (GP practice, dental practice).
    /// Not set, the collection follows each complaint's service area (general practice and
    /// dental go to KO41b).
    pub collection: Option<String>,
    /// Days after receipt by which an enquiry is acknowledged (R-KIND-1: "within 2 days").
    pub enquiry_acknowledgement_days: u32,
    /// Whether those days are working days (the default) or calendar days; the published
    /// target does not say, UNCONFIRMED.
    pub enquiry_acknowledgement_in_working_days: bool,
    /// Working days after receipt by which the enquirer is contacted, per enquiry type
    /// (R-KIND-1: 18 for patient choice, 10 for procurement and competition or advice).
    pub enquiry_contact_working_days: EnquiryContactTargets,
    /// Working days after receipt by which a complaint about the organisation itself gets
    /// a provisional decision or further response (R-KIND-2).
    pub provisional_decision_working_days: u32,
    /// Years a closed case file is kept before its personal data is erased (R-RET-1: ten
    /// by the NHS Records Management Code); `None` for the deployment's default.
    pub retention_years: Option<u32>,
    /// Working days after receipt by which a whistleblowing concern is acknowledged; a
    /// local target (the complaints period of 3 by default), `None` for none (R-KIND-3).
    pub whistleblowing_acknowledgement_working_days: Option<u32>,
}

/// Contact targets for enquiries, in working days after receipt (R-KIND-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnquiryContactTargets {
    /// General advice.
    pub advice: u32,
    /// Patient choice.
    pub patient_choice: u32,
    /// Procurement, patient choice and competition.
    pub procurement_competition: u32,
}

impl Default for EnquiryContactTargets {
    fn default() -> Self {
        Self {
            advice: 10,
            patient_choice: 18,
            procurement_competition: 10,
        }
    }
}

impl EnquiryContactTargets {
    /// The target for an enquiry of `enquiry_type`.
    pub fn for_type(&self, enquiry_type: EnquiryType) -> u32 {
        match enquiry_type {
            EnquiryType::Advice => self.advice,
            EnquiryType::PatientChoice => self.patient_choice,
            EnquiryType::ProcurementCompetition => self.procurement_competition,
        }
    }
}

impl Default for OrganisationPolicy {
    fn default() -> Self {
        Self {
            consent_deadline_working_days: Some(28),
            default_response_working_days: 25,
            risk_matrix: RiskMatrix::dh_2009(),
            closure_letter_working_days: 3,
            collection: None,
            enquiry_acknowledgement_days: 2,
            enquiry_acknowledgement_in_working_days: true,
            enquiry_contact_working_days: EnquiryContactTargets::default(),
            provisional_decision_working_days: 20,
            whistleblowing_acknowledgement_working_days: Some(3),
            retention_years: None,
        }
    }
}

/// Policies by organisation, with a default for organisations not listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBook {
    /// Applies to every organisation without its own entry.
    #[serde(default)]
    pub default: OrganisationPolicy,
    /// Organisation-specific policies keyed by organisation id.
    #[serde(default)]
    pub organisations: BTreeMap<String, OrganisationPolicy>,
}

impl PolicyBook {
    /// The policy in force for `organisation_id`.
    pub fn for_organisation(&self, organisation_id: &str) -> &OrganisationPolicy {
        self.organisations
            .get(organisation_id)
            .unwrap_or(&self.default)
    }
}

/// What the aggregate needs from outside: the calendar in force and the policies.
#[derive(Debug, Clone)]
pub struct ComplaintServices {
    /// The working-day calendar deadlines are computed with.
    pub calendar: Arc<Calendar>,
    /// Organisation policies.
    pub policies: Arc<PolicyBook>,
    /// The organisation register in force (R-SCOPE-1, R-SCOPE-4).
    pub register: Arc<RegisterHandle>,
}

impl ComplaintServices {
    /// Services with the shipped calendar, default policies and an empty register.
    pub fn standard() -> Self {
        Self {
            calendar: Arc::new(Calendar::shipped()),
            policies: Arc::new(PolicyBook::default()),
            register: Arc::new(RegisterHandle::default()),
        }
    }

    /// The registered organisation with this id, if any.
    pub fn organisation(&self, organisation_id: &str) -> Option<Organisation> {
        self.register.current().get(organisation_id).cloned()
    }

    /// The national return an organisation makes (R-KO-1, R-KO-8): its policy's
    /// `collection` when set, else its register record's; `None` when neither says.
    pub fn return_collection(&self, organisation_id: &str) -> Option<ReturnCollection> {
        self.policies
            .for_organisation(organisation_id)
            .collection
            .as_deref()
            .and_then(ReturnCollection::parse)
            .or_else(|| {
                self.register
                    .current()
                    .get(organisation_id)
                    .and_then(Organisation::return_collection)
            })
    }
}

impl Default for ComplaintServices {
    fn default() -> Self {
        Self::standard()
    }
}

/// A seriousness × likelihood grid (R-RISK-1, R-RISK-2); stored version travels with every grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskMatrix {
    /// Stable name, e.g. `dh-2009`.
    pub id: String,
    /// Bumped whenever a cell changes.
    pub version: u32,
    /// Seriousness levels, least serious first; one grid row each.
    pub seriousness_levels: Vec<String>,
    /// One row per seriousness level, five cells from rare to almost certain.
    pub grid: Vec<[RiskRating; 5]>,
}

impl RiskMatrix {
    /// The DH 2009 complaints matrix with the default cells of R-RISK-2.
    pub fn dh_2009() -> Self {
        use RiskRating::*;
        Self {
            id: "dh-2009".into(),
            version: 1,
            seriousness_levels: vec!["low".into(), "medium".into(), "high".into()],
            grid: vec![
                [Low, Low, Low, Moderate, Moderate],
                [Moderate, Moderate, High, High, High],
                [High, High, Extreme, Extreme, Extreme],
            ],
        }
    }

    /// The NPSA 5×5 matrix: consequence × likelihood, banded by product (R-RISK-1).
    pub fn npsa_2008() -> Self {
        let band = |score: u8| match score {
            1..=3 => RiskRating::Low,
            4..=6 => RiskRating::Moderate,
            8..=12 => RiskRating::High,
            _ => RiskRating::Extreme,
        };
        let grid = (1..=5u8)
            .map(|c| [1u8, 2, 3, 4, 5].map(|l| band(c * l)))
            .collect();
        Self {
            id: "npsa-2008".into(),
            version: 1,
            seriousness_levels: ["negligible", "minor", "moderate", "major", "catastrophic"]
                .map(String::from)
                .to_vec(),
            grid,
        }
    }

    /// `id/version`, as stored with each grade.
    pub fn versioned_id(&self) -> String {
        format!("{}/{}", self.id, self.version)
    }

    /// Grades `seriousness` (a level name, or its 1-based number) × `likelihood`.
    pub fn grade(
        &self,
        seriousness: &str,
        likelihood: Likelihood,
    ) -> Result<RiskRating, ComplaintError> {
        let wanted = seriousness.trim().to_ascii_lowercase();
        let row = self
            .seriousness_levels
            .iter()
            .position(|level| *level == wanted)
            .or_else(|| {
                wanted
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=self.seriousness_levels.len()).contains(n))
                    .map(|n| n - 1)
            })
            .ok_or_else(|| ComplaintError::UnknownSeriousness {
                seriousness: seriousness.to_string(),
                levels: self.seriousness_levels.join(", "),
            })?;
        let cells = self
            .grid
            .get(row)
            .ok_or_else(|| ComplaintError::UnknownSeriousness {
                seriousness: seriousness.to_string(),
                levels: self.seriousness_levels.join(", "),
            })?;
        Ok(cells[usize::from(likelihood.score() - 1)])
    }
}

/// The day by which a complaint received on `received_on` must be acknowledged: the third
/// working day after the day of receipt, which never counts itself (R-ACK-3).
pub fn acknowledge_by(received_on: NaiveDate, calendar: &Calendar) -> NaiveDate {
    calendar.add_working_days(received_on, ACKNOWLEDGEMENT_WORKING_DAYS)
}

/// The last day of the six months starting with the day of receipt (R-RESP-3): the day
/// before the same date six months on, or the last day of the target month when that date
/// does not exist there (31 August → 28/29 February).
pub fn six_month_end(received_on: NaiveDate) -> NaiveDate {
    match received_on.checked_add_months(Months::new(6)) {
        Some(same_day) if same_day.day() == received_on.day() => {
            same_day.pred_opt().unwrap_or(same_day)
        }
        // chrono clamped to the month's last day: that day is the end.
        Some(clamped) => clamped,
        None => NaiveDate::MAX,
    }
}

/// The last day on which a complaint about matters of `occurred_on` / noticed on
/// `noticed_on` is in time: 12 months after the later of the two, 29 February → 28 February
/// (R-TL-1). `None` when neither date is known.
pub fn time_limit_ends_on(
    occurred_on: Option<NaiveDate>,
    noticed_on: Option<NaiveDate>,
) -> Option<NaiveDate> {
    let start = occurred_on.max(noticed_on)?;
    Some(
        start
            .checked_add_months(Months::new(12))
            .unwrap_or(NaiveDate::MAX),
    )
}

/// The next working day after the day a complaint was made: an oral complaint resolved by
/// then need not be handled under the regulations (reg 8(1)(c)).
pub fn oral_resolution_cutoff(received_on: NaiveDate, calendar: &Calendar) -> NaiveDate {
    calendar.next_working_day(received_on)
}

/// Years a complaints case file is kept after closure before review (R-RET-1).
pub const RETENTION_YEARS: u32 = 10;

/// When a case file closed on `closed_on` is due for retention review: ten years on,
/// 29 February → 28 February (R-RET-1). Callers pass the later of local closure and the
/// ombudsman's final decision, since the case is not closed until follow-on processes end.
pub fn retention_review_due(closed_on: NaiveDate) -> NaiveDate {
    retention_review_due_after(closed_on, RETENTION_YEARS)
}

/// [`retention_review_due`] for an organisation keeping files `years` years.
pub fn retention_review_due_after(closed_on: NaiveDate, years: u32) -> NaiveDate {
    closed_on
        .checked_add_months(Months::new(12 * years))
        .unwrap_or(NaiveDate::MAX)
}

/// The day after `day`, saturating at the end of time.
pub(crate) fn day_after(day: NaiveDate) -> NaiveDate {
    day.checked_add_days(Days::new(1)).unwrap_or(day)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn six_month_end_matches_the_worked_examples() {
        for (received, end) in [
            ("2025-04-17", "2025-10-16"),
            ("2026-04-02", "2026-10-01"),
            ("2026-12-23", "2027-06-22"),
            ("2026-01-31", "2026-07-30"),
            ("2022-09-16", "2023-03-15"),
            ("2023-05-05", "2023-11-04"),
            ("2027-12-24", "2028-06-23"),
            ("2025-08-31", "2026-02-28"),
            ("2023-08-31", "2024-02-29"),
        ] {
            assert_eq!(six_month_end(d(received)), d(end), "received {received}");
        }
    }

    #[test]
    fn acknowledgement_is_due_on_the_third_working_day_after_receipt() {
        let cal = Calendar::shipped();
        for (received, due) in [
            ("2025-04-17", "2025-04-24"),
            ("2026-04-02", "2026-04-09"),
            ("2026-12-23", "2026-12-30"),
            ("2026-01-31", "2026-02-04"),
            ("2022-09-16", "2022-09-22"),
            ("2023-05-05", "2023-05-11"),
            ("2027-12-24", "2027-12-31"),
        ] {
            assert_eq!(
                acknowledge_by(d(received), &cal),
                d(due),
                "received {received}"
            );
        }
    }

    #[test]
    fn time_limit_runs_twelve_months_from_the_later_date() {
        assert_eq!(
            time_limit_ends_on(Some(d("2024-03-10")), Some(d("2024-06-02"))),
            Some(d("2025-06-02"))
        );
        assert_eq!(
            time_limit_ends_on(Some(d("2024-02-29")), None),
            Some(d("2025-02-28"))
        );
        assert_eq!(time_limit_ends_on(None, None), None);
    }

    #[test]
    fn a_case_file_is_reviewed_ten_years_after_closure() {
        assert_eq!(retention_review_due(d("2026-05-01")), d("2036-05-01"));
        assert_eq!(retention_review_due(d("2028-02-29")), d("2038-02-28"));
    }

    #[test]
    fn dh_matrix_grades_by_the_default_cells() {
        let m = RiskMatrix::dh_2009();
        assert_eq!(
            m.grade("low", Likelihood::AlmostCertain).unwrap(),
            RiskRating::Moderate
        );
        assert_eq!(
            m.grade("Medium", Likelihood::Possible).unwrap(),
            RiskRating::High
        );
        assert_eq!(m.grade("high", Likelihood::Rare).unwrap(), RiskRating::High);
        assert_eq!(
            m.grade("3", Likelihood::Possible).unwrap(),
            RiskRating::Extreme
        );
        assert!(matches!(
            m.grade("severe", Likelihood::Rare),
            Err(ComplaintError::UnknownSeriousness { .. })
        ));
    }

    #[test]
    fn npsa_matrix_bands_the_product() {
        let m = RiskMatrix::npsa_2008();
        assert_eq!(
            m.grade("minor", Likelihood::Possible).unwrap(),
            RiskRating::Moderate
        ); // 6
        assert_eq!(
            m.grade("major", Likelihood::Unlikely).unwrap(),
            RiskRating::High
        ); // 8
        assert_eq!(
            m.grade("moderate", Likelihood::AlmostCertain).unwrap(),
            RiskRating::Extreme
        ); // 15
        assert_eq!(
            m.grade("negligible", Likelihood::Possible).unwrap(),
            RiskRating::Low
        ); // 3
    }
}
