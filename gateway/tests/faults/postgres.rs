//! A PostgreSQL server of the suite's own: `initdb` into a temporary directory, `pg_ctl`
//! on a free port with its socket in that directory, run as `nobody` when the test runs as
//! root (PostgreSQL refuses root). Never the machine's shared server.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The database the services use.
pub const DATABASE: &str = "faults";

/// The unprivileged user and group the server runs as when the test is root.
const NOBODY: u32 = 65534;

/// The directory of the PostgreSQL server binaries: `COMPLAINTS_TEST_PG_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin`, else wherever `initdb` is on `PATH`.
pub fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("COMPLAINTS_TEST_PG_BIN").map(PathBuf::from) {
        return dir.join("initdb").exists().then_some(dir);
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin);
    newest.or_else(|| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
        })
    })
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// A running server.
pub struct Postgres {
    bin: PathBuf,
    /// Holds the data directory, the socket and the log; owned by the server's user.
    root: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    as_nobody: bool,
    running: bool,
}

impl Postgres {
    /// `initdb`, start, and create [`DATABASE`]. `root` must be an empty directory.
    pub fn start(bin: PathBuf, root: &Path) -> Self {
        let as_nobody = running_as_root();
        if as_nobody {
            std::os::unix::fs::chown(root, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        let mut server = Postgres {
            bin,
            root: root.to_path_buf(),
            port: super::free_port(),
            as_nobody,
            running: false,
        };
        let data = server.data_dir();
        server.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=64MB",
            server.port,
            server.root.display()
        );
        server.pg_ctl(&["-o", &options, "start"]);
        server.running = true;
        server
    }

    fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The log the server writes.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("postgres.log")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = if self.as_nobody {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={NOBODY}"),
                &format!("--regid={NOBODY}"),
                "--clear-groups",
                "--",
            ])
            .arg(self.bin.join(program));
            c
        } else {
            Command::new(self.bin.join(program))
        };
        command
            .current_dir(&self.root)
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self.command(program).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.log_path()).unwrap_or_default()
        );
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.data_dir();
        let log = self.log_path();
        let mut all = vec![
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-t",
            "60",
        ];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all);
    }

    /// `pg_ctl restart -m fast`: every session ends, the server comes back on its port.
    pub fn restart(&mut self) {
        self.pg_ctl(&["-m", "fast", "restart"]);
    }

    /// The URL of [`DATABASE`] (or `postgres`), naming the connecting process so the suite
    /// can tell in `pg_stat_activity` who holds a consumer's lease.
    pub fn url(&self, database: &str, application_name: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}?application_name={application_name}",
            self.port
        )
    }

    /// Creates [`DATABASE`].
    pub async fn create_database(&self) {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.url("postgres", "suite"))
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {DATABASE}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
    }

    /// A connection of the suite's own to [`DATABASE`].
    pub async fn connect(&self) -> sqlx::PgConnection {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&self.url(DATABASE, "suite"))
            .await
            .unwrap()
    }

    /// Terminates every other session on [`DATABASE`]; how many.
    pub async fn kill_connections(&self) -> i64 {
        let mut admin = self.connect().await;
        sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()) AS killed",
        )
        .bind(DATABASE)
        .fetch_one(&mut admin)
        .await
        .unwrap()
    }

    fn stop(&mut self) {
        if self.running {
            self.running = false;
            let data = self.data_dir();
            let _ = self
                .command("pg_ctl")
                .args([
                    "-D",
                    data.to_str().unwrap(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
