// Just over 600 lines with its tests: the streaming comparison of chain and log.
//! Recomputing the chain from the log and comparing it with the stored links and with
//! checkpoints kept elsewhere: the check behind `complaints verify`.

use crate::canonical::{from_hex, link_hash, raw_leaf, to_hex, Hash, ZERO_LINK};
use crate::sealer::CHAIN;
use crate::sealer::{links_after, ChainLink};
use crate::AuditError;
use complaints_eventlog::{backlog, on_pool, read_raw_after, Checkpoint, Pool, Progress, RawEvent};
use serde::Serialize;
use std::collections::{HashSet, VecDeque};

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

/// One place the chain breaks.
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

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "position {}: {}: {}",
            self.position,
            self.kind.name(),
            self.detail
        )
    }
}

/// Breaks listed at most; a log broken in more places than this is listed up to here and
/// verification stops, so a wholesale rewrite cannot make `verify` run unbounded lookups.
pub const MAX_BREAKS: usize = 1000;

/// Every place the chain breaks, in chain order (never empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breaks {
    /// The breaks found, at most [`MAX_BREAKS`].
    pub found: Vec<ChainBreak>,
    /// Whether more breaks were found after the last one listed (verification stopped there).
    pub truncated: bool,
}

impl Breaks {
    /// Records a break; false once the list is full (a further break was found and cut).
    fn push(&mut self, found: ChainBreak) -> bool {
        if self.found.len() >= MAX_BREAKS {
            self.truncated = true;
            return false;
        }
        self.found.push(found);
        true
    }
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
    /// Every break, in chain order.
    Broken(Breaks),
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

/// An event's identity in both the log and the chain.
fn key_of_link(link: &ChainLink) -> (String, i64) {
    (link.complaint_id.clone(), link.sequence)
}

fn key_of_event(event: &RawEvent) -> (String, i64) {
    (event.complaint_id.clone(), event.sequence)
}

/// The stored links, read page by page as the log is walked.
struct StoredLinks<'p> {
    pool: &'p Pool,
    page: i64,
    buffer: VecDeque<ChainLink>,
    after: i64,
    done: bool,
}

impl StoredLinks<'_> {
    async fn front(&mut self) -> Result<Option<&ChainLink>, AuditError> {
        if self.buffer.is_empty() && !self.done {
            let next = links_after(self.pool, self.after, self.page).await?;
            match next.last() {
                Some(l) => self.after = l.chain_index,
                None => self.done = true,
            }
            self.buffer.extend(next);
        }
        Ok(self.buffer.front())
    }

    fn pop(&mut self) -> Option<ChainLink> {
        self.buffer.pop_front()
    }
}

/// The walk's state: where the recomputed chain stands and what has been found.
struct Walk {
    computed: Hash,
    index: i64,
    anchors: VecDeque<Anchor>,
    anchors_matched: usize,
    breaks: Breaks,
}

impl Walk {
    /// After a break, later links are checked against the stored chain so that one break
    /// is reported once rather than as every link after it.
    fn resync(&mut self, link: &ChainLink) {
        if let Some(stored) = from_hex(&link.link_hash) {
            self.computed = stored;
        }
        self.index = link.chain_index;
    }

    /// Checks the anchors up to the current index; false once the break list is full.
    fn check_anchors(&mut self, position: i64) -> bool {
        while let Some(anchor) = self.anchors.front().copied() {
            if anchor.chain_index > self.index {
                break;
            }
            self.anchors.pop_front();
            if anchor.chain_index == self.index
                && anchor.position == position
                && anchor.link == self.computed
            {
                self.anchors_matched += 1;
                continue;
            }
            let found = ChainBreak {
                kind: BreakKind::CheckpointMismatch,
                position: anchor.position,
                chain_index: anchor.chain_index,
                detail: format!(
                    "the log no longer leads to the signed checkpoint at chain index {} (position {}): the chain recomputed from the log has {} at position {position} there; the log before it was rewritten",
                    anchor.chain_index,
                    anchor.position,
                    to_hex(&self.computed),
                ),
            };
            if !self.breaks.push(found) {
                return false;
            }
        }
        true
    }
}

