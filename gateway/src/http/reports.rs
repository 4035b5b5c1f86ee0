//! The report routes. `GET /v1/reports/annual` and `GET /v1/reports/written-complaints`
//! answer the annual report and the national return (KO41) as figures, and
//! `POST /v1/reports/written-complaints/submission` marks a return submitted (R-KO-3a).
//! `GET /v1/reports/annual/document`: the regulation 18 annual report as a document. The
//! rendering is pure and lives with the read model
//! (`complaints_projections::models::reporting::document`); this only fetches and delivers.
//! `GET /v1/reports/annual/lessons`: every lesson and action of the report's year, a page at
//! a time (the report itself names only the latest few, issue 16).

use crate::app::state::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::http::queries::organisations;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use complaints_domain::LearningKind;
use complaints_projections::models::case_views;
use complaints_projections::models::reporting::document::{render, Format};
use complaints_projections::models::reporting::{
    self, Adjustment, AnnualReport, LearningCursor, LearningItem, Submission, Submitted,
    WrittenComplaintsReport, LEARNING_ROUTE, MAX_LEARNING_PAGE,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Roles that may read reports.
pub(crate) const REPORT_ROLES: &[Role] = &[Role::Reporting, Role::Caseworker, Role::Auditor];
/// Roles that may mark a written complaints return submitted (R-KO-3a).
pub(crate) const SUBMIT_ROLES: &[Role] = &[Role::Caseworker];

/// The document route and the full list of the report's learning.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/reports/annual", get(annual_report))
        .route("/v1/reports/written-complaints", get(written_complaints))
        .route(
            "/v1/reports/written-complaints/submission",
            post(submit_written_complaints),
        )
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

/// Query of `GET /v1/reports/annual`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnualQuery {
    organisation: String,
    /// The financial year starting in April of this year.
    year: i32,
}

/// The annual report with the log position it reflects (`GET /v1/reports/annual`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct AnnualReportAnswer {
    /// The report.
    report: AnnualReport,
    /// The global log position the read model reflects.
    position: i64,
}

async fn annual_report(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AnnualQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(REPORT_ROLES)?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    organisations(&caller, Some(&query.organisation))?;
    let pool = state.cases.log().pool();
    let position = case_views::reflected_position(pool, reporting::NAME).await?;
    let report = reporting::annual_report_for(pool, &query.organisation, query.year).await?;
    Ok(Json(AnnualReportAnswer { report, position }).into_response())
}

/// Query of `GET /v1/reports/written-complaints`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrittenComplaintsQuery {
    organisation: String,
    /// A financial year (April to March) by its starting year; or give `from` and `to`.
    period: Option<i32>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// The written complaints return with the log position it reflects
/// (`GET /v1/reports/written-complaints` as JSON).
#[derive(Debug, Serialize, JsonSchema)]
pub struct WrittenComplaintsAnswer {
    /// The return, one entry per collection: for a submitted period the figures exactly as
    /// submitted (R-KO-3a), never silently new ones.
    report: WrittenComplaintsReport,
    /// Who marked the period's return submitted, and when; absent when not submitted (and
    /// for a `from`/`to` range, which is never submitted).
    #[serde(skip_serializing_if = "Option::is_none")]
    submitted: Option<Submitted>,
    /// For a submitted period, each item whose current figure differs from the submitted
    /// one (item, submitted, current, difference); empty otherwise.
    adjustments: Vec<Adjustment>,
    /// The global log position the read model reflects.
    position: i64,
}

async fn written_complaints(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    query: Result<Query<WrittenComplaintsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(REPORT_ROLES)?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    organisations(&caller, Some(&query.organisation))?;
    let (from, to) = match (query.period, query.from, query.to) {
        (Some(year), None, None) => reporting::financial_year(year)
            .ok_or_else(|| ApiError::BadRequest(format!("no financial year {year}")))?,
        (None, Some(from), Some(to)) => (from, to),
        _ => {
            return Err(ApiError::BadRequest(
                "give either period=YEAR or both from and to".into(),
            ));
        }
    };
    let pool = state.cases.log().pool();
    // A financial year shows its submitted figures, if any, and brings forward the previous
    // year's as submitted (R-KO-3a); a `from`/`to` range is counted as it stands.
    let (report, submitted, adjustments) = match query.period {
        Some(year) => {
            let shown = reporting::year_return(pool, &query.organisation, year).await?;
            (shown.report, shown.submitted, shown.adjustments)
        }
        None => (
            reporting::written_complaints_for(pool, &query.organisation, from, to).await?,
            None,
            Vec::new(),
        ),
    };
    let wants_csv = query.format.as_deref() == Some("csv")
        || headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv"));
    match query.format.as_deref() {
        None | Some("json") | Some("csv") => {}
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "unknown format `{other}`: use json or csv"
            )));
        }
    }
    if wants_csv {
        let csv = reporting::written_complaints_csv(&report);
        return Ok((
            [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            csv,
        )
            .into_response());
    }
    let position = case_views::reflected_position(pool, reporting::NAME).await?;
    Ok(Json(WrittenComplaintsAnswer {
        report,
        submitted,
        adjustments,
        position,
    })
    .into_response())
}

/// Body of `POST /v1/reports/written-complaints/submission`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionRequest {
    /// The organisation (one the token acts for).
    organisation: String,
    /// The financial year by its starting year.
    period: i32,
}

/// Records `organisation`'s return for `period` as submitted by `caller` (R-KO-3a); the API
/// route and the national return page share it.
pub(crate) async fn submit_return(
    state: &AppState,
    caller: &Caller,
    organisation: &str,
    period: i32,
) -> Result<Submission, ApiError> {
    caller.require(SUBMIT_ROLES)?;
    organisations(caller, Some(organisation))?;
    if !reporting::REPORT_YEARS.contains(&period) {
        return Err(ApiError::BadRequest(format!("no financial year {period}")));
    }
    let pool = state.cases.log().pool();
    let already = || {
        ApiError::AlreadySubmitted(format!(
            "the written complaints return of {organisation} for {period} was already submitted; later changes are adjustments to it"
        ))
    };
    if reporting::submission_for(pool, organisation, period)
        .await?
        .is_some()
    {
        return Err(already());
    }
    let figures = reporting::current_return(pool, organisation, period).await?;
    let submission = Submission {
        organisation: organisation.to_string(),
        collection: reporting::KO41.to_string(),
        period,
        submitted: Submitted {
            at: state
                .now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            by: caller.subject.clone(),
        },
        figures,
    };
    if !reporting::record_submission(pool, &submission).await? {
        return Err(already());
    }
    Ok(submission)
}

/// `POST /v1/reports/written-complaints/submission`: marks the organisation's return for the
/// period submitted (R-KO-3a), recording who, when and the return exactly as it is shown now;
/// 409 when the period was already submitted.
async fn submit_written_complaints(
    State(state): State<AppState>,
    caller: Caller,
    body: crate::http::body::JsonBody,
) -> Result<Response, ApiError> {
    caller.require(SUBMIT_ROLES)?;
    let body: SubmissionRequest = body.parse()?;
    let submission = submit_return(&state, &caller, &body.organisation, body.period).await?;
    Ok((axum::http::StatusCode::CREATED, Json(submission)).into_response())
}
