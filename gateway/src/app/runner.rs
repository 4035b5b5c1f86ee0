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
use complaints_domain::{CaseKind, ComplaintAction, ComplaintError, ReceiveComplaint};
use tracing::Instrument;
use uuid::Uuid;

/// The name of the command that records a new complaint.
pub const RECEIVE: &str = "receive";
/// The name of the command that records a new whistleblowing concern: its own intake, under
/// its own role (R-KIND-3).
pub const RECEIVE_CONCERN: &str = "receive_whistleblowing_concern";

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
    if invocation.command == RECEIVE || invocation.command == RECEIVE_CONCERN {
        return receive(cases, caller, invocation).await;
    }
    let spec = commands::find(invocation.command)
        .ok_or_else(|| ApiError::BadRequest(format!("unknown command `{}`", invocation.command)))?;
    let raw_id = invocation
        .complaint_id
        .ok_or_else(|| ApiError::BadRequest("complaint_id is required".into()))?;
    let (found, access) = case_access(cases, caller, raw_id).await?;
    let for_participant = PARTICIPANT_COMMANDS.contains(&spec.name);
    // R-JOINT-2: a body taking part supplies its part; the case is the lead's to run,
    // the co-ordinated response included.
    if matches!(access, Access::Participant { .. }) && !for_participant {
        return Err(ApiError::Forbidden(format!(
            "`{}` is the lead organisation's to run: a body taking part in a joint complaint only supplies its part (R-JOINT-2)",
            spec.name
        )));
    }
    let role = caller.require(command_roles(&found, spec.roles))?;
    let mut action = (spec.parse)(invocation.body)?;
    let organisation = acting_organisation(caller, &found, &mut action)?;
    if invocation
        .channel_organisation
        .is_some_and(|channel| channel != organisation)
    {
        return Err(ApiError::NotFound);
    }
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
    let mut state = done.state;
    access.redact(&mut state);
    Ok(Ran {
        state,
        created: false,
    })
}

/// Commands a body taking part in a joint complaint runs on the lead's case (R-JOINT-2).
pub const PARTICIPANT_COMMANDS: &[&str] = &["provide-part"];

/// How a caller reaches a complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The caller acts for the complaint's own organisation: the lead of a joint complaint.
    Own,
    /// The caller acts only for a body taking part in the joint complaint (R-JOINT-2).
    Participant {
        /// The body taking part.
        organisation_id: String,
    },
}

impl Access {
    /// Hides from a participant what it may not see: the people and the complaint in their
    /// words until consent to share with it for joint handling is on record (R-CONS-1), and
    /// always the lead's own source reference (a linking field). The read models and the
    /// deadlines never held personal data.
    pub fn redact(&self, state: &mut CaseState) {
        if *self == Access::Own {
            return;
        }
        if !self.sees_personal_data(&state.case) {
            state.case.particulars = None;
        }
        if let Some(receipt) = state.case.receipt.as_mut() {
            receipt.source = None;
        }
    }

    /// Whether personal data may be shown to this caller (R-CONS-1).
    pub fn sees_personal_data(&self, case: &complaints_domain::Complaint) -> bool {
        match self {
            Access::Own => true,
            Access::Participant { organisation_id } => case.consent_to_share_with(organisation_id),
        }
    }
}

/// The organisation a command is run for, written to its events' metadata: the complaint's
/// own for the lead's commands; for a participant's part, the body supplying it (named in
/// the body, else the caller's organisation taking part). So the NATS relay publishes a
/// part under the participant's subject, while the audit chain and exports keep it with the
/// complaint's organisation, read from its receipt.
fn acting_organisation(
    caller: &Caller,
    found: &CaseState,
    action: &mut ComplaintAction,
) -> Result<String, ApiError> {
    let lead = found.case.receipt()?.organisation_id.clone();
    let ComplaintAction::ProvidePart(part) = action else {
        return Ok(lead);
    };
    let organisation = match &part.organisation_id {
        Some(named) if caller.acts_for(named) => named.clone(),
        Some(_) => {
            return Err(ApiError::Forbidden(
                "the token does not act for the organisation named".into(),
            ))
        }
        // The domain refuses the lead's own part: it is not a participant (R-JOINT-2).
        None => caller
            .organisations
            .iter()
            .find(|o| found.case.is_participant(o))
            .cloned()
            .unwrap_or(lead),
    };
    part.organisation_id = Some(organisation.clone());
    Ok(organisation)
}

