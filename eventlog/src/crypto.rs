// Over 600 lines: the encrypting repository decorator, the field walk over the event schemas
// and the envelope format, with their tests (an eighth of it).
//! Field-level encryption of personal data in stored events (crypto-shredding).
//!
//! Every leaf value inside a field the event schemas mark `x-confidential` is replaced, before
//! it is stored, by an envelope `{"enc": "xchacha20poly1305/v1", "subject", "kind", "nonce",
//! "ct"}` sealed with the data key of the person it belongs to (see `schemas/encryption.md`).
//! Loading puts the value back, or `"[erased]"` once that person's key has been destroyed.
//! The domain never sees an envelope; the audit chain hashes the stored (sealed) form.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use complaints_domain::nhs_number::NhsNumber;
use complaints_domain::{is_confidential_schema, resolve_schema, schema_alternatives};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

/// The `enc` member of an envelope: algorithm and envelope version.
pub const ALGORITHM: &str = "xchacha20poly1305/v1";
/// What an erased string field reads as.
pub const ERASED: &str = "[erased]";
/// What a sealed field reads as where no key was looked up (raw decoding without keys).
pub const SEALED: &str = "[encrypted]";

/// Why sealing or opening failed.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A key is missing, unusable or not configured.
    #[error("{0}")]
    Key(String),
    /// Encryption or authentication failed.
    #[error("{0}")]
    Cipher(String),
    /// The key table could not be read or written.
    #[error("key store: {0}")]
    Database(#[from] sqlx::Error),
}

/// A 256-bit data key of one data subject. Never printed.
#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| CryptoError::Key(format!("no randomness: {e}")))?;
        Ok(Self(key))
    }

    /// From 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CryptoError::Key("a data key has 32 bytes".into()))?;
        Ok(Self(key))
    }

    /// The key bytes (for a [`KeyWrapper`]).
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

fn random_nonce() -> Result<[u8; 24], CryptoError> {
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).map_err(|e| CryptoError::Key(format!("no randomness: {e}")))?;
    Ok(nonce)
}

/// Wraps and unwraps data keys under a key-encryption key. The local implementation is
/// [`LocalKek`]; an external KMS implements the same three methods (its `kek_id` names the
/// KMS key, `wrap`/`unwrap_key` call it).
pub trait KeyWrapper: Send + Sync {
    /// Stable id of the key-encryption key, stored beside every key it wraps.
    fn kek_id(&self) -> String;
    /// Wraps `key` of `subject_id` (bound to it as associated data).
    fn wrap(&self, subject_id: &str, key: &DataKey) -> Result<Vec<u8>, CryptoError>;
    /// Unwraps a key wrapped by [`KeyWrapper::wrap`] for `subject_id`.
    fn unwrap_key(&self, subject_id: &str, wrapped: &[u8]) -> Result<DataKey, CryptoError>;
}

/// A key-encryption key held by this process (from `COMPLAINTS_KEK_FILE` or the generated
/// `kek` in the data directory). Wrapped key = nonce (24 bytes) || XChaCha20-Poly1305
/// ciphertext of the 32 key bytes, associated data `complaints-data-key/v1\n<subject id>`.
pub struct LocalKek {
    id: String,
    key: DataKey,
}

impl LocalKek {
    /// From the configured secret (any length; hashed to 256 bits).
    pub fn from_secret(secret: &[u8]) -> Self {
        let key: [u8; 32] = Sha256::new()
            .chain_update(b"complaints-kek/v1\n")
            .chain_update(secret)
            .finalize()
            .into();
        let fingerprint = Sha256::new()
            .chain_update(b"complaints-kek-id/v1\n")
            .chain_update(key)
            .finalize();
        Self {
            id: format!("local:{}", &hex::encode(fingerprint)[..16]),
            key: DataKey(key),
        }
    }
}

fn wrap_aad(subject_id: &str) -> Vec<u8> {
    format!("complaints-data-key/v1\n{subject_id}").into_bytes()
}

impl KeyWrapper for LocalKek {
    fn kek_id(&self) -> String {
        self.id.clone()
    }

