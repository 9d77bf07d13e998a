"""The scheduler's cron job on SQLite and PostgreSQL, driven with the manual clock: missed check-ins,
timeouts, the alert they fire once, and recovery."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine

from shoal import retention, scheduler
from shoal.crons.overdue import mark_overdue
from shoal.scheduler import Scheduler
from shoal.store import retention as retention_store
from shoal.store.db import write_transaction
from tests.support.alerting import DigestHarness
from tests.support.check_ins import EVERY_MINUTE, check_ins_of, monitor_issues, send_check_in, state_of


@pytest.fixture
def harness(engine: Engine, tmp_path: Path) -> DigestHarness:
    harness = DigestHarness(engine, tmp_path)
    harness.clock.advance(-(harness.clock.now() % 60) + 10)  # ten seconds into a minute
    return harness


def run_scheduler_for(harness: DigestHarness, jobs: Scheduler, minutes: int) -> None:
    """Let `minutes` pass, running the due jobs each minute as the scheduler's loop would."""
    for _ in range(minutes):
        harness.clock.advance(60)
        jobs.run_due(threading.Event())


def test_a_monitor_that_stops_checking_in_is_marked_missed_and_alerts_once(harness: DigestHarness) -> None:
    send_check_in(harness, "every-minute", "ok", config=EVERY_MINUTE)
    jobs = Scheduler(harness.engine, scheduler.default_jobs(harness.engine, harness.clock), harness.clock)
    run_scheduler_for(harness, jobs, 1)
    assert state_of(harness, "every-minute").status == "ok"  # due at the minute, margin not over
    run_scheduler_for(harness, jobs, 1)
    assert state_of(harness, "every-minute").status == "missed"
    assert [(s.kind, s.rule_name) for s in harness.sent()] == [("new_issue", "New issue")]
    run_scheduler_for(harness, jobs, 5)
    assert [row.status for row in check_ins_of(harness, "every-minute")] == ["missed"] * 6 + ["ok"]
    assert monitor_issues(harness) == [("Cron failure: every-minute", "unresolved", 6)]
    assert len(harness.sent()) == 1


def test_a_check_in_in_time_is_never_missed(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "ok", config=EVERY_MINUTE)
    for _ in range(5):
        harness.clock.advance(60)
        send_check_in(harness, "etl", "ok")
        assert mark_overdue(harness.engine, harness.clock) == 0
    assert monitor_issues(harness) == []


def test_two_schedulers_mark_a_missed_check_in_once(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "ok", config=EVERY_MINUTE)
    harness.clock.advance(120)
    marked: list[int] = []
    runs = [
        threading.Thread(target=lambda: marked.append(mark_overdue(harness.engine, harness.clock)))
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert sorted(marked) == [0, 1]
    assert monitor_issues(harness) == [("Cron failure: etl", "unresolved", 1)]
    assert len(harness.sent()) == 1


def test_a_run_past_its_max_runtime_times_out_and_its_late_ok_changes_nothing(harness: DigestHarness) -> None:
    config = {"schedule": {"type": "interval", "value": 1, "unit": "day"}, "max_runtime": 5}
    run = send_check_in(harness, "backup", "in_progress", config=config)
    harness.clock.advance(4 * 60)
    assert mark_overdue(harness.engine, harness.clock) == 0
    harness.clock.advance(60)
    assert mark_overdue(harness.engine, harness.clock) == 1
    assert (state_of(harness, "backup").status, check_ins_of(harness, "backup")[0].status) == (
        "timeout",
        "timeout",
    )
    assert monitor_issues(harness) == [("Cron failure: backup", "unresolved", 1)]
    send_check_in(harness, "backup", "ok", check_in_id=run)
    assert check_ins_of(harness, "backup")[0].status == "timeout"


def test_the_next_ok_check_in_recovers_a_missed_monitor(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "ok", config=EVERY_MINUTE)
    harness.clock.advance(120)
    mark_overdue(harness.engine, harness.clock)
    send_check_in(harness, "etl", "ok")
    assert state_of(harness, "etl").status == "ok"
    assert monitor_issues(harness) == [("Cron failure: etl", "resolved", 1)]


def test_a_scheduler_that_was_down_marks_one_missed_check_in(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "ok", config=EVERY_MINUTE)
    harness.clock.advance(3600)
    assert mark_overdue(harness.engine, harness.clock) == 1
    assert mark_overdue(harness.engine, harness.clock) == 0
    found = state_of(harness, "etl")
    assert found.next_checkin is not None and found.next_checkin > harness.clock.now() - 60


def test_a_monitor_without_a_schedule_is_never_missed(harness: DigestHarness) -> None:
    send_check_in(harness, "adhoc", "ok")
    harness.clock.advance(30 * 86_400)
    assert mark_overdue(harness.engine, harness.clock) == 0
    assert state_of(harness, "adhoc").next_checkin is None


def test_retention_deletes_check_ins_older_than_the_project_keeps(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "ok", config=EVERY_MINUTE)
    with write_transaction(harness.engine) as conn:
        retention_store.set_retention_days(conn, harness.project_id, 1)
    harness.clock.advance(2 * 86_400)
    send_check_in(harness, "etl", "ok")
    retention.cleanup(harness.engine, clock=harness.clock, pause=0)
    assert [row.status for row in check_ins_of(harness, "etl")] == ["ok"]
    assert state_of(harness, "etl").status == "ok"
