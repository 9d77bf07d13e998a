"""The issue stream in Chromium: a search narrows the list, `is:resolved` finds a resolved issue,
the sort changes the order, a saved search appears and applies, pagination keeps the search, bulk
delete asks first, bulk assign, a bad query shows its error, the empty states, the cross-project
stream, and hostile titles and names rendered as text. Issues come through ingest, each test's with
a tag of its own so that the tests can share one server."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import projects, users
from shoal.store.db import write_transaction
from shoal.store.schema import event, issue, saved_search
from tests.support.browser_login import log_in, record_dialogs
from tests.support.events import python_error
from tests.support.form_client import FormClient
from tests.support.http import auth_header, envelope_url, event_envelope, post
from tests.support.server import RunningShoal, start_shoal, wait_until

ARTIFACTS = Path(__file__).resolve().parents[2] / "tests" / "artifacts"
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("stream-ui") / "data")
    yield server
    server.stop()


def label() -> str:
    return uuid.uuid4().hex[:8]


def error(function: str, value: str = "boom", **fields: Any) -> dict[str, Any]:
    """A KeyError raised in `function` (so the function decides the issue), with extra fields."""
    return {**python_error("KeyError", function, value), **fields}


def send(shoal: RunningShoal, *events: dict[str, Any], public_key: str | None = None) -> list[int]:
    """Send the events through ingest all at once, wait until they are stored; their issues' ids."""
    project_id = _project_of_key(shoal, public_key) if public_key else shoal.project_id
    for data in events:
        reply = post(
            envelope_url(shoal.url, project_id),
            event_envelope(data, data["event_id"]),
            auth_header(public_key or shoal.public_key),
        )
        assert reply.status == 200
    wanted = [data["event_id"] for data in events]
    wait_until(lambda: all(shoal.has_event(e) for e in wanted), 60, f"{len(wanted)} events stored")
    with shoal.engine.connect() as conn:
        stored = select(event.c.event_id, event.c.issue_id).where(event.c.event_id.in_(wanted))
        found = {row.event_id: row.issue_id for row in conn.execute(stored)}
    return [int(found[e]) for e in wanted]


def _project_of_key(shoal: RunningShoal, public_key: str) -> int:
    with shoal.engine.connect() as conn:
        found = projects.find_key(conn, public_key)
    assert found is not None
    return found.project_id


def stream(page: Page, shoal: RunningShoal, query: str | None = None) -> None:
    """The project's stream, searched for `query` through the search box."""
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/issues/")
    if query is not None:
        page.get_by_label("Search", exact=True).fill(query)
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_load_state("load")


def rows(page: Page) -> Any:
    return page.locator("table.issues tbody tr")


def titles(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("table.issues a.issue-title").all_inner_texts()]


def issue_exists(shoal: RunningShoal, issue_id: int) -> bool:
    with shoal.engine.connect() as conn:
        return conn.execute(select(issue.c.id).where(issue.c.id == issue_id)).first() is not None


@pytest.fixture
def logged_in(page: Page, shoal: RunningShoal) -> Page:
    log_in(page, shoal)
    return page


# --------------------------------------------------------------------------------------- search


@pytest.mark.browser
def test_a_search_narrows_the_list(logged_in: Page, shoal: RunningShoal) -> None:
    tag = label()
    send(
        shoal,
        error(f"on_web_{tag}", f"web {tag}", tags={"server": f"web-{tag}"}),
        error(f"on_db_{tag}", f"db {tag}", tags={"server": f"db-{tag}"}),
    )
    stream(logged_in, shoal, tag)
    expect(rows(logged_in)).to_have_count(2)

    stream(logged_in, shoal, f"server:web-{tag}")
    expect(rows(logged_in)).to_have_count(1)
    expect(rows(logged_in)).to_contain_text(f"web {tag}")
    expect(logged_in.get_by_label("Search", exact=True)).to_have_value(f"server:web-{tag}")

    stream(logged_in, shoal, f"!server:web-{tag} {tag}")
    expect(rows(logged_in)).to_have_count(1)
    expect(rows(logged_in)).to_contain_text(f"db {tag}")


@pytest.mark.browser
def test_the_stream_opens_with_is_unresolved_in_the_search_box(logged_in: Page, shoal: RunningShoal) -> None:
    stream(logged_in, shoal)
    expect(logged_in.get_by_label("Search", exact=True)).to_have_value("is:unresolved")
    expect(logged_in.get_by_role("link", name="Unresolved", exact=True)).to_have_attribute(
        "aria-current", "page"
    )


