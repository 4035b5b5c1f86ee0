//! `complaints report …`: the annual report and the national return from the command line,
//! after bringing the reporting read model up to date.

use crate::error::ApiError;
use complaints_eventlog::Runner;
use complaints_projections::models::reporting::document::{render, Format};
use complaints_projections::models::reporting::{self, Reporting};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

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
            if !reporting::REPORT_YEARS.contains(&year) {
                return Err(ApiError::BadRequest(format!("no financial year {year}")));
            }
            // A submitted year prints its figures as submitted (R-KO-3a); adjustments are in
            // the JSON answer of `GET /v1/reports/written-complaints`.
            let shown = reporting::year_return(pool, &organisation, year).await?;
            (reporting::written_complaints_csv(&shown.report), out)
        }
    };
    match out {
        Some(path) => std::fs::write(&path, text)
            .map_err(|e| ApiError::Config(format!("cannot write {}: {e}", path.display())))?,
        None => print!("{text}"),
    }
    Ok(())
}
