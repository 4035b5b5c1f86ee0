//! Items 5 and 6 of the annual report (R-AR-1): the lessons and actions recorded in the year,
//! summarised so the report stays the same size whatever the year holds (issue 16: 138,000
//! lessons once made it 9.5 MB). The report carries the counts by kind and the latest few of
//! each; every one is listed, a page at a time, by keyset on [`LEARNING_ROUTE`].
//!
//! Counts and pages are answered by the database (`GROUP BY`, `ORDER BY … LIMIT`) over the
//! indexes the `reporting` consumer creates on `rm_report_learning`, never by loading the
//! year's rows.

use super::facts::{LearningFact, LEARNING};
use super::period::{financial_year, REPORT_YEARS};
use crate::models::sql::date_text;
use crate::ProjectionError;
use chrono::NaiveDate;
use complaints_domain::LearningKind;
use complaints_eventlog::{on_pool, Pool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// How many lessons, and how many actions, the report names; the rest are counted.
pub const RECENT_LEARNING: usize = 10;

/// The route that lists every lesson and action of a year, a page at a time (served by the
/// gateway; named here so the report and the router cannot disagree).
pub const LEARNING_ROUTE: &str = "/v1/reports/annual/lessons";

/// The largest page of [`learning_page`].
pub const MAX_LEARNING_PAGE: i64 = 1000;

/// A lesson or action for items 5 and 6 of the report; aggregate, no complaint id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LearningItem {
    /// Lesson or action.
    pub kind: LearningKind,
    /// When recorded.
    pub recorded_on: NaiveDate,
    /// Summary.
    pub summary: String,
    /// When an action is due.
    pub action_due_on: Option<NaiveDate>,
}

/// One kind of learning recorded in the year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LearningSummary {
    /// How many were recorded in the year.
    pub total: u64,
    /// The latest of them (at most 10), newest first; all of them are at `full_list`.
    pub recent: Vec<LearningItem>,
}

/// Learning recorded in the year (items 5 and 6), summarised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LearningReport {
    /// Lessons and actions recorded in the year.
    pub total: u64,
    /// Lessons and matters of general importance (item 5).
    pub lessons: LearningSummary,
    /// Actions taken or planned (item 6).
    pub actions: LearningSummary,
    /// Where every lesson and action of the year is listed, oldest first, a page at a time
    /// (`cursor`, `limit`): the API path with its query.
    pub full_list: String,
}

/// The path and query of the full list of `organisation`'s learning in `year`.
pub fn full_list_route(organisation: &str, year: i32) -> String {
    let mut encoded = String::with_capacity(organisation.len());
    for byte in organisation.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{LEARNING_ROUTE}?organisation={encoded}&year={year}")
}

/// The learning of `organisation` recorded between `start` and `end`, summarised as the
/// database does it: counts by kind, the latest [`RECENT_LEARNING`] of each by
/// `(recorded_on, complaint_id, sequence)`. Pure; the definition the SQL is tested against.
pub fn summarise_learning(
    organisation: &str,
    year: i32,
    start: NaiveDate,
    end: NaiveDate,
    learning: &[LearningFact],
) -> LearningReport {
    let mut items: Vec<&LearningFact> = learning
        .iter()
        .filter(|l| l.organisation_id == organisation)
        .filter(|l| start <= l.recorded_on && l.recorded_on <= end)
        .collect();
    items.sort_by(|a, b| {
        (b.recorded_on, &b.complaint_id, b.sequence).cmp(&(
            a.recorded_on,
            &a.complaint_id,
            a.sequence,
        ))
    });
    let mut report = LearningReport {
        full_list: full_list_route(organisation, year),
        ..LearningReport::default()
    };
    for l in items {
        let summary = match l.kind {
            LearningKind::Lesson => &mut report.lessons,
            LearningKind::Action => &mut report.actions,
        };
        summary.total += 1;
        if summary.recent.len() < RECENT_LEARNING {
            summary.recent.push(item(l));
        }
    }
    report.total = report.lessons.total + report.actions.total;
    report
}

