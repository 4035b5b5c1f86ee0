-- Crypto-shredding (schemas/encryption.md): one data key per data subject, wrapped by a
-- key-encryption key; destroying the wrapped key erases that person's fields in every
-- stored event without changing a stored byte of the log.
CREATE TABLE IF NOT EXISTS data_subject_keys (
    subject_id      TEXT PRIMARY KEY,
    -- base64 of the wrapped key; NULL once erased.
    wrapped_key     TEXT,
    kek_id          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    erased_at       TEXT,
    erased_by       TEXT,
    erasure_reason  TEXT,
    legal_basis     TEXT,
    CHECK ((erased_at IS NULL) = (wrapped_key IS NOT NULL))
);

-- Which data subjects a complaint names, and as what (complainant, person_affected,
-- representative). Pseudonymous ids only: no personal data.
CREATE TABLE IF NOT EXISTS data_subject_complaints (
    complaint_id    TEXT NOT NULL,
    role            TEXT NOT NULL,
    subject_id      TEXT NOT NULL REFERENCES data_subject_keys (subject_id),
    organisation_id TEXT NOT NULL,
    PRIMARY KEY (complaint_id, role)
);
CREATE INDEX IF NOT EXISTS data_subject_complaints_subject ON data_subject_complaints (subject_id);
