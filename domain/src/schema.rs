//! JSON Schema (2020-12) of every stored event type at its current version, generated from
//! the Rust types with schemars. Pure: the gateway's tests write the files under
//! `schemas/events/` and fail when the checked-in copies drift from these.
//!
//! The sealed form (version `2.0` of each type with personal data) is the plain schema with
//! every leaf under an `x-confidential` field widened to "the value, or a sealed envelope";
//! the plain schema is kept as the superseded `1.0`.

use crate::events::{ComplaintEvent, FIRST_VERSION, SEALED_FORM_VERSION};
use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};
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
    let (variants, defs) = generated_variants();
    let mut schemas: Vec<EventSchema> = variants
        .into_iter()
        .filter_map(|variant| {
            let event_type = tag_of(&variant)?;
            let version = ComplaintEvent::version_of(&event_type);
            Some(variant_schema(event_type, version, variant, &defs))
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

/// The `1.0` schema of every type whose current version is its sealed form: what those
/// payloads were before personal data was sealed, and what an upcast `1.0` payload is read
/// as. Checked in under `schemas/events/superseded/`.
pub fn superseded_event_schemas() -> Vec<EventSchema> {
    let (variants, defs) = generated_variants();
    variants
        .into_iter()
        .filter_map(|variant| {
            let event_type = tag_of(&variant)?;
            (ComplaintEvent::version_of(&event_type) == SEALED_FORM_VERSION)
                .then(|| variant_schema(event_type, FIRST_VERSION, variant, &defs))
        })
        .collect()
}

/// schemars' description of `ComplaintEvent`: a `oneOf` over its variants, and `$defs`.
fn generated_variants() -> (Vec<Value>, Map<String, Value>) {
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
    (variants, defs)
}

/// The variant name an externally tagged variant's schema is keyed by.
fn tag_of(variant: &Value) -> Option<String> {
    let required = variant.get("required")?.as_array()?;
    match required.as_slice() {
        [Value::String(tag)] => Some(tag.clone()),
        _ => None,
    }
}

fn variant_schema(
    event_type: String,
    version: &str,
    variant: Value,
    defs: &Map<String, Value>,
) -> EventSchema {
    let mut schema = Map::new();
    schema.insert("$schema".into(), JSON_SCHEMA_DIALECT.into());
    schema.insert("title".into(), format!("{event_type} v{version}").into());
    let mut defs = defs.clone();
    let mut variant = variant;
    if version == SEALED_FORM_VERSION {
        let mut sealed = Map::new();
        seal_confidential(&mut variant, &defs, &mut sealed);
        sealed.insert(SEALED_VALUE.into(), sealed_value_schema());
        defs.extend(sealed);
    }
    if let Value::Object(fields) = variant {
        schema.extend(fields);
    }
    let used = referenced_defs(&Value::Object(schema.clone()), &defs);
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

/// The `$defs` name of the sealed envelope.
const SEALED_VALUE: &str = "SealedValue";

/// One personal-data leaf as stored sealed (`schemas/encryption.md`).
fn sealed_value_schema() -> Value {
    json!({
        "description": "A personal-data value sealed with the data key of the person it belongs to (XChaCha20-Poly1305; schemas/encryption.md). Reads as \"[erased]\" once that key is destroyed.",
        "type": "object",
        "properties": {
            "enc": {"const": "xchacha20poly1305/v1"},
            "subject": {"type": "string", "pattern": "^ds-[0-9a-f]{32}$"},
            "kind": {"enum": ["string", "json"]},
            "nonce": {"type": "string", "contentEncoding": "base64"},
            "ct": {"type": "string", "contentEncoding": "base64"}
        },
        "required": ["enc", "subject", "kind", "nonce", "ct"],
        "additionalProperties": false
    })
}

/// Widens, in place, every schema below an `x-confidential` mark in `schema`.
fn seal_confidential(
    schema: &mut Value,
    defs: &Map<String, Value>,
    sealed: &mut Map<String, Value>,
) {
    let confidential = schema.get("x-confidential").and_then(Value::as_bool) == Some(true);
    if confidential {
        *schema = sealed_form(schema, defs, sealed);
        return;
    }
    match schema {
        Value::Object(map) => map
            .values_mut()
            .for_each(|inner| seal_confidential(inner, defs, sealed)),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|inner| seal_confidential(inner, defs, sealed)),
        _ => {}
    }
}

/// Keywords whose values are subschemas (or lists or maps of them).
const SUBSCHEMA_KEYWORDS: &[&str] = &[
    "properties",
    "additionalProperties",
    "items",
    "prefixItems",
    "anyOf",
    "oneOf",
    "allOf",
];

/// `schema` with each leaf `L` below it replaced by `anyOf [L, SealedValue]`, and each
/// `$defs` entry it refers to by a sealed copy named `Sealed_<name>`.
fn sealed_form(
    schema: &Value,
    defs: &Map<String, Value>,
    sealed: &mut Map<String, Value>,
) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = map.clone();
    if let Some(target) = map.get("$ref").and_then(Value::as_str) {
        if let Some(name) = target.strip_prefix("#/$defs/") {
            let sealed_name = format!("Sealed_{name}");
            if !sealed.contains_key(&sealed_name) {
                // Claimed before descending, so a recursive type cannot loop.
                sealed.insert(sealed_name.clone(), Value::Bool(true));
                let def = defs.get(name).cloned().unwrap_or(Value::Bool(true));
                let widened = sealed_form(&def, defs, sealed);
                sealed.insert(sealed_name.clone(), widened);
            }
            out.insert("$ref".into(), format!("#/$defs/{sealed_name}").into());
        }
        return Value::Object(out);
    }
    if is_leaf(map) {
        let mut annotations = Map::new();
        let mut value = map.clone();
        for keyword in ["description", "title", "x-confidential"] {
            if let Some(v) = value.remove(keyword) {
                annotations.insert(keyword.into(), v);
            }
        }
        annotations.insert(
            "anyOf".into(),
            json!([value, {"$ref": format!("#/$defs/{SEALED_VALUE}")}]),
        );
        return Value::Object(annotations);
    }
    for keyword in SUBSCHEMA_KEYWORDS {
        let Some(inner) = out.get_mut(*keyword) else {
            continue;
        };
        match inner {
            Value::Array(list) => {
                for item in list.iter_mut() {
                    *item = sealed_form(item, defs, sealed);
                }
            }
            Value::Object(members) if *keyword == "properties" => {
                for member in members.values_mut() {
                    *member = sealed_form(member, defs, sealed);
                }
            }
            other => *other = sealed_form(other, defs, sealed),
        }
    }
    Value::Object(out)
}

/// A schema of one scalar value (string, number, boolean, code), with nothing below it.
fn is_leaf(schema: &Map<String, Value>) -> bool {
    if SUBSCHEMA_KEYWORDS.iter().any(|k| schema.contains_key(*k)) {
        return false;
    }
    let scalar = |t: &Value| !matches!(t.as_str(), Some("object" | "array"));
    match schema.get("type") {
        Some(Value::String(_)) => scalar(&schema["type"]),
        Some(Value::Array(types)) => types.iter().all(scalar),
        _ => schema.contains_key("enum") || schema.contains_key("const"),
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
