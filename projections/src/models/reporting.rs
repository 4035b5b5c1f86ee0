//! The reporting read model (consumer `reporting`): per-complaint facts, ombudsman referrals
//! and learning, and the pure functions that count the regulation 18 annual report
//! (R-AR-1..R-AR-3) and the Written Complaints Collection (KO41a/KO41b, R-KO-1..R-KO-9)
//! from them.
//!
//! The consumer stores facts only; reports are counted at query time from the current facts,
//! so a complaint closed as excluded, reopened or answered on review moves the figures of the
//! years it touches the next time a report is asked for.
//!
//! Reporting interface (views, stable for BI tools; dates are `DATE` on PostgreSQL and
//! `YYYY-MM-DD` text on SQLite; code lists are comma-separated and comma-wrapped, `,a,b,`):
//! - `rm_report_complaints`: one row per received complaint: `complaint_id`,
//!   `organisation_id`, `received_on`, `channel`, `route`, `subject_areas`, `service_area`,
//!   `staff_groups`, `acknowledged_on`, `acknowledge_by` (3rd working day after receipt,
//!   R-ACK-3), `first_response_on` / `first_outcome` (the stage-1 response),
//!   `first_response_due` (the stage-1 response date in force: the latest stage-1 plan, else
//!   the organisation's default period, moved on by stage-1 clock stops; R-REC-1's
//!   "within the response period" is `first_response_on <= first_response_due`),
//!   `review_response_on` / `review_outcome` (the stage-2 response), `closed_on`,
//!   `closure_reason`, `exclusion_category`, `transferred_to` (the current closure, if
//!   any), `calendar_version`, `version`, `last_event_at`.
//! - `rm_report_referrals`: one row per `ReferredToOmbudsman` event: `complaint_id`,
//!   `sequence`, `organisation_id`, `ombudsman` (`phso`, `lgsco`), `informed_on`.
//! - `rm_report_learning`: one row per `LearningRecorded` event: `complaint_id`, `sequence`,
//!   `organisation_id`, `recorded_on`, `kind` (`lesson`, `action`), `summary` (written for
//!   the annual report, no personal data), `action_due_on`.
//!
//! (`rm_report_state` holds the fold state and is not part of the interface.) Due dates are
//! computed with the consumer's calendar and policies: rebuild after changing either.
//!
//! Counting decisions beyond R-AR-2 and R-KO-3 (defaults, documented here and on the
//! functions):
//! - A year `Y` is 1 April `Y` to 31 March `Y+1`.
//! - Excluded complaints (closed under reg 8, any category) are counted only in their own
//!   figures, by the year received: they are not in `received`, the outcome counts or the
//!   timeliness shares. Referrals and learning are counted whatever the complaint's closure.
//! - A complaint transferred out (reg 6(5)) stays in `received` (R-AR-2 lists no such
//!   exception) and is also shown as `transferred_out`; the KO41 counts leave it out (R-KO-2).
//! - Ombudsman referrals count complaints: a complaint referred twice to the same ombudsman
//!   in one year counts once for it.
//! - KO41 `closed_without_outcome` (closed without a stage-1 outcome in the period, e.g.
//!   withdrawn or consent not received) is an extra item so that `carried_forward`
//!   reconciles; `carried_forward` then equals the complaints still open at the period end
//!   and the next period's `brought_forward`.
//! - KO41 breakdowns list every code of the current list (zero where none) plus
//!   `not_recorded`: a complaint without a service area, or without a staff group, counts
//!   there, so service areas sum to `new` and subject and staff-group totals are `>= new`.

use super::sql::{codes_column, date_text, date_type, parse_codes};
use crate::state::{fold_batch, state_table, FoldedCase};
use crate::{
    on_pool, on_tx, Backend, Generation, Pool, Projection, ProjectionError, StoredEvent, TableDef,
    Tx,
};
use async_trait::async_trait;
use chrono::{Datelike, NaiveDate};
use complaints_domain::{
    policy, response_due, ClosureReason, Complaint, ComplaintEvent, ComplaintServices,
    ExclusionCategory, LearningKind, Ombudsman, Outcome, ResponseDue, ServiceArea, StaffGroup,
    SubjectArea,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

/// Consumer name.
pub const NAME: &str = "reporting";

const STATE: &str = "rm_report_state";
const COMPLAINTS: &str = "rm_report_complaints";
const REFERRALS: &str = "rm_report_referrals";
const LEARNING: &str = "rm_report_learning";

/// The code a complaint without a service area or staff group is counted under.
pub const NOT_RECORDED: &str = "not_recorded";

// ---------------------------------------------------------------------------------------
// Facts
// ---------------------------------------------------------------------------------------

/// The facts of one complaint that the reports count (one row of `rm_report_complaints`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintFacts {
    /// Complaint id.
    pub complaint_id: String,
    /// The organisation that received it.
    pub organisation_id: String,
    /// Day received.
    pub received_on: NaiveDate,
    /// Channel code.
    pub channel: String,
    /// Route code (`provider`, `commissioner`).
    pub route: String,
    /// Subject area codes.
    pub subject_areas: Vec<String>,
    /// Service area code.
    pub service_area: Option<String>,
    /// Staff group codes.
    pub staff_groups: Vec<String>,
    /// Day acknowledged.
    pub acknowledged_on: Option<NaiveDate>,
    /// The acknowledgement deadline (R-ACK-3).
    pub acknowledge_by: NaiveDate,
    /// Day the stage-1 response was sent.
    pub first_response_on: Option<NaiveDate>,
    /// Its outcome.
    pub first_outcome: Option<Outcome>,
    /// The stage-1 response date in force (absent while a stage-1 clock stop is open).
    pub first_response_due: Option<NaiveDate>,
    /// Day the stage-2 (review) response was sent.
    pub review_response_on: Option<NaiveDate>,
    /// Its outcome.
    pub review_outcome: Option<Outcome>,
    /// Day closed (the current closure).
    pub closed_on: Option<NaiveDate>,
    /// Why closed.
    pub closure_reason: Option<ClosureReason>,
    /// The reg 8 category of an excluded complaint.
    pub exclusion_category: Option<ExclusionCategory>,
    /// The organisation a transferred complaint went to.
    pub transferred_to: Option<String>,
    /// The calendar the due dates came from.
    pub calendar_version: String,
    /// Version (last applied sequence).
    pub version: i64,
}

impl ComplaintFacts {
    /// Closed as not required to be handled under regulation 8 (any category).
    pub fn is_excluded(&self) -> bool {
        self.closure_reason == Some(ClosureReason::Excluded)
    }

    /// Closed as forwarded to another organisation (reg 6(5)).
    pub fn is_transferred_out(&self) -> bool {
        self.closure_reason == Some(ClosureReason::Transferred)
    }

    /// Whether the acknowledgement met its deadline; `None` until acknowledged.
    pub fn acknowledged_in_time(&self) -> Option<bool> {
        self.acknowledged_on.map(|on| on <= self.acknowledge_by)
    }

    /// Whether the stage-1 response was sent within the response period in force (R-REC-1);
    /// `None` until sent. A response with no due date (sent while the clock was stopped, a
    /// state the fold no longer produces) counts as in time.
    pub fn within_response_period(&self) -> Option<bool> {
        let sent = self.first_response_on?;
        Some(self.first_response_due.is_none_or(|due| sent <= due))
    }

    /// The day the complaint stopped needing an outcome in the KO41 sense: the stage-1
    /// response, else a closure without one.
    fn finished_on(&self) -> Option<NaiveDate> {
        self.first_response_on.or(self.closed_on)
    }

    /// Which written complaints collection the complaint belongs to.
    pub fn collection(&self) -> Collection {
        Collection::for_service_area(self.service_area.as_deref())
    }
}

/// One ombudsman referral (one row of `rm_report_referrals`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralFact {
    /// Complaint id.
    pub complaint_id: String,
    /// Sequence of the `ReferredToOmbudsman` event.
    pub sequence: i64,
    /// The complaint's organisation.
    pub organisation_id: String,
    /// Which ombudsman.
    pub ombudsman: Ombudsman,
    /// When the body was informed (R-OMB-1).
    pub informed_on: NaiveDate,
}

/// One lesson or action (one row of `rm_report_learning`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearningFact {
    /// Complaint id.
    pub complaint_id: String,
    /// Sequence of the `LearningRecorded` event.
    pub sequence: i64,
    /// The complaint's organisation.
    pub organisation_id: String,
    /// When recorded.
    pub recorded_on: NaiveDate,
    /// Lesson or action.
    pub kind: LearningKind,
    /// Summary for the annual report.
    pub summary: String,
    /// When an action is due.
    pub action_due_on: Option<NaiveDate>,
}

/// The stage-1 response date for a complaint, whatever stage it is at now: the latest
/// stage-1 plan's date, else the organisation's default period from receipt, moved on by
/// the working days of stage-1 clock stops (the domain's `response_due` applied to the
/// stage-1 facts). `None` before receipt or while a stage-1 clock stop is open. Pure.
pub fn stage_one_response_due(case: &Complaint, services: &ComplaintServices) -> Option<NaiveDate> {
    let stage_one = Complaint {
        receipt: case.receipt.clone(),
        stage: 1,
        plans: case
            .plans
            .iter()
            .filter(|p| p.stage == 1)
            .cloned()
            .collect(),
        clock_stops: case
            .clock_stops
            .iter()
            .filter(|s| s.stage == 1)
            .cloned()
            .collect(),
        ..Complaint::default()
    };
    match response_due(&stage_one, services) {
        ResponseDue::Due(day) => Some(day),
        ResponseDue::Stopped | ResponseDue::NotApplicable => None,
    }
}

/// The facts row of a folded complaint; `None` before receipt. Pure.
pub fn complaint_facts(
    id: &str,
    folded: &FoldedCase,
    services: &ComplaintServices,
) -> Option<ComplaintFacts> {
    let case = &folded.case;
    let receipt = case.receipt.as_ref()?;
    let first = case.first_response();
    let review = case.responses.iter().find(|r| r.stage == 2);
    let closure = case.closure.as_ref();
    Some(ComplaintFacts {
        complaint_id: id.to_string(),
        organisation_id: receipt.organisation_id.clone(),
        received_on: receipt.received_on,
        channel: receipt.channel.code().to_string(),
        route: receipt.route.code().to_string(),
        subject_areas: receipt
            .subject_areas
            .iter()
            .map(|s| s.code().to_string())
            .collect(),
        service_area: receipt.service_area.map(|s| s.code().to_string()),
        staff_groups: receipt
            .staff_groups
            .iter()
            .map(|s| s.code().to_string())
            .collect(),
        acknowledged_on: case.acknowledged_on,
        acknowledge_by: policy::acknowledge_by(receipt.received_on, &services.calendar),
        first_response_on: first.map(|r| r.sent_on),
        first_outcome: first.map(|r| r.outcome),
        first_response_due: stage_one_response_due(case, services),
        review_response_on: review.map(|r| r.sent_on),
        review_outcome: review.map(|r| r.outcome),
        closed_on: closure.map(|c| c.closed_on),
        closure_reason: closure.map(|c| c.reason),
        exclusion_category: closure.and_then(|c| c.exclusion_category),
        transferred_to: closure.and_then(|c| c.transferred_to.clone()),
        calendar_version: services.calendar.version().to_string(),
        version: folded.version,
    })
}

