//! Read models over HTTP: the case list and deadlines, on both backends.
#![allow(clippy::unwrap_used)]

use complaints_tests::{minimal_complaint, on_both_backends, spawn_app, Backend};
use serde_json::json;

on_both_backends! {
    async fn the_case_list_pages_newest_first_within_the_callers_organisations(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        for day in ["2026-04-01", "2026-04-02", "2026-04-03", "2026-04-06", "2026-04-07"] {
            assert_eq!(app.post_complaint(&minimal_complaint("RAL", day)).await.status, 201);
        }
        let other = app.token_for(&["OTHER"], &[complaints_gateway::Role::Caseworker]);
        let bearer = format!("Bearer {other}");
        app.post("/v1/complaints", &minimal_complaint("OTHER", "2026-04-02"), &[("authorization", &bearer)]).await;

        app.settle().await;
        let first = app.get("/v1/complaints?limit=2").await;
        assert_eq!(first.status, 200, "{}", first.body);
        let items = first.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["received_on"], "2026-04-07");
        assert_eq!(items[1]["received_on"], "2026-04-06");
        let cursor = first.body["next_cursor"].as_str().unwrap();
        let second = app.get(&format!("/v1/complaints?limit=2&cursor={cursor}")).await;
        let second_items = second.body["items"].as_array().unwrap();
        assert_eq!(second_items[0]["received_on"], "2026-04-03");
        assert_eq!(second_items[1]["received_on"], "2026-04-02");
        let last = app.get(&format!("/v1/complaints?limit=2&cursor={}", second.body["next_cursor"].as_str().unwrap())).await;
        assert_eq!(last.body["items"].as_array().unwrap().len(), 1);
        assert!(last.body["next_cursor"].is_null());

        let filtered = app.get("/v1/complaints?received_from=2026-04-02&received_to=2026-04-03").await;
        assert_eq!(filtered.body["items"].as_array().unwrap().len(), 2);
        assert!(filtered.body["items"].as_array().unwrap().iter().all(|i| i["organisation_id"] == "RAL"));
        assert_eq!(app.get("/v1/complaints?organisation=OTHER").await.status, 403);
        assert_eq!(app.get("/v1/complaints?status=closed").await.body["items"].as_array().unwrap().len(), 0);
    }

    async fn overdue_deadlines_are_those_pending_past_their_day(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let late = app.post_complaint(&minimal_complaint("RAL", "2026-04-02")).await.body["id"].as_str().unwrap().to_string();
        let on_time = app.post_complaint(&minimal_complaint("RAL", "2026-04-02")).await.body["id"].as_str().unwrap().to_string();
        app.command(&on_time, "acknowledgement", &json!({"acknowledged_on": "2026-04-07"})).await;

        app.settle().await;
        let reply = app.get("/v1/deadlines?overdue=true").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let items = reply.body["items"].as_array().unwrap();
        let acks: Vec<_> = items.iter().filter(|i| i["kind"] == "acknowledgement").collect();
        assert_eq!(acks.len(), 1, "{items:?}");
        assert_eq!(acks[0]["complaint_id"], late.as_str());
        assert_eq!(acks[0]["due_on"], "2026-04-09");
        assert_eq!(acks[0]["state"], "missed");
        assert!(items.iter().all(|i| i["state"] == "missed"));

        let due_soon = app.get("/v1/deadlines?due_before=2026-04-10&kind=acknowledgement").await;
        let rows = due_soon.body["items"].as_array().unwrap();
        assert_eq!(rows.len(), 2);
        let met = rows.iter().find(|r| r["complaint_id"] == on_time.as_str()).unwrap();
        assert_eq!(met["state"], "met_on_time");
    }

    async fn history_lists_every_event_and_as_of_shows_the_case_as_it_stood(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let id = app.post_complaint(&minimal_complaint("RAL", "2026-04-02")).await.body["id"].as_str().unwrap().to_string();
        let between = chrono::Utc::now();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        app.post(&format!("/v1/complaints/{id}/acknowledgement"), &json!({"acknowledged_on": "2026-04-07"}), &[("idempotency-key", "k-1")]).await;

        let history = app.get(&format!("/v1/complaints/{id}/history")).await;
        assert_eq!(history.status, 200, "{}", history.body);
        let events = history.body["events"].as_array().unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0]["event_type"], "ComplaintReceived");
        assert_eq!(events[1]["event_type"], "ComplaintAcknowledged");
        assert_eq!(events[1]["command_id"], "k-1");
        assert_eq!(events[1]["actor"], "test-user");
        assert_eq!(events[1]["occurred_on"], "2026-04-07");
        assert!(events[1]["recorded_at"].as_str().is_some());

        let then = app.get(&format!("/v1/complaints/{id}?as_of={}", between.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))).await;
        assert_eq!(then.status, 200, "{}", then.body);
        assert_eq!(then.body["version"], 1);
        assert_eq!(then.body["status"], "received");
        let before = app.get(&format!("/v1/complaints/{id}?as_of=2020-01-01T00:00:00Z")).await;
        assert_eq!(before.status, 404);
        let reporting = app.token_for(&["RAL"], &[complaints_gateway::Role::Reporting]);
        assert_eq!(app.get_as(&reporting, &format!("/v1/complaints/{id}/history")).await.status, 403);
    }
}
