//! Tamper evidence around the sealer's hash chain (`complaints_projections::models::sealer`):
//! the Ed25519 sealing key, signed checkpoints of the chain handed out of the database, the
//! notary task that records them, the audit routes, the access log of history reads, and
//! `complaints verify`. Formats are specified in `schemas/audit-chain.md`.

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::http::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use complaints_projections::models::sealer::{
    self, canonical_json, from_hex, to_hex, Anchor, Verification, ZERO_LINK,
};
use complaints_projections::{on_pool, Pool};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::Row;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

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
}

/// Name of the generated sealing key file in the data directory.
pub const SEAL_KEY_FILE: &str = "seal-key";
/// Name of the generated export secret file in the data directory.
pub const EXPORT_SECRET_FILE: &str = "export-secret";
/// The signature algorithm named in checkpoints and manifests.
pub const ALGORITHM: &str = "Ed25519";
/// Domain separation of checkpoint signatures.
pub const CHECKPOINT_CONTEXT: &[u8] = b"complaints-audit-checkpoint/v1\n";

/// The sealing key (signs checkpoints and export manifests) and the export secret (keys
/// pseudonyms). Never logged.
pub struct AuditKeys {
    signing: SigningKey,
    export_secret: Vec<u8>,
}

impl std::fmt::Debug for AuditKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKeys")
            .field("public_key", &self.public_key_hex())
            .finish_non_exhaustive()
    }
}

fn config(what: String) -> ApiError {
    ApiError::Config(what)
}

