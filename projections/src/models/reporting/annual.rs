// Over 600 lines with its tests (half of it): the regulation 18 figures, counted by hand.
//! The regulation 18 annual report (R-AR-1..R-AR-5), counted purely from the facts: each
//! figure in the year of the fact that decides it, transferred-out complaints apart.

use super::facts::{ComplaintFacts, ContributionFact, LearningFact, ReferralFact};
use super::learning::{summarise_learning, LearningReport};
use super::period::{bump, financial_year, within, NOT_RECORDED};
use chrono::NaiveDate;
use complaints_domain::{ExclusionCategory, Ombudsman, Outcome};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// First responses by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutcomeCounts {
    /// Upheld.
    pub upheld: u64,
    /// Partially upheld.
    pub partially_upheld: u64,
    /// Not upheld.
    pub not_upheld: u64,
}

impl OutcomeCounts {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Upheld => self.upheld += 1,
            Outcome::PartiallyUpheld => self.partially_upheld += 1,
            Outcome::NotUpheld => self.not_upheld += 1,
        }
    }

    /// Upheld plus partially upheld (R-AR-1 item 2).
    pub fn well_founded(&self) -> u64 {
        self.upheld + self.partially_upheld
    }

    /// All three.
    pub fn total(&self) -> u64 {
        self.upheld + self.partially_upheld + self.not_upheld
    }
}

/// Complaints the body was told were referred to each ombudsman.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OmbudsmanCounts {
    /// Parliamentary and Health Service Ombudsman.
    pub phso: u64,
    /// Local Government and Social Care Ombudsman.
    pub lgsco: u64,
}

/// Excluded complaints (reg 8) other than oral next-working-day resolutions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExcludedCounts {
    /// How many.
    pub total: u64,
    /// By reg 8(1) category code.
    pub by_category: BTreeMap<String, u64>,
}

/// How many of a set met their deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Share {
    /// Met the deadline.
    pub met: u64,
    /// In the set.
    pub total: u64,
    /// `met / total`; null when the set is empty.
    pub share: Option<f64>,
}

impl Share {
    fn of(met: u64, total: u64) -> Self {
        let share = (total > 0).then(|| met as f64 / total as f64);
        Self { met, total, share }
    }
}

/// How the sender counts a complaint it forwarded to the body it belongs to (R-AR-5,
/// R-SCOPE-2): a complaint whose current closure is `transferred`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferCounting {
    /// The documented default: the complaint counts as received by the receiving body, so
    /// the sender shows it only as `transferred_out`, never in `received` or the figures
    /// about complaints received (channel, subject, acknowledgement share). The sender's
    /// own decisions on it count only if it sent a stage-1 response before the transfer:
    /// without one it is never well founded, answered or referred for the sender.
    #[default]
    ReportedApart,
    /// The reading before R-AR-5: kept in `received` and every other figure, and shown again
    /// as `transferred_out`, a subset of `received`.
    WithinReceived,
}

/// R-AR-5's documented default: transferred-out complaints are reported apart from `received`.
pub const TRANSFER_COUNTING: TransferCounting = TransferCounting::ReportedApart;

