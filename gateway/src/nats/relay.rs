//! The outbound relay: one more checkpointed consumer that publishes every committed event,
//! in commit order, and waits for every PubAck before the runner may move its checkpoint.

use super::{token, NatsSettings};
use crate::error::ApiError;
use async_nats::jetstream;
use async_nats::jetstream::context::PublishErrorKind;
use async_trait::async_trait;
use complaints_eventlog::{
    cloud_event, is_restricted, organisation_of, Consumer, EventLogError, Generation, StoredEvent,
    TableDef, Tx,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

/// Name of the relay consumer.
pub const RELAY: &str = "nats_relay";

/// Most publishes awaiting their PubAck at once.
const MAX_IN_FLIGHT: usize = 256;

/// Publishes every committed event to JetStream.
pub struct Relay {
    js: jetstream::Context,
    settings: NatsSettings,
    stream_ready: AtomicBool,
}

/// Why a batch was not published.
struct PublishFailure {
    /// No stream listens on the subject (it was deleted, or never made on this server).
    stream_missing: bool,
    message: String,
}

impl PublishFailure {
    fn new(message: String, error: &jetstream::context::PublishError) -> Self {
        Self {
            stream_missing: error.kind() == PublishErrorKind::StreamNotFound,
            message,
        }
    }
}

impl Relay {
    /// A relay publishing with `js`.
    pub fn new(js: jetstream::Context, settings: NatsSettings) -> Self {
        Self {
            js,
            settings,
            stream_ready: AtomicBool::new(false),
        }
    }

    /// Publishes `events` in order and waits for every PubAck. Events of one complaint are
    /// never in flight together, so a failed publish cannot let a later event of the same
    /// complaint overtake it in the stream. A stream deleted while the relay runs is made
    /// again and the batch published once more (its message ids drop what already landed).
    pub async fn publish(&self, events: &[StoredEvent]) -> Result<(), String> {
        if !self.stream_ready.load(Ordering::Acquire) {
            self.settings.ensure_events_stream(&self.js).await?;
            self.stream_ready.store(true, Ordering::Release);
        }
        match self.publish_batch(events).await {
            Ok(()) => Ok(()),
            Err(failure) if failure.stream_missing => {
                tracing::warn!(
                    stream = %self.settings.events_stream,
                    error = %failure.message,
                    "events stream missing; creating it again"
                );
                metrics::counter!("nats_relay_stream_recreated_total").increment(1);
                self.stream_ready.store(false, Ordering::Release);
                self.settings.ensure_events_stream(&self.js).await?;
                self.stream_ready.store(true, Ordering::Release);
                self.publish_batch(events).await.map_err(|f| f.message)
            }
            Err(failure) => Err(failure.message),
        }
    }

    async fn publish_batch(&self, events: &[StoredEvent]) -> Result<(), PublishFailure> {
        let mut in_flight = Vec::new();
        let mut complaints_in_flight: HashSet<&str> = HashSet::new();
        // R-KIND-3: whistleblowing concerns are never published.
        for event in events.iter().filter(|e| !is_restricted(e)) {
            if in_flight.len() >= MAX_IN_FLIGHT
                || complaints_in_flight.contains(event.complaint_id.as_str())
            {
                drain(&mut in_flight).await?;
                complaints_in_flight.clear();
            }
            let subject = format!(
                "{}.events.{}.{}",
                self.settings.prefix,
                token(&organisation_of(event)),
                token(&event.event_type)
            );
            let body = serde_json::to_vec(&cloud_event(event, self.settings.include_personal_data))
                .map_err(|e| PublishFailure {
                    stream_missing: false,
                    message: e.to_string(),
                })?;
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Complaint-Id", event.complaint_id.as_str());
            headers.insert("Complaint-Sequence", event.sequence.to_string().as_str());
            headers.insert("Content-Type", "application/cloudevents+json");
            let publish = jetstream::message::PublishMessage::build()
                .payload(body.into())
                .headers(headers)
                .message_id(event.event_id());
            let ack = self.js.send_publish(subject, publish).await.map_err(|e| {
                PublishFailure::new(format!("publish {}: {e}", event.event_id()), &e)
            })?;
            in_flight.push((event.event_id(), ack));
            complaints_in_flight.insert(event.complaint_id.as_str());
        }
        drain(&mut in_flight).await
    }
}

async fn drain(
    in_flight: &mut Vec<(String, jetstream::context::PublishAckFuture)>,
) -> Result<(), PublishFailure> {
    for (id, ack) in in_flight.drain(..) {
        ack.await
            .map_err(|e| PublishFailure::new(format!("no PubAck for {id}: {e}"), &e))?;
    }
    Ok(())
}

#[async_trait]
impl Consumer for Relay {
    fn name(&self) -> &'static str {
        RELAY
    }

    fn tables(&self) -> Vec<TableDef> {
        Vec::new()
    }

    async fn apply(
        &self,
        _tx: &mut Tx,
        _generation: Generation,
        events: &[StoredEvent],
    ) -> Result<(), EventLogError> {
        let started = std::time::Instant::now();
        self.publish(events)
            .await
            .map_err(EventLogError::Downstream)?;
        metrics::histogram!("nats_relay_batch_seconds").record(started.elapsed().as_secs_f64());
        Ok(())
    }
}

/// Publishes every event at or after `from_position` again (to refill a lost or rebuilt
/// stream), without touching the relay's checkpoint. Consumers that de-duplicate by event id
/// see each event once.
pub async fn republish(
    pool: &complaints_eventlog::Pool,
    relay: &Relay,
    from_position: i64,
    progress: complaints_eventlog::Progress<'_>,
) -> Result<u64, ApiError> {
    let total = {
        let mut tx = pool.begin().await?;
        let (n, _) =
            complaints_eventlog::backlog(&mut tx, complaints_eventlog::Checkpoint::default())
                .await?;
        tx.rollback().await?;
        n.max(0) as u64
    };
    let mut checkpoint = complaints_eventlog::Checkpoint::default();
    let (mut seen, mut published) = (0u64, 0u64);
    loop {
        let mut tx = pool.begin().await?;
        let batch = complaints_eventlog::read_after(&mut tx, checkpoint, 1000).await?;
        tx.rollback().await?;
        let Some(last) = batch.last().map(|e| e.checkpoint) else {
            break;
        };
        checkpoint = last;
        seen += batch.len() as u64;
        let chosen: Vec<StoredEvent> = batch
            .into_iter()
            .filter(|e| e.checkpoint.position >= from_position)
            .collect();
        relay
            .publish(&chosen)
            .await
            .map_err(ApiError::Unavailable)?;
        published += chosen.len() as u64;
        progress(seen, total.max(seen));
    }
    Ok(published)
}
