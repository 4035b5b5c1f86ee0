//! The web pages under `/ui` for complaints managers, caseworkers and auditors: the
//! deadline board, the case list, a case with its timeline and the forms of the
//! caseworker's commands, reports with the national return, and the audit page with its
//! check of one case against the hash chain. Server-rendered HTML from templates checked at compile time
//! (askama, `gateway/templates/`), styled with the vendored GOV.UK Frontend CSS; every read
//! page works without JavaScript, and htmx (vendored) only enhances forms.
//!
//! Pages use the API's read functions and role lists and run commands through the shared
//! runner, so a page never shows or changes more than the API would for the same caller.
//! One file per page group; `session` holds sign-in (login links, the session cookie, CSRF),
//! `oidc` sign-in through the identity provider.

use crate::app::state::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Router;

mod assets;
mod audit;
mod case;
mod commands;
mod complaints;
mod deadlines;
mod forms;
mod oidc;
mod reports;
mod returns;
pub mod session;
mod verify;

/// Roles that may list complaints and deadlines (as `GET /v1/complaints`, `/v1/deadlines`).
const LIST_ROLES: &[Role] = &[
    Role::Caseworker,
    Role::Frontline,
    Role::Auditor,
    Role::Reporting,
];
/// Roles that may read one complaint (as `GET /v1/complaints/{id}`).
const READ_ROLES: &[Role] = &[Role::Caseworker, Role::Frontline, Role::Auditor];
/// Roles that may read a complaint's history (as `GET /v1/complaints/{id}/history`).
const HISTORY_ROLES: &[Role] = &[Role::Auditor, Role::Caseworker];

/// The `/ui` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(assets::routes())
        .merge(session::routes())
        .merge(oidc::routes())
        .merge(deadlines::routes())
        .merge(complaints::routes())
        .merge(case::routes())
        .merge(commands::routes())
        .merge(reports::routes())
        .merge(returns::routes())
        .merge(audit::routes())
        .merge(verify::routes())
}

/// What every page's frame shows: who is signed in, the navigation, the CSRF token.
pub(crate) struct Chrome {
    /// The signed-in subject.
    pub subject: String,
    /// Organisations, comma-separated.
    pub organisations: String,
    /// Roles, comma-separated.
    pub roles: String,
    /// The CSRF token for this session's forms.
    pub csrf: String,
    /// Which navigation entry is current: `deadlines`, `complaints`, `reports`, `audit`.
    pub current: &'static str,
    /// Whether the audit page is offered (auditor role).
    pub auditor: bool,
}

impl Chrome {
    pub(crate) fn new(session: &session::Session, current: &'static str) -> Self {
        let caller = &session.caller;
        Self {
            subject: caller.subject.clone(),
            organisations: caller.organisations.join(", "),
            roles: caller
                .roles
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(", "),
            csrf: session.csrf.clone(),
            current,
            auditor: caller.roles.contains(&Role::Auditor),
        }
    }

    /// `aria-current` for the navigation entry `name`.
    pub fn is(&self, name: &str) -> bool {
        self.current == name
    }
}

/// A page that could not be served, shown as an HTML page with the API's status.
pub(crate) struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError(error)
    }
}

impl From<askama::Error> for PageError {
    fn from(error: askama::Error) -> Self {
        PageError(ApiError::Internal(anyhow::anyhow!(
            "cannot render a page: {error}"
        )))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    detail: String,
    sign_in: bool,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if status.is_server_error() {
            tracing::error!(error = ?self.0, "page failed");
        }
        let (title, detail) = match &self.0 {
            ApiError::NotFound => (
                "Page not found".to_string(),
                "There is no complaint or page at this address that you can see.".to_string(),
            ),
            ApiError::Unauthorized(why) => (
                "Sign in".to_string(),
                format!("You need to sign in to see this page ({why})."),
            ),
            ApiError::Forbidden(why) => ("You cannot see this page".to_string(), why.clone()),
            ApiError::BadRequest(why) => ("Check the address".to_string(), why.clone()),
            ApiError::Internal(_) | ApiError::Config(_) | ApiError::ChainBroken { .. } => (
                "Sorry, there is a problem with the service".to_string(),
                "Try again later.".to_string(),
            ),
            other => ("The request was refused".to_string(), other.to_string()),
        };
        let page = ErrorPage {
            title,
            detail,
            sign_in: matches!(self.0, ApiError::Unauthorized(_)),
        };
        match page.render() {
            Ok(body) => (status, security_headers(), Html(body)).into_response(),
            Err(_) => (status, "error").into_response(),
        }
    }
}

/// Headers every page carries: no caching of personal data, no framing, a strict content
/// security policy (scripts and styles only from this origin).
pub(crate) fn security_headers() -> [(header::HeaderName, HeaderValue); 5] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ),
    ]
}

/// Renders `page` as a 200 HTML response.
pub(crate) fn page(page: &impl Template) -> Result<Response, PageError> {
    Ok((security_headers(), Html(page.render()?)).into_response())
}

/// Renders `page` with `status`.
pub(crate) fn page_with(status: StatusCode, page: &impl Template) -> Result<Response, PageError> {
    Ok((status, security_headers(), Html(page.render()?)).into_response())
}

/// The request's correlation id (set by the router's middleware).
pub(crate) fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The organisations a page covers: the one asked for (which the caller must act for), or
/// all of the caller's (as the API's list queries).
pub(crate) fn organisations(caller: &Caller, asked: Option<&str>) -> Result<Vec<String>, ApiError> {
    match asked.filter(|a| !a.is_empty()) {
        Some(org) if caller.acts_for(org) => Ok(vec![org.to_string()]),
        Some(_) => Err(ApiError::Forbidden(
            "you do not act for this organisation".into(),
        )),
        None => Ok(caller.organisations.clone()),
    }
}

/// `awaiting_consent` → `Awaiting consent`.
pub(crate) fn humanise(code: &str) -> String {
    let spaced = code.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `ComplaintReceived` → `Complaint received`.
pub(crate) fn humanise_type(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The serde code of an enum value (`Status::AwaitingConsent` → `awaiting_consent`).
pub(crate) fn code<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Percent-encodes a query value.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A date as GOV.UK writes it: `7 April 2026`.
pub(crate) fn day(date: chrono::NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// An instant in England: `7 April 2026, 14:05:09`.
pub(crate) fn instant(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y, %H:%M:%S")
        .to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_types_read_as_words() {
        assert_eq!(humanise("awaiting_consent"), "Awaiting consent");
        assert_eq!(
            humanise_type("ComplaintAcknowledged"),
            "Complaint acknowledged"
        );
        assert_eq!(encode("a b&c"), "a%20b%26c");
        assert_eq!(
            day(chrono::NaiveDate::from_ymd_opt(2026, 4, 7).unwrap()),
            "7 April 2026"
        );
    }
}
