//! `GET /v1/reports/annual/document`: the regulation 18 annual report as a document. The
//! rendering is pure and lives with the read model
//! (`complaints_projections::models::reporting::document`); this only fetches and delivers.
//! `GET /v1/reports/annual/lessons`: every lesson and action of the report's year, a page at
//! a time (the report itself names only the latest few, issue 16).

use crate::app::state::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use complaints_domain::LearningKind;
use complaints_projections::models::reporting::document::{render, Format};
use complaints_projections::models::reporting::{
    self, LearningCursor, LearningItem, LEARNING_ROUTE, MAX_LEARNING_PAGE,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Roles that may read reports.
pub(crate) const REPORT_ROLES: &[Role] = &[Role::Reporting, Role::Caseworker, Role::Auditor];

/// The document route and the full list of the report's learning.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/reports/annual/document", get(document))
        .route(LEARNING_ROUTE, get(learning))
}

/// Query of `GET /v1/reports/annual/document`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentQuery {
    organisation: String,
    year: i32,
    format: Option<String>,
}

#[tracing::instrument(skip_all)]
async fn document(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<DocumentQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(REPORT_ROLES)?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if !caller.acts_for(&query.organisation) {
        return Err(ApiError::Forbidden(
            "the token does not act for this organisation".into(),
        ));
    }
    let format = match query.format.as_deref() {
        None => Format::Markdown,
        Some(raw) => Format::parse(raw).ok_or_else(|| {
            ApiError::BadRequest(format!("unknown format `{raw}`: use markdown, html or csv"))
        })?,
    };
    let pool = state.cases.log().pool();
    let report = reporting::annual_report_for(pool, &query.organisation, query.year).await?;
    let position =
        complaints_projections::models::case_views::reflected_position(pool, reporting::NAME)
            .await?;
    let mut response = (
        [(header::CONTENT_TYPE, format.media_type())],
        render(&report, format),
    )
        .into_response();
    if let Ok(value) = position.to_string().parse() {
        response.headers_mut().insert("x-log-position", value);
    }
    Ok(response)
}

/// Page size of `GET /v1/reports/annual/lessons` when none is asked for.
const DEFAULT_LEARNING_PAGE: i64 = 100;

/// Query of `GET /v1/reports/annual/lessons`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearningQuery {
    organisation: String,
    /// The financial year starting in April of this year.
    year: i32,
    /// Only lessons or only actions.
    kind: Option<LearningKind>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// A page of the lessons and actions of an annual report's year.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LearningList {
    /// Lessons and actions, oldest first (by day recorded).
    items: Vec<LearningItem>,
    /// Pass as `cursor` for the next page; null on the last page (never a silent cut).
    next_cursor: Option<String>,
    /// The global log position the read model reflects.
    position: i64,
}

#[tracing::instrument(skip_all)]
async fn learning(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<LearningQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(REPORT_ROLES)?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if !caller.acts_for(&query.organisation) {
        return Err(ApiError::Forbidden(
            "the token does not act for this organisation".into(),
        ));
    }
    let limit = query.limit.unwrap_or(DEFAULT_LEARNING_PAGE);
    if !(1..=MAX_LEARNING_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LEARNING_PAGE}"
        )));
    }
    let after = query
        .cursor
        .as_deref()
        .map(|raw| {
            LearningCursor::decode(raw).ok_or_else(|| {
                ApiError::BadRequest("`cursor` is not one this route handed out".into())
            })
        })
        .transpose()?;
    let pool = state.cases.log().pool();
    // Read before the page, so the page reflects at least this position.
    let position =
        complaints_projections::models::case_views::reflected_position(pool, reporting::NAME)
            .await?;
    let page = reporting::learning_page(
        pool,
        &query.organisation,
        query.year,
        query.kind,
        after.as_ref(),
        limit,
    )
    .await?;
    Ok(Json(LearningList {
        items: page.items,
        next_cursor: page.next_cursor.map(|c| c.encode()),
        position,
    })
    .into_response())
}
