//! Typed settings from the environment and command-line flags.

use crate::error::ApiError;
use complaints_domain::{Calendar, ComplaintServices, PolicyBook, Register, RegisterHandle};
use complaints_eventlog::Database;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything `complaints serve` needs. Flags override the environment (see `main.rs`).
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// PostgreSQL URL; when unset the embedded SQLite file under the data directory is used.
    #[arg(long = "database-url", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory of the embedded database and generated keys.
    #[arg(long, env = "COMPLAINTS_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Address the HTTP API listens on.
    #[arg(long, env = "COMPLAINTS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// A bank-holiday file in the GOV.UK format laid over the shipped calendar: its years
    /// come from it, the other shipped years from the shipped data.
    #[arg(long, env = "COMPLAINTS_CALENDAR_FILE")]
    pub calendar_file: Option<PathBuf>,
    /// Organisation policies (JSON: `{"default": {...}, "organisations": {"ORG": {...}}}`).
    #[arg(long, env = "COMPLAINTS_POLICY_FILE")]
    pub policy_file: Option<PathBuf>,
    /// Apply the database migrations at start (`true`); `false` only checks they are
    /// applied, so the service's database role needs no `CREATE` (run `complaints migrate`
    /// as the owner first).
    #[arg(long, env = "COMPLAINTS_MIGRATE", default_value_t = true, action = clap::ArgAction::Set)]
    pub migrate: bool,
    /// The organisation register to start from (JSON: `{"organisations": [...]}`, see
    /// docs/OPERATIONS.md); changes made over the API are folded over it.
    #[arg(long, env = "COMPLAINTS_ORGANISATIONS_FILE")]
    pub organisations_file: Option<PathBuf>,
    /// Run the event-log consumers (read models) inside `serve`; `false` when they run
    /// as a separate `complaints project` deployment.
    #[arg(long, env = "COMPLAINTS_CONSUMERS", default_value_t = true, action = clap::ArgAction::Set)]
    pub consumers: bool,
    /// Token verification.
    #[command(flatten)]
    pub auth: crate::auth::AuthSettings,
    /// Sign-in to the web pages through the identity provider (OpenID Connect).
    #[command(flatten)]
    pub oidc: OidcSettings,
    /// Audit sealing key, checkpoints and the export secret.
    #[command(flatten)]
    pub audit: AuditSettings,
    /// NATS JetStream relay and intake.
    #[command(flatten)]
    pub nats: crate::nats::NatsSettings,
    /// Secret keying the complaint ids derived from source references (several gateways
    /// must share one). When unset, `id-secret` in the data directory, generated on first run.
    #[arg(
        long = "id-secret",
        env = "COMPLAINTS_ID_SECRET",
        hide_env_values = true
    )]
    pub id_secret: Option<String>,
    /// A file holding the complaint id secret (a mounted secret); instead of
    /// `COMPLAINTS_ID_SECRET`.
    #[arg(long = "id-secret-file", env = "COMPLAINTS_ID_SECRET_FILE")]
    pub id_secret_file: Option<PathBuf>,
    /// Secret signing the web pages' login links, session cookies and CSRF tokens (several
    /// gateways behind one address must share one). When unset, `ui-secret` in the data
    /// directory, generated on first run (owner-only). Changing it signs everyone out.
    #[arg(
        long = "ui-secret",
        env = "COMPLAINTS_UI_SECRET",
        hide_env_values = true
    )]
    pub ui_secret: Option<String>,
    /// A file holding the web pages' secret (a mounted secret); instead of
    /// `COMPLAINTS_UI_SECRET`.
    #[arg(long = "ui-secret-file", env = "COMPLAINTS_UI_SECRET_FILE")]
    pub ui_secret_file: Option<PathBuf>,
    /// Log format: `pretty` or `json`.
    #[arg(long, env = "COMPLAINTS_LOG_FORMAT", default_value = "pretty")]
    pub log_format: String,
}

