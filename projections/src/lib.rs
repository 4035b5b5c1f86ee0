//! Read models: pure folds over complaint events into tables (case list, deadlines, the
//! annual report and the national return), fed by the event log's consumer runner.
//!
//! Depends on the domain and the event log only; knows nothing of HTTP, NATS or the audit
//! chain.

pub use error::ProjectionError;

pub mod models;
pub mod state;

mod error;
