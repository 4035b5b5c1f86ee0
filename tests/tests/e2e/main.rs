//! The end-to-end tests as one test binary (one link, one process): the HTTP API and its
//! rules on both backends, the event-log conformance suite, audit and exports, personal
//! data, reports, operations, schema drift. The consumer suite (`tests/consumers.rs`) is a
//! binary of its own: it asserts commit-safe ordering, which any transaction held open
//! elsewhere on the same server delays, so it does not share a process with these.
//! Run one group with `cargo test -p complaints-tests --test e2e <module>::`.

mod api;
mod audit;
mod bulk_load;
mod cancellation;
mod event_log;
mod joint;
mod lifecycle;
mod operations;
mod organisations;
mod personal_data;
mod read_models;
mod reports;
mod schemas;
