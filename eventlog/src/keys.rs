// Over 600 lines: the data-key table, subject links, wrapping and rotation, erasure and the
// subject-access reads are one concern (whose keys exist) and change together.
//! The data key table (`data_subject_keys`), the complaint-to-subject links and the
//! encrypting event repository that seals personal fields on the way into the log and opens
//! them on the way out.

use crate::crypto::{
    self, envelope_subjects, open_payload, seal_payload, wrapper_for, CryptoError, DataKey,
    Encryption, KeySet, KeyWrapper, Subjects,
};
use crate::{on_pool, on_tx, Pool, Tx};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Roles a data subject has on a complaint.
pub mod roles {
    /// Made the complaint for themselves.
    pub const COMPLAINANT: &str = "complainant";
    /// Made the complaint on behalf of the person affected.
    pub const REPRESENTATIVE: &str = "representative";
    /// The person the complaint is about.
    pub const PERSON_AFFECTED: &str = "person_affected";
}

fn now_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

type KeyRow = (String, Option<String>, String);

fn unwrap_rows(rows: Vec<KeyRow>) -> Result<HashMap<String, Option<DataKey>>, CryptoError> {
    let mut keys = HashMap::new();
    for (subject, wrapped, kek_id) in rows {
        let key = match wrapped {
            None => None,
            Some(text) => {
                let wrapper = wrapper_for(&kek_id).ok_or_else(|| {
                    CryptoError::Key(format!(
                        "the key-encryption key `{kek_id}` is not configured in this process"
                    ))
                })?;
                let bytes = B64.decode(text).map_err(|_| {
                    CryptoError::Key(format!("the data key of {subject} is corrupt"))
                })?;
                Some(wrapper.unwrap_key(&subject, &bytes)?)
            }
        };
        keys.insert(subject, key);
    }
    Ok(keys)
}

fn key_query(count: usize) -> String {
    let placeholders: Vec<String> = (1..=count).map(|i| format!("${i}")).collect();
    format!(
        "SELECT subject_id, wrapped_key, kek_id FROM data_subject_keys WHERE subject_id IN ({})",
        placeholders.join(", ")
    )
}

/// The keys of `subjects`, read through `pool`.
pub async fn load_keys(pool: &Pool, subjects: &BTreeSet<String>) -> Result<KeySet, CryptoError> {
    if subjects.is_empty() {
        return Ok(KeySet::looked_up(HashMap::new()));
    }
    let sql = key_query(subjects.len());
    let rows: Vec<KeyRow> = on_pool!(pool, |p| {
        let mut q = sqlx::query_as::<_, KeyRow>(&sql);
        for s in subjects {
            q = q.bind(s);
        }
        q.fetch_all(p).await?
    });
    Ok(KeySet::looked_up(unwrap_rows(rows)?))
}

/// The keys of `subjects`, read in `tx`.
pub async fn load_keys_tx(tx: &mut Tx, subjects: &BTreeSet<String>) -> Result<KeySet, CryptoError> {
    if subjects.is_empty() {
        return Ok(KeySet::looked_up(HashMap::new()));
    }
    let sql = key_query(subjects.len());
    let rows: Vec<KeyRow> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as::<_, KeyRow>(&sql);
        for s in subjects {
            q = q.bind(s);
        }
        q.fetch_all(c).await?
    });
    Ok(KeySet::looked_up(unwrap_rows(rows)?))
}

/// Creates `subject_id`'s data key, wrapped by `wrapper`, unless it has one.
pub async fn ensure_key(
    pool: &Pool,
    wrapper: &dyn KeyWrapper,
    subject_id: &str,
) -> Result<(), CryptoError> {
    let exists: Option<String> = on_pool!(pool, |p| {
        sqlx::query_scalar("SELECT subject_id FROM data_subject_keys WHERE subject_id = $1")
            .bind(subject_id)
            .fetch_optional(p)
            .await?
    });
    if exists.is_some() {
        return Ok(());
    }
    let key = DataKey::generate()?;
    let wrapped = B64.encode(wrapper.wrap(subject_id, &key)?);
    let kek_id = wrapper.kek_id();
    let created = now_text(Utc::now());
    on_pool!(pool, |p| {
        sqlx::query(
            "INSERT INTO data_subject_keys (subject_id, wrapped_key, kek_id, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (subject_id) DO NOTHING",
        )
        .bind(subject_id)
        .bind(&wrapped)
        .bind(&kek_id)
        .bind(&created)
        .execute(p)
        .await
        .map(|_| ())?
    });
    Ok(())
}

/// One complaint a data subject is named in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectComplaint {
    /// The complaint.
    pub complaint_id: String,
    /// As what: complainant, representative or person_affected.
    pub role: String,
    /// The organisation handling it.
    pub organisation_id: String,
}

