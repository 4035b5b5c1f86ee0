//! Read endpoints: the case list and deadlines (read models, eventually consistent, with the
//! position they reflect), a case's history and the case as it stood at an instant (read
//! from the complaint's own stream, always current).

use crate::app::cases::CaseState;
use crate::app::clock::london_date;
use crate::app::runner::Access;
use crate::app::state::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::http::ComplaintView;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use complaints_domain::{evolve, Complaint};
use complaints_eventlog::read_stream;
use complaints_projections::models::case_views::{
    self, CaseFilter, CaseListRow, DeadlineCursor, DeadlineFilter, DeadlineRow,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Roles that may list complaints and deadlines (no personal data in either).
const LIST_ROLES: &[Role] = &[
    Role::Caseworker,
    Role::Frontline,
    Role::Auditor,
    Role::Reporting,
];
/// Roles that may read a case's full history.
const HISTORY_ROLES: &[Role] = &[Role::Auditor, Role::Caseworker];

/// The read routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/complaints/{id}/history", get(history))
        .route("/v1/deadlines", get(deadlines))
        .merge(crate::http::audit::routes())
        .merge(crate::http::export::routes())
        .merge(crate::http::reports::routes())
}

/// The organisations a query covers: the one asked for (which the caller must act for), or
/// all of the caller's.
pub(crate) fn organisations(caller: &Caller, asked: Option<&str>) -> Result<Vec<String>, ApiError> {
    match asked {
        Some(org) if caller.acts_for(org) => Ok(vec![org.to_string()]),
        Some(_) => Err(ApiError::Forbidden(
            "the token does not act for this organisation".into(),
        )),
        None => Ok(caller.organisations.clone()),
    }
}

/// An `assigned_to` filter as the runner records subjects (trimmed); blank means no filter,
/// as a cleared form field sends it.
pub(crate) fn caseworker(asked: Option<String>) -> Option<String> {
    asked
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Query of `GET /v1/complaints`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    organisation: Option<String>,
    received_from: Option<NaiveDate>,
    received_to: Option<NaiveDate>,
    subject_area: Option<String>,
    stage: Option<i64>,
    channel: Option<String>,
    kind: Option<String>,
    assigned_to: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// A page of the case list (`GET /v1/complaints`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct CaseList {
    /// Rows of `rm_case_list`, newest received first.
    items: Vec<CaseListRow>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
    /// The global log position the read model reflects.
    position: i64,
}

fn parse_cursor(raw: &str) -> Result<(NaiveDate, String), ApiError> {
    let bad = || ApiError::BadRequest("cursor is not one this API returned".into());
    let (day, id) = raw.split_once('_').ok_or_else(bad)?;
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| bad())?;
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((day, id.to_string()))
}

/// `GET /v1/complaints`: the case list, newest received first, keyset-paginated.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(LIST_ROLES)?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 500".into(),
        ));
    }
    let pool = state.cases.log().pool();
    let position = case_views::reflected_position(pool, case_views::NAME).await?;
    let filter = CaseFilter {
        organisations: organisations(&caller, query.organisation.as_deref())?,
        status: query.status,
        received_from: query.received_from,
        received_to: query.received_to,
        subject_area: query.subject_area,
        stage: query.stage,
        channel: query.channel,
        kind: query.kind,
        assigned_to: caseworker(query.assigned_to),
        after: query.cursor.as_deref().map(parse_cursor).transpose()?,
        limit: limit + 1,
    };
    let mut items: Vec<CaseListRow> = case_views::list_cases(pool, &filter).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items
            .last()
            .map(|r| format!("{}_{}", r.received_on, r.complaint_id))
    } else {
        None
    };
    Ok(Json(CaseList {
        items,
        next_cursor,
        position,
    })
    .into_response())
}

/// Query of `GET /v1/deadlines`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineQuery {
    organisation: Option<String>,
    due_before: Option<NaiveDate>,
    #[serde(default)]
    overdue: bool,
    kind: Option<String>,
    assigned_to: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// A page of deadlines (`GET /v1/deadlines`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeadlineList {
    /// Rows of `rm_deadlines`, soonest first (undated last), with `state` judged as of `as_of`.
    items: Vec<DeadlineRow>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
    /// The day "overdue" was judged on (England).
    as_of: NaiveDate,
    /// The global log position the read model reflects.
    position: i64,
}

