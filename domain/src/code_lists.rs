//! The KO41 code lists as versioned reference data keyed by collection year (R-KO-7,
//! R-KO-8): for a collection year, the sections of the Written Complaints Collection and
//! each section's items in the collection's order with their labels.
//!
//! The enums of `reference.rs` are what a complaint records (every code any version lists);
//! a version here is what one year's return asks for. A year keeps the version in force
//! when it starts until a later version replaces it, so a past year's return is rendered
//! with the list it was collected with.
//!
//! Versions (readings UNCONFIRMED where marked; DOMAIN.md R-KO-6..R-KO-8):
//! - `KO41-2015-16`: up to 2021-22. KO41a quarterly, with section 6 (subject area of
//!   clinical treatment, with sub-categories). Section 6 is listed but not produced: a
//!   complaint records no sub-category, and the published guidance says to leave it
//!   blank when there is none. Its items are not modelled (UNCONFIRMED). Years before
//!   2015-16 (an annual KO41a of another layout) also use it (UNCONFIRMED).
//! - `KO41-2022-23`: 2022-23 onwards. KO41a annual, no section 6 (R-KO-6: retired).
//!
//! The other sections have the same items, in the same order, in both versions. No change
//! to them is on record (UNCONFIRMED). The labels follow the published KO41 wording as far
//! as DOMAIN.md quotes it ("Values and behaviours (staff)", "Age unknown"); the rest is
//! our wording of the published items (UNCONFIRMED).

/// One item of a section: the wire code (as the complaint records it) and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ko41Item {
    /// The code, as in `reference.rs` (e.g. `values_and_behaviours`).
    pub code: &'static str,
    /// The label the collection gives it.
    pub label: &'static str,
}

/// One section of the return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ko41Section {
    /// Section id as the CSV names it, numbered as the collection numbers it (`7_subject_area`).
    pub id: &'static str,
    /// Its title.
    pub title: &'static str,
    /// Its items in the collection's order.
    pub items: &'static [Ko41Item],
    /// The item a code missing from this version's list is counted under, so a
    /// breakdown's sum rule (R-KO-5) holds when a list drops a code.
    pub catch_all: Option<&'static str>,
    /// Whether this backend produces the section. False for section 6: complaints record
    /// no clinical-treatment sub-category.
    pub produced: bool,
}

impl Ko41Section {
    /// The label of `code`, when this section lists it.
    pub fn label(&self, code: &str) -> Option<&'static str> {
        self.items.iter().find(|i| i.code == code).map(|i| i.label)
    }

    /// Whether this section lists `code`.
    pub fn lists(&self, code: &str) -> bool {
        self.label(code).is_some()
    }
}

/// How often KO41a is collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ko41aFrequency {
    /// Quarterly (2015-16 to 2021-22).
    Quarterly,
    /// Annually (2022-23 onwards).
    Annual,
}

/// One version of the KO41 code lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ko41CodeList {
    /// The version's name, e.g. `KO41-2022-23`: the first collection year it is named for.
    pub version: &'static str,
    /// The first collection year (financial year by the calendar year it starts in) it
    /// applies to; `None` for the earliest version, which also covers every year before.
    pub first_year: Option<i32>,
    /// How often KO41a is collected under it.
    pub ko41a_frequency: Ko41aFrequency,
    /// Sections 2 to 8 in the collection's order (section 1, the organisation and site, is
    /// not a list).
    pub sections: &'static [Ko41Section],
}

const fn item(code: &'static str, label: &'static str) -> Ko41Item {
    Ko41Item { code, label }
}

const SUMMARY: Ko41Section = Ko41Section {
    id: "2_summary",
    title: "Summary of overall numbers of complaints",
    items: &[
        item("brought_forward", "Complaints brought forward"),
        item("new", "New complaints received"),
        item("resolved_upheld", "Complaints resolved: upheld"),
        item(
            "resolved_partially_upheld",
            "Complaints resolved: partially upheld",
        ),
        item("resolved_not_upheld", "Complaints resolved: not upheld"),
        item("resolved", "Total complaints resolved"),
        item("carried_forward", "Complaints carried forward"),
    ],
    catch_all: None,
    produced: true,
};

const AGE: Ko41Section = Ko41Section {
    id: "3_age_of_patient",
    title: "Age of patient",
    items: &[
        item("0_15", "0 to 15 years"),
        item("16_64", "16 to 64 years"),
        item("65_74", "65 to 74 years"),
        item("75_84", "75 to 84 years"),
        item("85_and_over", "85 years and over"),
        item("unknown", "Age unknown"),
    ],
    catch_all: Some("unknown"),
    produced: true,
};

const STATUS: Ko41Section = Ko41Section {
    id: "4_status_of_complainant",
    title: "Status of complainant",
    items: &[
        item("patient", "Patient"),
        item("relative_or_carer", "Relative or carer"),
        item("other", "Other"),
        item("unknown", "Unknown"),
    ],
    catch_all: Some("unknown"),
    produced: true,
};