/// Links `subject_id` to a complaint in `role`.
pub async fn link(
    pool: &Pool,
    complaint_id: &str,
    role: &str,
    subject_id: &str,
    organisation_id: &str,
) -> Result<(), CryptoError> {
    on_pool!(pool, |p| {
        sqlx::query(
            "INSERT INTO data_subject_complaints (complaint_id, role, subject_id, organisation_id)
             VALUES ($1, $2, $3, $4) ON CONFLICT (complaint_id, role) DO NOTHING",
        )
        .bind(complaint_id)
        .bind(role)
        .bind(subject_id)
        .bind(organisation_id)
        .execute(p)
        .await
        .map(|_| ())?
    });
    Ok(())
}

/// The data subjects of a complaint, as `(role, subject id)`.
pub async fn subjects_of(
    pool: &Pool,
    complaint_id: &str,
) -> Result<Vec<(String, String)>, CryptoError> {
    Ok(on_pool!(pool, |p| {
        sqlx::query_as::<_, (String, String)>(
            "SELECT role, subject_id FROM data_subject_complaints WHERE complaint_id = $1 ORDER BY role",
        )
        .bind(complaint_id)
        .fetch_all(p)
        .await?
    }))
}

/// The complaints naming `subject_id`.
pub async fn complaints_of(
    pool: &Pool,
    subject_id: &str,
) -> Result<Vec<SubjectComplaint>, CryptoError> {
    let rows: Vec<(String, String, String)> = on_pool!(pool, |p| {
        sqlx::query_as(
            "SELECT complaint_id, role, organisation_id FROM data_subject_complaints
             WHERE subject_id = $1 ORDER BY complaint_id, role",
        )
        .bind(subject_id)
        .fetch_all(p)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(complaint_id, role, organisation_id)| SubjectComplaint {
            complaint_id,
            role,
            organisation_id,
        })
        .collect())
}

/// A data subject's key record, without the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectRecord {
    /// The pseudonymous id.
    pub subject_id: String,
    /// The key-encryption key its data key is wrapped with.
    pub kek_id: String,
    /// When the key was made.
    pub created_at: String,
    /// When it was destroyed.
    pub erased_at: Option<String>,
    /// Who destroyed it.
    pub erased_by: Option<String>,
    /// Why.
    pub erasure_reason: Option<String>,
    /// Under what legal basis.
    pub legal_basis: Option<String>,
}

/// The key record of `subject_id`, if there is one.
pub async fn subject_record(
    pool: &Pool,
    subject_id: &str,
) -> Result<Option<SubjectRecord>, CryptoError> {
    type Row = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = on_pool!(pool, |p| {
        sqlx::query_as(
            "SELECT subject_id, kek_id, created_at, erased_at, erased_by, erasure_reason, legal_basis
             FROM data_subject_keys WHERE subject_id = $1",
        )
        .bind(subject_id)
        .fetch_optional(p)
        .await?
    });
    Ok(row.map(
        |(subject_id, kek_id, created_at, erased_at, erased_by, erasure_reason, legal_basis)| {
            SubjectRecord {
                subject_id,
                kek_id,
                created_at,
                erased_at,
                erased_by,
                erasure_reason,
                legal_basis,
            }
        },
    ))
}

/// Who erases a data subject, why and under what legal basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Erasure {
    /// Who (token subject or operator).
    pub by: String,
    /// Why (e.g. the request reference, or `retention: …`).
    pub reason: String,
    /// The legal basis (e.g. `UK GDPR Art 17(1)(a)`, `NHS Records Management Code`).
    pub legal_basis: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// What an erasure found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureOutcome {
    /// The key was destroyed now.
    Erased,
    /// It had been destroyed before; nothing changed.
    AlreadyErased,
    /// No such data subject.
    Unknown,
}

/// Destroys `subject_id`'s data key, recording who, why and the legal basis beside it.
/// Nothing in the event log changes. (PostgreSQL keeps the old row version until VACUUM and
/// SQLite the old page in its WAL until a checkpoint: see `schemas/encryption.md`.)
pub async fn erase(
    pool: &Pool,
    subject_id: &str,
    erasure: &Erasure,
) -> Result<ErasureOutcome, CryptoError> {
    let Some(record) = subject_record(pool, subject_id).await? else {
        return Ok(ErasureOutcome::Unknown);
    };
    if record.erased_at.is_some() {
        return Ok(ErasureOutcome::AlreadyErased);
    }
    let at = now_text(erasure.at);
    let sql = "UPDATE data_subject_keys
               SET wrapped_key = NULL, erased_at = $1, erased_by = $2, erasure_reason = $3, legal_basis = $4
               WHERE subject_id = $5 AND erased_at IS NULL";
    let changed = match pool {
        Pool::Postgres(p) => sqlx::query(sql)
            .bind(&at)
            .bind(&erasure.by)
            .bind(&erasure.reason)
            .bind(&erasure.legal_basis)
            .bind(subject_id)
            .execute(p)
            .await?
            .rows_affected(),
        Pool::Sqlite(p) => {
            let mut conn = p.acquire().await?;
            // Overwrite the freed bytes of the old row in the database file.
            sqlx::query("PRAGMA secure_delete = ON")
                .execute(&mut *conn)
                .await?;
            sqlx::query(sql)
                .bind(&at)
                .bind(&erasure.by)
                .bind(&erasure.reason)
                .bind(&erasure.legal_basis)
                .bind(subject_id)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        }
    };
    Ok(if changed > 0 {
        ErasureOutcome::Erased
    } else {
        ErasureOutcome::AlreadyErased
    })
}

