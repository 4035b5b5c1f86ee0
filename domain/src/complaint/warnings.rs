//! Unusual facts on a complaint (R-FACT-1): what happened outside the body's control is
//! recorded whatever the state of the case, and what is unusual about it is flagged here.
//! Derived from the state on every read, so nothing new is stored and a flag disappears
//! when the facts that raised it change (a reopening, a later response).

use super::state::Complaint;
use crate::policy::ComplaintServices;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An unusual fact recorded on a complaint: accepted, but worth a look (R-FACT-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CaseWarning {
    /// Stable kebab-case code, e.g. `referral-before-response`.
    pub code: &'static str,
    /// Plain English, citing the rule; never personal data.
    pub message: String,
}

impl CaseWarning {
    fn new(code: &'static str, message: String) -> Self {
        Self { code, message }
    }
}

/// Every warning the complaint's facts raise, in a stable order. Pure.
pub fn warnings(case: &Complaint, services: &ComplaintServices) -> Vec<CaseWarning> {
    let mut out = Vec::new();
    if case.receipt.is_none() {
        return out;
    }
    referral_warnings(case, services, &mut out);
    decision_warnings(case, &mut out);
    consent_warnings(case, &mut out);
    clock_stop_warnings(case, &mut out);
    ombudsman_rights_warnings(case, services, &mut out);
    death_warnings(case, &mut out);
    out
}

/// R-OMB-3: a response names the ombudsman for the body's sector (PHSO for health, LGSCO
/// for adult social care, both for a body in both), as the register records it.
fn ombudsman_rights_warnings(
    case: &Complaint,
    services: &ComplaintServices,
    out: &mut Vec<CaseWarning>,
) {
    let Some(receipt) = case.receipt.as_ref() else {
        return;
    };
    let Some(organisation) = services.organisation(&receipt.organisation_id) else {
        return;
    };
    let required = organisation.ombudsmen();
    for response in &case.responses {
        let missing: Vec<String> = required
            .iter()
            .filter(|o| !response.ombudsman_rights.contains(o))
            .map(|o| o.code().to_uppercase())
            .collect();
        if !missing.is_empty() {
            out.push(CaseWarning::new(
                "ombudsman-not-named",
                format!(
                    "the response sent on {} does not name the {} the register's sector for this organisation calls for (R-RESP-2 (iv), R-OMB-3)",
                    response.sent_on,
                    missing.join(" and ")
                ),
            ));
        }
    }
}

/// R-FACT-1: a death changes what the case needs (R-WHO-2 (a), R-WHO-5).
fn death_warnings(case: &Complaint, out: &mut Vec<CaseWarning>) {
    if let Some(on) = case.complainant_died_on {
        out.push(CaseWarning::new(
            "complainant-died",
            format!(
                "the complainant died on {on}; a representative may continue the complaint (R-WHO-2 (a))"
            ),
        ));
    }
    if let Some(on) = case.person_affected_died_on {
        out.push(CaseWarning::new(
            "person-affected-died",
            format!(
                "the person affected died on {on}; their consent is no longer asked for (R-WHO-5), and letters go to the representative"
            ),
        ));
    }
}

fn referral_warnings(case: &Complaint, services: &ComplaintServices, out: &mut Vec<CaseWarning>) {
    // The stage-1 response date as the facts give it now; a referral after it is the
    // complainant going to the ombudsman for want of an answer, which R-OMB-1 expects.
    let first_due =
        case.deadline_facts()
            .and_then(|f| match f.stage_one_response_period(services) {
                Some(end) => Some(end),
                None => f.stage_one_internal_target(services),
            });
    let first_sent = case.first_response().map(|r| r.sent_on);
    for (i, referral) in case.referrals.iter().enumerate() {
        let on = referral.informed_on;
        let name = referral.ombudsman.code().to_uppercase();
        let answered = first_sent.is_some_and(|sent| sent <= on);
        let closed = case.closure.as_ref().is_some_and(|c| c.closed_on <= on);
        let overdue = first_due.is_some_and(|due| on > due);
        if !answered && !closed && !overdue {
            out.push(CaseWarning::new(
                "referral-before-response",
                format!(
                    "the body was told on {on} of a referral to the {name} before any response \
                     was sent or due; R-OMB-1 expects a referral after the local response or \
                     once it is overdue"
                ),
            ));
        }
        let still_open = case.referrals[..i].iter().any(|earlier| {
            earlier.ombudsman == referral.ombudsman && earlier_undecided(earlier, on)
        });
        if still_open {
            out.push(CaseWarning::new(
                "repeat-referral",
                format!(
                    "the body was told on {on} of a second referral to the {name} while an \
                     earlier one had no decision on record (R-OMB-1)"
                ),
            ));
        }
    }
}

/// Whether `earlier` had no decision on record by `on`.
fn earlier_undecided(earlier: &crate::facts::Referral, on: NaiveDate) -> bool {
    earlier.decided_on.is_none_or(|decided| decided > on)
}

fn decision_warnings(case: &Complaint, out: &mut Vec<CaseWarning>) {
    for decision in &case.decisions_without_referral {
        out.push(CaseWarning::new(
            "decision-without-referral",
            format!(
                "a decision of the {} dated {} was recorded with no referral on record; \
                 R-OMB-2 records a decision against the referral it answers, so record the \
                 referral too",
                decision.ombudsman.code().to_uppercase(),
                decision.decided_on
            ),
        ));
    }
}

fn consent_warnings(case: &Complaint, out: &mut Vec<CaseWarning>) {
    let consent = &case.consent;
    let answers: Vec<(&str, Option<NaiveDate>)> = std::iter::once(("given", consent.given_on))
        .chain(
            consent
                .earlier_refusals
                .iter()
                .map(|on| ("refused", Some(*on))),
        )
        .chain(std::iter::once(("refused", consent.refused_on)))
        .collect();
    if let Some(closure) = &case.closure {
        for &(what, on) in &answers {
            if let Some(on) = on.filter(|on| *on > closure.closed_on) {
                out.push(CaseWarning::new(
                    "consent-after-closure",
                    format!(
                        "consent was {what} on {on}, after the complaint was closed on {}; \
                         R-FACT-1 records it, and the complaint stays closed until reopened",
                        closure.closed_on
                    ),
                ));
            }
        }
    }
    if let Some(requested) = consent.requested_on {
        for &(what, on) in &answers {
            if let Some(on) = on.filter(|on| *on < requested) {
                out.push(CaseWarning::new(
                    "consent-before-request",
                    format!(
                        "consent was {what} on {on}, before it was requested on {requested} \
                         (R-FACT-1, R-WHO-5)"
                    ),
                ));
            }
        }
    }
    if !consent.earlier_refusals.is_empty() {
        out.push(CaseWarning::new(
            "consent-refused-again",
            format!(
                "consent was refused {} times; the latest refusal is on record (R-FACT-1, \
                 R-WHO-6)",
                consent.earlier_refusals.len() + 1
            ),
        ));
    }
}

fn clock_stop_warnings(case: &Complaint, out: &mut Vec<CaseWarning>) {
    for stop in case.clock_stops.iter().filter(|s| !s.complainant_agreed) {
        out.push(CaseWarning::new(
            "unagreed-clock-stop",
            format!(
                "the clock was stopped on {} without the complainant's agreement; it moves no \
                 response period (R-AR-4, R-REC-1)",
                stop.stopped_on
            ),
        ));
    }
}
