"""Repositories, commits with the files they changed, and which commits make up a release.

Two ways in, both from `sentry-cli releases set-commits` (reference/protocol.md §7):
- `--local`, and `--auto` without a matching repository: the commits themselves, newest first, each
  with author, message and `patch_set` (the changed files), under the git remote's *name*
  (`origin`). The repository is made on first sight, with no provider: nothing to fetch from.
- `--commit REPO@A..B` (or `--auto` with a repository whose URL matches the checkout): only the head
  commit per repository (`refs`), kept as a release ref and as a bare head commit.

A repository with a provider is one someone registered (`POST /api/0/organizations/{org}/repos/`);
only those are listed to sentry-cli, because a listed one changes what `--auto` sends.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from shoal.store.db import upsert
from shoal.store.schema import commit, commit_file, release_commit, release_ref, repository


@dataclass(frozen=True)
class CommitInput:
    """A commit as sentry-cli sends it. `files` None: no patch_set was sent (keep what is known)."""

    key: str
    repository: str
    message: str | None = None
    author_name: str | None = None
    author_email: str | None = None
    timestamp: float | None = None
    files: tuple[tuple[str, str], ...] | None = None  # (path, A|M|D)


@dataclass(frozen=True)
class RefInput:
    repository: str
    commit: str
    previous_commit: str | None


@dataclass(frozen=True)
class Repository:
    id: int
    organization_id: int
    name: str
    provider: str | None
    url: str | None
    date_created: float


@dataclass(frozen=True)
class CommitFile:
    filename: str
    type: str


@dataclass(frozen=True)
class Commit:
    id: int
    key: str
    repository: Repository
    message: str | None
    author_name: str | None
    author_email: str | None
    date_added: float | None
    files: tuple[CommitFile, ...]


@dataclass(frozen=True)
class CommitSummary:
    """What a release's JSON says of its commits."""

    count: int
    head: Commit | None
    authors: tuple[tuple[str | None, str | None], ...]  # (name, email), in commit order


class RepositoryExists(ValueError):
    pass


# ---------------------------------------------------------------------------------- repositories


