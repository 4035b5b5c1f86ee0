//! The consumer runner against real databases: exactly once under concurrent writers, the
//! in-flight-transaction regression, crash and rebuild equality.
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use chrono::NaiveDate;
use complaints_domain::*;
use complaints_eventlog::{
    on_pool, on_tx, Consumer, EventLog, EventLogError, Generation, Pool, Runner, StoredEvent,
    TableDef, Tx,
};
use complaints_gateway::{Cases, CommandContext};
use complaints_projections::models::case_views::CaseViews;
use complaints_tests::{minimal_complaint, on_both_backends, Backend, TestDatabase};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Records every event it is given in a table whose key refuses a second delivery, and
/// checks per-complaint order as it goes.
#[derive(Default)]
struct Ledger {
    last_sequence: Mutex<HashMap<String, i64>>,
    out_of_order: AtomicBool,
    /// Panic inside this batch number (1-based), after applying it, to simulate a crash.
    crash_on_batch: Option<usize>,
    batches: AtomicUsize,
}

#[async_trait]
impl Consumer for Ledger {
    fn name(&self) -> &'static str {
        "test_ledger"
    }

    fn tables(&self) -> Vec<TableDef> {
        vec![TableDef {
            base: "t_ledger",
            columns: |_| {
                "complaint_id TEXT NOT NULL, sequence BIGINT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (complaint_id, sequence)".into()
            },
            indexes: &[],
        }]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        generation: Generation,
        events: &[StoredEvent],
    ) -> Result<(), EventLogError> {
        let sql = format!(
            "INSERT INTO {} (complaint_id, sequence, position) VALUES ($1, $2, $3)",
            generation.table("t_ledger")
        );
        for e in events {
            on_tx!(tx, |c| sqlx::query(&sql)
                .bind(&e.complaint_id)
                .bind(e.sequence)
                .bind(e.checkpoint.position)
                .execute(c)
                .await?
                .rows_affected());
        }
        let batch = self.batches.fetch_add(1, Ordering::SeqCst) + 1;
        if self.crash_on_batch == Some(batch) {
            panic!("simulated crash in the middle of batch {batch}");
        }
        // Order is checked only for batches that will commit.
        let mut last = self.last_sequence.lock().unwrap();
        for e in events {
            let previous = last.insert(e.complaint_id.clone(), e.sequence).unwrap_or(0);
            if e.sequence != previous + 1 {
                self.out_of_order.store(true, Ordering::SeqCst);
            }
        }
        Ok(())
    }
}

async fn count(pool: &Pool, sql: &str) -> i64 {
    on_pool!(pool, |p| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(p)
        .await
        .unwrap())
}

fn context() -> CommandContext {
    CommandContext {
        actor: "writer".into(),
        role: "caseworker".into(),
        organisation_id: "RAL".into(),
        command_id: None,
        fingerprint: "fp".into(),
        correlation_id: "c".into(),
        causation_id: None,
        issued_at: chrono::Utc::now(),
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
    }
}

fn receive() -> ComplaintAction {
    ComplaintAction::Receive(
        serde_json::from_value(minimal_complaint("RAL", "2026-04-02")).unwrap(),
    )
}

fn lesson(n: usize) -> ComplaintEvent {
    ComplaintEvent::LearningRecorded {
        recorded_on: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
        kind: LearningKind::Lesson,
        summary: format!("lesson {n}"),
        action_due_on: None,
    }
}

