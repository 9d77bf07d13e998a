"""Releases with commits and deploys for tests, written as plain rows (as `sentry-cli releases
new / set-commits / deploys new` would leave them), without going through the API."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, insert, select, update

from shoal.store.schema import (
    commit,
    commit_file,
    deploy,
    release,
    release_commit,
    release_project,
    repository,
)


@dataclass(frozen=True)
class NewCommit:
    sha: str
    message: str
    author_name: str
    author_email: str
    files: list[str] = field(default_factory=list)  # paths, as sentry-cli's patch_set names them
    date: float | None = None


def ensure_release(
    conn: Connection,
    organization_id: int,
    project_id: int,
    version: str,
    *,
    created: float,
    released: float | None = None,
) -> int:
    """The release's id, made (with these dates) or updated (`released`) and linked to the project."""
    found = conn.execute(
        select(release.c.id).where(release.c.organization_id == organization_id, release.c.version == version)
    ).scalar()
    if found is None:
        found = conn.execute(
            insert(release)
            .values(organization_id=organization_id, version=version, date_created=created)
            .returning(release.c.id)
        ).scalar_one()
    if released is not None:
        conn.execute(update(release).where(release.c.id == found).values(date_released=released))
    linked = conn.execute(
        select(release_project.c.release_id).where(
            release_project.c.release_id == found, release_project.c.project_id == project_id
        )
    ).first()
    if linked is None:
        conn.execute(insert(release_project).values(release_id=found, project_id=project_id))
    return int(found)


def set_commits(
    conn: Connection,
    organization_id: int,
    release_id: int,
    commits: list[NewCommit],
    *,
    repository_name: str = "origin",
    now: float = 0.0,
) -> list[int]:
    """Make the commits (newest first, as sentry-cli sends them) the release's; their ids."""
    repo_id = _repository(conn, organization_id, repository_name, now)
    ids = []
    for position, made in enumerate(commits):
        commit_id = conn.execute(
            insert(commit)
            .values(
                organization_id=organization_id,
                repository_id=repo_id,
                key=made.sha,
                message=made.message,
                author_name=made.author_name,
                author_email=made.author_email,
                date_added=made.date,
            )
            .returning(commit.c.id)
        ).scalar_one()
        for path in made.files:
            conn.execute(insert(commit_file).values(commit_id=commit_id, filename=path, type="M"))
        conn.execute(
            insert(release_commit).values(release_id=release_id, commit_id=commit_id, position=position)
        )
        ids.append(int(commit_id))
    return ids


def add_deploy(
    conn: Connection, release_id: int, environment: str, finished: float, name: str | None = None
) -> int:
    return int(
        conn.execute(
            insert(deploy)
            .values(release_id=release_id, environment=environment, name=name, date_finished=finished)
            .returning(deploy.c.id)
        ).scalar_one()
    )


def _repository(conn: Connection, organization_id: int, name: str, now: float) -> int:
    found = conn.execute(
        select(repository.c.id).where(
            repository.c.organization_id == organization_id, repository.c.name == name
        )
    ).scalar()
    if found is None:
        found = conn.execute(
            insert(repository)
            .values(organization_id=organization_id, name=name, date_created=now)
            .returning(repository.c.id)
        ).scalar_one()
    return int(found)