def ensure_repositories(
    conn: Connection, organization_id: int, names: Iterable[str], now: float
) -> dict[str, int]:
    """The id of each named repository of the organization, making the missing ones (no provider)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    stmt = upsert(repository, conn).on_conflict_do_nothing(index_elements=["organization_id", "name"])
    conn.execute(
        stmt, [{"organization_id": organization_id, "name": name, "date_created": now} for name in wanted]
    )
    rows = conn.execute(
        select(repository.c.id, repository.c.name).where(
            repository.c.organization_id == organization_id, repository.c.name.in_(wanted)
        )
    )
    return {row.name: row.id for row in rows}


def register_repository(
    conn: Connection, organization_id: int, name: str, *, provider: str, url: str | None, now: float
) -> Repository:
    """A repository with a provider, as `POST …/repos/` registers it. One known only from commits
    (no provider yet) becomes registered; one already registered raises RepositoryExists."""
    repository_id = ensure_repositories(conn, organization_id, [name], now)[name]
    claimed = conn.execute(
        update(repository)
        .where(repository.c.id == repository_id, repository.c.provider.is_(None))
        .values(provider=provider, url=url)
    ).rowcount
    if not claimed:
        raise RepositoryExists(name)
    found = conn.execute(select(repository).where(repository.c.id == repository_id)).one()
    return _repository(found)


def registered_repositories(conn: Connection, organization_id: int) -> list[Repository]:
    """The repositories someone registered with a provider, by name (what sentry-cli is shown)."""
    rows = conn.execute(
        select(repository)
        .where(repository.c.organization_id == organization_id, repository.c.provider.is_not(None))
        .order_by(repository.c.name)
    )
    return [_repository(row) for row in rows]


def _repository(row: Row[Any]) -> Repository:
    return Repository(row.id, row.organization_id, row.name, row.provider, row.url, row.date_created)


# --------------------------------------------------------------------------------------- commits


def set_release_commits(
    conn: Connection, organization_id: int, release_id: int, commits: Sequence[CommitInput], now: float
) -> None:
    """Make the release's commit list exactly `commits` (newest first, as sentry-cli sends them),
    storing each commit, its author and its changed files."""
    repository_ids = ensure_repositories(conn, organization_id, (c.repository for c in commits), now)
    commit_ids = _store_commits(conn, organization_id, repository_ids, commits)
    _replace_files(conn, commit_ids, commits)
    _replace_release_commits(conn, release_id, [commit_ids[(c.repository, c.key)] for c in commits])


def set_release_refs(
    conn: Connection,
    organization_id: int,
    release_id: int,
    refs: Sequence[RefInput],
    now: float,
    *,
    heads_as_commits: bool,
) -> None:
    """Make the release's refs exactly `refs`. With `heads_as_commits` (no commit list came with
    them), each head also becomes a bare commit of the release, so the release has a last commit
    and the next `set-commits` knows where this one ended."""
    conn.execute(delete(release_ref).where(release_ref.c.release_id == release_id))
    unique = list({ref.repository: ref for ref in refs}.values())
    if unique:
        conn.execute(
            insert(release_ref),
            [
                {
                    "release_id": release_id,
                    "repository": ref.repository,
                    "commit": ref.commit,
                    "previous_commit": ref.previous_commit,
                }
                for ref in unique
            ],
        )
    if heads_as_commits:
        heads = [CommitInput(key=ref.commit, repository=ref.repository) for ref in unique]
        set_release_commits(conn, organization_id, release_id, heads, now)


def _store_commits(
    conn: Connection, organization_id: int, repository_ids: dict[str, int], commits: Sequence[CommitInput]
) -> dict[tuple[str, str], int]:
    """Insert or refresh each commit; returns (repository name, sha) → commit id."""
    if not commits:
        return {}
    stmt = upsert(commit, conn)
    # A commit seen again (the same sha in the next release, or a bare head made from a ref) keeps
    # what was known of it unless this sending knows more.
    stmt = stmt.on_conflict_do_update(
        index_elements=["repository_id", "key"],
        set_={
            column: func.coalesce(getattr(stmt.excluded, column), commit.c[column])
            for column in ("message", "author_name", "author_email", "date_added")
        },
    )
    latest = {(c.repository, c.key): c for c in commits}
    conn.execute(
        stmt,
        [
            {
                "organization_id": organization_id,
                "repository_id": repository_ids[c.repository],
                "key": c.key,
                "message": c.message,
                "author_name": c.author_name,
                "author_email": c.author_email,
                "date_added": c.timestamp,
            }
            for c in latest.values()
        ],
    )
    names = {repository_id: name for name, repository_id in repository_ids.items()}
    rows = conn.execute(
        select(commit.c.id, commit.c.repository_id, commit.c.key).where(
            commit.c.repository_id.in_(sorted(names)), commit.c.key.in_(sorted({c.key for c in commits}))
        )
    )
    return {(names[row.repository_id], row.key): row.id for row in rows}


def _replace_files(
    conn: Connection, commit_ids: dict[tuple[str, str], int], commits: Sequence[CommitInput]
) -> None:
    sent = {commit_ids[(c.repository, c.key)]: c.files for c in commits if c.files is not None}
    if not sent:
        return
    conn.execute(delete(commit_file).where(commit_file.c.commit_id.in_(sorted(sent))))
    rows = [
        {"commit_id": commit_id, "filename": path, "type": kind}
        for commit_id, files in sent.items()
        # A path listed twice in one patch set: its last change is what the commit left.
        for path, kind in dict(files or ()).items()
    ]
    if rows:
        conn.execute(insert(commit_file), rows)


def _replace_release_commits(conn: Connection, release_id: int, commit_ids: Sequence[int]) -> None:
    conn.execute(delete(release_commit).where(release_commit.c.release_id == release_id))
    ordered = list(dict.fromkeys(commit_ids))
    if ordered:
        conn.execute(
            insert(release_commit),
            [
                {"release_id": release_id, "commit_id": commit_id, "position": position}
                for position, commit_id in enumerate(ordered)
            ],
        )


# ----------------------------------------------------------------------------------------- reads


def release_commits(
    conn: Connection, release_id: int, *, offset: int = 0, limit: int | None = None
) -> list[Commit]:
    """The release's commits, newest first, with their repository and changed files."""
    rows = conn.execute(
        select(commit, *_repository_columns())
        .join(release_commit, release_commit.c.commit_id == commit.c.id)
        .join(repository, repository.c.id == commit.c.repository_id)
        .where(release_commit.c.release_id == release_id)
        .order_by(release_commit.c.position)
        .offset(offset)
        .limit(limit)
    ).all()
    files = _files(conn, [row.id for row in rows])
    return [_commit(row, files.get(row.id, ())) for row in rows]


