//! What the body tells the complainant: the letters the rules require (R-EXCL-1, R-WHO-3,
//! R-WHO-4, R-WHO-6, R-RESP-3, R-ACK-5, R-ACK-2) and contacts about progress (R-RESP-1).

use super::checks::{required_text, DateCheck, Decision};
use super::state::Complaint;
use crate::commands::{RecordLetter, RecordProgressContact};
use crate::error::ComplaintError;
use crate::events::{ComplaintEvent, Confidential};
use crate::reference::{LetterKind, RepresentationBasis};

/// A letter is the body's act, but most are owed after closure (R-EXCL-1, R-WHO-6), so a
/// closed complaint takes it; only a letter that cannot concern this complaint is refused.
pub(super) fn record_letter(case: &Complaint, cmd: RecordLetter, dates: &DateCheck) -> Decision {
    let receipt = case.receipt()?;
    dates.on("sent_on", cmd.sent_on)?;
    let refuse = |why: &str| ComplaintError::LetterNotApplicable {
        kind: cmd.kind.code(),
        why: why.to_string(),
    };
    let basis = receipt.representation_basis;
    match cmd.kind {
        // R-ACK-2: only an oral complaint has a written record to copy.
        LetterKind::OralRecordCopy if !receipt.channel.is_oral() => {
            return Err(refuse("the complaint was not made orally"));
        }
        // R-WHO-3: the refusal goes to a child's representative.
        LetterKind::ChildGroundsRefusal if basis != Some(RepresentationBasis::Child) => {
            return Err(refuse(
                "the complaint was not made by a child's representative",
            ));
        }
        // R-WHO-4: a child's or an incapable person's representative only.
        LetterKind::NotInBestInterests
            if !matches!(
                basis,
                Some(RepresentationBasis::Child | RepresentationBasis::LacksCapacity)
            ) =>
        {
            return Err(refuse(
                "the complaint was not made by a representative of a child or a person lacking capacity",
            ));
        }
        // R-WHO-6: consent is asked for only where it is needed.
        LetterKind::ConsentLapseClosure if !receipt.consent_required => {
            return Err(refuse("the complaint does not need anyone's consent"));
        }
        _ => {}
    }
    Ok(vec![ComplaintEvent::LetterSent {
        kind: cmd.kind,
        sent_on: cmd.sent_on,
    }])
}

/// R-RESP-1: keeping the complainant informed goes on after closure too (an ombudsman's
/// review, a recommendation carried out), so any received complaint takes a contact.
pub(super) fn record_progress_contact(
    case: &Complaint,
    cmd: RecordProgressContact,
    dates: &DateCheck,
) -> Decision {
    case.receipt()?;
    required_text("summary", &cmd.summary)?;
    dates.on("contacted_on", cmd.contacted_on)?;
    Ok(vec![ComplaintEvent::ComplainantContacted {
        contacted_on: cmd.contacted_on,
        method: cmd.method,
        summary: Confidential(cmd.summary),
    }])
}
