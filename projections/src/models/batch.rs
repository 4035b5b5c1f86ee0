//! Set-based writes and reads for the consumers: a batch's rows go in one statement per
//! table (chunked only under SQLite's bind limit), never one round trip per row.
//!
//! PostgreSQL binds one array per column (`UNNEST`, `= ANY`), so a statement's text is the
//! same whatever the batch holds and stays prepared. SQLite has no arrays: it gets a
//! multi-row `VALUES` or an `IN` list of bound parameters, chunked.

use chrono::NaiveDate;
use complaints_eventlog::Tx;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, QueryBuilder, Sqlite};

/// SQLite's default limit on bound parameters per statement (since 3.32).
const SQLITE_MAX_BINDS: usize = 32_766;

/// One value of a row to write; the variant fixes the column's type.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// `TEXT`.
    Text(Option<String>),
    /// `BIGINT`.
    Int(i64),
    /// `DATE` on PostgreSQL, ISO text on SQLite.
    Date(Option<NaiveDate>),
    /// `TIMESTAMPTZ` on PostgreSQL, RFC 3339 text on SQLite; carried as that text.
    Timestamp(Option<String>),
}

impl Value {
    /// An instant given as RFC 3339 text.
    pub(crate) fn timestamp(rfc3339: &str) -> Self {
        Value::Timestamp(Some(rfc3339.to_string()))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(Some(v.clone()))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_string()))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Self {
        Value::Date(Some(v))
    }
}

impl From<Option<NaiveDate>> for Value {
    fn from(v: Option<NaiveDate>) -> Self {
        Value::Date(v)
    }
}

/// The values of one column across rows, for an `UNNEST` array parameter.
enum Column {
    Text(Vec<Option<String>>),
    Int(Vec<i64>),
    Date(Vec<Option<NaiveDate>>),
    Timestamp(Vec<Option<String>>),
}

impl Column {
    fn of(first: &Value, capacity: usize) -> Self {
        match first {
            Value::Text(_) => Column::Text(Vec::with_capacity(capacity)),
            Value::Int(_) => Column::Int(Vec::with_capacity(capacity)),
            Value::Date(_) => Column::Date(Vec::with_capacity(capacity)),
            Value::Timestamp(_) => Column::Timestamp(Vec::with_capacity(capacity)),
        }
    }

    fn cast(&self) -> &'static str {
        match self {
            Column::Text(_) => "text[]",
            Column::Int(_) => "int8[]",
            Column::Date(_) => "date[]",
            // Bound as text; PostgreSQL parses each element.
            Column::Timestamp(_) => "timestamptz[]",
        }
    }

    fn push(&mut self, value: Value) -> Result<(), sqlx::Error> {
        match (self, value) {
            (Column::Text(c), Value::Text(v)) => c.push(v),
            (Column::Int(c), Value::Int(v)) => c.push(v),
            (Column::Date(c), Value::Date(v)) => c.push(v),
            (Column::Timestamp(c), Value::Timestamp(v)) => c.push(v),
            (_, value) => {
                return Err(sqlx::Error::Protocol(format!(
                    "a multi-row write mixes types in one column: {value:?}"
                )))
            }
        }
        Ok(())
    }
}

/// Writes `rows` (each one value per name in `columns`, in order) into `table` with
/// `suffix` (an `ON CONFLICT …` clause, or empty) after the rows: one statement on
/// PostgreSQL, one per chunk under the bind limit on SQLite.
pub(crate) async fn insert_rows(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    suffix: &str,
) -> Result<(), sqlx::Error> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    if first.len() != columns.len() || rows.iter().any(|r| r.len() != columns.len()) {
        return Err(sqlx::Error::Protocol(format!(
            "a multi-row write into {table} has rows of the wrong width"
        )));
    }
    let names = columns.join(", ");
    match tx {
        Tx::Postgres(t) => {
            let mut arrays: Vec<Column> = first.iter().map(|v| Column::of(v, rows.len())).collect();
            for row in rows {
                for (column, value) in arrays.iter_mut().zip(row) {
                    column.push(value)?;
                }
            }
            let params = arrays
                .iter()
                .enumerate()
                .map(|(i, c)| format!("${}::{}", i + 1, c.cast()))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO {table} ({names}) SELECT * FROM UNNEST({params}) AS v({names}) {suffix}"
            );
            let mut query = sqlx::query(&sql);
            for column in arrays {
                query = match column {
                    Column::Text(v) => query.bind(v),
                    Column::Int(v) => query.bind(v),
                    Column::Date(v) => query.bind(v),
                    Column::Timestamp(v) => query.bind(v),
                };
            }
            query.execute(&mut **t).await?;
        }
        Tx::Sqlite(t) => {
            let per_statement = SQLITE_MAX_BINDS / columns.len();
            let mut rest = rows;
            while !rest.is_empty() {
                let later = rest.split_off(per_statement.min(rest.len()));
                let chunk = std::mem::replace(&mut rest, later);
                let mut query =
                    QueryBuilder::<Sqlite>::new(format!("INSERT INTO {table} ({names}) "));
                query.push_values(chunk, |mut b, row| {
                    for value in row {
                        match value {
                            Value::Text(v) => b.push_bind(v),
                            Value::Int(v) => b.push_bind(v),
                            Value::Date(v) => b.push_bind(v),
                            Value::Timestamp(v) => b.push_bind(v),
                        };
                    }
                });
                query.push(" ").push(suffix);
                // Its text changes with the row count: keep it out of the statement cache.
                query.build().persistent(false).execute(&mut **t).await?;
            }
        }
    }
    Ok(())
}

