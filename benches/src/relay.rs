//! The NATS relay's catch-up rate beside JetStream's own pipelined publish, same stream
//! settings, same messages: a simulated workload is bulk-loaded into a fresh schema, its
//! events are published straight to a fresh stream (windows of acks awaited together), then
//! the real relay consumer catches up from position 0 through the real `Runner` into another
//! fresh stream. Every stream is named for this run alone and deleted at the end.

use crate::{bulk_load, load, open_cases};
use anyhow::Context;
use async_nats::jetstream;
use complaints_eventlog::{
    cloud_event, is_restricted, organisation_of, read_after, Checkpoint, Database, Pool, Runner,
    StoredEvent,
};
use complaints_gateway::cli::simulate::{self, Workload};
use complaints_gateway::nats::{NatsSettings, Relay};
use std::sync::Arc;
use std::time::Instant;

/// Events per complaint in the seeded workload (about 7.5), to size the load from `events`.
const EVENTS_PER_COMPLAINT: f64 = 7.5;

/// A message as the relay builds it: subject, CloudEvent body, message id, headers.
struct Message {
    subject: String,
    body: Vec<u8>,
    id: String,
    complaint_id: String,
    sequence: String,
}

/// Settings as the service's defaults, with a stream and subject prefix of this run's own.
fn settings(url: &str, tag: &str) -> NatsSettings {
    let run = uuid::Uuid::new_v4().simple().to_string();
    NatsSettings {
        url: Some(url.to_string()),
        prefix: format!("bench_{tag}_{run}"),
        events_stream: format!("BENCH_{}_{run}", tag.to_uppercase()),
        intake_stream: format!("BENCH_INTAKE_{run}"),
        duplicate_window_secs: 86_400,
        replicas: 1,
        max_age_days: 0,
        include_personal_data: false,
        intake_max_deliver: 5,
    }
}

/// Every event of the log, in the order the relay reads it.
async fn read_all(pool: &Pool) -> anyhow::Result<Vec<StoredEvent>> {
    let mut events = Vec::new();
    let mut after = Checkpoint::default();
    loop {
        let mut tx = pool.begin().await?;
        let batch = read_after(&mut tx, after, 10_000).await?;
        tx.rollback().await?;
        let Some(last) = batch.last().map(|e| e.checkpoint) else {
            return Ok(events);
        };
        after = last;
        events.extend(batch);
    }
}