    fn wrap(&self, subject_id: &str, key: &DataKey) -> Result<Vec<u8>, CryptoError> {
        let nonce = random_nonce()?;
        let aad = wrap_aad(subject_id);
        let ct = self
            .key
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: key.bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Cipher("cannot wrap a data key".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    fn unwrap_key(&self, subject_id: &str, wrapped: &[u8]) -> Result<DataKey, CryptoError> {
        if wrapped.len() < 24 {
            return Err(CryptoError::Key("wrapped data key too short".into()));
        }
        let (nonce, ct) = wrapped.split_at(24);
        let aad = wrap_aad(subject_id);
        let plain = self
            .key
            .cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map_err(|_| {
                CryptoError::Key(format!(
                    "the data key of {subject_id} does not unwrap under {}",
                    self.id
                ))
            })?;
        DataKey::from_bytes(&plain)
    }
}

fn registry() -> &'static RwLock<HashMap<String, Arc<dyn KeyWrapper>>> {
    static WRAPPERS: OnceLock<RwLock<HashMap<String, Arc<dyn KeyWrapper>>>> = OnceLock::new();
    WRAPPERS.get_or_init(|| RwLock::new(HashMap::new()))
}

/// Makes `wrapper` available to every reader of this process, under its `kek_id` (a
/// rotated-out key stays registered until its keys are re-wrapped).
pub fn register_wrapper(wrapper: Arc<dyn KeyWrapper>) {
    let id = wrapper.kek_id();
    match registry().write() {
        Ok(mut map) => {
            map.insert(id, wrapper);
        }
        Err(poisoned) => {
            poisoned.into_inner().insert(id, wrapper);
        }
    }
}

/// The registered wrapper with id `kek_id`.
pub fn wrapper_for(kek_id: &str) -> Option<Arc<dyn KeyWrapper>> {
    match registry().read() {
        Ok(map) => map.get(kek_id).cloned(),
        Err(poisoned) => poisoned.into_inner().get(kek_id).cloned(),
    }
}

/// The encryption configuration of an event log: the key-encryption key new data keys are
/// wrapped with, and the secret keying data subject ids.
pub struct Encryption {
    wrapper: Arc<dyn KeyWrapper>,
    identity_key: Vec<u8>,
}

impl fmt::Debug for Encryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryption")
            .field("kek_id", &self.wrapper.kek_id())
            .finish_non_exhaustive()
    }
}

/// Which data subject a confidential field belongs to, by its place in the event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subjects {
    /// The complainant (or representative): their own fields and free text.
    pub complainant: Option<String>,
    /// The person affected: fields under `person_affected`.
    pub person_affected: Option<String>,
}

impl Subjects {
    /// The subject of the leaf at JSON pointer `path`.
    pub fn of_path(&self, path: &str) -> Option<&str> {
        if path.contains("/person_affected") {
            self.person_affected
                .as_deref()
                .or(self.complainant.as_deref())
        } else {
            self.complainant.as_deref()
        }
    }

    /// Whether no subject is known.
    pub fn is_empty(&self) -> bool {
        self.complainant.is_none() && self.person_affected.is_none()
    }
}

fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The identity a person's subject id is derived from (see `schemas/encryption.md`): their
/// NHS number when they gave a valid one, else normalised name plus the first contact detail
/// given (email, phone, date of birth, address), else name plus the complaint id (a person
/// who gave nothing else is never linked across complaints, to avoid merging namesakes).
pub fn identity_of(person: &Value, complaint_id: &str) -> String {
    let text = |key: &str| {
        person
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    if let Some(Ok(Some(nhs))) = text("identifier").map(NhsNumber::from_identifier) {
        return format!("nhs:{}", nhs.digits());
    }
    let name = normalise(text("name").unwrap_or(""));
    let contact = if let Some(email) = text("email") {
        format!("email:{}", email.to_lowercase())
    } else if let Some(phone) = text("phone") {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        let digits = match digits.strip_prefix("44") {
            Some(rest) if phone.trim_start().starts_with('+') => format!("0{rest}"),
            _ => digits,
        };
        format!("phone:{digits}")
    } else if let Some(dob) = text("date_of_birth") {
        format!("dob:{dob}")
    } else if let Some(address) = text("address") {
        format!("address:{}", normalise(address))
    } else {
        format!("complaint:{complaint_id}")
    };
    format!("person:{name}\u{1f}{contact}")
}

/// Whether `person` (as loaded) holds nothing of anyone: every value of theirs is the erased
/// or sealed placeholder, as when a command copies an erased person's details into a new
/// case. Such a person cannot be identified, and must not be linked to a fresh key.
pub fn is_placeholder_person(person: &Value) -> bool {
    let Some(fields) = person.as_object() else {
        return false;
    };
    let mut any = false;
    for value in fields.values() {
        match value {
            Value::String(s) if s == ERASED || s == SEALED => any = true,
            Value::Null => {}
            _ => return false,
        }
    }
    any
}

impl Encryption {
    /// Seals new data keys with `wrapper` (registered for readers) and keys subject ids
    /// with `identity_key`.
    pub fn new(wrapper: Arc<dyn KeyWrapper>, identity_key: Vec<u8>) -> Self {
        register_wrapper(wrapper.clone());
        Self {
            wrapper,
            identity_key,
        }
    }

    /// The wrapper of new keys.
    pub fn wrapper(&self) -> &Arc<dyn KeyWrapper> {
        &self.wrapper
    }

    /// The pseudonymous subject id of an identity: `ds-` + 32 hex digits of
    /// HMAC-SHA256(identity key, `complaints-subject/v1\n` + identity). Generation 1 of
    /// the person (see [`Encryption::subject_id_at`]).
    pub fn subject_id(&self, identity: &str) -> String {
        self.keyed_id(&[b"complaints-subject/v1\n", identity.as_bytes()])
    }

    /// The subject id of `identity`'s `generation`: generation 1 is [`Encryption::subject_id`]
    /// (so ids made before generations existed stay valid); generation n > 1, the id a person
    /// gets once every earlier generation's key was erased, is keyed over
    /// `complaints-subject-generation/v1\n<n>\n<identity>`, which no generation-1 message
    /// can equal (their prefixes differ).
    pub fn subject_id_at(&self, identity: &str, generation: u32) -> String {
        if generation <= 1 {
            return self.subject_id(identity);
        }
        self.keyed_id(&[
            b"complaints-subject-generation/v1\n",
            generation.to_string().as_bytes(),
            b"\n",
            identity.as_bytes(),
        ])
    }

    fn keyed_id(&self, parts: &[&[u8]]) -> String {
        use hmac::{Hmac, Mac};
        match <Hmac<Sha256> as Mac>::new_from_slice(&self.identity_key) {
            Ok(mut mac) => {
                parts.iter().for_each(|p| mac.update(p));
                format!("ds-{}", &hex::encode(mac.finalize().into_bytes())[..32])
            }
            // HMAC takes keys of any length.
            Err(_) => {
                let mut digest = Sha256::new();
                parts.iter().for_each(|p| digest.update(p));
                format!("ds-{}", &hex::encode(digest.finalize())[..32])
            }
        }
    }

    /// The subject id of a person as stored in a receipt.
    pub fn subject_of_person(&self, person: &Value, complaint_id: &str) -> String {
        self.subject_id(&identity_of(person, complaint_id))
    }

    /// The subject id of whoever gave this NHS number (the keyed look-up hash).
    pub fn subject_of_nhs_number(&self, nhs: &NhsNumber) -> String {
        self.subject_id(&format!("nhs:{}", nhs.digits()))
    }
}

/// Data keys looked up for a set of subjects: `Some` usable, `None` erased or unknown.
#[derive(Debug, Default, Clone)]
pub struct KeySet {
    keys: HashMap<String, Option<DataKey>>,
    looked_up: bool,
}

impl KeySet {
    /// A set that looked up nothing: sealed fields read as `"[encrypted]"`.
    pub fn none() -> Self {
        Self::default()
    }

    /// A looked-up set: subjects without a usable key read as `"[erased]"`.
    pub fn looked_up(keys: HashMap<String, Option<DataKey>>) -> Self {
        Self {
            keys,
            looked_up: true,
        }
    }

    /// Whether `subject` has a usable (looked-up, not erased) key.
    pub fn usable(&self, subject: &str) -> bool {
        self.get(subject).is_some()
    }

    fn get(&self, subject: &str) -> Option<&DataKey> {
        self.keys.get(subject).and_then(Option::as_ref)
    }

    fn erased(&self, subject: &str) -> bool {
        self.looked_up && self.get(subject).is_none()
    }
}

fn field_aad(event_id: &str, path: &str) -> Vec<u8> {
    format!("complaints-field/v1\n{event_id}\n{path}").into_bytes()
}

/// Whether `value` is a sealed field.
pub fn is_envelope(value: &Value) -> bool {
    value.get("enc").and_then(Value::as_str) == Some(ALGORITHM)
        && value.get("ct").is_some()
        && value.get("subject").is_some()
}

fn seal_leaf(
    value: &Value,
    text: bool,
    subject: &str,
    key: &DataKey,
    event_id: &str,
    path: &str,
) -> Result<Value, CryptoError> {
    let (kind, plain) = match value {
        Value::String(s) if text => ("string", s.as_bytes().to_vec()),
        other => ("json", other.to_string().into_bytes()),
    };
    let nonce = random_nonce()?;
    let aad = field_aad(event_id, path);
    let ct = key
        .cipher()
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Cipher("cannot encrypt a field".into()))?;
    let mut envelope = Map::new();
    envelope.insert("enc".into(), ALGORITHM.into());
    envelope.insert("subject".into(), subject.into());
    envelope.insert("kind".into(), kind.into());
    envelope.insert("nonce".into(), B64.encode(nonce).into());
    envelope.insert("ct".into(), B64.encode(ct).into());
    Ok(Value::Object(envelope))
}