impl Settings {
    /// The token authenticator these settings configure, with the identity provider the
    /// web pages sign in with when `COMPLAINTS_OIDC_CLIENT_ID` is set.
    pub fn authenticator(&self) -> Result<crate::auth::Authenticator, ApiError> {
        let auth = crate::auth::Authenticator::from_settings(&self.auth, &self.data_dir)?;
        Ok(match self.oidc.config(&self.auth)? {
            Some(config) => auth.with_oidc(crate::auth::oidc::Provider::new(config)?),
            None => auth,
        })
    }

    /// Which database to use.
    pub fn database(&self) -> Database {
        match self
            .database_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            Some(url) => Database::Postgres(url.to_string()),
            None => Database::Sqlite(self.data_dir.join("complaints.db")),
        }
    }

    /// The calendar and policies, read from the configured files or the shipped defaults.
    pub fn services(&self) -> Result<ComplaintServices, ApiError> {
        let calendar = match &self.calendar_file {
            None => Calendar::shipped(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ApiError::Config(format!("cannot read calendar {}: {e}", path.display()))
                })?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Calendar::shipped_with_operator_file(&text, &format!("operator file {name}"))
                    .map_err(|e| ApiError::Config(format!("{}: {e}", path.display())))?
            }
        };
        if let Some(warning) = crate::http::operator_file_warning(&calendar) {
            tracing::warn!(%warning, "operator calendar file lacks shipped years (R-BH-5)");
        }
        let policies = match &self.policy_file {
            None => PolicyBook::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ApiError::Config(format!("cannot read policies {}: {e}", path.display()))
                })?;
                serde_json::from_str(&text).map_err(|e| {
                    ApiError::Config(format!("invalid policy file {}: {e}", path.display()))
                })?
            }
        };
        // The deployment's retention default (COMPLAINTS_RETENTION_YEARS) is the default
        // policy's unless the policy file sets one, so deadlines and the scheduler agree.
        let mut policies = policies;
        if policies.default.retention_years.is_none() {
            policies.default.retention_years = Some(crate::app::scheduler::retention_years());
        }
        let default_years = policies.default.retention_years;
        for policy in policies.organisations.values_mut() {
            policy.retention_years = policy.retention_years.or(default_years);
        }
        let register = match &self.organisations_file {
            None => Register::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ApiError::Config(format!(
                        "cannot read the organisation register {}: {e}",
                        path.display()
                    ))
                })?;
                let register: Register = serde_json::from_str(&text).map_err(|e| {
                    ApiError::Config(format!(
                        "invalid organisation register {}: {e}",
                        path.display()
                    ))
                })?;
                register
                    .validate()
                    .map_err(|e| ApiError::Config(format!("{}: {e}", path.display())))?;
                register
            }
        };
        Ok(ComplaintServices {
            calendar: Arc::new(calendar),
            policies: Arc::new(policies),
            register: Arc::new(RegisterHandle::new(register)),
        })
    }
}

