//! The deadline board (`/ui`, `/ui/deadlines`): open complaints' deadlines overdue, due
//! today and due within the week, counted by kind and by organisation, each row linking to
//! its case. Read from the deadlines read model by cursor, as `GET /v1/deadlines`: the counts
//! cover every row, the rows are shown a page at a time with a link to the next. Filtered by
//! organisation, kind and assigned caseworker; "My deadlines" is the signed-in caseworker's.

use super::{encode, humanise, organisations, page, Chrome, PageError, LIST_ROLES};
use crate::app::clock::london_date;
use crate::app::state::AppState;
use crate::error::ApiError;
use crate::ui::session::Session;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use complaints_projections::models::case_views::{
    self, DeadlineCursor, DeadlineFilter, DeadlineRow,
};
use serde::Deserialize;
use std::collections::BTreeMap;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui", get(board))
        .route("/ui/deadlines", get(board))
}

/// The kinds of deadline, in the order the board shows them.
const KINDS: &[&str] = &[
    "acknowledgement",
    "consent",
    "response",
    "internal_target",
    "delay_letter",
    "oral_record",
    "letter",
    "ombudsman_recommendation",
    "participant_part",
];

/// Rows shown on one page of the board (the three sections together).
const PAGE: usize = 100;
/// Rows read per query while walking the read model.
const READ: i64 = 500;

#[derive(Debug, Deserialize)]
struct BoardQuery {
    organisation: Option<String>,
    kind: Option<String>,
    assigned_to: Option<String>,
    cursor: Option<String>,
}

/// One row of the board.
pub(crate) struct Item {
    pub href: String,
    pub short_id: String,
    pub organisation: String,
    pub kind: String,
    pub due: String,
    pub calendar_version: String,
    pub assigned_to: String,
}

/// Counts of one kind or organisation.
pub(crate) struct Count {
    pub label: String,
    pub overdue: usize,
    pub today: usize,
    pub week: usize,
}

/// A choice of a `<select>`.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    /// A select's options: "any" first (value empty), then `options` as (value, label), the
    /// one equal to `chosen` selected.
    pub(crate) fn options(
        any: &str,
        chosen: &str,
        options: impl IntoIterator<Item = (String, String)>,
    ) -> Vec<Choice> {
        std::iter::once(Choice {
            value: String::new(),
            label: any.into(),
            selected: chosen.is_empty(),
        })
        .chain(options.into_iter().map(|(value, label)| Choice {
            selected: value == chosen,
            value,
            label,
        }))
        .collect()
    }
}

#[derive(Template)]
#[template(path = "deadlines.html")]
struct BoardPage {
    chrome: Chrome,
    today: String,
    position: i64,
    organisations: Vec<Choice>,
    kinds: Vec<Choice>,
    /// The caseworker filter as given (trimmed).
    assigned_to: String,
    /// The signed-in caseworker's own board, for a caller who may be assigned cases.
    my_deadlines: Option<String>,
    /// Whether the board shows the caller's own deadlines.
    showing_mine: bool,
    overdue: Vec<Item>,
    due_today: Vec<Item>,
    this_week: Vec<Item>,
    /// Rows in each section over every page: overdue, due today, due this week.
    totals: [usize; 3],
    /// What an empty section says: none at all, or none on this page.
    empty_texts: [&'static str; 3],
    /// Rows on this page, and on every page.
    shown: usize,
    total: usize,
    /// Whether this is a later page (rows before it were on earlier pages).
    later_page: bool,
    /// The first page with the same filter.
    first_page: String,
    /// The next page, when more rows follow.
    next: Option<String>,
    by_kind: Vec<Count>,
    by_organisation: Vec<Count>,
}

fn item(row: &DeadlineRow) -> Item {
    Item {
        href: format!("/ui/complaints/{}", row.complaint_id),
        short_id: row.complaint_id.chars().take(8).collect(),
        organisation: row.organisation_id.clone(),
        kind: humanise(&row.kind),
        due: row.due_on.map(super::day).unwrap_or_default(),
        calendar_version: row.calendar_version.clone(),
        assigned_to: row.assigned_to.clone().unwrap_or_default(),
    }
}

/// The board's section of `row` (overdue, due today, due this week), if it is on the board.
fn bucket(row: &DeadlineRow, today: NaiveDate, week_end: NaiveDate) -> Option<usize> {
    let due = row.due_on?;
    match row.state.as_str() {
        "missed" if row.met_on.is_none() => Some(0),
        "pending" if due == today => Some(1),
        "pending" if due > today && due <= week_end => Some(2),
        _ => None,
    }
}

async fn board(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<BoardQuery>,
) -> Result<Response, PageError> {
    let caller = &session.caller;
    caller.require(LIST_ROLES)?;
    let today = london_date(state.now());
    let week_end = today + chrono::Duration::days(7);
    let pool = state.cases.log().pool();
    let kind = query.kind.clone().filter(|k| !k.is_empty());
    let assigned_to = crate::http::queries::caseworker(query.assigned_to.clone());
    let start = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => Some(DeadlineCursor::decode(raw).ok_or_else(|| {
            ApiError::BadRequest("the page cursor is not one this service gave".into())
        })?),
        None => None,
    };
    let filter = DeadlineFilter {
        organisations: organisations(caller, query.organisation.as_deref())?,
        due_before: Some(week_end + chrono::Duration::days(1)),
        overdue: false,

        unmet_only: true,
        kind: kind.clone(),
        assigned_to: assigned_to.clone(),
        today,
    };
    let position = case_views::reflected_position(pool, case_views::NAME)
        .await
        .map_err(ApiError::from)?;

