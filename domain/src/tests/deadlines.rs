//! Deadlines derived through the aggregate (the worked dates of docs/RULES.md, R-ACK-3, R-RESP-3, R-RESP-4), their
//! states as of a day, and a calendar correction moving them.

use super::*;
use DeadlineKind as Kind;
use DeadlineState as State;

fn dates(events: Vec<ComplaintEvent>) -> Deadlines {
    deadlines(&fold(events), &services()).unwrap()
}

/// The status of the `kind` deadline as of `today`.
fn status(events: Vec<ComplaintEvent>, today: &str, kind: DeadlineKind) -> DeadlineStatus {
    deadline_statuses(&fold(events), &services(), d(today))
        .into_iter()
        .find(|s| s.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} deadline"))
}

fn state(events: Vec<ComplaintEvent>, today: &str, kind: DeadlineKind) -> DeadlineState {
    status(events, today, kind).state
}

/// the worked dates of docs/RULES.md: received, next working day (reg 8(1)(c) cut-off), acknowledgement due,
/// end of the six months.
const WORKED: [(&str, Option<&str>, Option<&str>, &str); 8] = [
    (
        "2025-04-17",
        Some("2025-04-22"),
        Some("2025-04-24"),
        "2025-10-16",
    ),
    (
        "2026-04-02",
        Some("2026-04-07"),
        Some("2026-04-09"),
        "2026-10-01",
    ),
    (
        "2026-12-23",
        Some("2026-12-24"),
        Some("2026-12-30"),
        "2027-06-22",
    ),
    (
        "2026-01-31",
        Some("2026-02-02"),
        Some("2026-02-04"),
        "2026-07-30",
    ),
    (
        "2022-09-16",
        Some("2022-09-20"),
        Some("2022-09-22"),
        "2023-03-15",
    ),
    (
        "2023-05-05",
        Some("2023-05-09"),
        Some("2023-05-11"),
        "2023-11-04",
    ),
    (
        "2027-12-24",
        Some("2027-12-29"),
        Some("2027-12-31"),
        "2028-06-23",
    ),
    ("2025-08-31", None, None, "2026-02-28"),
];

#[test]
fn the_worked_examples_give_the_acknowledgement_and_six_month_dates() {
    for (received_on, _, acknowledge_by, six_month_end) in WORKED {
        let dates = dates(vec![received(received_on)]);
        if let Some(acknowledge_by) = acknowledge_by {
            assert_eq!(
                dates.acknowledge_by,
                d(acknowledge_by),
                "received {received_on}"
            );
        }
        assert_eq!(
            dates.six_month_end,
            d(six_month_end),
            "received {received_on}"
        );
        assert_eq!(
            dates.statutory_period_end,
            d(six_month_end),
            "received {received_on}"
        );
        assert_eq!(
            dates.delay_letter_due,
            d(six_month_end).succ_opt().unwrap(),
            "received {received_on}"
        );
    }
}

#[test]
fn the_worked_examples_give_the_oral_resolution_cut_off() {
    for (received_on, next_working_day, _, _) in WORKED {
        let Some(cut_off) = next_working_day else {
            continue;
        };
        let history = vec![receipt(received_on).by(Channel::OralPhone).event()];
        assert_eq!(
            dates(history.clone()).oral_resolution_by,
            Some(d(cut_off)),
            "received {received_on}"
        );
        let exclude = |on: NaiveDate| CloseComplaint {
            exclusion_category: Some(ExclusionCategory::OralResolvedNextWorkingDay),
            ..close(&on.to_string(), ClosureReason::Excluded)
        };
        let result = given(history.clone())
            .when(now(exclude(d(cut_off))))
            .inspect_result();
        assert!(result.is_ok(), "received {received_on}: {result:?}");
        let result = given(history)
            .when(now(exclude(d(cut_off).succ_opt().unwrap())))
            .inspect_result();
        assert!(
            matches!(
                result,
                Err(ComplaintError::ClosureReasonNotApplicable { .. })
            ),
            "received {received_on}: {result:?}"
        );
    }
}

