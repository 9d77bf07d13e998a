"""Cron check-ins end to end against `shoal run`: the real sentry-sdk's `@monitor` decorator and
`capture_checkin` in their own process, and the HTTP check-in endpoint with curl-like requests."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import urllib.error
import urllib.request

import orjson

from shoal.store import monitors
from shoal.store.monitors import CheckInRow, MonitorRow
from tests.support.server import RunningShoal, wait_until

SDK_SCRIPT = textwrap.dedent(
    """
    import sys
    import sentry_sdk
    from sentry_sdk.crons import capture_checkin
    from sentry_sdk.crons.consts import MonitorStatus

    sentry_sdk.init(dsn=sys.argv[1], environment="production", release="jobs@2.0")
    config = {
        "schedule": {"type": "crontab", "value": "0 3 * * *"},
        "checkin_margin": 10,
        "max_runtime": 45,
        "timezone": "Europe/Berlin",
    }

    @sentry_sdk.monitor(monitor_slug="nightly-report", monitor_config=config)
    def nightly_report():
        return "done"

    @sentry_sdk.monitor(monitor_slug="nightly-report")
    def failing_report():
        raise RuntimeError("the report broke")

    nightly_report()
    try:
        failing_report()
    except RuntimeError:
        pass

    hourly = {"schedule": {"type": "interval", "value": 1, "unit": "hour"}}
    run = capture_checkin(monitor_slug="sync", status=MonitorStatus.IN_PROGRESS, monitor_config=hourly)
    capture_checkin(monitor_slug="sync", check_in_id=run, status=MonitorStatus.OK, duration=2.5)
    sentry_sdk.flush(timeout=10)
    """
)


def monitor_named(server: RunningShoal, slug: str) -> MonitorRow | None:
    with server.engine.connect() as conn:
        return monitors.monitor_by_slug(conn, server.project_id, slug)


def runs_of(server: RunningShoal, slug: str) -> list[CheckInRow]:
    """Oldest first."""
    found = monitor_named(server, slug)
    if found is None:
        return []
    with server.engine.connect() as conn:
        return list(reversed(monitors.recent_check_ins(conn, found.id, 100)))


def closed_runs(server: RunningShoal, slug: str, count: int) -> list[CheckInRow]:
    def done() -> bool:
        runs = runs_of(server, slug)
        return len(runs) >= count and all(r.status != "in_progress" for r in runs)

    wait_until(done, 30, f"{count} closed check-ins of {slug}")
    return runs_of(server, slug)


def test_the_sdk_decorator_and_capture_checkin_make_monitors_and_runs(
    shoal_on_each_store: RunningShoal,
) -> None:
    server = shoal_on_each_store
    sdk = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, server.dsn],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert sdk.returncode == 0, sdk.stderr
    report = closed_runs(server, "nightly-report", 2)
    assert [(r.status, r.environment, r.release) for r in report] == [
        ("ok", "production", "jobs@2.0"),
        ("error", "production", "jobs@2.0"),
    ]
    assert all(r.duration is not None and r.duration >= 0 for r in report)
    found = monitor_named(server, "nightly-report")
    assert found is not None and found.config.schedule is not None
    assert (found.config.schedule.value, found.config.timezone, found.config.checkin_margin) == (
        "0 3 * * *",
        "Europe/Berlin",
        10,
    )
    assert found.config.max_runtime == 45
    with server.engine.connect() as conn:
        production = monitors.environment_by_name(conn, found.id, "production")
    assert production is not None and production.status == "error"
    [sync] = closed_runs(server, "sync", 1)
    assert (sync.status, sync.duration) == ("ok", 2.5)
    wait_until(lambda: server.issue_count() == 1, 30, "the cron failure issue")


def http(method: str, url: str, body: bytes | None = None, content_type: str | None = None) -> int:
    request = urllib.request.Request(url, data=body, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_the_http_endpoint_takes_get_and_post_check_ins(shoal: RunningShoal) -> None:
    base = f"{shoal.url}/api/{shoal.project_id}/cron"
    key = shoal.public_key
    run = "4a2a31b1c4c54a6c8f0e3c1e9a6b2d11"
    config = {"schedule": {"type": "interval", "value": "2", "unit": "hour"}, "checkin_margin": 5}
    body = orjson.dumps({"status": "in_progress", "check_in_id": run, "monitor_config": config})
    assert http("POST", f"{base}/db-backup/{key}/", body, "application/json") == 202
    assert http("GET", f"{base}/db-backup/{key}/?check_in_id={run}&status=ok&duration=42") == 202
    assert http("GET", f"{base}/db-backup/{key}?status=error&environment=staging") == 202
    assert http("POST", f"{base}/db-backup/?sentry_key={key}&status=ok") == 202
    runs = closed_runs(shoal, "db-backup", 3)
    assert [(r.status, r.duration, r.environment) for r in runs] == [
        ("ok", 42.0, "production"),  # none named: production, as in Sentry
        ("error", None, "staging"),
        ("ok", None, "production"),
    ]
    found = monitor_named(shoal, "db-backup")
    assert found is not None and found.config.schedule is not None
    assert found.config.schedule.describe() == "every 2 hours"


def test_the_http_endpoint_refuses_what_it_cannot_use(shoal: RunningShoal) -> None:
    base = f"{shoal.url}/api/{shoal.project_id}/cron/db-backup"
    assert http("GET", f"{base}/{shoal.public_key}/?status=done") == 400
    assert http("GET", f"{base}/{shoal.public_key}/?status=ok&check_in_id=nope") == 400
    assert http("GET", f"{base}/?status=ok") == 401
    assert http("GET", f"{base}/{'0' * 32}/?status=ok") == 403
    assert http("GET", f"{base}/{shoal.public_key}/?status=ok&sentry_key={shoal.public_key}") == 401
    assert http("PUT", f"{base}/{shoal.public_key}/?status=ok", b"") == 405
