//! The national return page (`/ui/reports/written-complaints`): the KO41 written complaints
//! return of an organisation and financial year as `GET /v1/reports/written-complaints
//! ?period=` shows it (the figures as submitted once the year was, with who, when and the
//! adjustments since, R-KO-3a), one return per collection and site with a table per section
//! in the collection's item order, the reconciliation note beside each, and the downloads.
//! A caseworker marks the return submitted from it, through the API's own submission
//! (`POST /v1/reports/written-complaints/submission`), with the session's CSRF token.

use super::deadlines::Choice;
use super::reports::{chosen, ReportQuery};
use super::{day, encode, humanise, page, Chrome, PageError};
use crate::app::clock::london_date;
use crate::app::state::AppState;
use crate::error::ApiError;
use crate::http::reports::{submit_return, SUBMIT_ROLES};
use crate::ui::session::Session;
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use complaints_domain::code_lists::Ko41CodeList;
use complaints_projections::models::case_views;
use complaints_projections::models::reporting::{self, Collection, ReturnItem};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/reports/written-complaints", get(national_return))
        .route(
            "/ui/reports/written-complaints/submission",
            post(mark_submitted),
        )
}

struct Line {
    label: String,
    code: String,
    count: i64,
}

struct Section {
    /// Element id, unique on the page.
    id: String,
    title: String,
    lines: Vec<Line>,
}

struct LeftLine {
    href: String,
    short_id: String,
    left_on: String,
    reason: String,
}

/// One collection's return for one site (KO41a) or the organisation (KO41b).
struct SiteReturn {
    heading: String,
    sections: Vec<Section>,
    left_without_outcome: Vec<LeftLine>,
    unresolved_at_end: i64,
}

struct AdjustmentLine {
    whose: String,
    section: String,
    item: String,
    submitted: i64,
    current: i64,
    difference: i64,
}

struct Download {
    href: String,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "written_complaints.html")]
struct ReturnPage {
    chrome: Chrome,
    organisations: Vec<Choice>,
    years: Vec<Choice>,
    title: String,
    period: String,
    code_list_version: String,
    submitted: Option<String>,
    returns: Vec<SiteReturn>,
    adjustments: Vec<AdjustmentLine>,
    downloads: Vec<Download>,
    position: i64,
    organisation: String,
    year: i32,
    /// The return is not yet submitted and the caller may submit it.
    may_submit: bool,
    /// The return was just marked submitted from this page.
    just_submitted: bool,
}

fn whose(collection: Collection, site: Option<&str>) -> String {
    match site {
        Some(site) if site == reporting::NOT_RECORDED => {
            format!("{}, site not recorded", collection.name())
        }
        Some(site) => format!("{}, site {site}", collection.name()),
        None => format!("{}, the organisation", collection.name()),
    }
}

/// `Section 3: Age of patient` for `3_age_of_patient`.
fn section_title(list: &Ko41CodeList, id: &str) -> String {
    let number = id.split('_').next().unwrap_or_default();
    match list.section(id) {
        Some(section) => format!("Section {number}: {}", section.title),
        None => humanise(id),
    }
}

/// The return's items grouped by return (collection and site) and section, in order.
fn grouped(items: Vec<ReturnItem>, list: &Ko41CodeList) -> Vec<(String, Vec<Section>)> {
    let mut out: Vec<(String, Vec<Section>)> = Vec::new();
    for item in items {
        let heading = whose(item.collection, item.site.as_deref());
        if out.last().is_none_or(|(h, _)| *h != heading) {
            out.push((heading, Vec::new()));
        }
        let index = out.len();
        let Some((_, sections)) = out.last_mut() else {
            continue;
        };
        if sections
            .last()
            .is_none_or(|s| !s.id.ends_with(&item.section))
        {
            sections.push(Section {
                id: format!("return-{index}-{}", item.section),
                title: section_title(list, &item.section),
                lines: Vec::new(),
            });
        }
        if let Some(section) = sections.last_mut() {
            section.lines.push(Line {
                label: item.label,
                code: item.item,
                count: item.count,
            });
        }
    }
    out
}

