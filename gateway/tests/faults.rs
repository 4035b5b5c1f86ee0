//! The fault suite: the real `complaints` binary under load from concurrent frontline
//! clients, on a PostgreSQL and a nats-server of the suite's own (never the machine's shared
//! ones), while faults are injected one after another:
//!
//! - a gateway SIGKILLed mid-request and started again;
//! - two gateways and two (then more) `complaints project` processes at once, one active
//!   per consumer by advisory lock;
//! - the process holding the NATS relay's lease SIGKILLed, another `complaints project`
//!   started;
//! - PostgreSQL restarted (`pg_ctl restart -m fast`);
//! - every connection to the database terminated (`pg_terminate_backend`), twice;
//! - the nats-server SIGKILLed and started again on the same port and store;
//! - a writer transaction held open (a raw `INSERT` into `events`, then rolled back) while
//!   commands continue.
//!
//! Afterwards every command a client was answered 2xx for is in the log exactly once, the
//! case list equals a fresh rebuild, the NATS events stream holds every event exactly once
//! by `Nats-Msg-Id` and CloudEvent `id`, and `complaints verify` exits 0. The figures are
//! printed so CI logs show them (`docs/RELIABILITY.md`).
//!
//! Skips (saying why) without PostgreSQL server binaries or a nats-server; fails instead
//! under `CI`. By default the faults run in two cycles (`FAULTS_CYCLES`) with 16 clients
//! (`FAULTS_CLIENTS`); `FAULTS_SOAK_SECONDS=600` repeats them for that long instead (not in
//! CI); `FAULTS_COMPLAINTS_BIN` runs another build of the binary (a release build).
#![allow(clippy::unwrap_used)]

#[path = "faults/checks.rs"]
mod checks;
#[path = "faults/load.rs"]
mod load;
#[path = "faults/nats.rs"]
mod nats;
#[path = "faults/postgres.rs"]
mod postgres;
#[path = "faults/services.rs"]
mod services;

use services::{Kind, Service};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

/// Load between two faults.
const BETWEEN_FAULTS: Duration = Duration::from_secs(3);
/// How long the writer transaction stays open.
const HOLD: Duration = Duration::from_secs(6);
/// How long NATS stays down.
const NATS_OUTAGE: Duration = Duration::from_secs(3);
/// The NATS events stream (the default of `COMPLAINTS_NATS_EVENTS_STREAM`).
const EVENTS_STREAM: &str = "COMPLAINTS_EVENTS";

