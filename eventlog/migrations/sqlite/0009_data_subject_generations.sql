-- Data subject generations (see the PostgreSQL migration and schemas/encryption.md).
ALTER TABLE data_subject_keys ADD COLUMN generation INTEGER NOT NULL DEFAULT 1
    CHECK (generation >= 1);
-- The subject id of generation 1 of the same person (itself on generation 1).
ALTER TABLE data_subject_keys ADD COLUMN first_subject_id TEXT;
UPDATE data_subject_keys SET first_subject_id = subject_id WHERE first_subject_id IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS data_subject_keys_generation
    ON data_subject_keys (first_subject_id, generation);
