//! The case page's command forms, read off the command table: which commands a caseworker
//! gets a form for (this table), and for each its fields. A field's kind, whether it is
//! required, its hint (the body type's doc comment), its default and the options of a
//! choice all come from the command's JSON Schema (`CommandSpec::schema`, read in
//! `schema`), so a new code in a list, or a field made optional, reaches the form without
//! touching it; a test checks every form against its schema. What a form sends is the
//! command's JSON body (`view`), run by the same runner as the API.
//!
//! The table is long because it is one entry per command a caseworker runs; the entries
//! only name fields and label them, so it earns its length rather than being split.

use complaints_domain::{CaseKind, Complaint, RepresentationBasis};

mod schema;
mod view;

pub(crate) use view::{body, capitalise, new_command_id, value, FormView};

/// When a form is offered on the case page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offered {
    /// Open and not yet acknowledged.
    Unacknowledged,
    /// While the case is open.
    Open,
    /// Open with the response clock running.
    ClockRunning,
    /// Open with the response clock stopped.
    ClockStopped,
    /// Once the case is closed.
    Closed,
    /// Open or closed: a fact from outside (R-FACT-1).
    Always,
    /// An open enquiry (R-KIND-1).
    OpenEnquiry,
    /// Open with the person affected's consent needed and not yet given (R-WHO-5).
    ConsentOutstanding,
    /// Open, made out of time and not yet accepted (R-TL-2).
    OutOfTime,
    /// Open and made by a child's representative (R-WHO-3).
    ChildsRepresentative,
    /// No legal hold in force (R-RET-1).
    NotHeld,
    /// A legal hold in force.
    Held,
    /// An ombudsman recommendation not yet done (R-OMB-2).
    RecommendationOutstanding,
    /// Open with another body taking part (R-JOINT-2).
    Joint,
    /// Never to the lead: a body taking part runs it on the lead's case (R-JOINT-2).
    ToParticipant,
}

impl Offered {
    fn holds(self, case: &Complaint) -> bool {
        let open = !case.is_closed();
        match self {
            Offered::Unacknowledged => open && case.acknowledged_on.is_none(),
            Offered::Open => open,
            Offered::ClockRunning => open && case.open_clock_stop().is_none(),
            Offered::ClockStopped => open && case.open_clock_stop().is_some(),
            Offered::Closed => !open,
            Offered::Always => true,
            Offered::OpenEnquiry => open && case.kind() == CaseKind::Enquiry,
            Offered::ConsentOutstanding => open && case.consent_outstanding(),
            Offered::OutOfTime => open && !case.in_time() && case.out_of_time_accepted_on.is_none(),
            Offered::ChildsRepresentative => {
                open && case
                    .receipt
                    .as_ref()
                    .is_some_and(|r| r.representation_basis == Some(RepresentationBasis::Child))
            }
            Offered::NotHeld => case.legal_hold.is_none(),
            Offered::Held => case.legal_hold.is_some(),
            Offered::RecommendationOutstanding => {
                case.recommendations.iter().any(|r| r.done_on.is_none())
            }
            Offered::Joint => open && case.current_participants().next().is_some(),
            Offered::ToParticipant => false,
        }
    }
}

/// A field of a form: its path in the command's body (`letter.conclusions`) and label.
pub(crate) struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    /// Free text longer than a line.
    pub long: bool,
}

const fn f(name: &'static str, label: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        label,
        long: false,
    }
}

const fn long(name: &'static str, label: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        label,
        long: true,
    }
}

/// A form for one command of the command table.
pub(crate) struct FormSpec {
    /// The command's name in `COMMANDS` (and the last segment of the form's address).
    pub command: &'static str,
    /// The form's heading.
    pub title: &'static str,
    /// What the form records, for "… was recorded" and "… was not recorded".
    pub what: &'static str,
    pub button: &'static str,
    pub offered: Offered,
    pub fields: &'static [FieldSpec],
}

