//! The reporting read model (consumer `reporting`): per-complaint facts, ombudsman referrals
//! and learning, and the pure functions that count the regulation 18 annual report
//! (R-AR-1..R-AR-5) and the Written Complaints Collection (KO41a/KO41b, R-KO-1..R-KO-9)
//! from them.
//!
//! The consumer stores facts only; reports are counted at query time from the current facts,
//! so a complaint closed as excluded, reopened or answered on review moves the figures of the
//! years it touches the next time a report is asked for.
//!
//! Reporting interface (views, stable for BI tools; dates are `DATE` on PostgreSQL and
//! `YYYY-MM-DD` text on SQLite; code lists are comma-separated and comma-wrapped, `,a,b,`):
//! - `rm_report_complaints`: one row per received complaint: `complaint_id`,
//!   `organisation_id`, `received_on`, `channel`, `route`, `subject_areas`, `service_area`,
//!   `staff_groups`, `acknowledged_on`, `acknowledge_by` (3rd working day after receipt,
//!   R-ACK-3), `first_response_on` / `first_outcome` (the stage-1 response),
//!   `first_response_period_end` (the end of the stage-1 response period agreed with or
//!   notified to the complainant before the response, moved only by agreed clock stops and
//!   extensions agreed before it ran out; empty when none: R-REC-1's and R-AR-4's "within
//!   the response period" is `first_response_on <= first_response_period_end`),
//!   `first_internal_target` (the organisation's default period from receipt, moved by
//!   agreed stage-1 clock stops; never an agreed period),
//!   `review_response_on` / `review_outcome` (the stage-2 response), `closed_on`,
//!   `closure_reason`, `exclusion_category`, `transferred_to` (the current closure, if
//!   any), `calendar_version`, `version`, `last_event_at`, `patient_age_band` and
//!   `complainant_status` (KO41 sections 3 and 4, R-KO-5; empty when not recorded),
//!   `site` (R-KO-1; empty when not recorded), `collection` (`KO41a`/`KO41b`, from the
//!   organisation's policy `collection`, else the service area). New columns: rebuild
//!   `reporting` after upgrading.
//! - `rm_report_referrals`: one row per `ReferredToOmbudsman` event: `complaint_id`,
//!   `sequence`, `organisation_id`, `ombudsman` (`phso`, `lgsco`), `informed_on`.
//! - `rm_report_learning`: one row per `LearningRecorded` event: `complaint_id`, `sequence`,
//!   `organisation_id`, `recorded_on`, `kind` (`lesson`, `action`), `summary` (written for
//!   the annual report, no personal data), `action_due_on`.
//! - `rm_report_contributions`: one row per body that supplied a part of a joint complaint
//!   another body led (R-JOINT-2): `complaint_id`, `organisation_id` (the body taking part),
//!   `lead_organisation_id`, `first_provided_on`. New view: rebuild `reporting` after
//!   upgrading.
//!
//! (`rm_report_state` holds the fold state and is not part of the interface.) Due dates are
//! computed with the consumer's calendar and policies: rebuild after changing either.
//!
//! Counting decisions beyond R-AR-2 and R-KO-3 (defaults, documented here and on the
//! functions):
//! - A year `Y` is 1 April `Y` to 31 March `Y+1`.
//! - Excluded complaints (closed under reg 8, any category) are counted only in their own
//!   figures, by the year received: they are not in `received`, the outcome counts or the
//!   timeliness shares. Referrals and learning are counted whatever the complaint's closure,
//!   save a transfer (below).
//! - A complaint transferred out (reg 6(5), closed `transferred`) counts as received by the
//!   receiving body (R-SCOPE-2): the sender shows it only as `transferred_out`, by the year
//!   received and judged on the facts when the report is counted, never in `received`, the
//!   channel and subject tables or the acknowledgement share. Only a stage-1 response the
//!   sender sent before the transfer counts for it (its decision: outcome, well founded,
//!   response shares, and then its referrals); unanswered, the complaint is never well
//!   founded or referred for the sender (R-AR-5, the documented default
//!   `TRANSFER_COUNTING`; `TransferCounting::WithinReceived` keeps the earlier reading). The
//!   KO41 counts it by the handling organisation: the sender leaves it out (R-KO-2).
//! - Joint complaints (R-JOINT-2): the lead counts one as any complaint it received, in
//!   every figure and in its KO41 return; a body taking part never counts it as received
//!   nor in its KO41, and shows it only as `contributed_to`, once, in the financial year it
//!   first supplied its part (the day its contribution is a fact; a body asked but never
//!   supplying one contributed nothing).
//! - Ombudsman referrals count complaints: a complaint referred twice to the same ombudsman
//!   in one year counts once for it.
//! - KO41 (see `ko41`): `carried_forward = brought_forward + new − resolved` exactly;
//!   complaints that leave the unresolved stock without an outcome (withdrawn, consent not
//!   received, excluded or transferred after being carried) are listed in the reconciliation
//!   note beside the return, never as an item, and the stock still unresolved at the end
//!   (`carried_forward` less the note) is the next period's `brought_forward`.
//! - KO41 items and labels come from the code list of the return's collection year
//!   (`complaints_domain::code_lists`, R-KO-7, R-KO-8), named in the JSON
//!   (`code_list_version`) and on every CSV line.
//! - KO41 breakdowns list every code of that list (zero where none) plus
//!   `unknown` (age of patient, status of complainant) or `not_recorded` (service area,
//!   staff group): age, status and service area sum to `new`; subject and staff-group
//!   totals are `>= new`. KO41a is returned per site (`site` at receipt), KO41b per
//!   organisation; the collection is the organisation policy's `collection` when set
//!   (`{"organisations": {"RAL": {"collection": "KO41a"}}}` keeps an acute trust's dental
//!   complaints in KO41a), else by service area.
//!
//! Layout: `facts` derives the rows and names their tables, `period` holds financial years
//! and shared counting helpers, `annual` and `ko41` count the two reports from rows,
//! `learning` summarises items 5 and 6 in the database and pages the full list,
//! `query` reads rows back and answers, `submissions` keeps submitted KO41 returns
//! (`ko41_submissions`, append-only, R-KO-3a) and shows a submitted year's figures with its
//! adjustments, and [`document`] renders the annual report; this
//! module is the consumer that writes the rows. Everything but the renderer is re-exported
//! here, so `reporting::X` stays the path to use.

