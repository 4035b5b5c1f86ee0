//! The edges of the complaints service: the axum HTTP API (`http`), NATS JetStream relay and
//! intake (`nats`), the command line (`cli`), and what they share (`app`: the one command
//! runner, the table of commands, the clock, the consumers and the scheduler), with
//! authentication, settings and telemetry. The rules live in the domain, the log in
//! `complaints-eventlog`, read models in `complaints-projections`, tamper evidence in
//! `complaints-audit`; this crate only wires them to the outside.

pub use app::cases::{CaseState, Cases, CommandContext, Executed};
pub use app::clock::{london_date, Clock};
pub use auth::{AuthSettings, Authenticator, Caller, Role};
pub use error::{ApiError, FieldError, PROBLEM_BASE};
pub use http::openapi::openapi;
pub use http::{parse_json, router, AppState, ComplaintView, BODY_LIMIT_BYTES};
pub use settings::{AuditSettings, Settings};

pub mod app;
pub mod cli;
pub mod http;
pub mod nats;
pub mod ui;

pub mod telemetry;

mod auth;
mod error;
mod settings;

use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Opens the event log for `settings`, migrating it.
pub async fn open_cases(settings: &Settings) -> Result<Cases, ApiError> {
    let services = settings.services()?;
    let log = complaints_eventlog::EventLog::connect(&settings.database()).await?;
    if settings.migrate {
        log.migrate().await?;
    } else {
        log.check_migrated().await?;
    }
    services.register.replace(
        complaints_eventlog::register::load(log.pool(), services.register.starting()).await?,
    );
    let log = match app::cases::encryption(&settings.data_dir)? {
        Some(encryption) => log.with_encryption(encryption),
        None => log,
    };
    app::consumers::prepare(log.pool(), &services).await?;
    Ok(Cases::new(log, services).with_id_key(settings.id_key()?))
}

/// How often a gateway reloads the organisation register, to take in changes recorded
/// through another gateway; changes made through this one apply at once.
const REGISTER_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

async fn refresh_register(cases: Arc<Cases>, stop: CancellationToken) {
    let mut tick = tokio::time::interval(REGISTER_REFRESH);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let register = &cases.services().register;
        match complaints_eventlog::register::load(cases.log().pool(), register.starting()).await {
            Ok(loaded) => register.replace(loaded),
            Err(error) => {
                tracing::warn!(%error, "organisation register not reloaded; the last one stays in force")
            }
        }
    }
}

/// Serves the API until `stop` is cancelled, then finishes in-flight requests.
pub async fn run(settings: Settings, stop: CancellationToken) -> anyhow::Result<()> {
    let cases = Arc::new(open_cases(&settings).await?);
    tokio::spawn(refresh_register(Arc::clone(&cases), stop.clone()));
    let auth = Arc::new(settings.authenticator()?);
    let audit_keys = Arc::new(settings.audit_keys()?);
    let ui_secret = settings.ui_key()?;
    let listener = tokio::net::TcpListener::bind(settings.bind).await?;
    let calendar =
        http::calendar_readiness(&cases.services().calendar, london_date(chrono::Utc::now()));
    if let Some(warning) = &calendar.warning {
        tracing::warn!(%warning, "calendar data runs out soon (R-BH-5)");
    }
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
        app::consumers::spawn_all(
            cases.log().pool(),
            consumer_list(&settings, cases.services(), js.as_ref()),
            &consumer_stop,
        )
    });
    let intake = js.clone().map(|js| {
        let clock = app::clock::system_clock();
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
        let clock = app::clock::system_clock();
        tokio::spawn(app::scheduler::run(
            cases.clone(),
            clock,
            SCHEDULER_INTERVAL,
            consumer_stop.clone(),
        ))
    });
    let witnesses = witnesses(&settings, js.as_ref());
    let notary = settings.consumers.then(|| {
        tokio::spawn(complaints_audit::run_notary(
            cases.log().pool().clone(),
            audit_keys.clone(),
            witnesses.clone(),
            settings.audit.checkpoint_every,
            std::time::Duration::from_secs(settings.audit.checkpoint_seconds),
            consumer_stop.clone(),
        ))
    });
    let state = AppState::new(cases, auth)
        .with_ui_secret(ui_secret)
        .with_consumers(statuses)
        .with_audit(audit_keys)
        .with_witnesses(witnesses);
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

/// Where signed checkpoints are kept outside the database: the witness directory, and the
/// NATS audit stream when NATS is configured.
fn witnesses(
    settings: &Settings,
    js: Option<&async_nats::jetstream::Context>,
) -> complaints_audit::Witnesses {
    let witnesses = complaints_audit::Witnesses::with_directory(settings.witness_dir());
    match js {
        Some(js) => witnesses.with(Arc::new(nats::NatsWitness::new(js.clone(), &settings.nats))),
        None => witnesses,
    }
}

/// The read models, plus the NATS relay when NATS is configured.
fn consumer_list(
    settings: &Settings,
    services: &complaints_domain::ComplaintServices,
    js: Option<&async_nats::jetstream::Context>,
) -> Vec<Arc<dyn complaints_eventlog::Consumer>> {
    let mut list = app::consumers::projections(services);
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
    let audit_keys = Arc::new(settings.audit_keys()?);
    tracing::info!(database = settings.database().kind(), "running consumers");
    let cases = Arc::new(cases);
    let js = settings.nats.connect().await?;
    let running = app::consumers::spawn_all(
        cases.log().pool(),
        consumer_list(&settings, cases.services(), js.as_ref()),
        &stop,
    );
    let clock = app::clock::system_clock();
    let scheduler_task = tokio::spawn(app::scheduler::run(
        cases.clone(),
        clock,
        SCHEDULER_INTERVAL,
        stop.clone(),
    ));
    let notary = tokio::spawn(complaints_audit::run_notary(
        cases.log().pool().clone(),
        audit_keys,
        witnesses(&settings, js.as_ref()),
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