/// What an opened envelope becomes.
enum Opened {
    Value(Value),
    /// An erased non-string field: left out (every such field is optional).
    Remove,
}

fn open_leaf(envelope: &Value, keys: &KeySet, event_id: &str, path: &str) -> Opened {
    let subject = envelope
        .get("subject")
        .and_then(Value::as_str)
        .unwrap_or("");
    let is_string = envelope.get("kind").and_then(Value::as_str) != Some("json");
    let placeholder = |text: &str| {
        if is_string {
            Opened::Value(Value::String(text.into()))
        } else {
            Opened::Remove
        }
    };
    let Some(key) = keys.get(subject) else {
        return placeholder(if keys.erased(subject) { ERASED } else { SEALED });
    };
    let decoded = (|| {
        let nonce = B64
            .decode(envelope.get("nonce")?.as_str()?)
            .ok()
            .filter(|n| n.len() == 24)?;
        let ct = B64.decode(envelope.get("ct")?.as_str()?).ok()?;
        let aad = field_aad(event_id, path);
        let plain = key
            .cipher()
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ct,
                    aad: &aad,
                },
            )
            .ok()?;
        if is_string {
            String::from_utf8(plain).ok().map(Value::String)
        } else {
            serde_json::from_slice(&plain).ok()
        }
    })();
    match decoded {
        Some(value) => Opened::Value(value),
        // A value that does not authenticate is treated as unreadable, like an erased one;
        // a changed stored byte is what `complaints verify` reports.
        None => placeholder(ERASED),
    }
}

