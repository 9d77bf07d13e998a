"""A monitor's status, schedule and missed check-ins per environment, on SQLite and PostgreSQL: a job
failing in production and fine in staging is both, and its one issue resolves only once no
environment is failing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from shoal.crons.overdue import mark_overdue
from shoal.store import monitors
from tests.support.alerting import DigestHarness
from tests.support.check_ins import (
    EVERY_MINUTE,
    check_ins_of,
    monitor_issues,
    monitor_of,
    send_check_in,
    state_of,
)


@pytest.fixture
def harness(engine: Engine, tmp_path: Path) -> DigestHarness:
    harness = DigestHarness(engine, tmp_path)
    harness.clock.advance(-(harness.clock.now() % 60) + 10)  # ten seconds into a minute
    return harness


def statuses(harness: DigestHarness, slug: str) -> dict[str, str]:
    with harness.engine.connect() as conn:
        found = monitors.monitor_environments(conn, [monitor_of(harness, slug).id])
    return {row.environment: row.status for row in found[monitor_of(harness, slug).id]}


def test_each_environment_keeps_its_own_status(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "ok", config=EVERY_MINUTE, environment="staging")
    send_check_in(harness, "etl", "error", environment="production")
    send_check_in(harness, "etl", "ok")  # no environment: production, as in Sentry
    assert statuses(harness, "etl") == {"production": "ok", "staging": "ok"}
    send_check_in(harness, "etl", "error", environment="staging")
    assert statuses(harness, "etl") == {"production": "ok", "staging": "error"}
    assert [row.environment for row in check_ins_of(harness, "etl")] == [
        "staging",
        "production",
        "production",
        "staging",
    ]


def test_a_job_that_stops_in_one_environment_is_missed_there_only(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "ok", config=EVERY_MINUTE, environment="production")
    send_check_in(harness, "etl", "ok", environment="staging")
    for _ in range(2):
        harness.clock.advance(60)
        send_check_in(harness, "etl", "ok", environment="production")
        mark_overdue(harness.engine, harness.clock)
    assert statuses(harness, "etl") == {"production": "ok", "staging": "missed"}
    missed = [row for row in check_ins_of(harness, "etl") if row.status == "missed"]
    assert [row.environment for row in missed] == ["staging"]
    assert monitor_issues(harness) == [("Cron failure: etl", "unresolved", 1)]
    with harness.engine.connect() as conn:
        found = monitors.monitor_environments(conn, [monitor_of(harness, "etl").id])
    assert monitors.worst_status(found[monitor_of(harness, "etl").id]) == "missed"


def test_the_issue_resolves_once_no_environment_is_failing(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "error", config=EVERY_MINUTE, environment="production")
    send_check_in(harness, "etl", "error", environment="staging")
    assert monitor_issues(harness) == [("Cron failure: etl", "unresolved", 2)]
    send_check_in(harness, "etl", "ok", environment="staging")
    assert monitor_issues(harness) == [("Cron failure: etl", "unresolved", 2)]
    send_check_in(harness, "etl", "ok", environment="production")
    assert monitor_issues(harness) == [("Cron failure: etl", "resolved", 2)]


def test_a_nil_id_closes_the_run_in_progress_of_its_own_environment(harness: DigestHarness) -> None:
    staging = send_check_in(harness, "etl", "in_progress", config=EVERY_MINUTE, environment="staging")
    production = send_check_in(harness, "etl", "in_progress", environment="production")
    harness.clock.advance(5)
    send_check_in(harness, "etl", "ok", check_in_id="0" * 32, environment="staging")
    runs = {row.check_in_id: row.status for row in check_ins_of(harness, "etl")}
    assert runs == {staging: "ok", production: "in_progress"}
    assert state_of(harness, "etl", "staging").status == "ok"
