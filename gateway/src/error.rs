//! The one error type of the gateway: every failure picks its HTTP status and RFC 9457
//! problem+json body here, and the CLI prints the same named errors.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use complaints_audit::AuditError;
use complaints_domain::ComplaintError;
use complaints_eventlog::{is_connection_failure, EventLogError};
use complaints_projections::ProjectionError;
use schemars::JsonSchema;
use serde::Serialize;

/// Base of the stable problem `type` URIs.
pub const PROBLEM_BASE: &str = "https://complaints.example/errors/";

/// A problem with one request field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `complainant.name`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// Everything that can go wrong serving a request or running a command.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A complaints rule refused the command (422).
    #[error(transparent)]
    Rule(#[from] ComplaintError),
    /// The body does not match the command's shape (422, with field errors).
    #[error("{detail}")]
    Validation {
        /// Summary.
        detail: String,
        /// Per-field problems.
        errors: Vec<FieldError>,
    },
    /// The body is not JSON at all, or a header is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The body is not `application/json` (415).
    #[error("expected a body of type application/json")]
    UnsupportedMediaType,
    /// The body is larger than the limit (413).
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// No valid bearer token (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but the role does not allow this (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such complaint (404), also for another organisation's.
    #[error("no complaint with this id")]
    NotFound,
    /// Another writer changed the complaint first (409); retrying is safe.
    #[error("the complaint changed concurrently; retry the command")]
    Conflict,
    /// The period's return was already submitted (409, R-KO-3a): a submission is never
    /// replaced.
    #[error("{0}")]
    AlreadySubmitted(String),
    /// `If-Match` named another version (412).
    #[error("the complaint is at version {current}, not the version given in If-Match")]
    PreconditionFailed {
        /// The current version.
        current: usize,
    },
    /// The idempotency key was used before with a different request (422).
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
    /// A dependency is down (503).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// `complaints verify` found the audit chain broken (CLI only): every break, by position.
    #[error("{}", complaints_audit::describe_breaks(breaks, *truncated))]
    ChainBroken {
        /// The breaks, in chain order.
        breaks: Vec<complaints_audit::verify_chain::ChainBreak>,
        /// Whether more breaks followed the last one listed.
        truncated: bool,
    },
    /// A received export or a recorded checkpoint does not check out (CLI and 422).
    #[error("integrity check failed: {0}")]
    IntegrityCheck(String),
    /// Bad configuration (startup and CLI only).
    #[error("configuration error: {0}")]
    Config(String),
    /// Anything else (500, logged, opaque to the caller).
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// An RFC 9457 problem, served as `application/problem+json` for every refusal.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Problem<'a> {
    /// A stable URI per kind of problem, e.g. `…/errors/already-acknowledged`.
    #[serde(rename = "type")]
    kind: String,
    /// A short summary of the kind of problem.
    title: &'a str,
    /// The HTTP status code.
    status: u16,
    /// What went wrong with this request.
    detail: String,
    /// The fields at fault, when the problem is in the body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
    /// The complaint's current version, when `If-Match` named another (412).
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version: Option<usize>,
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Rule(_)
            | ApiError::Validation { .. }
            | ApiError::IdempotencyKeyReused
            | ApiError::IntegrityCheck(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict | ApiError::AlreadySubmitted(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::ChainBroken { .. } | ApiError::Config(_) | ApiError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The stable code behind the problem `type`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Rule(rule) => rule.code(),
            ApiError::Validation { .. } => "validation",
            ApiError::BadRequest(_) => "bad-request",
            ApiError::UnsupportedMediaType => "unsupported-media-type",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not-found",
            ApiError::Conflict => "conflict",
            ApiError::AlreadySubmitted(_) => "already-submitted",
            ApiError::PreconditionFailed { .. } => "precondition-failed",
            ApiError::IdempotencyKeyReused => "idempotency-key-reused",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::ChainBroken { .. } => "chain-broken",
            ApiError::IntegrityCheck(_) => "integrity-check-failed",
            ApiError::Config(_) => "configuration",
            ApiError::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::Rule(_) => "The complaints rules refuse this command",
            ApiError::Validation { .. } => "The request body is invalid",
            ApiError::BadRequest(_) => "Malformed request",
            ApiError::UnsupportedMediaType => "Unsupported media type",
            ApiError::PayloadTooLarge { .. } => "Request body too large",
            ApiError::Unauthorized(_) => "Authentication required",
            ApiError::Forbidden(_) => "Not allowed for this role",
            ApiError::NotFound => "Not found",
            ApiError::Conflict => "Concurrent change",
            ApiError::AlreadySubmitted(_) => "Return already submitted",
            ApiError::PreconditionFailed { .. } => "Version mismatch",
            ApiError::IdempotencyKeyReused => "Idempotency key reused",
            ApiError::Unavailable(_) => "Service unavailable",
            ApiError::ChainBroken { .. } => "The audit chain is broken",
            ApiError::IntegrityCheck(_) => "Integrity check failed",
            ApiError::Config(_) | ApiError::Internal(_) => "Internal error",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let errors = match &self {
            ApiError::Validation { errors, .. } => errors.clone(),
            ApiError::Rule(rule) => rule
                .field()
                .map(|field| {
                    vec![FieldError {
                        field: field.to_string(),
                        message: rule.to_string(),
                    }]
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let detail = match &self {
            // Never leak internals to callers.
            ApiError::Internal(_) | ApiError::Config(_) | ApiError::ChainBroken { .. } => {
                "internal error".to_string()
            }
            other => other.to_string(),
        };
        let body = Problem {
            kind: format!("{PROBLEM_BASE}{}", self.code()),
            title: self.title(),
            status: status.as_u16(),
            detail,
            errors,
            current_version: match &self {
                ApiError::PreconditionFailed { current } => Some(*current),
                _ => None,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::Unauthorized(_) = self {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::PreconditionFailed { current } = self {
            if let Ok(etag) = HeaderValue::from_str(&format!("\"{current}\"")) {
                response.headers_mut().insert(header::ETAG, etag);
            }
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Every 503 is worth retrying soon; for a command whose commit was cut off the
            // outcome is unknown, and a retry with the same Idempotency-Key settles it.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<EventLogError> for ApiError {
    fn from(error: EventLogError) -> Self {
        match error {
            EventLogError::Rule(rule) => ApiError::Rule(rule),
            EventLogError::Conflict => ApiError::Conflict,
            EventLogError::Unavailable(why) => ApiError::Unavailable(why),
            EventLogError::Database(e) if is_connection_failure(&e) => {
                ApiError::Unavailable(e.to_string())
            }
            EventLogError::Config(why) => ApiError::Config(why),
            EventLogError::InvalidQuery(why) => ApiError::BadRequest(why),
            EventLogError::UnknownConsumer(name) => {
                ApiError::BadRequest(format!("unknown projection `{name}`"))
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<ProjectionError> for ApiError {
    fn from(error: ProjectionError) -> Self {
        match error {
            ProjectionError::Log(e) => e.into(),
            ProjectionError::InvalidQuery(why) => ApiError::BadRequest(why),
            ProjectionError::Database(e) if is_connection_failure(&e) => {
                ApiError::Unavailable(e.to_string())
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<AuditError> for ApiError {
    fn from(error: AuditError) -> Self {
        match error {
            AuditError::Log(e) => e.into(),
            AuditError::IntegrityCheck(why) => ApiError::IntegrityCheck(why),
            AuditError::ChainBroken { breaks, truncated } => {
                ApiError::ChainBroken { breaks, truncated }
            }
            AuditError::InvalidRequest(why) => ApiError::BadRequest(why),
            // Signing is suspended until an operator looks: unavailable, not a server bug.
            e @ AuditError::WitnessDisagrees { .. } => ApiError::Unavailable(e.to_string()),
            AuditError::Config(why) => ApiError::Config(why),
            AuditError::Database(e) if is_connection_failure(&e) => {
                ApiError::Unavailable(e.to_string())
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        EventLogError::Database(error).into()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_dropped_connection_is_a_503_with_retry_after() {
        for cause in [
            EventLogError::Database(sqlx::Error::Io(std::io::Error::from(
                std::io::ErrorKind::ConnectionReset,
            ))),
            EventLogError::Database(sqlx::Error::PoolTimedOut),
            EventLogError::Unavailable("connection closed during commit".into()),
        ] {
            let error = ApiError::from(cause);
            assert!(matches!(error, ApiError::Unavailable(_)), "{error:?}");
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        }
    }

    #[test]
    fn other_errors_carry_no_retry_after() {
        let response = ApiError::Conflict.into_response();
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
        let internal = ApiError::from(EventLogError::Store("boom".into())).into_response();
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(internal.headers().get(header::RETRY_AFTER).is_none());
    }
}
