//! Running one command for one caller, whichever edge it came in by (HTTP or NATS intake):
//! authorise, parse, find the complaint within the caller's organisations, derive the id
//! of a new complaint, execute. The edges only translate their transport to an
//! [`Invocation`] and the result back.

use crate::app::cases::{CaseState, Cases, CommandContext};
use crate::app::clock::london_date;
use crate::app::commands::{self, fingerprint, parse_json, INTAKE_ROLES};
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use chrono::{DateTime, Utc};
use complaints_domain::{ComplaintAction, ComplaintError, ReceiveComplaint};
use tracing::Instrument;
use uuid::Uuid;

/// The name of the command that records a new complaint.
pub const RECEIVE: &str = "receive";

/// A command as it arrived.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    /// [`RECEIVE`] or a name from the command table.
    pub command: &'a str,
    /// The complaint acted on (every command but [`RECEIVE`]).
    pub complaint_id: Option<&'a str>,
    /// The command's JSON body.
    pub body: &'a [u8],
    /// The caller's id for this command (`Idempotency-Key`, NATS message id): a repeat
    /// writes nothing and answers the same.
    pub command_id: Option<String>,
    /// The version the caller last saw (`If-Match`).
    pub expected_version: Option<usize>,
    /// Correlation id of the request chain.
    pub correlation_id: String,
    /// What caused this command (a NATS message), when known.
    pub causation_id: Option<String>,
    /// The organisation the channel is bound to (a NATS intake subject): the complaint must
    /// be that organisation's.
    pub channel_organisation: Option<&'a str>,
    /// When the edge accepted it.
    pub issued_at: DateTime<Utc>,
}

/// What running a command gave.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The complaint as it now stands.
    pub state: CaseState,
    /// A new complaint was recorded by this command.
    pub created: bool,
}

/// Runs `invocation` for `caller`.
pub async fn run(
    cases: &Cases,
    caller: &Caller,
    invocation: &Invocation<'_>,
) -> Result<Ran, ApiError> {
    if invocation.command == RECEIVE {
        return receive(cases, caller, invocation).await;
    }
    let spec = commands::find(invocation.command)
        .ok_or_else(|| ApiError::BadRequest(format!("unknown command `{}`", invocation.command)))?;
    let raw_id = invocation
        .complaint_id
        .ok_or_else(|| ApiError::BadRequest("complaint_id is required".into()))?;
    let found = visible_case(cases, caller, raw_id).await?;
    let organisation = found.case.receipt()?.organisation_id.clone();
    if invocation
        .channel_organisation
        .is_some_and(|channel| channel != organisation)
    {
        return Err(ApiError::NotFound);
    }
    let role = caller.require(command_roles(&found, spec.roles))?;
    let action = (spec.parse)(invocation.body)?;
    let context = context(caller, role, invocation, spec.name, &organisation)?;
    let span = tracing::info_span!(
        "command",
        complaint_id = %found.id,
        command = action.name(),
        correlation_id = %context.correlation_id
    );
    let done = cases
        .execute(&found.id, action, &context, invocation.expected_version)
        .instrument(span)
        .await?;
    Ok(Ran {
        state: done.state,
        created: false,
    })
}

/// Loads a complaint the caller's organisations may see; another organisation's, or an id
/// that is not a complaint id, is 404 (never 403: its existence is not told).
pub async fn visible_case(
    cases: &Cases,
    caller: &Caller,
    raw_id: &str,
) -> Result<CaseState, ApiError> {
    let id = Uuid::parse_str(raw_id)
        .map_err(|_| ApiError::NotFound)?
        .to_string();
    let found = cases.get(&id).await?.ok_or(ApiError::NotFound)?;
    if !caller.acts_for(&found.case.receipt()?.organisation_id) {
        return Err(ApiError::NotFound);
    }
    // R-KIND-3: a whistleblowing concern exists only for its own role.
    if found.case.kind().is_restricted() && !caller.roles.contains(&Role::Whistleblowing) {
        return Err(ApiError::NotFound);
    }
    Ok(found)
}

/// Who may act on `found`: the command's roles, or for a whistleblowing concern its own
/// role alone (R-KIND-3).
pub fn command_roles(found: &CaseState, roles: &'static [Role]) -> &'static [Role] {
    if found.case.kind().is_restricted() {
        WHISTLEBLOWING_ROLES
    } else {
        roles
    }
}

/// The one role that handles and reads whistleblowing concerns (R-KIND-3).
pub const WHISTLEBLOWING_ROLES: &[Role] = &[Role::Whistleblowing];

async fn receive(
    cases: &Cases,
    caller: &Caller,
    invocation: &Invocation<'_>,
) -> Result<Ran, ApiError> {
    let body: ReceiveComplaint = parse_json(invocation.body)?;
    // R-KIND-3: a whistleblowing concern is taken in under its own role only.
    let restricted = body.kind.is_some_and(|k| k.is_restricted());
    let role = caller.require(if restricted {
        WHISTLEBLOWING_ROLES
    } else {
        INTAKE_ROLES
    })?;
    if !caller.acts_for(&body.organisation_id) {
        return Err(ApiError::Forbidden(
            "the token does not act for this organisation".into(),
        ));
    }
    if invocation
        .channel_organisation
        .is_some_and(|channel| channel != body.organisation_id)
    {
        return Err(ApiError::Forbidden(
            "organisation_id differs from the intake subject's organisation".into(),
        ));
    }
    let id = match (&body.source, &invocation.command_id) {
        (Some(source), _) => {
            cases.complaint_id_for_source(&body.organisation_id, &source.system, &source.reference)
        }
        // A retried intake without a source reference still lands on one complaint.
        (None, Some(command_id)) => {
            cases.complaint_id_for_source(&body.organisation_id, "command-id", command_id)
        }
        (None, None) => Uuid::new_v4(),
    }
    .to_string();
    tracing::Span::current().record("complaint_id", id.as_str());
    let by_source = body.source.is_some();
    if by_source {
        if let Some(existing) = cases.get(&id).await? {
            return Ok(Ran {
                state: existing,
                created: false,
            });
        }
    }
    let context = context(caller, role, invocation, RECEIVE, &body.organisation_id)?;
    match cases
        .execute(&id, ComplaintAction::Receive(body), &context, None)
        .await
    {
        Ok(done) => Ok(Ran {
            created: done.applied,
            state: done.state,
        }),
        // Two deliveries of one intake raced: the loser answers with the winner's complaint.
        Err(ApiError::Conflict | ApiError::Rule(ComplaintError::AlreadyReceived)) if by_source => {
            let existing = cases.get(&id).await?.ok_or(ApiError::Conflict)?;
            Ok(Ran {
                state: existing,
                created: false,
            })
        }
        Err(ApiError::Rule(ComplaintError::AlreadyReceived)) => Err(ApiError::IdempotencyKeyReused),
        Err(e) => Err(e),
    }
}

fn context(
    caller: &Caller,
    role: Role,
    invocation: &Invocation<'_>,
    command: &str,
    organisation_id: &str,
) -> Result<CommandContext, ApiError> {
    Ok(CommandContext {
        actor: caller.subject.clone(),
        role: role.name().to_string(),
        organisation_id: organisation_id.to_string(),
        command_id: invocation.command_id.clone(),
        fingerprint: fingerprint(command, invocation.body)?,
        correlation_id: invocation.correlation_id.clone(),
        causation_id: invocation.causation_id.clone(),
        issued_at: invocation.issued_at,
        issued_on: london_date(invocation.issued_at),
    })
}
