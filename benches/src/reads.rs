//! Reads at scale: against a running service and its loaded database (the decade-scale
//! bulk load of `benches/decade.sh`), the latency of what people wait on: the deadline
//! board, a case-list page (first and deep), one case, its history, the annual report, and
//! the web pages for each. One client, requests one after another, each for a different
//! organisation or complaint sampled from the database, so caches see a realistic spread.
//!
//! ```sh
//! complaints-bench-reads --url http://127.0.0.1:8080 --token "$TOKEN" \
//!   --login-link "$LINK" --samples 300
//! ```
//! `DATABASE_URL` is read only to sample organisations and complaints.
#![allow(clippy::unwrap_used)]

use anyhow::Context;
use clap::Parser;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(about = "Read latencies of a loaded service (issue 16)")]
struct Args {
    /// The service's base URL.
    #[arg(long)]
    url: String,
    /// A bearer token acting for every organisation sampled (caseworker, reporting, auditor).
    #[arg(long, env = "COMPLAINTS_TOKEN", hide_env_values = true)]
    token: String,
    /// A one-time sign-in URL for the web pages (`complaints login-link`); pages are skipped
    /// without it.
    #[arg(long)]
    login_link: Option<String>,
    /// Requests per figure.
    #[arg(long, default_value_t = 300)]
    samples: usize,
    /// The financial year of the annual reports asked for.
    #[arg(long)]
    year: Option<i32>,
    /// PostgreSQL of the service, for sampling (defaults to DATABASE_URL).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
}

struct Figure {
    name: String,
    latencies: Vec<Duration>,
    bytes: usize,
    rows_note: String,
}

impl Figure {
    fn print(&mut self) {
        self.latencies.sort();
        let at = |p: f64| {
            self.latencies
                .get(((self.latencies.len().max(1) - 1) as f64 * p).round() as usize)
                .copied()
                .unwrap_or_default()
        };
        println!(
            "{} | p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms | {} requests, {:.1} KiB mean{} |",
            self.name,
            at(0.5).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
            at(1.0).as_secs_f64() * 1e3,
            self.latencies.len(),
            self.bytes as f64 / self.latencies.len().max(1) as f64 / 1024.0,
            self.rows_note
        );
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    cookie: Option<String>,
}

impl Client {
    async fn get(&self, path: &str, page: bool) -> anyhow::Result<(Duration, String)> {
        let mut request = self.http.get(format!("{}{path}", self.base));
        request = match (&self.cookie, page) {
            (Some(cookie), true) => request.header("cookie", cookie),
            _ => request.bearer_auth(&self.token),
        };
        let started = Instant::now();
        let reply = request.send().await?;
        let status = reply.status();
        let body = reply.text().await?;
        let took = started.elapsed();
        anyhow::ensure!(
            status.is_success(),
            "GET {path}: {status}: {}",
            body.chars().take(300).collect::<String>()
        );
        Ok((took, body))
    }

