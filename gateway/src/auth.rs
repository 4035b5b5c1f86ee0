// Over 600 lines: three key sources (shared secret, key files, a JWKS URL refreshed on an
// unknown kid), configurable claim paths and role maps, and their tests (a fifth of it).
// Sign-in through the identity provider (OpenID Connect) is in `auth/oidc.rs`.
//! Bearer-token authentication and role-based authorisation.
//!
//! Tokens are JWTs. The embedded default signs and checks HS256 with a secret generated in
//! the data directory on first run (`complaints token` mints with it); production checks
//! RS256/ES256 (and the other RSA and EC algorithms) against the identity provider's keys: a
//! JWKS URL fetched at start and again when a token names a key id not yet known (at most
//! once per `COMPLAINTS_JWKS_MIN_REFRESH_SECS`), a JWKS file, or a PEM public key. Claims carry
//! the subject, the organisations and the roles; the claim names of the last two are
//! configurable (`COMPLAINTS_JWT_ORGANISATIONS_CLAIM`, `COMPLAINTS_JWT_ROLES_CLAIM`, with a
//! dotted path reaching into objects and arrays, e.g. `nhsid_nrbac_roles.org_code`), and
//! identity-provider role values can be mapped to this service's roles
//! (`COMPLAINTS_JWT_ROLE_MAP`). Secrets may be given as files (`COMPLAINTS_JWT_SECRET_FILE`).

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Deserializer, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub mod oidc;

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Receives and acknowledges complaints.
    Frontline,
    /// Every case command within the organisation.
    Caseworker,
    /// Reads case histories; changes nothing.
    Auditor,
    /// Reports and projections, no personal data.
    Reporting,
    /// Event exports only.
    Regulator,
    /// Data subject look-up, erasure and subject access (UK GDPR, DPA 2018).
    DataProtection,
    /// Whistleblowing concerns, and nothing else: no other role sees them (R-KIND-3).
    Whistleblowing,
    /// Maintains the organisation register (R-SCOPE-1, R-SCOPE-4).
    Administrator,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 8] = [
        Role::Frontline,
        Role::Caseworker,
        Role::Auditor,
        Role::Reporting,
        Role::Regulator,
        Role::DataProtection,
        Role::Whistleblowing,
        Role::Administrator,
    ];

    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Frontline => "frontline",
            Role::Caseworker => "caseworker",
            Role::Auditor => "auditor",
            Role::Reporting => "reporting",
            Role::Regulator => "regulator",
            Role::DataProtection => "data_protection",
            Role::Whistleblowing => "whistleblowing",
            Role::Administrator => "administrator",
        }
    }

    /// Parses a role name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// The claims this service reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Who the caller is.
    pub sub: String,
    /// Organisations the caller acts for (`org` may be a string or a list).
    #[serde(alias = "org", deserialize_with = "one_or_many")]
    pub orgs: Vec<String>,
    /// Roles (`role` may be a string or a list).
    #[serde(alias = "role", deserialize_with = "one_or_many")]
    pub roles: Vec<String>,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at.
    #[serde(default)]
    pub iat: i64,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Token subject.
    pub subject: String,
    /// Organisations it acts for.
    pub organisations: Vec<String>,
    /// Its roles (unknown role names in the token are ignored).
    pub roles: Vec<Role>,
}

impl Caller {
    /// Whether the caller acts for `organisation_id`.
    pub fn acts_for(&self, organisation_id: &str) -> bool {
        self.organisations.iter().any(|o| o == organisation_id)
    }

    /// The first of `allowed` the caller holds, else 403.
    pub fn require(&self, allowed: &[Role]) -> Result<Role, ApiError> {
        allowed
            .iter()
            .copied()
            .find(|r| self.roles.contains(r))
            .ok_or_else(|| {
                let names: Vec<&str> = allowed.iter().map(|r| r.name()).collect();
                ApiError::Forbidden(format!("needs one of the roles: {}", names.join(", ")))
            })
    }
}

