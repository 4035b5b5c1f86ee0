//! Tamper evidence end to end: the sealer's chain verifies on an untouched log and names
//! the position of any single altered, deleted or reordered event (changed directly in SQL
//! after lifting the append-only guard); signed checkpoints catch a log rewritten together
//! with its links; history carries the links and its reads are recorded; exports carry no
//! personal data and verify on their own; the annual report renders as a document.
#![allow(clippy::unwrap_used)]

use complaints_audit::sealer::{self, Sealer};
use complaints_audit::{AuditError, SignedCheckpoint, VerifyReport};
use complaints_eventlog::on_pool;
use complaints_eventlog::Pool;
use complaints_gateway::Role;
use complaints_tests::{on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

/// Personal data a seeded complaint carries; none of it may leave in an export.
const SECRETS: &[&str] = &[
    "Zebedee Quixote-Personal",
    "zebedee.quixote@example.org",
    "07700 900123",
    "12 Secret Lane, Leeds",
    "943 476 5919",
    "1948-02-29",
    "my private account of the ward",
    "awaiting the patient's records",
    "letter-how-considered-private",
    "letter-conclusions-private",
    "letter-actions-private",
    "unhappy with the answer, privately",
];

fn seeded_complaint(reference: &str) -> Value {
    json!({
        "organisation_id": "RAL", "received_on": "2026-04-02", "channel": "email",
        "subject_areas": ["communications"], "description": SECRETS[6],
        "complainant": {
            "name": SECRETS[0], "email": SECRETS[1], "phone": SECRETS[2],
            "address": SECRETS[3], "identifier": SECRETS[4], "date_of_birth": SECRETS[5]
        },
        "source": {"system": "pals-desk", "reference": reference}
    })
}

/// Drives two complaints through several commands; returns their ids.
async fn seed(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..2 {
        let reply = app
            .post_complaint(&seeded_complaint(&format!("PALS-{n}")))
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        ids.push(reply.body["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        for (sub, body) in [
            ("acknowledgement", json!({"acknowledged_on": "2026-04-07"})),
            (
                "clock-stops",
                json!({"stopped_on": "2026-04-10", "reason": SECRETS[7]}),
            ),
            ("clock-restarts", json!({"restarted_on": "2026-04-14"})),
            (
                "response",
                json!({"sent_on": "2026-04-28", "outcome": "partially_upheld", "signed_by": "ceo-001",
                       "signed_as": "responsible_person", "ombudsman_rights": ["phso"],
                       "letter": {"how_considered": SECRETS[8], "conclusions": SECRETS[9], "actions": SECRETS[10]}}),
            ),
            (
                "escalation",
                json!({"escalated_on": "2026-05-01", "reason": SECRETS[11]}),
            ),
            (
                "learning",
                json!({"recorded_on": "2026-05-02", "kind": "lesson", "summary": "Copy <b>discharge</b> letters to the GP"}),
            ),
        ] {
            let reply = app.command(id, sub, &body).await;
            assert_eq!(reply.status, 200, "{sub}: {:?}", reply.body);
        }
    }
    app.settle().await;
    ids
}

/// SHA-1 (FIPS 180-4), only to recompute name-based UUIDs (version 5) as an outsider would.
fn sha1(message: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut padded = message.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&((message.len() as u64) * 8).to_be_bytes());
    for block in padded.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*word);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, t);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

/// A name-based UUID (RFC 9562 version 5).
fn uuid_v5(namespace: uuid::Uuid, name: &str) -> uuid::Uuid {
    let mut input = namespace.as_bytes().to_vec();
    input.extend_from_slice(name.as_bytes());
    let digest = sha1(&input);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes)
}

#[test]
fn sha1_and_uuid_v5_match_the_published_vectors() {
    let hex: String = sha1(b"abc").iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    // RFC 9562 appendix A.4.
    let dns = uuid::Uuid::from_u128(0x6ba7_b810_9dad_11d1_80b4_00c0_4fd4_30c8);
    assert_eq!(
        uuid_v5(dns, "www.example.com").to_string(),
        "2ed6657d-e927-568b-95e1-2665a8aea6a2"
    );
}

