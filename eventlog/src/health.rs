//! What holds the consumers back. On PostgreSQL a consumer reads only what every transaction
//! still running cannot precede (commit-safe order), so one writer transaction left open
//! stalls every consumer; this names it so an operator can end it.

use crate::{EventLogError, Pool};
use sqlx::Row;

/// The oldest transaction that has written and not yet ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct OpenWriter {
    /// The PostgreSQL backend holding it (`pg_terminate_backend(pid)` ends it).
    pub pid: i32,
    /// How long it has been open.
    pub age_seconds: f64,
    /// Its state (`idle in transaction` when the client went quiet).
    pub state: Option<String>,
    /// The client's application name.
    pub application_name: Option<String>,
}

/// The oldest open writer transaction in this database, if any (always `None` on SQLite,
/// whose single writer cannot be held open behind the readers' backs).
pub async fn oldest_open_writer(pool: &Pool) -> Result<Option<OpenWriter>, EventLogError> {
    let Pool::Postgres(pg) = pool else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT pid, EXTRACT(EPOCH FROM clock_timestamp() - xact_start)::float8 AS age,
                state, application_name
         FROM pg_stat_activity
         WHERE backend_xid IS NOT NULL AND datname = current_database()
           AND pid <> pg_backend_pid()
         ORDER BY xact_start LIMIT 1",
    )
    .fetch_optional(pg)
    .await?;
    row.map(|r| {
        Ok(OpenWriter {
            pid: r.try_get("pid")?,
            age_seconds: r.try_get::<Option<f64>, _>("age")?.unwrap_or_default(),
            state: r.try_get("state")?,
            application_name: r.try_get("application_name")?,
        })
    })
    .transpose()
}
