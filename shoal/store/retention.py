"""The store's side of retention: each project's retention setting, which of an issue's events are
past it and which of those are kept as samples (the issue's first event and the events that
regressed it), deleting events by row id, and the idle issues left without any event.

Every query that walks events goes through the (issue_id, timestamp, id) index: there is no index on
the event table's project and time, and a scan of the whole table per batch would cost more than
the deletes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, and_, delete, exists, func, select, update

from shoal.store import attachments
from shoal.store.schema import activity, event, issue, issue_hash, project, transaction_event

DEFAULT_DAYS = 30  # project.retention_days' server default: the chapter's plan
MIN_DAYS = 1
MAX_DAYS = 3650  # ten years


@dataclass(frozen=True)
class ProjectRetention:
    id: int
    slug: str
    days: int


def project_retentions(conn: Connection, slug: str | None = None) -> list[ProjectRetention]:
    """Every project (or those with this slug, in any organization) with its retention in days."""
    query = select(project.c.id, project.c.slug, project.c.retention_days).order_by(project.c.id)
    if slug is not None:
        query = query.where(project.c.slug == slug)
    return [ProjectRetention(row.id, row.slug, int(row.retention_days)) for row in conn.execute(query)]


def retention_days(conn: Connection, project_id: int) -> int:
    return int(conn.execute(select(project.c.retention_days).where(project.c.id == project_id)).scalar_one())


def set_retention_days(conn: Connection, project_id: int, days: int) -> None:
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValueError(f"retention must be {MIN_DAYS}–{MAX_DAYS} days, not {days}")
    conn.execute(update(project).where(project.c.id == project_id).values(retention_days=days))


# ------------------------------------------------------------------------------------- events

# Issue ids per IN list: well under SQLite's 32,766 bound parameters, and PostgreSQL's 65,535.
_CHUNK = 1000


@dataclass(frozen=True)
class Sample:
    """An event that regressed its issue, which retention keeps."""

    issue_id: int
    event_id: int  # the row's id
    timestamp: float


def issues_with_events_before(conn: Connection, project_id: int, cutoff: float) -> list[int]:
    """The project's issues that may have events older than `cutoff`: first_seen is the oldest
    event's timestamp (the digest keeps the minimum), so younger issues have none."""
    rows = conn.execute(
        select(issue.c.id).where(issue.c.project_id == project_id, issue.c.first_seen < cutoff)
    )
    return sorted(row.id for row in rows)


def old_event_counts(conn: Connection, issue_ids: Sequence[int], cutoff: float) -> dict[int, int]:
    """Per issue, its events older than `cutoff`, samples included (read from the index alone)."""
    counts: dict[int, int] = {}
    for chunk in _chunks(issue_ids):
        rows = conn.execute(
            select(event.c.issue_id, func.count())
            .where(event.c.issue_id.in_(chunk), event.c.timestamp < cutoff)
            .group_by(event.c.issue_id)
        )
        counts.update((int(issue_id), int(n)) for issue_id, n in rows)
    return counts


def regression_samples(conn: Connection, issue_ids: Sequence[int], after_activity: int = 0) -> list[Sample]:
    """The events that regressed these issues (in activities after `after_activity`, an activity id):
    each `set_regression` activity names its event (shoal.store.triage.regress)."""
    named: dict[str, int] = {}
    legacy: list[tuple[int, float]] = []
    for chunk in _chunks(issue_ids):
        rows = conn.execute(
            select(activity.c.issue_id, activity.c.data, activity.c.created_at).where(
                activity.c.issue_id.in_(chunk),
                activity.c.type == "set_regression",
                activity.c.id > after_activity,
            )
        )
        for row in rows:
            event_id = orjson.loads(row.data).get("event_id")
            if event_id:
                named[event_id] = row.issue_id
            else:
                legacy.append((row.issue_id, row.created_at))
    return _named_samples(conn, named) + [s for i, at in legacy if (s := _event_before(conn, i, at))]


def _named_samples(conn: Connection, named: dict[str, int]) -> list[Sample]:
    samples = []
    for chunk in _chunks(sorted(named)):
        rows = conn.execute(
            select(event.c.id, event.c.issue_id, event.c.event_id, event.c.timestamp).where(
                event.c.event_id.in_(chunk)
            )
        )
        samples += [Sample(r.issue_id, r.id, r.timestamp) for r in rows if named[r.event_id] == r.issue_id]
    return samples


def _event_before(conn: Connection, issue_id: int, moment: float) -> Sample | None:
    """Regressions recorded before activities named their event: the issue's newest event up to the
    moment the regression was recorded (the digest records it right after the event arrived), the
    nearest guess the table allows."""
    row = conn.execute(
        select(event.c.id, event.c.timestamp)
        .where(event.c.issue_id == issue_id, event.c.timestamp <= moment)
        .order_by(event.c.timestamp.desc(), event.c.id.desc())
        .limit(1)
    ).first()
    return Sample(issue_id, row.id, row.timestamp) if row else None


