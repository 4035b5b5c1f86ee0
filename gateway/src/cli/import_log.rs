//! `complaints import-log FILE`: an event log written by `complaints export-log` into an
//! empty database (a restore, or a move from the embedded default to PostgreSQL).
//!
//! Before anything is written the file is read once: its SHA-256 and count must match the
//! manifest, and the audit chain recomputed from its events must give every link the file
//! carries (so the content is what the source sealed). Then the events go in with their
//! global positions and recording times, many rows per statement, in one transaction: an
//! import is all or nothing. PostgreSQL then gets `ANALYZE` and its position sequence set
//! past the last position; finally the read models are rebuilt and the sealer seals the
//! imported log, whose head must be the file's last link.

use super::export_log::{progress_bar, Header, LogLine, ManifestLine, FORMAT, FORMAT_VERSION};
use crate::error::ApiError;
use crate::Settings;
use complaints_audit::canonical::{from_hex, link_hash, to_hex, LeafInput, ZERO_LINK};
use complaints_domain::ComplaintServices;
use complaints_eventlog::{Pool, Runner, Tx};
use sha2::{Digest, Sha256};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per INSERT statement (9 parameters each; well inside both backends' limits).
const ROWS_PER_STATEMENT: usize = 1000;

/// Arguments of `complaints import-log`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportLogArgs {
    /// The file written by `complaints export-log`.
    pub file: PathBuf,
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportLogSummary {
    /// Events imported.
    pub count: u64,
    /// Seconds spent inserting (after the check).
    pub insert_seconds: f64,
    /// Seconds in all, with the check and the rebuild.
    pub seconds: f64,
    /// The chain head after sealing the imported log.
    pub head_link: Option<String>,
}

impl std::fmt::Display for ImportLogSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "imported {} events in {:.1} s ({:.0} events/s inserting), read models rebuilt, chain head {} ({:.1} s in all)",
            self.count,
            self.insert_seconds,
            self.count as f64 / self.insert_seconds.max(1e-9),
            self.head_link.as_deref().unwrap_or("(empty)"),
            self.seconds
        )
    }
}

fn invalid(file: &Path, why: impl std::fmt::Display) -> ApiError {
    ApiError::Config(format!("{}: {why}", file.display()))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("{e}"))
}

/// `complaints import-log FILE`.
pub async fn import_log_command(
    args: ImportLogArgs,
    settings: &Settings,
) -> Result<ImportLogSummary, ApiError> {
    let cases = crate::open_cases(settings).await?;
    import_log(cases.log().pool(), cases.services(), &args.file).await
}

fn open_lines(file: &Path) -> Result<std::io::Lines<std::io::BufReader<std::fs::File>>, ApiError> {
    let handle = std::fs::File::open(file).map_err(|e| invalid(file, e))?;
    Ok(std::io::BufReader::with_capacity(1 << 20, handle).lines())
}

/// What the check of the file found.
struct Checked {
    count: u64,
    head_link: Option<String>,
}

