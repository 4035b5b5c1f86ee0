//! Crypto-shredding (schemas/encryption.md) on both backends: erasing one data subject
//! leaves no plaintext of them anywhere, keeps the other people, the chain and the reports.
//! Every read of a complaint's personal data is in the access log (R-CAL-1).
#![allow(clippy::unwrap_used)]

use complaints_domain::ComplaintServices;
use complaints_eventlog::crypto::{Encryption, LocalKek};
use complaints_eventlog::{on_pool, Pool};
use complaints_gateway::{AppState, Authenticator, Cases, Role};
use complaints_tests::{mint, on_both_backends, Backend, TestDatabase};
use serde_json::{json, Value};
use sqlx::Row;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

struct App {
    address: String,
    client: reqwest::Client,
    auth: Arc<Authenticator>,
    /// For signing in to the web pages.
    cases: Arc<Cases>,
    db: TestDatabase,
    stop: CancellationToken,
}

impl Drop for App {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl App {
    async fn call(
        &self,
        method: &str,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.address);
        let request = match method {
            "POST" => self.client.post(url).json(body.unwrap_or(&json!({}))),
            _ => self.client.get(url),
        };
        let reply = request.bearer_auth(token).send().await.unwrap();
        let status = reply.status().as_u16();
        let text = reply.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn token(&self, roles: &[Role]) -> String {
        mint(&self.auth, &["RAL"], roles)
    }

    async fn settle(&self) {
        let pool = self.db.raw_pool().await;
        for _ in 0..800 {
            let behind: i64 = on_pool!(&pool, |p| sqlx::query_scalar(
                "SELECT count(*) FROM projection_checkpoints
                 WHERE position < (SELECT coalesce(max(global_position), 0) FROM events)"
            )
            .fetch_one(p)
            .await
            .unwrap());
            if behind == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("consumers did not catch up");
    }
}

async fn spawn(backend: Backend) -> Option<App> {
    let db = TestDatabase::create(backend).await?;
    let encryption = Arc::new(Encryption::new(
        Arc::new(LocalKek::from_secret(
            b"test-kek-test-kek-test-kek-test-kek",
        )),
        b"test-subject-secret".to_vec(),
    ));
    let cases = Arc::new(Cases::new(
        db.event_log().await.with_encryption(encryption),
        ComplaintServices::standard(),
    ));
    let auth = Arc::new(Authenticator::with_secret(
        "test-secret-test-secret-test-secret-0123",
    ));
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
        .with_audit(audit_keys);
    tokio::spawn(complaints_gateway::serve(listener, state, stop.clone()));
    Some(App {
        address,
        client: reqwest::Client::new(),
        auth,
        cases,
        db,
        stop,
    })
}

/// Every text of every table, one string.
async fn scan_all_tables(pool: &Pool) -> String {
    let mut out = String::new();
    match pool {
        Pool::Postgres(p) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
            )
            .fetch_all(p)
            .await
            .unwrap();
            assert!(tables.iter().any(|t| t == "events"), "{tables:?}");
            for table in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t"))
                        .fetch_all(p)
                        .await
                        .unwrap();
                out.push_str(&rows.join("\n"));
            }
        }
        Pool::Sqlite(p) => {
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(p)
                    .await
                    .unwrap();
            assert!(tables.iter().any(|t| t == "event_log"), "{tables:?}");
            for table in tables {
                let rows = sqlx::query(&format!("SELECT * FROM \"{table}\""))
                    .fetch_all(p)
                    .await
                    .unwrap();
                for row in rows {
                    out.push_str(&format!("\n<{table}>"));
                    for i in 0..row.columns().len() {
                        if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                            out.push_str(&text);
                        } else if let Ok(Some(bytes)) = row.try_get::<Option<Vec<u8>>, _>(i) {
                            out.push_str(&String::from_utf8_lossy(&bytes));
                        }
                        out.push('\n');
                    }
                }
            }
        }
    }
    out
}

const ANN: [&str; 5] = [
    "Ann Shredme",
    "ann.shred@example.org",
    "Ann wrote about the ward",
    "Ann again about parking",
    "Letter conclusions for Ann",
];
const BERT: [&str; 2] = ["Bert Keepme", "9434765919"];

fn complaint(description: &str, affected: Option<Value>) -> Value {
    let mut body = json!({
        "organisation_id": "RAL", "received_on": "2025-05-06", "channel": "email",
        "subject_areas": ["communications"], "description": description,
        "complainant": {"name": "Ann Shredme", "email": "ann.shred@example.org", "phone": "07700 900123"}
    });
    if let Some(person) = affected {
        body["person_affected"] = person;
        body["representation_basis"] = json!("requested");
        body["consent_required"] = json!(false);
    }
    body
}

