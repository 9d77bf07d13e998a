"""Retention on SQLite and PostgreSQL: events past their project's retention are deleted in bounded
batches, while each issue keeps its counters, tag counts and per-hour counts, its first event and the
events that regressed it; idle issues with no event left are deleted, unless they hold a tombstone;
a dry run changes nothing and predicts what a real run deletes and frees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update

from shoal import retention
from shoal.retention import DAY, CleanupOptions, CleanupReport
from shoal.store import retention as retention_store
from shoal.store import triage
from shoal.store.db import write_transaction
from shoal.store.schema import activity, event, issue, issue_count_hour, issue_hash, issue_tag
from tests.support.alerting import DigestHarness, error_event


@pytest.fixture
def harness(engine: Engine, tmp_path: Path) -> DigestHarness:
    return DigestHarness(engine, tmp_path)


def keep_days(harness: DigestHarness, days: int) -> None:
    with write_transaction(harness.engine) as conn:
        retention_store.set_retention_days(conn, harness.project_id, days)


def clean(harness: DigestHarness, **options: Any) -> CleanupReport:
    plans = retention.plan(harness.engine, harness.clock.now())
    return retention.run(harness.engine, plans, CleanupOptions(pause=0, **options))


def stored_event_ids(harness: DigestHarness) -> set[str]:
    with harness.engine.connect() as conn:
        return {row.event_id for row in conn.execute(select(event.c.event_id))}


def aggregates(harness: DigestHarness, issue_id: int) -> dict[str, Any]:
    """What the issue's pages count from: its counters, tag counts and per-hour counts."""
    with harness.engine.connect() as conn:
        row = conn.execute(
            select(issue.c.times_seen, issue.c.users_seen, issue.c.first_seen, issue.c.last_seen).where(
                issue.c.id == issue_id
            )
        ).one()
        tags = conn.execute(
            select(issue_tag.c.key, issue_tag.c.value, issue_tag.c.times_seen).where(
                issue_tag.c.issue_id == issue_id
            )
        ).all()
        hours = conn.execute(
            select(func.sum(issue_count_hour.c.events)).where(issue_count_hour.c.issue_id == issue_id)
        ).scalar_one()
    return {"issue": tuple(row), "tags": sorted(tuple(t) for t in tags), "hours": hours}


def issue_exists(harness: DigestHarness, issue_id: int) -> bool:
    with harness.engine.connect() as conn:
        return conn.execute(select(issue.c.id).where(issue.c.id == issue_id)).first() is not None


def payload_bytes_of(harness: DigestHarness, event_ids: set[str]) -> int:
    with harness.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.sum(func.length(event.c.payload))).where(event.c.event_id.in_(sorted(event_ids)))
            ).scalar_one()
        )


def resolve(harness: DigestHarness, issue_id: int) -> None:
    with write_transaction(harness.engine) as conn:
        triage.resolve(conn, issue_id, None, "now", release=None, now=harness.clock.now())


def test_events_older_than_a_one_day_retention_go_and_the_issue_keeps_its_counts(
    harness: DigestHarness,
) -> None:
    keep_days(harness, 1)
    old = [error_event(tags={"customer": f"c{n % 2}"}, user=f"u{n}") for n in range(5)]
    harness.send(*old)
    issue_id = harness.issue_of(old[0]["event_id"])
    harness.clock.advance(2 * DAY)
    recent = error_event(tags={"customer": "c0"})
    harness.send(recent)
    before = aggregates(harness, issue_id)
    assert before["issue"][0] == 6

    report = clean(harness)

    assert stored_event_ids(harness) == {old[0]["event_id"], recent["event_id"]}  # the first stays
    assert report.events_deleted == 4
    assert report.kept == 1
    assert report.issues_deleted == 0
    assert aggregates(harness, issue_id) == before
    assert ("customer", "c1", 2) in before["tags"]


def test_the_default_retention_of_30_days_keeps_events_two_days_old(harness: DigestHarness) -> None:
    harness.send(error_event(), error_event())
    harness.clock.advance(2 * DAY)
    assert clean(harness).events_deleted == 0
    assert len(stored_event_ids(harness)) == 2
    harness.clock.advance(29 * DAY)
    assert clean(harness).events_deleted == 1


def test_the_first_event_and_the_event_that_regressed_the_issue_are_kept(harness: DigestHarness) -> None:
    keep_days(harness, 1)
    first = error_event()
    harness.send(first)
    issue_id = harness.issue_of(first["event_id"])
    harness.send(error_event())
    resolve(harness, issue_id)
    harness.clock.advance(3600)
    regression, after = error_event(), error_event()
    harness.send(regression, after)
    harness.clock.advance(2 * DAY)

    report = clean(harness)

    assert stored_event_ids(harness) == {first["event_id"], regression["event_id"]}
    assert (report.events_deleted, report.kept) == (2, 2)
    with harness.engine.connect() as conn:
        data = conn.execute(select(activity.c.data).where(activity.c.type == "set_regression")).scalar_one()
    assert regression["event_id"] in data


def test_a_regression_recorded_without_its_event_keeps_the_event_just_before_it(
    harness: DigestHarness,
) -> None:
    """Regressions recorded before activities named their event."""
    keep_days(harness, 1)
    first, second, third = error_event(), error_event(), error_event()
    harness.send(first)
    issue_id = harness.issue_of(first["event_id"])
    harness.clock.advance(60)
    harness.send(second)
    with write_transaction(harness.engine) as conn:
        triage.add_activity(conn, issue_id, None, "set_regression", data={}, now=harness.clock.now() + 1)
    harness.clock.advance(60)
    harness.send(third)
    harness.clock.advance(2 * DAY)
    clean(harness)
    assert stored_event_ids(harness) == {first["event_id"], second["event_id"]}


