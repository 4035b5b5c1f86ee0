//! The organisation register (R-SCOPE-1, R-SCOPE-4): who the responsible bodies are, what
//! kind of body each is, its sites, and who may sign its responses. The kind of body decides
//! which ombudsman a response must name (R-OMB-3) and which national return it makes
//! (R-KO-1, R-KO-8).
//!
//! The register is optional: an organisation it does not list is handled on the documented
//! defaults, so the embedded default works with no set-up. Changes are events
//! ([`RegisterChange`]); the gateway stores them append-only and folds them over the
//! configured starting register.

use crate::error::ComplaintError;
use crate::reference::{code_list, normalise, Ombudsman, SignedAs};
use chrono::NaiveDate;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};

code_list! {
    /// What kind of responsible body an organisation is (R-SCOPE-1).
    OrganisationType, "organisation type" {
        /// An NHS trust.
        NhsTrust = "nhs_trust",
        /// An NHS foundation trust.
        FoundationTrust = "foundation_trust" | "nhs_foundation_trust",
        /// A general practice.
        GpPractice = "gp_practice" | "general_practice",
        /// A dental practice.
        DentalPractice = "dental_practice",
        /// An integrated care board (a commissioner).
        Icb = "icb" | "integrated_care_board",
        /// NHS England (a commissioner; formerly the NHS Commissioning Board).
        NhsEngland = "nhs_england",
        /// A local authority, for its social services functions.
        LocalAuthority = "local_authority" | "council",
        /// An independent provider of NHS-funded or council-arranged care.
        IndependentProvider = "independent_provider",
        /// A regulator: takes complaints about itself, not under the 2009 regulations.
        Regulator = "regulator",
    }
}

code_list! {
    /// The sector a body's services are in: it decides the ombudsman (R-OMB-3).
    Sector, "sector" {
        /// NHS-funded health care: the PHSO.
        Health = "health",
        /// Adult social care: the LGSCO.
        AdultSocialCare = "adult_social_care" | "social_care",
    }
}

code_list! {
    /// Which written complaints collection a body returns (R-KO-1, R-KO-8).
    ReturnCollection, "collection" {
        /// Hospital and community health services, per site.
        Ko41a = "ko41a",
        /// Primary care: general and dental practices, and complaints made to commissioners.
        Ko41b = "ko41b",
    }
}

impl OrganisationType {
    /// The sectors a body of this kind is in when the register does not say.
    pub fn default_sectors(self) -> Vec<Sector> {
        match self {
            OrganisationType::LocalAuthority => vec![Sector::AdultSocialCare],
            OrganisationType::Regulator => vec![],
            _ => vec![Sector::Health],
        }
    }

    /// The national return a body of this kind makes: KO41a for trusts (an acute trust's
    /// dental service included), KO41b for primary care and commissioners, none for
    /// councils, independent providers (unless the register says) and regulators.
    pub fn default_collection(self) -> Option<ReturnCollection> {
        match self {
            OrganisationType::NhsTrust | OrganisationType::FoundationTrust => {
                Some(ReturnCollection::Ko41a)
            }
            OrganisationType::GpPractice
            | OrganisationType::DentalPractice
            | OrganisationType::Icb
            | OrganisationType::NhsEngland => Some(ReturnCollection::Ko41b),
            OrganisationType::LocalAuthority
            | OrganisationType::IndependentProvider
            | OrganisationType::Regulator => None,
        }
    }

    /// Whether the body commissions care rather than providing it (R-SCOPE-3).
    pub fn is_commissioner(self) -> bool {
        matches!(self, OrganisationType::Icb | OrganisationType::NhsEngland)
    }
}

impl ReturnCollection {
    /// `KO41a` or `KO41b`, as the collection names itself.
    pub fn name(self) -> &'static str {
        match self {
            ReturnCollection::Ko41a => "KO41a",
            ReturnCollection::Ko41b => "KO41b",
        }
    }
}

