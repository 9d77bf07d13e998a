"""Triage in the UI: resolve, ignore until more events (and the escalation that ends it), unresolve,
assign, comment, bulk actions from the issue list, the Alerts section of an issue, and every form
refusing a post without the session's CSRF token or with a value it cannot use."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from shoal.store.schema import activity, issue
from tests.support.browser_login import log_in, record_dialogs
from tests.support.form_client import FormClient, text_of
from tests.support.http import post
from tests.support.server import RunningShoal, start_shoal, wait_until
from tests.support.ui_issues import issue_state, new_issue

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    """One server for the module: every test makes issues with titles of its own."""
    server = start_shoal(tmp_path_factory.mktemp("triage-ui") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(shoal: RunningShoal) -> FormClient:
    return FormClient(shoal)


def activity_count(shoal: RunningShoal, issue_id: int) -> int:
    with shoal.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(activity.c.issue_id == issue_id)).scalar_one())


# ---------------------------------------------------------------------------------- the real SDK

SDK_SCRIPT = textwrap.dedent(
    """
    import sys
    import sentry_sdk

    sentry_sdk.init(dsn=sys.argv[1])
    tag, count = sys.argv[2], int(sys.argv[3])

    def take_stock(tag):
        raise LookupError(f"no stock for {tag}")

    for _ in range(count):
        try:
            take_stock(tag)
        except LookupError:
            sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=20)
    """
)


def sdk_errors(shoal: RunningShoal, tag: str, count: int) -> None:
    """`count` LookupErrors from the real sentry-sdk in a process of its own. The tag goes into the
    function's name too, so the SDK's stack (and so the issue) is this test's alone."""
    script = SDK_SCRIPT.replace("take_stock", f"take_stock_{tag}")
    result = subprocess.run(
        [sys.executable, "-c", script, shoal.dsn, tag, str(count)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def issue_titled(shoal: RunningShoal, title: str) -> int | None:
    with shoal.engine.connect() as conn:
        found = conn.execute(select(issue.c.id).where(issue.c.title == title)).scalar()
        return int(found) if found is not None else None


def times_seen(shoal: RunningShoal, issue_id: int) -> int:
    with shoal.engine.connect() as conn:
        return int(conn.execute(select(issue.c.times_seen).where(issue.c.id == issue_id)).scalar_one())


# ------------------------------------------------------------------------------------- browser


@pytest.mark.browser
def test_resolving_an_issue_shows_the_badge_and_the_activity(page: Page, shoal: RunningShoal) -> None:
    made = new_issue(shoal, "resolve me")
    log_in(page, shoal)
    page.goto(f"{shoal.url}/issues/{made.id}/")
    expect(page.locator("#status-badge")).to_have_text("Unresolved · new")

    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator("#status-badge")).to_have_text("Resolved")
    first = page.locator(".activity-log li").first
    expect(first).to_contain_text("admin@example.com")
    expect(first).to_contain_text("resolved the issue")
    assert issue_state(shoal, made.id) == ("resolved", "")

    page.get_by_role("button", name="Unresolve").click()
    expect(page.locator("#status-badge")).to_have_text("Unresolved · ongoing")
    expect(page.locator(".activity-log li").first).to_contain_text("unresolved the issue")


@pytest.mark.browser
def test_an_issue_ignored_until_10_more_events_says_so_and_escalates_after_them(
    page: Page, shoal: RunningShoal
) -> None:
    tag = uuid.uuid4().hex[:8]
    sdk_errors(shoal, tag, 1)
    wait_until(
        lambda: issue_titled(shoal, f"LookupError: no stock for {tag}") is not None, 60, "the SDK's issue"
    )
    issue_id = issue_titled(shoal, f"LookupError: no stock for {tag}")
    assert issue_id is not None

    log_in(page, shoal)
    page.goto(f"{shoal.url}/issues/{issue_id}/")
    page.locator("#ignore-menu > summary").click()
    page.get_by_label("Until it is seen this many more times").fill("10")
    page.get_by_role("button", name="Ignore until it is seen again").click()
    expect(page.locator("#status-badge")).to_have_text("Ignored")
    expect(page.locator("#status-detail")).to_have_text("until it is seen 10 more times")
    expect(page.locator(".activity-log li").first).to_contain_text(
        "ignored the issue until it is seen 10 more times"
    )
    assert issue_state(shoal, issue_id) == ("ignored", "archived_until_condition_met")

    # More than ten further events end the ignore, however the boundary is counted.
    sdk_errors(shoal, tag, 11)
    wait_until(lambda: times_seen(shoal, issue_id) >= 12, 60, "the 11 further events")
    wait_until(lambda: issue_state(shoal, issue_id)[0] == "unresolved", 30, "the issue to escalate")
    page.reload()
    expect(page.locator("#status-badge")).to_have_text("Unresolved · escalating")
    expect(page.locator(".activity-log")).to_contain_text("marked the issue escalating")


@pytest.mark.browser
def test_two_issues_are_resolved_at_once_from_the_list(page: Page, shoal: RunningShoal) -> None:
    chosen = [new_issue(shoal, "bulk one"), new_issue(shoal, "bulk two")]
    left_alone = new_issue(shoal, "bulk untouched")
    log_in(page, shoal)
    # Every status: the default search (is:unresolved) would hide the issues once resolved.
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/issues/?query=")
    for made in chosen:
        page.locator("table.issues tbody tr").filter(has_text=made.title).get_by_role("checkbox").check()
    page.locator(".bulk-actions").get_by_role("button", name="Resolve", exact=True).click()

    expect(page.locator("p.notice")).to_have_text("Resolved 2 issues.")
    for made in chosen:
        row = page.locator("table.issues tbody tr").filter(has_text=made.title)
        expect(row.locator(".status")).to_have_text("Resolved")
        assert issue_state(shoal, made.id)[0] == "resolved"
    row = page.locator("table.issues tbody tr").filter(has_text=left_alone.title)
    expect(row.locator(".status")).to_have_text("Unresolved · new")


@pytest.mark.browser
def test_a_hostile_comment_renders_as_text_and_runs_nothing(page: Page, shoal: RunningShoal) -> None:
    made = new_issue(shoal, "comment on me")
    dialogs = record_dialogs(page)
    log_in(page, shoal)
    page.goto(f"{shoal.url}/issues/{made.id}/")
    page.get_by_label("Comment").fill(HOSTILE)
    page.get_by_role("button", name="Comment").click()

    note = page.locator(".activity-log .note").first
    expect(note).to_have_text(HOSTILE)
    expect(page.locator(".activity-log li").first).to_contain_text("commented")
    page.wait_for_load_state("load")
    assert dialogs == []
    assert page.locator("main script").count() == 0


@pytest.mark.browser
def test_assigning_an_issue_shows_who_on_the_page_and_in_the_list(page: Page, shoal: RunningShoal) -> None:
    made = new_issue(shoal, "assign me")
    log_in(page, shoal)
    page.goto(f"{shoal.url}/issues/{made.id}/")
    page.get_by_label("Assignee", exact=True).select_option(label="admin@example.com")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("#assignee-name")).to_have_text("admin@example.com")
    expect(page.locator(".activity-log li").first).to_contain_text("assigned the issue to admin@example.com")

    page.goto(f"{shoal.url}/projects/{shoal.project_id}/issues/")
    expect(page.locator("table.issues tbody tr").filter(has_text=made.title)).to_contain_text(
        "admin@example.com"
    )


