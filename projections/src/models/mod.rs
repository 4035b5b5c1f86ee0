//! The read models.

pub mod case_views;
pub mod comments;
pub mod reporting;

pub(crate) mod batch;
mod sql;
