"""Every form the UI accepts refuses a POST without its CSRF token: each POST route of the web app,
found by walking its routes (so a new one cannot be forgotten), with every id in its path naming
something that exists, answers 400 or 403 to a logged-in session that sends no token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from shoal.store import channels, saved_searches, teams
from shoal.store.db import write_transaction
from shoal.web.routes import create_web_app
from tests.support.events import python_error, send_and_wait
from tests.support.form_client import FormClient
from tests.support.server import RunningShoal, start_shoal


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    # Email "configured" (to a port nobody listens on), so the password-reset form is live too.
    smtp = {"SHOAL_SMTP_HOST": "127.0.0.1", "SHOAL_SMTP_PORT": "9"}
    server = start_shoal(tmp_path_factory.mktemp("csrf") / "data", extra_env=smtp)
    yield server
    server.stop()


def existing_ids(shoal: RunningShoal) -> dict[str, str]:
    """A value for each path parameter, naming something that exists."""
    send_and_wait(shoal, python_error("KeyError", "checkout"))
    with write_transaction(shoal.engine) as conn:
        team = teams.create_team(conn, 1, "Web")
        channel_id = channels.insert_channel(
            conn, 1, "hook", "webhook", config={"url": "https://example.com/hook"}, now=0.0
        )
        search_id = saved_searches.create_search(
            conn, 1, 1, name="mine", query="is:resolved", sort="date", now=0.0
        )
    return {
        "project_id": str(shoal.project_id),
        "issue_id": "1",
        "rule_id": "1",
        "organization_id": "1",
        "channel_id": str(channel_id),
        "team_id": str(team.id),
        "user_id": "1",
        "search_id": str(search_id),
        "invitation_id": "1",
        "token": "not-a-real-token",
        "event_id": "0" * 32,
        "key_id": "1",
        "monitor_id": "1",
    }


def post_routes() -> list[str]:
    paths = []
    for route in create_web_app(_no_lifespan).routes:
        if isinstance(route, Route) and not isinstance(route, Mount) and "POST" in (route.methods or ()):
            paths.append(route.path)
    return sorted(set(paths))


@asynccontextmanager
async def _no_lifespan(_app: Starlette) -> AsyncIterator[None]:
    yield


def test_every_post_route_refuses_a_form_without_its_token(shoal: RunningShoal) -> None:
    client = FormClient(shoal)
    values = existing_ids(shoal)
    refused: list[str] = []
    accepted: list[str] = []
    for path in post_routes():
        concrete = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m[1]], path)
        answer = client.post(concrete, {"name": "x", "email": "x@example.com"}, with_token=False)
        (refused if answer.status in (400, 403) else accepted).append(f"{path}: {answer.status}")
    assert accepted == [], f"accepted without a CSRF token: {accepted}"
    assert len(refused) >= 40