/// Reads the whole file once, streaming: header, hash and count against the manifest, each
/// event decodable, positions increasing, the chain recomputed against the links given.
fn check_file(file: &Path) -> Result<Checked, ApiError> {
    let mut lines = open_lines(file)?;
    let mut hash = Sha256::new();
    let header_text = lines
        .next()
        .ok_or_else(|| invalid(file, "empty file"))?
        .map_err(|e| invalid(file, e))?;
    let header: Header = serde_json::from_str(&header_text)
        .map_err(|e| invalid(file, format!("not an event-log export: {e}")))?;
    if header.format != FORMAT || header.version != FORMAT_VERSION {
        return Err(invalid(
            file,
            format!(
                "format {} version {} is not {FORMAT} version {FORMAT_VERSION}",
                header.format, header.version
            ),
        ));
    }
    hash.update(header_text.as_bytes());
    hash.update(b"\n");
    let mut count = 0u64;
    let mut link = ZERO_LINK;
    let mut last_position = 0i64;
    let mut manifest = None;
    for (n, text) in lines.enumerate() {
        let text = text.map_err(|e| invalid(file, e))?;
        if manifest.is_some() {
            return Err(invalid(file, "lines after the manifest"));
        }
        if text.starts_with("{\"manifest\"") {
            let line: ManifestLine = serde_json::from_str(&text)
                .map_err(|e| invalid(file, format!("unreadable manifest: {e}")))?;
            manifest = Some(line.manifest);
            continue;
        }
        hash.update(text.as_bytes());
        hash.update(b"\n");
        let line_no = n + 2;
        let event: LogLine = serde_json::from_str(&text)
            .map_err(|e| invalid(file, format!("line {line_no}: {e}")))?;
        if event.position <= last_position {
            return Err(invalid(
                file,
                format!(
                    "line {line_no}: position {} not after {last_position}",
                    event.position
                ),
            ));
        }
        last_position = event.position;
        link = link_hash(
            &link,
            &leaf(&event).map_err(|e| invalid(file, format!("line {line_no}: {e}")))?,
        );
        if let Some(given) = &event.link {
            if from_hex(given) != Some(link) {
                return Err(invalid(
                    file,
                    format!(
                        "line {line_no}: the chain recomputed from the events gives link {} at position {}, the file says {given}",
                        to_hex(&link),
                        event.position
                    ),
                ));
            }
        }
        count += 1;
    }
    let manifest = manifest.ok_or_else(|| invalid(file, "no manifest: the file is incomplete"))?;
    let sha256 = hex::encode(hash.finalize());
    if manifest.sha256 != sha256 || manifest.count != count {
        return Err(invalid(
            file,
            format!(
                "content does not match its manifest: {count} events with sha256 {sha256}, manifest says {} with {}",
                manifest.count, manifest.sha256
            ),
        ));
    }
    Ok(Checked {
        count,
        head_link: (count > 0).then(|| to_hex(&link)),
    })
}

fn leaf(event: &LogLine) -> Result<complaints_audit::canonical::Hash, String> {
    let payload: serde_json::Value =
        serde_json::from_str(&event.payload).map_err(|e| format!("payload: {e}"))?;
    let metadata: serde_json::Value =
        serde_json::from_str(&event.metadata).map_err(|e| format!("metadata: {e}"))?;
    let recorded_at = chrono::DateTime::parse_from_rfc3339(&event.recorded_at)
        .map_err(|e| format!("recorded_at `{}`: {e}", event.recorded_at))?
        .with_timezone(&chrono::Utc);
    Ok(LeafInput {
        complaint_id: &event.aggregate_id,
        sequence: event.sequence,
        event_type: &event.event_type,
        event_version: &event.event_version,
        payload: &payload,
        metadata: &metadata,
        recorded_at,
    }
    .leaf())
}

