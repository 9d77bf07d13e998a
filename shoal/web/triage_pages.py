"""Triage from the UI: resolve (now, in the next release, in a release), ignore (forever, for a
while, until N more events or users, optionally within a window), unresolve, assign and comment on
an issue, and resolve / ignore / unresolve several issues at once from the issue list.

Each change goes through `shoal.store.triage`, which writes the activity entry with it. A form with
a bad value re-shows the issue page with the message next to the field (status 400); a good one
redirects back to the page (post/redirect/get).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from shoal.clock import SYSTEM_CLOCK
from shoal.store import triage, users
from shoal.store.db import write_transaction
from shoal.store.triage import Snooze
from shoal.web.auth import Viewer, engine_of
from shoal.web.form_posts import field, form_post, ids, see_other
from shoal.web.pages import render_issue, visible_issue, visible_project
from shoal.web.stream_pages import render_project_stream

# "Ignore for …": the presets Sentry offers (reference §9.3), in seconds.
DURATIONS = {"30m": 1800, "2h": 7200, "24h": 86400, "1w": 604800}
MAX_COUNT = 1_000_000_000
MAX_WINDOW_MINUTES = 30 * 1440  # the longest window the counters keep (30 days)
MAX_COMMENT = 10_000
MAX_RELEASE = 200  # issue_resolution.release is a String(200)


class FormProblem(Exception):
    """A field of a triage form has a value that cannot be used."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _issue_id(request: Request) -> int:
    return int(request.path_params["issue_id"])


def _back(issue_id: int, anchor: str = "") -> Response:
    return see_other(f"/issues/{issue_id}/{anchor}")


def _problem(request: Request, viewer: Viewer, form: FormData, problem: FormProblem) -> Response:
    values = {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}
    return render_issue(request, viewer, _issue_id(request), errors=problem.errors, values=values, status=400)


# ------------------------------------------------------------------------------------ resolve


@form_post
def resolve(request: Request, viewer: Viewer, form: FormData) -> Response:
    try:
        kind, release = _resolution(form)
    except FormProblem as problem:
        return _problem(request, viewer, form, problem)
    with write_transaction(engine_of(request)) as conn:
        issue, _ = visible_issue(conn, viewer, _issue_id(request))
        triage.resolve(conn, issue.id, viewer.user.id, kind, release=release, now=SYSTEM_CLOCK.now())
    return _back(issue.id)


def _resolution(form: FormData) -> tuple[str, str | None]:
    kind = field(form, "kind") or "now"
    if kind not in triage.RESOLVE_KINDS:
        raise FormProblem({"resolve": "Choose how to resolve: now, in the next release, or in a release."})
    release = field(form, "release") if kind == "in_release" else None
    if kind == "in_release" and not release:
        raise FormProblem({"release": "Enter the release the fix ships in, e.g. shop@1.4.0."})
    if release is not None and len(release) > MAX_RELEASE:
        raise FormProblem({"release": f"A release name has at most {MAX_RELEASE} characters."})
    return kind, release


# ------------------------------------------------------------------------------------- ignore


@form_post
def ignore(request: Request, viewer: Viewer, form: FormData) -> Response:
    now = SYSTEM_CLOCK.now()
    try:
        snooze = snooze_from(form, now)
    except FormProblem as problem:
        return _problem(request, viewer, form, problem)
    with write_transaction(engine_of(request)) as conn:
        issue, _ = visible_issue(conn, viewer, _issue_id(request))
        triage.ignore(conn, issue.id, viewer.user.id, snooze, now)
    return _back(issue.id)


def snooze_from(form: FormData, now: float) -> Snooze:
    """The ignore form's condition: `mode` is forever, for, count or users."""
    mode = field(form, "mode") or "forever"
    if mode == "forever":
        return Snooze()
    if mode == "for":
        return Snooze(until=_until(form, now))
    if mode == "count":
        return Snooze(
            count=_whole(form, "count", "events", MAX_COUNT),
            window=_optional_whole(form, "window", "window", MAX_WINDOW_MINUTES),
        )
    if mode == "users":
        return Snooze(
            user_count=_whole(form, "user_count", "users", MAX_COUNT),
            user_window=_optional_whole(form, "user_window", "window", MAX_WINDOW_MINUTES),
        )
    raise FormProblem({"ignore": "Choose how long to ignore the issue."})


def _until(form: FormData, now: float) -> float:
    preset = field(form, "duration")
    if preset in DURATIONS:
        return now + DURATIONS[preset]
    if preset != "custom":
        raise FormProblem({"duration": "Choose a duration, or a custom time."})
    text = field(form, "until")
    try:
        # <input type="datetime-local"> sends "2025-06-01T12:30" without a zone; the form says UTC.
        until = datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise FormProblem({"until": "Enter a date and time, e.g. 2025-06-01 12:30 (UTC)."}) from None
    if until <= now:
        raise FormProblem({"until": "That time has passed; choose one in the future (UTC)."})
    return until


