//! Sign-in to the web pages: one-time login links (`complaints login-link`), the session
//! cookie, CSRF tokens and sign-out. Sign-in through the identity provider (`oidc`) opens
//! the same session.
//!
//! Both the login link and the session are values signed with HMAC-SHA256 under the web
//! pages' own secret (`COMPLAINTS_UI_SECRET` or `COMPLAINTS_UI_SECRET_FILE`, else `ui-secret`
//! in the data directory, generated on first run), so every gateway sharing that secret
//! accepts them, a restart keeps sessions, and replacing it signs everyone out without
//! touching complaint ids. A router built without it (tests) derives a key from the
//! complaint id secret instead. A link or session is not a bearer token: the API never
//! accepts one.
//!
//! A link can be used once. Its id is recorded on use in the table `ui_login_links`
//! (created on first use, in the event log's database, so "once" holds across restarts and
//! across gateways on one PostgreSQL); a second use is refused. Sign-out records the
//! session's id in the same table, so a signed-out cookie is refused even before it
//! expires. Rows are deleted once the link or session they name has expired.
//!
//! The cookie is `HttpOnly`, `SameSite=Strict`, and `Secure` when the request came over TLS
//! (`X-Forwarded-Proto: https` from the proxy in front) or `COMPLAINTS_UI_SECURE_COOKIES=true`.
//! Every form carries a CSRF token bound to the session (an HMAC of its id), and every
//! `POST` from another site (`Sec-Fetch-Site` other than `same-origin`) is refused.

use super::{page, security_headers, PageError};
use crate::app::cases::Cases;
use crate::app::state::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use complaints_eventlog::on_pool;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};

/// The session cookie's name.
pub const COOKIE: &str = "complaints_session";
/// How long a session lasts.
const SESSION_HOURS: i64 = 8;
/// The longest a login link may live.
pub const MAX_LINK_TTL: chrono::Duration = chrono::Duration::hours(24);

/// How long a session lasts, in seconds.
pub(super) const SESSION_SECONDS: i64 = SESSION_HOURS * 3600;

/// The routes of signing in and out.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/login", get(confirm).post(login))
        .route("/ui/logout", post(logout))
}

/// The signing key of links and sessions.
struct Keys(Vec<u8>);

impl Keys {
    /// The state's web pages' secret, else the key derived from its id secret.
    fn of_state(state: &AppState) -> Self {
        match &state.ui_secret {
            Some(secret) => Self(secret.to_vec()),
            None => Self::of(&state.cases),
        }
    }

    /// A key derived from the deployment's id secret, for routers built without a secret
    /// of their own.
    fn of(cases: &Cases) -> Self {
        // The id derivation is HMAC-SHA256 under the deployment's secret; an empty
        // organisation never names a real complaint, so these values are never ids anyone sees.
        let mut key = [0u8; 32];
        for (i, part) in ["0", "1"].iter().enumerate() {
            let derived = cases.complaint_id_for_source("", "ui-session-key/v1", part);
            key[i * 16..(i + 1) * 16].copy_from_slice(derived.as_bytes());
        }
        Self(key.to_vec())
    }

    fn mac(&self, purpose: &str, data: &[u8]) -> Vec<u8> {
        match Hmac::<sha2::Sha256>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                mac.update(purpose.as_bytes());
                mac.update(b"\n");
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
            // HMAC takes keys of any length; this arm is unreachable.
            Err(_) => Vec::new(),
        }
    }

    fn sign<T: Serialize>(&self, purpose: &str, claims: &T) -> Result<String, ApiError> {
        let json = serde_json::to_vec(claims)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot encode a session: {e}")))?;
        let body = URL_SAFE_NO_PAD.encode(json);
        let tag = URL_SAFE_NO_PAD.encode(self.mac(purpose, body.as_bytes()));
        Ok(format!("{body}.{tag}"))
    }

    fn open<T: for<'de> Deserialize<'de>>(&self, purpose: &str, value: &str) -> Option<T> {
        let (body, tag) = value.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.0).ok()?;
        mac.update(purpose.as_bytes());
        mac.update(b"\n");
        mac.update(body.as_bytes());
        mac.verify_slice(&tag).ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
    }
}

/// `value` signed (not encrypted) with the web pages' key for `purpose`.
pub(super) fn seal<T: Serialize>(
    state: &AppState,
    purpose: &str,
    value: &T,
) -> Result<String, ApiError> {
    Keys::of_state(state).sign(purpose, value)
}

/// A value [`seal`]ed for `purpose`, if its signature holds.
pub(super) fn unseal<T: for<'de> Deserialize<'de>>(
    state: &AppState,
    purpose: &str,
    value: &str,
) -> Option<T> {
    Keys::of_state(state).open(purpose, value)
}

