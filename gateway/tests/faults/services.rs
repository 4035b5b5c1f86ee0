//! The `complaints` processes under test: gateways (`serve`, with or without consumers) and
//! projectors (`project`), all sharing one data directory, one database and one NATS server,
//! with the deployment secrets given in the environment as several gateways need them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `complaints serve` on a port; `consumers: false` is the API-only deployment.
    Gateway { port: u16, consumers: bool },
    /// `complaints project`.
    Projector,
}

/// One process (alive or killed).
pub struct Service {
    /// Its name, also its PostgreSQL `application_name`.
    pub name: String,
    /// What it runs.
    pub kind: Kind,
    child: Option<Child>,
    starts: usize,
}

impl Service {
    /// `http://127.0.0.1:<port>` of a gateway.
    pub fn base_url(&self) -> Option<String> {
        match self.kind {
            Kind::Gateway { port, .. } => Some(format!("http://127.0.0.1:{port}")),
            Kind::Projector => None,
        }
    }
}

/// How to start `complaints` processes.
pub struct Env {
    binary: PathBuf,
    /// The shared data directory (witness checkpoints, logs).
    pub data_dir: PathBuf,
    logs: PathBuf,
    database: String,
    postgres_port: u16,
    nats_url: String,
    secrets: Vec<(&'static str, String)>,
}

impl Env {
    /// Writes the seal key and picks the shared secrets.
    pub fn new(data_dir: &Path, postgres_port: u16, database: &str, nats_url: String) -> Self {
        std::fs::create_dir_all(data_dir).unwrap();
        let logs = data_dir.join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        let random = || {
            format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            )
        };
        let seal_key = data_dir.join("seal-key.hex");
        std::fs::write(&seal_key, random()).unwrap();
        Env {
            // Another build of the binary may be tried (a release build, an experiment).
            binary: std::env::var_os("FAULTS_COMPLAINTS_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_complaints"))),
            data_dir: data_dir.to_path_buf(),
            logs,
            database: database.to_string(),
            postgres_port,
            nats_url,
            secrets: vec![
                ("COMPLAINTS_JWT_SECRET", random()),
                ("COMPLAINTS_ID_SECRET", random()),
                ("COMPLAINTS_EXPORT_SECRET", random()),
                (
                    "COMPLAINTS_SEAL_KEY_FILE",
                    seal_key.to_string_lossy().into_owned(),
                ),
            ],
        }
    }

    fn database_url(&self, name: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{}?application_name={name}",
            self.postgres_port, self.database
        )
    }

    /// `complaints <args>` with the shared configuration, as `name` in `pg_stat_activity`.
    pub fn command(&self, name: &str, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .env("DATABASE_URL", self.database_url(name))
            .env("NATS_URL", &self.nats_url)
            .env("COMPLAINTS_DATA_DIR", &self.data_dir)
            .env("COMPLAINTS_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        for (key, value) in &self.secrets {
            command.env(key, value);
        }
        command
    }

    /// Runs `complaints <args>` to completion.
    pub fn run(&self, name: &str, args: &[&str]) -> Output {
        self.command(name, args).output().unwrap()
    }

    /// A process not yet started.
    pub fn service(&self, name: &str, kind: Kind) -> Service {
        Service {
            name: name.to_string(),
            kind,
            child: None,
            starts: 0,
        }
    }

    /// Starts `service` (again), waiting for a gateway to answer `/healthz`.
    pub async fn start(&self, service: &mut Service) {
        assert!(service.child.is_none(), "{} is running", service.name);
        service.starts += 1;
        let log = std::fs::File::create(
            self.logs
                .join(format!("{}-{}.log", service.name, service.starts)),
        )
        .unwrap();
        let mut command = match service.kind {
            Kind::Gateway { port, consumers } => {
                let mut c = self.command(&service.name, &["serve"]);
                c.env("COMPLAINTS_BIND", format!("127.0.0.1:{port}"))
                    .env("COMPLAINTS_CONSUMERS", consumers.to_string());
                c
            }
            Kind::Projector => self.command(&service.name, &["project"]),
        };
        service.child = Some(command.stdout(Stdio::null()).stderr(log).spawn().unwrap());
        if let Some(base) = service.base_url() {
            let client = reqwest::Client::new();
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let up = client
                    .get(format!("{base}/healthz"))
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if up {
                    break;
                }
                if let Some(status) = service.child.as_mut().unwrap().try_wait().unwrap() {
                    panic!(
                        "{} exited with {status} while starting: {}",
                        service.name,
                        self.log_tail(service)
                    );
                }
                assert!(
                    Instant::now() < deadline,
                    "{} did not answer /healthz",
                    service.name
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// The last lines the service's latest start logged.
    pub fn log_tail(&self, service: &Service) -> String {
        let text = std::fs::read_to_string(
            self.logs
                .join(format!("{}-{}.log", service.name, service.starts)),
        )
        .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// SIGKILL, as the kernel's OOM killer or a pulled plug would, then reap.
pub fn kill(service: &mut Service) {
    if let Some(mut child) = service.child.take() {
        super::sigkill(&mut child);
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        kill(self);
    }
}
