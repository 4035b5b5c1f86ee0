// Over 600 lines: one small builder per event and per command, shared by every test file.
//! Domain unit tests, written as given (events), when (a command), then (events or an error),
//! through cqrs-es's `TestFramework`. Builders below keep each test to its point: an event
//! builder per fact, a command builder per action, `d("2026-04-02")` for dates.
//!
//! The contract check rides along: every event handed to `given` and every event a `when`
//! produces is validated against the JSON Schema of its type and version
//! (`event_schemas()`, checked in under `schemas/events/`), and a mismatch fails the test.
#![allow(clippy::unwrap_used)]

mod assignment;
mod closure;
mod consent;
mod contract;
mod deadlines;
mod invariants;
mod joint;
mod kinds;
mod legal_hold;
mod letters;
mod lifecycle;
mod ombudsman;
mod people;
mod receive;
mod response;
mod rules;
mod serialisation;

use crate::*;
use chrono::NaiveDate;
use cqrs_es::test::{AggregateTestExecutor, TestFramework};
use cqrs_es::DomainEvent;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

/// The organisation every builder uses unless told otherwise.
pub(super) const ORG: &str = "RX1";

/// A day far enough on that no business date in the tests is in the future.
pub(super) const LATER: &str = "2030-01-01";

pub(super) fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

pub(super) fn services() -> ComplaintServices {
    ComplaintServices::standard()
}

/// Services whose default policy is `policy`, and whose organisation `NPSA1` grades with the
/// NPSA matrix.
pub(super) fn services_with(policy: OrganisationPolicy) -> ComplaintServices {
    let npsa = OrganisationPolicy {
        risk_matrix: RiskMatrix::npsa_2008(),
        ..OrganisationPolicy::default()
    };
    ComplaintServices {
        calendar: Arc::new(Calendar::shipped()),
        policies: Arc::new(PolicyBook {
            default: policy,
            organisations: BTreeMap::from([("NPSA1".to_string(), npsa)]),
        }),
        register: Default::default(),
    }
}

pub(super) fn given(events: Vec<ComplaintEvent>) -> Given {
    given_with(services(), events)
}

pub(super) fn given_with(services: ComplaintServices, events: Vec<ComplaintEvent>) -> Given {
    conform(&events);
    Given(TestFramework::<Complaint>::with(services).given(events))
}

/// `TestFramework`'s executor: the history is in, a command is next.
pub(super) struct Given(AggregateTestExecutor<Complaint>);

impl Given {
    /// Runs `command`; the events it produces must match their schemas.
    pub(super) fn when(self, command: ComplaintCommand) -> Then {
        let result = self.0.when(command).inspect_result();
        if let Ok(events) = &result {
            conform(events);
        }
        Then(result)
    }
}

/// What a command did, for the assertions cqrs-es's `AggregateResultValidator` offers.
pub(super) struct Then(Result<Vec<ComplaintEvent>, ComplaintError>);

impl Then {
    pub(super) fn then_expect_events(self, expected: Vec<ComplaintEvent>) {
        let events = self
            .0
            .unwrap_or_else(|e| panic!("expected success, received aggregate error: '{e}'"));
        assert_eq!(events, expected);
    }

    pub(super) fn then_expect_error(self, expected: ComplaintError) {
        match self.0 {
            Ok(events) => panic!("expected error, received events: '{events:?}'"),
            Err(e) => assert_eq!(e, expected),
        }
    }

    pub(super) fn inspect_result(self) -> Result<Vec<ComplaintEvent>, ComplaintError> {
        self.0
    }
}

/// Each event type's schema at each version, compiled once for the whole test run.
fn event_validators() -> &'static HashMap<(String, String), jsonschema::Validator> {
    static VALIDATORS: OnceLock<HashMap<(String, String), jsonschema::Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        event_schemas()
            .into_iter()
            .chain(superseded_event_schemas())
            .map(|s| {
                let validator = jsonschema::options()
                    .should_validate_formats(true)
                    .build(&s.schema)
                    .unwrap_or_else(|e| panic!("schema of {} is invalid: {e}", s.event_type));
                ((s.event_type, s.version), validator)
            })
            .collect()
    })
}