#[test]
fn the_acknowledgement_is_judged_late_by_the_worked_examples() {
    for (received_on, _, acknowledge_by, _) in WORKED {
        let Some(acknowledge_by) = acknowledge_by else {
            continue;
        };
        let on_time =
            expect_ok(given(vec![received(received_on)]).when(now(acknowledge(acknowledge_by))));
        assert!(
            matches!(
                on_time[0],
                ComplaintEvent::ComplaintAcknowledged { late: false, .. }
            ),
            "{received_on}"
        );
        let next_day = d(acknowledge_by).succ_opt().unwrap().to_string();
        let late = expect_ok(given(vec![received(received_on)]).when(now(acknowledge(&next_day))));
        assert!(
            matches!(
                late[0],
                ComplaintEvent::ComplaintAcknowledged { late: true, .. }
            ),
            "{received_on}"
        );
    }
}

#[test]
fn the_deadlines_carry_the_calendar_version_and_time_limit() {
    let dates = dates(vec![receipt("2025-06-02")
        .about("2024-03-10", "2024-06-02")
        .event()]);
    assert_eq!(dates.calendar_version, Calendar::shipped().version());
    assert_eq!(dates.time_limit_ends_on, Some(d("2025-06-02")));
    assert_eq!(dates.consent_lapses_on, None);
}

// R-RESP-4: received 2 April 2026, the six months end on 1 October 2026.
#[test]
fn an_extension_agreed_by_the_end_of_the_six_months_extends_the_statutory_period() {
    let dates = dates(vec![
        received("2026-04-02"),
        plan_agreed("2026-10-01", "2026-11-30"),
    ]);
    assert_eq!(dates.six_month_end, d("2026-10-01"));
    assert_eq!(dates.statutory_period_end, d("2026-11-30"));
    assert_eq!(dates.delay_letter_due, d("2026-12-01"));
}

#[test]
fn an_extension_agreed_after_the_six_months_does_not_extend_the_statutory_period() {
    let dates = dates(vec![
        received("2026-04-02"),
        plan_agreed("2026-10-02", "2026-11-30"),
    ]);
    assert_eq!(dates.statutory_period_end, d("2026-10-01"));
    assert_eq!(dates.delay_letter_due, d("2026-10-02"));
    // It still sets the response date.
    assert_eq!(dates.response_due, Some(d("2026-11-30")));
}

#[test]
fn a_shorter_agreed_period_does_not_shorten_the_statutory_period() {
    let dates = dates(vec![
        received("2026-04-02"),
        plan_agreed("2026-04-07", "2026-05-29"),
    ]);
    assert_eq!(dates.statutory_period_end, d("2026-10-01"));
}

#[test]
fn a_review_plan_does_not_extend_the_statutory_period() {
    let dates = dates(vec![
        received("2026-04-02"),
        responded("2026-04-20", 1),
        escalated("2026-05-01"),
        plan_agreed("2026-05-02", "2026-11-30"),
    ]);
    assert_eq!(dates.statutory_period_end, d("2026-10-01"));
}

#[test]
fn the_acknowledgement_is_pending_until_its_day_then_missed() {
    let history = vec![received("2026-04-02")];
    assert_eq!(
        state(history.clone(), "2026-04-09", Kind::Acknowledgement),
        State::Pending
    );
    assert_eq!(
        state(history, "2026-04-10", Kind::Acknowledgement),
        State::Missed
    );
}

#[test]
fn the_acknowledgement_is_met_on_time_or_late() {
    let on_time = status(
        vec![received("2026-04-02"), acknowledged("2026-04-09")],
        "2026-06-01",
        Kind::Acknowledgement,
    );
    assert_eq!(on_time.state, State::MetOnTime);
    assert_eq!(on_time.met_on, Some(d("2026-04-09")));
    assert_eq!(on_time.due_on, Some(d("2026-04-09")));
    assert_eq!(
        state(
            vec![received("2026-04-02"), acknowledged("2026-04-10")],
            "2026-06-01",
            Kind::Acknowledgement
        ),
        State::MetLate
    );
}

#[test]
fn closing_before_the_acknowledgement_is_due_means_none_is_required() {
    let resolved_orally = vec![
        receipt("2026-04-02").by(Channel::OralPhone).event(),
        ComplaintEvent::ComplaintClosed {
            closed_on: d("2026-04-07"),
            reason: ClosureReason::Excluded,
            exclusion_category: Some(ExclusionCategory::OralResolvedNextWorkingDay),
            transferred_to: None,
            resolved_on: None,
        },
    ];
    assert_eq!(
        state(resolved_orally, "2026-06-01", Kind::Acknowledgement),
        State::NotRequired
    );
    let closed_late = vec![
        received("2026-04-02"),
        closed("2026-04-10", ClosureReason::Withdrawn),
    ];
    assert_eq!(
        state(closed_late, "2026-06-01", Kind::Acknowledgement),
        State::Missed
    );
}

