//! The real binary on the embedded default, as README's first command runs it: `serve`
//! with nothing configured, a token from `complaints token`, a complaint received.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_binary_serves_the_embedded_default_with_a_token_it_minted() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let binary = env!("CARGO_BIN_EXE_complaints");
    let mut serve = Command::new(binary)
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("NATS_URL")
        .env("COMPLAINTS_DATA_DIR", dir.path())
        .env("COMPLAINTS_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            Instant::now() < deadline,
            "the service did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let token = Command::new(binary)
        .args([
            "token",
            "--org",
            "RAL",
            "--role",
            "frontline,auditor",
            "--ttl",
            "3600",
        ])
        .env("COMPLAINTS_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();

    let created: serde_json::Value = client
        .post(format!("{base}/v1/complaints"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "organisation_id": "RAL", "received_on": "2026-04-02", "channel": "email",
            "subject_areas": ["communications"], "description": "x", "complainant": {"name": "A"}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["deadlines"]["acknowledge_by"], "2026-04-09");
    assert!(dir.path().join("complaints.db").exists());
    assert!(dir.path().join("jwt-secret").exists());

    // The container probe: healthy while it serves, a named failure on a port nobody serves.
    let probe = |bind: String| {
        Command::new(binary)
            .args(["healthcheck", "--ready"])
            .env("COMPLAINTS_DATA_DIR", dir.path())
            .env("COMPLAINTS_BIND", bind)
            .output()
            .unwrap()
    };
    assert!(probe(format!("0.0.0.0:{port}")).status.success());
    let idle = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let idle_port = idle.local_addr().unwrap().port();
    drop(idle);
    let refused = probe(format!("127.0.0.1:{idle_port}"));
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("service unavailable"));

    // SIGTERM: the service stops cleanly.
    Command::new("kill")
        .arg(serve.id().to_string())
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = serve.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "no clean shutdown after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}
