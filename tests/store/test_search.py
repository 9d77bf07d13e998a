"""The issue stream's search, one test per element of Sentry's syntax (docs/search.md), on SQLite
and PostgreSQL: issues made by the real digest under a manual clock, then exactly the issues a
query returns. Then the sorts, the sparkline counts, and the queries the parser refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from shoal.store import search, triage
from shoal.store.db import write_transaction
from shoal.store.schema import issue, users
from shoal.store.search import Scope
from shoal.store.search_syntax import SearchError, parse_query
from shoal.store.triage import Snooze
from tests.support.alerting import MEMBER, DigestHarness, error_event

HOUR = 3600
DAY = 86400


@pytest.fixture
def harness(engine: Engine, tmp_path: Path) -> DigestHarness:
    return DigestHarness(engine, tmp_path)


def make(harness: DigestHarness, function: str, count: int = 1, **fields: Any) -> int:
    """An issue (its type and function are its identity) from `count` events; its id."""
    type_ = fields.pop("type_", "ValueError")
    sent = [error_event(type_, function, **fields) for _ in range(count)]
    harness.send(*sent)
    return harness.issue_of(sent[0]["event_id"])


def member_id(harness: DigestHarness) -> int:
    with harness.engine.connect() as conn:
        return int(conn.execute(select(users.c.id).where(users.c.email == MEMBER)).scalar_one())


def find(harness: DigestHarness, query: str, sort: str = "date", user_id: int | None = None) -> list[int]:
    """The ids of the issues the query finds in the harness's project, in `sort` order."""
    scope = Scope([harness.project_id], user_id or member_id(harness), harness.clock.now())
    with harness.engine.connect() as conn:
        parsed = parse_query(query)
        found = search.find_issues(conn, parsed, scope, sort=sort, limit=100, offset=0)
        assert search.count_issues(conn, parsed, scope) == len(found)
        return [row.id for row in found]


def found_set(harness: DigestHarness, query: str) -> set[int]:
    return set(find(harness, query))


# ------------------------------------------------------------------------------------ is:


def test_is_unresolved_and_is_resolved_split_the_issues(harness: DigestHarness) -> None:
    open_one, fixed = make(harness, "open_one"), make(harness, "fixed")
    with write_transaction(harness.engine) as conn:
        triage.resolve(conn, fixed, None, "now", release=None, now=harness.clock.now())
    assert found_set(harness, "is:unresolved") == {open_one}
    assert found_set(harness, "is:resolved") == {fixed}


def test_is_ignored_and_is_archived_find_ignored_issues(harness: DigestHarness) -> None:
    make(harness, "loud")
    quiet = make(harness, "quiet")
    with write_transaction(harness.engine) as conn:
        triage.ignore(conn, quiet, None, Snooze(), harness.clock.now())
    assert found_set(harness, "is:ignored") == {quiet}
    assert found_set(harness, "is:archived") == {quiet}


def test_is_regressed_finds_a_resolved_issue_that_came_back(harness: DigestHarness) -> None:
    back = make(harness, "back")
    make(harness, "steady")
    with write_transaction(harness.engine) as conn:
        triage.resolve(conn, back, None, "now", release=None, now=harness.clock.now())
    harness.clock.advance(60)
    make(harness, "back")
    assert found_set(harness, "is:regressed") == {back}


def test_is_escalating_finds_an_ignored_issue_past_its_condition(harness: DigestHarness) -> None:
    rising = make(harness, "rising")
    make(harness, "flat")
    with write_transaction(harness.engine) as conn:
        triage.ignore(conn, rising, None, Snooze(count=1), harness.clock.now())
    make(harness, "rising", count=2)
    assert found_set(harness, "is:escalating") == {rising}


def test_is_new_and_is_ongoing_age_at_seven_days(harness: DigestHarness) -> None:
    old = make(harness, "old")
    harness.clock.advance(8 * DAY)
    fresh = make(harness, "fresh")
    make(harness, "old")  # seen again today, still first seen 8 days ago
    assert found_set(harness, "is:new") == {fresh}
    assert found_set(harness, "is:ongoing") == {old}


def test_is_assigned_and_is_unassigned(harness: DigestHarness) -> None:
    mine, nobodys = make(harness, "mine"), make(harness, "nobodys")
    with write_transaction(harness.engine) as conn:
        triage.assign(conn, mine, None, member_id(harness), harness.clock.now())
    assert found_set(harness, "is:assigned") == {mine}
    assert found_set(harness, "is:unassigned") == {nobodys}


# --------------------------------------------------------------------------- issue fields


