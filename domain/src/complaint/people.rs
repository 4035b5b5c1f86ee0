//! Who complains: the finding of reasonable grounds for a child's representative (R-WHO-3).

use super::checks::{open, required_text, DateCheck, Decision};
use super::state::Complaint;
use crate::commands::DecideRepresentativeGrounds;
use crate::error::ComplaintError;
use crate::events::{ComplaintEvent, Confidential};
use crate::reference::{ClosureReason, RepresentationBasis};

/// Records the finding; a finding of no grounds also closes the complaint, and the
/// representative is owed a letter with the reasons (R-WHO-3), which the deadlines show
/// until it is recorded.
pub(super) fn decide_grounds(
    case: &Complaint,
    cmd: DecideRepresentativeGrounds,
    dates: &DateCheck,
) -> Decision {
    let receipt = open(case)?;
    // R-WHO-3: the finding is about a representative of a child, and nobody else.
    if receipt.representation_basis != Some(RepresentationBasis::Child) {
        return Err(ComplaintError::RepresentativeGroundsNotApplicable);
    }
    // R-WHO-3: once satisfied the body considers the complaint; the finding is not re-run.
    if case
        .representative_grounds
        .as_ref()
        .is_some_and(|g| g.satisfied)
    {
        return Err(ComplaintError::RepresentativeGroundsAlreadyDecided);
    }
    required_text("reasons", &cmd.reasons)?;
    required_text("decided_by", &cmd.decided_by)?;
    dates.on("decided_on", cmd.decided_on)?;
    dates.not_before(
        "decided_on",
        cmd.decided_on,
        "reopened_on",
        case.reopened_on.last().copied(),
    )?;
    let mut events = vec![ComplaintEvent::RepresentativeGroundsDecided {
        decided_on: cmd.decided_on,
        satisfied: cmd.satisfied,
        reasons: Confidential(cmd.reasons),
        decided_by: cmd.decided_by,
    }];
    if !cmd.satisfied {
        // R-WHO-3: not satisfied, the body must not consider the complaint: it closes.
        events.push(ComplaintEvent::ComplaintClosed {
            closed_on: cmd.decided_on,
            reason: ClosureReason::RepresentativeGroundsNotFound,
            exclusion_category: None,
            transferred_to: None,
            resolved_on: None,
        });
    }
    Ok(events)
}
