// Over 600 lines: the consumer runner, its lease, rebuild and swap share the checkpoint
// locking that makes them safe together; splitting them would spread that invariant.
//! The checkpointed consumer runner.
//!
//! Each read model is a consumer with a row in `projection_checkpoints`: its generation
//! (which set of tables is live) and the last event it applied. A batch is read after the
//! checkpoint, applied, and the checkpoint advanced in one transaction that holds the
//! consumer's lock (a transaction-scoped advisory lock on PostgreSQL, the write lock on
//! SQLite), so two runners can never apply the same batch and a crash repeats a batch but
//! never doubles it. On PostgreSQL one runner per consumer is active at a time (advisory
//! lock on a dedicated session); a standby takes over when that session ends.
//!
//! Read models are read through views named after their tables (`rm_case_list`, …) that
//! point at the live generation. `rebuild` fills the next generation from position zero
//! while the old one keeps answering, gives its tables planner statistics (`ANALYZE`),
//! catches up under the checkpoint lock, and swaps the views and the checkpoint in one
//! transaction.
//!
//! Batches are small when live (`Runner::batch_size`) and grow, doubling, up to
//! [`CATCH_UP_BATCH`] while a consumer is behind; a rebuild reads pages of that size from
//! the start. Every batch keeps the same guarantees whatever its size: commit-safe order,
//! applied with its checkpoint in one transaction, idempotent when repeated.
//!
//! The views are the reporting interface BI tools build on, so the swap keeps them: on
//! PostgreSQL each view is replaced in place (`CREATE OR REPLACE VIEW`, same object, same
//! grants, and views others built on it keep working) and given the read model's
//! `COMMENT ON VIEW` / `COMMENT ON COLUMN` descriptions ([`Consumer::docs`]). A new
//! generation with the same table definition has the same columns, so the replacement
//! always applies; if a new release changed a table's columns incompatibly, the view is
//! dropped and created again, which fails (and the swap rolls back) while other views
//! depend on it. SQLite has no grants and resolves views by name, so it drops and creates.

use crate::reader::{backlog, read_after, Checkpoint, StoredEvent};
use crate::{Backend, EventLogError, Pool, Tx};
use async_trait::async_trait;
use chrono::Utc;
use sqlx::Row;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A table a read model owns; it lives as `{base}_g{generation}` behind a view `{base}`.
#[derive(Debug, Clone)]
pub struct TableDef {
    /// Stable name (the view BI tools read).
    pub base: &'static str,
    /// Column definitions and constraints for `CREATE TABLE … ( … )`.
    pub columns: fn(Backend) -> String,
    /// Column lists to index.
    pub indexes: &'static [&'static str],
}

/// The live table names of one generation.
#[derive(Debug, Clone, Copy)]
pub struct Generation(pub i64);

impl Generation {
    /// The physical name of `base` in this generation.
    pub fn table(&self, base: &str) -> String {
        format!("{base}_g{}", self.0)
    }
}

/// What one view of the reporting interface and its columns mean: `COMMENT ON` text on
/// PostgreSQL and the source of `docs/DATA-DICTIONARY.md`.
#[derive(Debug, Clone, Copy)]
pub struct ViewDoc {
    /// The view (a [`TableDef::base`]).
    pub view: &'static str,
    /// What one row is, and whether the view is part of the reporting interface.
    pub about: &'static str,
    /// `(column, meaning)` for every column, in table order.
    pub columns: &'static [(&'static str, &'static str)],
}

/// A read model: a fold over events into tables.
#[async_trait]
pub trait Consumer: Send + Sync {
    /// Unique consumer name.
    fn name(&self) -> &'static str;
    /// The tables it maintains.
    fn tables(&self) -> Vec<TableDef>;
    /// What its views and their columns mean (none by default).
    fn docs(&self) -> Vec<ViewDoc> {
        Vec::new()
    }
    /// Whether a rebuild may fill this consumer's tables before creating their secondary
    /// indexes (`TableDef::indexes`), which is faster: only when `apply` never reads through
    /// one (its reads and deletes go by primary key).
    fn indexes_after_rebuild(&self) -> bool {
        false
    }
    /// Applies `events` (in commit-safe order) to the tables of `generation`, inside `tx`.
    async fn apply(
        &self,
        tx: &mut Tx,
        generation: Generation,
        events: &[StoredEvent],
    ) -> Result<(), EventLogError>;
}