async fn national_return(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let (organisation, year) = chosen(&state, &session, &query)?;
    let pool = state.cases.log().pool();
    let shown = reporting::year_return(pool, &organisation, year)
        .await
        .map_err(ApiError::from)?;
    let position = case_views::reflected_position(pool, reporting::NAME)
        .await
        .map_err(ApiError::from)?;
    let report = &shown.report;
    let list = Ko41CodeList::by_version(&report.code_list_version)
        .unwrap_or_else(|| Ko41CodeList::for_collection_year(year));
    let notes: Vec<_> = report
        .collections
        .iter()
        .map(|r| (whose(r.collection, r.site.as_deref()), &r.reconciliation))
        .collect();
    let returns = grouped(reporting::return_items(report), list)
        .into_iter()
        .map(|(heading, sections)| {
            let note = notes.iter().find(|(h, _)| *h == heading).map(|(_, n)| *n);
            SiteReturn {
                left_without_outcome: note
                    .map(|n| {
                        n.left_without_outcome
                            .iter()
                            .map(|left| LeftLine {
                                href: format!("/ui/complaints/{}", left.complaint_id),
                                short_id: left.complaint_id.chars().take(8).collect(),
                                left_on: day(left.left_on),
                                reason: humanise(&left.reason),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                unresolved_at_end: note.map_or(0, |n| n.unresolved_at_end),
                heading,
                sections,
            }
        })
        .collect();
    let q = format!("organisation={}&year={year}", encode(&organisation));
    let downloads = [
        ("written-complaints-csv", "The return (CSV)"),
        (
            "written-complaints-json",
            "The return with its submission and adjustments (JSON)",
        ),
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
    let data = ReturnPage {
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
        title: format!(
            "{organisation} written complaints return {}-{:02}",
            year,
            (year + 1) % 100
        ),
        period: format!("{} to {}", day(report.from), day(report.to)),
        code_list_version: report.code_list_version.clone(),
        submitted: shown.submitted.as_ref().map(|s| {
            let at = chrono::DateTime::parse_from_rfc3339(&s.at)
                .map(|t| super::instant(t.with_timezone(&chrono::Utc)))
                .unwrap_or_else(|_| s.at.clone());
            format!("Submitted by {} on {at}", s.by)
        }),
        returns,
        adjustments: shown
            .adjustments
            .iter()
            .map(|a| AdjustmentLine {
                whose: whose(a.collection, a.site.as_deref()),
                section: section_title(list, &a.section),
                item: humanise(&a.item),
                submitted: a.submitted,
                current: a.current,
                difference: a.difference,
            })
            .collect(),
        downloads,
        position,
        may_submit: shown.submitted.is_none() && session.caller.require(SUBMIT_ROLES).is_ok(),
        just_submitted: query.done.is_some() && shown.submitted.is_some(),
        organisation,
        year,
    };
    page(&data)
}

#[derive(serde::Deserialize)]
struct SubmissionForm {
    csrf: String,
    organisation: String,
    year: i32,
}

/// `POST /ui/reports/written-complaints/submission`: marks the return submitted as the API
/// does (who, when, the figures as shown), then shows it as submitted.
async fn mark_submitted(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<SubmissionForm>,
) -> Result<Response, PageError> {
    session.check_form(&form.csrf, &headers)?;
    submit_return(&state, &session.caller, &form.organisation, form.year).await?;
    let mut response = Redirect::to(&format!(
        "/ui/reports/written-complaints?organisation={}&year={}&done=submitted",
        encode(&form.organisation),
        form.year
    ))
    .into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    Ok(response)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn item(site: Option<&str>, section: &str, code: &str, count: i64) -> ReturnItem {
        ReturnItem {
            collection: if site.is_some() {
                Collection::Ko41a
            } else {
                Collection::Ko41b
            },
            site: site.map(str::to_string),
            section: section.into(),
            item: code.into(),
            label: humanise(code),
            count,
        }
    }

    #[test]
    fn a_return_is_grouped_by_site_and_section_in_collection_order() {
        let list = Ko41CodeList::for_collection_year(2025);
        let returns = grouped(
            vec![
                item(Some("RAL01"), "2_summary", "new", 3),
                item(Some("RAL01"), "2_summary", "resolved", 1),
                item(Some("RAL01"), "3_age_of_patient", "unknown", 3),
                item(Some("not_recorded"), "2_summary", "new", 1),
                item(None, "2_summary", "new", 2),
            ],
            list,
        );
        let headings: Vec<&str> = returns.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(
            headings,
            [
                "KO41a, site RAL01",
                "KO41a, site not recorded",
                "KO41b, the organisation"
            ]
        );
        let first = &returns[0].1;
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].lines.len(), 2);
        assert_eq!(
            first[0].title,
            "Section 2: Summary of overall numbers of complaints"
        );
        assert_ne!(first[0].id, returns[1].1[0].id);
    }
}
