"""Check-ins as the digest stores them, on SQLite and PostgreSQL: the monitor a `monitor_config`
makes, runs opened and closed, failures that alert through the project's rules, and recovery."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from shoal.alerts import model
from shoal.alerts.templates import TEMPLATES
from shoal.outcomes import Category, Outcome
from shoal.store.schema import outcome_counter
from tests.support.alerting import DigestHarness
from tests.support.check_ins import (
    EVERY_MINUTE,
    check_ins_of,
    monitor_issues,
    monitor_of,
    send_check_in,
    state_of,
)

HOURLY = {
    "schedule": {"type": "crontab", "value": "0 * * * *"},
    "checkin_margin": 5,
    "timezone": "Europe/Berlin",
}


@pytest.fixture
def harness(engine: Engine, tmp_path: Path) -> DigestHarness:
    return DigestHarness(engine, tmp_path)


def test_a_check_in_with_a_monitor_config_creates_the_monitor_with_its_schedule(
    harness: DigestHarness,
) -> None:
    send_check_in(harness, "Nightly Backup", "in_progress", config=HOURLY)
    found = monitor_of(harness, "nightly-backup")
    state = state_of(harness, "nightly-backup")
    assert found.config.schedule is not None
    assert (found.config.schedule.kind, found.config.schedule.value) == ("crontab", "0 * * * *")
    assert (found.config.checkin_margin, found.config.max_runtime, found.config.timezone) == (
        5,
        30,
        "Europe/Berlin",
    )
    assert state.status == "active"
    start = harness.clock.now()
    assert state.next_checkin == start - start % 3600 + 3600  # the next whole hour
    assert state.next_checkin_latest == state.next_checkin + 5 * 60


def test_a_changed_monitor_config_moves_the_next_check_in(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "ok", config=EVERY_MINUTE)
    daily = {"schedule": {"type": "interval", "value": 1, "unit": "day"}, "checkin_margin": 30}
    send_check_in(harness, "etl", "ok", config=daily)
    found, state = monitor_of(harness, "etl"), state_of(harness, "etl")
    assert found.config.schedule is not None and found.config.schedule.describe() == "every day"
    now = harness.clock.now()
    assert state.next_checkin == now - now % 60 + 86_400
    assert state.next_checkin_latest == state.next_checkin + 30 * 60


def test_in_progress_then_ok_is_one_run_with_its_duration(harness: DigestHarness) -> None:
    run = send_check_in(harness, "etl", "in_progress", config=EVERY_MINUTE)
    harness.clock.advance(20)
    send_check_in(harness, "etl", "ok", check_in_id=run, duration=19.5)
    [row] = check_ins_of(harness, "etl")
    assert (row.check_in_id, row.status, row.duration, row.timeout_at) == (run, "ok", 19.5, None)
    assert state_of(harness, "etl").status == "ok"


def test_a_redelivered_check_in_changes_nothing(harness: DigestHarness) -> None:
    run = send_check_in(harness, "etl", "error", config=EVERY_MINUTE)
    send_check_in(harness, "etl", "error", check_in_id=run, config=EVERY_MINUTE)
    assert len(check_ins_of(harness, "etl")) == 1
    assert state_of(harness, "etl").consecutive_failures == 1
    assert monitor_issues(harness) == [("Cron failure: etl", "unresolved", 1)]


def test_the_nil_id_closes_the_newest_run_in_progress(harness: DigestHarness) -> None:
    run = send_check_in(harness, "etl", "in_progress", config=EVERY_MINUTE)
    harness.clock.advance(3)
    send_check_in(harness, "etl", "ok", check_in_id="0" * 32)
    [row] = check_ins_of(harness, "etl")
    assert (row.check_in_id, row.status, row.duration) == (run, "ok", 3.0)


def test_a_failed_check_in_alerts_once_and_repeats_only_count(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "ok", config=EVERY_MINUTE)
    send_check_in(harness, "etl", "error")
    assert [(s.kind, s.rule_name) for s in harness.sent()] == [("new_issue", "New issue")]
    harness.clock.advance(60)
    send_check_in(harness, "etl", "error")
    assert len(harness.sent()) == 1
    assert monitor_issues(harness) == [("Cron failure: etl", "unresolved", 2)]
    assert state_of(harness, "etl").status == "error"


def test_an_ok_check_in_resolves_the_issue_and_the_next_failure_regresses_it(harness: DigestHarness) -> None:
    harness.add_rule(
        {**TEMPLATES["new_issue"], "name": "Regressed", "conditions": [{"id": model.REGRESSION}]}
    )
    send_check_in(harness, "etl", "error", config=EVERY_MINUTE)
    harness.clock.advance(60)
    send_check_in(harness, "etl", "ok")
    assert monitor_issues(harness) == [("Cron failure: etl", "resolved", 1)]
    assert state_of(harness, "etl").status == "ok"
    harness.clock.advance(60)
    send_check_in(harness, "etl", "error")
    assert monitor_issues(harness) == [("Cron failure: etl", "unresolved", 2)]
    assert [s.rule_name for s in harness.sent()] == ["New issue", "Regressed"]


def test_thresholds_wait_for_consecutive_failures_and_successes(harness: DigestHarness) -> None:
    config = {**EVERY_MINUTE, "failure_issue_threshold": 2, "recovery_threshold": 2}
    send_check_in(harness, "etl", "error", config=config)
    assert monitor_issues(harness) == []
    send_check_in(harness, "etl", "error")
    assert monitor_issues(harness) == [("Cron failure: etl", "unresolved", 1)]
    send_check_in(harness, "etl", "ok")
    assert (state_of(harness, "etl").status, monitor_issues(harness)[0][1]) == ("error", "unresolved")
    send_check_in(harness, "etl", "ok")
    assert (state_of(harness, "etl").status, monitor_issues(harness)[0][1]) == ("ok", "resolved")


def test_a_bad_monitor_config_is_reported_on_the_monitor_and_the_check_in_kept(
    harness: DigestHarness,
) -> None:
    send_check_in(harness, "etl", "ok", config=EVERY_MINUTE)
    send_check_in(harness, "etl", "ok", config={"schedule": {"type": "crontab", "value": "61 * * * *"}})
    found = monitor_of(harness, "etl")
    assert found.config_error is not None and "61" in found.config_error
    assert found.config.schedule is not None and found.config.schedule.value == "* * * * *"
    assert len(check_ins_of(harness, "etl")) == 2


def test_check_ins_count_as_accepted_monitor_items_and_failures_not_as_errors(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "in_progress", config=EVERY_MINUTE)
    send_check_in(harness, "etl", "error")
    send_check_in(harness, "", "ok")  # no slug: invalid
    with harness.engine.connect() as conn:
        rows = conn.execute(
            select(
                outcome_counter.c.category,
                outcome_counter.c.outcome,
                outcome_counter.c.reason,
                outcome_counter.c.quantity,
            )
        )
        counted = {(r.category, r.outcome, r.reason): r.quantity for r in rows}
    assert counted == {
        (Category.MONITOR, Outcome.ACCEPTED, ""): 2,
        (Category.MONITOR, Outcome.INVALID, "no_monitor_slug"): 1,
    }
