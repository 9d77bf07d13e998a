"""What each project holds, for `shoal status` (the benchmark's processed-count probe)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from shoal.store.schema import issue, project
from shoal.store.transaction_stats import transaction_counts


@dataclass(frozen=True)
class ProjectCounts:
    id: int
    slug: str
    events: int
    issues: int
    transactions: int = 0


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
    transactions = transaction_counts(conn)
    return [
        ProjectCounts(row.id, row.slug, int(row.events_stored), int(row.issues), transactions.get(row.id, 0))
        for row in rows
    ]
