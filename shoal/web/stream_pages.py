"""The issue stream: a project's issues (`/projects/{id}/issues/`) and those of every project the
viewer can see (`/issues/`), found with Sentry's search syntax (docs/search.md), sorted, a page at
a time, each with a sparkline; saved searches; and bulk actions on the ticked issues: resolve,
ignore, unresolve, assign, delete (after a confirmation page) and, in a project, merge (posted to
`grouping_pages.merge`).

A stream without `query` in its URL opens with the viewer's default saved search, else
`is:unresolved`. A query that cannot be read re-shows the stream with the reason and status 400.
Access goes through `pages.visible_project` / `visible_issue` and `Viewer.can_see_project` for
every project and issue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.clock import SYSTEM_CLOCK
from shoal.store import issues, projects, saved_searches, search, triage, users
from shoal.store.db import write_transaction
from shoal.store.issues import IssueRow
from shoal.store.projects import ProjectInfo
from shoal.store.saved_searches import SavedSearch
from shoal.store.search_syntax import Query, SearchError, parse_query
from shoal.store.triage import Snooze
from shoal.web import stream_view, triage_view
from shoal.web.auth import Viewer, current_viewer, engine_of
from shoal.web.form_posts import field, form_post, ids, see_other
from shoal.web.pages import render, visible_issue, visible_project
from shoal.web.stream_view import DEFAULT_QUERY

ISSUES_PER_PAGE = 50
MAX_BULK = 500  # issues one bulk action may change (a page holds 50)

# What each status action does, and the status an issue already has when there is nothing to do.
_STATUS_OPS = {"resolve": "resolved", "ignore": "ignored", "unresolve": "unresolved"}


@dataclass(frozen=True)
class Stream:
    """Which stream: one project's, or every visible project's (`project` None)."""

    path: str
    project: ProjectInfo | None
    projects: list[ProjectInfo]

    @property
    def organization_ids(self) -> list[int]:
        return sorted({p.organization_id for p in self.projects})


@dataclass(frozen=True)
class StreamSearch:
    """The search a stream runs: its text as the box shows it, the parsed query (None when it cannot
    be read), sort, graph period and page."""

    text: str
    query: Query | None
    error: str | None
    sort: str
    period: str
    page: int


# ------------------------------------------------------------------------------------ the pages


def project_stream(request: Request) -> Response:
    viewer = current_viewer(request)
    return render_project_stream(request, viewer, int(request.path_params["project_id"]))


def all_issues(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        stream = _stream_at(conn, viewer, "/issues/")
        return _render(request, viewer, conn, stream, request.query_params)


def render_project_stream(
    request: Request, viewer: Viewer, project_id: int, *, error: str | None = None, status: int = 200
) -> Response:
    """A project's stream as its URL asks; `error` (with its `status`) says why an action failed."""
    with engine_of(request).connect() as conn:
        stream = _stream_at(conn, viewer, f"/projects/{project_id}/issues/")
        return _render(request, viewer, conn, stream, request.query_params, error=error, status=status)


def _stream_at(conn: Connection, viewer: Viewer, path: str) -> Stream:
    """The stream at `path` (one of `stream_view.safe_stream_back`'s), checked against the viewer."""
    if path == "/issues/":
        visible = [p for p in projects.list_projects(conn) if viewer.can_see_project(p)]
        return Stream(path, None, visible)
    project = visible_project(conn, viewer, int(path.split("/")[2]))
    return Stream(path, project, [project])


