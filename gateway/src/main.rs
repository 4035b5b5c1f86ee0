//! `complaints`: the service and its operational commands.

use clap::{Parser, Subcommand};
use complaints_gateway::{open_cases, run, telemetry, Settings};
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

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
        Command::Migrate(settings) => {
            telemetry::init(&settings.log_format);
            open_cases(&settings)
                .await
                .map(|_| tracing::info!(database = settings.database().kind(), "migrated"))
                .map_err(Into::into)
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