/// Where verification keys come from.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthSettings {
    /// HS256 secret; when no key is configured one is generated in the data directory.
    #[arg(
        long = "jwt-secret",
        env = "COMPLAINTS_JWT_SECRET",
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,
    /// A file holding the HS256 secret (a mounted secret); instead of `COMPLAINTS_JWT_SECRET`.
    #[arg(long = "jwt-secret-file", env = "COMPLAINTS_JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<PathBuf>,
    /// PEM public key (RSA or EC) for RS256/ES256 tokens.
    #[arg(long = "jwt-public-key-file", env = "COMPLAINTS_JWT_PUBLIC_KEY_FILE")]
    pub public_key_file: Option<PathBuf>,
    /// JWKS file of the identity provider's keys (selected by `kid`).
    #[arg(long = "jwks-file", env = "COMPLAINTS_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,
    /// JWKS URL of the identity provider (its `jwks_uri`): fetched at start and again when a
    /// token names an unknown `kid`.
    #[arg(long = "jwks-url", env = "COMPLAINTS_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// Least time between two fetches of the JWKS URL, so tokens with made-up key ids cannot
    /// make the service hammer the identity provider.
    #[arg(
        long = "jwks-min-refresh-secs",
        env = "COMPLAINTS_JWKS_MIN_REFRESH_SECS",
        default_value_t = 30
    )]
    pub jwks_min_refresh_secs: u64,
    /// Claim holding the caller's organisations: a name, or a dotted path into objects and
    /// arrays (`nhsid_nrbac_roles.org_code`). A string or a list of strings.
    #[arg(
        long = "jwt-organisations-claim",
        env = "COMPLAINTS_JWT_ORGANISATIONS_CLAIM",
        default_value = "orgs"
    )]
    pub organisations_claim: String,
    /// Claim holding the caller's roles (a name or dotted path, like the organisations').
    #[arg(
        long = "jwt-roles-claim",
        env = "COMPLAINTS_JWT_ROLES_CLAIM",
        default_value = "roles"
    )]
    pub roles_claim: String,
    /// Maps identity-provider role values to this service's roles:
    /// `VALUE=role,VALUE=role` (e.g. `Complaints.Caseworker=caseworker`). A value matches
    /// whole or by its last `:`-separated part (NHS CIS2 role codes `S…:G…:R8000`). Values
    /// already named like a role need no entry.
    #[arg(long = "jwt-role-map", env = "COMPLAINTS_JWT_ROLE_MAP")]
    pub role_map: Option<String>,
    /// Required `iss`, if set.
    #[arg(long = "jwt-issuer", env = "COMPLAINTS_JWT_ISSUER")]
    pub issuer: Option<String>,
    /// Required `aud`, if set.
    #[arg(long = "jwt-audience", env = "COMPLAINTS_JWT_AUDIENCE")]
    pub audience: Option<String>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_secret_file: None,
            public_key_file: None,
            jwks_file: None,
            jwks_url: None,
            jwks_min_refresh_secs: 30,
            organisations_claim: DEFAULT_ORGANISATIONS_CLAIM.into(),
            roles_claim: DEFAULT_ROLES_CLAIM.into(),
            role_map: None,
            issuer: None,
            audience: None,
        }
    }
}

/// Default claim of the organisations (`org` is read too).
pub const DEFAULT_ORGANISATIONS_CLAIM: &str = "orgs";
/// Default claim of the roles (`role` is read too).
pub const DEFAULT_ROLES_CLAIM: &str = "roles";

/// Reads a secret given either inline or as a file (`*_FILE`, a mounted secret): the file's
/// content without its trailing line break. Both at once is a configuration error.
pub fn secret_value(
    inline: Option<&str>,
    file: Option<&Path>,
    what: &str,
) -> Result<Option<String>, ApiError> {
    let inline = inline.filter(|s| !s.is_empty());
    match (inline, file) {
        (Some(_), Some(path)) => Err(ApiError::Config(format!(
            "{what} is set both inline and as a file ({}); set one",
            path.display()
        ))),
        (Some(value), None) => Ok(Some(value.to_string())),
        (None, Some(path)) => {
            let text = read(path)?;
            let value = text.trim_end_matches(['\n', '\r']).to_string();
            if value.is_empty() {
                return Err(ApiError::Config(format!(
                    "{what} file {} is empty",
                    path.display()
                )));
            }
            Ok(Some(value))
        }
        (None, None) => Ok(None),
    }
}

