"""Delete and discard from the UI (shoal/store/discards.py): from an issue's page, or the issues
ticked on a stream, through a confirmation page that says what it does; and the undo, from the
project's Discarded issues list (the inbound filters page).

Whoever may delete an issue may discard it (anyone who sees its project, as the stream's Delete),
and undo that. A discarded issue vanishes from streams and its page answers 404 with where to undo
it (`pages.visible_issue`).
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.clock import SYSTEM_CLOCK
from shoal.store import discards
from shoal.store.db import write_transaction
from shoal.store.issues import IssueRow
from shoal.web import stream_view
from shoal.web.auth import Viewer, current_viewer, engine_of
from shoal.web.form_posts import field, form_post, ids, see_other
from shoal.web.pages import render, visible_issue
from shoal.web.project_settings_pages import visible
from shoal.web.stream_pages import MAX_BULK


def confirm_one(request: Request) -> Response:
    """The issue page's "Delete and discard…": ask first."""
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        issue, project = visible_issue(conn, viewer, int(request.path_params["issue_id"]))
    back = f"/projects/{project.id}/issues/"
    return _confirmation(request, viewer, [issue], back=back, cancel=f"/issues/{issue.id}/")


@form_post
def confirm_ticked(request: Request, viewer: Viewer, form: FormData) -> Response:
    """The stream's "Delete and discard…" button posts its ticked issues here: ask first."""
    back = field(form, "back")
    path, params = stream_view.safe_stream_back(back)
    chosen = ids(form, "issue")
    cancel = stream_view.url_with(path, params)
    if not chosen or len(chosen) > MAX_BULK:
        problem = (
            "Select at least one issue first: tick the boxes in the first column of the list."
            if not chosen
            else f"Select at most {MAX_BULK} issues at once."
        )
        return _confirmation(request, viewer, [], back=back, cancel=cancel, problem=problem)
    with engine_of(request).connect() as conn:
        picked = [visible_issue(conn, viewer, issue_id)[0] for issue_id in chosen]
    return _confirmation(request, viewer, picked, back=back, cancel=cancel)


def _confirmation(
    request: Request,
    viewer: Viewer,
    picked: list[IssueRow],
    *,
    back: str,
    cancel: str,
    problem: str | None = None,
) -> Response:
    context = {
        "issues": picked,
        "events": sum(issue.times_seen for issue in picked),
        "back": back,
        "cancel": cancel,
        "problem": problem,
    }
    return render(request, viewer, "issue_discard.html", context, status=400 if problem else 200)


@form_post
def discard(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Delete and discard the confirmed issues; back to the project's Discarded issues list, where
    the notice says what happened and the undo is at hand."""
    chosen = ids(form, "issue")[:MAX_BULK]
    path, params = stream_view.safe_stream_back(field(form, "back"))
    with write_transaction(engine_of(request)) as conn:
        picked = [visible_issue(conn, viewer, issue_id)[0] for issue_id in chosen]
        done = discards.discard_issues(
            conn, [issue.id for issue in picked], viewer.user.id, SYSTEM_CLOCK.now()
        )
    project_ids = {issue.project_id for issue in picked}
    if len(project_ids) == 1:
        (project_id,) = project_ids
        return see_other(f"/projects/{project_id}/settings/filters/?notice=discarded-{done}#discarded")
    return see_other(stream_view.url_with(path, params, notice=f"delete-{done}"))


@form_post
def undiscard(request: Request, viewer: Viewer, form: FormData) -> Response:
    project_id = int(request.path_params["project_id"])
    with write_transaction(engine_of(request)) as conn:
        project = visible(conn, viewer, project_id)
        removed = discards.undiscard(conn, project.id, int(request.path_params["issue_id"]))
    notice = "undiscarded" if removed else "not-discarded"
    return see_other(f"/projects/{project_id}/settings/filters/?notice={notice}#discarded")


ROUTES: list[Route] = [
    Route("/issues/{issue_id:int}/discard", confirm_one),
    Route("/issues/discard/confirm", confirm_ticked, methods=["POST"]),
    Route("/issues/discard", discard, methods=["POST"]),
    Route("/projects/{project_id:int}/discarded/{issue_id:int}/undiscard", undiscard, methods=["POST"]),
]
