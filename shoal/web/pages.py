"""The pages: an issue with one of its events (and its triage state, activity and alerts), and an
issue's event list. The project list is in `project_pages`, the issue stream in `stream_pages`.

Endpoints are plain functions: Starlette runs them in its thread pool, so database reads never
stall the event loop that ingest shares.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from shoal.clock import SYSTEM_CLOCK
from shoal.store import alert_state, attachments, events, feedback, histograms, issues, projects, users
from shoal.store import triage as triage_store
from shoal.store.discards import DISCARDED
from shoal.store.events import PayloadCodec
from shoal.web import charts, suspect_view, triage_view
from shoal.web.auth import NOT_YOUR_TEAM, Viewer, current_viewer, engine_of
from shoal.web.event_view import EventView
from shoal.web.grouping_view import event_explanation

DISCARDED_TEXT = (
    "This issue was deleted and its future events are discarded. "
    "To undo that, see Discarded issues at /projects/{project_id}/settings/filters/#discarded"
)

EVENTS_PER_PAGE = 50

_codecs = threading.local()


def payload_codec() -> PayloadCodec:
    """This thread's codec: zstd contexts are not thread-safe, so each pool thread keeps its own."""
    codec: PayloadCodec | None = getattr(_codecs, "codec", None)
    if codec is None:
        codec = _codecs.codec = PayloadCodec()
    return codec


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
    period = charts.period_named(request.query_params.get("period"))
    now = SYSTEM_CLOCK.now()
    with engine_of(request).connect() as conn:
        issue, project = visible_issue(conn, viewer, issue_id)
        event = (
            events.get_event(conn, payload_codec(), issue_id, event_id)
            if event_id
            else events.latest_event(conn, payload_codec(), issue_id)
        )
        if event is None and event_id:
            raise HTTPException(404, "No such event in this issue.")
        neighbours = events.event_neighbours(conn, issue_id, event) if event else None
        tags = charts.tag_summaries(issues.tag_breakdown(conn, issue_id))
        hourly = histograms.events_per_hour(conn, issue_id, *charts.hour_range(period, now))
        hashes = issues.hashes_of_issue(conn, issue_id)
        files = attachments.event_attachments(conn, event.id) if event else []
        reports = feedback.issue_feedback(conn, issue.project_id, issue_id)
        triage = _triage_context(conn, issue, project)
    view = EventView(event.data) if event else None
    frames = _frames_shown(request, view)
    return render(
        request,
        viewer,
        "issue.html",
        {
            "issue": issue,
            "project": project,
            "event": event,
            "view": view,
            "frames": frames,
            "links": _issue_links(request, issue.id, event_id),
            "chart": charts.histogram(period, hourly, now),
            "periods": charts.PERIODS,
            "neighbours": neighbours,
            "tags": tags,
            "hashes": hashes,
            "attachments": files,
            "feedback": reports,
            "grouping": event_explanation(project, event) if event else None,
            **triage,
            **suspect_view.issue_suspects(engine_of(request), payload_codec(), issue, triage["members"]),
            "errors": errors or {},
            "values": values or {},
        },
        status=status,
    )


def _frames_shown(request: Request, view: EventView | None) -> str:
    """ "app" (in-app frames only) or "all": as asked, else in-app only when there are in-app
    frames, as Sentry opens a stack trace."""
    asked = request.query_params.get("frames")
    if asked in ("app", "all"):
        return asked
    return "app" if view is not None and any(s.has_app_frames for s in view.stacks) else "all"


def _issue_links(request: Request, issue_id: int, event_id: str | None) -> dict[str, str]:
    """This page with another histogram period or frame choice, and the query the event navigation
    keeps. Built from the ids, not the request path: a triage form re-shown with an error answers
    a POST to another path."""
    path = f"/issues/{issue_id}/" + (f"events/{event_id}/" if event_id else "")
    kept = {k: v for k, v in request.query_params.items() if k in ("period", "frames")}

    def link(**changes: str) -> str:
        query = urlencode({**kept, **changes})
        return f"{path}?{query}" if query else path

    return {
        "24h": link(period="24h"),
        "30d": link(period="30d"),
        "app": link(frames="app"),
        "all": link(frames="all"),
        "keep": f"?{urlencode(kept)}" if kept else "",
    }


def _triage_context(conn: Any, issue: issues.IssueRow, project: projects.ProjectInfo) -> dict[str, Any]:
    """Status, assignee, who can be assigned, activity, and the Alerts section."""
    members = users.project_members(conn, project.organization_id, project.id)
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
        # One more than a page tells whether there is a next one: times_seen counts events whose
        # rows retention may have deleted since.
        rows = events.list_events(conn, issue_id, EVENTS_PER_PAGE + 1, (page - 1) * EVENTS_PER_PAGE)
    return render(
        request,
        viewer,
        "events.html",
        {
            "issue": issue,
            "project": project,
            "events": rows[:EVENTS_PER_PAGE],
            "page": page,
            "has_next": len(rows) > EVENTS_PER_PAGE,
        },
    )


def visible_project(conn: Any, viewer: Viewer, project_id: int) -> projects.ProjectInfo:
    project = projects.get_project(conn, project_id)
    # Someone else's project answers exactly like a missing one: ids are not secrets, but
    # existence should not be confirmed to outsiders either.
    if project is None or not viewer.can_see(project.organization_id):
        raise HTTPException(404, "No such project.")
    # Inside the organization a project is no secret (the teams page names each team's); saying
    # why the door is closed helps more than pretending there is none.
    if not viewer.can_see_project(project):
        raise HTTPException(403, NOT_YOUR_TEAM)
    return project


def visible_issue(conn: Any, viewer: Viewer, issue_id: int) -> tuple[issues.IssueRow, projects.ProjectInfo]:
    issue = issues.get_issue(conn, issue_id)
    project = projects.get_project(conn, issue.project_id) if issue else None
    if issue is None or project is None or not viewer.can_see(project.organization_id):
        raise HTTPException(404, "No such issue.")
    if not viewer.can_see_project(project):
        raise HTTPException(403, NOT_YOUR_TEAM)
    if issue.status == DISCARDED:
        raise HTTPException(404, DISCARDED_TEXT.format(project_id=project.id))
    return issue, project


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
