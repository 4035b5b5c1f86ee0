//! Reports (`/ui/reports`): the regulation 18 annual report of an organisation and year,
//! rendered by the report renderer the API and the command line use, server-rendered SVG
//! charts (complaints received per month, the on-time shares of acknowledgements and
//! responses, complaints per subject area), and every download the API offers (served here
//! under the session, since a browser cannot send the API's bearer token).

use super::deadlines::Choice;
use super::{organisations, page, Chrome, PageError};
use crate::app::clock::london_date;
use crate::app::state::AppState;
use crate::error::ApiError;
use crate::http::reports::REPORT_ROLES;
use crate::ui::session::Session;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use complaints_eventlog::on_pool;
use complaints_projections::models::case_views;
use complaints_projections::models::reporting::{self, document};
use futures::StreamExt;
use serde::Deserialize;
use sqlx::Row;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/reports", get(reports))
        .route("/ui/reports/download", get(download))
}

#[derive(Debug, Deserialize)]
pub(super) struct ReportQuery {
    pub organisation: Option<String>,
    pub year: Option<i32>,
    /// Set after the national return was marked submitted from its page.
    pub done: Option<String>,
}

struct Download {
    href: String,
    label: &'static str,
}

/// One bar of the chart.
struct Bar {
    x: usize,
    y: usize,
    height: usize,
    label: String,
    month: String,
    count: i64,
    label_y: usize,
}

/// One horizontal bar of a chart of shares or counts: `width` of [`ROW_WIDTH`].
struct ChartRow {
    y: usize,
    width: usize,
    label: String,
    /// The figure as printed beside the bar and in the table.
    figure: String,
}

/// Drawing width of a horizontal bar at 100 %, and the height of one row, in SVG units.
const ROW_WIDTH: usize = 400;
const ROW_STEP: usize = 34;

fn row(i: usize, label: String, value: u64, of: u64, figure: String) -> ChartRow {
    // An empty whole draws no bar.
    let width = value
        .saturating_mul(ROW_WIDTH as u64)
        .checked_div(of)
        .map_or(0, |w| usize::try_from(w).unwrap_or(ROW_WIDTH));
    ChartRow {
        y: 10 + i * ROW_STEP,
        width,
        label,
        figure,
    }
}

/// The three on-time shares of the annual report (R-AR-3, R-AR-4), as bars of 100 %.
fn on_time_rows(report: &reporting::AnnualReport) -> Vec<ChartRow> {
    [
        (
            "Acknowledged within 3 working days",
            &report.acknowledged_within_3_working_days,
        ),
        (
            "Responded within the agreed period",
            &report.responded_within_agreed_period,
        ),
        (
            "Responded within the internal target",
            &report.responded_within_internal_target,
        ),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (label, share))| {
        let figure = match share.share {
            Some(s) => format!("{:.0}% ({} of {})", s * 100.0, share.met, share.total),
            None => "none in the year".to_string(),
        };
        row(i, label.to_string(), share.met, share.total, figure)
    })
    .collect()
}

/// Complaints received per subject area, largest first, as bars of the largest.
fn subject_rows(report: &reporting::AnnualReport) -> Vec<ChartRow> {
    let mut counts: Vec<(&String, &u64)> = report.by_subject_area.iter().collect();
    counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let largest = counts.first().map_or(0, |(_, n)| **n);
    counts
        .into_iter()
        .enumerate()
        .map(|(i, (subject, n))| row(i, super::humanise(subject), *n, largest, n.to_string()))
        .collect()
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
    organisations: Vec<Choice>,
    years: Vec<Choice>,
    title: String,
    /// The renderer's HTML of the report (every value escaped by the renderer).
    report_html: String,
    downloads: Vec<Download>,
    /// The national return page of the same organisation and year.
    national_return: String,
    bars: Vec<Bar>,
    max: i64,
    position: i64,
    total: i64,
    on_time: Vec<ChartRow>,
    subjects: Vec<ChartRow>,
    /// Drawing height of the subjects chart.
    subjects_height: usize,
}

