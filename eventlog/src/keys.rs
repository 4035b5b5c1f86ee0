// Over 600 lines: the data-key table, subject links, wrapping and rotation, erasure and the
// subject-access reads are one concern (whose keys exist) and change together.
//! The data key table (`data_subject_keys`), the complaint-to-subject links and the
//! encrypting event repository that seals personal fields on the way into the log and opens
//! them on the way out.

use crate::crypto::{
    self, envelope_subjects, identity_of, is_placeholder_person, open_payload, seal_payload,
    wrapper_for, CryptoError, DataKey, Encryption, KeySet, KeyWrapper, Subjects,
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

/// `$from, …, $(from + count - 1)`.
fn placeholders(from: usize, count: usize) -> String {
    let list: Vec<String> = (from..from + count).map(|i| format!("${i}")).collect();
    list.join(", ")
}

fn key_query(count: usize) -> String {
    format!(
        "SELECT subject_id, wrapped_key, kek_id FROM data_subject_keys WHERE subject_id IN ({})",
        placeholders(1, count)
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
    /// Which generation of the person it is: 1 for their first key, n + 1 for the key of
    /// data they gave afresh after generation n was erased (`schemas/encryption.md`).
    pub generation: u32,
}

type RecordRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

const RECORD_COLUMNS: &str = "subject_id, kek_id, created_at, erased_at, erased_by, \
     erasure_reason, legal_basis, CAST(generation AS BIGINT) AS generation";

fn record_of(row: RecordRow) -> Result<SubjectRecord, CryptoError> {
    let (subject_id, kek_id, created_at, erased_at, erased_by, erasure_reason, legal_basis, g) =
        row;
    let generation = u32::try_from(g)
        .map_err(|_| CryptoError::Key(format!("{subject_id} has generation {g}")))?;
    Ok(SubjectRecord {
        subject_id,
        kek_id,
        created_at,
        erased_at,
        erased_by,
        erasure_reason,
        legal_basis,
        generation,
    })
}

/// The key record of `subject_id`, if there is one.
pub async fn subject_record(
    pool: &Pool,
    subject_id: &str,
) -> Result<Option<SubjectRecord>, CryptoError> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM data_subject_keys WHERE subject_id = $1");
    let row: Option<RecordRow> = on_pool!(pool, |p| {
        sqlx::query_as(&sql)
            .bind(subject_id)
            .fetch_optional(p)
            .await?
    });
    row.map(record_of).transpose()
}

/// Every generation of the person `subject_id` is a generation of, oldest first (empty when
/// there is no such subject). One query.
pub async fn generations_of(
    pool: &Pool,
    subject_id: &str,
) -> Result<Vec<SubjectRecord>, CryptoError> {
    // `first_subject_id` is NULL only on rows an older release wrote: generation 1 rows,
    // whose first is themselves. Two indexed look-ups, not a COALESCE over the table.
    let sql = format!(
        "WITH me AS (SELECT COALESCE(first_subject_id, subject_id) AS first
                     FROM data_subject_keys WHERE subject_id = $1)
         SELECT {RECORD_COLUMNS} FROM data_subject_keys
         WHERE first_subject_id IN (SELECT first FROM me)
         UNION
         SELECT {RECORD_COLUMNS} FROM data_subject_keys
         WHERE subject_id IN (SELECT first FROM me)
         ORDER BY generation, subject_id"
    );
    let rows: Vec<RecordRow> = on_pool!(pool, |p| {
        sqlx::query_as(&sql).bind(subject_id).fetch_all(p).await?
    });
    rows.into_iter().map(record_of).collect()
}

/// The complaints naming any of `subject_ids`, as `(subject id, complaint)`. One query.
pub async fn complaints_of_subjects(
    pool: &Pool,
    subject_ids: &[String],
) -> Result<Vec<(String, SubjectComplaint)>, CryptoError> {
    if subject_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT subject_id, complaint_id, role, organisation_id FROM data_subject_complaints
         WHERE subject_id IN ({}) ORDER BY complaint_id, role",
        placeholders(1, subject_ids.len())
    );
    let rows: Vec<(String, String, String, String)> = on_pool!(pool, |p| {
        let mut q = sqlx::query_as(&sql);
        for s in subject_ids {
            q = q.bind(s);
        }
        q.fetch_all(p).await?
    });
    Ok(rows
        .into_iter()
        .map(|(subject, complaint_id, role, organisation_id)| {
            (
                subject,
                SubjectComplaint {
                    complaint_id,
                    role,
                    organisation_id,
                },
            )
        })
        .collect())
}

