//! The notary: signs the chain's head as it grows, records the checkpoint in the database and
//! hands it to the witnesses outside it, and refuses to sign a chain that no longer leads to
//! what the witnesses hold.

use crate::checkpoints::{chain_head, last_checkpoint_index, stored_checkpoint, SignedCheckpoint};
use crate::keys::AuditKeys;
use crate::witness::Witnesses;
use crate::AuditError;
use chrono::{DateTime, Utc};
use complaints_eventlog::{on_pool, Pool};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Signs the chain's head now, unless a checkpoint at that index is already recorded, and
/// returns the recorded one; every new one is handed to the witnesses. Several gateways may
/// race: one row per index wins. Refuses to sign a chain that no longer leads to the latest
/// checkpoint the witnesses hold, so a rewritten and re-sealed log is never blessed.
pub async fn checkpoint_head(
    pool: &Pool,
    keys: &AuditKeys,
    witnesses: &Witnesses,
    now: DateTime<Utc>,
) -> Result<SignedCheckpoint, AuditError> {
    witnesses.check_chain(pool).await?;
    let (index, position, link) = chain_head(pool).await?;
    if let Some(existing) = stored_checkpoint(pool, index).await? {
        witnesses.record(&existing).await;
        return Ok(existing);
    }
    let signed = SignedCheckpoint::sign(keys, index, position, &link, now);
    on_pool!(pool, |p| {
        sqlx::query(
        "INSERT INTO audit_checkpoints (chain_index, position, link_hash, signed_at, public_key, signature)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain_index) DO NOTHING"
    )
    .bind(signed.chain_index)
    .bind(signed.position)
    .bind(&signed.link)
    .bind(&signed.signed_at)
    .bind(&signed.public_key)
    .bind(&signed.signature)
    .execute(p)
    .await
    ?
    .rows_affected()
    });
    tracing::info!(
        chain_index = signed.chain_index,
        position = signed.position,
        "recorded a signed checkpoint"
    );
    let recorded = stored_checkpoint(pool, index).await?.unwrap_or(signed);
    witnesses.record(&recorded).await;
    Ok(recorded)
}

/// Records signed checkpoints until `stop`: when the chain has grown by `every` links since
/// the last one, or has grown at all and `max_age` has passed.
pub async fn run_notary(
    pool: Pool,
    keys: Arc<AuditKeys>,
    witnesses: Witnesses,
    every: i64,
    max_age: Duration,
    stop: CancellationToken,
) {
    let mut last_signed = tokio::time::Instant::now();
    let mut first = true;
    while !stop.is_cancelled() {
        let due = async {
            let (head, _, _) = chain_head(&pool).await?;
            let last = last_checkpoint_index(&pool).await?;
            let grown = head - last;
            Ok::<_, AuditError>(
                grown > 0 && (first || grown >= every.max(1) || last_signed.elapsed() >= max_age),
            )
        }
        .await;
        match due {
            Ok(true) => match checkpoint_head(&pool, &keys, &witnesses, Utc::now()).await {
                Ok(_) => {
                    last_signed = tokio::time::Instant::now();
                    first = false;
                    metrics::gauge!("audit_chain_disagrees_with_witness").set(0.0);
                }
                Err(error @ AuditError::WitnessDisagrees { .. }) => {
                    metrics::gauge!("audit_chain_disagrees_with_witness").set(1.0);
                    tracing::error!(%error, "refusing to sign: run `complaints verify`");
                }
                Err(error) => tracing::warn!(%error, "cannot record a signed checkpoint"),
            },
            Ok(false) => first = false,
            // The sealer's table appears with its first run; until then there is no chain.
            Err(error) => tracing::debug!(%error, "no chain to checkpoint yet"),
        }
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