def test_level_matches_the_issue_level(harness: DigestHarness) -> None:
    error = make(harness, "error_one")
    make(harness, "warned", level="warning")
    assert found_set(harness, "level:error") == {error}


def test_a_list_matches_any_of_its_values(harness: DigestHarness) -> None:
    error, fatal = make(harness, "error_one"), make(harness, "crash", level="fatal")
    make(harness, "warned", level="warning")
    assert found_set(harness, "level:[error, fatal]") == {error, fatal}


def test_release_finds_issues_seen_in_that_release(harness: DigestHarness) -> None:
    both = make(harness, "both", release="1.2.3")
    make(harness, "both", release="1.3.0")
    later = make(harness, "later", release="1.3.0")
    make(harness, "unreleased")
    assert found_set(harness, "release:1.2.3") == {both}
    assert found_set(harness, "release:1.3.0") == {both, later}


def test_first_release_in_both_spellings(harness: DigestHarness) -> None:
    early = make(harness, "early", release="1.2.3")
    make(harness, "early", release="1.3.0")
    make(harness, "late", release="1.3.0")
    assert found_set(harness, "firstRelease:1.2.3") == {early}
    assert found_set(harness, "first-release:1.2.3") == {early}


def test_environment_matches_the_environment_tag(harness: DigestHarness) -> None:
    prod = make(harness, "in_prod", environment="prod")
    make(harness, "in_staging", environment="staging")
    make(harness, "nowhere")
    assert found_set(harness, "environment:prod") == {prod}


def test_assigned_to_me_nobody_or_an_email(harness: DigestHarness) -> None:
    me = member_id(harness)
    mine, nobodys = make(harness, "mine"), make(harness, "nobodys")
    with write_transaction(harness.engine) as conn:
        triage.assign(conn, mine, None, me, harness.clock.now())
    assert found_set(harness, "assigned:me") == {mine}
    assert found_set(harness, "assigned:none") == {nobodys}
    assert found_set(harness, f"assigned:{MEMBER.upper()}") == {mine}
    assert found_set(harness, "assigned:someone.else@example.com") == set()


def test_first_seen_and_age_relative_to_now(harness: DigestHarness) -> None:
    old = make(harness, "old")
    harness.clock.advance(2 * DAY)
    recent = make(harness, "recent")
    make(harness, "old")
    assert found_set(harness, "firstSeen:-24h") == {recent}
    assert found_set(harness, "age:-24h") == {recent}
    assert found_set(harness, "firstSeen:+1d") == {old}
    assert found_set(harness, "age:+30m") == {old}


def test_last_seen_relative_to_now(harness: DigestHarness) -> None:
    stale = make(harness, "stale")
    harness.clock.advance(8 * DAY)
    lively = make(harness, "lively")
    assert found_set(harness, "lastSeen:+7d") == {stale}
    assert found_set(harness, "lastSeen:-1w") == {lively}
    assert found_set(harness, "last_seen:-90m") == {lively}


def test_times_compare_with_absolute_dates(harness: DigestHarness) -> None:
    # The harness starts at 2026-11-18 11:06:40 UTC.
    before = make(harness, "before")
    harness.clock.advance(DAY)
    after = make(harness, "after")
    assert found_set(harness, "firstSeen:>2026-11-19") == {after}
    assert found_set(harness, "firstSeen:<=2026-11-19") == {before}
    assert found_set(harness, "firstSeen:2026-11-18") == {before}
    assert found_set(harness, 'firstSeen:>"2026-11-18 12:00"') == {after}
    assert found_set(harness, "lastSeen:>=2026-11-19T11:00:00Z") == {after}


def test_times_seen_compares_the_event_count(harness: DigestHarness) -> None:
    one, three, five = make(harness, "one"), make(harness, "three", 3), make(harness, "five", 5)
    assert found_set(harness, "times_seen:>3") == {five}
    assert found_set(harness, "times_seen:>=3") == {three, five}
    assert found_set(harness, "timesSeen:<3") == {one}
    assert found_set(harness, "timesSeen:<=3") == {one, three}
    assert found_set(harness, "times_seen:3") == {three}
    assert found_set(harness, "times_seen:=5") == {five}


def test_users_seen_and_user_count_compare_distinct_users(harness: DigestHarness) -> None:
    crowd = make(harness, "crowd", user="ana")
    for name in ("bo", "cy"):
        make(harness, "crowd", user=name)
    alone = make(harness, "alone", user="ana")
    make(harness, "alone", user="ana")
    assert found_set(harness, "users_seen:>1") == {crowd}
    assert found_set(harness, "user.count:1") == {alone}


