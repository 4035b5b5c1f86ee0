//! Dev-only test kit: each test gets a database of its own (a fresh schema on PostgreSQL, a
//! temporary file for SQLite), and the rule that decides whether a test needing PostgreSQL or
//! NATS runs: it runs when `DATABASE_URL` / `NATS_URL` is set, skips otherwise, and fails
//! rather than skips when `CI` is set and the service is missing or unreachable, so a broken
//! CI service never turns into silently skipped tests. `TEST_LOG=1` shows logs.
// Dev-only: a test whose database cannot be set up must stop at once, so setup failures
// panic with their cause rather than being threaded through every test.
#![allow(clippy::unwrap_used)]

use complaints_eventlog::{Database, EventLog, Pool};
use std::path::PathBuf;

/// Which event-log backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// PostgreSQL at `DATABASE_URL`.
    Postgres,
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// Shows logs when `TEST_LOG` is set.
pub fn init_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// The PostgreSQL URL to test against, or `None` to skip. Panics under CI when missing or
/// unreachable.
pub async fn postgres_base_url() -> Option<String> {
    let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        assert!(
            !in_ci(),
            "CI is set but DATABASE_URL is not: PostgreSQL tests must run in CI"
        );
        eprintln!("DATABASE_URL not set: skipping PostgreSQL test");
        return None;
    };
    match sqlx::PgPool::connect(&url).await {
        Ok(pool) => {
            pool.close().await;
            Some(url)
        }
        Err(e) if in_ci() => panic!("CI is set and PostgreSQL at DATABASE_URL is unreachable: {e}"),
        Err(e) => {
            eprintln!("PostgreSQL unreachable ({e}): skipping PostgreSQL test");
            None
        }
    }
}

/// The NATS URL to test against, or `None` to skip. Panics under CI when missing.
pub fn nats_url() -> Option<String> {
    let url = std::env::var("NATS_URL").ok().filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            !in_ci(),
            "CI is set but NATS_URL is not: NATS tests must run in CI"
        );
        eprintln!("NATS_URL not set: skipping NATS test");
    }
    url
}

/// A `nats-server` binary to start private servers with: `COMPLAINTS_TEST_NATS_SERVER` (CI
/// points it at a current release), else the system one. Panics under CI when none exists.
pub fn nats_server_binary() -> Option<PathBuf> {
    let chosen = std::env::var_os("COMPLAINTS_TEST_NATS_SERVER").map(PathBuf::from);
    let found = chosen.or_else(|| {
        [
            "/usr/sbin/nats-server",
            "/usr/bin/nats-server",
            "/usr/local/bin/nats-server",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
    });
    assert!(found.is_some() || !in_ci(), "nats-server binary not found");
    found
}

/// Drops test schemas left by runs more than an hour old, so the shared test database does
/// not grow without bound; schemas of tests still running are younger.
async fn drop_stale_schemas(admin: &sqlx::PgPool, now: i64) {
    let schemas: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 't\\_%'")
            .fetch_all(admin)
            .await
            .unwrap_or_default();
    for schema in schemas {
        let created = schema.split('_').nth(1).and_then(|s| s.parse::<i64>().ok());
        if created.is_none_or(|t| now - t > 3600) {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(admin)
                .await;
        }
    }
}

/// A fresh schema at `base` and the URL that puts a connection in it.
pub async fn fresh_schema(base: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let schema = format!("t_{now}_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(base)
        .await
        .expect("connect to DATABASE_URL to make a test schema");
    drop_stale_schemas(&admin, now).await;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .expect("create the test schema");
    admin.close().await;
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

/// A database of its own for one test. Keep it alive for the test's duration.
pub struct TestDatabase {
    /// How to reach it.
    pub database: Database,
    /// The temporary directory holding the SQLite file (and anything else of the test's).
    pub dir: tempfile::TempDir,
}

impl TestDatabase {
    /// A fresh database, or `None` when the backend is not available (never under CI).
    pub async fn create(backend: Backend) -> Option<Self> {
        init_logging();
        let dir = tempfile::tempdir().expect("a temporary directory for the test database");
        let database = match backend {
            Backend::Sqlite => Database::Sqlite(dir.path().join("complaints.db")),
            Backend::Postgres => {
                Database::Postgres(fresh_schema(&postgres_base_url().await?).await)
            }
        };
        Some(Self { database, dir })
    }

    /// PostgreSQL when `DATABASE_URL` is set, else SQLite.
    pub async fn any() -> Self {
        let backend = if std::env::var("DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .is_some()
        {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        Self::create(backend).await.expect("the test database")
    }

    /// Which backend it is.
    pub fn backend(&self) -> Backend {
        match self.database {
            Database::Postgres(_) => Backend::Postgres,
            Database::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// A migrated event log on this database.
    pub async fn event_log(&self) -> EventLog {
        let log = EventLog::connect(&self.database)
            .await
            .expect("connect to the test database");
        log.migrate().await.expect("migrate the test database");
        log
    }

    /// A second, independent pool to the same database (for raw SQL).
    pub async fn raw_pool(&self) -> Pool {
        let log = EventLog::connect(&self.database)
            .await
            .expect("connect to the test database");
        log.pool().clone()
    }
}
