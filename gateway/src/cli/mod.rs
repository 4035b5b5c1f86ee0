//! The operational subcommands of `complaints`, one file each; `main.rs` parses and
//! dispatches.

pub mod bench;
pub mod export;
pub mod healthcheck;
pub mod relay;
pub mod report;
pub mod token;
pub mod verify;
