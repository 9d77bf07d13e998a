"""Organizations, as Sentry's API serves them: `GET /api/0/organizations/` (those the token reaches:
its own for an organization token; the user's, or every one for a superuser, for a personal one) and
`GET /api/0/organizations/{org}/`. Reads need a scope among READ_ORGS.

The fields are the ones sentry-cli's `Organization` requires (`id`, `slug`, `name`, `dateCreated`,
`isEarlyAdopter`, `require2FA`, `requireEmailVerification`, `features`) and the `links` it reads
the region from: Shoal has one region, its own URL.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth, pagination
from shoal.api.errors import not_found
from shoal.api.json_io import json_response
from shoal.api.paths import ORGANIZATION, PREFIX
from shoal.clock import iso_utc
from shoal.store import tokens
from shoal.store.tokens import OrganizationInfo

READ_ORGS = frozenset({"org:read", "org:write", "org:admin"})


async def organization_list(request: Request) -> Response:
    return await run_in_threadpool(_list, request)


async def organization_detail(request: Request) -> Response:
    return await run_in_threadpool(_detail, request)


def _list(request: Request) -> Response:
    owner = auth.token_owner(request)
    auth.require_scope(owner, READ_ORGS)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    with auth.engine_of(request).connect() as conn:
        found = tokens.reachable_organizations(conn, owner)
    start, page = pagination.offset_page(cursor, per_page, len(found))
    body = [organization_json(request, org) for org in found[start : start + per_page]]
    return json_response(body, headers={"Link": pagination.link_header(request, page)})


def _detail(request: Request) -> Response:
    owner = auth.token_owner(request)
    with auth.engine_of(request).connect() as conn:
        organization_id = tokens.reachable_organization(conn, owner, request.path_params["org_slug"])
        found = [org for org in tokens.reachable_organizations(conn, owner) if org.id == organization_id]
    if not found:
        raise not_found()
    auth.require_scope(owner, READ_ORGS)
    return json_response(organization_json(request, found[0]))


def organization_json(request: Request, org: OrganizationInfo) -> dict[str, Any]:
    public_url = request.app.state.config.public_url
    return {
        "id": str(org.id),
        "slug": org.slug,
        "name": org.name,
        "dateCreated": iso_utc(org.created_at),
        "status": {"id": "active", "name": "active"},
        "isEarlyAdopter": False,
        "require2FA": False,
        "requireEmailVerification": False,
        "avatar": {"avatarType": "letter_avatar", "avatarUuid": None, "avatarUrl": None},
        "features": [],
        "links": {"organizationUrl": public_url, "regionUrl": public_url},
        "hasAuthProvider": False,
    }


ROUTES = [
    Route(PREFIX + "organizations/", organization_list),
    Route(ORGANIZATION + "/", organization_detail),
]