def _whole(form: FormData, name: str, what: str, maximum: int) -> int:
    text = field(form, name)
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise FormProblem({name: f"Enter a number of {what} from 1 to {maximum:,}."})
    return int(text)


def _optional_whole(form: FormData, name: str, what: str, maximum: int) -> int | None:
    if not field(form, name):
        return None
    text = field(form, name)
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise FormProblem({name: f"Enter the {what} in minutes, from 1 to {maximum:,}, or leave it empty."})
    return int(text)


# --------------------------------------------------------------------- unresolve, assign, comment


@form_post
def unresolve(request: Request, viewer: Viewer, form: FormData) -> Response:
    with write_transaction(engine_of(request)) as conn:
        issue, _ = visible_issue(conn, viewer, _issue_id(request))
        triage.unresolve(conn, issue.id, viewer.user.id, SYSTEM_CLOCK.now())
    return _back(issue.id)


@form_post
def assign(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Assign to a member of the issue's organization; an empty choice is "nobody"."""
    chosen = field(form, "assignee")
    with write_transaction(engine_of(request)) as conn:
        issue, project = visible_issue(conn, viewer, _issue_id(request))
        members = {m.id for m in users.project_members(conn, project.organization_id, project.id)}
        assignee = int(chosen) if chosen.isdigit() else None
        if chosen and assignee not in members:
            problem = FormProblem({"assignee": "Choose a member of this project's organization, or nobody."})
        elif assignee == issue.assignee_id:
            return _back(issue.id)  # no change, no activity entry
        else:
            triage.assign(conn, issue.id, viewer.user.id, assignee, SYSTEM_CLOCK.now())
            return _back(issue.id)
    return _problem(request, viewer, form, problem)


@form_post
def comment(request: Request, viewer: Viewer, form: FormData) -> Response:
    text = form.get("text")
    # Kept as typed (only line ends normalized): a comment is shown as text, never as markup.
    text = text.replace("\r\n", "\n").strip() if isinstance(text, str) else ""
    if not text:
        return _problem(request, viewer, form, FormProblem({"text": "Write a comment first."}))
    if len(text) > MAX_COMMENT:
        too_long = f"A comment has at most {MAX_COMMENT:,} characters ({len(text):,} now)."
        problem = FormProblem({"text": too_long})
        return _problem(request, viewer, form, problem)
    with write_transaction(engine_of(request)) as conn:
        issue, _ = visible_issue(conn, viewer, _issue_id(request))
        triage.comment(conn, issue.id, viewer.user.id, text, SYSTEM_CLOCK.now())
    return _back(issue.id, "#activity")


# ------------------------------------------------------------------------------- bulk actions

# What each bulk action does, and the status an issue already has when there is nothing to do.
_BULK = {"resolve": "resolved", "ignore": "ignored", "unresolve": "unresolved"}


@form_post
def bulk(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Resolve, ignore (forever) or unresolve the issues ticked on the issue list."""
    project_id = int(request.path_params["project_id"])
    op = field(form, "op")
    chosen = ids(form, "issue")
    if op not in _BULK:
        raise HTTPException(400, "Unknown bulk action.")
    if not chosen:
        error = "Select at least one issue first: tick the boxes in the first column."
        return render_project_stream(request, viewer, project_id, error=error, status=400)
    with write_transaction(engine_of(request)) as conn:
        visible_project(conn, viewer, project_id)
        changed = _apply_bulk(conn, viewer, project_id, op, chosen)
    return see_other(f"/projects/{project_id}/issues/?notice={op}-{changed}")


def _apply_bulk(conn: Connection, viewer: Viewer, project_id: int, op: str, issue_ids: list[int]) -> int:
    now = SYSTEM_CLOCK.now()
    chosen = [visible_issue(conn, viewer, issue_id)[0] for issue_id in issue_ids]
    if any(issue.project_id != project_id for issue in chosen):
        raise HTTPException(400, "Only issues of this project can be changed here.")
    todo = [issue for issue in chosen if issue.status != _BULK[op]]
    for issue in todo:
        if op == "resolve":
            triage.resolve(conn, issue.id, viewer.user.id, "now", release=None, now=now)
        elif op == "ignore":
            triage.ignore(conn, issue.id, viewer.user.id, Snooze(), now)
        else:
            triage.unresolve(conn, issue.id, viewer.user.id, now)
    return len(todo)
