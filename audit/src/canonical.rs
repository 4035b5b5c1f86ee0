//! The chain's form: canonical bytes of a stored event, leaf and link hashes.
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

use chrono::{DateTime, Utc};
use complaints_eventlog::{RawEvent, StoredEvent};
use serde_json::Value;
use sha2::{Digest, Sha256};

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
}
