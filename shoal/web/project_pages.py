"""Projects in the UI: the list (and the home page that leads to it), creating a project (name,
platform, optionally the team that owns it), the setup page that follows with the DSN and a snippet
for the platform's SDK, and deleting a project once its slug is typed. The settings pages are in
`project_settings_pages`; ROUTES holds both.

Endpoints are plain functions (Starlette's thread pool); form posts go through `form_post`, which
refuses a post without the session's CSRF token before anything runs.
"""

from __future__ import annotations

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import issues, projects, teams
from shoal.store.db import write_transaction
from shoal.store.projects import ProjectInfo
from shoal.store.teams import Team
from shoal.web import project_settings_pages as settings_pages
from shoal.web.auth import ADMINS_ONLY, Viewer, current_viewer, engine_of
from shoal.web.form_posts import field, form_post, see_other
from shoal.web.pages import render
from shoal.web.project_settings_pages import KEY_CACHE_SECONDS, managed_project, name_error, require_manager
from shoal.web.setup_snippets import PLATFORMS, setup_steps

NOTICES = {"deleted": "The project was deleted, with its issues and events."}


# --------------------------------------------------------------------------------- list, home


def visible_projects(conn: Connection, viewer: Viewer) -> list[ProjectInfo]:
    """The projects the viewer may see: the one place the list and the home page filter them."""
    return [project for project in projects.list_projects(conn) if viewer.can_see_project(project)]


