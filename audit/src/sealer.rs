//! The sealer (consumer `sealer`): links every event, in the runner's commit-safe order, into
//! the hash chain and stores the links; and the queries over the stored chain.

use crate::canonical::{canonical_time, from_hex, link_hash, to_hex, Hash, LeafInput, ZERO_LINK};
use crate::AuditError;
use async_trait::async_trait;
use complaints_domain::ComplaintEvent;
use complaints_eventlog::{
    on_pool, on_tx, Consumer, EventLogError, Generation, Pool, StoredEvent, TableDef, Tx,
};
use serde::Serialize;
use sqlx::Row;
use std::collections::HashMap;

/// Consumer name.
pub const NAME: &str = "sealer";

/// The chain table's stable name (a view over the live generation).
pub const CHAIN: &str = "audit_chain";

// ---------------------------------------------------------------------------------------
// The consumer
// ---------------------------------------------------------------------------------------

/// One sealed event (a row of `audit_chain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainLink {
    /// 1 for the first event sealed.
    pub chain_index: i64,
    /// Global position of the event.
    pub position: i64,
    /// Writing transaction (PostgreSQL), 0 on SQLite.
    pub transaction_id: i64,
    /// The complaint.
    pub complaint_id: String,
    /// Its sequence.
    pub sequence: i64,
    /// The complaint's organisation.
    pub organisation_id: String,
    /// Canonical recording time.
    pub recorded_at: String,
    /// Leaf hash, lowercase hex.
    pub leaf_hash: String,
    /// Link hash, lowercase hex.
    pub link_hash: String,
}

/// The `sealer` consumer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sealer;

const LINK_COLUMNS: &str = "chain_index, position, transaction_id, complaint_id, sequence, organisation_id, recorded_at, leaf_hash, link_hash";

fn link_from_row<R: Row>(row: &R) -> Result<ChainLink, sqlx::Error>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(ChainLink {
        chain_index: row.try_get("chain_index")?,
        position: row.try_get("position")?,
        transaction_id: row.try_get("transaction_id")?,
        complaint_id: row.try_get("complaint_id")?,
        sequence: row.try_get("sequence")?,
        organisation_id: row.try_get("organisation_id")?,
        recorded_at: row.try_get("recorded_at")?,
        leaf_hash: row.try_get("leaf_hash")?,
        link_hash: row.try_get("link_hash")?,
    })
}

fn decode_hash(what: &str, raw: &str) -> Result<Hash, AuditError> {
    from_hex(raw).ok_or_else(|| AuditError::Decode {
        what: what.to_string(),
        reason: format!("`{raw}` is not a SHA-256 hash in hex"),
    })
}

fn organisation_in(event: &StoredEvent) -> Option<String> {
    match &event.event {
        ComplaintEvent::ComplaintReceived {
            organisation_id, ..
        } => Some(organisation_id.clone()),
        _ => None,
    }
}