fn parse_seed(path: &Path, text: &str) -> Result<SigningKey, ApiError> {
    let bytes = hex::decode(text.trim()).map_err(|_| {
        config(format!(
            "{} must hold an Ed25519 seed as 64 hex digits",
            path.display()
        ))
    })?;
    let seed: [u8; 32] = bytes.try_into().map_err(|_| {
        config(format!(
            "{} must hold an Ed25519 seed as 64 hex digits (32 bytes)",
            path.display()
        ))
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

impl AuditKeys {
    /// From settings: the configured key file and secret, else the files in `data_dir`
    /// (generated on first run).
    pub fn load(settings: &AuditSettings, data_dir: &Path) -> Result<Self, ApiError> {
        let signing = match &settings.seal_key_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| config(format!("cannot read {}: {e}", path.display())))?;
                parse_seed(path, &text)?
            }
            None => {
                let text = crate::secrets::load_or_create(
                    data_dir,
                    SEAL_KEY_FILE,
                    "an audit sealing key",
                )?;
                parse_seed(&data_dir.join(SEAL_KEY_FILE), &text)?
            }
        };
        let export_secret = match settings.export_secret.as_deref().filter(|s| !s.is_empty()) {
            Some(secret) => secret.as_bytes().to_vec(),
            None => {
                crate::secrets::load_or_create(data_dir, EXPORT_SECRET_FILE, "an export secret")?
                    .into_bytes()
            }
        };
        if export_secret.len() < 16 {
            return Err(config(
                "the export secret is too short to be a secret".into(),
            ));
        }
        Ok(Self {
            signing,
            export_secret,
        })
    }

    /// The sealing key's public half if one is configured or already generated, without
    /// generating one (for `complaints verify`).
    pub fn existing_public_key(
        settings: &AuditSettings,
        data_dir: &Path,
    ) -> Result<Option<VerifyingKey>, ApiError> {
        let path = settings
            .seal_key_file
            .clone()
            .unwrap_or_else(|| data_dir.join(SEAL_KEY_FILE));
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(parse_seed(&path, &text)?.verifying_key())),
            Err(_) if settings.seal_key_file.is_none() => Ok(None),
            Err(e) => Err(config(format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// Fresh random keys (tests, and a router without configuration).
    pub fn generate() -> Result<Self, ApiError> {
        Ok(Self {
            signing: SigningKey::from_bytes(&crate::secrets::random_bytes()?),
            export_secret: hex::encode(crate::secrets::random_bytes()?).into_bytes(),
        })
    }

    /// The sealing key's public half, 64 hex digits.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().as_bytes())
    }

    /// Signs `message` (already domain-separated by the caller); hex.
    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex::encode(self.signing.sign(message).to_bytes())
    }

    /// The pseudonym of `complaint_id` for `recipient`: the first 16 bytes of
    /// HMAC-SHA256(export secret, `complaints-export-pseudonym/v1\n{recipient}\n{id}`), hex.
    /// Stable for one recipient, unlinkable across recipients without the secret.
    pub fn pseudonym(&self, recipient: &str, complaint_id: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(&self.export_secret) {
            Ok(mac) => mac,
            // HMAC takes keys of any length; this arm is unreachable.
            Err(_) => return String::new(),
        };
        mac.update(b"complaints-export-pseudonym/v1\n");
        mac.update(recipient.as_bytes());
        mac.update(b"\n");
        mac.update(complaint_id.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

/// Checks an Ed25519 signature given in hex over `message` with a public key in hex.
pub fn verify_signature(public_key: &str, message: &[u8], signature: &str) -> Result<(), String> {
    let key: [u8; 32] = hex::decode(public_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the public key is not 64 hex digits")?;
    let key = VerifyingKey::from_bytes(&key).map_err(|e| format!("bad public key: {e}"))?;
    let signature: [u8; 64] = hex::decode(signature.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the signature is not 128 hex digits")?;
    key.verify(message, &Signature::from_bytes(&signature))
        .map_err(|_| "the signature does not match".to_string())
}

// ---------------------------------------------------------------------------------------
// Signed checkpoints
// ---------------------------------------------------------------------------------------

/// A point of the chain signed with the sealing key: hand it out, keep it elsewhere, and
/// `complaints verify --against` it later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SignedCheckpoint {
    /// Chain index (0: the empty chain).
    pub chain_index: i64,
    /// Global position of the event at that index (0 for the empty chain).
    pub position: i64,
    /// The link at that index, hex.
    pub link: String,
    /// When it was signed (RFC 3339, UTC).
    pub signed_at: String,
    /// `Ed25519`.
    pub algorithm: String,
    /// The sealing key's public half, hex.
    pub public_key: String,
    /// Signature, hex, over `complaints-audit-checkpoint/v1`, a newline and the canonical JSON
    /// of `{chain_index, link, position, signed_at}` (see `schemas/audit-chain.md`).
    pub signature: String,
}

impl SignedCheckpoint {
    /// What is signed: `complaints-audit-checkpoint/v1\n` followed by the canonical JSON of
    /// `{chain_index, link, position, signed_at}`.
    pub fn message(&self) -> Vec<u8> {
        let mut out = CHECKPOINT_CONTEXT.to_vec();
        canonical_json(
            &json!({
                "chain_index": self.chain_index,
                "link": self.link,
                "position": self.position,
                "signed_at": self.signed_at,
            }),
            &mut out,
        );
        out
    }

    /// Signs the chain at `chain_index`.
    pub fn sign(
        keys: &AuditKeys,
        chain_index: i64,
        position: i64,
        link: &str,
        at: DateTime<Utc>,
    ) -> Self {
        let mut checkpoint = Self {
            chain_index,
            position,
            link: link.to_string(),
            signed_at: at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            algorithm: ALGORITHM.into(),
            public_key: keys.public_key_hex(),
            signature: String::new(),
        };
        checkpoint.signature = keys.sign_hex(&checkpoint.message());
        checkpoint
    }

    /// Checks the signature against the embedded public key.
    pub fn verify(&self) -> Result<(), String> {
        if self.algorithm != ALGORITHM {
            return Err(format!("unknown algorithm `{}`", self.algorithm));
        }
        verify_signature(&self.public_key, &self.message(), &self.signature)
    }
}

async fn stored_checkpoint(
    pool: &Pool,
    chain_index: i64,
) -> Result<Option<SignedCheckpoint>, ApiError> {
    let row = on_pool!(pool, |p| sqlx::query(
        "SELECT chain_index, position, link_hash, signed_at, public_key, signature
         FROM audit_checkpoints WHERE chain_index = $1"
    )
    .bind(chain_index)
    .fetch_optional(p)
    .await
    .map_err(internal)?
    .map(|r| {
        Ok::<_, sqlx::Error>(SignedCheckpoint {
            chain_index: r.try_get(0)?,
            position: r.try_get(1)?,
            link: r.try_get(2)?,
            signed_at: r.try_get(3)?,
            algorithm: ALGORITHM.into(),
            public_key: r.try_get(4)?,
            signature: r.try_get(5)?,
        })
    })
    .transpose()
    .map_err(internal)?);
    Ok(row)
}

fn internal(e: impl Into<anyhow::Error>) -> ApiError {
    ApiError::Internal(e.into())
}

/// The latest recorded checkpoint's chain index (0 when none).
async fn last_checkpoint_index(pool: &Pool) -> Result<i64, ApiError> {
    let index: Option<i64> = on_pool!(pool, |p| sqlx::query_scalar(
        "SELECT max(chain_index) FROM audit_checkpoints"
    )
    .fetch_one(p)
    .await
    .map_err(internal)?);
    Ok(index.unwrap_or(0))
}

/// The chain's head now: index, position and link (zeros for the empty chain).
pub async fn chain_head(pool: &Pool) -> Result<(i64, i64, String), ApiError> {
    Ok(match sealer::head(pool).await? {
        Some(head) => (head.chain_index, head.position, head.link_hash),
        None => (0, 0, to_hex(&ZERO_LINK)),
    })
}

/// Signs the chain's head now, unless a checkpoint at that index is already recorded, and
/// returns the recorded one. Several gateways may race: one row per index wins.
pub async fn checkpoint_head(
    pool: &Pool,
    keys: &AuditKeys,
    now: DateTime<Utc>,
) -> Result<SignedCheckpoint, ApiError> {
    let (index, position, link) = chain_head(pool).await?;
    if let Some(existing) = stored_checkpoint(pool, index).await? {
        return Ok(existing);
    }
    let signed = SignedCheckpoint::sign(keys, index, position, &link, now);
    on_pool!(pool, |p| {
        sqlx::query(
        "INSERT INTO audit_checkpoints (chain_index, position, link_hash, signed_at, public_key, signature)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain_index) DO NOTHING"
    )
    .bind(signed.chain_index)
    .bind(signed.position)
    .bind(&signed.link)
    .bind(&signed.signed_at)
    .bind(&signed.public_key)
    .bind(&signed.signature)
    .execute(p)
    .await
    .map_err(internal)?
    .rows_affected()
    });
    tracing::info!(
        chain_index = signed.chain_index,
        position = signed.position,
        "recorded a signed checkpoint"
    );
    Ok(stored_checkpoint(pool, index).await?.unwrap_or(signed))
}

/// Records signed checkpoints until `stop`: when the chain has grown by `every` links since
/// the last one, or has grown at all and `max_age` has passed.
pub async fn run_notary(
    pool: Pool,
    keys: Arc<AuditKeys>,
    every: i64,
    max_age: Duration,
    stop: CancellationToken,
) {
    let mut last_signed = tokio::time::Instant::now();
    let mut first = true;
    while !stop.is_cancelled() {
        let due = async {
            let (head, _, _) = chain_head(&pool).await?;
            let last = last_checkpoint_index(&pool).await?;
            let grown = head - last;
            Ok::<_, ApiError>(
                grown > 0 && (first || grown >= every.max(1) || last_signed.elapsed() >= max_age),
            )
        }
        .await;
        match due {
            Ok(true) => match checkpoint_head(&pool, &keys, Utc::now()).await {
                Ok(_) => {
                    last_signed = tokio::time::Instant::now();
                    first = false;
                }
                Err(error) => tracing::warn!(%error, "cannot record a signed checkpoint"),
            },
            Ok(false) => first = false,
            // The sealer's table appears with its first run; until then there is no chain.
            Err(error) => tracing::debug!(%error, "no chain to checkpoint yet"),
        }
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------

/// Roles that may read the chain's head.
pub(crate) const HEAD_ROLES: &[Role] = &[Role::Auditor, Role::Regulator, Role::Caseworker];
/// Roles that may read the access log.
pub(crate) const ACCESS_LOG_ROLES: &[Role] = &[Role::Auditor];

/// The audit routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/audit/head", get(head))
        .route("/v1/audit/key", get(key))
        .route("/v1/audit/access-log", get(access_log))
}

pub(crate) fn keys(state: &AppState) -> Result<&Arc<AuditKeys>, ApiError> {
    state
        .audit
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("the audit sealing key is not configured".into()))
}

/// The chain's head with a signed checkpoint of it (`GET /v1/audit/head`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditHead {
    /// Chain index of the head (0: the empty chain).
    chain_index: i64,
    /// Global position of the event at the head (0 for the empty chain).
    position: i64,
    /// The link at the head, hex.
    link: String,
    /// The head signed with the sealing key.
    checkpoint: SignedCheckpoint,
    /// The sealing key's public half, hex.
    public_key: String,
    /// The log position the sealer has reached.
    sealed_through_position: i64,
}

#[tracing::instrument(skip_all)]
async fn head(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(HEAD_ROLES)?;
    let keys = keys(&state)?;
    let pool = state.cases.log().pool();
    let checkpoint = checkpoint_head(pool, keys, state.now()).await?;
    let sealed =
        complaints_projections::models::case_views::reflected_position(pool, sealer::NAME).await?;
    Ok(Json(AuditHead {
        chain_index: checkpoint.chain_index,
        position: checkpoint.position,
        link: checkpoint.link.clone(),
        checkpoint,
        public_key: keys.public_key_hex(),
        sealed_through_position: sealed,
    })
    .into_response())
}

/// The key that signs checkpoints and export manifests (`GET /v1/audit/key`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditKey {
    /// `Ed25519`.
    algorithm: &'static str,
    /// The sealing key's public half.
    public_key: String,
    /// How `public_key` is written: `hex`.
    encoding: &'static str,
}

async fn key(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&Role::ALL)?;
    let keys = keys(&state)?;
    Ok(Json(AuditKey {
        algorithm: ALGORITHM,
        public_key: keys.public_key_hex(),
        encoding: "hex",
    })
    .into_response())
}

/// A page of the access log (`GET /v1/audit/access-log`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct AccessLog {
    /// Reads of the caller's organisations' complaints, newest first.
    items: Vec<AccessRecord>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<i64>,
}

