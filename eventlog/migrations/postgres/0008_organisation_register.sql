-- Changes to the organisation register (R-SCOPE-1, R-SCOPE-4): each an event, appended with
-- who made it. The register in force is the configured starting register with these
-- applied in order; nothing here is ever changed or removed.
CREATE TABLE organisation_changes
(
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id text        NOT NULL,
    change          text        NOT NULL,
    changed_by      text        NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TRIGGER organisation_changes_append_only
    BEFORE UPDATE OR DELETE ON organisation_changes
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER organisation_changes_no_truncate
    BEFORE TRUNCATE ON organisation_changes
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse_truncate();
