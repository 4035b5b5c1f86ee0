//! Requests cancelled mid-command under load must leave the pool healthy (issue 16): after
//! many commands are dropped in flight (the request future dropped at a random point, and
//! HTTP clients hanging up), every pooled PostgreSQL connection is outside any transaction
//! (no backend of the pool `idle in transaction` while all are held at once), later
//! commands succeed, and the log holds no partial write (every stream's sequences are
//! contiguous, every receipt has its classification written in the same transaction).
//!
//! The known cause of the "there is already a transaction in progress" / "there is no
//! transaction in progress" warnings is sqlx 0.8's `PgTransactionManager::begin`: it sends
//! `BEGIN` and awaits the reply before it counts the transaction, so a future dropped at
//! that await returns the connection to the pool inside a transaction that nobody will roll
//! back (launchbadge/sqlx#3875, transact-rs/sqlx#4385, fixed by #4394). postgres-es opens
//! such a transaction for every append, on the request future.
#![allow(clippy::unwrap_used)]

use complaints_domain::*;
use complaints_eventlog::Pool;
use complaints_gateway::CommandContext;
use complaints_tests::{spawn_app, Backend};
use std::time::Duration;

fn context(day: chrono::NaiveDate) -> CommandContext {
    CommandContext {
        actor: "cancellation".into(),
        role: "caseworker".into(),
        organisation_id: "RAL".into(),
        command_id: None,
        fingerprint: "cancellation".into(),
        correlation_id: uuid::Uuid::new_v4().to_string(),
        causation_id: None,
        issued_at: chrono::Utc::now(),
        issued_on: day,
    }
}

fn receive(day: chrono::NaiveDate) -> ComplaintAction {
    ComplaintAction::Receive(ReceiveComplaint {
        organisation_id: "RAL".into(),
        received_on: day,
        channel: Channel::Email,
        route: None,
        subject_areas: vec![SubjectArea::Communications],
        service_area: None,
        staff_groups: vec![],
        description: "cancelled requests".into(),
        complainant: Person {
            name: "Ann Example".into(),
            ..Person::default()
        },
        representation_basis: None,
        person_affected: None,
        consent_required: None,
        matter_occurred_on: None,
        matter_came_to_notice_on: None,
        source: None,
        out_of_time_decision: None,
        // Classified: the receipt writes two events in one transaction.
        eligibility: Some(Eligibility::ServiceUser),
        patient_age_band: None,
        complainant_status: None,
        site: None,
        kind: None,
        enquiry_type: None,
        provider_id: None,
        origin: None,
    })
}

fn regrade(day: chrono::NaiveDate) -> ComplaintAction {
    ComplaintAction::AssessRisk(AssessRisk {
        assessed_on: day,
        seriousness: "medium".into(),
        likelihood: Likelihood::Possible,
    })
}