/// An identity provider's JWKS behind a URL: fetched at start, then again (at most once per
/// `min_interval`) when a token names a key id the set does not hold, so a key rotation at
/// the provider needs no restart.
pub struct RemoteJwks {
    url: String,
    client: reqwest::Client,
    keys: RwLock<JwkSet>,
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    min_interval: Duration,
}

impl RemoteJwks {
    /// A source with no keys yet; [`RemoteJwks::refresh`] fetches them.
    pub fn new(url: &str, min_interval: Duration) -> Result<Self, ApiError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ApiError::Config(format!("cannot build the JWKS client: {e}")))?;
        Ok(Self {
            url: url.to_string(),
            client,
            keys: RwLock::new(JwkSet { keys: Vec::new() }),
            last_fetch: tokio::sync::Mutex::new(None),
            min_interval,
        })
    }

    async fn fetch(&self) -> Result<JwkSet, String> {
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        response.json::<JwkSet>().await.map_err(|e| e.to_string())
    }

    /// Fetches the set unless a fetch started less than the minimum interval ago; returns
    /// whether it fetched a new set. Concurrent callers wait for one fetch.
    pub async fn refresh(&self) -> bool {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|t| t.elapsed() < self.min_interval) {
            return false;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(set) => {
                tracing::info!(url = %self.url, keys = set.keys.len(), "fetched the identity provider's keys");
                metrics::counter!("jwks_refreshes_total", "outcome" => "ok").increment(1);
                if let Ok(mut keys) = self.keys.write() {
                    *keys = set;
                }
                true
            }
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "cannot fetch the identity provider's keys");
                metrics::counter!("jwks_refreshes_total", "outcome" => "error").increment(1);
                false
            }
        }
    }

    fn find(&self, kid: &str) -> Option<jsonwebtoken::jwk::Jwk> {
        self.keys.read().ok()?.find(kid).cloned()
    }
}

enum Verifier {
    Secret(Vec<u8>),
    PublicKey(DecodingKey, Algorithm),
    Jwks(JwkSet),
    Remote(Arc<RemoteJwks>),
}

/// Where the caller's organisations and roles are read from, and how roles are named.
#[derive(Debug, Clone)]
struct ClaimNames {
    organisations: String,
    roles: String,
    role_map: Vec<(String, Role)>,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            organisations: DEFAULT_ORGANISATIONS_CLAIM.into(),
            roles: DEFAULT_ROLES_CLAIM.into(),
            role_map: Vec::new(),
        }
    }
}

fn parse_role_map(raw: &str) -> Result<Vec<(String, Role)>, ApiError> {
    raw.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (value, role) = entry.rsplit_once('=').ok_or_else(|| {
                ApiError::Config(format!(
                    "COMPLAINTS_JWT_ROLE_MAP entry `{entry}` is not VALUE=role"
                ))
            })?;
            let role = Role::parse(role.trim()).ok_or_else(|| {
                ApiError::Config(format!(
                    "COMPLAINTS_JWT_ROLE_MAP names an unknown role `{role}`"
                ))
            })?;
            Ok((value.trim().to_string(), role))
        })
        .collect()
}

/// The strings at `path` (dot-separated) in `claims`: arrays on the way are walked element
/// by element, and a string or a list of strings at the end is taken.
fn claim_values(claims: &serde_json::Value, path: &str) -> Vec<String> {
    fn walk(value: &serde_json::Value, path: &[&str], out: &mut Vec<String>) {
        match (value, path.split_first()) {
            (serde_json::Value::Array(items), _) => {
                for item in items {
                    walk(item, path, out);
                }
            }
            (serde_json::Value::String(s), None) => out.push(s.clone()),
            (serde_json::Value::Object(map), Some((first, rest))) => {
                if let Some(next) = map.get(*first) {
                    walk(next, rest, out);
                }
            }
            _ => {}
        }
    }
    let parts: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    walk(claims, &parts, &mut out);
    out
}

impl ClaimNames {
    fn organisations(&self, claims: &serde_json::Value) -> Vec<String> {
        let mut found = claim_values(claims, &self.organisations);
        if found.is_empty() && self.organisations == DEFAULT_ORGANISATIONS_CLAIM {
            found = claim_values(claims, "org");
        }
        found.sort();
        found.dedup();
        found
    }

