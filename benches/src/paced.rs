//! Receipts over HTTP offered at a fixed rate (open loop): receipt `i` is due at
//! `start + i / rate` and is issued then whatever the earlier ones are doing, and its latency
//! runs from that due time, so a stalled service is charged for the requests it kept waiting
//! (no coordinated omission). Each request is one `POST /v1/complaints` (receive only, the
//! default answer with the complaint), against the real router on a local socket over a
//! fresh PostgreSQL schema, consumers off as in the main run's HTTP path.

use crate::{http_service, load, open_cases, percentile, receive};
use complaints_eventlog::Database;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Most requests on the wire at once: beyond it requests queue in the client, still timed
/// from their due time, so a service that falls behind shows as latency, not as fewer offers.
const MAX_CONNECTIONS: usize = 512;

/// What became of one request.
struct Outcome {
    /// From its due time to its answer.
    latency: Duration,
    /// From its due time to when it went on the wire (the load generator's own lag).
    sent_late: Duration,
    done_at: Instant,
    ok: bool,
}

/// Prints the offered and achieved rates, the latency from schedule and the errors.
pub async fn run(base: &str, rate: f64, seconds: f64) -> anyhow::Result<()> {
    anyhow::ensure!(
        rate > 0.0 && seconds > 0.0,
        "--paced and --paced-seconds must be positive"
    );
    let dir = tempfile::tempdir()?;
    let schema = complaints_testkit::fresh_schema(base).await;
    let cases = open_cases(&Database::Postgres(schema), dir.path()).await?;
    let (address, token, stop) = http_service(cases).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(MAX_CONNECTIONS)
        .build()?;
    let url = Arc::new(format!("{address}/v1/complaints"));
    let token = Arc::new(token);
    let day = complaints_gateway::london_date(chrono::Utc::now());
    println!(
        "# paced receipts over HTTP, open loop; load average at start: {}",
        load()
    );
    println!("figure | value | compared with | ratio");
    // A warm-up so the run starts with connections open.
    for _ in 0..20 {
        client
            .post(url.as_str())
            .bearer_auth(token.as_str())
            .json(&receive(day))
            .send()
            .await?
            .error_for_status()?;
    }

    let total = (rate * seconds).round() as usize;
    let gate = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due).await;
        let (client, url, token, gate) = (client.clone(), url.clone(), token.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            let sent_late = due.elapsed();
            let answer = client
                .post(url.as_str())
                .bearer_auth(token.as_str())
                .json(&receive(day))
                .send()
                .await;
            let ok = match answer {
                Ok(response) => {
                    let ok = response.status().is_success();
                    // The answer is read whole: the client waits for it too.
                    response.bytes().await.is_ok() && ok
                }
                Err(_) => false,
            };
            Outcome {
                latency: due.elapsed(),
                sent_late,
                done_at: Instant::now(),
                ok,
            }
        }));
    }
    let mut outcomes = Vec::with_capacity(total);
    for task in tasks {
        outcomes.push(task.await?);
    }
    stop.cancel();

    let offered_span = Duration::from_secs_f64(total as f64 / rate);
    let last = outcomes
        .iter()
        .map(|o| o.done_at)
        .max()
        .unwrap_or(start)
        .duration_since(start);
    let ok = outcomes.iter().filter(|o| o.ok).count();
    let errors = total - ok;
    let achieved = ok as f64 / last.max(offered_span).as_secs_f64();
    let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.latency).collect();
    latencies.sort();
    let send_lag = outcomes
        .iter()
        .map(|o| o.sent_late)
        .max()
        .unwrap_or_default();
    let l = load();
    println!(
        "paced receipts over HTTP, {total} offered over {seconds} s (load {l}) | {achieved:.0} cmd/s achieved | offered {rate:.0} cmd/s | {:.3}x",
        achieved / rate
    );
    println!(
        "latency from the scheduled time, every request | p50 {:.1?} p99 {:.1?} max {:.1?} | |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    );
    println!(
        "errors | {errors} of {total} | last answer {:.2?} after start, schedule {:.2?}; latest send {:.1?} after its due time | |",
        last, offered_span, send_lag
    );
    println!("# load average at end: {}", load());
    Ok(())
}