/// The messages the relay would publish for `events` (restricted cases are never published).
fn messages(settings: &NatsSettings, events: &[StoredEvent]) -> anyhow::Result<Vec<Message>> {
    // As the relay's (crate-private) `token`: `.` would split a subject token.
    let token = |raw: &str| -> String {
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    events
        .iter()
        .filter(|e| !is_restricted(e))
        .map(|e| {
            Ok(Message {
                subject: format!(
                    "{}.events.{}.{}",
                    settings.prefix,
                    token(&organisation_of(e)),
                    token(&e.event_type)
                ),
                body: serde_json::to_vec(&cloud_event(e, settings.include_personal_data))?,
                id: e.event_id(),
                complaint_id: e.complaint_id.clone(),
                sequence: e.sequence.to_string(),
            })
        })
        .collect()
}

/// Publishes `messages` with up to `window` PubAcks outstanding, awaiting each window whole
/// (as the relay drains); returns messages/s.
async fn pipelined(
    js: &jetstream::Context,
    messages: &[Message],
    window: usize,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut in_flight = Vec::with_capacity(window);
    for m in messages {
        if in_flight.len() >= window {
            for ack in in_flight.drain(..) {
                ack.await?;
            }
        }
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Complaint-Id", m.complaint_id.as_str());
        headers.insert("Complaint-Sequence", m.sequence.as_str());
        headers.insert("Content-Type", "application/cloudevents+json");
        let publish = jetstream::message::PublishMessage::build()
            .payload(m.body.clone().into())
            .headers(headers)
            .message_id(&m.id);
        in_flight.push(js.send_publish(m.subject.clone(), publish).await?);
    }
    for ack in in_flight {
        ack.await?;
    }
    Ok(messages.len() as f64 / started.elapsed().as_secs_f64())
}

async fn stream_messages(js: &jetstream::Context, name: &str) -> anyhow::Result<u64> {
    let mut stream = js.get_stream(name).await?;
    Ok(stream.info().await?.state.messages)
}

/// Prints the relay's catch-up rate beside JetStream's pipelined publish.
pub async fn compare(base: &str, events: usize) -> anyhow::Result<()> {
    let url = std::env::var("NATS_URL").context("set NATS_URL to a NATS JetStream server")?;
    let js = settings(&url, "probe")
        .connect()
        .await?
        .context("NATS_URL is empty")?;
    let mut made = Vec::new();
    let result = run(base, &url, &js, events, &mut made).await;
    for name in made {
        if let Err(e) = js.delete_stream(&name).await {
            eprintln!("could not delete stream {name}: {e}");
        }
    }
    result
}

async fn run(
    base: &str,
    url: &str,
    js: &jetstream::Context,
    events: usize,
    made: &mut Vec<String>,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let schema = complaints_testkit::fresh_schema(base).await;
    let cases = open_cases(&Database::Postgres(schema), dir.path()).await?;
    println!(
        "# NATS relay catch-up beside JetStream pipelined publish; load average at start: {}",
        load()
    );
    println!("figure | value | compared with | ratio");

    let complaints = ((events as f64 / EVENTS_PER_COMPLAINT).ceil() as usize).max(1);
    let sim = bulk_load(20, complaints, 2.0, 20);
    let workload = Arc::new(Workload::new(&sim, cases.services().clone()));
    let loaded =
        simulate::load_via_log(cases.clone(), workload, complaints, sim.clients, true).await?;
    println!(
        "bulk load (simulate --via log), {} complaints (load {}) | {:.0} events/s ({} events) | |",
        loaded.complaints,
        load(),
        loaded.events as f64 / loaded.elapsed.as_secs_f64(),
        loaded.events
    );
    let pool = cases.log().pool().clone();
    let logged = read_all(&pool).await?;
    let total = logged.len();

    // Baselines: the same messages (bodies, headers, ids) straight to fresh streams made by
    // the relay's own `ensure_events_stream`, at the relay's 256 in flight and at 1024.
    let mut baselines = Vec::new();
    for window in [256usize, 1024] {
        let s = settings(url, &format!("base{window}"));
        let batch = messages(&s, &logged)?;
        s.ensure_events_stream(js)
            .await
            .map_err(anyhow::Error::msg)?;
        made.push(s.events_stream.clone());
        let rate = pipelined(js, &batch, window).await?;
        let stored = stream_messages(js, &s.events_stream).await?;
        anyhow::ensure!(
            stored == batch.len() as u64,
            "baseline stream holds {stored} of {} messages",
            batch.len()
        );
        baselines.push((window, rate, batch.len()));
    }
    let published = baselines[0].2;

    // The relay, as the service runs it: one checkpointed consumer from position 0.
    let s = settings(url, "relay");
    s.ensure_events_stream(js)
        .await
        .map_err(anyhow::Error::msg)?;
    made.push(s.events_stream.clone());
    let runner = Runner::new(pool, Arc::new(Relay::new(js.clone(), s.clone())));
    let started = Instant::now();
    let applied = runner.catch_up().await?;
    let rate = applied as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(
        applied == total,
        "the relay applied {applied} of {total} events"
    );
    let stored = stream_messages(js, &s.events_stream).await?;
    anyhow::ensure!(
        stored == published as u64,
        "the relay's stream holds {stored} messages, the log {total} events of which {published} publishable"
    );

    let l = load();
    for (window, base_rate, _) in &baselines {
        println!(
            "NATS relay catch-up, {total} events (load {l}) | {rate:.0} events/s | JetStream pipelined publish, {window} in flight {base_rate:.0} msg/s | {:.3}x",
            rate / base_rate
        );
    }
    let bytes: usize = messages(&s, &logged)?.iter().map(|m| m.body.len()).sum();
    println!(
        "stream messages after catch-up | {stored} of {total} events ({} restricted, never published; {} bytes/message on average) | |",
        total - published,
        bytes / published.max(1)
    );
    println!("# load average at end: {}", load());
    Ok(())
}
