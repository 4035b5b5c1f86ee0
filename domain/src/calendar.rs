// Over 600 lines: its tests carry the dated holiday tables of docs/RULES.md (calendar and worked dates)
// and the operator-file merge cases.
//! The England-and-Wales working-day calendar (R-WD-1, R-BH-1..R-BH-6).
//!
//! A working day is any day except Saturday, Sunday and an England-and-Wales bank holiday;
//! Christmas Day and Good Friday count as bank holidays here. Holidays come from data in the
//! GOV.UK `bank-holidays.json` format for the years it covers (an operator file laid over the
//! shipped file, R-BH-5), and from the regular rules (R-BH-1, R-BH-2) for every other year.
//! One-off days (R-BH-3: jubilees, a state funeral, a coronation) exist only in data, never in
//! the rules.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

use crate::error::ComplaintError;

/// The data file shipped with the release (see `domain/data/README.md`).
const SHIPPED_JSON: &str = include_str!("../data/bank-holidays-england-and-wales.json");

/// The day the shipped data file was last checked against GOV.UK; update it with the file.
const SHIPPED_AS_OF: &str = "2026-11-21";

/// The only GOV.UK division this calendar uses.
const DIVISION: &str = "england-and-wales";

/// England-and-Wales working-day calendar.
///
/// Built from data for the years the data covers ([`Calendar::covered_years`]) and from the
/// regular rules for all other years. Cheap to query: no lookup allocates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// Shown beside every deadline so a reader knows which holidays it was computed with.
    version: String,
    /// Every holiday of the covered years, by date. Empty when `covered` is empty.
    holidays: BTreeMap<NaiveDate, String>,
    /// The years taken from data as inclusive spans, ascending and neither overlapping nor
    /// touching. More than one only when an operator file leaves a hole after the shipped data.
    covered: Vec<(i32, i32)>,
    /// Shipped years an operator file lacks (they keep the shipped data), kept so the gateway
    /// can warn: the operator may believe the file is all that is in force (R-BH-5).
    missing_from_operator_file: Vec<(i32, i32)>,
}

impl Calendar {
    /// The calendar shipped with the release: the data file
    /// `domain/data/bank-holidays-england-and-wales.json` (2012–2028) for the years it covers,
    /// the rules for every other year.
    ///
    /// The file is compiled in, and a unit test proves it parses. Should it ever fail to parse
    /// anyway, this falls back to [`Calendar::rules_only`] under a version that says so, rather
    /// than panicking: deadlines stay right except on one-off holidays.
    pub fn shipped() -> Calendar {
        static SHIPPED: OnceLock<Calendar> = OnceLock::new();
        SHIPPED
            .get_or_init(|| match parse_govuk(SHIPPED_JSON) {
                Ok((holidays, (first, last))) => Calendar {
                    version: format!("{DIVISION} {first}-{last} ({SHIPPED_AS_OF})"),
                    holidays,
                    covered: vec![(first, last)],
                    missing_from_operator_file: Vec::new(),
                },
                Err(_) => Calendar {
                    version: format!("{DIVISION} rules only (shipped data unreadable)"),
                    ..Calendar::rules_only()
                },
            })
            .clone()
    }

    /// The shipped calendar with an operator-supplied file in the GOV.UK `bank-holidays.json`
    /// format laid over it (R-BH-5, R-BH-6): what `COMPLAINTS_CALENDAR_FILE` loads.
    ///
    /// The years from the file's earliest to its latest `england-and-wales` event come from the
    /// file; shipped years outside them keep the shipped data (listed by
    /// [`Calendar::years_missing_from_operator_file`]); every other year comes from the rules.
    /// The version reads `"{label} {first}-{last} over {shipped version}"`, e.g.
    /// `"operator file bank-holidays.json 2018-2030 over england-and-wales 2012-2028 (2026-11-21)"`.
    ///
    /// # Errors
    /// As [`Calendar::from_govuk_json`].
    pub fn shipped_with_operator_file(json: &str, label: &str) -> Result<Calendar, ComplaintError> {
        Ok(Calendar::shipped().overlaid(label, parse_govuk(json)?))
    }

    /// A calendar from a file in the GOV.UK `bank-holidays.json` format alone (R-BH-5,
    /// R-BH-6), labelled `version`: unlike [`Calendar::shipped_with_operator_file`] the shipped
    /// data plays no part.
    ///
    /// Only the `england-and-wales` division is read; other divisions are ignored. The years
    /// from the division's earliest to its latest event are taken from the file, every other
    /// year from the rules.
    ///
    /// # Errors
    /// [`ComplaintError::InvalidCalendar`] naming the problem when the text is not JSON of that
    /// shape, the `england-and-wales` division is missing or has no events, an event's date is
    /// not a real `YYYY-MM-DD` date, or a year inside the file's range has no events (a gap
    /// would silently turn that year's holidays into working days).
    pub fn from_govuk_json(
        json: &str,
        version: impl Into<String>,
    ) -> Result<Calendar, ComplaintError> {
        let (holidays, covered) = parse_govuk(json)?;
        Ok(Calendar {
            version: version.into(),
            holidays,
            covered: vec![covered],
            missing_from_operator_file: Vec::new(),
        })
    }

