//! Appending to and loading from the log through postgres-es or sqlite-es, over the
//! project's own migrations (which add the global position, recording time and, on
//! PostgreSQL, the writing transaction id the commit-safe reader needs).

use crate::crypto::Encryption;
use crate::keys::EncryptingRepository;
use crate::{EventLogError, Pool};
use complaints_domain::{Complaint, ComplaintError};
use cqrs_es::persist::{
    EventStoreAggregateContext, EventUpcaster, PersistedEventStore, SemanticVersionEventUpcaster,
};
use cqrs_es::{AggregateError, EventEnvelope, EventStore};
use postgres_es::PostgresEventRepository;
use sqlite_es::SqliteEventRepository;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// Where the event log lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// PostgreSQL at this URL.
    Postgres(String),
    /// The embedded default: a SQLite file.
    Sqlite(PathBuf),
}

impl Database {
    /// A short name for logs and metrics: `postgres` or `sqlite`.
    pub fn kind(&self) -> &'static str {
        match self {
            Database::Postgres(_) => "postgres",
            Database::Sqlite(_) => "sqlite",
        }
    }
}

// Both repositories sit behind the encrypting decorator: personal fields are sealed on the
// way in (when encryption is configured) and opened on the way out (always).
enum Store {
    Postgres(PersistedEventStore<EncryptingRepository<PostgresEventRepository>, Complaint>),
    Sqlite(PersistedEventStore<EncryptingRepository<SqliteEventRepository>, Complaint>),
}

/// The append-only log of complaint events.
pub struct EventLog {
    pool: Pool,
    // Shared with the task each append runs in (see `append`).
    store: Arc<Store>,
    encryption: Option<Arc<Encryption>>,
}

