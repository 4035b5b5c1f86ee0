-- Data subject generations (schemas/encryption.md, "Generations"): a person whose key was
-- erased and who later gives their data afresh (a new complaint) is recorded under a new
-- subject id and key, generation n + 1; their earlier complaints keep the erased one.
-- Pseudonymous ids only.
ALTER TABLE data_subject_keys ADD COLUMN IF NOT EXISTS generation INTEGER NOT NULL DEFAULT 1
    CHECK (generation >= 1);
-- The subject id of generation 1 of the same person (itself on generation 1): how a look-up
-- or a subject access export finds every generation. NULL only on rows an older release
-- writes during an upgrade (generation 1 rows, whose first is themselves).
ALTER TABLE data_subject_keys ADD COLUMN IF NOT EXISTS first_subject_id TEXT;
UPDATE data_subject_keys SET first_subject_id = subject_id WHERE first_subject_id IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS data_subject_keys_generation
    ON data_subject_keys (first_subject_id, generation);
