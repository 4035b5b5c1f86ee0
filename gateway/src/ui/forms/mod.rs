//! The case page's command forms, read off the command table: which commands a caseworker
//! gets a form for (this table), and for each its fields. A field's kind, whether it is
//! required, its hint (the body type's doc comment), its default and the options of a
//! choice all come from the command's JSON Schema (`CommandSpec::schema`, read in
//! `schema`), so a new code in a list, or a field made optional, reaches the form without
//! touching it; a test checks every form against its schema. What a form sends is the
//! command's JSON body (`view`), run by the same runner as the API.

use complaints_domain::{CaseKind, Complaint};

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

/// The forms `case` offers, in page order.
pub(crate) fn offered(case: &Complaint) -> impl Iterator<Item = &'static FormSpec> + '_ {
    FORMS.iter().filter(move |f| f.offered.holds(case))
}
