//! The bulk load (`complaints simulate --via bulk`, `EventLog::append_new_streams`) against
//! the path every command takes (`--via log`, a transaction per command): the same
//! workload must give the same complaints, event for event, with personal fields sealed
//! under the same kind of keys, and a stream that already exists must refuse the batch.
#![allow(clippy::unwrap_used)]

use complaints_domain::ComplaintServices;
use complaints_eventlog::crypto::{Encryption, LocalKek};
use complaints_eventlog::{on_pool, EventLogError, NewStream, Pool, Runner};
use complaints_gateway::app::consumers::{self, ChainGuard};
use complaints_gateway::cli::simulate::{self, SimulateArgs, Via, Workload};
use complaints_gateway::cli::simulate_bulk;
use complaints_gateway::Cases;
use complaints_tests::{on_both_backends, Backend, TestDatabase};
use std::sync::Arc;

fn workload_args(via: Via) -> SimulateArgs {
    SimulateArgs {
        seed: 11,
        complaints: 150,
        years: 1.0,
        organisations: 6,
        via,
        url: None,
        token: None,
        clients: 2,
        until: chrono::NaiveDate::from_ymd_opt(2026, 11, 30),
        print_organisations: false,
        quiet: true,
    }
}

async fn open(db: &TestDatabase) -> Arc<Cases> {
    let encryption = Arc::new(Encryption::new(
        Arc::new(LocalKek::from_secret(
            b"bulk-kek-bulk-kek-bulk-kek-bulk-kek",
        )),
        b"bulk-subject-secret".to_vec(),
    ));
    Arc::new(Cases::new(
        db.event_log().await.with_encryption(encryption),
        ComplaintServices::standard(),
    ))
}

async fn scalar(pool: &Pool, sql: &str) -> i64 {
    on_pool!(pool, |p| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(p)
        .await
        .unwrap())
}

async fn texts(pool: &Pool, sql: &str) -> Vec<String> {
    on_pool!(pool, |p| sqlx::query_scalar::<_, String>(sql)
        .fetch_all(p)
        .await
        .unwrap())
}

on_both_backends! {
    async fn a_bulk_load_writes_what_a_command_at_a_time_writes_and_seals_it(backend: Backend) {
        let Some(one_by_one) = TestDatabase::create(backend).await else { return };
        let Some(in_bulk) = TestDatabase::create(backend).await else { return };
        let (by_command, bulk) = (open(&one_by_one).await, open(&in_bulk).await);
        let args = workload_args(Via::Log);
        let workload = Arc::new(Workload::new(&args, ComplaintServices::standard()));
        let expected = simulate::load_via_log(by_command.clone(), workload.clone(), 150, 2, true)
            .await
            .unwrap();
        let loaded = simulate_bulk::load_in_bulk(bulk.clone(), workload, 150, 2, true)
            .await
            .unwrap();
        assert_eq!(loaded.complaints, 150);
        assert_eq!(loaded.events, expected.events, "events decided");
        assert_eq!(loaded.refused, expected.refused, "refusals");

        let (a, b) = (by_command.log().pool(), bulk.log().pool());
        let ids = texts(a, "SELECT DISTINCT aggregate_id FROM events ORDER BY aggregate_id").await;
        assert_eq!(ids.len(), 150);
        assert_eq!(ids, texts(b, "SELECT DISTINCT aggregate_id FROM events ORDER BY aggregate_id").await);
        let mut people_seen = 0;
        for id in &ids {
            let (want, got) = (
                by_command.log().load(id).await.unwrap(),
                bulk.log().load(id).await.unwrap(),
            );
            assert_eq!(want.len(), got.len(), "{id}: event count");
            for (w, g) in want.iter().zip(&got) {
                assert_eq!(w.sequence, g.sequence);
                assert_eq!(w.payload, g.payload, "{id}:{} opened payload", w.sequence);
                // Fingerprints are keyed with each deployment's own secret; all else is equal.
                let fingerprint = complaints_eventlog::metadata::COMMAND_FINGERPRINT;
                let (mut want_meta, mut got_meta) = (w.metadata.clone(), g.metadata.clone());
                let (want_fp, got_fp) = (want_meta.remove(fingerprint), got_meta.remove(fingerprint));
                assert_eq!(want_meta, got_meta, "{id}:{} metadata", w.sequence);
                assert!(got_fp.is_some_and(|f| f.len() == 64 && Some(&f) != want_fp.as_ref()), "{id}:{} fingerprint", w.sequence);
                // The name given on receipt is readable through the log and nowhere in the
                // stored rows.
                let opened = serde_json::to_value(&g.payload).unwrap();
                let name = opened.pointer("/ComplaintReceived/particulars/complainant/name");
                if let Some(name) = name.and_then(|n| n.as_str()) {
                    people_seen += 1;
                    let like = format!(
                        "SELECT count(*) FROM events WHERE CAST(payload AS TEXT) LIKE '%{}%'",
                        name.replace('\'', "''")
                    );
                    assert_eq!(scalar(b, &like).await, 0, "{name} stored in clear");
                }
            }
        }
        assert!(people_seen > 100, "only {people_seen} named complainants checked");
        for table in ["data_subject_keys", "data_subject_complaints"] {
            let sql = format!("SELECT count(*) FROM {table}");
            assert_eq!(scalar(a, &sql).await, scalar(b, &sql).await, "{table} rows");
        }
        assert!(scalar(b, "SELECT count(*) FROM data_subject_keys").await >= 150);

        // A batch naming a complaint that exists is refused whole.
        let before = scalar(b, "SELECT count(*) FROM events").await;
        let existing = bulk.log().load(&ids[0]).await.unwrap();
        let again = vec![
            NewStream {
                complaint_id: uuid::Uuid::new_v4().to_string(),
                events: existing.iter().map(|e| (e.payload.clone(), e.metadata.clone())).collect(),
            },
            NewStream {
                complaint_id: ids[0].clone(),
                events: existing.iter().map(|e| (e.payload.clone(), e.metadata.clone())).collect(),
            },
        ];
        let refused = bulk.log().append_new_streams(&again).await;
        assert!(matches!(refused, Err(EventLogError::Conflict)), "{refused:?}");
        assert_eq!(scalar(b, "SELECT count(*) FROM events").await, before);
    }
}

