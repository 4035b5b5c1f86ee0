//! `GET /v1/exports/events`: a regulator's export, streamed as it is written.

use crate::app::state::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::http::audit::keys;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use chrono::NaiveDate;
use complaints_audit::export::{write_export, ExportRequest, ExportSummary};
use complaints_audit::AuditError;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Roles that may export.
pub(crate) const EXPORT_ROLES: &[Role] = &[Role::Regulator];

/// The export route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/exports/events", get(export_events))
}

/// Query of `GET /v1/exports/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    organisation: String,
    from: NaiveDate,
    to: NaiveDate,
    recipient: Option<String>,
}

/// Streams what `reader` yields; at its end, fails the body if the producer failed, so a
/// broken export is a cut connection, never a file that looks complete.
fn body_of(
    reader: impl AsyncRead + Unpin + Send + 'static,
    producer: tokio::task::JoinHandle<Result<ExportSummary, AuditError>>,
) -> Body {
    let stream = futures::stream::unfold(
        (reader, Some(producer)),
        |(mut reader, producer)| async move {
            let producer = producer?;
            let mut chunk = vec![0u8; 64 * 1024];
            match reader.read(&mut chunk).await {
                Ok(0) => match producer.await {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => Some((Err(std::io::Error::other(e.to_string())), (reader, None))),
                    Err(e) => Some((Err(std::io::Error::other(e.to_string())), (reader, None))),
                },
                Ok(n) => {
                    chunk.truncate(n);
                    Some((Ok(Bytes::from(chunk)), (reader, Some(producer))))
                }
                Err(e) => Some((Err(e), (reader, None))),
            }
        },
    );
    Body::from_stream(stream)
}

#[tracing::instrument(skip_all)]
async fn export_events(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(EXPORT_ROLES)?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if !caller.acts_for(&query.organisation) {
        return Err(ApiError::Forbidden(
            "the token does not act for this organisation".into(),
        ));
    }
    let keys = keys(&state)?.clone();
    let request = ExportRequest {
        recipient: query.recipient.unwrap_or_else(|| caller.subject.clone()),
        organisation: query.organisation,
        from: query.from,
        to: query.to,
    };
    request.check()?;
    tracing::info!(
        actor = %caller.subject,
        organisation = %request.organisation,
        recipient = %request.recipient,
        "export requested"
    );
    let filename = format!(
        "attachment; filename=\"complaints-{}-{}-{}.ndjson\"",
        request
            .organisation
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect::<String>(),
        request.from,
        request.to
    );
    let pool = state.cases.log().pool().clone();
    let now = state.now();
    let (mut writer, reader) = tokio::io::duplex(256 * 1024);
    let producer = tokio::spawn(async move {
        let written = write_export(&pool, &keys, &request, now, &mut writer, &|_, _| {}).await;
        if let Err(error) = &written {
            tracing::error!(error = ?error, "export failed while streaming");
        }
        written
    });
    let mut response = body_of(reader, producer).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    if let Ok(value) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
