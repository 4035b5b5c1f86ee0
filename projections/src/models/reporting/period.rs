//! Financial years, the years a report may be asked for, and the small counting helpers
//! the annual report and the KO41 return share (kept here so neither report depends on
//! the other).

use chrono::{Datelike, NaiveDate};
use std::collections::BTreeMap;

/// The code a complaint without a service area or staff group is counted under.
pub const NOT_RECORDED: &str = "not_recorded";

/// The first and last day of financial year `year` (1 April `year` to 31 March `year + 1`);
/// `None` for a year chrono cannot represent.
pub fn financial_year(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    let start = NaiveDate::from_ymd_opt(year, 4, 1)?;
    let end = NaiveDate::from_ymd_opt(year.checked_add(1)?, 3, 31)?;
    Some((start, end))
}

/// The financial year a day falls in (named by the calendar year it starts in).
pub fn financial_year_of(day: NaiveDate) -> i32 {
    if day.month() >= 4 {
        day.year()
    } else {
        day.year() - 1
    }
}

pub(super) fn within(day: Option<NaiveDate>, from: NaiveDate, to: NaiveDate) -> bool {
    day.is_some_and(|d| from <= d && d <= to)
}

pub(super) fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_string()).or_insert(0) += 1;
}

/// The earliest and latest financial years a report may be asked for.
pub const REPORT_YEARS: std::ops::RangeInclusive<i32> = 2009..=9998;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::models::reporting::fixtures::d;

    #[test]
    fn financial_years_run_from_april_to_march() {
        assert_eq!(
            financial_year(2025),
            Some((d("2025-04-01"), d("2026-03-31")))
        );
        assert_eq!(financial_year_of(d("2025-03-31")), 2024);
        assert_eq!(financial_year_of(d("2025-04-01")), 2025);
    }
}
