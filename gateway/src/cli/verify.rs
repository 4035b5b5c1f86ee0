//! `complaints verify`: recompute the chain from the log and compare it with the sealed
//! links and with signed checkpoints kept elsewhere.

use crate::error::ApiError;
use crate::Settings;
use complaints_audit::{read_checkpoint, verify, AuditKeys, VerifyReport};
use std::path::PathBuf;

/// Arguments of `complaints verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// A signed checkpoint recorded earlier (the JSON of `GET /v1/audit/head`, or its
    /// `checkpoint`): the log must still lead to it.
    #[arg(long = "against", value_name = "CHECKPOINT_FILE")]
    pub against: Vec<PathBuf>,
}

/// `complaints verify`: prints the verified head, or fails naming every break. Besides the
/// files given, the log must lead to every checkpoint the witness directory binds.
pub async fn verify_command(
    args: VerifyArgs,
    settings: &Settings,
) -> Result<VerifyReport, ApiError> {
    let mut checkpoints = args
        .against
        .iter()
        .map(|p| read_checkpoint(p).map_err(ApiError::from))
        .collect::<Result<Vec<_>, _>>()?;
    let witnessed = complaints_audit::DirectoryWitness::new(settings.witness_dir());
    checkpoints.extend(witnessed.binding_checkpoints()?);
    let own = AuditKeys::existing_public_key(
        settings.audit.seal_key_file.as_deref(),
        &settings.data_dir,
    )?;
    let cases = crate::open_cases(settings).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "verify [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let result = verify(cases.log().pool(), &checkpoints, own.as_ref(), &progress)
        .await
        .map_err(ApiError::from);
    bar.finish_and_clear();
    result
}
