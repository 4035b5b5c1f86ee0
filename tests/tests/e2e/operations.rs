//! What an operator relies on: the reporting views survive rebuilds with their grants and
//! the views BI teams built on them, the data dictionary matches the views, and the log
//! moves between backends through `export-log` / `import-log` unchanged.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use complaints_domain::*;
use complaints_eventlog::{Backend as DbBackend, Consumer, Pool, Runner, ViewDoc};
use complaints_gateway::{Cases, CommandContext};
use complaints_projections::models::case_views::CaseViews;
use complaints_projections::models::reporting::Reporting;
use complaints_tests::{minimal_complaint, Backend, TestDatabase};
use std::path::Path;
use std::sync::Arc;

fn context() -> CommandContext {
    CommandContext {
        actor: "writer".into(),
        role: "caseworker".into(),
        organisation_id: "RAL".into(),
        command_id: None,
        fingerprint: "fp".into(),
        correlation_id: "c".into(),
        causation_id: None,
        issued_at: chrono::Utc::now(),
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
    }
}

/// `n` complaints, every other one acknowledged, every third closed.
async fn write_complaints(cases: &Cases, n: usize) {
    for i in 0..n {
        let id = uuid::Uuid::new_v4().to_string();
        let receive = ComplaintAction::Receive(
            serde_json::from_value(minimal_complaint("RAL", "2026-04-02")).unwrap(),
        );
        cases.execute(&id, receive, &context(), None).await.unwrap();
        if i % 2 == 0 {
            let ack = ComplaintAction::Acknowledge(AcknowledgeComplaint {
                acknowledged_on: NaiveDate::from_ymd_opt(2026, 4, 7).unwrap(),
                discussion_offered: true,
            });
            cases.execute(&id, ack, &context(), None).await.unwrap();
        }
        if i % 3 == 0 {
            let close = ComplaintAction::Close(CloseComplaint {
                closed_on: NaiveDate::from_ymd_opt(2026, 4, 20).unwrap(),
                reason: ClosureReason::Withdrawn,
                exclusion_category: None,
                transferred_to: None,
                receiver_received_on: None,
                complainant_consented: None,
            });
            cases.execute(&id, close, &context(), None).await.unwrap();
        }
    }
}

async fn scalar_i64(pool: &Pool, sql: &str) -> i64 {
    let Pool::Postgres(pg) = pool else {
        unreachable!()
    };
    sqlx::query_scalar(sql).fetch_one(pg).await.unwrap()
}