/// A cheap deterministic spread of delays (microseconds) to cancel at.
fn delay(i: u64) -> Duration {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    Duration::from_micros(50 + x % 4000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_cancelled_mid_command_leave_the_pool_healthy_and_the_log_whole() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let cases = app.cases();
    let today = complaints_gateway::london_date(chrono::Utc::now());
    let mut ids = Vec::new();
    for _ in 0..16 {
        let id = uuid::Uuid::new_v4().to_string();
        cases
            .execute(&id, receive(today), &context(today), None)
            .await
            .unwrap();
        ids.push(id);
    }

    // The storm: commands whose futures are dropped at random points (in-process, like a
    // request future dropped by the server), new complaints cancelled the same way, and HTTP
    // clients that hang up mid-request.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut cancelled = 0u64;
    for round in 0..60u64 {
        let mut inflight = Vec::new();
        for k in 0..12u64 {
            let i = round * 12 + k;
            let cases = cases.clone();
            let id = ids[(i % ids.len() as u64) as usize].clone();
            let limit = delay(i);
            inflight.push(tokio::spawn(async move {
                let action = if k % 4 == 0 {
                    receive(today)
                } else {
                    regrade(today)
                };
                let target = if k % 4 == 0 {
                    uuid::Uuid::new_v4().to_string()
                } else {
                    id
                };
                tokio::time::timeout(limit, cases.execute(&target, action, &context(today), None))
                    .await
                    .is_err()
            }));
        }
        for k in 0..4u64 {
            let i = round * 4 + k;
            let request = http
                .post(format!("{}/v1/complaints/{}/risk-assessment", app.address, ids[(i % 16) as usize]))
                .bearer_auth(&app.token)
                .timeout(delay(i * 7 + 3))
                .json(&serde_json::json!({"assessed_on": today, "seriousness": "low", "likelihood": "rare"}));
            inflight.push(tokio::spawn(async move { request.send().await.is_err() }));
        }
        for task in inflight {
            if task.await.unwrap() {
                cancelled += 1;
            }
        }
    }
    assert!(
        cancelled > 50,
        "too few requests were cancelled ({cancelled}) to test anything"
    );
    // Let rollbacks queued by dropped transactions reach the server.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Every pooled connection is outside a transaction: hold all of them at once.
    let Pool::Postgres(pool) = cases.log().pool().clone() else {
        unreachable!()
    };
    let mut held = Vec::new();
    let mut pids: Vec<i32> = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        let Ok(Ok(mut conn)) = tokio::time::timeout(Duration::from_secs(2), pool.acquire()).await
        else {
            break;
        };
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        pids.push(pid);
        held.push(conn);
    }
    let observer = sqlx::PgPool::connect(&match &app.db.database {
        complaints_eventlog::Database::Postgres(url) => url.clone(),
        complaints_eventlog::Database::Sqlite(_) => unreachable!(),
    })
    .await
    .unwrap();
    let stuck: Vec<(i32, String)> = sqlx::query_as(
        "SELECT pid, state FROM pg_stat_activity WHERE pid = ANY($1) AND state LIKE 'idle in transaction%'",
    )
    .bind(&pids)
    .fetch_all(&observer)
    .await
    .unwrap();
    drop(held);
    // Each held connection has finished its statement: one left inside a transaction by a
    // cancelled BEGIN shows as `idle in transaction`.
    assert!(
        !pids.is_empty() && stuck.is_empty(),
        "pooled connections left inside a transaction (idle in transaction): {stuck:?}"
    );

    // Later commands succeed on every complaint.
    for id in &ids {
        cases
            .execute(id, regrade(today), &context(today), None)
            .await
            .unwrap();
    }

    // No partial writes: sequences contiguous, each receipt with its classification.
    let gaps: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT aggregate_id, count(*), max(sequence) FROM events GROUP BY aggregate_id
         HAVING count(*) <> max(sequence)",
    )
    .fetch_all(&observer)
    .await
    .unwrap();
    assert!(gaps.is_empty(), "streams with gaps: {gaps:?}");
    let halves: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT aggregate_id FROM events
           WHERE event_type IN ('ComplaintReceived', 'ComplaintClassified')
           GROUP BY aggregate_id HAVING count(*) <> 2) AS half",
    )
    .fetch_one(&observer)
    .await
    .unwrap();
    assert_eq!(halves, 0, "receipts written without their classification");
}

/// The deterministic form of the storm: one pooled connection, and an append dropped at
/// every point from its first poll to well past its commit. Any drop that left the
/// connection inside a transaction would show on the next statement the connection runs,
/// since the pool has no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_dropped_at_any_point_never_leaves_its_connection_in_a_transaction() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let complaints_eventlog::Database::Postgres(url) = &app.db.database else {
        unreachable!()
    };
    let single = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    let cases = complaints_gateway::Cases::new(
        complaints_eventlog::EventLog::with_pool(Pool::Postgres(single.clone())),
        ComplaintServices::standard(),
    );
    let observer = sqlx::PgPool::connect(url).await.unwrap();
    let today = complaints_gateway::london_date(chrono::Utc::now());
    let mut dropped = 0;
    for step in 0..300u64 {
        let id = uuid::Uuid::new_v4().to_string();
        let limit = Duration::from_micros(step * 10);
        let context = context(today);
        let append = cases.execute(&id, receive(today), &context, None);
        if tokio::time::timeout(limit, append).await.is_err() {
            dropped += 1;
        }
        // Once the append is done with it, the pool's one connection must be idle, not
        // idle inside a transaction, as the server sees it.
        let mut conn = single.acquire().await.unwrap();
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM pg_stat_activity WHERE pid = $1")
                .bind(pid)
                .fetch_one(&observer)
                .await
                .unwrap();
        drop(conn);
        assert_eq!(
            state.as_deref(),
            Some("idle"),
            "after an append dropped at {limit:?} the pooled connection was left in a transaction"
        );
    }
    assert!(
        dropped > 20,
        "too few appends were dropped ({dropped}) to test anything"
    );
    // Each dropped append finished or failed whole: a receipt never lacks its classification.
    let halves: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT aggregate_id FROM events GROUP BY aggregate_id
           HAVING count(*) <> 2) AS half",
    )
    .fetch_one(&single)
    .await
    .unwrap();
    assert_eq!(halves, 0, "receipts written without their classification");
}
