// Over 600 lines: the case list and the case page (state, deadlines, timeline, time travel,
// the command form and its refusals) share one set of queries and rendering helpers.
//! The case list (`/ui/complaints`, with its CSV download) and the case page
//! (`/ui/complaints/{id}`): the current state, every deadline with its calendar version, the
//! timeline of every event with its seal, "as it stood on" a day, and the acknowledgement
//! form, run through the shared command runner.

use super::deadlines::Choice;
use super::{
    code, correlation_id, day, encode, humanise, humanise_type, instant, organisations, page,
    page_with, Chrome, PageError, HISTORY_ROLES, LIST_ROLES, READ_ROLES,
};
use crate::app::cases::CaseState;
use crate::app::clock::london_date;
use crate::app::commands;
use crate::app::runner::{self, Invocation};
use crate::app::state::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ui::session::Session;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{NaiveDate, TimeZone, Utc};
use complaints_domain::{deadline_statuses, evolve, warnings, Complaint};
use complaints_eventlog::{metadata as meta, read_stream};
use complaints_projections::models::case_views::{self, CaseFilter, CaseListRow, DeadlineFilter};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/complaints", get(list))
        .route("/ui/complaints.csv", get(list_csv))
        .route("/ui/complaints/{id}", get(case_page))
        .route("/ui/complaints/{id}/acknowledgement", post(acknowledge))
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

/// Page size of the case list.
const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    organisation: Option<String>,
    status: Option<String>,
    subject_area: Option<String>,
    received_from: Option<String>,
    received_to: Option<String>,
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

fn date_field(raw: Option<&str>, name: &str) -> Result<Option<NaiveDate>, ApiError> {
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
    let filter = CaseFilter {
        organisations: organisations(caller, q.organisation.as_deref())?,
        status,
        received_from: date_field(q.received_from.as_deref(), "received from")?,
        received_to: date_field(q.received_to.as_deref(), "received to")?,
        subject_area: nonempty(&q.subject_area).map(|s| s.trim().to_string()),
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
        ("subject_area", &q.subject_area),
        ("received_from", &q.received_from),
        ("received_to", &q.received_to),
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
            kind: None,
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
    status: String,
    received: String,
    subjects: String,
    acknowledged: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "complaints.html")]
