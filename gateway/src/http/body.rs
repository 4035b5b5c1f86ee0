//! Request bodies and the headers every command reads: JSON checked for media type and size,
//! parsed naming the field at fault; `Idempotency-Key`, `If-Match`, `X-Correlation-Id`.

use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use uuid::Uuid;

pub use crate::app::commands::parse_json;

/// Largest accepted request body.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// A JSON request body, checked for media type (415) and size (413) on extraction and
/// parsed only after the caller is authorised, so refusals never depend on the body.
pub struct JsonBody(pub(crate) Bytes);

impl JsonBody {
    /// Parses the body: 400 for malformed JSON, 422 naming the field for a wrong shape.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_json(&self.0)
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| {
                let v = v.trim().to_ascii_lowercase();
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge {
                    limit: BODY_LIMIT_BYTES,
                }
            } else {
                ApiError::BadRequest(rejection.body_text())
            }
        })?;
        Ok(JsonBody(bytes))
    }
}

/// Request headers every command reads.
pub(crate) struct CommandHeaders {
    pub(crate) idempotency_key: Option<String>,
    pub(crate) if_match: Option<usize>,
    pub(crate) correlation_id: String,
    /// `Prefer: return=minimal` (RFC 7240): answer with a receipt that holds no personal
    /// data instead of the complaint.
    pub(crate) minimal: bool,
}

pub(crate) fn command_headers(headers: &HeaderMap) -> Result<CommandHeaders, ApiError> {
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        headers
            .get(name)
            .map(|v| {
                v.to_str()
                    .map(|s| s.trim().to_string())
                    .map_err(|_| ApiError::BadRequest(format!("{name} must be visible ASCII")))
            })
            .transpose()
    };
    let idempotency_key = text("idempotency-key")?;
    if let Some(key) = &idempotency_key {
        if key.is_empty() || key.len() > 255 {
            return Err(ApiError::BadRequest(
                "Idempotency-Key must be 1 to 255 characters".into(),
            ));
        }
    }
    let if_match = text("if-match")?
        .map(|raw| {
            let tag = raw.trim_start_matches("W/").trim_matches('"');
            tag.parse::<usize>().map_err(|_| {
                ApiError::BadRequest("If-Match must be an ETag returned by this API".into())
            })
        })
        .transpose()?;
    let correlation_id = text("x-correlation-id")?
        .filter(|c| !c.is_empty() && c.len() <= 128)
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    // Preferences not understood are ignored, as RFC 7240 asks.
    let minimal = headers.get_all("prefer").iter().any(|v| {
        v.to_str().is_ok_and(|text| {
            text.split([',', ';'])
                .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"))
        })
    });
    Ok(CommandHeaders {
        idempotency_key,
        if_match,
        correlation_id,
        minimal,
    })
}
