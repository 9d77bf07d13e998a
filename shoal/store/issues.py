"""Issues: finding one by grouping hash, creating one, folding a batch of events into its counters,
and the reads behind the issue list and issue page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Row, bindparam, case, delete, func, insert, select, update

from shoal.store.schema import issue, issue_count_hour, issue_count_minute, issue_hash, issue_tag, project


@dataclass(frozen=True, slots=True)
class NewIssue:
    project_id: int
    type: str
    title: str
    culprit: str
    level: str
    platform: str
    metadata: dict[str, str]
    first_seen: float
    release: str | None


@dataclass(frozen=True, slots=True)
class IssueUpdate:
    """What a batch adds to one issue; the summary fields come from its newest event."""

    issue_id: int
    times_seen: int
    first_seen: float
    last_seen: float
    title: str
    culprit: str
    level: str
    metadata: dict[str, str]
    release: str | None


@dataclass(frozen=True, slots=True)
class IssueRow:
    id: int
    project_id: int
    short_id: str
    type: str
    title: str
    culprit: str
    level: str
    platform: str
    metadata: dict[str, Any]
    status: str
    substatus: str
    first_seen: float
    last_seen: float
    first_release: str | None
    last_release: str | None
    times_seen: int
    users_seen: int
    assignee_id: int | None = None
    resolved_at: float | None = None


def issues_by_hash(conn: Connection, project_id: int, hashes: Iterable[str]) -> dict[str, int]:
    """The issue each of the project's known `hashes` belongs to."""
    wanted = list(hashes)
    if not wanted:
        return {}
    rows = conn.execute(
        select(issue_hash.c.hash, issue_hash.c.issue_id).where(
            issue_hash.c.project_id == project_id, issue_hash.c.hash.in_(wanted)
        )
    )
    return {row.hash: row.issue_id for row in rows}


def create_issue(conn: Connection, new: NewIssue) -> int:
    """A new issue with the project's next short id; its counters start at zero."""
    short_id = conn.execute(
        update(project)
        .where(project.c.id == new.project_id)
        .values(next_short_id=project.c.next_short_id + 1)
        .returning(project.c.next_short_id - 1)
    ).scalar_one()
    result = conn.execute(
        insert(issue)
        .values(
            project_id=new.project_id,
            short_id=short_id,
            type=new.type,
            title=new.title,
            culprit=new.culprit,
            level=new.level,
            platform=new.platform,
            metadata=orjson.dumps(new.metadata).decode(),
            status="unresolved",
            substatus="new",
            first_seen=new.first_seen,
            last_seen=new.first_seen,
            first_release=new.release,
            last_release=new.release,
            times_seen=0,
            users_seen=0,
        )
        .returning(issue.c.id)
    )
    return int(result.scalar_one())


def attach_hashes(conn: Connection, rows: Sequence[tuple[int, str, int]]) -> None:
    """Record (project_id, hash) → issue_id. A hash another worker attached first raises
    IntegrityError, and the caller retries its batch, which then finds that worker's issue."""
    if rows:
        conn.execute(insert(issue_hash), [{"project_id": p, "hash": h, "issue_id": i} for p, h, i in rows])


def apply_issue_updates(conn: Connection, updates: Sequence[IssueUpdate]) -> None:
    if not updates:
        return
    # In an UPDATE every right-hand side sees the row as it was, so "newer than last_seen" compares
    # against the old value for every column.
    newer = bindparam("b_last_seen") >= issue.c.last_seen
    stmt = (
        update(issue)
        .where(issue.c.id == bindparam("b_id"))
        .values(
            times_seen=issue.c.times_seen + bindparam("b_times_seen"),
            first_seen=case(
                (bindparam("b_first_seen") < issue.c.first_seen, bindparam("b_first_seen")),
                else_=issue.c.first_seen,
            ),
            last_seen=case((newer, bindparam("b_last_seen")), else_=issue.c.last_seen),
            title=case((newer, bindparam("b_title")), else_=issue.c.title),
            culprit=case((newer, bindparam("b_culprit")), else_=issue.c.culprit),
            level=case((newer, bindparam("b_level")), else_=issue.c.level),
            metadata=case((newer, bindparam("b_metadata")), else_=issue.c.metadata),
            last_release=case(
                (newer, func.coalesce(bindparam("b_release"), issue.c.last_release)),
                else_=issue.c.last_release,
            ),
        )
    )
    # Sorted by id: two PostgreSQL workers then lock shared issues in the same order (no deadlock).
    conn.execute(
        stmt,
        [
            {
                "b_id": u.issue_id,
                "b_times_seen": u.times_seen,
                "b_first_seen": u.first_seen,
                "b_last_seen": u.last_seen,
                "b_title": u.title,
                "b_culprit": u.culprit,
                "b_level": u.level,
                "b_metadata": orjson.dumps(u.metadata).decode(),
                "b_release": u.release,
            }
            for u in sorted(updates, key=lambda u: u.issue_id)
        ],
    )


