"""The Performance pages in Chromium against a real `shoal run`, fed by the real sentry-sdk: the
ranking (slowest total first, with its numbers and charts), a transaction's page (duration
histogram, slowest samples, span ops), a sample's span waterfall, and the link from an error to its
trace, whose page lists the error with its issue. A transaction named like a script tag stays text
on every page."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from shoal.store.schema import issue, transaction_event
from tests.support.browser_login import log_in, record_dialogs
from tests.support.server import RunningShoal, start_shoal, wait_until

pytestmark = pytest.mark.browser

HOSTILE = "<script>alert(1)</script>"
SDK_SCRIPT = textwrap.dedent(
    """
    import sys
    import time
    import sentry_sdk

    sentry_sdk.init(dsn=sys.argv[1], traces_sample_rate=1.0, release="shop@2.0")
    for i in range(3):
        with sentry_sdk.start_transaction(op="http.server", name="/checkout"):
            with sentry_sdk.start_span(op="db", name="SELECT * FROM cart"):
                with sentry_sdk.start_span(op="db.fetch", name="fetch rows"):
                    time.sleep(0.02 * (i + 1))
            with sentry_sdk.start_span(op="http.client", name="GET https://payments.example/charge"):
                time.sleep(0.005)
    with sentry_sdk.start_transaction(op="task", name=sys.argv[2]):
        try:
            1 / 0
        except ZeroDivisionError:
            sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=20)
    """
)


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("performance-ui") / "data")
    result = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, server.dsn, HOSTILE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    wait_until(
        lambda: _count(server, transaction_event) == 4 and _count(server, issue) == 1, 60, "4 transactions"
    )
    yield server
    server.stop()


def _count(server: RunningShoal, table: object) -> int:
    with server.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_the_performance_page_ranks_transactions_and_leads_to_a_waterfall(
    shoal: RunningShoal, page: Page
) -> None:
    dialogs = record_dialogs(page)
    log_in(page, shoal)
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/issues/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Performance").click()
    expect(page.locator("h1")).to_have_text("Performance")
    rows = page.locator("#transactions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".transaction-name")).to_have_text("/checkout")
    expect(rows.first.locator("td").nth(2)).to_have_text("3")
    expect(rows.nth(1).locator(".transaction-name")).to_have_text(HOSTILE)
    expect(page.locator("#chart-throughput .bar")).not_to_have_count(0)
    expect(page.locator("#chart-p95")).to_be_visible()

    page.get_by_role("link", name="7 days").click()
    expect(page.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "true")
    expect(rows).to_have_count(2)

    rows.first.get_by_role("link", name="/checkout").click()
    expect(page.locator("h1")).to_have_text("/checkout")
    expect(page.locator("#stat-count")).to_have_text("3")
    expect(page.locator("#chart-durations .bar")).not_to_have_count(0)
    samples = page.locator("#slowest-samples tbody tr")
    expect(samples).to_have_count(3)
    expect(page.locator("#span-ops tbody tr").first.locator("td").first).to_have_text("db")

    samples.first.locator("a").first.click()
    expect(page.locator("h1")).to_have_text("/checkout")
    waterfall = page.locator("#waterfall .span-row")
    expect(waterfall).to_have_count(3)
    expect(waterfall.nth(0)).to_contain_text("SELECT * FROM cart")
    expect(waterfall.nth(1)).to_have_class("span-row depth-1")  # fetch rows, inside the SELECT
    expect(waterfall.nth(2)).to_contain_text("GET https://payments.example/charge")
    assert dialogs == []


def test_an_error_links_to_the_transaction_of_its_trace(shoal: RunningShoal, page: Page) -> None:
    dialogs = record_dialogs(page)
    log_in(page, shoal)
    with shoal.engine.connect() as conn:
        issue_id = conn.execute(select(issue.c.id)).scalar_one()
    page.goto(f"{shoal.url}/issues/{issue_id}/")
    page.get_by_role("link", name="Transactions of this trace").click()
    listed = page.locator("#trace-transactions tbody tr")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text(HOSTILE)
    errors = page.locator("#trace-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("ZeroDivisionError: division by zero")
    expect(errors.first.locator(".level")).to_have_text("error")
    errors.first.get_by_role("link", name="ZeroDivisionError: division by zero").click()
    expect(page).to_have_url(f"{shoal.url}/issues/{issue_id}/")
    page.go_back()
    listed.first.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text(HOSTILE)
    expect(page.locator("#sample-duration")).to_be_visible()
    assert dialogs == []


def test_a_trace_without_a_stored_transaction_says_why(shoal: RunningShoal, page: Page) -> None:
    log_in(page, shoal)
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/performance/traces/{'0' * 32}/")
    expect(page.locator("#trace-not-sampled")).to_contain_text("traces_sample_rate")
    expect(page.locator("#trace-no-errors")).to_contain_text("No error of this trace was stored")
