"""The quota pages (shoal/web/quota_pages.py): in Chromium, an owner sets a project's quotas with the
plan's preset and sees what ingest counted against them, then tunes spike protection and sees its
computed limit; with plain forms, bad values are re-shown with their message, a member who is not
an owner or admin reads but cannot change, organization quotas are set and removed, and what ingest
refused is listed by reason."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from shoal.ingest import limits
from shoal.store import projects, quotas
from shoal.store.db import write_transaction
from shoal.store.projects import RateLimit
from shoal.store.users import add_membership, create_user
from shoal.web import quota_pages
from shoal.web.auth import ADMINS_ONLY
from tests.support.browser_login import log_in, record_dialogs
from tests.support.events import python_error
from tests.support.form_client import FormClient
from tests.support.http import auth_header, envelope_url, event_envelope, post
from tests.support.server import RunningShoal, start_shoal, wait_until
from tests.support.web_client import WebClient


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("quotas-ui") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(shoal: RunningShoal) -> FormClient:
    return FormClient(shoal)


def new_project(shoal: RunningShoal) -> tuple[int, str]:
    """A project of organization 1 with its key: (project id, public key)."""
    with write_transaction(shoal.engine) as conn:
        project = projects.create_project(
            conn, 1, f"Shop {uuid.uuid4().hex[:6]}", "python", "newstyle:2023-01-11"
        )
        key = projects.list_keys(conn, project.id)[0]
    return project.id, key.public_key


def send_errors(shoal: RunningShoal, project_id: int, public_key: str, count: int) -> list[int]:
    statuses = []
    for _ in range(count):
        event = python_error("KeyError", "checkout", "<script>alert('quota')</script>")
        reply = post(
            envelope_url(shoal.url, project_id),
            event_envelope(event, event["event_id"]),
            auth_header(public_key),
        )
        statuses.append(reply.status)
    return statuses


def reload_until(page: Page, selector: str, text: str, timeout: float = 20.0) -> None:
    """Usage reaches the store with the web process's next flush (every 2 s): reload until shown."""
    deadline = time.monotonic() + timeout
    while True:
        if page.locator(selector).first.inner_text().strip() == text:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} never showed {text!r}")
        time.sleep(0.2)
        page.reload()


def test_the_pages_constants_agree_with_ingest() -> None:
    assert quota_pages.POLICY_SECONDS == limits.POLICY_SECONDS
    assert quota_pages.FLUSH_SECONDS == limits.FLUSH_SECONDS


def test_an_owner_sets_the_plan_preset_sees_usage_and_tunes_spike_protection(
    shoal: RunningShoal, page: Page
) -> None:
    project_id, public_key = new_project(shoal)
    dialogs = record_dialogs(page)
    log_in(page, shoal)
    page.goto(f"{shoal.url}/projects/{project_id}/settings/")
    page.get_by_role("link", name="Quotas and rate limits…").click()
    expect(page.locator("#project-no-quotas")).to_be_visible()

    page.get_by_role("button", name=re.compile("Use the plan")).click()

    expect(page.locator("#notice")).to_contain_text("5,000 errors and 10,000 transactions a month")
    rows = page.locator("#project-quotas tr.quota")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(".quota-limit")).to_have_text("5,000 errors a month")
    expect(rows.nth(1).locator(".quota-limit")).to_have_text("10,000 transactions a month")
    expect(rows.nth(0).locator(".quota-used")).to_have_text("0")

    assert send_errors(shoal, project_id, public_key, 3) == [200] * 3
    reload_until(page, "#project-quotas tr[data-category=error] .quota-used", "3")
    expect(page.locator("#spike-error .spike-used")).to_have_text("3")
    expect(page.locator("#spike-error .spike-limit")).to_have_text("1,000")  # no history: the floor

    page.get_by_label("Floor (items an hour)").fill("50")
    page.get_by_label("Multiplier").fill("4")
    page.get_by_role("button", name="Save spike protection").click()
    expect(page.locator("#notice")).to_contain_text("Spike protection was saved")
    expect(page.locator("#spike-error .spike-limit")).to_have_text("50")
    expect(page.get_by_label("Floor (items an hour)")).to_have_value("50")

    page.get_by_label("Protect this project from spikes").uncheck()
    page.get_by_role("button", name="Save spike protection").click()
    expect(page.locator("#spike-state")).to_have_text("off")
    expect(page.locator("#spike-error .spike-limit")).to_have_text("none (off)")
    with shoal.engine.connect() as conn:
        assert quotas.spike_protection(conn, project_id) == quotas.SpikeProtection(False, 50, 4)
    assert dialogs == []


