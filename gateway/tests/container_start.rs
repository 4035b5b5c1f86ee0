//! The binary started as `deploy/Dockerfile` starts it: as an unprivileged user (numeric,
//! like `USER 10001:10001`; nobody, 65534, here since the test cannot add users), with the
//! image's environment only, on an empty data directory that user owns; then the container
//! "re-created" on the same volume: the same secrets, and a token minted by the first start
//! still valid.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const UID: u32 = 65534;
const SECRETS: [&str; 4] = ["jwt-secret", "seal-key", "export-secret", "id-secret"];

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        .unwrap()
}

/// The command as the image runs it: the image's environment and nothing else, as the
/// unprivileged user when the test runs as root.
fn as_the_image(binary: &Path, data: &Path, port: u16) -> Command {
    let mut command = if running_as_root() {
        let mut c = Command::new("setpriv");
        c.args([
            format!("--reuid={UID}"),
            format!("--regid={UID}"),
            "--clear-groups".into(),
        ])
        .arg(binary);
        c
    } else {
        Command::new(binary)
    };
    command
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("HOME", data)
        // deploy/Dockerfile: ENV COMPLAINTS_BIND=0.0.0.0:8080 COMPLAINTS_DATA_DIR=…
        // COMPLAINTS_LOG_FORMAT=json (loopback and a free port here).
        .env("COMPLAINTS_BIND", format!("127.0.0.1:{port}"))
        .env("COMPLAINTS_DATA_DIR", data)
        .env("COMPLAINTS_LOG_FORMAT", "json");
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Container {
    child: Child,
    base: String,
}

impl Container {
    async fn start(binary: &Path, data: &Path) -> Container {
        let port = free_port();
        let log = std::fs::File::create(data.parent().unwrap().join(format!("serve-{port}.log")))
            .unwrap();
        let child = as_the_image(binary, data, port)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let container = Container {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = client
                .get(format!("{}/readyz", container.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                break;
            }
            if Instant::now() > deadline {
                let logs = std::fs::read_dir(data.parent().unwrap())
                    .unwrap()
                    .filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().starts_with("serve-"))
                    .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\n");
                panic!("the service did not become ready:\n{logs}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The probe the image's HEALTHCHECK runs.
        let probe = as_the_image(binary, data, port)
            .args(["healthcheck", "--ready"])
            .output()
            .unwrap();
        assert!(
            probe.status.success(),
            "{}",
            String::from_utf8_lossy(&probe.stderr)
        );
        container
    }

    /// `docker stop`: SIGTERM, then wait.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn secrets(data: &Path) -> Vec<Vec<u8>> {
    SECRETS
        .iter()
        .map(|name| std::fs::read(data.join(name)).unwrap())
        .collect()
}

#[tokio::test]
async fn the_image_starts_unprivileged_on_an_empty_volume_and_again_on_the_same_volume() {
    let root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // The binary where the unprivileged user can run it (the target directory may not be).
    let binary: PathBuf = root.path().join("complaints");
    std::fs::copy(env!("CARGO_BIN_EXE_complaints"), &binary).unwrap();
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The volume: an empty directory the user owns, as the Dockerfile's `install -d`.
    let data = root.path().join("var-lib-complaints");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    if running_as_root() {
        std::os::unix::fs::chown(&data, Some(UID), Some(UID)).unwrap();
        std::os::unix::fs::chown(root.path(), Some(0), Some(0)).unwrap();
    }

    let first = Container::start(&binary, &data).await;
    let minted = as_the_image(&binary, &data, 0)
        .args([
            "token",
            "--org",
            "RAL",
            "--role",
            "frontline,auditor",
            "--ttl",
            "8h",
        ])
        .output()
        .unwrap();
    assert!(
        minted.status.success(),
        "{}",
        String::from_utf8_lossy(&minted.stderr)
    );
    let token = String::from_utf8(minted.stdout).unwrap().trim().to_string();
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/v1/complaints", first.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "organisation_id": "RAL", "received_on": "2026-04-02", "channel": "email",
            "subject_areas": ["communications"],
            "description": "The discharge letter never reached my GP.",
            "complainant": {"name": "Ann Example"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    first.stop();

    // Everything the service wrote is the user's and private to it.
    let mut written = vec![data.clone()];
    written.extend(SECRETS.iter().map(|n| data.join(n)));
    written.push(data.join("complaints.db"));
    for path in &written {
        let meta = std::fs::metadata(path).unwrap();
        if running_as_root() {
            assert_eq!(
                meta.uid(),
                UID,
                "{} not owned by the service user",
                path.display()
            );
        }
    }
    for name in SECRETS {
        let mode = std::fs::metadata(data.join(name)).unwrap().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{name} is readable by others: {mode:o}");
    }
    let before = secrets(&data);

    // "docker compose up" again: a new container on the same volume.
    let second = Container::start(&binary, &data).await;
    assert_eq!(secrets(&data), before, "the secrets were regenerated");
    let read = client
        .get(format!("{}/v1/complaints/{id}", second.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.status(),
        200,
        "a token minted before is refused: {}",
        read.text().await.unwrap()
    );
    second.stop();
}
