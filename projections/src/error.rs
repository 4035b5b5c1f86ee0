//! The one error type of the projections crate.

use complaints_eventlog::EventLogError;

/// What can go wrong maintaining or querying a read model.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// Reading the log or running the consumer failed.
    #[error(transparent)]
    Log(#[from] EventLogError),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored event or read-model row could not be decoded.
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// A request for a read model was invalid.
    #[error("{0}")]
    InvalidQuery(String),
}

// The runner sees read-model failures as its own, so a failed batch is retried the same way
// whichever layer failed.
impl From<ProjectionError> for EventLogError {
    fn from(error: ProjectionError) -> Self {
        match error {
            ProjectionError::Log(e) => e,
            ProjectionError::Database(e) => EventLogError::Database(e),
            ProjectionError::Decode { what, reason } => EventLogError::Decode { what, reason },
            ProjectionError::InvalidQuery(q) => EventLogError::InvalidQuery(q),
        }
    }
}
