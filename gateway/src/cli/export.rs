//! `complaints export` and `complaints verify-export`.

use crate::error::ApiError;
use crate::Settings;
use chrono::{NaiveDate, Utc};
use complaints_audit::export::{
    verify_export_file, write_export, ExportCheck, ExportRequest, ExportSummary,
};
use complaints_audit::Sealer;
use complaints_eventlog::Runner;
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `complaints export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The organisation whose events to export.
    #[arg(long)]
    pub organisation: String,
    /// First day (UTC recording date), e.g. 2025-04-01.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last day (UTC recording date), inclusive.
    #[arg(long)]
    pub to: NaiveDate,
    /// Write here (atomically, with progress on stderr) instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The receiving body: complaint ids are pseudonymised for it.
    #[arg(long, default_value = "default")]
    pub recipient: String,
}

/// Arguments of `complaints verify-export`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyExportArgs {
    /// The export file (NDJSON with its manifest line).
    pub file: PathBuf,
    /// Require this signing key (hex, as published at `GET /v1/audit/key`).
    #[arg(long)]
    pub public_key: Option<String>,
}

/// `complaints export`: seals what is not sealed yet, then writes the export.
pub async fn export_command(
    args: ExportArgs,
    settings: &Settings,
) -> Result<ExportSummary, ApiError> {
    let started = std::time::Instant::now();
    let keys = settings.audit_keys()?;
    let cases = crate::open_cases(settings).await?;
    let pool = cases.log().pool();
    let sealed = Runner::new(pool.clone(), Arc::new(Sealer))
        .catch_up()
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    if sealed > 0 {
        tracing::info!(events = sealed, "sealed events before exporting");
    }
    let request = ExportRequest {
        organisation: args.organisation,
        from: args.from,
        to: args.to,
        recipient: args.recipient,
    };
    let io = |e: std::io::Error| ApiError::Config(format!("cannot write the export: {e}"));
    let summary = match &args.out {
        Some(path) => {
            let partial = path.with_extension("partial");
            let file = tokio::fs::File::create(&partial).await.map_err(io)?;
            let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "export [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            let progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let written =
                write_export(pool, &keys, &request, Utc::now(), &mut out, &progress).await;
            bar.finish_and_clear();
            let summary = written?;
            out.into_inner().sync_all().await.map_err(io)?;
            tokio::fs::rename(&partial, path).await.map_err(io)?;
            summary
        }
        None => {
            let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, tokio::io::stdout());
            write_export(pool, &keys, &request, Utc::now(), &mut out, &|_, _| {}).await?
        }
    };
    eprintln!(
        "exported {} events ({} bytes) in {:.2} s; peak RSS {:.1} MiB",
        summary.count,
        summary.bytes,
        started.elapsed().as_secs_f64(),
        crate::telemetry::peak_rss_kib().unwrap_or(0) as f64 / 1024.0
    );
    Ok(summary)
}

/// `complaints verify-export`.
pub fn verify_export_command(args: &VerifyExportArgs) -> Result<ExportCheck, ApiError> {
    Ok(verify_export_file(&args.file, args.public_key.as_deref())?)
}
