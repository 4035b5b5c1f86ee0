-- The event log. sqlite-es reads and writes the view `events`; the INSTEAD OF trigger
-- gives each row the next global position inside the (single) write transaction, so
-- positions commit in order. The composite primary key keeps sqlite-es's optimistic
-- concurrency check (a duplicate sequence is SQLITE_CONSTRAINT_PRIMARYKEY).
CREATE TABLE event_log
(
    aggregate_type  TEXT    NOT NULL,
    aggregate_id    TEXT    NOT NULL,
    sequence        INTEGER NOT NULL CHECK (sequence >= 1),
    event_type      TEXT    NOT NULL,
    event_version   TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    global_position INTEGER NOT NULL UNIQUE,
    recorded_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
) STRICT;

CREATE VIEW events AS
SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata,
       global_position, recorded_at
FROM event_log;

CREATE TRIGGER events_append INSTEAD OF INSERT ON events
BEGIN
    INSERT INTO event_log (aggregate_type, aggregate_id, sequence, event_type, event_version,
                           payload, metadata, global_position)
    VALUES (NEW.aggregate_type, NEW.aggregate_id, NEW.sequence, NEW.event_type,
            NEW.event_version, NEW.payload, NEW.metadata,
            (SELECT COALESCE(MAX(global_position), 0) + 1 FROM event_log));
END;

-- Append-only is enforced here, not by convention.
CREATE TRIGGER event_log_no_update BEFORE UPDATE ON event_log
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: UPDATE on events refused');
END;

CREATE TRIGGER event_log_no_delete BEFORE DELETE ON event_log
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: DELETE on events refused');
END;
