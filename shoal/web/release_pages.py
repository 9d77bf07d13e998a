"""A project's releases in the UI: the list (newest first, with date, new issues, events, deploys,
crash-free sessions and adoption per environment) and one release's page (its dates and whether
it was finalized, its commits with their authors and changed files, the authors, the deploys per
environment, the issues it introduced, regressed and resolved, its adoption per environment, and
its release health: crash-free sessions and users per environment, docs/release-health.md).

Reads only (`shoal.store.release_stats`, `shoal.store.session_stats`); releases are made by
events, sessions and sentry-cli through the API. Versions go into URLs percent-encoded (the
template's `urlencode`), and the route takes the rest of the path, so a version may hold a `/`.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.clock import SYSTEM_CLOCK
from shoal.store import release_stats, session_stats
from shoal.store.release_stats import DeployRow
from shoal.web.auth import current_viewer, engine_of
from shoal.web.pages import render, visible_project

RELEASES_PER_PAGE = 50


def release_list(request: Request) -> Response:
    viewer = current_viewer(request)
    page = _page_number(request)
    with engine_of(request).connect() as conn:
        project = visible_project(conn, viewer, int(request.path_params["project_id"]))
        # One more than a page tells whether there is a next one.
        rows = release_stats.project_releases(
            conn, project.id, SYSTEM_CLOCK.now(), RELEASES_PER_PAGE + 1, (page - 1) * RELEASES_PER_PAGE
        )
        health = session_stats.releases_health(conn, project.id, [r.release.version for r in rows])
    return render(
        request,
        viewer,
        "releases.html",
        {
            "project": project,
            "releases": rows[:RELEASES_PER_PAGE],
            "page": page,
            "has_next": len(rows) > RELEASES_PER_PAGE,
            "health": health,
        },
    )


def release_detail(request: Request) -> Response:
    viewer = current_viewer(request)
    version = request.path_params["version"]
    now = SYSTEM_CLOCK.now()
    with engine_of(request).connect() as conn:
        project = visible_project(conn, viewer, int(request.path_params["project_id"]))
        found = release_stats.find_release(conn, project.id, version) if version else None
        if found is None:
            raise HTTPException(404, "No such release in this project.")
        environments = release_stats.release_environments(conn, project.id, found.id)
        commits = release_stats.release_commits(conn, found.id)
        context: dict[str, Any] = {
            "project": project,
            "release": found,
            "environments": environments,
            "adoption": release_stats.adoption_by_environment(
                conn, project.id, {found.id: environments}, now
            ).get(found.id, {}),
            "commits": commits,
            "commit_count": release_stats.count_release_commits(conn, found.id),
            "authors": release_stats.authors(commits),
            "deploys": _by_environment(release_stats.release_deploys(conn, found.id)),
            "new_issues": release_stats.new_issues(conn, project.id, found.version),
            "new_issue_count": release_stats.new_issue_counts(conn, project.id, [found.version]).get(
                found.version, 0
            ),
            "regressed_issues": release_stats.regressed_issues(conn, project.id, found.version),
            "resolved_issues": release_stats.resolved_issues(conn, project.id, found.version),
            "health": session_stats.release_health(conn, project.id, found.version),
        }
    context["first_event"] = min((e.first_seen for e in environments), default=None)
    context["last_event"] = max((e.last_seen for e in environments), default=None)
    return render(request, viewer, "release.html", context)


def _by_environment(deploys: list[DeployRow]) -> dict[str, list[DeployRow]]:
    """The deploys per environment, environments by name, each's latest deploy first."""
    grouped: dict[str, list[DeployRow]] = {}
    for deploy in deploys:
        grouped.setdefault(deploy.environment, []).append(deploy)
    return dict(sorted(grouped.items()))


def _page_number(request: Request) -> int:
    value = request.query_params.get("page", "1")
    # Six digits are a million pages: more would only make an offset the database refuses.
    return max(1, int(value)) if value.isdigit() and len(value) <= 6 else 1


ROUTES: list[Route] = [
    Route("/projects/{project_id:int}/releases/", release_list),
    Route("/projects/{project_id:int}/releases/{version:path}/", release_detail),
]