fn item(l: &LearningFact) -> LearningItem {
    LearningItem {
        kind: l.kind,
        recorded_on: l.recorded_on,
        summary: l.summary.clone(),
        action_due_on: l.action_due_on,
    }
}

/// Where a page of the full list ends: the last row's place in its order, unique per row,
/// so a walk by cursor sees every lesson and action once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearningCursor {
    /// The row's day.
    pub recorded_on: NaiveDate,
    /// The row's complaint.
    pub complaint_id: String,
    /// The row's sequence.
    pub sequence: i64,
}

impl LearningCursor {
    /// The opaque form handed to callers (hex, so it needs no escaping in a URL).
    pub fn encode(&self) -> String {
        hex::encode(format!(
            "{}|{}|{}",
            self.recorded_on, self.complaint_id, self.sequence
        ))
    }

    /// Reads a cursor made by [`LearningCursor::encode`]; `None` for anything else.
    pub fn decode(raw: &str) -> Option<Self> {
        let text = String::from_utf8(hex::decode(raw.trim()).ok()?).ok()?;
        let mut parts = text.split('|');
        let (day, complaint_id, sequence) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let id_ok = !complaint_id.is_empty()
            && complaint_id.len() <= 64
            && complaint_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !id_ok {
            return None;
        }
        Some(Self {
            recorded_on: NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?,
            complaint_id: complaint_id.to_string(),
            sequence: sequence.parse().ok()?,
        })
    }
}

/// A page of the full list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearningPage {
    /// The lessons and actions, oldest first.
    pub items: Vec<LearningItem>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<LearningCursor>,
}

/// The year's days, refusing a year outside [`REPORT_YEARS`] as the annual report does.
pub(super) fn report_period(year: i32) -> Result<(NaiveDate, NaiveDate), ProjectionError> {
    financial_year(year)
        .filter(|_| REPORT_YEARS.contains(&year))
        .ok_or_else(|| {
            ProjectionError::InvalidQuery(format!(
                "year must be between {} and {}",
                REPORT_YEARS.start(),
                REPORT_YEARS.end()
            ))
        })
}

/// A `rm_report_learning` row as read.
type RawRow = (String, i64, String, Option<String>, String, Option<String>);

fn parse_row(raw: RawRow) -> Result<(LearningCursor, LearningItem), ProjectionError> {
    let (complaint_id, sequence, kind, recorded_on, summary, action_due_on) = raw;
    let decode = |what: &str, value: &str| ProjectionError::Decode {
        what: what.to_string(),
        reason: format!("unreadable value `{value}`"),
    };
    let day = |what: &str, value: Option<String>| {
        value
            .map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| decode(what, &s)))
            .transpose()
    };
    let recorded_on =
        day("recorded_on", recorded_on)?.ok_or_else(|| decode("recorded_on", "NULL"))?;
    let kind = LearningKind::parse(&kind).ok_or_else(|| decode("learning kind", &kind))?;
    Ok((
        LearningCursor {
            recorded_on,
            complaint_id,
            sequence,
        },
        LearningItem {
            kind,
            recorded_on,
            summary,
            action_due_on: day("action_due_on", action_due_on)?,
        },
    ))
}

/// Values bound to a learning query, in placeholder order.
enum Bind {
    Text(String),
    Int(i64),
    Date(NaiveDate),
}

