"""Releases, commits, deploys and repositories in Sentry's JSON shapes (its release, commit, deploy
and repository serializers' field names and types; reference/protocol.md §7): string ids for
commits, deploys and repositories, integer ids for releases and their projects, as Sentry writes
them; times ISO 8601 UTC with a Z.

Each project of a release says whether it has release health (`hasHealthData`: sessions of that
release in that project) and, when the request asks `?health=1`, its `healthData` in Sentry's
field names: crash-free sessions and users in percent (0–100, null without sessions or users),
sessions crashed and errored (errored only, as docs/release-health.md counts them), total sessions
and users, over the release's whole life (shoal.store.session_stats).

A page of releases costs a fixed number of queries, whatever its length (two more per project on
it, for health).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Connection

from shoal.clock import iso_utc
from shoal.store import commits as commit_store
from shoal.store import releases as release_store
from shoal.store import session_stats
from shoal.store.commits import Commit, Repository
from shoal.store.releases import Deploy, Release, ReleaseProject
from shoal.store.session_stats import SessionHealth

# Shown for the providers sentry-cli knows (src/utils/vcs.rs `find_reference_url`).
PROVIDER_NAMES = {
    "git": "Git",
    "github": "GitHub",
    "bitbucket": "Bitbucket",
    "visualstudio": "Visual Studio",
    "google": "Google Cloud Source",
    "integrations:github": "GitHub",
    "integrations:github_enterprise": "GitHub Enterprise",
    "integrations:gitlab": "GitLab",
    "integrations:bitbucket": "Bitbucket",
    "integrations:bitbucket_server": "Bitbucket Server",
    "integrations:vsts": "Azure DevOps",
}
_PACKAGE = re.compile(r"^(@?[^@]+)@(.+?)$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_BUILD_HASH_LENGTHS = frozenset({12, 16, 20, 32, 40, 64})


def releases_json(
    conn: Connection, releases: Sequence[Release], visible: Collection[int], *, health: bool = False
) -> list[dict[str, Any]]:
    """The releases as Sentry's API lists them, showing only the projects in `visible`; with
    `health`, each project's `healthData` too."""
    ids = [r.id for r in releases]
    projects = {
        release_id: [p for p in listed if p.project_id in visible]
        for release_id, listed in release_store.release_projects(conn, ids).items()
    }
    new_groups = release_store.new_issue_counts(
        conn, {(p.project_id, r.version) for r in releases for p in projects[r.id]}
    )
    commits = commit_store.commit_summaries(conn, ids)
    deploys = release_store.deploy_summaries(conn, ids)
    spans = release_store.event_spans(conn, ids, visible)
    sessions = _session_health(conn, releases, projects)
    shown: list[dict[str, Any]] = []
    for r in releases:
        project_groups = [(p, new_groups.get((p.project_id, r.version), 0)) for p in projects[r.id]]
        summary, deployed, span = commits[r.id], deploys.get(r.id), spans.get(r.id)
        shown.append(
            {
                "id": r.id,
                "version": r.version,
                "shortVersion": short_version(r.version),
                "versionInfo": _version_info(r.version),
                "status": "open",
                "ref": r.ref,
                "url": r.url,
                "dateCreated": iso_utc(r.date_created),
                "dateStarted": iso_utc(r.date_started),
                "dateReleased": iso_utc(r.date_released),
                "data": {},
                "owner": None,
                "newGroups": sum(count for _, count in project_groups),
                "commitCount": summary.count,
                "lastCommit": commit_json(summary.head) if summary.head else None,
                "authors": [{"name": name, "email": email} for name, email in summary.authors],
                "deployCount": deployed.count if deployed else 0,
                "lastDeploy": deploy_json(deployed.last) if deployed else None,
                "firstEvent": iso_utc(span[0]) if span else None,
                "lastEvent": iso_utc(span[1]) if span else None,
                "projects": [
                    _project_json(p, count, sessions.get((p.project_id, r.version)), health)
                    for p, count in project_groups
                ],
                "currentProjectMeta": {},
                "userAgent": None,
            }
        )
    return shown


