"""Issues, as Sentry's API serves them (protocol.md §8):

- `GET /api/0/projects/{org}/{project}/issues/` and `GET /api/0/organizations/{org}/issues/`
  (`?project=ID`, repeated; none or -1: every project the token sees): the issues a search finds,
  with the UI's search syntax (shoal.store.search_syntax), `query` defaulting to `is:unresolved`
  when absent (an empty `query=` finds all), `environment`, `sort`, `statsPeriod` (24h, 14d or
  empty for no stats), `shortIdLookup` and Link pagination;
- `PUT` on the same lists: a bulk update of the issues named by `?id=` (repeated), or, for a
  status change without ids, of every issue the search finds (at most MAX_BULK); `DELETE` with
  `?id=`;
- `GET|PUT|DELETE /api/0/organizations/{org}/issues/{id}/` and the older `/api/0/issues/{id}/`.

Reads need a scope among READ_ISSUES, changes among WRITE_ISSUES, deletion `event:admin`, as in
Sentry. Deleting without `?id=` is refused: Sentry would delete the first 1000 issues the search
finds, which one forgotten parameter should not do.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth, pagination
from shoal.api.errors import FORBIDDEN, ApiError, bad_request, invalid, not_found
from shoal.api.issue_changes import AssigneeProblem, Changes, apply_changes, read_changes, result_json
from shoal.api.issue_json import LIST_PERIODS, detail_facts, issue_facts, issue_json, user_actor
from shoal.api.json_io import json_object, json_response
from shoal.api.paths import ORGANIZATION, PREFIX, PROJECT
from shoal.api.projects import url_project, visible_projects
from shoal.clock import iso_utc
from shoal.store import issues, projects, search, tokens, triage, users
from shoal.store.db import write_transaction
from shoal.store.issues import IssueRow
from shoal.store.projects import ProjectInfo
from shoal.store.search_syntax import Query, SearchError, ShortId, Status, TagMatch, parse_query
from shoal.store.tokens import TokenOwner
from shoal.store.url_projects import row_id

WRITE_ISSUES = frozenset({"event:write", "event:admin"})
DELETE_ISSUES = frozenset({"event:admin"})
DEFAULT_QUERY = "is:unresolved"
MAX_BULK = 1000  # Sentry's limit for one bulk mutation
MAX_SHORT_ID = 2**31 - 1  # issue.short_id is an Integer
# `?status=` of a bulk update, sentry-cli's words included (`issues unresolve -s muted`).
STATUS_FILTERS = {
    "resolved": "resolved",
    "unresolved": "unresolved",
    "ignored": "ignored",
    "muted": "ignored",
}
_SHORT_ID = re.compile(r"[A-Za-z0-9_.\-]+-\d{1,9}")


@dataclass(frozen=True)
class Place:
    """Where a list looks: its projects, by id."""

    projects: dict[int, ProjectInfo]


# ------------------------------------------------------------------------------------ endpoints


async def issue_list(request: Request) -> Response:
    if request.method == "PUT":
        body = await json_object(request)
        return await run_in_threadpool(_bulk_update, request, body)
    if request.method == "DELETE":
        return await run_in_threadpool(_bulk_delete, request)
    return await run_in_threadpool(_list, request)


async def issue_detail(request: Request) -> Response:
    if request.method == "PUT":
        body = await json_object(request)
        return await run_in_threadpool(_update, request, body)
    if request.method == "DELETE":
        return await run_in_threadpool(_delete, request)
    return await run_in_threadpool(_get, request)


# ------------------------------------------------------------------------------------- the list


def _list(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    now = auth.clock_of(request).now()
    public_url = request.app.state.config.public_url
    with auth.engine_of(request).connect() as conn:
        place = _place(conn, owner, request, auth.READ_ISSUES)
        query, sort, period = _search(request), _sort(request), _stats_period(request)
        scope = search.Scope(list(place.projects), owner.user_id, now)
        hit = _direct_hit(conn, request, scope)
        if hit:
            facts = issue_facts(conn, hit, public_url=public_url, now=now, stats_period=period)
            return json_response([issue_json(hit[0], facts)], headers={"X-Sentry-Direct-Hit": "1"})
        total = search.count_issues(conn, query, scope)
        start, page = pagination.offset_page(cursor, per_page, total)
        rows = search.find_issues(conn, query, scope, sort=sort, limit=per_page, offset=start)
        facts = issue_facts(conn, rows, public_url=public_url, now=now, stats_period=period)
    headers = {"Link": pagination.link_header(request, page), "X-Hits": str(total)}
    return json_response([issue_json(row, facts) for row in rows], headers=headers)


def _place(conn: Connection, owner: TokenOwner, request: Request, scopes: frozenset[str]) -> Place:
    """The URL's project, or the organization's projects the token sees (narrowed by `?project=`);
    a 404 when out of reach, then the scope check (403)."""
    params = request.path_params
    if "project_slug" in params:
        project = url_project(conn, owner, request)
        auth.require_scope(owner, scopes)
        return Place({project.id: project})
    organization_id = tokens.reachable_organization(conn, owner, params["org_slug"])
    if organization_id is None:
        raise not_found()
    auth.require_scope(owner, scopes)
    visible = {p.id: p for p in visible_projects(conn, owner, organization_id)}
    wanted = request.query_params.getlist("project")
    if not wanted or "-1" in wanted:
        return Place(visible)
    chosen = [row_id(value) for value in wanted]
    if any(project_id is None for project_id in chosen):
        raise bad_request("Invalid project parameter. Values must be numbers.")
    if any(project_id not in visible for project_id in chosen):
        raise ApiError(403, {"detail": FORBIDDEN})
    return Place({project_id: visible[project_id] for project_id in chosen if project_id is not None})


def _search(request: Request, default: str = DEFAULT_QUERY) -> Query:
    """The `query` parameter (`default` when absent) and `environment`, as one search."""
    text = request.query_params.get("query")
    environments = tuple(e for e in request.query_params.getlist("environment") if e)
    if any("\x00" in value for value in (text or "", *environments)):
        # PostgreSQL refuses NUL in text: no search can match one.
        raise bad_request("Error parsing search query: Null characters are not allowed.")
    try:
        query = parse_query(default if text is None else text)
    except SearchError as exc:
        raise bad_request(f"Error parsing search query: {exc}") from exc
    if any(isinstance(f, ShortId) and any(n > MAX_SHORT_ID for _, n in f.ids) for f in query.filters):
        raise bad_request("Error parsing search query: no issue has a short id that large.")
    if environments:
        query = dataclasses.replace(query, filters=(*query.filters, TagMatch("environment", environments)))
    return query


def _sort(request: Request) -> str:
    sort = request.query_params.get("sort") or search.DEFAULT_SORT
    if sort not in search.SORTS:
        raise bad_request(f"Invalid sort. Valid choices are {', '.join(search.SORTS)}.")
    return sort


def _stats_period(request: Request) -> str:
    period = request.query_params.get("statsPeriod", "24h")
    if period and period not in LIST_PERIODS:
        raise bad_request("Invalid stats_period. Valid choices are '', '24h', and '14d'")
    return period


def _direct_hit(conn: Connection, request: Request, scope: search.Scope) -> list[IssueRow]:
    """With `shortIdLookup`, a query that is a short id (SHOP-12) finds that issue alone."""
    text = (request.query_params.get("query") or "").strip()
    if request.query_params.get("shortIdLookup") not in ("1", "true") or not _SHORT_ID.fullmatch(text):
        return []
    return search.find_issues(conn, parse_query(f"issue:{text}"), scope, sort="date", limit=1, offset=0)


# --------------------------------------------------------------------------------- bulk changes


def _bulk_update(request: Request, body: dict[str, Any]) -> Response:
    owner = auth.token_owner(request)
    now = auth.clock_of(request).now()
    with write_transaction(auth.engine_of(request)) as conn:
        place = _place(conn, owner, request, WRITE_ISSUES)
        changes = read_changes(body)
        if changes.status is None and not request.query_params.getlist("id"):
            raise bad_request("You must specify a list of IDs for this operation")
        chosen = _chosen(conn, request, owner, place, now)
        if not chosen:
            return Response(status_code=204)
        assigned = _apply_all(conn, owner, place, chosen, changes=changes, now=now)
    return json_response(result_json(changes, now, assigned))


def _bulk_delete(request: Request) -> Response:
    owner = auth.token_owner(request)
    now = auth.clock_of(request).now()
    with write_transaction(auth.engine_of(request)) as conn:
        place = _place(conn, owner, request, DELETE_ISSUES)
        if not request.query_params.getlist("id"):
            raise bad_request("Name the issues to delete with ?id= (repeated); Shoal never deletes a search.")
        issues.delete_issues(conn, [row.id for row in _chosen(conn, request, owner, place, now)])
    return Response(status_code=204)


def _chosen(
    conn: Connection, request: Request, owner: TokenOwner, place: Place, now: float
) -> list[IssueRow]:
    """The issues a bulk request names: `?id=` among the place's issues (others are out of scope
    and left alone, as Sentry leaves them), else those its search finds; narrowed by `?status=`."""
    status = _status_filter(request)
    raw_ids = request.query_params.getlist("id")
    if len(raw_ids) > MAX_BULK:
        raise bad_request(f"At most {MAX_BULK} issues can be changed at once.")
    if not raw_ids:
        query = _search(request, default="" if status else DEFAULT_QUERY)
        if status:
            query = dataclasses.replace(query, filters=(*query.filters, Status((status,))))
        scope = search.Scope(list(place.projects), owner.user_id, now)
        return search.find_issues(conn, query, scope, sort=search.DEFAULT_SORT, limit=MAX_BULK, offset=0)
    ids = [row_id(value) for value in raw_ids]
    if any(issue_id is None for issue_id in ids):
        raise bad_request("Invalid id parameter. Values must be issue ids (numbers).")
    found = [issues.get_issue(conn, issue_id) for issue_id in dict.fromkeys(ids) if issue_id is not None]
    return [
        row
        for row in found
        if row is not None and row.project_id in place.projects and (not status or row.status == status)
    ]


def _status_filter(request: Request) -> str | None:
    raw = request.query_params.get("status")
    if not raw:
        return None
    if raw not in STATUS_FILTERS:
        raise bad_request(f"Invalid status parameter. Valid choices are {', '.join(STATUS_FILTERS)}.")
    return STATUS_FILTERS[raw]


def _apply_all(
    conn: Connection, owner: TokenOwner, place: Place, chosen: list[IssueRow], *, changes: Changes, now: float
) -> dict[str, Any] | None:
    """Apply to each issue; the assignee as the answer shows it (None: nobody, or not asked)."""
    for row in chosen:
        _apply(conn, owner, row, place.projects[row.project_id], changes=changes, now=now)
    if not changes.assign or changes.assignee is None:
        return None
    updated = issues.get_issue(conn, chosen[0].id)
    assignee = updated.assignee_id if updated else None
    email = users.email_of(conn, assignee) if assignee is not None else None
    return user_actor(assignee, email) if assignee is not None and email else None


def _apply(
    conn: Connection, owner: TokenOwner, row: IssueRow, project: ProjectInfo, *, changes: Changes, now: float
) -> None:
    # An organization token acts for its organization, not as the person who made it: its
    # changes are logged as Shoal's, as the digest's are.
    user_id = owner.user_id if owner.organization_id is None else None
    try:
        apply_changes(conn, row, project, changes, user_id=user_id, now=now)
    except AssigneeProblem as problem:
        raise invalid({"assignedTo": str(problem)}) from problem


# ------------------------------------------------------------------------------------ one issue


def _get(request: Request) -> Response:
    owner = auth.token_owner(request)
    now = auth.clock_of(request).now()
    with auth.engine_of(request).connect() as conn:
        row = _issue(conn, owner, request, auth.READ_ISSUES)
        return json_response(_detail_json(conn, request, row, now))


def _update(request: Request, body: dict[str, Any]) -> Response:
    owner = auth.token_owner(request)
    now = auth.clock_of(request).now()
    with write_transaction(auth.engine_of(request)) as conn:
        row = _issue(conn, owner, request, WRITE_ISSUES)
        changes = read_changes(body)
        project = projects.get_project(conn, row.project_id)
        assert project is not None
        _apply(conn, owner, row, project, changes=changes, now=now)
        updated = issues.get_issue(conn, row.id)
        assert updated is not None
        return json_response({**_detail_json(conn, request, updated, now), **changes.flags})


def _delete(request: Request) -> Response:
    owner = auth.token_owner(request)
    with write_transaction(auth.engine_of(request)) as conn:
        row = _issue(conn, owner, request, DELETE_ISSUES)
        issues.delete_issues(conn, [row.id])
    return Response(status_code=202)


def _issue(conn: Connection, owner: TokenOwner, request: Request, scopes: frozenset[str]) -> IssueRow:
    row = auth.visible_issue(
        conn, owner, auth.path_id(request, "issue_id"), request.path_params.get("org_slug")
    )
    auth.require_scope(owner, scopes)
    return row


def _detail_json(conn: Connection, request: Request, row: IssueRow, now: float) -> dict[str, Any]:
    """The issue as its detail shows it: the list's fields, 24-hour and 30-day stats, its first and
    last release, and its activity, newest first."""
    facts = detail_facts(conn, row, public_url=request.app.state.config.public_url, now=now)
    activity = [
        {
            "id": str(entry.id),
            "type": entry.type,
            "data": entry.data,
            "user": {"name": entry.user_email, "email": entry.user_email} if entry.user_email else None,
            "dateCreated": iso_utc(entry.created_at),
        }
        for entry in triage.issue_activity(conn, row.id)
    ]
    return {
        **issue_json(row, facts),
        "firstRelease": _release(row.first_release),
        "lastRelease": _release(row.last_release),
        "activity": activity,
        "seenBy": [],
        "participants": [],
        "pluginActions": [],
        "pluginIssues": [],
        "pluginContexts": [],
        "userReportCount": 0,
    }


def _release(version: str | None) -> dict[str, Any] | None:
    return {"version": version, "shortVersion": version} if version else None


ROUTES = [
    Route(f"{PROJECT}/issues/", issue_list, methods=["GET", "PUT", "DELETE"]),
    Route(f"{ORGANIZATION}/issues/", issue_list, methods=["GET", "PUT", "DELETE"]),
    Route(ORGANIZATION + "/issues/{issue_id:int}/", issue_detail, methods=["GET", "PUT", "DELETE"]),
    Route(PREFIX + "issues/{issue_id:int}/", issue_detail, methods=["GET", "PUT", "DELETE"]),
]
