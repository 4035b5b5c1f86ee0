//! Sign-in to the web pages through an OpenID Connect provider, for real: a small provider
//! runs in this test (discovery, JWKS with a P-256 key generated here, an authorisation
//! endpoint that approves at once, a token endpoint that checks the client secret and the
//! PKCE verifier against the S256 challenge and signs an ID token), the gateway runs on its
//! own port configured through its settings as a deployment would be, and a client with a
//! cookie jar follows the redirects by hand like a browser.
//!
//! Then what a person could run into: a `state` that is not the one started, an
//! authorisation request whose challenge was altered (so the provider refuses the
//! verifier), an ID token for another audience or with another nonce, a replayed callback,
//! a provider that says no, and an account with no role here: each a clear page, no session.
//!
//! Over 600 lines because the provider, the cookie jar and the browser's steps are written
//! out here rather than mocked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use clap::Parser;
use complaints_gateway::{AppState, Settings};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

const CLIENT_ID: &str = "complaints-web";
const CLIENT_SECRET: &str = "a client secret: with spaces & symbols";
const KID: &str = "test-key-1";

/// What the test provider remembers and how the test bends it.
#[derive(Default)]
struct ProviderState {
    issuer: String,
    /// PKCS#8 PEM of the signing key.
    key_pem: String,
    /// The public key as a JWK.
    jwk: Value,
    /// Issued codes: the authorisation request each answers.
    codes: HashMap<String, HashMap<String, String>>,
    /// The ID token's audience instead of the client id.
    audience: Option<String>,
    /// The claims of the person who signs in (besides iss, aud, exp, nonce).
    person: Value,
    /// Refuse at the authorisation endpoint with this error.
    deny: Option<String>,
    /// Token requests seen, with whether the verifier matched.
    exchanges: Vec<bool>,
}

type Shared = Arc<Mutex<ProviderState>>;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).unwrap();
    bytes
}

/// A P-256 key made for this run: its PKCS#8 PEM and its public JWK.
fn generate_key() -> (String, Value) {
    let secret = loop {
        if let Ok(key) = p256::SecretKey::from_slice(&random_bytes::<32>()) {
            break key;
        }
    };
    let pem = secret
        .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
        .unwrap()
        .to_string();
    let point = secret.public_key().to_encoded_point(false);
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": KID, "use": "sig", "alg": "ES256",
                     "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
                     "y": URL_SAFE_NO_PAD.encode(point.y().unwrap())});
    (pem, jwk)
}

fn sign(provider: &ProviderState, claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(KID.into());
    let key = jsonwebtoken::EncodingKey::from_ec_pem(provider.key_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

async fn discovery(State(shared): State<Shared>) -> Json<Value> {
    let issuer = shared.lock().unwrap().issuer.clone();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
    }))
}

async fn jwks(State(shared): State<Shared>) -> Json<Value> {
    Json(json!({"keys": [shared.lock().unwrap().jwk.clone()]}))
}

/// Approves at once: back to the redirect URI with a fresh code and the state.
async fn authorize(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut provider = shared.lock().unwrap();
    let redirect = query.get("redirect_uri").cloned().unwrap_or_default();
    let state = query.get("state").cloned().unwrap_or_default();
    assert_eq!(query.get("response_type").map(String::as_str), Some("code"));
    assert_eq!(
        query.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert!(query["scope"].split(' ').any(|s| s == "openid"));
    if let Some(error) = &provider.deny {
        return Redirect::to(&format!(
            "{redirect}?error={error}&error_description=The+user+cancelled&state={state}"
        ))
        .into_response();
    }
    if query.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return (StatusCode::BAD_REQUEST, "unknown client").into_response();
    }
    let code = URL_SAFE_NO_PAD.encode(random_bytes::<16>());
    provider.codes.insert(code.clone(), query);
    Redirect::to(&format!("{redirect}?code={code}&state={state}")).into_response()
}

