// Over 600 lines with its tests (half of it): the KO41 return, its note and its submission.
//! The Written Complaints Collection (KO41a/KO41b, R-KO-1..R-KO-9): which return a complaint
//! belongs to, the pure count of one period's return per collection and site, its
//! reconciliation note (R-KO-3a), and the return as CSV in the collection's item order.
//!
//! Counting (documented defaults):
//! - A complaint excluded (reg 8) or transferred out (reg 6(5)) by the end of the period it
//!   was received in was never a written complaint of this body (R-KO-2): counted nowhere.
//!   One that was in the unresolved stock first leaves it through the reconciliation note.
//! - `brought_forward` is the unresolved stock at the start of the period: received before
//!   it and neither answered (stage-1 response, one of the three outcomes) nor closed before
//!   it. `carried_forward = brought_forward + new − resolved` exactly (R-KO-3a).
//! - Complaints that leave the stock in the period without an outcome (withdrawn, consent
//!   not received, transferred, excluded, out of time, representative) are listed in the
//!   reconciliation note beside the return, never as an item of it; the stock still
//!   unresolved at the end is `carried_forward` less that list, and it is the next period's
//!   `brought_forward`.
//! - Breakdowns count new complaints only (R-KO-5): age of patient and status of complainant
//!   each sum exactly to `new` (a complaint without them counts as `unknown`); service area
//!   sums to `new` (`not_recorded`); subject areas and professions are multi-valued (`>= new`).
//! - Sections, items, their order and labels come from the KO41 code list of the return's
//!   collection year (R-KO-7, R-KO-8): the financial year `from` falls in. The JSON names it
//!   (`code_list_version`), and so does every CSV line. A code the year's list does not
//!   have counts under the section's catch-all (`other`, `unknown`), so the sums hold.

use super::collection::Collection;
use super::facts::ComplaintFacts;
use super::period::{bump, financial_year_of, within, NOT_RECORDED};
use chrono::NaiveDate;
use complaints_domain::code_lists::{Ko41CodeList, Ko41Section};
use complaints_domain::{ClosureReason, Outcome};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The code a complaint without an age band or complainant status is counted under (R-KO-5).
pub const UNKNOWN: &str = "unknown";

// Only the KO41 return needs these views of the facts, so they live with it.
impl ComplaintFacts {
    /// The day the complaint left the unresolved stock: the stage-1 response, else a closure
    /// without one.
    fn finished_on(&self) -> Option<NaiveDate> {
        self.first_response_on.or(self.closed_on)
    }

    /// Which written complaints collection the complaint belongs to: as decided when the
    /// row was written, or by the service area for a row without one.
    pub fn collection(&self) -> Collection {
        Collection::parse(&self.collection)
            .unwrap_or_else(|| Collection::for_service_area(self.service_area.as_deref()))
    }

    /// Excluded or transferred out: not a written complaint of this body (R-KO-2).
    fn not_this_bodys(&self) -> bool {
        self.is_excluded() || self.is_transferred_out()
    }
}

/// A complaint that left the unresolved stock in the period without one of the three
/// outcomes (R-KO-3a).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LeftWithoutOutcome {
    /// Complaint id.
    pub complaint_id: String,
    /// The day it was closed.
    pub left_on: NaiveDate,
    /// Why (closure reason code: withdrawn, consent_not_received, transferred, excluded, …).
    pub reason: String,
}

/// The note beside a return that reconciles its stock (R-KO-3a): not part of the return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
pub struct ReconciliationNote {
    /// Complaints that left the unresolved stock in the period without an outcome.
    pub left_without_outcome: Vec<LeftWithoutOutcome>,
    /// Still unresolved at the end of the period: `carried_forward` less the list above;
    /// the next period's `brought_forward`.
    pub unresolved_at_end: i64,
}

/// One collection's return for one site (KO41a) or the organisation (KO41b) for a period
/// (R-KO-3, R-KO-5, R-KO-6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CollectionReturn {
    /// KO41a or KO41b.
    pub collection: Collection,
    /// Section 1: the site (KO41a; `not_recorded` when complaints carry none); `None` for
    /// KO41b, returned per organisation.
    pub site: Option<String>,
    /// Section 2: unresolved at the start of the period.
    pub brought_forward: u64,
    /// Received in the period.
    pub new: u64,
    /// Stage-1 response in the period, upheld.
    pub resolved_upheld: u64,
    /// Stage-1 response in the period, partially upheld.
    pub resolved_partially_upheld: u64,
    /// Stage-1 response in the period, not upheld.
    pub resolved_not_upheld: u64,
    /// The three together (R-KO-4).
    pub resolved: u64,
    /// `brought_forward + new − resolved`, exactly (R-KO-3a).
    pub carried_forward: i64,
    /// Section 3: new complaints per patient age band; sums to `new`.
    pub by_age_band: BTreeMap<String, u64>,
    /// Section 4: new complaints per complainant status; sums to `new`.
    pub by_complainant_status: BTreeMap<String, u64>,
    /// Section 5: new complaints per service area (`not_recorded` when none); sums to `new`.
    pub by_service_area: BTreeMap<String, u64>,
    /// Section 7: new complaints per subject area, one count per subject per complaint.
    pub by_subject_area: BTreeMap<String, u64>,
    /// Section 8: new complaints per staff group (profession), one count per group per
    /// complaint (`not_recorded` when none).
    pub by_staff_group: BTreeMap<String, u64>,
    /// Beside the return, never an item of it (R-KO-3a).
    pub reconciliation: ReconciliationNote,
}

// Every service area is in each collection's list: an organisation's policy may put a
// service area in either (an NHS trust's dental service stays in KO41a).

