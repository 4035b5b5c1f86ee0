//! The facts the reports count: one row per received complaint, per ombudsman referral and
//! per lesson or action, and the names of the tables that hold them. Deriving a row is pure,
//! so the consumer, a rebuild and the tests agree on every one.

use crate::state::FoldedCase;
use chrono::NaiveDate;
use complaints_domain::{
    policy, stage_one_internal_target, stage_one_response_period, ClosureReason, ComplaintEvent,
    ComplaintServices, ExclusionCategory, LearningKind, Ombudsman, Outcome,
};
use complaints_eventlog::StoredEvent;
use serde::{Deserialize, Serialize};

// The reporting interface: the consumer writes these, the queries and BI tools read them.
pub(super) const COMPLAINTS: &str = "rm_report_complaints";
pub(super) const REFERRALS: &str = "rm_report_referrals";
pub(super) const LEARNING: &str = "rm_report_learning";
pub(super) const CONTRIBUTIONS: &str = "rm_report_contributions";

/// The facts of one complaint that the reports count (one row of `rm_report_complaints`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintFacts {
    /// Complaint id.
    pub complaint_id: String,
    /// The organisation that received it.
    pub organisation_id: String,
    /// Day received.
    pub received_on: NaiveDate,
    /// Channel code.
    pub channel: String,
    /// Route code (`provider`, `commissioner`).
    pub route: String,
    /// Subject area codes.
    pub subject_areas: Vec<String>,
    /// Service area code.
    pub service_area: Option<String>,
    /// Staff group codes.
    pub staff_groups: Vec<String>,
    /// Day acknowledged.
    pub acknowledged_on: Option<NaiveDate>,
    /// The acknowledgement deadline (R-ACK-3).
    pub acknowledge_by: NaiveDate,
    /// Day the stage-1 response was sent.
    pub first_response_on: Option<NaiveDate>,
    /// Its outcome.
    pub first_outcome: Option<Outcome>,
    /// The end of the stage-1 response period agreed with or notified to the complainant
    /// before the response (R-ACK-5), moved only by agreed clock stops and extensions agreed
    /// before it ran out (R-AR-4); `None` when there was none.
    pub first_response_period_end: Option<NaiveDate>,
    /// The organisation's internal target for the stage-1 response (its default period from
    /// receipt, moved by agreed clock stops); never an agreed period (R-AR-4).
    pub first_internal_target: Option<NaiveDate>,
    /// Day the stage-2 (review) response was sent.
    pub review_response_on: Option<NaiveDate>,
    /// Its outcome.
    pub review_outcome: Option<Outcome>,
    /// Day closed (the current closure).
    pub closed_on: Option<NaiveDate>,
    /// Why closed.
    pub closure_reason: Option<ClosureReason>,
    /// The reg 8 category of an excluded complaint.
    pub exclusion_category: Option<ExclusionCategory>,
    /// The organisation a transferred complaint went to.
    pub transferred_to: Option<String>,
    /// The calendar the due dates came from.
    pub calendar_version: String,
    /// Version (last applied sequence).
    pub version: i64,
    /// KO41 age band of the patient (R-KO-5); `None` when not recorded (counted `unknown`).
    pub patient_age_band: Option<String>,
    /// KO41 status of the complainant (R-KO-5); `None` when not recorded (counted `unknown`).
    pub complainant_status: Option<String>,
    /// The organisation's site (R-KO-1); `None` when not recorded.
    pub site: Option<String>,
    /// The collection the complaint is returned in (`KO41a`, `KO41b`), decided when the row
    /// is written from the organisation's policy, else the service area (R-KO-1, R-KO-8).
    pub collection: String,
}

impl ComplaintFacts {
    /// Closed as not required to be handled under regulation 8 (any category).
    pub fn is_excluded(&self) -> bool {
        self.closure_reason == Some(ClosureReason::Excluded)
    }

    /// Closed as forwarded to another organisation (reg 6(5)).
    pub fn is_transferred_out(&self) -> bool {
        self.closure_reason == Some(ClosureReason::Transferred)
    }

    /// Whether the acknowledgement met its deadline; `None` until acknowledged.
    pub fn acknowledged_in_time(&self) -> Option<bool> {
        self.acknowledged_on.map(|on| on <= self.acknowledge_by)
    }

    /// Whether the stage-1 response was sent within the response period agreed with or
    /// notified to the complainant (R-REC-1, R-AR-4); `None` until sent, and `None` when no
    /// period was agreed or notified: such a complaint is not measured, never counted in time.
    pub fn within_response_period(&self) -> Option<bool> {
        let sent = self.first_response_on?;
        self.first_response_period_end.map(|end| sent <= end)
    }

    /// Whether the stage-1 response was sent within the organisation's internal target;
    /// `None` until sent. A response with no target date is not in time.
    pub fn within_internal_target(&self) -> Option<bool> {
        let sent = self.first_response_on?;
        Some(self.first_internal_target.is_some_and(|due| sent <= due))
    }
}

