"""The pages: projects with their DSNs, a project's issue list, an issue with one of its events
(and its triage state, activity and alerts), and an issue's event list.

Endpoints are plain functions: Starlette runs them in its thread pool, so database reads never
stall the event loop that ingest shares.
"""

from __future__ import annotations

import threading
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shoal.clock import SYSTEM_CLOCK
from shoal.store import alert_state, events, issues, projects, users
from shoal.store import triage as triage_store
from shoal.store.events import PayloadCodec
from shoal.web import triage_view
from shoal.web.auth import Viewer, current_viewer, engine_of
from shoal.web.event_view import EventView
from shoal.web.grouping_view import event_explanation

ISSUES_PER_PAGE = 50
EVENTS_PER_PAGE = 50

_codecs = threading.local()


def _codec() -> PayloadCodec:
    # zstd contexts are not thread-safe; each pool thread keeps its own.
    codec: PayloadCodec | None = getattr(_codecs, "codec", None)
    if codec is None:
        codec = _codecs.codec = PayloadCodec()
    return codec


def home(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        visible = [p for p in projects.list_projects(conn) if viewer.can_see(p.organization_id)]
    if len(visible) == 1:
        return RedirectResponse(f"/projects/{visible[0].id}/issues/", status_code=303)
    return RedirectResponse("/projects/", status_code=303)


def project_list(request: Request) -> Response:
    viewer = current_viewer(request)
    public_url = request.app.state.config.public_url
    with engine_of(request).connect() as conn:
        rows = []
        for project in projects.list_projects(conn):
            if viewer.can_see(project.organization_id):
                key = projects.first_enabled_key(conn, project.id)
                rows.append(
                    {
                        "project": project,
                        "dsn": projects.dsn(public_url, key, project.id) if key else None,
                        "issues": issues.count_issues(conn, project.id),
                    }
                )
    return render(request, viewer, "projects.html", {"rows": rows})


def issue_list(request: Request) -> Response:
    viewer = current_viewer(request)
    notice = triage_view.bulk_notice(request.query_params.get("notice"))
    return render_issue_list(request, viewer, int(request.path_params["project_id"]), notice=notice)


def render_issue_list(
    request: Request,
    viewer: Viewer,
    project_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The issue list; a bulk action that could not run re-shows it with `error` and its status."""
    page = _page_number(request)
    with engine_of(request).connect() as conn:
        project = visible_project(conn, viewer, project_id)
        total = issues.count_issues(conn, project_id)
        rows = issues.list_issues(conn, project_id, ISSUES_PER_PAGE, (page - 1) * ISSUES_PER_PAGE)
        key = projects.first_enabled_key(conn, project_id)
        badges = triage_view.badges(conn, rows, SYSTEM_CLOCK.now())
        members = {m.id: m.email for m in users.organization_members(conn, project.organization_id)}
    dsn = projects.dsn(request.app.state.config.public_url, key, project_id) if key else None
    return render(
        request,
        viewer,
        "issues.html",
        {
            "project": project,
            "issues": rows,
            "total": total,
            "page": page,
            "dsn": dsn,
            "has_next": page * ISSUES_PER_PAGE < total,
            "badges": badges,
            "assignees": members,
            "notice": notice,
            "error": error,
        },
        status=status,
    )


def issue_detail(request: Request) -> Response:
    viewer = current_viewer(request)
    issue_id = int(request.path_params["issue_id"])
    return render_issue(request, viewer, issue_id, request.path_params.get("event_id"))


def render_issue(
    request: Request,
    viewer: Viewer,
    issue_id: int,
    event_id: str | None = None,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The issue page; a triage form with a bad value re-shows it with `errors` next to the fields,
    the posted `values` kept, and status 400."""
    with engine_of(request).connect() as conn:
        issue, project = visible_issue(conn, viewer, issue_id)
        event = (
            events.get_event(conn, _codec(), issue_id, event_id)
            if event_id
            else events.latest_event(conn, _codec(), issue_id)
        )
        if event is None and event_id:
            raise HTTPException(404, "No such event in this issue.")
        neighbours = events.event_neighbours(conn, issue_id, event) if event else None
        tags = issues.tag_breakdown(conn, issue_id)
        hashes = issues.hashes_of_issue(conn, issue_id)
        triage = _triage_context(conn, issue, project)
    return render(
        request,
        viewer,
        "issue.html",
        {
            "issue": issue,
            "project": project,
            "event": event,
            "view": EventView(event.data) if event else None,
            "neighbours": neighbours,
            "tags": tags,
            "hashes": hashes,
            "grouping": event_explanation(project, event) if event else None,
            **triage,
            "errors": errors or {},
            "values": values or {},
        },
        status=status,
    )


def _triage_context(conn: Any, issue: issues.IssueRow, project: projects.ProjectInfo) -> dict[str, Any]:
    """Status, assignee, who can be assigned, activity, and the Alerts section."""
    members = users.organization_members(conn, project.organization_id)
    return {
        "badge": triage_view.badges(conn, [issue], SYSTEM_CLOCK.now())[issue.id],
        "members": members,
        # By email even if they have left the organization since: the page says who it was.
        "assignee": users.email_of(conn, issue.assignee_id) if issue.assignee_id is not None else None,
        "activity": triage_view.activity_items(triage_store.issue_activity(conn, issue.id)),
        "decisions": alert_state.issue_decisions(conn, issue.id),
        "notifications": triage_view.notification_items(conn, issue.id, project.organization_id),
    }


def event_list(request: Request) -> Response:
    viewer = current_viewer(request)
    issue_id = int(request.path_params["issue_id"])
    page = _page_number(request)
    with engine_of(request).connect() as conn:
        issue, project = visible_issue(conn, viewer, issue_id)
        rows = events.list_events(conn, issue_id, EVENTS_PER_PAGE, (page - 1) * EVENTS_PER_PAGE)
    return render(
        request,
        viewer,
        "events.html",
        {
            "issue": issue,
            "project": project,
            "events": rows,
            "page": page,
            "has_next": page * EVENTS_PER_PAGE < issue.times_seen,
        },
    )


def visible_project(conn: Any, viewer: Viewer, project_id: int) -> projects.ProjectInfo:
    project = projects.get_project(conn, project_id)
    # Someone else's project answers exactly like a missing one: ids are not secrets, but
    # existence should not be confirmed to outsiders either.
    if project is None or not viewer.can_see(project.organization_id):
        raise HTTPException(404, "No such project.")
    return project


def visible_issue(conn: Any, viewer: Viewer, issue_id: int) -> tuple[issues.IssueRow, projects.ProjectInfo]:
    issue = issues.get_issue(conn, issue_id)
    if issue is None:
        raise HTTPException(404, "No such issue.")
    try:
        return issue, visible_project(conn, viewer, issue.project_id)
    except HTTPException:
        raise HTTPException(404, "No such issue.") from None


def _page_number(request: Request) -> int:
    value = request.query_params.get("page", "1")
    return max(1, int(value)) if value.isdigit() else 1


def render(
    request: Request, viewer: Viewer, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, template, {"viewer": viewer, **context}, status_code=status
    )
    return response