/// A port nobody listens on now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Appends one line to the figures.
macro_rules! figures {
    ($out:ident, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

/// Writes straight to the process's stderr, past the test harness's capture, so the
/// figures appear in CI logs of a passing run too (`cargo test` hides `eprintln!` there).
fn show(text: &str) {
    use std::io::Write as _;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(format!("\n{text}\n").as_bytes());
    let _ = stderr.flush();
}

/// `kill -KILL`, then reap.
pub(crate) fn sigkill(child: &mut Child) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// The PostgreSQL binaries and the nats-server, or `None` to skip (never under `CI`).
fn prerequisites() -> Option<(PathBuf, PathBuf)> {
    let in_ci = std::env::var_os("CI").is_some();
    let Some(postgres) = postgres::bin_dir() else {
        assert!(
            !in_ci,
            "CI is set but no PostgreSQL server binaries (initdb, pg_ctl) were found under \
             /usr/lib/postgresql/*/bin or on PATH: the fault suite must run in CI"
        );
        eprintln!("no PostgreSQL server binaries (initdb): skipping the fault suite");
        return None;
    };
    // Panics under CI when missing.
    let Some(nats) = complaints_testkit::nats_server_binary() else {
        eprintln!("no nats-server binary: skipping the fault suite");
        return None;
    };
    Some((postgres, nats))
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Keeps the suite's directory (logs, data) when the test fails, and says where.
struct Workdir(Option<tempfile::TempDir>);

impl Workdir {
    fn path(&self) -> &std::path::Path {
        self.0.as_ref().unwrap().path()
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(dir) = self.0.take() {
                eprintln!(
                    "fault suite: logs and data kept in {}",
                    dir.keep().display()
                );
            }
        }
    }
}

/// How often each fault was injected.
#[derive(Default)]
struct Faults(BTreeMap<&'static str, u64>);

impl Faults {
    fn count(&mut self, kind: &'static str) {
        *self.0.entry(kind).or_default() += 1;
        eprintln!("fault suite: {kind}");
    }

    fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// Which process holds `consumer`'s lease (its `application_name`), waiting for one.
async fn lease_holder(pg: &postgres::Postgres, consumer: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut db = pg.connect().await;
        let holder: Option<String> = sqlx::query_scalar(
            "SELECT a.application_name::text FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
             AND l.objid::bigint = (hashtext(current_schema() || ':' || $1)::bigint & 4294967295)",
        )
        .bind(consumer)
        .fetch_optional(&mut db)
        .await
        .unwrap();
        if let Some(holder) = holder {
            return holder;
        }
        assert!(
            Instant::now() < deadline,
            "nobody took the lease of {consumer}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The log's head and every consumer's checkpoint.
async fn positions(pg: &postgres::Postgres) -> (i64, BTreeMap<String, i64>) {
    let mut db = pg.connect().await;
    let head: i64 = sqlx::query_scalar("SELECT coalesce(max(global_position), 0) FROM events")
        .fetch_one(&mut db)
        .await
        .unwrap();
    let checkpoints: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, position FROM projection_checkpoints")
            .fetch_all(&mut db)
            .await
            .unwrap();
    (head, checkpoints.into_iter().collect())
}

/// What the held writer transaction did to the consumers.
struct Held {
    /// Events committed while it was open.
    committed_meanwhile: i64,
    /// How far `case_views` was behind the log when it was rolled back.
    lag_at_release: i64,
    /// What `/readyz` said about it.
    readyz: String,
}

/// The processes under test.
struct Fleet {
    env: services::Env,
    gateways: Vec<Service>,
    projectors: Vec<Service>,
    started_projectors: usize,
}

impl Fleet {
    fn gateway_urls(&self) -> Vec<String> {
        self.gateways
            .iter()
            .map(|g| g.base_url().unwrap())
            .collect()
    }

    async fn add_projector(&mut self) {
        self.started_projectors += 1;
        let mut projector = self.env.service(
            &format!("projector{}", self.started_projectors),
            Kind::Projector,
        );
        self.env.start(&mut projector).await;
        self.projectors.push(projector);
    }

    fn stop_all(&mut self) {
        for service in self.gateways.iter_mut().chain(self.projectors.iter_mut()) {
            services::kill(service);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_command_survives_every_fault_exactly_once() {
    let Some((postgres_bin, nats_bin)) = prerequisites() else {
        return;
    };
    let started = Instant::now();
    let workdir = Workdir(Some(
        tempfile::Builder::new()
            .prefix("faults-")
            .tempdir()
            .unwrap(),
    ));
    let soak = env_number("FAULTS_SOAK_SECONDS").map(Duration::from_secs);
    let clients = env_number("FAULTS_CLIENTS").unwrap_or(16) as usize;
    let cycles = env_number("FAULTS_CYCLES").unwrap_or(2) as usize;

    // Our own servers. PostgreSQL may run as another user (see `postgres.rs`): it must be
    // able to pass through the working directory whatever the umask.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(workdir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    }
    let pg_root = workdir.path().join("pg");
    std::fs::create_dir_all(&pg_root).unwrap();
    let mut pg = postgres::Postgres::start(postgres_bin.clone(), &pg_root);
    pg.create_database().await;
    let mut nats = nats::Nats::start(nats_bin.clone(), &workdir.path().join("nats"));
    eprintln!(
        "fault suite: PostgreSQL from {} on port {}, nats-server {} (sync_interval always: {}) on port {}",
        postgres_bin.display(),
        pg.port,
        nats::version(&nats_bin),
        nats.sync_always,
        nats.port
    );
    let env = services::Env::new(
        &workdir.path().join("data"),
        pg.port,
        postgres::DATABASE,
        nats.url(),
    );
    let migrated = env.run("migrate", &["migrate"]);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let token = env.run(
        "token",
        &[
            "token",
            "--org",
            load::ORGANISATION,
            "--role",
            "frontline,caseworker",
            "--ttl",
            "4h",
        ],
    );
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();

    // Two gateways (one also running consumers, one API only) and a projector.
    let mut fleet = Fleet {
        gateways: vec![
            env.service(
                "gateway1",
                Kind::Gateway {
                    port: free_port(),
                    consumers: true,
                },
            ),
            env.service(
                "gateway2",
                Kind::Gateway {
                    port: free_port(),
                    consumers: false,
                },
            ),
        ],
        env,
        projectors: Vec::new(),
        started_projectors: 0,
    };
    for gateway in &mut fleet.gateways {
        fleet.env.start(gateway).await;
    }
    fleet.add_projector().await;

    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let load_started = Instant::now();
    let load = load::Load::start(clients, fleet.gateway_urls(), token, &run);
    let mut faults = Faults::default();
    let mut held = Vec::new();
    let mut cycle = 0usize;
    loop {
        cycle += 1;
        tokio::time::sleep(BETWEEN_FAULTS).await;

        // A gateway dies mid-request; its clients retry on the other one.
        let victim = &mut fleet.gateways[(cycle - 1) % 2];
        services::kill(victim);
        faults.count("gateway SIGKILL and restart");
        tokio::time::sleep(Duration::from_secs(1)).await;
        fleet.env.start(victim).await;

        if cycle == 1 {
            // From here on: two gateways and two projectors at once.
            fleet.add_projector().await;
            faults.count("two gateways and two projectors at once");
        }
        tokio::time::sleep(BETWEEN_FAULTS).await;

        // The relay's process dies without a chance to checkpoint; another takes over.
        let holder = lease_holder(&pg, "nats_relay").await;
        if let Some(index) = fleet.projectors.iter().position(|p| p.name == holder) {
            let mut killed = fleet.projectors.remove(index);
            services::kill(&mut killed);
            fleet.add_projector().await;
        } else if let Some(index) = fleet.gateways.iter().position(|g| g.name == holder) {
            services::kill(&mut fleet.gateways[index]);
            fleet.add_projector().await;
            fleet.env.start(&mut fleet.gateways[index]).await;
        } else {
            panic!("the relay's lease is held by {holder}, no process of ours");
        }
        faults.count("relay kill (SIGKILL of the lease holder, another project started)");
        tokio::time::sleep(BETWEEN_FAULTS).await;

        tokio::task::block_in_place(|| pg.restart());
        faults.count("PostgreSQL restart (pg_ctl restart -m fast)");
        tokio::time::sleep(BETWEEN_FAULTS).await;

        for _ in 0..2 {
            let killed = pg.kill_connections().await;
            faults.count("connection kill (pg_terminate_backend of every session)");
            eprintln!("fault suite: {killed} sessions terminated");
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        tokio::time::sleep(BETWEEN_FAULTS).await;

        nats.kill();
        faults.count("NATS outage (nats-server SIGKILL, restarted on the same port and store)");
        tokio::time::sleep(NATS_OUTAGE).await;
        tokio::task::block_in_place(|| nats.restart());
        tokio::time::sleep(BETWEEN_FAULTS).await;

        held.push(hold_a_writer_transaction(&pg, &fleet.gateway_urls()[0]).await);
        faults.count("writer transaction held open, then rolled back");

        let done = match soak {
            Some(soak) => started.elapsed() >= soak,
            None => cycle >= cycles,
        };
        if done {
            break;
        }
    }
    tokio::time::sleep(BETWEEN_FAULTS).await;
    let record = load.finish().await;
    let load_time = load_started.elapsed();

    // Every consumer catches up with the log.
    let caught_up_by = Instant::now() + Duration::from_secs(120);
    let (head, checkpoints) = loop {
        let (head, checkpoints) = positions(&pg).await;
        if checkpoints.values().all(|p| *p == head) || Instant::now() > caught_up_by {
            break (head, checkpoints);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let behind: Vec<String> = checkpoints
        .iter()
        .filter(|(_, p)| **p != head)
        .map(|(name, p)| format!("{name} at {p} of {head}"))
        .collect();
    let processes = fleet.gateways.len() + fleet.started_projectors;
    fleet.stop_all();

    // The log.
    let mut db = pg.connect().await;
    let log = checks::log(&mut db, &record).await;

    // The read models against a fresh rebuild.
    let live_list = checks::rows(&mut db, "rm_case_list", "complaint_id").await;
    let live_deadlines = checks::rows(&mut db, "rm_deadlines", "complaint_id, kind").await;
    let rebuilt = fleet
        .env
        .run("rebuild", &["rebuild", "--projection", "case_views"]);
    assert!(
        rebuilt.status.success(),
        "complaints rebuild: {}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    let rebuilt_list = checks::rows(&mut db, "rm_case_list", "complaint_id").await;
    let rebuilt_deadlines = checks::rows(&mut db, "rm_deadlines", "complaint_id, kind").await;
    let (list_differences, mut read_model_examples) =
        checks::differences(&live_list, &rebuilt_list);
    let (deadline_differences, examples) = checks::differences(&live_deadlines, &rebuilt_deadlines);
    read_model_examples.extend(examples);
    // …and against what the clients were answered.
    let listed: BTreeMap<String, bool> = live_list
        .iter()
        .map(|row| {
            let row: serde_json::Value = serde_json::from_str(row).unwrap();
            (
                row["complaint_id"].as_str().unwrap().to_string(),
                !row["acknowledged_on"].is_null(),
            )
        })
        .collect();
    let missing_from_list = record
        .received
        .lock()
        .unwrap()
        .values()
        .filter(|id| !listed.contains_key(*id))
        .count()
        + record
            .acknowledged
            .lock()
            .unwrap()
            .iter()
            .filter(|id| listed.get(*id) != Some(&true))
            .count();

    // The stream.
    let stream = checks::stream(&nats.url(), EVENTS_STREAM, &mut db).await;

    // The chain.
    let verified = fleet.env.run("verify", &["verify"]);

    let failures = record.failures.lock().unwrap().clone();
    let retried = record.retried_because.lock().unwrap().clone();
    let acknowledged = record.acknowledged_commands();
    let lost = log.lost + stream.missing + missing_from_list;
    let duplicated = log.duplicated + stream.duplicated;
    let mut out = String::new();
    figures!(out, "\n==== fault suite figures ====");
    figures!(
        out,
        "faults injected: {} in {cycle} cycle(s), over {processes} complaints processes",
        faults.total()
    );
    for (kind, n) in &faults.0 {
        figures!(out, "  {n} x {kind}");
    }
    for h in &held {
        figures!(out,
            "  held transaction ({HOLD:?}): {} events committed meanwhile, case_views {} behind at release; {}",
            h.committed_meanwhile, h.lag_at_release, h.readyz
        );
    }
    figures!(out,
        "acknowledged commands (2xx): {acknowledged} ({} receipts, {} acknowledgements) from {clients} clients in {:.1}s",
        record.received.lock().unwrap().len(),
        record.acknowledged.lock().unwrap().len(),
        load_time.as_secs_f64()
    );
    figures!(
        out,
        "retried attempts: {} ({retried:?}); longest command {:.1}s; failures {}",
        record.retries.load(std::sync::atomic::Ordering::Relaxed),
        record.longest.lock().unwrap().as_secs_f64(),
        failures.len()
    );
    figures!(out,
        "log: {} events, {} complaints; lost {}, duplicated {}, committed unanswered {}, other events {}",
        log.events, log.complaints, log.lost, log.duplicated, log.unacknowledged, log.other_events
    );
    figures!(out,
        "read model: {} case-list rows, {} deadline rows; differences from a fresh rebuild {} + {}; acknowledged commands missing from it {missing_from_list}",
        live_list.len(),
        live_deadlines.len(),
        list_differences,
        deadline_differences
    );
    figures!(out,
        "stream: {} messages, {} distinct ids; missing {}, duplicated {}, unknown {}, Nats-Msg-Id/id mismatches {}",
        stream.messages,
        stream.distinct,
        stream.missing,
        stream.duplicated,
        stream.unknown,
        stream.id_mismatch
    );
    let verify_text = String::from_utf8_lossy(&verified.stdout);
    figures!(
        out,
        "verify: {}; {}{}; {} signed checkpoints match the log",
        verified.status,
        verify_text.lines().next().unwrap_or_default(),
        String::from_utf8_lossy(&verified.stderr)
            .lines()
            .filter(|l| l.starts_with("error"))
            .collect::<Vec<_>>()
            .join(" "),
        verify_text.matches("matches the log").count()
    );
    figures!(out, "LOST {lost}, DUPLICATED {duplicated}");
    figures!(
        out,
        "suite time {:.1}s (load {:.1}s)",
        started.elapsed().as_secs_f64(),
        load_time.as_secs_f64()
    );
    for (status, answer) in record.first_retried_answer.lock().unwrap().iter() {
        figures!(out, "  first {status} answered (retried): {answer}");
    }
    for example in log
        .examples
        .iter()
        .chain(&stream.examples)
        .chain(&read_model_examples)
        .chain(failures.iter().take(10))
    {
        figures!(out, "  finding: {example}");
    }
    figures!(out, "=============================");
    show(&out);

    assert!(failures.is_empty(), "clients failed: {failures:?}");
    assert!(behind.is_empty(), "consumers never caught up: {behind:?}");
    assert!(acknowledged > 0, "no command was acknowledged");
    assert_eq!(log.lost, 0, "acknowledged commands lost from the log");
    assert_eq!(log.duplicated, 0, "commands duplicated in the log");
    assert_eq!(
        log.unacknowledged, 0,
        "complaints in the log no client was answered for"
    );
    assert_eq!(
        list_differences + deadline_differences,
        0,
        "the case views differ from a fresh rebuild"
    );
    assert_eq!(
        missing_from_list, 0,
        "acknowledged commands missing from the case list"
    );
    assert_eq!(stream.missing, 0, "events missing from the NATS stream");
    assert_eq!(stream.duplicated, 0, "events duplicated in the NATS stream");
    assert_eq!(
        stream.unknown, 0,
        "messages in the stream that are no event"
    );
    assert_eq!(
        stream.id_mismatch, 0,
        "Nats-Msg-Id differs from the CloudEvent id"
    );
    assert!(
        verified.status.success(),
        "complaints verify failed: {}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    drop(fleet);
    drop(nats);
    drop(pg);
}

/// Opens a writer transaction on `events` (a raw insert, so it holds a transaction id every
/// consumer must wait behind), keeps it open for [`HOLD`] while commands continue, then rolls
/// it back.
async fn hold_a_writer_transaction(pg: &postgres::Postgres, gateway: &str) -> Held {
    let mut writer = pg.connect().await;
    sqlx::query("BEGIN").execute(&mut writer).await.unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('FaultSuite', $1, 1, 'HeldWriterProbe', '1', '{}', '{}')",
    )
    .bind(format!("held-{}", uuid::Uuid::new_v4()))
    .execute(&mut writer)
    .await
    .unwrap();
    let (head_before, _) = positions(pg).await;
    tokio::time::sleep(HOLD).await;
    let (head_after, after) = positions(pg).await;
    let readyz = reqwest::Client::new()
        .get(format!("{gateway}/readyz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    // Whether `/readyz` names the transaction holding the consumers back (it does once the
    // transaction is 5 s old and a consumer of that gateway lags).
    let readyz = match readyz {
        Ok(r) => {
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            match body["held_back_by"]["advice"].as_str() {
                Some(advice) => format!("/readyz names it: {advice}"),
                None => "/readyz does not name it".to_string(),
            }
        }
        Err(e) => format!("/readyz unanswered: {e}"),
    };
    sqlx::query("ROLLBACK").execute(&mut writer).await.unwrap();
    Held {
        committed_meanwhile: head_after - head_before,
        lag_at_release: head_after - after.get("case_views").copied().unwrap_or(0),
        readyz,
    }
}