def _project_json(
    p: ReleaseProject, new_groups: int, sessions: SessionHealth | None, health: bool
) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": p.project_id,
        "slug": p.slug,
        "name": p.name,
        "newGroups": new_groups,
        "platform": p.platform,
        "platforms": [p.platform] if p.platform else [],
        "hasHealthData": sessions is not None,
    }
    if health:
        shown["healthData"] = health_json(sessions)
    return shown


def health_json(sessions: SessionHealth | None) -> dict[str, Any]:
    """Sentry's `healthData`; a release without sessions in the project has zeros and null rates."""
    started = sessions.started if sessions else 0
    users = sessions.users if sessions else 0
    crashed = sessions.crashed if sessions else 0
    crashed_users = sessions.crashed_users if sessions else 0
    return {
        # Percent, as Sentry gives them. 100 − 100·crashed/total is exact whenever the percentage is
        # (checked for every total below 200); 100·(1 − 4/5) is 19.999999999999996.
        "crashFreeSessions": 100 - 100 * crashed / started if started else None,
        "crashFreeUsers": 100 - 100 * crashed_users / users if users else None,
        "sessionsCrashed": crashed,
        "sessionsErrored": sessions.errored if sessions else 0,
        "totalSessions": started,
        "totalUsers": users,
        "hasHealthData": started > 0,
    }


def _session_health(
    conn: Connection, releases: Sequence[Release], projects: dict[int, list[ReleaseProject]]
) -> dict[tuple[int, str], SessionHealth]:
    """The session health of every (project, version) on the page, two queries per project."""
    versions: dict[int, set[str]] = {}
    for r in releases:
        for p in projects[r.id]:
            versions.setdefault(p.project_id, set()).add(r.version)
    return {
        (project_id, version): found
        for project_id, wanted in sorted(versions.items())
        for version, found in session_stats.releases_health(conn, project_id, sorted(wanted)).items()
    }


def short_version(version: str) -> str:
    """The version without its `package@`, and a build hash cut to 12 characters, as Sentry's
    release parser describes a release (`my-app@1.4.0` → `1.4.0`, a 40-hex sha → its first 12)."""
    _, raw = _split_package(version)
    return raw[:12] if _is_build_hash(raw) else raw


def _version_info(version: str) -> dict[str, Any]:
    package, raw = _split_package(version)
    return {
        "package": package,
        "version": {"raw": raw},
        "description": short_version(version),
        "buildHash": raw if _is_build_hash(raw) else None,
    }


def _split_package(version: str) -> tuple[str | None, str]:
    match = _PACKAGE.match(version)
    return (match[1], match[2]) if match else (None, version)


def _is_build_hash(raw: str) -> bool:
    return len(raw) in _BUILD_HASH_LENGTHS and _HEX.match(raw) is not None


def commit_json(commit: Commit, *, with_files: bool = False) -> dict[str, Any]:
    has_author = commit.author_name is not None or commit.author_email is not None
    shown: dict[str, Any] = {
        "id": commit.key,
        "message": commit.message,
        "dateCreated": iso_utc(commit.date_added),
        "author": {"name": commit.author_name, "email": commit.author_email} if has_author else None,
        "repository": repository_json(commit.repository),
        "pullRequest": None,
        "suspectCommitType": "",
    }
    if with_files:
        shown["files"] = [{"filename": f.filename, "type": f.type} for f in commit.files]
    return shown


def repository_json(repository: Repository) -> dict[str, Any]:
    provider = repository.provider
    return {
        "id": str(repository.id),
        "name": repository.name,
        "url": repository.url,
        "provider": {"id": provider, "name": PROVIDER_NAMES.get(provider, provider)} if provider else None,
        "status": "active",
        "dateCreated": iso_utc(repository.date_created),
        "integrationId": None,
        "externalSlug": None,
        "externalId": None,
    }


def deploy_json(deploy: Deploy) -> dict[str, Any]:
    return {
        "id": str(deploy.id),
        "environment": deploy.environment,
        "name": deploy.name,
        "url": deploy.url,
        "dateStarted": iso_utc(deploy.date_started),
        "dateFinished": iso_utc(deploy.date_finished),
    }