/// Sections whose items end with `not_recorded`: a complaint may record no service area or
/// staff group, and those sum rules still hold.
const WITH_NOT_RECORDED: [&str; 2] = ["5_service_area", "8_profession"];

/// The label of our `not_recorded` item.
const NOT_RECORDED_LABEL: &str = "Not recorded";

/// A breakdown section's items in the collection's order, (code, label): the list's, then
/// `not_recorded` where a complaint may have none.
fn items_of(section: &Ko41Section) -> Vec<(&'static str, &'static str)> {
    let mut items: Vec<(&'static str, &'static str)> =
        section.items.iter().map(|i| (i.code, i.label)).collect();
    if WITH_NOT_RECORDED.contains(&section.id) {
        items.push((NOT_RECORDED, NOT_RECORDED_LABEL));
    }
    items
}

/// The breakdown sections `list` asks for and this backend produces (section 2, the
/// summary, aside).
fn breakdowns(list: &'static Ko41CodeList) -> impl Iterator<Item = &'static Ko41Section> {
    list.produced().filter(|s| s.id != "2_summary")
}

/// The item a recorded code is counted under in section `id` of `list`: itself when listed,
/// else the section's catch-all.
fn item_for(list: &Ko41CodeList, id: &str, code: &str) -> String {
    let ours = code == NOT_RECORDED && WITH_NOT_RECORDED.contains(&id);
    match list.section(id) {
        Some(s) if !(ours || s.lists(code)) => s.catch_all.unwrap_or(code).to_string(),
        _ => code.to_string(),
    }
}

/// The code list a report was counted with: the one it names, else (a return submitted
/// before reports named one) the one of its collection year.
pub fn code_list_of(report: &WrittenComplaintsReport) -> &'static Ko41CodeList {
    Ko41CodeList::by_version(&report.code_list_version)
        .unwrap_or_else(|| Ko41CodeList::for_collection_year(financial_year_of(report.from)))
}

impl CollectionReturn {
    /// No complaints; every breakdown lists `list`'s items at zero.
    fn empty(collection: Collection, site: Option<String>, list: &'static Ko41CodeList) -> Self {
        let mut ret = Self {
            collection,
            site,
            brought_forward: 0,
            new: 0,
            resolved_upheld: 0,
            resolved_partially_upheld: 0,
            resolved_not_upheld: 0,
            resolved: 0,
            carried_forward: 0,
            by_age_band: BTreeMap::new(),
            by_complainant_status: BTreeMap::new(),
            by_service_area: BTreeMap::new(),
            by_subject_area: BTreeMap::new(),
            by_staff_group: BTreeMap::new(),
            reconciliation: ReconciliationNote::default(),
        };
        for section in breakdowns(list) {
            if let Some(counts) = ret.breakdown_mut(section.id) {
                for (code, _) in items_of(section) {
                    counts.insert(code.to_string(), 0);
                }
            }
        }
        ret
    }

    fn is_empty(&self) -> bool {
        self.brought_forward == 0
            && self.new == 0
            && self.resolved == 0
            && self.reconciliation.left_without_outcome.is_empty()
    }

    /// Section 2, the summary items in return order.
    pub fn summary(&self) -> [(&'static str, i64); 7] {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        [
            ("brought_forward", n(self.brought_forward)),
            ("new", n(self.new)),
            ("resolved_upheld", n(self.resolved_upheld)),
            (
                "resolved_partially_upheld",
                n(self.resolved_partially_upheld),
            ),
            ("resolved_not_upheld", n(self.resolved_not_upheld)),
            ("resolved", n(self.resolved)),
            ("carried_forward", self.carried_forward),
        ]
    }

    /// The counts of breakdown section `id`; `None` for a section not counted here.
    fn breakdown(&self, id: &str) -> Option<&BTreeMap<String, u64>> {
        match id {
            "3_age_of_patient" => Some(&self.by_age_band),
            "4_status_of_complainant" => Some(&self.by_complainant_status),
            "5_service_area" => Some(&self.by_service_area),
            "7_subject_area" => Some(&self.by_subject_area),
            "8_profession" => Some(&self.by_staff_group),
            _ => None,
        }
    }

    fn breakdown_mut(&mut self, id: &str) -> Option<&mut BTreeMap<String, u64>> {
        match id {
            "3_age_of_patient" => Some(&mut self.by_age_band),
            "4_status_of_complainant" => Some(&mut self.by_complainant_status),
            "5_service_area" => Some(&mut self.by_service_area),
            "7_subject_area" => Some(&mut self.by_subject_area),
            "8_profession" => Some(&mut self.by_staff_group),
            _ => None,
        }
    }
}

/// The written complaints return of one organisation for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WrittenComplaintsReport {
    /// Organisation (section 1).
    pub organisation_id: String,
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
    /// The KO41 code-list version the sections, items and labels come from (R-KO-7,
    /// R-KO-8): the one of the collection year `from` falls in, e.g. `KO41-2022-23`. Empty
    /// only in a return submitted before reports named it (read as its year's).
    #[serde(default)]
    pub code_list_version: String,
    /// One return per collection and site with any complaint in play (KO41a sites first);
    /// empty when the organisation had none.
    pub collections: Vec<CollectionReturn>,
}

