//! The load: concurrent frontline clients, each receiving complaints under references of
//! its own and acknowledging them, over HTTP to whichever gateway answers. Like a real
//! frontline system it retries on connection errors, timeouts, 5xx, 409 and 429 with the
//! same `Idempotency-Key` and the same `source.reference`, and records what was answered 2xx.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The organisation the load acts for.
pub const ORGANISATION: &str = "FLT";
/// The frontline system named in every `source`.
pub const SOURCE_SYSTEM: &str = "fault-suite";

/// What the clients saw.
#[derive(Default)]
pub struct Record {
    /// Receipts answered 2xx: source reference → complaint id.
    pub received: Mutex<BTreeMap<String, String>>,
    /// Complaint ids whose acknowledgement was answered 2xx.
    pub acknowledged: Mutex<Vec<String>>,
    /// Attempts repeated after a failure.
    pub retries: AtomicU64,
    /// Failures that were retried: `connection` or the status code.
    pub retried_because: Mutex<BTreeMap<String, u64>>,
    /// The first body answered with each status that was retried (a 500 should not happen:
    /// an unknown outcome is 503).
    pub first_retried_answer: Mutex<BTreeMap<u16, String>>,
    /// Answers no retry can fix (a 4xx other than 409/429, or retries exhausted).
    pub failures: Mutex<Vec<String>>,
    /// Longest time one command took to be answered 2xx, retries included.
    pub longest: Mutex<Duration>,
}

impl Record {
    /// Commands answered 2xx.
    pub fn acknowledged_commands(&self) -> usize {
        self.received.lock().unwrap().len() + self.acknowledged.lock().unwrap().len()
    }
}

/// The running clients.
pub struct Load {
    /// What they saw.
    pub record: Arc<Record>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Longest a command keeps being retried before it counts as a failure.
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);

impl Load {
    /// Starts `clients` clients against `gateways` (base URLs), acting with `token`.
    pub fn start(clients: usize, gateways: Vec<String>, token: String, run: &str) -> Self {
        let record = Arc::new(Record::default());
        let stop = Arc::new(AtomicBool::new(false));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let tasks = (0..clients)
            .map(|n| {
                let client = Client {
                    http: http.clone(),
                    gateways: gateways.clone(),
                    token: token.clone(),
                    record: record.clone(),
                    next: n,
                };
                let stop = stop.clone();
                let prefix = format!("{run}-{n}");
                tokio::spawn(async move { client.run(&prefix, &stop).await })
            })
            .collect();
        Load {
            record,
            stop,
            tasks,
        }
    }

    /// Lets every client finish the complaint it is on, then returns.
    pub async fn finish(self) -> Arc<Record> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        self.record
    }
}

struct Client {
    http: reqwest::Client,
    gateways: Vec<String>,
    token: String,
    record: Arc<Record>,
    /// Which gateway the next attempt goes to.
    next: usize,
}

impl Client {
    async fn run(mut self, prefix: &str, stop: &AtomicBool) {
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let reference = format!("{prefix}-{n}");
            let receipt = serde_json::json!({
                "organisation_id": ORGANISATION, "received_on": "2026-04-02", "channel": "email",
                "subject_areas": ["communications"], "description": "fault suite",
                "complainant": {"name": "A"},
                "source": {"system": SOURCE_SYSTEM, "reference": reference}
            });
            let Some(created) = self
                .until_answered("/v1/complaints", &format!("receive-{reference}"), &receipt)
                .await
            else {
                return;
            };
            let Some(id) = created["id"].as_str().map(str::to_string) else {
                self.fail(format!("receive {reference}: no id in {created}"));
                return;
            };
            self.record
                .received
                .lock()
                .unwrap()
                .insert(reference.clone(), id.clone());
            let acknowledgement = serde_json::json!({"acknowledged_on": "2026-04-03"});
            if self
                .until_answered(
                    &format!("/v1/complaints/{id}/acknowledgement"),
                    &format!("acknowledge-{reference}"),
                    &acknowledgement,
                )
                .await
                .is_none()
            {
                return;
            }
            self.record.acknowledged.lock().unwrap().push(id);
        }
    }

    fn fail(&self, why: String) {
        self.record.failures.lock().unwrap().push(why);
    }

    /// POSTs until a 2xx, rotating gateways on every failure; `None` when it cannot be done.
    async fn until_answered(
        &mut self,
        path: &str,
        key: &str,
        body: &serde_json::Value,
    ) -> Option<serde_json::Value> {
        let started = Instant::now();
        let mut backoff = Duration::from_millis(50);
        loop {
            let gateway = &self.gateways[self.next % self.gateways.len()];
            let sent = self
                .http
                .post(format!("{gateway}{path}"))
                .bearer_auth(&self.token)
                .header("Idempotency-Key", key)
                .json(body)
                .send()
                .await;
            let why = match sent {
                Ok(response) if response.status().is_success() => {
                    match response.json::<serde_json::Value>().await {
                        Ok(answer) => {
                            let took = started.elapsed();
                            let mut longest = self.record.longest.lock().unwrap();
                            *longest = (*longest).max(took);
                            return Some(answer);
                        }
                        // Committed, but the answer was cut: the retry answers the same.
                        Err(_) => "answer cut".to_string(),
                    }
                }
                Ok(response)
                    if response.status().is_server_error()
                        || response.status() == 409
                        || response.status() == 429 =>
                {
                    let status = response.status().as_u16();
                    let text = response.text().await.unwrap_or_default();
                    self.record
                        .first_retried_answer
                        .lock()
                        .unwrap()
                        .entry(status)
                        .or_insert_with(|| text.chars().take(300).collect());
                    status.to_string()
                }
                Ok(response) => {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    self.fail(format!("POST {path} ({key}): {status} {text}"));
                    return None;
                }
                Err(_) => "connection".to_string(),
            };
            self.record.retries.fetch_add(1, Ordering::Relaxed);
            *self
                .record
                .retried_because
                .lock()
                .unwrap()
                .entry(why)
                .or_default() += 1;
            if started.elapsed() > GIVE_UP_AFTER {
                self.fail(format!(
                    "POST {path} ({key}): not answered in {GIVE_UP_AFTER:?}"
                ));
                return None;
            }
            self.next += 1;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }
}
