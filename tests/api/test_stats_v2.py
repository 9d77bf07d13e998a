"""`GET /api/0/organizations/{org}/stats_v2/` against a real `shoal run`: Sentry's answer shape
(start, end, intervals, groups with by/totals/series), groupBy outcome, category (default rolled
into error), reason, project and key_id, the filters, statsPeriod with 1h and 1d intervals and an
explicit start/end, Sentry's refusals with its words (400), and who may count what (scopes, other
organizations, projects a member's teams keep from them)."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.outcomes import Outcome, OutcomeKey
from shoal.store import aggregates, projects, teams, users
from shoal.store.db import write_transaction
from tests.api.client import Api, create_token, record
from tests.support.events import python_error, send_and_wait
from tests.support.http import auth_header, envelope_url, event_envelope, post
from tests.support.server import RunningShoal, start_shoal, wait_until

PASSWORD = "a long enough password"
HOUR = 3600


@dataclass(frozen=True)
class Seeded:
    server: RunningShoal
    api: Api
    shop: int  # a project whose outcome rows the test wrote
    secret: int  # a project owned by a team the member is not in
    member: Api
    now_hour: int


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    server = start_shoal(tmp_path_factory.mktemp("stats-v2") / "data")
    now_hour = int(time.time() // HOUR)
    email = f"member-{uuid.uuid4().hex[:6]}@example.com"
    with write_transaction(server.engine) as conn:
        shop = projects.create_project(conn, 1, "Shop", "python", DEFAULT_CONFIG_ID).id
        secret = projects.create_project(conn, 1, "Secret", "python", DEFAULT_CONFIG_ID).id
        team = teams.create_team(conn, 1, "Vault")
        teams.add_project_team(conn, secret, team.id)
        member = users.create_user(conn, email, PASSWORD)
        users.add_membership(conn, 1, member.id, "member")
        other = projects.create_organization(conn, "other", "Other")
        projects.create_project(conn, other, "Theirs", "node", DEFAULT_CONFIG_ID)

        def add(hours_ago: int, *rows: tuple[int, str, Outcome, str, int, int]) -> None:
            counts = {OutcomeKey(p, c, o, r, k): n for p, c, o, r, k, n in rows}
            aggregates.add_outcomes(conn, now_hour - hours_ago, counts)

        add(
            2,
            (shop, "error", Outcome.ACCEPTED, "", 11, 40),
            (shop, "default", Outcome.ACCEPTED, "", 11, 2),
            (shop, "error", Outcome.FILTERED, "error-type", 11, 7),
            (shop, "error", Outcome.RATE_LIMITED, "key_quota", 12, 5),
            (shop, "transaction", Outcome.FILTERED, "health-check", 11, 9),
            (shop, "error", Outcome.CLIENT_DISCARD, "before_send", 0, 3),
            (shop, "attachment", Outcome.FILTERED, "unsupported_item", 11, 2048),  # bytes
        )
        add(30, (shop, "error", Outcome.ACCEPTED, "", 11, 100))
        add(3, (secret, "error", Outcome.ACCEPTED, "", 0, 1000))
    # One event through ingest and the digest: its accepted outcome in the default project.
    send_and_wait(server, python_error("KeyError", "checkout", "boom"))
    try:
        yield Seeded(
            server,
            Api(server, create_token(server, "--scopes", "org:read")),
            shop,
            secret,
            Api(server, create_token(server, "--user", email, "--scopes", "org:read")),
            now_hour,
        )
    finally:
        server.stop()


def stats(api: Api, status: int = 200, org: str = "default", **params: Any) -> dict[str, Any]:
    reply = api.get(
        f"organizations/{org}/stats_v2/?{urlencode({'field': 'sum(quantity)', **params}, doseq=True)}"
    )
    assert reply.status == status, (reply.status, reply.body)
    return record(reply)


def totals(answer: dict[str, Any]) -> dict[tuple[Any, ...], int]:
    return {tuple(g["by"].values()): g["totals"]["sum(quantity)"] for g in answer["groups"]}


def test_the_answer_has_sentry_s_shape(seeded: Seeded) -> None:
    answer = stats(seeded.api, groupBy="outcome", category="error", project=seeded.shop, statsPeriod="24h")
    assert set(answer) == {"start", "end", "intervals", "groups"}
    intervals = [datetime.fromisoformat(t) for t in answer["intervals"]]
    assert all(t.endswith(":00:00Z") for t in answer["intervals"])
    assert len(intervals) in (24, 25)  # widened to whole hours at both ends, as Sentry does
    assert all(b - a == (intervals[1] - intervals[0]) for a, b in itertools.pairwise(intervals))
    assert answer["start"] == answer["intervals"][0]
    assert datetime.fromisoformat(answer["end"]).timestamp() >= time.time() - 1
    for group in answer["groups"]:
        assert set(group) == {"by", "totals", "series"}
        assert len(group["series"]["sum(quantity)"]) == len(intervals)
        assert sum(group["series"]["sum(quantity)"]) == group["totals"]["sum(quantity)"]
    # default events count as errors; the row 30 hours ago is outside the period.
    assert totals(answer) == {
        ("accepted",): 42,
        ("client_discard",): 3,
        ("filtered",): 7,
        ("rate_limited",): 5,
    }
    accepted = next(g for g in answer["groups"] if g["by"] == {"outcome": "accepted"})
    two_hours_ago = (
        datetime.fromtimestamp((seeded.now_hour - 2) * HOUR, UTC).isoformat().replace("+00:00", "Z")
    )
    assert accepted["series"]["sum(quantity)"][answer["intervals"].index(two_hours_ago)] == 42


def test_grouping_by_category_outcome_and_reason(seeded: Seeded) -> None:
    answer = stats(
        seeded.api, groupBy=["category", "outcome", "reason"], project=seeded.shop, statsPeriod="1d"
    )
    assert totals(answer) == {
        ("error", "accepted", ""): 42,
        ("error", "client_discard", "before_send"): 3,
        ("error", "filtered", "error-type"): 7,
        ("error", "rate_limited", "key_quota"): 5,
        ("transaction", "filtered", "health-check"): 9,
        ("attachment", "filtered", "unsupported_item"): 2048,
    }
    assert answer["groups"][0]["by"] == {
        "category": "attachment",
        "outcome": "filtered",
        "reason": "unsupported_item",
    }


def test_grouping_by_project_and_key_keeps_numbers_as_ids(seeded: Seeded) -> None:
    answer = stats(
        seeded.api, groupBy=["project", "key_id"], category="error", outcome="accepted", statsPeriod="2d"
    )
    found = totals(answer)
    assert found[(seeded.shop, 11)] == 142
    assert found[(seeded.secret, 0)] == 1000
    assert any(project == seeded.server.project_id and n >= 1 for (project, _), n in found.items())


def test_filters_narrow_the_counts(seeded: Seeded) -> None:
    def total(**params: Any) -> int:
        return sum(totals(stats(seeded.api, project=seeded.shop, statsPeriod="24h", **params)).values())

    assert total(category="error", outcome="rate_limited") == 5
    assert total(category="error", reason="key_quota") == 5
    assert total(category="error", key_id=12) == 5
    assert total(category="transaction") == 9
    assert total(category=["error", "transaction"], outcome="filtered") == 16
    assert total(category="attachment") == 2048


def test_times_seen_counts_items_and_leaves_attachment_bytes_out(seeded: Seeded) -> None:
    answer = stats(
        seeded.api,
        field=["sum(quantity)", "sum(times_seen)"],
        groupBy="category",
        project=seeded.shop,
        statsPeriod="24h",
    )
    assert [g["by"]["category"] for g in answer["groups"]] == ["error", "transaction"]
    for group in answer["groups"]:
        assert group["totals"]["sum(times_seen)"] == group["totals"]["sum(quantity)"]
        assert group["series"]["sum(times_seen)"] == group["series"]["sum(quantity)"]
    assert totals(answer) == {("error",): 57, ("transaction",): 9}


def test_a_real_event_is_counted_as_accepted(seeded: Seeded) -> None:
    answer = stats(
        seeded.api, category="error", outcome="accepted", project=seeded.server.project_id, statsPeriod="1h"
    )
    assert totals(answer)[()] >= 1


def test_a_duplicate_event_and_a_client_report_are_counted_with_their_key(seeded: Seeded) -> None:
    """Through ingest and the digest: a second copy of a stored event is invalid:duplicate, and a
    client report's discards are counted for the key that sent it."""
    server = seeded.server
    event = python_error("KeyError", "twice")
    send_and_wait(server, event)
    auth = auth_header(server.public_key)
    assert (
        post(
            envelope_url(server.url, server.project_id), event_envelope(event, event["event_id"]), auth
        ).status
        == 200
    )
    report = orjson.dumps(
        {"discarded_events": [{"reason": "sample_rate", "category": "error", "quantity": 4}]}
    )
    envelope = b"{}\n" + orjson.dumps({"type": "client_report"}) + b"\n" + report + b"\n"
    assert post(envelope_url(server.url, server.project_id), envelope, auth).status == 200
    with server.engine.connect() as conn:
        key_id = projects.list_keys(conn, server.project_id)[0].id

    def counted() -> dict[tuple[Any, ...], int]:
        answer = stats(
            seeded.api,
            groupBy=["outcome", "reason", "key_id"],
            category="error",
            outcome=["invalid", "client_discard"],
            project=server.project_id,
            statsPeriod="1h",
        )
        return totals(answer)

    wait_until(lambda: len(counted()) == 2, 30, "the duplicate and the client report counted")
    assert counted() == {("invalid", "duplicate", key_id): 1, ("client_discard", "sample_rate", key_id): 4}


