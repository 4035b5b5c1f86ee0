//! Reading the event log in commit-safe global order.
//!
//! PostgreSQL hands out `global_position` before commit, so a later position can commit
//! first. A reader therefore only takes rows whose writing transaction is older than every
//! transaction still in progress (`transaction_id < pg_snapshot_xmin(pg_current_snapshot())`)
//! and orders by `(transaction_id, global_position)`; the checkpoint is that pair. SQLite has
//! one writer at a time and assigns positions inside the write transaction, so position
//! order is commit order and the transaction part of the checkpoint stays 0.

use crate::crypto::{self, KeySet};
use crate::{EventLogError, Tx};
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
    /// The payload exactly as stored (before decoding into [`ComplaintEvent`]): what the
    /// sealer hashes and exports strip.
    pub stored_payload: serde_json::Value,
    /// The metadata exactly as stored.
    pub stored_metadata: serde_json::Value,
}

impl StoredEvent {
    /// Stable unique id of the event: `{complaint_id}:{sequence}`.
    pub fn event_id(&self) -> String {
        format!("{}:{}", self.complaint_id, self.sequence)
    }
}

// Payload and metadata are read as text on both backends (`json` on PostgreSQL keeps the
// text as written) and decoded here, so the raw reader and the decoding one share the SQL.
const COLUMNS: &str = "global_position, aggregate_id, sequence, event_type, event_version, CAST(payload AS TEXT) AS payload_text, CAST(metadata AS TEXT) AS metadata_text, recorded_at";

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

/// One row of the event table as stored, its JSON not yet decoded: what `complaints verify`
/// reads, so that a row too damaged to decode is still reported at its position.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
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
    /// The payload's stored JSON text.
    pub payload: String,
    /// The metadata's stored JSON text.
    pub metadata: String,
    /// When it was recorded; on SQLite, the stored text when it is not a timestamp.
    pub recorded_at: Result<DateTime<Utc>, String>,
}

impl RawEvent {
    /// Decodes the stored JSON into a [`StoredEvent`] without looking up data keys: sealed
    /// personal fields read as `"[encrypted]"` in [`StoredEvent::event`].
    pub fn decode(self) -> Result<StoredEvent, EventLogError> {
        self.decode_with(&KeySet::none())
    }

    /// Decodes the stored JSON, opening sealed personal fields with `keys` (those of an
    /// erased data subject read as `"[erased]"`). `stored_payload` stays as stored.
    pub fn decode_with(self, keys: &KeySet) -> Result<StoredEvent, EventLogError> {
        let RawEvent {
            checkpoint,
            complaint_id,
            sequence,
            event_type,
            event_version,
            payload,
            metadata,
            recorded_at,
        } = self;
        let position = checkpoint.position;
        let decode_error = |reason: String| EventLogError::Decode {
            what: format!("event at position {position}"),
            reason,
        };
        let recorded_at =
            recorded_at.map_err(|raw| decode_error(format!("recorded_at `{raw}`")))?;
        let stored_payload: serde_json::Value =
            serde_json::from_str(&payload).map_err(|e| decode_error(e.to_string()))?;
        let stored_metadata: serde_json::Value =
            serde_json::from_str(&metadata).map_err(|e| decode_error(e.to_string()))?;
        let event = if crypto::may_hold_envelopes(&payload) {
            let mut opened = stored_payload.clone();
            crypto::open_payload(&format!("{complaint_id}:{sequence}"), &mut opened, keys);
            ComplaintEvent::deserialize(&opened)
        } else {
            ComplaintEvent::deserialize(&stored_payload)
        }
        .map_err(|e| decode_error(e.to_string()))?;
        let metadata = HashMap::<String, String>::deserialize(&stored_metadata)
            .map_err(|e| decode_error(e.to_string()))?;
        Ok(StoredEvent {
            checkpoint,
            complaint_id,
            sequence,
            event_type,
            event_version,
            event,
            metadata,
            recorded_at,
            stored_payload,
            stored_metadata,
        })
    }
}

/// Up to `limit` events after `after`, in commit-safe order, read in `tx`.
pub async fn read_after(
    tx: &mut Tx,
    after: Checkpoint,
    limit: i64,
) -> Result<Vec<StoredEvent>, EventLogError> {
    // Consumers (read models, the relay, the sealer) never hold personal data: sealed fields
    // stay sealed here and read as "[encrypted]". Whoever needs them opens a complaint's
    // stream (`read_stream`) or decodes with `keys_for`.
    read_raw_after(tx, after, limit)
        .await?
        .into_iter()
        .map(RawEvent::decode)
        .collect()
}

/// The data keys the sealed fields of `raw` need, read in `tx`.
pub async fn keys_for(tx: &mut Tx, raw: &[RawEvent]) -> Result<KeySet, EventLogError> {
    crate::keys::keys_for_texts(tx, raw.iter().map(|r| r.payload.as_str()))
        .await
        .map_err(|e| EventLogError::Decode {
            what: "data keys".into(),
            reason: e.to_string(),
        })
}

/// Like [`read_after`], without decoding: the same rows in the same order.
pub async fn read_raw_after(
    tx: &mut Tx,
    after: Checkpoint,
    limit: i64,
) -> Result<Vec<RawEvent>, EventLogError> {
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
            rows.into_iter().map(raw_postgres).collect()
        }
        Tx::Sqlite(t) => {
            let sql = format!("SELECT {COLUMNS} FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2");
            let rows = sqlx::query(&sql)
                .bind(after.position)
                .bind(limit)
                .fetch_all(&mut **t)
                .await?;
            rows.into_iter().map(raw_sqlite).collect()
        }
    }
}

fn raw_postgres(row: sqlx::postgres::PgRow) -> Result<RawEvent, EventLogError> {
    let xid: String = row.try_get("transaction_id_text")?;
    let transaction_id = xid.parse::<i64>().map_err(|e| EventLogError::Decode {
        what: "transaction id".into(),
        reason: e.to_string(),
    })?;
    Ok(RawEvent {
        checkpoint: Checkpoint {
            transaction_id,
            position: row.try_get("global_position")?,
        },
        complaint_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload_text")?,
        metadata: row.try_get("metadata_text")?,
        recorded_at: Ok(row.try_get("recorded_at")?),
    })
}

fn raw_sqlite(row: sqlx::sqlite::SqliteRow) -> Result<RawEvent, EventLogError> {
    let recorded: String = row.try_get("recorded_at")?;
    Ok(RawEvent {
        checkpoint: Checkpoint {
            transaction_id: 0,
            position: row.try_get("global_position")?,
        },
        complaint_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload_text")?,
        metadata: row.try_get("metadata_text")?,
        recorded_at: parse_time(&recorded).ok_or(recorded),
    })
}

/// How far a consumer at `after` is behind: events not yet taken, and when the oldest of
/// them was recorded.
pub async fn backlog(
    tx: &mut Tx,
    after: Checkpoint,
) -> Result<(i64, Option<DateTime<Utc>>), EventLogError> {
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
) -> Result<Vec<StoredEvent>, EventLogError> {
    let mut tx = pool.begin().await?;
    let raw = match &mut tx {
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
                .map(raw_postgres)
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
                .map(raw_sqlite)
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    let keys = keys_for(&mut tx, &raw).await?;
    tx.rollback().await?;
    raw.into_iter().map(|r| r.decode_with(&keys)).collect()
}