#[tokio::test]
async fn a_bi_view_and_grants_on_the_reporting_views_survive_a_rebuild() {
    let Some(db) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let cases = Cases::new(db.event_log().await, ComplaintServices::standard());
    write_complaints(&cases, 12).await;
    let pool = cases.log().pool().clone();
    let case_views = Arc::new(CaseViews::new(ComplaintServices::standard()));
    Runner::new(pool.clone(), case_views.clone())
        .catch_up()
        .await
        .unwrap();
    let Pool::Postgres(pg) = &pool else {
        unreachable!()
    };

    // A BI team's own view on the interface, and a read-only role granted the view only.
    let role = format!("bi_{}", uuid::Uuid::new_v4().simple());
    for sql in [
        "CREATE VIEW bi_open_cases AS SELECT complaint_id, status, received_on FROM rm_case_list WHERE closed_on IS NULL".to_string(),
        format!("CREATE ROLE {role} NOLOGIN"),
        format!("GRANT SELECT ON rm_case_list, rm_deadlines, bi_open_cases TO {role}"),
    ] {
        sqlx::query(&sql).execute(pg).await.unwrap();
    }
    let open_before = scalar_i64(&pool, "SELECT count(*) FROM bi_open_cases").await;
    assert_eq!(open_before, 8);
    let oid_before = scalar_i64(&pool, "SELECT 'rm_case_list'::regclass::oid::bigint").await;

    let check = async {
        let rebuilt = complaints_eventlog::rebuild(&pool, case_views.as_ref(), &|_, _| {}).await;
        rebuilt.unwrap();
        // Rebuilt twice: generation 3, the tables of generations 1 and 2 dropped.
        complaints_eventlog::rebuild(&pool, case_views.as_ref(), &|_, _| {})
            .await
            .unwrap();
        assert_eq!(
            scalar_i64(&pool, "SELECT count(*) FROM bi_open_cases").await,
            open_before,
            "the BI view answers after the rebuilds"
        );
        assert_eq!(
            scalar_i64(&pool, "SELECT 'rm_case_list'::regclass::oid::bigint").await,
            oid_before,
            "the view was replaced in place, not dropped"
        );
        let stale: i64 = scalar_i64(
            &pool,
            "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace \
             AND relname IN ('rm_case_list_g1', 'rm_case_list_g2')",
        )
        .await;
        assert_eq!(stale, 0, "old generations are dropped");
        let granted: bool = sqlx::query_scalar(&format!(
            "SELECT has_table_privilege('{role}', 'rm_case_list', 'SELECT') \
                AND has_table_privilege('{role}', 'rm_deadlines', 'SELECT') \
                AND has_table_privilege('{role}', 'bi_open_cases', 'SELECT')"
        ))
        .fetch_one(pg)
        .await
        .unwrap();
        assert!(granted, "the grants survive the rebuild");
        let (view_comment, column_comment): (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT obj_description('rm_case_list'::regclass, 'pg_class'), \
                    col_description('rm_case_list'::regclass, 3)",
        )
        .fetch_one(pg)
        .await
        .unwrap();
        assert!(view_comment
            .unwrap()
            .starts_with("One row per received complaint"));
        assert!(column_comment.unwrap().starts_with("Status code"));
        // The role reads the view through it alone: the generation tables are not granted.
        let table_granted: bool = sqlx::query_scalar(&format!(
            "SELECT has_table_privilege('{role}', 'rm_case_list_g3', 'SELECT')"
        ))
        .fetch_one(pg)
        .await
        .unwrap();
        assert!(!table_granted);
    };
    let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(check)).await;
    // Roles are cluster-wide: remove it whatever happened.
    let _ = sqlx::query(&format!("DROP OWNED BY {role}"))
        .execute(pg)
        .await;
    let _ = sqlx::query(&format!("DROP ROLE IF EXISTS {role}"))
        .execute(pg)
        .await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

// --- the data dictionary ---------------------------------------------------------------

/// Splits a `CREATE TABLE` body into its column entries (constraints left out):
/// `(name, type, required)`.
fn columns_of(body: &str) -> Vec<(String, String, bool)> {
    let mut parts = Vec::new();
    let (mut depth, mut current) = (0, String::new());
    for c in body.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
        .iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>())
        .filter(|words| {
            !words.is_empty()
                && !["PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "CONSTRAINT"].contains(&words[0])
        })
        .map(|words| {
            let rest = words[2..].join(" ").to_uppercase();
            (
                words[0].to_string(),
                words[1].to_string(),
                rest.contains("NOT NULL") || rest.contains("PRIMARY KEY"),
            )
        })
        .collect()
}

/// A code list of `domain/src/reference.rs`: name, description, `(code, label)`.
type CodeList = (String, String, Vec<(String, String)>);

