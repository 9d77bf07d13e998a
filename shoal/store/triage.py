"""An issue's state and its history: resolve (now, in a release, in the next release), ignore
(forever, until a time, until N more events or users, optionally within a window), unresolve,
assign, comment; the conditional updates the digest uses for regressions and escalations; and the
activity log every one of them writes to.

Statuses and substatuses are Sentry's (reference §9.1): unresolved with new / ongoing / regressed /
escalating, resolved, ignored (Sentry's "archived").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from shoal.store.schema import activity, issue, issue_resolution, issue_snooze, users

RESOLVE_KINDS = ("now", "in_release", "in_next_release")


@dataclass(frozen=True)
class Snooze:
    """Until when an ignored issue stays ignored; all None: forever."""

    until: float | None = None
    count: int | None = None
    window: int | None = None  # minutes
    user_count: int | None = None
    user_window: int | None = None  # minutes

    @property
    def forever(self) -> bool:
        return self.until is None and self.count is None and self.user_count is None


@dataclass(frozen=True)
class StoredSnooze(Snooze):
    times_seen_at: int = 0
    users_seen_at: int = 0
    created_at: float = 0.0


@dataclass(frozen=True)
class Resolution:
    kind: str  # in_release | in_next_release
    release: str | None
    created_at: float


@dataclass(frozen=True)
class ActivityEntry:
    id: int
    type: str
    data: dict[str, Any]
    user_email: str | None
    created_at: float


# ------------------------------------------------------------------------ changes made by people


def resolve(
    conn: Connection, issue_id: int, user_id: int | None, kind: str, *, release: str | None, now: float
) -> None:
    """Resolve now, in `release`, or in the next release (remembering the newest release seen)."""
    row = conn.execute(select(issue.c.last_release).where(issue.c.id == issue_id)).one()
    _clear_conditions(conn, issue_id)
    if kind == "in_next_release":
        release = row.last_release
    if kind != "now":
        conn.execute(
            insert(issue_resolution).values(issue_id=issue_id, kind=kind, release=release, created_at=now)
        )
    _set_status(conn, issue_id, "resolved", "", resolved_at=now)
    kind_name = f"set_resolved_{kind}" if kind != "now" else "set_resolved"
    add_activity(conn, issue_id, user_id, kind_name, data=_release(release), now=now)


def ignore(conn: Connection, issue_id: int, user_id: int | None, snooze: Snooze, now: float) -> None:
    row = conn.execute(select(issue.c.times_seen, issue.c.users_seen).where(issue.c.id == issue_id)).one()
    _clear_conditions(conn, issue_id)
    substatus = "archived_forever"
    if not snooze.forever:
        substatus = "archived_until_condition_met"
        conn.execute(
            insert(issue_snooze).values(
                issue_id=issue_id,
                until=snooze.until,
                count=snooze.count,
                window=snooze.window,
                user_count=snooze.user_count,
                user_window=snooze.user_window,
                times_seen_at=row.times_seen,
                users_seen_at=row.users_seen,
                created_at=now,
            )
        )
    _set_status(conn, issue_id, "ignored", substatus)
    add_activity(conn, issue_id, user_id, "set_ignored", data=_snooze_data(snooze), now=now)


def unresolve(conn: Connection, issue_id: int, user_id: int | None, now: float) -> None:
    """Back to unresolved by hand: Sentry calls that "ongoing" (it is not a regression)."""
    _clear_conditions(conn, issue_id)
    _set_status(conn, issue_id, "unresolved", "ongoing")
    add_activity(conn, issue_id, user_id, "set_unresolved", data={}, now=now)


def assign(conn: Connection, issue_id: int, user_id: int | None, assignee_id: int | None, now: float) -> None:
    conn.execute(update(issue).where(issue.c.id == issue_id).values(assignee_id=assignee_id))
    if assignee_id is None:
        add_activity(conn, issue_id, user_id, "unassigned", data={}, now=now)
        return
    email = conn.execute(select(users.c.email).where(users.c.id == assignee_id)).scalar_one()
    add_activity(conn, issue_id, user_id, "assigned", data={"assignee": email}, now=now)


def comment(conn: Connection, issue_id: int, user_id: int | None, text: str, now: float) -> None:
    add_activity(conn, issue_id, user_id, "note", data={"text": text}, now=now)


def _clear_conditions(conn: Connection, issue_id: int) -> None:
    conn.execute(delete(issue_resolution).where(issue_resolution.c.issue_id == issue_id))
    conn.execute(delete(issue_snooze).where(issue_snooze.c.issue_id == issue_id))


def _set_status(
    conn: Connection, issue_id: int, status: str, substatus: str, resolved_at: float | None = None
) -> None:
    conn.execute(
        update(issue)
        .where(issue.c.id == issue_id)
        .values(status=status, substatus=substatus, resolved_at=resolved_at)
    )


def _release(release: str | None) -> dict[str, Any]:
    return {"version": release} if release else {}


def _snooze_data(snooze: Snooze) -> dict[str, Any]:
    fields = {
        "until": snooze.until,
        "count": snooze.count,
        "window": snooze.window,
        "user_count": snooze.user_count,
        "user_window": snooze.user_window,
    }
    return {key: value for key, value in fields.items() if value is not None}


# ------------------------------------------------------------------------ changes the digest makes


def resolutions(conn: Connection, issue_ids: Iterable[int]) -> dict[int, Resolution]:
    ids = sorted(issue_ids)
    if not ids:
        return {}
    rows = conn.execute(select(issue_resolution).where(issue_resolution.c.issue_id.in_(ids)))
    return {row.issue_id: Resolution(row.kind, row.release, row.created_at) for row in rows}


def snoozes(conn: Connection, issue_ids: Iterable[int]) -> dict[int, StoredSnooze]:
    ids = sorted(issue_ids)
    if not ids:
        return {}
    rows = conn.execute(select(issue_snooze).where(issue_snooze.c.issue_id.in_(ids)))
    return {
        row.issue_id: StoredSnooze(**{k: v for k, v in row._mapping.items() if k != "issue_id"})
        for row in rows
    }


def regress(
    conn: Connection, issue_id: int, release: str | None, now: float, *, event_id: str | None = None
) -> bool:
    """Resolved → unresolved/regressed, if no other worker did it first (Sentry's conditional
    update, reference §3.3): only the transaction that changed the row reports a regression. The
    activity names the event that regressed it: retention keeps that event (shoal/retention.py)."""
    changed = conn.execute(
        update(issue)
        .where(issue.c.id == issue_id, issue.c.status == "resolved")
        .values(status="unresolved", substatus="regressed", resolved_at=None)
    ).rowcount
    if changed != 1:
        return False
    conn.execute(delete(issue_resolution).where(issue_resolution.c.issue_id == issue_id))
    data = {**_release(release), **({"event_id": event_id} if event_id else {})}
    add_activity(conn, issue_id, None, "set_regression", data=data, now=now)
    return True


def escalate(conn: Connection, issue_id: int, why: str, now: float) -> bool:
    """Ignored → unresolved/escalating when its snooze condition tripped; once, as above."""
    changed = conn.execute(
        update(issue)
        .where(issue.c.id == issue_id, issue.c.status == "ignored")
        .values(status="unresolved", substatus="escalating")
    ).rowcount
    if changed != 1:
        return False
    conn.execute(delete(issue_snooze).where(issue_snooze.c.issue_id == issue_id))
    add_activity(conn, issue_id, None, "set_escalating", data={"reason": why}, now=now)
    return True


# ---------------------------------------------------------------------------------- activity


def add_activity(
    conn: Connection, issue_id: int, user_id: int | None, kind: str, *, data: dict[str, Any], now: float
) -> None:
    conn.execute(
        insert(activity).values(
            issue_id=issue_id, user_id=user_id, type=kind, data=orjson.dumps(data).decode(), created_at=now
        )
    )


def add_first_seen(conn: Connection, issue_ids: Iterable[int], now: float) -> None:
    rows = [
        {"issue_id": i, "user_id": None, "type": "first_seen", "data": "{}", "created_at": now}
        for i in sorted(issue_ids)
    ]
    if rows:
        conn.execute(insert(activity), rows)


def issue_activity(conn: Connection, issue_id: int, limit: int = 200) -> list[ActivityEntry]:
    rows = conn.execute(
        select(activity, users.c.email)
        .outerjoin(users, users.c.id == activity.c.user_id)
        .where(activity.c.issue_id == issue_id)
        .order_by(activity.c.id.desc())
        .limit(limit)
    )
    return [ActivityEntry(r.id, r.type, orjson.loads(r.data), r.email, r.created_at) for r in rows]
