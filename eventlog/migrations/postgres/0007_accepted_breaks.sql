-- An operator's explicit acceptance of a chain that no longer agrees with a witnessed
-- checkpoint (a restored backup, a repaired log): who, why, when, and what broke. Without one,
-- a sealer rebuild over a changed log is refused and the notary signs nothing new. The same
-- record is also written beside the witnessed checkpoints, outside the database.
CREATE TABLE audit_accepted_breaks
(
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    accepted_at text NOT NULL,
    accepted_by text NOT NULL,
    reason      text NOT NULL,
    breaks      text NOT NULL
);

CREATE TRIGGER audit_accepted_breaks_append_only
    BEFORE UPDATE OR DELETE ON audit_accepted_breaks
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER audit_accepted_breaks_no_truncate
    BEFORE TRUNCATE ON audit_accepted_breaks
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse_truncate();
