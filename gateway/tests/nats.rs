//! NATS JetStream end to end, each test against a nats-server of its own (so it can be
//! stopped and restarted): the relay publishes every committed event exactly once in
//! per-complaint order, through a NATS outage and a SIGKILL of the relay process; intake
//! commits valid commands once and rejects invalid ones with their reason.
//!
//! Runs when `NATS_URL` is set (CI sets it); the server binary is the one `.ci/run` ensures.
#![allow(clippy::unwrap_used)]

use async_nats::jetstream;
use complaints_domain::{ComplaintAction, ComplaintServices, LearningKind, RecordLearning};
use complaints_eventlog::Runner;
use complaints_eventlog::{Database, EventLog};
use complaints_gateway::nats::{NatsSettings, Relay};
use complaints_gateway::{Authenticator, Cases, CommandContext, Role};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The server binary private NATS processes are started from; `None` skips (never in CI).
fn nats_binary() -> Option<PathBuf> {
    complaints_testkit::nats_url()?;
    complaints_testkit::nats_server_binary()
}

/// Whether `binary` is nats-server 2.10 or later (it then runs `deploy/nats-server.conf`).
fn supports_sync_always(binary: &Path) -> bool {
    let output = Command::new(binary).arg("--version").output().ok();
    let text = output
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    let version = text.trim().rsplit('v').next().unwrap_or_default();
    let mut parts = version.split('.').filter_map(|p| p.parse::<u32>().ok());
    matches!((parts.next(), parts.next()), (Some(major), Some(minor)) if (major, minor) >= (2, 10))
}

