"""Issues over `/api/0/`: the project and organization lists with the UI's search syntax, Sentry's
issue shape (count a string, userCount an integer, stats), one issue's detail, changes through
PUT (only the fields sent, `muted` for ignored, snooze details, assignment), bulk updates by `?id=`
or by search, and deletion; on a running `shoal run` with events sent through ingest."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import projects, teams, users
from shoal.store.db import write_transaction
from tests.api.client import Api, create_token, items, links, record
from tests.support.events import python_error, send_and_wait
from tests.support.server import RunningShoal, start_shoal
from tests.support.ui_issues import issue_of_event, issue_state

ISSUES = "projects/default/my-project/issues/"
ORG_ISSUES = "organizations/default/issues/"


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("issues-api") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(shoal: RunningShoal) -> Api:
    scopes = "org:read project:read event:read event:write event:admin"
    return Api(shoal, create_token(shoal, "--scopes", scopes))


def new_issue(shoal: RunningShoal, times: int = 1, **fields: Any) -> int:
    """An issue of its own (a function name no other test uses), seen `times` times."""
    function = f"step_{uuid.uuid4().hex[:8]}"
    event_ids = [send_and_wait(shoal, {**python_error("KeyError", function), **fields}) for _ in range(times)]
    return issue_of_event(shoal, event_ids[0])


def listed(api: Api, path: str) -> dict[str, dict[str, Any]]:
    return {issue["id"]: issue for issue in items(api.get(path))}


# ------------------------------------------------------------------------------------ the lists


def test_an_issue_is_listed_in_sentrys_shape(shoal: RunningShoal, api: Api) -> None:
    issue_id = new_issue(shoal, times=2, user={"id": "7"}, release="shop@1.0")
    reply = api.get(ISSUES)
    assert reply.status == 200
    issue = listed(api, ISSUES)[str(issue_id)]
    assert (issue["count"], issue["userCount"]) == ("2", 1)
    assert issue["shortId"].startswith("MY-PROJECT-")
    assert issue["title"] == "KeyError: peer gone"
    assert issue["status"] == "unresolved" and issue["substatus"] == "new" and issue["statusDetails"] == {}
    assert issue["project"] == {
        "id": str(shoal.project_id),
        "name": "my-project",
        "slug": "my-project",
        "platform": "python",
    }
    assert issue["permalink"] == f"{shoal.url}/issues/{issue_id}/"
    assert issue["assignedTo"] is None and issue["numComments"] == 0
    assert issue["metadata"]["type"] == "KeyError"
    assert issue["firstSeen"].endswith("Z") and issue["lastSeen"] >= issue["firstSeen"]
    day = issue["stats"]["24h"]
    assert len(day) == 24 and day[-1][1] == 2 and sum(count for _, count in day) == 2
    assert day[1][0] - day[0][0] == 3600
    assert int(reply.headers["x-hits"]) >= 1


def test_stats_periods(shoal: RunningShoal, api: Api) -> None:
    issue_id = str(new_issue(shoal))
    fortnight = listed(api, f"{ISSUES}?statsPeriod=14d")[issue_id]["stats"]
    assert list(fortnight) == ["14d"] and len(fortnight["14d"]) == 14 and fortnight["14d"][-1][1] == 1
    assert "stats" not in listed(api, f"{ISSUES}?statsPeriod=")[issue_id]
    wrong = api.get(f"{ISSUES}?statsPeriod=1h")
    assert (wrong.status, wrong.json()) == (
        400,
        {"detail": "Invalid stats_period. Valid choices are '', '24h', and '14d'"},
    )


def test_without_a_query_the_list_is_the_unresolved_issues_and_an_empty_query_is_all(
    shoal: RunningShoal, api: Api
) -> None:
    resolved = str(new_issue(shoal))
    assert api.put(f"issues/{resolved}/", {"status": "resolved"}).status == 200
    assert resolved not in listed(api, ISSUES)
    assert resolved in listed(api, f"{ISSUES}?query=")
    assert resolved in listed(api, f"{ISSUES}?query=is:resolved")


def test_the_list_searches_with_the_uis_syntax(shoal: RunningShoal, api: Api) -> None:
    tagged = str(new_issue(shoal, tags={"shop": "berlin"}, environment="staging", level="warning"))
    other = str(new_issue(shoal))
    found = listed(api, f"{ISSUES}?query=shop:berlin%20level:warning")
    assert tagged in found and other not in found
    assert tagged in listed(api, f"{ISSUES}?environment=staging")
    assert tagged not in listed(api, f"{ISSUES}?environment=production")
    bad = api.get(f"{ISSUES}?query=is:sleeping")
    assert bad.status == 400
    assert str(record(bad)["detail"]).startswith("Error parsing search query: ")


def test_a_short_id_lookup_answers_that_issue_alone(shoal: RunningShoal, api: Api) -> None:
    issue_id = str(new_issue(shoal))
    issue = listed(api, ISSUES)[issue_id]
    hit = api.get(f"{ISSUES}?shortIdLookup=1&query={issue['shortId']}")
    assert hit.headers.get("x-sentry-direct-hit") == "1"
    assert [found["id"] for found in items(hit)] == [issue["id"]]
    assert api.get(f"{ISSUES}?query={issue['shortId']}").headers.get("x-sentry-direct-hit") is None


def test_the_list_is_paged_with_links(shoal: RunningShoal, api: Api) -> None:
    for _ in range(3):
        new_issue(shoal)
    seen: list[str] = []
    path = f"{ISSUES}?query=&per_page=2"
    while True:
        reply = api.get(path)
        seen += [issue["id"] for issue in items(reply)]
        following = links(reply)["next"]
        if following["results"] != "true":
            break
        path = following["url"]
    assert len(seen) == len(set(seen)) == int(reply.headers["x-hits"])


def test_the_organization_list_narrows_to_projects(shoal: RunningShoal, api: Api) -> None:
    issue_id = str(new_issue(shoal))
    assert issue_id in listed(api, ORG_ISSUES)
    assert issue_id in listed(api, f"{ORG_ISSUES}?project={shoal.project_id}")
    assert issue_id in listed(api, f"{ORG_ISSUES}?project=-1")
    assert api.get(f"{ORG_ISSUES}?project=999999").status == 403
    assert api.get(f"{ORG_ISSUES}?project=abc").status == 400
    assert api.get("organizations/nope/issues/").status == 404


def test_a_members_token_sees_only_the_issues_of_projects_their_teams_allow(shoal: RunningShoal) -> None:
    issue_id = str(new_issue(shoal))
    email = f"member-{uuid.uuid4().hex[:6]}@example.com"
    with write_transaction(shoal.engine) as conn:
        member = users.create_user(conn, email, "a long enough password")
        users.add_membership(conn, 1, member.id, "member")
        closed = projects.create_project(
            conn, 1, f"Closed {uuid.uuid4().hex[:4]}", "python", DEFAULT_CONFIG_ID
        )
        team = teams.create_team(conn, 1, f"Owners {uuid.uuid4().hex[:4]}")
        teams.add_project_team(conn, closed.id, team.id)
    theirs = Api(shoal, create_token(shoal, "--user", email))
    assert issue_id in listed(theirs, ORG_ISSUES)
    assert theirs.get(f"{ORG_ISSUES}?project={closed.id}").status == 403
    assert theirs.get(f"projects/default/{closed.slug}/issues/").status == 403


# ------------------------------------------------------------------------------------ one issue


def test_the_detail_has_the_activity_and_both_paths_answer(shoal: RunningShoal, api: Api) -> None:
    issue_id = new_issue(shoal, release="shop@2.0")
    detail = record(api.get(f"organizations/default/issues/{issue_id}/"))
    assert detail == record(api.get(f"issues/{issue_id}/"))
    assert detail["firstRelease"] == {"version": "shop@2.0", "shortVersion": "shop@2.0"}
    assert [entry["type"] for entry in detail["activity"]] == ["first_seen"]
    assert len(detail["stats"]["24h"]) == 24 and len(detail["stats"]["30d"]) == 30
    assert api.get(f"organizations/other/issues/{issue_id}/").status == 404
    assert api.get("issues/99999999/").status == 404


def test_put_changes_only_the_fields_sent(shoal: RunningShoal, api: Api) -> None:
    issue_id = new_issue(shoal)
    path = f"issues/{issue_id}/"
    resolved = record(api.put(path, {"status": "resolved", "statusDetails": {"inRelease": "shop@3.0"}}))
    assert (resolved["status"], resolved["substatus"], resolved["statusDetails"]) == (
        "resolved",
        None,
        {"inRelease": "shop@3.0"},
    )
    assigned = record(api.put(path, {"assignedTo": "Admin@Example.com"}))
    assert assigned["status"] == "resolved"
    assert assigned["assignedTo"] == {
        "type": "user",
        "id": "1",
        "name": "admin@example.com",
        "email": "admin@example.com",
    }
    flagged = record(api.put(path, {"isBookmarked": True}))
    assert flagged["isBookmarked"] is True and flagged["assignedTo"] is not None
    cleared = record(api.put(path, {"assignedTo": None}))
    assert cleared["assignedTo"] is None and cleared["status"] == "resolved"
    reopened = record(api.put(path, {"status": "unresolved"}))
    assert (reopened["status"], reopened["substatus"]) == ("unresolved", "ongoing")
    kinds = [entry["type"] for entry in reopened["activity"]]
    assert kinds == ["set_unresolved", "unassigned", "assigned", "set_resolved_in_release", "first_seen"]


def test_muted_is_ignored_and_snooze_details_are_kept(shoal: RunningShoal, api: Api) -> None:
    issue_id = new_issue(shoal)
    muted = record(api.put(f"issues/{issue_id}/", {"status": "muted", "snoozeDuration": None}))
    assert (muted["status"], muted["substatus"], muted["statusDetails"]) == (
        "ignored",
        "archived_forever",
        {},
    )
    snoozed = record(
        api.put(
            f"issues/{issue_id}/",
            {
                "status": "ignored",
                "statusDetails": {"ignoreCount": 100, "ignoreWindow": 60, "ignoreDuration": 30},
            },
        )
    )
    assert snoozed["substatus"] == "archived_until_condition_met"
    details = snoozed["statusDetails"]
    assert (details["ignoreCount"], details["ignoreWindow"], details["ignoreUserCount"]) == (100, 60, None)
    assert details["ignoreUntil"].endswith("Z")
    assert issue_state(shoal, issue_id) == ("ignored", "archived_until_condition_met")


def test_resolved_in_the_next_release(shoal: RunningShoal, api: Api) -> None:
    issue_id = new_issue(shoal, release="shop@4.0")
    answer = record(api.put(f"issues/{issue_id}/", {"status": "resolvedInNextRelease"}))
    assert (answer["status"], answer["statusDetails"]) == ("resolved", {"inNextRelease": True})
    assert answer["activity"][0]["type"] == "set_resolved_in_next_release"


def test_a_body_that_cannot_be_used_is_a_400_naming_the_field(shoal: RunningShoal, api: Api) -> None:
    issue_id = new_issue(shoal)
    path = f"issues/{issue_id}/"
    cases = [
        ({"status": "closed"}, {"status": ['"closed" is not a valid choice.']}),
        (
            {"status": "ignored", "statusDetails": {"ignoreCount": 0}},
            {"statusDetails.ignoreCount": ["Must be a whole number from 1 to 1,000,000,000."]},
        ),
        ({"status": "ignored", "statusDetails": "soon"}, {"statusDetails": ["Must be an object."]}),
        ({"hasSeen": "yes"}, {"hasSeen": ["Must be a valid boolean."]}),
        ({"assignedTo": "nobody@example.com"}, {"assignedTo": ["Cannot assign to non-team member"]}),
    ]
    for body, errors in cases:
        reply = api.put(path, body)
        assert (reply.status, reply.json()) == (400, errors), body
    assert issue_state(shoal, issue_id)[0] == "unresolved"
    assert api.put(path, {"merge": 1}).status == 400


def test_deleting_needs_event_admin_and_answers_202(shoal: RunningShoal, api: Api) -> None:
    issue_id = new_issue(shoal)
    writer = Api(shoal, create_token(shoal, "--scopes", "event:read event:write"))
    assert writer.delete(f"issues/{issue_id}/").status == 403
    assert api.delete(f"organizations/default/issues/{issue_id}/").status == 202
    assert api.get(f"issues/{issue_id}/").status == 404


# ---------------------------------------------------------------------------------------- bulk


def test_bulk_update_by_id_answers_what_was_set(shoal: RunningShoal, api: Api) -> None:
    first, second = new_issue(shoal), new_issue(shoal)
    reply = api.put(f"{ISSUES}?id={first}&id={second}", {"status": "resolved"})
    assert (reply.status, reply.json()) == (
        200,
        {"status": "resolved", "statusDetails": {}, "substatus": None},
    )
    assert issue_state(shoal, first)[0] == issue_state(shoal, second)[0] == "resolved"
    assigned = record(api.put(f"{ORG_ISSUES}?id={first}", {"assignedTo": "admin@example.com"}))
    assert assigned == {
        "assignedTo": {"type": "user", "id": "1", "name": "admin@example.com", "email": "admin@example.com"}
    }


def test_bulk_update_leaves_other_projects_issues_alone(shoal: RunningShoal, api: Api) -> None:
    with write_transaction(shoal.engine) as conn:
        other = projects.create_project(conn, 1, f"Other {uuid.uuid4().hex[:4]}", "python", DEFAULT_CONFIG_ID)
    mine = new_issue(shoal)
    reply = api.put(f"projects/default/{other.slug}/issues/?id={mine}", {"status": "resolved"})
    assert reply.status == 204
    assert issue_state(shoal, mine)[0] == "unresolved"


def test_bulk_update_without_ids_changes_what_the_search_finds(shoal: RunningShoal, api: Api) -> None:
    tag = uuid.uuid4().hex[:8]
    chosen = [new_issue(shoal, tags={"batch": tag}) for _ in range(2)]
    untouched = new_issue(shoal)
    reply = api.put(f"{ISSUES}?query=batch:{tag}", {"status": "ignored"})
    assert record(reply)["status"] == "ignored"
    assert [issue_state(shoal, i)[0] for i in chosen] == ["ignored", "ignored"]
    assert issue_state(shoal, untouched)[0] == "unresolved"
    # sentry-cli's `issues unresolve -s muted`: every ignored issue, whatever the query.
    assert api.put(f"{ISSUES}?status=muted", {"status": "unresolved"}).status == 200
    assert [issue_state(shoal, i)[0] for i in chosen] == ["unresolved", "unresolved"]
    refused = api.put(ISSUES, {"assignedTo": "admin@example.com"})
    assert (refused.status, refused.json()) == (
        400,
        {"detail": "You must specify a list of IDs for this operation"},
    )


def test_bulk_delete_needs_ids(shoal: RunningShoal, api: Api) -> None:
    doomed, kept = new_issue(shoal), new_issue(shoal)
    assert api.delete(ISSUES).status == 400
    assert api.delete(f"{ISSUES}?id={doomed}").status == 204
    assert api.get(f"issues/{doomed}/").status == 404
    assert api.get(f"issues/{kept}/").status == 200
    assert api.delete(f"{ISSUES}?id=abc").status == 400
