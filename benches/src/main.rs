// Over 600 lines: one run measures every path side by side and prints one table; the
// separate modes (relay, paced, encryption cost) already live in files of their own.
//! The side-by-side benchmark of issue 16, one command (see BENCHMARKS.md):
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run --release -p complaints-benches -- --commands 2000 --complaints 2000
//! ```
//!
//! In one run, on a fresh PostgreSQL schema (never shared state):
//! 1. the command path (receive, then acknowledge, of new complaints): in-process
//!    (`Cases::execute`), over HTTP (the real router on a local socket), beside a plain
//!    cqrs-es + postgres-es harness with a trivial aggregate doing the equal two commands
//!    in-process, and beside raw single-row `INSERT`s of equal rows; at 1 and 16 clients;
//!    the same in-process path on the embedded default (SQLite);
//! 2. a simulated workload bulk-loaded (`complaints simulate --via bulk`), then the rebuild
//!    of every read model and of the chain beside `COPY (SELECT * FROM events) TO STDOUT`;
//! 3. the regulator export of the largest organisation beside the same `COPY`.
//!
//! Figures go to stdout as one table of lines `name | value | comparison | ratio`.
#![allow(clippy::unwrap_used)]

use anyhow::Context;
use clap::Parser;
use complaints_domain::*;
use complaints_eventlog::{Database, EventLog, Pool};
use complaints_gateway::cli::simulate::{SimulateArgs, Via, Workload};
use complaints_gateway::{AppState, Authenticator, Cases, CommandContext, Role};
use futures::TryStreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod encryption;
mod paced;
mod per_event;
mod plain;
mod relay;

#[derive(Parser, Debug)]
#[command(about = "Issue 16 side-by-side benchmark")]
struct Args {
    /// Complaints created per command-path run (two commands each: receive, acknowledge).
    #[arg(long, default_value_t = 500)]
    commands: usize,
    /// Complaints simulated and bulk-loaded for the rebuild and export figures
    /// (decade scale: 2,500,000 with --years 10 --organisations 500; not run here).
    #[arg(long, default_value_t = 2000)]
    complaints: usize,
    /// Years of simulated receipts.
    #[arg(long, default_value_t = 2.0)]
    years: f64,
    /// Simulated organisations.
    #[arg(long, default_value_t = 20)]
    organisations: usize,
    /// Client counts for the command paths.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    clients: Vec<usize>,
    /// Skip the SQLite command path.
    #[arg(long)]
    no_sqlite: bool,
    /// Measure only what personal data encryption costs (on against off, same run).
    #[arg(long)]
    encryption_cost: bool,
    /// Measure only the NATS relay's catch-up beside JetStream's pipelined publish (NATS_URL).
    #[arg(long)]
    relay: bool,
    /// Events simulated and relayed for --relay.
    #[arg(long, default_value_t = 20_000)]
    relay_events: usize,
    /// Measure only receipts over HTTP offered at this fixed rate per second (open loop).
    #[arg(long)]
    paced: Option<f64>,
    /// Seconds of the --paced schedule.
    #[arg(long, default_value_t = 10.0)]
    paced_seconds: f64,
}

