//! The gateway's clock: the domain never reads one, so "today" is decided here, in England.

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

/// Reads the current time; replaceable in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// The civil date in England at `at`.
pub fn london_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Europe::London).date_naive()
}