/// Loads a complaint of the caller's organisations; another organisation's, one the caller
/// only takes part in, or an id that is not a complaint id, is 404 (never 403: its existence
/// is not told). For the pages and routes that show the whole case file.
pub async fn visible_case(
    cases: &Cases,
    caller: &Caller,
    raw_id: &str,
) -> Result<CaseState, ApiError> {
    match case_access(cases, caller, raw_id).await? {
        (found, Access::Own) => Ok(found),
        (_, Access::Participant { .. }) => Err(ApiError::NotFound),
    }
}

/// Loads a complaint the caller's organisations may see, unredacted, with how they reach it:
/// as its own organisation, or as a body taking part in it (R-JOINT-2). Any other
/// organisation's, or an id that is not a complaint id, is 404.
pub async fn case_access(
    cases: &Cases,
    caller: &Caller,
    raw_id: &str,
) -> Result<(CaseState, Access), ApiError> {
    let id = Uuid::parse_str(raw_id)
        .map_err(|_| ApiError::NotFound)?
        .to_string();
    let found = cases.get(&id).await?.ok_or(ApiError::NotFound)?;
    // R-KIND-3: a whistleblowing concern exists only for its own role (and is never joint).
    if found.case.kind().is_restricted() && !caller.roles.contains(&Role::Whistleblowing) {
        return Err(ApiError::NotFound);
    }
    let access = access_of(caller, &found.case)?;
    Ok((found, access))
}

/// How `caller` reaches `case`, or 404 (R-JOINT-2).
pub fn access_of(caller: &Caller, case: &complaints_domain::Complaint) -> Result<Access, ApiError> {
    if caller.acts_for(&case.receipt()?.organisation_id) {
        return Ok(Access::Own);
    }
    caller
        .organisations
        .iter()
        .find(|o| case.is_participant(o))
        .map(|o| Access::Participant {
            organisation_id: o.clone(),
        })
        .ok_or(ApiError::NotFound)
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
    // R-KIND-3: a whistleblowing concern has its own intake and role; the complaint intake
    // takes no concerns.
    let concern = invocation.command == RECEIVE_CONCERN;
    let role = caller.require(if concern {
        WHISTLEBLOWING_ROLES
    } else {
        INTAKE_ROLES
    })?;
    let mut body: ReceiveComplaint = parse_json(invocation.body)?;
    match (concern, body.kind) {
        (true, None | Some(CaseKind::Whistleblowing)) => body.kind = Some(CaseKind::Whistleblowing),
        (true, Some(_)) => {
            return Err(ApiError::Rule(ComplaintError::InvalidField {
                field: "kind",
                reason: "this intake takes whistleblowing concerns only".into(),
            }))
        }
        (false, Some(CaseKind::Whistleblowing)) => {
            return Err(ApiError::Rule(ComplaintError::InvalidField {
                field: "kind",
                reason: "a whistleblowing concern is taken in at /v1/whistleblowing-concerns, under its own role".into(),
            }))
        }
        (false, _) => {}
    }
    // Only a transfer from a body elsewhere is told by the caller; the other origins are
    // the system's own hand-overs, which the caller cannot claim.
    if body
        .origin
        .as_ref()
        .is_some_and(|o| o.relation != complaints_domain::OriginRelation::TransferredIn)
    {
        return Err(ApiError::Rule(ComplaintError::InvalidField {
            field: "origin.relation",
            reason: "a caller records only `transferred_in`; the system records the others when it opens the case itself".into(),
        }));
    }
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
