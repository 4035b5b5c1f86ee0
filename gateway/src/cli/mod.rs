//! The operational subcommands of `complaints`, one file each; `main.rs` parses and
//! dispatches.

pub mod bench;
pub mod erase_subject;
pub mod export;
pub mod export_log;
pub mod healthcheck;
pub mod import_log;
pub mod login_link;
pub mod relay;
pub mod report;
pub mod retention;
pub mod rotate_kek;
pub mod simulate;
pub mod simulate_bulk;
pub mod subject_access;
pub mod token;
pub mod verify;
