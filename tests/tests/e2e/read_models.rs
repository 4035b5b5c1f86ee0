//! Read models over HTTP: the case list and deadlines, on both backends.
#![allow(clippy::unwrap_used)]

use complaints_tests::{minimal_complaint, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

/// A signed-in session's cookie (`name=value`) for a caseworker of RAL.
async fn sign_in(app: &TestApp) -> String {
    let link = complaints_gateway::ui::session::login_token(
        &app.cases(),
        "board-reader",
        &["RAL".to_string()],
        &[complaints_gateway::Role::Caseworker],
        chrono::Utc::now(),
        chrono::Duration::minutes(5),
    )
    .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let reply = client
        .post(format!("{}/ui/login", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={link}"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 303);
    let cookie = reply.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

/// A page of the web pages with the session `cookie`: status and HTML.
async fn page(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let reply = app
        .client
        .get(format!("{}{path}", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.text().await.unwrap())
}

/// The number in a board heading such as `<h2 ... id="overdue">Overdue (12)</h2>`.
fn heading_count(html: &str, id: &str) -> usize {
    let at = html.find(&format!("id=\"{id}\">")).unwrap();
    let heading = &html[at..at + html[at..].find("</h2>").unwrap()];
    let open = heading.rfind('(').unwrap();
    heading[open + 1..heading.len() - 1].parse().unwrap()
}

on_both_backends! {
    async fn the_case_list_and_deadlines_filter_by_the_assigned_caseworker(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let mut ids = Vec::new();
        for _ in 0..3 {
            let reply = app.post_complaint(&minimal_complaint("RAL", "2026-04-02")).await;
            ids.push(reply.body["id"].as_str().unwrap().to_string());
        }
        let (first, second, closed) = (&ids[0], &ids[1], &ids[2]);
        let assign = |on: &str, who: &str| json!({"assigned_on": on, "caseworker": who});
        assert_eq!(app.command(first, "assignment", &assign("2026-04-03", "cw-alice")).await.status, 200);
        assert_eq!(app.command(second, "assignment", &assign("2026-04-03", " cw-alice ")).await.status, 200);
        // Reassigning moves the case, with every deadline row of it, to the other caseworker.
        let moved = app.command(second, "assignment", &assign("2026-04-06", "cw-bob")).await;
        assert_eq!(moved.status, 200, "{}", moved.body);

        app.settle().await;
        let complaints_of = |who: &'static str| {
            let app = &app;
            async move {
                let reply = app.get(&format!("/v1/complaints?assigned_to={who}")).await;
                assert_eq!(reply.status, 200, "{}", reply.body);
                let items = reply.body["items"].as_array().unwrap().clone();
                assert!(items.iter().all(|i| i["assigned_to"] == who), "{items:?}");
                let mut ids: Vec<String> = items.iter().map(|i| i["complaint_id"].as_str().unwrap().to_string()).collect();
                ids.sort();
                ids
            }
        };
        let deadlines_of = |who: &'static str| {
            let app = &app;
            async move {
                // Paged by one row at a time: the cursor walks the filtered board intact.
                let mut ids = Vec::new();
                let mut path = format!("/v1/deadlines?assigned_to={who}&limit=1");
                loop {
                    let reply = app.get(&path).await;
                    assert_eq!(reply.status, 200, "{}", reply.body);
                    let items = reply.body["items"].as_array().unwrap();
                    assert!(items.iter().all(|i| i["assigned_to"] == who), "{items:?}");
                    ids.extend(items.iter().map(|i| i["complaint_id"].as_str().unwrap().to_string()));
                    match reply.body["next_cursor"].as_str() {
                        Some(cursor) => path = format!("/v1/deadlines?assigned_to={who}&limit=1&cursor={cursor}"),
                        None => break,
                    }
                }
                assert!(!ids.is_empty());
                ids.sort();
                ids.dedup();
                ids
            }
        };
        assert_eq!(complaints_of("cw-alice").await, vec![first.clone()]);
        assert_eq!(complaints_of("cw-bob").await, vec![second.clone()]);
        assert_eq!(deadlines_of("cw-alice").await, vec![first.clone()]);
        assert_eq!(deadlines_of("cw-bob").await, vec![second.clone()]);
        let unassigned = app.get("/v1/complaints").await;
        let row = unassigned.body["items"].as_array().unwrap().iter().find(|i| i["complaint_id"] == closed.as_str()).unwrap().clone();
        assert!(row["assigned_to"].is_null(), "{row}");

        // A closed complaint is reopened before it is allocated, as risk grading is.
        let shut = app.command(closed, "closure", &json!({"closed_on": "2026-04-10", "reason": "withdrawn"})).await;
        assert_eq!(shut.status, 200, "{}", shut.body);
        let refused = app.command(closed, "assignment", &assign("2026-04-11", "cw-alice")).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert_eq!(refused.content_type, "application/problem+json");
        assert!(refused.body["type"].as_str().unwrap().ends_with("/already-closed"), "{}", refused.body);
        let blank = app.command(first, "assignment", &assign("2026-04-11", "  ")).await;
        assert_eq!(blank.status, 422, "{}", blank.body);
        assert!(blank.body["type"].as_str().unwrap().ends_with("/invalid-field"), "{}", blank.body);

        // The board: a caseworker's "My deadlines" link, and the filtered board showing theirs.
        app.command(first, "assignment", &assign("2026-04-12", "board-reader")).await;
        app.settle().await;
        let cookie = sign_in(&app).await;
        let (status, board) = page(&app, &cookie, "/ui/deadlines").await;
        assert_eq!(status, 200);
        assert!(board.contains("href=\"/ui/deadlines?assigned_to=board-reader\" id=\"my-deadlines\""), "{board}");
        let (_, mine) = page(&app, &cookie, "/ui/deadlines?assigned_to=board-reader").await;
        assert!(mine.contains("Showing your deadlines"));
        assert!(mine.contains(&first[..8]));
        assert!(!mine.contains(&second[..8]));
        let (_, list) = page(&app, &cookie, "/ui/complaints?assigned_to=cw-bob").await;
        assert!(list.contains(&second[..8]) && list.contains("cw-bob"));
        assert!(!list.contains(&first[..8]));
    }

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

    async fn deadlines_are_paged_by_cursor_and_none_is_lost(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        // Several complaints a day, so rows share due days and the order falls back to the
        // complaint, kind and item; two stopped clocks leave rows without a due day.
        let days = ["2025-04-01", "2025-04-02", "2025-04-03"];
        let mut ids = Vec::new();
        for n in 0..40 {
            let reply = app.post_complaint(&minimal_complaint("RAL", days[n % days.len()])).await;
            assert_eq!(reply.status, 201, "{}", reply.body);
            ids.push(reply.body["id"].as_str().unwrap().to_string());
        }
        for id in &ids[..2] {
            let stop = json!({"stopped_on": "2025-04-04", "reason": "awaiting records", "complainant_agreed": true});
            let reply = app.command(id, "clock-stops", &stop).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
        app.settle().await;

        // Every row of the read model, read directly.
        let pool = app.db.raw_pool().await;
        let (mut stored, undated): (Vec<(String, String, i64)>, i64) = complaints_eventlog::on_pool!(&pool, |p| {
            let rows = sqlx::query_as::<_, (String, String, i64)>(
                "SELECT complaint_id, kind, item FROM rm_deadlines WHERE organisation_id = 'RAL'",
            )
            .fetch_all(p)
            .await
            .unwrap();
            let undated = sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM rm_deadlines WHERE organisation_id = 'RAL' AND due_on IS NULL",
            )
            .fetch_one(p)
            .await
            .unwrap();
            (rows, undated)
        });
        stored.sort();
        assert!(stored.len() > 100, "more rows than a page of the API and of the board: {}", stored.len());
        assert!(undated >= 2, "{undated}");

        // The default page is 50 rows, with a cursor to the next.
        let first = app.get("/v1/deadlines").await;
        assert_eq!(first.status, 200, "{}", first.body);
        assert_eq!(first.body["items"].as_array().unwrap().len(), 50);
        assert!(first.body["next_cursor"].is_string(), "{}", first.body);

        // Walking the cursor in small pages yields every row once, soonest first, undated last.
        let mut seen: Vec<Value> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/deadlines?limit=7&cursor={c}"),
                None => "/v1/deadlines?limit=7".to_string(),
            };
            let reply = app.get(&path).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            let items = reply.body["items"].as_array().unwrap();
            seen.extend(items.iter().cloned());
            match reply.body["next_cursor"].as_str() {
                Some(next) => {
                    assert_eq!(items.len(), 7, "only the last page is short");
                    cursor = Some(next.to_string());
                }
                None => break,
            }
            assert!(seen.len() <= stored.len(), "the walk does not end");
        }
        let dues: Vec<Option<&str>> = seen.iter().map(|r| r["due_on"].as_str()).collect();
        for pair in dues.windows(2) {
            match (pair[0], pair[1]) {
                (Some(a), Some(b)) => assert!(a <= b, "{a} before {b}"),
                (None, Some(b)) => panic!("a row due {b} after an undated one"),
                _ => {}
            }
        }
        assert_eq!(dues.iter().filter(|d| d.is_none()).count() as i64, undated);
        let mut walked: Vec<(String, String, i64)> = seen
            .iter()
            .map(|r| (r["complaint_id"].as_str().unwrap().to_string(), r["kind"].as_str().unwrap().to_string(), r["item"].as_i64().unwrap()))
            .collect();
        walked.sort();
        let mut once = walked.clone();
        once.dedup();
        assert_eq!(once.len(), walked.len(), "a row came twice");
        assert_eq!(walked, stored);

        // A filter pages the same way.
        let acks = app.get("/v1/deadlines?kind=acknowledgement&limit=500").await;
        let all_acks = acks.body["items"].as_array().unwrap().len();
        assert!(acks.body["next_cursor"].is_null());
        let mut paged_acks = 0;
        let mut cursor = String::new();
        loop {
            let reply = app.get(&format!("/v1/deadlines?kind=acknowledgement&limit=3{cursor}")).await;
            let items = reply.body["items"].as_array().unwrap();
            assert!(items.iter().all(|i| i["kind"] == "acknowledgement"));
            paged_acks += items.len();
            match reply.body["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        assert_eq!(paged_acks, all_acks);
        assert_eq!(all_acks, ids.len());

        for bad in ["limit=0", "limit=501", "cursor=zz", "cursor=2025-04-01_x"] {
            assert_eq!(app.get(&format!("/v1/deadlines?{bad}")).await.status, 400, "{bad}");
        }

        // The board shows every overdue row once, a page at a time, following "Next page".
        let overdue_rows = seen.iter().filter(|r| r["state"] == "missed" && r["met_on"].is_null()).count();
        assert!(overdue_rows > 100, "more than a page of the board: {overdue_rows}");
        let cookie = sign_in(&app).await;
        let mut path = "/ui/deadlines".to_string();
        let mut rows: Vec<String> = Vec::new();
        let mut pages = 0;
        loop {
            let (status, html) = page(&app, &cookie, &path).await;
            assert_eq!(status, 200, "{html}");
            pages += 1;
            assert_eq!(heading_count(&html, "overdue"), overdue_rows, "the counts cover every page");
            rows.extend(
                html.split("href=\"/ui/complaints/")
                    .skip(1)
                    .map(|row| row[..row.find("</a>").unwrap()].to_string()),
            );
            let Some(end) = html.find("\" rel=\"next\"") else { break };
            let start = html[..end].rfind("href=\"").unwrap() + "href=\"".len();
            path = html[start..end].replace("&amp;", "&");
            assert!(pages < 50, "the board does not end");
        }
        assert!(pages > 1, "the board pages");
        let shown = rows.len();
        rows.sort();
        rows.dedup();
        assert_eq!(rows.len(), shown, "a row was shown twice");
        assert_eq!(shown, overdue_rows, "every overdue row is on some page");
        assert_eq!(page(&app, &cookie, "/ui/deadlines?cursor=zz").await.0, 400);
    }
}
