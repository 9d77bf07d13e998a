#!/usr/bin/env bash
# Shoal and Bugsink, one after the other in one run, driven by the same load generator and corpus.
#
#   bench/run_bench.sh [N] [C] [PIN]      defaults: 20000 16 0
#     PIN=0: servers and load generator float over both cores
#     PIN=1: server processes on CPU 0, load generator on CPU 1
#   Env: SHOAL_BENCH_KIT (default ../shared/bench), SKIP_BUGSINK=1 to run Shoal only.
#
# Shoal is started exactly as README command 1 starts it (scripts/run), on a fresh data directory.
# Results: bench/results/{shoal,bugsink}-nN-cC-pinP.json, printed as a table by the kit's summarize.py.
set -euo pipefail
N=${1:-20000}; C=${2:-16}; PIN=${3:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
KIT=${SHOAL_BENCH_KIT:-$(cd "$REPO/../shared/bench" && pwd)}
OUT=$HERE/results
LABEL=n$N-c$C-pin$PIN
PY=python3
mkdir -p "$OUT"

server_pin=(); client_pin=()
if [ "$PIN" = 1 ]; then server_pin=(taskset -c 0); client_pin=(taskset -c 1); fi

run_shoal() {
  local work port data pid dsn
  work=$(mktemp -d); data=$work/shoal-data; port=8100
  SHOAL_DATA_DIR=$data SHOAL_BIND=127.0.0.1:$port SHOAL_LOG_LEVEL=warning \
    "${server_pin[@]}" "$REPO/scripts/run" > "$work/run.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do grep -q '^DSN: ' "$work/run.log" 2>/dev/null && break; sleep 0.2; done
  dsn=$(sed -n 's/^DSN: //p' "$work/run.log")
  [ -n "$dsn" ] || { cat "$work/run.log"; kill "$pid"; exit 1; }
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/_health" >/dev/null && break; sleep 0.1; done
  # 20,000 events in seconds into a fresh project is a spike by definition: spike protection (on by
  # default, docs/quotas.md) would refuse all past its floor of 1,000. Bugsink has none; measure
  # throughput, not the limit. The limiter reads a project's settings on its first event.
  $PY -c "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute('UPDATE project SET spike_protection = 0'); db.commit()" "$data/shoal.db"
  echo "== Shoal ($dsn), pid $pid"
  "${client_pin[@]}" $PY "$KIT/loadgen.py" --dsn "$dsn" -n "$N" -c "$C" \
    --probe "processed=sqlite:$data/shoal.db:SELECT COALESCE(SUM(events_stored), 0) FROM project" \
    --probe "backlog=sqlite:$data/spool.db:SELECT COUNT(*) FROM spool" \
    --probe "issues=sqlite:$data/shoal.db:SELECT COUNT(*) FROM issue" \
    --probe "stored_events=sqlite:$data/shoal.db:SELECT COUNT(*) FROM event" \
    --server-pid "$pid" --max-duration 600 --digest-timeout 1200 --stall-timeout 120 \
    --json-out "$OUT/shoal-$LABEL.json"
  kill -TERM "$pid"; wait "$pid" || true
  du -sb "$data" | awk '{printf "shoal data dir: %.1f MB\n", $1/1e6}' | tee "$OUT/shoal-$LABEL.disk.txt"
  rm -rf "$work"
}

run_bugsink() {
  local ctl=$KIT/bugsink/bugsinkctl.sh root=${BENCH_ROOT:-${TMPDIR:-/tmp}/bench-bugsink}
  export BENCH_ROOT=$root
  [ -x "$root/bin/bugsink-manage" ] || "$ctl" install
  "$ctl" reset >/dev/null
  if [ "$PIN" = 1 ]; then "$ctl" start 0 >/dev/null; else "$ctl" start >/dev/null; fi
  trap '"$ctl" stop' RETURN
  echo "== Bugsink ($(cat "$root/run/dsn"))"
  "${client_pin[@]}" $PY "$KIT/loadgen.py" --dsn "$(cat "$root/run/dsn")" -n "$N" -c "$C" \
    --probe "processed=sqlite:$root/data/db.sqlite3:SELECT SUM(digested_event_count) FROM projects_project" \
    --probe "backlog=sqlite:$root/data/snappea.sqlite3:SELECT COUNT(*) FROM snappea_task" \
    --probe "issues=sqlite:$root/data/db.sqlite3:SELECT COUNT(*) FROM issues_issue" \
    --probe "stored_events=sqlite:$root/data/db.sqlite3:SELECT COUNT(*) FROM events_event" \
    --server-pid "$(cat "$root/run/gunicorn.pid")" --server-pid "$(cat "$root/run/snappea.pid")" \
    --max-duration 600 --digest-timeout 1200 --stall-timeout 120 \
    --json-out "$OUT/bugsink-$LABEL.json"
  du -sb "$root/data" | awk '{printf "bugsink data dir: %.1f MB\n", $1/1e6}' | tee "$OUT/bugsink-$LABEL.disk.txt"
}

run_shoal
[ "${SKIP_BUGSINK:-0}" = 1 ] || run_bugsink
$PY "$KIT/summarize.py" "$OUT"/*-"$LABEL".json