async fn verify(app: &TestApp, against: &[SignedCheckpoint]) -> Result<VerifyReport, AuditError> {
    let pool = app.db.raw_pool().await;
    complaints_audit::verify(&pool, against, None, &|_, _| {}).await
}

async fn positions(pool: &Pool) -> Vec<i64> {
    on_pool!(pool, |p| sqlx::query_scalar(
        "SELECT global_position FROM events ORDER BY global_position"
    )
    .fetch_all(p)
    .await
    .unwrap())
}

/// Lifts the append-only guard, as an attacker with database access would.
async fn lift_guard(pool: &Pool) {
    match pool {
        Pool::Postgres(p) => {
            sqlx::query("ALTER TABLE events DISABLE TRIGGER events_append_only")
                .execute(p)
                .await
                .unwrap();
        }
        Pool::Sqlite(p) => {
            for trigger in ["event_log_no_update", "event_log_no_delete"] {
                sqlx::query(&format!("DROP TRIGGER {trigger}"))
                    .execute(p)
                    .await
                    .unwrap();
            }
        }
    }
}

async fn alter_payload(pool: &Pool, position: i64) {
    let table = match pool {
        Pool::Postgres(_) => "events",
        Pool::Sqlite(_) => "event_log",
    };
    let payload: String = on_pool!(pool, |p| sqlx::query_scalar(&format!(
        "SELECT CAST(payload AS TEXT) FROM {table} WHERE global_position = $1"
    ))
    .bind(position)
    .fetch_one(p)
    .await
    .unwrap());
    let altered = payload.replace("2026-04-07", "2026-04-03");
    assert_ne!(altered, payload, "the chosen event must carry the date");
    let sql = match pool {
        Pool::Postgres(_) => "UPDATE events SET payload = $1::json WHERE global_position = $2",
        Pool::Sqlite(_) => "UPDATE event_log SET payload = $1 WHERE global_position = $2",
    };
    let changed = on_pool!(pool, |p| sqlx::query(sql)
        .bind(&altered)
        .bind(position)
        .execute(p)
        .await
        .unwrap()
        .rows_affected());
    assert_eq!(changed, 1);
}

