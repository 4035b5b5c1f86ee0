//! The case page (`/ui/complaints/{id}`): the current state, every deadline with its
//! calendar version, the timeline of every event with its seal, "as it stood on" a day, and
//! the forms of the caseworker's commands (`forms`), whose refusals and warnings it shows.
//!
//! A body taking part in a joint complaint reaches the lead's case as the API lets it
//! (`runner::case_access`): the people and their words only once consent to share with it
//! is on record (R-CONS-1), and only the forms of the commands it may run (R-JOINT-2).

use super::forms::{self, FormView};
use super::{
    code, correlation_id, day, humanise, humanise_type, instant, page, Chrome, PageError,
    HISTORY_ROLES, READ_ROLES,
};
use crate::app::cases::CaseState;
use crate::app::clock::london_date;
use crate::app::commands;
use crate::app::runner::{self, Access};
use crate::app::state::AppState;
use crate::error::ApiError;
use crate::http::audit::ACCESS_LOG_ROLES;
use crate::ui::session::Session;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{NaiveDate, TimeZone, Utc};
use complaints_domain::{deadline_statuses, evolve, warnings, Complaint};
use complaints_eventlog::{metadata as meta, read_stream};
use serde::Deserialize;
use std::collections::HashMap;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/ui/complaints/{id}", get(case_page))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CaseQuery {
    as_of: Option<String>,
    done: Option<String>,
}

