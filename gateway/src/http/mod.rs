//! The HTTP API: shared state, the router, correlation ids, health and readiness. Routes
//! live one file per group; every command goes through the shared runner in `app`.

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tracing::Instrument;
use uuid::Uuid;

pub use crate::app::state::AppState;
pub use body::{parse_json, JsonBody, BODY_LIMIT_BYTES};
pub use view::{CommandAnswer, CommandReceipt, ComplaintView};

pub(crate) mod audit;
mod body;
mod complaints;
pub mod data_subjects;
pub(crate) mod export;
pub(crate) mod openapi;
pub(crate) mod organisations;
pub(crate) mod queries;
pub(crate) mod reports;
mod view;

/// The API router, testable without a socket.
pub fn router(state: AppState) -> Router {
    // Install the registry before the first metric is recorded.
    crate::telemetry::metrics_handle();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(|| async { Json(openapi::openapi()) }))
        .route(
            "/metrics",
            get(|| async { crate::telemetry::render_metrics() }),
        )
        .merge(complaints::routes())
        .merge(data_subjects::routes())
        .merge(organisations::routes())
        .merge(queries::routes())
        .merge(crate::ui::routes())
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .route_layer(axum::middleware::from_fn(crate::telemetry::track_requests))
        .layer(axum::middleware::from_fn(correlate))
        .with_state(state)
}

const CORRELATION_ID: &str = "x-correlation-id";

/// Gives every request a correlation id (the caller's `X-Correlation-Id`, or a new one),
/// runs it inside a span carrying it, and echoes it on the response.
async fn correlate(mut request: Request, next: axum::middleware::Next) -> Response {
    let given = request
        .headers()
        .get(CORRELATION_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .and_then(|v| HeaderValue::from_str(v).ok());
    let id = match given {
        Some(id) => id,
        None => HeaderValue::from_str(&Uuid::new_v4().to_string())
            .unwrap_or(HeaderValue::from_static("unknown")),
    };
    request.headers_mut().insert(CORRELATION_ID, id.clone());
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        correlation_id = id.to_str().unwrap_or_default(),
    );
    let mut response = next.run(request).instrument(span).await;
    response.headers_mut().insert(CORRELATION_ID, id);
    response
}

/// What `/readyz` answers when the event log answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Readiness {
    /// `ready`.
    status: &'static str,
    /// `ok`: the event log answered.
    database: &'static str,
    /// The consumers running in this process.
    consumers: Vec<ConsumerReadiness>,
    /// The bank-holiday calendar in force.
    calendar: CalendarReadiness,
    /// A writer transaction open for more than a few seconds while consumers lag: it holds
    /// every consumer back until it ends (PostgreSQL).
    #[serde(skip_serializing_if = "Option::is_none")]
    held_back_by: Option<HeldBack>,
}

/// The transaction holding the consumers back, and what to do about it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct HeldBack {
    /// The open transaction.
    transaction: complaints_eventlog::OpenWriter,
    /// The consumers behind the log.
    consumers: Vec<String>,
    /// What an operator can do.
    advice: String,
}

/// A writer open longer than this while a consumer lags is named in `/readyz`.
const HELD_OPEN_SECONDS: f64 = 5.0;

/// The calendar in force, whether its published data runs out soon and whether an operator
/// file leaves shipped years to the shipped data (R-BH-5).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CalendarReadiness {
    /// Which calendar (shipped data, or an operator file over it) deadlines are computed on.
    pub version: String,
    /// The last year its bank-holiday data covers, if it holds data at all.
    pub covered_through: Option<i32>,
    /// Set when the data ends within the next 12 months: later deadlines then rest on the
    /// regular rules alone and miss any one-off holiday announced since.
    pub warning: Option<String>,
    /// Present when the operator file (`COMPLAINTS_CALENDAR_FILE`) lacks years the shipped
    /// data covers, naming them: those years keep the shipped data, so a correction made only
    /// in the file does not reach them. Also names years neither covers (regular rules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_file_warning: Option<String>,
}