fn token_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// Checks the client (Basic), the code (once), the redirect URI and the PKCE verifier, then
/// answers with an ID token signed with the test key.
async fn token(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut provider = shared.lock().unwrap();
    // RFC 6749, 2.3.1: the id and secret are form-encoded inside Basic.
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!(
            "{CLIENT_ID}:{}",
            CLIENT_SECRET
                .replace(':', "%3A")
                .replace('&', "%26")
                .replace(' ', "+")
        ))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return token_error("invalid_client", "client authentication failed");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return token_error("unsupported_grant_type", "");
    }
    let Some(request) = form.get("code").and_then(|c| provider.codes.remove(c)) else {
        return token_error("invalid_grant", "unknown or used code");
    };
    if form.get("redirect_uri") != request.get("redirect_uri") {
        return token_error("invalid_grant", "redirect_uri does not match");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let matched = verifier.len() >= 43 && Some(&challenge) == request.get("code_challenge");
    provider.exchanges.push(matched);
    if !matched {
        return token_error("invalid_grant", "PKCE verification failed");
    }
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": provider.issuer,
        "aud": provider.audience.clone().unwrap_or_else(|| CLIENT_ID.into()),
        "iat": now,
        "exp": now + 300,
        "nonce": request.get("nonce"),
    });
    for (name, value) in provider.person.as_object().unwrap() {
        claims[name] = value.clone();
    }
    let id_token = sign(&provider, &claims);
    Json(
        json!({"access_token": "opaque", "token_type": "Bearer", "expires_in": 300,
                "id_token": id_token}),
    )
    .into_response()
}

/// The provider on a port of its own; its issuer URL and state.
async fn start_provider() -> (String, Shared) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let (key_pem, jwk) = generate_key();
    let shared = Arc::new(Mutex::new(ProviderState {
        issuer: issuer.clone(),
        key_pem,
        jwk,
        person: person(),
        ..ProviderState::default()
    }));
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .with_state(shared.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (issuer, shared)
}

/// An Entra-like person: the ODS code in a custom claim, an app role mapped to ours.
fn person() -> Value {
    json!({"sub": "ann.example", "name": "Ann Example", "ods_code": "RAL",
           "roles": ["Complaints.Caseworker"]})
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
}

