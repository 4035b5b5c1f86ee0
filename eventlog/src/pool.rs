//! One type for either backend, and macros that run the same sqlx code on each.
//!
//! SQL shared by both backends uses `$1, $2, …` placeholders in ascending order of first
//! appearance: PostgreSQL binds them by number and SQLite, which reads `$1` as a named
//! parameter, binds them in order of first appearance.

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};

/// A connection pool to either backend.
#[derive(Debug, Clone)]
pub enum Pool {
    /// PostgreSQL.
    Postgres(PgPool),
    /// SQLite (the embedded default).
    Sqlite(SqlitePool),
}

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

impl Pool {
    /// Which backend this pool reaches.
    pub fn backend(&self) -> Backend {
        match self {
            Pool::Postgres(_) => Backend::Postgres,
            Pool::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Begins a transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
        })
    }
}

/// A transaction on either backend.
pub enum Tx {
    /// PostgreSQL.
    Postgres(sqlx::Transaction<'static, Postgres>),
    /// SQLite.
    Sqlite(sqlx::Transaction<'static, Sqlite>),
}

impl Tx {
    /// Which backend.
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Postgres(_) => Backend::Postgres,
            Tx::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(t) => t.commit().await,
            Tx::Sqlite(t) => t.commit().await,
        }
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(t) => t.rollback().await,
            Tx::Sqlite(t) => t.rollback().await,
        }
    }

    /// Runs a statement without parameters.
    pub async fn run(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(t) => sqlx::query(sql).execute(&mut **t).await.map(|_| ()),
            Tx::Sqlite(t) => sqlx::query(sql).execute(&mut **t).await.map(|_| ()),
        }
    }
}

/// Runs `$body` with `$conn` bound to the transaction's connection, whichever the backend:
/// the body is compiled once per backend, so the same sqlx code serves both.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// Like [`on_tx!`] for a pool.
#[macro_export]
macro_rules! on_pool {
    ($pool:expr, |$conn:ident| $body:expr) => {
        match $pool {
            $crate::Pool::Postgres(p) => {
                let $conn = p;
                $body
            }
            $crate::Pool::Sqlite(p) => {
                let $conn = p;
                $body
            }
        }
    };
}
