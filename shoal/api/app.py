"""The `/api/0/` application: its routes, and errors answered as JSON in Sentry's shape.

shoal/app.py hands it every request whose path starts with `/api/0/` (after the ingest routes had
their look). Endpoints do their database work in Starlette's thread pool, so the event loop that
ingest shares never waits on the store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import (
    decisions,
    deploys,
    events,
    info,
    issues,
    keys,
    monitors,
    openapi,
    organizations,
    projects,
    releases,
    repos,
    rules,
    stats,
    uploads,
    user_feedback,
)
from shoal.api.errors import NOT_FOUND, ApiError
from shoal.api.json_io import json_response
from shoal.api.user_feedback import SpoolAppend
from shoal.clock import SYSTEM_CLOCK, Clock
from shoal.config import Config


def create_api_app(
    config: Config, engine: Engine, clock: Clock = SYSTEM_CLOCK, *, spool_append: SpoolAppend
) -> Starlette:
    """`spool_append` makes an envelope durable (ingest's group committer): the user feedback
    endpoint hands its reports to the digest through the spool (shoal/api/user_feedback.py)."""
    # Each resource module lists its own routes, under PREFIX (shoal/api/paths.py).
    routes: list[Route] = [
        *rules.ROUTES,
        *decisions.ROUTES,
        *info.ROUTES,
        *releases.ROUTES,
        *deploys.ROUTES,
        *repos.ROUTES,
        *uploads.ROUTES,
        *organizations.ROUTES,
        *projects.ROUTES,
        *keys.ROUTES,
        *issues.ROUTES,
        *events.ROUTES,
        *stats.ROUTES,
        *openapi.ROUTES,
        *user_feedback.ROUTES,
        *monitors.ROUTES,
    ]
    app = Starlette(routes=routes, exception_handlers=_exception_handlers())
    app.state.config = config
    app.state.engine = engine
    app.state.clock = clock
    app.state.spool_append = spool_append
    return app


def _exception_handlers() -> dict[Any, Callable[[Request, Exception], Response]]:
    def api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return json_response(exc.body, exc.status)

    def http_error(request: Request, exc: Exception) -> Response:
        # Routing's own refusals (no such path, a method the path has not) in the same shape.
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return json_response({"detail": NOT_FOUND}, 404)
        if exc.status_code == 405:
            return json_response({"detail": f'Method "{request.method}" not allowed.'}, 405, exc.headers)
        return json_response({"detail": exc.detail}, exc.status_code, exc.headers)

    def server_error(_request: Request, _exc: Exception) -> Response:
        # Starlette logs the exception after this answer; the client never sees a traceback.
        return json_response({"detail": "Internal Error"}, 500)

    return {ApiError: api_error, HTTPException: http_error, Exception: server_error}
