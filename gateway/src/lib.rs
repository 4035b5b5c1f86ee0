//! The complaints gateway: the axum HTTP API, the event log wiring (postgres-es or
//! sqlite-es), and the `complaints` command line. Depends on the domain and projections;
//! nothing depends on it but the binary and the end-to-end tests.

pub use auth::{AuthSettings, Authenticator, Caller, Role};
pub use cases::{complaint_id_for_source, meta, CaseState, Cases, CommandContext, Executed};
pub use error::{ApiError, FieldError, PROBLEM_BASE};
pub use http::{london_date, parse_json, router, AppState, Clock, ComplaintView, BODY_LIMIT_BYTES};
pub use openapi::openapi;
pub use settings::Settings;
pub use store::{Database, EventLog, Pool};

pub mod audit;
mod auth;
pub mod bench;
mod cases;
pub mod commands;
pub mod consumers;
mod error;
pub mod export;
mod http;
pub mod nats;
mod openapi;
mod queries;
pub mod report_document;
pub mod scheduler;
mod secrets;
mod settings;
mod store;
pub mod telemetry;

use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Opens the event log for `settings`, migrating it.
pub async fn open_cases(settings: &Settings) -> Result<Cases, ApiError> {
    let services = settings.services()?;
    let log = EventLog::connect(&settings.database()).await?;
    log.migrate().await?;
    consumers::prepare(log.pool(), &services).await?;
    Ok(Cases::new(log, services))
}

/// Serves the API until `stop` is cancelled, then finishes in-flight requests.
pub async fn run(settings: Settings, stop: CancellationToken) -> anyhow::Result<()> {
    let cases = Arc::new(open_cases(&settings).await?);
    let auth = Arc::new(settings.authenticator()?);
    let audit_keys = Arc::new(audit::AuditKeys::load(&settings.audit, &settings.data_dir)?);
    let listener = tokio::net::TcpListener::bind(settings.bind).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        database = settings.database().kind(),
        calendar = cases.services().calendar.version(),
        consumers = settings.consumers,
        "serving"
    );
    let consumer_stop = stop.child_token();
    let js = settings.nats.connect().await?;
    let running = settings.consumers.then(|| {
        consumers::spawn_all(
            cases.log().pool(),
            consumer_list(&settings, cases.services(), js.as_ref()),
            &consumer_stop,
        )
    });
    let intake = js.clone().map(|js| {
        let clock: http::Clock = Arc::new(chrono::Utc::now);
        tokio::spawn(nats::run_intake(
            cases.clone(),
            auth.clone(),
            js,
            settings.nats.clone(),
            clock,
            consumer_stop.clone(),
        ))
    });
    let statuses = running
        .as_ref()
        .map(|r| r.statuses.clone())
        .unwrap_or_default();
    let scheduler_task = settings.consumers.then(|| {
        let clock: http::Clock = Arc::new(chrono::Utc::now);
        tokio::spawn(scheduler::run(
            cases.clone(),
            clock,
            SCHEDULER_INTERVAL,
            consumer_stop.clone(),
        ))
    });
    let notary = settings.consumers.then(|| {
        tokio::spawn(audit::run_notary(
            cases.log().pool().clone(),
            audit_keys.clone(),
            settings.audit.checkpoint_every,
            std::time::Duration::from_secs(settings.audit.checkpoint_seconds),
            consumer_stop.clone(),
        ))
    });
    let state = AppState::new(cases, auth)
        .with_consumers(statuses)
        .with_audit(audit_keys);
    let served = serve(listener, state, stop).await;
    consumer_stop.cancel();
    if let Some(task) = notary {
        let _ = task.await;
    }
    if let Some(running) = running {
        running.join().await;
    }
    if let Some(task) = scheduler_task {
        let _ = task.await;
    }
    if let Some(task) = intake {
        let _ = task.await;
    }
    served
}

/// The read models, plus the NATS relay when NATS is configured.
fn consumer_list(
    settings: &Settings,
    services: &complaints_domain::ComplaintServices,
    js: Option<&async_nats::jetstream::Context>,
) -> Vec<Arc<dyn complaints_projections::Projection>> {
    let mut list = consumers::projections(services);
    if let Some(js) = js {
        list.push(Arc::new(nats::Relay::new(
            js.clone(),
            settings.nats.clone(),
        )));
    }
    list
}

/// How often passed deadlines are turned into events.
const SCHEDULER_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs the consumers alone (a separate deployment of `complaints project`) until `stop`.
pub async fn project(settings: Settings, stop: CancellationToken) -> anyhow::Result<()> {
    let cases = open_cases(&settings).await?;
    let audit_keys = Arc::new(audit::AuditKeys::load(&settings.audit, &settings.data_dir)?);
    tracing::info!(database = settings.database().kind(), "running consumers");
    let cases = Arc::new(cases);
    let js = settings.nats.connect().await?;
    let running = consumers::spawn_all(
        cases.log().pool(),
        consumer_list(&settings, cases.services(), js.as_ref()),
        &stop,
    );
    let clock: http::Clock = Arc::new(chrono::Utc::now);
    let scheduler_task = tokio::spawn(scheduler::run(
        cases.clone(),
        clock,
        SCHEDULER_INTERVAL,
        stop.clone(),
    ));
    let notary = tokio::spawn(audit::run_notary(
        cases.log().pool().clone(),
        audit_keys,
        settings.audit.checkpoint_every,
        std::time::Duration::from_secs(settings.audit.checkpoint_seconds),
        stop.clone(),
    ));
    running.join().await;
    let _ = scheduler_task.await;
    let _ = notary.await;
    Ok(())
}

/// Serves on an already bound listener (port 0 in tests).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let app = router(state).layer(
        tower::ServiceBuilder::new()
            .layer(tower_http::trace::TraceLayer::new_for_http())
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                std::time::Duration::from_secs(30),
            )),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await?;
    Ok(())
}