on_both_backends! {
    async fn erasing_one_person_leaves_no_plaintext_and_keeps_the_rest(backend: Backend) {
        let Some(app) = spawn(backend).await else { return };
        let staff = app.token(&[Role::Frontline, Role::Caseworker, Role::Auditor]);
        let dpo = app.token(&[Role::DataProtection]);
        let reporting = app.token(&[Role::Reporting]);

        // An identifier that reads as an NHS number but fails modulus 11 is refused.
        let bad = complaint("x", Some(json!({"name": "X", "identifier": "943 476 5918"})));
        let (status, _) = app.call("POST", &staff, "/v1/complaints", Some(&bad)).await;
        assert_eq!(status, 422);

        let first = complaint(ANN[2], Some(json!({"name": "Bert Keepme", "identifier": "943 476 5919", "date_of_birth": "1941-02-03"})));
        let (status, body) = app.call("POST", &staff, "/v1/complaints", Some(&first)).await;
        assert_eq!(status, 201, "{body}");
        let a = body["id"].as_str().unwrap().to_string();
        let (status, body) = app.call("POST", &staff, "/v1/complaints", Some(&complaint(ANN[3], None))).await;
        assert_eq!(status, 201, "{body}");
        let b = body["id"].as_str().unwrap().to_string();
        let response = json!({
            "sent_on": "2025-06-02", "outcome": "upheld", "signed_by": "ceo", "signed_as": "responsible_person",
            "ombudsman_rights": ["phso"], "letter": {"how_considered": "reviewed", "conclusions": ANN[4], "actions": "apology"}
        });
        let (status, body) = app.call("POST", &staff, &format!("/v1/complaints/{a}/response"), Some(&response)).await;
        assert_eq!(status, 200, "{body}");

        // Stored sealed from the start: no plaintext of either person in any table.
        let pool = app.db.raw_pool().await;
        app.settle().await;
        let before = scan_all_tables(&pool).await;
        for secret in ANN.iter().chain(BERT.iter()) {
            assert!(!before.contains(secret), "{secret} stored in clear: {}", before[..before.find(secret).unwrap()].rsplit('<').next().unwrap().chars().take(300).collect::<String>());
        }

        let annual = "/v1/reports/annual?organisation=RAL&year=2025";
        let ko41 = "/v1/reports/written-complaints?organisation=RAL&year=2025";
        let annual_before = app.call("GET", &reporting, annual, None).await;
        let ko41_before = app.call("GET", &reporting, ko41, None).await;
        assert_eq!(annual_before.0, 200, "{}", annual_before.1);

        // Look-ups: by person and by NHS number.
        let (status, ann) = app.call("POST", &dpo, "/v1/data-subjects/lookup",
            Some(&json!({"person": {"name": " ann  shredme", "email": "Ann.Shred@example.org"}}))).await;
        assert_eq!(status, 200, "{ann}");
        assert_eq!(ann["complaints"].as_array().unwrap().len(), 2, "{ann}");
        let ann_id = ann["subject_id"].as_str().unwrap().to_string();
        let (status, bert) = app.call("POST", &dpo, "/v1/data-subjects/lookup", Some(&json!({"nhs_number": "9434765919"}))).await;
        assert_eq!(status, 200, "{bert}");
        let bert_id = bert["subject_id"].as_str().unwrap().to_string();
        assert_eq!(bert["complaints"][0]["role"], "person_affected");

        // Subject access: every field Ann gave, across both complaints.
        let (status, sar) = app.call("GET", &dpo, &format!("/v1/data-subjects/{ann_id}/export"), None).await;
        assert_eq!(status, 200, "{sar}");
        let text = sar.to_string();
        for secret in ANN.iter().chain(["07700 900123"].iter()) {
            assert!(text.contains(secret), "{secret} missing from the subject access export: {text}");
        }
        assert!(!text.contains("Bert Keepme"), "{text}");
        let (status, bert_sar) = app.call("GET", &dpo, &format!("/v1/data-subjects/{bert_id}/export"), None).await;
        assert_eq!(status, 200);
        for secret in ["Bert Keepme", "943 476 5919", "1941-02-03"] {
            assert!(bert_sar.to_string().contains(secret), "{secret}: {bert_sar}");
        }
        // Only the data protection role.
        assert_eq!(app.call("GET", &staff, &format!("/v1/data-subjects/{ann_id}/export"), None).await.0, 403);

        // Erase Ann.
        let (status, erased) = app.call("POST", &dpo, &format!("/v1/data-subjects/{ann_id}/erasure"),
            Some(&json!({"reason": "SAR-2025-17 erasure request upheld", "legal_basis": "UK GDPR Art 17(1)(a)"}))).await;
        assert_eq!(status, 200, "{erased}");
        assert_eq!(erased["outcome"], "erased");
        assert_eq!(erased["key"]["legal_basis"], "UK GDPR Art 17(1)(a)");

        let (status, case) = app.call("GET", &staff, &format!("/v1/complaints/{a}"), None).await;
        assert_eq!(status, 200, "{case}");
        let shown = case.to_string();
        for secret in ANN {
            assert!(!shown.contains(secret), "{secret} still shown: {shown}");
        }
        assert!(shown.contains("[erased]"), "{shown}");
        assert!(shown.contains("Bert Keepme"), "the other person must be intact: {shown}");
        let (_, case_b) = app.call("GET", &staff, &format!("/v1/complaints/{b}"), None).await;
        assert!(!case_b.to_string().contains("Ann"), "{case_b}");

        // A new command on the complaint still works, and writes nothing of Ann.
        let (status, body) = app.call("POST", &staff, &format!("/v1/complaints/{a}/escalation"),
            Some(&json!({"escalated_on": "2025-06-10", "reason": "Ann is still unhappy"}))).await;
        assert!(status == 200 || status == 422, "{status} {body}");

        app.settle().await;
        let after = scan_all_tables(&pool).await;
        for secret in ANN {
            assert!(!after.contains(secret), "{secret} found after erasure");
        }
        assert!(!after.contains("Ann is still unhappy"));
        let (status, export) = app.call("GET", &app.token(&[Role::Regulator]), "/v1/exports/events?organisation=RAL&from=2025-01-01&to=2025-12-31", None).await;
        assert_eq!(status, 200, "{export}");
        for secret in ANN.iter().chain(BERT.iter()) {
            assert!(!export.to_string().contains(secret), "{secret} in the export");
        }

        // The chain still verifies; the reports did not move.
        let report = complaints_audit::verify(&pool, &[], None, &|_, _| {}).await;
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(app.call("GET", &reporting, annual, None).await.1["report"], annual_before.1["report"]);
        assert_eq!(app.call("GET", &reporting, ko41, None).await.1, ko41_before.1);

        // Bert's subject access still has everything.
        let (_, bert_sar) = app.call("GET", &dpo, &format!("/v1/data-subjects/{bert_id}/export"), None).await;
        assert!(bert_sar.to_string().contains("Bert Keepme"), "{bert_sar}");
    }

    async fn the_log_keeps_no_digest_of_a_command_body_that_a_guess_could_be_checked_against(backend: Backend) {
        // Whoever holds the database can hash a guessed body; the stored fingerprint must not
        // match that, yet a retry with the same key must still be recognised.
        let Some(app) = spawn(backend).await else { return };
        let staff = app.token(&[Role::Frontline, Role::Caseworker]);
        let body = complaint("a guessable complaint", Some(json!({"name": "Guess Able", "identifier": "943 476 5919"})));
        let bytes = serde_json::to_vec(&body).unwrap();
        let send = |key: &'static str, bytes: Vec<u8>| {
            app.client
                .post(format!("{}/v1/complaints", app.address))
                .bearer_auth(&staff)
                .header("Idempotency-Key", key)
                .header("Content-Type", "application/json")
                .body(bytes)
                .send()
        };
        let first = send("guess-1", bytes.clone()).await.unwrap();
        assert_eq!(first.status(), 201);
        let again = send("guess-1", bytes.clone()).await.unwrap();
        assert!(again.status().is_success(), "a retry is recognised: {}", again.status());
        let mut other = body.clone();
        other["description"] = json!("another body under the same key");
        let reused = send("guess-1", serde_json::to_vec(&other).unwrap()).await.unwrap();
        assert_eq!(reused.status(), 422, "the same key with another body is refused");

        let guessed = complaints_gateway::app::commands::fingerprint("receive", &bytes).unwrap();
        let pool = app.db.raw_pool().await;
        let metadata: Vec<String> = on_pool!(&pool, |p| sqlx::query_scalar(
            "SELECT CAST(metadata AS TEXT) FROM events"
        )
        .fetch_all(p)
        .await
        .unwrap());
        assert!(metadata.iter().any(|m| m.contains("command_fingerprint")));
        assert!(
            metadata.iter().all(|m| !m.contains(&guessed)),
            "the bare digest of the body is in the log"
        );
    }

    async fn a_stored_old_version_event_loads_through_its_upcaster(backend: Backend) {
        // A receipt as a release before the sealed form stored it: version 1.0, personal
        // data in clear. Written here row by row, as that release's repository did.
        let Some(db) = TestDatabase::create(backend).await else { return };
        let log = db.event_log().await.with_encryption(Arc::new(Encryption::new(
            Arc::new(LocalKek::from_secret(b"another-kek-another-kek-another-kek")),
            b"s".to_vec(),
        )));
        let body = complaint("old plaintext words", None);
        let action = complaints_domain::ComplaintAction::Receive(serde_json::from_value(body).unwrap());
        let command = complaints_domain::ComplaintCommand {
            issued_on: chrono::NaiveDate::from_ymd_opt(2025, 5, 6).unwrap(),
            action,
        };
        let events = complaints_domain::decide(&Default::default(), command, &ComplaintServices::standard()).unwrap();
        let metadata = json!({"organisation_id": "RAL", "actor": "t", "role": "frontline"}).to_string();
        for (i, event) in events.iter().enumerate() {
            let payload = serde_json::to_value(event).unwrap().to_string();
            let name = event.name();
            let sql = match backend {
                Backend::Postgres => "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                                      VALUES ('Complaint', 'c-old', $1, $2, '1.0', $3::json, $4::json)",
                Backend::Sqlite => "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                                    VALUES ('Complaint', 'c-old', $1, $2, '1.0', $3, $4)",
            };
            on_pool!(log.pool(), |p| sqlx::query(sql).bind(i as i64 + 1).bind(name).bind(&payload).bind(&metadata).execute(p).await.map(|_| ()).unwrap());
        }
        let cases = Cases::new(log, ComplaintServices::standard());

        let state = cases.get("c-old").await.unwrap().unwrap();
        assert!(format!("{:?}", state.case).contains("old plaintext words"));
        // The log keeps what was stored: version 1.0, in clear, matching the superseded schema.
        let stored = complaints_eventlog::read_stream(cases.log().pool(), "c-old").await.unwrap();
        assert_eq!(stored[0].event_version, "1.0");
        assert!(stored[0].stored_payload.to_string().contains("old plaintext words"));
        let schema = |version: &str| {
            complaints_domain::stored_event_schema("ComplaintReceived", version).unwrap()
        };
        assert!(jsonschema::is_valid(schema("1.0"), &stored[0].stored_payload));

        // A command on the old complaint works; a new receipt is stored in the sealed form,
        // which the plain 1.0 schema refuses.
        let context = complaints_gateway::CommandContext {
            actor: "t".into(), role: "caseworker".into(), organisation_id: "RAL".into(),
            command_id: None, fingerprint: "f".into(), correlation_id: "c".into(), causation_id: None,
            issued_at: chrono::Utc::now(), issued_on: chrono::NaiveDate::from_ymd_opt(2025, 5, 7).unwrap(),
        };
        let acknowledge = serde_json::from_value(json!({"acknowledged_on": "2025-05-07", "discussion_offered": true})).unwrap();
        cases.execute("c-old", complaints_domain::ComplaintAction::Acknowledge(acknowledge), &context, None).await.unwrap();
        let action = complaints_domain::ComplaintAction::Receive(serde_json::from_value(complaint("new sealed words", None)).unwrap());
        cases.execute("c-new", action, &context, None).await.unwrap();
        let new = complaints_eventlog::read_stream(cases.log().pool(), "c-new").await.unwrap();
        assert_eq!(new[0].event_version, complaints_domain::SEALED_FORM_VERSION);
        assert!(!new[0].stored_payload.to_string().contains("new sealed words"));
        assert!(jsonschema::is_valid(schema("2.0"), &new[0].stored_payload));
        assert!(!jsonschema::is_valid(schema("1.0"), &new[0].stored_payload));
        assert!(format!("{:?}", cases.get("c-new").await.unwrap().unwrap().case).contains("new sealed words"));
    }
}