on_both_backends! {
    async fn every_event_from_concurrent_writers_is_applied_exactly_once_in_order(backend: Backend) {
        let Some(db) = TestDatabase::create(backend).await else { return };
        let cases = Arc::new(Cases::new(db.event_log().await, ComplaintServices::standard()));
        let ledger = Arc::new(Ledger::default());
        let runner = Runner::new(cases.log().pool().clone(), ledger.clone());
        let stop = CancellationToken::new();
        let consuming = tokio::spawn(runner.run(stop.clone()));

        const WRITERS: usize = 8;
        const COMMITS: usize = 250;
        const PER_COMMIT: usize = 10;
        let started = Instant::now();
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let cases = cases.clone();
            writers.push(tokio::spawn(async move {
                let mut versions = Vec::new();
                for _ in 0..5 {
                    let id = uuid::Uuid::new_v4().to_string();
                    cases.execute(&id, receive(), &context(), None).await.unwrap();
                    versions.push((id, 1usize));
                }
                for n in 0..COMMITS {
                    let (id, version) = &mut versions[n % 5];
                    let events = (0..PER_COMMIT).map(|k| lesson(w * 100_000 + n * PER_COMMIT + k)).collect();
                    cases.log().append(id, *version, Complaint::default(), events, HashMap::new()).await.unwrap();
                    *version += PER_COMMIT;
                }
            }));
        }
        for w in writers {
            w.await.unwrap();
        }
        let written = count(cases.log().pool(), "SELECT count(*) FROM events").await;
        assert_eq!(written as usize, WRITERS * (5 + COMMITS * PER_COMMIT));
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let seen = count(cases.log().pool(), "SELECT count(*) FROM t_ledger").await;
            if seen == written || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stop.cancel();
        consuming.await.unwrap();
        eprintln!("{backend:?}: {written} events written and consumed in {:?}", started.elapsed());

        let pool = cases.log().pool();
        assert_eq!(count(pool, "SELECT count(*) FROM t_ledger").await, written, "every event applied");
        let missing = count(pool, "SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM t_ledger l WHERE l.complaint_id = e.aggregate_id AND l.sequence = e.sequence AND l.position = e.global_position)").await;
        assert_eq!(missing, 0, "an event was skipped");
        assert!(!ledger.out_of_order.load(Ordering::SeqCst), "a complaint's events were applied out of order");
    }

    async fn a_crash_mid_batch_then_restart_equals_a_fresh_rebuild(backend: Backend) {
        let Some(db) = TestDatabase::create(backend).await else { return };
        let cases = Arc::new(Cases::new(db.event_log().await, ComplaintServices::standard()));
        for i in 0..30 {
            let id = uuid::Uuid::new_v4().to_string();
            cases.execute(&id, receive(), &context(), None).await.unwrap();
            if i % 2 == 0 {
                let ack = ComplaintAction::Acknowledge(AcknowledgeComplaint { acknowledged_on: NaiveDate::from_ymd_opt(2026, 4, 10).unwrap(), discussion_offered: true });
                cases.execute(&id, ack, &context(), None).await.unwrap();
            }
            if i % 3 == 0 {
                let close = ComplaintAction::Close(CloseComplaint { closed_on: NaiveDate::from_ymd_opt(2026, 4, 20).unwrap(), reason: ClosureReason::Withdrawn, exclusion_category: None, transferred_to: None, receiver_received_on: None, complainant_consented: None });
                cases.execute(&id, close, &context(), None).await.unwrap();
            }
        }
        let pool = cases.log().pool().clone();

        // A consumer that dies inside its third batch: its transaction never commits.
        let crashing = Arc::new(CrashAfter { inner: CaseViews::new(ComplaintServices::standard()), batches: AtomicUsize::new(0), crash_on: 3 });
        let mut runner = Runner::new(pool.clone(), crashing);
        runner.batch_size = 7;
        let died = tokio::spawn(async move { runner.catch_up().await }).await;
        assert!(died.is_err(), "the runner should have crashed");
        let partial = count(&pool, "SELECT count(*) FROM rm_case_state").await;
        assert!(partial > 0 && partial < 30, "two batches committed before the crash, got {partial}");

        let mut restarted = Runner::new(pool.clone(), Arc::new(CaseViews::new(ComplaintServices::standard())));
        restarted.batch_size = 7;
        restarted.catch_up().await.unwrap();
        let live = snapshot(&pool).await;

        let rebuilt = complaints_eventlog::rebuild(&pool, &CaseViews::new(ComplaintServices::standard()), &|_, _| {}).await.unwrap();
        assert_eq!(rebuilt as i64, count(&pool, "SELECT count(*) FROM events").await);
        let fresh = snapshot(&pool).await;
        assert_eq!(live.len(), 3);
        for (table, rows) in &live {
            assert!(!rows.is_empty(), "{table} is empty");
            assert_eq!(rows, &fresh[table], "{table} differs from a fresh rebuild");
        }
        // The live consumer carries on from the swapped generation.
        restarted.catch_up().await.unwrap();
        assert_eq!(snapshot(&pool).await, fresh);
    }
}

