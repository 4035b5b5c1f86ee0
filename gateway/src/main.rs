//! `complaints`: the service and its operational commands.

use clap::{Parser, Subcommand};
use complaints_gateway::app::consumers;
use complaints_gateway::cli;
use complaints_gateway::{nats, open_cases, project, run, telemetry, Settings};
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

// Folding a batch of the log builds and drops many small JSON values; the system allocator
// spent about half of a rebuild's CPU time in malloc and free (perf, BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "complaints",
    version,
    about = "Health and social care complaints case tracking"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (embedded SQLite unless DATABASE_URL is set).
    Serve(Settings),
    /// Apply database migrations and exit.
    Migrate(Settings),
    /// Run the event-log consumers (read models) without the HTTP API.
    Project(Settings),
    /// Rebuild read models from position zero while the live ones keep answering.
    Rebuild {
        /// Only this read model (default: all but the sealer).
        #[arg(long)]
        projection: Option<String>,
        /// Rebuild the sealer even though the log no longer leads to a witnessed checkpoint
        /// (a restored backup, a repaired log); the reason is recorded with who and when.
        #[arg(long, value_name = "WHY")]
        accept_break: Option<String>,
        /// Who accepts the break (default: the login name).
        #[arg(long, value_name = "NAME")]
        accepted_by: Option<String>,
        #[command(flatten)]
        settings: Settings,
    },
    /// Load harness: drive complaints through their lifecycle and rebuild the read models,
    /// printing throughput, latency and memory (see benches/RESULTS.md).
    Bench {
        #[command(flatten)]
        bench: cli::bench::BenchArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Seeded, realistic workload: drive the HTTP API (`--via http`) or bulk-load the event
    /// log (`--via log`), with a progress bar and a summary (see BENCHMARKS.md).
    Simulate {
        #[command(flatten)]
        simulate: cli::simulate::SimulateArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Publish every event from a log position again to the NATS events stream (refill a
    /// lost or rebuilt stream); consumers that de-duplicate by event id see each once.
    Relay {
        /// First global log position to publish.
        #[arg(long, default_value_t = 0)]
        from_position: i64,
        #[command(flatten)]
        settings: Settings,
    },
    /// Follow the NATS events stream, one CloudEvent per line (an example for reporting jobs).
    Tail {
        /// Subject filter, e.g. `complaints.events.RAL.>` (default: every event).
        #[arg(long)]
        subject: Option<String>,
        /// Start at this stream sequence.
        #[arg(long)]
        from_sequence: Option<u64>,
        /// Start at this time (RFC 3339).
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Stop after this many messages.
        #[arg(long)]
        count: Option<u64>,
        #[command(flatten)]
        settings: Settings,
    },
    /// Probe the running service (for container health checks): exit 0 when `/healthz`
    /// (or `/readyz` with --ready) answers 200 on the bind address.
    Healthcheck {
        /// Probe readiness rather than liveness.
        #[arg(long)]
        ready: bool,
        #[command(flatten)]
        settings: Settings,
    },
    /// Mint a bearer token with the embedded default's HS256 secret.
    Token(cli::token::TokenArgs),
    /// Print a one-time sign-in URL for the web pages (`/ui`).
    LoginLink(cli::login_link::LoginLinkArgs),
    /// Destroy one data subject's data key: their personal fields in every complaint then
    /// read "[erased]"; the log, the chain and the reports are unchanged.
    EraseSubject {
        #[command(flatten)]
        args: cli::erase_subject::EraseSubjectArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Re-wrap every data key under the current key-encryption key (`COMPLAINTS_KEK_FILE`),
    /// reading keys wrapped by an older one listed in `COMPLAINTS_PREVIOUS_KEK_FILES`. The
    /// event log is not touched.
    RotateKek {
        #[command(flatten)]
        settings: Settings,
    },
    /// Write everything held about one data subject to a JSON file (subject access).
    SubjectAccess {
        #[command(flatten)]
        args: cli::subject_access::SubjectAccessArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Erase the personal data of case files past retention (R-RET-1); --dry-run lists them.
    Retention {
        #[command(flatten)]
        args: cli::retention::RetentionArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Recompute the audit hash chain from the log and compare it with the sealed links (and
    /// signed checkpoints given with --against); prints the verified head or names the first
    /// position where the chain breaks.
    Verify {
        #[command(flatten)]
        args: cli::verify::VerifyArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Export one organisation's events for a period as CloudEvents NDJSON for a regulator:
    /// personal data removed, complaint ids pseudonymised, chain links and a signed manifest.
    Export {
        #[command(flatten)]
        args: cli::export::ExportArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Check a received export on its own: line hash, count, positions, manifest signature.
    VerifyExport(cli::export::VerifyExportArgs),
    /// Write the whole event log (metadata, recording times, positions, chain links) to an
    /// NDJSON file with a manifest (count, SHA-256): a backup, or a move to another database.
    ExportLog {
        #[command(flatten)]
        args: cli::export_log::ExportLogArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Load a file written by `export-log` into an empty database, checking its hash and
    /// chain first, then rebuild the read models and seal.
    ImportLog {
        #[command(flatten)]
        args: cli::import_log::ImportLogArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Render reports: the regulation 18 annual report, the national return.
    Report {
        #[command(subcommand)]
        report: complaints_gateway::cli::report::ReportCommand,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(settings) => {
            telemetry::init(&settings.log_format);
            let stop = CancellationToken::new();
            tokio::spawn(cancel_on_signal(stop.clone()));
            run(settings, stop).await
        }
        Command::Migrate(mut settings) => {
            telemetry::init(&settings.log_format);
            settings.migrate = true;
            open_cases(&settings)
                .await
                .map(|_| tracing::info!(database = settings.database().kind(), "migrated"))
                .map_err(Into::into)
        }
        Command::Token(args) => cli::token::mint(args),
        Command::LoginLink(args) => cli::login_link::print(args).await,
        Command::Healthcheck { ready, settings } => cli::healthcheck::probe(settings.bind, ready)
            .await
            .map_err(Into::into),
        Command::EraseSubject { args, settings } => {
            telemetry::init(&settings.log_format);
            cli::erase_subject::run(args, &settings)
                .await
                .and_then(print_json)
                .map_err(Into::into)
        }
        Command::RotateKek { settings } => {
            telemetry::init(&settings.log_format);
            cli::rotate_kek::run(&settings)
                .await
                .and_then(print_json)
                .map_err(Into::into)
        }
        Command::SubjectAccess { args, settings } => {
            telemetry::init(&settings.log_format);
            let out = args.out.clone();
            cli::subject_access::run(args, &settings)
                .await
                .map(|subject| {
                    println!(
                        "wrote the subject access export of {subject} to {}",
                        out.display()
                    )
                })
                .map_err(Into::into)
        }
        Command::Retention { args, settings } => {
            telemetry::init(&settings.log_format);
            cli::retention::run(args, &settings)
                .await
                .and_then(print_json)
                .map_err(Into::into)
        }
        Command::Verify { args, settings } => {
            telemetry::init(&settings.log_format);
            cli::verify::verify_command(args, &settings)
                .await
                .map(|report| println!("{report}"))
                .map_err(Into::into)
        }
        Command::Export { args, settings } => {
            telemetry::init(&settings.log_format);
            cli::export::export_command(args, &settings)
                .await
                .map(|_| ())
                .map_err(Into::into)
        }
        Command::VerifyExport(args) => cli::export::verify_export_command(&args)
            .map(|check| println!("{check}"))
            .map_err(Into::into),
        Command::ExportLog { args, settings } => {
            telemetry::init(&settings.log_format);
            cli::export_log::export_log_command(args, &settings)
                .await
                .map(|summary| eprintln!("{summary}"))
                .map_err(Into::into)
        }
        Command::ImportLog { args, settings } => {
            telemetry::init(&settings.log_format);
            cli::import_log::import_log_command(args, &settings)
                .await
                .map(|summary| eprintln!("{summary}"))
                .map_err(Into::into)
        }
        Command::Report { report } => {
            telemetry::init(&report.settings().log_format);
            complaints_gateway::cli::report::report_command(report)
                .await
                .map_err(Into::into)
        }
        Command::Bench { bench, settings } => {
            telemetry::init(&settings.log_format);
            match open_cases(&settings).await {
                Ok(cases) => cli::bench::run(std::sync::Arc::new(cases), bench)
                    .await
                    .map_err(Into::into),
                Err(e) => Err(e.into()),
            }
        }
        Command::Simulate { simulate, settings } => {
            telemetry::init(&settings.log_format);
            cli::simulate::run(simulate, &settings).await
        }
        Command::Relay {
            from_position,
            settings,
        } => {
            telemetry::init(&settings.log_format);
            cli::relay::relay(from_position, settings).await
        }
        Command::Tail {
            subject,
            from_sequence,
            since,
            count,
            settings,
        } => {
            telemetry::init(&settings.log_format);
            let stop = CancellationToken::new();
            tokio::spawn(cancel_on_signal(stop.clone()));
            match settings.nats.connect().await {
                Ok(Some(js)) => nats::tail(
                    js,
                    &settings.nats,
                    subject,
                    from_sequence,
                    since,
                    count,
                    stop,
                )
                .await
                .map_err(Into::into),
                Ok(None) => Err(anyhow::anyhow!("NATS_URL is not set")),
                Err(e) => Err(e.into()),
            }
        }
        Command::Project(settings) => {
            telemetry::init(&settings.log_format);
            let stop = CancellationToken::new();
            tokio::spawn(cancel_on_signal(stop.clone()));
            project(settings, stop).await
        }
        Command::Rebuild {
            projection,
            accept_break,
            accepted_by,
            settings,
        } => {
            telemetry::init(&settings.log_format);
            let guard = consumers::ChainGuard {
                witnesses: complaints_audit::Witnesses::with_directory(settings.witness_dir()),
                accept_break: accept_break.map(|why| {
                    let by = accepted_by
                        .or_else(|| std::env::var("USER").ok())
                        .unwrap_or_else(|| "operator".into());
                    (by, why)
                }),
            };
            match open_cases(&settings).await {
                Ok(cases) => consumers::rebuild(
                    cases.log().pool(),
                    cases.services(),
                    projection.as_deref(),
                    &guard,
                )
                .await
                .map_err(Into::into),
                Err(e) => Err(e.into()),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a command's report as pretty JSON on standard output.
fn print_json(report: impl serde::Serialize) -> Result<(), complaints_gateway::ApiError> {
    let text = serde_json::to_string_pretty(&report)
        .map_err(|e| complaints_gateway::ApiError::Internal(e.into()))?;
    println!("{text}");
    Ok(())
}

async fn cancel_on_signal(stop: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    stop.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
    stop.cancel();
}