    fn roles(&self, claims: &serde_json::Value) -> Vec<Role> {
        let mut values = claim_values(claims, &self.roles);
        if values.is_empty() && self.roles == DEFAULT_ROLES_CLAIM {
            values = claim_values(claims, "role");
        }
        let mut roles: Vec<Role> = values
            .iter()
            .filter_map(|value| {
                let last = value.rsplit(':').next().unwrap_or(value);
                self.role_map
                    .iter()
                    .find(|(from, _)| from == value || from == last)
                    .map(|(_, role)| *role)
                    .or_else(|| Role::parse(value))
            })
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }
}

/// Checks bearer tokens (and, with a secret, mints them).
pub struct Authenticator {
    verifier: Verifier,
    claims: ClaimNames,
    issuer: Option<String>,
    audience: Option<String>,
    /// Sign-in to the web pages through the identity provider, when configured.
    oidc: Option<Arc<oidc::Provider>>,
}

/// Name of the generated secret file in the data directory.
pub const SECRET_FILE: &str = "jwt-secret";

impl Authenticator {
    /// An HS256 authenticator with `secret`.
    pub fn with_secret(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            verifier: Verifier::Secret(secret.into()),
            claims: ClaimNames::default(),
            issuer: None,
            audience: None,
            oidc: None,
        }
    }

    /// Also signs people in to the web pages through `provider` (OpenID Connect), mapping
    /// its ID tokens' claims as this authenticator maps an access token's.
    pub fn with_oidc(mut self, provider: oidc::Provider) -> Self {
        self.oidc = Some(Arc::new(provider));
        self
    }

    /// The identity provider the web pages sign in with, if configured.
    pub fn oidc(&self) -> Option<&Arc<oidc::Provider>> {
        self.oidc.as_ref()
    }

    /// From settings: a JWKS URL, else a JWKS file, else a public key, else the configured
    /// secret (inline or file), else the secret in `data_dir` (generated on first run).
    ///
    /// With a JWKS URL the first fetch starts in the background when called inside a Tokio
    /// runtime; until it answers, a token is checked after waiting for it (see
    /// [`Authenticator::verify_fresh`]).
    pub fn from_settings(settings: &AuthSettings, data_dir: &Path) -> Result<Self, ApiError> {
        let secret = secret_value(
            settings.jwt_secret.as_deref(),
            settings.jwt_secret_file.as_deref(),
            "the token secret (COMPLAINTS_JWT_SECRET / COMPLAINTS_JWT_SECRET_FILE)",
        )?;
        let verifier = if let Some(url) = settings.jwks_url.as_deref().filter(|u| !u.is_empty()) {
            let remote = Arc::new(RemoteJwks::new(
                url,
                Duration::from_secs(settings.jwks_min_refresh_secs),
            )?);
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let first = remote.clone();
                runtime.spawn(async move { first.refresh().await });
            }
            Verifier::Remote(remote)
        } else if let Some(path) = &settings.jwks_file {
            let text = read(path)?;
            let set: JwkSet = serde_json::from_str(&text)
                .map_err(|e| ApiError::Config(format!("invalid JWKS {}: {e}", path.display())))?;
            Verifier::Jwks(set)
        } else if let Some(path) = &settings.public_key_file {
            let pem = read(path)?;
            if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
                Verifier::PublicKey(key, Algorithm::RS256)
            } else {
                let key = DecodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| {
                    ApiError::Config(format!(
                        "{} is neither an RSA nor an EC public key: {e}",
                        path.display()
                    ))
                })?;
                Verifier::PublicKey(key, Algorithm::ES256)
            }
        } else if let Some(secret) = secret {
            Verifier::Secret(secret.into_bytes())
        } else {
            Verifier::Secret(load_or_create_secret(data_dir)?)
        };
        let claims = ClaimNames {
            organisations: settings.organisations_claim.trim().to_string(),
            roles: settings.roles_claim.trim().to_string(),
            role_map: parse_role_map(settings.role_map.as_deref().unwrap_or_default())?,
        };
        if claims.organisations.is_empty() || claims.roles.is_empty() {
            return Err(ApiError::Config(
                "the organisations and roles claim names must not be empty".into(),
            ));
        }
        Ok(Self {
            verifier,
            claims,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            oidc: None,
        })
    }

    /// Mints an HS256 token (embedded default and tests only).
    pub fn mint(
        &self,
        subject: &str,
        organisations: &[String],
        roles: &[Role],
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<String, ApiError> {
        let Verifier::Secret(secret) = &self.verifier else {
            return Err(ApiError::Config(
                "tokens can be minted only with the HS256 secret; use the identity provider".into(),
            ));
        };
        let claims = Claims {
            sub: subject.to_string(),
            orgs: organisations.to_vec(),
            roles: roles.iter().map(|r| r.name().to_string()).collect(),
            exp: (now + ttl).timestamp(),
            iat: now.timestamp(),
            iss: self.issuer.clone(),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot sign token: {e}")))
    }

    /// Verifies a bearer token against the keys held now. With a JWKS URL, a token naming an
    /// unknown key id also starts a (rate-limited) refresh in the background, so a retry
    /// succeeds after a rotation; [`Authenticator::verify_fresh`] waits for it instead.
    pub fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        match self.check(token) {
            Err(Refused::UnknownKey(why)) => {
                if let (Verifier::Remote(remote), Ok(runtime)) =
                    (&self.verifier, tokio::runtime::Handle::try_current())
                {
                    let remote = remote.clone();
                    runtime.spawn(async move { remote.refresh().await });
                }
                Err(ApiError::Unauthorized(why))
            }
            other => other.map_err(Refused::into_error),
        }
    }

    /// Verifies a bearer token; with a JWKS URL and a key id not held yet, first refreshes the
    /// keys (at most once per the minimum interval) and tries again.
    pub async fn verify_fresh(&self, token: &str) -> Result<Caller, ApiError> {
        match (self.check(token), &self.verifier) {
            (Err(Refused::UnknownKey(_)), Verifier::Remote(remote)) => {
                remote.refresh().await;
                self.check(token).map_err(Refused::into_error)
            }
            (result, _) => result.map_err(Refused::into_error),
        }
    }

    fn check(&self, token: &str) -> Result<Caller, Refused> {
        let refused = Refused::Invalid;
        let (key, algorithm) = match &self.verifier {
            Verifier::Secret(secret) => (DecodingKey::from_secret(secret), Algorithm::HS256),
            Verifier::PublicKey(key, algorithm) => (key.clone(), *algorithm),
            Verifier::Jwks(set) => signing_key(token, &|kid| set.find(kid).cloned())?,
            Verifier::Remote(remote) => signing_key(token, &|kid| remote.find(kid))?,
        };
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
        }
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
            .map_err(|e| refused(format!("invalid token: {e}")))?;
        let claims = data.claims;
        let subject = claims
            .get("sub")
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_string();
        if subject.trim().is_empty() {
            return Err(refused("token subject is empty".into()));
        }
        Ok(self.caller_from(subject, &claims))
    }

    /// The caller a token with `claims` stands for (organisations and roles read and mapped
    /// as configured).
    fn caller_from(&self, subject: String, claims: &serde_json::Value) -> Caller {
        Caller {
            subject,
            organisations: self.claims.organisations(claims),
            roles: self.claims.roles(claims),
        }
    }
}

