//! The HTTP API: routes, extractors and the case view.

use crate::auth::{Authenticator, Caller, HasAuthenticator, Role};
use crate::cases::{complaint_id_for_source, CaseState, Cases, CommandContext};
use crate::commands::INTAKE_ROLES;
use crate::error::{ApiError, FieldError};
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use complaints_domain::*;
use complaints_projections::ConsumerStatus;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use tracing::Instrument;
use uuid::Uuid;

/// Largest accepted request body.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// Reads the current time; replaceable in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The complaints.
    pub cases: Arc<Cases>,
    /// Checks bearer tokens.
    pub auth: Arc<Authenticator>,
    /// The clock the gateway reads "today" from (the domain never does).
    pub clock: Clock,
    /// Consumers running in this process.
    pub consumers: Arc<Vec<Arc<ConsumerStatus>>>,
    /// The sealing key and export secret; the audit and export routes answer 503 without.
    pub audit: Option<Arc<crate::audit::AuditKeys>>,
}

impl HasAuthenticator for AppState {
    fn authenticator(&self) -> &Arc<Authenticator> {
        &self.auth
    }
}

impl AppState {
    /// State over `cases` with the system clock.
    pub fn new(cases: Arc<Cases>, auth: Arc<Authenticator>) -> Self {
        Self {
            cases,
            auth,
            clock: Arc::new(Utc::now),
            consumers: Arc::new(Vec::new()),
            audit: None,
        }
    }

    /// The keys that sign checkpoints and export manifests and key export pseudonyms.
    pub fn with_audit(mut self, keys: Arc<crate::audit::AuditKeys>) -> Self {
        self.audit = Some(keys);
        self
    }

    /// Consumers whose lag `/readyz` reports.
    pub fn with_consumers(mut self, consumers: Vec<Arc<ConsumerStatus>>) -> Self {
        self.consumers = Arc::new(consumers);
        self
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

/// The civil date in England at `at`.
pub fn london_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Europe::London).date_naive()
}

/// The API router, testable without a socket.
pub fn router(state: AppState) -> Router {
    // Install the registry before the first metric is recorded.
    crate::telemetry::metrics_handle();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route(
            "/openapi.json",
            get(|| async { Json(crate::openapi::openapi()) }),
        )
        .route(
            "/metrics",
            get(|| async { crate::telemetry::render_metrics() }),
        )
        .route("/v1/complaints", post(receive).get(crate::queries::list))
        .route("/v1/complaints/{id}", get(get_complaint))
        .merge(command_routes())
        .merge(crate::queries::routes())
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .route_layer(axum::middleware::from_fn(crate::telemetry::track_requests))
        .layer(axum::middleware::from_fn(correlate))
        .with_state(state)
}

const CORRELATION_ID: &str = "x-correlation-id";

/// Gives every request a correlation id (the caller's `X-Correlation-Id`, or a new one),
/// runs it inside a span carrying it, and echoes it on the response.
async fn correlate(mut request: Request, next: axum::middleware::Next) -> Response {
    let given = request
        .headers()
        .get(CORRELATION_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .and_then(|v| HeaderValue::from_str(v).ok());
    let id = match given {
        Some(id) => id,
        None => HeaderValue::from_str(&Uuid::new_v4().to_string())
            .unwrap_or(HeaderValue::from_static("unknown")),
    };
    request.headers_mut().insert(CORRELATION_ID, id.clone());
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        correlation_id = id.to_str().unwrap_or_default(),
    );
    let mut response = next.run(request).instrument(span).await;
    response.headers_mut().insert(CORRELATION_ID, id);
    response
}

/// What `/readyz` answers when the event log answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Readiness {
    /// `ready`.
    status: &'static str,
    /// `ok`: the event log answered.
    database: &'static str,
    /// The consumers running in this process.
    consumers: Vec<ConsumerReadiness>,
}

/// A consumer's position and lag, as `/readyz` reports them.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ConsumerReadiness {
    /// Consumer name.
    name: String,
    /// Whether this process is the active instance.
    active: bool,
    /// The global log position it has applied.
    position: i64,
    /// Events written but not yet applied.
    lag_events: i64,
    /// Seconds since the oldest unapplied event was recorded (0 when caught up).
    lag_seconds: f64,
}

async fn readyz(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.cases.log().ping().await?;
    let consumers: Vec<ConsumerReadiness> = state
        .consumers
        .iter()
        .map(|c| {
            use std::sync::atomic::Ordering::Relaxed;
            let position = c
                .checkpoint
                .lock()
                .map(|cp| cp.position)
                .unwrap_or_default();
            ConsumerReadiness {
                name: c.name.clone(),
                active: c.active.load(Relaxed),
                position,
                lag_events: c.lag_events.load(Relaxed),
                lag_seconds: c.lag_millis.load(Relaxed) as f64 / 1000.0,
            }
        })
        .collect();
    Ok(Json(Readiness {
        status: "ready",
        database: "ok",
        consumers,
    })
    .into_response())
}

