//! The HTTP API over a real socket, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use complaints_tests::{minimal_complaint, on_both_backends, spawn_app, Backend};
use serde_json::json;

on_both_backends! {
    async fn a_complaint_received_on_the_thursday_before_easter_is_due_acknowledgement_after_it(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };

        let created = app.post_complaint(&minimal_complaint("RAL", "2026-04-02")).await;

        assert_eq!(created.status, 201, "{:?}", created.body);
        assert_eq!(created.body["deadlines"]["acknowledge_by"], "2026-04-09");
        assert_eq!(created.body["status"], "received");
        assert_eq!(created.body["version"], 1);
        assert_eq!(created.etag.as_deref(), Some("\"1\""));
        let id = created.body["id"].as_str().unwrap().to_string();
        let fetched = app.get(&format!("/v1/complaints/{id}")).await;
        assert_eq!(fetched.status, 200);
        assert_eq!(fetched.body["deadlines"]["acknowledge_by"], "2026-04-09");
        assert_eq!(fetched.body["complainant"]["name"], "Ann Example");
        assert!(fetched.body["deadlines"]["calendar_version"].as_str().unwrap().contains("england-and-wales"));
    }

    async fn a_minimal_answer_holds_no_personal_data_and_is_no_recorded_read(backend: Backend) {
        // Frontline systems that only need where the complaint stands ask for a receipt
        // (RFC 7240): no personal data in it, so nothing for the access log to record.
        let Some(app) = spawn_app(backend).await else { return };
        let minimal = [("Prefer", "return=minimal")];
        let created = app.post("/v1/complaints", &minimal_complaint("RAL", "2026-04-02"), &minimal).await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        assert_eq!(created.body["deadlines"]["acknowledge_by"], "2026-04-09");
        assert_eq!(created.body["version"], 1);
        assert_eq!(created.etag.as_deref(), Some("\"1\""));
        let text = created.body.to_string();
        assert!(!text.contains("Ann Example") && !text.contains("complainant"), "{text}");
        let id = created.body["id"].as_str().unwrap().to_string();
        let acknowledged = app.post(&format!("/v1/complaints/{id}/acknowledgement"),
            &json!({"acknowledged_on": "2026-04-07"}), &[("Prefer", "respond-async, return=minimal")]).await;
        assert_eq!(acknowledged.status, 200, "{:?}", acknowledged.body);
        assert_eq!(acknowledged.body["version"], 2);
        assert!(!acknowledged.body.to_string().contains("Ann Example"));

        let path = format!("/v1/audit/access-log?complaint_id={id}&limit=1000");
        let reads = app.get(&path).await;
        assert_eq!(reads.status, 200, "{:?}", reads.body);
        assert_eq!(reads.body["items"].as_array().unwrap().len(), 0, "a minimal answer is no read");
        // Without the preference the answer is the complaint, and that read is recorded.
        let full = app.post(&format!("/v1/complaints/{id}/risk-assessment"),
            &json!({"assessed_on": "2026-04-07", "seriousness": "low", "likelihood": "rare"}), &[]).await;
        assert_eq!(full.status, 200, "{:?}", full.body);
        assert!(full.body.to_string().contains("Ann Example"), "{:?}", full.body);
        assert_eq!(app.get(&path).await.body["items"].as_array().unwrap().len(), 1);
    }

    async fn acknowledging_records_the_date_and_whether_it_was_late(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let id = app.post_complaint(&minimal_complaint("RAL", "2026-04-02")).await.body["id"]
            .as_str().unwrap().to_string();

        let acked = app.command(&id, "acknowledgement", &json!({"acknowledged_on": "2026-04-10"})).await;

        assert_eq!(acked.status, 200, "{:?}", acked.body);
        assert_eq!(acked.body["acknowledged_on"], "2026-04-10");
        assert_eq!(acked.body["acknowledged_late"], true);
        assert_eq!(acked.body["version"], 2);
        let status = acked.body["deadline_status"].as_array().unwrap();
        assert_eq!(status[0]["kind"], "acknowledgement");
        assert_eq!(status[0]["state"], "met_late");

        let again = app.command(&id, "acknowledgement", &json!({"acknowledged_on": "2026-04-10"})).await;
        assert_eq!(again.status, 422);
        assert_eq!(again.content_type, "application/problem+json");
        assert!(again.body["type"].as_str().unwrap().ends_with("/already-acknowledged"));
        assert_eq!(app.event_count().await, 2);
    }

    async fn bad_input_is_a_problem_and_stores_nothing(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let mut no_subjects = minimal_complaint("RAL", "2026-04-02");
        no_subjects["subject_areas"] = json!([]);
        let mut unknown_channel = minimal_complaint("RAL", "2026-04-02");
        unknown_channel["channel"] = json!("carrier pigeon");
        let mut unknown_field = minimal_complaint("RAL", "2026-04-02");
        unknown_field["nhs_number"] = json!("943 476 5919");
        let mut bad_date = minimal_complaint("RAL", "2026-04-02");
        bad_date["received_on"] = json!("02/04/2026");
        let mut future = minimal_complaint("RAL", "2026-04-02");
        future["received_on"] = json!("2999-01-01");
        let mut missing_name = minimal_complaint("RAL", "2026-04-02");
        missing_name["complainant"] = json!({});

        for (body, field) in [
            (no_subjects, "subject_areas"),
            (unknown_channel, "channel"),
            (unknown_field, ""),
            (bad_date, "received_on"),
            (future, "received_on"),
            (missing_name, "complainant"),
        ] {
            let reply = app.post_complaint(&body).await;
            assert_eq!(reply.status, 422, "{body}: {:?}", reply.body);
            assert_eq!(reply.content_type, "application/problem+json");
            assert_eq!(reply.body["status"], 422);
            assert!(reply.body["type"].as_str().unwrap().starts_with("https://"));
            if !field.is_empty() {
                let named = reply.body["errors"][0]["field"].as_str().unwrap_or_default();
                assert!(named.starts_with(field), "expected {field}, got {named}");
            }
        }

        let malformed = app.post_raw("/v1/complaints", "application/json", b"{\"organisation_id\":".to_vec()).await;
        assert_eq!(malformed.status, 400);
        assert_eq!(malformed.content_type, "application/problem+json");
        let not_json = app.post_raw("/v1/complaints", "text/plain", b"hello".to_vec()).await;
        assert_eq!(not_json.status, 415);
        let huge = app.post_raw("/v1/complaints", "application/json", vec![b' '; 200 * 1024]).await;
        assert_eq!(huge.status, 413);

        assert_eq!(app.event_count().await, 0);
    }

    async fn a_nul_character_in_free_text_is_refused_naming_the_field_on_both_backends(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        for (field, set) in [
            ("description", &(|b: &mut serde_json::Value| b["description"] = json!("before\u{0}after")) as &dyn Fn(&mut serde_json::Value)),
            ("complainant.name", &|b: &mut serde_json::Value| b["complainant"]["name"] = json!("Ann\u{0}")),
            ("source.reference", &|b: &mut serde_json::Value| b["source"] = json!({"system": "pals-desk", "reference": "\u{0}"})),
        ] {
            let mut body = minimal_complaint("RAL", "2026-04-02");
            set(&mut body);
            assert!(serde_json::to_string(&body).unwrap().contains("\\u0000"));

            let reply = app.post_complaint(&body).await;

            assert_eq!(reply.status, 422, "{field}: {:?}", reply.body);
            assert!(reply.content_type.starts_with("application/problem+json"));
            assert_eq!(reply.body["errors"][0]["field"], field, "{:?}", reply.body);
            assert!(reply.body["detail"].as_str().unwrap().contains("NUL"), "{:?}", reply.body);
        }
        // On a command of an existing complaint too.
        let created = app.post_complaint(&minimal_complaint("RAL", "2026-04-02")).await;
        let id = created.body["id"].as_str().unwrap().to_string();
        let reply = app
            .command(&id, "learning", &json!({"recorded_on": "2026-04-03", "kind": "lesson", "summary": "a\u{0}b"}))
            .await;
        assert_eq!(reply.status, 422, "{:?}", reply.body);
        assert_eq!(reply.body["errors"][0]["field"], "summary");
        assert_eq!(app.event_count().await, 1, "nothing was written for the refused bodies");
    }

    async fn unknown_complaints_are_not_found(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let missing = app.get(&format!("/v1/complaints/{}", uuid::Uuid::new_v4())).await;
        assert_eq!(missing.status, 404);
        assert_eq!(missing.content_type, "application/problem+json");
        assert_eq!(app.get("/v1/complaints/not-a-uuid").await.status, 404);
        let ack = app
            .command(&uuid::Uuid::new_v4().to_string(), "acknowledgement", &json!({"acknowledged_on": "2026-04-03"}))
            .await;
        assert_eq!(ack.status, 404);
    }

    async fn a_repeated_intake_from_the_same_source_finds_the_existing_complaint(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let mut body = minimal_complaint("RAL", "2026-04-02");
        body["source"] = json!({"system": "pals-desk", "reference": "PALS-1234"});

        let first = app.post_complaint(&body).await;
        let second = app.post_complaint(&body).await;

        assert_eq!(first.status, 201);
        assert_eq!(second.status, 200);
        assert_eq!(first.body["id"], second.body["id"]);
        assert_eq!(app.event_count().await, 1);
    }

    async fn if_match_with_a_stale_version_is_refused(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let id = app.post_complaint(&minimal_complaint("RAL", "2026-04-02")).await.body["id"]
            .as_str().unwrap().to_string();
        let path = format!("/v1/complaints/{id}/acknowledgement");
        let body = json!({"acknowledged_on": "2026-04-03"});

        let stale = app.post(&path, &body, &[("if-match", "\"0\"")]).await;
        assert_eq!(stale.status, 412);
        assert_eq!(stale.body["current_version"], 1);
        let fresh = app.post(&path, &body, &[("if-match", "\"1\"")]).await;
        assert_eq!(fresh.status, 200);
        assert_eq!(fresh.etag.as_deref(), Some("\"2\""));
    }

    async fn retrying_with_the_same_idempotency_key_writes_once(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let body = minimal_complaint("RAL", "2026-04-02");
        let mut ids = Vec::new();
        for _ in 0..10 {
            let reply = app.post("/v1/complaints", &body, &[("idempotency-key", "intake-77")]).await;
            assert!(reply.status == 201 || reply.status == 200, "{:?}", reply.body);
            ids.push(reply.body["id"].clone());
        }
        assert!(ids.iter().all(|id| *id == ids[0]));
        let id = ids[0].as_str().unwrap().to_string();
        let path = format!("/v1/complaints/{id}/acknowledgement");
        for _ in 0..10 {
            let reply = app.post(&path, &json!({"acknowledged_on": "2026-04-03"}), &[("idempotency-key", "ack-1")]).await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            assert_eq!(reply.body["version"], 2);
        }
        let changed = app.post(&path, &json!({"acknowledged_on": "2026-04-06"}), &[("idempotency-key", "ack-1")]).await;
        assert_eq!(changed.status, 422);
        assert!(changed.body["type"].as_str().unwrap().ends_with("/idempotency-key-reused"));
        assert_eq!(app.event_count().await, 2);
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_commands_by_outcome() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let id = app
        .post_complaint(&minimal_complaint("RAL", "2026-04-02"))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.command(
        &id,
        "acknowledgement",
        &json!({"acknowledged_on": "2026-04-03"}),
    )
    .await;
    app.command(
        &id,
        "acknowledgement",
        &json!({"acknowledged_on": "2026-04-03"}),
    )
    .await;

    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(
        text.contains(r#"route="/v1/complaints/{id}/acknowledgement""#),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains(r#"complaint_commands_total{command="acknowledge",outcome="applied"}"#),
        "{text}"
    );
    assert!(text.contains(r#"outcome="already-acknowledged""#), "{text}");
}

#[tokio::test]
async fn the_correlation_id_is_echoed_and_generated_when_absent() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let given = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-correlation-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-correlation-id"], "abc-123");
    let generated = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(generated.headers()["x-correlation-id"].len(), 36);
    let ready = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
}
