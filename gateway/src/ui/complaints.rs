//! The case list (`/ui/complaints`, with its CSV download): the case list read model, as
//! `GET /v1/complaints`, filtered by organisation, status, stage, channel, kind of case,
//! subject area, days received, assigned caseworker and overdue deadlines.

use super::deadlines::Choice;
use super::{day, encode, humanise, organisations, page, Chrome, PageError, LIST_ROLES};
use crate::app::clock::london_date;
use crate::app::state::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ui::session::Session;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use complaints_domain::{CaseKind, Channel};
use complaints_projections::models::case_views::{self, CaseFilter, CaseListRow, DeadlineFilter};
use serde::Deserialize;
use std::collections::HashSet;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/complaints", get(list))
        .route("/ui/complaints.csv", get(list_csv))
}

/// The statuses a complaint can have, for the filter.
const STATUSES: &[&str] = &[
    "received",
    "awaiting_time_limit_decision",
    "awaiting_representative_grounds",
    "awaiting_consent",
    "investigating",
    "under_review",
    "responded",
    "closed",
];

/// The kinds of case the list holds: whistleblowing concerns never reach it (R-KIND-3).
const KINDS: &[CaseKind] = &[
    CaseKind::Complaint,
    CaseKind::Enquiry,
    CaseKind::AboutOrganisation,
];

/// Page size of the case list.
const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    organisation: Option<String>,
    status: Option<String>,
    stage: Option<String>,
    channel: Option<String>,
    kind: Option<String>,
    subject_area: Option<String>,
    received_from: Option<String>,
    received_to: Option<String>,
    assigned_to: Option<String>,
    overdue: Option<String>,
    cursor: Option<String>,
}

/// The list's filter, checked.
struct Filtered {
    filter: CaseFilter,
    overdue: bool,
    /// The filter as a query string (no cursor), for the CSV link and paging.
    query: String,
}

pub(super) fn date_field(raw: Option<&str>, name: &str) -> Result<Option<NaiveDate>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::BadRequest(format!("{name} must be a date like 2026-04-02"))),
    }
}

fn parse_cursor(raw: &str) -> Result<(NaiveDate, String), ApiError> {
    let bad = || ApiError::BadRequest("the page cursor is not one this service gave".into());
    let (day, id) = raw.split_once('_').ok_or_else(bad)?;
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| bad())?;
    let id = uuid::Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((day, id.to_string()))
}

fn filtered(caller: &Caller, q: &ListQuery, limit: i64) -> Result<Filtered, ApiError> {
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let status = nonempty(&q.status);
    if let Some(s) = &status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(ApiError::BadRequest(format!("unknown status `{s}`")));
        }
    }
    let stage = match nonempty(&q.stage).as_deref().map(str::trim) {
        None => None,
        Some("1") => Some(1),
        Some("2") => Some(2),
        Some(other) => return Err(ApiError::BadRequest(format!("unknown stage `{other}`"))),
    };
    let channel = nonempty(&q.channel)
        .map(|c| {
            Channel::parse(&c)
                .map(|c| c.code().to_string())
                .ok_or_else(|| ApiError::BadRequest(format!("unknown channel `{c}`")))
        })
        .transpose()?;
    let kind = nonempty(&q.kind)
        .map(|k| {
            CaseKind::parse(&k)
                .filter(|k| KINDS.contains(k))
                .map(|k| k.code().to_string())
                .ok_or_else(|| ApiError::BadRequest(format!("unknown kind of case `{k}`")))
        })
        .transpose()?;
    let filter = CaseFilter {
        organisations: organisations(caller, q.organisation.as_deref())?,
        status,
        stage,
        channel,
        kind,
        received_from: date_field(q.received_from.as_deref(), "received from")?,
        received_to: date_field(q.received_to.as_deref(), "received to")?,
        subject_area: nonempty(&q.subject_area).map(|s| s.trim().to_string()),
        assigned_to: crate::http::queries::caseworker(q.assigned_to.clone()),
        after: nonempty(&q.cursor)
            .as_deref()
            .map(parse_cursor)
            .transpose()?,
        limit,
    };
    let overdue = q.overdue.as_deref() == Some("true");
    let mut parts = Vec::new();
    for (name, value) in [
        ("organisation", &q.organisation),
        ("status", &q.status),
        ("stage", &q.stage),
        ("channel", &q.channel),
        ("kind", &q.kind),
        ("subject_area", &q.subject_area),
        ("received_from", &q.received_from),
        ("received_to", &q.received_to),
        ("assigned_to", &q.assigned_to),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            parts.push(format!("{name}={}", encode(v.trim())));
        }
    }
    if overdue {
        parts.push("overdue=true".into());
    }
    Ok(Filtered {
        filter,
        overdue,
        query: parts.join("&"),
    })
}