/// One of an organisation's sites, for the per-site KO41a return (R-KO-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// The site's ODS code (e.g. `RAL01`).
    pub code: String,
    /// Its name.
    pub name: String,
}

/// A responsible body as the register holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// The identifier complaints and tokens use for it (usually its ODS code).
    pub id: String,
    /// Its name.
    pub name: String,
    /// What kind of body it is (R-SCOPE-1).
    #[serde(rename = "type")]
    pub organisation_type: OrganisationType,
    /// The sectors its services are in; by default from its type (R-OMB-3). A council or an
    /// independent provider with both health and social care lists both.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sectors: Vec<Sector>,
    /// Its ODS code, when it has one: three to ten capital letters and digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ods_code: Option<String>,
    /// Its sites (KO41a is returned per site).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<Site>,
    /// The staff identifier of the responsible person, who signs responses (R-SCOPE-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_person: Option<String>,
    /// Staff the responsible person authorised to sign for them (R-SCOPE-4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorised_delegates: Vec<String>,
    /// The staff identifier of the complaints manager (R-SCOPE-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaints_manager: Option<String>,
    /// The national return it makes, when not the one its type implies (R-KO-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<ReturnCollection>,
}

impl Organisation {
    /// The sectors in force: as registered, else the type's default.
    pub fn sectors(&self) -> Vec<Sector> {
        if self.sectors.is_empty() {
            self.organisation_type.default_sectors()
        } else {
            self.sectors.clone()
        }
    }

    /// The ombudsmen a response must name (R-RESP-2 (iv), R-OMB-3): the PHSO for health,
    /// the LGSCO for adult social care, both for a body in both.
    pub fn ombudsmen(&self) -> Vec<Ombudsman> {
        let mut out: Vec<Ombudsman> = self
            .sectors()
            .into_iter()
            .map(|sector| match sector {
                Sector::Health => Ombudsman::Phso,
                Sector::AdultSocialCare => Ombudsman::Lgsco,
            })
            .collect();
        // The next step for a complaint about a regulator is the MP, then the PHSO (R-KIND-2).
        if self.organisation_type == OrganisationType::Regulator {
            out.push(Ombudsman::Phso);
        }
        out.sort();
        out.dedup();
        out
    }

    /// The national return it makes (R-KO-1, R-KO-8).
    pub fn return_collection(&self) -> Option<ReturnCollection> {
        self.collection
            .or_else(|| self.organisation_type.default_collection())
    }

    /// Whether `signed_by` may sign a response as `signed_as` (R-RESP-2, R-SCOPE-4).
    /// `None` when the register names no signatories: then nothing can be checked.
    pub fn may_sign(&self, signed_by: &str, signed_as: SignedAs) -> Option<bool> {
        if self.responsible_person.is_none() && self.authorised_delegates.is_empty() {
            return None;
        }
        let who = signed_by.trim();
        Some(match signed_as {
            SignedAs::ResponsiblePerson => self.responsible_person.as_deref() == Some(who),
            SignedAs::AuthorisedDelegate => self.authorised_delegates.iter().any(|d| d == who),
        })
    }

    /// Whether `site` is one of its sites; `true` when it registers none.
    pub fn has_site(&self, site: &str) -> bool {
        self.sites.is_empty() || self.sites.iter().any(|s| s.code == site.trim())
    }

