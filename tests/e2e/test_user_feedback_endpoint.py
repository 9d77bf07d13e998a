"""Sentry's deprecated `POST /api/0/projects/{org}/{project}/user-feedback/` against a real `shoal
run`, as an old SDK's dialog or a script calls it: with the DSN (`Authorization: DSN …`) and with a
token, answered 200 with the report in Sentry's shape, then digested like a `user_report` item —
linked to its error's issue and shown on the issue page. Bad bodies are 400 naming the field, wrong
credentials 401 or 403, and nothing is stored for them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from shoal.bootstrap import default_organization_id
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import projects
from shoal.store.db import write_transaction
from shoal.store.schema import event, user_feedback
from tests.api.client import create_token
from tests.support.events import python_error, send_and_wait
from tests.support.form_client import text_of
from tests.support.http import Reply, post
from tests.support.server import RunningShoal, start_shoal, wait_until
from tests.support.web_client import WebClient

PATH = "/api/0/projects/default/my-project/user-feedback/"


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("user-feedback-endpoint") / "data")
    yield server
    server.stop()


def submit(shoal: RunningShoal, body: Any, authorization: str | None, path: str = PATH) -> Reply:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return post(f"{shoal.url}{path}", orjson.dumps(body), headers)


def report(event_id: str, comments: str = "It broke at checkout") -> dict[str, str]:
    return {"event_id": event_id, "name": "Jane Doe", "email": "jane@example.com", "comments": comments}


def stored_reports(shoal: RunningShoal) -> dict[str, tuple[str, int | None]]:
    with shoal.engine.connect() as conn:
        rows = conn.execute(
            select(user_feedback.c.event_id, user_feedback.c.message, user_feedback.c.issue_id)
        )
        return {row.event_id: (row.message, row.issue_id) for row in rows}


def wait_for_report(shoal: RunningShoal, event_id: str) -> tuple[str, int | None]:
    wait_until(lambda: event_id in stored_reports(shoal), 30, f"the report about {event_id}")
    return stored_reports(shoal)[event_id]


def issue_of(shoal: RunningShoal, event_id: str) -> int:
    with shoal.engine.connect() as conn:
        return int(conn.execute(select(event.c.issue_id).where(event.c.event_id == event_id)).scalar_one())


def issue_page(shoal: RunningShoal, issue_id: int) -> str:
    client = WebClient(shoal)
    client.log_in()
    return text_of(client.get(f"/issues/{issue_id}/"))


def test_a_report_sent_with_the_dsn_shows_on_its_issue(shoal: RunningShoal) -> None:
    error = send_and_wait(shoal, python_error("KeyError", "checkout"))
    reply = submit(shoal, report(error), f"DSN {shoal.dsn}")
    assert reply.status == 200, reply.body
    answer = reply.json()
    assert isinstance(answer, dict)
    assert answer["eventID"] == answer["id"] == error
    assert answer["event"] == {"id": error, "eventID": error}
    assert (answer["name"], answer["email"], answer["comments"]) == (
        "Jane Doe",
        "jane@example.com",
        "It broke at checkout",
    )
    assert answer["dateCreated"].endswith("Z")

    issue_id = issue_of(shoal, error)
    assert wait_for_report(shoal, error) == ("It broke at checkout", issue_id)
    page = issue_page(shoal, issue_id)
    assert "Jane Doe <jane@example.com>" in page
    assert "It broke at checkout" in page


def test_a_report_sent_with_a_token_is_stored_and_linked(shoal: RunningShoal) -> None:
    error = send_and_wait(shoal, python_error("TimeoutError", "charge"))
    token = create_token(shoal)
    dashed = f"{error[:8]}-{error[8:12]}-{error[12:16]}-{error[16:20]}-{error[20:]}"
    reply = submit(shoal, report(dashed.upper(), "<b>Spinner</b> forever"), f"Bearer {token}")
    assert reply.status == 200, reply.body
    assert isinstance(answer := reply.json(), dict) and answer["eventID"] == error
    assert wait_for_report(shoal, error) == ("<b>Spinner</b> forever", issue_of(shoal, error))
    assert "<b>Spinner</b> forever" in issue_page(shoal, issue_of(shoal, error))  # as text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"event_id": None}, "event_id", "This field is required."),
        (
            {"event_id": "not-an-event"},
            "event_id",
            "Enter a valid event id: 32 hexadecimal digits or a UUID.",
        ),
        ({"comments": "   "}, "comments", "This field may not be blank."),
        ({"name": 42}, "name", "Not a valid string."),
    ],
)
def test_a_bad_report_is_a_400_naming_the_field(
    shoal: RunningShoal, change: dict[str, Any], field: str, message: str
) -> None:
    body = {**report("0" * 32), **change}
    body = {name: value for name, value in body.items() if value is not None}
    reply = submit(shoal, body, f"DSN {shoal.dsn}")
    assert reply.status == 400
    assert reply.json() == {field: [message]}


def test_a_body_that_is_not_an_object_is_a_400(shoal: RunningShoal) -> None:
    reply = submit(shoal, ["event_id"], f"DSN {shoal.dsn}")
    assert reply.status == 400


def test_wrong_credentials_are_refused_and_nothing_is_stored(shoal: RunningShoal) -> None:
    before = feedback_total(shoal)
    body = report("1" * 32)
    unknown_key = shoal.dsn.replace(shoal.public_key, "f" * 32)
    assert submit(shoal, body, None).status == 401
    assert submit(shoal, body, f"DSN {unknown_key}").status == 401
    assert submit(shoal, body, "DSN not a dsn").status == 401
    assert submit(shoal, body, "Bearer sntryu_not_a_token").status == 401

    with write_transaction(shoal.engine) as conn:
        other = projects.create_project(
            conn, default_organization_id(conn), "Other", "python", DEFAULT_CONFIG_ID
        )
        other_key = projects.create_key(conn, other.id, "Default")
    other_dsn = projects.dsn(shoal.url, other_key, other.id)
    refused = submit(shoal, body, f"DSN {other_dsn}")  # the other project's DSN, this project's URL
    assert refused.status == 403
    assert refused.json() == {"detail": "You do not have permission to perform this action."}
    assert (
        submit(shoal, body, f"DSN {shoal.dsn}", "/api/0/projects/default/nowhere/user-feedback/").status
        == 404
    )

    read_only = create_token(shoal, "--scopes", "project:read")
    assert submit(shoal, body, f"Bearer {read_only}").status == 403
    # A report accepted after the refusals is digested after anything they could have spooled.
    assert submit(shoal, report("2" * 32), f"DSN {shoal.dsn}").status == 200
    wait_for_report(shoal, "2" * 32)
    assert feedback_total(shoal) == before + 1


def feedback_total(shoal: RunningShoal) -> int:
    with shoal.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(user_feedback)).scalar_one())