const SERVICE_AREA: Ko41Section = Ko41Section {
    id: "5_service_area",
    title: "Service area",
    items: &[
        item("accident_and_emergency", "Accident and emergency"),
        item("anaesthetics", "Anaesthetics"),
        item("dental", "Dental"),
        item("general_practice", "General practice"),
        item("inpatient", "Inpatient services"),
        item("outpatient", "Outpatient services"),
        item("maternity", "Maternity"),
        item("obstetrics_and_gynaecology", "Obstetrics and gynaecology"),
        item("paediatrics", "Paediatrics"),
        item("radiology", "Radiology"),
        item("mental_health", "Mental health"),
        item("community_services", "Community health services"),
        item("ambulance", "Ambulance services"),
        item("adult_social_care", "Adult social care"),
        item("other", "Other"),
    ],
    catch_all: Some("other"),
    produced: true,
};

const CLINICAL_TREATMENT: Ko41Section = Ko41Section {
    id: "6_clinical_treatment",
    title: "Subject area of clinical treatment, with sub-categories",
    items: &[],
    catch_all: None,
    produced: false,
};

const SUBJECT_AREA: Ko41Section = Ko41Section {
    id: "7_subject_area",
    title: "Subject area",
    items: &[
        item(
            "access_to_treatment_or_drugs",
            "Access to treatment or drugs",
        ),
        item("admissions_and_discharges", "Admissions and discharges"),
        item(
            "appointments",
            "Appointments, including delays and cancellations",
        ),
        item("clinical_treatment", "Clinical treatment"),
        item("commissioning", "Commissioning"),
        item("communications", "Communications"),
        item("consent", "Consent"),
        item("end_of_life_care", "End of life care"),
        item("facilities", "Facilities"),
        item("integrated_care", "Integrated care"),
        item(
            "mortuary_and_post_mortem",
            "Mortuary and post-mortem arrangements",
        ),
        item(
            "patient_care",
            "Patient care, including nutrition and hydration",
        ),
        item("prescribing_errors", "Prescribing errors"),
        item(
            "privacy_dignity_wellbeing",
            "Privacy, dignity and wellbeing",
        ),
        item("restraint", "Restraint"),
        item("staff_numbers", "Staff numbers"),
        item("trust_administration", "Trust administration"),
        item("transport", "Transport"),
        item("values_and_behaviours", "Values and behaviours (staff)"),
        item("waiting_times", "Waiting times"),
        item("other", "Other"),
    ],
    catch_all: Some("other"),
    produced: true,
};

const PROFESSION: Ko41Section = Ko41Section {
    id: "8_profession",
    title: "Profession",
    items: &[
        item("medical", "Medical"),
        item(
            "nursing_midwifery_health_visiting",
            "Nursing, midwifery and health visiting",
        ),
        item("allied_health_professionals", "Allied health professionals"),
        item(
            "scientific_therapeutic_technical",
            "Scientific, therapeutic and technical",
        ),
        item("ambulance", "Ambulance staff"),
        item("trust_administration", "Trust administration and board"),
        item("support_services", "Support services"),
        item("social_care", "Social care"),
        item("other", "Other"),
    ],
    catch_all: Some("other"),
    produced: true,
};

/// Every version, oldest first.
pub const KO41_CODE_LISTS: &[Ko41CodeList] = &[
    Ko41CodeList {
        version: "KO41-2015-16",
        first_year: None,
        ko41a_frequency: Ko41aFrequency::Quarterly,
        sections: &[
            SUMMARY,
            AGE,
            STATUS,
            SERVICE_AREA,
            CLINICAL_TREATMENT,
            SUBJECT_AREA,
            PROFESSION,
        ],
    },
    Ko41CodeList {
        version: "KO41-2022-23",
        first_year: Some(2022),
        ko41a_frequency: Ko41aFrequency::Annual,
        sections: &[SUMMARY, AGE, STATUS, SERVICE_AREA, SUBJECT_AREA, PROFESSION],
    },
];

