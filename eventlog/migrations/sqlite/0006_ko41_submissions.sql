-- R-KO-3a: marking a period's written complaints return (KO41) submitted: who, when, and the
-- return exactly as shown when submitted (see the PostgreSQL migration). Append-only.
CREATE TABLE ko41_submissions
(
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation TEXT    NOT NULL,
    collection   TEXT    NOT NULL,
    period       INTEGER NOT NULL,
    submitted_at TEXT    NOT NULL,
    submitted_by TEXT    NOT NULL,
    figures      TEXT    NOT NULL,
    UNIQUE (organisation, collection, period)
);

CREATE TRIGGER ko41_submissions_no_update BEFORE UPDATE ON ko41_submissions
BEGIN
    SELECT RAISE(ABORT, 'KO41 submissions are append-only: UPDATE refused');
END;

CREATE TRIGGER ko41_submissions_no_delete BEFORE DELETE ON ko41_submissions
BEGIN
    SELECT RAISE(ABORT, 'KO41 submissions are append-only: DELETE refused');
END;
