// Over 600 lines: one document in three formats (Markdown, HTML, CSV) whose sections must
// say the same thing; a renderer per file would let the formats drift apart.
//! The regulation 18 annual report as a document: Markdown, a self-contained HTML page, or
//! CSV for its tables. Rendering is pure and every free-text value is escaped for the format
//! it goes into, so the HTTP route and the command line serve the same bytes.

use super::annual::{AnnualReport, Share, TransferCounting};
use super::learning::{LearningItem, LearningSummary};
use chrono::NaiveDate;
use std::str::FromStr;

/// A document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CommonMark with pipe tables.
    Markdown,
    /// A self-contained HTML page.
    Html,
    /// The tables as CSV (RFC 4180): `section,item,count`.
    Csv,
}

impl Format {
    /// Parses `markdown`, `md`, `html` or `csv`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "markdown" | "md" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// Its media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    /// The usual file extension, for an output path given without one.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Csv => "csv",
        }
    }
}

// For command-line parsing without making this crate depend on clap.
impl FromStr for Format {
    type Err = UnknownFormat;

    /// As [`Format::parse`].
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Format::parse(raw).ok_or_else(|| UnknownFormat(raw.to_string()))
    }
}

/// A format name that is none of `markdown`, `md`, `html` or `csv`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}`: use markdown, html or csv")]
pub struct UnknownFormat(pub String);

/// `values_and_behaviours` → `Values and behaviours`.
fn label(code: &str) -> String {
    let spaced = code.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

fn long_date(day: NaiveDate) -> String {
    day.format("%-d %B %Y").to_string()
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "n/a".into(), |s| format!("{:.1}%", s * 100.0))
}

/// One row of the figures table: what (citing the regulation it answers) and how many.
struct Figure {
    label: String,
    value: String,
}

fn figures(report: &AnnualReport) -> Vec<Figure> {
    let figure = |_item: &'static str, label: &str, value: String| Figure {
        label: label.to_string(),
        value,
    };
    let share = |s: &Share| format!("{} of {} ({})", s.met, s.total, percent(s.share));
    vec![
        figure(
            "received",
            "Complaints received (reg. 18(2)(a))",
            report.received.to_string(),
        ),
        figure(
            "well_founded",
            "Complaints decided to be well founded (reg. 18(2)(b))",
            report.well_founded.to_string(),
        ),
        figure(
            "referred_to_phso",
            "Complaints referred to the Parliamentary and Health Service Ombudsman (reg. 18(2)(c)(i))",
            report.referred_to_ombudsman.phso.to_string(),
        ),
        figure(
            "referred_to_lgsco",
            "Complaints referred to the Local Government and Social Care Ombudsman (reg. 18(2)(c)(ii))",
            report.referred_to_ombudsman.lgsco.to_string(),
        ),
        figure("upheld", "First responses: upheld", report.by_outcome.upheld.to_string()),
        figure(
            "partially_upheld",
            "First responses: partially upheld",
            report.by_outcome.partially_upheld.to_string(),
        ),
        figure(
            "not_upheld",
            "First responses: not upheld",
            report.by_outcome.not_upheld.to_string(),
        ),
        figure(
            "reviews_responded",
            "Internal reviews answered",
            report.reviews_responded.to_string(),
        ),
        figure(
            "outcome_changed_on_review",
            "Outcome changed on review",
            report.outcome_changed_on_review.to_string(),
        ),
        figure(
            "transferred_out",
            transferred_out_label(report.transfer_counting),
            report.transferred_out.to_string(),
        ),
        figure(
            "excluded",
            "Complaints excluded under reg. 8 (not counted above)",
            report.excluded.total.to_string(),
        ),
        figure(
            "oral_resolved_next_working_day",
            "Oral complaints resolved by the next working day (reg. 8(1)(c), not counted above)",
            report.oral_resolved_next_working_day.to_string(),
        ),
        figure(
            "contributed_to",
            "Joint complaints led by another body that this body took part in (reg. 9, not counted above)",
            report.contributed_to.to_string(),
        ),
        figure(
            "acknowledged_within_3_working_days",
            "Acknowledged within 3 working days",
            share(&report.acknowledged_within_3_working_days),
        ),
        figure(
            "responded_within_agreed_period",
            "Responded within the response period agreed with or notified to the complainant",
            share(&report.responded_within_agreed_period),
        ),
        figure(
            "responded_within_internal_target",
            "Responded within the internal target",
            share(&report.responded_within_internal_target),
        ),
    ]
}

/// The transferred-out figure's wording, which says whether it is part of `received` (R-AR-5).
fn transferred_out_label(counting: TransferCounting) -> &'static str {
    match counting {
        TransferCounting::ReportedApart => {
            "Complaints transferred out to the body they belong to (not counted as received)"
        }
        TransferCounting::WithinReceived => {
            "Of those received, transferred out to the body they belong to"
        }
    }
}

