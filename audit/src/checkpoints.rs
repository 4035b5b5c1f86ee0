//! Signed checkpoints of the chain: a point (index, position, link) signed with the sealing
//! key, and how they are recorded in and read from the database.

use crate::canonical::{canonical_json, to_hex, ZERO_LINK};
use crate::keys::{verify_signature, AuditKeys, ALGORITHM};
use crate::AuditError;
use chrono::{DateTime, Utc};
use complaints_eventlog::{on_pool, Pool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

/// Domain separation of checkpoint signatures.
pub const CHECKPOINT_CONTEXT: &[u8] = b"complaints-audit-checkpoint/v1\n";

/// A point of the chain signed with the sealing key: hand it out, keep it elsewhere, and
/// `complaints verify --against` it later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SignedCheckpoint {
    /// Chain index (0: the empty chain).
    pub chain_index: i64,
    /// Global position of the event at that index (0 for the empty chain).
    pub position: i64,
    /// The link at that index, hex.
    pub link: String,
    /// When it was signed (RFC 3339, UTC).
    pub signed_at: String,
    /// `Ed25519`.
    pub algorithm: String,
    /// The sealing key's public half, hex.
    pub public_key: String,
    /// Signature, hex, over `complaints-audit-checkpoint/v1`, a newline and the canonical JSON
    /// of `{chain_index, link, position, signed_at}` (see `schemas/audit-chain.md`).
    pub signature: String,
}

impl SignedCheckpoint {
    /// What is signed: `complaints-audit-checkpoint/v1\n` followed by the canonical JSON of
    /// `{chain_index, link, position, signed_at}`.
    pub fn message(&self) -> Vec<u8> {
        let mut out = CHECKPOINT_CONTEXT.to_vec();
        canonical_json(
            &json!({
                "chain_index": self.chain_index,
                "link": self.link,
                "position": self.position,
                "signed_at": self.signed_at,
            }),
            &mut out,
        );
        out
    }

    /// Signs the chain at `chain_index`.
    pub fn sign(
        keys: &AuditKeys,
        chain_index: i64,
        position: i64,
        link: &str,
        at: DateTime<Utc>,
    ) -> Self {
        let mut checkpoint = Self {
            chain_index,
            position,
            link: link.to_string(),
            signed_at: at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            algorithm: ALGORITHM.into(),
            public_key: keys.public_key_hex(),
            signature: String::new(),
        };
        checkpoint.signature = keys.sign_hex(&checkpoint.message());
        checkpoint
    }

    /// Checks the signature against the embedded public key.
    pub fn verify(&self) -> Result<(), String> {
        if self.algorithm != ALGORITHM {
            return Err(format!("unknown algorithm `{}`", self.algorithm));
        }
        verify_signature(&self.public_key, &self.message(), &self.signature)
    }
}

pub(crate) async fn stored_checkpoint(
    pool: &Pool,
    chain_index: i64,
) -> Result<Option<SignedCheckpoint>, AuditError> {
    let row = on_pool!(pool, |p| sqlx::query(
        "SELECT chain_index, position, link_hash, signed_at, public_key, signature
         FROM audit_checkpoints WHERE chain_index = $1"
    )
    .bind(chain_index)
    .fetch_optional(p)
    .await?
    .map(|r| {
        Ok::<_, sqlx::Error>(SignedCheckpoint {
            chain_index: r.try_get(0)?,
            position: r.try_get(1)?,
            link: r.try_get(2)?,
            signed_at: r.try_get(3)?,
            algorithm: ALGORITHM.into(),
            public_key: r.try_get(4)?,
            signature: r.try_get(5)?,
        })
    })
    .transpose()?);
    Ok(row)
}

/// The latest recorded checkpoint's chain index (0 when none).
pub(crate) async fn last_checkpoint_index(pool: &Pool) -> Result<i64, AuditError> {
    let index: Option<i64> = on_pool!(pool, |p| sqlx::query_scalar(
        "SELECT max(chain_index) FROM audit_checkpoints"
    )
    .fetch_one(p)
    .await?);
    Ok(index.unwrap_or(0))
}

/// The chain's head now: index, position and link (zeros for the empty chain).
pub async fn chain_head(pool: &Pool) -> Result<(i64, i64, String), AuditError> {
    Ok(match crate::sealer::head(pool).await? {
        Some(head) => (head.chain_index, head.position, head.link_hash),
        None => (0, 0, to_hex(&ZERO_LINK)),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_breaks_it() {
        let keys = AuditKeys::generate().unwrap();
        let signed = SignedCheckpoint::sign(&keys, 7, 42, &to_hex(&[7u8; 32]), Utc::now());
        signed.verify().unwrap();
        for tamper in [
            |c: &mut SignedCheckpoint| c.chain_index += 1,
            |c: &mut SignedCheckpoint| c.position += 1,
            |c: &mut SignedCheckpoint| c.link = to_hex(&[8u8; 32]),
            |c: &mut SignedCheckpoint| c.signed_at.push('0'),
        ] {
            let mut changed = signed.clone();
            tamper(&mut changed);
            assert!(changed.verify().is_err());
        }
        let other = AuditKeys::generate().unwrap();
        let mut rekeyed = signed.clone();
        rekeyed.public_key = other.public_key_hex();
        assert!(rekeyed.verify().is_err());
    }
}
