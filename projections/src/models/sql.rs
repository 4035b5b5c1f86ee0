//! SQL pieces the read models share, so one statement serves both backends.

use complaints_eventlog::Backend;

/// Column type of a calendar date: `DATE` on PostgreSQL (readable by BI tools), ISO text
/// on SQLite.
pub(crate) fn date_type(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "DATE",
        Backend::Sqlite => "TEXT",
    }
}

/// `column` as `YYYY-MM-DD` text, comparable as text and decoded the same on both backends.
pub(crate) fn date_text(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Postgres => format!("to_char({column}, 'YYYY-MM-DD')"),
        Backend::Sqlite => column.to_string(),
    }
}

/// A list of codes stored comma-wrapped (`,a,b,`), so `LIKE '%,a,%'` finds one exactly.
pub(crate) fn codes_column(codes: &[String]) -> String {
    format!(",{},", codes.join(","))
}

/// The codes of a comma-wrapped column.
pub(crate) fn parse_codes(raw: &str) -> Vec<String> {
    raw.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