/// Counts the written complaints return of `organisation` for the days `from..=to` (R-KO-3,
/// R-KO-3a, R-KO-5, R-KO-6); see the module notes for what is counted where. A complaint is
/// "resolved" when its stage-1 response, which always gives one of the three outcomes, is
/// sent (R-KO-4); a review response never counts again. Pure.
pub fn written_complaints(
    organisation: &str,
    from: NaiveDate,
    to: NaiveDate,
    facts: &[ComplaintFacts],
) -> WrittenComplaintsReport {
    // R-KO-7: the list of the collection year, so a past year keeps its own items.
    let list = Ko41CodeList::for_collection_year(financial_year_of(from));
    let mut returns: BTreeMap<(Collection, Option<String>), CollectionReturn> = BTreeMap::new();
    let counted = facts.iter().filter(|f| {
        f.organisation_id == organisation
            // R-KO-2: excluded or transferred out by the end of the period it arrived in,
            // it never was a written complaint of this body.
            && !(f.not_this_bodys()
                && f.closed_on.is_some_and(|closed| {
                    closed <= to && (f.received_on >= from || closed < from)
                }))
    });
    for f in counted {
        let collection = f.collection();
        // R-KO-1: KO41a is returned per site, KO41b per organisation.
        let site = match collection {
            Collection::Ko41a => Some(f.site.clone().unwrap_or_else(|| NOT_RECORDED.into())),
            Collection::Ko41b => None,
        };
        let ret = returns
            .entry((collection, site.clone()))
            .or_insert_with(|| CollectionReturn::empty(collection, site, list));
        let finished = f.finished_on();
        if f.received_on < from && finished.is_none_or(|d| d >= from) {
            ret.brought_forward += 1;
        }
        if within(Some(f.received_on), from, to) {
            ret.new += 1;
            let item = |id: &str, code: &str| item_for(list, id, code);
            bump(
                &mut ret.by_age_band,
                &item(
                    "3_age_of_patient",
                    f.patient_age_band.as_deref().unwrap_or(UNKNOWN),
                ),
            );
            bump(
                &mut ret.by_complainant_status,
                &item(
                    "4_status_of_complainant",
                    f.complainant_status.as_deref().unwrap_or(UNKNOWN),
                ),
            );
            bump(
                &mut ret.by_service_area,
                &item(
                    "5_service_area",
                    f.service_area.as_deref().unwrap_or(NOT_RECORDED),
                ),
            );
            // One count per item: two codes folded into one catch-all count once.
            let subjects: BTreeSet<String> = f
                .subject_areas
                .iter()
                .map(|s| item("7_subject_area", s))
                .collect();
            for subject in subjects {
                bump(&mut ret.by_subject_area, &subject);
            }
            let mut groups: BTreeSet<String> = f
                .staff_groups
                .iter()
                .map(|g| item("8_profession", g))
                .collect();
            if groups.is_empty() {
                groups.insert(NOT_RECORDED.to_string());
            }
            for group in groups {
                bump(&mut ret.by_staff_group, &group);
            }
        }
        match (f.first_response_on, f.first_outcome) {
            (Some(sent), Some(outcome)) if within(Some(sent), from, to) => match outcome {
                Outcome::Upheld => ret.resolved_upheld += 1,
                Outcome::PartiallyUpheld => ret.resolved_partially_upheld += 1,
                Outcome::NotUpheld => ret.resolved_not_upheld += 1,
            },
            (None, _) if within(f.closed_on, from, to) => {
                // R-KO-3a: leaves the stock without an outcome: the note, never an item.
                ret.reconciliation
                    .left_without_outcome
                    .push(LeftWithoutOutcome {
                        complaint_id: f.complaint_id.clone(),
                        left_on: f.closed_on.unwrap_or(to),
                        reason: f
                            .closure_reason
                            .map_or(NOT_RECORDED, ClosureReason::code)
                            .to_string(),
                    });
            }
            _ => {}
        }
    }
    let collections = returns
        .into_values()
        .map(|mut r| {
            r.resolved = r.resolved_upheld + r.resolved_partially_upheld + r.resolved_not_upheld;
            // R-KO-3a: exact, in signed arithmetic: a negative figure is shown, not hidden.
            let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
            r.carried_forward = signed(r.brought_forward) + signed(r.new) - signed(r.resolved);
            r.reconciliation.unresolved_at_end =
                r.carried_forward - signed(r.reconciliation.left_without_outcome.len() as u64);
            r
        })
        .filter(|r| !r.is_empty())
        .collect();
    WrittenComplaintsReport {
        organisation_id: organisation.to_string(),
        from,
        to,
        code_list_version: list.version.to_string(),
        collections,
    }
}

/// One CSV field, quoted when RFC 4180 needs it (comma, double quote, CR or LF).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// One item of a return: collection, site (empty for KO41b), section, item, its label and
/// count, in the collection's item order of the report's code list (R-KO-6, R-KO-7):
/// section 2's summary, then the breakdowns the list has and this backend produces (3, 4,
/// 5, 7 and 8), each in the list's order with `not_recorded` last where a complaint may
/// have none. The reconciliation note is not an item.
pub fn return_items(report: &WrittenComplaintsReport) -> Vec<ReturnItem> {
    let list = code_list_of(report);
    let mut items = Vec::new();
    for ret in &report.collections {
        let mut push = |section: &str, item: &str, label: &str, count: i64| {
            items.push(ReturnItem {
                collection: ret.collection,
                site: ret.site.clone(),
                section: section.to_string(),
                item: item.to_string(),
                label: label.to_string(),
                count,
            });
        };
        let summary = ret.summary();
        for section in list.produced() {
            if section.id == "2_summary" {
                for i in section.items {
                    let count = summary.iter().find(|(code, _)| *code == i.code);
                    push(section.id, i.code, i.label, count.map_or(0, |(_, n)| *n));
                }
                continue;
            }
            let Some(counts) = ret.breakdown(section.id) else {
                continue;
            };
            for (code, label) in items_of(section) {
                let count = counts.get(code).copied().unwrap_or(0);
                push(
                    section.id,
                    code,
                    label,
                    i64::try_from(count).unwrap_or(i64::MAX),
                );
            }
        }
    }
    items
}

