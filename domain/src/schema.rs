//! JSON Schema (2020-12) of every stored event type at its current version, generated from
//! the Rust types with schemars. Pure: the gateway's tests write the files under
//! `schemas/events/` and fail when the checked-in copies drift from these.

use crate::events::ComplaintEvent;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The JSON Schema dialect of every generated schema.
pub const JSON_SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The schema of one event type at one payload version.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSchema {
    /// The event type, as stored (`ComplaintReceived`).
    pub event_type: String,
    /// The payload version, as stored (`1.0`).
    pub version: String,
    /// The schema of the stored payload, exactly as `serde_json::to_value(&event)` writes
    /// it: externally tagged, `{"ComplaintReceived": {...}}`.
    pub schema: Value,
}

impl EventSchema {
    /// The file the schema is checked in as under `schemas/events/`.
    pub fn file_name(&self) -> String {
        format!("{}.v{}.json", self.event_type, self.version)
    }
}

/// One schema per event type at its current version, in the order of
/// [`ComplaintEvent::TYPES`].
///
/// schemars describes `ComplaintEvent` as a `oneOf` over its variants; each variant becomes a
/// schema of its own carrying only the `$defs` it refers to, so a consumer of one event type
/// needs one file.
pub fn event_schemas() -> Vec<EventSchema> {
    let root = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<ComplaintEvent>()
        .to_value();
    let defs = root
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let variants = root
        .get("oneOf")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut schemas: Vec<EventSchema> = variants
        .into_iter()
        .filter_map(|variant| {
            let event_type = tag_of(&variant)?;
            Some(variant_schema(event_type, variant, &defs))
        })
        .collect();
    schemas.sort_by_key(|s| {
        ComplaintEvent::TYPES
            .iter()
            .position(|t| *t == s.event_type)
            .unwrap_or(usize::MAX)
    });
    schemas
}

/// The variant name an externally tagged variant's schema is keyed by.
fn tag_of(variant: &Value) -> Option<String> {
    let required = variant.get("required")?.as_array()?;
    match required.as_slice() {
        [Value::String(tag)] => Some(tag.clone()),
        _ => None,
    }
}

fn variant_schema(event_type: String, variant: Value, defs: &Map<String, Value>) -> EventSchema {
    let version = ComplaintEvent::version_of(&event_type);
    let mut schema = Map::new();
    schema.insert("$schema".into(), JSON_SCHEMA_DIALECT.into());
    schema.insert("title".into(), format!("{event_type} v{version}").into());
    if let Value::Object(fields) = variant {
        schema.extend(fields);
    }
    let used = referenced_defs(&Value::Object(schema.clone()), defs);
    if !used.is_empty() {
        let carried: Map<String, Value> = used
            .into_iter()
            .filter_map(|name| Some((name.clone(), defs.get(&name)?.clone())))
            .collect();
        schema.insert("$defs".into(), Value::Object(carried));
    }
    schema.insert("x-event-type".into(), event_type.clone().into());
    schema.insert("x-event-version".into(), version.into());
    EventSchema {
        event_type,
        version: version.to_string(),
        schema: Value::Object(schema),
    }
}

/// The names of the `$defs` entries `schema` refers to, directly or through other entries.
fn referenced_defs(schema: &Value, defs: &Map<String, Value>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![schema];
    while let Some(next) = pending.pop() {
        let mut refs = Vec::new();
        collect_refs(next, &mut refs);
        for name in refs {
            if let Some(def) = defs.get(&name) {
                if found.insert(name) {
                    pending.push(def);
                }
            }
        }
    }
    found
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => {
                        if let Some(name) = target.strip_prefix("#/$defs/") {
                            out.push(name.to_string());
                        }
                    }
                    _ => collect_refs(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}
