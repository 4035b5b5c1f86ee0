//! Sign-in to the web pages through the identity provider: OpenID Connect, authorisation
//! code with PKCE (the relying party itself is `auth::oidc`).
//!
//! `GET /ui/sign-in/oidc` draws a random `state`, `nonce` and PKCE verifier, keeps them in a
//! short-lived cookie signed with the web pages' key, and sends the browser to the
//! provider. `GET /ui/oidc/callback` checks the `state` against that cookie (and that it is
//! used once), has the provider exchange the code and checks its ID token, then opens the
//! same session a login link opens. The flow cookie is `SameSite=Lax` because the callback
//! is a cross-site top-level navigation from the provider (the session cookie stays
//! `Strict`), and its path is the callback's alone.
//!
//! Every failure is the sign-in page with what went wrong and a way to start again.

use super::session::{self, LoginPage};
use super::{page_with, security_headers, PageError};
use crate::app::state::AppState;
use crate::auth::oidc::OidcError;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The flow cookie's name.
const FLOW_COOKIE: &str = "complaints_oidc";
/// Where the provider sends the browser back (and the only path the flow cookie goes to).
const CALLBACK: &str = "/ui/oidc/callback";
/// How long a started sign-in may take at the provider.
const FLOW_SECONDS: i64 = 600;
/// Signing purpose of the flow cookie.
const FLOW: &str = "complaints-ui-oidc-flow/v1";

/// The routes of sign-in through the identity provider.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/sign-in/oidc", get(start))
        .route(CALLBACK, get(callback))
}

/// What the browser keeps between leaving for the provider and coming back.
#[derive(Serialize, Deserialize)]
struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    /// Expiry, seconds since the epoch.
    exp: i64,
}

/// 256 random bits, base64url: a `state`, a `nonce` or a PKCE verifier (43 characters).
fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn flow_cookie(headers: &HeaderMap, value: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    let secure = if session::secure_cookies(headers) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{FLOW_COOKIE}={value}; Path={CALLBACK}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot set the sign-in cookie: {e}")))
}

/// The sign-in page with `problem`, with `status`, and the flow cookie cleared.
fn refuse(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    problem: impl Into<String>,
) -> Result<Response, PageError> {
    let mut response = page_with(status, &LoginPage::refusal(state, problem))?;
    response
        .headers_mut()
        .append(header::SET_COOKIE, flow_cookie(headers, "", 0)?);
    Ok(response)
}

fn status_of(error: &OidcError) -> StatusCode {
    match error {
        OidcError::Unreachable(_) => StatusCode::BAD_GATEWAY,
        OidcError::Refused(_) | OidcError::Untrusted(_) => StatusCode::UNAUTHORIZED,
    }
}

/// `GET /ui/sign-in/oidc`: starts a sign-in and sends the browser to the provider.
async fn start(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    let Some(provider) = state.auth.oidc().cloned() else {
        return refuse(
            &state,
            &headers,
            StatusCode::NOT_FOUND,
            "Sign-in through an identity provider is not set up for this service. Use a sign-in link.",
        );
    };
    let flow = Flow {
        state: random_token()?,
        nonce: random_token()?,
        verifier: random_token()?,
        exp: state.now().timestamp() + FLOW_SECONDS,
    };
    let authorisation = match provider
        .authorise(&flow.state, &flow.nonce, &flow.verifier)
        .await
    {
        Ok(authorisation) => authorisation,
        Err(error) => return refuse(&state, &headers, status_of(&error), error.to_string()),
    };
    let location = HeaderValue::from_str(&authorisation.url)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("unusable authorisation address: {e}")))?;
    let value = session::seal(&state, FLOW, &flow)?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::LOCATION, location);
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response_headers.insert(
        header::SET_COOKIE,
        flow_cookie(&headers, &value, FLOW_SECONDS)?,
    );
    Ok(response)
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Template)]
#[template(path = "signed_in.html")]
struct SignedInPage {
    subject: String,
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `GET /ui/oidc/callback?code=…&state=…`: completes the sign-in and opens a session.
async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let refused = |status, problem: &str| -> Result<Response, PageError> {
        refuse(&state, &headers, status, problem)
    };
    if let Some(error) = query.error.as_deref() {
        let description = query
            .error_description
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return refused(
            StatusCode::UNAUTHORIZED,
            &format!("The identity provider did not sign you in ({error}{description})."),
        );
    }
    let flow: Option<Flow> = session::cookie_value(&headers, FLOW_COOKIE)
        .and_then(|raw| session::unseal(&state, FLOW, raw));
    let Some(flow) = flow.filter(|f| f.exp > state.now().timestamp()) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired or was started in another browser. Start again.",
        );
    };
    let (Some(code), Some(returned_state)) = (query.code.as_deref(), query.state.as_deref()) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "The identity provider's answer is incomplete (no code or state). Start again.",
        );
    };
    if !same(returned_state, &flow.state) {
        tracing::warn!("sign-in callback with a state that is not the one started");
        return refused(
            StatusCode::BAD_REQUEST,
            "This answer from the identity provider is not for the sign-in started in this browser. Start again.",
        );
    }
    if !session::use_once(&state, &format!("oidc:{}", flow.state), flow.exp).await? {
        return refused(
            StatusCode::BAD_REQUEST,
            "This sign-in has already been completed. Start again.",
        );
    }
    let caller = match state
        .auth
        .oidc_sign_in(code, &flow.verifier, &flow.nonce)
        .await
    {
        Ok(caller) => caller,
        Err(error) => return refused(status_of(&error), &error.to_string()),
    };
    if caller.organisations.is_empty() || caller.roles.is_empty() {
        tracing::warn!(subject = %caller.subject, "signed in at the identity provider without an organisation or role here");
        return refused(
            StatusCode::FORBIDDEN,
            &format!(
                "Your account ({}) has no organisation or no role in this service. Ask your administrator to give you one.",
                caller.subject
            ),
        );
    }
    let cookie = session::session_cookie(&state, &headers, &caller)?;
    tracing::info!(subject = %caller.subject, "signed in to the web pages through the identity provider");
    // A page, not a redirect: the session cookie is SameSite=Strict, and a browser does not
    // send it on a redirect that began at the provider; this page's own navigation does.
    let mut response = (
        security_headers(),
        Html(
            SignedInPage {
                subject: caller.subject,
            }
            .render()?,
        ),
    )
        .into_response();
    let response_headers = response.headers_mut();
    response_headers.append(header::SET_COOKIE, cookie);
    response_headers.append(header::SET_COOKIE, flow_cookie(&headers, "", 0)?);
    Ok(response)
}
