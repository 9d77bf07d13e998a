"""Projects, as Sentry's API serves them: `GET /api/0/organizations/{org}/projects/` (an
organization's), `GET /api/0/projects/` (every one the token reaches, each with its organization)
and `GET /api/0/projects/{org}/{project}/`.

A personal token of a plain member lists only the projects their teams allow, as the UI shows them
(`visible_projects`; shoal.store.teams has the rule). Lists need a scope among READ_PROJECTS, which
takes Sentry's organization scopes too: its organization project list asks for `org:read`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth, pagination
from shoal.api.errors import not_found
from shoal.api.json_io import json_response
from shoal.api.organizations import organization_json
from shoal.api.paths import ORGANIZATION, PREFIX, PROJECT
from shoal.clock import iso_utc
from shoal.store import project_listing, projects, teams, tokens, users
from shoal.store.projects import ProjectInfo
from shoal.store.tokens import OrganizationInfo, TokenOwner

READ_PROJECTS = frozenset(
    {
        "project:read",
        "project:write",
        "project:admin",
        "project:releases",
        "org:read",
        "org:write",
        "org:admin",
    }
)


async def organization_projects(request: Request) -> Response:
    return await run_in_threadpool(_organization_list, request)


async def all_projects(request: Request) -> Response:
    return await run_in_threadpool(_all_list, request)


async def project_detail(request: Request) -> Response:
    return await run_in_threadpool(_detail, request)


def visible_projects(conn: Connection, owner: TokenOwner, organization_id: int) -> list[ProjectInfo]:
    """The organization's projects the token may see, oldest first (the caller checked that it
    reaches the organization)."""
    found = [p for p in projects.list_projects(conn) if p.organization_id == organization_id]
    if owner.organization_id is not None or owner.is_superuser:
        return found
    if users.role_of(conn, organization_id, owner.user_id) in teams.MANAGER_ROLES:
        return found
    hidden = teams.hidden_project_ids(conn, owner.user_id, [organization_id])
    return [p for p in found if p.id not in hidden]


def url_project(conn: Connection, owner: TokenOwner, request: Request) -> ProjectInfo:
    """The project the URL names (`auth.visible_project`); a slug with a NUL character names none,
    which PostgreSQL would refuse to even look up."""
    params = request.path_params
    if "\x00" in params["project_slug"]:
        raise not_found()
    return auth.visible_project(conn, owner, params["org_slug"], params["project_slug"])


def _organization_list(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    with auth.engine_of(request).connect() as conn:
        organization_id = tokens.reachable_organization(conn, owner, request.path_params["org_slug"])
        if organization_id is None:
            raise not_found()
        auth.require_scope(owner, READ_PROJECTS)
        found = visible_projects(conn, owner, organization_id)
        start, page = pagination.offset_page(cursor, per_page, len(found))
        body = _projects_json(conn, owner, found[start : start + per_page], organizations=None)
    return json_response(body, headers={"Link": pagination.link_header(request, page)})


def _all_list(request: Request) -> Response:
    owner = auth.token_owner(request)
    auth.require_scope(owner, READ_PROJECTS)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    with auth.engine_of(request).connect() as conn:
        organizations = {org.id: org for org in tokens.reachable_organizations(conn, owner)}
        found = [p for org in organizations for p in visible_projects(conn, owner, org)]
        start, page = pagination.offset_page(cursor, per_page, len(found))
        shown = found[start : start + per_page]
        body = _projects_json(conn, owner, shown, organizations=_organizations(request, organizations))
    return json_response(body, headers={"Link": pagination.link_header(request, page)})


def _detail(request: Request) -> Response:
    owner = auth.token_owner(request)
    with auth.engine_of(request).connect() as conn:
        project = url_project(conn, owner, request)
        auth.require_scope(owner, READ_PROJECTS)
        organizations = {org.id: org for org in tokens.reachable_organizations(conn, owner)}
        body = _projects_json(conn, owner, [project], organizations=_organizations(request, organizations))
    return json_response(body[0])


def _organizations(request: Request, found: dict[int, OrganizationInfo]) -> dict[int, dict[str, Any]]:
    return {org_id: organization_json(request, org) for org_id, org in found.items()}


def _projects_json(
    conn: Connection,
    owner: TokenOwner,
    shown: list[ProjectInfo],
    *,
    organizations: dict[int, dict[str, Any]] | None,
) -> list[dict[str, Any]]:
    """Each project in Sentry's shape, with its organization when `organizations` is given."""
    dates = project_listing.project_dates(conn, [p.id for p in shown])
    owners: dict[int, list[teams.Team]] = {}
    for organization_id in sorted({p.organization_id for p in shown}):
        owners.update(teams.project_owners(conn, organization_id))
    my_teams = {team.id for team in teams.user_teams(conn, owner.user_id)}
    body = []
    for project in shown:
        owning = owners.get(project.id, [])
        entry = project_json(project, dates.get(project.id), owning, my_teams)
        if organizations is not None:
            entry["organization"] = organizations[project.organization_id]
        body.append(entry)
    return body


def project_json(
    project: ProjectInfo,
    dates: project_listing.ProjectDates | None,
    owning: list[teams.Team],
    my_teams: set[int],
) -> dict[str, Any]:
    team_list = [{"id": str(t.id), "slug": t.slug, "name": t.name} for t in owning]
    return {
        "id": str(project.id),
        "slug": project.slug,
        "name": project.name,
        "platform": project.platform,
        "dateCreated": iso_utc(dates.created_at) if dates else None,
        "firstEvent": iso_utc(dates.first_event) if dates else None,
        "isBookmarked": False,
        "isMember": any(t.id in my_teams for t in owning),
        "hasAccess": True,
        "isPublic": False,
        "features": [],
        "status": "active",
        "team": team_list[0] if team_list else None,
        "teams": team_list,
    }


def project_summary(project: ProjectInfo) -> dict[str, Any]:
    """The short form issues and events name their project with."""
    return {"id": str(project.id), "name": project.name, "slug": project.slug, "platform": project.platform}


ROUTES = [
    Route(ORGANIZATION + "/projects/", organization_projects),
    Route(PREFIX + "projects/", all_projects),
    Route(PROJECT + "/", project_detail),
]
