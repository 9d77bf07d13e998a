"""Cron monitors over `/api/0/` against a real `shoal run`, in Sentry's shape: the organization's
monitors with their environments, one monitor, its check-ins newest first and paged, and what a
token may not see (a scope it lacks: 403; a project its user's teams keep from it: absent, 404)."""

from __future__ import annotations

import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from shoal.crons.schedule import MonitorConfig
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import monitors, projects, teams, users
from shoal.store.db import write_transaction
from tests.api.client import Api, create_token, items, links, record
from tests.support.server import RunningShoal, start_shoal, wait_until

MONITORS = "organizations/default/monitors/"


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("monitors-api") / "data")
    yield server
    server.stop()


def check_in(shoal: RunningShoal, slug: str, query: str) -> None:
    url = f"{shoal.url}/api/{shoal.project_id}/cron/{slug}/{shoal.public_key}/?{query}"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 202


def stored_check_ins(shoal: RunningShoal, slug: str) -> int:
    with shoal.engine.connect() as conn:
        found = monitors.monitor_by_slug(conn, shoal.project_id, slug)
        return monitors.check_in_count(conn, found.id) if found else 0


def test_monitors_and_their_check_ins_in_sentrys_shape(shoal: RunningShoal) -> None:
    run = uuid.uuid4()
    check_in(shoal, "db-backup", f"status=in_progress&check_in_id={run}&environment=production")
    check_in(shoal, "db-backup", f"status=ok&check_in_id={run}&duration=2.5&environment=production")
    check_in(shoal, "db-backup", "status=error&environment=staging")
    wait_until(lambda: stored_check_ins(shoal, "db-backup") == 2, 30, "two check-ins")
    api = Api(shoal, create_token(shoal))

    [listed] = [m for m in items(api.get(MONITORS)) if m["slug"] == "db-backup"]
    assert (listed["name"], listed["type"], listed["isMuted"]) == ("db-backup", "cron_job", False)
    assert listed["project"]["slug"] == "my-project"
    assert listed["config"]["schedule_type"] is None
    assert [(e["name"], e["status"]) for e in listed["environments"]] == [
        ("production", "ok"),
        ("staging", "error"),
    ]
    assert record(api.get(f"{MONITORS}db-backup/")) == listed
    assert items(api.get(f"{MONITORS}?environment=qa")) == []
    assert api.get(f"{MONITORS}no-such-job/").status == 404

    newest, oldest = items(api.get(f"{MONITORS}db-backup/checkins/"))
    assert (newest["status"], newest["environment"]) == ("error", "staging")
    assert (oldest["id"], oldest["status"], oldest["duration"]) == (str(run), "ok", 2500)
    assert [c["status"] for c in items(api.get(f"{MONITORS}db-backup/checkins/?environment=production"))] == [
        "ok"
    ]
    first = api.get(f"{MONITORS}db-backup/checkins/?per_page=1")
    assert [c["status"] for c in items(first)] == ["error"]
    following = links(first)["next"]
    assert following["results"] == "true"
    assert [c["status"] for c in items(api.get(following["url"]))] == ["ok"]


def test_a_token_sees_only_the_monitors_it_may_see(shoal: RunningShoal) -> None:
    with write_transaction(shoal.engine) as conn:
        owned = projects.create_project(conn, 1, f"Owned {uuid.uuid4().hex[:4]}", "python", DEFAULT_CONFIG_ID)
        team = teams.create_team(conn, 1, f"Ops {uuid.uuid4().hex[:4]}")
        teams.add_project_team(conn, owned.id, team.id)
        hidden = monitors.create_monitor(conn, owned.id, "secret-job", MonitorConfig(None), 0.0)
        email = f"member-{uuid.uuid4().hex[:6]}@example.com"
        made = users.create_user(conn, email, "a long enough password")
        users.add_membership(conn, 1, made.id, "member")
    member = Api(shoal, create_token(shoal, "--user", email))
    assert hidden.slug not in {m["slug"] for m in items(member.get(MONITORS))}
    assert member.get(f"{MONITORS}secret-job/").status == 404
    owner = Api(shoal, create_token(shoal))
    assert record(owner.get(f"{MONITORS}secret-job/?project={owned.id}"))["project"]["slug"] == owned.slug
    assert Api(shoal, create_token(shoal, "--scopes", "event:read")).get(MONITORS).status == 403
    assert Api(shoal, None).get(MONITORS).status == 401
