//! Bulk appends of new complaints: many complaints' whole histories in one transaction, with
//! personal fields sealed exactly as an ordinary append seals them. For loading a simulated
//! or migrated workload at national scale, where a transaction per command would take hours.
//!
//! Per batch, however many complaints: one read of the people already known, one statement
//! each for new data keys, subject links and events, then one commit. The aggregate is not
//! consulted here: the caller has already decided every event (`complaints_domain::decide`),
//! and only streams that do not yet exist may be written.

use crate::crypto::{seal_payload, Subjects};
use crate::keys::{
    insert_keys, insert_links, load_keys_tx, register_receipts, NewKey, NewLink, ReceiptPeople,
};
use crate::{EventLog, EventLogError, Tx};
use complaints_domain::{Complaint, ComplaintEvent};
use cqrs_es::persist::SerializedEvent;
use cqrs_es::EventEnvelope;
use std::collections::{BTreeSet, HashMap};

/// One new complaint's events, from sequence 1, each with its command's metadata.
#[derive(Debug, Clone)]
pub struct NewStream {
    /// The complaint's id.
    pub complaint_id: String,
    /// Its events in order, each with the metadata of the command that decided it.
    pub events: Vec<(ComplaintEvent, HashMap<String, String>)>,
}

/// Rows per SQLite `INSERT` (7 parameters each, inside SQLite's limit of 32,766).
const SQLITE_ROWS_PER_STATEMENT: usize = 2_000;

fn store_error(what: &str, e: impl std::fmt::Display) -> EventLogError {
    EventLogError::Store(format!("bulk append: {what}: {e}"))
}