/// Reads the code lists from the source of `domain/src/reference.rs`, the same definitions
/// the domain compiles (the labels are the variants' doc comments).
fn code_lists(source: &str) -> Vec<CodeList> {
    let mut lists = Vec::new();
    let mut lines = source.lines().map(str::trim).peekable();
    while let Some(line) = lines.next() {
        if line != "code_list! {" {
            continue;
        }
        let mut about = Vec::new();
        let mut name = String::new();
        for line in lines.by_ref() {
            if let Some(doc) = line.strip_prefix("///") {
                about.push(doc.trim().to_string());
            } else {
                name = line.split(',').next().unwrap_or_default().to_string();
                break;
            }
        }
        let mut codes = Vec::new();
        let mut label = Vec::new();
        for line in lines.by_ref() {
            if line == "}" {
                break;
            }
            if let Some(doc) = line.strip_prefix("///") {
                label.push(doc.trim().to_string());
            } else if let Some((_, rest)) = line.split_once('=') {
                let code = rest
                    .trim()
                    .split('"')
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                let text = label.join(" ");
                codes.push((code, text.trim_end_matches('.').to_string()));
                label.clear();
            }
        }
        lists.push((name, about.join(" "), codes));
    }
    lists
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn data_dictionary() -> String {
    let services = ComplaintServices::standard();
    let consumers: Vec<Box<dyn Consumer>> = vec![
        Box::new(CaseViews::new(services.clone())),
        Box::new(Reporting::new(services)),
    ];
    let mut out = String::from(
        "# Data dictionary\n\n\
         <!-- Generated by tests/tests/e2e/operations.rs from the read models' table definitions and\n\
         \x20    descriptions (projections/src/models/comments.rs) and domain/src/reference.rs.\n\
         \x20    Regenerate: UPDATE_DATA_DICTIONARY=1 cargo test -p complaints-tests --test e2e operations:: -->\n\n\
         The reporting interface: views named after the read models' tables, each pointing at\n\
         the live generation of its table. A rebuild replaces them in place on PostgreSQL\n\
         (`CREATE OR REPLACE VIEW`), so grants on them and views built on them survive; the\n\
         same descriptions are on the database as `COMMENT ON VIEW` / `COMMENT ON COLUMN`\n\
         (`\\d+ rm_case_list` in psql). Grant a reporting role `SELECT` on the views only,\n\
         never on the `*_g<N>` tables behind them (docs/OPERATIONS.md, \"Reporting views\").\n\n\
         Dates are `DATE` on PostgreSQL and `YYYY-MM-DD` text on SQLite. Code lists are stored\n\
         comma-wrapped (`,a,b,`), so `subject_areas LIKE '%,communications,%'` finds one code\n\
         exactly. Timestamps (`*_at`) are RFC 3339 text in UTC. A column marked *required* is\n\
         never null.\n\n\
         The audit chain (`audit_chain`) is documented with its byte formats in\n\
         `schemas/` and `audit/src/canonical.rs`.\n",
    );
    for consumer in &consumers {
        let docs: Vec<ViewDoc> = consumer.docs();
        for table in consumer.tables() {
            let doc = docs
                .iter()
                .find(|d| d.view == table.base)
                .unwrap_or_else(|| panic!("no description of view {}", table.base));
            let pg = columns_of(&(table.columns)(DbBackend::Postgres));
            let lite = columns_of(&(table.columns)(DbBackend::Sqlite));
            let names: Vec<&str> = pg.iter().map(|c| c.0.as_str()).collect();
            let described: Vec<&str> = doc.columns.iter().map(|c| c.0).collect();
            assert_eq!(
                names, described,
                "projections/src/models/comments.rs describes {}'s columns {described:?} but the table has {names:?}",
                table.base
            );
            out.push_str(&format!(
                "\n## `{}`\n\n{} Consumer `{}`.\n\n| column | PostgreSQL | SQLite | required | meaning |\n|---|---|---|---|---|\n",
                table.base,
                doc.about,
                consumer.name()
            ));
            for ((name, pg_type, required), (_, lite_type, _)) in pg.iter().zip(&lite) {
                let meaning = doc
                    .columns
                    .iter()
                    .find(|c| c.0 == name)
                    .map(|c| c.1)
                    .unwrap_or_default();
                out.push_str(&format!(
                    "| `{name}` | {pg_type} | {lite_type} | {} | {} |\n",
                    if *required { "yes" } else { "" },
                    cell(meaning)
                ));
            }
        }
    }
    let source_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../domain/src/reference.rs");
    let source = std::fs::read_to_string(source_path).unwrap();
    let lists = code_lists(&source);
    assert!(lists.len() >= 10, "code lists not found in reference.rs");
    out.push_str(
        "\n# Code lists\n\nThe codes the columns hold and what they mean (from `domain/src/reference.rs`).\n",
    );
    for (name, about, codes) in lists {
        out.push_str(&format!(
            "\n## {name}\n\n{about}\n\n| code | label |\n|---|---|\n"
        ));
        for (code, label) in codes {
            out.push_str(&format!("| `{code}` | {} |\n", cell(&label)));
        }
    }
    out
}

#[test]
fn the_data_dictionary_describes_every_view_and_column() {
    let generated = data_dictionary();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/DATA-DICTIONARY.md");
    if std::env::var_os("UPDATE_DATA_DICTIONARY").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "docs/DATA-DICTIONARY.md is out of date: run \
         UPDATE_DATA_DICTIONARY=1 cargo test -p complaints-tests --test e2e operations::"
    );
}