    /// A calendar with no data file: the regular days and substitutes of R-BH-1 and R-BH-2
    /// for every year, and none of the one-off days of R-BH-3.
    pub fn rules_only() -> Calendar {
        Calendar {
            version: format!("{DIVISION} rules only"),
            holidays: BTreeMap::new(),
            covered: Vec::new(),
            missing_from_operator_file: Vec::new(),
        }
    }

    /// `self` with the years `first..=last` taken from `top` instead.
    fn overlaid(self, label: &str, (top, (first, last)): Holidays) -> Calendar {
        let from_top = |year: i32| (first..=last).contains(&year);
        let base_years = || self.covered.iter().flat_map(|&(a, b)| a..=b);
        let missing_from_operator_file = spans(base_years().filter(|year| !from_top(*year)));
        let covered = spans(base_years().chain(first..=last));
        let mut holidays: BTreeMap<NaiveDate, String> = self
            .holidays
            .into_iter()
            .filter(|(day, _)| !from_top(day.year()))
            .collect();
        holidays.extend(top);
        Calendar {
            version: format!("{label} {first}-{last} over {}", self.version),
            holidays,
            covered,
            missing_from_operator_file,
        }
    }

    /// The label shown beside every deadline, e.g. `"england-and-wales 2012-2028 (2026-11-21)"`
    /// for the shipped calendar, or the version given to [`Calendar::from_govuk_json`].
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The first to the last year whose holidays come from data rather than the rules; `None`
    /// for [`Calendar::rules_only`]. Years inside it listed by
    /// [`Calendar::years_without_data`] still come from the rules.
    pub fn covered_years(&self) -> Option<RangeInclusive<i32>> {
        match (self.covered.first(), self.covered.last()) {
            (Some(&(first, _)), Some(&(_, last))) => Some(first..=last),
            _ => None,
        }
    }

    /// Years inside [`Calendar::covered_years`] that no data covers, so the rules give them:
    /// only when an operator file starts more than a year after the shipped data ends.
    pub fn years_without_data(&self) -> Vec<RangeInclusive<i32>> {
        self.covered
            .windows(2)
            .map(|pair| pair[0].1 + 1..=pair[1].0 - 1)
            .collect()
    }

    /// Shipped years the operator file of [`Calendar::shipped_with_operator_file`] lacks, as
    /// ascending spans: those years keep the shipped data (R-BH-5). Empty for every other
    /// constructor.
    pub fn years_missing_from_operator_file(&self) -> Vec<RangeInclusive<i32>> {
        self.missing_from_operator_file
            .iter()
            .map(|&(first, last)| first..=last)
            .collect()
    }

    /// Whether `day` is a working day (R-WD-1): not a Saturday or Sunday and not a bank
    /// holiday, Christmas Day and Good Friday included. Christmas Eve, New Year's Eve and
    /// Easter Saturday are not holidays (though Easter Saturday is a Saturday).
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        !is_weekend(day) && self.holiday(day).is_none()
    }

    /// The title of the bank holiday on `day` (as GOV.UK writes it, e.g. `"Boxing Day"` also
    /// for a substitute Boxing Day), or `None` if `day` is not one.
    pub fn holiday(&self, day: NaiveDate) -> Option<&str> {
        if self.covers(day.year()) {
            self.holidays.get(&day).map(String::as_str)
        } else {
            rule_holiday(day)
        }
    }

    /// The `n`-th working day after `from` (R-ACK-3): `from` itself never counts, whether or
    /// not it is a working day. `n = 0` returns `from` unchanged.
    ///
    /// Saturates at [`NaiveDate::MAX`] should the count run past the last date chrono can
    /// represent (year 262142), which no complaint deadline comes near.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut day = from;
        let mut left = n;
        while left > 0 {
            match day.succ_opt() {
                Some(next) => day = next,
                None => return NaiveDate::MAX,
            }
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// The first working day after `day` (`day` itself never counts); the same as
    /// `add_working_days(day, 1)`.
    pub fn next_working_day(&self, day: NaiveDate) -> NaiveDate {
        self.add_working_days(day, 1)
    }

    /// How many working days `d` there are with `from < d <= to`; `0` when `to <= from`.
    ///
    /// The inverse of [`Calendar::add_working_days`]:
    /// `working_days_between(d, add_working_days(d, n)) == n`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut count: u32 = 0;
        let mut day = from;
        while day < to {
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
            if self.is_working_day(day) {
                count = count.saturating_add(1);
            }
        }
        count
    }

    /// The bank holidays of `year` with their titles, in date order.
    pub fn holidays_in(&self, year: i32) -> Vec<(NaiveDate, String)> {
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return Vec::new();
        };
        if self.covers(year) {
            self.holidays
                .range(first..=last)
                .map(|(day, title)| (*day, title.clone()))
                .collect()
        } else {
            first
                .iter_days()
                .take_while(|day| *day <= last)
                .filter_map(|day| rule_holiday(day).map(|title| (day, title.to_owned())))
                .collect()
        }
    }

    /// Whether `year`'s holidays come from data.
    fn covers(&self, year: i32) -> bool {
        self.covered
            .iter()
            .any(|&(first, last)| (first..=last).contains(&year))
    }
}

/// `years` (any order, repeats allowed) as ascending inclusive spans of consecutive years.
fn spans(years: impl Iterator<Item = i32>) -> Vec<(i32, i32)> {
    let years: std::collections::BTreeSet<i32> = years.collect();
    let mut spans: Vec<(i32, i32)> = Vec::new();
    for year in years {
        match spans.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(year) => *last = year,
            _ => spans.push((year, year)),
        }
    }
    spans
}

