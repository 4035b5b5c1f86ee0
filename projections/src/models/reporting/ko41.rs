//! The Written Complaints Collection (KO41a/KO41b, R-KO-1..R-KO-9): which return a complaint
//! belongs to, the pure count of one period's return, and the return as CSV.

use super::facts::ComplaintFacts;
use super::period::{bump, within, NOT_RECORDED};
use chrono::NaiveDate;
use complaints_domain::{Outcome, ServiceArea, StaffGroup, SubjectArea};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Which national return a complaint is counted in (R-KO-1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Collection {
    /// Hospital and community health services.
    #[serde(rename = "KO41a")]
    Ko41a,
    /// Primary care: general practice and dental.
    #[serde(rename = "KO41b")]
    Ko41b,
}

impl Collection {
    /// The collection's name.
    pub fn name(self) -> &'static str {
        match self {
            Collection::Ko41a => "KO41a",
            Collection::Ko41b => "KO41b",
        }
    }

    /// KO41b for general practice and dental, KO41a for anything else (or nothing).
    pub fn for_service_area(service_area: Option<&str>) -> Self {
        let primary = [
            ServiceArea::GeneralPractice.code(),
            ServiceArea::Dental.code(),
        ];
        match service_area {
            Some(area) if primary.contains(&area) => Collection::Ko41b,
            _ => Collection::Ko41a,
        }
    }
}

// Only the KO41 return needs these views of the facts, so they live with it.
impl ComplaintFacts {
    /// The day the complaint stopped needing an outcome in the KO41 sense: the stage-1
    /// response, else a closure without one.
    fn finished_on(&self) -> Option<NaiveDate> {
        self.first_response_on.or(self.closed_on)
    }

    /// Which written complaints collection the complaint belongs to.
    pub fn collection(&self) -> Collection {
        Collection::for_service_area(self.service_area.as_deref())
    }
}

/// One collection's return for a period (R-KO-3, R-KO-5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CollectionReturn {
    /// KO41a or KO41b.
    pub collection: Collection,
    /// Received before the period and neither resolved nor closed before it.
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
    /// Closed in the period without ever getting an outcome (withdrawn, consent not
    /// received, …): not "resolved", but no longer carried (an extra item of this system).
    pub closed_without_outcome: u64,
    /// `brought_forward + new - resolved - closed_without_outcome`.
    pub carried_forward: u64,
    /// New complaints per subject area, one count per subject per complaint.
    pub by_subject_area: BTreeMap<String, u64>,
    /// New complaints per service area (`not_recorded` when none); sums to `new`.
    pub by_service_area: BTreeMap<String, u64>,
    /// New complaints per staff group, one count per group per complaint (`not_recorded`
    /// when none).
    pub by_staff_group: BTreeMap<String, u64>,
}

impl CollectionReturn {
    fn empty(collection: Collection) -> Self {
        let zeros = |codes: Vec<&str>| -> BTreeMap<String, u64> {
            codes
                .into_iter()
                .chain([NOT_RECORDED])
                .map(|c| (c.to_string(), 0))
                .collect()
        };
        let services: Vec<&str> = ServiceArea::ALL
            .iter()
            .filter(|s| Collection::for_service_area(Some(s.code())) == collection)
            .map(|s| s.code())
            .collect();
        let mut by_subject_area = zeros(SubjectArea::ALL.iter().map(|s| s.code()).collect());
        // Every complaint has a subject; `not_recorded` is only kept for a stray empty list.
        by_subject_area.remove(NOT_RECORDED);
        Self {
            collection,
            brought_forward: 0,
            new: 0,
            resolved_upheld: 0,
            resolved_partially_upheld: 0,
            resolved_not_upheld: 0,
            resolved: 0,
            closed_without_outcome: 0,
            carried_forward: 0,
            by_subject_area,
            by_service_area: zeros(services),
            by_staff_group: zeros(StaffGroup::ALL.iter().map(|s| s.code()).collect()),
        }
    }

    fn is_empty(&self) -> bool {
        self.brought_forward == 0
            && self.new == 0
            && self.resolved == 0
            && self.closed_without_outcome == 0
    }

