"""Reads of a project's releases for the release pages: the list (newest first, with events, new
issues, deploys and adoption), and one release's events per environment, commits with their files
and authors, deploys, and the issues it introduced, regressed and resolved. Also the order of two
releases by date, which "resolve in the next release" uses when neither is semver.

A release's **date** is Sentry's: when it went live (`date_released`, set by `releases finalize`),
else when it was made (`date_created`); ties go to the release made later (the higher id).

**Adoption** of a release in an environment: the share of the project's events in that environment
during the last 24 hours (from the hour 24 hours ago on) that came from the release. The project's
events come from the per-hour issue counts; the release's from `release_environment`, which keeps
its events per environment with the first and last time it was seen. When the release was first
seen inside the window all its events are in it, and when it was last seen before, none is; when it
spans the window's start, the events are taken as spread evenly between its first and last event.
So it is exact for a release deployed within the day, an estimate for an older one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, func, or_, select

from shoal.store.schema import (
    activity,
    commit,
    commit_file,
    deploy,
    issue,
    issue_count_hour,
    issue_resolution,
    project,
    release,
    release_commit,
    release_environment,
    release_project,
    repository,
)

ADOPTION_WINDOW = 24 * 3600
ISSUES_SHOWN = 100
COMMITS_SHOWN = 250


def release_day() -> ColumnElement[Any]:
    """When a release counts as made, for ordering: Sentry's COALESCE(date_released, date_added)."""
    return func.coalesce(release.c.date_released, release.c.date_created)


@dataclass(frozen=True)
class ReleaseRow:
    id: int
    version: str
    ref: str | None
    url: str | None
    date_created: float
    date_released: float | None

    @property
    def date(self) -> float:
        return self.date_released if self.date_released is not None else self.date_created

    @property
    def finalized(self) -> bool:
        return self.date_released is not None


@dataclass(frozen=True)
class EnvironmentEvents:
    environment: str  # "" for events without one
    events: int
    first_seen: float
    last_seen: float


@dataclass(frozen=True)
class ReleaseSummary:
    """One line of the release list."""

    release: ReleaseRow
    environments: list[EnvironmentEvents]
    new_issues: int
    deploys: int
    adoption: dict[str, float]  # environment → share of its events of the last 24 h (0 … 1)

    @property
    def events(self) -> int:
        return sum(e.events for e in self.environments)

    @property
    def last_event(self) -> float | None:
        return max((e.last_seen for e in self.environments), default=None)


@dataclass(frozen=True)
class CommitInfo:
    id: int
    repository: str
    key: str  # the sha
    message: str | None
    author_name: str | None
    author_email: str | None
    date_added: float | None
    files: list[tuple[str, str]] = field(default_factory=list)  # (type A|M|D, path)

    @property
    def short_sha(self) -> str:
        return self.key[:7]

    @property
    def title(self) -> str:
        lines = (self.message or "").strip().splitlines()
        return lines[0] if lines else ""


@dataclass(frozen=True)
class Author:
    name: str | None
    email: str | None
    commits: int


@dataclass(frozen=True)
class DeployRow:
    id: int
    environment: str
    name: str | None
    url: str | None
    date_started: float | None
    date_finished: float


@dataclass(frozen=True)
class IssueLink:
    id: int
    short_id: str
    title: str
    status: str
    times_seen: int
    last_seen: float


# ---------------------------------------------------------------------------------- the list


def count_project_releases(conn: Connection, project_id: int) -> int:
    query = select(func.count()).where(release_project.c.project_id == project_id)
    return int(conn.execute(query).scalar_one())


