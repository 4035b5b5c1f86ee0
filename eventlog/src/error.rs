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
