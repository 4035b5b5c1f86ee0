//! The states every command shares: not yet received, closed, dates in the future, before
//! receipt or out of order, blank required text; and the status each history reaches.

use super::*;
use ComplaintError as E;

/// One valid command of each kind, every business date `on`.
fn one_of_each(on: &str) -> Vec<ComplaintAction> {
    vec![
        receive(on).into(),
        accept_out_of_time(on).into(),
        acknowledge(on).into(),
        request_consent(on).into(),
        record_consent(ConsentDecision::Given, on).into(),
        lapse_consent(on).into(),
        assess_risk(on, "low", Likelihood::Rare).into(),
        agree_plan(on, on).into(),
        stop_clock(on).into(),
        restart_clock(on).into(),
        notify_delay(on).into(),
        send_response(on).into(),
        escalate(on).into(),
        refer(Ombudsman::Phso, on).into(),
        record_decision(Ombudsman::Phso, on).into(),
        record_learning(on).into(),
        close(on, ClosureReason::Withdrawn).into(),
        reopen(on).into(),
    ]
}

fn check(
    history: &[ComplaintEvent],
    command: ComplaintCommand,
    expected: Result<(), ComplaintError>,
) {
    let name = command.action.name();
    let result = given(history.to_vec()).when(command).inspect_result();
    match (result, expected) {
        (Ok(_), Ok(())) => {}
        (Err(got), Err(want)) => assert_eq!(got, want, "{name}"),
        (got, want) => panic!("{name}: expected {want:?}, got {got:?}"),
    }
}

#[test]
fn one_of_each_covers_every_command() {
    let names: Vec<&str> = one_of_each("2026-04-02")
        .iter()
        .map(ComplaintAction::name)
        .collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 18, "{names:?}");
}

#[test]
fn every_command_but_receive_is_refused_before_receipt() {
    for action in one_of_each("2026-04-02") {
        let expected = match action {
            ComplaintAction::Receive(_) => Ok(()),
            _ => Err(E::NotReceived),
        };
        check(&[], now(action), expected);
    }
}

#[test]
fn receiving_twice_is_rejected() {
    given(vec![received("2026-04-02")])
        .when(now(receive("2026-04-02")))
        .then_expect_error(E::AlreadyReceived);
}

#[test]
fn a_closed_complaint_refuses_the_bodys_acts_but_records_facts_from_outside() {
    let mut history = closed_case();
    history.push(referred(Ombudsman::Phso, "2026-05-01"));
    for action in one_of_each("2026-05-02") {
        let expected = match &action {
            ComplaintAction::Receive(_) => Err(E::AlreadyReceived),
            // R-FACT-1: facts from outside are recorded on a closed complaint.
            ComplaintAction::RecordOmbudsmanDecision(_)
            | ComplaintAction::ReferToOmbudsman(_)
            | ComplaintAction::RecordLearning(_)
            | ComplaintAction::Reopen(_) => Ok(()),
            // This complaint needs no consent, so there is none to record.
            ComplaintAction::RecordConsent(_) => Err(E::ConsentNotRequired),
            _ => Err(E::AlreadyClosed),
        };
        check(&history, now(action), expected);
    }
}

#[test]
fn an_open_complaint_is_not_reopened() {
    given(vec![received("2026-04-02")])
        .when(now(reopen("2026-04-03")))
        .then_expect_error(E::NotClosed);
}