def project_releases(
    conn: Connection, project_id: int, now: float, limit: int, offset: int = 0
) -> list[ReleaseSummary]:
    """The project's releases, newest first (by date), each with what the list shows."""
    rows = conn.execute(
        _release_select()
        .join(release_project, release_project.c.release_id == release.c.id)
        .where(release_project.c.project_id == project_id)
        .order_by(release_day().desc(), release.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    found = [_release_row(row) for row in rows]
    ids = [r.id for r in found]
    environments = _environments(conn, project_id, ids)
    new = new_issue_counts(conn, project_id, [r.version for r in found])
    deploys = _deploy_counts(conn, ids)
    adoption = adoption_by_environment(conn, project_id, environments, now)
    return [
        ReleaseSummary(
            r,
            environments.get(r.id, []),
            new.get(r.version, 0),
            deploys.get(r.id, 0),
            adoption.get(r.id, {}),
        )
        for r in found
    ]


def find_release(conn: Connection, project_id: int, version: str) -> ReleaseRow | None:
    """The project's release of that version; None for a release of another project."""
    row = conn.execute(
        _release_select()
        .join(release_project, release_project.c.release_id == release.c.id)
        .where(release_project.c.project_id == project_id, release.c.version == version)
    ).first()
    return _release_row(row) if row else None


def release_environments(conn: Connection, project_id: int, release_id: int) -> list[EnvironmentEvents]:
    return _environments(conn, project_id, [release_id]).get(release_id, [])


def _release_select() -> Any:
    return select(
        release.c.id,
        release.c.version,
        release.c.ref,
        release.c.url,
        release.c.date_created,
        release.c.date_released,
    )


def _release_row(row: Any) -> ReleaseRow:
    return ReleaseRow(row.id, row.version, row.ref, row.url, row.date_created, row.date_released)


def _environments(
    conn: Connection, project_id: int, release_ids: list[int]
) -> dict[int, list[EnvironmentEvents]]:
    if not release_ids:
        return {}
    rows = conn.execute(
        select(release_environment)
        .where(
            release_environment.c.project_id == project_id,
            release_environment.c.release_id.in_(release_ids),
        )
        .order_by(release_environment.c.events.desc(), release_environment.c.environment)
    )
    found: dict[int, list[EnvironmentEvents]] = {}
    for row in rows:
        found.setdefault(row.release_id, []).append(
            EnvironmentEvents(row.environment, row.events, row.first_seen, row.last_seen)
        )
    return found


def new_issue_counts(conn: Connection, project_id: int, versions: Collection[str]) -> dict[str, int]:
    """How many of the project's issues each release introduced (their first release)."""
    if not versions:
        return {}
    rows = conn.execute(
        select(issue.c.first_release, func.count())
        .where(issue.c.project_id == project_id, issue.c.first_release.in_(sorted(versions)))
        .group_by(issue.c.first_release)
    )
    return {row[0]: int(row[1]) for row in rows}


def _deploy_counts(conn: Connection, release_ids: list[int]) -> dict[int, int]:
    if not release_ids:
        return {}
    rows = conn.execute(
        select(deploy.c.release_id, func.count())
        .where(deploy.c.release_id.in_(release_ids))
        .group_by(deploy.c.release_id)
    )
    return {row[0]: int(row[1]) for row in rows}


# ------------------------------------------------------------------------------------ adoption


def adoption_by_environment(
    conn: Connection, project_id: int, environments: dict[int, list[EnvironmentEvents]], now: float
) -> dict[int, dict[str, float]]:
    """Per release, per environment it was seen in: its share of the project's events there in
    the last 24 hours (module doc)."""
    start = int((now - ADOPTION_WINDOW) // 3600) * 3600
    totals = _project_events_since(conn, project_id, start)
    adoption: dict[int, dict[str, float]] = {}
    for release_id, seen in environments.items():
        adoption[release_id] = {
            e.environment: min(1.0, events_since(e, start) / totals[e.environment])
            if totals.get(e.environment)
            else 0.0
            for e in seen
        }
    return adoption


def events_since(seen: EnvironmentEvents, start: float) -> float:
    """The release's events in the environment from `start` on, taken as spread evenly between
    its first and last event when `start` falls between them."""
    if seen.first_seen >= start:
        return float(seen.events)
    if seen.last_seen < start:
        return 0.0
    return seen.events * (seen.last_seen - start) / (seen.last_seen - seen.first_seen)


def _project_events_since(conn: Connection, project_id: int, start: float) -> dict[str, int]:
    """The project's events per environment from `start` (an hour's start) on. Only issues seen
    since can have any: the (project, last_seen) index narrows the issues to read."""
    rows = conn.execute(
        select(issue_count_hour.c.environment, func.sum(issue_count_hour.c.events))
        .join(issue, issue.c.id == issue_count_hour.c.issue_id)
        .where(
            issue.c.project_id == project_id,
            issue.c.last_seen >= start,
            issue_count_hour.c.hour >= int(start // 3600),
        )
        .group_by(issue_count_hour.c.environment)
    )
    return {row[0]: int(row[1] or 0) for row in rows}


# ------------------------------------------------------------------------------ one release


def release_commits(conn: Connection, release_id: int, limit: int = COMMITS_SHOWN) -> list[CommitInfo]:
    """The release's commits, its head first, each with the files it changed."""
    rows = conn.execute(
        select(commit, repository.c.name.label("repository_name"))
        .join(release_commit, release_commit.c.commit_id == commit.c.id)
        .join(repository, repository.c.id == commit.c.repository_id)
        .where(release_commit.c.release_id == release_id)
        .order_by(release_commit.c.position, commit.c.id)
        .limit(limit)
    )
    commits = [
        CommitInfo(
            row.id,
            row.repository_name,
            row.key,
            row.message,
            row.author_name,
            row.author_email,
            row.date_added,
        )
        for row in rows
    ]
    files = _files(conn, [c.id for c in commits])
    for c in commits:
        c.files.extend(files.get(c.id, []))
    return commits


def count_release_commits(conn: Connection, release_id: int) -> int:
    query = select(func.count()).where(release_commit.c.release_id == release_id)
    return int(conn.execute(query).scalar_one())


def _files(conn: Connection, commit_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    if not commit_ids:
        return {}
    rows = conn.execute(
        select(commit_file)
        .where(commit_file.c.commit_id.in_(commit_ids))
        .order_by(commit_file.c.commit_id, commit_file.c.filename)
    )
    found: dict[int, list[tuple[str, str]]] = {}
    for row in rows:
        found.setdefault(row.commit_id, []).append((row.type, row.filename))
    return found


def authors(commits: Iterable[CommitInfo]) -> list[Author]:
    """Who wrote the commits, most commits first; one author per email (case aside), else per name."""
    counts: dict[str, Author] = {}
    for c in commits:
        key = (c.author_email or "").lower() or f"name:{c.author_name or ''}"
        known = counts.get(key)
        counts[key] = Author(
            known.name if known and known.name else c.author_name,
            known.email if known and known.email else c.author_email,
            (known.commits if known else 0) + 1,
        )
    return sorted(counts.values(), key=lambda a: (-a.commits, (a.name or a.email or "").lower()))


def release_deploys(conn: Connection, release_id: int) -> list[DeployRow]:
    """The release's deploys, the latest first."""
    rows = conn.execute(
        select(deploy)
        .where(deploy.c.release_id == release_id)
        .order_by(deploy.c.date_finished.desc(), deploy.c.id.desc())
    )
    return [
        DeployRow(row.id, row.environment, row.name, row.url, row.date_started, row.date_finished)
        for row in rows
    ]


def new_issues(conn: Connection, project_id: int, version: str, limit: int = ISSUES_SHOWN) -> list[IssueLink]:
    """The issues the release introduced: those first seen in it."""
    return _issue_links(conn, project_id, issue.c.first_release == version, limit)


def regressed_issues(
    conn: Connection, project_id: int, version: str, limit: int = ISSUES_SHOWN
) -> list[IssueLink]:
    """The issues an event of this release regressed (their `set_regression` activity names it)."""
    regressed = select(activity.c.issue_id).where(
        activity.c.type == "set_regression", _names_version(version)
    )
    return _issue_links(conn, project_id, issue.c.id.in_(regressed), limit)


def resolved_issues(
    conn: Connection, project_id: int, version: str, limit: int = ISSUES_SHOWN
) -> list[IssueLink]:
    """The issues resolved in this release: still so (their resolution names it), or once (their
    activity says so; a regression since deleted the resolution but not the history)."""
    pending = select(issue_resolution.c.issue_id).where(
        issue_resolution.c.kind == "in_release", issue_resolution.c.release == version
    )
    once = select(activity.c.issue_id).where(
        activity.c.type == "set_resolved_in_release", _names_version(version)
    )
    return _issue_links(conn, project_id, or_(issue.c.id.in_(pending), issue.c.id.in_(once)), limit)


def _names_version(version: str) -> ColumnElement[bool]:
    """The activity's JSON data has `"version": version` (as shoal.store.triage writes it with
    orjson, compactly; other keys may sit beside it). A quote inside a JSON string is escaped, so
    the pair found is a real key and value, and one string search works on both backends."""
    pair = '"version":' + orjson.dumps(version).decode()
    return activity.c.data.contains(pair, autoescape=True)


def _issue_links(
    conn: Connection, project_id: int, condition: ColumnElement[bool], limit: int
) -> list[IssueLink]:
    rows = conn.execute(
        select(
            issue.c.id,
            issue.c.short_id,
            issue.c.title,
            issue.c.status,
            issue.c.times_seen,
            issue.c.last_seen,
            project.c.slug,
        )
        .join(project, project.c.id == issue.c.project_id)
        .where(issue.c.project_id == project_id, condition)
        .order_by(issue.c.last_seen.desc(), issue.c.id.desc())
        .limit(limit)
    )
    return [
        IssueLink(
            row.id, f"{row.slug.upper()}-{row.short_id}", row.title, row.status, row.times_seen, row.last_seen
        )
        for row in rows
    ]


# ---------------------------------------------------------------------------------- ordering


def date_order(conn: Connection, issue_id: int, left: str, right: str) -> int | None:
    """-1, 0 or 1 as release `left` is older than, the same as or newer than `right` by date, among
    the releases of the issue's organization; None when either has no release row."""
    organization = (
        select(project.c.organization_id)
        .join(issue, issue.c.project_id == project.c.id)
        .where(issue.c.id == issue_id)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(release.c.version, release_day().label("day"), release.c.id).where(
            release.c.organization_id == organization, release.c.version.in_([left, right])
        )
    )
    keys = {row.version: (row.day, row.id) for row in rows}
    if left not in keys or right not in keys:
        return None
    return (keys[left] > keys[right]) - (keys[left] < keys[right])
