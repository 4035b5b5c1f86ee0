//! Joint complaints over HTTP (R-JOINT-1, R-JOINT-2, R-CONS-1), on both backends: a
//! complaint about a hospital discharge and the home care after it, made to the council
//! (`LA001`), which leads with the hospital trust (`RAL`) taking part. The trust supplies its
//! part late; both boards show it; one co-ordinated response goes out from the council; each
//! annual report counts it as its own; a third organisation (`RBB`) finds nothing.
#![allow(clippy::unwrap_used)]

use complaints_gateway::Role;
use complaints_tests::{minimal_complaint, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

const COUNCIL: &str = "LA001";
const TRUST: &str = "RAL";
const STRANGER: &str = "RBB";

fn token(app: &TestApp, organisation: &str) -> String {
    app.token_for(
        &[organisation],
        &[
            Role::Frontline,
            Role::Caseworker,
            Role::Auditor,
            Role::Reporting,
        ],
    )
}

async fn post_as(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn command_as(
    app: &TestApp,
    token: &str,
    id: &str,
    command: &str,
    body: Value,
) -> (u16, Value) {
    post_as(app, token, &format!("/v1/complaints/{id}/{command}"), &body).await
}

/// Runs `command` for `token` and expects it to be applied.
async fn step(app: &TestApp, token: &str, id: &str, command: &str, body: Value) -> Value {
    let (status, reply) = command_as(app, token, id, command, body).await;
    assert_eq!(status, 200, "{command}: {reply}");
    reply
}

fn problem_type(reply: &Value) -> &str {
    reply["type"].as_str().unwrap_or_default()
}

/// The deadline rows of complaint `id` on `token`'s board.
async fn board(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let reply = app.get_as(token, "/v1/deadlines?limit=500").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["complaint_id"] == id)
        .cloned()
        .collect()
}

fn part_row(rows: &[Value]) -> Value {
    rows.iter()
        .find(|r| r["kind"] == "participant_part")
        .cloned()
        .unwrap_or_else(|| panic!("no participant_part row in {rows:?}"))
}

async fn annual(app: &TestApp, token: &str, organisation: &str) -> Value {
    let reply = app
        .get_as(
            token,
            &format!("/v1/reports/annual?organisation={organisation}&year=2026"),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["report"].clone()
}

fn history_entry<'a>(history: &'a Value, event_type: &str) -> &'a Value {
    history["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == event_type)
        .unwrap_or_else(|| panic!("no {event_type} in {history}"))
}

on_both_backends! {
    async fn r_joint_2_the_council_leads_the_trust_supplies_its_part_late_and_one_response_goes_out(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let council = token(&app, COUNCIL);
        let trust = token(&app, TRUST);
        let stranger = token(&app, STRANGER);

        // R-JOINT-1: a complaint to the council with material that is the trust's.
        let mut intake = minimal_complaint(COUNCIL, "2026-04-02");
        intake["description"] = json!("Dad was sent home from the Royal Example Hospital without a care plan, and the council's home care did not start for a week.");
        intake["representation_basis"] = json!("requested");
        intake["person_affected"] = json!({"name": "Arthur Example"});
        let (status, created) = post_as(&app, &council, "/v1/complaints", &intake).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_string();
        step(&app, &council, &id, "acknowledgement", json!({"acknowledged_on": "2026-04-07"})).await;
        // Before it is joint the trust does not see it.
        assert_eq!(app.get_as(&trust, &format!("/v1/complaints/{id}")).await.status, 404);

        // R-CONS-1: Arthur's consent is needed; consent to the representative is not consent
        // to share with the trust.
        let add = json!({"organisation_id": TRUST, "agreed_on": "2026-04-09", "agreed_by": "cm-la-1",
            "reason": "The discharge from hospital is the trust's part of the complaint."});
        step(&app, &council, &id, "consent", json!({"decision": "given", "decided_on": "2026-04-08", "evidence": "signed form"})).await;
        let (status, refused) = command_as(&app, &council, &id, "participants", add.clone()).await;
        assert_eq!(status, 422, "{refused}");
        assert!(problem_type(&refused).ends_with("/consent-to-share-missing"), "{refused}");
        assert!(refused["detail"].as_str().unwrap().contains("R-CONS-1"), "{refused}");
        let case = step(&app, &council, &id, "consent-to-share", json!({
            "given_on": "2026-04-08", "for_whom": "person_affected", "given_by": "data_subject",
            "scopes": ["disclose_to_representative", "joint_handling"], "method": "written",
            "evidence": "Signed consent form, section 3.", "share_with": [TRUST]})).await;
        assert_eq!(case["consents"][0]["scopes"], json!(["disclose_to_representative", "joint_handling"]));
        let case = step(&app, &council, &id, "participants", add).await;
        assert_eq!(case["participants"][0]["organisation_id"], TRUST);
        step(&app, &council, &id, "part-request", json!({"organisation_id": TRUST, "requested_on": "2026-04-09", "due_on": "2026-04-23"})).await;

        // The trust sees the council's case, with the people (consent is on record), and
        // its history; it runs only its own part.
        let seen = app.get_as(&trust, &format!("/v1/complaints/{id}")).await;
        assert_eq!(seen.status, 200, "{}", seen.body);
        assert_eq!(seen.body["organisation_id"], COUNCIL);
        assert_eq!(seen.body["complainant"]["name"], "Ann Example");
        assert_eq!(app.get_as(&trust, &format!("/v1/complaints/{id}/history")).await.status, 200);
        let response = json!({
            "sent_on": "2026-05-05", "outcome": "partially_upheld", "signed_by": "dir-asc-1",
            "signed_as": "authorised_delegate", "ombudsman_rights": ["phso", "lgsco"],
            "letter": {"how_considered": "The council and the trust looked at the discharge and the care together.",
                "conclusions": "The care plan was not sent, and home care started late.",
                "actions": "Discharge plans now go to the council the same day."}
        });
        for (command, body) in [
            ("response", response.clone()),
            ("part-request", json!({"organisation_id": TRUST, "requested_on": "2026-04-10", "due_on": "2026-04-24"})),
            ("closure", json!({"closed_on": "2026-04-10", "reason": "withdrawn"})),
        ] {
            let (status, reply) = command_as(&app, &trust, &id, command, body).await;
            assert_eq!(status, 403, "the trust ran {command}: {reply}");
        }
        // The council sends nothing before the trust's part is in, and supplies no part.
        let (status, reply) = command_as(&app, &council, &id, "response", response.clone()).await;
        assert_eq!(status, 422, "{reply}");
        assert!(problem_type(&reply).ends_with("/part-outstanding"), "{reply}");
        assert!(reply["detail"].as_str().unwrap().contains("R-JOINT-2"), "{reply}");
        let part = json!({"provided_on": "2026-04-28", "findings": "Arthur's care plan was written but not sent.",
            "response_section": "The trust is sorry the plan did not reach the council."});
        let (status, reply) = command_as(&app, &council, &id, "provide-part", part.clone()).await;
        assert_eq!(status, 422, "{reply}");
        assert!(problem_type(&reply).ends_with("/not-a-participant"), "{reply}");

        // Past its due day (the tests run after 2026), the part is missed on both boards.
        app.settle().await;
        let lead_row = part_row(&board(&app, &council, &id).await);
        assert_eq!((lead_row["organisation_id"].as_str(), lead_row["lead_organisation_id"].as_str()), (Some(TRUST), Some(COUNCIL)));
        assert_eq!((lead_row["state"].as_str(), lead_row["due_on"].as_str()), (Some("missed"), Some("2026-04-23")));
        let trust_rows = board(&app, &trust, &id).await;
        assert_eq!(trust_rows.len(), 1, "the trust owes only its part: {trust_rows:?}");
        assert_eq!(trust_rows[0]["state"], "missed");

        // The trust supplies it late; the council then sends the one co-ordinated response.
        let case = step(&app, &trust, &id, "provide-part", part).await;
        assert_eq!(case["part_requests"][0]["provided_on"], "2026-04-28");
        let case = step(&app, &council, &id, "response", response).await;
        assert_eq!(case["status"], "responded");
        app.settle().await;
        let lead_row = part_row(&board(&app, &council, &id).await);
        assert_eq!((lead_row["state"].as_str(), lead_row["met_on"].as_str()), (Some("met_late"), Some("2026-04-28")));
        assert_eq!(part_row(&board(&app, &trust, &id).await)["state"], "met_late");

        // The part is the trust's act, recorded under its organisation (so the relay
        // publishes it under the trust's subject); the response records the parts it took in.
        let history = app.get_as(&council, &format!("/v1/complaints/{id}/history")).await.body;
        let provided = history_entry(&history, "PartProvided");
        assert_eq!(provided["organisation_id"], TRUST);
        assert_eq!(provided["data"]["PartProvided"]["findings"], "Arthur's care plan was written but not sent.");
        assert_eq!(history_entry(&history, "ResponseSent")["organisation_id"], COUNCIL);
        let coordinated = history_entry(&history, "ResponseCoordinated");
        assert_eq!(coordinated["data"]["ResponseCoordinated"]["parts"][0]["organisation_id"], TRUST);

        // Case lists: the council leads it, the trust takes part.
        for (who, role) in [(&council, "lead"), (&trust, "participant")] {
            let list = app.get_as(who, "/v1/complaints").await;
            let row = list.body["items"].as_array().unwrap().iter().find(|r| r["complaint_id"] == id.as_str())
                .unwrap_or_else(|| panic!("{role}: {}", list.body)).clone();
            assert_eq!(row["joint_role"], role, "{row}");
            assert_eq!(row["participants"], json!([TRUST]));
        }

        // Annual reports: the council received it; the trust received nothing and
        // contributed to one. The KO41 counts the handler only.
        let led = annual(&app, &council, COUNCIL).await;
        assert_eq!((led["received"].as_u64(), led["contributed_to"].as_u64()), (Some(1), Some(0)), "{led}");
        let took_part = annual(&app, &trust, TRUST).await;
        assert_eq!((took_part["received"].as_u64(), took_part["contributed_to"].as_u64()), (Some(0), Some(1)), "{took_part}");
        let ko41 = app.get_as(&trust, "/v1/reports/written-complaints?organisation=RAL&period=2026").await;
        assert_eq!(ko41.status, 200, "{}", ko41.body);
        assert_eq!(ko41.body["report"]["collections"], json!([]), "{}", ko41.body);

        // A third organisation finds nothing on any route.
        assert_eq!(app.get_as(&stranger, &format!("/v1/complaints/{id}")).await.status, 404);
        assert_eq!(app.get_as(&stranger, &format!("/v1/complaints/{id}/history")).await.status, 404);
        assert_eq!(app.get_as(&stranger, &format!("/v1/complaints/{id}?as_of=2026-12-01T00:00:00Z")).await.status, 404);
        for spec in complaints_gateway::app::commands::COMMANDS {
            let (status, reply) = command_as(&app, &stranger, &id, spec.name, json!({})).await;
            assert_eq!(status, 404, "{}: {reply}", spec.name);
        }
        let list = app.get_as(&stranger, "/v1/complaints").await;
        assert!(!list.body["items"].as_array().unwrap().iter().any(|r| r["complaint_id"] == id.as_str()));
        assert!(board(&app, &stranger, &id).await.is_empty());
    }

    async fn r_cons_1_a_participant_sees_the_people_only_once_consent_to_share_is_on_record(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let council = token(&app, COUNCIL);
        let trust = token(&app, TRUST);
        // Made by the person affected: nobody else's consent is needed to take the trust in.
        let (status, created) = post_as(&app, &council, "/v1/complaints", &minimal_complaint(COUNCIL, "2026-04-02")).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_string();
        step(&app, &council, &id, "participants", json!({"organisation_id": TRUST, "agreed_on": "2026-04-07",
            "agreed_by": "cm-la-1", "reason": "The discharge is the trust's."})).await;
        let (status, reply) = command_as(&app, &council, &id, "participants", json!({"organisation_id": COUNCIL,
            "agreed_on": "2026-04-07", "agreed_by": "cm-la-1", "reason": "x"})).await;
        assert_eq!(status, 422);
        assert!(problem_type(&reply).ends_with("/participant-is-lead"), "{reply}");

        // Without the complainant's consent to share, the trust sees the facts, not the people.
        let seen = app.get_as(&trust, &format!("/v1/complaints/{id}")).await;
        assert_eq!(seen.status, 200, "{}", seen.body);
        assert_eq!(seen.body["status"], "received");
        for personal in ["complainant", "description", "person_affected"] {
            assert!(seen.body.get(personal).is_none(), "{personal} shown: {}", seen.body);
        }
        let history = app.get_as(&trust, &format!("/v1/complaints/{id}/history")).await;
        assert_eq!(history.status, 200, "{}", history.body);
        let text = history.body.to_string();
        assert!(!text.contains("Ann Example") && !text.contains("discharge letter"), "{text}");
        let (status, added) = command_as(&app, &trust, &id, "provide-part", json!({"provided_on": "2026-04-08",
            "findings": "f", "response_section": "s"})).await;
        assert_eq!(status, 422, "nothing was asked of it: {added}");
        assert!(problem_type(&added).ends_with("/no-part-requested"), "{added}");

        step(&app, &council, &id, "consent-to-share", json!({"given_on": "2026-04-08", "for_whom": "complainant",
            "given_by": "data_subject", "scopes": ["joint_handling"], "method": "email"})).await;
        let seen = app.get_as(&trust, &format!("/v1/complaints/{id}")).await;
        assert_eq!(seen.body["complainant"]["name"], "Ann Example", "{}", seen.body);
        assert!(app.get_as(&trust, &format!("/v1/complaints/{id}/history")).await.body.to_string().contains("Ann Example"));

        // R-KIND-3: a whistleblowing concern is never joint.
        let whistle = app.token_for(&[COUNCIL], &[Role::Whistleblowing]);
        let mut concern = minimal_complaint(COUNCIL, "2026-04-02");
        concern["kind"] = json!("whistleblowing");
        let (status, created) = post_as(&app, &whistle, "/v1/whistleblowing-concerns", &concern).await;
        assert_eq!(status, 201, "{created}");
        let concern_id = created["id"].as_str().unwrap().to_string();
        let (status, refused) = command_as(&app, &whistle, &concern_id, "participants", json!({"organisation_id": TRUST,
            "agreed_on": "2026-04-07", "agreed_by": "wb-1", "reason": "x"})).await;
        assert_eq!(status, 422, "{refused}");
        assert!(problem_type(&refused).ends_with("/not-for-this-kind"), "{refused}");
    }
}
