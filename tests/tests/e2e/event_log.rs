//! Conformance suite for the event log: the same assertions on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, Utc};
use complaints_domain::*;
use complaints_eventlog::{EventLogError, Pool};
use complaints_gateway::{ApiError, Cases, CommandContext};
use complaints_tests::{on_both_backends, Backend, TestDatabase};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn context(actor: &str, command_id: Option<&str>) -> CommandContext {
    CommandContext {
        actor: actor.into(),
        role: "caseworker".into(),
        organisation_id: "RAL".into(),
        command_id: command_id.map(str::to_string),
        fingerprint: format!("fp-{}", command_id.unwrap_or("none")),
        correlation_id: "corr-1".into(),
        causation_id: None,
        issued_at: Utc::now(),
        issued_on: d("2026-11-21"),
    }
}

fn receive() -> ComplaintAction {
    ComplaintAction::Receive(
        serde_json::from_value(complaints_tests::minimal_complaint("RAL", "2026-04-02")).unwrap(),
    )
}

fn learning(summary: &str) -> ComplaintAction {
    ComplaintAction::RecordLearning(RecordLearning {
        recorded_on: d("2026-05-01"),
        kind: LearningKind::Lesson,
        summary: summary.into(),
        action_due_on: None,
    })
}

async fn cases(backend: Backend) -> Option<(TestDatabase, Arc<Cases>)> {
    let db = TestDatabase::create(backend).await?;
    let cases = Arc::new(Cases::new(
        db.event_log().await,
        ComplaintServices::standard(),
    ));
    Some((db, cases))
}

