//! Builders shared by the reporting tests: a bare complaint's facts to decorate, referrals
//! and learning, and the events facts are derived from.

#![allow(clippy::unwrap_used)]

use super::facts::{ComplaintFacts, LearningFact, ReferralFact};
use chrono::NaiveDate;
use complaints_domain::*;

pub(super) fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub(super) fn ack_by(received: &str) -> NaiveDate {
    policy::acknowledge_by(d(received), &Calendar::shipped())
}

/// A complaint received by `RAL` by email about communications, otherwise bare.
pub(super) fn fact(id: &str, received: &str) -> ComplaintFacts {
    ComplaintFacts {
        complaint_id: id.into(),
        organisation_id: "RAL".into(),
        received_on: d(received),
        channel: "email".into(),
        route: "provider".into(),
        subject_areas: vec!["communications".into()],
        service_area: None,
        staff_groups: vec![],
        acknowledged_on: None,
        acknowledge_by: ack_by(received),
        first_response_on: None,
        first_outcome: None,
        first_response_period_end: None,
        first_internal_target: None,
        review_response_on: None,
        review_outcome: None,
        closed_on: None,
        closure_reason: None,
        exclusion_category: None,
        transferred_to: None,
        calendar_version: "test".into(),
        version: 1,
        patient_age_band: None,
        complainant_status: None,
        site: None,
        collection: String::new(),
    }
}

pub(super) fn responded(
    mut f: ComplaintFacts,
    on: &str,
    outcome: Outcome,
    due: &str,
) -> ComplaintFacts {
    f.first_response_on = Some(d(on));
    f.first_outcome = Some(outcome);
    f.first_response_period_end = Some(d(due));
    f
}

pub(super) fn reviewed(mut f: ComplaintFacts, on: &str, outcome: Outcome) -> ComplaintFacts {
    f.review_response_on = Some(d(on));
    f.review_outcome = Some(outcome);
    f
}

pub(super) fn acknowledged(mut f: ComplaintFacts, on: &str) -> ComplaintFacts {
    f.acknowledged_on = Some(d(on));
    f
}

pub(super) fn closed(
    mut f: ComplaintFacts,
    on: &str,
    reason: ClosureReason,
    category: Option<ExclusionCategory>,
) -> ComplaintFacts {
    f.closed_on = Some(d(on));
    f.closure_reason = Some(reason);
    f.exclusion_category = category;
    f
}

/// Closed as forwarded on `on` to `to` (R-SCOPE-2).
pub(super) fn transferred(f: ComplaintFacts, on: &str, to: &str) -> ComplaintFacts {
    let mut f = closed(f, on, ClosureReason::Transferred, None);
    f.transferred_to = Some(to.into());
    f
}

pub(super) fn with(mut f: ComplaintFacts, channel: &str, subjects: &[&str]) -> ComplaintFacts {
    f.channel = channel.into();
    f.subject_areas = subjects.iter().map(|s| s.to_string()).collect();
    f
}

pub(super) fn referral(id: &str, sequence: i64, ombudsman: Ombudsman, on: &str) -> ReferralFact {
    ReferralFact {
        complaint_id: id.into(),
        sequence,
        organisation_id: "RAL".into(),
        ombudsman,
        informed_on: d(on),
    }
}

pub(super) fn lesson(
    id: &str,
    sequence: i64,
    kind: LearningKind,
    on: &str,
    summary: &str,
) -> LearningFact {
    LearningFact {
        complaint_id: id.into(),
        sequence,
        organisation_id: "RAL".into(),
        recorded_on: d(on),
        kind,
        summary: summary.into(),
        action_due_on: None,
    }
}

pub(super) fn received_event(on: &str, channel: Channel) -> ComplaintEvent {
    ComplaintEvent::ComplaintReceived {
        organisation_id: "RAL".into(),
        received_on: d(on),
        channel,
        route: Route::Provider,
        representation_basis: None,
        consent_required: false,
        subject_areas: vec![SubjectArea::Communications, SubjectArea::WaitingTimes],
        service_area: Some(ServiceArea::Outpatient),
        staff_groups: vec![StaffGroup::Medical],
        matter_occurred_on: None,
        matter_came_to_notice_on: None,
        source: None,
        particulars: Confidential(ComplaintParticulars::default()),
        kind: Default::default(),
        enquiry_type: None,
        provider_id: None,
        origin: None,
    }
}

pub(super) fn response_event(on: &str, stage: u8, outcome: Outcome) -> ComplaintEvent {
    ComplaintEvent::ResponseSent {
        sent_on: d(on),
        stage,
        outcome,
        signed_by: "chief-exec".into(),
        signed_as: SignedAs::ResponsiblePerson,
        ombudsman_rights: vec![Ombudsman::Phso],
        letter: Confidential(ResponseLetter::default()),
    }
}
