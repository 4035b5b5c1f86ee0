//! The one error type of the event log.

use complaints_domain::ComplaintError;

/// What can go wrong writing, reading or consuming the event log.
#[derive(Debug, thiserror::Error)]
pub enum EventLogError {
    /// The complaints rules refused a command while it was being committed.
    #[error(transparent)]
    Rule(#[from] ComplaintError),
    /// Another writer appended to the complaint first; nothing was written.
    #[error("the complaint changed concurrently")]
    Conflict,
    /// The database could not be reached or dropped the connection.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The event store library failed in a way it does not classify.
    #[error("event store: {0}")]
    Store(String),
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
    /// Applying the migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The database settings are unusable.
    #[error("{0}")]
    Config(String),
    /// No consumer of that name.
    #[error("unknown consumer `{0}`")]
    UnknownConsumer(String),
    /// A consumer's effect outside the database failed (e.g. NATS unreachable); retried.
    #[error("downstream: {0}")]
    Downstream(String),
    /// A query over the log or a read model was invalid.
    #[error("{0}")]
    InvalidQuery(String),
}

/// Whether a database error means the connection failed (the database is unreachable, went
/// away, or dropped the session mid-statement) rather than that the statement was refused.
/// For a commit this means its outcome is unknown: the caller should retry with the same
/// command id, which the aggregate's idempotency resolves either way.
pub fn is_connection_failure(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception), the server shutting down or not yet
        // accepting sessions (57P01-57P03), and "statement completion unknown" (40003).
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "40003")
        }),
        _ => false,
    }
}
