//! Data subjects (schemas/encryption.md): look-up, erasure by crypto-shredding and subject
//! access, for the `data_protection` role. The functions below the routes are shared with
//! the command line (`complaints erase-subject`, `complaints subject-access`) and the
//! retention run of the scheduler.

use crate::app::cases::Cases;
use crate::app::state::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::http::JsonBody;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use complaints_audit::access_log;
use complaints_domain::nhs_number::NhsNumber;
use complaints_eventlog::crypto::{personal_fields_of, CryptoError};
use complaints_eventlog::keys::{self, Erasure, ErasureOutcome, SubjectComplaint, SubjectRecord};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Roles that may look up, erase and export data subjects.
pub(crate) const DATA_PROTECTION_ROLES: &[Role] = &[Role::DataProtection];

/// The data subject routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/data-subjects/lookup", post(lookup))
        .route("/v1/data-subjects/{subject_id}/erasure", post(erasure))
        .route("/v1/data-subjects/{subject_id}/export", get(export))
}

pub(crate) fn key_error(e: CryptoError) -> ApiError {
    match e {
        CryptoError::Database(db) => ApiError::from(db),
        other => ApiError::Internal(anyhow::anyhow!(other.to_string())),
    }
}

/// Body of `POST /v1/data-subjects/lookup`: an NHS number, or a person as given in a
/// complaint (name plus email, phone, date of birth or address).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    #[serde(default)]
    nhs_number: Option<String>,
    #[serde(default)]
    person: Option<Value>,
}

/// A data subject and the complaints naming them.
#[derive(Debug, Serialize)]
pub struct SubjectSummary {
    /// The pseudonymous id: the person's latest generation naming a complaint of the
    /// caller's organisations (the one their data given now is held under).
    pub subject_id: String,
    /// Complaints naming them (of the caller's organisations).
    pub complaints: Vec<SubjectComplaint>,
    /// The key record (erasure who/when/why), without the key.
    pub key: Option<SubjectRecord>,
    /// Which generation of the person `subject_id` is (schemas/encryption.md).
    pub generation: u32,
    /// The person's earlier generations naming the caller's complaints, oldest first: each
    /// was erased before the person gave their data afresh.
    pub earlier_subjects: Vec<EarlierSubject>,
}

/// An earlier generation of a data subject.
#[derive(Debug, Serialize)]
pub struct EarlierSubject {
    /// Its pseudonymous id.
    pub subject_id: String,
    /// Which generation.
    pub generation: u32,
    /// Complaints naming it (of the caller's organisations).
    pub complaints: Vec<SubjectComplaint>,
    /// Its key record: when, by whom, why and on what legal basis it was erased.
    pub key: SubjectRecord,
}

/// The subject id of an NHS number or a person, using the deployment's identity secret: the
/// person's generation 1, from which every later generation is found.
pub fn subject_id_of(
    cases: &Cases,
    nhs_number: Option<&str>,
    person: Option<&Value>,
) -> Result<String, ApiError> {
    let encryption = cases
        .log()
        .encryption()
        .ok_or_else(|| ApiError::Unavailable("personal data encryption is switched off".into()))?;
    match (nhs_number, person) {
        (Some(raw), _) => {
            let nhs = NhsNumber::parse(raw).map_err(|e| ApiError::BadRequest(e.to_string()))?;
            Ok(encryption.subject_of_nhs_number(&nhs))
        }
        (None, Some(person)) if person.is_object() => {
            // The identity of a person who gave no contact detail includes the complaint id
            // (never linked across complaints), so it cannot be looked up.
            Ok(encryption.subject_of_person(person, ""))
        }
        _ => Err(ApiError::BadRequest(
            "give `nhs_number` or `person` ({name, email|phone|date_of_birth|address})".into(),
        )),
    }
}

