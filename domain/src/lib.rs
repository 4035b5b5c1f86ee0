//! The complaints domain: the `Complaint` aggregate, its commands, events and rules, the
//! England-and-Wales working-day calendar and the deadline policy.
//!
//! Pure: no I/O and no clock reads. Dates come in with commands; the calendar and the
//! organisation policies come in as `Aggregate::Services`. Must not depend on sqlx, axum
//! or NATS.
#![warn(missing_docs)]

pub use calendar::{easter_sunday, Calendar};
pub use commands::*;
pub use complaint::{
    decide, evolve, ClockStop, Closure, Complaint, ConsentState, Learning, LegalHold, Receipt,
    Referral, ResponsePlan, RiskGrade, SentResponse, Status,
};
pub use deadlines::{
    deadline_statuses, deadlines, response_due, DeadlineKind, DeadlineState, DeadlineStatus,
    Deadlines, ResponseDue,
};
pub use error::ComplaintError;
pub use events::*;
pub use policy::{ComplaintServices, OrganisationPolicy, PolicyBook, RiskMatrix};
pub use redact::strip_personal_data;
pub use reference::*;
pub use schema::{event_schemas, EventSchema, JSON_SCHEMA_DIALECT};

mod calendar;
mod commands;
mod complaint;
mod deadlines;
mod error;
mod events;
pub mod policy;
mod redact;
mod reference;
mod schema;
#[cfg(test)]
mod tests;