/// Who a link or session is for: the same subject, organisations and roles as an API token.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claims {
    sub: String,
    orgs: Vec<String>,
    roles: Vec<Role>,
    /// Expiry, seconds since the epoch.
    exp: i64,
    /// The link's or session's id (random, 128 bits, hex).
    id: String,
}

impl Claims {
    fn caller(&self) -> Caller {
        Caller {
            subject: self.sub.clone(),
            organisations: self.orgs.clone(),
            roles: self.roles.clone(),
        }
    }
}

const LINK: &str = "complaints-ui-login-link/v1";
const SESSION: &str = "complaints-ui-session/v1";
const CSRF: &str = "complaints-ui-csrf/v1";

fn random_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(hex::encode(bytes))
}

/// A one-time sign-in token for `subject` acting for `organisations` in `roles`, valid for
/// `ttl` (at most a day), for a router built without a web pages' secret (its key derived
/// from the id secret of `cases`).
pub fn login_token(
    cases: &Cases,
    subject: &str,
    organisations: &[String],
    roles: &[Role],
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> Result<String, ApiError> {
    sign_link(&Keys::of(cases), subject, organisations, roles, now, ttl)
}

/// A one-time sign-in token signed with the web pages' `secret` (`Settings::ui_key`), as
/// `complaints login-link` prints it inside a URL.
pub fn login_token_with_secret(
    secret: &[u8],
    subject: &str,
    organisations: &[String],
    roles: &[Role],
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> Result<String, ApiError> {
    sign_link(
        &Keys(secret.to_vec()),
        subject,
        organisations,
        roles,
        now,
        ttl,
    )
}

fn sign_link(
    keys: &Keys,
    subject: &str,
    organisations: &[String],
    roles: &[Role],
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> Result<String, ApiError> {
    if subject.trim().is_empty() || organisations.is_empty() || roles.is_empty() {
        return Err(ApiError::Config(
            "a login link needs a subject, an organisation and a role".into(),
        ));
    }
    if ttl <= chrono::Duration::zero() || ttl > MAX_LINK_TTL {
        return Err(ApiError::Config(
            "a login link lives between 1 second and 24 hours".into(),
        ));
    }
    let claims = Claims {
        sub: subject.to_string(),
        orgs: organisations.to_vec(),
        roles: roles.to_vec(),
        exp: (now + ttl).timestamp(),
        id: random_id()?,
    };
    keys.sign(LINK, &claims)
}

/// A signed-in caller, from the session cookie.
pub(crate) struct Session {
    /// Who, for which organisations, in which roles.
    pub caller: Caller,
    /// The CSRF token of this session's forms.
    pub csrf: String,
    id: String,
    exp: i64,
}

impl Session {
    /// Refuses a form whose CSRF token is not this session's, or that came from another site.
    pub fn check_form(&self, token: &str, headers: &HeaderMap) -> Result<(), ApiError> {
        same_origin(headers)?;
        let expected = self.csrf.as_bytes();
        let given = token.as_bytes();
        let same = expected.len() == given.len()
            && expected
                .iter()
                .zip(given)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "the form's security token is missing or out of date: reload the page and try again"
                    .into(),
            ))
        }
    }
}

/// A `POST` from another site is refused (browsers send `Sec-Fetch-Site`).
fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        None | Some("same-origin") | Some("none") => Ok(()),
        Some(_) => Err(ApiError::Forbidden(
            "forms are accepted only from this service's own pages".into(),
        )),
    }
}

pub(super) fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let raw = cookie_value(&parts.headers, COOKIE)
            .ok_or_else(|| ApiError::Unauthorized("you are not signed in".into()))?;
        let keys = Keys::of_state(state);
        let claims: Claims = keys
            .open(SESSION, raw)
            .ok_or_else(|| ApiError::Unauthorized("the session is not valid".into()))?;
        if claims.exp <= state.now().timestamp() {
            return Err(ApiError::Unauthorized("the session has expired".into()).into());
        }
        if used(state, &format!("session:{}", claims.id)).await? {
            return Err(ApiError::Unauthorized("you signed out of this session".into()).into());
        }
        let csrf = URL_SAFE_NO_PAD.encode(keys.mac(CSRF, claims.id.as_bytes()));
        Ok(Session {
            caller: claims.caller(),
            csrf,
            id: claims.id,
            exp: claims.exp,
        })
    }
}

async fn ensure_table(state: &AppState) -> Result<(), ApiError> {
    let pool = state.cases.log().pool();
    on_pool!(pool, |p| {
        sqlx::query(
        "CREATE TABLE IF NOT EXISTS ui_login_links (id TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)"
    )
    .execute(p)
    .await
    .map(|_| ())?
    });
    Ok(())
}

