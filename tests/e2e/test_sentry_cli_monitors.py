"""`sentry-cli monitors run` (the real binary from the PyPI wheel) against `shoal run`: it wraps a
command, sends `in_progress` then `ok` or `error` with the run's duration to the DSN's envelope
endpoint, and a failed run alerts once through the project's default rule (an email to aiosmtpd).

sentry-cli 3 sends check-ins only with `SENTRY_DSN` (without it: "DSN missing"), so there is no
token form to test; docs/crons.md says so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shoal.store import monitors
from shoal.store.monitors import CheckInRow
from shoal.store.schema import notification
from tests.support.receivers import Mailbox, smtp_server
from tests.support.server import ADMIN_EMAIL, RunningShoal, start_shoal, wait_until

SENTRY_CLI = Path(sys.executable).with_name("sentry-cli")


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with smtp_server(box) as port:
        yield box, port


@pytest.fixture
def alerting_shoal(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Iterator[RunningShoal]:
    smtp = {
        "SHOAL_SMTP_HOST": "127.0.0.1",
        "SHOAL_SMTP_PORT": str(mailbox[1]),
        "SHOAL_EMAIL_FROM": "a@b.test",
    }
    server = start_shoal(tmp_path / "data", extra_env=smtp)
    yield server
    server.stop()


def monitors_run(server: RunningShoal, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`sentry-cli monitors run …` with only the DSN set, as a crontab line would run it."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "SENTRY_DSN": server.dsn,
        "SENTRY_LOG_LEVEL": "debug",
        "SENTRY_DISABLE_UPDATE_CHECK": "true",
    }
    return subprocess.run(
        [str(SENTRY_CLI), "monitors", "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def closed_runs(server: RunningShoal, slug: str, count: int) -> list[CheckInRow]:
    """The monitor's check-ins, oldest first, once `count` of them are closed."""

    def runs() -> list[CheckInRow]:
        with server.engine.connect() as conn:
            found = monitors.monitor_by_slug(conn, server.project_id, slug)
            return list(reversed(monitors.recent_check_ins(conn, found.id, 100))) if found else []

    wait_until(
        lambda: len(done := runs()) >= count and all(r.status != "in_progress" for r in done),
        30,
        f"{count} closed check-ins of {slug}",
    )
    return runs()


def test_monitors_run_reports_a_run_that_succeeds_and_one_that_fails(
    alerting_shoal: RunningShoal, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    server, box = alerting_shoal, mailbox[0]
    schedule = ("--schedule", "*/5 * * * *", "--check-in-margin", "3", "--max-runtime", "10")
    zone = ("--timezone", "Europe/Vienna")
    succeeded = monitors_run(server, tmp_path, "nightly-sync", *schedule, *zone, "--", "sh", "-c", "exit 0")
    assert succeeded.returncode == 0, succeeded.stderr[-4000:]
    [ok] = closed_runs(server, "nightly-sync", 1)
    assert (ok.status, ok.environment) == ("ok", "production")
    assert ok.duration is not None and ok.duration >= 0
    with server.engine.connect() as conn:
        found = monitors.monitor_by_slug(conn, server.project_id, "nightly-sync")
    assert found is not None and found.config.schedule is not None
    assert (found.config.schedule.value, found.config.checkin_margin, found.config.max_runtime) == (
        "*/5 * * * *",
        3,
        10,
    )
    assert found.config.timezone == "Europe/Vienna"
    assert box.messages == []

    failed = monitors_run(server, tmp_path, "nightly-sync", "--", "sh", "-c", "exit 1")
    assert failed.returncode == 1  # sentry-cli exits with the command's code
    assert [r.status for r in closed_runs(server, "nightly-sync", 2)] == ["ok", "error"]
    wait_until(lambda: len(box.messages) == 1, 60, "the new-issue email")
    assert box.messages[0]["To"] == ADMIN_EMAIL
    assert "Cron failure: nightly-sync" in str(box.messages[0]["Subject"])

    again = monitors_run(server, tmp_path, "nightly-sync", "--", "sh", "-c", "exit 1")
    assert again.returncode == 1
    closed_runs(server, "nightly-sync", 3)
    wait_until(lambda: server.event_count() == 2, 30, "the second failure event")
    # The alert decision commits with the event: no second notification was queued.
    assert (server.issue_count(), notification_count(server)) == (1, 1)


def notification_count(server: RunningShoal) -> int:
    with server.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(notification)).scalar_one())