/// A read as the access log holds it: who, in which role, what, under which correlation id.
type Read = (String, String, String, Option<String>);

fn read(actor: &str, role: Role, action: &str, correlation_id: Option<&str>) -> Read {
    (
        actor.into(),
        role.name().into(),
        action.into(),
        correlation_id.map(str::to_string),
    )
}

impl App {
    /// A token for `subject` acting for RAL in `roles`.
    fn token_of(&self, subject: &str, roles: &[Role]) -> String {
        self.auth
            .mint(
                subject,
                &["RAL".to_string()],
                roles,
                chrono::Utc::now(),
                chrono::Duration::hours(1),
            )
            .unwrap()
    }

    /// Sends a request with a bearer token (or a session cookie) and a correlation id.
    async fn send(
        &self,
        method: &str,
        credential: &str,
        path: &str,
        body: Option<&Value>,
        correlation_id: &str,
    ) -> (u16, String) {
        let url = format!("{}{path}", self.address);
        let request = match method {
            "POST" => self.client.post(url).json(body.unwrap_or(&json!({}))),
            _ => self.client.get(url),
        };
        let request = match credential.strip_prefix("cookie:") {
            Some(cookie) => request.header("cookie", cookie),
            None => request.bearer_auth(credential),
        };
        let reply = request
            .header("x-correlation-id", correlation_id)
            .send()
            .await
            .unwrap();
        (reply.status().as_u16(), reply.text().await.unwrap())
    }