/// The CSV item of the transferred-out figure: `transferred_out` is never part of
/// `received`; the non-default setting names its subset apart so a reader cannot add it twice.
fn transferred_out_item(counting: TransferCounting) -> &'static str {
    match counting {
        TransferCounting::ReportedApart => "transferred_out",
        TransferCounting::WithinReceived => "transferred_out_of_received",
    }
}

/// A table of the report: CSV section, heading, and (code, count) rows.
type Table = (&'static str, &'static str, Vec<(String, u64)>);

fn tables(report: &AnnualReport) -> Vec<Table> {
    let rows = |map: &std::collections::BTreeMap<String, u64>| {
        map.iter().map(|(k, v)| (k.clone(), *v)).collect::<Vec<_>>()
    };
    vec![
        (
            "subject_area",
            "Subjects of complaints received (reg. 18(2)(d)(i))",
            rows(&report.by_subject_area),
        ),
        (
            "channel",
            "How complaints were made",
            rows(&report.by_channel),
        ),
        (
            "excluded_category",
            "Excluded complaints by reg. 8(1) category",
            rows(&report.excluded.by_category),
        ),
    ]
}

fn title(report: &AnnualReport) -> String {
    format!(
        "Complaints annual report {}: {}",
        report.label, report.organisation_id
    )
}

fn intro(report: &AnnualReport) -> String {
    format!(
        "Report under regulation 18 of the Local Authority Social Services and National Health Service Complaints (England) Regulations 2009 for the year {} to {}.",
        long_date(report.period_start),
        long_date(report.period_end)
    )
}

const LESSONS: &str = "Matters of general importance (reg. 18(2)(d)(ii))";
const ACTIONS: &str = "Actions taken or planned to improve services (reg. 18(2)(d)(iii))";

/// What a learning section says before its items: how many, and how many are shown
/// (R-AR-1: the report states what was learnt; the rest are on the full list).
fn learning_intro(summary: &LearningSummary) -> Option<String> {
    match (summary.total, summary.recent.len() as u64) {
        (0, _) => None,
        (total, shown) if shown >= total => Some(format!("{total} recorded in the year.")),
        (total, shown) => Some(format!(
            "{total} recorded in the year; the latest {shown} follow, newest first."
        )),
    }
}

/// Where the full list of lessons and actions is, when the report names only some.
fn full_list_note(report: &AnnualReport) -> Option<String> {
    let l = &report.learning;
    let shown = (l.lessons.recent.len() + l.actions.recent.len()) as u64;
    (l.total > shown).then(|| {
        format!(
            "Every lesson and action of the year ({}) is listed at {}.",
            l.total, l.full_list
        )
    })
}

fn item_text(item: &LearningItem) -> (String, String) {
    let when = match item.action_due_on {
        Some(due) => format!("{} (due {})", long_date(item.recorded_on), long_date(due)),
        None => long_date(item.recorded_on),
    };
    (when, item.summary.clone())
}

/// Escapes text for Markdown: characters with an inline meaning in CommonMark or in a pipe
/// table get a backslash, and line breaks become spaces. (Text never starts a line here:
/// it follows `# `, `| ` or `- `, so block markers need no escape.)
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// The report as Markdown.
pub fn markdown(report: &AnnualReport) -> String {
    let mut out = format!(
        "# {}\n\n{}\n\n## Complaints and their outcomes\n\n| Figure | Number |\n|---|---:|\n",
        escape_markdown(&title(report)),
        escape_markdown(&intro(report))
    );
    for f in figures(report) {
        out.push_str(&format!(
            "| {} | {} |\n",
            escape_markdown(&f.label),
            escape_markdown(&f.value)
        ));
    }
    for (_, heading, rows) in tables(report) {
        if rows.is_empty() && heading.starts_with("Excluded") {
            continue;
        }
        out.push_str(&format!("\n## {heading}\n\n"));
        if rows.is_empty() {
            out.push_str("None.\n");
            continue;
        }
        out.push_str("| | Complaints |\n|---|---:|\n");
        for (code, count) in rows {
            out.push_str(&format!(
                "| {} | {count} |\n",
                escape_markdown(&label(&code))
            ));
        }
    }
    for (heading, summary) in [
        (LESSONS, &report.learning.lessons),
        (ACTIONS, &report.learning.actions),
    ] {
        out.push_str(&format!("\n## {}\n\n", escape_markdown(heading)));
        match learning_intro(summary) {
            None => out.push_str("None recorded.\n"),
            Some(intro) => out.push_str(&format!("{}\n\n", escape_markdown(&intro))),
        }
        for item in &summary.recent {
            let (when, what) = item_text(item);
            out.push_str(&format!(
                "- {}: {}\n",
                escape_markdown(&when),
                escape_markdown(&what)
            ));
        }
    }
    if let Some(note) = full_list_note(report) {
        out.push_str(&format!("\n{}\n", escape_markdown(&note)));
    }
    out
}

