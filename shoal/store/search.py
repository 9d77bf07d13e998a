"""The issue stream's reads: the issues a search (`shoal.store.search_syntax`) finds in some
projects, sorted and a page at a time, how many it finds, and the per-issue event counts behind
the stream's sparklines.

Every filter is one SQL condition on `issue`; a tag, release or environment is an EXISTS on
`issue_tag`, whose primary key (issue, key, value) answers it per issue. One query per page, one
to count, one for all the page's sparklines: nothing runs per row in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    not_,
    or_,
    select,
)

from shoal.store.discards import DISCARDED
from shoal.store.issues import IssueRow
from shoal.store.schema import issue, issue_count_hour, issue_tag, project, users
from shoal.store.search_syntax import (
    Assigned,
    CountBound,
    FieldMatch,
    Filter,
    HasTag,
    Query,
    ShortId,
    Status,
    TagMatch,
    TimeBound,
)

# Sentry's "new" substatus lasts 7 days from the first event (reference §9.1); the store keeps the
# substatus an issue was created with, so searches age "new" into "ongoing" as the badge does
# (`shoal.web.triage_view.NEW_FOR_SECONDS`).
NEW_FOR_SECONDS = 7 * 86400

# The stream's sorts by their Sentry URL names, with what the sort menu calls them.
SORTS = {"date": "Last seen", "new": "First seen", "freq": "Events", "user": "Users", "priority": "Priority"}
DEFAULT_SORT = "date"
PRIORITY_HOURS = 24

SPARKLINE_PERIODS = {"24h": (24, 1), "14d": (14, 24)}  # buckets, hours per bucket


@dataclass(frozen=True)
class Scope:
    """Where a search looks and what its relative words mean: the projects, who "me" is, and now."""

    project_ids: Sequence[int]
    user_id: int
    now: float


def find_issues(
    conn: Connection, query: Query, scope: Scope, *, sort: str, limit: int, offset: int
) -> list[IssueRow]:
    """One page of the issues `query` finds in the scope, in `sort` order."""
    stmt = (
        select(issue, project.c.slug.label("project_slug"))
        .join(project, project.c.id == issue.c.project_id)
        .where(*_conditions(query, scope))
        .order_by(*_order(sort, scope.now))
        .limit(limit)
        .offset(offset)
    )
    return [_issue_row(row) for row in conn.execute(stmt)]


def count_issues(conn: Connection, query: Query, scope: Scope) -> int:
    stmt: Select[Any] = (
        select(func.count())
        .select_from(issue.join(project, project.c.id == issue.c.project_id))
        .where(*_conditions(query, scope))
    )
    return int(conn.execute(stmt).scalar_one())


def _conditions(query: Query, scope: Scope) -> list[ColumnElement[bool]]:
    if not scope.project_ids:
        return [false()]
    conditions: list[ColumnElement[bool]] = [issue.c.project_id.in_(list(scope.project_ids))]
    conditions.append(issue.c.status != DISCARDED)  # deleted and discarded: only its tombstones remain
    conditions.extend(_filter(f, scope) for f in query.filters)
    conditions.extend(_text(term) for term in query.text)
    return conditions


# -------------------------------------------------------------------------------------- filters


def _filter(f: Filter, scope: Scope) -> ColumnElement[bool]:
    condition = _CONDITIONS[type(f)](f, scope)
    if not f.negated:
        return condition
    # NOT of a comparison with NULL (an issue without a first release) is NULL, which would drop
    # the issue; "not this release" should keep it.
    return not_(func.coalesce(condition, false()))


def _status(f: Status, scope: Scope) -> ColumnElement[bool]:
    return or_(*(_one_status(value, scope.now) for value in f.values))


def _one_status(value: str, now: float) -> ColumnElement[bool]:
    unresolved = issue.c.status == "unresolved"
    young = issue.c.first_seen >= now - NEW_FOR_SECONDS
    simple: dict[str, ColumnElement[bool]] = {
        "unresolved": unresolved,
        "resolved": issue.c.status == "resolved",
        "ignored": issue.c.status == "ignored",
        "archived": issue.c.status == "ignored",  # Sentry's newer name for ignored
        "assigned": issue.c.assignee_id.is_not(None),
        "unassigned": issue.c.assignee_id.is_(None),
        "regressed": and_(unresolved, issue.c.substatus == "regressed"),
        "escalating": and_(unresolved, issue.c.substatus == "escalating"),
        "new": and_(unresolved, issue.c.substatus == "new", young),
        "ongoing": and_(
            unresolved,
            or_(issue.c.substatus.in_(["ongoing", ""]), and_(issue.c.substatus == "new", not_(young))),
        ),
    }
    return simple[value]


def _field(f: FieldMatch, _scope: Scope) -> ColumnElement[bool]:
    column = issue.c.level if f.field == "level" else issue.c.first_release
    return or_(*(_matches(column, value) for value in f.values))


def _tag(f: TagMatch, _scope: Scope) -> ColumnElement[bool]:
    values = or_(*(_matches(issue_tag.c.value, value) for value in f.values))
    return exists().where(issue_tag.c.issue_id == issue.c.id, issue_tag.c.key == f.key, values)


def _has(f: HasTag, _scope: Scope) -> ColumnElement[bool]:
    keys = issue_tag.c.key.in_(list(f.keys))
    return exists().where(issue_tag.c.issue_id == issue.c.id, keys)


def _assigned(f: Assigned, scope: Scope) -> ColumnElement[bool]:
    emails = [value for value in f.values if "@" in value]
    choices = []
    if "me" in f.values:
        choices.append(issue.c.assignee_id == scope.user_id)
    if "none" in f.values:
        choices.append(issue.c.assignee_id.is_(None))
    if emails:
        choices.append(issue.c.assignee_id.in_(select(users.c.id).where(users.c.email.in_(emails))))
    return or_(*choices)


def _time(f: TimeBound, scope: Scope) -> ColumnElement[bool]:
    column = issue.c.first_seen if f.field == "first_seen" else issue.c.last_seen
    moment = f.at if f.at is not None else scope.now - (f.ago or 0)
    return _compare(column, f.op, moment)


def _count(f: CountBound, _scope: Scope) -> ColumnElement[bool]:
    column = issue.c.times_seen if f.field == "times_seen" else issue.c.users_seen
    return _compare(column, f.op, f.value)


def _short_id(f: ShortId, _scope: Scope) -> ColumnElement[bool]:
    return or_(*(and_(project.c.slug == slug, issue.c.short_id == number) for slug, number in f.ids))


_CONDITIONS: dict[type, Callable[[Any, Scope], ColumnElement[bool]]] = {
    Status: _status,
    FieldMatch: _field,
    TagMatch: _tag,
    HasTag: _has,
    Assigned: _assigned,
    TimeBound: _time,
    CountBound: _count,
    ShortId: _short_id,
}


def _compare(column: Any, op: str, value: float) -> ColumnElement[bool]:
    comparisons: dict[str, Callable[[], ColumnElement[bool]]] = {
        ">": lambda: column > value,
        ">=": lambda: column >= value,
        "<": lambda: column < value,
        "<=": lambda: column <= value,
        "=": lambda: column == value,
    }
    return comparisons[op]()


def _matches(column: Any, value: str) -> ColumnElement[bool]:
    """Equal to `value`, or, when it has a `*`, like it (ignoring case, the same on both backends)."""
    if "*" not in value:
        return column == value  # type: ignore[no-any-return]
    return column.ilike(_like_pattern(value).replace("*", "%"), escape="\\")  # type: ignore[no-any-return]


def _text(term: str) -> ColumnElement[bool]:
    pattern = f"%{_like_pattern(term)}%"
    return or_(issue.c.title.ilike(pattern, escape="\\"), issue.c.culprit.ilike(pattern, escape="\\"))


def _like_pattern(text: str) -> str:
    """`text` with LIKE's own wildcards escaped, so that only `*` (turned into % by the caller) is one."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---------------------------------------------------------------------------------------- sorts