/// The key a token names by `kid` in a key set (`find`), and its algorithm: RSA or EC only.
fn signing_key(
    token: &str,
    find: &dyn Fn(&str) -> Option<jsonwebtoken::jwk::Jwk>,
) -> Result<(DecodingKey, Algorithm), Refused> {
    let refused = Refused::Invalid;
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| refused(format!("malformed token: {e}")))?;
    let kid = header
        .kid
        .ok_or_else(|| refused("token has no kid".into()))?;
    let jwk = find(&kid).ok_or_else(|| Refused::UnknownKey("unknown signing key".into()))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| refused(format!("unusable key: {e}")))?;
    if !matches!(
        header.alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
            | Algorithm::ES256
            | Algorithm::ES384
    ) {
        return Err(refused(
            "only RSA (RS*/PS*) and EC (ES256/ES384) signatures are accepted".into(),
        ));
    }
    Ok((key, header.alg))
}

/// Why a token was refused: an unknown key id is worth a refresh of a JWKS URL.
enum Refused {
    UnknownKey(String),
    Invalid(String),
}

impl Refused {
    fn into_error(self) -> ApiError {
        match self {
            Refused::UnknownKey(why) | Refused::Invalid(why) => ApiError::Unauthorized(why),
        }
    }
}

fn read(path: &Path) -> Result<String, ApiError> {
    std::fs::read_to_string(path)
        .map_err(|e| ApiError::Config(format!("cannot read {}: {e}", path.display())))
}

