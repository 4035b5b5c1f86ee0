//! Regulator exports: one organisation's sealed events for a period as NDJSON, one
//! CloudEvents 1.0 envelope per line (the NATS relay's envelope, `nats::cloud_event`),
//! personal data removed (every field the event schemas mark `x-confidential`; no actor,
//! correlation or command ids), complaint ids pseudonymised per recipient, each line
//! carrying its chain link, and a trailing manifest signed with the sealing key. Streams
//! page by page, so memory stays flat whatever the size. Formats: `schemas/audit-chain.md`.
//!
//! The period is by recording date: events whose `recorded_at` falls on `from`..=`to` (UTC
//! calendar days). Recording time is when the fact entered the log, is never edited and is
//! the chain's own order; the business date (`occurredon`) is carried on every line for
//! receivers who count by it.

use crate::audit::{keys, verify_signature, AuditKeys};
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::http::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use complaints_projections::models::sealer::{
    self, canonical_json, canonical_time, SealedEvent, SealedFilter, Sealer,
};
use complaints_projections::{Checkpoint, Pool, Progress, RawEvent, Runner};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The manifest's `format`.
pub const FORMAT: &str = "complaints-export/v1";
/// Domain separation of manifest signatures.
pub const MANIFEST_CONTEXT: &[u8] = b"complaints-export-manifest/v1\n";
/// Events read per page.
const PAGE: i64 = 1000;

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The organisation.
    pub organisation: String,
    /// First recording day (UTC).
    pub from: NaiveDate,
    /// Last recording day (UTC), inclusive.
    pub to: NaiveDate,
    /// Who receives it: keys the pseudonyms.
    pub recipient: String,
}

impl ExportRequest {
    fn check(&self) -> Result<(), ApiError> {
        if self.from > self.to {
            return Err(ApiError::BadRequest("`from` must not be after `to`".into()));
        }
        if self.recipient.trim().is_empty() || self.recipient.len() > 200 {
            return Err(ApiError::BadRequest(
                "recipient must be 1 to 200 characters".into(),
            ));
        }
        Ok(())
    }

    fn bounds(&self) -> (String, String) {
        let start = |day: NaiveDate| canonical_time(day.and_time(chrono::NaiveTime::MIN).and_utc());
        let until = self
            .to
            .succ_opt()
            .map_or_else(|| "9999-12-31T23:59:59.999999Z~".to_string(), start);
        (start(self.from), until)
    }
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    /// Events written.
    pub count: u64,
    /// Bytes written, manifest included.
    pub bytes: u64,
    /// The manifest.
    pub manifest: Value,
}

/// What is signed in a manifest: the context line, then the canonical JSON of the manifest
/// without its `signature`.
pub fn manifest_message(manifest: &Map<String, Value>) -> Vec<u8> {
    let mut unsigned = manifest.clone();
    unsigned.remove("signature");
    let mut out = MANIFEST_CONTEXT.to_vec();
    canonical_json(&Value::Object(unsigned), &mut out);
    out
}

/// One exported line (without its newline).
fn envelope(keys: &AuditKeys, recipient: &str, sealed: SealedEvent) -> Result<Value, ApiError> {
    let link = sealed.link;
    let recorded_at = DateTime::parse_from_rfc3339(&link.recorded_at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| link.recorded_at.clone());
    let stored = RawEvent {
        checkpoint: Checkpoint {
            transaction_id: link.transaction_id,
            position: link.position,
        },
        complaint_id: link.complaint_id.clone(),
        sequence: link.sequence,
        event_type: sealed.event_type,
        event_version: sealed.event_version,
        payload: sealed.payload,
        metadata: sealed.metadata,
        recorded_at,
    }
    .decode()
    .map_err(|e| ApiError::Internal(e.into()))?;
    let mut event = crate::nats::cloud_event(&stored, false);
    let pseudonym = keys.pseudonym(recipient, &link.complaint_id);
    if let Value::Object(fields) = &mut event {
        fields.insert("id".into(), format!("{pseudonym}:{}", link.sequence).into());
        fields.insert("subject".into(), pseudonym.into());
        fields.insert("chainindex".into(), link.chain_index.into());
        fields.insert("chainleaf".into(), link.leaf_hash.into());
        fields.insert("chainlink".into(), link.link_hash.into());
    }
    Ok(event)
}

