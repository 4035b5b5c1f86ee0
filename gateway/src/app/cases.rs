//! Running commands against complaints: load the stream, check idempotency and the
//! expected version, decide, append. Every effect on a complaint goes through here.

use crate::error::ApiError;
use chrono::{DateTime, NaiveDate, Utc};
use complaints_domain::{
    decide, evolve, Complaint, ComplaintAction, ComplaintCommand, ComplaintServices,
};
use complaints_eventlog::metadata as meta;
use complaints_eventlog::EventLog;
use cqrs_es::EventEnvelope;
use std::collections::HashMap;
use uuid::Uuid;

/// Name of the generated key-encryption key in the data directory.
pub const KEK_FILE: &str = "kek";
/// Name of the generated secret keying data subject ids in the data directory.
pub const SUBJECT_SECRET_FILE: &str = "subject-secret";

/// The personal data encryption of this deployment (schemas/encryption.md): `None` when
/// `COMPLAINTS_ENCRYPTION=off` (for benchmark comparisons only). The key-encryption key
/// comes from `COMPLAINTS_KEK_FILE` or `kek` in the data directory (generated on first run);
/// data subject ids are keyed with `subject-secret` there. Several gateways must share both.
/// `COMPLAINTS_PREVIOUS_KEK_FILES` (a path list) names KEKs being rotated out.
pub fn encryption(
    data_dir: &std::path::Path,
) -> Result<Option<std::sync::Arc<complaints_eventlog::crypto::Encryption>>, ApiError> {
    use complaints_eventlog::crypto::{Encryption, LocalKek};
    if std::env::var("COMPLAINTS_ENCRYPTION").is_ok_and(|v| v.trim().eq_ignore_ascii_case("off")) {
        tracing::warn!("personal data encryption is switched off (COMPLAINTS_ENCRYPTION=off)");
        return Ok(None);
    }
    let kek = key_secret(
        "COMPLAINTS_KEK_FILE",
        data_dir,
        KEK_FILE,
        "the key-encryption key",
    )?;
    // Keys still wrapped by a KEK being rotated out open with it until `rotate-kek` has
    // re-wrapped them.
    if let Some(paths) = std::env::var_os("COMPLAINTS_PREVIOUS_KEK_FILES").filter(|v| !v.is_empty())
    {
        for path in std::env::split_paths(&paths) {
            let previous = read_secret(&path, "the previous key-encryption key")?;
            complaints_eventlog::crypto::register_wrapper(std::sync::Arc::new(
                LocalKek::from_secret(previous.as_bytes()),
            ));
        }
    }
    // Like the KEK, one secret for every gateway and projector: a subject id keyed with
    // another would not find the person's earlier complaints.
    let identity = key_secret(
        "COMPLAINTS_SUBJECT_SECRET_FILE",
        data_dir,
        SUBJECT_SECRET_FILE,
        "the data subject id secret",
    )?;
    Ok(Some(std::sync::Arc::new(Encryption::new(
        std::sync::Arc::new(LocalKek::from_secret(kek.as_bytes())),
        identity.into_bytes(),
    ))))
}

/// A secret of personal data encryption: the file `variable` names, else `file` in the data
/// directory (generated on first run); at least 32 characters.
fn key_secret(
    variable: &str,
    data_dir: &std::path::Path,
    file: &str,
    what: &str,
) -> Result<String, ApiError> {
    let secret = match std::env::var_os(variable).filter(|v| !v.is_empty()) {
        Some(path) => read_secret(std::path::Path::new(&path), what)?,
        None => complaints_audit::secrets::load_or_create(data_dir, file, what)?,
    };
    if secret.len() < 32 {
        return Err(ApiError::Config(format!(
            "{what} is too short (at least 32 characters)"
        )));
    }
    Ok(secret)
}

