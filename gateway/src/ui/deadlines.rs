//! The deadline board (`/ui`, `/ui/deadlines`): open complaints' deadlines overdue, due
//! today and due within the week, counted by kind and by organisation, each row linking to
//! its case. One query of the deadlines read model, as `GET /v1/deadlines`.

use super::{humanise, organisations, page, Chrome, PageError, LIST_ROLES};
use crate::app::clock::london_date;
use crate::app::state::AppState;
use crate::ui::session::Session;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use complaints_projections::models::case_views::{self, DeadlineFilter, DeadlineRow};
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
];

#[derive(Debug, Deserialize)]
struct BoardQuery {
    organisation: Option<String>,
    kind: Option<String>,
}

/// One row of the board.
pub(crate) struct Item {
    pub href: String,
    pub short_id: String,
    pub organisation: String,
    pub kind: String,
    pub due: String,
    pub calendar_version: String,
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
    overdue: Vec<Item>,
    due_today: Vec<Item>,
    this_week: Vec<Item>,
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
    let filter = DeadlineFilter {
        organisations: organisations(caller, query.organisation.as_deref())?,
        due_before: Some(week_end + chrono::Duration::days(1)),
        overdue: false,
        kind: kind.clone(),
        today,
    };
    let position = case_views::reflected_position(pool, case_views::NAME)
        .await
        .map_err(crate::error::ApiError::from)?;
    let rows = case_views::list_deadlines(pool, &filter)
        .await
        .map_err(crate::error::ApiError::from)?;
    let (mut overdue, mut due_today, mut this_week) = (Vec::new(), Vec::new(), Vec::new());
    let mut by_kind: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    let mut by_organisation: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for row in &rows {
        let Some(due) = row.due_on else { continue };
        let bucket = match row.state.as_str() {
            "missed" if row.met_on.is_none() => 0,
            "pending" if due == today => 1,
            "pending" if due > today && due <= week_end => 2,
            _ => continue,
        };
        [&mut overdue, &mut due_today, &mut this_week][bucket].push(item(row));
        by_kind.entry(row.kind.clone()).or_default()[bucket] += 1;
        by_organisation
            .entry(row.organisation_id.clone())
            .or_default()[bucket] += 1;
    }
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
        overdue,
        due_today,
        this_week,
        by_kind: kinds_seen,
        by_organisation: by_organisation
            .iter()
            .map(|(o, c)| count(o.clone(), c))
            .collect(),
    };
    page(&page_data)
}
