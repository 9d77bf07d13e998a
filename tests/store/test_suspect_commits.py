"""Suspect commits from the store, on SQLite and PostgreSQL: the commits of the release that
introduced an issue and of the five releases before it in its project whose changed files are in
the stack trace of the issue's first event, best first."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, delete, select

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.notify.base import Notification
from shoal.store import projects
from shoal.store.db import write_transaction
from shoal.store.events import PayloadCodec
from shoal.store.schema import event, notification
from shoal.store.suspect_commits import first_event_data
from shoal.suspects import suspects_of_event, top_suspect
from tests.support.alerting import DigestHarness
from tests.support.releases import NewCommit, ensure_release, set_commits

HOUR = 3600.0


@pytest.fixture
def harness(engine: Engine, tmp_path: Path) -> DigestHarness:
    return DigestHarness(engine, tmp_path)


def app_error(release: str, *files: str) -> dict[str, Any]:
    """An exception whose in-app frames are in `files`, the last one raising; the frames' module and
    function group it, so events with other files are still one issue."""
    frames = [
        {
            "module": "shop.cart",
            "function": "checkout",
            "filename": path,
            "abs_path": f"/srv/app/{path}",
            "in_app": True,
        }
        for path in files
    ]
    frames.insert(
        0, {"module": "gunicorn", "function": "run", "filename": "gunicorn/app.py", "in_app": False}
    )
    return {
        "event_id": uuid.uuid4().hex,
        "platform": "python",
        "release": release,
        "exception": {"values": [{"type": "ValueError", "value": "boom", "stacktrace": {"frames": frames}}]},
    }


def commit(sha: str, author: str, *files: str, message: str = "change") -> NewCommit:
    return NewCommit(sha * 40, message, author, f"{author.lower()}@example.com", list(files))


class Releases:
    """The harness project's releases, each made an hour after the one before."""

    def __init__(self, harness: DigestHarness) -> None:
        self.harness = harness
        with harness.engine.connect() as conn:
            found = projects.get_project(conn, harness.project_id)
        assert found is not None
        self.organization_id = found.organization_id
        self.made = 0

    def make(self, version: str, *commits: NewCommit, project_id: int | None = None) -> int:
        self.made += 1
        created = self.harness.clock.now() - 100 * HOUR + self.made * HOUR
        with write_transaction(self.harness.engine) as conn:
            release_id = ensure_release(
                conn, self.organization_id, project_id or self.harness.project_id, version, created=created
            )
            set_commits(conn, self.organization_id, release_id, list(commits))
        return release_id


def suspects_of(harness: DigestHarness, issue_id: int) -> list[tuple[str, str, str]]:
    with harness.engine.connect() as conn:
        data = first_event_data(conn, PayloadCodec(), issue_id)
        return [(s.short_sha, s.author, s.file.filename) for s in suspects_of_event(conn, issue_id, data)]


def test_the_commit_that_changed_the_crashing_file_in_the_introducing_release_is_the_suspect(
    harness: DigestHarness,
) -> None:
    releases = Releases(harness)
    releases.make("old-6", commit("6", "Six", "shop/cart.py"))  # six releases back: not searched
    for n in range(5, 1, -1):
        releases.make(f"old-{n}", commit(str(n), f"Author{n}", "docs/index.md"))
    releases.make("old-1", commit("1", "Earlier", "shop/views.py"))
    releases.make(
        "v-bad",
        commit("b", "Dev", "shop/cart.py", "shop/models.py", message="second: add b, change a"),
        commit("d", "Docs", "README.md"),
    )
    releases.make("v-next", commit("e", "After", "shop/cart.py"))  # later than the issue's release
    error = app_error("v-bad", "shop/views.py", "shop/cart.py")
    harness.send(error)
    issue_id = harness.issue_of(error["event_id"])
    assert suspects_of(harness, issue_id) == [
        ("bbbbbbb", "Dev", "shop/cart.py"),
        ("1111111", "Earlier", "shop/views.py"),
    ]
    with harness.engine.connect() as conn:
        data = first_event_data(conn, PayloadCodec(), issue_id)
        assert data is not None
        assert top_suspect(conn, issue_id, data) == "bbbbbbb by Dev: 'second: add b, change a'"


def test_releases_of_other_projects_are_not_searched(harness: DigestHarness) -> None:
    releases = Releases(harness)
    with write_transaction(harness.engine) as conn:
        other = projects.create_project(
            conn, releases.organization_id, "admin", "python", DEFAULT_CONFIG_ID
        ).id
    releases.make("admin-1", commit("a", "Admin", "shop/cart.py"), project_id=other)
    releases.make("shop-1", commit("c", "Dev", "shop/other.py"))
    error = app_error("shop-1", "shop/cart.py")
    harness.send(error)
    assert suspects_of(harness, harness.issue_of(error["event_id"])) == []


def test_the_first_event_decides_and_the_oldest_left_stands_in_when_it_is_gone(
    harness: DigestHarness,
) -> None:
    releases = Releases(harness)
    releases.make("v1", commit("a", "Alice", "shop/cart.py"), commit("b", "Bob", "shop/pay.py"))
    first = app_error("v1", "shop/cart.py")
    harness.send(first)
    harness.clock.advance(60)
    second = app_error("v1", "shop/pay.py")
    harness.send(second)
    issue_id = harness.issue_of(first["event_id"])
    assert harness.issue_of(second["event_id"]) == issue_id
    assert [author for _, author, _ in suspects_of(harness, issue_id)] == ["Alice"]
    with write_transaction(harness.engine) as conn:
        conn.execute(delete(event).where(event.c.event_id == first["event_id"]))
    assert [author for _, author, _ in suspects_of(harness, issue_id)] == ["Bob"]


def test_an_issue_without_a_first_release_has_no_suspect(harness: DigestHarness) -> None:
    Releases(harness).make("v1", commit("a", "Alice", "shop/cart.py"))
    no_release = app_error("v1", "shop/cart.py")
    del no_release["release"]
    harness.send(no_release)
    assert suspects_of(harness, harness.issue_of(no_release["event_id"])) == []


def test_file_names_with_like_wildcards_match_only_themselves(harness: DigestHarness) -> None:
    Releases(harness).make("v1", commit("a", "Alice", "shop/c_rt.py"), commit("b", "Bob", "shop/100%.py"))
    error = app_error("v1", "shop/cart.py", "shop/100%.py")
    harness.send(error)
    assert [author for _, author, _ in suspects_of(harness, harness.issue_of(error["event_id"]))] == ["Bob"]


def test_an_alert_notification_names_the_suspect_commit(harness: DigestHarness) -> None:
    """The default "new issue" rule fires on the first event; its message carries the suspect."""
    Releases(harness).make(
        "v1",
        commit("7", "Dev Person", "shop/cart.py", message="second: add b, change a\n\nwhy it changed"),
    )
    harness.send(app_error("v1", "shop/cart.py"))
    harness.send(app_error("v2", "shop/cart.py"))  # no new issue, no notification
    with harness.engine.connect() as conn:
        messages = [orjson.loads(row.message) for row in conn.execute(select(notification))]
    assert [m["suspect_commit"] for m in messages] == ["7777777 by Dev Person: 'second: add b, change a'"]
    assert Notification.from_json(messages[0]).suspect_commit == messages[0]["suspect_commit"]


def test_a_notification_without_a_suspect_says_none(harness: DigestHarness) -> None:
    harness.send(app_error("v1", "shop/cart.py"))
    with harness.engine.connect() as conn:
        messages = [orjson.loads(row.message) for row in conn.execute(select(notification))]
    assert [m["suspect_commit"] for m in messages] == [None]
