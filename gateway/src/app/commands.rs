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

/// One command on an existing complaint.
pub struct CommandSpec {
    /// Route segment and intake name, e.g. `acknowledgement`.
    pub name: &'static str,
    /// Roles allowed to run it.
    pub roles: &'static [Role],
    /// Parses a JSON body into the action (400/422 with the field named on failure).
    pub parse: fn(&[u8]) -> Result<ComplaintAction, ApiError>,
}

macro_rules! commands {
    ($($name:literal => $variant:ident($body:ty), $roles:expr;)+) => {
        /// Every command on an existing complaint.
        pub const COMMANDS: &[CommandSpec] = &[
            $(CommandSpec {
                name: $name,
                roles: $roles,
                parse: |bytes| parse_json::<$body>(bytes).map(ComplaintAction::$variant),
            },)+
        ];
    };
}

commands! {
    "acknowledgement" => Acknowledge(complaints_domain::AcknowledgeComplaint), INTAKE_ROLES;
    "out-of-time-acceptance" => AcceptOutOfTime(complaints_domain::AcceptOutOfTime), CASE_ROLES;
    "consent-request" => RequestConsent(complaints_domain::RequestConsent), CASE_ROLES;
    "consent" => RecordConsent(complaints_domain::RecordConsent), CASE_ROLES;
    "consent-lapse" => LapseConsent(complaints_domain::LapseConsent), CASE_ROLES;
    "risk-assessment" => AssessRisk(complaints_domain::AssessRisk), CASE_ROLES;
    "response-plan" => AgreeResponsePlan(complaints_domain::AgreeResponsePlan), CASE_ROLES;
    "clock-stops" => StopClock(complaints_domain::StopClock), CASE_ROLES;
    "clock-restarts" => RestartClock(complaints_domain::RestartClock), CASE_ROLES;
    "delay-notification" => NotifyDelay(complaints_domain::NotifyDelay), CASE_ROLES;
    "response" => SendResponse(complaints_domain::SendResponse), CASE_ROLES;
    "escalation" => Escalate(complaints_domain::EscalateComplaint), CASE_ROLES;
    "ombudsman-referral" => ReferToOmbudsman(complaints_domain::ReferToOmbudsman), CASE_ROLES;
    "ombudsman-decision" => RecordOmbudsmanDecision(complaints_domain::RecordOmbudsmanDecision), CASE_ROLES;
    "learning" => RecordLearning(complaints_domain::RecordLearning), CASE_ROLES;
    "closure" => Close(complaints_domain::CloseComplaint), CASE_ROLES;
    "reopening" => Reopen(complaints_domain::ReopenComplaint), CASE_ROLES;
    "legal-hold" => PlaceLegalHold(complaints_domain::PlaceLegalHold), CASE_ROLES;
    "legal-hold-release" => ReleaseLegalHold(complaints_domain::ReleaseLegalHold), CASE_ROLES;
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

/// Parses a command body, naming the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
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