/// Writes the export of `request` to `out`: the sealed events, then the signed manifest.
#[tracing::instrument(skip_all, fields(organisation = %request.organisation, from = %request.from, to = %request.to), err)]
pub async fn write_export<W: AsyncWrite + Unpin + Send>(
    pool: &Pool,
    keys: &AuditKeys,
    request: &ExportRequest,
    generated_at: DateTime<Utc>,
    out: &mut W,
    progress: Progress<'_>,
) -> Result<ExportSummary, ApiError> {
    request.check()?;
    let (from, until) = request.bounds();
    // The head when the export starts bounds it, so pages stay consistent while the log grows.
    let head = sealer::head(pool).await?;
    let mut filter = SealedFilter {
        organisation: &request.organisation,
        from,
        until,
        after_index: 0,
        up_to_index: head.as_ref().map_or(0, |h| h.chain_index),
    };
    let total = sealer::count_sealed(pool, &filter).await?.max(0) as u64;
    let io =
        |e: std::io::Error| ApiError::Internal(anyhow::anyhow!("cannot write the export: {e}"));

    let mut hash = Sha256::new();
    let mut count = 0u64;
    let mut bytes = 0u64;
    let mut first_position: Option<i64> = None;
    let mut last: Option<(i64, i64, String)> = None;
    loop {
        let page = sealer::sealed_page(pool, &filter, PAGE).await?;
        let Some(end) = page.last().map(|e| e.link.chain_index) else {
            break;
        };
        let mut chunk = Vec::with_capacity(page.len() * 600);
        for sealed in page {
            let (index, position, link) = (
                sealed.link.chain_index,
                sealed.link.position,
                sealed.link.link_hash.clone(),
            );
            let event = envelope(keys, &request.recipient, sealed)?;
            let start = chunk.len();
            serde_json::to_writer(&mut chunk, &event).map_err(|e| ApiError::Internal(e.into()))?;
            chunk.push(b'\n');
            hash.update(&chunk[start..]);
            first_position.get_or_insert(position);
            last = Some((index, position, link));
            count += 1;
        }
        out.write_all(&chunk).await.map_err(io)?;
        bytes += chunk.len() as u64;
        filter.after_index = end;
        progress(count, total.max(count));
    }

    let mut manifest = Map::new();
    manifest.insert("kind".into(), "manifest".into());
    manifest.insert("format".into(), FORMAT.into());
    manifest.insert("organisation".into(), request.organisation.clone().into());
    manifest.insert("from".into(), request.from.to_string().into());
    manifest.insert("to".into(), request.to.to_string().into());
    manifest.insert("period_basis".into(), "recorded_at_utc_date".into());
    manifest.insert("recipient".into(), request.recipient.clone().into());
    manifest.insert(
        "generated_at".into(),
        generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .into(),
    );
    manifest.insert("count".into(), count.into());
    manifest.insert("first_position".into(), json!(first_position));
    manifest.insert("last_position".into(), json!(last.as_ref().map(|l| l.1)));
    manifest.insert(
        "chain".into(),
        match &last {
            Some((index, position, link)) => {
                json!({ "chain_index": index, "position": position, "link": link })
            }
            None => Value::Null,
        },
    );
    manifest.insert(
        "sealed_head".into(),
        match &head {
            Some(h) => {
                json!({ "chain_index": h.chain_index, "position": h.position, "link": h.link_hash })
            }
            None => Value::Null,
        },
    );
    manifest.insert("sha256".into(), hex::encode(hash.finalize()).into());
    manifest.insert("algorithm".into(), crate::audit::ALGORITHM.into());
    manifest.insert("public_key".into(), keys.public_key_hex().into());
    let signature = keys.sign_hex(&manifest_message(&manifest));
    manifest.insert("signature".into(), signature.into());
    let mut line = serde_json::to_vec(&Value::Object(manifest.clone()))
        .map_err(|e| ApiError::Internal(e.into()))?;
    line.push(b'\n');
    out.write_all(&line).await.map_err(io)?;
    out.flush().await.map_err(io)?;
    bytes += line.len() as u64;
    tracing::info!(events = count, bytes, "exported");
    Ok(ExportSummary {
        count,
        bytes,
        manifest: Value::Object(manifest),
    })
}

// ---------------------------------------------------------------------------------------
// `complaints verify-export`
// ---------------------------------------------------------------------------------------

/// What a received export was found to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportCheck {
    /// Events.
    pub count: u64,
    /// Organisation named in the manifest.
    pub organisation: String,
    /// Period named in the manifest.
    pub period: (String, String),
    /// First and last global positions.
    pub positions: Option<(i64, i64)>,
    /// The chain link at the last event.
    pub chain_link: Option<String>,
    /// The key that signed it.
    pub public_key: String,
}

