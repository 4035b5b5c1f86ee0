//! NHS numbers: ten digits, the last a modulus-11 check digit (NHS Data Dictionary).
//!
//! A person's `identifier` holds an NHS number or a local identifier. One that reads as an
//! NHS number (ten digits, optionally grouped 3-3-4 with spaces or hyphens) must carry a
//! valid check digit; anything else is taken as a local identifier. Used at receipt through
//! [`check_identifier`] and by the event log to derive data subject ids.

use std::fmt;

/// A validated NHS number, held as its ten digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NhsNumber(String);

/// Why a string is not an NHS number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NhsNumberError {
    /// Not ten digits.
    NotTenDigits,
    /// The check digit does not match (or the remainder gives 10, which no number has).
    BadCheckDigit,
}

impl fmt::Display for NhsNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NhsNumberError::NotTenDigits => f.write_str("an NHS number has ten digits"),
            NhsNumberError::BadCheckDigit => {
                f.write_str("the NHS number's check digit is wrong (modulus 11)")
            }
        }
    }
}

impl std::error::Error for NhsNumberError {}

fn digits_of(raw: &str) -> Option<String> {
    let kept: String = raw
        .trim()
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .collect();
    (kept.len() == 10 && kept.bytes().all(|b| b.is_ascii_digit())).then_some(kept)
}

impl NhsNumber {
    /// Parses ten digits (spaces and hyphens between them allowed) with a valid check digit.
    pub fn parse(raw: &str) -> Result<Self, NhsNumberError> {
        let digits = digits_of(raw).ok_or(NhsNumberError::NotTenDigits)?;
        let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = values[..9]
            .iter()
            .enumerate()
            .map(|(i, d)| d * (10 - i as u32))
            .sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => return Err(NhsNumberError::BadCheckDigit),
            c => c,
        };
        if check != values[9] {
            return Err(NhsNumberError::BadCheckDigit);
        }
        Ok(Self(digits))
    }

    /// The ten digits, ungrouped.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The NHS number in `identifier`, when it reads as one (ten digits, grouped or not).
    /// `Ok(None)` for a local identifier; an error for ten digits with a wrong check digit.
    pub fn from_identifier(identifier: &str) -> Result<Option<Self>, NhsNumberError> {
        match digits_of(identifier) {
            Some(digits) => Self::parse(&digits).map(Some),
            None => Ok(None),
        }
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }
}

/// Refuses an `identifier` that reads as an NHS number but fails its check digit.
pub fn check_identifier(
    field: &'static str,
    identifier: Option<&str>,
) -> Result<(), crate::ComplaintError> {
    match identifier.map(NhsNumber::from_identifier) {
        Some(Err(e)) => Err(crate::ComplaintError::InvalidField {
            field,
            reason: e.to_string(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn valid_numbers_parse_and_bad_check_digits_are_refused() {
        assert_eq!(
            NhsNumber::parse("943 476 5919").unwrap().digits(),
            "9434765919"
        );
        assert_eq!(
            NhsNumber::parse("401-023-2137").unwrap().to_string(),
            "401 023 2137"
        );
        assert_eq!(
            NhsNumber::parse("9434765918"),
            Err(NhsNumberError::BadCheckDigit)
        );
        assert_eq!(
            NhsNumber::parse("943476591"),
            Err(NhsNumberError::NotTenDigits)
        );
        assert_eq!(
            NhsNumber::parse("94347659a9"),
            Err(NhsNumberError::NotTenDigits)
        );
        assert_eq!(NhsNumber::from_identifier("LOCAL-42").unwrap(), None);
        assert!(check_identifier("complainant.identifier", Some("943 476 5918")).is_err());
        assert!(check_identifier("complainant.identifier", Some("MRN 123")).is_ok());
        assert!(check_identifier("complainant.identifier", None).is_ok());
    }
}