/// Collects the subjects of every envelope in `value`.
pub fn envelope_subjects(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if is_envelope(value) {
                if let Some(s) = value.get("subject").and_then(Value::as_str) {
                    out.insert(s.to_string());
                }
            } else {
                map.values().for_each(|v| envelope_subjects(v, out));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| envelope_subjects(v, out)),
        _ => {}
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Replaces every envelope in `value` (a stored payload of event `event_id`,
/// `{complaint_id}:{sequence}`) by its value, or by `"[erased]"` when its key is gone.
pub fn open_payload(event_id: &str, value: &mut Value, keys: &KeySet) {
    open_at(event_id, value, keys, String::new());
}

fn open_at(event_id: &str, value: &mut Value, keys: &KeySet, path: String) {
    match value {
        Value::Object(map) => {
            let names: Vec<String> = map.keys().cloned().collect();
            for name in names {
                let child_path = format!("{path}/{}", escape(&name));
                let Some(child) = map.get_mut(&name) else {
                    continue;
                };
                if is_envelope(child) {
                    match open_leaf(child, keys, event_id, &child_path) {
                        Opened::Value(v) => *child = v,
                        Opened::Remove => {
                            map.remove(&name);
                        }
                    }
                } else {
                    open_at(event_id, child, keys, child_path);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let child_path = format!("{path}/{i}");
                if is_envelope(item) {
                    *item = match open_leaf(item, keys, event_id, &child_path) {
                        Opened::Value(v) => v,
                        Opened::Remove => Value::Null,
                    };
                } else {
                    open_at(event_id, item, keys, child_path);
                }
            }
        }
        _ => {}
    }
}

/// Whether the stored JSON text may hold an envelope (a cheap test before parsing).
pub fn may_hold_envelopes(text: &str) -> bool {
    text.contains(ALGORITHM)
}

// ---- sealing: the schema walk (as `complaints_domain::strip_personal_data` does) ----

struct Sealer<'a> {
    event_id: &'a str,
    subjects: &'a Subjects,
    keys: &'a KeySet,
}

impl Sealer<'_> {
    fn walk(
        &self,
        value: &mut Value,
        schema: &Value,
        root: &Value,
        path: &str,
    ) -> Result<(), CryptoError> {
        match value {
            Value::Object(map) => {
                let names: Vec<String> = map.keys().cloned().collect();
                for name in names {
                    let child_path = format!("{path}/{}", escape(&name));
                    let property_schemas: Vec<&Value> = schema_alternatives(schema, root)
                        .into_iter()
                        .filter_map(|alt| alt.get("properties").and_then(|p| p.get(&name)))
                        .collect();
                    let Some(child) = map.get_mut(&name) else {
                        continue;
                    };
                    if property_schemas.iter().any(|s| {
                        is_confidential_schema(s) || is_confidential_schema(resolve_schema(s, root))
                    }) {
                        if self.seal_all(child, &property_schemas, root, &child_path)? {
                            map.remove(&name);
                        }
                    } else {
                        for property_schema in property_schemas {
                            self.walk(child, property_schema, root, &child_path)?;
                        }
                    }
                }
            }
            Value::Array(items) => {
                for alt in schema_alternatives(schema, root) {
                    if let Some(item_schema) = alt.get("items") {
                        for (i, item) in items.iter_mut().enumerate() {
                            self.walk(item, item_schema, root, &format!("{path}/{i}"))?;
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Seals every leaf of a confidential value (whose schemas are `schemas`); true when the
    /// value itself is to be left out (an erased subject's non-text value).
    fn seal_all(
        &self,
        value: &mut Value,
        schemas: &[&Value],
        root: &Value,
        path: &str,
    ) -> Result<bool, CryptoError> {
        let alts: Vec<&Value> = schemas
            .iter()
            .flat_map(|s| schema_alternatives(s, root))
            .collect();
        match value {
            Value::Null => Ok(false),
            Value::Object(_) if is_envelope(value) => Ok(false),
            Value::Object(map) => {
                let names: Vec<String> = map.keys().cloned().collect();
                for name in names {
                    let child_path = format!("{path}/{}", escape(&name));
                    let child_schemas: Vec<&Value> = alts
                        .iter()
                        .filter_map(|alt| alt.get("properties").and_then(|p| p.get(&name)))
                        .collect();
                    if let Some(child) = map.get_mut(&name) {
                        if self.seal_all(child, &child_schemas, root, &child_path)? {
                            map.remove(&name);
                        }
                    }
                }
                Ok(false)
            }
            Value::Array(items) => {
                let item_schemas: Vec<&Value> =
                    alts.iter().filter_map(|alt| alt.get("items")).collect();
                for (i, item) in items.iter_mut().enumerate() {
                    if self.seal_all(item, &item_schemas, root, &format!("{path}/{i}"))? {
                        *item = Value::Null;
                    }
                }
                Ok(false)
            }
            leaf => {
                let Some(subject) = self.subjects.of_path(path) else {
                    return Err(CryptoError::Key(format!(
                        "no data subject for the personal field {path}"
                    )));
                };
                // Free text reads as "[erased]" once erased; a typed value (a date, a
                // number) cannot, so it is left out then (every such field is optional).
                let text = leaf.is_string() && !alts.iter().any(|a| a.get("format").is_some());
                match self.keys.get(subject) {
                    Some(key) => {
                        *leaf = seal_leaf(leaf, text, subject, key, self.event_id, path)?;
                        Ok(false)
                    }
                    // Personal data of an erased person is never stored again.
                    None if self.keys.erased(subject) => {
                        if text {
                            *leaf = Value::String(ERASED.into());
                            Ok(false)
                        } else {
                            Ok(true)
                        }
                    }
                    None => Err(CryptoError::Key(format!("no data key for {subject}"))),
                }
            }
        }
    }
}

/// Seals every confidential field of `payload` (event `event_type` at `version`, id
/// `{complaint_id}:{sequence}`) with the keys of the subjects the fields belong to.
pub fn seal_payload(
    event_type: &str,
    version: &str,
    event_id: &str,
    payload: &mut Value,
    subjects: &Subjects,
    keys: &KeySet,
) -> Result<(), CryptoError> {
    let Some(schema) = complaints_domain::stored_event_schema(event_type, version) else {
        return Err(CryptoError::Key(format!(
            "no schema for {event_type} {version}: cannot tell its personal fields"
        )));
    };
    Sealer {
        event_id,
        subjects,
        keys,
    }
    .walk(payload, schema, schema, "")
}

/// Every confidential leaf of an opened `payload` that belongs to `subject`, as
/// `(JSON pointer, value)`: what a subject access export lists.
pub fn personal_fields_of(
    event_type: &str,
    version: &str,
    payload: &Value,
    subjects: &Subjects,
    subject: &str,
) -> Vec<(String, Value)> {
    let mut sealed = payload.clone();
    let marker = KeySet::looked_up(HashMap::from([(
        subject.to_string(),
        Some(DataKey([0u8; 32])),
    )]));
    // Seal with a throwaway key to find the confidential leaves and their subjects, then
    // pair each envelope of `subject` with the opened value at the same place.
    let mut found = Vec::new();
    let mut everyone = subjects.clone();
    if everyone.complainant.is_none() {
        everyone.complainant = Some(String::new());
    }
    let keys = KeySet {
        keys: marker.keys,
        looked_up: true,
    };
    if seal_payload(event_type, version, "", &mut sealed, &everyone, &keys).is_err() {
        return found;
    }
    collect_marked(&sealed, payload, subject, String::new(), &mut found);
    found
}

fn collect_marked(
    sealed: &Value,
    plain: &Value,
    subject: &str,
    path: String,
    out: &mut Vec<(String, Value)>,
) {
    if is_envelope(sealed) {
        if sealed.get("subject").and_then(Value::as_str) == Some(subject) {
            out.push((path, plain.clone()));
        }
        return;
    }
    match (sealed, plain) {
        (Value::Object(s), Value::Object(p)) => {
            for (name, child) in s {
                if let Some(plain_child) = p.get(name) {
                    collect_marked(
                        child,
                        plain_child,
                        subject,
                        format!("{path}/{}", escape(name)),
                        out,
                    );
                }
            }
        }
        (Value::Array(s), Value::Array(p)) => {
            for (i, (a, b)) in s.iter().zip(p).enumerate() {
                collect_marked(a, b, subject, format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn received() -> Value {
        json!({"ComplaintReceived": {
            "organisation_id": "RAL", "received_on": "2026-04-02", "channel": "email",
            "route": "provider", "representation_basis": "requested", "consent_required": true,
            "subject_areas": ["communications"],
            "particulars": {
                "complainant": {"name": "Ann Secret", "email": "ann@example.org"},
                "person_affected": {"name": "Bert Secret", "date_of_birth": "1940-01-02",
                                    "identifier": "943 476 5919"},
                "description": "private words"
            }
        }})
    }

    #[test]
    fn sealed_fields_open_and_an_erased_subject_reads_as_erased() {
        let subjects = Subjects {
            complainant: Some("ds-a".into()),
            person_affected: Some("ds-b".into()),
        };
        let keys = KeySet::looked_up(HashMap::from([
            ("ds-a".to_string(), Some(DataKey::generate().unwrap())),
            ("ds-b".to_string(), Some(DataKey::generate().unwrap())),
        ]));
        let mut payload = received();
        seal_payload(
            "ComplaintReceived",
            "1.0",
            "c:1",
            &mut payload,
            &subjects,
            &keys,
        )
        .unwrap();
        let text = payload.to_string();
        for secret in [
            "Ann",
            "ann@",
            "Bert",
            "1940",
            "9434765919",
            "943 476",
            "private",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(payload["ComplaintReceived"]["received_on"], "2026-04-02");

        let mut opened = payload.clone();
        open_payload("c:1", &mut opened, &keys);
        assert_eq!(opened, received());

        // Another event id does not open (the ciphertext is bound to its place).
        let mut moved = payload.clone();
        open_payload("c:2", &mut moved, &keys);
        assert_eq!(
            moved["ComplaintReceived"]["particulars"]["description"],
            ERASED
        );

        let mut without_b = keys.clone();
        without_b.keys.insert("ds-b".into(), None);
        let mut opened = payload.clone();
        open_payload("c:1", &mut opened, &without_b);
        let particulars = &opened["ComplaintReceived"]["particulars"];
        assert_eq!(particulars["complainant"]["name"], "Ann Secret");
        assert_eq!(particulars["person_affected"]["name"], ERASED);
        assert!(particulars["person_affected"]
            .get("date_of_birth")
            .is_none());
        assert_eq!(particulars["description"], "private words");

        let fields = personal_fields_of("ComplaintReceived", "1.0", &received(), &subjects, "ds-b");
        let paths: Vec<&str> = fields.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths.len(), 3, "{paths:?}");
        assert!(paths.contains(&"/ComplaintReceived/particulars/person_affected/name"));
    }

    #[test]
    fn the_local_kek_wraps_per_subject() {
        let kek = LocalKek::from_secret(b"secret");
        let key = DataKey::generate().unwrap();
        let wrapped = kek.wrap("ds-a", &key).unwrap();
        assert_eq!(
            kek.unwrap_key("ds-a", &wrapped).unwrap().bytes(),
            key.bytes()
        );
        assert!(kek.unwrap_key("ds-b", &wrapped).is_err());
        assert!(LocalKek::from_secret(b"other")
            .unwrap_key("ds-a", &wrapped)
            .is_err());
    }

    #[test]
    fn generation_one_keeps_the_existing_id_and_later_generations_are_new_ids() {
        let encryption = Encryption::new(
            Arc::new(LocalKek::from_secret(b"kek")),
            b"subject-secret".to_vec(),
        );
        let identity = "person:ann example\u{1f}email:ann@example.org";
        // Generation 1 is the id stored before generations existed: the pinned HMAC.
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"subject-secret").unwrap();
        mac.update(format!("complaints-subject/v1\n{identity}").as_bytes());
        let pinned = format!("ds-{}", &hex::encode(mac.finalize().into_bytes())[..32]);
        assert_eq!(encryption.subject_id(identity), pinned);
        assert_eq!(encryption.subject_id_at(identity, 1), pinned);
        let second = encryption.subject_id_at(identity, 2);
        let third = encryption.subject_id_at(identity, 3);
        assert!(second.starts_with("ds-") && second.len() == pinned.len());
        assert_ne!(second, pinned);
        assert_ne!(second, third);
        // Deterministic, so two gateways choosing the same generation agree on the id.
        assert_eq!(encryption.subject_id_at(identity, 2), second);
        // Another person's generations are theirs alone.
        assert_ne!(
            encryption.subject_id_at("person:ann example\u{1f}email:ann@example.com", 2),
            second
        );
    }

    #[test]
    fn only_a_person_made_of_placeholders_is_a_placeholder() {
        assert!(is_placeholder_person(
            &json!({"name": ERASED, "email": ERASED})
        ));
        assert!(is_placeholder_person(&json!({"name": SEALED})));
        assert!(!is_placeholder_person(
            &json!({"name": ERASED, "email": "ann@example.org"})
        ));
        assert!(!is_placeholder_person(&json!({"name": "Ann"})));
        assert!(!is_placeholder_person(&json!({})));
        assert!(!is_placeholder_person(&json!("Ann")));
    }

    #[test]
    fn identities_prefer_the_nhs_number_and_normalise_the_rest() {
        let a = identity_of(
            &json!({"name": "Ann  Example", "identifier": "9434765919"}),
            "c1",
        );
        let b = identity_of(
            &json!({"name": "A. Other", "identifier": "943-476-5919"}),
            "c2",
        );
        assert_eq!(a, b);
        let c = identity_of(
            &json!({"name": "ann example", "email": "Ann@Example.org "}),
            "c1",
        );
        let d = identity_of(
            &json!({"name": " Ann Example", "email": "ann@example.org"}),
            "c2",
        );
        assert_eq!(c, d);
        let e = identity_of(&json!({"name": "Ann Example"}), "c1");
        let f = identity_of(&json!({"name": "Ann Example"}), "c2");
        assert_ne!(e, f);
    }
}
