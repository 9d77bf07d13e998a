"""The Stats page in Chromium against a real `shoal run`: stacked bars whose titles say the seeded
outcome counters, the period switch (24 hours by hour, 14 and 90 days by day), the category
chooser, the table per outcome and reason and per client key, the quota advisor's text with
links to the issues and the inbound filters, the weekly email's opt-out, and reasons and project
names an SDK or a user wrote shown as text, never markup."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Connection

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.outcomes import Outcome, OutcomeKey
from shoal.store import advisor_emails, aggregates, issues, projects
from shoal.store.db import write_transaction
from shoal.store.issues import NewIssue
from tests.support.browser_login import log_in, record_dialogs
from tests.support.server import RunningShoal, start_shoal

HOUR = 3600
HOSTILE_NAME = '<img src=x onerror=alert("name")> Shop'
HOSTILE_REASON = "<script>alert('reason')</script>"
A, F, R, C = Outcome.ACCEPTED, Outcome.FILTERED, Outcome.RATE_LIMITED, Outcome.CLIENT_DISCARD
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Seeded:
    server: RunningShoal
    shop: int
    budget: int  # a project whose month the advisor reads
    hostile: int
    now_hour: int
    reset_issue: int


def add(conn: Connection, hour: int, *rows: tuple[int, str, Outcome, str, int, int]) -> None:
    aggregates.add_outcomes(conn, hour, {OutcomeKey(p, c, o, r, k): n for p, c, o, r, k, n in rows})


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    server = start_shoal(tmp_path_factory.mktemp("stats-ui") / "data")
    now_hour = int(time.time() // HOUR)
    with write_transaction(server.engine) as conn:
        shop = projects.create_project(conn, 1, "Shop", "python", DEFAULT_CONFIG_ID).id
        key = projects.list_keys(conn, shop)[0].id
        add(
            conn,
            now_hour - 2,
            (shop, "error", A, "", key, 40),
            (shop, "error", F, "error-type", key, 41),
            (shop, "error", R, "key_quota", key, 12),
            (shop, "error", C, "queue_overflow", 0, 3),
            (shop, "transaction", F, "health-check", key, 9),
        )
        add(conn, now_hour - 5 * 24, (shop, "error", A, "", key, 100))
        add(conn, now_hour - 40 * 24, (shop, "error", A, "", key, 7))
        hostile = projects.create_project(conn, 1, HOSTILE_NAME, "python", DEFAULT_CONFIG_ID).id
        add(conn, now_hour - 1, (hostile, "error", C, HOSTILE_REASON, 0, 5))
        budget = projects.create_project(conn, 1, "Budget", "python", DEFAULT_CONFIG_ID).id
        budget_key = projects.list_keys(conn, budget)[0].id
        # This hour is in this month whenever the test runs: the advisor's month.
        add(conn, now_hour, (budget, "error", A, "", budget_key, 1_000))
        reset = _issue(conn, budget, "ConnectionResetError", now_hour, 410)
        _issue(conn, budget, "KeyError", now_hour, 150)
        _issue(conn, budget, "ValueError", now_hour, 60)
    try:
        yield Seeded(server, shop, budget, hostile, now_hour, reset)
    finally:
        server.stop()


def _issue(conn: Connection, project_id: int, kind: str, hour: int, events: int) -> int:
    new = NewIssue(
        project_id,
        "error",
        f"{kind}: boom",
        "shop.cart",
        "error",
        "python",
        {"type": kind},
        hour * HOUR,
        None,
    )
    issue_id = issues.create_issue(conn, new)
    aggregates.add_issue_counts(conn, {}, {(issue_id, hour, ""): events})
    return issue_id


def hour_words(hour: int) -> str:
    begin = datetime.fromtimestamp(hour * HOUR, UTC)
    end = datetime.fromtimestamp((hour + 1) * HOUR, UTC)
    return f"{begin:%H}:00–{end:%H}:00 UTC"


def day_words(hour: int) -> str:
    day = datetime.fromtimestamp(hour // 24 * 24 * HOUR, UTC)
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year} UTC"


def bucket_titles(page: Page) -> list[str]:
    return page.locator("svg.stats-chart g.bucket > title").all_text_contents()


def test_the_24_hour_chart_stacks_each_hour_by_outcome(seeded: Seeded, page: Page) -> None:
    log_in(page, seeded.server)
    page.goto(f"{seeded.server.url}/projects/{seeded.shop}/stats/")
    chart = page.locator("svg.stats-chart")
    expect(chart).to_have_attribute("data-period", "24h")
    assert page.locator("svg.stats-chart g.bucket").count() == 24
    expected = (
        f"{hour_words(seeded.now_hour - 2)}: 40 accepted, 41 filtered, 12 rate limited, 3 client discarded"
    )
    assert expected in bucket_titles(page)
    busy = page.locator("svg.stats-chart g.bucket", has=page.locator(f"title:text-is('{expected}')"))
    segments = busy.locator("rect.segment")
    assert [segments.nth(i).get_attribute("data-outcome") for i in range(4)] == [
        "accepted",
        "filtered",
        "rate_limited",
        "client_discard",
    ]
    assert segments.nth(1).locator("title").text_content() == (
        f"41 filtered, {hour_words(seeded.now_hour - 2)}"
    )
    expect(page.locator("#stats-total")).to_have_text("96 items in the last 24 hours")


def test_the_period_switch_reads_days(seeded: Seeded, page: Page) -> None:
    log_in(page, seeded.server)
    page.goto(f"{seeded.server.url}/projects/{seeded.shop}/stats/")
    page.get_by_role("navigation", name="Period").get_by_role("link", name="14 days").click()
    expect(page.locator("svg.stats-chart")).to_have_attribute("data-period", "14d")
    assert "period=14d" in page.url
    assert page.locator("svg.stats-chart g.bucket").count() == 14
    titles = bucket_titles(page)
    assert f"{day_words(seeded.now_hour - 5 * 24)}: 100 accepted" in titles
    assert not any(title.startswith(day_words(seeded.now_hour - 40 * 24)) for title in titles)
    page.get_by_role("navigation", name="Period").get_by_role("link", name="90 days").click()
    expect(page.locator("svg.stats-chart")).to_have_attribute("data-period", "90d")
    assert page.locator("svg.stats-chart g.bucket").count() == 90
    assert f"{day_words(seeded.now_hour - 40 * 24)}: 7 accepted" in bucket_titles(page)
    expect(page.locator("#stats-total")).to_have_text("203 items in the last 90 days")


def test_the_reason_and_key_tables(seeded: Seeded, page: Page) -> None:
    log_in(page, seeded.server)
    page.goto(f"{seeded.server.url}/projects/{seeded.shop}/stats/")
    rows = page.locator("table.stats-reasons tbody tr")
    assert [re.sub(r"\s+", " ", row).strip() for row in rows.all_inner_texts()] == [
        "accepted — 40",
        "filtered error-type 41",
        "rate limited key_quota 12",
        "client discarded queue_overflow 3",
    ]
    keys = page.locator("table.stats-keys tbody tr")
    assert [re.sub(r"\s+", " ", row).strip() for row in keys.all_inner_texts()] == [
        "Shop Default 40 41 12 0 0",
        "Shop no key known (client reports; older counters) 0 0 0 0 3",
    ]
    # Another category: the chooser keeps the period.
    page.get_by_role("navigation", name="Category").get_by_role("link", name="Transactions").click()
    assert "category=transaction" in page.url and "period=24h" in page.url
    assert [re.sub(r"\s+", " ", row).strip() for row in rows.all_inner_texts()] == ["filtered health-check 9"]


def test_the_advisor_says_where_the_month_goes_with_links(seeded: Seeded, page: Page) -> None:
    log_in(page, seeded.server)
    page.goto(f"{seeded.server.url}/projects/{seeded.budget}/stats/")
    advisor = page.locator("#advisor")
    # 410 + 150 + 60 of the month's 1,000 accepted errors.
    expect(advisor.locator(".advisor-top")).to_have_text("These 3 issues are 62 % of this month's errors.")
    expect(advisor.get_by_role("link", name=re.compile(r"^BUDGET-1$"))).to_have_attribute(
        "href", f"/issues/{seeded.reset_issue}/"
    )
    expect(advisor.locator(".advisor-projection")).to_contain_text("No error quota is set")
    suggestion = advisor.locator(".advisor-suggestions li").first
    expect(suggestion).to_contain_text("ignore `ConnectionResetError` (filter preview: −41 %)")
    suggestion.get_by_role("link", name="inbound filters").click()
    page.wait_for_url(f"**/projects/{seeded.budget}/settings/filters/")


def test_an_owner_stops_and_restarts_the_weekly_email(seeded: Seeded, page: Page) -> None:
    log_in(page, seeded.server)
    page.goto(f"{seeded.server.url}/projects/{seeded.budget}/stats/")
    section = page.locator("#advisor-email")
    section.get_by_role("button", name="Stop the weekly email").click()
    expect(page.get_by_role("status")).to_have_text(
        "You will not get this project's weekly quota advice by email any more."
    )
    with seeded.server.engine.connect() as conn:
        assert not advisor_emails.wants_email(conn, 1, seeded.budget)
    section.get_by_role("button", name="Email me weekly").click()
    expect(page.get_by_role("status")).to_contain_text("You will get this project's weekly quota advice")
    with seeded.server.engine.connect() as conn:
        assert advisor_emails.wants_email(conn, 1, seeded.budget)


def test_reasons_and_names_are_text_and_the_organization_page_chooses_projects(
    seeded: Seeded, page: Page
) -> None:
    dialogs = record_dialogs(page)
    log_in(page, seeded.server)
    page.goto(f"{seeded.server.url}/stats/")
    page.wait_for_url(re.compile(r"/organizations/1/stats/$"))
    expect(page.locator("table.stats-reasons")).to_contain_text(HOSTILE_REASON)
    expect(page.locator("table.stats-keys")).to_contain_text(HOSTILE_NAME)
    assert page.locator("img[src=x]").count() == 0
    page.get_by_label("Project").select_option(label=HOSTILE_NAME)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("h1")).to_contain_text(HOSTILE_NAME)
    expect(page.locator("table.stats-reasons tbody tr")).to_have_count(1)
    assert dialogs == []