impl EventLog {
    /// Connects to the database; does not migrate.
    pub async fn connect(database: &Database) -> Result<Self, EventLogError> {
        let pool = match database {
            Database::Postgres(url) => {
                let options = PgConnectOptions::from_str(url).map_err(|e| {
                    EventLogError::Config(format!("DATABASE_URL is not a PostgreSQL URL: {e}"))
                })?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(|e| {
                        EventLogError::Unavailable(format!("cannot connect to PostgreSQL: {e}"))
                    })?;
                Pool::Postgres(pool)
            }
            Database::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        EventLogError::Config(format!(
                            "cannot create data directory {}: {e}",
                            dir.display()
                        ))
                    })?;
                }
                // FULL sync: an acknowledged command survives power loss, not only a crash.
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(options)
                    .await
                    .map_err(|e| {
                        EventLogError::Unavailable(format!("cannot open {}: {e}", path.display()))
                    })?;
                Pool::Sqlite(pool)
            }
        };
        Ok(Self::with_pool(pool))
    }

    /// Wraps an existing pool.
    pub fn with_pool(pool: Pool) -> Self {
        let store = Self::store(&pool, None);
        Self {
            pool,
            store,
            encryption: None,
        }
    }

    fn store(pool: &Pool, encryption: Option<Arc<Encryption>>) -> Arc<Store> {
        Arc::new(match pool {
            Pool::Postgres(p) => Store::Postgres(
                PersistedEventStore::new_event_store(EncryptingRepository::new(
                    PostgresEventRepository::new(p.clone()),
                    pool.clone(),
                    encryption,
                ))
                .with_upcasters(upcasters()),
            ),
            Pool::Sqlite(p) => Store::Sqlite(
                PersistedEventStore::new_event_store(EncryptingRepository::new(
                    SqliteEventRepository::new(p.clone()),
                    pool.clone(),
                    encryption,
                ))
                .with_upcasters(upcasters()),
            ),
        })
    }

    /// Seals the personal fields of every event appended from now on with per-subject data
    /// keys (see `schemas/encryption.md`). Sealed events are opened on load either way.
    pub fn with_encryption(mut self, encryption: Arc<Encryption>) -> Self {
        self.store = Self::store(&self.pool, Some(encryption.clone()));
        self.encryption = Some(encryption);
        self
    }

    /// The encryption in force for appends, if any.
    pub fn encryption(&self) -> Option<&Arc<Encryption>> {
        self.encryption.as_ref()
    }

    /// The pool, for readers that query the log directly.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Applies the project's migrations (idempotent; safe from several processes).
    #[tracing::instrument(skip_all, err)]
    pub async fn migrate(&self) -> Result<(), EventLogError> {
        match &self.pool {
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await,
            Pool::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await,
        }
        .map_err(|e| EventLogError::Migration(e.to_string()))
    }

    /// Checks every migration of this release is applied, without applying any (a gateway
    /// whose database role may not create tables starts this way).
    ///
    /// # Errors
    /// [`EventLogError::Migration`] naming the first missing migration.
    pub async fn check_migrated(&self) -> Result<(), EventLogError> {
        let sql = "SELECT version FROM _sqlx_migrations WHERE success";
        let applied: Vec<i64> = match &self.pool {
            Pool::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await,
            Pool::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        }
        .map_err(|e| {
            EventLogError::Migration(format!(
                "cannot read the applied migrations ({e}); run `complaints migrate`"
            ))
        })?;
        let migrator = match &self.pool {
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
            Pool::Sqlite(_) => &SQLITE_MIGRATIONS,
        };
        match migrator.iter().find(|m| !applied.contains(&m.version)) {
            Some(missing) => Err(EventLogError::Migration(format!(
                "migration {} ({}) is not applied; run `complaints migrate`",
                missing.version, missing.description
            ))),
            None => Ok(()),
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), EventLogError> {
        let result = match &self.pool {
            Pool::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
            Pool::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
        };
        result.map_err(|e| EventLogError::Unavailable(format!("database unreachable: {e}")))
    }

    /// Every event of one complaint, in sequence order, with metadata.
    #[tracing::instrument(skip(self), err)]
    pub async fn load(
        &self,
        complaint_id: &str,
    ) -> Result<Vec<EventEnvelope<Complaint>>, EventLogError> {
        let result = match &*self.store {
            Store::Postgres(s) => s.load_events(complaint_id).await,
            Store::Sqlite(s) => s.load_events(complaint_id).await,
        };
        result.map_err(EventLogError::from_store)
    }

    /// Appends `events` after `expected_version`; a concurrent writer that got there first
    /// makes this a [`EventLogError::Conflict`] and nothing is written.
    #[tracing::instrument(skip(self, case, events, metadata), fields(events = events.len()), err)]
    pub async fn append(
        &self,
        complaint_id: &str,
        expected_version: usize,
        case: Complaint,
        events: Vec<complaints_domain::ComplaintEvent>,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<Complaint>>, EventLogError> {
        let context = EventStoreAggregateContext {
            aggregate_id: complaint_id.to_string(),
            aggregate: case,
            current_sequence: expected_version,
            current_snapshot: None,
        };
        // The commit runs on its own task: a caller that goes away (a client disconnecting
        // mid-request drops the request future) cannot drop the store's transaction between
        // sending BEGIN or COMMIT and reading the reply, which in sqlx 0.8 returns the
        // connection to the pool still inside a transaction. The append finishes or fails
        // whole either way; only the answer is lost, and a retry with the same command id
        // finds it applied.
        let store = Arc::clone(&self.store);
        let commit = async move {
            match &*store {
                Store::Postgres(s) => s.commit(events, context, metadata).await,
                Store::Sqlite(s) => s.commit(events, context, metadata).await,
            }
        };
        let result = tokio::spawn(commit.in_current_span())
            .await
            .map_err(|e| EventLogError::Store(format!("the append task ended abnormally: {e}")))?;
        result.map_err(EventLogError::from_store)
    }
}

/// What turns payloads stored at an earlier version into the current one on load
/// (`schemas/README.md`, "Event types and versions"). Every bump so far is to a sealed form
/// (`complaints_domain::SEALED_FORM_VERSION`): a `1.0` payload is that form with no sealed
/// leaf, so it is only renumbered. Sealed leaves are opened below this, in the repository.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    complaints_domain::BUMPED_VERSIONS
        .iter()
        .map(|(event_type, version)| {
            debug_assert_eq!(*version, complaints_domain::SEALED_FORM_VERSION);
            // The versions are constants of the form `major.minor`, which always parse.
            Box::new(SemanticVersionEventUpcaster::new(
                event_type,
                version,
                Box::new(|payload| payload),
            )) as Box<dyn EventUpcaster>
        })
        .collect()
}