/// For each command: a history in which it is accepted, the command with its business date
/// `on`, and the name of that date's field.
fn dated_commands(on: &str) -> Vec<(Vec<ComplaintEvent>, ComplaintAction, &'static str)> {
    let open = || vec![received("2026-04-02")];
    let consent = || vec![received_needing_consent("2026-04-02")];
    let mut referred_case = responded_case();
    referred_case.push(referred(Ombudsman::Phso, "2026-04-21"));
    vec![
        (open(), acknowledge(on).into(), "acknowledged_on"),
        (consent(), request_consent(on).into(), "requested_on"),
        (
            consent(),
            record_consent(ConsentDecision::Refused, on).into(),
            "decided_on",
        ),
        (consent(), lapse_consent(on).into(), "lapsed_on"),
        (
            open(),
            assess_risk(on, "high", Likelihood::Likely).into(),
            "assessed_on",
        ),
        (open(), agree_plan(on, "2026-06-30").into(), "agreed_on"),
        (open(), stop_clock(on).into(), "stopped_on"),
        (
            vec![received("2026-04-02"), clock_stopped("2026-04-10")],
            restart_clock(on).into(),
            "restarted_on",
        ),
        (open(), notify_delay(on).into(), "notified_on"),
        (open(), send_response(on).into(), "sent_on"),
        (responded_case(), escalate(on).into(), "escalated_on"),
        (
            responded_case(),
            refer(Ombudsman::Phso, on).into(),
            "informed_on",
        ),
        (
            referred_case,
            record_decision(Ombudsman::Phso, on).into(),
            "decided_on",
        ),
        (open(), record_learning(on).into(), "recorded_on"),
        (
            open(),
            close(on, ClosureReason::Withdrawn).into(),
            "closed_on",
        ),
        (closed_case(), reopen(on).into(), "reopened_on"),
    ]
}

#[test]
fn every_business_date_after_the_day_of_issue_is_refused() {
    let mut rows = dated_commands("2026-05-02");
    rows.push((vec![], receive("2026-05-02").into(), "received_on"));
    rows.push((
        vec![received_out_of_time()],
        accept_out_of_time("2026-05-02").into(),
        "accepted_on",
    ));
    for (history, action, field) in rows {
        check(
            &history,
            cmd("2026-05-01", action),
            Err(in_future(field, "2026-05-01")),
        );
    }
}

#[test]
fn every_business_date_on_the_day_of_issue_is_accepted() {
    for (history, action, _) in dated_commands("2026-05-01") {
        let action = match action {
            // Consent lapses on 2026-05-15 at the earliest.
            ComplaintAction::LapseConsent(_) => continue,
            other => other,
        };
        check(&history, cmd("2026-05-01", action), Ok(()));
    }
}

#[test]
fn every_business_date_before_receipt_is_refused() {
    for (history, action, field) in dated_commands("2026-04-01") {
        check(
            &history,
            now(action),
            Err(before_receipt(field, "2026-04-02")),
        );
    }
    check(
        &[received_out_of_time()],
        now(accept_out_of_time("2025-06-02")),
        Err(before_receipt("accepted_on", "2025-06-03")),
    );
}