/// One ombudsman referral (one row of `rm_report_referrals`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralFact {
    /// Complaint id.
    pub complaint_id: String,
    /// Sequence of the `ReferredToOmbudsman` event.
    pub sequence: i64,
    /// The complaint's organisation.
    pub organisation_id: String,
    /// Which ombudsman.
    pub ombudsman: Ombudsman,
    /// When the body was informed (R-OMB-1).
    pub informed_on: NaiveDate,
}

/// One lesson or action (one row of `rm_report_learning`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearningFact {
    /// Complaint id.
    pub complaint_id: String,
    /// Sequence of the `LearningRecorded` event.
    pub sequence: i64,
    /// The complaint's organisation.
    pub organisation_id: String,
    /// When recorded.
    pub recorded_on: NaiveDate,
    /// Lesson or action.
    pub kind: LearningKind,
    /// Summary for the annual report.
    pub summary: String,
    /// When an action is due.
    pub action_due_on: Option<NaiveDate>,
}

/// A body's part in a joint complaint another body led (one row of
/// `rm_report_contributions`, R-JOINT-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributionFact {
    /// Complaint id.
    pub complaint_id: String,
    /// The body that took part.
    pub organisation_id: String,
    /// The organisation that led it.
    pub lead_organisation_id: String,
    /// When the body supplied its first part.
    pub first_provided_on: NaiveDate,
}

/// The bodies that supplied a part of a folded statutory complaint, each with the day of its
/// first part (a body asked again at review still contributed once). Pure.
pub fn contribution_facts(id: &str, folded: &FoldedCase) -> Vec<ContributionFact> {
    let case = &folded.case;
    let Some(receipt) = case.receipt.as_ref() else {
        return Vec::new();
    };
    if !receipt.kind.is_complaint() {
        return Vec::new();
    }
    let mut first: std::collections::BTreeMap<&str, NaiveDate> = Default::default();
    for request in &case.part_requests {
        if let Some(on) = request.provided_on {
            let day = first.entry(request.organisation_id.as_str()).or_insert(on);
            *day = (*day).min(on);
        }
    }
    first
        .into_iter()
        .map(|(organisation, on)| ContributionFact {
            complaint_id: id.to_string(),
            organisation_id: organisation.to_string(),
            lead_organisation_id: receipt.organisation_id.clone(),
            first_provided_on: on,
        })
        .collect()
}

/// The facts row of a folded complaint; `None` before receipt. Pure.
pub fn complaint_facts(
    id: &str,
    folded: &FoldedCase,
    services: &ComplaintServices,
) -> Option<ComplaintFacts> {
    let case = &folded.case;
    let receipt = case.receipt.as_ref()?;
    // R-KIND-1 to R-KIND-3: enquiries, complaints about the organisation and concerns are
    // not complaints under the regulations: no annual report or national return counts them.
    if !receipt.kind.is_complaint() {
        return None;
    }
    let first = case.first_response();
    let review = case.responses.iter().find(|r| r.stage == 2);
    let closure = case.closure.as_ref();
    Some(ComplaintFacts {
        complaint_id: id.to_string(),
        organisation_id: receipt.organisation_id.clone(),
        received_on: receipt.received_on,
        channel: receipt.channel.code().to_string(),
        route: receipt.route.code().to_string(),
        subject_areas: receipt
            .subject_areas
            .iter()
            .map(|s| s.code().to_string())
            .collect(),
        service_area: receipt.service_area.map(|s| s.code().to_string()),
        staff_groups: receipt
            .staff_groups
            .iter()
            .map(|s| s.code().to_string())
            .collect(),
        acknowledged_on: case.acknowledged_on,
        acknowledge_by: policy::acknowledge_by(receipt.received_on, &services.calendar),
        first_response_on: first.map(|r| r.sent_on),
        first_outcome: first.map(|r| r.outcome),
        first_response_period_end: stage_one_response_period(case, services),
        first_internal_target: stage_one_internal_target(case, services),
        review_response_on: review.map(|r| r.sent_on),
        review_outcome: review.map(|r| r.outcome),
        closed_on: closure.map(|c| c.closed_on),
        closure_reason: closure.map(|c| c.reason),
        exclusion_category: closure.and_then(|c| c.exclusion_category),
        transferred_to: closure.and_then(|c| c.transferred_to.clone()),
        calendar_version: services.calendar.version().to_string(),
        version: folded.version,
        patient_age_band: receipt.patient_age_band.map(|b| b.code().to_string()),
        complainant_status: receipt.complainant_status.map(|s| s.code().to_string()),
        site: receipt.site.clone(),
        // R-KO-1, R-KO-8: the organisation's policy, else its register record, decides;
        // the service area is the guess for an organisation neither describes.
        collection: super::collection::Collection::for_complaint(
            services
                .return_collection(&receipt.organisation_id)
                .map(|c| c.name()),
            receipt.service_area.map(|s| s.code()),
        )
        .name()
        .to_string(),
    })
}