/// The report as a self-contained HTML page.
pub fn html(report: &AnnualReport) -> String {
    let title = escape_html(&title(report));
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #999;padding:.3em .6em;text-align:left}}td.n{{text-align:right}}</style>\n\
         </head>\n<body>\n<h1>{title}</h1>\n<p>{}</p>\n<h2>Complaints and their outcomes</h2>\n\
         <table>\n<tr><th>Figure</th><th>Number</th></tr>\n",
        escape_html(&intro(report))
    );
    for f in figures(report) {
        out.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>\n",
            escape_html(&f.label),
            escape_html(&f.value)
        ));
    }
    out.push_str("</table>\n");
    for (_, heading, rows) in tables(report) {
        if rows.is_empty() && heading.starts_with("Excluded") {
            continue;
        }
        out.push_str(&format!("<h2>{}</h2>\n", escape_html(heading)));
        if rows.is_empty() {
            out.push_str("<p>None.</p>\n");
            continue;
        }
        out.push_str("<table>\n<tr><th></th><th>Complaints</th></tr>\n");
        for (code, count) in rows {
            out.push_str(&format!(
                "<tr><td>{}</td><td class=\"n\">{count}</td></tr>\n",
                escape_html(&label(&code))
            ));
        }
        out.push_str("</table>\n");
    }
    for (heading, summary) in [
        (LESSONS, &report.learning.lessons),
        (ACTIONS, &report.learning.actions),
    ] {
        out.push_str(&format!("<h2>{}</h2>\n", escape_html(heading)));
        let Some(intro) = learning_intro(summary) else {
            out.push_str("<p>None recorded.</p>\n");
            continue;
        };
        out.push_str(&format!("<p>{}</p>\n<ul>\n", escape_html(&intro)));
        for item in &summary.recent {
            let (when, what) = item_text(item);
            out.push_str(&format!(
                "<li><strong>{}</strong>: {}</li>\n",
                escape_html(&when),
                escape_html(&what)
            ));
        }
        out.push_str("</ul>\n");
    }
    if let Some(note) = full_list_note(report) {
        out.push_str(&format!("<p>{}</p>\n", escape_html(&note)));
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// The report's tables as CSV (RFC 4180, CRLF): `section,item,count`, sections `figure`
/// (shares as `met` and `total` items; `lessons` and `actions` count items 5 and 6, whose
/// text is in the other formats and on the full list), `subject_area`, `channel`,
/// `excluded_category`.
/// `transferred_out` is not counted in `received` (R-AR-5's documented default); under the
/// `within_received` setting the row is `transferred_out_of_received`, a subset of it.
pub fn csv(report: &AnnualReport) -> String {
    let mut out = String::from("section,item,count\r\n");
    let mut row = |section: &str, item: &str, count: u64| {
        out.push_str(&format!(
            "{},{},{count}\r\n",
            csv_field(section),
            csv_field(item)
        ));
    };
    let counts = [
        ("received", report.received),
        ("well_founded", report.well_founded),
        ("referred_to_phso", report.referred_to_ombudsman.phso),
        ("referred_to_lgsco", report.referred_to_ombudsman.lgsco),
        ("upheld", report.by_outcome.upheld),
        ("partially_upheld", report.by_outcome.partially_upheld),
        ("not_upheld", report.by_outcome.not_upheld),
        ("reviews_responded", report.reviews_responded),
        (
            "outcome_changed_on_review",
            report.outcome_changed_on_review,
        ),
        (
            transferred_out_item(report.transfer_counting),
            report.transferred_out,
        ),
        ("excluded", report.excluded.total),
        (
            "oral_resolved_next_working_day",
            report.oral_resolved_next_working_day,
        ),
        ("contributed_to", report.contributed_to),
        (
            "acknowledged_within_3_working_days_met",
            report.acknowledged_within_3_working_days.met,
        ),
        (
            "acknowledged_within_3_working_days_total",
            report.acknowledged_within_3_working_days.total,
        ),
        (
            "responded_within_agreed_period_met",
            report.responded_within_agreed_period.met,
        ),
        (
            "responded_within_agreed_period_total",
            report.responded_within_agreed_period.total,
        ),
        (
            "responded_within_internal_target_met",
            report.responded_within_internal_target.met,
        ),
        (
            "responded_within_internal_target_total",
            report.responded_within_internal_target.total,
        ),
        ("lessons", report.learning.lessons.total),
        ("actions", report.learning.actions.total),
    ];
    for (item, count) in counts {
        row("figure", item, count);
    }
    for (section, _, rows) in tables(report) {
        for (code, count) in rows {
            row(section, &code, count);
        }
    }
    out
}

/// The report in `format`.
pub fn render(report: &AnnualReport, format: Format) -> String {
    match format {
        Format::Markdown => markdown(report),
        Format::Html => html(report),
        Format::Csv => csv(report),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::models::reporting::annual::annual_report;

    fn report() -> AnnualReport {
        let mut report = annual_report("RAL", 2025, &[], &[], &[]);
        report.received = 12;
        report.well_founded = 5;
        report.referred_to_ombudsman.phso = 2;
        report
            .by_subject_area
            .insert("values_and_behaviours".into(), 4);
        report.learning.lessons.total = 1;
        report.learning.lessons.recent.push(LearningItem {
            kind: complaints_domain::LearningKind::Lesson,
            recorded_on: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
            summary: "Discharge letters <script>alert(1)</script> & \"copies\" | *now*".into(),
            action_due_on: None,
        });
        report.learning.actions.total = 1;
        report.learning.actions.recent.push(LearningItem {
            kind: complaints_domain::LearningKind::Action,
            recorded_on: NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
            summary: "Train ward staff, again".into(),
            action_due_on: NaiveDate::from_ymd_opt(2025, 9, 30),
        });
        report.learning.total = 2;
        report
    }

    #[test]
    fn r_ar_1_a_year_of_more_learning_than_the_report_names_says_how_much_and_where_it_is() {
        let mut r = report();
        r.learning.lessons.total = 138_000;
        r.learning.total = 138_001;
        let note = "Every lesson and action of the year (138001) is listed at \
                    /v1/reports/annual/lessons?organisation=RAL&year=2025.";
        let text = markdown(&r);
        assert!(
            text.contains("138000 recorded in the year; the latest 1 follow, newest first."),
            "{text}"
        );
        assert!(text.contains(&escape_markdown(note)), "{text}");
        let page = html(&r);
        assert!(page.contains(&escape_html(note)), "{page}");
        assert!(csv(&r).contains("figure,lessons,138000\r\n"));
        // Everything named: no pointer.
        assert!(!markdown(&report()).contains("is listed at"));
    }

    #[test]
    fn the_markdown_has_the_statutory_figures_subjects_and_learning() {
        let text = markdown(&report());
        assert!(text.starts_with("# Complaints annual report 2025-26: RAL"));
        assert!(text.contains("| Complaints received (reg. 18(2)(a)) | 12 |"));
        assert!(text.contains("| Values and behaviours | 4 |"));
        assert!(text.contains("1 June 2025: Discharge letters \\<script\\>"));
        assert!(text.contains("\\| \\*now\\*"), "{text}");
        assert!(text.contains("1 July 2025 (due 30 September 2025): Train ward staff, again"));
    }

    #[test]
    fn the_html_escapes_free_text() {
        let text = html(&report());
        assert!(!text.contains("<script>"));
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;copies&quot;"));
        assert!(text.contains("<td class=\"n\">12</td>"));
        assert!(text.contains("<title>Complaints annual report 2025-26: RAL</title>"));
    }

    #[test]
    fn the_csv_has_the_figures_and_tables() {
        let text = csv(&report());
        assert!(text.starts_with("section,item,count\r\n"));
        assert!(text.contains("figure,received,12\r\n"));
        assert!(text.contains("figure,referred_to_phso,2\r\n"));
        assert!(text.contains("subject_area,values_and_behaviours,4\r\n"));
        assert!(text.contains("figure,lessons,1\r\n"));
    }

    #[test]
    fn r_ar_5_the_documents_show_transferred_out_apart_from_received() {
        let mut r = report();
        r.transferred_out = 3;
        let label =
            "Complaints transferred out to the body they belong to (not counted as received)";
        assert!(markdown(&r).contains(&format!("| {label} | 3 |")));
        assert!(html(&r).contains(&format!("<tr><td>{label}</td><td class=\"n\">3</td></tr>")));
        let text = csv(&r);
        assert!(text.contains("figure,received,12\r\nfigure,well_founded"));
        assert!(text.contains("figure,transferred_out,3\r\n"));

        r.transfer_counting = TransferCounting::WithinReceived;
        assert!(markdown(&r)
            .contains("| Of those received, transferred out to the body they belong to | 3 |"));
        let text = csv(&r);
        assert!(text.contains("figure,transferred_out_of_received,3\r\n"));
        assert!(!text.contains("figure,transferred_out,"));
    }
}