/// Re-wraps every live data key under `new` (key-encryption key rotation): the old key
/// must still be registered. The log is not touched. Returns how many keys moved.
pub async fn rewrap_all(pool: &Pool, new: &dyn KeyWrapper) -> Result<usize, CryptoError> {
    let new_id = new.kek_id();
    let rows: Vec<KeyRow> = on_pool!(pool, |p| {
        sqlx::query_as(
            "SELECT subject_id, wrapped_key, kek_id FROM data_subject_keys
             WHERE wrapped_key IS NOT NULL AND kek_id <> $1",
        )
        .bind(&new_id)
        .fetch_all(p)
        .await?
    });
    let mut moved = 0;
    for (subject, key) in unwrap_rows(rows)? {
        let Some(key) = key else { continue };
        let wrapped = B64.encode(new.wrap(&subject, &key)?);
        on_pool!(pool, |p| {
            sqlx::query(
                "UPDATE data_subject_keys SET wrapped_key = $1, kek_id = $2
                 WHERE subject_id = $3 AND wrapped_key IS NOT NULL",
            )
            .bind(&wrapped)
            .bind(&new_id)
            .bind(&subject)
            .execute(p)
            .await
            .map(|_| ())?
        });
        moved += 1;
    }
    Ok(moved)
}

/// The subjects of an opened `ComplaintReceived` payload, registered (keys made, links
/// written) when `encryption` is given.
pub async fn register_receipt(
    pool: &Pool,
    encryption: &Encryption,
    complaint_id: &str,
    receipt: &Value,
) -> Result<Subjects, CryptoError> {
    let organisation = receipt
        .get("organisation_id")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let particulars = receipt.get("particulars").cloned().unwrap_or(Value::Null);
    let affected = particulars
        .get("person_affected")
        .filter(|p| p.is_object())
        .map(|p| encryption.subject_of_person(p, complaint_id));
    let complainant = particulars
        .get("complainant")
        .filter(|p| p.is_object())
        .map(|p| encryption.subject_of_person(p, complaint_id));
    let complainant_role = if affected.is_some() {
        roles::REPRESENTATIVE
    } else {
        roles::COMPLAINANT
    };
    for (role, subject) in [
        (complainant_role, &complainant),
        (roles::PERSON_AFFECTED, &affected),
    ] {
        if let Some(subject) = subject {
            ensure_key(pool, encryption.wrapper().as_ref(), subject).await?;
            link(pool, complaint_id, role, subject, organisation).await?;
        }
    }
    Ok(Subjects {
        complainant,
        person_affected: affected,
    })
}

/// The subjects recorded for a complaint.
pub async fn recorded_subjects(pool: &Pool, complaint_id: &str) -> Result<Subjects, CryptoError> {
    let mut subjects = Subjects::default();
    for (role, subject) in subjects_of(pool, complaint_id).await? {
        if role == roles::PERSON_AFFECTED {
            subjects.person_affected = Some(subject);
        } else {
            subjects.complainant = Some(subject);
        }
    }
    Ok(subjects)
}

/// Opens every sealed field of `events` (one query for all their keys).
pub async fn open_events(pool: &Pool, events: &mut [SerializedEvent]) -> Result<(), CryptoError> {
    let mut subjects = BTreeSet::new();
    for event in events.iter() {
        envelope_subjects(&event.payload, &mut subjects);
    }
    if subjects.is_empty() {
        return Ok(());
    }
    let keys = load_keys(pool, &subjects).await?;
    for event in events.iter_mut() {
        let id = format!("{}:{}", event.aggregate_id, event.sequence);
        open_payload(&id, &mut event.payload, &keys);
    }
    Ok(())
}

fn persistence(e: CryptoError) -> PersistenceError {
    match e {
        CryptoError::Database(db) => PersistenceError::UnknownError(Box::new(db)),
        other => PersistenceError::UnknownError(Box::new(other)),
    }
}

