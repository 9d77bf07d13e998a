"""An event's attachment, as a file to download.

The bytes are whatever an SDK sent, and its content type is only what the SDK claimed: served
inline, an HTML "log file" would run as a page of Shoal's origin. So every attachment goes out as
`application/octet-stream` with `Content-Disposition: attachment`, `nosniff` (no guessing it is
HTML after all) and a sandboxing CSP, whatever type it was stored with.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.store import attachments
from shoal.web.auth import current_viewer, engine_of
from shoal.web.pages import visible_issue


def attachment_file(request: Request) -> Response:
    viewer = current_viewer(request)
    issue_id = int(request.path_params["issue_id"])
    event_id = str(request.path_params["event_id"])
    with engine_of(request).connect() as conn:
        visible_issue(conn, viewer, issue_id)
        found = attachments.attachment_file(conn, int(request.path_params["attachment_id"]))
    if found is None or found.issue_id != issue_id or found.event_id != event_id:
        raise HTTPException(404, "No such attachment on this event.")
    return Response(
        found.data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(found.info.name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, no-store",
        },
    )


def content_disposition(filename: str) -> str:
    """`attachment` with the SDK's file name: an ASCII fallback without quotes, backslashes or
    control characters (header injection), and the exact name UTF-8 encoded (RFC 6266, RFC 5987)."""
    fallback = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in filename) or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


ROUTES: list[Route] = [
    Route(
        "/issues/{issue_id:int}/events/{event_id:str}/attachments/{attachment_id:int}/",
        attachment_file,
    )
]
