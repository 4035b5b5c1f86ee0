//! The sealer (consumer `sealer`): links every event, in the runner's commit-safe order, into
//! the hash chain and stores the links; and the queries over the stored chain.

use crate::canonical::{canonical_time, from_hex, link_hash, to_hex, Hash, LeafInput, ZERO_LINK};
use crate::AuditError;
use async_trait::async_trait;
use complaints_domain::ComplaintEvent;
use complaints_eventlog::{
    on_pool, on_tx, Backend, Consumer, EventLogError, Generation, Pool, StoredEvent, TableDef, Tx,
};
use serde::Serialize;
use sqlx::Row;
use std::collections::{HashMap, HashSet};

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
        if events.is_empty() {
            return Ok(());
        }
        let table = generation.table(CHAIN);
        let head_sql =
            format!("SELECT chain_index, link_hash FROM {table} ORDER BY chain_index DESC LIMIT 1");
        let head: Option<(i64, String)> = on_tx!(tx, |c| sqlx::query(&head_sql)
            .fetch_optional(c)
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()?);
        let (index, link) = match head {
            Some((index, link)) => (index, decode_hash("the sealed head", &link)?),
            None => (0, ZERO_LINK),
        };
        let known = sealed_organisations(tx, &table, events).await?;
        let rows = fold_links(index, link, events, &known);
        insert_links(tx, &table, &rows).await
    }
}

/// The largest number of bind parameters one statement may carry: SQLite's default limit
/// (32,766) is the lower of the two backends' (PostgreSQL's is 65,535).
const MAX_BIND_PARAMETERS: usize = 32_766;
/// Columns of `audit_chain`, bound per row.
const LINK_COLUMN_COUNT: usize = 9;
/// Rows per multi-row `INSERT` on each backend, under its bind-parameter limit.
fn rows_per_insert(backend: Backend) -> usize {
    match backend {
        Backend::Postgres => 65_535 / LINK_COLUMN_COUNT,
        Backend::Sqlite => MAX_BIND_PARAMETERS / LINK_COLUMN_COUNT,
    }
}

/// The organisation of each complaint of `events` whose first event in the batch is not its
/// receipt, as sealed in an earlier batch (the organisation of its first sealed link): one
/// query per batch (chunked under the bind limit), not one per event.
async fn sealed_organisations(
    tx: &mut Tx,
    table: &str,
    events: &[StoredEvent],
) -> Result<HashMap<String, String>, EventLogError> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut wanted: Vec<&str> = Vec::new();
    for event in events {
        if seen.insert(event.complaint_id.as_str()) && organisation_in(event).is_none() {
            wanted.push(event.complaint_id.as_str());
        }
    }
    let mut found = HashMap::new();
    for chunk in wanted.chunks(MAX_BIND_PARAMETERS) {
        let placeholders = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        // The first sealed link of each complaint, as the per-event lookup
        // (`ORDER BY sequence LIMIT 1`) found it; (complaint_id, sequence) is indexed.
        let sql = format!(
            "SELECT c.complaint_id, c.organisation_id FROM {table} c
             WHERE c.complaint_id IN ({placeholders})
               AND c.sequence = (SELECT min(f.sequence) FROM {table} f WHERE f.complaint_id = c.complaint_id)"
        );
        let rows: Vec<(String, String)> = on_tx!(tx, |c| {
            let mut query = sqlx::query_as(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            query.fetch_all(c).await?
        });
        found.extend(rows);
    }
    Ok(found)
}

/// One row of `audit_chain` before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LinkRow {
    chain_index: i64,
    position: i64,
    transaction_id: i64,
    complaint_id: String,
    sequence: i64,
    organisation_id: String,
    recorded_at: String,
    leaf_hash: String,
    link_hash: String,
}

/// Folds a batch into its links in memory, in order: the leaf of each event, its link to
/// the one before, and its complaint's organisation (from its receipt, an earlier event of
/// the batch, a link sealed earlier (`known`), or else the organisation acted for).
fn fold_links(
    mut index: i64,
    mut link: Hash,
    events: &[StoredEvent],
    known: &HashMap<String, String>,
) -> Vec<LinkRow> {
    let mut organisations: HashMap<&str, String> = HashMap::new();
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let leaf = LeafInput::of(event).leaf();
        link = link_hash(&link, &leaf);
        index += 1;
        let organisation = match organisation_in(event) {
            Some(org) => org,
            None => match organisations.get(event.complaint_id.as_str()) {
                Some(org) => org.clone(),
                // A stream that does not start with its receipt (never written by this
                // service) falls back to the organisation acted for.
                None => known
                    .get(&event.complaint_id)
                    .cloned()
                    .or_else(|| event.metadata.get("organisation_id").cloned())
                    .unwrap_or_default(),
            },
        };
        organisations.insert(event.complaint_id.as_str(), organisation.clone());
        rows.push(LinkRow {
            chain_index: index,
            position: event.checkpoint.position,
            transaction_id: event.checkpoint.transaction_id,
            complaint_id: event.complaint_id.clone(),
            sequence: event.sequence,
            organisation_id: organisation,
            recorded_at: canonical_time(event.recorded_at),
            leaf_hash: to_hex(&leaf),
            link_hash: to_hex(&link),
        });
    }
    rows
}

/// Writes `rows` with one multi-row `INSERT` per chunk (one per batch up to the
/// bind-parameter limit).
async fn insert_links(tx: &mut Tx, table: &str, rows: &[LinkRow]) -> Result<(), EventLogError> {
    for chunk in rows.chunks(rows_per_insert(tx.backend())) {
        let mut sql = format!("INSERT INTO {table} ({LINK_COLUMNS}) VALUES ");
        for r in 0..chunk.len() {
            if r > 0 {
                sql.push_str(", ");
            }
            let first = r * LINK_COLUMN_COUNT;
            sql.push('(');
            for c in 1..=LINK_COLUMN_COUNT {
                if c > 1 {
                    sql.push_str(", ");
                }
                sql.push('$');
                sql.push_str(&(first + c).to_string());
            }
            sql.push(')');
        }
        on_tx!(tx, |c| {
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(row.chain_index)
                    .bind(row.position)
                    .bind(row.transaction_id)
                    .bind(&row.complaint_id)
                    .bind(row.sequence)
                    .bind(&row.organisation_id)
                    .bind(&row.recorded_at)
                    .bind(&row.leaf_hash)
                    .bind(&row.link_hash);
            }
            query.execute(c).await?.rows_affected()
        });
    }
    Ok(())
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
