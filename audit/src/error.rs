//! The one error type of the audit crate.

use crate::verify_chain::{ChainBreak, MAX_BREAKS};
use complaints_eventlog::EventLogError;

/// The report of a broken chain: how many breaks, then one line per break with its position.
pub fn describe_breaks(breaks: &[ChainBreak], truncated: bool) -> String {
    let mut out = format!(
        "audit chain broken in {}{} place(s):",
        if truncated { "more than " } else { "" },
        breaks.len()
    );
    for found in breaks {
        out.push_str(&format!("\n  {found}"));
    }
    if truncated {
        out.push_str(&format!(
            "\n  … verification stopped after {MAX_BREAKS} breaks; more follow"
        ));
    }
    out
}

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
    /// The chain does not match the log: every break found, in chain order.
    #[error("{}", describe_breaks(breaks, *truncated))]
    ChainBroken {
        /// The breaks (at least one, at most [`MAX_BREAKS`]).
        breaks: Vec<ChainBreak>,
        /// Whether more breaks followed the last one listed.
        truncated: bool,
    },
    /// The stored chain no longer leads to a checkpoint kept outside the database: nothing
    /// new is signed until an operator accepts the break.
    #[error("the audit chain disagrees with the checkpoint witnessed at chain index {chain_index}: {detail}")]
    WitnessDisagrees {
        /// The witnessed checkpoint's chain index.
        chain_index: i64,
        /// What differs.
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