// --- export-log / import-log -------------------------------------------------------------

/// Every row of `rm_case_list`, each column as text, in complaint-id order.
async fn case_list_rows(pool: &Pool) -> Vec<Vec<Option<String>>> {
    let columns = [
        "complaint_id",
        "organisation_id",
        "status",
        "stage",
        "channel",
        "subject_areas",
        "service_area",
        "risk_rating",
        "received_on",
        "acknowledged_on",
        "closed_on",
        "closure_reason",
        "flags",
        "last_activity_at",
        "version",
    ];
    // Instants compare in the text form SQLite stores them in.
    let select: Vec<String> = columns
        .iter()
        .map(|c| match (*c, pool.backend()) {
            ("last_activity_at", complaints_eventlog::Backend::Postgres) => {
                format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
            }
            _ => format!("CAST({c} AS TEXT)"),
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM rm_case_list ORDER BY complaint_id",
        select.join(", ")
    );
    let rows = complaints_eventlog::on_pool!(pool, |p| {
        use sqlx::Row;
        sqlx::query(&sql)
            .fetch_all(p)
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                (0..columns.len())
                    .map(|i| r.try_get::<Option<String>, _>(i).unwrap())
                    .collect()
            })
            .collect::<Vec<Vec<Option<String>>>>()
    });
    rows
}

