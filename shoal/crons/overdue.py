"""The scheduler's cron job (every minute): mark **missed** check-ins — monitor environments whose
next check-in is past due, margin included — and **timeouts** — runs in progress longer than their
monitor's max runtime — and count each as a failure of its monitor in that environment, stored like
the digest's failures so that it alerts through the project's rules
(shoal/digest/monitor_check_ins.py).

Exactly once, with any number of schedulers: each change is a conditional update (an environment's
next check-in moves on only if nobody moved it; a run times out only if still in progress), and a
failure's event id is derived from the monitor and the check-in, so a failure stored twice is one
event. An environment overdue for several of its check-ins (the scheduler was down) gets one missed
check-in, and waits for the first one still to come.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter

from sqlalchemy import Connection, Engine

from shoal.clock import SYSTEM_CLOCK, Clock
from shoal.crons.schedule import next_expected
from shoal.digest.monitor_check_ins import MonitorEffects, count_failure
from shoal.digest.monitor_failures import Failure
from shoal.digest.store import store_batch
from shoal.store import monitors
from shoal.store.db import write_transaction
from shoal.store.monitors import NewCheckIn

EVERY = 60.0  # seconds between runs: a missed check-in is seen within a minute of its deadline
BATCH = 200  # monitors and runs per transaction
_MISSED_IDS = uuid.UUID("0f6b3c52-8f0e-4d7a-a4a5-2b6f6f1d9c31")


def mark_overdue(engine: Engine, clock: Clock = SYSTEM_CLOCK, stop: threading.Event | None = None) -> int:
    """Mark what is overdue now, in batches; how many check-ins were missed or timed out."""
    now = clock.now()
    marked = 0
    while stop is None or not stop.is_set():
        with write_transaction(engine) as conn:
            effects = MonitorEffects()
            found = _mark_missed(conn, now, effects) + _mark_timeouts(conn, now, effects)
            if effects.failures:
                store_batch(conn, [], Counter(), now, monitors=effects)
        marked += found
        if found < BATCH:
            break
    return marked


def _mark_missed(conn: Connection, now: float, effects: MonitorEffects) -> int:
    marked = 0
    for place in monitors.overdue_environments(conn, now, BATCH):
        found = monitors.get_monitor(conn, place.monitor_id)
        assert found is not None  # the environment's row goes with its monitor's
        margin = found.config.checkin_margin * 60
        expected = place.next_checkin if place.next_checkin is not None else now - margin
        # The first check-in whose deadline is still to come: at least the one after the missed.
        due = next_expected(found.config, max(expected, now - margin))
        if not monitors.advance_missed(conn, place, due, margin):
            continue
        check_in_id = uuid.uuid5(_MISSED_IDS, f"{place.id}:{expected!r}").hex
        monitors.insert_check_in(
            conn,
            NewCheckIn(
                found.id,
                place.id,
                found.project_id,
                check_in_id,
                "missed",
                now,
                place.environment,
                expected_at=expected,
            ),
        )
        failure = Failure("missed", now, check_in_id, place.environment, expected_at=expected)
        count_failure(conn, found, place.id, failure, effects)
        marked += 1
    return marked


def _mark_timeouts(conn: Connection, now: float, effects: MonitorEffects) -> int:
    marked = 0
    for run in monitors.timed_out_check_ins(conn, now, BATCH):
        if not monitors.close_check_in(conn, run.id, "timeout", now - run.date_added, now):
            continue
        found = monitors.get_monitor(conn, run.monitor_id)
        assert found is not None  # the check-in's row goes with its monitor's
        failure = Failure(
            "timeout", now, run.check_in_id, run.environment, run.release, started_at=run.date_added
        )
        count_failure(conn, found, run.monitor_environment_id, failure, effects)
        marked += 1
    return marked