/// Runs `head` (a statement ending in `WHERE <column>`) for the rows whose column is one
/// of `ids`, returning what it selects: `= ANY($1)` on PostgreSQL, an `IN` list per chunk
/// under the bind limit on SQLite.
pub(crate) async fn fetch_in<T>(
    tx: &mut Tx,
    head: &str,
    ids: &[String],
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    match tx {
        Tx::Postgres(t) => {
            sqlx::query_as(&format!("{head} = ANY($1)"))
                .bind(ids)
                .fetch_all(&mut **t)
                .await
        }
        Tx::Sqlite(t) => {
            let mut out = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(SQLITE_MAX_BINDS) {
                let mut query = in_list(head, chunk);
                out.extend(
                    query
                        .build_query_as::<T>()
                        .persistent(false)
                        .fetch_all(&mut **t)
                        .await?,
                );
            }
            Ok(out)
        }
    }
}

/// Runs `head` (a statement ending in `WHERE <column>`, such as a `DELETE`) for the rows
/// whose column is one of `ids`, as [`fetch_in`] selects them.
pub(crate) async fn execute_in(tx: &mut Tx, head: &str, ids: &[String]) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    match tx {
        Tx::Postgres(t) => {
            sqlx::query(&format!("{head} = ANY($1)"))
                .bind(ids)
                .execute(&mut **t)
                .await?;
        }
        Tx::Sqlite(t) => {
            for chunk in ids.chunks(SQLITE_MAX_BINDS) {
                in_list(head, chunk)
                    .build()
                    .persistent(false)
                    .execute(&mut **t)
                    .await?;
            }
        }
    }
    Ok(())
}

fn in_list<'a>(head: &str, ids: &'a [String]) -> QueryBuilder<'a, Sqlite> {
    let mut query = QueryBuilder::<Sqlite>::new(format!("{head} IN ("));
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(id.as_str());
    }
    list.push_unseparated(")");
    query
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;

    #[tokio::test]
    async fn sqlite_writes_reads_and_deletes_past_its_bind_limit_in_chunks() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT NOT NULL, day TEXT)")
            .execute(&pool)
            .await
            .unwrap();
        let mut tx = Tx::Sqlite(pool.begin().await.unwrap());
        // More ids than one IN list holds, so every path takes more than one statement.
        let n = SQLITE_MAX_BINDS + 5;
        let ids: Vec<String> = (0..n).map(|i| format!("c{i:06}")).collect();
        let day = NaiveDate::from_ymd_opt(2026, 12, 3);
        let rows = |k: i64| -> Vec<Vec<Value>> {
            ids.iter()
                .map(|id| vec![Value::from(id), Value::from(k), Value::from(day)])
                .collect()
        };
        let columns = ["id", "n", "day"];
        insert_rows(&mut tx, "t", &columns, rows(1), "")
            .await
            .unwrap();
        let upsert = "ON CONFLICT (id) DO UPDATE SET n = excluded.n";
        insert_rows(&mut tx, "t", &columns, rows(2), upsert)
            .await
            .unwrap();
        let read: Vec<(String, i64, String)> =
            fetch_in(&mut tx, "SELECT id, n, day FROM t WHERE id", &ids)
                .await
                .unwrap();
        assert_eq!(read.len(), n);
        assert!(read.iter().all(|(_, k, d)| *k == 2 && d == "2026-12-03"));
        execute_in(&mut tx, "DELETE FROM t WHERE id", &ids[..n - 1])
            .await
            .unwrap();
        let left: Vec<(String,)> = fetch_in(&mut tx, "SELECT id FROM t WHERE id", &ids)
            .await
            .unwrap();
        assert_eq!(left, vec![(ids[n - 1].clone(),)]);
    }
}
