-- SQLite has no TRUNCATE: an unqualified DELETE is what empties a table, and the
-- BEFORE DELETE triggers of 0001 and 0002 already refuse it. Kept so that both migration
-- sets carry the same versions.
SELECT 1;