/// The organisation and year asked for, or the caller's first organisation and the current
/// financial year; the caller must act for the organisation.
pub(super) fn chosen(
    state: &AppState,
    session: &Session,
    query: &ReportQuery,
) -> Result<(String, i32), ApiError> {
    let caller = &session.caller;
    caller.require(REPORT_ROLES)?;
    let organisation = match query.organisation.as_deref().filter(|o| !o.is_empty()) {
        Some(org) => organisations(caller, Some(org))?.remove(0),
        None => caller
            .organisations
            .first()
            .cloned()
            .ok_or_else(|| ApiError::Forbidden("you act for no organisation".into()))?,
    };
    let year = query
        .year
        .unwrap_or_else(|| reporting::financial_year_of(london_date(state.now())));
    if !reporting::REPORT_YEARS.contains(&year) {
        return Err(ApiError::BadRequest(format!(
            "year must be between {} and {}",
            reporting::REPORT_YEARS.start(),
            reporting::REPORT_YEARS.end()
        )));
    }
    Ok((organisation, year))
}

/// Complaints received per month of the financial year, from the case list (one query).
async fn received_per_month(
    state: &AppState,
    organisation: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, i64)>, ApiError> {
    let pool = state.cases.log().pool();
    // Compared on the column itself, so the (organisation, received_on) index reads only
    // the year's rows; a date is bound as text, which PostgreSQL casts to the column's DATE.
    let day = |placeholder: &str| match pool {
        complaints_eventlog::Pool::Postgres(_) => format!("CAST({placeholder} AS DATE)"),
        complaints_eventlog::Pool::Sqlite(_) => placeholder.to_string(),
    };
    let sql = format!(
        "SELECT substr(CAST(received_on AS TEXT), 1, 7) AS month, COUNT(*) AS n
         FROM rm_case_list
         WHERE organisation_id = $1 AND received_on >= {} AND received_on <= {}
         GROUP BY substr(CAST(received_on AS TEXT), 1, 7)",
        day("$2"),
        day("$3")
    );
    let counted: Vec<(String, i64)> = on_pool!(pool, |p| sqlx::query(&sql)
        .bind(organisation)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(p)
        .await?
        .into_iter()
        .map(|r| Ok::<_, sqlx::Error>((r.try_get("month")?, r.try_get("n")?)))
        .collect::<Result<Vec<_>, _>>()?);
    let mut months = Vec::new();
    let mut month = from;
    while month <= to {
        let key = month.format("%Y-%m").to_string();
        let n = counted
            .iter()
            .find(|(m, _)| *m == key)
            .map_or(0, |(_, n)| *n);
        months.push((month, n));
        month = month
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX);
    }
    Ok(months)
}

/// Width and height of the chart's drawing area, in SVG units.
const CHART_HEIGHT: usize = 200;
const BAR_STEP: usize = 56;

fn bars(months: &[(NaiveDate, i64)]) -> (Vec<Bar>, i64) {
    let max = months.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let bars = months
        .iter()
        .enumerate()
        .map(|(i, (month, n))| {
            let height =
                usize::try_from(*n).unwrap_or(0) * CHART_HEIGHT / usize::try_from(max).unwrap_or(1);
            let y = 20 + CHART_HEIGHT - height;
            Bar {
                x: 40 + i * BAR_STEP,
                y,
                height,
                label: month.format("%b").to_string(),
                month: month.format("%B %Y").to_string(),
                count: *n,
                label_y: y.saturating_sub(4),
            }
        })
        .collect();
    (bars, max)
}