/// The forms of the case page, in the order it shows them.
pub(crate) const FORMS: &[FormSpec] = &[
    FormSpec {
        command: "acknowledgement",
        title: "Acknowledge",
        what: "The acknowledgement",
        button: "Record the acknowledgement",
        offered: Offered::Unacknowledged,
        fields: &[
            f("acknowledged_on", "Day of the acknowledgement"),
            f(
                "discussion_offered",
                "Offered to discuss how the complaint will be handled",
            ),
        ],
    },
    FormSpec {
        command: "assignment",
        title: "Assign to a caseworker",
        what: "The assignment",
        button: "Record the assignment",
        offered: Offered::Open,
        fields: &[
            f("assigned_on", "Day of the assignment"),
            f("caseworker", "Caseworker's sign-in name"),
        ],
    },
    FormSpec {
        command: "progress-contact",
        title: "Record a progress contact",
        what: "The progress contact",
        button: "Record the contact",
        offered: Offered::Open,
        fields: &[
            f("contacted_on", "Day of the contact"),
            f("method", "How"),
            long("summary", "What was said"),
        ],
    },
    FormSpec {
        command: "response-plan",
        title: "Agree the response period",
        what: "The response plan",
        button: "Record the response plan",
        offered: Offered::Open,
        fields: &[
            f("agreed_on", "Day it was agreed or notified"),
            f("response_due_on", "Response due on"),
            f(
                "discussion_outcome",
                "How the complainant answered the offer to discuss",
            ),
        ],
    },
    FormSpec {
        command: "risk-assessment",
        title: "Grade the risk",
        what: "The risk grading",
        button: "Record the risk grading",
        offered: Offered::Open,
        fields: &[
            f("assessed_on", "Day of the assessment"),
            f("seriousness", "Seriousness"),
            f("likelihood", "Likelihood of recurrence"),
        ],
    },
    FormSpec {
        command: "clock-stops",
        title: "Stop the response clock",
        what: "The clock stop",
        button: "Stop the clock",
        offered: Offered::ClockRunning,
        fields: &[
            f("stopped_on", "First day the clock does not run"),
            long("reason", "Why"),
            f("complainant_agreed", "The complainant agreed to the stop"),
        ],
    },
    FormSpec {
        command: "clock-restarts",
        title: "Restart the response clock",
        what: "The clock restart",
        button: "Restart the clock",
        offered: Offered::ClockStopped,
        fields: &[f("restarted_on", "Day the clock runs again")],
    },
    FormSpec {
        command: "delay-notification",
        title: "Record a delay notification",
        what: "The delay notification",
        button: "Record the delay notification",
        offered: Offered::Open,
        fields: &[
            f("notified_on", "Day of the letter"),
            long("reason", "Why the response is late"),
            f("expected_response_on", "Response now expected on"),
        ],
    },
    FormSpec {
        command: "response",
        title: "Send the written response",
        what: "The written response",
        button: "Record the response",
        offered: Offered::Open,
        fields: &[
            f("sent_on", "Day it was sent"),
            f("outcome", "Outcome"),
            long(
                "letter.how_considered",
                "(i) How the complaint was considered",
            ),
            long("letter.conclusions", "(ii) The conclusions reached"),
            long("letter.actions", "(iii) The action taken or to be taken"),
            f("ombudsman_rights", "(iv) The ombudsman the letter names"),
            f("signed_by", "Signed by (staff identifier)"),
            f("signed_as", "Signed as"),
        ],
    },
    FormSpec {
        command: "escalation",
        title: "Escalate to internal review",
        what: "The escalation",
        button: "Record the escalation",
        offered: Offered::Open,
        fields: &[
            f("escalated_on", "Day the complainant asked for review"),
            long("reason", "What the complainant is unhappy with"),
        ],
    },
    FormSpec {
        command: "out-of-time-acceptance",
        title: "Accept the complaint out of time",
        what: "The decision to investigate out of time",
        button: "Record the acceptance",
        offered: Offered::OutOfTime,
        fields: &[
            f("accepted_on", "Day of the decision"),
            f(
                "good_reason_for_delay",
                "The complainant had good reason for not complaining in time",
            ),
            f(
                "fair_investigation_possible",
                "It is still possible to investigate effectively and fairly",
            ),
            f("decided_by", "Decided by (staff identifier)"),
            long("rationale", "Why"),
        ],
    },
    FormSpec {
        command: "out-of-time-refusal",
        title: "Decide not to investigate (out of time)",
        what: "The decision not to investigate out of time",
        button: "Record the refusal",
        offered: Offered::OutOfTime,
        fields: &[
            f("decided_on", "Day of the decision"),
            f(
                "good_reason_for_delay",
                "The complainant had good reason for not complaining in time",
            ),
            f(
                "fair_investigation_possible",
                "It is still possible to investigate effectively and fairly",
            ),
            f("decided_by", "Decided by (staff identifier)"),
            long("rationale", "Why"),
        ],
    },
    FormSpec {
        command: "representative-grounds",
        title: "Decide on the representative's grounds",
        what: "The decision on the representative's grounds",
        button: "Record the decision",
        offered: Offered::ChildsRepresentative,
        fields: &[
            f("decided_on", "Day of the decision"),
            f(
                "satisfied",
                "Satisfied there are reasonable grounds for the representative to complain",
            ),
            long("reasons", "Reasons"),
            f("decided_by", "Decided by (staff identifier)"),
        ],
    },
    FormSpec {
        command: "consent-request",
        title: "Ask for consent",
        what: "The request for consent",
        button: "Record the request",
        offered: Offered::ConsentOutstanding,
        fields: &[f("requested_on", "Day of the request")],
    },
    FormSpec {
        command: "consent",
        title: "Record the answer on consent",
        what: "The answer on consent",
        button: "Record the answer",
        offered: Offered::ConsentOutstanding,
        fields: &[
            f("decided_on", "Day the answer arrived"),
            f("decision", "Given or refused"),
            f("evidence", "Evidence"),
        ],
    },
    FormSpec {
        command: "consent-to-share",
        title: "Record a consent to share",
        what: "The consent to share",
        button: "Record the consent",
        offered: Offered::Always,
        fields: &[
            f("given_on", "Day it was given"),
            f("for_whom", "Whose information"),
            f("given_by", "Given by"),
            f("scopes", "What it permits"),
            f("method", "How it was given"),
            long("evidence", "Evidence"),
            f("share_with", "Bodies it may be shared with"),
        ],
    },
    FormSpec {
        command: "participants",
        title: "Handle jointly with another body",
        what: "The joint handling",
        button: "Add the body taking part",
        offered: Offered::Open,
        fields: &[
            f("organisation_id", "The other body (ODS code)"),
            f("agreed_on", "Day the bodies agreed who leads"),
            f("agreed_by", "Agreed by (staff identifier)"),
            long("reason", "Which part of the complaint is the other body's"),
        ],
    },
    FormSpec {
        command: "part-request",
        title: "Ask a body taking part for its part",
        what: "The request for a part",
        button: "Record the request",
        offered: Offered::Joint,
        fields: &[
            f("organisation_id", "The body taking part (ODS code)"),
            f("requested_on", "Day it was asked"),
            f("due_on", "Part due on"),
        ],
    },
    FormSpec {
        command: "participant-removal",
        title: "End a body's part in the joint complaint",
        what: "The end of the body's part",
        button: "Record the removal",
        offered: Offered::Joint,
        fields: &[
            f("organisation_id", "The body taking part (ODS code)"),
            f("removed_on", "Day it stopped taking part"),
            long("reason", "Why"),
        ],
    },
    FormSpec {
        command: "provide-part",
        title: "Provide this body's part",
        what: "This body's part",
        button: "Provide the part",
        offered: Offered::ToParticipant,
        fields: &[
            f("provided_on", "Day it was supplied"),
            long("findings", "What this body found"),
            long(
                "response_section",
                "Its section of the co-ordinated response",
            ),
            f("organisation_id", "Supplied by (ODS code)"),
        ],
    },
    FormSpec {
        command: "learning",
        title: "Record learning",
        what: "The learning",
        button: "Record the learning",
        offered: Offered::Always,
        fields: &[
            f("recorded_on", "Day it was recorded"),
            f("kind", "Lesson or action"),
            long("summary", "Summary"),
            f("action_due_on", "Action due on"),
        ],
    },
    FormSpec {
        command: "ombudsman-referral",
        title: "Record an ombudsman referral",
        what: "The ombudsman referral",
        button: "Record the referral",
        offered: Offered::Always,
        fields: &[
            f("ombudsman", "Ombudsman"),
            f("informed_on", "Day the organisation was told"),
            f("ombudsman_reference", "The ombudsman's reference"),
        ],
    },
    FormSpec {
        command: "ombudsman-decision",
        title: "Record an ombudsman's decision",
        what: "The ombudsman's decision",
        button: "Record the decision",
        offered: Offered::Always,
        fields: &[
            f("ombudsman", "Ombudsman"),
            f("decided_on", "Day of the decision"),
            f("decision", "What was decided"),
            long(
                "recommendations[0].description",
                "Recommendation 1: what the ombudsman asks",
            ),
            f("recommendations[0].due_on", "Recommendation 1: due on"),
            long(
                "recommendations[1].description",
                "Recommendation 2: what the ombudsman asks",
            ),
            f("recommendations[1].due_on", "Recommendation 2: due on"),
            long(
                "recommendations[2].description",
                "Recommendation 3: what the ombudsman asks",
            ),
            f("recommendations[2].due_on", "Recommendation 3: due on"),
        ],
    },
    FormSpec {
        command: "recommendation-done",
        title: "Record a recommendation carried out",
        what: "The recommendation carried out",
        button: "Record it done",
        offered: Offered::RecommendationOutstanding,
        fields: &[
            f("recommendation", "Recommendation number"),
            f("done_on", "Day it was done"),
            long("what_was_done", "What was done"),
        ],
    },
    FormSpec {
        command: "legal-hold",
        title: "Place a legal hold",
        what: "The legal hold",
        button: "Place the hold",
        offered: Offered::NotHeld,
        fields: &[
            f("placed_on", "Day the hold starts"),
            f("ground", "Ground"),
            f("note", "What it is about"),
        ],
    },
    FormSpec {
        command: "legal-hold-release",
        title: "Lift the legal hold",
        what: "The end of the legal hold",
        button: "Lift the hold",
        offered: Offered::Held,
        fields: &[f("released_on", "Day the hold ends")],
    },
    FormSpec {
        command: "record-letter",
        title: "Record a letter",
        what: "The letter",
        button: "Record the letter",
        offered: Offered::Always,
        fields: &[f("kind", "Which letter"), f("sent_on", "Day it was sent")],
    },
    FormSpec {
        command: "treat-as-complaint",
        title: "Treat this enquiry as a complaint",
        what: "The decision to treat the enquiry as a complaint",
        button: "Treat as a complaint",
        offered: Offered::OpenEnquiry,
        fields: &[
            f("treated_on", "Day it is treated as a complaint"),
            f("subject_areas", "Subject areas of the complaint"),
        ],
    },
    FormSpec {
        command: "death",
        title: "Record a death",
        what: "The death",
        button: "Record the death",
        offered: Offered::Always,
        fields: &[f("person", "Whose death"), f("died_on", "Day of death")],
    },
    FormSpec {
        command: "closure",
        title: "Close the complaint",
        what: "The closure",
        button: "Close the complaint",
        offered: Offered::Open,
        fields: &[
            f("closed_on", "Day of closure"),
            f("reason", "Why"),
            f("exclusion_category", "Exclusion category (regulation 8(1))"),
            f("transferred_to", "Transferred to (organisation)"),
            f(
                "receiver_received_on",
                "Day the receiving organisation received it",
            ),
            f(
                "complainant_consented",
                "The complainant agreed to the transfer",
            ),
        ],
    },
    FormSpec {
        command: "reopening",
        title: "Reopen the complaint",
        what: "The reopening",
        button: "Reopen the complaint",
        offered: Offered::Closed,
        fields: &[f("reopened_on", "Day of reopening"), long("reason", "Why")],
    },
];

/// The form of `command`.
pub(crate) fn find(command: &str) -> Option<&'static FormSpec> {
    FORMS.iter().find(|f| f.command == command)
}

/// The forms `case` offers, in page order: to its own organisation those whose moment it
/// is; to a body taking part only the commands the runner lets it run (R-JOINT-2).
pub(crate) fn offered(
    case: &Complaint,
    participant: bool,
) -> impl Iterator<Item = &'static FormSpec> + '_ {
    FORMS.iter().filter(move |f| {
        if participant {
            crate::app::runner::PARTICIPANT_COMMANDS.contains(&f.command)
        } else {
            f.offered.holds(case)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_taking_part_is_offered_only_what_the_runner_lets_it_run() {
        let case = Complaint::default();
        let to_participant: Vec<_> = offered(&case, true).map(|f| f.command).collect();
        assert_eq!(to_participant, crate::app::runner::PARTICIPANT_COMMANDS);
        assert!(offered(&case, false).all(|f| f.command != "provide-part"));
    }
}