/// A nats-server with JetStream on a free port, storing under `dir`.
struct Server {
    binary: PathBuf,
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Server {
    fn start(binary: PathBuf, dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Server {
            binary,
            port,
            dir: dir.to_path_buf(),
            child: None,
        };
        server.restart();
        server
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let mut command = Command::new(&self.binary);
        if supports_sync_always(&self.binary) {
            // The shipped configuration, with this test's port and store.
            let shipped = std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../deploy/nats-server.conf"
            ))
            .unwrap();
            let config: Vec<String> = shipped
                .lines()
                .filter(|l| !l.trim_start().starts_with("http:"))
                .map(|l| match l.trim_start() {
                    t if t.starts_with("listen:") => format!("listen: 127.0.0.1:{}", self.port),
                    t if t.starts_with("store_dir:") => format!("  store_dir: {:?}", self.dir),
                    _ => l.to_string(),
                })
                .collect();
            let config = config.join("\n");
            assert!(config.contains("sync_interval: always"));
            std::fs::create_dir_all(&self.dir).unwrap();
            let path = self.dir.with_extension("conf");
            std::fs::write(&path, config).unwrap();
            command.arg("-c").arg(path);
        } else {
            command
                .args([
                    "-js",
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-sd",
                ])
                .arg(&self.dir);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn settings(url: &str) -> NatsSettings {
    NatsSettings {
        url: Some(url.to_string()),
        prefix: "complaints".into(),
        events_stream: "COMPLAINTS_EVENTS".into(),
        intake_stream: "COMPLAINTS_INTAKE".into(),
        duplicate_window_secs: 3600,
        replicas: 1,
        max_age_days: 0,
        include_personal_data: false,
        intake_max_deliver: 3,
    }
}

async fn database(dir: &Path) -> Database {
    match complaints_testkit::postgres_base_url().await {
        Some(base) => Database::Postgres(complaints_testkit::fresh_schema(&base).await),
        None => Database::Sqlite(dir.join("complaints.db")),
    }
}

async fn cases(database: &Database) -> Arc<Cases> {
    let log = EventLog::connect(database).await.unwrap();
    log.migrate().await.unwrap();
    Arc::new(Cases::new(log, ComplaintServices::standard()))
}

fn context() -> CommandContext {
    CommandContext {
        actor: "test".into(),
        role: "caseworker".into(),
        organisation_id: "RAL".into(),
        command_id: None,
        fingerprint: "fp".into(),
        correlation_id: "c".into(),
        causation_id: None,
        issued_at: chrono::Utc::now(),
        issued_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
    }
}

fn receive() -> ComplaintAction {
    let body = serde_json::json!({
        "organisation_id": "RAL", "received_on": "2026-04-02", "channel": "email",
        "subject_areas": ["communications"], "description": "secret words", "complainant": {"name": "Ann Secret"}
    });
    ComplaintAction::Receive(serde_json::from_value(body).unwrap())
}

fn learning(n: usize) -> ComplaintAction {
    ComplaintAction::RecordLearning(RecordLearning {
        recorded_on: chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
        kind: LearningKind::Lesson,
        summary: format!("lesson {n}"),
        action_due_on: None,
    })
}

/// `complaints` commands from `clients` concurrent clients: each complaint is received and
/// gets `per_complaint - 1` learning records.
async fn drive(
    cases: Arc<Cases>,
    clients: usize,
    complaints_per_client: usize,
    per_complaint: usize,
) {
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let cases = cases.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..complaints_per_client {
                let id = uuid::Uuid::new_v4().to_string();
                cases
                    .execute(&id, receive(), &context(), None)
                    .await
                    .unwrap();
                for n in 1..per_complaint {
                    cases
                        .execute(&id, learning(n), &context(), None)
                        .await
                        .unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Every message in the events stream: (event id, complaint id, complaint sequence, body).
async fn stream_contents(url: &str) -> Vec<(String, String, i64, String)> {
    let js = jetstream::new(async_nats::connect(url).await.unwrap());
    let mut stream = js.get_stream("COMPLAINTS_EVENTS").await.unwrap();
    let total = stream.info().await.unwrap().state.messages;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut out = Vec::new();
    while (out.len() as u64) < total {
        let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let headers = message.headers.clone().unwrap();
        out.push((
            headers.get("Nats-Msg-Id").unwrap().to_string(),
            headers.get("Complaint-Id").unwrap().to_string(),
            headers
                .get("Complaint-Sequence")
                .unwrap()
                .to_string()
                .parse()
                .unwrap(),
            String::from_utf8(message.payload.to_vec()).unwrap(),
        ));
    }
    out
}

async fn event_ids(cases: &Cases) -> HashSet<String> {
    let sql = "SELECT aggregate_id || ':' || sequence FROM events";
    complaints_eventlog::on_pool!(cases.log().pool(), |p| sqlx::query_scalar::<_, String>(sql)
        .fetch_all(p)
        .await
        .unwrap())
    .into_iter()
    .collect()
}

fn assert_exactly_once_in_order(
    published: &[(String, String, i64, String)],
    committed: &HashSet<String>,
) {
    let ids: HashSet<String> = published.iter().map(|p| p.0.clone()).collect();
    assert_eq!(ids.len(), published.len(), "a message was published twice");
    assert_eq!(
        &ids, committed,
        "the stream must hold exactly the committed events"
    );
    let mut last: HashMap<&str, i64> = HashMap::new();
    for (_, complaint, sequence, _) in published {
        let previous = last.insert(complaint, *sequence).unwrap_or(0);
        assert_eq!(
            *sequence,
            previous + 1,
            "complaint {complaint} out of order"
        );
    }
}

async fn wait_until(what: &str, timeout: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn relayed_position(cases: &Cases) -> i64 {
    complaints_projections::models::case_views::reflected_position(
        cases.log().pool(),
        complaints_gateway::nats::RELAY,
    )
    .await
    .unwrap()
}

async fn event_count(cases: &Cases) -> i64 {
    let sql = "SELECT count(*) FROM events";
    complaints_eventlog::on_pool!(cases.log().pool(), |p| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(p)
        .await
        .unwrap())
}

async fn head(cases: &Cases) -> i64 {
    let sql = "SELECT coalesce(max(global_position), 0) FROM events";
    complaints_eventlog::on_pool!(cases.log().pool(), |p| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(p)
        .await
        .unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_thousand_commands_reach_the_stream_once_each_in_per_complaint_order() {
    let Some(binary) = nats_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(binary, &dir.path().join("nats"));
    let cases = cases(&database(dir.path()).await).await;
    let js = settings(&server.url()).connect().await.unwrap().unwrap();
    let relay = Arc::new(Relay::new(js, settings(&server.url())));
    let stop = CancellationToken::new();
    let relaying = tokio::spawn(Runner::new(cases.log().pool().clone(), relay).run(stop.clone()));

    let started = Instant::now();
    drive(cases.clone(), 20, 50, 5).await;
    let head = head(&cases).await;
    wait_until(
        "the relay to catch up",
        Duration::from_secs(60),
        async || relayed_position(&cases).await == head,
    )
    .await;
    eprintln!(
        "5000 commands committed and relayed in {:?}",
        started.elapsed()
    );
    stop.cancel();
    relaying.await.unwrap();

    let published = stream_contents(&server.url()).await;
    assert_eq!(published.len(), 5000);
    assert_exactly_once_in_order(&published, &event_ids(&cases).await);
    let sample = &published[0].3;
    assert!(sample.contains(r#""specversion":"1.0""#), "{sample}");
    assert!(
        !sample.contains("Ann Secret") && !sample.contains("secret words"),
        "personal data published: {sample}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_outage_and_a_killed_relay_still_leave_exactly_one_message_per_event() {
    let Some(binary) = nats_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(binary, &dir.path().join("nats"));
    let database = database(dir.path()).await;
    let cases = cases(&database).await;
    let nats_url = server.url();
    let spawn_relay = |name: &str| {
        let log = std::fs::File::create(dir.path().join(format!("{name}.log"))).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_complaints"));
        command
            .arg("project")
            .env("NATS_URL", &nats_url)
            .env("COMPLAINTS_DATA_DIR", dir.path())
            .env("RUST_LOG", "info");
        match &database {
            Database::Postgres(url) => command.env("DATABASE_URL", url),
            Database::Sqlite(_) => command.env_remove("DATABASE_URL"),
        };
        command.stdout(Stdio::null()).stderr(log).spawn().unwrap()
    };

    let mut relay = spawn_relay("relay-1");
    // 1,000 events, then NATS goes away while commands keep succeeding.
    drive(cases.clone(), 8, 25, 5).await;
    server.stop();
    drive(cases.clone(), 8, 25, 5).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.restart();
    drive(cases.clone(), 8, 25, 5).await;
    // The relay dies mid-stream without a chance to checkpoint.
    relay.kill().unwrap();
    relay.wait().unwrap();
    drive(cases.clone(), 8, 25, 5).await;
    let mut relay = spawn_relay("relay-2");
    let head = head(&cases).await;
    wait_until(
        "the relay to catch up",
        Duration::from_secs(90),
        async || relayed_position(&cases).await == head,
    )
    .await;
    relay.kill().unwrap();
    relay.wait().unwrap();

    let published = stream_contents(&server.url()).await;
    assert_eq!(published.len(), 4000);
    assert_exactly_once_in_order(&published, &event_ids(&cases).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stream_deleted_under_a_running_relay_is_made_again_and_a_stuck_relay_reports_its_lag() {
    let Some(binary) = nats_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(binary, &dir.path().join("nats"));
    let cases = cases(&database(dir.path()).await).await;
    let js = settings(&server.url()).connect().await.unwrap().unwrap();
    let relay = Arc::new(Relay::new(js, settings(&server.url())));
    let runner = Runner::new(cases.log().pool().clone(), relay);
    let status = runner.status();
    let stop = CancellationToken::new();
    let relaying = tokio::spawn(runner.run(stop.clone()));

    drive(cases.clone(), 2, 5, 2).await;
    let first = head(&cases).await;
    wait_until(
        "the relay to catch up",
        Duration::from_secs(30),
        async || relayed_position(&cases).await == first,
    )
    .await;

    // Someone deletes the stream while the relay runs; the relay must notice at its next
    // publish, not stall with commands piling up behind it.
    let admin = jetstream::new(async_nats::connect(server.url()).await.unwrap());
    assert!(
        admin
            .delete_stream("COMPLAINTS_EVENTS")
            .await
            .unwrap()
            .success
    );
    let before: HashSet<String> = event_ids(&cases).await;
    drive(cases.clone(), 2, 5, 2).await;
    let second = head(&cases).await;
    wait_until(
        "the relay to publish into a recreated stream",
        Duration::from_secs(30),
        async || relayed_position(&cases).await == second,
    )
    .await;
    let published = stream_contents(&server.url()).await;
    let after: HashSet<String> = event_ids(&cases)
        .await
        .difference(&before)
        .cloned()
        .collect();
    let ids: HashSet<String> = published.iter().map(|p| p.0.clone()).collect();
    assert_eq!(after.len(), 20);
    assert_eq!(
        ids, after,
        "the recreated stream holds every event written after the deletion"
    );

    // NATS goes away: every batch fails, and the lag must still be measured from the log.
    server.stop();
    drive(cases.clone(), 1, 3, 1).await;
    wait_until(
        "the lag of the stuck relay",
        Duration::from_secs(60),
        async || status.lag_events.load(std::sync::atomic::Ordering::Relaxed) == 3,
    )
    .await;
    assert!(status.lag_millis.load(std::sync::atomic::Ordering::Relaxed) > 0);
    server.restart();
    let third = head(&cases).await;
    wait_until(
        "the relay to catch up",
        Duration::from_secs(60),
        async || relayed_position(&cases).await == third,
    )
    .await;
    stop.cancel();
    relaying.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn intake_commits_each_valid_message_once_and_rejects_the_rest_with_a_reason() {
    let Some(binary) = nats_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(binary, &dir.path().join("nats"));
    let cases = cases(&database(dir.path()).await).await;
    let auth = Arc::new(Authenticator::with_secret(
        "intake-secret-intake-secret-intake-secret",
    ));
    let nats = settings(&server.url());
    let js = nats.connect().await.unwrap().unwrap();
    let stop = CancellationToken::new();
    let clock: complaints_gateway::Clock = Arc::new(chrono::Utc::now);
    let intake = tokio::spawn(complaints_gateway::nats::run_intake(
        cases.clone(),
        auth.clone(),
        js.clone(),
        nats.clone(),
        clock,
        stop.clone(),
    ));
    wait_until("the intake stream", Duration::from_secs(10), async || {
        js.get_stream("COMPLAINTS_INTAKE").await.is_ok()
    })
    .await;

    let token = auth
        .mint(
            "pals-desk",
            &["RAL".into()],
            &[Role::Frontline],
            chrono::Utc::now(),
            chrono::Duration::hours(1),
        )
        .unwrap();
    let other = auth
        .mint(
            "pals-desk",
            &["OTHER".into()],
            &[Role::Frontline],
            chrono::Utc::now(),
            chrono::Duration::hours(1),
        )
        .unwrap();
    let complaint = |reference: usize, channel: &str| {
        serde_json::json!({
            "command": "receive",
            "body": {
                "organisation_id": "RAL", "received_on": "2026-04-02", "channel": channel,
                "subject_areas": ["communications"], "description": "x", "complainant": {"name": "A"},
                "source": {"system": "contact-centre", "reference": format!("CC-{reference}")}
            }
        })
    };
    let mut invalid = HashSet::new();
    let mut sent = 0;
    for n in 0..1000usize {
        let (body, bearer, msg_id) = match n % 20 {
            // Invalid: an unknown channel, no token, another organisation's token, not JSON.
            0 => (
                complaint(n, "pigeon").to_string(),
                Some(token.clone()),
                format!("m-{n}"),
            ),
            1 => (complaint(n, "email").to_string(), None, format!("m-{n}")),
            2 => (
                complaint(n, "email").to_string(),
                Some(other.clone()),
                format!("m-{n}"),
            ),
            3 => (
                "{not json".to_string(),
                Some(token.clone()),
                format!("m-{n}"),
            ),
            // Duplicates: a message id again (JetStream drops it), and the next complaint
            // under a message id of its own, ahead of its original.
            4 => (
                complaint(n - 1, "email").to_string(),
                Some(token.clone()),
                format!("m-{}", n - 1),
            ),
            5 => (
                complaint(n + 1, "email").to_string(),
                Some(token.clone()),
                format!("again-{n}"),
            ),
            _ => (
                complaint(n, "email").to_string(),
                Some(token.clone()),
                format!("m-{n}"),
            ),
        };
        if n % 20 < 4 {
            invalid.insert(msg_id.clone());
        }
        let mut headers = async_nats::HeaderMap::new();
        if let Some(bearer) = bearer {
            headers.insert("Authorization", format!("Bearer {bearer}").as_str());
        }
        let publish = jetstream::message::PublishMessage::build()
            .payload(body.into())
            .headers(headers)
            .message_id(msg_id);
        js.send_publish("complaints.intake.RAL", publish)
            .await
            .unwrap()
            .await
            .unwrap();
        sent += 1;
    }
    assert_eq!(sent, 1000);
    // A frontline system forging a rejection where rejections used to live: it is now an
    // intake message like any other, refused for its subject, and never a rejection.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Authorization", format!("Bearer {token}").as_str());
    let forged =
        serde_json::json!({"original_message_id": "m-7", "status": 422, "reason": "forged"});
    js.send_publish(
        "complaints.intake.rejected.RAL",
        jetstream::message::PublishMessage::build()
            .payload(forged.to_string().into())
            .headers(headers)
            .message_id("forged-rejection"),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    invalid.insert("forged-rejection".to_string());
    // 1000 messages: 200 invalid, 50 repeats of a message id (dropped by JetStream), 50
    // repeats of a complaint under a new id (answered from the existing complaint).
    let expected_complaints = 1000 - 200 - 50 - 50;
    wait_until("intake to commit", Duration::from_secs(60), async || {
        event_count(&cases).await == expected_complaints
    })
    .await;

    let mut stream = js.get_stream("COMPLAINTS_INTAKE").await.unwrap();
    wait_until("the rejections", Duration::from_secs(30), async || {
        let info = stream.info().await.unwrap();
        info.state.messages as usize >= 951 + invalid.len()
    })
    .await;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: "complaints.rejected.>".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut rejected = HashMap::new();
    while rejected.len() < invalid.len() {
        let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        rejected.insert(
            body["original_message_id"].as_str().unwrap().to_string(),
            body,
        );
    }
    assert_eq!(rejected.keys().cloned().collect::<HashSet<_>>(), invalid);
    assert!(
        rejected["m-0"]["reason"]
            .as_str()
            .unwrap()
            .contains("pigeon"),
        "{}",
        rejected["m-0"]
    );
    assert_eq!(rejected["m-1"]["status"], 401);
    assert_eq!(rejected["m-2"]["status"], 403);
    assert_eq!(rejected["m-3"]["status"], 400);
    assert_eq!(rejected["forged-rejection"]["status"], 400);
    assert_eq!(
        rejected["forged-rejection"]["original_subject"],
        "complaints.intake.rejected.RAL"
    );
    assert!(
        !rejected.values().any(|r| r["reason"] == "forged"),
        "a forged rejection reached the rejections"
    );
    assert_eq!(
        event_count(&cases).await,
        expected_complaints,
        "nothing committed twice"
    );
    stop.cancel();
    intake.await.unwrap();
}

fn receive_from(name: &str, description: &str) -> ComplaintAction {
    let body = serde_json::json!({
        "organisation_id": "RAL", "received_on": "2026-04-02", "channel": "email",
        "subject_areas": ["communications"], "description": description,
        "complainant": {"name": name, "email": format!("{}@example.org", name.replace(' ', "."))}
    });
    ComplaintAction::Receive(serde_json::from_value(body).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_republish_after_an_erasure_carries_nothing_readable_of_the_erased_person() {
    use complaints_eventlog::crypto::{Encryption, LocalKek};
    use complaints_eventlog::keys;
    let Some(binary) = nats_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(binary, &dir.path().join("nats"));
    let log = EventLog::connect(&database(dir.path()).await)
        .await
        .unwrap();
    log.migrate().await.unwrap();
    let encryption = Encryption::new(
        Arc::new(LocalKek::from_secret(
            b"republish-kek-republish-kek-0123456",
        )),
        b"republish-subject-secret".to_vec(),
    );
    let cases = Cases::new(
        log.with_encryption(Arc::new(encryption)),
        ComplaintServices::standard(),
    );
    let pool = cases.log().pool().clone();
    let (ann, bert) = ("c-ann", "c-bert");
    cases
        .execute(
            ann,
            receive_from("Ann Erasable", "Ann's own words"),
            &context(),
            None,
        )
        .await
        .unwrap();
    cases
        .execute(ann, learning(1), &context(), None)
        .await
        .unwrap();
    cases
        .execute(
            bert,
            receive_from("Bert Keepme", "Bert's own words"),
            &context(),
            None,
        )
        .await
        .unwrap();
    let subject = |complaint: &'static str| {
        let pool = pool.clone();
        async move {
            keys::subjects_of(&pool, complaint).await.unwrap()[0]
                .1
                .clone()
        }
    };
    let (ann_subject, bert_subject) = (subject(ann).await, subject(bert).await);
    let erasure = keys::Erasure {
        by: "dpo".into(),
        reason: "erasure request upheld".into(),
        legal_basis: "UK GDPR Art 17(1)(a)".into(),
        at: chrono::Utc::now(),
    };
    assert_eq!(
        keys::erase(&pool, &ann_subject, &erasure).await.unwrap(),
        keys::ErasureOutcome::Erased
    );

    // The harshest republish: personal data included (sealed, as stored), the whole log.
    let mut with_personal_data = settings(&server.url());
    with_personal_data.include_personal_data = true;
    let js = with_personal_data.connect().await.unwrap().unwrap();
    let relay = Relay::new(js, with_personal_data);
    let published = complaints_gateway::nats::republish(&pool, &relay, 0, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(published as i64, event_count(&cases).await);
    let messages = stream_contents(&server.url()).await;
    assert_exactly_once_in_order(&messages, &event_ids(&cases).await);

    for (_, complaint, _, body) in &messages {
        for plaintext in [
            "Ann Erasable",
            "Ann's own words",
            "Ann.Erasable",
            "Bert Keepme",
            "Bert's own words",
        ] {
            assert!(
                !body.contains(plaintext),
                "{plaintext} published in clear on {complaint}: {body}"
            );
        }
    }
    // The personal fields were published (the setting is on), but only as placeholders: the
    // relay never holds a key, so neither a ciphertext nor a plaintext of anyone leaves.
    let receipts: Vec<&String> = messages
        .iter()
        .map(|m| &m.3)
        .filter(|body| body.contains("ComplaintReceived"))
        .collect();
    assert_eq!(receipts.len(), 2);
    for body in receipts {
        assert!(body.contains("[encrypted]"), "{body}");
        assert!(
            !body.contains("\"ct\""),
            "a ciphertext was published: {body}"
        );
    }
    assert!(!keys::load_keys(&pool, &[ann_subject.clone()].into())
        .await
        .unwrap()
        .usable(&ann_subject));
    assert!(keys::load_keys(&pool, &[bert_subject.clone()].into())
        .await
        .unwrap()
        .usable(&bert_subject));
    let bert_now = cases.get(bert).await.unwrap().unwrap();
    assert!(format!("{:?}", bert_now.case).contains("Bert Keepme"));
    let ann_now = cases.get(ann).await.unwrap().unwrap();
    assert!(!format!("{:?}", ann_now.case).contains("Ann Erasable"));
}
