"""The reads suspect commits need (shoal.suspects scores them): an issue's first stored event, and
the changed files of the commits in the release that introduced the issue and the releases before
it, in one query each.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from shoal.store.events import PayloadCodec
from shoal.store.release_stats import CommitInfo, release_day
from shoal.store.schema import (
    commit,
    commit_file,
    event,
    issue,
    project,
    release,
    release_commit,
    release_project,
    repository,
)

# The introducing release and five before it, as Sentry's release-based strategy (reference §7.5).
RELEASES_SEARCHED = 6


@dataclass(frozen=True)
class ChangedFile:
    """A file a commit of one of the searched releases changed."""

    commit: CommitInfo
    filename: str
    release_version: str
    release_rank: int  # 0: the release that introduced the issue, 1: the one before, …
    position: int  # the commit's place in its release, 0 for the release's head


def first_event_data(conn: Connection, codec: PayloadCodec, issue_id: int) -> dict[str, Any] | None:
    """The issue's oldest stored event: its first, unless retention deleted that one, and then the
    one nearest to it."""
    payload = conn.execute(
        select(event.c.payload)
        .where(event.c.issue_id == issue_id)
        .order_by(event.c.timestamp, event.c.id)
        .limit(1)
    ).scalar()
    return codec.decode(payload) if payload is not None else None


def changed_files(conn: Connection, issue_id: int, basenames: Collection[str]) -> list[ChangedFile]:
    """The changed files whose name ends with one of `basenames` (file names from the stack trace),
    in the commits of the issue's first release and the releases before it in its project."""
    if not basenames:
        return []
    recent = _searched_releases(issue_id)
    rows = conn.execute(
        select(
            recent.c.id.label("release_id"),
            recent.c.version,
            recent.c.rank,
            commit,
            repository.c.name.label("repository_name"),
            release_commit.c.position,
            commit_file.c.filename,
        )
        .select_from(recent)
        .join(release_commit, release_commit.c.release_id == recent.c.id)
        .join(commit, commit.c.id == release_commit.c.commit_id)
        .join(repository, repository.c.id == commit.c.repository_id)
        .join(commit_file, commit_file.c.commit_id == commit.c.id)
        .where(or_(*(commit_file.c.filename.endswith(name, autoescape=True) for name in sorted(basenames))))
    ).all()
    return [
        ChangedFile(
            CommitInfo(
                row.id,
                row.repository_name,
                row.key,
                row.message,
                row.author_name,
                row.author_email,
                row.date_added,
            ),
            row.filename,
            row.version,
            row.rank - 1,
            row.position,
        )
        for row in rows
    ]


def _searched_releases(issue_id: int) -> Any:
    """The issue's first release in its project and the releases of the project before it by date,
    newest first, as a subquery (id, version, rank: 1 for the first release)."""
    day = release_day()
    introduced = (
        select(release.c.id, day.label("day"), issue.c.project_id)
        .select_from(issue)
        .join(project, project.c.id == issue.c.project_id)
        .join(
            release,
            and_(
                release.c.organization_id == project.c.organization_id,
                release.c.version == issue.c.first_release,
            ),
        )
        .where(issue.c.id == issue_id)
        .subquery("introduced")
    )
    return (
        select(
            release.c.id,
            release.c.version,
            func.row_number().over(order_by=(day.desc(), release.c.id.desc())).label("rank"),
        )
        .select_from(introduced)
        .join(release_project, release_project.c.project_id == introduced.c.project_id)
        .join(release, release.c.id == release_project.c.release_id)
        .where(or_(day < introduced.c.day, and_(day == introduced.c.day, release.c.id <= introduced.c.id)))
        .order_by(day.desc(), release.c.id.desc())
        .limit(RELEASES_SEARCHED)
        .subquery("searched")
    )
