//! Rotating the key-encryption key with the real binary on the embedded default, as an
//! operator would: personal data written under the old KEK, `complaints rotate-kek` with the
//! new KEK current and the old one listed as previous, then the service run with the new KEK
//! alone still shows the person, while the event log did not change by a byte.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_complaints");
const NAME: &str = "Rotation Testperson";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(dir: &Path, kek: &Path, previous: Option<&Path>) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_remove("DATABASE_URL")
        .env_remove("NATS_URL")
        .env_remove("COMPLAINTS_ENCRYPTION")
        .env("COMPLAINTS_DATA_DIR", dir)
        .env("COMPLAINTS_KEK_FILE", kek);
    match previous {
        Some(path) => command.env("COMPLAINTS_PREVIOUS_KEK_FILES", path),
        None => command.env_remove("COMPLAINTS_PREVIOUS_KEK_FILES"),
    };
    command
}

struct Service {
    child: Child,
    base: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn serve(dir: &Path, kek: &Path) -> Service {
    let port = free_port();
    let child = command(dir, kek, None)
        .arg("serve")
        .env("COMPLAINTS_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let service = Service {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = reqwest::get(format!("{}/readyz", service.base))
            .await
            .is_ok_and(|r| r.status() == 200);
        if ready {
            return service;
        }
        assert!(
            Instant::now() < deadline,
            "the service did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn token(dir: &Path, kek: &Path) -> String {
    let out = command(dir, kek, None)
        .args([
            "token",
            "--org",
            "RAL",
            "--role",
            "frontline,caseworker",
            "--ttl",
            "600",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn rotate(dir: &Path, kek: &Path, previous: Option<&Path>) -> Output {
    command(dir, kek, previous)
        .arg("rotate-kek")
        .output()
        .unwrap()
}

/// The stored events, byte for byte, in log order.
async fn stored_log(dir: &Path) -> Vec<(i64, String, String)> {
    let pool = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}?mode=ro",
        dir.join("complaints.db").display()
    ))
    .await
    .unwrap();
    let rows = sqlx::query_as(
        "SELECT sequence, aggregate_id, payload FROM events ORDER BY global_position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows
}

#[tokio::test]
async fn a_rotated_key_encryption_key_can_be_retired_without_touching_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let old_kek = dir.path().join("kek-2025");
    let new_kek = dir.path().join("kek-2026");
    std::fs::write(&old_kek, "old-key-encryption-key-0123456789abcdef").unwrap();
    std::fs::write(&new_kek, "new-key-encryption-key-fedcba9876543210").unwrap();

    let id = {
        let service = serve(dir.path(), &old_kek).await;
        let created: Value = reqwest::Client::new()
            .post(format!("{}/v1/complaints", service.base))
            .bearer_auth(token(dir.path(), &old_kek))
            .json(&json!({
                "organisation_id": "RAL", "received_on": "2026-04-02", "channel": "email",
                "subject_areas": ["communications"], "description": "rotation",
                "complainant": {"name": NAME, "email": "rotation@example.org"}
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(created.to_string().contains(NAME), "{created}");
        created["id"].as_str().unwrap().to_string()
    };
    let before = stored_log(dir.path()).await;
    assert!(!before.is_empty());

    // Without the old KEK the keys cannot be opened to re-wrap: a named failure, nothing moved.
    let refused = rotate(dir.path(), &new_kek, None);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not configured"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let rotated = rotate(dir.path(), &new_kek, Some(&old_kek));
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let report: Value = serde_json::from_slice(&rotated.stdout).unwrap();
    assert_eq!(report["rewrapped"], 1, "{report}");
    let again: Value =
        serde_json::from_slice(&rotate(dir.path(), &new_kek, Some(&old_kek)).stdout).unwrap();
    assert_eq!(
        again["rewrapped"], 0,
        "a second run has nothing left to move: {again}"
    );

    // The old KEK is retired: the service runs with the new one alone and still reads the person.
    std::fs::remove_file(&old_kek).unwrap();
    let service = serve(dir.path(), &new_kek).await;
    let case: Value = reqwest::Client::new()
        .get(format!("{}/v1/complaints/{id}", service.base))
        .bearer_auth(token(dir.path(), &new_kek))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(case.to_string().contains(NAME), "{case}");
    drop(service);
    assert_eq!(
        stored_log(dir.path()).await,
        before,
        "rotation changed the event log"
    );
}
