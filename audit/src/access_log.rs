//! The access log (R-CAL-1): who read which complaint's personal data, when, and under which
//! request. Append-only, outside the event log, so reading never changes a case's history.

use crate::AuditError;
use chrono::{DateTime, Utc};
use complaints_eventlog::{on_pool, Pool};
use schemars::JsonSchema;
use serde::Serialize;
use sqlx::Row;

/// One read to record.
#[derive(Debug, Clone)]
pub struct Access<'a> {
    /// When it was read.
    pub at: DateTime<Utc>,
    /// Who read it (the token subject).
    pub actor: &'a str,
    /// The role they read it in.
    pub role: &'a str,
    /// The complaint's organisation.
    pub organisation_id: &'a str,
    /// The complaint read.
    pub complaint_id: &'a str,
    /// What was read (`history`, `complaint`, …).
    pub action: &'a str,
    /// The request's correlation id.
    pub correlation_id: Option<&'a str>,
}

/// One read recorded in the access log.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccessRecord {
    /// The record's id.
    pub id: i64,
    /// When it was read (RFC 3339, UTC).
    pub accessed_at: String,
    /// Who read it (the token subject).
    pub actor: String,
    /// The role they read it in.
    pub role: String,
    /// The complaint's organisation.
    pub organisation_id: String,
    /// The complaint read.
    pub complaint_id: String,
    /// What was read.
    pub action: String,
    /// The request's correlation id.
    pub correlation_id: Option<String>,
}

/// Records a read. The caller fails the read when this fails: an unrecorded read of
/// personal data must not happen.
pub async fn record(pool: &Pool, access: &Access<'_>) -> Result<(), AuditError> {
    let at = access
        .at
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    on_pool!(pool, |p| {
        sqlx::query(
            "INSERT INTO audit_access_log (accessed_at, actor, role, organisation_id, complaint_id, action, correlation_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&at)
        .bind(access.actor)
        .bind(access.role)
        .bind(access.organisation_id)
        .bind(access.complaint_id)
        .bind(access.action)
        .bind(access.correlation_id)
        .execute(p)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Up to `limit` reads of `organisations`' complaints (of one complaint when given) with ids
/// below `before`, newest first.
pub async fn page(
    pool: &Pool,
    organisations: &[String],
    complaint_id: Option<&str>,
    before: i64,
    limit: i64,
) -> Result<Vec<AccessRecord>, AuditError> {
    if organisations.is_empty() {
        return Ok(Vec::new());
    }
    let n = organisations.len();
    let placeholder = |i: usize| format!("${i}");
    let orgs: Vec<String> = (1..=n).map(placeholder).collect();
    let (complaint, before_at, limit_at) =
        (placeholder(n + 1), placeholder(n + 2), placeholder(n + 3));
    let sql = format!(
        "SELECT id, accessed_at, actor, role, organisation_id, complaint_id, action, correlation_id
         FROM audit_access_log
         WHERE organisation_id IN ({}) AND ({complaint} IS NULL OR complaint_id = {complaint})
           AND id < {before_at}
         ORDER BY id DESC LIMIT {limit_at}",
        orgs.join(", "),
    );
    let items = on_pool!(pool, |p| {
        let mut q = sqlx::query(&sql);
        for org in organisations {
            q = q.bind(org);
        }
        q.bind(complaint_id)
            .bind(before)
            .bind(limit)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| {
                Ok::<_, sqlx::Error>(AccessRecord {
                    id: r.try_get(0)?,
                    accessed_at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    role: r.try_get(3)?,
                    organisation_id: r.try_get(4)?,
                    complaint_id: r.try_get(5)?,
                    action: r.try_get(6)?,
                    correlation_id: r.try_get(7)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    });
    Ok(items)
}
