//! Test harness: fresh databases per test, the service on port 0, typed helpers.
//!
//! Databases come from the test kit (a schema per test on PostgreSQL, a file per test on
//! SQLite; PostgreSQL tests fail rather than skip under `CI`). Set `TEST_LOG=1` to see logs.
#![allow(clippy::unwrap_used)]

use complaints_domain::ComplaintServices;
use complaints_eventlog::Pool;
use complaints_gateway::{AppState, Authenticator, Cases, Role};
pub use complaints_testkit::{postgres_base_url, Backend, TestDatabase};
use serde_json::Value;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The service running on a free port over a fresh database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// Bearer token used by the helpers: every role except regulator and reporting, for `RAL`.
    pub token: String,
    /// Signs tokens the service accepts.
    pub auth: Arc<Authenticator>,
    /// The sealing key and export secret the service uses.
    pub audit_keys: Arc<complaints_audit::AuditKeys>,
    cases: Arc<Cases>,
    /// The database behind it.
    pub db: TestDatabase,
    stop: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Starts the service on `backend`, or `None` when the backend is unavailable outside CI.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let db = TestDatabase::create(backend).await?;
    // As in service: personal fields encrypted per data subject.
    let encryption = Arc::new(complaints_eventlog::crypto::Encryption::new(
        Arc::new(complaints_eventlog::crypto::LocalKek::from_secret(
            b"test-kek-test-kek-test-kek-test-kek",
        )),
        b"test-subject-secret".to_vec(),
    ));
    let cases = Arc::new(Cases::new(
        db.event_log().await.with_encryption(encryption),
        ComplaintServices::standard(),
    ));
    let auth = Arc::new(Authenticator::with_secret(TEST_SECRET));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    complaints_gateway::app::consumers::prepare(cases.log().pool(), cases.services())
        .await
        .unwrap();
    let running =
        complaints_gateway::app::consumers::spawn(cases.log().pool(), cases.services(), &stop);
    let audit_keys = Arc::new(complaints_audit::AuditKeys::generate().unwrap());
    let state = AppState::new(cases.clone(), auth.clone())
        .with_consumers(running.statuses.clone())
        .with_audit(audit_keys.clone());
    tokio::spawn(complaints_gateway::serve(listener, state, stop.clone()));
    let token = mint(
        &auth,
        &["RAL"],
        &[Role::Frontline, Role::Caseworker, Role::Auditor],
    );
    Some(TestApp {
        address,
        client: reqwest::Client::new(),
        token,
        auth,
        audit_keys,
        cases,
        db,
        stop,
    })
}

const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// A token for `organisations` and `roles`, valid for an hour.
pub fn mint(auth: &Authenticator, organisations: &[&str], roles: &[Role]) -> String {
    let orgs: Vec<String> = organisations.iter().map(|o| o.to_string()).collect();
    auth.mint(
        "test-user",
        &orgs,
        roles,
        chrono::Utc::now(),
        chrono::Duration::hours(1),
    )
    .unwrap()
}

/// A response's status, headers and JSON body.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `ETag`, if any.
    pub etag: Option<String>,
    /// `Content-Type`.
    pub content_type: String,
    /// Parsed JSON (Null when the body is not JSON).
    pub body: Value,
}

impl TestApp {
    async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let etag = header("etag");
        let content_type = header("content-type").unwrap_or_default();
        let body = response.json().await.unwrap_or(Value::Null);
        Reply {
            status,
            etag,
            content_type,
            body,
        }
    }

    /// POSTs JSON to `path` with extra headers.
    pub async fn post(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .json(body);
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        {
            request = request.bearer_auth(&self.token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::reply(request.send().await.unwrap()).await
    }

    /// The complaints behind the service, for driving the scheduler directly.
    pub fn cases(&self) -> Arc<Cases> {
        self.cases.clone()
    }

    /// A token for `organisations` and `roles`.
    pub fn token_for(&self, organisations: &[&str], roles: &[Role]) -> String {
        mint(&self.auth, organisations, roles)
    }

    /// POSTs raw bytes with a content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let request = self
            .client
            .post(format!("{}{path}", self.address))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body);
        Self::reply(request.send().await.unwrap()).await
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.get_as(&self.token, path).await
    }

    /// GETs `path` with `token`.
    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        let request = self
            .client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token);
        Self::reply(request.send().await.unwrap()).await
    }

    /// GETs `path` with `token` and returns the status, content type and raw body.
    pub async fn get_bytes_as(&self, token: &str, path: &str) -> (u16, String, Vec<u8>) {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (
            status,
            content_type,
            response.bytes().await.unwrap().to_vec(),
        )
    }

    /// Receives a complaint.
    pub async fn post_complaint(&self, body: &Value) -> Reply {
        self.post("/v1/complaints", body, &[]).await
    }

    /// Runs a command on a complaint (`sub` is e.g. `acknowledgement`).
    pub async fn command(&self, id: &str, sub: &str, body: &Value) -> Reply {
        self.post(&format!("/v1/complaints/{id}/{sub}"), body, &[])
            .await
    }

    /// Waits until every consumer has applied the whole log (PostgreSQL commit order may
    /// leave positions unapplied until earlier transactions end, so compare positions).
    pub async fn settle(&self) {
        let pool = self.db.raw_pool().await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let behind: i64 = complaints_eventlog::on_pool!(&pool, |p| sqlx::query_scalar(
                "SELECT count(*) FROM projection_checkpoints
                 WHERE position < (SELECT coalesce(max(global_position), 0) FROM events)"
            )
            .fetch_one(p)
            .await
            .unwrap());
            if behind == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "consumers did not catch up"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// Number of rows in the event log.
    pub async fn event_count(&self) -> i64 {
        count_events(&self.db.raw_pool().await).await
    }
}

/// Rows in the event log.
pub async fn count_events(pool: &Pool) -> i64 {
    match pool {
        Pool::Postgres(p) => sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(p)
            .await
            .unwrap(),
        Pool::Sqlite(p) => sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

/// A minimal valid complaint as a frontline system would send it.
pub fn minimal_complaint(organisation_id: &str, received_on: &str) -> Value {
    serde_json::json!({
        "organisation_id": organisation_id,
        "received_on": received_on,
        "channel": "email",
        "subject_areas": ["communications"],
        "description": "My mother's discharge letter never reached the GP.",
        "complainant": { "name": "Ann Example" }
    })
}

/// Declares one async test per backend: `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($backend:ident: $backend_type:ty) $body:block)+) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($backend: $backend_type) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() { run($crate::Backend::Sqlite).await }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() { run($crate::Backend::Postgres).await }
            }
        )+
    };
}