@pytest.mark.browser
def test_is_resolved_finds_a_resolved_issue(logged_in: Page, shoal: RunningShoal) -> None:
    tag = label()
    [issue_id] = send(shoal, error(f"fixed_{tag}", f"fixed {tag}"))
    stream(logged_in, shoal, tag)
    rows(logged_in).filter(has_text=tag).get_by_role("checkbox").check()
    logged_in.locator(".bulk-actions").get_by_role("button", name="Resolve", exact=True).click()
    expect(logged_in.locator("p.notice")).to_have_text("Resolved 1 issue.")
    # The stream kept the search (it has no is:unresolved), so the resolved issue still shows.
    expect(logged_in.get_by_label("Search", exact=True)).to_have_value(tag)

    stream(logged_in, shoal, f"is:unresolved {tag}")
    expect(rows(logged_in)).to_have_count(0)
    expect(logged_in.locator("#empty-state")).to_contain_text("No issues match this search")
    stream(logged_in, shoal, f"is:resolved {tag}")
    expect(rows(logged_in)).to_have_count(1)
    expect(rows(logged_in).locator(".status")).to_have_text("Resolved")
    assert issue_exists(shoal, issue_id)


@pytest.mark.browser
def test_the_sort_changes_the_order(logged_in: Page, shoal: RunningShoal) -> None:
    tag = label()
    send(shoal, *[error(f"busy_{tag}", f"busy {tag}") for _ in range(3)])
    send(shoal, error(f"recent_{tag}", f"recent {tag}"))
    stream(logged_in, shoal, tag)
    assert titles(logged_in) == [f"KeyError: recent {tag}", f"KeyError: busy {tag}"]

    logged_in.get_by_label("Sort by").select_option(label="Events")
    logged_in.get_by_role("button", name="Search", exact=True).click()
    expect(logged_in).to_have_url(re.compile(r"sort=freq"))
    expect(rows(logged_in).first).to_contain_text(f"busy {tag}")
    assert titles(logged_in) == [f"KeyError: busy {tag}", f"KeyError: recent {tag}"]
    expect(rows(logged_in).first.locator("td.num").first).to_have_text("3")


@pytest.mark.browser
def test_a_saved_search_appears_and_applies(logged_in: Page, shoal: RunningShoal) -> None:
    tag = label()
    send(
        shoal,
        error(f"warned_{tag}", f"warned {tag}", level="warning"),
        error(f"failed_{tag}", f"failed {tag}"),
    )
    stream(logged_in, shoal, f"level:warning {tag}")
    logged_in.locator("#saved-searches > summary").click()
    logged_in.get_by_label("Save this search as").fill(f"Warnings {tag}")
    logged_in.get_by_role("button", name="Save search").click()
    expect(logged_in.locator("p.notice")).to_have_text("Search saved.")

    stream(logged_in, shoal, tag)
    expect(rows(logged_in)).to_have_count(2)
    logged_in.locator(".search-tabs").get_by_role("link", name=f"Warnings {tag}").click()
    expect(logged_in.get_by_label("Search", exact=True)).to_have_value(f"level:warning {tag}")
    expect(rows(logged_in)).to_have_count(1)
    expect(rows(logged_in)).to_contain_text(f"warned {tag}")
    tab = logged_in.locator(".search-tabs").get_by_role("link", name=f"Warnings {tag}")
    expect(tab).to_have_attribute("aria-current", "page")

    # As the default, the stream opens with it; deleting it brings is:unresolved back.
    logged_in.locator("#saved-searches > summary").click()
    logged_in.get_by_role("button", name=f"Open the stream with Warnings {tag}").click()
    stream(logged_in, shoal)
    expect(logged_in.get_by_label("Search", exact=True)).to_have_value(f"level:warning {tag}")
    logged_in.locator("#saved-searches > summary").click()
    logged_in.get_by_role("button", name=f"Delete saved search Warnings {tag}").click()
    expect(logged_in.locator("p.notice")).to_have_text("Saved search deleted.")
    stream(logged_in, shoal)
    expect(logged_in.get_by_label("Search", exact=True)).to_have_value("is:unresolved")


