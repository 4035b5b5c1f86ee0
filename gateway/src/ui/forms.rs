//! The case page's command forms, read off the command table: which commands a caseworker
//! gets a form for, and for each its fields. A field's kind, whether it is required, its
//! hint (the body type's doc comment), its default and the options of a choice all come
//! from the command's JSON Schema (`CommandSpec::schema`), so a new code in a list, or a
//! field made optional, reaches the form without touching it; a test checks every form
//! against its schema. What a form sends is the command's JSON body, run by the same
//! runner as the API.

use super::deadlines::Choice;
use super::humanise;
use crate::app::commands::{self, CommandSpec};
use complaints_domain::{CaseKind, Complaint};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// When a form is offered on the case page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offered {
    /// Open and not yet acknowledged.
    Unacknowledged,
    /// While the case is open.
    Open,
    /// Open with the response clock running.
    ClockRunning,
    /// Open with the response clock stopped.
    ClockStopped,
    /// Once the case is closed.
    Closed,
    /// Open or closed: a fact from outside (R-FACT-1).
    Always,
    /// An open enquiry (R-KIND-1).
    OpenEnquiry,
}

impl Offered {
    fn holds(self, case: &Complaint) -> bool {
        let open = !case.is_closed();
        match self {
            Offered::Unacknowledged => open && case.acknowledged_on.is_none(),
            Offered::Open => open,
            Offered::ClockRunning => open && case.open_clock_stop().is_none(),
            Offered::ClockStopped => open && case.open_clock_stop().is_some(),
            Offered::Closed => !open,
            Offered::Always => true,
            Offered::OpenEnquiry => open && case.kind() == CaseKind::Enquiry,
        }
    }
}

/// A field of a form: its path in the command's body (`letter.conclusions`) and label.
pub(crate) struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    /// Free text longer than a line.
    pub long: bool,
}

const fn f(name: &'static str, label: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        label,
        long: false,
    }
}

const fn long(name: &'static str, label: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        label,
        long: true,
    }
}

/// A form for one command of the command table.
pub(crate) struct FormSpec {
    /// The command's name in `COMMANDS` (and the last segment of the form's address).
    pub command: &'static str,
    /// The form's heading.
    pub title: &'static str,
    /// What the form records, for "… was recorded" and "… was not recorded".
    pub what: &'static str,
    pub button: &'static str,
    pub offered: Offered,
    pub fields: &'static [FieldSpec],
}