/// Recomputes the chain from the log in commit-safe order, streaming (pages of `page`
/// events, whatever the log's size), and compares it with the stored links and with
/// `anchors`. Returns every break (up to [`MAX_BREAKS`]), or what verified.
///
/// The log and the stored links are walked side by side. A sealed event missing from the
/// log is skipped on the chain side, an unsealed event in the sealed range on the log side;
/// two sealed events out of order are reported once, at the sealed one, and each is
/// passed over silently where the other side reaches it later.
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
    let mut sorted: Vec<Anchor> = anchors.to_vec();
    sorted.sort_by_key(|a| a.chain_index);
    let mut walk = Walk {
        computed: ZERO_LINK,
        index: 0,
        anchors: sorted.into(),
        anchors_matched: 0,
        breaks: Breaks {
            found: Vec::new(),
            truncated: false,
        },
    };
    let mut stored = StoredLinks {
        pool,
        page,
        buffer: VecDeque::new(),
        after: 0,
        done: false,
    };
    // Sealed events already reported out of place, still to come on the log side, and
    // log events already reported out of place, still to come on the chain side.
    let mut pending_in_log: HashSet<(String, i64)> = HashSet::new();
    let mut pending_in_chain: HashSet<(String, i64)> = HashSet::new();
    let mut after = Checkpoint::default();
    let mut read: u64 = 0;
    let mut sealed: u64 = 0;
    let mut unsealed: u64 = 0;
    let mut head: Option<(i64, i64, String)> = None;

    macro_rules! record {
        ($found:expr) => {
            if !walk.breaks.push($found) {
                return Ok(Verification::Broken(walk.breaks));
            }
        };
    }

    'pages: loop {
        let events = {
            let mut tx = pool.begin().await?;
            let events = read_raw_after(&mut tx, after, page).await?;
            tx.rollback().await?;
            events
        };
        let Some(last) = events.last().map(|e| e.checkpoint) else {
            break 'pages;
        };
        for event in &events {
            read += 1;
            if pending_in_log.remove(&key_of_event(event)) {
                continue;
            }
            let link = loop {
                let Some(front) = stored.front().await? else {
                    break None;
                };
                if pending_in_chain.remove(&key_of_link(front)) {
                    if let Some(skipped) = stored.pop() {
                        walk.resync(&skipped);
                        if !walk.check_anchors(skipped.position) {
                            return Ok(Verification::Broken(walk.breaks));
                        }
                    }
                    continue;
                }
                let same_event = front.complaint_id == event.complaint_id
                    && front.sequence == event.sequence
                    && front.position == event.checkpoint.position;
                if same_event {
                    break stored.pop().map(Some);
                }
                let (front_key, front_index) = (key_of_link(front), front.chain_index);
                let sealed_in_log = position_in_log(pool, &front_key.0, front_key.1).await?;
                let logged_is_sealed = chain_index_of(pool, &event.complaint_id, event.sequence)
                    .await?
                    .is_some();
                let Some(link) = stored.pop() else {
                    break None;
                };
                record!(classify(
                    front_index,
                    &link,
                    event,
                    sealed_in_log,
                    logged_is_sealed
                ));
                match (sealed_in_log, logged_is_sealed) {
                    // The sealed event is gone: pass its link, compare this event again.
                    (None, _) => {
                        walk.resync(&link);
                        if !walk.check_anchors(link.position) {
                            return Ok(Verification::Broken(walk.breaks));
                        }
                    }
                    // This event was never sealed: put the link back and move on in the log.
                    (Some(_), false) => {
                        stored.buffer.push_front(link);
                        break Some(None);
                    }
                    // Both are sealed, out of order: each is passed when the other side
                    // reaches it.
                    (Some(_), true) => {
                        pending_in_log.insert(key_of_link(&link));
                        pending_in_chain.insert(key_of_event(event));
                        walk.resync(&link);
                        if !walk.check_anchors(link.position) {
                            return Ok(Verification::Broken(walk.breaks));
                        }
                        break Some(None);
                    }
                }
            };
            let link = match link {
                // Reported above; this log event is accounted for.
                Some(None) => continue,
                Some(Some(link)) => link,
                None => {
                    // Past the sealed head: nothing to compare but anchors.
                    walk.index += 1;
                    match raw_leaf(event) {
                        Ok(leaf) => walk.computed = link_hash(&walk.computed, &leaf),
                        Err(why) => record!(ChainBreak {
                            kind: BreakKind::Altered,
                            position: event.checkpoint.position,
                            chain_index: walk.index,
                            detail: format!(
                                "the event at position {} cannot be read: {why}",
                                event.checkpoint.position
                            ),
                        }),
                    }
                    unsealed += 1;
                    if !walk.check_anchors(event.checkpoint.position) {
                        return Ok(Verification::Broken(walk.breaks));
                    }
                    continue;
                }
            };
            let index = link.chain_index;
            let leaf_break = match raw_leaf(event) {
                Ok(leaf) if to_hex(&leaf) == link.leaf_hash => {
                    walk.computed = link_hash(&walk.computed, &leaf);
                    walk.index = index;
                    None
                }
                Ok(_) => Some(format!(
                    "the event at position {} (complaint {} sequence {}) is not the event sealed at chain index {index}: its leaf hash differs",
                    link.position, link.complaint_id, link.sequence
                )),
                Err(why) => Some(format!(
                    "the event at position {} (complaint {} sequence {}) cannot be read: {why}",
                    link.position, link.complaint_id, link.sequence
                )),
            };
            if let Some(detail) = leaf_break {
                record!(ChainBreak {
                    kind: BreakKind::Altered,
                    position: link.position,
                    chain_index: index,
                    detail,
                });
                walk.resync(&link);
            } else if to_hex(&walk.computed) != link.link_hash {
                record!(ChainBreak {
                    kind: BreakKind::LinkAltered,
                    position: link.position,
                    chain_index: index,
                    detail: format!(
                        "the stored link at chain index {index} (position {}) does not follow from the previous link and the event",
                        link.position
                    ),
                });
                walk.resync(&link);
            } else {
                sealed += 1;
                head = Some((index, link.position, link.link_hash.clone()));
            }
            if !walk.check_anchors(event.checkpoint.position) {
                return Ok(Verification::Broken(walk.breaks));
            }
        }
        after = last;
        progress(read, total.max(read));
    }
    let log_end = walk.index;
    while stored.front().await?.is_some() {
        let Some(link) = stored.pop() else { break };
        if !pending_in_chain.remove(&key_of_link(&link)) {
            record!(ChainBreak {
                kind: BreakKind::Removed,
                position: link.position,
                chain_index: link.chain_index,
                detail: format!(
                    "the log ends at chain index {log_end} but position {} (complaint {} sequence {}) was sealed at chain index {}",
                    link.position, link.complaint_id, link.sequence, link.chain_index
                ),
            });
        }
        walk.resync(&link);
        if !walk.check_anchors(link.position) {
            return Ok(Verification::Broken(walk.breaks));
        }
    }
    while let Some(anchor) = walk.anchors.pop_front() {
        record!(ChainBreak {
            kind: BreakKind::CheckpointMismatch,
            position: anchor.position,
            chain_index: anchor.chain_index,
            detail: format!(
                "the log ends at chain index {log_end}, before the signed checkpoint at chain index {} (position {}): events were removed",
                anchor.chain_index, anchor.position
            ),
        });
    }
    if !walk.breaks.found.is_empty() {
        return Ok(Verification::Broken(walk.breaks));
    }
    Ok(Verification::Intact(Verified {
        events: read,
        sealed,
        head,
        unsealed,
        anchors_matched: walk.anchors_matched,
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