struct Gateway {
    base: String,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
    _db: complaints_testkit::TestDatabase,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The gateway configured through its settings (flags), as `complaints serve` would be.
async fn start_gateway(issuer: &str) -> Gateway {
    let db = complaints_testkit::TestDatabase::any().await;
    let database_url = match &db.database {
        complaints_eventlog::Database::Postgres(url) => url.clone(),
        complaints_eventlog::Database::Sqlite(_) => String::new(),
    };
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("oidc-client-secret");
    std::fs::write(&secret_file, format!("{CLIENT_SECRET}\n")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let data_dir = dir.path().display().to_string();
    let secret_path = secret_file.display().to_string();
    let jwks_url = format!("{issuer}/jwks");
    let redirect = format!("{base}/ui/oidc/callback");
    let cli = Cli::try_parse_from([
        "complaints",
        "--data-dir",
        &data_dir,
        "--database-url",
        &database_url,
        "--jwks-url",
        &jwks_url,
        "--jwt-issuer",
        issuer,
        "--jwt-audience",
        "complaints-api",
        "--jwt-organisations-claim",
        "ods_code",
        "--jwt-roles-claim",
        "roles",
        "--jwt-role-map",
        "Complaints.Caseworker=caseworker",
        "--oidc-client-id",
        CLIENT_ID,
        "--oidc-client-secret-file",
        &secret_path,
        "--oidc-redirect-url",
        &redirect,
        "--oidc-provider-name",
        "Test ID",
        "--ui-secret",
        "a web pages secret for this test run",
    ])
    .unwrap();
    let settings = cli.settings;
    let cases = Arc::new(complaints_gateway::open_cases(&settings).await.unwrap());
    let auth = Arc::new(settings.authenticator().unwrap());
    let state = AppState::new(cases, auth).with_ui_secret(settings.ui_key().unwrap());
    let stop = CancellationToken::new();
    tokio::spawn(complaints_gateway::serve(listener, state, stop.clone()));
    Gateway {
        base,
        stop,
        _dir: dir,
        _db: db,
    }
}

/// A browser's cookie jar, enough for this: name, value and path per cookie, one origin.
#[derive(Default, Clone)]
struct Jar(HashMap<String, (String, String)>);

impl Jar {
    fn take(&mut self, response: &reqwest::Response) {
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let mut parts = set.split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let mut path = "/".to_string();
            let mut expired = false;
            for attribute in parts {
                if let Some(p) = attribute.strip_prefix("Path=") {
                    path = p.to_string();
                }
                expired |= attribute == "Max-Age=0";
            }
            if expired {
                self.0.remove(name);
            } else {
                self.0
                    .insert(name.to_string(), (value.to_string(), path.to_string()));
            }
        }
    }

    fn header(&self, url: &str) -> String {
        let path = reqwest::Url::parse(url).unwrap().path().to_string();
        self.0
            .iter()
            .filter(|(_, (_, p))| path.starts_with(p.as_str()))
            .map(|(name, (value, _))| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

struct Browser {
    client: reqwest::Client,
    jar: Jar,
    gateway: String,
}

impl Browser {
    fn new(gateway: &Gateway) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: Jar::default(),
            gateway: gateway.base.clone(),
        }
    }

    /// A GET; the gateway's cookies go to the gateway only.
    async fn get(&mut self, url: &str) -> reqwest::Response {
        let mut request = self.client.get(url);
        if url.starts_with(&self.gateway) {
            request = request.header("cookie", self.jar.header(url));
        }
        let response = request.send().await.unwrap();
        if url.starts_with(&self.gateway) {
            self.jar.take(&response);
        }
        response
    }

    /// Starts a sign-in: the provider's authorisation URL the gateway sends the browser to.
    async fn start(&mut self) -> String {
        let start = format!("{}/ui/sign-in/oidc", self.gateway);
        let response = self.get(&start).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert!(self.jar.has("complaints_oidc"), "the flow cookie is set");
        let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
        assert!(
            set_cookie.contains("HttpOnly")
                && set_cookie.contains("SameSite=Lax")
                && set_cookie.contains("Path=/ui/oidc/callback"),
            "{set_cookie}"
        );
        location(&response)
    }

    /// At the provider: the callback URL it sends the browser back to.
    async fn approve(&mut self, authorisation: &str) -> String {
        let response = self.get(authorisation).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response)
    }

    /// Back at the gateway: the status and page of the callback.
    async fn finish(&mut self, callback: &str) -> (StatusCode, String) {
        let response = self.get(callback).await;
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// The whole flow, with `tamper` applied to the authorisation URL on its way.
    async fn sign_in(&mut self, tamper: impl Fn(String) -> String) -> (StatusCode, String) {
        let authorisation = self.start().await;
        let callback = self.approve(&tamper(authorisation)).await;
        self.finish(&callback).await
    }

    /// The deadline board: whether it answers as signed in, and its page.
    async fn board(&mut self) -> (StatusCode, String) {
        let url = format!("{}/ui", self.gateway);
        let response = self.get(&url).await;
        let status = response.status();
        (status, response.text().await.unwrap())
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

/// `url` with its query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = reqwest::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.into()
}

fn param(url: &str, name: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// The problem the sign-in page shows.
fn problem(page: &str) -> String {
    let start = page.find("id=\"sign-in-problem\">").expect(page) + 21;
    let end = start + page[start..].find("</p>").unwrap();
    page[start..end].to_string()
}

#[tokio::test]
async fn signing_in_through_the_identity_provider_opens_a_session_as_the_api_caller() {
    let (issuer, provider) = start_provider().await;
    let gateway = start_gateway(&issuer).await;
    let mut browser = Browser::new(&gateway);

    // Not signed in: the board sends to the sign-in page, which offers the provider.
    let (status, page) = browser.board().await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("href=\"/ui/login\""), "{page}");
    let login = browser.get(&format!("{}/ui/login", gateway.base)).await;
    let page = login.text().await.unwrap();
    assert!(page.contains("Sign in with Test ID"), "{page}");
    assert!(page.contains("href=\"/ui/sign-in/oidc\""));
    assert!(
        page.contains("complaints login-link"),
        "the link path stays"
    );

    // The authorisation request: this client, the callback, a state, a nonce, S256 PKCE.
    let authorisation = browser.start().await;
    assert!(authorisation.starts_with(&format!("{issuer}/authorize?")));
    assert_eq!(param(&authorisation, "client_id"), CLIENT_ID);
    assert_eq!(
        param(&authorisation, "redirect_uri"),
        format!("{}/ui/oidc/callback", gateway.base)
    );
    assert_eq!(param(&authorisation, "scope"), "openid profile");
    assert_eq!(param(&authorisation, "code_challenge").len(), 43);
    assert!(param(&authorisation, "state").len() >= 43);
    assert_ne!(
        param(&authorisation, "state"),
        param(&authorisation, "nonce")
    );
    let callback = browser.approve(&authorisation).await;
    let (status, page) = browser.finish(&callback).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("You are signed in"), "{page}");
    assert!(page.contains("url=/ui"), "the page moves on to the board");
    assert!(
        !browser.jar.has("complaints_oidc"),
        "the flow cookie is gone"
    );
    assert!(browser.jar.has("complaints_session"));
    assert_eq!(provider.lock().unwrap().exchanges, vec![true]);

    // The session is the caller an access token with these claims is to the API: the
    // organisation from `ods_code`, the app role mapped to caseworker.
    let (status, page) = browser.board().await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Signed in as <strong>ann.example</strong> (caseworker) for RAL."),
        "{page}"
    );
    let access_token = {
        let provider = provider.lock().unwrap();
        let mut claims = person();
        claims["iss"] = json!(issuer);
        claims["aud"] = json!("complaints-api");
        claims["exp"] = json!(chrono::Utc::now().timestamp() + 300);
        sign(&provider, &claims)
    };
    // The API takes the same person: the same organisation, the same role.
    let api = |organisation: &str| {
        reqwest::Client::new()
            .get(format!(
                "{}/v1/complaints?organisation={organisation}",
                gateway.base
            ))
            .bearer_auth(&access_token)
            .send()
    };
    assert_eq!(api("RAL").await.unwrap().status(), StatusCode::OK);
    assert_eq!(api("RJ1").await.unwrap().status(), StatusCode::FORBIDDEN);

    // The callback cannot be replayed: its flow is spent.
    let (status, page) = browser.finish(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem(&page).contains("Start again"), "{page}");
}

#[tokio::test]
async fn a_sign_in_that_does_not_check_out_is_refused_with_a_clear_page() {
    let (issuer, provider) = start_provider().await;
    let gateway = start_gateway(&issuer).await;

    // A state that is not the one this browser started.
    let mut browser = Browser::new(&gateway);
    let authorisation = browser.start().await;
    let callback = browser.approve(&authorisation).await;
    let forged = with_param(&callback, "state", "someone-elses-state");
    let (status, page) = browser.finish(&forged).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(
        problem(&page).contains("not for the sign-in started in this browser"),
        "{page}"
    );
    assert!(
        page.contains("Sign in with Test ID"),
        "a way to start again"
    );
    assert!(!browser.jar.has("complaints_session"));
    assert!(provider.lock().unwrap().exchanges.is_empty(), "no exchange");

    // A callback with no flow cookie at all (another browser).
    let mut other = Browser::new(&gateway);
    let (status, page) = other.finish(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem(&page).contains("another browser"), "{page}");

    // The challenge altered on its way to the provider: the provider refuses the verifier.
    let mut browser = Browser::new(&gateway);
    let (status, page) = browser
        .sign_in(|url| {
            let other =
                URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(b"a verifier of someone else's"));
            with_param(&url, "code_challenge", &other)
        })
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
    assert_eq!(
        problem(&page),
        "The identity provider refused to complete the sign-in (invalid_grant: PKCE verification failed)."
    );
    assert_eq!(provider.lock().unwrap().exchanges, vec![false]);
    assert!(!browser.jar.has("complaints_session"));

