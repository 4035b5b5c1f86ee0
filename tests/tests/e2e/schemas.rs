//! Self-description: the OpenAPI document and the event schemas checked in under `schemas/`
//! are the ones the code generates, the service serves that document, and what it answers
//! matches it.
//!
//! After changing a wire type, regenerate and review the diff:
//! `UPDATE_SCHEMAS=1 cargo test -p complaints-tests --test e2e schemas::`.
#![allow(clippy::unwrap_used)]

use complaints_domain::{event_schemas, ComplaintEvent, JSON_SCHEMA_DIALECT};
use complaints_gateway::Role;
use complaints_tests::{minimal_complaint, spawn_app, Backend, Reply, TestApp};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const REGENERATE: &str = "UPDATE_SCHEMAS=1 cargo test -p complaints-tests --test e2e schemas::";

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("schemas")
}

/// Keys sorted at every level, whatever order the maps kept.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let entries: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), v))
                    .collect::<Map<String, Value>>(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The checked-in form: pretty-printed, keys sorted, one trailing newline.
fn render(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&sorted(value)).unwrap();
    text.push('\n');
    text
}

/// Every generated file, by its path under `schemas/`.
fn generated_files() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    files.insert(
        "openapi.json".to_string(),
        render(&complaints_gateway::openapi()),
    );
    let mut index = Vec::new();
    for schema in event_schemas() {
        index.push(json!({
            "type": schema.event_type,
            "version": schema.version,
            "file": schema.file_name(),
        }));
        files.insert(
            format!("events/{}", schema.file_name()),
            render(&schema.schema),
        );
    }
    files.insert(
        "events/index.json".to_string(),
        render(&json!({ "events": index })),
    );
    // The plain form of each type now written sealed: still what its older payloads are.
    for schema in complaints_domain::superseded_event_schemas() {
        files.insert(
            format!("events/superseded/{}", schema.file_name()),
            render(&schema.schema),
        );
    }
    files
}

/// The JSON files directly under `schemas/events/` (superseded versions live below it).
fn checked_in_event_files() -> Vec<String> {
    let dir = schemas_dir().join("events");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
        .map(|p| format!("events/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    names.sort();
    names
}

/// `UPDATE_SCHEMAS=1`: rewrite the checked-in files instead of comparing.
fn updating() -> bool {
    std::env::var_os("UPDATE_SCHEMAS").is_some_and(|v| v == "1")
}

#[test]
fn the_checked_in_schemas_are_the_generated_ones() {
    let dir = schemas_dir();
    let generated = generated_files();
    let extra: Vec<String> = checked_in_event_files()
        .into_iter()
        .filter(|name| !generated.contains_key(name))
        .collect();

    if updating() {
        std::fs::create_dir_all(dir.join("events/superseded")).unwrap();
        for (name, text) in &generated {
            std::fs::write(dir.join(name), text).unwrap();
        }
        for name in &extra {
            std::fs::remove_file(dir.join(name)).unwrap();
        }
        return;
    }

    let mut problems = Vec::new();
    for (name, text) in &generated {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(current) if &current == text => {}
            Ok(_) => problems.push(format!(
                "schemas/{name} differs from what the code generates"
            )),
            Err(_) => problems.push(format!("schemas/{name} is missing")),
        }
    }
    for name in &extra {
        problems.push(format!(
            "schemas/{name} is no longer generated (move a superseded version to schemas/events/superseded/)"
        ));
    }
    assert!(
        problems.is_empty(),
        "{}\nRegenerate with `{REGENERATE}` and review the diff (see schemas/README.md).",
        problems.join("\n")
    );
}

#[test]
fn the_event_index_lists_every_type_at_its_current_version() {
    let files = generated_files();
    let index: Value = serde_json::from_str(&files["events/index.json"]).unwrap();
    let listed: Vec<&str> = index["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ComplaintEvent::TYPES);
    for entry in index["events"].as_array().unwrap() {
        assert!(files.contains_key(&format!("events/{}", entry["file"].as_str().unwrap())));
    }
}

#[test]
fn the_openapi_document_is_openapi_3_1_with_valid_schemas() {
    let doc = complaints_gateway::openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["jsonSchemaDialect"], JSON_SCHEMA_DIALECT);
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            panic!("components/schemas/{name} is not valid JSON Schema 2020-12: {e}");
        }
    }
}

/// A validator for `components/schemas/<name>` of the OpenAPI document.
fn component_validator(doc: &Value, name: &str) -> jsonschema::Validator {
    let schema = json!({
        "$schema": JSON_SCHEMA_DIALECT,
        "$ref": format!("#/components/schemas/{name}"),
        "components": { "schemas": doc["components"]["schemas"] },
    });
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_matches(doc: &Value, name: &str, instance: &Value) {
    let validator = component_validator(doc, name);
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "does not match {name}:\n  {}\n{instance:#}",
        errors.join("\n  ")
    );
}