/// What a consumer reports to `/metrics` and `/readyz`.
#[derive(Debug, Default)]
pub struct ConsumerStatus {
    /// Consumer name.
    pub name: String,
    /// Whether this process is the active instance.
    pub active: AtomicBool,
    /// Events written but not yet applied.
    pub lag_events: AtomicI64,
    /// Milliseconds since the oldest unapplied event was recorded (0 when caught up).
    pub lag_millis: AtomicI64,
    /// Last applied checkpoint.
    pub checkpoint: Mutex<Checkpoint>,
    /// Total events applied by this process.
    pub applied: AtomicI64,
}

impl ConsumerStatus {
    fn record_lag(&self, events: i64, oldest: Option<chrono::DateTime<Utc>>) {
        let millis = oldest.map_or(0, |t| (Utc::now() - t).num_milliseconds().max(0));
        self.lag_events.store(events, Ordering::Relaxed);
        self.lag_millis.store(millis, Ordering::Relaxed);
        metrics::gauge!("consumer_lag_events", "consumer" => self.name.clone()).set(events as f64);
        metrics::gauge!("consumer_lag_seconds", "consumer" => self.name.clone())
            .set(millis as f64 / 1000.0);
    }
}

const CHECKPOINTS_DDL: &str = "CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name           TEXT PRIMARY KEY,
    generation     BIGINT NOT NULL,
    transaction_id BIGINT NOT NULL,
    position       BIGINT NOT NULL,
    updated_at     TEXT   NOT NULL
)";

/// Creates the checkpoint table and, on first use, the consumer's row, tables and views.
///
/// On PostgreSQL a consumer already set up is left alone without any DDL, so a process
/// connecting as a role without CREATE (a gateway that only reads the read models) starts.
pub async fn ensure(pool: &Pool, projection: &dyn Consumer) -> Result<(), EventLogError> {
    if let Pool::Postgres(pg) = pool {
        let exists: bool =
            sqlx::query_scalar("SELECT to_regclass('projection_checkpoints') IS NOT NULL")
                .fetch_one(pg)
                .await?;
        if exists {
            let generation: Option<i64> =
                sqlx::query_scalar("SELECT generation FROM projection_checkpoints WHERE name = $1")
                    .bind(projection.name())
                    .fetch_optional(pg)
                    .await?;
            if generation.is_some() {
                return Ok(());
            }
        }
    }
    let mut tx = pool.begin().await?;
    if let Tx::Postgres(t) = &mut tx {
        // Serialises schema changes between consumers and processes starting together:
        // CREATE … IF NOT EXISTS is not safe against a concurrent create.
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':projection-ddl'))",
        )
        .execute(&mut **t)
        .await?;
    }
    tx.run(CHECKPOINTS_DDL).await?;
    if read_generation(&mut tx, projection.name()).await?.is_none() {
        let generation = Generation(1);
        create_tables(&mut tx, projection, generation, true).await?;
        point_views(&mut tx, projection, generation).await?;
        insert_checkpoint(&mut tx, projection.name(), generation).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn read_generation(tx: &mut Tx, name: &str) -> Result<Option<i64>, EventLogError> {
    Ok(crate::on_tx!(tx, |c| sqlx::query(
        "SELECT generation FROM projection_checkpoints WHERE name = $1"
    )
    .bind(name)
    .fetch_optional(c)
    .await?
    .map(|r| r.try_get::<i64, _>(0))
    .transpose()?))
}

async fn insert_checkpoint(
    tx: &mut Tx,
    name: &str,
    generation: Generation,
) -> Result<(), EventLogError> {
    crate::on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO projection_checkpoints (name, generation, transaction_id, position, updated_at)
         VALUES ($1, $2, 0, 0, $3) ON CONFLICT (name) DO NOTHING"
    )
    .bind(name)
    .bind(generation.0)
    .bind(Utc::now().to_rfc3339())
    .execute(c)
    .await?
    .rows_affected()
    });
    Ok(())
}