/// The forms of the case page, in the order it shows them.
pub(crate) const FORMS: &[FormSpec] = &[
    FormSpec {
        command: "acknowledgement",
        title: "Acknowledge",
        what: "The acknowledgement",
        button: "Record the acknowledgement",
        offered: Offered::Unacknowledged,
        fields: &[
            f("acknowledged_on", "Day of the acknowledgement"),
            f(
                "discussion_offered",
                "Offered to discuss how the complaint will be handled",
            ),
        ],
    },
    FormSpec {
        command: "progress-contact",
        title: "Record a progress contact",
        what: "The progress contact",
        button: "Record the contact",
        offered: Offered::Open,
        fields: &[
            f("contacted_on", "Day of the contact"),
            f("method", "How"),
            long("summary", "What was said"),
        ],
    },
    FormSpec {
        command: "response-plan",
        title: "Agree the response period",
        what: "The response plan",
        button: "Record the response plan",
        offered: Offered::Open,
        fields: &[
            f("agreed_on", "Day it was agreed or notified"),
            f("response_due_on", "Response due on"),
            f(
                "discussion_outcome",
                "How the complainant answered the offer to discuss",
            ),
        ],
    },
    FormSpec {
        command: "risk-assessment",
        title: "Grade the risk",
        what: "The risk grading",
        button: "Record the risk grading",
        offered: Offered::Open,
        fields: &[
            f("assessed_on", "Day of the assessment"),
            f("seriousness", "Seriousness"),
            f("likelihood", "Likelihood of recurrence"),
        ],
    },
    FormSpec {
        command: "clock-stops",
        title: "Stop the response clock",
        what: "The clock stop",
        button: "Stop the clock",
        offered: Offered::ClockRunning,
        fields: &[
            f("stopped_on", "First day the clock does not run"),
            long("reason", "Why"),
            f("complainant_agreed", "The complainant agreed to the stop"),
        ],
    },
    FormSpec {
        command: "clock-restarts",
        title: "Restart the response clock",
        what: "The clock restart",
        button: "Restart the clock",
        offered: Offered::ClockStopped,
        fields: &[f("restarted_on", "Day the clock runs again")],
    },
    FormSpec {
        command: "delay-notification",
        title: "Record a delay notification",
        what: "The delay notification",
        button: "Record the delay notification",
        offered: Offered::Open,
        fields: &[
            f("notified_on", "Day of the letter"),
            long("reason", "Why the response is late"),
            f("expected_response_on", "Response now expected on"),
        ],
    },
    FormSpec {
        command: "response",
        title: "Send the written response",
        what: "The written response",
        button: "Record the response",
        offered: Offered::Open,
        fields: &[
            f("sent_on", "Day it was sent"),
            f("outcome", "Outcome"),
            long(
                "letter.how_considered",
                "(i) How the complaint was considered",
            ),
            long("letter.conclusions", "(ii) The conclusions reached"),
            long("letter.actions", "(iii) The action taken or to be taken"),
            f("ombudsman_rights", "(iv) The ombudsman the letter names"),
            f("signed_by", "Signed by (staff identifier)"),
            f("signed_as", "Signed as"),
        ],
    },
    FormSpec {
        command: "escalation",
        title: "Escalate to internal review",
        what: "The escalation",
        button: "Record the escalation",
        offered: Offered::Open,
        fields: &[
            f("escalated_on", "Day the complainant asked for review"),
            long("reason", "What the complainant is unhappy with"),
        ],
    },
    FormSpec {
        command: "learning",
        title: "Record learning",
        what: "The learning",
        button: "Record the learning",
        offered: Offered::Always,
        fields: &[
            f("recorded_on", "Day it was recorded"),
            f("kind", "Lesson or action"),
            long("summary", "Summary"),
            f("action_due_on", "Action due on"),
        ],
    },
    FormSpec {
        command: "ombudsman-referral",
        title: "Record an ombudsman referral",
        what: "The ombudsman referral",
        button: "Record the referral",
        offered: Offered::Always,
        fields: &[
            f("ombudsman", "Ombudsman"),
            f("informed_on", "Day the organisation was told"),
            f("ombudsman_reference", "The ombudsman's reference"),
        ],
    },
    FormSpec {
        command: "record-letter",
        title: "Record a letter",
        what: "The letter",
        button: "Record the letter",
        offered: Offered::Always,
        fields: &[f("kind", "Which letter"), f("sent_on", "Day it was sent")],
    },
    FormSpec {
        command: "treat-as-complaint",
        title: "Treat this enquiry as a complaint",
        what: "The decision to treat the enquiry as a complaint",
        button: "Treat as a complaint",
        offered: Offered::OpenEnquiry,
        fields: &[
            f("treated_on", "Day it is treated as a complaint"),
            f("subject_areas", "Subject areas of the complaint"),
        ],
    },
    FormSpec {
        command: "death",
        title: "Record a death",
        what: "The death",
        button: "Record the death",
        offered: Offered::Always,
        fields: &[f("person", "Whose death"), f("died_on", "Day of death")],
    },
    FormSpec {
        command: "closure",
        title: "Close the complaint",
        what: "The closure",
        button: "Close the complaint",
        offered: Offered::Open,
        fields: &[
            f("closed_on", "Day of closure"),
            f("reason", "Why"),
            f("exclusion_category", "Exclusion category (regulation 8(1))"),
            f("transferred_to", "Transferred to (organisation)"),
            f(
                "receiver_received_on",
                "Day the receiving organisation received it",
            ),
            f(
                "complainant_consented",
                "The complainant agreed to the transfer",
            ),
        ],
    },
    FormSpec {
        command: "reopening",
        title: "Reopen the complaint",
        what: "The reopening",
        button: "Reopen the complaint",
        offered: Offered::Closed,
        fields: &[f("reopened_on", "Day of reopening"), long("reason", "Why")],
    },
];

