-- TRUNCATE fires no row triggers, so the BEFORE UPDATE OR DELETE guards of 0001 and 0002
-- do not stop it: without these a single statement would empty an append-only table.
-- `events` got its statement trigger in 0001; the audit tables get theirs here, and every
-- append-only table is listed in the test that proves it.
CREATE FUNCTION append_only_refuse_truncate() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse_truncate();

CREATE TRIGGER audit_access_log_no_truncate
    BEFORE TRUNCATE ON audit_access_log
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse_truncate();