def test_daily_intervals_start_at_utc_midnight(seeded: Seeded) -> None:
    answer = stats(
        seeded.api, groupBy="outcome", category="error", project=seeded.shop, statsPeriod="14d", interval="1d"
    )
    assert all(t.endswith("T00:00:00Z") for t in answer["intervals"])
    assert len(answer["intervals"]) in (14, 15)
    assert totals(answer)[("accepted",)] == 142


def test_an_explicit_start_and_end(seeded: Seeded) -> None:
    start = datetime.fromtimestamp((seeded.now_hour - 2) * HOUR, UTC)
    end = datetime.fromtimestamp((seeded.now_hour - 2) * HOUR + 1800, UTC)
    answer = stats(
        seeded.api, category="error", project=seeded.shop, start=start.isoformat(), end=end.isoformat()
    )
    assert answer["intervals"] == [start.isoformat().replace("+00:00", "Z")]
    assert totals(answer) == {(): 57}


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"field": [], "category": "error"}, 'At least one "field" is required.'),
        ({"field": "count()", "category": "error"}, 'Invalid field: "count()"'),
        (
            {"field": "sum(times_seen)", "category": "attachment"},
            "sum(times_seen) is not recorded for attachments",
        ),
        ({"groupBy": "release", "category": "error"}, 'Invalid groupBy: "release"'),
        ({"groupBy": "outcome"}, "Query must have category as groupby or filter"),
        ({"category": "errors"}, 'Invalid category: "errors"'),
        (
            {"category": ["attachment", "error"]},
            "if filtering by attachment no other category may be present",
        ),
        ({"category": "error", "outcome": "lost"}, 'Invalid outcome: "lost"'),
        (
            {"category": "error", "interval": "30m"},
            "The interval has to be a multiple of the minimum interval of one hour.",
        ),
        ({"category": "error", "interval": "5h"}, "The interval should divide one day without a remainder."),
        ({"category": "error", "interval": "2d"}, "The interval has to be less than one day."),
        (
            {"category": "error", "statsPeriod": "90d", "interval": "1h"},
            "Your interval and date range would create too many results.",
        ),
        ({"category": "error", "statsPeriod": "forever"}, "Invalid statsPeriod: 'forever'"),
        ({"category": "error", "start": "2026-01-01T00:00:00Z"}, "start and end are both required"),
        ({"category": "error", "project": "shop"}, "Invalid project parameter. Values must be numbers."),
    ],
)
def test_what_sentry_refuses_is_a_400_in_its_words(
    seeded: Seeded, params: dict[str, Any], detail: str
) -> None:
    reply = seeded.api.get(
        f"organizations/default/stats_v2/?{urlencode({'field': 'sum(quantity)', **params}, doseq=True)}"
    )
    assert reply.status == 400
    assert record(reply)["detail"].startswith(detail)


