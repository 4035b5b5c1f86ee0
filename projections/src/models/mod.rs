//! The read models.

pub mod case_views;
pub mod reporting;

mod sql;
