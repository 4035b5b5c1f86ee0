//! A nats-server of the suite's own: JetStream on a free port with its store in a temporary
//! directory, `sync_interval: always` (the shipped `deploy/nats-server.conf`) when the server
//! is 2.10 or later. It can be killed and started again on the same port and store.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The version `binary --version` reports, e.g. `2.15.1`.
pub fn version(binary: &Path) -> String {
    let output = Command::new(binary).arg("--version").output().ok();
    let text = output
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    text.trim()
        .rsplit('v')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn at_least_2_10(version: &str) -> bool {
    let mut parts = version.split('.').filter_map(|p| p.parse::<u32>().ok());
    matches!((parts.next(), parts.next()), (Some(major), Some(minor)) if (major, minor) >= (2, 10))
}

/// A running (or stopped) server.
pub struct Nats {
    binary: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
    /// Whether it syncs every write to disk before acknowledging.
    pub sync_always: bool,
    child: Option<Child>,
}

impl Nats {
    /// Starts a server storing under `dir`.
    pub fn start(binary: PathBuf, dir: &Path) -> Self {
        let sync_always = at_least_2_10(&version(&binary));
        let mut server = Nats {
            binary,
            port: super::free_port(),
            dir: dir.to_path_buf(),
            sync_always,
            child: None,
        };
        server.restart();
        server
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server again on the same port and store.
    pub fn restart(&mut self) {
        std::fs::create_dir_all(&self.dir).unwrap();
        let mut command = Command::new(&self.binary);
        if self.sync_always {
            let config = format!(
                "listen: 127.0.0.1:{}\njetstream {{\n  store_dir: {:?}\n  sync_interval: always\n}}\n",
                self.port,
                self.dir.join("store")
            );
            let path = self.dir.join("nats-server.conf");
            std::fs::write(&path, config).unwrap();
            command.arg("-c").arg(path);
        } else {
            command
                .args([
                    "-js",
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-sd",
                ])
                .arg(self.dir.join("store"));
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("nats-server.log"))
            .unwrap();
        self.child = Some(command.stdout(Stdio::null()).stderr(log).spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no goodbye to clients, nothing flushed that was not already on disk.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            super::sigkill(&mut child);
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}