impl EventLogError {
    fn from_store(error: AggregateError<ComplaintError>) -> Self {
        match error {
            AggregateError::UserError(rule) => EventLogError::Rule(rule),
            AggregateError::AggregateConflict => EventLogError::Conflict,
            AggregateError::DatabaseConnectionError(e) => EventLogError::Unavailable(e.to_string()),
            AggregateError::DeserializationError(e) => EventLogError::Decode {
                what: "stored event".into(),
                reason: e.to_string(),
            },
            // postgres-es and sqlite-es classify only I/O and TLS errors as connection
            // errors; a pool timeout or a session the server ended arrives here, and a
            // commit cut off that way has an unknown outcome, which is retryable, not a 500.
            AggregateError::UnexpectedError(e) => match e.downcast_ref::<sqlx::Error>() {
                Some(cause) if crate::is_connection_failure(cause) => {
                    EventLogError::Unavailable(e.to_string())
                }
                _ => EventLogError::Store(e.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_payloads_of_a_type_with_personal_data_are_upcast_to_its_sealed_form() {
        use cqrs_es::persist::SerializedEvent;
        let upcasters = upcasters();
        let applies = |event_type: &str, version: &str| {
            upcasters.iter().any(|u| u.can_upcast(event_type, version))
        };
        assert!(applies("ComplaintReceived", "1.0"));
        assert!(!applies("ComplaintReceived", "2.0"));
        // No personal data, no sealed form: left as stored.
        assert!(!applies("ComplaintAcknowledged", "1.0"));
        let payload = serde_json::json!({"ComplaintReceived": {"received_on": "2026-04-02"}});
        let stored = SerializedEvent {
            aggregate_id: "c".into(),
            sequence: 1,
            aggregate_type: "Complaint".into(),
            event_type: "ComplaintReceived".into(),
            event_version: "1.0".into(),
            payload: payload.clone(),
            metadata: serde_json::json!({}),
        };
        let Some(upcaster) = upcasters
            .iter()
            .find(|u| u.can_upcast("ComplaintReceived", "1.0"))
        else {
            panic!("no upcaster for ComplaintReceived 1.0");
        };
        let upcast = upcaster.upcast(stored);
        assert_eq!(upcast.event_version, "2.0.0");
        assert_eq!(
            upcast.payload, payload,
            "the sealed form of a plain payload is itself"
        );
    }

    #[test]
    fn connection_failures_from_either_store_library_are_unavailable() {
        let dropped = AggregateError::<ComplaintError>::DatabaseConnectionError(Box::new(
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
        ));
        assert!(matches!(
            EventLogError::from_store(dropped),
            EventLogError::Unavailable(_)
        ));
        for cause in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::WorkerCrashed,
        ] {
            let unexpected = AggregateError::<ComplaintError>::UnexpectedError(Box::new(cause));
            assert!(matches!(
                EventLogError::from_store(unexpected),
                EventLogError::Unavailable(_)
            ));
        }
        let refused =
            AggregateError::<ComplaintError>::UnexpectedError(Box::new(sqlx::Error::RowNotFound));
        assert!(matches!(
            EventLogError::from_store(refused),
            EventLogError::Store(_)
        ));
    }
}