/// A postgres-es / sqlite-es event repository with personal fields sealed on `persist` and
/// opened on every load. Without an [`Encryption`] it stores plaintext but still opens what
/// was sealed (keys are read from the table, key-encryption keys from the registry).
pub struct EncryptingRepository<R> {
    inner: R,
    pool: Pool,
    encryption: Option<Arc<Encryption>>,
}

impl<R> EncryptingRepository<R> {
    /// Wraps `inner`, whose tables live in `pool`.
    pub fn new(inner: R, pool: Pool, encryption: Option<Arc<Encryption>>) -> Self {
        Self {
            inner,
            pool,
            encryption,
        }
    }
}

impl<R: PersistedEventRepository> EncryptingRepository<R> {
    async fn subjects_for<A: Aggregate>(
        &self,
        encryption: &Encryption,
        event: &SerializedEvent,
    ) -> Result<Subjects, PersistenceError> {
        if let Some(receipt) = event.payload.get("ComplaintReceived") {
            return register_receipt(&self.pool, encryption, &event.aggregate_id, receipt)
                .await
                .map_err(persistence);
        }
        let recorded = recorded_subjects(&self.pool, &event.aggregate_id)
            .await
            .map_err(persistence)?;
        if !recorded.is_empty() {
            return Ok(recorded);
        }
        // A complaint received before encryption was switched on: register its people from
        // the (plaintext) receipt now, so its later events are sealed.
        let mut stored = self.inner.get_events::<A>(&event.aggregate_id).await?;
        open_events(&self.pool, &mut stored)
            .await
            .map_err(persistence)?;
        match stored
            .iter()
            .find_map(|e| e.payload.get("ComplaintReceived"))
        {
            Some(receipt) => register_receipt(&self.pool, encryption, &event.aggregate_id, receipt)
                .await
                .map_err(persistence),
            None => Ok(Subjects::default()),
        }
    }

    async fn seal<A: Aggregate>(
        &self,
        encryption: &Encryption,
        events: &[SerializedEvent],
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let mut out = events.to_vec();
        let mut known: HashMap<String, Subjects> = HashMap::new();
        for event in out.iter_mut() {
            let receipt = event.payload.get("ComplaintReceived").is_some();
            let subjects = match known.get(&event.aggregate_id) {
                Some(s) if !receipt => s.clone(),
                _ => {
                    let s = self.subjects_for::<A>(encryption, event).await?;
                    known.insert(event.aggregate_id.clone(), s.clone());
                    s
                }
            };
            if subjects.is_empty() {
                tracing::warn!(complaint_id = %event.aggregate_id, "no data subjects known; personal fields stored unsealed");
                continue;
            }
            let mut ids = BTreeSet::new();
            ids.extend(subjects.complainant.iter().cloned());
            ids.extend(subjects.person_affected.iter().cloned());
            let keys = load_keys(&self.pool, &ids).await.map_err(persistence)?;
            let id = format!("{}:{}", event.aggregate_id, event.sequence);
            seal_payload(
                &event.event_type,
                &event.event_version,
                &id,
                &mut event.payload,
                &subjects,
                &keys,
            )
            .map_err(persistence)?;
        }
        Ok(out)
    }
}

impl<R: PersistedEventRepository> PersistedEventRepository for EncryptingRepository<R> {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let mut events = self.inner.get_events::<A>(aggregate_id).await?;
        open_events(&self.pool, &mut events)
            .await
            .map_err(persistence)?;
        Ok(events)
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let mut events = self
            .inner
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await?;
        open_events(&self.pool, &mut events)
            .await
            .map_err(persistence)?;
        Ok(events)
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.inner.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        match &self.encryption {
            Some(encryption) => {
                let sealed = self.seal::<A>(encryption, events).await?;
                self.inner.persist::<A>(&sealed, snapshot_update).await
            }
            None => self.inner.persist::<A>(events, snapshot_update).await,
        }
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let events = self.get_events::<A>(aggregate_id).await?;
        let (mut feed, stream) = ReplayStream::new(events.len() + 1);
        for event in events {
            feed.push(Ok(event)).await?;
        }
        Ok(stream)
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        // The inner stream yields decoded envelopes, too late to open sealed fields. Whole-log
        // replays go through `complaints_eventlog::read_after`, which opens them.
        Err(PersistenceError::UnknownError(
            "stream_all_events is not supported over sealed events; use read_after".into(),
        ))
    }
}

/// Keys for every sealed field of `payloads` (stored JSON texts), read in `tx`.
pub async fn keys_for_texts<'a>(
    tx: &mut Tx,
    payloads: impl Iterator<Item = &'a str>,
) -> Result<KeySet, CryptoError> {
    let mut subjects = BTreeSet::new();
    for text in payloads {
        if crypto::may_hold_envelopes(text) {
            if let Ok(value) = serde_json::from_str::<Value>(text) {
                envelope_subjects(&value, &mut subjects);
            }
        }
    }
    load_keys_tx(tx, &subjects).await
}
