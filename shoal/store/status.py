"""What each project holds, for `shoal status` (the benchmark's processed-count probe)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from shoal.store.schema import issue, project


@dataclass(frozen=True)
class ProjectCounts:
    id: int
    slug: str
    events: int
    issues: int


def project_counts(conn: Connection) -> list[ProjectCounts]:
    issues_per_project = (
        select(issue.c.project_id, func.count().label("issues")).group_by(issue.c.project_id).subquery()
    )
    rows = conn.execute(
        select(
            project.c.id,
            project.c.slug,
            project.c.events_stored,
            func.coalesce(issues_per_project.c.issues, 0).label("issues"),
        )
        .outerjoin(issues_per_project, issues_per_project.c.project_id == project.c.id)
        .order_by(project.c.id)
    )
    return [ProjectCounts(row.id, row.slug, int(row.events_stored), int(row.issues)) for row in rows]