def test_a_member_counts_only_the_projects_their_teams_allow(seeded: Seeded) -> None:
    everything = totals(stats(seeded.api, groupBy="project", category="error", statsPeriod="24h"))
    theirs = totals(stats(seeded.member, groupBy="project", category="error", statsPeriod="24h"))
    assert (seeded.secret,) in everything
    assert (seeded.secret,) not in theirs
    assert theirs[(seeded.shop,)] == everything[(seeded.shop,)]
    whole = totals(stats(seeded.member, category="error", statsPeriod="24h"))[()]
    assert whole == sum(theirs.values())
    stats(seeded.member, status=403, category="error", project=seeded.secret)


def test_the_token_needs_an_organization_scope_and_the_organization(seeded: Seeded) -> None:
    events_only = Api(seeded.server, create_token(seeded.server, "--scopes", "event:read"))
    assert (
        stats(events_only, status=403, category="error")["detail"]
        == "You do not have permission to perform this action."
    )
    stats(seeded.api, status=404, org="nowhere", category="error")
    other = Api(seeded.server, create_token(seeded.server, "--org", "other", "--scopes", "org:read"))
    stats(other, status=404, category="error")
    assert totals(stats(other, org="other", category="error", statsPeriod="24h")) == {}
    stats(seeded.api, status=403, category="error", project=999_999)
