//! What must hold afterwards, measured rather than asserted one by one, so every figure is
//! printed before the suite fails: each acknowledged command exactly once in the log, the
//! read model equal to a fresh rebuild, the stream holding each event exactly once.

use super::load::Record;
use async_nats::jetstream;
use futures::StreamExt;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

/// The log against what the clients were answered.
#[derive(Debug, Default)]
pub struct LogFigures {
    /// Events in the log.
    pub events: i64,
    /// Complaints in the log.
    pub complaints: usize,
    /// Acknowledged commands with no event in the log.
    pub lost: usize,
    /// Events beyond one per command: a second receipt or acknowledgement of a complaint,
    /// or a command id stored twice.
    pub duplicated: usize,
    /// Complaints in the log no client was answered for (allowed, but never expected here).
    pub unacknowledged: usize,
    /// Events other than receipts and acknowledgements.
    pub other_events: i64,
    /// The first few examples of each finding.
    pub examples: Vec<String>,
}

/// Counts the log's receipts and acknowledgements per complaint against `record`.
pub async fn log(db: &mut sqlx::PgConnection, record: &Record) -> LogFigures {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT aggregate_id, event_type, count(*) FROM events \
         WHERE event_type IN ('ComplaintReceived', 'ComplaintAcknowledged') GROUP BY 1, 2",
    )
    .fetch_all(&mut *db)
    .await
    .unwrap();
    let counts: HashMap<(String, String), i64> =
        rows.into_iter().map(|(id, t, n)| ((id, t), n)).collect();
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut *db)
        .await
        .unwrap();
    let complaints: HashSet<String> =
        sqlx::query_scalar("SELECT DISTINCT aggregate_id FROM events")
            .fetch_all(&mut *db)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let repeated_command_ids: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(n - 1), 0)::bigint FROM (SELECT count(*) AS n FROM events \
         WHERE metadata->>'command_id' IS NOT NULL GROUP BY aggregate_id, metadata->>'command_id') AS c",
    )
    .fetch_one(&mut *db)
    .await
    .unwrap();

    let mut figures = LogFigures {
        events,
        complaints: complaints.len(),
        ..Default::default()
    };
    let count = |id: &str, kind: &str| {
        counts
            .get(&(id.to_string(), kind.to_string()))
            .copied()
            .unwrap_or(0)
    };
    let received = record.received.lock().unwrap().clone();
    let acknowledged = record.acknowledged.lock().unwrap().clone();
    for (reference, id) in &received {
        if count(id, "ComplaintReceived") == 0 {
            figures.lost += 1;
            figures
                .examples
                .push(format!("lost receipt {reference} ({id})"));
        }
    }
    for id in &acknowledged {
        if count(id, "ComplaintAcknowledged") == 0 {
            figures.lost += 1;
            figures.examples.push(format!("lost acknowledgement {id}"));
        }
    }
    for ((id, kind), n) in &counts {
        if *n > 1 {
            figures.duplicated += (*n - 1) as usize;
            figures.examples.push(format!("{kind} {n} times on {id}"));
        }
    }
    figures.duplicated += repeated_command_ids as usize;
    if repeated_command_ids > 0 {
        figures
            .examples
            .push(format!("{repeated_command_ids} events repeat a command id"));
    }
    let answered: HashSet<&String> = received.values().collect();
    figures.unacknowledged = complaints.iter().filter(|c| !answered.contains(c)).count();
    figures.other_events = events - counts.values().sum::<i64>();
    figures.examples.truncate(10);
    figures
}

/// Every row of a read-model view, as JSON text, in key order.
pub async fn rows(db: &mut sqlx::PgConnection, view: &str, order: &str) -> Vec<String> {
    sqlx::query_scalar(&format!(
        "SELECT to_jsonb(t)::text FROM {view} AS t ORDER BY {order}"
    ))
    .fetch_all(db)
    .await
    .unwrap()
}

/// Rows in one list and not the other (both ways), with a few examples.
pub fn differences(live: &[String], rebuilt: &[String]) -> (usize, Vec<String>) {
    let live_set: BTreeSet<&String> = live.iter().collect();
    let rebuilt_set: BTreeSet<&String> = rebuilt.iter().collect();
    let only_live: Vec<&&String> = live_set.difference(&rebuilt_set).collect();
    let only_rebuilt: Vec<&&String> = rebuilt_set.difference(&live_set).collect();
    let mut examples: Vec<String> = only_live
        .iter()
        .take(3)
        .map(|r| format!("live only: {r}"))
        .collect();
    examples.extend(
        only_rebuilt
            .iter()
            .take(3)
            .map(|r| format!("rebuilt only: {r}")),
    );
    (only_live.len() + only_rebuilt.len(), examples)
}

/// The events stream against the log.
#[derive(Debug, Default)]
pub struct StreamFigures {
    /// Messages in the stream.
    pub messages: usize,
    /// Distinct event ids among them.
    pub distinct: usize,
    /// Log events missing from the stream.
    pub missing: usize,
    /// Messages beyond one per event id.
    pub duplicated: usize,
    /// Ids in the stream that are not events of the log (a rolled-back write, say).
    pub unknown: usize,
    /// Messages whose `Nats-Msg-Id` differs from the CloudEvent's `id`.
    pub id_mismatch: usize,
    /// The first few examples.
    pub examples: Vec<String>,
}

/// Reads the whole events stream and compares it with the log's event ids.
pub async fn stream(
    nats_url: &str,
    stream_name: &str,
    db: &mut sqlx::PgConnection,
) -> StreamFigures {
    let logged: HashSet<String> =
        sqlx::query_scalar("SELECT aggregate_id || ':' || sequence FROM events")
            .fetch_all(db)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let js = jetstream::new(async_nats::connect(nats_url).await.unwrap());
    let mut stream = js.get_stream(stream_name).await.unwrap();
    let total = stream.info().await.unwrap().state.messages as usize;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut figures = StreamFigures {
        messages: total,
        ..Default::default()
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut read = 0;
    while read < total {
        let message = tokio::time::timeout(Duration::from_secs(30), messages.next())
            .await
            .expect("the events stream stopped delivering")
            .unwrap()
            .unwrap();
        read += 1;
        let msg_id = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.to_string())
            .unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&message.payload).unwrap_or_default();
        let event_id = body["id"].as_str().unwrap_or_default().to_string();
        if event_id != msg_id {
            figures.id_mismatch += 1;
            if figures.examples.len() < 10 {
                figures.examples.push(format!(
                    "Nats-Msg-Id {msg_id} carries CloudEvent id {event_id}"
                ));
            }
        }
        *seen.entry(msg_id).or_default() += 1;
    }
    figures.distinct = seen.len();
    figures.duplicated = seen.values().map(|n| n - 1).sum();
    for id in &logged {
        if !seen.contains_key(id) {
            figures.missing += 1;
            if figures.examples.len() < 10 {
                figures
                    .examples
                    .push(format!("event {id} not in the stream"));
            }
        }
    }
    for id in seen.keys() {
        if !logged.contains(id) {
            figures.unknown += 1;
            if figures.examples.len() < 10 {
                figures
                    .examples
                    .push(format!("stream message {id} is no event of the log"));
            }
        }
    }
    figures
}
