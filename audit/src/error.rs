//! The one error type of the audit crate.

use complaints_eventlog::EventLogError;

/// What can go wrong sealing, checkpointing, verifying or exporting.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Reading the log failed.
    #[error(transparent)]
    Log(#[from] EventLogError),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored link or event could not be decoded.
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// The chain does not match the log.
    #[error("audit chain broken at position {position}: {kind}: {detail}")]
    ChainBroken {
        /// What broke it (`event altered`, `event removed`, …).
        kind: &'static str,
        /// The global position named.
        position: i64,
        /// What was found.
        detail: String,
    },
    /// A received export or a checkpoint does not check out.
    #[error("integrity check failed: {0}")]
    IntegrityCheck(String),
    /// An export or query was asked for in a way that cannot be answered.
    #[error("{0}")]
    InvalidRequest(String),
    /// Keys or secrets cannot be read or made.
    #[error("{0}")]
    Config(String),
    /// Writing an export failed.
    #[error("{0}")]
    Io(String),
    /// Encoding JSON failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<AuditError> for EventLogError {
    fn from(error: AuditError) -> Self {
        match error {
            AuditError::Log(e) => e,
            AuditError::Database(e) => EventLogError::Database(e),
            AuditError::Decode { what, reason } => EventLogError::Decode { what, reason },
            other => EventLogError::Downstream(other.to_string()),
        }
    }
}