impl Ko41CodeList {
    /// The version in force for collection `year` (2024 = 2024-25): the latest whose first
    /// year is not after it.
    pub fn for_collection_year(year: i32) -> &'static Ko41CodeList {
        KO41_CODE_LISTS
            .iter()
            .rev()
            .find(|l| l.first_year.is_none_or(|first| first <= year))
            .unwrap_or(&KO41_CODE_LISTS[0])
    }

    /// The version named `version`, if there is one.
    pub fn by_version(version: &str) -> Option<&'static Ko41CodeList> {
        KO41_CODE_LISTS.iter().find(|l| l.version == version)
    }

    /// The last collection year this version applies to; `None` while it is current.
    pub fn last_year(&self) -> Option<i32> {
        let at = KO41_CODE_LISTS
            .iter()
            .position(|l| l.version == self.version)?;
        KO41_CODE_LISTS
            .get(at + 1)
            .and_then(|next| next.first_year)
            .map(|first| first - 1)
    }

    /// The section with id `id`, if this version has it.
    pub fn section(&self, id: &str) -> Option<&'static Ko41Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// The sections this backend produces, in the collection's order.
    pub fn produced(&self) -> impl Iterator<Item = &'static Ko41Section> {
        self.sections.iter().filter(|s| s.produced)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{ComplainantStatus, PatientAgeBand, ServiceArea, StaffGroup, SubjectArea};

    fn codes(list: &Ko41CodeList, section: &str) -> Vec<&'static str> {
        list.section(section)
            .unwrap()
            .items
            .iter()
            .map(|i| i.code)
            .collect()
    }

    #[test]
    fn r_ko_7_code_lists_are_chosen_by_collection_year() {
        let v = |year| Ko41CodeList::for_collection_year(year).version;
        assert_eq!(
            v(2009),
            "KO41-2015-16",
            "before 2015-16: the earliest version"
        );
        assert_eq!(v(2015), "KO41-2015-16");
        assert_eq!(
            v(2021),
            "KO41-2015-16",
            "2021-22 is the last quarterly year"
        );
        assert_eq!(v(2022), "KO41-2022-23");
        assert_eq!(v(2025), "KO41-2022-23");
        assert_eq!(v(i32::MIN), "KO41-2015-16");
        assert_eq!(v(i32::MAX), "KO41-2022-23");
        let old = Ko41CodeList::by_version("KO41-2015-16").unwrap();
        assert_eq!(old.last_year(), Some(2021));
        assert_eq!(old.ko41a_frequency, Ko41aFrequency::Quarterly);
        let new = Ko41CodeList::by_version("KO41-2022-23").unwrap();
        assert_eq!(new.last_year(), None);
        assert_eq!(new.ko41a_frequency, Ko41aFrequency::Annual);
        assert!(Ko41CodeList::by_version("KO41-1999").is_none());
    }

    #[test]
    fn r_ko_6_section_6_is_in_the_lists_up_to_2021_22_only_and_never_produced() {
        let ids = |year| -> Vec<&str> {
            Ko41CodeList::for_collection_year(year)
                .sections
                .iter()
                .map(|s| s.id)
                .collect()
        };
        assert!(ids(2021).contains(&"6_clinical_treatment"));
        assert!(!ids(2022).contains(&"6_clinical_treatment"));
        let produced: Vec<&str> = Ko41CodeList::for_collection_year(2021)
            .produced()
            .map(|s| s.id)
            .collect();
        let now: Vec<&str> = Ko41CodeList::for_collection_year(2022)
            .produced()
            .map(|s| s.id)
            .collect();
        assert_eq!(produced, now);
        assert_eq!(
            now,
            vec![
                "2_summary",
                "3_age_of_patient",
                "4_status_of_complainant",
                "5_service_area",
                "7_subject_area",
                "8_profession"
            ]
        );
    }

    #[test]
    fn r_ko_7_every_listed_code_is_one_a_complaint_can_record() {
        for list in KO41_CODE_LISTS {
            for s in list.sections {
                for i in s.items {
                    let known = match s.id {
                        "2_summary" => true,
                        "3_age_of_patient" => PatientAgeBand::parse(i.code).is_some(),
                        "4_status_of_complainant" => ComplainantStatus::parse(i.code).is_some(),
                        "5_service_area" => ServiceArea::parse(i.code).is_some(),
                        "7_subject_area" => SubjectArea::parse(i.code).is_some(),
                        "8_profession" => StaffGroup::parse(i.code).is_some(),
                        _ => false,
                    };
                    assert!(known, "{} {} {}", list.version, s.id, i.code);
                    assert!(!i.label.is_empty());
                }
                if let Some(catch_all) = s.catch_all {
                    assert!(s.lists(catch_all), "{} {}", list.version, s.id);
                }
            }
        }
    }

    #[test]
    fn r_ko_8_the_current_list_has_every_code_of_the_reference_enums_in_their_order() {
        let list = Ko41CodeList::for_collection_year(2025);
        assert_eq!(
            codes(list, "3_age_of_patient"),
            PatientAgeBand::ALL
                .iter()
                .map(|c| c.code())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            codes(list, "4_status_of_complainant"),
            ComplainantStatus::ALL
                .iter()
                .map(|c| c.code())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            codes(list, "5_service_area"),
            ServiceArea::ALL
                .iter()
                .map(|c| c.code())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            codes(list, "7_subject_area"),
            SubjectArea::ALL
                .iter()
                .map(|c| c.code())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            codes(list, "8_profession"),
            StaffGroup::ALL.iter().map(|c| c.code()).collect::<Vec<_>>()
        );
        assert_eq!(
            list.section("7_subject_area")
                .unwrap()
                .label("values_and_behaviours"),
            Some("Values and behaviours (staff)")
        );
        assert_eq!(
            list.section("3_age_of_patient").unwrap().label("unknown"),
            Some("Age unknown")
        );
    }
}
