//! The complaint commands by name: how each is parsed and who may run it. The HTTP routes
//! (`POST /v1/complaints/{id}/<name>`) and NATS intake both dispatch through this table.

use crate::auth::Role;
use crate::error::{ApiError, FieldError};
use complaints_domain::ComplaintAction;
use serde::de::DeserializeOwned;

/// Roles that may receive and acknowledge complaints.
pub const INTAKE_ROLES: &[Role] = &[Role::Frontline, Role::Caseworker];
/// Roles that may run every case command.
pub const CASE_ROLES: &[Role] = &[Role::Caseworker];

/// One command on an existing complaint: everything the HTTP route, NATS intake and the
/// OpenAPI document need to know of it, so adding a command means the domain and this table.
pub struct CommandSpec {
    /// Route segment and intake name, e.g. `acknowledgement`.
    pub name: &'static str,
    /// Roles allowed to run it.
    pub roles: &'static [Role],
    /// Parses a JSON body into the action (400/422 with the field named on failure).
    pub parse: fn(&[u8]) -> Result<ComplaintAction, ApiError>,
    /// OpenAPI `operationId`.
    pub operation_id: &'static str,
    /// One line for the OpenAPI document, citing the rule it serves.
    pub summary: &'static str,
    /// JSON Schema of the body.
    pub schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
}

macro_rules! commands {
    ($($name:literal => $variant:ident($body:ty), $roles:expr, $operation_id:literal, $summary:literal;)+) => {
        /// Every command on an existing complaint.
        pub const COMMANDS: &[CommandSpec] = &[
            $(CommandSpec {
                name: $name,
                roles: $roles,
                parse: |bytes| parse_json::<$body>(bytes).map(ComplaintAction::$variant),
                operation_id: $operation_id,
                summary: $summary,
                schema: |generator| generator.subschema_for::<$body>(),
            },)+
        ];
    };
}