async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result<Json<SubjectSummary>, ApiError> {
    caller.require(DATA_PROTECTION_ROLES)?;
    let request: LookupRequest = body.parse()?;
    let subject_id = subject_id_of(
        &state.cases,
        request.nhs_number.as_deref(),
        request.person.as_ref(),
    )?;
    let pool = state.cases.log().pool();
    let generations = keys::generations_of(pool, &subject_id)
        .await
        .map_err(key_error)?;
    let ids: Vec<String> = generations.iter().map(|g| g.subject_id.clone()).collect();
    let named = keys::complaints_of_subjects(pool, &ids)
        .await
        .map_err(key_error)?;
    // Generations naming none of the caller's complaints are left out: that the person
    // complained elsewhere is not the caller's to know.
    let mut visible: Vec<EarlierSubject> = generations
        .into_iter()
        .filter_map(|key| {
            let complaints: Vec<SubjectComplaint> = named
                .iter()
                .filter(|(s, c)| *s == key.subject_id && caller.acts_for(&c.organisation_id))
                .map(|(_, c)| c.clone())
                .collect();
            (!complaints.is_empty()).then(|| EarlierSubject {
                subject_id: key.subject_id.clone(),
                generation: key.generation,
                complaints,
                key,
            })
        })
        .collect();
    let Some(current) = visible.pop() else {
        return Err(ApiError::NotFound);
    };
    Ok(Json(SubjectSummary {
        subject_id: current.subject_id,
        complaints: current.complaints,
        key: Some(current.key),
        generation: current.generation,
        earlier_subjects: visible,
    }))
}

/// Body of `POST /v1/data-subjects/{id}/erasure`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// Why (the request's reference, the exemption decision).
    reason: String,
    /// The legal basis, e.g. `UK GDPR Art 17(1)(a)`.
    legal_basis: String,
}

/// What an erasure did.
#[derive(Debug, Serialize)]
pub struct ErasureReport {
    /// The data subject.
    pub subject_id: String,
    /// Erased now, before, or unknown.
    pub outcome: ErasureOutcome,
    /// The complaints whose fields of this person now read `"[erased]"`.
    pub complaints: Vec<SubjectComplaint>,
    /// The key record after the erasure.
    pub key: Option<SubjectRecord>,
}

/// Who acts, for the access log.
pub struct Actor<'a> {
    /// Token subject or operator name.
    pub actor: &'a str,
    /// Role name.
    pub role: &'a str,
    /// Correlation id.
    pub correlation_id: Option<&'a str>,
}

async fn log_access(
    cases: &Cases,
    actor: &Actor<'_>,
    complaints: &[SubjectComplaint],
    action: &str,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    for complaint in complaints {
        let access = access_log::Access {
            at,
            actor: actor.actor,
            role: actor.role,
            organisation_id: &complaint.organisation_id,
            complaint_id: &complaint.complaint_id,
            action,
            correlation_id: actor.correlation_id,
        };
        access_log::record(cases.log().pool(), &access).await?;
    }
    Ok(())
}

/// Destroys `subject_id`'s data key: every field of that person in every stored event then
/// reads `"[erased]"`. Recorded in the key table (who, why, legal basis) and, per complaint,
/// in the access log as `data-subject-erased:<id>`.
pub async fn erase_subject(
    cases: &Cases,
    subject_id: &str,
    erasure: &Erasure,
    actor: &Actor<'_>,
) -> Result<ErasureReport, ApiError> {
    let pool = cases.log().pool();
    if erasure.reason.trim().is_empty() || erasure.legal_basis.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "an erasure needs a reason and a legal basis".into(),
        ));
    }
    let complaints = keys::complaints_of(pool, subject_id)
        .await
        .map_err(key_error)?;
    let outcome = keys::erase(pool, subject_id, erasure)
        .await
        .map_err(key_error)?;
    if outcome == ErasureOutcome::Unknown {
        return Err(ApiError::NotFound);
    }
    if outcome == ErasureOutcome::Erased {
        log_access(
            cases,
            actor,
            &complaints,
            &format!("data-subject-erased:{subject_id}"),
            erasure.at,
        )
        .await?;
        tracing::info!(
            subject_id,
            complaints = complaints.len(),
            "data subject erased"
        );
    }
    let key = keys::subject_record(pool, subject_id)
        .await
        .map_err(key_error)?;
    Ok(ErasureReport {
        subject_id: subject_id.to_string(),
        outcome,
        complaints,
        key,
    })
}

