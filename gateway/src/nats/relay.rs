//! The outbound relay: one more checkpointed consumer that publishes every committed event,
//! in commit order, and waits for every PubAck before the runner may move its checkpoint.

use super::{token, NatsSettings};
use crate::error::ApiError;
use async_nats::jetstream;
use async_trait::async_trait;
use complaints_eventlog::{
    cloud_event, organisation_of, Consumer, EventLogError, Generation, StoredEvent, TableDef, Tx,
};
use std::collections::HashSet;

/// Name of the relay consumer.
pub const RELAY: &str = "nats_relay";

/// Most publishes awaiting their PubAck at once.
const MAX_IN_FLIGHT: usize = 256;

/// Publishes every committed event to JetStream.
pub struct Relay {
    js: jetstream::Context,
    settings: NatsSettings,
    stream_ready: tokio::sync::OnceCell<()>,
}

impl Relay {
    /// A relay publishing with `js`.
    pub fn new(js: jetstream::Context, settings: NatsSettings) -> Self {
        Self {
            js,
            settings,
            stream_ready: tokio::sync::OnceCell::new(),
        }
    }

    /// Publishes `events` in order and waits for every PubAck. Events of one complaint are
    /// never in flight together, so a failed publish cannot let a later event of the same
    /// complaint overtake it in the stream.
    pub async fn publish(&self, events: &[StoredEvent]) -> Result<(), String> {
        self.stream_ready
            .get_or_try_init(|| self.settings.ensure_events_stream(&self.js))
            .await?;
        let mut in_flight = Vec::new();
        let mut complaints_in_flight: HashSet<&str> = HashSet::new();
        for event in events {
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
                .map_err(|e| e.to_string())?;
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Complaint-Id", event.complaint_id.as_str());
            headers.insert("Complaint-Sequence", event.sequence.to_string().as_str());
            headers.insert("Content-Type", "application/cloudevents+json");
            let publish = jetstream::message::PublishMessage::build()
                .payload(body.into())
                .headers(headers)
                .message_id(event.event_id());
            let ack = self
                .js
                .send_publish(subject, publish)
                .await
                .map_err(|e| format!("publish {}: {e}", event.event_id()))?;
            in_flight.push((event.event_id(), ack));
            complaints_in_flight.insert(event.complaint_id.as_str());
        }
        drain(&mut in_flight).await
    }
}

async fn drain(
    in_flight: &mut Vec<(String, jetstream::context::PublishAckFuture)>,
) -> Result<(), String> {
    for (id, ack) in in_flight.drain(..) {
        ack.await.map_err(|e| format!("no PubAck for {id}: {e}"))?;
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
