//! The organisation register's changes, stored append-only (R-SCOPE-1, R-SCOPE-4): each
//! change is an event with who made it. The register in force is the configured starting
//! register with every change applied in order.

use crate::{on_pool, EventLogError, Pool};
use complaints_domain::{Register, RegisterChange};
use sqlx::Row;

/// A change as recorded.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct RecordedChange {
    /// Its place in the register's history.
    pub position: i64,
    /// The change.
    pub change: RegisterChange,
    /// Who made it (token subject).
    pub changed_by: String,
    /// When it was recorded (RFC 3339, UTC).
    pub recorded_at: String,
}

/// Appends `change`, made by `changed_by`; returns its position.
pub async fn append(
    pool: &Pool,
    change: &RegisterChange,
    changed_by: &str,
) -> Result<i64, EventLogError> {
    let text = serde_json::to_string(change).map_err(|e| EventLogError::Decode {
        what: "register change".into(),
        reason: e.to_string(),
    })?;
    let position = on_pool!(pool, |p| {
        sqlx::query(
            "INSERT INTO organisation_changes (organisation_id, change, changed_by)
             VALUES ($1, $2, $3) RETURNING position",
        )
        .bind(change.organisation_id())
        .bind(&text)
        .bind(changed_by)
        .fetch_one(p)
        .await?
        .try_get::<i64, _>("position")?
    });
    Ok(position)
}

/// Every change, oldest first; with `organisation_id`, that organisation's only.
pub async fn history(
    pool: &Pool,
    organisation_id: Option<&str>,
) -> Result<Vec<RecordedChange>, EventLogError> {
    let sql = match pool {
        Pool::Postgres(_) => {
            "SELECT position, change, changed_by,
                    to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS recorded_at
             FROM organisation_changes
             WHERE $1::text IS NULL OR organisation_id = $1 ORDER BY position"
        }
        Pool::Sqlite(_) => {
            "SELECT position, change, changed_by, recorded_at FROM organisation_changes
             WHERE $1 IS NULL OR organisation_id = $1 ORDER BY position"
        }
    };
    let rows = on_pool!(pool, |p| {
        let mut out = Vec::new();
        for row in sqlx::query(sql).bind(organisation_id).fetch_all(p).await? {
            let text: String = row.try_get("change")?;
            out.push(RecordedChange {
                position: row.try_get("position")?,
                change: serde_json::from_str(&text).map_err(|e| EventLogError::Decode {
                    what: "register change".into(),
                    reason: e.to_string(),
                })?,
                changed_by: row.try_get("changed_by")?,
                recorded_at: row.try_get("recorded_at")?,
            });
        }
        out
    });
    Ok(rows)
}

/// `starting` with every recorded change applied.
pub async fn load(pool: &Pool, starting: &Register) -> Result<Register, EventLogError> {
    let mut register = starting.clone();
    for recorded in history(pool, None).await? {
        register.apply(&recorded.change);
    }
    Ok(register)
}
