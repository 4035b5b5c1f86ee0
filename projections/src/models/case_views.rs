// Over 600 lines with its tests: the case list and the deadlines board share one fold.
//! The case list and the deadlines read models, fed by one consumer (`case_views`).
//!
//! Reporting interface (views, stable for BI tools):
//! - `rm_case_list`: one row per complaint: `complaint_id`, `organisation_id`, `status`,
//!   `stage`, `channel`, `subject_areas` (codes, comma-separated and comma-wrapped),
//!   `service_area`, `risk_rating`, `received_on`, `acknowledged_on`, `closed_on`,
//!   `closure_reason`, `flags` (codes of the unusual facts recorded on the complaint,
//!   R-FACT-1, comma-separated and comma-wrapped like `subject_areas`; `,,` when none),
//!   `last_activity_at`, `version`, `participants` (the other bodies taking part in a joint
//!   complaint the organisation leads, R-JOINT-2, comma-wrapped; `,,` when none), `kind`
//!   (complaint, enquiry or about_organisation, R-KIND-1, R-KIND-2), `assigned_to` (the
//!   caseworker's sign-in subject; null until assigned): a body
//!   taking part lists the case too, marked `joint_role` `participant` in the API.
//! - `rm_deadlines`: one row per deadline of each open complaint, and per deadline that
//!   outlives closure (`letter`, `ombudsman_recommendation`) of a closed one: `complaint_id`,
//!   `organisation_id`, `kind` (acknowledgement, consent, response (the period agreed with or
//!   notified to the complainant, when there is one), internal_target (the organisation's
//!   default period), delay_letter, oral_record (R-ACK-2), letter (the letter a closure
//!   owes), ombudsman_recommendation (R-OMB-2)), `due_on`,
//!   `state` as of the facts (pending, met_on_time, met_late, missed, stopped,
//!   not_required; a pending row whose `due_on` has passed is overdue), `met_on`,
//!   `calendar_version`, `item` (the recommendation's number; 0 for other kinds), `letter`
//!   (the letter kind owed, for `letter` and `oral_record`), `lead_organisation_id` (the
//!   organisation handling the complaint). A joint complaint's `participant_part` row (one per
//!   request, `item` its number, R-JOINT-2) is for the participant that owes it
//!   (`organisation_id`) and shows on the lead's board too (`lead_organisation_id`);
//!   `assigned_to` (the complaint's caseworker, on every row of it). Adds `item`, `letter`,
//!   `participants`, `lead_organisation_id`, `kind` and `assigned_to` to the tables:
//!   rebuild `case_views` after upgrading.

use super::batch::{execute_in, insert_rows, Value};
use super::sql::{codes_column, date_text, date_type, parse_codes, timestamp_text, timestamp_type};
use crate::state::{fold_batch, state_table, FoldedCase};
use crate::ProjectionError;
use async_trait::async_trait;
use chrono::NaiveDate;
use complaints_domain::{deadline_statuses, warnings, ComplaintServices, DeadlineState};
use complaints_eventlog::{
    on_pool, Backend, Consumer, EventLogError, Generation, Pool, StoredEvent, TableDef, Tx,
};
use schemars::JsonSchema;
use serde::Serialize;
use sqlx::Row;

/// Consumer name.
pub const NAME: &str = "case_views";

/// One row of `rm_case_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CaseListRow {
    /// Complaint id.
    pub complaint_id: String,
    /// Organisation.
    pub organisation_id: String,
    /// Kind of case: `complaint`, `enquiry` or `about_organisation` (R-KIND-1, R-KIND-2).
    pub kind: String,
    /// Status code.
    pub status: String,
    /// 1 or 2.
    pub stage: i64,
    /// Channel code.
    pub channel: String,
    /// Subject area codes.
    pub subject_areas: Vec<String>,
    /// Service area code.
    pub service_area: Option<String>,
    /// Current risk rating.
    pub risk_rating: Option<String>,
    /// Day received.
    pub received_on: NaiveDate,
    /// Day acknowledged.
    pub acknowledged_on: Option<NaiveDate>,
    /// Day closed.
    pub closed_on: Option<NaiveDate>,
    /// Closure reason code.
    pub closure_reason: Option<String>,
    /// Codes of the unusual facts recorded on the complaint (R-FACT-1), e.g.
    /// `referral-before-response`; one per code.
    pub flags: Vec<String>,
    /// When the last event was recorded (RFC 3339).
    pub last_activity_at: String,
    /// Version (last sequence).
    pub version: i64,
    /// The other bodies taking part in this joint complaint, which `organisation_id` leads
    /// (R-JOINT-2); empty for a complaint handled alone.
    pub participants: Vec<String>,
    /// How the reader's organisations stand to a joint complaint: `lead` or `participant`
    /// (R-JOINT-2); null for a complaint handled alone.
    pub joint_role: Option<String>,
    /// The caseworker the complaint is assigned to, by sign-in subject; null until assigned.
    pub assigned_to: Option<String>,
}