fn checked_in_openapi() -> Value {
    let text = std::fs::read_to_string(schemas_dir().join("openapi.json"))
        .unwrap_or_else(|e| panic!("schemas/openapi.json: {e}; regenerate with `{REGENERATE}`"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_sample_complaint_matches_the_receive_body_schema() {
    let doc = complaints_gateway::openapi();
    assert_matches(
        &doc,
        "ReceiveComplaint",
        &minimal_complaint("RAL", "2026-04-02"),
    );
    let mut wrong = minimal_complaint("RAL", "2026-04-02");
    wrong["channel"] = json!("pigeon");
    assert!(!component_validator(&doc, "ReceiveComplaint").is_valid(&wrong));
}

async fn get_anonymously(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_serves_the_checked_in_document_without_a_token() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };

    let (status, served) = get_anonymously(&app, "/openapi.json").await;

    assert_eq!(status, 200);
    assert!(served == complaints_gateway::openapi());
    if updating() {
        return;
    }
    assert!(
        served == checked_in_openapi(),
        "GET /openapi.json differs from schemas/openapi.json; regenerate with `{REGENERATE}`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_views_and_problems_match_the_document() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let doc = complaints_gateway::openapi();

    let created = app
        .post_complaint(&minimal_complaint("RAL", "2026-04-02"))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_matches(&doc, "ComplaintView", &created.body);

    let id = created.body["id"].as_str().unwrap().to_string();
    let steps = [
        ("acknowledgement", json!({"acknowledged_on": "2026-04-07"})),
        (
            "risk-assessment",
            json!({"assessed_on": "2026-04-07", "seriousness": "low", "likelihood": "rare"}),
        ),
        (
            "response-plan",
            json!({"agreed_on": "2026-04-07", "response_due_on": "2026-05-29"}),
        ),
        (
            "clock-stops",
            json!({"stopped_on": "2026-04-08", "reason": "Awaiting records."}),
        ),
    ];
    for (command, body) in steps {
        let done = app.command(&id, command, &body).await;
        assert_eq!(done.status, 200, "{command}: {:?}", done.body);
        assert_matches(&doc, "ComplaintView", &done.body);
    }
    let fetched = app.get(&format!("/v1/complaints/{id}")).await;
    assert_eq!(fetched.status, 200);
    assert_matches(&doc, "ComplaintView", &fetched.body);

    let refused = app
        .command(
            &id,
            "acknowledgement",
            &json!({"acknowledged_on": "2026-04-07"}),
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_matches(&doc, "Problem", &refused.body);
    let stale = app
        .post(
            &format!("/v1/complaints/{id}/clock-restarts"),
            &json!({"restarted_on": "2026-04-09"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale.status, 412);
    assert_matches(&doc, "Problem", &stale.body);
}

/// Where `body` departs from the 200 JSON answer documented for `GET <template>`.
fn answer_errors(doc: &Value, template: &str, body: &Value) -> Vec<String> {
    let documented =
        &doc["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(
        documented.get("$ref").is_some(),
        "GET {template} documents its answer as {documented}"
    );
    let schema = json!({
        "$schema": JSON_SCHEMA_DIALECT,
        "$ref": "#/answer",
        "answer": documented,
        "components": { "schemas": doc["components"]["schemas"] },
    });
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    validator
        .iter_errors(body)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Checks that `reply` is a 200 whose JSON body matches the 200 answer documented for
/// `GET <template>`.
fn assert_documented_answer(doc: &Value, template: &str, path: &str, reply: &Reply) {
    assert_eq!(reply.status, 200, "GET {path}: {:?}", reply.body);
    assert!(
        reply.content_type.starts_with("application/json"),
        "GET {path}: {}",
        reply.content_type
    );
    let errors = answer_errors(doc, template, &reply.body);
    assert!(
        errors.is_empty(),
        "GET {path} does not match its documented answer:\n  {}\n{:#}",
        errors.join("\n  "),
        reply.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_answers_match_the_document() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let doc = complaints_gateway::openapi();
    let created = app
        .post_complaint(&minimal_complaint("RAL", "2026-04-02"))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    for (command, body) in [
        ("acknowledgement", json!({"acknowledged_on": "2026-04-07"})),
        (
            "learning",
            json!({"recorded_on": "2026-05-01", "kind": "action", "summary": "Track discharge letters", "action_due_on": "2026-12-01"}),
        ),
    ] {
        let done = app.command(&id, command, &body).await;
        assert_eq!(done.status, 200, "{command}: {:?}", done.body);
    }
    app.settle().await;
    let reporting = app.token_for(&["RAL"], &[Role::Reporting]);

    let queries = [
        ("/v1/complaints", "/v1/complaints".to_string(), &reporting),
        ("/v1/deadlines", "/v1/deadlines".to_string(), &reporting),
        (
            "/v1/complaints/{id}/history",
            format!("/v1/complaints/{id}/history"),
            &app.token,
        ),
        (
            "/v1/reports/annual",
            "/v1/reports/annual?organisation=RAL&year=2026".to_string(),
            &reporting,
        ),
        (
            "/v1/reports/written-complaints",
            "/v1/reports/written-complaints?organisation=RAL&period=2026".to_string(),
            &reporting,
        ),
        (
            "/v1/reports/annual/lessons",
            "/v1/reports/annual/lessons?organisation=RAL&year=2026&limit=1".to_string(),
            &reporting,
        ),
        ("/v1/audit/head", "/v1/audit/head".to_string(), &app.token),
        ("/v1/audit/key", "/v1/audit/key".to_string(), &app.token),
        (
            "/v1/audit/access-log",
            "/v1/audit/access-log".to_string(),
            &app.token,
        ),
    ];
    for (template, path, token) in queries {
        let reply = app.get_as(token, &path).await;
        assert_documented_answer(&doc, template, &path, &reply);
    }

    // The answers were not vacuous: rows, events and learning were there to check.
    let list = app.get_as(&reporting, "/v1/complaints").await.body;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let mut wrong = list.clone();
    wrong["items"][0]["received_on"] = json!(42);
    assert!(!answer_errors(&doc, "/v1/complaints", &wrong).is_empty());
    let deadlines = app.get_as(&reporting, "/v1/deadlines").await.body;
    assert!(!deadlines["items"].as_array().unwrap().is_empty());
    let history = app.get(&format!("/v1/complaints/{id}/history")).await.body;
    assert_eq!(history["events"].as_array().unwrap().len(), 3);
    assert!(history["events"][0]["seal"].is_object(), "{history:#}");
    let annual = app
        .get_as(&reporting, "/v1/reports/annual?organisation=RAL&year=2026")
        .await
        .body;
    assert_eq!(annual["report"]["received"], 1);
    assert_eq!(
        annual["report"]["learning"]["actions"]["recent"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let (status, ready) = get_anonymously(&app, "/readyz").await;
    let ready = Reply {
        status,
        etag: None,
        content_type: "application/json".into(),
        body: ready,
    };
    assert_documented_answer(&doc, "/readyz", "/readyz", &ready);
    let example = Reply {
        body: doc["paths"]["/readyz"]["get"]["responses"]["200"]["content"]["application/json"]
            ["example"]
            .clone(),
        ..ready
    };
    assert_documented_answer(&doc, "/readyz", "the /readyz example", &example);
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_is_served_and_guarded_by_its_documented_roles() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let doc = complaints_gateway::openapi();
    let id = app
        .post_complaint(&minimal_complaint("RAL", "2026-04-02"))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();

    // A registered organisation to read.
    let registered = app
        .client
        .put(format!("{}/v1/organisations/RAL", app.address))
        .bearer_auth(app.token_for(&["RAL"], &[Role::Administrator]))
        .json(&json!({"organisation": {"id": "RAL", "name": "Royal Example", "type": "nhs_trust"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status().as_u16(), 200);
    // A data subject to read: a complainant with an NHS number, found as a DPO would.
    let mut named = minimal_complaint("RAL", "2026-04-02");
    named["complainant"]["identifier"] = json!("9434765919");
    assert_eq!(app.post_complaint(&named).await.status, 201);
    let dpo = app.token_for(&["RAL"], &[Role::DataProtection]);
    let found = app
        .client
        .post(format!("{}/v1/data-subjects/lookup", app.address))
        .bearer_auth(&dpo)
        .json(&json!({"nhs_number": "9434765919"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let subject_id = found["subject_id"].as_str().unwrap().to_string();

    for (method, template, operation) in operations(&doc) {
        let path = template
            .replace("{id}", &id)
            .replace("{organisation_id}", "RAL")
            .replace("{subject_id}", &subject_id);
        let send = |token: Option<String>| {
            let url = format!("{}{path}", app.address);
            let mut request = match method.as_str() {
                "get" => app.client.get(url),
                "post" => app.client.post(url).json(&json!({})),
                "put" => app.client.put(url).json(&json!({})),
                other => panic!("undocumented method {other}"),
            };
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            async move { request.send().await.unwrap().status().as_u16() }
        };

        let anonymous = send(None).await;
        let Some(roles) = operation["x-roles"].as_array() else {
            assert_eq!(
                anonymous, 200,
                "{method} {template} is documented without authentication"
            );
            continue;
        };
        assert_eq!(anonymous, 401, "{method} {template} without a token");

        let documented: Vec<Role> = roles
            .iter()
            .map(|r| Role::parse(r.as_str().unwrap()).unwrap())
            .collect();
        let others: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| !documented.contains(r))
            .collect();
        let refused = send(Some(app.token_for(&["RAL"], &others))).await;
        assert_eq!(refused, 403, "{method} {template} with roles {others:?}");
        for role in documented {
            let allowed = send(Some(app.token_for(&["RAL"], &[role]))).await;
            assert!(
                ![401, 403, 404, 405].contains(&allowed),
                "{method} {template} as {role:?}: {allowed}"
            );
        }
    }
}
