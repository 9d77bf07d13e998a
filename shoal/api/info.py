"""`GET /api/0/`: who the token is, as `sentry-cli info` asks (reference/protocol.md §7).

Sentry answers `{"version": "0", "user": …, "auth": {"scopes": […]}}`, with `user` and `auth` null
(and status 200) when no token is sent, and `user` null for an organization token, which acts for
the organization rather than a person. A token that is sent but unknown or revoked is a 401.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth
from shoal.api.json_io import json_response
from shoal.api.paths import PREFIX
from shoal.store import users


async def index(request: Request) -> Response:
    return await run_in_threadpool(_index, request)


def _index(request: Request) -> Response:
    if auth.bearer_token(request) is None:
        return json_response({"version": "0", "user": None, "auth": None})
    owner = auth.token_owner(request)
    user: dict[str, Any] | None = None
    if owner.organization_id is None:
        with auth.engine_of(request).connect() as conn:
            email = users.email_of(conn, owner.user_id)
        user = {"id": str(owner.user_id), "email": email, "username": email, "name": email}
    return json_response({"version": "0", "user": user, "auth": {"scopes": sorted(owner.scopes)}})


ROUTES = [Route(PREFIX, index)]