/// Records `id` as used; false when it was already.
pub(super) async fn use_once(
    state: &AppState,
    id: &str,
    expires_at: i64,
) -> Result<bool, ApiError> {
    ensure_table(state).await?;
    let pool = state.cases.log().pool();
    let now = state.now().timestamp();
    on_pool!(pool, |p| sqlx::query(
        "DELETE FROM ui_login_links WHERE expires_at < $1"
    )
    .bind(now)
    .execute(p)
    .await
    .map(|_| ())?);
    let inserted = on_pool!(pool, |p| {
        sqlx::query(
        "INSERT INTO ui_login_links (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING"
    )
    .bind(id)
    .bind(expires_at)
    .execute(p)
    .await?
    .rows_affected()
    });
    Ok(inserted == 1)
}

/// Whether `id` is recorded as used (a signed-out session).
async fn used(state: &AppState, id: &str) -> Result<bool, ApiError> {
    ensure_table(state).await?;
    let pool = state.cases.log().pool();
    let found: Option<i64> = on_pool!(pool, |p| sqlx::query_scalar(
        "SELECT expires_at FROM ui_login_links WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await?);
    Ok(found.is_some())
}

pub(super) fn secure_cookies(headers: &HeaderMap) -> bool {
    let forwarded_tls = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let configured = std::env::var("COMPLAINTS_UI_SECURE_COOKIES")
        .is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    forwarded_tls || configured
}

fn cookie(headers: &HeaderMap, value: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    let secure = if secure_cookies(headers) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot set the session cookie: {e}")))
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
pub(super) struct LoginPage {
    /// The login link's token to use, if any.
    pub token: String,
    /// Why the last attempt failed.
    pub problem: Option<String>,
    /// The identity provider's name when sign-in through it is configured.
    pub provider: Option<String>,
}

impl LoginPage {
    /// The sign-in page showing `problem`.
    pub fn refusal(state: &AppState, problem: impl Into<String>) -> Self {
        Self {
            token: String::new(),
            problem: Some(problem.into()),
            provider: provider_name(state),
        }
    }
}

/// The identity provider's name, when the web pages sign in through one.
pub(super) fn provider_name(state: &AppState) -> Option<String> {
    state.auth.oidc().map(|p| p.name().to_string())
}

/// `GET /ui/login?token=…`: a page with one button that uses the link. The link is used
/// only by that `POST`, so a mail scanner or link preview fetching it does not spend it.
/// Without a token: the sign-in page (the identity provider, when configured, and how to
/// get a link).
async fn confirm(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, PageError> {
    page(&LoginPage {
        token: query.token.unwrap_or_default(),
        problem: None,
        provider: provider_name(&state),
    })
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// `POST /ui/login`: checks the link, records it as used, and starts a session.
async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    same_origin(&headers)?;
    let keys = Keys::of_state(&state);
    let now = state.now().timestamp();
    let refuse = |why: &str| -> Result<Response, PageError> {
        super::page_with(StatusCode::UNAUTHORIZED, &LoginPage::refusal(&state, why))
    };
    let Some(link) = keys.open::<Claims>(LINK, form.token.trim()) else {
        return refuse("This sign-in link is not valid. Ask for a new one.");
    };
    if link.exp <= now {
        return refuse("This sign-in link has expired. Ask for a new one.");
    }
    if !use_once(&state, &format!("link:{}", link.id), link.exp).await? {
        return refuse("This sign-in link has already been used. Ask for a new one.");
    }
    let cookie = session_cookie(&state, &headers, &link.caller())?;
    tracing::info!(subject = %link.sub, "signed in to the web pages with a login link");
    let mut response = Redirect::to("/ui").into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The `Set-Cookie` of a new session for `caller`: a login link and the identity provider
/// open the same session.
pub(super) fn session_cookie(
    state: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
) -> Result<HeaderValue, ApiError> {
    let session = Claims {
        sub: caller.subject.clone(),
        orgs: caller.organisations.clone(),
        roles: caller.roles.clone(),
        exp: state.now().timestamp() + SESSION_SECONDS,
        id: random_id()?,
    };
    let value = Keys::of_state(state).sign(SESSION, &session)?;
    cookie(headers, &value, SESSION_SECONDS)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOutPage {}

/// `POST /ui/logout`: ends the session (recorded, so the cookie is refused from now on).
async fn logout(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_form(&form.csrf, &headers)?;
    use_once(&state, &format!("session:{}", session.id), session.exp).await?;
    let mut response = (
        security_headers(),
        axum::response::Html(SignedOutPage {}.render()?),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie(&headers, "", 0)?);
    Ok(response)
}
