//! `complaints bench`: a load harness that prints figures. It drives complaints through
//! their lifecycle with concurrent in-process clients, then rebuilds every read model, and
//! reports throughput, latency percentiles and peak memory. Results are recorded in
//! `benches/RESULTS.md`.

use crate::app::cases::{Cases, CommandContext};
use crate::error::ApiError;
use chrono::{Days, NaiveDate, Utc};
use complaints_domain::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Complaints to drive through their lifecycle.
    #[arg(long, default_value_t = 2000)]
    pub complaints: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
}

fn context(issued_on: NaiveDate) -> CommandContext {
    CommandContext {
        actor: "bench".into(),
        role: "caseworker".into(),
        organisation_id: "BENCH".into(),
        command_id: None,
        fingerprint: "bench".into(),
        correlation_id: "bench".into(),
        causation_id: None,
        issued_at: Utc::now(),
        issued_on,
    }
}

fn lifecycle(n: usize) -> Vec<ComplaintAction> {
    let base = NaiveDate::from_ymd_opt(2025, 4, 1).unwrap_or_default();
    let day = |offset: u64| {
        base.checked_add_days(Days::new(offset + (n % 300) as u64))
            .unwrap_or(base)
    };
    let text = |s: &str| s.to_string();
    vec![
        ComplaintAction::Receive(ReceiveComplaint {
            organisation_id: "BENCH".into(),
            received_on: day(0),
            channel: Channel::Email,
            route: None,
            subject_areas: vec![SubjectArea::Communications],
            service_area: Some(ServiceArea::Outpatient),
            staff_groups: vec![StaffGroup::Medical],
            description: text("bench complaint"),
            complainant: Person {
                name: text("Bench Complainant"),
                ..Person::default()
            },
            representation_basis: None,
            person_affected: None,
            consent_required: None,
            matter_occurred_on: None,
            matter_came_to_notice_on: None,
            source: None,
            out_of_time_decision: None,
            eligibility: Some(Eligibility::ServiceUser),
            patient_age_band: Some(PatientAgeBand::Age16To64),
            complainant_status: Some(ComplainantStatus::Patient),
            site: Some("BENCH-01".into()),
            kind: None,
            enquiry_type: None,
            provider_id: None,
            origin: None,
        }),
        ComplaintAction::Acknowledge(AcknowledgeComplaint {
            acknowledged_on: day(2),
            discussion_offered: true,
        }),
        ComplaintAction::AssessRisk(AssessRisk {
            assessed_on: day(2),
            seriousness: text("medium"),
            likelihood: Likelihood::Possible,
        }),
        ComplaintAction::AgreeResponsePlan(AgreeResponsePlan {
            agreed_on: day(3),
            response_due_on: day(30),
            discussion_outcome: None,
        }),
        ComplaintAction::SendResponse(SendResponse {
            sent_on: day(25),
            outcome: if n.is_multiple_of(3) {
                Outcome::Upheld
            } else {
                Outcome::NotUpheld
            },
            signed_by: text("ceo"),
            signed_as: SignedAs::ResponsiblePerson,
            ombudsman_rights: vec![Ombudsman::Phso],
            letter: ResponseLetter {
                how_considered: text("a"),
                conclusions: text("b"),
                actions: text("c"),
            },
        }),
        ComplaintAction::RecordLearning(RecordLearning {
            recorded_on: day(26),
            kind: LearningKind::Lesson,
            summary: text("lesson"),
            action_due_on: None,
        }),
        ComplaintAction::Close(CloseComplaint {
            closed_on: day(27),
            reason: ClosureReason::Resolved,
            exclusion_category: None,
            transferred_to: None,
            receiver_received_on: None,
            complainant_consented: None,
        }),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Runs the harness and prints its figures.
pub async fn run(cases: Arc<Cases>, args: BenchArgs) -> Result<(), ApiError> {
    let today = crate::app::clock::london_date(Utc::now());
    println!(
        "bench: {} complaints x {} commands, {} clients, {} database",
        args.complaints,
        lifecycle(0).len(),
        args.clients,
        match cases.log().pool() {
            complaints_eventlog::Pool::Postgres(_) => "postgres",
            complaints_eventlog::Pool::Sqlite(_) => "sqlite",
        }
    );
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..args.clients.max(1) {
        let cases = cases.clone();
        let next = next.clone();
        let total = args.complaints;
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= total {
                    return Ok::<_, ApiError>(latencies);
                }
                let id = uuid::Uuid::new_v4().to_string();
                for action in lifecycle(n) {
                    let t = Instant::now();
                    cases.execute(&id, action, &context(today), None).await?;
                    latencies.push(t.elapsed());
                }
            }
        }));
    }
    let mut latencies = Vec::new();
    for client in clients {
        latencies.extend(client.await.map_err(|e| ApiError::Internal(e.into()))??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "commands: {} in {:.2?} = {:.0}/s; latency p50 {:.2?}, p95 {:.2?}, p99 {:.2?}, max {:.2?}",
        latencies.len(),
        elapsed,
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default(),
    );

    let in_log: i64 = complaints_eventlog::on_pool!(cases.log().pool(), |p| {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(p)
            .await
    })
    .map_err(|e| ApiError::Internal(e.into()))?;
    for projection in crate::app::consumers::projections(cases.services()) {
        let t = Instant::now();
        let applied =
            complaints_eventlog::rebuild(cases.log().pool(), projection.as_ref(), &|_, _| {})
                .await
                .map_err(|e| ApiError::Internal(e.into()))?;
        let took = t.elapsed();
        if applied != in_log as u64 {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "rebuild of {} applied {applied} events but the log holds {in_log}",
                projection.name()
            )));
        }
        println!(
            "rebuild {}: {} events (all of the log) in {:.2?} = {:.0} events/s",
            projection.name(),
            applied,
            took,
            applied as f64 / took.as_secs_f64()
        );
    }

    let calendar = &cases.services().calendar;
    let t = Instant::now();
    let mut day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    for _ in 0..100_000 {
        day = calendar.add_working_days(day, 3);
        if day.year_ce().1 > 2027 {
            day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
        }
    }
    let took = t.elapsed();
    println!(
        "calendar: 100000 acknowledge-by computations in {took:.2?} ({:.0} ns each)",
        took.as_nanos() as f64 / 100_000.0
    );
    if let Some(kib) = crate::telemetry::peak_rss_kib() {
        println!("peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
    Ok(())
}

use chrono::Datelike;
