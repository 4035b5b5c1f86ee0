//! Which national return a complaint is counted in (R-KO-1, R-KO-8): a small module of its
//! own because both the facts (decided when a row is written) and the return read it.

use complaints_domain::ServiceArea;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which national return a complaint is counted in (R-KO-1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Collection {
    /// Hospital and community health services, per site.
    #[serde(rename = "KO41a")]
    Ko41a,
    /// Primary care providers: general practice and dental practices.
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

    /// `KO41a` or `KO41b` (any case); `None` otherwise.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "ko41a" => Some(Collection::Ko41a),
            "ko41b" => Some(Collection::Ko41b),
            _ => None,
        }
    }

    /// KO41b for general practice and dental, KO41a for anything else (or nothing): the
    /// guess when the organisation's kind is not known.
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

    /// The organisation's collection when its policy names one (an acute trust's dental
    /// complaints stay in KO41a: KO41b is for primary care providers, R-KO-1, R-KO-8), else
    /// the service area's.
    pub fn for_complaint(
        organisation_collection: Option<&str>,
        service_area: Option<&str>,
    ) -> Self {
        organisation_collection
            .and_then(Collection::parse)
            .unwrap_or_else(|| Collection::for_service_area(service_area))
    }
}