/// One read recorded in the access log.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AccessRecord {
    /// The record's id.
    id: i64,
    /// When it was read (RFC 3339, UTC).
    accessed_at: String,
    /// Who read it (the token subject).
    actor: String,
    /// The role they read it in.
    role: String,
    /// The complaint's organisation.
    organisation_id: String,
    /// The complaint read.
    complaint_id: String,
    /// What was read: `history`.
    action: String,
    /// The request's correlation id.
    correlation_id: Option<String>,
}

/// Records that `caller` read `complaint_id` (of `organisation_id`). Fails the read when it
/// cannot be recorded.
pub(crate) async fn record_access(
    state: &AppState,
    caller: &Caller,
    role: Role,
    organisation_id: &str,
    complaint_id: &str,
    action: &str,
    correlation_id: Option<&str>,
) -> Result<(), ApiError> {
    let at = state
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    on_pool!(state.cases.log().pool(), |p| {
        sqlx::query(
        "INSERT INTO audit_access_log (accessed_at, actor, role, organisation_id, complaint_id, action, correlation_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(&at)
    .bind(&caller.subject)
    .bind(role.name())
    .bind(organisation_id)
    .bind(complaint_id)
    .bind(action)
    .bind(correlation_id)
    .execute(p)
    .await
    .map_err(internal)?
    .rows_affected()
    });
    Ok(())
}

/// Query of `GET /v1/audit/access-log`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogQuery {
    complaint_id: Option<String>,
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<i64>,
}

