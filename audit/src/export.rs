//! Regulator exports: one organisation's sealed events for a period as NDJSON, one
//! CloudEvents 1.0 envelope per line (the NATS relay's envelope),
//! personal data removed (every field the event schemas mark `x-confidential`; no actor,
//! correlation or command ids), complaint ids pseudonymised per recipient, each line
//! carrying its chain link, and a trailing manifest signed with the sealing key. Streams
//! page by page, so memory stays flat whatever the size. Formats: `schemas/audit-chain.md`.
//!
//! The period is by recording date: events whose `recorded_at` falls on `from`..=`to` (UTC
//! calendar days). Recording time is when the fact entered the log, is never edited and is
//! the chain's own order; the business date (`occurredon`) is carried on every line for
//! receivers who count by it.

use crate::canonical::{canonical_json, canonical_time};
use crate::keys::{verify_signature, AuditKeys, ALGORITHM};
use crate::sealer::{SealedEvent, SealedFilter};
use crate::AuditError;
use chrono::{DateTime, NaiveDate, Utc};
use complaints_eventlog::{Checkpoint, Pool, Progress, RawEvent};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::io::BufRead;
use std::path::Path;
use tokio::io::{AsyncWrite, AsyncWriteExt};

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
    /// Refuses a request that cannot be exported.
    pub fn check(&self) -> Result<(), AuditError> {
        if self.from > self.to {
            return Err(AuditError::InvalidRequest(
                "`from` must not be after `to`".into(),
            ));
        }
        if self.recipient.trim().is_empty() || self.recipient.len() > 200 {
            return Err(AuditError::InvalidRequest(
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
fn envelope(keys: &AuditKeys, recipient: &str, sealed: SealedEvent) -> Result<Value, AuditError> {
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
    .decode()?;
    let mut event = complaints_eventlog::cloud_event(&stored, false);
    if let Some(data) = event.get_mut("data") {
        pseudonymise_case_links(data, keys, recipient);
    }
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

/// Replaces the ids of other complaints an event names (a transfer's or hand-over's
/// `origin.case_id`, a `LinkedCaseOpened`'s `case_id`) by this recipient's pseudonyms of
/// them: the recipient can still follow a complaint from one body to the next within its
/// exports, but a real id never leaves, so no two recipients share a join key.
fn pseudonymise_case_links(data: &mut Value, keys: &AuditKeys, recipient: &str) {
    let linked = |value: &mut Value| {
        if let Some(id) = value.get("case_id").and_then(Value::as_str) {
            let pseudonym = keys.pseudonym(recipient, id);
            value["case_id"] = Value::String(pseudonym);
        }
    };
    if let Some(origin) = data.get_mut("origin").filter(|o| o.is_object()) {
        linked(origin);
    }
    linked(data);
}

/// Whether stored metadata marks the event as part of a whistleblowing concern.
fn is_whistleblowing(metadata: &str) -> bool {
    serde_json::from_str::<Value>(metadata).is_ok_and(|m| {
        m.get(complaints_eventlog::metadata::CASE_KIND)
            .and_then(Value::as_str)
            == Some(complaints_domain::CaseKind::Whistleblowing.code())
    })
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
) -> Result<ExportSummary, AuditError> {
    request.check()?;
    let (from, until) = request.bounds();
    // The head when the export starts bounds it, so pages stay consistent while the log grows.
    let head = crate::sealer::head(pool).await?;
    let mut filter = SealedFilter {
        organisation: &request.organisation,
        from,
        until,
        after_index: 0,
        up_to_index: head.as_ref().map_or(0, |h| h.chain_index),
    };
    let total = crate::sealer::count_sealed(pool, &filter).await?.max(0) as u64;
    let io = |e: std::io::Error| AuditError::Io(format!("cannot write the export: {e}"));

    let mut hash = Sha256::new();
    let mut count = 0u64;
    let mut bytes = 0u64;
    let mut first_position: Option<i64> = None;
    let mut last: Option<(i64, i64, String)> = None;
    loop {
        let page = crate::sealer::sealed_page(pool, &filter, PAGE).await?;
        let Some(end) = page.last().map(|e| e.link.chain_index) else {
            break;
        };
        let mut chunk = Vec::with_capacity(page.len() * 600);
        for sealed in page {
            // R-KIND-3: whistleblowing concerns are never in a regulator's export.
            if is_whistleblowing(&sealed.metadata) {
                continue;
            }
            let (index, position, link) = (
                sealed.link.chain_index,
                sealed.link.position,
                sealed.link.link_hash.clone(),
            );
            let event = envelope(keys, &request.recipient, sealed)?;
            let start = chunk.len();
            serde_json::to_writer(&mut chunk, &event)?;
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
    manifest.insert("algorithm".into(), ALGORITHM.into());
    manifest.insert("public_key".into(), keys.public_key_hex().into());
    let signature = keys.sign_hex(&manifest_message(&manifest));
    manifest.insert("signature".into(), signature.into());
    let mut line = serde_json::to_vec(&Value::Object(manifest.clone()))?;
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

fn rejected(why: String) -> AuditError {
    AuditError::IntegrityCheck(why)
}

/// Checks a received export on its own, streaming: every line's bytes hash to the
/// manifest's `sha256`, the count, positions and final chain link agree with the lines, and
/// the manifest is signed by its `public_key` (which must equal `pinned_key`, the key
/// published at `GET /v1/audit/key`, when given).
pub fn verify_export(
    reader: impl std::io::Read,
    pinned_key: Option<&str>,
) -> Result<ExportCheck, AuditError> {
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

/// Checks an export file on its own (`complaints verify-export`).
pub fn verify_export_file(
    path: &Path,
    pinned_key: Option<&str>,
) -> Result<ExportCheck, AuditError> {
    let file = std::fs::File::open(path)
        .map_err(|e| AuditError::Config(format!("cannot open {}: {e}", path.display())))?;
    verify_export(file, pinned_key)
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
    fn the_ids_of_linked_complaints_leave_only_as_the_recipient_s_pseudonyms() {
        let keys = AuditKeys::generate().unwrap();
        let real = "0b5e1c2a-4f1e-4a8e-9a57-3f2d8c1e7b10";
        let mut received = json!({"received_on": "2026-04-02",
            "origin": {"relation": "transferred_in", "organisation_id": "RAL", "case_id": real}});
        pseudonymise_case_links(&mut received, &keys, "cqc");
        let mut opened =
            json!({"relation": "transferred_out", "organisation_id": "RBB", "case_id": real});
        pseudonymise_case_links(&mut opened, &keys, "cqc");
        assert!(!received.to_string().contains(real) && !opened.to_string().contains(real));
        // The same complaint reads the same within one recipient's exports, and differently
        // for another recipient.
        assert_eq!(
            received["origin"]["case_id"],
            keys.pseudonym("cqc", real).as_str()
        );
        assert_eq!(opened["case_id"], received["origin"]["case_id"]);
        assert_ne!(keys.pseudonym("phso", real), keys.pseudonym("cqc", real));
    }

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
