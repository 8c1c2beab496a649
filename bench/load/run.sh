#!/usr/bin/env bash
# Load test (issue 19, item 5): two gunicorn instances in their own network namespaces on this
# machine, sharing one PostgreSQL and one Redis (reached through bench/load/forward.py), rq
# workers on the host, mixed traffic from bench/load/driver.py; one worker is killed (-9) a
# third of the way in, and half way LOAD_CHANGE runs: by default bench/load/change.py, a field
# added through the Settings editor's API on instance 1, timed until both instances serve it.
# Needs root (ip netns). The database is dropped and made again (LOAD_FRESH=0 keeps it).
# Figures: $OUT (JSON: traffic, change) and stdout (with the tracebacks the logs hold).
#
#   LOAD_DB=postgresql+psycopg2://postgres@127.0.0.1/crm_load LOAD_SECONDS=180 bench/load/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=/work/main/.venv/bin/python
DB=${LOAD_DB:-postgresql+psycopg2://postgres@127.0.0.1/crm_load}
REDIS_DB=${LOAD_REDIS_DB:-12}
SECONDS_RUN=${LOAD_SECONDS:-180}
USERS=${LOAD_USERS:-8}
SIZE=${LOAD_DEMO_SIZE:-2000}
OUT=${OUT:-/tmp/metacrm-load.json}
WORK=$(mktemp -d /tmp/metacrm-load.XXXXXX)
B1=http://10.200.1.2:8000 B2=http://10.200.2.2:8000
CHANGE_DEFAULT="$PY bench/load/change.py --apply-to $B1 --poll $B1 --poll $B2 --out $WORK/change.json"
CHANGE=${LOAD_CHANGE-$CHANGE_DEFAULT}
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for i in 1 2; do ip netns del "crmload$i" 2>/dev/null || true; ip link del "vcrm$i" 2>/dev/null || true; done
}
trap cleanup EXIT

dbname=${DB##*/}
if [ "${LOAD_FRESH:-1}" = 1 ]; then
  psql -qh 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" postgres
fi
psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='$dbname'" postgres | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE $dbname" postgres

export SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')
export CRM_MIGRATIONS_DIR=$WORK/versions CRM_FILES_DIR=$WORK/files CRM_ADMIN_PASSWORD='load-admin-pass-1'
export PYTHONPATH=$ROOT
# A copy of the metadata: the editor writes its save back into CRM_METADATA_DIR, never the checkout.
cp -r "$ROOT/metadata" "$WORK/metadata" && export CRM_METADATA_DIR=$WORK/metadata
# The database: schema, permissions, demo users (password demo1234) and records, once.
SQLALCHEMY_DATABASE_URI=$DB "$PY" -m flask --app run.py crm init >/dev/null
SQLALCHEMY_DATABASE_URI=$DB "$PY" -m flask --app run.py crm demo --if-empty --size "$SIZE" >/dev/null

fwd=()
for i in 1 2; do
  ip netns add "crmload$i"
  ip link add "vcrm$i" type veth peer name "vcrm${i}n"
  ip link set "vcrm${i}n" netns "crmload$i"
  ip addr add "10.200.$i.1/24" dev "vcrm$i" && ip link set "vcrm$i" up
  ip netns exec "crmload$i" ip addr add "10.200.$i.2/24" dev "vcrm${i}n"
  ip netns exec "crmload$i" ip link set "vcrm${i}n" up
  ip netns exec "crmload$i" ip link set lo up
  fwd+=("10.200.$i.1:5432=127.0.0.1:5432" "10.200.$i.1:6379=127.0.0.1:6379")
done
"$PY" bench/load/forward.py "${fwd[@]}" & PIDS+=($!)
sleep 0.5

for i in 1 2; do
  ns_db=$(echo "$DB" | sed "s#@127.0.0.1#@10.200.$i.1#")
  ip netns exec "crmload$i" env SQLALCHEMY_DATABASE_URI="$ns_db" REDIS_URL="redis://10.200.$i.1:6379/$REDIS_DB" \
    CRM_SCHEMA_MODE=check GUNICORN_BIND="10.200.$i.2:8000" GUNICORN_WORKERS="${LOAD_WEB_WORKERS:-2}" \
    PROMETHEUS_MULTIPROC_DIR="$WORK/metrics$i" CRM_REQUEST_LOG=off \
    "$PY" -m gunicorn -c gunicorn.conf.py run:app >"$WORK/web$i.log" 2>&1 & PIDS+=($!)
done
workers=()
for w in 1 2; do
  SQLALCHEMY_DATABASE_URI=$DB REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB" \
    "$PY" -m flask --app run.py crm worker --name "load-$$-$w" >"$WORK/worker$w.log" 2>&1 & workers+=($!); PIDS+=($!)
done
for i in 1 2; do
  for _ in $(seq 120); do curl -sf "http://10.200.$i.2:8000/health" >/dev/null && break; sleep 0.5; done
done

for w in 1 2; do
  kill -0 "${workers[$((w - 1))]}" 2>/dev/null || { echo "worker $w did not start: $WORK/worker$w.log" >&2; exit 1; }
done
echo "start: $(uptime)" >&2
"$PY" bench/load/driver.py --base "$B1" --base "$B2" \
  --seconds "$SECONDS_RUN" --users "$USERS" --out "$OUT" & driver=$!
sleep $((SECONDS_RUN / 3)); kill -9 "${workers[0]}"; echo "killed worker load-$$-1 (pid ${workers[0]})" >&2
if [ -n "$CHANGE" ]; then
  sleep $((SECONDS_RUN / 6)); echo "metadata change: $CHANGE" >&2; bash -c "$CHANGE" || echo "CHANGE FAILED" >&2
fi
wait "$driver"
"$PY" bench/load/outbox.py "$DB" "$WORK/outbox.json" --wait "${LOAD_OUTBOX_WAIT:-120}"
for i in 1 2; do echo "instance $i: $(curl -s "http://10.200.$i.2:8000/health")"; done
# Every traceback the instances and workers logged (a 5xx has one): count and first ones.
for log in "$WORK"/web*.log "$WORK"/worker*.log; do
  n=$(grep -c '^Traceback' "$log" || true); echo "$(basename "$log"): $n traceback(s)"
  [ "$n" = 0 ] || grep -n -B3 -A40 -m3 '^Traceback' "$log" | head -150
done
"$PY" bench/load/merge.py "$OUT" change="$WORK/change.json" outbox="$WORK/outbox.json"
echo "logs in $WORK; figures in $OUT"
