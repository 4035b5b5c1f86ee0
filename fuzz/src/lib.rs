//! What the fuzz targets share: decoding a command body as the gateway does (the same body
//! types, from bytes), and a complaint received on a fixed day to run commands against.

use chrono::NaiveDate;
use complaints_domain::*;

/// How many command kinds [`decode`] knows.
pub const KINDS: u8 = 19;

/// Decodes `body` as the body of command `kind` (as the HTTP route or intake would).
pub fn decode(kind: u8, body: &[u8]) -> Option<ComplaintAction> {
    macro_rules! as_action {
        ($variant:ident($ty:ty)) => {
            serde_json::from_slice::<$ty>(body)
                .ok()
                .map(ComplaintAction::$variant)
        };
    }
    match kind % KINDS {
        0 => as_action!(Acknowledge(AcknowledgeComplaint)),
        1 => as_action!(AcceptOutOfTime(AcceptOutOfTime)),
        2 => as_action!(RequestConsent(RequestConsent)),
        3 => as_action!(RecordConsent(RecordConsent)),
        4 => as_action!(LapseConsent(LapseConsent)),
        5 => as_action!(AssessRisk(AssessRisk)),
        6 => as_action!(AgreeResponsePlan(AgreeResponsePlan)),
        7 => as_action!(StopClock(StopClock)),
        8 => as_action!(RestartClock(RestartClock)),
        9 => as_action!(NotifyDelay(NotifyDelay)),
        10 => as_action!(SendResponse(SendResponse)),
        11 => as_action!(Escalate(EscalateComplaint)),
        12 => as_action!(ReferToOmbudsman(ReferToOmbudsman)),
        13 => as_action!(RecordOmbudsmanDecision(RecordOmbudsmanDecision)),
        14 => as_action!(RecordLearning(RecordLearning)),
        15 => as_action!(Close(CloseComplaint)),
        16 => as_action!(Reopen(ReopenComplaint)),
        17 => as_action!(PlaceLegalHold(PlaceLegalHold)),
        _ => as_action!(Receive(ReceiveComplaint)),
    }
}

/// The day every command is issued on.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default()
}

/// A complaint received on 2026-04-02 by email.
pub fn received() -> Complaint {
    let body = serde_json::json!({
        "organisation_id": "RAL", "received_on": "2026-04-02", "channel": "email",
        "subject_areas": ["communications"], "description": "x",
        "complainant": {"name": "A"}
    });
    let mut case = Complaint::default();
    let Ok(receive) = serde_json::from_value::<ReceiveComplaint>(body) else {
        return case;
    };
    let command = ComplaintCommand {
        issued_on: today(),
        action: ComplaintAction::Receive(receive),
    };
    if let Ok(events) = decide(&case, command, &ComplaintServices::standard()) {
        for event in events {
            evolve(&mut case, event);
        }
    }
    case
}
