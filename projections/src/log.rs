//! Reading the event log in commit-safe global order.
//!
//! PostgreSQL hands out `global_position` before commit, so a later position can commit
//! first. A reader therefore only takes rows whose writing transaction is older than every
//! transaction still in progress (`transaction_id < pg_snapshot_xmin(pg_current_snapshot())`)
//! and orders by `(transaction_id, global_position)`; the checkpoint is that pair. SQLite has
//! one writer at a time and assigns positions inside the write transaction, so position
//! order is commit order and the transaction part of the checkpoint stays 0.

use crate::{ProjectionError, Tx};
use chrono::{DateTime, NaiveDateTime, Utc};
use complaints_domain::ComplaintEvent;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::HashMap;

/// Where a consumer has got to: the last event it took, in commit-safe order.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Checkpoint {
    /// Writing transaction id (PostgreSQL `xid8`); 0 on SQLite.
    pub transaction_id: i64,
    /// Global position.
    pub position: i64,
}

/// One event as stored, with its place in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Commit-safe place in the log.
    pub checkpoint: Checkpoint,
    /// The complaint.
    pub complaint_id: String,
    /// Sequence within the complaint.
    pub sequence: i64,
    /// Event type name.
    pub event_type: String,
    /// Event version.
    pub event_version: String,
    /// The event.
    pub event: ComplaintEvent,
    /// Actor, command id, correlation id and the rest.
    pub metadata: HashMap<String, String>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

impl StoredEvent {
    /// Stable unique id of the event: `{complaint_id}:{sequence}`.
    pub fn event_id(&self) -> String {
        format!("{}:{}", self.complaint_id, self.sequence)
    }
}

const COLUMNS: &str = "global_position, aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at";

fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.fZ")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// A row of the event table before its JSON is decoded.
struct RawRow {
    transaction_id: i64,
    position: i64,
    complaint_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: serde_json::Value,
    metadata: serde_json::Value,
    recorded_at: DateTime<Utc>,
}

fn decode(raw: RawRow) -> Result<StoredEvent, ProjectionError> {
    let RawRow {
        transaction_id,
        position,
        complaint_id,
        sequence,
        event_type,
        event_version,
        payload,
        metadata,
        recorded_at,
    } = raw;
    let decode_error = |reason: String| ProjectionError::Decode {
        what: format!("event at position {position}"),
        reason,
    };
    let event: ComplaintEvent =
        serde_json::from_value(payload).map_err(|e| decode_error(e.to_string()))?;
    let metadata: HashMap<String, String> =
        serde_json::from_value(metadata).map_err(|e| decode_error(e.to_string()))?;
    Ok(StoredEvent {
        checkpoint: Checkpoint {
            transaction_id,
            position,
        },
        complaint_id,
        sequence,
        event_type,
        event_version,
        event,
        metadata,
        recorded_at,
    })
}

/// Up to `limit` events after `after`, in commit-safe order, read in `tx`.
pub async fn read_after(
    tx: &mut Tx,
    after: Checkpoint,
    limit: i64,
) -> Result<Vec<StoredEvent>, ProjectionError> {
    match tx {
        Tx::Postgres(t) => {
            let sql = format!(
                "SELECT transaction_id::text AS transaction_id_text, {COLUMNS} FROM events
                 WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
                   AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                 ORDER BY transaction_id, global_position
                 LIMIT $3"
            );
            let rows = sqlx::query(&sql)
                .bind(after.transaction_id.to_string())
                .bind(after.position)
                .bind(limit)
                .fetch_all(&mut **t)
                .await?;
            rows.into_iter()
                .map(|row| {
                    let xid: String = row.try_get("transaction_id_text")?;
                    let xid = xid.parse::<i64>().map_err(|e| ProjectionError::Decode {
                        what: "transaction id".into(),
                        reason: e.to_string(),
                    })?;
                    decode(RawRow {
                        transaction_id: xid,
                        position: row.try_get("global_position")?,
                        complaint_id: row.try_get("aggregate_id")?,
                        sequence: row.try_get("sequence")?,
                        event_type: row.try_get("event_type")?,
                        event_version: row.try_get("event_version")?,
                        payload: row.try_get("payload")?,
                        metadata: row.try_get("metadata")?,
                        recorded_at: row.try_get("recorded_at")?,
                    })
                })
                .collect()
        }
        Tx::Sqlite(t) => {
            let sql = format!("SELECT {COLUMNS} FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2");
            let rows = sqlx::query(&sql)
                .bind(after.position)
                .bind(limit)
                .fetch_all(&mut **t)
                .await?;
            rows.into_iter().map(decode_sqlite).collect()
        }
    }
}

