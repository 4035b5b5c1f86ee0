//! Recomputing the chain from the log and comparing it with the stored links and with
//! checkpoints kept elsewhere: the check behind `complaints verify`.

use crate::canonical::{link_hash, raw_leaf, to_hex, Hash, ZERO_LINK};
use crate::sealer::CHAIN;
use crate::sealer::{links_after, ChainLink};
use crate::AuditError;
use complaints_eventlog::{backlog, on_pool, read_raw_after, Checkpoint, Pool, Progress, RawEvent};
use serde::Serialize;
use std::collections::VecDeque;

// ---------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------

/// A point of the chain recorded outside the database (a signed checkpoint whose signature
/// the caller has checked): the log must still lead to this link at this index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// Chain index.
    pub chain_index: i64,
    /// Global position of the event there.
    pub position: i64,
    /// The link there.
    pub link: Hash,
}

/// Why the chain breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// The event at this position is not what was sealed (its leaf differs, or it can no
    /// longer be read).
    Altered,
    /// A sealed event is missing from the log.
    Removed,
    /// The log has an event the chain does not have at this place.
    Inserted,
    /// A sealed event appears elsewhere in the log order than where it was sealed.
    Reordered,
    /// The stored link does not follow from the previous link and the leaf (the chain table
    /// itself was changed).
    LinkAltered,
    /// The log does not lead to the link of a signed checkpoint (rewritten, links and all).
    CheckpointMismatch,
}

impl BreakKind {
    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            BreakKind::Altered => "event altered",
            BreakKind::Removed => "event removed",
            BreakKind::Inserted => "event inserted",
            BreakKind::Reordered => "events reordered",
            BreakKind::LinkAltered => "link altered",
            BreakKind::CheckpointMismatch => "checkpoint mismatch",
        }
    }
}

/// The first place the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// Why.
    pub kind: BreakKind,
    /// The global position named.
    pub position: i64,
    /// The chain index where it was found.
    pub chain_index: i64,
    /// What was found.
    pub detail: String,
}

/// A chain that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// Events read from the log.
    pub events: u64,
    /// Of them, sealed and matching their links.
    pub sealed: u64,
    /// The last sealed link (index, position, hash), if any.
    pub head: Option<(i64, i64, String)>,
    /// Events in the log after the sealed head (the sealer has not reached them yet).
    pub unsealed: u64,
    /// Checkpoints the recomputed chain was found to lead to.
    pub anchors_matched: usize,
}

/// The outcome of [`verify_chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every sealed event matches the log.
    Intact(Verified),
    /// The first break.
    Broken(ChainBreak),
}

/// Where an event sits in the log, or `None` if it is not there.
async fn position_in_log(
    pool: &Pool,
    complaint_id: &str,
    sequence: i64,
) -> Result<Option<i64>, AuditError> {
    Ok(on_pool!(pool, |p| sqlx::query_scalar(
        "SELECT global_position FROM events WHERE aggregate_id = $1 AND sequence = $2"
    )
    .bind(complaint_id)
    .bind(sequence)
    .fetch_optional(p)
    .await?))
}

async fn chain_index_of(
    pool: &Pool,
    complaint_id: &str,
    sequence: i64,
) -> Result<Option<i64>, AuditError> {
    let sql = format!("SELECT chain_index FROM {CHAIN} WHERE complaint_id = $1 AND sequence = $2");
    Ok(on_pool!(pool, |p| sqlx::query_scalar(&sql)
        .bind(complaint_id)
        .bind(sequence)
        .fetch_optional(p)
        .await?))
}

/// What a mismatch between the sealed event and the log's event at one chain index means.
/// `sealed_in_log`: where the sealed event is in the log now, if anywhere;
/// `logged_is_sealed`: whether the log's event is sealed anywhere.
pub fn classify(
    chain_index: i64,
    sealed: &ChainLink,
    logged: &RawEvent,
    sealed_in_log: Option<i64>,
    logged_is_sealed: bool,
) -> ChainBreak {
    let who = |c: &str, s: i64| format!("complaint {c} sequence {s}");
    let sealed_who = who(&sealed.complaint_id, sealed.sequence);
    let logged_who = who(&logged.complaint_id, logged.sequence);
    match (sealed_in_log, logged_is_sealed) {
        (None, _) => ChainBreak {
            kind: BreakKind::Removed,
            position: sealed.position,
            chain_index,
            detail: format!(
                "the event sealed at chain index {chain_index} (position {}, {sealed_who}) is missing from the log",
                sealed.position
            ),
        },
        (Some(_), false) => ChainBreak {
            kind: BreakKind::Inserted,
            position: logged.checkpoint.position,
            chain_index,
            detail: format!(
                "the log has an event at position {} ({logged_who}) that was never sealed; chain index {chain_index} sealed position {} ({sealed_who})",
                logged.checkpoint.position, sealed.position
            ),
        },
        (Some(now_at), true) => ChainBreak {
            kind: BreakKind::Reordered,
            position: sealed.position,
            chain_index,
            detail: if now_at == sealed.position {
                format!(
                    "the event sealed at chain index {chain_index} (position {}, {sealed_who}) comes later in the log order; position {} ({logged_who}) comes first",
                    sealed.position, logged.checkpoint.position
                )
            } else {
                format!(
                    "the event sealed at chain index {chain_index} (position {}, {sealed_who}) is now at position {now_at}",
                    sealed.position
                )
            },
        },
    }
}