struct Fact {
    label: String,
    value: String,
    /// A case this one links to.
    href: Option<String>,
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

/// A command the page ran: what it recorded and the flags the answer carries (R-FACT-1).
struct Done {
    text: String,
    warnings: Vec<String>,
}

/// A refused form, for the error summary at the top of the page.
pub(super) struct Refusal {
    pub title: String,
    /// Each problem and the field (or form) the summary links to.
    pub items: Vec<(String, String)>,
    /// The refusing rule's code.
    pub rule: Option<String>,
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
    done: Option<Done>,
    refusal: Option<Refusal>,
    /// The acknowledgement form, beside the state while the case is unacknowledged.
    ack: Option<FormView>,
    /// The other forms the case offers.
    forms: Vec<FormView>,
    acknowledged: Option<String>,
    /// Auditors may check the case against the audit chain.
    verify: bool,
    /// For a body taking part: what it sees of the lead's case.
    participant: Option<String>,
}

/// The case folded from its stream up to `until`, and that many events.
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

fn facts_of(shown: &CaseState) -> Result<Vec<Fact>, ApiError> {
    let case = &shown.case;
    let receipt = case.receipt()?;
    let fact = |label: &str, value: String| Fact {
        label: label.into(),
        value,
        href: None,
    };
    let mut facts = vec![
        fact("Status", humanise(case.status().code())),
        fact("Kind", humanise(case.kind().code())),
        fact("Organisation", receipt.organisation_id.clone()),
        fact("Received", day(receipt.received_on)),
        fact("Channel", humanise(&code(&receipt.channel))),
        fact(
            "Subject areas",
            receipt
                .subject_areas
                .iter()
                .map(|s| humanise(&code(s)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        fact("Stage", case.stage.to_string()),
        fact(
            "Made in time",
            if case.in_time() { "Yes" } else { "No" }.into(),
        ),
        fact(
            "Acknowledged",
            match case.acknowledged_on {
                Some(d) if case.acknowledged_late => format!("{} (late)", day(d)),
                Some(d) => day(d),
                None => "Not yet".into(),
            },
        ),
    ];
    facts.push(fact(
        "Assigned to",
        case.assigned_to
            .clone()
            .unwrap_or_else(|| "Nobody yet".into()),
    ));
    if let Some(risk) = &case.risk {
        facts.push(fact("Risk", humanise(&code(risk))));
    }
    if let Some(due) = case.plans.last().map(|p| p.response_due_on) {
        facts.push(fact("Response due (agreed)", day(due)));
    }
    if let Some(stop) = case.open_clock_stop() {
        facts.push(fact(
            "Clock stopped",
            format!("since {}", day(stop.stopped_on)),
        ));
    }
    if let Some(sent) = case.current_response() {
        facts.push(fact(
            "Responded",
            format!("{} ({})", day(sent.sent_on), humanise(sent.outcome.code())),
        ));
    }
    if let Some(closure) = &case.closure {
        facts.push(fact("Closed", humanise(&code(closure))));
    }
    if let Some(hold) = &case.legal_hold {
        facts.push(fact(
            "Legal hold",
            format!(
                "In force since {} ({})",
                day(hold.placed_on),
                humanise(&code(&hold.ground))
            ),
        ));
    }
    if case.consent_needed() || case.consent.requested_on.is_some() {
        let consent = &case.consent;
        let answer = match (consent.given_on, consent.refused_on, consent.lapsed_on) {
            (Some(on), _, _) => format!("Given on {}", day(on)),
            (None, Some(on), _) => format!("Refused on {}", day(on)),
            (None, None, Some(on)) => format!("Lapsed on {}", day(on)),
            (None, None, None) => match consent.requested_on {
                Some(on) => format!("Asked for on {}, no answer yet", day(on)),
                None => "Not yet asked for".into(),
            },
        };
        facts.push(fact("Consent of the person affected", answer));
    }
    for consent in &case.consents {
        facts.push(fact(
            "Consent to share",
            format!(
                "{} for the {}, given on {} by {}{}",
                consent
                    .scopes
                    .iter()
                    .map(|s| humanise(&code(s)))
                    .collect::<Vec<_>>()
                    .join(", "),
                humanise(&code(&consent.for_whom)).to_lowercase(),
                day(consent.given_on),
                humanise(&code(&consent.given_by)).to_lowercase(),
                if consent.share_with.is_empty() {
                    String::new()
                } else {
                    format!(" (with {})", consent.share_with.join(", "))
                }
            ),
        ));
    }
    for p in &case.participants {
        facts.push(fact(
            "Taking part",
            match p.removed_on {
                None => format!("{} since {}", p.organisation_id, day(p.agreed_on)),
                Some(on) => format!(
                    "{} from {} until {}",
                    p.organisation_id,
                    day(p.agreed_on),
                    day(on)
                ),
            },
        ));
    }
    for request in &case.part_requests {
        facts.push(fact(
            &format!("Part {}", request.number),
            format!(
                "{}, due {}: {}",
                request.organisation_id,
                day(request.due_on),
                match (request.provided_on, request.withdrawn_on) {
                    (Some(on), _) => format!("provided on {}", day(on)),
                    (None, Some(on)) => format!("withdrawn on {}", day(on)),
                    (None, None) => "outstanding".into(),
                }
            ),
        ));
    }
    for r in &case.recommendations {
        facts.push(fact(
            &format!("Recommendation {}", r.number),
            format!(
                "{}{}: {}",
                humanise(&code(&r.ombudsman)).to_uppercase(),
                r.due_on
                    .map(|d| format!(", due {}", day(d)))
                    .unwrap_or_default(),
                match r.done_on {
                    Some(on) => format!("done on {}", day(on)),
                    None => "outstanding".into(),
                }
            ),
        ));
    }
    for linked in &case.linked_cases {
        facts.push(Fact {
            label: "Linked case".into(),
            value: format!(
                "{} at {} ({}, opened {})",
                linked.case_id.chars().take(8).collect::<String>(),
                linked.organisation_id,
                humanise(linked.relation.code()),
                day(linked.opened_on)
            ),
            href: Some(format!("/ui/complaints/{}", linked.case_id)),
        });
    }
    facts.push(fact("Version", shown.version.to_string()));
    Ok(facts)
}

/// The timeline's entries; for a body taking part, each event's data as the API's history
/// gives it: the people stripped without consent to share, never the lead's source reference.
fn timeline_of(
    events: &[complaints_eventlog::StoredEvent],
    shown: usize,
    mut seals: HashMap<i64, (i64, String)>,
    access: &Access,
    personal: bool,
) -> Vec<TimelineEntry> {
    events
        .iter()
        .take(shown)
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
                data: {
                    let mut data = serde_json::to_value(&e.event).unwrap_or_default();
                    if !personal {
                        complaints_domain::strip_personal_data(
                            &e.event_type,
                            &e.event_version,
                            &mut data,
                        );
                    }
                    if *access != Access::Own {
                        if let Some(fields) = data
                            .get_mut(&e.event_type)
                            .and_then(serde_json::Value::as_object_mut)
                        {
                            fields.remove("source");
                        }
                    }
                    serde_json::to_string_pretty(&data).unwrap_or_default()
                },
            }
        })
        .collect()
}

/// The case page; `refused` is a form as submitted, with its refusal.
pub(super) async fn build_case_page(
    state: &AppState,
    session: &Session,
    raw_id: &str,
    query: &CaseQuery,
    headers: &HeaderMap,
    refused: Option<(FormView, Refusal)>,
) -> Result<Response, PageError> {
    page(&build(state, session, raw_id, query, headers, refused).await?)
}

async fn build(
    state: &AppState,
    session: &Session,
    raw_id: &str,
    query: &CaseQuery,
    headers: &HeaderMap,
    refused: Option<(FormView, Refusal)>,
) -> Result<CasePage, ApiError> {
    let caller = &session.caller;
    // As the API: another organisation's complaint is 404 before any role is checked; a
    // body taking part sees the lead's case as the API shows it to it (R-JOINT-2).
    let (found, access) = runner::case_access(&state.cases, caller, raw_id).await?;
    let participant = match &access {
        Access::Own => None,
        Access::Participant { organisation_id } => Some(organisation_id.clone()),
    };
    let personal = access.sees_personal_data(&found.case);
    let role = caller.require(runner::command_roles(&found, READ_ROLES))?;
    let as_of = super::complaints::date_field(query.as_of.as_deref(), "as it stood on")?;
    let organisation = found.case.receipt()?.organisation_id.clone();
    let correlation = correlation_id(headers);
    let show_history = caller.require(HISTORY_ROLES).ok();
    let pool = state.cases.log().pool();
    let events = read_stream(pool, &found.id).await?;
    let today = london_date(state.now());
    let (mut shown, judged_on, shown_events) = match as_of {
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
    access.redact(&mut shown);
    let services = state.cases.services();
    let case = &shown.case;
    let facts = facts_of(&shown)?;
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
    let timeline = match show_history {
        Some(_) => {
            let seals = complaints_audit::sealer::links_of_complaint(pool, &found.id)
                .await?
                .into_iter()
                .map(|l| (l.sequence, (l.chain_index, l.link_hash)))
                .collect();
            Some(timeline_of(&events, shown_events, seals, &access, personal))
        }
        None => None,
    };
    // Forms only on the case as it stands, for those the command table lets run them.
    let (mut refused_form, refusal) = match refused {
        Some((form, refusal)) => (Some(form), Some(refusal)),
        None => (None, None),
    };
    let mut ack = None;
    let mut forms_shown = Vec::new();
    if as_of.is_none() {
        for spec in forms::offered(case, participant.is_some()) {
            let allowed = commands::find(spec.command).is_some_and(|c| {
                caller
                    .require(runner::command_roles(&found, c.roles))
                    .is_ok()
            });
            if !allowed {
                continue;
            }
            let view = match refused_form.take_if(|f| f.command == spec.command) {
                Some(view) => view,
                None => FormView::new(spec, &found.id, found.version, today, None),
            };
            if spec.command == "acknowledgement" {
                ack = Some(view);
            } else {
                forms_shown.push(view);
            }
        }
    }
    // A refused form the case no longer offers (it changed meanwhile) is still shown.
    if let Some(view) = refused_form {
        forms_shown.insert(0, view);
    }
    let case_warnings: Vec<String> = warnings(case, services)
        .into_iter()
        .map(|w| forms::capitalise(&w.message))
        .collect();
    let done = query
        .done
        .as_deref()
        .filter(|_| as_of.is_none())
        .and_then(forms::find)
        .map(|spec| Done {
            text: format!("{} was recorded.", spec.what),
            warnings: case_warnings.clone(),
        });
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
        warnings: case_warnings,
        deadlines,
        timeline,
        as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
        as_of_label: as_of.map(day),
        done,
        refusal,
        acknowledged: case.acknowledged_on.map(day),
        ack,
        forms: forms_shown,
        verify: participant.is_none() && caller.require(ACCESS_LOG_ROLES).is_ok(),
        participant: participant.map(|org| {
            format!(
                "{org} takes part in this joint complaint, which {organisation} leads. {} \
                 {org} supplies its part here; the rest of the case is {organisation}'s to run.",
                if personal {
                    "Consent to share it with you is on record, so the people and their words are shown."
                } else {
                    "No consent to share it with you is on record yet, so the people and their \
                     words are left out."
                }
            )
        }),
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
    build_case_page(&state, &session, &id, &query, &headers, None).await
}
