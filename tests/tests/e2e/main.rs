//! The end-to-end tests as one test binary (one link, one process): the HTTP API and its
//! rules on both backends, the event-log conformance suite, the consumers' exactly-once and
//! rebuild suite, audit and exports, personal data, reports, operations, schema drift.
//! Run one group with `cargo test -p complaints-tests --test e2e <module>::`.

mod api;
mod audit;
mod cancellation;
mod consumers;
mod event_log;
mod lifecycle;
mod operations;
mod personal_data;
mod read_models;
mod reports;
mod schemas;