impl EventLog {
    /// Appends the whole histories of `streams`, none of which may exist yet, in one
    /// transaction: all of them or none. Returns the number of events written.
    ///
    /// # Errors
    /// [`EventLogError::Conflict`] if a stream already exists; database and key errors as
    /// they come.
    pub async fn append_new_streams(&self, streams: &[NewStream]) -> Result<u64, EventLogError> {
        let mut events = Vec::with_capacity(streams.iter().map(|s| s.events.len()).sum());
        for stream in streams {
            for (n, (payload, metadata)) in stream.events.iter().enumerate() {
                let envelope = EventEnvelope::<Complaint> {
                    aggregate_id: stream.complaint_id.clone(),
                    sequence: n + 1,
                    payload: payload.clone(),
                    metadata: metadata.clone(),
                };
                events.push(
                    SerializedEvent::try_from(&envelope)
                        .map_err(|e| store_error("serialising", e))?,
                );
            }
        }
        let mut tx = self.pool().begin().await?;
        if let Some(encryption) = self.encryption() {
            let receipts: Vec<ReceiptPeople<'_>> = events
                .iter()
                .filter_map(|e| {
                    e.payload
                        .get("ComplaintReceived")
                        .map(|r| ReceiptPeople::of(encryption, &e.aggregate_id, r))
                })
                .collect();
            let (subjects, new_keys, new_links) =
                register_receipts(self.pool(), encryption, &receipts)
                    .await
                    .map_err(|e| store_error("registering data subjects", e))?;
            drop(receipts);
            write_keys(&mut tx, encryption, &new_keys, &new_links).await?;
            seal_all(&mut tx, &mut events, &subjects).await?;
        }
        insert_events(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(events.len() as u64)
    }
}

async fn write_keys(
    tx: &mut Tx,
    encryption: &crate::crypto::Encryption,
    keys: &[NewKey],
    links: &[NewLink],
) -> Result<(), EventLogError> {
    // Each statement's parameters grow with its rows; these chunks keep both backends'
    // limits (4 per row) far away.
    for chunk in keys.chunks(4_000) {
        insert_keys(tx, encryption.wrapper().as_ref(), chunk)
            .await
            .map_err(|e| store_error("data keys", e))?;
    }
    for chunk in links.chunks(4_000) {
        insert_links(tx, chunk)
            .await
            .map_err(|e| store_error("subject links", e))?;
    }
    Ok(())
}

/// Seals the personal fields of `events` with one read of every key they need.
async fn seal_all(
    tx: &mut Tx,
    events: &mut [SerializedEvent],
    subjects: &HashMap<String, Subjects>,
) -> Result<(), EventLogError> {
    let wanted: BTreeSet<String> = subjects
        .values()
        .flat_map(|s| s.complainant.iter().chain(s.person_affected.iter()))
        .cloned()
        .collect();
    let keys = load_keys_tx(tx, &wanted)
        .await
        .map_err(|e| store_error("data keys", e))?;
    for event in events.iter_mut() {
        if !ComplaintEvent::carries_personal_data(&event.event_type) {
            continue;
        }
        let Some(people) = subjects.get(&event.aggregate_id).filter(|s| !s.is_empty()) else {
            tracing::warn!(complaint_id = %event.aggregate_id, "no data subjects known; personal fields stored unsealed");
            continue;
        };
        let id = format!("{}:{}", event.aggregate_id, event.sequence);
        seal_payload(
            &event.event_type,
            &event.event_version,
            &id,
            &mut event.payload,
            people,
            &keys,
        )
        .map_err(|e| store_error("sealing", e))?;
    }
    Ok(())
}

/// The events in one statement on PostgreSQL (arrays, `UNNEST`) and in chunks of multi-row
/// `INSERT`s through the positioning view on SQLite.
async fn insert_events(tx: &mut Tx, events: &[SerializedEvent]) -> Result<(), EventLogError> {
    let conflict = |e: sqlx::Error| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => EventLogError::Conflict,
        _ => EventLogError::Database(e),
    };
    match tx {
        Tx::Postgres(t) => {
            // One array per column, bound once: the statement's size does not grow with rows.
            let mut aggregate_types = Vec::with_capacity(events.len());
            let mut aggregate_ids = Vec::with_capacity(events.len());
            let mut sequences = Vec::with_capacity(events.len());
            let mut event_types = Vec::with_capacity(events.len());
            let mut event_versions = Vec::with_capacity(events.len());
            let mut payloads = Vec::with_capacity(events.len());
            let mut metadata = Vec::with_capacity(events.len());
            for e in events {
                aggregate_types.push(e.aggregate_type.as_str());
                aggregate_ids.push(e.aggregate_id.as_str());
                sequences.push(i64::try_from(e.sequence).unwrap_or(i64::MAX));
                event_types.push(e.event_type.as_str());
                event_versions.push(e.event_version.as_str());
                payloads.push(e.payload.to_string());
                metadata.push(e.metadata.to_string());
            }
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata) \
                 SELECT t, a, s, et, ev, p::json, m::json FROM UNNEST($1::text[], $2::text[], \
                 $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) AS x(t, a, s, et, ev, p, m)",
            )
            .bind(&aggregate_types)
            .bind(&aggregate_ids)
            .bind(&sequences)
            .bind(&event_types)
            .bind(&event_versions)
            .bind(&payloads)
            .bind(&metadata)
            .execute(&mut **t)
            .await
            .map_err(conflict)?;
        }
        Tx::Sqlite(t) => {
            for chunk in events.chunks(SQLITE_ROWS_PER_STATEMENT) {
                let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                     event_version, payload, metadata) ",
                );
                query.push_values(chunk, |mut row, e| {
                    row.push_bind(&e.aggregate_type)
                        .push_bind(&e.aggregate_id)
                        .push_bind(i64::try_from(e.sequence).unwrap_or(i64::MAX))
                        .push_bind(&e.event_type)
                        .push_bind(&e.event_version)
                        .push_bind(e.payload.to_string())
                        .push_bind(e.metadata.to_string());
                });
                query.build().execute(&mut **t).await.map_err(conflict)?;
            }
        }
    }
    Ok(())
}
