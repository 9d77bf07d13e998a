"""Events over `/api/0/`: an issue's events (short and full, latest, oldest, by id), a project's,
keyset pages that stay put while events arrive, the `eventids` lookup, and Sentry's event shape
(`entries`, `tags` as {key, value}); on a running `shoal run` with events sent through ingest."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import projects
from shoal.store.db import write_transaction
from tests.api.client import Api, create_token, items, links, record
from tests.support.events import python_error, send_and_wait
from tests.support.http import auth_header, envelope_url, event_envelope, post
from tests.support.server import RunningShoal, start_shoal
from tests.support.ui_issues import issue_of_event

RICH = {
    "user": {"id": "7", "email": "buyer@example.com"},
    "tags": {"shop": "berlin"},
    "release": "shop@1.0",
    "environment": "production",
    "breadcrumbs": {
        "values": [{"category": "cart", "message": "added 2 items", "timestamp": 1_790_000_000.5}]
    },
    "request": {
        "url": "https://shop.example.com/cart?page=2",
        "method": "POST",
        "headers": {"User-Agent": "curl/8", "Accept": "*/*"},
        "query_string": "page=2",
    },
}


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("events-api") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(shoal: RunningShoal) -> Api:
    return Api(shoal, create_token(shoal))


def events_of_new_issue(shoal: RunningShoal, count: int, **fields: Any) -> tuple[int, list[str]]:
    """An issue of its own with `count` events a second apart (oldest first); its id and theirs."""
    function = f"step_{uuid.uuid4().hex[:8]}"
    start = time.time() - count
    sent = [
        send_and_wait(shoal, {**python_error("KeyError", function), "timestamp": start + n, **fields})
        for n in range(count)
    ]
    return issue_of_event(shoal, sent[0]), sent


def test_an_issues_events_newest_first_and_the_latest_oldest_and_one_by_id(
    shoal: RunningShoal, api: Api
) -> None:
    issue_id, sent = events_of_new_issue(shoal, 3)
    listed = items(api.get(f"organizations/default/issues/{issue_id}/events/"))
    assert [event["eventID"] for event in listed] == sent[::-1]
    assert items(api.get(f"issues/{issue_id}/events/")) == listed
    assert set(listed[0]) >= {
        "id",
        "eventID",
        "groupID",
        "projectID",
        "title",
        "message",
        "dateCreated",
        "tags",
    }
    assert "entries" not in listed[0]
    assert "entries" in items(api.get(f"issues/{issue_id}/events/?full=true"))[0]

    for which, expected in (
        ("latest", sent[-1]),
        ("recommended", sent[-1]),
        ("oldest", sent[0]),
        (sent[1], sent[1]),
    ):
        event = record(api.get(f"organizations/default/issues/{issue_id}/events/{which}/"))
        assert event["eventID"] == expected, which
    middle = record(api.get(f"issues/{issue_id}/events/{sent[1]}/"))
    assert (middle["previousEventID"], middle["nextEventID"]) == (sent[0], sent[2])
    dashed = str(uuid.UUID(sent[1]))
    assert record(api.get(f"issues/{issue_id}/events/{dashed}/"))["eventID"] == sent[1]


def test_an_event_of_another_issue_or_no_event_is_a_404(shoal: RunningShoal, api: Api) -> None:
    first, (first_event,) = events_of_new_issue(shoal, 1)
    second, _ = events_of_new_issue(shoal, 1)
    assert api.get(f"issues/{second}/events/{first_event}/").status == 404
    assert api.get(f"issues/{first}/events/{'0' * 32}/").status == 404
    assert api.get(f"issues/{first}/events/not-an-id/").status == 404
    assert api.get(f"organizations/other/issues/{first}/events/").status == 404


def test_an_event_in_sentrys_shape(shoal: RunningShoal, api: Api) -> None:
    issue_id, (event_id,) = events_of_new_issue(shoal, 1, **RICH)
    event = record(api.get(f"projects/default/my-project/events/{event_id}/"))
    assert (event["id"], event["eventID"], event["groupID"]) == (event_id, event_id, str(issue_id))
    assert event["title"] == "KeyError: peer gone" and event["type"] == "error"
    assert {"key": "shop", "value": "berlin"} in event["tags"]
    assert {"key": "release", "value": "shop@1.0"} in event["tags"]
    assert event["user"] == {"id": "7", "email": "buyer@example.com"}
    assert event["release"] == {"version": "shop@1.0", "shortVersion": "shop@1.0"}
    assert event["environment"] == "production"
    assert event["dateCreated"].endswith("Z") and event["dateReceived"].endswith("Z")
    assert len(event["fingerprints"]) >= 1
    entries = {entry["type"]: entry["data"] for entry in event["entries"]}
    assert list(entries) == ["exception", "breadcrumbs", "request"]
    assert entries["exception"]["values"][0]["type"] == "KeyError"
    crumb = entries["breadcrumbs"]["values"][0]
    assert (crumb["category"], crumb["message"], crumb["timestamp"]) == (
        "cart",
        "added 2 items",
        "2026-09-21T14:13:20.500000Z",
    )
    request = entries["request"]
    assert (request["method"], request["url"]) == ("POST", "https://shop.example.com/cart?page=2")
    assert ["User-Agent", "curl/8"] in request["headers"]
    assert request["query"] == [["page", "2"]]


def send_to(shoal: RunningShoal, project_id: int, key: str, event: dict[str, Any]) -> str:
    reply = post(
        envelope_url(shoal.url, project_id), event_envelope(event, event["event_id"]), auth_header(key)
    )
    assert reply.status == 200
    shoal.wait_for_event(event["event_id"])
    return str(event["event_id"])


def test_a_projects_events_are_paged_by_keyset_and_stay_put_while_events_arrive(
    shoal: RunningShoal, api: Api
) -> None:
    with write_transaction(shoal.engine) as conn:
        project = projects.create_project(
            conn, 1, f"Paged {uuid.uuid4().hex[:4]}", "python", DEFAULT_CONFIG_ID
        )
        key = projects.first_enabled_key(conn, project.id)
    assert key is not None
    sent = [send_to(shoal, project.id, key, python_error("KeyError", f"paged_{n}")) for n in range(5)]
    path = f"projects/default/{project.slug}/events/?per_page=2"
    first = api.get(path)
    seen = [event["eventID"] for event in items(first)]
    reply = first
    while links(reply)["next"]["results"] == "true":
        send_to(shoal, project.id, key, python_error("KeyError", f"late_{uuid.uuid4().hex[:6]}"))
        reply = api.get(links(reply)["next"]["url"])
        seen += [event["eventID"] for event in items(reply)]
    assert seen == sent[::-1]
    second = api.get(links(first)["next"]["url"])
    back = api.get(links(second)["previous"]["url"])
    assert items(back) == items(first)


def test_an_event_id_is_found_in_its_organization(shoal: RunningShoal, api: Api) -> None:
    issue_id, (event_id,) = events_of_new_issue(shoal, 1)
    found = record(api.get(f"organizations/default/eventids/{event_id}/"))
    assert {k: found[k] for k in ("organizationSlug", "projectSlug", "groupId", "eventId")} == {
        "organizationSlug": "default",
        "projectSlug": "my-project",
        "groupId": str(issue_id),
        "eventId": event_id,
    }
    assert found["event"]["eventID"] == event_id
    assert api.get(f"organizations/default/eventids/{'f' * 32}/").status == 404
    slug = f"o{uuid.uuid4().hex[:6]}"
    with write_transaction(shoal.engine) as conn:
        projects.create_organization(conn, slug, "Elsewhere")
    elsewhere = Api(shoal, create_token(shoal, "--org", slug))
    assert elsewhere.get(f"organizations/{slug}/eventids/{event_id}/").status == 404
    assert elsewhere.get(f"organizations/default/eventids/{event_id}/").status == 404
