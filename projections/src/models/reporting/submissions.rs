//! Submitted written complaints returns (R-KO-3a): marking a period's KO41 return submitted
//! is an event (who, when) stored append-only in `ko41_submissions` with the return exactly
//! as shown; later changes to the period are reported as adjustments to it, never by changing
//! its figures, and the next year brings forward what the submitted return left unresolved.

use super::ko41::{
    adjustments, bring_forward_submitted, code_list_of, Adjustment, WrittenComplaintsReport,
};
use super::period::financial_year;
use super::query::written_complaints_for;
use crate::ProjectionError;
use complaints_eventlog::{on_pool, Pool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// The collection name stored with a submission: the Written Complaints Collection (both
/// KO41a and KO41b returns of the organisation, as one answer).
pub const KO41: &str = "KO41";

/// Who marked the return submitted, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Submitted {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The token subject that submitted it.
    pub by: String,
}

/// A submitted return: one row of `ko41_submissions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Submission {
    /// Organisation.
    pub organisation: String,
    /// `KO41`.
    pub collection: String,
    /// The financial year by its starting year.
    pub period: i32,
    /// Who and when.
    pub submitted: Submitted,
    /// The return exactly as shown when submitted.
    pub figures: WrittenComplaintsReport,
}

/// The submission of `organisation`'s return for financial year `period`, if any.
pub async fn submission_for(
    pool: &Pool,
    organisation: &str,
    period: i32,
) -> Result<Option<Submission>, ProjectionError> {
    let sql = "SELECT submitted_at, submitted_by, figures FROM ko41_submissions
               WHERE organisation = $1 AND collection = $2 AND period = $3";
    let row = on_pool!(pool, |p| sqlx::query(sql)
        .bind(organisation)
        .bind(KO41)
        .bind(i64::from(period))
        .fetch_optional(p)
        .await?
        .map(|r| {
            Ok::<_, sqlx::Error>((
                r.try_get::<String, _>("submitted_at")?,
                r.try_get::<String, _>("submitted_by")?,
                r.try_get::<String, _>("figures")?,
            ))
        })
        .transpose()?);
    let Some((at, by, figures)) = row else {
        return Ok(None);
    };
    let mut figures: WrittenComplaintsReport =
        serde_json::from_str(&figures).map_err(|e| ProjectionError::Decode {
            what: "ko41_submissions.figures".into(),
            reason: e.to_string(),
        })?;
    // A return submitted before reports named their code list was counted with its year's.
    if figures.code_list_version.is_empty() {
        figures.code_list_version = code_list_of(&figures).version.to_string();
    }
    Ok(Some(Submission {
        organisation: organisation.to_string(),
        collection: KO41.to_string(),
        period,
        submitted: Submitted { at, by },
        figures,
    }))
}

/// Records `submission`; `false` (nothing written) when the organisation's return for the
/// period was already submitted.
pub async fn record_submission(
    pool: &Pool,
    submission: &Submission,
) -> Result<bool, ProjectionError> {
    let figures =
        serde_json::to_string(&submission.figures).map_err(|e| ProjectionError::Decode {
            what: "ko41 return".into(),
            reason: e.to_string(),
        })?;
    let sql = "INSERT INTO ko41_submissions
                 (organisation, collection, period, submitted_at, submitted_by, figures)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (organisation, collection, period) DO NOTHING";
    let inserted = on_pool!(pool, |p| sqlx::query(sql)
        .bind(&submission.organisation)
        .bind(&submission.collection)
        .bind(i64::from(submission.period))
        .bind(&submission.submitted.at)
        .bind(&submission.submitted.by)
        .bind(&figures)
        .execute(p)
        .await?
        .rows_affected());
    Ok(inserted == 1)
}

/// A financial year's return as it is to be shown (R-KO-3a).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct YearReturn {
    /// The submitted figures when the year was submitted, else the current ones.
    pub report: WrittenComplaintsReport,
    /// Who submitted it and when; `None` when not submitted.
    pub submitted: Option<Submitted>,
    /// Items whose current figure differs from the submitted one (empty when not submitted).
    pub adjustments: Vec<Adjustment>,
}

/// The current figures of `organisation`'s return for financial year `period`: counted
/// from the read model, with `brought_forward` taken from the previous year's return as
/// submitted when that year was submitted.
pub async fn current_return(
    pool: &Pool,
    organisation: &str,
    period: i32,
) -> Result<WrittenComplaintsReport, ProjectionError> {
    let (from, to) = financial_year(period)
        .ok_or_else(|| ProjectionError::InvalidQuery(format!("no financial year {period}")))?;
    let mut report = written_complaints_for(pool, organisation, from, to).await?;
    if let Some(previous) = submission_for(pool, organisation, period - 1).await? {
        bring_forward_submitted(&mut report, &previous.figures);
    }
    Ok(report)
}

/// The return of `organisation` for financial year `period` as shown (R-KO-3a): the
/// submitted figures with who and when and the adjustments since, or the current figures.
pub async fn year_return(
    pool: &Pool,
    organisation: &str,
    period: i32,
) -> Result<YearReturn, ProjectionError> {
    let current = current_return(pool, organisation, period).await?;
    Ok(match submission_for(pool, organisation, period).await? {
        Some(s) => YearReturn {
            adjustments: adjustments(&s.figures, &current),
            report: s.figures,
            submitted: Some(s.submitted),
        },
        None => YearReturn {
            report: current,
            submitted: None,
            adjustments: Vec::new(),
        },
    })
}
