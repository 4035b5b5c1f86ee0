//! `complaints simulate --via bulk`: the simulated workload decided in memory and written
//! many complaints per transaction (`EventLog::append_new_streams`), sealed as the service
//! seals. For national-scale data (millions of complaints) where `--via log`, a
//! transaction per command, would take hours. Every event is still decided by the real
//! aggregate, as of its command's own day; refused commands are counted and not written.

use super::simulate::{metadata, progress, route_and_body, Script, Summary, Workload};
use crate::app::cases::Cases;
use crate::error::ApiError;
use complaints_domain::*;
use complaints_eventlog::NewStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Complaints per transaction: large enough that a commit is rare, small enough that a
/// batch's statements stay well inside the backends' parameter limits.
pub const COMPLAINTS_PER_BATCH: usize = 1_000;

/// Decides every command of `script` against the aggregate, in order, as of its own day.
fn decide_stream(
    cases: &Cases,
    workload: &Workload,
    script: &Script,
    summary: &mut Summary,
) -> Result<NewStream, ApiError> {
    let mut case = Complaint::default();
    let mut events = Vec::new();
    summary.complaints += 1;
    for (k, step) in script.steps.iter().enumerate() {
        let (route, body) = route_and_body(&step.action)?;
        let metadata = metadata(cases, script, k, step, route.unwrap_or("receive"), &body)?;
        let command = ComplaintCommand {
            issued_on: step.day,
            action: step.action.clone(),
        };
        match decide(&case, command, workload.services()) {
            Ok(decided) => {
                summary.commands += 1;
                for event in decided {
                    evolve(&mut case, event.clone());
                    events.push((event, metadata.clone()));
                }
            }
            Err(rule) => *summary.refused.entry(rule.code().to_string()).or_default() += 1,
        }
    }
    summary.events += events.len() as u64;
    Ok(NewStream {
        complaint_id: script.id.to_string(),
        events,
    })
}

/// Bulk-loads the workload: `clients` writers, each deciding a batch of complaints in
/// memory and appending it in one transaction; then `ANALYZE` on PostgreSQL.
pub async fn load_in_bulk(
    cases: Arc<Cases>,
    workload: Arc<Workload>,
    complaints: usize,
    clients: usize,
    quiet: bool,
) -> Result<Summary, ApiError> {
    let started = Instant::now();
    let bar = progress(complaints, quiet);
    let next = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for _ in 0..clients.max(1) {
        let (cases, workload, next, bar) =
            (cases.clone(), workload.clone(), next.clone(), bar.clone());
        writers.push(tokio::spawn(async move {
            let mut summary = Summary::default();
            loop {
                let from = next.fetch_add(COMPLAINTS_PER_BATCH, Ordering::Relaxed);
                if from >= complaints {
                    return Ok::<_, ApiError>(summary);
                }
                let to = (from + COMPLAINTS_PER_BATCH).min(complaints);
                // Deciding is CPU work: off the runtime's I/O threads.
                let decided = {
                    let (cases, workload) = (cases.clone(), workload.clone());
                    tokio::task::spawn_blocking(move || {
                        let mut summary = Summary::default();
                        let mut streams = Vec::with_capacity(to - from);
                        for n in from..to {
                            let (script, shape) = workload.script(n);
                            summary.shape.merge(&shape);
                            streams.push(decide_stream(&cases, &workload, &script, &mut summary)?);
                        }
                        Ok::<_, ApiError>((streams, summary))
                    })
                    .await
                    .map_err(|e| ApiError::Internal(e.into()))??
                };
                let (streams, batch_summary) = decided;
                cases.log().append_new_streams(&streams).await?;
                summary.merge(batch_summary);
                bar.inc((to - from) as u64);
            }
        }));
    }
    let mut summary = Summary::default();
    for writer in writers {
        summary.merge(writer.await.map_err(|e| ApiError::Internal(e.into()))??);
    }
    bar.finish_and_clear();
    super::simulate::analyze_loaded(&cases).await?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}
