//! "Verify this case" (`/ui/audit/verify?complaint_id=…`, auditor role): checks one
//! complaint's events against the audit hash chain with the audit crate's own hashing, as
//! `complaints verify` does for the whole log. Each event's leaf is recomputed from the
//! event as stored and compared with its sealed leaf; each of its links must follow from
//! the link before it; and the chain is walked from the case's last link to the head, which
//! is signed (and checked against the witnessed checkpoints) by the notary. A changed,
//! removed or moved event of the case, or a rewritten chain after it, shows as a break.
//! The page shows event types, times and hashes, no personal data, so it is not a read of
//! the complaint for the access log (R-CAL-1).

use super::{day, humanise_type, instant, page, Chrome, PageError};
use crate::app::runner;
use crate::app::state::AppState;
use crate::error::ApiError;
use crate::http::audit::{keys, ACCESS_LOG_ROLES};
use crate::ui::session::Session;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use complaints_audit::canonical::LeafInput;
use complaints_audit::{checkpoint_head, from_hex, link_hash, sealer, to_hex, Hash, ZERO_LINK};
use complaints_eventlog::{read_stream, Pool};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/ui/audit/verify", get(verify_case))
}

/// The most links walked from the case to the head on one request; beyond that the page
/// says so and points to `complaints verify`, which streams the whole log.
const MAX_WALK: i64 = 200_000;
/// Links read per query while walking.
const WALK_PAGE: i64 = 1000;

#[derive(Debug, Deserialize)]
struct VerifyQuery {
    complaint_id: Option<String>,
}

/// One event of the case and what the check found.
struct EventCheck {
    sequence: i64,
    what: String,
    recorded: String,
    chain_index: String,
    outcome: String,
    ok: bool,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    chrome: Chrome,
    complaint_id: String,
    short_id: String,
    /// Whether nothing broke.
    intact: bool,
    headline: String,
    details: Vec<String>,
    events: Vec<EventCheck>,
}

/// The link before `chain_index` (the zero link before the first).
async fn previous_link(pool: &Pool, chain_index: i64) -> Result<Option<Hash>, ApiError> {
    if chain_index <= 1 {
        return Ok(Some(ZERO_LINK));
    }
    Ok(sealer::link_at(pool, chain_index - 1)
        .await?
        .and_then(|l| from_hex(&l.link_hash)))
}

/// Walks the stored chain from `(index, link)` to `head_index`, recomputing each link from
/// the one before and its stored leaf. `Ok(None)` when the walk was cut at [`MAX_WALK`].
async fn walk_to_head(
    pool: &Pool,
    mut index: i64,
    mut link: Hash,
    head_index: i64,
) -> Result<Result<Option<Hash>, String>, ApiError> {
    let start = index;
    while index < head_index {
        if index - start >= MAX_WALK {
            return Ok(Ok(None));
        }
        let links = sealer::links_after(pool, index, WALK_PAGE).await?;
        if links.is_empty() {
            return Ok(Err(format!(
                "the chain ends at index {index}, before its head at {head_index}"
            )));
        }
        for stored in links.iter().take_while(|l| l.chain_index <= head_index) {
            if stored.chain_index != index + 1 {
                return Ok(Err(format!(
                    "the chain jumps from index {index} to {}",
                    stored.chain_index
                )));
            }
            let Some(leaf) = from_hex(&stored.leaf_hash) else {
                return Ok(Err(format!(
                    "the leaf at chain index {} is not a hash",
                    stored.chain_index
                )));
            };
            link = link_hash(&link, &leaf);
            if to_hex(&link) != stored.link_hash {
                return Ok(Err(format!(
                    "the stored link at chain index {} does not follow from the link before it",
                    stored.chain_index
                )));
            }
            index = stored.chain_index;
        }
        if links.last().is_some_and(|l| l.chain_index >= head_index) {
            break;
        }
    }
    Ok(Ok(Some(link)))
}

async fn verify_case(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<VerifyQuery>,
) -> Result<Response, PageError> {
    page(&check(&state, &session, &query).await?)
}