@pytest.mark.browser
def test_pagination_keeps_the_search_and_sort(logged_in: Page, shoal: RunningShoal) -> None:
    tag = label()
    send(shoal, *[error(f"many_{tag}_{n}", f"many {tag}", tags={"batch": tag}) for n in range(51)])
    stream(logged_in, shoal, f"batch:{tag}")
    logged_in.get_by_label("Sort by").select_option(label="First seen")
    logged_in.get_by_role("button", name="Search", exact=True).click()
    expect(rows(logged_in)).to_have_count(50)
    expect(logged_in.locator("nav.pager")).to_contain_text("1–50 of 51")

    logged_in.get_by_role("link", name="Next →").click()
    expect(rows(logged_in)).to_have_count(1)
    expect(logged_in.get_by_label("Search", exact=True)).to_have_value(f"batch:{tag}")
    expect(logged_in.get_by_label("Sort by")).to_have_value("new")
    assert "page=2" in logged_in.url
    logged_in.get_by_role("link", name="← Previous").click()
    expect(rows(logged_in)).to_have_count(50)
    expect(logged_in.get_by_label("Search", exact=True)).to_have_value(f"batch:{tag}")


@pytest.mark.browser
def test_a_bad_query_shows_its_error(logged_in: Page, shoal: RunningShoal) -> None:
    response = logged_in.goto(f"{shoal.url}/projects/{shoal.project_id}/issues/?query=level%3A")
    assert response is not None and response.status == 400
    expect(logged_in.locator("#search-error")).to_contain_text("“level:” needs a value after the colon")
    expect(logged_in.get_by_label("Search", exact=True)).to_have_value("level:")

    stream(logged_in, shoal, "firstSeen:-3y")
    expect(logged_in.get_by_role("alert")).to_contain_text("neither a relative time")
    expect(rows(logged_in)).to_have_count(0)


# --------------------------------------------------------------------------------- bulk actions


@pytest.mark.browser
def test_bulk_delete_asks_first(logged_in: Page, shoal: RunningShoal) -> None:
    tag = label()
    doomed, kept = send(shoal, error(f"doomed_{tag}", f"doomed {tag}"), error(f"kept_{tag}", f"kept {tag}"))
    stream(logged_in, shoal, tag)
    rows(logged_in).filter(has_text=f"doomed {tag}").get_by_role("checkbox").check()
    dialogs = record_dialogs(logged_in)
    logged_in.get_by_role("button", name="Delete…").click()

    expect(logged_in.get_by_role("heading", name="Delete 1 issue?")).to_be_visible()
    expect(logged_in.locator(".delete-list")).to_contain_text(f"doomed {tag}")
    assert issue_exists(shoal, doomed)  # nothing is deleted yet

    logged_in.get_by_role("button", name="Delete 1 issue").click()
    expect(logged_in.locator("p.notice")).to_have_text("Deleted 1 issue and its events.")
    expect(logged_in.get_by_label("Search", exact=True)).to_have_value(tag)
    assert titles(logged_in) == [f"KeyError: kept {tag}"]
    assert not issue_exists(shoal, doomed) and issue_exists(shoal, kept)
    assert dialogs == []


@pytest.mark.browser
def test_cancelling_a_bulk_delete_keeps_the_issues(logged_in: Page, shoal: RunningShoal) -> None:
    tag = label()
    [kept] = send(shoal, error(f"spared_{tag}", f"spared {tag}"))
    stream(logged_in, shoal, tag)
    rows(logged_in).get_by_role("checkbox").check()
    logged_in.get_by_role("button", name="Delete…").click()
    logged_in.get_by_role("link", name="Cancel").click()
    expect(logged_in.get_by_label("Search", exact=True)).to_have_value(tag)
    expect(rows(logged_in)).to_have_count(1)
    assert issue_exists(shoal, kept)


@pytest.mark.browser
def test_bulk_assign_shows_the_assignee(logged_in: Page, shoal: RunningShoal) -> None:
    tag = label()
    send(shoal, error(f"first_{tag}", f"first {tag}"), error(f"second_{tag}", f"second {tag}"))
    stream(logged_in, shoal, tag)
    for checkbox in rows(logged_in).get_by_role("checkbox").all():
        checkbox.check()
    logged_in.get_by_label("Assign to").select_option(label="admin@example.com")
    logged_in.get_by_role("button", name="Assign", exact=True).click()
    expect(logged_in.locator("p.notice")).to_have_text("Assigned 2 issues.")
    stream(logged_in, shoal, f"assigned:me {tag}")
    expect(rows(logged_in)).to_have_count(2)
    expect(rows(logged_in).first).to_contain_text("admin@example.com")


# ---------------------------------------------------------------------- empty states, all issues


