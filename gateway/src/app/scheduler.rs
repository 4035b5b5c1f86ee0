//! Time-driven events: deadlines that pass turn into the events the rules require.
//!
//! Today that is the consent lapse (R-WHO-6): a representative's complaint whose consent
//! has not arrived by the organisation's deadline gets `ConsentLapsed` and is closed for
//! want of consent. Each lapse is issued with a command id derived from the complaint and
//! its lapse date, so a restart, a repeated tick or a second instance writes nothing twice:
//! the aggregate answers a repeated command id with the events it already has. One
//! instance ticks at a time (advisory lock on PostgreSQL).

use crate::app::cases::{Cases, CommandContext};
use crate::error::ApiError;
use chrono::{DateTime, NaiveDate, Utc};
use complaints_domain::{ComplaintAction, ComplaintError, LapseConsent};
use complaints_projections::models::case_views::{list_deadlines, DeadlineFilter};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The actor recorded on events the scheduler causes.
pub const SCHEDULER_ACTOR: &str = "scheduler";

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// Consent lapses recorded.
    pub lapsed: usize,
    /// Lapses already recorded by an earlier tick or another instance.
    pub already_done: usize,
}

/// Records every consent lapse due before `today` (England). The deadlines read model says
/// which complaints to look at; the aggregate decides.
pub async fn tick(cases: &Cases, now: DateTime<Utc>, today: NaiveDate) -> Result<Tick, ApiError> {
    let organisations = distinct_organisations(cases).await?;
    let filter = DeadlineFilter {
        organisations,
        due_before: None,
        overdue: true,

        unmet_only: false,
        kind: Some("consent".into()),
        assigned_to: None,
        today,
    };
    let due = list_deadlines(cases.log().pool(), &filter).await?;
    let mut done = Tick::default();
    for row in due {
        let Some(lapses_on) = row.due_on else {
            continue;
        };
        let context = CommandContext {
            actor: SCHEDULER_ACTOR.into(),
            role: "system".into(),
            organisation_id: row.organisation_id.clone(),
            command_id: Some(format!("consent-lapse:{}:{lapses_on}", row.complaint_id)),
            fingerprint: format!("consent-lapse:{lapses_on}"),
            correlation_id: format!("scheduler:{}", now.timestamp()),
            causation_id: Some(format!("deadline:consent:{}:{lapses_on}", row.complaint_id)),
            issued_at: now,
            issued_on: today,
        };
        let action = ComplaintAction::LapseConsent(LapseConsent { lapsed_on: today });
        match cases
            .execute(&row.complaint_id, action, &context, None)
            .await
        {
            Ok(outcome) if outcome.applied => {
                tracing::info!(complaint_id = %row.complaint_id, %lapses_on, "consent lapsed; complaint closed");
                done.lapsed += 1;
            }
            Ok(_) => done.already_done += 1,
            // The read model lags the log: consent may have arrived or the case closed since.
            Err(ApiError::Rule(
                ComplaintError::ConsentAlreadyDecided
                | ComplaintError::AlreadyClosed
                | ComplaintError::ConsentNotYetLapsed { .. },
            ))
            | Err(ApiError::Conflict) => done.already_done += 1,
            Err(other) => return Err(other),
        }
    }
    Ok(done)
}

async fn distinct_organisations(cases: &Cases) -> Result<Vec<String>, ApiError> {
    let sql = "SELECT DISTINCT organisation_id FROM rm_deadlines WHERE kind = 'consent'";
    let found: Result<Vec<String>, sqlx::Error> =
        complaints_eventlog::on_pool!(cases.log().pool(), |p| {
            sqlx::query_scalar(sql).fetch_all(p).await
        });
    found.map_err(|e| ApiError::Internal(e.into()))
}