/// The R-BH-5 warning for an operator file that lacks shipped years or leaves years between
/// it and the shipped data; `None` for a complete file or no file. Logged at start too.
pub fn operator_file_warning(calendar: &complaints_domain::Calendar) -> Option<String> {
    let missing = calendar.years_missing_from_operator_file();
    let uncovered = calendar.years_without_data();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!(
            "the operator bank-holiday file (COMPLAINTS_CALENDAR_FILE) lacks {}, which the shipped data covers: deadlines in those years use the shipped data, not the file; load a GOV.UK bank-holidays file covering them",
            years_text(&missing)
        ));
    }
    if !uncovered.is_empty() {
        parts.push(format!(
            "no bank-holiday data covers {}, between the shipped data and the operator file: deadlines in those years use the regular rules only",
            years_text(&uncovered)
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// `2021-2028`, `2029`, or several joined by "and".
fn years_text(spans: &[std::ops::RangeInclusive<i32>]) -> String {
    spans
        .iter()
        .map(|years| match (years.start(), years.end()) {
            (first, last) if first == last => first.to_string(),
            (first, last) => format!("{first}-{last}"),
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Judges the calendar against `today`: its data should reach 12 months ahead.
pub fn calendar_readiness(
    calendar: &complaints_domain::Calendar,
    today: chrono::NaiveDate,
) -> CalendarReadiness {
    let covered_through = calendar.covered_years().map(|years| *years.end());
    let horizon = today
        .checked_add_months(chrono::Months::new(12))
        .unwrap_or(today);
    use chrono::Datelike;
    let warning = match covered_through {
        Some(last) if last >= horizon.year() => None,
        Some(last) => Some(format!(
            "bank-holiday data ends with {last}: deadlines after it use the regular rules only; load a newer GOV.UK bank-holidays file (COMPLAINTS_CALENDAR_FILE)"
        )),
        None => Some("the calendar holds no bank-holiday data; deadlines use the regular rules only".into()),
    };
    CalendarReadiness {
        version: calendar.version().to_string(),
        covered_through,
        warning,
        operator_file_warning: operator_file_warning(calendar),
    }
}

/// A consumer's position and lag, as `/readyz` reports them.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ConsumerReadiness {
    /// Consumer name.
    name: String,
    /// Whether this process is the active instance.
    active: bool,
    /// The global log position it has applied.
    position: i64,
    /// Events written but not yet applied.
    lag_events: i64,
    /// Seconds since the oldest unapplied event was recorded (0 when caught up).
    lag_seconds: f64,
}

async fn readyz(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.cases.log().ping().await?;
    let consumers: Vec<ConsumerReadiness> = state
        .consumers
        .iter()
        .map(|c| {
            use std::sync::atomic::Ordering::Relaxed;
            let position = c
                .checkpoint
                .lock()
                .map(|cp| cp.position)
                .unwrap_or_default();
            ConsumerReadiness {
                name: c.name.clone(),
                active: c.active.load(Relaxed),
                position,
                lag_events: c.lag_events.load(Relaxed),
                lag_seconds: c.lag_millis.load(Relaxed) as f64 / 1000.0,
            }
        })
        .collect();
    let lagging: Vec<String> = consumers
        .iter()
        .filter(|c| c.lag_events > 0)
        .map(|c| c.name.clone())
        .collect();
    let held_back_by = if lagging.is_empty() {
        None
    } else {
        complaints_eventlog::oldest_open_writer(state.cases.log().pool())
            .await?
            .filter(|writer| writer.age_seconds >= HELD_OPEN_SECONDS)
            .map(|transaction| HeldBack {
                advice: format!(
                    "backend {} has held a writer transaction open for {:.0} s; consumers cannot pass it until it ends: end it with pg_terminate_backend({}) and set idle_in_transaction_session_timeout",
                    transaction.pid, transaction.age_seconds, transaction.pid
                ),
                transaction,
                consumers: lagging,
            })
    };
    if let Some(held) = &held_back_by {
        tracing::warn!(advice = %held.advice, "consumers held back by an open transaction");
    }
    let calendar = calendar_readiness(
        state.cases.services().calendar.as_ref(),
        crate::app::clock::london_date(state.now()),
    );
    Ok(Json(Readiness {
        status: "ready",
        database: "ok",
        consumers,
        calendar,
        held_back_by,
    })
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use complaints_domain::Calendar;

    fn day(text: &str) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
    }

    /// An operator file in the GOV.UK format for `years`, holding the regular holidays.
    fn operator_file(years: std::ops::RangeInclusive<i32>) -> Calendar {
        let events: Vec<String> = years
            .flat_map(|year| Calendar::rules_only().holidays_in(year))
            .map(|(date, title)| format!(r#"{{"title":"{title}","date":"{date}"}}"#))
            .collect();
        let json = format!(
            r#"{{"england-and-wales":{{"division":"england-and-wales","events":[{}]}}}}"#,
            events.join(",")
        );
        Calendar::shipped_with_operator_file(&json, "operator file bank-holidays.json")
            .expect("the operator file is valid")
    }

    #[test]
    fn r_bh_5_readyz_warns_when_the_operator_file_lacks_shipped_years() {
        let ready = calendar_readiness(&operator_file(2012..=2020), day("2026-12-01"));
        let warning = ready.operator_file_warning.expect("a warning");
        assert!(warning.contains("lacks 2021-2028"), "{warning}");
        assert!(warning.contains("COMPLAINTS_CALENDAR_FILE"), "{warning}");
        // The merged data still reaches 2028, so no expiry warning.
        assert_eq!(ready.covered_through, Some(2028));
        assert_eq!(ready.warning, None);
        assert_eq!(
            ready.version,
            "operator file bank-holidays.json 2012-2020 over england-and-wales 2012-2028 (2026-11-21)"
        );

        // Starting late is warned about too, and shows in the /readyz JSON.
        let ready = calendar_readiness(&operator_file(2018..=2030), day("2026-12-01"));
        let json = serde_json::to_value(&ready).expect("serialisable");
        let warning = json["operator_file_warning"].as_str().expect("a warning");
        assert!(warning.contains("lacks 2012-2017"), "{warning}");
        assert_eq!(json["covered_through"], 2030);
    }

    #[test]
    fn r_bh_5_readyz_names_years_neither_file_covers() {
        let ready = calendar_readiness(&operator_file(2030..=2031), day("2026-12-01"));
        let warning = ready.operator_file_warning.expect("a warning");
        assert!(warning.contains("lacks 2012-2028"), "{warning}");
        assert!(
            warning.contains("no bank-holiday data covers 2029"),
            "{warning}"
        );
    }

    #[test]
    fn r_bh_5_a_complete_operator_file_or_none_gives_no_operator_warning() {
        for calendar in [operator_file(2010..=2030), Calendar::shipped()] {
            let ready = calendar_readiness(&calendar, day("2026-12-01"));
            assert_eq!(ready.operator_file_warning, None, "{}", ready.version);
            let json = serde_json::to_value(&ready).expect("serialisable");
            assert!(json.get("operator_file_warning").is_none(), "{json}");
        }
    }
}