/// One row of `rm_deadlines`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DeadlineRow {
    /// Complaint id.
    pub complaint_id: String,
    /// The organisation the deadline is for: the complaint's own, or for a
    /// `participant_part` the body taking part that owes it (R-JOINT-2).
    pub organisation_id: String,
    /// Which deadline.
    pub kind: String,
    /// Due day (absent while the clock is stopped).
    pub due_on: Option<NaiveDate>,
    /// State as of the facts.
    pub state: String,
    /// When met.
    pub met_on: Option<NaiveDate>,
    /// Calendar the date came from.
    pub calendar_version: String,
    /// Which one of several of a kind: the ombudsman recommendation's number; 0 otherwise.
    pub item: i64,
    /// The letter owed, for `letter` and `oral_record` rows.
    pub letter: Option<String>,
    /// The organisation handling the complaint (the lead of a joint complaint), whose board
    /// shows every row of it.
    pub lead_organisation_id: String,
    /// The complaint's caseworker, by sign-in subject; null until assigned.
    pub assigned_to: Option<String>,
}

fn code<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The case-list row for a folded complaint; `None` before receipt. Pure.
pub fn case_row(
    id: &str,
    folded: &FoldedCase,
    services: &ComplaintServices,
) -> Option<CaseListRow> {
    let case = &folded.case;
    let receipt = case.receipt.as_ref()?;
    let mut flags: Vec<String> = warnings(case, services)
        .into_iter()
        .map(|w| w.code.to_string())
        .collect();
    flags.sort();
    flags.dedup();
    Some(CaseListRow {
        complaint_id: id.to_string(),
        organisation_id: receipt.organisation_id.clone(),
        kind: case.kind().code().to_string(),
        status: case.status().code().to_string(),
        stage: i64::from(case.stage),
        channel: receipt.channel.code().to_string(),
        subject_areas: receipt
            .subject_areas
            .iter()
            .map(|s| s.code().to_string())
            .collect(),
        service_area: receipt.service_area.map(|s| s.code().to_string()),
        risk_rating: case.risk.as_ref().map(|r| r.rating.code().to_string()),
        received_on: receipt.received_on,
        acknowledged_on: case.acknowledged_on,
        closed_on: case.closure.as_ref().map(|c| c.closed_on),
        closure_reason: case.closure.as_ref().map(|c| c.reason.code().to_string()),
        flags,
        last_activity_at: folded.last_event_at.clone(),
        version: folded.version,
        participants: case
            .current_participants()
            .map(|p| p.organisation_id.clone())
            .collect(),
        joint_role: None,
        assigned_to: case.assigned_to.clone(),
    })
}

/// The deadline rows of an open complaint, judged on the facts alone (no "today"): an
/// unmet deadline stays `pending` and readers compare `due_on` with their today. Pure.
pub fn deadline_rows(
    id: &str,
    folded: &FoldedCase,
    services: &ComplaintServices,
) -> Vec<DeadlineRow> {
    let case = &folded.case;
    let Some(receipt) = case.receipt.as_ref() else {
        return Vec::new();
    };
    let closed = case.is_closed();
    deadline_statuses(case, services, NaiveDate::MIN)
        .into_iter()
        // A closed complaint keeps only what outlives closure: the letter it owes and the
        // ombudsman's recommendations (R-EXCL-1, R-OMB-2).
        .filter(|s| !closed || s.kind.after_closure())
        .map(|s| DeadlineRow {
            complaint_id: id.to_string(),
            organisation_id: s
                .organisation_id
                .unwrap_or_else(|| receipt.organisation_id.clone()),
            kind: code(&s.kind),
            due_on: s.due_on,
            state: code(&s.state),
            met_on: s.met_on,
            calendar_version: s.calendar_version,
            item: s.item.map_or(0, i64::from),
            letter: s.letter.map(|l| l.code().to_string()),
            lead_organisation_id: receipt.organisation_id.clone(),
            assigned_to: case.assigned_to.clone(),
        })
        .collect()
}

/// The `case_views` consumer.
pub struct CaseViews {
    services: ComplaintServices,
}

impl CaseViews {
    /// Deadlines are computed with `services`' calendar and policies; rebuild after changing them.
    pub fn new(services: ComplaintServices) -> Self {
        Self { services }
    }
}

