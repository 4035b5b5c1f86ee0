-- Changes to the organisation register, each an event (see the PostgreSQL migration).
CREATE TABLE organisation_changes
(
    position        INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id TEXT NOT NULL,
    change          TEXT NOT NULL,
    changed_by      TEXT NOT NULL,
    recorded_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TRIGGER organisation_changes_no_update BEFORE UPDATE ON organisation_changes
BEGIN
    SELECT RAISE(ABORT, 'the organisation register is append-only: UPDATE refused');
END;

CREATE TRIGGER organisation_changes_no_delete BEFORE DELETE ON organisation_changes
BEGIN
    SELECT RAISE(ABORT, 'the organisation register is append-only: DELETE refused');
END;
