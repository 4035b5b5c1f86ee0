-- An operator's explicit acceptance of a chain that no longer agrees with a witnessed
-- checkpoint: who, why, when, and what broke (see the PostgreSQL migration).
CREATE TABLE audit_accepted_breaks
(
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    accepted_at TEXT NOT NULL,
    accepted_by TEXT NOT NULL,
    reason      TEXT NOT NULL,
    breaks      TEXT NOT NULL
);

CREATE TRIGGER audit_accepted_breaks_no_update BEFORE UPDATE ON audit_accepted_breaks
BEGIN
    SELECT RAISE(ABORT, 'accepted breaks are append-only: UPDATE refused');
END;

CREATE TRIGGER audit_accepted_breaks_no_delete BEFORE DELETE ON audit_accepted_breaks
BEGIN
    SELECT RAISE(ABORT, 'accepted breaks are append-only: DELETE refused');
END;
