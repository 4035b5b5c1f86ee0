// Over 600 lines: the workload model (organisation kinds, seasonal receipt shape, outcome
// proportions, lifecycles) and both drivers (over HTTP, and straight into the log) together.
//! `complaints simulate`: a seeded, realistic workload. Organisations of the kinds the
//! complaints regulations name (NHS trusts, GP practices, councils' adult social care,
//! integrated care boards), receipt dates with a weekday and seasonal shape, and lifecycles
//! in realistic proportions: most resolved at stage 1, representatives' complaints with
//! consent asked for, given, refused or lapsed, escalations to stage 2, a few ombudsman
//! referrals and decisions with recommendations, late acknowledgements, clock stops, and
//! delay letters once six months pass without a response.
//!
//! Every command is decided by the real aggregate (`complaints_domain::decide`); nothing
//! writes hand-made events. Two ways to apply them:
//!
//! - `--via http`: concurrent clients drive the HTTP API (`POST /v1/complaints`, then one
//!   `POST /v1/complaints/{id}/<command>` per step), as frontline systems and caseworkers
//!   would. The service decides "today", so every simulated day is in the past.
//! - `--via log`: a **bulk load** into the event log of `DATABASE_URL` (or the embedded
//!   SQLite): each complaint is folded in memory, each command decided as of its own day
//!   and appended with `EventLog::append` (one transaction per command, so metadata stays
//!   per command), complaints in batches spread over `--clients` writers, no read before a
//!   write; then `ANALYZE events` on PostgreSQL. Read models and the chain are not fed while
//!   loading: run `complaints rebuild` (and `--projection sealer`) or start the service.
//!
//! The same seed gives the same complaints, dates and outcomes whatever the concurrency.

use crate::app::cases::Cases;
use crate::error::ApiError;
use chrono::{Datelike, Days, Months, NaiveDate, TimeZone, Utc, Weekday};
use complaints_domain::*;
use complaints_eventlog::metadata as meta;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the simulated commands are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    /// Through the event log, a transaction per command (`EventLog::append`), then
    /// `ANALYZE`.
    Log,
    /// A bulk load: a thousand complaints per transaction, sealed as the service seals
    /// (`EventLog::append_new_streams`), then `ANALYZE`. For millions of complaints.
    Bulk,
    /// Drive the HTTP API of a running service (`--url`, `--token`).
    Http,
}

/// Arguments of `complaints simulate`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Seed: the same seed gives the same workload.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Complaints to simulate.
    #[arg(long, default_value_t = 1000)]
    pub complaints: usize,
    /// Years of receipts, ending at `--until`.
    #[arg(long, default_value_t = 1.0)]
    pub years: f64,
    /// Organisations (about a fifth NHS trusts, half GP practices, the rest councils and ICBs).
    #[arg(long, default_value_t = 20)]
    pub organisations: usize,
    /// Apply through the event log (bulk load) or the HTTP API.
    #[arg(long, value_enum, default_value_t = Via::Log)]
    pub via: Via,
    /// Base URL of the service for `--via http`, e.g. http://127.0.0.1:8080.
    #[arg(long = "url", id = "service_url")]
    pub url: Option<String>,
    /// Bearer token for `--via http`: frontline and caseworker roles for every simulated
    /// organisation (`--print-organisations` lists them for `complaints token --org`).
    #[arg(
        long = "token",
        id = "service_token",
        env = "COMPLAINTS_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Concurrent clients (HTTP) or writers (log).
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Last simulated day (default: yesterday in England); nothing happens after it, so
    /// recent complaints are still open.
    #[arg(long)]
    pub until: Option<NaiveDate>,
    /// Print the simulated organisation ids (comma-separated) and exit.
    #[arg(long)]
    pub print_organisations: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

