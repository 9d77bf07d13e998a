"""Projects in the UI: creating one leads to a setup page whose DSN a real sentry-sdk sends with;
renaming; client keys disabled (and then refused by ingest), rotated and given a rate limit;
environments seen; deleting after typing the slug, with the project's queued events buried. Every
form refuses a post without the session's CSRF token, a bad value is re-shown with its message,
and a member who is not an owner or admin cannot change anything."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, insert, select

from shoal.ingest.keys import POSITIVE_TTL
from shoal.store import projects, teams
from shoal.store.db import write_transaction
from shoal.store.projects import ProjectKey, RateLimit
from shoal.store.schema import event, issue, team, team_member
from shoal.store.users import add_membership, create_user
from shoal.web.auth import ADMINS_ONLY
from shoal.web.form_posts import STALE_FORM
from shoal.web.project_settings_pages import KEY_CACHE_SECONDS
from tests.support.browser_login import log_in, record_dialogs
from tests.support.form_client import FormClient
from tests.support.http import Reply, auth_header, envelope_url, event_envelope, post
from tests.support.server import RunningShoal, start_shoal, wait_until
from tests.support.web_client import WebClient

DSN_PATTERN = re.compile(r"^http://[0-9a-f]{32}@127\.0\.0\.1:\d+/(\d+)$")


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    """One server for the module: every test makes projects of its own."""
    server = start_shoal(tmp_path_factory.mktemp("projects-ui") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(shoal: RunningShoal) -> FormClient:
    return FormClient(shoal)


def unique(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:6]}"


def new_project(client: FormClient, name: str, platform: str = "python") -> int:
    """A project made through the form; its id, from the setup page the form leads to."""
    answer = client.post(
        "/projects/new", {"name": name, "platform": platform, "team": "", "organization": "1"}
    )
    assert answer.status == 200, answer.text()
    match = re.search(r"/projects/(\d+)/setup/$", answer.url)
    assert match, answer.url
    return int(match[1])


def keys_of(shoal: RunningShoal, project_id: int) -> list[ProjectKey]:
    with shoal.engine.connect() as conn:
        return projects.list_keys(conn, project_id)


def project_of(shoal: RunningShoal, project_id: int) -> projects.ProjectInfo | None:
    with shoal.engine.connect() as conn:
        return projects.get_project(conn, project_id)


def error_event(type_: str, environment: str | None = None) -> dict[str, Any]:
    frame = {"module": "shop.app", "function": type_.lower(), "context_line": "boom()", "in_app": True}
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "platform": "python",
        **({"environment": environment} if environment else {}),
        "exception": {"values": [{"type": type_, "value": "boom", "stacktrace": {"frames": [frame]}}]},
    }


def send(shoal: RunningShoal, project_id: int, public_key: str, payload: dict[str, Any]) -> Reply:
    return post(
        envelope_url(shoal.url, project_id),
        event_envelope(payload, payload["event_id"]),
        auth_header(public_key),
    )


def send_and_wait(shoal: RunningShoal, project_id: int, public_key: str, payload: dict[str, Any]) -> None:
    reply = send(shoal, project_id, public_key, payload)
    assert reply.status == 200, reply.body
    shoal.wait_for_event(payload["event_id"])


def project_count(shoal: RunningShoal) -> int:
    with shoal.engine.connect() as conn:
        return len(projects.list_projects(conn))


def issue_count(shoal: RunningShoal, project_id: int) -> int:
    with shoal.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(issue.c.project_id == project_id)).scalar_one())


def open_settings(page: Page, shoal: RunningShoal, project_id: int) -> None:
    page.goto(f"{shoal.url}/projects/{project_id}/settings/")


def key_item(page: Page, key: ProjectKey) -> Any:
    return page.locator(f"#key-{key.id}")


# ------------------------------------------------------------------------------------ the real SDK

SDK_SCRIPT = textwrap.dedent(
    """
    import sys
    import sentry_sdk

    sentry_sdk.init(dsn=sys.argv[1], release="checkout@1.0.0", environment="production")

    def apply_voucher_{tag}(code):
        return {{"SUMMER": 10}}[code]

    try:
        apply_voucher_{tag}("WINTER")
    except KeyError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=20)
    """
)


def run_sdk(dsn: str, tag: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT.format(tag=tag), dsn],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Unexpected status code" not in result.stderr, result.stderr


# ------------------------------------------------------------------------------------------ browser


@pytest.mark.browser
def test_a_new_python_project_shows_its_dsn_and_a_real_sdk_exception_becomes_its_issue(
    page: Page, shoal: RunningShoal
) -> None:
    dialogs = record_dialogs(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=shoal.url)
    log_in(page, shoal)
    page.goto(f"{shoal.url}/projects/")
    page.get_by_role("link", name="New project").click()
    name = unique("Checkout")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Python").check()
    page.get_by_role("button", name="Create project").click()

    expect(page).to_have_url(re.compile(r"/projects/\d+/setup/$"))
    dsn = page.locator("#dsn").inner_text()
    match = DSN_PATTERN.match(dsn)
    assert match, dsn
    project_id = int(match[1])
    assert keys_of(shoal, project_id)[0].public_key in dsn
    steps = page.locator("#setup-steps")
    expect(steps).to_contain_text("pip install sentry-sdk")
    expect(steps).to_contain_text(f'sentry_sdk.init(\n    dsn="{dsn}",')
    expect(steps).to_contain_text('environment="production"')

    copy = page.get_by_role("button", name="Copy the DSN")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == dsn

    tag = uuid.uuid4().hex[:8]
    run_sdk(dsn, tag)
    wait_until(lambda: issue_count(shoal, project_id) == 1, 30, "the SDK's issue")
    page.get_by_role("link", name="open the issue stream").click()
    expect(page.locator("main")).to_contain_text("KeyError")
    expect(page.locator("main")).to_contain_text(f"apply_voucher_{tag}")
    assert dialogs == []


@pytest.mark.browser
def test_the_setup_page_shows_node_and_browser_snippets(
    page: Page, shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client, unique("Storefront"), platform="javascript")
    log_in(page, shoal)
    page.goto(f"{shoal.url}/projects/{project_id}/setup/")
    dsn = page.locator("#dsn").inner_text()
    steps = page.locator("#setup-steps")
    expect(steps).to_contain_text("npm install @sentry/browser")
    expect(steps).to_contain_text('import * as Sentry from "@sentry/browser";')
    expect(steps).to_contain_text("browser.sentry-cdn.com")
    expect(steps).to_contain_text(f'dsn: "{dsn}"')
    page.get_by_role("link", name="Node.js").click()
    expect(steps).to_contain_text("npm install @sentry/node")
    expect(steps).to_contain_text('const Sentry = require("@sentry/node");')
    expect(steps).to_contain_text(f'dsn: "{dsn}"')


@pytest.mark.browser
def test_renaming_a_project_changes_its_name_and_slug_but_not_its_dsn(
    page: Page, shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client, unique("Old name"))
    key_before = keys_of(shoal, project_id)[0].public_key
    log_in(page, shoal)
    open_settings(page, shoal, project_id)
    new_name = unique("Billing")
    new_slug = new_name.lower().replace(" ", "-")
    page.get_by_label("Name", exact=True).fill(new_name)
    page.get_by_label("Slug").fill(new_slug)
    page.get_by_label("Platform").select_option("node")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator("#notice")).to_contain_text("Saved")
    expect(page.locator("h1")).to_contain_text(new_name)
    renamed = project_of(shoal, project_id)
    assert renamed is not None
    assert (renamed.name, renamed.slug, renamed.platform) == (new_name, new_slug, "node")
    assert keys_of(shoal, project_id)[0].public_key == key_before
    expect(page.locator(f"#dsn-{keys_of(shoal, project_id)[0].id}")).to_contain_text("@127.0.0.1")


@pytest.mark.browser
def test_a_disabled_key_is_refused_by_ingest_with_403(
    page: Page, shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client, unique("Keys"))
    log_in(page, shoal)
    open_settings(page, shoal, project_id)
    page.get_by_label("New key's name").fill("never used")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#notice")).to_contain_text("A new key was created")
    fresh = keys_of(shoal, project_id)[1]
    assert (fresh.label, fresh.enabled) == ("never used", True)
    item = key_item(page, fresh)
    expect(item).to_have_class(re.compile(r"\bnew\b"))

    item.get_by_role("button", name="Disable never used").click()
    expect(page.locator("#notice")).to_contain_text(f"within {KEY_CACHE_SECONDS} seconds")
    expect(key_item(page, fresh).locator(".status-disabled")).to_have_text("disabled")
    assert keys_of(shoal, project_id)[1].enabled is False
    # The key was never used, so ingest's key cache holds nothing for it: the refusal is at once.
    reply = send(shoal, project_id, fresh.public_key, error_event("DisabledKeyError"))
    assert reply.status == 403
    assert b"disabled" in reply.body

    key_item(page, fresh).get_by_role("button", name="Enable never used").click()
    expect(page.locator("#notice")).to_contain_text("enabled")
    assert keys_of(shoal, project_id)[1].enabled is True


@pytest.mark.browser
def test_rotating_a_key_enables_a_new_one_and_disables_the_old_after_confirming(
    page: Page, shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client, unique("Rotation"))
    old = keys_of(shoal, project_id)[0]
    log_in(page, shoal)
    open_settings(page, shoal, project_id)
    key_item(page, old).get_by_role("link", name="Rotate Default").click()
    expect(page.locator("h1")).to_contain_text("Rotate the key “Default”?")
    expect(page.locator("main")).to_contain_text(old.public_key)
    expect(page.locator("main")).to_contain_text(f"within {KEY_CACHE_SECONDS} seconds")
    assert keys_of(shoal, project_id) == [old]  # nothing happens before the confirmation

    page.get_by_role("button", name="Rotate key").click()
    expect(page.locator("#notice")).to_contain_text("rotated")
    keys = keys_of(shoal, project_id)
    assert [(key.id, key.enabled) for key in keys] == [(old.id, False), (keys[1].id, True)]
    assert keys[1].label == "Default"
    expect(key_item(page, keys[1])).to_have_class(re.compile(r"\bnew\b"))
    expect(key_item(page, old).locator(".status-disabled")).to_have_text("disabled")
    page.goto(f"{shoal.url}/projects/{project_id}/setup/")
    expect(page.locator("#dsn")).to_contain_text(keys[1].public_key)


@pytest.mark.browser
def test_a_rate_limit_is_saved_and_listed_with_its_key(
    page: Page, shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client, unique("Limits"))
    key = keys_of(shoal, project_id)[0]
    log_in(page, shoal)
    open_settings(page, shoal, project_id)
    item = key_item(page, key)
    expect(item.locator(".rate-limit-value")).to_have_text("none")
    item.get_by_label("Events").fill("100")
    item.get_by_label("per window (seconds)").fill("60")
    item.get_by_role("button", name="Save the rate limit of Default").click()

    expect(page.locator("#notice")).to_contain_text("The rate limit was saved")
    expect(key_item(page, key).locator(".rate-limit-value")).to_have_text("100 events per 60 seconds")
    expect(key_item(page, key)).to_contain_text("Ingest enforces it on errors")
    assert keys_of(shoal, project_id)[0].rate_limit == RateLimit(100, 60)

    key_item(page, key).get_by_label("Events").fill("")
    key_item(page, key).get_by_label("per window (seconds)").fill("")
    key_item(page, key).get_by_role("button", name="Save the rate limit of Default").click()
    expect(page.locator("#notice")).to_contain_text("removed")
    assert keys_of(shoal, project_id)[0].rate_limit is None


@pytest.mark.browser
def test_the_environments_of_the_projects_events_are_listed_with_counts(
    page: Page, shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client, unique("Environments"))
    public_key = keys_of(shoal, project_id)[0].public_key
    for type_, environment in (
        ("FirstError", "production"),
        ("FirstError", "production"),
        ("OtherError", "staging"),
    ):
        send_and_wait(shoal, project_id, public_key, error_event(type_, environment))
    log_in(page, shoal)
    open_settings(page, shoal, project_id)
    rows = page.locator("table.environments tbody tr")
    expect(rows).to_have_count(2)
    # Most recently seen first: staging's event came last.
    for row, cells in ((rows.nth(0), ["staging", "1", "1"]), (rows.nth(1), ["production", "2", "1"])):
        for index, text in enumerate(cells):
            expect(row.locator("td").nth(index)).to_have_text(text)


@pytest.mark.browser
def test_the_access_list_shows_every_member_when_no_team_owns_the_project(
    page: Page, shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client, unique("Access"))
    log_in(page, shoal)
    open_settings(page, shoal, project_id)
    access = page.locator("#access")
    expect(access).to_contain_text("No team owns this project")
    expect(access.locator("ul.members")).to_contain_text("admin@example.com")


@pytest.mark.browser
def test_deleting_a_project_after_typing_its_slug_removes_it_and_its_issues(
    page: Page, shoal: RunningShoal, client: FormClient
) -> None:
    name = unique("Doomed")
    project_id = new_project(client, name)
    slug = project_of(shoal, project_id).slug  # type: ignore[union-attr]
    send_and_wait(shoal, project_id, keys_of(shoal, project_id)[0].public_key, error_event("DoomedError"))
    assert issue_count(shoal, project_id) == 1
    log_in(page, shoal)
    open_settings(page, shoal, project_id)
    page.get_by_role("link", name="Delete project…").click()
    expect(page.locator("main")).to_contain_text("1 issue with all their events")

    page.get_by_label("Type the project's slug").fill("not-the-slug")
    page.get_by_role("button", name="Delete project").click()
    expect(page.locator("#confirm-error")).to_contain_text(slug)
    assert project_of(shoal, project_id) is not None

    page.get_by_label("Type the project's slug").fill(slug)
    page.get_by_role("button", name="Delete project").click()
    expect(page).to_have_url(f"{shoal.url}/projects/?notice=deleted")
    expect(page.locator("p.notice")).to_contain_text("deleted")
    expect(page.locator("table.projects")).not_to_contain_text(name)
    assert project_of(shoal, project_id) is None
    assert issue_count(shoal, project_id) == 0
    with shoal.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(event.c.project_id == project_id)).scalar_one() == 0
    response = page.goto(f"{shoal.url}/projects/{project_id}/settings/")
    assert response is not None and response.status == 404


@pytest.mark.browser
def test_without_javascript_the_dsn_is_plain_text_and_no_copy_button_shows(
    browser: Browser, shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client, unique("No script"))
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, shoal)
        page.goto(f"{shoal.url}/projects/{project_id}/setup/")
        expect(page.locator("#dsn")).to_contain_text(keys_of(shoal, project_id)[0].public_key)
        expect(page.locator("button.copy").first).to_be_hidden()
        assert page.get_by_role("button", name="Copy the DSN").count() == 0
    finally:
        context.close()


# --------------------------------------------------------------------------------------- plain HTTP


def test_every_project_form_refuses_a_post_without_the_csrf_token(
    shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client, unique("Csrf"))
    key = keys_of(shoal, project_id)[0]
    projects_before = project_count(shoal)
    base = f"/projects/{project_id}"
    posts: list[tuple[str, dict[str, str]]] = [
        ("/projects/new", {"name": unique("Forged"), "platform": "python", "organization": "1"}),
        (f"{base}/settings/", {"name": "Forged", "slug": "forged", "platform": "node"}),
        (f"{base}/keys/new", {"label": "forged"}),
        (f"{base}/keys/{key.id}/disable", {}),
        (f"{base}/keys/{key.id}/enable", {}),
        (f"{base}/keys/{key.id}/rotate", {}),
        (f"{base}/keys/{key.id}/rate-limit", {"count": "1", "window": "1"}),
        (f"{base}/delete", {"confirm": project_of(shoal, project_id).slug}),  # type: ignore[union-attr]
    ]
    for path, fields in posts:
        answer = client.post(path, fields, with_token=False)
        assert answer.status == 400, path
        assert STALE_FORM in answer.text(), path
    assert keys_of(shoal, project_id) == [key]
    assert project_of(shoal, project_id) is not None
    assert project_of(shoal, project_id).name.startswith("Csrf")  # type: ignore[union-attr]
    assert project_count(shoal) == projects_before


def test_a_new_project_without_a_name_or_platform_is_refused_with_messages(client: FormClient) -> None:
    answer = client.post("/projects/new", {"name": "", "platform": "cobol", "team": "", "organization": "1"})
    assert answer.status == 400
    assert "Give the project a name" in answer.text()
    assert "Choose the platform your code runs on" in answer.text()
    assert 'aria-invalid="true"' in answer.body


def test_a_new_project_named_only_with_digits_is_refused(client: FormClient) -> None:
    answer = client.post(
        "/projects/new", {"name": "2024", "platform": "python", "team": "", "organization": "1"}
    )
    assert answer.status == 400
    assert "A name needs a letter" in answer.text()


def test_a_new_project_whose_slug_is_taken_is_refused_with_the_name_kept(client: FormClient) -> None:
    name = unique("Twice")
    new_project(client, name)
    answer = client.post("/projects/new", {"name": name, "platform": "node", "team": "", "organization": "1"})
    assert answer.status == 400
    assert "already has a project with the slug" in answer.text()
    assert f'value="{name}"' in answer.body
    assert re.search(r'value="node"\s+checked', answer.body)


def test_a_team_of_no_organization_is_refused(client: FormClient) -> None:
    answer = client.post(
        "/projects/new",
        {"name": unique("Teamless"), "platform": "python", "team": "999999", "organization": "1"},
    )
    assert answer.status == 400
    assert "Choose one of the organization's teams" in answer.text()


def test_settings_with_a_taken_or_malformed_slug_or_no_name_are_refused_with_messages(
    shoal: RunningShoal, client: FormClient
) -> None:
    taken = project_of(shoal, new_project(client, unique("Taken")))
    project_id = new_project(client, unique("Mine"))
    before = project_of(shoal, project_id)
    assert taken is not None
    cases = [
        (
            {"name": "Mine", "slug": taken.slug, "platform": "python"},
            "Another project of this organization has this slug",
        ),
        ({"name": "Mine", "slug": "Has Spaces", "platform": "python"}, "lower-case letters, digits"),
        ({"name": "Mine", "slug": "12345", "platform": "python"}, "not only digits"),
        ({"name": "", "slug": "mine", "platform": "python"}, "Give the project a name"),
        ({"name": "Mine", "slug": "mine", "platform": "cobol"}, "Choose the platform"),
    ]
    for fields, message in cases:
        answer = client.post(f"/projects/{project_id}/settings/", fields)
        assert answer.status == 400, fields
        assert message in answer.text(), fields
        assert f'value="{fields["slug"]}"' in answer.body
    assert project_of(shoal, project_id) == before


@pytest.mark.parametrize(
    ("count", "window"),
    [("abc", "60"), ("0", "60"), ("-5", "60"), ("1.5", "60"), ("100", ""), ("", "60"), ("100", "86401")],
)
def test_a_rate_limit_that_is_not_a_positive_whole_number_is_refused(
    shoal: RunningShoal, client: FormClient, count: str, window: str
) -> None:
    project_id = new_project(client, unique("Bad limit"))
    key = keys_of(shoal, project_id)[0]
    answer = client.post(
        f"/projects/{project_id}/keys/{key.id}/rate-limit", {"count": count, "window": window}
    )
    assert answer.status == 400
    assert "is a whole number from 1 to" in answer.text()
    assert f'id="count-{key.id}" name="count" inputmode="numeric" size="8" value="{count}"' in answer.body
    assert keys_of(shoal, project_id)[0].rate_limit is None


def test_a_key_name_that_is_too_long_is_refused(shoal: RunningShoal, client: FormClient) -> None:
    project_id = new_project(client, unique("Long label"))
    answer = client.post(f"/projects/{project_id}/keys/new", {"label": "x" * 201})
    assert answer.status == 400
    assert "at most 200 characters" in answer.text()
    assert len(keys_of(shoal, project_id)) == 1


def test_a_key_of_another_project_cannot_be_changed_through_this_one(
    shoal: RunningShoal, client: FormClient
) -> None:
    mine, theirs = new_project(client, unique("Mine")), new_project(client, unique("Theirs"))
    their_key = keys_of(shoal, theirs)[0]
    for action in ("disable", "rotate"):
        assert client.post(f"/projects/{mine}/keys/{their_key.id}/{action}", {}).status == 404
    assert client.fetch(f"/projects/{mine}/keys/{their_key.id}/rotate").status == 404
    assert keys_of(shoal, theirs) == [their_key]


def test_a_wrong_slug_does_not_delete_the_project(shoal: RunningShoal, client: FormClient) -> None:
    project_id = new_project(client, unique("Kept"))
    answer = client.post(f"/projects/{project_id}/delete", {"confirm": "kept"})
    assert answer.status == 400
    assert "exactly to delete it" in answer.text()
    assert project_of(shoal, project_id) is not None


def test_a_project_made_for_a_team_lists_that_team_and_its_members(
    shoal: RunningShoal, client: FormClient
) -> None:
    tag = uuid.uuid4().hex[:6]
    with write_transaction(shoal.engine) as conn:
        team_id = conn.execute(
            insert(team)
            .values(organization_id=1, slug=f"web-{tag}", name=f"Web {tag}", created_at=time.time())
            .returning(team.c.id)
        ).scalar_one()
        member = create_user(conn, f"web-{tag}@example.com", "a long member password")
        add_membership(conn, 1, member.id, "member")
        conn.execute(insert(team_member).values(team_id=team_id, user_id=member.id))
    form = client.fetch("/projects/new")
    assert f"Web {tag}" in form.text()
    answer = client.post(
        "/projects/new",
        {"name": unique("Team owned"), "platform": "node", "team": str(team_id), "organization": "1"},
    )
    assert answer.status == 200
    project_id = int(re.search(r"/projects/(\d+)/setup/$", answer.url)[1])  # type: ignore[index]
    with shoal.engine.connect() as conn:
        assert [access.team.id for access in teams.project_teams(conn, project_id)] == [team_id]
    access = client.fetch(f"/projects/{project_id}/settings/").text()
    assert f"Owned by 1 team. The organization's owners and admins have access too. Web {tag}" in access
    assert f"web-{tag}@example.com" in access


def dead_letters(shoal: RunningShoal, project_id: int) -> list[str]:
    """The reasons of the spool's buried entries for the project."""
    with sqlite3.connect(shoal.data_dir / "spool.db") as db:
        rows = db.execute("SELECT reason FROM spool_dead WHERE project_id = ?", (project_id,)).fetchall()
    return [str(reason) for (reason,) in rows]


