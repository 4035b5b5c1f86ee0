//! The organisation register over HTTP (R-SCOPE-1, R-SCOPE-4): read by anyone acting for
//! an organisation, changed by the `administrator` role, each change an event kept
//! append-only with who made it.

use crate::app::state::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::http::JsonBody;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use complaints_domain::{Ombudsman, Organisation, RegisterChange, ReturnCollection, Sector};
use complaints_eventlog::register::{self, RecordedChange};
use serde::{Deserialize, Serialize};

/// Roles that may change the register.
pub(crate) const ADMINISTRATOR_ROLES: &[Role] = &[Role::Administrator];

/// The register routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/organisations", get(list))
        .route("/v1/organisations/{id}", get(read).put(record))
        .route("/v1/organisations/{id}/history", get(history))
}

/// An organisation as registered, with what the rules derive from it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct OrganisationView {
    /// The record.
    #[serde(flatten)]
    pub organisation: Organisation,
    /// The sectors in force (as registered, else from its type).
    pub sectors_in_force: Vec<Sector>,
    /// The ombudsmen its responses must name (R-RESP-2 (iv), R-OMB-3).
    pub ombudsmen: Vec<Ombudsman>,
    /// The national return it makes, if any (R-KO-1, R-KO-8).
    pub return_collection: Option<ReturnCollection>,
}

impl OrganisationView {
    fn of(organisation: Organisation) -> Self {
        Self {
            sectors_in_force: organisation.sectors(),
            ombudsmen: organisation.ombudsmen(),
            return_collection: organisation.return_collection(),
            organisation,
        }
    }
}

/// `GET /v1/organisations`: the organisations the caller acts for (every one for an
/// administrator).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct OrganisationList {
    /// Organisations, by id.
    pub items: Vec<OrganisationView>,
}

/// Body of `PUT /v1/organisations/{id}`: the whole record as it is to stand.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOrganisation {
    /// The record; its `id` must be the one in the path.
    pub organisation: Organisation,
    /// The day the change takes effect; today when not said.
    #[serde(default)]
    pub effective_on: Option<chrono::NaiveDate>,
}

/// `GET /v1/organisations/{id}/history`: every change, oldest first.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct OrganisationHistory {
    /// The changes.
    pub items: Vec<RecordedChange>,
}

fn may_see(caller: &Caller, id: &str) -> bool {
    caller.acts_for(id) || caller.roles.contains(&Role::Administrator)
}

/// Any role reads the register; a token with none reads nothing.
fn require_a_role(caller: &Caller) -> Result<(), ApiError> {
    caller.require(&Role::ALL).map(|_| ())
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<OrganisationList>, ApiError> {
    require_a_role(&caller)?;
    let register = state.cases.services().register.current();
    let items = register
        .organisations
        .iter()
        .filter(|o| may_see(&caller, &o.id))
        .cloned()
        .map(OrganisationView::of)
        .collect();
    Ok(Json(OrganisationList { items }))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrganisationView>, ApiError> {
    require_a_role(&caller)?;
    if !may_see(&caller, &id) {
        return Err(ApiError::NotFound);
    }
    state
        .cases
        .services()
        .organisation(&id)
        .map(|o| Json(OrganisationView::of(o)))
        .ok_or(ApiError::NotFound)
}

async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrganisationHistory>, ApiError> {
    require_a_role(&caller)?;
    if !may_see(&caller, &id) {
        return Err(ApiError::NotFound);
    }
    let items = register::history(state.cases.log().pool(), Some(&id)).await?;
    Ok(Json(OrganisationHistory { items }))
}

/// Records an organisation (new, or its record replaced) as an event, then reloads the
/// register from the log so changes made through other gateways are in force here too.
async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Json<OrganisationView>, ApiError> {
    caller.require(ADMINISTRATOR_ROLES)?;
    // An administrator keeps the records of the organisations it acts for, no others.
    if !caller.acts_for(&id) {
        return Err(ApiError::Forbidden(
            "the token does not act for this organisation".into(),
        ));
    }
    let body: RecordOrganisation = body.parse()?;
    if body.organisation.id != id {
        return Err(ApiError::Rule(
            complaints_domain::ComplaintError::InvalidField {
                field: "organisation.id",
                reason: "must be the id in the path".into(),
            },
        ));
    }
    body.organisation.validate()?;
    let today = crate::app::clock::london_date(state.now());
    let effective_on = body.effective_on.unwrap_or(today);
    let change = RegisterChange::OrganisationRecorded {
        organisation: body.organisation,
        effective_on,
    };
    let pool = state.cases.log().pool();
    register::append(pool, &change, &caller.subject).await?;
    refresh(&state).await?;
    tracing::info!(organisation_id = %id, actor = %caller.subject, "organisation register changed");
    state
        .cases
        .services()
        .organisation(&id)
        .map(|o| Json(OrganisationView::of(o)))
        .ok_or(ApiError::NotFound)
}

/// Reloads the register in force from the configured start and the recorded changes.
pub(crate) async fn refresh(state: &AppState) -> Result<(), ApiError> {
    let services = state.cases.services();
    let loaded = register::load(state.cases.log().pool(), services.register.starting()).await?;
    services.register.replace(loaded);
    Ok(())
}