struct CrashAfter {
    inner: CaseViews,
    batches: AtomicUsize,
    crash_on: usize,
}

#[async_trait]
impl Consumer for CrashAfter {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn tables(&self) -> Vec<TableDef> {
        self.inner.tables()
    }
    async fn apply(
        &self,
        tx: &mut Tx,
        generation: Generation,
        events: &[StoredEvent],
    ) -> Result<(), EventLogError> {
        self.inner.apply(tx, generation, events).await?;
        if self.batches.fetch_add(1, Ordering::SeqCst) + 1 == self.crash_on {
            panic!("killed mid-batch");
        }
        Ok(())
    }
}

/// Every row of the case views, as text, sorted: comparable across generations.
async fn snapshot(pool: &Pool) -> HashMap<&'static str, Vec<String>> {
    let mut out = HashMap::new();
    for (table, key) in [
        ("rm_case_state", "complaint_id"),
        ("rm_case_list", "complaint_id"),
        ("rm_deadlines", "complaint_id, kind"),
    ] {
        let sql = match pool {
            Pool::Postgres(_) => {
                format!("SELECT row_to_json(t)::text FROM {table} t ORDER BY {key}")
            }
            Pool::Sqlite(_) => format!("SELECT json_array(t.*) FROM {table} t ORDER BY {key}"),
        };
        let rows: Vec<String> = match pool {
            Pool::Postgres(p) => sqlx::query_scalar(&sql).fetch_all(p).await.unwrap(),
            Pool::Sqlite(p) => {
                // SQLite has no row-to-JSON: concatenate every column of the view instead.
                let columns: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                        .fetch_all(p)
                        .await
                        .unwrap();
                let expr = columns
                    .iter()
                    .map(|c| format!("coalesce(quote({c}), 'NULL')"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                sqlx::query_scalar(&format!("SELECT {expr} FROM {table} ORDER BY {key}"))
                    .fetch_all(p)
                    .await
                    .unwrap()
            }
        };
        out.insert(table, rows);
    }
    out
}

/// The regression every mature store learnt: an event in a transaction still open must hold back
/// the consumer even when a later transaction commits first; once it commits it is
/// delivered, exactly once.
#[tokio::test]
async fn a_consumer_never_passes_an_open_transaction_and_delivers_it_once_committed() {
    let Some(db) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let log: EventLog = db.event_log().await;
    let Pool::Postgres(pg) = log.pool().clone() else {
        unreachable!()
    };
    let ledger = Arc::new(Ledger::default());
    let runner = Runner::new(log.pool().clone(), ledger.clone());
    complaints_eventlog::ensure(log.pool(), ledger.as_ref())
        .await
        .unwrap();

    // Transaction A takes its position first and stays open.
    let mut a = pg.begin().await.unwrap();
    let payload = serde_json::to_value(lesson(1)).unwrap();
    sqlx::query("INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) VALUES ('Complaint', 'A', 1, 'LearningRecorded', '1.0', $1, '{}')")
        .bind(&payload)
        .execute(&mut *a)
        .await
        .unwrap();
    // Transaction B commits a later event.
    log.append(
        "B",
        0,
        Complaint::default(),
        vec![lesson(2)],
        HashMap::new(),
    )
    .await
    .unwrap();
    let positions: Vec<(String, i64)> =
        sqlx::query_as("SELECT aggregate_id, global_position FROM events ORDER BY global_position")
            .fetch_all(&pg)
            .await
            .unwrap();
    assert_eq!(positions.len(), 1, "only B is visible: {positions:?}");

    assert_eq!(
        runner.step().await.unwrap(),
        0,
        "the consumer must not pass A while it is open"
    );
    assert_eq!(count(log.pool(), "SELECT count(*) FROM t_ledger").await, 0);

    a.commit().await.unwrap();
    // Other tests' transactions on the same server may hold back xmin for a moment.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut applied = runner.catch_up().await.unwrap();
    while applied < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        applied += runner.catch_up().await.unwrap();
    }
    assert_eq!(applied, 2);
    let delivered: Vec<String> =
        sqlx::query_scalar("SELECT complaint_id FROM t_ledger ORDER BY position")
            .fetch_all(&pg)
            .await
            .unwrap();
    assert_eq!(delivered, vec!["A".to_string(), "B".to_string()]);
    assert_eq!(
        runner.catch_up().await.unwrap(),
        0,
        "nothing is delivered twice"
    );
    let ids: BTreeSet<String> = delivered.into_iter().collect();
    assert_eq!(ids.len(), 2);
}

