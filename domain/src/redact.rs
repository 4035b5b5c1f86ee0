//! Removing personal data from stored events before they leave the service (NATS relay,
//! regulator exports). Which fields are personal is read from the event schemas, where
//! every `Confidential` field is marked `x-confidential`, so a new event type or field is
//! covered as soon as it is typed `Confidential`.

use crate::schema::{event_schemas, superseded_event_schemas};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The JSON Schema of one stored event type and version (current or superseded: the log
/// keeps payloads of every version), built once per process.
pub fn stored_event_schema(event_type: &str, version: &str) -> Option<&'static Value> {
    schemas().get(&format!("{event_type}/{version}"))
}

fn schemas() -> &'static HashMap<String, Value> {
    static SCHEMAS: OnceLock<HashMap<String, Value>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        event_schemas()
            .into_iter()
            .chain(superseded_event_schemas())
            .map(|s| (format!("{}/{}", s.event_type, s.version), s.schema))
            .collect()
    })
}

/// Follows `$ref`s into the root schema's `$defs` (bounded, so a cycle cannot hang).
pub fn resolve_schema<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..16 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(name) = reference.strip_prefix("#/$defs/") else {
            break;
        };
        match root.get("$defs").and_then(|d| d.get(name)) {
            Some(next) => current = next,
            None => break,
        }
    }
    current
}

/// The object-shaped alternatives of a schema (`anyOf`/`oneOf` members, or itself).
pub fn schema_alternatives<'a>(schema: &'a Value, root: &'a Value) -> Vec<&'a Value> {
    let schema = resolve_schema(schema, root);
    let mut out = vec![schema];
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            out.extend(list.iter().map(|s| resolve_schema(s, root)));
        }
    }
    out
}

/// Whether a schema marks its value as personal data (`x-confidential`).
pub fn is_confidential_schema(schema: &Value) -> bool {
    schema
        .get("x-confidential")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn strip(value: &mut Value, schema: &Value, root: &Value) {
    match value {
        Value::Object(map) => strip_object(map, schema, root),
        Value::Array(items) => {
            for alt in schema_alternatives(schema, root) {
                if let Some(item_schema) = alt.get("items") {
                    for item in items.iter_mut() {
                        strip(item, item_schema, root);
                    }
                }
            }
        }
        _ => {}
    }
}

fn strip_object(map: &mut Map<String, Value>, schema: &Value, root: &Value) {
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let property_schemas: Vec<&Value> = schema_alternatives(schema, root)
            .into_iter()
            .filter_map(|alt| alt.get("properties").and_then(|p| p.get(&key)))
            .collect();
        if property_schemas
            .iter()
            .any(|s| is_confidential_schema(s) || is_confidential_schema(resolve_schema(s, root)))
        {
            map.remove(&key);
        } else if let Some(child) = map.get_mut(&key) {
            for property_schema in property_schemas {
                strip(child, property_schema, root);
            }
        }
    }
}

/// Removes every personal-data field from `payload` (an event as stored, externally tagged:
/// `{"ComplaintReceived": {...}}`) of `event_type` at `version`. An event type without a
/// schema loses its whole body: when in doubt, nothing personal leaves.
pub fn strip_personal_data(event_type: &str, version: &str, payload: &mut Value) {
    match stored_event_schema(event_type, version) {
        Some(schema) => strip(payload, schema, schema),
        None => *payload = Value::Object(Map::new()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::*;
    use chrono::NaiveDate;

    #[test]
    fn a_received_complaint_keeps_its_facts_and_loses_the_people() {
        let event = ComplaintEvent::ComplaintReceived {
            organisation_id: "RAL".into(),
            received_on: NaiveDate::from_ymd_opt(2026, 4, 2).unwrap(),
            channel: Channel::Email,
            route: Route::Provider,
            representation_basis: Some(RepresentationBasis::Requested),
            consent_required: true,
            subject_areas: vec![SubjectArea::Communications],
            service_area: None,
            staff_groups: vec![],
            matter_occurred_on: None,
            matter_came_to_notice_on: None,
            source: None,
            particulars: Confidential(ComplaintParticulars {
                complainant: Person {
                    name: "Ann Secret".into(),
                    email: Some("ann@example.org".into()),
                    ..Person::default()
                },
                person_affected: Some(Person {
                    name: "Bert Secret".into(),
                    ..Person::default()
                }),
                description: "private words".into(),
            }),
            kind: Default::default(),
            enquiry_type: None,
            provider_id: None,
            origin: None,
        };
        let mut json = serde_json::to_value(&event).unwrap();
        strip_personal_data("ComplaintReceived", "1.0", &mut json);
        let text = json.to_string();
        for secret in [
            "Ann Secret",
            "ann@example.org",
            "Bert Secret",
            "private words",
            "particulars",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert_eq!(json["ComplaintReceived"]["received_on"], "2026-04-02");
        assert_eq!(json["ComplaintReceived"]["consent_required"], true);
    }

    #[test]
    fn nested_and_optional_confidential_fields_are_removed() {
        let event = ComplaintEvent::ConsentGiven {
            given_on: NaiveDate::from_ymd_opt(2026, 4, 2).unwrap(),
            evidence: Some(Confidential("lasting power of attorney no. 123".into())),
        };
        let mut json = serde_json::to_value(&event).unwrap();
        strip_personal_data("ConsentGiven", "1.0", &mut json);
        assert!(!json.to_string().contains("attorney"), "{json}");
        assert_eq!(json["ConsentGiven"]["given_on"], "2026-04-02");

        let accepted = ComplaintEvent::OutOfTimeAccepted {
            accepted_on: NaiveDate::from_ymd_opt(2026, 4, 2).unwrap(),
            decision: OutOfTimeDecision {
                good_reason_for_delay: true,
                fair_investigation_possible: true,
                decided_by: "manager".into(),
                rationale: Confidential("was in hospital with cancer".into()),
            },
        };
        let mut json = serde_json::to_value(&accepted).unwrap();
        strip_personal_data("OutOfTimeAccepted", "1.0", &mut json);
        assert!(!json.to_string().contains("cancer"), "{json}");
        assert_eq!(
            json["OutOfTimeAccepted"]["decision"]["good_reason_for_delay"],
            true
        );
    }

    #[test]
    fn an_unknown_event_type_loses_its_whole_body() {
        let mut json = serde_json::json!({"Mystery": {"name": "someone"}});
        strip_personal_data("Mystery", "9.9", &mut json);
        assert_eq!(json, serde_json::json!({}));
    }
}
