"""Check-ins for tests: the envelope sentry-python sends for `capture_checkin`, spooled and digested
through a `DigestHarness`, and the monitor's state read back."""

from __future__ import annotations

import gzip
import uuid
from typing import Any

import orjson
from sqlalchemy import select

from shoal.spool.base import SpoolEntry
from shoal.store import monitors
from shoal.store.monitors import CheckInRow, EnvironmentRow, MonitorRow
from shoal.store.schema import issue
from tests.support.alerting import DigestHarness

EVERY_MINUTE = {"schedule": {"type": "crontab", "value": "* * * * *"}, "checkin_margin": 1, "max_runtime": 5}


def check_in_envelope(payload: dict[str, Any]) -> bytes:
    """As sentry-python writes it: no event id in the header, one `check_in` item."""
    body = orjson.dumps(payload)
    item = orjson.dumps({"type": "check_in", "content_type": "application/json", "length": len(body)})
    return b"{}\n" + item + b"\n" + body + b"\n"


def send_check_in(
    harness: DigestHarness,
    slug: str,
    status: str,
    *,
    check_in_id: str | None = None,
    config: dict[str, Any] | None = None,
    **fields: Any,
) -> str:
    """Spool one check-in received now and digest it; its id."""
    check_in_id = check_in_id or uuid.uuid4().hex
    payload: dict[str, Any] = {"check_in_id": check_in_id, "monitor_slug": slug, "status": status, **fields}
    if config is not None:
        payload["monitor_config"] = config
    now = harness.clock.now()
    body = gzip.compress(check_in_envelope(payload))
    harness.spool.append([SpoolEntry(harness.project_id, "envelope", now, None, None, "gzip", body)])
    while harness.worker.run_once():
        pass
    return check_in_id


def monitor_of(harness: DigestHarness, slug: str) -> MonitorRow:
    with harness.engine.connect() as conn:
        found = monitors.monitor_by_slug(conn, harness.project_id, slug)
    assert found is not None, f"no monitor {slug}"
    return found


def state_of(harness: DigestHarness, slug: str, environment: str = "production") -> EnvironmentRow:
    """The monitor's state in one environment (a check-in without one counts in production)."""
    with harness.engine.connect() as conn:
        found = monitors.environment_by_name(conn, monitor_of(harness, slug).id, environment)
    assert found is not None, f"no environment {environment} of {slug}"
    return found


def check_ins_of(harness: DigestHarness, slug: str) -> list[CheckInRow]:
    """Newest first."""
    with harness.engine.connect() as conn:
        return monitors.recent_check_ins(conn, monitor_of(harness, slug).id, 100)


def monitor_issues(harness: DigestHarness) -> list[tuple[str, str, int]]:
    """(title, status, times seen) of the project's cron failure issues."""
    with harness.engine.connect() as conn:
        rows = conn.execute(
            select(issue.c.title, issue.c.status, issue.c.times_seen)
            .where(issue.c.project_id == harness.project_id, issue.c.title.like("Cron failure:%"))
            .order_by(issue.c.id)
        )
        return [(row.title, row.status, row.times_seen) for row in rows]