impl std::fmt::Display for ExportCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "export verified: {} events of {} recorded {} to {}",
            self.count, self.organisation, self.period.0, self.period.1
        )?;
        if let (Some((first, last)), Some(link)) = (self.positions, &self.chain_link) {
            write!(
                f,
                "; positions {first} to {last}; chain link at the last event {link}"
            )?;
        }
        write!(f, "; signed by {}", self.public_key)
    }
}

fn rejected(why: String) -> ApiError {
    ApiError::IntegrityCheck(why)
}

/// Checks a received export on its own, streaming: every line's bytes hash to the
/// manifest's `sha256`, the count, positions and final chain link agree with the lines, and
/// the manifest is signed by its `public_key` (which must equal `pinned_key`, the key
/// published at `GET /v1/audit/key`, when given).
pub fn verify_export(
    reader: impl std::io::Read,
    pinned_key: Option<&str>,
) -> Result<ExportCheck, ApiError> {
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, reader);
    let mut hash = Sha256::new();
    let mut pending: Option<Vec<u8>> = None;
    let mut buffer = Vec::with_capacity(4096);
    let mut count = 0u64;
    let mut first_position: Option<i64> = None;
    let mut last: Option<(i64, i64, String)> = None;
    let mut line_number = 0u64;
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|e| rejected(format!("cannot read the export: {e}")))?;
        if read == 0 {
            break;
        }
        line_number += 1;
        if let Some(previous) = pending.replace(std::mem::take(&mut buffer)) {
            hash.update(&previous);
            let number = line_number - 1;
            let event: Value = serde_json::from_slice(&previous)
                .map_err(|e| rejected(format!("line {number} is not JSON: {e}")))?;
            if event.get("specversion").and_then(Value::as_str) != Some("1.0") {
                return Err(rejected(format!("line {number} is not a CloudEvent 1.0")));
            }
            let field = |name: &str| event.get(name).and_then(Value::as_i64);
            let (Some(position), Some(index), Some(link)) = (
                field("logposition"),
                field("chainindex"),
                event.get("chainlink").and_then(Value::as_str),
            ) else {
                return Err(rejected(format!(
                    "line {number} lacks logposition, chainindex or chainlink"
                )));
            };
            if last
                .as_ref()
                .is_some_and(|(previous, _, _)| *previous >= index)
            {
                return Err(rejected(format!(
                    "line {number} is out of chain order (chain index {index})"
                )));
            }
            first_position.get_or_insert(position);
            last = Some((index, position, link.to_string()));
            count += 1;
        }
        buffer = Vec::with_capacity(4096);
    }
    let manifest_line = pending.ok_or_else(|| rejected("the export is empty".into()))?;
    let manifest: Map<String, Value> = serde_json::from_slice(&manifest_line)
        .map_err(|e| rejected(format!("the last line is not a manifest: {e}")))?;
    if manifest.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(rejected(format!(
            "the last line is not a {FORMAT} manifest"
        )));
    }
    let text = |name: &str| {
        manifest
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| rejected(format!("the manifest has no `{name}`")))
    };
    let public_key = text("public_key")?;
    let signature = text("signature")?;
    verify_signature(&public_key, &manifest_message(&manifest), &signature)
        .map_err(|why| rejected(format!("the manifest signature is invalid: {why}")))?;
    if let Some(pinned) = pinned_key {
        if !pinned.trim().eq_ignore_ascii_case(&public_key) {
            return Err(rejected(format!(
                "signed by {public_key}, not by the published key {pinned}"
            )));
        }
    }
    let digest = hex::encode(hash.finalize());
    if text("sha256")? != digest {
        return Err(rejected(format!(
            "the lines hash to {digest}, not to the manifest's sha256: the file was changed"
        )));
    }
    if manifest.get("count").and_then(Value::as_u64) != Some(count) {
        return Err(rejected(format!(
            "the file has {count} events, the manifest says {}",
            manifest.get("count").cloned().unwrap_or(Value::Null)
        )));
    }
    let expect = |name: &str, found: Option<i64>| {
        let said = manifest.get(name).and_then(Value::as_i64);
        if said == found {
            Ok(())
        } else {
            Err(rejected(format!(
                "the manifest's {name} is {said:?}, the lines have {found:?}"
            )))
        }
    };
    expect("first_position", first_position)?;
    expect("last_position", last.as_ref().map(|l| l.1))?;
    let chain = manifest.get("chain").cloned().unwrap_or(Value::Null);
    let chain_link = chain
        .get("link")
        .and_then(Value::as_str)
        .map(str::to_string);
    if chain_link != last.as_ref().map(|l| l.2.clone())
        || chain.get("chain_index").and_then(Value::as_i64) != last.as_ref().map(|l| l.0)
    {
        return Err(rejected(
            "the manifest's chain head is not the last event's link".into(),
        ));
    }
    Ok(ExportCheck {
        count,
        organisation: text("organisation")?,
        period: (text("from")?, text("to")?),
        positions: first_position.zip(last.as_ref().map(|l| l.1)),
        chain_link,
        public_key,
    })
}

