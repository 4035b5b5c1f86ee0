//! A NATS witness: every signed checkpoint is also published to its own JetStream stream, so
//! a copy lives on other machines than the database and any subscriber can keep one.

use super::NatsSettings;
use async_nats::jetstream::{self, stream};
use async_trait::async_trait;
use complaints_audit::{AuditError, SignedCheckpoint, Witness};
use std::time::Duration;

/// Publishes checkpoints to `<prefix>.audit.checkpoints` in the stream `<events stream>_AUDIT`.
pub struct NatsWitness {
    js: jetstream::Context,
    subject: String,
    stream: String,
    replicas: usize,
}

impl NatsWitness {
    /// A witness publishing with `js`.
    pub fn new(js: jetstream::Context, settings: &NatsSettings) -> Self {
        Self {
            js,
            subject: format!("{}.audit.checkpoints", settings.prefix),
            stream: format!("{}_AUDIT", settings.events_stream),
            replicas: settings.replicas,
        }
    }
}

#[async_trait]
impl Witness for NatsWitness {
    fn name(&self) -> &str {
        "nats"
    }

    async fn record(&self, checkpoint: &SignedCheckpoint) -> Result<(), AuditError> {
        let downstream = |e: String| AuditError::Io(format!("NATS witness: {e}"));
        self.js
            .get_or_create_stream(stream::Config {
                name: self.stream.clone(),
                subjects: vec![self.subject.clone()],
                storage: stream::StorageType::File,
                num_replicas: self.replicas,
                duplicate_window: Duration::from_secs(86_400),
                ..Default::default()
            })
            .await
            .map_err(|e| downstream(e.to_string()))?;
        let publish = jetstream::message::PublishMessage::build()
            .payload(serde_json::to_vec(checkpoint)?.into())
            .message_id(format!(
                "checkpoint:{}:{}",
                checkpoint.chain_index, checkpoint.link
            ));
        self.js
            .send_publish(self.subject.clone(), publish)
            .await
            .map_err(|e| downstream(e.to_string()))?
            .await
            .map_err(|e| downstream(e.to_string()))?;
        Ok(())
    }
}
