//! Reading the facts back from the interface tables and answering report requests. Reports
//! are counted at query time from the current rows, never stored, so a late closure or
//! review moves every year it touches.

use super::annual::{annual_report, contributed_to, AnnualReport};
use super::facts::{
    ComplaintFacts, ContributionFact, ReferralFact, COMPLAINTS, CONTRIBUTIONS, REFERRALS,
};
use super::ko41::{written_complaints, WrittenComplaintsReport};
use super::learning::{learning_report_for, report_period};
use crate::models::sql::{date_text, parse_codes};
use crate::ProjectionError;
use chrono::NaiveDate;
use complaints_domain::{ClosureReason, ExclusionCategory, Ombudsman, Outcome};
use complaints_eventlog::{on_pool, Backend, Pool};
use sqlx::Row;

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
    first_response_period_end: Option<String>,
    first_internal_target: Option<String>,
    review_response_on: Option<String>,
    review_outcome: Option<String>,
    closed_on: Option<String>,
    closure_reason: Option<String>,
    exclusion_category: Option<String>,
    transferred_to: Option<String>,
    calendar_version: String,
    version: i64,
    patient_age_band: Option<String>,
    complainant_status: Option<String>,
    site: Option<String>,
    collection: String,
}

impl RawFacts {
    fn parse(self) -> Result<ComplaintFacts, ProjectionError> {
        Ok(ComplaintFacts {
            received_on: required_date("received_on", self.received_on)?,
            acknowledged_on: parse_date("acknowledged_on", self.acknowledged_on)?,
            acknowledge_by: required_date("acknowledge_by", self.acknowledge_by)?,
            first_response_on: parse_date("first_response_on", self.first_response_on)?,
            first_outcome: parse_code("first_outcome", self.first_outcome, Outcome::parse)?,
            first_response_period_end: parse_date(
                "first_response_period_end",
                self.first_response_period_end,
            )?,
            first_internal_target: parse_date("first_internal_target", self.first_internal_target)?,
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
            patient_age_band: self.patient_age_band,
            complainant_status: self.complainant_status,
            site: self.site,
            collection: self.collection,
        })
    }
}

/// The facts rows of `organisation` matching any of `alternatives`, whose placeholders start
/// at `$2` and take `dates` in order. Each alternative is read on its own and the rows joined
/// (`UNION`), so each can walk its own `(organisation_id, <date>)` index: one `OR` of them
/// read every row the organisation ever had (BENCHMARKS.md, decade scale).
async fn load_facts(
    pool: &Pool,
    organisation: &str,
    alternatives: &[&str],
    dates: &[NaiveDate],
) -> Result<Vec<ComplaintFacts>, ProjectionError> {
    let b = pool.backend();
    let branches: Vec<String> = alternatives
        .iter()
        .map(|condition| {
            format!("SELECT * FROM {COMPLAINTS} WHERE organisation_id = $1 AND ({condition})")
        })
        .collect();
    let sql = format!(
        "SELECT complaint_id, organisation_id, {}, channel, route, subject_areas, service_area, staff_groups,
           {}, {}, {}, first_outcome, {}, {}, {}, review_outcome, {}, closure_reason, exclusion_category,
           transferred_to, calendar_version, version, patient_age_band, complainant_status, site, collection
         FROM ({}) AS facts
         ORDER BY received_on, complaint_id",
        date_expr(b, "received_on"),
        date_expr(b, "acknowledged_on"),
        date_expr(b, "acknowledge_by"),
        date_expr(b, "first_response_on"),
        date_expr(b, "first_response_period_end"),
        date_expr(b, "first_internal_target"),
        date_expr(b, "review_response_on"),
        date_expr(b, "closed_on"),
        branches.join(" UNION "),
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
                    first_response_period_end: r.try_get("first_response_period_end")?,
                    first_internal_target: r.try_get("first_internal_target")?,
                    review_response_on: r.try_get("review_response_on")?,
                    review_outcome: r.try_get("review_outcome")?,
                    closed_on: r.try_get("closed_on")?,
                    closure_reason: r.try_get("closure_reason")?,
                    exclusion_category: r.try_get("exclusion_category")?,
                    transferred_to: r.try_get("transferred_to")?,
                    calendar_version: r.try_get("calendar_version")?,
                    version: r.try_get("version")?,
                    patient_age_band: r.try_get("patient_age_band")?,
                    complainant_status: r.try_get("complainant_status")?,
                    site: r.try_get("site")?,
                    collection: r.try_get("collection")?,
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

/// The annual report of `organisation` for financial `year` (2025 = 2025-26), counted from
/// the current facts of the `reporting` read model.
pub async fn annual_report_for(
    pool: &Pool,
    organisation: &str,
    year: i32,
) -> Result<AnnualReport, ProjectionError> {
    let (from, to) = report_period(year)?;
    // R-AR-5: a referral's complaint is read whatever year it was received in, to tell
    // whether it was transferred out unanswered.
    let referred = format!(
        "complaint_id IN (SELECT complaint_id FROM {REFERRALS}
           WHERE organisation_id = $1 AND informed_on >= $10 AND informed_on <= $11)"
    );
    let facts = load_facts(
        pool,
        organisation,
        &[
            "received_on >= $2 AND received_on <= $3",
            "acknowledged_on >= $4 AND acknowledged_on <= $5",
            "first_response_on >= $6 AND first_response_on <= $7",
            "review_response_on >= $8 AND review_response_on <= $9",
            &referred,
        ],
        &[from, to, from, to, from, to, from, to, from, to],
    )
    .await?;
    let referrals = load_referrals(pool, organisation, from, to).await?;
    let contributions = load_contributions(pool, organisation, from, to).await?;
    let mut report = annual_report(organisation, year, &facts, &referrals, &[]);
    // Items 5 and 6 are counted by the database, never loaded row by row (issue 16).
    report.learning = learning_report_for(pool, organisation, year).await?;
    report.contributed_to = contributed_to(organisation, year, &contributions);
    Ok(report)
}

/// The joint complaints `organisation` first supplied a part of between `from` and `to`.
async fn load_contributions(
    pool: &Pool,
    organisation: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ContributionFact>, ProjectionError> {
    let sql = format!(
        "SELECT complaint_id, organisation_id, lead_organisation_id, {} FROM {CONTRIBUTIONS}
         WHERE organisation_id = $1 AND first_provided_on >= $2 AND first_provided_on <= $3
         ORDER BY complaint_id",
        date_expr(pool.backend(), "first_provided_on")
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
                r.try_get::<String, _>("organisation_id")?,
                r.try_get::<String, _>("lead_organisation_id")?,
                r.try_get::<Option<String>, _>("first_provided_on")?,
            ))
        })
        .collect::<Result<Vec<_>, _>>()?);
    raw.into_iter()
        .map(
            |(complaint_id, organisation_id, lead_organisation_id, first_provided_on)| {
                Ok(ContributionFact {
                    first_provided_on: required_date("first_provided_on", first_provided_on)?,
                    complaint_id,
                    organisation_id,
                    lead_organisation_id,
                })
            },
        )
        .collect()
}

/// The written complaints return (KO41a/KO41b) of `organisation` for the days `from..=to`
/// (use [`financial_year`](super::financial_year) for the usual year), counted from the current facts of the
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
        &[
            "received_on <= $2 AND (first_response_on >= $3 OR (first_response_on IS NULL
           AND (closed_on IS NULL OR closed_on >= $4)))",
        ],
        &[to, from, from],
    )
    .await?;
    Ok(written_complaints(organisation, from, to, &facts))
}