#[test]
fn the_consent_deadline_applies_only_when_consent_is_needed() {
    let kinds: Vec<DeadlineKind> = deadline_statuses(
        &fold(vec![received("2026-04-02")]),
        &services(),
        d("2026-04-03"),
    )
    .into_iter()
    .map(|s| s.kind)
    .collect();
    assert_eq!(
        kinds,
        vec![
            Kind::Acknowledgement,
            Kind::InternalTarget,
            Kind::DelayLetter
        ]
    );
}

#[test]
fn the_consent_deadline_is_pending_met_or_missed() {
    let waiting = || vec![received_needing_consent("2026-04-02")];
    assert_eq!(
        state(waiting(), "2026-05-15", Kind::Consent),
        State::Pending
    );
    assert_eq!(state(waiting(), "2026-05-16", Kind::Consent), State::Missed);
    assert_eq!(
        state(
            [waiting(), vec![consent_given("2026-05-15")]].concat(),
            "2026-06-01",
            Kind::Consent
        ),
        State::MetOnTime
    );
    assert_eq!(
        state(
            [waiting(), vec![consent_given("2026-05-18")]].concat(),
            "2026-06-01",
            Kind::Consent
        ),
        State::MetLate
    );
    assert_eq!(
        state(
            [waiting(), vec![consent_refused("2026-04-08")]].concat(),
            "2026-04-09",
            Kind::Consent
        ),
        State::Missed
    );
    let lapsed = [
        waiting(),
        vec![
            consent_lapsed("2026-05-15"),
            closed("2026-05-15", ClosureReason::ConsentNotReceived),
        ],
    ]
    .concat();
    assert_eq!(state(lapsed, "2026-05-15", Kind::Consent), State::Missed);
}

#[test]
fn the_internal_target_is_pending_met_missed_or_stopped() {
    // Received 2 June 2025: due 7 July 2025.
    let open = || vec![received("2025-06-02")];
    assert_eq!(
        state(open(), "2025-07-07", Kind::InternalTarget),
        State::Pending
    );
    assert_eq!(
        state(open(), "2025-07-08", Kind::InternalTarget),
        State::Missed
    );
    assert_eq!(
        state(
            [open(), vec![responded("2025-07-07", 1)]].concat(),
            "2025-08-01",
            Kind::InternalTarget
        ),
        State::MetOnTime
    );
    assert_eq!(
        state(
            [open(), vec![responded("2025-07-08", 1)]].concat(),
            "2025-08-01",
            Kind::InternalTarget
        ),
        State::MetLate
    );
    let stopped = status(
        [open(), vec![clock_stopped("2025-06-09")]].concat(),
        "2025-08-01",
        Kind::InternalTarget,
    );
    assert_eq!((stopped.state, stopped.due_on), (State::Stopped, None));
    let withdrawn = [open(), vec![closed("2025-06-20", ClosureReason::Withdrawn)]].concat();
    assert_eq!(
        state(withdrawn, "2025-08-01", Kind::InternalTarget),
        State::NotRequired
    );
}

#[test]
fn the_delay_letter_is_not_required_after_a_response_within_the_statutory_period() {
    let history = vec![received("2026-04-02"), responded("2026-10-01", 1)];
    assert_eq!(
        state(history, "2027-01-01", Kind::DelayLetter),
        State::NotRequired
    );
}

#[test]
fn the_delay_letter_is_due_the_day_after_the_six_months() {
    let open = || vec![received("2026-04-02")];
    let pending = status(open(), "2026-10-02", Kind::DelayLetter);
    assert_eq!(
        (pending.state, pending.due_on),
        (State::Pending, Some(d("2026-10-02")))
    );
    assert_eq!(
        state(open(), "2026-10-03", Kind::DelayLetter),
        State::Missed
    );
    assert_eq!(
        state(
            [open(), vec![delay_notified("2026-10-02")]].concat(),
            "2026-10-03",
            Kind::DelayLetter
        ),
        State::MetOnTime
    );
    assert_eq!(
        state(
            [open(), vec![delay_notified("2026-10-05")]].concat(),
            "2026-10-05",
            Kind::DelayLetter
        ),
        State::MetLate
    );
    // A late response without a letter leaves the letter missed.
    assert_eq!(
        state(
            [open(), vec![responded("2026-10-20", 1)]].concat(),
            "2026-11-01",
            Kind::DelayLetter
        ),
        State::Missed
    );
}