    /// The summary items in return order, `closed_without_outcome` before `carried_forward`.
    pub fn summary(&self) -> [(&'static str, u64); 8] {
        [
            ("brought_forward", self.brought_forward),
            ("new", self.new),
            ("resolved_upheld", self.resolved_upheld),
            ("resolved_partially_upheld", self.resolved_partially_upheld),
            ("resolved_not_upheld", self.resolved_not_upheld),
            ("resolved", self.resolved),
            ("closed_without_outcome", self.closed_without_outcome),
            ("carried_forward", self.carried_forward),
        ]
    }
}

/// The written complaints return of one organisation for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WrittenComplaintsReport {
    /// Organisation.
    pub organisation_id: String,
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
    /// One return per collection with any complaint in play (KO41a first); empty when the
    /// organisation had none.
    pub collections: Vec<CollectionReturn>,
}

/// Counts the written complaints return of `organisation` for the days `from..=to` (R-KO-3,
/// R-KO-5). Excluded and transferred-out complaints are not counted at all (R-KO-2); a
/// complaint is "resolved" when its stage-1 response, which always gives one of the three
/// outcomes, is sent (R-KO-4); a review response never counts again. Pure.
pub fn written_complaints(
    organisation: &str,
    from: NaiveDate,
    to: NaiveDate,
    facts: &[ComplaintFacts],
) -> WrittenComplaintsReport {
    let mut returns: BTreeMap<Collection, CollectionReturn> =
        [Collection::Ko41a, Collection::Ko41b]
            .into_iter()
            .map(|c| (c, CollectionReturn::empty(c)))
            .collect();
    let counted = facts.iter().filter(|f| {
        f.organisation_id == organisation && !f.is_excluded() && !f.is_transferred_out()
    });
    for f in counted {
        let Some(ret) = returns.get_mut(&f.collection()) else {
            continue;
        };
        if f.received_on < from && f.finished_on().is_none_or(|d| d >= from) {
            ret.brought_forward += 1;
        }
        if within(Some(f.received_on), from, to) {
            ret.new += 1;
            let subjects: BTreeSet<&str> = f.subject_areas.iter().map(String::as_str).collect();
            if subjects.is_empty() {
                bump(&mut ret.by_subject_area, NOT_RECORDED);
            }
            for subject in subjects {
                bump(&mut ret.by_subject_area, subject);
            }
            bump(
                &mut ret.by_service_area,
                f.service_area.as_deref().unwrap_or(NOT_RECORDED),
            );
            let groups: BTreeSet<&str> = f.staff_groups.iter().map(String::as_str).collect();
            if groups.is_empty() {
                bump(&mut ret.by_staff_group, NOT_RECORDED);
            }
            for group in groups {
                bump(&mut ret.by_staff_group, group);
            }
        }
        match (f.first_response_on, f.first_outcome) {
            (Some(sent), Some(outcome)) if within(Some(sent), from, to) => match outcome {
                Outcome::Upheld => ret.resolved_upheld += 1,
                Outcome::PartiallyUpheld => ret.resolved_partially_upheld += 1,
                Outcome::NotUpheld => ret.resolved_not_upheld += 1,
            },
            (None, _) if f.closure_reason.is_some() && within(f.closed_on, from, to) => {
                ret.closed_without_outcome += 1;
            }
            _ => {}
        }
    }
    let collections = returns
        .into_values()
        .map(|mut r| {
            r.resolved = r.resolved_upheld + r.resolved_partially_upheld + r.resolved_not_upheld;
            r.carried_forward =
                (r.brought_forward + r.new).saturating_sub(r.resolved + r.closed_without_outcome);
            r
        })
        .filter(|r| !r.is_empty())
        .collect();
    WrittenComplaintsReport {
        organisation_id: organisation.to_string(),
        from,
        to,
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

/// The return as CSV (RFC 4180, CRLF line ends): a header `collection,section,item,count`,
/// then per collection the summary items (section `summary`) and the breakdowns of new
/// complaints (sections `subject_area`, `service_area`, `staff_group`).
pub fn written_complaints_csv(report: &WrittenComplaintsReport) -> String {
    let mut out = String::from("collection,section,item,count\r\n");
    let mut row = |collection: &str, section: &str, item: &str, count: u64| {
        out.push_str(&format!(
            "{},{},{},{count}\r\n",
            csv_field(collection),
            csv_field(section),
            csv_field(item)
        ));
    };
    for ret in &report.collections {
        let name = ret.collection.name();
        for (item, count) in ret.summary() {
            row(name, "summary", item, count);
        }
        for (section, map) in [
            ("subject_area", &ret.by_subject_area),
            ("service_area", &ret.by_service_area),
            ("staff_group", &ret.by_staff_group),
        ] {
            for (item, count) in map {
                row(name, section, item, *count);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::models::reporting::fixtures::*;
    use crate::models::reporting::period::financial_year;
    use complaints_domain::*;

    /// The seeded return of `the_written_complaints_return_reconciles`.
    fn ko41_facts() -> Vec<ComplaintFacts> {
        use ClosureReason as C;
        use Outcome::*;
        let area =
            |mut f: ComplaintFacts, service: Option<&str>, subjects: &[&str], staff: &[&str]| {
                f.service_area = service.map(str::to_string);
                f.subject_areas = subjects.iter().map(|s| s.to_string()).collect();
                f.staff_groups = staff.iter().map(|s| s.to_string()).collect();
                f
            };
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
            // brought forward, closed for want of consent in the period.
            closed(
                fact("p5", "2025-03-01"),
                "2025-06-01",
                C::ConsentNotReceived,
                None,
            ),
            // new, partially upheld.
            responded(
                area(
                    fact("n1", "2025-04-05"),
                    Some("inpatient"),
                    &["communications", "clinical_treatment"],
                    &["medical", "nursing_midwifery_health_visiting"],
                ),
                "2025-07-01",
                PartiallyUpheld,
                "2025-05-12",
            ),
            // new, no service area or staff group, open.
            area(fact("n2", "2025-05-05"), None, &["communications"], &[]),
            // new, answered after the period: carried.
            responded(
                area(
                    fact("n3", "2025-06-06"),
                    Some("accident_and_emergency"),
                    &["waiting_times"],
                    &["medical"],
                ),
                "2026-04-10",
                NotUpheld,
                "2025-07-11",
            ),
            // new, not upheld; the review's upheld outcome does not count again.
            reviewed(
                responded(
                    area(
                        fact("n4", "2025-07-07"),
                        Some("outpatient"),
                        &["appointments"],
                        &["trust_administration"],
                    ),
                    "2025-08-08",
                    NotUpheld,
                    "2025-08-11",
                ),
                "2025-10-10",
                Upheld,
            ),
            // excluded, transferred out: not counted at all.
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

    /// Open at the end of `to`, counted directly.
    fn open_at(facts: &[ComplaintFacts], collection: Collection, to: NaiveDate) -> u64 {
        facts
            .iter()
            .filter(|f| f.organisation_id == "RAL" && !f.is_excluded() && !f.is_transferred_out())
            .filter(|f| f.collection() == collection && f.received_on <= to)
            .filter(|f| f.finished_on().is_none_or(|e| e > to))
            .count() as u64
    }

    #[test]
    fn the_written_complaints_return_reconciles() {
        let facts = ko41_facts();
        let (from, to) = financial_year(2025).unwrap();
        let report = written_complaints("RAL", from, to, &facts);
        assert_eq!(report.collections.len(), 2);
        let a = &report.collections[0];
        assert_eq!(a.collection, Collection::Ko41a);
        assert_eq!(a.brought_forward, 3, "p1 p3 p5");
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
        assert_eq!(a.closed_without_outcome, 1, "p5");
        assert_eq!(a.carried_forward, 3, "p3 n2 n3");
        assert_eq!(
            a.carried_forward,
            a.brought_forward + a.new - a.resolved - a.closed_without_outcome
        );
        assert_eq!(a.carried_forward, open_at(&facts, Collection::Ko41a, to));

        assert_eq!(a.by_service_area.values().sum::<u64>(), a.new);
        assert_eq!(a.by_service_area["not_recorded"], 1);
        assert_eq!(a.by_service_area["inpatient"], 1);
        assert!(!a.by_service_area.contains_key("general_practice"));
        assert_eq!(a.by_subject_area.values().sum::<u64>(), 5);
        assert_eq!(a.by_subject_area["communications"], 2);
        assert_eq!(a.by_subject_area["restraint"], 0);
        assert_eq!(a.by_staff_group.values().sum::<u64>(), 5);
        assert_eq!(a.by_staff_group["medical"], 2);
        assert_eq!(a.by_staff_group["not_recorded"], 1);

        let b = &report.collections[1];
        assert_eq!(b.collection, Collection::Ko41b);
        assert_eq!(
            (
                b.brought_forward,
                b.new,
                b.resolved_upheld,
                b.resolved,
                b.closed_without_outcome
            ),
            (1, 2, 1, 1, 1)
        );
        assert_eq!(b.carried_forward, 1, "b2");
        assert_eq!(b.by_service_area.values().sum::<u64>(), b.new);
        assert_eq!(b.by_service_area["general_practice"], 1);
        assert_eq!(b.by_service_area["dental"], 1);
        assert!(b.by_staff_group.values().sum::<u64>() >= b.new);
    }

    #[test]
    fn each_period_carries_forward_what_the_next_brings_forward() {
        let facts = ko41_facts();
        let periods = [
            (d("2024-04-01"), d("2025-03-31")),
            (d("2025-04-01"), d("2025-06-30")),
            (d("2025-07-01"), d("2025-12-31")),
            (d("2026-01-01"), d("2026-03-31")),
            (d("2026-04-01"), d("2027-03-31")),
        ];
        for collection in [Collection::Ko41a, Collection::Ko41b] {
            let mut carried = 0;
            for (from, to) in periods {
                let report = written_complaints("RAL", from, to, &facts);
                let ret = report
                    .collections
                    .iter()
                    .find(|r| r.collection == collection)
                    .cloned()
                    .unwrap_or_else(|| CollectionReturn::empty(collection));
                assert_eq!(ret.brought_forward, carried, "{collection:?} {from}");
                assert_eq!(
                    ret.carried_forward,
                    open_at(&facts, collection, to),
                    "{collection:?} {to}"
                );
                assert_eq!(ret.by_service_area.values().sum::<u64>(), ret.new);
                assert!(ret.by_subject_area.values().sum::<u64>() >= ret.new);
                assert!(ret.by_staff_group.values().sum::<u64>() >= ret.new);
                carried = ret.carried_forward;
            }
        }
    }

    #[test]
    fn an_organisation_without_complaints_in_play_has_no_sections() {
        let (from, to) = financial_year(2025).unwrap();
        assert!(written_complaints("NONE", from, to, &ko41_facts())
            .collections
            .is_empty());
    }

    #[test]
    fn the_return_as_csv_has_a_header_and_one_row_per_item() {
        let (from, to) = financial_year(2025).unwrap();
        let report = written_complaints("RAL", from, to, &ko41_facts());
        let csv = written_complaints_csv(&report);
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines[0], "collection,section,item,count");
        assert_eq!(lines[1], "KO41a,summary,brought_forward,3");
        assert!(lines.contains(&"KO41a,summary,carried_forward,3"));
        assert!(lines.contains(&"KO41b,service_area,dental,1"));
        let items: usize = report
            .collections
            .iter()
            .map(|r| 8 + r.by_subject_area.len() + r.by_service_area.len() + r.by_staff_group.len())
            .sum();
        assert_eq!(lines.len(), 1 + items);
        assert!(csv.ends_with("\r\n"));
    }

    #[test]
    fn csv_fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn the_primary_care_service_areas_go_to_ko41b() {
        assert_eq!(
            Collection::for_service_area(Some("general_practice")),
            Collection::Ko41b
        );
        assert_eq!(
            Collection::for_service_area(Some("dental")),
            Collection::Ko41b
        );
        assert_eq!(
            Collection::for_service_area(Some("maternity")),
            Collection::Ko41a
        );
        assert_eq!(Collection::for_service_area(None), Collection::Ko41a);
        assert_eq!(serde_json::to_value(Collection::Ko41b).unwrap(), "KO41b");
    }
}
