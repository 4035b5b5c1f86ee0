//! The regulation 18 annual report as a document over HTTP (`GET
//! /v1/reports/annual/document`) and on the command line (`complaints report`). The
//! rendering itself is pure and lives with the read model, in
//! `complaints_projections::models::reporting::document`; this module only fetches the
//! report and delivers the text.

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::http::AppState;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use complaints_eventlog::Runner;
use complaints_projections::models::reporting::document::{render, Format};
use complaints_projections::models::reporting::{self, Reporting};
use serde::Deserialize;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

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

/// `complaints report …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ReportCommand {
    /// The regulation 18 annual report of one organisation for one financial year.
    Annual {
        /// The organisation.
        #[arg(long)]
        organisation: String,
        /// The financial year by the calendar year it starts in (2025 = 2025-26).
        #[arg(long)]
        year: i32,
        /// Document format: markdown, html or csv.
        #[arg(long, value_parser = Format::from_str, default_value = "markdown")]
        format: Format,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        settings: crate::Settings,
    },
    /// The Written Complaints Collection (KO41a/KO41b) return as CSV.
    WrittenComplaints {
        /// The organisation.
        #[arg(long)]
        organisation: String,
        /// The financial year by the calendar year it starts in.
        #[arg(long)]
        year: i32,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        settings: crate::Settings,
    },
}

impl ReportCommand {
    /// The settings the command runs with.
    pub fn settings(&self) -> &crate::Settings {
        match self {
            ReportCommand::Annual { settings, .. }
            | ReportCommand::WrittenComplaints { settings, .. } => settings,
        }
    }
}

/// Runs `complaints report …`: brings the reporting read model up to date, then renders.
pub async fn report_command(command: ReportCommand) -> Result<(), ApiError> {
    let settings = command.settings().clone();
    let cases = crate::open_cases(&settings).await?;
    let pool = cases.log().pool();
    Runner::new(
        pool.clone(),
        Arc::new(Reporting::new(cases.services().clone())),
    )
    .catch_up()
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    let (text, out) = match command {
        ReportCommand::Annual {
            organisation,
            year,
            format,
            out,
            ..
        } => {
            let report = reporting::annual_report_for(pool, &organisation, year).await?;
            let out = out.map(|p| {
                if p.extension().is_none() {
                    p.with_extension(format.extension())
                } else {
                    p
                }
            });
            (render(&report, format), out)
        }
        ReportCommand::WrittenComplaints {
            organisation,
            year,
            out,
            ..
        } => {
            let (from, to) = reporting::financial_year(year)
                .filter(|_| reporting::REPORT_YEARS.contains(&year))
                .ok_or_else(|| ApiError::BadRequest(format!("no financial year {year}")))?;
            let report = reporting::written_complaints_for(pool, &organisation, from, to).await?;
            (reporting::written_complaints_csv(&report), out)
        }
    };
    match out {
        Some(path) => std::fs::write(&path, text)
            .map_err(|e| ApiError::Config(format!("cannot write {}: {e}", path.display())))?,
        None => print!("{text}"),
    }
    Ok(())
}