/// A deadlines `cursor` as this API wrote it.
pub(crate) fn deadline_cursor(raw: &str) -> Result<DeadlineCursor, ApiError> {
    DeadlineCursor::decode(raw)
        .ok_or_else(|| ApiError::BadRequest("cursor is not one this API returned".into()))
}

async fn deadlines(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<DeadlineQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(LIST_ROLES)?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 500".into(),
        ));
    }
    let after = query.cursor.as_deref().map(deadline_cursor).transpose()?;
    let today = london_date(state.now());
    let pool = state.cases.log().pool();
    let position = case_views::reflected_position(pool, case_views::NAME).await?;
    let filter = DeadlineFilter {
        organisations: organisations(&caller, query.organisation.as_deref())?,
        due_before: query.due_before,
        overdue: query.overdue,

        unmet_only: false,
        kind: query.kind,
        assigned_to: caseworker(query.assigned_to),
        today,
    };
    // One row past the page tells whether another page follows.
    let mut items = case_views::deadlines_page(pool, &filter, after.as_ref(), limit + 1).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|r| DeadlineCursor::after(r).encode())
    } else {
        None
    };
    Ok(Json(DeadlineList {
        items,
        next_cursor,
        as_of: today,
        position,
    })
    .into_response())
}

/// A complaint's history (`GET /v1/complaints/{id}/history`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ComplaintHistory {
    /// The complaint's id.
    complaint_id: String,
    /// Every event of the complaint, in order.
    events: Vec<HistoryEntry>,
}

/// One entry of a case's history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryEntry {
    /// The event's place in the complaint's stream, from 1.
    sequence: i64,
    /// The event's global log position.
    position: i64,
    /// The event type (see `schemas/events/`).
    event_type: String,
    /// The event type's schema version.
    event_version: String,
    /// When the event was recorded.
    recorded_at: DateTime<Utc>,
    /// The business day it happened on.
    occurred_on: Option<String>,
    /// Who recorded it (the token subject).
    actor: Option<String>,
    /// The role they acted in.
    role: Option<String>,
    /// The organisation they acted for.
    organisation_id: Option<String>,
    /// The command that recorded it.
    command: Option<String>,
    /// The command's id (`Idempotency-Key` or NATS message id), when given.
    command_id: Option<String>,
    /// Correlation id of the request chain.
    correlation_id: Option<String>,
    /// The message or event that caused the command, when there is one.
    causation_id: Option<String>,
    /// The event as recorded (its schema is under `schemas/events/`).
    data: serde_json::Value,
    /// The event's place in the audit hash chain, once the sealer has reached it.
    seal: Option<Seal>,
}

/// An event's link in the audit hash chain (see `schemas/audit-chain.md`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Seal {
    /// The event's index in the chain, from 1.
    chain_index: i64,
    /// The event's leaf hash, hex.
    leaf: String,
    /// The chain link at the event, hex.
    link: String,
}

/// A complaint's stream, with how the caller reaches it: its own organisation's, or one it
/// takes part in (R-JOINT-2); any other is 404.
async fn visible_stream(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
) -> Result<(String, Vec<complaints_eventlog::StoredEvent>, Access), ApiError> {
    let id = Uuid::parse_str(raw_id)
        .map_err(|_| ApiError::NotFound)?
        .to_string();
    let events = read_stream(state.cases.log().pool(), &id).await?;
    let organisation = events.first().and_then(|e| match &e.event {
        complaints_domain::ComplaintEvent::ComplaintReceived {
            organisation_id, ..
        } => Some(organisation_id.clone()),
        _ => None,
    });
    // R-KIND-3: a whistleblowing concern exists only for its own role.
    let restricted = events
        .first()
        .is_some_and(complaints_eventlog::is_restricted);
    if restricted && !caller.roles.contains(&crate::auth::Role::Whistleblowing) {
        return Err(ApiError::NotFound);
    }
    match organisation {
        Some(org) if caller.acts_for(&org) => Ok((id, events, Access::Own)),
        Some(_) => {
            let mut case = Complaint::default();
            for event in &events {
                evolve(&mut case, event.event.clone());
            }
            let access = crate::app::runner::access_of(caller, &case)?;
            Ok((id, events, access))
        }
        None => Err(ApiError::NotFound),
    }
}

