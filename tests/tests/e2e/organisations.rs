//! The organisation register over HTTP (R-SCOPE-1, R-SCOPE-4), the rules it drives
//! (R-RESP-2, R-OMB-3), and cases that cross organisations or kinds: a transfer landing at
//! the receiver (R-SCOPE-2), a commissioner passing a complaint to the provider (R-SCOPE-3),
//! an enquiry treated as a complaint (R-KIND-1), a whistleblowing concern kept apart
//! (R-KIND-3). On both backends.
#![allow(clippy::unwrap_used)]

use complaints_gateway::Role;
use complaints_tests::{minimal_complaint, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

fn trust(id: &str) -> Value {
    json!({
        "organisation": {
            "id": id,
            "name": "Royal Example Hospital NHS Foundation Trust",
            "type": "foundation_trust",
            "ods_code": id,
            "sites": [{"code": format!("{id}01"), "name": "Main site"}],
            "responsible_person": "ceo-1",
            "authorised_delegates": ["dir-2"]
        }
    })
}

async fn put_as(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .put(format!("{}{path}", app.address))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
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

fn id_of(reply: &Value) -> String {
    reply["id"].as_str().unwrap().to_string()
}

on_both_backends! {
    async fn r_scope_4_the_register_is_kept_by_administrators_and_every_change_is_recorded(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let admin = app.token_for(&["RAL"], &[Role::Administrator]);
        // A caseworker may read the register but not change it.
        let (status, body) = put_as(&app, &app.token, "/v1/organisations/RAL", &trust("RAL")).await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = put_as(&app, &admin, "/v1/organisations/RAL", &trust("RAL")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["ombudsmen"], json!(["phso"]));
        assert_eq!(body["return_collection"], "ko41a");
        // A malformed ODS code is refused with problem+json and stores nothing.
        let mut bad = trust("RAL");
        bad["organisation"]["ods_code"] = json!("ral-1");
        let (status, body) = put_as(&app, &admin, "/v1/organisations/RAL", &bad).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["type"].as_str().unwrap().ends_with("invalid-field"), "{body}");
        // The path names the organisation.
        let (status, _) = put_as(&app, &admin, "/v1/organisations/RAL", &trust("RBB")).await;
        assert_eq!(status, 422);
        // An administrator of one organisation cannot rewrite another's record.
        let (status, _) = put_as(&app, &admin, "/v1/organisations/RBB", &trust("RBB")).await;
        assert_eq!(status, 403);
        let history = app.get("/v1/organisations/RAL/history").await;
        assert_eq!(history.status, 200, "{}", history.body);
        let items = history.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{}", history.body);
        assert_eq!(items[0]["changed_by"], "test-user");
        assert_eq!(items[0]["change"]["organisation"]["responsible_person"], "ceo-1");
        // Another organisation's record is not shown.
        let other = app.token_for(&["RBB"], &[Role::Caseworker]);
        assert_eq!(app.get_as(&other, "/v1/organisations/RAL").await.status, 404);
        let listed = app.get_as(&other, "/v1/organisations").await;
        assert_eq!(listed.body["items"], json!([]));
    }

    async fn r_resp_2_only_the_registered_signatories_sign_a_response(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let admin = app.token_for(&["RAL"], &[Role::Administrator]);
        assert_eq!(put_as(&app, &admin, "/v1/organisations/RAL", &trust("RAL")).await.0, 200);
        let id = id_of(&app.post_complaint(&minimal_complaint("RAL", "2026-04-02")).await.body);
        let letter = json!({"how_considered": "Records reviewed.", "conclusions": "Upheld.", "actions": "Training arranged."});
        let unsigned = app.command(&id, "response", &json!({"sent_on": "2026-04-20", "outcome": "upheld",
            "signed_by": "someone-else", "signed_as": "responsible_person", "ombudsman_rights": ["phso"], "letter": letter})).await;
        assert_eq!(unsigned.status, 422, "{}", unsigned.body);
        assert!(unsigned.body["type"].as_str().unwrap().ends_with("signatory-not-authorised"), "{}", unsigned.body);
        // R-OMB-3: the trust's response names the LGSCO only: recorded, and flagged.
        let sent = app.command(&id, "response", &json!({"sent_on": "2026-04-20", "outcome": "upheld",
            "signed_by": "dir-2", "signed_as": "authorised_delegate", "ombudsman_rights": ["lgsco"], "letter": letter})).await;
        assert_eq!(sent.status, 200, "{}", sent.body);
        let codes: Vec<&str> = sent.body["warnings"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap()).collect();
        assert!(codes.contains(&"ombudsman-not-named"), "{codes:?}");
        // A complaint naming a site the trust does not have is refused.
        let mut elsewhere = minimal_complaint("RAL", "2026-04-02");
        elsewhere["site"] = json!("RAL99");
        let refused = app.post_complaint(&elsewhere).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
    }

    async fn r_scope_2_a_transfer_closes_at_the_sender_and_opens_at_the_receiver(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let mut intake = minimal_complaint("RAL", "2026-04-01");
        intake["source"] = json!({"system": "pals-desk", "reference": "T-1"});
        let id = id_of(&app.post_complaint(&intake).await.body);
        let transfer = json!({"closed_on": "2026-04-02", "reason": "transferred", "transferred_to": "RBB",
            "receiver_received_on": "2026-04-07"});
        let closed = app.post(&format!("/v1/complaints/{id}/closure"), &transfer, &[("idempotency-key", "transfer-1")]).await;
        assert_eq!(closed.status, 200, "{}", closed.body);
        assert_eq!(closed.body["closure"]["reason"], "transferred");
        let links = closed.body["linked_cases"].as_array().unwrap();
        assert_eq!(links.len(), 1, "{}", closed.body);
        assert_eq!(links[0]["organisation_id"], "RBB");
        assert_eq!(links[0]["relation"], "transferred_in");
        let received_id = links[0]["case_id"].as_str().unwrap().to_string();
        // A retry of the same transfer opens nothing new.
        let again = app.post(&format!("/v1/complaints/{id}/closure"), &transfer, &[("idempotency-key", "transfer-1")]).await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(again.body["linked_cases"].as_array().unwrap().len(), 1);

        let receiver = app.token_for(&["RBB"], &[Role::Caseworker, Role::Frontline]);
        let there = app.get_as(&receiver, &format!("/v1/complaints/{received_id}")).await;
        assert_eq!(there.status, 200, "{}", there.body);
        assert_eq!(there.body["organisation_id"], "RBB");
        assert_eq!(there.body["received_on"], "2026-04-07");
        assert_eq!(there.body["origin"]["case_id"], id.as_str());
        assert_eq!(there.body["origin"]["first_received_on"], "2026-04-01");
        assert_eq!(there.body["description"], intake["description"]);
        // Its clocks start on the day it received it: the 3rd working day after 2026-04-07.
        assert_eq!(there.body["deadlines"]["acknowledge_by"], "2026-04-10");
        // The same frontline reference sent straight to the receiver finds that complaint.
        let mut direct = intake.clone();
        direct["organisation_id"] = json!("RBB");
        let (status, body) = post_as(&app, &receiver, "/v1/complaints", &direct).await;
        assert!(status == 200 || status == 201, "{body}");
        assert_eq!(body["id"], received_id.as_str());
        // Each organisation sees its own case only; a third sees neither.
        assert_eq!(app.get(&format!("/v1/complaints/{received_id}")).await.status, 404);
        let third = app.token_for(&["RXX"], &[Role::Caseworker, Role::Auditor]);
        assert_eq!(app.get_as(&third, &format!("/v1/complaints/{received_id}")).await.status, 404);
        assert_eq!(app.get_as(&third, &format!("/v1/complaints/{id}")).await.status, 404);
        // Counted once, by the body that handles it (R-AR-5): received at RBB, transferred
        // out (not received) at RAL.
        app.settle().await;
        let report = |org: &'static str| {
            let token = app.token_for(&[org], &[Role::Reporting]);
            let app = &app;
            async move {
                app.get_as(&token, &format!("/v1/reports/annual?organisation={org}&year=2026"))
                    .await
                    .body["report"]
                    .clone()
            }
        };
        let sender = report("RAL").await;
        assert_eq!(sender["received"], 0, "{sender}");
        assert_eq!(sender["transferred_out"], 1, "{sender}");
        let receiver = report("RBB").await;
        assert_eq!(receiver["received"], 1, "{receiver}");
    }

    async fn r_scope_3_a_commissioner_passes_a_complaint_to_the_provider_with_consent(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let icb = app.token_for(&["QWE"], &[Role::Caseworker, Role::Frontline]);
        let mut intake = minimal_complaint("QWE", "2026-04-01");
        intake["route"] = json!("commissioner");
        intake["provider_id"] = json!("RAL");
        let (status, created) = post_as(&app, &icb, "/v1/complaints", &intake).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["provider_id"], "RAL");
        let id = id_of(&created);
        let without = json!({"closed_on": "2026-04-02", "reason": "transferred", "transferred_to": "RAL"});
        let (status, body) = post_as(&app, &icb, &format!("/v1/complaints/{id}/closure"), &without).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["type"].as_str().unwrap().ends_with("transfer-consent-missing"), "{body}");
        let with = json!({"closed_on": "2026-04-02", "reason": "transferred", "transferred_to": "RAL", "complainant_consented": true});
        let (status, body) = post_as(&app, &icb, &format!("/v1/complaints/{id}/closure"), &with).await;
        assert_eq!(status, 200, "{body}");
        let provider_case = body["linked_cases"][0]["case_id"].as_str().unwrap().to_string();
        assert_eq!(body["linked_cases"][0]["relation"], "passed_by_commissioner");
        let at_provider = app.get(&format!("/v1/complaints/{provider_case}")).await;
        assert_eq!(at_provider.status, 200, "{}", at_provider.body);
        assert_eq!(at_provider.body["route"], "provider");
        assert_eq!(at_provider.body["received_on"], "2026-04-02");
        assert_eq!(at_provider.body["origin"]["organisation_id"], "QWE");
    }

    async fn r_kind_1_an_enquiry_treated_as_a_complaint_opens_a_linked_complaint(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let mut intake = minimal_complaint("RAL", "2026-04-02");
        intake["kind"] = json!("enquiry");
        intake["enquiry_type"] = json!("patient_choice");
        let created = app.post_complaint(&intake).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(created.body["deadlines"]["contact_by"], "2026-04-30");
        let id = id_of(&created.body);
        let refused = app.command(&id, "delay-notification", &json!({"notified_on": "2026-04-10", "reason": "Waiting."})).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        let treated = app.command(&id, "treat-as-complaint", &json!({"treated_on": "2026-04-09"})).await;
        assert_eq!(treated.status, 200, "{}", treated.body);
        assert_eq!(treated.body["closure"]["reason"], "treated_as_complaint");
        let complaint_id = treated.body["linked_cases"][0]["case_id"].as_str().unwrap().to_string();
        let complaint = app.get(&format!("/v1/complaints/{complaint_id}")).await;
        assert_eq!(complaint.status, 200, "{}", complaint.body);
        assert!(complaint.body.get("kind").is_none() || complaint.body["kind"] == "complaint", "{}", complaint.body);
        assert_eq!(complaint.body["received_on"], "2026-04-09");
        assert_eq!(complaint.body["origin"]["relation"], "enquiry_treated_as_complaint");
        assert_eq!(complaint.body["origin"]["case_id"], id.as_str());
        // The complaint's statutory clocks run from the day it became one.
        assert_eq!(complaint.body["deadlines"]["acknowledge_by"], "2026-04-14");
        // The case list tells the kinds apart.
        app.settle().await;
        let enquiries = app.get("/v1/complaints?organisation=RAL&kind=enquiry").await;
        assert_eq!(enquiries.status, 200, "{}", enquiries.body);
        let listed: Vec<&str> = enquiries.body["items"].as_array().unwrap().iter().map(|r| r["complaint_id"].as_str().unwrap()).collect();
        assert_eq!(listed, vec![id.as_str()]);
        let complaints = app.get("/v1/complaints?organisation=RAL&kind=complaint").await;
        let listed: Vec<&str> = complaints.body["items"].as_array().unwrap().iter().map(|r| r["complaint_id"].as_str().unwrap()).collect();
        assert_eq!(listed, vec![complaint_id.as_str()]);
    }

    async fn r_kind_3_a_whistleblowing_concern_is_seen_by_its_own_role_only(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let mut concern = minimal_complaint("RAL", "2026-04-02");
        concern["kind"] = json!("whistleblowing");
        // A caseworker or frontline system cannot take one in, by either intake.
        let refused = app.post_complaint(&concern).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        let refused = app.post("/v1/whistleblowing-concerns", &concern, &[]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        let guardian = app.token_for(&["RAL"], &[Role::Whistleblowing]);
        let (status, created) = post_as(&app, &guardian, "/v1/whistleblowing-concerns", &concern).await;
        assert_eq!(status, 201, "{created}");
        let id = id_of(&created);
        // Caseworkers and auditors of the same organisation do not know it exists.
        assert_eq!(app.get(&format!("/v1/complaints/{id}")).await.status, 404);
        let ack = app.command(&id, "acknowledgement", &json!({"acknowledged_on": "2026-04-03"})).await;
        assert_eq!(ack.status, 404, "{}", ack.body);
        assert_eq!(app.get_as(&guardian, &format!("/v1/complaints/{id}")).await.status, 200);
        let (status, body) = post_as(&app, &guardian, &format!("/v1/complaints/{id}/acknowledgement"), &json!({"acknowledged_on": "2026-04-03"})).await;
        assert_eq!(status, 200, "{body}");
        // Never in the case list, the deadlines board or the annual report.
        app.settle().await;
        let list = app.get("/v1/complaints?organisation=RAL").await;
        assert!(!list.body.to_string().contains(&id), "{}", list.body);
        let board = app.get("/v1/deadlines?organisation=RAL").await;
        assert!(!board.body.to_string().contains(&id), "{}", board.body);
        let reporting = app.token_for(&["RAL"], &[Role::Reporting]);
        let report = app.get_as(&reporting, "/v1/reports/annual?organisation=RAL&year=2026").await;
        assert_eq!(report.status, 200, "{}", report.body);
        assert_eq!(report.body["report"]["received"], 0, "{}", report.body);
    }
}