/// Reads the HS256 secret from `data_dir`, creating it (owner-only) on first run.
pub fn load_or_create_secret(data_dir: &Path) -> Result<Vec<u8>, ApiError> {
    let secret =
        complaints_audit::secrets::load_or_create(data_dir, SECRET_FILE, "a token signing secret")?;
    if secret.len() < 32 {
        return Err(ApiError::Config(format!(
            "{} is too short to be a secret",
            data_dir.join(SECRET_FILE).display()
        )));
    }
    Ok(secret.into_bytes())
}

/// Anything that can hand out the authenticator.
pub trait HasAuthenticator {
    /// The authenticator.
    fn authenticator(&self) -> &Arc<Authenticator>;
}

impl<S> FromRequestParts<S> for Caller
where
    S: HasAuthenticator + Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::Unauthorized("expected a Bearer token".into()))?;
        state.authenticator().verify_fresh(token.trim()).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    // Two P-256 test keys (PKCS#8) and their public coordinates.
    const KEY_A: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg6oah/TxKtv08wrnZ
FTdNChJ5EBzrtZRPqkR193QhhaWhRANCAARhiXa5qVWJMK86jUniOeyVaTpFsdZm
50kiMtko4r5yR7cG3obUTx1UATHVJUEcX+fqEyHYd+PFU5IBhmDKiYq9
-----END PRIVATE KEY-----";
    const JWK_A: (&str, &str) = (
        "YYl2ualViTCvOo1J4jnslWk6RbHWZudJIjLZKOK-ckc",
        "twbehtRPHVQBMdUlQRxf5-oTIdh348VTkgGGYMqJir0",
    );
    const KEY_B: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7WmgXeIjT8RGtuKP
