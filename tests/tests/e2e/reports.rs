//! Reports over HTTP and the time-driven consent lapse, on both backends.
#![allow(clippy::unwrap_used)]

use complaints_gateway::app::scheduler;
use complaints_gateway::Role;
use complaints_tests::{minimal_complaint, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

async fn respond(app: &TestApp, id: &str, sent_on: &str, outcome: &str) {
    let body = json!({
        "sent_on": sent_on, "outcome": outcome, "signed_by": "ceo", "signed_as": "responsible_person",
        "ombudsman_rights": ["phso"], "letter": {"how_considered": "a", "conclusions": "b", "actions": "c"}
    });
    let reply = app.command(id, "response", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

async fn receive(app: &TestApp, on: &str) -> String {
    app.post_complaint(&minimal_complaint("RAL", on)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A complaint at site `RAL01` with the KO41 details given (`None` leaves one out).
async fn receive_at_site(
    app: &TestApp,
    on: &str,
    service: &str,
    subjects: &[&str],
    staff: &[&str],
    age_and_status: Option<(&str, &str)>,
) -> String {
    let mut body = minimal_complaint("RAL", on);
    body["site"] = json!("RAL01");
    body["service_area"] = json!(service);
    body["subject_areas"] = json!(subjects);
    body["staff_groups"] = json!(staff);
    if let Some((age, status)) = age_and_status {
        body["patient_age_band"] = json!(age);
        body["complainant_status"] = json!(status);
    }
    let reply = app.post_complaint(&body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_string()
}

on_both_backends! {
    async fn r_ko_6_the_seeded_return_equals_the_hand_computed_csv(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        // Brought forward: answered upheld in the year, and withdrawn in the year.
        let a = receive_at_site(&app, "2025-02-10", "outpatient", &["communications"], &["medical"], None).await;
        respond(&app, &a, "2025-05-01", "upheld").await;
        let b = receive_at_site(&app, "2025-03-15", "outpatient", &["communications"], &["medical"], None).await;
        let closed = app.command(&b, "closure", &json!({"closed_on": "2025-06-01", "reason": "withdrawn"})).await;
        assert_eq!(closed.status, 200, "{}", closed.body);
        // New: partially upheld; still open; not upheld (no age or status: unknown).
        let c = receive_at_site(&app, "2025-04-10", "inpatient", &["communications", "clinical_treatment"], &["medical"], Some(("65-74", "patient"))).await;
        respond(&app, &c, "2025-06-10", "partially_upheld").await;
        receive_at_site(&app, "2025-05-20", "paediatrics", &["waiting_times"], &["nursing_midwifery_health_visiting", "medical"], Some(("0-15", "relative_or_carer"))).await;
        let e = receive_at_site(&app, "2025-07-01", "outpatient", &["communications"], &[], None).await;
        respond(&app, &e, "2025-08-01", "not_upheld").await;
        app.settle().await;

        let token = app.token_for(&["RAL"], &[Role::Reporting]);
        let path = "/v1/reports/written-complaints?organisation=RAL&period=2025";
        let json_reply = app.get_as(&token, path).await;
        assert_eq!(json_reply.status, 200, "{}", json_reply.body);
        let note = &json_reply.body["report"]["collections"][0]["reconciliation"];
        assert_eq!(note["left_without_outcome"][0]["complaint_id"], b.as_str(), "{}", json_reply.body);
        assert_eq!(note["left_without_outcome"][0]["reason"], "withdrawn");
        assert_eq!(note["unresolved_at_end"], 1);
        let csv = app.client.get(format!("{}{path}&format=csv", app.address)).bearer_auth(&token).send().await.unwrap();
        let text = csv.text().await.unwrap();
        let expected = include_str!("../../data/ko41_RAL_2025.csv");
        assert_eq!(text, expected);
    }

    async fn the_annual_report_counts_each_figure_in_the_year_of_its_fact(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        // R-AR-3: received on the last day of 2024-25, answered upheld in 2025-26.
        let boundary = receive(&app, "2025-03-31").await;
        respond(&app, &boundary, "2025-05-02", "upheld").await;
        // Received in 2025-26, answered not upheld, PHSO informed in 2026-27.
        let referred = receive(&app, "2025-04-01").await;
        respond(&app, &referred, "2025-06-20", "not_upheld").await;
        let r = app.command(&referred, "ombudsman-referral", &json!({"ombudsman": "phso", "informed_on": "2026-04-03"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let partly = receive(&app, "2025-09-10").await;
        respond(&app, &partly, "2025-10-01", "partially_upheld").await;

        let token = app.token_for(&["RAL"], &[Role::Reporting]);
        let path = "/v1/reports/annual?organisation=RAL&year=2025";
        app.settle().await;
        let reply = app.get_as(&token, path).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let report: Value = reply.body["report"].clone();
        assert_eq!(report["received"], 2, "{report}");
        assert_eq!(report["well_founded"], 2, "{report}");
        assert_eq!(report["referred_to_ombudsman"]["phso"], 0);
        let next = app.get_as(&token, "/v1/reports/annual?organisation=RAL&year=2026").await.body["report"].clone();
        assert_eq!(next["referred_to_ombudsman"]["phso"], 1, "{next}");
        assert_eq!(next["received"], 0);
        let before = app.get_as(&token, "/v1/reports/annual?organisation=RAL&year=2024").await.body["report"].clone();
        assert_eq!(before["received"], 1);
        assert_eq!(before["well_founded"], 0);

        assert_eq!(app.get_as(&token, "/v1/reports/annual?organisation=OTHER&year=2025").await.status, 403);
        let frontline = app.token_for(&["RAL"], &[Role::Frontline]);
        assert_eq!(app.get_as(&frontline, path).await.status, 403);
    }

    async fn r_ar_1_the_annual_report_summarises_its_learning_and_pages_the_full_list(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let id = receive(&app, "2025-04-02").await;
        let ack = app.command(&id, "acknowledgement", &json!({"acknowledged_on": "2025-04-03"})).await;
        assert_eq!(ack.status, 200, "{}", ack.body);
        // 14 lessons and 3 actions in 2025-26, two on most days; one lesson in 2026-27.
        let mut recorded = Vec::new();
        for n in 0..17 {
            let day = format!("2025-05-{:02}", 1 + n / 2);
            let mut body = json!({"recorded_on": day, "kind": "lesson", "summary": format!("learnt {n}")});
            if n % 5 == 4 {
                body = json!({"recorded_on": day, "kind": "action", "summary": format!("learnt {n}"), "action_due_on": "2025-12-01"});
            }
            let done = app.command(&id, "learning", &body).await;
            assert_eq!(done.status, 200, "{}", done.body);
            recorded.push(format!("learnt {n}"));
        }
        let later = app.command(&id, "learning", &json!({"recorded_on": "2026-04-02", "kind": "lesson", "summary": "next year"})).await;
        assert_eq!(later.status, 200, "{}", later.body);
        app.settle().await;

        let token = app.token_for(&["RAL"], &[Role::Auditor]);
        let report = app.get_as(&token, "/v1/reports/annual?organisation=RAL&year=2025").await;
        assert_eq!(report.status, 200, "{}", report.body);
        let learning = &report.body["report"]["learning"];
        assert_eq!(learning["total"], 17, "{learning}");
        assert_eq!(learning["lessons"]["total"], 14);
        assert_eq!(learning["actions"]["total"], 3);
        let recent = learning["lessons"]["recent"].as_array().unwrap();
        assert_eq!(recent.len(), 10, "the latest ten, not all fourteen");
        assert_eq!(recent[0]["summary"], "learnt 16", "newest first");
        assert_eq!(learning["actions"]["recent"].as_array().unwrap().len(), 3);
        let full_list = learning["full_list"].as_str().unwrap();
        assert_eq!(full_list, "/v1/reports/annual/lessons?organisation=RAL&year=2025");

        // Walk the full list five at a time: every item once, oldest first.
        let mut seen: Vec<String> = Vec::new();
        let mut path = format!("{full_list}&limit=5");
        let mut pages = 0;
        loop {
            let page = app.get_as(&token, &path).await;
            assert_eq!(page.status, 200, "{}", page.body);
            let items = page.body["items"].as_array().unwrap();
            assert!(items.len() <= 5);
            seen.extend(items.iter().map(|i| i["summary"].as_str().unwrap().to_string()));
            pages += 1;
            match page.body["next_cursor"].as_str() {
                Some(cursor) => path = format!("{full_list}&limit=5&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(pages, 4);
        assert_eq!(seen, recorded, "each once, in the order recorded");
        let actions = app.get_as(&token, &format!("{full_list}&kind=action")).await.body;
        assert_eq!(actions["items"].as_array().unwrap().len(), 3, "{actions}");
        assert!(actions["next_cursor"].is_null());

        // The documents name the latest and say where the rest are.
        let markdown = app.client.get(format!("{}/v1/reports/annual/document?organisation=RAL&year=2025", app.address)).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
        assert!(markdown.contains("14 recorded in the year; the latest 10 follow, newest first."), "{markdown}");
        assert!(markdown.contains("learnt 16") && !markdown.contains("learnt 0\n"), "{markdown}");
        assert!(markdown.contains("Every lesson and action of the year (17) is listed at /v1/reports/annual/lessons?organisation=RAL\\&year=2025."), "{markdown}");

        // Guarded as the report is; a page too large or a forged cursor is refused.
        assert_eq!(app.get_as(&app.token_for(&["RAL"], &[Role::Frontline]), full_list).await.status, 403);
        assert_eq!(app.get_as(&app.token_for(&["OTHER"], &[Role::Reporting]), full_list).await.status, 403);
        assert_eq!(app.get_as(&token, &format!("{full_list}&limit=1001")).await.status, 400);
        assert_eq!(app.get_as(&token, &format!("{full_list}&cursor=zz")).await.status, 400);
        assert_eq!(app.get_as(&token, "/v1/reports/annual/lessons?organisation=RAL&year=1066").await.status, 400);
    }

    async fn the_written_complaints_return_reconciles_and_comes_as_csv(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let a = receive(&app, "2025-02-01").await;
        let _b = receive(&app, "2025-05-01").await;
        let c = receive(&app, "2025-06-01").await;
        respond(&app, &a, "2025-04-15", "upheld").await;
        respond(&app, &c, "2025-07-01", "not_upheld").await;
        let token = app.token_for(&["RAL"], &[Role::Reporting]);
        let path = "/v1/reports/written-complaints?organisation=RAL&period=2025";
        app.settle().await;
        let reply = app.get_as(&token, path).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body = reply.body;
        let ko41a = &body["report"]["collections"][0];
        assert_eq!(ko41a["collection"], "KO41a", "{body}");
        assert_eq!(ko41a["brought_forward"], 1);
        assert_eq!(ko41a["new"], 2);
        assert_eq!(ko41a["resolved"], 2);
        assert_eq!(ko41a["carried_forward"], 1);
        assert_eq!(ko41a["by_subject_area"]["communications"], 2);

        let csv = app.client.get(format!("{}{path}&format=csv", app.address)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let text = csv.text().await.unwrap();
        assert!(text.starts_with("collection,organisation,site,section,item,count"), "{text}");
        assert!(text.contains("KO41a,RAL,not_recorded,2_summary,new,2"), "{text}");
    }

    async fn r_ko_3a_a_submitted_return_keeps_its_figures_and_lists_adjustments(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let a = receive(&app, "2025-05-01").await;
        respond(&app, &a, "2025-06-01", "upheld").await;
        receive(&app, "2025-07-01").await;
        app.settle().await;

        let submit = "/v1/reports/written-complaints/submission";
        let caseworker = app.token_for(&["RAL"], &[Role::Caseworker]);
        let as_caseworker = format!("Bearer {caseworker}");
        let with = |auth: &str| [("authorization", auth.to_string())];
        let post = |auth: String, body: Value| {
            let app = &app;
            async move {
                let headers = with(&auth);
                let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.post(submit, &body, &headers).await
            }
        };
        // A reporting-role token, or a caseworker of another organisation, cannot submit.
        let reporting = app.token_for(&["RAL"], &[Role::Reporting]);
        let refused = post(format!("Bearer {reporting}"), json!({"organisation": "RAL", "period": 2025})).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        let other = post(as_caseworker.clone(), json!({"organisation": "OTHER", "period": 2025})).await;
        assert_eq!(other.status, 403, "{}", other.body);

        let submitted = post(as_caseworker.clone(), json!({"organisation": "RAL", "period": 2025})).await;
        assert_eq!(submitted.status, 201, "{}", submitted.body);
        assert_eq!(submitted.body["collection"], "KO41");
        assert_eq!(submitted.body["period"], 2025);
        assert_eq!(submitted.body["submitted"]["by"], "test-user");
        assert_eq!(submitted.body["figures"]["collections"][0]["new"], 2, "{}", submitted.body);
        assert_eq!(submitted.body["figures"]["collections"][0]["carried_forward"], 1);

        // The same period again: 409, the submission stands.
        let again = post(as_caseworker.clone(), json!({"organisation": "RAL", "period": 2025})).await;
        assert_eq!(again.status, 409, "{}", again.body);
        assert_eq!(again.content_type, "application/problem+json");
        assert!(again.body["type"].as_str().unwrap().ends_with("already-submitted"), "{}", again.body);

        // A complaint of the year recorded late changes the year.
        receive(&app, "2025-08-01").await;
        app.settle().await;
        let token = app.token_for(&["RAL"], &[Role::Reporting]);
        let reply = app.get_as(&token, "/v1/reports/written-complaints?organisation=RAL&period=2025").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body = reply.body;
        assert_eq!(body["report"], submitted.body["figures"], "the submitted figures, unchanged");
        assert_eq!(body["submitted"], submitted.body["submitted"]);
        let adjustments = body["adjustments"].as_array().unwrap();
        let new = adjustments.iter().find(|a| a["section"] == "2_summary" && a["item"] == "new").unwrap();
        assert_eq!(new["submitted"], 2, "{body}");
        assert_eq!(new["current"], 3);
        assert_eq!(new["difference"], 1);
        let carried = adjustments.iter().find(|a| a["item"] == "carried_forward").unwrap();
        assert_eq!((carried["submitted"].clone(), carried["current"].clone()), (json!(1), json!(2)));
        // The CSV of a submitted year is the submitted return.
        let csv = app.client.get(format!("{}/v1/reports/written-complaints?organisation=RAL&period=2025&format=csv", app.address)).bearer_auth(&token).send().await.unwrap();
        assert!(csv.text().await.unwrap().contains("KO41a,RAL,not_recorded,2_summary,new,2"));

        // The next year brings forward what the submitted return carried, not the recount.
        let next = app.get_as(&token, "/v1/reports/written-complaints?organisation=RAL&period=2026").await.body;
        assert_eq!(next["report"]["collections"][0]["brought_forward"], 1, "{next}");
        assert_eq!(next["report"]["collections"][0]["carried_forward"], 1, "{next}");
        assert!(next.get("submitted").is_none(), "{next}");
        assert_eq!(next["adjustments"], json!([]));
    }

    async fn a_consent_not_given_in_time_lapses_and_closes_the_complaint_once(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let mut body = minimal_complaint("RAL", "2026-04-02");
        body["representation_basis"] = json!("requested");
        let id = app.post_complaint(&body).await.body["id"].as_str().unwrap().to_string();
        let waiting = receive(&app, "2026-11-20").await;
        let mut recent = minimal_complaint("RAL", "2026-11-20");
        recent["representation_basis"] = json!("requested");
        let not_yet = app.post_complaint(&recent).await.body["id"].as_str().unwrap().to_string();
        app.settle().await;

        let cases = app.cases();
        let now = chrono::Utc::now();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let (first, second) = tokio::join!(scheduler::tick(&cases, now, today), scheduler::tick(&cases, now, today));
        let lapsed = first.unwrap().lapsed + second.unwrap().lapsed;
        assert_eq!(lapsed, 1, "two concurrent ticks lapse it once");
        let again = scheduler::tick(&cases, now, today).await.unwrap();
        assert_eq!(again.lapsed, 0);

        let case = app.get(&format!("/v1/complaints/{id}")).await.body;
        assert_eq!(case["status"], "closed");
        assert_eq!(case["closure"]["reason"], "consent_not_received");
        assert_eq!(case["consent"]["lapsed_on"], "2026-11-21");
        let history = app.get(&format!("/v1/complaints/{id}/history")).await.body;
        let types: Vec<&str> = history["events"].as_array().unwrap().iter().map(|e| e["event_type"].as_str().unwrap()).collect();
        assert_eq!(types, vec!["ComplaintReceived", "ConsentLapsed", "ComplaintClosed"]);
        assert_eq!(history["events"][1]["actor"], scheduler::SCHEDULER_ACTOR);
        assert_eq!(app.get(&format!("/v1/complaints/{not_yet}")).await.body["status"], "awaiting_consent");
        assert_eq!(app.get(&format!("/v1/complaints/{waiting}")).await.body["status"], "received");
    }
}
