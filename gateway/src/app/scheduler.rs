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
        kind: Some("consent".into()),
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
        while lease.still_held().await {
            let now = clock();
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