5dQZG6d1am3X4OBIyanNT+livp2hRANCAAS7tw0L4/eDSC1JfIS3keaW4v8+zAa3
fSYInck5KRWqWglgS4IwzCSDNWQpAY2yRrkNFJWBi/6e+CYzjDNwvGdX
-----END PRIVATE KEY-----";
    const JWK_B: (&str, &str) = (
        "u7cNC-P3g0gtSXyEt5HmluL_PswGt30mCJ3JOSkVqlo",
        "CWBLgjDMJIM1ZCkBjbJGuQ0UlYGL_p74JjOMM3C8Z1c",
    );

    fn jwk(kid: &str, (x, y): (&str, &str)) -> serde_json::Value {
        serde_json::json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256", "x": x, "y": y})
    }

    fn sign(kid: &str, pem: &str, claims: serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"sub": "ann", "orgs": ["RAL"], "roles": ["caseworker"],
                           "exp": Utc::now().timestamp() + 600})
    }

    /// A JWKS endpoint on port 0 whose key set the test swaps, counting fetches.
    async fn jwks_server(set: Arc<RwLock<serde_json::Value>>, fetches: Arc<AtomicUsize>) -> String {
        let app = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let set = set.clone();
                let fetches = fetches.clone();
                async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    axum::Json(set.read().unwrap().clone())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}/jwks")
    }

    #[tokio::test]
    async fn keys_from_a_jwks_url_are_refreshed_on_an_unknown_kid_at_most_once_per_interval() {
        let set = Arc::new(RwLock::new(serde_json::json!({"keys": [jwk("a", JWK_A)]})));
        let fetches = Arc::new(AtomicUsize::new(0));
        let url = jwks_server(set.clone(), fetches.clone()).await;
        let settings = AuthSettings {
            jwks_url: Some(url),
            jwks_min_refresh_secs: 2,
            ..AuthSettings::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let auth = Authenticator::from_settings(&settings, dir.path()).unwrap();

        // Fetched at start (or on the first token, whichever comes first).
        let caller = auth
            .verify_fresh(&sign("a", KEY_A, claims()))
            .await
            .unwrap();
        assert_eq!(caller.organisations, vec!["RAL".to_string()]);
        assert_eq!(caller.roles, vec![Role::Caseworker]);
        assert_eq!(fetches.load(Ordering::SeqCst), 1);

        // The provider rotates to key b. Right after the first fetch, a token signed with b
        // is refused without another fetch (rate limit)...
        *set.write().unwrap() = serde_json::json!({"keys": [jwk("b", JWK_B)]});
        let rotated = sign("b", KEY_B, claims());
        assert!(auth.verify_fresh(&rotated).await.is_err());
        assert_eq!(fetches.load(Ordering::SeqCst), 1, "rate-limited");
        // ...and a flood of unknown key ids makes no more fetches.
        for i in 0..20 {
            let _ = auth
                .verify_fresh(&sign(&format!("x{i}"), KEY_A, claims()))
                .await;
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);

        // Once the interval has passed, the unknown kid refreshes the set and passes.
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let caller = auth.verify_fresh(&rotated).await.unwrap();
        assert_eq!(caller.subject, "ann");
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        // The old key is gone with the old set; a known kid never fetches.
        assert!(auth.verify(&sign("a", KEY_A, claims())).is_err());
        auth.verify_fresh(&rotated).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        // A forged signature under a known kid is refused.
        assert!(auth
            .verify_fresh(&sign("b", KEY_A, claims()))
            .await
            .is_err());
    }

    #[test]
    fn organisations_and_roles_come_from_the_configured_claims() {
        // NHS CIS2: national RBAC roles, each with an organisation and a role code.
        let cis2 = ClaimNames {
            organisations: "nhsid_nrbac_roles.org_code".into(),
            roles: "nhsid_nrbac_roles.role_code".into(),
            role_map: parse_role_map("R8000=caseworker, R8003=frontline").unwrap(),
        };
        let claims = serde_json::json!({"sub": "5550", "nhsid_nrbac_roles": [
            {"org_code": "RAL", "role_code": "S8000:G8000:R8000", "person_roleid": "1"},
            {"org_code": "RJ1", "role_code": "S8001:G8001:R8003", "person_roleid": "2"},
            {"org_code": "RJ1", "role_code": "S9999:G9999:R9999", "person_roleid": "3"}]});
        assert_eq!(cis2.organisations(&claims), vec!["RAL", "RJ1"]);
        assert_eq!(cis2.roles(&claims), vec![Role::Frontline, Role::Caseworker]);

        // Entra ID: app roles in `roles`, the ODS code in a custom claim.
        let entra = ClaimNames {
            organisations: "ods_code".into(),
            roles: "roles".into(),
            role_map: parse_role_map("Complaints.Caseworker=caseworker").unwrap(),
        };
        let claims = serde_json::json!({"sub": "oid", "ods_code": "RAL",
                                        "roles": ["Complaints.Caseworker", "reporting"]});
        assert_eq!(entra.organisations(&claims), vec!["RAL"]);
        assert_eq!(
            entra.roles(&claims),
            vec![Role::Caseworker, Role::Reporting]
        );

        // The defaults read `orgs`/`org` and `roles`/`role`.
        let default = ClaimNames::default();
        let claims = serde_json::json!({"org": "RAL", "role": "auditor"});
        assert_eq!(default.organisations(&claims), vec!["RAL"]);
        assert_eq!(default.roles(&claims), vec![Role::Auditor]);
        assert!(parse_role_map("x=nobody").is_err());
    }

    #[test]
    fn secrets_are_read_from_files_without_the_trailing_line_break() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt");
        std::fs::write(&path, "a-secret-of-thirty-two-bytes-or-more\n").unwrap();
        let settings = AuthSettings {
            jwt_secret_file: Some(path.clone()),
            ..AuthSettings::default()
        };
        let from_file = Authenticator::from_settings(&settings, dir.path()).unwrap();
        let inline = Authenticator::with_secret("a-secret-of-thirty-two-bytes-or-more");
        let token = inline
            .mint(
                "ann",
                &["RAL".into()],
                &[Role::Auditor],
                Utc::now(),
                chrono::Duration::minutes(5),
            )
            .unwrap();
        assert_eq!(from_file.verify(&token).unwrap().subject, "ann");
        assert!(!dir.path().join(SECRET_FILE).exists(), "nothing generated");
        let both = AuthSettings {
            jwt_secret: Some("x".into()),
            jwt_secret_file: Some(path),
            ..AuthSettings::default()
        };
        assert!(Authenticator::from_settings(&both, dir.path()).is_err());
    }
}