pub mod document;

mod annual;
mod collection;
mod facts;
mod ko41;
mod learning;
mod period;
mod query;
mod submissions;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod through_the_runner;

pub use annual::{
    annual_report, annual_report_with, contributed_to, AnnualReport, ExcludedCounts,
    OmbudsmanCounts, OutcomeCounts, Share, TransferCounting, TRANSFER_COUNTING,
};
pub use collection::Collection;
pub use facts::{
    complaint_facts, contribution_facts, learning_fact, referral_fact, ComplaintFacts,
    ContributionFact, LearningFact, ReferralFact,
};
pub use ko41::{
    adjustments, bring_forward_submitted, return_items, written_complaints, written_complaints_csv,
    Adjustment, CollectionReturn, ReturnItem, WrittenComplaintsReport,
};
pub use learning::{
    full_list_route, learning_page, learning_report_for, summarise_learning, LearningCursor,
    LearningItem, LearningPage, LearningReport, LearningSummary, LEARNING_ROUTE, MAX_LEARNING_PAGE,
    RECENT_LEARNING,
};
pub use period::{financial_year, financial_year_of, NOT_RECORDED, REPORT_YEARS};
pub use query::{annual_report_for, written_complaints_for};
pub use submissions::{
    current_return, record_submission, submission_for, year_return, Submission, Submitted,
    YearReturn, KO41,
};

use crate::models::batch::{execute_in, insert_rows, Value};
use crate::models::sql::{codes_column, date_type, timestamp_type};
use crate::state::{fold_batch, state_table};
use async_trait::async_trait;
use complaints_domain::{ClosureReason, ComplaintServices, ExclusionCategory, Outcome};
use complaints_eventlog::{Consumer, EventLogError, Generation, StoredEvent, TableDef, Tx};
use facts::{COMPLAINTS, CONTRIBUTIONS, LEARNING, REFERRALS};

/// Consumer name.
pub const NAME: &str = "reporting";

// The fold state; not part of the reporting interface.
const STATE: &str = "rm_report_state";

/// The `reporting` consumer.
pub struct Reporting {
    services: ComplaintServices,
}

impl Reporting {
    /// Due dates are computed with `services`' calendar and policies; rebuild after changing them.
    pub fn new(services: ComplaintServices) -> Self {
        Self { services }
    }
}