def test_events_queued_for_a_deleted_project_are_buried_as_project_deleted(
    shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client, unique("Queued"))
    public_key = keys_of(shoal, project_id)[0].public_key
    send_and_wait(shoal, project_id, public_key, error_event("BeforeError"))  # ingest now caches the key
    slug = project_of(shoal, project_id).slug  # type: ignore[union-attr]
    assert client.post(f"/projects/{project_id}/delete", {"confirm": slug}).status == 200

    late = error_event("LateError")
    reply = send(shoal, project_id, public_key, late)
    # Ingest may still trust its cached key (up to 30 s): then the event is queued and the digest,
    # finding no project, buries it. Past that, the key is unknown and the event refused.
    if reply.status == 200:
        wait_until(lambda: dead_letters(shoal, project_id) == ["project deleted"], 30, "the entry buried")
    else:
        assert reply.status == 403, reply.body
    assert not shoal.has_event(late["event_id"])


def test_the_page_says_the_key_cache_time_ingest_really_uses() -> None:
    assert KEY_CACHE_SECONDS == POSITIVE_TTL


# ----------------------------------------------------------------------------------- members


class MemberClient(FormClient):
    """A FormClient logged in as someone else than the admin."""

    def __init__(self, shoal: RunningShoal, email: str, password: str) -> None:
        WebClient.__init__(self, shoal)
        self.log_in(email, password)
        self._token = None


