//! Per-complaint fold state kept by read models that derive rows from the whole case
//! (deadlines need every fact, not just the latest event).

use crate::models::batch::{fetch_in, insert_rows, Value};
use crate::ProjectionError;
use complaints_domain::{evolve, Complaint};
use complaints_eventlog::{is_restricted, Generation, StoredEvent, TableDef, Tx};
use std::collections::{BTreeMap, BTreeSet};

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
/// stored version are skipped, so a repeated batch changes nothing. The states are read in
/// one query and written in one statement, whatever the batch holds.
pub async fn fold_batch(
    tx: &mut Tx,
    table: &str,
    events: &[StoredEvent],
) -> Result<BTreeMap<String, FoldedCase>, ProjectionError> {
    // R-KIND-3: a whistleblowing concern never reaches a read model.
    let events: Vec<&StoredEvent> = events.iter().filter(|e| !is_restricted(e)).collect();
    let ids: Vec<String> = events
        .iter()
        .map(|e| e.complaint_id.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut touched = load(tx, table, &ids).await?;
    for event in events {
        let folded = touched.entry(event.complaint_id.clone()).or_default();
        if event.sequence <= folded.version {
            continue;
        }
        evolve(&mut folded.case, event.event.clone());
        folded.version = event.sequence;
        // The one text form of an instant the read models use (`sql::timestamp_text`).
        folded.last_event_at = event
            .recorded_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    }
    save(tx, table, &touched).await?;
    Ok(touched)
}

/// The stored states of `ids`; a complaint not stored yet is absent.
async fn load(
    tx: &mut Tx,
    table: &str,
    ids: &[String],
) -> Result<BTreeMap<String, FoldedCase>, ProjectionError> {
    let head = format!(
        "SELECT complaint_id, version, last_event_at, state FROM {table} WHERE complaint_id"
    );
    let rows: Vec<(String, i64, String, String)> = fetch_in(tx, &head, ids).await?;
    let mut loaded = BTreeMap::new();
    for (id, version, last_event_at, state) in rows {
        let case: Complaint =
            serde_json::from_str(&state).map_err(|e| ProjectionError::Decode {
                what: format!("stored state of {id}"),
                reason: e.to_string(),
            })?;
        loaded.insert(
            id,
            FoldedCase {
                case,
                version,
                last_event_at,
            },
        );
    }
    Ok(loaded)
}

async fn save(
    tx: &mut Tx,
    table: &str,
    touched: &BTreeMap<String, FoldedCase>,
) -> Result<(), ProjectionError> {
    let mut rows = Vec::with_capacity(touched.len());
    for (id, folded) in touched {
        let state = serde_json::to_string(&folded.case).map_err(|e| ProjectionError::Decode {
            what: format!("state of {id}"),
            reason: e.to_string(),
        })?;
        rows.push(vec![
            Value::from(id),
            Value::from(folded.version),
            Value::from(&folded.last_event_at),
            Value::from(state),
        ]);
    }
    insert_rows(
        tx,
        table,
        &["complaint_id", "version", "last_event_at", "state"],
        rows,
        "ON CONFLICT (complaint_id) DO UPDATE SET version = excluded.version,
           last_event_at = excluded.last_event_at, state = excluded.state",
    )
    .await?;
    Ok(())
}

/// The physical state table of `generation`.
pub fn state_table_name(generation: Generation, base: &str) -> String {
    generation.table(base)
}
