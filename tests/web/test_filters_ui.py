"""The inbound filters page and delete-and-discard in Chromium: a filter ticked and previewed shows
how many stored events it would have dropped before anything is saved, then saved; an invalid
CIDR is a form error; an issue deleted and discarded from its page is listed under Discarded
issues, its next event dropped, and the undo stores the error again as a new issue. SDK strings
stay text: a hostile issue title in the lists runs nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from shoal import outcomes
from shoal.store.schema import outcome_counter
from tests.support.browser_login import log_in, record_dialogs
from tests.support.events import python_error, send_and_wait
from tests.support.http import auth_header, envelope_url, event_envelope, post
from tests.support.server import RunningShoal, start_shoal, wait_until

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("filters-ui") / "data")
    yield server
    server.stop()


def filtered(shoal: RunningShoal, reason: str) -> int:
    with shoal.engine.connect() as conn:
        total = conn.execute(
            select(func.sum(outcome_counter.c.quantity)).where(
                outcome_counter.c.outcome == "filtered", outcome_counter.c.reason == reason
            )
        ).scalar_one()
    return int(total or 0)


def send_only(shoal: RunningShoal, event: dict[str, object]) -> None:
    reply = post(
        envelope_url(shoal.url, shoal.project_id),
        event_envelope(event, str(event["event_id"])),
        auth_header(shoal.public_key),
    )
    assert reply.status == 200


def test_a_filter_is_previewed_then_saved_and_a_bad_address_is_a_form_error(
    page: Page, shoal: RunningShoal
) -> None:
    send_and_wait(shoal, python_error("ConnectionResetError", "read"))
    send_and_wait(shoal, python_error("BrokenPipeError", "write"))
    send_and_wait(shoal, python_error("KeyError", "checkout"))
    dialogs = record_dialogs(page)
    log_in(page, shoal)
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/settings/")
    page.get_by_role("link", name="Inbound filters…").click()
    expect(page.get_by_role("heading", name="Inbound filters")).to_be_visible()

    row = page.locator("#filter-error-type")
    expect(page.get_by_label("Error types: one pattern per line")).to_have_value(
        "ConnectionResetError\nBrokenPipeError"
    )
    page.get_by_label("Error types", exact=True).check()
    page.get_by_role("button", name="Preview").click()
    expect(row.locator(".would-drop-count")).to_have_text("2")
    expect(row.locator(".unsaved")).to_have_text("on, not saved")
    expect(page.locator("#preview-together")).to_have_text("2")

    page.get_by_role("button", name="Save filters").click()
    expect(page.locator("#notice")).to_contain_text("Inbound filters saved")
    expect(page.get_by_label("Error types", exact=True)).to_be_checked()
    send_only(shoal, python_error("ConnectionResetError", "read"))
    wait_until(lambda: filtered(shoal, outcomes.FILTER_ERROR_TYPE) == 1, 30, "the reset dropped")
    page.reload()
    expect(row.locator(".dropped-count")).to_have_text("1")

    page.get_by_label("IP addresses: one pattern per line").fill("10.0.0.0/8\n10.0.0.0/33")
    page.get_by_role("button", name="Save filters").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#filter-ip-address")).to_contain_text("is not an IP address or a CIDR range")
    expect(page.get_by_label("IP addresses: one pattern per line")).to_have_value("10.0.0.0/8\n10.0.0.0/33")
    assert dialogs == []


def test_an_issue_is_deleted_and_discarded_from_its_page_and_undiscarded(
    page: Page, shoal: RunningShoal
) -> None:
    dialogs = record_dialogs(page)
    send_and_wait(shoal, python_error("LookupError", "noisy", value=HOSTILE))
    log_in(page, shoal)
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/issues/")
    page.get_by_role("link", name=f"LookupError: {HOSTILE}").first.click()
    page.get_by_role("link", name="Delete and discard…").click()
    expect(page.get_by_role("heading", name="Delete and discard 1 issue?")).to_be_visible()
    page.get_by_role("button", name="Delete and discard 1 issue").click()

    expect(page.locator("#notice")).to_contain_text("Deleted and discarded 1 issue")
    listed = page.locator("table.discarded tbody tr")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(f"LookupError: {HOSTILE}")
    issue_path = f"/projects/{shoal.project_id}/issues/"
    page.goto(shoal.url + issue_path)
    expect(page.get_by_role("link", name=f"LookupError: {HOSTILE}")).to_have_count(0)

    send_only(shoal, python_error("LookupError", "noisy", value=HOSTILE))
    wait_until(lambda: filtered(shoal, outcomes.DISCARDED_HASH) == 1, 30, "the discarded event dropped")

    page.goto(f"{shoal.url}/projects/{shoal.project_id}/settings/filters/#discarded")
    expect(page.locator("#discarded-dropped")).to_have_text("1")
    page.locator("table.discarded").get_by_role("button", name="Undiscard").click()
    expect(page.locator("#notice")).to_contain_text("Undiscarded")
    expect(page.locator("table.discarded")).to_have_count(0)

    send_and_wait(shoal, python_error("LookupError", "noisy", value=HOSTILE))
    page.goto(shoal.url + issue_path)
    expect(page.get_by_role("link", name=f"LookupError: {HOSTILE}")).to_have_count(1)
    assert dialogs == []
