-- R-KO-3a: marking a period's written complaints return (KO41) submitted is an event: who,
-- when, and the return exactly as shown when submitted. Append-only: a submitted period is
-- never changed; later differences are reported as adjustments beside it. One submission per
-- organisation, collection and period.
CREATE TABLE ko41_submissions
(
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation text   NOT NULL,
    collection   text   NOT NULL,
    period       bigint NOT NULL,
    submitted_at text   NOT NULL,
    submitted_by text   NOT NULL,
    figures      text   NOT NULL,
    UNIQUE (organisation, collection, period)
);

CREATE TRIGGER ko41_submissions_append_only
    BEFORE UPDATE OR DELETE ON ko41_submissions
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER ko41_submissions_no_truncate
    BEFORE TRUNCATE ON ko41_submissions
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse_truncate();