/// Ticks every `interval` until `stop`, on one instance at a time (the others stand by).
pub async fn run(
    cases: Arc<Cases>,
    clock: crate::app::clock::Clock,
    interval: Duration,
    stop: CancellationToken,
) {
    while !stop.is_cancelled() {
        let Some(lease) =
            complaints_eventlog::Lease::acquire(cases.log().pool(), "scheduler", &stop).await
        else {
            return;
        };
        let mut retention_ran_on = None;
        while lease.still_held().await {
            let now = clock();
            let today = crate::app::clock::london_date(now);
            if retention_ran_on != Some(today) {
                match retention(&cases, now, today, None, false).await {
                    Ok(report) => {
                        retention_ran_on = Some(today);
                        if !report.erased_subjects.is_empty() {
                            tracing::info!(
                                erased = report.erased_subjects.len(),
                                files = report.past_retention.len(),
                                "retention: personal data of case files past retention erased"
                            );
                        }
                    }
                    Err(error) => tracing::warn!(%error, "retention run failed; will retry"),
                }
            }
            match tick(&cases, now, crate::app::clock::london_date(now)).await {
                Ok(done) if done.lapsed > 0 => {
                    tracing::info!(lapsed = done.lapsed, "scheduler tick")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "scheduler tick failed; will retry"),
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
        tracing::warn!("lost the scheduler lock; standing by");
    }
}

// ---- Retention (R-RET-1): erase the personal data of case files past their review date ----

/// The deployment's default retention period: `COMPLAINTS_RETENTION_YEARS`, else the
/// rules' ten years (R-RET-1). An organisation's policy `retention_years` overrides it.
pub fn retention_years() -> u32 {
    std::env::var("COMPLAINTS_RETENTION_YEARS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(complaints_domain::policy::RETENTION_YEARS)
}

/// Where a case file stands for retention.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RetentionState {
    /// `closed_on` (or the ombudsman's later final decision) plus the retention years; `None`
    /// while the complaint is open or an ombudsman referral awaits its decision.
    pub retention_review_due: Option<NaiveDate>,
    /// A legal hold is in force: nothing is erased.
    pub legal_hold: bool,
}

/// A fact retention is judged on, read set-based from the log (dates only: no payload is
/// decrypted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionFact {
    /// Closed on this day.
    Closed(NaiveDate),
    /// Reopened: the retention clock waits for the next closure.
    Reopened,
    /// Referred to an ombudsman: the file stays open until the decision.
    Referred,
    /// An ombudsman decided on this day.
    Decided(NaiveDate),
    /// A legal hold was placed.
    HoldPlaced,
    /// The legal hold was released.
    HoldReleased,
}

/// The event types retention reads, and how each becomes a fact.
const RETENTION_EVENT_TYPES: &[&str] = &[
    "ComplaintClosed",
    "ComplaintReopened",
    "ReferredToOmbudsman",
    "OmbudsmanDecisionRecorded",
    "LegalHoldPlaced",
    "LegalHoldReleased",
];

fn retention_fact(event_type: &str, payload: &serde_json::Value) -> Option<RetentionFact> {
    let day = |field: &str| {
        payload
            .get(event_type)?
            .get(field)?
            .as_str()?
            .parse::<NaiveDate>()
            .ok()
    };
    Some(match event_type {
        "ComplaintClosed" => RetentionFact::Closed(day("closed_on")?),
        "ComplaintReopened" => RetentionFact::Reopened,
        "ReferredToOmbudsman" => RetentionFact::Referred,
        "OmbudsmanDecisionRecorded" => RetentionFact::Decided(day("decided_on")?),
        "LegalHoldPlaced" => RetentionFact::HoldPlaced,
        "LegalHoldReleased" => RetentionFact::HoldReleased,
        _ => return None,
    })
}

/// The retention state of a complaint from its facts in order: counted from the later of
/// the last closure (a reopening restarts it) and the ombudsman's final decision; an
/// ombudsman referral without a decision keeps the file open.
pub fn retention_state(facts: &[RetentionFact], years: u32) -> RetentionState {
    let mut closed = None;
    let mut decided: Option<NaiveDate> = None;
    let mut referral_pending = false;
    let mut hold = false;
    for fact in facts {
        match *fact {
            RetentionFact::Closed(on) => closed = Some(on),
            RetentionFact::Reopened => closed = None,
            RetentionFact::Referred => referral_pending = true,
            RetentionFact::Decided(on) => {
                referral_pending = false;
                decided = decided.max(Some(on));
            }
            RetentionFact::HoldPlaced => hold = true,
            RetentionFact::HoldReleased => hold = false,
        }
    }
    let due = match (closed, referral_pending) {
        (Some(closed), false) => closed
            .max(decided.unwrap_or(closed))
            .checked_add_months(chrono::Months::new(12 * years)),
        _ => None,
    };
    RetentionState {
        retention_review_due: due,
        legal_hold: hold,
    }
}

/// Every complaint's retention facts, in one read of the log.
async fn retention_facts(
    pool: &complaints_eventlog::Pool,
) -> Result<std::collections::HashMap<String, Vec<RetentionFact>>, ApiError> {
    let types = RETENTION_EVENT_TYPES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT aggregate_id, event_type, CAST(payload AS TEXT) FROM events
         WHERE aggregate_type = 'Complaint' AND event_type IN ({types})
         ORDER BY aggregate_id, sequence"
    );
    let rows: Vec<(String, String, String)> =
        complaints_eventlog::on_pool!(pool, |p| sqlx::query_as(&sql).fetch_all(p).await)?;
    let mut facts: std::collections::HashMap<String, Vec<RetentionFact>> = Default::default();
    for (complaint_id, event_type, payload) in rows {
        let payload: serde_json::Value = serde_json::from_str(&payload)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored {event_type}: {e}")))?;
        if let Some(fact) = retention_fact(&event_type, &payload) {
            facts.entry(complaint_id).or_default().push(fact);
        }
    }
    Ok(facts)
}

