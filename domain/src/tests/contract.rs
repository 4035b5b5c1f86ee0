//! The event schemas themselves: one per type at its current version, valid JSON Schema, and
//! strict enough that the check every other test runs through `given` and `when` can fail.

use super::*;
use serde_json::json;

fn received_payload() -> Value {
    serde_json::to_value(received("2026-04-02")).unwrap()
}

#[test]
fn every_event_type_has_one_schema_at_its_current_version() {
    let schemas = event_schemas();
    let listed: Vec<(&str, &str)> = schemas
        .iter()
        .map(|s| (s.event_type.as_str(), s.version.as_str()))
        .collect();
    let expected: Vec<(&str, &str)> = ComplaintEvent::TYPES
        .iter()
        .map(|t| (*t, ComplaintEvent::version_of(t)))
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(schemas[0].file_name(), "ComplaintReceived.v1.0.json");
}

#[test]
fn every_event_schema_is_valid_json_schema_2020_12() {
    for schema in event_schemas() {
        assert_eq!(schema.schema["$schema"], JSON_SCHEMA_DIALECT);
        if let Err(e) = jsonschema::meta::validate(&schema.schema) {
            panic!("{}: {e}", schema.file_name());
        }
    }
}

#[test]
fn each_schema_carries_only_the_definitions_it_needs() {
    let schemas = event_schemas();
    let acknowledged = schemas
        .iter()
        .find(|s| s.event_type == "ComplaintAcknowledged")
        .unwrap();
    assert!(acknowledged.schema.get("$defs").is_none());
    let received = &schemas[0].schema["$defs"];
    assert!(received.get("Channel").is_some());
    assert!(received.get("Ombudsman").is_none());
}

#[test]
fn personal_data_fields_are_marked_confidential() {
    let received = &event_schemas()[0].schema;
    let particulars = &received["properties"]["ComplaintReceived"]["properties"]["particulars"];
    assert_eq!(particulars["x-confidential"], true);
}

#[test]
fn a_received_complaint_by_carrier_pigeon_fails_its_schema() {
    let mut payload = received_payload();
    payload["ComplaintReceived"]["channel"] = json!("pigeon");

    let errors = schema_errors("ComplaintReceived", "1.0", &payload);

    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("/ComplaintReceived/channel"),
        "{errors:?}"
    );
}

#[test]
fn a_received_complaint_without_its_receipt_date_fails_its_schema() {
    let mut payload = received_payload();
    payload["ComplaintReceived"]
        .as_object_mut()
        .unwrap()
        .remove("received_on");

    let errors = schema_errors("ComplaintReceived", "1.0", &payload);

    assert!(
        errors.iter().any(|e| e.contains("received_on")),
        "{errors:?}"
    );
}

#[test]
fn a_date_that_is_not_a_calendar_date_fails_its_schema() {
    let mut payload = received_payload();
    payload["ComplaintReceived"]["received_on"] = json!("02/04/2026");

    assert!(!schema_errors("ComplaintReceived", "1.0", &payload).is_empty());
}

#[test]
fn a_payload_under_another_type_fails_that_type_s_schema() {
    assert!(!schema_errors("ComplaintAcknowledged", "1.0", &received_payload()).is_empty());
    assert!(!schema_errors("ComplaintReceived", "9.9", &received_payload()).is_empty());
}

#[test]
#[should_panic(expected = "ComplaintReceived v1.0 does not match its schema")]
fn the_check_run_on_every_test_s_events_fails_on_a_wrong_payload() {
    let mut payload = received_payload();
    payload["ComplaintReceived"]["channel"] = json!("pigeon");
    assert_conforms("ComplaintReceived", "1.0", &payload);
}

#[test]
fn a_valid_payload_passes() {
    assert_conforms("ComplaintReceived", "1.0", &received_payload());
}