async fn erasure(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Json<ErasureReport>, ApiError> {
    let role = caller.require(DATA_PROTECTION_ROLES)?;
    let request: ErasureRequest = body.parse()?;
    let complaints = keys::complaints_of(state.cases.log().pool(), &id)
        .await
        .map_err(key_error)?;
    if complaints.is_empty() {
        return Err(ApiError::NotFound);
    }
    if let Some(other) = complaints
        .iter()
        .find(|c| !caller.acts_for(&c.organisation_id))
    {
        return Err(ApiError::Forbidden(format!(
            "the data subject is also named in a complaint of {}",
            other.organisation_id
        )));
    }
    let erasure = Erasure {
        by: caller.subject.clone(),
        reason: request.reason,
        legal_basis: request.legal_basis,
        at: state.now(),
    };
    let actor = Actor {
        actor: &caller.subject,
        role: role.name(),
        correlation_id: None,
    };
    Ok(Json(
        erase_subject(&state.cases, &id, &erasure, &actor).await?,
    ))
}

/// Everything held about the person `subject_id` belongs to across the complaints of
/// `organisations` (all when `None`), as one readable document: the fields of `subject_id`
/// and of every generation of the person not erased (data they gave afresh after an
/// erasure), with the key records of the generations. Recorded in the access log as
/// `subject-access-export`.
pub async fn subject_access(
    cases: &Cases,
    subject_id: &str,
    organisations: Option<&[String]>,
    actor: &Actor<'_>,
    at: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let pool = cases.log().pool();
    let generations = keys::generations_of(pool, subject_id)
        .await
        .map_err(key_error)?;
    let Some(key) = generations
        .iter()
        .find(|g| g.subject_id == subject_id)
        .cloned()
    else {
        return Err(ApiError::NotFound);
    };
    let ids: Vec<String> = generations.iter().map(|g| g.subject_id.clone()).collect();
    let named: Vec<(String, SubjectComplaint)> = keys::complaints_of_subjects(pool, &ids)
        .await
        .map_err(key_error)?
        .into_iter()
        .filter(|(_, c)| organisations.is_none_or(|orgs| orgs.contains(&c.organisation_id)))
        .collect();
    let exported = |subject: &str| {
        subject == subject_id
            || generations
                .iter()
                .any(|g| g.subject_id == subject && g.erased_at.is_none())
    };
    let (included, erased_only): (Vec<_>, Vec<_>) =
        named.into_iter().partition(|(s, _)| exported(s));
    if included.is_empty() {
        return Err(ApiError::NotFound);
    }
    let listed: Vec<&SubjectRecord> = generations
        .iter()
        .filter(|g| {
            included
                .iter()
                .chain(&erased_only)
                .any(|(s, _)| *s == g.subject_id)
        })
        .collect();
    let complaints: Vec<SubjectComplaint> = included.iter().map(|(_, c)| c.clone()).collect();
    log_access(cases, actor, &complaints, "subject-access-export", at).await?;
    let complaint_ids: Vec<String> = complaints.iter().map(|c| c.complaint_id.clone()).collect();
    let recorded = keys::subjects_of_complaints(pool, &complaint_ids)
        .await
        .map_err(key_error)?;
    let mut out = Vec::new();
    for (subject, complaint) in &included {
        let subjects = recorded
            .get(&complaint.complaint_id)
            .cloned()
            .unwrap_or_default();
        let events = complaints_eventlog::read_stream(pool, &complaint.complaint_id).await?;
        let mut records = Vec::new();
        for event in &events {
            let payload =
                serde_json::to_value(&event.event).map_err(|e| ApiError::Internal(e.into()))?;
            let fields = personal_fields_of(
                &event.event_type,
                &event.event_version,
                &payload,
                &subjects,
                subject,
            );
            if fields.is_empty() {
                continue;
            }
            let prefix = format!("/{}/", event.event_type);
            let mut map = Map::new();
            for (path, value) in fields {
                let readable = path
                    .strip_prefix(&prefix)
                    .unwrap_or(&path)
                    .replace('/', ".");
                map.insert(readable, value);
            }
            records.push(json!({
                "sequence": event.sequence,
                "event_type": event.event_type,
                "recorded_at": event.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "fields": map,
            }));
        }
        out.push(json!({
            "complaint_id": complaint.complaint_id,
            "organisation_id": complaint.organisation_id,
            "role": complaint.role,
            "subject_id": subject,
            "records": records,
        }));
    }
    Ok(json!({
        "kind": "subject-access-export/v1",
        "subject_id": subject_id,
        "generated_at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "key": key,
        "generations": listed,
        "note": "Fields of this person in every complaint held, as recorded, under every generation of theirs not erased; free text the person wrote as complainant is included. \"[erased]\" marks data destroyed by erasure or retention; `generations` lists the person's keys, erased ones included.",
        "complaints": out,
    }))
}

async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let role = caller.require(DATA_PROTECTION_ROLES)?;
    let actor = Actor {
        actor: &caller.subject,
        role: role.name(),
        correlation_id: None,
    };
    let document = subject_access(
        &state.cases,
        &id,
        Some(&caller.organisations),
        &actor,
        state.now(),
    )
    .await?;
    Ok(Json(document))
}