// ---------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------

/// Arguments of `complaints export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The organisation whose events to export.
    #[arg(long)]
    pub organisation: String,
    /// First day (UTC recording date), e.g. 2025-04-01.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last day (UTC recording date), inclusive.
    #[arg(long)]
    pub to: NaiveDate,
    /// Write here (atomically, with progress on stderr) instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The receiving body: complaint ids are pseudonymised for it.
    #[arg(long, default_value = "default")]
    pub recipient: String,
}

/// Arguments of `complaints verify-export`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyExportArgs {
    /// The export file (NDJSON with its manifest line).
    pub file: PathBuf,
    /// Require this signing key (hex, as published at `GET /v1/audit/key`).
    #[arg(long)]
    pub public_key: Option<String>,
}

/// Peak resident memory of this process in KiB (Linux), for the export summary.
/// `complaints export`: seals what is not sealed yet, then writes the export.
pub async fn export_command(
    args: ExportArgs,
    settings: &crate::Settings,
) -> Result<ExportSummary, ApiError> {
    let started = std::time::Instant::now();
    let keys = AuditKeys::load(&settings.audit, &settings.data_dir)?;
    let cases = crate::open_cases(settings).await?;
    let pool = cases.log().pool();
    let sealed = Runner::new(pool.clone(), Arc::new(Sealer))
        .catch_up()
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    if sealed > 0 {
        tracing::info!(events = sealed, "sealed events before exporting");
    }
    let request = ExportRequest {
        organisation: args.organisation,
        from: args.from,
        to: args.to,
        recipient: args.recipient,
    };
    let io = |e: std::io::Error| ApiError::Config(format!("cannot write the export: {e}"));
    let summary = match &args.out {
        Some(path) => {
            let partial = path.with_extension("partial");
            let file = tokio::fs::File::create(&partial).await.map_err(io)?;
            let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "export [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            let progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let written =
                write_export(pool, &keys, &request, Utc::now(), &mut out, &progress).await;
            bar.finish_and_clear();
            let summary = written?;
            out.into_inner().sync_all().await.map_err(io)?;
            tokio::fs::rename(&partial, path).await.map_err(io)?;
            summary
        }
        None => {
            let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, tokio::io::stdout());
            write_export(pool, &keys, &request, Utc::now(), &mut out, &|_, _| {}).await?
        }
    };
    eprintln!(
        "exported {} events ({} bytes) in {:.2} s; peak RSS {:.1} MiB",
        summary.count,
        summary.bytes,
        started.elapsed().as_secs_f64(),
        crate::bench::peak_rss_kib().unwrap_or(0) as f64 / 1024.0
    );
    Ok(summary)
}

/// `complaints verify-export`.
pub fn verify_export_command(args: &VerifyExportArgs) -> Result<ExportCheck, ApiError> {
    let file = std::fs::File::open(&args.file)
        .map_err(|e| ApiError::Config(format!("cannot open {}: {e}", args.file.display())))?;
    verify_export(file, args.public_key.as_deref())
}

/// Checks an export file (`verify-export` as a function).
pub fn verify_export_file(path: &Path) -> Result<ExportCheck, ApiError> {
    verify_export_command(&VerifyExportArgs {
        file: path.to_path_buf(),
        public_key: None,
    })
}

// ---------------------------------------------------------------------------------------
// `GET /v1/exports/events`
// ---------------------------------------------------------------------------------------

/// Roles that may export.
pub(crate) const EXPORT_ROLES: &[Role] = &[Role::Regulator];

/// The export route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/exports/events", get(export_events))
}

/// Query of `GET /v1/exports/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    organisation: String,
    from: NaiveDate,
    to: NaiveDate,
    recipient: Option<String>,
}

