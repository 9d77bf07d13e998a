"""A muted monitor, on SQLite and PostgreSQL: its failures still show as its status and its
check-ins, but make no issue event and so no alert; unmuted, the next failure alerts again."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from shoal.crons.overdue import mark_overdue
from shoal.store import monitors
from shoal.store.db import write_transaction
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
    return DigestHarness(engine, tmp_path)


def mute(harness: DigestHarness, slug: str, muted: bool) -> None:
    with write_transaction(harness.engine) as conn:
        monitors.set_muted(conn, monitor_of(harness, slug).id, muted)


def test_a_muted_monitor_shows_its_failures_but_never_alerts(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "ok", config=EVERY_MINUTE)
    mute(harness, "etl", True)
    send_check_in(harness, "etl", "error")
    assert state_of(harness, "etl").status == "error"
    harness.clock.advance(180)
    assert mark_overdue(harness.engine, harness.clock) == 1
    assert state_of(harness, "etl").status == "missed"
    assert [row.status for row in check_ins_of(harness, "etl")] == ["missed", "error", "ok"]
    assert (monitor_issues(harness), harness.sent()) == ([], [])


def test_an_unmuted_monitor_alerts_on_its_next_failure(harness: DigestHarness) -> None:
    send_check_in(harness, "etl", "ok", config=EVERY_MINUTE)
    mute(harness, "etl", True)
    send_check_in(harness, "etl", "error")
    mute(harness, "etl", False)
    send_check_in(harness, "etl", "error")
    assert monitor_issues(harness) == [("Cron failure: etl", "unresolved", 1)]
    assert [s.rule_name for s in harness.sent()] == ["New issue"]