async fn create_tables(
    tx: &mut Tx,
    projection: &dyn Consumer,
    generation: Generation,
    with_indexes: bool,
) -> Result<(), EventLogError> {
    let backend = tx.backend();
    for table in projection.tables() {
        let name = generation.table(table.base);
        tx.run(&format!("DROP TABLE IF EXISTS {name}")).await?;
        tx.run(&format!(
            "CREATE TABLE {name} ({})",
            (table.columns)(backend)
        ))
        .await?;
    }
    if with_indexes {
        create_indexes(tx, projection, generation).await?;
    }
    Ok(())
}

async fn create_indexes(
    tx: &mut Tx,
    projection: &dyn Consumer,
    generation: Generation,
) -> Result<(), EventLogError> {
    for table in projection.tables() {
        let name = generation.table(table.base);
        for (i, columns) in table.indexes.iter().enumerate() {
            tx.run(&format!(
                "CREATE INDEX IF NOT EXISTS {name}_i{i} ON {name} ({columns})"
            ))
            .await?;
        }
    }
    Ok(())
}

async fn point_views(
    tx: &mut Tx,
    projection: &dyn Consumer,
    generation: Generation,
) -> Result<(), EventLogError> {
    let docs = projection.docs();
    for table in projection.tables() {
        let view = table.base;
        let target = generation.table(view);
        if tx.backend() == Backend::Sqlite {
            tx.run(&format!("DROP VIEW IF EXISTS {view}")).await?;
            tx.run(&format!("CREATE VIEW {view} AS SELECT * FROM {target}"))
                .await?;
            continue;
        }
        // In place: the view keeps its identity, so grants and the views others built on it
        // survive. Only a changed column list needs the view dropped and created again.
        tx.run("SAVEPOINT point_view").await?;
        let replaced = tx
            .run(&format!(
                "CREATE OR REPLACE VIEW {view} AS SELECT * FROM {target}"
            ))
            .await;
        match replaced {
            Ok(()) => tx.run("RELEASE SAVEPOINT point_view").await?,
            Err(error) => {
                tx.run("ROLLBACK TO SAVEPOINT point_view").await?;
                tracing::warn!(
                    view,
                    %error,
                    "the new generation's columns differ from the view's; recreating the view \
                     (grants on it are lost and must be given again)"
                );
                tx.run(&format!("DROP VIEW IF EXISTS {view}"))
                    .await
                    .map_err(|e| {
                        EventLogError::Config(format!(
                            "cannot replace view {view}: its columns changed and it cannot be \
                             dropped ({e}); drop the views built on it, rebuild, then create \
                             them again"
                        ))
                    })?;
                tx.run(&format!("CREATE VIEW {view} AS SELECT * FROM {target}"))
                    .await?;
            }
        }
        if let Some(doc) = docs.iter().find(|d| d.view == view) {
            comment_view(tx, doc).await?;
        }
    }
    Ok(())
}

/// `COMMENT ON` the view and each of its documented columns that exists (PostgreSQL): a
/// description without a column (or the reverse) is a drift the data-dictionary test
/// reports, never a reason to fail a swap.
async fn comment_view(tx: &mut Tx, doc: &ViewDoc) -> Result<(), EventLogError> {
    let Tx::Postgres(t) = tx else {
        return Ok(());
    };
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(doc.view)
    .fetch_all(&mut **t)
    .await?;
    let quote = |text: &str| format!("'{}'", text.replace('\'', "''"));
    sqlx::query(&format!(
        "COMMENT ON VIEW {} IS {}",
        doc.view,
        quote(doc.about)
    ))
    .execute(&mut **t)
    .await?;
    for (column, meaning) in doc.columns {
        if columns.iter().any(|c| c == column) {
            sqlx::query(&format!(
                "COMMENT ON COLUMN {}.{column} IS {}",
                doc.view,
                quote(meaning)
            ))
            .execute(&mut **t)
            .await?;
        }
    }
    Ok(())
}

