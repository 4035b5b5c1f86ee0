//! A form's fields read off its command's JSON Schema, every subschema inline: the kind of
//! input from the type and format, the options of a choice from `enum`, whether it is
//! required from `required`, the hint from `description`, the default from `default`.

use super::{FormSpec, FORMS};
use crate::app::commands::{self, CommandSpec};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// How a field is asked for, read from its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Date,
    Text,
    LongText,
    Number,
    /// One of a code list.
    Select,
    /// Any of a code list.
    Checkboxes,
    /// A yes-or-no the body always carries.
    Checkbox,
    /// A yes-or-no that may be left unsaid.
    YesNo,
    /// A list of free values (codes), written on one line separated by commas.
    List,
}

impl Kind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Date => "date",
            Kind::Text => "text",
            Kind::LongText => "textarea",
            Kind::Number => "number",
            Kind::Select => "select",
            Kind::Checkboxes => "checkboxes",
            Kind::Checkbox => "checkbox",
            Kind::YesNo => "yesno",
            Kind::List => "list",
        }
    }
}

/// A field as its schema describes it.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: String,
    pub kind: Kind,
    pub required: bool,
    /// The codes of a choice.
    pub options: Vec<String>,
    /// The schema's default.
    pub default: Option<Value>,
    /// For a field of one item of a list of objects (`recommendations[0].due_on`), that
    /// item's path (`recommendations[0]`): the item is sent only when one of its fields is
    /// filled in, and `required` then says what it needs.
    pub row: Option<String>,
}

/// The schema of `spec`'s body with every subschema inline.
fn schema_of(spec: &CommandSpec) -> Value {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    (spec.schema)(&mut generator).to_value()
}

/// The non-null alternative of a nullable schema (`anyOf: [T, null]`), or the schema itself.
fn non_null(schema: &Value) -> &Value {
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(options)) = schema.get(key) {
            if let Some(found) = options.iter().find(|o| !is_null_type(o)) {
                return found;
            }
        }
    }
    schema
}

fn is_null_type(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn nullable(schema: &Value) -> bool {
    types(schema).contains(&"null")
        || ["anyOf", "oneOf"].iter().any(|key| {
            schema
                .get(*key)
                .and_then(Value::as_array)
                .is_some_and(|options| options.iter().any(is_null_type))
        })
}

fn codes(schema: &Value) -> Vec<String> {
    non_null(schema)
        .get("enum")
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The schema of the property at `path`, whether its object requires it, and the item of a
/// list of objects it belongs to. A part `name[n]` steps into the list's items.
fn property<'a>(root: &'a Value, path: &str) -> Option<(&'a Value, bool, Option<String>)> {
    let mut object = root;
    let mut found: Option<(&Value, bool)> = None;
    let mut row = None;
    let mut walked = String::new();
    for part in path.split('.') {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(part);
        let (name, item) = match part.split_once('[') {
            Some((name, _)) => (name, true),
            None => (part, false),
        };
        let object_schema = non_null(object);
        let mut schema = object_schema.get("properties")?.get(name)?;
        let required = object_schema
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|n| n.as_str() == Some(name)));
        // A nested field is required only when every object on its path is; within an
        // item, only when the item is sent.
        let mut required = required && found.is_none_or(|(_, parent)| parent);
        if item {
            schema = non_null(schema).get("items")?;
            row = Some(walked.clone());
            required = true;
        }
        found = Some((schema, required));
        object = schema;
    }
    found.map(|(schema, required)| (schema, required, row))
}

/// Reads `form`'s fields off its command's schema; an error names a field that does not fit.
fn read_fields(form: &FormSpec, schema: &Value) -> Result<Vec<Field>, String> {
    form.fields
        .iter()
        .map(|spec| {
            let (schema, required, row) = property(schema, spec.name)
                .ok_or_else(|| format!("`{}` has no field `{}`", form.command, spec.name))?;
            let inner = non_null(schema);
            let kinds = types(inner);
            let options = codes(inner);
            let kind = if kinds.contains(&"array") {
                let item = inner.get("items");
                let items = item.map(codes).unwrap_or_default();
                let free = item.is_some_and(|i| types(non_null(i)).contains(&"string"));
                if items.is_empty() && !free {
                    return Err(format!(
                        "`{}.{}` is a list of what a form cannot ask for",
                        form.command, spec.name
                    ));
                }
                return Ok(Field {
                    name: spec.name,
                    label: spec.label,
                    hint: hint(spec.label, &describe(schema)),
                    kind: if items.is_empty() {
                        Kind::List
                    } else {
                        Kind::Checkboxes
                    },
                    required,
                    options: items,
                    default: schema.get("default").cloned(),
                    row,
                });
            } else if !options.is_empty() {
                Kind::Select
            } else if kinds.contains(&"boolean") {
                if nullable(schema) {
                    Kind::YesNo
                } else {
                    Kind::Checkbox
                }
            } else if kinds.contains(&"integer") {
                Kind::Number
            } else if inner.get("format").and_then(Value::as_str) == Some("date") {
                Kind::Date
            } else if kinds.contains(&"string") {
                if spec.long {
                    Kind::LongText
                } else {
                    Kind::Text
                }
            } else {
                return Err(format!(
                    "`{}.{}` is not a simple field",
                    form.command, spec.name
                ));
            };
            Ok(Field {
                name: spec.name,
                label: spec.label,
                hint: hint(spec.label, &describe(schema)),
                kind,
                required,
                options,
                default: schema.get("default").cloned(),
                row,
            })
        })
        .collect()
}