#[tracing::instrument(skip_all)]
async fn access_log(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AccessLogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(ACCESS_LOG_ROLES)?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    if caller.organisations.is_empty() {
        return Ok(Json(AccessLog {
            items: Vec::new(),
            next_cursor: None,
        })
        .into_response());
    }
    // Newest first; only the caller's organisations' complaints.
    let n = caller.organisations.len();
    let placeholder = |i: usize| format!("${i}");
    let orgs: Vec<String> = (1..=n).map(placeholder).collect();
    let (complaint, before, limit_at) =
        (placeholder(n + 1), placeholder(n + 2), placeholder(n + 3));
    let sql = format!(
        "SELECT id, accessed_at, actor, role, organisation_id, complaint_id, action, correlation_id
         FROM audit_access_log
         WHERE organisation_id IN ({}) AND ({complaint} IS NULL OR complaint_id = {complaint})
           AND id < {before}
         ORDER BY id DESC LIMIT {limit_at}",
        orgs.join(", "),
    );
    let cursor = query.cursor.unwrap_or(i64::MAX);
    let items: Vec<AccessRecord> = on_pool!(state.cases.log().pool(), |p| {
        let mut q = sqlx::query(&sql);
        for org in &caller.organisations {
            q = q.bind(org);
        }
        q.bind(query.complaint_id.as_deref())
            .bind(cursor)
            .bind(limit + 1)
            .fetch_all(p)
            .await
            .map_err(internal)?
            .iter()
            .map(|r| {
                Ok::<_, sqlx::Error>(AccessRecord {
                    id: r.try_get(0)?,
                    accessed_at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    role: r.try_get(3)?,
                    organisation_id: r.try_get(4)?,
                    complaint_id: r.try_get(5)?,
                    action: r.try_get(6)?,
                    correlation_id: r.try_get(7)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?
    });
    let mut items = items;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|r| r.id)
    } else {
        None
    };
    Ok(Json(AccessLog { items, next_cursor }).into_response())
}

// ---------------------------------------------------------------------------------------
// `complaints verify`
// ---------------------------------------------------------------------------------------

/// Arguments of `complaints verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// A signed checkpoint recorded earlier (the JSON of `GET /v1/audit/head`, or its
    /// `checkpoint`): the log must still lead to it.
    #[arg(long = "against", value_name = "CHECKPOINT_FILE")]
    pub against: Vec<PathBuf>,
}

/// Reads a signed checkpoint file and checks its signature.
pub fn read_checkpoint(path: &Path) -> Result<SignedCheckpoint, ApiError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| config(format!("cannot read {}: {e}", path.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| ApiError::IntegrityCheck(format!("{} is not JSON: {e}", path.display())))?;
    let inner = value.get("checkpoint").cloned().unwrap_or(value);
    let checkpoint: SignedCheckpoint = serde_json::from_value(inner).map_err(|e| {
        ApiError::IntegrityCheck(format!(
            "{} is not a signed checkpoint: {e}",
            path.display()
        ))
    })?;
    checkpoint.verify().map_err(|why| {
        ApiError::IntegrityCheck(format!(
            "the checkpoint in {} is not validly signed: {why}",
            path.display()
        ))
    })?;
    Ok(checkpoint)
}

/// What `complaints verify` found, for printing.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// What verified.
    pub verified: sealer::Verified,
    /// Checkpoints checked.
    pub checkpoints: Vec<SignedCheckpoint>,
    /// Checkpoints signed by another key than this deployment's.
    pub foreign_keys: usize,
}

