//! The OpenAPI 3.1 document of the HTTP API, assembled in code and served at
//! `/openapi.json`; `schemas/openapi.json` is its checked-in copy. (Longer than most files:
//! two thirds of it is the documentation table of the fixed routes, which is data.)
//!
//! Bodies are the JSON Schemas (2020-12, which OpenAPI 3.1 takes as is) that schemars
//! generates from the Rust types: request bodies as they are deserialised, answers (the case
//! view, query answers, problems) as they are serialised. The command routes come from the
//! command table (`app::commands::COMMANDS`) that the router and NATS intake also use; the
//! fixed routes from [`OPERATIONS`], one row per route: a new fixed route gets a row here.

use crate::app::commands::COMMANDS;
use crate::auth::Role;
use crate::error::{Problem, PROBLEM_BASE};
use crate::http::{ComplaintView, BODY_LIMIT_BYTES};
use complaints_domain::*;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// Where the schemas live in the document; schemars writes its `$ref`s against it.
const COMPONENTS: &str = "/components/schemas";

/// The schema of a body type, as a `$ref` into `components/schemas`: of a request body when
/// given the request-side generator, of an answer when given the response-side one.
type BodySchema = fn(&mut SchemaGenerator) -> Schema;

fn body<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// A JSON object whose shape the route documents in words (the data subject routes).
fn any_object(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({ "type": "object" })
}

/// Named answers of the data subject routes, described in words: their fields come from the
/// key store and the event schemas' personal fields.
macro_rules! described_object {
    ($($name:ident => $description:literal;)+) => {
        $(
            #[doc = $description]
            struct $name;

            impl JsonSchema for $name {
                fn schema_name() -> Cow<'static, str> {
                    Cow::Borrowed(stringify!($name))
                }

                fn json_schema(_: &mut SchemaGenerator) -> Schema {
                    schemars::json_schema!({ "type": "object", "description": $description })
                }
            }
        )+
    };
}

described_object! {
    DataSubjectLookup => "A data subject: `subject_id` (pseudonymous; the person's current generation), `generation`, `complaints` naming them (of the caller's organisations, with their role on each), `key` (the erasure record, never the key), and `earlier_subjects`: earlier generations of the same person, erased, with their complaints and erasure records.";
    DataSubjectErasure => "What an erasure did: `outcome`, the subject's key record (who, when, why, the legal basis) and the complaints it touched.";
    SubjectAccessExport => "Everything held about a person across the caller's organisations' complaints: each complaint with the person's fields as given, in one document.";
}

/// What an operation takes and answers.
#[derive(Clone)]
enum Shape {
    /// A probe, no authentication.
    Text {
        /// Media type of the 200 answer.
        media_type: &'static str,
        /// The 200 answer's schema when it is JSON; a string otherwise.
        schema: Option<BodySchema>,
        /// An example answer (JSON text when `schema` is given).
        example: &'static str,
        /// Whether a failed dependency answers 503.
        may_be_unavailable: bool,
    },
    /// This document.
    Document,
    /// Receives a complaint: 201 with the new case, 200 with the existing one.
    Receive(BodySchema),
    /// Reads a complaint.
    Read,
    /// Runs a command on a complaint: 200 with the case as it now stands.
    Command(BodySchema),
    /// A query answering a document or a stream in one of `media_types`, not JSON.
    Download {
        /// Query parameters: name, JSON type, meaning.
        params: &'static [(&'static str, &'static str, &'static str)],
        /// Media types of the 200 answer.
        media_types: &'static [&'static str],
        /// What the answer holds.
        answer: &'static str,
    },
    /// Records something that is not a complaint command (a JSON body): 201 with the record.
    Record {
        /// The request body's schema.
        request: BodySchema,
        /// What the 201 answer holds.
        answer: &'static str,
        /// The 201 answer's schema.
        schema: BodySchema,
    },
    /// Replaces a record that is not a complaint (a JSON body): 200 with the record.
    Update {
        /// The request body's schema.
        request: BodySchema,
        /// What the 200 answer holds.
        answer: &'static str,
        /// The 200 answer's schema.
        schema: BodySchema,
    },
    /// A read-model or history query answering JSON.
    Query {
        /// Query parameters: name, JSON type, meaning.
        params: &'static [(&'static str, &'static str, &'static str)],
        /// Whether the path has the complaint id.
        by_complaint: bool,
        /// What the answer holds.
        answer: &'static str,
        /// The 200 answer's schema.
        schema: BodySchema,
        /// Other media types the answer may come in (as text), besides JSON.
        alternatives: &'static [&'static str],
    },
}

/// One route of the router.
struct Operation {
    method: &'static str,
    path: Cow<'static, str>,
    operation_id: &'static str,
    summary: &'static str,
    /// Roles allowed; empty for the unauthenticated routes.
    roles: &'static [Role],
    shape: Shape,
}