#[tokio::test]
async fn sqlite_to_file_to_postgres_gives_equal_read_models_and_a_verifying_chain() {
    let Some(target) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let source = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let services = ComplaintServices::standard();
    let cases = Cases::new(source.event_log().await, services.clone());
    write_complaints(&cases, 150).await;
    let source_pool = cases.log().pool().clone();
    for consumer in complaints_gateway::app::consumers::projections(&services) {
        Runner::new(source_pool.clone(), consumer)
            .catch_up()
            .await
            .unwrap();
    }
    let file = source.dir.path().join("log.ndjson");
    let exported = complaints_gateway::cli::export_log::export_log(&source_pool, &file)
        .await
        .unwrap();
    assert_eq!(
        exported.count as i64,
        complaints_tests::count_events(&source_pool).await
    );
    eprintln!("{exported}");

    // A tampered copy is refused before anything is written.
    let text = std::fs::read_to_string(&file).unwrap();
    let tampered = source.dir.path().join("tampered.ndjson");
    std::fs::write(&tampered, text.replacen("2026-04-02", "2026-04-03", 1)).unwrap();
    let target_cases = Cases::new(target.event_log().await, services.clone());
    let target_pool = target_cases.log().pool().clone();
    complaints_gateway::app::consumers::prepare(&target_pool, &services)
        .await
        .unwrap();
    let refused =
        complaints_gateway::cli::import_log::import_log(&target_pool, &services, &tampered)
            .await
            .unwrap_err();
    assert!(
        refused.to_string().contains("chain recomputed"),
        "{refused}"
    );
    // So is a file cut short (no manifest) or whose manifest does not match.
    let cut = source.dir.path().join("cut.ndjson");
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&cut, lines[..lines.len() - 1].join("\n") + "\n").unwrap();
    let refused = complaints_gateway::cli::import_log::import_log(&target_pool, &services, &cut)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("no manifest"), "{refused}");
    let short = source.dir.path().join("short.ndjson");
    let mut kept: Vec<&str> = lines[..lines.len() - 2].to_vec();
    kept.push(lines[lines.len() - 1]);
    std::fs::write(&short, kept.join("\n") + "\n").unwrap();
    let refused = complaints_gateway::cli::import_log::import_log(&target_pool, &services, &short)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("does not match its manifest"),
        "{refused}"
    );
    assert_eq!(complaints_tests::count_events(&target_pool).await, 0);

    let imported = complaints_gateway::cli::import_log::import_log(&target_pool, &services, &file)
        .await
        .unwrap();
    eprintln!("{imported}");
    assert_eq!(imported.count, exported.count);
    // The read models follow the log in commit-safe order: a transaction another test holds
    // open on the shared server can hold the rebuild's view back, so catch up until equal.
    let expected = case_list_rows(&source_pool).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while case_list_rows(&target_pool).await != expected && std::time::Instant::now() < deadline {
        for consumer in complaints_gateway::app::consumers::projections(&services) {
            Runner::new(target_pool.clone(), consumer)
                .catch_up()
                .await
                .unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(case_list_rows(&target_pool).await, expected);
    assert_eq!(case_list_rows(&target_pool).await.len(), 150);
    complaints_audit::verify(&target_pool, &[], None, &|_, _| {})
        .await
        .unwrap();
    let source_head = complaints_audit::sealer::head(&source_pool)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        imported.head_link.as_deref(),
        Some(source_head.link_hash.as_str())
    );

    // A second import into the now non-empty log is refused; new commands carry on after
    // the imported positions.
    let again = complaints_gateway::cli::import_log::import_log(&target_pool, &services, &file)
        .await
        .unwrap_err();
    assert!(again.to_string().contains("empty"), "{again}");
    write_complaints(&target_cases, 1).await;
    assert_eq!(
        complaints_tests::count_events(&target_pool).await,
        exported.count as i64 + 3
    );
}

/// A gateway role that may only read the tables and append to the log starts with
/// `COMPLAINTS_MIGRATE=false`: it checks the owner's migrations are applied instead of
/// running the migrator, whose first statement needs `CREATE` on the schema.
#[tokio::test]
async fn a_gateway_role_without_create_checks_the_migrations_instead_of_running_them() {
    let Some(base) = complaints_testkit::postgres_base_url().await else {
        return;
    };
    let url = complaints_testkit::fresh_schema(&base).await;
    let schema = url.rsplit("search_path%3D").next().unwrap().to_string();
    // An empty schema: nothing applied, and the check says what to run.
    let owner = complaints_eventlog::EventLog::connect(&complaints_eventlog::Database::Postgres(
        url.clone(),
    ))
    .await
    .unwrap();
    let unmigrated = owner.check_migrated().await.unwrap_err().to_string();
    assert!(unmigrated.contains("complaints migrate"), "{unmigrated}");
    owner.migrate().await.unwrap();
    owner.check_migrated().await.unwrap();

    let role = format!("t_gw_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    for statement in [
        format!("CREATE ROLE {role} LOGIN"),
        format!("GRANT USAGE ON SCHEMA {schema} TO {role}"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}"),
        format!("GRANT INSERT ON {schema}.events TO {role}"),
    ] {
        sqlx::query(&statement).execute(&admin).await.unwrap();
    }
    let as_gateway = url.replacen("://postgres@", &format!("://{role}@"), 1);
    assert_ne!(
        as_gateway, url,
        "the test expects the base URL's user to be postgres"
    );
    let gateway = complaints_eventlog::EventLog::connect(&complaints_eventlog::Database::Postgres(
        as_gateway,
    ))
    .await
    .unwrap();
    let checked = gateway.check_migrated().await;
    let migrated = gateway.migrate().await;
    drop(gateway);
    for statement in [format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")] {
        let _ = sqlx::query(&statement).execute(&admin).await;
    }
    checked.unwrap();
    assert!(migrated.is_err(), "the migrator needs CREATE on the schema");
}