#[test]
fn an_extension_in_time_moves_the_delay_letter_deadline() {
    let history = vec![
        received("2026-04-02"),
        plan_agreed("2026-09-30", "2026-11-30"),
    ];
    assert_eq!(
        state(history.clone(), "2026-10-05", Kind::DelayLetter),
        State::Pending
    );
    assert_eq!(
        status(history, "2026-10-05", Kind::DelayLetter).due_on,
        Some(d("2026-12-01"))
    );
}

#[test]
fn every_deadline_names_the_calendar_it_came_from() {
    let history = vec![received_needing_consent("2026-04-02")];
    for status in deadline_statuses(&fold(history), &services(), d("2026-04-03")) {
        assert_eq!(
            status.calendar_version,
            Calendar::shipped().version(),
            "{:?}",
            status.kind
        );
    }
}

#[test]
fn there_are_no_deadline_statuses_before_receipt() {
    assert!(deadline_statuses(&Complaint::default(), &services(), d("2026-04-03")).is_empty());
}

/// The shipped rules for 2026 plus a one-off holiday on Wednesday 8 April 2026.
fn corrected_services() -> ComplaintServices {
    let event = |title: &str, day: &str| {
        format!(r#"{{"title":"{title}","date":"{day}","notes":"","bunting":true}}"#)
    };
    let mut events: Vec<String> = Calendar::rules_only()
        .holidays_in(2026)
        .into_iter()
        .map(|(day, title)| event(&title, &day.to_string()))
        .collect();
    events.push(event("One-off holiday", "2026-04-08"));
    let json = format!(
        r#"{{"england-and-wales":{{"division":"england-and-wales","events":[{}]}}}}"#,
        events.join(",")
    );
    let calendar = Calendar::from_govuk_json(&json, "corrected 2026").unwrap();
    ComplaintServices {
        calendar: Arc::new(calendar),
        ..services()
    }
}

#[test]
fn a_calendar_correction_moves_the_deadlines_of_recorded_complaints() {
    let history = vec![received("2026-04-02"), acknowledged("2026-04-10")];
    let shipped = deadlines(&fold(history.clone()), &services()).unwrap();
    assert_eq!(shipped.acknowledge_by, d("2026-04-09"));

    let corrected = corrected_services();
    let moved = deadlines(&fold(history.clone()), &corrected).unwrap();
    assert_eq!(moved.acknowledge_by, d("2026-04-10"));
    assert_eq!(moved.calendar_version, "corrected 2026");

    // The same acknowledgement is judged against the calendar in force.
    let judged = |services: &ComplaintServices| {
        deadline_statuses(&fold(history.clone()), services, d("2026-05-01"))
            .into_iter()
            .find(|s| s.kind == Kind::Acknowledgement)
            .unwrap()
            .state
    };
    assert_eq!(judged(&services()), State::MetLate);
    assert_eq!(judged(&corrected), State::MetOnTime);
}

#[test]
fn a_calendar_correction_moves_the_response_and_consent_dates() {
    let history = vec![received_needing_consent("2026-04-02")];
    let shipped = deadlines(&fold(history.clone()), &services()).unwrap();
    let corrected = deadlines(&fold(history), &corrected_services()).unwrap();
    assert_eq!(shipped.consent_lapses_on, Some(d("2026-05-15")));
    assert_eq!(corrected.consent_lapses_on, Some(d("2026-05-18")));
    assert_eq!(
        shipped.response_due.unwrap().succ_opt().unwrap(),
        corrected.response_due.unwrap()
    );
}

#[test]
fn acknowledging_under_the_corrected_calendar_is_judged_by_it() {
    given_with(corrected_services(), vec![received("2026-04-02")])
        .when(now(acknowledge("2026-04-10")))
        .then_expect_events(vec![acknowledged("2026-04-10")]);
}

#[test]
fn only_oral_complaints_have_an_oral_resolution_day_and_only_closed_ones_a_retention_review() {
    let open = dates(vec![receipt("2026-04-02").event()]);
    assert_eq!(open.oral_resolution_by, None);
    assert_eq!(open.retention_review_due, None);
    let closed = dates(vec![
        receipt("2026-04-02").event(),
        ComplaintEvent::ComplaintClosed {
            closed_on: d("2026-06-30"),
            reason: ClosureReason::Withdrawn,
            exclusion_category: None,
            transferred_to: None,
            resolved_on: None,
        },
    ]);
    assert_eq!(closed.retention_review_due, Some(d("2036-06-30")));
}
