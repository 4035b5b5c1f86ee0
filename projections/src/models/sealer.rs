//! The sealer (consumer `sealer`): links every event, in the runner's commit-safe order, into
//! a SHA-256 hash chain, and the streaming check that recomputes the chain from the log.
//!
//! `leaf = SHA-256(0x00 || canonical bytes of the event as stored)`,
//! `link_n = SHA-256(0x01 || link_{n-1} || leaf_n)`, `link_0` = 32 zero bytes: distinct
//! prefixes for leaves and links as RFC 6962 has them, so a leaf can never be passed off as
//! a link. The canonical bytes are specified in `schemas/audit-chain.md` for third parties;
//! they are built from the stored JSON (ciphertext, once personal fields are encrypted), so
//! erasing a data subject's key never changes a leaf.
//!
//! Reporting interface (view `audit_chain`, one row per sealed event): `chain_index` (1, 2,
//! …), `position` (global position), `transaction_id` (PostgreSQL `xid8`, 0 on SQLite),
//! `complaint_id`, `sequence`, `organisation_id` (the complaint's), `recorded_at` (canonical
//! text, below), `leaf_hash` and `link_hash` (lowercase hex).
//!
//! A rebuild recomputes the same chain from the log (the fold is deterministic); signed
//! checkpoints handed out earlier (gateway `audit.rs`) still match unless the log changed.

use crate::log::{read_raw_after, Checkpoint, RawEvent};
use crate::{
    backlog, on_pool, on_tx, Generation, Pool, Progress, Projection, ProjectionError, StoredEvent,
    TableDef, Tx,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use complaints_domain::ComplaintEvent;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::{HashMap, VecDeque};

/// Consumer name.
pub const NAME: &str = "sealer";

/// The chain table's stable name (a view over the live generation).
pub const CHAIN: &str = "audit_chain";

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The link before the first event.
pub const ZERO_LINK: Hash = [0u8; 32];

/// Prefix of a leaf hash's input.
pub const LEAF_PREFIX: u8 = 0x00;
/// Prefix of a link hash's input.
pub const LINK_PREFIX: u8 = 0x01;

// ---------------------------------------------------------------------------------------
// Canonical bytes and hashes (schemas/audit-chain.md)
// ---------------------------------------------------------------------------------------

/// Writes `value` as canonical JSON: object members sorted by the UTF-8 bytes of their keys,
/// no whitespace, strings escaped as RFC 8259 requires and no more (`"`, `\` and control
/// characters; `\b \f \n \r \t` short forms, others `\u00xx` in lowercase hex), integers in
/// plain decimal.
pub fn canonical_json(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => canonical_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical_json(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical_string(key, out);
                out.push(b':');
                canonical_json(item, out);
            }
            out.push(b'}');
        }
    }
}

fn canonical_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Canonical JSON of `value` as a string.
pub fn canonical_json_string(value: &Value) -> String {
    let mut out = Vec::new();
    canonical_json(value, &mut out);
    // Canonical JSON of a `Value` is UTF-8 by construction.
    String::from_utf8_lossy(&out).into_owned()
}

/// The recording time as hashed: RFC 3339 in UTC with exactly six fractional digits and `Z`
/// (`2026-04-02T09:15:00.123000Z`).
pub fn canonical_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// What a leaf is computed from: one event as stored.
#[derive(Debug, Clone, Copy)]
pub struct LeafInput<'a> {
    /// `aggregate_id`.
    pub complaint_id: &'a str,
    /// `sequence`.
    pub sequence: i64,
    /// `event_type`.
    pub event_type: &'a str,
    /// `event_version`.
    pub event_version: &'a str,
    /// The stored payload JSON.
    pub payload: &'a Value,
    /// The stored metadata JSON.
    pub metadata: &'a Value,
    /// `recorded_at`.
    pub recorded_at: DateTime<Utc>,
}

impl<'a> LeafInput<'a> {
    /// The leaf input of a decoded event (its stored JSON, not the decoded values).
    pub fn of(event: &'a StoredEvent) -> Self {
        Self {
            complaint_id: &event.complaint_id,
            sequence: event.sequence,
            event_type: &event.event_type,
            event_version: &event.event_version,
            payload: &event.stored_payload,
            metadata: &event.stored_metadata,
            recorded_at: event.recorded_at,
        }
    }

