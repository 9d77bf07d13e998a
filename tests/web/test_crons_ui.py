"""The Crons pages in Chromium against a real `shoal run`: make a monitor with the form, change its
schedule, see its check-ins (sent to the HTTP endpoint) as a timeline and a table and its status
per environment, follow it to its failure issue, mute and unmute it, and delete it after its
confirmation page. What the job sent is shown as text, never run."""

from __future__ import annotations

import urllib.request
from urllib.parse import quote

from playwright.sync_api import Page, expect

from shoal.store import monitors
from tests.support.browser_login import log_in, record_dialogs
from tests.support.server import RunningShoal, wait_until

HOSTILE = "<img src=x onerror=alert(1)>"


def check_in(shoal: RunningShoal, slug: str, query: str) -> None:
    url = f"{shoal.url}/api/{shoal.project_id}/cron/{slug}/{shoal.public_key}/?{query}"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 202


def check_in_count(shoal: RunningShoal, slug: str) -> int:
    with shoal.engine.connect() as conn:
        found = monitors.monitor_by_slug(conn, shoal.project_id, slug)
        return len(monitors.recent_check_ins(conn, found.id, 100)) if found else 0


def test_a_monitor_is_made_edited_watched_and_deleted_in_the_ui(page: Page, shoal: RunningShoal) -> None:
    dialogs = record_dialogs(page)
    log_in(page, shoal)
    crons = f"{shoal.url}/projects/{shoal.project_id}/crons/"
    page.goto(crons)
    expect(page.get_by_text("No monitors yet.")).to_be_visible()

    page.get_by_role("link", name="New monitor").click()
    page.get_by_label("Slug").fill("nightly-report")
    page.get_by_label("Crontab expression").fill("0 3 * * *")
    page.get_by_label("Timezone").fill("Mars/Olympus")
    page.get_by_role("button", name="Create monitor").click()
    expect(page.locator("#form-error")).to_contain_text("unknown timezone 'Mars/Olympus'")
    page.get_by_label("Timezone").fill("Europe/Berlin")
    page.get_by_label("Margin (minutes)").fill("5")
    page.get_by_role("button", name="Create monitor").click()
    expect(page.locator("#notice")).to_contain_text("Monitor created")
    expect(page.locator("#schedule")).to_contain_text("0 3 * * * (crontab, Europe/Berlin)")

    page.get_by_role("link", name="Edit monitor").click()
    page.get_by_label("Every").check()
    page.get_by_label("How many").fill("2")
    page.get_by_label("Unit").select_option("hour")
    page.get_by_role("button", name="Save monitor").click()
    expect(page.locator("#schedule")).to_contain_text("every 2 hours (interval, Europe/Berlin)")

    check_in(shoal, "nightly-report", "status=ok&duration=12.5")
    check_in(shoal, "nightly-report", f"status=error&environment={quote(HOSTILE)}")
    wait_until(lambda: check_in_count(shoal, "nightly-report") == 2, 30, "two check-ins")
    page.reload()
    expect(page.locator("#monitor-status")).to_have_text("error")
    expect(page.locator(".cron-timeline .tick")).to_have_count(2)
    expect(page.locator("tr.check-in").first).to_contain_text(HOSTILE)
    expect(page.locator("tr.check-in").nth(1)).to_contain_text("12.5 s")
    production = page.locator("tr.monitor-environment", has_text="production")
    expect(production.locator(".monitor-status")).to_have_text("ok")
    expect(production.locator(".next-checkin")).to_contain_text("missed after")
    expect(page.locator("tr.monitor-environment").first).to_contain_text(HOSTILE)

    page.goto(crons)
    row = page.locator("tr.monitor", has_text="nightly-report")
    expect(row).to_contain_text("every 2 hours")
    expect(row.locator(".monitor-status")).to_have_text("error")  # the worst environment's
    expect(row.locator(".monitor-environments")).to_contain_text("production")
    row.get_by_role("link", name="nightly-report").click()

    wait_until(lambda: shoal.issue_count() == 1, 30, "the failure issue")
    page.reload()
    page.locator("#failure-issue a").click()
    expect(page.locator("h1")).to_contain_text("Cron failure: nightly-report")

    page.go_back()
    page.get_by_role("button", name="Mute").click()
    expect(page.locator("#notice")).to_contain_text("Monitor muted")
    expect(page.locator("#monitor-muted")).to_have_text("muted")
    page.get_by_role("button", name="Unmute").click()
    expect(page.locator("#notice")).to_contain_text("Monitor unmuted")

    page.get_by_role("link", name="Delete monitor…").click()
    expect(page.locator("h1")).to_contain_text("Delete the monitor nightly-report?")
    expect(page.locator(".monitor-delete")).to_contain_text("2 check-ins")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("#monitor-status")).to_have_text("error")
    page.get_by_role("link", name="Delete monitor…").click()
    page.get_by_role("button", name="Delete monitor").click()
    expect(page.locator("#notice")).to_contain_text("Monitor deleted")
    expect(page.get_by_text("No monitors yet.")).to_be_visible()
    assert dialogs == []