    /// Signs `subject` in to the web pages; the session cookie, as `cookie:<name=value>`.
    async fn sign_in(&self, subject: &str, roles: &[Role]) -> String {
        let link = complaints_gateway::ui::session::login_token(
            &self.cases,
            subject,
            &["RAL".to_string()],
            roles,
            chrono::Utc::now(),
            chrono::Duration::minutes(5),
        )
        .unwrap();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let reply = client
            .post(format!("{}/ui/login", self.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={link}"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 303);
        let cookie = reply.headers()["set-cookie"].to_str().unwrap();
        format!("cookie:{}", cookie.split(';').next().unwrap())
    }
}

on_both_backends! {
    async fn r_cal_1_every_read_of_personal_data_is_in_the_access_log(backend: Backend) {
        let Some(app) = spawn(backend).await else { return };
        let intake = app.token_of("intake-clerk", &[Role::Frontline]);
        let pals = app.token_of("pals-desk", &[Role::Frontline]);
        let caseworker = app.token_of("case-officer", &[Role::Caseworker]);
        let dpo = app.token_of("dp-officer", &[Role::DataProtection]);
        let auditor = app.token_of("auditor-1", &[Role::Auditor]);
        let reporting = app.token_of("analyst", &[Role::Reporting]);
        let regulator = app.token_of("regulator-1", &[Role::Regulator]);
        const NAME: &str = "Cath Readlog";
        const EMAIL: &str = "cath.readlog@example.org";
        const DESCRIPTION: &str = "Cath's account of the night shift";
        let body = json!({
            "organisation_id": "RAL", "received_on": "2025-05-06", "channel": "email",
            "subject_areas": ["communications"], "description": DESCRIPTION,
            "complainant": {"name": NAME, "email": EMAIL},
            "source": {"system": "pals", "reference": "PALS-R-CAL-1"}
        });
        let mut expected: Vec<Read> = Vec::new();

        // Command answers carry the complaint, personal data included: each one is a read.
        let (status, answer) = app.send("POST", &intake, "/v1/complaints", Some(&body), "c-receive").await;
        assert_eq!(status, 201, "{answer}");
        assert!(answer.contains(NAME) && answer.contains(DESCRIPTION), "{answer}");
        let id = serde_json::from_str::<Value>(&answer).unwrap()["id"].as_str().unwrap().to_string();
        expected.push(read("intake-clerk", Role::Frontline, "command_answer:receive", Some("c-receive")));
        // Another desk sending the same intake gets the complaint someone else recorded.
        let (status, answer) = app.send("POST", &pals, "/v1/complaints", Some(&body), "c-receive-again").await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.contains(NAME), "{answer}");
        expected.push(read("pals-desk", Role::Frontline, "command_answer:receive", Some("c-receive-again")));
        let ack = json!({"acknowledged_on": "2025-05-07"});
        let path = format!("/v1/complaints/{id}/acknowledgement");
        let (status, answer) = app.send("POST", &caseworker, &path, Some(&ack), "c-ack").await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.contains(EMAIL), "{answer}");
        expected.push(read("case-officer", Role::Caseworker, "command_answer:acknowledgement", Some("c-ack")));
        // A refused command answers with the rule, not the complaint: no read.
        let (status, answer) = app.send("POST", &caseworker, &path, Some(&ack), "c-ack-again").await;
        assert_eq!(status, 422, "{answer}");
        assert!(!answer.contains(NAME), "{answer}");

        // The complaint, as it stands and as it stood, and its history.
        let (status, answer) = app.send("GET", &caseworker, &format!("/v1/complaints/{id}"), None, "c-get").await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.contains(NAME), "{answer}");
        expected.push(read("case-officer", Role::Caseworker, "complaint", Some("c-get")));
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let (status, answer) = app.send("GET", &caseworker, &format!("/v1/complaints/{id}?as_of={now}"), None, "c-as-of").await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.contains(NAME), "{answer}");
        expected.push(read("case-officer", Role::Caseworker, "complaint_as_of", Some("c-as-of")));
        // Before the complaint existed there is nothing to read, and nothing is recorded.
        let (status, _) = app.send("GET", &caseworker, &format!("/v1/complaints/{id}?as_of=2020-01-01T00:00:00Z"), None, "c-too-early").await;
        assert_eq!(status, 404);
        let (status, answer) = app.send("GET", &caseworker, &format!("/v1/complaints/{id}/history"), None, "c-history").await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.contains(NAME), "{answer}");
        expected.push(read("case-officer", Role::Caseworker, "history", Some("c-history")));

        // The case page shows the timeline with every event as recorded.
        let session = app.sign_in("ui-reader", &[Role::Caseworker]).await;
        let (status, page) = app.send("GET", &session, &format!("/ui/complaints/{id}"), None, "c-ui").await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains(NAME), "the timeline shows the event as recorded");
        expected.push(read("ui-reader", Role::Caseworker, "ui:complaint", Some("c-ui")));
        expected.push(read("ui-reader", Role::Caseworker, "ui:history", Some("c-ui")));
        let today = complaints_gateway::london_date(chrono::Utc::now());
        let (status, page) = app.send("GET", &session, &format!("/ui/complaints/{id}?as_of={today}"), None, "c-ui-as-of").await;
        assert_eq!(status, 200, "{page}");
        expected.push(read("ui-reader", Role::Caseworker, "ui:complaint_as_of", Some("c-ui-as-of")));
        expected.push(read("ui-reader", Role::Caseworker, "ui:history", Some("c-ui-as-of")));

        // Subject access: the look-up names complaints only; the export is the read.
        let (status, found) = app.send("POST", &dpo, "/v1/data-subjects/lookup",
            Some(&json!({"person": {"name": NAME, "email": EMAIL}})), "c-lookup").await;
        assert_eq!(status, 200, "{found}");
        assert!(!found.contains(NAME), "{found}");
        let subject = serde_json::from_str::<Value>(&found).unwrap()["subject_id"].as_str().unwrap().to_string();
        let (status, export) = app.send("GET", &dpo, &format!("/v1/data-subjects/{subject}/export"), None, "c-sar").await;
        assert_eq!(status, 200, "{export}");
        assert!(export.contains(NAME), "{export}");
        expected.push(read("dp-officer", Role::DataProtection, "subject-access-export", None));

        // What carries no personal data is not a read of it: the case list, the deadlines and
        // the regulator's export (personal fields removed).
        for path in ["/v1/complaints", "/v1/deadlines"] {
            let (status, answer) = app.send("GET", &reporting, path, None, "c-list").await;
            assert_eq!(status, 200, "{path}: {answer}");
            assert!(!answer.contains(NAME), "{path}: {answer}");
        }
        let (status, export) = app.send("GET", &regulator,
            "/v1/exports/events?organisation=RAL&from=2000-01-01&to=2100-12-31", None, "c-export").await;
        assert_eq!(status, 200, "{export}");
        for secret in [NAME, EMAIL, DESCRIPTION] {
            assert!(!export.contains(secret), "{secret} in the export");
        }

        // The access log holds each read above with who read it, and nothing else.
        let (status, log) = app.send("GET", &auditor, &format!("/v1/audit/access-log?complaint_id={id}&limit=1000"), None, "c-log").await;
        assert_eq!(status, 200, "{log}");
        let log: Value = serde_json::from_str(&log).unwrap();
        let items = log["items"].as_array().unwrap();
        for item in items {
            assert_eq!(item["complaint_id"], id.as_str(), "{item}");
            assert_eq!(item["organisation_id"], "RAL", "{item}");
            let at = item["accessed_at"].as_str().unwrap();
            assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{item}");
        }
        let mut recorded: Vec<Read> = items
            .iter()
            .map(|i| {
                let text = |k: &str| i[k].as_str().unwrap().to_string();
                (text("actor"), text("role"), text("action"), i["correlation_id"].as_str().map(str::to_string))
            })
            .collect();
        recorded.sort();
        expected.sort();
        assert_eq!(recorded, expected);
    }
}

