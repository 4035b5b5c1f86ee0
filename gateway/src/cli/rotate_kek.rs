//! `complaints rotate-kek`: re-wrap every data key under the configured key-encryption key.
//!
//! Rotation in three steps (docs/OPERATIONS.md, "Rotating the key-encryption key"): make the
//! new KEK the current one (`COMPLAINTS_KEK_FILE`) and list the old one in
//! `COMPLAINTS_PREVIOUS_KEK_FILES` on every gateway, so keys wrapped either way open; run
//! this; then retire the old KEK. The event log is not touched.

use crate::error::ApiError;
use crate::http::data_subjects::key_error;
use crate::Settings;
use serde::Serialize;

/// What a rotation did.
#[derive(Debug, Serialize)]
pub struct RotationReport {
    /// The KEK every live data key is now wrapped with.
    pub kek_id: String,
    /// Data keys re-wrapped by this run (0 when every key already was).
    pub rewrapped: usize,
    /// Wall time.
    pub seconds: f64,
}

/// Re-wraps the live data keys wrapped by any other KEK under the current one.
pub async fn run(settings: &Settings) -> Result<RotationReport, ApiError> {
    let started = std::time::Instant::now();
    let cases = crate::open_cases(settings).await?;
    let encryption = cases.log().encryption().ok_or_else(|| {
        ApiError::Config("personal data encryption is off: there are no keys to rotate".into())
    })?;
    let wrapper = encryption.wrapper().clone();
    let bar = super::export_log::progress_bar(
        "rotate-kek [{bar:40}] {pos}/{len} data keys ({per_sec}, eta {eta})",
        0,
    );
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let rewrapped =
        complaints_eventlog::keys::rewrap_all(cases.log().pool(), wrapper.as_ref(), &progress)
            .await
            .map_err(key_error)?;
    bar.finish_and_clear();
    tracing::info!(rewrapped, kek_id = %wrapper.kek_id(), "data keys re-wrapped");
    Ok(RotationReport {
        kek_id: wrapper.kek_id(),
        rewrapped,
        seconds: started.elapsed().as_secs_f64(),
    })
}
