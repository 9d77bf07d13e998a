"""Delete and discard: an issue's hashes are tombstoned, its events, tag values and counts deleted,
and the digest drops every later event whose first known hash is tombstoned (outcome
`filtered:discarded-hash`, shoal/digest/store.py), so it is never stored, counted or alerted on.
Undiscarding deletes the issue, its hashes with it: the error, when it comes again, starts a new
issue, as in Sentry (the tombstone removed, the group long gone).

The issue row stays, hidden (status "discarded": no stream, search or page shows it), because a
tombstone needs it: `issue_hash.issue_id` is NOT NULL and cascades on delete. It also keeps what
the Discarded issues list shows: the title, short id and how many events there were.

Sentry drops a discarded hash at ingest; Shoal knows an event's hashes only after grouping it, so
the drop happens in the digest, after the 200 (docs/filters.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, func, select, update

from shoal.store import projects, triage
from shoal.store.schema import (
    activity,
    event,
    issue,
    issue_count_hour,
    issue_count_minute,
    issue_hash,
    issue_tag,
    project,
    users,
)

DISCARDED = "discarded"  # issue.status of a deleted-and-discarded issue
_ACTIVITY = "discarded"


@dataclass(frozen=True)
class KnownHashes:
    """Of some hashes of a project: the issue each known one belongs to, and which are tombstoned."""

    issues: dict[str, int] = field(default_factory=dict)
    tombstoned: frozenset[str] = frozenset()


def known_hashes(conn: Connection, project_id: int, hashes: Iterable[str]) -> KnownHashes:
    """The digest's one lookup of a batch's hashes: issues and tombstones together."""
    wanted = list(hashes)
    if not wanted:
        return KnownHashes()
    rows = conn.execute(
        select(issue_hash.c.hash, issue_hash.c.issue_id, issue_hash.c.tombstone).where(
            issue_hash.c.project_id == project_id, issue_hash.c.hash.in_(wanted)
        )
    ).all()
    return KnownHashes(
        {row.hash: int(row.issue_id) for row in rows}, frozenset(row.hash for row in rows if row.tombstone)
    )


def tombstoned_hashes(conn: Connection, project_id: int) -> frozenset[str]:
    rows = conn.execute(
        select(issue_hash.c.hash).where(issue_hash.c.project_id == project_id, issue_hash.c.tombstone)
    )
    return frozenset(str(row.hash) for row in rows)


def discard_issues(conn: Connection, issue_ids: Sequence[int], user_id: int | None, now: float) -> int:
    """Tombstone the issues' hashes, delete their events and counts, hide them; return how many
    were discarded (an issue already discarded is left as it is). The issues' projects are locked
    first, as the digest locks them for a batch: no batch lands an event in between."""
    rows = conn.execute(
        select(issue.c.id, issue.c.project_id).where(issue.c.id.in_(issue_ids), issue.c.status != DISCARDED)
    ).all()
    if not rows:
        return 0
    for project_id in sorted({int(row.project_id) for row in rows}):
        projects.lock_project(conn, project_id)
    ids = sorted(int(row.id) for row in rows)
    conn.execute(update(issue_hash).where(issue_hash.c.issue_id.in_(ids)).values(tombstone=True))
    for table in (event, issue_tag, issue_count_minute, issue_count_hour):
        conn.execute(delete(table).where(table.c.issue_id.in_(ids)))
    conn.execute(update(issue).where(issue.c.id.in_(ids)).values(status=DISCARDED, substatus=""))
    for issue_id in ids:
        triage.add_activity(conn, issue_id, user_id, _ACTIVITY, data={}, now=now)
    return len(ids)


@dataclass(frozen=True)
class DiscardedIssue:
    id: int
    short_id: str
    title: str
    times_seen: int  # events it had when it was discarded
    hashes: int
    discarded_at: float | None
    discarded_by: str | None  # the email of who discarded it, None when unknown or deleted


def discarded_issues(conn: Connection, project_id: int) -> list[DiscardedIssue]:
    """The project's discarded issues, most recently discarded first."""
    hashes = (
        select(func.count())
        .where(issue_hash.c.issue_id == issue.c.id, issue_hash.c.tombstone)
        .correlate(issue)
        .scalar_subquery()
    )
    last = (
        select(func.max(activity.c.id))
        .where(activity.c.issue_id == issue.c.id, activity.c.type == _ACTIVITY)
        # Only the issue: the outer query joins `activity` too, which must stay this one's FROM.
        .correlate(issue)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(
            issue.c.id,
            issue.c.short_id,
            issue.c.title,
            issue.c.times_seen,
            project.c.slug,
            hashes.label("hashes"),
            activity.c.created_at,
            users.c.email,
        )
        .join(project, project.c.id == issue.c.project_id)
        .outerjoin(activity, activity.c.id == last)
        .outerjoin(users, users.c.id == activity.c.user_id)
        .where(issue.c.project_id == project_id, issue.c.status == DISCARDED)
        .order_by(activity.c.created_at.desc(), issue.c.id.desc())
    )
    return [
        DiscardedIssue(
            id=int(row.id),
            short_id=f"{row.slug.upper()}-{row.short_id}",
            title=str(row.title),
            times_seen=int(row.times_seen),
            hashes=int(row.hashes),
            discarded_at=float(row.created_at) if row.created_at is not None else None,
            discarded_by=row.email,
        )
        for row in rows
    ]


def undiscard(conn: Connection, project_id: int, issue_id: int) -> bool:
    """Remove the tombstones by deleting the discarded issue (its hashes, activity and the rest go
    with it, ON DELETE CASCADE). False if the project has no such discarded issue."""
    result = conn.execute(
        delete(issue).where(
            issue.c.id == issue_id, issue.c.project_id == project_id, issue.c.status == DISCARDED
        )
    )
    return result.rowcount > 0