    /// The canonical bytes: canonical JSON of `{complaint_id, event_type, event_version,
    /// metadata, payload, recorded_at, sequence}`.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let document = serde_json::json!({
            "complaint_id": self.complaint_id,
            "event_type": self.event_type,
            "event_version": self.event_version,
            "metadata": self.metadata,
            "payload": self.payload,
            "recorded_at": canonical_time(self.recorded_at),
            "sequence": self.sequence,
        });
        let mut out = Vec::with_capacity(512);
        canonical_json(&document, &mut out);
        out
    }

    /// `SHA-256(0x00 || canonical bytes)`.
    pub fn leaf(&self) -> Hash {
        leaf_hash(&self.canonical_bytes())
    }
}

/// `SHA-256(0x00 || canonical)`.
pub fn leaf_hash(canonical: &[u8]) -> Hash {
    let mut hash = Sha256::new();
    hash.update([LEAF_PREFIX]);
    hash.update(canonical);
    hash.finalize().into()
}

/// `SHA-256(0x01 || previous || leaf)`.
pub fn link_hash(previous: &Hash, leaf: &Hash) -> Hash {
    let mut hash = Sha256::new();
    hash.update([LINK_PREFIX]);
    hash.update(previous);
    hash.update(leaf);
    hash.finalize().into()
}

/// Lowercase hex of a hash.
pub fn to_hex(hash: &Hash) -> String {
    hex::encode(hash)
}

/// A hash from 64 hex digits.
pub fn from_hex(raw: &str) -> Option<Hash> {
    let bytes = hex::decode(raw.trim()).ok()?;
    bytes.try_into().ok()
}

/// The leaf of a raw row, or why none can be computed (its stored text is not JSON, or its
/// recording time is not a time).
pub fn raw_leaf(event: &RawEvent) -> Result<Hash, String> {
    let payload: Value = serde_json::from_str(&event.payload)
        .map_err(|e| format!("its stored payload is not JSON ({e})"))?;
    let metadata: Value = serde_json::from_str(&event.metadata)
        .map_err(|e| format!("its stored metadata is not JSON ({e})"))?;
    let recorded_at = event
        .recorded_at
        .clone()
        .map_err(|raw| format!("its recording time `{raw}` is not a time"))?;
    Ok(LeafInput {
        complaint_id: &event.complaint_id,
        sequence: event.sequence,
        event_type: &event.event_type,
        event_version: &event.event_version,
        payload: &payload,
        metadata: &metadata,
        recorded_at,
    }
    .leaf())
}

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

fn decode_hash(what: &str, raw: &str) -> Result<Hash, ProjectionError> {
    from_hex(raw).ok_or_else(|| ProjectionError::Decode {
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
impl Projection for Sealer {
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
    ) -> Result<(), ProjectionError> {
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
pub async fn head(pool: &Pool) -> Result<Option<ChainLink>, ProjectionError> {
    let sql = format!("SELECT {LINK_COLUMNS} FROM {CHAIN} ORDER BY chain_index DESC LIMIT 1");
    Ok(on_pool!(pool, |p| sqlx::query(&sql)
        .fetch_optional(p)
        .await?
        .map(|r| link_from_row(&r))
        .transpose()?))
}

/// The sealed event at `chain_index`.
pub async fn link_at(pool: &Pool, chain_index: i64) -> Result<Option<ChainLink>, ProjectionError> {
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
) -> Result<Vec<ChainLink>, ProjectionError> {
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
) -> Result<Vec<ChainLink>, ProjectionError> {
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
pub async fn count_sealed(pool: &Pool, filter: &SealedFilter<'_>) -> Result<i64, ProjectionError> {
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
) -> Result<Vec<SealedEvent>, ProjectionError> {
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

// ---------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------

/// A point of the chain recorded outside the database (a signed checkpoint whose signature
/// the caller has checked): the log must still lead to this link at this index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// Chain index.
    pub chain_index: i64,
    /// Global position of the event there.
    pub position: i64,
    /// The link there.
    pub link: Hash,
}

/// Why the chain breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// The event at this position is not what was sealed (its leaf differs, or it can no
    /// longer be read).
    Altered,
    /// A sealed event is missing from the log.
    Removed,
    /// The log has an event the chain does not have at this place.
    Inserted,
    /// A sealed event appears elsewhere in the log order than where it was sealed.
    Reordered,
    /// The stored link does not follow from the previous link and the leaf (the chain table
    /// itself was changed).
    LinkAltered,
    /// The log does not lead to the link of a signed checkpoint (rewritten, links and all).
    CheckpointMismatch,
}

impl BreakKind {
    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            BreakKind::Altered => "event altered",
            BreakKind::Removed => "event removed",
            BreakKind::Inserted => "event inserted",
            BreakKind::Reordered => "events reordered",
            BreakKind::LinkAltered => "link altered",
            BreakKind::CheckpointMismatch => "checkpoint mismatch",
        }
    }
}

/// The first place the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// Why.
    pub kind: BreakKind,
    /// The global position named.
    pub position: i64,
    /// The chain index where it was found.
    pub chain_index: i64,
    /// What was found.
    pub detail: String,
}

/// A chain that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// Events read from the log.
    pub events: u64,
    /// Of them, sealed and matching their links.
    pub sealed: u64,
    /// The last sealed link (index, position, hash), if any.
    pub head: Option<(i64, i64, String)>,
    /// Events in the log after the sealed head (the sealer has not reached them yet).
    pub unsealed: u64,
    /// Checkpoints the recomputed chain was found to lead to.
    pub anchors_matched: usize,
}

