//! The consumers of the event log this deployment runs: the read models, the audit sealer
//! and (with NATS) the relay. Each runs as its own checkpointed consumer.

use crate::error::ApiError;
use complaints_domain::ComplaintServices;
use complaints_eventlog::{Consumer, ConsumerStatus, Pool, Runner};
use complaints_projections::models::case_views::CaseViews;
use complaints_projections::models::reporting::Reporting;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Every read model, in the order they are started.
pub fn projections(services: &ComplaintServices) -> Vec<Arc<dyn Consumer>> {
    vec![
        Arc::new(CaseViews::new(services.clone())),
        Arc::new(Reporting::new(services.clone())),
        Arc::new(complaints_audit::Sealer),
    ]
}

/// Creates every read model's tables (first run) so reads work before the first batch.
pub async fn prepare(pool: &Pool, services: &ComplaintServices) -> Result<(), ApiError> {
    for projection in projections(services) {
        complaints_eventlog::ensure(pool, projection.as_ref()).await?;
    }
    Ok(())
}

/// Running consumers: their statuses and tasks.
pub struct Running {
    /// Statuses for `/readyz` and `/metrics`.
    pub statuses: Vec<Arc<ConsumerStatus>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Waits for every consumer to stop (after `stop` was cancelled).
    pub async fn join(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Starts every read model until `stop`.
pub fn spawn(pool: &Pool, services: &ComplaintServices, stop: &CancellationToken) -> Running {
    spawn_all(pool, projections(services), stop)
}

/// Starts the given consumers until `stop`.
pub fn spawn_all(
    pool: &Pool,
    consumers: Vec<Arc<dyn Consumer>>,
    stop: &CancellationToken,
) -> Running {
    let mut statuses = Vec::new();
    let mut tasks = Vec::new();
    for projection in consumers {
        let runner = Runner::new(pool.clone(), projection);
        statuses.push(runner.status());
        tasks.push(tokio::spawn(runner.run(stop.clone())));
    }
    Running { statuses, tasks }
}

/// What a rebuild of the sealer must respect: the checkpoints witnessed outside the database,
/// and an operator's acceptance when the log no longer leads to them.
#[derive(Clone, Default)]
pub struct ChainGuard {
    /// The witnesses whose checkpoints bind the chain.
    pub witnesses: complaints_audit::Witnesses,
    /// `(who, why)` when an operator accepts a chain that disagrees with them.
    pub accept_break: Option<(String, String)>,
}

/// Refuses to rebuild the chain over a log that no longer leads to a witnessed checkpoint,
/// unless the break is accepted, in which case the acceptance is recorded first.
async fn guard_sealer_rebuild(pool: &Pool, guard: &ChainGuard) -> Result<(), ApiError> {
    let binding = match &guard.witnesses.directory {
        Some(dir) => dir.binding_checkpoints()?,
        None => Vec::new(),
    };
    let found = match complaints_audit::verify(pool, &binding, None, &|_, _| {}).await {
        Ok(_) => return Ok(()),
        Err(e @ complaints_audit::AuditError::ChainBroken { .. }) => e.to_string(),
        Err(other) => return Err(other.into()),
    };
    let Some((by, reason)) = &guard.accept_break else {
        return Err(ApiError::IntegrityCheck(format!(
            "refusing to rebuild the sealer: {found}; if this change of the log is known and              wanted, rebuild again with --accept-break \"<why>\" (recorded with who and when)"
        )));
    };
    let accepted = complaints_audit::AcceptedBreak {
        accepted_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        accepted_by: by.clone(),
        reason: reason.clone(),
        breaks: found,
    };
    complaints_audit::accept_break(pool, &guard.witnesses, &accepted).await?;
    Ok(())
}

/// Rebuilds one read model (or all but the sealer) from position zero, showing progress.
pub async fn rebuild(
    pool: &Pool,
    services: &ComplaintServices,
    only: Option<&str>,
    guard: &ChainGuard,
) -> Result<(), ApiError> {
    let all = projections(services);
    let chosen: Vec<_> = all
        .iter()
        // The sealer is rebuilt only when named: a rebuild recomputes the chain from the log
        // as it is now, so over a changed log only the signed checkpoints still tell.
        .filter(|p| match only {
            None => p.name() != complaints_audit::sealer::NAME,
            Some(name) => p.name() == name,
        })
        .collect();
    if chosen.is_empty() {
        let names: Vec<&str> = all.iter().map(|p| p.name()).collect();
        return Err(ApiError::Config(format!(
            "unknown projection `{}`; known: {}",
            only.unwrap_or_default(),
            names.join(", ")
        )));
    }
    if chosen
        .iter()
        .any(|p| p.name() == complaints_audit::sealer::NAME)
    {
        guard_sealer_rebuild(pool, guard).await?;
    }
    let names: Vec<&str> = chosen.iter().map(|p| p.name()).collect();
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(names.join(", "));
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    // One reading of the log feeds every read model chosen.
    let consumers: Vec<&dyn Consumer> = chosen.iter().map(|p| p.as_ref()).collect();
    let applied = complaints_eventlog::rebuild_together(pool, &consumers, &progress).await?;
    bar.finish();
    for (name, events) in names.iter().zip(applied) {
        tracing::info!(projection = name, events, "rebuilt");
    }
    Ok(())
}
