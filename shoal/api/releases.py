"""Releases over Sentry's API, as `sentry-cli releases …` drives it (reference/protocol.md §7):

- `GET|POST /api/0/organizations/{org}/releases/`: list (newest first; `?query=` matches the start
  of the version, `?project=ID` narrows), create: **201**, or **208** Already Reported when the
  version exists (then its projects are added and the given fields changed), as Sentry answers;
- `GET|PUT|DELETE …/releases/{version}/`: read, change (`ref`, `url`, `dateStarted`,
  `dateReleased` (finalize), `projects`, `commits`, `refs`), delete (204);
- `GET …/releases/{version}/previous-with-commits/`: the release before it (semver order for two
  semver versions, else creation order) that has commits, or exactly `{}`;
- `GET …/releases/{version}/commits/`;
- the same reads, PUT and DELETE under `/api/0/projects/{org}/{project}/releases/`.

Sentry's scopes (OrganizationReleasePermission): reads need one of READ_RELEASES, changes one of
WRITE_RELEASES, deletion one of DELETE_RELEASES. A personal token of a plain member reaches a
release only through a project their teams let them see.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth, pagination
from shoal.api.errors import ApiError, invalid, not_found
from shoal.api.json_io import json_object, json_response
from shoal.api.paths import ORGANIZATION, PROJECT
from shoal.api.release_bodies import BAD_PROJECTS, ReleaseBody, release_body
from shoal.api.release_json import commit_json, releases_json
from shoal.store import commits as commit_store
from shoal.store import projects, teams, tokens, users
from shoal.store import releases as release_store
from shoal.store.db import write_transaction
from shoal.store.projects import ProjectInfo
from shoal.store.releases import Release
from shoal.store.tokens import TokenOwner
from shoal.store.url_projects import row_id

READ_RELEASES = frozenset({"project:read", "project:write", "project:admin", "project:releases", "org:ci"})
WRITE_RELEASES = frozenset({"project:write", "project:admin", "project:releases", "org:ci"})
DELETE_RELEASES = frozenset({"project:admin", "project:releases"})

# Sentry's words when a release still names issues' first release (UnsafeReleaseDeletion).
IN_USE = "This release is referenced by active issues and cannot be removed."


@dataclass(frozen=True)
class Reach:
    """The organization named in the URL and the projects of it the token may see."""

    organization_id: int
    projects: dict[int, ProjectInfo]
    everything: bool  # an organization token, a superuser or an owner/admin: every project


def reach(conn: Connection, owner: TokenOwner, org: str) -> Reach:
    """The organization (404 when out of the token's reach) and its projects the token may see:
    all of them, or for a plain member's personal token those their teams allow (as the UI)."""
    organization_id = None if "\x00" in org else tokens.reachable_organization(conn, owner, org)
    if organization_id is None:
        raise not_found()
    everything = (
        owner.organization_id is not None
        or owner.is_superuser
        or users.role_of(conn, organization_id, owner.user_id) in teams.MANAGER_ROLES
    )
    hidden = frozenset() if everything else teams.hidden_project_ids(conn, owner.user_id, [organization_id])
    found = {
        p.id: p
        for p in projects.list_projects(conn)
        if p.organization_id == organization_id and p.id not in hidden
    }
    return Reach(organization_id, found, everything)


def release_target(
    conn: Connection, owner: TokenOwner, request: Request, scopes: frozenset[str]
) -> tuple[Reach, Release, ProjectInfo | None]:
    """The URL's organization (and project, on project paths), the scope check, then the URL's
    release: Sentry's order of 404, 403, 404."""
    params = request.path_params
    project = _url_project(conn, owner, request)
    where = reach(conn, owner, params["org_slug"])
    auth.require_scope(owner, scopes)
    version = str(params["version"])
    # A NUL can name no release (PostgreSQL could not even compare it): 404 like any other.
    found = None if "\x00" in version else release_store.get_release(conn, where.organization_id, version)
    if found is None:
        raise not_found()
    linked = {p.project_id for p in release_store.release_projects(conn, [found.id])[found.id]}
    if project is not None and project.id not in linked:
        raise not_found()
    if not where.everything and not linked & where.projects.keys():
        raise not_found()
    return where, found, project


def _url_project(conn: Connection, owner: TokenOwner, request: Request) -> ProjectInfo | None:
    params = request.path_params
    if "project_slug" not in params:
        return None
    if "\x00" in params["org_slug"] + params["project_slug"]:
        raise not_found()
    return auth.visible_project(conn, owner, params["org_slug"], params["project_slug"])


# ------------------------------------------------------------------------------------- endpoints


async def release_list(request: Request) -> Response:
    if request.method == "GET":
        return await run_in_threadpool(_list, request)
    body = await json_object(request)
    return await run_in_threadpool(_create, request, body)


async def release_detail(request: Request) -> Response:
    if request.method == "PUT":
        body = await json_object(request)
        return await run_in_threadpool(_update, request, body)
    if request.method == "DELETE":
        return await run_in_threadpool(_delete, request)
    return await run_in_threadpool(_get, request)


async def previous_with_commits(request: Request) -> Response:
    return await run_in_threadpool(_previous, request)


async def release_commits(request: Request) -> Response:
    return await run_in_threadpool(_commits, request)


def _list(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    with auth.engine_of(request).connect() as conn:
        project = _url_project(conn, owner, request)
        where = reach(conn, owner, request.path_params["org_slug"])
        auth.require_scope(owner, READ_RELEASES)
        project_ids = {project.id} if project else _requested_projects(request, where)
        offset = cursor.offset if cursor else 0
        page, total = release_store.release_page(
            conn,
            where.organization_id,
            project_ids,
            version_prefix=_version_prefix(request),
            offset=offset,
            limit=per_page,
        )
        body = releases_json(conn, page, where.projects.keys(), health=_wants_health(request))
    _, links = pagination.offset_page(cursor, per_page, total)
    return json_response(body, headers={"Link": pagination.link_header(request, links)})


def _version_prefix(request: Request) -> str | None:
    prefix = request.query_params.get("query", "").strip()
    if "\x00" in prefix:
        raise ApiError(400, {"detail": "Invalid query parameter: null characters are not allowed."})
    return prefix or None


def _requested_projects(request: Request, where: Reach) -> set[int]:
    """`?project=ID` (repeatable; -1 or none: all the token may see), kept to what it may see."""
    wanted = request.query_params.getlist("project")
    if not wanted or "-1" in wanted:
        return set(where.projects)
    ids = {row_id(value) for value in wanted}
    if None in ids:
        raise ApiError(400, {"detail": "Invalid project parameter. Values must be numbers."})
    return {project_id for project_id in ids if project_id in where.projects}


def _create(request: Request, body: dict[str, Any]) -> Response:
    owner = auth.token_owner(request)
    now = auth.clock_of(request).now()
    with write_transaction(auth.engine_of(request)) as conn:
        where = reach(conn, owner, request.path_params["org_slug"])
        auth.require_scope(owner, WRITE_RELEASES)
        checked = release_body(body, creating=True)
        assert checked.version is not None
        project_ids = _project_ids(checked, where)
        found, created = release_store.create_release(
            conn, where.organization_id, checked.version, checked.fields, now
        )
        if not created:
            release_store.update_release(conn, found.id, checked.fields)
        _apply(conn, where, found, checked, project_ids=project_ids, now=now)
        shown = _shown(conn, found.id, where)
    # 208 Already Reported: Sentry's answer for a version that existed, so a client can tell.
    return json_response(shown, 201 if created else 208)


def _get(request: Request) -> Response:
    owner = auth.token_owner(request)
    with auth.engine_of(request).connect() as conn:
        where, found, _ = release_target(conn, owner, request, READ_RELEASES)
        shown = _shown(conn, found.id, where, health=_wants_health(request))
    return json_response(shown)


def _update(request: Request, body: dict[str, Any]) -> Response:
    owner = auth.token_owner(request)
    now = auth.clock_of(request).now()
    with write_transaction(auth.engine_of(request)) as conn:
        where, found, _ = release_target(conn, owner, request, WRITE_RELEASES)
        checked = release_body(body, creating=False)
        project_ids = _project_ids(checked, where)
        release_store.update_release(conn, found.id, checked.fields)
        _apply(conn, where, found, checked, project_ids=project_ids, now=now)
        shown = _shown(conn, found.id, where)
    return json_response(shown)


def _delete(request: Request) -> Response:
    owner = auth.token_owner(request)
    with write_transaction(auth.engine_of(request)) as conn:
        where, found, _ = release_target(conn, owner, request, DELETE_RELEASES)
        if release_store.names_issues(conn, where.organization_id, found.version):
            raise ApiError(400, {"detail": IN_USE})
        release_store.delete_release(conn, found.id)
    return Response(status_code=204)


def _previous(request: Request) -> Response:
    owner = auth.token_owner(request)
    with auth.engine_of(request).connect() as conn:
        where, found, _ = release_target(conn, owner, request, READ_RELEASES)
        linked = {p.project_id for p in release_store.release_projects(conn, [found.id])[found.id]}
        candidates = release_store.releases_with_commits(conn, found.id, linked & where.projects.keys())
        previous = release_store.latest_earlier(candidates, found)
        # Exactly {} when there is none: sentry-cli reads it as an empty struct that denies
        # unknown fields before it tries a release (reference/protocol.md §7).
        shown = releases_json(conn, [previous], where.projects.keys())[0] if previous else {}
    return json_response(shown)


def _commits(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    with auth.engine_of(request).connect() as conn:
        _, found, _ = release_target(conn, owner, request, READ_RELEASES)
        total = commit_store.release_commit_count(conn, found.id)
        start, links = pagination.offset_page(cursor, per_page, total)
        listed = commit_store.release_commits(conn, found.id, offset=start, limit=per_page)
    body = [commit_json(c, with_files=True) for c in listed]
    return json_response(body, headers={"Link": pagination.link_header(request, links)})


# --------------------------------------------------------------------------------------- helpers


def _project_ids(checked: ReleaseBody, where: Reach) -> set[int]:
    """The body's projects (slugs, or ids as sentry-cli sends all-digit ones) as ids; a 400 when
    one is not a project of the organization the token may see."""
    if checked.projects is None:
        return set()
    by_slug = {p.slug: p.id for p in where.projects.values()}
    found: set[int] = set()
    for wanted in checked.projects:
        project_id = by_slug.get(wanted) if isinstance(wanted, str) else None
        if project_id is None:
            number = wanted if isinstance(wanted, int) else row_id(wanted)
            project_id = number if number in where.projects else None
        if project_id is None:
            raise invalid({"projects": BAD_PROJECTS})
        found.add(project_id)
    return found


def _apply(
    conn: Connection, where: Reach, found: Release, checked: ReleaseBody, *, project_ids: set[int], now: float
) -> None:
    release_store.link_projects(conn, found.id, project_ids)
    organization_id = where.organization_id
    if checked.commits is not None:
        # Sentry files commits sent without a repository under one named after the organization.
        fallback = f"organization-{organization_id}"
        sent = [c if c.repository else dataclasses.replace(c, repository=fallback) for c in checked.commits]
        commit_store.set_release_commits(conn, organization_id, found.id, sent, now)
    if checked.refs is not None:
        commit_store.set_release_refs(
            conn, organization_id, found.id, checked.refs, now, heads_as_commits=checked.commits is None
        )


def _shown(conn: Connection, release_id: int, where: Reach, *, health: bool = False) -> dict[str, Any]:
    found = release_store.get_release_by_id(conn, release_id)
    assert found is not None
    return releases_json(conn, [found], where.projects.keys(), health=health)[0]


def _wants_health(request: Request) -> bool:
    """`?health=1` (or `true`), Sentry's switch for each project's `healthData`."""
    return request.query_params.get("health", "").lower() in ("1", "true")


ROUTES = [
    Route(f"{ORGANIZATION}/releases/", release_list, methods=["GET", "POST"]),
    Route(f"{ORGANIZATION}/releases/{{version}}/", release_detail, methods=["GET", "PUT", "DELETE"]),
    Route(f"{ORGANIZATION}/releases/{{version}}/previous-with-commits/", previous_with_commits),
    Route(f"{ORGANIZATION}/releases/{{version}}/commits/", release_commits),
    Route(f"{PROJECT}/releases/", release_list, methods=["GET"]),
    Route(f"{PROJECT}/releases/{{version}}/", release_detail, methods=["GET", "PUT", "DELETE"]),
    Route(f"{PROJECT}/releases/{{version}}/commits/", release_commits),
]
