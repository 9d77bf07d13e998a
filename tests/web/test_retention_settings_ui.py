"""A project's retention in its settings page: shown (30 days by default), changed by an owner with
the keyboard, a value outside 1–3,650 days re-shown with its message, and refused to a member
who is not an owner or admin."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from shoal.store import retention
from shoal.store.db import write_transaction
from shoal.store.users import add_membership, create_user
from shoal.web.auth import ADMINS_ONLY
from tests.support.browser_login import log_in
from tests.support.form_client import FormClient
from tests.support.server import RunningShoal, start_shoal
from tests.support.web_client import WebClient


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("retention-ui") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(shoal: RunningShoal) -> FormClient:
    return FormClient(shoal)


def new_project(client: FormClient) -> int:
    name = f"Kept {uuid.uuid4().hex[:6]}"
    answer = client.post(
        "/projects/new", {"name": name, "platform": "python", "team": "", "organization": "1"}
    )
    match = re.search(r"/projects/(\d+)/setup/$", answer.url)
    assert match, answer.url
    return int(match[1])


class MemberClient(FormClient):
    """A FormClient logged in as someone else than the admin."""

    def __init__(self, shoal: RunningShoal, email: str, password: str) -> None:
        WebClient.__init__(self, shoal)
        self.log_in(email, password)
        self._token = None


def days_of(shoal: RunningShoal, project_id: int) -> int:
    with shoal.engine.connect() as conn:
        return retention.retention_days(conn, project_id)


def test_a_new_project_keeps_30_days_and_an_owner_changes_it(shoal: RunningShoal, client: FormClient) -> None:
    project_id = new_project(client)
    page = client.fetch(f"/projects/{project_id}/settings/")
    assert re.search(r'name="retention_days"[^>]*value="30"', page.body)

    saved = client.post(f"/projects/{project_id}/settings/retention", {"retention_days": "7"})

    assert saved.status == 200
    assert "notice=retention-saved" in saved.url
    assert "The retention was saved" in saved.text()
    assert re.search(r'name="retention_days"[^>]*value="7"', saved.body)
    assert days_of(shoal, project_id) == 7


@pytest.mark.parametrize("typed", ["0", "3651", "two weeks", "", "-5", "1.5", "٣"])
def test_a_retention_outside_1_to_3650_whole_days_is_reshown_with_its_message(
    shoal: RunningShoal, client: FormClient, typed: str
) -> None:
    project_id = new_project(client)
    answer = client.post(f"/projects/{project_id}/settings/retention", {"retention_days": typed})
    assert answer.status == 400
    assert "Keep events a whole number of days, from 1 to 3,650." in answer.text()
    assert "Nothing was saved" in answer.text()
    assert re.search(
        rf'name="retention_days"[^>]*value="{re.escape(typed)}" aria-invalid="true"', answer.body
    )
    assert days_of(shoal, project_id) == 30


def test_a_member_who_is_not_an_owner_or_admin_cannot_change_the_retention(
    shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client)
    email, password = f"member-{uuid.uuid4().hex[:6]}@example.com", "a long member password"
    with write_transaction(shoal.engine) as conn:
        add_membership(conn, 1, create_user(conn, email, password).id, "member")
    member = MemberClient(shoal, email, password)

    answer = member.post(f"/projects/{project_id}/settings/retention", {"retention_days": "1"})

    assert answer.status == 403
    assert ADMINS_ONLY in answer.text()
    assert days_of(shoal, project_id) == 30


def test_the_retention_form_refuses_a_post_without_the_csrf_token(
    shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client)
    answer = client.post(
        f"/projects/{project_id}/settings/retention", {"retention_days": "1"}, with_token=False
    )
    assert answer.status == 400
    assert days_of(shoal, project_id) == 30


@pytest.mark.browser
def test_the_retention_is_changed_with_the_keyboard_in_a_browser(
    page: Page, shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client)
    log_in(page, shoal)
    page.goto(f"{shoal.url}/projects/{project_id}/settings/")
    page.get_by_role("link", name="Retention").click()
    field = page.get_by_label("Keep events for (days)")
    expect(field).to_have_value("30")
    field.fill("90")
    field.press("Enter")

    expect(page.locator("#notice")).to_contain_text("The retention was saved")
    expect(page.get_by_label("Keep events for (days)")).to_have_value("90")
    assert days_of(shoal, project_id) == 90
