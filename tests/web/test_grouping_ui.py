"""Grouping in the browser: a fingerprint rule entered in the UI is validated, its dry run shows
which stored issues would merge, saving it regroups new events, regrouping moves stored ones, the
issue page explains why an event is in its issue, and issues can be merged and unmerged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.events import python_error, send_and_wait
from tests.support.server import ADMIN_EMAIL, ADMIN_PASSWORD, RunningShoal, start_shoal

pytestmark = pytest.mark.browser

RESET_RULE = "type:ConnectionResetError -> network-reset"


@pytest.fixture
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("grouping-ui") / "data")
    yield server
    server.stop()


def send(shoal: RunningShoal, type_: str, function: str) -> None:
    send_and_wait(shoal, python_error(type_, function))


def log_in(page: Page, shoal: RunningShoal) -> None:
    page.goto(f"{shoal.url}/login")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def open_grouping_settings(page: Page, shoal: RunningShoal) -> None:
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/issues/")
    page.get_by_role("link", name="Grouping settings").click()


def test_a_rule_with_a_syntax_error_is_refused_with_its_position(page: Page, shoal: RunningShoal) -> None:
    log_in(page, shoal)
    open_grouping_settings(page, shoal)
    page.get_by_label("Fingerprint rules").fill("type:ConnectionResetError network-reset")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#fingerprint-rules-error")).to_contain_text("line 1")
    expect(page.get_by_label("Fingerprint rules")).to_have_value("type:ConnectionResetError network-reset")


def test_a_fingerprint_rule_dry_run_save_and_regroup(page: Page, shoal: RunningShoal) -> None:
    send(shoal, "ConnectionResetError", "read")
    send(shoal, "ConnectionResetError", "write")
    send(shoal, "KeyError", "lookup")
    assert shoal.issue_count() == 3
    log_in(page, shoal)
    open_grouping_settings(page, shoal)
    page.get_by_label("Fingerprint rules").fill(RESET_RULE)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#dry-run")).to_contain_text("1 would change issue")
    expect(page.locator("#issues-after")).to_have_text("2")
    expect(page.locator("table.moves")).to_contain_text("merged")
    assert shoal.issue_count() == 3  # a dry run changes nothing

    page.get_by_role("button", name="Save").click()
    expect(page.locator("p.notice")).to_contain_text("Saved")
    # New events follow the rule at once: two from functions no stored issue has, which would be
    # two new issues without it, start one issue, the rule's; regrouping then fills it with the
    # stored events the rule covers.
    send(shoal, "ConnectionResetError", "close")
    send(shoal, "ConnectionResetError", "flush")
    assert shoal.issue_count() == 4

    page.get_by_role("button", name="Regroup now").click()
    # The oldest event's issue keeps the rule's hash: the other stored one and the two new ones move.
    expect(page.locator("p.notice")).to_contain_text("Regrouped: 3 events changed issue")
    assert shoal.issue_count() == 2


def test_the_issue_page_explains_the_grouping_and_issues_merge_and_unmerge(
    page: Page, shoal: RunningShoal
) -> None:
    send(shoal, "KeyError", "lookup")
    send(shoal, "ValueError", "parse")
    log_in(page, shoal)
    page.locator("a.issue-title").filter(has_text="KeyError").click()
    why = page.locator("#grouping-info")
    expect(why).to_contain_text("Why is this event in this issue")
    expect(why.locator("details.variant.contributes summary").first).to_contain_text("app")
    expect(why).to_contain_text("lookup")

    page.goto(f"{shoal.url}/projects/{shoal.project_id}/issues/")
    for checkbox in page.locator("table.issues input[type=checkbox]").all():
        checkbox.check()
    page.get_by_role("button", name="Merge selected issues").click()
    expect(page.locator("#times-seen")).to_have_text("2")
    assert shoal.issue_count() == 1

    hashes = page.locator(".issue-hashes input[type=checkbox]")
    assert hashes.count() >= 2
    page.locator(".issue-hashes li").filter(has=page.locator("input")).first.locator("input").check()
    page.get_by_role("button", name="Unmerge selected").click()
    expect(page.locator("#times-seen")).to_have_text("1")
    assert shoal.issue_count() == 2
