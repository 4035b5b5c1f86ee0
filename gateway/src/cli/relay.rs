//! `complaints relay --from-position N`: publish the log again to refill a lost or rebuilt
//! NATS stream.

use crate::nats;
use crate::Settings;

/// Publishes every event from `from_position` again, with progress on stderr.
pub async fn relay(from_position: i64, settings: Settings) -> anyhow::Result<()> {
    let cases = crate::open_cases(&settings).await?;
    let js = settings
        .nats
        .connect()
        .await?
        .ok_or_else(|| anyhow::anyhow!("NATS_URL is not set"))?;
    let relay = nats::Relay::new(js, settings.nats.clone());
    let bar = indicatif::ProgressBar::new(0);
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let published = nats::republish(cases.log().pool(), &relay, from_position, &progress).await?;
    bar.finish();
    eprintln!("published {published} events from position {from_position}");
    Ok(())
}
