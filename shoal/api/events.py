"""Events, as Sentry's API serves them (protocol.md §8):

- an issue's: `GET /api/0/organizations/{org}/issues/{id}/events/` (and the older
  `/api/0/issues/{id}/events/`), newest first, the short form unless `full=true`; and one of them,
  `…/events/{event_id}/`, or `latest`, `oldest`, `recommended` (Shoal recommends the latest);
- a project's: `GET /api/0/projects/{org}/{project}/events/`, newest received first, and
  `…/events/{event_id}/`;
- `GET /api/0/organizations/{org}/eventids/{event_id}/`: which project and issue of the
  organization an event id belongs to, with the event.

An event's detail names the issue's events before and after it (`previousEventID`,
`nextEventID`). Reads need a scope among READ_ISSUES. Lists are keyset pages (the cursor names the
event a page ended at), so they stay put while events arrive.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth, pagination
from shoal.api.errors import not_found
from shoal.api.event_json import event_json, simple_event_json
from shoal.api.json_io import json_response
from shoal.api.pagination import Cursor, Page
from shoal.api.paths import ORGANIZATION, PREFIX, PROJECT
from shoal.api.projects import url_project, visible_projects
from shoal.store import event_lists, events, tokens
from shoal.store.event_lists import EventPage, EventRow
from shoal.store.events import PayloadCodec, StoredEvent

_EVENT_ID = re.compile(r"[0-9a-f]{32}")
_codecs = threading.local()


def _codec() -> PayloadCodec:
    """This thread's codec: zstd contexts are not thread-safe, so each pool thread keeps its own."""
    codec: PayloadCodec | None = getattr(_codecs, "codec", None)
    if codec is None:
        codec = _codecs.codec = PayloadCodec()
    return codec


async def issue_events(request: Request) -> Response:
    return await run_in_threadpool(_issue_list, request)


async def issue_event(request: Request) -> Response:
    return await run_in_threadpool(_issue_event, request)


async def project_events(request: Request) -> Response:
    return await run_in_threadpool(_project_list, request)


async def project_event(request: Request) -> Response:
    return await run_in_threadpool(_project_event, request)


async def event_lookup(request: Request) -> Response:
    return await run_in_threadpool(_lookup, request)


# ---------------------------------------------------------------------------------- an issue's


