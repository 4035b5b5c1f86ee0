//! Metadata keys stored with every event: who acted, for which organisation, under which
//! command, and when the fact happened as distinct from when it was recorded.

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
/// The sending system's own reference.
pub const SOURCE_REFERENCE: &str = "source_reference";
/// Business day the fact happened on.
pub const OCCURRED_ON: &str = "occurred_on";
/// When the gateway accepted the command.
pub const ISSUED_AT: &str = "issued_at";
/// The kind of case (`enquiry`, `about_organisation`, `whistleblowing`), on every event of
/// a case that is not a statutory complaint; absent on complaints. Lets consumers keep
/// whistleblowing concerns out without folding the case (R-KIND-3).
pub const CASE_KIND: &str = "case_kind";
