"""The UI's form posts: the form is read on the event loop, then the session, its CSRF token and the
work run in Starlette's thread pool like the pages' reads, so a write never stalls the event loop
that ingest shares.

A post whose CSRF token is missing or not the session's is refused with 400 before anything else
runs: the token is what tells a form Shoal served from a form another site made the browser send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shoal.web.auth import LoginRequired, Viewer, check_csrf, current_viewer

FormHandler = Callable[[Request, Viewer, FormData], Response]

STALE_FORM = "This form has expired or did not come from Shoal. Go back, reload the page and try again."


def form_post(handler: FormHandler) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that reads the posted form and hands it, checked, to `handler` in the pool."""

    async def endpoint(request: Request) -> Response:
        form = await request.form()
        try:
            return await run_in_threadpool(_checked, handler, request, form)
        except LoginRequired:
            return _log_in_again(request)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def _checked(handler: FormHandler, request: Request, form: FormData) -> Response:
    viewer = current_viewer(request)
    if not check_csrf(viewer.csrf_token, form.get("csrf_token")):
        raise HTTPException(400, STALE_FORM)
    return handler(request, viewer, form)


def _log_in_again(request: Request) -> Response:
    """The session ended while the form was open. Logging in must lead back to the page the form
    was on: the form's own URL only answers POST."""
    referer = urlsplit(request.headers.get("referer", ""))
    same_site = referer.netloc == request.url.netloc and referer.path.startswith("/")
    back = referer.path + (f"?{referer.query}" if referer.query else "") if same_site else "/"
    return RedirectResponse(f"/login?next={quote(back, safe='/')}", status_code=303)


def field(form: FormData, name: str) -> str:
    """A text field, stripped; "" when absent or a file."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def ids(form: FormData, name: str) -> list[int]:
    """The whole numbers posted under `name` (checkboxes), in order, without repeats."""
    found = [int(v) for v in form.getlist(name) if isinstance(v, str) and v.strip().isdigit()]
    return list(dict.fromkeys(found))


def see_other(url: str) -> Response:
    """Post/redirect/get: the browser loads the result with a GET, so reloading never re-posts."""
    return RedirectResponse(url, status_code=303)