/// The regulation 18 annual report of one organisation for one financial year (R-AR-1,
/// counted by R-AR-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AnnualReport {
    /// Organisation.
    pub organisation_id: String,
    /// Financial year, named by the calendar year it starts in.
    pub year: i32,
    /// E.g. `2025-26`.
    pub label: String,
    /// 1 April.
    pub period_start: NaiveDate,
    /// 31 March.
    pub period_end: NaiveDate,
    /// Complaints received in the year (item 1): excluded ones, oral next-day resolutions
    /// and, by default, those transferred out aside (R-AR-5).
    pub received: u64,
    /// Complaints received in the year and excluded under reg 8 (not the oral next-day ones).
    pub excluded: ExcludedCounts,
    /// Oral complaints received in the year and resolved by the next working day.
    pub oral_resolved_next_working_day: u64,
    /// Complaints received in the year and forwarded to the body they belong to (R-SCOPE-2),
    /// judged on the facts when the report is counted: under `transfer_counting`
    /// `reported_apart` (the default, R-AR-5) not part of `received`; under
    /// `within_received`, of `received`.
    pub transferred_out: u64,
    /// How transferred-out complaints were counted (R-AR-5).
    pub transfer_counting: TransferCounting,
    /// First responses sent in the year that upheld or partially upheld the complaint
    /// (item 2).
    pub well_founded: u64,
    /// First responses sent in the year, by outcome.
    pub by_outcome: OutcomeCounts,
    /// Review (stage-2) responses sent in the year.
    pub reviews_responded: u64,
    /// Review responses sent in the year whose outcome differs from the first response's.
    pub outcome_changed_on_review: u64,
    /// Complaints the body was told in the year were referred to each ombudsman (item 3); by
    /// default not one it transferred out without answering it (R-AR-5).
    pub referred_to_ombudsman: OmbudsmanCounts,
    /// Complaints received in the year per subject area, one count per subject (item 4).
    pub by_subject_area: BTreeMap<String, u64>,
    /// Complaints received in the year per channel.
    pub by_channel: BTreeMap<String, u64>,
    /// Of the complaints acknowledged in the year (by default not those transferred out,
    /// R-AR-5), those acknowledged by the third working day after receipt.
    pub acknowledged_within_3_working_days: Share,
    /// Of the complaints whose first response was sent in the year and that had a response
    /// period agreed with or notified to the complainant before it, those sent by that
    /// period's end, moved only by agreed clock stops and extensions agreed before it ran
    /// out (R-AR-4).
    pub responded_within_agreed_period: Share,
    /// Of the complaints whose first response was sent in the year, those sent within the
    /// organisation's internal target (its default response period); reported apart from
    /// the agreed period, which it never is (R-AR-4).
    pub responded_within_internal_target: Share,
    /// Lessons and actions recorded in the year (items 5 and 6): counted by kind, the
    /// latest few of each named, and where the full list is.
    pub learning: LearningReport,
    /// Joint complaints another body led that this body took part in (R-JOINT-2), each
    /// counted once, in the year this body first supplied its part. Never part of
    /// `received` or any figure above, which count the complaints this body led (the lead
    /// counts a joint complaint as any other; the KO41 return counts it by the lead alone).
    #[serde(default)]
    pub contributed_to: u64,
}

/// How many joint complaints led by another body `organisation` contributed to in financial
/// `year` (R-JOINT-2): once each, in the year of its first part. Pure.
pub fn contributed_to(organisation: &str, year: i32, contributions: &[ContributionFact]) -> u64 {
    let Some((start, end)) = financial_year(year) else {
        return 0;
    };
    let counted: BTreeSet<&str> = contributions
        .iter()
        .filter(|c| c.organisation_id == organisation && c.lead_organisation_id != organisation)
        .filter(|c| within(Some(c.first_provided_on), start, end))
        .map(|c| c.complaint_id.as_str())
        .collect();
    counted.len() as u64
}

/// Counts the annual report of `organisation` for financial `year` from the facts (rows of
/// other organisations are ignored). Pure.
///
/// Each figure counts in the year of the fact that decides it (R-AR-2): `received`,
/// `excluded`, `oral_resolved_next_working_day`, `by_subject_area` and `by_channel` by
/// `received_on`; `by_outcome` and `well_founded` by the stage-1 response's day;
/// `outcome_changed_on_review` by the review response's day; referrals by `informed_on`;
/// the acknowledgement share by `acknowledged_on`; learning by `recorded_on`. Excluded
/// complaints appear only in their own counts.
///
/// Transferred-out complaints are counted as [`TRANSFER_COUNTING`], the documented default
/// (see [`annual_report_with`]).
pub fn annual_report(
    organisation: &str,
    year: i32,
    facts: &[ComplaintFacts],
    referrals: &[ReferralFact],
    learning: &[LearningFact],
) -> AnnualReport {
    annual_report_with(
        organisation,
        year,
        facts,
        referrals,
        learning,
        TRANSFER_COUNTING,
    )
}

