//! Running commands against complaints: load the stream, check idempotency and the
//! expected version, decide, append. Every effect on a complaint goes through here.

use crate::error::ApiError;
use crate::store::EventLog;
use chrono::{DateTime, NaiveDate, Utc};
use complaints_domain::{
    decide, evolve, Complaint, ComplaintAction, ComplaintCommand, ComplaintServices,
};
use cqrs_es::EventEnvelope;
use std::collections::HashMap;
use uuid::Uuid;

/// Metadata keys stored with every event.
pub mod meta {
    /// Token subject of the caller.
    pub const ACTOR: &str = "actor";
    /// Role the caller acted in.
    pub const ROLE: &str = "role";
    /// Organisation the caller acted for.
    pub const ORGANISATION: &str = "organisation_id";
    /// The command's id (`Idempotency-Key` or NATS message id), when given.
    pub const COMMAND_ID: &str = "command_id";
    /// SHA-256 of the command name and body, to tell a retry from a reuse of the key.
    pub const COMMAND_FINGERPRINT: &str = "command_fingerprint";
    /// The command's name.
    pub const COMMAND: &str = "command";
    /// Correlation id of the request chain.
    pub const CORRELATION_ID: &str = "correlation_id";
    /// The message or event that caused this command, when there is one.
    pub const CAUSATION_ID: &str = "causation_id";
    /// Sending system.
    pub const SOURCE_SYSTEM: &str = "source_system";
    /// Sending system's reference.
    pub const SOURCE_REFERENCE: &str = "source_reference";
    /// Business day the fact happened on.
    pub const OCCURRED_ON: &str = "occurred_on";
    /// When the gateway accepted the command.
    pub const ISSUED_AT: &str = "issued_at";
}

/// Who is acting and why, carried into every event's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandContext {
    /// Token subject.
    pub actor: String,
    /// Role.
    pub role: String,
    /// Organisation acted for.
    pub organisation_id: String,
    /// Idempotency key, if the caller gave one.
    pub command_id: Option<String>,
    /// Fingerprint of the command name and body.
    pub fingerprint: String,
    /// Correlation id.
    pub correlation_id: String,
    /// Causation id.
    pub causation_id: Option<String>,
    /// When the gateway accepted it.
    pub issued_at: DateTime<Utc>,
    /// The civil day in England at `issued_at`.
    pub issued_on: NaiveDate,
}

/// A complaint as folded from its stream.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseState {
    /// The complaint id.
    pub id: String,
    /// State after the last event.
    pub case: Complaint,
    /// Sequence of the last event (0 when none).
    pub version: usize,
}

/// What a command did.
#[derive(Debug, Clone, PartialEq)]
pub struct Executed {
    /// The complaint after the command.
    pub state: CaseState,
    /// False when this was a retry of a command already applied: nothing was written.
    pub applied: bool,
}

/// The complaints of this deployment.
pub struct Cases {
    log: EventLog,
    services: ComplaintServices,
}

fn fold(id: &str, envelopes: &[EventEnvelope<Complaint>]) -> CaseState {
    let mut case = Complaint::default();
    for envelope in envelopes {
        evolve(&mut case, envelope.payload.clone());
    }
    CaseState {
        id: id.to_string(),
        case,
        version: envelopes.last().map_or(0, |e| e.sequence),
    }
}

impl Cases {
    /// Complaints stored in `log`, judged by `services`.
    pub fn new(log: EventLog, services: ComplaintServices) -> Self {
        Self { log, services }
    }

    /// The event log.
    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// The calendar and policies.
    pub fn services(&self) -> &ComplaintServices {
        &self.services
    }

    /// The complaint as it stands now, read from its own stream.
    pub async fn get(&self, id: &str) -> Result<Option<CaseState>, ApiError> {
        let envelopes = self.log.load(id).await?;
        if envelopes.is_empty() {
            return Ok(None);
        }
        Ok(Some(fold(id, &envelopes)))
    }