/// A secret file's content, surrounding whitespace removed (as these keys were always read).
fn read_secret(path: &std::path::Path, what: &str) -> Result<String, ApiError> {
    let text = crate::auth::secret_value(None, Some(path), what)?.unwrap_or_default();
    Ok(text.trim().to_string())
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
    id_key: Vec<u8>,
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
    /// Complaint ids derived from source references are keyed with a fresh random key: set
    /// the deployment's with [`Cases::with_id_key`] so they are stable across restarts.
    pub fn new(log: EventLog, services: ComplaintServices) -> Self {
        let mut id_key = vec![0u8; 32];
        // Without randomness the key is all zeros: ids are then still stable, only guessable.
        let _ = getrandom::fill(&mut id_key);
        Self {
            log,
            services,
            id_key,
        }
    }

    /// Uses the deployment's secret to derive complaint ids from source references.
    pub fn with_id_key(mut self, id_key: Vec<u8>) -> Self {
        self.id_key = id_key;
        self
    }

    /// The complaint id for a frontline system's reference, so a repeated intake finds the
    /// existing complaint: HMAC-SHA256 under the deployment's secret of the organisation,
    /// system and reference, as a UUID (version 8). Nobody without the secret can compute
    /// it from the facts, so an id in an export or on NATS reveals nothing.
    pub fn complaint_id_for_source(
        &self,
        organisation_id: &str,
        system: &str,
        reference: &str,
    ) -> Uuid {
        use hmac::{Hmac, Mac};
        let digest = match Hmac::<sha2::Sha256>::new_from_slice(&self.id_key) {
            Ok(mut mac) => {
                mac.update(b"complaints-id/v1\n");
                for (i, part) in [organisation_id, system, reference].iter().enumerate() {
                    if i > 0 {
                        mac.update(&[0x1f]);
                    }
                    mac.update(part.as_bytes());
                }
                mac.finalize().into_bytes()
            }
            // HMAC takes keys of any length; this arm is unreachable.
            Err(_) => return Uuid::new_v4(),
        };
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Uuid::new_v8(bytes)
    }

    /// The command fingerprint as the log keeps it: keyed with the deployment's secret. The
    /// bare digest of a body is stored in clear metadata for as long as the log lives, so
    /// anyone holding the database could confirm a guessed body (a name, an NHS number, a
    /// consent's evidence) against it, even after that person's data was erased.
    pub fn stored_fingerprint(&self, fingerprint: &str) -> String {
        use hmac::{Hmac, Mac};
        match Hmac::<sha2::Sha256>::new_from_slice(&self.id_key) {
            Ok(mut mac) => {
                mac.update(b"complaints-fingerprint/v1\n");
                mac.update(fingerprint.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            // HMAC takes keys of any length; this arm is unreachable.
            Err(_) => fingerprint.to_string(),
        }
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
        let hands_over = matches!(
            action,
            ComplaintAction::TreatAsComplaint(_) | ComplaintAction::Close(_)
        )
        .then(|| action.clone());
        let mut result = self
            .try_execute(id, action, context, expected_version)
            .await;
        if let (Ok(done), Some(action)) = (&mut result, hands_over) {
            // The closure is recorded: open the case it hands over and link back (R-KIND-1,
            // R-SCOPE-2, R-SCOPE-3), then answer with the case as linked.
            crate::app::handover::complete(self, &done.state, context, &action).await?;
            if let Some(now) = self.get(id).await? {
                if now.case.linked_cases != done.state.case.linked_cases {
                    done.state = now;
                }
            }
        }
        let outcome = match &result {
            Ok(done) if done.applied => "applied",
            Ok(_) => "replayed",
            Err(e) => e.code(),
        };
        crate::telemetry::record_command(command, outcome);
        result
    }

    pub(crate) async fn try_execute(
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
                    let stored = envelope.metadata.get(meta::COMMAND_FINGERPRINT);
                    // Events written before fingerprints were keyed hold the bare digest.
                    let same = stored == Some(&self.stored_fingerprint(&context.fingerprint))
                        || stored == Some(&context.fingerprint);
                    if !same {
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

        let mut metadata = self.metadata(&action, context);
        let kind = match &action {
            ComplaintAction::Receive(receive) => receive.kind.unwrap_or_default(),
            _ => current.case.kind(),
        };
        if !kind.is_complaint() {
            metadata.insert(meta::CASE_KIND.to_string(), kind.code().to_string());
        }
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
                self.stored_fingerprint(&context.fingerprint),
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