/// Every break verify reported, as (kind, position, detail), and whether more were cut.
fn breaks_of(result: Result<VerifyReport, AuditError>) -> (Vec<(&'static str, i64, String)>, bool) {
    match result {
        Err(AuditError::ChainBroken { breaks, truncated }) => (
            breaks
                .into_iter()
                .map(|b| (b.kind.name(), b.position, b.detail))
                .collect(),
            truncated,
        ),
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

/// The one break a single change makes: verify must name it and nothing else.
fn broken_at(result: Result<VerifyReport, AuditError>) -> (&'static str, i64, String) {
    let (mut breaks, truncated) = breaks_of(result);
    assert!(!truncated);
    assert_eq!(breaks.len(), 1, "one change, one break: {breaks:#?}");
    breaks.remove(0)
}

async fn acknowledgement_position(pool: &Pool, complaint: &str) -> i64 {
    on_pool!(pool, |p| {
        sqlx::query_scalar(
        "SELECT global_position FROM events WHERE aggregate_id = $1 AND event_type = 'ComplaintAcknowledged'"
    )
    .bind(complaint)
    .fetch_one(p)
    .await
    .unwrap()
    })
}

async fn head_checkpoint(app: &TestApp) -> (Value, SignedCheckpoint) {
    let token = app.token_for(&["RAL"], &[Role::Auditor]);
    let head = app.get_as(&token, "/v1/audit/head").await;
    assert_eq!(head.status, 200, "{:?}", head.body);
    let checkpoint: SignedCheckpoint =
        serde_json::from_value(head.body["checkpoint"].clone()).unwrap();
    checkpoint.verify().unwrap();
    (head.body, checkpoint)
}

/// TRUNCATE fires no row triggers, so each append-only table needs its own statement guard.
/// The tables are found, not listed: every table guarded against DELETE must refuse it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_refuses_truncate_on_every_append_only_table() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let ids = seed(&app).await;
    head_checkpoint(&app).await;
    let auditor = app.token_for(&["RAL"], &[Role::Auditor]);
    let history = app
        .get_as(&auditor, &format!("/v1/complaints/{}/history", ids[0]))
        .await;
    assert_eq!(history.status, 200);
    let Pool::Postgres(pool) = app.db.raw_pool().await else {
        unreachable!()
    };
    let mut guarded: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT event_object_table::text FROM information_schema.triggers
         WHERE event_object_schema = current_schema() AND event_manipulation = 'DELETE'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    guarded.sort();
    assert_eq!(
        guarded,
        [
            "audit_accepted_breaks",
            "audit_access_log",
            "audit_checkpoints",
            "events",
            "ko41_submissions",
            "organisation_changes"
        ]
    );
    sqlx::query(
        "INSERT INTO ko41_submissions (organisation, collection, period, submitted_at, submitted_by, figures)
         VALUES ('RAL', 'KO41', 2025, '2026-05-01T00:00:00Z', 'ops', '{}')",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO audit_accepted_breaks (accepted_at, accepted_by, reason, breaks)
         VALUES ('2026-01-01T00:00:00Z', 'ops', 'test', 'none')",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO organisation_changes (organisation_id, change, changed_by)
         VALUES ('RAL', '{}', 'ops')",
    )
    .execute(&pool)
    .await
    .unwrap();

    for table in &guarded {
        let count = format!("SELECT count(*) FROM {table}");
        let before: i64 = sqlx::query_scalar(&count).fetch_one(&pool).await.unwrap();
        assert!(
            before > 0,
            "{table} should hold rows for the test to mean anything"
        );
        for sql in [
            format!("TRUNCATE {table}"),
            format!("TRUNCATE {table} CASCADE"),
        ] {
            let err = sqlx::query(&sql)
                .execute(&pool)
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains("append-only"), "{sql}: {err}");
        }
        let after: i64 = sqlx::query_scalar(&count).fetch_one(&pool).await.unwrap();
        assert_eq!(after, before, "{table}");
    }
    let all = format!("TRUNCATE {}", guarded.join(", "));
    assert!(sqlx::query(&all).execute(&pool).await.is_err(), "{all}");
}

on_both_backends! {
    async fn an_untouched_log_verifies_to_the_signed_head(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        seed(&app).await;
        let events = app.event_count().await;

        let (head, checkpoint) = head_checkpoint(&app).await;
        let report = verify(&app, std::slice::from_ref(&checkpoint)).await.unwrap();

        assert_eq!(report.verified.sealed as i64, events);
        assert_eq!(report.verified.unsealed, 0);
        assert_eq!(report.verified.anchors_matched, 1);
        let (index, position, link) = report.verified.head.clone().unwrap();
        assert_eq!(index, events);
        assert_eq!(head["chain_index"], index);
        assert_eq!(head["position"], position);
        assert_eq!(head["link"], link.as_str());
        assert_eq!(checkpoint.public_key, app.audit_keys.public_key_hex());
        // Asking again hands out the same recorded checkpoint.
        let (_, again) = head_checkpoint(&app).await;
        assert_eq!(again, checkpoint);
        assert!(report.to_string().contains(&format!("head at chain index {events}")));
    }

    async fn altering_one_event_in_sql_is_named_at_its_position(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let ids = seed(&app).await;
        let pool = app.db.raw_pool().await;
        let target = acknowledgement_position(&pool, &ids[1]).await;

        lift_guard(&pool).await;
        alter_payload(&pool, target).await;

        let (kind, position, detail) = broken_at(verify(&app, &[]).await);
        assert_eq!((kind, position), ("event altered", target), "{detail}");
    }

    async fn deleting_one_event_in_sql_is_named_at_its_position(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let ids = seed(&app).await;
        let pool = app.db.raw_pool().await;
        let target = acknowledgement_position(&pool, &ids[0]).await;

        lift_guard(&pool).await;
        match &pool {
            Pool::Postgres(p) => sqlx::query("DELETE FROM events WHERE global_position = $1").bind(target).execute(p).await.unwrap().rows_affected(),
            Pool::Sqlite(p) => sqlx::query("DELETE FROM event_log WHERE global_position = $1").bind(target).execute(p).await.unwrap().rows_affected(),
        };

        let (kind, position, detail) = broken_at(verify(&app, &[]).await);
        assert_eq!((kind, position), ("event removed", target), "{detail}");
    }

    async fn deleting_two_events_in_sql_names_both_positions(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let ids = seed(&app).await;
        let pool = app.db.raw_pool().await;
        let first = acknowledgement_position(&pool, &ids[0]).await;
        let second = acknowledgement_position(&pool, &ids[1]).await;
        let last = *positions(&pool).await.last().unwrap();
        assert!(first < second && second < last);

        lift_guard(&pool).await;
        for target in [first, second] {
            match &pool {
                Pool::Postgres(p) => sqlx::query("DELETE FROM events WHERE global_position = $1").bind(target).execute(p).await.unwrap().rows_affected(),
                Pool::Sqlite(p) => sqlx::query("DELETE FROM event_log WHERE global_position = $1").bind(target).execute(p).await.unwrap().rows_affected(),
            };
        }

        let error = verify(&app, &[]).await.unwrap_err();
        let reported = error.to_string();
        let (breaks, truncated) = match &error {
            AuditError::ChainBroken { breaks, truncated } => (
                breaks.iter().map(|b| (b.kind.name(), b.position, b.detail.clone())).collect::<Vec<_>>(),
                *truncated,
            ),
            other => panic!("expected a broken chain, got {other:?}"),
        };
        // What `complaints verify` prints.
        let printed = complaints_gateway::ApiError::from(error).to_string();
        assert_eq!(printed, reported);
        let found: Vec<(&str, i64)> = breaks.iter().map(|(kind, position, _)| (*kind, *position)).collect();
        assert_eq!(found, [("event removed", first), ("event removed", second)], "{breaks:#?}");
        assert!(!truncated);
        assert!(printed.contains("broken in 2 place(s)"), "{printed}");
        for position in [first, second] {
            assert!(printed.contains(&format!("position {position}: event removed")), "{printed}");
        }
    }

    async fn deleting_the_last_event_in_sql_is_named_at_its_position(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        seed(&app).await;
        let pool = app.db.raw_pool().await;
        let last = *positions(&pool).await.last().unwrap();

        lift_guard(&pool).await;
        match &pool {
            Pool::Postgres(p) => sqlx::query("DELETE FROM events WHERE global_position = $1").bind(last).execute(p).await.unwrap().rows_affected(),
            Pool::Sqlite(p) => sqlx::query("DELETE FROM event_log WHERE global_position = $1").bind(last).execute(p).await.unwrap().rows_affected(),
        };

        let (kind, position, detail) = broken_at(verify(&app, &[]).await);
        assert_eq!((kind, position), ("event removed", last), "{detail}");
    }

    async fn reordering_two_events_in_sql_is_named_at_the_first_position(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let ids = seed(&app).await;
        let pool = app.db.raw_pool().await;
        // Two events of different complaints written by different commands.
        let first = acknowledgement_position(&pool, &ids[0]).await;
        let second = acknowledgement_position(&pool, &ids[1]).await;
        assert!(first < second);

        lift_guard(&pool).await;
        match &pool {
            // Commit order is (transaction_id, global_position): swap the transactions.
            Pool::Postgres(p) => {
                sqlx::query(
                    "UPDATE events SET transaction_id = CASE WHEN global_position = $1
                        THEN (SELECT transaction_id FROM events WHERE global_position = $2)
                        ELSE (SELECT transaction_id FROM events WHERE global_position = $3) END
                     WHERE global_position IN ($4, $5)",
                )
                .bind(first).bind(second).bind(first).bind(first).bind(second)
                .execute(p).await.unwrap();
            }
            // Order is the position: swap the positions.
            Pool::Sqlite(p) => {
                for (from, to) in [(first, -1), (second, first), (-1, second)] {
                    sqlx::query("UPDATE event_log SET global_position = $1 WHERE global_position = $2")
                        .bind(to).bind(from).execute(p).await.unwrap();
                }
            }
        }

        let (kind, position, detail) = broken_at(verify(&app, &[]).await);
        assert_eq!((kind, position), ("events reordered", first), "{detail}");
    }

    async fn a_log_rewritten_with_recomputed_links_is_caught_by_a_recorded_checkpoint(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let ids = seed(&app).await;
        let (_, checkpoint) = head_checkpoint(&app).await;
        let pool = app.db.raw_pool().await;
        let target = acknowledgement_position(&pool, &ids[0]).await;

        lift_guard(&pool).await;
        alter_payload(&pool, target).await;
        // The attacker recomputes the stored chain over the altered log. The service's own
        // sealer keeps running, so on SQLite a rebuild can meet its write lock: retry.
        let mut attempts = 0;
        while let Err(error) = complaints_eventlog::rebuild(&pool, &Sealer, &|_, _| {}).await {
            attempts += 1;
            assert!(attempts < 10, "the sealer rebuild kept failing: {error}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }

        assert!(verify(&app, &[]).await.is_ok(), "the stored links were recomputed");
        let (kind, position, detail) = broken_at(verify(&app, std::slice::from_ref(&checkpoint)).await);
        assert_eq!((kind, position), ("checkpoint mismatch", checkpoint.position), "{detail}");
    }

    async fn history_carries_chain_links_and_auditors_reads_are_recorded(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let ids = seed(&app).await;
        let auditor = app.token_for(&["RAL"], &[Role::Auditor]);

        let history = app.get_as(&auditor, &format!("/v1/complaints/{}/history", ids[0])).await;

        assert_eq!(history.status, 200);
        let events = history.body["events"].as_array().unwrap();
        let links = sealer::links_of_complaint(&app.db.raw_pool().await, &ids[0]).await.unwrap();
        assert_eq!(events.len(), links.len());
        for (event, link) in events.iter().zip(&links) {
            assert_eq!(event["seal"]["chain_index"], link.chain_index);
            assert_eq!(event["seal"]["link"], link.link_hash.as_str());
            assert_eq!(event["seal"]["leaf"], link.leaf_hash.as_str());
            assert_eq!(event["position"], link.position);
        }
        let log = app.get_as(&auditor, &format!("/v1/audit/access-log?complaint_id={}", ids[0])).await;
        assert_eq!(log.status, 200, "{:?}", log.body);
        let items = log.body["items"].as_array().unwrap();
        // Newest first: the history read, after the answers to the seed's receive and six
        // commands, which carry the complaint and are reads too (R-CAL-1).
        assert_eq!(items.len(), 8, "{items:?}");
        assert!(items[1..].iter().all(|i| i["action"].as_str().unwrap().starts_with("command_answer:")), "{items:?}");
        assert_eq!(items[0]["actor"], "test-user");
        assert_eq!(items[0]["role"], "auditor");
        assert_eq!(items[0]["action"], "history");
        assert_eq!(items[0]["complaint_id"], ids[0].as_str());
        // Only auditors read the access log; another organisation's auditor sees nothing of it.
        let caseworker = app.token_for(&["RAL"], &[Role::Caseworker]);
        assert_eq!(app.get_as(&caseworker, "/v1/audit/access-log").await.status, 403);
        let elsewhere = app.token_for(&["OTHER"], &[Role::Auditor]);
        let theirs = app.get_as(&elsewhere, "/v1/audit/access-log").await;
        assert_eq!(theirs.body["items"].as_array().unwrap().len(), 0);
    }

    async fn an_export_has_no_personal_data_and_verifies_on_its_own(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let ids = seed(&app).await;
        let regulator = app.token_for(&["RAL"], &[Role::Regulator]);
        let path = "/v1/exports/events?organisation=RAL&from=2000-01-01&to=2100-12-31&recipient=cqc";

        let (status, content_type, body) = app.get_bytes_as(&regulator, path).await;

        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(content_type, "application/x-ndjson");
        let text = String::from_utf8(body.clone()).unwrap();
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} leaked into the export");
        }
        for id in &ids {
            assert!(!text.contains(id.as_str()), "the real complaint id leaked");
        }
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let (manifest, events) = lines.split_last().unwrap();
        assert_eq!(events.len() as i64, app.event_count().await);
        let pseudonym = app.audit_keys.pseudonym("cqc", &ids[0]);
        let first = &events[0];
        assert_eq!(first["specversion"], "1.0");
        assert_eq!(first["type"], "uk.nhs.complaints.ComplaintReceived.v2.0");
        assert_eq!(first["subject"], pseudonym.as_str());
        assert_eq!(first["id"], format!("{pseudonym}:1"));
        assert_eq!(first["data"]["received_on"], "2026-04-02");
        assert!(first["data"].get("particulars").is_none());
        assert!(first.get("chainlink").is_some());
        assert_eq!(manifest["count"], events.len());

        let check = complaints_audit::export::verify_export(
            body.as_slice(),
            Some(&app.audit_keys.public_key_hex()),
        )
        .unwrap();
        assert_eq!(check.count as usize, events.len());
        let mut flipped = body.clone();
        flipped[body.len() / 3] ^= 0x20;
        assert!(complaints_audit::export::verify_export(flipped.as_slice(), None).is_err());

        // Pseudonyms differ per recipient; other organisations and roles are refused.
        let (_, _, other) = app
            .get_bytes_as(&regulator, "/v1/exports/events?organisation=RAL&from=2000-01-01&to=2100-12-31&recipient=phso")
            .await;
        assert!(!String::from_utf8(other).unwrap().contains(&pseudonym));
        let wrong_org = "/v1/exports/events?organisation=OTHER&from=2000-01-01&to=2100-12-31";
        assert_eq!(app.get_bytes_as(&regulator, wrong_org).await.0, 403);
        let auditor = app.token_for(&["RAL"], &[Role::Auditor]);
        assert_eq!(app.get_bytes_as(&auditor, path).await.0, 403);
    }

    async fn an_export_carries_no_source_reference_and_no_recomputable_complaint_id(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let ids = seed(&app).await;
        let regulator = app.token_for(&["RAL"], &[Role::Regulator]);
        let path = "/v1/exports/events?organisation=RAL&from=2000-01-01&to=2100-12-31&recipient=cqc";

        let (status, _, body) = app.get_bytes_as(&regulator, path).await;

        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let text = String::from_utf8(body).unwrap();
        let references = ["PALS-0", "PALS-1"];
        for line in text.lines() {
            for needle in references.iter().chain(&["pals-desk"]) {
                assert!(!line.contains(needle), "{needle} leaked into the export: {line}");
            }
            let event: Value = serde_json::from_str(line).unwrap();
            assert!(event["data"].get("source").is_none(), "{line}");
        }

        // What a recipient could try: the name-based derivation this code once used (its
        // namespace is in the history), the RFC namespaces and the nil one, over the
        // separators anyone would guess; the keyed derivation under keys that are not
        // secret; and the pseudonyms the export hands out.
        let namespaces = [
            uuid::Uuid::from_u128(0x6d1c_52a4_0b7e_4f8e_9a51_3c2f_9e47_d0a1),
            uuid::Uuid::from_u128(0x6ba7_b810_9dad_11d1_80b4_00c0_4fd4_30c8),
            uuid::Uuid::from_u128(0x6ba7_b811_9dad_11d1_80b4_00c0_4fd4_30c8),
            uuid::Uuid::from_u128(0x6ba7_b812_9dad_11d1_80b4_00c0_4fd4_30c8),
            uuid::Uuid::from_u128(0x6ba7_b814_9dad_11d1_80b4_00c0_4fd4_30c8),
            uuid::Uuid::nil(),
        ];
        let guessable_keys: [Vec<u8>; 3] = [vec![], vec![0u8; 32], b"RAL".to_vec()];
        let mut candidates = Vec::new();
        for reference in references {
            for separator in ["\u{1f}", ":", "/", "|", "-", ""] {
                let names = [
                    format!("RAL{separator}pals-desk{separator}{reference}"),
                    format!("pals-desk{separator}{reference}"),
                    reference.to_string(),
                ];
                for name in &names {
                    for namespace in namespaces {
                        candidates.push(uuid_v5(namespace, name).to_string());
                    }
                }
            }
            for key in &guessable_keys {
                let cases = complaints_gateway::Cases::new(
                    app.db.event_log().await,
                    complaints_domain::ComplaintServices::standard(),
                )
                .with_id_key(key.clone());
                candidates.push(cases.complaint_id_for_source("RAL", "pals-desk", reference).to_string());
            }
        }
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        for event in &lines[..lines.len() - 1] {
            candidates.push(event["subject"].as_str().unwrap().to_string());
        }
        assert!(candidates.len() > 200, "{} candidates", candidates.len());
        for id in &ids {
            assert!(!candidates.contains(id), "{id} was recomputed from the export");
            assert!(!text.contains(id.as_str()), "{id} leaked into the export");
        }
    }

    async fn the_annual_report_renders_as_markdown_html_and_csv(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        seed(&app).await;
        let reader = app.token_for(&["RAL"], &[Role::Reporting]);
        let base = "/v1/reports/annual/document?organisation=RAL&year=2026";

        let (status, content_type, markdown) = app.get_bytes_as(&reader, base).await;
        let markdown = String::from_utf8(markdown).unwrap();
        assert_eq!(status, 200, "{markdown}");
        assert!(content_type.starts_with("text/markdown"));
        assert!(markdown.contains("| Complaints received (reg. 18(2)(a)) | 2 |"), "{markdown}");
        assert!(markdown.contains("| Complaints decided to be well founded (reg. 18(2)(b)) | 2 |"));
        assert!(markdown.contains("| Communications | 2 |"));

        let (_, content_type, html) = app.get_bytes_as(&reader, &format!("{base}&format=html")).await;
        let html = String::from_utf8(html).unwrap();
        assert!(content_type.starts_with("text/html"));
        assert!(html.contains("Copy &lt;b&gt;discharge&lt;/b&gt; letters to the GP"), "{html}");
        assert!(!html.contains("<b>discharge"));

        let (_, content_type, csv) = app.get_bytes_as(&reader, &format!("{base}&format=csv")).await;
        let csv = String::from_utf8(csv).unwrap();
        assert!(content_type.starts_with("text/csv"));
        assert!(csv.contains("figure,received,2\r\n"), "{csv}");
        assert!(csv.contains("subject_area,communications,2\r\n"));

        let bad = app.get_bytes_as(&reader, &format!("{base}&format=pdf")).await;
        assert_eq!(bad.0, 400);
    }
}

/// Lifts the guard on the checkpoint table too and wipes it, as an attacker who holds the
/// database would before re-sealing a changed log.
async fn wipe_checkpoints(pool: &Pool) {
    match pool {
        Pool::Postgres(p) => {
            for sql in [
                "ALTER TABLE audit_checkpoints DISABLE TRIGGER ALL",
                "DELETE FROM audit_checkpoints",
            ] {
                sqlx::query(sql).execute(p).await.unwrap();
            }
        }
        Pool::Sqlite(p) => {
            for sql in [
                "DROP TRIGGER audit_checkpoints_no_delete",
                "DELETE FROM audit_checkpoints",
            ] {
                sqlx::query(sql).execute(p).await.unwrap();
            }
        }
    }
}

on_both_backends! {
    async fn a_rewritten_log_is_neither_re_sealed_nor_re_signed_without_an_accepted_break(backend: Backend) {
        use complaints_gateway::app::consumers::{self, ChainGuard};
        let Some(app) = spawn_app(backend).await else { return };
        let ids = seed(&app).await;
        let pool = app.db.raw_pool().await;
        let witness_dir = app.db.dir.path().join("witness");
        let witnesses = complaints_audit::Witnesses::with_directory(&witness_dir);
        let signed = complaints_audit::checkpoint_head(&pool, &app.audit_keys, &witnesses, chrono::Utc::now())
            .await
            .unwrap();
        assert!(signed.chain_index > 0);
        assert_eq!(
            complaints_audit::DirectoryWitness::new(&witness_dir).checkpoints().unwrap(),
            vec![signed.clone()],
            "the signed checkpoint is kept outside the database"
        );

        // The attack: remove an event, wipe the checkpoints in the database, re-seal.
        let removed = acknowledgement_position(&pool, &ids[0]).await;
        lift_guard(&pool).await;
        match &pool {
            Pool::Postgres(p) => sqlx::query("DELETE FROM events WHERE global_position = $1").bind(removed).execute(p).await.unwrap().rows_affected(),
            Pool::Sqlite(p) => sqlx::query("DELETE FROM event_log WHERE global_position = $1").bind(removed).execute(p).await.unwrap().rows_affected(),
        };
        wipe_checkpoints(&pool).await;
        let services = app.cases().services().clone();
        let guard = ChainGuard { witnesses: witnesses.clone(), accept_break: None };
        let refused = consumers::rebuild(&pool, &services, Some("sealer"), &guard).await.unwrap_err();
        let said = refused.to_string();
        assert!(said.contains("refusing to rebuild the sealer"), "{said}");
        assert!(said.contains(&format!("position {removed}")), "names the removed event: {said}");

        // Re-sealing behind the guard's back still gets no signature.
        complaints_eventlog::rebuild(&pool, &Sealer, &|_, _| {}).await.unwrap();
        let unsigned = complaints_audit::checkpoint_head(&pool, &app.audit_keys, &witnesses, chrono::Utc::now())
            .await
            .unwrap_err();
        assert!(matches!(unsigned, AuditError::WitnessDisagrees { .. }), "{unsigned:?}");

        // An operator who knows why accepts the break: recorded, and signing resumes.
        let accept = ChainGuard {
            witnesses: witnesses.clone(),
            accept_break: Some(("ops-on-call".into(), "restored from the 02:00 backup".into())),
        };
        consumers::rebuild(&pool, &services, Some("sealer"), &accept).await.unwrap();
        let recorded: Vec<(String, String)> = on_pool!(&pool, |p| sqlx::query_as(
            "SELECT accepted_by, reason FROM audit_accepted_breaks"
        )
        .fetch_all(p)
        .await
        .unwrap());
        assert_eq!(recorded, [("ops-on-call".to_string(), "restored from the 02:00 backup".to_string())]);
        let accepted = complaints_audit::DirectoryWitness::new(&witness_dir).accepted_breaks().unwrap();
        assert_eq!(accepted.len(), 1);
        // The chain was re-sealed meanwhile, so what remains is the witnessed checkpoint the
        // log no longer leads to.
        assert!(accepted[0].breaks.contains("checkpoint"), "{}", accepted[0].breaks);
        let resigned = complaints_audit::checkpoint_head(&pool, &app.audit_keys, &witnesses, chrono::Utc::now())
            .await
            .unwrap();
        assert_eq!(resigned.chain_index, signed.chain_index - 1);
    }
}
