#!/usr/bin/env bash
# The digest alone: fill a fresh spool with N corpus events through ingest (no digest worker
# running), stop the server, then time W `shoal worker` processes draining it into the store.
#
#   bench/digest_drain.sh [N] [W] [REPO]      defaults: 20000 1 this checkout
#
# REPO may be another checkout (a `git worktree` of an older commit) to compare code on the same
# machine in the same hour; it runs with this checkout's .venv. The time includes the workers'
# start (about a second). Spike protection is switched off, as in run_bench.sh.
set -euo pipefail
N=${1:-20000}; W=${2:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=${3:-$(dirname "$HERE")}
PY=$(dirname "$HERE")/.venv/bin/python
KIT=${SHOAL_BENCH_KIT:-$(cd "$HERE/../../shared/bench" && pwd)}
work=$(mktemp -d); data=$work/data; port=8190
pids=()
trap 'kill "${pids[@]}" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

shoal() {  # runs `shoal "$@"` from REPO on the bench's data directory, in the background
  (cd "$REPO" && SHOAL_DATA_DIR=$data SHOAL_BIND=127.0.0.1:$port SHOAL_LOG_LEVEL=warning \
    SHOAL_DIGEST_WORKERS=0 PYTHONPATH=$REPO exec "$PY" -m shoal "$@") &
  pids+=($!)
}
stored() {
  python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COALESCE(SUM(events_stored), 0) FROM project').fetchone()[0])" "$data/shoal.db"
}

shoal run > "$work/run.log" 2>&1
for _ in $(seq 1 300); do grep -q '^DSN: ' "$work/run.log" 2>/dev/null && break; sleep 0.2; done
python3 -c "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute('UPDATE project SET spike_protection = 0'); db.commit()" "$data/shoal.db"
python3 "$KIT/loadgen.py" --dsn "$(sed -n 's/^DSN: //p' "$work/run.log")" -n "$N" -c 16 \
  --max-duration 120 --digest-timeout 1 --stall-timeout 10 | grep '^ingest'
kill "${pids[@]}"; wait "${pids[@]}" || true; pids=()

started=$(date +%s.%N)
for _ in $(seq 1 "$W"); do shoal worker > /dev/null 2>&1; done
until [ "$(stored)" -ge "$N" ]; do sleep 0.2; done
ended=$(date +%s.%N)
python3 -c "import sys; n, w, t = int(sys.argv[1]), sys.argv[2], float(sys.argv[4]) - float(sys.argv[3]); print(f'digest: {n} events with {w} worker(s) in {t:.1f} s -> {n / t:,.0f} ev/s')" "$N" "$W" "$started" "$ended"
