"""Releases of an organization, and what the digest records of them: a release exists as soon as an
event names it (as in Sentry, where `sentry-cli releases new` is optional), it belongs to every
project that sent it, and its events are counted per project and environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, case, select

from shoal.store.db import upsert
from shoal.store.schema import project, release, release_environment, release_project


@dataclass
class ReleaseEvents:
    """What a batch saw of one release in one project and environment."""

    events: int
    first_seen: float
    last_seen: float


# (project id, release version, environment or "") → its events of the batch
ReleaseCounts = Mapping[tuple[int, str, str], ReleaseEvents]


def record_release_events(conn: Connection, counts: ReleaseCounts, now: float) -> None:
    """Make the releases the batch's events name, link them to their projects, and add the events
    to their per-environment counts."""
    if not counts:
        return
    organization_of = _organizations(conn, {project_id for project_id, _, _ in counts})
    release_ids = ensure_releases(
        conn, {(organization_of[project_id], version) for project_id, version, _ in counts}, now
    )
    _link_projects(
        conn,
        {(release_ids[(organization_of[p], version)], p) for p, version, _ in counts},
    )
    stmt = upsert(release_environment, conn)
    stmt = stmt.on_conflict_do_update(
        index_elements=["release_id", "project_id", "environment"],
        set_={
            "events": release_environment.c.events + stmt.excluded.events,
            "first_seen": case(
                (stmt.excluded.first_seen < release_environment.c.first_seen, stmt.excluded.first_seen),
                else_=release_environment.c.first_seen,
            ),
            "last_seen": case(
                (stmt.excluded.last_seen > release_environment.c.last_seen, stmt.excluded.last_seen),
                else_=release_environment.c.last_seen,
            ),
        },
    )
    rows = [
        {
            "release_id": release_ids[(organization_of[project_id], version)],
            "project_id": project_id,
            "environment": environment,
            "events": seen.events,
            "first_seen": seen.first_seen,
            "last_seen": seen.last_seen,
        }
        for (project_id, version, environment), seen in sorted(counts.items())
    ]
    conn.execute(stmt, rows)


def ensure_releases(conn: Connection, wanted: set[tuple[int, str]], now: float) -> dict[tuple[int, str], int]:
    """The id of each (organization, version), making the releases that do not exist yet."""
    if not wanted:
        return {}
    stmt = upsert(release, conn).on_conflict_do_nothing(index_elements=["organization_id", "version"])
    conn.execute(
        stmt,
        [
            {"organization_id": org, "version": version, "date_created": now}
            for org, version in sorted(wanted)
        ],
    )
    versions = sorted({version for _, version in wanted})
    rows = conn.execute(
        select(release.c.id, release.c.organization_id, release.c.version).where(
            release.c.version.in_(versions)
        )
    )
    return {
        (row.organization_id, row.version): row.id
        for row in rows
        if (row.organization_id, row.version) in wanted
    }


def _link_projects(conn: Connection, pairs: set[tuple[int, int]]) -> None:
    stmt = upsert(release_project, conn).on_conflict_do_nothing(index_elements=["release_id", "project_id"])
    conn.execute(stmt, [{"release_id": r, "project_id": p} for r, p in sorted(pairs)])


def _organizations(conn: Connection, project_ids: set[int]) -> dict[int, int]:
    rows = conn.execute(
        select(project.c.id, project.c.organization_id).where(project.c.id.in_(sorted(project_ids)))
    )
    return {row.id: row.organization_id for row in rows}