/// The referral row an event adds, if it is a referral. Pure.
pub fn referral_fact(event: &StoredEvent, organisation_id: &str) -> Option<ReferralFact> {
    match &event.event {
        ComplaintEvent::ReferredToOmbudsman {
            ombudsman,
            informed_on,
            ..
        } => Some(ReferralFact {
            complaint_id: event.complaint_id.clone(),
            sequence: event.sequence,
            organisation_id: organisation_id.to_string(),
            ombudsman: *ombudsman,
            informed_on: *informed_on,
        }),
        _ => None,
    }
}

/// The learning row an event adds, if it records learning. Pure.
pub fn learning_fact(event: &StoredEvent, organisation_id: &str) -> Option<LearningFact> {
    match &event.event {
        ComplaintEvent::LearningRecorded {
            recorded_on,
            kind,
            summary,
            action_due_on,
        } => Some(LearningFact {
            complaint_id: event.complaint_id.clone(),
            sequence: event.sequence,
            organisation_id: organisation_id.to_string(),
            recorded_on: *recorded_on,
            kind: *kind,
            summary: summary.clone(),
            action_due_on: *action_due_on,
        }),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Periods
// ---------------------------------------------------------------------------------------

/// The first and last day of financial year `year` (1 April `year` to 31 March `year + 1`);
/// `None` for a year chrono cannot represent.
pub fn financial_year(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    let start = NaiveDate::from_ymd_opt(year, 4, 1)?;
    let end = NaiveDate::from_ymd_opt(year.checked_add(1)?, 3, 31)?;
    Some((start, end))
}

/// The financial year a day falls in (named by the calendar year it starts in).
pub fn financial_year_of(day: NaiveDate) -> i32 {
    if day.month() >= 4 {
        day.year()
    } else {
        day.year() - 1
    }
}

fn within(day: Option<NaiveDate>, from: NaiveDate, to: NaiveDate) -> bool {
    day.is_some_and(|d| from <= d && d <= to)
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_string()).or_insert(0) += 1;
}

// ---------------------------------------------------------------------------------------
// The annual report (regulation 18)
// ---------------------------------------------------------------------------------------

/// First responses by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutcomeCounts {
    /// Upheld.
    pub upheld: u64,
    /// Partially upheld.
    pub partially_upheld: u64,
    /// Not upheld.
    pub not_upheld: u64,
}

impl OutcomeCounts {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Upheld => self.upheld += 1,
            Outcome::PartiallyUpheld => self.partially_upheld += 1,
            Outcome::NotUpheld => self.not_upheld += 1,
        }
    }

    /// Upheld plus partially upheld (R-AR-1 item 2).
    pub fn well_founded(&self) -> u64 {
        self.upheld + self.partially_upheld
    }

    /// All three.
    pub fn total(&self) -> u64 {
        self.upheld + self.partially_upheld + self.not_upheld
    }
}

/// Complaints the body was told were referred to each ombudsman.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OmbudsmanCounts {
    /// Parliamentary and Health Service Ombudsman.
    pub phso: u64,
    /// Local Government and Social Care Ombudsman.
    pub lgsco: u64,
}

/// Excluded complaints (reg 8) other than oral next-working-day resolutions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExcludedCounts {
    /// How many.
    pub total: u64,
    /// By reg 8(1) category code.
    pub by_category: BTreeMap<String, u64>,
}

/// How many of a set met their deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Share {
    /// Met the deadline.
    pub met: u64,
    /// In the set.
    pub total: u64,
    /// `met / total`; null when the set is empty.
    pub share: Option<f64>,
}

impl Share {
    fn of(met: u64, total: u64) -> Self {
        let share = (total > 0).then(|| met as f64 / total as f64);
        Self { met, total, share }
    }
}

/// A lesson or action for items 5 and 6 of the report; aggregate, no complaint id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LearningItem {
    /// When recorded.
    pub recorded_on: NaiveDate,
    /// Summary.
    pub summary: String,
    /// When an action is due.
    pub action_due_on: Option<NaiveDate>,
}

/// Learning recorded in the year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LearningReport {
    /// Lessons and matters of general importance (item 5).
    pub lessons: Vec<LearningItem>,
    /// Actions taken or planned (item 6).
    pub actions: Vec<LearningItem>,
}

/// The regulation 18 annual report of one organisation for one financial year (R-AR-1,
/// counted by R-AR-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AnnualReport {
    /// Organisation.
    pub organisation_id: String,
    /// Financial year, named by the calendar year it starts in.
    pub year: i32,
    /// E.g. `2025-26`.
    pub label: String,
    /// 1 April.
    pub period_start: NaiveDate,
    /// 31 March.
    pub period_end: NaiveDate,
    /// Complaints received in the year, excluded ones and oral next-day resolutions aside
    /// (item 1).
    pub received: u64,
    /// Complaints received in the year and excluded under reg 8 (not the oral next-day ones).
    pub excluded: ExcludedCounts,
    /// Oral complaints received in the year and resolved by the next working day.
    pub oral_resolved_next_working_day: u64,
    /// Of `received`, how many were transferred to another organisation.
    pub transferred_out: u64,
    /// First responses sent in the year that upheld or partially upheld the complaint
    /// (item 2).
    pub well_founded: u64,
    /// First responses sent in the year, by outcome.
    pub by_outcome: OutcomeCounts,
    /// Review (stage-2) responses sent in the year.
    pub reviews_responded: u64,
    /// Review responses sent in the year whose outcome differs from the first response's.
    pub outcome_changed_on_review: u64,
    /// Complaints the body was told in the year were referred to each ombudsman (item 3).
    pub referred_to_ombudsman: OmbudsmanCounts,
    /// Complaints received in the year per subject area, one count per subject (item 4).
    pub by_subject_area: BTreeMap<String, u64>,
    /// Complaints received in the year per channel.
    pub by_channel: BTreeMap<String, u64>,
    /// Of the complaints acknowledged in the year, those acknowledged by the third working
    /// day after receipt.
    pub acknowledged_within_3_working_days: Share,
    /// Of the complaints whose first response was sent in the year, those sent within the
    /// response period in force.
    pub responded_within_agreed_period: Share,
    /// Lessons and actions recorded in the year (items 5 and 6).
    pub learning: LearningReport,
}

/// Counts the annual report of `organisation` for financial `year` from the facts (rows of
/// other organisations are ignored). Pure.
///
/// Each figure counts in the year of the fact that decides it (R-AR-2): `received`,
/// `excluded`, `oral_resolved_next_working_day`, `by_subject_area` and `by_channel` by
/// `received_on`; `by_outcome` and `well_founded` by the stage-1 response's day;
/// `outcome_changed_on_review` by the review response's day; referrals by `informed_on`;
/// the acknowledgement share by `acknowledged_on`; learning by `recorded_on`. Excluded
/// complaints appear only in their own counts.
pub fn annual_report(
    organisation: &str,
    year: i32,
    facts: &[ComplaintFacts],
    referrals: &[ReferralFact],
    learning: &[LearningFact],
) -> AnnualReport {
    let (start, end) = financial_year(year).unwrap_or(if year < 0 {
        (NaiveDate::MIN, NaiveDate::MIN)
    } else {
        (NaiveDate::MAX, NaiveDate::MAX)
    });
    let mut report = AnnualReport {
        organisation_id: organisation.to_string(),
        year,
        label: format!("{year}-{:02}", (i64::from(year) + 1).rem_euclid(100)),
        period_start: start,
        period_end: end,
        received: 0,
        excluded: ExcludedCounts::default(),
        oral_resolved_next_working_day: 0,
        transferred_out: 0,
        well_founded: 0,
        by_outcome: OutcomeCounts::default(),
        reviews_responded: 0,
        outcome_changed_on_review: 0,
        referred_to_ombudsman: OmbudsmanCounts::default(),
        by_subject_area: BTreeMap::new(),
        by_channel: BTreeMap::new(),
        acknowledged_within_3_working_days: Share::default(),
        responded_within_agreed_period: Share::default(),
        learning: LearningReport::default(),
    };
    let (mut ack_met, mut ack_total, mut resp_met, mut resp_total) = (0, 0, 0, 0);
    for f in facts.iter().filter(|f| f.organisation_id == organisation) {
        if f.is_excluded() {
            if within(Some(f.received_on), start, end) {
                match f.exclusion_category {
                    Some(ExclusionCategory::OralResolvedNextWorkingDay) => {
                        report.oral_resolved_next_working_day += 1
                    }
                    other => {
                        report.excluded.total += 1;
                        bump(
                            &mut report.excluded.by_category,
                            other.map_or(NOT_RECORDED, |c| c.code()),
                        );
                    }
                }
            }
            continue;
        }
        if within(Some(f.received_on), start, end) {
            report.received += 1;
            if f.is_transferred_out() {
                report.transferred_out += 1;
            }
            bump(&mut report.by_channel, &f.channel);
            let subjects: BTreeSet<&str> = f.subject_areas.iter().map(String::as_str).collect();
            for subject in subjects {
                bump(&mut report.by_subject_area, subject);
            }
        }
        if within(f.acknowledged_on, start, end) {
            ack_total += 1;
            if f.acknowledged_in_time() == Some(true) {
                ack_met += 1;
            }
        }
        if let (true, Some(outcome)) = (within(f.first_response_on, start, end), f.first_outcome) {
            report.by_outcome.add(outcome);
            resp_total += 1;
            if f.within_response_period() == Some(true) {
                resp_met += 1;
            }
        }
        if within(f.review_response_on, start, end) {
            report.reviews_responded += 1;
            if let (Some(review), Some(first)) = (f.review_outcome, f.first_outcome) {
                if review != first {
                    report.outcome_changed_on_review += 1;
                }
            }
        }
    }
    report.well_founded = report.by_outcome.well_founded();
    report.acknowledged_within_3_working_days = Share::of(ack_met, ack_total);
    report.responded_within_agreed_period = Share::of(resp_met, resp_total);

    let mut referred: BTreeSet<(&str, Ombudsman)> = BTreeSet::new();
    for r in referrals {
        if r.organisation_id == organisation && within(Some(r.informed_on), start, end) {
            referred.insert((r.complaint_id.as_str(), r.ombudsman));
        }
    }
    for (_, ombudsman) in referred {
        match ombudsman {
            Ombudsman::Phso => report.referred_to_ombudsman.phso += 1,
            Ombudsman::Lgsco => report.referred_to_ombudsman.lgsco += 1,
        }
    }

    let mut items: Vec<&LearningFact> = learning
        .iter()
        .filter(|l| l.organisation_id == organisation && within(Some(l.recorded_on), start, end))
        .collect();
    items.sort_by(|a, b| {
        (a.recorded_on, &a.complaint_id, a.sequence).cmp(&(
            b.recorded_on,
            &b.complaint_id,
            b.sequence,
        ))
    });
    for l in items {
        let item = LearningItem {
            recorded_on: l.recorded_on,
            summary: l.summary.clone(),
            action_due_on: l.action_due_on,
        };
        match l.kind {
            LearningKind::Lesson => report.learning.lessons.push(item),
            LearningKind::Action => report.learning.actions.push(item),
        }
    }
    report
}