/// As [`annual_report`], with transferred-out complaints counted as `transfers` says
/// (R-AR-5). A transfer is judged on the facts when the report is counted, like an
/// exclusion: `transferred_out` counts by `received_on`, so a complaint received in March
/// and transferred in April leaves the earlier year's `received` the next time that year
/// is counted (a report already published keeps its figures). Referrals of a complaint
/// need its facts row, whatever year it was received in. Pure.
pub fn annual_report_with(
    organisation: &str,
    year: i32,
    facts: &[ComplaintFacts],
    referrals: &[ReferralFact],
    learning: &[LearningFact],
    transfers: TransferCounting,
) -> AnnualReport {
    let (start, end) = financial_year(year).unwrap_or(if year < 0 {
        (NaiveDate::MIN, NaiveDate::MIN)
    } else {
        (NaiveDate::MAX, NaiveDate::MAX)
    });
    let mut report = AnnualReport {
        organisation_id: organisation.to_string(),
        year,
        label: format!("{year}-{:02}", (i64::from(year) + 1).rem_euclid(100)),
        period_start: start,
        period_end: end,
        received: 0,
        excluded: ExcludedCounts::default(),
        oral_resolved_next_working_day: 0,
        transferred_out: 0,
        transfer_counting: transfers,
        well_founded: 0,
        by_outcome: OutcomeCounts::default(),
        reviews_responded: 0,
        outcome_changed_on_review: 0,
        referred_to_ombudsman: OmbudsmanCounts::default(),
        by_subject_area: BTreeMap::new(),
        by_channel: BTreeMap::new(),
        acknowledged_within_3_working_days: Share::default(),
        responded_within_agreed_period: Share::default(),
        responded_within_internal_target: Share::default(),
        learning: LearningReport::default(),
        contributed_to: 0,
    };
    let (mut ack_met, mut ack_total, mut resp_met, mut resp_total) = (0, 0, 0, 0);
    let (mut target_met, mut target_total) = (0, 0);
    // R-AR-5: complaints transferred out that the sender never answered; their referrals
    // are the receiving body's.
    let mut not_answered_here: BTreeSet<&str> = BTreeSet::new();
    for f in facts.iter().filter(|f| f.organisation_id == organisation) {
        if f.is_excluded() {
            if within(Some(f.received_on), start, end) {
                match f.exclusion_category {
                    Some(ExclusionCategory::OralResolvedNextWorkingDay) => {
                        report.oral_resolved_next_working_day += 1
                    }
                    other => {
                        report.excluded.total += 1;
                        bump(
                            &mut report.excluded.by_category,
                            other.map_or(NOT_RECORDED, |c| c.code()),
                        );
                    }
                }
            }
            continue;
        }
        // R-AR-5: by default the receiving body's complaint (R-SCOPE-2), not one this body
        // received.
        let apart = transfers == TransferCounting::ReportedApart && f.is_transferred_out();
        if apart && f.first_response_on.is_none() {
            not_answered_here.insert(&f.complaint_id);
        }
        if within(Some(f.received_on), start, end) {
            if f.is_transferred_out() {
                report.transferred_out += 1;
            }
            if !apart {
                report.received += 1;
                bump(&mut report.by_channel, &f.channel);
                let subjects: BTreeSet<&str> = f.subject_areas.iter().map(String::as_str).collect();
                for subject in subjects {
                    bump(&mut report.by_subject_area, subject);
                }
            }
        }
        if !apart && within(f.acknowledged_on, start, end) {
            ack_total += 1;
            if f.acknowledged_in_time() == Some(true) {
                ack_met += 1;
            }
        }
        if let (true, Some(outcome)) = (within(f.first_response_on, start, end), f.first_outcome) {
            report.by_outcome.add(outcome);
            // R-AR-4: only complaints with a period agreed or notified are measured.
            if let Some(within) = f.within_response_period() {
                resp_total += 1;
                resp_met += u64::from(within);
            }
            target_total += 1;
            target_met += u64::from(f.within_internal_target() == Some(true));
        }
        if within(f.review_response_on, start, end) {
            report.reviews_responded += 1;
            if let (Some(review), Some(first)) = (f.review_outcome, f.first_outcome) {
                if review != first {
                    report.outcome_changed_on_review += 1;
                }
            }
        }
    }
    report.well_founded = report.by_outcome.well_founded();
    report.acknowledged_within_3_working_days = Share::of(ack_met, ack_total);
    report.responded_within_agreed_period = Share::of(resp_met, resp_total);
    report.responded_within_internal_target = Share::of(target_met, target_total);

    let mut referred: BTreeSet<(&str, Ombudsman)> = BTreeSet::new();
    for r in referrals {
        if r.organisation_id == organisation
            && within(Some(r.informed_on), start, end)
            && !not_answered_here.contains(r.complaint_id.as_str())
        {
            referred.insert((r.complaint_id.as_str(), r.ombudsman));
        }
    }
    for (_, ombudsman) in referred {
        match ombudsman {
            Ombudsman::Phso => report.referred_to_ombudsman.phso += 1,
            Ombudsman::Lgsco => report.referred_to_ombudsman.lgsco += 1,
        }
    }

    report.learning = summarise_learning(organisation, year, start, end, learning);
    report
}