/// Locks the consumer's checkpoint row for the rest of `tx` and reads it.
async fn lock_checkpoint(
    tx: &mut Tx,
    name: &str,
) -> Result<(Generation, Checkpoint), EventLogError> {
    let row = match tx {
        Tx::Postgres(t) => {
            // A transaction-scoped advisory lock rather than FOR UPDATE: a row lock would give
            // this transaction an id at once, and while it stays open (a relay waiting on
            // NATS) every consumer's `pg_snapshot_xmin` would stop below it.
            sqlx::query(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':checkpoint:' || $1))",
            )
            .bind(name)
            .execute(&mut **t)
            .await?;
            sqlx::query("SELECT generation, transaction_id, position FROM projection_checkpoints WHERE name = $1")
                .bind(name)
                .fetch_one(&mut **t)
                .await
                .map(|r| (r.try_get(0), r.try_get(1), r.try_get(2)))?
        }
        Tx::Sqlite(t) => {
            // The write takes SQLite's write lock now rather than at the end of the batch.
            sqlx::query("UPDATE projection_checkpoints SET name = name WHERE name = $1")
                .bind(name)
                .execute(&mut **t)
                .await?;
            sqlx::query("SELECT generation, transaction_id, position FROM projection_checkpoints WHERE name = $1")
                .bind(name)
                .fetch_one(&mut **t)
                .await
                .map(|r| (r.try_get(0), r.try_get(1), r.try_get(2)))?
        }
    };
    Ok((
        Generation(row.0?),
        Checkpoint {
            transaction_id: row.1?,
            position: row.2?,
        },
    ))
}

async fn save_checkpoint(
    tx: &mut Tx,
    name: &str,
    generation: Generation,
    checkpoint: Checkpoint,
) -> Result<(), EventLogError> {
    crate::on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE projection_checkpoints SET generation = $1, transaction_id = $2, position = $3, updated_at = $4 WHERE name = $5"
    )
    .bind(generation.0)
    .bind(checkpoint.transaction_id)
    .bind(checkpoint.position)
    .bind(Utc::now().to_rfc3339())
    .bind(name)
    .execute(c)
    .await?
    .rows_affected()
    });
    Ok(())
}

/// The most events a consumer reads and applies in one transaction while it catches up (a
/// rebuild, or a backlog): pages of the live size cost a transaction, a checkpoint and a
/// state read each, which dominated a rebuild (issue 16), and this bounds the decoded
/// events and rows held at once.
pub(crate) const CATCH_UP_BATCH: i64 = 10_000;

/// Runs one consumer.
pub struct Runner {
    pool: Pool,
    projection: Arc<dyn Consumer>,
    status: Arc<ConsumerStatus>,
    /// Events per transaction when live.
    pub batch_size: i64,
    /// The most events per transaction while behind: each full batch doubles the next one
    /// up to this; a batch that is not full, or fails, goes back to `batch_size`.
    pub catch_up_batch_size: i64,
    /// The next batch's size; 0 until the first batch (then `batch_size`).
    next_batch: AtomicI64,
    /// Wait between polls when caught up.
    pub poll_interval: Duration,
}

impl Runner {
    /// A runner for `projection` over `pool`.
    pub fn new(pool: Pool, projection: Arc<dyn Consumer>) -> Self {
        let status = Arc::new(ConsumerStatus {
            name: projection.name().to_string(),
            ..Default::default()
        });
        Self {
            pool,
            projection,
            status,
            batch_size: 500,
            catch_up_batch_size: CATCH_UP_BATCH,
            next_batch: AtomicI64::new(0),
            poll_interval: Duration::from_millis(200),
        }
    }

    /// The consumer's status, shared with the HTTP layer.
    pub fn status(&self) -> Arc<ConsumerStatus> {
        self.status.clone()
    }

