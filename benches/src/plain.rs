//! The baseline: a plain cqrs-es + postgres-es harness with a trivial aggregate and no
//! project code. Its two commands match the project's: open (a new stream, one event) and
//! acknowledge (load one event, append one), each through `CqrsFramework::execute`.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use postgres_es::PostgresCqrs;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Ticket {
    opened: bool,
    acknowledged: bool,
}

#[derive(Debug)]
pub enum TicketCommand {
    Open { description: String },
    Acknowledge { on: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TicketEvent {
    Opened { description: String },
    Acknowledged { on: String },
}

impl DomainEvent for TicketEvent {
    fn event_type(&self) -> String {
        match self {
            TicketEvent::Opened { .. } => "Opened".into(),
            TicketEvent::Acknowledged { .. } => "Acknowledged".into(),
        }
    }
    fn event_version(&self) -> String {
        "1.0".into()
    }
}

#[derive(Debug)]
pub struct TicketError(String);

impl std::fmt::Display for TicketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TicketError {}

impl Aggregate for Ticket {
    const TYPE: &'static str = "Ticket";
    type Command = TicketCommand;
    type Event = TicketEvent;
    type Error = TicketError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            TicketCommand::Open { description } => {
                if self.opened {
                    return Err(TicketError("already open".into()));
                }
                sink.write(TicketEvent::Opened { description }, self).await;
            }
            TicketCommand::Acknowledge { on } => {
                if !self.opened || self.acknowledged {
                    return Err(TicketError("cannot acknowledge".into()));
                }
                sink.write(TicketEvent::Acknowledged { on }, self).await;
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            TicketEvent::Opened { .. } => self.opened = true,
            TicketEvent::Acknowledged { .. } => self.acknowledged = true,
        }
    }
}

/// The plain framework over its own schema.
pub struct Plain {
    cqrs: Arc<PostgresCqrs<Ticket>>,
}

impl Plain {
    /// Creates postgres-es's table in the pool's schema.
    pub async fn new(pool: sqlx::PgPool) -> anyhow::Result<Self> {
        sqlx::query(
            "CREATE TABLE events (aggregate_type text NOT NULL, aggregate_id text NOT NULL,
               sequence bigint CHECK (sequence >= 0) NOT NULL, event_type text NOT NULL,
               event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL,
               PRIMARY KEY (aggregate_type, aggregate_id, sequence))",
        )
        .execute(&pool)
        .await?;
        let cqrs = postgres_es::postgres_cqrs(pool, vec![], ());
        Ok(Self {
            cqrs: Arc::new(cqrs),
        })
    }

    /// `total` tickets opened then acknowledged by `clients` tasks: commands/s, latencies.
    pub async fn run(&self, total: usize, clients: usize) -> anyhow::Result<(f64, Vec<Duration>)> {
        let cqrs = self.cqrs.clone();
        crate::drive(total, clients, move |_| {
            let cqrs = cqrs.clone();
            async move {
                let id = uuid::Uuid::new_v4().to_string();
                cqrs.execute(
                    &id,
                    TicketCommand::Open {
                        description: "bench complaint".into(),
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                cqrs.execute(
                    &id,
                    TicketCommand::Acknowledge {
                        on: "2026-01-01".into(),
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(2)
            }
        })
        .await
    }
}