async fn raw_execute(pool: &Pool, sql: &str) -> Result<u64, String> {
    match pool {
        Pool::Postgres(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        Pool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
    }
    .map_err(|e| e.to_string())
}

on_both_backends! {
    async fn appends_and_reads_a_stream_in_order(backend: Backend) {
        let Some((_db, cases)) = cases(backend).await else { return };
        let id = uuid::Uuid::new_v4().to_string();
        cases.execute(&id, receive(), &context("a", None), None).await.unwrap();
        cases.execute(&id, learning("first"), &context("a", None), None).await.unwrap();
        let done = cases.execute(&id, learning("second"), &context("a", None), Some(2)).await.unwrap();
        assert_eq!(done.state.version, 3);

        let events = cases.log().load(&id).await.unwrap();
        let sequences: Vec<usize> = events.iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, vec![1, 2, 3]);
        assert_eq!(events[0].payload.name(), "ComplaintReceived");
        assert_eq!(events[1].metadata.get("actor").map(String::as_str), Some("a"));
        assert_eq!(events[1].metadata.get("correlation_id").map(String::as_str), Some("corr-1"));
        let reread = cases.get(&id).await.unwrap().unwrap();
        assert_eq!(reread.version, 3);
        assert_eq!(reread.case.learning.len(), 2);
        assert!(cases.get("no-such-complaint").await.unwrap().is_none());
    }

    async fn a_stale_expected_version_writes_nothing(backend: Backend) {
        let Some((_db, cases)) = cases(backend).await else { return };
        let id = uuid::Uuid::new_v4().to_string();
        cases.execute(&id, receive(), &context("a", None), None).await.unwrap();
        let err = cases.execute(&id, learning("x"), &context("a", None), Some(0)).await.unwrap_err();
        assert!(matches!(err, ApiError::PreconditionFailed { current: 1 }), "{err:?}");

        // Two writers that both loaded version 1: the second append conflicts.
        let case = cases.get(&id).await.unwrap().unwrap().case;
        let event = ComplaintEvent::LearningRecorded {
            recorded_on: d("2026-05-01"),
            kind: LearningKind::Lesson,
            summary: "x".into(),
            action_due_on: None,
        };
        cases.log().append(&id, 1, case.clone(), vec![event.clone()], HashMap::new()).await.unwrap();
        let err = cases.log().append(&id, 1, case, vec![event], HashMap::new()).await.unwrap_err();
        assert!(matches!(err, EventLogError::Conflict), "{err:?}");
        assert_eq!(cases.log().load(&id).await.unwrap().len(), 2);
    }

    async fn concurrent_writers_on_one_complaint_lose_no_update(backend: Backend) {
        let Some((_db, cases)) = cases(backend).await else { return };
        let id = uuid::Uuid::new_v4().to_string();
        cases.execute(&id, receive(), &context("setup", None), None).await.unwrap();
        const WRITERS: usize = 16;
        const EACH: usize = 5;
        let mut tasks = Vec::new();
        for writer in 0..WRITERS {
            let cases = cases.clone();
            let id = id.clone();
            tasks.push(tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut conflicts = 0;
                for n in 0..EACH {
                    let summary = format!("writer {writer} note {n}");
                    loop {
                        match cases.execute(&id, learning(&summary), &context("w", None), None).await {
                            Ok(done) => {
                                assert!(done.applied);
                                acknowledged.push(summary);
                                break;
                            }
                            Err(ApiError::Conflict) => conflicts += 1,
                            Err(other) => panic!("writer {writer}: {other:?}"),
                        }
                    }
                }
                (acknowledged, conflicts)
            }));
        }
        let mut acknowledged = BTreeSet::new();
        let mut conflicts = 0;
        for task in tasks {
            let (done, c) = task.await.unwrap();
            conflicts += c;
            acknowledged.extend(done);
        }
        let events = cases.log().load(&id).await.unwrap();
        let sequences: Vec<usize> = events.iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, (1..=1 + WRITERS * EACH).collect::<Vec<_>>(), "gap or duplicate sequence");
        let stored: BTreeSet<String> = events
            .iter()
            .filter_map(|e| match &e.payload {
                ComplaintEvent::LearningRecorded { summary, .. } => Some(summary.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(stored.len(), WRITERS * EACH, "an acknowledged write is missing or doubled");
        assert_eq!(stored, acknowledged);
        eprintln!("{backend:?}: {conflicts} conflicts retried");
    }

    async fn the_database_refuses_update_and_delete_of_events(backend: Backend) {
        let Some((db, cases)) = cases(backend).await else { return };
        let id = uuid::Uuid::new_v4().to_string();
        cases.execute(&id, receive(), &context("a", None), None).await.unwrap();
        let pool = db.raw_pool().await;
        let table = match backend { Backend::Sqlite => "event_log", Backend::Postgres => "events" };
        for sql in [
            format!("UPDATE {table} SET event_type = 'Forged'"),
            format!("DELETE FROM {table}"),
        ] {
            let err = raw_execute(&pool, &sql).await.unwrap_err();
            assert!(err.contains("append-only"), "{sql}: {err}");
        }
        if backend == Backend::Postgres {
            let err = raw_execute(&pool, "TRUNCATE events").await.unwrap_err();
            assert!(err.contains("append-only"), "{err}");
        }
        let events = cases.log().load(&id).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].payload.name(), "ComplaintReceived");
    }

    async fn every_event_gets_a_global_position_and_recording_time(backend: Backend) {
        let Some((db, cases)) = cases(backend).await else { return };
        for _ in 0..3 {
            let id = uuid::Uuid::new_v4().to_string();
            cases.execute(&id, receive(), &context("a", None), None).await.unwrap();
            cases.execute(&id, learning("x"), &context("a", None), None).await.unwrap();
        }
        let positions: Vec<i64> = match db.raw_pool().await {
            Pool::Postgres(p) => {
                let missing_xid: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM events WHERE transaction_id IS NULL OR recorded_at IS NULL",
                )
                .fetch_one(&p)
                .await
                .unwrap();
                assert_eq!(missing_xid, 0);
                sqlx::query_scalar("SELECT global_position FROM events ORDER BY global_position")
                    .fetch_all(&p)
                    .await
                    .unwrap()
            }
            Pool::Sqlite(p) => {
                let missing: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE recorded_at IS NULL")
                    .fetch_one(&p)
                    .await
                    .unwrap();
                assert_eq!(missing, 0);
                sqlx::query_scalar("SELECT global_position FROM events ORDER BY global_position")
                    .fetch_all(&p)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(positions.len(), 6);
        let distinct: BTreeSet<i64> = positions.iter().copied().collect();
        assert_eq!(distinct.len(), 6, "positions must be unique");
        if backend == Backend::Sqlite {
            // Single writer: positions are dense and in commit order.
            assert_eq!(positions, (1..=6).collect::<Vec<_>>());
        }
    }

    async fn a_repeated_command_id_writes_nothing_and_answers_the_same(backend: Backend) {
        let Some((_db, cases)) = cases(backend).await else { return };
        let id = uuid::Uuid::new_v4().to_string();
        cases.execute(&id, receive(), &context("a", None), None).await.unwrap();
        let first = cases.execute(&id, learning("once"), &context("a", Some("key-1")), None).await.unwrap();
        for _ in 0..10 {
            let again = cases.execute(&id, learning("once"), &context("a", Some("key-1")), None).await.unwrap();
            assert!(!again.applied);
            assert_eq!(again.state, first.state);
        }
        let mut reused = context("a", Some("key-1"));
        reused.fingerprint = "another body".into();
        let err = cases.execute(&id, learning("different"), &reused, None).await.unwrap_err();
        assert!(matches!(err, ApiError::IdempotencyKeyReused), "{err:?}");
        assert_eq!(cases.log().load(&id).await.unwrap().len(), 2);
    }

    async fn migrating_twice_is_harmless(backend: Backend) {
        let Some(db) = TestDatabase::create(backend).await else { return };
        let log = db.event_log().await;
        log.migrate().await.unwrap();
        log.ping().await.unwrap();
    }
}
