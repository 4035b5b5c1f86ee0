//! One test per review finding, named after its rule: R-RESP-3..5 (agreed and notified
//! periods), R-FACT-1 (facts from outside recorded in any state, flagged when unusual) and
//! R-AR-4 / R-REC-1 (only agreed clock stops move the response period).

use super::*;

fn codes(case: &Complaint) -> Vec<&'static str> {
    warnings(case, &services())
        .into_iter()
        .map(|w| w.code)
        .collect()
}

/// Runs `action` on `history` and appends the events it produced.
fn record(history: &mut Vec<ComplaintEvent>, action: impl Into<ComplaintAction>) {
    let produced = expect_ok(given(history.clone()).when(now(action)));
    assert!(!produced.is_empty());
    history.extend(produced);
}

// DOMAIN.md R-RESP-5 worked example: received 2026-01-05, six months end 2026-07-04.
#[test]
fn r_resp_5_a_period_set_after_the_complainant_declined_never_moves_the_delay_letter() {
    let notified = deadlines(
        &fold(vec![
            received("2026-01-05"),
            plan_notified("2026-01-07", "2026-09-30", DiscussionOutcome::Declined),
        ]),
        &services(),
    )
    .unwrap();
    assert_eq!(notified.six_month_end, d("2026-07-04"));
    assert_eq!(notified.statutory_period_end, d("2026-07-04"));
    assert_eq!(notified.delay_letter_due, d("2026-07-05"));
    // It is still the response target.
    assert_eq!(notified.response_due, Some(d("2026-09-30")));
    assert_eq!(notified.response_period_end, Some(d("2026-09-30")));

    let agreed = deadlines(
        &fold(vec![
            received("2026-01-05"),
            plan_agreed("2026-01-07", "2026-09-30"),
        ]),
        &services(),
    )
    .unwrap();
    assert_eq!(agreed.statutory_period_end, d("2026-09-30"));
    assert_eq!(agreed.delay_letter_due, d("2026-10-01"));
}

#[test]
fn r_resp_5_a_period_notified_when_the_complainant_did_not_reply_never_moves_the_six_months() {
    let dates = deadlines(
        &fold(vec![
            received("2026-01-05"),
            plan_notified("2026-01-07", "2026-09-30", DiscussionOutcome::NoReply),
        ]),
        &services(),
    )
    .unwrap();
    assert_eq!(dates.delay_letter_due, d("2026-07-05"));
}

#[test]
fn r_resp_4_an_extension_agreed_after_the_six_months_ended_moves_nothing() {
    let dates = deadlines(
        &fold(vec![
            received("2026-01-05"),
            plan_agreed("2026-07-05", "2026-09-30"),
        ]),
        &services(),
    )
    .unwrap();
    assert_eq!(dates.delay_letter_due, d("2026-07-05"));
    let in_time = deadlines(
        &fold(vec![
            received("2026-01-05"),
            plan_agreed("2026-07-04", "2026-09-30"),
        ]),
        &services(),
    )
    .unwrap();
    assert_eq!(in_time.delay_letter_due, d("2026-10-01"));
}

#[test]
fn r_fact_1_every_fact_from_outside_is_recorded_in_a_state_where_it_was_refused() {
    let mut history = vec![received_needing_consent("2026-04-02")];
    record(&mut history, request_consent("2026-04-10"));
    // Was DateOutOfOrder: a refusal dated before the request.
    record(
        &mut history,
        record_consent(ConsentDecision::Refused, "2026-04-08"),
    );
    // Was ConsentAlreadyDecided: a second refusal.
    record(
        &mut history,
        record_consent(ConsentDecision::Refused, "2026-04-13"),
    );
    record(&mut history, stop_clock("2026-04-14"));
    // Was ReferralBeforeFinalResponse: the clock is stopped and no response is due.
    record(&mut history, refer(Ombudsman::Phso, "2026-04-15"));
    // Was AlreadyReferred: a second referral to the same ombudsman.
    record(&mut history, refer(Ombudsman::Phso, "2026-04-16"));
    // Was NotReferred: a decision with no referral to that ombudsman on record.
    record(
        &mut history,
        record_decision(Ombudsman::Lgsco, "2026-04-17"),
    );
    record(&mut history, close("2026-04-20", ClosureReason::Withdrawn));
    // Was AlreadyClosed: consent arriving after closure.
    record(
        &mut history,
        record_consent(ConsentDecision::Given, "2026-04-22"),
    );

    let case = fold(history);
    assert_eq!(
        case.status(),
        Status::Closed,
        "no fact reopens the complaint"
    );
    assert_eq!(case.referrals.len(), 2);
    assert_eq!(case.consent.earlier_refusals, vec![d("2026-04-08")]);
    assert_eq!(case.consent.given_on, Some(d("2026-04-22")));
    let mut found = codes(&case);
    found.sort_unstable();
    found.dedup();
    assert_eq!(
        found,
        vec![
            "consent-after-closure",
            "consent-before-request",
            "consent-refused-again",
            "decision-without-referral",
            "referral-before-response",
            "repeat-referral",
        ]
    );
    // Every warning says which rule it is about.
    for warning in warnings(&case, &services()) {
        assert!(warning.message.contains("R-"), "{}", warning.message);
    }
}