on_both_backends! {
    // R-RET-1: the retention run erases the people named only in case files past their
    // review date, keeps a person also named in a file still kept, leaves a file on legal
    // hold alone, changes no count, and is idempotent.
    async fn r_ret_1_the_retention_run_erases_only_people_whose_every_file_is_past_retention(backend: Backend) {
        let Some(app) = complaints_tests::spawn_app(backend).await else { return };
        let person = |name: &str, email: &str| json!({"name": name, "email": email});
        let receive = |received_on: &str, complainant: Value| {
            let mut body = complaints_tests::minimal_complaint("RAL", received_on);
            body["complainant"] = complainant;
            body
        };
        let mut ids = Vec::new();
        for (received_on, who) in [
            ("2014-01-02", person("Bob Old", "bob.old@example.org")),
            ("2014-02-03", person("Ann Both", "ann.both@example.org")),
            ("2014-03-03", person("Carol Hold", "carol.hold@example.org")),
            ("2026-04-02", person("Ann Both", "ann.both@example.org")),
        ] {
            let created = app.post_complaint(&receive(received_on, who)).await;
            assert_eq!(created.status, 201, "{}", created.body);
            ids.push(created.body["id"].as_str().unwrap().to_string());
        }
        for id in &ids[..3] {
            let closed = app.command(id, "closure", &json!({"closed_on": "2015-01-05", "reason": "withdrawn"})).await;
            assert_eq!(closed.status, 200, "{}", closed.body);
        }
        let held = app.command(&ids[2], "legal-hold", &json!({"placed_on": "2016-01-04", "ground": "litigation", "note": "Claim 123."})).await;
        assert_eq!(held.status, 200, "{}", held.body);
        let reporting = app.token_for(&["RAL"], &[Role::Reporting]);
        app.settle().await;
        let before = app.get_as(&reporting, "/v1/reports/annual?organisation=RAL&year=2013").await;
        assert_eq!(before.body["report"]["received"], 3, "{}", before.body);

        let cases = app.cases();
        let now = chrono::Utc::now();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let dry = complaints_gateway::app::scheduler::retention(&cases, now, today, None, true).await.unwrap();
        let past: Vec<&str> = dry.past_retention.iter().map(|c| c.complaint_id.as_str()).collect();
        assert_eq!(past.len(), 2, "{past:?}");
        assert!(past.contains(&ids[0].as_str()) && past.contains(&ids[1].as_str()));
        assert_eq!(dry.on_hold.len(), 1);
        assert_eq!(dry.on_hold[0].complaint_id, ids[2]);
        assert_eq!(dry.erased_subjects.len(), 1, "only Bob: Ann has a file still kept");
        assert_eq!(dry.kept_subjects.len(), 1);
        // A dry run erases nothing.
        let bob = app.get(&format!("/v1/complaints/{}", ids[0])).await;
        assert_eq!(bob.body["complainant"]["name"], "Bob Old");

        let done = complaints_gateway::app::scheduler::retention(&cases, now, today, None, false).await.unwrap();
        assert_eq!(done.erased_subjects, dry.erased_subjects);
        let bob = app.get(&format!("/v1/complaints/{}", ids[0])).await;
        assert!(bob.body["complainant"].to_string().contains("[erased]"), "{}", bob.body);
        assert!(!bob.body.to_string().contains("bob.old@example.org"), "{}", bob.body);
        for (i, name) in [(1, "Ann Both"), (2, "Carol Hold"), (3, "Ann Both")] {
            let kept = app.get(&format!("/v1/complaints/{}", ids[i])).await;
            assert_eq!(kept.body["complainant"]["name"], name, "{}", kept.body);
        }
        app.settle().await;
        let after = app.get_as(&reporting, "/v1/reports/annual?organisation=RAL&year=2013").await;
        assert_eq!(after.body["report"], before.body["report"]);
        // Run again: nothing left to erase.
        let again = complaints_gateway::app::scheduler::retention(&cases, now, today, None, false).await.unwrap();
        assert!(again.erased_subjects.is_empty(), "{:?}", again.erased_subjects);
        let bob_again = app.get(&format!("/v1/complaints/{}", ids[0])).await;
        assert_eq!(bob_again.body["complainant"], bob.body["complainant"]);
    }
}