#[async_trait]
impl Consumer for CaseViews {
    fn name(&self) -> &'static str {
        NAME
    }

    // Every read and delete of `apply` goes by the primary key (the complaint id first).
    fn indexes_after_rebuild(&self) -> bool {
        true
    }

    fn docs(&self) -> Vec<complaints_eventlog::ViewDoc> {
        crate::models::comments::case_views()
    }

    fn tables(&self) -> Vec<TableDef> {
        vec![
            state_table("rm_case_state"),
            TableDef {
                base: "rm_case_list",
                columns: |b| {
                    let d = date_type(b);
                    let t = timestamp_type(b);
                    format!(
                        "complaint_id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, status TEXT NOT NULL,
                         stage BIGINT NOT NULL, channel TEXT NOT NULL, subject_areas TEXT NOT NULL,
                         service_area TEXT, risk_rating TEXT, received_on {d} NOT NULL, acknowledged_on {d},
                         closed_on {d}, closure_reason TEXT, flags TEXT NOT NULL, last_activity_at {t} NOT NULL,
                         version BIGINT NOT NULL, participants TEXT NOT NULL, kind TEXT NOT NULL,
                         assigned_to TEXT"
                    )
                },
                indexes: &[
                    "organisation_id, received_on, complaint_id",
                    "organisation_id, status",
                    "assigned_to, received_on",
                    // Joint complaints are few: the case list finds them through this.
                    "(participants <> ',,'), received_on, complaint_id",
                ],
            },
            TableDef {
                base: "rm_deadlines",
                columns: |b| {
                    let d = date_type(b);
                    format!(
                        "complaint_id TEXT NOT NULL, organisation_id TEXT NOT NULL, kind TEXT NOT NULL,
                         due_on {d}, state TEXT NOT NULL, met_on {d}, calendar_version TEXT NOT NULL,
                         item BIGINT NOT NULL DEFAULT 0, letter TEXT, lead_organisation_id TEXT NOT NULL,
                         assigned_to TEXT, PRIMARY KEY (complaint_id, kind, item)"
                    )
                },
                indexes: &[
                    "organisation_id, due_on",
                    "lead_organisation_id, due_on",
                    "assigned_to, due_on",
                    "organisation_id, met_on, due_on",
                    "lead_organisation_id, met_on, due_on",
                ],
            },
        ]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        generation: Generation,
        events: &[StoredEvent],
    ) -> Result<(), EventLogError> {
        let touched = fold_batch(tx, &generation.table("rm_case_state"), events).await?;
        let mut list_rows = Vec::with_capacity(touched.len());
        let mut due_rows = Vec::new();
        for (id, folded) in &touched {
            if let Some(row) = case_row(id, folded, &self.services) {
                let subjects = codes_column(&row.subject_areas);
                let flags = codes_column(&row.flags);
                let participants = codes_column(&row.participants);
                list_rows.push(vec![
                    Value::from(row.complaint_id),
                    Value::from(row.organisation_id),
                    Value::from(row.status),
                    Value::from(row.stage),
                    Value::from(row.channel),
                    Value::from(subjects),
                    Value::from(row.service_area),
                    Value::from(row.risk_rating),
                    Value::from(row.received_on),
                    Value::from(row.acknowledged_on),
                    Value::from(row.closed_on),
                    Value::from(row.closure_reason),
                    Value::from(flags),
                    Value::timestamp(&row.last_activity_at),
                    Value::from(row.version),
                    Value::from(participants),
                    Value::from(row.kind),
                    Value::from(row.assigned_to),
                ]);
            }
            for row in deadline_rows(id, folded, &self.services) {
                due_rows.push(vec![
                    Value::from(row.complaint_id),
                    Value::from(row.organisation_id),
                    Value::from(row.kind),
                    Value::from(row.due_on),
                    Value::from(row.state),
                    Value::from(row.met_on),
                    Value::from(row.calendar_version),
                    Value::from(row.item),
                    Value::from(row.letter),
                    Value::from(row.lead_organisation_id),
                    Value::from(row.assigned_to),
                ]);
            }
        }
        insert_rows(
            tx,
            &generation.table("rm_case_list"),
            &[
                "complaint_id",
                "organisation_id",
                "status",
                "stage",
                "channel",
                "subject_areas",
                "service_area",
                "risk_rating",
                "received_on",
                "acknowledged_on",
                "closed_on",
                "closure_reason",
                "flags",
                "last_activity_at",
                "version",
                "participants",
                "kind",
                "assigned_to",
            ],
            list_rows,
            "ON CONFLICT (complaint_id) DO UPDATE SET organisation_id = excluded.organisation_id,
               status = excluded.status, stage = excluded.stage, channel = excluded.channel,
               subject_areas = excluded.subject_areas, service_area = excluded.service_area,
               risk_rating = excluded.risk_rating, received_on = excluded.received_on,
               acknowledged_on = excluded.acknowledged_on, closed_on = excluded.closed_on,
               closure_reason = excluded.closure_reason, flags = excluded.flags,
               last_activity_at = excluded.last_activity_at,
               version = excluded.version, participants = excluded.participants, kind = excluded.kind,
               assigned_to = excluded.assigned_to",
        )
        .await?;
        // A complaint's deadlines are derived whole from its fold: replace them all.
        let deadlines = generation.table("rm_deadlines");
        let ids: Vec<String> = touched.keys().cloned().collect();
        execute_in(
            tx,
            &format!("DELETE FROM {deadlines} WHERE complaint_id"),
            &ids,
        )
        .await?;
        insert_rows(
            tx,
            &deadlines,
            &[
                "complaint_id",
                "organisation_id",
                "kind",
                "due_on",
                "state",
                "met_on",
                "calendar_version",
                "item",
                "letter",
                "lead_organisation_id",
                "assigned_to",
            ],
            due_rows,
            "",
        )
        .await?;
        Ok(())
    }
}

/// Filters for the case list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Organisations to include (the caller's); never empty.
    pub organisations: Vec<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only this stage (1 or 2).
    pub stage: Option<i64>,
    /// Only this channel code.
    pub channel: Option<String>,
    /// Only this kind of case (`complaint`, `enquiry`, `about_organisation`).
    pub kind: Option<String>,
    /// Only complaints assigned to this caseworker (sign-in subject).
    pub assigned_to: Option<String>,
    /// Only complaints received on or after.
    pub received_from: Option<NaiveDate>,
    /// Only complaints received on or before.
    pub received_to: Option<NaiveDate>,
    /// Only complaints with this subject area.
    pub subject_area: Option<String>,
    /// Keyset cursor: continue after this (received_on, complaint_id).
    pub after: Option<(NaiveDate, String)>,
    /// Page size.
    pub limit: i64,
}