/// The subjects recorded for each of `complaint_ids` (complaints without any are left out).
/// One query.
pub async fn subjects_of_complaints(
    pool: &Pool,
    complaint_ids: &[String],
) -> Result<HashMap<String, Subjects>, CryptoError> {
    let mut out: HashMap<String, Subjects> = HashMap::new();
    if complaint_ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT complaint_id, role, subject_id FROM data_subject_complaints
         WHERE complaint_id IN ({})",
        placeholders(1, complaint_ids.len())
    );
    let rows: Vec<(String, String, String)> = on_pool!(pool, |p| {
        let mut q = sqlx::query_as(&sql);
        for id in complaint_ids {
            q = q.bind(id);
        }
        q.fetch_all(p).await?
    });
    for (complaint, role, subject) in rows {
        let subjects = out.entry(complaint).or_default();
        if role == roles::PERSON_AFFECTED {
            subjects.person_affected = Some(subject);
        } else {
            subjects.complainant = Some(subject);
        }
    }
    Ok(out)
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

/// Data keys re-wrapped per statement by [`rewrap_all`]: 2 parameters each keeps SQLite's
/// statement well under its parameter limit.
const REWRAP_PAGE: usize = 1_000;

/// Re-wraps every live data key under `new` (key-encryption key rotation). The KEK each key
/// is wrapped with now must be registered ([`crate::crypto::register_wrapper`]); the log is
/// not touched, so the chain and every stored event stay as they are. Keys are moved a page
/// at a time, one `UPDATE` per page, in subject id order, and `progress` hears
/// `(moved so far, live keys under other KEKs at the start)`. An erasure racing the rotation
/// wins: a key erased meanwhile stays erased. Returns how many keys moved.
pub async fn rewrap_all(
    pool: &Pool,
    new: &dyn KeyWrapper,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<usize, CryptoError> {
    let new_id = new.kek_id();
    let total: i64 = on_pool!(pool, |p| {
        sqlx::query_scalar(
            "SELECT count(*) FROM data_subject_keys WHERE wrapped_key IS NOT NULL AND kek_id <> $1",
        )
        .bind(&new_id)
        .fetch_one(p)
        .await?
    });
    let total = usize::try_from(total).unwrap_or(0);
    let mut after = String::new();
    let mut moved = 0;
    loop {
        let rows: Vec<KeyRow> = on_pool!(pool, |p| {
            sqlx::query_as(
                "SELECT subject_id, wrapped_key, kek_id FROM data_subject_keys
                 WHERE wrapped_key IS NOT NULL AND kek_id <> $1 AND subject_id > $2
                 ORDER BY subject_id LIMIT $3",
            )
            .bind(&new_id)
            .bind(&after)
            .bind(REWRAP_PAGE as i64)
            .fetch_all(p)
            .await?
        });
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        let mut subjects = Vec::with_capacity(rows.len());
        let mut wrapped = Vec::with_capacity(rows.len());
        for (subject, key) in unwrap_rows(rows)? {
            let Some(key) = key else { continue };
            wrapped.push(B64.encode(new.wrap(&subject, &key)?));
            subjects.push(subject);
        }
        moved += rewrap_page(pool, &subjects, &wrapped, &new_id).await?;
        progress(moved, total);
    }
    Ok(moved)
}

/// One statement for a page of re-wrapped keys.
async fn rewrap_page(
    pool: &Pool,
    subjects: &[String],
    wrapped: &[String],
    kek_id: &str,
) -> Result<usize, CryptoError> {
    if subjects.is_empty() {
        return Ok(0);
    }
    let changed = match pool {
        Pool::Postgres(p) => sqlx::query(
            "UPDATE data_subject_keys AS k SET wrapped_key = v.wrapped_key, kek_id = $3
             FROM UNNEST($1::text[], $2::text[]) AS v(subject_id, wrapped_key)
             WHERE k.subject_id = v.subject_id AND k.wrapped_key IS NOT NULL",
        )
        .bind(subjects)
        .bind(wrapped)
        .bind(kek_id)
        .execute(p)
        .await?
        .rows_affected(),
        Pool::Sqlite(p) => {
            let rows: Vec<String> = (0..subjects.len())
                .map(|i| format!("(${}, ${})", 2 * i + 2, 2 * i + 3))
                .collect();
            let sql = format!(
                "WITH v(subject_id, wrapped_key) AS (VALUES {})
                 UPDATE data_subject_keys
                 SET wrapped_key = (SELECT v.wrapped_key FROM v WHERE v.subject_id = data_subject_keys.subject_id),
                     kek_id = $1
                 WHERE subject_id IN (SELECT subject_id FROM v) AND wrapped_key IS NOT NULL",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(kek_id);
            for (subject, key) in subjects.iter().zip(wrapped) {
                query = query.bind(subject).bind(key);
            }
            query.execute(p).await?.rows_affected()
        }
    };
    Ok(usize::try_from(changed).unwrap_or(0))
}

/// Which generation the people of a receipt not yet linked to its complaint are recorded
/// under (`schemas/encryption.md`, "Generations").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// A receipt being appended: data the person gives now, under the first generation of
    /// them whose key is not erased (a new one once every earlier one was).
    Fresh,
    /// The stored receipt of a complaint received before encryption was switched on: it
    /// predates every key and so every erasure, and belongs to generation 1, erased or not.
    Stored,
}

/// The generation data given afresh is recorded under, from the generations known of the
/// person as `(generation, erased)`: the first that is not erased, or not yet made.
pub fn fresh_generation(known: &[(u32, bool)]) -> u32 {
    let mut generation = 1;
    while known.iter().any(|&(g, erased)| g == generation && erased) {
        generation += 1;
    }
    generation
}

/// What the key and link tables hold for one receipt: the links of its complaint (and of the
/// case it came from), and every generation of its people.
#[derive(Debug, Default)]
struct Known {
    /// `(complaint id, role, subject id)`.
    links: Vec<(String, String, String)>,
    /// `(first subject id, subject id, generation, erased)`.
    keys: Vec<(String, String, u32, bool)>,
}

impl Known {
    /// One query for both tables, however many people.
    async fn read(
        pool: &Pool,
        complaints: &[&str],
        firsts: &[String],
    ) -> Result<Self, CryptoError> {
        let keys_from = complaints.len() + 1;
        // `first_subject_id` is NULL on generation 1 rows an older release wrote: those are
        // found by their own id, which is the first.
        let sql = format!(
            "SELECT 'link', complaint_id, role, subject_id, CAST(0 AS BIGINT), CAST(NULL AS TEXT)
             FROM data_subject_complaints WHERE complaint_id IN ({complaints})
             UNION ALL
             SELECT 'key', COALESCE(first_subject_id, subject_id), '', subject_id,
                    CAST(generation AS BIGINT), erased_at
             FROM data_subject_keys WHERE first_subject_id IN ({firsts}) OR subject_id IN ({again})",
            complaints = placeholders(1, complaints.len()),
            firsts = placeholders(keys_from, firsts.len()),
            again = placeholders(keys_from + firsts.len(), firsts.len()),
        );
        type Row = (String, String, String, String, i64, Option<String>);
        let rows: Vec<Row> = on_pool!(pool, |p| {
            let mut q = sqlx::query_as::<_, Row>(&sql);
            for c in complaints {
                q = q.bind(*c);
            }
            for f in firsts.iter().chain(firsts) {
                q = q.bind(f);
            }
            q.fetch_all(p).await?
        });
        let mut known = Known::default();
        for (kind, owner, role, subject, generation, erased_at) in rows {
            if kind == "link" {
                known.links.push((owner, role, subject));
            } else {
                let generation = u32::try_from(generation).map_err(|_| {
                    CryptoError::Key(format!("{subject} has generation {generation}"))
                })?;
                known
                    .keys
                    .push((owner, subject, generation, erased_at.is_some()));
            }
        }
        Ok(known)
    }

    /// The subject linked to `complaint` as the person affected (`affected`) or as the one
    /// who complained (complainant or representative).
    fn link(&self, complaint: &str, affected: bool) -> Option<&str> {
        self.links
            .iter()
            .find(|(c, role, _)| c == complaint && (role == roles::PERSON_AFFECTED) == affected)
            .map(|(_, _, subject)| subject.as_str())
    }

    /// Chooses the subject of each person of `receipt` and records the keys and links that
    /// choice needs, in `self` as well, so a later receipt of the same batch sees them.
    fn register(
        &mut self,
        encryption: &Encryption,
        receipt: &ReceiptPeople<'_>,
        registration: Registration,
        new_keys: &mut Vec<NewKey>,
        new_links: &mut Vec<NewLink>,
    ) -> Subjects {
        let mut subjects = Subjects::default();
        for (role, person, identity, first) in &receipt.people {
            let affected = *role == roles::PERSON_AFFECTED;
            let subject = match self.link(receipt.complaint_id, affected) {
                Some(linked) => linked.to_string(),
                None => {
                    let inherited = receipt
                        .origin
                        .filter(|_| is_placeholder_person(person))
                        .and_then(|o| self.link(o, affected))
                        .map(str::to_string);
                    let subject = match inherited {
                        Some(s) => s,
                        None => {
                            let generation = match registration {
                                Registration::Fresh => fresh_generation(&self.generations(first)),
                                Registration::Stored => 1,
                            };
                            let subject = encryption.subject_id_at(identity, generation);
                            if !self.has_key(&subject) {
                                new_keys.push((subject.clone(), first.clone(), generation));
                                self.keys
                                    .push((first.clone(), subject.clone(), generation, false));
                            }
                            subject
                        }
                    };
                    new_links.push((
                        receipt.complaint_id.to_string(),
                        receipt.organisation.to_string(),
                        role,
                        subject.clone(),
                    ));
                    self.links.push((
                        receipt.complaint_id.to_string(),
                        role.to_string(),
                        subject.clone(),
                    ));
                    subject
                }
            };
            if affected {
                subjects.person_affected = Some(subject);
            } else {
                subjects.complainant = Some(subject);
            }
        }
        subjects
    }

    fn generations(&self, first: &str) -> Vec<(u32, bool)> {
        self.keys
            .iter()
            .filter(|(f, ..)| f == first)
            .map(|&(_, _, generation, erased)| (generation, erased))
            .collect()
    }

    fn has_key(&self, subject: &str) -> bool {
        self.keys.iter().any(|(_, s, ..)| s == subject)
    }
}

/// The people a `ComplaintReceived` payload names, before any subject is chosen for them.
pub(crate) struct ReceiptPeople<'a> {
    complaint_id: &'a str,
    organisation: &'a str,
    /// The complaint this one was handed over or linked from, if any.
    origin: Option<&'a str>,
    /// `(role, person, identity, first subject id)`.
    people: Vec<(&'static str, &'a Value, String, String)>,
}