def test_a_member_who_is_not_an_owner_or_admin_cannot_create_or_change_projects(
    shoal: RunningShoal, client: FormClient
) -> None:
    project_id = new_project(client, unique("Guarded"))
    email, password = f"member-{uuid.uuid4().hex[:6]}@example.com", "a long member password"
    with write_transaction(shoal.engine) as conn:
        add_membership(conn, 1, create_user(conn, email, password).id, "member")
    member = MemberClient(shoal, email, password)

    listing = member.fetch("/projects/")
    assert listing.status == 200
    assert "New project" not in listing.text()
    assert member.fetch("/projects/new").status == 403
    settings = member.fetch(f"/projects/{project_id}/settings/")
    assert settings.status == 200
    assert "only the organization's owners and admins can change them" in settings.text()
    key = keys_of(shoal, project_id)[0]
    for path, fields in [
        ("/projects/new", {"name": unique("Sneaky"), "platform": "python", "organization": "1"}),
        (
            f"/projects/{project_id}/settings/",
            {"name": "Taken over", "slug": "taken-over", "platform": "node"},
        ),
        (f"/projects/{project_id}/keys/{key.id}/disable", {}),
        (f"/projects/{project_id}/delete", {"confirm": project_of(shoal, project_id).slug}),  # type: ignore[union-attr]
    ]:
        answer = member.post(path, fields)
        assert answer.status == 403, path
        assert ADMINS_ONLY in answer.text(), path
    assert keys_of(shoal, project_id) == [key]
    assert project_of(shoal, project_id).name.startswith("Guarded")  # type: ignore[union-attr]