commands! {
    "acknowledgement" => Acknowledge(complaints_domain::AcknowledgeComplaint), INTAKE_ROLES,
        "acknowledgeComplaint", "Acknowledge the complaint (R-ACK-3, R-ACK-5)";
    "out-of-time-acceptance" => AcceptOutOfTime(complaints_domain::AcceptOutOfTime), CASE_ROLES,
        "acceptOutOfTime", "Accept an out-of-time complaint for investigation (R-TL-2)";
    "consent-request" => RequestConsent(complaints_domain::RequestConsent), CASE_ROLES,
        "requestConsent", "Ask the person affected for consent";
    "consent" => RecordConsent(complaints_domain::RecordConsent), CASE_ROLES,
        "recordConsent", "Record the person affected's answer on consent";
    "consent-lapse" => LapseConsent(complaints_domain::LapseConsent), CASE_ROLES,
        "lapseConsent", "Record that consent did not arrive in time (R-WHO-6)";
    "risk-assessment" => AssessRisk(complaints_domain::AssessRisk), CASE_ROLES,
        "assessRisk", "Grade or regrade the risk (R-RISK-1, R-RISK-2)";
    "response-plan" => AgreeResponsePlan(complaints_domain::AgreeResponsePlan), CASE_ROLES,
        "agreeResponsePlan", "Agree or set the response period (R-ACK-5, R-RESP-4)";
    "clock-stops" => StopClock(complaints_domain::StopClock), CASE_ROLES,
        "stopClock", "Stop the response clock";
    "clock-restarts" => RestartClock(complaints_domain::RestartClock), CASE_ROLES,
        "restartClock", "Restart the response clock";
    "delay-notification" => NotifyDelay(complaints_domain::NotifyDelay), CASE_ROLES,
        "notifyDelay", "Tell the complainant why the response is delayed (R-RESP-3)";
    "response" => SendResponse(complaints_domain::SendResponse), CASE_ROLES,
        "sendResponse", "Send the signed written response (R-RESP-2)";
    "escalation" => Escalate(complaints_domain::EscalateComplaint), CASE_ROLES,
        "escalateComplaint", "Escalate to internal review (stage 2)";
    "ombudsman-referral" => ReferToOmbudsman(complaints_domain::ReferToOmbudsman), CASE_ROLES,
        "referToOmbudsman", "Record that the complaint went to an ombudsman (R-OMB-1)";
    "ombudsman-decision" => RecordOmbudsmanDecision(complaints_domain::RecordOmbudsmanDecision), CASE_ROLES,
        "recordOmbudsmanDecision", "Record an ombudsman's decision (R-OMB-2)";
    "learning" => RecordLearning(complaints_domain::RecordLearning), CASE_ROLES,
        "recordLearning", "Record a lesson learnt or an improvement action";
    "closure" => Close(complaints_domain::CloseComplaint), CASE_ROLES,
        "closeComplaint", "Close the complaint";
    "reopening" => Reopen(complaints_domain::ReopenComplaint), CASE_ROLES,
        "reopenComplaint", "Reopen a closed complaint";
    "legal-hold" => PlaceLegalHold(complaints_domain::PlaceLegalHold), CASE_ROLES,
        "placeLegalHold", "Hold the case file beyond its retention period (R-RET-1)";
    "legal-hold-release" => ReleaseLegalHold(complaints_domain::ReleaseLegalHold), CASE_ROLES,
        "releaseLegalHold", "End the legal hold";
    "oral-resolution" => RecordOralResolution(complaints_domain::RecordOralResolution), CASE_ROLES,
        "recordOralResolution", "Close an oral complaint resolved by the next working day, judged on the day it was resolved (R-EXCL-2)";
    "representative-grounds" => DecideRepresentativeGrounds(complaints_domain::DecideRepresentativeGrounds), CASE_ROLES,
        "decideRepresentativeGrounds", "Record whether there are reasonable grounds for a child's representative to complain (R-WHO-3)";
    "record-letter" => RecordLetter(complaints_domain::RecordLetter), CASE_ROLES,
        "recordLetter", "Record a letter the rules require and the day it was sent (R-EXCL-1, R-WHO-3, R-WHO-4, R-WHO-6, R-RESP-3, R-ACK-2, R-ACK-5)";
    "progress-contact" => RecordProgressContact(complaints_domain::RecordProgressContact), CASE_ROLES,
        "recordProgressContact", "Log a contact with the complainant about progress (R-RESP-1)";
    "recommendation-done" => RecordRecommendationDone(complaints_domain::RecordRecommendationDone), CASE_ROLES,
        "recordRecommendationDone", "Record an ombudsman recommendation carried out, with its learning action (R-OMB-2)";
    "treat-as-complaint" => TreatAsComplaint(complaints_domain::TreatAsComplaint), CASE_ROLES,
        "treatAsComplaint", "Treat an enquiry as a complaint: the enquiry closes and a linked complaint opens, its clocks starting that day (R-KIND-1)";
    "out-of-time-refusal" => RefuseOutOfTime(complaints_domain::RefuseOutOfTime), CASE_ROLES,
        "refuseOutOfTime", "Decide not to investigate an out-of-time complaint, with the findings; it closes and owes the complainant a letter (R-TL-2)";
    "other-use" => RecordOtherUse(complaints_domain::RecordOtherUse), CASE_ROLES,
        "recordOtherUse", "Record that the case's information may be used for other work; the person is owed a letter within 10 working days (R-KIND-4)";
    "death" => RecordDeath(complaints_domain::RecordDeath), CASE_ROLES,
        "recordDeath", "Record that the complainant or the person affected died (R-FACT-1, R-WHO-5)";
    "consent-to-share" => RecordConsentToShare(complaints_domain::RecordConsentToShare), CASE_ROLES,
        "recordConsentToShare", "Record a consent: who gave it, for whom, what it permits (disclosure to the representative, joint handling under reg 9, access to records), how, and its evidence (R-CONS-1)";
    "participants" => AddParticipant(complaints_domain::AddParticipant), CASE_ROLES,
        "addParticipant", "Handle the complaint jointly with another body, this organisation leading; refused before consent to share when the complaint needs the person affected's consent (R-JOINT-1, R-JOINT-2, R-CONS-1)";
    "participant-removal" => RemoveParticipant(complaints_domain::RemoveParticipant), CASE_ROLES,
        "removeParticipant", "End another body's part in the joint complaint; what it still owed lapses (R-JOINT-2)";
    "part-request" => RequestPart(complaints_domain::RequestPart), CASE_ROLES,
        "requestPart", "Ask a body taking part for its part of the co-ordinated response by a day (R-JOINT-2)";
    "provide-part" => ProvidePart(complaints_domain::ProvidePart), CASE_ROLES,
        "providePart", "Supply this body's part of a joint complaint's co-ordinated response, as the body taking part (R-JOINT-2)";
    "assignment" => AssignCaseworker(complaints_domain::AssignCaseworker), CASE_ROLES,
        "assignCaseworker", "Allocate or reallocate the complaint to a caseworker by sign-in subject, for their cases and deadlines";
}

