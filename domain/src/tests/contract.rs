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
    assert_eq!(schemas[0].file_name(), "ComplaintReceived.v2.0.json");
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

    let errors = schema_errors("ComplaintReceived", "2.0", &payload);

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

    let errors = schema_errors("ComplaintReceived", "2.0", &payload);

    assert!(
        errors.iter().any(|e| e.contains("received_on")),
        "{errors:?}"
    );
}

#[test]
fn a_date_that_is_not_a_calendar_date_fails_its_schema() {
    let mut payload = received_payload();
    payload["ComplaintReceived"]["received_on"] = json!("02/04/2026");

    assert!(!schema_errors("ComplaintReceived", "2.0", &payload).is_empty());
}

#[test]
fn a_payload_under_another_type_fails_that_type_s_schema() {
    assert!(!schema_errors("ComplaintAcknowledged", "1.0", &received_payload()).is_empty());
    assert!(!schema_errors("ComplaintReceived", "9.9", &received_payload()).is_empty());
}

#[test]
#[should_panic(expected = "ComplaintReceived v2.0 does not match its schema")]
fn the_check_run_on_every_test_s_events_fails_on_a_wrong_payload() {
    let mut payload = received_payload();
    payload["ComplaintReceived"]["channel"] = json!("pigeon");
    assert_conforms("ComplaintReceived", "2.0", &payload);
}

#[test]
fn a_valid_payload_passes() {
    assert_conforms("ComplaintReceived", "2.0", &received_payload());
}

/// A sealed leaf as the log stores it (the bytes are not a real ciphertext: the schema
/// describes the shape, not the key).
fn sealed(kind: &str) -> Value {
    json!({"enc": "xchacha20poly1305/v1", "subject": format!("ds-{}", "ab".repeat(16)),
           "kind": kind, "nonce": "bm9uY2Vub25jZW5vbmNlbm9uY2Vub25j", "ct": "Y2lwaGVydGV4dA=="})
}

#[test]
fn the_sealed_form_accepts_envelopes_in_personal_fields_only() {
    let mut payload = received_payload();
    let particulars = &mut payload["ComplaintReceived"]["particulars"];
    particulars["description"] = sealed("string");
    particulars["complainant"]["name"] = sealed("string");
    assert_conforms("ComplaintReceived", "2.0", &payload);
    // The plain form, kept as superseded 1.0, has no room for them.
    assert!(!schema_errors("ComplaintReceived", "1.0", &payload).is_empty());
    // Nor does a field that is not personal data, in either form.
    let mut payload = received_payload();
    payload["ComplaintReceived"]["received_on"] = sealed("json");
    assert!(!schema_errors("ComplaintReceived", "2.0", &payload).is_empty());
    // An envelope missing its ciphertext is no envelope.
    let mut payload = received_payload();
    let mut broken = sealed("string");
    broken.as_object_mut().unwrap().remove("ct");
    payload["ComplaintReceived"]["particulars"]["description"] = broken;
    assert!(!schema_errors("ComplaintReceived", "2.0", &payload).is_empty());
}

#[test]
fn a_plain_payload_written_before_the_sealed_form_still_matches_both_versions() {
    assert_conforms("ComplaintReceived", "1.0", &received_payload());
    assert_conforms("ComplaintReceived", "2.0", &received_payload());
}

#[test]
fn exactly_the_event_types_with_personal_data_have_a_sealed_form() {
    let with_personal_data: Vec<String> = superseded_event_schemas()
        .into_iter()
        .chain(event_schemas())
        .filter(|s| s.version == FIRST_VERSION && s.schema.to_string().contains("x-confidential"))
        .map(|s| s.event_type)
        .collect();
    let mut bumped: Vec<String> = BUMPED_VERSIONS
        .iter()
        .filter(|(_, v)| *v == SEALED_FORM_VERSION)
        .map(|(t, _)| t.to_string())
        .collect();
    let mut expected = with_personal_data.clone();
    expected.sort();
    bumped.sort();
    assert_eq!(
        bumped, expected,
        "a type with personal data must be written in its sealed form"
    );
    assert_eq!(superseded_event_schemas().len(), with_personal_data.len());
}