@pytest.mark.browser
def test_a_project_without_events_shows_its_dsn_and_a_snippet(logged_in: Page, shoal: RunningShoal) -> None:
    with write_transaction(shoal.engine) as conn:
        fresh = projects.create_project(conn, 1, f"empty {label()}", "python", DEFAULT_CONFIG_ID)
        key = projects.first_enabled_key(conn, fresh.id)
    logged_in.goto(f"{shoal.url}/projects/{fresh.id}/issues/")
    empty = logged_in.locator("#empty-state")
    expect(empty).to_contain_text("No events yet")
    expect(empty).to_contain_text(f"{key}@")
    expect(empty.locator("pre")).to_contain_text("sentry_sdk.init(dsn=")


@pytest.mark.browser
def test_the_cross_project_stream_shows_every_visible_project(logged_in: Page, shoal: RunningShoal) -> None:
    tag = label()
    with write_transaction(shoal.engine) as conn:
        other = projects.create_project(conn, 1, f"other {tag}", "python", DEFAULT_CONFIG_ID)
        other_key = projects.first_enabled_key(conn, other.id)
    assert other_key is not None
    send(shoal, error(f"here_{tag}", f"here {tag}"))
    send(shoal, error(f"there_{tag}", f"there {tag}"), public_key=other_key)

    logged_in.goto(f"{shoal.url}/issues/")
    logged_in.get_by_label("Search", exact=True).fill(tag)
    logged_in.get_by_role("button", name="Search", exact=True).click()
    expect(rows(logged_in)).to_have_count(2)
    expect(rows(logged_in).filter(has_text=f"there {tag}").locator(".project-name")).to_have_text(
        f"other {tag}"
    )
    stream(logged_in, shoal, tag)
    expect(rows(logged_in)).to_have_count(1)  # a project's stream has its own issues only


# ----------------------------------------------------------------------------------- hostile text


@pytest.mark.browser
def test_hostile_titles_and_names_render_as_text(logged_in: Page, shoal: RunningShoal) -> None:
    tag = label()
    send(shoal, error(f"hostile_{tag}", f"{HOSTILE} {tag}", tags={"server": HOSTILE[:200]}))
    dialogs = record_dialogs(logged_in)
    stream(logged_in, shoal, tag)
    expect(logged_in.locator("a.issue-title")).to_have_text(f"KeyError: {HOSTILE} {tag}")

    logged_in.locator("#saved-searches > summary").click()
    logged_in.get_by_label("Save this search as").fill(HOSTILE)
    logged_in.get_by_role("button", name="Save search").click()
    expect(logged_in.locator(".search-tabs a.saved").filter(has_text="window.__pwned").first).to_contain_text(
        "<script>"
    )
    quoted = 'server:"' + HOSTILE.replace('"', '\\"') + '"'
    stream(logged_in, shoal, quoted)
    expect(logged_in.get_by_label("Search", exact=True)).to_have_value(quoted)
    expect(rows(logged_in)).to_have_count(1)

    logged_in.wait_for_load_state("load")
    assert logged_in.evaluate("window.__pwned") is None
    assert dialogs == []
    assert logged_in.locator("main script").count() == 0
    assert logged_in.locator("main img").count() == 0

    logged_in.locator("#saved-searches > summary").click()
    logged_in.get_by_role("button", name=f"Delete saved search {HOSTILE}").click()
    expect(logged_in.locator(".search-tabs a.saved")).to_have_count(0)


# A few realistic issues for the screenshot: (type, value, function, events, hours they span, level).
SHOWCASE = [
    ("PaymentDeclined", "card declined by issuer", "charge_card", 34, 23, "error"),
    ("KeyError", "'sku'", "add_to_cart", 12, 3, "error"),
    ("TimeoutError", "inventory service timed out after 5.0s", "reserve_stock", 7, 20, "error"),
    ("ValueError", "invalid literal for int() with base 10: 'two'", "parse_quantity", 3, 12, "warning"),
    ("ZeroDivisionError", "division by zero", "split_shipping", 1, 0, "fatal"),
]


@pytest.mark.browser
def test_the_stream_screenshot(logged_in: Page, shoal: RunningShoal) -> None:
    """A project's stream as the README shows it, saved to tests/artifacts/issue-stream.png."""
    with write_transaction(shoal.engine) as conn:
        shop = projects.create_project(conn, 1, "checkout", "python", DEFAULT_CONFIG_ID)
        key = projects.first_enabled_key(conn, shop.id)
    assert key is not None
    now = time.time()
    for type_, value, function, count, hours, level in SHOWCASE:
        events = [
            {
                **python_error(type_, function, value),
                "timestamp": now - hours * 3600 * n / max(count - 1, 1),
                "level": level,
                "user": {"id": f"customer-{n % 9}"},
                "release": "shop@4.2.0",
                "environment": "production",
            }
            for n in range(count)
        ]
        send(shoal, *events, public_key=key)
    logged_in.set_viewport_size({"width": 1280, "height": 720})
    logged_in.goto(f"{shoal.url}/projects/{shop.id}/issues/")
    expect(rows(logged_in)).to_have_count(len(SHOWCASE))
    ARTIFACTS.mkdir(exist_ok=True)
    logged_in.screenshot(path=str(ARTIFACTS / "issue-stream.png"))


