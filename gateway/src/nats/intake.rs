//! The inbound intake: a durable pull consumer on `<prefix>.intake.<organisation>` running
//! the same commands as the HTTP API through the shared runner, acknowledged only once the
//! events are committed; what cannot be accepted is answered on `<prefix>.rejected.<org>`.

use super::{token, NatsSettings};
use crate::app::cases::Cases;
use crate::app::clock::Clock;
use crate::app::runner::{self, Invocation};
use crate::auth::{Authenticator, Caller};
use crate::error::ApiError;
use async_nats::jetstream::{self, consumer, AckKind};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

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
    let stream = settings.ensure_intake_stream(js).await?;
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
    // Rejections are published outside the intake wildcard, so everything delivered here
    // came from a publisher and is judged as a command; `<prefix>.intake.rejected.<org>`
    // is only a subject with too many tokens, refused like any other.
    let subject = message.subject.as_str();
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
            let organisation = organisation.as_deref().unwrap_or("unknown");
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
            let target = settings.rejected_subject(organisation);
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
    let envelope: IntakeMessage = match crate::app::commands::parse_json(&message.payload) {
        Ok(envelope) => envelope,
        Err(e) => return Handled::Rejected(e),
    };
    let body = match serde_json::to_vec(&envelope.body) {
        Ok(body) => body,
        Err(e) => return Handled::Rejected(ApiError::BadRequest(e.to_string())),
    };
    let correlation_id = message
        .headers
        .as_ref()
        .and_then(|h| h.get("X-Correlation-Id"))
        .map(|v| v.to_string())
        .unwrap_or_else(|| message_id.to_string());
    let invocation = Invocation {
        command: &envelope.command,
        complaint_id: envelope.complaint_id.as_deref(),
        body: &body,
        command_id: Some(message_id.to_string()),
        expected_version: None,
        correlation_id,
        causation_id: Some(format!("nats:{message_id}")),
        channel_organisation: Some(organisation),
        issued_at: clock(),
    };
    let result = match runner::run(cases, &caller, &invocation).await {
        // The same complaint from its source system again: already recorded.
        Err(ApiError::Rule(complaints_domain::ComplaintError::AlreadyReceived)) => Ok(()),
        other => other.map(|_| ()),
    };
    match result {
        Ok(()) => Handled::Accepted,
        Err(e @ (ApiError::Conflict | ApiError::Unavailable(_) | ApiError::Internal(_))) => {
            Handled::Retry(e)
        }
        Err(e) => Handled::Rejected(e),
    }
}