def _issue_list(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    with auth.engine_of(request).connect() as conn:
        issue = auth.visible_issue(conn, owner, auth.path_id(request, "issue_id"), _org(request))
        auth.require_scope(owner, auth.READ_ISSUES)
        older, newer = _boundaries(cursor)
        page = event_lists.issue_events(
            conn, _codec(), issue.id, limit=per_page, older_than=older, newer_than=newer
        )
    return _list_response(request, page, cursor)


def _issue_event(request: Request) -> Response:
    owner = auth.token_owner(request)
    wanted = str(request.path_params["event_id"]).lower()
    with auth.engine_of(request).connect() as conn:
        issue = auth.visible_issue(conn, owner, auth.path_id(request, "issue_id"), _org(request))
        auth.require_scope(owner, auth.READ_ISSUES)
        if wanted in ("latest", "recommended", "oldest"):
            found = event_lists.edge_event(conn, _codec(), issue.id, latest=wanted != "oldest")
        else:
            found = event_lists.event_in(conn, _codec(), [issue.project_id], _event_id(wanted))
        if found is None or found.issue_id != issue.id:
            raise not_found()
        return json_response(_detail(conn, found))


# ---------------------------------------------------------------------------------- a project's


def _project_list(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    with auth.engine_of(request).connect() as conn:
        project = url_project(conn, owner, request)
        auth.require_scope(owner, auth.READ_ISSUES)
        older, newer = _boundaries(cursor)
        page = event_lists.project_events(
            conn, _codec(), project.id, limit=per_page, older_than=older, newer_than=newer
        )
    return _list_response(request, page, cursor)


def _project_event(request: Request) -> Response:
    owner = auth.token_owner(request)
    with auth.engine_of(request).connect() as conn:
        project = url_project(conn, owner, request)
        auth.require_scope(owner, auth.READ_ISSUES)
        found = event_lists.event_in(
            conn, _codec(), [project.id], _event_id(str(request.path_params["event_id"]))
        )
        if found is None:
            raise not_found()
        return json_response(_detail(conn, found))


def _lookup(request: Request) -> Response:
    owner = auth.token_owner(request)
    with auth.engine_of(request).connect() as conn:
        organization_id = tokens.reachable_organization(conn, owner, request.path_params["org_slug"])
        if organization_id is None:
            raise not_found()
        auth.require_scope(owner, auth.READ_ISSUES)
        visible = {p.id: p for p in visible_projects(conn, owner, organization_id)}
        wanted = _event_id(str(request.path_params["event_id"]))
        found = event_lists.event_in(conn, _codec(), list(visible), wanted)
        if found is None:
            raise not_found()
        organization = [o for o in tokens.reachable_organizations(conn, owner) if o.id == organization_id]
        return json_response(
            {
                "organizationSlug": organization[0].slug,
                "projectSlug": visible[found.project_id].slug,
                "groupId": str(found.issue_id),
                "eventId": found.event_id,
                "event": _detail(conn, found),
            }
        )


# ------------------------------------------------------------------------------------ shared


def _org(request: Request) -> str | None:
    org: str | None = request.path_params.get("org_slug")
    return org


def _event_id(text: str) -> str:
    """An event id as stored (32 lower-case hex digits; a UUID's dashes dropped), or a 404."""
    normalized = text.lower().replace("-", "")
    if not _EVENT_ID.fullmatch(normalized):
        raise not_found()
    return normalized


def _detail(conn: Connection, found: EventRow) -> dict[str, Any]:
    current = StoredEvent(found.id, found.event_id, found.issue_id, found.timestamp, found.received, {})
    around = events.event_neighbours(conn, found.issue_id, current)
    return event_json(found, previous=around.older, following=around.newer)


def _boundaries(cursor: Cursor | None) -> tuple[int | None, int | None]:
    """(older than, newer than) the event the cursor names."""
    if cursor is None:
        return None, None
    return (None, cursor.value) if cursor.is_prev else (cursor.value, None)


def _list_response(request: Request, page: EventPage, cursor: Cursor | None) -> Response:
    full = request.query_params.get("full") in ("1", "true")
    body = [event_json(row) if full else simple_event_json(row) for row in page.rows]
    return json_response(body, headers={"Link": pagination.link_header(request, _neighbours(page, cursor))})


def _neighbours(page: EventPage, cursor: Cursor | None) -> Page:
    backwards = cursor is not None and cursor.is_prev
    # An empty page keeps the cursor it was asked with, so both directions still make sense.
    newest = page.rows[0].id if page.rows else (cursor.value if cursor else 0)
    oldest = page.rows[-1].id if page.rows else (cursor.value if cursor else 0)
    return Page(
        previous=Cursor(newest, 0, True),
        has_previous=page.more if backwards else cursor is not None,
        next=Cursor(oldest, 0, False),
        has_next=True if backwards else page.more,
    )


ROUTES = [
    Route(ORGANIZATION + "/issues/{issue_id:int}/events/", issue_events),
    Route(PREFIX + "issues/{issue_id:int}/events/", issue_events),
    Route(ORGANIZATION + "/issues/{issue_id:int}/events/{event_id:str}/", issue_event),
    Route(PREFIX + "issues/{issue_id:int}/events/{event_id:str}/", issue_event),
    Route(f"{PROJECT}/events/", project_events),
    Route(PROJECT + "/events/{event_id:str}/", project_event),
    Route(ORGANIZATION + "/eventids/{event_id:str}/", event_lookup),
]
