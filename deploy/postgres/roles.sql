-- Roles of a complaints deployment (run once, as a superuser or a role with CREATEROLE, in
-- the service's database):
--   psql -v ON_ERROR_STOP=1 -v owner_password=… -v gateway_password=… \
--        -v reporting_password=… -d complaints -f roles.sql
--
-- complaints_owner     owns the schema and every table: runs `complaints migrate` and
--                      `complaints project` (consumers create and swap read-model tables).
-- complaints_gateway   `complaints serve` with COMPLAINTS_CONSUMERS=false: reads
--                      everything, and may INSERT (never UPDATE, DELETE or TRUNCATE) the
--                      event log and the access log. grants.sql gives the table grants once
--                      the migrations have made the tables.
-- complaints_reporting BI tools: SELECT on the views of schema `reporting` only (grants.sql
--                      makes them), never the tables or the event log behind them.

CREATE ROLE complaints_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE complaints_gateway LOGIN PASSWORD :'gateway_password';
CREATE ROLE complaints_reporting LOGIN PASSWORD :'reporting_password';

-- One schema for the service. Every role finds its tables by bare name through its
-- search_path, the way the service and the tests address them.
CREATE SCHEMA complaints AUTHORIZATION complaints_owner;
ALTER ROLE complaints_owner SET search_path = complaints;
ALTER ROLE complaints_gateway SET search_path = complaints;
ALTER ROLE complaints_reporting SET search_path = reporting;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- A held transaction stops every consumer's progress (docs/OPERATIONS.md): end sessions
-- that sit idle inside one.
ALTER ROLE complaints_gateway SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE complaints_reporting SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE complaints_reporting SET default_transaction_read_only = on;
ALTER ROLE complaints_reporting SET statement_timeout = '5min';

GRANT USAGE ON SCHEMA complaints TO complaints_gateway;
-- The reporting interface, for BI tools: views over the service's views (grants.sql).
CREATE SCHEMA reporting AUTHORIZATION complaints_owner;
GRANT USAGE ON SCHEMA reporting TO complaints_reporting;
-- The gateway runs with COMPLAINTS_MIGRATE=false: it only checks the owner's migrations are
-- applied, so it needs no CREATE on the schema (docs/OPERATIONS.md, "Database roles").

-- Tables the owner creates later (read-model generations, new migrations) are readable by
-- the gateway without another grant.
ALTER DEFAULT PRIVILEGES FOR ROLE complaints_owner IN SCHEMA complaints
    GRANT SELECT ON TABLES TO complaints_gateway;
