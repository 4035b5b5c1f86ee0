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
