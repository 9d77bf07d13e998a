"""User feedback and attachments in the UI, in Chromium against a real `shoal run`: an exception
from the real sentry-sdk with a user report about it and an attachment. The issue page shows the
report in its User feedback section, the event lists the attachment and the link downloads it;
the project's Feedback page (reached from the main navigation) lists the report and leads back to
its issue. A name that is markup stays text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Table, func, select

from shoal.store.schema import event, event_attachment, user_feedback
from tests.support.browser_login import log_in, record_dialogs
from tests.support.feedback_sdk import run_feedback_script
from tests.support.http import auth_header, envelope_url, post
from tests.support.server import RunningShoal, start_shoal, wait_until

HOSTILE_NAME = '<img src=x onerror="alert(1)">'
LOG = b"2026-12-01 10:00:00 checkout failed: discount missing\n"


@dataclass(frozen=True)
class Reported:
    shoal: RunningShoal
    issue_id: int
    event_id: str


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reported]:
    shoal = start_shoal(tmp_path_factory.mktemp("feedback-ui") / "data")
    try:
        error = run_feedback_script(
            shoal,
            [
                {"do": "exception"},
                {
                    "do": "user_report",
                    "name": HOSTILE_NAME,
                    "email": "jane@example.com",
                    "comments": "Total is wrong",
                },
            ],
        )
        assert error is not None
        shoal.wait_for_event(error)
        attachment = attachment_envelope(error, "checkout.log", LOG)
        assert (
            post(envelope_url(shoal.url, shoal.project_id), attachment, auth_header(shoal.public_key)).status
            == 200
        )
        wait_until(
            lambda: _count(shoal, event_attachment) == 1 and _count(shoal, user_feedback) == 1, 30, "stored"
        )
        with shoal.engine.connect() as conn:
            issue_id = int(
                conn.execute(select(event.c.issue_id).where(event.c.event_id == error)).scalar_one()
            )
        yield Reported(shoal, issue_id, error)
    finally:
        shoal.stop()


def attachment_envelope(event_id: str, filename: str, data: bytes) -> bytes:
    header = json.dumps({"event_id": event_id}).encode()
    item = json.dumps(
        {"type": "attachment", "filename": filename, "content_type": "text/plain", "length": len(data)}
    ).encode()
    return header + b"\n" + item + b"\n" + data + b"\n"


def _count(shoal: RunningShoal, table: Table) -> int:
    with shoal.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_the_issue_page_shows_the_users_feedback(page: Page, reported: Reported) -> None:
    dialogs = record_dialogs(page)
    log_in(page, reported.shoal)
    page.goto(f"{reported.shoal.url}/issues/{reported.issue_id}/")
    page.get_by_role("link", name="User feedback 1").click()
    section = page.locator("#feedback")
    expect(section.get_by_role("heading", name="User feedback")).to_be_visible()
    expect(section.locator(".feedback-name")).to_have_text(HOSTILE_NAME)
    expect(section.locator(".feedback-email")).to_have_text("<jane@example.com>")
    expect(section.locator(".feedback-message")).to_have_text("Total is wrong")
    assert dialogs == []


def test_the_event_lists_its_attachment_and_the_link_downloads_it(
    page: Page, reported: Reported, tmp_path: Path
) -> None:
    log_in(page, reported.shoal)
    page.goto(f"{reported.shoal.url}/issues/{reported.issue_id}/")
    row = page.locator(".attachment-list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("text/plain")
    expect(row).to_contain_text(f"{len(LOG)} Bytes")
    with page.expect_download() as download_info:
        row.get_by_role("link", name="checkout.log").click()
    download = download_info.value
    assert download.suggested_filename == "checkout.log"
    saved = tmp_path / "saved.log"
    download.save_as(saved)
    assert saved.read_bytes() == LOG


def test_the_feedback_page_lists_the_report_and_leads_to_its_issue(page: Page, reported: Reported) -> None:
    dialogs = record_dialogs(page)
    log_in(page, reported.shoal)
    page.goto(f"{reported.shoal.url}/projects/{reported.shoal.project_id}/issues/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Feedback").click()
    expect(page.locator("h1")).to_have_text("User feedback")
    report = page.locator(".feedback-item")
    expect(report).to_have_count(1)
    expect(report.locator(".feedback-message")).to_have_text("Total is wrong")
    expect(report.locator(".feedback-name")).to_have_text(HOSTILE_NAME)
    report.locator(".feedback-issue a").click()
    page.wait_for_url(f"**/issues/{reported.issue_id}/events/{reported.event_id}/")
    expect(page.locator("h1.issue-title")).to_have_text("KeyError: 'discount'")
    assert dialogs == []
