//! NATS JetStream: the outbound relay of committed events and the inbound intake of
//! frontline commands.
//!
//! The database log is the record and JetStream a copy. The relay is one more checkpointed
//! consumer: it publishes a batch, awaits every PubAck, and only then lets the runner
//! commit its checkpoint; after a crash the batch is published again and JetStream drops
//! the repeats by `Nats-Msg-Id` (the event id) within the stream's duplicate window.
//! Commands never wait on NATS: when it is down the relay's batch fails, the runner backs
//! off, and it resumes from its checkpoint.
//!
//! Intake: a durable pull consumer on `<prefix>.intake.<organisation>` runs the same
//! commands as the HTTP API, authorised by the bearer token in the message's
//! `Authorization` header, idempotent by message id, acknowledged only after the events are
//! committed. A message that cannot be accepted gets a rejection published on
//! `<prefix>.intake.rejected.<organisation>` (kept in the intake stream) and is then
//! acknowledged; transient failures are redelivered with back-off, a bounded number of times.

use crate::auth::{Authenticator, Caller, Role};
use crate::cases::{complaint_id_for_source, Cases, CommandContext};
use crate::error::ApiError;
use crate::http::{london_date, Clock};
use async_nats::jetstream::{self, consumer, stream, AckKind};
use async_trait::async_trait;
use complaints_domain::{strip_personal_data, ComplaintAction, ReceiveComplaint};
use complaints_projections::{Generation, Projection, ProjectionError, StoredEvent, TableDef, Tx};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// NATS configuration.
#[derive(Debug, Clone, clap::Args)]
pub struct NatsSettings {
    /// NATS server URL; unset means no relay and no intake.
    #[arg(long = "nats-url", env = "NATS_URL")]
    pub url: Option<String>,
    /// First subject token: events go to `<prefix>.events.<organisation>.<event_type>`.
    #[arg(
        long = "nats-prefix",
        env = "COMPLAINTS_NATS_PREFIX",
        default_value = "complaints"
    )]
    pub prefix: String,
    /// The stream the relay publishes to (created if missing).
    #[arg(
        long = "nats-events-stream",
        env = "COMPLAINTS_NATS_EVENTS_STREAM",
        default_value = "COMPLAINTS_EVENTS"
    )]
    pub events_stream: String,
    /// The intake stream (created if missing).
    #[arg(
        long = "nats-intake-stream",
        env = "COMPLAINTS_NATS_INTAKE_STREAM",
        default_value = "COMPLAINTS_INTAKE"
    )]
    pub intake_stream: String,
    /// Duplicate window in seconds: keep it longer than any relay outage.
    #[arg(
        long = "nats-duplicate-window",
        env = "COMPLAINTS_NATS_DUPLICATE_WINDOW_SECS",
        default_value_t = 86_400
    )]
    pub duplicate_window_secs: u64,
    /// Stream replicas (clustered JetStream).
    #[arg(
        long = "nats-replicas",
        env = "COMPLAINTS_NATS_REPLICAS",
        default_value_t = 1
    )]
    pub replicas: usize,
    /// Days the events stream keeps messages; 0 keeps them until limits say otherwise.
    #[arg(
        long = "nats-max-age-days",
        env = "COMPLAINTS_NATS_MAX_AGE_DAYS",
        default_value_t = 0
    )]
    pub max_age_days: u64,
    /// Publish personal data fields too (off: they are removed, as in exports).
    #[arg(long = "nats-include-personal-data", env = "COMPLAINTS_NATS_INCLUDE_PERSONAL_DATA", default_value_t = false, action = clap::ArgAction::Set)]
    pub include_personal_data: bool,
    /// Deliveries of an intake message before it is rejected as undeliverable.
    #[arg(
        long = "nats-intake-max-deliver",
        env = "COMPLAINTS_NATS_INTAKE_MAX_DELIVER",
        default_value_t = 5
    )]
    pub intake_max_deliver: i64,
}

impl NatsSettings {
    /// Connects lazily: the client keeps retrying in the background, so a server that is
    /// down at start-up delays publishing, never the service.
    pub async fn connect(&self) -> Result<Option<jetstream::Context>, ApiError> {
        let Some(url) = self.url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .name("complaints")
            .connect(url)
            .await
            .map_err(|e| ApiError::Config(format!("NATS_URL: {e}")))?;
        Ok(Some(jetstream::new(client)))
    }

    fn events_subjects(&self) -> String {
        format!("{}.events.>", self.prefix)
    }

    fn intake_subjects(&self) -> String {
        format!("{}.intake.>", self.prefix)
    }

