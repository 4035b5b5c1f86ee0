//! Witnesses: places outside the database where signed checkpoints are kept, so that whoever
//! holds the database cannot rewrite the log, re-seal it and re-sign it unnoticed.
//!
//! Every checkpoint the notary signs is handed to every witness (a directory here; the
//! gateway adds a NATS stream). Before signing, the chain as stored must still lead to the
//! latest checkpoint the directory holds; a sealer rebuild over a log that no longer leads
//! there is refused unless an operator accepts the break, which is recorded with who and why
//! both in the database and beside the witnessed checkpoints.

use crate::checkpoints::SignedCheckpoint;
use crate::AuditError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use complaints_eventlog::{on_pool, Pool};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Somewhere a signed checkpoint is kept outside the database.
#[async_trait]
pub trait Witness: Send + Sync {
    /// A short name for logs.
    fn name(&self) -> &str;
    /// Keeps `checkpoint`; keeping one already kept is not an error.
    async fn record(&self, checkpoint: &SignedCheckpoint) -> Result<(), AuditError>;
}

/// An operator's acceptance of a chain that disagrees with what was witnessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedBreak {
    /// When it was accepted (RFC 3339, UTC).
    pub accepted_at: String,
    /// Who accepted it.
    pub accepted_by: String,
    /// Why.
    pub reason: String,
    /// What was found broken, as `verify` reported it.
    pub breaks: String,
}

/// A directory of signed checkpoints, one file per chain index, plus accepted breaks.
#[derive(Debug, Clone)]
pub struct DirectoryWitness {
    dir: PathBuf,
}

const CHECKPOINT_PREFIX: &str = "checkpoint-";
const ACCEPTED_PREFIX: &str = "accepted-break-";

impl DirectoryWitness {
    /// Checkpoints kept in `dir` (created when the first is written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn write_new(&self, name: &str, bytes: &[u8]) -> Result<(), AuditError> {
        let io = |e: std::io::Error| AuditError::Io(format!("{}: {e}", self.dir.display()));
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let path = self.dir.join(name);
        if path.exists() {
            return Ok(());
        }
        // Written aside and renamed, so a reader never sees half a checkpoint.
        let partial = self.dir.join(format!(".{name}.partial"));
        std::fs::write(&partial, bytes).map_err(io)?;
        std::fs::rename(&partial, &path).map_err(io)
    }

    fn files(&self, prefix: &str) -> Result<Vec<PathBuf>, AuditError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(AuditError::Io(format!("{}: {e}", self.dir.display()))),
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".json"))
            })
            .collect();
        found.sort();
        Ok(found)
    }

    /// Every checkpoint kept here, oldest chain index first, each with its signature checked:
    /// a file that does not verify is an error, never silently skipped.
    pub fn checkpoints(&self) -> Result<Vec<SignedCheckpoint>, AuditError> {
        let mut all = Vec::new();
        for path in self.files(CHECKPOINT_PREFIX)? {
            all.push(crate::verify::read_checkpoint(&path)?);
        }
        all.sort_by_key(|c| c.chain_index);
        Ok(all)
    }

    /// Every accepted break kept here, oldest first.
    pub fn accepted_breaks(&self) -> Result<Vec<AcceptedBreak>, AuditError> {
        let mut all = Vec::new();
        for path in self.files(ACCEPTED_PREFIX)? {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| AuditError::Io(format!("{}: {e}", path.display())))?;
            all.push(serde_json::from_str(&text)?);
        }
        all.sort_by(|a: &AcceptedBreak, b| a.accepted_at.cmp(&b.accepted_at));
        Ok(all)
    }

    /// The checkpoints the chain must still lead to: those signed after the last accepted
    /// break (an accepted break supersedes what was witnessed before it).
    pub fn binding_checkpoints(&self) -> Result<Vec<SignedCheckpoint>, AuditError> {
        let since = self
            .accepted_breaks()?
            .last()
            .and_then(|b| parse_time(&b.accepted_at));
        Ok(self
            .checkpoints()?
            .into_iter()
            .filter(|c| match (since, parse_time(&c.signed_at)) {
                (Some(since), Some(signed)) => signed > since,
                _ => true,
            })
            .collect())
    }

    /// Keeps an accepted break beside the checkpoints.
    pub fn record_accepted_break(&self, accepted: &AcceptedBreak) -> Result<(), AuditError> {
        let stamp: String = accepted
            .accepted_at
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        self.write_new(
            &format!("{ACCEPTED_PREFIX}{stamp}.json"),
            &serde_json::to_vec_pretty(accepted)?,
        )
    }
}

fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[async_trait]
impl Witness for DirectoryWitness {
    fn name(&self) -> &str {
        "directory"
    }

    async fn record(&self, checkpoint: &SignedCheckpoint) -> Result<(), AuditError> {
        self.write_new(
            &format!("{CHECKPOINT_PREFIX}{:012}.json", checkpoint.chain_index),
            &serde_json::to_vec_pretty(checkpoint)?,
        )
    }
}

