//! The event log: the append-only table of complaint events on PostgreSQL or SQLite, its
//! migrations, appending through postgres-es / sqlite-es, reading in commit-safe global
//! order, and the checkpointed consumer runner that every downstream effect (read models,
//! the NATS relay, the audit sealer) is built on.
//!
//! Depends on the domain and the database only: no HTTP, no NATS, no read model.

pub use bulk::NewStream;
pub use cloud_events::{case_kind_of, cloud_event, is_restricted, organisation_of};
pub use error::{is_connection_failure, EventLogError};
pub use health::{oldest_open_writer, OpenWriter};
pub use pool::{Backend, Pool, Tx};
pub use reader::{
    backlog, read_after, read_raw_after, read_stream, Checkpoint, RawEvent, StoredEvent,
};
pub use runner::{
    ensure, rebuild, rebuild_together, Consumer, ConsumerStatus, Generation, Lease, Progress,
    Runner, TableDef, ViewDoc,
};
pub use store::{Database, EventLog};

pub mod crypto;
pub mod keys;
pub mod metadata;
pub mod register;

mod bulk;
mod cloud_events;
mod error;
mod health;
mod pool;
mod reader;
mod runner;
mod store;