/// Runs `sql` with `binds` and decodes its learning rows.
async fn fetch_rows(
    pool: &Pool,
    sql: &str,
    binds: &[Bind],
) -> Result<Vec<(LearningCursor, LearningItem)>, ProjectionError> {
    let raw: Vec<RawRow> = on_pool!(pool, |p| {
        let mut query = sqlx::query(sql);
        for bind in binds {
            query = match bind {
                Bind::Text(v) => query.bind(v.clone()),
                Bind::Int(v) => query.bind(*v),
                Bind::Date(v) => query.bind(*v),
            };
        }
        query
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| {
                Ok::<_, sqlx::Error>((
                    r.try_get("complaint_id")?,
                    r.try_get("sequence")?,
                    r.try_get("kind")?,
                    r.try_get("recorded_on")?,
                    r.try_get("summary")?,
                    r.try_get("action_due_on")?,
                ))
            })
            .collect::<Result<Vec<_>, _>>()?
    });
    raw.into_iter().map(parse_row).collect()
}

fn columns(pool: &Pool) -> String {
    let b = pool.backend();
    format!(
        "complaint_id, sequence, kind, {} AS recorded_on, summary, {} AS action_due_on",
        date_text(b, "recorded_on"),
        date_text(b, "action_due_on")
    )
}

/// The learning part of `organisation`'s annual report for `year`: three statements
/// whatever the year holds (counts by kind, then the latest of each kind by index).
pub async fn learning_report_for(
    pool: &Pool,
    organisation: &str,
    year: i32,
) -> Result<LearningReport, ProjectionError> {
    let (from, to) = report_period(year)?;
    let counts_sql = format!(
        "SELECT kind, count(*) AS n FROM {LEARNING}
         WHERE organisation_id = $1 AND recorded_on >= $2 AND recorded_on <= $3 GROUP BY kind"
    );
    let counts: Vec<(String, i64)> = on_pool!(pool, |p| sqlx::query(&counts_sql)
        .bind(organisation)
        .bind(from)
        .bind(to)
        .fetch_all(p)
        .await?
        .into_iter()
        .map(|r| Ok::<_, sqlx::Error>((r.try_get("kind")?, r.try_get("n")?)))
        .collect::<Result<Vec<_>, _>>()?);
    let mut report = LearningReport {
        full_list: full_list_route(organisation, year),
        ..LearningReport::default()
    };
    for (kind, n) in counts {
        let n = u64::try_from(n).unwrap_or_default();
        match LearningKind::parse(&kind) {
            Some(LearningKind::Lesson) => report.lessons.total = n,
            Some(LearningKind::Action) => report.actions.total = n,
            None => {
                return Err(ProjectionError::Decode {
                    what: "learning kind".into(),
                    reason: format!("unreadable value `{kind}`"),
                })
            }
        }
    }
    report.total = report.lessons.total + report.actions.total;
    let recent_sql = format!(
        "SELECT {} FROM {LEARNING}
         WHERE organisation_id = $1 AND kind = $2 AND recorded_on >= $3 AND recorded_on <= $4
         ORDER BY recorded_on DESC, complaint_id DESC, sequence DESC LIMIT $5",
        columns(pool)
    );
    for (kind, summary) in [
        (LearningKind::Lesson, &mut report.lessons),
        (LearningKind::Action, &mut report.actions),
    ] {
        if summary.total == 0 {
            continue;
        }
        let binds = [
            Bind::Text(organisation.to_string()),
            Bind::Text(kind.code().to_string()),
            Bind::Date(from),
            Bind::Date(to),
            Bind::Int(RECENT_LEARNING as i64),
        ];
        summary.recent = fetch_rows(pool, &recent_sql, &binds)
            .await?
            .into_iter()
            .map(|(_, item)| item)
            .collect();
    }
    Ok(report)
}