#[async_trait]
impl Consumer for Sealer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> Vec<TableDef> {
        vec![TableDef {
            base: CHAIN,
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
        let table = generation.table(CHAIN);
        let head_sql =
            format!("SELECT chain_index, link_hash FROM {table} ORDER BY chain_index DESC LIMIT 1");
        let head: Option<(i64, String)> = on_tx!(tx, |c| sqlx::query(&head_sql)
            .fetch_optional(c)
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()?);
        let (mut index, mut link) = match head {
            Some((index, link)) => (index, decode_hash("the sealed head", &link)?),
            None => (0, ZERO_LINK),
        };
        let org_sql = format!(
            "SELECT organisation_id FROM {table} WHERE complaint_id = $1 ORDER BY sequence LIMIT 1"
        );
        let insert = format!(
            "INSERT INTO {table} ({LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let mut organisations: HashMap<String, String> = HashMap::new();
        for event in events {
            let leaf = LeafInput::of(event).leaf();
            link = link_hash(&link, &leaf);
            index += 1;
            let organisation = match organisation_in(event) {
                Some(org) => org,
                None => match organisations.get(&event.complaint_id) {
                    Some(org) => org.clone(),
                    None => {
                        let found: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(&org_sql)
                            .bind(&event.complaint_id)
                            .fetch_optional(c)
                            .await?);
                        // A stream that does not start with its receipt (never written by
                        // this service) falls back to the organisation acted for.
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

// ---------------------------------------------------------------------------------------
// Reading the chain
// ---------------------------------------------------------------------------------------

/// The last sealed event, if any.
pub async fn head(pool: &Pool) -> Result<Option<ChainLink>, AuditError> {
    let sql = format!("SELECT {LINK_COLUMNS} FROM {CHAIN} ORDER BY chain_index DESC LIMIT 1");
    Ok(on_pool!(pool, |p| sqlx::query(&sql)
        .fetch_optional(p)
        .await?
        .map(|r| link_from_row(&r))
        .transpose()?))
}

/// The sealed event at `chain_index`.
pub async fn link_at(pool: &Pool, chain_index: i64) -> Result<Option<ChainLink>, AuditError> {
    let sql = format!("SELECT {LINK_COLUMNS} FROM {CHAIN} WHERE chain_index = $1");
    Ok(on_pool!(pool, |p| sqlx::query(&sql)
        .bind(chain_index)
        .fetch_optional(p)
        .await?
        .map(|r| link_from_row(&r))
        .transpose()?))
}

/// Every sealed event of one complaint, in sequence order.
pub async fn links_of_complaint(
    pool: &Pool,
    complaint_id: &str,
) -> Result<Vec<ChainLink>, AuditError> {
    let sql =
        format!("SELECT {LINK_COLUMNS} FROM {CHAIN} WHERE complaint_id = $1 ORDER BY sequence");
    Ok(on_pool!(pool, |p| sqlx::query(&sql)
        .bind(complaint_id)
        .fetch_all(p)
        .await?
        .iter()
        .map(link_from_row)
        .collect::<Result<Vec<_>, _>>()?))
}

/// Up to `limit` sealed events after `after_index`, in chain order.
pub async fn links_after(
    pool: &Pool,
    after_index: i64,
    limit: i64,
) -> Result<Vec<ChainLink>, AuditError> {
    let sql = format!(
        "SELECT {LINK_COLUMNS} FROM {CHAIN} WHERE chain_index > $1 ORDER BY chain_index LIMIT $2"
    );
    Ok(on_pool!(pool, |p| sqlx::query(&sql)
        .bind(after_index)
        .bind(limit)
        .fetch_all(p)
        .await?
        .iter()
        .map(link_from_row)
        .collect::<Result<Vec<_>, _>>()?))
}

/// A sealed event with its stored payload, for exports.
#[derive(Debug, Clone)]
pub struct SealedEvent {
    /// Its link.
    pub link: ChainLink,
    /// `event_type`.
    pub event_type: String,
    /// `event_version`.
    pub event_version: String,
    /// The stored payload JSON text.
    pub payload: String,
    /// The stored metadata JSON text.
    pub metadata: String,
}

/// Which sealed events an export takes: one organisation's, recorded in `[from, until)`
/// (canonical times, compared as text), at chain indexes `(after_index, up_to_index]`.
#[derive(Debug, Clone)]
pub struct SealedFilter<'a> {
    /// The organisation.
    pub organisation: &'a str,
    /// Recorded at or after (canonical text).
    pub from: String,
    /// Recorded before (canonical text).
    pub until: String,
    /// Exclusive lower bound of the chain index.
    pub after_index: i64,
    /// Inclusive upper bound of the chain index (the head when the export started).
    pub up_to_index: i64,
}

const SEALED_WHERE: &str = "c.organisation_id = $1 AND c.recorded_at >= $2 AND c.recorded_at < $3
     AND c.chain_index > $4 AND c.chain_index <= $5";

/// How many sealed events `filter` matches.
pub async fn count_sealed(pool: &Pool, filter: &SealedFilter<'_>) -> Result<i64, AuditError> {
    let sql = format!("SELECT count(*) FROM {CHAIN} c WHERE {SEALED_WHERE}");
    Ok(on_pool!(pool, |p| sqlx::query_scalar(&sql)
        .bind(filter.organisation)
        .bind(&filter.from)
        .bind(&filter.until)
        .bind(filter.after_index)
        .bind(filter.up_to_index)
        .fetch_one(p)
        .await?))
}

/// Up to `limit` sealed events matching `filter`, in chain order, with their stored JSON.
pub async fn sealed_page(
    pool: &Pool,
    filter: &SealedFilter<'_>,
    limit: i64,
) -> Result<Vec<SealedEvent>, AuditError> {
    let sql = format!(
        "SELECT c.chain_index, c.position, c.transaction_id, c.complaint_id, c.sequence, c.organisation_id,
                c.recorded_at, c.leaf_hash, c.link_hash, e.event_type, e.event_version,
                CAST(e.payload AS TEXT) AS payload_text, CAST(e.metadata AS TEXT) AS metadata_text
         FROM {CHAIN} c JOIN events e ON e.global_position = c.position
         WHERE {SEALED_WHERE}
         ORDER BY c.chain_index LIMIT $6"
    );
    Ok(on_pool!(pool, |p| sqlx::query(&sql)
        .bind(filter.organisation)
        .bind(&filter.from)
        .bind(&filter.until)
        .bind(filter.after_index)
        .bind(filter.up_to_index)
        .bind(limit)
        .fetch_all(p)
        .await?
        .iter()
        .map(|r| {
            Ok::<_, sqlx::Error>(SealedEvent {
                link: link_from_row(r)?,
                event_type: r.try_get("event_type")?,
                event_version: r.try_get("event_version")?,
                payload: r.try_get("payload_text")?,
                metadata: r.try_get("metadata_text")?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?))
}