/// Streams what `reader` yields; at its end, fails the body if the producer failed, so a
/// broken export is a cut connection, never a file that looks complete.
fn body_of(
    reader: impl AsyncRead + Unpin + Send + 'static,
    producer: tokio::task::JoinHandle<Result<ExportSummary, ApiError>>,
) -> Body {
    let stream = futures::stream::unfold(
        (reader, Some(producer)),
        |(mut reader, producer)| async move {
            let producer = producer?;
            let mut chunk = vec![0u8; 64 * 1024];
            match reader.read(&mut chunk).await {
                Ok(0) => match producer.await {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => Some((Err(std::io::Error::other(e.to_string())), (reader, None))),
                    Err(e) => Some((Err(std::io::Error::other(e.to_string())), (reader, None))),
                },
                Ok(n) => {
                    chunk.truncate(n);
                    Some((Ok(Bytes::from(chunk)), (reader, Some(producer))))
                }
                Err(e) => Some((Err(e), (reader, None))),
            }
        },
    );
    Body::from_stream(stream)
}

#[tracing::instrument(skip_all)]
async fn export_events(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(EXPORT_ROLES)?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if !caller.acts_for(&query.organisation) {
        return Err(ApiError::Forbidden(
            "the token does not act for this organisation".into(),
        ));
    }
    let keys = keys(&state)?.clone();
    let request = ExportRequest {
        recipient: query.recipient.unwrap_or_else(|| caller.subject.clone()),
        organisation: query.organisation,
        from: query.from,
        to: query.to,
    };
    request.check()?;
    tracing::info!(
        actor = %caller.subject,
        organisation = %request.organisation,
        recipient = %request.recipient,
        "export requested"
    );
    let filename = format!(
        "attachment; filename=\"complaints-{}-{}-{}.ndjson\"",
        request
            .organisation
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect::<String>(),
        request.from,
        request.to
    );
    let pool = state.cases.log().pool().clone();
    let now = state.now();
    let (mut writer, reader) = tokio::io::duplex(256 * 1024);
    let producer = tokio::spawn(async move {
        let written = write_export(&pool, &keys, &request, now, &mut writer, &|_, _| {}).await;
        if let Err(error) = &written {
            tracing::error!(error = ?error, "export failed while streaming");
        }
        written
    });
    let mut response = body_of(reader, producer).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    if let Ok(value) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn signed_file(keys: &AuditKeys, lines: &[&str]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut hash = Sha256::new();
        for line in lines {
            let bytes = format!("{line}\n");
            hash.update(bytes.as_bytes());
            body.extend_from_slice(bytes.as_bytes());
        }
        let mut manifest = Map::new();
        manifest.insert("kind".into(), "manifest".into());
        manifest.insert("format".into(), FORMAT.into());
        manifest.insert("organisation".into(), "RAL".into());
        manifest.insert("from".into(), "2026-01-01".into());
        manifest.insert("to".into(), "2026-12-31".into());
        manifest.insert("count".into(), (lines.len() as u64).into());
        manifest.insert("first_position".into(), json!(3));
        manifest.insert("last_position".into(), json!(5));
        manifest.insert(
            "chain".into(),
            json!({"chain_index": 5, "position": 5, "link": "bb"}),
        );
        manifest.insert("sha256".into(), hex::encode(hash.finalize()).into());
        manifest.insert("public_key".into(), keys.public_key_hex().into());
        let signature = keys.sign_hex(&manifest_message(&manifest));
        manifest.insert("signature".into(), signature.into());
        body.extend_from_slice(&serde_json::to_vec(&manifest).unwrap());
        body.push(b'\n');
        body
    }

    const LINES: [&str; 2] = [
        r#"{"specversion":"1.0","logposition":3,"chainindex":3,"chainlink":"aa"}"#,
        r#"{"specversion":"1.0","logposition":5,"chainindex":5,"chainlink":"bb"}"#,
    ];

    #[test]
    fn an_intact_export_verifies_and_every_flipped_byte_fails() {
        let keys = AuditKeys::generate().unwrap();
        let file = signed_file(&keys, &LINES);
        let found = verify_export(file.as_slice(), Some(&keys.public_key_hex())).unwrap();
        assert_eq!(found.count, 2);
        assert_eq!(found.positions, Some((3, 5)));
        for i in 0..file.len() {
            let mut changed = file.clone();
            changed[i] ^= 0x01;
            assert!(
                verify_export(changed.as_slice(), None).is_err(),
                "flipping byte {i} went unnoticed"
            );
        }
    }

    #[test]
    fn a_dropped_line_or_another_key_fails() {
        let keys = AuditKeys::generate().unwrap();
        let file = signed_file(&keys, &LINES);
        let text = String::from_utf8(file).unwrap();
        let without_first: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
        assert!(verify_export(without_first.as_bytes(), None).is_err());
        let other = AuditKeys::generate().unwrap();
        assert!(verify_export(text.as_bytes(), Some(&other.public_key_hex())).is_err());
    }
}