#[cfg(test)]
mod joint_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::models::reporting::facts::contribution_facts;
    use crate::state::FoldedCase;
    use complaints_domain::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn r_joint_2_a_participant_counts_a_joint_complaint_once_in_the_year_of_its_first_part() {
        let mut folded = FoldedCase::default();
        let mut apply = |e: ComplaintEvent| evolve(&mut folded.case, e);
        apply(crate::models::reporting::fixtures::received_event(
            "2026-03-20",
            Channel::Letter,
        ));
        apply(ComplaintEvent::ParticipantAdded {
            organisation_id: "LA001".into(),
            agreed_on: d("2026-03-23"),
            agreed_by: "cm-1".into(),
            reason: Confidential("Home care.".into()),
        });
        for (n, asked, due, supplied) in [
            (1, "2026-03-24", "2026-03-31", "2026-04-02"),
            (2, "2026-06-01", "2026-06-10", "2026-06-09"),
        ] {
            apply(ComplaintEvent::PartRequested {
                request: n,
                organisation_id: "LA001".into(),
                requested_on: d(asked),
                due_on: d(due),
            });
            apply(ComplaintEvent::PartProvided {
                request: n,
                organisation_id: "LA001".into(),
                provided_on: d(supplied),
                findings: Confidential("f".into()),
                response_section: Confidential("s".into()),
            });
        }
        let rows = contribution_facts("c1", &folded);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].first_provided_on, d("2026-04-02"));
        // Received in 2025-26 by the lead; first part supplied in 2026-27.
        assert_eq!(contributed_to("LA001", 2026, &rows), 1);
        assert_eq!(contributed_to("LA001", 2025, &rows), 0);
        assert_eq!(contributed_to("RAL", 2026, &rows), 0);
        // The participant received nothing.
        let report = annual_report("LA001", 2025, &[], &[], &[]);
        assert_eq!((report.received, report.contributed_to), (0, 0));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::models::reporting::fixtures::*;
    use complaints_domain::*;

    #[test]
    fn a_year_is_labelled_by_both_calendar_years() {
        assert_eq!(annual_report("RAL", 2099, &[], &[], &[]).label, "2099-00");
    }

    #[test]
    fn the_worked_example_of_r_ar_3_counts_each_figure_in_the_year_of_its_fact() {
        let facts = vec![
            responded(
                fact("a", "2025-03-31"),
                "2025-05-02",
                Outcome::Upheld,
                "2025-05-06",
            ),
            responded(
                fact("b", "2025-04-01"),
                "2025-06-20",
                Outcome::NotUpheld,
                "2025-05-07",
            ),
        ];
        let referrals = vec![referral("b", 6, Ombudsman::Phso, "2026-04-03")];

        let y2024 = annual_report("RAL", 2024, &facts, &referrals, &[]);
        assert_eq!(y2024.received, 1);
        assert_eq!(y2024.well_founded, 0);
        assert_eq!(y2024.by_outcome.total(), 0);

        let y2025 = annual_report("RAL", 2025, &facts, &referrals, &[]);
        assert_eq!(y2025.label, "2025-26");
        assert_eq!(y2025.received, 1);
        assert_eq!(y2025.well_founded, 1);
        assert_eq!(
            y2025.by_outcome,
            OutcomeCounts {
                upheld: 1,
                partially_upheld: 0,
                not_upheld: 1
            }
        );
        assert_eq!(y2025.referred_to_ombudsman, OmbudsmanCounts::default());

        let y2026 = annual_report("RAL", 2026, &facts, &referrals, &[]);
        assert_eq!(y2026.received, 0);
        assert_eq!(
            y2026.referred_to_ombudsman,
            OmbudsmanCounts { phso: 1, lgsco: 0 }
        );
    }

    /// The seeded year of `a_mixed_year_counts_as_computed_by_hand`; comments give each
    /// complaint's part in 2025-26.
    fn mixed_year() -> (Vec<ComplaintFacts>, Vec<ReferralFact>, Vec<LearningFact>) {
        use ClosureReason as C;
        use Outcome::*;
        let facts = vec![
            // received; ack met (due 15 Apr); upheld 20 May, in time.
            responded(
                acknowledged(
                    with(
                        fact("a", "2025-04-10"),
                        "letter",
                        &["communications", "waiting_times"],
                    ),
                    "2025-04-11",
                ),
                "2025-05-20",
                Upheld,
                "2025-05-30",
            ),
            // received; ack late (due 24 Apr, Easter); not upheld late; review partially
            // upheld 1 Aug: outcome changed on review.
            reviewed(
                responded(
                    acknowledged(
                        with(fact("b", "2025-04-17"), "email", &["clinical_treatment"]),
                        "2025-04-25",
                    ),
                    "2025-06-10",
                    NotUpheld,
                    "2025-06-05",
                ),
                "2025-08-01",
                PartiallyUpheld,
            ),
            // oral, resolved next working day: counted only as such.
            closed(
                with(fact("c", "2025-06-02"), "oral_phone", &["appointments"]),
                "2025-06-03",
                C::Excluded,
                Some(ExclusionCategory::OralResolvedNextWorkingDay),
            ),
            // excluded (already investigated): counted only as excluded, its ack ignored.
            closed(
                acknowledged(
                    with(fact("d", "2025-07-01"), "web_form", &["communications"]),
                    "2025-07-02",
                ),
                "2025-07-05",
                C::Excluded,
                Some(ExclusionCategory::AlreadyInvestigated),
            ),
            // received; ack met; partially upheld in time; review agrees: no change.
            reviewed(
                responded(
                    acknowledged(
                        with(
                            fact("e", "2025-09-15"),
                            "email",
                            &["clinical_treatment", "communications"],
                        ),
                        "2025-09-16",
                    ),
                    "2025-11-03",
                    PartiallyUpheld,
                    "2025-11-10",
                ),
                "2026-01-20",
                PartiallyUpheld,
            ),
            // received late in the year, ack met, no response yet.
            acknowledged(
                with(
                    fact("f", "2026-03-20"),
                    "letter",
                    &["values_and_behaviours"],
                ),
                "2026-03-23",
            ),
            // received the year before (and acknowledged then); upheld 22 Apr 2025 in time.
            responded(
                acknowledged(fact("g", "2025-03-25"), "2025-03-27"),
                "2025-04-22",
                Upheld,
                "2025-04-29",
            ),
            // received, ack met, withdrawn.
            closed(
                acknowledged(
                    with(fact("h", "2025-10-01"), "oral_in_person", &["other"]),
                    "2025-10-02",
                ),
                "2025-10-05",
                C::Withdrawn,
                None,
            ),
            // transferred out: only as such (R-AR-5).
            closed(fact("i", "2025-11-11"), "2025-11-12", C::Transferred, None),
            // received, ack met, not upheld 15 Jan in time; review upheld in 2026-27.
            reviewed(
                responded(
                    acknowledged(
                        with(fact("k", "2025-12-01"), "web_form", &["communications"]),
                        "2025-12-03",
                    ),
                    "2026-01-15",
                    NotUpheld,
                    "2026-01-16",
                ),
                "2026-04-15",
                Upheld,
            ),
            // another organisation's.
            ComplaintFacts {
                organisation_id: "RXX".into(),
                ..responded(fact("j", "2025-05-01"), "2025-06-01", Upheld, "2025-06-30")
            },
        ];
        let referrals = vec![
            referral("b", 9, Ombudsman::Phso, "2025-09-01"),
            referral("b", 10, Ombudsman::Lgsco, "2025-10-01"),
            referral("g", 5, Ombudsman::Phso, "2025-05-01"),
            referral("g", 8, Ombudsman::Phso, "2025-12-01"),
            referral("e", 9, Ombudsman::Phso, "2026-04-02"),
            ReferralFact {
                organisation_id: "RXX".into(),
                ..referral("j", 4, Ombudsman::Phso, "2025-07-01")
            },
        ];
        let learning = vec![
            lesson(
                "a",
                5,
                LearningKind::Lesson,
                "2025-06-01",
                "Explain waiting lists at referral",
            ),
            lesson(
                "b",
                11,
                LearningKind::Action,
                "2026-03-31",
                "Discharge checklist revised",
            ),
            lesson(
                "b",
                12,
                LearningKind::Lesson,
                "2026-04-01",
                "Next year's lesson",
            ),
            lesson(
                "g",
                4,
                LearningKind::Action,
                "2025-03-31",
                "Last year's action",
            ),
        ];
        (facts, referrals, learning)
    }

    #[test]
    fn a_mixed_year_counts_as_computed_by_hand() {
        let (facts, referrals, learning) = mixed_year();
        assert_eq!(facts[1].acknowledge_by, d("2025-04-24"));
        let r = annual_report("RAL", 2025, &facts, &referrals, &learning);

        assert_eq!(r.received, 6, "a b e f h k");
        assert_eq!(r.excluded.total, 1);
        assert_eq!(
            r.excluded.by_category,
            BTreeMap::from([("already_investigated".to_string(), 1)])
        );
        assert_eq!(r.oral_resolved_next_working_day, 1);
        assert_eq!(r.transferred_out, 1);
        assert_eq!(
            r.by_channel,
            BTreeMap::from([
                ("email".to_string(), 2),
                ("letter".to_string(), 2),
                ("oral_in_person".to_string(), 1),
                ("web_form".to_string(), 1),
            ])
        );
        assert_eq!(
            r.by_subject_area,
            BTreeMap::from([
                ("clinical_treatment".to_string(), 2),
                ("communications".to_string(), 3),
                ("other".to_string(), 1),
                ("values_and_behaviours".to_string(), 1),
                ("waiting_times".to_string(), 1),
            ])
        );
        assert_eq!(
            r.by_outcome,
            OutcomeCounts {
                upheld: 2,
                partially_upheld: 1,
                not_upheld: 2
            },
            "g a | e | b k"
        );
        assert_eq!(r.well_founded, 3);
        assert_eq!(r.reviews_responded, 2, "b e");
        assert_eq!(r.outcome_changed_on_review, 1, "b");
        assert_eq!(
            r.referred_to_ombudsman,
            OmbudsmanCounts { phso: 2, lgsco: 1 }
        );
        assert_eq!(
            (
                r.acknowledged_within_3_working_days.met,
                r.acknowledged_within_3_working_days.total
            ),
            (5, 6),
            "a e f h k met, b late"
        );
        assert_eq!(
            (
                r.responded_within_agreed_period.met,
                r.responded_within_agreed_period.total
            ),
            (4, 5)
        );
        assert_eq!(r.responded_within_agreed_period.share, Some(0.8));
        assert_eq!(r.learning.lessons.total, 1);
        assert_eq!(
            r.learning.lessons.recent[0].summary,
            "Explain waiting lists at referral"
        );
        assert_eq!((r.learning.actions.total, r.learning.total), (1, 2));
        assert_eq!(r.learning.actions.recent[0].recorded_on, d("2026-03-31"));

        let next = annual_report("RAL", 2026, &facts, &referrals, &learning);
        assert_eq!(next.outcome_changed_on_review, 1, "k's review");
        assert_eq!(next.referred_to_ombudsman.phso, 1, "e");
        assert_eq!(next.received, 0);
        assert_eq!(next.acknowledged_within_3_working_days.share, None);
    }

    #[test]
    fn the_annual_report_serialises_with_snake_case_fields() {
        let (facts, referrals, learning) = mixed_year();
        let json = serde_json::to_value(annual_report("RAL", 2025, &facts, &referrals, &learning))
            .unwrap();
        assert_eq!(json["acknowledged_within_3_working_days"]["total"], 6);
        assert_eq!(json["by_outcome"]["partially_upheld"], 1);
        assert_eq!(json["period_start"], "2025-04-01");
        assert_eq!(json["referred_to_ombudsman"]["phso"], 2);
    }

    /// Three complaints received in 2025-26; the third, acknowledged on time, forwarded to
    /// `RXX` two days later.
    fn one_of_three_transferred() -> Vec<ComplaintFacts> {
        vec![
            // ack due Wed 7 May (Mon 5 May a bank holiday): met.
            acknowledged(
                with(fact("a", "2025-05-01"), "letter", &["communications"]),
                "2025-05-02",
            ),
            // ack due Thu 5 Jun: late.
            acknowledged(
                with(fact("b", "2025-06-02"), "email", &["waiting_times"]),
                "2025-06-10",
            ),
            transferred(
                acknowledged(
                    with(fact("c", "2025-07-01"), "web_form", &["clinical_treatment"]),
                    "2025-07-02",
                ),
                "2025-07-03",
                "RXX",
            ),
        ]
    }

    #[test]
    fn r_ar_5_a_complaint_transferred_out_is_reported_apart_not_as_received() {
        let facts = one_of_three_transferred();
        assert_eq!(facts[0].acknowledge_by, d("2025-05-07"));
        let r = annual_report("RAL", 2025, &facts, &[], &[]);
        assert_eq!(r.transfer_counting, TransferCounting::ReportedApart);
        assert_eq!((r.received, r.transferred_out), (2, 1), "a b | c");
        assert_eq!(
            r.by_channel,
            BTreeMap::from([("email".to_string(), 1), ("letter".to_string(), 1)])
        );
        assert_eq!(
            r.by_subject_area,
            BTreeMap::from([
                ("communications".to_string(), 1),
                ("waiting_times".to_string(), 1)
            ]),
            "c's clinical treatment is the receiving body's"
        );
        assert_eq!(
            (
                r.acknowledged_within_3_working_days.met,
                r.acknowledged_within_3_working_days.total
            ),
            (1, 2),
            "a met, b late; c not measured"
        );
        assert_eq!((r.well_founded, r.by_outcome.total()), (0, 0));
    }

    #[test]
    fn r_ar_5_counting_transfers_within_received_is_the_setting_apart_from_the_default() {
        let facts = one_of_three_transferred();
        let r = annual_report_with(
            "RAL",
            2025,
            &facts,
            &[],
            &[],
            TransferCounting::WithinReceived,
        );
        assert_eq!((r.received, r.transferred_out), (3, 1));
        assert_eq!(r.by_channel["web_form"], 1);
        assert_eq!(r.by_subject_area["clinical_treatment"], 1);
        assert_eq!(
            (
                r.acknowledged_within_3_working_days.met,
                r.acknowledged_within_3_working_days.total
            ),
            (2, 3)
        );
        assert_eq!(
            serde_json::to_value(&r).unwrap()["transfer_counting"],
            "within_received"
        );
    }

    #[test]
    fn r_ar_5_a_transfer_without_a_response_is_never_well_founded_or_referred_by_the_sender() {
        let facts = vec![
            // forwarded unanswered; the complainant later went to the PHSO.
            transferred(fact("t", "2025-05-01"), "2025-05-06", "RXX"),
            // answered upheld in time, then forwarded: the answer is this body's decision.
            transferred(
                responded(
                    fact("u", "2025-05-02"),
                    "2025-06-02",
                    Outcome::Upheld,
                    "2025-06-30",
                ),
                "2025-06-10",
                "RYY",
            ),
            // an ordinary complaint, referred too.
            fact("v", "2025-05-03"),
        ];
        let referrals = vec![
            referral("t", 4, Ombudsman::Phso, "2025-09-01"),
            referral("u", 6, Ombudsman::Lgsco, "2025-10-01"),
            referral("v", 2, Ombudsman::Phso, "2025-11-01"),
        ];
        let r = annual_report("RAL", 2025, &facts, &referrals, &[]);
        assert_eq!((r.received, r.transferred_out), (1, 2), "v | t u");
        assert_eq!(r.well_founded, 1, "u only");
        assert_eq!(r.by_outcome.upheld, 1);
        assert_eq!(
            (
                r.responded_within_agreed_period.met,
                r.responded_within_agreed_period.total
            ),
            (1, 1)
        );
        assert_eq!(
            r.referred_to_ombudsman,
            OmbudsmanCounts { phso: 1, lgsco: 1 },
            "v and u; t is the receiving body's"
        );

        let old = annual_report_with(
            "RAL",
            2025,
            &facts,
            &referrals,
            &[],
            TransferCounting::WithinReceived,
        );
        assert_eq!(
            old.referred_to_ombudsman,
            OmbudsmanCounts { phso: 2, lgsco: 1 }
        );
        assert_eq!((old.received, old.transferred_out), (3, 2));
    }

    #[test]
    fn r_ar_5_a_transfer_after_the_year_end_leaves_the_year_the_complaint_was_received_in() {
        // Received in March (2024-25), forwarded in April (2025-26).
        let before = vec![fact("m", "2025-03-20")];
        let after = vec![transferred(fact("m", "2025-03-20"), "2025-04-10", "RXX")];
        let counted_before = annual_report("RAL", 2024, &before, &[], &[]);
        assert_eq!(
            (counted_before.received, counted_before.transferred_out),
            (1, 0)
        );
        let counted_after = annual_report("RAL", 2024, &after, &[], &[]);
        assert_eq!(
            (counted_after.received, counted_after.transferred_out),
            (0, 1),
            "judged when counted, in the year received"
        );
        let next = annual_report("RAL", 2025, &after, &[], &[]);
        assert_eq!((next.received, next.transferred_out), (0, 0));
    }

    #[test]
    fn r_ar_4_only_complaints_with_a_period_agreed_or_notified_are_measured_and_no_due_date_is_not_in_time(
    ) {
        let mut with_period = responded(
            fact("a", "2025-04-01"),
            "2025-05-02",
            Outcome::Upheld,
            "2025-05-30",
        );
        with_period.first_internal_target = Some(d("2025-05-01"));
        let mut without_period = fact("b", "2025-04-01");
        without_period.first_response_on = Some(d("2025-05-02"));
        without_period.first_outcome = Some(Outcome::NotUpheld);
        // No internal target on record: not counted as in time.
        let r = annual_report("RAL", 2025, &[with_period, without_period], &[], &[]);
        assert_eq!(
            (
                r.responded_within_agreed_period.met,
                r.responded_within_agreed_period.total
            ),
            (1, 1)
        );
        assert_eq!(
            (
                r.responded_within_internal_target.met,
                r.responded_within_internal_target.total
            ),
            (0, 2)
        );
    }
}