/// A JSON request body, checked for media type (415) and size (413) on extraction and
/// parsed only after the caller is authorised, so refusals never depend on the body.
pub struct JsonBody(Bytes);

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

/// Parses a command body, naming the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    if parsed.is_ok() {
        de.end()
            .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    }
    parsed.map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::BadRequest(format!("malformed JSON: {inner}"))
            }
            _ => {
                let field = if path == "." { String::new() } else { path };
                ApiError::Validation {
                    detail: format!(
                        "{}{inner}",
                        if field.is_empty() {
                            String::new()
                        } else {
                            format!("{field}: ")
                        }
                    ),
                    errors: vec![FieldError {
                        field,
                        message: inner.to_string(),
                    }],
                }
            }
        }
    })
}

/// Request headers every command reads.
struct CommandHeaders {
    idempotency_key: Option<String>,
    if_match: Option<usize>,
    correlation_id: String,
}

fn command_headers(headers: &HeaderMap) -> Result<CommandHeaders, ApiError> {
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
    Ok(CommandHeaders {
        idempotency_key,
        if_match,
        correlation_id,
    })
}

fn context(
    state: &AppState,
    caller: &Caller,
    role: Role,
    headers: &CommandHeaders,
    fingerprint: String,
    organisation_id: &str,
) -> CommandContext {
    let issued_at = state.now();
    CommandContext {
        actor: caller.subject.clone(),
        role: role.name().to_string(),
        organisation_id: organisation_id.to_string(),
        command_id: headers.idempotency_key.clone(),
        fingerprint,
        correlation_id: headers.correlation_id.clone(),
        causation_id: None,
        issued_at,
        issued_on: london_date(issued_at),
    }
}

/// Roles that may read a complaint.
const READ_ROLES: &[Role] = &[Role::Caseworker, Role::Frontline, Role::Auditor];

#[tracing::instrument(skip_all, fields(complaint_id, correlation_id))]
async fn receive(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let role = caller.require(INTAKE_ROLES)?;
    let headers = command_headers(&headers)?;
    let body_bytes = body.0.clone();
    let body: ReceiveComplaint = body.parse()?;
    let fingerprint = crate::commands::fingerprint("receive", &body_bytes)?;
    if !caller.acts_for(&body.organisation_id) {
        return Err(ApiError::Forbidden(
            "the token does not act for this organisation".into(),
        ));
    }
    let id = match &body.source {
        Some(source) => {
            complaint_id_for_source(&body.organisation_id, &source.system, &source.reference)
        }
        None => match &headers.idempotency_key {
            // A retried intake without a source reference still lands on one complaint.
            Some(key) => complaint_id_for_source(&body.organisation_id, "idempotency-key", key),
            None => Uuid::new_v4(),
        },
    }
    .to_string();
    let span = tracing::Span::current();
    span.record("complaint_id", id.as_str());
    span.record("correlation_id", headers.correlation_id.as_str());
    let context = context(
        &state,
        &caller,
        role,
        &headers,
        fingerprint,
        &body.organisation_id,
    );
    let by_source = body.source.is_some();

    if by_source {
        if let Some(existing) = state.cases.get(&id).await? {
            return Ok(case_response(&state, &existing, StatusCode::OK));
        }
    }
    match state
        .cases
        .execute(&id, ComplaintAction::Receive(body), &context, None)
        .await
    {
        Ok(done) => {
            let status = if done.applied {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let mut response = case_response(&state, &done.state, status);
            if let Ok(location) = HeaderValue::from_str(&format!("/v1/complaints/{id}")) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        // Two deliveries of one intake raced: the loser answers with the winner's complaint.
        Err(ApiError::Conflict | ApiError::Rule(ComplaintError::AlreadyReceived)) if by_source => {
            let existing = state.cases.get(&id).await?.ok_or(ApiError::Conflict)?;
            Ok(case_response(&state, &existing, StatusCode::OK))
        }
        Err(ApiError::Rule(ComplaintError::AlreadyReceived)) => Err(ApiError::IdempotencyKeyReused),
        Err(e) => Err(e),
    }
}

/// Loads a complaint the caller's organisations may see; another organisation's is 404.
async fn visible_case(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
) -> Result<CaseState, ApiError> {
    let id = Uuid::parse_str(raw_id)
        .map_err(|_| ApiError::NotFound)?
        .to_string();
    let found = state.cases.get(&id).await?.ok_or(ApiError::NotFound)?;
    let organisation = &found.case.receipt()?.organisation_id;
    if !caller.acts_for(organisation) {
        return Err(ApiError::NotFound);
    }
    Ok(found)
}

#[tracing::instrument(skip_all, fields(complaint_id = %id))]
async fn get_complaint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<Query<AsOf>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if let Some(as_of) = query.as_of {
        let found = crate::queries::case_as_of(&state, &caller, &id, as_of).await;
        caller.require(READ_ROLES)?;
        return found;
    }
    let found = visible_case(&state, &caller, &id).await?;
    caller.require(READ_ROLES)?;
    Ok(case_response(&state, &found, StatusCode::OK))
}

/// `?as_of=` on a case read.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsOf {
    as_of: Option<DateTime<Utc>>,
}