    // A nonce altered on its way: the ID token carries it, and it is not this sign-in's.
    let mut browser = Browser::new(&gateway);
    let (status, page) = browser
        .sign_in(|url| with_param(&url, "nonce", "a-replayed-nonce"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
    assert!(
        problem(&page).contains("not for this sign-in (nonce)"),
        "{page}"
    );
    assert!(!browser.jar.has("complaints_session"));

    // An ID token issued for another client.
    provider.lock().unwrap().audience = Some("another-client".into());
    let mut browser = Browser::new(&gateway);
    let (status, page) = browser.sign_in(|url| url).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
    assert!(
        problem(&page).contains("issued to another client (audience)"),
        "{page}"
    );
    assert!(!browser.jar.has("complaints_session"));
    provider.lock().unwrap().audience = None;

    // The person cancels at the provider.
    provider.lock().unwrap().deny = Some("access_denied".into());
    let mut browser = Browser::new(&gateway);
    let (status, page) = browser.sign_in(|url| url).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        problem(&page),
        "The identity provider did not sign you in (access_denied: The user cancelled)."
    );
    provider.lock().unwrap().deny = None;

    // An account the provider knows but with no role here.
    provider.lock().unwrap().person =
        json!({"sub": "bob", "ods_code": "RAL", "roles": ["Other.App"]});
    let mut browser = Browser::new(&gateway);
    let (status, page) = browser.sign_in(|url| url).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(
        problem(&page).contains("(bob) has no organisation or no role"),
        "{page}"
    );
    assert!(!browser.jar.has("complaints_session"));

    // None of these opened a session, and the board still refuses.
    let (status, _) = browser.board().await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unreachable_provider_is_a_clear_page() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gateway = start_gateway(&format!("http://127.0.0.1:{port}")).await;
    let mut browser = Browser::new(&gateway);
    let response = browser
        .get(&format!("{}/ui/sign-in/oidc", gateway.base))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let page = response.text().await.unwrap();
    assert!(
        problem(&page).starts_with("The identity provider cannot be reached just now"),
        "{page}"
    );
}