/// One item of a return (see [`return_items`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnItem {
    /// KO41a or KO41b.
    pub collection: Collection,
    /// The site (KO41a); `None` for KO41b.
    pub site: Option<String>,
    /// The section, e.g. `2_summary`.
    pub section: String,
    /// The item within the section, e.g. `new`.
    pub item: String,
    /// The item's label in the code list.
    pub label: String,
    /// Its figure.
    pub count: i64,
}

/// An item whose current figure differs from the one submitted (R-KO-3a): reported beside
/// the submitted return, never folded into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Adjustment {
    /// KO41a or KO41b.
    pub collection: Collection,
    /// The site (KO41a); `None` for KO41b.
    pub site: Option<String>,
    /// The section, e.g. `2_summary`.
    pub section: String,
    /// The item within the section, e.g. `new`.
    pub item: String,
    /// The figure as submitted (0 when the submitted return had no such return or item).
    pub submitted: i64,
    /// The figure counted now.
    pub current: i64,
    /// `current − submitted`.
    pub difference: i64,
}

/// The items of `current` that differ from `submitted`, in the collection's item order
/// (submitted returns first, then returns only counted now). Pure.
pub fn adjustments(
    submitted: &WrittenComplaintsReport,
    current: &WrittenComplaintsReport,
) -> Vec<Adjustment> {
    type Key = (Collection, Option<String>, String, String);
    let key = |i: &ReturnItem| -> Key {
        (
            i.collection,
            i.site.clone(),
            i.section.clone(),
            i.item.clone(),
        )
    };
    let was = return_items(submitted);
    let now = return_items(current);
    let was_by: BTreeMap<Key, i64> = was.iter().map(|i| (key(i), i.count)).collect();
    let now_by: BTreeMap<Key, i64> = now.iter().map(|i| (key(i), i.count)).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for i in was.iter().chain(now.iter()) {
        let k = key(i);
        if !seen.insert(k.clone()) {
            continue;
        }
        let before = was_by.get(&k).copied().unwrap_or(0);
        let after = now_by.get(&k).copied().unwrap_or(0);
        if before != after {
            out.push(Adjustment {
                collection: k.0,
                site: k.1,
                section: k.2,
                item: k.3,
                submitted: before,
                current: after,
                difference: after - before,
            });
        }
    }
    out
}

/// Brings forward the previous period's return as submitted (R-KO-3a): each return's
/// `brought_forward` becomes what the submitted previous return left unresolved at its end
/// (its `carried_forward` less its reconciliation note: the stock the module notes define
/// as the next period's `brought_forward`), and `carried_forward` and the note's
/// `unresolved_at_end` follow. A collection and site the submitted return still carried is
/// listed even when nothing else happened to it. Pure.
pub fn bring_forward_submitted(
    report: &mut WrittenComplaintsReport,
    previous_submitted: &WrittenComplaintsReport,
) {
    let list = code_list_of(report);
    let carried: BTreeMap<(Collection, Option<String>), i64> = previous_submitted
        .collections
        .iter()
        .map(|r| {
            (
                (r.collection, r.site.clone()),
                r.reconciliation.unresolved_at_end,
            )
        })
        .collect();
    let mut returns: BTreeMap<(Collection, Option<String>), CollectionReturn> = report
        .collections
        .drain(..)
        .map(|r| ((r.collection, r.site.clone()), r))
        .collect();
    for ((collection, site), stock) in &carried {
        if *stock != 0 {
            returns
                .entry((*collection, site.clone()))
                .or_insert_with(|| CollectionReturn::empty(*collection, site.clone(), list));
        }
    }
    let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    for (k, r) in returns.iter_mut() {
        let stock = carried.get(k).copied().unwrap_or(0);
        r.brought_forward = u64::try_from(stock).unwrap_or(0);
        r.carried_forward = stock + signed(r.new) - signed(r.resolved);
        r.reconciliation.unresolved_at_end =
            r.carried_forward - signed(r.reconciliation.left_without_outcome.len() as u64);
    }
    report.collections = returns.into_values().collect();
}