async fn reports(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let (organisation, year) = chosen(&state, &session, &query)?;
    let pool = state.cases.log().pool();
    let report = reporting::annual_report_for(pool, &organisation, year)
        .await
        .map_err(ApiError::from)?;
    let position = case_views::reflected_position(pool, reporting::NAME)
        .await
        .map_err(ApiError::from)?;
    let rendered = document::html(&report);
    // The renderer makes a whole page; the body is the report.
    let report_html = rendered
        .split_once("<body>")
        .and_then(|(_, rest)| rest.rsplit_once("</body>"))
        .map(|(body, _)| {
            // Headings one level down and GOV.UK table styles; the text is the renderer's.
            body.replace("<h2>", "<h3 class=\"govuk-heading-s\">")
                .replace("</h2>", "</h3>")
                .replace("<h1>", "<h2 class=\"govuk-heading-m\">")
                .replace("</h1>", "</h2>")
                .replace("<table>", "<table class=\"govuk-table\">")
        })
        .unwrap_or_default();
    let q = format!("organisation={}&year={year}", super::encode(&organisation));
    // The renderer points at the API's paged list; a browser gets the same list as a file.
    let report_html = report_html.replace(
        &document::escape_html(&report.learning.full_list),
        &format!(
            "<a class=\"govuk-link\" href=\"/ui/reports/download?{}&amp;what=annual-learning-csv\">\
             the full list (CSV)</a>",
            document::escape_html(&q)
        ),
    );
    let months = received_per_month(
        &state,
        &organisation,
        report.period_start,
        report.period_end,
    )
    .await?;
    let total = months.iter().map(|(_, n)| n).sum();
    let (bars, max) = bars(&months);
    let downloads = [
        ("annual-html", "Annual report (HTML)"),
        ("annual-markdown", "Annual report (Markdown)"),
        ("annual-csv", "Annual report tables (CSV)"),
        ("annual-json", "Annual report figures (JSON)"),
        (
            "annual-learning-csv",
            "Every lesson and action of the year (CSV)",
        ),
        ("written-complaints-csv", "National return KO41 (CSV)"),
        ("written-complaints-json", "National return KO41 (JSON)"),
    ]
    .into_iter()
    .map(|(what, label)| Download {
        href: format!("/ui/reports/download?{q}&what={what}"),
        label,
    })
    .collect();
    let this_year = reporting::financial_year_of(london_date(state.now()));
    let years = (this_year - 5..=this_year)
        .rev()
        .filter(|y| reporting::REPORT_YEARS.contains(y))
        .map(|y| Choice {
            value: y.to_string(),
            label: format!("{}-{:02}", y, (y + 1) % 100),
            selected: y == year,
        })
        .collect();
    let data = ReportsPage {
        chrome: Chrome::new(&session, "reports"),
        organisations: session
            .caller
            .organisations
            .iter()
            .map(|o| Choice {
                value: o.clone(),
                label: o.clone(),
                selected: *o == organisation,
            })
            .collect(),
        years,
        title: format!("{} annual report {}", organisation, report.label),
        report_html,
        downloads,
        national_return: format!("/ui/reports/written-complaints?{q}"),
        bars,
        max,
        position,
        total,
        on_time: on_time_rows(&report),
        subjects_height: 20 + report.by_subject_area.len() * ROW_STEP,
        subjects: subject_rows(&report),
    };
    page(&data)
}

#[derive(Debug, Deserialize)]
struct DownloadQuery {
    organisation: Option<String>,
    year: Option<i32>,
    what: String,
}

/// `GET /ui/reports/download`: the same bytes as the API's report routes.
async fn download(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<DownloadQuery>,
) -> Result<Response, PageError> {
    let (organisation, year) = chosen(
        &state,
        &session,
        &ReportQuery {
            organisation: query.organisation.clone(),
            year: query.year,
            done: None,
        },
    )?;
    let pool = state.cases.log().pool();
    if query.what == "annual-learning-csv" {
        return Ok(learning_csv(pool.clone(), organisation, year).await?);
    }
    let (body, media_type, extension) = match query.what.as_str() {
        "annual-html" | "annual-markdown" | "annual-csv" => {
            let format = document::Format::parse(query.what.trim_start_matches("annual-"))
                .ok_or(ApiError::NotFound)?;
            let report = reporting::annual_report_for(pool, &organisation, year)
                .await
                .map_err(ApiError::from)?;
            (
                document::render(&report, format),
                format.media_type(),
                format.extension(),
            )
        }
        "annual-json" => {
            let report = reporting::annual_report_for(pool, &organisation, year)
                .await
                .map_err(ApiError::from)?;
            (
                serde_json::to_string_pretty(&report).map_err(|e| {
                    ApiError::Internal(anyhow::anyhow!("cannot encode the report: {e}"))
                })?,
                "application/json",
                "json",
            )
        }
        // As `GET /v1/reports/written-complaints?period=`: a submitted year's figures as
        // submitted, with who, when and the adjustments since (R-KO-3a).
        "written-complaints-csv" | "written-complaints-json" => {
            let shown = reporting::year_return(pool, &organisation, year)
                .await
                .map_err(ApiError::from)?;
            if query.what.ends_with("csv") {
                (
                    reporting::written_complaints_csv(&shown.report),
                    "text/csv; charset=utf-8",
                    "csv",
                )
            } else {
                let position = case_views::reflected_position(pool, reporting::NAME)
                    .await
                    .map_err(ApiError::from)?;
                let mut answer = serde_json::json!({
                    "report": shown.report,
                    "adjustments": shown.adjustments,
                    "position": position,
                });
                if let Some(submitted) = shown.submitted {
                    answer["submitted"] = serde_json::json!(submitted);
                }
                (
                    serde_json::to_string_pretty(&answer).map_err(|e| {
                        ApiError::Internal(anyhow::anyhow!("cannot encode the return: {e}"))
                    })?,
                    "application/json",
                    "json",
                )
            }
        }
        _ => return Err(ApiError::NotFound.into()),
    };
    let name = format!(
        "attachment; filename=\"{}-{}-{year}.{extension}\"",
        query.what.split('-').next().unwrap_or("report"),
        organisation
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>(),
    );
    let disposition = header::HeaderValue::from_str(&name)
        .unwrap_or(header::HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(media_type),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            ),
        ],
        body,
    )
        .into_response())
}

