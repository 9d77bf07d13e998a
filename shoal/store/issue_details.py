"""What the API shows of a page of issues beyond their rows: how many comments each has and who
their assignees are, one query for the whole page each."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from shoal.store.schema import activity, users


def comment_counts(conn: Connection, issue_ids: Iterable[int]) -> dict[int, int]:
    """Comments ("note" activity entries) per issue; issues without any are absent."""
    ids = sorted(set(issue_ids))
    if not ids:
        return {}
    rows = conn.execute(
        select(activity.c.issue_id, func.count())
        .where(activity.c.issue_id.in_(ids), activity.c.type == "note")
        .group_by(activity.c.issue_id)
    )
    return {int(issue_id): int(total) for issue_id, total in rows}


def emails(conn: Connection, user_ids: Iterable[int]) -> dict[int, str]:
    """The email of each of these users that still exists."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = conn.execute(select(users.c.id, users.c.email).where(users.c.id.in_(ids)))
    return {int(row.id): str(row.email) for row in rows}
