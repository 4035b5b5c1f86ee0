//! `complaints verify` without the command line: reading signed checkpoint files and
//! checking the log against them and against the stored chain.

use crate::canonical::from_hex;
use crate::checkpoints::SignedCheckpoint;
use crate::verify_chain::{Anchor, Verification};
use crate::AuditError;
use complaints_eventlog::{Pool, Progress};
use ed25519_dalek::VerifyingKey;
use serde_json::Value;
use std::path::Path;

fn config(what: String) -> AuditError {
    AuditError::Config(what)
}

/// Reads a signed checkpoint file and checks its signature.
pub fn read_checkpoint(path: &Path) -> Result<SignedCheckpoint, AuditError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| config(format!("cannot read {}: {e}", path.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| AuditError::IntegrityCheck(format!("{} is not JSON: {e}", path.display())))?;
    let inner = value.get("checkpoint").cloned().unwrap_or(value);
    let checkpoint: SignedCheckpoint = serde_json::from_value(inner).map_err(|e| {
        AuditError::IntegrityCheck(format!(
            "{} is not a signed checkpoint: {e}",
            path.display()
        ))
    })?;
    checkpoint.verify().map_err(|why| {
        AuditError::IntegrityCheck(format!(
            "the checkpoint in {} is not validly signed: {why}",
            path.display()
        ))
    })?;
    Ok(checkpoint)
}

/// What `complaints verify` found, for printing.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// What verified.
    pub verified: crate::verify_chain::Verified,
    /// Checkpoints checked.
    pub checkpoints: Vec<SignedCheckpoint>,
    /// Checkpoints signed by another key than this deployment's.
    pub foreign_keys: usize,
}

impl std::fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = &self.verified;
        match &v.head {
            Some((index, position, link)) => write!(
                f,
                "verified: {} events sealed; head at chain index {index}, position {position}, link {link}",
                v.sealed
            )?,
            None => write!(f, "verified: nothing sealed yet")?,
        }
        if v.unsealed > 0 {
            write!(f, "; {} newer events not sealed yet", v.unsealed)?;
        }
        for c in &self.checkpoints {
            write!(
                f,
                "\ncheckpoint at chain index {} (position {}, signed {}) matches the log",
                c.chain_index, c.position, c.signed_at
            )?;
        }
        if self.foreign_keys > 0 {
            write!(
                f,
                "\nwarning: {} checkpoint(s) signed by a key other than this deployment's sealing key",
                self.foreign_keys
            )?;
        }
        Ok(())
    }
}

/// Recomputes the chain from the log and compares it with the stored links and the
/// checkpoints in `against`; any break makes an [`AuditError::ChainBroken`] naming every
/// break found.
pub async fn verify(
    pool: &Pool,
    against: &[SignedCheckpoint],
    own_key: Option<&VerifyingKey>,
    progress: Progress<'_>,
) -> Result<VerifyReport, AuditError> {
    let mut anchors = Vec::new();
    for c in against {
        let link = from_hex(&c.link).ok_or_else(|| {
            AuditError::IntegrityCheck(format!("checkpoint link `{}` is not a hash", c.link))
        })?;
        // The empty chain (index 0) holds for every log.
        if c.chain_index > 0 {
            anchors.push(Anchor {
                chain_index: c.chain_index,
                position: c.position,
                link,
            });
        }
    }
    let own = own_key.map(|k| hex::encode(k.as_bytes()));
    let foreign_keys = against
        .iter()
        .filter(|c| own.as_deref().is_some_and(|own| own != c.public_key))
        .count();
    match crate::verify_chain::verify_chain(pool, &anchors, 1000, progress).await? {
        Verification::Intact(verified) => Ok(VerifyReport {
            verified,
            checkpoints: against.to_vec(),
            foreign_keys,
        }),
        Verification::Broken(breaks) => {
            for found in &breaks.found {
                tracing::error!(
                    kind = found.kind.name(),
                    position = found.position,
                    chain_index = found.chain_index,
                    "audit chain broken"
                );
            }
            Err(AuditError::ChainBroken {
                breaks: breaks.found,
                truncated: breaks.truncated,
            })
        }
    }
}
