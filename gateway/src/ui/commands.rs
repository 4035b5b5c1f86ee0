//! `POST /ui/complaints/{id}/{command}`: a case page form, run through the shared runner as
//! `POST /v1/complaints/{id}/{command}` with `If-Match` (the version the page showed) and an
//! idempotency key from the form. Success redirects to the case page, which names what was
//! recorded and the flags the complaint now carries (R-FACT-1); a refusal shows the page
//! again with the form as submitted and the rule's words at the field it names.

use super::case::{build_case_page, CaseQuery, Refusal};
use super::forms::{self, FormView};
use super::{correlation_id, PageError};
use crate::app::clock::london_date;
use crate::app::runner::{self, Invocation};
use crate::app::state::AppState;
use crate::error::ApiError;
use crate::ui::session::Session;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/ui/complaints/{id}/{command}", post(run_form))
}

/// What the page says of a refusal: the message, the field it names, the rule's code.
/// `None` for what the API answers with an error of its own (not found, not allowed,
/// unavailable), which the pages show as an error page too.
fn in_words(refusal: &ApiError) -> Option<(String, Option<String>, Option<String>)> {
    Some(match refusal {
        ApiError::Rule(rule) => (
            rule.to_string(),
            rule.field().map(str::to_string),
            Some(rule.code().to_string()),
        ),
        ApiError::Validation { detail, errors } => match errors.first() {
            Some(e) => (e.message.clone(), Some(e.field.clone()), None),
            None => (detail.clone(), None, None),
        },
        ApiError::PreconditionFailed { .. } | ApiError::Conflict => (
            "The complaint changed since this page was opened. The page now shows it as it \
             stands; check it and try again."
                .into(),
            None,
            None,
        ),
        ApiError::IdempotencyKeyReused => (
            "This form was already sent with other values. Reload the page and try again.".into(),
            None,
            None,
        ),
        _ => return None,
    })
}

async fn run_form(
    State(state): State<AppState>,
    session: Session,
    Path((id, command)): Path<(String, String)>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    session.check_form(forms::value(&pairs, "csrf").unwrap_or_default(), &headers)?;
    let form = forms::find(&command).ok_or(ApiError::NotFound)?;
    let version = forms::value(&pairs, "version").and_then(|v| v.trim().parse().ok());
    let command_id = forms::value(&pairs, "command_id")
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.len() <= 64)
        .map(str::to_string);
    let today = london_date(state.now());
    // A required field left empty is refused here, in the form's words, before the runner.
    let body = match forms::body(form, &pairs) {
        Ok(body) => body,
        Err(problems) => {
            let (current, _) = runner::case_access(&state.cases, &session.caller, &id).await?;
            let mut view = FormView::new(form, &current.id, current.version, today, Some(&pairs));
            view.command_id = command_id.unwrap_or_else(forms::new_command_id);
            let items: Vec<(String, String)> = problems
                .iter()
                .map(|(field, message)| {
                    let (href, shown) = view.refuse(Some(field), message);
                    (shown, href)
                })
                .collect();
            view.error = items.first().map(|(m, _)| m.clone());
            let refusal = Refusal {
                title: format!("{} was not recorded", form.what),
                items,
                rule: None,
            };
            return answer(
                &state,
                &session,
                &id,
                &headers,
                view,
                refusal,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let body = serde_json::to_vec(&body)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot encode the form: {e}")))?;
    let invocation = Invocation {
        command: form.command,
        complaint_id: Some(&id),
        body: &body,
        command_id: command_id.clone(),
        expected_version: version,
        correlation_id: correlation_id(&headers),
        causation_id: None,
        channel_organisation: None,
        issued_at: state.now(),
    };
    let refusal = match runner::run(&state.cases, &session.caller, &invocation).await {
        Ok(ran) => {
            let mut response = Redirect::to(&format!(
                "/ui/complaints/{}?done={}",
                ran.state.id, form.command
            ))
            .into_response();
            *response.status_mut() = StatusCode::SEE_OTHER;
            return Ok(response);
        }
        Err(error) => error,
    };
    let Some((message, field, rule)) = in_words(&refusal) else {
        return Err(refusal.into());
    };
    let stale = matches!(
        refusal,
        ApiError::PreconditionFailed { .. } | ApiError::Conflict
    );
    let (current, _) = runner::case_access(&state.cases, &session.caller, &id).await?;
    let mut view = FormView::new(form, &current.id, current.version, today, Some(&pairs));
    // A stale form is sent again as a new command; a refused one may keep its key, since
    // nothing was recorded under it.
    if !stale {
        if let Some(key) = command_id {
            view.command_id = key;
        }
    }
    let (href, shown) = view.refuse(field.as_deref(), &message);
    view.error = Some(shown.clone());
    view.rule = rule.clone();
    let refusal_shown = Refusal {
        title: format!("{} was not recorded", form.what),
        items: vec![(shown, href)],
        rule,
    };
    answer(
        &state,
        &session,
        &id,
        &headers,
        view,
        refusal_shown,
        refusal.status(),
    )
    .await
}

/// The case page with the refused form; htmx swaps only successful answers, so a boosted
/// form gets it with 200.
async fn answer(
    state: &AppState,
    session: &Session,
    id: &str,
    headers: &HeaderMap,
    view: FormView,
    refusal: Refusal,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut response = build_case_page(
        state,
        session,
        id,
        &CaseQuery::default(),
        headers,
        Some((view, refusal)),
    )
    .await?;
    if !headers.contains_key("hx-request") {
        *response.status_mut() = status;
    }
    Ok(response)
}
