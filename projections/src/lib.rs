//! Read models as pure folds over complaint events, their storage, and the checkpointed
//! consumer runner that feeds them from the event log in commit-safe order.
//!
//! Depends on the domain and sqlx only; knows nothing of HTTP or NATS.

pub use db::{Backend, Pool, Tx};
pub use error::ProjectionError;
pub use log::{
    backlog, read_after, read_raw_after, read_stream, Checkpoint, RawEvent, StoredEvent,
};
pub use runner::{
    ensure, rebuild, ConsumerStatus, Generation, Lease, Progress, Projection, Runner, TableDef,
};

pub mod models;
pub mod state;

mod db;
mod error;
mod log;
mod runner;