def test_an_idle_issue_with_no_event_left_is_deleted_but_not_one_holding_a_tombstone(
    harness: DigestHarness,
) -> None:
    keep_days(harness, 1)
    emptied, discarded, kept = error_event("KeyError"), error_event("OSError"), error_event("TypeError")
    harness.send(emptied, discarded, kept)
    ids = {
        name: harness.issue_of(e["event_id"])
        for name, e in (("emptied", emptied), ("discarded", discarded), ("kept", kept))
    }
    with write_transaction(harness.engine) as conn:
        # Their events deleted some other way (merged away, deleted and discarded).
        conn.execute(delete(event).where(event.c.issue_id.in_([ids["emptied"], ids["discarded"]])))
        conn.execute(
            update(issue_hash).where(issue_hash.c.issue_id == ids["discarded"]).values(tombstone=True)
        )
    harness.clock.advance(2 * DAY)

    dry = clean(harness, dry_run=True)
    assert dry.issues_deleted == 1
    assert issue_exists(harness, ids["emptied"])

    report = clean(harness)

    assert report.issues_deleted == 1
    assert not issue_exists(harness, ids["emptied"])
    assert issue_exists(harness, ids["discarded"])
    assert issue_exists(harness, ids["kept"])  # its first event is still there


def test_an_issue_with_no_event_left_but_seen_within_the_retention_stays(harness: DigestHarness) -> None:
    keep_days(harness, 1)
    only = error_event()
    harness.send(only)
    issue_id = harness.issue_of(only["event_id"])
    with write_transaction(harness.engine) as conn:
        conn.execute(delete(event).where(event.c.issue_id == issue_id))
    assert clean(harness).issues_deleted == 0
    assert issue_exists(harness, issue_id)


def test_batches_delete_at_most_the_batch_size_each(harness: DigestHarness) -> None:
    keep_days(harness, 1)
    harness.send(*[error_event(function=f"f{n % 3}") for n in range(20)])  # 3 issues
    harness.clock.advance(2 * DAY)
    deleted_per_batch: list[int] = []

    report = clean(harness, batch_events=5, progress=deleted_per_batch.append)

    assert sum(deleted_per_batch) == report.events_deleted == 17
    assert max(deleted_per_batch) == 5
    assert len(deleted_per_batch) == 4  # 5 + 5 + 5 + 2, across issue boundaries
    assert report.batches == 4  # no write transaction for empty issues when there are none
    assert len(stored_event_ids(harness)) == 3


def test_a_dry_run_changes_nothing_and_predicts_the_real_run(harness: DigestHarness) -> None:
    keep_days(harness, 1)
    sent = [error_event(function=f"f{n % 2}") for n in range(8)]
    harness.send(*sent)
    harness.clock.advance(2 * DAY)
    firsts = {sent[0]["event_id"], sent[1]["event_id"]}
    deletable = {e["event_id"] for e in sent} - firsts
    with harness.engine.connect() as conn:
        rows_before = conn.execute(select(func.count()).select_from(event)).scalar_one()

    dry = clean(harness, dry_run=True)

    assert len(stored_event_ids(harness)) == rows_before == 8
    assert (dry.events_deleted, dry.kept, dry.batches) == (6, 2, 0)
    assert dry.payload_bytes == payload_bytes_of(harness, deletable) > 0
    real = clean(harness)
    assert (real.events_deleted, real.payload_bytes, real.kept) == (6, dry.payload_bytes, 2)
    assert stored_event_ids(harness) == firsts


def test_days_and_project_given_on_the_command_line_override_the_setting(harness: DigestHarness) -> None:
    harness.send(error_event(), error_event())
    harness.clock.advance(3 * DAY)
    assert retention.plan(harness.engine, harness.clock.now(), slug="shop")[0].events == 0
    plans = retention.plan(harness.engine, harness.clock.now(), slug="shop", days=2)
    assert plans[0].events == 1
    with pytest.raises(retention.NoSuchProject):
        retention.plan(harness.engine, harness.clock.now(), slug="nope")


def test_a_regression_recorded_after_the_cleanup_was_planned_keeps_its_event(
    harness: DigestHarness,
) -> None:
    """Each batch looks up the samples again, in its own transaction."""
    keep_days(harness, 1)
    first = error_event()
    harness.send(first, error_event())
    issue_id = harness.issue_of(first["event_id"])
    harness.clock.advance(2 * DAY)
    plans = retention.plan(harness.engine, harness.clock.now())
    with write_transaction(harness.engine) as conn:  # a late event, old by its timestamp
        late = conn.execute(select(event).where(event.c.issue_id == issue_id).limit(1)).one()._asdict()
        del late["id"]
        late.update(event_id="f" * 32, timestamp=late["timestamp"] + 1)
        conn.execute(insert(event).values(late))
        triage.add_activity(conn, issue_id, None, "set_regression", data={"event_id": "f" * 32}, now=0)
    retention.run(harness.engine, plans, CleanupOptions(pause=0))
    assert stored_event_ids(harness) == {first["event_id"], "f" * 32}


def test_retention_days_outside_1_to_3650_are_refused(harness: DigestHarness) -> None:
    with write_transaction(harness.engine) as conn:
        for days in (0, 3651):
            with pytest.raises(ValueError):
                retention_store.set_retention_days(conn, harness.project_id, days)
        retention_store.set_retention_days(conn, harness.project_id, 3650)
        assert retention_store.retention_days(conn, harness.project_id) == 3650