    fn stream_config(&self, name: &str, subjects: String, max_age: Duration) -> stream::Config {
        stream::Config {
            name: name.to_string(),
            subjects: vec![subjects],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            duplicate_window: Duration::from_secs(self.duplicate_window_secs),
            num_replicas: self.replicas,
            max_age,
            ..Default::default()
        }
    }

    /// Creates the events stream if it is missing.
    pub async fn ensure_events_stream(&self, js: &jetstream::Context) -> Result<(), String> {
        let max_age = Duration::from_secs(self.max_age_days * 86_400);
        js.get_or_create_stream(self.stream_config(
            &self.events_stream,
            self.events_subjects(),
            max_age,
        ))
        .await
        .map(|_| ())
        .map_err(|e| format!("events stream {}: {e}", self.events_stream))
    }
}

/// A subject token from an organisation id (`.` would split the token).
fn token(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The organisation an event belongs to, from its metadata or its receipt.
fn organisation_of(event: &StoredEvent) -> String {
    event
        .metadata
        .get(crate::meta::ORGANISATION)
        .cloned()
        .or_else(|| match &event.event {
            complaints_domain::ComplaintEvent::ComplaintReceived {
                organisation_id, ..
            } => Some(organisation_id.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The CloudEvents 1.0 envelope of a stored event; personal data removed unless asked.
pub fn cloud_event(event: &StoredEvent, include_personal_data: bool) -> Value {
    let mut payload = serde_json::to_value(&event.event).unwrap_or(Value::Null);
    if !include_personal_data {
        strip_personal_data(&event.event_type, &event.event_version, &mut payload);
    }
    let data = payload.get(&event.event_type).cloned().unwrap_or(payload);
    let organisation = organisation_of(event);
    json!({
        "specversion": "1.0",
        "id": event.event_id(),
        "source": format!("urn:complaints:organisation:{organisation}"),
        "type": format!("uk.nhs.complaints.{}.v{}", event.event_type, event.event_version),
        "subject": event.complaint_id,
        "time": event.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "datacontenttype": "application/json",
        "complaintsequence": event.sequence,
        "logposition": event.checkpoint.position,
        "occurredon": event.metadata.get(crate::meta::OCCURRED_ON),
        "data": data,
    })
}

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
impl Projection for Relay {
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
    ) -> Result<(), ProjectionError> {
        let started = std::time::Instant::now();
        self.publish(events)
            .await
            .map_err(ProjectionError::Downstream)?;
        metrics::histogram!("nats_relay_batch_seconds").record(started.elapsed().as_secs_f64());
        Ok(())
    }
}

/// Publishes every event at or after `from_position` again (to refill a lost or rebuilt
/// stream), without touching the relay's checkpoint. Consumers that de-duplicate by event id
/// see each event once.
pub async fn republish(
    pool: &complaints_projections::Pool,
    relay: &Relay,
    from_position: i64,
    progress: complaints_projections::Progress<'_>,
) -> Result<u64, ApiError> {
    let total = {
        let mut tx = pool
            .begin()
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        let (n, _) =
            complaints_projections::backlog(&mut tx, complaints_projections::Checkpoint::default())
                .await
                .map_err(|e| ApiError::Internal(e.into()))?;
        tx.rollback()
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        n.max(0) as u64
    };
    let mut checkpoint = complaints_projections::Checkpoint::default();
    let (mut seen, mut published) = (0u64, 0u64);
    loop {
        let mut tx = pool
            .begin()
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        let batch = complaints_projections::read_after(&mut tx, checkpoint, 1000)
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        tx.rollback()
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
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

/// An intake message body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntakeMessage {
    /// `receive`, or a command name as in the HTTP API (`acknowledgement`, …).
    command: String,
    /// The complaint, for every command but `receive`.
    #[serde(default)]
    complaint_id: Option<String>,
    /// The same JSON the HTTP API takes.
    body: Value,
}

/// What became of an intake message.
#[derive(Debug)]
enum Handled {
    Accepted,
    Rejected(ApiError),
    Retry(ApiError),
}

/// Consumes the intake stream until `stop`.
pub async fn run_intake(
    cases: Arc<Cases>,
    auth: Arc<Authenticator>,
    js: jetstream::Context,
    settings: NatsSettings,
    clock: Clock,
    stop: CancellationToken,
) {
    let mut backoff = Duration::from_millis(500);
    while !stop.is_cancelled() {
        match intake_loop(&cases, &auth, &js, &settings, &clock, &stop).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "NATS intake interrupted; retrying");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

async fn intake_loop(
    cases: &Cases,
    auth: &Authenticator,
    js: &jetstream::Context,
    settings: &NatsSettings,
    clock: &Clock,
    stop: &CancellationToken,
) -> Result<(), String> {
    let config = settings.stream_config(
        &settings.intake_stream,
        settings.intake_subjects(),
        Duration::ZERO,
    );
    let stream = js
        .get_or_create_stream(config)
        .await
        .map_err(|e| e.to_string())?;
    let durable = format!("{}-intake", token(&settings.prefix));
    let consumer: consumer::PullConsumer = stream
        .get_or_create_consumer(
            &durable,
            consumer::pull::Config {
                durable_name: Some(durable.clone()),
                filter_subject: settings.intake_subjects(),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                max_deliver: settings.intake_max_deliver,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
    tracing::info!(stream = %settings.intake_stream, consumer = %durable, "NATS intake running");
    loop {
        let message = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            next = messages.next() => match next {
                Some(Ok(message)) => message,
                Some(Err(e)) => return Err(e.to_string()),
                None => return Err("intake subscription ended".into()),
            },
        };
        handle_message(cases, auth, js, settings, clock, &message).await?;
    }
}

async fn handle_message(
    cases: &Cases,
    auth: &Authenticator,
    js: &jetstream::Context,
    settings: &NatsSettings,
    clock: &Clock,
    message: &jetstream::Message,
) -> Result<(), String> {
    let subject = message.subject.as_str();
    let rejected_prefix = format!("{}.intake.rejected.", settings.prefix);
    if subject.starts_with(&rejected_prefix) {
        // Rejections are kept in the stream for inspection, not executed.
        return message.ack().await.map_err(|e| e.to_string());
    }
    let info = message.info().map_err(|e| e.to_string())?;
    let (stream_sequence, delivered) = (info.stream_sequence, info.delivered);
    let message_id = message
        .headers
        .as_ref()
        .and_then(|h| h.get("Nats-Msg-Id"))
        .map(|v| v.to_string())
        .unwrap_or_else(|| format!("{}:{stream_sequence}", settings.intake_stream));
    let organisation = subject
        .strip_prefix(&format!("{}.intake.", settings.prefix))
        .filter(|rest| !rest.is_empty() && !rest.contains('.'))
        .map(str::to_string);

    let outcome = match &organisation {
        None => Handled::Rejected(ApiError::BadRequest(format!(
            "intake subject must be {}.intake.<organisation>",
            settings.prefix
        ))),
        Some(organisation) => execute(cases, auth, clock, message, organisation, &message_id).await,
    };
    let outcome = match outcome {
        Handled::Retry(error) if delivered >= settings.intake_max_deliver => Handled::Rejected(
            ApiError::Unavailable(format!("gave up after {delivered} deliveries: {error}")),
        ),
        other => other,
    };
    metrics::counter!("nats_intake_messages_total", "outcome" => match &outcome {
        Handled::Accepted => "accepted",
        Handled::Rejected(_) => "rejected",
        Handled::Retry(_) => "retried",
    })
    .increment(1);
    match outcome {
        Handled::Accepted => message.double_ack().await.map_err(|e| e.to_string()),
        Handled::Retry(error) => {
            tracing::warn!(%message_id, %error, delivered, "intake message will be redelivered");
            let delay =
                Duration::from_millis(500 * 2u64.saturating_pow(delivered.clamp(0, 6) as u32));
            message
                .ack_with(AckKind::Nak(Some(delay)))
                .await
                .map_err(|e| e.to_string())
        }
        Handled::Rejected(error) => {
            let organisation = organisation
                .as_deref()
                .map(token)
                .unwrap_or_else(|| "unknown".into());
            let rejection = json!({
                "original_message_id": message_id,
                "original_subject": subject,
                "stream_sequence": stream_sequence,
                "type": format!("{}{}", crate::error::PROBLEM_BASE, error.code()),
                "status": error.status().as_u16(),
                "reason": error.to_string(),
                "errors": match &error {
                    ApiError::Validation { errors, .. } => serde_json::to_value(errors).unwrap_or(Value::Null),
                    _ => Value::Null,
                },
            });
            let publish = jetstream::message::PublishMessage::build()
                .payload(rejection.to_string().into())
                .message_id(format!("rejected:{message_id}"));
            let target = format!("{rejected_prefix}{organisation}");
            let ack = js
                .send_publish(target, publish)
                .await
                .map_err(|e| e.to_string())?;
            ack.await.map_err(|e| e.to_string())?;
            tracing::info!(%message_id, reason = %error, "intake message rejected");
            message.double_ack().await.map_err(|e| e.to_string())
        }
    }
}

fn bearer(message: &jetstream::Message) -> Option<String> {
    let value = message.headers.as_ref()?.get("Authorization")?.to_string();
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(|t| t.trim().to_string())
}

async fn execute(
    cases: &Cases,
    auth: &Authenticator,
    clock: &Clock,
    message: &jetstream::Message,
    organisation: &str,
    message_id: &str,
) -> Handled {
    let caller: Caller = match bearer(message)
        .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))
    {
        Ok(token) => match auth.verify(&token) {
            Ok(caller) => caller,
            Err(e) => return Handled::Rejected(e),
        },
        Err(e) => return Handled::Rejected(e),
    };
    if !caller.acts_for(organisation) {
        return Handled::Rejected(ApiError::Forbidden(
            "the token does not act for this organisation".into(),
        ));
    }
    let envelope: IntakeMessage = match crate::http::parse_json(&message.payload) {
        Ok(envelope) => envelope,
        Err(e) => return Handled::Rejected(e),
    };
    let body = match serde_json::to_vec(&envelope.body) {
        Ok(body) => body,
        Err(e) => return Handled::Rejected(ApiError::BadRequest(e.to_string())),
    };
    let fingerprint = match crate::commands::fingerprint(&envelope.command, &body) {
        Ok(f) => f,
        Err(e) => return Handled::Rejected(e),
    };
    let now = clock();
    let correlation_id = message
        .headers
        .as_ref()
        .and_then(|h| h.get("X-Correlation-Id"))
        .map(|v| v.to_string())
        .unwrap_or_else(|| message_id.to_string());
    let context = |role: Role| CommandContext {
        actor: caller.subject.clone(),
        role: role.name().to_string(),
        organisation_id: organisation.to_string(),
        command_id: Some(message_id.to_string()),
        fingerprint: fingerprint.clone(),
        correlation_id: correlation_id.clone(),
        causation_id: Some(format!("nats:{message_id}")),
        issued_at: now,
        issued_on: london_date(now),
    };

    let result = if envelope.command == "receive" {
        let role = match caller.require(crate::commands::INTAKE_ROLES) {
            Ok(role) => role,
            Err(e) => return Handled::Rejected(e),
        };
        let receive: ReceiveComplaint = match crate::http::parse_json(&body) {
            Ok(r) => r,
            Err(e) => return Handled::Rejected(e),
        };
        if receive.organisation_id != organisation {
            return Handled::Rejected(ApiError::Forbidden(
                "organisation_id differs from the intake subject's organisation".into(),
            ));
        }
        let id = match &receive.source {
            Some(source) => {
                complaint_id_for_source(organisation, &source.system, &source.reference)
            }
            None => complaint_id_for_source(organisation, "nats-message", message_id),
        }
        .to_string();
        match cases
            .execute(&id, ComplaintAction::Receive(receive), &context(role), None)
            .await
        {
            // The same complaint from its source system again: already recorded.
            Err(ApiError::Rule(complaints_domain::ComplaintError::AlreadyReceived)) => Ok(()),
            other => other.map(|_| ()),
        }
    } else {
        let Some(spec) = crate::commands::find(&envelope.command) else {
            return Handled::Rejected(ApiError::BadRequest(format!(
                "unknown command `{}`",
                envelope.command
            )));
        };
        let Some(id) = envelope
            .complaint_id
            .as_deref()
            .and_then(|id| uuid::Uuid::parse_str(id).ok())
        else {
            return Handled::Rejected(ApiError::BadRequest(
                "complaint_id is required and must be a UUID".into(),
            ));
        };
        let id = id.to_string();
        let found = match cases.get(&id).await {
            Ok(Some(found)) => found,
            Ok(None) => return Handled::Rejected(ApiError::NotFound),
            Err(e) => return Handled::Retry(e),
        };
        if found.case.receipt().map(|r| r.organisation_id.as_str()) != Ok(organisation) {
            return Handled::Rejected(ApiError::NotFound);
        }
        let role = match caller.require(spec.roles) {
            Ok(role) => role,
            Err(e) => return Handled::Rejected(e),
        };
        let action = match (spec.parse)(&body) {
            Ok(action) => action,
            Err(e) => return Handled::Rejected(e),
        };
        cases
            .execute(&id, action, &context(role), None)
            .await
            .map(|_| ())
    };
    match result {
        Ok(()) => Handled::Accepted,
        Err(e @ (ApiError::Conflict | ApiError::Unavailable(_) | ApiError::Internal(_))) => {
            Handled::Retry(e)
        }
        Err(e) => Handled::Rejected(e),
    }
}

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
