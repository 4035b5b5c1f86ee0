//! Secrets the embedded default generates in its data directory on first run (token
//! signing secret, audit sealing key, export pseudonym secret): 32 random bytes as hex,
//! readable by the owner only.

use crate::AuditError;
use std::path::Path;

fn config(what: String) -> AuditError {
    AuditError::Config(what)
}

/// 32 bytes from the operating system's randomness.
pub fn random_bytes() -> Result<[u8; 32], AuditError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| config(format!("no randomness for a secret: {e}")))?;
    Ok(bytes)
}

fn write_private(path: &Path, contents: &str) -> Result<(), AuditError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| config(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| config(format!("cannot write {}: {e}", path.display())))
}

/// Reads `name` in `data_dir`, or creates it with 32 random bytes in hex. Two processes
/// starting together agree on one file: the loser of `create_new` reads the winner's.
pub fn load_or_create(data_dir: &Path, name: &str, what: &str) -> Result<String, AuditError> {
    let path = data_dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().to_string());
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| config(format!("cannot create {}: {e}", data_dir.display())))?;
    let text = hex::encode(random_bytes()?);
    match write_private(&path, &text) {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated {what}");
            Ok(text)
        }
        Err(_) if path.exists() => std::fs::read_to_string(&path)
            .map(|t| t.trim().to_string())
            .map_err(|e| config(format!("cannot read {}: {e}", path.display()))),
        Err(e) => Err(e),
    }
}