impl std::fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = &self.verified;
        match &v.head {
            Some((index, position, link)) => write!(
                f,
                "verified: {} events sealed; head at chain index {index}, position {position}, link {link}",
                v.sealed
            )?,
            None => write!(f, "verified: nothing sealed yet")?,
        }
        if v.unsealed > 0 {
            write!(f, "; {} newer events not sealed yet", v.unsealed)?;
        }
        for c in &self.checkpoints {
            write!(
                f,
                "\ncheckpoint at chain index {} (position {}, signed {}) matches the log",
                c.chain_index, c.position, c.signed_at
            )?;
        }
        if self.foreign_keys > 0 {
            write!(
                f,
                "\nwarning: {} checkpoint(s) signed by a key other than this deployment's sealing key",
                self.foreign_keys
            )?;
        }
        Ok(())
    }
}

/// Recomputes the chain from the log and compares it with the stored links and the
/// checkpoints in `against`; the first break is a [`ApiError::ChainBroken`].
pub async fn verify(
    pool: &Pool,
    against: &[SignedCheckpoint],
    own_key: Option<&VerifyingKey>,
    progress: complaints_projections::Progress<'_>,
) -> Result<VerifyReport, ApiError> {
    let mut anchors = Vec::new();
    for c in against {
        let link = from_hex(&c.link).ok_or_else(|| {
            ApiError::IntegrityCheck(format!("checkpoint link `{}` is not a hash", c.link))
        })?;
        // The empty chain (index 0) holds for every log.
        if c.chain_index > 0 {
            anchors.push(Anchor {
                chain_index: c.chain_index,
                position: c.position,
                link,
            });
        }
    }
    let own = own_key.map(|k| hex::encode(k.as_bytes()));
    let foreign_keys = against
        .iter()
        .filter(|c| own.as_deref().is_some_and(|own| own != c.public_key))
        .count();
    match sealer::verify_chain(pool, &anchors, 1000, progress).await? {
        Verification::Intact(verified) => Ok(VerifyReport {
            verified,
            checkpoints: against.to_vec(),
            foreign_keys,
        }),
        Verification::Broken(found) => {
            tracing::error!(
                kind = found.kind.name(),
                position = found.position,
                chain_index = found.chain_index,
                "audit chain broken"
            );
            Err(ApiError::ChainBroken {
                kind: found.kind.name(),
                position: found.position,
                detail: found.detail,
            })
        }
    }
}

