-- Tamper evidence outside the rebuildable read models (issue 6).
--
-- Signed checkpoints of the sealer's hash chain: once handed out (GET /v1/audit/head,
-- exports) they must stay as they were, so they live here, not in a read-model generation.
CREATE TABLE audit_checkpoints
(
    chain_index bigint PRIMARY KEY,
    position    bigint NOT NULL,
    link_hash   text   NOT NULL,
    signed_at   text   NOT NULL,
    public_key  text   NOT NULL,
    signature   text   NOT NULL
);

-- Who read which complaint's history, when. Not a complaint fact, so not in the event log.
CREATE TABLE audit_access_log
(
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    accessed_at     text NOT NULL,
    actor           text NOT NULL,
    role            text NOT NULL,
    organisation_id text NOT NULL,
    complaint_id    text NOT NULL,
    action          text NOT NULL,
    correlation_id  text
);

CREATE INDEX audit_access_log_by_complaint ON audit_access_log (complaint_id, id);
CREATE INDEX audit_access_log_by_organisation ON audit_access_log (organisation_id, id);

-- Both are append-only, like the event log.
CREATE TRIGGER audit_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER audit_access_log_append_only
    BEFORE UPDATE OR DELETE ON audit_access_log
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
