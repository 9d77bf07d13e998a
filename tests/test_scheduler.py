"""The scheduler of periodic jobs, on SQLite and PostgreSQL: retention runs shortly after start and
then every hour under a manual clock; a failing job is retried later without stopping the others;
on PostgreSQL a job that another process is running (its advisory lock held) is skipped; the loop
ends when told to."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from shoal import scheduler
from shoal.clock import ManualClock
from shoal.retention import DAY
from shoal.scheduler import FIRST_RUN_AFTER, HOUR, RETRY_AFTER, Job, Scheduler
from shoal.store import retention as retention_store
from shoal.store.db import create_store_engine, write_transaction
from shoal.store.schema import event
from tests.support.alerting import DigestHarness, error_event


def counting_job(name: str = "count") -> tuple[Job, list[float]]:
    runs: list[float] = []
    return Job(name, HOUR, FIRST_RUN_AFTER, lambda _stop: runs.append(1)), runs


def test_a_job_runs_shortly_after_start_and_then_every_hour(engine: Engine) -> None:
    clock = ManualClock(1_000_000.0)
    job, runs = counting_job()
    jobs = Scheduler(engine, [job], clock)
    stop = threading.Event()
    assert jobs.run_due(stop) == []
    assert jobs.seconds_until_next() == FIRST_RUN_AFTER
    clock.advance(FIRST_RUN_AFTER)
    assert jobs.run_due(stop) == ["count"]
    assert jobs.run_due(stop) == []
    clock.advance(HOUR - 1)
    assert jobs.run_due(stop) == []
    clock.advance(1)
    assert jobs.run_due(stop) == ["count"]
    assert len(runs) == 2


def test_a_failing_job_is_retried_later_and_the_others_still_run(engine: Engine) -> None:
    clock = ManualClock(1_000_000.0)
    failures: list[int] = []

    def fail(_stop: threading.Event) -> None:
        failures.append(1)
        raise RuntimeError("the store is away")

    good, runs = counting_job("good")
    jobs = Scheduler(engine, [Job("bad", HOUR, 0, fail), good], clock)
    clock.advance(FIRST_RUN_AFTER)
    assert jobs.run_due(threading.Event()) == ["good"]
    clock.advance(RETRY_AFTER)
    jobs.run_due(threading.Event())
    assert (len(failures), len(runs)) == (2, 1)


def test_the_retention_job_cleans_up_by_itself(engine: Engine, tmp_path: Path) -> None:
    harness = DigestHarness(engine, tmp_path)
    with write_transaction(engine) as conn:
        retention_store.set_retention_days(conn, harness.project_id, 1)
    harness.send(error_event(), error_event(), error_event())
    jobs = Scheduler(engine, scheduler.default_jobs(engine, harness.clock), harness.clock)
    harness.clock.advance(2 * DAY)
    assert "retention" in jobs.run_due(threading.Event())
    with engine.connect() as conn:
        assert len(conn.execute(select(event.c.id)).all()) == 1  # the first event


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    store = create_store_engine(postgres_url)
    yield store
    store.dispose()


@pytest.mark.postgres
def test_on_postgresql_a_job_another_process_runs_is_skipped(postgres_engine: Engine) -> None:
    engine = postgres_engine
    clock = ManualClock(1_000_000.0)
    job, runs = counting_job()
    jobs = Scheduler(engine, [job], clock)
    clock.advance(FIRST_RUN_AFTER)
    with engine.connect() as other:  # another process's scheduler, in the middle of the job
        key = scheduler.lock_key(other.execute(text("SELECT current_schema()")).scalar_one(), "count")
        other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        assert jobs.run_due(threading.Event()) == []
        other.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    clock.advance(HOUR)
    assert jobs.run_due(threading.Event()) == ["count"]
    assert len(runs) == 1
    with scheduler.exclusive(engine, "count") as mine:  # and it let go of the lock afterwards
        assert mine


def test_the_loop_ends_when_stopped(engine: Engine) -> None:
    stop = threading.Event()
    loop = threading.Thread(target=scheduler.run_scheduler, args=(engine, stop))
    loop.start()
    stop.set()
    loop.join(timeout=30)
    assert not loop.is_alive()


def test_shoal_worker_scheduler_runs_until_its_parent_is_gone(tmp_path: Path) -> None:
    """`--parent-pid` names a process that is not its parent: the worker stops within a second or
    so, as it would when `shoal run` died, and exits cleanly."""
    env = {**os.environ, "SHOAL_DATA_DIR": str(tmp_path), "SHOAL_LOG_LEVEL": "warning"}
    env.pop("SHOAL_DATABASE_URL", None)
    migrated = subprocess.run(
        [sys.executable, "-m", "shoal", "migrate"], env=env, capture_output=True, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    worker = subprocess.run(
        [sys.executable, "-m", "shoal", "worker", "scheduler", "--parent-pid", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr
    assert "Traceback" not in worker.stderr
