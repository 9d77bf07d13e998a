"""What the release pages read, on SQLite and PostgreSQL: the release list newest first with its
events, new issues, deploys and adoption; one release's commits, authors, deploys and the issues it
introduced, regressed and resolved; and the date order of two releases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from shoal.store import projects, release_stats, triage
from shoal.store.db import write_transaction
from shoal.store.release_stats import EnvironmentEvents, events_since
from tests.support.alerting import DigestHarness, error_event
from tests.support.releases import NewCommit, add_deploy, ensure_release, set_commits

HOUR = 3600.0


@pytest.fixture
def harness(engine: Engine, tmp_path: Path) -> DigestHarness:
    return DigestHarness(engine, tmp_path)


def organization_of(harness: DigestHarness) -> int:
    with harness.engine.connect() as conn:
        found = projects.get_project(conn, harness.project_id)
    assert found is not None
    return found.organization_id


def test_releases_are_listed_newest_first_with_their_events_new_issues_and_deploys(
    harness: DigestHarness,
) -> None:
    start = harness.clock.now()
    harness.send(error_event("KeyError", release="web-a", environment="production"))
    harness.clock.advance(HOUR)
    harness.send(
        error_event("KeyError", release="web-b", environment="production"),
        error_event("TypeError", release="web-b", environment="staging"),
        error_event("TypeError", release="web-b", environment="staging"),
    )
    organization_id = organization_of(harness)
    with write_transaction(harness.engine) as conn:
        # Made first, finalized last: its date is when it went live.
        late = ensure_release(
            conn,
            organization_id,
            harness.project_id,
            "web-c",
            created=start - HOUR,
            released=start + 2 * HOUR,
        )
        add_deploy(conn, late, "production", start + 2 * HOUR)
        add_deploy(conn, late, "staging", start + 2 * HOUR)
    with harness.engine.connect() as conn:
        listed = release_stats.project_releases(conn, harness.project_id, start + 3 * HOUR, limit=10)
        assert release_stats.count_project_releases(conn, harness.project_id) == 3
        assert [
            r.release.version for r in release_stats.project_releases(conn, harness.project_id, 0, 1, 1)
        ] == ["web-b"]
    assert [(r.release.version, r.events, r.new_issues, r.deploys) for r in listed] == [
        ("web-c", 0, 0, 2),
        ("web-b", 3, 1, 0),
        ("web-a", 1, 1, 0),
    ]
    assert listed[0].release.finalized and not listed[1].release.finalized
    assert [(e.environment, e.events) for e in listed[1].environments] == [("staging", 2), ("production", 1)]


def test_adoption_is_each_releases_share_of_an_environments_events_of_the_last_day(
    harness: DigestHarness,
) -> None:
    harness.send(*(error_event(release="api-1", environment="production") for _ in range(3)))
    harness.clock.advance(2 * HOUR)
    harness.send(
        error_event(release="api-2", environment="production"), error_event(environment="production")
    )
    with harness.engine.connect() as conn:
        adoption = {
            r.release.version: r.adoption
            for r in release_stats.project_releases(conn, harness.project_id, harness.clock.now(), 10)
        }
        # A day and more later only what came since counts: nothing did.
        later = release_stats.project_releases(conn, harness.project_id, harness.clock.now() + 30 * HOUR, 10)
    assert adoption == {"api-2": {"production": 0.2}, "api-1": {"production": 0.6}}
    assert {r.release.version: r.adoption for r in later} == {
        "api-2": {"production": 0.0},
        "api-1": {"production": 0.0},
    }


def test_a_release_older_than_the_window_counts_its_events_as_spread_evenly() -> None:
    seen = EnvironmentEvents("production", 100, first_seen=0.0, last_seen=100.0)
    assert events_since(seen, 75.0) == 25.0
    assert events_since(seen, 0.0) == 100.0
    assert events_since(seen, 101.0) == 0.0


def test_a_release_shows_its_commits_with_files_authors_and_deploys(harness: DigestHarness) -> None:
    start = harness.clock.now()
    organization_id = organization_of(harness)
    with write_transaction(harness.engine) as conn:
        release_id = ensure_release(conn, organization_id, harness.project_id, "2.0", created=start)
        set_commits(
            conn,
            organization_id,
            release_id,
            [
                NewCommit(
                    "b" * 40, "second: add b, change a", "Dev Person", "dev@example.com", ["a.py", "b.py"]
                ),
                NewCommit("c" * 40, "docs", "Other Author", "other@example.com", ["README.md"]),
                NewCommit("a" * 40, "first: add a", "Dev Person", "Dev@Example.com", ["a.py"]),
            ],
        )
        add_deploy(conn, release_id, "staging", start + 60, name="first")
        add_deploy(conn, release_id, "production", start + 120)
    with harness.engine.connect() as conn:
        found = release_stats.find_release(conn, harness.project_id, "2.0")
        assert found is not None and found.id == release_id
        assert release_stats.find_release(conn, harness.project_id + 1, "2.0") is None
        commits = release_stats.release_commits(conn, release_id)
        deploys = release_stats.release_deploys(conn, release_id)
        assert release_stats.count_release_commits(conn, release_id) == 3
    assert [(c.short_sha, c.title, c.repository) for c in commits] == [
        ("bbbbbbb", "second: add b, change a", "origin"),
        ("ccccccc", "docs", "origin"),
        ("aaaaaaa", "first: add a", "origin"),
    ]
    assert commits[0].files == [("M", "a.py"), ("M", "b.py")]
    assert [(a.name, a.email, a.commits) for a in release_stats.authors(commits)] == [
        ("Dev Person", "dev@example.com", 2),
        ("Other Author", "other@example.com", 1),
    ]
    assert [(d.environment, d.name) for d in deploys] == [("production", None), ("staging", "first")]


def test_a_release_lists_the_issues_it_introduced_regressed_and_resolved(harness: DigestHarness) -> None:
    made = {title: error_event(title, release="r1") for title in ("KeyError", "OSError")}
    made["TypeError"] = error_event("TypeError", release="r2")
    harness.send(made["KeyError"], made["OSError"])
    harness.clock.advance(60)
    harness.send(made["TypeError"])
    ids = {title: harness.issue_of(e["event_id"]) for title, e in made.items()}
    with write_transaction(harness.engine) as conn:
        triage.resolve(conn, ids["KeyError"], None, "now", release=None, now=harness.clock.now())
        triage.resolve(conn, ids["OSError"], None, "in_release", release="r2", now=harness.clock.now())
    harness.clock.advance(60)
    harness.send(error_event("KeyError", release="r2"))  # regresses KeyError in r2
    with harness.engine.connect() as conn:
        new = release_stats.new_issues(conn, harness.project_id, "r2")
        regressed = release_stats.regressed_issues(conn, harness.project_id, "r2")
        resolved = release_stats.resolved_issues(conn, harness.project_id, "r2")
        assert release_stats.new_issue_counts(conn, harness.project_id, ["r1", "r2", "r3"]) == {
            "r1": 2,
            "r2": 1,
        }
        assert release_stats.regressed_issues(conn, harness.project_id, "r1") == []
    assert [i.id for i in new] == [ids["TypeError"]]
    assert [(i.id, i.status) for i in regressed] == [(ids["KeyError"], "unresolved")]
    assert [(i.id, i.status) for i in resolved] == [(ids["OSError"], "resolved")]
    assert resolved[0].short_id.startswith("SHOP-")


def test_releases_order_by_their_dates_when_they_have_rows(harness: DigestHarness) -> None:
    start = harness.clock.now()
    harness.send(error_event(release="made-first"))
    organization = organization_of(harness)
    with write_transaction(harness.engine) as conn:
        ensure_release(conn, organization, harness.project_id, "made-later", created=start + 10)
        ensure_release(
            conn, organization, harness.project_id, "live-last", created=start - 10, released=start + 20
        )
    with harness.engine.connect() as conn:
        issue_id = release_stats.new_issues(conn, harness.project_id, "made-first")[0].id
        order = release_stats.date_order
        assert order(conn, issue_id, "made-first", "made-later") == -1
        assert order(conn, issue_id, "live-last", "made-later") == 1
        assert order(conn, issue_id, "made-later", "made-later") == 0
        assert order(conn, issue_id, "made-first", "never-made") is None