/// One case file considered by a retention run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RetentionCase {
    /// The complaint.
    pub complaint_id: String,
    /// Its organisation.
    pub organisation_id: String,
    /// Its retention state.
    pub state: RetentionState,
}

/// What a retention run found and did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RetentionReport {
    /// The day judged.
    pub today: Option<NaiveDate>,
    /// Nothing erased when true.
    pub dry_run: bool,
    /// Case files past their review date and not on hold.
    pub past_retention: Vec<RetentionCase>,
    /// Case files past their review date but on legal hold.
    pub on_hold: Vec<RetentionCase>,
    /// Data subjects whose every case file is past retention: erased (or to be, on a dry run).
    pub erased_subjects: Vec<String>,
    /// Data subjects of files past retention kept because another of their files is not.
    pub kept_subjects: Vec<String>,
}

/// Finds the case files past `retention_review_due` on `today` and, unless `dry_run`,
/// erases the personal data of the people named only in such files (a person also named in
/// a file still kept keeps their key: their data there must stay readable). Each file is
/// kept for its organisation's policy `retention_years` (default [`retention_years`]),
/// unless `years` overrides them all. Two reads of the database, however many files.
pub async fn retention(
    cases: &Cases,
    now: DateTime<Utc>,
    today: NaiveDate,
    years: Option<u32>,
    dry_run: bool,
) -> Result<RetentionReport, ApiError> {
    use std::collections::{BTreeMap, BTreeSet};
    let pool = cases.log().pool();
    let sql = "SELECT complaint_id, organisation_id, subject_id FROM data_subject_complaints ORDER BY complaint_id";
    let rows: Vec<(String, String, String)> =
        complaints_eventlog::on_pool!(pool, |p| sqlx::query_as(sql).fetch_all(p).await)?;
    let mut by_complaint: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (complaint, organisation, subject) in rows {
        by_complaint
            .entry((complaint, organisation))
            .or_default()
            .push(subject);
    }
    let mut report = RetentionReport {
        today: Some(today),
        dry_run,
        ..RetentionReport::default()
    };
    let facts = retention_facts(pool).await?;
    let policies = &cases.services().policies;
    let mut expired_subjects = BTreeSet::new();
    let mut kept = BTreeSet::new();
    let mut years_used = BTreeSet::new();
    for ((complaint_id, organisation_id), subjects) in by_complaint {
        let file_years = years.unwrap_or_else(|| {
            policies
                .for_organisation(&organisation_id)
                .retention_years
                .unwrap_or_else(retention_years)
        });
        let state = retention_state(
            facts.get(&complaint_id).map_or(&[][..], Vec::as_slice),
            file_years,
        );
        if state.retention_review_due.is_some_and(|due| due <= today) {
            years_used.insert(file_years);
        }
        let past = state.retention_review_due.is_some_and(|due| due <= today);
        let case = RetentionCase {
            complaint_id,
            organisation_id,
            state: state.clone(),
        };
        if past && !state.legal_hold {
            expired_subjects.extend(subjects);
            report.past_retention.push(case);
        } else {
            kept.extend(subjects);
            if past {
                report.on_hold.push(case);
            }
        }
    }
    for subject in expired_subjects {
        if kept.contains(&subject) {
            report.kept_subjects.push(subject);
            continue;
        }
        let record = complaints_eventlog::keys::subject_record(pool, &subject)
            .await
            .map_err(crate::http::data_subjects::key_error)?;
        if record.is_some_and(|r| r.erased_at.is_some()) {
            continue;
        }
        if !dry_run {
            let erasure = complaints_eventlog::keys::Erasure {
                by: SCHEDULER_ACTOR.into(),
                reason: format!(
                    "retention: every case file naming this person is past its retention review date ({} years)",
                    years_used.iter().map(u32::to_string).collect::<Vec<_>>().join(" or ")
                ),
                legal_basis: "NHS Records Management Code of Practice (R-RET-1); UK GDPR Art 5(1)(e)".into(),
                at: now,
            };
            let actor = crate::http::data_subjects::Actor {
                actor: SCHEDULER_ACTOR,
                role: "system",
                correlation_id: None,
            };
            crate::http::data_subjects::erase_subject(cases, &subject, &erasure, &actor).await?;
        }
        report.erased_subjects.push(subject);
    }
    Ok(report)
}