# ----------------------------------------------------------------------------------- plain HTTP


@pytest.fixture(scope="module")
def client(shoal: RunningShoal) -> FormClient:
    return FormClient(shoal)


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/issues/bulk", {"op": "resolve"}),
        ("/issues/bulk", {"op": "delete"}),
        ("/issues/delete", {}),
        ("/saved-searches/", {"name": "sneaky", "query": "", "sort": "date", "organization_id": "1"}),
    ],
)
def test_a_stream_post_without_the_csrf_token_changes_nothing(
    shoal: RunningShoal, client: FormClient, path: str, fields: dict[str, str]
) -> None:
    [issue_id] = send(shoal, error(f"csrf_{label()}"))
    for token in (None, "forged"):
        extra = {"csrf_token": token} if token else {}
        answer = client.post(path, {**fields, "issue": str(issue_id), **extra}, with_token=False)
        assert answer.status == 400
        assert "This form has expired or did not come from Shoal" in answer.text()
    assert issue_exists(shoal, issue_id)
    with shoal.engine.connect() as conn:
        state = conn.execute(select(issue.c.status).where(issue.c.id == issue_id)).scalar_one()
        assert state == "unresolved"
        assert conn.execute(select(saved_search.c.id).where(saved_search.c.name == "sneaky")).first() is None


def test_a_bulk_action_with_nothing_ticked_says_what_to_do(client: FormClient) -> None:
    answer = client.post("/issues/bulk", {"op": "ignore", "back": "/issues/?query=level%3Aerror"})
    assert answer.status == 400
    assert "Select at least one issue first" in answer.text()
    assert 'value="level:error"' in answer.body  # the stream is shown with its search


def test_a_back_field_elsewhere_leads_to_the_stream(shoal: RunningShoal, client: FormClient) -> None:
    [issue_id] = send(shoal, error(f"elsewhere_{label()}"))
    answer = client.post(
        "/issues/bulk", {"op": "ignore", "issue": str(issue_id), "back": "https://evil.example/"}
    )
    assert answer.status == 200
    assert answer.url == f"{shoal.url}/issues/?notice=ignore-1"


def test_a_search_that_cannot_be_read_is_not_saved(client: FormClient) -> None:
    fields = {"name": "Broken", "query": "level:", "sort": "date", "organization_id": "1", "back": "/issues/"}
    answer = client.post("/saved-searches/", fields)
    assert answer.status == 400
    assert "This search cannot be saved: “level:” needs a value" in answer.text()


def test_only_owners_and_admins_share_searches_and_nobody_deletes_anothers(
    shoal: RunningShoal, client: FormClient
) -> None:
    email, password = f"member-{label()}@example.com", "a long enough password"
    with write_transaction(shoal.engine) as conn:
        member = users.create_user(conn, email, password)
        users.add_membership(conn, 1, member.id, "member")
    as_member = FormClient(shoal)
    as_member.log_in(email, password)
    fields = {
        "name": f"Team view {label()}",
        "query": "is:unresolved",
        "sort": "date",
        "organization_id": "1",
    }

    refused = as_member.post("/saved-searches/", {**fields, "shared": "on", "back": "/issues/"})
    assert refused.status == 400
    assert "Only owners and admins can share a search" in refused.text()
    assert as_member.post("/saved-searches/", {**fields, "back": "/issues/"}).status == 200
    shared = client.post("/saved-searches/", {**fields, "name": "Shared view", "shared": "on"})
    assert shared.status == 200
    with shoal.engine.connect() as conn:
        found = {row.name: row for row in conn.execute(select(saved_search))}
    assert found[fields["name"]].user_id == member.id and found["Shared view"].user_id is None

    # The member sees the shared search but may not delete it; the admin cannot delete the member's.
    assert "Shared view" in as_member.fetch("/issues/").text()
    assert as_member.post(f"/saved-searches/{found['Shared view'].id}/delete", {}).status == 403
    assert client.post(f"/saved-searches/{found[fields['name']].id}/delete", {}).status == 404
    with shoal.engine.connect() as conn:
        assert len(conn.execute(select(saved_search.c.id)).all()) == len(found)