def _render(
    request: Request,
    viewer: Viewer,
    conn: Connection,
    stream: Stream,
    params: Mapping[str, str],
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    chosen = _search_of(conn, viewer, stream, params)
    context = _stream_context(request, conn, viewer, stream, chosen)
    if chosen.error:
        status = 400
    return render(
        request,
        viewer,
        "issues.html",
        {**context, "notice": stream_view.notice(params.get("notice")), "error": error},
        status=status,
    )


def _search_of(conn: Connection, viewer: Viewer, stream: Stream, params: Mapping[str, str]) -> StreamSearch:
    default = _default_search(conn, viewer, stream)
    text = params.get("query")
    if text is None:
        text = default.query if default else DEFAULT_QUERY
    fallback = default.sort if default and params.get("query") is None else search.DEFAULT_SORT
    page = params.get("page", "1")
    try:
        query, problem = parse_query(text), None
    except SearchError as exc:
        query, problem = None, str(exc)
    return StreamSearch(
        text=text,
        query=query,
        error=problem,
        sort=stream_view.chosen_sort(params.get("sort"), fallback),
        period=stream_view.chosen_period(params.get("stats")),
        page=max(1, min(int(page), 100_000)) if page.isdigit() else 1,
    )


def _default_search(conn: Connection, viewer: Viewer, stream: Stream) -> SavedSearch | None:
    for organization_id in stream.organization_ids:
        found = saved_searches.default_search(conn, organization_id, viewer.user.id)
        if found:
            return found
    return None


def _stream_context(
    request: Request, conn: Connection, viewer: Viewer, stream: Stream, chosen: StreamSearch
) -> dict[str, Any]:
    now = SYSTEM_CLOCK.now()
    rows: list[IssueRow] = []
    total = 0
    if chosen.query is not None:
        scope = search.Scope([p.id for p in stream.projects], viewer.user.id, now)
        offset = (chosen.page - 1) * ISSUES_PER_PAGE
        rows = search.find_issues(
            conn, chosen.query, scope, sort=chosen.sort, limit=ISSUES_PER_PAGE, offset=offset
        )
        total = search.count_issues(conn, chosen.query, scope)
    counts = search.sparkline_counts(conn, [row.id for row in rows], now, chosen.period)
    members = _members(conn, stream)

    def link(**changes: Any) -> str:
        values = {"query": chosen.text, "sort": chosen.sort, "period": chosen.period, "page": 1, **changes}
        return stream_view.stream_url(stream.path, **values)

    return {
        "stream": stream,
        "project": stream.project,
        "search": chosen,
        "sorts": search.SORTS,
        "issues": rows,
        "total": total,
        "first_shown": (chosen.page - 1) * ISSUES_PER_PAGE + 1,
        "has_next": chosen.page * ISSUES_PER_PAGE < total,
        "link": link,
        "here": link(page=chosen.page),
        "badges": triage_view.badges(conn, rows, now),
        "sparklines": {i: stream_view.sparkline(c, chosen.period, now) for i, c in counts.items()},
        "project_names": {p.id: p.name for p in stream.projects},
        "members": members,
        "assignees": {m.id: m.email for m in members},
        "built_in": stream_view.BUILT_IN_SEARCHES,
        "saved": saved_searches.searches_for(conn, stream.organization_ids, viewer.user.id),
        "sharing": {o: _can_share(viewer, o) for o in stream.organization_ids},
        "organizations": _organization_labels(conn, stream),
        "now": now,
        **(_empty_state(request, conn, stream) if not rows and chosen.query is not None else {}),
    }


def _members(conn: Connection, stream: Stream) -> list[users.Member]:
    """Whom the stream's issues can be assigned to: the members of their organizations."""
    found: dict[int, users.Member] = {}
    for organization_id in stream.organization_ids:
        for member in users.organization_members(conn, organization_id):
            found.setdefault(member.id, member)
    return sorted(found.values(), key=lambda m: m.email)


def _empty_state(request: Request, conn: Connection, stream: Stream) -> dict[str, Any]:
    """A stream with nothing to show says whether nothing arrived yet (with the DSN to send to)
    or the search is too narrow."""
    if stream.project is None:
        return {"no_events": not any(issues.count_issues(conn, p.id) for p in stream.projects)}
    if issues.count_issues(conn, stream.project.id):
        return {"no_events": False}
    key = projects.first_enabled_key(conn, stream.project.id)
    public_url = request.app.state.config.public_url
    return {"no_events": True, "dsn": projects.dsn(public_url, key, stream.project.id) if key else None}


def _organization_labels(conn: Connection, stream: Stream) -> dict[int, str]:
    """The stream's organizations by name, for the choice of where to save a search."""
    names = projects.organization_names(conn)
    return {org: names.get(org, f"Organization {org}") for org in stream.organization_ids}


def _can_share(viewer: Viewer, organization_id: int) -> bool:
    """Owners and admins share searches with their organization (Sentry: owners and managers)."""
    return viewer.can_manage(organization_id)


# -------------------------------------------------------------------------------- bulk actions


@form_post
def bulk(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Resolve, ignore (forever), unresolve, assign or delete the ticked issues of a stream."""
    path, params = stream_view.safe_stream_back(field(form, "back"))
    op = field(form, "op")
    chosen = ids(form, "issue")
    if op not in (*_STATUS_OPS, "assign", "delete"):
        raise HTTPException(400, "Unknown bulk action.")
    problem = _bulk_problem(chosen)
    if problem:
        return _stream_with_error(request, viewer, path, params, problem)
    if op == "delete":
        return _confirm_delete(request, viewer, chosen, field(form, "back"))
    try:
        with write_transaction(engine_of(request)) as conn:
            picked = [visible_issue(conn, viewer, issue_id) for issue_id in chosen]
            if op == "assign":
                changed = _assign_all(conn, viewer, picked, field(form, "assignee"))
            else:
                changed = _set_status_all(conn, viewer, [row for row, _ in picked], op)
    except _Refused as refused:
        return _stream_with_error(request, viewer, path, params, str(refused))
    return see_other(stream_view.url_with(path, params, notice=f"{op}-{changed}"))


class _Refused(Exception):
    """A bulk action cannot run as asked; its transaction rolls back and the stream says why."""


def _bulk_problem(chosen: list[int]) -> str | None:
    if not chosen:
        return "Select at least one issue first: tick the boxes in the first column."
    if len(chosen) > MAX_BULK:
        return f"Select at most {MAX_BULK} issues at once."
    return None


def _set_status_all(conn: Connection, viewer: Viewer, rows: list[IssueRow], op: str) -> int:
    now = SYSTEM_CLOCK.now()
    todo = [row for row in rows if row.status != _STATUS_OPS[op]]
    for row in todo:
        if op == "resolve":
            triage.resolve(conn, row.id, viewer.user.id, "now", release=None, now=now)
        elif op == "ignore":
            triage.ignore(conn, row.id, viewer.user.id, Snooze(), now)
        else:
            triage.unresolve(conn, row.id, viewer.user.id, now)
    return len(todo)


def _assign_all(
    conn: Connection, viewer: Viewer, picked: list[tuple[IssueRow, ProjectInfo]], chosen: str
) -> int:
    """The number of issues newly assigned to `chosen` (a member id, "" for nobody)."""
    assignee = int(chosen) if chosen.isdigit() else None
    if chosen and assignee is None:
        raise _Refused("Choose a member to assign the issues to, or nobody.")
    now = SYSTEM_CLOCK.now()
    members: dict[int, set[int]] = {}
    changed = 0
    for row, project in picked:
        if project.id not in members:
            members[project.id] = {
                m.id for m in users.project_members(conn, project.organization_id, project.id)
            }
        if assignee is not None and assignee not in members[project.id]:
            raise _Refused(f"That person may not see the project of {row.short_id}; choose another.")
        if row.assignee_id != assignee:
            triage.assign(conn, row.id, viewer.user.id, assignee, now)
            changed += 1
    return changed


def _stream_with_error(
    request: Request, viewer: Viewer, path: str, params: Mapping[str, str], error: str
) -> Response:
    with engine_of(request).connect() as conn:
        stream = _stream_at(conn, viewer, path)
        return _render(request, viewer, conn, stream, params, error=error, status=400)


def _confirm_delete(request: Request, viewer: Viewer, chosen: list[int], back: str) -> Response:
    """Deleting cannot be undone, so the stream's Delete only asks; this page's button deletes."""
    with engine_of(request).connect() as conn:
        picked = [visible_issue(conn, viewer, issue_id)[0] for issue_id in chosen]
    path, params = stream_view.safe_stream_back(back)
    return render(
        request,
        viewer,
        "stream_delete.html",
        {
            "issues": picked,
            "events": sum(row.times_seen for row in picked),
            "back": back,
            "cancel": stream_view.url_with(path, params),
        },
    )


@form_post
def delete(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Delete the issues confirmed on the confirmation page; their events, tags and counts go with
    them (ON DELETE CASCADE). A later event of the same kind starts a new issue."""
    path, params = stream_view.safe_stream_back(field(form, "back"))
    chosen = ids(form, "issue")
    problem = _bulk_problem(chosen)
    if problem:
        return _stream_with_error(request, viewer, path, params, problem)
    with write_transaction(engine_of(request)) as conn:
        for issue_id in chosen:
            visible_issue(conn, viewer, issue_id)
        issues.delete_issues(conn, chosen)
    return see_other(stream_view.url_with(path, params, notice=f"delete-{len(chosen)}"))


# ------------------------------------------------------------------------------ saved searches


@dataclass(frozen=True)
class _SaveForm:
    organization: str
    name: str
    query: str
    sort: str
    shared: bool
    default: bool

    @classmethod
    def read(cls, form: FormData) -> _SaveForm:
        return cls(
            organization=field(form, "organization_id"),
            name=field(form, "name"),
            query=field(form, "query"),
            sort=field(form, "sort"),
            shared=field(form, "shared") == "on",
            default=field(form, "default") == "on",
        )


@form_post
def save_search(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Save the stream's search under a name, for oneself or (owners, admins) the organization."""
    path, params = stream_view.safe_stream_back(field(form, "back"))
    wanted = _SaveForm.read(form)
    try:
        _check_save(viewer, wanted)
        with write_transaction(engine_of(request)) as conn:
            search_id = saved_searches.create_search(
                conn,
                int(wanted.organization),
                None if wanted.shared else viewer.user.id,
                name=wanted.name,
                query=wanted.query,
                sort=wanted.sort,
                now=SYSTEM_CLOCK.now(),
            )
            if wanted.default:
                found = saved_searches.get_search(conn, search_id)
                assert found is not None
                saved_searches.set_default(conn, found, True)
    except _Refused as refused:
        return _stream_with_error(request, viewer, path, params, str(refused))
    period = stream_view.chosen_period(params.get("stats"))
    return see_other(
        stream_view.stream_url(path, query=wanted.query, sort=wanted.sort, period=period, notice="saved")
    )


def _check_save(viewer: Viewer, wanted: _SaveForm) -> None:
    if not wanted.organization.isdigit() or not viewer.can_see(int(wanted.organization)):
        raise _Refused("Choose an organization of yours to save the search in.")
    if not wanted.name or len(wanted.name) > saved_searches.MAX_NAME:
        raise _Refused(f"Give the search a name of 1 to {saved_searches.MAX_NAME} characters to save it.")
    if wanted.sort not in search.SORTS:
        raise _Refused("Choose a sort for the saved search.")
    try:
        parse_query(wanted.query)
    except SearchError as exc:
        raise _Refused(f"This search cannot be saved: {exc}") from None
    if wanted.shared and not _can_share(viewer, int(wanted.organization)):
        raise _Refused(
            "Only owners and admins can share a search with the organization; save it for yourself."
        )


@form_post
def delete_search(request: Request, viewer: Viewer, form: FormData) -> Response:
    path, params = stream_view.safe_stream_back(field(form, "back"))
    with write_transaction(engine_of(request)) as conn:
        found = _own_search(conn, viewer, int(request.path_params["search_id"]))
        saved_searches.delete_search(conn, found.id)
    return see_other(stream_view.url_with(path, params, notice="search-deleted"))


@form_post
def set_default_search(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Make a saved search the stream's default (`default` = on) or stop it being one."""
    path, params = stream_view.safe_stream_back(field(form, "back"))
    make_default = field(form, "default") == "on"
    with write_transaction(engine_of(request)) as conn:
        found = _own_search(conn, viewer, int(request.path_params["search_id"]))
        saved_searches.set_default(conn, found, make_default)
    done = "default-set" if make_default else "default-cleared"
    return see_other(stream_view.url_with(path, params, notice=done))


def _own_search(conn: Connection, viewer: Viewer, search_id: int) -> SavedSearch:
    """A saved search the viewer may change: their own, or a shared one when they may share."""
    found = saved_searches.get_search(conn, search_id)
    if found is None or not viewer.can_see(found.organization_id):
        raise HTTPException(404, "No such saved search.")
    if found.user_id not in (None, viewer.user.id):
        raise HTTPException(404, "No such saved search.")
    if found.shared and not _can_share(viewer, found.organization_id):
        raise HTTPException(403, "Only owners and admins can change the organization's saved searches.")
    return found


ROUTES: list[Route] = [
    Route("/projects/{project_id:int}/issues/", project_stream),
    Route("/issues/", all_issues),
    Route("/issues/bulk", bulk, methods=["POST"]),
    Route("/issues/delete", delete, methods=["POST"]),
    Route("/saved-searches/", save_search, methods=["POST"]),
    Route("/saved-searches/{search_id:int}/delete", delete_search, methods=["POST"]),
    Route("/saved-searches/{search_id:int}/default", set_default_search, methods=["POST"]),
]