def old_event_ids(
    conn: Connection, issue_id: int, cutoff: float, samples: Collection[int], limit: int
) -> list[int]:
    """Up to `limit` of the issue's events older than `cutoff`, oldest first, without its samples:
    OFFSET 1 skips the first event, which is the oldest (timestamp, id) of the range whenever the
    range has any event (the issue page and suspect commits pick the first event by that order)."""
    query = select(event.c.id).where(event.c.issue_id == issue_id, event.c.timestamp < cutoff)
    if samples:
        query = query.where(event.c.id.not_in(sorted(samples)))
    rows = conn.execute(query.order_by(event.c.timestamp, event.c.id).limit(limit).offset(1))
    return [int(row.id) for row in rows]


def last_activity_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(activity.c.id), 0))).scalar_one())


def events_in_issues(conn: Connection, wanted: dict[int, int]) -> dict[int, int]:
    """Of `wanted` (event row id → issue id), those still in that issue (a merge may have moved
    some since), each with its compressed payload's size. length() of a blob is read from the row's
    header on SQLite and from the TOAST pointer on PostgreSQL: the payloads are not loaded."""
    found: dict[int, int] = {}
    for chunk in _chunks(sorted(wanted)):
        rows = conn.execute(
            select(event.c.id, event.c.issue_id, func.length(event.c.payload).label("size")).where(
                event.c.id.in_(chunk)
            )
        )
        found.update((int(r.id), int(r.size)) for r in rows if wanted[r.id] == r.issue_id)
    # Their attachments go with them (ON DELETE CASCADE): the bytes freed are theirs too.
    for event_row_id, size in attachments.stored_bytes(conn, found.keys()).items():
        found[event_row_id] += size
    return found


def old_payload_bytes(conn: Connection, issue_id: int, cutoff: float, samples: Collection[int]) -> int:
    """The payload bytes old_event_ids would find without a limit (a dry run; reads the rows)."""
    old = select(event.c.id).where(event.c.issue_id == issue_id, event.c.timestamp < cutoff)
    if samples:
        old = old.where(event.c.id.not_in(sorted(samples)))
    deletable = old.order_by(event.c.timestamp, event.c.id).offset(1).subquery()
    query = select(func.coalesce(func.sum(func.length(event.c.payload)), 0)).where(
        event.c.id.in_(select(deletable.c.id))
    )
    return int(conn.execute(query).scalar_one())


def delete_events(conn: Connection, event_ids: Collection[int]) -> int:
    deleted = 0
    for chunk in _chunks(sorted(event_ids), 10_000):
        deleted += int(conn.execute(delete(event).where(event.c.id.in_(chunk))).rowcount)
    return deleted


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ------------------------------------------------------------------------------- transactions


def old_transaction_ids(conn: Connection, project_id: int, cutoff: float, limit: int) -> list[int]:
    """Up to `limit` of the project's transactions that started before `cutoff` (by the
    (project_id, start_timestamp) index). None is kept: their numbers are not counted elsewhere,
    so the Performance page simply covers what retention keeps."""
    rows = conn.execute(
        select(transaction_event.c.id)
        .where(transaction_event.c.project_id == project_id, transaction_event.c.start_timestamp < cutoff)
        .limit(limit)
    )
    return [int(row.id) for row in rows]


def delete_transactions(conn: Connection, ids: Collection[int]) -> int:
    deleted = 0
    for chunk in _chunks(sorted(ids)):
        stmt = delete(transaction_event).where(transaction_event.c.id.in_(chunk))
        deleted += int(conn.execute(stmt).rowcount)
    return deleted


# ------------------------------------------------------------------------------------- issues


def empty_idle_issues(conn: Connection, project_id: int, cutoff: float, limit: int) -> list[int]:
    """Issues last seen before `cutoff` with no event left (GlitchTip's rule for deleting issues).
    An issue holding a tombstoned hash stays: deleting it would delete the tombstone, and events
    the user chose to discard would come back as a new issue."""
    has_event = exists().where(event.c.issue_id == issue.c.id)
    has_tombstone = exists().where(and_(issue_hash.c.issue_id == issue.c.id, issue_hash.c.tombstone))
    rows = conn.execute(
        select(issue.c.id)
        .where(issue.c.project_id == project_id, issue.c.last_seen < cutoff, ~has_event, ~has_tombstone)
        .order_by(issue.c.id)
        .limit(limit)
    )
    return [int(row.id) for row in rows]


def delete_issues(conn: Connection, issue_ids: Sequence[int]) -> int:
    """Delete issues; their tags, counts, hashes, activity and alert state go with them (ON DELETE
    CASCADE)."""
    if not issue_ids:
        return 0
    return int(conn.execute(delete(issue).where(issue.c.id.in_(sorted(issue_ids)))).rowcount)