impl<'a> ReceiptPeople<'a> {
    pub(crate) fn of(encryption: &Encryption, complaint_id: &'a str, receipt: &'a Value) -> Self {
        let person = |role: &str| {
            receipt
                .get("particulars")
                .and_then(|p| p.get(role))
                .filter(|p| p.is_object())
        };
        let affected = person("person_affected");
        let complainant_role = if affected.is_some() {
            roles::REPRESENTATIVE
        } else {
            roles::COMPLAINANT
        };
        let people = [
            (complainant_role, person("complainant")),
            (roles::PERSON_AFFECTED, affected),
        ]
        .into_iter()
        .filter_map(|(role, p)| {
            p.map(|p| {
                let identity = identity_of(p, complaint_id);
                let first = encryption.subject_id(&identity);
                (role, p, identity, first)
            })
        })
        .collect();
        Self {
            complaint_id,
            organisation: receipt
                .get("organisation_id")
                .and_then(Value::as_str)
                .unwrap_or("unknown"),
            origin: receipt
                .pointer("/origin/case_id")
                .and_then(Value::as_str)
                .filter(|id| *id != complaint_id),
            people,
        }
    }

    /// The complaints whose links decide the subjects: this one and its origin.
    pub(crate) fn complaints(&self) -> impl Iterator<Item = &'a str> {
        std::iter::once(self.complaint_id).chain(self.origin)
    }

    /// The first-generation subject ids of the people named.
    pub(crate) fn firsts(&self) -> impl Iterator<Item = &String> {
        self.people.iter().map(|(.., first)| first)
    }
}

