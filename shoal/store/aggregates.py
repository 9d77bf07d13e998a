"""Per-issue aggregates the digest adds to in bulk: tag value counts and events per minute/hour,
plus the per-project outcome counters. All are upserts that add to what is there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Table, case, func, select, update

from shoal.outcomes import OutcomeKey
from shoal.store.db import upsert
from shoal.store.schema import issue_count_hour, issue_count_minute, issue_tag, outcome_counter, project


@dataclass(slots=True)
class TagCount:
    times_seen: int
    first_seen: float
    last_seen: float


def add_tag_counts(conn: Connection, counts: Mapping[tuple[int, str, str], TagCount]) -> None:
    if not counts:
        return
    stmt = upsert(issue_tag, conn)
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[issue_tag.c.issue_id, issue_tag.c.key, issue_tag.c.value],
        set_={
            "times_seen": issue_tag.c.times_seen + new.times_seen,
            "first_seen": case(
                (new.first_seen < issue_tag.c.first_seen, new.first_seen), else_=issue_tag.c.first_seen
            ),
            "last_seen": case(
                (new.last_seen > issue_tag.c.last_seen, new.last_seen), else_=issue_tag.c.last_seen
            ),
        },
    )
    rows = [
        {
            "issue_id": issue_id,
            "key": key,
            "value": value,
            "times_seen": c.times_seen,
            "first_seen": c.first_seen,
            "last_seen": c.last_seen,
        }
        for (issue_id, key, value), c in sorted(counts.items())
    ]
    conn.execute(stmt, rows)


# (issue id, bucket, environment or "") → events
BucketCounts = Mapping[tuple[int, int, str], int]


def add_issue_counts(conn: Connection, minutes: BucketCounts, hours: BucketCounts) -> None:
    _add_counts(conn, issue_count_minute, "minute", minutes)
    _add_counts(conn, issue_count_hour, "hour", hours)


def _add_counts(conn: Connection, table: Table, bucket: str, counts: BucketCounts) -> None:
    if not counts:
        return
    stmt = upsert(table, conn)
    stmt = stmt.on_conflict_do_update(
        index_elements=["issue_id", bucket, "environment"],
        set_={"events": table.c.events + stmt.excluded.events},
    )
    rows = [
        {"issue_id": issue_id, bucket: b, "environment": env, "events": n}
        for (issue_id, b, env), n in sorted(counts.items())
    ]
    conn.execute(stmt, rows)


def add_outcomes(conn: Connection, hour: int, outcomes: Mapping[OutcomeKey, int]) -> None:
    if not outcomes:
        return
    stmt = upsert(outcome_counter, conn)
    stmt = stmt.on_conflict_do_update(
        index_elements=["project_id", "hour", "category", "outcome", "reason", "key_id"],
        set_={"quantity": outcome_counter.c.quantity + stmt.excluded.quantity},
    )
    rows = [
        {
            "project_id": k.project_id,
            "hour": hour,
            "category": k.category,
            "outcome": k.outcome.value,
            "reason": k.reason,
            "key_id": k.key_id,
            "quantity": quantity,
        }
        for k, quantity in sorted(outcomes.items(), key=lambda item: _outcome_sort_key(item[0]))
    ]
    conn.execute(stmt, rows)


def _outcome_sort_key(key: OutcomeKey) -> tuple[int, str, str, str, int]:
    return (key.project_id, key.category, key.outcome.value, key.reason, key.key_id)


def add_events_stored(conn: Connection, per_project: Mapping[int, int]) -> None:
    for project_id, n in sorted(per_project.items()):
        conn.execute(
            update(project)
            .where(project.c.id == project_id)
            .values(events_stored=project.c.events_stored + n)
        )


def prune_minute_counts(conn: Connection, before_minute: int) -> int:
    """Drop per-minute counts older than `before_minute`; per-hour counts keep the long view."""
    result = conn.execute(issue_count_minute.delete().where(issue_count_minute.c.minute < before_minute))
    return result.rowcount


def events_in_window(
    conn: Connection, issue_ids: list[int], now: float, seconds: int, environment: str | None = None
) -> dict[int, int]:
    """Events per issue in the window that ends now (in one environment if given), from the
    per-minute counts for windows up to an hour and the per-hour counts beyond. The oldest bucket
    is counted whole when the window starts inside it, so a count can include up to a bucket's
    width of older events: "more than 100 in 1h" may fire up to a minute early, never late."""
    if not issue_ids:
        return {}
    table, width, bucket = (
        (issue_count_minute, 60, issue_count_minute.c.minute)
        if seconds <= 3600
        else (issue_count_hour, 3600, issue_count_hour.c.hour)
    )
    query = (
        select(table.c.issue_id, func.sum(table.c.events))
        .where(table.c.issue_id.in_(sorted(issue_ids)), bucket >= int((now - seconds) // width))
        .group_by(table.c.issue_id)
    )
    if environment is not None:
        query = query.where(table.c.environment == environment)
    return {issue_id: int(total) for issue_id, total in conn.execute(query)}


def users_in_window(conn: Connection, issue_ids: list[int], now: float, seconds: int) -> dict[int, int]:
    """Distinct users per issue with an event in the window that ends now: the issue's `user` tag
    values last seen inside it. Exact, and no event is read: a user's last_seen is the time of
    their newest event."""
    if not issue_ids:
        return {}
    rows = conn.execute(
        select(issue_tag.c.issue_id, func.count())
        .where(
            issue_tag.c.issue_id.in_(sorted(issue_ids)),
            issue_tag.c.key == "user",
            issue_tag.c.last_seen >= now - seconds,
        )
        .group_by(issue_tag.c.issue_id)
    )
    return {issue_id: int(total) for issue_id, total in rows}
