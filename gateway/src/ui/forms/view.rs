//! A form as the page shows it (fresh, or as submitted with its refusal) and the command's
//! JSON body made from what was submitted.

use super::schema::{fields, Kind};
use super::FormSpec;
use crate::app::commands;
use crate::ui::deadlines::Choice;
use crate::ui::humanise;
use serde_json::{Map, Value};

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
    let given_for = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    };
    // Items of a list of objects are sent only when filled in, numbered in the order sent.
    let mut rows: Vec<(String, String)> = Vec::new();
    for field in fields(form) {
        if let Some(row) = &field.row {
            if !given_for(field.name).is_empty() && !rows.iter().any(|(r, _)| r == row) {
                let list = row.split('[').next().unwrap_or_default();
                let index = rows.iter().filter(|(r, _)| r.starts_with(list)).count();
                rows.push((row.clone(), format!("{list}[{index}]")));
            }
        }
    }
    let mut root = Map::new();
    let mut problems = Vec::new();
    for field in fields(form) {
        let path = match &field.row {
            None => field.name.to_string(),
            Some(row) => match rows.iter().find(|(r, _)| r == row) {
                Some((r, sent)) => format!("{sent}{}", &field.name[r.len()..]),
                None => continue,
            },
        };
        let given = given_for(field.name);
        let first = given.first().copied();
        let json = match field.kind {
            Kind::Checkbox => Some(Value::Bool(!given.is_empty())),
            Kind::Checkboxes => Some(Value::Array(
                given.iter().map(|v| Value::String((*v).into())).collect(),
            )),
            Kind::List => Some(Value::Array(
                given
                    .iter()
                    .flat_map(|v| v.split([',', ' ', '\n', '\r', '\t']))
                    .filter(|v| !v.is_empty())
                    .map(|v| Value::String(v.into()))
                    .collect(),
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
            Some(json) => insert(&mut root, &path, json),
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

/// Puts `value` at `path` (`letter.actions`, `recommendations[0].due_on`), making the
/// objects and list items on the way.
fn insert(root: &mut Map<String, Value>, path: &str, value: Value) {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    let item = head
        .split_once('[')
        .and_then(|(name, i)| Some((name, i.strip_suffix(']')?.parse::<usize>().ok()?)));
    match (item, rest) {
        (None, None) => {
            root.insert(head.to_string(), value);
        }
        (None, Some(rest)) => {
            let entry = root
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                insert(inner, rest, value);
            }
        }
        (Some((name, index)), rest) => {
            let entry = root
                .entry(name.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(items) = entry else {
                return;
            };
            while items.len() <= index {
                items.push(Value::Object(Map::new()));
            }
            match (rest, &mut items[index]) {
                (Some(rest), Value::Object(inner)) => insert(inner, rest, value),
                (None, slot) => *slot = value,
                _ => {}
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
        // A refusal of a whole item (`recommendations[0]`) is shown at its first field.
        let named = field.filter(|f| !f.is_empty()).and_then(|path| {
            self.fields.iter_mut().find(|f| {
                path == f.name
                    || path
                        .strip_prefix(f.name)
                        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
                    || f.name
                        .strip_prefix(path)
                        .is_some_and(|rest| rest.starts_with('.'))
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
    format!(
        "{command}-{}",
        name.replace(['.', '['], "-").replace(']', "")
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::find;
    use super::*;
    use serde_json::json;

    fn pairs(values: &[(&str, &str)]) -> Vec<(String, String)> {
        values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
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
    fn only_the_items_filled_in_are_sent_and_a_list_splits_on_commas() {
        let decision = super::body(
            find("ombudsman-decision").unwrap(),
            &pairs(&[
                ("ombudsman", "phso"),
                ("decided_on", "2026-05-01"),
                ("decision", "upheld"),
                ("recommendations[0].description", ""),
                ("recommendations[1].description", "Apologise in writing."),
                ("recommendations[1].due_on", "2026-06-01"),
                ("recommendations[2].due_on", ""),
            ]),
        )
        .unwrap();
        assert_eq!(
            decision["recommendations"],
            json!([{"description": "Apologise in writing.", "due_on": "2026-06-01"}])
        );
        let parsed = (commands::find("ombudsman-decision").unwrap().parse)(
            &serde_json::to_vec(&decision).unwrap(),
        );
        assert!(parsed.is_ok(), "{parsed:?}");
        let missing = super::body(
            find("ombudsman-decision").unwrap(),
            &pairs(&[
                ("ombudsman", "phso"),
                ("decided_on", "2026-05-01"),
                ("decision", "upheld"),
                ("recommendations[0].due_on", "2026-06-01"),
            ]),
        )
        .unwrap_err();
        assert_eq!(missing[0].0, "recommendations[0].description");
        let mut view = FormView::new(
            find("ombudsman-decision").unwrap(),
            "id",
            1,
            chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
            None,
        );
        assert_eq!(
            view.refuse(Some("recommendations[0]"), "missing field").0,
            "#ombudsman-decision-recommendations-0-description"
        );

        let share = super::body(
            find("consent-to-share").unwrap(),
            &pairs(&[
                ("given_on", "2026-05-01"),
                ("for_whom", "complainant"),
                ("given_by", "data_subject"),
                ("scopes", "joint_handling"),
                ("method", "written"),
                ("share_with", "RJ1, RYJ"),
            ]),
        )
        .unwrap();
        assert_eq!(share["share_with"], json!(["RJ1", "RYJ"]));
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