// ---------------------------------------------------------------------------------------
// Randomness: SplitMix64, seeded per complaint so results do not depend on scheduling.
// ---------------------------------------------------------------------------------------

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for stream `stream` of `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next_u64();
        rng
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }
    /// One of `items`, by weight.
    pub fn pick<T: Copy>(&mut self, items: &[(T, f64)]) -> T {
        let total: f64 = items.iter().map(|(_, w)| w).sum();
        let mut at = self.unit() * total;
        for (item, weight) in items {
            if at < *weight {
                return *item;
            }
            at -= weight;
        }
        items[items.len() - 1].0
    }
    fn uuid(&mut self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

// ---------------------------------------------------------------------------------------
// Organisations
// ---------------------------------------------------------------------------------------

/// The kinds of responsible body in the complaints regulations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrganisationKind {
    /// An NHS trust or foundation trust (KO41a).
    NhsTrust,
    /// A GP practice (KO41b).
    GpPractice,
    /// A local authority's adult social care.
    CouncilAdultSocialCare,
    /// An integrated care board (complaints made to the commissioner).
    IntegratedCareBoard,
}

impl OrganisationKind {
    fn label(self) -> &'static str {
        match self {
            OrganisationKind::NhsTrust => "NHS trust",
            OrganisationKind::GpPractice => "GP practice",
            OrganisationKind::CouncilAdultSocialCare => "council adult social care",
            OrganisationKind::IntegratedCareBoard => "ICB",
        }
    }
    /// Relative volume of written complaints per organisation of this kind.
    fn volume(self) -> f64 {
        match self {
            OrganisationKind::NhsTrust => 40.0,
            OrganisationKind::GpPractice => 2.0,
            OrganisationKind::CouncilAdultSocialCare => 8.0,
            OrganisationKind::IntegratedCareBoard => 5.0,
        }
    }
    fn ombudsman(self) -> Ombudsman {
        match self {
            OrganisationKind::CouncilAdultSocialCare => Ombudsman::Lgsco,
            _ => Ombudsman::Phso,
        }
    }
}

/// One simulated organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    /// Its id (ODS-like code).
    pub id: String,
    /// Its kind.
    pub kind: OrganisationKind,
    /// Share of all complaints it receives.
    pub weight: f64,
}

/// `n` organisations: about a fifth NHS trusts, half GP practices, and the rest councils and
/// ICBs (at least one of each kind from four up). Ids depend only on `n`.
pub fn organisations(n: usize) -> Vec<Organisation> {
    let n = n.max(1);
    let mut kinds = Vec::with_capacity(n);
    for i in 0..n {
        kinds.push(match i % 20 {
            0 | 5 | 10 | 15 => OrganisationKind::NhsTrust,
            3 | 8 | 13 => OrganisationKind::CouncilAdultSocialCare,
            2 | 17 | 19 => OrganisationKind::IntegratedCareBoard,
            _ => OrganisationKind::GpPractice,
        });
    }
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| Organisation {
            id: match kind {
                OrganisationKind::NhsTrust => format!("R{i:03}"),
                OrganisationKind::GpPractice => format!("M8{:04}", i),
                OrganisationKind::CouncilAdultSocialCare => format!("E0800{:04}", i),
                OrganisationKind::IntegratedCareBoard => format!("Q{i:03}"),
            },
            kind,
            weight: kind.volume(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Scripts: one complaint's commands, each with the day it happens
// ---------------------------------------------------------------------------------------

/// One command of a script and the day it is issued.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The day it happens (and is issued on in a bulk load).
    pub day: NaiveDate,
    /// The command.
    pub action: ComplaintAction,
}

/// One complaint's simulated life, up to `--until`.
#[derive(Debug, Clone)]
pub struct Script {
    /// Index in the workload.
    pub n: usize,
    /// Complaint id used in a bulk load (the HTTP API assigns its own).
    pub id: uuid::Uuid,
    /// Its organisation.
    pub organisation: String,
    /// Its kind.
    pub kind: OrganisationKind,
    /// The commands in the order they happen.
    pub steps: Vec<Step>,
}

/// What a workload holds (counted from the scripts, before the aggregate decides).
#[derive(Debug, Default, Clone)]
pub struct Shape {
    counts: BTreeMap<&'static str, u64>,
}

impl Shape {
    fn add(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }
    pub(crate) fn merge(&mut self, other: &Shape) {
        for (k, v) in &other.counts {
            *self.counts.entry(k).or_default() += v;
        }
    }
}

/// The simulation's fixed inputs.
#[derive(Debug, Clone)]
pub struct Workload {
    seed: u64,
    first: NaiveDate,
    until: NaiveDate,
    organisations: Vec<Organisation>,
    total_weight: f64,
    services: ComplaintServices,
}

const MONTH_WEIGHT: [f64; 12] = [
    1.12, 1.06, 1.10, 0.95, 0.98, 0.96, 0.97, 0.90, 1.00, 1.04, 1.03, 0.89,
];

fn weekday_weight(day: Weekday) -> f64 {
    match day {
        Weekday::Mon => 1.30,
        Weekday::Tue => 1.20,
        Weekday::Wed => 1.12,
        Weekday::Thu => 1.05,
        Weekday::Fri => 0.95,
        Weekday::Sat => 0.22,
        Weekday::Sun => 0.16,
    }
}

const TRUST_AREAS: &[(ServiceArea, f64)] = &[
    (ServiceArea::AccidentAndEmergency, 16.0),
    (ServiceArea::Inpatient, 24.0),
    (ServiceArea::Outpatient, 22.0),
    (ServiceArea::Maternity, 7.0),
    (ServiceArea::MentalHealth, 8.0),
    (ServiceArea::CommunityServices, 6.0),
    (ServiceArea::Paediatrics, 4.0),
    (ServiceArea::Radiology, 3.0),
    (ServiceArea::Ambulance, 4.0),
    (ServiceArea::Other, 6.0),
];

const HEALTH_SUBJECTS: &[(SubjectArea, f64)] = &[
    (SubjectArea::ClinicalTreatment, 28.0),
    (SubjectArea::Communications, 17.0),
    (SubjectArea::PatientCare, 12.0),
    (SubjectArea::ValuesAndBehaviours, 11.0),
    (SubjectArea::Appointments, 8.0),
    (SubjectArea::AdmissionsAndDischarges, 6.0),
    (SubjectArea::WaitingTimes, 5.0),
    (SubjectArea::AccessToTreatmentOrDrugs, 4.0),
    (SubjectArea::PrescribingErrors, 3.0),
    (SubjectArea::TrustAdministration, 3.0),
    (SubjectArea::Facilities, 2.0),
    (SubjectArea::Other, 1.0),
];

const CARE_SUBJECTS: &[(SubjectArea, f64)] = &[
    (SubjectArea::PatientCare, 30.0),
    (SubjectArea::Communications, 25.0),
    (SubjectArea::ValuesAndBehaviours, 15.0),
    (SubjectArea::IntegratedCare, 10.0),
    (SubjectArea::PrivacyDignityWellbeing, 8.0),
    (SubjectArea::Other, 12.0),
];

impl Workload {
    /// The workload of `args`.
    pub fn new(args: &SimulateArgs, services: ComplaintServices) -> Self {
        let until = args.until.unwrap_or_else(|| {
            let today = crate::app::clock::london_date(Utc::now());
            today.pred_opt().unwrap_or(today)
        });
        let days = (args.years.max(0.01) * 365.25).round() as u64;
        let first = until.checked_sub_days(Days::new(days)).unwrap_or(until);
        let organisations = organisations(args.organisations);
        let total_weight = organisations.iter().map(|o| o.weight).sum();
        Self {
            seed: args.seed,
            first,
            until,
            organisations,
            total_weight,
            services,
        }
    }

    /// The calendar and rules every command is decided with.
    pub fn services(&self) -> &ComplaintServices {
        &self.services
    }

    /// The organisations.
    pub fn organisations(&self) -> &[Organisation] {
        &self.organisations
    }

    fn receipt_day(&self, rng: &mut Rng) -> NaiveDate {
        let span = (self.until - self.first).num_days().max(0) as u64;
        loop {
            let day = self
                .first
                .checked_add_days(Days::new(rng.range(0, span)))
                .unwrap_or(self.first);
            let weight = weekday_weight(day.weekday()) * MONTH_WEIGHT[day.month0() as usize];
            // Bank holidays look like Sundays.
            let weight = if self.services.calendar.holiday(day).is_some() {
                0.16
            } else {
                weight
            };
            if rng.unit() * 1.30 * 1.12 < weight {
                return day;
            }
        }
    }

    fn organisation(&self, rng: &mut Rng) -> &Organisation {
        let mut at = rng.unit() * self.total_weight;
        for org in &self.organisations {
            if at < org.weight {
                return org;
            }
            at -= org.weight;
        }
        &self.organisations[self.organisations.len() - 1]
    }

    /// The script of complaint `n`, cut at `--until`, and what it holds.
    pub fn script(&self, n: usize) -> (Script, Shape) {
        let mut rng = Rng::new(self.seed, n as u64 + 1);
        let org = self.organisation(&mut rng).clone();
        let id = rng.uuid();
        let mut b = Builder {
            calendar: &self.services.calendar,
            steps: Vec::new(),
            shape: Shape::default(),
        };
        self.life(&mut rng, &org, &mut b);
        // Nothing after the last simulated day: recent complaints stay open.
        let mut steps = b.steps;
        if let Some(cut) = steps.iter().position(|s| s.day > self.until) {
            steps.truncate(cut);
            b.shape.add("open at the end (cut at --until)");
        }
        (
            Script {
                n,
                id,
                organisation: org.id.clone(),
                kind: org.kind,
                steps,
            },
            b.shape,
        )
    }

    fn life(&self, rng: &mut Rng, org: &Organisation, b: &mut Builder<'_>) {
        let received = self.receipt_day(rng);
        let kind = org.kind;
        let channel = rng.pick(&[
            (Channel::Email, 34.0),
            (Channel::WebForm, 24.0),
            (Channel::Letter, 15.0),
            (Channel::OralPhone, 16.0),
            (Channel::OralInPerson, 6.0),
            (Channel::TextMessage, 2.0),
            (Channel::Other, 3.0),
        ]);
        let representative = rng.chance(0.22);
        let basis = representative.then(|| {
            rng.pick(&[
                (RepresentationBasis::Requested, 35.0),
                (RepresentationBasis::Deceased, 22.0),
                (RepresentationBasis::Child, 18.0),
                (RepresentationBasis::LacksCapacity, 15.0),
                (RepresentationBasis::PhysicalIncapacity, 10.0),
            ])
        });
        let consent_required = basis.is_some_and(RepresentationBasis::consent_normally_required);
        let out_of_time = rng.chance(0.015);
        let (service_area, subjects, staff) = match kind {
            OrganisationKind::NhsTrust => (
                rng.pick(TRUST_AREAS),
                HEALTH_SUBJECTS,
                rng.pick(&[
                    (StaffGroup::Medical, 45.0),
                    (StaffGroup::NursingMidwiferyHealthVisiting, 35.0),
                    (StaffGroup::AlliedHealthProfessionals, 8.0),
                    (StaffGroup::TrustAdministration, 7.0),
                    (StaffGroup::SupportServices, 5.0),
                ]),
            ),
            OrganisationKind::GpPractice => (
                ServiceArea::GeneralPractice,
                HEALTH_SUBJECTS,
                rng.pick(&[
                    (StaffGroup::Medical, 60.0),
                    (StaffGroup::TrustAdministration, 30.0),
                    (StaffGroup::NursingMidwiferyHealthVisiting, 10.0),
                ]),
            ),
            OrganisationKind::CouncilAdultSocialCare => (
                ServiceArea::AdultSocialCare,
                CARE_SUBJECTS,
                StaffGroup::SocialCare,
            ),
            OrganisationKind::IntegratedCareBoard => (
                rng.pick(&[
                    (ServiceArea::CommunityServices, 40.0),
                    (ServiceArea::MentalHealth, 30.0),
                    (ServiceArea::Other, 30.0),
                ]),
                &[
                    (SubjectArea::Commissioning, 50.0),
                    (SubjectArea::AccessToTreatmentOrDrugs, 30.0),
                    (SubjectArea::WaitingTimes, 20.0),
                ][..],
                StaffGroup::Other,
            ),
        };
        let mut subject_areas = vec![rng.pick(subjects)];
        if rng.chance(0.3) {
            subject_areas.push(rng.pick(subjects));
        }
        let occurred = if out_of_time {
            received.checked_sub_days(Days::new(rng.range(400, 700)))
        } else {
            received.checked_sub_days(Days::new(rng.range(1, 90)))
        };
        b.shape.add(org.kind.label());
        if representative {
            b.shape.add("by a representative");
        }
        b.push(
            received,
            ComplaintAction::Receive(ReceiveComplaint {
                organisation_id: org.id.clone(),
                received_on: received,
                channel,
                route: Some(if kind == OrganisationKind::IntegratedCareBoard {
                    Route::Commissioner
                } else {
                    Route::Provider
                }),
                subject_areas,
                service_area: Some(service_area),
                staff_groups: vec![staff],
                description: "Simulated complaint about the care received.".into(),
                complainant: Person {
                    name: format!("Complainant {}", rng.range(1, 999_999)),
                    email: rng
                        .chance(0.6)
                        .then(|| format!("c{}@example.org", rng.range(1, 999_999))),
                    ..Person::default()
                },
                representation_basis: basis,
                person_affected: basis.map(|_| Person {
                    name: format!("Patient {}", rng.range(1, 999_999)),
                    ..Person::default()
                }),
                consent_required: None,
                matter_occurred_on: occurred,
                matter_came_to_notice_on: occurred,
                source: None,
                out_of_time_decision: None,
                eligibility: Some(if representative {
                    Eligibility::Representative
                } else if rng.chance(0.1) {
                    Eligibility::PersonAffected
                } else {
                    Eligibility::ServiceUser
                }),
                patient_age_band: Some(match basis {
                    Some(RepresentationBasis::Child) => PatientAgeBand::Age0To15,
                    _ => rng.pick(&[
                        (PatientAgeBand::Age16To64, 50.0),
                        (PatientAgeBand::Age65To74, 18.0),
                        (PatientAgeBand::Age75To84, 15.0),
                        (PatientAgeBand::Age85AndOver, 9.0),
                        (PatientAgeBand::Unknown, 8.0),
                    ]),
                }),
                complainant_status: Some(if representative {
                    ComplainantStatus::RelativeOrCarer
                } else {
                    ComplainantStatus::Patient
                }),
                site: (kind == OrganisationKind::NhsTrust)
                    .then(|| format!("{}-{:02}", org.id, rng.range(1, 4))),
                kind: None,
                enquiry_type: None,
                provider_id: None,
                origin: None,
            }),
        );

        // Oral complaints resolved to the complainant's satisfaction by the next working
        // day are not handled under the regulations (reg 8(1)(c)).
        if channel.is_oral() && !representative && !out_of_time && rng.chance(0.35) {
            let resolved = if rng.chance(0.5) {
                received
            } else {
                self.services.calendar.next_working_day(received)
            };
            b.shape.add("oral, resolved by the next working day");
            b.push(
                resolved,
                ComplaintAction::RecordOralResolution(RecordOralResolution {
                    resolved_on: resolved,
                    closed_on: resolved,
                }),
            );
            return;
        }
        if channel.is_oral() {
            let day = b.wd(received, rng.range(0, 2) as u32);
            b.push(
                day,
                ComplaintAction::RecordLetter(RecordLetter {
                    kind: LetterKind::OralRecordCopy,
                    sent_on: day,
                }),
            );
        }

        // Acknowledgement: most within three working days, some late.
        let late = rng.chance(0.07);
        let acknowledged = if late {
            b.shape.add("acknowledged late");
            b.wd(received, rng.range(4, 12) as u32)
        } else {
            b.wd(received, rng.range(0, 3) as u32)
        };
        b.push(
            acknowledged,
            ComplaintAction::Acknowledge(AcknowledgeComplaint {
                acknowledged_on: acknowledged,
                discussion_offered: rng.chance(0.95),
            }),
        );

        if out_of_time {
            b.shape.add("out of time");
            if rng.chance(0.5) {
                b.push(
                    acknowledged,
                    ComplaintAction::AcceptOutOfTime(AcceptOutOfTime {
                        accepted_on: acknowledged,
                        good_reason_for_delay: true,
                        fair_investigation_possible: true,
                        decided_by: "complaints-manager".into(),
                        rationale: "Good reason for the delay; records still available.".into(),
                    }),
                );
            } else {
                b.push(
                    acknowledged,
                    ComplaintAction::Close(CloseComplaint {
                        closed_on: acknowledged,
                        reason: ClosureReason::OutOfTime,
                        exclusion_category: None,
                        transferred_to: None,
                        receiver_received_on: None,
                        complainant_consented: None,
                    }),
                );
                return;
            }
        }

        let mut day = acknowledged;
        if basis == Some(RepresentationBasis::Child) {
            day = b.wd(day, rng.range(1, 5) as u32);
            let satisfied = rng.chance(0.93);
            b.push(
                day,
                ComplaintAction::DecideRepresentativeGrounds(DecideRepresentativeGrounds {
                    decided_on: day,
                    satisfied,
                    reasons: "Considered the child's age and understanding.".into(),
                    decided_by: "complaints-manager".into(),
                }),
            );
            if !satisfied {
                b.shape.add("child's representative: no grounds");
                let letter = b.wd(day, rng.range(0, 3) as u32);
                b.push(
                    letter,
                    ComplaintAction::RecordLetter(RecordLetter {
                        kind: LetterKind::ChildGroundsRefusal,
                        sent_on: letter,
                    }),
                );
                return;
            }
        }

        if consent_required {
            b.shape.add("consent asked for");
            b.push(
                day,
                ComplaintAction::RequestConsent(RequestConsent { requested_on: day }),
            );
            let answer = rng.unit();
            if answer < 0.80 {
                day = b.wd(day, rng.range(3, 20) as u32);
                b.push(
                    day,
                    ComplaintAction::RecordConsent(RecordConsent {
                        decision: ConsentDecision::Given,
                        decided_on: day,
                        evidence: Some("signed consent form".into()),
                    }),
                );
            } else if answer < 0.86 {
                b.shape.add("consent refused");
                day = b.wd(day, rng.range(3, 15) as u32);
                b.push(
                    day,
                    ComplaintAction::RecordConsent(RecordConsent {
                        decision: ConsentDecision::Refused,
                        decided_on: day,
                        evidence: None,
                    }),
                );
                b.push(
                    day,
                    ComplaintAction::Close(CloseComplaint {
                        closed_on: day,
                        reason: ClosureReason::ConsentNotReceived,
                        exclusion_category: None,
                        transferred_to: None,
                        receiver_received_on: None,
                        complainant_consented: None,
                    }),
                );
                let letter = b.wd(day, rng.range(0, 3) as u32);
                b.push(
                    letter,
                    ComplaintAction::RecordLetter(RecordLetter {
                        kind: LetterKind::ConsentLapseClosure,
                        sent_on: letter,
                    }),
                );
                return;
            } else {
                b.shape.add("consent lapsed");
                let policy = self.services.policies.for_organisation(&org.id);
                let days = policy.consent_deadline_working_days.unwrap_or(28);
                let lapsed = b.wd(b.wd(received, days), rng.range(1, 5) as u32);
                b.push(
                    lapsed,
                    ComplaintAction::LapseConsent(LapseConsent { lapsed_on: lapsed }),
                );
                let letter = b.wd(lapsed, rng.range(0, 3) as u32);
                b.push(
                    letter,
                    ComplaintAction::RecordLetter(RecordLetter {
                        kind: LetterKind::ConsentLapseClosure,
                        sent_on: letter,
                    }),
                );
                return;
            }
        }

        let early_end = rng.unit();
        if early_end < 0.03 {
            b.shape.add("withdrawn");
            let closed = b.wd(day, rng.range(2, 30) as u32);
            b.push(
                closed,
                ComplaintAction::Close(CloseComplaint {
                    closed_on: closed,
                    reason: ClosureReason::Withdrawn,
                    exclusion_category: None,
                    transferred_to: None,
                    receiver_received_on: None,
                    complainant_consented: None,
                }),
            );
            return;
        }
        if early_end < 0.05 && self.organisations.len() > 1 {
            let to = loop {
                let other = self.organisation(rng);
                if other.id != org.id {
                    break other.id.clone();
                }
            };
            b.shape.add("transferred");
            b.push(
                day,
                ComplaintAction::Close(CloseComplaint {
                    closed_on: day,
                    reason: ClosureReason::Transferred,
                    exclusion_category: None,
                    transferred_to: Some(to),
                    receiver_received_on: None,
                    complainant_consented: None,
                }),
            );
            return;
        }

        if rng.chance(0.9) {
            b.push(
                day,
                ComplaintAction::AssessRisk(AssessRisk {
                    assessed_on: day,
                    seriousness: rng
                        .pick(&[("low", 60.0), ("medium", 30.0), ("high", 10.0)])
                        .into(),
                    likelihood: rng.pick(&[
                        (Likelihood::Rare, 20.0),
                        (Likelihood::Unlikely, 30.0),
                        (Likelihood::Possible, 30.0),
                        (Likelihood::Likely, 15.0),
                        (Likelihood::AlmostCertain, 5.0),
                    ]),
                }),
            );
        }

        // Stage 1, then perhaps stage 2.
        let stages = if rng.chance(0.07) { 2 } else { 1 };
        let mut final_response = day;
        for stage in 1..=stages {
            if stage == 2 {
                b.shape.add("escalated to stage 2");
                let escalated = b.wd(final_response, rng.range(5, 30) as u32);
                b.push(
                    escalated,
                    ComplaintAction::Escalate(EscalateComplaint {
                        escalated_on: escalated,
                        reason: "The complainant disagrees with the findings.".into(),
                    }),
                );
                day = escalated;
            }
            let stage_start = if stage == 1 { received } else { day };
            if rng.chance(0.85) {
                let agreed = b.wd(day, rng.range(0, 3) as u32);
                let outcome = rng.pick(&[
                    (DiscussionOutcome::Accepted, 80.0),
                    (DiscussionOutcome::Declined, 10.0),
                    (DiscussionOutcome::NoReply, 10.0),
                ]);
                b.push(
                    agreed,
                    ComplaintAction::AgreeResponsePlan(AgreeResponsePlan {
                        agreed_on: agreed,
                        response_due_on: b.wd(agreed, rng.range(25, 40) as u32),
                        discussion_outcome: Some(outcome),
                    }),
                );
                if outcome == DiscussionOutcome::Declined {
                    b.push(
                        agreed,
                        ComplaintAction::RecordLetter(RecordLetter {
                            kind: LetterKind::ResponsePeriodNotification,
                            sent_on: agreed,
                        }),
                    );
                }
                day = agreed;
            }
            // Working days to the response: mostly 15-60, a long tail past six months.
            let mut working = if rng.chance(0.04) {
                b.shape.add("over six months to respond");
                rng.range(130, 220) as u32
            } else {
                15 + (-(1.0 - rng.unit()).ln() * 22.0) as u32
            };
            if rng.chance(0.3) {
                let contact = b.wd(day, working / 2);
                b.push(
                    contact,
                    ComplaintAction::RecordProgressContact(RecordProgressContact {
                        contacted_on: contact,
                        method: rng.pick(&[
                            (ContactMethod::Phone, 50.0),
                            (ContactMethod::Email, 35.0),
                            (ContactMethod::Letter, 15.0),
                        ]),
                        summary: "Update on the investigation.".into(),
                    }),
                );
            }
            if rng.chance(0.05) {
                let stopped = b.wd(day, (working / 3).max(1));
                let pause = rng.range(5, 20) as u32;
                b.shape.add("clock stopped");
                b.push(
                    stopped,
                    ComplaintAction::StopClock(StopClock {
                        stopped_on: stopped,
                        reason: "Awaiting information from the complainant.".into(),
                        complainant_agreed: rng.chance(0.7),
                    }),
                );
                let restarted = b.wd(stopped, pause);
                b.push(
                    restarted,
                    ComplaintAction::RestartClock(RestartClock {
                        restarted_on: restarted,
                    }),
                );
                working += pause;
            }
            let respond = b.wd(day, working.max(1));
            // R-RESP-3: once six months pass without a response, a letter says why.
            let six_months = stage_start
                .checked_add_months(Months::new(6))
                .unwrap_or(stage_start);
            if respond > six_months {
                let notified = self.services.calendar.next_working_day(six_months);
                b.shape.add("delay letter (six months passed)");
                b.push(
                    notified,
                    ComplaintAction::NotifyDelay(NotifyDelay {
                        notified_on: notified,
                        reason: "The investigation involves several services.".into(),
                        expected_response_on: Some(respond.max(notified)),
                    }),
                );
            }
            let outcome = rng.pick(&[
                (Outcome::Upheld, 28.0),
                (Outcome::PartiallyUpheld, 30.0),
                (Outcome::NotUpheld, 42.0),
            ]);
            b.push(
                respond,
                ComplaintAction::SendResponse(SendResponse {
                    sent_on: respond,
                    outcome,
                    signed_by: "chief-executive".into(),
                    signed_as: if rng.chance(0.7) {
                        SignedAs::ResponsiblePerson
                    } else {
                        SignedAs::AuthorisedDelegate
                    },
                    ombudsman_rights: vec![kind.ombudsman()],
                    letter: ResponseLetter {
                        how_considered: "Statements, records and an interview.".into(),
                        conclusions: "Findings set out in the letter.".into(),
                        actions: "What we are changing.".into(),
                    },
                }),
            );
            final_response = respond;
            day = respond;
            if outcome.is_well_founded() && rng.chance(0.6) {
                let learned = b.wd(respond, rng.range(1, 10) as u32);
                let action = rng.chance(0.35);
                b.push(
                    learned,
                    ComplaintAction::RecordLearning(RecordLearning {
                        recorded_on: learned,
                        kind: if action {
                            LearningKind::Action
                        } else {
                            LearningKind::Lesson
                        },
                        summary: rng
                            .pick(&[
                                ("Discharge letters checked before the patient leaves.", 1.0),
                                ("Call-backs logged and chased within two days.", 1.0),
                                ("Staff refreshed on communicating delays.", 1.0),
                                ("Care plans reviewed with families.", 1.0),
                            ])
                            .into(),
                        action_due_on: action.then(|| b.wd(learned, rng.range(20, 60) as u32)),
                    }),
                );
            }
        }
        let closed = b.wd(final_response, rng.range(0, 10) as u32);
        b.push(
            closed,
            ComplaintAction::Close(CloseComplaint {
                closed_on: closed,
                reason: ClosureReason::Resolved,
                exclusion_category: None,
                transferred_to: None,
                receiver_received_on: None,
                complainant_consented: None,
            }),
        );

        // A few go on to the ombudsman, more of those reviewed at stage 2.
        if rng.chance(if stages == 2 { 0.25 } else { 0.015 }) {
            b.shape.add("referred to an ombudsman");
            let ombudsman = kind.ombudsman();
            let informed = b.wd(closed, rng.range(20, 120) as u32);
            b.push(
                informed,
                ComplaintAction::ReferToOmbudsman(ReferToOmbudsman {
                    ombudsman,
                    informed_on: informed,
                    ombudsman_reference: Some(format!("OMB-{}", rng.range(10_000, 99_999))),
                }),
            );
            let decided = b.wd(informed, rng.range(40, 180) as u32);
            let decision = rng.pick(&[
                (OmbudsmanDecision::NotInvestigated, 55.0),
                (OmbudsmanDecision::Upheld, 15.0),
                (OmbudsmanDecision::PartlyUpheld, 10.0),
                (OmbudsmanDecision::NotUpheld, 20.0),
            ]);
            let recommends = matches!(
                decision,
                OmbudsmanDecision::Upheld | OmbudsmanDecision::PartlyUpheld
            );
            b.push(
                decided,
                ComplaintAction::RecordOmbudsmanDecision(RecordOmbudsmanDecision {
                    ombudsman,
                    decided_on: decided,
                    decision,
                    recommendations: if recommends {
                        vec![Recommendation {
                            description: "Apologise and review the pathway.".into(),
                            due_on: Some(b.wd(decided, 40)),
                        }]
                    } else {
                        Vec::new()
                    },
                }),
            );
            if recommends {
                let done = b.wd(decided, rng.range(10, 40) as u32);
                b.push(
                    done,
                    ComplaintAction::RecordRecommendationDone(RecordRecommendationDone {
                        recommendation: 1,
                        done_on: done,
                        what_was_done: "Pathway reviewed and apology sent.".into(),
                    }),
                );
            }
        }
    }
}

struct Builder<'a> {
    calendar: &'a complaints_domain::Calendar,
    steps: Vec<Step>,
    shape: Shape,
}

impl Builder<'_> {
    fn wd(&self, from: NaiveDate, n: u32) -> NaiveDate {
        self.calendar.add_working_days(from, n)
    }
    fn push(&mut self, day: NaiveDate, action: ComplaintAction) {
        // A step never goes before the one it follows.
        let day = self.steps.last().map_or(day, |last| day.max(last.day));
        let action = redate(action, day);
        self.steps.push(Step { day, action });
    }
}

/// Moves a command's own day(s) to `day` when a step had to wait for the one before.
fn redate(action: ComplaintAction, day: NaiveDate) -> ComplaintAction {
    use ComplaintAction as A;
    let keep = |d: NaiveDate| d.max(day);
    match action {
        A::Acknowledge(mut c) => {
            c.acknowledged_on = keep(c.acknowledged_on);
            A::Acknowledge(c)
        }
        A::RecordLetter(mut c) => {
            c.sent_on = keep(c.sent_on);
            A::RecordLetter(c)
        }
        A::AgreeResponsePlan(mut c) => {
            c.agreed_on = keep(c.agreed_on);
            c.response_due_on = c.response_due_on.max(c.agreed_on);
            A::AgreeResponsePlan(c)
        }
        A::RecordProgressContact(mut c) => {
            c.contacted_on = keep(c.contacted_on);
            A::RecordProgressContact(c)
        }
        A::StopClock(mut c) => {
            c.stopped_on = keep(c.stopped_on);
            A::StopClock(c)
        }
        A::RestartClock(mut c) => {
            c.restarted_on = keep(c.restarted_on);
            A::RestartClock(c)
        }
        A::NotifyDelay(mut c) => {
            c.notified_on = keep(c.notified_on);
            c.expected_response_on = c.expected_response_on.map(|e| e.max(c.notified_on));
            A::NotifyDelay(c)
        }
        A::SendResponse(mut c) => {
            c.sent_on = keep(c.sent_on);
            A::SendResponse(c)
        }
        other => other,
    }
}

// ---------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Complaints started.
    pub complaints: u64,
    /// Commands accepted.
    pub commands: u64,
    /// Events written (log mode) or reported by the service's versions (HTTP mode).
    pub events: u64,
    /// Refusals by code (the aggregate or the API said no).
    pub refused: BTreeMap<String, u64>,
    /// Command latencies (HTTP mode), for percentiles.
    pub latencies: Vec<Duration>,
    /// What the workload held.
    pub shape: Shape,
    /// Wall time.
    pub elapsed: Duration,
}

impl Summary {
    pub(crate) fn merge(&mut self, other: Summary) {
        self.complaints += other.complaints;
        self.commands += other.commands;
        self.events += other.events;
        for (k, v) in other.refused {
            *self.refused.entry(k).or_default() += v;
        }
        self.latencies.extend(other.latencies);
        self.shape.merge(&other.shape);
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "simulated {} complaints: {} commands, {} events in {:.1?} ({:.0} commands/s, {:.0} events/s)",
            self.complaints,
            self.commands,
            self.events,
            self.elapsed,
            self.commands as f64 / secs,
            self.events as f64 / secs
        )?;
        if !self.latencies.is_empty() {
            let mut sorted = self.latencies.clone();
            sorted.sort();
            let at = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
            writeln!(
                f,
                "latency p50 {:.2?}, p95 {:.2?}, p99 {:.2?}, max {:.2?}",
                at(0.5),
                at(0.95),
                at(0.99),
                at(1.0)
            )?;
        }
        for (what, n) in &self.shape.counts {
            writeln!(
                f,
                "  {what}: {n} ({:.1}%)",
                100.0 * *n as f64 / self.complaints.max(1) as f64
            )?;
        }
        if self.refused.is_empty() {
            writeln!(f, "refused: none")?;
        } else {
            for (code, n) in &self.refused {
                writeln!(f, "refused {code}: {n}")?;
            }
        }
        Ok(())
    }
}

pub(crate) fn progress(total: usize, quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {pos}/{len} complaints ({per_sec}, ETA {eta}) {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// The route segment (from the command table) and JSON body of a command on an existing
/// complaint; `None` for a receipt (`POST /v1/complaints`).
pub fn route_and_body(
    action: &ComplaintAction,
) -> Result<(Option<&'static str>, Vec<u8>), ApiError> {
    use ComplaintAction as A;
    let json = |v: Result<Vec<u8>, serde_json::Error>| v.map_err(|e| ApiError::Internal(e.into()));
    Ok(match action {
        A::Receive(c) => (None, json(serde_json::to_vec(c))?),
        A::AcceptOutOfTime(c) => (Some("out-of-time-acceptance"), json(serde_json::to_vec(c))?),
        A::Acknowledge(c) => (Some("acknowledgement"), json(serde_json::to_vec(c))?),
        A::RequestConsent(c) => (Some("consent-request"), json(serde_json::to_vec(c))?),
        A::RecordConsent(c) => (Some("consent"), json(serde_json::to_vec(c))?),
        A::LapseConsent(c) => (Some("consent-lapse"), json(serde_json::to_vec(c))?),
        A::AssessRisk(c) => (Some("risk-assessment"), json(serde_json::to_vec(c))?),
        A::AgreeResponsePlan(c) => (Some("response-plan"), json(serde_json::to_vec(c))?),
        A::StopClock(c) => (Some("clock-stops"), json(serde_json::to_vec(c))?),
        A::RestartClock(c) => (Some("clock-restarts"), json(serde_json::to_vec(c))?),
        A::NotifyDelay(c) => (Some("delay-notification"), json(serde_json::to_vec(c))?),
        A::SendResponse(c) => (Some("response"), json(serde_json::to_vec(c))?),
        A::Escalate(c) => (Some("escalation"), json(serde_json::to_vec(c))?),
        A::ReferToOmbudsman(c) => (Some("ombudsman-referral"), json(serde_json::to_vec(c))?),
        A::RecordOmbudsmanDecision(c) => (Some("ombudsman-decision"), json(serde_json::to_vec(c))?),
        A::RecordLearning(c) => (Some("learning"), json(serde_json::to_vec(c))?),
        A::Close(c) => (Some("closure"), json(serde_json::to_vec(c))?),
        A::Reopen(c) => (Some("reopening"), json(serde_json::to_vec(c))?),
        A::PlaceLegalHold(c) => (Some("legal-hold"), json(serde_json::to_vec(c))?),
        A::ReleaseLegalHold(c) => (Some("legal-hold-release"), json(serde_json::to_vec(c))?),
        A::RecordOralResolution(c) => (Some("oral-resolution"), json(serde_json::to_vec(c))?),
        A::DecideRepresentativeGrounds(c) => {
            (Some("representative-grounds"), json(serde_json::to_vec(c))?)
        }
        A::RecordLetter(c) => (Some("record-letter"), json(serde_json::to_vec(c))?),
        A::RecordProgressContact(c) => (Some("progress-contact"), json(serde_json::to_vec(c))?),
        A::RecordRecommendationDone(c) => {
            (Some("recommendation-done"), json(serde_json::to_vec(c))?)
        }
        A::TreatAsComplaint(c) => (Some("treat-as-complaint"), json(serde_json::to_vec(c))?),
        A::RecordDeath(c) => (Some("death"), json(serde_json::to_vec(c))?),
        A::RefuseOutOfTime(c) => (Some("out-of-time-refusal"), json(serde_json::to_vec(c))?),
        A::RecordOtherUse(c) => (Some("other-use"), json(serde_json::to_vec(c))?),
        A::RecordConsentToShare(c) => (Some("consent-to-share"), json(serde_json::to_vec(c))?),
        A::AddParticipant(c) => (Some("participants"), json(serde_json::to_vec(c))?),
        A::RemoveParticipant(c) => (Some("participant-removal"), json(serde_json::to_vec(c))?),
        A::RequestPart(c) => (Some("part-request"), json(serde_json::to_vec(c))?),
        A::ProvidePart(c) => (Some("provide-part"), json(serde_json::to_vec(c))?),
        A::AssignCaseworker(c) => (Some("assignment"), json(serde_json::to_vec(c))?),
        A::RecordLinkedCase(_) => {
            return Err(ApiError::BadRequest(
                "a linked case is recorded by the system, not over HTTP".into(),
            ))
        }
    })
}

/// Bulk-loads the workload into `cases`' event log: each command decided by the aggregate
/// as of its own day and appended (one transaction per command), `clients` writers, then
/// `ANALYZE events` on PostgreSQL.
pub async fn load_via_log(
    cases: Arc<Cases>,
    workload: Arc<Workload>,
    complaints: usize,
    clients: usize,
    quiet: bool,
) -> Result<Summary, ApiError> {
    let started = Instant::now();
    let bar = progress(complaints, quiet);
    let next = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for _ in 0..clients.max(1) {
        let (cases, workload, next, bar) =
            (cases.clone(), workload.clone(), next.clone(), bar.clone());
        writers.push(tokio::spawn(async move {
            let mut summary = Summary::default();
            // Batches of complaints per writer: fewer contended counter updates.
            const BATCH: usize = 16;
            loop {
                let from = next.fetch_add(BATCH, Ordering::Relaxed);
                if from >= complaints {
                    return Ok::<_, ApiError>(summary);
                }
                for n in from..(from + BATCH).min(complaints) {
                    let (script, shape) = workload.script(n);
                    summary.shape.merge(&shape);
                    load_one(&cases, &workload, &script, &mut summary).await?;
                    bar.inc(1);
                }
            }
        }));
    }
    let mut summary = Summary::default();
    for writer in writers {
        summary.merge(writer.await.map_err(|e| ApiError::Internal(e.into()))??);
    }
    bar.finish_and_clear();
    analyze_loaded(&cases).await?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Planner statistics for the tables a load filled (PostgreSQL), so the first reads and the
/// rebuild do not plan against what looked like empty tables.
pub(crate) async fn analyze_loaded(cases: &Cases) -> Result<(), ApiError> {
    if let complaints_eventlog::Pool::Postgres(pool) = cases.log().pool() {
        sqlx::query("ANALYZE events, data_subject_keys, data_subject_complaints")
            .execute(pool)
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
    }
    Ok(())
}

async fn load_one(
    cases: &Cases,
    workload: &Workload,
    script: &Script,
    summary: &mut Summary,
) -> Result<(), ApiError> {
    let id = script.id.to_string();
    let mut case = Complaint::default();
    let mut version = 0usize;
    summary.complaints += 1;
    for (k, step) in script.steps.iter().enumerate() {
        let (route, body) = route_and_body(&step.action)?;
        let name = route.unwrap_or("receive");
        let metadata = metadata(cases, script, k, step, name, &body)?;
        let command = ComplaintCommand {
            issued_on: step.day,
            action: step.action.clone(),
        };
        let events = match decide(&case, command, &workload.services) {
            Ok(events) => events,
            Err(rule) => {
                *summary.refused.entry(rule.code().to_string()).or_default() += 1;
                continue;
            }
        };
        let committed = cases
            .log()
            .append(&id, version, case.clone(), events, metadata)
            .await?;
        summary.commands += 1;
        summary.events += committed.len() as u64;
        for envelope in committed {
            version = envelope.sequence;
            evolve(&mut case, envelope.payload);
        }
    }
    Ok(())
}

pub(crate) fn metadata(
    cases: &Cases,
    script: &Script,
    k: usize,
    step: &Step,
    name: &str,
    body: &[u8],
) -> Result<HashMap<String, String>, ApiError> {
    let issued_at = Utc.from_utc_datetime(&step.day.and_hms_opt(9, 0, 0).unwrap_or_default())
        + chrono::Duration::seconds(((script.n * 37 + k * 611) % 28_800) as i64);
    let intake = matches!(
        step.action,
        ComplaintAction::Receive(_) | ComplaintAction::Acknowledge(_)
    );
    Ok(HashMap::from([
        (meta::ACTOR.to_string(), "simulate".to_string()),
        (
            meta::ROLE.to_string(),
            if intake { "frontline" } else { "caseworker" }.to_string(),
        ),
        (meta::ORGANISATION.to_string(), script.organisation.clone()),
        (meta::COMMAND.to_string(), step.action.name().to_string()),
        (
            meta::COMMAND_FINGERPRINT.to_string(),
            // Keyed as the service keys it: no bare digest of a body in the log.
            cases.stored_fingerprint(&crate::app::commands::fingerprint(name, body)?),
        ),
        (
            meta::CORRELATION_ID.to_string(),
            format!("simulate-{}-{k}", script.id),
        ),
        (
            meta::OCCURRED_ON.to_string(),
            step.action.occurred_on().to_string(),
        ),
        (meta::ISSUED_AT.to_string(), issued_at.to_rfc3339()),
    ]))
}

/// Drives a running service's HTTP API with `clients` concurrent clients, one complaint's
/// commands in order per client at a time.
pub async fn drive_http(
    url: &str,
    token: &str,
    workload: Arc<Workload>,
    complaints: usize,
    clients: usize,
    quiet: bool,
) -> Result<Summary, ApiError> {
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients.max(1))
        .build()
        .map_err(|e| ApiError::Internal(e.into()))?;
    let bar = progress(complaints, quiet);
    let next = Arc::new(AtomicUsize::new(0));
    let base = Arc::new(url.trim_end_matches('/').to_string());
    let token = Arc::new(token.to_string());
    let failure: Arc<Mutex<Option<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (client, workload, next, bar, base, token, failure) = (
            client.clone(),
            workload.clone(),
            next.clone(),
            bar.clone(),
            base.clone(),
            token.clone(),
            failure.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut summary = Summary::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= complaints {
                    return Ok::<_, ApiError>(summary);
                }
                let (script, shape) = workload.script(n);
                summary.shape.merge(&shape);
                summary.complaints += 1;
                let mut id: Option<String> = None;
                let mut version = 0u64;
                for (k, step) in script.steps.iter().enumerate() {
                    let (route, body) = route_and_body(&step.action)?;
                    let path = match (route, &id) {
                        (None, _) => format!("{base}/v1/complaints"),
                        (Some(r), Some(id)) => format!("{base}/v1/complaints/{id}/{r}"),
                        (Some(_), None) => break,
                    };
                    let t = Instant::now();
                    let response = client
                        .post(&path)
                        .bearer_auth(token.as_str())
                        .header("content-type", "application/json")
                        .header("idempotency-key", format!("sim-{}-{k}", script.id))
                        .body(body)
                        .send()
                        .await
                        .map_err(|e| ApiError::Unavailable(format!("{path}: {e}")))?;
                    let status = response.status();
                    let reply: serde_json::Value = response.json().await.unwrap_or_default();
                    summary.latencies.push(t.elapsed());
                    if status.is_success() {
                        summary.commands += 1;
                        if route.is_none() {
                            id = reply["id"].as_str().map(str::to_string);
                        }
                        if let Some(v) = reply["version"].as_u64() {
                            version = v;
                        }
                    } else {
                        let code = reply["type"]
                            .as_str()
                            .and_then(|t| t.rsplit('/').next())
                            .unwrap_or("unknown")
                            .to_string();
                        if matches!(status.as_u16(), 401 | 403) {
                            let mut first = failure.lock().unwrap_or_else(|p| p.into_inner());
                            first.get_or_insert_with(|| {
                                format!(
                                    "{status} from {path}: {reply}; does the token act for {}?",
                                    script.organisation
                                )
                            });
                        }
                        *summary
                            .refused
                            .entry(format!("{} {code}", status.as_u16()))
                            .or_default() += 1;
                    }
                }
                summary.events += version;
                bar.inc(1);
            }
        }));
    }
    let mut summary = Summary::default();
    for task in tasks {
        summary.merge(task.await.map_err(|e| ApiError::Internal(e.into()))??);
    }
    bar.finish_and_clear();
    if let Some(first) = failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
        eprintln!("first authorisation failure: {first}");
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Runs `complaints simulate`.
pub async fn run(args: SimulateArgs, settings: &crate::Settings) -> anyhow::Result<()> {
    let services = settings.services()?;
    let workload = Arc::new(Workload::new(&args, services));
    if args.print_organisations {
        let ids: Vec<&str> = workload
            .organisations()
            .iter()
            .map(|o| o.id.as_str())
            .collect();
        println!("{}", ids.join(","));
        return Ok(());
    }
    eprintln!(
        "simulate: seed {}, {} complaints received {} to {}, {} organisations, via {:?}",
        args.seed,
        args.complaints,
        workload.first,
        workload.until,
        workload.organisations().len(),
        args.via
    );
    let summary = match args.via {
        Via::Log | Via::Bulk => {
            let cases = Arc::new(crate::open_cases(settings).await?);
            let (complaints, clients, quiet) = (args.complaints, args.clients, args.quiet);
            let summary = if args.via == Via::Log {
                load_via_log(cases.clone(), workload, complaints, clients, quiet).await?
            } else {
                super::simulate_bulk::load_in_bulk(
                    cases.clone(),
                    workload,
                    complaints,
                    clients,
                    quiet,
                )
                .await?
            };
            if let complaints_eventlog::Pool::Postgres(pool) = cases.log().pool() {
                let size: Option<i64> =
                    sqlx::query_scalar("SELECT pg_total_relation_size('events')")
                        .fetch_one(pool)
                        .await
                        .ok();
                if let Some(size) = size {
                    eprintln!("events table: {:.1} MiB", size as f64 / 1048576.0);
                }
            }
            eprintln!("bulk load done: read models and the chain catch up with `complaints rebuild` (and `--projection sealer`) or when the service starts");
            summary
        }
        Via::Http => {
            let url = args
                .url
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("--via http needs --url"))?;
            let token = args
                .token
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("--via http needs --token (or COMPLAINTS_TOKEN)"))?;
            drive_http(
                url,
                token,
                workload,
                args.complaints,
                args.clients,
                args.quiet,
            )
            .await?
        }
    };
    println!("{summary}");
    Ok(())
}