/// Every row of every read-model view (all but the chain), as text, sorted per view.
async fn read_models(pool: &Pool) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for projection in consumers::projections(&ComplaintServices::standard()) {
        if projection.name() == complaints_audit::sealer::NAME {
            continue;
        }
        for table in projection.tables() {
            let view = table.base;
            let rows = match pool {
                Pool::Postgres(p) => sqlx::query_scalar::<_, String>(&format!(
                    "SELECT t::text FROM {view} t ORDER BY 1"
                ))
                .fetch_all(p)
                .await
                .unwrap(),
                Pool::Sqlite(p) => {
                    let columns: Vec<String> = sqlx::query_scalar(&format!(
                        "SELECT name FROM pragma_table_info('{view}')"
                    ))
                    .fetch_all(p)
                    .await
                    .unwrap();
                    let row: Vec<String> = columns.iter().map(|c| format!("quote({c})")).collect();
                    sqlx::query_scalar::<_, String>(&format!(
                        "SELECT {} FROM {view} ORDER BY 1",
                        row.join(" || '|' || ")
                    ))
                    .fetch_all(p)
                    .await
                    .unwrap()
                }
            };
            out.push((view.to_string(), rows));
        }
    }
    out
}

async fn index_count(pool: &Pool) -> i64 {
    let sql = match pool {
        Pool::Postgres(_) => "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename LIKE 'rm\\_%'",
        Pool::Sqlite(_) => "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'rm\\_%' ESCAPE '\\'",
    };
    scalar(pool, sql).await
}

on_both_backends! {
    async fn every_read_model_rebuilt_from_one_reading_of_the_log_equals_its_live_rows(backend: Backend) {
        let Some(db) = TestDatabase::create(backend).await else { return };
        let cases = open(&db).await;
        let workload = Arc::new(Workload::new(&workload_args(Via::Bulk), ComplaintServices::standard()));
        simulate_bulk::load_in_bulk(cases.clone(), workload, 150, 2, true).await.unwrap();
        let pool = cases.log().pool().clone();
        // Live: the consumers as the service runs them, in small batches.
        for projection in consumers::projections(cases.services()) {
            if projection.name() == complaints_audit::sealer::NAME {
                continue;
            }
            let mut runner = Runner::new(pool.clone(), projection);
            runner.batch_size = 37;
            runner.catch_up().await.unwrap();
        }
        let live = read_models(&pool).await;
        let indexes = index_count(&pool).await;
        assert!(live.iter().filter(|(_, rows)| !rows.is_empty()).count() >= 6, "{:?}", live.iter().map(|(v, r)| (v, r.len())).collect::<Vec<_>>());

        let guard = ChainGuard { witnesses: complaints_audit::Witnesses::with_directory(db.dir.path().join("witness")), accept_break: None };
        consumers::rebuild(&pool, cases.services(), None, &guard).await.unwrap();
        let rebuilt = read_models(&pool).await;
        for ((view, want), (_, got)) in live.iter().zip(&rebuilt) {
            assert_eq!(want.len(), got.len(), "{view}: row count after the rebuild");
            assert_eq!(want, got, "{view} differs after the rebuild");
        }
        // The secondary indexes built after loading are all there.
        assert_eq!(index_count(&pool).await, indexes, "indexes of the new generation");
    }
}
