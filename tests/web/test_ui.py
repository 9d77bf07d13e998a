"""The web UI in headless Chromium: log in, see the issue list, read an issue, move between events,
and nothing an SDK sent can run as script."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.support.corpus import CorpusEnvelope, corpus_envelopes
from tests.support.http import auth_header, envelope_url, event_envelope, post
from tests.support.server import ADMIN_EMAIL, ADMIN_PASSWORD, RunningShoal, start_shoal

pytestmark = pytest.mark.browser

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("ui") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def declined_card(shoal: RunningShoal) -> list[CorpusEnvelope]:
    """The four corpus events of one group, sent through ingest."""
    envelopes = [e for e in corpus_envelopes() if e.group == "checkout_card_declined"]
    for envelope in envelopes:
        reply = post(
            envelope_url(shoal.url, shoal.project_id),
            envelope.gzipped,
            {**envelope.headers, **auth_header(shoal.public_key)},
        )
        assert reply.status == 200
    shoal.wait_for_events(len(envelopes))
    return envelopes


def log_in(page: Page, shoal: RunningShoal, password: str = ADMIN_PASSWORD) -> None:
    page.goto(f"{shoal.url}/")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_wrong_password_is_refused_with_a_message(page: Page, shoal: RunningShoal) -> None:
    log_in(page, shoal, password="wrong")
    expect(page.get_by_role("alert")).to_contain_text("do not match")


def test_pages_need_a_login(page: Page, shoal: RunningShoal) -> None:
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/issues/")
    expect(page).to_have_url(f"{shoal.url}/login?next=/projects/{shoal.project_id}/issues/")


def test_the_issue_list_shows_the_issue_with_its_counts(
    page: Page, shoal: RunningShoal, declined_card: list[CorpusEnvelope]
) -> None:
    log_in(page, shoal)
    expect(page).to_have_url(f"{shoal.url}/projects/{shoal.project_id}/issues/")
    row = page.locator("table.issues tbody tr").filter(has_text="PaymentDeclined")
    expect(row).to_have_count(1)
    expect(row.locator("td.num").first).to_have_text("4")


def test_the_issue_page_shows_the_chain_frames_source_vars_breadcrumbs_and_tags(
    page: Page, shoal: RunningShoal, declined_card: list[CorpusEnvelope]
) -> None:
    log_in(page, shoal)
    page.locator("a.issue-title").filter(has_text="PaymentDeclined").click()
    expect(page.locator("h1.issue-title")).to_contain_text("PaymentDeclined")
    expect(page.locator("#times-seen")).to_have_text("4")
    exceptions = page.locator("article.exception h2")
    expect(exceptions).to_have_count(2)
    expect(exceptions.first).to_contain_text("PaymentDeclined")
    expect(exceptions.nth(1)).to_contain_text("HTTPError")
    expect(page.locator("li.frame.in-app ol.source li.current").first).to_be_visible()
    expect(page.locator("li.frame.in-app table.vars").first).to_be_visible()
    expect(page.locator("table.breadcrumbs tbody tr").first).to_be_visible()
    expect(page.locator(".tag-breakdown h3").filter(has_text="release")).to_have_count(1)


def test_one_can_walk_from_the_latest_event_to_the_oldest_and_back(
    page: Page, shoal: RunningShoal, declined_card: list[CorpusEnvelope]
) -> None:
    log_in(page, shoal)
    page.locator("a.issue-title").filter(has_text="PaymentDeclined").click()
    latest = page.locator(".event-nav code").inner_text()
    page.get_by_role("link", name="Oldest").click()
    oldest = page.locator(".event-nav code").inner_text()
    assert oldest != latest
    expect(page.get_by_role("link", name="Oldest")).to_have_count(0)
    page.get_by_role("link", name="Latest").click()
    expect(page.locator(".event-nav code")).to_have_text(latest)
    page.get_by_role("link", name="All events").click()
    expect(page.locator("table.list tbody tr")).to_have_count(4)


def test_nothing_an_sdk_sent_runs_as_script(page: Page, shoal: RunningShoal) -> None:
    event_id = uuid.uuid4().hex
    hostile_event = {
        "platform": "python",
        "level": "error",
        "transaction": HOSTILE,
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": HOSTILE,
                    "stacktrace": {
                        "frames": [
                            {
                                "module": HOSTILE,
                                "function": HOSTILE,
                                "filename": "app.py",
                                "lineno": 3,
                                "in_app": True,
                                "context_line": HOSTILE,
                                "pre_context": [HOSTILE],
                                "post_context": [HOSTILE],
                                "vars": {HOSTILE: HOSTILE},
                            }
                        ]
                    },
                }
            ]
        },
        "breadcrumbs": {"values": [{"message": HOSTILE, "category": HOSTILE, "data": {HOSTILE: HOSTILE}}]},
        "request": {"url": f"https://shop.example/{HOSTILE}", "method": "GET", "headers": {HOSTILE: HOSTILE}},
        "user": {"email": HOSTILE, "id": HOSTILE},
        "tags": {"hostile": HOSTILE[:200]},
        "contexts": {HOSTILE: {"type": HOSTILE}},
    }
    assert (
        post(
            envelope_url(shoal.url, shoal.project_id),
            event_envelope(hostile_event, event_id),
            auth_header(shoal.public_key),
        ).status
        == 200
    )
    shoal.wait_for_event(event_id)
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    log_in(page, shoal)
    page.locator("a.issue-title").filter(has_text="ValueError").click()
    expect(page.locator("h1.issue-title")).to_contain_text("<script>window.__pwned = 1</script>")
    page.wait_for_load_state("load")
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert page.locator("main script").count() == 0
    assert page.locator("main img").count() == 0
