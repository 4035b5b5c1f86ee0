//! Refusals shared by several commands: impossible dates, blank fields, a case that is not
//! there or is closed.

use super::state::Complaint;
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::facts::Receipt;
use chrono::NaiveDate;

/// What deciding a command gives: its events, or the rule it breaks.
pub(super) type Decision = Result<Vec<ComplaintEvent>, ComplaintError>;

/// Checks the dates a command carries against the day it was issued and the receipt.
pub(super) struct DateCheck {
    today: NaiveDate,
    received_on: Option<NaiveDate>,
}

impl DateCheck {
    pub(super) fn new(today: NaiveDate, case: &Complaint) -> Self {
        Self {
            today,
            received_on: case.receipt.as_ref().map(|r| r.received_on),
        }
    }

    /// The day the command was issued.
    pub(super) fn today(&self) -> NaiveDate {
        self.today
    }

    /// R-FACT-1: a day after today, or before the complaint arrived, is an impossible date.
    pub(super) fn on(&self, field: &'static str, day: NaiveDate) -> Result<(), ComplaintError> {
        if day > self.today {
            return Err(ComplaintError::DateInFuture {
                field,
                today: self.today,
            });
        }
        match self.received_on {
            Some(received_on) if day < received_on => {
                Err(ComplaintError::DateBeforeReceipt { field, received_on })
            }
            _ => Ok(()),
        }
    }

    /// R-FACT-1: a day before the one it follows from is an impossible date.
    pub(super) fn not_before(
        &self,
        field: &'static str,
        day: NaiveDate,
        earlier: &'static str,
        earlier_on: Option<NaiveDate>,
    ) -> Result<(), ComplaintError> {
        match earlier_on {
            Some(earlier_on) if day < earlier_on => Err(ComplaintError::DateOutOfOrder {
                field,
                earlier,
                earlier_on,
            }),
            _ => Ok(()),
        }
    }
}

/// Integrity: a required text left blank.
pub(super) fn required_text(field: &'static str, value: &str) -> Result<(), ComplaintError> {
    if value.trim().is_empty() {
        return Err(ComplaintError::InvalidField {
            field,
            reason: "must not be blank".into(),
        });
    }
    Ok(())
}

/// Integrity: organisation ids key policies and partitions, so they stay short and plain.
pub(super) fn valid_organisation_id(field: &'static str, id: &str) -> Result<(), ComplaintError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ComplaintError::InvalidField {
            field,
            reason: "must be 1 to 64 letters, digits, '-', '_' or '.'".into(),
        })
    }
}

/// The receipt of a received, open complaint. Integrity: the body acts only on a complaint it
/// holds, and not on a closed one until it is reopened.
pub(super) fn open(case: &Complaint) -> Result<&Receipt, ComplaintError> {
    let receipt = case.receipt()?;
    if case.is_closed() {
        return Err(ComplaintError::AlreadyClosed);
    }
    Ok(receipt)
}