/// Data keys to create: `(subject id, first subject id, generation)`.
pub(crate) type NewKey = (String, String, u32);
/// Links to write: `(complaint id, organisation id, role, subject id)`.
pub(crate) type NewLink = (String, String, &'static str, String);

/// The subjects of an opened `ComplaintReceived` payload of `complaint_id`, registered: keys
/// made and links written for people not yet linked to it. A person already linked keeps
/// that subject, erased or not, so replaying or re-sending an old receipt never stores an
/// erased person's data again; so does a person copied as erased placeholders from the case
/// the complaint came from (a hand-over of an erased person's case). Anyone else gets the
/// generation `registration` says. Three statements at most, however the people stand.
pub async fn register_receipt(
    pool: &Pool,
    encryption: &Encryption,
    complaint_id: &str,
    receipt: &Value,
    registration: Registration,
) -> Result<Subjects, CryptoError> {
    let receipt = ReceiptPeople::of(encryption, complaint_id, receipt);
    if receipt.people.is_empty() {
        return Ok(Subjects::default());
    }
    let complaints: Vec<&str> = receipt.complaints().collect();
    let firsts: Vec<String> = receipt.firsts().cloned().collect();
    let mut known = Known::read(pool, &complaints, &firsts).await?;
    let (mut new_keys, mut new_links) = (Vec::new(), Vec::new());
    let subjects = known.register(
        encryption,
        &receipt,
        registration,
        &mut new_keys,
        &mut new_links,
    );
    if !new_keys.is_empty() || !new_links.is_empty() {
        // One commit for both: a receipt already pays one for its events.
        let mut tx = pool.begin().await?;
        insert_keys(&mut tx, encryption.wrapper().as_ref(), &new_keys).await?;
        insert_links(&mut tx, &new_links).await?;
        tx.commit().await?;
    }
    Ok(subjects)
}

/// The subjects of many receipts at once, for a bulk load: one read of what is known of
/// every complaint and person in `receipts`, then each registered in order, so two receipts
/// of the same person in one batch share a subject. The keys and links to write are
/// returned for the caller's transaction.
pub(crate) async fn register_receipts(
    pool: &Pool,
    encryption: &Encryption,
    receipts: &[ReceiptPeople<'_>],
) -> Result<(HashMap<String, Subjects>, Vec<NewKey>, Vec<NewLink>), CryptoError> {
    let complaints: Vec<&str> = receipts
        .iter()
        .flat_map(ReceiptPeople::complaints)
        .collect();
    let firsts: Vec<String> = receipts
        .iter()
        .flat_map(ReceiptPeople::firsts)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut known = if complaints.is_empty() {
        Known::default()
    } else {
        Known::read(pool, &complaints, &firsts).await?
    };
    let (mut new_keys, mut new_links) = (Vec::new(), Vec::new());
    let mut subjects = HashMap::with_capacity(receipts.len());
    for receipt in receipts {
        let found = known.register(
            encryption,
            receipt,
            Registration::Fresh,
            &mut new_keys,
            &mut new_links,
        );
        subjects.insert(receipt.complaint_id.to_string(), found);
    }
    Ok((subjects, new_keys, new_links))
}

/// Creates the data keys of `(subject id, first subject id, generation)`, one statement.
pub(crate) async fn insert_keys(
    tx: &mut Tx,
    wrapper: &dyn KeyWrapper,
    keys: &[NewKey],
) -> Result<(), CryptoError> {
    if keys.is_empty() {
        return Ok(());
    }
    let kek_id = wrapper.kek_id();
    let created = now_text(Utc::now());
    let mut rows = Vec::with_capacity(keys.len());
    for (subject, first, generation) in keys {
        let wrapped = B64.encode(wrapper.wrap(subject, &DataKey::generate()?)?);
        let generation = i32::try_from(*generation)
            .map_err(|_| CryptoError::Key(format!("generation {generation} of {first}")))?;
        rows.push((subject, wrapped, first, generation));
    }
    let values: Vec<String> = (0..rows.len())
        .map(|i| format!("({}, $1, $2)", placeholders(3 + i * 4, 4)))
        .collect();
    // Column order follows the VALUES rows: subject, key, first, generation, then kek, time.
    let sql = format!(
        "INSERT INTO data_subject_keys
             (subject_id, wrapped_key, first_subject_id, generation, kek_id, created_at)
         VALUES {} ON CONFLICT (subject_id) DO NOTHING",
        values.join(", ")
    );
    on_tx!(tx, |c| {
        let mut q = sqlx::query(&sql).bind(&kek_id).bind(&created);
        for (subject, wrapped, first, generation) in &rows {
            q = q
                .bind(*subject)
                .bind(wrapped)
                .bind(*first)
                .bind(*generation);
        }
        q.execute(c).await.map(|_| ())?
    });
    Ok(())
}

/// Links subjects to complaints in their roles, one statement.
pub(crate) async fn insert_links(tx: &mut Tx, links: &[NewLink]) -> Result<(), CryptoError> {
    if links.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..links.len())
        .map(|i| format!("({})", placeholders(1 + i * 4, 4)))
        .collect();
    let sql = format!(
        "INSERT INTO data_subject_complaints (complaint_id, organisation_id, role, subject_id)
         VALUES {} ON CONFLICT (complaint_id, role) DO NOTHING",
        values.join(", ")
    );
    on_tx!(tx, |c| {
        let mut q = sqlx::query(&sql);
        for (complaint, organisation, role, subject) in links {
            q = q
                .bind(complaint)
                .bind(organisation)
                .bind(*role)
                .bind(subject);
        }
        q.execute(c).await.map(|_| ())?
    });
    Ok(())
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
            return register_receipt(
                &self.pool,
                encryption,
                &event.aggregate_id,
                receipt,
                Registration::Fresh,
            )
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
            Some(receipt) => register_receipt(
                &self.pool,
                encryption,
                &event.aggregate_id,
                receipt,
                Registration::Stored,
            )
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
            // Most commands write nothing personal: no subjects or keys to look up.
            if !complaints_domain::ComplaintEvent::carries_personal_data(&event.event_type) {
                continue;
            }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::crypto::{LocalKek, ERASED};
    use serde_json::json;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use std::str::FromStr;

    #[test]
    fn data_given_afresh_goes_to_the_first_generation_not_erased() {
        assert_eq!(fresh_generation(&[]), 1);
        assert_eq!(fresh_generation(&[(1, false)]), 1);
        assert_eq!(fresh_generation(&[(1, true)]), 2);
        assert_eq!(fresh_generation(&[(2, false), (1, true)]), 2);
        assert_eq!(fresh_generation(&[(1, true), (2, true)]), 3);
    }

    async fn database() -> Pool {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .unwrap()
            .foreign_keys(true);
        // One connection: every query sees the same in-memory database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        let pool = Pool::Sqlite(pool);
        crate::EventLog::with_pool(pool.clone())
            .migrate()
            .await
            .unwrap();
        pool
    }

    fn receipt(person: Value, origin: Option<&str>) -> Value {
        let mut receipt = json!({
            "organisation_id": "RAL",
            "particulars": {"complainant": person, "description": "words"}
        });
        if let Some(case_id) = origin {
            receipt["origin"] = json!({"relation": "enquiry_treated_as_complaint",
                                       "organisation_id": "RAL", "case_id": case_id});
        }
        receipt
    }

    async fn erase_now(pool: &Pool, subject: &str) {
        let erasure = Erasure {
            by: "dpo".into(),
            reason: "request".into(),
            legal_basis: "UK GDPR Art 17(1)(a)".into(),
            at: Utc::now(),
        };
        assert_eq!(
            erase(pool, subject, &erasure).await.unwrap(),
            ErasureOutcome::Erased
        );
    }

    async fn live(pool: &Pool, subject: &str) -> bool {
        let keys = load_keys(pool, &BTreeSet::from([subject.to_string()]))
            .await
            .unwrap();
        keys.usable(subject)
    }

    #[tokio::test]
    async fn a_person_erased_who_complains_again_gets_a_new_key_and_old_complaints_keep_theirs() {
        let pool = database().await;
        let encryption = Encryption::new(
            Arc::new(LocalKek::from_secret(b"kek")),
            b"subject-secret".to_vec(),
        );
        let ann = json!({"name": "Ann Example", "email": "ann@example.org"});
        let identity = identity_of(&ann, "");
        let register = |complaint: &'static str, receipt: Value, registration| {
            let (pool, encryption) = (&pool, &encryption);
            async move {
                register_receipt(pool, encryption, complaint, &receipt, registration)
                    .await
                    .unwrap()
                    .complainant
                    .unwrap()
            }
        };

        let first = register("c1", receipt(ann.clone(), None), Registration::Fresh).await;
        assert_eq!(
            first,
            encryption.subject_id(&identity),
            "generation 1 as before"
        );
        let again = register("c2", receipt(ann.clone(), None), Registration::Fresh).await;
        assert_eq!(
            again, first,
            "a person not erased is linked across complaints"
        );

        erase_now(&pool, &first).await;
        let second = register("c3", receipt(ann.clone(), None), Registration::Fresh).await;
        assert_eq!(second, encryption.subject_id_at(&identity, 2));
        assert!(live(&pool, &second).await, "the new complaint is readable");
        assert!(!live(&pool, &first).await);

        // The old complaints keep the erased subject: a replayed or re-sent receipt, a later
        // event (recorded subjects), and a hand-over copying the erased placeholders.
        let replayed = register("c1", receipt(ann.clone(), None), Registration::Fresh).await;
        assert_eq!(replayed, first);
        assert_eq!(
            recorded_subjects(&pool, "c2").await.unwrap().complainant,
            Some(first.clone())
        );
        let placeholders = json!({"name": ERASED, "email": ERASED});
        let handed_over = register("c4", receipt(placeholders, Some("c1")), Registration::Fresh);
        assert_eq!(handed_over.await, first);
        // A hand-over carrying real details is data the person's current generation holds.
        let handed_over = register("c5", receipt(ann.clone(), Some("c1")), Registration::Fresh);
        assert_eq!(handed_over.await, second);
        // A complaint stored before encryption predates the erasure.
        let stored = register("c6", receipt(ann.clone(), None), Registration::Stored).await;
        assert_eq!(stored, first);

        // Every generation is found from any of them, oldest first.
        for subject in [&first, &second] {
            let generations = generations_of(&pool, subject).await.unwrap();
            let seen: Vec<(&str, u32, bool)> = generations
                .iter()
                .map(|g| (g.subject_id.as_str(), g.generation, g.erased_at.is_some()))
                .collect();
            assert_eq!(
                seen,
                [(first.as_str(), 1, true), (second.as_str(), 2, false)]
            );
        }
        let named = complaints_of_subjects(&pool, &[first.clone(), second.clone()])
            .await
            .unwrap();
        let of = |subject: &str| -> Vec<&str> {
            named
                .iter()
                .filter(|(s, _)| s == subject)
                .map(|(_, c)| c.complaint_id.as_str())
                .collect()
        };
        assert_eq!(of(&first), ["c1", "c2", "c4", "c6"]);
        assert_eq!(of(&second), ["c3", "c5"]);
        let by_complaint = subjects_of_complaints(&pool, &["c1".into(), "c3".into()])
            .await
            .unwrap();
        assert_eq!(by_complaint["c3"].complainant, Some(second.clone()));
        assert_eq!(by_complaint.len(), 2);

        // Erased again, and again a new generation.
        erase_now(&pool, &second).await;
        let third = register("c7", receipt(ann.clone(), None), Registration::Fresh).await;
        assert_eq!(third, encryption.subject_id_at(&identity, 3));
        assert_eq!(
            subject_record(&pool, &third)
                .await
                .unwrap()
                .unwrap()
                .generation,
            3
        );
    }

    #[tokio::test]
    async fn keys_written_before_generations_are_generation_one() {
        let pool = database().await;
        let encryption = Encryption::new(
            Arc::new(LocalKek::from_secret(b"kek")),
            b"subject-secret".to_vec(),
        );
        let ann = json!({"name": "Ann Example", "email": "ann@example.org"});
        let identity = identity_of(&ann, "");
        let old = encryption.subject_id(&identity);
        // A row as an older release writes it: no first subject id.
        let Pool::Sqlite(p) = &pool else {
            unreachable!()
        };
        sqlx::query(
            "INSERT INTO data_subject_keys (subject_id, wrapped_key, kek_id, created_at)
             VALUES ($1, 'x', 'k', 't')",
        )
        .bind(&old)
        .execute(p)
        .await
        .unwrap();
        erase_now(&pool, &old).await;
        let subjects = register_receipt(
            &pool,
            &encryption,
            "c1",
            &receipt(ann, None),
            Registration::Fresh,
        )
        .await
        .unwrap();
        let new = subjects.complainant.unwrap();
        assert_eq!(new, encryption.subject_id_at(&identity, 2));
        let generations = generations_of(&pool, &new).await.unwrap();
        assert_eq!(generations.len(), 2);
        assert_eq!(generations[0].subject_id, old);
    }
}