/// How far a consumer at `after` is behind: events not yet taken, and when the oldest of
/// them was recorded.
pub async fn backlog(
    tx: &mut Tx,
    after: Checkpoint,
) -> Result<(i64, Option<DateTime<Utc>>), ProjectionError> {
    match tx {
        Tx::Postgres(t) => {
            let row = sqlx::query(
                "SELECT count(*), min(recorded_at) FROM events
                 WHERE (transaction_id, global_position) > ($1::text::xid8, $2)",
            )
            .bind(after.transaction_id.to_string())
            .bind(after.position)
            .fetch_one(&mut **t)
            .await?;
            Ok((row.try_get(0)?, row.try_get(1)?))
        }
        Tx::Sqlite(t) => {
            let row = sqlx::query(
                "SELECT count(*), min(recorded_at) FROM events WHERE global_position > $1",
            )
            .bind(after.position)
            .fetch_one(&mut **t)
            .await?;
            let oldest: Option<String> = row.try_get(1)?;
            Ok((row.try_get(0)?, oldest.as_deref().and_then(parse_time)))
        }
    }
}

/// Every event of one complaint in sequence order, with positions and recording times.
pub async fn read_stream(
    pool: &crate::Pool,
    complaint_id: &str,
) -> Result<Vec<StoredEvent>, ProjectionError> {
    let mut tx = pool.begin().await?;
    let events = match &mut tx {
        Tx::Postgres(t) => {
            let sql = format!(
                "SELECT transaction_id::text AS transaction_id_text, {COLUMNS} FROM events
                 WHERE aggregate_type = 'Complaint' AND aggregate_id = $1 ORDER BY sequence"
            );
            let rows = sqlx::query(&sql)
                .bind(complaint_id)
                .fetch_all(&mut **t)
                .await?;
            rows.into_iter()
                .map(|row| {
                    let xid: String = row.try_get("transaction_id_text")?;
                    decode(RawRow {
                        transaction_id: xid.parse::<i64>().unwrap_or_default(),
                        position: row.try_get("global_position")?,
                        complaint_id: row.try_get("aggregate_id")?,
                        sequence: row.try_get("sequence")?,
                        event_type: row.try_get("event_type")?,
                        event_version: row.try_get("event_version")?,
                        payload: row.try_get("payload")?,
                        metadata: row.try_get("metadata")?,
                        recorded_at: row.try_get("recorded_at")?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        Tx::Sqlite(t) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM events WHERE aggregate_type = 'Complaint' AND aggregate_id = $1 ORDER BY sequence"
            );
            let rows = sqlx::query(&sql)
                .bind(complaint_id)
                .fetch_all(&mut **t)
                .await?;
            rows.into_iter()
                .map(decode_sqlite)
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    tx.rollback().await?;
    Ok(events)
}

fn decode_sqlite(row: sqlx::sqlite::SqliteRow) -> Result<StoredEvent, ProjectionError> {
    let recorded: String = row.try_get("recorded_at")?;
    let recorded_at = parse_time(&recorded).ok_or_else(|| ProjectionError::Decode {
        what: "recorded_at".into(),
        reason: recorded.clone(),
    })?;
    let payload: String = row.try_get("payload")?;
    let metadata: String = row.try_get("metadata")?;
    let json = |raw: &str| {
        serde_json::from_str::<serde_json::Value>(raw).map_err(|e| ProjectionError::Decode {
            what: "stored JSON".into(),
            reason: e.to_string(),
        })
    };
    decode(RawRow {
        transaction_id: 0,
        position: row.try_get("global_position")?,
        complaint_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: json(&payload)?,
        metadata: json(&metadata)?,
        recorded_at,
    })
}
