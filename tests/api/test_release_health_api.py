"""Release health over the API: each project of a release says `hasHealthData`, and with `?health=1`
its `healthData` in Sentry's names and units (crash-free rates in percent), from sessions sent
through real ingest and digested by a real `shoal run`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from shoal.clock import iso_utc
from shoal.store import session_stats
from tests.api.client import Api, create_token
from tests.support.http import auth_header, envelope_url, post
from tests.support.server import RunningShoal, wait_until

RELEASES = "organizations/default/releases/"
PROJECT_RELEASES = "projects/default/my-project/releases/"


def session(did: str, status: str, release: str, errors: int = 0) -> dict[str, Any]:
    """One request-mode session update as sentry-sdk sends it: started and ended at once."""
    update: dict[str, Any] = {
        "sid": str(uuid.uuid4()),
        "did": did,
        "init": True,
        "started": iso_utc(time.time() - 30),
        "status": status,
        "attrs": {"release": release, "environment": "production"},
    }
    if errors:
        update["errors"] = errors
    return update


def send_sessions(shoal: RunningShoal, updates: list[dict[str, Any]]) -> None:
    lines = [b"{}"]
    for update in updates:
        body = orjson.dumps(update)
        lines += [orjson.dumps({"type": "session", "length": len(body)}), body]
    reply = post(
        envelope_url(shoal.url, shoal.project_id), b"\n".join(lines) + b"\n", auth_header(shoal.public_key)
    )
    assert reply.status == 200, reply.body


def wait_for_sessions(shoal: RunningShoal, release: str, started: int) -> None:
    def counted() -> bool:
        with shoal.engine.connect() as conn:
            found = session_stats.releases_health(conn, shoal.project_id, [release]).get(release)
        return found is not None and found.started == started

    wait_until(counted, 30, f"{started} sessions of {release}")


def ten_sessions(release: str) -> list[dict[str, Any]]:
    """Ten sessions of five users: 3 crashed (users 0 and 1), 2 errored, 5 healthy."""
    statuses = {0: "crashed", 1: "crashed", 5: "crashed"}
    return [
        session(f"user-{i % 5}", statuses.get(i, "exited"), release, errors=1 if i in (0, 1, 2, 3, 5) else 0)
        for i in range(10)
    ]


def project_of(release: Any) -> dict[str, Any]:
    assert isinstance(release, dict)
    (shown,) = release["projects"]
    assert isinstance(shown, dict)
    return shown


def test_health_1_gives_each_project_its_health_data(shoal_on_each_store: RunningShoal) -> None:
    shoal = shoal_on_each_store
    api = Api(shoal, create_token(shoal))
    release, quiet = f"shop@{uuid.uuid4().hex[:6]}", f"quiet@{uuid.uuid4().hex[:6]}"
    for version in (release, quiet):
        assert api.post(RELEASES, {"version": version, "projects": ["my-project"]}).status == 201
    send_sessions(shoal, ten_sessions(release))
    wait_for_sessions(shoal, release, 10)

    detail = api.get(f"{RELEASES}{release}/?health=1")
    assert detail.status == 200
    healthy = project_of(detail.json())
    assert healthy["hasHealthData"] is True
    assert healthy["healthData"] == {
        "crashFreeSessions": 70.0,
        "crashFreeUsers": 60.0,
        "sessionsCrashed": 3,
        "sessionsErrored": 2,
        "totalSessions": 10,
        "totalUsers": 5,
        "hasHealthData": True,
    }

    listed = api.get(f"{PROJECT_RELEASES}?health=1")
    assert listed.status == 200
    releases = listed.json()
    assert isinstance(releases, list)
    by_version = {r["version"]: project_of(r) for r in releases}
    assert by_version[release]["healthData"] == healthy["healthData"]
    assert by_version[quiet]["hasHealthData"] is False
    assert by_version[quiet]["healthData"] == {
        "crashFreeSessions": None,
        "crashFreeUsers": None,
        "sessionsCrashed": 0,
        "sessionsErrored": 0,
        "totalSessions": 0,
        "totalUsers": 0,
        "hasHealthData": False,
    }

    plain = project_of(api.get(f"{RELEASES}{release}/").json())
    assert plain["hasHealthData"] is True
    assert "healthData" not in plain  # only asked for