fn line(name: &str, value: f64, unit: &str, against: Option<(&str, f64)>) {
    match against {
        Some((what, base)) if base > 0.0 => println!(
            "{name} | {value:.0} {unit} | {what} {base:.0} {unit} | {:.3}x",
            value / base
        ),
        _ => println!("{name} | {value:.0} {unit} | | "),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn context(day: chrono::NaiveDate) -> CommandContext {
    CommandContext {
        actor: "bench".into(),
        role: "caseworker".into(),
        organisation_id: "BENCH".into(),
        command_id: None,
        fingerprint: "bench".into(),
        correlation_id: "bench".into(),
        causation_id: None,
        issued_at: chrono::Utc::now(),
        issued_on: day,
    }
}

fn receive(day: chrono::NaiveDate) -> ReceiveComplaint {
    ReceiveComplaint {
        organisation_id: "BENCH".into(),
        received_on: day,
        channel: Channel::Email,
        route: None,
        subject_areas: vec![SubjectArea::Communications],
        service_area: Some(ServiceArea::Outpatient),
        staff_groups: vec![StaffGroup::Medical],
        description: "bench complaint".into(),
        complainant: Person {
            name: "Bench Complainant".into(),
            ..Person::default()
        },
        representation_basis: None,
        person_affected: None,
        consent_required: None,
        matter_occurred_on: None,
        matter_came_to_notice_on: None,
        source: None,
        out_of_time_decision: None,
        eligibility: None,
        patient_age_band: None,
        complainant_status: None,
        site: None,
        kind: None,
        enquiry_type: None,
        provider_id: None,
        origin: None,
    }
}

fn acknowledge(day: chrono::NaiveDate) -> AcknowledgeComplaint {
    AcknowledgeComplaint {
        acknowledged_on: day,
        discussion_offered: true,
    }
}

/// Runs `per_client` over `total` items with `clients` tasks; returns commands/s and the
/// sorted latencies of each call.
async fn drive<F, Fut>(total: usize, clients: usize, f: F) -> anyhow::Result<(f64, Vec<Duration>)>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<usize>> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (f, next) = (f.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut commands = 0usize;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return Ok::<_, anyhow::Error>((commands, latencies));
                }
                let t = Instant::now();
                commands += f(n).await?;
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    let mut commands = 0;
    for task in tasks {
        let (c, l) = task.await??;
        commands += c;
        latencies.extend(l);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok((commands as f64 / elapsed.as_secs_f64(), latencies))
}

/// A seeded workload loaded straight through the log by 8 clients, quietly.
fn bulk_load(seed: u64, complaints: usize, years: f64, organisations: usize) -> SimulateArgs {
    SimulateArgs {
        seed,
        complaints,
        years,
        organisations,
        via: Via::Log,
        url: None,
        token: None,
        clients: 8,
        until: None,
        print_organisations: false,
        quiet: true,
    }
}

async fn open_cases(database: &Database, dir: &std::path::Path) -> anyhow::Result<Arc<Cases>> {
    let log = EventLog::connect(database).await?;
    log.migrate().await?;
    // Personal data encryption as the service runs it by default.
    let log = match complaints_gateway::app::cases::encryption(dir)? {
        Some(e) => log.with_encryption(e),
        None => log,
    };
    let services = ComplaintServices::standard();
    complaints_gateway::app::consumers::prepare(log.pool(), &services).await?;
    Ok(Arc::new(Cases::new(log, services)))
}

/// The two-command lifecycle (receive, acknowledge) in-process.
async fn in_process(
    cases: Arc<Cases>,
    total: usize,
    clients: usize,
) -> anyhow::Result<(f64, Vec<Duration>)> {
    let day = complaints_gateway::london_date(chrono::Utc::now());
    drive(total, clients, move |_| {
        let cases = cases.clone();
        async move {
            let id = uuid::Uuid::new_v4().to_string();
            cases
                .execute(
                    &id,
                    ComplaintAction::Receive(receive(day)),
                    &context(day),
                    None,
                )
                .await?;
            cases
                .execute(
                    &id,
                    ComplaintAction::Acknowledge(acknowledge(day)),
                    &context(day),
                    None,
                )
                .await?;
            Ok(2)
        }
    })
    .await
}

/// The same over HTTP, against the real router on a local socket.
async fn over_http(
    address: String,
    token: String,
    total: usize,
    clients: usize,
    prefer: &'static str,
) -> anyhow::Result<(f64, Vec<Duration>)> {
    let day = complaints_gateway::london_date(chrono::Utc::now());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    drive(total, clients, move |_| {
        let (client, address, token) = (client.clone(), address.clone(), token.clone());
        async move {
            let created: serde_json::Value = client
                .post(format!("{address}/v1/complaints"))
                .bearer_auth(&token)
                .header("Prefer", prefer)
                .json(&receive(day))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let id = created["id"].as_str().context("no id")?.to_string();
            client
                .post(format!("{address}/v1/complaints/{id}/acknowledgement"))
                .bearer_auth(&token)
                .header("Prefer", prefer)
                .json(&acknowledge(day))
                .send()
                .await?
                .error_for_status()?;
            Ok(2)
        }
    })
    .await
}

/// Raw single-row INSERTs of rows equal to the log's (same columns, same payload size),
/// autocommit, two per item.
async fn raw_inserts(
    pool: sqlx::PgPool,
    total: usize,
    clients: usize,
) -> anyhow::Result<(f64, Vec<Duration>)> {
    let (payload, metadata): (String, String) = sqlx::query_as(
        "SELECT payload::text, metadata::text FROM events ORDER BY global_position LIMIT 1",
    )
    .fetch_one(&pool)
    .await?;
    let (payload, metadata) = (Arc::new(payload), Arc::new(metadata));
    drive(total, clients, move |_| {
        let (pool, payload, metadata) = (pool.clone(), payload.clone(), metadata.clone());
        async move {
            let id = uuid::Uuid::new_v4().to_string();
            for sequence in 1..=2i64 {
                sqlx::query(
                    "INSERT INTO raw_events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                     VALUES ('Complaint', $1, $2, 'ComplaintReceived', '1.0', $3::json, $4::json)",
                )
                .bind(&id)
                .bind(sequence)
                .bind(payload.as_str())
                .bind(metadata.as_str())
                .execute(&pool)
                .await?;
            }
            Ok(2)
        }
    })
    .await
}

async fn copy_rate(pool: &sqlx::PgPool) -> anyhow::Result<(u64, f64, u64)> {
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?;
    let mut conn = pool.acquire().await?;
    let started = Instant::now();
    let mut stream = conn
        .copy_out_raw("COPY (SELECT * FROM events) TO STDOUT")
        .await?;
    let mut bytes = 0u64;
    while let Some(chunk) = stream.try_next().await? {
        bytes += chunk.len() as u64;
    }
    let took = started.elapsed().as_secs_f64();
    Ok((rows as u64, rows as f64 / took, bytes))
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The real router on a local socket over `cases`, with no consumers running, and a bearer
/// token for it; returns its address, the token, and what stops it.
pub(crate) async fn http_service(
    cases: Arc<Cases>,
) -> anyhow::Result<(String, String, tokio_util::sync::CancellationToken)> {
    let auth = Arc::new(Authenticator::with_secret(
        "bench-secret-bench-secret-bench-secret-01",
    ));
    let token = auth.mint(
        "bench",
        &["BENCH".to_string()],
        &[Role::Frontline, Role::Caseworker],
        chrono::Utc::now(),
        chrono::Duration::hours(4),
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(complaints_gateway::serve(
        listener,
        AppState::new(cases, auth),
        stop.clone(),
    ));
    Ok((address, token, stop))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let base =
        std::env::var("DATABASE_URL").context("set DATABASE_URL to a PostgreSQL database")?;
    if args.encryption_cost {
        return encryption::compare(&base, args.commands, &args.clients, args.complaints).await;
    }
    if args.relay {
        return relay::compare(&base, args.relay_events).await;
    }
    if let Some(rate) = args.paced {
        return paced::run(&base, rate, args.paced_seconds).await;
    }
    let dir = tempfile::tempdir()?;
    let url = complaints_testkit::fresh_schema(&base).await;
    let database = Database::Postgres(url.clone());
    let cases = open_cases(&database, dir.path()).await?;
    let Pool::Postgres(pg) = cases.log().pool().clone() else {
        anyhow::bail!("not PostgreSQL")
    };
    println!("# issue 16 benchmark; load average at start: {}", load());
    println!("figure | value | compared with | ratio");

    // The HTTP service over the same log (consumers off: the command path alone).
    let (address, token, stop) = http_service(cases.clone()).await?;

    // The plain harness in a schema of its own.
    let plain_url = complaints_testkit::fresh_schema(&base).await;
    let plain_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .connect(&plain_url)
        .await?;
    let plain = plain::Plain::new(plain_pool).await?;
    // A warm-up so every path starts with connections open.
    in_process(cases.clone(), 20, 4).await?;
    sqlx::query("CREATE TABLE raw_events (LIKE events INCLUDING DEFAULTS INCLUDING IDENTITY)")
        .execute(&pg)
        .await?;
    sqlx::query("ALTER TABLE raw_events ADD PRIMARY KEY (aggregate_type, aggregate_id, sequence)")
        .execute(&pg)
        .await?;

    for &clients in &args.clients {
        let n = args.commands;
        let (base_rate, base_lat) = plain.run(n, clients).await?;
        let (proc_rate, proc_lat) = in_process(cases.clone(), n, clients).await?;
        let (http_rate, http_lat) = over_http(
            address.clone(),
            token.clone(),
            n,
            clients,
            "return=representation",
        )
        .await?;
        // The answer without personal data: no access-log record, so no second commit.
        let (minimal_rate, _) =
            over_http(address.clone(), token.clone(), n, clients, "return=minimal").await?;
        let (raw_rate, _) = raw_inserts(pg.clone(), n, clients).await?;
        let l = load();
        let plain_name = format!("plain cqrs-es+postgres-es, {clients} clients");
        line(
            &format!("commands in-process, {clients} clients (load {l})"),
            proc_rate,
            "cmd/s",
            Some((&plain_name, base_rate)),
        );
        line(
            &format!("commands over HTTP, {clients} clients (load {l})"),
            http_rate,
            "cmd/s",
            Some((&plain_name, base_rate)),
        );
        line(
            &format!("commands over HTTP, Prefer: return=minimal, {clients} clients (load {l})"),
            minimal_rate,
            "cmd/s",
            Some((&plain_name, base_rate)),
        );
        line(
            &format!("raw single-row INSERTs, {clients} clients (load {l})"),
            raw_rate,
            "rows/s",
            Some((&plain_name, base_rate)),
        );
        line(
            &format!("commands over HTTP, {clients} clients"),
            http_rate,
            "cmd/s",
            Some(("raw INSERTs", raw_rate)),
        );
        for (name, lat) in [
            ("plain", &base_lat),
            ("in-process", &proc_lat),
            ("HTTP", &http_lat),
        ] {
            println!(
                "latency {name}, {clients} clients, per 2-command item | p50 {:.1?} p99 {:.1?} | |",
                percentile(lat, 0.5),
                percentile(lat, 0.99)
            );
        }
    }
    stop.cancel();

    if !args.no_sqlite {
        let sqlite_dir = tempfile::tempdir()?;
        let sqlite = open_cases(
            &Database::Sqlite(sqlite_dir.path().join("c.db")),
            sqlite_dir.path(),
        )
        .await?;
        for &clients in &args.clients {
            let (rate, lat) = in_process(sqlite.clone(), args.commands, clients).await?;
            println!(
                "SQLite commands in-process, {clients} clients (load {}) | {rate:.0} cmd/s, p99 per item {:.1?} | |",
                load(),
                percentile(&lat, 0.99)
            );
        }
    }

    // A simulated workload, bulk-loaded, then rebuilt beside COPY.
    let sim = bulk_load(16, args.complaints, args.years, args.organisations);
    let workload = Arc::new(Workload::new(&sim, cases.services().clone()));
    let loaded = complaints_gateway::cli::simulate_bulk::load_in_bulk(
        cases.clone(),
        workload.clone(),
        sim.complaints,
        2,
        true,
    )
    .await?;
    println!(
        "bulk load (simulate --via bulk), {} complaints (load {}) | {:.0} events/s ({} events, {} refused) | |",
        loaded.complaints,
        load(),
        loaded.events as f64 / loaded.elapsed.as_secs_f64(),
        loaded.events,
        loaded.refused.values().sum::<u64>()
    );
    let (rows, copy, bytes) = copy_rate(&pg).await?;
    println!(
        "COPY events TO STDOUT (load {}) | {copy:.0} rows/s ({rows} rows, {bytes} bytes) | |",
        load()
    );
    // Every read model but the chain from one reading of the log, as `complaints rebuild`
    // runs them.
    let read_models: Vec<_> = complaints_gateway::app::consumers::projections(cases.services())
        .into_iter()
        .filter(|p| p.name() != complaints_audit::sealer::NAME)
        .collect();
    let together: Vec<&dyn complaints_eventlog::Consumer> =
        read_models.iter().map(|p| p.as_ref()).collect();
    let t = Instant::now();
    let applied =
        complaints_eventlog::rebuild_together(cases.log().pool(), &together, &|_, _| {}).await?;
    anyhow::ensure!(
        applied.iter().all(|&n| n == rows),
        "rebuild together applied {applied:?} of {rows}"
    );
    line(
        &format!(
            "rebuild of every read model together, as `complaints rebuild` (load {})",
            load()
        ),
        rows as f64 / t.elapsed().as_secs_f64(),
        "events/s",
        Some(("COPY of the log", copy)),
    );
    for projection in complaints_gateway::app::consumers::projections(cases.services()) {
        let t = Instant::now();
        let applied =
            complaints_eventlog::rebuild(cases.log().pool(), projection.as_ref(), &|_, _| {})
                .await?;
        let rate = applied as f64 / t.elapsed().as_secs_f64();
        anyhow::ensure!(
            applied == rows,
            "rebuild of {} applied {applied} of {rows}",
            projection.name()
        );
        line(
            &format!("rebuild {} (load {})", projection.name(), load()),
            rate,
            "events/s",
            Some(("COPY of the log", copy)),
        );
    }

    // The sealer as it was (one INSERT per event) on the same log, and the two chains
    // compared row for row.
    let t = Instant::now();
    let applied =
        complaints_eventlog::rebuild(cases.log().pool(), &per_event::PerEventSealer, &|_, _| {})
            .await?;
    line(
        &format!(
            "rebuild sealer, per-event INSERT as before (load {})",
            load()
        ),
        applied as f64 / t.elapsed().as_secs_f64(),
        "events/s",
        Some(("COPY of the log", copy)),
    );
    let differing: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM ((SELECT * FROM audit_chain EXCEPT SELECT * FROM {0})
                               UNION ALL (SELECT * FROM {0} EXCEPT SELECT * FROM audit_chain)) d",
        per_event::TABLE
    ))
    .fetch_one(&pg)
    .await?;
    anyhow::ensure!(
        differing == 0,
        "the set-based and per-event chains differ in {differing} rows"
    );
    println!("set-based chain equals the per-event chain row for row | {applied} rows | |");

    // Export of the largest organisation beside COPY.
    let (organisation, _): (String, i64) = sqlx::query_as(
        "SELECT organisation_id, count(*) FROM audit_chain GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
    )
    .fetch_one(&pg)
    .await?;
    let keys = complaints_audit::AuditKeys::generate()?;
    let request = complaints_audit::export::ExportRequest {
        organisation,
        from: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).context("date")?,
        to: chrono::NaiveDate::from_ymd_opt(2100, 1, 1).context("date")?,
        recipient: "bench".into(),
    };
    let t = Instant::now();
    let mut sink = tokio::io::sink();
    let summary = complaints_audit::export::write_export(
        cases.log().pool(),
        &keys,
        &request,
        chrono::Utc::now(),
        &mut sink,
        &|_, _| {},
    )
    .await?;
    line(
        &format!(
            "export of one organisation ({} events, load {})",
            summary.count,
            load()
        ),
        summary.count as f64 / t.elapsed().as_secs_f64(),
        "events/s",
        Some(("COPY of the log", copy)),
    );
    println!("# load average at end: {}", load());
    Ok(())
}