// ---------------------------------------------------------------------------------------
// The Written Complaints Collection (KO41a / KO41b)
// ---------------------------------------------------------------------------------------

/// Which national return a complaint is counted in (R-KO-1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Collection {
    /// Hospital and community health services.
    #[serde(rename = "KO41a")]
    Ko41a,
    /// Primary care: general practice and dental.
    #[serde(rename = "KO41b")]
    Ko41b,
}

impl Collection {
    /// The collection's name.
    pub fn name(self) -> &'static str {
        match self {
            Collection::Ko41a => "KO41a",
            Collection::Ko41b => "KO41b",
        }
    }

    /// KO41b for general practice and dental, KO41a for anything else (or nothing).
    pub fn for_service_area(service_area: Option<&str>) -> Self {
        let primary = [
            ServiceArea::GeneralPractice.code(),
            ServiceArea::Dental.code(),
        ];
        match service_area {
            Some(area) if primary.contains(&area) => Collection::Ko41b,
            _ => Collection::Ko41a,
        }
    }
}

/// One collection's return for a period (R-KO-3, R-KO-5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CollectionReturn {
    /// KO41a or KO41b.
    pub collection: Collection,
    /// Received before the period and neither resolved nor closed before it.
    pub brought_forward: u64,
    /// Received in the period.
    pub new: u64,
    /// Stage-1 response in the period, upheld.
    pub resolved_upheld: u64,
    /// Stage-1 response in the period, partially upheld.
    pub resolved_partially_upheld: u64,
    /// Stage-1 response in the period, not upheld.
    pub resolved_not_upheld: u64,
    /// The three together (R-KO-4).
    pub resolved: u64,
    /// Closed in the period without ever getting an outcome (withdrawn, consent not
    /// received, …): not "resolved", but no longer carried (an extra item of this system).
    pub closed_without_outcome: u64,
    /// `brought_forward + new - resolved - closed_without_outcome`.
    pub carried_forward: u64,
    /// New complaints per subject area, one count per subject per complaint.
    pub by_subject_area: BTreeMap<String, u64>,
    /// New complaints per service area (`not_recorded` when none); sums to `new`.
    pub by_service_area: BTreeMap<String, u64>,
    /// New complaints per staff group, one count per group per complaint (`not_recorded`
    /// when none).
    pub by_staff_group: BTreeMap<String, u64>,
}

impl CollectionReturn {
    fn empty(collection: Collection) -> Self {
        let zeros = |codes: Vec<&str>| -> BTreeMap<String, u64> {
            codes
                .into_iter()
                .chain([NOT_RECORDED])
                .map(|c| (c.to_string(), 0))
                .collect()
        };
        let services: Vec<&str> = ServiceArea::ALL
            .iter()
            .filter(|s| Collection::for_service_area(Some(s.code())) == collection)
            .map(|s| s.code())
            .collect();
        let mut by_subject_area = zeros(SubjectArea::ALL.iter().map(|s| s.code()).collect());
        // Every complaint has a subject; `not_recorded` is only kept for a stray empty list.
        by_subject_area.remove(NOT_RECORDED);
        Self {
            collection,
            brought_forward: 0,
            new: 0,
            resolved_upheld: 0,
            resolved_partially_upheld: 0,
            resolved_not_upheld: 0,
            resolved: 0,
            closed_without_outcome: 0,
            carried_forward: 0,
            by_subject_area,
            by_service_area: zeros(services),
            by_staff_group: zeros(StaffGroup::ALL.iter().map(|s| s.code()).collect()),
        }
    }

    fn is_empty(&self) -> bool {
        self.brought_forward == 0
            && self.new == 0
            && self.resolved == 0
            && self.closed_without_outcome == 0
    }

    /// The summary items in return order, `closed_without_outcome` before `carried_forward`.
    pub fn summary(&self) -> [(&'static str, u64); 8] {
        [
            ("brought_forward", self.brought_forward),
            ("new", self.new),
            ("resolved_upheld", self.resolved_upheld),
            ("resolved_partially_upheld", self.resolved_partially_upheld),
            ("resolved_not_upheld", self.resolved_not_upheld),
            ("resolved", self.resolved),
            ("closed_without_outcome", self.closed_without_outcome),
            ("carried_forward", self.carried_forward),
        ]
    }
}

/// The written complaints return of one organisation for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WrittenComplaintsReport {
    /// Organisation.
    pub organisation_id: String,
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
    /// One return per collection with any complaint in play (KO41a first); empty when the
    /// organisation had none.
    pub collections: Vec<CollectionReturn>,
}

/// Counts the written complaints return of `organisation` for the days `from..=to` (R-KO-3,
/// R-KO-5). Excluded and transferred-out complaints are not counted at all (R-KO-2); a
/// complaint is "resolved" when its stage-1 response, which always gives one of the three
/// outcomes, is sent (R-KO-4); a review response never counts again. Pure.
pub fn written_complaints(
    organisation: &str,
    from: NaiveDate,
    to: NaiveDate,
    facts: &[ComplaintFacts],
) -> WrittenComplaintsReport {
    let mut returns: BTreeMap<Collection, CollectionReturn> =
        [Collection::Ko41a, Collection::Ko41b]
            .into_iter()
            .map(|c| (c, CollectionReturn::empty(c)))
            .collect();
    let counted = facts.iter().filter(|f| {
        f.organisation_id == organisation && !f.is_excluded() && !f.is_transferred_out()
    });
    for f in counted {
        let Some(ret) = returns.get_mut(&f.collection()) else {
            continue;
        };
        if f.received_on < from && f.finished_on().is_none_or(|d| d >= from) {
            ret.brought_forward += 1;
        }
        if within(Some(f.received_on), from, to) {
            ret.new += 1;
            let subjects: BTreeSet<&str> = f.subject_areas.iter().map(String::as_str).collect();
            if subjects.is_empty() {
                bump(&mut ret.by_subject_area, NOT_RECORDED);
            }
            for subject in subjects {
                bump(&mut ret.by_subject_area, subject);
            }
            bump(
                &mut ret.by_service_area,
                f.service_area.as_deref().unwrap_or(NOT_RECORDED),
            );
            let groups: BTreeSet<&str> = f.staff_groups.iter().map(String::as_str).collect();
            if groups.is_empty() {
                bump(&mut ret.by_staff_group, NOT_RECORDED);
            }
            for group in groups {
                bump(&mut ret.by_staff_group, group);
            }
        }
        match (f.first_response_on, f.first_outcome) {
            (Some(sent), Some(outcome)) if within(Some(sent), from, to) => match outcome {
                Outcome::Upheld => ret.resolved_upheld += 1,
                Outcome::PartiallyUpheld => ret.resolved_partially_upheld += 1,
                Outcome::NotUpheld => ret.resolved_not_upheld += 1,
            },
            (None, _) if f.closure_reason.is_some() && within(f.closed_on, from, to) => {
                ret.closed_without_outcome += 1;
            }
            _ => {}
        }
    }
    let collections = returns
        .into_values()
        .map(|mut r| {
            r.resolved = r.resolved_upheld + r.resolved_partially_upheld + r.resolved_not_upheld;
            r.carried_forward =
                (r.brought_forward + r.new).saturating_sub(r.resolved + r.closed_without_outcome);
            r
        })
        .filter(|r| !r.is_empty())
        .collect();
    WrittenComplaintsReport {
        organisation_id: organisation.to_string(),
        from,
        to,
        collections,
    }
}