/// Easter Sunday by the anonymous Gregorian (Meeus/Jones/Butcher) algorithm (R-BH-4).
///
/// Good Friday is two days before it and Easter Monday the day after. Meaningful for
/// Gregorian years (1583 on); a year outside chrono's range gives [`NaiveDate::MIN`] or
/// [`NaiveDate::MAX`].
pub fn easter_sunday(year: i32) -> NaiveDate {
    // Euclidean division keeps every intermediate in range for negative years too, so the
    // month is always 3 or 4 and the day always valid.
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    match (u32::try_from(month), u32::try_from(day)) {
        (Ok(month), Ok(day)) => NaiveDate::from_ymd_opt(year, month, day),
        _ => None,
    }
    .unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The regular bank holiday on `day`, if any (R-BH-1, R-BH-2), titled as GOV.UK titles it.
///
/// Substitute days carry the title of the day they replace, as in the GOV.UK feed: 1 January
/// on a weekend moves to the next Monday; 25 December on a Friday gives Boxing Day on Monday
/// 28th, on a Saturday gives Christmas Day on Monday 27th and Boxing Day on Tuesday 28th, on a
/// Sunday gives Boxing Day on Monday 26th and Christmas Day on Tuesday 27th.
fn rule_holiday(day: NaiveDate) -> Option<&'static str> {
    let weekday = day.weekday();
    if is_weekend(day) {
        return None;
    }
    let monday = weekday == Weekday::Mon;
    let tuesday = weekday == Weekday::Tue;
    let date = day.day();
    match day.month() {
        // 2nd or 3rd only as the Monday after a Sunday or Saturday New Year's Day.
        1 if date == 1 || (monday && date <= 3) => Some("New Year’s Day"),
        3 | 4 => {
            let easter = easter_sunday(day.year()).ordinal();
            let ordinal = day.ordinal();
            if ordinal + 2 == easter {
                Some("Good Friday")
            } else if ordinal == easter + 1 {
                Some("Easter Monday")
            } else {
                None
            }
        }
        5 if monday && date <= 7 => Some("Early May bank holiday"),
        5 if monday && date >= 25 => Some("Spring bank holiday"),
        8 if monday && date >= 25 => Some("Summer bank holiday"),
        12 => match date {
            25 => Some("Christmas Day"),
            26 => Some("Boxing Day"),
            // Monday 27th: the 25th was a Saturday. Tuesday 27th: the 25th was a Sunday and
            // Boxing Day took Monday 26th.
            27 if monday || tuesday => Some("Christmas Day"),
            // Monday 28th: the 26th was a Saturday. Tuesday 28th: the 26th was a Sunday.
            28 if monday || tuesday => Some("Boxing Day"),
            _ => None,
        },
        _ => None,
    }
}

/// A GOV.UK `bank-holidays.json` file; divisions other than England and Wales are ignored.
#[derive(Deserialize)]
struct GovUkFile {
    #[serde(rename = "england-and-wales")]
    england_and_wales: Option<GovUkDivision>,
}

#[derive(Deserialize)]
struct GovUkDivision {
    division: Option<String>,
    events: Vec<GovUkEvent>,
}

/// One event; `notes` and `bunting` are not needed and so not read.
#[derive(Deserialize)]
struct GovUkEvent {
    title: String,
    date: String,
}

type Holidays = (BTreeMap<NaiveDate, String>, (i32, i32));

fn parse_govuk(json: &str) -> Result<Holidays, ComplaintError> {
    let invalid = |reason: String| ComplaintError::InvalidCalendar { reason };
    let file: GovUkFile = serde_json::from_str(json)
        .map_err(|e| invalid(format!("not a GOV.UK bank-holidays file: {e}")))?;
    let division = file
        .england_and_wales
        .ok_or_else(|| invalid(format!("no \"{DIVISION}\" division")))?;
    if let Some(name) = division.division.as_deref() {
        if name != DIVISION {
            return Err(invalid(format!(
                "the \"{DIVISION}\" entry names its division {name:?}"
            )));
        }
    }
    let mut holidays: BTreeMap<NaiveDate, String> = BTreeMap::new();
    for (index, event) in division.events.into_iter().enumerate() {
        let day = parse_date(&event.date).ok_or_else(|| {
            invalid(format!(
                "event {index} ({:?}) has date {:?}, expected a real YYYY-MM-DD date",
                event.title, event.date
            ))
        })?;
        let title = event.title.trim();
        if title.is_empty() {
            return Err(invalid(format!("event {index} on {day} has no title")));
        }
        // Two events on one day keep both titles: the day is a holiday either way.
        holidays
            .entry(day)
            .and_modify(|existing| {
                existing.push_str(" and ");
                existing.push_str(title);
            })
            .or_insert_with(|| title.to_owned());
    }
    // Empty only when the division listed no events.
    let (Some(first), Some(last)) = (holidays.keys().next(), holidays.keys().next_back()) else {
        return Err(invalid(format!(
            "the \"{DIVISION}\" division has no events"
        )));
    };
    let (first, last) = (first.year(), last.year());
    let mut years = holidays.keys().map(Datelike::year).peekable();
    for year in first..=last {
        if years.peek() != Some(&year) {
            return Err(invalid(format!(
                "no events for {year}, inside the file's range {first}-{last}"
            )));
        }
        while years.peek() == Some(&year) {
            years.next();
        }
    }
    Ok((holidays, (first, last)))
}

