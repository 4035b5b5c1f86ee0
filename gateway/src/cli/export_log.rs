//! `complaints export-log`: the whole event log as a file, for a backup or a move to another
//! database (`complaints import-log` reads it back).
//!
//! The file is NDJSON: a header line, one line per event in commit-safe order (the order the
//! chain seals them in) with everything stored about it (its JSON payload and metadata as
//! stored text, its recording time, its global position and, when sealed, its chain link),
//! and a trailing manifest line with the number of events and the SHA-256 of every byte
//! before the manifest. Events are read a page at a time inside one snapshot, so memory
//! stays flat whatever the size of the log and a log written to meanwhile still exports
//! as one consistent state.

use crate::error::ApiError;
use crate::Settings;
use complaints_eventlog::{Pool, Tx};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Format name in the header line.
pub const FORMAT: &str = "complaints-event-log";
/// Format version in the header line.
pub const FORMAT_VERSION: u32 = 1;
/// Events read per query.
const PAGE: i64 = 2000;

/// Arguments of `complaints export-log`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportLogArgs {
    /// The file to write (atomically: a temporary file renamed when complete).
    #[arg(long)]
    pub out: PathBuf,
}

/// The first line of the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`FORMAT_VERSION`].
    pub version: u32,
    /// `postgres` or `sqlite`.
    pub source: String,
    /// When the export started (RFC 3339).
    pub exported_at: String,
}

/// One event as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogLine {
    /// Global position (kept on import).
    pub position: i64,
    /// The source's writing transaction (PostgreSQL `xid8`, 0 on SQLite); informative.
    pub transaction_id: i64,
    /// Aggregate type (`Complaint`).
    pub aggregate_type: String,
    /// Complaint id.
    pub aggregate_id: String,
    /// Sequence within the complaint.
    pub sequence: i64,
    /// Event type.
    pub event_type: String,
    /// Event version.
    pub event_version: String,
    /// The payload's stored JSON text, byte for byte.
    pub payload: String,
    /// The metadata's stored JSON text, byte for byte.
    pub metadata: String,
    /// Recording time, RFC 3339 UTC with microseconds (as the chain hashes it).
    pub recorded_at: String,
    /// The event's audit chain link (lowercase hex) when it was sealed in the source.
    pub link: Option<String>,
}

/// The last line of the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Number of event lines.
    pub count: u64,
    /// SHA-256 (lowercase hex) of every byte before the manifest line.
    pub sha256: String,
    /// The last event's chain link, if it was sealed.
    pub head_link: Option<String>,
}

/// The manifest line: `{"manifest": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestLine {
    /// The manifest.
    pub manifest: Manifest,
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct ExportLogSummary {
    /// Events written.
    pub count: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// SHA-256 of the content before the manifest.
    pub sha256: String,
    /// Seconds taken.
    pub seconds: f64,
}

impl std::fmt::Display for ExportLogSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exported {} events, {} bytes, sha256 {} in {:.1} s ({:.0} events/s)",
            self.count,
            self.bytes,
            self.sha256,
            self.seconds,
            self.count as f64 / self.seconds.max(1e-9)
        )
    }
}

/// `complaints export-log --out FILE`.
pub async fn export_log_command(
    args: ExportLogArgs,
    settings: &Settings,
) -> Result<ExportLogSummary, ApiError> {
    let cases = crate::open_cases(settings).await?;
    export_log(cases.log().pool(), &args.out).await
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("{e}"))
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub(crate) fn progress_bar(template: &str, total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// Writes the whole log of `pool` to `out`.
pub async fn export_log(pool: &Pool, out: &Path) -> Result<ExportLogSummary, ApiError> {
    let started = std::time::Instant::now();
    let partial = out.with_extension("partial");
    let file = std::fs::File::create(&partial)
        .map_err(|e| ApiError::Config(format!("cannot create {}: {e}", partial.display())))?;
    let mut writer = HashingWriter {
        inner: std::io::BufWriter::with_capacity(1 << 20, file),
        hash: Sha256::new(),
        bytes: 0,
    };
    let mut tx = pool.begin().await.map_err(internal)?;
    let source = match &tx {
        Tx::Postgres(_) => {
            // One snapshot for the whole export: pages agree with each other.
            tx.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await
                .map_err(internal)?;
            "postgres"
        }
        Tx::Sqlite(_) => "sqlite",
    };
    let total = count_events(&mut tx).await?;
    let has_chain = has_chain(&mut tx).await?;
    let header = Header {
        format: FORMAT.into(),
        version: FORMAT_VERSION,
        source: source.into(),
        exported_at: chrono::Utc::now().to_rfc3339(),
    };
    writer.line(&header)?;
    let bar = progress_bar(
        "export-log [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
        total,
    );
    let mut after = (0i64, 0i64);
    let mut count = 0u64;
    let mut head_link = None;
    loop {
        let page = read_page(&mut tx, after, has_chain).await?;
        let Some(last) = page.last() else { break };
        after = (last.transaction_id, last.position);
        for line in &page {
            writer.line(line)?;
        }
        head_link = page.last().and_then(|l| l.link.clone());
        count += page.len() as u64;
        bar.set_position(count);
    }
    tx.rollback().await.map_err(internal)?;
    bar.finish_and_clear();
    let sha256 = hex::encode(writer.hash.clone().finalize());
    let manifest = ManifestLine {
        manifest: Manifest {
            count,
            sha256: sha256.clone(),
            head_link,
        },
    };
    let text = serde_json::to_string(&manifest).map_err(internal)?;
    writer
        .inner
        .write_all(text.as_bytes())
        .and_then(|_| writer.inner.write_all(b"\n"))
        .map_err(|e| ApiError::Config(format!("cannot write {}: {e}", partial.display())))?;
    let file = writer
        .inner
        .into_inner()
        .map_err(|e| ApiError::Config(format!("cannot write {}: {e}", partial.display())))?;
    file.sync_all()
        .map_err(|e| ApiError::Config(format!("cannot sync {}: {e}", partial.display())))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    drop(file);
    std::fs::rename(&partial, out)
        .map_err(|e| ApiError::Config(format!("cannot write {}: {e}", out.display())))?;
    Ok(ExportLogSummary {
        count,
        bytes,
        sha256,
        seconds: started.elapsed().as_secs_f64(),
    })
}

struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    fn line<T: Serialize>(&mut self, value: &T) -> Result<(), ApiError> {
        let mut text = serde_json::to_vec(value).map_err(internal)?;
        text.push(b'\n');
        self.hash.update(&text);
        self.bytes += text.len() as u64;
        self.inner
            .write_all(&text)
            .map_err(|e| ApiError::Config(format!("cannot write the export: {e}")))
    }
}

