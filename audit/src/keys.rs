//! The sealing key (signs checkpoints and export manifests) and the export secret (keys the
//! per-recipient pseudonyms), and checking an Ed25519 signature.

use crate::AuditError;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use std::path::Path;

/// Name of the generated sealing key file in the data directory.
pub const SEAL_KEY_FILE: &str = "seal-key";
/// Name of the generated export secret file in the data directory.
pub const EXPORT_SECRET_FILE: &str = "export-secret";
/// The signature algorithm named in checkpoints and manifests.
pub const ALGORITHM: &str = "Ed25519";

/// The sealing key (signs checkpoints and export manifests) and the export secret (keys
/// pseudonyms). Never logged.
pub struct AuditKeys {
    signing: SigningKey,
    export_secret: Vec<u8>,
}

impl std::fmt::Debug for AuditKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKeys")
            .field("public_key", &self.public_key_hex())
            .finish_non_exhaustive()
    }
}

fn config(what: String) -> AuditError {
    AuditError::Config(what)
}

fn parse_seed(path: &Path, text: &str) -> Result<SigningKey, AuditError> {
    let bytes = hex::decode(text.trim()).map_err(|_| {
        config(format!(
            "{} must hold an Ed25519 seed as 64 hex digits",
            path.display()
        ))
    })?;
    let seed: [u8; 32] = bytes.try_into().map_err(|_| {
        config(format!(
            "{} must hold an Ed25519 seed as 64 hex digits (32 bytes)",
            path.display()
        ))
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

impl AuditKeys {
    /// The configured key file and secret, else the files in `data_dir` (generated on
    /// first run).
    pub fn load(
        seal_key_file: Option<&Path>,
        export_secret: Option<&str>,
        data_dir: &Path,
    ) -> Result<Self, AuditError> {
        let signing = match seal_key_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| config(format!("cannot read {}: {e}", path.display())))?;
                parse_seed(path, &text)?
            }
            None => {
                let text = crate::secrets::load_or_create(
                    data_dir,
                    SEAL_KEY_FILE,
                    "an audit sealing key",
                )?;
                parse_seed(&data_dir.join(SEAL_KEY_FILE), &text)?
            }
        };
        let export_secret = match export_secret.filter(|s| !s.is_empty()) {
            Some(secret) => secret.as_bytes().to_vec(),
            None => {
                crate::secrets::load_or_create(data_dir, EXPORT_SECRET_FILE, "an export secret")?
                    .into_bytes()
            }
        };
        if export_secret.len() < 16 {
            return Err(config(
                "the export secret is too short to be a secret".into(),
            ));
        }
        Ok(Self {
            signing,
            export_secret,
        })
    }

    /// The sealing key's public half if one is configured or already generated, without
    /// generating one (for `complaints verify`).
    pub fn existing_public_key(
        seal_key_file: Option<&Path>,
        data_dir: &Path,
    ) -> Result<Option<VerifyingKey>, AuditError> {
        let path = seal_key_file
            .map(Path::to_path_buf)
            .unwrap_or_else(|| data_dir.join(SEAL_KEY_FILE));
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(parse_seed(&path, &text)?.verifying_key())),
            Err(_) if seal_key_file.is_none() => Ok(None),
            Err(e) => Err(config(format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// Fresh random keys (tests, and a router without configuration).
    pub fn generate() -> Result<Self, AuditError> {
        Ok(Self {
            signing: SigningKey::from_bytes(&crate::secrets::random_bytes()?),
            export_secret: hex::encode(crate::secrets::random_bytes()?).into_bytes(),
        })
    }

    /// The sealing key's public half, 64 hex digits.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().as_bytes())
    }

    /// Signs `message` (already domain-separated by the caller); hex.
    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex::encode(self.signing.sign(message).to_bytes())
    }

    /// The pseudonym of `complaint_id` for `recipient`: the first 16 bytes of
    /// HMAC-SHA256(export secret, `complaints-export-pseudonym/v1\n{recipient}\n{id}`), hex.
    /// Stable for one recipient, unlinkable across recipients without the secret.
    pub fn pseudonym(&self, recipient: &str, complaint_id: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(&self.export_secret) {
            Ok(mac) => mac,
            // HMAC takes keys of any length; this arm is unreachable.
            Err(_) => return String::new(),
        };
        mac.update(b"complaints-export-pseudonym/v1\n");
        mac.update(recipient.as_bytes());
        mac.update(b"\n");
        mac.update(complaint_id.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

/// Checks an Ed25519 signature given in hex over `message` with a public key in hex.
pub fn verify_signature(public_key: &str, message: &[u8], signature: &str) -> Result<(), String> {
    let key: [u8; 32] = hex::decode(public_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the public key is not 64 hex digits")?;
    let key = VerifyingKey::from_bytes(&key).map_err(|e| format!("bad public key: {e}"))?;
    let signature: [u8; 64] = hex::decode(signature.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the signature is not 128 hex digits")?;
    key.verify(message, &Signature::from_bytes(&signature))
        .map_err(|_| "the signature does not match".to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_per_recipient_and_differ_between_recipients() {
        let keys = AuditKeys::generate().unwrap();
        let id = "0b5e1c2a-4f1e-4a8e-9a57-3f2d8c1e7b10";
        assert_eq!(keys.pseudonym("cqc", id), keys.pseudonym("cqc", id));
        assert_ne!(keys.pseudonym("cqc", id), keys.pseudonym("phso", id));
        assert_eq!(keys.pseudonym("cqc", id).len(), 32);
        let other = AuditKeys::generate().unwrap();
        assert_ne!(keys.pseudonym("cqc", id), other.pseudonym("cqc", id));
    }

    #[test]
    fn a_generated_key_file_is_reused_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let first = AuditKeys::load(None, None, dir.path()).unwrap();
        let again = AuditKeys::load(None, None, dir.path()).unwrap();
        assert_eq!(first.public_key_hex(), again.public_key_hex());
        assert_eq!(
            AuditKeys::existing_public_key(None, dir.path())
                .unwrap()
                .map(|k| hex::encode(k.as_bytes())),
            Some(first.public_key_hex())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SEAL_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