# ---------------------------------------------------------------------------------- plain HTTP

TRIAGE_FORMS = [
    ("resolve", {"kind": "now"}),
    ("ignore", {"mode": "forever"}),
    ("unresolve", {}),
    ("assign", {"assignee": ""}),
    ("comment", {"text": "hello"}),
]


@pytest.mark.parametrize(("form", "fields"), TRIAGE_FORMS, ids=[form for form, _ in TRIAGE_FORMS])
def test_a_triage_post_without_the_csrf_token_changes_nothing(
    shoal: RunningShoal, client: FormClient, form: str, fields: dict[str, str]
) -> None:
    made = new_issue(shoal, f"csrf {form}")
    before = (issue_state(shoal, made.id), activity_count(shoal, made.id))
    missing = client.post(f"/issues/{made.id}/{form}", fields, with_token=False)
    forged = client.post(f"/issues/{made.id}/{form}", {**fields, "csrf_token": "forged"}, with_token=False)
    assert missing.status in (400, 403)
    assert forged.status in (400, 403)
    assert "expired or did not come from Shoal" in missing.body
    assert (issue_state(shoal, made.id), activity_count(shoal, made.id)) == before


def test_a_bulk_post_without_the_csrf_token_changes_nothing(shoal: RunningShoal, client: FormClient) -> None:
    made = new_issue(shoal, "csrf bulk")
    answer = client.post(
        f"/projects/{shoal.project_id}/issues/bulk",
        [("op", "resolve"), ("issue", str(made.id))],
        with_token=False,
    )
    assert answer.status in (400, 403)
    assert issue_state(shoal, made.id)[0] == "unresolved"


