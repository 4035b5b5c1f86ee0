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
/// asked for: a frontline system's reference lets a recipient join an export or a NATS copy
/// with that system's own records, which is exactly what pseudonymised ids prevent.
const LINKING_FIELDS: &[&str] = &["source"];

/// The CloudEvents 1.0 envelope of a stored event; personal data and source references
/// removed unless asked.
pub fn cloud_event(event: &StoredEvent, include_personal_data: bool) -> Value {
    let mut payload = serde_json::to_value(&event.event).unwrap_or(Value::Null);
    if !include_personal_data {
        strip_personal_data(&event.event_type, &event.event_version, &mut payload);
    }
    let mut data = payload.get(&event.event_type).cloned().unwrap_or(payload);
    if !include_personal_data {
        if let Value::Object(fields) = &mut data {
            for field in LINKING_FIELDS {
                fields.remove(*field);
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
        "occurredon": event.metadata.get(metadata::OCCURRED_ON),
        "data": data,
    })
}
