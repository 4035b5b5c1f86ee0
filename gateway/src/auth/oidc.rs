//! The OpenID Connect relying party behind sign-in to the web pages (authorisation-code flow
//! with PKCE): the provider's discovery document (fetched on first use, kept for an hour),
//! the authorisation request, the code exchange at the token endpoint, and the checks of the
//! ID token (signature against the provider's JWKS, issuer, audience = client id, expiry,
//! nonce). Its claims become a [`Caller`] exactly as an access token's would
//! (`COMPLAINTS_JWT_ORGANISATIONS_CLAIM`, `..._ROLES_CLAIM`, `..._ROLE_MAP`); when the ID
//! token carries no organisation or role (NHS CIS2 gives its national RBAC roles from the
//! userinfo endpoint), the userinfo claims of the same subject are read too.
//!
//! The browser side (the flow cookie, the pages) is `ui::oidc`. This lives beside the token
//! checks because it shares their key handling and claim mapping, and so the authenticator
//! can carry it to the handlers.

use super::{signing_key, Authenticator, Caller, Refused, RemoteJwks};
use crate::error::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Validation;
use serde::Deserialize;
use sha2::Digest;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a fetched discovery document is used before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// How the service is registered with the identity provider.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The provider's issuer; its discovery document is at
    /// `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// This service's client id (the ID token's audience).
    pub client_id: String,
    /// The client secret of a confidential client; none for a public client.
    pub client_secret: Option<String>,
    /// Where the provider sends the browser back: `https://…/ui/oidc/callback`.
    pub redirect_url: String,
    /// Scopes asked for (`openid` is added when missing).
    pub scopes: Vec<String>,
    /// The provider's name on the sign-in page ("Sign in with …").
    pub provider_name: String,
    /// Least time between two fetches of the provider's keys.
    pub jwks_min_refresh: Duration,
}

/// The parts of the provider's discovery document used here.
#[derive(Debug, Clone, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
}

/// Why a sign-in through the provider failed, in words for the person signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OidcError {
    /// The provider could not be reached or answered something unusable.
    Unreachable(String),
    /// The provider refused (the code, the verifier, the client).
    Refused(String),
    /// The ID token failed a check.
    Untrusted(String),
}

impl std::fmt::Display for OidcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OidcError::Unreachable(why) | OidcError::Refused(why) | OidcError::Untrusted(why) => {
                f.write_str(why)
            }
        }
    }
}

/// A started sign-in: what the browser is sent to and what must come back.
pub struct Authorisation {
    /// The provider's authorisation endpoint with the request in its query.
    pub url: String,
}

/// The identity provider the web pages sign in with.
pub struct Provider {
    config: OidcConfig,
    client: reqwest::Client,
    metadata: tokio::sync::Mutex<Option<(Instant, Arc<Metadata>)>>,
    /// The provider's keys, for the `jwks_uri` of the discovery document last read.
    jwks: Mutex<Option<Arc<RemoteJwks>>>,
}

fn is_loopback(url: &reqwest::Url) -> bool {
    matches!(
        url.host_str(),
        Some("localhost") | Some("127.0.0.1") | Some("[::1]")
    )
}

impl Provider {
    /// A provider for `config`; nothing is fetched until the first sign-in. The issuer must
    /// be `https` (plain `http` only on the loopback address, for tests).
    pub fn new(mut config: OidcConfig) -> Result<Self, ApiError> {
        let bad = |why: String| ApiError::Config(format!("OpenID Connect sign-in: {why}"));
        if config.client_id.trim().is_empty() {
            return Err(bad("the client id is empty".into()));
        }
        let issuer = reqwest::Url::parse(&config.issuer)
            .map_err(|e| bad(format!("the issuer `{}` is not a URL: {e}", config.issuer)))?;
        if issuer.scheme() != "https" && !is_loopback(&issuer) {
            return Err(bad(format!("the issuer `{}` is not https", config.issuer)));
        }
        let redirect = reqwest::Url::parse(&config.redirect_url).map_err(|e| {
            bad(format!(
                "the redirect URL `{}` is not a URL: {e}",
                config.redirect_url
            ))
        })?;
        if !matches!(redirect.scheme(), "https" | "http") {
            return Err(bad("the redirect URL must be http(s)".into()));
        }
        if !config.scopes.iter().any(|s| s == "openid") {
            config.scopes.insert(0, "openid".into());
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| bad(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            config,
            client,
            metadata: tokio::sync::Mutex::new(None),
            jwks: Mutex::new(None),
        })
    }

    /// The provider's name on the sign-in page.
    pub fn name(&self) -> &str {
        &self.config.provider_name
    }

    /// The discovery document, fetched when not held or older than an hour; a stale one is
    /// used while the provider cannot be reached.
    async fn metadata(&self) -> Result<Arc<Metadata>, OidcError> {
        let mut held = self.metadata.lock().await;
        if let Some((at, metadata)) = held.as_ref() {
            if at.elapsed() < METADATA_TTL {
                return Ok(metadata.clone());
            }
        }
        match self.fetch_metadata().await {
            Ok(metadata) => {
                let metadata = Arc::new(metadata);
                *held = Some((Instant::now(), metadata.clone()));
                Ok(metadata)
            }
            Err(error) => match held.as_ref() {
                Some((_, stale)) => {
                    tracing::warn!(%error, "using the identity provider's last discovery document");
                    Ok(stale.clone())
                }
                None => Err(error),
            },
        }
    }

