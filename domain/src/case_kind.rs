//! What kind of case a record is, and where it came from.
//!
//! Besides statutory complaints a body may take enquiries, complaints about itself and
//! whistleblowing concerns (R-KIND-1 to R-KIND-3). They share the calendar, the log and the
//! audit trail, but not the statutory clocks, reports or returns. A case may also come from
//! another case: an enquiry treated as a complaint, a complaint forwarded by another body
//! (R-SCOPE-2) or passed on by a commissioner (R-SCOPE-3); the link is kept both ways.

use crate::reference::{code_list, normalise};
use chrono::NaiveDate;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

code_list! {
    /// What kind of case this is (R-KIND-1 to R-KIND-3).
    CaseKind, "case kind" {
        /// A complaint under the 2009 regulations: every statutory clock and count applies.
        Complaint = "complaint",
        /// An enquiry (advice, patient choice, procurement and competition): its own targets,
        /// never counted as a complaint (R-KIND-1).
        Enquiry = "enquiry",
        /// A complaint about the organisation's own service: acknowledgement, a provisional
        /// decision within 20 working days, then the MP and PHSO route (R-KIND-2).
        AboutOrganisation = "about_organisation" | "complaint_about_the_organisation",
        /// A whistleblowing concern from staff or governors: kept apart under its own role,
        /// never in complaint lists, reports, returns, events or exports (R-KIND-3).
        Whistleblowing = "whistleblowing" | "whistleblowing_concern",
    }
}

code_list! {
    /// What an enquiry is about; it decides the contact target (R-KIND-1).
    EnquiryType, "enquiry type" {
        /// General advice: contact within 10 working days.
        Advice = "advice" | "general_advice",
        /// Patient choice: contact within 18 working days.
        PatientChoice = "patient_choice",
        /// Procurement, patient choice and competition: contact within 10 working days.
        ProcurementCompetition = "procurement_competition" | "procurement_and_competition",
    }
}

code_list! {
    /// How a case came from another one.
    OriginRelation, "origin" {
        /// An enquiry on this system was treated as a complaint (R-KIND-1).
        EnquiryTreatedAsComplaint = "enquiry_treated_as_complaint",
        /// Another body forwarded the complaint as belonging here (R-SCOPE-2).
        TransferredIn = "transferred_in" | "transfer",
        /// A commissioner passed the complaint about this provider here with the
        /// complainant's consent (R-SCOPE-3).
        PassedByCommissioner = "passed_by_commissioner",
    }
}

// The code_list macro owns the enum's derives, so the default is written out.
#[allow(clippy::derivable_impls)]
impl Default for CaseKind {
    fn default() -> Self {
        CaseKind::Complaint
    }
}

impl CaseKind {
    /// Whether this is a statutory complaint (every clock, count and return applies).
    pub fn is_complaint(self) -> bool {
        self == CaseKind::Complaint
    }

    /// Whether the case is kept from every list, report, event stream and export but its
    /// own (R-KIND-3).
    pub fn is_restricted(self) -> bool {
        self == CaseKind::Whistleblowing
    }
}

/// Where a case came from, recorded with its receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseOrigin {
    /// How it came.
    pub relation: OriginRelation,
    /// The organisation it came from (the same one for an enquiry).
    pub organisation_id: String,
    /// The case it came from, when that case is on this system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    /// The day the first body received it, when known: the receiving body's clocks still
    /// start on its own day of receipt (R-SCOPE-2, a documented reading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_received_on: Option<NaiveDate>,
}

/// Whether `value` is its type's default, for `skip_serializing_if`.
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}
