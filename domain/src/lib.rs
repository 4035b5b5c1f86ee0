//! The complaints domain: the `Complaint` aggregate, its commands, events and rules, the
//! England-and-Wales working-day calendar and the deadline policy.
//!
//! Pure, so that every rule can be tested and replayed: no I/O and no clock reads. Dates
//! come in with commands; the calendar and the organisation policies come in as
//! `Aggregate::Services`. Must not depend on sqlx, axum or NATS.
#![warn(missing_docs)]

pub use calendar::{easter_sunday, Calendar};
pub use case_kind::{CaseKind, CaseOrigin, EnquiryType, OriginRelation};
pub use commands::*;
pub use complaint::{
    deadline_statuses, deadlines, decide, evolve, response_due, stage_one_internal_target,
    stage_one_response_period, warnings, within_response_period, CaseWarning, Complaint, Status,
};
pub use deadlines::{DeadlineKind, DeadlineState, DeadlineStatus, Deadlines, ResponseDue};
pub use error::ComplaintError;
pub use events::*;
pub use facts::{
    ClockStop, Closure, ConsentRecord, ConsentState, Learning, LegalHold, LetterRecord, LinkedCase,
    PartRequest, Participant, ProgressContact, Receipt, Referral, RepresentativeGrounds,
    ResponsePlan, RiskGrade, SentResponse, TrackedRecommendation, UnreferredDecision,
};
pub use organisation::{
    Organisation, OrganisationType, Register, RegisterChange, RegisterHandle, ReturnCollection,
    Sector, Site,
};
pub use policy::{ComplaintServices, OrganisationPolicy, PolicyBook, RiskMatrix};
pub use redact::{
    is_confidential_schema, resolve_schema, schema_alternatives, stored_event_schema,
    strip_personal_data,
};
pub use reference::*;
pub use schema::{event_schemas, superseded_event_schemas, EventSchema, JSON_SCHEMA_DIALECT};

mod calendar;
pub mod case_kind;
pub mod code_lists;
mod commands;
mod complaint;
mod deadlines;
mod error;
mod events;
mod facts;
pub mod nhs_number;
pub mod organisation;
pub mod policy;
mod redact;
mod reference;
mod schema;
#[cfg(test)]
mod tests;
