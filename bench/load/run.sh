#!/usr/bin/env bash
# Load test (issue 19, item 5): two gunicorn instances in their own network namespaces on this
# machine, sharing one PostgreSQL and one Redis (reached through bench/load/forward.py), rq
# workers on the host, mixed traffic from bench/load/driver.py; one worker is killed (-9) a
# third of the way in, and LOAD_CHANGE (a command, e.g. the editor's apply) runs half way.
# Needs root (ip netns). Figures: $OUT (JSON) and stdout.
#
#   LOAD_DB=postgresql+psycopg2://postgres@127.0.0.1/crm_load LOAD_SECONDS=180 bench/load/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
DB=${LOAD_DB:-postgresql+psycopg2://postgres@127.0.0.1/crm_load}
REDIS_DB=${LOAD_REDIS_DB:-12}
SECONDS_RUN=${LOAD_SECONDS:-180}
USERS=${LOAD_USERS:-8}
SIZE=${LOAD_DEMO_SIZE:-2000}
OUT=${OUT:-/tmp/metacrm-load.json}
WORK=$(mktemp -d /tmp/metacrm-load.XXXXXX)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for i in 1 2; do ip netns del "crmload$i" 2>/dev/null || true; ip link del "vcrm$i" 2>/dev/null || true; done
}
trap cleanup EXIT

dbname=${DB##*/}
psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='$dbname'" postgres | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE $dbname" postgres

export SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')
export CRM_MIGRATIONS_DIR=$WORK/versions CRM_FILES_DIR=$WORK/files CRM_ADMIN_PASSWORD='load-admin-pass-1'
export PYTHONPATH=$ROOT
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
    "$PY" -m flask --app run.py crm worker --name "load-$w" >"$WORK/worker$w.log" 2>&1 & workers+=($!); PIDS+=($!)
done
for i in 1 2; do
  for _ in $(seq 120); do curl -sf "http://10.200.$i.2:8000/health" >/dev/null && break; sleep 0.5; done
done

"$PY" bench/load/driver.py --base http://10.200.1.2:8000 --base http://10.200.2.2:8000 \
  --seconds "$SECONDS_RUN" --users "$USERS" --out "$OUT" & driver=$!
sleep $((SECONDS_RUN / 3)); kill -9 "${workers[0]}"; echo "killed worker load-1 (pid ${workers[0]})" >&2
if [ -n "${LOAD_CHANGE:-}" ]; then
  sleep $((SECONDS_RUN / 6)); echo "metadata change: $LOAD_CHANGE" >&2; bash -c "$LOAD_CHANGE"
fi
wait "$driver"
for i in 1 2; do echo "instance $i: $(curl -s "http://10.200.$i.2:8000/health")"; done
echo "logs in $WORK; figures in $OUT"
