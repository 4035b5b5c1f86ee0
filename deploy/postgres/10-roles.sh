#!/bin/sh
# First start of the PostgreSQL container (docker-entrypoint-initdb.d): the roles and the
# schema, with passwords read from the mounted secrets. Outside containers run roles.sql
# with psql the same way.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="$(cat /run/secrets/owner_password)" \
  -v gateway_password="$(cat /run/secrets/gateway_password)" \
  -v reporting_password="$(cat /run/secrets/reporting_password)" \
  -f /etc/complaints/roles.sql