/// Transaction ids are ordered as numbers: a reader that sorted them as text would deliver
/// 10 before 9 and then skip 9 forever. Old transaction ids are inserted explicitly.
#[tokio::test]
async fn transaction_ids_are_ordered_as_numbers_across_digit_boundaries() {
    let Some(db) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let log: EventLog = db.event_log().await;
    let Pool::Postgres(pg) = log.pool().clone() else {
        unreachable!()
    };
    let payload = serde_json::to_value(lesson(1)).unwrap();
    for (complaint, xid) in [
        ("ten", "10"),
        ("nine", "9"),
        ("hundred", "100"),
        ("ninety-nine", "99"),
    ] {
        sqlx::query("INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, transaction_id) VALUES ('Complaint', $1, 1, 'LearningRecorded', '1.0', $2, '{}', $3::text::xid8)")
            .bind(complaint)
            .bind(&payload)
            .bind(xid)
            .execute(&pg)
            .await
            .unwrap();
    }
    let ledger = Arc::new(Ledger::default());
    let mut runner = Runner::new(log.pool().clone(), ledger);
    runner.batch_size = 1;
    assert_eq!(runner.catch_up().await.unwrap(), 4);
    let order: Vec<String> =
        sqlx::query_scalar("SELECT complaint_id FROM t_ledger ORDER BY position")
            .fetch_all(&pg)
            .await
            .unwrap();
    assert_eq!(order.len(), 4, "an event was skipped: {order:?}");
    let checkpoint: i64 = sqlx::query_scalar(
        "SELECT transaction_id FROM projection_checkpoints WHERE name = 'test_ledger'",
    )
    .fetch_one(&pg)
    .await
    .unwrap();
    assert_eq!(checkpoint, 100);
}

/// Waits inside its first batch, as a relay waiting on NATS does.
struct Slow;

#[async_trait]
impl Consumer for Slow {
    fn name(&self) -> &'static str {
        "test_slow"
    }
    fn tables(&self) -> Vec<TableDef> {
        Vec::new()
    }
    async fn apply(
        &self,
        _tx: &mut Tx,
        _generation: Generation,
        _events: &[StoredEvent],
    ) -> Result<(), EventLogError> {
        // Long enough that a loaded machine still lets the fast consumer finish first.
        tokio::time::sleep(Duration::from_secs(20)).await;
        Ok(())
    }
}

/// A consumer inside a long batch must not hold the others back: its transaction takes no
/// id until it writes, so it does not lower their `pg_snapshot_xmin`.
#[tokio::test]
async fn a_consumer_waiting_inside_a_batch_does_not_hold_back_the_others() {
    let Some(db) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let log: EventLog = db.event_log().await;
    log.append(
        "first",
        0,
        Complaint::default(),
        vec![lesson(1)],
        HashMap::new(),
    )
    .await
    .unwrap();
    let slow = Runner::new(log.pool().clone(), Arc::new(Slow));
    complaints_eventlog::ensure(log.pool(), &Slow)
        .await
        .unwrap();
    let waiting = tokio::spawn(async move { slow.step().await });
    tokio::time::sleep(Duration::from_millis(300)).await;

    log.append(
        "second",
        0,
        Complaint::default(),
        vec![lesson(2)],
        HashMap::new(),
    )
    .await
    .unwrap();
    let ledger = Arc::new(Ledger::default());
    let fast = Runner::new(log.pool().clone(), ledger);
    // Other tests' transactions on the same server also lower xmin for a moment: poll, but
    // finish well before the slow consumer's batch ends.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut applied = 0;
    while applied < 2 && Instant::now() < deadline {
        applied += fast.catch_up().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        applied, 2,
        "the second event must not wait for the slow consumer"
    );
    assert!(
        !waiting.is_finished(),
        "the slow consumer was meant to be still inside its batch"
    );
    assert_eq!(waiting.await.unwrap().unwrap(), 1);
}