/// One CSV field, quoted when RFC 4180 needs it (comma, double quote, CR or LF).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// The return as CSV (RFC 4180, CRLF line ends): a header `collection,section,item,count`,
/// then per collection the summary items (section `summary`) and the breakdowns of new
/// complaints (sections `subject_area`, `service_area`, `staff_group`).
pub fn written_complaints_csv(report: &WrittenComplaintsReport) -> String {
    let mut out = String::from("collection,section,item,count\r\n");
    let mut row = |collection: &str, section: &str, item: &str, count: u64| {
        out.push_str(&format!(
            "{},{},{},{count}\r\n",
            csv_field(collection),
            csv_field(section),
            csv_field(item)
        ));
    };
    for ret in &report.collections {
        let name = ret.collection.name();
        for (item, count) in ret.summary() {
            row(name, "summary", item, count);
        }
        for (section, map) in [
            ("subject_area", &ret.by_subject_area),
            ("service_area", &ret.by_service_area),
            ("staff_group", &ret.by_staff_group),
        ] {
            for (item, count) in map {
                row(name, section, item, *count);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The consumer
// ---------------------------------------------------------------------------------------

/// The `reporting` consumer.
pub struct Reporting {
    services: ComplaintServices,
}

impl Reporting {
    /// Due dates are computed with `services`' calendar and policies; rebuild after changing them.
    pub fn new(services: ComplaintServices) -> Self {
        Self { services }
    }
}

#[async_trait]
impl Projection for Reporting {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> Vec<TableDef> {
        vec![
            state_table(STATE),
            TableDef {
                base: COMPLAINTS,
                columns: |b| {
                    let d = date_type(b);
                    format!(
                        "complaint_id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, received_on {d} NOT NULL,
                         channel TEXT NOT NULL, route TEXT NOT NULL, subject_areas TEXT NOT NULL, service_area TEXT,
                         staff_groups TEXT NOT NULL, acknowledged_on {d}, acknowledge_by {d} NOT NULL,
                         first_response_on {d}, first_outcome TEXT, first_response_due {d},
                         review_response_on {d}, review_outcome TEXT, closed_on {d}, closure_reason TEXT,
                         exclusion_category TEXT, transferred_to TEXT, calendar_version TEXT NOT NULL,
                         version BIGINT NOT NULL, last_event_at TEXT NOT NULL"
                    )
                },
                indexes: &[
                    "organisation_id, received_on",
                    "organisation_id, first_response_on",
                ],
            },
            TableDef {
                base: REFERRALS,
                columns: |b| {
                    let d = date_type(b);
                    format!(
                        "complaint_id TEXT NOT NULL, sequence BIGINT NOT NULL, organisation_id TEXT NOT NULL,
                         ombudsman TEXT NOT NULL, informed_on {d} NOT NULL, PRIMARY KEY (complaint_id, sequence)"
                    )
                },
                indexes: &["organisation_id, informed_on"],
            },
            TableDef {
                base: LEARNING,
                columns: |b| {
                    let d = date_type(b);
                    format!(
                        "complaint_id TEXT NOT NULL, sequence BIGINT NOT NULL, organisation_id TEXT NOT NULL,
                         recorded_on {d} NOT NULL, kind TEXT NOT NULL, summary TEXT NOT NULL, action_due_on {d},
                         PRIMARY KEY (complaint_id, sequence)"
                    )
                },
                indexes: &["organisation_id, recorded_on"],
            },
        ]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        generation: Generation,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let touched = fold_batch(tx, &generation.table(STATE), events).await?;
        let complaints = generation.table(COMPLAINTS);
        let upsert = format!(
            "INSERT INTO {complaints} (complaint_id, organisation_id, received_on, channel, route, subject_areas,
               service_area, staff_groups, acknowledged_on, acknowledge_by, first_response_on, first_outcome,
               first_response_due, review_response_on, review_outcome, closed_on, closure_reason,
               exclusion_category, transferred_to, calendar_version, version, last_event_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
             ON CONFLICT (complaint_id) DO UPDATE SET organisation_id = excluded.organisation_id,
               received_on = excluded.received_on, channel = excluded.channel, route = excluded.route,
               subject_areas = excluded.subject_areas, service_area = excluded.service_area,
               staff_groups = excluded.staff_groups, acknowledged_on = excluded.acknowledged_on,
               acknowledge_by = excluded.acknowledge_by, first_response_on = excluded.first_response_on,
               first_outcome = excluded.first_outcome, first_response_due = excluded.first_response_due,
               review_response_on = excluded.review_response_on, review_outcome = excluded.review_outcome,
               closed_on = excluded.closed_on, closure_reason = excluded.closure_reason,
               exclusion_category = excluded.exclusion_category, transferred_to = excluded.transferred_to,
               calendar_version = excluded.calendar_version, version = excluded.version,
               last_event_at = excluded.last_event_at"
        );
        for (id, folded) in &touched {
            let Some(f) = complaint_facts(id, folded, &self.services) else {
                continue;
            };
            let code = |o: Option<&'static str>| o.map(str::to_string);
            on_tx!(tx, |c| sqlx::query(&upsert)
                .bind(&f.complaint_id)
                .bind(&f.organisation_id)
                .bind(f.received_on)
                .bind(&f.channel)
                .bind(&f.route)
                .bind(codes_column(&f.subject_areas))
                .bind(&f.service_area)
                .bind(codes_column(&f.staff_groups))
                .bind(f.acknowledged_on)
                .bind(f.acknowledge_by)
                .bind(f.first_response_on)
                .bind(code(f.first_outcome.map(Outcome::code)))
                .bind(f.first_response_due)
                .bind(f.review_response_on)
                .bind(code(f.review_outcome.map(Outcome::code)))
                .bind(f.closed_on)
                .bind(code(f.closure_reason.map(ClosureReason::code)))
                .bind(code(f.exclusion_category.map(ExclusionCategory::code)))
                .bind(&f.transferred_to)
                .bind(&f.calendar_version)
                .bind(f.version)
                .bind(&folded.last_event_at)
                .execute(c)
                .await?
                .rows_affected());
        }

        // Keyed by (complaint, sequence): a repeated batch inserts nothing new.
        let referrals = generation.table(REFERRALS);
        let learning = generation.table(LEARNING);
        let insert_referral = format!(
            "INSERT INTO {referrals} (complaint_id, sequence, organisation_id, ombudsman, informed_on)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (complaint_id, sequence) DO NOTHING"
        );
        let insert_learning = format!(
            "INSERT INTO {learning} (complaint_id, sequence, organisation_id, recorded_on, kind, summary, action_due_on)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (complaint_id, sequence) DO NOTHING"
        );
        for event in events {
            let Some(receipt) = touched
                .get(&event.complaint_id)
                .and_then(|f| f.case.receipt.as_ref())
            else {
                continue;
            };
            if let Some(r) = referral_fact(event, &receipt.organisation_id) {
                on_tx!(tx, |c| sqlx::query(&insert_referral)
                    .bind(&r.complaint_id)
                    .bind(r.sequence)
                    .bind(&r.organisation_id)
                    .bind(r.ombudsman.code())
                    .bind(r.informed_on)
                    .execute(c)
                    .await?
                    .rows_affected());
            }
            if let Some(l) = learning_fact(event, &receipt.organisation_id) {
                on_tx!(tx, |c| sqlx::query(&insert_learning)
                    .bind(&l.complaint_id)
                    .bind(l.sequence)
                    .bind(&l.organisation_id)
                    .bind(l.recorded_on)
                    .bind(l.kind.code())
                    .bind(&l.summary)
                    .bind(l.action_due_on)
                    .execute(c)
                    .await?
                    .rows_affected());
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Loading and answering
// ---------------------------------------------------------------------------------------

/// A date column as `YYYY-MM-DD` text on either backend.
fn date_expr(backend: Backend, column: &str) -> String {
    format!("{} AS {column}", date_text(backend, column))
}

fn decode_error(what: &str, raw: &str) -> ProjectionError {
    ProjectionError::Decode {
        what: what.to_string(),
        reason: format!("unreadable value `{raw}`"),
    }
}

fn parse_date(what: &str, raw: Option<String>) -> Result<Option<NaiveDate>, ProjectionError> {
    raw.map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| decode_error(what, &s)))
        .transpose()
}

fn required_date(what: &str, raw: Option<String>) -> Result<NaiveDate, ProjectionError> {
    parse_date(what, raw)?.ok_or_else(|| decode_error(what, "NULL"))
}

fn parse_code<T>(
    what: &str,
    raw: Option<String>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, ProjectionError> {
    raw.map(|s| parse(&s).ok_or_else(|| decode_error(what, &s)))
        .transpose()
}

/// A `rm_report_complaints` row as read, before its codes and dates are parsed.
struct RawFacts {
    complaint_id: String,
    organisation_id: String,
    received_on: Option<String>,
    channel: String,
    route: String,
    subject_areas: String,
    service_area: Option<String>,
    staff_groups: String,
    acknowledged_on: Option<String>,
    acknowledge_by: Option<String>,
    first_response_on: Option<String>,
    first_outcome: Option<String>,
    first_response_due: Option<String>,
    review_response_on: Option<String>,
    review_outcome: Option<String>,
    closed_on: Option<String>,
    closure_reason: Option<String>,
    exclusion_category: Option<String>,
    transferred_to: Option<String>,
    calendar_version: String,
    version: i64,
}

impl RawFacts {
    fn parse(self) -> Result<ComplaintFacts, ProjectionError> {
        Ok(ComplaintFacts {
            received_on: required_date("received_on", self.received_on)?,
            acknowledged_on: parse_date("acknowledged_on", self.acknowledged_on)?,
            acknowledge_by: required_date("acknowledge_by", self.acknowledge_by)?,
            first_response_on: parse_date("first_response_on", self.first_response_on)?,
            first_outcome: parse_code("first_outcome", self.first_outcome, Outcome::parse)?,
            first_response_due: parse_date("first_response_due", self.first_response_due)?,
            review_response_on: parse_date("review_response_on", self.review_response_on)?,
            review_outcome: parse_code("review_outcome", self.review_outcome, Outcome::parse)?,
            closed_on: parse_date("closed_on", self.closed_on)?,
            closure_reason: parse_code(
                "closure_reason",
                self.closure_reason,
                ClosureReason::parse,
            )?,
            exclusion_category: parse_code(
                "exclusion_category",
                self.exclusion_category,
                ExclusionCategory::parse,
            )?,
            subject_areas: parse_codes(&self.subject_areas),
            staff_groups: parse_codes(&self.staff_groups),
            complaint_id: self.complaint_id,
            organisation_id: self.organisation_id,
            channel: self.channel,
            route: self.route,
            service_area: self.service_area,
            transferred_to: self.transferred_to,
            calendar_version: self.calendar_version,
            version: self.version,
        })
    }
}

/// The facts rows of `organisation` matching `condition`, whose placeholders start at `$2`
/// and take `dates` in order.
async fn load_facts(
    pool: &Pool,
    organisation: &str,
    condition: &str,
    dates: &[NaiveDate],
) -> Result<Vec<ComplaintFacts>, ProjectionError> {
    let b = pool.backend();
    let sql = format!(
        "SELECT complaint_id, organisation_id, {}, channel, route, subject_areas, service_area, staff_groups,
           {}, {}, {}, first_outcome, {}, {}, review_outcome, {}, closure_reason, exclusion_category,
           transferred_to, calendar_version, version
         FROM {COMPLAINTS} WHERE organisation_id = $1 AND ({condition})
         ORDER BY received_on, complaint_id",
        date_expr(b, "received_on"),
        date_expr(b, "acknowledged_on"),
        date_expr(b, "acknowledge_by"),
        date_expr(b, "first_response_on"),
        date_expr(b, "first_response_due"),
        date_expr(b, "review_response_on"),
        date_expr(b, "closed_on"),
    );
    let raw = on_pool!(pool, |p| {
        let mut query = sqlx::query(&sql).bind(organisation);
        for day in dates {
            query = query.bind(*day);
        }
        query
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| {
                Ok::<_, sqlx::Error>(RawFacts {
                    complaint_id: r.try_get("complaint_id")?,
                    organisation_id: r.try_get("organisation_id")?,
                    received_on: r.try_get("received_on")?,
                    channel: r.try_get("channel")?,
                    route: r.try_get("route")?,
                    subject_areas: r.try_get("subject_areas")?,
                    service_area: r.try_get("service_area")?,
                    staff_groups: r.try_get("staff_groups")?,
                    acknowledged_on: r.try_get("acknowledged_on")?,
                    acknowledge_by: r.try_get("acknowledge_by")?,
                    first_response_on: r.try_get("first_response_on")?,
                    first_outcome: r.try_get("first_outcome")?,
                    first_response_due: r.try_get("first_response_due")?,
                    review_response_on: r.try_get("review_response_on")?,
                    review_outcome: r.try_get("review_outcome")?,
                    closed_on: r.try_get("closed_on")?,
                    closure_reason: r.try_get("closure_reason")?,
                    exclusion_category: r.try_get("exclusion_category")?,
                    transferred_to: r.try_get("transferred_to")?,
                    calendar_version: r.try_get("calendar_version")?,
                    version: r.try_get("version")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    });
    raw.into_iter().map(RawFacts::parse).collect()
}

async fn load_referrals(
    pool: &Pool,
    organisation: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ReferralFact>, ProjectionError> {
    let sql = format!(
        "SELECT complaint_id, sequence, organisation_id, ombudsman, {} FROM {REFERRALS}
         WHERE organisation_id = $1 AND informed_on >= $2 AND informed_on <= $3
         ORDER BY informed_on, complaint_id, sequence",
        date_expr(pool.backend(), "informed_on")
    );
    let raw = on_pool!(pool, |p| sqlx::query(&sql)
        .bind(organisation)
        .bind(from)
        .bind(to)
        .fetch_all(p)
        .await?
        .into_iter()
        .map(|r| {
            Ok::<_, sqlx::Error>((
                r.try_get::<String, _>("complaint_id")?,
                r.try_get::<i64, _>("sequence")?,
                r.try_get::<String, _>("organisation_id")?,
                r.try_get::<String, _>("ombudsman")?,
                r.try_get::<Option<String>, _>("informed_on")?,
            ))
        })
        .collect::<Result<Vec<_>, _>>()?);
    raw.into_iter()
        .map(
            |(complaint_id, sequence, organisation_id, ombudsman, informed_on)| {
                Ok(ReferralFact {
                    ombudsman: Ombudsman::parse(&ombudsman)
                        .ok_or_else(|| decode_error("ombudsman", &ombudsman))?,
                    informed_on: required_date("informed_on", informed_on)?,
                    complaint_id,
                    sequence,
                    organisation_id,
                })
            },
        )
        .collect()
}

async fn load_learning(
    pool: &Pool,
    organisation: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<LearningFact>, ProjectionError> {
    let b = pool.backend();
    let sql = format!(
        "SELECT complaint_id, sequence, organisation_id, {}, kind, summary, {} FROM {LEARNING}
         WHERE organisation_id = $1 AND recorded_on >= $2 AND recorded_on <= $3
         ORDER BY recorded_on, complaint_id, sequence",
        date_expr(b, "recorded_on"),
        date_expr(b, "action_due_on"),
    );
    let raw = on_pool!(pool, |p| sqlx::query(&sql)
        .bind(organisation)
        .bind(from)
        .bind(to)
        .fetch_all(p)
        .await?
        .into_iter()
        .map(|r| {
            Ok::<_, sqlx::Error>((
                r.try_get::<String, _>("complaint_id")?,
                r.try_get::<i64, _>("sequence")?,
                r.try_get::<String, _>("organisation_id")?,
                r.try_get::<Option<String>, _>("recorded_on")?,
                r.try_get::<String, _>("kind")?,
                r.try_get::<String, _>("summary")?,
                r.try_get::<Option<String>, _>("action_due_on")?,
            ))
        })
        .collect::<Result<Vec<_>, _>>()?);
    raw.into_iter()
        .map(
            |(
                complaint_id,
                sequence,
                organisation_id,
                recorded_on,
                kind,
                summary,
                action_due_on,
            )| {
                Ok(LearningFact {
                    recorded_on: required_date("recorded_on", recorded_on)?,
                    kind: LearningKind::parse(&kind)
                        .ok_or_else(|| decode_error("learning kind", &kind))?,
                    action_due_on: parse_date("action_due_on", action_due_on)?,
                    complaint_id,
                    sequence,
                    organisation_id,
                    summary,
                })
            },
        )
        .collect()
}

/// The earliest and latest financial years a report may be asked for.
pub const REPORT_YEARS: std::ops::RangeInclusive<i32> = 2009..=9998;

/// The annual report of `organisation` for financial `year` (2025 = 2025-26), counted from
/// the current facts of the `reporting` read model.
pub async fn annual_report_for(
    pool: &Pool,
    organisation: &str,
    year: i32,
) -> Result<AnnualReport, ProjectionError> {
    let period = financial_year(year).filter(|_| REPORT_YEARS.contains(&year));
    let Some((from, to)) = period else {
        return Err(ProjectionError::InvalidQuery(format!(
            "year must be between {} and {}",
            REPORT_YEARS.start(),
            REPORT_YEARS.end()
        )));
    };
    let facts = load_facts(
        pool,
        organisation,
        "(received_on >= $2 AND received_on <= $3) OR (acknowledged_on >= $4 AND acknowledged_on <= $5)
         OR (first_response_on >= $6 AND first_response_on <= $7)
         OR (review_response_on >= $8 AND review_response_on <= $9)",
        &[from, to, from, to, from, to, from, to],
    )
    .await?;
    let referrals = load_referrals(pool, organisation, from, to).await?;
    let learning = load_learning(pool, organisation, from, to).await?;
    Ok(annual_report(
        organisation,
        year,
        &facts,
        &referrals,
        &learning,
    ))
}

/// The written complaints return (KO41a/KO41b) of `organisation` for the days `from..=to`
/// (use [`financial_year`] for the usual year), counted from the current facts of the
/// `reporting` read model.
pub async fn written_complaints_for(
    pool: &Pool,
    organisation: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<WrittenComplaintsReport, ProjectionError> {
    if from > to {
        return Err(ProjectionError::InvalidQuery(
            "`from` must not be after `to`".into(),
        ));
    }
    // Rows finished before the period (answered, or closed without an answer) count nowhere.
    let facts = load_facts(
        pool,
        organisation,
        "received_on <= $2 AND (first_response_on >= $3 OR (first_response_on IS NULL
           AND (closed_on IS NULL OR closed_on >= $4)))",
        &[to, from, from],
    )
    .await?;
    Ok(written_complaints(organisation, from, to, &facts))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use complaints_domain::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn ack_by(received: &str) -> NaiveDate {
        policy::acknowledge_by(d(received), &Calendar::shipped())
    }

    /// A complaint received by `RAL` by email about communications, otherwise bare.
    fn fact(id: &str, received: &str) -> ComplaintFacts {
        ComplaintFacts {
            complaint_id: id.into(),
            organisation_id: "RAL".into(),
            received_on: d(received),
            channel: "email".into(),
            route: "provider".into(),
            subject_areas: vec!["communications".into()],
            service_area: None,
            staff_groups: vec![],
            acknowledged_on: None,
            acknowledge_by: ack_by(received),
            first_response_on: None,
            first_outcome: None,
            first_response_due: None,
            review_response_on: None,
            review_outcome: None,
            closed_on: None,
            closure_reason: None,
            exclusion_category: None,
            transferred_to: None,
            calendar_version: "test".into(),
            version: 1,
        }
    }

    fn responded(mut f: ComplaintFacts, on: &str, outcome: Outcome, due: &str) -> ComplaintFacts {
        f.first_response_on = Some(d(on));
        f.first_outcome = Some(outcome);
        f.first_response_due = Some(d(due));
        f
    }

    fn reviewed(mut f: ComplaintFacts, on: &str, outcome: Outcome) -> ComplaintFacts {
        f.review_response_on = Some(d(on));
        f.review_outcome = Some(outcome);
        f
    }

    fn acknowledged(mut f: ComplaintFacts, on: &str) -> ComplaintFacts {
        f.acknowledged_on = Some(d(on));
        f
    }

    fn closed(
        mut f: ComplaintFacts,
        on: &str,
        reason: ClosureReason,
        category: Option<ExclusionCategory>,
    ) -> ComplaintFacts {
        f.closed_on = Some(d(on));
        f.closure_reason = Some(reason);
        f.exclusion_category = category;
        f
    }

    fn with(mut f: ComplaintFacts, channel: &str, subjects: &[&str]) -> ComplaintFacts {
        f.channel = channel.into();
        f.subject_areas = subjects.iter().map(|s| s.to_string()).collect();
        f
    }

    fn referral(id: &str, sequence: i64, ombudsman: Ombudsman, on: &str) -> ReferralFact {
        ReferralFact {
            complaint_id: id.into(),
            sequence,
            organisation_id: "RAL".into(),
            ombudsman,
            informed_on: d(on),
        }
    }

    fn lesson(
        id: &str,
        sequence: i64,
        kind: LearningKind,
        on: &str,
        summary: &str,
    ) -> LearningFact {
        LearningFact {
            complaint_id: id.into(),
            sequence,
            organisation_id: "RAL".into(),
            recorded_on: d(on),
            kind,
            summary: summary.into(),
            action_due_on: None,
        }
    }

    #[test]
    fn financial_years_run_from_april_to_march() {
        assert_eq!(
            financial_year(2025),
            Some((d("2025-04-01"), d("2026-03-31")))
        );
        assert_eq!(financial_year_of(d("2025-03-31")), 2024);
        assert_eq!(financial_year_of(d("2025-04-01")), 2025);
        assert_eq!(annual_report("RAL", 2099, &[], &[], &[]).label, "2099-00");
    }

    #[test]
    fn the_worked_example_of_r_ar_3_counts_each_figure_in_the_year_of_its_fact() {
        let facts = vec![
            responded(
                fact("a", "2025-03-31"),
                "2025-05-02",
                Outcome::Upheld,
                "2025-05-06",
            ),
            responded(
                fact("b", "2025-04-01"),
                "2025-06-20",
                Outcome::NotUpheld,
                "2025-05-07",
            ),
        ];
        let referrals = vec![referral("b", 6, Ombudsman::Phso, "2026-04-03")];

        let y2024 = annual_report("RAL", 2024, &facts, &referrals, &[]);
        assert_eq!(y2024.received, 1);
        assert_eq!(y2024.well_founded, 0);
        assert_eq!(y2024.by_outcome.total(), 0);

        let y2025 = annual_report("RAL", 2025, &facts, &referrals, &[]);
        assert_eq!(y2025.label, "2025-26");
        assert_eq!(y2025.received, 1);
        assert_eq!(y2025.well_founded, 1);
        assert_eq!(
            y2025.by_outcome,
            OutcomeCounts {
                upheld: 1,
                partially_upheld: 0,
                not_upheld: 1
            }
        );
        assert_eq!(y2025.referred_to_ombudsman, OmbudsmanCounts::default());

        let y2026 = annual_report("RAL", 2026, &facts, &referrals, &[]);
        assert_eq!(y2026.received, 0);
        assert_eq!(
            y2026.referred_to_ombudsman,
            OmbudsmanCounts { phso: 1, lgsco: 0 }
        );
    }

    /// The seeded year of `a_mixed_year_counts_as_computed_by_hand`; comments give each
    /// complaint's part in 2025-26.
    fn mixed_year() -> (Vec<ComplaintFacts>, Vec<ReferralFact>, Vec<LearningFact>) {
        use ClosureReason as C;
        use Outcome::*;
        let facts = vec![
            // received; ack met (due 15 Apr); upheld 20 May, in time.
            responded(
                acknowledged(
                    with(
                        fact("a", "2025-04-10"),
                        "letter",
                        &["communications", "waiting_times"],
                    ),
                    "2025-04-11",
                ),
                "2025-05-20",
                Upheld,
                "2025-05-30",
            ),
            // received; ack late (due 24 Apr, Easter); not upheld late; review partially
            // upheld 1 Aug: outcome changed on review.
            reviewed(
                responded(
                    acknowledged(
                        with(fact("b", "2025-04-17"), "email", &["clinical_treatment"]),
                        "2025-04-25",
                    ),
                    "2025-06-10",
                    NotUpheld,
                    "2025-06-05",
                ),
                "2025-08-01",
                PartiallyUpheld,
            ),
            // oral, resolved next working day: counted only as such.
            closed(
                with(fact("c", "2025-06-02"), "oral_phone", &["appointments"]),
                "2025-06-03",
                C::Excluded,
                Some(ExclusionCategory::OralResolvedNextWorkingDay),
            ),
            // excluded (already investigated): counted only as excluded, its ack ignored.
            closed(
                acknowledged(
                    with(fact("d", "2025-07-01"), "web_form", &["communications"]),
                    "2025-07-02",
                ),
                "2025-07-05",
                C::Excluded,
                Some(ExclusionCategory::AlreadyInvestigated),
            ),
            // received; ack met; partially upheld in time; review agrees: no change.
            reviewed(
                responded(
                    acknowledged(
                        with(
                            fact("e", "2025-09-15"),
                            "email",
                            &["clinical_treatment", "communications"],
                        ),
                        "2025-09-16",
                    ),
                    "2025-11-03",
                    PartiallyUpheld,
                    "2025-11-10",
                ),
                "2026-01-20",
                PartiallyUpheld,
            ),
            // received late in the year, ack met, no response yet.
            acknowledged(
                with(
                    fact("f", "2026-03-20"),
                    "letter",
                    &["values_and_behaviours"],
                ),
                "2026-03-23",
            ),
            // received the year before (and acknowledged then); upheld 22 Apr 2025 in time.
            responded(
                acknowledged(fact("g", "2025-03-25"), "2025-03-27"),
                "2025-04-22",
                Upheld,
                "2025-04-29",
            ),
            // received, ack met, withdrawn.
            closed(
                acknowledged(
                    with(fact("h", "2025-10-01"), "oral_in_person", &["other"]),
                    "2025-10-02",
                ),
                "2025-10-05",
                C::Withdrawn,
                None,
            ),
            // received and transferred out.
            closed(fact("i", "2025-11-11"), "2025-11-12", C::Transferred, None),
            // received, ack met, not upheld 15 Jan in time; review upheld in 2026-27.
            reviewed(
                responded(
                    acknowledged(
                        with(fact("k", "2025-12-01"), "web_form", &["communications"]),
                        "2025-12-03",
                    ),
                    "2026-01-15",
                    NotUpheld,
                    "2026-01-16",
                ),
                "2026-04-15",
                Upheld,
            ),
            // another organisation's.
            ComplaintFacts {
                organisation_id: "RXX".into(),
                ..responded(fact("j", "2025-05-01"), "2025-06-01", Upheld, "2025-06-30")
            },
        ];
        let referrals = vec![
            referral("b", 9, Ombudsman::Phso, "2025-09-01"),
            referral("b", 10, Ombudsman::Lgsco, "2025-10-01"),
            referral("g", 5, Ombudsman::Phso, "2025-05-01"),
            referral("g", 8, Ombudsman::Phso, "2025-12-01"),
            referral("e", 9, Ombudsman::Phso, "2026-04-02"),
            ReferralFact {
                organisation_id: "RXX".into(),
                ..referral("j", 4, Ombudsman::Phso, "2025-07-01")
            },
        ];
        let learning = vec![
            lesson(
                "a",
                5,
                LearningKind::Lesson,
                "2025-06-01",
                "Explain waiting lists at referral",
            ),
            lesson(
                "b",
                11,
                LearningKind::Action,
                "2026-03-31",
                "Discharge checklist revised",
            ),
            lesson(
                "b",
                12,
                LearningKind::Lesson,
                "2026-04-01",
                "Next year's lesson",
            ),
            lesson(
                "g",
                4,
                LearningKind::Action,
                "2025-03-31",
                "Last year's action",
            ),
        ];
        (facts, referrals, learning)
    }

    #[test]
    fn a_mixed_year_counts_as_computed_by_hand() {
        let (facts, referrals, learning) = mixed_year();
        assert_eq!(facts[1].acknowledge_by, d("2025-04-24"));
        let r = annual_report("RAL", 2025, &facts, &referrals, &learning);

        assert_eq!(r.received, 7, "a b e f h i k");
        assert_eq!(r.excluded.total, 1);
        assert_eq!(
            r.excluded.by_category,
            BTreeMap::from([("already_investigated".to_string(), 1)])
        );
        assert_eq!(r.oral_resolved_next_working_day, 1);
        assert_eq!(r.transferred_out, 1);
        assert_eq!(
            r.by_channel,
            BTreeMap::from([
                ("email".to_string(), 3),
                ("letter".to_string(), 2),
                ("oral_in_person".to_string(), 1),
                ("web_form".to_string(), 1),
            ])
        );
        assert_eq!(
            r.by_subject_area,
            BTreeMap::from([
                ("clinical_treatment".to_string(), 2),
                ("communications".to_string(), 4),
                ("other".to_string(), 1),
                ("values_and_behaviours".to_string(), 1),
                ("waiting_times".to_string(), 1),
            ])
        );
        assert_eq!(
            r.by_outcome,
            OutcomeCounts {
                upheld: 2,
                partially_upheld: 1,
                not_upheld: 2
            },
            "g a | e | b k"
        );
        assert_eq!(r.well_founded, 3);
        assert_eq!(r.reviews_responded, 2, "b e");
        assert_eq!(r.outcome_changed_on_review, 1, "b");
        assert_eq!(
            r.referred_to_ombudsman,
            OmbudsmanCounts { phso: 2, lgsco: 1 }
        );
        assert_eq!(
            (
                r.acknowledged_within_3_working_days.met,
                r.acknowledged_within_3_working_days.total
            ),
            (5, 6),
            "a e f h k met, b late"
        );
        assert_eq!(
            (
                r.responded_within_agreed_period.met,
                r.responded_within_agreed_period.total
            ),
            (4, 5)
        );
        assert_eq!(r.responded_within_agreed_period.share, Some(0.8));
        assert_eq!(r.learning.lessons.len(), 1);
        assert_eq!(
            r.learning.lessons[0].summary,
            "Explain waiting lists at referral"
        );
        assert_eq!(r.learning.actions.len(), 1);
        assert_eq!(r.learning.actions[0].recorded_on, d("2026-03-31"));

        let next = annual_report("RAL", 2026, &facts, &referrals, &learning);
        assert_eq!(next.outcome_changed_on_review, 1, "k's review");
        assert_eq!(next.referred_to_ombudsman.phso, 1, "e");
        assert_eq!(next.received, 0);
        assert_eq!(next.acknowledged_within_3_working_days.share, None);
    }

    #[test]
    fn the_annual_report_serialises_with_snake_case_fields() {
        let (facts, referrals, learning) = mixed_year();
        let json = serde_json::to_value(annual_report("RAL", 2025, &facts, &referrals, &learning))
            .unwrap();
        assert_eq!(json["acknowledged_within_3_working_days"]["total"], 6);
        assert_eq!(json["by_outcome"]["partially_upheld"], 1);
        assert_eq!(json["period_start"], "2025-04-01");
        assert_eq!(json["referred_to_ombudsman"]["phso"], 2);
    }

    /// The seeded return of `the_written_complaints_return_reconciles`.
    fn ko41_facts() -> Vec<ComplaintFacts> {
        use ClosureReason as C;
        use Outcome::*;
        let area =
            |mut f: ComplaintFacts, service: Option<&str>, subjects: &[&str], staff: &[&str]| {
                f.service_area = service.map(str::to_string);
                f.subject_areas = subjects.iter().map(|s| s.to_string()).collect();
                f.staff_groups = staff.iter().map(|s| s.to_string()).collect();
                f
            };
        vec![
            // KO41a, brought forward and resolved upheld.
            responded(fact("p1", "2024-12-01"), "2025-05-01", Upheld, "2025-01-10"),
            // answered before the period: nowhere.
            responded(
                fact("p2", "2025-01-10"),
                "2025-03-01",
                NotUpheld,
                "2025-02-14",
            ),
            // brought forward and still open: carried.
            fact("p3", "2025-02-01"),
            // withdrawn before the period: nowhere.
            closed(fact("p4", "2025-02-15"), "2025-03-10", C::Withdrawn, None),
            // brought forward, closed for want of consent in the period.
            closed(
                fact("p5", "2025-03-01"),
                "2025-06-01",
                C::ConsentNotReceived,
                None,
            ),
            // new, partially upheld.
            responded(
                area(
                    fact("n1", "2025-04-05"),
                    Some("inpatient"),
                    &["communications", "clinical_treatment"],
                    &["medical", "nursing_midwifery_health_visiting"],
                ),
                "2025-07-01",
                PartiallyUpheld,
                "2025-05-12",
            ),
            // new, no service area or staff group, open.
            area(fact("n2", "2025-05-05"), None, &["communications"], &[]),
            // new, answered after the period: carried.
            responded(
                area(
                    fact("n3", "2025-06-06"),
                    Some("accident_and_emergency"),
                    &["waiting_times"],
                    &["medical"],
                ),
                "2026-04-10",
                NotUpheld,
                "2025-07-11",
            ),
            // new, not upheld; the review's upheld outcome does not count again.
            reviewed(
                responded(
                    area(
                        fact("n4", "2025-07-07"),
                        Some("outpatient"),
                        &["appointments"],
                        &["trust_administration"],
                    ),
                    "2025-08-08",
                    NotUpheld,
                    "2025-08-11",
                ),
                "2025-10-10",
                Upheld,
            ),
            // excluded, transferred out: not counted at all.
            closed(
                fact("x1", "2025-05-01"),
                "2025-05-03",
                C::Excluded,
                Some(ExclusionCategory::AlreadyInvestigated),
            ),
            closed(
                with(fact("x2", "2025-05-02"), "oral_phone", &["appointments"]),
                "2025-05-06",
                C::Excluded,
                Some(ExclusionCategory::OralResolvedNextWorkingDay),
            ),
            closed(fact("t1", "2025-06-01"), "2025-06-02", C::Transferred, None),
            // KO41b: brought forward and open; new upheld; new withdrawn.
            area(
                fact("b2", "2025-02-02"),
                Some("general_practice"),
                &["clinical_treatment"],
                &["medical"],
            ),
            responded(
                area(
                    fact("n5", "2025-08-08"),
                    Some("general_practice"),
                    &["clinical_treatment"],
                    &["medical"],
                ),
                "2025-09-09",
                Upheld,
                "2025-09-12",
            ),
            closed(
                area(
                    fact("n6", "2025-09-09"),
                    Some("dental"),
                    &["appointments"],
                    &[],
                ),
                "2025-09-20",
                C::Withdrawn,
                None,
            ),
        ]
    }

    /// Open at the end of `to`, counted directly.
    fn open_at(facts: &[ComplaintFacts], collection: Collection, to: NaiveDate) -> u64 {
        facts
            .iter()
            .filter(|f| f.organisation_id == "RAL" && !f.is_excluded() && !f.is_transferred_out())
            .filter(|f| f.collection() == collection && f.received_on <= to)
            .filter(|f| f.finished_on().is_none_or(|e| e > to))
            .count() as u64
    }

    #[test]
    fn the_written_complaints_return_reconciles() {
        let facts = ko41_facts();
        let (from, to) = financial_year(2025).unwrap();
        let report = written_complaints("RAL", from, to, &facts);
        assert_eq!(report.collections.len(), 2);
        let a = &report.collections[0];
        assert_eq!(a.collection, Collection::Ko41a);
        assert_eq!(a.brought_forward, 3, "p1 p3 p5");
        assert_eq!(a.new, 4, "n1 n2 n3 n4");
        assert_eq!(
            (
                a.resolved_upheld,
                a.resolved_partially_upheld,
                a.resolved_not_upheld
            ),
            (1, 1, 1)
        );
        assert_eq!(a.resolved, 3);
        assert_eq!(a.closed_without_outcome, 1, "p5");
        assert_eq!(a.carried_forward, 3, "p3 n2 n3");
        assert_eq!(
            a.carried_forward,
            a.brought_forward + a.new - a.resolved - a.closed_without_outcome
        );
        assert_eq!(a.carried_forward, open_at(&facts, Collection::Ko41a, to));

        assert_eq!(a.by_service_area.values().sum::<u64>(), a.new);
        assert_eq!(a.by_service_area["not_recorded"], 1);
        assert_eq!(a.by_service_area["inpatient"], 1);
        assert!(!a.by_service_area.contains_key("general_practice"));
        assert_eq!(a.by_subject_area.values().sum::<u64>(), 5);
        assert_eq!(a.by_subject_area["communications"], 2);
        assert_eq!(a.by_subject_area["restraint"], 0);
        assert_eq!(a.by_staff_group.values().sum::<u64>(), 5);
        assert_eq!(a.by_staff_group["medical"], 2);
        assert_eq!(a.by_staff_group["not_recorded"], 1);

        let b = &report.collections[1];
        assert_eq!(b.collection, Collection::Ko41b);
        assert_eq!(
            (
                b.brought_forward,
                b.new,
                b.resolved_upheld,
                b.resolved,
                b.closed_without_outcome
            ),
            (1, 2, 1, 1, 1)
        );
        assert_eq!(b.carried_forward, 1, "b2");
        assert_eq!(b.by_service_area.values().sum::<u64>(), b.new);
        assert_eq!(b.by_service_area["general_practice"], 1);
        assert_eq!(b.by_service_area["dental"], 1);
        assert!(b.by_staff_group.values().sum::<u64>() >= b.new);
    }

    #[test]
    fn each_period_carries_forward_what_the_next_brings_forward() {
        let facts = ko41_facts();
        let periods = [
            (d("2024-04-01"), d("2025-03-31")),
            (d("2025-04-01"), d("2025-06-30")),
            (d("2025-07-01"), d("2025-12-31")),
            (d("2026-01-01"), d("2026-03-31")),
            (d("2026-04-01"), d("2027-03-31")),
        ];
        for collection in [Collection::Ko41a, Collection::Ko41b] {
            let mut carried = 0;
            for (from, to) in periods {
                let report = written_complaints("RAL", from, to, &facts);
                let ret = report
                    .collections
                    .iter()
                    .find(|r| r.collection == collection)
                    .cloned()
                    .unwrap_or_else(|| CollectionReturn::empty(collection));
                assert_eq!(ret.brought_forward, carried, "{collection:?} {from}");
                assert_eq!(
                    ret.carried_forward,
                    open_at(&facts, collection, to),
                    "{collection:?} {to}"
                );
                assert_eq!(ret.by_service_area.values().sum::<u64>(), ret.new);
                assert!(ret.by_subject_area.values().sum::<u64>() >= ret.new);
                assert!(ret.by_staff_group.values().sum::<u64>() >= ret.new);
                carried = ret.carried_forward;
            }
        }
    }

    #[test]
    fn an_organisation_without_complaints_in_play_has_no_sections() {
        let (from, to) = financial_year(2025).unwrap();
        assert!(written_complaints("NONE", from, to, &ko41_facts())
            .collections
            .is_empty());
    }

    #[test]
    fn the_return_as_csv_has_a_header_and_one_row_per_item() {
        let (from, to) = financial_year(2025).unwrap();
        let report = written_complaints("RAL", from, to, &ko41_facts());
        let csv = written_complaints_csv(&report);
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines[0], "collection,section,item,count");
        assert_eq!(lines[1], "KO41a,summary,brought_forward,3");
        assert!(lines.contains(&"KO41a,summary,carried_forward,3"));
        assert!(lines.contains(&"KO41b,service_area,dental,1"));
        let items: usize = report
            .collections
            .iter()
            .map(|r| 8 + r.by_subject_area.len() + r.by_service_area.len() + r.by_staff_group.len())
            .sum();
        assert_eq!(lines.len(), 1 + items);
        assert!(csv.ends_with("\r\n"));
    }

    #[test]
    fn csv_fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn the_primary_care_service_areas_go_to_ko41b() {
        assert_eq!(
            Collection::for_service_area(Some("general_practice")),
            Collection::Ko41b
        );
        assert_eq!(
            Collection::for_service_area(Some("dental")),
            Collection::Ko41b
        );
        assert_eq!(
            Collection::for_service_area(Some("maternity")),
            Collection::Ko41a
        );
        assert_eq!(Collection::for_service_area(None), Collection::Ko41a);
        assert_eq!(serde_json::to_value(Collection::Ko41b).unwrap(), "KO41b");
    }

    // --- facts from events ---------------------------------------------------------------

    fn received_event(on: &str, channel: Channel) -> ComplaintEvent {
        ComplaintEvent::ComplaintReceived {
            organisation_id: "RAL".into(),
            received_on: d(on),
            channel,
            route: Route::Provider,
            representation_basis: None,
            consent_required: false,
            subject_areas: vec![SubjectArea::Communications, SubjectArea::WaitingTimes],
            service_area: Some(ServiceArea::Outpatient),
            staff_groups: vec![StaffGroup::Medical],
            matter_occurred_on: None,
            matter_came_to_notice_on: None,
            source: None,
            particulars: Confidential(ComplaintParticulars::default()),
        }
    }

    fn response_event(on: &str, stage: u8, outcome: Outcome) -> ComplaintEvent {
        ComplaintEvent::ResponseSent {
            sent_on: d(on),
            stage,
            outcome,
            signed_by: "chief-exec".into(),
            signed_as: SignedAs::ResponsiblePerson,
            ombudsman_rights: vec![Ombudsman::Phso],
            letter: Confidential(ResponseLetter::default()),
        }
    }

    fn folded(events: Vec<ComplaintEvent>) -> FoldedCase {
        let mut f = FoldedCase::default();
        for e in events {
            evolve(&mut f.case, e);
            f.version += 1;
        }
        f.last_event_at = "2026-04-02T10:00:00Z".into();
        f
    }

    #[test]
    fn the_stage_one_due_date_survives_escalation_and_counts_stage_one_clock_stops() {
        let services = ComplaintServices::standard();
        let events = vec![
            received_event("2025-04-17", Channel::Letter),
            ComplaintEvent::ResponsePlanAgreed {
                agreed_on: d("2025-04-22"),
                response_due_on: d("2025-05-30"),
                discussion_outcome: None,
            },
            // Stopped Mon 2 Jun, restarted Mon 9 Jun: five working days.
            ComplaintEvent::ClockStopped {
                stopped_on: d("2025-06-02"),
                reason: Confidential("awaiting records".into()),
            },
            ComplaintEvent::ClockRestarted {
                restarted_on: d("2025-06-09"),
            },
            response_event("2025-06-09", 1, Outcome::NotUpheld),
            ComplaintEvent::ComplaintEscalated {
                escalated_on: d("2025-06-20"),
                reason: Confidential("unhappy".into()),
            },
            ComplaintEvent::ResponsePlanAgreed {
                agreed_on: d("2025-06-23"),
                response_due_on: d("2025-08-01"),
                discussion_outcome: None,
            },
            response_event("2025-07-30", 2, Outcome::Upheld),
        ];
        let f = complaint_facts("c1", &folded(events), &services).unwrap();
        assert_eq!(f.acknowledge_by, d("2025-04-24"));
        assert_eq!(
            f.first_response_due,
            Some(d("2025-06-06")),
            "30 May plus five working days"
        );
        assert_eq!(f.within_response_period(), Some(false));
        assert_eq!(
            (f.first_response_on, f.first_outcome),
            (Some(d("2025-06-09")), Some(Outcome::NotUpheld))
        );
        assert_eq!(
            (f.review_response_on, f.review_outcome),
            (Some(d("2025-07-30")), Some(Outcome::Upheld))
        );
        assert_eq!(f.subject_areas, vec!["communications", "waiting_times"]);
        assert_eq!(f.service_area.as_deref(), Some("outpatient"));
        assert_eq!(f.version, 8);
    }

    #[test]
    fn without_a_plan_the_default_period_applies_and_a_closure_is_recorded() {
        let services = ComplaintServices::standard();
        let events = vec![
            received_event("2026-06-02", Channel::OralPhone),
            ComplaintEvent::ComplaintClosed {
                closed_on: d("2026-06-03"),
                reason: ClosureReason::Excluded,
                exclusion_category: Some(ExclusionCategory::OralResolvedNextWorkingDay),
                transferred_to: None,
            },
        ];
        let f = complaint_facts("c2", &folded(events), &services).unwrap();
        assert_eq!(
            f.first_response_due,
            Some(services.calendar.add_working_days(d("2026-06-02"), 25))
        );
        assert!(f.is_excluded());
        assert_eq!(
            f.exclusion_category,
            Some(ExclusionCategory::OralResolvedNextWorkingDay)
        );
        assert_eq!(f.channel, "oral_phone");
        assert!(complaint_facts("c3", &FoldedCase::default(), &services).is_none());
    }

    // --- through the runner, on SQLite and on PostgreSQL ---------------------------------

    mod through_the_runner {
        use super::*;
        use crate::{read_after, rebuild, Checkpoint, Runner};
        use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
        use sqlx::sqlite::SqlitePoolOptions;
        use std::str::FromStr;
        use std::sync::Arc;

        const SQLITE_EVENT_LOG: &str =
            include_str!("../../../gateway/migrations/sqlite/0001_event_log.sql");
        const POSTGRES_EVENT_LOG: &str =
            include_str!("../../../gateway/migrations/postgres/0001_event_log.sql");

        async fn append(pool: &Pool, id: &str, events: Vec<ComplaintEvent>) {
            let sql = match pool.backend() {
                Backend::Sqlite => "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                     VALUES ('Complaint', $1, $2, $3, '1.0', $4, '{}')",
                Backend::Postgres => "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                     VALUES ('Complaint', $1, $2, $3, '1.0', $4::json, '{}'::json)",
            };
            let next: i64 = on_pool!(pool, |p| sqlx::query_scalar::<_, i64>(
                "SELECT COALESCE(MAX(sequence), 0) + 1 FROM events WHERE aggregate_id = $1"
            )
            .bind(id)
            .fetch_one(p)
            .await
            .unwrap());
            for (i, event) in events.into_iter().enumerate() {
                let payload = serde_json::to_string(&event).unwrap();
                on_pool!(pool, |p| sqlx::query(sql)
                    .bind(id)
                    .bind(next + i as i64)
                    .bind(event.name())
                    .bind(&payload)
                    .execute(p)
                    .await
                    .unwrap()
                    .rows_affected());
            }
        }

        async fn count(pool: &Pool, table: &str) -> i64 {
            let sql = format!("SELECT count(*) FROM {table}");
            on_pool!(pool, |p| sqlx::query_scalar::<_, i64>(&sql)
                .fetch_one(p)
                .await
                .unwrap())
        }

        /// R-AR-3's worked example, as events, through the runner on `pool`.
        async fn worked_example(pool: Pool) {
            append(
                &pool,
                "c1",
                vec![
                    received_event("2025-03-31", Channel::Email),
                    response_event("2025-05-02", 1, Outcome::Upheld),
                ],
            )
            .await;
            append(
                &pool,
                "c2",
                vec![
                    received_event("2025-04-01", Channel::Letter),
                    ComplaintEvent::ComplaintAcknowledged {
                        acknowledged_on: d("2025-04-02"),
                        late: false,
                        discussion_offered: true,
                    },
                    response_event("2025-06-20", 1, Outcome::NotUpheld),
                    ComplaintEvent::ComplaintClosed {
                        closed_on: d("2025-06-21"),
                        reason: ClosureReason::Resolved,
                        exclusion_category: None,
                        transferred_to: None,
                    },
                    ComplaintEvent::LearningRecorded {
                        recorded_on: d("2025-07-01"),
                        kind: LearningKind::Lesson,
                        summary: "Say why a referral was declined".into(),
                        action_due_on: None,
                    },
                ],
            )
            .await;
            let reporting = Arc::new(Reporting::new(ComplaintServices::standard()));
            crate::ensure(&pool, reporting.as_ref()).await.unwrap();
            let runner = Runner::new(pool.clone(), reporting.clone());
            assert_eq!(runner.catch_up().await.unwrap(), 7);

            // The referral comes in a later batch, after closure (R-OMB-1).
            append(
                &pool,
                "c2",
                vec![ComplaintEvent::ReferredToOmbudsman {
                    ombudsman: Ombudsman::Phso,
                    informed_on: d("2026-04-03"),
                    ombudsman_reference: None,
                }],
            )
            .await;
            assert_eq!(runner.catch_up().await.unwrap(), 1);

            let y2024 = annual_report_for(&pool, "RAL", 2024).await.unwrap();
            assert_eq!(y2024.received, 1);
            let y2025 = annual_report_for(&pool, "RAL", 2025).await.unwrap();
            assert_eq!(y2025.received, 1);
            assert_eq!(y2025.well_founded, 1);
            assert_eq!(
                y2025.by_outcome,
                OutcomeCounts {
                    upheld: 1,
                    partially_upheld: 0,
                    not_upheld: 1
                }
            );
            assert_eq!(y2025.referred_to_ombudsman.phso, 0);
            assert_eq!(
                (
                    y2025.acknowledged_within_3_working_days.met,
                    y2025.acknowledged_within_3_working_days.total
                ),
                (1, 1)
            );
            assert_eq!(y2025.responded_within_agreed_period.total, 2);
            assert_eq!(
                y2025.learning.lessons[0].summary,
                "Say why a referral was declined"
            );
            assert_eq!(y2025.by_subject_area["waiting_times"], 1);
            let y2026 = annual_report_for(&pool, "RAL", 2026).await.unwrap();
            assert_eq!(
                y2026.referred_to_ombudsman,
                OmbudsmanCounts { phso: 1, lgsco: 0 }
            );
            assert_eq!(y2026.received, 0);
            assert_eq!(
                annual_report_for(&pool, "RXX", 2025)
                    .await
                    .unwrap()
                    .received,
                0
            );

            let (from, to) = financial_year(2025).unwrap();
            let ko41 = written_complaints_for(&pool, "RAL", from, to)
                .await
                .unwrap();
            assert_eq!(ko41.collections.len(), 1);
            let a = &ko41.collections[0];
            assert_eq!(
                (
                    a.brought_forward,
                    a.new,
                    a.resolved_upheld,
                    a.resolved_not_upheld,
                    a.carried_forward
                ),
                (1, 1, 1, 1, 0)
            );
            assert_eq!(a.by_service_area["outpatient"], 1);
            let early = written_complaints_for(&pool, "RAL", d("2025-03-01"), d("2025-03-31"))
                .await
                .unwrap();
            assert_eq!(
                (
                    early.collections[0].new,
                    early.collections[0].carried_forward
                ),
                (1, 1)
            );
            let later = written_complaints_for(&pool, "RAL", d("2026-04-01"), d("2027-03-31"))
                .await
                .unwrap();
            assert!(
                later.collections.is_empty(),
                "both answered before the period"
            );
            assert!(matches!(
                written_complaints_for(&pool, "RAL", to, from).await,
                Err(ProjectionError::InvalidQuery(_))
            ));
            assert!(matches!(
                annual_report_for(&pool, "RAL", 1066).await,
                Err(ProjectionError::InvalidQuery(_))
            ));

            // A repeated batch changes nothing.
            let mut tx = pool.begin().await.unwrap();
            let all = read_after(&mut tx, Checkpoint::default(), 100)
                .await
                .unwrap();
            assert_eq!(all.len(), 8);
            reporting.apply(&mut tx, Generation(1), &all).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(count(&pool, REFERRALS).await, 1);
            assert_eq!(count(&pool, LEARNING).await, 1);
            assert_eq!(count(&pool, COMPLAINTS).await, 2);
            assert_eq!(annual_report_for(&pool, "RAL", 2025).await.unwrap(), y2025);

            // A rebuild from position zero answers the same.
            assert_eq!(
                rebuild(&pool, reporting.as_ref(), &|_, _| {})
                    .await
                    .unwrap(),
                8
            );
            assert_eq!(annual_report_for(&pool, "RAL", 2025).await.unwrap(), y2025);
            assert_eq!(annual_report_for(&pool, "RAL", 2026).await.unwrap(), y2026);
            assert_eq!(
                written_complaints_for(&pool, "RAL", from, to)
                    .await
                    .unwrap(),
                ko41
            );
        }

        #[tokio::test]
        async fn the_worked_example_reports_the_same_through_the_runner_on_sqlite() {
            let sqlite = SqlitePoolOptions::new()
                .max_connections(1)
                .connect("sqlite::memory:")
                .await
                .unwrap();
            sqlx::raw_sql(SQLITE_EVENT_LOG)
                .execute(&sqlite)
                .await
                .unwrap();
            worked_example(Pool::Sqlite(sqlite)).await;
        }

        /// Runs when `DATABASE_URL` is set, in a schema of its own; the end-to-end tests
        /// cover PostgreSQL in CI.
        #[tokio::test]
        async fn the_worked_example_reports_the_same_through_the_runner_on_postgres() {
            let Some(url) = std::env::var("DATABASE_URL")
                .ok()
                .filter(|u| u.starts_with("postgres"))
            else {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI is set but DATABASE_URL is not: PostgreSQL tests must run in CI"
                );
                eprintln!("DATABASE_URL not set: skipping PostgreSQL test");
                return;
            };
            let schema = format!("t_reporting_{}", std::process::id());
            let admin = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&admin)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&admin)
                .await
                .unwrap();
            let options = PgConnectOptions::from_str(&url)
                .unwrap()
                .options([("search_path", schema.as_str())]);
            let pg = PgPoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await
                .unwrap();
            sqlx::raw_sql(POSTGRES_EVENT_LOG)
                .execute(&pg)
                .await
                .unwrap();
            worked_example(Pool::Postgres(pg.clone())).await;
            pg.close().await;
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&admin)
                .await
                .unwrap();
        }
    }
}