async fn check(
    state: &AppState,
    session: &Session,
    query: &VerifyQuery,
) -> Result<VerifyPage, ApiError> {
    let caller = &session.caller;
    caller.require(ACCESS_LOG_ROLES)?;
    let raw_id = query
        .complaint_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::BadRequest("give the complaint id to verify".into()))?;
    // Another organisation's complaint is not found, as everywhere.
    let found = runner::visible_case(&state.cases, caller, raw_id).await?;
    let pool = state.cases.log().pool();
    let mut links = sealer::links_of_complaint(pool, &found.id).await?;
    let sealed_head = sealer::head(pool).await?;
    let mut breaks = Vec::new();
    let mut details = Vec::new();
    let mut checks = Vec::new();
    let events = match read_stream(pool, &found.id).await {
        Ok(events) => events,
        Err(error) => {
            breaks.push(format!("the case's events cannot be read: {error}"));
            Vec::new()
        }
    };
    let mut unsealed = 0usize;
    let mut last_index: Option<i64> = None;
    for event in &events {
        let link = links
            .iter()
            .position(|l| l.sequence == event.sequence)
            .map(|i| links.remove(i));
        let (chain_index, outcome, ok) = match link {
            None if sealed_head
                .as_ref()
                .is_none_or(|h| event.checkpoint.position > h.position) =>
            {
                unsealed += 1;
                (String::new(), "Not sealed yet".to_string(), true)
            }
            None => (
                String::new(),
                "Never sealed, though the chain has passed its place in the log".to_string(),
                false,
            ),
            Some(link) => {
                last_index = last_index.max(Some(link.chain_index));
                let leaf = LeafInput::of(event).leaf();
                let outcome = if to_hex(&leaf) != link.leaf_hash {
                    Err("The event is not the one sealed: its leaf hash differs".to_string())
                } else if link.position != event.checkpoint.position {
                    Err(format!(
                        "Sealed at log position {}, now at {}",
                        link.position, event.checkpoint.position
                    ))
                } else {
                    match previous_link(pool, link.chain_index).await? {
                        Some(before) if to_hex(&link_hash(&before, &leaf)) == link.link_hash => {
                            Ok("Matches its seal".to_string())
                        }
                        Some(_) => Err(
                            "Its link does not follow from the link before it and the event"
                                .to_string(),
                        ),
                        None => Err("The link before it is missing from the chain".to_string()),
                    }
                };
                let ok = outcome.is_ok();
                (
                    link.chain_index.to_string(),
                    outcome.unwrap_or_else(|e| e),
                    ok,
                )
            }
        };
        if !ok {
            breaks.push(format!(
                "event {}: {}",
                event.sequence,
                outcome.to_lowercase()
            ));
        }
        checks.push(EventCheck {
            sequence: event.sequence,
            what: humanise_type(&event.event_type),
            recorded: instant(event.recorded_at),
            chain_index,
            outcome,
            ok,
        });
    }
    for gone in &links {
        breaks.push(format!(
            "event {} was sealed at chain index {} but is no longer in the log",
            gone.sequence, gone.chain_index
        ));
    }
    // The case's last sealed link must lead to the signed head.
    let last = match last_index {
        Some(index) => sealer::link_at(pool, index).await?,
        None => None,
    };
    match keys(state) {
        Err(error) => details.push(format!("No signed head to check against: {error}.")),
        Ok(keys) => match checkpoint_head(pool, keys, &state.witnesses, state.now()).await {
            Err(error) => breaks.push(format!("the chain's head cannot be signed: {error}")),
            Ok(head) => {
                if let Err(why) = head.verify() {
                    breaks.push(format!("the signed head does not verify: {why}"));
                }
                let signed = chrono::DateTime::parse_from_rfc3339(&head.signed_at)
                    .map(|t| instant(t.with_timezone(&chrono::Utc)))
                    .unwrap_or_else(|_| head.signed_at.clone());
                if let Some(last) = last.filter(|l| l.chain_index <= head.chain_index) {
                    match from_hex(&last.link_hash) {
                        None => breaks.push("the case's last link is not a hash".into()),
                        Some(link) => {
                            match walk_to_head(pool, last.chain_index, link, head.chain_index)
                                .await?
                            {
                                Ok(Some(walked)) if to_hex(&walked) == head.link => details.push(
                                    format!(
                                        "The chain leads from the case's last event (chain index {}) to the head at chain index {}, signed on {signed}.",
                                        last.chain_index, head.chain_index
                                    ),
                                ),
                                Ok(Some(_)) => breaks.push(format!(
                                    "the chain from the case does not lead to the signed head at chain index {}",
                                    head.chain_index
                                )),
                                Ok(None) => details.push(format!(
                                    "The chain after the case is longer than {MAX_WALK} links and was not walked to the head here; complaints verify checks the whole log."
                                )),
                                Err(why) => breaks.push(why),
                            }
                        }
                    }
                }
                details.push(format!(
                    "The head is signed with key {}…; keep checkpoints outside the service and check the log against them with complaints verify --against.",
                    head.public_key.chars().take(16).collect::<String>()
                ));
            }
        },
    }
    if unsealed > 0 {
        details.insert(
            0,
            format!(
                "{unsealed} newer event(s) are not sealed yet: the sealer has not reached them."
            ),
        );
    }
    let intact = breaks.is_empty();
    let headline = if intact {
        format!(
            "Verified: the case's {} event(s) match the audit chain (checked {}).",
            checks.len(),
            day(crate::app::clock::london_date(state.now()))
        )
    } else {
        format!(
            "The audit chain is broken for this case: {}.",
            breaks.join("; ")
        )
    };
    if !intact {
        tracing::error!(complaint_id = %found.id, breaks = ?breaks, "a case failed verification against the audit chain");
    }
    Ok(VerifyPage {
        chrome: Chrome::new(session, "audit"),
        short_id: found.id.chars().take(8).collect(),
        complaint_id: found.id,
        intact,
        headline,
        details,
        events: checks,
    })
}