/// Placeholders `$from..$from+n` joined by commas.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_row_date(raw: Option<String>) -> Option<NaiveDate> {
    raw.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
}

/// The rows of joint complaints (the lead's row lists the other bodies taking part).
const JOINT: &str = "(participants <> ',,')";

/// Values bound to a query, each answering the placeholder `add` returned.
#[derive(Default)]
struct Binds(Vec<String>);

impl Binds {
    fn add(&mut self, value: String) -> String {
        self.0.push(value);
        format!("${}", self.0.len())
    }
}

/// The case-list filters other than the organisation, as ` AND …` conditions on the raw
/// columns (so the indexes answer them), with their values added to `binds`.
fn case_conditions(filter: &CaseFilter, backend: Backend, binds: &mut Binds) -> String {
    // A date is bound as text; PostgreSQL compares it as the column's DATE.
    let day = |placeholder: String| match backend {
        Backend::Postgres => format!("CAST({placeholder} AS DATE)"),
        Backend::Sqlite => placeholder,
    };
    let mut sql = String::new();
    if let Some(status) = &filter.status {
        sql.push_str(&format!(" AND status = {}", binds.add(status.clone())));
    }
    if let Some(stage) = filter.stage {
        // Compared as text, as every bind here is, so both backends take it alike.
        sql.push_str(&format!(
            " AND CAST(stage AS TEXT) = {}",
            binds.add(stage.to_string())
        ));
    }
    if let Some(channel) = &filter.channel {
        sql.push_str(&format!(" AND channel = {}", binds.add(channel.clone())));
    }
    if let Some(kind) = &filter.kind {
        sql.push_str(&format!(" AND kind = {}", binds.add(kind.clone())));
    }
    if let Some(caseworker) = &filter.assigned_to {
        sql.push_str(&format!(
            " AND assigned_to = {}",
            binds.add(caseworker.clone())
        ));
    }
    if let Some(from) = filter.received_from {
        sql.push_str(&format!(
            " AND received_on >= {}",
            day(binds.add(from.to_string()))
        ));
    }
    if let Some(to) = filter.received_to {
        sql.push_str(&format!(
            " AND received_on <= {}",
            day(binds.add(to.to_string()))
        ));
    }
    if let Some(subject) = &filter.subject_area {
        sql.push_str(&format!(
            " AND subject_areas LIKE {}",
            binds.add(format!("%,{subject},%"))
        ));
    }
    if let Some((received, id)) = &filter.after {
        sql.push_str(&format!(
            " AND (received_on, complaint_id) < ({}, {})",
            day(binds.add(received.to_string())),
            binds.add(id.clone())
        ));
    }
    sql
}