/// Every witness of this deployment; the directory is also read back before signing.
#[derive(Clone, Default)]
pub struct Witnesses {
    /// The directory witness, when configured.
    pub directory: Option<DirectoryWitness>,
    /// Other witnesses (a NATS stream), written to only.
    pub others: Vec<Arc<dyn Witness>>,
}

impl Witnesses {
    /// Witnesses with a directory.
    pub fn with_directory(dir: impl Into<PathBuf>) -> Self {
        Self {
            directory: Some(DirectoryWitness::new(dir)),
            others: Vec::new(),
        }
    }

    /// Adds a witness that is written to.
    pub fn with(mut self, witness: Arc<dyn Witness>) -> Self {
        self.others.push(witness);
        self
    }

    /// Hands `checkpoint` to every witness; a witness that fails is logged, never fatal to
    /// the others (the checkpoint is already in the database).
    pub async fn record(&self, checkpoint: &SignedCheckpoint) {
        if let Some(dir) = &self.directory {
            if let Err(error) = dir.record(checkpoint).await {
                tracing::warn!(witness = dir.name(), %error, "cannot keep a checkpoint");
            }
        }
        for witness in &self.others {
            if let Err(error) = witness.record(checkpoint).await {
                tracing::warn!(witness = witness.name(), %error, "cannot keep a checkpoint");
            }
        }
    }

    /// Refuses when the chain as stored no longer leads to the latest binding checkpoint
    /// of the directory witness.
    pub async fn check_chain(&self, pool: &Pool) -> Result<(), AuditError> {
        let Some(dir) = &self.directory else {
            return Ok(());
        };
        let Some(latest) = dir.binding_checkpoints()?.pop() else {
            return Ok(());
        };
        if latest.chain_index == 0 {
            return Ok(());
        }
        let stored = crate::sealer::link_at(pool, latest.chain_index).await?;
        match stored {
            Some(link) if link.link_hash == latest.link && link.position == latest.position => {
                Ok(())
            }
            other => Err(AuditError::WitnessDisagrees {
                chain_index: latest.chain_index,
                detail: match other {
                    Some(link) => format!(
                        "the stored chain has link {} at position {}, the witness {} at position {}",
                        link.link_hash, link.position, latest.link, latest.position
                    ),
                    None => "the stored chain is shorter than the witnessed one".into(),
                },
            }),
        }
    }
}

/// Records an accepted break in the database (append-only) and beside the checkpoints.
pub async fn accept_break(
    pool: &Pool,
    witnesses: &Witnesses,
    accepted: &AcceptedBreak,
) -> Result<(), AuditError> {
    on_pool!(pool, |p| {
        sqlx::query(
            "INSERT INTO audit_accepted_breaks (accepted_at, accepted_by, reason, breaks)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&accepted.accepted_at)
        .bind(&accepted.accepted_by)
        .bind(&accepted.reason)
        .bind(&accepted.breaks)
        .execute(p)
        .await?
        .rows_affected()
    });
    if let Some(dir) = &witnesses.directory {
        dir.record_accepted_break(accepted)?;
    }
    tracing::warn!(
        accepted_by = %accepted.accepted_by,
        reason = %accepted.reason,
        "a break of the audit chain was accepted"
    );
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::AuditKeys;

    #[tokio::test]
    async fn a_directory_keeps_checkpoints_and_an_accepted_break_supersedes_older_ones() {
        let dir = tempfile::tempdir().unwrap();
        let witness = DirectoryWitness::new(dir.path().join("witness"));
        let keys = AuditKeys::generate().unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let old = SignedCheckpoint::sign(&keys, 3, 3, &"a".repeat(64), at("2026-01-01T00:00:00Z"));
        witness.record(&old).await.unwrap();
        witness.record(&old).await.unwrap();
        assert_eq!(witness.checkpoints().unwrap(), vec![old.clone()]);
        assert_eq!(witness.binding_checkpoints().unwrap(), vec![old]);
        witness
            .record_accepted_break(&AcceptedBreak {
                accepted_at: "2026-02-01T00:00:00Z".into(),
                accepted_by: "ops".into(),
                reason: "restored from backup".into(),
                breaks: "event removed at position 2".into(),
            })
            .unwrap();
        assert!(witness.binding_checkpoints().unwrap().is_empty());
        let new = SignedCheckpoint::sign(&keys, 2, 2, &"b".repeat(64), at("2026-02-02T00:00:00Z"));
        witness.record(&new).await.unwrap();
        assert_eq!(witness.binding_checkpoints().unwrap(), vec![new]);
    }

    #[tokio::test]
    async fn a_tampered_checkpoint_file_is_an_error_not_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let witness = DirectoryWitness::new(dir.path());
        let keys = AuditKeys::generate().unwrap();
        let signed = SignedCheckpoint::sign(&keys, 5, 5, &"c".repeat(64), Utc::now());
        witness.record(&signed).await.unwrap();
        let path = dir.path().join("checkpoint-000000000005.json");
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\"c", "\"d");
        std::fs::write(&path, text).unwrap();
        assert!(witness.checkpoints().is_err());
    }
}
