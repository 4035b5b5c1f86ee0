//! Bearer-token authentication and role-based authorisation.
//!
//! Tokens are JWTs. The embedded default signs and checks HS256 with a secret generated in
//! the data directory on first run (`complaints token` mints with it); production checks
//! RS256/ES256 against configured public keys or a JWKS file from the organisation's
//! identity provider. Claims carry the subject, the organisations and the roles.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Deserializer, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Frontline,
        Role::Caseworker,
        Role::Auditor,
        Role::Reporting,
        Role::Regulator,
    ];

    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Frontline => "frontline",
            Role::Caseworker => "caseworker",
            Role::Auditor => "auditor",
            Role::Reporting => "reporting",
            Role::Regulator => "regulator",
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
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthSettings {
    /// HS256 secret; when no key is configured one is generated in the data directory.
    #[arg(
        long = "jwt-secret",
        env = "COMPLAINTS_JWT_SECRET",
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,
    /// PEM public key (RSA or EC) for RS256/ES256 tokens.
    #[arg(long = "jwt-public-key-file", env = "COMPLAINTS_JWT_PUBLIC_KEY_FILE")]
    pub public_key_file: Option<PathBuf>,
    /// JWKS file of the identity provider's keys (selected by `kid`).
    #[arg(long = "jwks-file", env = "COMPLAINTS_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,
    /// Required `iss`, if set.
    #[arg(long = "jwt-issuer", env = "COMPLAINTS_JWT_ISSUER")]
    pub issuer: Option<String>,
    /// Required `aud`, if set.
    #[arg(long = "jwt-audience", env = "COMPLAINTS_JWT_AUDIENCE")]
    pub audience: Option<String>,
}

enum Verifier {
    Secret(Vec<u8>),
    PublicKey(DecodingKey, Algorithm),
    Jwks(JwkSet),
}

/// Checks bearer tokens (and, with a secret, mints them).
pub struct Authenticator {
    verifier: Verifier,
    issuer: Option<String>,
    audience: Option<String>,
}

/// Name of the generated secret file in the data directory.
pub const SECRET_FILE: &str = "jwt-secret";

impl Authenticator {
    /// An HS256 authenticator with `secret`.
    pub fn with_secret(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            verifier: Verifier::Secret(secret.into()),
            issuer: None,
            audience: None,
        }
    }

    /// From settings: a JWKS file, else a public key, else the configured secret, else the
    /// secret in `data_dir` (generated on first run).
    pub fn from_settings(settings: &AuthSettings, data_dir: &Path) -> Result<Self, ApiError> {
        let verifier = if let Some(path) = &settings.jwks_file {
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
        } else if let Some(secret) = settings.jwt_secret.as_deref().filter(|s| !s.is_empty()) {
            Verifier::Secret(secret.as_bytes().to_vec())
        } else {
            Verifier::Secret(load_or_create_secret(data_dir)?)
        };
        Ok(Self {
            verifier,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
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

    /// Verifies a bearer token.
    pub fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let unauthorised = |why: String| ApiError::Unauthorized(why);
        let (key, algorithm) = match &self.verifier {
            Verifier::Secret(secret) => (DecodingKey::from_secret(secret), Algorithm::HS256),
            Verifier::PublicKey(key, algorithm) => (key.clone(), *algorithm),
            Verifier::Jwks(set) => {
                let header = jsonwebtoken::decode_header(token)
                    .map_err(|e| unauthorised(format!("malformed token: {e}")))?;
                let kid = header
                    .kid
                    .ok_or_else(|| unauthorised("token has no kid".into()))?;
                let jwk = set
                    .find(&kid)
                    .ok_or_else(|| unauthorised("unknown signing key".into()))?;
                let key = DecodingKey::from_jwk(jwk)
                    .map_err(|e| unauthorised(format!("unusable key: {e}")))?;
                if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
                    return Err(unauthorised("only RS256 and ES256 are accepted".into()));
                }
                (key, header.alg)
            }
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
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| unauthorised(format!("invalid token: {e}")))?;
        let claims = data.claims;
        if claims.sub.trim().is_empty() {
            return Err(unauthorised("token subject is empty".into()));
        }
        Ok(Caller {
            subject: claims.sub,
            organisations: claims.orgs,
            roles: claims.roles.iter().filter_map(|r| Role::parse(r)).collect(),
        })
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
        state.authenticator().verify(token.trim())
    }
}