#[test]
fn r_fact_1_impossible_dates_are_still_refused() {
    given(vec![received_needing_consent("2026-04-02")])
        .when(cmd(
            "2026-04-05",
            record_consent(ConsentDecision::Given, "2026-04-06"),
        ))
        .then_expect_error(in_future("decided_on", "2026-04-05"));
    given(vec![received("2026-04-02")])
        .when(now(refer(Ombudsman::Phso, "2026-04-01")))
        .then_expect_error(before_receipt("informed_on", "2026-04-02"));
}

// Received Monday 2 June 2025; period agreed to 30 June. Stopped Mon 9 June, restarted Mon
// 16 June: five working days.
#[test]
fn r_ar_4_only_a_stop_the_complainant_agreed_to_moves_the_agreed_period() {
    let with_stop = |stopped: ComplaintEvent| {
        fold(vec![
            received("2025-06-02"),
            plan_agreed("2025-06-04", "2025-06-30"),
            stopped,
            clock_restarted("2025-06-16"),
        ])
    };
    let agreed = with_stop(clock_stopped("2025-06-09"));
    let dates = deadlines(&agreed, &services()).unwrap();
    assert_eq!(dates.response_period_end, Some(d("2025-07-07")));
    assert!(codes(&agreed).is_empty());

    let unagreed = with_stop(unagreed_clock_stopped("2025-06-09"));
    let dates = deadlines(&unagreed, &services()).unwrap();
    assert_eq!(dates.response_period_end, Some(d("2025-06-30")));
    assert_eq!(codes(&unagreed), vec!["unagreed-clock-stop"]);
}

#[test]
fn r_ar_4_an_open_unagreed_stop_does_not_stop_the_clock() {
    let case = fold(vec![
        received("2025-06-02"),
        plan_agreed("2025-06-04", "2025-06-30"),
        unagreed_clock_stopped("2025-06-09"),
    ]);
    assert_eq!(
        response_due(&case, &services()),
        ResponseDue::Due(d("2025-06-30"))
    );
}

#[test]
fn r_rec_1_within_the_response_period_is_judged_against_the_period_agreed_or_notified() {
    let history = |sent: &str| {
        fold(vec![
            received("2025-06-02"),
            plan_notified("2025-06-04", "2025-06-30", DiscussionOutcome::Declined),
            responded(sent, 1),
        ])
    };
    assert_eq!(
        within_response_period(&history("2025-06-30"), &services()),
        Some(true)
    );
    assert_eq!(
        within_response_period(&history("2025-07-01"), &services()),
        Some(false)
    );
    // No period agreed or notified: nothing to judge, whatever the internal target says.
    let no_plan = fold(vec![received("2025-06-02"), responded("2025-06-10", 1)]);
    assert_eq!(within_response_period(&no_plan, &services()), None);
}

#[test]
fn r_ar_4_the_internal_target_is_its_own_deadline_never_the_agreed_one() {
    let open = fold(vec![received("2025-06-02")]);
    let dates = deadlines(&open, &services()).unwrap();
    assert_eq!(dates.internal_target, Some(d("2025-07-07")));
    assert_eq!(dates.response_period_end, None);
    let kinds: Vec<DeadlineKind> = deadline_statuses(&open, &services(), d("2025-06-03"))
        .into_iter()
        .map(|s| s.kind)
        .collect();
    assert!(!kinds.contains(&DeadlineKind::Response));
    assert!(kinds.contains(&DeadlineKind::InternalTarget));
}