    /// Applies at most one batch; returns how many events it applied.
    pub async fn step(&self) -> Result<usize, EventLogError> {
        let result = self.apply_batch().await;
        if result.is_err() {
            // Retry small: a batch too large for a statement timeout must not fail forever.
            self.next_batch.store(self.batch_size, Ordering::Relaxed);
            // A consumer failing on every batch never finds itself caught up, which is where
            // lag is otherwise measured: without this it would report the lag it had before
            // it got stuck (0, often) while the log runs away from it.
            if let Err(error) = self.refresh_lag().await {
                tracing::warn!(consumer = self.projection.name(), %error, "cannot measure lag");
            }
        }
        result
    }

    /// Measures the lag from the log: what lies after the stored checkpoint.
    async fn refresh_lag(&self) -> Result<(), EventLogError> {
        let mut tx = self.pool.begin().await?;
        let (_, checkpoint) = lock_checkpoint(&mut tx, self.projection.name()).await?;
        let (events, oldest) = backlog(&mut tx, checkpoint).await?;
        tx.rollback().await?;
        self.status.record_lag(events, oldest);
        Ok(())
    }

    async fn apply_batch(&self) -> Result<usize, EventLogError> {
        let name = self.projection.name();
        let mut tx = self.pool.begin().await?;
        let (generation, checkpoint) = lock_checkpoint(&mut tx, name).await?;
        let limit = self.batch_limit();
        let batch = read_after(&mut tx, checkpoint, limit).await?;
        // A full batch means more is waiting: grow the next one (doubling, so a small
        // backlog never pays for a large read); otherwise back to the live size.
        let next = if batch.len() as i64 >= limit {
            limit
                .saturating_mul(2)
                .min(self.catch_up_batch_size.max(self.batch_size))
        } else {
            self.batch_size
        };
        self.next_batch.store(next, Ordering::Relaxed);
        let Some(last) = batch.last().map(|e| e.checkpoint) else {
            let (events, oldest) = backlog(&mut tx, checkpoint).await?;
            tx.rollback().await?;
            self.status.record_lag(events, oldest);
            return Ok(0);
        };
        self.projection.apply(&mut tx, generation, &batch).await?;
        save_checkpoint(&mut tx, name, generation, last).await?;
        tx.commit().await?;
        if let Ok(mut cp) = self.status.checkpoint.lock() {
            *cp = last;
        }
        self.status
            .applied
            .fetch_add(batch.len() as i64, Ordering::Relaxed);
        metrics::counter!("consumer_events_applied_total", "consumer" => name)
            .increment(batch.len() as u64);
        Ok(batch.len())
    }

    /// The size of the next batch: `batch_size` when live, larger while catching up.
    fn batch_limit(&self) -> i64 {
        let batch_size = self.batch_size.max(1);
        match self.next_batch.load(Ordering::Relaxed) {
            0 => batch_size,
            n => n.clamp(batch_size, self.catch_up_batch_size.max(batch_size)),
        }
    }

