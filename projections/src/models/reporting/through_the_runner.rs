//! The consumer and the queries together, on SQLite and on PostgreSQL: R-AR-3's worked
//! example appended to a real event log, caught up, repeated, rebuilt and asked for, so the
//! rows the consumer writes are the rows the queries read.

#![allow(clippy::unwrap_used)]

use super::facts::{COMPLAINTS, LEARNING, REFERRALS};
use super::fixtures::{d, received_event, response_event};
use super::{
    annual_report_for, financial_year, learning_page, learning_report_for, summarise_learning,
    written_complaints_for, LearningFact, OmbudsmanCounts, OutcomeCounts, Reporting,
};
use crate::ProjectionError;
use complaints_domain::{
    Channel, ClosureReason, Complaint, ComplaintEvent, ComplaintServices, LearningKind, Ombudsman,
    Outcome,
};
use complaints_eventlog::{
    ensure, on_pool, read_after, rebuild, Checkpoint, Consumer, EventLog, Generation, Pool, Runner,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqlitePoolOptions;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

/// Appends `events` after those `id` already has, through the log as the gateway does.
async fn append(log: &EventLog, id: &str, events: Vec<ComplaintEvent>) {
    let version = log.load(id).await.unwrap().len();
    log.append(id, version, Complaint::default(), events, HashMap::new())
        .await
        .unwrap();
}

async fn count(pool: &Pool, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    on_pool!(pool, |p| sqlx::query_scalar::<_, i64>(&sql)
        .fetch_one(p)
        .await
        .unwrap())
}

/// Catches up until `expected` events are applied: on a shared PostgreSQL server a
/// transaction held open elsewhere holds newer events back for a moment (commit-safe order).
async fn catch_up(runner: &Runner, expected: usize) {
    let mut applied = 0;
    for _ in 0..100 {
        applied += runner.catch_up().await.unwrap();
        if applied >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(applied, expected);
}

/// R-AR-3's worked example, as events, through the runner on `log`'s database.
async fn worked_example(log: &EventLog) {
    let pool = log.pool().clone();
    append(
        log,
        "c1",
        vec![
            received_event("2025-03-31", Channel::Email),
            response_event("2025-05-02", 1, Outcome::Upheld),
        ],
    )
    .await;
    append(
        log,
        "c2",
        vec![
            received_event("2025-04-01", Channel::Letter),
            ComplaintEvent::ComplaintAcknowledged {
                acknowledged_on: d("2025-04-02"),
                late: false,
                discussion_offered: true,
            },
            response_event("2025-06-20", 1, Outcome::NotUpheld),
            ComplaintEvent::ComplaintClosed {
                closed_on: d("2025-06-21"),
                reason: ClosureReason::Resolved,
                exclusion_category: None,
                transferred_to: None,
                resolved_on: None,
            },
            ComplaintEvent::LearningRecorded {
                recorded_on: d("2025-07-01"),
                kind: LearningKind::Lesson,
                summary: "Say why a referral was declined".into(),
                action_due_on: None,
            },
        ],
    )
    .await;
    let reporting = Arc::new(Reporting::new(ComplaintServices::standard()));
    ensure(&pool, reporting.as_ref()).await.unwrap();
    let runner = Runner::new(pool.clone(), reporting.clone());
    catch_up(&runner, 7).await;

    // The referral comes in a later batch, after closure (R-OMB-1).
    append(
        log,
        "c2",
        vec![ComplaintEvent::ReferredToOmbudsman {
            ombudsman: Ombudsman::Phso,
            informed_on: d("2026-04-03"),
            ombudsman_reference: None,
        }],
    )
    .await;
    // R-AR-5: forwarded unanswered in 2024-25; the PHSO referral of 2025-26 is the receiving
    // body's, and only the referral's year reads the complaint's row.
    append(
        log,
        "c3",
        vec![
            received_event("2024-11-01", Channel::Letter),
            ComplaintEvent::ComplaintClosed {
                closed_on: d("2025-01-10"),
                reason: ClosureReason::Transferred,
                exclusion_category: None,
                transferred_to: Some("RXX".into()),
                resolved_on: None,
            },
            ComplaintEvent::ReferredToOmbudsman {
                ombudsman: Ombudsman::Phso,
                informed_on: d("2025-05-01"),
                ombudsman_reference: None,
            },
        ],
    )
    .await;
    catch_up(&runner, 4).await;

    let y2024 = annual_report_for(&pool, "RAL", 2024).await.unwrap();
    assert_eq!((y2024.received, y2024.transferred_out), (1, 1));
    let y2025 = annual_report_for(&pool, "RAL", 2025).await.unwrap();
    assert_eq!(y2025.received, 1);
    assert_eq!(y2025.well_founded, 1);
    assert_eq!(
        y2025.by_outcome,
        OutcomeCounts {
            upheld: 1,
            partially_upheld: 0,
            not_upheld: 1
        }
    );
    assert_eq!(y2025.referred_to_ombudsman.phso, 0, "c3 is not this body's");
    assert_eq!(
        (
            y2025.acknowledged_within_3_working_days.met,
            y2025.acknowledged_within_3_working_days.total
        ),
        (1, 1)
    );
    // R-AR-4: neither complaint had a period agreed or notified, so neither is measured
    // against one; both are measured against the internal target.
    assert_eq!(y2025.responded_within_agreed_period.total, 0);
    assert_eq!(y2025.responded_within_internal_target.total, 2);
    assert_eq!(
        y2025.learning.lessons.recent[0].summary,
        "Say why a referral was declined"
    );
    assert_eq!(y2025.by_subject_area["waiting_times"], 1);
    let y2026 = annual_report_for(&pool, "RAL", 2026).await.unwrap();
    assert_eq!(
        y2026.referred_to_ombudsman,
        OmbudsmanCounts { phso: 1, lgsco: 0 }
    );
    assert_eq!(y2026.received, 0);
    assert_eq!(
        annual_report_for(&pool, "RXX", 2025)
            .await
            .unwrap()
            .received,
        0
    );

    let (from, to) = financial_year(2025).unwrap();
    let ko41 = written_complaints_for(&pool, "RAL", from, to)
        .await
        .unwrap();
    assert_eq!(ko41.collections.len(), 1);
    assert_eq!(ko41.code_list_version, "KO41-2022-23");
    let a = &ko41.collections[0];
    assert_eq!(
        (
            a.brought_forward,
            a.new,
            a.resolved_upheld,
            a.resolved_not_upheld,
            a.carried_forward
        ),
        (1, 1, 1, 1, 0)
    );
    assert_eq!(a.by_service_area["outpatient"], 1);
    let early = written_complaints_for(&pool, "RAL", d("2025-03-01"), d("2025-03-31"))
        .await
        .unwrap();
    assert_eq!(
        (
            early.collections[0].new,
            early.collections[0].carried_forward
        ),
        (1, 1)
    );
    let later = written_complaints_for(&pool, "RAL", d("2026-04-01"), d("2027-03-31"))
        .await
        .unwrap();
    assert!(
        later.collections.is_empty(),
        "both answered before the period"
    );
    assert!(matches!(
        written_complaints_for(&pool, "RAL", to, from).await,
        Err(ProjectionError::InvalidQuery(_))
    ));
    assert!(matches!(
        annual_report_for(&pool, "RAL", 1066).await,
        Err(ProjectionError::InvalidQuery(_))
    ));

    // A repeated batch changes nothing.
    let mut tx = pool.begin().await.unwrap();
    let all = read_after(&mut tx, Checkpoint::default(), 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 11);
    reporting.apply(&mut tx, Generation(1), &all).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count(&pool, REFERRALS).await, 2);
    assert_eq!(count(&pool, LEARNING).await, 1);
    assert_eq!(count(&pool, COMPLAINTS).await, 3);
    assert_eq!(annual_report_for(&pool, "RAL", 2025).await.unwrap(), y2025);

    // A rebuild from position zero answers the same.
    assert_eq!(
        rebuild(&pool, reporting.as_ref(), &|_, _| {})
            .await
            .unwrap(),
        11
    );
    assert_eq!(annual_report_for(&pool, "RAL", 2025).await.unwrap(), y2025);
    assert_eq!(annual_report_for(&pool, "RAL", 2026).await.unwrap(), y2026);
    assert_eq!(
        written_complaints_for(&pool, "RAL", from, to)
            .await
            .unwrap(),
        ko41
    );

    more_learning_than_the_report_names(log, &runner).await;
}

/// A year with more learning than the report names: the database's counts and latest items
/// equal the pure summary, and a walk of the full list by cursor meets every item once.
async fn more_learning_than_the_report_names(log: &EventLog, runner: &Runner) {
    let mut events = vec![received_event("2025-04-10", Channel::Letter)];
    let mut facts = vec![LearningFact {
        complaint_id: "c2".into(),
        sequence: 5,
        organisation_id: "RAL".into(),
        recorded_on: d("2025-07-01"),
        kind: LearningKind::Lesson,
        summary: "Say why a referral was declined".into(),
        action_due_on: None,
    }];
    for n in 0..23_i64 {
        // Several a day, so the keyset's later columns decide the order too.
        let kind = if n % 5 == 0 {
            LearningKind::Action
        } else {
            LearningKind::Lesson
        };
        let recorded_on = d(&format!("2025-08-{:02}", 1 + n / 3));
        let action_due_on = (kind == LearningKind::Action).then(|| d("2025-12-01"));
        events.push(ComplaintEvent::LearningRecorded {
            recorded_on,
            kind,
            summary: format!("item {n}"),
            action_due_on,
        });
        facts.push(LearningFact {
            complaint_id: "c9".into(),
            sequence: n + 2,
            organisation_id: "RAL".into(),
            recorded_on,
            kind,
            summary: format!("item {n}"),
            action_due_on,
        });
    }
    append(log, "c9", events).await;
    catch_up(runner, 24).await;
    let pool = log.pool();
    let (from, to) = financial_year(2025).unwrap();
    let counted = learning_report_for(pool, "RAL", 2025).await.unwrap();
    assert_eq!(counted, summarise_learning("RAL", 2025, from, to, &facts));
    assert_eq!(
        (counted.total, counted.lessons.total, counted.actions.total),
        (24, 19, 5)
    );
    assert_eq!(counted.lessons.recent.len(), 10);
    assert_eq!(
        annual_report_for(pool, "RAL", 2025).await.unwrap().learning,
        counted
    );

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = learning_page(pool, "RAL", 2025, None, after.as_ref(), 4)
            .await
            .unwrap();
        assert!(page.items.len() <= 4);
        seen.extend(page.items);
        match page.next_cursor {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let summaries: Vec<&str> = seen.iter().map(|i| i.summary.as_str()).collect();
    assert_eq!(summaries.len(), 24, "{summaries:?}");
    assert_eq!(summaries[0], "Say why a referral was declined");
    let mut unique = summaries.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 24, "each once");
    let actions = learning_page(pool, "RAL", 2025, Some(LearningKind::Action), None, 1000)
        .await
        .unwrap();
    assert_eq!((actions.items.len(), actions.next_cursor), (5, None));
    assert!(matches!(
        learning_page(pool, "RAL", 2025, None, None, 1001).await,
        Err(ProjectionError::InvalidQuery(_))
    ));
}

#[tokio::test]
async fn the_worked_example_reports_the_same_through_the_runner_on_sqlite() {
    let sqlite = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let log = EventLog::with_pool(Pool::Sqlite(sqlite));
    log.migrate().await.unwrap();
    worked_example(&log).await;
}

/// Runs when `DATABASE_URL` is set, in a schema of its own; the end-to-end tests
/// cover PostgreSQL in CI.
#[tokio::test]
async fn the_worked_example_reports_the_same_through_the_runner_on_postgres() {
    let Some(url) = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but DATABASE_URL is not: PostgreSQL tests must run in CI"
        );
        eprintln!("DATABASE_URL not set: skipping PostgreSQL test");
        return;
    };
    // Named as the test kit names schemas (`t_<unix time>_…`), so its stale-schema sweep,
    // run by tests in parallel, leaves this one alone.
    let schema = format!(
        "t_{}_reporting_{}",
        chrono::Utc::now().timestamp(),
        std::process::id()
    );
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let options = PgConnectOptions::from_str(&url)
        .unwrap()
        .options([("search_path", schema.as_str())]);
    let pg = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .unwrap();
    let log = EventLog::with_pool(Pool::Postgres(pg.clone()));
    log.migrate().await.unwrap();
    worked_example(&log).await;
    pg.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}