const INTAKE: &[Role] = crate::app::commands::INTAKE_ROLES;
const READ: &[Role] = &[Role::Caseworker, Role::Frontline, Role::Auditor];
const LIST: &[Role] = &[
    Role::Caseworker,
    Role::Frontline,
    Role::Auditor,
    Role::Reporting,
];
const HISTORY: &[Role] = &[Role::Auditor, Role::Caseworker];
const REPORTS: &[Role] = &[Role::Reporting, Role::Caseworker, Role::Auditor];

/// Every route the API serves.
const OPERATIONS: &[Operation] = &[
    Operation {
        method: "get",
        path: Cow::Borrowed("/healthz"),
        operation_id: "healthz",
        summary: "Liveness: the process answers",
        roles: &[],
        shape: Shape::Text {
            media_type: "text/plain",
            schema: None,
            example: "ok",
            may_be_unavailable: false,
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/readyz"),
        operation_id: "readyz",
        summary: "Readiness: the event log answers; each consumer's position and lag",
        roles: &[],
        shape: Shape::Text {
            media_type: "application/json",
            schema: Some(body::<crate::http::Readiness>),
            example: r#"{"status":"ready","database":"ok","consumers":[{"name":"case_views","active":true,"position":42,"lag_events":0,"lag_seconds":0.0}],"calendar":{"version":"shipped","covered_through":2028,"warning":null}}"#,
            may_be_unavailable: true,
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/metrics"),
        operation_id: "metrics",
        summary: "Prometheus metrics",
        roles: &[],
        shape: Shape::Text {
            media_type: "text/plain; version=0.0.4",
            schema: None,
            example: "# TYPE http_requests_total counter\n",
            may_be_unavailable: false,
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/openapi.json"),
        operation_id: "openapi",
        summary: "This OpenAPI document",
        roles: &[],
        shape: Shape::Document,
    },
    Operation {
        method: "post",
        path: Cow::Borrowed("/v1/complaints"),
        operation_id: "receiveComplaint",
        summary: "Receive a complaint",
        roles: INTAKE,
        shape: Shape::Receive(body::<ReceiveComplaint>),
    },
    Operation {
        method: "post",
        path: Cow::Borrowed("/v1/whistleblowing-concerns"),
        operation_id: "receiveWhistleblowingConcern",
        summary: "Receive a whistleblowing concern (the receive body; `kind` is `whistleblowing`): seen and handled under the `whistleblowing` role only, never in lists, reports, events or exports (R-KIND-3)",
        roles: crate::app::runner::WHISTLEBLOWING_ROLES,
        shape: Shape::Receive(body::<ReceiveComplaint>),
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/complaints/{id}"),
        operation_id: "getComplaint",
        summary: "Read a complaint with its status and deadlines",
        roles: READ,
        shape: Shape::Read,
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/complaints"),
        operation_id: "listComplaints",
        summary: "The case list (read model), newest received first, keyset-paginated",
        roles: LIST,
        shape: Shape::Query {
            params: &[
                ("organisation", "string", "Only this organisation (one the token acts for); default all of them."),
                ("status", "string", "Only this status."),
                ("received_from", "date", "Received on or after."),
                ("received_to", "date", "Received on or before."),
                ("subject_area", "string", "Only complaints with this subject area code."),
                ("stage", "integer", "Only this stage: 1 local resolution, 2 internal review."),
                ("channel", "string", "Only this channel code (`email`, `oral_phone`, ...)."),
                ("kind", "string", "Only this kind of case: `complaint`, `enquiry` or `about_organisation`."),
                ("assigned_to", "string", "Only complaints assigned to this caseworker (sign-in subject)."),
                ("limit", "integer", "Page size, 1 to 500 (default 50)."),
                ("cursor", "string", "`next_cursor` of the previous page."),
            ],
            by_complaint: false,
            answer: "`items` (rows of `rm_case_list`), `next_cursor`, and the log `position` the read model reflects",
            schema: body::<crate::http::queries::CaseList>,
            alternatives: &[],
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/deadlines"),
        operation_id: "listDeadlines",
        summary: "Deadlines of open complaints (read model), soonest first, keyset-paginated",
        roles: LIST,
        shape: Shape::Query {
            params: &[
                ("organisation", "string", "Only this organisation (one the token acts for)."),
                ("due_before", "date", "Only deadlines due before this day."),
                ("overdue", "boolean", "Only deadlines not met whose day has passed (as of today in England)."),
                ("kind", "string", "acknowledgement, consent, response, internal_target, delay_letter, oral_record, letter or ombudsman_recommendation."),
                ("assigned_to", "string", "Only deadlines of complaints assigned to this caseworker (sign-in subject)."),
                ("limit", "integer", "Page size, 1 to 500 (default 50)."),
                ("cursor", "string", "`next_cursor` of the previous page (opaque)."),
            ],
            by_complaint: false,
            answer: "`items` (rows of `rm_deadlines` ordered by `due_on` (undated last), `complaint_id`, `kind`, `item`, with `state` judged as of `as_of`), `next_cursor` (null on the last page), `as_of`, and `position`",
            schema: body::<crate::http::queries::DeadlineList>,
            alternatives: &[],
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/complaints/{id}/history"),
        operation_id: "complaintHistory",
        summary: "Every event of a complaint in order, with who, when recorded and when it happened",
        roles: HISTORY,
        shape: Shape::Query {
            params: &[],
            by_complaint: true,
            answer: "`complaint_id` and `events`: sequence, position, event_type, event_version, recorded_at, occurred_on, actor, role, organisation_id, command, command_id, correlation_id, causation_id, data, seal (chain_index, leaf, link: the event's place in the audit hash chain, once sealed). Each read is recorded in the access log",
            schema: body::<crate::http::queries::ComplaintHistory>,
            alternatives: &[],
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/reports/annual"),
        operation_id: "annualReport",
        summary: "Regulation 18 annual report figures for one organisation and financial year",
        roles: REPORTS,
        shape: Shape::Query {
            params: &[
                ("organisation", "string", "The organisation (required; one the token acts for)."),
                ("year", "integer", "The financial year starting in April of this year (required)."),
            ],
            by_complaint: false,
            answer: "`report` (received, well_founded, by_outcome, referred_to_ombudsman, by_subject_area, by_channel, acknowledged_within_3_working_days, responded_within_agreed_period, learning, …) and `position`. `learning` is summarised: `total`, and for `lessons` and `actions` each a `total` and the `recent` ten, newest first; `full_list` is the route that lists every one, a page at a time",
            schema: body::<crate::http::reports::AnnualReportAnswer>,
            alternatives: &[],
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/reports/written-complaints"),
        operation_id: "writtenComplaintsReturn",
        summary: "Written Complaints Collection (KO41a/KO41b) counts, as JSON or CSV",
        roles: REPORTS,
        shape: Shape::Query {
            params: &[
                ("organisation", "string", "The organisation (required; one the token acts for)."),
                ("period", "integer", "A financial year by its starting year; or give from and to."),
                ("from", "date", "Period start (with to)."),
                ("to", "date", "Period end (with from)."),
                ("format", "string", "json (default) or csv (also chosen by Accept: text/csv)."),
            ],
            by_complaint: false,
            answer: "`report` with one return per collection and site (section 2: brought_forward, new, resolved_upheld, resolved_partially_upheld, resolved_not_upheld, resolved, carried_forward; breakdowns of new complaints by age band, complainant status, service area, subject area and staff group; and the `reconciliation` note beside it: left_without_outcome, unresolved_at_end), `position`, and for a submitted period (`period=`) the figures exactly as submitted with `submitted` (at, by) and `adjustments` (per item: submitted, current, difference), never silently new figures; a year after a submitted one brings forward what the submitted return left unresolved. Or CSV with the header collection,organisation,site,section,item,count",
            schema: body::<crate::http::reports::WrittenComplaintsAnswer>,
            alternatives: &["text/csv"],
        },
    },
    Operation {
        method: "post",
        path: Cow::Borrowed("/v1/reports/written-complaints/submission"),
        operation_id: "submitWrittenComplaintsReturn",
        summary: "Mark a financial year's written complaints return (KO41) submitted (R-KO-3a)",
        roles: crate::http::reports::SUBMIT_ROLES,
        shape: Shape::Record {
            request: body::<crate::http::reports::SubmissionRequest>,
            answer: "Submitted: the organisation, collection (KO41), period, `submitted` (at, by) and the return's `figures` exactly as shown now. A period already submitted is 409 (`already-submitted`); later changes show as adjustments to it.",
            schema: body::<complaints_projections::models::reporting::Submission>,
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/reports/annual/document"),
        operation_id: "annualReportDocument",
        summary: "The regulation 18 annual report as a document (Markdown, HTML, or CSV of its tables)",
        roles: crate::http::reports::REPORT_ROLES,
        shape: Shape::Download {
            params: &[
                ("organisation", "string", "The organisation (required; one the token acts for)."),
                ("year", "integer", "The financial year starting in April of this year (required)."),
                ("format", "string", "markdown (default), html or csv."),
            ],
            media_types: &["text/markdown", "text/html", "text/csv"],
            answer: "The report: statutory figures (reg. 18(2)(a)-(c)), subjects, matters of general importance, actions taken; `X-Log-Position` is the log position the read model reflects",
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed(complaints_projections::models::reporting::LEARNING_ROUTE),
        operation_id: "annualReportLearning",
        summary: "Every lesson and action of an annual report's year (items 5 and 6), keyset-paginated; the report names only the latest ten of each",
        roles: crate::http::reports::REPORT_ROLES,
        shape: Shape::Query {
            params: &[
                ("organisation", "string", "The organisation (required; one the token acts for)."),
                ("year", "integer", "The financial year starting in April of this year (required)."),
                ("kind", "string", "Only `lesson` or only `action`; default both."),
                ("limit", "integer", "Page size, 1 to 1000 (default 100)."),
                ("cursor", "string", "`next_cursor` of the previous page (opaque)."),
            ],
            by_complaint: false,
            answer: "`items` (kind, recorded_on, summary, action_due_on; oldest first by day recorded, no complaint id), `next_cursor` (set whenever more remain, null on the last page), and `position`",
            schema: body::<crate::http::reports::LearningList>,
            alternatives: &[],
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/audit/head"),
        operation_id: "auditHead",
        summary: "The audit hash chain's head with a checkpoint signed by the sealing key, to record outside the service",
        roles: crate::http::audit::HEAD_ROLES,
        shape: Shape::Query {
            params: &[],
            by_complaint: false,
            answer: "`chain_index`, `position`, `link` (hex), `checkpoint` (chain_index, position, link, signed_at, algorithm, public_key, signature; see schemas/audit-chain.md), `public_key`, `sealed_through_position`",
            schema: body::<crate::http::audit::AuditHead>,
            alternatives: &[],
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/audit/key"),
        operation_id: "auditKey",
        summary: "The Ed25519 public key that signs checkpoints and export manifests",
        roles: &Role::ALL,
        shape: Shape::Query {
            params: &[],
            by_complaint: false,
            answer: "`algorithm` (Ed25519), `public_key` (hex), `encoding`",
            schema: body::<crate::http::audit::AuditKey>,
            alternatives: &[],
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/audit/access-log"),
        operation_id: "auditAccessLog",
        summary: "Who read which complaint's personal data (the complaint, its history, a command's answer, a web page), and when (newest first)",
        roles: crate::http::audit::ACCESS_LOG_ROLES,
        shape: Shape::Query {
            params: &[
                ("complaint_id", "string", "Only reads of this complaint."),
                ("limit", "integer", "Page size, 1 to 1000 (default 100)."),
                ("cursor", "integer", "`next_cursor` of the previous page."),
            ],
            by_complaint: false,
            answer: "`items` (id, accessed_at, actor, role, organisation_id, complaint_id, action, correlation_id) of the caller's organisations' complaints, and `next_cursor`",
            schema: body::<crate::http::audit::AccessLog>,
            alternatives: &[],
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/organisations"),
        operation_id: "listOrganisations",
        summary: "The organisation register: the organisations the caller acts for, every one for an administrator (R-SCOPE-1)",
        roles: &Role::ALL,
        shape: Shape::Query {
            params: &[],
            by_complaint: false,
            answer: "`items`: each organisation's record with `sectors_in_force`, `ombudsmen` (R-OMB-3) and `return_collection` (R-KO-1)",
            schema: body::<crate::http::organisations::OrganisationList>,
            alternatives: &[],
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/organisations/{organisation_id}"),
        operation_id: "readOrganisation",
        summary: "One organisation as registered, with what the rules derive from it; 404 for one the caller does not act for",
        roles: &Role::ALL,
        shape: Shape::Query {
            params: &[],
            by_complaint: false,
            answer: "The record with `sectors_in_force`, `ombudsmen` and `return_collection`",
            schema: body::<crate::http::organisations::OrganisationView>,
            alternatives: &[],
        },
    },
    Operation {
        method: "put",
        path: Cow::Borrowed("/v1/organisations/{organisation_id}"),
        operation_id: "recordOrganisation",
        summary: "Register an organisation or replace its record: type, sectors, ODS code, sites, responsible person and delegates (R-SCOPE-1, R-SCOPE-4); each change is kept as an event with who made it",
        roles: crate::http::organisations::ADMINISTRATOR_ROLES,
        shape: Shape::Update {
            request: body::<crate::http::organisations::RecordOrganisation>,
            answer: "The record as it now stands, with what the rules derive from it",
            schema: body::<crate::http::organisations::OrganisationView>,
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/organisations/{organisation_id}/history"),
        operation_id: "organisationHistory",
        summary: "Every change to an organisation's record, oldest first, with who made it",
        roles: &Role::ALL,
        shape: Shape::Query {
            params: &[],
            by_complaint: false,
            answer: "`items` (position, change, changed_by, recorded_at)",
            schema: body::<crate::http::organisations::OrganisationHistory>,
            alternatives: &[],
        },
    },
    Operation {
        method: "post",
        path: Cow::Borrowed("/v1/data-subjects/lookup"),
        operation_id: "lookupDataSubject",
        summary: "Find a data subject by NHS number, or by a person as given in a complaint (name with another identifying detail), with the caller's organisations' complaints naming them",
        roles: crate::http::data_subjects::DATA_PROTECTION_ROLES,
        shape: Shape::Update {
            request: any_object,
            answer: "`subject_id` (pseudonymous), `complaints`, `key` (the erasure record, never the key)",
            schema: body::<DataSubjectLookup>,
        },
    },
    Operation {
        method: "post",
        path: Cow::Borrowed("/v1/data-subjects/{subject_id}/erasure"),
        operation_id: "eraseDataSubject",
        summary: "Erase a person's personal data by destroying their key (crypto-shredding), recorded with who, why and the legal basis; counts and the audit chain are unchanged",
        roles: crate::http::data_subjects::DATA_PROTECTION_ROLES,
        shape: Shape::Update {
            request: any_object,
            answer: "What was erased and when",
            schema: body::<DataSubjectErasure>,
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/data-subjects/{subject_id}/export"),
        operation_id: "exportDataSubject",
        summary: "Subject access: everything held about a person across complaints, as one JSON document; recorded in the access log",
        roles: crate::http::data_subjects::DATA_PROTECTION_ROLES,
        shape: Shape::Query {
            params: &[],
            by_complaint: false,
            answer: "The person's data across the caller's organisations' complaints",
            schema: body::<SubjectAccessExport>,
            alternatives: &[],
        },
    },
    Operation {
        method: "get",
        path: Cow::Borrowed("/v1/exports/events"),
        operation_id: "exportEvents",
        summary: "Regulator export: one organisation's sealed events for a period as CloudEvents NDJSON, personal data removed, with a signed manifest",
        roles: crate::http::export::EXPORT_ROLES,
        shape: Shape::Download {
            params: &[
                ("organisation", "string", "The organisation (required; one the token acts for)."),
                ("from", "date", "First UTC recording day (required)."),
                ("to", "date", "Last UTC recording day, inclusive (required)."),
                ("recipient", "string", "Who receives it; complaint ids are pseudonymised per recipient (default: the token subject)."),
            ],
            media_types: &["application/x-ndjson"],
            answer: "Streamed NDJSON: one CloudEvents 1.0 envelope per line (chainindex, chainleaf, chainlink, logposition extensions), then a manifest line (count, positions, chain head, sha256 of the preceding bytes, Ed25519 signature); see schemas/audit-chain.md",
        },
    },
];

/// The error responses, by status: the name under `components/responses` and its meaning.
const PROBLEMS: &[(u16, &str, &str)] = &[
    (
        400,
        "BadRequest",
        "Malformed JSON or a malformed header (`Idempotency-Key`, `If-Match`).",
    ),
    (
        401,
        "Unauthorized",
        "No valid bearer token; answered with `WWW-Authenticate: Bearer`.",
    ),
    (
        403,
        "Forbidden",
        "The token's roles or organisations do not allow this.",
    ),
    (
        404,
        "NotFound",
        "No such complaint, or one of an organisation the token does not act for.",
    ),
    (
        409,
        "Conflict",
        "Another writer changed the complaint first; retrying is safe. Or the written complaints return was already submitted (`already-submitted`; not retryable).",
    ),
    (
        412,
        "PreconditionFailed",
        "`If-Match` named another version; `current_version` and `ETag` give the current one.",
    ),
    (413, "PayloadTooLarge", "The body is larger than 64 KiB."),
    (
        415,
        "UnsupportedMediaType",
        "The body is not `application/json`.",
    ),
    (
        422,
        "UnprocessableContent",
        "A field is missing, unknown or of the wrong shape (with `errors`), a complaints rule refuses the command (`type` names the rule), or the `Idempotency-Key` was used for another request.",
    ),
    (500, "InternalError", "Something failed on our side; logged."),
    (
        503,
        "Unavailable",
        "A dependency (the event log) is unavailable, or the request timed out.",
    ),
];

impl Shape {
    fn problems(&self) -> &'static [u16] {
        match self {
            Shape::Text {
                may_be_unavailable: true,
                ..
            } => &[503],
            Shape::Text { .. } | Shape::Document => &[],
            Shape::Receive(_) => &[400, 401, 403, 409, 413, 415, 422, 500, 503],
            Shape::Read => &[401, 403, 404, 500, 503],
            Shape::Command(_) => &[400, 401, 403, 404, 409, 412, 413, 415, 422, 500, 503],
            Shape::Record { .. } => &[400, 401, 403, 409, 413, 415, 422, 500, 503],
            Shape::Update { .. } => &[400, 401, 403, 404, 413, 415, 422, 500, 503],
            Shape::Query {
                by_complaint: true, ..
            } => &[400, 401, 403, 404, 500, 503],
            Shape::Query { .. } => &[400, 401, 403, 500, 503],
            Shape::Download { .. } => &[400, 401, 403, 500, 503],
        }
    }
}

fn component(kind: &str, name: &str) -> Value {
    json!({ "$ref": format!("#/components/{kind}/{name}") })
}

fn case_response(description: &str, view: &Value, location: bool) -> Value {
    let mut headers = Map::new();
    headers.insert("ETag".into(), component("headers", "ETag"));
    if location {
        headers.insert("Location".into(), component("headers", "Location"));
    }
    headers.insert(
        "X-Correlation-Id".into(),
        component("headers", "CorrelationId"),
    );
    json!({
        "description": description,
        "headers": headers,
        "content": { "application/json": { "schema": view } },
    })
}

fn operation(
    op: &Operation,
    requests: &mut SchemaGenerator,
    answers: &mut SchemaGenerator,
    view: &Value,
    command_answer: &Value,
) -> Value {
    let mut parameters = Vec::new();
    let mut responses = Map::new();
    let mut request_body = None;
    // Path parameters other than a complaint's id (`{id}`, a shared component).
    for name in op
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .filter(|name| *name != "id")
    {
        parameters.push(json!({
            "name": name, "in": "path", "required": true,
            "schema": { "type": "string", "minLength": 1, "maxLength": 64 },
        }));
    }
    match &op.shape {
        Shape::Text {
            media_type,
            schema,
            example,
            ..
        } => {
            let content = match schema {
                Some(schema) => {
                    let example = serde_json::from_str::<Value>(example)
                        .unwrap_or_else(|_| (*example).into());
                    json!({ "schema": schema(answers), "example": example })
                }
                None => json!({ "schema": { "type": "string" }, "example": example }),
            };
            responses.insert(
                "200".into(),
                json!({ "description": "OK", "content": { *media_type: content } }),
            );
        }
        Shape::Document => {
            responses.insert(
                "200".into(),
                json!({
                    "description": "The OpenAPI 3.1 document",
                    "content": { "application/json": { "schema": { "type": "object" } } },
                }),
            );
        }
        Shape::Receive(schema) => {
            parameters.push(component("parameters", "IdempotencyKey"));
            parameters.push(component("parameters", "Prefer"));
            request_body = Some(schema(requests));
            responses.insert(
                "201".into(),
                case_response("Received: the new complaint", command_answer, true),
            );
            responses.insert(
                "200".into(),
                case_response(
                    "Already received (same `source` or `Idempotency-Key`): the existing complaint",
                    command_answer,
                    true,
                ),
            );
        }
        Shape::Query {
            params,
            by_complaint,
            answer,
            schema: answer_schema,
            alternatives,
        } => {
            if *by_complaint {
                parameters.push(component("parameters", "ComplaintId"));
            }
            for (name, kind, meaning) in params.iter() {
                let schema = match *kind {
                    "date" => json!({ "type": "string", "format": "date" }),
                    "date-time" => json!({ "type": "string", "format": "date-time" }),
                    other => json!({ "type": other }),
                };
                parameters.push(json!({ "name": name, "in": "query", "required": false, "description": meaning, "schema": schema }));
            }
            let mut content = Map::new();
            content.insert(
                "application/json".into(),
                json!({ "schema": answer_schema(answers) }),
            );
            for media_type in alternatives.iter() {
                content.insert(
                    media_type.to_string(),
                    json!({ "schema": { "type": "string" } }),
                );
            }
            responses.insert(
                "200".into(),
                json!({ "description": answer, "content": content }),
            );
        }
        Shape::Record {
            request,
            answer,
            schema: answer_schema,
        } => {
            request_body = Some(request(requests));
            responses.insert(
                "201".into(),
                json!({
                    "description": answer,
                    "content": { "application/json": { "schema": answer_schema(answers) } },
                }),
            );
        }
        Shape::Update {
            request,
            answer,
            schema: answer_schema,
        } => {
            request_body = Some(request(requests));
            responses.insert(
                "200".into(),
                json!({
                    "description": answer,
                    "content": { "application/json": { "schema": answer_schema(answers) } },
                }),
            );
        }
        Shape::Download {
            params,
            media_types,
            answer,
        } => {
            for (name, kind, meaning) in params.iter() {
                let schema = match *kind {
                    "date" => json!({ "type": "string", "format": "date" }),
                    other => json!({ "type": other }),
                };
                parameters.push(json!({ "name": name, "in": "query", "required": false, "description": meaning, "schema": schema }));
            }
            let content: Map<String, Value> = media_types
                .iter()
                .map(|m| (m.to_string(), json!({ "schema": { "type": "string" } })))
                .collect();
            responses.insert(
                "200".into(),
                json!({ "description": answer, "content": content }),
            );
        }
        Shape::Read => {
            parameters.push(component("parameters", "ComplaintId"));
            parameters.push(json!({
                "name": "as_of", "in": "query", "required": false,
                "description": "Show the complaint as it stood at this instant (rebuilt from its events recorded up to then).",
                "schema": { "type": "string", "format": "date-time" }
            }));
            responses.insert(
                "200".into(),
                case_response("The complaint as it stands", view, false),
            );
        }
        Shape::Command(schema) => {
            parameters.push(component("parameters", "ComplaintId"));
            parameters.push(component("parameters", "IdempotencyKey"));
            parameters.push(component("parameters", "IfMatch"));
            parameters.push(component("parameters", "Prefer"));
            request_body = Some(schema(requests));
            responses.insert(
                "200".into(),
                case_response(
                    "Done (or a retry of a command already done): the complaint as it now stands",
                    command_answer,
                    false,
                ),
            );
        }
    }
    parameters.push(component("parameters", "CorrelationId"));
    for status in op.shape.problems() {
        if let Some((_, name, _)) = PROBLEMS.iter().find(|(s, _, _)| s == status) {
            responses.insert(status.to_string(), component("responses", name));
        }
    }

    let mut out = Map::new();
    out.insert("operationId".into(), op.operation_id.into());
    out.insert("summary".into(), op.summary.into());
    if op.roles.is_empty() {
        out.insert("security".into(), json!([]));
    } else {
        let roles: Vec<&str> = op.roles.iter().map(|r| r.name()).collect();
        out.insert(
            "description".into(),
            format!("Roles: {}.", roles.join(", ")).into(),
        );
        out.insert("x-roles".into(), json!(roles));
    }
    out.insert("parameters".into(), Value::Array(parameters));
    if let Some(schema) = request_body {
        out.insert(
            "requestBody".into(),
            json!({
                "required": true,
                "content": { "application/json": { "schema": schema } },
            }),
        );
    }
    out.insert("responses".into(), Value::Object(responses));
    Value::Object(out)
}

fn generator(settings: SchemaSettings) -> SchemaGenerator {
    settings
        .with(|s| {
            s.definitions_path = COMPONENTS.into();
            s.meta_schema = None;
        })
        .into_generator()
}

/// Puts the response-side definitions next to the request-side ones. A type that reads
/// differently from how it is written (fields optional on input, always present on
/// output) keeps its name for the output and is renamed `<Name>Input` for the input.
fn merge_definitions(
    requests: Map<String, Value>,
    responses: Map<String, Value>,
    request_bodies: &mut [&mut Value],
) -> Map<String, Value> {
    let renamed: Vec<String> = requests
        .iter()
        .filter(|(name, schema)| responses.get(*name).is_some_and(|other| other != *schema))
        .map(|(name, _)| name.clone())
        .collect();
    let mut merged = responses;
    for (name, mut schema) in requests {
        rename_refs(&mut schema, &renamed);
        let name = if renamed.contains(&name) {
            format!("{name}Input")
        } else {
            name
        };
        merged.insert(name, schema);
    }
    for body in request_bodies.iter_mut() {
        rename_refs(body, &renamed);
    }
    merged
}

fn rename_refs(value: &mut Value, renamed: &[String]) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if key == "$ref" {
                    if let Value::String(target) = inner {
                        let name = target.rsplit('/').next().unwrap_or_default().to_string();
                        if renamed.contains(&name) {
                            *target = format!("#{COMPONENTS}/{name}Input");
                        }
                    }
                } else {
                    rename_refs(inner, renamed);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rename_refs(i, renamed)),
        _ => {}
    }
}

/// The fixed routes, then one per command of the command table (the router builds its
/// command routes from the same table, so the two cannot drift).
fn operations() -> Vec<Operation> {
    let commands = COMMANDS.iter().map(|spec| Operation {
        method: "post",
        path: Cow::Owned(format!("/v1/complaints/{{id}}/{}", spec.name)),
        operation_id: spec.operation_id,
        summary: spec.summary,
        roles: spec.roles,
        shape: Shape::Command(spec.schema),
    });
    let mut all: Vec<Operation> = OPERATIONS.iter().map(Operation::copy).collect();
    all.extend(commands);
    all
}

impl Operation {
    fn copy(&self) -> Self {
        Self {
            method: self.method,
            path: self.path.clone(),
            operation_id: self.operation_id,
            summary: self.summary,
            roles: self.roles,
            shape: self.shape.clone(),
        }
    }
}

/// The OpenAPI 3.1 document of every route the API serves.
pub fn openapi() -> Value {
    let mut requests = generator(SchemaSettings::draft2020_12().for_deserialize());
    let mut responses = generator(SchemaSettings::draft2020_12().for_serialize());
    let view = responses
        .subschema_for::<ComplaintView<'static>>()
        .to_value();
    let problem = responses.subschema_for::<Problem<'static>>().to_value();
    // With `Prefer: return=minimal` a command answers with a receipt instead.
    let command_answer = responses
        .subschema_for::<crate::http::CommandAnswer<'static>>()
        .to_value();

    let mut paths = Map::new();
    for op in &operations() {
        let item = paths
            .entry(op.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(
                op.method.into(),
                operation(op, &mut requests, &mut responses, &view, &command_answer),
            );
        }
    }
    let mut paths = Value::Object(paths);
    let schemas = merge_definitions(
        requests.take_definitions(true),
        responses.take_definitions(true),
        &mut [&mut paths],
    );

    let problem_responses: Map<String, Value> = PROBLEMS
        .iter()
        .map(|(status, name, description)| {
            let mut headers = Map::new();
            headers.insert(
                "X-Correlation-Id".into(),
                component("headers", "CorrelationId"),
            );
            if *status == 401 {
                headers.insert(
                    "WWW-Authenticate".into(),
                    json!({ "description": "`Bearer`", "schema": { "type": "string" } }),
                );
            }
            if *status == 412 {
                headers.insert("ETag".into(), component("headers", "ETag"));
            }
            let response = json!({
                "description": description,
                "headers": headers,
                "content": { "application/problem+json": { "schema": problem } },
            });
            (name.to_string(), response)
        })
        .collect();

    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "Complaints case tracking",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "Health and social care complaints in England, event-sourced.",
            "description": format!(
                "Records each complaint under the Local Authority Social Services and National Health Service Complaints (England) Regulations 2009 and derives its deadlines from the England-and-Wales working-day calendar.\n\nEvery command answers with the complaint as it now stands and its version as `ETag`. Send `If-Match` with that version to refuse a stale write (412), and `Idempotency-Key` to make a retry safe. Errors are RFC 9457 `application/problem+json` with a stable `type` under `{PROBLEM_BASE}`. Bodies are limited to {BODY_LIMIT_BYTES} bytes and unknown fields are refused. Codes (channels, subject areas, outcomes, ...) are listed as their canonical codes; published labels and aliases are accepted too."
            ),
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "servers": [
            { "url": "http://127.0.0.1:8080", "description": "`complaints serve` with its defaults" },
        ],
        "security": [ { "bearer": [] } ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A JWT naming the subject (`sub`), the organisations acted for (`org`) and the roles (`roles`). `complaints token` mints one for the embedded default.",
                },
            },
            "parameters": {
                "ComplaintId": {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The complaint's id.",
                    "schema": { "type": "string", "format": "uuid" },
                },
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": false,
                    "description": "The command's id: a retry with the same key and body writes nothing and gets the same answer; the same key with another body is 422.",
                    "schema": { "type": "string", "minLength": 1, "maxLength": 255 },
                },
                "Prefer": {
                    "name": "Prefer",
                    "in": "header",
                    "required": false,
                    "description": "`return=minimal` (RFC 7240): answer with a receipt (id, version, status, stage, deadlines, warnings) that holds no personal data, so the answer is no read of it and is not recorded in the access log; `Preference-Applied: return=minimal` says it was honoured. Anything else answers with the complaint.",
                    "schema": { "type": "string", "enum": ["return=minimal", "return=representation"] },
                },
                "IfMatch": {
                    "name": "If-Match",
                    "in": "header",
                    "required": false,
                    "description": "The version (`ETag`) the command expects the complaint to be at; another version is 412.",
                    "schema": { "type": "string", "pattern": "^(W/)?\"?[0-9]+\"?$" },
                    "example": "\"1\"",
                },
                "CorrelationId": {
                    "name": "X-Correlation-Id",
                    "in": "header",
                    "required": false,
                    "description": "Ties this request to the caller's own logs; stored with every event it records and echoed on the response. One is made up when missing.",
                    "schema": { "type": "string", "minLength": 1, "maxLength": 128 },
                },
            },
            "headers": {
                "ETag": {
                    "description": "The complaint's version, for `If-Match`.",
                    "schema": { "type": "string" },
                    "example": "\"1\"",
                },
                "Location": {
                    "description": "The complaint's address.",
                    "schema": { "type": "string" },
                },
                "CorrelationId": {
                    "description": "The request's correlation id (given or made up).",
                    "schema": { "type": "string" },
                },
            },
            "responses": problem_responses,
            "schemas": schemas,
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves_within_the_document() {
        let doc = openapi();
        let mut refs = Vec::new();
        collect(&doc, &mut refs);
        assert!(!refs.is_empty());
        for target in refs {
            let pointer = target.strip_prefix('#').unwrap();
            assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
        }
    }

    fn collect(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner) {
                        ("$ref", Value::String(target)) => out.push(target.clone()),
                        _ => collect(inner, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
            _ => {}
        }
    }

    #[test]
    fn a_type_read_differently_from_how_it_is_written_gets_an_input_schema() {
        let object = |required: &[&str]| json!({ "type": "object", "required": required });
        let requests = Map::from_iter([
            ("Person".to_string(), object(&["name"])),
            (
                "Body".to_string(),
                json!({ "properties": { "who": { "$ref": "#/components/schemas/Person" } } }),
            ),
        ]);
        let responses = Map::from_iter([("Person".to_string(), object(&["name", "email"]))]);
        let mut body = json!({ "$ref": "#/components/schemas/Person" });

        let merged = merge_definitions(requests, responses, &mut [&mut body]);

        assert_eq!(merged["Person"], object(&["name", "email"]));
        assert_eq!(merged["PersonInput"], object(&["name"]));
        assert_eq!(
            merged["Body"]["properties"]["who"]["$ref"],
            "#/components/schemas/PersonInput"
        );
        assert_eq!(body["$ref"], "#/components/schemas/PersonInput");
    }

    #[test]
    fn every_json_answer_but_the_document_is_a_named_schema() {
        let doc = openapi();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let json = &operation["responses"]["200"]["content"]["application/json"];
                if json.is_null() || path == "/openapi.json" {
                    continue;
                }
                assert!(
                    json["schema"]["$ref"].is_string(),
                    "{method} {path} answers {}",
                    json["schema"]
                );
            }
        }
    }

    #[test]
    fn every_operation_id_is_unique() {
        let all = operations();
        let mut ids: Vec<&str> = all.iter().map(|o| o.operation_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
    }

    #[test]
    fn command_bodies_and_the_case_view_are_components() {
        let doc = openapi();
        let schemas = &doc["components"]["schemas"];
        for name in [
            "ReceiveComplaint",
            "SendResponse",
            "ComplaintView",
            "Problem",
        ] {
            assert!(schemas.get(name).is_some(), "{name}");
        }
        assert_eq!(
            doc["paths"]["/v1/complaints/{id}/response"]["post"]["requestBody"]["content"]
                ["application/json"]["schema"]["$ref"],
            "#/components/schemas/SendResponse"
        );
    }
}