/// A page of the case list, newest received first.
///
/// One branch per organisation, each a walk down its `(organisation_id, received_on,
/// complaint_id)` index that stops at the page's end, and one for the joint complaints the
/// organisations take part in (R-JOINT-2), found through the index of joint rows; their
/// union is sorted and cut to the page. A single `organisation_id IN (…) OR participants LIKE
/// …` read every row of the table at 2.5 million complaints (BENCHMARKS.md).
pub async fn list_cases(
    pool: &Pool,
    filter: &CaseFilter,
) -> Result<Vec<CaseListRow>, ProjectionError> {
    if filter.organisations.is_empty() {
        return Ok(Vec::new());
    }
    let backend = pool.backend();
    // Dates are answered as text so one decoding serves both backends.
    let date = |col: &str| date_text(backend, col);
    // Callers ask for one row past their page (at most 500) to learn whether another follows.
    let limit = filter.limit.clamp(1, 501);
    let order = "ORDER BY received_on DESC, complaint_id DESC";
    let mut binds = Binds::default();
    let mut branches = Vec::with_capacity(filter.organisations.len() + 1);
    for (n, organisation) in filter.organisations.iter().enumerate() {
        let own = binds.add(organisation.clone());
        let rest = case_conditions(filter, backend, &mut binds);
        branches.push(format!(
            "SELECT * FROM (SELECT * FROM rm_case_list WHERE organisation_id = {own}{rest} {order} LIMIT {limit}) AS own_{n}"
        ));
    }
    let taking_part = filter
        .organisations
        .iter()
        .map(|o| {
            format!(
                "participants LIKE {} ESCAPE '\\'",
                binds.add(format!("%,{},%", like_literal(o)))
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    let rest = case_conditions(filter, backend, &mut binds);
    branches.push(format!(
        "SELECT * FROM (SELECT * FROM rm_case_list WHERE {JOINT} AND ({taking_part}){rest} {order} LIMIT {limit}) AS joint"
    ));
    let sql = format!(
        "SELECT complaint_id, organisation_id, status, stage, channel, subject_areas, service_area, risk_rating,
           {} AS received_on, {} AS acknowledged_on, {} AS closed_on, closure_reason, flags, {} AS last_activity_at, version,
           participants, kind, assigned_to
         FROM ({}) AS page {order} LIMIT {limit}",
        date("received_on"),
        date("acknowledged_on"),
        date("closed_on"),
        timestamp_text(backend, "last_activity_at"),
        branches.join(" UNION ")
    );
    let binds = binds.0;
    let rows = on_pool!(pool, |p| {
        let mut query = sqlx::query(&sql);
        for b in &binds {
            query = query.bind(b);
        }
        query
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| {
                let subjects: String = r.try_get("subject_areas")?;
                let received: Option<String> = r.try_get("received_on")?;
                Ok::<_, sqlx::Error>(CaseListRow {
                    complaint_id: r.try_get("complaint_id")?,
                    organisation_id: r.try_get("organisation_id")?,
                    kind: r.try_get("kind")?,
                    status: r.try_get("status")?,
                    stage: r.try_get("stage")?,
                    channel: r.try_get("channel")?,
                    subject_areas: parse_codes(&subjects),
                    service_area: r.try_get("service_area")?,
                    risk_rating: r.try_get("risk_rating")?,
                    received_on: parse_row_date(received).unwrap_or(NaiveDate::MIN),
                    acknowledged_on: parse_row_date(r.try_get("acknowledged_on")?),
                    closed_on: parse_row_date(r.try_get("closed_on")?),
                    closure_reason: r.try_get("closure_reason")?,
                    flags: parse_codes(&r.try_get::<String, _>("flags")?),
                    last_activity_at: r.try_get("last_activity_at")?,
                    version: r.try_get("version")?,
                    participants: parse_codes(&r.try_get::<String, _>("participants")?),
                    joint_role: None,
                    assigned_to: r.try_get("assigned_to")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    });
    let mut rows = rows;
    for row in &mut rows {
        row.joint_role = joint_role(row, &filter.organisations);
    }
    Ok(rows)
}

/// How `organisations` stand to a joint complaint: leading it or taking part (R-JOINT-2).
fn joint_role(row: &CaseListRow, organisations: &[String]) -> Option<String> {
    if row.participants.is_empty() {
        None
    } else if organisations.contains(&row.organisation_id) {
        Some("lead".into())
    } else {
        Some("participant".into())
    }
}

/// `text` matched literally by `LIKE … ESCAPE '\'` (organisation ids may hold `_`).
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Filters for deadlines.
#[derive(Debug, Clone, Default)]
pub struct DeadlineFilter {
    /// Organisations to include (the caller's).
    pub organisations: Vec<String>,
    /// Only deadlines due before this day.
    pub due_before: Option<NaiveDate>,
    /// Only pending deadlines whose due day has passed as of `today`.
    pub overdue: bool,
    /// Only deadlines not yet met: what the deadline board counts and shows, read through
    /// the `(organisation, met_on, due_on)` indexes without the years of met ones.
    pub unmet_only: bool,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only deadlines of complaints assigned to this caseworker (sign-in subject).
    pub assigned_to: Option<String>,
    /// The caller's today (England).
    pub today: NaiveDate,
}

/// Where a page of deadlines ends: the last row's place in the board's order
/// (`due_on` with undated rows last, then `complaint_id`, `kind`, `item`), which is unique
/// per row, so a walk by cursor sees every row once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineCursor {
    /// The row's due day (`None`: clock stopped, ordered after every dated row).
    pub due_on: Option<NaiveDate>,
    /// The row's complaint.
    pub complaint_id: String,
    /// The row's kind.
    pub kind: String,
    /// The row's item.
    pub item: i64,
}

impl DeadlineCursor {
    /// The cursor just after `row`.
    pub fn after(row: &DeadlineRow) -> Self {
        Self {
            due_on: row.due_on,
            complaint_id: row.complaint_id.clone(),
            kind: row.kind.clone(),
            item: row.item,
        }
    }

    /// The opaque form handed to callers (hex, so it needs no escaping in a URL).
    pub fn encode(&self) -> String {
        let due = self.due_on.map(|d| d.to_string()).unwrap_or_default();
        hex::encode(format!(
            "{due}|{}|{}|{}",
            self.complaint_id, self.kind, self.item
        ))
    }

    /// Reads a cursor made by [`DeadlineCursor::encode`]; `None` for anything else.
    pub fn decode(raw: &str) -> Option<Self> {
        let text = String::from_utf8(hex::decode(raw.trim()).ok()?).ok()?;
        let mut parts = text.split('|');
        let (due, complaint_id, kind, item) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let due_on = match due {
            "" => None,
            day => Some(NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?),
        };
        let id_ok = !complaint_id.is_empty()
            && complaint_id.len() <= 64
            && complaint_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        let kind_ok = !kind.is_empty()
            && kind.len() <= 64
            && kind.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if !id_ok || !kind_ok {
            return None;
        }
        Some(Self {
            due_on,
            complaint_id: complaint_id.to_string(),
            kind: kind.to_string(),
            item: item.parse().ok()?,
        })
    }
}

/// A value bound to a deadlines query.
enum Bind {
    Text(String),
    Int(i64),
    Date(NaiveDate),
}

/// Up to `limit` deadlines after `after` (from the first when `None`), soonest first (rows
/// without a due day last), with `state` judged as of `today`. Callers page by passing the
/// cursor of the last row they got; ask for one more than a page to tell whether more follow.
pub async fn deadlines_page(
    pool: &Pool,
    filter: &DeadlineFilter,
    after: Option<&DeadlineCursor>,
    limit: i64,
) -> Result<Vec<DeadlineRow>, ProjectionError> {
    if filter.organisations.is_empty() {
        return Ok(Vec::new());
    }
    let due = date_text(pool.backend(), "due_on");
    let met = date_text(pool.backend(), "met_on");
    // R-JOINT-2: the deadlines the organisations owe, and every deadline of what they lead.
    let n = filter.organisations.len();
    let mut sql = format!(
        "SELECT complaint_id, organisation_id, kind, {due} AS due_on, state, {met} AS met_on, calendar_version,
           item, letter, lead_organisation_id, assigned_to
         FROM rm_deadlines WHERE (organisation_id IN ({}) OR lead_organisation_id IN ({}))",
        placeholders(1, n),
        placeholders(n + 1, n)
    );
    let mut binds: Vec<Bind> = filter
        .organisations
        .iter()
        .chain(&filter.organisations)
        .cloned()
        .map(Bind::Text)
        .collect();
    let mut bind = |value: Bind| {
        binds.push(value);
        format!("${}", binds.len())
    };
    if let Some(before) = filter.due_before {
        sql.push_str(&format!(
            " AND {due} < {}",
            bind(Bind::Text(before.to_string()))
        ));
    }
    if filter.unmet_only {
        sql.push_str(" AND met_on IS NULL");
    }
    if filter.overdue {
        sql.push_str(&format!(
            " AND state = 'pending' AND {due} < {}",
            bind(Bind::Text(filter.today.to_string()))
        ));
    }
    if let Some(kind) = &filter.kind {
        sql.push_str(&format!(" AND kind = {}", bind(Bind::Text(kind.clone()))));
    }
    if let Some(caseworker) = &filter.assigned_to {
        sql.push_str(&format!(
            " AND assigned_to = {}",
            bind(Bind::Text(caseworker.clone()))
        ));
    }
    if let Some(cursor) = after {
        // Compared on the column itself, as ORDER BY sorts it (a date is bound as the
        // column's type: DATE on PostgreSQL, ISO text on SQLite).
        let rest = format!(
            "(complaint_id, kind, item) > ({}, {}, {})",
            bind(Bind::Text(cursor.complaint_id.clone())),
            bind(Bind::Text(cursor.kind.clone())),
            bind(Bind::Int(cursor.item))
        );
        match cursor.due_on {
            Some(day) => {
                let day = bind(Bind::Date(day));
                sql.push_str(&format!(
                    " AND (due_on IS NULL OR due_on > {day} OR (due_on = {day} AND {rest}))"
                ));
            }
            None => sql.push_str(&format!(" AND due_on IS NULL AND {rest}")),
        }
    }
    // Undated rows last on both backends (PostgreSQL and SQLite sort NULL differently).
    sql.push_str(&format!(
        " ORDER BY (due_on IS NULL), due_on, complaint_id, kind, item LIMIT {}",
        bind(Bind::Int(limit.max(1)))
    ));
    let today = filter.today;
    let rows = on_pool!(pool, |p| {
        let mut query = sqlx::query(&sql);
        for b in &binds {
            query = match b {
                Bind::Text(text) => query.bind(text),
                Bind::Int(n) => query.bind(*n),
                Bind::Date(day) => query.bind(*day),
            };
        }
        query
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| {
                let due_on = parse_row_date(r.try_get("due_on")?);
                let mut state: String = r.try_get("state")?;
                if state == "pending" && due_on.is_some_and(|d| d < today) {
                    state = code(&DeadlineState::Missed);
                }
                Ok::<_, sqlx::Error>(DeadlineRow {
                    complaint_id: r.try_get("complaint_id")?,
                    organisation_id: r.try_get("organisation_id")?,
                    kind: r.try_get("kind")?,
                    due_on,
                    state,
                    met_on: parse_row_date(r.try_get("met_on")?),
                    calendar_version: r.try_get("calendar_version")?,
                    item: r.try_get("item")?,
                    letter: r.try_get("letter")?,
                    lead_organisation_id: r.try_get("lead_organisation_id")?,
                    assigned_to: r.try_get("assigned_to")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    });
    Ok(rows)
}

/// Every deadline matching `filter`, soonest first, read page by page: for callers that
/// need them all (the scheduler, the case list's "overdue" filter), never cut short.
pub async fn list_deadlines(
    pool: &Pool,
    filter: &DeadlineFilter,
) -> Result<Vec<DeadlineRow>, ProjectionError> {
    const PAGE: i64 = 1000;
    let mut out: Vec<DeadlineRow> = Vec::new();
    let mut after: Option<DeadlineCursor> = None;
    loop {
        let page = deadlines_page(pool, filter, after.as_ref(), PAGE).await?;
        let full = page.len() as i64 == PAGE;
        after = page.last().map(DeadlineCursor::after);
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

/// The global position a consumer's read models reflect.
pub async fn reflected_position(pool: &Pool, consumer: &str) -> Result<i64, ProjectionError> {
    let position: Option<i64> = on_pool!(pool, |p| sqlx::query_scalar(
        "SELECT position FROM projection_checkpoints WHERE name = $1"
    )
    .bind(consumer)
    .fetch_optional(p)
    .await?);
    Ok(position.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use complaints_domain::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn folded(events: Vec<ComplaintEvent>) -> FoldedCase {
        let mut f = FoldedCase::default();
        for e in events {
            evolve(&mut f.case, e);
            f.version += 1;
        }
        f.last_event_at = "2026-04-02T10:00:00Z".into();
        f
    }

    fn received(on: &str) -> ComplaintEvent {
        ComplaintEvent::ComplaintReceived {
            organisation_id: "RAL".into(),
            received_on: d(on),
            channel: Channel::Email,
            route: Route::Provider,
            representation_basis: None,
            consent_required: false,
            subject_areas: vec![SubjectArea::Communications, SubjectArea::WaitingTimes],
            service_area: None,
            staff_groups: vec![],
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

    #[test]
    fn a_received_complaint_lists_with_its_subjects_and_status() {
        let row = case_row(
            "c1",
            &folded(vec![received("2026-04-02")]),
            &ComplaintServices::standard(),
        )
        .unwrap();
        assert_eq!(row.status, "received");
        assert_eq!(row.subject_areas, vec!["communications", "waiting_times"]);
        assert_eq!(row.received_on, d("2026-04-02"));
        assert_eq!(row.version, 1);
    }

    #[test]
    fn the_latest_assignment_is_on_the_case_row_and_every_deadline_row() {
        let assigned = |on: &str, caseworker: &str| ComplaintEvent::CaseworkerAssigned {
            assigned_on: d(on),
            caseworker: caseworker.into(),
        };
        let services = ComplaintServices::standard();
        let case = folded(vec![
            received("2026-04-02"),
            assigned("2026-04-03", "cw-alice"),
            assigned("2026-04-07", "cw-bob"),
        ]);
        let row = case_row("c1", &case, &services).unwrap();
        assert_eq!(row.assigned_to.as_deref(), Some("cw-bob"));
        let rows = deadline_rows("c1", &case, &services);
        assert!(!rows.is_empty());
        assert!(rows
            .iter()
            .all(|r| r.assigned_to.as_deref() == Some("cw-bob")));
        let unassigned = folded(vec![received("2026-04-02")]);
        assert_eq!(
            case_row("c1", &unassigned, &services).unwrap().assigned_to,
            None
        );
    }

    #[test]
    fn an_open_complaint_has_pending_deadlines_judged_without_a_today() {
        let rows = deadline_rows(
            "c1",
            &folded(vec![received("2026-04-02")]),
            &ComplaintServices::standard(),
        );
        let ack = rows.iter().find(|r| r.kind == "acknowledgement").unwrap();
        assert_eq!(ack.due_on, Some(d("2026-04-09")));
        assert_eq!(ack.state, "pending");
        // No period agreed or notified yet: only the organisation's internal target.
        assert!(!rows.iter().any(|r| r.kind == "response"));
        assert!(rows.iter().any(|r| r.kind == "internal_target"));
        assert!(rows.iter().any(|r| r.kind == "delay_letter"));
        assert!(!rows.iter().any(|r| r.kind == "consent"));
    }

    #[test]
    fn acknowledging_late_settles_the_acknowledgement_as_met_late() {
        let events = vec![
            received("2026-04-02"),
            ComplaintEvent::ComplaintAcknowledged {
                acknowledged_on: d("2026-04-10"),
                late: true,
                discussion_offered: true,
            },
        ];
        let rows = deadline_rows("c1", &folded(events), &ComplaintServices::standard());
        let ack = rows.iter().find(|r| r.kind == "acknowledgement").unwrap();
        assert_eq!(ack.state, "met_late");
        assert_eq!(ack.met_on, Some(d("2026-04-10")));
    }

    #[test]
    fn a_closed_complaint_has_no_deadline_rows() {
        let events = vec![
            received("2026-04-02"),
            ComplaintEvent::ComplaintClosed {
                closed_on: d("2026-04-03"),
                reason: ClosureReason::Withdrawn,
                exclusion_category: None,
                transferred_to: None,
                resolved_on: None,
            },
        ];
        let f = folded(events);
        assert!(deadline_rows("c1", &f, &ComplaintServices::standard()).is_empty());
        assert_eq!(
            case_row("c1", &f, &ComplaintServices::standard())
                .unwrap()
                .closure_reason
                .as_deref(),
            Some("withdrawn")
        );
    }

    #[test]
    fn r_fact_1_a_referral_before_any_response_flags_the_case_list_row() {
        let events = vec![
            received("2026-04-02"),
            ComplaintEvent::ReferredToOmbudsman {
                ombudsman: Ombudsman::Phso,
                informed_on: d("2026-04-10"),
                ombudsman_reference: None,
            },
        ];
        let row = case_row("c1", &folded(events), &ComplaintServices::standard()).unwrap();
        assert_eq!(row.flags, vec!["referral-before-response"]);
        assert_eq!(
            super::codes_column(&row.flags),
            ",referral-before-response,"
        );
        let quiet = case_row(
            "c2",
            &folded(vec![received("2026-04-02")]),
            &ComplaintServices::standard(),
        )
        .unwrap();
        assert!(quiet.flags.is_empty());
    }

    #[test]
    fn r_excl_1_a_closed_complaint_keeps_its_owed_letter_on_the_deadlines_board() {
        let events = vec![
            received("2026-04-02"),
            ComplaintEvent::ComplaintClosed {
                closed_on: d("2026-04-02"),
                reason: ClosureReason::Excluded,
                exclusion_category: Some(ExclusionCategory::FreedomOfInformation),
                transferred_to: None,
                resolved_on: None,
            },
        ];
        let rows = deadline_rows(
            "c1",
            &folded(events.clone()),
            &ComplaintServices::standard(),
        );
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(
            (
                rows[0].kind.as_str(),
                rows[0].state.as_str(),
                rows[0].letter.as_deref()
            ),
            ("letter", "pending", Some("exclusion_notice"))
        );
        assert_eq!(rows[0].due_on, Some(d("2026-04-09")));
        let mut sent = events;
        sent.push(ComplaintEvent::LetterSent {
            kind: LetterKind::ExclusionNotice,
            sent_on: d("2026-04-07"),
        });
        let rows = deadline_rows("c1", &folded(sent), &ComplaintServices::standard());
        assert_eq!(rows[0].state, "met_on_time");
    }

    #[test]
    fn r_omb_2_each_undone_recommendation_is_its_own_row_after_closure() {
        let events = vec![
            received("2026-04-02"),
            ComplaintEvent::ComplaintClosed {
                closed_on: d("2026-04-20"),
                reason: ClosureReason::Withdrawn,
                exclusion_category: None,
                transferred_to: None,
                resolved_on: None,
            },
            ComplaintEvent::ReferredToOmbudsman {
                ombudsman: Ombudsman::Phso,
                informed_on: d("2026-05-01"),
                ombudsman_reference: None,
            },
            ComplaintEvent::OmbudsmanDecisionRecorded {
                ombudsman: Ombudsman::Phso,
                decided_on: d("2026-09-01"),
                decision: OmbudsmanDecision::Upheld,
                recommendations: vec![
                    Recommendation {
                        description: "Apologise.".into(),
                        due_on: Some(d("2026-10-01")),
                    },
                    Recommendation {
                        description: "Train staff.".into(),
                        due_on: Some(d("2026-12-01")),
                    },
                ],
            },
        ];
        let rows = deadline_rows("c1", &folded(events), &ComplaintServices::standard());
        assert_eq!(
            rows.iter()
                .map(|r| (r.kind.as_str(), r.item, r.due_on))
                .collect::<Vec<_>>(),
            vec![
                ("ombudsman_recommendation", 1, Some(d("2026-10-01"))),
                ("ombudsman_recommendation", 2, Some(d("2026-12-01"))),
            ]
        );
    }

    #[test]
    fn r_joint_2_a_participants_part_is_its_row_on_the_leads_case_and_lists_the_participant() {
        let events = vec![
            received("2026-04-02"),
            ComplaintEvent::ParticipantAdded {
                organisation_id: "LA001".into(),
                agreed_on: d("2026-04-03"),
                agreed_by: "cm-1".into(),
                reason: Confidential("Home care.".into()),
            },
            ComplaintEvent::PartRequested {
                request: 1,
                organisation_id: "LA001".into(),
                requested_on: d("2026-04-06"),
                due_on: d("2026-04-20"),
            },
        ];
        let f = folded(events);
        let rows = deadline_rows("c1", &f, &ComplaintServices::standard());
        let part = rows.iter().find(|r| r.kind == "participant_part").unwrap();
        assert_eq!(
            (
                part.organisation_id.as_str(),
                part.lead_organisation_id.as_str(),
                part.item
            ),
            ("LA001", "RAL", 1)
        );
        assert_eq!(part.due_on, Some(d("2026-04-20")));
        // The complaint's own deadlines are the lead's.
        assert!(rows
            .iter()
            .filter(|r| r.kind != "participant_part")
            .all(|r| r.organisation_id == "RAL" && r.lead_organisation_id == "RAL"));
        let row = case_row("c1", &f, &ComplaintServices::standard()).unwrap();
        assert_eq!(row.participants, vec!["LA001"]);
        assert_eq!(super::codes_column(&row.participants), ",LA001,");
        let orgs = |o: &str| vec![o.to_string()];
        assert_eq!(joint_role(&row, &orgs("RAL")).as_deref(), Some("lead"));
        assert_eq!(
            joint_role(&row, &orgs("LA001")).as_deref(),
            Some("participant")
        );
        assert_eq!(like_literal("LA_0%1"), "LA\\_0\\%1");
    }

    #[test]
    fn a_deadline_cursor_reads_back_what_it_wrote_and_nothing_else() {
        for due_on in [Some(d("2026-04-09")), None] {
            let cursor = DeadlineCursor {
                due_on,
                complaint_id: "0b6f2f7e-5d3c-4a8e-9c1e-2f4a5b6c7d8e".into(),
                kind: "ombudsman_recommendation".into(),
                item: 3,
            };
            assert_eq!(DeadlineCursor::decode(&cursor.encode()), Some(cursor));
        }
        for bad in [
            "",
            "zz",
            &hex::encode("2026-04-09|id|kind"),
            &hex::encode("2026-13-01|id|kind|0"),
            &hex::encode("2026-04-09|id' OR 1=1|kind|0"),
            &hex::encode("2026-04-09|id|kind|x"),
        ] {
            assert_eq!(DeadlineCursor::decode(bad), None, "{bad}");
        }
    }
}