    // The counts: every row, read a page at a time and not kept.
    let mut totals = [0usize; 3];
    let mut by_kind: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    let mut by_organisation: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    let mut after: Option<DeadlineCursor> = None;
    loop {
        let rows = case_views::deadlines_page(pool, &filter, after.as_ref(), READ)
            .await
            .map_err(ApiError::from)?;
        for row in &rows {
            let Some(b) = bucket(row, today, week_end) else {
                continue;
            };
            totals[b] += 1;
            by_kind.entry(row.kind.clone()).or_default()[b] += 1;
            by_organisation
                .entry(row.organisation_id.clone())
                .or_default()[b] += 1;
        }
        if (rows.len() as i64) < READ {
            break;
        }
        after = rows.last().map(DeadlineCursor::after);
    }

    // The rows shown: the first `PAGE` on the board after the cursor, and whether more follow.
    let mut shown: Vec<DeadlineRow> = Vec::new();
    let mut more = false;
    let mut after = start.clone();
    'read: loop {
        let rows = case_views::deadlines_page(pool, &filter, after.as_ref(), READ)
            .await
            .map_err(ApiError::from)?;
        let full = rows.len() as i64 == READ;
        after = rows.last().map(DeadlineCursor::after);
        for row in rows {
            if bucket(&row, today, week_end).is_none() {
                continue;
            }
            if shown.len() == PAGE {
                more = true;
                break 'read;
            }
            shown.push(row);
        }
        if !full {
            break;
        }
    }
    let (mut overdue, mut due_today, mut this_week) = (Vec::new(), Vec::new(), Vec::new());
    for row in &shown {
        if let Some(b) = bucket(row, today, week_end) {
            [&mut overdue, &mut due_today, &mut this_week][b].push(item(row));
        }
    }

    let mut filter_query = Vec::new();
    if let Some(org) = query.organisation.as_deref().filter(|o| !o.is_empty()) {
        filter_query.push(format!("organisation={}", encode(org)));
    }
    if let Some(k) = &kind {
        filter_query.push(format!("kind={}", encode(k)));
    }
    if let Some(who) = &assigned_to {
        filter_query.push(format!("assigned_to={}", encode(who)));
    }
    let link = |cursor: Option<String>| {
        let mut parts = filter_query.clone();
        parts.extend(cursor.map(|c| format!("cursor={c}")));
        if parts.is_empty() {
            "/ui/deadlines".to_string()
        } else {
            format!("/ui/deadlines?{}", parts.join("&"))
        }
    };
    let next = more
        .then(|| {
            shown
                .last()
                .map(|r| link(Some(DeadlineCursor::after(r).encode())))
        })
        .flatten();

    let count = |label: String, c: &[usize; 3]| Count {
        label,
        overdue: c[0],
        today: c[1],
        week: c[2],
    };
    let mut kinds_seen: Vec<Count> = KINDS
        .iter()
        .filter_map(|k| by_kind.get(*k).map(|c| count(humanise(k), c)))
        .collect();
    kinds_seen.extend(
        by_kind
            .iter()
            .filter(|(k, _)| !KINDS.contains(&k.as_str()))
            .map(|(k, c)| count(humanise(k), c)),
    );
    let chosen_org = query.organisation.clone().unwrap_or_default();
    // Only caseworkers are assigned cases (the assignment runs under their role).
    let my_deadlines = caller
        .roles
        .contains(&crate::auth::Role::Caseworker)
        .then(|| format!("/ui/deadlines?assigned_to={}", encode(&caller.subject)));
    let showing_mine = assigned_to.as_deref() == Some(caller.subject.as_str());
    let page_data = BoardPage {
        chrome: Chrome::new(&session, "deadlines"),
        today: super::day(today),
        position,
        organisations: Choice::options(
            "All my organisations",
            &chosen_org,
            caller.organisations.iter().map(|o| (o.clone(), o.clone())),
        ),
        kinds: Choice::options(
            "Every kind",
            kind.as_deref().unwrap_or_default(),
            KINDS.iter().map(|k| (k.to_string(), humanise(k))),
        ),
        assigned_to: assigned_to.unwrap_or_default(),
        my_deadlines,
        showing_mine,
        overdue,
        due_today,
        this_week,
        totals,
        empty_texts: totals.map(|n| {
            if n > 0 {
                "On another page of the board."
            } else {
                "None."
            }
        }),
        shown: shown.len(),
        total: totals.iter().sum(),
        later_page: start.is_some(),
        first_page: link(None),
        next,
        by_kind: kinds_seen,
        by_organisation: by_organisation
            .iter()
            .map(|(o, c)| count(o.clone(), c))
            .collect(),
    };
    page(&page_data)
}
