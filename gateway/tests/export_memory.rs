//! The real `complaints` binary: an export of many events streams in flat memory (its peak
//! RSS is compared with an empty export's) and `verify-export` accepts it; one flipped
//! byte makes `verify-export` fail; `complaints verify` passes on the untouched log and
//! names the position of an event altered in SQL.
//!
//! Size: `EXPORT_TEST_EVENTS` (default 20,000, keeping a debug build well under a minute);
//! benches/RESULTS.md records the 100,000-event figures of the release binary.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use complaints_audit::sealer::Sealer;
use complaints_domain::*;
use complaints_eventlog::{Database, EventLog};
use complaints_eventlog::{Pool, Runner};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Instant;

const PER_COMPLAINT: usize = 100;

fn complaints_bin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_complaints"))
        .args(args)
        .env("COMPLAINTS_DATA_DIR", dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The peak RSS the export reports on stderr, in MiB.
fn peak_rss_mib(output: &Output) -> f64 {
    let text = stderr(output);
    let tail = text
        .split("peak RSS ")
        .nth(1)
        .unwrap_or_else(|| panic!("no peak RSS in: {text}"));
    tail.split_whitespace().next().unwrap().parse().unwrap()
}

/// Appends `total` events: complaints of `PER_COMPLAINT` events, one commit each.
async fn write_events(log: &EventLog, total: usize) {
    let day = NaiveDate::from_ymd_opt(2026, 4, 2).unwrap();
    let metadata = HashMap::from([
        ("actor".to_string(), "loader".to_string()),
        ("organisation_id".to_string(), "RAL".to_string()),
        ("correlation_id".to_string(), "load".to_string()),
    ]);
    for n in 0..total.div_ceil(PER_COMPLAINT) {
        let mut events = vec![ComplaintEvent::ComplaintReceived {
            organisation_id: "RAL".into(),
            received_on: day,
            channel: Channel::Email,
            route: Route::Provider,
            representation_basis: None,
            consent_required: false,
            subject_areas: vec![SubjectArea::Communications],
            service_area: None,
            staff_groups: vec![],
            matter_occurred_on: None,
            matter_came_to_notice_on: None,
            source: None,
            particulars: Confidential(ComplaintParticulars {
                complainant: Person {
                    name: format!("Person Secret-{n}"),
                    ..Person::default()
                },
                person_affected: None,
                description: "a private description that must not leave".into(),
            }),
            kind: Default::default(),
            enquiry_type: None,
            provider_id: None,
            origin: None,
        }];
        let remaining = (total - n * PER_COMPLAINT).min(PER_COMPLAINT);
        for i in 1..remaining {
            events.push(ComplaintEvent::LearningRecorded {
                recorded_on: day,
                kind: LearningKind::Lesson,
                summary: format!("lesson {i} of complaint {n}: keep the discharge letters flowing"),
                action_due_on: None,
            });
        }
        log.append(
            &uuid::Uuid::new_v4().to_string(),
            0,
            Complaint::default(),
            events,
            metadata.clone(),
        )
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_export_streams_in_flat_memory_and_verifies() {
    let total: usize = std::env::var("EXPORT_TEST_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::connect(&Database::Sqlite(dir.path().join("complaints.db")))
        .await
        .unwrap();
    log.migrate().await.unwrap();
    let started = Instant::now();
    write_events(&log, total).await;
    let written = started.elapsed();
    let sealing = Instant::now();
    let sealed = Runner::new(log.pool().clone(), Arc::new(Sealer))
        .catch_up()
        .await
        .unwrap();
    assert_eq!(sealed, total);
    let sealed_in = sealing.elapsed();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();

    let empty = complaints_bin(
        dir.path(),
        &[
            "export",
            "--organisation",
            "RAL",
            "--from",
            "2000-01-01",
            "--to",
            "2000-01-02",
            "--out",
            &path("empty.ndjson"),
        ],
    );
    assert!(empty.status.success(), "{}", stderr(&empty));
    let exporting = Instant::now();
    let full = complaints_bin(
        dir.path(),
        &[
            "export",
            "--organisation",
            "RAL",
            "--from",
            "2000-01-01",
            "--to",
            "2100-12-31",
            "--recipient",
            "cqc",
            "--out",
            &path("full.ndjson"),
        ],
    );
    let exported_in = exporting.elapsed();
    assert!(full.status.success(), "{}", stderr(&full));
    let size = std::fs::metadata(path("full.ndjson")).unwrap().len();
    let (baseline, peak) = (peak_rss_mib(&empty), peak_rss_mib(&full));
    eprintln!(
        "{total} events: written in {written:?}, sealed in {sealed_in:?}, exported in {exported_in:?} \
         ({size} bytes); peak RSS {peak:.1} MiB against {baseline:.1} MiB for an empty export"
    );
    // Flat: the whole file is several times larger than the memory it may add.
    assert!(
        peak - baseline < 24.0,
        "peak RSS grew from {baseline:.1} to {peak:.1} MiB for a {size}-byte export"
    );

    let text = std::fs::read_to_string(path("full.ndjson")).unwrap();
    assert_eq!(text.lines().count(), total + 1);
    assert!(!text.contains("Person Secret") && !text.contains("private description"));

    let check = complaints_bin(dir.path(), &["verify-export", &path("full.ndjson")]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(String::from_utf8_lossy(&check.stdout).contains(&format!("{total} events")));

    let mut bytes = std::fs::read(path("full.ndjson")).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x04;
    std::fs::write(path("flipped.ndjson"), &bytes).unwrap();
    let flipped = complaints_bin(dir.path(), &["verify-export", &path("flipped.ndjson")]);
    assert!(!flipped.status.success());
    assert!(
        stderr(&flipped).contains("integrity check failed"),
        "{}",
        stderr(&flipped)
    );

    // `complaints verify`: the untouched log verifies, an altered event is named.
    let verified = complaints_bin(dir.path(), &["verify"]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    assert!(String::from_utf8_lossy(&verified.stdout)
        .contains(&format!("verified: {total} events sealed")));
    let Pool::Sqlite(pool) = log.pool() else {
        unreachable!()
    };
    sqlx::query("DROP TRIGGER event_log_no_update")
        .execute(pool)
        .await
        .unwrap();
    let target = (total / 2) as i64;
    sqlx::query(
        "UPDATE event_log SET payload = replace(payload, 'keep the', 'lose the') WHERE global_position = $1",
    )
    .bind(target)
    .execute(pool)
    .await
    .unwrap();
    let broken = complaints_bin(dir.path(), &["verify"]);
    assert!(!broken.status.success());
    let report = stderr(&broken);
    assert!(
        report.contains("audit chain broken in 1 place(s):")
            && report.contains(&format!("position {target}: event altered")),
        "{report}"
    );
}