    /// Runs `action` on complaint `id`. A repeat of a command id already applied returns
    /// the complaint as that command left it and writes nothing; the same id with a
    /// different body is refused.
    #[tracing::instrument(skip_all, fields(complaint_id = %id, command = action.name()), err(level = "info"))]
    pub async fn execute(
        &self,
        id: &str,
        action: ComplaintAction,
        context: &CommandContext,
        expected_version: Option<usize>,
    ) -> Result<Executed, ApiError> {
        let command = action.name();
        let result = self
            .try_execute(id, action, context, expected_version)
            .await;
        let outcome = match &result {
            Ok(done) if done.applied => "applied",
            Ok(_) => "replayed",
            Err(e) => e.code(),
        };
        crate::telemetry::record_command(command, outcome);
        result
    }

    async fn try_execute(
        &self,
        id: &str,
        action: ComplaintAction,
        context: &CommandContext,
        expected_version: Option<usize>,
    ) -> Result<Executed, ApiError> {
        let envelopes = self.log.load(id).await?;

        if let Some(command_id) = &context.command_id {
            let mut applied_at = None;
            for envelope in &envelopes {
                if envelope.metadata.get(meta::COMMAND_ID) == Some(command_id) {
                    if envelope.metadata.get(meta::COMMAND_FINGERPRINT)
                        != Some(&context.fingerprint)
                    {
                        return Err(ApiError::IdempotencyKeyReused);
                    }
                    applied_at = Some(envelope.sequence);
                }
            }
            if let Some(last) = applied_at {
                let upto: Vec<_> = envelopes
                    .iter()
                    .take_while(|e| e.sequence <= last)
                    .cloned()
                    .collect();
                return Ok(Executed {
                    state: fold(id, &upto),
                    applied: false,
                });
            }
        }

        let current = fold(id, &envelopes);
        if let Some(expected) = expected_version {
            if expected != current.version {
                return Err(ApiError::PreconditionFailed {
                    current: current.version,
                });
            }
        }

        let metadata = self.metadata(&action, context);
        let command = ComplaintCommand {
            issued_on: context.issued_on,
            action,
        };
        let events = decide(&current.case, command, &self.services)?;
        let committed = self
            .log
            .append(id, current.version, current.case.clone(), events, metadata)
            .await?;

        let mut state = current;
        for envelope in committed {
            state.version = envelope.sequence;
            evolve(&mut state.case, envelope.payload);
        }
        Ok(Executed {
            state,
            applied: true,
        })
    }

    fn metadata(
        &self,
        action: &ComplaintAction,
        context: &CommandContext,
    ) -> HashMap<String, String> {
        let mut m = HashMap::from([
            (meta::ACTOR.to_string(), context.actor.clone()),
            (meta::ROLE.to_string(), context.role.clone()),
            (
                meta::ORGANISATION.to_string(),
                context.organisation_id.clone(),
            ),
            (meta::COMMAND.to_string(), action.name().to_string()),
            (
                meta::COMMAND_FINGERPRINT.to_string(),
                context.fingerprint.clone(),
            ),
            (
                meta::CORRELATION_ID.to_string(),
                context.correlation_id.clone(),
            ),
            (
                meta::OCCURRED_ON.to_string(),
                action.occurred_on().to_string(),
            ),
            (meta::ISSUED_AT.to_string(), context.issued_at.to_rfc3339()),
        ]);
        if let Some(id) = &context.command_id {
            m.insert(meta::COMMAND_ID.to_string(), id.clone());
        }
        if let Some(id) = &context.causation_id {
            m.insert(meta::CAUSATION_ID.to_string(), id.clone());
        }
        if let ComplaintAction::Receive(receive) = action {
            if let Some(source) = &receive.source {
                m.insert(meta::SOURCE_SYSTEM.to_string(), source.system.clone());
                m.insert(meta::SOURCE_REFERENCE.to_string(), source.reference.clone());
            }
        }
        m
    }
}

/// The complaint id for a frontline system's reference: UUID v5 of the organisation,
/// system and reference, so a repeated intake finds the existing complaint.
pub fn complaint_id_for_source(organisation_id: &str, system: &str, reference: &str) -> Uuid {
    let name = format!("{organisation_id}\u{1f}{system}\u{1f}{reference}");
    Uuid::new_v5(&COMPLAINT_NAMESPACE, name.as_bytes())
}

/// Namespace of source-derived complaint ids.
const COMPLAINT_NAMESPACE: Uuid = Uuid::from_u128(0x6d1c_52a4_0b7e_4f8e_9a51_3c2f_9e47_d0a1);
