//! `GET /v1/reports/annual/document`: the regulation 18 annual report as a document. The
//! rendering is pure and lives with the read model
//! (`complaints_projections::models::reporting::document`); this only fetches and delivers.

use crate::app::state::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use complaints_projections::models::reporting;
use complaints_projections::models::reporting::document::{render, Format};
use serde::Deserialize;

/// Roles that may read reports.
pub(crate) const REPORT_ROLES: &[Role] = &[Role::Reporting, Role::Caseworker, Role::Auditor];

/// The document route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/reports/annual/document", get(document))
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
