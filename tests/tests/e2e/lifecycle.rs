//! A complaint walked through every command over HTTP, on both backends.
#![allow(clippy::unwrap_used)]

use complaints_gateway::Role;
use complaints_tests::{minimal_complaint, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

async fn step(app: &TestApp, id: &str, command: &str, body: Value, version: u64) -> Value {
    let reply = app
        .post(
            &format!("/v1/complaints/{id}/{command}"),
            &body,
            &[("if-match", &format!("\"{}\"", version - 1))],
        )
        .await;
    assert_eq!(reply.status, 200, "{command}: {}", reply.body);
    assert_eq!(reply.body["version"], version, "{command}");
    reply.body
}

on_both_backends! {
    async fn r_excl_2_an_oral_resolution_is_judged_on_the_day_it_was_resolved(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let mut intake = minimal_complaint("RAL", "2025-04-17");
        intake["channel"] = json!("oral_phone");
        let id = app.post_complaint(&intake).await.body["id"].as_str().unwrap().to_string();
        let late = app.command(&id, "oral-resolution", &json!({"resolved_on": "2025-04-23", "closed_on": "2025-04-23"})).await;
        assert_eq!(late.status, 422, "{}", late.body);
        let case = step(&app, &id, "oral-resolution", json!({"resolved_on": "2025-04-22", "closed_on": "2025-04-25"}), 2).await;
        assert_eq!(case["closure"]["resolved_on"], "2025-04-22");
        assert_eq!(case["closure"]["exclusion_category"], "oral_resolved_next_working_day");
    }

    async fn r_who_3_a_childs_representatives_complaint_waits_for_grounds_and_closes_with_a_letter_owed(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let mut intake = minimal_complaint("RAL", "2026-04-02");
        intake["representation_basis"] = json!("child");
        intake["eligibility"] = json!("representative");
        intake["consent_required"] = json!(false);
        intake["patient_age_band"] = json!("0-15");
        intake["complainant_status"] = json!("relative_or_carer");
        intake["site"] = json!("RAL01");
        let created = app.post_complaint(&intake).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(created.body["status"], "awaiting_representative_grounds");
        assert_eq!(created.body["patient_age_band"], "0_15");
        let id = created.body["id"].as_str().unwrap().to_string();
        let refused = app.command(&id, "response-plan", &json!({"agreed_on": "2026-04-03", "response_due_on": "2026-05-03"})).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body["type"].as_str().unwrap().ends_with("representative-grounds-not-found"), "{}", refused.body);
        // The receipt and its classification are two events; the finding and the closure two more.
        let decided = app.command(&id, "representative-grounds", &json!({"decided_on": "2026-04-06", "satisfied": false, "reasons": "The child wishes to complain herself.", "decided_by": "cm-12"})).await;
        assert_eq!(decided.status, 200, "{}", decided.body);
        assert_eq!(decided.body["version"], 4);
        assert_eq!(decided.body["closure"]["reason"], "representative_grounds_not_found");
        app.settle().await;
        let board = app.get("/v1/deadlines?organisation=RAL").await;
        let rows: Vec<&Value> = board.body["items"].as_array().unwrap().iter().filter(|r| r["complaint_id"] == id.as_str()).collect();
        assert_eq!(rows.len(), 1, "{}", board.body);
        assert_eq!(rows[0]["kind"], "letter");
        assert_eq!(rows[0]["letter"], "child_grounds_refusal");
        // Due three working days after the closure; overdue by the tests' today.
        assert_eq!(rows[0]["due_on"], "2026-04-09");
        assert_eq!(rows[0]["state"], "missed");
        step(&app, &id, "record-letter", json!({"kind": "child_grounds_refusal", "sent_on": "2026-04-07"}), 5).await;
        app.settle().await;
        let board = app.get("/v1/deadlines?organisation=RAL").await;
        let row = board.body["items"].as_array().unwrap().iter().find(|r| r["complaint_id"] == id.as_str()).unwrap().clone();
        assert_eq!(row["state"], "met_on_time");
    }

    async fn r_omb_2_recommendations_are_on_the_deadlines_board_until_done(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let id = app.post_complaint(&minimal_complaint("RAL", "2026-04-02")).await.body["id"].as_str().unwrap().to_string();
        step(&app, &id, "closure", json!({"closed_on": "2026-04-03", "reason": "withdrawn"}), 2).await;
        step(&app, &id, "ombudsman-referral", json!({"ombudsman": "phso", "informed_on": "2026-05-01"}), 3).await;
        step(&app, &id, "ombudsman-decision", json!({"ombudsman": "phso", "decided_on": "2026-06-01", "decision": "upheld",
            "recommendations": [{"description": "Apologise.", "due_on": "2026-07-01"}, {"description": "Train staff.", "due_on": "2026-09-01"}]}), 4).await;
        app.settle().await;
        // Both are past due by the tests' today (after 2026-09-01): overdue.
        let overdue = app.get("/v1/deadlines?organisation=RAL&overdue=true").await;
        assert_eq!(overdue.status, 200, "{}", overdue.body);
        let items: Vec<(Option<&str>, Option<i64>)> = overdue.body["items"].as_array().unwrap().iter()
            .map(|r| (r["kind"].as_str(), r["item"].as_i64())).collect();
        assert_eq!(items, vec![(Some("ombudsman_recommendation"), Some(1)), (Some("ombudsman_recommendation"), Some(2))], "{}", overdue.body);
        // Done, and the learning action it creates: two events.
        let done = app.command(&id, "recommendation-done", &json!({"recommendation": 1, "done_on": "2026-06-20", "what_was_done": "Apology sent."})).await;
        assert_eq!((done.status, done.body["version"].as_i64()), (200, Some(6)), "{}", done.body);
        let case = done.body;
        assert_eq!(case["ombudsman_recommendations"][0]["done_on"], "2026-06-20");
        assert_eq!(case["learning"][0]["kind"], "action");
        assert_eq!(case["status"], "closed");
        step(&app, &id, "progress-contact", json!({"contacted_on": "2026-06-21", "method": "phone", "summary": "Told Alex the apology was sent."}), 7).await;
        app.settle().await;
        let board = app.get("/v1/deadlines?organisation=RAL&kind=ombudsman_recommendation").await;
        let states: Vec<(i64, String)> = board.body["items"].as_array().unwrap().iter()
            .map(|r| (r["item"].as_i64().unwrap(), r["state"].as_str().unwrap().to_string())).collect();
        assert_eq!(states, vec![(1, "met_on_time".to_string()), (2, "missed".to_string())], "{}", board.body);
    }

    async fn a_complaint_goes_through_every_stage_of_its_life(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let mut intake = minimal_complaint("RAL", "2026-04-02");
        intake["representation_basis"] = json!("requested");
        intake["person_affected"] = json!({"name": "Bert Example", "date_of_birth": "1941-02-03"});
        intake["matter_occurred_on"] = json!("2026-03-20");
        let created = app.post_complaint(&intake).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(created.body["status"], "awaiting_consent");
        assert_eq!(created.body["deadlines"]["consent_lapses_on"], "2026-05-15");
        let id = created.body["id"].as_str().unwrap().to_string();

        let case = step(&app, &id, "acknowledgement", json!({"acknowledged_on": "2026-04-07"}), 2).await;
        assert_eq!(case["acknowledged_late"], false);
        step(&app, &id, "consent-request", json!({"requested_on": "2026-04-07"}), 3).await;
        let case = step(&app, &id, "consent", json!({"decision": "given", "decided_on": "2026-04-10", "evidence": "signed form"}), 4).await;
        assert_eq!(case["status"], "investigating");
        let case = step(&app, &id, "risk-assessment", json!({"assessed_on": "2026-04-10", "seriousness": "medium", "likelihood": "possible"}), 5).await;
        assert_eq!(case["risk"]["rating"], "high");
        let case = step(&app, &id, "response-plan", json!({"agreed_on": "2026-04-10", "response_due_on": "2026-05-20", "discussion_outcome": "accepted"}), 6).await;
        assert_eq!(case["deadlines"]["response_due"], "2026-05-20");
        let case = step(&app, &id, "clock-stops", json!({"stopped_on": "2026-04-20", "reason": "awaiting GP records", "complainant_agreed": true}), 7).await;
        assert_eq!(case["deadlines"]["response_due"], Value::Null);
        let case = step(&app, &id, "clock-restarts", json!({"restarted_on": "2026-04-27"}), 8).await;
        // Five working days stopped (20-24 April) move the agreed date on by five working days.
        assert_eq!(case["deadlines"]["response_due"], "2026-05-28");
        step(&app, &id, "delay-notification", json!({"notified_on": "2026-05-26", "reason": "records arrived late", "expected_response_on": "2026-05-29"}), 9).await;
        let response = json!({
            "sent_on": "2026-05-28", "outcome": "partially_upheld", "signed_by": "ceo-001",
            "signed_as": "responsible_person", "ombudsman_rights": ["phso"],
            "letter": {"how_considered": "We reviewed the records.", "conclusions": "The letter was not sent.", "actions": "Discharge letters are now tracked."}
        });
        let case = step(&app, &id, "response", response.clone(), 10).await;
        assert_eq!(case["status"], "responded");
        let case = step(&app, &id, "escalation", json!({"escalated_on": "2026-06-01", "reason": "unhappy with the answer"}), 11).await;
        assert_eq!(case["status"], "under_review");
        assert_eq!(case["stage"], 2);
        let mut second = response.clone();
        second["sent_on"] = json!("2026-06-22");
        second["outcome"] = json!("upheld");
        step(&app, &id, "response", second, 12).await;
        step(&app, &id, "ombudsman-referral", json!({"ombudsman": "phso", "informed_on": "2026-07-01", "ombudsman_reference": "PHSO-99"}), 13).await;
        let case = step(&app, &id, "ombudsman-decision", json!({"ombudsman": "phso", "decided_on": "2026-09-01", "decision": "partly_upheld", "recommendations": [{"description": "apologise", "due_on": "2026-10-01"}]}), 14).await;
        assert_eq!(case["ombudsman_referrals"][0]["decision"], "partly_upheld");
        step(&app, &id, "learning", json!({"recorded_on": "2026-09-02", "kind": "action", "summary": "Track discharge letters", "action_due_on": "2026-12-01"}), 15).await;
        let case = step(&app, &id, "closure", json!({"closed_on": "2026-09-03", "reason": "resolved"}), 16).await;
        assert_eq!(case["status"], "closed");
        let case = step(&app, &id, "reopening", json!({"reopened_on": "2026-09-10", "reason": "new information"}), 17).await;
        assert_eq!(case["status"], "responded");

        let fetched = app.get(&format!("/v1/complaints/{id}")).await;
        assert_eq!(fetched.body, case);
        assert_eq!(app.event_count().await, 17);
    }

    async fn thirty_two_concurrent_clients_on_one_complaint_lose_no_update(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let app = std::sync::Arc::new(app);
        let id = app.post_complaint(&minimal_complaint("RAL", "2026-04-02")).await.body["id"].as_str().unwrap().to_string();
        let mut clients = Vec::new();
        for client in 0..32 {
            let app = app.clone();
            let id = id.clone();
            clients.push(tokio::spawn(async move {
                let body = json!({"recorded_on": "2026-04-03", "kind": "lesson", "summary": format!("note from client {client}")});
                let key = format!("client-{client}");
                loop {
                    let reply = app.post(&format!("/v1/complaints/{id}/learning"), &body, &[("idempotency-key", &key)]).await;
                    match reply.status {
                        200 => return,
                        409 => continue,
                        other => panic!("client {client}: {other} {}", reply.body),
                    }
                }
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        let case = app.get(&format!("/v1/complaints/{id}")).await.body;
        assert_eq!(case["version"], 33);
        assert_eq!(case["learning"].as_array().unwrap().len(), 32);
        assert_eq!(app.event_count().await, 33);
    }
}

/// Every route, with a body that passes its shape checks.
fn routes() -> Vec<(&'static str, Value, &'static [Role])> {
    const INTAKE: &[Role] = &[Role::Frontline, Role::Caseworker];
    const CASE: &[Role] = &[Role::Caseworker];
    vec![
        (
            "acknowledgement",
            json!({"acknowledged_on": "2026-04-03"}),
            INTAKE,
        ),
        (
            "out-of-time-acceptance",
            json!({"accepted_on": "2026-04-03", "good_reason_for_delay": true, "fair_investigation_possible": true, "decided_by": "x", "rationale": "y"}),
            CASE,
        ),
        (
            "consent-request",
            json!({"requested_on": "2026-04-03"}),
            CASE,
        ),
        (
            "consent",
            json!({"decision": "given", "decided_on": "2026-04-03"}),
            CASE,
        ),
        ("consent-lapse", json!({"lapsed_on": "2026-06-03"}), CASE),
        (
            "risk-assessment",
            json!({"assessed_on": "2026-04-03", "seriousness": "low", "likelihood": "rare"}),
            CASE,
        ),
        (
            "response-plan",
            json!({"agreed_on": "2026-04-03", "response_due_on": "2026-05-03"}),
            CASE,
        ),
        (
            "clock-stops",
            json!({"stopped_on": "2026-04-03", "reason": "x"}),
            CASE,
        ),
        (
            "clock-restarts",
            json!({"restarted_on": "2026-04-04"}),
            CASE,
        ),
        (
            "delay-notification",
            json!({"notified_on": "2026-04-03", "reason": "x"}),
            CASE,
        ),
        (
            "response",
            json!({"sent_on": "2026-04-03", "outcome": "upheld", "signed_by": "x", "signed_as": "responsible_person", "ombudsman_rights": ["phso"], "letter": {"how_considered": "a", "conclusions": "b", "actions": "c"}}),
            CASE,
        ),
        (
            "escalation",
            json!({"escalated_on": "2026-04-04", "reason": "x"}),
            CASE,
        ),
        (
            "ombudsman-referral",
            json!({"ombudsman": "phso", "informed_on": "2026-04-05"}),
            CASE,
        ),
        (
            "ombudsman-decision",
            json!({"ombudsman": "phso", "decided_on": "2026-04-06", "decision": "upheld"}),
            CASE,
        ),
        (
            "learning",
            json!({"recorded_on": "2026-04-03", "kind": "lesson", "summary": "x"}),
            CASE,
        ),
        (
            "closure",
            json!({"closed_on": "2026-04-03", "reason": "withdrawn"}),
            CASE,
        ),
        (
            "legal-hold",
            json!({"placed_on": "2026-04-05", "ground": "litigation", "note": "claim"}),
            CASE,
        ),
        (
            "legal-hold-release",
            json!({"released_on": "2026-04-06"}),
            CASE,
        ),
        (
            "reopening",
            json!({"reopened_on": "2026-04-04", "reason": "x"}),
            CASE,
        ),
        (
            "oral-resolution",
            json!({"resolved_on": "2026-04-03", "closed_on": "2026-04-03"}),
            CASE,
        ),
        (
            "representative-grounds",
            json!({"decided_on": "2026-04-03", "satisfied": true, "reasons": "x", "decided_by": "y"}),
            CASE,
        ),
        (
            "record-letter",
            json!({"kind": "exclusion_notice", "sent_on": "2026-04-03"}),
            CASE,
        ),
        (
            "progress-contact",
            json!({"contacted_on": "2026-04-03", "method": "phone", "summary": "x"}),
            CASE,
        ),
        (
            "recommendation-done",
            json!({"recommendation": 1, "done_on": "2026-04-07", "what_was_done": "x"}),
            CASE,
        ),
    ]
}

#[tokio::test]
async fn every_route_admits_exactly_its_roles_within_the_callers_organisations() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let own = app
        .post_complaint(&minimal_complaint("RAL", "2026-04-02"))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other_token = app.token_for(&["OTHER"], &[Role::Caseworker]);
    let other = app
        .post(
            "/v1/complaints",
            &minimal_complaint("OTHER", "2026-04-02"),
            &[("authorization", &format!("Bearer {other_token}"))],
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();

    for role in Role::ALL {
        let token = app.token_for(&["RAL"], &[role]);
        let bearer = format!("Bearer {token}");
        let auth = [("authorization", bearer.as_str())];

        // Receiving: intake roles for their own organisation only.
        let received = app
            .post(
                "/v1/complaints",
                &minimal_complaint("RAL", "2026-04-02"),
                &auth,
            )
            .await;
        let expected = if [Role::Frontline, Role::Caseworker].contains(&role) {
            201
        } else {
            403
        };
        assert_eq!(received.status, expected, "receive as {role:?}");
        let elsewhere = app
            .post(
                "/v1/complaints",
                &minimal_complaint("OTHER", "2026-04-02"),
                &auth,
            )
            .await;
        assert_eq!(
            elsewhere.status, 403,
            "receive for another organisation as {role:?}"
        );

        // Reading.
        let read = app.get_as(&token, &format!("/v1/complaints/{own}")).await;
        let readers = [Role::Frontline, Role::Caseworker, Role::Auditor];
        assert_eq!(
            read.status,
            if readers.contains(&role) { 200 } else { 403 },
            "read as {role:?}"
        );
        assert_eq!(
            app.get_as(&token, &format!("/v1/complaints/{other}"))
                .await
                .status,
            404,
            "read other as {role:?}"
        );

        for (command, body, allowed) in routes() {
            let theirs = app
                .post(&format!("/v1/complaints/{other}/{command}"), &body, &auth)
                .await;
            assert_eq!(
                theirs.status, 404,
                "{command} on another organisation's complaint as {role:?}"
            );
            let ours = app
                .post(&format!("/v1/complaints/{own}/{command}"), &body, &auth)
                .await;
            if allowed.contains(&role) {
                assert!(
                    ![401, 403, 404].contains(&ours.status),
                    "{command} as {role:?}: {} {}",
                    ours.status,
                    ours.body
                );
            } else {
                assert_eq!(ours.status, 403, "{command} as {role:?}: {}", ours.body);
            }
        }
    }

    // No token, a bad token, an expired one: 401 everywhere.
    for (command, body, _) in routes() {
        let path = format!("/v1/complaints/{own}/{command}");
        let none = app
            .client
            .post(format!("{}{path}", app.address))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(none.status(), 401, "{command} without a token");
        assert_eq!(none.headers()["www-authenticate"], "Bearer");
        let forged = app
            .post(&path, &body, &[("authorization", "Bearer not.a.token")])
            .await;
        assert_eq!(forged.status, 401);
    }
    let expired = app
        .auth
        .mint(
            "x",
            &["RAL".into()],
            &[Role::Caseworker],
            chrono::Utc::now() - chrono::Duration::hours(2),
            chrono::Duration::minutes(1),
        )
        .unwrap();
    assert_eq!(
        app.get_as(&expired, &format!("/v1/complaints/{own}"))
            .await
            .status,
        401
    );
    let foreign =
        complaints_gateway::Authenticator::with_secret("another-secret-another-secret-another")
            .mint(
                "x",
                &["RAL".into()],
                &[Role::Caseworker],
                chrono::Utc::now(),
                chrono::Duration::hours(1),
            )
            .unwrap();
    assert_eq!(
        app.get_as(&foreign, &format!("/v1/complaints/{own}"))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn events_record_who_acted_in_which_role_and_organisation() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let token = app.token_for(&["RAL"], &[Role::Frontline]);
    let bearer = format!("Bearer {token}");
    let created = app
        .post(
            "/v1/complaints",
            &minimal_complaint("RAL", "2026-04-02"),
            &[("authorization", &bearer), ("x-correlation-id", "corr-77")],
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap();
    let events = app.db.event_log().await.load(id).await.unwrap();
    let meta = &events[0].metadata;
    assert_eq!(meta["actor"], "test-user");
    assert_eq!(meta["role"], "frontline");
    assert_eq!(meta["organisation_id"], "RAL");
    assert_eq!(meta["correlation_id"], "corr-77");
    assert_eq!(meta["command"], "receive");
}