/// `complaints verify`: prints the verified head, or fails naming the first break.
pub async fn verify_command(
    args: VerifyArgs,
    settings: &crate::Settings,
) -> Result<VerifyReport, ApiError> {
    let checkpoints = args
        .against
        .iter()
        .map(|p| read_checkpoint(p))
        .collect::<Result<Vec<_>, _>>()?;
    let own = AuditKeys::existing_public_key(&settings.audit, &settings.data_dir)?;
    let cases = crate::open_cases(settings).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "verify [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let result = verify(cases.log().pool(), &checkpoints, own.as_ref(), &progress).await;
    bar.finish_and_clear();
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_breaks_it() {
        let keys = AuditKeys::generate().unwrap();
        let signed = SignedCheckpoint::sign(&keys, 7, 42, &to_hex(&[7u8; 32]), Utc::now());
        signed.verify().unwrap();
        for tamper in [
            |c: &mut SignedCheckpoint| c.chain_index += 1,
            |c: &mut SignedCheckpoint| c.position += 1,
            |c: &mut SignedCheckpoint| c.link = to_hex(&[8u8; 32]),
            |c: &mut SignedCheckpoint| c.signed_at.push('0'),
        ] {
            let mut changed = signed.clone();
            tamper(&mut changed);
            assert!(changed.verify().is_err());
        }
        let other = AuditKeys::generate().unwrap();
        let mut rekeyed = signed.clone();
        rekeyed.public_key = other.public_key_hex();
        assert!(rekeyed.verify().is_err());
    }

    #[test]
    fn pseudonyms_are_stable_per_recipient_and_differ_between_recipients() {
        let keys = AuditKeys::generate().unwrap();
        let id = "0b5e1c2a-4f1e-4a8e-9a57-3f2d8c1e7b10";
        assert_eq!(keys.pseudonym("cqc", id), keys.pseudonym("cqc", id));
        assert_ne!(keys.pseudonym("cqc", id), keys.pseudonym("phso", id));
        assert_eq!(keys.pseudonym("cqc", id).len(), 32);
        let other = AuditKeys::generate().unwrap();
        assert_ne!(keys.pseudonym("cqc", id), other.pseudonym("cqc", id));
    }

    #[test]
    fn a_generated_key_file_is_reused_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let settings = AuditSettings {
            seal_key_file: None,
            checkpoint_every: 1000,
            checkpoint_seconds: 300,
            export_secret: None,
        };
        let first = AuditKeys::load(&settings, dir.path()).unwrap();
        let again = AuditKeys::load(&settings, dir.path()).unwrap();
        assert_eq!(first.public_key_hex(), again.public_key_hex());
        assert_eq!(
            AuditKeys::existing_public_key(&settings, dir.path())
                .unwrap()
                .map(|k| hex::encode(k.as_bytes())),
            Some(first.public_key_hex())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SEAL_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