async fn count_events(tx: &mut Tx) -> Result<u64, ApiError> {
    let n: i64 =
        complaints_eventlog::on_tx!(tx, |c| sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(c)
            .await
            .map_err(internal)?);
    Ok(n.max(0) as u64)
}

async fn has_chain(tx: &mut Tx) -> Result<bool, ApiError> {
    Ok(match tx {
        Tx::Postgres(t) => sqlx::query_scalar("SELECT to_regclass('audit_chain') IS NOT NULL")
            .fetch_one(&mut **t)
            .await
            .map_err(internal)?,
        Tx::Sqlite(t) => {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = 'audit_chain'",
            )
            .fetch_one(&mut **t)
            .await
            .map_err(internal)?;
            n > 0
        }
    })
}

/// The page of events after `(transaction_id, position)` in commit-safe order, each with its
/// chain link when sealed.
async fn read_page(
    tx: &mut Tx,
    after: (i64, i64),
    has_chain: bool,
) -> Result<Vec<LogLine>, ApiError> {
    let link = if has_chain {
        "(SELECT c.link_hash FROM audit_chain c WHERE c.position = e.global_position)"
    } else {
        "CAST(NULL AS TEXT)"
    };
    let rows = match tx {
        Tx::Postgres(t) => {
            let sql = format!(
                "SELECT e.global_position, e.transaction_id::text AS xid, e.aggregate_type, e.aggregate_id,
                        e.sequence, e.event_type, e.event_version, e.payload::text AS payload,
                        e.metadata::text AS metadata,
                        to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS recorded_at,
                        {link} AS link
                 FROM events e
                 WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2)
                 ORDER BY e.transaction_id, e.global_position
                 LIMIT $3"
            );
            sqlx::query(&sql)
                .bind(after.0.to_string())
                .bind(after.1)
                .bind(PAGE)
                .fetch_all(&mut **t)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|r| {
                    let xid: String = r.try_get("xid")?;
                    Ok(LogLine {
                        position: r.try_get("global_position")?,
                        transaction_id: xid.parse().unwrap_or(0),
                        aggregate_type: r.try_get("aggregate_type")?,
                        aggregate_id: r.try_get("aggregate_id")?,
                        sequence: r.try_get("sequence")?,
                        event_type: r.try_get("event_type")?,
                        event_version: r.try_get("event_version")?,
                        payload: r.try_get("payload")?,
                        metadata: r.try_get("metadata")?,
                        recorded_at: r.try_get("recorded_at")?,
                        link: r.try_get("link")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(internal)?
        }
        Tx::Sqlite(t) => {
            let sql = format!(
                "SELECT e.global_position, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type,
                        e.event_version, e.payload, e.metadata, e.recorded_at, {link} AS link
                 FROM events e WHERE e.global_position > $1 ORDER BY e.global_position LIMIT $2"
            );
            sqlx::query(&sql)
                .bind(after.1)
                .bind(PAGE)
                .fetch_all(&mut **t)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|r| {
                    let recorded: String = r.try_get("recorded_at")?;
                    Ok(LogLine {
                        position: r.try_get("global_position")?,
                        transaction_id: 0,
                        aggregate_type: r.try_get("aggregate_type")?,
                        aggregate_id: r.try_get("aggregate_id")?,
                        sequence: r.try_get("sequence")?,
                        event_type: r.try_get("event_type")?,
                        event_version: r.try_get("event_version")?,
                        payload: r.try_get("payload")?,
                        metadata: r.try_get("metadata")?,
                        recorded_at: canonical_recorded_at(&recorded),
                        link: r.try_get("link")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(internal)?
        }
    };
    Ok(rows)
}

/// SQLite's stored recording time as the chain hashes it (microseconds, `Z`); text that is
/// not a time is kept as it is, and the import refuses it.
fn canonical_recorded_at(raw: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.fZ")
                .ok()
                .map(|t| t.and_utc())
        })
        .map(complaints_audit::canonical::canonical_time)
        .unwrap_or_else(|| raw.to_string())
}
