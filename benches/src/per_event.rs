//! The sealer as it was before issue 16 (one `INSERT` and, for a complaint first met in a
//! batch, one lookup per event), copied from `audit/src/sealer.rs` at HEAD into a table of
//! its own, to measure the set-based sealer against it on the same data and to check the
//! two chains are identical row for row.

use async_trait::async_trait;
use complaints_audit::canonical::{
    canonical_time, from_hex, link_hash, to_hex, LeafInput, ZERO_LINK,
};
use complaints_domain::ComplaintEvent;
use complaints_eventlog::{on_tx, Consumer, EventLogError, Generation, StoredEvent, TableDef, Tx};
use sqlx::Row;
use std::collections::HashMap;

/// Its chain table (a view over the live generation).
pub const TABLE: &str = "bench_chain_per_event";

/// The per-event sealer.
pub struct PerEventSealer;

#[async_trait]
impl Consumer for PerEventSealer {
    fn name(&self) -> &'static str {
        "bench_sealer_per_event"
    }

    fn tables(&self) -> Vec<TableDef> {
        vec![TableDef {
            base: TABLE,
            columns: |_| {
                "chain_index BIGINT PRIMARY KEY, position BIGINT NOT NULL UNIQUE, transaction_id BIGINT NOT NULL,
                 complaint_id TEXT NOT NULL, sequence BIGINT NOT NULL, organisation_id TEXT NOT NULL,
                 recorded_at TEXT NOT NULL, leaf_hash TEXT NOT NULL, link_hash TEXT NOT NULL"
                    .into()
            },
            indexes: &["complaint_id, sequence", "organisation_id, chain_index"],
        }]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        generation: Generation,
        events: &[StoredEvent],
    ) -> Result<(), EventLogError> {
        let table = generation.table(TABLE);
        let head_sql =
            format!("SELECT chain_index, link_hash FROM {table} ORDER BY chain_index DESC LIMIT 1");
        let head: Option<(i64, String)> = on_tx!(tx, |c| sqlx::query(&head_sql)
            .fetch_optional(c)
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()?);
        let (mut index, mut link) = match head {
            Some((index, link)) => (index, from_hex(&link).unwrap_or(ZERO_LINK)),
            None => (0, ZERO_LINK),
        };
        let org_sql = format!(
            "SELECT organisation_id FROM {table} WHERE complaint_id = $1 ORDER BY sequence LIMIT 1"
        );
        let insert = format!(
            "INSERT INTO {table} (chain_index, position, transaction_id, complaint_id, sequence, organisation_id, recorded_at, leaf_hash, link_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let mut organisations: HashMap<String, String> = HashMap::new();
        for event in events {
            let leaf = LeafInput::of(event).leaf();
            link = link_hash(&link, &leaf);
            index += 1;
            let received = match &event.event {
                ComplaintEvent::ComplaintReceived {
                    organisation_id, ..
                } => Some(organisation_id.clone()),
                _ => None,
            };
            let organisation = match received {
                Some(org) => org,
                None => match organisations.get(&event.complaint_id) {
                    Some(org) => org.clone(),
                    None => {
                        let found: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(&org_sql)
                            .bind(&event.complaint_id)
                            .fetch_optional(c)
                            .await?);
                        found
                            .or_else(|| event.metadata.get("organisation_id").cloned())
                            .unwrap_or_default()
                    }
                },
            };
            organisations.insert(event.complaint_id.clone(), organisation.clone());
            let recorded_at = canonical_time(event.recorded_at);
            on_tx!(tx, |c| sqlx::query(&insert)
                .bind(index)
                .bind(event.checkpoint.position)
                .bind(event.checkpoint.transaction_id)
                .bind(&event.complaint_id)
                .bind(event.sequence)
                .bind(&organisation)
                .bind(&recorded_at)
                .bind(to_hex(&leaf))
                .bind(to_hex(&link))
                .execute(c)
                .await?
                .rows_affected());
        }
        Ok(())
    }
}
