//! The audit routes: the signed chain head, the sealing key, and the access log.

use crate::app::state::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use complaints_audit::access_log::{self, AccessRecord};
use complaints_audit::{checkpoint_head, sealer, AuditKeys, SignedCheckpoint, ALGORITHM};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Roles that may read the chain's head.
pub(crate) const HEAD_ROLES: &[Role] = &[Role::Auditor, Role::Regulator, Role::Caseworker];
/// Roles that may read the access log.
pub(crate) const ACCESS_LOG_ROLES: &[Role] = &[Role::Auditor];

/// The audit routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/audit/head", get(head))
        .route("/v1/audit/key", get(key))
        .route("/v1/audit/access-log", get(access_log))
}

pub(crate) fn keys(state: &AppState) -> Result<&Arc<AuditKeys>, ApiError> {
    state
        .audit
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("the audit sealing key is not configured".into()))
}

/// The chain's head with a signed checkpoint of it (`GET /v1/audit/head`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditHead {
    /// Chain index of the head (0: the empty chain).
    chain_index: i64,
    /// Global position of the event at the head (0 for the empty chain).
    position: i64,
    /// The link at the head, hex.
    link: String,
    /// The head signed with the sealing key.
    checkpoint: SignedCheckpoint,
    /// The sealing key's public half, hex.
    public_key: String,
    /// The log position the sealer has reached.
    sealed_through_position: i64,
}

#[tracing::instrument(skip_all)]
async fn head(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(HEAD_ROLES)?;
    let keys = keys(&state)?;
    let pool = state.cases.log().pool();
    let checkpoint = checkpoint_head(pool, keys, &state.witnesses, state.now()).await?;
    let sealed =
        complaints_projections::models::case_views::reflected_position(pool, sealer::NAME).await?;
    Ok(Json(AuditHead {
        chain_index: checkpoint.chain_index,
        position: checkpoint.position,
        link: checkpoint.link.clone(),
        checkpoint,
        public_key: keys.public_key_hex(),
        sealed_through_position: sealed,
    })
    .into_response())
}

/// The key that signs checkpoints and export manifests (`GET /v1/audit/key`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditKey {
    /// `Ed25519`.
    algorithm: &'static str,
    /// The sealing key's public half.
    public_key: String,
    /// How `public_key` is written: `hex`.
    encoding: &'static str,
}

async fn key(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&Role::ALL)?;
    let keys = keys(&state)?;
    Ok(Json(AuditKey {
        algorithm: ALGORITHM,
        public_key: keys.public_key_hex(),
        encoding: "hex",
    })
    .into_response())
}

/// A page of the access log (`GET /v1/audit/access-log`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct AccessLog {
    /// Reads of the caller's organisations' complaints, newest first.
    items: Vec<AccessRecord>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<i64>,
}

/// Records that `caller` read `complaint_id` (of `organisation_id`); fails the read when it
/// cannot be recorded (R-CAL-1).
pub(crate) async fn record_access(
    state: &AppState,
    caller: &Caller,
    role: Role,
    organisation_id: &str,
    complaint_id: &str,
    action: &str,
    correlation_id: Option<&str>,
) -> Result<(), ApiError> {
    let access = access_log::Access {
        at: state.now(),
        actor: &caller.subject,
        role: role.name(),
        organisation_id,
        complaint_id,
        action,
        correlation_id,
    };
    Ok(access_log::record(state.cases.log().pool(), &access).await?)
}

/// Query of `GET /v1/audit/access-log`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogQuery {
    complaint_id: Option<String>,
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<i64>,
}

#[tracing::instrument(skip_all)]
async fn access_log(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AccessLogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(ACCESS_LOG_ROLES)?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let cursor = query.cursor.unwrap_or(i64::MAX);
    let items = access_log::page(
        state.cases.log().pool(),
        &caller.organisations,
        query.complaint_id.as_deref(),
        cursor,
        limit + 1,
    )
    .await?;
    let mut items = items;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|r| r.id)
    } else {
        None
    };
    Ok(Json(AccessLog { items, next_cursor }).into_response())
}
