"""Releases of an organization: what the digest records of them, and what `sentry-cli` and the API
make and change.

A release exists as soon as an event names it (as in Sentry, where `sentry-cli releases new` is
optional), it belongs to every project that sent it, and its events are counted per project and
environment. `sentry-cli releases new|finalize|delete` and `deploys new` make, date, delete and
deploy it; its commits are shoal.store.commits'.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any, TypedDict

from sqlalchemy import Connection, Row, case, delete, exists, func, insert, select, update

from shoal.release_versions import compare_releases
from shoal.store.db import upsert
from shoal.store.schema import (
    deploy,
    issue,
    project,
    release,
    release_commit,
    release_environment,
    release_project,
)


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


# ------------------------------------------------------------------ releases as the API edits them


@dataclass(frozen=True)
class Release:
    id: int
    organization_id: int
    version: str
    ref: str | None
    url: str | None
    date_created: float
    date_started: float | None
    date_released: float | None


class ReleaseFields(TypedDict, total=False):
    """The columns `sentry-cli releases new|finalize` and the API may set; a key left out is kept."""

    ref: str | None
    url: str | None
    date_started: float | None
    date_released: float | None


@dataclass(frozen=True)
class ReleaseProject:
    release_id: int
    project_id: int
    slug: str
    name: str
    platform: str


@dataclass(frozen=True)
class Deploy:
    id: int
    release_id: int
    environment: str
    name: str | None
    url: str | None
    date_started: float | None
    date_finished: float


@dataclass(frozen=True)
class DeploySummary:
    count: int
    last: Deploy


def get_release(conn: Connection, organization_id: int, version: str) -> Release | None:
    row = conn.execute(
        select(release).where(release.c.organization_id == organization_id, release.c.version == version)
    ).first()
    return _release(row) if row else None


def get_release_by_id(conn: Connection, release_id: int) -> Release | None:
    row = conn.execute(select(release).where(release.c.id == release_id)).first()
    return _release(row) if row else None


def create_release(
    conn: Connection, organization_id: int, version: str, fields: ReleaseFields, now: float
) -> tuple[Release, bool]:
    """The release, made with `fields` unless it exists already (then it is returned as it is);
    the flag says whether it was made. Concurrent creators of one version get one row."""
    stmt = upsert(release, conn).on_conflict_do_nothing(index_elements=["organization_id", "version"])
    # RETURNING, not rowcount: on PostgreSQL SQLAlchemy adds RETURNING id to a one-row INSERT and
    # rowcount is then -1, made or not (measured).
    made = conn.execute(
        stmt.values(organization_id=organization_id, version=version, date_created=now, **fields).returning(
            release.c.id
        )
    ).first()
    found = get_release(conn, organization_id, version)
    assert found is not None
    return found, made is not None


def update_release(conn: Connection, release_id: int, fields: ReleaseFields) -> None:
    if fields:
        conn.execute(update(release).where(release.c.id == release_id).values(**fields))


def delete_release(conn: Connection, release_id: int) -> None:
    """The release and everything that hangs off it (projects, counts, commit list, refs, deploys);
    the commits themselves stay, other releases may list them."""
    conn.execute(delete(release).where(release.c.id == release_id))


def link_projects(conn: Connection, release_id: int, project_ids: Collection[int]) -> None:
    if project_ids:
        _link_projects(conn, {(release_id, project_id) for project_id in project_ids})


def release_page(
    conn: Connection,
    organization_id: int,
    project_ids: Collection[int],
    *,
    version_prefix: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Release], int]:
    """One page of the organization's releases of those projects, newest first (by creation, as
    Sentry's default sort), and how many there are in all. `version_prefix` matches the start of
    the version, ignoring case (Sentry's `?query=`)."""
    of_projects = exists(
        select(release_project.c.release_id).where(
            release_project.c.release_id == release.c.id,
            release_project.c.project_id.in_(sorted(project_ids)),
        )
    )
    where = [release.c.organization_id == organization_id, of_projects]
    if version_prefix:
        where.append(release.c.version.istartswith(version_prefix, autoescape=True))
    total = conn.execute(select(func.count()).select_from(release).where(*where)).scalar_one()
    rows = conn.execute(
        select(release)
        .where(*where)
        .order_by(release.c.date_created.desc(), release.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [_release(row) for row in rows], int(total)


def release_projects(conn: Connection, release_ids: Collection[int]) -> dict[int, list[ReleaseProject]]:
    """The projects of each release, by slug."""
    found: dict[int, list[ReleaseProject]] = {release_id: [] for release_id in release_ids}
    if not release_ids:
        return found
    rows = conn.execute(
        select(release_project.c.release_id, project.c.id, project.c.slug, project.c.name, project.c.platform)
        .join(project, project.c.id == release_project.c.project_id)
        .where(release_project.c.release_id.in_(sorted(release_ids)))
        .order_by(project.c.slug)
    )
    for row in rows:
        found[row.release_id].append(ReleaseProject(row.release_id, row.id, row.slug, row.name, row.platform))
    return found


def new_issue_counts(conn: Connection, pairs: Collection[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """For (project id, version) pairs: how many of the project's issues were first seen in that
    release (Sentry's `newGroups`)."""
    if not pairs:
        return {}
    project_ids = sorted({project_id for project_id, _ in pairs})
    versions = sorted({version for _, version in pairs})
    rows = conn.execute(
        select(issue.c.project_id, issue.c.first_release, func.count())
        .where(issue.c.project_id.in_(project_ids), issue.c.first_release.in_(versions))
        .group_by(issue.c.project_id, issue.c.first_release)
    )
    counts = {(row[0], row[1]): int(row[2]) for row in rows}
    return {pair: counts.get(pair, 0) for pair in pairs}


def names_issues(conn: Connection, organization_id: int, version: str) -> bool:
    """Whether issues of the organization were first seen in this release (Sentry then refuses to
    delete it: the issues' "first seen in" would name nothing)."""
    first = (
        select(issue.c.id)
        .join(project, project.c.id == issue.c.project_id)
        .where(project.c.organization_id == organization_id, issue.c.first_release == version)
        .limit(1)
    )
    return conn.execute(first).first() is not None


def event_spans(
    conn: Connection, release_ids: Collection[int], project_ids: Collection[int]
) -> dict[int, tuple[float, float]]:
    """The first and last event of each release that had any, in those projects."""
    if not release_ids or not project_ids:
        return {}
    rows = conn.execute(
        select(
            release_environment.c.release_id,
            func.min(release_environment.c.first_seen),
            func.max(release_environment.c.last_seen),
        )
        .where(
            release_environment.c.release_id.in_(sorted(release_ids)),
            release_environment.c.project_id.in_(sorted(project_ids)),
        )
        .group_by(release_environment.c.release_id)
    )
    return {row[0]: (float(row[1]), float(row[2])) for row in rows}


def releases_with_commits(conn: Connection, release_id: int, project_ids: Collection[int]) -> list[Release]:
    """The organization's other releases that have commits and one of these projects."""
    this = select(release.c.organization_id).where(release.c.id == release_id).scalar_subquery()
    shared = exists(
        select(release_project.c.release_id).where(
            release_project.c.release_id == release.c.id,
            release_project.c.project_id.in_(sorted(project_ids)),
        )
    )
    with_commits = exists(
        select(release_commit.c.release_id).where(release_commit.c.release_id == release.c.id)
    )
    rows = conn.execute(
        select(release).where(
            release.c.organization_id == this, release.c.id != release_id, shared, with_commits
        )
    )
    return [_release(row) for row in rows]


def latest_earlier(candidates: Iterable[Release], than: Release) -> Release | None:
    """Of the candidates, the newest one that came before `than`: by version when both are semver
    releases of one package (shoal.release_versions), else by creation time."""
    earlier = [candidate for candidate in candidates if _order(candidate, than) < 0]
    return max(earlier, key=cmp_to_key(_order), default=None)


def _order(left: Release, right: Release) -> int:
    by_version = compare_releases(left.version, right.version)
    if by_version:
        return by_version
    left_key, right_key = (left.date_created, left.id), (right.date_created, right.id)
    return (left_key > right_key) - (left_key < right_key)


def _release(row: Row[Any]) -> Release:
    return Release(
        id=row.id,
        organization_id=row.organization_id,
        version=row.version,
        ref=row.ref,
        url=row.url,
        date_created=row.date_created,
        date_started=row.date_started,
        date_released=row.date_released,
    )


# --------------------------------------------------------------------------------------- deploys


def create_deploy(
    conn: Connection,
    release_id: int,
    *,
    environment: str,
    name: str | None,
    url: str | None,
    date_started: float | None,
    date_finished: float,
) -> Deploy:
    deploy_id = conn.execute(
        insert(deploy)
        .values(
            release_id=release_id,
            environment=environment,
            name=name,
            url=url,
            date_started=date_started,
            date_finished=date_finished,
        )
        .returning(deploy.c.id)
    ).scalar_one()
    return Deploy(deploy_id, release_id, environment, name, url, date_started, date_finished)


def deploy_page(conn: Connection, release_id: int, *, offset: int, limit: int) -> tuple[list[Deploy], int]:
    """One page of the release's deploys, newest first, and how many there are."""
    total = conn.execute(
        select(func.count()).select_from(deploy).where(deploy.c.release_id == release_id)
    ).scalar_one()
    rows = conn.execute(
        select(deploy)
        .where(deploy.c.release_id == release_id)
        .order_by(deploy.c.date_finished.desc(), deploy.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [_deploy(row) for row in rows], int(total)


def deploy_summaries(conn: Connection, release_ids: Collection[int]) -> dict[int, DeploySummary]:
    """For each release with deploys: how many, and the newest."""
    if not release_ids:
        return {}
    ids = sorted(release_ids)
    counted = conn.execute(
        select(deploy.c.release_id, func.count())
        .where(deploy.c.release_id.in_(ids))
        .group_by(deploy.c.release_id)
    )
    counts = {int(row[0]): int(row[1]) for row in counted}
    newest = (
        select(
            deploy,
            func.row_number()
            .over(
                partition_by=deploy.c.release_id, order_by=(deploy.c.date_finished.desc(), deploy.c.id.desc())
            )
            .label("rank"),
        )
        .where(deploy.c.release_id.in_(ids))
        .subquery()
    )
    rows = conn.execute(select(newest).where(newest.c.rank == 1))
    return {row.release_id: DeploySummary(counts[row.release_id], _deploy(row)) for row in rows}


def _deploy(row: Row[Any]) -> Deploy:
    return Deploy(
        id=row.id,
        release_id=row.release_id,
        environment=row.environment,
        name=row.name,
        url=row.url,
        date_started=row.date_started,
        date_finished=row.date_finished,
    )
