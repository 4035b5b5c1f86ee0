#!/usr/bin/env bash
# Decade-scale data, loaded and read (BENCHMARKS.md, "Decade scale"). Not part of CI: at the
# default size it writes tens of GiB and runs for about an hour on two cores.
#
#   cargo build --release -p complaints-gateway -p complaints-benches
#   benches/decade.sh [COMPLAINTS] [YEARS]      # default 2500000 complaints over 10 years
#
# Into a database of its own (DECADE_DATABASE, default complaints_decade, dropped first) on
# the server of PG_ADMIN_URL: migrate, bulk-load the simulated workload (`simulate --via
# bulk`), rebuild the read models, serve, then time the reads people wait on
# (`complaints-bench-reads`) and print sizes, durations and peak memory. DECADE_SEAL=1 also
# rebuilds the chain and times an export of the largest organisation.
set -euo pipefail
complaints=${1:-2500000}
years=${2:-10}
organisations=${DECADE_ORGANISATIONS:-500}
admin=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db=${DECADE_DATABASE:-complaints_decade}
export DATABASE_URL=${admin%/*}/$db
export COMPLAINTS_DATA_DIR=${COMPLAINTS_DATA_DIR:-$(mktemp -d)}
export COMPLAINTS_BIND=127.0.0.1:${DECADE_PORT:-8095}
export RUST_LOG=${RUST_LOG:-warn}
bin=${COMPLAINTS_BIN:-./target/release/complaints}
reads=${READS_BIN:-./target/release/complaints-bench-reads}
simulated=(--seed 1 --complaints "$complaints" --years "$years" --organisations "$organisations")

timed() {
    local label=$1
    shift
    /usr/bin/time -f "$label | %e s, peak memory %M KiB | load $(cut -d' ' -f1-3 /proc/loadavg) |" "$@"
}
size() {
    psql "$DATABASE_URL" -Atc "SELECT 'database size after $1 | ' || pg_size_pretty(pg_database_size(current_database())) || ' | |'"
}

echo "decade | $complaints complaints, $years years, $organisations organisations, database $db | $(nproc) cores | started $(date -u +%FT%TZ)"
psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
"$bin" migrate
timed "bulk load (simulate --via bulk)" "$bin" simulate --via bulk --clients 2 "${simulated[@]}"
size "the load"
timed "rebuild of the read models" "$bin" rebuild
psql -q "$DATABASE_URL" -c "ANALYZE"
size "the rebuild"

orgs=$("$bin" simulate --print-organisations "${simulated[@]}")
token=$("$bin" token --org "$orgs" --role caseworker,reporting,auditor --ttl 8h)
"$bin" serve >"$COMPLAINTS_DATA_DIR/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    curl -fsS "http://$COMPLAINTS_BIND/readyz" >/dev/null 2>&1 && break
    sleep 1
done
link=$("$bin" login-link --org "$orgs" --role caseworker,reporting,auditor --ttl 1h \
    --base-url "http://$COMPLAINTS_BIND")
"$reads" --url "http://$COMPLAINTS_BIND" --token "$token" --login-link "$link" --samples "${DECADE_SAMPLES:-300}"
grep -E '"(WARN|ERROR)"|WARN|ERROR' "$COMPLAINTS_DATA_DIR/serve.log" | tail -5 || true
kill $server
wait $server 2>/dev/null || true

if [ "${DECADE_SEAL:-0}" = 1 ]; then
    timed "rebuild of the chain (sealer)" "$bin" rebuild --projection sealer
    largest=$(psql "$DATABASE_URL" -Atc "SELECT organisation_id FROM rm_case_list GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    timed "export of $largest, all years" "$bin" export --organisation "$largest" \
        --from 2000-01-01 --to 2100-01-01 --out "$COMPLAINTS_DATA_DIR/export.jsonl"
    ls -l "$COMPLAINTS_DATA_DIR/export.jsonl"
    size "the chain"
fi
echo "decade | finished $(date -u +%FT%TZ) | |"
