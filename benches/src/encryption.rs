//! What personal data encryption costs (issue 12), side by side in one run: the same
//! in-process command path and the same read-model rebuilds over a log written with
//! encryption on (every personal field sealed, data keys written with the receipt) and over
//! one written with it off, each in a fresh schema. Rounds alternate so drifting machine
//! load falls on both sides alike; the median round is printed.

use crate::{in_process, line, load};
use complaints_domain::ComplaintServices;
use complaints_eventlog::crypto::{Encryption, LocalKek};
use complaints_eventlog::{Database, EventLog};
use complaints_gateway::cli::simulate::{self, Workload};
use complaints_gateway::Cases;
use std::sync::Arc;
use std::time::Instant;

async fn open(base: &str, encryption: Option<Arc<Encryption>>) -> anyhow::Result<Arc<Cases>> {
    let url = complaints_testkit::fresh_schema(base).await;
    let log = EventLog::connect(&Database::Postgres(url)).await?;
    log.migrate().await?;
    let log = match encryption {
        Some(e) => log.with_encryption(e),
        None => log,
    };
    let services = ComplaintServices::standard();
    complaints_gateway::app::consumers::prepare(log.pool(), &services).await?;
    Ok(Arc::new(Cases::new(log, services)))
}

fn median(mut rates: Vec<f64>) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

/// Prints the encryption cost figures: commands at each client count, then rebuilds.
pub async fn compare(
    base: &str,
    commands: usize,
    clients: &[usize],
    complaints: usize,
) -> anyhow::Result<()> {
    let encryption = Arc::new(Encryption::new(
        Arc::new(LocalKek::from_secret(b"bench-kek-bench-kek-bench-kek-0123")),
        b"bench-subject-secret".to_vec(),
    ));
    let sealed = open(base, Some(encryption)).await?;
    let clear = open(base, None).await?;
    println!(
        "# personal data encryption cost; load average at start: {}",
        load()
    );
    println!("figure | value | compared with | ratio");
    in_process(sealed.clone(), 20, 4).await?;
    in_process(clear.clone(), 20, 4).await?;
    const ROUNDS: usize = 3;
    for &n in clients {
        let (mut on, mut off) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            on.push(in_process(sealed.clone(), commands, n).await?.0);
            off.push(in_process(clear.clone(), commands, n).await?.0);
        }
        line(
            &format!(
                "commands in-process, encryption on, {n} clients (load {})",
                load()
            ),
            median(on),
            "cmd/s",
            Some(("encryption off", median(off))),
        );
    }

    // The same seeded workload into both logs, then every read model rebuilt over each.
    let sim = crate::bulk_load(12, complaints, 1.0, 10);
    let mut loaded_rates = Vec::new();
    for cases in [&sealed, &clear] {
        let workload = Arc::new(Workload::new(&sim, cases.services().clone()));
        let loaded =
            simulate::load_via_log(cases.clone(), workload, complaints, sim.clients, true).await?;
        loaded_rates.push((
            loaded.events,
            loaded.events as f64 / loaded.elapsed.as_secs_f64(),
        ));
    }
    anyhow::ensure!(
        loaded_rates[0].0 == loaded_rates[1].0,
        "the two logs differ: {} and {} events",
        loaded_rates[0].0,
        loaded_rates[1].0
    );
    line(
        &format!(
            "bulk load through the command path, encryption on, {} events (load {})",
            loaded_rates[0].0,
            load()
        ),
        loaded_rates[0].1,
        "events/s",
        Some(("encryption off", loaded_rates[1].1)),
    );
    let names: Vec<String> = complaints_gateway::app::consumers::projections(sealed.services())
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    for name in names {
        let (mut on, mut off) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            for (cases, rates) in [(&sealed, &mut on), (&clear, &mut off)] {
                let projections = complaints_gateway::app::consumers::projections(cases.services());
                let Some(projection) = projections.iter().find(|p| p.name() == name) else {
                    anyhow::bail!("no projection {name}");
                };
                let t = Instant::now();
                let applied = complaints_eventlog::rebuild(
                    cases.log().pool(),
                    projection.as_ref(),
                    &|_, _| {},
                )
                .await?;
                rates.push(applied as f64 / t.elapsed().as_secs_f64());
            }
        }
        line(
            &format!(
                "rebuild {name}, log written with encryption on (load {})",
                load()
            ),
            median(on),
            "events/s",
            Some(("log written with encryption off", median(off))),
        );
    }
    println!("# load average at end: {}", load());
    Ok(())
}