#[async_trait]
impl Consumer for Reporting {
    fn name(&self) -> &'static str {
        NAME
    }

    // Every read and delete of `apply` goes by the primary key (the complaint id first).
    fn indexes_after_rebuild(&self) -> bool {
        true
    }

    fn docs(&self) -> Vec<complaints_eventlog::ViewDoc> {
        crate::models::comments::reporting()
    }

    fn tables(&self) -> Vec<TableDef> {
        vec![
            state_table(STATE),
            TableDef {
                base: COMPLAINTS,
                columns: |b| {
                    let d = date_type(b);
                    let t = timestamp_type(b);
                    format!(
                        "complaint_id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, received_on {d} NOT NULL,
                         channel TEXT NOT NULL, route TEXT NOT NULL, subject_areas TEXT NOT NULL, service_area TEXT,
                         staff_groups TEXT NOT NULL, acknowledged_on {d}, acknowledge_by {d} NOT NULL,
                         first_response_on {d}, first_outcome TEXT, first_response_period_end {d},
                         first_internal_target {d},
                         review_response_on {d}, review_outcome TEXT, closed_on {d}, closure_reason TEXT,
                         exclusion_category TEXT, transferred_to TEXT, calendar_version TEXT NOT NULL,
                         version BIGINT NOT NULL, last_event_at {t} NOT NULL, patient_age_band TEXT,
                         complainant_status TEXT, site TEXT, collection TEXT NOT NULL DEFAULT ''"
                    )
                },
                indexes: &[
                    "organisation_id, received_on",
                    "organisation_id, first_response_on",
                    // The annual report reads each of its dates through its own index.
                    "organisation_id, acknowledged_on",
                    "organisation_id, review_response_on",
                ],
            },
            TableDef {
                base: REFERRALS,
                columns: |b| {
                    let d = date_type(b);
                    format!(
                        "complaint_id TEXT NOT NULL, sequence BIGINT NOT NULL, organisation_id TEXT NOT NULL,
                         ombudsman TEXT NOT NULL, informed_on {d} NOT NULL, PRIMARY KEY (complaint_id, sequence)"
                    )
                },
                indexes: &["organisation_id, informed_on"],
            },
            TableDef {
                base: LEARNING,
                columns: |b| {
                    let d = date_type(b);
                    format!(
                        "complaint_id TEXT NOT NULL, sequence BIGINT NOT NULL, organisation_id TEXT NOT NULL,
                         recorded_on {d} NOT NULL, kind TEXT NOT NULL, summary TEXT NOT NULL, action_due_on {d},
                         PRIMARY KEY (complaint_id, sequence)"
                    )
                },
                // The full list's keyset order, and per kind for the counts and the latest
                // few (both index-only): issue 16's years of 138,000 lessons.
                indexes: &[
                    "organisation_id, recorded_on, complaint_id, sequence",
                    "organisation_id, kind, recorded_on, complaint_id, sequence",
                ],
            },
            TableDef {
                base: CONTRIBUTIONS,
                columns: |b| {
                    let d = date_type(b);
                    format!(
                        "complaint_id TEXT NOT NULL, organisation_id TEXT NOT NULL, lead_organisation_id TEXT NOT NULL,
                         first_provided_on {d} NOT NULL, PRIMARY KEY (complaint_id, organisation_id)"
                    )
                },
                indexes: &["organisation_id, first_provided_on"],
            },
        ]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        generation: Generation,
        events: &[StoredEvent],
    ) -> Result<(), EventLogError> {
        let touched = fold_batch(tx, &generation.table(STATE), events).await?;

        // R-JOINT-2: a complaint's contributions are derived whole from its fold each time.
        let contributions = generation.table(CONTRIBUTIONS);
        let ids: Vec<String> = touched.keys().cloned().collect();
        execute_in(
            tx,
            &format!("DELETE FROM {contributions} WHERE complaint_id"),
            &ids,
        )
        .await?;
        let contribution_rows = touched
            .iter()
            .flat_map(|(id, folded)| contribution_facts(id, folded))
            .map(|row| {
                vec![
                    Value::from(row.complaint_id),
                    Value::from(row.organisation_id),
                    Value::from(row.lead_organisation_id),
                    Value::from(row.first_provided_on),
                ]
            })
            .collect();
        insert_rows(
            tx,
            &contributions,
            &[
                "complaint_id",
                "organisation_id",
                "lead_organisation_id",
                "first_provided_on",
            ],
            contribution_rows,
            "",
        )
        .await?;

        let code = |o: Option<&'static str>| Value::from(o.map(str::to_string));
        let mut complaint_rows = Vec::with_capacity(touched.len());
        for (id, folded) in &touched {
            let Some(f) = complaint_facts(id, folded, &self.services) else {
                continue;
            };
            let subjects = codes_column(&f.subject_areas);
            let staff = codes_column(&f.staff_groups);
            complaint_rows.push(vec![
                Value::from(f.complaint_id),
                Value::from(f.organisation_id),
                Value::from(f.received_on),
                Value::from(f.channel),
                Value::from(f.route),
                Value::from(subjects),
                Value::from(f.service_area),
                Value::from(staff),
                Value::from(f.acknowledged_on),
                Value::from(f.acknowledge_by),
                Value::from(f.first_response_on),
                code(f.first_outcome.map(Outcome::code)),
                Value::from(f.first_response_period_end),
                Value::from(f.first_internal_target),
                Value::from(f.review_response_on),
                code(f.review_outcome.map(Outcome::code)),
                Value::from(f.closed_on),
                code(f.closure_reason.map(ClosureReason::code)),
                code(f.exclusion_category.map(ExclusionCategory::code)),
                Value::from(f.transferred_to),
                Value::from(f.calendar_version),
                Value::from(f.version),
                Value::timestamp(&folded.last_event_at),
                Value::from(f.patient_age_band),
                Value::from(f.complainant_status),
                Value::from(f.site),
                Value::from(f.collection),
            ]);
        }
        insert_rows(
            tx,
            &generation.table(COMPLAINTS),
            &[
                "complaint_id",
                "organisation_id",
                "received_on",
                "channel",
                "route",
                "subject_areas",
                "service_area",
                "staff_groups",
                "acknowledged_on",
                "acknowledge_by",
                "first_response_on",
                "first_outcome",
                "first_response_period_end",
                "first_internal_target",
                "review_response_on",
                "review_outcome",
                "closed_on",
                "closure_reason",
                "exclusion_category",
                "transferred_to",
                "calendar_version",
                "version",
                "last_event_at",
                "patient_age_band",
                "complainant_status",
                "site",
                "collection",
            ],
            complaint_rows,
            "ON CONFLICT (complaint_id) DO UPDATE SET organisation_id = excluded.organisation_id,
               received_on = excluded.received_on, channel = excluded.channel, route = excluded.route,
               subject_areas = excluded.subject_areas, service_area = excluded.service_area,
               staff_groups = excluded.staff_groups, acknowledged_on = excluded.acknowledged_on,
               acknowledge_by = excluded.acknowledge_by, first_response_on = excluded.first_response_on,
               first_outcome = excluded.first_outcome, first_response_period_end = excluded.first_response_period_end,
               first_internal_target = excluded.first_internal_target,
               review_response_on = excluded.review_response_on, review_outcome = excluded.review_outcome,
               closed_on = excluded.closed_on, closure_reason = excluded.closure_reason,
               exclusion_category = excluded.exclusion_category, transferred_to = excluded.transferred_to,
               calendar_version = excluded.calendar_version, version = excluded.version,
               last_event_at = excluded.last_event_at, patient_age_band = excluded.patient_age_band,
               complainant_status = excluded.complainant_status, site = excluded.site,
               collection = excluded.collection",
        )
        .await?;

        // Keyed by (complaint, sequence): a repeated batch inserts nothing new.
        let mut referral_rows = Vec::new();
        let mut learning_rows = Vec::new();
        for event in events {
            let Some(receipt) = touched
                .get(&event.complaint_id)
                .and_then(|f| f.case.receipt.as_ref())
            else {
                continue;
            };
            if let Some(r) = referral_fact(event, &receipt.organisation_id) {
                referral_rows.push(vec![
                    Value::from(r.complaint_id),
                    Value::from(r.sequence),
                    Value::from(r.organisation_id),
                    Value::from(r.ombudsman.code()),
                    Value::from(r.informed_on),
                ]);
            }
            if let Some(l) = learning_fact(event, &receipt.organisation_id) {
                learning_rows.push(vec![
                    Value::from(l.complaint_id),
                    Value::from(l.sequence),
                    Value::from(l.organisation_id),
                    Value::from(l.recorded_on),
                    Value::from(l.kind.code()),
                    Value::from(l.summary),
                    Value::from(l.action_due_on),
                ]);
            }
        }
        insert_rows(
            tx,
            &generation.table(REFERRALS),
            &[
                "complaint_id",
                "sequence",
                "organisation_id",
                "ombudsman",
                "informed_on",
            ],
            referral_rows,
            "ON CONFLICT (complaint_id, sequence) DO NOTHING",
        )
        .await?;
        insert_rows(
            tx,
            &generation.table(LEARNING),
            &[
                "complaint_id",
                "sequence",
                "organisation_id",
                "recorded_on",
                "kind",
                "summary",
                "action_due_on",
            ],
            learning_rows,
            "ON CONFLICT (complaint_id, sequence) DO NOTHING",
        )
        .await?;
        Ok(())
    }
}