/// Rows of the case list matching `f`, up to `want` (+1 to tell whether more follow). With
/// "overdue", the overdue complaints come from one query of the deadlines read model and
/// the list is read in pages until enough match.
async fn rows(state: &AppState, f: &Filtered, want: usize) -> Result<Vec<CaseListRow>, ApiError> {
    let pool = state.cases.log().pool();
    if !f.overdue {
        return Ok(case_views::list_cases(pool, &f.filter).await?);
    }
    let overdue: HashSet<String> = case_views::list_deadlines(
        pool,
        &DeadlineFilter {
            organisations: f.filter.organisations.clone(),
            due_before: None,
            overdue: true,

            unmet_only: false,
            kind: None,
            assigned_to: None,
            today: london_date(state.now()),
        },
    )
    .await?
    .into_iter()
    .map(|d| d.complaint_id)
    .collect();
    let mut out = Vec::new();
    let mut filter = f.filter.clone();
    filter.limit = 500;
    // Bounded: at most 40 pages of 500 rows for one page of the list.
    for _ in 0..40 {
        let page = case_views::list_cases(pool, &filter).await?;
        let last = page.last().map(|r| (r.received_on, r.complaint_id.clone()));
        let full = page.len() as i64 == filter.limit;
        out.extend(
            page.into_iter()
                .filter(|r| overdue.contains(&r.complaint_id)),
        );
        if out.len() > want || !full || overdue.is_empty() {
            break;
        }
        filter.after = last;
    }
    Ok(out)
}

struct Row {
    href: String,
    short_id: String,
    organisation: String,
    kind: String,
    status: String,
    stage: i64,
    channel: String,
    received: String,
    subjects: String,
    acknowledged: String,
    assigned_to: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "complaints.html")]
struct ListPage {
    chrome: Chrome,
    organisations: Vec<Choice>,
    statuses: Vec<Choice>,
    stages: Vec<Choice>,
    channels: Vec<Choice>,
    kinds: Vec<Choice>,
    subject_area: String,
    received_from: String,
    received_to: String,
    assigned_to: String,
    overdue: bool,
    rows: Vec<Row>,
    next: Option<String>,
    csv: String,
    position: i64,
}