/// The command called `name`.
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// SHA-256 of the command name and its body's canonical JSON (keys sorted, no spaces):
/// tells a retry (same key, same body) from a reuse of the key for another request.
pub fn fingerprint(command: &str, body: &[u8]) -> Result<String, ApiError> {
    use sha2::{Digest, Sha256};
    let canonical: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    let bytes = serde_json::to_vec(&canonical).map_err(|e| ApiError::Internal(e.into()))?;
    let mut hash = Sha256::new();
    hash.update(command.as_bytes());
    hash.update([0u8]);
    hash.update(&bytes);
    Ok(hex::encode(hash.finalize()))
}

/// The path of the first string (value or key) holding U+0000, in the notation of
/// `serde_path_to_error` (`complainant.name`, `subject_areas[1]`).
fn nul_at(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(text) if text.contains('\0') => Some(path.to_string()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(join(&key.replace('\0', "\\u0000")))
            } else {
                nul_at(item, &join(key))
            }
        }),
        _ => None,
    }
}

/// Refuses U+0000 anywhere in a body. PostgreSQL cannot store it in text or JSON, so it
/// would fail only at commit as a 500 (and be redelivered over NATS) while SQLite took it:
/// refusing it here makes both backends answer alike, before anything is written. Only
/// the escape `\u0000` can carry it (a raw NUL is not valid JSON), so bodies without that
/// text skip the walk.
fn refuse_nul(bytes: &[u8]) -> Result<(), ApiError> {
    const ESCAPE: &[u8] = b"\\u0000";
    if !bytes.windows(ESCAPE.len()).any(|w| w == ESCAPE) {
        return Ok(());
    }
    // Malformed JSON is left to the typed parse, which names the syntax error.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    match nul_at(&value, "") {
        None => Ok(()),
        Some(field) => {
            let message = "must not contain the NUL character (U+0000)".to_string();
            Err(ApiError::Validation {
                detail: if field.is_empty() {
                    message.clone()
                } else {
                    format!("{field}: {message}")
                },
                errors: vec![FieldError { field, message }],
            })
        }
    }
}

/// Parses a command body, naming the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    refuse_nul(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    if parsed.is_ok() {
        de.end()
            .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    }
    parsed.map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::BadRequest(format!("malformed JSON: {inner}"))
            }
            _ => {
                let field = if path == "." { String::new() } else { path };
                ApiError::Validation {
                    detail: format!(
                        "{}{inner}",
                        if field.is_empty() {
                            String::new()
                        } else {
                            format!("{field}: ")
                        }
                    ),
                    errors: vec![FieldError {
                        field,
                        message: inner.to_string(),
                    }],
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::Value;

    fn refused_field(body: &str) -> Option<String> {
        match parse_json::<Value>(body.as_bytes()) {
            Err(ApiError::Validation { errors, .. }) => Some(errors[0].field.clone()),
            _ => None,
        }
    }

    #[test]
    fn a_nul_character_is_refused_naming_its_field() {
        assert_eq!(
            refused_field(r#"{"description": "a\u0000b"}"#).as_deref(),
            Some("description")
        );
        assert_eq!(
            refused_field(r#"{"complainant": {"name": "\u0000"}}"#).as_deref(),
            Some("complainant.name")
        );
        assert_eq!(
            refused_field(r#"{"subject_areas": ["x", "y\u0000"]}"#).as_deref(),
            Some("subject_areas[1]")
        );
        assert_eq!(refused_field(r#""\u0000""#).as_deref(), Some(""));
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_not_a_nul() {
        assert_eq!(
            parse_json::<Value>(br#"{"description": "C:\\u0000"}"#).unwrap()["description"],
            "C:\\u0000"
        );
    }
}
