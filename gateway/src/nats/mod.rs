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
//! `<prefix>.rejected.<organisation>` (kept in the intake stream, which lists both subjects)
//! and is then acknowledged; transient failures are redelivered with back-off, a bounded
//! number of times. Rejections live outside `<prefix>.intake.>` on purpose: frontline
//! systems may publish anywhere under that wildcard, so a rejection subject inside it could
//! be forged by any of them (the permissions that keep them out are in `deploy/README.md`).

use crate::error::ApiError;
use async_nats::jetstream::{self, stream};
use std::time::Duration;

pub use intake::run_intake;
pub use relay::{republish, Relay, RELAY};
pub use tail::tail;
pub use witness::NatsWitness;

mod intake;
mod relay;
mod tail;
mod witness;

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

/// A URL's user or password as written before percent-encoding.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A user and password for NATS.
type Credentials = Option<(String, String)>;

/// The servers of a `NATS_URL` and the user and password the first of them carries. A
/// cluster's servers come comma-separated (deploy/compose.yaml), but async-nats parses a
/// string as one URL, and it sends only the options' credentials, never a URL's.
fn servers_and_credentials(
    url: &str,
) -> Result<(Vec<async_nats::ServerAddr>, Credentials), ApiError> {
    let servers = url
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse::<async_nats::ServerAddr>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::Config(format!("NATS_URL: {e}")))?;
    let credentials = servers.iter().find_map(|s| {
        let user = s.username()?;
        Some((
            percent_decode(user),
            percent_decode(s.password().unwrap_or("")),
        ))
    });
    Ok((servers, credentials))
}

impl NatsSettings {
    /// Connects lazily: the client keeps retrying in the background, so a server that is
    /// down at start-up delays publishing, never the service.
    pub async fn connect(&self) -> Result<Option<jetstream::Context>, ApiError> {
        let Some(url) = self.url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let (servers, credentials) = servers_and_credentials(url)?;
        let mut options = async_nats::ConnectOptions::new();
        if let Some((user, password)) = credentials {
            options = options.user_and_password(user, password);
        }
        let client = options
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .name("complaints")
            .connect(servers)
            .await
            .map_err(|e| ApiError::Config(format!("NATS_URL: {e}")))?;
        Ok(Some(jetstream::new(client)))
    }

    pub(crate) fn events_subjects(&self) -> String {
        format!("{}.events.>", self.prefix)
    }

    pub(crate) fn intake_subjects(&self) -> String {
        format!("{}.intake.>", self.prefix)
    }

    /// Where intake rejections go: `<prefix>.rejected.<organisation>`.
    pub(crate) fn rejected_subject(&self, organisation: &str) -> String {
        format!("{}.rejected.{}", self.prefix, token(organisation))
    }

    pub(crate) fn rejected_subjects(&self) -> String {
        format!("{}.rejected.>", self.prefix)
    }

    /// Creates the intake stream if it is missing, over the intake and rejection subjects;
    /// a stream made before rejections moved out of the intake wildcard gets the rejection
    /// subject added, or publishing a rejection would find no stream.
    pub(crate) async fn ensure_intake_stream(
        &self,
        js: &jetstream::Context,
    ) -> Result<stream::Stream, String> {
        let wanted = [self.intake_subjects(), self.rejected_subjects()];
        let config = self.stream_config(&self.intake_stream, wanted.to_vec(), Duration::ZERO);
        let what = |e: &dyn std::fmt::Display| format!("intake stream {}: {e}", self.intake_stream);
        let mut stream = js
            .get_or_create_stream(config)
            .await
            .map_err(|e| what(&e))?;
        let mut current = stream.info().await.map_err(|e| what(&e))?.config.clone();
        let missing: Vec<String> = wanted
            .iter()
            .filter(|s| !current.subjects.contains(s))
            .cloned()
            .collect();
        if !missing.is_empty() {
            current.subjects.extend(missing);
            js.update_stream(current).await.map_err(|e| what(&e))?;
            stream = js
                .get_stream(&self.intake_stream)
                .await
                .map_err(|e| what(&e))?;
        }
        Ok(stream)
    }

    pub(crate) fn stream_config(
        &self,
        name: &str,
        subjects: Vec<String>,
        max_age: Duration,
    ) -> stream::Config {
        stream::Config {
            name: name.to_string(),
            subjects,
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
            vec![self.events_subjects()],
            max_age,
        ))
        .await
        .map(|_| ())
        .map_err(|e| format!("events stream {}: {e}", self.events_stream))
    }
}

/// A subject token from an organisation id (`.` would split the token).
pub(crate) fn token(raw: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_url_lists_every_server_and_carries_the_decoded_credentials() {
        let (servers, credentials) = servers_and_credentials(
            "nats://complaints:p%40ss@127.0.0.1:4222, nats://complaints:p%40ss@127.0.0.1:4223,",
        )
        .expect("two URLs parse");
        assert_eq!(
            servers.iter().map(|s| s.port()).collect::<Vec<_>>(),
            [4222, 4223]
        );
        assert_eq!(
            credentials,
            Some(("complaints".to_string(), "p@ss".to_string()))
        );
        let (servers, credentials) =
            servers_and_credentials("nats://127.0.0.1:4222").expect("one URL parses");
        assert_eq!(servers.len(), 1);
        assert_eq!(credentials, None);
        assert!(servers_and_credentials("nats://127.0.0.1:x").is_err());
    }
}
