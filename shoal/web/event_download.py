"""An event's raw JSON, as stored after normalization and scrubbing, as a file to download.

It is served as `application/json` with `Content-Disposition: attachment` and `nosniff`, never as
HTML: the payload is whatever an SDK sent, so a browser must not be given a chance to render it.
"""

from __future__ import annotations

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.store import events
from shoal.web.auth import current_viewer, engine_of
from shoal.web.pages import payload_codec, visible_issue


def event_json(request: Request) -> Response:
    viewer = current_viewer(request)
    issue_id = int(request.path_params["issue_id"])
    event_id = str(request.path_params["event_id"])
    with engine_of(request).connect() as conn:
        visible_issue(conn, viewer, issue_id)
        event = events.get_event(conn, payload_codec(), issue_id, event_id)
    if event is None:
        raise HTTPException(404, "No such event in this issue.")
    body = orjson.dumps(event.data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    # The event id was matched against a stored one, so it is 32 hex digits: safe in a header.
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="event-{event.event_id}.json"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


ROUTES: list[Route] = [Route("/issues/{issue_id:int}/events/{event_id:str}/json", event_json)]