    /// Applies batches until none is left.
    pub async fn catch_up(&self) -> Result<usize, EventLogError> {
        ensure(&self.pool, self.projection.as_ref()).await?;
        let mut total = 0;
        loop {
            let n = self.step().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Runs until `stop`: waits to become the active instance, then consumes, polling when
    /// caught up and backing off on errors.
    pub fn run(
        self,
        stop: CancellationToken,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async move {
            let name = self.projection.name();
            let mut backoff = Duration::from_millis(200);
            while !stop.is_cancelled() {
                if let Err(error) = ensure(&self.pool, self.projection.as_ref()).await {
                    tracing::warn!(consumer = name, %error, "cannot prepare consumer; retrying");
                    sleep_or_stop(&stop, backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
                let Some(lease) = Lease::acquire(&self.pool, name, &stop).await else {
                    return;
                };
                self.status.active.store(true, Ordering::Relaxed);
                tracing::info!(consumer = name, "active");
                loop {
                    if stop.is_cancelled() {
                        break;
                    }
                    match self.step().await {
                        Ok(0) => {
                            if !lease.still_held().await {
                                tracing::warn!(
                                    consumer = name,
                                    "lost the consumer lock; standing by"
                                );
                                break;
                            }
                            backoff = Duration::from_millis(200);
                            sleep_or_stop(&stop, self.poll_interval).await;
                        }
                        Ok(_) => backoff = Duration::from_millis(200),
                        Err(error) => {
                            tracing::warn!(consumer = name, %error, "batch failed; retrying");
                            sleep_or_stop(&stop, backoff).await;
                            backoff = (backoff * 2).min(Duration::from_secs(10));
                            if !lease.still_held().await {
                                break;
                            }
                        }
                    }
                }
                self.status.active.store(false, Ordering::Relaxed);
            }
        })
    }
}

async fn sleep_or_stop(stop: &CancellationToken, duration: Duration) {
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = tokio::time::sleep(duration) => {}
    }
}

/// The right to be the active instance of a consumer (or any singleton task, such as the
/// scheduler): on PostgreSQL a session advisory lock, released when the holder's session
/// ends, so a standby takes over when the holder dies.
pub enum Lease {
    /// PostgreSQL: a session-level advisory lock on a connection taken out of the pool.
    Postgres(tokio::sync::Mutex<sqlx::PgConnection>),
    /// SQLite: one process owns the file; the checkpoint row lock still serialises batches.
    Local,
}

impl Lease {
    /// Waits until this process holds `name`; `None` if `stop` comes first.
    pub async fn acquire(pool: &Pool, name: &str, stop: &CancellationToken) -> Option<Lease> {
        let Pool::Postgres(pg) = pool else {
            return Some(Lease::Local);
        };
        loop {
            if stop.is_cancelled() {
                return None;
            }
            match pg.acquire().await {
                Ok(conn) => {
                    let mut conn = conn.detach();
                    let got: Result<bool, _> = sqlx::query_scalar(
                        "SELECT pg_try_advisory_lock(hashtext(current_schema() || ':' || $1))",
                    )
                    .bind(name)
                    .fetch_one(&mut conn)
                    .await;
                    match got {
                        Ok(true) => return Some(Lease::Postgres(tokio::sync::Mutex::new(conn))),
                        Ok(false) => tracing::debug!(
                            consumer = name,
                            "another instance is active; standing by"
                        ),
                        Err(error) => {
                            tracing::warn!(consumer = name, %error, "cannot take the consumer lock")
                        }
                    }
                }
                Err(error) => tracing::warn!(consumer = name, %error, "cannot reach the database"),
            }
            sleep_or_stop(stop, Duration::from_secs(1)).await;
        }
    }

    /// Whether the lease is still held (its session still answers).
    pub async fn still_held(&self) -> bool {
        match self {
            Lease::Local => true,
            Lease::Postgres(conn) => {
                let mut conn = conn.lock().await;
                sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok()
            }
        }
    }
}

/// `ANALYZE` of each table of `generation` (both backends: SQLite's planner uses
/// `sqlite_stat1` the same way).
async fn analyze(
    pool: &Pool,
    projection: &dyn Consumer,
    generation: Generation,
) -> Result<(), EventLogError> {
    let mut tx = pool.begin().await?;
    for table in projection.tables() {
        tx.run(&format!("ANALYZE {}", generation.table(table.base)))
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Reads the log from the start in rebuild-sized pages, each in a short transaction of its
/// own, into `pages` until the log (as far as it is committed) is read or the receiver is
/// gone. An error is passed on and ends the reading.
async fn read_pages(
    pool: Pool,
    pages: tokio::sync::mpsc::Sender<Result<Vec<StoredEvent>, EventLogError>>,
) {
    let mut checkpoint = Checkpoint::default();
    loop {
        let page = async {
            let mut tx = pool.begin().await?;
            let batch = read_after(&mut tx, checkpoint, CATCH_UP_BATCH).await?;
            tx.rollback().await?;
            Ok::<_, EventLogError>(batch)
        }
        .await;
        let last = match &page {
            Ok(batch) => batch.last().map(|e| e.checkpoint),
            Err(_) => None,
        };
        if pages.send(page).await.is_err() {
            return;
        }
        match last {
            Some(last) => checkpoint = last,
            None => return,
        }
    }
}

/// Progress of a rebuild: events applied so far and the total to apply.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// Rebuilds `projection` from position zero into a new generation while the live one keeps
/// answering, then swaps. Returns the number of events applied.
pub async fn rebuild(
    pool: &Pool,
    projection: &dyn Consumer,
    progress: Progress<'_>,
) -> Result<u64, EventLogError> {
    let applied = rebuild_together(pool, &[projection], progress).await?;
    Ok(applied.into_iter().next().unwrap_or_default())
}

/// Rebuilds several projections from one reading of the log: each page is read once and
/// applied to every projection's new generation (side by side on PostgreSQL, each on its
/// own connection; in turn on SQLite, which has one writer). Each then swaps on its own.
/// Returns the events applied to each, in the order given.
pub async fn rebuild_together(
    pool: &Pool,
    projections: &[&dyn Consumer],
    progress: Progress<'_>,
) -> Result<Vec<u64>, EventLogError> {
    let mut total = 0u64;
    let mut next = Vec::with_capacity(projections.len());
    for projection in projections {
        ensure(pool, *projection).await?;
        let name = projection.name();
        let mut tx = pool.begin().await?;
        let live = read_generation(&mut tx, name)
            .await?
            .ok_or_else(|| EventLogError::UnknownConsumer(name.to_string()))?;
        let (backlog, _) = backlog(&mut tx, Checkpoint::default()).await?;
        tx.rollback().await?;
        total = total.max(backlog.max(0) as u64);
        let generation = Generation(live + 1);
        let mut tx = pool.begin().await?;
        create_tables(
            &mut tx,
            *projection,
            generation,
            !projection.indexes_after_rebuild(),
        )
        .await?;
        tx.commit().await?;
        next.push(generation);
    }

    // A rebuild is all catching up: the largest pages from the start. The next page is read
    // on its own connection while this one is applied, so the database's work of reading and
    // this process's work of folding overlap instead of taking turns. One page waits at most,
    // so memory stays flat however long the log.
    let (pages, mut ready) = tokio::sync::mpsc::channel(1);
    let reader = tokio::spawn(read_pages(pool.clone(), pages));
    let mut checkpoint = Checkpoint::default();
    let mut applied = 0u64;
    while let Some(page) = ready.recv().await {
        let batch: Vec<StoredEvent> = page?;
        let Some(last) = batch.last().map(|e| e.checkpoint) else {
            break;
        };
        match pool {
            Pool::Postgres(_) => {
                futures::future::try_join_all(
                    projections
                        .iter()
                        .zip(&next)
                        .map(|(p, g)| apply_page(pool, *p, *g, &batch)),
                )
                .await?;
            }
            Pool::Sqlite(_) => {
                for (projection, generation) in projections.iter().zip(&next) {
                    apply_page(pool, *projection, *generation, &batch).await?;
                }
            }
        }
        checkpoint = last;
        applied += batch.len() as u64;
        progress(applied, total.max(applied));
    }
    reader
        .await
        .map_err(|e| EventLogError::Store(format!("the rebuild's reader ended abnormally: {e}")))?;

    let mut counts = Vec::with_capacity(projections.len());
    for (projection, generation) in projections.iter().zip(&next) {
        counts.push(applied + finish_rebuild(pool, *projection, *generation, checkpoint).await?);
    }
    progress(applied, applied);
    Ok(counts)
}

/// Applies one page to `projection`'s generation `generation`, in a transaction of its own.
async fn apply_page(
    pool: &Pool,
    projection: &dyn Consumer,
    generation: Generation,
    batch: &[StoredEvent],
) -> Result<(), EventLogError> {
    let mut tx = pool.begin().await?;
    projection.apply(&mut tx, generation, batch).await?;
    tx.commit().await?;
    Ok(())
}

/// The end of a rebuild of `projection` into `next`, filled up to `checkpoint`: indexes,
/// statistics, then the swap. Returns the events applied while swapping.
async fn finish_rebuild(
    pool: &Pool,
    projection: &dyn Consumer,
    next: Generation,
    mut checkpoint: Checkpoint,
) -> Result<u64, EventLogError> {
    if projection.indexes_after_rebuild() {
        let mut tx = pool.begin().await?;
        create_indexes(&mut tx, projection, next).await?;
        tx.commit().await?;
    }
    // Planner statistics before the new tables answer: freshly filled tables have none, and
    // the queries on them (the export's join, keyset pages) then chose plans that made an
    // export after a rebuild run at 379 events/s (issue 16). Outside the swap's lock, so
    // the live consumer is not held up; the few rows the swap adds do not change them.
    analyze(pool, projection, next).await?;

    // Swap: under the live checkpoint's lock, take what arrived meanwhile, then point the
    // views and the checkpoint at the new generation together.
    let name = projection.name();
    let mut applied = 0u64;
    let mut tx = pool.begin().await?;
    let (old, _) = lock_checkpoint(&mut tx, name).await?;
    loop {
        let batch = read_after(&mut tx, checkpoint, CATCH_UP_BATCH).await?;
        let Some(last) = batch.last().map(|e| e.checkpoint) else {
            break;
        };
        projection.apply(&mut tx, next, &batch).await?;
        checkpoint = last;
        applied += batch.len() as u64;
    }
    point_views(&mut tx, projection, next).await?;
    save_checkpoint(&mut tx, name, next, checkpoint).await?;
    tx.commit().await?;

    let mut tx = pool.begin().await?;
    for table in projection.tables() {
        tx.run(&format!("DROP TABLE IF EXISTS {}", old.table(table.base)))
            .await?;
    }
    tx.commit().await?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::EventLog;
    use complaints_domain::{Complaint, ComplaintEvent, LearningKind};
    use std::collections::HashMap;

    /// Records the size of every batch it is given.
    #[derive(Default)]
    struct Sizes(Mutex<Vec<usize>>);

    #[async_trait]
    impl Consumer for Sizes {
        fn name(&self) -> &'static str {
            "test_sizes"
        }
        fn tables(&self) -> Vec<TableDef> {
            Vec::new()
        }
        async fn apply(
            &self,
            _tx: &mut Tx,
            _generation: Generation,
            events: &[StoredEvent],
        ) -> Result<(), EventLogError> {
            self.0.lock().unwrap().push(events.len());
            Ok(())
        }
    }

    async fn append(log: &EventLog, id: &str, version: usize, n: usize) {
        let events = (0..n)
            .map(|k| ComplaintEvent::LearningRecorded {
                recorded_on: chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
                kind: LearningKind::Lesson,
                summary: format!("lesson {k}"),
                action_due_on: None,
            })
            .collect();
        log.append(id, version, Complaint::default(), events, HashMap::new())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_backlog_is_read_in_growing_batches_and_live_events_in_small_ones() {
        let sqlite = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let log = EventLog::with_pool(Pool::Sqlite(sqlite));
        log.migrate().await.unwrap();
        append(&log, "backlog", 0, 100).await;
        let sizes = Arc::new(Sizes::default());
        let mut runner = Runner::new(log.pool().clone(), sizes.clone());
        runner.batch_size = 4;
        runner.catch_up_batch_size = 30;
        assert_eq!(runner.catch_up().await.unwrap(), 100);
        assert_eq!(
            *sizes.0.lock().unwrap(),
            vec![4, 8, 16, 30, 30, 12],
            "doubling from the live size up to the catch-up size"
        );

        append(&log, "live", 0, 3).await;
        assert_eq!(runner.catch_up().await.unwrap(), 3);
        append(&log, "live", 3, 6).await;
        assert_eq!(runner.catch_up().await.unwrap(), 6);
        assert_eq!(
            sizes.0.lock().unwrap()[6..],
            [3, 4, 2],
            "caught up, batches start small again"
        );
    }
}
