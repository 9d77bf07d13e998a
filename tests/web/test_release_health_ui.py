"""The release page's health section and the release list's crash-free column, in Chromium against
a real `shoal run`: sessions sent over HTTP as the JavaScript SDK writes envelopes (no lengths),
in two environments, one of them named by hostile markup that must stay text."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
from playwright.sync_api import Page, expect

from shoal.clock import iso_utc
from shoal.store import session_stats
from tests.support.browser_login import log_in, record_dialogs
from tests.support.http import auth_header, envelope_url, post
from tests.support.server import RunningShoal, wait_until

RELEASE = "web@3.1.0"
HOSTILE = "<img src=x onerror=alert(1)>"


def js_envelope(*items: tuple[str, dict[str, Any]], event_id: str | None = None) -> bytes:
    header = {"sent_at": iso_utc(time.time()), **({"event_id": event_id} if event_id else {})}
    lines = [orjson.dumps(header)]
    for item_type, payload in items:
        lines += [orjson.dumps({"type": item_type}), orjson.dumps(payload)]
    return b"\n".join(lines)


def session(status: str, user: str, environment: str, errors: int = 0) -> tuple[str, dict[str, Any]]:
    now = iso_utc(time.time())
    attrs = {"release": RELEASE, "environment": environment}
    payload = {"sid": uuid.uuid4().hex, "init": True, "started": now, "timestamp": now, "status": status}
    return ("session", {**payload, "errors": errors, "did": user, "attrs": attrs})


def send_sessions(shoal: RunningShoal) -> None:
    production = [session("exited", f"user-{i}", "production") for i in range(6)]
    production += [
        session("crashed", "user-0", "production", 1),
        session("exited", "user-1", "production", 2),
    ]
    hostile = [session("abnormal", "user-9", HOSTILE), session("exited", "user-9", HOSTILE)]
    reply = post(
        envelope_url(shoal.url, shoal.project_id),
        js_envelope(*production, *hostile),
        auth_header(shoal.public_key),
    )
    assert reply.status == 200

    def stored() -> bool:
        with shoal.engine.connect() as conn:
            found = session_stats.release_health(conn, shoal.project_id, RELEASE)
        return found is not None and found.total.started == 10

    wait_until(stored, 30, "the sessions", shoal.process, shoal.output)


def test_the_release_page_shows_crash_free_rates_and_counts_per_environment(
    shoal: RunningShoal, page: Page
) -> None:
    send_sessions(shoal)
    dialogs = record_dialogs(page)
    log_in(page, shoal)
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/releases/{RELEASE}/")
    # 1 crash in 10 sessions; 1 of 7 users (user-0) had a crashed session.
    expect(page.locator("#crash-free-sessions dd")).to_have_text("90.00 %")
    expect(page.locator("#crash-free-users dd")).to_have_text("85.71 %")
    rows = page.locator("table.health-table tbody tr")
    expect(rows).to_have_count(3)
    # Environment, sessions, healthy, errored, crashed, abnormal, crash-free, users, crash-free users.
    expect(page.locator('tr[data-environment="production"] td')).to_have_text(
        ["production", "8", "6", "1", "1", "0", "87.50 %", "6", "83.33 %"]
    )
    expect(page.locator(f'tr[data-environment="{HOSTILE}"] td')).to_have_text(
        [HOSTILE, "2", "1", "0", "0", "1", "100.00 %", "1", "100.00 %"]
    )
    expect(page.locator('tr[data-environment="*"] td').first).to_have_text("All environments")
    assert dialogs == []

    page.goto(f"{shoal.url}/projects/{shoal.project_id}/releases/")
    expect(page.locator("table.releases td.crash-free")).to_have_text(["90.00 %"])
    assert dialogs == []


def test_a_release_without_sessions_says_how_to_send_them(shoal: RunningShoal, page: Page) -> None:
    event_id = uuid.uuid4().hex
    event = {"event_id": event_id, "message": "hello", "release": "web@0.1", "timestamp": time.time()}
    reply = post(
        envelope_url(shoal.url, shoal.project_id),
        js_envelope(("event", event), event_id=event_id),
        auth_header(shoal.public_key),
    )
    assert reply.status == 200
    shoal.wait_for_event(event_id)
    log_in(page, shoal)
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/releases/web@0.1/")
    expect(page.locator("#health")).to_contain_text("No sessions for this release yet")
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/releases/")
    expect(page.locator("table.releases td.crash-free")).to_have_text(["—"])