/// Imports `file` into the empty log of `pool`, then rebuilds the read models and seals.
pub async fn import_log(
    pool: &Pool,
    services: &ComplaintServices,
    file: &Path,
) -> Result<ImportLogSummary, ApiError> {
    let started = std::time::Instant::now();
    let existing: i64 =
        complaints_eventlog::on_pool!(pool, |p| sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(p)
            .await
            .map_err(internal)?);
    if existing > 0 {
        return Err(ApiError::Config(format!(
            "the target log already holds {existing} events: import-log restores into an empty database only"
        )));
    }
    let checked = check_file(file)?;

    let insert_started = std::time::Instant::now();
    let bar = progress_bar(
        "import-log [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
        checked.count,
    );
    let mut tx = pool.begin().await.map_err(internal)?;
    // Checked again inside the transaction: a writer that started meanwhile is refused.
    let mut lines = open_lines(file)?.skip(1);
    let mut batch: Vec<LogLine> = Vec::with_capacity(ROWS_PER_STATEMENT);
    let mut done = 0u64;
    let mut max_position = 0i64;
    loop {
        let text = match lines.next() {
            Some(text) => text.map_err(|e| invalid(file, e))?,
            None => String::new(),
        };
        let end = text.is_empty() || text.starts_with("{\"manifest\"");
        if !end {
            let event: LogLine = serde_json::from_str(&text).map_err(|e| invalid(file, e))?;
            max_position = max_position.max(event.position);
            batch.push(event);
        }
        if batch.len() == ROWS_PER_STATEMENT || (end && !batch.is_empty()) {
            insert_batch(&mut tx, &batch).await?;
            done += batch.len() as u64;
            bar.set_position(done);
            batch.clear();
        }
        if end {
            break;
        }
    }
    if done != checked.count {
        return Err(invalid(file, "the file changed while it was imported"));
    }
    if let Tx::Postgres(t) = &mut tx {
        if max_position > 0 {
            // New events continue after the imported positions.
            sqlx::query("SELECT setval(pg_get_serial_sequence('events', 'global_position'), $1)")
                .bind(max_position)
                .execute(&mut **t)
                .await
                .map_err(internal)?;
        }
    }
    tx.commit().await.map_err(internal)?;
    bar.finish_and_clear();
    let insert_seconds = insert_started.elapsed().as_secs_f64();
    if let Pool::Postgres(pg) = pool {
        sqlx::query("ANALYZE events")
            .execute(pg)
            .await
            .map_err(internal)?;
    }

    // The read models from the imported log; the sealer seals it from the start.
    for projection in crate::app::consumers::projections(services) {
        if projection.name() == complaints_audit::sealer::NAME {
            continue;
        }
        let bar = progress_bar(
            "{msg:>12} [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
            0,
        );
        bar.set_message(projection.name());
        let progress = |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        };
        complaints_eventlog::rebuild(pool, projection.as_ref(), &progress)
            .await
            .map_err(internal)?;
        bar.finish_and_clear();
    }
    Runner::new(pool.clone(), Arc::new(complaints_audit::Sealer))
        .catch_up()
        .await
        .map_err(internal)?;
    let head = complaints_audit::sealer::head(pool)
        .await
        .map_err(internal)?
        .map(|h| h.link_hash);
    if head != checked.head_link {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "the imported log seals to head {head:?}, the file's events to {:?}",
            checked.head_link
        )));
    }
    Ok(ImportLogSummary {
        count: done,
        insert_seconds,
        seconds: started.elapsed().as_secs_f64(),
        head_link: head,
    })
}

/// One multi-row INSERT for `batch`, keeping positions and recording times.
async fn insert_batch(tx: &mut Tx, batch: &[LogLine]) -> Result<(), ApiError> {
    match tx {
        Tx::Postgres(t) => {
            let mut query = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                 payload, metadata, global_position, recorded_at) OVERRIDING SYSTEM VALUE ",
            );
            query.push_values(batch, |mut row, e| {
                row.push_bind(&e.aggregate_type)
                    .push_bind(&e.aggregate_id)
                    .push_bind(e.sequence)
                    .push_bind(&e.event_type)
                    .push_bind(&e.event_version)
                    .push_bind(&e.payload)
                    .push_unseparated("::json")
                    .push_bind(&e.metadata)
                    .push_unseparated("::json")
                    .push_bind(e.position)
                    .push_bind(&e.recorded_at)
                    .push_unseparated("::timestamptz");
            });
            query.build().execute(&mut **t).await.map_err(internal)?;
        }
        Tx::Sqlite(t) => {
            // The table behind the `events` view, so positions are kept rather than assigned.
            let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO event_log (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                 payload, metadata, global_position, recorded_at) ",
            );
            query.push_values(batch, |mut row, e| {
                row.push_bind(&e.aggregate_type)
                    .push_bind(&e.aggregate_id)
                    .push_bind(e.sequence)
                    .push_bind(&e.event_type)
                    .push_bind(&e.event_version)
                    .push_bind(&e.payload)
                    .push_bind(&e.metadata)
                    .push_bind(e.position)
                    .push_bind(&e.recorded_at);
            });
            query.build().execute(&mut **t).await.map_err(internal)?;
        }
    }
    Ok(())
}