/// Why `payload` does not match the schema of `event_type` at `version`; empty when it does.
pub(super) fn schema_errors(event_type: &str, version: &str, payload: &Value) -> Vec<String> {
    let key = (event_type.to_string(), version.to_string());
    let Some(validator) = event_validators().get(&key) else {
        return vec![format!("no schema for {event_type} v{version}")];
    };
    validator
        .iter_errors(payload)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Panics naming every mismatch when `payload` does not match its schema.
pub(super) fn assert_conforms(event_type: &str, version: &str, payload: &Value) {
    let errors = schema_errors(event_type, version, payload);
    assert!(
        errors.is_empty(),
        "{event_type} v{version} does not match its schema (schemas/events/):\n  {}\npayload: {payload}",
        errors.join("\n  ")
    );
}

/// Every event, as stored, matches the schema of its type and version.
pub(super) fn conform(events: &[ComplaintEvent]) {
    for event in events {
        let payload = serde_json::to_value(event).unwrap();
        assert_conforms(&event.event_type(), &event.event_version(), &payload);
    }
}

/// `action` issued on `issued_on`.
pub(super) fn cmd(issued_on: &str, action: impl Into<ComplaintAction>) -> ComplaintCommand {
    ComplaintCommand {
        issued_on: d(issued_on),
        action: action.into(),
    }
}

/// `action` issued on a day after every date in the tests.
pub(super) fn now(action: impl Into<ComplaintAction>) -> ComplaintCommand {
    cmd(LATER, action)
}

/// The complaint the events fold into.
pub(super) fn fold(events: Vec<ComplaintEvent>) -> Complaint {
    let mut case = Complaint::default();
    for event in events {
        evolve(&mut case, event);
    }
    case
}

/// The events a command produces, folded on top of `history`.
pub(super) fn after(history: Vec<ComplaintEvent>, command: ComplaintCommand) -> Complaint {
    let produced = expect_ok(given(history.clone()).when(command));
    fold(history.into_iter().chain(produced).collect())
}

pub(super) fn expect_ok(result: Then) -> Vec<ComplaintEvent> {
    result
        .inspect_result()
        .unwrap_or_else(|e| panic!("expected success, got {e:?}"))
}

pub(super) fn not_applicable(reason: ClosureReason, why: &str) -> ComplaintError {
    ComplaintError::ClosureReasonNotApplicable {
        reason: reason.code(),
        why: why.to_string(),
    }
}

pub(super) fn invalid(field: &'static str, reason: &str) -> ComplaintError {
    ComplaintError::InvalidField {
        field,
        reason: reason.to_string(),
    }
}

pub(super) fn blank(field: &'static str) -> ComplaintError {
    invalid(field, "must not be blank")
}

pub(super) fn in_future(field: &'static str, today: &str) -> ComplaintError {
    ComplaintError::DateInFuture {
        field,
        today: d(today),
    }
}

pub(super) fn before_receipt(field: &'static str, received_on: &str) -> ComplaintError {
    ComplaintError::DateBeforeReceipt {
        field,
        received_on: d(received_on),
    }
}

pub(super) fn out_of_order(
    field: &'static str,
    earlier: &'static str,
    earlier_on: &str,
) -> ComplaintError {
    ComplaintError::DateOutOfOrder {
        field,
        earlier,
        earlier_on: d(earlier_on),
    }
}

/// The facts of a received complaint, adjustable before they become the event.
#[derive(Clone)]
pub(super) struct ReceiptFacts {
    organisation_id: String,
    received_on: NaiveDate,
    channel: Channel,
    representation_basis: Option<RepresentationBasis>,
    consent_required: bool,
    matter_occurred_on: Option<NaiveDate>,
    matter_came_to_notice_on: Option<NaiveDate>,
}

impl ReceiptFacts {
    pub(super) fn by(mut self, channel: Channel) -> Self {
        self.channel = channel;
        self
    }

    pub(super) fn at(mut self, organisation_id: &str) -> Self {
        self.organisation_id = organisation_id.to_string();
        self
    }

    /// Made by a representative on `basis`, with consent needed or not.
    pub(super) fn for_(mut self, basis: RepresentationBasis, consent_required: bool) -> Self {
        self.representation_basis = Some(basis);
        self.consent_required = consent_required;
        self
    }

    pub(super) fn about(mut self, occurred_on: &str, noticed_on: &str) -> Self {
        self.matter_occurred_on = Some(d(occurred_on));
        self.matter_came_to_notice_on = Some(d(noticed_on));
        self
    }

    pub(super) fn event(self) -> ComplaintEvent {
        ComplaintEvent::ComplaintReceived {
            organisation_id: self.organisation_id,
            received_on: self.received_on,
            channel: self.channel,
            route: Route::Provider,
            representation_basis: self.representation_basis,
            consent_required: self.consent_required,
            subject_areas: vec![SubjectArea::Communications],
            service_area: None,
            staff_groups: Vec::new(),
            matter_occurred_on: self.matter_occurred_on,
            matter_came_to_notice_on: self.matter_came_to_notice_on,
            source: None,
            particulars: Confidential(ComplaintParticulars {
                complainant: person("Alex Smith"),
                person_affected: None,
                description: "The discharge letter never reached my GP.".into(),
            }),
            kind: Default::default(),
            enquiry_type: None,
            provider_id: None,
            origin: None,
        }
    }
}

/// A letter complaint to `ORG` made by the person affected, received on `on`.
pub(super) fn receipt(on: &str) -> ReceiptFacts {
    ReceiptFacts {
        organisation_id: ORG.to_string(),
        received_on: d(on),
        channel: Channel::Letter,
        representation_basis: None,
        consent_required: false,
        matter_occurred_on: None,
        matter_came_to_notice_on: None,
    }
}

pub(super) fn received(on: &str) -> ComplaintEvent {
    receipt(on).event()
}

/// A representative's complaint, received on `on`, still waiting for consent.
pub(super) fn received_needing_consent(on: &str) -> ComplaintEvent {
    receipt(on)
        .for_(RepresentationBasis::Requested, true)
        .event()
}

/// Received 2025-06-03 about a matter noticed 2024-06-02: one day out of time (R-TL-1).
pub(super) fn received_out_of_time() -> ComplaintEvent {
    receipt("2025-06-03")
        .about("2024-03-10", "2024-06-02")
        .event()
}

pub(super) fn person(name: &str) -> Person {
    Person {
        name: name.into(),
        ..Person::default()
    }
}

pub(super) fn out_of_time_decision() -> OutOfTimeDecision {
    OutOfTimeDecision {
        good_reason_for_delay: true,
        fair_investigation_possible: true,
        decided_by: "cm-12".into(),
        rationale: Confidential("In hospital for most of the year.".into()),
    }
}

pub(super) fn out_of_time_accepted(on: &str) -> ComplaintEvent {
    ComplaintEvent::OutOfTimeAccepted {
        accepted_on: d(on),
        decision: out_of_time_decision(),
    }
}

pub(super) fn acknowledged(on: &str) -> ComplaintEvent {
    ComplaintEvent::ComplaintAcknowledged {
        acknowledged_on: d(on),
        late: false,
        discussion_offered: true,
    }
}

pub(super) fn consent_requested(on: &str) -> ComplaintEvent {
    ComplaintEvent::ConsentRequested {
        requested_on: d(on),
    }
}

pub(super) fn consent_given(on: &str) -> ComplaintEvent {
    ComplaintEvent::ConsentGiven {
        given_on: d(on),
        evidence: None,
    }
}

pub(super) fn consent_refused(on: &str) -> ComplaintEvent {
    ComplaintEvent::ConsentRefused { refused_on: d(on) }
}

pub(super) fn consent_lapsed(on: &str) -> ComplaintEvent {
    ComplaintEvent::ConsentLapsed { lapsed_on: d(on) }
}

pub(super) fn risk_assessed(on: &str) -> ComplaintEvent {
    ComplaintEvent::RiskAssessed {
        assessed_on: d(on),
        seriousness: "low".into(),
        likelihood: Likelihood::Rare,
        rating: RiskRating::Low,
        matrix: "dh-2009/1".into(),
    }
}

pub(super) fn plan_agreed(agreed_on: &str, response_due_on: &str) -> ComplaintEvent {
    ComplaintEvent::ResponsePlanAgreed {
        agreed_on: d(agreed_on),
        response_due_on: d(response_due_on),
        discussion_outcome: Some(DiscussionOutcome::Accepted),
    }
}

/// A stop the complainant agreed to (R-AR-4).
pub(super) fn clock_stopped(on: &str) -> ComplaintEvent {
    ComplaintEvent::ClockStopped {
        stopped_on: d(on),
        reason: Confidential("Awaiting records.".into()),
        complainant_agreed: true,
    }
}

/// A stop the body made without the complainant's agreement (R-AR-4).
pub(super) fn unagreed_clock_stopped(on: &str) -> ComplaintEvent {
    ComplaintEvent::ClockStopped {
        stopped_on: d(on),
        reason: Confidential("Awaiting records.".into()),
        complainant_agreed: false,
    }
}

/// A response period the body set alone and notified after the complainant `outcome`
/// (declined or did not reply) (R-ACK-5, R-RESP-5).
pub(super) fn plan_notified(
    agreed_on: &str,
    response_due_on: &str,
    outcome: DiscussionOutcome,
) -> ComplaintEvent {
    ComplaintEvent::ResponsePlanAgreed {
        agreed_on: d(agreed_on),
        response_due_on: d(response_due_on),
        discussion_outcome: Some(outcome),
    }
}

pub(super) fn clock_restarted(on: &str) -> ComplaintEvent {
    ComplaintEvent::ClockRestarted {
        restarted_on: d(on),
    }
}

pub(super) fn delay_notified(on: &str) -> ComplaintEvent {
    ComplaintEvent::DelayNotified {
        notified_on: d(on),
        expected_response_on: None,
        reason: Confidential("Waiting for an external clinical review.".into()),
    }
}

pub(super) fn letter() -> ResponseLetter {
    ResponseLetter {
        how_considered: "Records reviewed and staff interviewed.".into(),
        conclusions: "The letter was sent to an old address.".into(),
        actions: "Addresses are now checked at discharge.".into(),
    }
}

pub(super) fn responded(on: &str, stage: u8) -> ComplaintEvent {
    ComplaintEvent::ResponseSent {
        sent_on: d(on),
        stage,
        outcome: Outcome::Upheld,
        signed_by: "ceo-1".into(),
        signed_as: SignedAs::ResponsiblePerson,
        ombudsman_rights: vec![Ombudsman::Phso],
        letter: Confidential(letter()),
    }
}

pub(super) fn escalated(on: &str) -> ComplaintEvent {
    ComplaintEvent::ComplaintEscalated {
        escalated_on: d(on),
        reason: Confidential("Not answered.".into()),
    }
}

pub(super) fn referred(ombudsman: Ombudsman, on: &str) -> ComplaintEvent {
    ComplaintEvent::ReferredToOmbudsman {
        ombudsman,
        informed_on: d(on),
        ombudsman_reference: None,
    }
}

pub(super) fn ombudsman_decided(ombudsman: Ombudsman, on: &str) -> ComplaintEvent {
    ComplaintEvent::OmbudsmanDecisionRecorded {
        ombudsman,
        decided_on: d(on),
        decision: OmbudsmanDecision::NotUpheld,
        recommendations: Vec::new(),
    }
}

pub(super) fn learning_recorded(on: &str) -> ComplaintEvent {
    ComplaintEvent::LearningRecorded {
        recorded_on: d(on),
        kind: LearningKind::Lesson,
        summary: "Check addresses at discharge.".into(),
        action_due_on: None,
    }
}

pub(super) fn closed(on: &str, reason: ClosureReason) -> ComplaintEvent {
    ComplaintEvent::ComplaintClosed {
        closed_on: d(on),
        reason,
        exclusion_category: None,
        transferred_to: None,
        resolved_on: None,
    }
}

pub(super) fn reopened(on: &str) -> ComplaintEvent {
    ComplaintEvent::ComplaintReopened {
        reopened_on: d(on),
        reason: Confidential("New evidence.".into()),
    }
}

/// Received 2026-04-02, acknowledged, answered at stage 1 on 2026-04-20.
pub(super) fn responded_case() -> Vec<ComplaintEvent> {
    vec![
        received("2026-04-02"),
        acknowledged("2026-04-07"),
        responded("2026-04-20", 1),
    ]
}

/// `responded_case`, closed as resolved on 2026-04-21.
pub(super) fn closed_case() -> Vec<ComplaintEvent> {
    let mut events = responded_case();
    events.push(closed("2026-04-21", ClosureReason::Resolved));
    events
}

macro_rules! into_action {
    ($($body:ident => $variant:ident),+ $(,)?) => {
        $(impl From<$body> for ComplaintAction {
            fn from(body: $body) -> Self {
                ComplaintAction::$variant(body)
            }
        })+
    };
}

into_action! {
    ReceiveComplaint => Receive,
    AcceptOutOfTime => AcceptOutOfTime,
    AcknowledgeComplaint => Acknowledge,
    RequestConsent => RequestConsent,
    RecordConsent => RecordConsent,
    LapseConsent => LapseConsent,
    AssessRisk => AssessRisk,
    AgreeResponsePlan => AgreeResponsePlan,
    StopClock => StopClock,
    RestartClock => RestartClock,
    NotifyDelay => NotifyDelay,
    SendResponse => SendResponse,
    EscalateComplaint => Escalate,
    ReferToOmbudsman => ReferToOmbudsman,
    RecordOmbudsmanDecision => RecordOmbudsmanDecision,
    RecordLearning => RecordLearning,
    CloseComplaint => Close,
    ReopenComplaint => Reopen,
    RecordOralResolution => RecordOralResolution,
    DecideRepresentativeGrounds => DecideRepresentativeGrounds,
    RecordLetter => RecordLetter,
    RecordProgressContact => RecordProgressContact,
    RecordRecommendationDone => RecordRecommendationDone,
    TreatAsComplaint => TreatAsComplaint,
    RecordLinkedCase => RecordLinkedCase,
    RecordDeath => RecordDeath,
    RefuseOutOfTime => RefuseOutOfTime,
    RecordOtherUse => RecordOtherUse,
    RecordConsentToShare => RecordConsentToShare,
    AddParticipant => AddParticipant,
    RemoveParticipant => RemoveParticipant,
    RequestPart => RequestPart,
    ProvidePart => ProvidePart,
    AssignCaseworker => AssignCaseworker,
}

/// A complete, valid letter complaint received on `on`.
pub(super) fn receive(on: &str) -> ReceiveComplaint {
    ReceiveComplaint {
        organisation_id: ORG.into(),
        received_on: d(on),
        channel: Channel::Letter,
        route: None,
        subject_areas: vec![SubjectArea::Communications],
        service_area: None,
        staff_groups: Vec::new(),
        description: "The discharge letter never reached my GP.".into(),
        complainant: person("Alex Smith"),
        representation_basis: None,
        person_affected: None,
        consent_required: None,
        matter_occurred_on: None,
        matter_came_to_notice_on: None,
        source: None,
        out_of_time_decision: None,
        eligibility: None,
        patient_age_band: None,
        complainant_status: None,
        site: None,
        kind: None,
        enquiry_type: None,
        provider_id: None,
        origin: None,
    }
}

pub(super) fn accept_out_of_time(on: &str) -> AcceptOutOfTime {
    AcceptOutOfTime {
        accepted_on: d(on),
        good_reason_for_delay: true,
        fair_investigation_possible: true,
        decided_by: "cm-12".into(),
        rationale: "In hospital for most of the year.".into(),
    }
}

pub(super) fn acknowledge(on: &str) -> AcknowledgeComplaint {
    AcknowledgeComplaint {
        acknowledged_on: d(on),
        discussion_offered: true,
    }
}

pub(super) fn request_consent(on: &str) -> RequestConsent {
    RequestConsent {
        requested_on: d(on),
    }
}

pub(super) fn record_consent(decision: ConsentDecision, on: &str) -> RecordConsent {
    RecordConsent {
        decision,
        decided_on: d(on),
        evidence: None,
    }
}

pub(super) fn lapse_consent(on: &str) -> LapseConsent {
    LapseConsent { lapsed_on: d(on) }
}

pub(super) fn assess_risk(on: &str, seriousness: &str, likelihood: Likelihood) -> AssessRisk {
    AssessRisk {
        assessed_on: d(on),
        seriousness: seriousness.into(),
        likelihood,
    }
}

pub(super) fn agree_plan(agreed_on: &str, response_due_on: &str) -> AgreeResponsePlan {
    AgreeResponsePlan {
        agreed_on: d(agreed_on),
        response_due_on: d(response_due_on),
        discussion_outcome: Some(DiscussionOutcome::Accepted),
    }
}

/// A stop the complainant agreed to (R-AR-4).
pub(super) fn stop_clock(on: &str) -> StopClock {
    StopClock {
        stopped_on: d(on),
        reason: "Awaiting records.".into(),
        complainant_agreed: true,
    }
}

pub(super) fn restart_clock(on: &str) -> RestartClock {
    RestartClock {
        restarted_on: d(on),
    }
}

pub(super) fn notify_delay(on: &str) -> NotifyDelay {
    NotifyDelay {
        notified_on: d(on),
        reason: "Waiting for an external clinical review.".into(),
        expected_response_on: None,
    }
}

pub(super) fn send_response(on: &str) -> SendResponse {
    SendResponse {
        sent_on: d(on),
        outcome: Outcome::Upheld,
        signed_by: "ceo-1".into(),
        signed_as: SignedAs::ResponsiblePerson,
        ombudsman_rights: vec![Ombudsman::Phso],
        letter: letter(),
    }
}

pub(super) fn escalate(on: &str) -> EscalateComplaint {
    EscalateComplaint {
        escalated_on: d(on),
        reason: "Not answered.".into(),
    }
}

pub(super) fn refer(ombudsman: Ombudsman, on: &str) -> ReferToOmbudsman {
    ReferToOmbudsman {
        ombudsman,
        informed_on: d(on),
        ombudsman_reference: None,
    }
}

pub(super) fn record_decision(ombudsman: Ombudsman, on: &str) -> RecordOmbudsmanDecision {
    RecordOmbudsmanDecision {
        ombudsman,
        decided_on: d(on),
        decision: OmbudsmanDecision::NotUpheld,
        recommendations: Vec::new(),
    }
}

pub(super) fn record_learning(on: &str) -> RecordLearning {
    RecordLearning {
        recorded_on: d(on),
        kind: LearningKind::Lesson,
        summary: "Check addresses at discharge.".into(),
        action_due_on: None,
    }
}

pub(super) fn close(on: &str, reason: ClosureReason) -> CloseComplaint {
    CloseComplaint {
        closed_on: d(on),
        reason,
        exclusion_category: None,
        transferred_to: None,
        receiver_received_on: None,
        complainant_consented: None,
    }
}

pub(super) fn reopen(on: &str) -> ReopenComplaint {
    ReopenComplaint {
        reopened_on: d(on),
        reason: "New evidence.".into(),
    }
}
