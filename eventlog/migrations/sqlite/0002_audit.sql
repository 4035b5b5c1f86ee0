-- Tamper evidence outside the rebuildable read models (issue 6).
--
-- Signed checkpoints of the sealer's hash chain: once handed out (GET /v1/audit/head,
-- exports) they must stay as they were, so they live here, not in a read-model generation.
CREATE TABLE audit_checkpoints
(
    chain_index INTEGER PRIMARY KEY,
    position    INTEGER NOT NULL,
    link_hash   TEXT    NOT NULL,
    signed_at   TEXT    NOT NULL,
    public_key  TEXT    NOT NULL,
    signature   TEXT    NOT NULL
) STRICT;

-- Who read which complaint's history, when. Not a complaint fact, so not in the event log.
CREATE TABLE audit_access_log
(
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    accessed_at     TEXT NOT NULL,
    actor           TEXT NOT NULL,
    role            TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    complaint_id    TEXT NOT NULL,
    action          TEXT NOT NULL,
    correlation_id  TEXT
) STRICT;

CREATE INDEX audit_access_log_by_complaint ON audit_access_log (complaint_id, id);
CREATE INDEX audit_access_log_by_organisation ON audit_access_log (organisation_id, id);

-- Both are append-only, like the event log.
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only: UPDATE refused');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only: DELETE refused');
END;

CREATE TRIGGER audit_access_log_no_update BEFORE UPDATE ON audit_access_log
BEGIN
    SELECT RAISE(ABORT, 'the access log is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_access_log_no_delete BEFORE DELETE ON audit_access_log
BEGIN
    SELECT RAISE(ABORT, 'the access log is append-only: DELETE refused');
END;