on_both_backends! {
    // R-DP-1: erasure destroys what was held then; a person who complains again afterwards
    // is recorded under a new key (the next generation of their data subject), readable,
    // while their old complaint stays erased whatever is done on it later.
    async fn r_dp_1_a_person_who_complains_again_after_erasure_is_recorded_under_a_new_key(backend: Backend) {
        let Some(app) = complaints_tests::spawn_app(backend).await else { return };
        let dpo = app.token_for(&["RAL"], &[Role::DataProtection]);
        const NAME: &str = "Ann Again";
        const EMAIL: &str = "ann.again@example.org";
        const OLD: &str = "Ann's first account of the ward";
        const NEW: &str = "Ann's new account of the clinic";
        let complaint = |description: &str| {
            let mut body = complaints_tests::minimal_complaint("RAL", "2025-05-06");
            body["complainant"] = json!({"name": NAME, "email": EMAIL});
            body["description"] = json!(description);
            body
        };
        let as_dpo = format!("Bearer {dpo}");
        let as_dpo = [("authorization", as_dpo.as_str())];
        let lookup = || async {
            app.post("/v1/data-subjects/lookup", &json!({"person": {"name": NAME, "email": EMAIL}}), &as_dpo).await
        };

        let created = app.post_complaint(&complaint(OLD)).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let old = created.body["id"].as_str().unwrap().to_string();
        let found = lookup().await;
        assert_eq!(found.status, 200, "{}", found.body);
        assert_eq!(found.body["generation"], 1, "{}", found.body);
        assert_eq!(found.body["earlier_subjects"], json!([]));
        let first = found.body["subject_id"].as_str().unwrap().to_string();

        let erased = app.post(&format!("/v1/data-subjects/{first}/erasure"),
            &json!({"reason": "erasure request upheld", "legal_basis": "UK GDPR Art 17(1)(a)"}), &as_dpo).await;
        assert_eq!(erased.status, 200, "{}", erased.body);
        assert_eq!(erased.body["outcome"], "erased");

        // Ann complains again: the new complaint is stored and reads back in clear.
        let created = app.post_complaint(&complaint(NEW)).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(created.body["complainant"]["name"], NAME, "{}", created.body);
        let new = created.body["id"].as_str().unwrap().to_string();
        let shown = app.get(&format!("/v1/complaints/{new}")).await;
        assert_eq!(shown.status, 200, "{}", shown.body);
        assert_eq!(shown.body["complainant"]["name"], NAME, "{}", shown.body);
        assert_eq!(shown.body["complainant"]["email"], EMAIL, "{}", shown.body);
        assert_eq!(shown.body["description"], NEW, "{}", shown.body);

        // The old complaint stays erased, and a command on it does not bring Ann back.
        let shown = app.get(&format!("/v1/complaints/{old}")).await;
        assert_eq!(shown.body["complainant"]["name"], "[erased]", "{}", shown.body);
        assert_eq!(shown.body["description"], "[erased]", "{}", shown.body);
        let contact = json!({"contacted_on": "2025-05-08", "method": "phone",
                             "summary": format!("Rang {NAME} at {EMAIL}")});
        let done = app.command(&old, "progress-contact", &contact).await;
        assert_eq!(done.status, 200, "{}", done.body);
        for path in [format!("/v1/complaints/{old}"), format!("/v1/complaints/{old}/history")] {
            let shown = app.get(&path).await;
            assert_eq!(shown.status, 200, "{path}: {}", shown.body);
            let text = shown.body.to_string();
            for secret in [NAME, EMAIL, OLD] {
                assert!(!text.contains(secret), "{secret} back on the old complaint: {text}");
            }
        }
        let old_events = complaints_eventlog::read_stream(&app.db.raw_pool().await, &old).await.unwrap();
        assert!(!format!("{old_events:?}").contains(NAME));

        // The look-up finds Ann's new subject and names the erased earlier one.
        let found = lookup().await;
        assert_eq!(found.status, 200, "{}", found.body);
        let second = found.body["subject_id"].as_str().unwrap().to_string();
        assert_ne!(second, first);
        assert_eq!(found.body["generation"], 2, "{}", found.body);
        assert!(found.body["key"]["erased_at"].is_null(), "{}", found.body);
        let complaints: Vec<&str> = found.body["complaints"].as_array().unwrap().iter()
            .map(|c| c["complaint_id"].as_str().unwrap()).collect();
        assert_eq!(complaints, [new.as_str()]);
        let earlier = found.body["earlier_subjects"].as_array().unwrap();
        assert_eq!(earlier.len(), 1, "{}", found.body);
        assert_eq!(earlier[0]["subject_id"], first.as_str());
        assert_eq!(earlier[0]["generation"], 1);
        assert_eq!(earlier[0]["key"]["legal_basis"], "UK GDPR Art 17(1)(a)");
        assert_eq!(earlier[0]["complaints"][0]["complaint_id"], old.as_str());

        // Subject access covers the generation not erased, from either id.
        for subject in [&second, &first] {
            let export = app.get_as(&dpo, &format!("/v1/data-subjects/{subject}/export")).await;
            assert_eq!(export.status, 200, "{}", export.body);
            let text = export.body.to_string();
            assert!(text.contains(NEW) && text.contains(EMAIL), "{text}");
            assert!(!text.contains(OLD), "{text}");
            assert_eq!(export.body["generations"].as_array().unwrap().len(), 2, "{text}");
        }

        // Nothing stored changed under the chain.
        let report = complaints_audit::verify(&app.db.raw_pool().await, &[], None, &|_, _| {}).await;
        assert!(report.is_ok(), "{report:?}");
    }
}