/// Sign-in to the web pages through the identity provider (OpenID Connect, authorisation
/// code with PKCE): on when a client id is set. The issuer, claims and role map are the
/// API's (`COMPLAINTS_JWT_*`), so a person signed in on the pages is the caller their
/// access token would be.
#[derive(Debug, Clone, clap::Args)]
pub struct OidcSettings {
    /// This service's client id at the identity provider; sign-in is offered when set.
    #[arg(
        id = "oidc_client_id",
        long = "oidc-client-id",
        value_name = "OIDC_CLIENT_ID",
        env = "COMPLAINTS_OIDC_CLIENT_ID"
    )]
    pub client_id: Option<String>,
    /// The client secret (a confidential client); none for a public client.
    #[arg(
        id = "oidc_client_secret",
        long = "oidc-client-secret",
        value_name = "OIDC_CLIENT_SECRET",
        env = "COMPLAINTS_OIDC_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// A file holding the client secret (a mounted secret); instead of
    /// `COMPLAINTS_OIDC_CLIENT_SECRET`.
    #[arg(
        id = "oidc_client_secret_file",
        long = "oidc-client-secret-file",
        value_name = "OIDC_CLIENT_SECRET_FILE",
        env = "COMPLAINTS_OIDC_CLIENT_SECRET_FILE"
    )]
    pub client_secret_file: Option<PathBuf>,
    /// The provider's issuer, whose `/.well-known/openid-configuration` names its
    /// endpoints; when unset, `COMPLAINTS_JWT_ISSUER`.
    #[arg(
        id = "oidc_issuer",
        long = "oidc-issuer",
        value_name = "OIDC_ISSUER",
        env = "COMPLAINTS_OIDC_ISSUER"
    )]
    pub issuer: Option<String>,
    /// The address the provider sends the browser back to, as registered with it:
    /// `https://<this service>/ui/oidc/callback`.
    #[arg(
        id = "oidc_redirect_url",
        long = "oidc-redirect-url",
        value_name = "OIDC_REDIRECT_URL",
        env = "COMPLAINTS_OIDC_REDIRECT_URL"
    )]
    pub redirect_url: Option<String>,
    /// Scopes asked for, space-separated (`openid` is always asked for).
    #[arg(
        id = "oidc_scopes",
        long = "oidc-scopes",
        value_name = "OIDC_SCOPES",
        env = "COMPLAINTS_OIDC_SCOPES",
        default_value = "openid profile"
    )]
    pub scopes: String,
    /// The provider's name on the sign-in page: "Sign in with <name>".
    #[arg(
        id = "oidc_provider_name",
        long = "oidc-provider-name",
        value_name = "OIDC_PROVIDER_NAME",
        env = "COMPLAINTS_OIDC_PROVIDER_NAME",
        default_value = "your organisation's account"
    )]
    pub provider_name: String,
}

impl OidcSettings {
    /// The relying party's configuration, or none when no client id is set.
    pub fn config(
        &self,
        auth: &crate::auth::AuthSettings,
    ) -> Result<Option<crate::auth::oidc::OidcConfig>, ApiError> {
        let Some(client_id) = self
            .client_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        else {
            return Ok(None);
        };
        let missing = |what: &str| {
            ApiError::Config(format!(
                "COMPLAINTS_OIDC_CLIENT_ID is set, so {what} must be set too"
            ))
        };
        let issuer = self
            .issuer
            .as_deref()
            .or(auth.issuer.as_deref())
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .ok_or_else(|| missing("COMPLAINTS_OIDC_ISSUER (or COMPLAINTS_JWT_ISSUER)"))?;
        let redirect_url = self
            .redirect_url
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| missing("COMPLAINTS_OIDC_REDIRECT_URL"))?;
        let client_secret = crate::auth::secret_value(
            self.client_secret.as_deref(),
            self.client_secret_file.as_deref(),
            "the OpenID Connect client secret (COMPLAINTS_OIDC_CLIENT_SECRET / COMPLAINTS_OIDC_CLIENT_SECRET_FILE)",
        )?;
        Ok(Some(crate::auth::oidc::OidcConfig {
            issuer: issuer.to_string(),
            client_id: client_id.to_string(),
            client_secret,
            redirect_url: redirect_url.to_string(),
            scopes: self.scopes.split_whitespace().map(str::to_string).collect(),
            provider_name: self.provider_name.trim().to_string(),
            jwks_min_refresh: std::time::Duration::from_secs(auth.jwks_min_refresh_secs),
        }))
    }
}

/// Name of the generated complaint id secret in the data directory.
pub const ID_SECRET_FILE: &str = "id-secret";
/// Name of the generated web pages' secret in the data directory.
pub const UI_SECRET_FILE: &str = "ui-secret";

