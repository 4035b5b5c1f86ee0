-- The event log: the columns postgres-es reads and writes, plus the project's own
-- columns filled by defaults. Rows are ordered for consumers by (transaction_id,
-- global_position): positions are handed out before commit, so a later position can
-- commit first; the transaction id, read below pg_snapshot_xmin, cannot.
CREATE TABLE events
(
    aggregate_type  text                         NOT NULL,
    aggregate_id    text                         NOT NULL,
    sequence        bigint CHECK (sequence >= 1) NOT NULL,
    event_type      text                         NOT NULL,
    event_version   text                         NOT NULL,
    payload         json                         NOT NULL,
    metadata        json                         NOT NULL,
    global_position bigint GENERATED ALWAYS AS IDENTITY,
    recorded_at     timestamptz                  NOT NULL DEFAULT clock_timestamp(),
    transaction_id  xid8                         NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence),
    UNIQUE (global_position)
);

CREATE INDEX events_commit_order ON events (transaction_id, global_position);

-- Append-only is enforced here, not by convention.
CREATE FUNCTION events_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on events refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
