//! Per-complaint fold state kept by read models that derive rows from the whole case
//! (deadlines need every fact, not just the latest event).

use crate::ProjectionError;
use complaints_domain::{evolve, Complaint};
use complaints_eventlog::{is_restricted, on_tx, Generation, StoredEvent, TableDef, Tx};
use sqlx::Row;
use std::collections::BTreeMap;

/// A complaint folded up to an event, with where that event sits.
#[derive(Debug, Clone, Default)]
pub struct FoldedCase {
    /// The complaint.
    pub case: Complaint,
    /// Last applied sequence.
    pub version: i64,
    /// When the last applied event was recorded (RFC 3339).
    pub last_event_at: String,
}

/// The state table's definition, named `{prefix}_state`.
pub fn state_table(base: &'static str) -> TableDef {
    TableDef {
        base,
        columns: |_| {
            "complaint_id TEXT PRIMARY KEY, version BIGINT NOT NULL, last_event_at TEXT NOT NULL, state TEXT NOT NULL".into()
        },
        indexes: &[],
    }
}

/// Folds `events` into the stored states of the complaints they touch and returns each
/// touched complaint's new state, in complaint-id order. Events at or below a complaint's
/// stored version are skipped, so a repeated batch changes nothing.
pub async fn fold_batch(
    tx: &mut Tx,
    table: &str,
    events: &[StoredEvent],
) -> Result<BTreeMap<String, FoldedCase>, ProjectionError> {
    let mut touched: BTreeMap<String, FoldedCase> = BTreeMap::new();
    // R-KIND-3: a whistleblowing concern never reaches a read model.
    for event in events.iter().filter(|e| !is_restricted(e)) {
        if !touched.contains_key(&event.complaint_id) {
            let loaded = load(tx, table, &event.complaint_id).await?;
            touched.insert(event.complaint_id.clone(), loaded.unwrap_or_default());
        }
        let Some(folded) = touched.get_mut(&event.complaint_id) else {
            continue;
        };
        if event.sequence <= folded.version {
            continue;
        }
        evolve(&mut folded.case, event.event.clone());
        folded.version = event.sequence;
        folded.last_event_at = event.recorded_at.to_rfc3339();
    }
    for (id, folded) in &touched {
        save(tx, table, id, folded).await?;
    }
    Ok(touched)
}

async fn load(tx: &mut Tx, table: &str, id: &str) -> Result<Option<FoldedCase>, ProjectionError> {
    let sql = format!("SELECT version, last_event_at, state FROM {table} WHERE complaint_id = $1");
    let row: Option<(i64, String, String)> = on_tx!(tx, |c| sqlx::query(&sql)
        .bind(id)
        .fetch_optional(c)
        .await?
        .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .transpose()?);
    let Some((version, last_event_at, state)) = row else {
        return Ok(None);
    };
    let case: Complaint = serde_json::from_str(&state).map_err(|e| ProjectionError::Decode {
        what: format!("stored state of {id}"),
        reason: e.to_string(),
    })?;
    Ok(Some(FoldedCase {
        case,
        version,
        last_event_at,
    }))
}

async fn save(
    tx: &mut Tx,
    table: &str,
    id: &str,
    folded: &FoldedCase,
) -> Result<(), ProjectionError> {
    let state = serde_json::to_string(&folded.case).map_err(|e| ProjectionError::Decode {
        what: format!("state of {id}"),
        reason: e.to_string(),
    })?;
    let sql = format!(
        "INSERT INTO {table} (complaint_id, version, last_event_at, state) VALUES ($1, $2, $3, $4)
         ON CONFLICT (complaint_id) DO UPDATE SET version = excluded.version,
           last_event_at = excluded.last_event_at, state = excluded.state"
    );
    on_tx!(tx, |c| sqlx::query(&sql)
        .bind(id)
        .bind(folded.version)
        .bind(&folded.last_event_at)
        .bind(&state)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

/// The physical state table of `generation`.
pub fn state_table_name(generation: Generation, base: &str) -> String {
    generation.table(base)
}
