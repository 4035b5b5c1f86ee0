#!/bin/sh
# Creates every secret deploy/compose.yaml needs, once; existing files are kept (a new
# id, export or sealing secret would change ids, pseudonyms and signatures).
set -eu
cd "$(dirname "$0")"
umask 077
new() { [ -s "$1" ] || openssl rand -hex "${2:-32}" > "$1"; }
for f in postgres_password owner_password gateway_password reporting_password \
         jwt_secret id_secret export_secret seal_key kek subject_secret ui_secret; do new "$f"; done
[ -s pgpass_owner ] || printf 'postgres:5432:complaints:complaints_owner:%s\n' "$(cat owner_password)" > pgpass_owner
[ -s pgpass_gateway ] || printf 'postgres:5432:complaints:complaints_gateway:%s\n' "$(cat gateway_password)" > pgpass_gateway
env=../.env
if [ ! -s "$env" ]; then
  printf 'COMPLAINTS_NATS_PASSWORD=%s\nNATS_CLUSTER_PASSWORD=%s\nFRONTLINE_RAL_NATS_PASSWORD=%s\n' \
    "$(openssl rand -hex 24)" "$(openssl rand -hex 24)" "$(openssl rand -hex 24)" > "$env"
fi
echo "secrets in $(pwd), NATS passwords in $(cd .. && pwd)/.env"