def test_a_quota_outside_its_bounds_is_reshown_with_its_message(
    shoal: RunningShoal, client: FormClient
) -> None:
    project_id, _ = new_project(shoal)
    path = f"/projects/{project_id}/settings/quotas/"
    for typed in ("", "-1", "1.5", "²", "٣", "9" * 17):
        answer = client.post(path, {"action": "set", "category": "error", "window": "day", "limit": typed})
        assert answer.status == 400, typed
        assert "A whole number from 0 to" in answer.text()
    answer = client.post(path, {"action": "set", "category": "replay", "window": "week", "limit": "5"})
    assert answer.status == 400
    assert "Choose what the quota counts." in answer.text()
    assert "Choose a minute, an hour, a day or a month." in answer.text()
    spike = client.post(
        f"/projects/{project_id}/settings/spike-protection",
        {"enabled": "on", "floor": "0", "multiplier": "x"},
    )
    assert spike.status == 400
    assert "events an hour, from 1" in spike.text()
    with shoal.engine.connect() as conn:
        assert quotas.project_quotas(conn, project_id) == []


def test_saving_a_quota_twice_changes_it_and_remove_deletes_it(
    shoal: RunningShoal, client: FormClient
) -> None:
    project_id, _ = new_project(shoal)
    path = f"/projects/{project_id}/settings/quotas/"
    client.post(path, {"action": "set", "category": "attachment", "window": "day", "limit": "1000"})
    saved = client.post(path, {"action": "set", "category": "attachment", "window": "day", "limit": "2000"})
    assert "The quota was saved" in saved.text()
    with shoal.engine.connect() as conn:
        (found,) = quotas.project_quotas(conn, project_id)
    assert (found.category, found.window, found.limit) == ("attachment", "day", 2000)
    assert "2,000 attachment bytes a day" in saved.text()

    removed = client.post(path, {"action": "delete", "quota_id": str(found.id)})
    assert "The quota was removed" in removed.text()
    assert client.post(path, {"action": "delete", "quota_id": str(found.id)}).status == 404
    with shoal.engine.connect() as conn:
        assert quotas.project_quotas(conn, project_id) == []


def test_organization_quotas_are_set_with_the_preset_and_shown_on_each_project(
    shoal: RunningShoal, client: FormClient
) -> None:
    project_id, _ = new_project(shoal)
    answer = client.post("/organizations/1/quotas/", {"action": "preset"})
    assert "5,000 errors and 10,000 transactions a month" in answer.text()
    page = client.fetch(f"/projects/{project_id}/settings/quotas/")
    assert 'id="organization-quotas"' in page.body
    assert "10,000 transactions a month" in page.text()
    with write_transaction(shoal.engine) as conn:
        for found in quotas.organization_quotas(conn, 1):
            quotas.delete_quota(conn, found.id)
    assert client.fetch("/quotas/").url.endswith("/organizations/1/quotas/")


def test_what_ingest_refused_is_listed_by_reason_with_the_keys_usage(
    shoal: RunningShoal, client: FormClient
) -> None:
    project_id, public_key = new_project(shoal)
    with write_transaction(shoal.engine) as conn:
        key_id = projects.list_keys(conn, project_id)[0].id
        projects.set_key_rate_limit(conn, key_id, RateLimit(2, 3600))

    assert send_errors(shoal, project_id, public_key, 3) == [200, 200, 429]

    wait_until(
        lambda: "rate_limited:key_quota" in client.fetch(f"/projects/{project_id}/settings/quotas/").text(),
        20,
        "the refused event shown",
    )
    page = client.fetch(f"/projects/{project_id}/settings/quotas/")
    assert re.search(r'id="key-limit-\d+".*?class="key-used">2<', page.body, re.S)
    assert re.search(r"key rate limit rate_limited:key_quota error 1\b", page.text())
    assert "<script>alert" not in page.body


class MemberClient(FormClient):
    """A FormClient logged in as a plain member of organization 1."""

    def __init__(self, shoal: RunningShoal, email: str, password: str) -> None:
        WebClient.__init__(self, shoal)
        self.log_in(email, password)
        self._token = None


def test_a_member_reads_the_quotas_but_cannot_change_them(shoal: RunningShoal) -> None:
    project_id, _ = new_project(shoal)
    email, password = f"member-{uuid.uuid4().hex[:6]}@example.com", "a long enough password"
    with write_transaction(shoal.engine) as conn:
        add_membership(conn, 1, create_user(conn, email, password).id, "member")
    member = MemberClient(shoal, email, password)

    page = member.fetch(f"/projects/{project_id}/settings/quotas/")
    assert "only the organization's owners and admins can change them" in page.text()
    assert "Save spike protection" not in page.text()
    for path, fields in (
        (f"/projects/{project_id}/settings/quotas/", {"action": "preset"}),
        ("/organizations/1/quotas/", {"action": "preset"}),
        (f"/projects/{project_id}/settings/spike-protection", {"floor": "1", "multiplier": "1"}),
    ):
        answer = member.post(path, fields)
        assert answer.status == 403, path
        assert ADMINS_ONLY in answer.text()
    with shoal.engine.connect() as conn:
        assert quotas.project_quotas(conn, project_id) == []
        assert quotas.organization_quotas(conn, 1) == []
