//! `complaints tail`: follow the events stream, one CloudEvent per line.

use super::NatsSettings;
use crate::error::ApiError;
use async_nats::jetstream::{self, consumer};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

/// `complaints tail`: follows the events stream from a sequence or a time, printing one
/// CloudEvent per line, until `count` messages or `stop`.
pub async fn tail(
    js: jetstream::Context,
    settings: &NatsSettings,
    subject: Option<String>,
    from_sequence: Option<u64>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    count: Option<u64>,
    stop: CancellationToken,
) -> Result<(), ApiError> {
    let stream = js.get_stream(&settings.events_stream).await.map_err(|e| {
        ApiError::Unavailable(format!("events stream {}: {e}", settings.events_stream))
    })?;
    let deliver_policy = match (from_sequence, since) {
        (Some(start_sequence), _) => consumer::DeliverPolicy::ByStartSequence { start_sequence },
        (None, Some(time)) => consumer::DeliverPolicy::ByStartTime {
            start_time: time::OffsetDateTime::from_unix_timestamp(time.timestamp())
                .map_err(|e| ApiError::BadRequest(e.to_string()))?,
        },
        (None, None) => consumer::DeliverPolicy::All,
    };
    let ordered = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: subject.unwrap_or_else(|| settings.events_subjects()),
            deliver_policy,
            ..Default::default()
        })
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let mut messages = ordered
        .messages()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let mut printed = 0u64;
    loop {
        if count.is_some_and(|c| printed >= c) {
            return Ok(());
        }
        let next = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            next = messages.next() => next,
        };
        match next {
            Some(Ok(message)) => {
                println!("{}", String::from_utf8_lossy(&message.payload));
                printed += 1;
            }
            Some(Err(e)) => return Err(ApiError::Unavailable(e.to_string())),
            None => return Ok(()),
        }
    }
}
