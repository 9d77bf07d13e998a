"""A project's client keys, as Sentry's API serves them: `GET /api/0/projects/{org}/{project}/keys/`,
oldest first, each with its DSN. Reads need a scope among READ_KEYS (Sentry's project scopes).

Sentry names a key by its public part (`id` and `public` are the same string). Shoal's keys have no
secret part (protocol.md §1: SDKs never need one), so `dsn.secret` is the public DSN, which every
SDK accepts.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth, pagination
from shoal.api.json_io import json_response
from shoal.api.paths import PROJECT
from shoal.api.projects import url_project
from shoal.clock import iso_utc
from shoal.store import projects
from shoal.store.projects import ProjectKey

READ_KEYS = frozenset({"project:read", "project:write", "project:admin"})


async def key_list(request: Request) -> Response:
    return await run_in_threadpool(_list, request)


def _list(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    with auth.engine_of(request).connect() as conn:
        project = url_project(conn, owner, request)
        auth.require_scope(owner, READ_KEYS)
        found = projects.list_keys(conn, project.id)
    start, page = pagination.offset_page(cursor, per_page, len(found))
    public_url = request.app.state.config.public_url
    body = [key_json(public_url, key) for key in found[start : start + per_page]]
    return json_response(body, headers={"Link": pagination.link_header(request, page)})


def key_json(public_url: str, key: ProjectKey) -> dict[str, Any]:
    dsn = projects.dsn(public_url, key.public_key, key.project_id)
    limit = key.rate_limit
    return {
        "id": key.public_key,
        "name": key.label,
        "label": key.label,
        "public": key.public_key,
        "secret": None,
        "projectId": key.project_id,
        "isActive": key.enabled,
        "rateLimit": {"count": limit.count, "window": limit.window} if limit else None,
        "dsn": {"public": dsn, "secret": dsn},
        "dateCreated": iso_utc(key.created_at),
    }


ROUTES = [Route(f"{PROJECT}/keys/", key_list)]