async fn history(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let (id, events, access) = visible_stream(&state, &caller, &id).await?;
    // R-CONS-1: a body taking part reads the people's details only with consent to share.
    let personal = match &access {
        Access::Own => true,
        Access::Participant { .. } => {
            let mut case = Complaint::default();
            for event in &events {
                evolve(&mut case, event.event.clone());
            }
            access.sees_personal_data(&case)
        }
    };
    let restricted = events
        .first()
        .is_some_and(complaints_eventlog::is_restricted);
    let role = caller.require(if restricted {
        crate::app::runner::WHISTLEBLOWING_ROLES
    } else {
        HISTORY_ROLES
    })?;
    let organisation = events
        .first()
        .and_then(|e| match &e.event {
            complaints_domain::ComplaintEvent::ComplaintReceived {
                organisation_id, ..
            } => Some(organisation_id.clone()),
            _ => None,
        })
        .unwrap_or_default();
    // Who looked at which case is itself recorded; a read that cannot be recorded fails.
    crate::http::audit::record_access(
        &state,
        &caller,
        role,
        &organisation,
        &id,
        "history",
        headers
            .get("x-correlation-id")
            .and_then(|v| v.to_str().ok()),
    )
    .await?;
    let mut seals: std::collections::HashMap<i64, Seal> =
        complaints_audit::sealer::links_of_complaint(state.cases.log().pool(), &id)
            .await?
            .into_iter()
            .map(|l| {
                (
                    l.sequence,
                    Seal {
                        chain_index: l.chain_index,
                        leaf: l.leaf_hash,
                        link: l.link_hash,
                    },
                )
            })
            .collect();
    let entries: Vec<HistoryEntry> = events
        .into_iter()
        .map(|e| {
            let m = |k: &str| e.metadata.get(k).cloned();
            HistoryEntry {
                sequence: e.sequence,
                position: e.checkpoint.position,
                occurred_on: m(complaints_eventlog::metadata::OCCURRED_ON),
                actor: m(complaints_eventlog::metadata::ACTOR),
                role: m(complaints_eventlog::metadata::ROLE),
                organisation_id: m(complaints_eventlog::metadata::ORGANISATION),
                command: m(complaints_eventlog::metadata::COMMAND),
                command_id: m(complaints_eventlog::metadata::COMMAND_ID),
                correlation_id: m(complaints_eventlog::metadata::CORRELATION_ID),
                causation_id: m(complaints_eventlog::metadata::CAUSATION_ID),
                data: {
                    let mut data = serde_json::to_value(&e.event).unwrap_or_default();
                    if !personal {
                        complaints_domain::strip_personal_data(
                            &e.event_type,
                            &e.event_version,
                            &mut data,
                        );
                    }
                    // The lead's own source reference is a linking field, never shared.
                    if access != Access::Own {
                        if let Some(fields) = data
                            .get_mut(&e.event_type)
                            .and_then(serde_json::Value::as_object_mut)
                        {
                            fields.remove("source");
                        }
                    }
                    data
                },
                seal: seals.remove(&e.sequence),
                event_type: e.event_type,
                event_version: e.event_version,
                recorded_at: e.recorded_at,
            }
        })
        .collect();
    Ok(Json(ComplaintHistory {
        complaint_id: id,
        events: entries,
    })
    .into_response())
}

/// The case as it stood at `as_of`: its stream folded up to the last event recorded then.
pub async fn case_as_of(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
    as_of: DateTime<Utc>,
) -> Result<Response, ApiError> {
    let (id, events, access) = visible_stream(state, caller, raw_id).await?;
    let mut case = Complaint::default();
    let mut version = 0usize;
    for event in events.into_iter().take_while(|e| e.recorded_at <= as_of) {
        version = usize::try_from(event.sequence).unwrap_or_default();
        evolve(&mut case, event.event);
    }
    if version == 0 {
        return Err(ApiError::NotFound);
    }
    let mut found = CaseState { id, case, version };
    access.redact(&mut found);
    let view = ComplaintView::build(&found, state.cases.services(), london_date(as_of));
    Ok(Json(view).into_response())
}
