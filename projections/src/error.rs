//! The one error type of the projections crate.

/// What can go wrong reading the log or maintaining a read model.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
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
    /// No read model of that name.
    #[error("unknown projection `{0}`")]
    UnknownProjection(String),
    /// A consumer's effect outside the database failed (e.g. NATS unreachable); retried.
    #[error("downstream: {0}")]
    Downstream(String),
    /// A request for a read model was invalid.
    #[error("{0}")]
    InvalidQuery(String),
}