/// Strictly `YYYY-MM-DD`, as GOV.UK writes dates; chrono alone would accept `2024-1-5`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
    }

    fn dates(calendar: &Calendar, year: i32) -> Vec<NaiveDate> {
        calendar
            .holidays_in(year)
            .into_iter()
            .map(|(day, _)| day)
            .collect()
    }

    fn invalid_reason(json: &str) -> String {
        match Calendar::from_govuk_json(json, "test") {
            Err(ComplaintError::InvalidCalendar { reason }) => reason,
            Err(other) => panic!("expected InvalidCalendar, got {other:?}"),
            Ok(calendar) => panic!("expected InvalidCalendar, got {calendar:?}"),
        }
    }

    /// A GOV.UK-format file for `year` holding the rules' holidays plus `extra`.
    fn govuk_file(year: i32, extra: &[(&str, &str)]) -> String {
        govuk_file_for(year..=year, extra)
    }

    /// A GOV.UK-format file for `years` holding the rules' holidays plus `extra`.
    fn govuk_file_for(years: RangeInclusive<i32>, extra: &[(&str, &str)]) -> String {
        let mut events: Vec<String> = years
            .flat_map(|year| Calendar::rules_only().holidays_in(year))
            .map(|(day, title)| {
                format!(r#"{{"title":"{title}","date":"{day}","notes":"","bunting":true}}"#)
            })
            .collect();
        events.extend(extra.iter().map(|(title, day)| {
            format!(r#"{{"title":"{title}","date":"{day}","notes":"","bunting":true}}"#)
        }));
        format!(
            r#"{{"england-and-wales":{{"division":"england-and-wales","events":[{}]}}}}"#,
            events.join(",")
        )
    }

    #[test]
    fn easter_sunday_matches_known_dates() {
        let cases = [
            (1818, "1818-03-22"),
            (1943, "1943-04-25"),
            (2000, "2000-04-23"),
            (2008, "2008-03-23"),
            (2011, "2011-04-24"),
            (2019, "2019-04-21"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2038, "2038-04-25"),
            (2285, "2285-03-22"),
        ];
        for (year, expected) in cases {
            assert_eq!(easter_sunday(year), d(expected), "Easter {year}");
        }
    }

    #[test]
    fn computed_holidays_2024_to_2027_match_the_domain_table() {
        let table = [
            (
                2024,
                [
                    "2024-01-01",
                    "2024-03-29",
                    "2024-04-01",
                    "2024-05-06",
                    "2024-05-27",
                    "2024-08-26",
                    "2024-12-25",
                    "2024-12-26",
                ],
            ),
            (
                2025,
                [
                    "2025-01-01",
                    "2025-04-18",
                    "2025-04-21",
                    "2025-05-05",
                    "2025-05-26",
                    "2025-08-25",
                    "2025-12-25",
                    "2025-12-26",
                ],
            ),
            (
                2026,
                [
                    "2026-01-01",
                    "2026-04-03",
                    "2026-04-06",
                    "2026-05-04",
                    "2026-05-25",
                    "2026-08-31",
                    "2026-12-25",
                    "2026-12-28",
                ],
            ),
            (
                2027,
                [
                    "2027-01-01",
                    "2027-03-26",
                    "2027-03-29",
                    "2027-05-03",
                    "2027-05-31",
                    "2027-08-30",
                    "2027-12-27",
                    "2027-12-28",
                ],
            ),
        ];
        for calendar in [Calendar::shipped(), Calendar::rules_only()] {
            for (year, expected) in &table {
                let expected: Vec<NaiveDate> = expected.iter().map(|s| d(s)).collect();
                assert_eq!(dates(&calendar, *year), expected, "{}", calendar.version());
            }
        }
    }

    #[test]
    fn worked_date_examples_give_next_working_day_and_ack_due() {
        // (received, next working day, ack_due = 3rd working day), the worked dates of docs/RULES.md.
        let table = [
            ("2025-04-17", "2025-04-22", "2025-04-24"),
            ("2026-04-02", "2026-04-07", "2026-04-09"),
            ("2026-12-23", "2026-12-24", "2026-12-30"),
            ("2026-01-31", "2026-02-02", "2026-02-04"),
            ("2022-09-16", "2022-09-20", "2022-09-22"),
            ("2023-05-05", "2023-05-09", "2023-05-11"),
            ("2027-12-24", "2027-12-29", "2027-12-31"),
        ];
        let calendar = Calendar::shipped();
        for (received, next, ack_due) in table {
            let received = d(received);
            assert_eq!(calendar.next_working_day(received), d(next), "{received}");
            assert_eq!(
                calendar.add_working_days(received, 3),
                d(ack_due),
                "{received}"
            );
        }
    }

    #[test]
    fn rules_alone_miss_the_state_funeral_and_the_coronation() {
        // (received, next working day, ack_due) without the one-off days of R-BH-3.
        let table = [
            ("2022-09-16", "2022-09-19", "2022-09-21"),
            ("2023-05-05", "2023-05-08", "2023-05-10"),
        ];
        let calendar = Calendar::rules_only();
        for (received, next, ack_due) in table {
            let received = d(received);
            assert_eq!(calendar.next_working_day(received), d(next), "{received}");
            assert_eq!(
                calendar.add_working_days(received, 3),
                d(ack_due),
                "{received}"
            );
        }
    }

    #[test]
    fn worked_examples_outside_one_off_years_agree_with_rules_only() {
        let calendar = Calendar::rules_only();
        let table = [
            ("2025-04-17", "2025-04-22", "2025-04-24"),
            ("2026-04-02", "2026-04-07", "2026-04-09"),
            ("2026-12-23", "2026-12-24", "2026-12-30"),
            ("2026-01-31", "2026-02-02", "2026-02-04"),
            ("2027-12-24", "2027-12-29", "2027-12-31"),
        ];
        for (received, next, ack_due) in table {
            let received = d(received);
            assert_eq!(calendar.next_working_day(received), d(next), "{received}");
            assert_eq!(
                calendar.add_working_days(received, 3),
                d(ack_due),
                "{received}"
            );
        }
    }

    #[test]
    fn christmas_eve_new_years_eve_and_easter_saturday_are_not_holidays() {
        for calendar in [Calendar::shipped(), Calendar::rules_only()] {
            for year in 2000..=2060 {
                let christmas_eve = d(&format!("{year}-12-24"));
                let new_years_eve = d(&format!("{year}-12-31"));
                let easter_saturday = easter_sunday(year).pred_opt().expect("in range");
                for day in [christmas_eve, new_years_eve, easter_saturday] {
                    assert_eq!(calendar.holiday(day), None, "{day}");
                    assert_eq!(calendar.is_working_day(day), !is_weekend(day), "{day}");
                }
            }
            // Wednesdays in 2025: plain working days.
            assert!(calendar.is_working_day(d("2025-12-24")));
            assert!(calendar.is_working_day(d("2025-12-31")));
            // Easter Saturday is a Saturday, so not a working day, but not a holiday either.
            assert!(!calendar.is_working_day(d("2025-04-19")));
        }
    }

    #[test]
    fn good_friday_and_christmas_day_are_not_working_days() {
        for calendar in [Calendar::shipped(), Calendar::rules_only()] {
            assert_eq!(calendar.holiday(d("2025-04-18")), Some("Good Friday"));
            assert_eq!(calendar.holiday(d("2025-12-25")), Some("Christmas Day"));
            assert!(!calendar.is_working_day(d("2025-04-18")));
            assert!(!calendar.is_working_day(d("2025-12-25")));
        }
    }

    #[test]
    fn christmas_on_friday_moves_boxing_day_to_monday() {
        for calendar in [Calendar::shipped(), Calendar::rules_only()] {
            // 2026 from data, 2037 from rules in the shipped calendar.
            for year in [2026, 2037] {
                assert_eq!(
                    calendar.holiday(d(&format!("{year}-12-25"))),
                    Some("Christmas Day")
                );
                assert_eq!(calendar.holiday(d(&format!("{year}-12-26"))), None);
                assert_eq!(
                    calendar.holiday(d(&format!("{year}-12-28"))),
                    Some("Boxing Day")
                );
            }
        }
    }

    #[test]
    fn christmas_on_saturday_moves_to_monday_and_tuesday() {
        for calendar in [Calendar::shipped(), Calendar::rules_only()] {
            for year in [2021, 2027, 2032] {
                assert_eq!(calendar.holiday(d(&format!("{year}-12-25"))), None);
                assert_eq!(
                    calendar.holiday(d(&format!("{year}-12-27"))),
                    Some("Christmas Day")
                );
                assert_eq!(
                    calendar.holiday(d(&format!("{year}-12-28"))),
                    Some("Boxing Day")
                );
            }
        }
    }

    #[test]
    fn christmas_on_sunday_gives_boxing_day_on_monday_and_christmas_on_tuesday() {
        for calendar in [Calendar::shipped(), Calendar::rules_only()] {
            for year in [2022, 2033] {
                assert_eq!(calendar.holiday(d(&format!("{year}-12-25"))), None);
                assert_eq!(
                    calendar.holiday(d(&format!("{year}-12-26"))),
                    Some("Boxing Day")
                );
                assert_eq!(
                    calendar.holiday(d(&format!("{year}-12-27"))),
                    Some("Christmas Day")
                );
                assert_eq!(calendar.holiday(d(&format!("{year}-12-28"))), None);
            }
        }
    }

    #[test]
    fn new_years_day_on_a_weekend_moves_to_monday() {
        for calendar in [Calendar::shipped(), Calendar::rules_only()] {
            // Sunday 1 January: 2023 (data), 2034 (rules). Saturday: 2028 (data), 2033 (rules).
            for (new_year, monday) in [
                ("2023-01-01", "2023-01-02"),
                ("2034-01-01", "2034-01-02"),
                ("2028-01-01", "2028-01-03"),
                ("2033-01-01", "2033-01-03"),
            ] {
                assert_eq!(calendar.holiday(d(new_year)), None);
                assert_eq!(calendar.holiday(d(monday)), Some("New Year’s Day"));
            }
        }
    }

    #[test]
    fn the_receipt_day_never_counts() {
        let calendar = Calendar::shipped();
        // Saturday receipt: the first working day is Monday.
        assert_eq!(
            calendar.add_working_days(d("2026-01-31"), 1),
            d("2026-02-02")
        );
        // Working-day receipt: still the next day.
        assert_eq!(
            calendar.add_working_days(d("2026-02-02"), 1),
            d("2026-02-03")
        );
        // Zero days is the day itself, working day or not.
        assert_eq!(
            calendar.add_working_days(d("2026-01-31"), 0),
            d("2026-01-31")
        );
        assert_eq!(
            calendar.add_working_days(d("2025-12-25"), 0),
            d("2025-12-25")
        );
    }

    #[test]
    fn working_days_between_excludes_from_and_includes_to() {
        let calendar = Calendar::shipped();
        assert_eq!(
            calendar.working_days_between(d("2026-02-02"), d("2026-02-03")),
            1
        );
        assert_eq!(
            calendar.working_days_between(d("2026-02-02"), d("2026-02-02")),
            0
        );
        assert_eq!(
            calendar.working_days_between(d("2026-02-03"), d("2026-02-02")),
            0
        );
        // Thu before Easter 2025 to the Thu after: Fri-Mon are holidays or weekend.
        assert_eq!(
            calendar.working_days_between(d("2025-04-17"), d("2025-04-24")),
            3
        );
        // A whole ordinary year: 261 weekdays less 8 weekday holidays.
        assert_eq!(
            calendar.working_days_between(d("2024-12-31"), d("2025-12-31")),
            253
        );
    }

    #[test]
    fn shipped_file_parses_and_covers_2012_to_2028() {
        assert!(Calendar::from_govuk_json(SHIPPED_JSON, "shipped").is_ok());
        let calendar = Calendar::shipped();
        assert_eq!(
            calendar.version(),
            "england-and-wales 2012-2028 (2026-11-21)"
        );
        assert_eq!(calendar.covered_years(), Some(2012..=2028));
        for year in 2012..=2028 {
            assert!(calendar.holidays_in(year).len() >= 8, "{year}");
        }
    }

    #[test]
    fn shipped_calendar_holds_the_one_off_days() {
        let calendar = Calendar::shipped();
        let one_offs = [
            ("2012-06-04", "Spring bank holiday"),
            ("2012-06-05", "Queen’s Diamond Jubilee"),
            ("2020-05-08", "Early May bank holiday (VE day)"),
            ("2022-06-02", "Spring bank holiday"),
            ("2022-06-03", "Platinum Jubilee bank holiday"),
            (
                "2022-09-19",
                "Bank Holiday for the State Funeral of Queen Elizabeth II",
            ),
            (
                "2023-05-08",
                "Bank holiday for the coronation of King Charles III",
            ),
        ];
        for (day, title) in one_offs {
            assert_eq!(calendar.holiday(d(day)), Some(title), "{day}");
            assert_eq!(Calendar::rules_only().holiday(d(day)), None, "{day}");
        }
        // The regular days the one-offs displaced are working days that year.
        for day in ["2012-05-28", "2020-05-04", "2022-05-30"] {
            assert!(calendar.is_working_day(d(day)), "{day}");
            assert!(!Calendar::rules_only().is_working_day(d(day)), "{day}");
        }
    }

    #[test]
    fn shipped_calendar_agrees_with_rules_in_every_ordinary_year() {
        let shipped = Calendar::shipped();
        let rules = Calendar::rules_only();
        for year in 2012..=2028 {
            let same = shipped.holidays_in(year) == rules.holidays_in(year);
            let one_off_year = matches!(year, 2012 | 2020 | 2022 | 2023);
            assert_eq!(same, !one_off_year, "{year}");
        }
    }

    #[test]
    fn shipped_calendar_uses_rules_outside_its_years() {
        let shipped = Calendar::shipped();
        let rules = Calendar::rules_only();
        for year in [1990, 2011, 2029, 2035, 2100] {
            assert_eq!(shipped.holidays_in(year), rules.holidays_in(year), "{year}");
        }
    }

    #[test]
    fn rules_only_has_no_data_years_and_says_so() {
        let calendar = Calendar::rules_only();
        assert_eq!(calendar.covered_years(), None);
        assert_eq!(calendar.version(), "england-and-wales rules only");
    }

    #[test]
    fn an_operator_file_with_a_one_off_holiday_moves_deadlines() {
        let json = govuk_file(2030, &[("Made-up Jubilee", "2030-06-04")]);
        let calendar = Calendar::from_govuk_json(&json, "operator 2030 (2030-01-10)")
            .expect("the operator file is valid");
        assert_eq!(calendar.version(), "operator 2030 (2030-01-10)");
        assert_eq!(calendar.covered_years(), Some(2030..=2030));
        assert_eq!(calendar.holiday(d("2030-06-04")), Some("Made-up Jubilee"));
        // Friday 31 May 2030: Mon 3, [Tue 4 holiday], Wed 5, Thu 6.
        assert_eq!(
            calendar.add_working_days(d("2030-05-31"), 3),
            d("2030-06-06")
        );
        assert_eq!(
            Calendar::rules_only().add_working_days(d("2030-05-31"), 3),
            d("2030-06-05")
        );
        // Years outside the file come from the rules.
        assert_eq!(
            calendar.holidays_in(2031),
            Calendar::rules_only().holidays_in(2031)
        );
    }

    /// The shipped calendar under an operator file made by [`govuk_file_for`].
    fn merged(years: RangeInclusive<i32>, extra: &[(&str, &str)]) -> Calendar {
        Calendar::shipped_with_operator_file(&govuk_file_for(years, extra), "operator file x.json")
            .expect("the operator file is valid")
    }

    #[test]
    fn r_bh_5_an_operator_file_merges_with_the_shipped_data() {
        let calendar = merged(2030..=2030, &[("Made-up Jubilee", "2030-06-04")]);
        assert_eq!(
            calendar.version(),
            "operator file x.json 2030-2030 over england-and-wales 2012-2028 (2026-11-21)"
        );
        assert_eq!(calendar.covered_years(), Some(2012..=2030));
        // The operator's one-off day: Fri 31 May 2030, Mon 3, [Tue 4], Wed 5, Thu 6.
        assert_eq!(
            calendar.add_working_days(d("2030-05-31"), 3),
            d("2030-06-06")
        );
        // Shipped 2026: Thu 24 Dec, [Fri 25, Mon 28 Boxing Day substitute], Tue 29, Wed 30.
        assert_eq!(calendar.holiday(d("2026-12-28")), Some("Boxing Day"));
        assert_eq!(
            calendar.add_working_days(d("2026-12-24"), 2),
            d("2026-12-30")
        );
        // A shipped one-off the rules lack still moves deadlines: the 2023 coronation.
        assert_eq!(
            calendar.add_working_days(d("2023-05-05"), 3),
            d("2023-05-11")
        );
        // 2029 is in neither file, so the rules give it.
        assert_eq!(calendar.years_without_data(), vec![2029..=2029]);
        assert_eq!(
            calendar.holidays_in(2029),
            Calendar::rules_only().holidays_in(2029)
        );
        assert_eq!(
            calendar.holidays_in(2031),
            Calendar::rules_only().holidays_in(2031)
        );
    }

    #[test]
    fn r_bh_5_the_operator_files_years_replace_the_shipped_ones() {
        // An operator file for 2022-2030 without the 2022 one-offs (say, a corrected file
        // for a what-if): in its years only its events count.
        let calendar = merged(2022..=2030, &[("Made-up Jubilee", "2030-06-04")]);
        assert_eq!(calendar.covered_years(), Some(2012..=2030));
        assert_eq!(
            calendar.years_without_data(),
            Vec::<RangeInclusive<i32>>::new()
        );
        // Fri 16 Sep 2022: the state funeral (Mon 19) is a working day under this file.
        assert_eq!(
            calendar.add_working_days(d("2022-09-16"), 3),
            d("2022-09-21")
        );
        assert_eq!(
            Calendar::shipped().add_working_days(d("2022-09-16"), 3),
            d("2022-09-22")
        );
        // Before the file's years the shipped one-offs stay: the 2012 Diamond Jubilee.
        assert_eq!(
            calendar.holiday(d("2012-06-05")),
            Some("Queen’s Diamond Jubilee")
        );
        assert_eq!(calendar.holiday(d("2030-06-04")), Some("Made-up Jubilee"));
    }

    #[test]
    fn r_bh_5_an_operator_file_missing_shipped_years_is_warned_about() {
        // Ends early: 2021-2028 keep the shipped data, 2020 VE day from the file's own copy.
        let ends_early = merged(2012..=2020, &[]);
        assert_eq!(
            ends_early.years_missing_from_operator_file(),
            vec![2021..=2028]
        );
        assert_eq!(ends_early.covered_years(), Some(2012..=2028));
        assert_eq!(
            ends_early.add_working_days(d("2023-05-05"), 3),
            d("2023-05-11"),
            "the shipped coronation day still counts"
        );
        assert_eq!(
            ends_early.holiday(d("2020-05-08")),
            None,
            "the file's 2020 (rules only) replaced the shipped VE day"
        );
        // Starts late.
        assert_eq!(
            merged(2018..=2030, &[]).years_missing_from_operator_file(),
            vec![2012..=2017]
        );
        // Both ends.
        assert_eq!(
            merged(2015..=2020, &[]).years_missing_from_operator_file(),
            vec![2012..=2014, 2021..=2028]
        );
        // A file spanning the shipped years lacks none; nor do calendars without one.
        assert!(merged(2010..=2030, &[])
            .years_missing_from_operator_file()
            .is_empty());
        assert!(Calendar::shipped()
            .years_missing_from_operator_file()
            .is_empty());
        let alone = Calendar::from_govuk_json(&govuk_file(2030, &[]), "alone").expect("valid");
        assert!(alone.years_missing_from_operator_file().is_empty());
    }

    #[test]
    fn r_bh_5_a_malformed_operator_file_is_rejected_not_merged() {
        let rejected = Calendar::shipped_with_operator_file(
            r#"{"england-and-wales": {"events": [
                {"title": "a", "date": "2030-01-01"},
                {"title": "b", "date": "2032-01-01"}]}}"#,
            "operator file bad.json",
        );
        match rejected {
            Err(ComplaintError::InvalidCalendar { reason }) => {
                assert!(reason.contains("no events for 2031"), "{reason}");
            }
            other => panic!("expected InvalidCalendar, got {other:?}"),
        }
    }

    #[test]
    fn an_operator_file_uses_only_the_england_and_wales_division() {
        let json = r#"{
            "england-and-wales": {"division": "england-and-wales", "events": [
                {"title": "New Year’s Day", "date": "2030-01-01", "notes": "", "bunting": true}
            ]},
            "scotland": {"division": "scotland", "events": [
                {"title": "2nd January", "date": "2030-01-02", "notes": "", "bunting": true}
            ]},
            "northern-ireland": "not even an object"
        }"#;
        let calendar = Calendar::from_govuk_json(json, "test").expect("valid");
        assert_eq!(calendar.holiday(d("2030-01-02")), None);
        assert_eq!(calendar.holidays_in(2030).len(), 1);
    }

    #[test]
    fn malformed_operator_files_are_rejected_with_the_reason() {
        let cases = [
            ("not json", "not a GOV.UK bank-holidays file"),
            (r#"{"england-and-wales": {"events": 3}}"#, "not a GOV.UK"),
            (
                r#"{"scotland": {"division": "scotland", "events": []}}"#,
                "no \"england-and-wales\" division",
            ),
            (
                r#"{"england-and-wales": {"division": "england-and-wales", "events": []}}"#,
                "has no events",
            ),
            (
                r#"{"england-and-wales": {"division": "scotland", "events": [
                    {"title": "x", "date": "2030-01-01"}]}}"#,
                "names its division \"scotland\"",
            ),
            (
                r#"{"england-and-wales": {"events": [
                    {"title": "Leap", "date": "2030-02-29"}]}}"#,
                "has date \"2030-02-29\"",
            ),
            (
                r#"{"england-and-wales": {"events": [
                    {"title": "Short", "date": "2030-1-1"}]}}"#,
                "has date \"2030-1-1\"",
            ),
            (
                r#"{"england-and-wales": {"events": [
                    {"title": "Slash", "date": "01/01/2030"}]}}"#,
                "has date \"01/01/2030\"",
            ),
            (
                r#"{"england-and-wales": {"events": [
                    {"title": " ", "date": "2030-01-01"}]}}"#,
                "has no title",
            ),
            (
                r#"{"england-and-wales": {"events": [
                    {"title": "a", "date": "2030-01-01"},
                    {"title": "b", "date": "2032-01-01"}]}}"#,
                "no events for 2031",
            ),
        ];
        for (json, expected) in cases {
            let reason = invalid_reason(json);
            assert!(
                reason.contains(expected),
                "{json}: {reason:?} lacks {expected:?}"
            );
        }
    }

    #[test]
    fn rules_give_eight_weekday_holidays_every_year() {
        let calendar = Calendar::rules_only();
        for year in 1900..=2200 {
            let holidays = calendar.holidays_in(year);
            assert_eq!(holidays.len(), 8, "{year}");
            assert!(holidays.iter().all(|(day, _)| !is_weekend(*day)), "{year}");
        }
    }

    fn any_day() -> impl Strategy<Value = NaiveDate> {
        // 1950-01-01 plus up to ~200 years, spanning data and rule years.
        (0u64..73_000).prop_map(|offset| d("1950-01-01") + chrono::Days::new(offset))
    }

    fn any_calendar() -> impl Strategy<Value = Calendar> {
        prop_oneof![
            Just(Calendar::shipped()),
            Just(Calendar::rules_only()),
            // Operator data over shipped data, with a rules-only hole (2029) between.
            Just(merged(2030..=2031, &[("Made-up Jubilee", "2030-06-04")])),
        ]
    }

    proptest! {
        #[test]
        fn adding_working_days_lands_on_a_working_day_that_far_ahead(
            calendar in any_calendar(),
            from in any_day(),
            n in 1u32..400,
        ) {
            let due = calendar.add_working_days(from, n);
            prop_assert!(due > from);
            prop_assert!(calendar.is_working_day(due));
            prop_assert_eq!(calendar.working_days_between(from, due), n);
        }

        #[test]
        fn adding_more_working_days_lands_strictly_later(
            calendar in any_calendar(),
            from in any_day(),
            n in 0u32..400,
        ) {
            prop_assert!(calendar.add_working_days(from, n) < calendar.add_working_days(from, n + 1));
            prop_assert_eq!(
                calendar.next_working_day(calendar.add_working_days(from, n)),
                calendar.add_working_days(from, n + 1)
            );
        }

        #[test]
        fn working_days_between_adds_up_over_consecutive_spans(
            calendar in any_calendar(),
            a in any_day(),
            gap1 in 0u64..500,
            gap2 in 0u64..500,
        ) {
            let b = a + chrono::Days::new(gap1);
            let c = b + chrono::Days::new(gap2);
            prop_assert_eq!(
                calendar.working_days_between(a, c),
                calendar.working_days_between(a, b) + calendar.working_days_between(b, c)
            );
        }

        #[test]
        fn shipped_and_rules_agree_outside_the_one_off_years(
            offset in 0u64..6_210, // 2012-01-01 ..= 2028-12-31
        ) {
            let day = d("2012-01-01") + chrono::Days::new(offset);
            prop_assume!(!matches!(day.year(), 2012 | 2020 | 2022 | 2023));
            let shipped = Calendar::shipped();
            let rules = Calendar::rules_only();
            prop_assert_eq!(shipped.holiday(day), rules.holiday(day));
            prop_assert_eq!(shipped.is_working_day(day), rules.is_working_day(day));
        }

        #[test]
        fn holidays_in_lists_exactly_the_days_holiday_names(
            calendar in any_calendar(),
            year in 1950i32..2150,
        ) {
            let listed = calendar.holidays_in(year);
            let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("in range");
            let named: Vec<(NaiveDate, String)> = first
                .iter_days()
                .take_while(|day| day.year() == year)
                .filter_map(|day| calendar.holiday(day).map(|t| (day, t.to_owned())))
                .collect();
            prop_assert_eq!(listed, named);
        }
    }
}
