"""Deploys of a release: `GET|POST /api/0/organizations/{org}/releases/{version}/deploys/`, as
`sentry-cli deploys new -e ENV` (and its hidden alias `releases deploys VERSION new`) posts them.

The body is Sentry's: `environment` (required), `name`, `url`, `dateStarted`, `dateFinished` (now
when left out), `projects` (optional; each must be one of the release's). Creating answers 201 with
the deploy; the list is newest first, with Link pagination. Scopes as for releases.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth, pagination
from shoal.api.errors import invalid
from shoal.api.json_io import json_object, json_response
from shoal.api.paths import ORGANIZATION
from shoal.api.release_bodies import BAD_PROJECTS, DeployBody, deploy_body
from shoal.api.release_json import deploy_json
from shoal.api.releases import READ_RELEASES, WRITE_RELEASES, release_target
from shoal.store import releases as release_store
from shoal.store.db import write_transaction
from shoal.store.releases import ReleaseProject


async def deploy_list(request: Request) -> Response:
    if request.method == "GET":
        return await run_in_threadpool(_list, request)
    body = await json_object(request)
    return await run_in_threadpool(_create, request, body)


def _list(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    with auth.engine_of(request).connect() as conn:
        _, found, _ = release_target(conn, owner, request, READ_RELEASES)
        start = cursor.offset if cursor else 0
        deploys, total = release_store.deploy_page(conn, found.id, offset=start, limit=per_page)
    _, links = pagination.offset_page(cursor, per_page, total)
    return json_response(
        [deploy_json(d) for d in deploys], headers={"Link": pagination.link_header(request, links)}
    )


def _create(request: Request, body: dict[str, Any]) -> Response:
    owner = auth.token_owner(request)
    now = auth.clock_of(request).now()
    with write_transaction(auth.engine_of(request)) as conn:
        _, found, _ = release_target(conn, owner, request, WRITE_RELEASES)
        checked = deploy_body(body)
        _check_projects(checked, release_store.release_projects(conn, [found.id])[found.id])
        made = release_store.create_deploy(
            conn,
            found.id,
            environment=checked.environment,
            name=checked.name,
            url=checked.url,
            date_started=checked.date_started,
            date_finished=checked.date_finished if checked.date_finished is not None else now,
        )
    return json_response(deploy_json(made), 201)


def _check_projects(checked: DeployBody, linked: list[ReleaseProject]) -> None:
    """The body's projects, if any, must be the release's (Sentry: "Invalid projects")."""
    known = {p.slug for p in linked} | {p.project_id for p in linked} | {str(p.project_id) for p in linked}
    if checked.projects is not None and not set(checked.projects) <= known:
        raise invalid({"projects": BAD_PROJECTS})


ROUTES = [Route(f"{ORGANIZATION}/releases/{{version}}/deploys/", deploy_list, methods=["GET", "POST"])]
