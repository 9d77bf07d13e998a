"""Issue states that events change, on SQLite and PostgreSQL: regressions (release-aware) and the
escalation of ignored issues, each with its activity entry and its alert."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from shoal.alerts import model
from shoal.store import issues, projects, triage
from shoal.store.db import write_transaction
from shoal.store.triage import Snooze
from tests.support.alerting import DigestHarness, error_event
from tests.support.releases import ensure_release

EMAIL = {"id": model.NOTIFY_EMAIL, "targetType": "IssueOwners", "fallthroughType": "AllMembers"}
REGRESSION_RULE = {"name": "regressions", "conditions": [{"id": model.REGRESSION}], "actions": [EMAIL]}
ESCALATION_RULE = {"name": "escalations", "conditions": [{"id": model.REAPPEARED}], "actions": [EMAIL]}


@pytest.fixture
def harness(engine: Engine, tmp_path: Path) -> DigestHarness:
    return DigestHarness(engine, tmp_path)


def first_issue(harness: DigestHarness, **fields: str) -> int:
    first = error_event(**fields)  # type: ignore[arg-type]
    harness.send(first)
    return harness.issue_of(first["event_id"])


def state(harness: DigestHarness, issue_id: int) -> tuple[str, str]:
    with harness.engine.connect() as conn:
        row = issues.get_issue(conn, issue_id)
    assert row is not None
    return row.status, row.substatus


def activity_types(harness: DigestHarness, issue_id: int) -> list[str]:
    with harness.engine.connect() as conn:
        return [entry.type for entry in reversed(triage.issue_activity(conn, issue_id))]


def resolve(harness: DigestHarness, issue_id: int, kind: str = "now", release: str | None = None) -> None:
    with write_transaction(harness.engine) as conn:
        triage.resolve(conn, issue_id, None, kind, release=release, now=harness.clock.now())


def ignore(harness: DigestHarness, issue_id: int, snooze: Snooze) -> None:
    with write_transaction(harness.engine) as conn:
        triage.ignore(conn, issue_id, None, snooze, harness.clock.now())


def test_an_event_on_a_resolved_issue_regresses_it_once_and_alerts_once(harness: DigestHarness) -> None:
    harness.add_rule(REGRESSION_RULE)
    issue_id = first_issue(harness)
    resolve(harness, issue_id)
    harness.clock.advance(60)
    harness.send(error_event(), error_event())
    harness.send(error_event())
    assert state(harness, issue_id) == ("unresolved", "regressed")
    assert [s.rule_name for s in harness.sent()] == ["New issue", "regressions"]
    assert harness.sent()[-1].kind == "regression"
    assert activity_types(harness, issue_id) == ["first_seen", "set_resolved", "set_regression"]


def test_resolved_in_the_next_release_ignores_events_of_the_old_release(harness: DigestHarness) -> None:
    harness.only_rule(REGRESSION_RULE)
    issue_id = first_issue(harness, release="shop@1.2.0")
    resolve(harness, issue_id, "in_next_release")
    harness.send(error_event(release="shop@1.2.0"), error_event(release="shop@1.1.9"), error_event())
    assert state(harness, issue_id) == ("resolved", "")
    assert harness.sent() == []
    harness.send(error_event(release="shop@1.3.0"))
    assert state(harness, issue_id) == ("unresolved", "regressed")
    assert [s.kind for s in harness.sent()] == ["regression"]


def test_resolved_in_a_release_regresses_on_that_release_and_later_ones(harness: DigestHarness) -> None:
    issue_id = first_issue(harness, release="2.0.0")
    resolve(harness, issue_id, "in_release", release="2.1.0")
    harness.send(error_event(release="2.0.5"))
    assert state(harness, issue_id)[0] == "resolved"
    harness.send(error_event(release="2.1.0"))
    assert state(harness, issue_id) == ("unresolved", "regressed")


def test_releases_without_an_order_regress_when_the_release_is_new_to_the_issue(
    harness: DigestHarness,
) -> None:
    issue_id = first_issue(harness, release="a1b2c3d")
    resolve(harness, issue_id, "in_next_release")
    harness.send(error_event(release="a1b2c3d"))
    assert state(harness, issue_id)[0] == "resolved"
    harness.send(error_event(release="e4f5a6b"))
    assert state(harness, issue_id)[0] == "unresolved"


def test_ignored_until_10_more_events_in_an_hour_escalates_on_the_11th(harness: DigestHarness) -> None:
    harness.only_rule(ESCALATION_RULE)
    issue_id = first_issue(harness)
    ignore(harness, issue_id, Snooze(count=10, window=60))
    for _ in range(10):
        harness.clock.advance(60)
        harness.send(error_event())
    assert state(harness, issue_id) == ("ignored", "archived_until_condition_met")
    assert harness.sent() == []
    assert harness.decisions(issue_id)[0].reason == "skipped: the issue is ignored"
    harness.clock.advance(60)
    harness.send(error_event())
    assert state(harness, issue_id) == ("unresolved", "escalating")
    assert [(s.kind, s.rule_name) for s in harness.sent()] == [("escalation", "escalations")]
    assert activity_types(harness, issue_id)[-1] == "set_escalating"


def test_events_outside_the_ignore_window_do_not_count(harness: DigestHarness) -> None:
    issue_id = first_issue(harness)
    ignore(harness, issue_id, Snooze(count=2, window=10))
    for _ in range(6):
        harness.clock.advance(6 * 60)
        harness.send(error_event())
    assert state(harness, issue_id)[0] == "ignored"


def test_ignored_for_a_time_comes_back_with_the_first_event_after_it(harness: DigestHarness) -> None:
    issue_id = first_issue(harness)
    ignore(harness, issue_id, Snooze(until=harness.clock.now() + 3600))
    harness.clock.advance(1800)
    harness.send(error_event())
    assert state(harness, issue_id)[0] == "ignored"
    harness.clock.advance(1801)
    harness.send(error_event())
    assert state(harness, issue_id) == ("unresolved", "escalating")


def test_ignored_until_more_users_counts_distinct_new_users(harness: DigestHarness) -> None:
    issue_id = first_issue(harness, user="u0")
    ignore(harness, issue_id, Snooze(user_count=2))
    harness.send(error_event(user="u0"), error_event(user="u1"), error_event(user="u2"))
    assert state(harness, issue_id)[0] == "ignored"
    harness.send(error_event(user="u3"))
    assert state(harness, issue_id)[0] == "unresolved"


def test_ignored_forever_never_comes_back(harness: DigestHarness) -> None:
    issue_id = first_issue(harness)
    ignore(harness, issue_id, Snooze())
    harness.send(*(error_event() for _ in range(30)))
    assert state(harness, issue_id) == ("ignored", "archived_forever")
    with harness.engine.connect() as conn:
        assert issues.get_issue(conn, issue_id).times_seen == 31  # type: ignore[union-attr]


def test_releases_without_semver_are_ordered_by_their_dates(harness: DigestHarness) -> None:
    """Sentry orders releases that are not semver by COALESCE(date_released, date_created): a
    release made before the resolving one is older even if the issue never saw it, and a release
    finalized later is newer even if it was made earlier."""
    start = harness.clock.now()
    with write_transaction(harness.engine) as conn:
        project = projects.get_project(conn, harness.project_id)
        assert project is not None
        ensure_release(conn, project.organization_id, harness.project_id, "build-old", created=start - 7200)
        ensure_release(
            conn,
            project.organization_id,
            harness.project_id,
            "build-late",
            created=start - 3600,
            released=start + 60,
        )
    issue_id = first_issue(harness, release="build-current")
    resolve(harness, issue_id, "in_next_release")
    harness.clock.advance(120)
    harness.send(error_event(release="build-old"))
    assert state(harness, issue_id)[0] == "resolved"  # "new to the issue" would have regressed it
    harness.send(error_event(release="build-late"))
    assert state(harness, issue_id) == ("unresolved", "regressed")
