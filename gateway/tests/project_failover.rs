//! Two `complaints project` processes on one PostgreSQL database: one is active; when it is
//! killed the standby takes over within seconds, and nothing is missed or applied twice.
#![allow(clippy::unwrap_used)]

use complaints_domain::{ComplaintAction, ComplaintServices};
use complaints_eventlog::{Database, EventLog};
use complaints_gateway::{Cases, CommandContext};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

async fn database_url() -> Option<String> {
    let base = complaints_testkit::postgres_base_url().await?;
    Some(complaints_testkit::fresh_schema(&base).await)
}

fn spawn_project(url: &str, dir: &Path, name: &str) -> Child {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    Command::new(env!("CARGO_BIN_EXE_complaints"))
        .arg("project")
        .env("DATABASE_URL", url)
        .env_remove("NATS_URL")
        .env("COMPLAINTS_DATA_DIR", dir)
        .env("COMPLAINTS_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn became_active(dir: &Path, name: &str) -> bool {
    std::fs::read_to_string(dir.join(format!("{name}.log")))
        .unwrap_or_default()
        .lines()
        .any(|l| l.contains(r#""message":"active""#) && l.contains(r#""consumer":"case_views""#))
}

async fn listed(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM rm_case_list")
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

async fn wait_for(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

async fn receive(cases: &Cases, n: usize) {
    let context = CommandContext {
        actor: "test".into(),
        role: "frontline".into(),
        organisation_id: "RAL".into(),
        command_id: None,
        fingerprint: "fp".into(),
        correlation_id: "c".into(),
        causation_id: None,
        issued_at: chrono::Utc::now(),
        issued_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
    };
    for _ in 0..n {
        let body = serde_json::json!({
            "organisation_id": "RAL", "received_on": "2026-04-02", "channel": "email",
            "subject_areas": ["communications"], "description": "x", "complainant": {"name": "A"}
        });
        let action = ComplaintAction::Receive(serde_json::from_value(body).unwrap());
        cases
            .execute(&uuid::Uuid::new_v4().to_string(), action, &context, None)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_project_process_takes_over_when_the_active_one_is_killed() {
    let Some(url) = database_url().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::connect(&Database::Postgres(url.clone()))
        .await
        .unwrap();
    log.migrate().await.unwrap();
    let cases = Cases::new(log, ComplaintServices::standard());
    let pool = sqlx::PgPool::connect(&url).await.unwrap();

    let mut first = spawn_project(&url, dir.path(), "first");
    wait_for(
        "the first process to become active",
        Duration::from_secs(30),
        async || became_active(dir.path(), "first"),
    )
    .await;
    let mut second = spawn_project(&url, dir.path(), "second");
    receive(&cases, 100).await;
    wait_for(
        "100 complaints listed",
        Duration::from_secs(30),
        async || listed(&pool).await == 100,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !became_active(dir.path(), "second"),
        "only one instance may be active"
    );

    first.kill().unwrap();
    first.wait().unwrap();
    let killed = Instant::now();
    receive(&cases, 100).await;
    wait_for(
        "the standby to become active",
        Duration::from_secs(15),
        async || became_active(dir.path(), "second"),
    )
    .await;
    let takeover = killed.elapsed();
    wait_for(
        "200 complaints listed",
        Duration::from_secs(30),
        async || listed(&pool).await == 200,
    )
    .await;
    eprintln!("standby took over {takeover:?} after the kill");
    assert!(
        takeover < Duration::from_secs(10),
        "takeover took {takeover:?}"
    );

    // Nothing doubled: every complaint's stored state is at its one event.
    let doubled: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_case_state WHERE version <> 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(doubled, 0);
    let head: i64 = sqlx::query_scalar("SELECT max(global_position) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    let checkpoint: i64 =
        sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = 'case_views'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(checkpoint, head);

    second.kill().unwrap();
    second.wait().unwrap();
}