    async fn fetch_metadata(&self) -> Result<Metadata, OidcError> {
        let issuer = self.config.issuer.trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        let unreachable = |why: String| {
            tracing::warn!(%url, error = %why, "cannot read the identity provider's discovery document");
            OidcError::Unreachable(format!(
                "The identity provider cannot be reached just now ({why}). Try again in a few minutes."
            ))
        };
        let response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unreachable(format!(
                "its discovery document answered {}",
                response.status()
            )));
        }
        let metadata: Metadata = response
            .json()
            .await
            .map_err(|e| unreachable(format!("its discovery document is not usable: {e}")))?;
        // OpenID Connect Discovery 1.0, 4.3: the document must name the issuer it was read from.
        if metadata.issuer.trim_end_matches('/') != issuer {
            return Err(unreachable(format!(
                "its discovery document names the issuer `{}`, not the one configured",
                metadata.issuer
            )));
        }
        Ok(metadata)
    }

    /// The authorisation request for a sign-in with `state`, `nonce` and the PKCE
    /// `verifier` (sent as its S256 challenge).
    pub async fn authorise(
        &self,
        state: &str,
        nonce: &str,
        verifier: &str,
    ) -> Result<Authorisation, OidcError> {
        let metadata = self.metadata().await?;
        let mut url = reqwest::Url::parse(&metadata.authorization_endpoint).map_err(|e| {
            OidcError::Unreachable(format!(
                "The identity provider's authorisation address is not usable ({e})."
            ))
        })?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_url)
            .append_pair("scope", &self.config.scopes.join(" "))
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", &pkce_challenge(verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(Authorisation { url: url.into() })
    }

    /// The provider's keys at `uri`, kept while the discovery document names the same URI.
    fn jwks(&self, uri: &str) -> Result<Arc<RemoteJwks>, OidcError> {
        let mut held = self.jwks.lock().map_err(|_| {
            OidcError::Unreachable("The identity provider's keys are not available.".into())
        })?;
        if let Some(jwks) = held.as_ref().filter(|j| j.url == uri) {
            return Ok(jwks.clone());
        }
        let jwks = Arc::new(
            RemoteJwks::new(uri, self.config.jwks_min_refresh)
                .map_err(|e| OidcError::Unreachable(e.to_string()))?,
        );
        *held = Some(jwks.clone());
        Ok(jwks)
    }

    /// Exchanges `code` (with the PKCE `verifier`) at the token endpoint and checks the ID
    /// token it returns; the claims of the signed-in person.
    async fn exchange(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<serde_json::Value, OidcError> {
        let metadata = self.metadata().await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.config.redirect_url.as_str()),
            ("code_verifier", verifier),
        ];
        let mut request = self.client.post(&metadata.token_endpoint);
        let methods = &metadata.token_endpoint_auth_methods_supported;
        match &self.config.client_secret {
            // client_secret_basic is the default (OpenID Connect Discovery 1.0, 3), unless
            // the provider lists only client_secret_post.
            Some(secret)
                if !methods.is_empty()
                    && !methods.iter().any(|m| m == "client_secret_basic")
                    && methods.iter().any(|m| m == "client_secret_post") =>
            {
                form.push(("client_id", self.config.client_id.as_str()));
                form.push(("client_secret", secret.as_str()));
            }
            Some(secret) => {
                // RFC 6749, 2.3.1: both are form-encoded before Basic encodes them.
                request = request.basic_auth(
                    form_encode(&self.config.client_id),
                    Some(form_encode(secret)),
                );
            }
            None => form.push(("client_id", self.config.client_id.as_str())),
        }
        let response = request
            .form(&form)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(format!(
                "The identity provider cannot be reached just now ({e}). Try again in a few minutes."
            )))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
        if !status.is_success() {
            let error = body
                .get("error")
                .and_then(|v| v.as_str())
                .unwrap_or("no reason given");
            let description = body
                .get("error_description")
                .and_then(|v| v.as_str())
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            tracing::warn!(%status, %error, "the identity provider refused the code exchange");
            return Err(OidcError::Refused(format!(
                "The identity provider refused to complete the sign-in ({error}{description})."
            )));
        }
        let id_token = body
            .get("id_token")
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                OidcError::Untrusted("The identity provider's answer has no ID token.".into())
            })?;
        let mut claims = self.check_id_token(&metadata, id_token, nonce).await?;
        if let (Some(userinfo), Some(access_token)) = (
            metadata.userinfo_endpoint.as_deref(),
            body.get("access_token").and_then(|v| v.as_str()),
        ) {
            self.add_userinfo(&mut claims, userinfo, access_token)
                .await?;
        }
        Ok(claims)
    }

    /// Checks the ID token: signature by a key of the provider, issuer, audience, expiry,
    /// nonce, and the authorised party when there are several audiences.
    async fn check_id_token(
        &self,
        metadata: &Metadata,
        token: &str,
        nonce: &str,
    ) -> Result<serde_json::Value, OidcError> {
        let untrusted = |why: String| {
            tracing::warn!(error = %why, "ID token refused");
            OidcError::Untrusted(format!(
                "The identity provider's answer cannot be trusted: {why}."
            ))
        };
        let jwks = self.jwks(&metadata.jwks_uri)?;
        let find = |kid: &str| jwks.find(kid);
        let (key, algorithm) = match signing_key(token, &find) {
            Err(Refused::UnknownKey(_)) => {
                jwks.refresh().await;
                signing_key(token, &find)
            }
            other => other,
        }
        .map_err(|refused| match refused {
            Refused::UnknownKey(why) | Refused::Invalid(why) => untrusted(why),
        })?;
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.leeway = 30;
        validation.set_audience(&[&self.config.client_id]);
        validation.set_issuer(&[&metadata.issuer]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
            .map_err(|e| untrusted(id_token_refusal(e.kind())))?
            .claims;
        if claims.get("nonce").and_then(|n| n.as_str()) != Some(nonce) {
            return Err(untrusted(
                "the ID token is not for this sign-in (nonce)".into(),
            ));
        }
        if let Some(audiences) = claims.get("aud").and_then(|a| a.as_array()) {
            let azp = claims.get("azp").and_then(|a| a.as_str());
            if audiences.len() > 1 && azp != Some(self.config.client_id.as_str()) {
                return Err(untrusted(
                    "the ID token was issued to another client (azp)".into(),
                ));
            }
        }
        if claims
            .get("sub")
            .and_then(|s| s.as_str())
            .is_none_or(|s| s.trim().is_empty())
        {
            return Err(untrusted("the ID token names no subject".into()));
        }
        Ok(claims)
    }

    /// Adds the userinfo claims the ID token lacks, when they are about the same subject.
    async fn add_userinfo(
        &self,
        claims: &mut serde_json::Value,
        endpoint: &str,
        access_token: &str,
    ) -> Result<(), OidcError> {
        let response = self
            .client
            .get(endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(format!(
                "The identity provider cannot be reached just now ({e}). Try again in a few minutes."
            )))?;
        if !response.status().is_success() {
            tracing::warn!(status = %response.status(), "userinfo not read; the ID token's claims alone are used");
            return Ok(());
        }
        let Ok(serde_json::Value::Object(info)) = response.json::<serde_json::Value>().await else {
            return Ok(());
        };
        // OpenID Connect Core 1.0, 5.3.2: userinfo of another subject must not be used.
        if info.get("sub") != claims.get("sub") {
            return Err(OidcError::Untrusted(
                "The identity provider's answer cannot be trusted: its userinfo is about someone else.".into(),
            ));
        }
        if let serde_json::Value::Object(map) = claims {
            for (name, value) in info {
                map.entry(name).or_insert(value);
            }
        }
        Ok(())
    }
}