/// Up to `limit` (1 to [`MAX_LEARNING_PAGE`]) lessons and actions of `organisation` recorded
/// in `year` after `after` (from the first when `None`), oldest first by
/// `(recorded_on, complaint_id, sequence)`, only of `kind` when given; `next_cursor` is set
/// whenever more remain.
pub async fn learning_page(
    pool: &Pool,
    organisation: &str,
    year: i32,
    kind: Option<LearningKind>,
    after: Option<&LearningCursor>,
    limit: i64,
) -> Result<LearningPage, ProjectionError> {
    if !(1..=MAX_LEARNING_PAGE).contains(&limit) {
        return Err(ProjectionError::InvalidQuery(format!(
            "limit must be between 1 and {MAX_LEARNING_PAGE}"
        )));
    }
    let (from, to) = report_period(year)?;
    let mut binds = vec![
        Bind::Text(organisation.to_string()),
        Bind::Date(from),
        Bind::Date(to),
    ];
    let mut sql = format!(
        "SELECT {} FROM {LEARNING} WHERE organisation_id = $1 AND recorded_on >= $2 AND recorded_on <= $3",
        columns(pool)
    );
    if let Some(kind) = kind {
        binds.push(Bind::Text(kind.code().to_string()));
        sql.push_str(&format!(" AND kind = ${}", binds.len()));
    }
    if let Some(cursor) = after {
        // A row value, compared as ORDER BY sorts, so the index's range starts at the cursor.
        binds.push(Bind::Date(cursor.recorded_on));
        binds.push(Bind::Text(cursor.complaint_id.clone()));
        binds.push(Bind::Int(cursor.sequence));
        let n = binds.len();
        sql.push_str(&format!(
            " AND (recorded_on, complaint_id, sequence) > (${}, ${}, ${n})",
            n - 2,
            n - 1
        ));
    }
    // One row past the page tells whether another follows.
    binds.push(Bind::Int(limit + 1));
    sql.push_str(&format!(
        " ORDER BY recorded_on, complaint_id, sequence LIMIT ${}",
        binds.len()
    ));
    let mut rows = fetch_rows(pool, &sql, &binds).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|(cursor, _)| cursor.clone())
    } else {
        None
    };
    Ok(LearningPage {
        items: rows.into_iter().map(|(_, item)| item).collect(),
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::models::reporting::fixtures::{d, lesson};

    #[test]
    fn a_cursor_round_trips_and_anything_else_is_refused() {
        let cursor = LearningCursor {
            recorded_on: d("2025-06-01"),
            complaint_id: "c-12".into(),
            sequence: 7,
        };
        assert_eq!(LearningCursor::decode(&cursor.encode()), Some(cursor));
        for bad in [
            "",
            "zz",
            &hex::encode("2025-06-01|c 1|7"),
            &hex::encode("x|c|1"),
        ] {
            assert_eq!(LearningCursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_summary_counts_every_item_and_names_the_latest_ten_of_each_kind() {
        let mut facts: Vec<LearningFact> = (0..25)
            .map(|n| {
                lesson(
                    &format!("c{n:02}"),
                    2,
                    LearningKind::Lesson,
                    &format!("2025-05-{:02}", n + 1),
                    &format!("lesson {n}"),
                )
            })
            .collect();
        facts.push(lesson("a", 3, LearningKind::Action, "2025-07-01", "act"));
        facts.push(lesson(
            "b",
            3,
            LearningKind::Action,
            "2026-04-01",
            "next year",
        ));
        let r = summarise_learning("RAL", 2025, d("2025-04-01"), d("2026-03-31"), &facts);
        assert_eq!((r.total, r.lessons.total, r.actions.total), (26, 25, 1));
        assert_eq!(r.lessons.recent.len(), RECENT_LEARNING);
        assert_eq!(r.lessons.recent[0].summary, "lesson 24", "newest first");
        assert_eq!(r.lessons.recent[9].summary, "lesson 15");
        assert_eq!(r.actions.recent[0].kind, LearningKind::Action);
        assert_eq!(
            r.full_list,
            "/v1/reports/annual/lessons?organisation=RAL&year=2025"
        );
        assert_eq!(
            full_list_route("R A&L", 2025),
            "/v1/reports/annual/lessons?organisation=R%20A%26L&year=2025"
        );
    }
}
