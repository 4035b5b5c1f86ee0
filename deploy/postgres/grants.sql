-- Grants on the tables and views the migrations and the first start created. Run as
-- complaints_owner after every `complaints migrate` (compose: the `grants` service; Kubernetes:
-- the migration Job's second step). Idempotent.
SET search_path = complaints;

-- The gateway reads everything and appends to the append-only tables; it never gets
-- UPDATE, DELETE or TRUNCATE on them (the triggers refuse those anyway).
GRANT SELECT ON ALL TABLES IN SCHEMA complaints TO complaints_gateway;
GRANT INSERT ON events, audit_access_log TO complaints_gateway;
-- The migrations' own bookkeeping, read by the migrator at every start.
GRANT SELECT ON _sqlx_migrations TO complaints_gateway;

-- Tables of later migrations, when present: per-data-subject keys (encryption of
-- personal fields) are written by the gateway when a complaint is received.
DO $$
BEGIN
    IF to_regclass('complaints.data_subject_keys') IS NOT NULL THEN
        EXECUTE 'GRANT INSERT ON complaints.data_subject_keys TO complaints_gateway';
    END IF;
    IF to_regclass('complaints.data_subject_complaints') IS NOT NULL THEN
        EXECUTE 'GRANT INSERT ON complaints.data_subject_complaints TO complaints_gateway';
    END IF;
    -- Register changes made over the API (the administrator role), append-only.
    IF to_regclass('complaints.organisation_changes') IS NOT NULL THEN
        EXECUTE 'GRANT INSERT ON complaints.organisation_changes TO complaints_gateway';
    END IF;
END
$$;

-- The reporting interface: schema `reporting` holds one view per read-model view, and the
-- reporting role may read those and nothing else. The service replaces its own views in
-- place at every rebuild, so these views, their grants and views the BI team builds on
-- them keep working; a release that adds columns adds them at the end, which
-- CREATE OR REPLACE VIEW here (rerun after each migration) picks up.
CREATE OR REPLACE VIEW reporting.rm_case_list AS SELECT * FROM complaints.rm_case_list;
CREATE OR REPLACE VIEW reporting.rm_deadlines AS SELECT * FROM complaints.rm_deadlines;
CREATE OR REPLACE VIEW reporting.rm_report_complaints AS SELECT * FROM complaints.rm_report_complaints;
CREATE OR REPLACE VIEW reporting.rm_report_referrals AS SELECT * FROM complaints.rm_report_referrals;
CREATE OR REPLACE VIEW reporting.rm_report_learning AS SELECT * FROM complaints.rm_report_learning;
CREATE OR REPLACE VIEW reporting.audit_chain AS SELECT * FROM complaints.audit_chain;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO complaints_reporting;
-- The descriptions travel with the views (COMMENT ON is per object).
DO $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT c.relname, d.description, a.attname, a.attnum
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'complaints'
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
             LEFT JOIN pg_description d ON d.objoid = c.oid AND d.objsubid = a.attnum
             WHERE c.relkind = 'v' AND c.relname IN ('rm_case_list', 'rm_deadlines',
                   'rm_report_complaints', 'rm_report_referrals', 'rm_report_learning')
    LOOP
        IF v.description IS NOT NULL THEN
            EXECUTE format('COMMENT ON COLUMN reporting.%I.%I IS %L', v.relname, v.attname, v.description);
        END IF;
    END LOOP;
    FOR v IN SELECT c.relname, obj_description(c.oid, 'pg_class') AS description
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'complaints'
             WHERE c.relkind = 'v' AND c.relname LIKE 'rm\_%'
    LOOP
        IF v.description IS NOT NULL AND to_regclass('reporting.' || v.relname) IS NOT NULL THEN
            EXECUTE format('COMMENT ON VIEW reporting.%I IS %L', v.relname, v.description);
        END IF;
    END LOOP;
END
$$;
