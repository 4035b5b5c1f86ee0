//! The read models.

pub mod case_views;
pub mod reporting;
pub mod sealer;

mod sql;