def release_commit_count(conn: Connection, release_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(release_commit).where(release_commit.c.release_id == release_id)
        ).scalar_one()
    )


def commit_summaries(conn: Connection, release_ids: Collection[int]) -> dict[int, CommitSummary]:
    """For each release: how many commits, its head (newest) commit, and its authors."""
    summaries = {release_id: CommitSummary(0, None, ()) for release_id in release_ids}
    if not release_ids:
        return summaries
    rows = conn.execute(
        select(release_commit.c.release_id, release_commit.c.position, commit, *_repository_columns())
        .join(commit, commit.c.id == release_commit.c.commit_id)
        .join(repository, repository.c.id == commit.c.repository_id)
        .where(release_commit.c.release_id.in_(sorted(release_ids)))
        .order_by(release_commit.c.release_id, release_commit.c.position)
    ).all()
    by_release: dict[int, list[Row[Any]]] = {}
    for row in rows:
        by_release.setdefault(row.release_id, []).append(row)
    for release_id, commits in by_release.items():
        authors = dict.fromkeys(
            (row.author_name, row.author_email) for row in commits if row.author_name or row.author_email
        )
        summaries[release_id] = CommitSummary(len(commits), _commit(commits[0], ()), tuple(authors))
    return summaries


def release_refs(conn: Connection, release_id: int) -> list[RefInput]:
    rows = conn.execute(
        select(release_ref).where(release_ref.c.release_id == release_id).order_by(release_ref.c.repository)
    )
    return [RefInput(row.repository, row.commit, row.previous_commit) for row in rows]


def _repository_columns() -> list[Any]:
    return [
        repository.c.organization_id.label("repository_organization_id"),
        repository.c.name.label("repository_name"),
        repository.c.provider.label("repository_provider"),
        repository.c.url.label("repository_url"),
        repository.c.date_created.label("repository_date_created"),
    ]


def _files(conn: Connection, commit_ids: Collection[int]) -> dict[int, tuple[CommitFile, ...]]:
    if not commit_ids:
        return {}
    found: dict[int, list[CommitFile]] = {}
    rows = conn.execute(
        select(commit_file)
        .where(commit_file.c.commit_id.in_(sorted(commit_ids)))
        .order_by(commit_file.c.commit_id, commit_file.c.filename)
    )
    for row in rows:
        found.setdefault(row.commit_id, []).append(CommitFile(row.filename, row.type))
    return {commit_id: tuple(files) for commit_id, files in found.items()}


def _commit(row: Row[Any], files: tuple[CommitFile, ...]) -> Commit:
    return Commit(
        id=row.id,
        key=row.key,
        repository=Repository(
            row.repository_id,
            row.repository_organization_id,
            row.repository_name,
            row.repository_provider,
            row.repository_url,
            row.repository_date_created,
        ),
        message=row.message,
        author_name=row.author_name,
        author_email=row.author_email,
        date_added=row.date_added,
        files=files,
    )
