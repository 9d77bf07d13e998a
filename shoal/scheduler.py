"""Periodic jobs: retention cleanup shortly after start and then every hour; missed and timed-out
cron check-ins every minute (shoal/crons/overdue.py). `shoal run` runs the
scheduler in a thread; scaled-out setups run `shoal worker scheduler` (one or more).

A job runs in one process at a time: on PostgreSQL a process runs a job only while it holds the
job's session advisory lock (`pg_try_advisory_lock`), and skips it for this period when another
process holds it; the lock goes away with its connection if the process dies. On SQLite nothing is
needed: every write waits for the database's single write lock, so two cleanups interleave their
batches harmlessly (each deletes what the other has not).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, text

from shoal import advisor_email, retention
from shoal.clock import SYSTEM_CLOCK, Clock
from shoal.config import load_config
from shoal.crons import overdue
from shoal.notify.base import NotifySettings
from shoal.store.db import is_postgres

log = logging.getLogger(__name__)

HOUR = 3600
# Soon enough that a restarted server cleans up today, late enough not to add to a start-up
# backlog the digest is draining.
FIRST_RUN_AFTER = 60.0
RETRY_AFTER = 300.0  # after a failed run
_LONGEST_WAIT = 60.0  # the loop wakes at least this often


@dataclass(frozen=True)
class Job:
    name: str
    every: float  # seconds between runs
    first_after: float  # seconds from the scheduler's start to the first run
    run: Callable[[threading.Event], object]


def default_jobs(
    engine: Engine, clock: Clock = SYSTEM_CLOCK, notify: NotifySettings | None = None
) -> list[Job]:
    """The jobs; the quota advisor's weekly email only while email is configured (`notify`, or
    the SHOAL_SMTP_* settings of the environment the process was started with)."""
    jobs = [
        Job(
            "retention",
            HOUR,
            FIRST_RUN_AFTER,
            lambda stop: retention.cleanup(engine, clock=clock, stop=stop),
        ),
        Job("crons", overdue.EVERY, overdue.EVERY, lambda stop: overdue.mark_overdue(engine, clock, stop)),
    ]
    email = notify or NotifySettings.from_config(load_config())
    if email.smtp_host:  # hourly: each project's email goes out once a week (shoal/advisor_email.py)
        jobs.append(
            Job(
                "advisor-email",
                HOUR,
                FIRST_RUN_AFTER,
                lambda stop: advisor_email.send_weekly(engine, email, clock, stop),
            )
        )
    return jobs


class Scheduler:
    def __init__(self, engine: Engine, jobs: list[Job], clock: Clock = SYSTEM_CLOCK) -> None:
        self._engine = engine
        self._jobs = jobs
        self._clock = clock
        start = clock.now()
        self._due = {job.name: start + job.first_after for job in jobs}

    def run_due(self, stop: threading.Event) -> list[str]:
        """Run every job that is due (and not running elsewhere); the names of those that ran."""
        ran = []
        for job in self._jobs:
            if stop.is_set() or self._clock.now() < self._due[job.name]:
                continue
            self._due[job.name] = self._clock.now() + job.every
            if self._run(job, stop):
                ran.append(job.name)
        return ran

    def _run(self, job: Job, stop: threading.Event) -> bool:
        try:
            with exclusive(self._engine, job.name) as mine:
                if not mine:
                    log.info("scheduler: %s is running in another process; skipped", job.name)
                    return False
                job.run(stop)
                return True
        except Exception:
            log.exception("scheduler: %s failed; retrying in %.0f s", job.name, RETRY_AFTER)
            self._due[job.name] = min(self._due[job.name], self._clock.now() + RETRY_AFTER)
            return False

    def seconds_until_next(self) -> float:
        return max(0.0, min(self._due.values(), default=_LONGEST_WAIT) - self._clock.now())

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.run_due(stop)
            stop.wait(min(self.seconds_until_next(), _LONGEST_WAIT))


def run_scheduler(engine: Engine, stop: threading.Event) -> None:
    """The loop `shoal run`'s scheduler thread and `shoal worker scheduler` run until `stop`."""
    Scheduler(engine, default_jobs(engine)).run_forever(stop)


def lock_key(schema: str, name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a job of the store in `schema`. Advisory locks
    are per database, not per schema: without the schema, two Shoal stores in one database (as the
    test suite's parallel workers are) would skip each other's jobs."""
    digest = hashlib.sha256(f"shoal.scheduler:{schema}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Whether this process may run the job now; held until the block ends."""
    if not is_postgres(engine):
        yield True
        return
    # A connection of its own, in autocommit: a session lock outlives transactions, and the
    # connection is not left idle in a transaction for the length of the job.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        key = lock_key(str(conn.execute(text("SELECT current_schema()")).scalar_one()), name)
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one())
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