#[test]
fn every_date_out_of_order_is_refused() {
    let on_review = || {
        let mut events = responded_case();
        events.push(escalated("2026-05-01"));
        events
    };
    let mut referred_case = responded_case();
    referred_case.push(referred(Ombudsman::Phso, "2026-04-21"));
    let mut closed_and_reopened = closed_case();
    closed_and_reopened.push(reopened("2026-05-01"));
    let rows: Vec<(Vec<ComplaintEvent>, ComplaintAction, ComplaintError)> = vec![
        (
            vec![],
            ReceiveComplaint {
                matter_occurred_on: Some(d("2026-03-10")),
                matter_came_to_notice_on: Some(d("2026-03-09")),
                ..receive("2026-04-02")
            }
            .into(),
            out_of_order(
                "matter_came_to_notice_on",
                "matter_occurred_on",
                "2026-03-10",
            ),
        ),
        (
            vec![received("2026-04-02")],
            agree_plan("2026-04-07", "2026-04-06").into(),
            out_of_order("response_due_on", "agreed_on", "2026-04-07"),
        ),
        (
            on_review(),
            agree_plan("2026-04-30", "2026-06-30").into(),
            out_of_order("agreed_on", "escalated_on", "2026-05-01"),
        ),
        (
            vec![
                received("2026-04-02"),
                clock_stopped("2026-04-08"),
                clock_restarted("2026-04-14"),
            ],
            stop_clock("2026-04-13").into(),
            out_of_order("stopped_on", "the last restart", "2026-04-14"),
        ),
        (
            on_review(),
            stop_clock("2026-04-30").into(),
            out_of_order("stopped_on", "escalated_on", "2026-05-01"),
        ),
        (
            vec![received("2026-04-02"), clock_stopped("2026-04-08")],
            restart_clock("2026-04-07").into(),
            out_of_order("restarted_on", "stopped_on", "2026-04-08"),
        ),
        (
            vec![received("2026-04-02")],
            NotifyDelay {
                expected_response_on: Some(d("2026-04-09")),
                ..notify_delay("2026-04-10")
            }
            .into(),
            out_of_order("expected_response_on", "notified_on", "2026-04-10"),
        ),
        (
            on_review(),
            send_response("2026-04-30").into(),
            out_of_order("sent_on", "escalated_on", "2026-05-01"),
        ),
        (
            responded_case(),
            escalate("2026-04-19").into(),
            out_of_order("escalated_on", "the response", "2026-04-20"),
        ),
        (
            referred_case,
            record_decision(Ombudsman::Phso, "2026-04-20").into(),
            out_of_order("decided_on", "informed_on", "2026-04-21"),
        ),
        (
            vec![received("2026-04-02")],
            RecordLearning {
                kind: LearningKind::Action,
                action_due_on: Some(d("2026-04-09")),
                ..record_learning("2026-04-10")
            }
            .into(),
            out_of_order("action_due_on", "recorded_on", "2026-04-10"),
        ),
        (
            closed_and_reopened,
            close("2026-04-30", ClosureReason::Withdrawn).into(),
            out_of_order("closed_on", "reopened_on", "2026-05-01"),
        ),
        (
            closed_case(),
            reopen("2026-04-20").into(),
            out_of_order("reopened_on", "closed_on", "2026-04-21"),
        ),
    ];
    for (history, action, error) in rows {
        check(&history, now(action), Err(error));
    }
}

#[test]
fn every_blank_required_text_is_refused() {
    let with_source = |system: &str, reference: &str| ReceiveComplaint {
        source: Some(SourceReference {
            system: system.into(),
            reference: reference.into(),
        }),
        ..receive("2026-04-02")
    };
    let mut referred_case = responded_case();
    referred_case.push(referred(Ombudsman::Phso, "2026-04-21"));
    let rows: Vec<(Vec<ComplaintEvent>, ComplaintAction, ComplaintError)> = vec![
        (
            vec![],
            ReceiveComplaint {
                description: " \n".into(),
                ..receive("2026-04-02")
            }
            .into(),
            blank("description"),
        ),
        (
            vec![],
            ReceiveComplaint {
                complainant: person("  "),
                ..receive("2026-04-02")
            }
            .into(),
            blank("complainant.name"),
        ),
        (
            vec![],
            ReceiveComplaint {
                representation_basis: Some(RepresentationBasis::Deceased),
                person_affected: Some(person("")),
                ..receive("2026-04-02")
            }
            .into(),
            blank("person_affected.name"),
        ),
        (
            vec![],
            with_source(" ", "PALS-1").into(),
            blank("source.system"),
        ),
        (
            vec![],
            with_source("pals-desk", "").into(),
            blank("source.reference"),
        ),
        (
            vec![],
            ReceiveComplaint {
                matter_occurred_on: Some(d("2024-03-10")),
                out_of_time_decision: Some(OutOfTimeDecision {
                    decided_by: " ".into(),
                    ..out_of_time_decision()
                }),
                ..receive("2026-04-02")
            }
            .into(),
            blank("decided_by"),
        ),
        (
            vec![received_out_of_time()],
            AcceptOutOfTime {
                decided_by: "".into(),
                ..accept_out_of_time("2025-06-10")
            }
            .into(),
            blank("decided_by"),
        ),
        (
            vec![received_out_of_time()],
            AcceptOutOfTime {
                rationale: "\t".into(),
                ..accept_out_of_time("2025-06-10")
            }
            .into(),
            blank("rationale"),
        ),
        (
            vec![received("2026-04-02")],
            StopClock {
                reason: " ".into(),
                ..stop_clock("2026-04-08")
            }
            .into(),
            blank("reason"),
        ),
        (
            vec![received("2026-04-02")],
            NotifyDelay {
                reason: "".into(),
                ..notify_delay("2026-04-08")
            }
            .into(),
            blank("reason"),
        ),
        (
            responded_case(),
            EscalateComplaint {
                reason: " ".into(),
                ..escalate("2026-04-22")
            }
            .into(),
            blank("reason"),
        ),
        (
            referred_case,
            RecordOmbudsmanDecision {
                recommendations: vec![Recommendation {
                    description: " ".into(),
                    due_on: None,
                }],
                ..record_decision(Ombudsman::Phso, "2026-06-01")
            }
            .into(),
            blank("recommendations.description"),
        ),
        (
            vec![received("2026-04-02")],
            RecordLearning {
                summary: "".into(),
                ..record_learning("2026-04-08")
            }
            .into(),
            blank("summary"),
        ),
        (
            closed_case(),
            ReopenComplaint {
                reason: "  ".into(),
                ..reopen("2026-04-22")
            }
            .into(),
            blank("reason"),
        ),
    ];
    for (history, action, error) in rows {
        check(&history, now(action), Err(error));
    }
}

