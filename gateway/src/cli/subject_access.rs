//! `complaints subject-access`: everything held about one data subject, as one JSON file.

use crate::error::ApiError;
use crate::http::data_subjects::{subject_access, subject_id_of, Actor};
use crate::Settings;
use std::path::PathBuf;

/// Arguments of `complaints subject-access`.
#[derive(Debug, Clone, clap::Args)]
pub struct SubjectAccessArgs {
    /// The data subject id (`ds-…`).
    #[arg(long, required_unless_present = "nhs_number")]
    pub subject: Option<String>,
    /// …or the person's NHS number.
    #[arg(long = "nhs-number")]
    pub nhs_number: Option<String>,
    /// Who asks (recorded in the access log).
    #[arg(long, default_value = "cli")]
    pub by: String,
    /// Where to write the document.
    #[arg(long)]
    pub out: PathBuf,
}

/// Writes the subject access document to `--out`; returns the subject id.
pub async fn run(args: SubjectAccessArgs, settings: &Settings) -> Result<String, ApiError> {
    let cases = crate::open_cases(settings).await?;
    let subject = match (&args.subject, &args.nhs_number) {
        (Some(subject), _) => subject.clone(),
        (None, nhs) => subject_id_of(&cases, nhs.as_deref(), None)?,
    };
    let actor = Actor {
        actor: &args.by,
        role: "data_protection",
        correlation_id: None,
    };
    let document = subject_access(&cases, &subject, None, &actor, chrono::Utc::now()).await?;
    let text = serde_json::to_string_pretty(&document).map_err(|e| ApiError::Internal(e.into()))?;
    std::fs::write(&args.out, text)
        .map_err(|e| ApiError::Config(format!("cannot write {}: {e}", args.out.display())))?;
    Ok(subject)
}