/// The outcome of [`verify_chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every sealed event matches the log.
    Intact(Verified),
    /// The first break.
    Broken(ChainBreak),
}

/// Where an event sits in the log, or `None` if it is not there.
async fn position_in_log(
    pool: &Pool,
    complaint_id: &str,
    sequence: i64,
) -> Result<Option<i64>, ProjectionError> {
    Ok(on_pool!(pool, |p| sqlx::query_scalar(
        "SELECT global_position FROM events WHERE aggregate_id = $1 AND sequence = $2"
    )
    .bind(complaint_id)
    .bind(sequence)
    .fetch_optional(p)
    .await?))
}

async fn chain_index_of(
    pool: &Pool,
    complaint_id: &str,
    sequence: i64,
) -> Result<Option<i64>, ProjectionError> {
    let sql = format!("SELECT chain_index FROM {CHAIN} WHERE complaint_id = $1 AND sequence = $2");
    Ok(on_pool!(pool, |p| sqlx::query_scalar(&sql)
        .bind(complaint_id)
        .bind(sequence)
        .fetch_optional(p)
        .await?))
}

/// What a mismatch between the sealed event and the log's event at one chain index means.
/// `sealed_in_log`: where the sealed event is in the log now, if anywhere;
/// `logged_is_sealed`: whether the log's event is sealed anywhere.
pub fn classify(
    chain_index: i64,
    sealed: &ChainLink,
    logged: &RawEvent,
    sealed_in_log: Option<i64>,
    logged_is_sealed: bool,
) -> ChainBreak {
    let who = |c: &str, s: i64| format!("complaint {c} sequence {s}");
    let sealed_who = who(&sealed.complaint_id, sealed.sequence);
    let logged_who = who(&logged.complaint_id, logged.sequence);
    match (sealed_in_log, logged_is_sealed) {
        (None, _) => ChainBreak {
            kind: BreakKind::Removed,
            position: sealed.position,
            chain_index,
            detail: format!(
                "the event sealed at chain index {chain_index} (position {}, {sealed_who}) is missing from the log",
                sealed.position
            ),
        },
        (Some(_), false) => ChainBreak {
            kind: BreakKind::Inserted,
            position: logged.checkpoint.position,
            chain_index,
            detail: format!(
                "the log has an event at position {} ({logged_who}) that was never sealed; chain index {chain_index} sealed position {} ({sealed_who})",
                logged.checkpoint.position, sealed.position
            ),
        },
        (Some(now_at), true) => ChainBreak {
            kind: BreakKind::Reordered,
            position: sealed.position,
            chain_index,
            detail: if now_at == sealed.position {
                format!(
                    "the event sealed at chain index {chain_index} (position {}, {sealed_who}) comes later in the log order; position {} ({logged_who}) comes first",
                    sealed.position, logged.checkpoint.position
                )
            } else {
                format!(
                    "the event sealed at chain index {chain_index} (position {}, {sealed_who}) is now at position {now_at}",
                    sealed.position
                )
            },
        },
    }
}