/// Every lesson and action of the year as CSV (`kind,recorded_on,action_due_on,summary`),
/// streamed a page at a time so a year of 138,000 is never held whole; a failure mid-way
/// cuts the download rather than ending it as if complete.
async fn learning_csv(
    pool: complaints_eventlog::Pool,
    organisation: String,
    year: i32,
) -> Result<Response, ApiError> {
    use bytes::Bytes;
    // The first page is read here, so a bad year is a page, not a cut download.
    let first = reporting::learning_page(
        &pool,
        &organisation,
        year,
        None,
        None,
        reporting::MAX_LEARNING_PAGE,
    )
    .await?;
    let field = |value: &str| {
        if value.contains([',', '"', '\r', '\n']) {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            value.to_string()
        }
    };
    let lines = move |items: &[reporting::LearningItem]| {
        let mut out = String::new();
        for item in items {
            out.push_str(&format!(
                "{},{},{},{}\r\n",
                item.kind.code(),
                item.recorded_on,
                item.action_due_on
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                field(&item.summary)
            ));
        }
        out
    };
    let head = format!(
        "kind,recorded_on,action_due_on,summary\r\n{}",
        lines(&first.items)
    );
    let name = format!(
        "attachment; filename=\"learning-{}-{year}.csv\"",
        organisation
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
    );
    let rest = futures::stream::unfold(first.next_cursor, move |cursor| {
        let (pool, organisation) = (pool.clone(), organisation.clone());
        async move {
            let cursor = cursor?;
            let page = reporting::learning_page(
                &pool,
                &organisation,
                year,
                None,
                Some(&cursor),
                reporting::MAX_LEARNING_PAGE,
            )
            .await;
            Some(match page {
                Ok(page) => (Ok(Bytes::from(lines(&page.items))), page.next_cursor),
                Err(e) => (Err(std::io::Error::other(e.to_string())), None),
            })
        }
    });
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(head))]).chain(rest);
    let disposition = header::HeaderValue::from_str(&name)
        .unwrap_or(header::HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_drawn_against_their_whole_and_subjects_against_the_largest() {
        let mut report = reporting::annual_report("RAL", 2025, &[], &[], &[]);
        report.acknowledged_within_3_working_days =
            serde_json::from_value(serde_json::json!({"met": 3, "total": 4, "share": 0.75}))
                .unwrap();
        let rows = on_time_rows(&report);
        assert_eq!(rows[0].width, ROW_WIDTH * 3 / 4);
        assert_eq!(rows[0].figure, "75% (3 of 4)");
        assert_eq!(rows[1].width, 0);
        assert_eq!(rows[1].figure, "none in the year");
        report.by_subject_area.insert("communications".into(), 2);
        report
            .by_subject_area
            .insert("clinical_treatment".into(), 8);
        let rows = subject_rows(&report);
        assert_eq!(rows[0].label, "Clinical treatment");
        assert_eq!((rows[0].width, rows[1].width), (ROW_WIDTH, ROW_WIDTH / 4));
        assert_eq!(rows[1].y, rows[0].y + ROW_STEP);
    }

    #[test]
    fn bars_scale_to_the_largest_month() {
        let m = |month: u32, n: i64| (NaiveDate::from_ymd_opt(2026, month, 1).unwrap(), n);
        let (bars, max) = bars(&[m(4, 2), m(5, 0), m(6, 4)]);
        assert_eq!(max, 4);
        assert_eq!(bars[0].height, CHART_HEIGHT / 2);
        assert_eq!(bars[1].height, 0);
        assert_eq!(bars[2].height, CHART_HEIGHT);
        assert_eq!(bars[2].x, 40 + 2 * BAR_STEP);
    }
}