    /// Times `paths` one after another.
    async fn measure(
        &self,
        name: &str,
        paths: &[String],
        page: bool,
        rows: Option<&str>,
    ) -> anyhow::Result<()> {
        // A few unmeasured requests first: connections open, plans cached.
        for path in paths.iter().take(5) {
            self.get(path, page).await?;
        }
        let mut figure = Figure {
            name: name.into(),
            latencies: Vec::with_capacity(paths.len()),
            bytes: 0,
            rows_note: String::new(),
        };
        let mut row_counts = Vec::new();
        for path in paths {
            let (took, body) = self.get(path, page).await?;
            figure.latencies.push(took);
            figure.bytes += body.len();
            if let Some(field) = rows {
                let value: serde_json::Value = serde_json::from_str(&body)?;
                row_counts.push(value[field].as_array().map_or(0, Vec::len));
            }
        }
        if !row_counts.is_empty() {
            let mean = row_counts.iter().sum::<usize>() as f64 / row_counts.len() as f64;
            figure.rows_note = format!(", {mean:.0} rows per page");
        }
        figure.print();
        Ok(())
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" / "))
        .unwrap_or_default()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool = sqlx::PgPool::connect(&args.database_url)
        .await
        .context("DATABASE_URL")?;
    let (complaints, events): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM rm_case_list), (SELECT coalesce(max(global_position), 0) FROM events)",
    )
    .fetch_one(&pool)
    .await?;
    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&pool)
        .await?;
    println!(
        "loaded | {complaints} complaints, {events} events, database {:.1} GiB | load {} |",
        size as f64 / (1u64 << 30) as f64,
        load_average()
    );
    // A sample of complaints (so organisations weighted as the data is): for random points
    // in the id space, the first complaint at or after each, found through the key.
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as u64;
    let points: Vec<String> = (0..args.samples)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            format!("{:08x}", seed >> 32)
        })
        .collect();
    let sample: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.complaint_id, c.organisation_id FROM unnest($1::text[]) AS p(point),
         LATERAL (SELECT complaint_id, organisation_id FROM rm_case_list
                  WHERE complaint_id >= p.point ORDER BY complaint_id LIMIT 1) c",
    )
    .bind(&points)
    .fetch_all(&pool)
    .await?;
    anyhow::ensure!(
        sample.len() >= args.samples.min(10),
        "too few complaints to sample"
    );
    let year = match args.year {
        Some(y) => y,
        None => sqlx::query_scalar::<_, i32>(
            "SELECT CAST(extract(year FROM max(received_on) - interval '15 months') AS INTEGER) FROM rm_case_list",
        )
        .fetch_one(&pool)
        .await?,
    };
    pool.close().await;

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut client = Client {
        http,
        base: args.url.trim_end_matches('/').to_string(),
        token: args.token.clone(),
        cookie: None,
    };
    let orgs: Vec<&str> = sample.iter().map(|(_, o)| o.as_str()).collect();
    let ids: Vec<&str> = sample.iter().map(|(c, _)| c.as_str()).collect();
    let each = |f: &dyn Fn(&str) -> String, over: &[&str]| -> Vec<String> {
        over.iter().map(|x| f(x)).collect()
    };

    client
        .measure(
            "deadline board, first page",
            &each(
                &|o| format!("/v1/deadlines?organisation={o}&limit=50"),
                &orgs,
            ),
            false,
            Some("items"),
        )
        .await?;
    client
        .measure(
            "deadline board, overdue",
            &each(
                &|o| format!("/v1/deadlines?organisation={o}&overdue=true&limit=50"),
                &orgs,
            ),
            false,
            Some("items"),
        )
        .await?;
    client
        .measure(
            "case list, first page",
            &each(
                &|o| format!("/v1/complaints?organisation={o}&limit=50"),
                &orgs,
            ),
            false,
            Some("items"),
        )
        .await?;
    // Deep pages: the cursor after ten pages of each of a few organisations.
    let mut deep = Vec::new();
    for org in orgs.iter().take(args.samples.min(30)) {
        let mut path = format!("/v1/complaints?organisation={org}&limit=50");
        for _ in 0..10 {
            let (_, body) = client.get(&path, false).await?;
            let value: serde_json::Value = serde_json::from_str(&body)?;
            match value["next_cursor"].as_str() {
                Some(cursor) => {
                    path = format!("/v1/complaints?organisation={org}&limit=50&cursor={cursor}")
                }
                None => break,
            }
        }
        deep.push(path);
    }
    let deep_repeated: Vec<String> = deep.iter().cycle().take(orgs.len()).cloned().collect();
    client
        .measure(
            "case list, page 11 (by cursor)",
            &deep_repeated,
            false,
            Some("items"),
        )
        .await?;
    client
        .measure(
            "one case",
            &each(&|c| format!("/v1/complaints/{c}"), &ids),
            false,
            None,
        )
        .await?;
    client
        .measure(
            "one case's history",
            &each(&|c| format!("/v1/complaints/{c}/history"), &ids),
            false,
            None,
        )
        .await?;
    client
        .measure(
            &format!("annual report {year}-{}", (year + 1) % 100),
            &each(
                &|o| format!("/v1/reports/annual?organisation={o}&year={year}"),
                &orgs,
            ),
            false,
            None,
        )
        .await?;

    let Some(link) = &args.login_link else {
        println!("web pages | skipped: no --login-link | |");
        return Ok(());
    };
    let token = link
        .split_once("token=")
        .map(|(_, t)| t.to_string())
        .context("--login-link has no token")?;
    let reply = client
        .http
        .post(format!("{}/ui/login", client.base))
        .header("origin", &client.base)
        .form(&[("token", token)])
        .send()
        .await?;
    let cookie = reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    anyhow::ensure!(
        reply.status().is_redirection() && !cookie.is_empty(),
        "sign-in refused: {}",
        reply.status()
    );
    client.cookie = Some(cookie);
    client
        .measure(
            "page: deadline board",
            &each(&|o| format!("/ui/deadlines?organisation={o}"), &orgs),
            true,
            None,
        )
        .await?;
    client
        .measure(
            "page: case list",
            &each(&|o| format!("/ui/complaints?organisation={o}"), &orgs),
            true,
            None,
        )
        .await?;
    client
        .measure(
            "page: one case",
            &each(&|c| format!("/ui/complaints/{c}"), &ids),
            true,
            None,
        )
        .await?;
    client
        .measure(
            "page: annual report",
            &each(
                &|o| format!("/ui/reports?organisation={o}&year={year}"),
                &orgs,
            ),
            true,
            None,
        )
        .await?;
    println!("done | load {} | |", load_average());
    Ok(())
}
