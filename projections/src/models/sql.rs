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

/// Column type of an instant: `TIMESTAMPTZ` on PostgreSQL (readable by BI tools as a
/// timestamp), RFC 3339 text in UTC on SQLite.
pub(crate) fn timestamp_type(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "TIMESTAMPTZ",
        Backend::Sqlite => "TEXT",
    }
}

/// `column` as RFC 3339 text in UTC with microseconds (`2026-04-02T10:00:00.000000Z`), the
/// form SQLite stores, decoded the same on both backends.
pub(crate) fn timestamp_text(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Postgres => {
            format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        }
        Backend::Sqlite => column.to_string(),
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
