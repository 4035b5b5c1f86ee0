//! `complaints erase-subject`: destroy one data subject's key (crypto-shredding).

use crate::error::ApiError;
use crate::http::data_subjects::{erase_subject, Actor, ErasureReport};
use crate::Settings;
use complaints_eventlog::keys::Erasure;

/// Arguments of `complaints erase-subject`.
#[derive(Debug, Clone, clap::Args)]
pub struct EraseSubjectArgs {
    /// The data subject id (`ds-…`).
    #[arg(long)]
    pub subject: String,
    /// Who authorised it (recorded).
    #[arg(long)]
    pub by: String,
    /// Why (the request reference or exemption decision; recorded).
    #[arg(long)]
    pub reason: String,
    /// The legal basis (e.g. `UK GDPR Art 17(1)(a)`; recorded).
    #[arg(long = "legal-basis")]
    pub legal_basis: String,
}

/// Erases the subject; prints the report as JSON.
pub async fn run(args: EraseSubjectArgs, settings: &Settings) -> Result<ErasureReport, ApiError> {
    let cases = crate::open_cases(settings).await?;
    let erasure = Erasure {
        by: args.by.clone(),
        reason: args.reason,
        legal_basis: args.legal_basis,
        at: chrono::Utc::now(),
    };
    let actor = Actor {
        actor: &args.by,
        role: "data_protection",
        correlation_id: None,
    };
    erase_subject(&cases, &args.subject, &erasure, &actor).await
}