def test_issue_finds_a_short_id(harness: DigestHarness) -> None:
    make(harness, "first")
    second = make(harness, "second")
    assert found_set(harness, "issue:SHOP-2") == {second}
    assert found_set(harness, "issue:shop-2") == {second}
    assert found_set(harness, "issue:OTHER-2") == set()


# ----------------------------------------------------------------------------------- tags


def test_has_finds_issues_with_a_tag(harness: DigestHarness) -> None:
    tagged = make(harness, "tagged", tags={"customer": "acme"})
    make(harness, "plain")
    assert found_set(harness, "has:customer") == {tagged}


def test_any_other_key_is_a_tag(harness: DigestHarness) -> None:
    web1 = make(harness, "on_web1", tags={"server": "web-1"})
    make(harness, "on_web2", tags={"server": "web-2"})
    assert found_set(harness, "server:web-1") == {web1}


def test_tags_brackets_reach_a_tag_with_a_reserved_key(harness: DigestHarness) -> None:
    # The SDK's own `level` tag wins over the derived one (shoal.digest.tags).
    critical = make(harness, "critical", tags={"level": "critical"})
    make(harness, "plain")
    assert found_set(harness, "tags[level]:critical") == {critical}
    assert found_set(harness, "level:critical") == set()  # the issue's level is still "error"


def test_negation_excludes_what_the_token_matches(harness: DigestHarness) -> None:
    web1 = make(harness, "on_web1", tags={"server": "web-1"}, release="1.0")
    web2 = make(harness, "on_web2", tags={"server": "web-2"})
    warned = make(harness, "warned", level="warning")
    assert found_set(harness, "!server:web-1") == {web2, warned}
    assert found_set(harness, "!level:warning") == {web1, web2}
    # An issue without a first release is not in release 1.0 either.
    assert found_set(harness, "!firstRelease:1.0") == {web2, warned}
    assert found_set(harness, "!has:server") == {warned}
    assert found_set(harness, "!is:unresolved") == set()


def test_wildcards_match_any_characters_ignoring_case(harness: DigestHarness) -> None:
    web1 = make(harness, "on_web1", tags={"server": "Web-1"}, release="1.2.0")
    web2 = make(harness, "on_web2", tags={"server": "web-22"}, release="1.2.10")
    db = make(harness, "on_db", tags={"server": "db-1"}, release="1.3.0")
    make(harness, "literal", tags={"server": "web_1%"})  # _ and % are no wildcards
    assert found_set(harness, "server:web-*") == {web1, web2}
    assert found_set(harness, "release:1.2.*") == {web1, web2}
    assert found_set(harness, "server:*-1") == {web1, db}
    assert found_set(harness, "firstRelease:*.10") == {web2}


def test_quoted_values_hold_spaces(harness: DigestHarness) -> None:
    spaced = make(harness, "spaced", tags={"customer": "Acme Corp"})
    make(harness, "other", tags={"customer": "Acme"})
    assert found_set(harness, 'customer:"Acme Corp"') == {spaced}
    assert found_set(harness, 'customer:["Acme Corp", Nobody]') == {spaced}


def test_free_text_matches_title_or_culprit_ignoring_case(harness: DigestHarness) -> None:
    keyed = make(harness, "lookup", type_="KeyError")
    valued = make(harness, "parse_price", type_="ValueError")
    assert found_set(harness, "keyerror") == {keyed}
    assert found_set(harness, "PARSE_PRICE") == {valued}  # the culprit names the function
    assert found_set(harness, "boom") == {keyed, valued}  # both titles end in the value "boom"
    assert found_set(harness, "boom lookup") == {keyed}  # every term must be found
    assert found_set(harness, '"KeyError: boom"') == {keyed}
    assert found_set(harness, "100%") == set()  # % is no wildcard


def test_tokens_are_anded(harness: DigestHarness) -> None:
    both = make(harness, "both", release="2.0", environment="prod")
    make(harness, "only_release", release="2.0")
    make(harness, "only_env", environment="prod")
    assert found_set(harness, "release:2.0 environment:prod is:unresolved level:error both") == {both}


def test_the_scope_limits_the_search_to_its_projects(harness: DigestHarness) -> None:
    make(harness, "here")
    scope = Scope([], member_id(harness), harness.clock.now())
    with harness.engine.connect() as conn:
        assert search.find_issues(conn, parse_query(""), scope, sort="date", limit=10, offset=0) == []
        assert search.count_issues(conn, parse_query(""), scope) == 0


# ---------------------------------------------------------------------------------- sorts


