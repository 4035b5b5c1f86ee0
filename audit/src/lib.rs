//! Tamper evidence end to end. The `sealer` consumer links every event of the log, in
//! commit-safe order, into a SHA-256 hash chain; checkpoints of the chain are signed with an
//! Ed25519 key and handed out of the database; `verify` recomputes the chain from the log
//! and compares it with the stored links and with checkpoints kept elsewhere; the access log
//! records who read personal data; exports give a regulator one organisation's sealed events,
//! pseudonymised, with a signed manifest it can check on its own. Formats, byte for byte:
//! `schemas/audit-chain.md`.
//!
//! Depends on the domain and the event log; no HTTP, no command line.

pub use canonical::{
    canonical_json, canonical_json_string, canonical_time, from_hex, leaf_hash, link_hash, to_hex,
    Hash, ZERO_LINK,
};
pub use checkpoints::{chain_head, SignedCheckpoint};
pub use error::{describe_breaks, AuditError};
pub use keys::{verify_signature, AuditKeys, ALGORITHM, EXPORT_SECRET_FILE, SEAL_KEY_FILE};
pub use notary::{checkpoint_head, run_notary};
pub use sealer::{ChainLink, Sealer};
pub use verify::{read_checkpoint, verify, VerifyReport};
pub use witness::{accept_break, AcceptedBreak, DirectoryWitness, Witness, Witnesses};

pub mod access_log;
pub mod canonical;
pub mod export;
pub mod sealer;
pub mod secrets;
pub mod verify_chain;

mod checkpoints;
mod error;
mod keys;
mod notary;
mod verify;
mod witness;