fn command_routes() -> Router<AppState> {
    crate::commands::COMMANDS
        .iter()
        .fold(Router::new(), |router, spec| {
            router.route(
                &format!("/v1/complaints/{{id}}/{}", spec.name),
                post(
                    move |state: State<AppState>,
                          caller: Caller,
                          path: Path<String>,
                          headers: HeaderMap,
                          body: JsonBody| {
                        run_command(spec, state, caller, path, headers, body)
                    },
                ),
            )
        })
}

async fn run_command(
    spec: &'static crate::commands::CommandSpec,
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let found = visible_case(&state, &caller, &id).await?;
    let role = caller.require(spec.roles)?;
    let headers = command_headers(&headers)?;
    let action = (spec.parse)(&body.0)?;
    let organisation = found.case.receipt()?.organisation_id.clone();
    let context = context(
        &state,
        &caller,
        role,
        &headers,
        crate::commands::fingerprint(spec.name, &body.0)?,
        &organisation,
    );
    let span = tracing::info_span!(
        "command",
        complaint_id = %found.id,
        command = action.name(),
        correlation_id = %context.correlation_id
    );
    let done = state
        .cases
        .execute(&found.id, action, &context, headers.if_match)
        .instrument(span)
        .await?;
    Ok(case_response(&state, &done.state, StatusCode::OK))
}

fn case_response(state: &AppState, found: &CaseState, status: StatusCode) -> Response {
    let today = london_date(state.now());
    let view = ComplaintView::build(found, state.cases.services(), today);
    let mut response = (status, Json(view)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", found.version)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// A complaint as the API shows it: the facts, the status and every current deadline.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ComplaintView<'a> {
    id: &'a str,
    version: usize,
    status: Status,
    stage: u8,
    #[serde(flatten)]
    receipt: Option<&'a Receipt>,
    in_time: bool,
    out_of_time_accepted_on: Option<NaiveDate>,
    #[serde(flatten)]
    particulars: Option<&'a ComplaintParticulars>,
    acknowledged_on: Option<NaiveDate>,
    acknowledged_late: bool,
    consent: &'a complaints_domain::ConsentState,
    risk: Option<&'a complaints_domain::RiskGrade>,
    response_plans: &'a [complaints_domain::ResponsePlan],
    clock_stops: &'a [complaints_domain::ClockStop],
    delay_notified_on: &'a [NaiveDate],
    responses: &'a [complaints_domain::SentResponse],
    escalated_on: Option<NaiveDate>,
    ombudsman_referrals: &'a [complaints_domain::Referral],
    learning: &'a [complaints_domain::Learning],
    closure: Option<&'a complaints_domain::Closure>,
    reopened_on: &'a [NaiveDate],
    legal_hold: Option<&'a complaints_domain::LegalHold>,
    deadlines: Option<Deadlines>,
    deadline_status: Vec<DeadlineStatus>,
    as_of: NaiveDate,
}

impl<'a> ComplaintView<'a> {
    /// The view of `found` with deadlines judged as of `today`.
    pub fn build(found: &'a CaseState, services: &ComplaintServices, today: NaiveDate) -> Self {
        let case = &found.case;
        Self {
            id: &found.id,
            version: found.version,
            status: case.status(),
            stage: case.stage,
            receipt: case.receipt.as_ref(),
            in_time: case.in_time(),
            out_of_time_accepted_on: case.out_of_time_accepted_on,
            particulars: case.particulars.as_ref(),
            acknowledged_on: case.acknowledged_on,
            acknowledged_late: case.acknowledged_late,
            consent: &case.consent,
            risk: case.risk.as_ref(),
            response_plans: &case.plans,
            clock_stops: &case.clock_stops,
            delay_notified_on: &case.delay_notified_on,
            responses: &case.responses,
            escalated_on: case.escalated_on,
            ombudsman_referrals: &case.referrals,
            learning: &case.learning,
            closure: case.closure.as_ref(),
            reopened_on: &case.reopened_on,
            legal_hold: case.legal_hold.as_ref(),
            deadlines: deadlines(case, services),
            deadline_status: deadline_statuses(case, services, today),
            as_of: today,
        }
    }
}
