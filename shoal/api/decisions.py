"""An issue's alert decision log: for every rule evaluated on it, whether it fired and why.
`GET /api/0/issues/{issue_id}/alert-decisions/` and the same under
`/api/0/organizations/{org}/issues/{issue_id}/`. Shoal's own resource (Sentry has none), shaped like
Sentry's: string ids, camelCase, ISO times, newest first, Link pagination.

The cursor is a decision id (`id:0:0` for the page of older decisions, `id:0:1` for newer ones), so
pages stay put while the digest keeps logging new decisions.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth, pagination
from shoal.api.json_io import json_response
from shoal.api.pagination import Cursor, Page
from shoal.api.paths import ORGANIZATION, PREFIX
from shoal.clock import iso_utc
from shoal.store import alert_state
from shoal.store.alert_state import LoggedDecision
from shoal.store.schema import alert_decision


async def issue_decisions(request: Request) -> Response:
    return await run_in_threadpool(_list, request)


def _list(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    issue_id = auth.path_id(request, "issue_id")
    with auth.engine_of(request).connect() as conn:
        auth.visible_issue(conn, owner, issue_id, request.path_params.get("org_slug"))
        auth.require_scope(owner, auth.READ_ISSUES | auth.READ_RULES)
        rows, more = alert_state.decision_page(
            conn,
            alert_decision.c.issue_id == issue_id,
            limit=per_page,
            before=cursor.value if cursor is not None and not cursor.is_prev else None,
            after=cursor.value if cursor is not None and cursor.is_prev else None,
        )
    page = _neighbours(rows, more, cursor)
    return json_response(
        [_decision(row) for row in rows], headers={"Link": pagination.link_header(request, page)}
    )


def _neighbours(rows: list[LoggedDecision], more: bool, cursor: Cursor | None) -> Page:
    backwards = cursor is not None and cursor.is_prev
    # An empty page keeps the cursor it was asked with, so both directions still make sense.
    newest = rows[0].id if rows else (cursor.value if cursor else 0)
    oldest = rows[-1].id if rows else (cursor.value if cursor else 0)
    return Page(
        previous=Cursor(newest, 0, True),
        has_previous=more if backwards else cursor is not None,
        next=Cursor(oldest, 0, False),
        has_next=True if backwards else more,
    )


def _decision(row: LoggedDecision) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "rule": {"id": str(row.rule_id), "name": row.rule_name},
        "eventID": row.event_id,
        "fired": bool(row.fired),
        "reason": row.reason,
        "dateCreated": iso_utc(row.created_at),
    }


ROUTES = [
    Route(PREFIX + "issues/{issue_id:int}/alert-decisions/", issue_decisions),
    Route(ORGANIZATION + "/issues/{issue_id:int}/alert-decisions/", issue_decisions),
]