/// The return as CSV (RFC 4180, CRLF line ends) in the collection's item order of the
/// report's code list: a header `collection,organisation,site,section,item,count,label,code_list`
/// (the organisation and site are section 1), then per return section 2 (the summary items)
/// and the breakdowns of new complaints, sections 3, 4, 5, 7 and 8, each in the list's
/// order with `not_recorded` last; `label` is the item's label and `code_list` the list's
/// version (R-KO-7), on every line so a line read alone still says what it counts. The
/// reconciliation note is not part of the return and is not in the CSV.
pub fn written_complaints_csv(report: &WrittenComplaintsReport) -> String {
    let mut out =
        String::from("collection,organisation,site,section,item,count,label,code_list\r\n");
    let organisation = csv_field(&report.organisation_id);
    let version = csv_field(code_list_of(report).version);
    for i in return_items(report) {
        out.push_str(&format!(
            "{},{organisation},{},{},{},{},{},{version}\r\n",
            i.collection.name(),
            csv_field(i.site.as_deref().unwrap_or("")),
            csv_field(&i.section),
            csv_field(&i.item),
            i.count,
            csv_field(&i.label),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::models::reporting::fixtures::*;
    use crate::models::reporting::period::financial_year;
    use complaints_domain::code_lists::Ko41CodeList;
    use complaints_domain::*;

    fn area(
        mut f: ComplaintFacts,
        service: Option<&str>,
        subjects: &[&str],
        staff: &[&str],
    ) -> ComplaintFacts {
        f.service_area = service.map(str::to_string);
        f.subject_areas = subjects.iter().map(|s| s.to_string()).collect();
        f.staff_groups = staff.iter().map(|s| s.to_string()).collect();
        f
    }

    fn about(mut f: ComplaintFacts, age: &str, status: &str) -> ComplaintFacts {
        f.patient_age_band = Some(age.into());
        f.complainant_status = Some(status.into());
        f
    }

    /// The seeded return of `r_ko_3a_the_return_reconciles_with_a_note_beside_it`.
    pub(crate) fn ko41_facts() -> Vec<ComplaintFacts> {
        use ClosureReason as C;
        use Outcome::*;
        vec![
            // KO41a, brought forward and resolved upheld.
            responded(fact("p1", "2024-12-01"), "2025-05-01", Upheld, "2025-01-10"),
            // answered before the period: nowhere.
            responded(
                fact("p2", "2025-01-10"),
                "2025-03-01",
                NotUpheld,
                "2025-02-14",
            ),
            // brought forward and still open: carried.
            fact("p3", "2025-02-01"),
            // withdrawn before the period: nowhere.
            closed(fact("p4", "2025-02-15"), "2025-03-10", C::Withdrawn, None),
            // brought forward, closed for want of consent in the period: the note.
            closed(
                fact("p5", "2025-03-01"),
                "2025-06-01",
                C::ConsentNotReceived,
                None,
            ),
            // brought forward, excluded in the period: the note.
            closed(
                fact("p6", "2025-03-20"),
                "2025-04-02",
                C::Excluded,
                Some(ExclusionCategory::AlreadyInvestigated),
            ),
            // new, partially upheld.
            responded(
                about(
                    area(
                        fact("n1", "2025-04-05"),
                        Some("inpatient"),
                        &["communications", "clinical_treatment"],
                        &["medical", "nursing_midwifery_health_visiting"],
                    ),
                    "65_74",
                    "relative_or_carer",
                ),
                "2025-07-01",
                PartiallyUpheld,
                "2025-05-12",
            ),
            // new, no service area, staff group, age or status: open.
            area(fact("n2", "2025-05-05"), None, &["communications"], &[]),
            // new, answered after the period: carried.
            responded(
                about(
                    area(
                        fact("n3", "2025-06-06"),
                        Some("accident_and_emergency"),
                        &["waiting_times"],
                        &["medical"],
                    ),
                    "16_64",
                    "patient",
                ),
                "2026-04-10",
                NotUpheld,
                "2025-07-11",
            ),
            // new, not upheld; the review's upheld outcome does not count again.
            reviewed(
                responded(
                    about(
                        area(
                            fact("n4", "2025-07-07"),
                            Some("outpatient"),
                            &["appointments"],
                            &["trust_administration"],
                        ),
                        "85_and_over",
                        "patient",
                    ),
                    "2025-08-08",
                    NotUpheld,
                    "2025-08-11",
                ),
                "2025-10-10",
                Upheld,
            ),
            // excluded and transferred out in the period they arrived: not counted at all.
            closed(
                fact("x1", "2025-05-01"),
                "2025-05-03",
                C::Excluded,
                Some(ExclusionCategory::AlreadyInvestigated),
            ),
            closed(
                with(fact("x2", "2025-05-02"), "oral_phone", &["appointments"]),
                "2025-05-06",
                C::Excluded,
                Some(ExclusionCategory::OralResolvedNextWorkingDay),
            ),
            closed(fact("t1", "2025-06-01"), "2025-06-02", C::Transferred, None),
            // KO41b: brought forward and open; new upheld; new withdrawn.
            area(
                fact("b2", "2025-02-02"),
                Some("general_practice"),
                &["clinical_treatment"],
                &["medical"],
            ),
            responded(
                area(
                    fact("n5", "2025-08-08"),
                    Some("general_practice"),
                    &["clinical_treatment"],
                    &["medical"],
                ),
                "2025-09-09",
                Upheld,
                "2025-09-12",
            ),
            closed(
                area(
                    fact("n6", "2025-09-09"),
                    Some("dental"),
                    &["appointments"],
                    &[],
                ),
                "2025-09-20",
                C::Withdrawn,
                None,
            ),
        ]
    }

    /// Unresolved at the end of `to`, counted directly.
    fn open_at(facts: &[ComplaintFacts], collection: Collection, to: NaiveDate) -> i64 {
        facts
            .iter()
            .filter(|f| f.organisation_id == "RAL" && f.collection() == collection)
            .filter(|f| f.received_on <= to)
            .filter(|f| f.finished_on().is_none_or(|e| e > to))
            .count() as i64
    }

    #[test]
    fn r_ko_3a_the_return_reconciles_with_a_note_beside_it() {
        let facts = ko41_facts();
        let (from, to) = financial_year(2025).unwrap();
        let report = written_complaints("RAL", from, to, &facts);
        assert_eq!(report.collections.len(), 2);
        let a = &report.collections[0];
        assert_eq!(
            (a.collection, a.site.as_deref()),
            (Collection::Ko41a, Some("not_recorded"))
        );
        assert_eq!(a.brought_forward, 4, "p1 p3 p5 p6");
        assert_eq!(a.new, 4, "n1 n2 n3 n4");
        assert_eq!(
            (
                a.resolved_upheld,
                a.resolved_partially_upheld,
                a.resolved_not_upheld
            ),
            (1, 1, 1)
        );
        assert_eq!(a.resolved, 3);
        assert_eq!(a.carried_forward, 5, "4 + 4 - 3, exactly");
        let left: Vec<(&str, &str)> = a
            .reconciliation
            .left_without_outcome
            .iter()
            .map(|l| (l.complaint_id.as_str(), l.reason.as_str()))
            .collect();
        assert_eq!(
            left,
            vec![("p5", "consent_not_received"), ("p6", "excluded")]
        );
        assert_eq!(a.reconciliation.unresolved_at_end, 3, "p3 n2 n3");
        assert_eq!(
            a.reconciliation.unresolved_at_end,
            open_at(&facts, Collection::Ko41a, to)
        );
        assert_eq!(a.by_service_area.values().sum::<u64>(), a.new);
        assert_eq!(a.by_service_area["not_recorded"], 1);
        assert_eq!(a.by_subject_area.values().sum::<u64>(), 5);
        assert_eq!(a.by_staff_group.values().sum::<u64>(), 5);
        assert_eq!(a.by_staff_group["not_recorded"], 1);

        let b = &report.collections[1];
        assert_eq!((b.collection, b.site.as_deref()), (Collection::Ko41b, None));
        assert_eq!(
            (
                b.brought_forward,
                b.new,
                b.resolved_upheld,
                b.resolved,
                b.carried_forward
            ),
            (1, 2, 1, 1, 2)
        );
        assert_eq!(b.reconciliation.left_without_outcome[0].complaint_id, "n6");
        assert_eq!(b.reconciliation.unresolved_at_end, 1, "b2");
        assert_eq!(b.by_service_area["dental"], 1);
    }

    #[test]
    fn r_ko_5_age_of_patient_and_status_of_complainant_each_sum_exactly_to_new() {
        let (from, to) = financial_year(2025).unwrap();
        let report = written_complaints("RAL", from, to, &ko41_facts());
        let a = &report.collections[0];
        assert_eq!(a.by_age_band.values().sum::<u64>(), a.new);
        assert_eq!(a.by_complainant_status.values().sum::<u64>(), a.new);
        assert_eq!(a.by_age_band["unknown"], 1, "n2 has none: unknown");
        assert_eq!(a.by_age_band["65_74"], 1);
        assert_eq!(a.by_age_band["0_15"], 0);
        assert_eq!(a.by_complainant_status["patient"], 2);
        assert_eq!(a.by_complainant_status["relative_or_carer"], 1);
        assert_eq!(a.by_complainant_status["unknown"], 1);
        let b = &report.collections[1];
        assert_eq!(b.by_age_band["unknown"], b.new);
    }

    #[test]
    fn r_ko_3a_each_period_brings_forward_what_the_last_left_unresolved() {
        let facts = ko41_facts();
        let periods = [
            (d("2024-04-01"), d("2025-03-31")),
            (d("2025-04-01"), d("2025-06-30")),
            (d("2025-07-01"), d("2025-12-31")),
            (d("2026-01-01"), d("2026-03-31")),
            (d("2026-04-01"), d("2027-03-31")),
        ];
        for collection in [Collection::Ko41a, Collection::Ko41b] {
            let mut unresolved = 0;
            for (from, to) in periods {
                let report = written_complaints("RAL", from, to, &facts);
                let ret = report
                    .collections
                    .iter()
                    .find(|r| r.collection == collection)
                    .cloned()
                    .unwrap_or_else(|| {
                        CollectionReturn::empty(collection, None, code_list_of(&report))
                    });
                assert_eq!(
                    ret.brought_forward as i64, unresolved,
                    "{collection:?} {from}"
                );
                assert_eq!(
                    ret.carried_forward,
                    ret.brought_forward as i64 + ret.new as i64 - ret.resolved as i64
                );
                assert_eq!(
                    ret.reconciliation.unresolved_at_end,
                    open_at(&facts, collection, to),
                    "{collection:?} {to}"
                );
                assert_eq!(ret.by_age_band.values().sum::<u64>(), ret.new);
                assert_eq!(ret.by_complainant_status.values().sum::<u64>(), ret.new);
                assert_eq!(ret.by_service_area.values().sum::<u64>(), ret.new);
                assert!(ret.by_subject_area.values().sum::<u64>() >= ret.new);
                assert!(ret.by_staff_group.values().sum::<u64>() >= ret.new);
                unresolved = ret.reconciliation.unresolved_at_end;
            }
        }
    }

    #[test]
    fn r_ko_1_ko41a_is_returned_per_site() {
        let site = |mut f: ComplaintFacts, code: &str| {
            f.site = Some(code.into());
            f
        };
        let facts = vec![
            site(fact("s1", "2025-05-01"), "RAL01"),
            site(fact("s2", "2025-05-02"), "RAL01"),
            site(fact("s3", "2025-05-03"), "RAL26"),
        ];
        let (from, to) = financial_year(2025).unwrap();
        let report = written_complaints("RAL", from, to, &facts);
        let sites: Vec<(Option<&str>, u64)> = report
            .collections
            .iter()
            .map(|r| (r.site.as_deref(), r.new))
            .collect();
        assert_eq!(sites, vec![(Some("RAL01"), 2), (Some("RAL26"), 1)]);
    }

    #[test]
    fn r_ko_1_an_acute_trusts_dental_complaint_stays_in_ko41a() {
        assert_eq!(
            Collection::for_complaint(Some("KO41a"), Some("dental")),
            Collection::Ko41a
        );
        assert_eq!(
            Collection::for_complaint(Some("ko41b"), Some("inpatient")),
            Collection::Ko41b
        );
        assert_eq!(
            Collection::for_complaint(None, Some("dental")),
            Collection::Ko41b
        );
        let mut dental = area(
            fact("d1", "2025-05-01"),
            Some("dental"),
            &["appointments"],
            &[],
        );
        dental.collection = "KO41a".into();
        let (from, to) = financial_year(2025).unwrap();
        let report = written_complaints("RAL", from, to, &[dental]);
        assert_eq!(report.collections[0].collection, Collection::Ko41a);
        assert_eq!(report.collections[0].by_service_area["dental"], 1);
        assert_eq!(report.collections[0].new, 1);
    }

    #[test]
    fn r_ko_2_a_complaint_excluded_after_the_period_it_arrived_in_leaves_through_the_note() {
        let facts = vec![closed(
            fact("e1", "2025-03-20"),
            "2025-04-02",
            ClosureReason::Excluded,
            Some(ExclusionCategory::AlreadyInvestigated),
        )];
        let earlier = written_complaints("RAL", d("2024-04-01"), d("2025-03-31"), &facts);
        assert_eq!(
            (
                earlier.collections[0].new,
                earlier.collections[0].carried_forward
            ),
            (1, 1)
        );
        let (from, to) = financial_year(2025).unwrap();
        let later = written_complaints("RAL", from, to, &facts);
        let r = &later.collections[0];
        assert_eq!((r.brought_forward, r.carried_forward), (1, 1));
        assert_eq!(r.reconciliation.unresolved_at_end, 0);
    }

    #[test]
    fn r_ko_6_the_csv_follows_the_collections_item_order() {
        let (from, to) = financial_year(2025).unwrap();
        let report = written_complaints("RAL", from, to, &ko41_facts());
        let csv = written_complaints_csv(&report);
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines[0],
            "collection,organisation,site,section,item,count,label,code_list"
        );
        assert_eq!(
            lines[1],
            "KO41a,RAL,not_recorded,2_summary,brought_forward,4,Complaints brought forward,KO41-2022-23"
        );
        assert_eq!(
            lines[7],
            "KO41a,RAL,not_recorded,2_summary,carried_forward,5,Complaints carried forward,KO41-2022-23"
        );
        assert_eq!(
            lines[8],
            "KO41a,RAL,not_recorded,3_age_of_patient,0_15,0,0 to 15 years,KO41-2022-23"
        );
        assert!(lines.contains(&"KO41b,RAL,,5_service_area,dental,1,Dental,KO41-2022-23"));
        let sections: Vec<&str> = lines[1..]
            .iter()
            .filter(|l| l.starts_with("KO41a"))
            .map(|l| l.split(',').nth(3).unwrap())
            .collect();
        let mut order = sections.clone();
        order.dedup();
        assert_eq!(
            order,
            vec![
                "2_summary",
                "3_age_of_patient",
                "4_status_of_complainant",
                "5_service_area",
                "7_subject_area",
                "8_profession"
            ]
        );
        assert!(!csv.contains("p5"), "the note is not in the return");
        assert!(csv.ends_with("\r\n"));
    }

    #[test]
    fn r_ko_7_code_lists_are_chosen_by_collection_year() {
        let facts = vec![fact("q", "2021-06-01"), fact("r", "2022-06-01")];
        let (from, to) = financial_year(2021).unwrap();
        let quarterly = written_complaints("RAL", from, to, &facts);
        assert_eq!(quarterly.code_list_version, "KO41-2015-16");
        let (from, to) = financial_year(2022).unwrap();
        let annual = written_complaints("RAL", from, to, &facts);
        assert_eq!(annual.code_list_version, "KO41-2022-23");
        assert_eq!(
            serde_json::to_value(&annual).unwrap()["code_list_version"],
            "KO41-2022-23"
        );
        // A quarter is of its collection year's list too.
        let q4 = written_complaints("RAL", d("2022-01-01"), d("2022-03-31"), &facts);
        assert_eq!(q4.code_list_version, "KO41-2015-16");
        for (report, version) in [(&quarterly, "KO41-2015-16"), (&annual, "KO41-2022-23")] {
            let csv = written_complaints_csv(report);
            assert!(csv
                .split("\r\n")
                .skip(1)
                .filter(|l| !l.is_empty())
                .all(|l| l.ends_with(&format!(",{version}"))));
            // Section 6 is in the earlier list but never produced (R-KO-6).
            assert!(!csv.contains("6_clinical_treatment"));
        }
    }

    #[test]
    fn r_ko_7_the_csv_takes_its_items_and_labels_from_the_years_list() {
        let (from, to) = financial_year(2025).unwrap();
        let report = written_complaints("RAL", from, to, &ko41_facts());
        let list = Ko41CodeList::for_collection_year(2025);
        let items = return_items(&report);
        let subjects: Vec<(&str, &str)> = items
            .iter()
            .filter(|i| i.collection == Collection::Ko41a && i.section == "7_subject_area")
            .map(|i| (i.item.as_str(), i.label.as_str()))
            .collect();
        let listed: Vec<(&str, &str)> = list
            .section("7_subject_area")
            .unwrap()
            .items
            .iter()
            .map(|i| (i.code, i.label))
            .collect();
        assert_eq!(subjects, listed);
        let csv = written_complaints_csv(&report);
        assert!(csv.contains(
            "KO41a,RAL,not_recorded,7_subject_area,values_and_behaviours,0,Values and behaviours (staff),KO41-2022-23\r\n"
        ));
        assert!(csv.contains(
            "KO41a,RAL,not_recorded,7_subject_area,privacy_dignity_wellbeing,0,\"Privacy, dignity and wellbeing\",KO41-2022-23\r\n"
        ));
        assert!(csv.contains(
            "KO41a,RAL,not_recorded,8_profession,not_recorded,1,Not recorded,KO41-2022-23\r\n"
        ));
    }

    #[test]
    fn r_ko_8_professions_and_service_areas_come_from_the_years_list() {
        for year in [2021, 2025] {
            let (from, to) = financial_year(year).unwrap();
            let facts = vec![area(
                fact("s", &format!("{year}-05-01")),
                Some("dental"),
                &["appointments"],
                &["medical"],
            )];
            let report = written_complaints("RAL", from, to, &facts);
            let list = code_list_of(&report);
            for section in ["5_service_area", "8_profession"] {
                let items: Vec<String> = return_items(&report)
                    .into_iter()
                    .filter(|i| i.section == section)
                    .map(|i| i.item)
                    .collect();
                let mut expected: Vec<String> = list
                    .section(section)
                    .unwrap()
                    .items
                    .iter()
                    .map(|i| i.code.to_string())
                    .collect();
                expected.push(NOT_RECORDED.into());
                assert_eq!(items, expected, "{year} {section}");
            }
            assert_eq!(report.collections[0].by_service_area["dental"], 1);
            assert_eq!(report.collections[0].by_staff_group["medical"], 1);
        }
    }

    #[test]
    fn r_ko_7_a_code_the_years_list_lacks_counts_under_its_catch_all_and_the_sums_hold() {
        let mut odd = area(
            fact("o", "2025-05-01"),
            Some("retired_service"),
            &["retired_subject", "other"],
            &["retired_group"],
        );
        odd.patient_age_band = Some("retired_band".into());
        let (from, to) = financial_year(2025).unwrap();
        let report = written_complaints("RAL", from, to, &[odd]);
        let r = &report.collections[0];
        assert_eq!(r.by_service_area["other"], 1);
        assert_eq!(r.by_age_band["unknown"], 1);
        assert_eq!(r.by_subject_area["other"], 1, "one count for the one item");
        assert_eq!(r.by_staff_group["other"], 1);
        assert_eq!(r.by_service_area.values().sum::<u64>(), r.new);
        assert_eq!(r.by_age_band.values().sum::<u64>(), r.new);
        assert!(!r.by_subject_area.contains_key("retired_subject"));
    }

    #[test]
    fn r_ko_7_a_return_submitted_before_reports_named_their_list_reads_with_its_years() {
        let (from, to) = financial_year(2021).unwrap();
        let facts = vec![fact("q", "2021-06-01")];
        let mut json = serde_json::to_value(written_complaints("RAL", from, to, &facts)).unwrap();
        json.as_object_mut().unwrap().remove("code_list_version");
        let old: WrittenComplaintsReport = serde_json::from_value(json).unwrap();
        assert_eq!(old.code_list_version, "");
        assert_eq!(code_list_of(&old).version, "KO41-2015-16");
        assert!(written_complaints_csv(&old).ends_with(",KO41-2015-16\r\n"));
    }

    #[test]
    fn csv_fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn an_organisation_without_complaints_in_play_has_no_sections() {
        let (from, to) = financial_year(2025).unwrap();
        assert!(written_complaints("NONE", from, to, &ko41_facts())
            .collections
            .is_empty());
    }

    #[test]
    fn the_primary_care_service_areas_go_to_ko41b() {
        assert_eq!(
            Collection::for_service_area(Some("general_practice")),
            Collection::Ko41b
        );
        assert_eq!(
            Collection::for_service_area(Some("maternity")),
            Collection::Ko41a
        );
        assert_eq!(Collection::for_service_area(None), Collection::Ko41a);
        assert_eq!(serde_json::to_value(Collection::Ko41b).unwrap(), "KO41b");
    }

    #[test]
    fn r_ko_3a_adjustments_list_only_the_items_that_changed() {
        let facts = ko41_facts();
        let (from, to) = financial_year(2025).unwrap();
        let submitted = written_complaints("RAL", from, to, &facts);
        assert!(adjustments(&submitted, &submitted).is_empty());
        let mut later = facts.clone();
        later.push(fact("late", "2025-09-01"));
        let current = written_complaints("RAL", from, to, &later);
        let changed = adjustments(&submitted, &current);
        let new = changed
            .iter()
            .find(|a| a.section == "2_summary" && a.item == "new")
            .unwrap();
        assert_eq!(new.current - new.submitted, 1);
        assert_eq!(new.difference, 1);
        assert!(changed
            .iter()
            .all(|a| a.difference == a.current - a.submitted));
        assert!(changed.iter().all(|a| a.difference != 0));
        // The CSV is the same items in the same order.
        let csv = written_complaints_csv(&submitted);
        assert_eq!(csv.lines().count(), 1 + return_items(&submitted).len());
    }

    #[test]
    fn r_ko_3a_a_year_brings_forward_the_previous_year_as_submitted() {
        let facts = ko41_facts();
        let (from, to) = financial_year(2025).unwrap();
        let (next_from, next_to) = financial_year(2026).unwrap();
        let submitted = written_complaints("RAL", from, to, &facts);
        // Unchanged since submission: bringing forward changes nothing.
        let mut next = written_complaints("RAL", next_from, next_to, &facts);
        let counted = next.clone();
        bring_forward_submitted(&mut next, &submitted);
        assert_eq!(next, counted);
        // A complaint of 2025 recorded after submission: 2026 still brings forward what the
        // submitted return left unresolved.
        let mut later = facts.clone();
        later.push(fact("late", "2025-09-01"));
        let mut next = written_complaints("RAL", next_from, next_to, &later);
        let recount = next.clone();
        bring_forward_submitted(&mut next, &submitted);
        for ret in &next.collections {
            let was = submitted
                .collections
                .iter()
                .find(|r| (r.collection, &r.site) == (ret.collection, &ret.site))
                .map_or(0, |r| r.reconciliation.unresolved_at_end);
            assert_eq!(ret.brought_forward as i64, was);
            assert_eq!(
                ret.carried_forward,
                ret.brought_forward as i64 + ret.new as i64 - ret.resolved as i64
            );
        }
        assert_ne!(next, recount);
    }
}