@pytest.fixture
def three_issues(harness: DigestHarness) -> dict[str, int]:
    """A: 10 events 20 h ago, 1 user; C: 3 events 10 h ago, 3 users; B: 1 event 1 h ago."""
    a = make(harness, "a", 10, user="ana")
    harness.clock.advance(10 * HOUR)
    c = make(harness, "c", user="ana")
    make(harness, "c", user="bo")
    make(harness, "c", user="cy")
    harness.clock.advance(9 * HOUR)
    b = make(harness, "b")
    harness.clock.advance(HOUR)
    return {"a": a, "b": b, "c": c}


def test_the_sorts_order_by_last_seen_first_seen_events_and_users(
    harness: DigestHarness, three_issues: dict[str, int]
) -> None:
    a, b, c = three_issues["a"], three_issues["b"], three_issues["c"]
    assert find(harness, "") == [b, c, a]
    assert find(harness, "", sort="new") == [b, c, a]
    assert find(harness, "", sort="freq") == [a, c, b]
    assert find(harness, "", sort="user") == [c, a, b]


def test_priority_weighs_each_event_by_how_recent_its_hour_is(
    harness: DigestHarness, three_issues: dict[str, int]
) -> None:
    # Now is 20 h after A's events: A scores 10 × 4 = 40, C 3 × 14 = 42, B 1 × 23 = 23.
    a, b, c = three_issues["a"], three_issues["b"], three_issues["c"]
    assert find(harness, "", sort="priority") == [c, a, b]
    harness.clock.advance(4 * HOUR)  # A's events leave the 24 hours: A scores 0
    assert find(harness, "", sort="priority") == [c, b, a]


def test_pages_split_the_sorted_issues(harness: DigestHarness, three_issues: dict[str, int]) -> None:
    scope = Scope([harness.project_id], member_id(harness), harness.clock.now())
    with harness.engine.connect() as conn:
        pages = [
            [r.id for r in search.find_issues(conn, parse_query(""), scope, sort="freq", limit=2, offset=n)]
            for n in (0, 2)
        ]
    assert pages == [[three_issues["a"], three_issues["c"]], [three_issues["b"]]]


# ----------------------------------------------------------------------------- sparklines


def test_sparklines_count_events_per_hour_and_per_day(harness: DigestHarness) -> None:
    busy = make(harness, "busy", 2)
    harness.clock.advance(3 * DAY)
    make(harness, "busy", 3, environment="prod")
    make(harness, "busy", 1, environment="staging")  # environments are summed
    harness.clock.advance(2 * HOUR)
    make(harness, "busy")
    quiet = make(harness, "quiet")
    now = harness.clock.now()
    with harness.engine.connect() as conn:
        hours = search.sparkline_counts(conn, [busy, quiet], now, "24h")
        days = search.sparkline_counts(conn, [busy, quiet], now, "14d")
    assert len(hours[busy]) == 24 and hours[busy][-1] == 1 and hours[busy][-3] == 4 and sum(hours[busy]) == 5
    assert hours[quiet] == [0] * 23 + [1]
    assert len(days[busy]) == 14 and days[busy][-1] == 5 and days[busy][-4] == 2 and sum(days[busy]) == 7


# ------------------------------------------------------------------------ what the parser refuses


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("level:", "needs a value"),
        ("is:sleeping", "is:sleeping is not a status"),
        ('"unclosed', "never closed"),
        ("level:[error, fatal", "needs a closing ]"),
        ("level:[error,,fatal]", "empty item"),
        ("times_seen:>many", "needs a whole number"),
        ("times_seen:[1, 2]", "one value, not a list"),
        ("firstSeen:-3y", "neither a relative time"),
        ("lastSeen:yesterday", "neither a relative time"),
        ("firstSeen:2026-11-01T10:00", "compare a time with > or <"),
        ("issue:12", "not a short id"),
        ("assigned:#backend", "not teams"),
        ("assigned:bob", "not a person"),
        ("release:latest", "not supported yet"),
        ("x" * 3000, "at most"),
        ("issue:SHOP-99999999999999999999999", "not a short id"),
        ("checkout\x00", "NUL character"),
    ],
)
def test_a_query_that_cannot_be_read_says_why(query: str, message: str) -> None:
    with pytest.raises(SearchError, match=message):
        parse_query(query)


def test_an_empty_query_finds_every_issue(harness: DigestHarness) -> None:
    made = {make(harness, "one"), make(harness, "two")}
    with write_transaction(harness.engine) as conn:
        conn.execute(issue.update().where(issue.c.id == min(made)).values(status="resolved"))
    assert found_set(harness, "") == made
    assert found_set(harness, "   ") == made
