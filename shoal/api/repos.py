"""An organization's repositories: `GET|POST /api/0/organizations/{org}/repos/`.

The list holds only repositories someone registered with a provider. That is deliberate: what
sentry-cli finds here decides what `set-commits` sends (reference/protocol.md §7). With an empty
list, `--auto` falls back to reading the local git history and sends every commit with its author
and changed files, which is what suspect commits need. A listed repository whose URL matches the
checkout's remote makes `--auto` send only a head SHA instead. So the repositories Shoal makes by
itself from `--local` commits (named after the remote, `origin`) have no provider and are not
listed, and registering one is only needed for `set-commits --commit REPO@SHA..SHA`.

POST takes `{"name", "url"?, "provider"?}` and answers 201. `provider` defaults to `git`; for the
git providers sentry-cli knows, `url` is required, because sentry-cli gives up on `--auto` when a
listed git repository has no URL. Scopes as Sentry's (OrganizationIntegrationsLoosePermission).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth, pagination
from shoal.api.errors import ApiError
from shoal.api.json_io import json_object, json_response
from shoal.api.paths import ORGANIZATION
from shoal.api.release_bodies import MAX_REPOSITORY, Problems, repository_fields
from shoal.api.release_json import PROVIDER_NAMES, repository_json
from shoal.api.releases import reach
from shoal.store import commits as commit_store
from shoal.store.commits import RepositoryExists
from shoal.store.db import write_transaction

READ_REPOS = frozenset({"org:read", "org:write", "org:admin", "org:integrations", "org:ci"})
WRITE_REPOS = frozenset({"org:write", "org:admin", "org:integrations"})


async def repository_list(request: Request) -> Response:
    if request.method == "GET":
        return await run_in_threadpool(_list, request)
    body = await json_object(request)
    return await run_in_threadpool(_register, request, body)


def _list(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    with auth.engine_of(request).connect() as conn:
        where = reach(conn, owner, request.path_params["org_slug"])
        auth.require_scope(owner, READ_REPOS)
        listed = commit_store.registered_repositories(conn, where.organization_id)
    start, page = pagination.offset_page(cursor, per_page, len(listed))
    body = [repository_json(r) for r in listed[start : start + per_page]]
    return json_response(body, headers={"Link": pagination.link_header(request, page)})


def _register(request: Request, body: dict[str, Any]) -> Response:
    owner = auth.token_owner(request)
    now = auth.clock_of(request).now()
    with write_transaction(auth.engine_of(request)) as conn:
        where = reach(conn, owner, request.path_params["org_slug"])
        auth.require_scope(owner, WRITE_REPOS)
        name, provider, url = _checked(body)
        try:
            made = commit_store.register_repository(
                conn, where.organization_id, name, provider=provider, url=url, now=now
            )
        except RepositoryExists as exc:
            raise ApiError(400, {"detail": "A repository with that name already exists"}) from exc
    return json_response(repository_json(made), 201)


def _checked(body: dict[str, Any]) -> tuple[str, str, str | None]:
    problems = Problems()
    name, provider, url = repository_fields(body, problems)
    if provider in PROVIDER_NAMES and url is None and "url" not in problems:
        problems.add("url", f"A {provider} repository needs its URL: sentry-cli matches it to your checkout.")
    problems.raise_any()
    assert name is not None and len(name) <= MAX_REPOSITORY
    return name, provider, url


ROUTES = [Route(f"{ORGANIZATION}/repos/", repository_list, methods=["GET", "POST"])]