/// The referral row an event adds, if it is a referral. Pure.
pub fn referral_fact(event: &StoredEvent, organisation_id: &str) -> Option<ReferralFact> {
    if !complaints_eventlog::case_kind_of(event).is_complaint() {
        return None;
    }
    match &event.event {
        ComplaintEvent::ReferredToOmbudsman {
            ombudsman,
            informed_on,
            ..
        } => Some(ReferralFact {
            complaint_id: event.complaint_id.clone(),
            sequence: event.sequence,
            organisation_id: organisation_id.to_string(),
            ombudsman: *ombudsman,
            informed_on: *informed_on,
        }),
        _ => None,
    }
}

/// The learning row an event adds, if it records learning. Pure.
pub fn learning_fact(event: &StoredEvent, organisation_id: &str) -> Option<LearningFact> {
    if !complaints_eventlog::case_kind_of(event).is_complaint() {
        return None;
    }
    match &event.event {
        ComplaintEvent::LearningRecorded {
            recorded_on,
            kind,
            summary,
            action_due_on,
        } => Some(LearningFact {
            complaint_id: event.complaint_id.clone(),
            sequence: event.sequence,
            organisation_id: organisation_id.to_string(),
            recorded_on: *recorded_on,
            kind: *kind,
            summary: summary.clone(),
            action_due_on: *action_due_on,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::models::reporting::fixtures::{d, received_event, response_event};
    use complaints_domain::*;

    fn folded(events: Vec<ComplaintEvent>) -> FoldedCase {
        let mut f = FoldedCase::default();
        for e in events {
            evolve(&mut f.case, e);
            f.version += 1;
        }
        f.last_event_at = "2026-04-02T10:00:00Z".into();
        f
    }

    #[test]
    fn the_stage_one_due_date_survives_escalation_and_counts_stage_one_clock_stops() {
        let services = ComplaintServices::standard();
        let events = vec![
            received_event("2025-04-17", Channel::Letter),
            ComplaintEvent::ResponsePlanAgreed {
                agreed_on: d("2025-04-22"),
                response_due_on: d("2025-05-30"),
                discussion_outcome: None,
            },
            // Stopped Mon 2 Jun, restarted Mon 9 Jun: five working days.
            ComplaintEvent::ClockStopped {
                stopped_on: d("2025-06-02"),
                reason: Confidential("awaiting records".into()),
                complainant_agreed: true,
            },
            ComplaintEvent::ClockRestarted {
                restarted_on: d("2025-06-09"),
            },
            response_event("2025-06-09", 1, Outcome::NotUpheld),
            ComplaintEvent::ComplaintEscalated {
                escalated_on: d("2025-06-20"),
                reason: Confidential("unhappy".into()),
            },
            ComplaintEvent::ResponsePlanAgreed {
                agreed_on: d("2025-06-23"),
                response_due_on: d("2025-08-01"),
                discussion_outcome: None,
            },
            response_event("2025-07-30", 2, Outcome::Upheld),
        ];
        let f = complaint_facts("c1", &folded(events), &services).unwrap();
        assert_eq!(f.acknowledge_by, d("2025-04-24"));
        assert_eq!(
            f.first_response_period_end,
            Some(d("2025-06-06")),
            "30 May plus five working days"
        );
        assert_eq!(f.within_response_period(), Some(false));
        assert_eq!(
            (f.first_response_on, f.first_outcome),
            (Some(d("2025-06-09")), Some(Outcome::NotUpheld))
        );
        assert_eq!(
            (f.review_response_on, f.review_outcome),
            (Some(d("2025-07-30")), Some(Outcome::Upheld))
        );
        assert_eq!(f.subject_areas, vec!["communications", "waiting_times"]);
        assert_eq!(f.service_area.as_deref(), Some("outpatient"));
        assert_eq!(f.version, 8);
    }

    #[test]
    fn without_a_plan_only_the_internal_target_applies_and_a_closure_is_recorded() {
        let services = ComplaintServices::standard();
        let events = vec![
            received_event("2026-06-02", Channel::OralPhone),
            ComplaintEvent::ComplaintClosed {
                closed_on: d("2026-06-03"),
                reason: ClosureReason::Excluded,
                exclusion_category: Some(ExclusionCategory::OralResolvedNextWorkingDay),
                transferred_to: None,
                resolved_on: None,
            },
        ];
        let f = complaint_facts("c2", &folded(events), &services).unwrap();
        assert_eq!(
            f.first_response_period_end, None,
            "no period agreed or notified"
        );
        assert_eq!(
            f.first_internal_target,
            Some(services.calendar.add_working_days(d("2026-06-02"), 25))
        );
        assert!(f.is_excluded());
        assert_eq!(
            f.exclusion_category,
            Some(ExclusionCategory::OralResolvedNextWorkingDay)
        );
        assert_eq!(f.channel, "oral_phone");
        assert!(complaint_facts("c3", &FoldedCase::default(), &services).is_none());
    }
}