async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let caller = &session.caller;
    caller.require(LIST_ROLES)?;
    let f = filtered(caller, &q, PAGE + 1)?;
    let pool = state.cases.log().pool();
    let position = case_views::reflected_position(pool, case_views::NAME)
        .await
        .map_err(ApiError::from)?;
    let mut items = rows(&state, &f, PAGE as usize).await?;
    let next = if items.len() as i64 > PAGE {
        items.truncate(PAGE as usize);
        items.last().map(|r| {
            let cursor = format!("cursor={}_{}", r.received_on, r.complaint_id);
            if f.query.is_empty() {
                format!("/ui/complaints?{cursor}")
            } else {
                format!("/ui/complaints?{}&{cursor}", f.query)
            }
        })
    } else {
        None
    };
    let overdue_ids: HashSet<String> = if f.overdue {
        items.iter().map(|r| r.complaint_id.clone()).collect()
    } else {
        HashSet::new()
    };
    let chosen_org = q.organisation.clone().unwrap_or_default();
    let chosen_status = q.status.clone().unwrap_or_default();
    let data = ListPage {
        chrome: Chrome::new(&session, "complaints"),
        organisations: Choice::options(
            "All my organisations",
            &chosen_org,
            caller.organisations.iter().map(|o| (o.clone(), o.clone())),
        ),
        statuses: Choice::options(
            "Any status",
            &chosen_status,
            STATUSES.iter().map(|s| (s.to_string(), humanise(s))),
        ),
        stages: Choice::options(
            "Any stage",
            q.stage.as_deref().unwrap_or_default(),
            [
                ("1".to_string(), "1: local resolution".to_string()),
                ("2".to_string(), "2: internal review".to_string()),
            ],
        ),
        channels: Choice::options(
            "Any channel",
            f.filter.channel.as_deref().unwrap_or_default(),
            Channel::ALL
                .iter()
                .map(|c| (c.code().to_string(), humanise(c.code()))),
        ),
        kinds: Choice::options(
            "Any kind",
            f.filter.kind.as_deref().unwrap_or_default(),
            KINDS
                .iter()
                .map(|k| (k.code().to_string(), humanise(k.code()))),
        ),
        subject_area: q.subject_area.clone().unwrap_or_default(),
        received_from: q.received_from.clone().unwrap_or_default(),
        received_to: q.received_to.clone().unwrap_or_default(),
        assigned_to: f.filter.assigned_to.clone().unwrap_or_default(),
        overdue: f.overdue,
        rows: items
            .iter()
            .map(|r| Row {
                href: format!("/ui/complaints/{}", r.complaint_id),
                short_id: r.complaint_id.chars().take(8).collect(),
                organisation: r.organisation_id.clone(),
                kind: humanise(&r.kind),
                status: humanise(&r.status),
                stage: r.stage,
                channel: humanise(&r.channel),
                received: day(r.received_on),
                subjects: r
                    .subject_areas
                    .iter()
                    .map(|s| humanise(s))
                    .collect::<Vec<_>>()
                    .join(", "),
                acknowledged: r.acknowledged_on.map(day).unwrap_or_else(|| "No".into()),
                assigned_to: r.assigned_to.clone().unwrap_or_default(),
                overdue: overdue_ids.contains(&r.complaint_id),
            })
            .collect(),
        next,
        csv: if f.query.is_empty() {
            "/ui/complaints.csv".into()
        } else {
            format!("/ui/complaints.csv?{}", f.query)
        },
        position,
    };
    page(&data)
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// The most rows one CSV download holds.
const CSV_LIMIT: usize = 50_000;

/// `GET /ui/complaints.csv`: every row of the current filter (no personal data: the case
/// list holds none), read in pages of 500.
async fn list_csv(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let caller = &session.caller;
    caller.require(LIST_ROLES)?;
    let mut f = filtered(caller, &q, 500)?;
    let mut out = String::from(
        "complaint_id,organisation_id,status,stage,channel,subject_areas,service_area,risk_rating,received_on,acknowledged_on,closed_on,closure_reason,flags,version,kind,assigned_to\r\n",
    );
    let mut written = 0usize;
    loop {
        let page = rows(&state, &f, 500).await?;
        let full = !f.overdue && page.len() == 500;
        let last = page.last().map(|r| (r.received_on, r.complaint_id.clone()));
        for r in &page {
            let fields = [
                r.complaint_id.clone(),
                r.organisation_id.clone(),
                r.status.clone(),
                r.stage.to_string(),
                r.channel.clone(),
                r.subject_areas.join(" "),
                r.service_area.clone().unwrap_or_default(),
                r.risk_rating.clone().unwrap_or_default(),
                r.received_on.to_string(),
                r.acknowledged_on.map(|d| d.to_string()).unwrap_or_default(),
                r.closed_on.map(|d| d.to_string()).unwrap_or_default(),
                r.closure_reason.clone().unwrap_or_default(),
                r.flags.join(" "),
                r.version.to_string(),
                r.kind.clone(),
                r.assigned_to.clone().unwrap_or_default(),
            ];
            let line: Vec<String> = fields.iter().map(|v| csv_field(v)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
            written += 1;
        }
        if !full || written >= CSV_LIMIT {
            break;
        }
        f.filter.after = last;
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"complaints.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        out,
    )
        .into_response())
}