    /// Checks the record is well formed before it is registered.
    ///
    /// # Errors
    /// [`ComplaintError::InvalidField`] naming the field.
    pub fn validate(&self) -> Result<(), ComplaintError> {
        let invalid =
            |field: &'static str, reason: String| ComplaintError::InvalidField { field, reason };
        if self.id.trim().is_empty() || self.id.len() > 64 || self.id.chars().any(char::is_control)
        {
            return Err(invalid(
                "id",
                "an organisation id is 1 to 64 printable characters".into(),
            ));
        }
        if self.name.trim().is_empty() {
            return Err(invalid("name", "an organisation needs a name".into()));
        }
        if let Some(code) = &self.ods_code {
            if !is_ods_code(code) {
                return Err(invalid(
                    "ods_code",
                    format!("`{code}` is not an ODS code: 3 to 10 capital letters and digits"),
                ));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for site in &self.sites {
            if !is_ods_code(&site.code) {
                return Err(invalid(
                    "sites",
                    format!(
                        "site code `{}` is not an ODS code: 3 to 10 capital letters and digits",
                        site.code
                    ),
                ));
            }
            if !seen.insert(site.code.as_str()) {
                return Err(invalid(
                    "sites",
                    format!("site `{}` is listed twice", site.code),
                ));
            }
        }
        if self
            .responsible_person
            .as_deref()
            .is_some_and(|p| p.trim().is_empty())
            || self
                .authorised_delegates
                .iter()
                .any(|d| d.trim().is_empty())
        {
            return Err(invalid(
                "responsible_person",
                "a signatory is a non-empty staff identifier".into(),
            ));
        }
        Ok(())
    }
}

/// Whether `code` has the shape of an ODS code: 3 to 10 capital letters and digits.
/// (Trusts have three characters, their sites five, GP practices six.)
pub fn is_ods_code(code: &str) -> bool {
    (3..=10).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A change to the register: an event, stored append-only with who made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RegisterChange {
    /// An organisation registered, or its record replaced.
    OrganisationRecorded {
        /// The record as it now stands.
        organisation: Organisation,
        /// The day the change takes effect.
        effective_on: NaiveDate,
    },
}

impl RegisterChange {
    /// The organisation the change is about.
    pub fn organisation_id(&self) -> &str {
        match self {
            RegisterChange::OrganisationRecorded { organisation, .. } => &organisation.id,
        }
    }
}

/// The organisations known to this deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// Every registered organisation.
    #[serde(default)]
    pub organisations: Vec<Organisation>,
}

impl Register {
    /// The organisation with this id, if registered.
    pub fn get(&self, id: &str) -> Option<&Organisation> {
        self.organisations.iter().find(|o| o.id == id)
    }

    /// Applies a change (later changes replace earlier records of the same organisation).
    pub fn apply(&mut self, change: &RegisterChange) {
        match change {
            RegisterChange::OrganisationRecorded { organisation, .. } => {
                match self
                    .organisations
                    .iter_mut()
                    .find(|o| o.id == organisation.id)
                {
                    Some(existing) => *existing = organisation.clone(),
                    None => self.organisations.push(organisation.clone()),
                }
                self.organisations.sort_by(|a, b| a.id.cmp(&b.id));
            }
        }
    }

    /// Checks every record and that ids are unique.
    ///
    /// # Errors
    /// The first record's problem, or a repeated id.
    pub fn validate(&self) -> Result<(), ComplaintError> {
        let mut ids = BTreeMap::new();
        for organisation in &self.organisations {
            organisation.validate()?;
            if ids.insert(organisation.id.as_str(), ()).is_some() {
                return Err(ComplaintError::InvalidField {
                    field: "id",
                    reason: format!("organisation `{}` is registered twice", organisation.id),
                });
            }
        }
        Ok(())
    }
}

/// The register in force, shared by every command: replaced whole when a change is
/// recorded, so a decision always reads one consistent register. Keeps the configured
/// starting register the recorded changes are folded over.
#[derive(Debug, Default)]
pub struct RegisterHandle {
    starting: Register,
    current: RwLock<Arc<Register>>,
}

impl RegisterHandle {
    /// A handle starting from (and, until changes are loaded, holding) `starting`.
    pub fn new(starting: Register) -> Self {
        Self {
            current: RwLock::new(Arc::new(starting.clone())),
            starting,
        }
    }

    /// The configured starting register.
    pub fn starting(&self) -> &Register {
        &self.starting
    }

    /// The register as it stands.
    pub fn current(&self) -> Arc<Register> {
        // A writer cannot panic while holding the lock (it only swaps an Arc), so a
        // poisoned lock still holds a whole register.
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the register in force.
    pub fn replace(&self, register: Register) {
        let mut guard = match self.current.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = Arc::new(register);
    }
}
