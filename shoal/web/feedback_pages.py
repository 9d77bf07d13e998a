"""The project's Feedback page: what its users wrote about errors (`user_report` and `feedback`
items, shoal/digest/feedback.py), newest first, each with the issue of its error once that error
is stored. The issue page shows an issue's own feedback (`_issue_feedback.html`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.store import feedback
from shoal.web.auth import current_viewer, engine_of
from shoal.web.pages import render, visible_project

PER_PAGE = 50


def feedback_list(request: Request) -> Response:
    viewer = current_viewer(request)
    page = _page_number(request)
    with engine_of(request).connect() as conn:
        project = visible_project(conn, viewer, int(request.path_params["project_id"]))
        # One more than a page tells whether there is a next one.
        rows = feedback.project_feedback(conn, project.id, PER_PAGE + 1, (page - 1) * PER_PAGE)
    context = {"project": project, "reports": rows[:PER_PAGE], "page": page, "has_next": len(rows) > PER_PAGE}
    return render(request, viewer, "feedback.html", context)


def _page_number(request: Request) -> int:
    value = request.query_params.get("page", "1")
    return max(1, int(value)) if value.isdigit() else 1


ROUTES: list[Route] = [Route("/projects/{project_id:int}/feedback/", feedback_list)]
