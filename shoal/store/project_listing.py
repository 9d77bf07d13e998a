"""What a list of projects shows beside their names: when each was made and when its first event
came (the earliest first-seen of its issues), one query for the whole list."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from shoal.store.schema import issue, project


@dataclass(frozen=True)
class ProjectDates:
    created_at: float
    first_event: float | None


def project_dates(conn: Connection, project_ids: Iterable[int]) -> dict[int, ProjectDates]:
    ids = sorted(set(project_ids))
    if not ids:
        return {}
    first_event = (
        select(func.min(issue.c.first_seen)).where(issue.c.project_id == project.c.id).scalar_subquery()
    )
    rows = conn.execute(
        select(project.c.id, project.c.created_at, first_event.label("first_event")).where(
            project.c.id.in_(ids)
        )
    )
    return {
        int(row.id): ProjectDates(float(row.created_at), None if row.first_event is None else row.first_event)
        for row in rows
    }