def recount_users(conn: Connection, issue_ids: Iterable[int]) -> None:
    """users_seen = distinct `user` tag values, which issue_tag already holds one row each."""
    ids = sorted(issue_ids)
    if not ids:
        return
    distinct_users = (
        select(func.count())
        .where(issue_tag.c.issue_id == issue.c.id, issue_tag.c.key == "user")
        .scalar_subquery()
    )
    conn.execute(update(issue).where(issue.c.id.in_(ids)).values(users_seen=distinct_users))


def list_issues(conn: Connection, project_id: int, limit: int, offset: int) -> list[IssueRow]:
    rows = conn.execute(
        _issue_select()
        .where(issue.c.project_id == project_id)
        .order_by(issue.c.last_seen.desc(), issue.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_issue_row(row) for row in rows]


def count_issues(conn: Connection, project_id: int) -> int:
    return int(conn.execute(select(func.count()).where(issue.c.project_id == project_id)).scalar_one())


def get_issue(conn: Connection, issue_id: int) -> IssueRow | None:
    row = conn.execute(_issue_select().where(issue.c.id == issue_id)).first()
    return _issue_row(row) if row else None


def _issue_select() -> Any:
    return select(issue, project.c.slug.label("project_slug")).join(
        project, project.c.id == issue.c.project_id
    )


def _issue_row(row: Row[Any]) -> IssueRow:
    return IssueRow(
        id=row.id,
        project_id=row.project_id,
        short_id=f"{row.project_slug.upper()}-{row.short_id}",
        type=row.type,
        title=row.title,
        culprit=row.culprit,
        level=row.level,
        platform=row.platform,
        metadata=orjson.loads(row.metadata),
        status=row.status,
        substatus=row.substatus,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        first_release=row.first_release,
        last_release=row.last_release,
        times_seen=row.times_seen,
        users_seen=row.users_seen,
        assignee_id=row.assignee_id,
        resolved_at=row.resolved_at,
    )


@dataclass(frozen=True, slots=True)
class TagBreakdown:
    key: str
    total: int  # events counted under this key
    distinct: int  # distinct values
    top: list[tuple[str, int]]  # the most frequent values and their counts


def tag_breakdown(conn: Connection, issue_id: int, top: int = 5) -> list[TagBreakdown]:
    """Per tag key, its most frequent values, using window functions (SQLite ≥ 3.25, PostgreSQL)."""
    ranked = (
        select(
            issue_tag.c.key,
            issue_tag.c.value,
            issue_tag.c.times_seen,
            func.row_number()
            .over(partition_by=issue_tag.c.key, order_by=(issue_tag.c.times_seen.desc(), issue_tag.c.value))
            .label("rank"),
            func.sum(issue_tag.c.times_seen).over(partition_by=issue_tag.c.key).label("total"),
            func.count().over(partition_by=issue_tag.c.key).label("distinct"),
        )
        .where(issue_tag.c.issue_id == issue_id)
        .subquery()
    )
    rows = conn.execute(
        select(ranked).where(ranked.c.rank <= top).order_by(ranked.c.key, ranked.c.rank)
    ).all()
    breakdowns: dict[str, TagBreakdown] = {}
    for row in rows:
        entry = breakdowns.setdefault(row.key, TagBreakdown(row.key, int(row.total), int(row.distinct), []))
        entry.top.append((row.value, int(row.times_seen)))
    return list(breakdowns.values())


# ---------------------------------------------------------------- moving events between issues


def hashes_of_issue(conn: Connection, issue_id: int) -> list[str]:
    rows = conn.execute(
        select(issue_hash.c.hash).where(issue_hash.c.issue_id == issue_id).order_by(issue_hash.c.hash)
    )
    return [row.hash for row in rows]


def move_hashes(conn: Connection, project_id: int, hashes: Iterable[str], to_issue: int) -> None:
    wanted = list(hashes)
    if wanted:
        conn.execute(
            update(issue_hash)
            .where(issue_hash.c.project_id == project_id, issue_hash.c.hash.in_(wanted))
            .values(issue_id=to_issue)
        )


def forget_project_hashes(conn: Connection, project_id: int) -> None:
    """Drop every hash → issue link of a project, before regrouping builds them anew; but not the
    tombstones of deleted-and-discarded issues (shoal/store/discards.py): no stored event explains
    them, and they must keep discarding."""
    conn.execute(
        delete(issue_hash).where(issue_hash.c.project_id == project_id, issue_hash.c.tombstone.is_(False))
    )


def reset_issue_counts(conn: Connection, issue_ids: Iterable[int]) -> None:
    """Zero the counters and drop the aggregates of these issues, so that counting their events again
    rebuilds them (`shoal.digest.store.count_into_issues`)."""
    ids = sorted(issue_ids)
    if not ids:
        return
    for table in (issue_tag, issue_count_minute, issue_count_hour):
        conn.execute(delete(table).where(table.c.issue_id.in_(ids)))
    conn.execute(
        update(issue)
        .where(issue.c.id.in_(ids))
        .values(times_seen=0, users_seen=0, first_seen=float("inf"), last_seen=float("-inf"))
    )


def set_first_release(conn: Connection, issue_id: int, release: str | None) -> None:
    conn.execute(update(issue).where(issue.c.id == issue_id).values(first_release=release))


def delete_issues(conn: Connection, issue_ids: Iterable[int]) -> None:
    ids = sorted(issue_ids)
    if ids:
        conn.execute(delete(issue).where(issue.c.id.in_(ids)))


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What alert rules and their messages read of an issue, after the batch was counted in."""

    id: int
    project_id: int
    organization_id: int
    project_slug: str
    short_id: str
    status: str
    title: str
    culprit: str
    level: str
    first_seen: float
    last_seen: float
    times_seen: int
    users_seen: int
    assignee_id: int | None


def alert_facts(conn: Connection, issue_ids: Iterable[int]) -> dict[int, AlertFacts]:
    ids = sorted(issue_ids)
    if not ids:
        return {}
    rows = conn.execute(
        select(issue, project.c.slug.label("project_slug"), project.c.organization_id)
        .join(project, project.c.id == issue.c.project_id)
        .where(issue.c.id.in_(ids))
    )
    return {
        row.id: AlertFacts(
            id=row.id,
            project_id=row.project_id,
            organization_id=row.organization_id,
            project_slug=row.project_slug,
            short_id=f"{row.project_slug.upper()}-{row.short_id}",
            status=row.status,
            title=row.title,
            culprit=row.culprit,
            level=row.level,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            times_seen=row.times_seen,
            users_seen=row.users_seen,
            assignee_id=row.assignee_id,
        )
        for row in rows
    }


def statuses(conn: Connection, issue_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(issue_ids)
    if not ids:
        return {}
    rows = conn.execute(select(issue.c.id, issue.c.status).where(issue.c.id.in_(ids)))
    return {row.id: row.status for row in rows}


def latest_release(conn: Connection, project_id: int) -> str | None:
    """The release of the project's most recently seen issue event that had one: Shoal's "latest
    release" until releases are tracked on their own."""
    return conn.execute(
        select(issue.c.last_release)
        .where(issue.c.project_id == project_id, issue.c.last_release.is_not(None))
        .order_by(issue.c.last_seen.desc())
        .limit(1)
    ).scalar()
