//! The audit page (`/ui/audit`, auditor role): the signed head of the hash chain, the
//! "verify this case" form (`verify`), and the access log of the caller's organisations'
//! complaints (or of one complaint), newest first, as `GET /v1/audit/head` and
//! `GET /v1/audit/access-log`.

use super::{page, Chrome, PageError};
use crate::app::state::AppState;
use crate::error::ApiError;
use crate::http::audit::{keys, ACCESS_LOG_ROLES};
use crate::ui::session::Session;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use complaints_audit::access_log;
use complaints_audit::{checkpoint_head, sealer};
use complaints_projections::models::case_views;
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/ui/audit", get(audit))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    complaint_id: Option<String>,
    before: Option<i64>,
}

struct Head {
    chain_index: i64,
    position: i64,
    link: String,
    signed_at: String,
    public_key: String,
    signature: String,
    sealed_through: i64,
}

struct Access {
    at: String,
    actor: String,
    role: String,
    organisation: String,
    complaint_href: String,
    complaint_short: String,
    action: String,
    correlation_id: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    head: Option<Head>,
    head_problem: Option<String>,
    complaint_id: String,
    accesses: Vec<Access>,
    next: Option<String>,
}

/// Rows of the access log on one page.
const PAGE: i64 = 100;

async fn audit(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let caller = &session.caller;
    caller.require(ACCESS_LOG_ROLES)?;
    let pool = state.cases.log().pool();
    let (head, head_problem) = match keys(&state) {
        Ok(keys) => match checkpoint_head(pool, keys, &state.witnesses, state.now()).await {
            Ok(checkpoint) => {
                let sealed = case_views::reflected_position(pool, sealer::NAME)
                    .await
                    .map_err(ApiError::from)?;
                (
                    Some(Head {
                        chain_index: checkpoint.chain_index,
                        position: checkpoint.position,
                        link: checkpoint.link.clone(),
                        signed_at: checkpoint.signed_at.clone(),
                        public_key: keys.public_key_hex(),
                        signature: checkpoint.signature.clone(),
                        sealed_through: sealed,
                    }),
                    None,
                )
            }
            Err(error) => {
                tracing::warn!(%error, "no signed chain head for the audit page");
                (None, Some(error.to_string()))
            }
        },
        Err(error) => (None, Some(error.to_string())),
    };
    let complaint_id = query
        .complaint_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let mut records = access_log::page(
        pool,
        &caller.organisations,
        complaint_id.as_deref(),
        query.before.unwrap_or(i64::MAX),
        PAGE + 1,
    )
    .await
    .map_err(ApiError::from)?;
    let next = if records.len() as i64 > PAGE {
        records.truncate(PAGE as usize);
        records.last().map(|r| {
            let id = complaint_id
                .as_deref()
                .map(|c| format!("complaint_id={}&", super::encode(c)))
                .unwrap_or_default();
            format!("/ui/audit?{id}before={}", r.id)
        })
    } else {
        None
    };
    let data = AuditPage {
        chrome: Chrome::new(&session, "audit"),
        head,
        head_problem,
        complaint_id: complaint_id.unwrap_or_default(),
        accesses: records
            .into_iter()
            .map(|r| Access {
                at: r.accessed_at,
                actor: r.actor,
                role: r.role,
                organisation: r.organisation_id,
                complaint_href: format!("/ui/complaints/{}", r.complaint_id),
                complaint_short: r.complaint_id.chars().take(8).collect(),
                action: super::humanise(&r.action),
                correlation_id: r.correlation_id.unwrap_or_default(),
            })
            .collect(),
        next,
    };
    page(&data)
}