/// The schema's description as a hint, unless it only says the label again.
fn hint(label: &str, description: &str) -> String {
    let words = |text: &str| {
        let lower = text.to_lowercase();
        let plain: String = lower
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        let plain = plain.split_whitespace().collect::<Vec<_>>().join(" ");
        plain
            .strip_prefix("the ")
            .map(str::to_string)
            .unwrap_or(plain)
    };
    if words(label) == words(description) {
        String::new()
    } else {
        description.to_string()
    }
}

/// The schema's description as plain text: doc comments wrap lines and quote codes.
fn describe(schema: &Value) -> String {
    schema
        .get("description")
        .or_else(|| non_null(schema).get("description"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .replace('`', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every form's fields, read once.
fn all_fields() -> &'static HashMap<&'static str, Vec<Field>> {
    static FIELDS: OnceLock<HashMap<&'static str, Vec<Field>>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        FORMS
            .iter()
            .filter_map(|form| {
                let spec = commands::find(form.command)?;
                match read_fields(form, &schema_of(spec)) {
                    Ok(fields) => Some((form.command, fields)),
                    Err(why) => {
                        // Caught by the tests; a form that no longer fits is left out.
                        tracing::error!(%why, "a command form does not fit its schema");
                        None
                    }
                }
            })
            .collect()
    })
}

/// The fields of `form`, or none when it does not fit its command.
pub(crate) fn fields(form: &FormSpec) -> &'static [Field] {
    all_fields()
        .get(form.command)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::find;
    use super::*;
    use serde_json::json;

    #[test]
    fn every_form_fits_its_command_and_asks_for_everything_it_requires() {
        for form in FORMS {
            let spec = commands::find(form.command)
                .unwrap_or_else(|| panic!("{} is not in the command table", form.command));
            let schema = schema_of(spec);
            let fields = read_fields(form, &schema).unwrap();
            let required = schema["required"].as_array().cloned().unwrap_or_default();
            for name in required.iter().filter_map(Value::as_str) {
                assert!(
                    fields
                        .iter()
                        .any(|f| f.name == name || f.name.starts_with(&format!("{name}."))),
                    "the {} form does not ask for the required `{name}`",
                    form.command
                );
            }
            assert_eq!(super::fields(form).len(), form.fields.len());
        }
    }

    #[test]
    fn kinds_options_and_requirement_come_from_the_schema() {
        let response = super::fields(find("response").unwrap());
        let by_name = |n: &str| response.iter().find(|f| f.name == n).unwrap();
        assert_eq!(by_name("sent_on").kind, Kind::Date);
        assert_eq!(by_name("outcome").kind, Kind::Select);
        assert!(by_name("outcome")
            .options
            .contains(&"partially_upheld".into()));
        assert_eq!(by_name("ombudsman_rights").kind, Kind::Checkboxes);
        assert_eq!(by_name("ombudsman_rights").options, ["phso", "lgsco"]);
        assert_eq!(by_name("letter.conclusions").kind, Kind::LongText);
        assert!(by_name("letter.conclusions").required);
        let ack = super::fields(find("acknowledgement").unwrap());
        assert_eq!(ack[1].kind, Kind::Checkbox);
        assert_eq!(ack[1].default, Some(json!(true)));
        assert!(!ack[1].required);
        let closure = super::fields(find("closure").unwrap());
        let consented = closure
            .iter()
            .find(|f| f.name == "complainant_consented")
            .unwrap();
        assert_eq!(consented.kind, Kind::YesNo);
        let category = closure
            .iter()
            .find(|f| f.name == "exclusion_category")
            .unwrap();
        assert_eq!(category.kind, Kind::Select);
        assert!(!category.required);
        assert!(!category.options.is_empty());
    }

    #[test]
    fn lists_of_codes_and_of_objects_read_as_fields() {
        let share = super::fields(find("consent-to-share").unwrap());
        let with = share.iter().find(|f| f.name == "share_with").unwrap();
        assert_eq!(with.kind, Kind::List);
        assert!(!with.required);
        let decision = super::fields(find("ombudsman-decision").unwrap());
        let description = decision
            .iter()
            .find(|f| f.name == "recommendations[1].description")
            .unwrap();
        assert_eq!(description.kind, Kind::LongText);
        assert!(description.required);
        assert_eq!(description.row.as_deref(), Some("recommendations[1]"));
        let due = decision
            .iter()
            .find(|f| f.name == "recommendations[1].due_on")
            .unwrap();
        assert_eq!(due.kind, Kind::Date);
        assert!(!due.required);
        assert!(decision
            .iter()
            .find(|f| f.name == "ombudsman")
            .unwrap()
            .row
            .is_none());
    }

    #[test]
    fn a_hint_that_repeats_the_label_is_left_out() {
        assert_eq!(hint("Day of reopening", "The day of reopening."), "");
        assert_eq!(hint("Why", "Why."), "");
        assert_eq!(hint("How", "How."), "");
        assert_eq!(
            hint("Outcome", "Upheld, partially upheld or not upheld."),
            "Upheld, partially upheld or not upheld."
        );
    }
}