/// Recomputes the chain from the log in commit-safe order, streaming (pages of `page`
/// events, whatever the log's size), and compares it with the stored links and with
/// `anchors`. Returns the first break, or what verified.
pub async fn verify_chain(
    pool: &Pool,
    anchors: &[Anchor],
    page: i64,
    progress: Progress<'_>,
) -> Result<Verification, ProjectionError> {
    let total = {
        let mut tx = pool.begin().await?;
        let (total, _) = backlog(&mut tx, Checkpoint::default()).await?;
        tx.rollback().await?;
        total.max(0) as u64
    };
    let mut anchors: Vec<Anchor> = anchors.to_vec();
    anchors.sort_by_key(|a| a.chain_index);
    let mut anchors: VecDeque<Anchor> = anchors.into();
    let mut anchors_matched = 0;

    let mut computed = ZERO_LINK;
    let mut index: i64 = 0;
    let mut after = Checkpoint::default();
    let mut stored: VecDeque<ChainLink> = VecDeque::new();
    let mut stored_after: i64 = 0;
    let mut stored_done = false;
    let mut sealed: u64 = 0;
    let mut unsealed: u64 = 0;
    let mut head: Option<(i64, i64, String)> = None;

    loop {
        let events = {
            let mut tx = pool.begin().await?;
            let events = read_raw_after(&mut tx, after, page).await?;
            tx.rollback().await?;
            events
        };
        let Some(last) = events.last().map(|e| e.checkpoint) else {
            break;
        };
        for event in &events {
            index += 1;
            if stored.is_empty() && !stored_done {
                let next = links_after(pool, stored_after, page).await?;
                match next.last() {
                    Some(l) => stored_after = l.chain_index,
                    None => stored_done = true,
                }
                stored.extend(next);
            }
            let leaf = raw_leaf(event);
            match stored.pop_front() {
                None => {
                    // Past the sealed head: nothing to compare but anchors.
                    let leaf = match leaf {
                        Ok(leaf) => leaf,
                        Err(why) => {
                            return Ok(Verification::Broken(ChainBreak {
                                kind: BreakKind::Altered,
                                position: event.checkpoint.position,
                                chain_index: index,
                                detail: format!(
                                    "the event at position {} cannot be read: {why}",
                                    event.checkpoint.position
                                ),
                            }))
                        }
                    };
                    computed = link_hash(&computed, &leaf);
                    unsealed += 1;
                }
                Some(link) => {
                    let same_event = link.complaint_id == event.complaint_id
                        && link.sequence == event.sequence
                        && link.position == event.checkpoint.position;
                    if !same_event {
                        let sealed_in_log =
                            position_in_log(pool, &link.complaint_id, link.sequence).await?;
                        let logged_is_sealed =
                            chain_index_of(pool, &event.complaint_id, event.sequence)
                                .await?
                                .is_some();
                        return Ok(Verification::Broken(classify(
                            index,
                            &link,
                            event,
                            sealed_in_log,
                            logged_is_sealed,
                        )));
                    }
                    let leaf = match leaf {
                        Ok(leaf) if to_hex(&leaf) == link.leaf_hash => leaf,
                        Ok(_) => {
                            return Ok(Verification::Broken(ChainBreak {
                                kind: BreakKind::Altered,
                                position: link.position,
                                chain_index: index,
                                detail: format!(
                                    "the event at position {} (complaint {} sequence {}) is not the event sealed at chain index {index}: its leaf hash differs",
                                    link.position, link.complaint_id, link.sequence
                                ),
                            }))
                        }
                        Err(why) => {
                            return Ok(Verification::Broken(ChainBreak {
                                kind: BreakKind::Altered,
                                position: link.position,
                                chain_index: index,
                                detail: format!(
                                    "the event at position {} (complaint {} sequence {}) cannot be read: {why}",
                                    link.position, link.complaint_id, link.sequence
                                ),
                            }))
                        }
                    };
                    computed = link_hash(&computed, &leaf);
                    if to_hex(&computed) != link.link_hash {
                        return Ok(Verification::Broken(ChainBreak {
                            kind: BreakKind::LinkAltered,
                            position: link.position,
                            chain_index: index,
                            detail: format!(
                                "the stored link at chain index {index} (position {}) does not follow from the previous link and the event",
                                link.position
                            ),
                        }));
                    }
                    sealed += 1;
                    head = Some((index, link.position, link.link_hash.clone()));
                }
            }
            while let Some(anchor) = anchors.front().copied() {
                if anchor.chain_index > index {
                    break;
                }
                anchors.pop_front();
                if anchor.chain_index == index
                    && anchor.position == event.checkpoint.position
                    && anchor.link == computed
                {
                    anchors_matched += 1;
                    continue;
                }
                return Ok(Verification::Broken(ChainBreak {
                    kind: BreakKind::CheckpointMismatch,
                    position: anchor.position,
                    chain_index: anchor.chain_index,
                    detail: format!(
                        "the log no longer leads to the signed checkpoint at chain index {} (position {}): the chain recomputed from the log has {} at position {} there; the log before it was rewritten",
                        anchor.chain_index,
                        anchor.position,
                        to_hex(&computed),
                        event.checkpoint.position
                    ),
                }));
            }
        }
        after = last;
        progress(index as u64, total.max(index as u64));
    }
    if stored.is_empty() && !stored_done {
        stored.extend(links_after(pool, stored_after, 1).await?);
    }
    if let Some(link) = stored.pop_front() {
        return Ok(Verification::Broken(ChainBreak {
            kind: BreakKind::Removed,
            position: link.position,
            chain_index: link.chain_index,
            detail: format!(
                "the log ends at chain index {index} but position {} (complaint {} sequence {}) was sealed at chain index {}",
                link.position, link.complaint_id, link.sequence, link.chain_index
            ),
        }));
    }
    if let Some(anchor) = anchors.front() {
        return Ok(Verification::Broken(ChainBreak {
            kind: BreakKind::CheckpointMismatch,
            position: anchor.position,
            chain_index: anchor.chain_index,
            detail: format!(
                "the log ends at chain index {index}, before the signed checkpoint at chain index {} (position {}): events were removed",
                anchor.chain_index, anchor.position
            ),
        }));
    }
    Ok(Verification::Intact(Verified {
        events: index as u64,
        sealed,
        head,
        unsealed,
        anchors_matched,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_by_bytes_and_has_no_whitespace() {
        let value = json!({"b": [1, {"z": null, "a": true}], "a": "x", "B": -3, "é": "ü"});
        assert_eq!(
            canonical_json_string(&value),
            r#"{"B":-3,"a":"x","b":[1,{"a":true,"z":null}],"é":"ü"}"#
        );
    }

    #[test]
    fn canonical_strings_escape_only_what_json_requires() {
        let value = json!("quote\" back\\ nl\n tab\t bell\u{7} del\u{7f} slash/ pound£");
        assert_eq!(
            canonical_json_string(&value),
            "\"quote\\\" back\\\\ nl\\n tab\\t bell\\u0007 del\u{7f} slash/ pound£\""
        );
        // The same as serde_json writes a string, so either can produce it.
        assert_eq!(canonical_json_string(&value), value.to_string());
    }

    fn sample() -> (Value, Value) {
        (
            json!({"ComplaintAcknowledged": {"acknowledged_on": "2026-04-07", "late": false, "discussion_offered": true}}),
            json!({"actor": "u1", "organisation_id": "RAL"}),
        )
    }

    fn sample_input<'a>(payload: &'a Value, metadata: &'a Value) -> LeafInput<'a> {
        LeafInput {
            complaint_id: "0b5e1c2a-4f1e-4a8e-9a57-3f2d8c1e7b10",
            sequence: 2,
            event_type: "ComplaintAcknowledged",
            event_version: "1.0",
            payload,
            metadata,
            recorded_at: DateTime::parse_from_rfc3339("2026-04-07T09:15:00.123Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn the_documented_example_hashes_as_documented() {
        // schemas/audit-chain.md, "Worked example": keep the two in step.
        let (payload, metadata) = sample();
        let input = sample_input(&payload, &metadata);
        let canonical = String::from_utf8(input.canonical_bytes()).unwrap();
        assert_eq!(
            canonical,
            r#"{"complaint_id":"0b5e1c2a-4f1e-4a8e-9a57-3f2d8c1e7b10","event_type":"ComplaintAcknowledged","event_version":"1.0","metadata":{"actor":"u1","organisation_id":"RAL"},"payload":{"ComplaintAcknowledged":{"acknowledged_on":"2026-04-07","discussion_offered":true,"late":false}},"recorded_at":"2026-04-07T09:15:00.123000Z","sequence":2}"#
        );
        let leaf = input.leaf();
        let link = link_hash(&ZERO_LINK, &leaf);
        let documented = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../schemas/audit-chain.md"
        ))
        .unwrap();
        assert!(
            documented.contains(&to_hex(&leaf)),
            "leaf {}",
            to_hex(&leaf)
        );
        assert!(
            documented.contains(&to_hex(&link)),
            "link {}",
            to_hex(&link)
        );
    }

    #[test]
    fn leaves_and_links_use_distinct_prefixes() {
        let leaf = leaf_hash(b"x");
        let mut plain = Sha256::new();
        plain.update(b"x");
        let plain: Hash = plain.finalize().into();
        assert_ne!(leaf, plain);
        let mut as_leaf_input = ZERO_LINK.to_vec();
        as_leaf_input.extend_from_slice(&leaf);
        assert_ne!(link_hash(&ZERO_LINK, &leaf), leaf_hash(&as_leaf_input));
    }

    #[test]
    fn the_same_stored_json_in_another_key_order_or_spacing_hashes_the_same() {
        let (payload, metadata) = sample();
        let reordered: Value = serde_json::from_str(
            r#"{ "ComplaintAcknowledged" : { "late": false, "discussion_offered": true, "acknowledged_on": "2026-04-07" } }"#,
        )
        .unwrap();
        assert_eq!(
            sample_input(&payload, &metadata).leaf(),
            sample_input(&reordered, &metadata).leaf()
        );
        let changed = json!({"ComplaintAcknowledged": {"acknowledged_on": "2026-04-08", "late": false, "discussion_offered": true}});
        assert_ne!(
            sample_input(&payload, &metadata).leaf(),
            sample_input(&changed, &metadata).leaf()
        );
    }

    fn link(position: i64, complaint: &str, sequence: i64) -> ChainLink {
        ChainLink {
            chain_index: 1,
            position,
            transaction_id: 0,
            complaint_id: complaint.into(),
            sequence,
            organisation_id: "RAL".into(),
            recorded_at: String::new(),
            leaf_hash: String::new(),
            link_hash: String::new(),
        }
    }

    fn raw(position: i64, complaint: &str, sequence: i64) -> RawEvent {
        RawEvent {
            checkpoint: Checkpoint {
                transaction_id: 0,
                position,
            },
            complaint_id: complaint.into(),
            sequence,
            event_type: "ComplaintAcknowledged".into(),
            event_version: "1.0".into(),
            payload: "{}".into(),
            metadata: "{}".into(),
            recorded_at: Ok(Utc::now()),
        }
    }

    #[test]
    fn a_sealed_event_gone_from_the_log_is_removed_at_its_position() {
        let found = classify(5, &link(5, "a", 2), &raw(6, "b", 1), None, true);
        assert_eq!((found.kind, found.position), (BreakKind::Removed, 5));
    }

    #[test]
    fn an_unsealed_event_in_the_sealed_range_is_inserted_at_its_position() {
        let found = classify(5, &link(5, "a", 2), &raw(9, "x", 1), Some(5), false);
        assert_eq!((found.kind, found.position), (BreakKind::Inserted, 9));
    }

    #[test]
    fn a_sealed_event_found_elsewhere_is_reordered_at_its_sealed_position() {
        let swapped = classify(5, &link(5, "a", 2), &raw(5, "b", 1), Some(6), true);
        assert_eq!((swapped.kind, swapped.position), (BreakKind::Reordered, 5));
        let moved = classify(5, &link(5, "a", 2), &raw(6, "b", 1), Some(5), true);
        assert_eq!((moved.kind, moved.position), (BreakKind::Reordered, 5));
    }
}
