//! `POST /v1/complaints` (receive), `GET /v1/complaints/{id}`, and one route per command of
//! the command table, all run through the shared runner.

use crate::app::cases::CaseState;
use crate::app::clock::london_date;
use crate::app::commands::{self, COMMANDS, INTAKE_ROLES};
use crate::app::runner::{self, Invocation, RECEIVE};
use crate::app::state::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::http::body::{command_headers, CommandHeaders, JsonBody};
use crate::http::ComplaintView;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};

/// The complaint routes.
pub(crate) fn routes() -> Router<AppState> {
    let router = Router::new()
        .route(
            "/v1/complaints",
            post(receive).get(crate::http::queries::list),
        )
        .route("/v1/complaints/{id}", get(get_complaint))
        .route("/v1/whistleblowing-concerns", post(receive_concern));
    COMMANDS.iter().fold(router, |router, spec| {
        router.route(
            &format!("/v1/complaints/{{id}}/{}", spec.name),
            post(
                move |state: State<AppState>,
                      caller: Caller,
                      path: Path<String>,
                      headers: HeaderMap,
                      body: JsonBody| {
                    run_command(spec.name, state, caller, path, headers, body)
                },
            ),
        )
    })
}

/// Roles that may read a complaint.
pub(crate) const READ_ROLES: &[Role] = &[Role::Caseworker, Role::Frontline, Role::Auditor];

#[tracing::instrument(skip_all, fields(complaint_id, correlation_id))]
async fn receive(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    take_in(RECEIVE, state, caller, headers, body).await
}

/// A whistleblowing concern: the receive body, under the `whistleblowing` role (R-KIND-3).
#[tracing::instrument(skip_all, fields(complaint_id, correlation_id))]
async fn receive_concern(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    take_in(runner::RECEIVE_CONCERN, state, caller, headers, body).await
}

async fn take_in(
    command: &'static str,
    state: AppState,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let headers = command_headers(&headers)?;
    tracing::Span::current().record("correlation_id", headers.correlation_id.as_str());
    let invocation = Invocation {
        command,
        complaint_id: None,
        body: &body.0,
        command_id: headers.idempotency_key.clone(),
        expected_version: None,
        correlation_id: headers.correlation_id.clone(),
        causation_id: None,
        channel_organisation: None,
        issued_at: state.now(),
    };
    let ran = runner::run(&state.cases, &caller, &invocation).await?;
    let status = if ran.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response =
        command_answer(&state, &caller, command, &ran.state, status, &headers).await?;
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/complaints/{}", ran.state.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn run_command(
    command: &'static str,
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let headers = command_headers(&headers)?;
    let invocation = Invocation {
        command,
        complaint_id: Some(&id),
        body: &body.0,
        command_id: headers.idempotency_key.clone(),
        expected_version: headers.if_match,
        correlation_id: headers.correlation_id.clone(),
        causation_id: None,
        channel_organisation: None,
        issued_at: state.now(),
    };
    let ran = runner::run(&state.cases, &caller, &invocation).await?;
    command_answer(
        &state,
        &caller,
        command,
        &ran.state,
        StatusCode::OK,
        &headers,
    )
    .await
}

/// A command's answer: the complaint as it now stands. It holds personal data (and a
/// receive matched by its source reference answers with a complaint someone else recorded),
/// so it is a read and is recorded first (R-CAL-1). The command is already in the log by
/// then: when the record fails the answer is withheld and says so, and a retry with the
/// same `Idempotency-Key` writes nothing new and answers again.
async fn command_answer(
    state: &AppState,
    caller: &Caller,
    command: &str,
    found: &CaseState,
    status: StatusCode,
    headers: &CommandHeaders,
) -> Result<Response, ApiError> {
    // The role the runner acted in: the first of the command's roles the caller holds.
    let roles = if command == RECEIVE {
        INTAKE_ROLES
    } else {
        commands::find(command).map_or(READ_ROLES, |spec| spec.roles)
    };
    let role = caller.require(runner::command_roles(found, roles))?;
    if headers.minimal {
        return Ok(receipt_response(state, found, status));
    }
    let recorded = crate::http::audit::record_access(
        state,
        caller,
        role,
        &found.case.receipt()?.organisation_id,
        &found.id,
        &format!("command_answer:{command}"),
        Some(&headers.correlation_id),
    )
    .await;
    if let Err(error) = recorded {
        tracing::error!(error = ?error, complaint_id = %found.id, "a command's answer could not be recorded in the access log; withheld");
        return Err(ApiError::Unavailable(format!(
            "the command was recorded (complaint {} is at version {}), but its answer holds personal data and the read could not be recorded in the access log; read the complaint once the service is available",
            found.id, found.version
        )));
    }
    Ok(case_response(state, found, status))
}

/// Reads one complaint (or, with `as_of`, the complaint as it stood then). The view holds
/// personal data, so every read is recorded in the access log before it is answered
/// (R-CAL-1): a read that cannot be recorded is not served.
#[tracing::instrument(skip_all, fields(complaint_id = %id))]
async fn get_complaint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<AsOf>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    // R-JOINT-2: a body taking part sees the lead's case, redacted as consent allows.
    let (found, access) = runner::case_access(&state.cases, &caller, &id).await?;
    let role = caller.require(runner::command_roles(&found, READ_ROLES))?;
    let correlation_id = command_headers(&headers)?.correlation_id;
    // Built before it is recorded, so an instant before the complaint existed (404) is no read.
    let (response, action) = match query.as_of {
        Some(as_of) => (
            crate::http::queries::case_as_of(&state, &caller, &id, as_of).await?,
            "complaint_as_of",
        ),
        None => {
            let mut shown = found.clone();
            access.redact(&mut shown);
            (case_response(&state, &shown, StatusCode::OK), "complaint")
        }
    };
    crate::http::audit::record_access(
        &state,
        &caller,
        role,
        &found.case.receipt()?.organisation_id,
        &found.id,
        action,
        Some(&correlation_id),
    )
    .await?;
    Ok(response)
}

/// `?as_of=` on a case read.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsOf {
    as_of: Option<DateTime<Utc>>,
}

/// A command's minimal answer: no personal data, so no read to record.
fn receipt_response(state: &AppState, found: &CaseState, status: StatusCode) -> Response {
    let receipt = crate::http::CommandReceipt::build(found, state.cases.services());
    let mut response = (status, Json(receipt)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", found.version)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response.headers_mut().insert(
        HeaderName::from_static("preference-applied"),
        HeaderValue::from_static("return=minimal"),
    );
    response
}

pub(crate) fn case_response(state: &AppState, found: &CaseState, status: StatusCode) -> Response {
    let today = london_date(state.now());
    let view = ComplaintView::build(found, state.cases.services(), today);
    let mut response = (status, Json(view)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", found.version)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}