/// The form of `command`.
pub(crate) fn find(command: &str) -> Option<&'static FormSpec> {
    FORMS.iter().find(|f| f.command == command)
}

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
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Date => "date",
            Kind::Text => "text",
            Kind::LongText => "textarea",
            Kind::Number => "number",
            Kind::Select => "select",
            Kind::Checkboxes => "checkboxes",
            Kind::Checkbox => "checkbox",
            Kind::YesNo => "yesno",
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

/// The schema of the property at `path` and whether its object requires it.
fn property<'a>(root: &'a Value, path: &str) -> Option<(&'a Value, bool)> {
    let mut object = root;
    let mut found = None;
    for part in path.split('.') {
        let object_schema = non_null(object);
        let schema = object_schema.get("properties")?.get(part)?;
        let required = object_schema
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|n| n.as_str() == Some(part)));
        // A nested field is required only when every object on its path is.
        let required = required && found.is_none_or(|(_, parent)| parent);
        found = Some((schema, required));
        object = schema;
    }
    found
}

/// Reads `spec`'s fields off the schema; `None` names a field the schema does not have.
fn read_fields(form: &FormSpec, schema: &Value) -> Result<Vec<Field>, String> {
    form.fields
        .iter()
        .map(|spec| {
            let (schema, required) = property(schema, spec.name)
                .ok_or_else(|| format!("`{}` has no field `{}`", form.command, spec.name))?;
            let inner = non_null(schema);
            let kinds = types(inner);
            let options = codes(inner);
            let kind = if kinds.contains(&"array") {
                let items = inner.get("items").map(codes).unwrap_or_default();
                if items.is_empty() {
                    return Err(format!(
                        "`{}.{}` is a list of free values",
                        form.command, spec.name
                    ));
                }
                return Ok(Field {
                    name: spec.name,
                    label: spec.label,
                    hint: describe(schema),
                    kind: Kind::Checkboxes,
                    required,
                    options: items,
                    default: schema.get("default").cloned(),
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
                hint: describe(schema),
                kind,
                required,
                options,
                default: schema.get("default").cloned(),
            })
        })
        .collect()
}

fn describe(schema: &Value) -> String {
    schema
        .get("description")
        .or_else(|| non_null(schema).get("description"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
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

/// The first value submitted for `name`.
pub(crate) fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A field the form refused before running the command, and why.
pub(crate) type Problem = (String, String);

/// `text` with a capital first letter, as GOV.UK writes messages.
pub(crate) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn lower_first(label: &str) -> String {
    let mut chars = label.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The command's JSON body from what was submitted, or the fields left empty that the
/// command requires (each with a GOV.UK style message). Anything else is left to the
/// command's own parse and rules, so the form refuses nothing the API would take.
pub(crate) fn body(form: &FormSpec, pairs: &[(String, String)]) -> Result<Value, Vec<Problem>> {
    let mut root = Map::new();
    let mut problems = Vec::new();
    for field in fields(form) {
        let given: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| k == field.name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        let first = given.first().copied();
        let json = match field.kind {
            Kind::Checkbox => Some(Value::Bool(!given.is_empty())),
            Kind::Checkboxes => Some(Value::Array(
                given.iter().map(|v| Value::String((*v).into())).collect(),
            )),
            Kind::YesNo => match first {
                Some("true") => Some(Value::Bool(true)),
                Some("false") => Some(Value::Bool(false)),
                _ => None,
            },
            Kind::Number => match first.map(str::parse::<u64>) {
                Some(Ok(n)) => Some(Value::from(n)),
                Some(Err(_)) => {
                    problems.push((
                        field.name.to_string(),
                        format!("{} must be a whole number", field.label),
                    ));
                    continue;
                }
                None => None,
            },
            Kind::Date | Kind::Text | Kind::LongText | Kind::Select => {
                first.map(|v| Value::String(v.to_string()))
            }
        };
        match json {
            Some(json) => insert(&mut root, field.name, json),
            None if field.required => problems.push((
                field.name.to_string(),
                match field.kind {
                    Kind::Select | Kind::YesNo => format!("Choose {}", lower_first(field.label)),
                    _ => format!("Enter {}", lower_first(field.label)),
                },
            )),
            None => {}
        }
    }
    if problems.is_empty() {
        Ok(Value::Object(root))
    } else {
        Err(problems)
    }
}

fn insert(root: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            root.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = root
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

/// A code as a person reads it.
fn option_label(code: &str) -> String {
    match code {
        "phso" => "PHSO (Parliamentary and Health Service Ombudsman)".into(),
        "lgsco" => "LGSCO (Local Government and Social Care Ombudsman)".into(),
        other => humanise(other),
    }
}

/// One field of a form as the page shows it.
pub(crate) struct FieldView {
    /// The element's id: the form's command and the field's path (`response-letter-actions`).
    pub id: String,
    pub name: &'static str,
    pub label: &'static str,
    pub hint: String,
    pub kind: &'static str,
    pub value: String,
    pub checked: bool,
    pub options: Vec<Choice>,
    pub optional: bool,
    pub error: Option<String>,
}

/// A form as the page shows it: fresh, or as submitted with the refusal.
pub(crate) struct FormView {
    pub command: &'static str,
    pub title: &'static str,
    /// The command table's one line, citing its rule.
    pub summary: &'static str,
    pub button: &'static str,
    pub action: String,
    pub version: usize,
    pub command_id: String,
    pub fields: Vec<FieldView>,
    /// The refusal, in the rule's words.
    pub error: Option<String>,
    /// The refusing rule's code.
    pub rule: Option<String>,
}

/// A new idempotency key for a form.
pub(crate) fn new_command_id() -> String {
    let mut bytes = [0u8; 12];
    // Without randomness the key is still unique enough per page; the runner also checks
    // the body, so a reused key with another body is refused, never misapplied.
    let _ = getrandom::fill(&mut bytes);
    format!("ui-{}", hex::encode(bytes))
}

impl FormView {
    /// `form` for complaint `id` at `version`, filled with `submitted` (the first date
    /// defaults to `today` on a fresh form).
    pub(crate) fn new(
        form: &'static FormSpec,
        id: &str,
        version: usize,
        today: chrono::NaiveDate,
        submitted: Option<&[(String, String)]>,
    ) -> Self {
        let mut first_date = true;
        let fields = fields(form)
            .iter()
            .map(|field| {
                let given: Vec<&str> = submitted
                    .map(|pairs| {
                        pairs
                            .iter()
                            .filter(|(k, _)| k == field.name)
                            .map(|(_, v)| v.as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                let value = match (submitted, field.kind) {
                    (Some(_), _) => given.first().map(|v| v.to_string()).unwrap_or_default(),
                    (None, Kind::Date) if field.required && first_date => {
                        first_date = false;
                        today.to_string()
                    }
                    (None, _) => match &field.default {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Bool(b)) if field.kind == Kind::YesNo => b.to_string(),
                        _ => String::new(),
                    },
                };
                let checked = match submitted {
                    Some(_) => !given.is_empty(),
                    None => field.default == Some(Value::Bool(true)),
                };
                let mut options = match field.kind {
                    Kind::Select => vec![Choice {
                        value: String::new(),
                        label: if field.required { "Choose" } else { "Not said" }.into(),
                        selected: value.is_empty(),
                    }],
                    Kind::YesNo => vec![
                        Choice {
                            value: String::new(),
                            label: "Not said".into(),
                            selected: value.is_empty(),
                        },
                        Choice {
                            value: "true".into(),
                            label: "Yes".into(),
                            selected: value == "true",
                        },
                        Choice {
                            value: "false".into(),
                            label: "No".into(),
                            selected: value == "false",
                        },
                    ],
                    _ => Vec::new(),
                };
                options.extend(field.options.iter().map(|code| Choice {
                    selected: if field.kind == Kind::Checkboxes {
                        given.contains(&code.as_str())
                    } else {
                        value == *code
                    },
                    label: option_label(code),
                    value: code.clone(),
                }));
                FieldView {
                    id: field_id(form.command, field.name),
                    name: field.name,
                    label: field.label,
                    hint: field.hint.clone(),
                    kind: field.kind.name(),
                    value,
                    checked,
                    options,
                    optional: !field.required
                        && !matches!(field.kind, Kind::Checkbox | Kind::Checkboxes),
                    error: None,
                }
            })
            .collect();
        FormView {
            command: form.command,
            title: form.title,
            summary: commands::find(form.command).map_or("", |c| c.summary),
            button: form.button,
            action: format!("/ui/complaints/{id}/{}", form.command),
            version,
            command_id: new_command_id(),
            fields,
            error: None,
            rule: None,
        }
    }

    /// Marks the field the refusal names (a path such as `letter.actions` or
    /// `ombudsman_rights[0]`), the field's name in the message read as its label; returns
    /// the element the error summary links to and the message as shown.
    pub(crate) fn refuse(&mut self, field: Option<&str>, message: &str) -> (String, String) {
        let named = field.filter(|f| !f.is_empty()).and_then(|path| {
            self.fields.iter_mut().find(|f| {
                path == f.name
                    || path
                        .strip_prefix(f.name)
                        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
            })
        });
        match named {
            Some(field) => {
                let shown = match message.strip_prefix(field.name) {
                    Some(rest) => format!("{}{rest}", field.label),
                    None => capitalise(message),
                };
                field.error = Some(shown.clone());
                (format!("#{}", field.id), shown)
            }
            None => (format!("#form-{}", self.command), capitalise(message)),
        }
    }

    /// Whether any field carries an error.
    pub fn has_field_error(&self) -> bool {
        self.fields.iter().any(|f| f.error.is_some())
    }
}

fn field_id(command: &str, name: &str) -> String {
    format!("{command}-{}", name.replace('.', "-"))
}

/// The forms `case` offers, in page order.
pub(crate) fn offered(case: &Complaint) -> impl Iterator<Item = &'static FormSpec> + '_ {
    FORMS.iter().filter(move |f| f.offered.holds(case))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(values: &[(&str, &str)]) -> Vec<(String, String)> {
        values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

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
    fn a_form_makes_the_command_body_and_names_what_is_missing() {
        let form = find("response").unwrap();
        let body = body(
            form,
            &pairs(&[
                ("csrf", "x"),
                ("sent_on", "2026-05-01"),
                ("outcome", "upheld"),
                ("letter.how_considered", " Read the notes. "),
                ("letter.conclusions", "Late letter."),
                ("letter.actions", "New process."),
                ("ombudsman_rights", "phso"),
                ("signed_by", "rp1"),
                ("signed_as", "responsible_person"),
            ]),
        )
        .unwrap();
        assert_eq!(body["letter"]["how_considered"], "Read the notes.");
        assert_eq!(body["ombudsman_rights"], json!(["phso"]));
        assert!(body.get("csrf").is_none());
        let parsed =
            (commands::find("response").unwrap().parse)(&serde_json::to_vec(&body).unwrap());
        assert!(parsed.is_ok(), "{parsed:?}");

        let missing = super::body(form, &pairs(&[("sent_on", "2026-05-01")])).unwrap_err();
        assert!(missing.contains(&("outcome".into(), "Choose outcome".into())));
        assert!(missing
            .iter()
            .any(|(f, m)| f == "letter.actions" && m.starts_with("Enter")));

        let stop = super::body(
            find("clock-stops").unwrap(),
            &pairs(&[
                ("stopped_on", "2026-05-01"),
                ("reason", "Waiting for notes"),
            ]),
        )
        .unwrap();
        assert_eq!(stop["complainant_agreed"], json!(false));
        let closure = super::body(
            find("closure").unwrap(),
            &pairs(&[
                ("closed_on", "2026-05-01"),
                ("reason", "withdrawn"),
                ("complainant_consented", ""),
                ("transferred_to", ""),
            ]),
        )
        .unwrap();
        assert_eq!(
            closure,
            json!({"closed_on": "2026-05-01", "reason": "withdrawn"})
        );
    }

    #[test]
    fn a_refusal_marks_the_field_it_names() {
        let form = find("response").unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        let mut view = FormView::new(form, "id", 3, today, None);
        assert_eq!(view.fields[0].value, "2026-05-01");
        assert_eq!(
            view.refuse(Some("sent_on"), "sent_on is after today (2026-05-01)"),
            (
                "#response-sent_on".to_string(),
                "Day it was sent is after today (2026-05-01)".to_string()
            )
        );
        assert_eq!(
            view.refuse(Some("ombudsman_rights[0]"), "unknown ombudsman")
                .0,
            "#response-ombudsman_rights"
        );
        assert_eq!(
            view.refuse(None, "no"),
            ("#form-response".to_string(), "No".to_string())
        );
        assert!(view.has_field_error());
    }
}