def _order(sort: str, now: float) -> list[Any]:
    tiebreak = [issue.c.last_seen.desc(), issue.c.id.desc()]
    if sort == "new":
        return [issue.c.first_seen.desc(), issue.c.id.desc()]
    if sort == "freq":
        return [issue.c.times_seen.desc(), *tiebreak]
    if sort == "user":
        return [issue.c.users_seen.desc(), *tiebreak]
    if sort == "priority":
        return [_priority(now).desc(), *tiebreak]
    return tiebreak


def _priority(now: float) -> ColumnElement[Any]:
    """Events of the last 24 hours, each weighted by how recent its hour is: 24 for one in the
    current hour, 23 for the hour before, … 1 for one 23 hours ago (docs/search.md). An issue not
    seen in those hours scores 0 without reading its counts."""
    current = int(now // 3600)
    first = current - PRIORITY_HOURS + 1
    weighted = (
        select(func.coalesce(func.sum(issue_count_hour.c.events * (issue_count_hour.c.hour - first + 1)), 0))
        .where(
            issue_count_hour.c.issue_id == issue.c.id,
            issue_count_hour.c.hour >= first,
            issue_count_hour.c.hour <= current,
        )
        .scalar_subquery()
    )
    return case((issue.c.last_seen >= first * 3600, weighted), else_=0)


# ------------------------------------------------------------------------------------- sparklines


def sparkline_counts(
    conn: Connection, issue_ids: Sequence[int], now: float, period: str
) -> dict[int, list[int]]:
    """Events per bucket for each issue, oldest bucket first, all environments summed: 24 hours or
    14 days ending with the current hour (`SPARKLINE_PERIODS`). One query for all the issues."""
    buckets, width = SPARKLINE_PERIODS[period]
    current = int(now // 3600)
    first = current - buckets * width + 1
    series = {issue_id: [0] * buckets for issue_id in issue_ids}
    if not series:
        return series
    bucketed = (
        select(
            issue_count_hour.c.issue_id,
            ((issue_count_hour.c.hour - first) // width).label("bucket"),
            issue_count_hour.c.events,
        )
        .where(
            issue_count_hour.c.issue_id.in_(list(series)),
            issue_count_hour.c.hour >= first,
            issue_count_hour.c.hour <= current,
        )
        .subquery()
    )
    rows = conn.execute(
        select(bucketed.c.issue_id, bucketed.c.bucket, func.sum(bucketed.c.events)).group_by(
            bucketed.c.issue_id, bucketed.c.bucket
        )
    )
    for issue_id, bucket, events in rows:
        series[issue_id][int(bucket)] = int(events)
    return series


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