/// Recomputes the chain from the log in commit-safe order, streaming (pages of `page`
/// events, whatever the log's size), and compares it with the stored links and with
/// `anchors`. Returns the first break, or what verified.
pub async fn verify_chain(
    pool: &Pool,
    anchors: &[Anchor],
    page: i64,
    progress: Progress<'_>,
) -> Result<Verification, AuditError> {
    let total = {
        let mut tx = pool.begin().await?;
        let (total, _) = backlog(&mut tx, Checkpoint::default()).await?;
        tx.rollback().await?;
        total.max(0) as u64
    };
    let mut anchors: Vec<Anchor> = anchors.to_vec();
    anchors.sort_by_key(|a| a.chain_index);
    let mut anchors: VecDeque<Anchor> = anchors.into();
    let mut anchors_matched = 0;

    let mut computed = ZERO_LINK;
    let mut index: i64 = 0;
    let mut after = Checkpoint::default();
    let mut stored: VecDeque<ChainLink> = VecDeque::new();
    let mut stored_after: i64 = 0;
    let mut stored_done = false;
    let mut sealed: u64 = 0;
    let mut unsealed: u64 = 0;
    let mut head: Option<(i64, i64, String)> = None;

    loop {
        let events = {
            let mut tx = pool.begin().await?;
            let events = read_raw_after(&mut tx, after, page).await?;
            tx.rollback().await?;
            events
        };
        let Some(last) = events.last().map(|e| e.checkpoint) else {
            break;
        };
        for event in &events {
            index += 1;
            if stored.is_empty() && !stored_done {
                let next = links_after(pool, stored_after, page).await?;
                match next.last() {
                    Some(l) => stored_after = l.chain_index,
                    None => stored_done = true,
                }
                stored.extend(next);
            }
            let leaf = raw_leaf(event);
            match stored.pop_front() {
                None => {
                    // Past the sealed head: nothing to compare but anchors.
                    let leaf = match leaf {
                        Ok(leaf) => leaf,
                        Err(why) => {
                            return Ok(Verification::Broken(ChainBreak {
                                kind: BreakKind::Altered,
                                position: event.checkpoint.position,
                                chain_index: index,
                                detail: format!(
                                    "the event at position {} cannot be read: {why}",
                                    event.checkpoint.position
                                ),
                            }))
                        }
                    };
                    computed = link_hash(&computed, &leaf);
                    unsealed += 1;
                }
                Some(link) => {
                    let same_event = link.complaint_id == event.complaint_id
                        && link.sequence == event.sequence
                        && link.position == event.checkpoint.position;
                    if !same_event {
                        let sealed_in_log =
                            position_in_log(pool, &link.complaint_id, link.sequence).await?;
                        let logged_is_sealed =
                            chain_index_of(pool, &event.complaint_id, event.sequence)
                                .await?
                                .is_some();
                        return Ok(Verification::Broken(classify(
                            index,
                            &link,
                            event,
                            sealed_in_log,
                            logged_is_sealed,
                        )));
                    }
                    let leaf = match leaf {
                        Ok(leaf) if to_hex(&leaf) == link.leaf_hash => leaf,
                        Ok(_) => {
                            return Ok(Verification::Broken(ChainBreak {
                                kind: BreakKind::Altered,
                                position: link.position,
                                chain_index: index,
                                detail: format!(
                                    "the event at position {} (complaint {} sequence {}) is not the event sealed at chain index {index}: its leaf hash differs",
                                    link.position, link.complaint_id, link.sequence
                                ),
                            }))
                        }
                        Err(why) => {
                            return Ok(Verification::Broken(ChainBreak {
                                kind: BreakKind::Altered,
                                position: link.position,
                                chain_index: index,
                                detail: format!(
                                    "the event at position {} (complaint {} sequence {}) cannot be read: {why}",
                                    link.position, link.complaint_id, link.sequence
                                ),
                            }))
                        }
                    };
                    computed = link_hash(&computed, &leaf);
                    if to_hex(&computed) != link.link_hash {
                        return Ok(Verification::Broken(ChainBreak {
                            kind: BreakKind::LinkAltered,
                            position: link.position,
                            chain_index: index,
                            detail: format!(
                                "the stored link at chain index {index} (position {}) does not follow from the previous link and the event",
                                link.position
                            ),
                        }));
                    }
                    sealed += 1;
                    head = Some((index, link.position, link.link_hash.clone()));
                }
            }
            while let Some(anchor) = anchors.front().copied() {
                if anchor.chain_index > index {
                    break;
                }
                anchors.pop_front();
                if anchor.chain_index == index
                    && anchor.position == event.checkpoint.position
                    && anchor.link == computed
                {
                    anchors_matched += 1;
                    continue;
                }
                return Ok(Verification::Broken(ChainBreak {
                    kind: BreakKind::CheckpointMismatch,
                    position: anchor.position,
                    chain_index: anchor.chain_index,
                    detail: format!(
                        "the log no longer leads to the signed checkpoint at chain index {} (position {}): the chain recomputed from the log has {} at position {} there; the log before it was rewritten",
                        anchor.chain_index,
                        anchor.position,
                        to_hex(&computed),
                        event.checkpoint.position
                    ),
                }));
            }
        }
        after = last;
        progress(index as u64, total.max(index as u64));
    }
    if stored.is_empty() && !stored_done {
        stored.extend(links_after(pool, stored_after, 1).await?);
    }
    if let Some(link) = stored.pop_front() {
        return Ok(Verification::Broken(ChainBreak {
            kind: BreakKind::Removed,
            position: link.position,
            chain_index: link.chain_index,
            detail: format!(
                "the log ends at chain index {index} but position {} (complaint {} sequence {}) was sealed at chain index {}",
                link.position, link.complaint_id, link.sequence, link.chain_index
            ),
        }));
    }
    if let Some(anchor) = anchors.front() {
        return Ok(Verification::Broken(ChainBreak {
            kind: BreakKind::CheckpointMismatch,
            position: anchor.position,
            chain_index: anchor.chain_index,
            detail: format!(
                "the log ends at chain index {index}, before the signed checkpoint at chain index {} (position {}): events were removed",
                anchor.chain_index, anchor.position
            ),
        }));
    }
    Ok(Verification::Intact(Verified {
        events: index as u64,
        sealed,
        head,
        unsealed,
        anchors_matched,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn link(position: i64, complaint: &str, sequence: i64) -> ChainLink {
        ChainLink {
            chain_index: 1,
            position,
            transaction_id: 0,
            complaint_id: complaint.into(),
            sequence,
            organisation_id: "RAL".into(),
            recorded_at: String::new(),
            leaf_hash: String::new(),
            link_hash: String::new(),
        }
    }

    fn raw(position: i64, complaint: &str, sequence: i64) -> RawEvent {
        RawEvent {
            checkpoint: Checkpoint {
                transaction_id: 0,
                position,
            },
            complaint_id: complaint.into(),
            sequence,
            event_type: "ComplaintAcknowledged".into(),
            event_version: "1.0".into(),
            payload: "{}".into(),
            metadata: "{}".into(),
            recorded_at: Ok(chrono::Utc::now()),
        }
    }

    #[test]
    fn a_sealed_event_gone_from_the_log_is_removed_at_its_position() {
        let found = classify(5, &link(5, "a", 2), &raw(6, "b", 1), None, true);
        assert_eq!((found.kind, found.position), (BreakKind::Removed, 5));
    }

    #[test]
    fn an_unsealed_event_in_the_sealed_range_is_inserted_at_its_position() {
        let found = classify(5, &link(5, "a", 2), &raw(9, "x", 1), Some(5), false);
        assert_eq!((found.kind, found.position), (BreakKind::Inserted, 9));
    }

    #[test]
    fn a_sealed_event_found_elsewhere_is_reordered_at_its_sealed_position() {
        let swapped = classify(5, &link(5, "a", 2), &raw(5, "b", 1), Some(6), true);
        assert_eq!((swapped.kind, swapped.position), (BreakKind::Reordered, 5));
        let moved = classify(5, &link(5, "a", 2), &raw(6, "b", 1), Some(5), true);
        assert_eq!((moved.kind, moved.position), (BreakKind::Reordered, 5));
    }
}
