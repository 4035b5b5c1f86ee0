//! `complaints retention`: list (`--dry-run`) or erase the personal data of case files past
//! their retention review date (R-RET-1), as the scheduler does daily.

use crate::app::scheduler::{retention, RetentionReport};
use crate::error::ApiError;
use crate::Settings;

/// Arguments of `complaints retention`.
#[derive(Debug, Clone, clap::Args)]
pub struct RetentionArgs {
    /// List what would be erased; erase nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Retention years for every file (default: each organisation's policy
    /// `retention_years`, else `COMPLAINTS_RETENTION_YEARS`, else 10).
    #[arg(long)]
    pub years: Option<u32>,
}

/// Runs retention once; the report lists the files and data subjects concerned.
pub async fn run(args: RetentionArgs, settings: &Settings) -> Result<RetentionReport, ApiError> {
    let cases = crate::open_cases(settings).await?;
    let now = chrono::Utc::now();
    retention(
        &cases,
        now,
        crate::app::clock::london_date(now),
        args.years,
        args.dry_run,
    )
    .await
}
