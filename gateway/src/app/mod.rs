//! What the edges share: the complaints and the one way to run a command on them, the
//! table of commands, the clock, the consumers and the scheduler.

pub mod cases;
pub mod clock;
pub mod commands;
pub mod consumers;
pub(crate) mod handover;
pub mod runner;
pub mod scheduler;
pub mod state;
