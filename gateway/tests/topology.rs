//! The scaled-out topology, for real, on loopback: runs `deploy/loopback/topology.sh` with
//! this build's `complaints` binary. The script starts a PostgreSQL of its own with the
//! deployment's roles, a 3-node NATS JetStream cluster from `deploy/nats/nats-cluster.conf`
//! (authentication, replicas 3), two gateways and two projectors (the relay among their
//! consumers), sends its commands across both gateways, and exits non-zero unless every
//! command was answered 2xx, the case list and annual report over the API hold exactly what
//! was sent, the events stream holds each event of the log exactly once and the audit chain
//! verifies. Its figures go straight to the test's stderr, so CI logs show them.
//!
//! Runs when `DATABASE_URL` and `NATS_URL` are set, as CI sets them (the script uses servers
//! of its own, never those); under `CI` a missing prerequisite fails instead of skipping.
//! `TOPOLOGY_COMMANDS` defaults to 2,000 here (the script's own default, documented in
//! `deploy/README.md`, is 10,000); it and `TOPOLOGY_CLIENTS` pass through.

use std::process::{Command, Stdio};

/// The script's exit status when a prerequisite (a binary) is missing.
const MISSING_PREREQUISITE: i32 = 77;

#[test]
fn two_gateways_two_projectors_and_a_nats_cluster_lose_and_double_nothing() {
    let in_ci = std::env::var_os("CI").is_some();
    let configured = ["DATABASE_URL", "NATS_URL"]
        .iter()
        .all(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()));
    if !configured {
        assert!(
            !in_ci,
            "CI is set but DATABASE_URL or NATS_URL is not: the topology test must run in CI"
        );
        eprintln!("DATABASE_URL or NATS_URL not set: skipping the topology test");
        return;
    }
    let commands = std::env::var("TOPOLOGY_COMMANDS").unwrap_or_else(|_| "2000".into());
    let status = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../deploy/loopback/topology.sh"
        ))
        .env("COMPLAINTS_BIN", env!("CARGO_BIN_EXE_complaints"))
        .env("TOPOLOGY_COMMANDS", commands)
        .stdin(Stdio::null())
        .status()
        .expect("bash runs deploy/loopback/topology.sh");
    if status.code() == Some(MISSING_PREREQUISITE) {
        assert!(
            !in_ci,
            "CI is set but a prerequisite of the topology test is missing (its output says which)"
        );
        eprintln!("a prerequisite is missing: skipping the topology test");
        return;
    }
    assert!(
        status.success(),
        "deploy/loopback/topology.sh failed ({status}); its output above names the check"
    );
}