impl Authenticator {
    /// Completes a sign-in through the identity provider: exchanges `code` with the PKCE
    /// `verifier`, checks the ID token (and `nonce`), and maps its claims to the caller an
    /// access token with those claims would be.
    pub async fn oidc_sign_in(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<Caller, OidcError> {
        let provider = self.oidc.as_ref().ok_or_else(|| {
            OidcError::Refused("Sign-in through an identity provider is not configured.".into())
        })?;
        let claims = provider.exchange(code, verifier, nonce).await?;
        let subject = claims
            .get("sub")
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_string();
        Ok(self.caller_from(subject, &claims))
    }
}

/// Why `jsonwebtoken` refused an ID token, in words.
fn id_token_refusal(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::InvalidAudience => "the ID token was issued to another client (audience)".into(),
        ErrorKind::InvalidIssuer => "the ID token was issued by another provider (issuer)".into(),
        ErrorKind::ExpiredSignature => "the ID token has expired".into(),
        ErrorKind::ImmatureSignature => "the ID token is not valid yet".into(),
        ErrorKind::InvalidSignature => "the ID token's signature is not the provider's".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the ID token has no `{claim}`"),
        other => format!("the ID token is not valid ({other:?})"),
    }
}

/// The PKCE S256 challenge of `verifier` (RFC 7636, 4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        // RFC 7636, Appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(form_encode("a b:c"), "a+b%3Ac");
    }

    #[test]
    fn an_issuer_must_be_https_except_on_the_loopback_address() {
        let config = |issuer: &str| OidcConfig {
            issuer: issuer.into(),
            client_id: "complaints".into(),
            client_secret: None,
            redirect_url: "https://complaints.example/ui/oidc/callback".into(),
            scopes: vec!["profile".into()],
            provider_name: "Test".into(),
            jwks_min_refresh: Duration::from_secs(30),
        };
        assert!(Provider::new(config("http://idp.example")).is_err());
        let provider = Provider::new(config("http://127.0.0.1:9/")).unwrap();
        assert_eq!(provider.config.scopes, vec!["openid", "profile"]);
        assert!(Provider::new(config("https://idp.example")).is_ok());
    }
}
