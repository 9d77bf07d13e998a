"""Issues in the JSON shape of Sentry's API (protocol.md §8): string ids, `count` a string and
`userCount` an integer, `status` with its `substatus` and `statusDetails`, the project, the
assignee, a permalink to the issue page, and the `stats` series of events per bucket.

`IssueFacts` reads what a page of issues needs beyond its rows with a few queries for the whole
page, so a list of 100 issues costs the same handful of queries as one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from shoal.api.projects import project_summary
from shoal.clock import iso_utc
from shoal.store import histograms, issue_details, projects, search, triage
from shoal.store.issues import IssueRow
from shoal.store.projects import ProjectInfo
from shoal.store.triage import Resolution, StoredSnooze

# The periods of an issue list's `statsPeriod`, as Sentry names them, and the detail's series:
# (buckets, hours per bucket). Sentry's detail shows 24 hours by the hour and 30 days by the day.
LIST_PERIODS = search.SPARKLINE_PERIODS
DETAIL_PERIODS = {"24h": (24, 1), "30d": (30, 24)}


@dataclass(frozen=True)
class IssueFacts:
    """What the JSON of some issues shows beyond their rows."""

    public_url: str
    now: float
    projects: dict[int, ProjectInfo]
    comments: dict[int, int]
    assignees: dict[int, str]
    resolutions: dict[int, Resolution]
    snoozes: dict[int, StoredSnooze]
    stats: dict[int, dict[str, list[list[int]]]]  # issue → period → [[bucket start, events], …]


def issue_facts(
    conn: Connection, rows: Sequence[IssueRow], *, public_url: str, now: float, stats_period: str
) -> IssueFacts:
    """The facts for a list page; `stats_period` is "24h", "14d" or "" (no stats)."""
    ids = [row.id for row in rows]
    stats: dict[int, dict[str, list[list[int]]]] = {}
    if stats_period:
        counts = search.sparkline_counts(conn, ids, now, stats_period)
        buckets, width = LIST_PERIODS[stats_period]
        starts = _bucket_starts(now, buckets, width)
        stats = {i: {stats_period: [[s, c] for s, c in zip(starts, counts[i], strict=True)]} for i in ids}
    return _facts(conn, rows, public_url, now, stats)


def detail_facts(conn: Connection, row: IssueRow, *, public_url: str, now: float) -> IssueFacts:
    """The facts for one issue's detail, with its 24-hour and 30-day series."""
    series = {name: _series(conn, row.id, now, *shape) for name, shape in DETAIL_PERIODS.items()}
    return _facts(conn, [row], public_url, now, {row.id: series})


def _facts(
    conn: Connection,
    rows: Sequence[IssueRow],
    public_url: str,
    now: float,
    stats: dict[int, dict[str, list[list[int]]]],
) -> IssueFacts:
    ids = [row.id for row in rows]
    found = {pid: projects.get_project(conn, pid) for pid in {row.project_id for row in rows}}
    return IssueFacts(
        public_url=public_url,
        now=now,
        projects={pid: p for pid, p in found.items() if p is not None},
        comments=issue_details.comment_counts(conn, ids),
        assignees=issue_details.emails(conn, [r.assignee_id for r in rows if r.assignee_id is not None]),
        resolutions=triage.resolutions(conn, [r.id for r in rows if r.status == "resolved"]),
        snoozes=triage.snoozes(conn, [r.id for r in rows if r.status == "ignored"]),
        stats=stats,
    )


def _bucket_starts(now: float, buckets: int, width: int) -> list[int]:
    """Unix seconds at which each bucket starts, oldest first; the last holds the current hour."""
    first = int(now // 3600) - buckets * width + 1
    return [(first + index * width) * 3600 for index in range(buckets)]


def _series(conn: Connection, issue_id: int, now: float, buckets: int, width: int) -> list[list[int]]:
    current = int(now // 3600)
    first = current - buckets * width + 1
    hourly = histograms.events_per_hour(conn, issue_id, first, current)
    totals = [0] * buckets
    for hour, events in hourly.items():
        totals[(hour - first) // width] += events
    return [[start, total] for start, total in zip(_bucket_starts(now, buckets, width), totals, strict=True)]


# ------------------------------------------------------------------------------------- the JSON


def issue_json(row: IssueRow, facts: IssueFacts) -> dict[str, Any]:
    project = facts.projects[row.project_id]
    body: dict[str, Any] = {
        "id": str(row.id),
        "shareId": None,
        "shortId": row.short_id,
        "title": row.title,
        "culprit": row.culprit,
        "permalink": f"{facts.public_url}/issues/{row.id}/",
        "logger": None,
        "level": row.level,
        "status": row.status,
        "statusDetails": status_details(row, facts),
        "substatus": substatus(row, facts.now),
        "isPublic": False,
        "platform": row.platform,
        "project": project_summary(project),
        "type": row.type,
        "issueType": "error",
        "issueCategory": "error",
        "metadata": row.metadata,
        "numComments": facts.comments.get(row.id, 0),
        "assignedTo": _assignee(row, facts),
        "isBookmarked": False,
        "isSubscribed": False,
        "subscriptionDetails": None,
        "hasSeen": False,
        "annotations": [],
        "count": str(row.times_seen),
        "userCount": row.users_seen,
        "firstSeen": iso_utc(row.first_seen),
        "lastSeen": iso_utc(row.last_seen),
    }
    if row.id in facts.stats:
        body["stats"] = facts.stats[row.id]
    return body


def substatus(row: IssueRow, now: float) -> str | None:
    """Sentry's substatus: none for a resolved issue; "new" turns "ongoing" after 7 days, as the
    stream's search and badge age it (shoal.store.search.NEW_FOR_SECONDS)."""
    if row.status == "resolved":
        return None
    if (
        row.status == "unresolved"
        and row.substatus == "new"
        and row.first_seen < now - search.NEW_FOR_SECONDS
    ):
        return "ongoing"
    return row.substatus or ("ongoing" if row.status == "unresolved" else "archived_forever")


def status_details(row: IssueRow, facts: IssueFacts) -> dict[str, Any]:
    if row.status == "resolved":
        resolution = facts.resolutions.get(row.id)
        if resolution is None:
            return {}
        if resolution.kind == "in_release":
            return {"inRelease": resolution.release}
        return {"inNextRelease": True}
    snooze = facts.snoozes.get(row.id) if row.status == "ignored" else None
    if snooze is None:
        return {}
    return {
        "ignoreUntil": iso_utc(snooze.until),
        "ignoreCount": snooze.count,
        "ignoreWindow": snooze.window,
        "ignoreUserCount": snooze.user_count,
        "ignoreUserWindow": snooze.user_window,
        "actor": None,
    }


def _assignee(row: IssueRow, facts: IssueFacts) -> dict[str, Any] | None:
    email = facts.assignees.get(row.assignee_id) if row.assignee_id is not None else None
    if row.assignee_id is None or email is None:
        return None
    return user_actor(row.assignee_id, email)


def user_actor(user_id: int, email: str) -> dict[str, Any]:
    """A person as Sentry's `assignedTo` names one."""
    return {"type": "user", "id": str(user_id), "name": email, "email": email}