def test_an_event_count_that_is_not_a_number_is_shown_next_to_its_field(
    shoal: RunningShoal, client: FormClient
) -> None:
    made = new_issue(shoal, "bad count")
    answer = client.post(f"/issues/{made.id}/ignore", {"mode": "count", "count": "ten"})
    assert answer.status == 400
    assert re.search(r'id="count-error"[^>]*>Enter a number of events from 1 to', answer.body)
    assert 'name="count" value="ten"' in answer.body  # what was typed stays in the field
    assert 'aria-describedby="count-error"' in answer.body
    assert issue_state(shoal, made.id)[0] == "unresolved"


@dataclass(frozen=True)
class BadValue:
    form: str
    fields: dict[str, str]
    field: str  # where the message must appear
    message: str


BAD_VALUES = {
    "release": BadValue(
        "resolve", {"kind": "in_release", "release": ""}, "release", "Enter the release the fix"
    ),
    "past-time": BadValue(
        "ignore",
        {"mode": "for", "duration": "custom", "until": "2001-01-01T00:00"},
        "until",
        "That time has passed",
    ),
    "bad-time": BadValue(
        "ignore", {"mode": "for", "duration": "custom", "until": "soon"}, "until", "Enter a date"
    ),
    "users": BadValue(
        "ignore", {"mode": "users", "user_count": "0"}, "user_count", "Enter a number of users from 1"
    ),
    "window": BadValue(
        "ignore", {"mode": "count", "count": "5", "window": "-3"}, "window", "Enter the window in"
    ),
    "empty-comment": BadValue("comment", {"text": "   "}, "text", "Write a comment first."),
    "stranger": BadValue("assign", {"assignee": "999999"}, "assignee", "Choose a member of this project"),
}


@pytest.mark.parametrize("case", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_a_triage_form_with_a_bad_value_is_shown_again_with_the_reason(
    shoal: RunningShoal, client: FormClient, case: BadValue
) -> None:
    made = new_issue(shoal, f"bad {case.field}")
    answer = client.post(f"/issues/{made.id}/{case.form}", case.fields)
    assert answer.status == 400
    assert re.search(rf'id="{case.field}-error"[^>]*>{re.escape(case.message)}', answer.body), answer.text()[
        :3000
    ]
    assert issue_state(shoal, made.id) == ("unresolved", "new")


def test_a_bulk_action_with_nothing_selected_says_what_to_do(shoal: RunningShoal, client: FormClient) -> None:
    answer = client.post(f"/projects/{shoal.project_id}/issues/bulk", {"op": "ignore"})
    assert answer.status == 400
    assert "Select at least one issue first" in answer.text()


def test_ignoring_for_a_preset_time_shows_until_when(shoal: RunningShoal, client: FormClient) -> None:
    made = new_issue(shoal, "ignore a while")
    answer = client.post(f"/issues/{made.id}/ignore", {"mode": "for", "duration": "2h"})
    assert answer.status == 200
    assert re.search(r'id="status-detail">until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<', answer.body)
    assert issue_state(shoal, made.id) == ("ignored", "archived_until_condition_met")


def test_resolving_in_a_release_names_the_release(shoal: RunningShoal, client: FormClient) -> None:
    made = new_issue(shoal, "resolve in release")
    answer = client.post(f"/issues/{made.id}/resolve", {"kind": "in_release", "release": "shop@2.0.0"})
    assert answer.status == 200
    assert 'id="status-detail">in release shop@2.0.0<' in answer.body
    assert "resolved the issue in release shop@2.0.0" in answer.text()


def test_the_alerts_section_shows_the_rule_that_fired_and_the_failed_email(
    shoal: RunningShoal, client: FormClient
) -> None:
    """Every project starts with "new issue → email the members"; without SHOAL_SMTP_HOST the email
    fails, and the issue page says so, with the attempt and its error."""
    made = new_issue(shoal, "alerted")

    def alerts_text() -> str:
        body = client.fetch(f"/issues/{made.id}/").body
        return text_of(body.split('id="alerts"', 1)[1])

    wait_until(lambda: "email is not configured" in alerts_text(), 60, "the notification's first attempt")
    text = alerts_text()
    assert "New issue fired a new issue was created" in text
    assert "email to admin@example.com failed" in text


def test_a_form_posted_after_the_session_ended_leads_back_to_its_page_after_login(
    shoal: RunningShoal,
) -> None:
    made = new_issue(shoal, "session ended")
    reply = post(
        f"{shoal.url}/issues/{made.id}/resolve",
        b"kind=now&csrf_token=whatever",
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"{shoal.url}/issues/{made.id}/"},
    )
    assert reply.status == 303
    assert reply.headers["location"] == f"/login?next=/issues/{made.id}/"
    assert issue_state(shoal, made.id)[0] == "unresolved"