/// Sealing and export keys.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditSettings {
    /// Ed25519 sealing key: a file holding the 32-byte private seed as 64 hex digits. When
    /// unset, `seal-key` in the data directory (generated on first run, owner-only).
    #[arg(long = "seal-key-file", env = "COMPLAINTS_SEAL_KEY_FILE")]
    pub seal_key_file: Option<PathBuf>,
    /// Record a signed checkpoint once this many events were sealed since the last one.
    #[arg(
        long = "seal-checkpoint-every",
        env = "COMPLAINTS_SEAL_CHECKPOINT_EVERY",
        default_value_t = 1000
    )]
    pub checkpoint_every: i64,
    /// …or once this many seconds passed since the last one and the chain has grown.
    #[arg(
        long = "seal-checkpoint-seconds",
        env = "COMPLAINTS_SEAL_CHECKPOINT_SECONDS",
        default_value_t = 300
    )]
    pub checkpoint_seconds: u64,
    /// Secret keying the per-recipient pseudonyms of complaint ids in exports. When unset,
    /// `export-secret` in the data directory (generated on first run); several gateways
    /// must share one.
    #[arg(
        long = "export-secret",
        env = "COMPLAINTS_EXPORT_SECRET",
        hide_env_values = true
    )]
    pub export_secret: Option<String>,
    /// A file holding the export secret (a mounted secret); instead of
    /// `COMPLAINTS_EXPORT_SECRET`.
    #[arg(long = "export-secret-file", env = "COMPLAINTS_EXPORT_SECRET_FILE")]
    pub export_secret_file: Option<PathBuf>,
    /// Directory where every signed checkpoint is also kept, outside the database (default:
    /// `witness` in the data directory). Put it on other storage than the database: the
    /// notary refuses to sign a chain that no longer leads to the latest checkpoint here.
    #[arg(long = "witness-dir", env = "COMPLAINTS_WITNESS_DIR")]
    pub witness_dir: Option<std::path::PathBuf>,
}

impl Settings {
    /// The key of complaint ids derived from source references.
    pub fn id_key(&self) -> Result<Vec<u8>, ApiError> {
        let configured = crate::auth::secret_value(
            self.id_secret.as_deref(),
            self.id_secret_file.as_deref(),
            "the complaint id secret (COMPLAINTS_ID_SECRET / COMPLAINTS_ID_SECRET_FILE)",
        )?;
        let secret = match configured {
            Some(secret) => secret,
            None => complaints_audit::secrets::load_or_create(
                &self.data_dir,
                ID_SECRET_FILE,
                "a complaint id secret",
            )?,
        };
        if secret.len() < 16 {
            return Err(ApiError::Config(
                "the complaint id secret is too short to be a secret".into(),
            ));
        }
        Ok(secret.into_bytes())
    }

    /// The key signing the web pages' links, sessions and CSRF tokens: its own secret, so
    /// it can be replaced (signing everyone out) without changing a single complaint id.
    pub fn ui_key(&self) -> Result<Vec<u8>, ApiError> {
        let configured = crate::auth::secret_value(
            self.ui_secret.as_deref(),
            self.ui_secret_file.as_deref(),
            "the web pages' secret (COMPLAINTS_UI_SECRET / COMPLAINTS_UI_SECRET_FILE)",
        )?;
        let secret = match configured {
            Some(secret) => secret,
            None => complaints_audit::secrets::load_or_create(
                &self.data_dir,
                UI_SECRET_FILE,
                "the web pages' secret",
            )?,
        };
        if secret.len() < 16 {
            return Err(ApiError::Config(
                "the web pages' secret is too short to be a secret".into(),
            ));
        }
        Ok(secret.into_bytes())
    }

    /// The directory witness of signed checkpoints.
    pub fn witness_dir(&self) -> std::path::PathBuf {
        self.audit
            .witness_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("witness"))
    }

    /// The sealing key and export secret these settings name (generated on first run in the
    /// data directory when not configured).
    pub fn audit_keys(&self) -> Result<complaints_audit::AuditKeys, ApiError> {
        let export_secret = crate::auth::secret_value(
            self.audit.export_secret.as_deref(),
            self.audit.export_secret_file.as_deref(),
            "the export secret (COMPLAINTS_EXPORT_SECRET / COMPLAINTS_EXPORT_SECRET_FILE)",
        )?;
        Ok(complaints_audit::AuditKeys::load(
            self.audit.seal_key_file.as_deref(),
            export_secret.as_deref(),
            &self.data_dir,
        )?)
    }
}
