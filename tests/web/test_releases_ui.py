"""Releases and suspect commits in the UI, in Chromium against a real `shoal run`: a release with
commits by two authors and a deploy, an error from the real sentry-sdk raised in a file one of the
commits changed. The issue page names that commit and its author as the suspect and offers the
author (a member) as the assignee in one click; the release page lists the commits, the authors,
the deploy and the new issue; the release list shows it with its counts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shoal.clock import SYSTEM_CLOCK
from shoal.store import projects, users
from shoal.store.db import write_transaction
from shoal.store.release_stats import CommitInfo
from shoal.store.schema import issue
from shoal.store.suspect_commits import ChangedFile
from shoal.store.users import Member
from shoal.suspects import FramePath, Suspect
from shoal.web.suspect_view import suggested_assignee
from tests.support.browser_login import log_in, record_dialogs
from tests.support.form_client import FormClient
from tests.support.releases import NewCommit, add_deploy, ensure_release, set_commits
from tests.support.server import RunningShoal, start_shoal, wait_until

DEV = "dev@example.com"

APP_MODULE = textwrap.dedent(
    """
    def apply_discount(cart, code):
        rates = {"SPRING": 0.1}
        return cart * (1 - rates[code])
    """
)

APP_SCRIPT = textwrap.dedent(
    """
    import sys
    import sentry_sdk
    from shop.checkout import apply_discount

    sentry_sdk.init(dsn=sys.argv[1], release=sys.argv[2], environment="production")
    try:
        apply_discount(100, sys.argv[3])
    except KeyError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=20)
    """
)


@dataclass(frozen=True)
class ReleasedApp:
    version: str
    issue_id: int
    title: str
    suspect_sha: str
    other_sha: str


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("releases-ui") / "data")
    yield server
    server.stop()


def organization_of(shoal: RunningShoal) -> int:
    with shoal.engine.connect() as conn:
        found = projects.get_project(conn, shoal.project_id)
    assert found is not None
    return found.organization_id


def make_release(shoal: RunningShoal, version: str, suspect_sha: str, other_sha: str) -> None:
    """What `sentry-cli releases new / set-commits / deploys new` leave: commits by two authors,
    the newest first, and a deploy to production."""
    organization_id = organization_of(shoal)
    now = SYSTEM_CLOCK.now()
    with write_transaction(shoal.engine) as conn:
        release_id = ensure_release(conn, organization_id, shoal.project_id, version, created=now - 60)
        set_commits(
            conn,
            organization_id,
            release_id,
            [
                NewCommit(
                    other_sha, "docs: explain discounts", "Other Author", "other@example.com", ["README.md"]
                ),
                # git keeps the email as typed; Shoal's member is lower case.
                NewCommit(
                    suspect_sha,
                    "second: add b, change a\n\nDiscount codes are looked up in a table now.",
                    "Dev Person",
                    "Dev@Example.com",
                    ["shop/checkout.py", "shop/__init__.py"],
                ),
            ],
        )
        add_deploy(conn, release_id, "production", now, name="deploy #1")


def add_member(shoal: RunningShoal, email: str) -> None:
    organization_id = organization_of(shoal)
    with write_transaction(shoal.engine) as conn:
        if users.find_user_by_email(conn, email) is None:
            user = users.create_user(conn, email, "a long enough password")
            users.add_membership(conn, organization_id, user.id, "member")


def raise_from_app(shoal: RunningShoal, folder: Path, version: str, code: str) -> None:
    """The real sentry-sdk reports a KeyError raised in shop/checkout.py (an in-app frame: the
    package is under the working directory)."""
    (folder / "shop").mkdir()
    (folder / "shop" / "__init__.py").write_text("")
    (folder / "shop" / "checkout.py").write_text(APP_MODULE)
    (folder / "app.py").write_text(APP_SCRIPT)
    result = subprocess.run(
        [sys.executable, "app.py", shoal.dsn, version, code],
        cwd=folder,
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


@pytest.fixture(scope="module")
def released_app(shoal: RunningShoal, tmp_path_factory: pytest.TempPathFactory) -> ReleasedApp:
    tag = uuid.uuid4().hex[:8]
    version = f"shop@2.0.{tag}"
    suspect_sha, other_sha = uuid.uuid4().hex + "abcdef01", uuid.uuid4().hex + "12345678"
    make_release(shoal, version, suspect_sha, other_sha)
    add_member(shoal, DEV)
    code = f"CODE_{tag}"
    raise_from_app(shoal, tmp_path_factory.mktemp("app"), version, code)
    title = f"KeyError: '{code}'"
    wait_until(lambda: issue_titled(shoal, title) is not None, 60, "the SDK's issue")
    found = issue_titled(shoal, title)
    assert found is not None
    return ReleasedApp(version, found, title, suspect_sha, other_sha)


@pytest.mark.browser
def test_the_issue_page_names_the_suspect_commit_and_its_author_is_assigned_in_one_click(
    page: Page, shoal: RunningShoal, released_app: ReleasedApp
) -> None:
    dialogs = record_dialogs(page)
    log_in(page, shoal)
    page.goto(f"{shoal.url}/issues/{released_app.issue_id}/")
    suspects = page.locator("#suspects")
    expect(suspects.locator(".suspect")).to_have_count(1)
    suspect = suspects.locator(".suspect").first
    expect(suspect.locator("code.sha")).to_have_text(released_app.suspect_sha[:7])
    expect(suspect).to_contain_text("second: add b, change a")
    expect(suspect.locator(".author")).to_have_text("Dev Person")
    expect(suspect).to_contain_text("changed shop/checkout.py")
    expect(suspects).not_to_contain_text("docs: explain discounts")

    suggested = page.get_by_role("button", name=f"Suggested: {DEV}")
    expect(suggested).to_be_visible()
    expect(page.locator("#assignee-name")).to_have_text("nobody")
    suggested.click()
    expect(page.locator("#assignee-name")).to_have_text(DEV)
    expect(page.locator(".activity-log li").first).to_contain_text(DEV)
    # Assigned to them, the suggestion has nothing left to suggest.
    expect(page.get_by_role("button", name=f"Suggested: {DEV}")).to_have_count(0)
    assert dialogs == []


@pytest.mark.browser
def test_the_release_page_lists_commits_authors_deploys_and_the_new_issue(
    page: Page, shoal: RunningShoal, released_app: ReleasedApp
) -> None:
    log_in(page, shoal)
    page.goto(f"{shoal.url}/issues/{released_app.issue_id}/")
    page.locator("#first-seen").get_by_role("link", name=released_app.version).click()
    expect(page.locator("h1")).to_have_text(released_app.version)
    expect(page.locator("#finalized")).to_contain_text("not finalized")

    commits = page.locator("#commits .commit")
    expect(commits).to_have_count(2)
    expect(commits.nth(0)).to_contain_text("docs: explain discounts")
    expect(commits.nth(1)).to_contain_text(released_app.suspect_sha[:7])
    expect(commits.nth(1)).to_contain_text("Dev Person")
    commits.nth(1).locator("summary").click()
    expect(commits.nth(1).locator(".commit-files")).to_contain_text("shop/checkout.py")

    authors = page.locator("#authors li")
    expect(authors).to_have_count(2)
    expect(page.locator("#authors")).to_contain_text("Dev Person")
    expect(page.locator("#authors")).to_contain_text("Other Author")

    deploys = page.locator("#deploys")
    expect(deploys.locator("h3")).to_have_text(["production"])
    expect(deploys).to_contain_text("deploy #1")

    new_issue = page.locator("#issues").get_by_role("link", name=released_app.title)
    expect(new_issue).to_be_visible()
    expect(page.locator("#adoption")).to_contain_text("production")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Releases").click()
    row = page.locator("table.releases tbody tr").filter(has_text=released_app.version)
    expect(row.locator("td").nth(2)).to_have_text("1")  # new issues
    expect(row.locator("td").nth(4)).to_have_text("1")  # deploys
    expect(row).to_contain_text("production 100%")
    row.get_by_role("link", name=released_app.version).click()
    expect(page.locator("h1")).to_have_text(released_app.version)


def test_a_version_with_a_slash_and_url_characters_has_its_page(shoal: RunningShoal) -> None:
    version = f"web/2026.1?build=7#{uuid.uuid4().hex[:6]} 100%"
    organization_id = organization_of(shoal)
    with write_transaction(shoal.engine) as conn:
        ensure_release(conn, organization_id, shoal.project_id, version, created=SYSTEM_CLOCK.now())
    client = FormClient(shoal)
    href = f"/projects/{shoal.project_id}/releases/{quote(version)}/"
    assert f'href="{href}"' in client.fetch(f"/projects/{shoal.project_id}/releases/").body
    detail = client.fetch(href)
    assert detail.status == 200
    assert f'<h1><code class="release">{version}</code></h1>' in detail.body


def test_an_unknown_release_and_another_projects_release_answer_404(shoal: RunningShoal) -> None:
    client = FormClient(shoal)
    assert client.fetch(f"/projects/{shoal.project_id}/releases/no-such-release/").status == 404
    assert client.fetch(f"/projects/{shoal.project_id + 1000}/releases/").status == 404


def test_the_suggested_assignee_is_the_best_suspect_author_who_is_a_member() -> None:
    def suspect(commit_id: int, email: str | None) -> Suspect:
        info = CommitInfo(commit_id, "origin", "a" * 40, "m", "Someone", email, None)
        return Suspect(ChangedFile(info, "a.py", "v", 0, 0), FramePath(0, "a.py", (("a.py",),)), 1, 10)

    members = [Member(1, "admin@example.com"), Member(2, "dev@example.com")]
    found = [suspect(1, "outsider@example.com"), suspect(2, None), suspect(3, "Dev@Example.COM ")]
    assert suggested_assignee(found, members, None) == Member(2, "dev@example.com")
    assert suggested_assignee(found, members, 2) is None  # already theirs
    assert suggested_assignee(found[:2], members, None) is None
