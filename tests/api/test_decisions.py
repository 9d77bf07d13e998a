"""An issue's alert decision log over `/api/0/issues/{id}/alert-decisions/` (and under its
organization): newest first, Sentry-shaped, paged with Link cursors that stay put as rows arrive."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shoal.store.alert_state import Decision, record_decisions
from shoal.store.db import write_transaction
from shoal.store.schema import event
from tests.api.client import RULES, Api, create_token, items, links, record, without_rules
from tests.api.test_tokens import add_other_organization
from tests.support.events import python_error, send_and_wait
from tests.support.server import RunningShoal

FIRST_SEEN = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"


def issue_with_rule(server: RunningShoal, api: Api) -> tuple[int, str, dict[str, Any]]:
    """An issue made by a real event while the project had no rules (so the digest logged nothing
    for it), and then a rule: (issue id, event id, rule)."""
    event_id = send_and_wait(without_rules(api).server, python_error("TimeoutError", "fetch"))
    with server.engine.connect() as conn:
        issue_id = conn.execute(select(event.c.issue_id).where(event.c.event_id == event_id)).scalar_one()
    rule = record(api.post(RULES, {"name": "New issues", "conditions": [{"id": FIRST_SEEN}]}))
    return int(issue_id), event_id, rule


def log(server: RunningShoal, rule_id: int, issue_id: int, event_id: str, count: int) -> None:
    decisions = [
        Decision(
            rule_id,
            issue_id,
            event_id,
            n == 0,
            "first seen" if n == 0 else f"no trigger {n}",
            1_800_000_000.0 + n,
        )
        for n in range(count)
    ]
    with write_transaction(server.engine) as conn:
        record_decisions(conn, decisions)


def test_the_decisions_of_an_issue_come_newest_first_in_sentrys_shape(
    shoal_on_each_store: RunningShoal,
) -> None:
    server = shoal_on_each_store
    api = Api(server, create_token(server))
    issue_id, event_id, rule = issue_with_rule(server, api)
    log(server, int(rule["id"]), issue_id, event_id, 3)
    reply = api.get(f"issues/{issue_id}/alert-decisions/")
    assert reply.status == 200, reply.body
    body = items(reply)
    assert [d["reason"] for d in body] == ["no trigger 2", "no trigger 1", "first seen"]
    assert body[-1] == {
        "id": body[-1]["id"],
        "rule": {"id": rule["id"], "name": "New issues"},
        "eventID": event_id,
        "fired": True,
        "reason": "first seen",
        "dateCreated": "2027-01-15T08:00:00Z",
    }
    assert all(isinstance(d["id"], str) and d["fired"] is False for d in body[:2])
    under_org = api.get(f"organizations/default/issues/{issue_id}/alert-decisions/")
    assert under_org.json() == body


def test_pages_follow_the_link_header_both_ways_and_hold_still_while_decisions_arrive(
    shoal: RunningShoal,
) -> None:
    api = Api(shoal, create_token(shoal))
    issue_id, event_id, rule = issue_with_rule(shoal, api)
    log(shoal, int(rule["id"]), issue_id, event_id, 5)
    first = api.get(f"issues/{issue_id}/alert-decisions/?per_page=2")
    assert [d["reason"] for d in items(first)] == ["no trigger 4", "no trigger 3"]
    pages = links(first)
    assert (pages["previous"]["results"], pages["next"]["results"]) == ("false", "true")
    assert pages["next"]["url"].startswith(f"{shoal.url}/api/0/issues/{issue_id}/alert-decisions/?")
    log(shoal, int(rule["id"]), issue_id, event_id, 1)  # a newer decision: the next page must not shift
    seen, reply = [], first
    while links(reply)["next"]["results"] == "true":
        reply = api.get(links(reply)["next"]["url"])
        seen += [d["reason"] for d in items(reply)]
    assert seen == ["no trigger 2", "no trigger 1", "first seen"]
    back = api.get(links(reply)["previous"]["url"])
    assert [d["reason"] for d in items(back)] == ["no trigger 2", "no trigger 1"]
    assert api.get(f"issues/{issue_id}/alert-decisions/?cursor=nonsense").status == 400


def test_decisions_are_out_of_reach_for_other_organizations_and_under_the_wrong_one(
    shoal: RunningShoal,
) -> None:
    api = Api(shoal, create_token(shoal))
    issue_id, event_id, rule = issue_with_rule(shoal, api)
    log(shoal, int(rule["id"]), issue_id, event_id, 1)
    add_other_organization(shoal)
    theirs = Api(shoal, create_token(shoal, "--user", "other@example.com"))
    assert theirs.get(f"issues/{issue_id}/alert-decisions/").status == 404
    assert theirs.get(f"organizations/other/issues/{issue_id}/alert-decisions/").status == 404
    assert api.get(f"organizations/other/issues/{issue_id}/alert-decisions/").status == 404
    assert api.get("issues/999999/alert-decisions/").status == 404
    assert Api(shoal, None).get(f"issues/{issue_id}/alert-decisions/").status == 401
    assert (
        Api(shoal, create_token(shoal, "--scopes", "org:read"))
        .get(f"issues/{issue_id}/alert-decisions/")
        .status
        == 403
    )
