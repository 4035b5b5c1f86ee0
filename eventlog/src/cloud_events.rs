//! The CloudEvents 1.0 envelope of a stored event, shared by the NATS relay and exports.

use crate::{metadata, StoredEvent};
use complaints_domain::{strip_personal_data, ComplaintEvent};
use serde_json::{json, Value};

/// The organisation an event belongs to, from its metadata or its receipt.
pub fn organisation_of(event: &StoredEvent) -> String {
    event
        .metadata
        .get(metadata::ORGANISATION)
        .cloned()
        .or_else(|| match &event.event {
            ComplaintEvent::ComplaintReceived {
                organisation_id, ..
            } => Some(organisation_id.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The kind of case an event belongs to, from its metadata (every event of a case that is
/// not a complaint carries it) or, on a receipt, its payload.
pub fn case_kind_of(event: &StoredEvent) -> complaints_domain::CaseKind {
    if let ComplaintEvent::ComplaintReceived { kind, .. } = &event.event {
        return *kind;
    }
    event
        .metadata
        .get(metadata::CASE_KIND)
        .and_then(|k| complaints_domain::CaseKind::parse(k))
        .unwrap_or_default()
}

/// Whether the event belongs to a whistleblowing concern, which no event stream, export,
/// list or report carries (R-KIND-3).
pub fn is_restricted(event: &StoredEvent) -> bool {
    case_kind_of(event).is_restricted()
}

/// Fields of an event's data that are not personal yet are left out unless personal data is
/// asked for: a frontline system's reference, or the ombudsman's case reference, lets a
/// recipient join an export or a NATS copy with that system's own records (which name the
/// person), which is exactly what pseudonymised ids prevent.
const LINKING_FIELDS: &[&str] = &["source", "ombudsman_reference"];

/// Event types whose business date is itself a quasi-identifier, left out (from the data
/// and from `occurredon`, which repeats it) unless personal data is asked for: a date of
/// death with the organisation is enough to find the person in public death notices.
const IDENTIFYING_DATES: &[(&str, &str)] = &[("PersonDied", "died_on")];

/// The CloudEvents 1.0 envelope of a stored event; personal data and source references
/// removed unless asked.
pub fn cloud_event(event: &StoredEvent, include_personal_data: bool) -> Value {
    let mut payload = serde_json::to_value(&event.event).unwrap_or(Value::Null);
    if !include_personal_data {
        strip_personal_data(&event.event_type, &event.event_version, &mut payload);
    }
    let mut data = payload.get(&event.event_type).cloned().unwrap_or(payload);
    let mut occurred_on = event.metadata.get(metadata::OCCURRED_ON);
    if !include_personal_data {
        if let Value::Object(fields) = &mut data {
            for field in LINKING_FIELDS {
                fields.remove(*field);
            }
            for (event_type, field) in IDENTIFYING_DATES {
                if *event_type == event.event_type {
                    fields.remove(*field);
                    occurred_on = None;
                }
            }
        }
    }
    let organisation = organisation_of(event);
    json!({
        "specversion": "1.0",
        "id": event.event_id(),
        "source": format!("urn:complaints:organisation:{organisation}"),
        "type": format!("uk.nhs.complaints.{}.v{}", event.event_type, event.event_version),
        "subject": event.complaint_id,
        "time": event.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "datacontenttype": "application/json",
        "complaintsequence": event.sequence,
        "logposition": event.checkpoint.position,
        "occurredon": occurred_on,
        "data": data,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// `event` as read from the log of complaint `c1`.
    fn stored(
        event: ComplaintEvent,
        position: i64,
        sequence: i64,
        metadata: std::collections::HashMap<String, String>,
    ) -> StoredEvent {
        StoredEvent {
            checkpoint: Checkpoint {
                transaction_id: 0,
                position,
            },
            complaint_id: "c1".into(),
            sequence,
            event_type: event.name().into(),
            event_version: ComplaintEvent::version_of(event.name()).into(),
            stored_payload: serde_json::to_value(&event).unwrap(),
            event,
            metadata,
            recorded_at: chrono::Utc::now(),
            stored_metadata: Value::Null,
        }
    }
    use crate::reader::Checkpoint;
    use complaints_domain::Confidential;

    // R-JOINT-2: a participant's part lives in the lead's stream but is published, and
    // enveloped, under the organisation that acted.
    #[test]
    fn a_participants_part_is_published_under_the_participants_organisation() {
        let event = ComplaintEvent::PartProvided {
            request: 1,
            organisation_id: "RAL".into(),
            provided_on: chrono::NaiveDate::from_ymd_opt(2026, 4, 28).unwrap(),
            findings: Confidential("Arthur's plan was not sent.".into()),
            response_section: Confidential("We are sorry.".into()),
        };
        let stored = stored(
            event,
            9,
            7,
            [(metadata::ORGANISATION.to_string(), "RAL".to_string())].into(),
        );
        assert_eq!(organisation_of(&stored), "RAL");
        let envelope = cloud_event(&stored, false);
        assert_eq!(envelope["source"], "urn:complaints:organisation:RAL");
        assert!(!envelope.to_string().contains("Arthur"), "{envelope}");
        assert_eq!(envelope["data"]["request"], 1);
    }

    #[test]
    fn a_date_of_death_leaves_only_when_personal_data_is_asked_for() {
        let event = ComplaintEvent::PersonDied {
            person: complaints_domain::PersonRole::PersonAffected,
            died_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 14).unwrap(),
        };
        let stored = stored(
            event,
            4,
            4,
            [
                (metadata::ORGANISATION.to_string(), "RAL".to_string()),
                (metadata::OCCURRED_ON.to_string(), "2026-03-14".to_string()),
            ]
            .into(),
        );
        let stripped = cloud_event(&stored, false);
        assert!(!stripped.to_string().contains("2026-03-14"), "{stripped}");
        assert_eq!(stripped["data"]["person"], "person_affected");
        let full = cloud_event(&stored, true);
        assert_eq!(full["data"]["died_on"], "2026-03-14");
        assert_eq!(full["occurredon"], "2026-03-14");
    }

    #[test]
    fn the_ombudsman_s_case_reference_leaves_only_when_personal_data_is_asked_for() {
        let event = ComplaintEvent::ReferredToOmbudsman {
            ombudsman: complaints_domain::Ombudsman::Phso,
            informed_on: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            ombudsman_reference: Some("PHSO-0042-1187".into()),
        };
        let stored = stored(
            event,
            3,
            3,
            [(metadata::ORGANISATION.to_string(), "RAL".to_string())].into(),
        );
        let stripped = cloud_event(&stored, false);
        assert!(!stripped.to_string().contains("PHSO-0042"), "{stripped}");
        assert_eq!(stripped["data"]["ombudsman"], "phso");
        assert_eq!(
            cloud_event(&stored, true)["data"]["ombudsman_reference"],
            "PHSO-0042-1187"
        );
    }
}