#[test]
fn each_status_is_reached() {
    let mut on_review = responded_case();
    on_review.push(escalated("2026-05-01"));
    let rows = [
        (vec![received("2026-04-02")], Status::Received),
        (
            vec![received_out_of_time()],
            Status::AwaitingTimeLimitDecision,
        ),
        (
            vec![received_out_of_time(), out_of_time_accepted("2025-06-10")],
            Status::Received,
        ),
        (
            vec![received_needing_consent("2026-04-02")],
            Status::AwaitingConsent,
        ),
        (
            vec![
                received_needing_consent("2026-04-02"),
                consent_given("2026-04-03"),
                acknowledged("2026-04-07"),
            ],
            Status::Investigating,
        ),
        (
            vec![received("2026-04-02"), acknowledged("2026-04-07")],
            Status::Investigating,
        ),
        (responded_case(), Status::Responded),
        (on_review.clone(), Status::UnderReview),
        (
            [on_review, vec![responded("2026-05-20", 2)]].concat(),
            Status::Responded,
        ),
        (closed_case(), Status::Closed),
        (
            [closed_case(), vec![reopened("2026-05-01")]].concat(),
            Status::Responded,
        ),
    ];
    for (history, status) in rows {
        assert_eq!(fold(history.clone()).status(), status, "{history:?}");
    }
}

#[test]
fn status_codes_are_snake_case_and_match_serde() {
    for (status, code) in [
        (Status::Received, "received"),
        (
            Status::AwaitingTimeLimitDecision,
            "awaiting_time_limit_decision",
        ),
        (Status::AwaitingConsent, "awaiting_consent"),
        (Status::Investigating, "investigating"),
        (Status::UnderReview, "under_review"),
        (Status::Responded, "responded"),
        (Status::Closed, "closed"),
    ] {
        assert_eq!(status.code(), code);
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            format!("\"{code}\"")
        );
    }
}

#[test]
fn commands_move_a_complaint_through_its_statuses() {
    let mut history = vec![];
    let steps: Vec<(ComplaintAction, Status)> = vec![
        (receive("2026-04-02").into(), Status::Received),
        (acknowledge("2026-04-07").into(), Status::Investigating),
        (send_response("2026-04-20").into(), Status::Responded),
        (escalate("2026-04-27").into(), Status::UnderReview),
        (send_response("2026-05-20").into(), Status::Responded),
        (
            close("2026-05-21", ClosureReason::Resolved).into(),
            Status::Closed,
        ),
        (reopen("2026-06-01").into(), Status::Responded),
        (
            close("2026-06-02", ClosureReason::Resolved).into(),
            Status::Closed,
        ),
    ];
    for (action, status) in steps {
        let name = action.name();
        let events = expect_ok(given(history.clone()).when(now(action)));
        history.extend(events);
        assert_eq!(fold(history.clone()).status(), status, "after {name}");
    }
}