struct ListPage {
    chrome: Chrome,
    organisations: Vec<Choice>,
    statuses: Vec<Choice>,
    subject_area: String,
    received_from: String,
    received_to: String,
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
        subject_area: q.subject_area.clone().unwrap_or_default(),
        received_from: q.received_from.clone().unwrap_or_default(),
        received_to: q.received_to.clone().unwrap_or_default(),
        overdue: f.overdue,
        rows: items
            .iter()
            .map(|r| Row {
                href: format!("/ui/complaints/{}", r.complaint_id),
                short_id: r.complaint_id.chars().take(8).collect(),
                organisation: r.organisation_id.clone(),
                status: humanise(&r.status),
                received: day(r.received_on),
                subjects: r
                    .subject_areas
                    .iter()
                    .map(|s| humanise(s))
                    .collect::<Vec<_>>()
                    .join(", "),
                acknowledged: r.acknowledged_on.map(day).unwrap_or_else(|| "No".into()),
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
        "complaint_id,organisation_id,status,stage,channel,subject_areas,service_area,risk_rating,received_on,acknowledged_on,closed_on,closure_reason,flags,version\r\n",
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

#[derive(Debug, Default, Deserialize)]
struct CaseQuery {
    as_of: Option<String>,
    done: Option<String>,
}

struct Fact {
    label: String,
    value: String,
}

struct DeadlineLine {
    kind: String,
    due: String,
    state: String,
    met: String,
    calendar_version: String,
    overdue: bool,
}

struct TimelineEntry {
    sequence: i64,
    what: String,
    recorded: String,
    occurred_on: String,
    who: String,
    correlation_id: String,
    seal: String,
    data: String,
}

/// The acknowledgement form, with what was entered and why it was refused.
struct AckForm {
    action: String,
    value: String,
    discussion_offered: bool,
    version: usize,
    command_id: String,
    error: Option<String>,
    rule: Option<String>,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    id: String,
    short_id: String,
    heading_status: String,
    facts: Vec<Fact>,
    warnings: Vec<String>,
    deadlines: Vec<DeadlineLine>,
    timeline: Option<Vec<TimelineEntry>>,
    as_of: String,
    as_of_label: Option<String>,
    done: Option<String>,
    ack: Option<AckForm>,
    acknowledged: Option<String>,
}

/// The case folded from its stream up to the end of `day` (England), and that many events.
fn as_it_stood(
    id: &str,
    events: &[complaints_eventlog::StoredEvent],
    until: chrono::DateTime<Utc>,
) -> (CaseState, usize) {
    let mut case = Complaint::default();
    let mut version = 0usize;
    let mut count = 0usize;
    for event in events.iter().take_while(|e| e.recorded_at <= until) {
        version = usize::try_from(event.sequence).unwrap_or_default();
        count += 1;
        evolve(&mut case, event.event.clone());
    }
    (
        CaseState {
            id: id.to_string(),
            case,
            version,
        },
        count,
    )
}

/// The last instant of `day` in England.
fn end_of_day(day: NaiveDate) -> Result<chrono::DateTime<Utc>, ApiError> {
    let next = day
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| ApiError::BadRequest("that day is out of range".into()))?;
    let start = chrono_tz::Europe::London
        .from_local_datetime(&next)
        .earliest()
        .ok_or_else(|| ApiError::BadRequest("that day is out of range".into()))?;
    Ok(start.with_timezone(&Utc) - chrono::Duration::nanoseconds(1))
}

fn new_command_id() -> String {
    let mut bytes = [0u8; 12];
    let _ = getrandom::fill(&mut bytes);
    format!("ui-{}", hex::encode(bytes))
}

/// Builds the case page. `ack` is the form as submitted when it was refused.
async fn build_case_page(
    state: &AppState,
    session: &Session,
    raw_id: &str,
    query: &CaseQuery,
    headers: &HeaderMap,
    ack: Option<AckForm>,
) -> Result<CasePage, ApiError> {
    let caller = &session.caller;
    // As the API: another organisation's complaint is 404 before any role is checked.
    let found = runner::visible_case(&state.cases, caller, raw_id).await?;
    let role = caller.require(runner::command_roles(&found, READ_ROLES))?;
    let as_of = date_field(query.as_of.as_deref(), "as it stood on")?;
    let organisation = found.case.receipt()?.organisation_id.clone();
    let correlation = correlation_id(headers);
    let show_history = caller.require(HISTORY_ROLES).ok();
    let pool = state.cases.log().pool();
    let events = read_stream(pool, &found.id).await?;
    let today = london_date(state.now());
    let (shown, judged_on, shown_events) = match as_of {
        Some(day) => {
            let (stood, count) = as_it_stood(&found.id, &events, end_of_day(day)?);
            if stood.version == 0 {
                return Err(ApiError::BadRequest(format!(
                    "the complaint had not been received by {day}"
                )));
            }
            (stood, day.min(today), count)
        }
        None => (found.clone(), today, events.len()),
    };
    let services = state.cases.services();
    let case = &shown.case;
    let receipt = case.receipt()?;
    let mut facts = vec![
        Fact {
            label: "Status".into(),
            value: humanise(case.status().code()),
        },
        Fact {
            label: "Organisation".into(),
            value: receipt.organisation_id.clone(),
        },
        Fact {
            label: "Received".into(),
            value: day(receipt.received_on),
        },
        Fact {
            label: "Channel".into(),
            value: humanise(&code(&receipt.channel)),
        },
        Fact {
            label: "Subject areas".into(),
            value: receipt
                .subject_areas
                .iter()
                .map(|s| humanise(&code(s)))
                .collect::<Vec<_>>()
                .join(", "),
        },
        Fact {
            label: "Stage".into(),
            value: case.stage.to_string(),
        },
        Fact {
            label: "Made in time".into(),
            value: if case.in_time() { "Yes" } else { "No" }.into(),
        },
        Fact {
            label: "Acknowledged".into(),
            value: match case.acknowledged_on {
                Some(d) if case.acknowledged_late => format!("{} (late)", day(d)),
                Some(d) => day(d),
                None => "Not yet".into(),
            },
        },
    ];
    if let Some(risk) = &case.risk {
        facts.push(Fact {
            label: "Risk".into(),
            value: humanise(&code(risk)),
        });
    }
    if let Some(closure) = &case.closure {
        facts.push(Fact {
            label: "Closed".into(),
            value: humanise(&code(closure)),
        });
    }
    facts.push(Fact {
        label: "Version".into(),
        value: shown.version.to_string(),
    });
    let deadlines = deadline_statuses(case, services, judged_on)
        .into_iter()
        .map(|d| {
            let state_code = code(&d.state);
            DeadlineLine {
                kind: humanise(&code(&d.kind)),
                due: d.due_on.map(day).unwrap_or_else(|| "Clock stopped".into()),
                overdue: state_code == "missed" && d.met_on.is_none(),
                state: humanise(&state_code),
                met: d.met_on.map(day).unwrap_or_default(),
                calendar_version: d.calendar_version,
            }
        })
        .collect();
    let timeline = if show_history.is_some() {
        let mut seals: HashMap<i64, (i64, String)> =
            complaints_audit::sealer::links_of_complaint(pool, &found.id)
                .await?
                .into_iter()
                .map(|l| (l.sequence, (l.chain_index, l.link_hash)))
                .collect();
        Some(
            events
                .iter()
                .take(shown_events)
                .map(|e| {
                    let m = |k: &str| e.metadata.get(k).cloned().unwrap_or_default();
                    let who = match (e.metadata.get(meta::ACTOR), e.metadata.get(meta::ROLE)) {
                        (Some(actor), Some(role)) => format!("{actor} ({role})"),
                        (Some(actor), None) => actor.clone(),
                        _ => "The service".into(),
                    };
                    TimelineEntry {
                        sequence: e.sequence,
                        what: humanise_type(&e.event_type),
                        recorded: instant(e.recorded_at),
                        occurred_on: m(meta::OCCURRED_ON),
                        who,
                        correlation_id: m(meta::CORRELATION_ID),
                        seal: match seals.remove(&e.sequence) {
                            Some((index, link)) => format!(
                                "chain index {index}, link {}…",
                                link.chars().take(16).collect::<String>()
                            ),
                            None => "Not sealed yet".into(),
                        },
                        data: serde_json::to_string_pretty(&e.event).unwrap_or_default(),
                    }
                })
                .collect(),
        )
    } else {
        None
    };
    let may_acknowledge =
        commands::find("acknowledgement").is_some_and(|spec| caller.require(spec.roles).is_ok());
    let open = case.closure.is_none();
    let ack = if as_of.is_none() && may_acknowledge && open && case.acknowledged_on.is_none() {
        Some(ack.unwrap_or_else(|| AckForm {
            action: format!("/ui/complaints/{}/acknowledgement", found.id),
            value: today.to_string(),
            discussion_offered: true,
            version: found.version,
            command_id: new_command_id(),
            error: None,
            rule: None,
        }))
    } else {
        ack
    };
    // The page shows the case and, to those who may read it, its timeline with every event
    // as recorded (personal data included): both are reads, recorded once the page is built
    // and before it is served (R-CAL-1), as the API records them, under `ui:` actions.
    crate::http::audit::record_access(
        state,
        caller,
        role,
        &organisation,
        &found.id,
        if as_of.is_some() {
            "ui:complaint_as_of"
        } else {
            "ui:complaint"
        },
        Some(&correlation),
    )
    .await?;
    if let Some(history_role) = show_history {
        crate::http::audit::record_access(
            state,
            caller,
            history_role,
            &organisation,
            &found.id,
            "ui:history",
            Some(&correlation),
        )
        .await?;
    }
    Ok(CasePage {
        chrome: Chrome::new(session, "complaints"),
        short_id: found.id.chars().take(8).collect(),
        heading_status: humanise(case.status().code()),
        facts,
        warnings: warnings(case, services)
            .into_iter()
            .map(|w| w.message)
            .collect(),
        deadlines,
        timeline,
        as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
        as_of_label: as_of.map(day),
        done: query
            .done
            .as_deref()
            .filter(|d| *d == "acknowledgement")
            .map(|_| "The acknowledgement was recorded.".to_string()),
        acknowledged: case.acknowledged_on.map(day),
        ack,
        id: found.id,
    })
}

async fn case_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<CaseQuery>,
) -> Result<Response, PageError> {
    let data = build_case_page(&state, &session, &id, &query, &headers, None).await?;
    page(&data)
}

#[derive(Debug, Deserialize)]
struct AckSubmission {
    csrf: String,
    acknowledged_on: String,
    discussion_offered: Option<String>,
    version: usize,
    command_id: String,
}

/// `POST /ui/complaints/{id}/acknowledgement`: runs the command through the shared runner,
/// as `POST /v1/complaints/{id}/acknowledgement` with `If-Match` and an idempotency key
/// from the form; a refusal shows the form again with the rule's words.
async fn acknowledge(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<AckSubmission>,
) -> Result<Response, PageError> {
    session.check_form(&form.csrf, &headers)?;
    let discussion_offered = form.discussion_offered.is_some();
    let body = serde_json::to_vec(&serde_json::json!({
        "acknowledged_on": form.acknowledged_on.trim(),
        "discussion_offered": discussion_offered,
    }))
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot encode the form: {e}")))?;
    let command_id = Some(form.command_id.trim())
        .filter(|c| !c.is_empty() && c.len() <= 64)
        .map(str::to_string);
    let invocation = Invocation {
        command: "acknowledgement",
        complaint_id: Some(&id),
        body: &body,
        command_id,
        expected_version: Some(form.version),
        correlation_id: correlation_id(&headers),
        causation_id: None,
        channel_organisation: None,
        issued_at: state.now(),
    };
    let refusal = match runner::run(&state.cases, &session.caller, &invocation).await {
        Ok(ran) => {
            let mut response = Redirect::to(&format!(
                "/ui/complaints/{}?done=acknowledgement",
                ran.state.id
            ))
            .into_response();
            *response.status_mut() = StatusCode::SEE_OTHER;
            return Ok(response);
        }
        Err(error) => error,
    };
    let (error, rule) = match &refusal {
        ApiError::Rule(rule) => (rule.to_string(), Some(rule.code().to_string())),
        ApiError::Validation { detail, errors } => (
            errors
                .iter()
                .map(|e| e.message.clone())
                .next()
                .unwrap_or_else(|| detail.clone()),
            None,
        ),
        ApiError::PreconditionFailed { .. } | ApiError::Conflict => (
            "The complaint changed since this page was opened. The page now shows it as it stands; check it and try again."
                .to_string(),
            None,
        ),
        ApiError::IdempotencyKeyReused => (
            "This form was already sent with other values. Reload the page and try again.".to_string(),
            None,
        ),
        // Not found, not allowed, unavailable: the error page, as the API would answer.
        _ => return Err(refusal.into()),
    };
    let status = refusal.status();
    let stale = matches!(
        refusal,
        ApiError::PreconditionFailed { .. } | ApiError::Conflict
    );
    let current = runner::visible_case(&state.cases, &session.caller, &id).await?;
    let form_again = AckForm {
        action: format!("/ui/complaints/{}/acknowledgement", current.id),
        value: form.acknowledged_on.trim().to_string(),
        discussion_offered,
        version: current.version,
        command_id: if stale {
            new_command_id()
        } else {
            form.command_id.clone()
        },
        error: Some(error),
        rule,
    };
    let data = build_case_page(
        &state,
        &session,
        &id,
        &CaseQuery::default(),
        &headers,
        Some(form_again),
    )
    .await?;
    // htmx swaps only successful answers: a boosted form gets the page with 200.
    let boosted = headers.contains_key("hx-request");
    page_with(if boosted { StatusCode::OK } else { status }, &data)
}