def home(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        visible = visible_projects(conn, viewer)
    if len(visible) == 1:
        return RedirectResponse(f"/projects/{visible[0].id}/issues/", status_code=303)
    return RedirectResponse("/projects/", status_code=303)


def project_list(request: Request) -> Response:
    viewer = current_viewer(request)
    public_url = request.app.state.config.public_url
    with engine_of(request).connect() as conn:
        can_create = bool(_organizations(conn, viewer))
        rows = []
        for project in visible_projects(conn, viewer):
            key = projects.first_enabled_key(conn, project.id)
            rows.append(
                {
                    "project": project,
                    "platform": PLATFORMS.get(project.platform, project.platform),
                    "dsn": projects.dsn(public_url, key, project.id) if key else None,
                    "issues": issues.count_issues(conn, project.id),
                }
            )
    notice = NOTICES.get(request.query_params.get("notice", ""))
    context = {"rows": rows, "notice": notice, "can_create": can_create}
    return render(request, viewer, "projects.html", context)


# ------------------------------------------------------------------------------------ create


def _organizations(conn: Connection, viewer: Viewer) -> dict[int, str]:
    """The organizations the viewer may make a project in (those they manage), with their names."""
    names = projects.organization_names(conn)
    candidates = viewer.organization_ids or list(names)
    return {org: names[org] for org in sorted(candidates) if org in names and viewer.can_manage(org)}


def _teams(conn: Connection, organization_ids: list[int]) -> list[Team]:
    return [team for org in organization_ids for team in teams.organization_teams(conn, org)]


def new_project(request: Request) -> Response:
    viewer = current_viewer(request)
    return _new_form(request, viewer, values={"platform": ""})


def _new_form(
    request: Request,
    viewer: Viewer,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with engine_of(request).connect() as conn:
        organizations = _organizations(conn, viewer)
        team_choices = _teams(conn, list(organizations))
    if not organizations:
        # Members see the form's link nowhere; one who types the URL learns why it is closed.
        raise HTTPException(403, ADMINS_ONLY)
    context = {
        "organizations": organizations,
        "teams": team_choices,
        "platforms": PLATFORMS,
        "values": {**values, "organization": values.get("organization") or str(next(iter(organizations)))},
        "errors": errors or {},
    }
    return render(request, viewer, "project_new.html", context, status=status)


@form_post
def post_new_project(request: Request, viewer: Viewer, form: FormData) -> Response:
    values = {name: field(form, name) for name in ("name", "platform", "team", "organization")}
    with engine_of(request).connect() as conn:
        organization_id, team, errors = _checked_new(conn, viewer, values)
    if errors or organization_id is None:
        return _new_form(request, viewer, values=values, errors=errors, status=400)
    try:
        with write_transaction(engine_of(request)) as conn:
            require_manager(viewer, organization_id)
            created = projects.create_project(
                conn, organization_id, values["name"], values["platform"], DEFAULT_CONFIG_ID
            )
            if team is not None:
                teams.add_project_team(conn, created.id, team.id)
    except projects.SlugTaken:
        slug = projects.slugify(values["name"])
        message = f"This organization already has a project with the slug “{slug}”: choose another name."
        return _new_form(request, viewer, values=values, errors={"name": message}, status=400)
    return see_other(f"/projects/{created.id}/setup/")


def _checked_new(
    conn: Connection, viewer: Viewer, values: dict[str, str]
) -> tuple[int | None, Team | None, dict[str, str]]:
    """The organization and team the form chose, and the problems with it, by field."""
    errors: dict[str, str] = {}
    organizations = _organizations(conn, viewer)
    # The form only shows a choice when there are several; without one, the only one it can be.
    chosen = values["organization"] or (str(next(iter(organizations))) if len(organizations) == 1 else "")
    organization_id = int(chosen) if chosen.isdigit() and int(chosen) in organizations else None
    if organization_id is None:
        errors["organization"] = "Choose one of your organizations."
    if message := name_error(values["name"]):
        errors["name"] = message
    elif projects.slugify(values["name"]).isdigit():
        # The settings page refuses such slugs (they read as ids); refuse them here too.
        errors["name"] = "A name needs a letter: its slug would be only digits."
    if values["platform"] not in PLATFORMS:
        errors["platform"] = "Choose the platform your code runs on, or “Other”."
    team = teams.get_team(conn, int(values["team"])) if values["team"].isdigit() else None
    if values["team"] and (team is None or team.organization_id != organization_id):
        errors["team"] = "Choose one of the organization's teams, or no team."
    return organization_id, team, errors


# ------------------------------------------------------------------------------------- setup


def project_setup(request: Request) -> Response:
    """The DSN and the lines that set up the SDK; ?platform= shows another platform's."""
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        project = settings_pages.visible(conn, viewer, int(request.path_params["project_id"]))
        key = projects.first_enabled_key(conn, project.id)
    chosen = request.query_params.get("platform", "")
    platform = chosen if chosen in PLATFORMS else project.platform
    dsn = projects.dsn(request.app.state.config.public_url, key, project.id) if key else None
    context = {
        "project": project,
        "dsn": dsn,
        "platforms": PLATFORMS,
        "platform": platform,
        "steps": setup_steps(platform, dsn, project.slug) if dsn else [],
    }
    return render(request, viewer, "project_setup.html", context)


# ------------------------------------------------------------------------------------ delete


def confirm_delete(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        project = managed_project(conn, viewer, int(request.path_params["project_id"]))
    return _delete_form(request, viewer, project)


def _delete_form(
    request: Request, viewer: Viewer, project: ProjectInfo, error: str | None = None, status: int = 200
) -> Response:
    with engine_of(request).connect() as conn:
        counts = {
            "issue_count": issues.count_issues(conn, project.id),
            "key_count": len(projects.list_keys(conn, project.id)),
        }
    context = {"project": project, "counts": counts, "error": error, "cache_seconds": KEY_CACHE_SECONDS}
    return render(request, viewer, "project_delete.html", context, status=status)


@form_post
def delete_project(request: Request, viewer: Viewer, form: FormData) -> Response:
    project_id = int(request.path_params["project_id"])
    with write_transaction(engine_of(request)) as conn:
        project = managed_project(conn, viewer, project_id)
        confirmed = field(form, "confirm") == project.slug
        if confirmed:
            projects.delete_project(conn, project.id)
    if not confirmed:
        message = f"Type the project's slug, {project.slug}, exactly to delete it."
        return _delete_form(request, viewer, project, error=message, status=400)
    return see_other("/projects/?notice=deleted")


ROUTES: list[Route] = [
    Route("/", home),
    Route("/projects/", project_list),
    Route("/projects/new", new_project),
    Route("/projects/new", post_new_project, methods=["POST"]),
    Route("/projects/{project_id:int}/setup/", project_setup),
    Route("/projects/{project_id:int}/delete", confirm_delete),
    Route("/projects/{project_id:int}/delete", delete_project, methods=["POST"]),
    *settings_pages.ROUTES,
]
